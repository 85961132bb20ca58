/* test_search.c: unit tests of index/query/search.c (and the scoring of
 * retrieve.c) against BM25 computed by hand. A tiny corpus of seven
 * documents made of words whose stems are themselves (cat, dog, fish, ...)
 * is indexed through the public writer; the test recomputes every score
 * from the formula (k1, b, Lucene idf = ln(1 + (N - df + 0.5)/(df + 0.5)),
 * doc length = tokens of title + body, tf over title + body) and holds
 * lede_search, exhaustive and pruned, to it within 1e-9 relative. Also:
 * title:/body: scoping with per-field lengths and averages, phrase scoring,
 * plain-mode weights, k1/b options, explain, offset/k windows, ties in
 * insertion order, replacement by a repeated id, deletion, lede_index_get,
 * empty results and error codes. */
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lede/analyze.h"
#include "lede/index.h"
#include "lede/lede.h"
#include "lede/search.h"
#include "tap.h"
#include "testutil.h"

/* ------------------------------------------------------------ temp dirs */

/* ------------------------------------------------------------ the corpus */

typedef struct tdoc {
    const char *id, *title, *body, *source, *date;
} tdoc;

/* Every word is its own stem (checked below). a6 and a7 are identical in
 * text, so they tie on every query: a6 must come first. "dog cat" is a
 * phrase only in a2's body; in a1 and a5 those words straddle the
 * title/body boundary, which no phrase may cross. a4's body holds two
 * overlapping "lion lion". */
static const tdoc corpus[] = {
    {"a1", "cat dog", "cat cat fish", "Alpha", "2020-01-15"},
    {"a2", "fish", "dog cat dog dog bird bird", "Beta", "2020-02-01"},
    {"a3", "bird cat", "frog lion cat dog fish frog", "Alpha", NULL},
    {"a4", "lion", "lion lion lion", "Gamma News", "2019-12-31"},
    {"a5", "frog fish dog", "cat", "Beta", "2020-01-20"},
    {"a6", "owl", "owl cat dog fish", NULL, "2021-06-01"},
    {"a7", "owl", "owl cat dog fish", "Alpha", "2021-06-01"},
};
#define NCORPUS ((int)(sizeof corpus / sizeof corpus[0]))

static const char *const vocabulary[] = {"cat", "dog", "fish", "bird", "frog", "lion", "owl"};

enum { F_ALL = 0, F_TITLE = 1, F_BODY = 2 };

#define MAXW 32

static int split(const char *text, char words[][16])
{
    int n = 0;
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        int len = 0;
        while (p[len] && p[len] != ' ')
            len++;
        if (n < MAXW) {
            snprintf(words[n], 16, "%.*s", len, p);
            n++;
        }
        p += len;
    }
    return n;
}

/* Occurrences of the word sequence phrase[0..np) in text (overlaps count). */
static int count_seq(const char *text, char phrase[][16], int np)
{
    char w[MAXW][16];
    int n = split(text, w), count = 0;
    for (int i = 0; i + np <= n; i++) {
        int ok = 1;
        for (int j = 0; j < np && ok; j++)
            ok = strcmp(w[i + j], phrase[j]) == 0;
        count += ok;
    }
    return count;
}

static int ntokens(const char *text)
{
    char w[MAXW][16];
    return split(text, w);
}

static int field_len(const tdoc *d, int field)
{
    int t = ntokens(d->title), b = ntokens(d->body);
    return field == F_ALL ? t + b : field == F_TITLE ? t : b;
}

static int field_tf(const tdoc *d, char phrase[][16], int np, int field)
{
    int t = count_seq(d->title, phrase, np), b = count_seq(d->body, phrase, np);
    return field == F_ALL ? t + b : field == F_TITLE ? t : b;
}

static int32_t date_of(const tdoc *d)
{
    if (!d->date)
        return 0;
    int y, m, dd;
    sscanf(d->date, "%d-%d-%d", &y, &m, &dd);
    return y * 10000 + m * 100 + dd;
}

/* ------------------------------------------------------------ expected BM25 */

enum { R_SHOULD, R_MUST, R_MUST_NOT };

typedef struct eleaf {
    int role;
    int field;
    const char *words;   /* one word, or a phrase of several */
    double boost;        /* 0 = 1 */
} eleaf;

typedef struct equery {
    const char *q;
    int plain;
    const char *source;  /* filter, or NULL */
    int32_t date_lo, date_hi; /* filter if date_hi != 0 */
    int nleaves;
    eleaf leaves[6];
} equery;

typedef struct docset {
    const tdoc *docs;    /* documents in insertion (docno) order */
    int n;
    /* NULL, or per doc 1 if deleted but not yet merged away: such a doc
     * never matches but still counts in N, average lengths and df, as in
     * Lucene (docs/ARCHITECTURE.md). */
    const unsigned char *dead;
} docset;

typedef struct bm25p {
    double k1, b;
} bm25p;

static double idf_of(double N, double df)
{
    return log(1.0 + (N - df + 0.5) / (df + 0.5));
}

static int df_of(const docset *ds, const char *term, int field)
{
    char w[1][16];
    snprintf(w[0], 16, "%s", term);
    int df = 0;
    for (int i = 0; i < ds->n; i++)
        df += field_tf(&ds->docs[i], w, 1, field) > 0;
    return df;
}

static double avg_len(const docset *ds, int field)
{
    double sum = 0;
    for (int i = 0; i < ds->n; i++)
        sum += field_len(&ds->docs[i], field);
    return sum / ds->n;
}

/* The leaf's weight: sum of its terms' idfs (each df in the leaf's field) x boost. */
static double leaf_weight(const docset *ds, const eleaf *l)
{
    char w[MAXW][16];
    int n = split(l->words, w);
    double weight = 0;
    for (int i = 0; i < n; i++)
        weight += idf_of(ds->n, df_of(ds, w[i], l->field));
    return weight * (l->boost > 0 ? l->boost : 1.0);
}

/* Score of one leaf in a doc; *tf_out = 0 when it does not match. */
static double leaf_score(const docset *ds, const tdoc *d, const eleaf *l, bm25p p, int *tf_out)
{
    char w[MAXW][16];
    int n = split(l->words, w);
    int tf = field_tf(d, w, n, l->field);
    *tf_out = tf;
    if (!tf)
        return 0;
    double len = field_len(d, l->field), avg = avg_len(ds, l->field);
    double norm = p.k1 * (1.0 - p.b + p.b * len / avg);
    return leaf_weight(ds, l) * tf * (p.k1 + 1.0) / (tf + norm);
}

typedef struct ranked {
    int doc;
    double score;
} ranked;

static int by_rank(const void *x, const void *y)
{
    const ranked *a = x, *b = y;
    double tol = 1e-12 * fmax(fabs(a->score), fabs(b->score));
    if (fabs(a->score - b->score) > tol)
        return a->score > b->score ? -1 : 1;
    return a->doc - b->doc;
}

static int expected_rank(const docset *ds, const equery *q, bm25p p, ranked *out)
{
    int n = 0;
    for (int d = 0; d < ds->n; d++) {
        const tdoc *doc = &ds->docs[d];
        if (ds->dead && ds->dead[d])
            continue;
        if (q->source && !(doc->source && strcasecmp(doc->source, q->source) == 0))
            continue;
        if (q->date_hi) {
            int32_t dt = date_of(doc);
            if (!dt || dt < q->date_lo || dt > q->date_hi)
                continue;
        }
        int nmust = 0, nshould = 0, ok = 1, any_should = 0;
        double score = 0;
        for (int i = 0; i < q->nleaves; i++) {
            int tf;
            double s = leaf_score(ds, doc, &q->leaves[i], p, &tf);
            switch (q->leaves[i].role) {
            case R_MUST:
                nmust++;
                ok &= tf > 0;
                score += s;
                break;
            case R_MUST_NOT:
                ok &= tf == 0;
                break;
            default:
                nshould++;
                any_should |= tf > 0;
                score += s;
            }
        }
        /* A query of only filters and exclusions matches every other doc. */
        int match_all = !nmust && !nshould;
        if (!ok || (!nmust && !any_should && !match_all))
            continue;
        out[n].doc = d;
        out[n].score = score;
        n++;
    }
    qsort(out, (size_t)n, sizeof *out, by_rank);
    return n;
}

/* ------------------------------------------------------------ helpers */

static int close_rel(double a, double b, double rel)
{
    double m = fmax(fabs(a), fabs(b));
    return fabs(a - b) <= rel * m || fabs(a - b) < 1e-300;
}

static lede_doc to_doc(const tdoc *t)
{
    lede_doc d;
    memset(&d, 0, sizeof d);
    d.id = (lede_str){t->id, strlen(t->id)};
    d.title = (lede_str){t->title, strlen(t->title)};
    d.body = (lede_str){t->body, strlen(t->body)};
    if (t->source)
        d.source = (lede_str){t->source, strlen(t->source)};
    if (t->date)
        d.date = (lede_str){t->date, strlen(t->date)};
    return d;
}

static void build(const char *dir, const tdoc *docs, int n)
{
    lede_writer *w;
    lede_err err;
    lede_err_clear(&err);
    int rc = lede_writer_open(dir, NULL, 1, &w, &err);
    CHECK_EQ_INT(rc, 0);
    if (rc) {
        fprintf(stderr, "writer_open: %s\n", err.msg);
        exit(1);
    }
    for (int i = 0; i < n; i++) {
        lede_doc d = to_doc(&docs[i]);
        CHECK_EQ_INT(lede_writer_add(w, &d, &err), 0);
    }
    CHECK_EQ_INT(lede_writer_commit(w, &err), 0);
    lede_writer_free(w);
}

static lede_index *open_ix(const char *dir)
{
    lede_index *ix;
    lede_err err;
    lede_err_clear(&err);
    int rc = lede_index_open(dir, &ix, &err);
    CHECK_EQ_INT(rc, 0);
    if (rc) {
        fprintf(stderr, "index_open: %s\n", err.msg);
        exit(1);
    }
    return ix;
}

static lede_results *run(lede_index *ix, const char *q, int exhaustive, int plain, uint32_t k,
                         uint32_t offset, bm25p p, int b_set, int *rc_out, lede_err *err)
{
    lede_search_opts o;
    memset(&o, 0, sizeof o);
    o.query = q;
    o.k = k;
    o.offset = offset;
    o.exhaustive = exhaustive;
    o.plain = plain;
    o.k1 = p.k1;
    o.b = p.b;
    o.b_set = b_set;
    lede_results *res = NULL;
    lede_err_clear(err);
    *rc_out = lede_search(ix, &o, &res, err);
    return res;
}

/* Runs q exhaustively and pruned with k = 100 and compares both with the
 * expected ranking. */
static void check_query(lede_index *ix, const docset *ds, const equery *q, bm25p p, int b_set)
{
    ranked want[64];
    int nwant = expected_rank(ds, q, p, want);
    bm25p lib = p;
    if (!b_set && p.b == 0.75 && p.k1 == 1.2)
        lib = (bm25p){0, 0};   /* exercise the defaults */
    for (int ex = 0; ex <= 1; ex++) {
        int rc;
        lede_err err;
        lede_results *res = run(ix, q->q, ex, q->plain, 100, 0, lib, b_set, &rc, &err);
        char what[256];
        snprintf(what, sizeof what, "query '%s' (%s, k1=%g b=%g)", q->q,
                 ex ? "exhaustive" : "pruned", p.k1, p.b);
        CHECK_MSG(rc == 0, what);
        if (rc) {
            fprintf(stderr, "  error: %s\n", err.msg);
            continue;
        }
        CHECK_MSG((int)res->nhits == nwant, what);
        if ((int)res->nhits != nwant)
            fprintf(stderr, "  %s: %u hits, expected %d\n", what, res->nhits, nwant);
        if (ex)
            CHECK_MSG(res->total == (uint64_t)nwant && res->total_exact, what);
        for (int i = 0; i < nwant && i < (int)res->nhits; i++) {
            const lede_hit *h = &res->hits[i];
            const char *wid = ds->docs[want[i].doc].id;
            int id_ok = h->doc.id.len == strlen(wid) && memcmp(h->doc.id.ptr, wid, h->doc.id.len) == 0;
            int sc_ok = close_rel(h->score, want[i].score, 1e-9);
            CHECK_MSG(id_ok && sc_ok, what);
            if (!id_ok || !sc_ok)
                fprintf(stderr, "  %s: hit %d = %.*s %.12g, expected %s %.12g\n", what, i,
                        (int)h->doc.id.len, h->doc.id.ptr, h->score, wid, want[i].score);
        }
        lede_results_free(res);
    }
}

/* ------------------------------------------------------------ tests */

static void test_words_are_stems(void)
{
    lede_analyzer *an;
    lede_err err;
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_analyzer_new(NULL, &an, &err), 0);
    for (size_t i = 0; i < sizeof vocabulary / sizeof vocabulary[0]; i++) {
        char folded[64], stem[64];
        size_t n = lede_fold_word(an, vocabulary[i], strlen(vocabulary[i]), folded, sizeof folded);
        lede_stem_word(an, folded, n, stem, sizeof stem);
        CHECK_EQ_STR(stem, vocabulary[i]);
    }
    lede_analyzer_free(an);
}

#define L(role, field, words) {role, field, words, 0}
#define LB(role, field, words, boost) {role, field, words, boost}

static const equery bm25_queries[] = {
    {"cat", 0, NULL, 0, 0, 1, {L(R_SHOULD, F_ALL, "cat")}},
    {"lion", 0, NULL, 0, 0, 1, {L(R_SHOULD, F_ALL, "lion")}},
    {"owl", 0, NULL, 0, 0, 1, {L(R_SHOULD, F_ALL, "owl")}},
    {"cat fish", 0, NULL, 0, 0, 2, {L(R_SHOULD, F_ALL, "cat"), L(R_SHOULD, F_ALL, "fish")}},
    {"Cats DOGS fishes", 0, NULL, 0, 0, 3,
     {L(R_SHOULD, F_ALL, "cat"), L(R_SHOULD, F_ALL, "dog"), L(R_SHOULD, F_ALL, "fish")}},
    {"bird frog lion owl", 0, NULL, 0, 0, 4,
     {L(R_SHOULD, F_ALL, "bird"), L(R_SHOULD, F_ALL, "frog"), L(R_SHOULD, F_ALL, "lion"),
      L(R_SHOULD, F_ALL, "owl")}},
    {"cat OR lion", 0, NULL, 0, 0, 2, {L(R_SHOULD, F_ALL, "cat"), L(R_SHOULD, F_ALL, "lion")}},
    /* required and excluded */
    {"+cat dog", 0, NULL, 0, 0, 2, {L(R_MUST, F_ALL, "cat"), L(R_SHOULD, F_ALL, "dog")}},
    {"+cat +bird", 0, NULL, 0, 0, 2, {L(R_MUST, F_ALL, "cat"), L(R_MUST, F_ALL, "bird")}},
    {"cat AND fish", 0, NULL, 0, 0, 2, {L(R_MUST, F_ALL, "cat"), L(R_MUST, F_ALL, "fish")}},
    {"cat -bird", 0, NULL, 0, 0, 2, {L(R_SHOULD, F_ALL, "cat"), L(R_MUST_NOT, F_ALL, "bird")}},
    {"cat fish NOT owl", 0, NULL, 0, 0, 3,
     {L(R_SHOULD, F_ALL, "cat"), L(R_SHOULD, F_ALL, "fish"), L(R_MUST_NOT, F_ALL, "owl")}},
    {"+dog -title:dog", 0, NULL, 0, 0, 2, {L(R_MUST, F_ALL, "dog"), L(R_MUST_NOT, F_TITLE, "dog")}},
    {"-cat", 0, NULL, 0, 0, 1, {L(R_MUST_NOT, F_ALL, "cat")}},
    /* fields: per-field tf, df, length and average length */
    {"title:cat", 0, NULL, 0, 0, 1, {L(R_SHOULD, F_TITLE, "cat")}},
    {"body:cat", 0, NULL, 0, 0, 1, {L(R_SHOULD, F_BODY, "cat")}},
    {"title:fish", 0, NULL, 0, 0, 1, {L(R_SHOULD, F_TITLE, "fish")}},
    {"body:fish", 0, NULL, 0, 0, 1, {L(R_SHOULD, F_BODY, "fish")}},
    {"body:lion", 0, NULL, 0, 0, 1, {L(R_SHOULD, F_BODY, "lion")}},
    {"title:dog body:dog", 0, NULL, 0, 0, 2, {L(R_SHOULD, F_TITLE, "dog"), L(R_SHOULD, F_BODY, "dog")}},
    {"title:(frog owl) bird", 0, NULL, 0, 0, 3,
     {L(R_SHOULD, F_TITLE, "frog"), L(R_SHOULD, F_TITLE, "owl"), L(R_SHOULD, F_ALL, "bird")}},
    {"+body:cat title:fish", 0, NULL, 0, 0, 2, {L(R_MUST, F_BODY, "cat"), L(R_SHOULD, F_TITLE, "fish")}},
    /* phrases: tf = occurrences, weight = sum of idfs, length = doc length */
    {"\"cat dog\"", 0, NULL, 0, 0, 1, {L(R_SHOULD, F_ALL, "cat dog")}},
    {"\"dog cat\"", 0, NULL, 0, 0, 1, {L(R_SHOULD, F_ALL, "dog cat")}},
    {"\"lion lion\"", 0, NULL, 0, 0, 1, {L(R_SHOULD, F_ALL, "lion lion")}},
    {"\"cat dog fish\"", 0, NULL, 0, 0, 1, {L(R_SHOULD, F_ALL, "cat dog fish")}},
    {"\"cat dog\" lion", 0, NULL, 0, 0, 2, {L(R_SHOULD, F_ALL, "cat dog"), L(R_SHOULD, F_ALL, "lion")}},
    {"+\"dog dog\" bird", 0, NULL, 0, 0, 2, {L(R_MUST, F_ALL, "dog dog"), L(R_SHOULD, F_ALL, "bird")}},
    {"title:\"cat dog\"", 0, NULL, 0, 0, 1, {L(R_SHOULD, F_TITLE, "cat dog")}},
    {"body:\"cat dog\"", 0, NULL, 0, 0, 1, {L(R_SHOULD, F_BODY, "cat dog")}},
    {"cat -\"cat dog\"", 0, NULL, 0, 0, 2, {L(R_SHOULD, F_ALL, "cat"), L(R_MUST_NOT, F_ALL, "cat dog")}},
    /* prefixes: "fis*" covers only fish here */
    {"fis*", 0, NULL, 0, 0, 1, {L(R_SHOULD, F_ALL, "fish")}},
    {"lio* owl", 0, NULL, 0, 0, 2, {L(R_SHOULD, F_ALL, "lion"), L(R_SHOULD, F_ALL, "owl")}},
    /* filters restrict without scoring */
    {"cat source:alpha", 0, "Alpha", 0, 0, 1, {L(R_SHOULD, F_ALL, "cat")}},
    {"cat dog source:\"Gamma News\"", 0, "Gamma News", 0, 0, 2,
     {L(R_SHOULD, F_ALL, "cat"), L(R_SHOULD, F_ALL, "dog")}},
    {"lion source:\"gamma news\"", 0, "Gamma News", 0, 0, 1, {L(R_SHOULD, F_ALL, "lion")}},
    {"cat date:2020-01", 0, NULL, 20200101, 20200131, 1, {L(R_SHOULD, F_ALL, "cat")}},
    {"dog date>=2020-01-20", 0, NULL, 20200120, 99991231, 1, {L(R_SHOULD, F_ALL, "dog")}},
    {"dog date<2020", 0, NULL, 10101, 20191231, 1, {L(R_SHOULD, F_ALL, "dog")}},
    {"fish date>2020-01-15", 0, NULL, 20200116, 99991231, 1, {L(R_SHOULD, F_ALL, "fish")}},
    {"source:Alpha", 0, "Alpha", 0, 0, 0, {{0}}},
    {"date:2021", 0, NULL, 20210101, 20211231, 0, {{0}}},
    /* plain mode: repeats weigh more, operators are words */
    {"cat cat dog", 1, NULL, 0, 0, 2, {LB(R_SHOULD, F_ALL, "cat", 2), L(R_SHOULD, F_ALL, "dog")}},
    {"+lion -owl \"fish\" title:bird", 1, NULL, 0, 0, 5,
     {L(R_SHOULD, F_ALL, "lion"), L(R_SHOULD, F_ALL, "owl"), L(R_SHOULD, F_ALL, "fish"),
      L(R_SHOULD, F_ALL, "title"), L(R_SHOULD, F_ALL, "bird")}},
    {"owl owl owl frog", 1, NULL, 0, 0, 2, {LB(R_SHOULD, F_ALL, "owl", 3), L(R_SHOULD, F_ALL, "frog")}},
};
#define NBM25 ((int)(sizeof bm25_queries / sizeof bm25_queries[0]))

static void test_bm25(lede_index *ix, const docset *ds)
{
    /* The corpus statistics the index reports. */
    lede_index_stats st;
    lede_err err;
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_index_stats_get(ix, &st, &err), 0);
    CHECK_EQ_INT(st.documents, ds->n);
    CHECK_EQ_INT(st.deleted, 0);
    CHECK(close_rel(st.avgdl, avg_len(ds, F_ALL), 1e-12));

    bm25p def = {1.2, 0.75};
    for (int i = 0; i < NBM25; i++)
        check_query(ix, ds, &bm25_queries[i], def, 0);
    /* Other k1 and b, including b = 0 (no length normalization) and b = 1. */
    bm25p others[] = {{2.0, 0.3}, {0.5, 1.0}, {1.2, 0.0}, {3.5, 0.75}};
    for (size_t j = 0; j < sizeof others / sizeof others[0]; j++)
        for (int i = 0; i < NBM25; i++)
            check_query(ix, ds, &bm25_queries[i], others[j], 1);
    /* b given without b_set but non-zero is used as is. */
    bm25p b_only = {1.2, 0.4};
    for (int i = 0; i < 6; i++)
        check_query(ix, ds, &bm25_queries[i], b_only, 0);
}

static const lede_explain_term *find_term(const lede_explain *x, const char *term, const char *field)
{
    for (uint32_t i = 0; i < x->nterms; i++)
        if (strcmp(x->terms[i].term, term) == 0 && strcmp(x->terms[i].field, field) == 0)
            return &x->terms[i];
    return NULL;
}

static void check_explain_term(const lede_explain *x, const docset *ds, const tdoc *doc,
                               const char *term, int field, bm25p p)
{
    static const char *const names[] = {"all", "title", "body"};
    const lede_explain_term *t = find_term(x, term, names[field]);
    char what[128];
    snprintf(what, sizeof what, "explain %s %s:%s", doc->id, names[field], term);
    CHECK_MSG(t != NULL, what);
    if (!t)
        return;
    eleaf l = {R_SHOULD, field, term, 0};
    char w[MAXW][16];
    int n = split(term, w);
    int tf;
    double s = leaf_score(ds, doc, &l, p, &tf);
    int min_df = -1;
    for (int i = 0; i < n; i++) {
        int df = df_of(ds, w[i], field);
        if (min_df < 0 || df < min_df)
            min_df = df;
    }
    CHECK_MSG(t->tf == (uint32_t)tf, what);
    CHECK_MSG(t->df == (uint64_t)min_df, what);
    CHECK_MSG(close_rel(t->idf, leaf_weight(ds, &l), 1e-9), what);
    CHECK_MSG(close_rel(t->score, s, 1e-9), what);
}

static void test_explain(lede_index *ix, const docset *ds)
{
    bm25p p = {1.2, 0.75};
    lede_search_opts o;
    memset(&o, 0, sizeof o);
    o.query = "cat title:fish \"cat dog\" body:bird owl lion";
    o.k = 10;
    o.explain = 1;
    lede_results *res;
    lede_err err;
    lede_err_clear(&err);
    int rc = lede_search(ix, &o, &res, &err);
    CHECK_EQ_INT(rc, 0);
    if (rc)
        return;
    CHECK(res->nhits == (uint32_t)ds->n); /* every doc has cat, owl or lion */
    for (uint32_t i = 0; i < res->nhits; i++) {
        const lede_hit *h = &res->hits[i];
        const lede_explain *x = h->explain;
        CHECK(x != NULL);
        if (!x)
            continue;
        const tdoc *doc = NULL;
        for (int d = 0; d < ds->n; d++)
            if (h->doc.id.len == strlen(ds->docs[d].id) &&
                memcmp(h->doc.id.ptr, ds->docs[d].id, h->doc.id.len) == 0)
                doc = &ds->docs[d];
        CHECK(doc != NULL);
        if (!doc)
            continue;
        CHECK_EQ_INT(x->N, ds->n);
        CHECK(close_rel(x->avgdl, avg_len(ds, F_ALL), 1e-12));
        CHECK_EQ_INT(x->doc_len, field_len(doc, F_ALL));
        CHECK_EQ_INT(x->nterms, 6);
        check_explain_term(x, ds, doc, "cat", F_ALL, p);
        check_explain_term(x, ds, doc, "fish", F_TITLE, p);
        check_explain_term(x, ds, doc, "cat dog", F_ALL, p);
        check_explain_term(x, ds, doc, "bird", F_BODY, p);
        check_explain_term(x, ds, doc, "owl", F_ALL, p);
        check_explain_term(x, ds, doc, "lion", F_ALL, p);
        double sum = 0;
        for (uint32_t t = 0; t < x->nterms; t++)
            sum += x->terms[t].score;
        CHECK(close_rel(sum, h->score, 1e-9));
        /* Hits carry stored fields but no body. */
        CHECK(h->doc.body.ptr == NULL && h->doc.body.len == 0);
        CHECK(h->doc.title.len == strlen(doc->title) &&
              memcmp(h->doc.title.ptr, doc->title, h->doc.title.len) == 0);
    }
    lede_results_free(res);
    /* Without explain, no explanation. */
    o.explain = 0;
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_search(ix, &o, &res, &err), 0);
    for (uint32_t i = 0; i < res->nhits; i++)
        CHECK(res->hits[i].explain == NULL);
    lede_results_free(res);
}

static void test_windows(lede_index *ix)
{
    const char *queries[] = {"cat dog fish owl", "cat", "-lion", "source:Alpha", "\"cat dog\""};
    bm25p def = {0, 0};
    for (size_t qi = 0; qi < sizeof queries / sizeof queries[0]; qi++) {
        int rc;
        lede_err err;
        lede_results *all = run(ix, queries[qi], 1, 0, 100, 0, def, 0, &rc, &err);
        CHECK_EQ_INT(rc, 0);
        if (rc)
            continue;
        for (int ex = 0; ex <= 1; ex++)
            for (uint32_t off = 0; off <= 8; off++)
                for (uint32_t k = 1; k <= 8; k++) {
                    lede_results *w = run(ix, queries[qi], ex, 0, k, off, def, 0, &rc, &err);
                    CHECK_EQ_INT(rc, 0);
                    if (rc)
                        continue;
                    uint32_t want = off >= all->nhits ? 0 : all->nhits - off;
                    if (want > k)
                        want = k;
                    char what[160];
                    snprintf(what, sizeof what, "window '%s' k=%u offset=%u ex=%d", queries[qi], k,
                             off, ex);
                    CHECK_MSG(w->nhits == want, what);
                    for (uint32_t i = 0; i < w->nhits && i < want; i++) {
                        const lede_hit *a = &w->hits[i], *b = &all->hits[off + i];
                        CHECK_MSG(a->docno == b->docno && a->score == b->score, what);
                    }
                    lede_results_free(w);
                }
        lede_results_free(all);
    }
    /* k = 0 means 10. */
    int rc;
    lede_err err;
    lede_results *r = run(ix, "cat dog fish owl lion frog bird", 0, 0, 0, 0, def, 0, &rc, &err);
    CHECK_EQ_INT(rc, 0);
    if (!rc) {
        CHECK_EQ_INT(r->nhits, NCORPUS < 10 ? NCORPUS : 10);
        lede_results_free(r);
    }
}

static void test_ties(lede_index *ix)
{
    /* a6 and a7 have the same text: equal scores, a6 (added first) first,
     * in both modes and at every k, including k = 1 where a7 must not win. */
    bm25p def = {0, 0};
    for (int ex = 0; ex <= 1; ex++) {
        int rc;
        lede_err err;
        lede_results *r = run(ix, "owl", ex, 0, 10, 0, def, 0, &rc, &err);
        CHECK_EQ_INT(rc, 0);
        if (rc)
            continue;
        CHECK_EQ_INT(r->nhits, 2);
        if (r->nhits == 2) {
            CHECK(r->hits[0].score == r->hits[1].score);
            CHECK(r->hits[0].doc.id.len == 2 && memcmp(r->hits[0].doc.id.ptr, "a6", 2) == 0);
            CHECK(r->hits[1].doc.id.len == 2 && memcmp(r->hits[1].doc.id.ptr, "a7", 2) == 0);
            CHECK(r->hits[0].docno < r->hits[1].docno);
        }
        lede_results_free(r);
        r = run(ix, "owl", ex, 0, 1, 0, def, 0, &rc, &err);
        CHECK_EQ_INT(rc, 0);
        if (!rc) {
            CHECK_EQ_INT(r->nhits, 1);
            if (r->nhits)
                CHECK(r->hits[0].doc.id.len == 2 && memcmp(r->hits[0].doc.id.ptr, "a6", 2) == 0);
            lede_results_free(r);
        }
        r = run(ix, "owl", ex, 0, 1, 1, def, 0, &rc, &err);
        CHECK_EQ_INT(rc, 0);
        if (!rc) {
            CHECK_EQ_INT(r->nhits, 1);
            if (r->nhits)
                CHECK(r->hits[0].doc.id.len == 2 && memcmp(r->hits[0].doc.id.ptr, "a7", 2) == 0);
            lede_results_free(r);
        }
        /* Filters only: every match scores 0, in insertion order. */
        r = run(ix, "source:alpha", ex, 0, 10, 0, def, 0, &rc, &err);
        CHECK_EQ_INT(rc, 0);
        if (!rc) {
            CHECK_EQ_INT(r->nhits, 3);
            for (uint32_t i = 0; i < r->nhits; i++) {
                CHECK(r->hits[i].score == 0);
                if (i)
                    CHECK(r->hits[i - 1].docno < r->hits[i].docno);
            }
            lede_results_free(r);
        }
    }
}

static void test_get(lede_index *ix)
{
    lede_stored s;
    lede_err err;
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_index_get(ix, "a3", 2, &s, &err), 0);
    CHECK(s.id.len == 2 && memcmp(s.id.ptr, "a3", 2) == 0);
    CHECK(s.title.len == strlen(corpus[2].title) && memcmp(s.title.ptr, corpus[2].title, s.title.len) == 0);
    CHECK(s.body.len == strlen(corpus[2].body) && memcmp(s.body.ptr, corpus[2].body, s.body.len) == 0);
    CHECK(s.source.len == 5 && memcmp(s.source.ptr, "Alpha", 5) == 0);
    CHECK(s.date.ptr == NULL);
    CHECK(s.url.ptr == NULL);
    lede_stored_free(&s);
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_index_get(ix, "a4", 2, &s, &err), 0);
    CHECK(s.date.len == 10 && memcmp(s.date.ptr, "2019-12-31", 10) == 0);
    CHECK(s.source.len == 10 && memcmp(s.source.ptr, "Gamma News", 10) == 0);
    lede_stored_free(&s);
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_index_get(ix, "zz", 2, &s, &err), LEDE_ENOTFOUND);
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_index_get(ix, "a", 1, &s, &err), LEDE_ENOTFOUND);
    lede_stored_free(&s);
}

static void test_empty_and_errors(lede_index *ix)
{
    bm25p def = {0, 0};
    const char *empty[] = {"zebra", "...", "\"\"", "+cat +zebra", "\"fish cat\"", "title:lion -lion",
                           "cat source:Nobody", "cat date:1999", "cat AND zebra"};
    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++)
        for (int ex = 0; ex <= 1; ex++) {
            int rc;
            lede_err err;
            lede_results *r = run(ix, empty[i], ex, 0, 10, 0, def, 0, &rc, &err);
            CHECK_MSG(rc == 0, empty[i]);
            if (rc)
                continue;
            CHECK_MSG(r->nhits == 0 && r->total == 0, empty[i]);
            lede_results_free(r);
        }
    struct {
        const char *q;
        long at;
    } bad[] = {
        {"", 0},           {"   ", 0},        {"(cat", 0},           {"cat)", 3},
        {"()", 0},         {"cat AND", 4},    {"-", 0},              {"OR cat", 0},
        {"cat OR -dog", 7}, {"\"cat dog", 0}, {"date:2017-13", 5},   {"source:", 7},
        {"title: cat", 6}, {"c*", 0},         {"e-mail*", 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        for (int ex = 0; ex <= 1; ex++) {
            int rc;
            lede_err err;
            lede_results *r = run(ix, bad[i].q, ex, 0, 10, 0, def, 0, &rc, &err);
            char what[96];
            snprintf(what, sizeof what, "syntax error '%s' at %ld", bad[i].q, bad[i].at);
            CHECK_MSG(rc == LEDE_ESYNTAX && err.rc == LEDE_ESYNTAX, what);
            CHECK_MSG(err.at == bad[i].at, what);
            CHECK_MSG(err.msg[0] != '\0', what);
            CHECK_MSG(r == NULL, what);
            lede_results_free(r);
        }
    /* Plain mode: operators are words; only the empty query is an error. */
    int rc;
    lede_err err;
    lede_results *r = run(ix, "(cat OR -dog", 0, 1, 10, 0, def, 0, &rc, &err);
    CHECK_EQ_INT(rc, 0);
    lede_results_free(r);
    r = run(ix, "  ", 0, 1, 10, 0, def, 0, &rc, &err);
    CHECK_EQ_INT(rc, LEDE_ESYNTAX);
    lede_results_free(r);
    /* Limits and options. */
    char *longq = malloc(5001);
    memset(longq, 'a', 5000);
    longq[5000] = '\0';
    for (int plain = 0; plain <= 1; plain++) {
        r = run(ix, longq, 0, plain, 10, 0, def, 0, &rc, &err);
        CHECK_EQ_INT(rc, LEDE_ELIMIT);
        lede_results_free(r);
    }
    free(longq);
    r = run(ix, "cat", 0, 0, 100000, 1, def, 0, &rc, &err);
    CHECK_EQ_INT(rc, LEDE_ELIMIT);
    lede_results_free(r);
    r = run(ix, "cat", 0, 0, 10, 0, (bm25p){1.2, 1.5}, 1, &rc, &err);
    CHECK_EQ_INT(rc, LEDE_EINVAL);
    lede_results_free(r);
    lede_search_opts o;
    memset(&o, 0, sizeof o);
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_search(ix, &o, &r, &err), LEDE_EINVAL);
}

static void test_ids_only(lede_index *ix)
{
    lede_search_opts o;
    memset(&o, 0, sizeof o);
    o.query = "cat";
    o.k = 10;
    o.ids_only = 1;
    lede_results *r;
    lede_err err;
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_search(ix, &o, &r, &err), 0);
    for (uint32_t i = 0; i < r->nhits; i++) {
        CHECK(r->hits[i].doc.id.ptr && r->hits[i].doc.id.len == 2);
        CHECK(r->hits[i].doc.title.ptr == NULL);
    }
    lede_results_free(r);
}

/* A repeated id replaces the earlier document: N stays, the old text is
 * gone, the new version takes the position of its (later) add. */
static void test_replace(const char *root)
{
    char *dir = test_path(root, "replace");
    tdoc docs[NCORPUS + 1];
    memcpy(docs, corpus, sizeof corpus);
    docs[NCORPUS] = (tdoc){"a2", "zebra", "zebra cat", "Delta", "2022-02-02"};
    build(dir, docs, NCORPUS + 1);
    lede_index *ix = open_ix(dir);
    /* Expected: a2 moved to the end with its new text. */
    tdoc live[NCORPUS];
    int n = 0;
    for (int i = 0; i <= NCORPUS; i++)
        if (i != 1)
            live[n++] = docs[i];
    docset ds = {live, n, NULL};
    lede_index_stats st;
    lede_err err;
    lede_err_clear(&err);
    lede_index_stats_get(ix, &st, &err);
    CHECK_EQ_INT(st.documents, NCORPUS);
    bm25p def = {1.2, 0.75};
    equery qs[] = {
        {"bird", 0, NULL, 0, 0, 1, {L(R_SHOULD, F_ALL, "bird")}},
        {"zebra", 0, NULL, 0, 0, 1, {L(R_SHOULD, F_ALL, "zebra")}},
        {"cat dog", 0, NULL, 0, 0, 2, {L(R_SHOULD, F_ALL, "cat"), L(R_SHOULD, F_ALL, "dog")}},
        {"\"dog cat\"", 0, NULL, 0, 0, 1, {L(R_SHOULD, F_ALL, "dog cat")}},
        {"source:beta", 0, "Beta", 0, 0, 0, {{0}}},
    };
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++)
        check_query(ix, &ds, &qs[i], def, 0);
    lede_stored s;
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_index_get(ix, "a2", 2, &s, &err), 0);
    CHECK(s.title.len == 5 && memcmp(s.title.ptr, "zebra", 5) == 0);
    lede_stored_free(&s);
    lede_index_free(ix);

    /* The writer counts one replacement. Same through a second writer
     * session (create = 0), checked after a merge. */
    lede_writer *w;
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_writer_open(dir, NULL, 0, &w, &err), 0);
    tdoc again = {"a5", "lion owl", "owl", "Beta", NULL};
    lede_doc d = to_doc(&again);
    CHECK_EQ_INT(lede_writer_add(w, &d, &err), 0);
    uint64_t added, replaced;
    lede_writer_counts(w, &added, &replaced);
    CHECK_EQ_INT(added, 1);
    CHECK_EQ_INT(replaced, 1);
    CHECK_EQ_INT(lede_writer_commit(w, &err), 0);
    lede_writer_free(w);
    ix = open_ix(dir);
    lede_err_clear(&err);
    lede_index_stats_get(ix, &st, &err);
    CHECK_EQ_INT(st.documents, NCORPUS);
    int rc;
    lede_results *r = run(ix, "frog", 1, 0, 10, 0, (bm25p){0, 0}, 0, &rc, &err);
    CHECK_EQ_INT(rc, 0);
    if (!rc) {
        for (uint32_t i = 0; i < r->nhits; i++)
            CHECK(!(r->hits[i].doc.id.len == 2 && memcmp(r->hits[i].doc.id.ptr, "a5", 2) == 0));
        lede_results_free(r);
    }
    /* Not merged yet: the old a5 is deleted but still in the statistics. */
    {
        tdoc all[NCORPUS + 1];
        unsigned char dead[NCORPUS + 1] = {0};
        memcpy(all, live, sizeof live);
        for (int i = 0; i < NCORPUS; i++)
            dead[i] = strcmp(all[i].id, "a5") == 0;
        all[NCORPUS] = again;
        docset pre = {all, NCORPUS + 1, dead};
        equery pq[] = {
            {"frog", 0, NULL, 0, 0, 1, {L(R_SHOULD, F_ALL, "frog")}},
            {"owl lion", 0, NULL, 0, 0, 2, {L(R_SHOULD, F_ALL, "owl"), L(R_SHOULD, F_ALL, "lion")}},
            {"title:lion body:owl", 0, NULL, 0, 0, 2,
             {L(R_SHOULD, F_TITLE, "lion"), L(R_SHOULD, F_BODY, "owl")}},
            {"\"cat dog\" -zebra", 0, NULL, 0, 0, 2,
             {L(R_SHOULD, F_ALL, "cat dog"), L(R_MUST_NOT, F_ALL, "zebra")}},
        };
        for (size_t i = 0; i < sizeof pq / sizeof pq[0]; i++)
            check_query(ix, &pre, &pq[i], def, 0);
    }
    lede_index_free(ix);
    CHECK_EQ_INT(lede_writer_open(dir, NULL, 0, &w, &err), 0);
    CHECK_EQ_INT(lede_writer_merge(w, &err), 0);
    lede_writer_free(w);
    ix = open_ix(dir);
    n = 0;
    for (int i = 0; i < NCORPUS; i++)
        if (strcmp(live[i].id, "a5") != 0)
            live[n++] = live[i];
    live[n++] = again;
    ds.n = n;
    equery qs2[] = {
        {"frog", 0, NULL, 0, 0, 1, {L(R_SHOULD, F_ALL, "frog")}},
        {"owl lion", 0, NULL, 0, 0, 2, {L(R_SHOULD, F_ALL, "owl"), L(R_SHOULD, F_ALL, "lion")}},
        {"title:lion", 0, NULL, 0, 0, 1, {L(R_SHOULD, F_TITLE, "lion")}},
        {"zebra", 0, NULL, 0, 0, 1, {L(R_SHOULD, F_ALL, "zebra")}},
    };
    for (size_t i = 0; i < sizeof qs2 / sizeof qs2[0]; i++)
        check_query(ix, &ds, &qs2[i], def, 0);
    lede_index_free(ix);
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_index_check(dir, NULL, NULL, &err), 0);
    free(dir);
}

static void test_delete(const char *root)
{
    char *dir = test_path(root, "delete");
    build(dir, corpus, NCORPUS);
    lede_writer *w;
    lede_err err;
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_writer_open(dir, NULL, 0, &w, &err), 0);
    int found = -1;
    CHECK_EQ_INT(lede_writer_delete(w, "a3", 2, &found, &err), 0);
    CHECK_EQ_INT(found, 1);
    CHECK_EQ_INT(lede_writer_delete(w, "a3", 2, &found, &err), 0);
    CHECK_EQ_INT(found, 0);
    CHECK_EQ_INT(lede_writer_delete(w, "nope", 4, &found, &err), 0);
    CHECK_EQ_INT(found, 0);
    CHECK_EQ_INT(lede_writer_commit(w, &err), 0);
    lede_writer_free(w);

    lede_index *ix = open_ix(dir);
    lede_index_stats st;
    lede_err_clear(&err);
    lede_index_stats_get(ix, &st, &err);
    CHECK_EQ_INT(st.documents, NCORPUS - 1);
    lede_stored s;
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_index_get(ix, "a3", 2, &s, &err), LEDE_ENOTFOUND);
    lede_stored_free(&s);
    const char *qs[] = {"frog", "bird cat", "\"cat dog\"", "source:alpha", "-owl", "lion*"};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++)
        for (int ex = 0; ex <= 1; ex++) {
            int rc;
            lede_results *r = run(ix, qs[i], ex, 0, 100, 0, (bm25p){0, 0}, 0, &rc, &err);
            CHECK_EQ_INT(rc, 0);
            if (rc)
                continue;
            for (uint32_t h = 0; h < r->nhits; h++)
                CHECK_MSG(!(r->hits[h].doc.id.len == 2 && memcmp(r->hits[h].doc.id.ptr, "a3", 2) == 0),
                          qs[i]);
            if (ex)
                CHECK(r->total == r->nhits);
            lede_results_free(r);
        }
    /* Until a merge, the deleted document still counts in the statistics
     * (N, average lengths, df) but never matches. */
    unsigned char dead[NCORPUS] = {0};
    dead[2] = 1;
    docset with_dead = {corpus, NCORPUS, dead};
    for (int i = 0; i < NBM25; i++)
        check_query(ix, &with_dead, &bm25_queries[i], (bm25p){1.2, 0.75}, 0);
    lede_index_free(ix);
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_index_check(dir, NULL, NULL, &err), 0);

    /* After a merge the deleted document is purged: scores are exactly
     * those of the corpus without it. */
    CHECK_EQ_INT(lede_writer_open(dir, NULL, 0, &w, &err), 0);
    CHECK_EQ_INT(lede_writer_merge(w, &err), 0);
    lede_writer_free(w);
    ix = open_ix(dir);
    tdoc live[NCORPUS];
    int n = 0;
    for (int i = 0; i < NCORPUS; i++)
        if (i != 2)
            live[n++] = corpus[i];
    docset ds = {live, n, NULL};
    bm25p def = {1.2, 0.75};
    for (int i = 0; i < NBM25; i++)
        check_query(ix, &ds, &bm25_queries[i], def, 0);
    lede_index_free(ix);

    /* Deleting in the same writer as the add: never visible. */
    char *dir2 = test_path(root, "delete2");
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_writer_open(dir2, NULL, 1, &w, &err), 0);
    for (int i = 0; i < NCORPUS; i++) {
        lede_doc d = to_doc(&corpus[i]);
        CHECK_EQ_INT(lede_writer_add(w, &d, &err), 0);
    }
    CHECK_EQ_INT(lede_writer_delete(w, "a3", 2, &found, &err), 0);
    CHECK_EQ_INT(found, 1);
    CHECK_EQ_INT(lede_writer_commit(w, &err), 0);
    lede_writer_free(w);
    ix = open_ix(dir2);
    for (int i = 0; i < NBM25; i++)
        check_query(ix, &ds, &bm25_queries[i], def, 0);
    lede_index_free(ix);
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_index_check(dir2, NULL, NULL, &err), 0);
    free(dir2);
    free(dir);
}

int main(void)
{
    test_words_are_stems();
    char *root = test_tmpdir("search");
    char *dir = test_path(root, "main");
    build(dir, corpus, NCORPUS);
    lede_err err;
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_index_check(dir, NULL, NULL, &err), 0);
    lede_index *ix = open_ix(dir);
    docset ds = {corpus, NCORPUS, NULL};
    test_bm25(ix, &ds);
    test_explain(ix, &ds);
    test_windows(ix);
    test_ties(ix);
    test_get(ix);
    test_empty_and_errors(ix);
    test_ids_only(ix);
    lede_index_free(ix);
    free(dir);
    test_replace(root);
    test_delete(root);
    test_rmtree(root);
    free(root);
    return tap_done();
}
