/* merge.c: merging segments into one. Live documents keep their order and
 * are renumbered densely; deleted ones are purged with their postings. The
 * sorted dictionaries are walked together (a k-way merge on a heap of
 * dictionary iterators), and each term's postings are read through cursors
 * and re-encoded, so block boundaries and impacts are recomputed for the
 * merged list. */
#include <stdlib.h>
#include <string.h>

#include "write/write.h"

/* Min-heap of dictionary iterators by (key, segment index). */
typedef struct dict_heap {
    lede_dict_iter *it;
    uint32_t *h;     /* segment indexes */
    uint32_t n;
} dict_heap;

static int key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c ? c : (alen < blen ? -1 : alen > blen);
}

static int heap_less(const dict_heap *d, uint32_t x, uint32_t y)
{
    const lede_dict_iter *a = &d->it[x], *b = &d->it[y];
    int c = key_cmp(a->key, a->key_len, b->key, b->key_len);
    return c < 0 || (c == 0 && x < y);
}

static void heap_down(dict_heap *d, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < d->n && heap_less(d, d->h[l], d->h[m]))
            m = l;
        if (r < d->n && heap_less(d, d->h[r], d->h[m]))
            m = r;
        if (m == i)
            return;
        uint32_t t = d->h[i];
        d->h[i] = d->h[m];
        d->h[m] = t;
        i = m;
    }
}

static void heap_push(dict_heap *d, uint32_t seg)
{
    uint32_t i = d->n++;
    d->h[i] = seg;
    while (i > 0 && heap_less(d, d->h[i], d->h[(i - 1) / 2])) {
        uint32_t t = d->h[i];
        d->h[i] = d->h[(i - 1) / 2];
        d->h[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static uint32_t heap_pop(dict_heap *d)
{
    uint32_t top = d->h[0];
    d->h[0] = d->h[--d->n];
    heap_down(d, 0);
    return top;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int lede_merge_segments(const lede_merge_input *in, size_t n, const char *out_path,
                        uint32_t *out_ndocs, lede_err *err)
{
    int rc = 0;
    dict_heap heap = {0};
    uint32_t *group = NULL;
    uint32_t **remap = calloc(n ? n : 1, sizeof *remap);
    lede_seg_writer *sw = NULL;
    lede_docstore_iter it = {0};
    lede_arena *scratch = lede_arena_new(1 << 20);
    if (!remap || !scratch) {
        rc = lede_err_set(err, LEDE_ENOMEM, "out of memory merging");
        goto done;
    }
    if ((rc = lede_seg_writer_new(out_path, &sw, err)))
        goto done;
    /* Documents, renumbered. */
    uint32_t next = 0;
    for (size_t s = 0; s < n; s++) {
        const lede_segment *seg = in[s].seg;
        remap[s] = malloc((seg->ndocs ? seg->ndocs : 1) * sizeof **remap);
        if (!remap[s]) {
            rc = lede_err_set(err, LEDE_ENOMEM, "out of memory merging");
            goto done;
        }
        for (uint32_t d = 0; d < seg->ndocs; d++)
            remap[s][d] = LEDE_NO_DOC;
        /* The live records in docno order, each stored block decompressed once. */
        if ((rc = lede_docstore_iter_init(&it, &seg->store, 0, UINT32_MAX, in[s].deleted, err)))
            goto done;
        uint32_t d;
        const uint8_t *rec;
        size_t rec_len;
        while (!(rc = lede_docstore_iter_next(&it, &d, &rec, &rec_len, err))) {
            lede_doc_info info = lede_segment_doc(seg, d);
            lede_str id = lede_segment_id(seg, d);
            uint32_t ord = lede_segment_doc_source(seg, d);
            lede_str source = {NULL, 0};
            if (ord) {
                source.ptr = seg->sources[ord - 1];
                source.len = strlen(source.ptr);
            }
            if ((rc = lede_seg_writer_add_doc(sw, &info, &id, &source, rec, rec_len))) {
                lede_err_set(err, rc, "cannot add document while merging");
                goto done;
            }
            remap[s][d] = next++;
        }
        lede_docstore_iter_free(&it);
        if (rc != LEDE_DONE)
            goto done;
        rc = 0;
    }
    /* The union of the dictionaries, in key order. */
    heap.it = calloc(n ? n : 1, sizeof *heap.it);
    heap.h = calloc(n ? n : 1, sizeof *heap.h);
    group = calloc(n ? n : 1, sizeof *group);
    if (!heap.it || !heap.h || !group) {
        rc = lede_err_set(err, LEDE_ENOMEM, "out of memory merging");
        goto done;
    }
    for (uint32_t s = 0; s < n; s++) {
        lede_dict_iter_init(&heap.it[s], in[s].seg);
        int r = lede_dict_iter_next(&heap.it[s]);
        if (r == 0)
            heap_push(&heap, s);
        else if (r != LEDE_DONE) {
            rc = lede_err_set(err, LEDE_ECORRUPT, "%s: cannot read dictionary", in[s].seg->path);
            goto done;
        }
    }
    while (heap.n > 0 && !rc) {
        /* Every segment holding the smallest key, in segment order, since
         * new document numbers grow with it. */
        uint32_t ng = 0;
        group[ng++] = heap_pop(&heap);
        const lede_dict_iter *first = &heap.it[group[0]];
        while (heap.n > 0 && key_cmp(heap.it[heap.h[0]].key, heap.it[heap.h[0]].key_len,
                                     first->key, first->key_len) == 0)
            group[ng++] = heap_pop(&heap);
        qsort(group, ng, sizeof *group, cmp_u32);
        int is_title = (uint8_t)first->key[0] == LEDE_TITLE_KEY;
        rc = lede_seg_writer_begin_term(sw, first->key, first->key_len);
        for (uint32_t g = 0; g < ng && !rc; g++) {
            uint32_t s = group[g];
            lede_cursor c;
            if ((rc = lede_cursor_open(&c, in[s].seg, &heap.it[s].e, scratch)))
                break;
            for (; c.doc != LEDE_NO_DOC; lede_cursor_next(&c)) {
                uint32_t nd = remap[s][c.doc];
                if (nd == LEDE_NO_DOC)
                    continue;
                uint32_t npos = 0;
                const uint32_t *pos = NULL;
                if (!is_title && !(pos = lede_cursor_positions(&c, &npos)))
                    break;
                if ((rc = lede_seg_writer_add_posting(sw, nd, lede_cursor_tf(&c), pos)))
                    break;
            }
            if (c.rc)
                rc = c.rc;
            lede_arena_reset(scratch);
        }
        if (!rc)
            rc = lede_seg_writer_end_term(sw);
        for (uint32_t g = 0; g < ng && !rc; g++) {
            int r = lede_dict_iter_next(&heap.it[group[g]]);
            if (r == 0)
                heap_push(&heap, group[g]);
            else if (r != LEDE_DONE)
                rc = LEDE_ECORRUPT;
        }
    }
    if (rc) {
        lede_err_set(err, rc, "merge failed: %s", lede_rc_text(rc));
        goto done;
    }
    if ((rc = lede_seg_writer_finish(sw, err)))
        goto done;
    *out_ndocs = next;
done:
    if (remap)
        for (size_t s = 0; s < n; s++)
            free(remap[s]);
    free(remap);
    free(heap.it);
    free(heap.h);
    free(group);
    lede_arena_free(scratch);
    lede_docstore_iter_free(&it);
    lede_seg_writer_free(sw);
    return rc;
}
