/* search.c: lede_search, the query path from a query string to ranked,
 * stored hits: parse with the index's analyzer, rewrite prefixes into the
 * indexed terms they cover, gather each leaf's statistics over the whole
 * snapshot (so scores do not depend on the segment layout), run retrieve.c
 * over each segment with one shared top-k, then fetch the stored fields of
 * the requested window and explain them if asked. All per-query memory is
 * one arena. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "index_int.h"

#define MAX_PREFIX_TERMS 64
#define DEFAULT_K1 1.2
#define DEFAULT_B 0.75
#define MAX_WINDOW 100000

typedef struct query_ctx {
    lede_index *ix;
    lede_arena *a;
    double N;
} query_ctx;

static double idf_of(double N, double df)
{
    return log(1.0 + (N - df + 0.5) / (df + 0.5));
}

static int make_key(lede_arena *a, const char *term, int field, char **key, size_t *len)
{
    size_t n = strlen(term);
    int title = field == LEDE_FIELD_TITLE;
    char *k = lede_arena_alloc(a, n + 2);
    if (!k)
        return LEDE_ENOMEM;
    if (title)
        k[0] = LEDE_TITLE_KEY;
    memcpy(k + title, term, n + 1);
    *key = k;
    *len = n + (size_t)title;
    return 0;
}

/* df of a key over the snapshot; for the body field, the body df of the
 * title+body key. */
static int key_df(lede_index *ix, const char *key, size_t len, int body, uint64_t *df)
{
    *df = 0;
    for (uint32_t i = 0; i < ix->nsegs; i++) {
        lede_term_entry e;
        int rc = lede_segment_lookup(ix->segs[i].seg, key, len, &e);
        if (rc == LEDE_ENOTFOUND)
            continue;
        if (rc)
            return rc;
        *df += body ? e.df_body : e.df;
    }
    return 0;
}

static int leaf_stats(query_ctx *qc, lede_qnode *q)
{
    lede_leaf *leaf = lede_arena_zalloc(qc->a, sizeof *leaf);
    uint32_t n = q->nterms;
    if (!leaf)
        return LEDE_ENOMEM;
    leaf->nterms = n;
    leaf->keys = lede_arena_zalloc(qc->a, (n ? n : 1) * sizeof *leaf->keys);
    leaf->key_lens = lede_arena_zalloc(qc->a, (n ? n : 1) * sizeof *leaf->key_lens);
    leaf->idf = lede_arena_zalloc(qc->a, (n ? n : 1) * sizeof *leaf->idf);
    leaf->df = lede_arena_zalloc(qc->a, (n ? n : 1) * sizeof *leaf->df);
    if (!leaf->keys || !leaf->key_lens || !leaf->idf || !leaf->df)
        return LEDE_ENOMEM;
    double boost = q->boost > 0 ? q->boost : 1.0;
    for (uint32_t i = 0; i < n; i++) {
        /* Phrases read title+body postings whatever their field; their
         * statistics follow the field they are scoped to. */
        int key_field = q->kind == Q_PHRASE ? LEDE_FIELD_ALL : q->field;
        int rc = make_key(qc->a, q->terms[i], key_field, &leaf->keys[i], &leaf->key_lens[i]);
        if (rc)
            return rc;
        char *stat_key = leaf->keys[i];
        size_t stat_len = leaf->key_lens[i];
        if (q->kind == Q_PHRASE && q->field == LEDE_FIELD_TITLE &&
            (rc = make_key(qc->a, q->terms[i], LEDE_FIELD_TITLE, &stat_key, &stat_len)))
            return rc;
        if ((rc = key_df(qc->ix, stat_key, stat_len, q->field == LEDE_FIELD_BODY, &leaf->df[i])))
            return rc;
        leaf->idf[i] = idf_of(qc->N, (double)leaf->df[i]);
        leaf->weight += leaf->idf[i] * boost;
    }
    q->aux = leaf;
    return 0;
}

typedef struct prefix_term {
    char *term;
    uint64_t df;
} prefix_term;

typedef struct prefix_ctx {
    lede_arena *a;
    prefix_term *terms;
    uint32_t n, cap;
    int title;
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
    char *copy = lede_arena_strndup(p->a, key + p->title, len - (size_t)p->title);
    if (!copy)
        return p->rc = LEDE_ENOMEM;
    p->terms[p->n].term = copy;
    p->terms[p->n].df = e->df;
    p->n++;
    return 0;
}

static int by_term(const void *x, const void *y)
{
    return strcmp(((const prefix_term *)x)->term, ((const prefix_term *)y)->term);
}

static int by_df_desc(const void *x, const void *y)
{
    const prefix_term *a = x, *b = y;
    if (a->df != b->df)
        return a->df > b->df ? -1 : 1;
    return strcmp(a->term, b->term);
}

/* Rewrites a prefix node in place into a BOOL of the most frequent indexed
 * terms it covers (each scored as a term). */
static int expand_prefix(query_ctx *qc, lede_qnode *q)
{
    prefix_ctx p = {qc->a, NULL, 0, 0, q->field == LEDE_FIELD_TITLE, 0};
    char *key;
    size_t len;
    int rc = make_key(qc->a, q->terms[0], q->field, &key, &len);
    if (rc)
        return rc;
    for (uint32_t i = 0; i < qc->ix->nsegs && !p.rc; i++) {
        rc = lede_segment_scan(qc->ix->segs[i].seg, key, len, collect_prefix, &p);
        if (rc < 0)
            return rc;
    }
    if (q->nterms > 1 && !p.rc) {
        /* The exact stem of a word whose stem is not its prefix ("happi"). */
        if ((rc = make_key(qc->a, q->terms[1], q->field, &key, &len)))
            return rc;
        for (uint32_t i = 0; i < qc->ix->nsegs && !p.rc; i++) {
            lede_term_entry e;
            rc = lede_segment_lookup(qc->ix->segs[i].seg, key, len, &e);
            if (rc == 0)
                collect_prefix(&p, key, len, &e);
            else if (rc != LEDE_ENOTFOUND)
                return rc;
        }
    }
    if (p.rc)
        return p.rc;
    /* One entry per term with its df summed over segments, then the most
     * frequent: the same choice whatever the segment layout. */
    if (p.n > 1) {
        qsort(p.terms, p.n, sizeof *p.terms, by_term);
        uint32_t m = 0;
        for (uint32_t i = 0; i < p.n; i++) {
            if (m > 0 && strcmp(p.terms[m - 1].term, p.terms[i].term) == 0)
                p.terms[m - 1].df += p.terms[i].df;
            else
                p.terms[m++] = p.terms[i];
        }
        p.n = m;
        qsort(p.terms, p.n, sizeof *p.terms, by_df_desc);
    }
    uint32_t n = p.n < MAX_PREFIX_TERMS ? p.n : MAX_PREFIX_TERMS;
    lede_qnode **kids = lede_arena_zalloc(qc->a, (n ? n : 1) * sizeof *kids);
    if (!kids)
        return LEDE_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        lede_qnode *t = lede_arena_zalloc(qc->a, sizeof *t);
        char **terms = lede_arena_alloc(qc->a, sizeof *terms);
        if (!t || !terms)
            return LEDE_ENOMEM;
        terms[0] = p.terms[i].term;
        t->kind = Q_TERM;
        t->field = q->field;
        t->at = q->at;
        t->boost = q->boost;
        t->terms = terms;
        t->nterms = 1;
        if ((rc = leaf_stats(qc, t)))
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

static int prepare(query_ctx *qc, lede_qnode *q)
{
    switch (q->kind) {
    case Q_TERM:
    case Q_PHRASE:
        return leaf_stats(qc, q);
    case Q_PREFIX:
        return expand_prefix(qc, q);
    case Q_BOOL:
        for (uint32_t i = 0; i < q->nmust; i++) {
            int rc = prepare(qc, q->must[i]);
            if (rc)
                return rc;
        }
        for (uint32_t i = 0; i < q->nshould; i++) {
            int rc = prepare(qc, q->should[i]);
            if (rc)
                return rc;
        }
        for (uint32_t i = 0; i < q->nmust_not; i++) {
            int rc = prepare(qc, q->must_not[i]);
            if (rc)
                return rc;
        }
        return 0;
    default:
        return 0;
    }
}

/* ------------------------------------------------------------ explain */

typedef struct explain_ctx {
    lede_arena *a;
    const lede_snap_seg *ss;
    const lede_scoring *sc;
    uint32_t doc;
    lede_explain_term *terms;
    uint32_t n, cap;
    int rc;
} explain_ctx;

static const char *field_name(int field)
{
    return field == LEDE_FIELD_TITLE ? "title" : field == LEDE_FIELD_BODY ? "body" : "all";
}

static void explain_leaf(explain_ctx *e, lede_qnode *q)
{
    const lede_leaf *leaf = q->aux;
    if (!leaf || e->rc)
        return;
    lede_qit *it;
    lede_qnode single = *q;
    if ((e->rc = lede_qit_build(&single, e->ss, e->sc, e->a, &it)))
        return;
    if (it->doc < e->doc)
        it->advance(it, e->doc);
    int hit = it->doc == e->doc;
    if (e->n == e->cap) {
        uint32_t cap = e->cap ? e->cap * 2 : 8;
        lede_explain_term *fresh = lede_arena_alloc(e->a, cap * sizeof *fresh);
        if (!fresh) {
            e->rc = LEDE_ENOMEM;
            return;
        }
        if (e->n)
            memcpy(fresh, e->terms, e->n * sizeof *fresh);
        e->terms = fresh;
        e->cap = cap;
    }
    lede_explain_term *t = &e->terms[e->n++];
    lede_buf words = {0};
    uint64_t df = 0;
    for (uint32_t i = 0; i < q->nterms; i++) {
        if (i)
            lede_buf_putc(&words, ' ');
        lede_buf_put(&words, q->terms[i], strlen(q->terms[i]));
        if (i == 0 || leaf->df[i] < df)
            df = leaf->df[i];
    }
    t->term = lede_arena_strndup(e->a, words.p ? (char *)words.p : "", words.len);
    lede_buf_free(&words);
    t->field = field_name(q->field);
    t->tf = hit ? it->freq(it) : 0;
    t->df = df;
    t->idf = leaf->weight / (q->boost > 0 ? q->boost : 1.0);
    t->score = hit ? it->score(it) : 0;
}

static void explain_walk(explain_ctx *e, lede_qnode *q)
{
    if (q->kind == Q_TERM || q->kind == Q_PHRASE) {
        explain_leaf(e, q);
    } else if (q->kind == Q_BOOL) {
        for (uint32_t i = 0; i < q->nmust; i++)
            explain_walk(e, q->must[i]);
        for (uint32_t i = 0; i < q->nshould; i++)
            explain_walk(e, q->should[i]);
    }
}

static int copy_explain(const explain_ctx *e, const lede_index *ix, uint32_t doc_len,
                        lede_explain **out)
{
    size_t size = sizeof(lede_explain) + e->n * sizeof(lede_explain_term);
    for (uint32_t i = 0; i < e->n; i++)
        size += strlen(e->terms[i].term) + 1;
    lede_explain *x = calloc(1, size);
    if (!x)
        return LEDE_ENOMEM;
    x->N = ix->N_stats;
    x->avgdl = ix->avgdl;
    x->doc_len = doc_len;
    x->nterms = e->n;
    x->terms = (lede_explain_term *)(x + 1);
    char *strings = (char *)(x->terms + e->n);
    for (uint32_t i = 0; i < e->n; i++) {
        x->terms[i] = e->terms[i];
        size_t n = strlen(e->terms[i].term) + 1;
        memcpy(strings, e->terms[i].term, n);
        x->terms[i].term = strings;
        strings += n;
    }
    *out = x;
    return 0;
}

/* ------------------------------------------------------------ search */

void lede_results_free(lede_results *res)
{
    if (!res)
        return;
    for (uint32_t i = 0; i < res->nhits; i++) {
        lede_stored_free(&res->hits[i].doc);
        free(res->hits[i].explain);
    }
    free(res->hits);
    free(res);
}

int lede_search(lede_index *ix, const lede_search_opts *opts, lede_results **out, lede_err *err)
{
    *out = NULL;
    if (!opts || !opts->query)
        return lede_err_set(err, LEDE_EINVAL, "no query");
    uint32_t k = opts->k ? opts->k : 10;
    if ((uint64_t)k + opts->offset > MAX_WINDOW)
        return lede_err_set(err, LEDE_ELIMIT, "k + offset must not exceed %d", MAX_WINDOW);
    lede_scoring sc;
    sc.k1 = opts->k1 > 0 ? opts->k1 : DEFAULT_K1;
    sc.b = (opts->b_set || opts->b > 0) ? opts->b : DEFAULT_B;
    if (sc.b < 0 || sc.b > 1 || sc.k1 > 100)
        return lede_err_set(err, LEDE_EINVAL, "BM25 needs 0 <= b <= 1 and 0 < k1 <= 100");
    sc.avg[LEDE_FIELD_ALL] = ix->avgdl;
    sc.avg[LEDE_FIELD_TITLE] = ix->avg_title;
    sc.avg[LEDE_FIELD_BODY] = ix->avg_body;
    lede_analyzer *an = lede_index_analyzer(ix, err);
    if (!an)
        return err ? err->rc : LEDE_ENOMEM;
    lede_arena *a = lede_arena_new(64 * 1024);
    lede_results *res = calloc(1, sizeof *res);
    lede_topk top = {0};
    int rc = 0;
    if (!a || !res) {
        rc = lede_err_set(err, LEDE_ENOMEM, "out of memory");
        goto done;
    }
    lede_qnode *q;
    if ((rc = lede_qparse(a, an, opts->query, strlen(opts->query), opts->plain, &q, err)))
        goto done;
    query_ctx qc = {ix, a, (double)ix->N_stats};
    if ((rc = prepare(&qc, q))) {
        lede_err_set(err, rc, "cannot read the index: %s", lede_rc_text(rc));
        goto done;
    }
    top.cap = k + opts->offset;
    top.threshold = -INFINITY;
    top.heap = malloc(top.cap * sizeof *top.heap);
    if (!top.heap) {
        rc = lede_err_set(err, LEDE_ENOMEM, "out of memory");
        goto done;
    }
    lede_run_stats st = {0};
    lede_arena *seg_arena = lede_arena_new(64 * 1024);
    if (!seg_arena) {
        rc = lede_err_set(err, LEDE_ENOMEM, "out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < ix->nsegs && !rc; i++) {
        rc = lede_retrieve(q, &ix->segs[i], i, &sc, seg_arena, opts->exhaustive, &top, &st);
        lede_arena_reset(seg_arena);
    }
    lede_arena_free(seg_arena);
    if (rc) {
        lede_err_set(err, rc, "%s while searching (run lede-index check)", lede_rc_text(rc));
        goto done;
    }
    res->total = st.matched;
    res->total_exact = !st.pruned;
    res->postings_scored = st.scored;
    lede_topk_sort(&top);
    uint32_t first = opts->offset < top.n ? opts->offset : top.n;
    res->nhits = top.n - first;
    res->hits = calloc(res->nhits ? res->nhits : 1, sizeof *res->hits);
    if (!res->hits) {
        rc = lede_err_set(err, LEDE_ENOMEM, "out of memory");
        goto done;
    }
    lede_buf rec = {0};
    for (uint32_t i = 0; i < res->nhits && !rc; i++) {
        const lede_topk_entry *e = &top.heap[first + i];
        const lede_snap_seg *ss = &ix->segs[e->seg];
        lede_hit *h = &res->hits[i];
        h->score = e->score;
        h->docno = e->docno;
        if (opts->ids_only) {
            lede_str id = lede_segment_id(ss->seg, e->doc);
            if (!(h->doc.mem = malloc(id.len + 1))) {
                rc = lede_err_set(err, LEDE_ENOMEM, "out of memory");
                break;
            }
            memcpy(h->doc.mem, id.ptr, id.len);
            h->doc.mem[id.len] = '\0';
            h->doc.id.ptr = h->doc.mem;
            h->doc.id.len = id.len;
        } else if ((rc = lede_docstore_get(&ss->seg->store, e->doc, &rec, err))) {
            break;
        } else if ((rc = lede_stored_from_record(rec.p, rec.len, &h->doc))) {
            lede_err_set(err, rc, "stored document is corrupt");
            break;
        }
        h->doc.body.ptr = NULL;
        h->doc.body.len = 0;
        if (opts->explain) {
            explain_ctx ec = {a, ss, &sc, e->doc, NULL, 0, 0, 0};
            explain_walk(&ec, q);
            if (ec.rc || (rc = copy_explain(&ec, ix, lede_segment_doc(ss->seg, e->doc).doc_len,
                                            &h->explain))) {
                rc = lede_err_set(err, ec.rc ? ec.rc : rc, "cannot explain hit");
                break;
            }
        }
    }
    lede_buf_free(&rec);
done:
    free(top.heap);
    lede_arena_free(a);
    if (rc) {
        lede_results_free(res);
        return rc;
    }
    *out = res;
    return 0;
}
