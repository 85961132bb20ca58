/* retrieve.c: the top-k algorithms over one segment's iterator tree
 * (iter.c), which speaks only to posting cursors. Two algorithms:
 * exhaustive (every match scored, kept as the oracle) and pruned: MaxScore
 * with block-max bounds when the query is a disjunction, and a block-max
 * skipping conjunction when it has required clauses. Scores are BM25 with
 * per-field lengths; bounds come from the block impacts, so pruning never
 * changes the top-k: a document is skipped only when its bound cannot beat
 * the k-th score (ties go to the earlier document, and documents arrive in
 * increasing order, so a tie cannot enter).
 * A document's score is always summed in clause order, whatever the
 * algorithm, so both paths produce bit-identical scores. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "query/query_int.h"

/* ------------------------------------------------------------ algorithms */

static inline int full(const lede_topk *t)
{
    return t->n == t->cap;
}

static void run_exhaustive(lede_qit *root, const lede_snap_seg *ss, uint32_t seg_index,
                           lede_topk *top, lede_run_stats *st)
{
    for (uint32_t d = root->doc; d != LEDE_NO_DOC; root->advance(root, d + 1), d = root->doc) {
        if (lede_out_of_time(st))
            return;
        if (lede_is_deleted(ss, d))
            continue;
        st->matched++;
        if (st->collect)
            st->collect(st->collect_ctx, root->score(root), ss, seg_index, d);
        else
            lede_topk_push(top, root->score(root), ss->base + d, seg_index, d);
        if (d == NO_UPTO)
            break;
    }
}

/* MaxScore over a disjunction: clauses sorted by max score; the prefix whose
 * maxima cannot together beat the threshold is "non-essential": only
 * documents of the essential clauses are candidates, and non-essential
 * clauses are probed only while the candidate can still make it. */
static void run_maxscore(lede_bool_it *b, const lede_snap_seg *ss, uint32_t seg_index, lede_topk *top,
                         lede_run_stats *st, lede_arena *a)
{
    uint32_t n = b->nshould;
    lede_qit **c = lede_arena_alloc(a, n * sizeof *c);
    uint32_t *orig = lede_arena_alloc(a, n * sizeof *orig);
    double *prefix = lede_arena_alloc(a, n * sizeof *prefix);
    double *sc = lede_arena_alloc(a, n * sizeof *sc);
    double *bnd = lede_arena_alloc(a, n * sizeof *bnd);
    /* A clause's block bound holds up to the end of its block: it is
     * recomputed only when candidates pass that point. */
    double *cached = lede_arena_alloc(a, n * sizeof *cached);
    uint32_t *cached_upto = lede_arena_alloc(a, n * sizeof *cached_upto);
    if (!c || !orig || !prefix || !sc || !bnd || !cached || !cached_upto) {
        st->rc = LEDE_ENOMEM;
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        c[i] = b->should[i];
        orig[i] = i;
        cached_upto[i] = 0;
        cached[i] = -1;
    }
    for (uint32_t i = 1; i < n; i++)
        for (uint32_t j = i; j > 0 && c[j]->max_score < c[j - 1]->max_score; j--) {
            lede_qit *t = c[j];
            c[j] = c[j - 1];
            c[j - 1] = t;
            uint32_t o = orig[j];
            orig[j] = orig[j - 1];
            orig[j - 1] = o;
        }
    double run = 0;
    for (uint32_t i = 0; i < n; i++) {
        run += c[i]->max_score;
        prefix[i] = run;
    }
    uint32_t ess = 0;
    for (;;) {
        if (lede_out_of_time(st))
            return;
        if (full(top))
            while (ess < n && prefix[ess] <= top->threshold) {
                ess++;
                st->pruned = 1;
            }
        if (ess == n)
            return;
        uint32_t d = LEDE_NO_DOC;
        for (uint32_t i = ess; i < n; i++)
            if (c[i]->doc < d)
                d = c[i]->doc;
        if (d == LEDE_NO_DOC)
            return;
        int skip = lede_is_deleted(ss, d);
        if (!skip && full(top)) {
            /* Block-max check over every clause before scoring anything:
             * first for the whole window where every clause's block bound
             * holds (skipped at once when even their sum cannot compete),
             * then for this document alone (clauses not on it add 0). */
            double ub = 0, window = 0;
            uint32_t window_end = NO_UPTO;
            for (uint32_t i = 0; i < n; i++) {
                uint32_t upto;
                if (cached[i] < 0 || d > cached_upto[i]) {
                    cached[i] = c[i]->bound(c[i], d, &upto);
                    cached_upto[i] = upto;
                }
                window += cached[i];
                if (cached_upto[i] < window_end)
                    window_end = cached_upto[i];
                bnd[i] = (i >= ess && c[i]->doc != d) ? 0 : cached[i];
                ub += bnd[i];
            }
            if (window <= top->threshold) {
                st->pruned = 1;
                if (window_end >= NO_UPTO)
                    return;
                for (uint32_t i = ess; i < n; i++)
                    if (c[i]->doc <= window_end)
                        c[i]->advance(c[i], window_end + 1);
                continue;
            }
            if (ub <= top->threshold) {
                skip = 1;
                st->pruned = 1;
            }
        } else if (!skip) {
            for (uint32_t i = 0; i < n; i++)
                bnd[i] = c[i]->max_score;
        }
        if (!skip) {
            double score = 0, rest = 0;
            memset(sc, 0, n * sizeof *sc);
            for (uint32_t i = ess; i < n; i++)
                if (c[i]->doc == d) {
                    sc[orig[i]] = c[i]->score(c[i]);
                    score += sc[orig[i]];
                    st->scored++;
                }
            for (uint32_t i = 0; i < ess; i++)
                rest += bnd[i];
            for (uint32_t i = ess; i-- > 0;) {
                if (full(top) && score + rest <= top->threshold) {
                    skip = 1;
                    st->pruned = 1;
                    break;
                }
                rest -= bnd[i];
                if (c[i]->doc < d)
                    c[i]->advance(c[i], d);
                if (c[i]->doc == d) {
                    sc[orig[i]] = c[i]->score(c[i]);
                    score += sc[orig[i]];
                    st->scored++;
                }
            }
            if (!skip && !lede_qit_excluded(b->not, b->nnot, d)) {
                double total = 0;
                for (uint32_t i = 0; i < n; i++)
                    total += sc[i];
                st->matched++;
                lede_topk_push(top, total, ss->base + d, seg_index, d);
                if (full(top))
                    for (uint32_t i = 0; i < n; i++)
                        c[i]->min_score = top->threshold - (prefix[n - 1] - c[i]->max_score);
            }
        }
        if (d == NO_UPTO)
            return;
        for (uint32_t i = ess; i < n; i++)
            if (c[i]->doc == d)
                c[i]->advance(c[i], d + 1);
    }
}

/* Conjunction with block-max skipping: when the bounds of every clause over
 * their current blocks cannot beat the threshold, jump past the shortest
 * of those blocks. */
static void run_conjunction(lede_bool_it *b, const lede_snap_seg *ss, uint32_t seg_index,
                            lede_topk *top, lede_run_stats *st, lede_arena *a)
{
    uint32_t d = 0;
    lede_qit *lead = b->must_lead[0];
    uint32_t nc = b->nmust + b->nshould;
    /* Block bounds hold to the end of their block; recomputed past it. */
    double *cached = lede_arena_alloc(a, nc * sizeof *cached);
    uint32_t *cached_upto = lede_arena_alloc(a, nc * sizeof *cached_upto);
    if (!cached || !cached_upto) {
        st->rc = LEDE_ENOMEM;
        return;
    }
    for (uint32_t i = 0; i < nc; i++)
        cached[i] = -1;
    for (;;) {
        if (lede_out_of_time(st))
            return;
        if (lead->doc < d)
            lead->advance(lead, d);
        d = lead->doc;
        if (d == LEDE_NO_DOC)
            return;
        if (full(top)) {
            double ub = 0;
            uint32_t upto = NO_UPTO;
            for (uint32_t i = 0; i < nc; i++) {
                if (cached[i] < 0 || d > cached_upto[i]) {
                    lede_qit *c = i < b->nmust ? b->must[i] : b->should[i - b->nmust];
                    cached[i] = c->bound(c, d, &cached_upto[i]);
                }
                ub += cached[i];
                if (cached_upto[i] < upto)
                    upto = cached_upto[i];
            }
            if (ub <= top->threshold) {
                st->pruned = 1;
                if (upto >= NO_UPTO)
                    return;
                d = upto + 1;
                continue;
            }
        }
        uint32_t agreed = lede_qit_leapfrog(b->must_lead, b->nmust, d);
        if (agreed != d) {
            d = agreed;
            if (d == LEDE_NO_DOC)
                return;
            continue;
        }
        if (!lede_is_deleted(ss, d) && !lede_qit_excluded(b->not, b->nnot, d)) {
            b->it.doc = d;
            st->matched++;
            st->scored += b->nmust;
            lede_topk_push(top, lede_bool_score(&b->it), ss->base + d, seg_index, d);
            if (full(top))
                for (uint32_t i = 0; i < nc; i++) {
                    lede_qit *c = i < b->nmust ? b->must[i] : b->should[i - b->nmust];
                    c->min_score = top->threshold - (b->it.max_score - c->max_score);
                }
        }
        if (d == NO_UPTO)
            return;
        d++;
    }
}

int lede_retrieve(const lede_qnode *q, const lede_snap_seg *ss, uint32_t seg_index,
                  const lede_scoring *sc, lede_arena *a, int exhaustive, lede_topk *top,
                  lede_run_stats *st)
{
    lede_qit_root tree;
    int rc = lede_qit_build_root(q, ss, sc, a, &tree);
    if (rc)
        return rc;
    lede_qit *root = &tree.root->it;
    lede_bool_it *bi = tree.root;
    if (exhaustive || st->collect || root->doc == LEDE_NO_DOC)
        run_exhaustive(root, ss, seg_index, top, st);
    else if (bi->nmust)
        run_conjunction(bi, ss, seg_index, top, st, a);
    else
        run_maxscore(bi, ss, seg_index, top, st, a);
    for (uint32_t i = 0; i < bi->nmust + bi->nshould; i++)
        if ((i < bi->nmust ? bi->must[i] : bi->should[i - bi->nmust])->skipped)
            st->pruned = 1;
    if ((rc = lede_qit_root_rc(&tree)))
        return rc;
    return st->rc;
}
