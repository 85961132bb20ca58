/* topk.c: the top-k heap every algorithm and collector pushes to: a
 * min-heap by (score, larger docno first), or by (date, score, smaller
 * docno) for date order, so ties always go to the earlier document. */
#include <stdlib.h>

#include "query/query_int.h"

static inline int worse_by_score(const lede_topk_entry *a, const lede_topk_entry *b)
{
    return a->score < b->score || (a->score == b->score && a->docno > b->docno);
}

static inline int worse_by_date(const lede_topk_entry *a, const lede_topk_entry *b)
{
    if (a->date != b->date)
        return a->date < b->date;
    return worse_by_score(a, b);
}

#define worse(a, b) (t->by_date ? worse_by_date((a), (b)) : worse_by_score((a), (b)))

static void sift_down(lede_topk *t, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < t->n && worse(&t->heap[l], &t->heap[m]))
            m = l;
        if (r < t->n && worse(&t->heap[r], &t->heap[m]))
            m = r;
        if (m == i)
            return;
        lede_topk_entry tmp = t->heap[i];
        t->heap[i] = t->heap[m];
        t->heap[m] = tmp;
        i = m;
    }
}

void lede_topk_push(lede_topk *t, double score, uint64_t docno, uint32_t seg, uint32_t doc)
{
    lede_topk_entry e = {score, docno, seg, doc, 0};
    lede_topk_push_entry(t, &e);
}

void lede_topk_push_entry(lede_topk *t, const lede_topk_entry *entry)
{
    lede_topk_entry e = *entry;
    if (t->cap == 0)
        return;
    if (t->n < t->cap) {
        uint32_t i = t->n++;
        t->heap[i] = e;
        while (i > 0) {
            uint32_t parent = (i - 1) / 2;
            if (!worse(&t->heap[i], &t->heap[parent]))
                break;
            lede_topk_entry tmp = t->heap[i];
            t->heap[i] = t->heap[parent];
            t->heap[parent] = tmp;
            i = parent;
        }
    } else if (worse(&t->heap[0], &e)) {
        t->heap[0] = e;
        sift_down(t, 0);
    } else {
        return;
    }
    if (t->n == t->cap)
        t->threshold = t->heap[0].score;
}

static int best_first(const void *x, const void *y)
{
    const lede_topk_entry *a = x, *b = y;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->docno < b->docno ? -1 : a->docno > b->docno;
}

static int newest_first(const void *x, const void *y)
{
    const lede_topk_entry *a = x, *b = y;
    if (a->date != b->date)
        return a->date > b->date ? -1 : 1;
    return best_first(x, y);
}

void lede_topk_sort(lede_topk *t)
{
    qsort(t->heap, t->n, sizeof *t->heap, t->by_date ? newest_first : best_first);
}
