/* test_segment.c: the segment layout must not change search results. The
 * same documents are indexed as one segment and as many (a 1-byte memory
 * budget flushes every document into its own segment; no_merge keeps them),
 * and every query of a list must give the same ids, docnos and scores (to
 * 1e-9) in both, exhaustive and pruned, at k = 1, 10 and 50, because the
 * corpus statistics are summed over segments. Then: lede_writer_merge back
 * to one segment; `lede-index add` semantics (lede_writer_open with
 * create = 0, in several sessions) against building all at once;
 * deletions (bitmaps in a one-segment and a several-segment index alike,
 * then purged by a merge: the result equals an index built without the
 * deleted documents, which stay deleted, and an id deleted then added again
 * comes back at the end); lede_index_check on the indexes built; and a
 * prefix covering more than 4096 distinct terms (synthetic). Runs on
 * the seed articles (every index checked) and, if ../shared is there (or
 * $LEDE_SHARED), on 500 allsides-news articles (about 12 segments for
 * "many", four indexes checked, to stay fast under the sanitizers; run
 * with the argument "allsides", a meson test of its own). */
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lede/index.h"
#include "lede/ingest.h"
#include "lede/lede.h"
#include "lede/search.h"
#include "tap.h"
#include "testutil.h"

/* ------------------------------------------------------------ temp dirs */

/* ------------------------------------------------------------ owned docs */

typedef struct owned {
    char *f[6];      /* id, title, body, source, date, url; NULL if absent */
    size_t len[6];
} owned;

typedef struct docs {
    owned *d;
    size_t n, cap, limit;
} docs;

static void own_field(owned *o, int i, lede_str s)
{
    o->len[i] = s.len;
    o->f[i] = NULL;
    if (s.ptr) {
        o->f[i] = malloc(s.len + 1);
        memcpy(o->f[i], s.ptr, s.len);
        o->f[i][s.len] = '\0';
    }
}

static int collect(void *ctx, const lede_doc *doc)
{
    docs *c = ctx;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->d = realloc(c->d, c->cap * sizeof *c->d);
    }
    owned *o = &c->d[c->n++];
    own_field(o, 0, doc->id);
    own_field(o, 1, doc->title);
    own_field(o, 2, doc->body);
    own_field(o, 3, doc->source);
    own_field(o, 4, doc->date);
    own_field(o, 5, doc->url);
    return c->limit && c->n >= c->limit ? 1 : 0;
}

static void docs_free(docs *c)
{
    for (size_t i = 0; i < c->n; i++)
        for (int j = 0; j < 6; j++)
            free(c->d[i].f[j]);
    free(c->d);
    memset(c, 0, sizeof *c);
}

static lede_doc to_doc(const owned *o)
{
    lede_doc d;
    lede_str *f[6] = {&d.id, &d.title, &d.body, &d.source, &d.date, &d.url};
    for (int i = 0; i < 6; i++) {
        f[i]->ptr = o->f[i];
        f[i]->len = o->len[i];
    }
    return d;
}

/* ------------------------------------------------------------ building */

typedef struct wopts {
    size_t budget;   /* 0 = default */
    int no_merge;
} wopts;

static void add_range(const char *dir, const docs *c, size_t from, size_t to, int create, wopts wo,
                      const char *label)
{
    lede_writer_opts o;
    memset(&o, 0, sizeof o);
    o.mem_budget = wo.budget;
    o.no_merge = wo.no_merge;
    lede_writer *w;
    lede_err err;
    lede_err_clear(&err);
    int rc = lede_writer_open(dir, &o, create, &w, &err);
    CHECK_MSG(rc == 0, label);
    if (rc) {
        fprintf(stderr, "%s: writer_open: %s\n", label, err.msg);
        return;
    }
    for (size_t i = from; i < to && !rc; i++) {
        lede_doc d = to_doc(&c->d[i]);
        rc = lede_writer_add(w, &d, &err);
    }
    if (!rc)
        rc = lede_writer_commit(w, &err);
    CHECK_MSG(rc == 0, label);
    if (rc)
        fprintf(stderr, "%s: %s\n", label, err.msg);
    lede_writer_free(w);
}

static void delete_ids(const char *dir, const docs *c, size_t every, size_t first, wopts wo,
                       const char *label)
{
    lede_writer_opts o;
    memset(&o, 0, sizeof o);
    o.mem_budget = wo.budget;
    o.no_merge = wo.no_merge;
    lede_writer *w;
    lede_err err;
    lede_err_clear(&err);
    int rc = lede_writer_open(dir, &o, 0, &w, &err);
    CHECK_MSG(rc == 0, label);
    if (rc)
        return;
    for (size_t i = first; i < c->n; i += every) {
        int found = 0;
        CHECK_EQ_INT(lede_writer_delete(w, c->d[i].f[0], c->d[i].len[0], &found, &err), 0);
        CHECK_MSG(found == 1, label);
    }
    rc = lede_writer_commit(w, &err);
    CHECK_MSG(rc == 0, label);
    lede_writer_free(w);
}

static void merge_all(const char *dir, const char *label)
{
    lede_writer *w;
    lede_err err;
    lede_err_clear(&err);
    int rc = lede_writer_open(dir, NULL, 0, &w, &err);
    CHECK_MSG(rc == 0, label);
    if (rc)
        return;
    rc = lede_writer_merge(w, &err);
    CHECK_MSG(rc == 0, label);
    if (rc)
        fprintf(stderr, "%s: merge: %s\n", label, err.msg);
    lede_writer_free(w);
}

static void report_line(void *ctx, const char *line)
{
    fprintf(stderr, "  check %s: %s\n", (const char *)ctx, line);
}

/* 0: check only the indexes marked essential (lede_index_check re-analyzes
 * every stored document: about a second per 500-article index under the
 * sanitizers). */
static int check_all = 1;

static void check_index_if(int essential, const char *dir, const char *label)
{
    if (!essential && !check_all)
        return;
    lede_err err;
    lede_err_clear(&err);
    int rc = lede_index_check(dir, report_line, (void *)label, &err);
    CHECK_MSG(rc == 0, label);
}

static lede_index *open_ix(const char *dir)
{
    lede_index *ix = NULL;
    lede_err err;
    lede_err_clear(&err);
    int rc = lede_index_open(dir, &ix, &err);
    CHECK_EQ_INT(rc, 0);
    if (rc)
        fprintf(stderr, "open %s: %s\n", dir, err.msg);
    return ix;
}

static lede_index_stats stats_of(const char *dir)
{
    lede_index_stats st;
    memset(&st, 0, sizeof st);
    lede_index *ix = open_ix(dir);
    if (ix) {
        lede_err err;
        lede_err_clear(&err);
        lede_index_stats_get(ix, &st, &err);
        lede_index_free(ix);
    }
    return st;
}

/* ------------------------------------------------------------ comparing */

static const char *const queries[] = {
    "macron", "theresa may", "social media", "\"social media\"", "\"prime minister\"",
    "+terrorist +content", "+macron -facebook", "extremist OR terrorism", "internet AND (fine OR fines)",
    "title:extremist", "body:extremist", "title:(social media) body:france", "presid*",
    "remov* content", "title:\"social media\"", "body:\"social media\"", "source:\"ITV News\"",
    "source:euronews macron", "date:2017-06-13", "date>=2017-06-01 -macron", "-the",
    "the of and to a in", "+the +of", "\"the united states\"", "trump", "obama health care",
    "+trump -clinton", "\"white house\"", "title:trump", "body:senate vote", "elect*",
    "immigration OR border", "\"new york\" times", "+police shooting", "date<2016 trump",
    "date:2014 obama", "source:CNN", "source:Reuters trade", "war -iraq", "economy jobs growth",
    "(china OR russia) AND sanctions", "supreme court", "\"supreme court\" ruling", "climate change",
    "gun* control", "NOT trump", "e-mail", "U.S. congress",
};
#define NQUERIES (sizeof queries / sizeof queries[0])

static int same_hit(const lede_hit *a, const lede_hit *b)
{
    double m = fmax(fabs(a->score), fabs(b->score));
    return a->docno == b->docno && a->doc.id.len == b->doc.id.len &&
           memcmp(a->doc.id.ptr, b->doc.id.ptr, a->doc.id.len) == 0 &&
           fabs(a->score - b->score) <= 1e-9 * m;
}

/* Runs every query on both indexes (exhaustive and pruned, several k) and
 * requires identical results; returns the number of comparisons. */
static int compare(lede_index *a, lede_index *b, const char *label)
{
    static const uint32_t ks[] = {1, 10, 50};
    int compared = 0;
    if (!a || !b)
        return 0;
    for (size_t qi = 0; qi < NQUERIES; qi++)
        for (int ex = 0; ex <= 1; ex++)
            for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
                lede_search_opts o;
                memset(&o, 0, sizeof o);
                o.query = queries[qi];
                o.k = ks[ki];
                o.exhaustive = ex;
                o.ids_only = 1;
                lede_results *ra = NULL, *rb = NULL;
                lede_err ea, eb;
                lede_err_clear(&ea);
                lede_err_clear(&eb);
                int rca = lede_search(a, &o, &ra, &ea);
                int rcb = lede_search(b, &o, &rb, &eb);
                char what[256];
                snprintf(what, sizeof what, "%s: '%s' k=%u %s", label, queries[qi], ks[ki],
                         ex ? "exhaustive" : "pruned");
                CHECK_MSG(rca == 0 && rcb == 0, what);
                if (rca || rcb) {
                    fprintf(stderr, "  %s: %s / %s\n", what, ea.msg, eb.msg);
                    lede_results_free(ra);
                    lede_results_free(rb);
                    continue;
                }
                compared++;
                CHECK_MSG(ra->nhits == rb->nhits, what);
                if (ex)
                    CHECK_MSG(ra->total == rb->total, what);
                for (uint32_t i = 0; i < ra->nhits && i < rb->nhits; i++) {
                    int ok = same_hit(&ra->hits[i], &rb->hits[i]);
                    CHECK_MSG(ok, what);
                    if (!ok) {
                        fprintf(stderr, "  %s: hit %u: %.*s #%llu %.17g vs %.*s #%llu %.17g\n", what,
                                i, (int)ra->hits[i].doc.id.len, ra->hits[i].doc.id.ptr,
                                (unsigned long long)ra->hits[i].docno, ra->hits[i].score,
                                (int)rb->hits[i].doc.id.len, rb->hits[i].doc.id.ptr,
                                (unsigned long long)rb->hits[i].docno, rb->hits[i].score);
                        break;
                    }
                }
                lede_results_free(ra);
                lede_results_free(rb);
            }
    return compared;
}

static int compare_dirs(const char *da, const char *db, const char *label)
{
    lede_index *a = open_ix(da), *b = open_ix(db);
    int n = compare(a, b, label);
    lede_index_free(a);
    lede_index_free(b);
    return n;
}

/* Asserts that none of the deleted ids can be fetched or found. */
static void check_deleted_gone(const char *dir, const docs *c, size_t every, size_t first,
                               const char *label)
{
    lede_index *ix = open_ix(dir);
    if (!ix)
        return;
    for (size_t i = 0; i < c->n; i++) {
        lede_stored s;
        lede_err err;
        lede_err_clear(&err);
        int rc = lede_index_get(ix, c->d[i].f[0], c->d[i].len[0], &s, &err);
        int deleted = i >= first && (i - first) % every == 0;
        CHECK_MSG(rc == (deleted ? LEDE_ENOTFOUND : 0), label);
        lede_stored_free(&s);
    }
    {
        /* An unknown id with line breaks in it: the message stays one line
         * (lede.h), as it names the id. */
        lede_stored s;
        lede_err err;
        lede_err_clear(&err);
        CHECK_EQ_INT(lede_index_get(ix, "no\nsuch\r\nid", 11, &s, &err), LEDE_ENOTFOUND);
        CHECK_MSG(err.msg[0] && !strchr(err.msg, '\n') && !strchr(err.msg, '\r'), err.msg);
    }
    /* "Every document except" a word nobody uses: exactly the live ones. */
    lede_search_opts o;
    memset(&o, 0, sizeof o);
    o.query = "-zzqxjv";
    o.k = 100000;
    o.exhaustive = 1;
    o.ids_only = 1;
    lede_results *r;
    lede_err err;
    lede_err_clear(&err);
    if (lede_search(ix, &o, &r, &err) == 0) {
        size_t ndel = c->n > first ? (c->n - first + every - 1) / every : 0;
        CHECK_MSG(r->nhits == c->n - ndel, label);
        lede_results_free(r);
    } else {
        CHECK_MSG(0, label);
    }
    lede_index_free(ix);
}

/* ------------------------------------------------------------ the scenario */

/* many_budget: the writer's memory budget for the many-segment indexes (1:
 * one document per segment). */
static void run_corpus(const char *root, const docs *c, const char *name, size_t many_budget,
                       int check_every_index)
{
    check_all = check_every_index;
    char label[128];
    char buf[256];
    size_t n = c->n;
    int compared = 0;
    wopts def = {0, 0}, small = {many_budget, 1};

    snprintf(buf, sizeof buf, "%s-one", name);
    char *one = test_path(root, buf);
    snprintf(buf, sizeof buf, "%s-many", name);
    char *many = test_path(root, buf);
    add_range(one, c, 0, n, 1, def, "build one segment");
    add_range(many, c, 0, n, 1, small, "build many segments");
    lede_index_stats s1 = stats_of(one), sm = stats_of(many);
    CHECK_EQ_INT(s1.segments, 1);
    if (many_budget == 1)
        CHECK_EQ_INT(sm.segments, n);
    CHECK(sm.segments > 1);
    printf("%s: %llu segments\n", name, (unsigned long long)sm.segments);
    CHECK_EQ_INT(s1.documents, n);
    CHECK_EQ_INT(sm.documents, n);
    CHECK(s1.avgdl == sm.avgdl);
    check_index_if(0, one, "one");
    check_index_if(1, many, "many");
    snprintf(label, sizeof label, "%s one vs many", name);
    compared += compare_dirs(one, many, label);

    /* Merged back into one segment. */
    merge_all(many, "merge many");
    sm = stats_of(many);
    CHECK_EQ_INT(sm.segments, 1);
    CHECK_EQ_INT(sm.documents, n);
    check_index_if(1, many, "many merged");
    snprintf(label, sizeof label, "%s one vs many merged", name);
    compared += compare_dirs(one, many, label);

    /* Added later in three sessions (merging on: the last session's several
     * new segments are merged together at its commit). */
    snprintf(buf, sizeof buf, "%s-add", name);
    char *add = test_path(root, buf);
    add_range(add, c, 0, n / 3, 1, def, "add: first part");
    add_range(add, c, n / 3, 2 * n / 3, 0, def, "add: second part");
    add_range(add, c, 2 * n / 3, n, 0, (wopts){many_budget, 0}, "add: third part");
    lede_index_stats sa = stats_of(add);
    CHECK_EQ_INT(sa.documents, n);
    CHECK(sa.segments >= 1);
    check_index_if(0, add, "add");
    snprintf(label, sizeof label, "%s one vs added later", name);
    compared += compare_dirs(one, add, label);

    /* Added later in twelve sessions, each flushing several segments (one
     * per document with a 1-byte budget), none merged. */
    snprintf(buf, sizeof buf, "%s-add1", name);
    char *add1 = test_path(root, buf);
    size_t sessions = n < 12 ? n : 12;
    for (size_t s = 0; s < sessions; s++)
        add_range(add1, c, s * n / sessions, (s + 1) * n / sessions, s == 0, small, "add1");
    sa = stats_of(add1);
    CHECK_EQ_INT(sa.documents, n);
    CHECK(sa.segments >= sessions);
    if (many_budget == 1)
        CHECK_EQ_INT(sa.segments, n);
    check_index_if(0, add1, "add1");
    snprintf(label, sizeof label, "%s one vs added in twelve sessions", name);
    compared += compare_dirs(one, add1, label);

    /* Deletions: the same ids deleted from the one-segment index and from
     * the one added in three sessions (several segments) give the same
     * results (deleted documents still count in the statistics until a
     * merge, in both alike). */
    size_t every = n < 10 ? 2 : 7, first = 1;
    size_t ndel = (n - first + every - 1) / every;
    delete_ids(one, c, every, first, (wopts){0, 1}, "one: delete");
    delete_ids(add, c, every, first, (wopts){0, 1}, "add: delete");
    lede_index_stats sd1 = stats_of(one), sdm = stats_of(add);
    CHECK_EQ_INT(sd1.documents, n - ndel);
    CHECK_EQ_INT(sd1.deleted, ndel);
    CHECK_EQ_INT(sdm.documents, n - ndel);
    CHECK_EQ_INT(sdm.deleted, ndel);
    CHECK(sdm.segments > 1);
    printf("%s: %llu segments with deletions\n", name, (unsigned long long)sdm.segments);
    check_index_if(0, one, "one with deletions");
    check_index_if(1, add, "add with deletions");
    check_deleted_gone(one, c, every, first, "one: deleted gone");
    check_deleted_gone(add, c, every, first, "add: deleted gone");
    snprintf(label, sizeof label, "%s one vs added later, with deletions", name);
    compared += compare_dirs(one, add, label);

    /* The deletions survive merges, after which the index is the one built
     * without those documents. */
    docs kept = {0};
    for (size_t i = 0; i < n; i++) {
        if (i >= first && (i - first) % every == 0)
            continue;
        lede_doc d = to_doc(&c->d[i]);
        collect(&kept, &d);
    }
    snprintf(buf, sizeof buf, "%s-kept", name);
    char *kept_dir = test_path(root, buf);
    add_range(kept_dir, &kept, 0, kept.n, 1, def, "kept build");
    merge_all(one, "merge one with deletions");
    merge_all(add, "merge add with deletions");
    sd1 = stats_of(one);
    sdm = stats_of(add);
    CHECK_EQ_INT(sd1.segments, 1);
    CHECK_EQ_INT(sdm.segments, 1);
    CHECK_EQ_INT(sd1.documents, n - ndel);
    CHECK_EQ_INT(sd1.deleted, 0);
    CHECK_EQ_INT(sdm.documents, n - ndel);
    CHECK_EQ_INT(sdm.deleted, 0);
    check_index_if(0, one, "one with deletions, merged");
    check_index_if(0, add, "add with deletions, merged");
    check_deleted_gone(one, c, every, first, "one merged: deleted gone");
    check_deleted_gone(add, c, every, first, "add merged: deleted gone");
    snprintf(label, sizeof label, "%s kept vs one with deletions, merged", name);
    compared += compare_dirs(kept_dir, one, label);
    snprintf(label, sizeof label, "%s kept vs added with deletions, merged", name);
    compared += compare_dirs(kept_dir, add, label);

    /* A later session adds a document again with an id that was deleted:
     * it comes back, at the end, as in an index built that way. */
    add_range(add, c, first, first + 1, 0, def, "re-add");
    lede_doc back = to_doc(&c->d[first]);
    collect(&kept, &back);
    snprintf(buf, sizeof buf, "%s-kept2", name);
    char *kept2 = test_path(root, buf);
    add_range(kept2, &kept, 0, kept.n, 1, def, "kept2 build");
    merge_all(add, "merge re-added");
    check_index_if(1, add, "re-added, merged");
    snprintf(label, sizeof label, "%s re-added vs built so", name);
    compared += compare_dirs(kept2, add, label);

    printf("%s: %zu documents, %d query comparisons\n", name, n, compared);
    docs_free(&kept);
    free(one);
    free(many);
    free(add);
    free(add1);
    free(kept_dir);
    free(kept2);
}

/* A prefix covering more than 4096 distinct terms: which terms it expands
 * to must not depend on the segment layout either. Ten short documents
 * "zq4100" come first, then one document with the 4200 terms zq0000 ..
 * zq4199. */
static void test_wide_prefix(const char *root)
{
    docs c = {0};
    char id[16];
    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof id, "b%d", i);
        lede_doc d;
        memset(&d, 0, sizeof d);
        d.id = (lede_str){id, strlen(id)};
        d.title = (lede_str){"note", 4};
        d.body = (lede_str){"zq4100", 6};
        collect(&c, &d);
    }
    size_t cap = 4200 * 7 + 1, len = 0;
    char *body = malloc(cap);
    for (int i = 0; i < 4200; i++)
        len += (size_t)snprintf(body + len, cap - len, "zq%04d ", i);
    lede_doc big;
    memset(&big, 0, sizeof big);
    big.id = (lede_str){"a", 1};
    big.title = (lede_str){"list", 4};
    big.body = (lede_str){body, len};
    collect(&c, &big);
    free(body);

    char *one = test_path(root, "wide-one"), *many = test_path(root, "wide-many");
    add_range(one, &c, 0, c.n, 1, (wopts){0, 0}, "wide one");
    add_range(many, &c, 0, c.n, 1, (wopts){1, 1}, "wide many");
    lede_index *a = open_ix(one), *b = open_ix(many);
    const char *qs[] = {"zq*", "zq4*", "note zq*"};
    for (size_t i = 0; a && b && i < sizeof qs / sizeof qs[0]; i++)
        for (int ex = 0; ex <= 1; ex++) {
            lede_search_opts o;
            memset(&o, 0, sizeof o);
            o.query = qs[i];
            o.k = 20;
            o.exhaustive = ex;
            o.ids_only = 1;
            lede_results *ra = NULL, *rb = NULL;
            lede_err ea, eb;
            lede_err_clear(&ea);
            lede_err_clear(&eb);
            int rca = lede_search(a, &o, &ra, &ea), rcb = lede_search(b, &o, &rb, &eb);
            char what[128];
            snprintf(what, sizeof what, "wide prefix '%s' %s: one vs many segments", qs[i],
                     ex ? "exhaustive" : "pruned");
            CHECK_MSG(rca == 0 && rcb == 0, what);
            if (!rca && !rcb) {
                CHECK_MSG(ra->nhits == rb->nhits, what);
                if (ra->nhits != rb->nhits)
                    fprintf(stderr, "  %s: %u hits vs %u\n", what, ra->nhits, rb->nhits);
                for (uint32_t h = 0; h < ra->nhits && h < rb->nhits; h++)
                    if (!same_hit(&ra->hits[h], &rb->hits[h])) {
                        CHECK_MSG(0, what);
                        fprintf(stderr, "  %s: hit %u: %.*s %.17g vs %.*s %.17g\n", what, h,
                                (int)ra->hits[h].doc.id.len, ra->hits[h].doc.id.ptr,
                                ra->hits[h].score, (int)rb->hits[h].doc.id.len,
                                rb->hits[h].doc.id.ptr, rb->hits[h].score);
                        break;
                    }
            }
            lede_results_free(ra);
            lede_results_free(rb);
        }
    lede_index_free(a);
    lede_index_free(b);
    free(one);
    free(many);
    docs_free(&c);
}

/* No argument: the seed articles (and the wide prefix). "allsides": 500
 * allsides-news articles, a separate meson test with a longer timeout;
 * exits 77 (skip) without ../shared. */
int main(int argc, char **argv)
{
    const char *part = argc > 1 ? argv[1] : "seeds";
    if (strcmp(part, "seeds") != 0 && strcmp(part, "allsides") != 0) {
        fprintf(stderr, "usage: test_segment [seeds|allsides]\n");
        return 2;
    }
    lede_err err;
    int rc;
    if (strcmp(part, "seeds") == 0) {
        char *root = test_tmpdir("segment");
        docs seeds = {0};
        const char *seed_path = "data/seeds.jsonl";
        lede_err_clear(&err);
        rc = lede_ingest_paths(&seed_path, 1, NULL, collect, &seeds, NULL, &err);
        CHECK_EQ_INT(rc, 0);
        CHECK(seeds.n >= 5);
        if (!rc && seeds.n)
            run_corpus(root, &seeds, "seeds", 1, 1);
        docs_free(&seeds);
        test_wide_prefix(root);
        test_rmtree(root);
        free(root);
        return tap_done();
    }

    const char *shared = getenv("LEDE_SHARED");
    char path[1024];
    snprintf(path, sizeof path, "%s/corpora/allsides-news/corpus.jsonl.zst",
             shared && *shared ? shared : "../../shared");
    if (access(path, R_OK) != 0) {
        printf("SKIP: %s not found (set LEDE_SHARED to the shared folder)\n", path);
        return 77;
    }
    char *root = test_tmpdir("segment");
    docs news = {0};
    news.limit = 500;
    const char *p = path;
    lede_err_clear(&err);
    rc = lede_ingest_paths(&p, 1, NULL, collect, &news, NULL, &err);
    CHECK_EQ_INT(rc, 1); /* stopped by the callback */
    CHECK_EQ_INT(news.n, 500);
    /* About 12 segments: one per document would make the merge slow
     * (merge.c looks every key up in every input segment). */
    run_corpus(root, &news, "allsides", 300000, 0);
    docs_free(&news);
    test_rmtree(root);
    free(root);
    return tap_done();
}
