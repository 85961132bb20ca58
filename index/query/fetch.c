/* fetch.c: the last stage of lede_search: the stored side of results.
 * Hits' stored fields (one record buffer per search, decompressed through
 * the docstore's per-thread context), the explanation of a hit's score
 * (each leaf re-evaluated on the hit's document), facets in order of their
 * best score and groups in the order of their first hit. Every string a
 * result hands out is copied into memory the result owns, so results
 * outlive the index they came from. Calls store/ and iter.c. */
#include <stdlib.h>
#include <string.h>

#include "query/query_int.h"

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

static int copy_explain(const explain_ctx *e, const lede_plan *pl, uint32_t doc_len,
                        lede_explain **out)
{
    size_t size = sizeof(lede_explain) + e->n * sizeof(lede_explain_term);
    for (uint32_t i = 0; i < e->n; i++)
        size += strlen(e->terms[i].term) + 1;
    lede_explain *x = calloc(1, size);
    if (!x)
        return LEDE_ENOMEM;
    x->N = pl->N_explain;
    x->avgdl = pl->sc.avg[LEDE_FIELD_ALL];
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

/* ------------------------------------------------------------ hits */

static int fill_hit(lede_fetch *hc, const lede_topk_entry *e, int explain, int ids_only, lede_hit *h,
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
        explain_ctx ec = {hc->a, ss, &hc->plan->sc, e->doc, NULL, 0, 0, 0};
        explain_walk(&ec, hc->plan->q);
        if (ec.rc || (rc = copy_explain(&ec, hc->plan, lede_segment_doc(ss->seg, e->doc).doc_len,
                                        &h->explain)))
            return lede_err_set(err, ec.rc ? ec.rc : rc, "cannot explain hit");
    }
    return 0;
}

int lede_fetch_hits(lede_fetch *hc, const lede_topk_entry *entries, uint32_t n, lede_hit **out,
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
    for (uint32_t i = 0; i < res->nfacets; i++) {
        lede_stored_free(&res->facets[i].best.doc);
        free(res->facets[i].best.explain);
        free((char *)res->facets[i].value);
    }
    free(res->facets);
    for (uint32_t i = 0; i < res->ngroups; i++) {
        hits_free(res->groups[i].hits, res->groups[i].nhits);
        free((char *)res->groups[i].value);
    }
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

int lede_fetch_facets(lede_fetch *hc, const lede_collector *c, lede_results *res, lede_err *err)
{
    const char **values = hc->ix->columns[c->column].values;
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->nvalues; i++)
        n += c->count[i] > 0;
    facet_order *order = malloc((n ? n : 1) * sizeof *order);
    res->facets = calloc(n ? n : 1, sizeof *res->facets);
    if (!order || !res->facets) {
        free(order);
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    }
    uint32_t m = 0;
    for (uint32_t i = 0; i < c->nvalues; i++)
        if (c->count[i])
            order[m++] = (facet_order){i, &c->best[i], values[i]};
    qsort(order, m, sizeof *order, facet_cmp);
    int rc = 0;
    for (uint32_t i = 0; i < m && !rc; i++) {
        lede_facet *f = &res->facets[i];
        /* Copied: the values live in the segments' maps, the results may
         * outlive the index. */
        if (!(f->value = strdup(values[order[i].slot]))) {
            rc = lede_err_set(err, LEDE_ENOMEM, "out of memory");
            break;
        }
        res->nfacets = i + 1;
        f->count = c->count[order[i].slot];
        rc = fill_hit(hc, order[i].best, 0, hc->opts->ids_only || i >= hc->opts->facet_docs,
                      &f->best, err);
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

int lede_fetch_groups(lede_fetch *hc, lede_collector *c, uint32_t k, uint32_t offset,
                      lede_results *res, lede_err *err)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i <= c->nvalues; i++)
        if (c->groups[i].n) {
            lede_topk_sort(&c->groups[i]);
            n++;
        }
    res->total_groups = n;
    group_order *order = malloc((n ? n : 1) * sizeof *order);
    if (!order)
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    uint32_t m = 0;
    for (uint32_t i = 0; i <= c->nvalues; i++)
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
        res->ngroups = i + 1;
        if (slot != c->nvalues &&
            !(g->value = strdup(hc->ix->columns[c->column].values[slot]))) {
            rc = lede_err_set(err, LEDE_ENOMEM, "out of memory");
            break;
        }
        g->count = c->count[slot];
        rc = lede_fetch_hits(hc, c->groups[slot].heap, c->groups[slot].n, &g->hits, &g->nhits, err);
    }
    free(order);
    return rc;
}
