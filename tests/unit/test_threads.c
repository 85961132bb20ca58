/* test_threads.c: one open lede_index queried from several threads at once
 * gives every thread the same answers as a single thread (the server's use:
 * per-query memory, thread-local analyzers, no shared mutable state). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lede/index.h"
#include "lede/ingest.h"
#include "lede/search.h"
#include "tap.h"

#define NTHREADS 4
#define ROUNDS 50

static const char *const queries[] = {
    "macron", "\"legal liability\" social media", "+macron +fines -football",
    "title:macron", "body:extremist", "terror*", "(france OR britain) AND internet",
    "source:\"ITV News\" fines", "date>=2017-06-01 macron", "\"prime minister\"",
};
#define NQUERIES (sizeof queries / sizeof *queries)

static lede_index *ix;
static char expected[NQUERIES][2048];

static void render(lede_results *res, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (uint32_t i = 0; i < res->nhits && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%.*s:%.12g;", (int)res->hits[i].doc.id.len,
                              res->hits[i].doc.id.ptr, res->hits[i].score);
}

static void *worker(void *arg)
{
    long id = (long)arg;
    long bad = 0;
    char got[2048];
    for (int r = 0; r < ROUNDS; r++) {
        size_t q = (size_t)(r + id) % NQUERIES;
        lede_search_opts so = {0};
        so.query = queries[q];
        so.k = 5;
        lede_results *res;
        lede_err err;
        lede_err_clear(&err);
        if (lede_search(ix, &so, &res, &err)) {
            bad++;
            continue;
        }
        render(res, got, sizeof got);
        bad += strcmp(got, expected[q]) != 0;
        lede_results_free(res);
    }
    return (void *)bad;
}

static lede_writer *test_writer;

static int add(void *ctx, const lede_doc *doc)
{
    return lede_writer_add(test_writer, doc, ctx);
}

int main(void)
{
    char dir[] = "/tmp/lede-threads-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    lede_err err;
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_writer_open(dir, NULL, 1, &test_writer, &err), 0);
    const char *paths[] = {"data/seeds.jsonl"};
    lede_ingest_opts io = {0};
    CHECK_EQ_INT(lede_ingest_paths(paths, 1, &io, add, &err, NULL, &err), 0);
    CHECK_EQ_INT(lede_writer_commit(test_writer, &err), 0);
    lede_writer_free(test_writer);
    CHECK_EQ_INT(lede_index_open(dir, &ix, &err), 0);
    for (size_t q = 0; q < NQUERIES; q++) {
        lede_search_opts so = {0};
        so.query = queries[q];
        so.k = 5;
        lede_results *res;
        CHECK_EQ_INT(lede_search(ix, &so, &res, &err), 0);
        render(res, expected[q], sizeof expected[q]);
        CHECK_MSG(res->nhits > 0, queries[q]);
        lede_results_free(res);
    }
    pthread_t th[NTHREADS];
    for (long t = 0; t < NTHREADS; t++)
        CHECK_EQ_INT(pthread_create(&th[t], NULL, worker, (void *)t), 0);
    long bad = 0;
    for (int t = 0; t < NTHREADS; t++) {
        void *r;
        pthread_join(th[t], &r);
        bad += (long)r;
    }
    CHECK_EQ_INT(bad, 0);
    lede_index_free(ix);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
    return tap_done();
}
