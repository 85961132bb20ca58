/* search.c: lede_search, the query path as four stages: plan (plan.c: the
 * query string or tree as an AST with its statistics and filters) ->
 * execute (retrieve.c over each segment with one shared top-k and one
 * deadline) -> collect (collect.c, when facets, groups or date order need
 * every match) -> fetch (fetch.c: stored fields, explain, facets, groups in
 * their final order). Per-query memory is one arena, plus one arena reset
 * per segment. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "query/query_int.h"

#define MAX_WINDOW 100000
#define MAX_GROUP_HITS 100

static int check_opts(const lede_search_opts *opts, uint32_t k, lede_err *err)
{
    if ((uint64_t)k + opts->offset > MAX_WINDOW)
        return lede_err_set(err, LEDE_ELIMIT, "k + offset must not exceed %d", MAX_WINDOW);
    if (opts->group_hits > MAX_GROUP_HITS)
        return lede_err_set(err, LEDE_ELIMIT, "at most %d hits per group", MAX_GROUP_HITS);
    if (opts->sort != LEDE_SORT_RELEVANCE && opts->sort != LEDE_SORT_DATE)
        return lede_err_set(err, LEDE_EINVAL, "unknown sort order %d", opts->sort);
    if (opts->column < 0 || opts->column >= LEDE_NCOLUMNS)
        return lede_err_set(err, LEDE_EINVAL, "unknown column %d", opts->column);
    if (opts->facets_ignore_sources && opts->column != LEDE_COLUMN_SOURCE)
        return lede_err_set(err, LEDE_EINVAL,
                            "facets_ignore_sources needs the facets to be by source");
    return 0;
}

/* Runs the plan over every segment until done or out of time. */
static int execute(lede_index *ix, const lede_plan *pl, int exhaustive, lede_topk *top,
                   lede_run_stats *st, lede_err *err)
{
    lede_arena *seg_arena = lede_arena_new(64 * 1024);
    if (!seg_arena)
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    int rc = 0;
    for (uint32_t i = 0; i < ix->nsegs && !rc && !st->timed_out; i++) {
        rc = lede_retrieve(pl->q, &ix->segs[i], i, &pl->sc, seg_arena, exhaustive, top, st);
        lede_arena_reset(seg_arena);
    }
    lede_arena_free(seg_arena);
    if (rc)
        lede_err_set(err, rc, "%s while searching (run lede-index check)", lede_rc_text(rc));
    return rc;
}

int lede_search(lede_index *ix, const lede_search_opts *opts, lede_results **out, lede_err *err)
{
    *out = NULL;
    if (!ix || !opts)
        return lede_err_set(err, LEDE_EINVAL, "no index or options");
    uint32_t k = opts->k ? opts->k : 10;
    int rc = check_opts(opts, k, err);
    if (rc)
        return rc;
    uint64_t started = opts->budget_ms ? lede_now_ns() : 0;
    lede_arena *a = lede_arena_new(64 * 1024);
    lede_results *res = calloc(1, sizeof *res);
    lede_topk top = {0};
    lede_collector col = {0};
    lede_plan pl;
    lede_fetch fetch = {ix, opts, &pl, a, {0}};
    if (!a || !res) {
        rc = lede_err_set(err, LEDE_ENOMEM, "out of memory");
        goto done;
    }
    int grouped = opts->group_hits > 0;
    /* The outlet filter moves from the query to the collector when the
     * panel must see every outlet. */
    int post_filter = opts->facets_ignore_sources && opts->facets && opts->nsources;
    if ((rc = lede_plan_build(&pl, ix, a, opts, NULL, !post_filter, err)))
        goto done;
    if ((rc = lede_plan_hl_terms(pl.q, &res->terms))) {
        lede_err_set(err, rc, "out of memory");
        goto done;
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
        if ((rc = lede_collector_init(&col, ix, opts, opts->column, &top, post_filter))) {
            lede_err_set(err, rc, "out of memory");
            goto done;
        }
        st.collect = lede_collect_match;
        st.collect_ctx = &col;
    }
    if ((rc = execute(ix, &pl, opts->exhaustive, &top, &st, err)))
        goto done;
    if (col.rc) {
        rc = lede_err_set(err, col.rc, "out of memory");
        goto done;
    }
    res->total = col.kept ? col.nkept : st.matched;
    res->timed_out = st.timed_out;
    res->total_exact = !st.pruned && !st.timed_out;
    res->postings_scored = st.scored;
    if (grouped) {
        if ((rc = lede_fetch_groups(&fetch, &col, k, opts->offset, res, err)))
            goto done;
    } else {
        lede_topk_sort(&top);
        uint32_t first = opts->offset < top.n ? opts->offset : top.n;
        if ((rc = lede_fetch_hits(&fetch, top.heap + first, top.n - first, &res->hits,
                                  &res->nhits, err)))
            goto done;
    }
    if (opts->facets && (rc = lede_fetch_facets(&fetch, &col, res, err)))
        goto done;
done:
    lede_buf_free(&fetch.rec);
    lede_collector_free(&col);
    free(top.heap);
    lede_arena_free(a);
    if (rc) {
        lede_results_free(res);
        return rc;
    }
    *out = res;
    return 0;
}
