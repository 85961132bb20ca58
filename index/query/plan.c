/* plan.c: the first stage of lede_search: the query (a string for the
 * parser, or a tree from include/lede/query.h) as an AST over one snapshot,
 * ready to execute: each prefix rewritten into the most frequent indexed
 * terms it covers, each leaf's statistics (df, IDF, BM25 weight) gathered
 * over the whole snapshot, so scores do not depend on the segment layout,
 * or taken from imported corpus statistics, so a shard scores like the
 * whole collection; BM25's parameters and averages; the caller's filters
 * AND-ed in. While statistics are being gathered every df it looks up is
 * recorded. All memory from the plan's arena. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "query/query_int.h"

#define MAX_PREFIX_TERMS 64
#define DEFAULT_K1 1.2
#define DEFAULT_B 0.75

static double idf_of(double N, double df)
{
    return log(1.0 + (N - df + 0.5) / (df + 0.5));
}

static int plan_key(lede_arena *a, const char *term, size_t n, int field, char **key, size_t *len)
{
    char *k = lede_arena_alloc(a, n + 2);
    if (!k)
        return LEDE_ENOMEM;
    *len = lede_dict_key(k, n + 1, term, n, field == LEDE_FIELD_TITLE);
    k[*len] = '\0';
    *key = k;
    return 0;
}

static int make_key(lede_arena *a, const char *term, int field, char **key, size_t *len)
{
    return plan_key(a, term, strlen(term), field, key, len);
}

/* Both dfs of a key over the snapshot (the body df is stored with the
 * title+body key). */
static int snapshot_df(lede_index *ix, const char *key, size_t len, uint64_t *df, uint64_t *df_body)
{
    *df = *df_body = 0;
    for (uint32_t i = 0; i < ix->nsegs; i++) {
        lede_term_entry e;
        int rc = lede_segment_lookup(ix->segs[i].seg, key, len, &e);
        if (rc == LEDE_ENOTFOUND)
            continue;
        if (rc)
            return rc;
        *df += e.df;
        *df_body += e.df_body;
    }
    return 0;
}

static int missing_stats(lede_err *err, const char *what, const char *key, size_t len)
{
    int title = len && key[0] == LEDE_TITLE_KEY;
    return lede_err_set(err, LEDE_EINVAL,
                        "the corpus statistics hold no entry for the %s %s\"%.*s\": gather "
                        "them for this query",
                        what, title ? "title:" : "", (int)(len - (size_t)title), key + title);
}

/* df of a key for scoring: from the imported statistics, or over the
 * snapshot (recorded when gathering); the body field reads the body df. */
static int key_df(lede_plan *pl, const char *key, size_t len, int body, uint64_t *df,
                  lede_err *err)
{
    if (pl->stats_in) {
        const lede_stat_term *t = lede_stats_find_term(pl->stats_in, key, len);
        if (!t)
            return missing_stats(err, "term", key, len);
        *df = body ? t->df_body : t->df;
        return 0;
    }
    uint64_t all, in_body;
    int rc = snapshot_df(pl->ix, key, len, &all, &in_body);
    if (rc)
        return lede_err_set(err, rc, "cannot read the index: %s", lede_rc_text(rc));
    if (pl->stats_out)
        lede_stats_record_term(pl->stats_out, key, len, all, in_body);
    *df = body ? in_body : all;
    return 0;
}

static int leaf_stats(lede_plan *pl, lede_qnode *q, lede_err *err)
{
    lede_leaf *leaf = lede_arena_zalloc(pl->a, sizeof *leaf);
    uint32_t n = q->nterms;
    if (!leaf)
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    leaf->nterms = n;
    leaf->keys = lede_arena_zalloc(pl->a, (n ? n : 1) * sizeof *leaf->keys);
    leaf->key_lens = lede_arena_zalloc(pl->a, (n ? n : 1) * sizeof *leaf->key_lens);
    leaf->idf = lede_arena_zalloc(pl->a, (n ? n : 1) * sizeof *leaf->idf);
    leaf->df = lede_arena_zalloc(pl->a, (n ? n : 1) * sizeof *leaf->df);
    if (!leaf->keys || !leaf->key_lens || !leaf->idf || !leaf->df)
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    double boost = q->boost > 0 ? q->boost : 1.0;
    for (uint32_t i = 0; i < n; i++) {
        /* Phrases read title+body postings whatever their field; their
         * statistics follow the field they are scoped to. */
        int key_field = q->kind == Q_PHRASE ? LEDE_FIELD_ALL : q->field;
        int rc = make_key(pl->a, q->terms[i], key_field, &leaf->keys[i], &leaf->key_lens[i]);
        if (rc)
            return lede_err_set(err, rc, "out of memory");
        char *stat_key = leaf->keys[i];
        size_t stat_len = leaf->key_lens[i];
        if (q->kind == Q_PHRASE && q->field == LEDE_FIELD_TITLE &&
            (rc = make_key(pl->a, q->terms[i], LEDE_FIELD_TITLE, &stat_key, &stat_len)))
            return lede_err_set(err, rc, "out of memory");
        if ((rc = key_df(pl, stat_key, stat_len, q->field == LEDE_FIELD_BODY, &leaf->df[i], err)))
            return rc;
        leaf->idf[i] = idf_of(pl->N, (double)leaf->df[i]);
        leaf->weight += leaf->idf[i] * boost;
    }
    q->aux = leaf;
    return 0;
}

/* ------------------------------------------------------------ prefixes */

typedef struct prefix_term {
    char *key;                /* the dictionary key */
    size_t len;
    uint64_t df, df_body;
} prefix_term;

typedef struct prefix_ctx {
    lede_arena *a;
    prefix_term *terms;
    uint32_t n, cap;
    int rc;
} prefix_ctx;

static int collect_prefix(void *ctx, const char *key, size_t len, const lede_term_entry *e)
{
    prefix_ctx *p = ctx;
    if (p->n == p->cap) {
        uint32_t cap = p->cap ? p->cap * 2 : 64;
        prefix_term *fresh = lede_arena_alloc(p->a, cap * sizeof *fresh);
        if (!fresh)
            return p->rc = LEDE_ENOMEM;
        if (p->n)
            memcpy(fresh, p->terms, p->n * sizeof *fresh);
        p->terms = fresh;
        p->cap = cap;
    }
    char *copy = lede_arena_strndup(p->a, key, len);
    if (!copy)
        return p->rc = LEDE_ENOMEM;
    p->terms[p->n++] = (prefix_term){copy, len, e ? e->df : 0, e ? e->df_body : 0};
    return 0;
}

static int by_key(const void *x, const void *y)
{
    const prefix_term *a = x, *b = y;
    int c = memcmp(a->key, b->key, a->len < b->len ? a->len : b->len);
    return c ? c : (a->len < b->len ? -1 : a->len > b->len);
}

static int by_df_desc(const void *x, const void *y)
{
    const prefix_term *a = x, *b = y;
    if (a->df != b->df)
        return a->df > b->df ? -1 : 1;
    return by_key(a, b);
}

/* The keys a prefix covers over the snapshot, one entry per key with its
 * dfs summed over segments; recorded when gathering. */
static int snapshot_prefix(lede_plan *pl, const lede_qnode *q, const char *pkey, size_t plen,
                           prefix_ctx *p, lede_err *err)
{
    char *key;
    size_t len;
    int rc = make_key(pl->a, q->terms[0], q->field, &key, &len);
    if (rc)
        return lede_err_set(err, rc, "out of memory");
    for (uint32_t i = 0; i < pl->ix->nsegs && !p->rc; i++)
        if ((rc = lede_segment_scan(pl->ix->segs[i].seg, key, len, collect_prefix, p)) < 0)
            return lede_err_set(err, rc, "cannot read the index: %s", lede_rc_text(rc));
    if (q->nterms > 1 && !p->rc) {
        /* The exact stem of a word whose stem is not its prefix ("happi"). */
        if ((rc = make_key(pl->a, q->terms[1], q->field, &key, &len)))
            return lede_err_set(err, rc, "out of memory");
        for (uint32_t i = 0; i < pl->ix->nsegs && !p->rc; i++) {
            lede_term_entry e;
            rc = lede_segment_lookup(pl->ix->segs[i].seg, key, len, &e);
            if (rc == 0)
                collect_prefix(p, key, len, &e);
            else if (rc != LEDE_ENOTFOUND)
                return lede_err_set(err, rc, "cannot read the index: %s", lede_rc_text(rc));
        }
    }
    if (p->rc)
        return lede_err_set(err, p->rc, "out of memory");
    if (p->n > 1) {
        qsort(p->terms, p->n, sizeof *p->terms, by_key);
        uint32_t m = 0;
        for (uint32_t i = 0; i < p->n; i++) {
            if (m > 0 && by_key(&p->terms[m - 1], &p->terms[i]) == 0) {
                p->terms[m - 1].df += p->terms[i].df;
                p->terms[m - 1].df_body += p->terms[i].df_body;
            } else {
                p->terms[m++] = p->terms[i];
            }
        }
        p->n = m;
    }
    if (pl->stats_out) {
        char **keys = lede_arena_alloc(pl->a, (p->n ? p->n : 1) * sizeof *keys);
        size_t *lens = lede_arena_alloc(pl->a, (p->n ? p->n : 1) * sizeof *lens);
        if (!keys || !lens)
            return lede_err_set(err, LEDE_ENOMEM, "out of memory");
        for (uint32_t i = 0; i < p->n; i++) {
            keys[i] = p->terms[i].key;
            lens[i] = p->terms[i].len;
            lede_stats_record_term(pl->stats_out, keys[i], lens[i], p->terms[i].df,
                                   p->terms[i].df_body);
        }
        lede_stats_record_prefix(pl->stats_out, pkey, plen, keys, lens, p->n);
    }
    return 0;
}

/* The same list from imported statistics. */
static int imported_prefix(lede_plan *pl, const char *pkey, size_t plen, prefix_ctx *p,
                           lede_err *err)
{
    const lede_stat_prefix *sp = lede_stats_find_prefix(pl->stats_in, pkey, plen);
    if (!sp)
        return missing_stats(err, "prefix", pkey, strnlen(pkey, plen));
    for (uint32_t i = 0; i < sp->nkeys && !p->rc; i++) {
        const lede_stat_term *t = lede_stats_find_term(pl->stats_in, sp->keys[i], sp->lens[i]);
        if (!t)
            return missing_stats(err, "term", sp->keys[i], sp->lens[i]);
        lede_term_entry e = {0};
        e.df = t->df;
        e.df_body = t->df_body;
        collect_prefix(p, sp->keys[i], sp->lens[i], &e);
    }
    return p->rc ? lede_err_set(err, p->rc, "out of memory") : 0;
}

/* Rewrites a prefix node in place into a BOOL of the most frequent indexed
 * terms it covers (each scored as a term): the same choice whatever the
 * segment layout, and with imported statistics the choice the whole
 * collection makes. */
static int expand_prefix(lede_plan *pl, lede_qnode *q, lede_err *err)
{
    prefix_ctx p = {pl->a, NULL, 0, 0, 0};
    /* The statistics key names the prefix and the extra stem. */
    lede_buf id = {0};
    if (q->field == LEDE_FIELD_TITLE)
        lede_buf_putc(&id, LEDE_TITLE_KEY);
    lede_buf_put(&id, q->terms[0], strlen(q->terms[0]));
    if (q->nterms > 1) {
        lede_buf_putc(&id, '\0');
        lede_buf_put(&id, q->terms[1], strlen(q->terms[1]));
    }
    char *pkey = id.rc ? NULL : lede_arena_strndup(pl->a, (const char *)id.p, id.len);
    size_t plen = id.len;
    lede_buf_free(&id);
    if (!pkey)
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    int rc = pl->stats_in ? imported_prefix(pl, pkey, plen, &p, err)
                          : snapshot_prefix(pl, q, pkey, plen, &p, err);
    if (rc)
        return rc;
    if (p.n > 1)
        qsort(p.terms, p.n, sizeof *p.terms, by_df_desc);
    uint32_t n = p.n < MAX_PREFIX_TERMS ? p.n : MAX_PREFIX_TERMS;
    lede_qnode **kids = lede_arena_zalloc(pl->a, (n ? n : 1) * sizeof *kids);
    if (!kids)
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    int title = q->field == LEDE_FIELD_TITLE;
    for (uint32_t i = 0; i < n; i++) {
        lede_qnode *t = lede_arena_zalloc(pl->a, sizeof *t);
        char **terms = lede_arena_alloc(pl->a, sizeof *terms);
        if (!t || !terms || !(terms[0] = lede_arena_strndup(pl->a, p.terms[i].key + title,
                                                             p.terms[i].len - (size_t)title)))
            return lede_err_set(err, LEDE_ENOMEM, "out of memory");
        t->kind = Q_TERM;
        t->field = q->field;
        t->at = q->at;
        t->boost = q->boost;
        t->terms = terms;
        t->nterms = 1;
        if ((rc = leaf_stats(pl, t, err)))
            return rc;
        kids[i] = t;
    }
    q->kind = Q_BOOL;
    q->should = kids;
    q->nshould = n;
    q->must = q->must_not = NULL;
    q->nmust = q->nmust_not = 0;
    return 0;
}

static int prepare(lede_plan *pl, lede_qnode *q, lede_err *err)
{
    switch (q->kind) {
    case Q_TERM:
    case Q_PHRASE:
        return leaf_stats(pl, q, err);
    case Q_PREFIX:
        return expand_prefix(pl, q, err);
    case Q_BOOL:
        for (uint32_t i = 0; i < q->nmust; i++) {
            int rc = prepare(pl, q->must[i], err);
            if (rc)
                return rc;
        }
        for (uint32_t i = 0; i < q->nshould; i++) {
            int rc = prepare(pl, q->should[i], err);
            if (rc)
                return rc;
        }
        for (uint32_t i = 0; i < q->nmust_not; i++) {
            int rc = prepare(pl, q->must_not[i], err);
            if (rc)
                return rc;
        }
        return 0;
    default:
        return 0;
    }
}

/* ------------------------------------------------------------ filters */

/* The caller's outlet and date filters AND-ed with the query: a BOOL whose
 * first must clause is the query, so its score comes first in the sum and
 * adding the filters' zeros leaves every score bit-identical. */
static int add_filters(lede_arena *a, const lede_search_opts *opts, int with_sources,
                       lede_qnode **root)
{
    int has_date = opts->date_from || opts->date_to;
    if (!(with_sources && opts->nsources) && !has_date)
        return 0;
    lede_qnode *top = lede_arena_zalloc(a, sizeof *top);
    lede_qnode **must = lede_arena_zalloc(a, 3 * sizeof *must);
    if (!top || !must)
        return LEDE_ENOMEM;
    top->kind = Q_BOOL;
    top->must = must;
    must[top->nmust++] = *root;
    if (with_sources && opts->nsources) {
        lede_qnode *any = lede_arena_zalloc(a, sizeof *any);
        lede_qnode **kids = lede_arena_zalloc(a, opts->nsources * sizeof *kids);
        if (!any || !kids)
            return LEDE_ENOMEM;
        any->kind = Q_BOOL;
        any->should = kids;
        for (uint32_t i = 0; i < opts->nsources; i++) {
            lede_qnode *f = lede_arena_zalloc(a, sizeof *f);
            if (!f || !(f->value = lede_arena_strndup(a, opts->sources[i], strlen(opts->sources[i]))))
                return LEDE_ENOMEM;
            f->kind = Q_KEYWORD;
            f->column = LEDE_COLUMN_SOURCE;
            kids[any->nshould++] = f;
        }
        must[top->nmust++] = any;
    }
    if (has_date) {
        lede_qnode *f = lede_arena_zalloc(a, sizeof *f);
        if (!f)
            return LEDE_ENOMEM;
        f->kind = Q_DATE;
        f->date_lo = opts->date_from ? opts->date_from : LEDE_DATE_MIN;
        f->date_hi = opts->date_to ? opts->date_to : LEDE_DATE_MAX;
        must[top->nmust++] = f;
    }
    *root = top;
    return 0;
}


int lede_plan_build(lede_plan *pl, lede_index *ix, lede_arena *a, const lede_search_opts *opts,
                    lede_corpus_stats *record, int with_keyword_filter, lede_err *err)
{
    memset(pl, 0, sizeof *pl);
    pl->ix = ix;
    pl->a = a;
    pl->stats_in = opts->stats;
    pl->stats_out = record;
    if (opts->query && opts->tree)
        return lede_err_set(err, LEDE_EINVAL, "give a query string or a query tree, not both");
    if (!opts->query && !opts->tree)
        return lede_err_set(err, LEDE_EINVAL, "no query");
    lede_scoring *sc = &pl->sc;
    sc->k1 = opts->k1 > 0 ? opts->k1 : DEFAULT_K1;
    sc->b = (opts->b_set || opts->b > 0) ? opts->b : DEFAULT_B;
    if (sc->b < 0 || sc->b > 1 || sc->k1 > 100)
        return lede_err_set(err, LEDE_EINVAL, "BM25 needs 0 <= b <= 1 and 0 < k1 <= 100");
    if (pl->stats_in) {
        pl->N_explain = pl->stats_in->N;
        sc->avg[LEDE_FIELD_ALL] = lede_corpus_stats_avg_len(pl->stats_in, LEDE_FIELD_ALL);
        sc->avg[LEDE_FIELD_TITLE] = lede_corpus_stats_avg_len(pl->stats_in, LEDE_FIELD_TITLE);
        sc->avg[LEDE_FIELD_BODY] = lede_corpus_stats_avg_len(pl->stats_in, LEDE_FIELD_BODY);
    } else {
        pl->N_explain = ix->N_stats;
        sc->avg[LEDE_FIELD_ALL] = ix->avgdl;
        sc->avg[LEDE_FIELD_TITLE] = ix->avg_title;
        sc->avg[LEDE_FIELD_BODY] = ix->avg_body;
    }
    pl->N = (double)pl->N_explain;
    lede_analyzer *an = lede_index_analyzer(ix, err);
    if (!an)
        return err && err->rc ? err->rc : LEDE_ENOMEM;
    int rc = opts->tree ? lede_query_to_ast(a, an, opts->tree, &pl->q, err)
                        : lede_qparse(a, an, opts->query, strlen(opts->query), opts->plain, &pl->q,
                                      err);
    if (rc)
        return rc;
    if ((rc = prepare(pl, pl->q, err)))
        return rc;
    if ((rc = add_filters(a, opts, with_keyword_filter, &pl->q)))
        return lede_err_set(err, rc, "out of memory");
    return 0;
}

/* ------------------------------------------------------------ public reads */

int lede_index_term_df(lede_index *ix, lede_field field, const char *term, size_t len,
                       uint64_t *df, lede_err *err)
{
    *df = 0;
    if (!ix || !term)
        return lede_err_set(err, LEDE_EINVAL, "lede_index_term_df: no index or term");
    char key[LEDE_MAX_KEY];
    size_t klen = lede_dict_key(key, sizeof key, term, len, field == LEDE_FIELD_TITLE);
    if (!klen)
        return 0;
    uint64_t all, body;
    int rc = snapshot_df(ix, key, klen, &all, &body);
    if (rc)
        return lede_err_set(err, rc, "cannot read the index: %s", lede_rc_text(rc));
    *df = field == LEDE_FIELD_BODY ? body : all;
    return 0;
}

/* ------------------------------------------------------------ highlight terms */

typedef struct hl_collect {
    lede_hl_term *terms;
    uint32_t n, cap, nphrases;
    size_t bytes;
    int rc;
} hl_collect;

static uint8_t hl_fields(int field)
{
    return field == LEDE_FIELD_TITLE ? LEDE_HL_TITLE
           : field == LEDE_FIELD_BODY ? LEDE_HL_BODY
                                      : LEDE_HL_TITLE | LEDE_HL_BODY;
}

static void hl_add(hl_collect *h, const char *term, double weight, uint32_t phrase,
                   uint32_t phrase_pos, uint8_t fields)
{
    if (h->rc)
        return;
    if (!phrase)
        for (uint32_t i = 0; i < h->n; i++)
            if (!h->terms[i].phrase && strcmp(h->terms[i].term, term) == 0) {
                h->terms[i].fields |= fields;
                if (weight > h->terms[i].weight)
                    h->terms[i].weight = weight;
                return;
            }
    if (h->n == h->cap) {
        uint32_t cap = h->cap ? h->cap * 2 : 16;
        lede_hl_term *fresh = realloc(h->terms, cap * sizeof *fresh);
        if (!fresh) {
            h->rc = LEDE_ENOMEM;
            return;
        }
        h->terms = fresh;
        h->cap = cap;
    }
    lede_hl_term *t = &h->terms[h->n++];
    t->term = term;
    /* A term in every document has IDF near 0; it must still count. */
    t->weight = weight > 1e-3 ? weight : 1e-3;
    t->phrase = phrase;
    t->phrase_pos = phrase_pos;
    t->fields = fields;
    h->bytes += strlen(term) + 1;
}

/* The terms a match can contain: every leaf outside a negation. */
static void hl_walk(hl_collect *h, const lede_qnode *q)
{
    if (q->kind == Q_TERM && q->aux) {
        const lede_leaf *leaf = q->aux;
        hl_add(h, q->terms[0], leaf->idf[0], 0, 0, hl_fields(q->field));
    } else if (q->kind == Q_PHRASE && q->aux) {
        const lede_leaf *leaf = q->aux;
        uint32_t phrase = ++h->nphrases;
        for (uint32_t i = 0; i < q->nterms; i++)
            hl_add(h, q->terms[i], leaf->idf[i], phrase, q->term_pos ? q->term_pos[i] : i,
                   hl_fields(q->field));
    } else if (q->kind == Q_BOOL) {
        for (uint32_t i = 0; i < q->nmust; i++)
            hl_walk(h, q->must[i]);
        for (uint32_t i = 0; i < q->nshould; i++)
            hl_walk(h, q->should[i]);
    }
}

/* Copies the terms into one block owned by the results. */
int lede_plan_hl_terms(const lede_qnode *q, lede_hl_query *out)
{
    hl_collect h = {0};
    hl_walk(&h, q);
    if (h.rc) {
        free(h.terms);
        return h.rc;
    }
    memset(out, 0, sizeof *out);
    lede_hl_term *block = malloc(h.n * sizeof *block + h.bytes + 1);
    if (!block) {
        free(h.terms);
        return LEDE_ENOMEM;
    }
    char *strings = (char *)(block + h.n);
    for (uint32_t i = 0; i < h.n; i++) {
        block[i] = h.terms[i];
        size_t n = strlen(h.terms[i].term) + 1;
        memcpy(strings, h.terms[i].term, n);
        block[i].term = strings;
        strings += n;
    }
    free(h.terms);
    out->terms = block;
    out->nterms = h.n;
    out->nphrases = h.nphrases;
    return 0;
}

