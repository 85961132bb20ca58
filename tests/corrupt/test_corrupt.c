/* test_corrupt.c: lede against damaged index files. It builds an index of
 * the seed corpus with the public writer (plus one deletion, so there is a
 * deletion file), then damages its files one way at a time and, for every
 * damaged state, requires a clean outcome: lede_index_open fails with
 * rc < 0 and a message, or it opens and then searches, lookups, stats and
 * lede_index_check all return (results or clean errors). Never a crash, a
 * hang or a sanitizer report.
 *
 * Damage, restored after every trial:
 *   - the segment file truncated at every length from 0 to size-1, and every
 *     byte flipped (xor 0xff, xor 0x01). Every section is checksummed, so
 *     each of these must be detected by open or check.
 *   - "structural" flips: a byte flipped inside a section and the section
 *     and footer checksums recomputed, so the damage gets past the checksums
 *     and reaches the decoders (a deterministic spread over every section);
 *     also the footer's section table and counts rewritten. Only a clean
 *     outcome is required here.
 *   - MANIFEST truncated at every length and every byte flipped: it is
 *     checksummed, so either open fails or the index answers exactly as
 *     before.
 *   - the deletion file truncated and flipped: must be detected.
 *   - missing files, a manifest with the wrong document count, garbage
 *     files, odd names.
 * Usage: test_corrupt [SEEDS.jsonl] (default tests/data/seeds.jsonl, or
 * data/seeds.jsonl from the tests directory). */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lede/index.h"
#include "lede/ingest.h"
#include "lede/lede.h"
#include "lede/search.h"
#include "tap.h"
#include "testutil.h"

/* ------------------------------------------------------------ helpers */

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "test_corrupt: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(99);
}

static char *path_of(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (!p)
        die("out of memory");
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("%s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
        die("%s: cannot read", path);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void write_all(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        die("%s: %s", path, strerror(errno));
    const uint8_t *p = data;
    while (len) {
        ssize_t k = write(fd, p, len);
        if (k <= 0)
            die("%s: write: %s", path, strerror(errno));
        p += k;
        len -= (size_t)k;
    }
    close(fd);
}

static void pwrite_all(const char *path, const void *data, size_t len, size_t off)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        die("%s: %s", path, strerror(errno));
    if (len && pwrite(fd, data, len, (off_t)off) != (ssize_t)len)
        die("%s: pwrite: %s", path, strerror(errno));
    close(fd);
}

static void truncate_to(const char *path, size_t len)
{
    if (truncate(path, (off_t)len))
        die("%s: truncate: %s", path, strerror(errno));
}

static void rm_rf(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *p = path_of(dir, e->d_name);
        struct stat st;
        if (!lstat(p, &st) && S_ISDIR(st.st_mode))
            rm_rf(p);
        else
            unlink(p);
        free(p);
    }
    closedir(d);
    rmdir(dir);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ building */

typedef struct add_ctx {
    lede_writer *w;
    lede_err *err;
} add_ctx;

static int add_doc(void *ctx, const lede_doc *doc)
{
    add_ctx *a = ctx;
    return lede_writer_add(a->w, doc, a->err);
}

static void build_index(const char *dir, const char *seeds)
{
    lede_err err;
    lede_err_clear(&err);
    lede_writer *w;
    if (lede_writer_open(dir, NULL, 1, &w, &err))
        die("writer_open: %s", err.msg);
    add_ctx a = {w, &err};
    lede_ingest_opts io = {0};
    const char *paths[] = {seeds};
    if (lede_ingest_paths(paths, 1, &io, add_doc, &a, NULL, &err) || lede_writer_commit(w, &err))
        die("build: %s", err.msg);
    lede_writer_free(w);
}

static void delete_doc(const char *dir, const char *id)
{
    lede_err err;
    lede_err_clear(&err);
    lede_writer *w;
    int found = 0;
    if (lede_writer_open(dir, NULL, 0, &w, &err) ||
        lede_writer_delete(w, id, strlen(id), &found, &err) || lede_writer_commit(w, &err))
        die("delete: %s", err.msg);
    if (!found)
        die("delete: %s not found", id);
    lede_writer_free(w);
}

/* ------------------------------------------------------------ probing */

typedef struct qspec {
    const char *q;
    int exhaustive, plain, explain, ids_only;
    uint32_t k, offset;
} qspec;

static const qspec queries[] = {
    {"\"social media\"", 0, 0, 0, 0, 0, 0},
    {"\"theresa may\" macron", 1, 0, 1, 0, 0, 0},
    {"presid*", 0, 0, 0, 0, 0, 0},
    {"extrem* +content", 0, 0, 1, 0, 3, 1},
    {"macron", 0, 0, 0, 1, 0, 0},
    {"facebook twitter google internet", 0, 0, 0, 0, 2, 0},
    {"facebook twitter google internet", 1, 0, 0, 0, 2, 0},
    {"title:fines OR body:terrorist", 0, 0, 0, 0, 0, 0},
    {"source:\"ITV News\" media", 0, 0, 0, 0, 0, 0},
    {"date>=2017-06-01 extremist", 0, 0, 0, 0, 0, 0},
    {"date:2017-06 -facebook", 0, 0, 0, 0, 0, 0},
    {"-zzzunknown", 0, 0, 0, 0, 0, 0},
    {"(france AND uk) NOT football", 0, 0, 0, 0, 0, 0},
    {"May and Macron's plans", 0, 1, 0, 0, 0, 0},
};
#define NQUERIES (sizeof queries / sizeof *queries)

/* Appends to a signature string (bounded). */
typedef struct sig {
    char s[16384];
    size_t n;
} sig;

static void sig_add(sig *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sig_add(sig *g, const char *fmt, ...)
{
    if (g->n >= sizeof g->s - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(g->s + g->n, sizeof g->s - g->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        g->n += (size_t)k < sizeof g->s - g->n ? (size_t)k : sizeof g->s - 1 - g->n;
}

static int clean_err(int rc, const lede_err *err)
{
    return rc < 0 && err->rc < 0 && err->msg[0] != '\0' && strchr(err->msg, '\n') == NULL;
}

static int dirty_failures;   /* unclean errors seen (printed at most a few times) */

static void unclean(const char *ctx, const char *what, int rc, const lede_err *err)
{
    dirty_failures++;
    if (dirty_failures <= 20)
        fprintf(stderr, "  unclean error [%s] %s: rc=%d err.rc=%d msg=\"%s\"\n", ctx, what, rc,
                err->rc, err->msg);
}

/* Runs the queries, a lookup and stats on an open index; fills g with what
 * they returned. Returns the number of calls that failed (cleanly). */
static int exercise(lede_index *ix, sig *g, const char *ctx)
{
    int failed = 0;
    for (size_t i = 0; i < NQUERIES; i++) {
        lede_search_opts so = {0};
        so.query = queries[i].q;
        so.exhaustive = queries[i].exhaustive;
        so.plain = queries[i].plain;
        so.explain = queries[i].explain;
        so.ids_only = queries[i].ids_only;
        so.k = queries[i].k;
        so.offset = queries[i].offset;
        lede_err err;
        lede_err_clear(&err);
        lede_results *res = NULL;
        int rc = lede_search(ix, &so, &res, &err);
        if (rc) {
            failed++;
            if (!clean_err(rc, &err))
                unclean(ctx, queries[i].q, rc, &err);
            CHECK(res == NULL);
            sig_add(g, "q%zu:error;", i);
            continue;
        }
        sig_add(g, "q%zu:%llu:", i, (unsigned long long)res->total);
        for (uint32_t h = 0; h < res->nhits; h++) {
            const lede_hit *hit = &res->hits[h];
            sig_add(g, "%.*s=%.9g,", (int)hit->doc.id.len, hit->doc.id.ptr ? hit->doc.id.ptr : "",
                    hit->score);
            if (hit->explain)
                sig_add(g, "[%llu %u %u]", (unsigned long long)hit->explain->N,
                        hit->explain->doc_len, hit->explain->nterms);
        }
        sig_add(g, ";");
        lede_results_free(res);
    }
    static const char *const ids[] = {"001_323ec14388e56bcd", "004_9275b583300badea",
                                      "003_3d7c43c390a1a416", "nope"};
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        lede_err err;
        lede_err_clear(&err);
        lede_stored doc;
        memset(&doc, 0, sizeof doc);
        int rc = lede_index_get(ix, ids[i], strlen(ids[i]), &doc, &err);
        if (rc == 0) {
            sig_add(g, "get%zu:%zu/%zu/%zu;", i, doc.title.len, doc.body.len, doc.source.len);
            lede_stored_free(&doc);
        } else {
            if (rc != LEDE_ENOTFOUND)
                failed++;
            if (rc >= 0 || (rc != LEDE_ENOTFOUND && !clean_err(rc, &err)))
                unclean(ctx, ids[i], rc, &err);
            sig_add(g, "get%zu:%d;", i, rc);
        }
    }
    lede_index_stats st;
    lede_err err;
    lede_err_clear(&err);
    int rc = lede_index_stats_get(ix, &st, &err);
    if (rc == 0)
        sig_add(g, "stats:%llu/%llu/%llu/%llu;", (unsigned long long)st.documents,
                (unsigned long long)st.deleted, (unsigned long long)st.terms,
                (unsigned long long)st.segments);
    else if (!clean_err(rc, &err))
        unclean(ctx, "stats", rc, &err);
    return failed;
}

static void count_line(void *ctx, const char *line)
{
    int *n = ctx;
    (*n)++;
    CHECK(line != NULL && line[0] != '\0');
}

enum { OUT_OPEN_FAILED, OUT_CHECK_FAILED, OUT_UNDETECTED };

typedef struct outcome {
    int kind;
    int search_failures;
    sig g;
    char msg[512];
} outcome;

static outcome out_buf;

/* Opens the damaged index, exercises it, and runs the checker. */
static const outcome *probe(const char *dir, const char *ctx)
{
    outcome *o = &out_buf;
    o->g.n = 0;
    o->g.s[0] = '\0';
    o->search_failures = 0;
    o->msg[0] = '\0';
    lede_err err;
    lede_err_clear(&err);
    lede_index *ix = (lede_index *)&err; /* must be reset by open */
    int rc = lede_index_open(dir, &ix, &err);
    if (rc) {
        if (!clean_err(rc, &err))
            unclean(ctx, "open", rc, &err);
        CHECK(ix == NULL);
        o->kind = OUT_OPEN_FAILED;
        snprintf(o->msg, sizeof o->msg, "%s", err.msg);
        return o;
    }
    o->search_failures = exercise(ix, &o->g, ctx);
    lede_index_free(ix);
    lede_err_clear(&err);
    int lines = 0;
    rc = lede_index_check(dir, count_line, &lines, &err);
    if (rc) {
        if (!clean_err(rc, &err))
            unclean(ctx, "check", rc, &err);
        if (lines == 0) {
            dirty_failures++;
            fprintf(stderr, "  check failed without reporting a fault [%s]: %s\n", ctx, err.msg);
        }
        o->kind = OUT_CHECK_FAILED;
        snprintf(o->msg, sizeof o->msg, "%s", err.msg);
    } else {
        if (lines != 0) {
            dirty_failures++;
            fprintf(stderr, "  check passed but reported %d fault lines [%s]\n", lines, ctx);
        }
        o->kind = OUT_UNDETECTED;
    }
    return o;
}

/* ------------------------------------------------------------ segment layout */

#define HEADER_SIZE 16
#define NSEC 6
#define FOOTER_SIZE (NSEC * 20 + 16 + 8)
static const char *const sec_names[NSEC] = {"postings", "positions", "dictionary",
                                            "docs", "ids", "stored"};

typedef struct layout {
    size_t off[NSEC], len[NSEC];
    size_t footer;
} layout;

static void parse_layout(const uint8_t *m, size_t size, layout *L)
{
    if (size < HEADER_SIZE + FOOTER_SIZE || memcmp(m, "LEDESEG", 8) ||
        memcmp(m + size - 8, "LEDEEND", 8))
        die("segment does not have the expected layout");
    L->footer = size - FOOTER_SIZE;
    for (int i = 0; i < NSEC; i++) {
        L->off[i] = (size_t)test_get_u64(m + L->footer + 20 * i);
        L->len[i] = (size_t)test_get_u64(m + L->footer + 20 * i + 8);
        if (L->off[i] + L->len[i] > L->footer)
            die("segment section table unexpected");
    }
}

static const char *region_of(const layout *L, size_t pos)
{
    if (pos < HEADER_SIZE)
        return "header";
    for (int i = 0; i < NSEC; i++)
        if (pos >= L->off[i] && pos < L->off[i] + L->len[i])
            return sec_names[i];
    if (pos >= L->footer)
        return "footer";
    return "gap";
}

/* Rewrites section checksums and the footer checksum of a segment image. */
static void fix_checksums(uint8_t *m, const layout *L)
{
    uint8_t *f = m + L->footer;
    for (int i = 0; i < NSEC; i++)
        test_put_u32(f + 20 * i + 16, test_crc32c(m + L->off[i], L->len[i]));
    test_put_u32(f + NSEC * 20 + 12, test_crc32c(f, NSEC * 20 + 12));
}

/* ------------------------------------------------------------ tallies */

typedef struct tally {
    const char *name;
    long trials, open_failed, check_failed, undetected, wrong;
    int printed;
} tally;

static void tally_add(tally *t, const outcome *o, int must_detect, const sig *baseline,
                      const char *what)
{
    t->trials++;
    if (o->kind == OUT_OPEN_FAILED)
        t->open_failed++;
    else if (o->kind == OUT_CHECK_FAILED)
        t->check_failed++;
    else {
        t->undetected++;
        if (must_detect && t->printed++ < 12)
            fprintf(stderr, "  UNDETECTED [%s] %s\n", t->name, what);
        if (baseline && strcmp(o->g.s, baseline->s)) {
            t->wrong++;
            if (t->printed++ < 12)
                fprintf(stderr, "  WRONG ANSWERS [%s] %s\n    got  %.300s\n    want %.300s\n",
                        t->name, what, o->g.s, baseline->s);
        }
    }
}

static void tally_print(const tally *t)
{
    printf("# %-28s %6ld trials: open failed %6ld, check failed %5ld, undetected %5ld\n", t->name,
           t->trials, t->open_failed, t->check_failed, t->undetected);
}

/* ------------------------------------------------------------ the damage */

/* Truncation at every length and flips of every byte (xor 0xff, xor 0x01) of
 * a fully checksummed file: each must be detected. */
static void damage_file(const char *dir, const char *path, const layout *L, tally *tt, tally *tf,
                        int must_detect, const sig *baseline)
{
    size_t size;
    uint8_t *orig = read_all(path, &size);
    char what[160];
    for (size_t len = 0; len < size; len++) {
        truncate_to(path, len);
        snprintf(what, sizeof what, "truncated to %zu of %zu bytes", len, size);
        const outcome *o = probe(dir, what);
        tally_add(tt, o, must_detect, baseline, what);
        if (o->kind == OUT_OPEN_FAILED)
            CHECK(o->msg[0] != '\0');
        pwrite_all(path, orig + len, size - len, len);
    }
    static const uint8_t masks[] = {0xff, 0x01};
    for (size_t pos = 0; pos < size; pos++) {
        for (size_t k = 0; k < sizeof masks; k++) {
            uint8_t b = orig[pos] ^ masks[k];
            pwrite_all(path, &b, 1, pos);
            snprintf(what, sizeof what, "byte %zu (%s) ^ 0x%02x", pos,
                     L ? region_of(L, pos) : "-", masks[k]);
            const outcome *o = probe(dir, what);
            tally_add(tf, o, must_detect, baseline, what);
            pwrite_all(path, orig + pos, 1, pos);
        }
    }
    /* The file is back as it was. */
    size_t n2;
    uint8_t *now = read_all(path, &n2);
    if (n2 != size || memcmp(now, orig, size))
        die("%s was not restored", path);
    free(now);
    free(orig);
}

/* Flips past the checksums: the decoders must cope on their own. */
static void damage_structure(const char *dir, const char *path, tally *t, long per_section,
                             const sig *baseline)
{
    size_t size;
    uint8_t *orig = read_all(path, &size);
    layout L;
    parse_layout(orig, size, &L);
    uint8_t *m = malloc(size);
    if (!m)
        die("out of memory");
    char what[160];
    long tried[NSEC] = {0}, undetected[NSEC] = {0}, wrong_answers[NSEC] = {0};
    int verbose = getenv("LEDE_CORRUPT_VERBOSE") != NULL;
    static const uint8_t masks[] = {0xff, 0x01, 0x80, 0x10};
    for (int s = 0; s < NSEC; s++) {
        size_t len = L.len[s];
        if (!len)
            continue;
        /* Every byte of short sections; else a spread that includes both ends. */
        long n = (long)len <= per_section ? (long)len : per_section;
        for (long i = 0; i < n; i++) {
            size_t rel = n == (long)len ? (size_t)i
                         : i < 16      ? (size_t)i
                         : i >= n - 16 ? len - (size_t)(n - i)
                                       : (size_t)((double)(i - 16) * (double)(len - 32) / (double)(n - 32)) + 16;
            size_t pos = L.off[s] + rel;
            uint8_t mask = masks[(size_t)i % sizeof masks];
            memcpy(m, orig, size);
            m[pos] ^= mask;
            fix_checksums(m, &L);
            write_all(path, m, size);
            snprintf(what, sizeof what, "structural: byte %zu (%s+%zu) ^ 0x%02x, checksums fixed", pos,
                     sec_names[s], rel, mask);
            const outcome *o = probe(dir, what);
            tally_add(t, o, 0, NULL, what);
            tried[s]++;
            if (o->kind == OUT_UNDETECTED) {
                undetected[s]++;
                int wrong = strcmp(o->g.s, baseline->s) != 0;
                wrong_answers[s] += wrong;
                if (verbose)
                    fprintf(stderr, "  undetected%s %s\n", wrong ? " (answers differ)" : "", what);
            }
        }
    }
    /* Informational: damage past the checksums that the checker did not see. */
    printf("# structural flips not detected by open or check, per section:");
    for (int s = 0; s < NSEC; s++)
        printf(" %s %ld/%ld (%ld answering differently)", sec_names[s], undetected[s], tried[s],
               wrong_answers[s]);
    printf("\n");
    /* Random multi-byte damage in each section, checksums fixed. */
    for (int r = 0; r < 60; r++) {
        int s = r % NSEC;
        if (!L.len[s])
            continue;
        memcpy(m, orig, size);
        int nbytes = 1 + (int)(rng() % 8);
        for (int j = 0; j < nbytes; j++)
            m[L.off[s] + rng() % L.len[s]] = (uint8_t)rng();
        fix_checksums(m, &L);
        write_all(path, m, size);
        snprintf(what, sizeof what, "structural: %d random bytes in %s, checksums fixed", nbytes,
                 sec_names[s]);
        tally_add(t, probe(dir, what), 0, NULL, what);
    }
    /* The footer's section table and counts rewritten, footer checksum fixed. */
    uint8_t *f = m + L.footer;
    static const int64_t deltas[] = {-1, 1, -16, 16, 4096, -((int64_t)1 << 40), (int64_t)1 << 62};
    for (int s = 0; s < NSEC; s++) {
        for (int field = 0; field < 2; field++) {
            for (size_t d = 0; d < sizeof deltas / sizeof *deltas; d++) {
                memcpy(m, orig, size);
                uint64_t v = test_get_u64(f + 20 * s + 8 * field);
                put_u64(f + 20 * s + 8 * field, v + (uint64_t)deltas[d]);
                test_put_u32(f + NSEC * 20 + 12, test_crc32c(f, NSEC * 20 + 12));
                write_all(path, m, size);
                snprintf(what, sizeof what, "footer: %s %s %+lld", sec_names[s],
                         field ? "length" : "offset", (long long)deltas[d]);
                tally_add(t, probe(dir, what), 0, NULL, what);
            }
        }
    }
    /* Section boundaries moved consistently (one section grows into the next). */
    for (int s = 0; s + 1 < NSEC; s++) {
        for (int64_t d = -9; d <= 9; d += 3) {
            memcpy(m, orig, size);
            int64_t a = (int64_t)L.len[s] + d, b = (int64_t)L.len[s + 1] - d;
            if (a < 0 || b < 0)
                continue;
            put_u64(f + 20 * s + 8, (uint64_t)a);
            put_u64(f + 20 * (s + 1), (uint64_t)((int64_t)L.off[s + 1] + d));
            put_u64(f + 20 * (s + 1) + 8, (uint64_t)b);
            layout L2 = L;
            L2.len[s] = (size_t)a;
            L2.off[s + 1] = (size_t)((int64_t)L.off[s + 1] + d);
            L2.len[s + 1] = (size_t)b;
            fix_checksums(m, &L2);
            write_all(path, m, size);
            snprintf(what, sizeof what, "footer: boundary %s/%s moved %+lld, checksums fixed",
                     sec_names[s], sec_names[s + 1], (long long)d);
            tally_add(t, probe(dir, what), 0, NULL, what);
        }
    }
    static const uint32_t counts[] = {0, 1, 4, 6, 0x7fffffff, 0xffffffff};
    for (int field = 0; field < 2; field++) {
        for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
            memcpy(m, orig, size);
            test_put_u32(f + NSEC * 20 + 4 * field, counts[c]);
            test_put_u32(f + NSEC * 20 + 12, test_crc32c(f, NSEC * 20 + 12));
            write_all(path, m, size);
            snprintf(what, sizeof what, "footer: %s = %u", field ? "nterms" : "ndocs", counts[c]);
            tally_add(t, probe(dir, what), 0, NULL, what);
        }
    }
    write_all(path, orig, size);
    free(m);
    free(orig);
}

/* Manifest text with a valid checksum line. */
static void write_manifest(const char *dir, const char *body)
{
    char *path = path_of(dir, "MANIFEST");
    size_t n = strlen(body);
    char *text = malloc(n + 32);
    if (!text)
        die("out of memory");
    memcpy(text, body, n);
    n += (size_t)sprintf(text + n, "crc32c %08x\n", test_crc32c(body, strlen(body)));
    write_all(path, text, n);
    free(text);
    free(path);
}

static void del_image(uint8_t *out, uint32_t ndocs, uint8_t bits, size_t *len)
{
    memcpy(out, "LEDEDEL", 8);
    test_put_u32(out + 8, ndocs);
    size_t nb = ((size_t)ndocs + 7) / 8;
    memset(out + 12, bits, nb);
    test_put_u32(out + 12 + nb, test_crc32c(out, 12 + nb));
    *len = 16 + nb;
}

/* Expect open to fail cleanly (and check to report it). */
static void expect_open_fails(const char *dir, const char *what)
{
    const outcome *o = probe(dir, what);
    CHECK_MSG(o->kind == OUT_OPEN_FAILED, what);
    if (o->kind != OUT_OPEN_FAILED)
        fprintf(stderr, "  opened although: %s\n", what);
    lede_err err;
    lede_err_clear(&err);
    int lines = 0;
    int rc = lede_index_check(dir, count_line, &lines, &err);
    CHECK_MSG(rc < 0 && err.msg[0] && lines > 0, what);
}

/* Expect nothing worse than a clean error. */
static void expect_clean(const char *dir, const char *what)
{
    (void)probe(dir, what);
}

static void odd_files(const char *dir, const char *seg_name, const char *del_name,
                      const char *manifest_text, size_t manifest_len)
{
    char *seg = path_of(dir, seg_name), *del = path_of(dir, del_name);
    char *man = path_of(dir, "MANIFEST");
    size_t seg_size, del_size;
    uint8_t *seg_orig = read_all(seg, &seg_size), *del_orig = read_all(del, &del_size);
    char body[1024], *hdr = "lede-manifest 1\ngeneration 7\nnext-segment 1\nanalyzer stem=1 stopwords=0\n";

    /* A segment named in the manifest is missing. */
    if (unlink(seg) == 0) {
        expect_open_fails(dir, "segment file missing");
        write_all(seg, seg_orig, seg_size);
    }
    /* The deletion file is missing. */
    unlink(del);
    expect_open_fails(dir, "deletion file missing");
    write_all(del, del_orig, del_size);

    /* The manifest disagrees with the segment's document count. */
    static const char *const counts[] = {"4", "6", "0", "4294967295", "4294967296",
                                         "99999999999999999999999", "-1", "5x"};
    for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) {
        snprintf(body, sizeof body, "%ssegment %s %s %s\n", hdr, seg_name, counts[i], del_name);
        write_manifest(dir, body);
        char what[128];
        snprintf(what, sizeof what, "manifest says %s documents", counts[i]);
        expect_open_fails(dir, what);
    }
    /* Same with no deletion file named. */
    snprintf(body, sizeof body, "%ssegment %s 4 -\n", hdr, seg_name);
    write_manifest(dir, body);
    expect_open_fails(dir, "manifest says 4 documents, no deletion file");

    /* Odd names and lines. */
    static const char *const lines[] = {
        "segment .. 5 -\n", "segment . 5 -\n", "segment MANIFEST 5 -\n", "segment ../x 5 -\n",
        "segment /etc/passwd 5 -\n", "segment nonexistent.lede 5 -\n", "segment %s 5 .\n",
        "segment %s 5 ..\n", "segment %s 5 MANIFEST\n", "segment %s 5 %s\n", "segment %s\n",
        "segment %s 5\n", "segment  5 -\n", "bogus line\n", "segment %s 5 - extra\n",
        "segment aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 5 -\n",
        "segment %s 5 nonexistent.del\n",
    };
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        char line[256];
        snprintf(line, sizeof line, lines[i], seg_name, seg_name);
        snprintf(body, sizeof body, "%s%s", hdr, line);
        write_manifest(dir, body);
        char what[300];
        snprintf(what, sizeof what, "manifest line %.200s", line);
        what[strlen(what) - 1] = '\0';
        if (i == 14) /* a trailing word after the deletion name: parsers may ignore it */
            expect_clean(dir, what);
        else
            expect_open_fails(dir, what);
    }
    /* The same segment listed twice, and twice with its deletion file. */
    snprintf(body, sizeof body, "%ssegment %s 5 -\nsegment %s 5 %s\n", hdr, seg_name, seg_name,
             del_name);
    write_manifest(dir, body);
    expect_clean(dir, "segment listed twice");
    /* No segments at all: an empty index. */
    write_manifest(dir, hdr);
    {
        const outcome *o = probe(dir, "manifest with no segments");
        CHECK(o->kind == OUT_UNDETECTED);
        CHECK(o->search_failures == 0);
    }
    /* Unsupported versions; stop words promised but missing. */
    write_manifest(dir, "lede-manifest 2\ngeneration 1\nnext-segment 1\nanalyzer stem=1 stopwords=0\n");
    expect_open_fails(dir, "manifest version 2");
    snprintf(body, sizeof body,
             "lede-manifest 1\ngeneration 1\nnext-segment 1\nanalyzer stem=1 stopwords=1\n"
             "segment %s 5 %s\n", seg_name, del_name);
    write_manifest(dir, body);
    expect_open_fails(dir, "stopwords=1 without stopwords.txt");
    snprintf(body, sizeof body, "lede-manifest 1\nanalyzer stem=0 stopwords=0\nsegment %s 5 %s\n",
             seg_name, del_name);
    write_manifest(dir, body);
    expect_clean(dir, "manifest saying stem=0 for a stemmed index");
    /* Many segment lines naming missing files. */
    {
        size_t cap = 200000, n = strlen(hdr);
        char *big = malloc(cap);
        if (!big)
            die("out of memory");
        memcpy(big, hdr, n);
        for (int i = 0; i < 3000; i++)
            n += (size_t)snprintf(big + n, cap - n, "segment seg-%08x.lede 5 -\n", i + 100);
        big[n] = '\0';
        write_manifest(dir, big);
        free(big);
        expect_open_fails(dir, "3000 segment lines naming missing files");
    }

    /* Garbage manifests. */
    {
        static const char *const texts[] = {"", "\n", "crc32c 00000000\n", "lede-manifest 1\n",
                                            "crc32c ", "crc32c zzzzzzzz\n"};
        for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
            write_all(man, texts[i], strlen(texts[i]));
            expect_open_fails(dir, "garbage manifest text");
        }
        write_manifest(dir, "");
        expect_open_fails(dir, "empty manifest with a valid checksum");
        write_manifest(dir, "\n\n\n");
        expect_open_fails(dir, "blank manifest with a valid checksum");
        uint8_t junk[4096];
        for (int r = 0; r < 8; r++) {
            size_t n = 1 + rng() % sizeof junk;
            for (size_t i = 0; i < n; i++)
                junk[i] = (uint8_t)rng();
            write_all(man, junk, n);
            expect_open_fails(dir, "random bytes as MANIFEST");
        }
        memset(junk, 0, sizeof junk);
        write_all(man, junk, sizeof junk);
        expect_open_fails(dir, "zeros as MANIFEST");
        write_all(man, seg_orig, seg_size);
        expect_open_fails(dir, "a segment file as MANIFEST");
        unlink(man);
        expect_open_fails(dir, "no MANIFEST");
        if (mkdir(man, 0755) == 0) {
            expect_open_fails(dir, "MANIFEST is a directory");
            rmdir(man);
        }
    }
    write_all(man, manifest_text, manifest_len);

    /* Garbage segments. */
    {
        uint8_t *junk = malloc(seg_size + 4096);
        if (!junk)
            die("out of memory");
        memset(junk, 0, seg_size);
        write_all(seg, junk, seg_size);
        expect_open_fails(dir, "zeros as the segment");
        for (size_t i = 0; i < seg_size; i++)
            junk[i] = (uint8_t)rng();
        write_all(seg, junk, seg_size);
        expect_open_fails(dir, "random bytes as the segment");
        memcpy(junk, seg_orig, 16);
        memcpy(junk + seg_size - 8, seg_orig + seg_size - 8, 8);
        write_all(seg, junk, seg_size);
        expect_open_fails(dir, "random bytes with the segment's magic numbers");
        /* Random bytes, valid magic, a footer whose checksum is right. */
        layout L;
        parse_layout(seg_orig, seg_size, &L);
        memcpy(junk + L.footer, seg_orig + L.footer, FOOTER_SIZE);
        write_all(seg, junk, seg_size);
        expect_open_fails(dir, "random sections under a valid footer");
        /* Everything checksummed right, contents random. */
        fix_checksums(junk, &L);
        write_all(seg, junk, seg_size);
        expect_clean(dir, "random sections with valid checksums");
        /* The original with garbage appended, or prepended. */
        memcpy(junk, seg_orig, seg_size);
        memset(junk + seg_size, 0xab, 4096);
        write_all(seg, junk, seg_size + 4096);
        expect_open_fails(dir, "garbage appended to the segment");
        memset(junk, 0, 4096);
        memcpy(junk + 4096, seg_orig, seg_size);
        write_all(seg, junk, seg_size + 4096);
        expect_open_fails(dir, "garbage prepended to the segment");
        free(junk);
        write_all(seg, del_orig, del_size);
        expect_open_fails(dir, "the deletion file as the segment");
        write_all(seg, "", 0);
        expect_open_fails(dir, "an empty segment file");
        /* A segment twice the size, sparse: zeros with the original footer. */
        unlink(seg);
        if (mkdir(seg, 0755) == 0) {
            expect_open_fails(dir, "the segment is a directory");
            rmdir(seg);
        }
        if (symlink("/dev/null", seg) == 0) {
            expect_open_fails(dir, "the segment is /dev/null");
            unlink(seg);
        }
        write_all(seg, seg_orig, seg_size);
    }

    /* Deletion files of the wrong shape, with valid checksums. */
    {
        uint8_t img[256];
        size_t n;
        static const uint32_t nd[] = {0, 4, 6, 8, 9, 1000};
        for (size_t i = 0; i < sizeof nd / sizeof *nd; i++) {
            del_image(img, nd[i], 0xff, &n);
            write_all(del, img, n);
            char what[80];
            snprintf(what, sizeof what, "deletion file for %u documents", nd[i]);
            expect_open_fails(dir, what);
        }
        /* Right shape, every bit set (including the padding bits). */
        del_image(img, 5, 0xff, &n);
        write_all(del, img, n);
        {
            const outcome *o = probe(dir, "every document deleted");
            CHECK(o->kind != OUT_OPEN_FAILED);
            CHECK(o->search_failures == 0);
        }
        write_all(del, seg_orig, seg_size);
        expect_open_fails(dir, "the segment as the deletion file");
        write_all(del, del_orig, del_size);
    }

    /* Stray files an index may meet: temporary manifests, unknown files. */
    {
        char *tmp = path_of(dir, "MANIFEST.tmp"), *stray = path_of(dir, "seg-deadbeef.lede");
        write_all(tmp, "garbage", 7);
        write_all(stray, "garbage", 7);
        const outcome *o = probe(dir, "stray MANIFEST.tmp and segment");
        CHECK(o->kind == OUT_UNDETECTED);
        unlink(tmp);
        unlink(stray);
        free(tmp);
        free(stray);
    }

    /* Not an index at all. */
    {
        char *sub = path_of(dir, "sub");
        mkdir(sub, 0755);
        expect_open_fails(sub, "an empty directory");
        rmdir(sub);
        expect_open_fails(sub, "a directory that does not exist");
        write_all(sub, "x", 1);
        expect_open_fails(sub, "a plain file as the directory");
        unlink(sub);
        free(sub);
    }

    free(seg_orig);
    free(del_orig);
    free(seg);
    free(del);
    free(man);
}

/* ------------------------------------------------------------ main */

static char seg_name[256], del_name[256];

static void find_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        die("%s: %s", dir, strerror(errno));
    struct dirent *e;
    int nseg = 0, ndel = 0;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n > 5 && !strcmp(e->d_name + n - 5, ".lede")) {
            snprintf(seg_name, sizeof seg_name, "%s", e->d_name);
            nseg++;
        } else if (n > 4 && !strcmp(e->d_name + n - 4, ".del")) {
            snprintf(del_name, sizeof del_name, "%s", e->d_name);
            ndel++;
        }
    }
    closedir(d);
    if (nseg != 1 || ndel != 1)
        die("expected one segment and one deletion file, found %d and %d", nseg, ndel);
}

int main(int argc, char **argv)
{
    double t0 = now_s();
    const char *seeds = argc > 1 ? argv[1] : NULL;
    if (!seeds) {
        static const char *const cands[] = {"data/seeds.jsonl", "tests/data/seeds.jsonl",
                                            "../tests/data/seeds.jsonl"};
        for (size_t i = 0; i < sizeof cands / sizeof *cands && !seeds; i++)
            if (access(cands[i], R_OK) == 0)
                seeds = cands[i];
        if (!seeds)
            die("cannot find seeds.jsonl (pass its path)");
    }
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/lede-corrupt-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        die("mkdtemp: %s", strerror(errno));

    build_index(dir, seeds);
    delete_doc(dir, "003_3d7c43c390a1a416");
    find_files(dir);
    char *seg = path_of(dir, seg_name), *del = path_of(dir, del_name), *man = path_of(dir, "MANIFEST");
    size_t seg_size, man_size;
    uint8_t *seg_orig = read_all(seg, &seg_size);
    uint8_t *man_orig = read_all(man, &man_size);
    layout L;
    parse_layout(seg_orig, seg_size, &L);
    printf("# segment %s: %zu bytes; header 16", seg_name, seg_size);
    for (int i = 0; i < NSEC; i++)
        printf(", %s %zu", sec_names[i], L.len[i]);
    printf(", footer %d\n", FOOTER_SIZE);

    /* The undamaged index: sound, and the answers every trial is held to. */
    sig baseline;
    {
        const outcome *o = probe(dir, "undamaged");
        CHECK_EQ_INT(o->kind, OUT_UNDETECTED);
        CHECK_EQ_INT(o->search_failures, 0);
        baseline = o->g;
        CHECK(strstr(baseline.s, "stats:4/1/") != NULL);
        CHECK(strstr(baseline.s, "get2:-6;") != NULL); /* the deleted doc is gone */
        printf("# baseline: %.200s...\n", baseline.s);
    }

    tally seg_trunc = {"segment truncated", 0, 0, 0, 0, 0, 0};
    tally seg_flip = {"segment byte flipped", 0, 0, 0, 0, 0, 0};
    damage_file(dir, seg, &L, &seg_trunc, &seg_flip, 1, NULL);
    tally_print(&seg_trunc);
    tally_print(&seg_flip);
    CHECK_EQ_INT(seg_trunc.undetected, 0);
    CHECK_EQ_INT(seg_flip.undetected, 0);
    CHECK_EQ_INT(seg_trunc.trials, (long)seg_size);
    CHECK_EQ_INT(seg_flip.trials, 2 * (long)seg_size);
    printf("# %.1f s\n", now_s() - t0);

    tally man_trunc = {"manifest truncated", 0, 0, 0, 0, 0, 0};
    tally man_flip = {"manifest byte flipped", 0, 0, 0, 0, 0, 0};
    damage_file(dir, man, NULL, &man_trunc, &man_flip, 0, &baseline);
    tally_print(&man_trunc);
    tally_print(&man_flip);
    CHECK_EQ_INT(man_trunc.wrong, 0);
    CHECK_EQ_INT(man_flip.wrong, 0);

    tally del_trunc = {"deletion file truncated", 0, 0, 0, 0, 0, 0};
    tally del_flip = {"deletion file byte flipped", 0, 0, 0, 0, 0, 0};
    damage_file(dir, del, NULL, &del_trunc, &del_flip, 1, NULL);
    tally_print(&del_trunc);
    tally_print(&del_flip);
    CHECK_EQ_INT(del_trunc.undetected, 0);
    CHECK_EQ_INT(del_flip.undetected, 0);
    printf("# %.1f s\n", now_s() - t0);

    tally structural = {"structural (checksums fixed)", 0, 0, 0, 0, 0, 0};
    const char *env = getenv("LEDE_CORRUPT_PER_SECTION");
    damage_structure(dir, seg, &structural, env ? atol(env) : 200, &baseline);
    tally_print(&structural);
    printf("# %.1f s\n", now_s() - t0);

    odd_files(dir, seg_name, del_name, (const char *)man_orig, man_size);

    /* Everything restored: the index is sound again. */
    write_all(man, man_orig, man_size);
    {
        const outcome *o = probe(dir, "restored");
        CHECK_EQ_INT(o->kind, OUT_UNDETECTED);
        CHECK_EQ_STR(o->g.s, baseline.s);
    }
    CHECK_EQ_INT(dirty_failures, 0);
    printf("# total %.1f s\n", now_s() - t0);

    free(seg_orig);
    free(man_orig);
    free(seg);
    free(del);
    free(man);
    rm_rf(dir);
    return tap_done();
}
