/* err.c: the lede_err struct and the names, texts, HTTP statuses and error
 * codes of lede_rc codes (all read from LEDE_RC_LIST in lede.h). The
 * first error recorded in a lede_err wins, so a chain of calls reports its
 * root cause rather than a later symptom. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"

void lede_err_clear(lede_err *err)
{
    if (!err)
        return;
    err->rc = 0;
    err->at = -1;
    err->msg[0] = '\0';
}

static int err_vset(lede_err *err, int rc, long at, const char *fmt, va_list ap)
{
    if (!err || err->rc != 0)
        return rc;
    err->rc = rc;
    err->at = at;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    /* One line (lede.h), even when the message quotes a caller's bytes
     * (an id, a query) holding line breaks. */
    for (char *p = err->msg; (p = strpbrk(p, "\r\n"));)
        *p = ' ';
    return rc;
}

int lede_err_set(lede_err *err, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(err, rc, -1, fmt, ap);
    va_end(ap);
    return rc;
}

int lede_err_set_at(lede_err *err, int rc, long at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(err, rc, at, fmt, ap);
    va_end(ap);
    return rc;
}

const char *lede_rc_name(int rc)
{
    switch (rc) {
#define LEDE_RC_NAME(name, value, text, status, code) case value: return #name;
        LEDE_RC_LIST(LEDE_RC_NAME)
#undef LEDE_RC_NAME
    }
    return "LEDE_UNKNOWN";
}

const char *lede_rc_text(int rc)
{
    switch (rc) {
#define LEDE_RC_TEXT(name, value, text, status, code) case value: return text;
        LEDE_RC_LIST(LEDE_RC_TEXT)
#undef LEDE_RC_TEXT
    }
    return "unknown error";
}

/* How an HTTP server reports each code, one row per code of the list. */
static const struct rc_http {
    int rc, status;
    const char *code;
} RC_HTTP[] = {
#define LEDE_RC_HTTP(name, value, text, status, code) {value, status, code},
    LEDE_RC_LIST(LEDE_RC_HTTP)
#undef LEDE_RC_HTTP
};

static const struct rc_http *rc_http_row(int rc)
{
    for (size_t i = 0; i < sizeof RC_HTTP / sizeof RC_HTTP[0]; i++)
        if (RC_HTTP[i].rc == rc)
            return &RC_HTTP[i];
    return NULL;
}

int lede_rc_http_status(int rc)
{
    const struct rc_http *r = rc_http_row(rc);
    return r ? r->status : 500;
}

const char *lede_rc_error_code(int rc)
{
    const struct rc_http *r = rc_http_row(rc);
    return r ? r->code : "internal";
}
