/* codec.c: the integer codecs of the index format and its checksum.
 *
 * - Varints: LEB128, 7 bits a byte, low group first, at most 10 bytes.
 * - Block codec: n <= 128 unsigned 32-bit values as one width byte w (0..32)
 *   followed by ceil(n*w/8) bytes holding the values bit-packed at w bits,
 *   least significant bit first. w = 0 means all values are zero.
 * - CRC-32C (Castagnoli), with the SSE4.2 instruction when the CPU has it.
 * Decoders never read at or past `end`: a short buffer is LEDE_ECORRUPT. */
#include <string.h>

#include "base/base.h"

int lede_varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    const uint8_t *q = *p;
    uint64_t result = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (q >= end)
            return LEDE_ECORRUPT;
        uint8_t byte = *q++;
        if (shift == 63 && byte > 1)
            return LEDE_ECORRUPT;
        result |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            *p = q;
            *v = result;
            return LEDE_OK;
        }
    }
    return LEDE_ECORRUPT;
}

int lede_varint_get32(const uint8_t **p, const uint8_t *end, uint32_t *v)
{
    uint64_t wide;
    int rc = lede_varint_get(p, end, &wide);
    if (rc)
        return rc;
    if (wide > UINT32_MAX)
        return LEDE_ECORRUPT;
    *v = (uint32_t)wide;
    return LEDE_OK;
}

size_t lede_pack_bound(size_t n)
{
    return 1 + n * 4;
}

static unsigned bits_needed(uint32_t v)
{
    return v ? 32 - (unsigned)__builtin_clz(v) : 0;
}

size_t lede_pack(const uint32_t *in, size_t n, uint8_t *out)
{
    uint32_t all = 0;
    for (size_t i = 0; i < n; i++)
        all |= in[i];
    unsigned w = bits_needed(all);
    out[0] = (uint8_t)w;
    if (w == 0)
        return 1;
    size_t nbytes = (n * w + 7) / 8;
    uint8_t *o = out + 1;
    uint64_t acc = 0;
    unsigned have = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        acc |= (uint64_t)in[i] << have;
        have += w;
        while (have >= 8) {
            o[k++] = (uint8_t)acc;
            acc >>= 8;
            have -= 8;
        }
    }
    if (have)
        o[k++] = (uint8_t)acc;
    return 1 + nbytes;
}

int lede_unpack(const uint8_t **p, const uint8_t *end, uint32_t *out, size_t n)
{
    const uint8_t *q = *p;
    if (q >= end)
        return LEDE_ECORRUPT;
    unsigned w = *q++;
    if (w > 32)
        return LEDE_ECORRUPT;
    if (w == 0) {
        memset(out, 0, n * sizeof *out);
        *p = q;
        return LEDE_OK;
    }
    size_t nbytes = (n * w + 7) / 8;
    if ((size_t)(end - q) < nbytes)
        return LEDE_ECORRUPT;
    const uint64_t mask = w == 32 ? 0xffffffffu : (((uint64_t)1 << w) - 1);
    /* Fast path: one unaligned 8-byte load per value, while 8 bytes remain
     * inside the packed data; the last few values take the byte loop. */
    size_t i = 0, bit = 0;
    for (; i < n; i++, bit += w) {
        size_t byte = bit >> 3;
        if (byte + 8 > nbytes)
            break;
        uint64_t v;
        memcpy(&v, q + byte, 8);
        out[i] = (uint32_t)((v >> (bit & 7)) & mask);
    }
    size_t k = bit >> 3;
    unsigned skip = bit & 7;
    uint64_t acc = 0;
    unsigned have = 0;
    if (i < n && skip) {
        acc = (uint64_t)q[k++] >> skip;
        have = 8 - skip;
    }
    for (; i < n; i++) {
        while (have < w) {
            acc |= (uint64_t)q[k++] << have;
            have += 8;
        }
        out[i] = (uint32_t)(acc & mask);
        acc >>= w;
        have -= w;
    }
    *p = q + nbytes;
    return LEDE_OK;
}

int lede_unpack_range(const uint8_t *p, const uint8_t *end, size_t n, size_t lo, size_t hi,
                      uint32_t *out)
{
    if (p >= end || lo > hi || hi > n)
        return LEDE_ECORRUPT;
    unsigned w = *p++;
    if (w > 32)
        return LEDE_ECORRUPT;
    size_t nbytes = (n * w + 7) / 8;
    if ((size_t)(end - p) < nbytes)
        return LEDE_ECORRUPT;
    if (w == 0) {
        memset(out, 0, (hi - lo) * sizeof *out);
        return LEDE_OK;
    }
    const uint64_t mask = w == 32 ? 0xffffffffu : (((uint64_t)1 << w) - 1);
    for (size_t i = lo; i < hi; i++) {
        size_t bit = i * w, byte = bit >> 3;
        uint64_t v = 0;
        if (byte + 8 <= nbytes) {
            memcpy(&v, p + byte, 8);
        } else {
            /* Never past the packed bytes: the tail is loaded byte by byte. */
            for (size_t b = 0; byte + b < nbytes; b++)
                v |= (uint64_t)p[byte + b] << (8 * b);
        }
        out[i - lo] = (uint32_t)((v >> (bit & 7)) & mask);
    }
    return LEDE_OK;
}

/* ------------------------------------------------------------ CRC-32C */

static uint32_t crc_table[8][256];
static int crc_ready;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int j = 0; j < 8; j++)
            c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
    __atomic_store_n(&crc_ready, 1, __ATOMIC_RELEASE);
}

static uint32_t crc_soft(uint32_t crc, const uint8_t *p, size_t n)
{
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        v ^= crc;
        crc = crc_table[7][v & 0xff] ^ crc_table[6][(v >> 8) & 0xff] ^
              crc_table[5][(v >> 16) & 0xff] ^ crc_table[4][(v >> 24) & 0xff] ^
              crc_table[3][(v >> 32) & 0xff] ^ crc_table[2][(v >> 40) & 0xff] ^
              crc_table[1][(v >> 48) & 0xff] ^ crc_table[0][v >> 56];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const uint8_t *p, size_t n)
{
    uint64_t c = crc;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--)
        c32 = __builtin_ia32_crc32qi(c32, *p++);
    return c32;
}
#endif

uint32_t lede_crc32c(uint32_t crc, const void *data, size_t n)
{
    crc = ~crc;
#if defined(__x86_64__)
    if (__builtin_cpu_supports("sse4.2"))
        return ~crc_hw(crc, data, n);
#endif
    if (!__atomic_load_n(&crc_ready, __ATOMIC_ACQUIRE))
        crc_init();
    return ~crc_soft(crc, data, n);
}
