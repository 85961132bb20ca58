/* merge.c: merging segments into one. Live documents keep their order and
 * are renumbered densely; deleted ones are purged with their postings. The
 * dictionaries are unioned, and each term's postings are read through
 * cursors and re-encoded, so block boundaries and impacts are recomputed for
 * the merged list. */
#include <stdlib.h>
#include <string.h>

#include "index_int.h"

typedef struct key_list {
    char **keys;
    size_t *lens;
    size_t n, cap;
    lede_arena *arena;
    int rc;
} key_list;

static int push_key(void *ctx, const char *key, size_t len, const lede_term_entry *e)
{
    key_list *k = ctx;
    LEDE_UNUSED(e);
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 4096;
        char **keys = realloc(k->keys, cap * sizeof *keys);
        if (keys)
            k->keys = keys;
        size_t *lens = realloc(k->lens, cap * sizeof *lens);
        if (lens)
            k->lens = lens;
        if (!keys || !lens)
            return k->rc = LEDE_ENOMEM;
        k->cap = cap;
    }
    char *copy = lede_arena_strndup(k->arena, key, len);
    if (!copy)
        return k->rc = LEDE_ENOMEM;
    k->keys[k->n] = copy;
    k->lens[k->n] = len;
    k->n++;
    return 0;
}


typedef struct key_ref {
    const char *key;
    size_t len;
} key_ref;

static int cmp_key(const void *a, const void *b)
{
    const key_ref *x = a, *y = b;
    int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len < y->len ? -1 : x->len > y->len);
}

int lede_merge_segments(const lede_merge_input *in, size_t n, const char *out_path,
                        uint32_t *out_ndocs, lede_err *err)
{
    int rc = 0;
    key_list kl = {0};
    key_ref *refs = NULL;
    uint32_t **remap = calloc(n ? n : 1, sizeof *remap);
    lede_seg_writer *sw = NULL;
    lede_buf rec = {0};
    lede_arena *scratch = lede_arena_new(1 << 20);
    kl.arena = lede_arena_new(1 << 20);
    if (!remap || !scratch || !kl.arena) {
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
        for (uint32_t d = 0; d < seg->ndocs; d++) {
            if (in[s].deleted && (in[s].deleted[d >> 3] >> (d & 7) & 1)) {
                remap[s][d] = LEDE_NO_DOC;
                continue;
            }
            if ((rc = lede_docstore_get(&seg->store, d, &rec, err)))
                goto done;
            lede_doc_info info = lede_segment_doc(seg, d);
            lede_str id = lede_segment_id(seg, d);
            uint32_t ord = lede_segment_doc_source(seg, d);
            lede_str source = {NULL, 0};
            if (ord) {
                source.ptr = seg->sources[ord - 1];
                source.len = strlen(source.ptr);
            }
            if ((rc = lede_seg_writer_add_doc(sw, &info, &id, &source, rec.p, rec.len))) {
                lede_err_set(err, rc, "cannot add document while merging");
                goto done;
            }
            remap[s][d] = next++;
        }
    }
    /* The union of the dictionaries, in key order. */
    for (size_t s = 0; s < n; s++) {
        rc = lede_segment_scan(in[s].seg, "", 0, push_key, &kl);
        if (rc || kl.rc) {
            rc = lede_err_set(err, kl.rc ? kl.rc : LEDE_ECORRUPT, "%s: cannot read dictionary",
                              in[s].seg->path);
            goto done;
        }
    }
    refs = malloc((kl.n ? kl.n : 1) * sizeof *refs);
    if (!refs) {
        rc = lede_err_set(err, LEDE_ENOMEM, "out of memory merging");
        goto done;
    }
    for (size_t i = 0; i < kl.n; i++) {
        refs[i].key = kl.keys[i];
        refs[i].len = kl.lens[i];
    }
    qsort(refs, kl.n, sizeof *refs, cmp_key);
    for (size_t i = 0; i < kl.n; i++) {
        if (i > 0 && cmp_key(&refs[i - 1], &refs[i]) == 0)
            continue;
        int is_title = (uint8_t)refs[i].key[0] == LEDE_TITLE_KEY;
        if ((rc = lede_seg_writer_begin_term(sw, refs[i].key, refs[i].len)))
            break;
        for (size_t s = 0; s < n && !rc; s++) {
            lede_term_entry e;
            int found = lede_segment_lookup(in[s].seg, refs[i].key, refs[i].len, &e);
            if (found == LEDE_ENOTFOUND)
                continue;
            lede_cursor c;
            if (found || lede_cursor_open(&c, in[s].seg, &e, scratch)) {
                rc = LEDE_ECORRUPT;
                break;
            }
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
    free(refs);
    free(kl.keys);
    free(kl.lens);
    lede_arena_free(kl.arena);
    lede_arena_free(scratch);
    lede_buf_free(&rec);
    lede_seg_writer_free(sw);
    return rc;
}
