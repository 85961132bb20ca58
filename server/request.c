/* request.c: the request model of request.h: percent-decoding of request
 * targets and form bodies into path and arguments ('+' is a space in the
 * query string, as browsers and curl --data-urlencode send it), with every
 * malformed escape and every decoded NUL byte reported with its offset. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "request.h"

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..len) into a new NUL-terminated string. plus_space: '+' is ' '.
 * base: offset of s in the whole target, for messages. */
static char *decode(const char *s, size_t len, int plus_space, size_t base, const char *where,
                    size_t *out_len, char *msg, size_t size)
{
    char *out = malloc(len + 1);
    size_t n = 0;
    if (!out) {
        snprintf(msg, size, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            int hi = i + 1 < len ? hexval((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < len ? hexval((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                snprintf(msg, size, "malformed percent-escape at byte %zu of the %s", base + i, where);
                free(out);
                return NULL;
            }
            c = (unsigned char)(hi * 16 + lo);
            if (c == 0) {
                snprintf(msg, size, "NUL byte (%%00) at byte %zu of the %s", base + i, where);
                free(out);
                return NULL;
            }
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        out[n++] = (char)c;
    }
    out[n] = '\0';
    *out_len = n;
    return out;
}

int request_add_arg(request *rq, const char *key, size_t key_len, const char *value,
                    size_t value_len)
{
    if (rq->nargs == rq->cap) {
        size_t cap = rq->cap ? rq->cap * 2 : 8;
        kv *fresh = realloc(rq->args, cap * sizeof *fresh);
        if (!fresh)
            return -1;
        rq->args = fresh;
        rq->cap = cap;
    }
    kv *a = &rq->args[rq->nargs];
    a->key = malloc(key_len + 1);
    a->value = malloc(value_len + 1);
    if (!a->key || !a->value) {
        free(a->key);
        free(a->value);
        return -1;
    }
    memcpy(a->key, key, key_len);
    a->key[key_len] = '\0';
    memcpy(a->value, value, value_len);
    a->value[value_len] = '\0';
    a->key_len = key_len;
    a->value_len = value_len;
    rq->nargs++;
    return 0;
}

static int parse_pairs(request *rq, const char *s, size_t len, size_t base, const char *where,
                       char *msg, size_t size)
{
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && s[end] != '&')
            end++;
        if (end > i) {
            size_t eq = i;
            while (eq < end && s[eq] != '=')
                eq++;
            size_t klen, vlen;
            char *key = decode(s + i, eq - i, 1, base + i, where, &klen, msg, size);
            char *value = key && eq < end
                              ? decode(s + eq + 1, end - eq - 1, 1, base + eq + 1, where, &vlen,
                                       msg, size)
                              : key ? (vlen = 0, strdup("")) : NULL;
            int rc = key && value ? request_add_arg(rq, key, klen, value, vlen) : -1;
            if (rc && key && value)
                snprintf(msg, size, "out of memory");
            free(key);
            free(value);
            if (rc)
                return -1;
        }
        i = end + 1;
    }
    return 0;
}

int request_parse_form(request *rq, const char *s, size_t len, char *msg, size_t size)
{
    return parse_pairs(rq, s, len, 0, "request body", msg, size);
}

int request_parse_target(request *rq, const char *target, size_t len, char *msg, size_t size)
{
    /* An absolute-form target (RFC 9112 3.2.2) is served like its path. */
    size_t start = 0;
    if ((len > 7 && strncasecmp(target, "http://", 7) == 0) ||
        (len > 8 && strncasecmp(target, "https://", 8) == 0)) {
        start = target[4] == ':' ? 7 : 8;
        while (start < len && target[start] != '/' && target[start] != '?')
            start++;
    }
    size_t q = start;
    while (q < len && target[q] != '?' && target[q] != '#')
        q++;
    if (q == start) {
        /* "http://host" or "http://host?x": the path is "/". */
        if (!(rq->path = strdup("/"))) {
            snprintf(msg, size, "out of memory");
            return -1;
        }
        rq->path_len = 1;
    } else if (!(rq->path = decode(target + start, q - start, 0, start, "request target",
                                   &rq->path_len, msg, size))) {
        return -1;
    }
    if (q < len && target[q] == '?') {
        size_t end = q + 1;
        while (end < len && target[end] != '#')
            end++;
        return parse_pairs(rq, target + q + 1, end - q - 1, q + 1, "request target", msg, size);
    }
    return 0;
}

void request_clear(request *rq)
{
    for (size_t i = 0; i < rq->nargs; i++) {
        free(rq->args[i].key);
        free(rq->args[i].value);
    }
    free(rq->args);
    free(rq->path);
    rq->args = NULL;
    rq->path = NULL;
    rq->nargs = rq->cap = 0;
}

void reply_clear(reply *rp)
{
    if (!rp->body_static)
        free(rp->body);
    rp->body = NULL;
    rp->body_static = 0;
    rp->len = 0;
}
