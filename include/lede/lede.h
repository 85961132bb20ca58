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

/* X(name, value, short message). One list gives every code its name and text;
 * the server maps them to HTTP statuses. */
#define LEDE_RC_LIST(X)                                          \
    X(LEDE_OK, 0, "ok")                                          \
    X(LEDE_DONE, 1, "done")                                      \
    X(LEDE_ENOMEM, -1, "out of memory")                          \
    X(LEDE_EIO, -2, "input/output error")                        \
    X(LEDE_ECORRUPT, -3, "index file is corrupt")                \
    X(LEDE_ESYNTAX, -4, "query syntax error")                    \
    X(LEDE_EINVAL, -5, "invalid argument")                       \
    X(LEDE_ENOTFOUND, -6, "not found")                           \
    X(LEDE_EFORMAT, -7, "malformed input")                       \
    X(LEDE_EVERSION, -8, "unsupported index format version")     \
    X(LEDE_ELIMIT, -9, "limit exceeded")

typedef enum lede_rc {
#define LEDE_RC_ENUM(name, value, text) name = value,
    LEDE_RC_LIST(LEDE_RC_ENUM)
#undef LEDE_RC_ENUM
} lede_rc;

/* The first error wins: lede_err_set does nothing if err->rc is already set,
 * so a sequence of calls reports its root cause. */
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

#endif
