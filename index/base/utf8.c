/* utf8.c: the strict UTF-8 validator (include/lede/utf8.h) that the JSON
 * Lines reader, the text-folder reader, the highlighter, the suggester and
 * lede-server share. Calls nothing but libc.
 *
 * The check follows the table of RFC 3629 (section 4): the lead byte fixes
 * the length and the allowed range of the second byte, which is where
 * overlongs (E0, F0), surrogates (ED) and code points past U+10FFFF (F4) are
 * refused; every later byte is a plain continuation byte. Checking ranges,
 * not decoding, keeps the common path to compares. */
#include "base/base.h"

size_t lede_utf8_seq_len(const uint8_t *p, const uint8_t *end)
{
    if (p >= end)
        return 0;
    uint8_t c = p[0];
    if (c < 0x80)
        return 1;
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF;   /* the range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0)
            lo = 0xA0;   /* overlong */
        else if (c == 0xED)
            hi = 0x9F;   /* UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0)
            lo = 0x90;   /* overlong */
        else if (c == 0xF4)
            hi = 0x8F;   /* above U+10FFFF */
    } else {
        return 0;   /* a continuation byte, C0/C1 (always overlong) or F5..FF */
    }
    if ((size_t)(end - p) < need || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return need;
}

size_t lede_utf8_decode(const uint8_t *p, const uint8_t *end, uint32_t *cp)
{
    size_t n = lede_utf8_seq_len(p, end);
    if (n == 0)
        return 0;
    static const uint8_t lead_mask[5] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    uint32_t v = p[0] & lead_mask[n];
    for (size_t i = 1; i < n; i++)
        v = v << 6 | (p[i] & 0x3Fu);
    *cp = v;
    return n;
}

size_t lede_utf8_valid_len(const uint8_t *p, const uint8_t *end)
{
    const uint8_t *at = p;
    while (at < end) {
        if (*at < 0x80) {
            at++;
            continue;
        }
        size_t n = lede_utf8_seq_len(at, end);
        if (n == 0)
            break;
        at += n;
    }
    return (size_t)(at - p);
}
