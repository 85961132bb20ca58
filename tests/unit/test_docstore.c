/* test_docstore.c: stored fields of index/store/docstore.c: a store of
 * many blocks written and read back through lede_docstore_iter (every
 * record, in docno order, equal to lede_docstore_get's), block ranges, the
 * skip bitmap (a skipped block is not even decompressed), and damage: a
 * block that does not decompress, a malformed record and bytes after a
 * block's last record are clean LEDE_ECORRUPT errors after which the walk
 * goes on, and every byte flip of a block is survived. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "tap.h"

#define NDOCS 3000

static int emit(void *ctx, const void *data, size_t n)
{
    lede_buf *b = ctx;
    lede_buf_put(b, data, n);
    return b->rc;
}

/* Document d's fields: sizes vary so blocks hold one to many records. */
static void make_doc(uint32_t d, lede_doc *doc, char *id, char *title, char *body)
{
    memset(doc, 0, sizeof *doc);
    int n = snprintf(id, 32, "doc-%u", d);
    doc->id = (lede_str){id, (size_t)n};
    if (d % 7) {
        n = snprintf(title, 64, "Title %u", d);
        doc->title = (lede_str){title, (size_t)n};
    }
    size_t len = (d * 2654435761u) % 9000;
    for (size_t i = 0; i < len; i++)
        body[i] = (char)('a' + (d + i * 7) % 26);
    doc->body = (lede_str){body, len};
}

/* Writes the store of NDOCS documents into out. */
static void build(lede_buf *out)
{
    lede_docstore_writer *w = lede_docstore_writer_new(emit, out);
    CHECK(w != NULL);
    lede_buf rec = {0};
    static char id[32], title[64], body[9000];
    for (uint32_t d = 0; d < NDOCS; d++) {
        lede_doc doc;
        make_doc(d, &doc, id, title, body);
        rec.len = 0;
        lede_record_encode(&doc, &rec);
        CHECK_EQ_INT(lede_docstore_add(w, rec.p, rec.len), LEDE_OK);
    }
    CHECK_EQ_INT(lede_docstore_finish(w), LEDE_OK);
    lede_docstore_writer_free(w);
    lede_docstore_writer_free(NULL);
    lede_buf_free(&rec);
}

/* Walks it to the end; counts records and errors, and checks each record
 * against its document unless the block was damaged on purpose (blocks have
 * no checksum of their own: the segment's checksums find such damage). */
static void walk_as(lede_docstore_iter *it, int damaged, uint32_t *nrec, uint32_t *nerr,
                    uint32_t *last)
{
    static char id[32], title[64], body[9000];
    uint32_t d, prev = UINT32_MAX;
    const uint8_t *rec;
    size_t len;
    int rc, bad = 0;
    lede_err err;
    lede_err_clear(&err);
    *nrec = *nerr = 0;
    while ((rc = lede_docstore_iter_next(it, &d, &rec, &len, &err)) != LEDE_DONE) {
        if (rc) {
            CHECK_EQ_INT(rc, LEDE_ECORRUPT);
            CHECK(err.msg[0] != '\0');
            (*nerr)++;
            if (*nerr > NDOCS)
                break;   /* never endless */
            continue;
        }
        lede_doc got, want;
        make_doc(d, &want, id, title, body);
        bad += d >= NDOCS;
        if (!damaged)
            bad += lede_record_decode(rec, len, &got) != LEDE_OK || got.id.len != want.id.len ||
               memcmp(got.id.ptr, want.id.ptr, want.id.len) || got.body.len != want.body.len ||
               memcmp(got.body.ptr, want.body.ptr, want.body.len) ||
               (got.title.ptr == NULL) != (want.title.ptr == NULL);
        bad += prev != UINT32_MAX && d <= prev;
        prev = d;
        (*nrec)++;
    }
    CHECK_EQ_INT(bad, 0);
    *last = prev;
}

static void walk(lede_docstore_iter *it, uint32_t *nrec, uint32_t *nerr, uint32_t *last)
{
    walk_as(it, 0, nrec, nerr, last);
}

static void test_round_trip(const lede_docstore *ds)
{
    CHECK(ds->nblocks > 100);
    lede_docstore_iter it;
    uint32_t n, nerr, last;
    CHECK_EQ_INT(lede_docstore_iter_init(&it, ds, 0, UINT32_MAX, NULL, NULL), LEDE_OK);
    walk(&it, &n, &nerr, &last);
    CHECK_EQ_INT(n, NDOCS);
    CHECK_EQ_INT(nerr, 0);
    CHECK_EQ_INT(last, NDOCS - 1);
    /* LEDE_DONE again after the end. */
    uint32_t d;
    const uint8_t *rec;
    size_t len;
    CHECK_EQ_INT(lede_docstore_iter_next(&it, &d, &rec, &len, NULL), LEDE_DONE);
    lede_docstore_iter_free(&it);
    lede_docstore_iter_free(&it);
    lede_docstore_iter_free(NULL);

    /* The iterator's records are the ones lede_docstore_get fetches. */
    CHECK_EQ_INT(lede_docstore_iter_init(&it, ds, 0, UINT32_MAX, NULL, NULL), LEDE_OK);
    lede_buf one = {0};
    int bad = 0;
    while (lede_docstore_iter_next(&it, &d, &rec, &len, NULL) == LEDE_OK) {
        bad += lede_docstore_get(ds, d, &one, NULL) != LEDE_OK;
        bad += one.len != len || memcmp(one.p, rec, len) != 0;
    }
    CHECK_EQ_INT(bad, 0);
    lede_buf_free(&one);
    lede_docstore_iter_free(&it);

    /* Ranges of blocks partition the records. */
    uint32_t total = 0, cut = ds->nblocks / 3;
    uint32_t ranges[3][2] = {{0, cut}, {cut, cut + 1}, {cut + 1, ds->nblocks + 5}};
    for (int r = 0; r < 3; r++) {
        CHECK_EQ_INT(lede_docstore_iter_init(&it, ds, ranges[r][0], ranges[r][1], NULL, NULL),
                     LEDE_OK);
        walk(&it, &n, &nerr, &last);
        total += n;
        CHECK(n > 0);
        lede_docstore_iter_free(&it);
    }
    CHECK_EQ_INT(total, NDOCS);
    CHECK_EQ_INT(lede_docstore_iter_init(&it, ds, 7, 7, NULL, NULL), LEDE_OK);
    CHECK_EQ_INT(lede_docstore_iter_next(&it, &d, &rec, &len, NULL), LEDE_DONE);
    lede_docstore_iter_free(&it);
}

/* The first docno of block b and the first after it. */
static void block_range(const lede_docstore *ds, uint32_t b, uint32_t *first, uint32_t *end)
{
    *first = lede_get_u32(ds->index + 12 * (size_t)b + 8);
    *end = b + 1 < ds->nblocks ? lede_get_u32(ds->index + 12 * (size_t)(b + 1) + 8) : ds->ndocs;
}

static const uint8_t *block_bytes(const lede_docstore *ds, uint32_t b, size_t *n)
{
    uint64_t off = lede_get_u64(ds->index + 12 * (size_t)b);
    uint64_t end = b + 1 < ds->nblocks ? lede_get_u64(ds->index + 12 * (size_t)(b + 1)) : ds->size;
    *n = (size_t)(end - off);
    return ds->base + off;
}

static void test_skip_and_damage(const lede_buf *file)
{
    uint8_t *copy = malloc(file->len);
    memcpy(copy, file->p, file->len);
    lede_docstore ds;
    CHECK_EQ_INT(lede_docstore_open(&ds, copy, file->len, NDOCS), LEDE_OK);
    uint32_t b = ds.nblocks / 2, first, end;
    block_range(&ds, b, &first, &end);
    size_t blen;
    uint8_t *blk = (uint8_t *)block_bytes(&ds, b, &blen);
    /* Damage block b's frame header: it cannot be decompressed. */
    memset(blk, 0xEE, 4);
    lede_docstore_iter it;
    uint32_t n, nerr, last;
    CHECK_EQ_INT(lede_docstore_iter_init(&it, &ds, 0, UINT32_MAX, NULL, NULL), LEDE_OK);
    walk(&it, &n, &nerr, &last);
    CHECK_EQ_INT(nerr, 1);
    CHECK_EQ_INT(n, NDOCS - (end - first));   /* the walk went on after the damage */
    CHECK_EQ_INT(last, NDOCS - 1);
    lede_docstore_iter_free(&it);

    /* Skipping every document of the damaged block skips the block: no error. */
    uint8_t *skip = calloc(NDOCS / 8 + 1, 1);
    for (uint32_t d = first; d < end; d++)
        skip[d >> 3] |= (uint8_t)(1u << (d & 7));
    for (uint32_t d = 0; d < NDOCS; d += 3)
        skip[d >> 3] |= (uint8_t)(1u << (d & 7));
    uint32_t want = 0;
    for (uint32_t d = 0; d < NDOCS; d++)
        want += !(skip[d >> 3] >> (d & 7) & 1);
    CHECK_EQ_INT(lede_docstore_iter_init(&it, &ds, 0, UINT32_MAX, skip, NULL), LEDE_OK);
    walk(&it, &n, &nerr, &last);
    CHECK_EQ_INT(nerr, 0);
    CHECK_EQ_INT(n, want);
    lede_docstore_iter_free(&it);
    free(skip);

    /* Every byte of a block flipped in turn: records or clean errors, never a
     * crash (ASan checks the reads), and always the end of the walk. */
    memcpy(copy, file->p, file->len);
    b = ds.nblocks / 3;
    blk = (uint8_t *)block_bytes(&ds, b, &blen);
    uint32_t flips = 0;
    for (size_t i = 0; i < blen; i++) {
        blk[i] ^= 0x5A;
        CHECK_EQ_INT(lede_docstore_iter_init(&it, &ds, b, b + 2, NULL, NULL), LEDE_OK);
        walk_as(&it, 1, &n, &nerr, &last);
        flips += nerr > 0;
        lede_docstore_iter_free(&it);
        blk[i] ^= 0x5A;
    }
    CHECK(flips > 0);
    free(copy);
}

/* Records that do not parse, or a block with bytes after its last record,
 * are errors too. */
static void test_bad_records(void)
{
    static const uint8_t good[] = {0x01, 0x02, 'i', 'd'};           /* id "id" */
    static const uint8_t overrun[] = {0x01, 0x09, 'i', 'd'};        /* length past the end */
    static const uint8_t two[] = {0x01, 0x02, 'i', 'd', 0x00};      /* one add, two records */
    const struct {
        const uint8_t *rec;
        size_t len;
    } cases[] = {{overrun, sizeof overrun}, {two, sizeof two}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        lede_buf out = {0};
        lede_docstore_writer *w = lede_docstore_writer_new(emit, &out);
        CHECK_EQ_INT(lede_docstore_add(w, good, sizeof good), LEDE_OK);
        CHECK_EQ_INT(lede_docstore_add(w, cases[c].rec, cases[c].len), LEDE_OK);
        CHECK_EQ_INT(lede_docstore_finish(w), LEDE_OK);
        lede_docstore_writer_free(w);
        lede_docstore ds;
        CHECK_EQ_INT(lede_docstore_open(&ds, out.p, out.len, 2), LEDE_OK);
        lede_docstore_iter it;
        lede_err err;
        lede_err_clear(&err);
        uint32_t d;
        const uint8_t *rec;
        size_t len;
        CHECK_EQ_INT(lede_docstore_iter_init(&it, &ds, 0, UINT32_MAX, NULL, &err), LEDE_OK);
        CHECK_EQ_INT(lede_docstore_iter_next(&it, &d, &rec, &len, &err), LEDE_OK);
        CHECK_EQ_INT(d, 0);
        CHECK_EQ_INT(lede_docstore_iter_next(&it, &d, &rec, &len, &err), LEDE_ECORRUPT);
        CHECK(strstr(err.msg, c == 0 ? "record 1 is corrupt" : "after its last record") != NULL);
        CHECK_EQ_INT(lede_docstore_iter_next(&it, &d, &rec, &len, &err), LEDE_DONE);
        lede_docstore_iter_free(&it);
        lede_buf_free(&out);
    }
}

int main(void)
{
    lede_buf file = {0};
    build(&file);
    CHECK_EQ_INT(file.rc, 0);
    lede_docstore ds;
    CHECK_EQ_INT(lede_docstore_open(&ds, file.p, file.len, NDOCS), LEDE_OK);
    test_round_trip(&ds);
    test_skip_and_damage(&file);
    test_bad_records();
    lede_buf_free(&file);
    return tap_done();
}
