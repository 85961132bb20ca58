/* test_qparse.c: unit tests of index/query/qparse.c: tables of query -> expected
 * S-expression dump (with the default English analyzer, with a stop list,
 * and in plain mode), every syntax error with its position and message, and
 * a deterministic fuzz loop that only asks the parser to stay sane. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "query/query_int.h"
#include "tap.h"

typedef struct dump_case {
    const char *query;
    const char *dump;
} dump_case;

/* Default analyzer: Snowball English stems, no stop words. */
static const dump_case default_cases[] = {
    /* bare words */
    {"macron", "(term all \"macron\")"},
    {"  macron  ", "(term all \"macron\")"},
    {"running", "(term all \"run\")"},
    {"Macron's", "(term all \"macron\")"},
    {"Élysée", "(term all \"elyse\")"},
    {"macron football", "(bool (should (term all \"macron\") (term all \"footbal\")))"},
    {"rock and roll", "(bool (should (term all \"rock\") (term all \"and\") (term all \"roll\")))"},
    {"And or Not", "(bool (should (term all \"and\") (term all \"or\") (term all \"not\")))"},
    {"ORANGE", "(term all \"orang\")"},
    {"the", "(term all \"the\")"},
    /* words analyzing to several tokens or to none */
    {"e-mail", "(phrase all \"e\" 0 \"mail\" 1)"},
    {"U.S.-Mexico", "(phrase all \"us\" 0 \"mexico\" 1)"},
    {"10:30", "(phrase all \"10\" 0 \"30\" 1)"},
    {"a+b", "(phrase all \"a\" 0 \"b\" 1)"},
    {"...", "(bool)"},
    {"macron ...", "(term all \"macron\")"},
    {"macron , fines", "(bool (should (term all \"macron\") (term all \"fine\")))"},
    /* phrases */
    {"\"social media\"", "(phrase all \"social\" 0 \"media\" 1)"},
    {"\"President Macron's fines\"", "(phrase all \"presid\" 0 \"macron\" 1 \"fine\" 2)"},
    {"\"president\"", "(term all \"presid\")"},
    {"\"Macron's\"", "(term all \"macron\")"},
    {"C++", "(term all \"c\")"},
    {"runs", "(term all \"run\")"},
    {"a*b", "(phrase all \"a\" 0 \"b\" 1)"},
    {"\"\"", "(bool)"},
    {"\" ... \"", "(bool)"},
    {"\"social media\" liability",
     "(bool (should (phrase all \"social\" 0 \"media\" 1) (term all \"liabil\")))"},
    {"social\"media\"", "(bool (should (term all \"social\") (term all \"media\")))"},
    {"\"AND\" \"OR\" \"(\"", "(bool (should (term all \"and\") (term all \"or\")))"},
    /* + and - */
    {"+macron -football title:\"legal liability\"",
     "(bool (must (term all \"macron\")) (must_not (term all \"footbal\")) "
     "(should (phrase title \"legal\" 0 \"liabil\" 1)))"},
    {"+macron", "(term all \"macron\")"},
    {"-macron", "(bool (must (all)) (must_not (term all \"macron\")))"},
    {"-macron -trump", "(bool (must (all)) (must_not (term all \"macron\") (term all \"trump\")))"},
    {"macron -trump", "(bool (must_not (term all \"trump\")) (should (term all \"macron\")))"},
    {"macron - trump", "(bool (must_not (term all \"trump\")) (should (term all \"macron\")))"},
    {"+macron +trump fines",
     "(bool (must (term all \"macron\") (term all \"trump\")) (should (term all \"fine\")))"},
    {"--macron", "(term all \"macron\")"},
    {"+-macron", "(bool (must (all)) (must_not (term all \"macron\")))"},
    {"-\"social media\"",
     "(bool (must (all)) (must_not (phrase all \"social\" 0 \"media\" 1)))"},
    {"+president* -trump", "(bool (must (prefix all \"presid\")) (must_not (term all \"trump\")))"},
    {"-...", "(bool)"},
    /* AND, OR, NOT */
    {"trump AND biden AND obama",
     "(bool (must (term all \"trump\") (term all \"biden\") (term all \"obama\")))"},
    {"trump AND NOT biden", "(bool (must (term all \"trump\")) (must_not (term all \"biden\")))"},
    {"trump AND -biden", "(bool (must (term all \"trump\")) (must_not (term all \"biden\")))"},
    {"-trump AND biden", "(bool (must (term all \"biden\")) (must_not (term all \"trump\")))"},
    {"NOT trump AND NOT biden",
     "(bool (must (all)) (must_not (term all \"trump\") (term all \"biden\")))"},
    {"trump OR biden OR obama",
     "(bool (should (term all \"trump\") (term all \"biden\") (term all \"obama\")))"},
    {"+trump OR biden", "(bool (should (term all \"trump\") (term all \"biden\")))"},
    {"trump OR biden obama",
     "(bool (should (term all \"trump\") (term all \"biden\") (term all \"obama\")))"},
    {"trump AND biden OR obama",
     "(bool (should (bool (must (term all \"trump\") (term all \"biden\"))) (term all \"obama\")))"},
    {"trump OR biden AND obama",
     "(bool (should (term all \"trump\") (bool (must (term all \"biden\") (term all \"obama\")))))"},
    {"trump AND biden obama",
     "(bool (should (bool (must (term all \"trump\") (term all \"biden\"))) (term all \"obama\")))"},
    {"NOT trump", "(bool (must (all)) (must_not (term all \"trump\")))"},
    {"trump NOT biden", "(bool (must_not (term all \"biden\")) (should (term all \"trump\")))"},
    {"NOT NOT trump", "(term all \"trump\")"},
    {"NOT(trump)", "(bool (must (all)) (must_not (term all \"trump\")))"},
    {"trump AND ...", "(term all \"trump\")"},
    {"... OR trump", "(term all \"trump\")"},
    {"... AND ...", "(bool)"},
    /* groups */
    {"(trump)", "(term all \"trump\")"},
    {"((((trump))))", "(term all \"trump\")"},
    {"(trump biden)", "(bool (should (term all \"trump\") (term all \"biden\")))"},
    {"(trump OR biden) AND obama",
     "(bool (must (bool (should (term all \"trump\") (term all \"biden\"))) (term all \"obama\")))"},
    {"trump AND (biden AND obama)",
     "(bool (must (term all \"trump\") (term all \"biden\") (term all \"obama\")))"},
    {"(trump OR biden) OR obama",
     "(bool (should (term all \"trump\") (term all \"biden\") (term all \"obama\")))"},
    {"+(trump biden) -obama",
     "(bool (must (bool (should (term all \"trump\") (term all \"biden\")))) "
     "(must_not (term all \"obama\")))"},
    {"-(trump OR biden)",
     "(bool (must (all)) (must_not (term all \"trump\") (term all \"biden\")))"},
    {"-(trump AND biden)",
     "(bool (must (all)) (must_not (bool (must (term all \"trump\") (term all \"biden\")))))"},
    {"trump (-biden)", "(bool (must (term all \"trump\")) (must_not (term all \"biden\")))"},
    {"trump (biden -obama)",
     "(bool (should (term all \"trump\") (bool (must_not (term all \"obama\")) "
     "(should (term all \"biden\")))))"},
    {"(...)", "(bool)"},
    {"trump (...)", "(term all \"trump\")"},
    /* fields */
    {"title:trump", "(term title \"trump\")"},
    {"body:trump", "(term body \"trump\")"},
    {"title:\"social media\"", "(phrase title \"social\" 0 \"media\" 1)"},
    {"title:e-mail", "(phrase title \"e\" 0 \"mail\" 1)"},
    {"title:(trump biden)", "(bool (should (term title \"trump\") (term title \"biden\")))"},
    {"title:(trump body:biden)", "(bool (should (term title \"trump\") (term body \"biden\")))"},
    {"title:(trump (biden \"social media\"))",
     "(bool (should (term title \"trump\") (term title \"biden\") "
     "(phrase title \"social\" 0 \"media\" 1)))"},
    {"title:body:trump", "(term body \"trump\")"},
    {"title:president*", "(prefix title \"presid\")"},
    {"+title:trump -body:biden",
     "(bool (must (term title \"trump\")) (must_not (term body \"biden\")))"},
    {"-title:(trump biden)",
     "(bool (must (all)) (must_not (term title \"trump\") (term title \"biden\")))"},
    {"title:...", "(bool)"},
    {"title:trump:biden", "(phrase title \"trump\" 0 \"biden\" 1)"},
    /* unknown fields and colons are text */
    {"foo:bar", "(phrase all \"foo\" 0 \"bar\" 1)"},
    {"Update: trump", "(bool (should (term all \"updat\") (term all \"trump\")))"},
    {"Title:trump", "(phrase all \"titl\" 0 \"trump\" 1)"},
    {"titles:trump", "(phrase all \"titl\" 0 \"trump\" 1)"},
    {"title", "(term all \"titl\")"},
    {"date", "(term all \"date\")"},
    {"date=2017", "(phrase all \"date\" 0 \"2017\" 1)"},
    {"Source:Reuters", "(phrase all \"sourc\" 0 \"reuter\" 1)"},
    /* prefixes */
    {"president*", "(prefix all \"presid\")"},
    {"presidents*", "(prefix all \"presid\")"},
    {"elect*", "(prefix all \"elect\")"},
    {"Élysée*", "(prefix all \"elyse\")"},
    /* stemming rewrote the end: the folded word is the prefix, the stem
     * an exact extra term */
    {"elys*", "(prefix all \"elys\" \"eli\")"},
    {"happy*", "(prefix all \"happy\" \"happi\")"},
    {"U.S.*", "(prefix all \"us\")"},
    {"trump president*",
     "(bool (should (term all \"trump\") (prefix all \"presid\")))"},
    /* filters */
    {"source:Reuters", "(bool (must (all) (source \"Reuters\")))"},
    {"source:\"New York Times - News\"", "(bool (must (all) (source \"New York Times - News\")))"},
    {"source:\"a\\b\"", "(bool (must (all) (source \"a\\\\b\")))"},
    {"source:AP:News", "(bool (must (all) (source \"AP:News\")))"},
    {"trump source:Reuters", "(bool (must (source \"Reuters\") (term all \"trump\")))"},
    {"source:Reuters trump", "(bool (must (source \"Reuters\") (term all \"trump\")))"},
    {"trump biden source:Reuters",
     "(bool (must (source \"Reuters\") (bool (should (term all \"trump\") (term all \"biden\")))))"},
    {"+trump biden source:Reuters",
     "(bool (must (term all \"trump\") (source \"Reuters\")) (should (term all \"biden\")))"},
    {"trump -source:Reuters",
     "(bool (must_not (source \"Reuters\")) (should (term all \"trump\")))"},
    {"-source:Reuters", "(bool (must (all)) (must_not (source \"Reuters\")))"},
    {"trump AND source:Reuters", "(bool (must (term all \"trump\") (source \"Reuters\")))"},
    {"trump AND (source:Reuters)", "(bool (must (term all \"trump\") (source \"Reuters\")))"},
    {"source:Reuters OR source:AP",
     "(bool (must (all) (bool (should (source \"Reuters\") (source \"AP\")))))"},
    {"trump (source:Reuters OR source:AP)",
     "(bool (must (bool (should (source \"Reuters\") (source \"AP\"))) (term all \"trump\")))"},
    {"(source:Reuters)", "(bool (must (all) (source \"Reuters\")))"},
    {"title:source:Reuters", "(bool (must (all) (source \"Reuters\")))"},
    {"(source:Reuters)trump", "(bool (must (source \"Reuters\") (term all \"trump\")))"},
    {"date:2017", "(bool (must (all) (date 20170101 20171231)))"},
    {"date:2016-02", "(bool (must (all) (date 20160201 20160229)))"},
    {"date:1900-02", "(bool (must (all) (date 19000201 19000228)))"},
    {"date:2000-02", "(bool (must (all) (date 20000201 20000229)))"},
    {"date:2017-06-13", "(bool (must (all) (date 20170613 20170613)))"},
    {"date:\"2017-06\"", "(bool (must (all) (date 20170601 20170630)))"},
    {"date>=2017-06-01", "(bool (must (all) (date 20170601 99991231)))"},
    {"date>2017-06-01", "(bool (must (all) (date 20170602 99991231)))"},
    {"date>2017-06-30", "(bool (must (all) (date 20170701 99991231)))"},
    {"date>2017-12-31", "(bool (must (all) (date 20180101 99991231)))"},
    {"date>2016-02-28", "(bool (must (all) (date 20160229 99991231)))"},
    {"date>2017-02-28", "(bool (must (all) (date 20170301 99991231)))"},
    {"date>2017", "(bool (must (all) (date 20180101 99991231)))"},
    {"date>2017-06", "(bool (must (all) (date 20170701 99991231)))"},
    {"date<2017-01-01", "(bool (must (all) (date 10101 20161231)))"},
    {"date<2017-03-01", "(bool (must (all) (date 10101 20170228)))"},
    {"date<2016-03-01", "(bool (must (all) (date 10101 20160229)))"},
    {"date<2017-06-13", "(bool (must (all) (date 10101 20170612)))"},
    {"date<2017-06", "(bool (must (all) (date 10101 20170531)))"},
    {"date<0001-01-01", "(bool (must (all) (date 10101 -1)))"},
    {"date<=2017-06-13", "(bool (must (all) (date 10101 20170613)))"},
    {"date<=2017", "(bool (must (all) (date 10101 20171231)))"},
    {"date>=2017-06-01 date<2017-07-01",
     "(bool (must (all) (date 20170601 99991231) (date 10101 20170630)))"},
    {"trump date:2017", "(bool (must (date 20170101 20171231) (term all \"trump\")))"},
    {"title:(trump OR biden) AND date:2017",
     "(bool (must (bool (should (term title \"trump\") (term title \"biden\"))) "
     "(date 20170101 20171231)))"},
    {"source:Reuters date:2017 -trump",
     "(bool (must (all) (source \"Reuters\") (date 20170101 20171231)) "
     "(must_not (term all \"trump\")))"},
};

/* With a stop list (the, of, a): stop words vanish but keep their position. */
static const dump_case stop_cases[] = {
    {"\"president of the united states\"", "(phrase all \"presid\" 0 \"unit\" 3 \"state\" 4)"},
    {"state-of-the-art", "(phrase all \"state\" 0 \"art\" 3)"},
    {"the", "(bool)"},
    {"the trump", "(term all \"trump\")"},
    {"\"of the\"", "(bool)"},
    {"\"the president\"", "(term all \"presid\")"},
    {"the*", "(prefix all \"the\")"},
    {"+the", "(bool)"},
    {"-the", "(bool)"},
    {"trump AND the", "(term all \"trump\")"},
    {"the OR trump", "(term all \"trump\")"},
    {"(the)", "(bool)"},
    {"trump (the a)", "(term all \"trump\")"},
    {"-(the) trump", "(term all \"trump\")"},
    {"title:the", "(bool)"},
};

static const dump_case plain_cases[] = {
    {"trump", "(term all \"trump\")"},
    {"trump trump biden", "(bool (should (term all \"trump\" ^2) (term all \"biden\")))"},
    {"Trump TRUMP trump's", "(term all \"trump\" ^3)"},
    {"biden trump Biden", "(bool (should (term all \"biden\" ^2) (term all \"trump\")))"},
    {"trump AND -biden", "(bool (should (term all \"trump\") (term all \"and\") (term all \"biden\")))"},
    {"title:trump", "(bool (should (term all \"titl\") (term all \"trump\")))"},
    {"\"social media", "(bool (should (term all \"social\") (term all \"media\")))"},
    {"(((", "(bool)"},
    {"president*", "(term all \"presid\")"},
};

typedef struct error_case {
    const char *query;
    int rc;
    long at;
    const char *msg;
} error_case;

static const error_case error_cases[] = {
    {"", LEDE_ESYNTAX, 0, "empty query: expected a word, a phrase or a filter"},
    {"  \t\n ", LEDE_ESYNTAX, 0, "empty query: expected a word, a phrase or a filter"},
    /* parentheses */
    {"(trump", LEDE_ESYNTAX, 0, "unbalanced '(': expected a matching ')'"},
    {"((trump)", LEDE_ESYNTAX, 0, "unbalanced '(': expected a matching ')'"},
    {"trump (biden", LEDE_ESYNTAX, 6, "unbalanced '(': expected a matching ')'"},
    {"title:(trump", LEDE_ESYNTAX, 6, "unbalanced '(': expected a matching ')'"},
    {"trump)", LEDE_ESYNTAX, 5, "unbalanced ')': no '(' before it"},
    {"(trump))", LEDE_ESYNTAX, 7, "unbalanced ')': no '(' before it"},
    {")", LEDE_ESYNTAX, 0, "unbalanced ')': no '(' before it"},
    {"()", LEDE_ESYNTAX, 0, "empty parentheses: expected a clause inside '(' ')'"},
    {"trump ( )", LEDE_ESYNTAX, 6, "empty parentheses: expected a clause inside '(' ')'"},
    /* operators with nothing after them */
    {"trump AND", LEDE_ESYNTAX, 6, "expected a word, a phrase or '(' after AND"},
    {"trump OR", LEDE_ESYNTAX, 6, "expected a word, a phrase or '(' after OR"},
    {"NOT", LEDE_ESYNTAX, 0, "expected a word, a phrase or '(' after NOT"},
    {"trump NOT", LEDE_ESYNTAX, 6, "expected a word, a phrase or '(' after NOT"},
    {"+", LEDE_ESYNTAX, 0, "expected a word, a phrase or '(' after '+'"},
    {"-", LEDE_ESYNTAX, 0, "expected a word, a phrase or '(' after '-'"},
    {"trump -", LEDE_ESYNTAX, 6, "expected a word, a phrase or '(' after '-'"},
    {"+ AND", LEDE_ESYNTAX, 0, "expected a word, a phrase or '(' after '+'"},
    {"trump AND OR biden", LEDE_ESYNTAX, 6, "expected a word, a phrase or '(' after AND"},
    {"(trump AND)", LEDE_ESYNTAX, 7, "expected a word, a phrase or '(' after AND"},
    {"trump AND )", LEDE_ESYNTAX, 6, "expected a word, a phrase or '(' after AND"},
    {"(-)", LEDE_ESYNTAX, 1, "expected a word, a phrase or '(' after '-'"},
    /* AND / OR with nothing before them */
    {"OR trump", LEDE_ESYNTAX, 0, "expected a word, a phrase or '(' before OR"},
    {"AND trump", LEDE_ESYNTAX, 0, "expected a word, a phrase or '(' before AND"},
    {"(OR trump)", LEDE_ESYNTAX, 1, "expected a word, a phrase or '(' before OR"},
    {"trump (AND biden)", LEDE_ESYNTAX, 7, "expected a word, a phrase or '(' before AND"},
    /* negations inside OR */
    {"trump OR -biden", LEDE_ESYNTAX, 9, "a negated clause cannot be OR-ed"},
    {"trump OR NOT biden", LEDE_ESYNTAX, 9, "a negated clause cannot be OR-ed"},
    {"-trump OR biden", LEDE_ESYNTAX, 0, "a negated clause cannot be OR-ed"},
    {"NOT trump OR biden", LEDE_ESYNTAX, 0, "a negated clause cannot be OR-ed"},
    {"trump OR biden OR -obama", LEDE_ESYNTAX, 18, "a negated clause cannot be OR-ed"},
    {"trump OR -\"social media\"", LEDE_ESYNTAX, 9, "a negated clause cannot be OR-ed"},
    /* quotes */
    {"\"social media", LEDE_ESYNTAX, 0, "unterminated quote: expected a closing '\"'"},
    {"trump \"social", LEDE_ESYNTAX, 6, "unterminated quote: expected a closing '\"'"},
    {"title:\"social", LEDE_ESYNTAX, 6, "unterminated quote: expected a closing '\"'"},
    {"\"a\" \"b", LEDE_ESYNTAX, 4, "unterminated quote: expected a closing '\"'"},
    {"source:\"Reuters", LEDE_ESYNTAX, 7, "unterminated quote: expected a closing '\"'"},
    /* dates */
    {"date:2017-13-01", LEDE_ESYNTAX, 5, "bad date: expected YYYY, YYYY-MM or YYYY-MM-DD"},
    {"date:2017-02-29", LEDE_ESYNTAX, 5, "bad date: expected YYYY, YYYY-MM or YYYY-MM-DD"},
    {"date:2017-13", LEDE_ESYNTAX, 5, "bad date: expected YYYY, YYYY-MM or YYYY-MM-DD"},
    {"date:2017-00", LEDE_ESYNTAX, 5, "bad date: expected YYYY, YYYY-MM or YYYY-MM-DD"},
    {"date:2017-6", LEDE_ESYNTAX, 5, "bad date: expected YYYY, YYYY-MM or YYYY-MM-DD"},
    {"date:201", LEDE_ESYNTAX, 5, "bad date: expected YYYY, YYYY-MM or YYYY-MM-DD"},
    {"date:0000", LEDE_ESYNTAX, 5, "bad date: expected YYYY, YYYY-MM or YYYY-MM-DD"},
    {"date:June", LEDE_ESYNTAX, 5, "bad date: expected YYYY, YYYY-MM or YYYY-MM-DD"},
    {"date:2017-06-13T10:00", LEDE_ESYNTAX, 5, "bad date: expected YYYY, YYYY-MM or YYYY-MM-DD"},
    {"date>=17-06-01", LEDE_ESYNTAX, 6, "bad date: expected YYYY, YYYY-MM or YYYY-MM-DD"},
    {"trump date<2017/06/01", LEDE_ESYNTAX, 11, "bad date: expected YYYY, YYYY-MM or YYYY-MM-DD"},
    {"date:\"2017-99\"", LEDE_ESYNTAX, 6, "bad date: expected YYYY, YYYY-MM or YYYY-MM-DD"},
    {"date>==2017", LEDE_ESYNTAX, 6, "bad date: expected YYYY, YYYY-MM or YYYY-MM-DD"},
    /* empty field values */
    {"date:", LEDE_ESYNTAX, 5, "empty value: expected a word or a quoted value right after date:"},
    {"date>=", LEDE_ESYNTAX, 6, "empty value: expected a word or a quoted value right after date>="},
    {"date< 2017", LEDE_ESYNTAX, 5, "empty value: expected a word or a quoted value right after date<"},
    {"source:", LEDE_ESYNTAX, 7, "empty value: expected a word or a quoted value right after source:"},
    {"trump source:", LEDE_ESYNTAX, 13,
     "empty value: expected a word or a quoted value right after source:"},
    {"source: Reuters", LEDE_ESYNTAX, 7,
     "empty value: expected a word or a quoted value right after source:"},
    {"(source:)", LEDE_ESYNTAX, 8, "empty value: expected a word or a quoted value right after source:"},
    {"source:\"\"", LEDE_ESYNTAX, 7, "empty value: expected a value inside the quotes after source:"},
    {"title:", LEDE_ESYNTAX, 6, "empty value: expected a word, a phrase or '(' right after title:"},
    {"title: trump", LEDE_ESYNTAX, 6, "empty value: expected a word, a phrase or '(' right after title:"},
    {"body:", LEDE_ESYNTAX, 5, "empty value: expected a word, a phrase or '(' right after body:"},
    {"title:body:", LEDE_ESYNTAX, 11, "empty value: expected a word, a phrase or '(' right after body:"},
    {"(title:)", LEDE_ESYNTAX, 7, "empty value: expected a word, a phrase or '(' right after title:"},
    /* prefixes */
    {"p*", LEDE_ESYNTAX, 0, "prefix too short: expected at least 2 letters before '*'"},
    {"*", LEDE_ESYNTAX, 0, "prefix too short: expected at least 2 letters before '*'"},
    {"trump *", LEDE_ESYNTAX, 6, "prefix too short: expected at least 2 letters before '*'"},
    {"title:p*", LEDE_ESYNTAX, 6, "prefix too short: expected at least 2 letters before '*'"},
    {"\"social media\"*", LEDE_ESYNTAX, 14, "prefix too short: expected at least 2 letters before '*'"},
    {"e-mail*", LEDE_ESYNTAX, 0, "a prefix query takes one word before '*'"},
};

static char *dump_of(const lede_qnode *n)
{
    lede_buf b = {0};
    int rc = lede_qnode_dump(n, &b);
    lede_buf_putc(&b, '\0');
    if (rc || b.rc) {
        lede_buf_free(&b);
        return NULL;
    }
    return (char *)b.p;
}

static void check_dumps(lede_analyzer *an, const dump_case *cases, size_t n, int plain)
{
    lede_arena *arena = lede_arena_new(0);
    for (size_t i = 0; i < n; i++) {
        lede_err err;
        lede_err_clear(&err);
        lede_qnode *root = NULL;
        int rc = lede_qparse(arena, an, cases[i].query, strlen(cases[i].query), plain, &root, &err);
        char detail[2048];
        snprintf(detail, sizeof detail, "query [%s]: rc %d: %s", cases[i].query, rc, err.msg);
        CHECK_MSG(rc == 0 && root != NULL, detail);
        if (rc != 0 || !root)
            continue;
        char *got = dump_of(root);
        snprintf(detail, sizeof detail, "query [%s]\n     got  %s\n     want %s", cases[i].query,
                 got ? got : "(null)", cases[i].dump);
        CHECK_MSG(got && strcmp(got, cases[i].dump) == 0, detail);
        free(got);
        lede_arena_reset(arena);
    }
    lede_arena_free(arena);
}

static void check_errors(lede_analyzer *an)
{
    lede_arena *arena = lede_arena_new(0);
    for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
        const error_case *c = &error_cases[i];
        lede_err err;
        lede_err_clear(&err);
        lede_qnode *root = (lede_qnode *)&err;   /* must be reset to NULL */
        int rc = lede_qparse(arena, an, c->query, strlen(c->query), 0, &root, &err);
        char detail[2048];
        snprintf(detail, sizeof detail, "query [%s]: rc %d at %ld msg \"%s\"; want rc %d at %ld \"%s\"",
                 c->query, rc, err.at, err.msg, c->rc, c->at, c->msg);
        CHECK_MSG(rc == c->rc && err.rc == c->rc && err.at == c->at && strcmp(err.msg, c->msg) == 0,
                  detail);
        CHECK_MSG(root == NULL, detail);
        lede_arena_reset(arena);
    }
    lede_arena_free(arena);
}

static void check_limits(lede_analyzer *an)
{
    lede_arena *arena = lede_arena_new(0);
    lede_qnode *root;
    lede_err err;

    /* 4096 bytes is allowed, one more is not; in both modes. */
    char *q = malloc(4097);
    for (int i = 0; i < 4097; i++)
        q[i] = i % 8 == 7 ? ' ' : 'a' + i % 7;
    for (int plain = 0; plain <= 1; plain++) {
        lede_err_clear(&err);
        CHECK_EQ_INT(lede_qparse(arena, an, q, 4096, plain, &root, &err), 0);
        lede_err_clear(&err);
        CHECK_EQ_INT(lede_qparse(arena, an, q, 4097, plain, &root, &err), LEDE_ELIMIT);
        CHECK_EQ_INT(err.at, 4096);
        CHECK_EQ_STR(err.msg, "query too long: 4097 bytes, the limit is 4096");
        lede_err_clear(&err);
        CHECK_EQ_INT(lede_qparse(arena, an, "  ", 2, plain, &root, &err), LEDE_ESYNTAX);
        CHECK_EQ_INT(err.at, 0);
    }
    free(q);

    /* 32 nested groups are fine, the 33rd is refused at its '('. */
    char deep[200];
    int n = 0;
    for (int i = 0; i < 32; i++)
        deep[n++] = '(';
    n += sprintf(deep + n, "trump");
    for (int i = 0; i < 32; i++)
        deep[n++] = ')';
    deep[n] = '\0';
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_qparse(arena, an, deep, strlen(deep), 0, &root, &err), 0);
    char *got = dump_of(root);
    CHECK_EQ_STR(got, "(term all \"trump\")");
    free(got);
    n = 0;
    for (int i = 0; i < 33; i++)
        deep[n++] = '(';
    n += sprintf(deep + n, "trump");
    for (int i = 0; i < 33; i++)
        deep[n++] = ')';
    deep[n] = '\0';
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_qparse(arena, an, deep, strlen(deep), 0, &root, &err), LEDE_ESYNTAX);
    CHECK_EQ_INT(err.at, 32);
    CHECK_EQ_STR(err.msg, "too deeply nested: at most 32 levels of parentheses");

    /* Long chains of modifiers and field scopes use no stack per link. */
    char chain[4096];
    n = 0;
    while (n < 4000)
        n += sprintf(chain + n, "NOT ");
    n += sprintf(chain + n, "trump");
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_qparse(arena, an, chain, (size_t)n, 0, &root, &err), 0);
    n = 0;
    while (n < 4000)
        n += sprintf(chain + n, "title:body:");
    n += sprintf(chain + n, "trump");
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_qparse(arena, an, chain, (size_t)n, 0, &root, &err), 0);
    got = dump_of(root);
    CHECK_EQ_STR(got, "(term body \"trump\")");
    free(got);

    /* The query is a length, not a C string: bytes past len are never read,
     * and a NUL inside it is just another byte. */
    char *exact = malloc(5);
    memcpy(exact, "trump", 5);
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_qparse(arena, an, exact, 5, 0, &root, &err), 0);
    memcpy(exact, "(\"ab\"", 5);
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_qparse(arena, an, exact, 3, 0, &root, &err), LEDE_ESYNTAX);
    CHECK_EQ_INT(err.at, 1);
    free(exact);
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_qparse(arena, an, "trump\0biden", 11, 0, &root, &err), 0);
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_qparse(arena, an, NULL, 0, 0, &root, &err), LEDE_ESYNTAX);
    lede_arena_free(arena);
}

/* Node positions point into the query. */
static void check_positions(lede_analyzer *an)
{
    lede_arena *arena = lede_arena_new(0);
    lede_err err;
    lede_qnode *root;
    const char *q = "+macron -\"legal liability\" title:fines source:AP";
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_qparse(arena, an, q, strlen(q), 0, &root, &err), 0);
    CHECK_EQ_INT(root->kind, Q_BOOL);
    CHECK_EQ_INT(root->nmust, 2);
    CHECK_EQ_INT(root->must[0]->at, 1);     /* macron, after its '+' */
    CHECK_EQ_INT(root->must[1]->at, 39);    /* source:AP */
    CHECK_EQ_INT(root->nshould, 1);
    CHECK_EQ_INT(root->should[0]->at, 27);  /* title:fines */
    CHECK_EQ_INT(root->should[0]->field, LEDE_FIELD_TITLE);
    CHECK_EQ_INT(root->nmust_not, 1);
    CHECK_EQ_INT(root->must_not[0]->at, 9); /* the quote, after its '-' */
    CHECK_EQ_INT(root->must_not[0]->nterms, 2);
    CHECK_EQ_INT(root->must_not[0]->term_pos[1], 1);
    CHECK_EQ_STR(root->must[1]->value, "AP");
    q = "title:\"social media\"";
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_qparse(arena, an, q, strlen(q), 0, &root, &err), 0);
    CHECK_EQ_INT(root->at, 0);              /* the clause, not its quote */
    lede_arena_free(arena);
}

/* Random soup of the syntax's pieces: the parser must answer 0 or a syntax
 * error inside the query, and the tree must dump. Run under ASan/UBSan this
 * is a cheap fuzzer. */
static void check_fuzz(lede_analyzer *an)
{
    static const char *const pieces[] = {
        "trump", " ", " ", "(", ")", "\"", "+", "-", "AND", "OR", "NOT", "*", ":", "title:",
        "body:", "source:", "date:", "date>", "date>=", "date<", "2017", "2017-06", "2017-06-13",
        "the", "e-mail", "\xc3\xa9", "\xff", "president*", "\t", "p*", "..."};
    const size_t npieces = sizeof pieces / sizeof pieces[0];
    lede_arena *arena = lede_arena_new(0);
    uint64_t state = 0x9e3779b97f4a7c15ull;
    int failures = 0;
    for (int round = 0; round < 20000 && failures < 5; round++) {
        char q[256];
        size_t len = 0;
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        int count = (int)(state >> 59) + 1;
        for (int k = 0; k < count; k++) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            const char *piece = pieces[(state >> 33) % npieces];
            size_t plen = strlen(piece);
            if (len + plen >= sizeof q)
                break;
            memcpy(q + len, piece, plen);
            len += plen;
        }
        for (int plain = 0; plain <= 1; plain++) {
            char *exact = malloc(len ? len : 1);
            memcpy(exact, q, len);
            lede_err err;
            lede_err_clear(&err);
            lede_qnode *root = NULL;
            int rc = lede_qparse(arena, an, exact, len, plain, &root, &err);
            bool sane = rc == 0 ? root != NULL
                                : (rc == LEDE_ESYNTAX || rc == LEDE_ELIMIT) && err.at >= 0 &&
                                      err.at <= (long)len && err.msg[0];
            if (rc == 0) {
                char *got = dump_of(root);
                sane = sane && got && got[0] == '(';
                free(got);
            }
            if (!sane) {
                char detail[2048];
                snprintf(detail, sizeof detail, "query [%.*s] plain %d: rc %d at %ld %s", (int)len,
                         q, plain, rc, err.at, err.msg);
                CHECK_MSG(sane, detail);
                failures++;
            }
            free(exact);
            lede_arena_reset(arena);
        }
    }
    CHECK_EQ_INT(failures, 0);
    lede_arena_free(arena);
}

static void check_dump_format(void)
{
    lede_qnode term = {.kind = Q_TERM, .boost = 2.5f, .nterms = 1};
    char *t = "quote\"back\\slash\ttab";
    term.terms = &t;
    char *got = dump_of(&term);
    CHECK_EQ_STR(got, "(term all \"quote\\\"back\\\\slash\\x09tab\" ^2.5)");
    free(got);
    lede_qnode date = {.kind = Q_DATE, .boost = 1, .date_lo = 20170101, .date_hi = 20171231};
    got = dump_of(&date);
    CHECK_EQ_STR(got, "(date 20170101 20171231)");
    free(got);
    lede_qnode empty = {.kind = Q_BOOL, .boost = 1};
    got = dump_of(&empty);
    CHECK_EQ_STR(got, "(bool)");
    free(got);
}

int main(void)
{
    lede_err err;
    lede_err_clear(&err);
    lede_analyzer *an = NULL;
    lede_analyzer_opts opts = {0};
    if (lede_analyzer_new(&opts, &an, &err) != 0) {
        fprintf(stderr, "analyzer: %s\n", err.msg);
        return 1;
    }
    check_dumps(an, default_cases, sizeof default_cases / sizeof default_cases[0], 0);
    check_dumps(an, plain_cases, sizeof plain_cases / sizeof plain_cases[0], 1);
    check_errors(an);
    check_limits(an);
    check_positions(an);
    check_fuzz(an);
    check_dump_format();

    char stop_path[] = "/tmp/lede_test_qparse_stopXXXXXX";
    int fd = mkstemp(stop_path);
    CHECK(fd >= 0);
    if (fd >= 0) {
        const char *stops = "# test stop list\nthe\nof\na\n";
        CHECK(write(fd, stops, strlen(stops)) == (ssize_t)strlen(stops));
        close(fd);
        lede_analyzer *stop_an = NULL;
        lede_analyzer_opts stop_opts = {.stopwords_path = stop_path};
        lede_err_clear(&err);
        CHECK_EQ_INT(lede_analyzer_new(&stop_opts, &stop_an, &err), 0);
        if (stop_an)
            check_dumps(stop_an, stop_cases, sizeof stop_cases / sizeof stop_cases[0], 0);
        lede_analyzer_free(stop_an);
        unlink(stop_path);
    }
    lede_analyzer_free(an);
    return tap_done();
}
