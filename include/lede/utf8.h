/* utf8.h: the one UTF-8 validator of liblede and lede-server. Well-formed
 * means RFC 3629: no overlong forms, no UTF-16 surrogates (U+D800..U+DFFF),
 * nothing above U+10FFFF, no stray continuation bytes or truncated
 * sequences. NUL is a valid one-byte character; callers that must refuse it
 * check for it themselves.
 *
 * Every function takes (pointer, end) and reads only bytes before end. */
#ifndef LEDE_UTF8_H
#define LEDE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length (1 to 4) of the well-formed sequence starting at p, or 0 when none
 * starts there (or p >= end). */
size_t lede_utf8_seq_len(const uint8_t *p, const uint8_t *end);

/* Like lede_utf8_seq_len, also storing the code point in *cp when the
 * sequence is well-formed (*cp is left alone otherwise). */
size_t lede_utf8_decode(const uint8_t *p, const uint8_t *end, uint32_t *cp);

/* The length of the longest well-formed prefix of [p, end): the offset of
 * the first byte that does not start a well-formed sequence, or end - p when
 * all of it is well-formed. */
size_t lede_utf8_valid_len(const uint8_t *p, const uint8_t *end);

#endif
