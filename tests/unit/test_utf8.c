/* test_utf8.c: unit tests of index/base/utf8.c through lede/utf8.h: a table
 * of sequences at every boundary (the first and last code point of each
 * length, the overlong, surrogate and past-U+10FFFF edges, truncations, stray
 * and missing continuation bytes), the decoded code points, the valid
 * prefix of mixed text, and every 1- to 3-byte sequence (and every 4-byte
 * lead and second byte) against a reference that decodes by the bit
 * patterns and then applies RFC 3629's rules. */
#include <stdio.h>
#include <string.h>

#include "lede/utf8.h"
#include "tap.h"

typedef struct seq {
    const char *bytes;
    size_t len;          /* bytes to pass */
    size_t want;         /* 0: no valid sequence starts here */
    uint32_t cp;
} seq;

#define S(lit, want, cp) {lit, sizeof lit - 1, want, cp}

static const seq TABLE[] = {
    S("\x00", 1, 0x00),
    S("A", 1, 0x41),
    S("\x7F", 1, 0x7F),
    /* two bytes: U+0080..U+07FF */
    S("\xC2\x80", 2, 0x80),
    S("\xC3\xA9", 2, 0xE9),
    S("\xDF\xBF", 2, 0x7FF),
    S("\xC0\x80", 0, 0),          /* overlong NUL */
    S("\xC1\xBF", 0, 0),          /* overlong U+007F */
    S("\xC2", 0, 0),              /* truncated */
    S("\xC2\x7F", 0, 0),          /* not a continuation */
    S("\xC2\xC0", 0, 0),
    /* three bytes: U+0800..U+FFFF without the surrogates */
    S("\xE0\xA0\x80", 3, 0x800),
    S("\xE0\x9F\xBF", 0, 0),      /* overlong U+07FF */
    S("\xE0\x80\x80", 0, 0),
    S("\xE1\x80\x80", 3, 0x1000),
    S("\xEC\xBF\xBF", 3, 0xCFFF),
    S("\xED\x80\x80", 3, 0xD000),
    S("\xED\x9F\xBF", 3, 0xD7FF), /* last before the surrogates */
    S("\xED\xA0\x80", 0, 0),      /* U+D800, first surrogate */
    S("\xED\xBF\xBF", 0, 0),      /* U+DFFF, last surrogate */
    S("\xEE\x80\x80", 3, 0xE000), /* first after them */
    S("\xE2\x80\x99", 3, 0x2019),
    S("\xEF\xBF\xBD", 3, 0xFFFD),
    S("\xEF\xBF\xBF", 3, 0xFFFF),
    S("\xE2\x80", 0, 0),          /* truncated */
    S("\xE2", 0, 0),
    S("\xE2\x28\xA1", 0, 0),
    S("\xE2\x82\x28", 0, 0),
    /* four bytes: U+10000..U+10FFFF */
    S("\xF0\x90\x80\x80", 4, 0x10000),
    S("\xF0\x8F\xBF\xBF", 0, 0),  /* overlong U+FFFF */
    S("\xF0\x80\x80\x80", 0, 0),
    S("\xF0\x9F\x98\x80", 4, 0x1F600),
    S("\xF3\xBF\xBF\xBF", 4, 0xFFFFF),
    S("\xF4\x80\x80\x80", 4, 0x100000),
    S("\xF4\x8F\xBF\xBF", 4, 0x10FFFF),
    S("\xF4\x90\x80\x80", 0, 0),  /* U+110000 */
    S("\xF5\x80\x80\x80", 0, 0),
    S("\xF7\xBF\xBF\xBF", 0, 0),
    S("\xF8\x88\x80\x80\x80", 0, 0), /* five-byte forms are gone */
    S("\xFC\x84\x80\x80\x80\x80", 0, 0),
    S("\xFE", 0, 0),
    S("\xFF", 0, 0),
    S("\xF0\x90\x80", 0, 0),      /* truncated */
    S("\xF0\x90", 0, 0),
    S("\xF0", 0, 0),
    S("\xF0\x90\x80\x7F", 0, 0),
    S("\xF0\x90\xC0\x80", 0, 0),
    /* stray continuation bytes */
    S("\x80", 0, 0),
    S("\xBF", 0, 0),
    S("\x80\x80", 0, 0),
};

static void test_table(void)
{
    for (size_t i = 0; i < sizeof TABLE / sizeof TABLE[0]; i++) {
        const seq *t = &TABLE[i];
        const uint8_t *p = (const uint8_t *)t->bytes;
        uint32_t cp = 0xDEADBEEF;
        size_t n = lede_utf8_seq_len(p, p + t->len);
        size_t d = lede_utf8_decode(p, p + t->len, &cp);
        char detail[96];
        snprintf(detail, sizeof detail, "case %zu: len %zu, decode %zu U+%04X, want %zu U+%04X", i,
                 n, d, (unsigned)cp, t->want, (unsigned)t->cp);
        CHECK_MSG(n == t->want && d == t->want, detail);
        CHECK_MSG(t->want ? cp == t->cp : cp == 0xDEADBEEF, detail);
        /* the validator agrees: a valid sequence alone is all valid */
        size_t valid = lede_utf8_valid_len(p, p + t->len);
        CHECK_MSG(t->want ? valid >= t->want : valid == 0, detail);
        /* one byte short of a valid multi-byte sequence is invalid */
        if (t->want > 1)
            CHECK_MSG(lede_utf8_seq_len(p, p + t->want - 1) == 0, detail);
    }
    const uint8_t one[1] = {'A'};
    CHECK_EQ_INT(lede_utf8_seq_len(one, one), 0);
    CHECK_EQ_INT(lede_utf8_valid_len(one, one), 0);
}

static void test_valid_len(void)
{
    static const struct {
        const char *text;
        size_t len, want;
    } cases[] = {
        {"", 0, 0},
        {"plain ASCII", 11, 11},
        {"caf\xC3\xA9 \xE2\x80\x99s \xF0\x9F\x98\x80", 15, 15},
        {"caf\xC3", 4, 3},                  /* truncated at the end */
        {"ab\x80" "cd", 5, 2},
        {"ab\xED\xA0\x80" "cd", 7, 2},
        {"\xEF\xBB\xBF" "x", 4, 4},         /* a BOM is a character */
        {"a\0b", 3, 3},                     /* NUL is valid */
        {"ok\xF4\x90\x80\x80", 6, 2},
        {"\xC0\xAF", 2, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const uint8_t *p = (const uint8_t *)cases[i].text;
        CHECK_EQ_INT(lede_utf8_valid_len(p, p + cases[i].len), cases[i].want);
    }
}

/* The reference: decode by bit pattern, then RFC 3629's rules. */
static size_t reference(const uint8_t *p, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    size_t len;
    uint32_t v, min;
    if (p[0] < 0x80)
        return *cp = p[0], 1;
    else if ((p[0] & 0xE0) == 0xC0)
        len = 2, v = p[0] & 0x1Fu, min = 0x80;
    else if ((p[0] & 0xF0) == 0xE0)
        len = 3, v = p[0] & 0x0Fu, min = 0x800;
    else if ((p[0] & 0xF8) == 0xF0)
        len = 4, v = p[0] & 0x07u, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (p[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

static void compare(const uint8_t *b, size_t n, long *mismatches)
{
    uint32_t want_cp = 0, got_cp = 0;
    size_t want = reference(b, n, &want_cp);
    size_t got = lede_utf8_decode(b, b + n, &got_cp);
    if (got != want || (want && got_cp != want_cp)) {
        if (++*mismatches <= 5) {
            char detail[96];
            snprintf(detail, sizeof detail, "%02X %02X %02X %02X (n %zu): got %zu, want %zu", b[0],
                     n > 1 ? b[1] : 0, n > 2 ? b[2] : 0, n > 3 ? b[3] : 0, n, got, want);
            tap_fail(__FILE__, __LINE__, "decode == reference", detail);
        }
    }
}

static void test_exhaustive(void)
{
    long mismatches = 0;
    uint8_t b[4];
    for (unsigned x = 0; x < 256; x++) {
        b[0] = (uint8_t)x;
        compare(b, 1, &mismatches);
        for (unsigned y = 0; y < 256; y++) {
            b[1] = (uint8_t)y;
            compare(b, 2, &mismatches);
            for (unsigned z = 0; z < 256; z++) {
                b[2] = (uint8_t)z;
                compare(b, 3, &mismatches);
            }
            /* four bytes: every lead and second byte, the last two at the
             * edges of the continuation range */
            static const uint8_t edge[] = {0x00, 0x7F, 0x80, 0xBF, 0xC0, 0xFF};
            for (size_t i = 0; i < sizeof edge; i++)
                for (size_t j = 0; j < sizeof edge; j++) {
                    b[2] = edge[i];
                    b[3] = edge[j];
                    compare(b, 4, &mismatches);
                }
        }
    }
    CHECK_EQ_INT(mismatches, 0);
}

int main(void)
{
    test_table();
    test_valid_len();
    test_exhaustive();
    return tap_done();
}
