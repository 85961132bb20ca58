/* buf.c: the growable byte buffer used by every writer in liblede. Its rc is
 * sticky: once growth fails, puts do nothing, so a builder checks b->rc once
 * at the end instead of after every put. */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

void lede_buf_grow(lede_buf *b, size_t extra)
{
    if (b->rc)
        return;
    if (b->cap - b->len >= extra)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra) {
        if (cap > SIZE_MAX / 2) {
            b->rc = LEDE_ENOMEM;
            return;
        }
        cap *= 2;
    }
    uint8_t *p = realloc(b->p, cap);
    if (!p) {
        b->rc = LEDE_ENOMEM;
        return;
    }
    b->p = p;
    b->cap = cap;
}

void lede_buf_put(lede_buf *b, const void *data, size_t n)
{
    if (n == 0)
        return;
    lede_buf_reserve(b, n);
    if (b->rc)
        return;
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

void lede_buf_putc(lede_buf *b, uint8_t c)
{
    lede_buf_put(b, &c, 1);
}

void lede_buf_put_u32(lede_buf *b, uint32_t v)
{
    uint8_t t[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    lede_buf_put(b, t, 4);
}

void lede_buf_put_u64(lede_buf *b, uint64_t v)
{
    lede_buf_put_u32(b, (uint32_t)v);
    lede_buf_put_u32(b, (uint32_t)(v >> 32));
}

void lede_buf_put_str(lede_buf *b, const char *s, size_t n)
{
    lede_buf_put_varint(b, n);
    lede_buf_put(b, s, n);
}

void lede_buf_free(lede_buf *b)
{
    if (!b)
        return;
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->rc = 0;
}

int lede_grow(void **arr, size_t *cap, size_t need, size_t elem, size_t first)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : first;
    while (c < need) {
        if (c > SIZE_MAX / 2 / elem)
            return LEDE_ENOMEM;
        c *= 2;
    }
    void *fresh = realloc(*arr, c * elem);
    if (!fresh)
        return LEDE_ENOMEM;
    *arr = fresh;
    *cap = c;
    return 0;
}
