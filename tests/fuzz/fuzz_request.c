/* fuzz_request.c: the fuzz target for lede-server's request handling. Each
 * input becomes one request run through app_handle (server/app.h) the way
 * http.c runs a libmicrohttpd request, against a small index built once from
 * tests/data/seeds.jsonl plus a few odd documents of its own (no source, no
 * title, invalid UTF-8, a leap day, a long body). Every reply is checked: a
 * status from 200 to 599 and no 5xx (the index is sound, so nothing a client
 * sends may fail inside), a JSON body that parses when the type says JSON, an
 * error reply shaped {"error":{"code","message"}}, an Allow header on 405; a
 * violation prints the request and the reply and aborts, so the fuzzer keeps
 * the input. Built with libFuzzer (-Dfuzz=true, clang) and, with
 * replay_main.c, as the plain 'fuzz-replay' test over tests/fuzz/corpus/.
 *
 * Input layout (tests/fuzz/make_corpus.py writes it):
 *   '0' + TARGET                 GET TARGET (a request target: /path?query)
 *   '1' + BODY                   POST /search, application/json
 *   '2' + BODY                   POST /search, application/x-www-form-urlencoded
 *   '3' + M + C + TARGET \n BODY M % 5 picks GET, POST, HEAD, PUT, OPTIONS;
 *                                C % 6 the Content-Type (or none); a TARGET
 *                                not starting with '/' gets the path
 *                                PATHS[(M / 5) % 11] in front of it. For
 *                                GET and HEAD, BODY (to its first NUL) is
 *                                sent as the Host and If-None-Match headers.
 * Only the first byte's low two bits count, so any byte picks a mode. As in
 * http.c, a target ends at its first NUL byte (libmicrohttpd hands it over as
 * a C string) and a body over search.max_body_bytes arrives as "too large". */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "lede/ingest.h"
#include "reply_json.h"
#include "testutil.h"

#ifndef LEDE_SOURCE_DIR
#define LEDE_SOURCE_DIR "."
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static const char *const METHODS[] = {"GET", "POST", "HEAD", "PUT", "OPTIONS"};
static const char *const PATHS[] = {"/search", "/suggest", "/analyze", "/doc/",
                                    "/health", "/stats",   "/metrics", "/nope",
                                    "/",       "/static/", "/opensearch.xml"};
#define NPATHS (sizeof PATHS / sizeof PATHS[0])
static const char *const TYPES[] = {NULL,
                                    "application/json",
                                    "application/x-www-form-urlencoded",
                                    "application/x-www-form-urlencoded; charset=UTF-8",
                                    "text/plain",
                                    "Application/JSON; charset=utf-8"};

static app A;
static int ready;
static int verbose; /* LEDE_FUZZ_VERBOSE=1: each request and reply to stderr */

/* ------------------------------------------------------------ the index */

/* Documents the seed file lacks: what stored text may hold that a client
 * then sees echoed (repaired UTF-8, null fields, empty fields and no words
 * at all, a leap day, a long body that needs cutting into passages, ids with
 * URL syntax in them). */
typedef struct extra_doc {
    const char *id, *title, *body, *source, *date, *url;
} extra_doc;

static const extra_doc EXTRA[] = {
    {"x-utf8", "Caf\xc3 \xff border wall \xed\xa0\x80 tax",
     "Invalid \xe2\x82 bytes around the border wall; \xf4\x90\x80\x80 tax reform.", "Reuters",
     "2018-01-31", "https://example.com/a?b=c&d"},
    {"doc/with space?&=%", "\xc3\x89lys\xc3\xa9\x65 Macron\xe2\x80\x99s tax reform",
     "Emmanuel Macron spoke at the \xc3\x89lys\xc3\xa9\x65 about tax reform and social media.",
     "New York Times - News", "2016-02-29T10:00:00Z", NULL},
    {"no-title", NULL, "Only a body about social media fines and extremist content.", NULL, NULL,
     NULL},
    {"\"quoted\" id", "", "", "", "", ""},
};

/* Filled in by build_long_body: a few thousand words with the seed
 * documents' vocabulary and sentence ends, for passage selection. */
static char long_body[24000];

static void build_long_body(void)
{
    static const char *const words[] = {"social", "media", "fines",  "Macron", "May",
                                        "terror", "online", "remove", "border", "wall",
                                        "tax",    "reform", "legal",  "liability"};
    size_t o = 0, i = 0;
    while (o + 32 < sizeof long_body) {
        const char *w = words[(i * 7 + i / 3) % (sizeof words / sizeof words[0])];
        o += (size_t)snprintf(long_body + o, sizeof long_body - o, "%s%s", w,
                              i % 11 == 10 ? ". " : " ");
        i++;
    }
    long_body[o] = '\0';
}

static lede_str str_of(const char *s)
{
    return (lede_str){s, s ? strlen(s) : 0};
}

static int add_doc(void *ctx, const lede_doc *doc)
{
    lede_err err = {0};
    if (lede_writer_add(ctx, doc, &err)) {
        fprintf(stderr, "fuzz_request: cannot add a seed document: %s\n", err.msg);
        exit(2);
    }
    return 0;
}

static void build_index(const char *dir)
{
    const char *env = getenv("LEDE_FUZZ_SEEDS");
    const char *seeds = env && *env ? env : LEDE_SOURCE_DIR "/tests/data/seeds.jsonl";
    lede_writer *w;
    lede_err err = {0};
    if (lede_writer_open(dir, NULL, 1, &w, &err)) {
        fprintf(stderr, "fuzz_request: cannot create an index in %s: %s\n", dir, err.msg);
        exit(2);
    }
    if (lede_ingest_paths(&seeds, 1, NULL, add_doc, w, NULL, &err)) {
        fprintf(stderr, "fuzz_request: cannot read %s (set LEDE_FUZZ_SEEDS): %s\n", seeds, err.msg);
        exit(2);
    }
    build_long_body();
    for (size_t i = 0; i <= sizeof EXTRA / sizeof EXTRA[0]; i++) {
        lede_doc d;
        if (i < sizeof EXTRA / sizeof EXTRA[0]) {
            const extra_doc *e = &EXTRA[i];
            d = (lede_doc){str_of(e->id),     str_of(e->title), str_of(e->body),
                           str_of(e->source), str_of(e->date),  str_of(e->url)};
        } else {
            d = (lede_doc){str_of("long"),       str_of("A long article on social media fines"),
                           str_of(long_body),    str_of("ITV News"),
                           str_of("2017-12-31"), str_of("https://example.com/long")};
        }
        add_doc(w, &d);
    }
    if (lede_writer_commit(w, &err)) {
        fprintf(stderr, "fuzz_request: cannot commit the index: %s\n", err.msg);
        exit(2);
    }
    lede_writer_free(w);
}

static void teardown(void)
{
    snapshots_destroy(&A.snaps);
}

static void setup(void)
{
    if (ready)
        return;
    ready = 1;
    verbose = getenv("LEDE_FUZZ_VERBOSE") && *getenv("LEDE_FUZZ_VERBOSE") == '1';
    char msg[512];
    char *dir = test_tmpdir("fuzz");
    build_index(dir);
    config_defaults(&A.cfg);
    /* Small limits, so inputs of a few KiB reach every "too large" reply. */
    static const char *const settings[][2] = {
        {"server.index", NULL},          {"server.access_log", "off"},
        {"search.time_budget_ms", "50"}, {"search.max_body_bytes", "2048"},
        {"search.max_query_bytes", "512"},
    };
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
        if (config_set(&A.cfg, settings[i][0], settings[i][1] ? settings[i][1] : dir, msg,
                       sizeof msg)) {
            fprintf(stderr, "fuzz_request: %s\n", msg);
            exit(2);
        }
    if (config_finish(&A.cfg, msg, sizeof msg)) {
        fprintf(stderr, "fuzz_request: %s\n", msg);
        exit(2);
    }
    lede_err err = {0};
    if (snapshots_init(&A.snaps, A.cfg.index, &err)) {
        fprintf(stderr, "fuzz_request: cannot open the index %s: %s\n", A.cfg.index, err.msg);
        exit(2);
    }
    A.started = app_now();
    /* The segments are mapped and the manifest read: the files can go now,
     * so a crashing run leaves nothing behind. */
    test_rmtree(dir);
    free(dir);
    atexit(teardown);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setup();
    return 0;
}

/* ------------------------------------------------------------ checks */

typedef struct exchange {
    const char *method, *target, *content_type;
    const char *body;
    size_t body_len;
    const reply *rp;
} exchange;

static void put_bytes(const char *label, const char *s, size_t n)
{
    fprintf(stderr, "  %s (%zu bytes): \"", label, n);
    for (size_t i = 0; i < n && i < 2000; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
            fprintf(stderr, "\\x%02x", c);
        else
            fputc(c, stderr);
    }
    fprintf(stderr, "%s\"\n", n > 2000 ? "..." : "");
}

__attribute__((format(printf, 2, 3), noreturn)) static void fail(const exchange *x,
                                                                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz_request: invariant violated: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fprintf(stderr, "  method: %s\n  content type: %s\n", x->method,
            x->content_type ? x->content_type : "(none)");
    put_bytes("target", x->target, strlen(x->target));
    put_bytes("body", x->body ? x->body : "", x->body_len);
    fprintf(stderr, "  reply: %d %s\n", x->rp->status,
            x->rp->content_type ? x->rp->content_type : "(no type)");
    put_bytes("reply body", x->rp->body ? x->rp->body : "", x->rp->len);
    fflush(stderr);
    abort();
}

static int is_json_type(const char *t)
{
    return t && (strncmp(t, "application/json", 16) == 0 ||
                 strncmp(t, "application/x-suggestions+json", 30) == 0);
}

static const char *string_member(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void check_search(const exchange *x, const json_t *root)
{
    const json_t *k = json_object_get(root, "k");
    const json_t *hits = json_object_get(root, "hits"), *groups = json_object_get(root, "groups");
    if (!json_is_string(json_object_get(root, "query")) ||
        !json_is_integer(json_object_get(root, "total")) || !json_is_integer(k))
        fail(x, "a /search reply lacks query, total or k");
    if (!json_is_array(hits) && !json_is_array(groups))
        fail(x, "a /search reply has neither hits nor groups");
    size_t n = json_is_array(hits) ? json_array_size(hits) : json_array_size(groups);
    if ((json_int_t)n > json_integer_value(k))
        fail(x, "a /search reply has %zu hits or groups, more than k = %lld", n,
             (long long)json_integer_value(k));
}

static void check_reply(const exchange *x, const char *path)
{
    const reply *rp = x->rp;
    if (rp->status < 200 || rp->status > 599)
        fail(x, "status %d is not an HTTP status from 200 to 599", rp->status);
    if (rp->status >= 500)
        fail(x, "status %d: a request made the server fail on a sound index", rp->status);
    if (rp->status == 204) {
        if (rp->body || strcmp(x->method, "OPTIONS") != 0)
            fail(x, "204 with a body, or not for OPTIONS");
        return;
    }
    if (rp->status == 304) {
        if (rp->body || !rp->etag)
            fail(x, "304 with a body or without an ETag");
        return;
    }
    if (rp->content_type && strncmp(rp->content_type, "text/html", 9) == 0 && !rp->csp)
        fail(x, "an HTML reply without its Content-Security-Policy");
    if (!rp->body || !rp->len || !rp->content_type)
        fail(x, "a reply without a body or a content type");
    if (rp->status == 405 && !rp->allow)
        fail(x, "405 without an Allow header");
    if (!is_json_type(rp->content_type)) {
        if (rp->status >= 400)
            fail(x, "an error reply that is not JSON");
        if (strncmp(rp->content_type, "text/plain", 10) == 0 && rp->body[rp->len - 1] != '\n')
            fail(x, "a text reply that does not end with a newline");
        return;
    }
    json_error_t je;
    json_t *root = json_loadb(rp->body, rp->len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        fail(x, "the reply is not valid JSON: %s at byte %d", je.text, je.position);
    if (rp->status >= 400) {
        const json_t *e = json_object_get(root, "error");
        const char *code = json_is_object(e) ? string_member(e, "code") : NULL;
        const char *message = json_is_object(e) ? string_member(e, "message") : NULL;
        if (!json_is_object(root) || !code || !*code || !message || !*message)
            fail(x, "an error reply without {\"error\":{\"code\",\"message\"}}");
    } else if (strcmp(path, "/search") == 0) {
        check_search(x, root);
    } else if (!json_is_object(root) && !json_is_array(root)) {
        fail(x, "a 2xx JSON reply that is neither an object nor an array");
    }
    json_decref(root);
}

/* ------------------------------------------------------------ one request */

/* What http.c's on_request does once the body is in, with the body handed
 * over as one upload chunk. target is NUL-terminated; body may be NULL. */
static void run(const char *method, const char *target, const char *content_type,
                const char *body, size_t body_len, const char *header)
{
    __atomic_add_fetch(&A.in_flight, 1, __ATOMIC_RELAXED);
    double started_us = app_now() * 1e6;
    request rq = {0};
    reply rp = {0};
    endpoint ep = EP_OTHER;
    char msg[256];
    int too_large = body_len > A.cfg.max_body_bytes;
    rq.method = method;
    rq.body = too_large ? NULL : body;
    rq.body_len = too_large ? 0 : body_len;
    rq.body_too_large = too_large;
    rq.content_type = content_type;
    rq.origin = NULL;
    rq.host = header;
    rq.if_none_match = header;
    rq.started_us = started_us;
    if (request_parse_target(&rq, target, strlen(target), msg, sizeof msg)) {
        reply_error(&rp, 400, "bad_request", NULL, "%s", msg);
    } else if (strcmp(method, "OPTIONS") == 0) {
        rp.status = 204;
        rp.allow = "GET, HEAD, POST, OPTIONS";
    } else {
        app_handle(&A, &rq, &rp, &ep);
    }
    exchange x = {method, target, content_type, body, body_len, &rp};
    if (verbose) {
        fprintf(stderr, "%s %s -> %d", method, target, rp.status);
        put_bytes("", rp.body ? rp.body : "", rp.len > 300 ? 300 : rp.len);
    }
    check_reply(&x, rq.path ? rq.path : "");
    double micros = app_now() * 1e6 - started_us;
    metrics_record(&A.m, ep, rp.status, (uint64_t)(micros > 0 ? micros : 0), rp.len);
    request_clear(&rq);
    reply_clear(&rp);
    __atomic_sub_fetch(&A.in_flight, 1, __ATOMIC_RELAXED);
}

/* A NUL-terminated copy of s[0..n) cut at its first NUL (a C-string URI),
 * with prefix in front. Exits on out of memory. */
static char *target_copy(const char *prefix, const unsigned char *s, size_t n)
{
    const unsigned char *nul = memchr(s, '\0', n);
    if (nul)
        n = (size_t)(nul - s);
    size_t plen = strlen(prefix);
    char *t = malloc(plen + n + 1);
    if (!t)
        abort();
    memcpy(t, prefix, plen);
    memcpy(t + plen, s, n);
    t[plen + n] = '\0';
    return t;
}

/* An exact-size copy, so a read past the body's end is caught. */
static char *body_copy(const unsigned char *s, size_t n)
{
    char *b = malloc(n ? n : 1);
    if (!b)
        abort();
    memcpy(b, s, n);
    return b;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    setup();
    if (size < 1)
        return 0;
    int mode = data[0] & 3;
    data++, size--;
    char *target, *body = NULL;
    size_t body_len = 0;
    const char *method = "GET", *type = NULL;
    if (mode == 0) {
        target = target_copy("", data, size);
    } else if (mode == 1 || mode == 2) {
        target = target_copy("/search", data, 0);
        body = body_copy(data, size);
        body_len = size;
        method = "POST";
        type = TYPES[mode];
    } else {
        if (size < 2)
            return 0;
        unsigned m = data[0], c = data[1];
        data += 2, size -= 2;
        const unsigned char *nl = memchr(data, '\n', size);
        size_t tlen = nl ? (size_t)(nl - data) : size;
        method = METHODS[m % 5];
        type = TYPES[c % 6];
        target = target_copy(tlen && data[0] == '/' ? "" : PATHS[(m / 5) % NPATHS], data, tlen);
        if (nl) {
            body_len = size - tlen - 1;
            body = body_copy(nl + 1, body_len);
        }
    }
    char *header = NULL;
    if (body && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0))
        header = target_copy("", (const unsigned char *)body, body_len);
    run(method, target, type, body, body_len, header);
    free(header);
    free(target);
    free(body);
    return 0;
}
