/* test_codec.c: round trips and corruption handling of index/base/codec.c:
 * varints at every length boundary, the block codec at every width and
 * block size on random and edge-case lists, truncated input, and CRC-32C
 * against its published check value. */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "tap.h"

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void test_varint(void)
{
    uint64_t values[] = {0, 1, 127, 128, 255, 16383, 16384, (1u << 21) - 1, 1u << 21,
                         UINT32_MAX, (uint64_t)UINT32_MAX + 1, UINT64_MAX - 1, UINT64_MAX};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        uint8_t buf[10];
        size_t n = lede_varint_put(buf, values[i]);
        const uint8_t *p = buf;
        uint64_t back = 0;
        CHECK_EQ_INT(lede_varint_get(&p, buf + n, &back), LEDE_OK);
        CHECK(back == values[i]);
        CHECK(p == buf + n);
        /* Every truncation is an error, never a read past the end. */
        for (size_t cut = 0; cut < n; cut++) {
            p = buf;
            CHECK_EQ_INT(lede_varint_get(&p, buf + cut, &back), LEDE_ECORRUPT);
        }
    }
    uint8_t overlong[11];
    memset(overlong, 0xff, sizeof overlong);
    const uint8_t *p = overlong;
    uint64_t v;
    CHECK_EQ_INT(lede_varint_get(&p, overlong + 11, &v), LEDE_ECORRUPT);
    uint8_t big[5] = {0xff, 0xff, 0xff, 0xff, 0x1f};
    uint32_t v32;
    p = big;
    CHECK_EQ_INT(lede_varint_get32(&p, big + 5, &v32), LEDE_ECORRUPT);
}

static void roundtrip(const uint32_t *in, size_t n)
{
    uint8_t buf[1 + 128 * 4];
    uint32_t out[128];
    size_t len = lede_pack(in, n, buf);
    CHECK(len <= lede_pack_bound(n));
    const uint8_t *p = buf;
    CHECK_EQ_INT(lede_unpack(&p, buf + len, out, n), LEDE_OK);
    CHECK(p == buf + len);
    CHECK(memcmp(in, out, n * sizeof *in) == 0);
    if (len > 1) {
        p = buf;
        CHECK_EQ_INT(lede_unpack(&p, buf + len - 1, out, n), LEDE_ECORRUPT);
    }
}

static void test_block(void)
{
    uint32_t in[128];
    for (unsigned w = 0; w <= 32; w++) {
        for (size_t n = 1; n <= 128; n += (n < 8 ? 1 : 17)) {
            for (size_t i = 0; i < n; i++) {
                uint64_t r = next_rand();
                in[i] = w == 0 ? 0 : (uint32_t)(w == 32 ? r : r & ((1ull << w) - 1));
            }
            if (w)
                in[n - 1] |= 1u << (w - 1); /* force exactly width w */
            roundtrip(in, n);
        }
    }
    for (size_t i = 0; i < 128; i++)
        in[i] = UINT32_MAX;
    roundtrip(in, 128);
    uint8_t bad[2] = {33, 0};
    const uint8_t *p = bad;
    uint32_t out[1];
    CHECK_EQ_INT(lede_unpack(&p, bad + 2, out, 1), LEDE_ECORRUPT);
    p = bad;
    CHECK_EQ_INT(lede_unpack(&p, bad, out, 1), LEDE_ECORRUPT);
}

static void test_crc(void)
{
    CHECK(lede_crc32c(0, "123456789", 9) == 0xe3069283u);
    /* Incremental equals one shot. */
    const char *text = "the quick brown fox jumps over the lazy dog, twice over";
    size_t n = strlen(text);
    uint32_t once = lede_crc32c(0, text, n);
    uint32_t part = lede_crc32c(lede_crc32c(0, text, 13), text + 13, n - 13);
    CHECK(once == part);
}

int main(void)
{
    test_varint();
    test_block();
    test_crc();
    return tap_done();
}
