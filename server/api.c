/* api.c: the router of lede-server and its small endpoints: /doc/{id},
 * /analyze, /suggest (lede's JSON or the OpenSearch suggestions format),
 * /health, /stats and /metrics, plus the JSON 404 and 405 replies. /search
 * lives in api_search.c, the web page's routes in web.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "lede/analyze.h"
#include "params.h"
#include "reply_json.h"
#include "web.h"

double app_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reads the arguments of a small endpoint: names (NULL-terminated) are the
 * keys it takes, each at most once; values[i] gets the value of names[i] or
 * NULL. Unknown, repeated or non-UTF-8 values are 400 errors. */
static int read_args(const request *rq, reply *rp, const char *const *names, const char **values)
{
    size_t n = 0;
    while (names[n])
        values[n++] = NULL;
    for (size_t i = 0; i < rq->nargs; i++) {
        const char *k = rq->args[i].key;
        if (k[0] == '_')
            continue;
        size_t which = n;
        for (size_t j = 0; j < n; j++)
            if (strcmp(k, names[j]) == 0)
                which = j;
        json_t *d = json_object();
        json_object_set_new(d, "parameter", json_text(k, strlen(k)));
        if (which == n) {
            reply_error(rp, 400, "unknown_parameter", d, "unknown parameter \"%s\"", k);
            return -1;
        }
        if (values[which]) {
            reply_error(rp, 400, "duplicate_parameter", d, "parameter \"%s\" given more than once",
                        k);
            return -1;
        }
        long bad = utf8_invalid_at((const unsigned char *)rq->args[i].value, rq->args[i].value_len);
        if (bad >= 0) {
            json_object_set_new(d, "position", json_integer(bad));
            reply_error(rp, 400, "bad_parameter", d, "parameter \"%s\" is not valid UTF-8 (byte %ld)",
                        k, bad);
            return -1;
        }
        json_decref(d);
        values[which] = rq->args[i].value;
    }
    return 0;
}

static void missing(reply *rp, const char *name, const char *what)
{
    json_t *d = json_object();
    json_object_set_new(d, "parameter", json_string(name));
    reply_error(rp, 400, "missing_parameter", d, "parameter \"%s\" is required%s", name, what);
}

static void too_long(reply *rp, const char *name, size_t len, unsigned limit)
{
    json_t *d = json_object();
    json_object_set_new(d, "parameter", json_string(name));
    reply_error(rp, 400, "limit_exceeded", d,
                "parameter \"%s\" is too long: %zu bytes, the limit is %u", name, len, limit);
}

/* ------------------------------------------------------------ /doc/{id} */

static void api_doc(app *a, const request *rq, reply *rp, const char *id, size_t id_len)
{
    static const char *const none[] = {NULL};
    const char *values[1];
    if (read_args(rq, rp, none, values))
        return;
    if (id_len == 0) {
        reply_error(rp, 400, "missing_parameter", NULL, "give a document id: /doc/{id}");
        return;
    }
    snapshot *s = snapshot_acquire(&a->snaps);
    lede_stored doc;
    lede_err err = {0};
    int rc = lede_index_get(s->ix, id, id_len, &doc, &err);
    if (rc == LEDE_ENOTFOUND) {
        json_t *d = json_object();
        json_object_set_new(d, "id", json_text(id, id_len));
        reply_lede_error(rp, rc, &err, d);
    } else if (rc) {
        reply_lede_error(rp, rc, &err, NULL);
    } else {
        /* Every field of the schema (lede/schema.h): the key first, then the
         * summary fields as a hit has them, then the long text (body). */
        json_t *o = json_object();
        for (int pass = 0; pass < 3; pass++) {
#define DOC_FIELD(member, key, ord, flags)                                             \
    if (((flags) & LEDE_SCHEMA_KEY ? 0 : (flags) & LEDE_SCHEMA_SUMMARY ? 1 : 2) == pass) \
        json_object_set_new(o, key, json_text(doc.member.ptr, doc.member.len));
            LEDE_SCHEMA_FIELDS(DOC_FIELD)
#undef DOC_FIELD
        }
        reply_json(rp, 200, o);
        lede_stored_free(&doc);
    }
    snapshot_release(s);
}

/* ------------------------------------------------------------ /analyze */

typedef struct analyze_ctx {
    json_t *tokens;
    const char *text;
} analyze_ctx;

static int on_token(void *ctx, const lede_token *t)
{
    analyze_ctx *c = ctx;
    json_t *o = json_object();
    json_object_set_new(o, "term", json_text(t->term, t->term_len));
    json_object_set_new(o, "text", json_text(c->text + t->start, t->end - t->start));
    json_object_set_new(o, "position", json_integer(t->pos));
    json_object_set_new(o, "start", json_integer(t->start));
    json_object_set_new(o, "end", json_integer(t->end));
    json_array_append_new(c->tokens, o);
    return 0;
}

static void api_analyze(app *a, const request *rq, reply *rp)
{
    static const char *const names[] = {"text", NULL};
    const char *values[1];
    if (read_args(rq, rp, names, values))
        return;
    const char *text = values[0];
    if (!text) {
        missing(rp, "text", ": the text to analyze");
        return;
    }
    size_t len = strlen(text);
    if (len > a->cfg.max_body_bytes) {
        too_long(rp, "text", len, a->cfg.max_body_bytes);
        return;
    }
    snapshot *s = snapshot_acquire(&a->snaps);
    lede_err err = {0};
    lede_analyzer *an = lede_index_analyzer(s->ix, &err);
    if (!an) {
        reply_lede_error(rp, err.rc, &err, NULL);
        snapshot_release(s);
        return;
    }
    analyze_ctx c = {json_array(), text};
    int rc = lede_analyze(an, text, len, 0, on_token, &c, NULL);
    snapshot_release(s);
    if (rc < 0) {
        json_decref(c.tokens);
        reply_lede_error(rp, rc, NULL, NULL);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "text", json_text(text, len));
    json_object_set_new(o, "tokens", c.tokens);
    reply_json(rp, 200, o);
}

/* ------------------------------------------------------------ /suggest */

static void api_suggest(app *a, const request *rq, reply *rp)
{
    static const char *const names[] = {"q", "count", "format", NULL};
    const char *values[3];
    if (read_args(rq, rp, names, values))
        return;
    const char *q = values[0], *count_text = values[1], *format = values[2];
    if (!q) {
        missing(rp, "q", ": the text typed so far");
        return;
    }
    int opensearch = 0;
    if (format && strcmp(format, "opensearch") == 0)
        opensearch = 1;
    else if (format && strcmp(format, "lede") != 0) {
        json_t *d = json_object();
        json_object_set_new(d, "parameter", json_string("format"));
        json_object_set_new(d, "value", json_text(format, strlen(format)));
        reply_error(rp, 400, "bad_parameter", d, "\"format\" must be lede or opensearch");
        return;
    }
    unsigned count = a->cfg.suggest_count;
    if (count_text) {
        unsigned long long v = 0;
        int digits = count_text[0] != '\0';
        for (const char *p = count_text; *p && digits; p++) {
            digits = *p >= '0' && *p <= '9';
            if (v < 1000000)
                v = v * 10 + (unsigned)(*p - '0');
        }
        if (!digits || v < 1 || v > a->cfg.max_suggest_count) {
            json_t *d = json_object();
            json_object_set_new(d, "parameter", json_string("count"));
            json_object_set_new(d, "value", json_text(count_text, strlen(count_text)));
            reply_error(rp, 400, digits && v > 0 ? "limit_exceeded" : "bad_parameter", d,
                        "\"count\" must be a whole number from 1 to %u", a->cfg.max_suggest_count);
            return;
        }
        count = (unsigned)v;
    }
    size_t qlen = strlen(q);
    if (qlen > a->cfg.max_query_bytes) {
        too_long(rp, "q", qlen, a->cfg.max_query_bytes);
        return;
    }
    snapshot *s = snapshot_acquire(&a->snaps);
    lede_suggestions *sg = NULL;
    lede_err err = {0};
    /* Completion looks at the end of what was typed: a long text (over
     * LEDE_SUGGEST_MAX_INPUT) simply has nothing to complete. */
    int rc = qlen > LEDE_SUGGEST_MAX_INPUT ? 0 : lede_suggest(s->suggest, q, qlen, count, &sg, &err);
    snapshot_release(s);
    if (!rc && !sg)
        rc = (sg = calloc(1, sizeof *sg)) ? 0 : lede_err_set(&err, LEDE_ENOMEM, "out of memory");
    if (rc) {
        reply_lede_error(rp, rc, &err, NULL);
        return;
    }
    json_t *list = json_array();
    for (uint32_t i = 0; i < sg->n; i++) {
        const char *t = sg->items[i].text;
        if (opensearch) {
            json_array_append_new(list, json_text(t, strlen(t)));
        } else {
            json_t *o = json_object();
            json_object_set_new(o, "text", json_text(t, strlen(t)));
            json_object_set_new(o, "weight", json_integer((json_int_t)sg->items[i].weight));
            json_array_append_new(list, o);
        }
    }
    lede_suggestions_free(sg);
    if (opensearch) {
        json_t *o = json_array();
        json_array_append_new(o, json_text(q, qlen));
        json_array_append_new(o, list);
        reply_json(rp, 200, o);
        rp->content_type = "application/x-suggestions+json";
    } else {
        json_t *o = json_object();
        json_object_set_new(o, "query", json_text(q, qlen));
        json_object_set_new(o, "suggestions", list);
        reply_json(rp, 200, o);
    }
    rp->cache = "public, max-age=60";
}

/* ------------------------------------------------------------ /health /stats /metrics */

static void api_health(app *a, const request *rq, reply *rp)
{
    static const char *const none[] = {NULL};
    const char *values[1];
    if (read_args(rq, rp, none, values))
        return;
    snapshot *s = snapshot_acquire(&a->snaps);
    json_t *o = json_object();
    json_object_set_new(o, "status", json_string("ok"));
    json_object_set_new(o, "documents", json_integer((json_int_t)s->stats.documents));
    json_object_set_new(o, "generation", json_integer((json_int_t)s->generation));
    snapshot_release(s);
    reply_json(rp, 200, o);
}

static json_int_t counter(const uint64_t *p)
{
    return (json_int_t)__atomic_load_n(p, __ATOMIC_RELAXED);
}

static void api_stats(app *a, const request *rq, reply *rp)
{
    static const char *const none[] = {NULL};
    const char *values[1];
    if (read_args(rq, rp, none, values))
        return;
    snapshot *s = snapshot_acquire(&a->snaps);
    const lede_index_stats *st = &s->stats;
    json_t *o = json_object();
    json_object_set_new(o, "version", json_string(LEDE_VERSION));
    json_object_set_new(o, "documents", json_integer((json_int_t)st->documents));
    json_object_set_new(o, "deleted", json_integer((json_int_t)st->deleted));
    json_object_set_new(o, "segments", json_integer((json_int_t)st->segments));
    json_object_set_new(o, "terms", json_integer((json_int_t)st->terms));
    json_object_set_new(o, "avg_doc_length", json_real(st->avgdl));
    json_t *bytes = json_object();
    json_object_set_new(bytes, "postings", json_integer((json_int_t)st->bytes_postings));
    json_object_set_new(bytes, "positions", json_integer((json_int_t)st->bytes_positions));
    json_object_set_new(bytes, "dictionary", json_integer((json_int_t)st->bytes_dictionary));
    json_object_set_new(bytes, "stored", json_integer((json_int_t)st->bytes_stored));
    json_object_set_new(bytes, "other", json_integer((json_int_t)st->bytes_other));
    json_object_set_new(bytes, "total",
                        json_integer((json_int_t)(st->bytes_postings + st->bytes_positions +
                                                  st->bytes_dictionary + st->bytes_stored +
                                                  st->bytes_other)));
    json_object_set_new(o, "index_bytes", bytes);
    json_object_set_new(o, "suggestions", json_integer((json_int_t)lede_suggester_size(s->suggest)));
    json_object_set_new(o, "generation", json_integer((json_int_t)s->generation));
    json_object_set_new(o, "reloads", json_integer((json_int_t)a->snaps.reloads));
    json_object_set_new(o, "uptime_s", json_real(app_now() - a->started));
    json_object_set_new(o, "queries_served", json_integer(counter(&a->m.queries)));
    json_int_t total = 0;
    for (int e = 0; e < EP_COUNT; e++)
        total += counter(&a->m.latency_count[e]);
    json_object_set_new(o, "requests_served", json_integer(total));
    json_object_set_new(o, "in_flight", json_integer(counter(&a->in_flight)));
    snapshot_release(s);
    reply_json(rp, 200, o);
}

static void api_metrics(app *a, const request *rq, reply *rp)
{
    static const char *const none[] = {NULL};
    const char *values[1];
    if (read_args(rq, rp, none, values))
        return;
    snapshot *s = snapshot_acquire(&a->snaps);
    size_t len = 0;
    char *text = metrics_render(&a->m, &s->stats, app_now() - a->started, s->generation,
                                a->snaps.reloads, a->snaps.reload_failures,
                                __atomic_load_n(&a->in_flight, __ATOMIC_RELAXED), &len);
    snapshot_release(s);
    if (!text) {
        reply_lede_error(rp, LEDE_ENOMEM, NULL, NULL);
        return;
    }
    reply_clear(rp);
    rp->status = 200;
    rp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    rp->body = text;
    rp->len = len;
}

/* ------------------------------------------------------------ routing */

static void not_allowed(reply *rp, const request *rq, const char *allow)
{
    json_t *d = json_object();
    json_object_set_new(d, "method", json_text(rq->method, strlen(rq->method)));
    json_object_set_new(d, "allowed", json_string(allow));
    reply_error(rp, 405, "method_not_allowed", d, "%s is not allowed on %s (allowed: %s)",
                rq->method, rq->path, allow);
    rp->allow = allow;
}

static void search_route(app *a, const request *rq, reply *rp)
{
    api_search(a, (request *)rq, rp);
}

static void doc_route(app *a, const request *rq, reply *rp)
{
    api_doc(a, rq, rp, rq->path + 5, rq->path_len - 5);
}

#define READ_ONLY "GET, HEAD, OPTIONS"

static const struct route {
    const char *path;
    int prefix;               /* 1: path is a prefix ("/doc/") */
    endpoint ep;
    const char *allow;
    void (*fn)(app *, const request *, reply *);
} ROUTES[] = {
    {"/search", 0, EP_SEARCH, "GET, HEAD, POST, OPTIONS", search_route},
    {"/doc/", 1, EP_DOC, READ_ONLY, doc_route},
    {"/analyze", 0, EP_ANALYZE, READ_ONLY, api_analyze},
    {"/suggest", 0, EP_SUGGEST, READ_ONLY, api_suggest},
    {"/health", 0, EP_HEALTH, READ_ONLY, api_health},
    {"/stats", 0, EP_STATS, READ_ONLY, api_stats},
    {"/metrics", 0, EP_METRICS, READ_ONLY, api_metrics},
    {"/", 0, EP_STATIC, READ_ONLY, web_page},
    {"/static/", 1, EP_STATIC, READ_ONLY, web_static},
    {"/opensearch.xml", 0, EP_STATIC, READ_ONLY, web_opensearch},
};

void app_handle(app *a, request *rq, reply *rp, endpoint *ep)
{
    *ep = EP_OTHER;
    rp->cache = NULL;
    for (size_t i = 0; i < sizeof ROUTES / sizeof ROUTES[0]; i++) {
        const struct route *r = &ROUTES[i];
        size_t n = strlen(r->path);
        if (r->prefix ? rq->path_len < n || memcmp(rq->path, r->path, n) != 0
                      : strcmp(rq->path, r->path) != 0)
            continue;
        *ep = r->ep;
        /* The method must appear in the route's Allow list. */
        size_t m = strlen(rq->method);
        const char *p = strstr(r->allow, rq->method);
        int allowed = m > 0 && p && (p[m] == ',' || p[m] == '\0') &&
                      (p == r->allow || p[-1] == ' ');
        if (!allowed) {
            not_allowed(rp, rq, r->allow);
        } else if (strcmp(rq->method, "OPTIONS") == 0) {
            reply_clear(rp);
            rp->status = 204;
            rp->allow = r->allow;
        } else {
            r->fn(a, rq, rp);
        }
        return;
    }
    json_t *d = json_object();
    json_object_set_new(d, "path", json_text(rq->path, rq->path_len));
    reply_error(rp, 404, "not_found", d,
                "no endpoint %.200s (endpoints: /search, /doc/{id}, /analyze, /suggest, /health, "
                "/stats, /metrics; the web page: /, /static/, /opensearch.xml)", rq->path);
}
