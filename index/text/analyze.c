/* analyze.c: the analyzer, UTF-8 text to index terms. Owns word splitting,
 * folding (an ASCII fast path, utf8proc NFKC casefold with marks stripped for
 * everything else), the stop set, the Snowball stemmer and the per-analyzer
 * stem cache. docs/ANALYZER.md states the rules this file implements; any
 * change here changes the terms of existing indexes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libstemmer.h>
#include <utf8proc.h>

#include "text/text.h"

/* A word longer than this many bytes (connectors removed) is over-long
 * without being folded. It bounds what one giant "word" costs in time and
 * memory; no real word folds from more than this down to LEDE_MAX_TERM. */
#define MAX_RAW_WORD 1024

/* NFKC + casefold + default-ignorables removed + marks stripped: the only
 * normalization of non-ASCII words. The ASCII fast path must agree with it. */
#define FOLD_OPTIONS                                                                  \
    (UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |       \
     UTF8PROC_IGNORE | UTF8PROC_STRIPMARK)

/* Stemming dominates analysis time and news vocabulary is Zipfian, so a
 * cache of folded word -> stem pairs skips most calls into libstemmer: sets
 * of two 32-byte entries, most recently used first, 1 MiB per analyzer
 * (measured on news: 512 KiB stems twice as often, 2 MiB gains nothing).
 * Two ways keep a frequent word from being evicted by a rare one sharing its
 * slot. Words longer than STEM_CACHE_KEY bytes are rare and skip the cache. */
#define STEM_CACHE_SET_BITS 14
#define STEM_CACHE_KEY 15
/* Both halves are a length byte then up to 15 bytes, zero-padded, so a probe
 * is two 8-byte compares. */
typedef struct stem_entry {
    uint8_t key[STEM_CACHE_KEY + 1];    /* key[0] == 0: empty */
    uint8_t stem[STEM_CACHE_KEY + 1];   /* stems never grow, so they fit */
} stem_entry;

typedef struct stop_word {
    uint32_t off;   /* into stop_words */
    uint32_t len;
} stop_word;

struct lede_analyzer {
    struct sb_stemmer *stemmer;   /* NULL with no_stem */
    stem_entry *stem_cache;
    int no_stem;

    char *stop_words;             /* folded stop words, back to back */
    size_t stop_words_len, stop_words_cap;
    stop_word *stops;             /* one per distinct stop word */
    size_t stop_count, stops_cap;
    lede_htab stop_index;         /* word -> index in stops */

    int32_t *fold_buf;            /* utf8proc's work area, grown on demand */
    size_t fold_cap;              /* in code points, excluding the slot reencode needs */

    char term[LEDE_MAX_TERM + 1];       /* the folded word */
    char token_term[LEDE_MAX_TERM + 1]; /* what the callback sees: stable while
                                           it calls the fold/stem helpers */
    uint8_t raw[MAX_RAW_WORD];          /* a non-ASCII word with connectors removed */
};

/* ---------------------------------------------------------------- classes */

/* Word characters are LETTER..NUMBER; the rest either join two word
 * characters in some contexts (connectors) or separate words. */
enum char_class {
    C_SEP = 0,
    C_LETTER,   /* L* */
    C_MARK,     /* M*: part of the word, stripped by folding */
    C_DIGIT,    /* Nd */
    C_NUMBER,   /* Nl, No: word characters with no number rules */
    C_APOS,     /* ' and U+2019 */
    C_DOT,
    C_COMMA,
    C_JOINER    /* soft hyphen, ZWJ, ZWNJ: invisible, must not split a word */
};
#define IS_WORD(c) ((c) >= C_LETTER && (c) <= C_NUMBER)

static const uint8_t ascii_class[128] = {
    ['A' ... 'Z'] = C_LETTER,
    ['a' ... 'z'] = C_LETTER,
    ['0' ... '9'] = C_DIGIT,
    ['\''] = C_APOS,
    ['.'] = C_DOT,
    [','] = C_COMMA,
};

static int class_of_codepoint(int32_t cp)
{
    if (cp < 0x80)
        return ascii_class[cp];
    switch (cp) {
    case 0x2019:
        return C_APOS;
    case 0x00AD: case 0x200C: case 0x200D:
        return C_JOINER;
    }
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
        return C_LETTER;
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
        return C_MARK;
    case UTF8PROC_CATEGORY_ND:
        return C_DIGIT;
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return C_NUMBER;
    default:
        return C_SEP;
    }
}

/* Class and byte length of the character at t[i] (i < len). A byte that does
 * not start a valid sequence is a one-byte separator, so bad input can only
 * split words, never stall or overrun. */
static inline int char_at(const uint8_t *t, size_t len, size_t i, size_t *n)
{
    if (t[i] < 0x80) {
        *n = 1;
        return ascii_class[t[i]];
    }
    uint32_t cp;
    size_t k = lede_utf8_decode(t + i, t + len, &cp);
    if (k == 0) {
        *n = 1;
        return C_SEP;
    }
    *n = k;
    return class_of_codepoint((int32_t)cp);
}

/* ---------------------------------------------------------------- words */

typedef struct word_span {
    size_t start, end;   /* bytes of the word, connectors included */
    int non_ascii;       /* a word character >= 0x80: needs utf8proc */
    int joined;          /* contains a connector: needs the careful fold */
} word_span;

/* Whether the connector at t[i] (n bytes, class cls) continues the current
 * word. last_cls and last_start describe the word's last non-mark character. */
static bool connector_joins(const uint8_t *t, size_t len, size_t i, size_t n, int cls,
                            int last_cls, size_t last_start, size_t word_start)
{
    size_t j = i + n, m;
    if (j >= len)
        return false;
    int next = char_at(t, len, j, &m);
    switch (cls) {
    case C_APOS:
    case C_JOINER:
        return IS_WORD(next);
    case C_DOT:
        if (last_cls == C_DIGIT)
            return next == C_DIGIT;
        /* Only initials join ("U.S.", "e.g."): joining every letter.letter
         * would glue URLs ("www.cnn.com") and missing spaces ("said.The"). */
        if (last_cls != C_LETTER || next != C_LETTER)
            return false;
        if (last_start != word_start && t[last_start - 1] != '.')
            return false;
        for (j += m; j < len; j += m) {
            int after = char_at(t, len, j, &m);
            if (after != C_MARK)
                return !IS_WORD(after);
        }
        return true;
    case C_COMMA:
        /* A thousands separator: exactly three digits follow, so a list
         * such as "1,2,3" still splits. */
        if (last_cls != C_DIGIT)
            return false;
        for (int k = 0; k < 3; k++) {
            if (j >= len || char_at(t, len, j, &m) != C_DIGIT)
                return false;
            j += m;
        }
        return j >= len || char_at(t, len, j, &m) != C_DIGIT;
    default:
        return false;
    }
}

/* Per byte: 1 for ASCII letters and digits, 2 for the other ASCII bytes
 * (separators or connectors), 0 for bytes of multi-byte sequences. Lets the
 * scanner's inner loops run on the common bytes without decoding. */
enum { B_MULTI = 0, B_ALNUM = 1, B_OTHER = 2 };
static const uint8_t byte_kind[256] = {
    [0x00 ... '0' - 1] = B_OTHER,
    ['0' ... '9'] = B_ALNUM,
    ['9' + 1 ... 'A' - 1] = B_OTHER,
    ['A' ... 'Z'] = B_ALNUM,
    ['Z' + 1 ... 'a' - 1] = B_OTHER,
    ['a' ... 'z'] = B_ALNUM,
    ['z' + 1 ... 0x7F] = B_OTHER,
};

/* Finds the first word at or after *at and moves *at past it; false when
 * none is left. */
static bool next_word(const uint8_t *t, size_t len, size_t *at, word_span *w)
{
    size_t i = *at, n = 1;
    int cls;
    for (;;) {
        while (i < len && byte_kind[t[i]] == B_OTHER)
            i++;
        if (i >= len) {
            *at = len;
            return false;
        }
        if (t[i] < 0x80)
            break;
        cls = char_at(t, len, i, &n);
        if (IS_WORD(cls))
            break;
        i += n;
    }
    /* Locals rather than stores through w: t is a char pointer, so the
     * compiler must assume every store through w may change it. */
    size_t start = i, last_start = i;
    int non_ascii = 0, joined = 0, last_cls = C_SEP;
    for (;;) {
        size_t run = i;
        while (i < len && byte_kind[t[i]] == B_ALNUM)
            i++;
        if (i > run) {
            last_start = i - 1;
            last_cls = ascii_class[t[i - 1]];
        }
        if (i >= len)
            break;
        cls = char_at(t, len, i, &n);
        if (IS_WORD(cls)) {   /* a non-ASCII word character */
            non_ascii = 1;
            if (cls != C_MARK) {
                last_cls = cls;
                last_start = i;
            }
            i += n;
            continue;
        }
        /* Connectors are dropped unfolded, so "don’t" keeps the ASCII path. */
        if (cls == C_SEP || !connector_joins(t, len, i, n, cls, last_cls, last_start, start))
            break;
        joined = 1;
        i += n;
    }
    w->start = start;
    w->end = i;
    w->non_ascii = non_ascii;
    w->joined = joined;
    *at = i;
    return true;
}

/* ---------------------------------------------------------------- folding */

enum { FOLD_OK, FOLD_EMPTY, FOLD_OVERLONG };

/* End of the word without a trailing possessive "'s" / "’s". Only called on
 * joined words, so an apostrophe inside the span is a joining one. */
static size_t cut_possessive(const uint8_t *t, size_t start, size_t end)
{
    if (end - start < 3 || (t[end - 1] | 0x20) != 's')
        return end;
    if (t[end - 2] == '\'')
        return end - 2;
    if (end - start >= 5 && t[end - 4] == 0xE2 && t[end - 3] == 0x80 && t[end - 2] == 0x99)
        return end - 4;
    return end;
}

static int grow_fold_buf(lede_analyzer *an, size_t need)
{
    size_t cap = an->fold_cap;
    while (cap < need)
        cap *= 2;
    int32_t *p = realloc(an->fold_buf, (cap + 1) * sizeof *p);
    if (!p)
        return LEDE_ENOMEM;
    an->fold_buf = p;
    an->fold_cap = cap;
    return LEDE_OK;
}

/* Folds raw (valid UTF-8, connectors removed) with utf8proc into an->term.
 * Folding can turn a word character into punctuation or spaces ("½" ->
 * "1⁄2", U+FDFA -> four words): those are dropped so terms hold only
 * letters, digits and dots between digits. */
static int fold_unicode(lede_analyzer *an, size_t raw_len, size_t *term_len)
{
    utf8proc_ssize_t ncp = utf8proc_decompose(an->raw, (utf8proc_ssize_t)raw_len, an->fold_buf,
                                              (utf8proc_ssize_t)an->fold_cap, FOLD_OPTIONS);
    if (ncp >= 0 && (size_t)ncp > an->fold_cap) {
        if (grow_fold_buf(an, (size_t)ncp) < 0)
            return LEDE_ENOMEM;
        ncp = utf8proc_decompose(an->raw, (utf8proc_ssize_t)raw_len, an->fold_buf,
                                 (utf8proc_ssize_t)an->fold_cap, FOLD_OPTIONS);
    }
    if (ncp >= 0)
        ncp = utf8proc_reencode(an->fold_buf, ncp, FOLD_OPTIONS);
    if (ncp < 0)   /* raw was validated, so only an allocation can fail here */
        return ncp == UTF8PROC_ERROR_NOMEM ? LEDE_ENOMEM : FOLD_EMPTY;

    const uint8_t *f = (const uint8_t *)an->fold_buf;
    size_t flen = (size_t)ncp, out = 0;
    int last = C_SEP, dot_pending = 0;
    for (size_t i = 0; i < flen;) {
        int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(f + i, (utf8proc_ssize_t)(flen - i), &cp);
        if (k <= 0)
            break;
        int cls = class_of_codepoint(cp);
        if (cls == C_APOS && out > 0 && last != C_SEP) {
            if (out + 1 > LEDE_MAX_TERM)
                return FOLD_OVERLONG;
            an->term[out++] = '\'';
            last = C_SEP;
            dot_pending = 0;
        } else if (cls == C_LETTER || cls == C_DIGIT || cls == C_NUMBER) {
            size_t add = (size_t)k + (dot_pending && cls == C_DIGIT);
            if (out + add > LEDE_MAX_TERM)
                return FOLD_OVERLONG;
            if (add > (size_t)k)
                an->term[out++] = '.';
            memcpy(an->term + out, f + i, (size_t)k);
            out += (size_t)k;
            last = cls;
            dot_pending = 0;
        } else {
            dot_pending = cls == C_DOT && last == C_DIGIT;
            last = C_SEP;
        }
        i += (size_t)k;
    }
    an->term[out] = '\0';
    *term_len = out;
    return out ? FOLD_OK : FOLD_EMPTY;
}

/* Folds word w of t into an->term. Returns FOLD_* or a negative lede_rc. */
static int fold_span(lede_analyzer *an, const uint8_t *t, const word_span *w, size_t *term_len)
{
    size_t start = w->start, end = w->end, out = 0;
    if (!w->joined && !w->non_ascii) {
        /* The common case: ASCII letters and digits only. OR-ing 0x20
         * lowercases letters and leaves digits alone. */
        size_t n = end - start;
        if (n > LEDE_MAX_TERM)
            return FOLD_OVERLONG;
        for (size_t k = 0; k < n; k++)
            an->term[k] = (char)(t[start + k] | 0x20);
        an->term[n] = '\0';
        *term_len = n;
        return FOLD_OK;
    }

    end = cut_possessive(t, start, end);
    /* Inside a span every connector joins, so: a dot after a digit is a
     * decimal point and stays; an apostrophe stays, as ASCII "'" (so
     * "he'll" never becomes "hell" nor "we'll" "well"); every other
     * connector is dropped. */
    int last = C_SEP;
    if (!w->non_ascii) {
        for (size_t i = start; i < end; i++) {
            if (t[i] >= 0x80) {   /* a byte of a multi-byte connector */
                if (t[i] == 0xE2 && i + 2 < end && t[i + 1] == 0x80 && t[i + 2] == 0x99) {
                    if (out == LEDE_MAX_TERM)
                        return FOLD_OVERLONG;
                    an->term[out++] = '\'';
                    i += 2;
                }
                continue;
            }
            int cls = ascii_class[t[i]];
            if (cls == C_APOS) {
                if (out == LEDE_MAX_TERM)
                    return FOLD_OVERLONG;
                an->term[out++] = '\'';
                continue;
            }
            if (IS_WORD(cls) || (cls == C_DOT && last == C_DIGIT)) {
                if (out == LEDE_MAX_TERM)
                    return FOLD_OVERLONG;
                an->term[out++] = (char)(t[i] | 0x20);
                if (cls != C_DOT)
                    last = cls;
            }
        }
        an->term[out] = '\0';
        *term_len = out;
        return out ? FOLD_OK : FOLD_EMPTY;
    }

    size_t n;
    for (size_t i = start; i < end; i += n) {
        int cls = char_at(t, end, i, &n);
        if (cls == C_APOS) {
            if (out + 1 > MAX_RAW_WORD)
                return FOLD_OVERLONG;
            an->raw[out++] = '\'';
            continue;
        }
        if (IS_WORD(cls) || (cls == C_DOT && last == C_DIGIT)) {
            if (out + n > MAX_RAW_WORD)
                return FOLD_OVERLONG;
            memcpy(an->raw + out, t + i, n);
            out += n;
            if (cls != C_DOT && cls != C_MARK)
                last = cls;
        }
    }
    return fold_unicode(an, out, term_len);
}

/* ---------------------------------------------------------------- stems, stops */

/* Terms of only digits and dots are numbers, which Snowball leaves alone
 * anyway; skipping it saves the call. */
static bool is_number(const char *s, size_t n)
{
    if (n == 0 || (uint8_t)(s[0] - '0') > 9)
        return false;
    for (size_t i = 1; i < n; i++)
        if ((uint8_t)(s[i] - '0') > 9 && s[i] != '.')
            return false;
    return true;
}

/* Points *out at the stem of term[0..len), valid until the next stemming
 * call on this analyzer. */
static int stem_term(lede_analyzer *an, const char *term, size_t len, const char **out,
                     size_t *out_len)
{
    if (an->no_stem || is_number(term, len)) {
        *out = term;
        *out_len = len;
        return LEDE_OK;
    }
    stem_entry *set = NULL;
    union {
        uint8_t b[STEM_CACHE_KEY + 1];
        uint64_t w[2];
    } probe;
    if (len <= STEM_CACHE_KEY) {
        memset(&probe, 0, sizeof probe);
        probe.b[0] = (uint8_t)len;
        memcpy(probe.b + 1, term, len);
        uint64_t h = (probe.w[0] * 0x9E3779B97F4A7C15u) ^ (probe.w[1] * 0xC2B2AE3D27D4EB4Fu);
        set = &an->stem_cache[2 * (size_t)(h >> (64 - STEM_CACHE_SET_BITS))];
        for (int way = 0; way < 2; way++) {
            if (memcmp(set[way].key, probe.b, sizeof probe) != 0)
                continue;
            if (way == 1) {   /* keep the most recently used first */
                stem_entry hit = set[1];
                set[1] = set[0];
                set[0] = hit;
            }
            *out = (const char *)set[0].stem + 1;
            *out_len = set[0].stem[0];
            return LEDE_OK;
        }
    }
    const sb_symbol *s = sb_stemmer_stem(an->stemmer, (const sb_symbol *)term, (int)len);
    if (!s)
        return LEDE_ENOMEM;
    size_t slen = (size_t)sb_stemmer_length(an->stemmer);
    if (set && slen <= STEM_CACHE_KEY) {
        set[1] = set[0];
        memcpy(set[0].key, probe.b, sizeof probe);
        memset(set[0].stem, 0, sizeof set[0].stem);
        set[0].stem[0] = (uint8_t)slen;
        memcpy(set[0].stem + 1, s, slen);
        *out = (const char *)set[0].stem + 1;
    } else {
        *out = (const char *)s;
    }
    *out_len = slen;
    return LEDE_OK;
}

static bool stop_eq(const void *ctx, uint32_t i, const void *key, size_t len)
{
    const lede_analyzer *an = ctx;
    return an->stops[i].len == len && memcmp(an->stop_words + an->stops[i].off, key, len) == 0;
}

static bool stop_contains(const lede_analyzer *an, const char *term, size_t len)
{
    return lede_htab_find(&an->stop_index, lede_hash(term, len), term, len, stop_eq, an, NULL) !=
           LEDE_HTAB_NONE;
}

static int stop_add(lede_analyzer *an, const char *term, size_t len)
{
    uint32_t hash = lede_hash(term, len), pos;
    if (lede_htab_find(&an->stop_index, hash, term, len, stop_eq, an, &pos) != LEDE_HTAB_NONE)
        return LEDE_OK;
    if (an->stop_words_len + len > an->stop_words_cap) {
        size_t cap = an->stop_words_cap ? an->stop_words_cap * 2 : 4096;
        while (cap < an->stop_words_len + len)
            cap *= 2;
        if (cap > UINT32_MAX)
            return LEDE_ELIMIT;
        char *p = realloc(an->stop_words, cap);
        if (!p)
            return LEDE_ENOMEM;
        an->stop_words = p;
        an->stop_words_cap = cap;
    }
    if (lede_grow((void **)&an->stops, &an->stops_cap, an->stop_count + 1, sizeof *an->stops, 256))
        return LEDE_ENOMEM;
    int rc = lede_htab_insert(&an->stop_index, pos, hash, (uint32_t)an->stop_count);
    if (rc)
        return rc;
    memcpy(an->stop_words + an->stop_words_len, term, len);
    an->stops[an->stop_count++] = (stop_word){(uint32_t)an->stop_words_len, (uint32_t)len};
    an->stop_words_len += len;
    return LEDE_OK;
}

/* Every word of every line is folded exactly like text (not stemmed), so a
 * list entry "Don't" stops "dont" and "don’t" alike. */
static int parse_stopwords(lede_analyzer *an, const char *text, size_t size)
{
    int rc = LEDE_OK;
    for (size_t start = 0; rc == LEDE_OK && start < size;) {
        const char *nl = memchr(text + start, '\n', size - start);
        size_t line_len = nl ? (size_t)(nl - (text + start)) : size - start;
        const char *line = text + start;
        start += line_len + (nl != NULL);
        const char *hash = memchr(line, '#', line_len);
        size_t len = hash ? (size_t)(hash - line) : line_len;
        const uint8_t *t = (const uint8_t *)line;
        size_t at = 0, term_len;
        word_span w;
        while (rc == LEDE_OK && next_word(t, len, &at, &w)) {
            int fold = fold_span(an, t, &w, &term_len);
            if (fold < 0)
                rc = fold;
            else if (fold == FOLD_OK)
                rc = stop_add(an, an->term, term_len);
        }
    }
    return rc;
}

int lede_stopwords_read(const char *path, char **text, size_t *size, lede_err *err)
{
    *text = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return lede_err_set(err, LEDE_EIO, "cannot open stop list %s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = LEDE_OK;
    for (;;) {
        if (len == cap && lede_grow((void **)&buf, &cap, len + 1, 1, 4096)) {
            rc = lede_err_set(err, LEDE_ENOMEM, "out of memory reading stop list %s", path);
            break;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f))
                rc = lede_err_set(err, LEDE_EIO, "cannot read stop list %s: %s", path,
                                  strerror(errno));
            break;
        }
    }
    fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    *text = buf;
    *size = len;
    return LEDE_OK;
}

static int load_stopwords(lede_analyzer *an, const lede_analyzer_opts *opts, lede_err *err)
{
    const char *what = opts->stopwords_path ? opts->stopwords_path : "(in memory)";
    char *owned = NULL;
    const char *text = opts->stopwords_text;
    size_t size = opts->stopwords_size;
    int rc;
    if (!text && (rc = lede_stopwords_read(opts->stopwords_path, &owned, &size, err)))
        return rc;
    if (!text)
        text = owned;
    rc = parse_stopwords(an, text ? text : "", size);
    free(owned);
    if (rc < 0)
        lede_err_set(err, rc, "cannot load stop list %s: %s", what, lede_rc_text(rc));
    return rc;
}

/* ---------------------------------------------------------------- API */

int lede_analyzer_new(const lede_analyzer_opts *opts, lede_analyzer **out, lede_err *err)
{
    if (!out)
        return lede_err_set(err, LEDE_EINVAL, "lede_analyzer_new: out is NULL");
    *out = NULL;
    lede_analyzer *an = calloc(1, sizeof *an);
    if (!an)
        return lede_err_set(err, LEDE_ENOMEM, "cannot allocate an analyzer");
    an->no_stem = opts && opts->no_stem;
    an->fold_cap = 256;
    an->fold_buf = malloc((an->fold_cap + 1) * sizeof *an->fold_buf);
    if (!an->fold_buf)
        goto nomem;
    if (!an->no_stem) {
        an->stem_cache = calloc((size_t)2 << STEM_CACHE_SET_BITS, sizeof *an->stem_cache);
        an->stemmer = sb_stemmer_new("english", NULL);
        if (!an->stem_cache || !an->stemmer)
            goto nomem;
    }
    if (opts && (opts->stopwords_text || opts->stopwords_path)) {
        int rc = load_stopwords(an, opts, err);
        if (rc < 0) {
            lede_analyzer_free(an);
            return rc;
        }
    }
    *out = an;
    return LEDE_OK;
nomem:
    lede_analyzer_free(an);
    return lede_err_set(err, LEDE_ENOMEM, "cannot allocate an analyzer");
}

void lede_analyzer_free(lede_analyzer *an)
{
    if (!an)
        return;
    sb_stemmer_delete(an->stemmer);
    free(an->stem_cache);
    free(an->stop_words);
    free(an->stops);
    lede_htab_free(&an->stop_index);
    free(an->fold_buf);
    free(an);
}

static int analyze(lede_analyzer *an, const char *text, size_t len, uint32_t first_pos,
                   lede_token_fn fn, void *ctx, uint32_t *next_pos, bool stem);

int lede_analyze(lede_analyzer *an, const char *text, size_t len, uint32_t first_pos,
                 lede_token_fn fn, void *ctx, uint32_t *next_pos)
{
    return analyze(an, text, len, first_pos, fn, ctx, next_pos, true);
}

int lede_analyze_words(lede_analyzer *an, const char *text, size_t len, uint32_t first_pos,
                       lede_token_fn fn, void *ctx, uint32_t *next_pos)
{
    return analyze(an, text, len, first_pos, fn, ctx, next_pos, false);
}

static int analyze(lede_analyzer *an, const char *text, size_t len, uint32_t first_pos,
                   lede_token_fn fn, void *ctx, uint32_t *next_pos, bool stem_it)
{
    uint32_t pos = first_pos;
    int rc = LEDE_OK;
    if (!an || (!text && len))
        rc = LEDE_EINVAL;
    else if (len > UINT32_MAX)   /* token offsets are 32-bit */
        rc = LEDE_ELIMIT;
    const uint8_t *t = (const uint8_t *)text;
    size_t at = 0, term_len;
    word_span w;
    while (rc == LEDE_OK && next_word(t, len, &at, &w)) {
        int fold = fold_span(an, t, &w, &term_len);
        if (fold < 0) {
            rc = fold;
            break;
        }
        if (fold == FOLD_EMPTY)   /* only marks or ignorables: not a word */
            continue;
        uint32_t word_pos = pos++;
        if (fold == FOLD_OVERLONG)
            continue;
        if (an->stop_count && stop_contains(an, an->term, term_len))
            continue;
        const char *stem = an->term;
        size_t stem_len = term_len;
        if (stem_it)
            rc = stem_term(an, an->term, term_len, &stem, &stem_len);
        if (rc < 0 || !fn)
            continue;
        if (stem_len > LEDE_MAX_TERM)   /* cannot happen: stems never grow */
            stem_len = LEDE_MAX_TERM;
        if (stem != an->term) {   /* an->term is NUL-terminated already */
            memcpy(an->token_term, stem, stem_len);
            an->token_term[stem_len] = '\0';
            stem = an->token_term;
        }
        lede_token tok = {
            .term = stem,
            .term_len = (uint32_t)stem_len,
            .pos = word_pos,
            .start = (uint32_t)w.start,
            .end = (uint32_t)w.end,
        };
        rc = fn(ctx, &tok);
    }
    if (next_pos)
        *next_pos = pos;
    return rc;
}

size_t lede_fold_word(lede_analyzer *an, const char *word, size_t len, char *out, size_t cap)
{
    if (out && cap)
        out[0] = '\0';
    if (!an || !out || !cap || (!word && len))
        return 0;
    const uint8_t *t = (const uint8_t *)word;
    size_t at = 0, term_len;
    word_span w;
    while (next_word(t, len, &at, &w)) {
        int fold = fold_span(an, t, &w, &term_len);
        if (fold == FOLD_EMPTY)
            continue;
        if (fold != FOLD_OK || term_len >= cap)
            return 0;
        memcpy(out, an->term, term_len + 1);
        return term_len;
    }
    return 0;
}

size_t lede_stem_word(lede_analyzer *an, const char *folded, size_t len, char *out, size_t cap)
{
    if (out && cap)
        out[0] = '\0';
    if (!an || !out || !cap || !folded || len == 0 || len > INT32_MAX)
        return 0;
    const char *stem;
    size_t stem_len;
    if (stem_term(an, folded, len, &stem, &stem_len) < 0 || stem_len >= cap)
        return 0;
    memmove(out, stem, stem_len);
    out[stem_len] = '\0';
    return stem_len;
}
