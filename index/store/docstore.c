/* docstore.c: stored fields. Document records are appended to blocks of
 * about 4 KiB raw (a news article is about 6 KiB, so most fetches
 * decompress one article: 5% more stored bytes than 16 KiB blocks, 20% less
 * time per search reply with snippets), each compressed with zstd; fetching one document
 * decompresses one block.
 *
 * Stored section layout: the compressed blocks back to back, then the block
 * index (nblocks x (u64 offset of the block, u32 first docno)), then u32
 * nblocks. A record: a presence byte (bit i set = the field of ordinal i in
 * lede/schema.h present: id, title, body, source, date, url), then for each
 * present field, in that order, a varint length and its bytes. The encoder
 * and decoder are generated from the schema's list.
 *
 * Readers: lede_docstore_get fetches one record (random access, a
 * per-thread decompression context); lede_docstore_iter walks the records
 * of a range of blocks in docno order, each block decompressed once, for
 * whoever reads every stored document (merges, the checker, the
 * suggester). Both bounds-check every block and record. Calls base/ and
 * zstd. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "store/store.h"

#define BLOCK_RAW 4096
#define ZSTD_LEVEL 3
#define NFIELDS LEDE_NFIELDS

/* The record's field order is the schema's list, and a field's presence bit
 * is its ordinal: the two must agree, or records written before would be
 * misread. The presence byte has room for 8 fields. */
#define FIELD_POS(member, key, ord, flags) POS_##member,
enum { LEDE_SCHEMA_FIELDS(FIELD_POS) };
#define FIELD_ORD_IS_POS(member, key, ord, flags) \
    _Static_assert(POS_##member == (ord), "schema ordinal of " key " is not its place in the list");
LEDE_SCHEMA_FIELDS(FIELD_ORD_IS_POS)
_Static_assert(NFIELDS <= 8, "a record's presence byte holds 8 fields");
#define MAX_RAW_BLOCK (64u << 20)   /* a block larger than this is damage */

struct lede_docstore_writer {
    lede_buf raw;        /* records of the open block */
    lede_buf zbuf;       /* one compressed block */
    lede_buf index;
    uint64_t out_len;    /* bytes emitted so far */
    uint32_t ndocs, block_first, nblocks;
    lede_emit_fn emit;
    void *emit_ctx;
    ZSTD_CCtx *cctx;
    int rc;
};

lede_docstore_writer *lede_docstore_writer_new(lede_emit_fn emit, void *ctx)
{
    lede_docstore_writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->emit = emit;
    w->emit_ctx = ctx;
    w->cctx = ZSTD_createCCtx();
    if (!w->cctx) {
        free(w);
        return NULL;
    }
    return w;
}

void lede_docstore_writer_free(lede_docstore_writer *w)
{
    if (!w)
        return;
    lede_buf_free(&w->raw);
    lede_buf_free(&w->zbuf);
    lede_buf_free(&w->index);
    ZSTD_freeCCtx(w->cctx);
    free(w);
}

static int flush_block(lede_docstore_writer *w)
{
    if (w->raw.len == 0)
        return 0;
    size_t bound = ZSTD_compressBound(w->raw.len);
    lede_buf_put_u64(&w->index, w->out_len);
    lede_buf_put_u32(&w->index, w->block_first);
    w->zbuf.len = 0;
    lede_buf_reserve(&w->zbuf, bound);
    if (w->zbuf.rc || w->index.rc)
        return w->rc = LEDE_ENOMEM;
    size_t n = ZSTD_compressCCtx(w->cctx, w->zbuf.p, bound, w->raw.p, w->raw.len, ZSTD_LEVEL);
    if (ZSTD_isError(n))
        return w->rc = LEDE_ENOMEM;
    int rc = w->emit(w->emit_ctx, w->zbuf.p, n);
    if (rc)
        return w->rc = rc;
    w->out_len += n;
    w->raw.len = 0;
    w->nblocks++;
    w->block_first = w->ndocs;
    return 0;
}

int lede_docstore_add(lede_docstore_writer *w, const uint8_t *rec, size_t len)
{
    if (w->rc)
        return w->rc;
    lede_buf_put(&w->raw, rec, len);
    if (w->raw.rc)
        return w->rc = w->raw.rc;
    w->ndocs++;
    if (w->raw.len >= BLOCK_RAW)
        return flush_block(w);
    return 0;
}

int lede_docstore_finish(lede_docstore_writer *w)
{
    if (flush_block(w))
        return w->rc;
    lede_buf_put_u32(&w->index, w->nblocks);
    if (w->index.rc)
        return w->rc = LEDE_ENOMEM;
    int rc = w->emit(w->emit_ctx, w->index.p, w->index.len);
    return rc ? (w->rc = rc) : 0;
}

void lede_record_encode(const lede_doc *doc, lede_buf *out)
{
    uint8_t present = 0;
#define FIELD_PRESENT(member, key, ord, flags) \
    if (doc->member.ptr)                       \
        present |= (uint8_t)LEDE_SCHEMA_BIT(ord);
    LEDE_SCHEMA_FIELDS(FIELD_PRESENT)
#undef FIELD_PRESENT
    lede_buf_putc(out, present);
#define FIELD_PUT(member, key, ord, flags) \
    if (doc->member.ptr)                   \
        lede_buf_put_str(out, doc->member.ptr, doc->member.len);
    LEDE_SCHEMA_FIELDS(FIELD_PUT)
#undef FIELD_PUT
}

/* One field of a record: its varint length and bytes at *p, if its bit is
 * set in present. */
static int take_field(const uint8_t **p, const uint8_t *end, uint8_t present, int ord,
                      lede_str *field)
{
    if (!(present & LEDE_SCHEMA_BIT(ord)))
        return LEDE_OK;
    uint64_t n;
    if (lede_varint_get(p, end, &n) || n > (uint64_t)(end - *p))
        return LEDE_ECORRUPT;
    field->ptr = (const char *)*p;
    field->len = n;
    *p += n;
    return LEDE_OK;
}

int lede_record_decode(const uint8_t *p, size_t len, lede_doc *doc)
{
    const uint8_t *end = p + len;
    memset(doc, 0, sizeof *doc);
    if (p >= end)
        return LEDE_ECORRUPT;
    uint8_t present = *p++;
    if (present >> NFIELDS)
        return LEDE_ECORRUPT;
#define FIELD_TAKE(member, key, ord, flags)                    \
    if (take_field(&p, end, present, ord, &doc->member))       \
        return LEDE_ECORRUPT;
    LEDE_SCHEMA_FIELDS(FIELD_TAKE)
#undef FIELD_TAKE
    return p == end ? LEDE_OK : LEDE_ECORRUPT;
}

int lede_docstore_open(lede_docstore *ds, const uint8_t *base, size_t size, uint32_t ndocs)
{
    memset(ds, 0, sizeof *ds);
    if (size < 4)
        return LEDE_ECORRUPT;
    uint32_t nblocks = lede_get_u32(base + size - 4);
    if ((uint64_t)nblocks * 12 > size - 4 || (ndocs > 0 && nblocks == 0) || nblocks > ndocs)
        return LEDE_ECORRUPT;
    ds->base = base;
    ds->size = size - 4 - (size_t)nblocks * 12; /* bytes of compressed blocks */
    ds->nblocks = nblocks;
    ds->ndocs = ndocs;
    ds->index = base + ds->size;
    uint64_t prev_off = 0;
    uint32_t prev_first = 0;
    for (uint32_t b = 0; b < nblocks; b++) {
        uint64_t off = lede_get_u64(ds->index + 12 * (size_t)b);
        uint32_t first = lede_get_u32(ds->index + 12 * (size_t)b + 8);
        if (off > ds->size || (b == 0 && (off != 0 || first != 0)) ||
            (b > 0 && (off <= prev_off || first <= prev_first)) || first >= ndocs)
            return LEDE_ECORRUPT;
        prev_off = off;
        prev_first = first;
    }
    return LEDE_OK;
}

/* Length of the record at p (its presence byte and fields), or 0 if it is
 * malformed or overruns end. */
static size_t record_span(const uint8_t *p, const uint8_t *end)
{
    const uint8_t *q = p;
    if (q >= end)
        return 0;
    uint8_t present = *q++;
    if (present >> NFIELDS)
        return 0;
    for (int i = 0; i < NFIELDS; i++) {
        if (!(present & (1u << i)))
            continue;
        uint64_t n;
        if (lede_varint_get(&q, end, &n) || n > (uint64_t)(end - q))
            return 0;
        q += n;
    }
    return (size_t)(q - p);
}

/* Block b's docnos: [*first, *next_first). lede_docstore_open checked the
 * index, so b < nblocks is all a caller must ensure. */
static void block_docs(const lede_docstore *ds, uint32_t b, uint32_t *first, uint32_t *next_first)
{
    *first = lede_get_u32(ds->index + 12 * (size_t)b + 8);
    *next_first = b + 1 < ds->nblocks ? lede_get_u32(ds->index + 12 * (size_t)(b + 1) + 8)
                                      : ds->ndocs;
}

/* Decompresses block b into *raw (grown as needed; *cap its size); *got is
 * its raw length. */
static int load_block(const lede_docstore *ds, uint32_t b, ZSTD_DCtx *dctx, uint8_t **raw,
                      size_t *cap, size_t *got, lede_err *err)
{
    uint64_t off = lede_get_u64(ds->index + 12 * (size_t)b);
    uint64_t end = b + 1 < ds->nblocks ? lede_get_u64(ds->index + 12 * (size_t)(b + 1)) : ds->size;
    const uint8_t *src = ds->base + off;
    size_t src_len = (size_t)(end - off);
    unsigned long long raw_len = ZSTD_getFrameContentSize(src, src_len);
    if (raw_len == ZSTD_CONTENTSIZE_ERROR || raw_len == ZSTD_CONTENTSIZE_UNKNOWN ||
        raw_len > MAX_RAW_BLOCK)
        return lede_err_set(err, LEDE_ECORRUPT, "stored block %u is corrupt", b);
    if (raw_len > *cap) {
        size_t n = raw_len < BLOCK_RAW * 2 ? BLOCK_RAW * 2 : (size_t)raw_len;
        uint8_t *fresh = realloc(*raw, n);
        if (!fresh)
            return lede_err_set(err, LEDE_ENOMEM, "out of memory reading stored block");
        *raw = fresh;
        *cap = n;
    }
    size_t n = ZSTD_decompressDCtx(dctx, *raw, (size_t)raw_len, src, src_len);
    if (ZSTD_isError(n) || n != raw_len)
        return lede_err_set(err, LEDE_ECORRUPT, "stored block %u does not decompress", b);
    *got = n;
    return LEDE_OK;
}

/* Each thread keeps one decompression context and one block buffer:
 * creating a ZSTD_DCtx per fetch cost more than the decompression itself. */
typedef struct block_scratch {
    ZSTD_DCtx *dctx;
    uint8_t *raw;
    size_t cap;
} block_scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_destroy(void *p)
{
    block_scratch *bs = p;
    if (bs) {
        ZSTD_freeDCtx(bs->dctx);
        free(bs->raw);
        free(bs);
    }
}

static void scratch_init(void)
{
    pthread_key_create(&scratch_key, scratch_destroy);
}

static block_scratch *scratch(void)
{
    pthread_once(&scratch_once, scratch_init);
    block_scratch *bs = pthread_getspecific(scratch_key);
    if (bs)
        return bs;
    if (!(bs = calloc(1, sizeof *bs)) || !(bs->dctx = ZSTD_createDCtx())) {
        free(bs);
        return NULL;
    }
    pthread_setspecific(scratch_key, bs);
    return bs;
}

int lede_docstore_get(const lede_docstore *ds, uint32_t doc, lede_buf *out, lede_err *err)
{
    if (doc >= ds->ndocs)
        return lede_err_set(err, LEDE_ENOTFOUND, "document %u is not in this segment", doc);
    uint32_t lo = 0, hi = ds->nblocks;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (lede_get_u32(ds->index + 12 * (size_t)mid + 8) <= doc)
            lo = mid;
        else
            hi = mid;
    }
    uint32_t first, next_first;
    block_docs(ds, lo, &first, &next_first);
    block_scratch *bs = scratch();
    if (!bs)
        return lede_err_set(err, LEDE_ENOMEM, "out of memory reading stored block");
    size_t got;
    int rc = load_block(ds, lo, bs->dctx, &bs->raw, &bs->cap, &got, err);
    if (rc)
        return rc;
    /* Walk the records of the block up to doc. */
    const uint8_t *p = bs->raw, *e = bs->raw + got;
    for (uint32_t d = first; d < next_first; d++) {
        size_t n = record_span(p, e);
        if (n == 0)
            return lede_err_set(err, LEDE_ECORRUPT, "stored record %u is corrupt", d);
        if (d == doc) {
            out->len = 0;
            lede_buf_put(out, p, n);
            if (out->rc)
                return lede_err_set(err, out->rc, "out of memory copying stored document %u", doc);
            return 0;
        }
        p += n;
    }
    return lede_err_set(err, LEDE_ECORRUPT, "stored block %u lacks document %u", lo, doc);
}

/* ------------------------------------------------------------ iterator */

static bool skipped(const lede_docstore_iter *it, uint32_t d)
{
    return it->skip && (it->skip[d >> 3] >> (d & 7) & 1);
}

int lede_docstore_iter_init(lede_docstore_iter *it, const lede_docstore *ds, uint32_t from,
                            uint32_t to, const uint8_t *skip, lede_err *err)
{
    memset(it, 0, sizeof *it);
    it->ds = ds;
    it->skip = skip;
    it->blk = from < ds->nblocks ? from : ds->nblocks;
    it->end_blk = to < ds->nblocks ? to : ds->nblocks;
    if (!(it->dctx = ZSTD_createDCtx()))
        return lede_err_set(err, LEDE_ENOMEM, "out of memory reading stored documents");
    return LEDE_OK;
}

int lede_docstore_iter_next(lede_docstore_iter *it, uint32_t *doc, const uint8_t **rec,
                            size_t *len, lede_err *err)
{
    for (;;) {
        while (it->doc < it->block_end) {
            uint32_t d = it->doc++;
            size_t n = record_span(it->p, it->e);
            if (n == 0) {
                it->doc = it->block_end; /* the rest of this block is lost; go on after it */
                return lede_err_set(err, LEDE_ECORRUPT, "stored record %u is corrupt", d);
            }
            const uint8_t *r = it->p;
            it->p += n;
            if (it->doc == it->block_end && it->p != it->e)
                return lede_err_set(err, LEDE_ECORRUPT,
                                    "stored block %u has bytes after its last record",
                                    it->blk - 1);
            if (skipped(it, d))
                continue;
            *doc = d;
            *rec = r;
            *len = n;
            return LEDE_OK;
        }
        if (it->blk >= it->end_blk)
            return LEDE_DONE;
        uint32_t b = it->blk++, first, next_first;
        block_docs(it->ds, b, &first, &next_first);
        /* A block of skipped documents only is not decompressed. */
        uint32_t d = first;
        while (d < next_first && skipped(it, d))
            d++;
        it->doc = it->block_end = next_first;
        if (d == next_first)
            continue;
        size_t got;
        int rc = load_block(it->ds, b, it->dctx, &it->raw, &it->cap, &got, err);
        if (rc)
            return rc;
        it->doc = first;
        it->p = it->raw;
        it->e = it->raw + got;
    }
}

void lede_docstore_iter_free(lede_docstore_iter *it)
{
    if (!it)
        return;
    ZSTD_freeDCtx(it->dctx);
    free(it->raw);
    memset(it, 0, sizeof *it);
}
