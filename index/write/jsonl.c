/* jsonl.c: the strict JSON Lines record parser (lede_jsonl_parse: one object
 * per line into a lede_doc); dates are checked by base/date.c. Hand-written
 * so liblede needs no JSON library; every read is checked against the end of
 * the line.
 *
 * Strings without escapes are returned as slices of the line; only escaped
 * strings are decoded, into the caller's scratch buffer. The scratch buffer
 * is sized to the line length before the first decode of a call: decoding
 * never lengthens a string (an escape of 2 to 12 bytes yields 1 to 4 bytes),
 * so every decoded string of the line fits and no pointer into scratch moves
 * during a parse. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "write/write.h"

/* Nested values of ignored keys are skipped recursively; the limit bounds
 * the stack a hostile line can make us use. The record itself is level 1. */
#define JSONL_MAX_DEPTH 64

/* The record's keys are the schema's (lede/schema.h): a key's field is its
 * ordinal, LEDE_NFIELDS for a key that is not one of them. Keys are decoded
 * into a buffer of KEY_MAX bytes, which every key of the schema fits. */
#define KEY_MAX 8
#define KEY_FITS(member, key, ord, flags) \
    _Static_assert(sizeof key - 1 <= KEY_MAX, "JSON key " key " is longer than KEY_MAX");
LEDE_SCHEMA_FIELDS(KEY_FITS)
#define F_OTHER LEDE_NFIELDS

typedef struct field_def {
    const char *key;
    size_t key_len;
    unsigned flags;
} field_def;

static const field_def FIELDS[LEDE_NFIELDS] = {
#define FIELD_DEF(member, key, ord, flags) [ord] = {key, sizeof key - 1, flags},
    LEDE_SCHEMA_FIELDS(FIELD_DEF)
#undef FIELD_DEF
};

typedef struct jparser {
    const char *begin, *p, *end;
    lede_jsonl_scratch *scratch;
    size_t scratch_used;
    bool scratch_ready;      /* scratch holds at least the line length this call */
    lede_err *err;
} jparser;

/* Where a decoded string goes: nowhere (validate only), a caller's small
 * buffer (object keys, compared then dropped), or the scratch buffer. */
enum string_dest { DEST_NONE, DEST_KEY, DEST_SCRATCH };

static int fail_at(jparser *ps, const char *at, const char *what)
{
    return lede_err_set(ps->err, LEDE_EFORMAT, "column %zu: %s", (size_t)(at - ps->begin) + 1,
                        what);
}

static inline void skip_ws(jparser *ps)
{
    const char *p = ps->p, *end = ps->end;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    ps->p = p;
}

/* ------------------------------------------------------------ UTF-8 */

/* Validation is base/utf8.c's; a \u escape is encoded here. */
static size_t utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ------------------------------------------------------------ strings */

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Non-zero if any byte of w is '"', '\\', a control character or non-ASCII.
 * Borrows may flag a byte after a real hit, never report a miss, so this is
 * an exact test for "the word holds something to look at". */
static inline uint64_t word_needs_look(uint64_t w)
{
    uint64_t quote = w ^ (ONES * '"');
    uint64_t bslash = w ^ (ONES * '\\');
    uint64_t special = ((quote - ONES) & ~quote) | ((bslash - ONES) & ~bslash) |
                       ((w - ONES * 0x20) & ~w) | w;
    return special & HIGHS;
}

static inline bool byte_needs_look(unsigned char c)
{
    return c == '"' || c == '\\' || c < 0x20 || c >= 0x80;
}

/* Skips bytes that are plain inside a string; returns the first byte that
 * needs a look, or end. Most of a news article is plain ASCII, so eight
 * bytes at a time pays. */
static inline const char *skip_plain(const char *p, const char *end)
{
    while ((size_t)(end - p) >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        if (word_needs_look(w))
            break;
        p += 8;
    }
    while (p < end && !byte_needs_look((unsigned char)*p))
        p++;
    return p;
}

static int hex4(const char *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (uint32_t)(c - 'A' + 10);
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

/* Output of a string decode; writes beyond cap are counted, not stored, so a
 * too-long key is simply "not one of ours". */
typedef struct string_out {
    char *dst;
    size_t len, cap;
} string_out;

static inline void out_put(string_out *o, const char *src, size_t n)
{
    if (o->dst && o->len + n <= o->cap)
        memcpy(o->dst + o->len, src, n);
    o->len += n;
}

static int scratch_reserve_line(jparser *ps)
{
    size_t need = (size_t)(ps->end - ps->begin) + 1;
    lede_jsonl_scratch *s = ps->scratch;
    if (s->cap < need) {
        char *grown = realloc(s->p, need);
        if (!grown)
            return lede_err_set(ps->err, LEDE_ENOMEM, "out of memory decoding a %zu-byte line",
                                need - 1);
        s->p = grown;
        s->cap = need;
    }
    ps->scratch_ready = true;
    return LEDE_OK;
}

/* Decodes the escape at p (p[0] == '\\') into out; returns the byte after
 * it, or NULL after recording an error. */
static const char *decode_escape(jparser *ps, const char *p, string_out *out)
{
    const char *end = ps->end;
    if (end - p < 2)
        return fail_at(ps, p, "expected an escape character after '\\'"), NULL;
    char one;
    switch (p[1]) {
    case '"': one = '"'; break;
    case '\\': one = '\\'; break;
    case '/': one = '/'; break;
    case 'b': one = '\b'; break;
    case 'f': one = '\f'; break;
    case 'n': one = '\n'; break;
    case 'r': one = '\r'; break;
    case 't': one = '\t'; break;
    case 'u': {
        uint32_t cp, low;
        if (end - p < 6 || hex4(p + 2, &cp) != 0)
            return fail_at(ps, p, "expected 4 hex digits after '\\u'"), NULL;
        const char *next = p + 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return fail_at(ps, p, "lone low surrogate escape (\\uDC00-\\uDFFF)"), NULL;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (end - next < 6 || next[0] != '\\' || next[1] != 'u' || hex4(next + 2, &low) != 0 ||
                low < 0xDC00 || low > 0xDFFF)
                return fail_at(ps, p,
                               "expected a low surrogate escape (\\uDC00-\\uDFFF) after a high "
                               "surrogate"),
                       NULL;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            next += 6;
        }
        char utf8[4];
        out_put(out, utf8, utf8_encode(cp, utf8));
        return next;
    }
    default:
        return fail_at(ps, p, "invalid escape (expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u)"),
               NULL;
    }
    out_put(out, &one, 1);
    return p + 2;
}

/* Parses the string whose opening quote is at ps->p. *out is a slice of the
 * line if the string has no escapes, else the decoded bytes at the
 * destination (for DEST_KEY: keybuf, with out->len the full decoded length,
 * which may exceed keycap). */
static int parse_string(jparser *ps, enum string_dest dest, char *keybuf, size_t keycap,
                        lede_str *out)
{
    const char *start = ps->p + 1, *end = ps->end;
    const char *p = start, *run = start;
    bool escaped = false;
    string_out dec = {NULL, 0, 0};
    for (;;) {
        p = skip_plain(p, end);
        if (p >= end)
            return fail_at(ps, p, "expected '\"' to close the string");
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            break;
        if (c >= 0x80) {
            size_t n = lede_utf8_seq_len((const uint8_t *)p, (const uint8_t *)end);
            if (n == 0)
                return fail_at(ps, p, "invalid UTF-8 in string");
            p += n;
            continue;
        }
        if (c < 0x20)
            return fail_at(ps, p, "control character in string (must be escaped)");
        /* backslash */
        if (!escaped) {
            escaped = true;
            if (dest == DEST_SCRATCH) {
                if (!ps->scratch_ready) {
                    int rc = scratch_reserve_line(ps);
                    if (rc != LEDE_OK)
                        return rc;
                }
                dec.dst = ps->scratch->p + ps->scratch_used;
                dec.cap = ps->scratch->cap - ps->scratch_used;
            } else if (dest == DEST_KEY) {
                dec.dst = keybuf;
                dec.cap = keycap;
            }
        }
        out_put(&dec, run, (size_t)(p - run));
        p = decode_escape(ps, p, &dec);
        if (!p)
            return LEDE_EFORMAT;
        run = p;
    }
    if (!escaped) {
        out->ptr = start;
        out->len = (size_t)(p - start);
    } else {
        out_put(&dec, run, (size_t)(p - run));
        out->ptr = dec.dst;
        out->len = dec.len;
        if (dest == DEST_SCRATCH) {
            if (dec.len > dec.cap)   /* cannot happen: see the file comment */
                return lede_err_set(ps->err, LEDE_EFORMAT, "column %zu: string decodes too long",
                                    (size_t)(start - ps->begin));
            ps->scratch_used += dec.len;
        }
    }
    ps->p = p + 1;
    return LEDE_OK;
}

/* ------------------------------------------------------------ other values */

static inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A JSON number at ps->p; *integer says whether it had neither fraction nor
 * exponent. */
static int parse_number(jparser *ps, lede_str *text, bool *integer)
{
    const char *p = ps->p, *end = ps->end, *start = p;
    *integer = true;
    if (p < end && *p == '-')
        p++;
    if (p < end && *p == '0') {
        p++;
    } else if (p < end && *p >= '1' && *p <= '9') {
        while (p < end && is_digit(*p))
            p++;
    } else {
        return fail_at(ps, p, "expected a digit");
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || !is_digit(*p))
            return fail_at(ps, p, "expected a digit after '.'");
        while (p < end && is_digit(*p))
            p++;
        *integer = false;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !is_digit(*p))
            return fail_at(ps, p, "expected a digit in the exponent");
        while (p < end && is_digit(*p))
            p++;
        *integer = false;
    }
    text->ptr = start;
    text->len = (size_t)(p - start);
    ps->p = p;
    return LEDE_OK;
}

static int parse_literal(jparser *ps, const char *word, size_t len)
{
    if ((size_t)(ps->end - ps->p) < len || memcmp(ps->p, word, len) != 0)
        return lede_err_set(ps->err, LEDE_EFORMAT, "column %zu: expected '%s'",
                            (size_t)(ps->p - ps->begin) + 1, word);
    ps->p += len;
    return LEDE_OK;
}

static int skip_value(jparser *ps, int depth);

/* Skips the object or array at ps->p (its opening bracket); depth is the
 * level of the container being entered. */
static int skip_container(jparser *ps, int depth)
{
    bool object = *ps->p == '{';
    char close = object ? '}' : ']';
    if (depth > JSONL_MAX_DEPTH)
        return lede_err_set(ps->err, LEDE_EFORMAT, "column %zu: nesting deeper than %d levels",
                            (size_t)(ps->p - ps->begin) + 1, JSONL_MAX_DEPTH);
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return LEDE_OK;
    }
    for (;;) {
        int rc;
        if (object) {
            lede_str key;
            if (ps->p >= ps->end || *ps->p != '"')
                return fail_at(ps, ps->p, "expected '\"' to start an object key");
            if ((rc = parse_string(ps, DEST_NONE, NULL, 0, &key)) != LEDE_OK)
                return rc;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':')
                return fail_at(ps, ps->p, "expected ':' after object key");
            ps->p++;
            skip_ws(ps);
        }
        if ((rc = skip_value(ps, depth)) != LEDE_OK)
            return rc;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            skip_ws(ps);
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return LEDE_OK;
        }
        return fail_at(ps, ps->p,
                       object ? "expected ',' or '}' after object member"
                              : "expected ',' or ']' after array element");
    }
}

/* Validates and skips any JSON value at ps->p; depth is the level of the
 * container holding it. */
static int skip_value(jparser *ps, int depth)
{
    if (ps->p >= ps->end)
        return fail_at(ps, ps->p, "expected a value");
    lede_str ignored;
    bool integer;
    switch (*ps->p) {
    case '"': return parse_string(ps, DEST_NONE, NULL, 0, &ignored);
    case '{':
    case '[': return skip_container(ps, depth + 1);
    case 't': return parse_literal(ps, "true", 4);
    case 'f': return parse_literal(ps, "false", 5);
    case 'n': return parse_literal(ps, "null", 4);
    default:
        if (*ps->p == '-' || is_digit(*ps->p))
            return parse_number(ps, &ignored, &integer);
        return fail_at(ps, ps->p, "expected a value");
    }
}

/* ------------------------------------------------------------ the record */

static int field_of_key(const char *k, size_t len)
{
    for (int f = 0; f < LEDE_NFIELDS; f++)
        if (FIELDS[f].key_len == len && memcmp(k, FIELDS[f].key, len) == 0)
            return f;
    return F_OTHER;
}

static lede_str *doc_slot(lede_doc *doc, int f)
{
    switch (f) {
#define FIELD_SLOT(member, key, ord, flags) \
    case ord: return &doc->member;
        LEDE_SCHEMA_FIELDS(FIELD_SLOT)
#undef FIELD_SLOT
    default: return NULL;
    }
}

/* The value of field f: a string or null, and for the key (id) also an
 * integer, since exporters write numeric ids; a date must be a date. */
static int parse_field_value(jparser *ps, int f, lede_str *slot)
{
    const char *at = ps->p;
    bool key = FIELDS[f].flags & LEDE_SCHEMA_KEY;
    char what[96];
    int rc;
    if (at < ps->end && *at == '"') {
        if ((rc = parse_string(ps, DEST_SCRATCH, NULL, 0, slot)) != LEDE_OK)
            return rc;
        if (f == LEDE_FIELD_ORD_date) {
            if (slot->len == 0) {
                slot->ptr = NULL;   /* exporters write "" for an unknown date */
            } else if (lede_parse_date(slot->ptr, slot->len, NULL) != 0) {
                return fail_at(ps, at, "date: expected YYYY-MM-DD");
            }
        }
        return LEDE_OK;
    }
    if (at < ps->end && *at == 'n') {
        if ((rc = parse_literal(ps, "null", 4)) != LEDE_OK)
            return rc;
        slot->ptr = NULL;
        slot->len = 0;
        return LEDE_OK;
    }
    if (key && at < ps->end && (*at == '-' || is_digit(*at))) {
        bool integer;
        if ((rc = parse_number(ps, slot, &integer)) != LEDE_OK)
            return rc;
        if (!integer) {
            snprintf(what, sizeof what, "%s: expected a string or an integer, not a fraction",
                     FIELDS[f].key);
            return fail_at(ps, at, what);
        }
        return LEDE_OK;
    }
    snprintf(what, sizeof what, "%s: expected a string%s or null", FIELDS[f].key,
             key ? ", an integer" : "");
    return fail_at(ps, at, what);
}

static int parse_record(const char *line, size_t len, lede_jsonl_scratch *scratch, lede_doc *doc,
                        lede_err *err)
{
    jparser ps = {.begin = line, .p = line, .end = line + len, .scratch = scratch, .err = err};
    int rc;

    skip_ws(&ps);
    if (ps.p >= ps.end || *ps.p != '{')
        return fail_at(&ps, ps.p, "expected '{' to start the record");
    ps.p++;
    skip_ws(&ps);
    if (ps.p < ps.end && *ps.p == '}') {
        ps.p++;
    } else {
        for (;;) {
            char keybuf[KEY_MAX];
            lede_str key;
            if (ps.p >= ps.end || *ps.p != '"')
                return fail_at(&ps, ps.p, "expected '\"' to start an object key");
            if ((rc = parse_string(&ps, DEST_KEY, keybuf, sizeof keybuf, &key)) != LEDE_OK)
                return rc;
            int f = key.len <= sizeof keybuf ? field_of_key(key.ptr, key.len) : F_OTHER;
            skip_ws(&ps);
            if (ps.p >= ps.end || *ps.p != ':')
                return fail_at(&ps, ps.p, "expected ':' after object key");
            ps.p++;
            skip_ws(&ps);
            if (f == F_OTHER)
                rc = skip_value(&ps, 1);
            else
                rc = parse_field_value(&ps, f, doc_slot(doc, f));
            if (rc != LEDE_OK)
                return rc;
            skip_ws(&ps);
            if (ps.p < ps.end && *ps.p == ',') {
                ps.p++;
                skip_ws(&ps);
                continue;
            }
            if (ps.p < ps.end && *ps.p == '}') {
                ps.p++;
                break;
            }
            return fail_at(&ps, ps.p, "expected ',' or '}' after object member");
        }
    }
    skip_ws(&ps);
    if (ps.p != ps.end)
        return fail_at(&ps, ps.p, "expected end of line after the record");
    return LEDE_OK;
}

int lede_jsonl_parse(const char *line, size_t len, lede_jsonl_scratch *scratch, lede_doc *doc,
                     lede_err *err)
{
    if (!doc || !scratch || (!line && len > 0))
        return lede_err_set(err, LEDE_EINVAL, "lede_jsonl_parse: NULL argument");
    memset(doc, 0, sizeof *doc);
    int rc = parse_record(line, len, scratch, doc, err);
    if (rc != LEDE_OK)
        memset(doc, 0, sizeof *doc);   /* no half-parsed record escapes */
    return rc;
}

void lede_jsonl_scratch_free(lede_jsonl_scratch *scratch)
{
    if (!scratch)
        return;
    free(scratch->p);
    scratch->p = NULL;
    scratch->cap = 0;
}
