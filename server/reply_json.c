/* reply_json.c: serializing jansson values into replies (compact, UTF-8,
 * scores to 8 significant digits), the error object (and the one mapping
 * of liblede's return codes onto it, read from lede.h), and a string
 * constructor that repairs invalid UTF-8 instead of failing, since stored
 * text is whatever the corpus held. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    unsigned cp = c & (0xff >> (len + 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

long utf8_invalid_at(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t len = utf8_seq_len(s + i, n - i);
        if (!len)
            return (long)i;
        i += len;
    }
    return -1;
}

json_t *json_text(const char *s, size_t len)
{
    if (!s)
        return json_null();
    size_t i = 0;
    const unsigned char *u = (const unsigned char *)s;
    while (i < len) {
        size_t n = u[i] ? utf8_seq_len(u + i, len - i) : 0;
        if (!n)
            break;
        i += n;
    }
    if (i == len)
        return json_stringn_nocheck(s, len);
    /* Repair: every invalid byte (and NUL) becomes U+FFFD. */
    char *fixed = malloc(len * 3 + 1);
    if (!fixed)
        return NULL;
    size_t o = 0;
    for (i = 0; i < len;) {
        size_t n = u[i] ? utf8_seq_len(u + i, len - i) : 0;
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
