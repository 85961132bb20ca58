/* index_int.h: the one private header of liblede, with a banner section per
 * .c file. Only index/ includes it; server/ and the tests of the public
 * contract use include/lede/. Unit tests of internal modules may include it. */
#ifndef LEDE_INDEX_INT_H
#define LEDE_INDEX_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lede/analyze.h"
#include "lede/index.h"
#include "lede/ingest.h"
#include "lede/lede.h"
#include "lede/search.h"

#define LEDE_UNUSED(x) ((void)(x))
#define LEDE_NO_DOC UINT32_MAX

/* ======================================================= err.c */
/* (lede_err_* are public; nothing private here.) */

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
void lede_buf_reserve(lede_buf *b, size_t extra);
void lede_buf_put(lede_buf *b, const void *data, size_t n);
void lede_buf_putc(lede_buf *b, uint8_t c);
void lede_buf_put_varint(lede_buf *b, uint64_t v);
void lede_buf_put_u32(lede_buf *b, uint32_t v);            /* little-endian */
void lede_buf_put_u64(lede_buf *b, uint64_t v);
void lede_buf_put_str(lede_buf *b, const char *s, size_t n); /* varint length + bytes */
void lede_buf_free(lede_buf *b);

/* ======================================================= codec.c
 * LEB128 varints and the block codec for up to 128 unsigned 32-bit integers
 * (one width byte, then the values bit-packed little-endian at that width).
 * Every decoder takes (pointer, end), advances the pointer, and returns
 * LEDE_ECORRUPT rather than read past end. */
#define LEDE_BLOCK 128
size_t lede_varint_put(uint8_t *out, uint64_t v);          /* at most 10 bytes */
int lede_varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v);
int lede_varint_get32(const uint8_t **p, const uint8_t *end, uint32_t *v);
size_t lede_pack_bound(size_t n);                           /* max bytes of lede_pack */
size_t lede_pack(const uint32_t *in, size_t n, uint8_t *out);
int lede_unpack(const uint8_t **p, const uint8_t *end, uint32_t *out, size_t n);
static inline uint32_t lede_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t lede_get_u64(const uint8_t *p)
{
    return (uint64_t)lede_get_u32(p) | (uint64_t)lede_get_u32(p + 4) << 32;
}
uint32_t lede_crc32c(uint32_t crc, const void *data, size_t n);

/* ======================================================= qparse.c
 * Query string -> AST, allocated in an arena. Terms are analyzed with the
 * index's analyzer. Semantics of a BOOL node: every must child matches, no
 * must_not child matches, and if there is no must child at least one should
 * child matches (a BOOL with no must and no should matches nothing; the
 * parser puts a Q_ALL in must for a query of only negations/filters). The
 * score is the sum of the matching must and should children's scores;
 * filters and Q_ALL score 0. */
enum { LEDE_FIELD_ALL = 0, LEDE_FIELD_TITLE = 1, LEDE_FIELD_BODY = 2 };

typedef enum lede_qkind {
    Q_TERM,          /* terms[0] in field */
    Q_PHRASE,        /* terms[0..nterms) at relative positions term_pos[] in field */
    Q_PREFIX,        /* every indexed term starting with terms[0]: the longest common
                        prefix of the folded word and its stem ("president*" ->
                        "presid", since stems, not words, are indexed) */
    Q_SOURCE,        /* source equals value (ASCII case-insensitive) */
    Q_DATE,          /* date in [date_lo, date_hi] (yyyymmdd, inclusive) */
    Q_ALL,           /* every live document */
    Q_BOOL
} lede_qkind;

typedef struct lede_qnode lede_qnode;
struct lede_qnode {
    lede_qkind kind;
    uint8_t field;           /* LEDE_FIELD_*, for TERM, PHRASE, PREFIX */
    uint32_t at;             /* byte offset of the clause in the query */
    float boost;             /* query-term weight (1; plain mode: repeats) */
    char **terms;            /* NUL-terminated analyzed terms */
    uint32_t *term_pos;      /* PHRASE: relative positions, term_pos[0] = 0 */
    uint32_t nterms;
    char *value;             /* SOURCE: NUL-terminated, as written */
    int32_t date_lo, date_hi;
    lede_qnode **must, **should, **must_not;
    uint32_t nmust, nshould, nmust_not;
};

/* Parses q[0..len). plain = 1: no operators, every analyzed word becomes a
 * should TERM (repeats merged into one with boost = count). On a syntax
 * error returns LEDE_ESYNTAX with err->at set. */
int lede_qparse(lede_arena *a, lede_analyzer *an, const char *q, size_t len, int plain,
                lede_qnode **out, lede_err *err);
/* Renders the AST as a compact S-expression (for tests and --explain). */
int lede_qnode_dump(const lede_qnode *n, lede_buf *out);

#endif
