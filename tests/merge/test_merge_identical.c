/* test_merge_identical.c: the claim of docs/ARCHITECTURE.md that "a merged
 * index is byte-identical to a one-segment build of the same documents".
 * The same documents, in the same order, are indexed four ways:
 *   one       one writer, the default memory budget: a single flush, no merge;
 *   flushes   one writer with a memory budget so small that it flushes many
 *             segments, which the commit merges into one;
 *   sessions  several writers in turn (no_merge), each adding a slice and
 *             committing, then lede_writer_merge;
 *   purged    like sessions, with extra documents added in between that are
 *             deleted before the merge (a merge purges them).
 * Each index must then hold exactly one segment, and its segment file must
 * equal the one of "one" byte for byte: every section (stored, postings,
 * positions, dictionary, docs, ids), the header and the footer with its
 * checksums. Only the file names and the MANIFEST differ (segment numbers
 * and generations), and they are not compared. A difference is reported
 * with its offset and section.
 * Corpora, by the first argument: "seeds" (tests/data/seeds.jsonl, from the
 * tests directory) and "allsides" (the first 3,000 articles of
 * allsides-news from $LEDE_SHARED or else ../../shared; without it prints
 * "SKIP: ..." and exits 77). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lede/index.h"
#include "lede/ingest.h"
#include "lede/lede.h"
#include "tap.h"
#include "testutil.h"

#define SKIP_CODE 77
#define NSEC 6
#define FOOTER_SIZE (NSEC * 20 + 16 + 8)

typedef struct docs {
    lede_doc *d;
    size_t n, cap, limit;
} docs;

static int keep(void *ctx, const lede_doc *d)
{
    docs *ds = ctx;
    if (ds->n == ds->limit)
        return 1; /* enough: stops the ingest */
    if (ds->n == ds->cap) {
        ds->cap = ds->cap ? ds->cap * 2 : 64;
        ds->d = realloc(ds->d, ds->cap * sizeof *ds->d);
        if (!ds->d)
            abort();
    }
    test_doc_copy(&ds->d[ds->n++], d);
    return 0;
}

static void free_docs(docs *ds)
{
    for (size_t i = 0; i < ds->n; i++)
        test_doc_free(&ds->d[i]);
    free(ds->d);
}

static void die(const char *what, const lede_err *err)
{
    fprintf(stderr, "test_merge_identical: %s: %s\n", what, err ? err->msg : "");
    exit(99);
}

static lede_writer *open_writer(const char *dir, int create, size_t budget, int no_merge)
{
    lede_err err;
    lede_err_clear(&err);
    lede_writer_opts wo = {0};
    wo.mem_budget = budget;
    wo.no_merge = no_merge;
    lede_writer *w;
    if (lede_writer_open(dir, &wo, create, &w, &err))
        die("writer_open", &err);
    return w;
}

static void add(lede_writer *w, const lede_doc *d)
{
    lede_err err;
    lede_err_clear(&err);
    if (lede_writer_add(w, d, &err))
        die("add", &err);
}

static void commit(lede_writer *w)
{
    lede_err err;
    lede_err_clear(&err);
    if (lede_writer_commit(w, &err))
        die("commit", &err);
}

/* The one writer of "one" and "flushes". */
static void build_single(const char *dir, const docs *ds, size_t budget)
{
    lede_writer *w = open_writer(dir, 1, budget, 0);
    for (size_t i = 0; i < ds->n; i++)
        add(w, &ds->d[i]);
    commit(w);
    lede_writer_free(w);
}

/* "sessions" (extra = 0) and "purged" (extra = 1): nsess writers, then a
 * merge. With extra, each session also adds a document of its own that a
 * later session deletes. */
static void build_sessions(const char *dir, const docs *ds, size_t nsess, int extra)
{
    size_t per = (ds->n + nsess - 1) / nsess;
    char id[64], prev[64] = "";
    for (size_t s = 0; s * per < ds->n; s++) {
        lede_writer *w = open_writer(dir, s == 0, 0, 1);
        lede_err err;
        lede_err_clear(&err);
        if (extra && prev[0]) {
            int found = 0;
            if (lede_writer_delete(w, prev, strlen(prev), &found, &err) || !found)
                die("delete", &err);
            prev[0] = '\0';
        }
        for (size_t i = s * per; i < (s + 1) * per && i < ds->n; i++) {
            add(w, &ds->d[i]);
            if (extra && i == s * per + per / 2) {
                snprintf(id, sizeof id, "extra-%zu", s);
                lede_doc x = ds->d[i];
                x.id = (lede_str){id, strlen(id)};
                x.title = (lede_str){"An extra document", 17};
                add(w, &x);
                snprintf(prev, sizeof prev, "%s", id);
            }
        }
        commit(w);
        lede_writer_free(w);
    }
    lede_writer *w = open_writer(dir, 0, 0, 1);
    lede_err err;
    lede_err_clear(&err);
    int found = 0;
    if (extra && prev[0] && (lede_writer_delete(w, prev, strlen(prev), &found, &err) || !found))
        die("delete", &err);
    if (lede_writer_merge(w, &err))
        die("merge", &err);
    lede_writer_free(w);
}

/* The bytes of the one segment file in dir (NULL, with a failed check, if
 * there is not exactly one). */
static unsigned char *the_segment(const char *dir, size_t *len, const char *label)
{
    DIR *d = opendir(dir);
    if (!d)
        die(dir, NULL);
    struct dirent *e;
    char *path = NULL;
    int nseg = 0;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, "seg-", 4) == 0 && n > 5 && strcmp(e->d_name + n - 5, ".lede") == 0) {
            nseg++;
            free(path);
            path = test_path(dir, e->d_name);
        }
    }
    closedir(d);
    CHECK_MSG(nseg == 1, label);
    if (nseg != 1) {
        printf("  %s: %d segment files\n", label, nseg);
        free(path);
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f)
        die(path, NULL);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
        die(path, NULL);
    fclose(f);
    free(path);
    *len = (size_t)n;
    return buf;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Which part of a segment (docs/FORMAT.md) holds offset at. */
static const char *section_of(const unsigned char *m, size_t size, size_t at)
{
    static const char *const names[NSEC] = {"postings", "positions", "dictionary",
                                            "docs", "ids", "stored"};
    if (at < 16)
        return "header";
    if (size < FOOTER_SIZE || at >= size - FOOTER_SIZE)
        return "footer";
    const unsigned char *f = m + size - FOOTER_SIZE;
    for (int i = 0; i < NSEC; i++) {
        uint64_t off = get_u64(f + 20 * i), len = get_u64(f + 20 * i + 8);
        if (at >= off && at - off < len)
            return names[i];
    }
    return "between sections";
}

static void compare(const char *base_dir, const char *dir, const char *label)
{
    size_t na = 0, nb = 0;
    unsigned char *a = the_segment(base_dir, &na, "one"), *b = the_segment(dir, &nb, label);
    if (a && b) {
        size_t i = 0;
        while (i < na && i < nb && a[i] == b[i])
            i++;
        int same = na == nb && i == na;
        CHECK_MSG(same, label);
        if (same)
            printf("  %-9s identical to one (%zu bytes)\n", label, na);
        else
            printf("  %-9s differs from one: sizes %zu and %zu, first difference at byte %zu "
                   "(%s of one, %s of %s)\n",
                   label, na, nb, i, section_of(a, na, i), section_of(b, nb, i), label);
    }
    free(a);
    free(b);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run(const char *name, const char *path, size_t limit, size_t small_budget,
                size_t nsess)
{
    double t0 = now_s();
    docs ds = {NULL, 0, 0, limit ? limit : (size_t)-1};
    lede_err err;
    lede_err_clear(&err);
    const char *paths[] = {path};
    lede_ingest_opts io = {0};
    int rc = lede_ingest_paths(paths, 1, &io, keep, &ds, NULL, &err);
    if (rc < 0)
        die(path, &err);
    char *root = test_tmpdir("mergeid");
    char *one = test_path(root, "one"), *fl = test_path(root, "flushes");
    char *se = test_path(root, "sessions"), *pu = test_path(root, "purged");
    build_single(one, &ds, 0);
    build_single(fl, &ds, small_budget);
    build_sessions(se, &ds, nsess, 0);
    build_sessions(pu, &ds, nsess, 1);
    printf("%s: %zu documents; flushes with a %zu-byte budget, %zu sessions\n", name, ds.n,
           small_budget, nsess);
    compare(one, fl, "flushes");
    compare(one, se, "sessions");
    compare(one, pu, "purged");
    printf("%s: %.1f s\n", name, now_s() - t0);
    test_rmtree(root);
    free(one);
    free(fl);
    free(se);
    free(pu);
    free(root);
    free_docs(&ds);
}

int main(int argc, char **argv)
{
    const char *part = argc > 1 ? argv[1] : "seeds";
    if (strcmp(part, "seeds") == 0) {
        run("seeds", "data/seeds.jsonl", 0, 1, 3);
    } else if (strcmp(part, "allsides") == 0) {
        const char *shared = getenv("LEDE_SHARED");
        if (!shared || !*shared)
            shared = "../../shared";
        char corpus[1024];
        snprintf(corpus, sizeof corpus, "%s/corpora/allsides-news/corpus.jsonl.zst", shared);
        FILE *f = fopen(corpus, "rb");
        if (!f) {
            printf("SKIP: %s not found (set LEDE_SHARED to the shared folder)\n", corpus);
            return SKIP_CODE;
        }
        fclose(f);
        run("allsides", corpus, 3000, 256 << 10, 7);
    } else {
        fprintf(stderr, "usage: test_merge_identical seeds|allsides\n");
        return 2;
    }
    return tap_done();
}
