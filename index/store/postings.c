/* postings.c: one term's posting list: its encoding (the builder the
 * segment writer feeds) and the cursor every query algorithm reads through.
 * Query code never sees the codec; it calls next_geq, tf, positions and the
 * block-max data.
 *
 * Layout of a term's postings (in the segment's postings section):
 *   varint nblocks
 *   nblocks skip entries: varint last_doc (block 0: the doc itself, later
 *     blocks: the difference to the previous block's last doc), varint
 *     doc_bytes, varint pos_bytes, varint npairs, npairs x (varint tf,
 *     varint len): the block's impacts, a Pareto set of (tf, field length)
 *     pairs such that every posting of the block is dominated by one
 *     (tf <= pair.tf and len >= pair.len); at most 4.
 *   the blocks: block codec of 128 doc gaps (first: doc - (previous block's
 *     last + 1), then doc - previous - 1; the last block holds the rest),
 *     block codec of the tfs minus one.
 * Positions (in the positions section): per block, the block's positions in
 * doc order, each doc's as gaps (first absolute, then p - previous - 1), cut
 * into chunks of 128 values, each chunk in the block codec.
 * Impacts are (tf, length) pairs rather than scores so they stay valid when
 * corpus statistics or BM25 parameters change (Lucene's idea). */
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

#define MAX_IMPACTS 4

struct lede_post_builder {
    uint32_t *docs, *tfs, *lens;
    size_t n, cap;
    uint32_t *pos;
    size_t npos, pos_cap;
    int rc;
};

lede_post_builder *lede_post_builder_new(void)
{
    return calloc(1, sizeof(lede_post_builder));
}

void lede_post_builder_reset(lede_post_builder *b)
{
    b->n = 0;
    b->npos = 0;
    b->rc = 0;
}

void lede_post_builder_free(lede_post_builder *b)
{
    if (!b)
        return;
    free(b->docs);
    free(b->tfs);
    free(b->lens);
    free(b->pos);
    free(b);
}

void lede_post_builder_add(lede_post_builder *b, uint32_t doc, uint32_t tf, uint32_t field_len,
                           const uint32_t *positions)
{
    if (b->rc)
        return;
    if (b->n == b->cap) {
        size_t c = b->cap ? b->cap * 2 : 64;
        uint32_t *d = realloc(b->docs, c * sizeof *d);
        if (d)
            b->docs = d;
        uint32_t *t = realloc(b->tfs, c * sizeof *t);
        if (t)
            b->tfs = t;
        uint32_t *l = realloc(b->lens, c * sizeof *l);
        if (l)
            b->lens = l;
        if (!d || !t || !l) {
            b->rc = LEDE_ENOMEM;
            return;
        }
        b->cap = c;
    }
    b->docs[b->n] = doc;
    b->tfs[b->n] = tf;
    b->lens[b->n] = field_len;
    b->n++;
    if (positions) {
        if (lede_grow((void **)&b->pos, &b->pos_cap, b->npos + tf, sizeof *b->pos, 64)) {
            b->rc = LEDE_ENOMEM;
            return;
        }
        memcpy(b->pos + b->npos, positions, tf * sizeof *positions);
        b->npos += tf;
    }
}

static int impact_cmp(const void *a, const void *b)
{
    const lede_impact *x = a, *y = b;
    if (x->tf != y->tf)
        return x->tf > y->tf ? -1 : 1;
    return x->len < y->len ? -1 : x->len > y->len;
}

#define SMALL_TF 32

/* The Pareto set of (tf, len) over the block, capped: neighbours are merged
 * into (max tf, min len), which still dominates both. Small tfs (nearly
 * all) go through a per-tf minimum length, so a block costs O(n); only
 * the rare large tfs are sorted. */
static size_t block_impacts(const uint32_t *tfs, const uint32_t *lens, size_t n, lede_impact *out,
                            lede_impact *scratch)
{
    uint32_t min_len[SMALL_TF];
    size_t nbig = 0;
    for (size_t t = 0; t < SMALL_TF; t++)
        min_len[t] = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        if (tfs[i] < SMALL_TF) {
            if (lens[i] < min_len[tfs[i]])
                min_len[tfs[i]] = lens[i];
        } else {
            scratch[nbig].tf = tfs[i];
            scratch[nbig].len = lens[i];
            nbig++;
        }
    }
    if (nbig > 1)
        qsort(scratch, nbig, sizeof *scratch, impact_cmp);
    /* By tf descending; keep a pair only if its length beats every larger tf's. */
    size_t m = 0;
    uint32_t best_len = UINT32_MAX;
    for (size_t i = 0; i < nbig; i++)
        if (scratch[i].len < best_len) {
            scratch[m++] = scratch[i];
            best_len = scratch[i].len;
        }
    for (size_t t = SMALL_TF; t-- > 1;)
        if (min_len[t] < best_len) {
            scratch[m].tf = (uint32_t)t;
            scratch[m].len = min_len[t];
            m++;
            best_len = min_len[t];
        }
    if (m <= MAX_IMPACTS) {
        memcpy(out, scratch, m * sizeof *out);
        return m;
    }
    for (size_t g = 0; g < MAX_IMPACTS; g++) {
        size_t lo = g * m / MAX_IMPACTS, hi = (g + 1) * m / MAX_IMPACTS;
        out[g].tf = scratch[lo].tf;
        out[g].len = scratch[hi - 1].len;
    }
    return MAX_IMPACTS;
}

int lede_post_builder_finish(lede_post_builder *b, lede_buf *post, lede_buf *pos, int with_positions)
{
    if (b->rc)
        return b->rc;
    size_t nblocks = (b->n + LEDE_BLOCK - 1) / LEDE_BLOCK;
    lede_buf blocks = {0};
    uint32_t vals[LEDE_BLOCK];
    uint8_t packed[1 + LEDE_BLOCK * 4];
    lede_impact impacts[MAX_IMPACTS], scratch[LEDE_BLOCK];
    lede_buf_put_varint(post, nblocks);
    uint32_t prev_last = 0;
    size_t pos_i = 0;
    for (size_t blk = 0; blk < nblocks; blk++) {
        size_t lo = blk * LEDE_BLOCK;
        size_t n = b->n - lo < LEDE_BLOCK ? b->n - lo : LEDE_BLOCK;
        size_t before = blocks.len;
        for (size_t i = 0; i < n; i++) {
            uint32_t d = b->docs[lo + i];
            if (i == 0)
                vals[i] = blk == 0 ? d : d - prev_last - 1;
            else
                vals[i] = d - b->docs[lo + i - 1] - 1;
        }
        lede_buf_put(&blocks, packed, lede_pack(vals, n, packed));
        for (size_t i = 0; i < n; i++)
            vals[i] = b->tfs[lo + i] - 1;
        lede_buf_put(&blocks, packed, lede_pack(vals, n, packed));
        size_t doc_bytes = blocks.len - before;

        size_t pos_before = pos ? pos->len : 0;
        if (with_positions) {
            size_t k = 0;
            for (size_t i = 0; i < n; i++) {
                uint32_t tf = b->tfs[lo + i];
                for (uint32_t j = 0; j < tf; j++, pos_i++) {
                    uint32_t p = b->pos[pos_i];
                    vals[k++] = j == 0 ? p : p - b->pos[pos_i - 1] - 1;
                    if (k == LEDE_BLOCK) {
                        lede_buf_put(pos, packed, lede_pack(vals, k, packed));
                        k = 0;
                    }
                }
            }
            if (k)
                lede_buf_put(pos, packed, lede_pack(vals, k, packed));
        }
        size_t pos_bytes = with_positions ? pos->len - pos_before : 0;

        uint32_t last = b->docs[lo + n - 1];
        lede_buf_put_varint(post, blk == 0 ? last : last - prev_last);
        lede_buf_put_varint(post, doc_bytes);
        lede_buf_put_varint(post, pos_bytes);
        size_t np = block_impacts(b->tfs + lo, b->lens + lo, n, impacts, scratch);
        lede_buf_put_varint(post, np);
        for (size_t i = 0; i < np; i++) {
            lede_buf_put_varint(post, impacts[i].tf);
            lede_buf_put_varint(post, impacts[i].len);
        }
        prev_last = last;
    }
    lede_buf_put(post, blocks.p, blocks.len);
    int rc = blocks.rc ? blocks.rc : post->rc ? post->rc : (pos && pos->rc) ? pos->rc : 0;
    lede_buf_free(&blocks);
    return rc;
}

/* ------------------------------------------------------------ cursor */

static void cursor_fail(lede_cursor *c)
{
    c->rc = LEDE_ECORRUPT;
    c->doc = LEDE_NO_DOC;
}

int lede_cursor_open(lede_cursor *c, const lede_segment *seg, const lede_term_entry *e,
                     lede_arena *arena)
{
    /* The decoded-block arrays are large and always written before they
     * are read; clear everything else. */
    memset(c, 0, offsetof(lede_cursor, docs));
    c->pos_buf = NULL;
    c->pos_cap = 0;
    c->chunk_p = NULL;
    c->chunk_idx = 0;
    c->last_doc = NULL;
    c->doc_off = c->pos_off = NULL;
    c->block_max = NULL;
    c->impacts = NULL;
    c->impact_start = NULL;
    c->post = c->post_end = c->blocks = c->pos = c->pos_end = NULL;
    c->rc = 0;
    c->arena = arena;
    c->df = e->df;
    c->doc = LEDE_NO_DOC;
    if (e->post_off > seg->sec_len[SEC_POSTINGS] ||
        e->post_len > seg->sec_len[SEC_POSTINGS] - e->post_off ||
        e->pos_off > seg->sec_len[SEC_POSITIONS] ||
        e->pos_len > seg->sec_len[SEC_POSITIONS] - e->pos_off || e->df == 0 ||
        e->df > seg->ndocs)
        return c->rc = LEDE_ECORRUPT;
    c->post = seg->sec[SEC_POSTINGS] + e->post_off;
    c->post_end = c->post + e->post_len;
    c->pos = seg->sec[SEC_POSITIONS] + e->pos_off;
    c->pos_end = c->pos + e->pos_len;
    const uint8_t *p = c->post;
    uint32_t nblocks;
    if (lede_varint_get32(&p, c->post_end, &nblocks) ||
        nblocks != (e->df + LEDE_BLOCK - 1) / LEDE_BLOCK)
        return c->rc = LEDE_ECORRUPT;
    c->nblocks = nblocks;
    c->last_doc = lede_arena_alloc(arena, nblocks * sizeof *c->last_doc);
    c->doc_off = lede_arena_alloc(arena, (nblocks + 1) * sizeof *c->doc_off);
    c->pos_off = lede_arena_alloc(arena, (nblocks + 1) * sizeof *c->pos_off);
    c->impact_start = lede_arena_alloc(arena, (nblocks + 1) * sizeof *c->impact_start);
    c->impacts = lede_arena_alloc(arena, nblocks * MAX_IMPACTS * sizeof *c->impacts);
    c->block_max = lede_arena_alloc(arena, nblocks * sizeof *c->block_max);
    if (!c->last_doc || !c->doc_off || !c->pos_off || !c->impact_start || !c->impacts ||
        !c->block_max)
        return c->rc = LEDE_ENOMEM;
    uint64_t doc_sum = 0, pos_sum = 0;
    uint32_t last = 0, nimp = 0;
    for (uint32_t b = 0; b < nblocks; b++) {
        uint32_t delta, npairs;
        uint64_t doc_bytes, pos_bytes;
        if (lede_varint_get32(&p, c->post_end, &delta) ||
            lede_varint_get(&p, c->post_end, &doc_bytes) ||
            lede_varint_get(&p, c->post_end, &pos_bytes) ||
            lede_varint_get32(&p, c->post_end, &npairs) || npairs == 0 || npairs > MAX_IMPACTS)
            return c->rc = LEDE_ECORRUPT;
        if (b > 0 && (delta == 0 || delta > UINT32_MAX - 1 - last))
            return c->rc = LEDE_ECORRUPT;
        last = b == 0 ? delta : last + delta;
        if (last >= seg->ndocs)
            return c->rc = LEDE_ECORRUPT;
        c->last_doc[b] = last;
        c->doc_off[b] = doc_sum;
        c->pos_off[b] = pos_sum;
        doc_sum += doc_bytes;
        pos_sum += pos_bytes;
        if (doc_sum > e->post_len || pos_sum > e->pos_len)
            return c->rc = LEDE_ECORRUPT;
        c->impact_start[b] = nimp;
        for (uint32_t k = 0; k < npairs; k++, nimp++) {
            if (lede_varint_get32(&p, c->post_end, &c->impacts[nimp].tf) ||
                lede_varint_get32(&p, c->post_end, &c->impacts[nimp].len) ||
                c->impacts[nimp].tf == 0)
                return c->rc = LEDE_ECORRUPT;
        }
    }
    c->impact_start[nblocks] = nimp;
    c->doc_off[nblocks] = doc_sum;
    c->pos_off[nblocks] = pos_sum;
    c->blocks = p;
    if ((uint64_t)(c->post_end - p) != doc_sum || pos_sum != e->pos_len)
        return c->rc = LEDE_ECORRUPT;
    c->block = 0;
    c->decoded = 0;
    c->i = 0;
    c->doc = 0;
    lede_cursor_next_geq(c, 0);
    return c->rc;
}

static int decode_block(lede_cursor *c)
{
    uint32_t b = c->block;
    uint32_t n = b + 1 < c->nblocks ? LEDE_BLOCK : c->df - b * LEDE_BLOCK;
    const uint8_t *p = c->blocks + c->doc_off[b];
    const uint8_t *end = c->blocks + c->doc_off[b + 1];
    if (lede_unpack(&p, end, c->docs, n) || lede_unpack(&p, end, c->tfs, n) || p != end)
        return LEDE_ECORRUPT;
    uint64_t d = b == 0 ? 0 : (uint64_t)c->last_doc[b - 1] + 1;
    for (uint32_t i = 0; i < n; i++) {
        d += c->docs[i];
        if (d > c->last_doc[b])
            return LEDE_ECORRUPT;
        c->docs[i] = (uint32_t)d;
        d++;
        if (c->tfs[i] == UINT32_MAX)
            return LEDE_ECORRUPT;
        c->tfs[i] += 1;
    }
    if (c->docs[n - 1] != c->last_doc[b])
        return LEDE_ECORRUPT;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        c->pos_start[i] = (uint32_t)total;
        total += c->tfs[i];
    }
    if (total >= UINT32_MAX / 2)
        return LEDE_ECORRUPT;
    c->pos_start[n] = (uint32_t)total;
    c->block_n = n;
    c->decoded = 1;
    c->chunk_p = NULL;
    return LEDE_OK;
}

uint32_t lede_cursor_block_of(const lede_cursor *c, uint32_t target)
{
    uint32_t lo = c->block, hi = c->nblocks;
    if (lo < hi && c->last_doc[lo] >= target)
        return lo;
    /* Gallop, then binary search: targets are usually close. */
    uint32_t step = 1;
    while (lo + step < hi && c->last_doc[lo + step] < target) {
        lo += step;
        step *= 2;
    }
    if (lo + step < hi)
        hi = lo + step + 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c->last_doc[mid] < target)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void lede_cursor_next_geq(lede_cursor *c, uint32_t target)
{
    if (c->doc == LEDE_NO_DOC && c->decoded)
        return;
    if (c->rc) {
        c->doc = LEDE_NO_DOC;
        return;
    }
    if (c->block >= c->nblocks || c->last_doc[c->block] < target) {
        uint32_t b = lede_cursor_block_of(c, target);
        if (b >= c->nblocks) {
            c->block = c->nblocks;
            c->doc = LEDE_NO_DOC;
            c->decoded = 1;
            return;
        }
        c->block = b;
        c->decoded = 0;
        c->i = 0;
    }
    if (!c->decoded) {
        if (decode_block(c)) {
            cursor_fail(c);
            return;
        }
        c->i = 0;
    }
    uint32_t i = c->i;
    while (c->docs[i] < target)
        i++; /* bounded: last_doc[block] >= target */
    c->i = i;
    c->doc = c->docs[i];
}

uint32_t lede_cursor_tf(lede_cursor *c)
{
    return c->doc == LEDE_NO_DOC ? 0 : c->tfs[c->i];
}

/* Positions are decoded for one document at a time: chunks before it are
 * skipped by their width byte alone, so checking a phrase in one document
 * of a frequent term's block does not decode the whole block. */
const uint32_t *lede_cursor_positions(lede_cursor *c, uint32_t *n)
{
    *n = 0;
    if (c->doc == LEDE_NO_DOC || c->rc)
        return NULL;
    uint32_t b = c->block;
    const uint8_t *start = c->pos + c->pos_off[b], *end = c->pos + c->pos_off[b + 1];
    uint32_t first = c->pos_start[c->i], tf = c->tfs[c->i];
    uint32_t total = c->pos_start[c->block_n];
    uint32_t k0 = first / LEDE_BLOCK, k1 = (first + tf - 1) / LEDE_BLOCK;
    if (start == end)
        goto corrupt;
    if (!c->chunk_p || c->chunk_idx > k0) {
        c->chunk_p = start;
        c->chunk_idx = 0;
    }
    while (c->chunk_idx < k0) {
        uint32_t cnt = total - c->chunk_idx * LEDE_BLOCK;
        if (cnt > LEDE_BLOCK)
            cnt = LEDE_BLOCK;
        if (c->chunk_p >= end || *c->chunk_p > 32)
            goto corrupt;
        size_t size = 1 + ((size_t)cnt * *c->chunk_p + 7) / 8;
        if ((size_t)(end - c->chunk_p) < size)
            goto corrupt;
        c->chunk_p += size;
        c->chunk_idx++;
    }
    if (tf > c->pos_cap) {
        uint32_t cap = c->pos_cap ? c->pos_cap : 256;
        while (cap < tf)
            cap *= 2;
        uint32_t *buf = lede_arena_alloc(c->arena, (size_t)cap * sizeof *buf);
        if (!buf)
            goto corrupt;
        c->pos_buf = buf;
        c->pos_cap = cap;
    }
    /* Bit-packing allows random access: only this document's values are read. */
    const uint8_t *q = c->chunk_p;
    for (uint32_t k = k0; k <= k1; k++) {
        uint32_t cnt = total - k * LEDE_BLOCK;
        if (cnt > LEDE_BLOCK)
            cnt = LEDE_BLOCK;
        uint32_t lo = k == k0 ? first - k0 * LEDE_BLOCK : 0;
        uint32_t hi = k == k1 ? first + tf - k1 * LEDE_BLOCK : cnt;
        if (lede_unpack_range(q, end, cnt, lo, hi, c->pos_buf + (k * LEDE_BLOCK + lo - first)))
            goto corrupt;
        if (k == k1) {
            c->chunk_p = q; /* the next document starts in this chunk or later */
            c->chunk_idx = k1;
        } else {
            q += 1 + ((size_t)cnt * *q + 7) / 8;
        }
    }
    uint32_t *out = c->pos_buf;
    uint64_t prev = 0;
    for (uint32_t j = 0; j < tf; j++) {
        uint64_t v = j == 0 ? out[j] : prev + 1 + out[j];
        if (v >= UINT32_MAX)
            goto corrupt;
        out[j] = (uint32_t)v;
        prev = v;
    }
    *n = tf;
    return out;
corrupt:
    cursor_fail(c);
    return NULL;
}
