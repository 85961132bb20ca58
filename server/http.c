/* http.c: the libmicrohttpd glue (http.h). The raw request target is taken
 * from the URI-log callback and parsed by request.c, so '+', escapes and
 * NUL bytes are handled one way everywhere (and fuzzed). lede, not
 * libmicrohttpd, enforces the limits on what precedes the body: a target
 * over max_target() is answered 414 and headers over HTTP_MAX_HEADER_BYTES
 * 431, in JSON; the connection's memory holds both at their limits with
 * POOL_SPARE to spare (beyond that libmicrohttpd answers with its own page).
 * A body is collected up to the configured limit; past it the request is
 * answered 413 without keeping the rest. Every reply gets its access-log
 * line and its metrics sample when it is queued; a request's state is freed
 * in the completion callback, which libmicrohttpd calls on every path once
 * on_uri has run, aborts included. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "reply_json.h"
#include "web.h"

struct http_server {
    app *a;
    struct MHD_Daemon *d;
    FILE *log;
    pthread_mutex_t log_lock;
    unsigned port;
};

/* The request headers lede accepts, counted as sent ("Name: value\r\n"):
 * browsers and proxies stay far below (cookies are not used by lede). */
#define HTTP_MAX_HEADER_BYTES (32 * 1024)
/* Connection memory beyond the target and header limits: the reply's
 * headers, and the margin within which an oversized request still reaches
 * lede's JSON 414/431. Every open connection holds its whole pool
 * (libmicrohttpd 0.9.75 touches it all), so the margin stays small. */
#define POOL_SPARE (64 * 1024)

typedef struct conn_state {
    char *target;
    size_t target_len;
    double started_us;
    int seen;
    char *body;
    size_t body_len, body_cap;
    int too_large;
} conn_state;

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    http_server *h = cls;
    (void)c;
    conn_state *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->target = strdup(uri ? uri : "/");
    if (!st->target) {
        free(st);
        return NULL; /* on_request refuses the request */
    }
    st->target_len = strlen(st->target);
    st->started_us = app_now() * 1e6;
    __atomic_add_fetch(&h->a->in_flight, 1, __ATOMIC_RELAXED);
    return st;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    http_server *h = cls;
    (void)c;
    (void)toe;
    conn_state *st = *con_cls;
    if (!st)
        return;
    free(st->target);
    free(st->body);
    free(st);
    *con_cls = NULL;
    __atomic_sub_fetch(&h->a->in_flight, 1, __ATOMIC_RELAXED);
}

/* Access-Control-Allow-Origin for this Origin, or NULL. */
static const char *cors_origin(const server_config *cfg, const char *origin)
{
    if (!cfg->cors_origins[0] || !origin)
        return NULL;
    if (strcmp(cfg->cors_origins, "*") == 0)
        return "*";
    size_t n = strlen(origin);
    const char *p = cfg->cors_origins;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ')
            e++;
        if ((size_t)(e - p) == n && strncasecmp(p, origin, n) == 0)
            return origin;
        p = e;
    }
    return NULL;
}

static void log_line(http_server *h, struct MHD_Connection *c, const char *method,
                     const char *target, int status, size_t bytes, double micros)
{
    if (!h->log)
        return;
    char ip[INET6_ADDRSTRLEN] = "-";
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip, sizeof ip);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ip, sizeof ip);
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    /* The target is logged with control bytes escaped, cut after about 2 KB. */
    char safe[2048];
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)target; *p && o < sizeof safe - 5; p++) {
        if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
            o += (size_t)snprintf(safe + o, sizeof safe - o, "\\x%02x", *p);
        else
            safe[o++] = (char)*p;
    }
    safe[o] = '\0';
    pthread_mutex_lock(&h->log_lock);
    fprintf(h->log, "%s.%03ldZ %s \"%s %s\" %d %zu %.0fus\n", when, ts.tv_nsec / 1000000, ip,
            method, safe, status, bytes, micros);
    fflush(h->log);
    pthread_mutex_unlock(&h->log_lock);
}

static enum MHD_Result send_reply(http_server *h, struct MHD_Connection *c, conn_state *st,
                                  const char *method, reply *rp, endpoint ep, const char *origin)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        rp->len, rp->body ? rp->body : (void *)"",
        rp->body && !rp->body_static ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        reply_clear(rp);
        return MHD_NO;
    }
    size_t bytes = rp->len;
    rp->body = NULL; /* owned by the response now */
    rp->body_static = 0;
    if (rp->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rp->content_type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, rp->cache ? rp->cache : "no-store");
    if (rp->etag)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, rp->etag);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Content-Security-Policy", rp->csp ? rp->csp : WEB_API_CSP);
    /* Searches are often sensitive: a click through to an article must not
     * tell the publisher what the newsroom was looking for. */
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    if (rp->allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, rp->allow);
    const char *allow_origin = cors_origin(&h->a->cfg, origin);
    /* With a list of origins the reply depends on Origin: caches must know,
     * whether or not this one was allowed. */
    const char *cors = h->a->cfg.cors_origins;
    if (cors[0] && strcmp(cors, "*") != 0)
        MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Origin");
    if (allow_origin) {
        MHD_add_response_header(r, "Access-Control-Allow-Origin", allow_origin);
        if (strcmp(method, "OPTIONS") == 0) {
            MHD_add_response_header(r, "Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS");
            MHD_add_response_header(r, "Access-Control-Allow-Headers", "Content-Type");
            MHD_add_response_header(r, "Access-Control-Max-Age", "600");
        }
    }
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)rp->status, r);
    MHD_destroy_response(r);
    double micros = app_now() * 1e6 - st->started_us;
    metrics_record(&h->a->m, ep, rp->status, (uint64_t)(micros > 0 ? micros : 0), bytes);
    log_line(h, c, method, st->target, rp->status, bytes, micros);
    return ok;
}

/* The longest target the settings allow: /analyze?text= takes up to
 * max_body_bytes, /search?q= up to max_query_bytes, each byte possibly
 * percent-encoded as three, plus room for the path and the other
 * parameters. */
static size_t max_target(const server_config *cfg)
{
    size_t text = cfg->max_body_bytes > cfg->max_query_bytes ? cfg->max_body_bytes
                                                             : cfg->max_query_bytes;
    return 3 * text + 16 * 1024;
}

static enum MHD_Result add_header_bytes(void *cls, enum MHD_ValueKind kind, const char *key,
                                        const char *value)
{
    (void)kind;
    *(size_t *)cls += strlen(key) + 2 + (value ? strlen(value) : 0) + 2;
    return MHD_YES;
}

/* A 414 or 431 JSON reply if the target or the headers are over lede's
 * limits; 0 if the request may go on. */
static int refuse_oversized(http_server *h, struct MHD_Connection *c, const conn_state *st,
                            reply *rp)
{
    size_t limit = max_target(&h->a->cfg);
    if (st->target_len > limit) {
        json_t *d = json_object();
        json_object_set_new(d, "limit", json_integer((json_int_t)limit));
        reply_error(rp, 414, "uri_too_long", d,
                    "the request target is %zu bytes, the limit is %zu",
                    st->target_len, limit);
        return 1;
    }
    size_t bytes = 0;
    MHD_get_connection_values(c, MHD_HEADER_KIND, add_header_bytes, &bytes);
    if (bytes > HTTP_MAX_HEADER_BYTES) {
        json_t *d = json_object();
        json_object_set_new(d, "limit", json_integer(HTTP_MAX_HEADER_BYTES));
        reply_error(rp, 431, "headers_too_large", d,
                    "the request headers are %zu bytes, the limit is %d", bytes,
                    HTTP_MAX_HEADER_BYTES);
        return 1;
    }
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    http_server *h = cls;
    (void)url;
    (void)version;
    conn_state *st = *con_cls;
    if (!st)
        return MHD_NO; /* out of memory in on_uri */
    if (!st->seen) {
        st->seen = 1;
        reply rp = {0};
        if (refuse_oversized(h, c, st, &rp)) {
            const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
            enum MHD_Result ok = send_reply(h, c, st, method, &rp, EP_OTHER, origin);
            reply_clear(&rp);
            return ok;
        }
        /* A declared body over the limit is refused before it is read. */
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > h->a->cfg.max_body_bytes)
            st->too_large = 1;
        else
            return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (st->too_large || st->body_len + n > h->a->cfg.max_body_bytes) {
            st->too_large = 1;
            return MHD_YES;
        }
        if (st->body_len + n > st->body_cap) {
            size_t cap = (st->body_len + n) * 2;
            char *fresh = realloc(st->body, cap);
            if (!fresh)
                return MHD_NO;
            st->body = fresh;
            st->body_cap = cap;
        }
        memcpy(st->body + st->body_len, upload_data, n);
        st->body_len += n;
        return MHD_YES;
    }
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    request rq = {0};
    reply rp = {0};
    endpoint ep = EP_OTHER;
    char msg[256];
    rq.method = method;
    rq.body = st->body;
    rq.body_len = st->body_len;
    rq.body_too_large = st->too_large;
    rq.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    rq.origin = origin;
    rq.host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    rq.if_none_match = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_IF_NONE_MATCH);
    rq.started_us = st->started_us;
    if (request_parse_target(&rq, st->target, st->target_len, msg, sizeof msg)) {
        reply_error(&rp, 400, "bad_request", NULL, "%s", msg);
    } else {
        app_handle(h->a, &rq, &rp, &ep);
    }
    enum MHD_Result ok = send_reply(h, c, st, method, &rp, ep, origin);
    request_clear(&rq);
    reply_clear(&rp);
    return ok;
}

/* Parses "host:port" or "[v6]:port" into a socket address. */
static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len, char *msg,
                        size_t size)
{
    char host[256];
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s) {
        snprintf(msg, size, "listen address \"%s\" must be HOST:PORT, e.g. 127.0.0.1:8080", s);
        return -1;
    }
    size_t hl = (size_t)(colon - s);
    if (hl >= sizeof host)
        hl = sizeof host - 1;
    memcpy(host, s, hl);
    host[hl] = '\0';
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || errno || port < 0 || port > 65535) {
        snprintf(msg, size, "listen address \"%s\": bad port", s);
        return -1;
    }
    memset(ss, 0, sizeof *ss);
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
            goto bad_host;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *len = sizeof *a6;
        return 0;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
        goto bad_host;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    *len = sizeof *a4;
    return 0;
bad_host:
    snprintf(msg, size, "listen address \"%s\": the host must be an IP address", s);
    return -1;
}

int http_check_listen(const char *listen, char *msg, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t len;
    return parse_listen(listen, &ss, &len, msg, size);
}

int http_start(app *a, FILE *access_log, http_server **out, char *msg, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    if (parse_listen(a->cfg.listen, &ss, &sslen, msg, size))
        return -1;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(fd, (struct sockaddr *)&ss, sslen) || listen(fd, 1024)) {
        snprintf(msg, size, "cannot listen on %s: %s", a->cfg.listen, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    getsockname(fd, (struct sockaddr *)&bound, &blen);
    http_server *h = calloc(1, sizeof *h);
    if (!h) {
        close(fd);
        snprintf(msg, size, "out of memory");
        return -1;
    }
    h->a = a;
    h->log = access_log;
    pthread_mutex_init(&h->log_lock, NULL);
    h->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                               : ((struct sockaddr_in *)&bound)->sin_port);
    /* Links the server writes (OpenSearch) need the real port, known only now. */
    const char *colon = strrchr(a->cfg.listen, ':');
    snprintf(a->bound, sizeof a->bound, "%.*s:%u",
             (int)(colon ? colon - a->cfg.listen : 0), a->cfg.listen, h->port);
    unsigned threads = a->cfg.threads;
    if (!threads) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 1;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC;
    /* The pool holds the request line and headers while they are parsed,
     * then the reply's headers. */
    size_t pool = max_target(&a->cfg) + HTTP_MAX_HEADER_BYTES + POOL_SPARE;
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
                            MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
                            MHD_OPTION_THREAD_POOL_SIZE, threads,
                            MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                            MHD_OPTION_CONNECTION_TIMEOUT, a->cfg.connection_timeout,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool,
                            MHD_OPTION_END);
    if (!h->d) {
        snprintf(msg, size, "libmicrohttpd could not start on %s", a->cfg.listen);
        close(fd);
        pthread_mutex_destroy(&h->log_lock);
        free(h);
        return -1;
    }
    *out = h;
    return 0;
}

unsigned http_port(const http_server *h)
{
    return h->port;
}

void http_stop(http_server *h, unsigned timeout_s)
{
    if (!h)
        return;
    MHD_socket fd = MHD_quiesce_daemon(h->d);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    double deadline = app_now() + timeout_s;
    while (__atomic_load_n(&h->a->in_flight, __ATOMIC_RELAXED) > 0 && app_now() < deadline) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(h->d);
    pthread_mutex_destroy(&h->log_lock);
    free(h);
}
