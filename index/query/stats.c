/* stats.c: corpus statistics as a value (include/lede/query.h): the N,
 * summed field lengths, per-key df and prefix coverage that planning a
 * query looks up, gathered from one index, summed over several (shards that
 * partition a corpus), and handed to lede_search in place of the index's
 * own, so every shard scores exactly as one index of all their documents
 * would. Entries are kept as sorted arrays: a query needs a handful of keys,
 * and sorted arrays merge in one pass. Calls base/ and plan.c. */
#include <stdlib.h>
#include <string.h>

#include "query/query_int.h"

static int key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c ? c : (alen < blen ? -1 : alen > blen);
}

static char *dup_key(const char *key, size_t len)
{
    char *k = malloc(len + 1);
    if (k) {
        memcpy(k, key, len);
        k[len] = '\0';
    }
    return k;
}

void lede_stats_record_term(lede_corpus_stats *s, const char *key, size_t len, uint64_t df,
                            uint64_t df_body)
{
    if (s->rc)
        return;
    char *k = dup_key(key, len);
    if (!k || lede_grow((void **)&s->terms, &s->terms_cap, (size_t)s->nterms + 1, sizeof *s->terms,
                        16)) {
        free(k);
        s->rc = LEDE_ENOMEM;
        return;
    }
    s->terms[s->nterms++] = (lede_stat_term){k, len, df, df_body};
}

static void prefix_clear(lede_stat_prefix *p)
{
    for (uint32_t i = 0; i < p->nkeys; i++)
        free(p->keys[i]);
    free(p->keys);
    free(p->lens);
    free(p->key);
}

void lede_stats_record_prefix(lede_corpus_stats *s, const char *key, size_t len,
                              char *const *keys, const size_t *lens, uint32_t n)
{
    if (s->rc)
        return;
    if (lede_grow((void **)&s->prefixes, &s->prefixes_cap, (size_t)s->nprefixes + 1,
                  sizeof *s->prefixes, 4)) {
        s->rc = LEDE_ENOMEM;
        return;
    }
    lede_stat_prefix *p = &s->prefixes[s->nprefixes];
    memset(p, 0, sizeof *p);
    p->key = dup_key(key, len);
    p->len = len;
    p->keys = calloc(n ? n : 1, sizeof *p->keys);
    p->lens = calloc(n ? n : 1, sizeof *p->lens);
    if (!p->key || !p->keys || !p->lens) {
        prefix_clear(p);
        s->rc = LEDE_ENOMEM;
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (!(p->keys[i] = dup_key(keys[i], lens[i]))) {
            prefix_clear(p);
            s->rc = LEDE_ENOMEM;
            return;
        }
        p->lens[i] = lens[i];
        p->nkeys = i + 1;
    }
    s->nprefixes++;
}

static int term_order(const void *x, const void *y)
{
    const lede_stat_term *a = x, *b = y;
    return key_cmp(a->key, a->len, b->key, b->len);
}

static int prefix_order(const void *x, const void *y)
{
    const lede_stat_prefix *a = x, *b = y;
    return key_cmp(a->key, a->len, b->key, b->len);
}

typedef struct key_ref {
    char *key;
    size_t len;
} key_ref;

static int ref_order(const void *x, const void *y)
{
    const key_ref *a = x, *b = y;
    return key_cmp(a->key, a->len, b->key, b->len);
}

/* Sorts a prefix's keys and drops repeats (the union of two shards' lists
 * arrives concatenated). */
static void prefix_normalize(lede_stat_prefix *p, int *rc)
{
    key_ref *refs = malloc((p->nkeys ? p->nkeys : 1) * sizeof *refs);
    if (!refs) {
        *rc = LEDE_ENOMEM;
        return;
    }
    for (uint32_t i = 0; i < p->nkeys; i++)
        refs[i] = (key_ref){p->keys[i], p->lens[i]};
    qsort(refs, p->nkeys, sizeof *refs, ref_order);
    uint32_t m = 0;
    for (uint32_t i = 0; i < p->nkeys; i++) {
        if (m && ref_order(&refs[m - 1], &refs[i]) == 0) {
            free(refs[i].key);
            continue;
        }
        refs[m++] = refs[i];
    }
    for (uint32_t i = 0; i < m; i++) {
        p->keys[i] = refs[i].key;
        p->lens[i] = refs[i].len;
    }
    p->nkeys = m;
    free(refs);
}

int lede_stats_finish(lede_corpus_stats *s)
{
    if (s->rc)
        return s->rc;
    /* qsort and bsearch take no NULL base, even for no elements. */
    if (s->nterms)
        qsort(s->terms, s->nterms, sizeof *s->terms, term_order);
    uint32_t m = 0;
    for (uint32_t i = 0; i < s->nterms; i++) {
        if (m && term_order(&s->terms[m - 1], &s->terms[i]) == 0) {
            free(s->terms[i].key);   /* the same key looked up twice: one count */
            continue;
        }
        s->terms[m++] = s->terms[i];
    }
    s->nterms = m;
    if (s->nprefixes)
        qsort(s->prefixes, s->nprefixes, sizeof *s->prefixes, prefix_order);
    m = 0;
    for (uint32_t i = 0; i < s->nprefixes; i++) {
        if (m && prefix_order(&s->prefixes[m - 1], &s->prefixes[i]) == 0) {
            prefix_clear(&s->prefixes[i]);
            continue;
        }
        s->prefixes[m++] = s->prefixes[i];
    }
    s->nprefixes = m;
    for (uint32_t i = 0; i < s->nprefixes && !s->rc; i++)
        prefix_normalize(&s->prefixes[i], &s->rc);
    return s->rc;
}

const lede_stat_term *lede_stats_find_term(const lede_corpus_stats *s, const char *key, size_t len)
{
    lede_stat_term probe = {(char *)key, len, 0, 0};
    if (!s->nterms)
        return NULL;
    return bsearch(&probe, s->terms, s->nterms, sizeof *s->terms, term_order);
}

const lede_stat_prefix *lede_stats_find_prefix(const lede_corpus_stats *s, const char *key,
                                               size_t len)
{
    lede_stat_prefix probe = {(char *)key, len, NULL, NULL, 0};
    if (!s->nprefixes)
        return NULL;
    return bsearch(&probe, s->prefixes, s->nprefixes, sizeof *s->prefixes, prefix_order);
}

/* ------------------------------------------------------------ public */

void lede_corpus_stats_free(lede_corpus_stats *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < s->nterms; i++)
        free(s->terms[i].key);
    free(s->terms);
    for (uint32_t i = 0; i < s->nprefixes; i++)
        prefix_clear(&s->prefixes[i]);
    free(s->prefixes);
    free(s);
}

int lede_corpus_stats_gather(lede_index *ix, const lede_search_opts *opts,
                             lede_corpus_stats **out, lede_err *err)
{
    *out = NULL;
    if (!ix || !opts)
        return lede_err_set(err, LEDE_EINVAL, "lede_corpus_stats_gather: no index or options");
    lede_corpus_stats *s = calloc(1, sizeof *s);
    lede_arena *a = lede_arena_new(16 * 1024);
    if (!s || !a) {
        free(s);
        lede_arena_free(a);
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    }
    s->N = ix->N_stats;
    s->sum_doc = ix->sum_doc;
    s->sum_title = ix->sum_title;
    lede_search_opts local = *opts;
    local.stats = NULL;
    lede_plan pl;
    int rc = lede_plan_build(&pl, ix, a, &local, s, 1, err);
    lede_arena_free(a);
    if (!rc && (rc = lede_stats_finish(s)))
        lede_err_set(err, rc, "out of memory");
    if (rc) {
        lede_corpus_stats_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int lede_corpus_stats_merge(lede_corpus_stats *into, const lede_corpus_stats *from, lede_err *err)
{
    if (!into || !from)
        return lede_err_set(err, LEDE_EINVAL, "lede_corpus_stats_merge: missing statistics");
    /* Sum, not fold: the same key in both is two shards' counts. */
    const lede_corpus_stats *mine = into;
    lede_corpus_stats sums = {0};
    uint32_t i = 0, j = 0;
    while (!sums.rc && (i < mine->nterms || j < from->nterms)) {
        const lede_stat_term *x = i < mine->nterms ? &mine->terms[i] : NULL;
        const lede_stat_term *y = j < from->nterms ? &from->terms[j] : NULL;
        int c = !x ? 1 : !y ? -1 : key_cmp(x->key, x->len, y->key, y->len);
        if (c < 0)
            lede_stats_record_term(&sums, x->key, x->len, x->df, x->df_body);
        else if (c > 0)
            lede_stats_record_term(&sums, y->key, y->len, y->df, y->df_body);
        else
            lede_stats_record_term(&sums, x->key, x->len, x->df + y->df, x->df_body + y->df_body);
        i += c <= 0;
        j += c >= 0;
    }
    int rc = sums.rc;
    /* Prefixes: the union of the keys each covers. Only into's own (sorted)
     * prefixes are searched; from's new ones are appended after them. */
    uint32_t own = into->nprefixes;
    for (uint32_t k = 0; !rc && k < from->nprefixes; k++) {
        const lede_stat_prefix *fp = &from->prefixes[k];
        lede_stat_prefix probe = {fp->key, fp->len, NULL, NULL, 0};
        lede_stat_prefix *to = own ? bsearch(&probe, into->prefixes, own, sizeof *into->prefixes,
                                             prefix_order) : NULL;
        if (!to) {
            lede_stats_record_prefix(into, fp->key, fp->len, fp->keys, fp->lens, fp->nkeys);
            rc = into->rc;
            continue;
        }
        uint32_t n = to->nkeys + fp->nkeys;
        char **keys = realloc(to->keys, (n ? n : 1) * sizeof *keys);
        if (keys)
            to->keys = keys;
        size_t *lens = keys ? realloc(to->lens, (n ? n : 1) * sizeof *lens) : NULL;
        if (lens)
            to->lens = lens;
        if (!keys || !lens) {
            rc = LEDE_ENOMEM;
            break;
        }
        for (uint32_t q = 0; q < fp->nkeys && !rc; q++) {
            if (!(to->keys[to->nkeys] = dup_key(fp->keys[q], fp->lens[q])))
                rc = LEDE_ENOMEM;
            else
                to->lens[to->nkeys++] = fp->lens[q];
        }
        if (!rc)
            prefix_normalize(to, &rc);
    }
    if (rc) {
        for (uint32_t k = 0; k < sums.nterms; k++)
            free(sums.terms[k].key);
        free(sums.terms);
        return lede_err_set(err, rc, "out of memory");
    }
    for (uint32_t k = 0; k < into->nterms; k++)
        free(into->terms[k].key);
    free(into->terms);
    into->terms = sums.terms;
    into->nterms = sums.nterms;
    into->terms_cap = sums.terms_cap;
    into->N += from->N;
    into->sum_doc += from->sum_doc;
    into->sum_title += from->sum_title;
    if ((rc = lede_stats_finish(into)))
        return lede_err_set(err, rc, "out of memory");
    return 0;
}

uint64_t lede_corpus_stats_docs(const lede_corpus_stats *s)
{
    return s ? s->N : 0;
}

double lede_corpus_stats_avg_len(const lede_corpus_stats *s, lede_field field)
{
    if (!s || !s->N)
        return 1;
    uint64_t sum = field == LEDE_FIELD_TITLE ? s->sum_title
                 : field == LEDE_FIELD_BODY  ? s->sum_doc - s->sum_title
                                             : s->sum_doc;
    double avg = (double)sum / (double)s->N;
    return avg > 0 ? avg : 1;
}

int lede_corpus_stats_df(const lede_corpus_stats *s, lede_field field, const char *term,
                         size_t len, uint64_t *df)
{
    *df = 0;
    if (!s || !term)
        return LEDE_EINVAL;
    char buf[LEDE_MAX_KEY];
    size_t klen = lede_dict_key(buf, sizeof buf, term, len, field == LEDE_FIELD_TITLE);
    if (!klen)
        return LEDE_ENOTFOUND;
    const lede_stat_term *t = lede_stats_find_term(s, buf, klen);
    if (!t)
        return LEDE_ENOTFOUND;
    *df = field == LEDE_FIELD_BODY ? t->df_body : t->df;
    return 0;
}
