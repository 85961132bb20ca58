/* request.h: an HTTP request and reply as lede-server's handlers see them,
 * free of libmicrohttpd so the handlers can be driven by tests and the
 * fuzzer: the decoded path, the query-string arguments in order (repeats
 * kept), the body, and the reply's status, type and bytes. Also the
 * percent-decoding parser of request targets and form bodies. */
#ifndef LEDE_SERVER_REQUEST_H
#define LEDE_SERVER_REQUEST_H

#include <stddef.h>

typedef struct kv {
    char *key, *value;        /* decoded, NUL-terminated; value "" for a bare key */
    size_t key_len, value_len;
} kv;

typedef struct request {
    const char *method;
    char *path;               /* decoded path */
    size_t path_len;
    kv *args;
    size_t nargs, cap;
    const char *body;         /* raw body (POST), not NUL-terminated */
    size_t body_len;
    int body_too_large;       /* the body passed the limit and was dropped */
    const char *content_type; /* NULL if none */
    const char *origin;       /* the Origin header, NULL if none */
    const char *host;         /* the Host header, NULL if none */
    const char *if_none_match;/* the If-None-Match header, NULL if none */
    double started_us;        /* when the request arrived (for took_ms) */
} request;

typedef struct reply {
    int status;
    const char *content_type; /* static string */
    char *body;               /* malloc'd, unless body_static */
    size_t len;
    int body_static;          /* body points to bytes that live forever (not freed) */
    const char *allow;        /* Allow header for 405, else NULL */
    const char *cache;        /* Cache-Control value, NULL = "no-store" */
    const char *etag;         /* ETag header (a static string), or NULL */
    const char *csp;          /* Content-Security-Policy, NULL = the API's (deny all) */
} reply;

/* Parses a request target ("/path?query") into rq->path and rq->args.
 * Returns 0, or -1 with a message naming the problem and its byte offset. */
int request_parse_target(request *rq, const char *target, size_t len, char *msg, size_t size);
/* Parses an application/x-www-form-urlencoded string, appending to rq->args. */
int request_parse_form(request *rq, const char *s, size_t len, char *msg, size_t size);
/* Appends one argument (copied). Returns 0 or -1 on out of memory. */
int request_add_arg(request *rq, const char *key, size_t key_len, const char *value,
                    size_t value_len);
void request_clear(request *rq);
void reply_clear(reply *rp);

#endif
