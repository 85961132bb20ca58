/* base/base.h: the private header of the base layer (index/base/): the
 * per-query arena, the sticky-rc byte buffer, varints and the block codec,
 * CRC-32C, the hash and the hash table, and the monotonic clock. date.c and
 * utf8.c implement public headers (lede/date.h, lede/utf8.h), since
 * lede-server needs them too. Every other layer may include it; it includes
 * only the public headers. */
#ifndef LEDE_BASE_H
#define LEDE_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lede/analyze.h"
#include "lede/date.h"
#include "lede/index.h"
#include "lede/ingest.h"
#include "lede/lede.h"
#include "lede/search.h"
#include "lede/utf8.h"


#define LEDE_UNUSED(x) ((void)(x))
#define LEDE_NO_DOC UINT32_MAX

/* ======================================================= arena.c
 * Per-query bump allocator: many small allocations, one reset. */
typedef struct lede_arena lede_arena;
lede_arena *lede_arena_new(size_t chunk_size);
void *lede_arena_alloc(lede_arena *a, size_t n);          /* 16-aligned; NULL on OOM */
void *lede_arena_zalloc(lede_arena *a, size_t n);
char *lede_arena_strndup(lede_arena *a, const char *s, size_t n);
void lede_arena_reset(lede_arena *a);                      /* keeps the first chunk */
void lede_arena_free(lede_arena *a);

/* ======================================================= buf.c
 * Growable byte buffer with a sticky rc: after a failed growth every put is
 * a no-op and rc stays LEDE_ENOMEM, so builders check once at the end. */
typedef struct lede_buf {
    uint8_t *p;
    size_t len, cap;
    int rc;
} lede_buf;
void lede_buf_grow(lede_buf *b, size_t extra);              /* the slow path of reserve */
static inline void lede_buf_reserve(lede_buf *b, size_t extra)
{
    if (b->cap - b->len < extra || b->rc)
        lede_buf_grow(b, extra);
}
void lede_buf_put(lede_buf *b, const void *data, size_t n);
void lede_buf_putc(lede_buf *b, uint8_t c);
static inline void lede_buf_put_varint(lede_buf *b, uint64_t v);
void lede_buf_put_u32(lede_buf *b, uint32_t v);            /* little-endian */
void lede_buf_put_u64(lede_buf *b, uint64_t v);
void lede_buf_put_str(lede_buf *b, const char *s, size_t n); /* varint length + bytes */
void lede_buf_free(lede_buf *b);
/* Grows the array *arr of elem-byte elements so at least need fit: the
 * capacity doubles from *cap (or from first when 0). On failure *arr and
 * *cap are unchanged and LEDE_ENOMEM is returned. */
int lede_grow(void **arr, size_t *cap, size_t need, size_t elem, size_t first);

/* ======================================================= codec.c
 * LEB128 varints and the block codec for up to 128 unsigned 32-bit integers
 * (one width byte, then the values bit-packed little-endian at that width).
 * Every decoder takes (pointer, end), advances the pointer, and returns
 * LEDE_ECORRUPT rather than read past end. */
#define LEDE_BLOCK 128
static inline size_t lede_varint_put(uint8_t *out, uint64_t v) /* at most 10 bytes */
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}
int lede_varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v);
int lede_varint_get32(const uint8_t **p, const uint8_t *end, uint32_t *v);
size_t lede_pack_bound(size_t n);                           /* max bytes of lede_pack */
size_t lede_pack(const uint32_t *in, size_t n, uint8_t *out);
int lede_unpack(const uint8_t **p, const uint8_t *end, uint32_t *out, size_t n);
/* Random access into one packed block of n values at p: values [lo, hi). */
int lede_unpack_range(const uint8_t *p, const uint8_t *end, size_t n, size_t lo, size_t hi,
                      uint32_t *out);
static inline uint32_t lede_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t lede_get_u64(const uint8_t *p)
{
    return (uint64_t)lede_get_u32(p) | (uint64_t)lede_get_u32(p + 4) << 32;
}
uint32_t lede_crc32c(uint32_t crc, const void *data, size_t n);
/* The one hash of the in-memory tables: 32 bits, 8 bytes at a time. Inline:
 * indexing calls it for every token. */
static inline uint32_t lede_hash(const void *data, size_t n)
{
    const unsigned char *s = data;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    while (n >= 8) {
        uint64_t v;
        __builtin_memcpy(&v, s, 8);
        h = (h ^ v) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
        s += 8;
        n -= 8;
    }
    uint64_t v = 0;
    __builtin_memcpy(&v, s, n);
    h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return (uint32_t)h;
}

/* ======================================================= hashtab.c
 * The one hash table of liblede's in-memory indexes: open addressing with
 * linear probing, a power-of-two capacity, at most half full. It maps keys
 * to entries the caller keeps in its own array and names by index: a slot
 * holds an entry's index and its 32-bit hash, so a probe compares keys only
 * when the hashes agree, and growing rehashes no key. The caller says how a
 * key compares with an entry (eq); static inline look-ups let the compiler
 * inline it, which the indexing hot path (write/pending.c) relies on.
 *
 * A zeroed lede_htab is an empty table. lede_htab_reset empties it in O(1)
 * (pending.c empties a table per document): a slot's ref is base + index +
 * 1, and every ref at or below base is an empty slot. */
#define LEDE_HTAB_NONE UINT32_MAX
#define LEDE_HTAB_MAX ((uint32_t)1 << 30)   /* entries; indexes stay below it */
typedef struct lede_hslot {
    uint32_t hash, ref;
} lede_hslot;
typedef struct lede_htab {
    lede_hslot *slot;    /* NULL until the first insert (or lede_htab_init) */
    uint32_t mask;       /* capacity - 1 */
    uint32_t n;          /* entries */
    uint32_t base, top;  /* refs <= base are empty; top: the largest ref stored */
} lede_htab;
/* Does entry idx of ctx's array hold key[0..len)? */
typedef bool (*lede_htab_eq_fn)(const void *ctx, uint32_t idx, const void *key, size_t len);
/* Optional: room for at least n entries before the first growth. */
int lede_htab_init(lede_htab *t, uint32_t n);
void lede_htab_free(lede_htab *t);             /* NULL or zeroed is fine; t is zeroed */
void lede_htab_reset(lede_htab *t);            /* empties t, keeps its capacity */
size_t lede_htab_bytes(const lede_htab *t);    /* memory of the slots */
int lede_htab_insert_slow(lede_htab *t, uint32_t hash, uint32_t idx);

/* The index of the entry holding key (hash = lede_hash of it, or any hash
 * the caller uses consistently), or LEDE_HTAB_NONE; then *pos, if not
 * NULL, is the slot lede_htab_insert fills. */
static inline uint32_t lede_htab_find(const lede_htab *t, uint32_t hash, const void *key,
                                      size_t len, lede_htab_eq_fn eq, const void *ctx,
                                      uint32_t *pos)
{
    uint32_t i = hash & t->mask;
    if (t->slot) {
        for (;; i = (i + 1) & t->mask) {
            lede_hslot s = t->slot[i];
            if (s.ref <= t->base)
                break;
            if (s.hash == hash && eq(ctx, s.ref - t->base - 1, key, len))
                return s.ref - t->base - 1;
        }
    }
    if (pos)
        *pos = i;
    return LEDE_HTAB_NONE;
}

/* Records entry idx (< LEDE_HTAB_MAX) under hash at pos, which the last
 * lede_htab_find of its key returned (with no insert since); grows the
 * table when it would be more than half full. LEDE_ENOMEM or LEDE_ELIMIT
 * leave the table as it was. */
static inline int lede_htab_insert(lede_htab *t, uint32_t pos, uint32_t hash, uint32_t idx)
{
    if (!t->slot || (uint64_t)(t->n + 1) * 2 > (uint64_t)t->mask + 1 || idx >= LEDE_HTAB_MAX)
        return lede_htab_insert_slow(t, hash, idx);
    uint32_t ref = t->base + idx + 1;
    t->slot[pos] = (lede_hslot){hash, ref};
    if (ref > t->top)
        t->top = ref;
    t->n++;
    return 0;
}

/* The entry in hash's first slot, or LEDE_HTAB_NONE: a guess, no key is
 * compared, for prefetching what a look-up will touch. */
static inline uint32_t lede_htab_peek(const lede_htab *t, uint32_t hash)
{
    if (!t->slot)
        return LEDE_HTAB_NONE;
    uint32_t ref = t->slot[hash & t->mask].ref;
    return ref > t->base ? ref - t->base - 1 : LEDE_HTAB_NONE;
}
static inline void lede_htab_prefetch(const lede_htab *t, uint32_t hash)
{
    if (t->slot)
        __builtin_prefetch(&t->slot[hash & t->mask]);
}

static inline void lede_buf_put_varint(lede_buf *b, uint64_t v)
{
    lede_buf_reserve(b, 10);
    if (b->rc)
        return;
    b->len += lede_varint_put(b->p + b->len, v);
}

/* ======================================================= clock.c */
uint64_t lede_now_ns(void);  /* CLOCK_MONOTONIC, nanoseconds */

#endif
