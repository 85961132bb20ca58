/* test_reader.c: the open snapshot (index/store/reader.c) through the public
 * API: each index owns its analyzers, so two indexes with different stop
 * lists in one process (and one thread) never share or free each other's;
 * an index rebuilt in place with a new stop list uses the new list once
 * reopened (a server's SIGHUP), while the snapshot opened before keeps the
 * list it was opened with; and everything a lede_results hands out stays
 * valid after the index is freed. Run under ASan, a use of a freed analyzer
 * or of an unmapped outlet name fails the suite. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lede/analyze.h"
#include "lede/index.h"
#include "lede/search.h"
#include "tap.h"
#include "testutil.h"

static const char *docs[][3] = {
    {"a1", "The cat and the dog", "Harbor Times"},
    {"a2", "A dog in the garden", "Northern Courier"},
    {"a3", "Cats sleep all day", "Harbor Times"},
};

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

/* Builds docs into dir with stop list text (NULL: none). */
static int build(const char *dir, const char *stop_path)
{
    lede_writer_opts o = {0};
    o.analyzer.stopwords_path = stop_path;
    lede_writer *w;
    lede_err err = {0};
    int rc = lede_writer_open(dir, &o, 1, &w, &err);
    for (size_t i = 0; !rc && i < sizeof docs / sizeof *docs; i++) {
        lede_doc d = {{docs[i][0], strlen(docs[i][0])}, {docs[i][1], strlen(docs[i][1])},
                      {"body text", 9}, {docs[i][2], strlen(docs[i][2])}, {NULL, 0},
                      {NULL, 0}};
        rc = lede_writer_add(w, &d, &err);
    }
    if (!rc)
        rc = lede_writer_commit(w, &err);
    lede_writer_free(w);
    if (rc)
        fprintf(stderr, "build %s: %s\n", dir, err.msg);
    return rc;
}

typedef struct terms {
    char text[256];
} terms;

static int on_token(void *ctx, const lede_token *t)
{
    terms *out = ctx;
    size_t n = strlen(out->text);
    snprintf(out->text + n, sizeof out->text - n, "%s%.*s", n ? " " : "", (int)t->term_len, t->term);
    return 0;
}

static const char *analyzed(lede_analyzer *an, const char *text, terms *out)
{
    out->text[0] = '\0';
    if (lede_analyze(an, text, strlen(text), 0, on_token, out, NULL))
        return "(error)";
    return out->text;
}

static uint64_t count(lede_index *ix, const char *q)
{
    lede_search_opts o = {0};
    o.query = q;
    lede_results *res = NULL;
    lede_err err = {0};
    if (lede_search(ix, &o, &res, &err)) {
        fprintf(stderr, "search %s: %s\n", q, err.msg);
        return UINT64_MAX;
    }
    uint64_t n = res->total;
    lede_results_free(res);
    return n;
}

typedef struct pair {
    lede_index *stop_the, *no_stop;
    int bad;
} pair;

static void *alternate(void *p)
{
    pair *pr = p;
    for (int i = 0; i < 200; i++) {
        lede_err err = {0};
        lede_analyzer *a = lede_index_analyzer(pr->stop_the, &err);
        lede_analyzer *b = lede_index_analyzer(pr->no_stop, &err);
        terms ta, tb;
        if (!a || !b || strcmp(analyzed(a, "the cat", &ta), "cat") != 0 ||
            strcmp(analyzed(b, "the cat", &tb), "the cat") != 0 ||
            count(pr->stop_the, "the") != 0 || count(pr->no_stop, "the") != 2)
            __atomic_add_fetch(&pr->bad, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void two_indexes(const char *root)
{
    char *stop = test_path(root, "stop-the.txt");
    char *dir_a = test_path(root, "a"), *dir_b = test_path(root, "b");
    write_file(stop, "# a one-word list\nthe\n");
    CHECK(build(dir_a, stop) == 0);
    CHECK(build(dir_b, NULL) == 0);
    lede_index *a = NULL, *b = NULL;
    lede_err err = {0};
    CHECK(lede_index_open(dir_a, &a, &err) == 0);
    CHECK(lede_index_open(dir_b, &b, &err) == 0);
    if (a && b) {
        /* One thread, both indexes: each keeps its own analyzer, and the
         * pointer from the first call survives a call on the other index. */
        lede_analyzer *an_a = lede_index_analyzer(a, &err);
        lede_analyzer *an_b = lede_index_analyzer(b, &err);
        CHECK(an_a && an_b && an_a != an_b);
        terms t;
        CHECK_EQ_STR(analyzed(an_a, "the cat", &t), "cat");
        CHECK_EQ_STR(analyzed(an_b, "the cat", &t), "the cat");
        CHECK(lede_index_analyzer(a, &err) == an_a);
        CHECK_EQ_INT(count(a, "the"), 0);
        CHECK_EQ_INT(count(b, "the"), 2);
        CHECK_EQ_STR(analyzed(an_a, "the dog", &t), "dog");
        /* Several threads alternating between the two. */
        pthread_t th[4];
        pair pr = {a, b, 0};
        for (int i = 0; i < 4; i++)
            pthread_create(&th[i], NULL, alternate, &pr);
        for (int i = 0; i < 4; i++)
            pthread_join(th[i], NULL);
        CHECK_EQ_INT(pr.bad, 0);
        /* Freeing one leaves the other's analyzer intact. */
        lede_index_free(a);
        a = NULL;
        CHECK_EQ_STR(analyzed(an_b, "the cat", &t), "the cat");
        CHECK_EQ_INT(count(b, "the"), 2);
    }
    lede_index_free(a);
    lede_index_free(b);
    free(stop);
    free(dir_a);
    free(dir_b);
}

static void *new_thread_counts(void *p)
{
    lede_index *ix = p;
    uint64_t *n = malloc(2 * sizeof *n);
    n[0] = count(ix, "cat");
    n[1] = count(ix, "dog");
    return n;
}

static void rebuilt_in_place(const char *root)
{
    char *stop_cat = test_path(root, "stop-cat.txt"), *stop_dog = test_path(root, "stop-dog.txt");
    char *dir = test_path(root, "c");
    write_file(stop_cat, "cat\ncats\n");
    write_file(stop_dog, "dog\n");
    CHECK(build(dir, stop_cat) == 0);
    lede_index *old = NULL, *fresh = NULL;
    lede_err err = {0};
    CHECK(lede_index_open(dir, &old, &err) == 0);
    if (old)
        CHECK_EQ_INT(count(old, "cat"), 0);
    /* The operator rebuilds the index with another stop list, then reloads. */
    CHECK(build(dir, stop_dog) == 0);
    CHECK(lede_index_open(dir, &fresh, &err) == 0);
    if (old && fresh) {
        CHECK_EQ_INT(count(fresh, "cat"), 2);
        CHECK_EQ_INT(count(fresh, "dog"), 0);
        /* The old snapshot keeps its list, also on a thread new to it. */
        pthread_t th;
        void *ret = NULL;
        pthread_create(&th, NULL, new_thread_counts, old);
        pthread_join(th, &ret);
        uint64_t *n = ret;
        CHECK(n && n[0] == 0);
        free(n);
    }
    lede_index_free(old);
    lede_index_free(fresh);
    free(stop_cat);
    free(stop_dog);
    free(dir);
}

/* Every string a result hands out lives until lede_results_free, even after
 * the index it came from is freed (the server frees an old snapshot while
 * a reply may still be written from its results). */
static void results_outlive_index(const char *root)
{
    char *dir = test_path(root, "d");
    CHECK(build(dir, NULL) == 0);
    lede_index *ix = NULL;
    lede_err err = {0};
    CHECK(lede_index_open(dir, &ix, &err) == 0);
    if (!ix) {
        free(dir);
        return;
    }
    lede_search_opts o = {0};
    o.query = "dog OR cats";
    o.facets = 1;
    o.facet_docs = 10;
    o.explain = 1;
    lede_results *res = NULL, *grouped = NULL;
    CHECK(lede_search(ix, &o, &res, &err) == 0);
    o.facets = 0;
    o.group_hits = 2;
    CHECK(lede_search(ix, &o, &grouped, &err) == 0);
    lede_index_free(ix);
    size_t bytes = 0;
    if (res) {
        for (uint32_t i = 0; i < res->nhits; i++) {
            bytes += res->hits[i].doc.id.len + strlen(res->hits[i].explain->terms[0].term);
            bytes += strlen(res->hits[i].explain->terms[0].field);
        }
        for (uint32_t i = 0; i < res->nfacets; i++)
            bytes += strlen(res->facets[i].value) + res->facets[i].best.doc.title.len;
        for (uint32_t i = 0; i < res->terms.nterms; i++)
            bytes += strlen(res->terms.terms[i].term);
        CHECK_EQ_INT(res->nfacets, 2);
        CHECK_EQ_STR(res->facets[0].value, "Harbor Times");
    }
    if (grouped) {
        for (uint32_t i = 0; i < grouped->ngroups; i++)
            bytes += grouped->groups[i].value ? strlen(grouped->groups[i].value) : 0;
        CHECK_EQ_INT(grouped->ngroups, 2);
    }
    CHECK(bytes > 0);
    lede_results_free(res);
    lede_results_free(grouped);
    free(dir);
}

int main(void)
{
    char *root = test_tmpdir("reader");
    two_indexes(root);
    rebuilt_in_place(root);
    results_outlive_index(root);
    test_rmtree(root);
    free(root);
    return tap_done();
}
