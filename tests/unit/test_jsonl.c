/* test_jsonl.c: unit tests of index/write/jsonl.c: lede_jsonl_parse (a table of
 * lines with the fields or the exact error each must give, then the cases a
 * table cannot express: NUL bytes, bounds, scratch reuse, nesting depth).
 * lede_parse_date is tested with the calendar in test_date.c. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lede/ingest.h"
#include "tap.h"

/* Expected field values; NULL means absent (JSON null or missing). */
typedef struct parse_case {
    const char *line;
    const char *error;     /* exact message, or NULL for success */
    const char *id, *title, *body, *source, *date, *url;
} parse_case;

#define OK_ID(line, id) {line, NULL, id, NULL, NULL, NULL, NULL, NULL}
#define BAD(line, error) {line, error, NULL, NULL, NULL, NULL, NULL, NULL}

static const parse_case cases[] = {
    /* ---- well-formed records */
    {"{\"id\":\"a1\",\"title\":\"T\",\"body\":\"B\",\"source\":\"S\",\"date\":\"2017-06-13\","
     "\"url\":\"http://x/y\"}",
     NULL, "a1", "T", "B", "S", "2017-06-13", "http://x/y"},
    {"{}", NULL, NULL, NULL, NULL, NULL, NULL, NULL},
    {" \t{ } \t\r", NULL, NULL, NULL, NULL, NULL, NULL, NULL},
    {"{\"url\" : \"u\" ,\r\n \"id\"\t:\"x\" }\r", NULL, "x", NULL, NULL, NULL, NULL, "u"},
    {"{\"id\":null,\"title\":null,\"body\":null,\"source\":null,\"date\":null,\"url\":null}",
     NULL, NULL, NULL, NULL, NULL, NULL, NULL},
    {"{\"id\":\"\",\"title\":\"\",\"body\":\"\"}", NULL, "", "", "", NULL, NULL, NULL},
    /* an empty date is an unknown date */
    {"{\"date\":\"\"}", NULL, NULL, NULL, NULL, NULL, NULL, NULL},
    {"{\"date\":\"1987-10-19T13:30:41\"}", NULL, NULL, NULL, NULL, NULL, "1987-10-19T13:30:41", NULL},
    {"{\"date\":\"2016-02-29 08:00\"}", NULL, NULL, NULL, NULL, NULL, "2016-02-29 08:00", NULL},
    /* integer ids keep their text */
    OK_ID("{\"id\":42}", "42"),
    OK_ID("{\"id\":-7}", "-7"),
    OK_ID("{\"id\":0}", "0"),
    OK_ID("{\"id\" : 12345678901234567890123 }", "12345678901234567890123"),
    /* duplicated keys: the last wins, null included */
    OK_ID("{\"id\":\"first\",\"id\":\"second\"}", "second"),
    OK_ID("{\"id\":\"first\",\"id\":null}", NULL),
    OK_ID("{\"id\":null,\"id\":3}", "3"),
    /* other keys are skipped whatever they hold */
    OK_ID("{\"n\":-0.5e+10,\"t\":true,\"f\":false,\"z\":null,\"o\":{\"a\":[1,{\"b\":[]},\"s\"]},"
          "\"e\":[],\"eo\":{},\"id\":\"k\"}",
          "k"),
    OK_ID("{\"x\":\"caf\\u00e9 \\ud83d\\ude00\",\"id\":\"k\"}", "k"),
    OK_ID("{\"x\":1E5,\"y\":0.0,\"z\":-0,\"w\":2e-3,\"id\":\"k\"}", "k"),
    /* keys are compared after decoding; look-alikes are other keys */
    OK_ID("{\"\\u0069d\":\"esc\"}", "esc"),
    OK_ID("{\"i\\u0064\":\"esc\"}", "esc"),
    OK_ID("{\"ID\":\"no\",\"id \":\"no\",\"idx\":\"no\",\"\\u0069dentifier\":\"no\"}", NULL),
    OK_ID("{\"\\u0069\\u0064\\u0069\\u0064\\u0069\\u0064\\u0069\\u0064\\u0069\":\"long\"}", NULL),
    /* escapes */
    {"{\"title\":\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t end\"}", NULL, NULL,
     "q\" b\\ s/ \b\f\n\r\t end", NULL, NULL, NULL, NULL},
    {"{\"title\":\"\\u0041\\u00e9\\u20AC\\uD83D\\uDE00\\uffff\"}", NULL, NULL,
     "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xEF\xBF\xBF", NULL, NULL, NULL, NULL},
    {"{\"title\":\"\\uDBFF\\uDFFF\"}", NULL, NULL, "\xF4\x8F\xBF\xBF", NULL, NULL, NULL, NULL},
    {"{\"title\":\"\\u007f\\u0080\\u07FF\\u0800\"}", NULL, NULL, "\x7F\xC2\x80\xDF\xBF\xE0\xA0\x80",
     NULL, NULL, NULL, NULL},
    /* raw UTF-8 passes through, every length */
    {"{\"body\":\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF\xED\x9F\xBF\xEE\x80\x80\"}",
     NULL, NULL, NULL, "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF\xED\x9F\xBF\xEE\x80\x80",
     NULL, NULL, NULL},
    /* several escaped fields in one line share the scratch buffer */
    {"{\"id\":\"\\u0031\",\"title\":\"t\\n\",\"body\":\"b\\t\",\"source\":\"\\\"s\\\"\","
     "\"date\":\"2017\\u002d06-13\",\"url\":\"h\\/\"}",
     NULL, "1", "t\n", "b\t", "\"s\"", "2017-06-13", "h/"},
    /* long runs around escapes, across the 8-byte fast path */
    {"{\"body\":\"abcdefghijklmnopqrstuvwxyz\\nABCDEFGHIJKLMNOPQRSTUVWXYZ\\u00e9abcdefghij\"}", NULL,
     NULL, NULL, "abcdefghijklmnopqrstuvwxyz\nABCDEFGHIJKLMNOPQRSTUVWXYZ\xC3\xA9" "abcdefghij", NULL,
     NULL, NULL},

    /* ---- structure errors */
    BAD("", "column 1: expected '{' to start the record"),
    BAD("   ", "column 4: expected '{' to start the record"),
    BAD("[]", "column 1: expected '{' to start the record"),
    BAD("\"id\"", "column 1: expected '{' to start the record"),
    BAD("{", "column 2: expected '\"' to start an object key"),
    BAD("{id:1}", "column 2: expected '\"' to start an object key"),
    BAD("{\"id\"", "column 6: expected ':' after object key"),
    BAD("{\"id\" \"x\"}", "column 7: expected ':' after object key"),
    BAD("{\"title\"=\"x\"}", "column 9: expected ':' after object key"),
    BAD("{\"id\":\"a\",}", "column 11: expected '\"' to start an object key"),
    BAD("{\"id\":\"a\" \"b\"}", "column 11: expected ',' or '}' after object member"),
    BAD("{\"id\":\"a\"", "column 10: expected ',' or '}' after object member"),
    BAD("{\"id\":\"a\";\"b\":1}", "column 10: expected ',' or '}' after object member"),
    BAD("{\"id\":\"a\"} x", "column 12: expected end of line after the record"),
    BAD("{\"id\":\"a\"}{}", "column 11: expected end of line after the record"),
    BAD("{\"id\":\"a\"}\n{}", "column 12: expected end of line after the record"),
    BAD("{\"x\":}", "column 6: expected a value"),
    BAD("{\"x\":", "column 6: expected a value"),
    BAD("{\"x\":+1}", "column 6: expected a value"),
    BAD("{\"x\":.5}", "column 6: expected a value"),
    BAD("{\"x\":True}", "column 6: expected a value"),
    BAD("{\"x\":'s'}", "column 6: expected a value"),
    BAD("{\"x\":tru}", "column 6: expected 'true'"),
    BAD("{\"x\":fals}", "column 6: expected 'false'"),
    BAD("{\"x\":nul}", "column 6: expected 'null'"),
    BAD("{\"id\":nil}", "column 7: expected 'null'"),
    BAD("{\"x\":-}", "column 7: expected a digit"),
    BAD("{\"x\":-a}", "column 7: expected a digit"),
    BAD("{\"x\":01}", "column 7: expected ',' or '}' after object member"),
    BAD("{\"x\":1.}", "column 8: expected a digit after '.'"),
    BAD("{\"x\":1.e5}", "column 8: expected a digit after '.'"),
    BAD("{\"x\":1e}", "column 8: expected a digit in the exponent"),
    BAD("{\"x\":1e+}", "column 9: expected a digit in the exponent"),
    BAD("{\"x\":[1 2]}", "column 9: expected ',' or ']' after array element"),
    BAD("{\"x\":[1,]}", "column 9: expected a value"),
    BAD("{\"x\":[}", "column 7: expected a value"),
    BAD("{\"x\":[", "column 7: expected a value"),
    BAD("{\"x\":[1", "column 8: expected ',' or ']' after array element"),
    BAD("{\"x\":{\"a\" 1}}", "column 11: expected ':' after object key"),
    BAD("{\"x\":{\"a\":1,}}", "column 13: expected '\"' to start an object key"),
    BAD("{\"x\":{1:2}}", "column 7: expected '\"' to start an object key"),
    BAD("{\"x\":{\"a\":1]}", "column 12: expected ',' or '}' after object member"),

    /* ---- wrong types for known keys */
    BAD("{\"id\":}", "column 7: id: expected a string, an integer or null"),
    BAD("{\"id\":true}", "column 7: id: expected a string, an integer or null"),
    BAD("{\"id\":[\"a\"]}", "column 7: id: expected a string, an integer or null"),
    BAD("{\"id\":1.5}", "column 7: id: expected a string or an integer, not a fraction"),
    BAD("{\"id\":1e3}", "column 7: id: expected a string or an integer, not a fraction"),
    BAD("{\"title\":1}", "column 10: title: expected a string or null"),
    BAD("{\"body\":false}", "column 9: body: expected a string or null"),
    BAD("{\"source\":{}}", "column 11: source: expected a string or null"),
    BAD("{\"date\":20170613}", "column 9: date: expected a string or null"),
    BAD("{\"url\":[]}", "column 8: url: expected a string or null"),
    BAD("{\"title\":", "column 10: title: expected a string or null"),

    /* ---- strings */
    BAD("{\"id\":\"abc", "column 11: expected '\"' to close the string"),
    BAD("{\"id\":\"abc\\\"}", "column 14: expected '\"' to close the string"),
    BAD("{\"ab", "column 5: expected '\"' to close the string"),
    BAD("{\"id\":\"a\tb\"}", "column 9: control character in string (must be escaped)"),
    BAD("{\"x\":\"a\nb\"}", "column 8: control character in string (must be escaped)"),
    BAD("{\"x\":\"\x01\"}", "column 7: control character in string (must be escaped)"),
    BAD("{\"k\x1f\":1}", "column 4: control character in string (must be escaped)"),
    BAD("{\"id\":\"a\\x\"}",
        "column 9: invalid escape (expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u)"),
    BAD("{\"id\":\"a\\'\"}",
        "column 9: invalid escape (expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u)"),
    BAD("{\"id\":\"a\\U0041\"}",
        "column 9: invalid escape (expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u)"),
    BAD("{\"id\":\"a\\", "column 9: expected an escape character after '\\'"),
    BAD("{\"id\":\"\\u12\"}", "column 8: expected 4 hex digits after '\\u'"),
    BAD("{\"id\":\"\\u12G4\"}", "column 8: expected 4 hex digits after '\\u'"),
    BAD("{\"id\":\"\\u 123\"}", "column 8: expected 4 hex digits after '\\u'"),
    BAD("{\"id\":\"\\u004", "column 8: expected 4 hex digits after '\\u'"),
    BAD("{\"id\":\"\\uDC00\"}", "column 8: lone low surrogate escape (\\uDC00-\\uDFFF)"),
    BAD("{\"id\":\"\\uDFFFx\"}", "column 8: lone low surrogate escape (\\uDC00-\\uDFFF)"),
    BAD("{\"id\":\"\\uD800\"}",
        "column 8: expected a low surrogate escape (\\uDC00-\\uDFFF) after a high surrogate"),
    BAD("{\"id\":\"x\\uDBFFx\"}",
        "column 9: expected a low surrogate escape (\\uDC00-\\uDFFF) after a high surrogate"),
    BAD("{\"id\":\"\\uD800\\u0041\"}",
        "column 8: expected a low surrogate escape (\\uDC00-\\uDFFF) after a high surrogate"),
    BAD("{\"id\":\"\\uD800\\uD800\"}",
        "column 8: expected a low surrogate escape (\\uDC00-\\uDFFF) after a high surrogate"),
    BAD("{\"id\":\"\\uD800\\n\"}",
        "column 8: expected a low surrogate escape (\\uDC00-\\uDFFF) after a high surrogate"),
    BAD("{\"id\":\"\\uD800\\uDC0\"}",
        "column 8: expected a low surrogate escape (\\uDC00-\\uDFFF) after a high surrogate"),
    /* errors inside ignored values are errors too */
    BAD("{\"other\":\"\\q\"}", "column 11: invalid escape (expected one of \\\" \\\\ \\/ \\b \\f \\n "
                               "\\r \\t \\u)"),
    BAD("{\"other\":[\"\\uDC00\"]}", "column 12: lone low surrogate escape (\\uDC00-\\uDFFF)"),

    /* ---- invalid UTF-8 (raw bytes) */
    BAD("{\"id\":\"\x80\"}", "column 8: invalid UTF-8 in string"),
    BAD("{\"id\":\"ab\xBF\"}", "column 10: invalid UTF-8 in string"),
    BAD("{\"id\":\"\xC0\x80\"}", "column 8: invalid UTF-8 in string"),
    BAD("{\"id\":\"\xC1\xBF\"}", "column 8: invalid UTF-8 in string"),
    BAD("{\"id\":\"\xC3\"}", "column 8: invalid UTF-8 in string"),
    BAD("{\"id\":\"\xC3", "column 8: invalid UTF-8 in string"),
    BAD("{\"id\":\"\xE2\x82\"}", "column 8: invalid UTF-8 in string"),
    BAD("{\"id\":\"\xE0\x9F\xBF\"}", "column 8: invalid UTF-8 in string"),
    BAD("{\"id\":\"\xED\xA0\x80\"}", "column 8: invalid UTF-8 in string"),
    BAD("{\"id\":\"\xED\xBF\xBF\"}", "column 8: invalid UTF-8 in string"),
    BAD("{\"id\":\"\xF0\x8F\xBF\xBF\"}", "column 8: invalid UTF-8 in string"),
    BAD("{\"id\":\"\xF4\x90\x80\x80\"}", "column 8: invalid UTF-8 in string"),
    BAD("{\"id\":\"\xF5\x80\x80\x80\"}", "column 8: invalid UTF-8 in string"),
    BAD("{\"id\":\"\xF0\x9F\x98\"}", "column 8: invalid UTF-8 in string"),
    BAD("{\"id\":\"\xFF\"}", "column 8: invalid UTF-8 in string"),
    BAD("{\"id\":\"\xFE\xFF\"}", "column 8: invalid UTF-8 in string"),
    BAD("{\"x\":\"abcdefghijklmnop\xE9t\xE9\"}", "column 23: invalid UTF-8 in string"),
    BAD("{\"\xE9\":1}", "column 3: invalid UTF-8 in string"),
    BAD("\xEF\xBB\xBF{}", "column 1: expected '{' to start the record"),

    /* ---- dates */
    BAD("{\"date\":\"2017-13-01\"}", "column 9: date: expected YYYY-MM-DD"),
    BAD("{\"date\":\"2017-00-10\"}", "column 9: date: expected YYYY-MM-DD"),
    BAD("{\"date\":\"2017-01-00\"}", "column 9: date: expected YYYY-MM-DD"),
    BAD("{\"date\":\"2017-01-32\"}", "column 9: date: expected YYYY-MM-DD"),
    BAD("{\"date\":\"2017-02-29\"}", "column 9: date: expected YYYY-MM-DD"),
    BAD("{\"date\":\"1900-02-29\"}", "column 9: date: expected YYYY-MM-DD"),
    BAD("{\"date\":\"2017-06-31\"}", "column 9: date: expected YYYY-MM-DD"),
    BAD("{\"date\":\"2017-6-13\"}", "column 9: date: expected YYYY-MM-DD"),
    BAD("{\"date\":\"2017/06/13\"}", "column 9: date: expected YYYY-MM-DD"),
    BAD("{\"date\":\"20170613\"}", "column 9: date: expected YYYY-MM-DD"),
    BAD("{\"date\":\"2017-06-13X\"}", "column 9: date: expected YYYY-MM-DD"),
    BAD("{\"date\":\"June 13, 2017\"}", "column 9: date: expected YYYY-MM-DD"),
    BAD("{\"date\":\" 2017-06-13\"}", "column 9: date: expected YYYY-MM-DD"),
    BAD("{ \"date\" : \"0000-01-01\" }", "column 12: date: expected YYYY-MM-DD"),
    /* an invalid date is an error even if a later key would replace it */
    BAD("{\"date\":\"nope\",\"date\":\"2017-06-13\"}", "column 9: date: expected YYYY-MM-DD"),
};

static bool field_is(lede_str got, const char *want)
{
    if (!want)
        return got.ptr == NULL;
    return got.ptr && got.len == strlen(want) && memcmp(got.ptr, want, got.len) == 0;
}

static void check_field(const parse_case *c, const char *name, lede_str got, const char *want)
{
    char detail[512];
    snprintf(detail, sizeof detail, "line %s: %s is %s%.*s%s, want %s%s%s", c->line, name,
             got.ptr ? "\"" : "", got.ptr ? (int)got.len : 6, got.ptr ? got.ptr : "absent",
             got.ptr ? "\"" : "", want ? "\"" : "", want ? want : "absent", want ? "\"" : "");
    CHECK_MSG(field_is(got, want), detail);
}

static void test_table(void)
{
    lede_jsonl_scratch scratch = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const parse_case *c = &cases[i];
        /* An exact-size copy, so reading past the end would be reading past
         * the allocation (caught under sanitizers). */
        size_t len = strlen(c->line);
        char *line = malloc(len ? len : 1);
        memcpy(line, c->line, len);
        lede_doc doc;
        lede_err err;
        lede_err_clear(&err);
        int rc = lede_jsonl_parse(line, len, &scratch, &doc, &err);
        if (c->error) {
            char detail[700];
            snprintf(detail, sizeof detail, "line %s: rc %d, message \"%s\", want \"%s\"", c->line,
                     rc, err.msg, c->error);
            CHECK_MSG(rc == LEDE_EFORMAT && err.rc == LEDE_EFORMAT, detail);
            CHECK_MSG(strcmp(err.msg, c->error) == 0, detail);
            /* a failed parse leaves nothing half-filled */
            CHECK(doc.id.ptr == NULL && doc.title.ptr == NULL && doc.body.ptr == NULL &&
                  doc.date.ptr == NULL);
        } else {
            char detail[700];
            snprintf(detail, sizeof detail, "line %s: rc %d, message \"%s\"", c->line, rc, err.msg);
            CHECK_MSG(rc == LEDE_OK && err.rc == 0, detail);
            check_field(c, "id", doc.id, c->id);
            check_field(c, "title", doc.title, c->title);
            check_field(c, "body", doc.body, c->body);
            check_field(c, "source", doc.source, c->source);
            check_field(c, "date", doc.date, c->date);
            check_field(c, "url", doc.url, c->url);
        }
        free(line);
    }
    lede_jsonl_scratch_free(&scratch);
}

static bool points_into(lede_str s, const char *base, size_t len)
{
    return s.ptr >= base && s.ptr + s.len <= base + len;
}

/* Unescaped strings are slices of the line; escaped ones live in scratch. */
static void test_no_copy_without_escapes(void)
{
    lede_jsonl_scratch scratch = {0};
    const char *line = "{\"id\":\"plain\",\"title\":\"with\\nescape\",\"body\":\"caf\xC3\xA9\"}";
    size_t len = strlen(line);
    lede_doc doc;
    lede_err err;
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_jsonl_parse(line, len, &scratch, &doc, &err), LEDE_OK);
    CHECK(points_into(doc.id, line, len));
    CHECK(points_into(doc.body, line, len));
    CHECK(scratch.p && points_into(doc.title, scratch.p, scratch.cap));
    CHECK(field_is(doc.title, "with\nescape"));

    /* a line without escapes leaves the scratch buffer alone */
    lede_jsonl_scratch fresh = {0};
    CHECK_EQ_INT(lede_jsonl_parse("{\"id\":\"a\"}", 10, &fresh, &doc, &err), LEDE_OK);
    CHECK(fresh.p == NULL && fresh.cap == 0);
    lede_jsonl_scratch_free(&scratch);
    lede_jsonl_scratch_free(&fresh);
    lede_jsonl_scratch_free(NULL);
}

/* The scratch buffer grows for a longer escaped line and is reused. */
static void test_scratch_reuse(void)
{
    lede_jsonl_scratch scratch = {0};
    lede_doc doc;
    lede_err err;
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_jsonl_parse("{\"id\":\"\\u0061\"}", 15, &scratch, &doc, &err), LEDE_OK);
    CHECK(field_is(doc.id, "a"));

    size_t n = 100000;
    char *line = malloc(n + 64);
    size_t len = (size_t)sprintf(line, "{\"body\":\"");
    for (size_t i = 0; i < n / 2; i++) {
        line[len++] = '\\';
        line[len++] = 'n';
    }
    len += (size_t)sprintf(line + len, "\",\"id\":\"\\\"z\\\"\"}");
    CHECK_EQ_INT(lede_jsonl_parse(line, len, &scratch, &doc, &err), LEDE_OK);
    CHECK_EQ_INT(doc.body.len, n / 2);
    CHECK(doc.body.ptr && doc.body.ptr[0] == '\n' && doc.body.ptr[n / 2 - 1] == '\n');
    CHECK(field_is(doc.id, "\"z\""));

    CHECK_EQ_INT(lede_jsonl_parse("{\"id\":\"\\u0062\"}", 15, &scratch, &doc, &err), LEDE_OK);
    CHECK(field_is(doc.id, "b"));
    free(line);
    lede_jsonl_scratch_free(&scratch);
}

/* \u0000 is valid JSON: the NUL byte is kept, lengths say where strings end. */
static void test_nul_escape(void)
{
    lede_jsonl_scratch scratch = {0};
    lede_doc doc;
    lede_err err;
    lede_err_clear(&err);
    const char *line = "{\"body\":\"a\\u0000b\"}";
    CHECK_EQ_INT(lede_jsonl_parse(line, strlen(line), &scratch, &doc, &err), LEDE_OK);
    CHECK(doc.body.len == 3 && memcmp(doc.body.ptr, "a\0b", 3) == 0);

    /* a raw NUL byte is a control character */
    const char raw[] = "{\"body\":\"a\0b\"}";
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_jsonl_parse(raw, sizeof raw - 1, &scratch, &doc, &err), LEDE_EFORMAT);
    CHECK_EQ_STR(err.msg, "column 11: control character in string (must be escaped)");
    lede_jsonl_scratch_free(&scratch);
}

/* Only len bytes are read, whatever follows them. */
static void test_length_bounds(void)
{
    lede_jsonl_scratch scratch = {0};
    lede_doc doc;
    lede_err err;
    lede_err_clear(&err);
    const char *text = "{\"id\":\"a\"}garbage";
    CHECK_EQ_INT(lede_jsonl_parse(text, 10, &scratch, &doc, &err), LEDE_OK);
    CHECK(field_is(doc.id, "a"));
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_jsonl_parse(text, 8, &scratch, &doc, &err), LEDE_EFORMAT);
    CHECK_EQ_STR(err.msg, "column 9: expected '\"' to close the string");
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_jsonl_parse(NULL, 0, &scratch, &doc, &err), LEDE_EFORMAT);
    CHECK_EQ_STR(err.msg, "column 1: expected '{' to start the record");
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_jsonl_parse(text, 10, &scratch, NULL, &err), LEDE_EINVAL);
    /* a NULL err is allowed */
    CHECK_EQ_INT(lede_jsonl_parse("{", 1, &scratch, &doc, NULL), LEDE_EFORMAT);
    lede_jsonl_scratch_free(&scratch);
}

static char *nested_line(int levels, char open, char close)
{
    char *line = malloc((size_t)levels * 2 + 32);
    size_t len = (size_t)sprintf(line, "{\"x\":");
    for (int i = 0; i < levels; i++)
        line[len++] = open;
    for (int i = 0; i < levels; i++)
        line[len++] = close;
    len += (size_t)sprintf(line + len, ",\"id\":\"d\"}");
    line[len] = '\0';
    return line;
}

/* The record is level 1, so 63 nested containers are the most allowed. */
static void test_depth_limit(void)
{
    lede_jsonl_scratch scratch = {0};
    lede_doc doc;
    lede_err err;

    char *ok = nested_line(63, '[', ']');
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_jsonl_parse(ok, strlen(ok), &scratch, &doc, &err), LEDE_OK);
    CHECK(field_is(doc.id, "d"));

    char *deep = nested_line(64, '[', ']');
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_jsonl_parse(deep, strlen(deep), &scratch, &doc, &err), LEDE_EFORMAT);
    CHECK_EQ_STR(err.msg, "column 69: nesting deeper than 64 levels");

    /* objects count the same; a hostile line of a million brackets fails fast */
    char *huge = nested_line(1000000, '[', ']');
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_jsonl_parse(huge, strlen(huge), &scratch, &doc, &err), LEDE_EFORMAT);
    CHECK_EQ_STR(err.msg, "column 69: nesting deeper than 64 levels");

    char objects[64 * 6 + 64];
    size_t len = (size_t)sprintf(objects, "{\"x\":");
    for (int i = 0; i < 64; i++)
        len += (size_t)sprintf(objects + len, "{\"a\":");
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_jsonl_parse(objects, len, &scratch, &doc, &err), LEDE_EFORMAT);
    CHECK_EQ_STR(err.msg, "column 321: nesting deeper than 64 levels");
    free(ok);
    free(deep);
    free(huge);
    lede_jsonl_scratch_free(&scratch);
}

int main(void)
{
    test_table();
    test_no_copy_without_escapes();
    test_scratch_reuse();
    test_nul_escape();
    test_length_bounds();
    test_depth_limit();
    return tap_done();
}
