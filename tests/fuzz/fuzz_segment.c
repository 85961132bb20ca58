/* fuzz_segment.c: the fuzz target for opening and reading a segment file
 * (lede_index_open and the decoders behind it: footer, dictionary pages,
 * postings and positions, the docs columns, the ids, the stored blocks).
 * Each input after its first byte is written as seg-00000000.lede in a
 * scratch index directory, with a MANIFEST naming it (document count taken
 * from the segment's footer); then the index is opened, searched (terms,
 * phrases, prefixes, fields, facets, groups, date order, explain), looked
 * up by the hits' ids and a fixed one, its suggester built and asked, and
 * lede_index_check run. All must end cleanly: any rc, but an error is
 * negative in rc and err with a one-line message, results are NULL on
 * error, and nothing crashes, hangs or trips a sanitizer.
 *
 * The first byte picks a mode: bit 0 set = recompute the section and
 * footer CRC-32C checksums before writing (as tests/corrupt/test_corrupt.c's
 * "flips with checksums recomputed"), so mutations get past the checksums
 * and reach the decoders; bit 1 = also write a deletion file marking
 * document 0 deleted. The seeds (tests/fuzz/corpus-segment/, written by
 * tests/fuzz/make_segment_corpus.py) are real segments built from
 * tests/data/seeds.jsonl and small crafted documents, with bit 0 set.
 * Built with libFuzzer (-Dfuzz=true, clang; tests/fuzz/run.sh) and, with
 * replay_main.c, as the plain 'fuzz-segment-replay' test.
 * LEDE_FUZZ_VERBOSE=1 prints what lede_index_open said of each input. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lede/index.h"
#include "lede/search.h"
#include "lede/suggest.h"
#include "testutil.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* The segment layout of docs/FORMAT.md. */
#define HEADER_SIZE 16
#define NSEC 6
#define FOOTER_SIZE (NSEC * 20 + 16 + 8)

static char *dir, *seg_path, *man_path, *del_path;

static void cleanup(void)
{
    if (dir)
        test_rmtree(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* tmpfs when there is one: every input writes three files. */
    if (!getenv("TMPDIR") && access("/dev/shm", W_OK) == 0)
        setenv("TMPDIR", "/dev/shm", 1);
    dir = test_tmpdir("fuzzseg");
    seg_path = test_path(dir, "seg-00000000.lede");
    man_path = test_path(dir, "MANIFEST");
    del_path = test_path(dir, "seg-00000000.1.del");
    atexit(cleanup);
    return 0;
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f)) {
        fprintf(stderr, "fuzz_segment: cannot write %s: %s\n", path, strerror(errno));
        abort();
    }
}

/* Rewrites the section and footer checksums when the section table lies
 * inside the file. */
static void fix_checksums(uint8_t *m, size_t size)
{
    if (size < HEADER_SIZE + FOOTER_SIZE)
        return;
    uint8_t *f = m + size - FOOTER_SIZE;
    for (int i = 0; i < NSEC; i++) {
        uint64_t off = test_get_u64(f + 20 * i), len = test_get_u64(f + 20 * i + 8);
        if (off <= size - FOOTER_SIZE && len <= size - FOOTER_SIZE - off)
            test_put_u32(f + 20 * i + 16, test_crc32c(m + off, (size_t)len));
    }
    test_put_u32(f + NSEC * 20 + 12, test_crc32c(f, NSEC * 20 + 12));
}

static void write_index(const uint8_t *seg, size_t size, int with_del)
{
    uint32_t ndocs = size >= FOOTER_SIZE ? test_get_u32(seg + size - FOOTER_SIZE + NSEC * 20) : 0;
    write_file(seg_path, seg, size);
    char text[512];
    int n = snprintf(text, sizeof text,
                     "lede-manifest 1\ngeneration 1\nnext-segment 1\n"
                     "analyzer stem=1 stopwords=0\nsegment seg-00000000.lede %u %s\n",
                     ndocs, with_del && ndocs ? "seg-00000000.1.del" : "-");
    n += snprintf(text + n, sizeof text - (size_t)n, "crc32c %08x\n",
                  test_crc32c((const uint8_t *)text, (size_t)n));
    write_file(man_path, text, (size_t)n);
    unlink(del_path);
    if (with_del && ndocs && ndocs <= 1u << 20) {
        size_t bytes = (ndocs + 7) / 8, len = 8 + 4 + bytes + 4;
        uint8_t *d = calloc(1, len);
        if (!d)
            abort();
        memcpy(d, "LEDEDEL", 8);
        test_put_u32(d + 8, ndocs);
        d[12] = 1;
        test_put_u32(d + 12 + bytes, test_crc32c(d, 12 + bytes));
        write_file(del_path, d, len);
        free(d);
    }
}

__attribute__((format(printf, 1, 2), noreturn)) static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz_segment: invariant violated: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

static void check_err(const char *what, int rc, const lede_err *err)
{
    if (rc >= 0 || err->rc != rc || !err->msg[0] || strchr(err->msg, '\n'))
        fail("%s: rc %d, err.rc %d, message \"%s\"", what, rc, err->rc, err->msg);
}

typedef struct query {
    const char *q;
    int facets, group, sort_date, explain, exhaustive;
} query;

static const query QUERIES[] = {
    {"social media", 0, 0, 0, 1, 0},
    {"\"social media\" presid*", 0, 0, 0, 0, 1},
    {"title:fines OR body:terrorist -football", 1, 0, 0, 0, 0},
    {"macron may", 0, 2, 0, 0, 0},
    {"date>=2017-06-01 +media", 0, 0, 1, 1, 0},
    {"source:Reuters a*", 1, 0, 0, 0, 0},
};

static void get(lede_index *ix, const char *id, size_t len)
{
    lede_stored d;
    lede_err err;
    lede_err_clear(&err);
    int rc = lede_index_get(ix, id, len, &d, &err);
    if (rc == 0)
        lede_stored_free(&d);
    else
        check_err("lede_index_get", rc, &err);
}

static void exercise(lede_index *ix)
{
    for (size_t i = 0; i < sizeof QUERIES / sizeof QUERIES[0]; i++) {
        lede_search_opts so = {0};
        so.query = QUERIES[i].q;
        so.facets = QUERIES[i].facets;
        so.facet_docs = 2;
        so.group_hits = (uint32_t)QUERIES[i].group;
        so.sort = QUERIES[i].sort_date ? LEDE_SORT_DATE : LEDE_SORT_RELEVANCE;
        so.explain = QUERIES[i].explain;
        so.exhaustive = QUERIES[i].exhaustive;
        so.with_body = 1;
        lede_results *res = (lede_results *)&so;
        lede_err err;
        lede_err_clear(&err);
        int rc = lede_search(ix, &so, &res, &err);
        if (rc) {
            check_err(so.query, rc, &err);
            if (res)
                fail("%s: results left set on an error", so.query);
            continue;
        }
        if (res->nhits > 10)
            fail("%s: %u hits, k is 10", so.query, res->nhits);
        for (uint32_t h = 0; h < res->nhits && h < 3; h++)
            if (res->hits[h].doc.id.ptr)
                get(ix, res->hits[h].doc.id.ptr, res->hits[h].doc.id.len);
        lede_results_free(res);
    }
    get(ix, "001_323ec14388e56bcd", 20);
    lede_index_stats st;
    lede_err err;
    lede_err_clear(&err);
    int rc = lede_index_stats_get(ix, &st, &err);
    if (rc)
        check_err("stats", rc, &err);
    lede_suggester *sg = NULL;
    lede_err_clear(&err);
    rc = lede_suggester_build(ix, &sg, &err);
    if (rc) {
        check_err("lede_suggester_build", rc, &err);
        return;
    }
    static const char *const typed[] = {"so", "m", "pres"};
    for (size_t i = 0; i < 3; i++) {
        lede_suggestions *s = NULL;
        lede_err_clear(&err);
        rc = lede_suggest(sg, typed[i], strlen(typed[i]), 5, &s, &err);
        if (rc)
            check_err("lede_suggest", rc, &err);
        lede_suggestions_free(s);
    }
    lede_suggester_free(sg);
}

static void ignore_line(void *ctx, const char *line)
{
    (void)ctx;
    if (!line || !line[0])
        fail("lede_index_check reported an empty line");
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (!dir)
        LLVMFuzzerInitialize(NULL, NULL);
    if (size < 1)
        return 0;
    int mode = data[0];
    data++, size--;
    uint8_t *seg = malloc(size ? size : 1);
    if (!seg)
        abort();
    memcpy(seg, data, size);
    if (mode & 1)
        fix_checksums(seg, size);
    write_index(seg, size, mode & 2);
    free(seg);

    lede_index *ix = (lede_index *)&mode;
    lede_err err;
    lede_err_clear(&err);
    int rc = lede_index_open(dir, &ix, &err);
    if (getenv("LEDE_FUZZ_VERBOSE"))
        fprintf(stderr, "  open: %s %s\n", lede_rc_name(rc), err.msg);
    if (rc) {
        check_err("lede_index_open", rc, &err);
        if (ix)
            fail("lede_index_open left the index set on an error");
    } else {
        exercise(ix);
        lede_index_free(ix);
    }
    lede_err_clear(&err);
    rc = lede_index_check(dir, ignore_line, NULL, &err);
    if (rc)
        check_err("lede_index_check", rc, &err);
    return 0;
}
