/* fuzz_jsonl.c: the fuzz target for liblede's JSON Lines record parser
 * (lede_jsonl_parse, include/lede/ingest.h). Each input is cut at '\n' into
 * lines, and every line is parsed with one scratch buffer reused from line
 * to line, as the ingest reader does. Every outcome is checked:
 *   - an error is LEDE_EFORMAT (or LEDE_ENOMEM) in both rc and err, with a
 *     one-line message "column N: ..." where 1 <= N <= length + 1, and the
 *     doc is left all empty;
 *   - a parsed record's fields are each NULL (absent or null) or a slice of
 *     the line or of the scratch buffer, never anything else; a slice of the
 *     line sits between two '"' (a string without escapes) unless it is the
 *     id written as a number; every field is well-formed UTF-8 (RFC 3629: no
 *     overlongs, surrogates or code points above U+10FFFF);
 *   - jansson agrees: a line lede accepts is a JSON object to jansson too
 *     (which must accept it unless it has duplicate keys, which jansson is
 *     asked to refuse so the comparison is unambiguous, or a number too
 *     big for jansson, which lede keeps as text, or a key with \u0000, which
 *     jansson does not support), and each of the six
 *     keys that jansson sees as a string decodes to the same bytes (but an
 *     empty date, which lede reads as no date).
 * A violation prints the line and aborts, so the fuzzer keeps the input.
 * Built with libFuzzer (-Dfuzz=true, clang; tests/fuzz/run.sh) and, with
 * replay_main.c, as the plain 'fuzz-jsonl-replay' test over
 * tests/fuzz/corpus-jsonl/. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lede/ingest.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static const char *const KEYS[6] = {"id", "title", "body", "source", "date", "url"};

__attribute__((format(printf, 3, 4), noreturn)) static void fail(const char *line, size_t len,
                                                                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz_jsonl: invariant violated: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n  line (%zu bytes): \"", len);
    for (size_t i = 0; i < len && i < 2000; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
            fprintf(stderr, "\\x%02x", c);
        else
            fputc(c, stderr);
    }
    fprintf(stderr, "\"\n");
    abort();
}

/* 1 if s[0..n) is well-formed UTF-8. */
static int utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned min, cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            k = 1, min = 0x80, cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            k = 2, min = 0x800, cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3, min = 0x10000, cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i - 1 < k)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += k + 1;
    }
    return 1;
}

static int inside(const char *p, size_t n, const char *base, size_t cap)
{
    return base && p >= base && n <= cap && (size_t)(p - base) <= cap - n;
}

static void check_error(const char *line, size_t len, int rc, const lede_err *err,
                        const lede_doc *doc)
{
    if (rc != LEDE_EFORMAT && rc != LEDE_ENOMEM)
        fail(line, len, "rc %d (%s) is not LEDE_EFORMAT", rc, lede_rc_name(rc));
    if (err->rc != rc || !err->msg[0] || strchr(err->msg, '\n'))
        fail(line, len, "err.rc %d, message \"%s\" for rc %d", err->rc, err->msg, rc);
    if (rc == LEDE_EFORMAT) {
        unsigned long col;
        if (sscanf(err->msg, "column %lu:", &col) != 1 || col < 1 || col > len + 1)
            fail(line, len, "message \"%s\" names no column inside the line", err->msg);
    }
    const lede_str *f = &doc->id;
    for (int i = 0; i < 6; i++)
        if (f[i].ptr || f[i].len)
            fail(line, len, "a failed parse left field %s set", KEYS[i]);
}

static void check_doc(const char *line, size_t len, const lede_jsonl_scratch *sc,
                      const lede_doc *doc)
{
    const lede_str *f = &doc->id;
    for (int i = 0; i < 6; i++) {
        if (!f[i].ptr) {
            if (f[i].len)
                fail(line, len, "field %s is NULL with length %zu", KEYS[i], f[i].len);
            continue;
        }
        int in_line = inside(f[i].ptr, f[i].len, line, len);
        if (!in_line && !inside(f[i].ptr, f[i].len, sc->p, sc->cap))
            fail(line, len, "field %s points neither into the line nor into scratch", KEYS[i]);
        if (in_line) {
            size_t at = (size_t)(f[i].ptr - line);
            int quoted = at > 0 && line[at - 1] == '"' && at + f[i].len < len &&
                         line[at + f[i].len] == '"';
            if (!quoted && i != 0)
                fail(line, len, "field %s is a slice of the line not between quotes", KEYS[i]);
        }
        if (!utf8_ok((const unsigned char *)f[i].ptr, f[i].len))
            fail(line, len, "field %s is not well-formed UTF-8", KEYS[i]);
    }
    /* jansson's view of the same line. */
    json_error_t je;
    json_t *root = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (!root) {
        /* jansson's own limits: no comparison (lede keeps a number id as
         * its text, whatever its size). */
        if (strstr(je.text, "duplicate") || strstr(je.text, "too big") ||
            strstr(je.text, "overflow") || strstr(je.text, "NUL byte"))
            return;
        fail(line, len, "lede accepts a line jansson refuses: %s", je.text);
    }
    if (!json_is_object(root))
        fail(line, len, "lede accepts a line that is not a JSON object");
    for (int i = 0; i < 6; i++) {
        json_t *v = json_object_get(root, KEYS[i]);
        if (json_is_string(v)) {
            size_t n = json_string_length(v);
            if (i == 4 && n == 0 && !f[i].ptr)
                continue; /* "date": "" is an unknown date (jsonl.c) */
            if (!f[i].ptr || f[i].len != n || memcmp(f[i].ptr, json_string_value(v), n))
                fail(line, len, "field %s differs from jansson's string", KEYS[i]);
        } else if ((!v || json_is_null(v)) && f[i].ptr) {
            fail(line, len, "field %s is set where jansson sees %s", KEYS[i],
                 v ? "null" : "no key");
        }
    }
    json_decref(root);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    lede_jsonl_scratch sc = {0};
    size_t at = 0;
    for (int lines = 0; at <= size && lines < 64; lines++) {
        const unsigned char *nl = memchr(data + at, '\n', size - at);
        size_t len = nl ? (size_t)(nl - (data + at)) : size - at;
        /* An exact-size copy, so a read past the line's end is caught. */
        char *line = malloc(len ? len : 1);
        if (!line)
            abort();
        memcpy(line, data + at, len);
        lede_doc doc;
        memset(&doc, 0xa5, sizeof doc);
        lede_err err;
        lede_err_clear(&err);
        int rc = lede_jsonl_parse(line, len, &sc, &doc, &err);
        if (rc)
            check_error(line, len, rc, &err, &doc);
        else
            check_doc(line, len, &sc, &doc);
        free(line);
        if (!nl)
            break;
        at += len + 1;
    }
    lede_jsonl_scratch_free(&sc);
    return 0;
}
