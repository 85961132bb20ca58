/* collect.c: the collector an exhaustive run hands every live match to
 * when a search needs more than the top-k: per value of a keyword column
 * (lede_column: source today, story next) its match count and best match
 * (facets) and its own top-k (groups), and the date-ordered top-k. Values
 * have snapshot-wide ids (store/reader.c), so the per-value state is flat
 * arrays with one more slot for documents without a value. With a kept
 * mask, the outlet filter is applied here rather than in the query, so the
 * facets see every outlet while hits keep the filter. Calls base/, store/
 * and topk.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "query/query_int.h"

int lede_collector_init(lede_collector *c, lede_index *ix, const lede_search_opts *opts,
                        int column, lede_topk *top, int post_filter)
{
    memset(c, 0, sizeof *c);
    int grouped = opts->group_hits > 0;
    const lede_snap_column *col = &ix->columns[column];
    c->column = column;
    c->top = grouped ? NULL : top;
    c->by_date = top->by_date;
    c->nvalues = col->nvalues;
    c->group_cap = opts->group_hits;
    size_t slots = (size_t)col->nvalues + 1;
    if (post_filter) {
        /* The outlet filter by name, ASCII case-insensitive as in the query. */
        if (!(c->kept = calloc(slots, 1)))
            return LEDE_ENOMEM;
        for (uint32_t i = 0; i < col->nvalues; i++)
            for (uint32_t j = 0; j < opts->nsources && !c->kept[i]; j++)
                c->kept[i] = strcasecmp(col->values[i], opts->sources[j]) == 0;
    }
    if ((opts->facets || grouped) && !(c->count = calloc(slots, sizeof *c->count)))
        return LEDE_ENOMEM;
    if (opts->facets) {
        if (!(c->best = malloc(slots * sizeof *c->best)))
            return LEDE_ENOMEM;
        for (size_t i = 0; i < slots; i++)
            c->best[i].docno = UINT64_MAX;
    }
    if (grouped && !(c->groups = calloc(slots, sizeof *c->groups)))
        return LEDE_ENOMEM;
    return 0;
}

void lede_collect_match(void *ctx, double score, const lede_snap_seg *ss, uint32_t seg_index,
                        uint32_t doc)
{
    lede_collector *c = ctx;
    lede_topk_entry e = {score, ss->base + doc, seg_index, doc, 0};
    if (c->by_date)
        e.date = lede_segment_doc(ss->seg, doc).date;
    uint32_t slot = c->nvalues;
    if (c->count || c->kept) {
        uint32_t gid = lede_snap_value(ss, c->column, doc);
        slot = gid == LEDE_NO_VALUE ? c->nvalues : gid;
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

void lede_collector_free(lede_collector *c)
{
    if (c->groups)
        for (uint32_t i = 0; i <= c->nvalues; i++)
            free(c->groups[i].heap);
    free(c->groups);
    free(c->count);
    free(c->best);
    free(c->kept);
    memset(c, 0, sizeof *c);
}
