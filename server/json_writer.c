/* json_writer.c: the streaming writer of json_writer.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_writer.h"
#include "lede/utf8.h"
#include "reply_json.h"

void jw_init(jw *w, size_t cap)
{
    memset(w, 0, sizeof *w);
    w->p = malloc(cap);
    w->cap = cap;
    w->failed = !w->p;
}

static int reserve(jw *w, size_t n)
{
    if (w->failed)
        return 0;
    if (w->cap - w->len >= n)
        return 1;
    size_t cap = w->cap * 2 + n;
    char *fresh = realloc(w->p, cap);
    if (!fresh) {
        w->failed = 1;
        return 0;
    }
    w->p = fresh;
    w->cap = cap;
    return 1;
}

static void put(jw *w, const char *s, size_t n)
{
    if (reserve(w, n)) {
        memcpy(w->p + w->len, s, n);
        w->len += n;
    }
}

/* The comma before a value or key, unless it follows a key or opens a container. */
static void sep(jw *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth > 0) {
        if (!w->first[w->depth - 1])
            put(w, ",", 1);
        w->first[w->depth - 1] = 0;
    }
}

static void open_(jw *w, char c)
{
    sep(w);
    put(w, &c, 1);
    if (w->depth < JW_MAX_DEPTH)
        w->first[w->depth] = 1;
    w->depth++;
}

static void close_(jw *w, char c)
{
    put(w, &c, 1);
    if (w->depth > 0)
        w->depth--;
}

void jw_obj(jw *w) { open_(w, '{'); }
void jw_arr(jw *w) { open_(w, '['); }
void jw_end_obj(jw *w) { close_(w, '}'); }
void jw_end_arr(jw *w) { close_(w, ']'); }

void jw_key(jw *w, const char *key)
{
    sep(w);
    put(w, "\"", 1);
    put(w, key, strlen(key));
    put(w, "\":", 2);
    w->after_key = 1;
}

void jw_str(jw *w, const char *s, size_t len)
{
    if (!s) {
        jw_null(w);
        return;
    }
    sep(w);
    /* Worst case: every byte becomes \u00XX (6) or U+FFFD (3). */
    if (!reserve(w, len * 6 + 2))
        return;
    char *o = w->p + w->len;
    *o++ = '"';
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        unsigned c = u[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            *o++ = (char)c;
            i++;
        } else if (c < 0x80) {
            *o++ = '\\';
            switch (c) {
            case '"': *o++ = '"'; break;
            case '\\': *o++ = '\\'; break;
            case '\n': *o++ = 'n'; break;
            case '\r': *o++ = 'r'; break;
            case '\t': *o++ = 't'; break;
            case '\b': *o++ = 'b'; break;
            case '\f': *o++ = 'f'; break;
            default:
                o += sprintf(o, "u%04x", c);
            }
            i++;
        } else {
            size_t n = lede_utf8_seq_len(u + i, u + len);
            if (n) {
                memcpy(o, s + i, n);
                o += n;
                i += n;
            } else {
                memcpy(o, "\xef\xbf\xbd", 3);
                o += 3;
                i++;
            }
        }
    }
    *o++ = '"';
    w->len = (size_t)(o - w->p);
}

void jw_cstr(jw *w, const char *s)
{
    jw_str(w, s, s ? strlen(s) : 0);
}

void jw_int(jw *w, long long v)
{
    char buf[32];
    sep(w);
    put(w, buf, (size_t)snprintf(buf, sizeof buf, "%lld", v));
}

/* 8 significant digits, always with a '.' or an exponent so it reads back
 * as a real; JSON has no NaN or infinity (never produced by BM25). */
static size_t format_real(char *buf, size_t cap, double v)
{
    if (!isfinite(v))
        v = 0;
    int n = snprintf(buf, cap, "%.8g", v);
    if (n < 0 || (size_t)n >= cap - 3)
        return 0;
    if (!strpbrk(buf, ".eE")) {
        memcpy(buf + n, ".0", 3);
        n += 2;
    }
    return (size_t)n;
}

void jw_real(jw *w, double v)
{
    char buf[48];
    sep(w);
    put(w, buf, format_real(buf, sizeof buf, v));
}

void jw_bool(jw *w, int v)
{
    sep(w);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(jw *w)
{
    sep(w);
    put(w, "null", 4);
}

size_t jw_placeholder(jw *w, size_t n)
{
    sep(w);
    size_t at = w->len;
    if (reserve(w, n)) {
        memset(w->p + w->len, ' ', n);
        w->len += n;
    }
    return at;
}

void jw_patch_real(jw *w, size_t at, size_t n, double v)
{
    char buf[48];
    size_t len = format_real(buf, sizeof buf, v);
    if (w->failed || len == 0 || len > n || at + n > w->len)
        return;
    memcpy(w->p + at, buf, len);
    /* Close the gap, so the reply reads as if written in one go (a memmove
     * of the rest: microseconds for a large reply). */
    memmove(w->p + at + len, w->p + at + n, w->len - at - n);
    w->len -= n - len;
}

char *jw_finish(jw *w, size_t *len)
{
    put(w, "\n", 1);
    if (w->failed) {
        free(w->p);
        w->p = NULL;
        return NULL;
    }
    *len = w->len;
    char *p = w->p;
    w->p = NULL;
    return p;
}
