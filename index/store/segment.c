/* segment.c: immutable segment files: the writer that lays one out and the
 * mmap reader with its term dictionary, per-document columns and id index.
 * Postings encoding is postings.c's; stored fields are docstore.c's.
 *
 * File layout (format version LEDE_SEG_VERSION, all integers little-endian):
 *   header   "LEDESEG\0", u32 version, u32 0
 *   stored   docstore.c (first: it is written while the segment is built)
 *   postings every term's postings (postings.c), in dictionary order
 *   positions
 *   dict     pages of up to 64 entries; an entry: varint shared prefix with
 *            the previous key (0 at a page start), varint suffix length,
 *            suffix, varints df, df_body, cf, post_off, post_len, pos_off,
 *            pos_len. Then u32 page offsets, u32 npages, u32 nterms.
 *            Keys are terms of title+body; "\x01" + term for the title field.
 *   docs     u32 arrays [ndocs]: title_len, doc_len, body_start, date
 *            (yyyymmdd or 0), source ordinal (1-based into the source table,
 *            0 = none); u64 sum of title_len, u64 sum of doc_len; u32 nsources
 *            and the sorted source names (varint length + bytes).
 *   ids      u32 [ndocs] offsets of each doc's id string, u32 [ndocs] docnos
 *            sorted by id, then the id strings (varint length + bytes).
 *   footer   per section (u64 offset, u64 length, u32 crc32c), u32 ndocs,
 *            u32 nterms, u32 version, u32 crc32c of the footer so far,
 *            "LEDEEND\0".
 * A reader verifies the footer and every section checksum when it opens the
 * file, so a flipped byte anywhere is a clean LEDE_ECORRUPT, not a wrong
 * answer; every decoder is still bounds-checked. */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"

#define MAGIC_HEAD "LEDESEG"
#define MAGIC_TAIL "LEDEEND"
#define HEADER_SIZE 16
#define FOOTER_SIZE (SEC_COUNT * 20 + 16 + 8)
#define PAGE_TERMS 64
#define MAX_KEY LEDE_MAX_KEY

static const char *const section_names[SEC_COUNT] = {"stored", "postings", "positions",
                                                     "dictionary", "docs", "ids"};

/* ============================================================ writer */

typedef struct src_slot {
    char *name;
    size_t len;
    uint32_t first_seen;  /* temporary ordinal: index in src + 1 */
} src_slot;

/* A term sink encodes terms (postings, positions, dictionary entries) apart
 * from the writer, so ranges of the dictionary can be encoded on several
 * threads and appended in order. Entries are kept as varints: key length,
 * key, df, df_body, cf, postings offset and length, positions offset and
 * length (offsets relative to the sink's own buffers). */
struct lede_term_sink {
    const lede_seg_writer *w;
    lede_buf post, pos, entries;
    lede_post_builder *pb;
    char key[MAX_KEY], prev_key[MAX_KEY];
    size_t key_len, prev_len;
    uint32_t nterms;
    int in_term, is_title;
    uint32_t df, df_body, last_doc;
    uint64_t cf;
    int rc;
};

struct lede_seg_writer {
    char *path;
    int fd;                   /* the file, open from the start: stored fields stream into it */
    uint64_t stored_len;
    uint32_t stored_crc;
    lede_buf post, pos, dict, page_index;
    lede_buf title_len, doc_len, body_start, date, source_tmp;
    lede_buf id_strings, id_off;
    lede_docstore_writer *store;
    lede_term_sink *own;      /* behind lede_seg_writer_begin_term & co */
    uint32_t ndocs, nterms, npages;
    uint64_t sum_title, sum_doc;
    /* sources: the distinct names in order of first use */
    src_slot *src;
    size_t src_cap;
    uint32_t nsrc;
    lede_htab src_index;      /* name -> index in src */
    char prev_key[MAX_KEY];   /* last key in the dictionary */
    size_t prev_len;
    int rc;
    int finished;
};

static int write_all(int fd, const void *p, size_t n);

static int emit_stored(void *ctx, const void *data, size_t n)
{
    lede_seg_writer *w = ctx;
    if (write_all(w->fd, data, n))
        return LEDE_EIO;
    w->stored_crc = lede_crc32c(w->stored_crc, data, n);
    w->stored_len += n;
    return 0;
}

int lede_seg_writer_new(const char *path, lede_seg_writer **out, lede_err *err)
{
    lede_seg_writer *w = calloc(1, sizeof *w);
    if (w)
        w->fd = -1;
    if (!w || !(w->path = strdup(path)) || !(w->store = lede_docstore_writer_new(emit_stored, w))) {
        lede_seg_writer_free(w);
        return lede_err_set(err, LEDE_ENOMEM, "out of memory starting a segment");
    }
    /* The header is rewritten at finish; until then the file has no footer
     * and cannot be mistaken for a segment. */
    uint8_t header[HEADER_SIZE] = {0};
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0 || write_all(w->fd, header, HEADER_SIZE)) {
        int e = errno;
        lede_seg_writer_free(w);
        return lede_err_set(err, LEDE_EIO, "%s: %s", path, strerror(e));
    }
    *out = w;
    return LEDE_OK;
}

void lede_seg_writer_free(lede_seg_writer *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    if (!w->finished && w->path)
        unlink(w->path);
    lede_buf *bufs[] = {&w->post, &w->pos, &w->dict, &w->page_index, &w->title_len, &w->doc_len,
                        &w->body_start, &w->date, &w->source_tmp, &w->id_strings, &w->id_off};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        lede_buf_free(bufs[i]);
    for (uint32_t i = 0; i < w->nsrc; i++)
        free(w->src[i].name);
    free(w->src);
    lede_htab_free(&w->src_index);
    lede_docstore_writer_free(w->store);
    lede_term_sink_free(w->own);
    free(w->path);
    free(w);
}

static bool src_eq(const void *ctx, uint32_t i, const void *key, size_t len)
{
    const src_slot *s = &((const lede_seg_writer *)ctx)->src[i];
    return s->len == len && memcmp(s->name, key, len) == 0;
}

/* Returns the temporary ordinal (1-based) of a source name, 0 out of memory. */
static uint32_t source_slot(lede_seg_writer *w, const char *name, size_t len)
{
    uint32_t hash = lede_hash(name, len), pos;
    uint32_t i = lede_htab_find(&w->src_index, hash, name, len, src_eq, w, &pos);
    if (i != LEDE_HTAB_NONE)
        return w->src[i].first_seen;
    char *copy = malloc(len + 1);
    if (!copy || lede_grow((void **)&w->src, &w->src_cap, (size_t)w->nsrc + 1, sizeof *w->src, 64) ||
        lede_htab_insert(&w->src_index, pos, hash, w->nsrc)) {
        free(copy);
        return 0;
    }
    memcpy(copy, name, len);
    copy[len] = '\0';
    w->src[w->nsrc] = (src_slot){copy, len, w->nsrc + 1};
    return ++w->nsrc;
}

int lede_seg_writer_add_doc(lede_seg_writer *w, const lede_doc_info *info, const lede_str *id,
                            const lede_str *source, const uint8_t *rec, size_t rec_len)
{
    if (w->rc)
        return w->rc;
    lede_buf_put_u32(&w->title_len, info->title_len);
    lede_buf_put_u32(&w->doc_len, info->doc_len);
    lede_buf_put_u32(&w->body_start, info->body_start);
    lede_buf_put_u32(&w->date, (uint32_t)info->date);
    uint32_t ord = 0;
    if (source && source->ptr && source->len > 0) {
        ord = source_slot(w, source->ptr, source->len);
        if (!ord)
            return w->rc = LEDE_ENOMEM;
    }
    lede_buf_put_u32(&w->source_tmp, ord);
    lede_buf_put_u32(&w->id_off, (uint32_t)w->id_strings.len);
    lede_buf_put_str(&w->id_strings, id->ptr ? id->ptr : "", id->ptr ? id->len : 0);
    w->sum_title += info->title_len;
    w->sum_doc += info->doc_len;
    w->ndocs++;
    if (w->id_strings.len > UINT32_MAX)
        return w->rc = LEDE_ELIMIT;
    int rc = lede_docstore_add(w->store, rec, rec_len);
    if (rc)
        return w->rc = rc;
    return w->rc = w->title_len.rc | w->doc_len.rc | w->body_start.rc | w->date.rc |
                   w->source_tmp.rc | w->id_off.rc | w->id_strings.rc;
}

int lede_term_sink_new(const lede_seg_writer *w, lede_term_sink **out)
{
    lede_term_sink *k = calloc(1, sizeof *k);
    if (!k || !(k->pb = lede_post_builder_new())) {
        free(k);
        return LEDE_ENOMEM;
    }
    k->w = w;
    *out = k;
    return 0;
}

void lede_term_sink_free(lede_term_sink *k)
{
    if (!k)
        return;
    lede_buf_free(&k->post);
    lede_buf_free(&k->pos);
    lede_buf_free(&k->entries);
    lede_post_builder_free(k->pb);
    free(k);
}

static int key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c ? c : (alen < blen ? -1 : alen > blen);
}

int lede_term_sink_begin(lede_term_sink *k, const char *key, size_t len)
{
    if (k->rc)
        return k->rc;
    if (len == 0 || len >= MAX_KEY || k->in_term ||
        (k->nterms > 0 && key_cmp(key, len, k->prev_key, k->prev_len) <= 0))
        return k->rc = LEDE_EINVAL; /* keys must strictly increase */
    memcpy(k->key, key, len);
    k->key_len = len;
    k->is_title = (uint8_t)key[0] == LEDE_TITLE_KEY;
    k->in_term = 1;
    k->df = k->df_body = 0;
    k->cf = 0;
    lede_post_builder_reset(k->pb);
    return 0;
}

int lede_term_sink_add(lede_term_sink *k, uint32_t doc, uint32_t tf, const uint32_t *positions)
{
    const lede_seg_writer *w = k->w;
    if (k->rc)
        return k->rc;
    if (!k->in_term || doc >= w->ndocs || tf == 0 || (k->df > 0 && doc <= k->last_doc) ||
        (!k->is_title && !positions))
        return k->rc = LEDE_EINVAL;
    uint32_t field_len;
    if (k->is_title) {
        field_len = lede_get_u32(w->title_len.p + 4 * (size_t)doc);
    } else {
        field_len = lede_get_u32(w->doc_len.p + 4 * (size_t)doc);
        if (positions[tf - 1] >= lede_get_u32(w->body_start.p + 4 * (size_t)doc))
            k->df_body++;
    }
    lede_post_builder_add(k->pb, doc, tf, field_len, k->is_title ? NULL : positions);
    k->df++;
    k->cf += tf;
    k->last_doc = doc;
    return 0;
}

int lede_term_sink_end(lede_term_sink *k)
{
    if (k->rc)
        return k->rc;
    if (!k->in_term)
        return k->rc = LEDE_EINVAL;
    k->in_term = 0;
    if (k->df == 0)
        return 0; /* nothing to record: a term whose every posting was dropped */
    uint64_t post_off = k->post.len, pos_off = k->pos.len;
    int rc = lede_post_builder_finish(k->pb, &k->post, &k->pos, !k->is_title);
    if (rc)
        return k->rc = rc;
    lede_buf_put_str(&k->entries, k->key, k->key_len);
    lede_buf_put_varint(&k->entries, k->df);
    lede_buf_put_varint(&k->entries, k->df_body);
    lede_buf_put_varint(&k->entries, k->cf);
    lede_buf_put_varint(&k->entries, post_off);
    lede_buf_put_varint(&k->entries, k->post.len - post_off);
    lede_buf_put_varint(&k->entries, pos_off);
    lede_buf_put_varint(&k->entries, k->pos.len - pos_off);
    memcpy(k->prev_key, k->key, k->key_len);
    k->prev_len = k->key_len;
    k->nterms++;
    return k->rc = k->entries.rc;
}

int lede_seg_writer_append_sink(lede_seg_writer *w, lede_term_sink *k)
{
    if (w->rc)
        return w->rc;
    if (k->rc || k->in_term)
        return w->rc = k->rc ? k->rc : LEDE_EINVAL;
    uint64_t post_base = w->post.len, pos_base = w->pos.len;
    /* The first sink's buffers are taken over, not copied: they can be
     * tens of megabytes. */
    if (w->post.len == 0 && w->pos.len == 0) {
        lede_buf t = w->post;
        w->post = k->post;
        k->post = t;
        t = w->pos;
        w->pos = k->pos;
        k->pos = t;
    } else {
        lede_buf_put(&w->post, k->post.p, k->post.len);
        lede_buf_put(&w->pos, k->pos.p, k->pos.len);
    }
    const uint8_t *p = k->entries.p, *end = p + k->entries.len;
    for (uint32_t i = 0; i < k->nterms; i++) {
        uint64_t klen, v[7];
        if (lede_varint_get(&p, end, &klen) || klen > (uint64_t)(end - p))
            return w->rc = LEDE_EINVAL;
        const char *key = (const char *)p;
        p += klen;
        for (int j = 0; j < 7; j++)
            if (lede_varint_get(&p, end, &v[j]))
                return w->rc = LEDE_EINVAL;
        if (w->nterms > 0 && key_cmp(key, klen, w->prev_key, w->prev_len) <= 0)
            return w->rc = LEDE_EINVAL;
        size_t shared = 0;
        if (w->nterms % PAGE_TERMS == 0) {
            if (w->dict.len > UINT32_MAX)
                return w->rc = LEDE_ELIMIT;
            lede_buf_put_u32(&w->page_index, (uint32_t)w->dict.len);
            w->npages++;
        } else {
            while (shared < klen && shared < w->prev_len && key[shared] == w->prev_key[shared])
                shared++;
        }
        lede_buf_put_varint(&w->dict, shared);
        lede_buf_put_str(&w->dict, key + shared, klen - shared);
        lede_buf_put_varint(&w->dict, v[0]);
        lede_buf_put_varint(&w->dict, v[1]);
        lede_buf_put_varint(&w->dict, v[2]);
        lede_buf_put_varint(&w->dict, post_base + v[3]);
        lede_buf_put_varint(&w->dict, v[4]);
        lede_buf_put_varint(&w->dict, pos_base + v[5]);
        lede_buf_put_varint(&w->dict, v[6]);
        memcpy(w->prev_key, key, klen);
        w->prev_len = klen;
        w->nterms++;
    }
    return w->rc = w->post.rc | w->pos.rc | w->dict.rc | w->page_index.rc;
}

/* The writer's own sink serves callers that encode terms on one thread. */
static lede_term_sink *own_sink(lede_seg_writer *w)
{
    if (!w->own && !w->rc && lede_term_sink_new(w, &w->own))
        w->rc = LEDE_ENOMEM;
    return w->own;
}

int lede_seg_writer_begin_term(lede_seg_writer *w, const char *key, size_t len)
{
    lede_term_sink *k = own_sink(w);
    return k ? lede_term_sink_begin(k, key, len) : w->rc;
}

int lede_seg_writer_add_posting(lede_seg_writer *w, uint32_t doc, uint32_t tf,
                                const uint32_t *positions)
{
    return w->own ? lede_term_sink_add(w->own, doc, tf, positions) : LEDE_EINVAL;
}

int lede_seg_writer_end_term(lede_seg_writer *w)
{
    return w->own ? lede_term_sink_end(w->own) : LEDE_EINVAL;
}

static int cmp_src(const void *a, const void *b)
{
    const src_slot *x = *(src_slot *const *)a, *y = *(src_slot *const *)b;
    int c = strcasecmp(x->name, y->name);
    return c ? c : strcmp(x->name, y->name);
}

/* Sorting ids needs the strings; qsort_r keeps it reentrant. */
static int cmp_id(const void *a, const void *b, void *ctx)
{
    lede_seg_writer *w = ctx;
    uint32_t da = *(const uint32_t *)a, db = *(const uint32_t *)b;
    const uint8_t *pa = w->id_strings.p + lede_get_u32(w->id_off.p + 4 * (size_t)da);
    const uint8_t *pb = w->id_strings.p + lede_get_u32(w->id_off.p + 4 * (size_t)db);
    uint64_t la, lb;
    const uint8_t *end = w->id_strings.p + w->id_strings.len;
    lede_varint_get(&pa, end, &la);
    lede_varint_get(&pb, end, &lb);
    int c = memcmp(pa, pb, la < lb ? la : lb);
    if (c)
        return c;
    if (la != lb)
        return la < lb ? -1 : 1;
    return da < db ? -1 : da > db;
}

static int write_all(int fd, const void *p, size_t n)
{
    const uint8_t *q = p;
    while (n > 0) {
        ssize_t k = write(fd, q, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        q += k;
        n -= (size_t)k;
    }
    return 0;
}

int lede_seg_writer_finish(lede_seg_writer *w, lede_err *err)
{
    if (w->own && w->own->nterms + w->own->in_term > 0)
        lede_seg_writer_append_sink(w, w->own);
    if (w->rc)
        return lede_err_set(err, w->rc, "segment writer misused or out of memory (%s)",
                            lede_rc_text(w->rc));
    lede_buf sec[SEC_COUNT] = {{0}};
    int rc = LEDE_OK;
    /* docs: source ordinals renumbered in sorted order */
    src_slot **sorted = calloc(w->nsrc ? w->nsrc : 1, sizeof *sorted);
    uint32_t *remap = calloc(w->nsrc + 1, sizeof *remap);
    uint32_t *ids = malloc((w->ndocs ? w->ndocs : 1) * sizeof *ids);
    if (!sorted || !remap || !ids) {
        rc = lede_err_set(err, LEDE_ENOMEM, "out of memory finishing a segment");
        goto done;
    }
    for (uint32_t i = 0; i < w->nsrc; i++)
        sorted[i] = &w->src[i];
    qsort(sorted, w->nsrc, sizeof *sorted, cmp_src);
    for (uint32_t i = 0; i < w->nsrc; i++)
        remap[sorted[i]->first_seen] = i + 1;
    lede_buf *d = &sec[SEC_DOCS];
    lede_buf_put(d, w->title_len.p, w->title_len.len);
    lede_buf_put(d, w->doc_len.p, w->doc_len.len);
    lede_buf_put(d, w->body_start.p, w->body_start.len);
    lede_buf_put(d, w->date.p, w->date.len);
    for (uint32_t i = 0; i < w->ndocs; i++)
        lede_buf_put_u32(d, remap[lede_get_u32(w->source_tmp.p + 4 * (size_t)i)]);
    lede_buf_put_u64(d, w->sum_title);
    lede_buf_put_u64(d, w->sum_doc);
    lede_buf_put_u32(d, w->nsrc);
    for (uint32_t i = 0; i < w->nsrc; i++)
        lede_buf_put_str(d, sorted[i]->name, sorted[i]->len);
    /* ids */
    for (uint32_t i = 0; i < w->ndocs; i++)
        ids[i] = i;
    qsort_r(ids, w->ndocs, sizeof *ids, cmp_id, w);
    lede_buf *idb = &sec[SEC_IDS];
    lede_buf_put(idb, w->id_off.p, w->id_off.len);
    for (uint32_t i = 0; i < w->ndocs; i++)
        lede_buf_put_u32(idb, ids[i]);
    lede_buf_put(idb, w->id_strings.p, w->id_strings.len);
    /* dictionary */
    lede_buf *db = &sec[SEC_DICT];
    lede_buf_put(db, w->dict.p, w->dict.len);
    lede_buf_put(db, w->page_index.p, w->page_index.len);
    lede_buf_put_u32(db, w->npages);
    lede_buf_put_u32(db, w->nterms);
    if ((rc = lede_docstore_finish(w->store))) {
        lede_err_set(err, rc, "cannot write stored fields to %s", w->path);
        goto done;
    }
    for (int s = 0; s < SEC_COUNT; s++)
        if (sec[s].rc) {
            rc = lede_err_set(err, LEDE_ENOMEM, "out of memory finishing a segment");
            goto done;
        }
    {
        /* The stored section is on disk already; the rest follows it. */
        const lede_buf *parts[SEC_COUNT] = {NULL, &w->post, &w->pos, &sec[SEC_DICT],
                                            &sec[SEC_DOCS], &sec[SEC_IDS]};
        lede_buf footer = {0};
        uint8_t header[HEADER_SIZE] = {0};
        memcpy(header, MAGIC_HEAD, 8);
        header[8] = LEDE_SEG_VERSION;
        uint64_t off = HEADER_SIZE;
        for (int s = 0; s < SEC_COUNT; s++) {
            uint64_t len = parts[s] ? parts[s]->len : w->stored_len;
            lede_buf_put_u64(&footer, off);
            lede_buf_put_u64(&footer, len);
            lede_buf_put_u32(&footer, parts[s] ? lede_crc32c(0, parts[s]->p, len) : w->stored_crc);
            off += len;
        }
        lede_buf_put_u32(&footer, w->ndocs);
        lede_buf_put_u32(&footer, w->nterms);
        lede_buf_put_u32(&footer, LEDE_SEG_VERSION);
        lede_buf_put_u32(&footer, footer.rc ? 0 : lede_crc32c(0, footer.p, footer.len));
        lede_buf_put(&footer, MAGIC_TAIL, 8);
        if (footer.rc) {
            lede_buf_free(&footer);
            rc = lede_err_set(err, LEDE_ENOMEM, "out of memory finishing a segment");
            goto done;
        }
        int bad = 0;
        for (int s = 1; s < SEC_COUNT && !bad; s++)
            bad = parts[s]->len && write_all(w->fd, parts[s]->p, parts[s]->len);
        bad = bad || write_all(w->fd, footer.p, footer.len) ||
              pwrite(w->fd, header, HEADER_SIZE, 0) != HEADER_SIZE || fsync(w->fd);
        int saved = errno;
        if (close(w->fd) && !bad) {
            bad = 1;
            saved = errno;
        }
        w->fd = -1;
        lede_buf_free(&footer);
        if (bad) {
            rc = lede_err_set(err, LEDE_EIO, "%s: %s", w->path, strerror(saved));
            goto done;
        }
        w->finished = 1;
    }
done:
    for (int s = 0; s < SEC_COUNT; s++)
        lede_buf_free(&sec[s]);
    free(sorted);
    free(remap);
    free(ids);
    return rc;
}

/* ============================================================ reader */

static int seg_fail(lede_err *err, const char *path, const char *what)
{
    return lede_err_set(err, LEDE_ECORRUPT, "%s: %s", path, what);
}

void lede_segment_drop_pages(lede_segment *s)
{
    /* The pages stay in the page cache; they only stop counting against
     * this process until touched again. */
    if (s && s->map)
        madvise(s->map, s->map_len, MADV_DONTNEED);
}

void lede_segment_ref(lede_segment *s)
{
    __atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
}

void lede_segment_unref(lede_segment *s)
{
    if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    if (s->map)
        munmap(s->map, s->map_len);
    if (s->sources) {
        for (uint32_t i = 0; i < s->nsources; i++)
            free((char *)s->sources[i]);
        free(s->sources);
    }
    free(s->path);
    free(s);
}

static int parse_docs(lede_segment *s, lede_err *err)
{
    const uint8_t *p = s->sec[SEC_DOCS];
    uint64_t len = s->sec_len[SEC_DOCS];
    uint64_t arrays = (uint64_t)s->ndocs * 4 * 5;
    if (len < arrays + 20)
        return seg_fail(err, s->path, "docs section too short");
    s->title_len = p;
    s->doc_len = p + (size_t)s->ndocs * 4;
    s->body_start = p + (size_t)s->ndocs * 8;
    s->date = p + (size_t)s->ndocs * 12;
    s->source_ord = p + (size_t)s->ndocs * 16;
    s->sum_title_len = lede_get_u64(p + arrays);
    s->sum_doc_len = lede_get_u64(p + arrays + 8);
    s->nsources = lede_get_u32(p + arrays + 16);
    const uint8_t *q = p + arrays + 20, *end = p + len;
    if (s->nsources > len)
        return seg_fail(err, s->path, "bad source count");
    s->sources = calloc(s->nsources ? s->nsources : 1, sizeof *s->sources);
    if (!s->sources)
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < s->nsources; i++) {
        uint64_t n;
        if (lede_varint_get(&q, end, &n) || n > (uint64_t)(end - q))
            return seg_fail(err, s->path, "bad source table");
        char *name = malloc(n + 1);
        if (!name)
            return lede_err_set(err, LEDE_ENOMEM, "out of memory");
        memcpy(name, q, n);
        name[n] = '\0';
        s->sources[i] = name;
        q += n;
    }
    if (q != end)
        return seg_fail(err, s->path, "docs section has trailing bytes");
    uint64_t sum_t = 0, sum_d = 0;
    for (uint32_t i = 0; i < s->ndocs; i++) {
        lede_doc_info di = lede_segment_doc(s, i);
        if (di.title_len > di.doc_len || lede_segment_doc_source(s, i) > s->nsources)
            return seg_fail(err, s->path, "bad document lengths or source");
        sum_t += di.title_len;
        sum_d += di.doc_len;
    }
    if (sum_t != s->sum_title_len || sum_d != s->sum_doc_len)
        return seg_fail(err, s->path, "document length sums disagree");
    return LEDE_OK;
}

static int parse_ids(lede_segment *s, lede_err *err)
{
    uint64_t len = s->sec_len[SEC_IDS];
    if (len < (uint64_t)s->ndocs * 8)
        return seg_fail(err, s->path, "ids section too short");
    s->id_off = s->sec[SEC_IDS];
    s->id_sorted = s->id_off + (size_t)s->ndocs * 4;
    s->id_strings = s->id_sorted + (size_t)s->ndocs * 4;
    s->id_strings_len = len - (uint64_t)s->ndocs * 8;
    for (uint32_t i = 0; i < s->ndocs; i++) {
        uint32_t off = lede_get_u32(s->id_off + 4 * (size_t)i);
        const uint8_t *q = s->id_strings + off, *end = s->id_strings + s->id_strings_len;
        uint64_t n;
        if (off >= s->id_strings_len || lede_varint_get(&q, end, &n) || n > (uint64_t)(end - q) ||
            lede_get_u32(s->id_sorted + 4 * (size_t)i) >= s->ndocs)
            return seg_fail(err, s->path, "bad id index");
    }
    return LEDE_OK;
}

static int parse_dict(lede_segment *s, lede_err *err)
{
    uint64_t len = s->sec_len[SEC_DICT];
    const uint8_t *p = s->sec[SEC_DICT];
    if (len < 8)
        return seg_fail(err, s->path, "dictionary too short");
    s->npages = lede_get_u32(p + len - 8);
    if (lede_get_u32(p + len - 4) != s->nterms ||
        (uint64_t)s->npages * 4 + 8 > len ||
        s->npages != (s->nterms + PAGE_TERMS - 1) / PAGE_TERMS)
        return seg_fail(err, s->path, "bad dictionary page count");
    s->page_index = p + len - 8 - (size_t)s->npages * 4;
    uint64_t pages_len = (uint64_t)(s->page_index - p);
    uint32_t prev = 0;
    for (uint32_t i = 0; i < s->npages; i++) {
        uint32_t off = lede_get_u32(s->page_index + 4 * (size_t)i);
        if (off >= pages_len || (i > 0 && off <= prev) || (i == 0 && off != 0))
            return seg_fail(err, s->path, "bad dictionary page offset");
        prev = off;
    }
    return LEDE_OK;
}

int lede_segment_open(const char *path, lede_segment **out, lede_err *err)
{
    *out = NULL;
    lede_segment *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    }
    s->refs = 1;
    int rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) {
        rc = lede_err_set(err, LEDE_EIO, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        goto fail;
    }
    if ((uint64_t)st.st_size < HEADER_SIZE + FOOTER_SIZE) {
        close(fd);
        rc = seg_fail(err, path, "file too short (truncated?)");
        goto fail;
    }
    s->map_len = (size_t)st.st_size;
    s->map = mmap(NULL, s->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (s->map == MAP_FAILED) {
        s->map = NULL;
        rc = lede_err_set(err, LEDE_EIO, "%s: mmap: %s", path, strerror(errno));
        goto fail;
    }
    const uint8_t *m = s->map;
    const uint8_t *f = m + s->map_len - FOOTER_SIZE;
    if (memcmp(m, MAGIC_HEAD, 8) != 0 || memcmp(f + FOOTER_SIZE - 8, MAGIC_TAIL, 8) != 0) {
        rc = seg_fail(err, path, "not a lede segment (bad magic; truncated?)");
        goto fail;
    }
    if (lede_get_u32(m + 12) != 0) {
        rc = seg_fail(err, path, "bad header (reserved bytes are not zero)");
        goto fail;
    }
    if (lede_get_u32(m + 8) != LEDE_SEG_VERSION || lede_get_u32(f + SEC_COUNT * 20 + 8) != LEDE_SEG_VERSION) {
        rc = lede_err_set(err, LEDE_EVERSION, "%s: segment format version %u, this lede reads %u",
                          path, lede_get_u32(m + 8), LEDE_SEG_VERSION);
        goto fail;
    }
    if (lede_crc32c(0, f, SEC_COUNT * 20 + 12) != lede_get_u32(f + SEC_COUNT * 20 + 12)) {
        rc = seg_fail(err, path, "footer checksum mismatch");
        goto fail;
    }
    uint64_t expect = HEADER_SIZE;
    for (int i = 0; i < SEC_COUNT; i++) {
        uint64_t off = lede_get_u64(f + 20 * i), len = lede_get_u64(f + 20 * i + 8);
        if (off != expect || len > s->map_len - FOOTER_SIZE - off) {
            rc = seg_fail(err, path, "bad section table");
            goto fail;
        }
        s->sec[i] = m + off;
        s->sec_len[i] = len;
        expect = off + len;
        if (lede_crc32c(0, s->sec[i], len) != lede_get_u32(f + 20 * i + 16)) {
            char what[64];
            snprintf(what, sizeof what, "%s section checksum mismatch", section_names[i]);
            rc = seg_fail(err, path, what);
            goto fail;
        }
    }
    if (expect != s->map_len - FOOTER_SIZE) {
        rc = seg_fail(err, path, "bad section table");
        goto fail;
    }
    s->ndocs = lede_get_u32(f + SEC_COUNT * 20);
    s->nterms = lede_get_u32(f + SEC_COUNT * 20 + 4);
    if ((rc = parse_docs(s, err)) || (rc = parse_ids(s, err)) || (rc = parse_dict(s, err)))
        goto fail;
    if (lede_docstore_open(&s->store, s->sec[SEC_STORED], s->sec_len[SEC_STORED], s->ndocs)) {
        rc = seg_fail(err, path, "bad stored-fields index");
        goto fail;
    }
    *out = s;
    return LEDE_OK;
fail:
    lede_segment_unref(s);
    return rc;
}

/* Decodes one dictionary entry at *p (key assembled into key/key_len). */
static int read_entry(const uint8_t **p, const uint8_t *end, char *key, size_t *key_len,
                      lede_term_entry *e)
{
    uint64_t shared, n;
    if (lede_varint_get(p, end, &shared) || shared > *key_len || lede_varint_get(p, end, &n) ||
        n > (uint64_t)(end - *p) || shared + n >= MAX_KEY || shared + n == 0)
        return LEDE_ECORRUPT;
    memcpy(key + shared, *p, n);
    *p += n;
    *key_len = shared + n;
    uint64_t df, df_body;
    if (lede_varint_get(p, end, &df) || lede_varint_get(p, end, &df_body) ||
        lede_varint_get(p, end, &e->cf) || lede_varint_get(p, end, &e->post_off) ||
        lede_varint_get(p, end, &e->post_len) || lede_varint_get(p, end, &e->pos_off) ||
        lede_varint_get(p, end, &e->pos_len) || df > UINT32_MAX || df_body > df || df == 0)
        return LEDE_ECORRUPT;
    e->df = (uint32_t)df;
    e->df_body = (uint32_t)df_body;
    return LEDE_OK;
}

static const uint8_t *page_start(const lede_segment *s, uint32_t page)
{
    return s->sec[SEC_DICT] + lede_get_u32(s->page_index + 4 * (size_t)page);
}

static const uint8_t *page_end(const lede_segment *s, uint32_t page)
{
    return page + 1 < s->npages ? page_start(s, page + 1) : s->page_index;
}

/* The last page whose first key is <= key (0 if none). */
static uint32_t find_page(const lede_segment *s, const char *key, size_t len)
{
    uint32_t lo = 0, hi = s->npages;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        const uint8_t *p = page_start(s, mid), *end = page_end(s, mid);
        uint64_t shared, n;
        if (lede_varint_get(&p, end, &shared) || lede_varint_get(&p, end, &n) ||
            n > (uint64_t)(end - p))
            return lo; /* corrupt page: the scan will report it */
        if (key_cmp((const char *)p, n, key, len) <= 0)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

int lede_segment_lookup(const lede_segment *s, const char *key, size_t len, lede_term_entry *out)
{
    if (s->npages == 0)
        return LEDE_ENOTFOUND;
    uint32_t page = find_page(s, key, len);
    const uint8_t *p = page_start(s, page), *end = page_end(s, page);
    char cur[MAX_KEY];
    size_t cur_len = 0;
    while (p < end) {
        if (read_entry(&p, end, cur, &cur_len, out))
            return LEDE_ECORRUPT;
        int c = key_cmp(cur, cur_len, key, len);
        if (c == 0)
            return LEDE_OK;
        if (c > 0)
            break;
    }
    return LEDE_ENOTFOUND;
}

int lede_segment_scan(const lede_segment *s, const char *prefix, size_t len, lede_term_fn fn,
                      void *ctx)
{
    if (s->npages == 0)
        return 0;
    for (uint32_t page = find_page(s, prefix, len); page < s->npages; page++) {
        const uint8_t *p = page_start(s, page), *end = page_end(s, page);
        char cur[MAX_KEY];
        size_t cur_len = 0;
        lede_term_entry e;
        while (p < end) {
            if (read_entry(&p, end, cur, &cur_len, &e))
                return LEDE_ECORRUPT;
            int c = key_cmp(cur, cur_len < len ? cur_len : len, prefix, len);
            if (c < 0 || (c == 0 && cur_len < len))
                continue;
            if (c > 0)
                return 0;
            int r = fn(ctx, cur, cur_len, &e);
            if (r)
                return r;
        }
    }
    return 0;
}

void lede_dict_iter_init(lede_dict_iter *it, const lede_segment *s)
{
    it->seg = s;
    it->page = 0;
    it->p = it->end = NULL;
    it->key_len = 0;
}

int lede_dict_iter_next(lede_dict_iter *it)
{
    const lede_segment *s = it->seg;
    while (!it->p || it->p >= it->end) {
        uint32_t page = it->p ? it->page + 1 : 0;
        if (page >= s->npages)
            return LEDE_DONE;
        it->page = page;
        it->p = page_start(s, page);
        it->end = page_end(s, page);
        it->key_len = 0;
    }
    return read_entry(&it->p, it->end, it->key, &it->key_len, &it->e);
}

lede_str lede_segment_id(const lede_segment *s, uint32_t doc)
{
    lede_str out = {"", 0};
    if (doc >= s->ndocs)
        return out;
    const uint8_t *q = s->id_strings + lede_get_u32(s->id_off + 4 * (size_t)doc);
    uint64_t n;
    lede_varint_get(&q, s->id_strings + s->id_strings_len, &n); /* checked at open */
    out.ptr = (const char *)q;
    out.len = n;
    return out;
}

uint32_t lede_segment_find_id(const lede_segment *s, const char *id, size_t len)
{
    uint32_t lo = 0, hi = s->ndocs;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint32_t doc = lede_get_u32(s->id_sorted + 4 * (size_t)mid);
        lede_str cur = lede_segment_id(s, doc);
        int c = key_cmp(cur.ptr, cur.len, id, len);
        if (c == 0)
            return doc;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return LEDE_NO_DOC;
}

uint32_t lede_segment_source_ord(const lede_segment *s, const char *name)
{
    for (uint32_t i = 0; i < s->nsources; i++)
        if (strcasecmp(s->sources[i], name) == 0)
            return i + 1;
    return 0;
}

int lede_segment_verify(const lede_segment *s, lede_err *err)
{
    char cur[MAX_KEY], prev[MAX_KEY];
    size_t prev_len = 0;
    uint32_t count = 0;
    for (uint32_t page = 0; page < s->npages; page++) {
        const uint8_t *p = page_start(s, page), *end = page_end(s, page);
        size_t cur_len = 0;
        lede_term_entry e;
        while (p < end) {
            if (read_entry(&p, end, cur, &cur_len, &e))
                return seg_fail(err, s->path, "corrupt dictionary entry");
            if (count > 0 && key_cmp(prev, prev_len, cur, cur_len) >= 0)
                return seg_fail(err, s->path, "dictionary keys out of order");
            memcpy(prev, cur, cur_len);
            prev_len = cur_len;
            count++;
        }
    }
    if (count != s->nterms)
        return seg_fail(err, s->path, "dictionary term count disagrees");
    return LEDE_OK;
}
