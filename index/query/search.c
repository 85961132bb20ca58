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
#include <strings.h>

#include "query/query_int.h"

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
    int oom = words.rc || !t->term;
    lede_buf_free(&words);
    if (oom) {
        e->n--;
        e->rc = LEDE_ENOMEM;
        return;
    }
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
            f->kind = Q_SOURCE;
            kids[any->nshould++] = f;
        }
        must[top->nmust++] = any;
    }
    if (has_date) {
        lede_qnode *f = lede_arena_zalloc(a, sizeof *f);
        if (!f)
            return LEDE_ENOMEM;
        f->kind = Q_DATE;
        f->date_lo = opts->date_from ? opts->date_from : 1;
        f->date_hi = opts->date_to ? opts->date_to : INT32_MAX;
        must[top->nmust++] = f;
    }
    *root = top;
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
static int hl_terms(const lede_qnode *q, lede_hl_query *out)
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

/* ------------------------------------------------------------ collectors */

/* What an exhaustive run gathers beyond the top-k: per outlet its count and
 * best match, and per outlet (or the no-source group) its own top-k. */
typedef struct collector {
    lede_topk *top;
    uint32_t nsources;         /* ix->nsources; slot nsources is "no source" */
    uint64_t *count;           /* per slot */
    lede_topk_entry *best;     /* per slot, by score (facets) */
    lede_topk *groups;         /* per slot (group_hits > 0) */
    uint32_t group_cap;
    int by_date;
    const uint8_t *kept;       /* per slot, or NULL: the outlet filter applied here
                                * (opts.facets_ignore_sources) rather than in the query */
    uint64_t nkept;            /* matches that passed it */
    int rc;
} collector;

static void collect_match(void *ctx, double score, const lede_snap_seg *ss, uint32_t seg_index,
                          uint32_t doc)
{
    collector *c = ctx;
    lede_topk_entry e = {score, ss->base + doc, seg_index, doc, 0};
    if (c->by_date)
        e.date = lede_segment_doc(ss->seg, doc).date;
    uint32_t slot = c->nsources;
    if (c->count || c->kept) {
        uint32_t gid = ss->source_gid[lede_segment_doc_source(ss->seg, doc)];
        slot = gid == LEDE_NO_SOURCE ? c->nsources : gid;
    }
    int keep = !c->kept || c->kept[slot];
    c->nkept += (uint64_t)keep;
    if (c->top && keep)
        lede_topk_push_entry(c->top, &e);
    if (!c->count)
        return;
    c->count[slot]++;
    if (c->best) {
        lede_topk_entry *b = &c->best[slot];
        if (b->docno == UINT64_MAX || score > b->score)
            *b = e;
    }
    if (c->groups && keep) {
        lede_topk *g = &c->groups[slot];
        if (!g->heap) {
            if (!(g->heap = malloc(c->group_cap * sizeof *g->heap))) {
                c->rc = LEDE_ENOMEM;
                return;
            }
            g->cap = c->group_cap;
            g->by_date = c->by_date;
            g->threshold = -INFINITY;
        }
        lede_topk_push_entry(g, &e);
    }
}

static void collector_free(collector *c)
{
    if (c->groups)
        for (uint32_t i = 0; i <= c->nsources; i++)
            free(c->groups[i].heap);
    free(c->groups);
    free(c->count);
    free(c->best);
    free((void *)c->kept);
}

/* ------------------------------------------------------------ hits */

typedef struct hit_ctx {
    lede_index *ix;
    const lede_search_opts *opts;
    const lede_qnode *q;
    const lede_scoring *sc;
    lede_arena *a;
    lede_buf rec;
} hit_ctx;

static int fill_hit(hit_ctx *hc, const lede_topk_entry *e, int explain, int ids_only, lede_hit *h,
                    lede_err *err)
{
    const lede_snap_seg *ss = &hc->ix->segs[e->seg];
    int rc;
    h->score = e->score;
    h->docno = e->docno;
    if (ids_only) {
        lede_str id = lede_segment_id(ss->seg, e->doc);
        if (!(h->doc.mem = malloc(id.len + 1)))
            return lede_err_set(err, LEDE_ENOMEM, "out of memory");
        memcpy(h->doc.mem, id.ptr, id.len);
        h->doc.mem[id.len] = '\0';
        h->doc.id.ptr = h->doc.mem;
        h->doc.id.len = id.len;
    } else if ((rc = lede_docstore_get(&ss->seg->store, e->doc, &hc->rec, err))) {
        return rc;
    } else if ((rc = lede_stored_from_record(hc->rec.p, hc->rec.len, &h->doc))) {
        return lede_err_set(err, rc,
                            rc == LEDE_ENOMEM ? "out of memory" : "stored document is corrupt");
    }
    if (!hc->opts->with_body) {
        h->doc.body.ptr = NULL;
        h->doc.body.len = 0;
    }
    if (explain) {
        explain_ctx ec = {hc->a, ss, hc->sc, e->doc, NULL, 0, 0, 0};
        explain_walk(&ec, (lede_qnode *)hc->q);
        if (ec.rc || (rc = copy_explain(&ec, hc->ix, lede_segment_doc(ss->seg, e->doc).doc_len,
                                        &h->explain)))
            return lede_err_set(err, ec.rc ? ec.rc : rc, "cannot explain hit");
    }
    return 0;
}

static int fill_hits(hit_ctx *hc, const lede_topk_entry *entries, uint32_t n, lede_hit **out,
                     uint32_t *nout, lede_err *err)
{
    *out = calloc(n ? n : 1, sizeof **out);
    *nout = 0;
    if (!*out)
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        int rc = fill_hit(hc, &entries[i], hc->opts->explain, hc->opts->ids_only, &(*out)[i], err);
        *nout = i + 1;
        if (rc)
            return rc;
    }
    return 0;
}

static void hits_free(lede_hit *hits, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        lede_stored_free(&hits[i].doc);
        free(hits[i].explain);
    }
    free(hits);
}

void lede_results_free(lede_results *res)
{
    if (!res)
        return;
    hits_free(res->hits, res->nhits);
    for (uint32_t i = 0; i < res->nsources; i++) {
        lede_stored_free(&res->sources[i].best.doc);
        free(res->sources[i].best.explain);
    }
    free(res->sources);
    for (uint32_t i = 0; i < res->ngroups; i++)
        hits_free(res->groups[i].hits, res->groups[i].nhits);
    free(res->groups);
    free(res->terms.terms);
    free(res);
}

/* Outlets by their best score, then by name. */
typedef struct facet_order {
    uint32_t slot;
    const lede_topk_entry *best;
    const char *name;
} facet_order;

static int facet_cmp(const void *x, const void *y)
{
    const facet_order *a = x, *b = y;
    if (a->best->score != b->best->score)
        return a->best->score > b->best->score ? -1 : 1;
    return strcmp(a->name, b->name);
}

static int build_facets(hit_ctx *hc, const collector *c, lede_results *res, lede_err *err)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->nsources; i++)
        n += c->count[i] > 0;
    facet_order *order = malloc((n ? n : 1) * sizeof *order);
    res->sources = calloc(n ? n : 1, sizeof *res->sources);
    if (!order || !res->sources) {
        free(order);
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    }
    uint32_t m = 0;
    for (uint32_t i = 0; i < c->nsources; i++)
        if (c->count[i])
            order[m++] = (facet_order){i, &c->best[i], hc->ix->sources[i]};
    qsort(order, m, sizeof *order, facet_cmp);
    int rc = 0;
    for (uint32_t i = 0; i < m && !rc; i++) {
        lede_source_facet *f = &res->sources[i];
        f->source = hc->ix->sources[order[i].slot];
        f->count = c->count[order[i].slot];
        rc = fill_hit(hc, order[i].best, 0, hc->opts->ids_only || i >= hc->opts->facet_docs,
                      &f->best, err);
        res->nsources = i + 1;
    }
    free(order);
    return rc;
}

/* Groups ranked like their first hit in the requested order. */
typedef struct group_order {
    uint32_t slot;
    const lede_topk_entry *first;
    int by_date;
} group_order;

static int group_cmp(const void *x, const void *y)
{
    const group_order *a = x, *b = y;
    const lede_topk_entry *p = a->first, *q = b->first;
    if (a->by_date && p->date != q->date)
        return p->date > q->date ? -1 : 1;
    if (p->score != q->score)
        return p->score > q->score ? -1 : 1;
    return p->docno < q->docno ? -1 : p->docno > q->docno;
}

static int build_groups(hit_ctx *hc, collector *c, uint32_t k, uint32_t offset,
                        lede_results *res, lede_err *err)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i <= c->nsources; i++)
        if (c->groups[i].n) {
            lede_topk_sort(&c->groups[i]);
            n++;
        }
    res->total_groups = n;
    group_order *order = malloc((n ? n : 1) * sizeof *order);
    if (!order)
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    uint32_t m = 0;
    for (uint32_t i = 0; i <= c->nsources; i++)
        if (c->groups[i].n)
            order[m++] = (group_order){i, &c->groups[i].heap[0], c->by_date};
    qsort(order, m, sizeof *order, group_cmp);
    uint32_t first = offset < m ? offset : m;
    uint32_t count = m - first < k ? m - first : k;
    res->groups = calloc(count ? count : 1, sizeof *res->groups);
    int rc = res->groups ? 0 : lede_err_set(err, LEDE_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < count && !rc; i++) {
        uint32_t slot = order[first + i].slot;
        lede_group *g = &res->groups[i];
        g->source = slot == c->nsources ? NULL : hc->ix->sources[slot];
        g->count = c->count[slot];
        res->ngroups = i + 1;
        rc = fill_hits(hc, c->groups[slot].heap, c->groups[slot].n, &g->hits, &g->nhits, err);
    }
    free(order);
    return rc;
}

/* ------------------------------------------------------------ search */

#define MAX_GROUP_HITS 100

int lede_search(lede_index *ix, const lede_search_opts *opts, lede_results **out, lede_err *err)
{
    *out = NULL;
    if (!opts || !opts->query)
        return lede_err_set(err, LEDE_EINVAL, "no query");
    uint32_t k = opts->k ? opts->k : 10;
    if ((uint64_t)k + opts->offset > MAX_WINDOW)
        return lede_err_set(err, LEDE_ELIMIT, "k + offset must not exceed %d", MAX_WINDOW);
    if (opts->group_hits > MAX_GROUP_HITS)
        return lede_err_set(err, LEDE_ELIMIT, "at most %d hits per group", MAX_GROUP_HITS);
    if (opts->sort != LEDE_SORT_RELEVANCE && opts->sort != LEDE_SORT_DATE)
        return lede_err_set(err, LEDE_EINVAL, "unknown sort order %d", opts->sort);
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
    uint64_t started = opts->budget_ms ? lede_now_ns() : 0;
    lede_arena *a = lede_arena_new(64 * 1024);
    lede_results *res = calloc(1, sizeof *res);
    lede_topk top = {0};
    collector col = {0};
    hit_ctx hc = {ix, opts, NULL, &sc, a, {0}};
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
    int grouped = opts->group_hits > 0;
    /* The outlet filter moves from the query to the collector when the
     * panel must see every outlet. */
    int post_sources = opts->facets_ignore_sources && opts->facets && opts->nsources;
    if ((rc = hl_terms(q, &res->terms)) || (rc = add_filters(a, opts, !post_sources, &q))) {
        lede_err_set(err, rc, "out of memory");
        goto done;
    }
    hc.q = q;
    if (post_sources) {
        uint8_t *kept = calloc(ix->nsources + 1, 1);
        if (!kept) {
            rc = lede_err_set(err, LEDE_ENOMEM, "out of memory");
            goto done;
        }
        for (uint32_t i = 0; i < ix->nsources; i++)
            for (uint32_t j = 0; j < opts->nsources && !kept[i]; j++)
                kept[i] = strcasecmp(ix->sources[i], opts->sources[j]) == 0;
        col.kept = kept;
    }
    top.cap = grouped ? 0 : k + opts->offset;
    top.threshold = -INFINITY;
    top.by_date = opts->sort == LEDE_SORT_DATE;
    top.heap = malloc((top.cap ? top.cap : 1) * sizeof *top.heap);
    if (!top.heap) {
        rc = lede_err_set(err, LEDE_ENOMEM, "out of memory");
        goto done;
    }
    lede_run_stats st = {0};
    if (opts->budget_ms)
        st.deadline_ns = started + (uint64_t)opts->budget_ms * 1000000u;
    if (opts->facets || grouped || top.by_date) {
        /* These need every match: an exhaustive run with a collector. */
        col.top = grouped ? NULL : &top;
        col.by_date = top.by_date;
        col.nsources = ix->nsources;
        col.group_cap = opts->group_hits;
        if (opts->facets || grouped) {
            col.count = calloc(ix->nsources + 1, sizeof *col.count);
            if (!col.count) {
                rc = lede_err_set(err, LEDE_ENOMEM, "out of memory");
                goto done;
            }
        }
        if (opts->facets) {
            col.best = malloc((ix->nsources + 1) * sizeof *col.best);
            if (!col.best) {
                rc = lede_err_set(err, LEDE_ENOMEM, "out of memory");
                goto done;
            }
            for (uint32_t i = 0; i <= ix->nsources; i++)
                col.best[i].docno = UINT64_MAX;
        }
        if (grouped && !(col.groups = calloc(ix->nsources + 1, sizeof *col.groups))) {
            rc = lede_err_set(err, LEDE_ENOMEM, "out of memory");
            goto done;
        }
        st.collect = collect_match;
        st.collect_ctx = &col;
    }
    lede_arena *seg_arena = lede_arena_new(64 * 1024);
    if (!seg_arena) {
        rc = lede_err_set(err, LEDE_ENOMEM, "out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < ix->nsegs && !rc && !st.timed_out; i++) {
        rc = lede_retrieve(q, &ix->segs[i], i, &sc, seg_arena, opts->exhaustive, &top, &st);
        lede_arena_reset(seg_arena);
    }
    lede_arena_free(seg_arena);
    if (!rc && col.rc)
        rc = col.rc;
    if (rc) {
        lede_err_set(err, rc, "%s while searching (run lede-index check)", lede_rc_text(rc));
        goto done;
    }
    res->total = col.kept ? col.nkept : st.matched;
    res->timed_out = st.timed_out;
    res->total_exact = !st.pruned && !st.timed_out;
    res->postings_scored = st.scored;
    if (grouped) {
        if ((rc = build_groups(&hc, &col, k, opts->offset, res, err)))
            goto done;
    } else {
        lede_topk_sort(&top);
        uint32_t first = opts->offset < top.n ? opts->offset : top.n;
        if ((rc = fill_hits(&hc, top.heap + first, top.n - first, &res->hits, &res->nhits, err)))
            goto done;
    }
    if (opts->facets && (rc = build_facets(&hc, &col, res, err)))
        goto done;
done:
    lede_buf_free(&hc.rec);
    collector_free(&col);
    free(top.heap);
    lede_arena_free(a);
    if (rc) {
        lede_results_free(res);
        return rc;
    }
    *out = res;
    return 0;
}
