/* test_query.c: query trees built through include/lede/query.h against the
 * query strings they stand for, over the seed articles: every builder (match
 * any and all, term, phrase, prefix, keyword, date range, all, string,
 * bool with must / should / must_not / filter, boost) must give the same
 * hits with the same scores as the string, filters must match without
 * scoring, and misuse (a clause added to a leaf, a string and a tree at
 * once, a tree nested too deep, a syntax error inside a string node) must
 * fail cleanly. Also the public statistics readers (lede_index_term_df,
 * lede_corpus_stats_df) against each other. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lede/query.h"
#include "lede/search.h"
#include "tap.h"
#include "testutil.h"

static lede_index *ix;

static lede_results *run(const char *q, const lede_query *tree, int plain, lede_err *err)
{
    lede_search_opts o = {0};
    o.query = q;
    o.tree = tree;
    o.plain = plain;
    o.k = 100;
    o.ids_only = 1;
    lede_results *res = NULL;
    lede_err_clear(err);
    if (lede_search(ix, &o, &res, err))
        return NULL;
    return res;
}

/* Same ids in the same order, scores equal times factor. */
static void same(const char *what, const lede_results *a, const lede_results *b, double factor)
{
    CHECK_MSG(a && b, what);
    if (!a || !b)
        return;
    CHECK_MSG(a->nhits == b->nhits, what);
    CHECK_MSG(a->total == b->total, what);
    for (uint32_t i = 0; i < a->nhits && i < b->nhits; i++) {
        CHECK_MSG(a->hits[i].doc.id.len == b->hits[i].doc.id.len &&
                      memcmp(a->hits[i].doc.id.ptr, b->hits[i].doc.id.ptr, a->hits[i].doc.id.len) == 0,
                  what);
        CHECK_MSG(a->hits[i].score == b->hits[i].score * factor, what);
    }
}

static void versus(const char *what, lede_query *tree, const char *q, int plain, double factor)
{
    lede_err e1, e2;
    lede_results *a = run(NULL, tree, 0, &e1), *b = run(q, NULL, plain, &e2);
    if (!a)
        fprintf(stderr, "%s: tree: %s\n", what, e1.msg);
    if (!b)
        fprintf(stderr, "%s: string: %s\n", what, e2.msg);
    same(what, a, b, factor);
    CHECK_MSG(!b || b->nhits > 0 || strstr(what, "nothing"), what);
    lede_results_free(a);
    lede_results_free(b);
}

#define S(x) (x), strlen(x)

static void leaves(lede_query_tree *t)
{
    versus("match any", lede_query_match(t, LEDE_FIELD_ALL, S("social media fines"), 0),
           "social media fines", 1, 1);
    versus("match repeats", lede_query_match(t, LEDE_FIELD_ALL, S("macron macron may"), 0),
           "macron macron may", 1, 1);
    versus("match all", lede_query_match(t, LEDE_FIELD_ALL, S("social media"), 1),
           "+social +media", 0, 1);
    versus("match title", lede_query_match(t, LEDE_FIELD_TITLE, S("extremist content"), 0),
           "title:extremist title:content", 0, 1);
    versus("match nothing (stop words only)", lede_query_match(t, LEDE_FIELD_ALL, S("   "), 0),
           "unknownwordxyz", 0, 1);
    versus("term", lede_query_term(t, LEDE_FIELD_ALL, S("macron")), "macron", 0, 1);
    versus("term body", lede_query_term(t, LEDE_FIELD_BODY, S("macron")), "body:macron", 0, 1);
    versus("phrase", lede_query_phrase(t, LEDE_FIELD_ALL, S("social media")), "\"social media\"",
           0, 1);
    versus("phrase title", lede_query_phrase(t, LEDE_FIELD_TITLE, S("social media")),
           "title:\"social media\"", 0, 1);
    versus("phrase of one word", lede_query_phrase(t, LEDE_FIELD_ALL, S("Macron's")), "macron", 0,
           1);
    versus("prefix", lede_query_prefix(t, LEDE_FIELD_ALL, S("terror")), "terror*", 0, 1);
    versus("prefix stem", lede_query_prefix(t, LEDE_FIELD_ALL, S("company")), "company*", 0, 1);
    versus("prefix title", lede_query_prefix(t, LEDE_FIELD_TITLE, S("extrem")), "title:extrem*", 0,
           1);
    versus("keyword", lede_query_keyword(t, LEDE_COLUMN_SOURCE, S("itv news")),
           "source:\"ITV News\"", 0, 1);
    versus("date", lede_query_date_range(t, 20170601, 20170630), "date:2017-06", 0, 1);
    versus("all", lede_query_all(t), "-unknownwordxyz", 0, 1);
    versus("string", lede_query_string(t, S("+macron -google"), 0), "+macron -google", 0, 1);
    versus("string plain", lede_query_string(t, S("macron -google"), 1), "macron -google", 1, 1);
}

static void bools(lede_query_tree *t)
{
    lede_query *b = lede_query_bool(t);
    CHECK(lede_query_add(b, LEDE_MUST, lede_query_match(t, LEDE_FIELD_ALL, S("macron"), 0)) == 0);
    CHECK(lede_query_add(b, LEDE_MUST_NOT, lede_query_term(t, LEDE_FIELD_ALL, S("googl"))) == 0);
    CHECK(lede_query_add(b, LEDE_SHOULD, lede_query_phrase(t, LEDE_FIELD_ALL, S("social media"))) == 0);
    versus("bool must/must_not/should", b, "+macron -google \"social media\"", 0, 1);

    lede_query *o = lede_query_bool(t);
    lede_query_add(o, LEDE_SHOULD, lede_query_term(t, LEDE_FIELD_ALL, S("macron")));
    lede_query_add(o, LEDE_SHOULD, lede_query_term(t, LEDE_FIELD_ALL, S("trump")));
    lede_query *and = lede_query_bool(t);
    lede_query_add(and, LEDE_MUST, o);
    lede_query_add(and, LEDE_MUST, lede_query_keyword(t, LEDE_COLUMN_SOURCE, S("ITV News")));
    versus("nested bool with keyword", and, "(macron OR trump) source:\"ITV News\"", 0, 1);

    lede_query *neg = lede_query_bool(t);
    lede_query_add(neg, LEDE_MUST_NOT, lede_query_term(t, LEDE_FIELD_ALL, S("googl")));
    versus("only negations", neg, "-google", 0, 1);

    /* A filter matches like a must clause and adds nothing to the score. */
    lede_query *f = lede_query_bool(t);
    lede_query_add(f, LEDE_MUST, lede_query_match(t, LEDE_FIELD_ALL, S("internet"), 0));
    lede_query_add(f, LEDE_FILTER, lede_query_match(t, LEDE_FIELD_ALL, S("google"), 1));
    lede_err e;
    lede_results *rf = run(NULL, f, 0, &e), *rboth = run("+internet +google", NULL, 0, &e);
    lede_results *ralone = run("internet", NULL, 0, &e);
    CHECK(rf && rboth && ralone && rf->nhits == rboth->nhits && rf->nhits > 0 &&
          rf->nhits < ralone->nhits);
    for (uint32_t i = 0; rf && ralone && i < rf->nhits; i++) {
        int found = 0;
        for (uint32_t j = 0; j < ralone->nhits; j++)
            if (ralone->hits[j].docno == rf->hits[i].docno) {
                CHECK(ralone->hits[j].score == rf->hits[i].score);
                found = 1;
            }
        CHECK(found);
    }
    lede_results_free(rf);
    lede_results_free(rboth);
    lede_results_free(ralone);

    /* Boost: every score doubles, the order stays. */
    lede_query *m = lede_query_match(t, LEDE_FIELD_ALL, S("social media fines"), 0);
    CHECK(lede_query_set_boost(m, 2.0) == 0);
    versus("boost", m, "social media fines", 1, 2.0);
    lede_query *bb = lede_query_bool(t);
    lede_query_add(bb, LEDE_SHOULD, lede_query_term(t, LEDE_FIELD_ALL, S("macron")));
    lede_query_add(bb, LEDE_SHOULD, lede_query_term(t, LEDE_FIELD_ALL, S("may")));
    lede_query_set_boost(bb, 4.0);
    versus("boost of a bool", bb, "macron may", 0, 4.0);
}

static void misuse(lede_query_tree *t)
{
    lede_query *leaf = lede_query_term(t, LEDE_FIELD_ALL, S("macron"));
    lede_query *b = lede_query_bool(t);
    CHECK_EQ_INT(lede_query_add(leaf, LEDE_MUST, b), LEDE_EINVAL);
    CHECK_EQ_INT(lede_query_add(b, LEDE_MUST, NULL), LEDE_EINVAL);
    CHECK_EQ_INT(lede_query_add(b, LEDE_MUST, b), LEDE_EINVAL);
    CHECK_EQ_INT(lede_query_add(b, (lede_occur)9, leaf), LEDE_EINVAL);
    CHECK_EQ_INT(lede_query_set_boost(leaf, 0), LEDE_EINVAL);
    CHECK_EQ_INT(lede_query_set_boost(leaf, NAN), LEDE_EINVAL);
    lede_query_tree *other = lede_query_tree_new();
    CHECK_EQ_INT(lede_query_add(b, LEDE_MUST, lede_query_all(other)), LEDE_EINVAL);
    lede_query_tree_free(other);
    CHECK(lede_query_keyword(t, (lede_column)7, S("x")) == NULL);
    lede_err e;
    lede_search_opts o = {0};
    o.query = "macron";
    o.tree = leaf;
    lede_results *res = NULL;
    CHECK_EQ_INT(lede_search(ix, &o, &res, &e), LEDE_EINVAL);
    o.query = NULL;
    o.tree = NULL;
    lede_err_clear(&e);
    CHECK_EQ_INT(lede_search(ix, &o, &res, &e), LEDE_EINVAL);
    /* Too deep: a chain of bools past the parser's nesting limit. */
    lede_query *top = lede_query_bool(t), *cur = top;
    for (int i = 0; i < 100; i++) {
        lede_query *kid = lede_query_bool(t);
        lede_query_add(cur, LEDE_MUST, kid);
        cur = kid;
    }
    lede_query_add(cur, LEDE_MUST, leaf);
    CHECK(run(NULL, top, 0, &e) == NULL && e.rc == LEDE_ELIMIT);
    /* A syntax error in a string node keeps its position in that string. */
    lede_query *sb = lede_query_bool(t);
    lede_query_add(sb, LEDE_MUST, leaf);
    lede_query_add(sb, LEDE_SHOULD, lede_query_string(t, S("social (media"), 0));
    CHECK(run(NULL, sb, 0, &e) == NULL && e.rc == LEDE_ESYNTAX && e.at == 7);
    CHECK(lede_column_by_name("source") == LEDE_COLUMN_SOURCE && lede_column_by_name("x") == -1);
    CHECK_EQ_STR(lede_column_name(LEDE_COLUMN_SOURCE), "source");
    CHECK(lede_column_name(5) == NULL);
}

static void statistics(void)
{
    lede_search_opts o = {0};
    o.query = "macron title:extremist body:fines terror*";
    lede_corpus_stats *st = NULL;
    lede_err e = {0};
    CHECK(lede_corpus_stats_gather(ix, &o, &st, &e) == 0);
    lede_index_stats is;
    lede_index_stats_get(ix, &is, &e);
    CHECK(lede_corpus_stats_docs(st) == is.documents + is.deleted);
    CHECK(fabs(lede_corpus_stats_avg_len(st, LEDE_FIELD_ALL) - is.avgdl) < 1e-9);
    struct { lede_field f; const char *term; } cases[] = {
        {LEDE_FIELD_ALL, "macron"}, {LEDE_FIELD_TITLE, "extremist"}, {LEDE_FIELD_BODY, "fine"},
        {LEDE_FIELD_ALL, "terrorist"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint64_t a = 0, b = 1;
        CHECK_MSG(lede_corpus_stats_df(st, cases[i].f, S(cases[i].term), &a) == 0, cases[i].term);
        CHECK(lede_index_term_df(ix, cases[i].f, S(cases[i].term), &b, &e) == 0);
        CHECK_MSG(a == b && a > 0, cases[i].term);
    }
    uint64_t df = 9;
    CHECK_EQ_INT(lede_corpus_stats_df(st, LEDE_FIELD_ALL, S("google"), &df), LEDE_ENOTFOUND);
    CHECK(lede_index_term_df(ix, LEDE_FIELD_ALL, S("nosuchtermxyz"), &df, &e) == 0 && df == 0);
    /* Scoring with one's own gathered statistics changes nothing. */
    lede_results *mine = NULL, *own = NULL;
    o.k = 50;
    CHECK(lede_search(ix, &o, &own, &e) == 0);
    o.stats = st;
    CHECK(lede_search(ix, &o, &mine, &e) == 0);
    same("own statistics", mine, own, 1);
    lede_results_free(mine);
    lede_results_free(own);
    lede_corpus_stats_free(st);
    lede_corpus_stats_free(NULL);
}

int main(void)
{
    char *root = test_tmpdir("query");
    char *dir = test_path(root, "seeds");
    ix = test_build_index(dir, "data/seeds.jsonl", 0);
    CHECK(ix != NULL);
    if (ix) {
        lede_query_tree *t = lede_query_tree_new();
        leaves(t);
        bools(t);
        misuse(t);
        lede_query_tree_free(t);
        lede_query_tree_free(NULL);
        statistics();
        lede_index_free(ix);
    }
    test_rmtree(root);
    free(dir);
    free(root);
    return tap_done();
}
