/* test_alloc_fail.c: liblede when an allocation fails. For each public entry
 * point (writer open, add with and without budget flushes, delete, commit,
 * merge; lede_index_open; lede_search with facets, groups, explain, date
 * order, prefixes, phrases, filters and stored bodies; lede_index_get;
 * lede_index_analyzer and lede_analyze; lede_snippet_make; suggester build
 * and lede_suggest; ingest of small JSON Lines, .jsonl.zst and text-folder
 * inputs; lede_index_check) it runs the call with the Nth allocation failing,
 * for N = 1, 2, 3, ... until a run makes fewer than N allocations, so no
 * failure was injected and the call must succeed. Every injected failure
 * must end in LEDE_ENOMEM with a one-line message in the lede_err and no
 * out-pointer left set, never a crash; after a failed delete, commit or
 * merge the index directory must still open and hold either the documents
 * before the call or those after it (a commit is atomic). The one failure
 * allowed to leave a call successful: a commit's sweep of the files its new
 * manifest no longer names, after publishing it, is best effort (the next
 * commit sweeps what is left). Searches, lookups and the analyzer also run
 * in a new thread, so their per-thread analyzer and decompression contexts
 * are made inside the armed call. Under ASan, LeakSanitizer is asked after
 * each entry point whether anything leaked.
 *
 * The failures are injected by linking this program with
 * -Wl,--wrap=malloc,--wrap=calloc,... (tests/meson.build): liblede's (static)
 * references to those functions land in the __wrap_* functions here, which
 * count and, when armed, fail the Nth call. Only liblede's own calls (and
 * this file's) are counted: libzstd, utf8proc, libstemmer and libc's
 * internal allocations (getline, fopen) are not. The first check proves the
 * wrapping works (an armed entry point counts allocations). Loops stop at
 * MAX_N failures per entry point and after LEDE_ALLOC_BUDGET_S seconds in
 * all (default 50, 200 under ASan); an entry point cut short fails the
 * test. Scratch indexes go to /dev/shm unless TMPDIR is set (thousands of
 * small commits, whose fsyncs cost nothing on tmpfs). LEDE_ALLOC_ONLY=TEXT
 * runs the entry points whose name holds TEXT; LEDE_ALLOC_TRACE=1 prints
 * where each unclean failure was injected. */
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "lede/highlight.h"
#include "lede/index.h"
#include "lede/ingest.h"
#include "lede/lede.h"
#include "lede/query.h"
#include "lede/search.h"
#include "lede/suggest.h"
#include "tap.h"
#include "testutil.h"

#define MAX_N 20000

/* ------------------------------------------------------------ injection */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
int __real_posix_memalign(void **p, size_t align, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_posix_memalign(void **p, size_t align, size_t n);

void __sanitizer_symbolize_pc(void *pc, const char *fmt, char *out, size_t n)
    __attribute__((weak));

static long armed_fail_at;   /* 0: not armed; else the call number that fails */
static long calls;           /* allocation calls since arming */
static long injected;        /* failures injected since arming (0 or 1) */
static int trace;            /* LEDE_ALLOC_TRACE=1: where an unclean failure was injected */
static void *frames[24];
static int nframes;

/* The call stack of the injected failure (symbolized in ASan builds). */
static void print_trace(void)
{
    for (int i = 3; i < nframes; i++) {
        char line[512];
        if (__sanitizer_symbolize_pc) {
            __sanitizer_symbolize_pc(frames[i], "%f %L", line, sizeof line);
            if (strstr(line, "run_trial"))
                break;
            fprintf(stderr, "      %s\n", line);
        } else {
            backtrace_symbols_fd(&frames[i], 1, 2);
        }
    }
}

/* 1 if this allocation must fail. Several threads may allocate at once
 * (pending.c's inverter, the suggester's builders). */
static int should_fail(void)
{
    if (!__atomic_load_n(&armed_fail_at, __ATOMIC_RELAXED))
        return 0;
    long k = __atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED);
    if (k != __atomic_load_n(&armed_fail_at, __ATOMIC_RELAXED))
        return 0;
    __atomic_add_fetch(&injected, 1, __ATOMIC_RELAXED);
    if (trace)
        nframes = backtrace(frames, 24);
    return 1;
}

void *__wrap_malloc(size_t n)
{
    return should_fail() ? NULL : __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t size)
{
    return should_fail() ? NULL : __real_calloc(n, size);
}
void *__wrap_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : __real_realloc(p, n);
}
char *__wrap_strdup(const char *s)
{
    return should_fail() ? NULL : __real_strdup(s);
}
char *__wrap_strndup(const char *s, size_t n)
{
    return should_fail() ? NULL : __real_strndup(s, n);
}
int __wrap_posix_memalign(void **p, size_t align, size_t n)
{
    return should_fail() ? ENOMEM : __real_posix_memalign(p, align, n);
}

static void arm(long n)
{
    __atomic_store_n(&calls, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&injected, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&armed_fail_at, n, __ATOMIC_SEQ_CST);
}

static void disarm(void)
{
    __atomic_store_n(&armed_fail_at, 0, __ATOMIC_SEQ_CST);
}

/* LeakSanitizer's "anything leaked so far?" when linked in (ASan builds). */
int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ fixtures */

static const char *data_dir = "data";
static char *scratch;           /* the test's temp directory */
static char *fix_one;           /* one committed segment of the seeds */
static char *fix_multi;         /* three segments (no_merge) and a deletion file */
static char *jsonl_path, *zst_path, *txt_dir;

/* Owned copies of the seed documents. */
#define MAX_DOCS 16
static lede_doc docs[MAX_DOCS];
static size_t ndocs;

static int keep_doc(void *ctx, const lede_doc *d)
{
    (void)ctx;
    if (ndocs == MAX_DOCS)
        return 0;
    test_doc_copy(&docs[ndocs++], d);
    return 0;
}

static void die(const char *what, const lede_err *err)
{
    fprintf(stderr, "test_alloc_fail: %s: %s\n", what, err ? err->msg : "");
    exit(99);
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f))
        die(path, NULL);
}

/* Writes an index of docs[from..to) into dir, one commit per `per` docs,
 * without merging when no_merge. */
static void build(const char *dir, size_t from, size_t to, size_t per, int no_merge, int create)
{
    lede_err err;
    lede_err_clear(&err);
    for (size_t i = from; i < to; i += per) {
        lede_writer_opts wo = {0};
        wo.no_merge = no_merge;
        lede_writer *w;
        if (lede_writer_open(dir, &wo, create && i == from, &w, &err))
            die("writer_open", &err);
        for (size_t j = i; j < i + per && j < to; j++)
            if (lede_writer_add(w, &docs[j], &err))
                die("add", &err);
        if (lede_writer_commit(w, &err))
            die("commit", &err);
        lede_writer_free(w);
    }
}

static void copy_dir(const char *from, const char *to)
{
    if (mkdir(to, 0755) && errno != EEXIST)
        die(to, NULL);
    DIR *d = opendir(from);
    if (!d)
        die(from, NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "LOCK") == 0)
            continue;
        char *src = test_path(from, e->d_name), *dst = test_path(to, e->d_name);
        FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
        if (!in || !out)
            die(src, NULL);
        char buf[65536];
        size_t k;
        while ((k = fread(buf, 1, sizeof buf, in)) > 0)
            if (fwrite(buf, 1, k, out) != k)
                die(dst, NULL);
        fclose(in);
        if (fclose(out))
            die(dst, NULL);
        free(src);
        free(dst);
    }
    closedir(d);
}

static uint64_t live_docs(const char *dir)
{
    lede_err err;
    lede_err_clear(&err);
    lede_index *ix;
    if (lede_index_open(dir, &ix, &err))
        return (uint64_t)-1;
    lede_index_stats st;
    uint64_t n = lede_index_stats_get(ix, &st, &err) ? (uint64_t)-1 : st.documents;
    lede_index_free(ix);
    return n;
}

static void setup_fixtures(void)
{
    char *seeds = test_path(data_dir, "seeds.jsonl");
    lede_err err;
    lede_err_clear(&err);
    const char *paths[] = {seeds};
    lede_ingest_opts io = {0};
    if (lede_ingest_paths(paths, 1, &io, keep_doc, NULL, NULL, &err) || ndocs < 5)
        die("reading the seeds", &err);
    /* Documents the seeds lack: no source, no date, odd bytes, a repeat id. */
    static const char *const extra[][4] = {
        {"x1", "Caf\xc3\xa9 tax reform", "The president spoke about tax reform in Paris.", NULL},
        {"x2", "Border wall", "Invalid \xe2\x82 bytes and the border wall; presidential talk.",
         "Reuters"},
        {"x3", "", "", "ITV News"},
    };
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
        lede_doc d;
        memset(&d, 0, sizeof d);
        d.id = (lede_str){extra[i][0], strlen(extra[i][0])};
        d.title = (lede_str){extra[i][1], strlen(extra[i][1])};
        d.body = (lede_str){extra[i][2], strlen(extra[i][2])};
        if (extra[i][3])
            d.source = (lede_str){extra[i][3], strlen(extra[i][3])};
        if (i == 1)
            d.date = (lede_str){"2016-02-29", 10};
        keep_doc(NULL, &d);
    }
    scratch = test_tmpdir("alloc");
    fix_one = test_path(scratch, "one");
    fix_multi = test_path(scratch, "multi");
    build(fix_one, 0, ndocs, ndocs, 0, 1);
    build(fix_multi, 0, ndocs, 3, 1, 1);
    lede_writer *w;
    int found = 0;
    if (lede_writer_open(fix_multi, NULL, 0, &w, &err) ||
        lede_writer_delete(w, "x1", 2, &found, &err) || lede_writer_commit(w, &err) || !found)
        die("delete in the fixture", &err);
    lede_writer_free(w);

    /* Ingest inputs: a JSON Lines file with escapes, a number id, nulls and
     * one bad line (read with skip_bad), its zstd copy, and the text folder. */
    static const char jl[] =
        "{\"id\":\"j1\",\"title\":\"Caf\\u00e9 \\\"quoted\\\"\",\"body\":\"a\\nb \\ud83d\\ude00\","
        "\"source\":\"AP\",\"date\":\"2017-06-13\",\"url\":null,\"extra\":[1,{\"x\":2}]}\n"
        "{\"id\":42,\"title\":\"Numbers\",\"body\":\"forty two\"}\n"
        "not json at all\n"
        "{\"title\":\"No id\",\"body\":\"named by its line\"}\n";
    jsonl_path = test_path(scratch, "small.jsonl");
    write_file(jsonl_path, jl, sizeof jl - 1);
    size_t cap = ZSTD_compressBound(sizeof jl);
    void *z = malloc(cap);
    size_t zn = z ? ZSTD_compress(z, cap, jl, sizeof jl - 1, 3) : 0;
    if (!z || ZSTD_isError(zn))
        die("zstd", NULL);
    zst_path = test_path(scratch, "small.jsonl.zst");
    write_file(zst_path, z, zn);
    free(z);
    txt_dir = test_path(data_dir, "seeds_txt");
    free(seeds);
}

/* ------------------------------------------------------------ entry points */

/* One trial: setup (not armed) prepares the state, run (armed) makes the
 * calls under test and returns their rc with err filled, teardown (not
 * armed) checks and frees. A run that makes several calls stops at the
 * first error. */
typedef struct trial {
    const char *name;
    void (*setup)(void);
    int (*run)(lede_err *err);
    void (*teardown)(int rc);
    /* 1: a failure may leave the call successful (the teardown then checks
     * the result): commits sweep the files the new manifest no longer names
     * after publishing it, best effort (the next commit sweeps what is left). */
    int may_absorb;
} trial;

static char *work;                 /* a fresh copy of a fixture, per trial */
static lede_writer *tw;            /* the trial's writer */
static lede_index *tix;            /* the trial's index */
static lede_suggester *tsg;        /* the trial's suggester */
static lede_results *tres;         /* results a trial made */
static lede_index *shared_ix;      /* fix_one, opened once */
static lede_suggester *shared_sg;  /* over shared_ix */
static lede_results *shared_res;   /* a search with bodies, for highlighting */
static uint64_t before_docs, after_docs;
static size_t tw_docs;             /* r_add adds this many documents (0: all) */

static void fresh_copy(const char *fixture)
{
    test_rmtree(work);
    copy_dir(fixture, work);
}

static void open_writer(const char *dir, int create, size_t budget)
{
    lede_err err;
    lede_err_clear(&err);
    lede_writer_opts wo = {0};
    wo.mem_budget = budget;
    if (lede_writer_open(dir, &wo, create, &tw, &err))
        die("writer_open", &err);
}

static void free_writer(int rc)
{
    (void)rc;
    lede_writer_free(tw);
    tw = NULL;
}

/* After a delete, commit or merge: the directory opens and holds the
 * documents of before or after the call (after, if it succeeded). */
static void atomic_teardown(int rc)
{
    lede_writer_free(tw);
    tw = NULL;
    uint64_t n = live_docs(work);
    if (rc == 0)
        CHECK_EQ_INT(n, after_docs);
    else
        CHECK_MSG(n == before_docs || n == after_docs, "a failed commit left a broken index");
}

/* writer open (create), on a directory that holds no index yet */
static void s_open_create(void)
{
    test_rmtree(work);
}
static int r_open_create(lede_err *err)
{
    return lede_writer_open(work, NULL, 1, &tw, err);
}
static void t_open(int rc)
{
    if (rc)
        CHECK(tw == NULL);
    free_writer(rc);
}

/* writer open (append), on an index of three segments with deletions */
static void s_open_append(void)
{
    fresh_copy(fix_multi);
}
static int r_open_append(lede_err *err)
{
    return lede_writer_open(work, NULL, 0, &tw, err);
}

/* writer add: every document, into a fresh index (no flush) */
static void s_add(void)
{
    tw_docs = 0;
    test_rmtree(work);
    open_writer(work, 1, 0);
}
static int r_add(lede_err *err)
{
    int rc = 0;
    for (size_t i = 0; i < (tw_docs ? tw_docs : ndocs) && !rc; i++)
        rc = lede_writer_add(tw, &docs[i], err);
    return rc;
}

/* writer add of two documents with a budget so small that every add
 * flushes a segment */
static void s_add_flush(void)
{
    tw_docs = 2;
    test_rmtree(work);
    open_writer(work, 1, 1);
}

/* writer add into an existing index: replaces by id look the index up */
static void s_add_replace(void)
{
    tw_docs = 0;
    fresh_copy(fix_multi);
    open_writer(work, 0, 0);
}

/* delete + commit on the multi-segment index */
static void s_delete(void)
{
    fresh_copy(fix_multi);
    before_docs = live_docs(work);
    after_docs = before_docs - 1;
    open_writer(work, 0, 0);
}
static int r_delete(lede_err *err)
{
    int found = 0;
    int rc = lede_writer_delete(tw, docs[1].id.ptr, docs[1].id.len, &found, err);
    if (!rc && !found)
        CHECK_MSG(0, "delete did not find the document");
    return rc ? rc : lede_writer_commit(tw, err);
}

/* commit of a fresh build (flush, merge, publish) */
static void s_commit_build(void)
{
    fresh_copy(fix_one);
    before_docs = ndocs;
    after_docs = 4;
    lede_err err;
    lede_err_clear(&err);
    lede_writer_opts wo = {0};
    wo.mem_budget = 1; /* several flushed segments for the commit to merge */
    if (lede_writer_open(work, &wo, 1, &tw, &err))
        die("writer_open", &err);
    for (size_t i = 0; i < 4; i++)
        if (lede_writer_add(tw, &docs[i], &err))
            die("add", &err);
}
static int r_commit(lede_err *err)
{
    return lede_writer_commit(tw, err);
}

/* commit of an add with replacements to the multi-segment index */
static void s_commit_add(void)
{
    fresh_copy(fix_multi);
    before_docs = live_docs(work);
    after_docs = before_docs + 1; /* x1 was deleted and comes back */
    open_writer(work, 0, 0);
    lede_err err;
    lede_err_clear(&err);
    for (size_t i = 0; i < ndocs; i++)
        if (lede_writer_add(tw, &docs[i], &err))
            die("add", &err);
}

/* merge of three segments with a deletion */
static void s_merge(void)
{
    fresh_copy(fix_multi);
    before_docs = after_docs = live_docs(work);
    open_writer(work, 0, 0);
}
static int r_merge(lede_err *err)
{
    return lede_writer_merge(tw, err);
}

/* lede_index_open (and stats) of the multi-segment index */
static int r_index_open(lede_err *err)
{
    tix = (lede_index *)err; /* must be reset */
    int rc = lede_index_open(fix_multi, &tix, err);
    if (rc) {
        CHECK(tix == NULL);
        tix = NULL;
        return rc;
    }
    lede_index_stats st;
    return lede_index_stats_get(tix, &st, err);
}
static void t_index(int rc)
{
    (void)rc;
    lede_suggester_free(tsg);
    tsg = NULL;
    lede_results_free(tres);
    tres = NULL;
    lede_index_free(tix);
    tix = NULL;
}

/* Searches, each on a freshly opened index so its per-thread analyzer and
 * decompression contexts are made inside the armed call. */
static void s_fresh_index(void)
{
    lede_err err;
    lede_err_clear(&err);
    if (lede_index_open(fix_multi, &tix, &err))
        die("index_open", &err);
}

static const char *const outlets[] = {"Reuters", "ITV News", "CNN (Web News)"};

static int search(lede_search_opts *so, lede_err *err)
{
    tres = (lede_results *)err; /* must be reset */
    int rc = lede_search(tix, so, &tres, err);
    if (rc) {
        CHECK(tres == NULL);
        tres = NULL;
        return rc;
    }
    if (!so->sources && strstr(so->query, "social") && tres->total == 0)
        CHECK_MSG(0, "a search found nothing when nothing failed");
    lede_results_free(tres);
    tres = NULL;
    return 0;
}

/* The searches of one trial, run in turn until one fails. */
typedef struct search_spec {
    const char *query;
    uint32_t k, offset, group_hits;
    int sort, facets, explain, exhaustive, plain, ids_only, with_body, filtered;
} search_spec;

static const search_spec FACETS[] = {
    {"social media OR macron", 0, 0, 0, LEDE_SORT_RELEVANCE, 1, 1, 0, 0, 0, 0, 0},
    {"social media OR macron", 0, 0, 0, LEDE_SORT_RELEVANCE, 1, 1, 0, 0, 0, 0, 1},
    {NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}};
static const search_spec GROUPS[] = {
    {"social media", 3, 0, 2, LEDE_SORT_RELEVANCE, 0, 0, 0, 0, 0, 1, 0},
    {"social media", 3, 0, 2, LEDE_SORT_DATE, 0, 0, 0, 0, 0, 1, 0},
    {NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}};
static const search_spec BY_DATE[] = {
    {"social OR tax OR border", 0, 0, 0, LEDE_SORT_DATE, 0, 1, 0, 0, 0, 0, 1},
    {NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}};
static const search_spec PREFIX_PHRASE[] = {
    {"\"social media\" extrem* presid* -football title:fines", 4, 1, 0, LEDE_SORT_RELEVANCE, 0,
     1, 0, 0, 0, 0, 0},
    {"\"theresa may\" +facebook source:\"ITV News\" date>=2017-06-01", 4, 1, 0,
     LEDE_SORT_RELEVANCE, 0, 1, 1, 0, 0, 0, 0},
    {"May and Macron's social plans", 4, 1, 0, LEDE_SORT_RELEVANCE, 0, 1, 0, 1, 1, 0, 0},
    {NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}};

/* filtered: two outlets (facets then count every outlet) and a date range. */
static int run_specs(const search_spec *sp, lede_err *err)
{
    for (; sp->query; sp++) {
        lede_search_opts so = {0};
        so.query = sp->query;
        so.k = sp->k;
        so.offset = sp->offset;
        so.group_hits = sp->group_hits;
        so.sort = sp->sort;
        so.facets = sp->facets;
        so.facet_docs = 2;
        so.explain = sp->explain;
        so.exhaustive = sp->exhaustive;
        so.plain = sp->plain;
        so.ids_only = sp->ids_only;
        so.with_body = sp->with_body;
        if (sp->filtered) {
            so.sources = outlets;
            so.nsources = 2;
            so.facets_ignore_sources = 1;
            so.date_from = 20160101;
            so.date_to = 20181231;
        }
        int rc = search(&so, err);
        if (rc)
            return rc;
    }
    return 0;
}

static int r_search_facets(lede_err *err)
{
    return run_specs(FACETS, err);
}
static int r_search_groups(lede_err *err)
{
    return run_specs(GROUPS, err);
}
static int r_search_date(lede_err *err)
{
    return run_specs(BY_DATE, err);
}
static int r_search_prefix_phrase(lede_err *err)
{
    return run_specs(PREFIX_PHRASE, err);
}
static int r_search_syntax(lede_err *err)
{
    /* A syntax error must stay a syntax error, or become ENOMEM. */
    lede_search_opts so = {0};
    so.query = "(social AND";
    int rc = lede_search(tix, &so, &tres, err);
    if (rc == LEDE_ESYNTAX) {
        CHECK(tres == NULL);
        return 0;
    }
    CHECK_MSG(rc != 0, "a syntax error was accepted");
    return rc;
}

/* A query tree (include/lede/query.h) built and searched in the armed
 * call: every builder, then the search. A builder returns NULL only when
 * out of memory; lede_query_add returns LEDE_ENOMEM. */
static int r_search_tree(lede_err *err)
{
    lede_query_tree *t = lede_query_tree_new();
    if (!t)
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    lede_query *b = lede_query_bool(t), *n[6];
    n[0] = lede_query_match(t, LEDE_FIELD_ALL, "social media", 12, 0);
    n[1] = lede_query_phrase(t, LEDE_FIELD_TITLE, "border wall", 11);
    n[2] = lede_query_prefix(t, LEDE_FIELD_ALL, "presid", 6);
    n[3] = lede_query_keyword(t, LEDE_COLUMN_SOURCE, "Reuters", 7);
    n[4] = lede_query_string(t, "macron OR tax", 13, 0);
    n[5] = lede_query_date_range(t, 20100101, 20201231);
    int rc = b ? 0 : LEDE_ENOMEM;
    static const lede_occur occ[6] = {LEDE_SHOULD, LEDE_SHOULD, LEDE_SHOULD, LEDE_MUST_NOT,
                                      LEDE_SHOULD, LEDE_FILTER};
    for (int i = 0; i < 6 && !rc; i++)
        rc = n[i] ? lede_query_add(b, occ[i], n[i]) : LEDE_ENOMEM;
    if (rc) {
        lede_query_tree_free(t);
        return lede_err_set(err, rc, "out of memory");
    }
    lede_search_opts so = {0};
    so.tree = b;
    so.facets = 1;
    so.explain = 1;
    tres = (lede_results *)err; /* must be reset */
    rc = lede_search(tix, &so, &tres, err);
    lede_query_tree_free(t);
    if (rc) {
        CHECK(tres == NULL);
        tres = NULL;
        return rc;
    }
    lede_results_free(tres);
    tres = NULL;
    return 0;
}

/* Corpus statistics gathered twice, summed, and searched with. */
static int r_corpus_stats(lede_err *err)
{
    lede_search_opts so = {0};
    so.query = "social media presid* \"border wall\" title:tax";
    lede_corpus_stats *a = (lede_corpus_stats *)err, *b = NULL; /* a must be reset */
    int rc = lede_corpus_stats_gather(tix, &so, &a, err);
    if (rc) {
        CHECK(a == NULL);
        return rc;
    }
    if (!(rc = lede_corpus_stats_gather(tix, &so, &b, err)) &&
        !(rc = lede_corpus_stats_merge(a, b, err))) {
        so.stats = a;
        tres = NULL;
        rc = lede_search(tix, &so, &tres, err);
        lede_results_free(tres);
        tres = NULL;
    }
    lede_corpus_stats_free(a);
    lede_corpus_stats_free(b);
    return rc;
}

/* The calls of fn in a new thread: the per-thread analyzer and
 * decompression contexts are made there, in the armed call, and freed when
 * the thread ends. */
typedef struct in_thread {
    int (*fn)(lede_err *err);
    lede_err *err;
    int rc;
} in_thread;

static void *thread_main(void *p)
{
    in_thread *t = p;
    t->rc = t->fn(t->err);
    return NULL;
}

static int run_in_thread(int (*fn)(lede_err *err), lede_err *err)
{
    in_thread t = {fn, err, 0};
    pthread_t th;
    if (pthread_create(&th, NULL, thread_main, &t))
        die("pthread_create", NULL);
    pthread_join(th, NULL);
    return t.rc;
}

/* lede_index_get of a live, a deleted and a missing id */
static int get_here(lede_err *err)
{
    static const char *const ids[] = {"001_323ec14388e56bcd", "x3", "x1", "nope"};
    for (size_t i = 0; i < 4; i++) {
        lede_stored d;
        memset(&d, 0, sizeof d);
        int rc = lede_index_get(tix, ids[i], strlen(ids[i]), &d, err);
        if (rc == LEDE_ENOTFOUND && i >= 2) {
            lede_err_clear(err);
            continue;
        }
        if (rc)
            return rc;
        CHECK(d.id.len == strlen(ids[i]));
        lede_stored_free(&d);
    }
    return 0;
}
static int r_get(lede_err *err)
{
    return run_in_thread(get_here, err);
}
static int r_search_in_thread(lede_err *err)
{
    return run_in_thread(r_search_prefix_phrase, err);
}

/* lede_index_analyzer (made per thread) and lede_analyze */
static int count_tok(void *ctx, const lede_token *t)
{
    (void)t;
    (*(int *)ctx)++;
    return 0;
}
static int analyze_here(lede_err *err)
{
    lede_analyzer *an = lede_index_analyzer(tix, err);
    if (!an)
        return err->rc ? err->rc : LEDE_EINVAL;
    int n = 0;
    static const char text[] = "Caf\xc3\xa9 \xef\xac\x81nance \xe2\x82 Presidential talks";
    int rc = lede_analyze(an, text, sizeof text - 1, 0, count_tok, &n, NULL);
    if (rc)
        return lede_err_set(err, rc, "lede_analyze: %s", lede_rc_text(rc));
    return 0;
}

static int r_analyzer(lede_err *err)
{
    return run_in_thread(analyze_here, err);
}

/* lede_snippet_make of the bodies of a search's hits (many passages) and
 * a title in whole mode */
static int r_snippet(lede_err *err)
{
    lede_analyzer *an = lede_index_analyzer(shared_ix, err);
    if (!an)
        return err->rc;
    for (uint32_t i = 0; i < shared_res->nhits; i++) {
        const lede_stored *d = &shared_res->hits[i].doc;
        lede_snippet_opts o = {0};
        o.fragments = 3;
        o.chars = 80;
        lede_snippet *s = (lede_snippet *)err;
        int rc = lede_snippet_make(an, &shared_res->terms, LEDE_HL_BODY, d->body.ptr, d->body.len,
                                   &o, &s, err);
        if (rc) {
            CHECK(s == NULL);
            return rc;
        }
        lede_snippet_free(s);
        o.whole = 1;
        rc = lede_snippet_make(an, &shared_res->terms, LEDE_HL_TITLE, d->title.ptr, d->title.len,
                               &o, &s, err);
        if (rc)
            return rc;
        lede_snippet_free(s);
    }
    return 0;
}

/* lede_suggester_build on a fresh index, then completions */
static int r_suggest_build(lede_err *err)
{
    tsg = (lede_suggester *)err;
    int rc = lede_suggester_build(tix, &tsg, err);
    if (rc) {
        CHECK(tsg == NULL);
        tsg = NULL;
    }
    return rc;
}
static int r_suggest(lede_err *err)
{
    static const char *const typed[] = {"so", "social m", "Caf\xc3\xa9", "pres", "x", "zzz"};
    for (size_t i = 0; i < sizeof typed / sizeof typed[0]; i++) {
        lede_suggestions *r = (lede_suggestions *)err;
        int rc = lede_suggest(shared_sg, typed[i], strlen(typed[i]), 8, &r, err);
        if (rc) {
            CHECK(r == NULL);
            return rc;
        }
        lede_suggestions_free(r);
    }
    return 0;
}

/* ingest: JSON Lines (skip_bad), the same compressed, a text folder */
static int count_doc(void *ctx, const lede_doc *d)
{
    (void)d;
    (*(uint64_t *)ctx)++;
    return 0;
}
static int ingest(const char *path, int skip_bad, uint64_t want, lede_err *err)
{
    const char *paths[] = {path};
    lede_ingest_opts io = {0};
    io.skip_bad = skip_bad;
    uint64_t n = 0;
    int rc = lede_ingest_paths(paths, 1, &io, count_doc, &n, NULL, err);
    if (!rc)
        CHECK_EQ_INT(n, want);
    return rc;
}
static int r_ingest_jsonl(lede_err *err)
{
    return ingest(jsonl_path, 1, 3, err);
}
static int r_ingest_zst(lede_err *err)
{
    return ingest(zst_path, 1, 3, err);
}
static int r_ingest_txt(lede_err *err)
{
    return ingest(txt_dir, 0, 5, err);
}
/* lede_jsonl_parse with its scratch growing */
static int r_jsonl_parse(lede_err *err)
{
    static const char line[] = "{\"id\":\"a\\u00e9\",\"title\":\"t\\t\\\"x\\\"\",\"body\":"
                               "\"\\ud83d\\ude00 long escaped body \\n\\n\\n\",\"source\":null}";
    lede_jsonl_scratch sc = {0};
    lede_doc d;
    int rc = lede_jsonl_parse(line, sizeof line - 1, &sc, &d, err);
    lede_jsonl_scratch_free(&sc);
    return rc;
}

/* lede_index_check of the multi-segment index */
static void ignore_line(void *ctx, const char *line)
{
    (void)ctx;
    (void)line;
}
static int r_check(lede_err *err)
{
    return lede_index_check(fix_multi, ignore_line, NULL, err);
}

static void nothing(void)
{
}
static void nothing_rc(int rc)
{
    (void)rc;
}

static const trial trials[] = {
    {"writer_open create", s_open_create, r_open_create, t_open, 0},
    {"writer_open append", s_open_append, r_open_append, t_open, 0},
    {"writer_add", s_add, r_add, free_writer, 0},
    {"writer_add with flushes", s_add_flush, r_add, free_writer, 0},
    {"writer_add replacing", s_add_replace, r_add, free_writer, 0},
    {"writer_delete + commit", s_delete, r_delete, atomic_teardown, 1},
    {"writer_commit build", s_commit_build, r_commit, atomic_teardown, 1},
    {"writer_commit add", s_commit_add, r_commit, atomic_teardown, 1},
    {"writer_merge", s_merge, r_merge, atomic_teardown, 1},
    {"index_open + stats", nothing, r_index_open, t_index, 0},
    {"search facets", s_fresh_index, r_search_facets, t_index, 0},
    {"search groups", s_fresh_index, r_search_groups, t_index, 0},
    {"search sort=date", s_fresh_index, r_search_date, t_index, 0},
    {"search prefixes, phrases", s_fresh_index, r_search_prefix_phrase, t_index, 0},
    {"search in a new thread", s_fresh_index, r_search_in_thread, t_index, 0},
    {"search syntax error", s_fresh_index, r_search_syntax, t_index, 0},
    {"search a query tree", s_fresh_index, r_search_tree, t_index, 0},
    {"corpus stats gather, merge, search", s_fresh_index, r_corpus_stats, t_index, 0},
    {"index_get (new thread)", s_fresh_index, r_get, t_index, 0},
    {"index_analyzer (new thread)", s_fresh_index, r_analyzer, t_index, 0},
    {"snippet_make", nothing, r_snippet, nothing_rc, 0},
    {"suggester_build", s_fresh_index, r_suggest_build, t_index, 0},
    {"suggest", nothing, r_suggest, nothing_rc, 0},
    {"ingest jsonl", nothing, r_ingest_jsonl, nothing_rc, 0},
    {"ingest jsonl.zst", nothing, r_ingest_zst, nothing_rc, 0},
    {"ingest text folder", nothing, r_ingest_txt, nothing_rc, 0},
    {"jsonl_parse", nothing, r_jsonl_parse, nothing_rc, 0},
    {"index_check", nothing, r_check, nothing_rc, 0},
};
#define NTRIALS (sizeof trials / sizeof trials[0])

/* LEDE_ENOMEM in rc and err, with a one-line message that does not blame
 * the index. */
static int clean_enomem(int rc, const lede_err *err)
{
    return rc == LEDE_ENOMEM && err->rc == LEDE_ENOMEM && err->msg[0] &&
           !strchr(err->msg, '\n') && !strstr(err->msg, "corrupt");
}

/* Runs one entry point for N = 1, 2, ... Returns 0, or -1 if the time ran out. */
static int run_trial(const trial *t, double deadline)
{
    double started = now_s();
    long n, total = 0;
    int bad = 0, out_of_time = 0;
    for (n = 1; n <= MAX_N; n++) {
        if (now_s() > deadline) {
            out_of_time = 1;
            break;
        }
        t->setup();
        lede_err err;
        lede_err_clear(&err);
        arm(n);
        int rc = t->run(&err);
        disarm();
        long made = __atomic_load_n(&calls, __ATOMIC_RELAXED);
        long inj = __atomic_load_n(&injected, __ATOMIC_RELAXED);
        t->teardown(rc);
        if (!inj) {
            total = made;
            if (rc) {
                fprintf(stderr, "  %s: fails with nothing injected: %s: %s\n", t->name,
                        lede_rc_name(rc), err.msg);
                bad++;
            }
            break;
        }
        if (rc == 0 && t->may_absorb)
            continue;
        if (!clean_enomem(rc, &err)) {
            if (bad++ < 5)
                fprintf(stderr, "  %s: allocation %ld failed -> rc %s, err.rc %s, \"%s\"\n",
                        t->name, n, lede_rc_name(rc), lede_rc_name(err.rc), err.msg);
            if (trace && bad <= 5)
                print_trace();
        }
    }
    CHECK_MSG(bad == 0, t->name);
    CHECK_MSG(n > 1, t->name); /* the entry point allocated: the wrapping works */
    int leaked = __lsan_do_recoverable_leak_check ? __lsan_do_recoverable_leak_check() : 0;
    CHECK_MSG(!leaked, t->name);
    printf("%-28s %5ld allocations, %5ld failures injected, %s%.2f s%s\n", t->name, total,
           n - 1, bad ? "UNCLEAN, " : "", now_s() - started,
           out_of_time ? " (cut short: time budget)" : n > MAX_N ? " (cut short: MAX_N)" : "");
    return out_of_time ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        data_dir = argv[1];
#if defined(__SANITIZE_ADDRESS__)
    double budget = 200;
#else
    double budget = 50;
#endif
    const char *b = getenv("LEDE_ALLOC_BUDGET_S");
    if (b && atof(b) > 0)
        budget = atof(b);
    trace = getenv("LEDE_ALLOC_TRACE") != NULL;
    const char *only = getenv("LEDE_ALLOC_ONLY"); /* run the entry points whose name has this */
    if (!getenv("TMPDIR") && access("/dev/shm", W_OK) == 0)
        setenv("TMPDIR", "/dev/shm", 1);
    setup_fixtures();
    work = test_path(scratch, "work");

    /* The wrapping works: an armed library call is counted. */
    arm(MAX_N + 1);
    lede_analyzer *an = NULL;
    lede_err err;
    lede_err_clear(&err);
    int rc = lede_analyzer_new(NULL, &an, &err);
    disarm();
    CHECK(rc == 0 && calls > 0);
    lede_analyzer_free(an);

    if (lede_index_open(fix_one, &shared_ix, &err) ||
        lede_suggester_build(shared_ix, &shared_sg, &err))
        die("open", &err);
    lede_search_opts so = {0};
    so.query = "social media \"theresa may\" tax*";
    so.with_body = 1;
    if (lede_search(shared_ix, &so, &shared_res, &err) || !shared_res->nhits)
        die("search", &err);

    double deadline = now_s() + budget;
    int cut = 0;
    for (size_t i = 0; i < NTRIALS; i++)
        if (!only || strstr(trials[i].name, only))
            cut |= run_trial(&trials[i], deadline) != 0;
    CHECK_MSG(!cut, "the time budget ran out: the entry points marked were cut short");
    printf("leak check after each entry point: %s\n",
           __lsan_do_recoverable_leak_check ? "LeakSanitizer" : "none (not an ASan build)");

    lede_results_free(shared_res);
    lede_suggester_free(shared_sg);
    lede_index_free(shared_ix);
    for (size_t i = 0; i < ndocs; i++)
        test_doc_free(&docs[i]);
    test_rmtree(scratch);
    free(scratch);
    free(fix_one);
    free(fix_multi);
    free(jsonl_path);
    free(zst_path);
    free(txt_dir);
    free(work);
    return tap_done();
}
