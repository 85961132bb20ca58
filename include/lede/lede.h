/* lede.h: the umbrella of lede's public API: version, return codes and the
 * caller-owned error struct every fallible call fills. Everything server/ and
 * the tests may use is in include/lede/; nothing else of liblede is public.
 *
 * Conventions: fallible functions return lede_rc (0 ok, 1 "done" for
 * iterators, negative errors). Human text goes into a lede_err the caller
 * passes (may be NULL); there is no global error state. Every _free accepts
 * NULL. */
#ifndef LEDE_LEDE_H
#define LEDE_LEDE_H

#include <stddef.h>
#include <stdint.h>

#define LEDE_VERSION "0.1.0"

/* X(name, value, short message, HTTP status, error code). One list gives
 * every code its name, its text and how an HTTP server reports it: the
 * status and the "code" of lede-server's JSON error object (docs/API.md).
 * Caller mistakes are 4xx; a broken or unreadable index and exhausted memory
 * are 5xx (503 for memory: a retry may succeed). LEDE_OK and LEDE_DONE are
 * not errors: status 200, no error code. */
#define LEDE_RC_LIST(X)                                                              \
    X(LEDE_OK, 0, "ok", 200, NULL)                                                   \
    X(LEDE_DONE, 1, "done", 200, NULL)                                               \
    X(LEDE_ENOMEM, -1, "out of memory", 503, "internal")                             \
    X(LEDE_EIO, -2, "input/output error", 500, "internal")                           \
    X(LEDE_ECORRUPT, -3, "index file is corrupt", 500, "internal")                   \
    X(LEDE_ESYNTAX, -4, "query syntax error", 400, "query_syntax")                   \
    X(LEDE_EINVAL, -5, "invalid argument", 400, "bad_parameter")                     \
    X(LEDE_ENOTFOUND, -6, "not found", 404, "not_found")                             \
    X(LEDE_EFORMAT, -7, "malformed input", 400, "bad_request")                       \
    X(LEDE_EVERSION, -8, "unsupported index format version", 500, "internal")        \
    X(LEDE_ELIMIT, -9, "limit exceeded", 400, "limit_exceeded")

typedef enum lede_rc {
#define LEDE_RC_ENUM(name, value, text, status, code) name = value,
    LEDE_RC_LIST(LEDE_RC_ENUM)
#undef LEDE_RC_ENUM
} lede_rc;

typedef struct lede_err {
    int rc;          /* the lede_rc of the first error, 0 if none */
    long at;         /* byte offset in the query (syntax errors), else -1 */
    char msg[512];   /* one line, no trailing newline */
} lede_err;

void lede_err_clear(lede_err *err);
/* Records rc and a printf-style message (if err is non-NULL and empty);
 * returns rc so callers can write `return lede_err_set(err, ...)`. */
int lede_err_set(lede_err *err, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Like lede_err_set, also recording a byte position in the query. */
int lede_err_set_at(lede_err *err, int rc, long at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
const char *lede_rc_name(int rc);    /* "LEDE_ESYNTAX" */
const char *lede_rc_text(int rc);    /* "query syntax error" */
/* How an HTTP server reports rc: 400 for LEDE_ESYNTAX; 500 for a code not
 * in the list. */
int lede_rc_http_status(int rc);
/* The error code of lede-server's JSON errors: "query_syntax" for
 * LEDE_ESYNTAX, "internal" for a code not in the list, NULL for LEDE_OK
 * and LEDE_DONE (not errors). */
const char *lede_rc_error_code(int rc);

#endif
