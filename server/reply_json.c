/* reply_json.c: serializing jansson values into replies (compact, UTF-8,
 * scores to 8 significant digits), the error object (and the one mapping
 * of liblede's return codes onto it, read from lede.h), and a string
 * constructor that repairs invalid UTF-8 instead of failing, since stored
 * text is whatever the corpus held. What is valid UTF-8 is liblede's
 * lede/utf8.h, so the server and the index agree on it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lede/utf8.h"
#include "reply_json.h"

static const char OOM_BODY[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";

void reply_json(reply *rp, int status, json_t *obj)
{
    reply_clear(rp);
    rp->content_type = "application/json";
    char *body = obj ? json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(8)) : NULL;
    json_decref(obj);
    if (!body) {
        rp->status = lede_rc_http_status(LEDE_ENOMEM);
        rp->body = strdup(OOM_BODY);
        rp->len = rp->body ? strlen(rp->body) : 0;
        return;
    }
    rp->status = status;
    rp->len = strlen(body);
    /* A trailing newline keeps curl output readable. */
    char *nl = realloc(body, rp->len + 2);
    if (nl) {
        body = nl;
        body[rp->len++] = '\n';
        body[rp->len] = '\0';
    }
    rp->body = body;
}

void reply_error(reply *rp, int status, const char *code, json_t *details, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *err = json_object();
    json_object_set_new(err, "code", json_string(code));
    json_object_set_new(err, "message", json_text(msg, strlen(msg)));
    if (details) {
        json_object_update(err, details);
        json_decref(details);
    }
    json_t *top = json_object();
    json_object_set_new(top, "error", err);
    reply_json(rp, status, top);
}

void reply_lede_error(reply *rp, int rc, const lede_err *err, json_t *details)
{
    /* err->at is meaningful once an error is set; a caller that placed
     * "position" among its details keeps its key order. */
    if (err && err->rc && err->at >= 0 && !json_object_get(details, "position")) {
        if (!details)
            details = json_object();
        json_object_set_new(details, "position", json_integer(err->at));
    }
    reply_error(rp, lede_rc_http_status(rc), lede_rc_error_code(rc), details, "%s",
                err && err->msg[0] ? err->msg : lede_rc_text(rc));
}

long utf8_invalid_at(const unsigned char *s, size_t n)
{
    size_t valid = lede_utf8_valid_len(s, s + n);
    return valid < n ? (long)valid : -1;
}

json_t *json_text(const char *s, size_t len)
{
    if (!s)
        return json_null();
    const unsigned char *u = (const unsigned char *)s;
    size_t i = lede_utf8_valid_len(u, u + len);
    if (i == len && !memchr(s, '\0', len))
        return json_stringn_nocheck(s, len);
    /* Repair: every invalid byte (and NUL) becomes U+FFFD. */
    char *fixed = malloc(len * 3 + 1);
    if (!fixed)
        return NULL;
    size_t o = 0;
    for (i = 0; i < len;) {
        size_t n = u[i] ? lede_utf8_seq_len(u + i, u + len) : 0;
        if (n) {
            memcpy(fixed + o, s + i, n);
            o += n;
            i += n;
        } else {
            memcpy(fixed + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    json_t *j = json_stringn_nocheck(fixed, o);
    free(fixed);
    return j;
}
