/* params.c: /search parameters (params.h). One table of known keys; a JSON
 * body is first flattened into the same key/value list as a query string,
 * so both paths share every check. Unknown keys are errors (a typo must not
 * silently change a search), except keys starting with '_' (cache busters). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lede/date.h"
#include "lede/index.h"
#include "params.h"
#include "reply_json.h"

static const char *const KNOWN[] = {"q", "k", "offset", "source", "from", "to", "sort", "group",
                                    "group_hits", "explain", "facets", "source_details",
                                    "snippets", "snippet_chars", "panel"};
#define NKNOWN (sizeof KNOWN / sizeof KNOWN[0])

static void bad(reply *rp, const char *code, const char *name, const char *value, const char *fmt,
                const char *what)
{
    json_t *d = json_object();
    json_object_set_new(d, "parameter", json_string(name));
    if (value)
        json_object_set_new(d, "value", json_text(value, strlen(value) > 200 ? 200 : strlen(value)));
    reply_error(rp, 400, code, d, fmt, name, what);
}

static int parse_uint(const char *v, unsigned lo, unsigned hi, unsigned *out)
{
    if (!*v)
        return -1;
    unsigned long long n = 0;
    for (const char *p = v; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return -1;
        n = n * 10 + (unsigned)(*p - '0');
        if (n > 0xffffffffULL)
            return -2;
    }
    if (n < lo)
        return -1;
    if (n > hi)
        return -2;
    *out = (unsigned)n;
    return 0;
}

static int parse_bool(const char *v, int *out)
{
    static const char *yes[] = {"true", "1", "yes", "on"}, *no[] = {"false", "0", "no", "off"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return *out = 1, 0;
        if (strcasecmp(v, no[i]) == 0)
            return *out = 0, 0;
    }
    return -1;
}

/* "YYYY", "YYYY-MM" or "YYYY-MM-DD" (lede/date.h); end = 1 gives the last
 * day of the span. */
static int parse_day(const char *v, int end, int32_t *out)
{
    int32_t first, last;
    if (lede_date_span(v, strlen(v), &first, &last) != 0)
        return -1;
    *out = end ? last : first;
    return 0;
}

int params_parse(const request *rq, const server_config *cfg, search_params *p, reply *rp)
{
    memset(p, 0, sizeof *p);
    p->k = cfg->default_k;
    p->snippets = cfg->snippets;
    p->snippet_chars = cfg->snippet_chars;
    p->group_hits = cfg->group_hits;
    p->source_details = cfg->source_details;
    p->facets = 1;
    const char *seen[NKNOWN] = {0};
    char what[160];
    for (size_t i = 0; i < rq->nargs; i++) {
        const char *name = rq->args[i].key, *v = rq->args[i].value;
        if (name[0] == '_')
            continue;
        size_t which = NKNOWN;
        for (size_t j = 0; j < NKNOWN; j++)
            if (strcmp(name, KNOWN[j]) == 0)
                which = j;
        if (which == NKNOWN) {
            bad(rp, "unknown_parameter", name, NULL, "unknown parameter \"%s\"%s",
                " (known: q, k, offset, source, from, to, sort, group, group_hits, explain, "
                "facets, source_details, snippets, snippet_chars, panel)");
            return -1;
        }
        if (strcmp(name, "source") == 0) {
            if (p->nsources == MAX_SOURCE_FILTERS) {
                snprintf(what, sizeof what, ": at most %d outlets", MAX_SOURCE_FILTERS);
                bad(rp, "limit_exceeded", name, NULL, "too many values of \"%s\"%s", what);
                return -1;
            }
            if (!*v || utf8_invalid_at((const unsigned char *)v, rq->args[i].value_len) >= 0) {
                bad(rp, "bad_parameter", name, v, "\"%s\" must be %s", "an outlet name (UTF-8)");
                return -1;
            }
            p->sources[p->nsources++] = v;
            continue;
        }
        if (seen[which]) {
            bad(rp, "duplicate_parameter", name, v, "parameter \"%s\" given more than once%s", "");
            return -1;
        }
        seen[which] = v;
    }
    /* q */
    const char *q = seen[0];
    if (!q) {
        bad(rp, "missing_parameter", "q", NULL, "parameter \"%s\" is required%s",
            ": the query, e.g. q=border+wall");
        return -1;
    }
    size_t qlen = strlen(q);
    if (qlen > cfg->max_query_bytes) {
        snprintf(what, sizeof what, "%zu bytes, the limit is %u", qlen, cfg->max_query_bytes);
        bad(rp, "limit_exceeded", "q", NULL, "parameter \"%s\" is too long: %s", what);
        return -1;
    }
    long badbyte = utf8_invalid_at((const unsigned char *)q, qlen);
    if (badbyte >= 0) {
        json_t *d = json_object();
        json_object_set_new(d, "parameter", json_string("q"));
        json_object_set_new(d, "position", json_integer(badbyte));
        reply_error(rp, 400, "bad_parameter", d, "parameter \"q\" is not valid UTF-8 (byte %ld)",
                    badbyte);
        return -1;
    }
    int blank = 1;
    for (size_t i = 0; i < qlen; i++)
        if (!isspace((unsigned char)q[i]))
            blank = 0;
    if (blank) {
        bad(rp, "missing_parameter", "q", q, "parameter \"%s\" is empty%s",
            ": give at least one word");
        return -1;
    }
    p->q = q;
    /* numbers */
    struct {
        size_t idx;
        unsigned lo, hi, *out;
    } nums[] = {
        {1, 1, cfg->max_k, &p->k},
        {2, 0, cfg->max_offset, &p->offset},
        {8, 1, cfg->max_group_hits, &p->group_hits},
        {11, 0, cfg->max_source_details, &p->source_details},
        {12, 0, cfg->max_snippets, &p->snippets},
        {13, 20, cfg->max_snippet_chars, &p->snippet_chars},
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        const char *v = seen[nums[i].idx];
        if (!v)
            continue;
        int rc = parse_uint(v, nums[i].lo, nums[i].hi, nums[i].out);
        if (rc) {
            snprintf(what, sizeof what, "a whole number from %u to %u", nums[i].lo, nums[i].hi);
            bad(rp, rc == -2 ? "limit_exceeded" : "bad_parameter", KNOWN[nums[i].idx], v,
                "\"%s\" must be %s", what);
            return -1;
        }
    }
    /* dates */
    if (seen[4] && parse_day(seen[4], 0, &p->from)) {
        bad(rp, "bad_parameter", "from", seen[4], "\"%s\" must be %s",
            "a date: YYYY-MM-DD, YYYY-MM or YYYY");
        return -1;
    }
    if (seen[5] && parse_day(seen[5], 1, &p->to)) {
        bad(rp, "bad_parameter", "to", seen[5], "\"%s\" must be %s",
            "a date: YYYY-MM-DD, YYYY-MM or YYYY");
        return -1;
    }
    if (p->from && p->to && p->from > p->to) {
        bad(rp, "bad_parameter", "to", seen[5], "\"%s\" must not be before \"from\"%s", "");
        return -1;
    }
    /* enumerations and flags */
    if (seen[6]) {
        if (strcmp(seen[6], "relevance") == 0)
            p->sort_date = 0;
        else if (strcmp(seen[6], "date") == 0)
            p->sort_date = 1;
        else {
            bad(rp, "bad_parameter", "sort", seen[6], "\"%s\" must be %s", "relevance or date");
            return -1;
        }
    }
    if (seen[7]) {
        if (strcmp(seen[7], "none") == 0)
            p->group_source = 0;
        else if (strcmp(seen[7], "source") == 0)
            p->group_source = 1;
        else {
            bad(rp, "bad_parameter", "group", seen[7], "\"%s\" must be %s", "none or source");
            return -1;
        }
    }
    if (seen[9] && parse_bool(seen[9], &p->explain)) {
        bad(rp, "bad_parameter", "explain", seen[9], "\"%s\" must be %s", "true or false");
        return -1;
    }
    if (seen[10] && parse_bool(seen[10], &p->facets)) {
        bad(rp, "bad_parameter", "facets", seen[10], "\"%s\" must be %s", "true or false");
        return -1;
    }
    if (seen[14]) {
        if (strcmp(seen[14], "filtered") == 0)
            p->panel_all = 0;
        else if (strcmp(seen[14], "all") == 0)
            p->panel_all = 1;
        else {
            bad(rp, "bad_parameter", "panel", seen[14], "\"%s\" must be %s", "filtered or all");
            return -1;
        }
    }
    return 0;
}

static int add_scalar(request *rq, const char *key, json_t *v, reply *rp, int in_array)
{
    char num[64];
    const char *text;
    size_t len;
    if (json_is_string(v)) {
        text = json_string_value(v);
        len = json_string_length(v);
    } else if (json_is_integer(v)) {
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        text = num;
        len = strlen(num);
    } else if (json_is_real(v)) {
        snprintf(num, sizeof num, "%.17g", json_real_value(v));
        text = num;
        len = strlen(num);
    } else if (json_is_boolean(v)) {
        text = json_is_true(v) ? "true" : "false";
        len = strlen(text);
    } else if (json_is_null(v) && !in_array) {
        return 0;
    } else {
        bad(rp, "bad_parameter", key, NULL, "\"%s\" must be %s",
            in_array ? "a list of strings or numbers" : "a string, number, boolean or list");
        return -1;
    }
    if (request_add_arg(rq, key, strlen(key), text, len)) {
        reply_lede_error(rp, LEDE_ENOMEM, NULL, NULL);
        return -1;
    }
    return 0;
}

int params_from_json(request *rq, reply *rp)
{
    json_error_t je;
    json_t *root = json_loadb(rq->body ? rq->body : "", rq->body_len,
                              JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        /* jansson counts the bytes read, one past the offending byte. */
        long at = je.position > 0 ? (long)je.position - 1 : 0;
        const char *why = strstr(je.text, "NUL") ? "a string holds a NUL character (\\u0000)"
                                                 : je.text;
        json_t *d = json_object();
        json_object_set_new(d, "line", json_integer(je.line));
        json_object_set_new(d, "column", json_integer(je.column));
        json_object_set_new(d, "position", json_integer(at));
        reply_error(rp, 400, "bad_json", d, "the request body is not valid JSON: %s (line %d, "
                    "column %d)", why, je.line, je.column);
        return -1;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        reply_error(rp, 400, "bad_json", NULL,
                    "the request body must be a JSON object, e.g. {\"q\": \"tax reform\"}");
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (key[0] == '_')
            continue;
        if (json_is_array(v) && strcmp(key, "source") != 0) {
            bad(rp, "bad_parameter", key, NULL, "\"%s\" must be %s",
                "a single value (only \"source\" takes a list)");
            json_decref(root);
            return -1;
        }
        if (json_is_array(v)) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e) if (add_scalar(rq, key, e, rp, 1)) {
                json_decref(root);
                return -1;
            }
        } else if (add_scalar(rq, key, v, rp, 0)) {
            json_decref(root);
            return -1;
        }
    }
    json_decref(root);
    return 0;
}
