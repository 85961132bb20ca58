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

/* ======================================================= analyze.c
 * lede_analyze without the stemming: tokens carry the folded words (stop
 * words still removed), so a caller that sees a word many times can stem it
 * once with lede_stem_word. */
int lede_analyze_words(lede_analyzer *an, const char *text, size_t len, uint32_t first_pos,
                       lede_token_fn fn, void *ctx, uint32_t *next_pos);

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

static inline void lede_buf_put_varint(lede_buf *b, uint64_t v)
{
    lede_buf_reserve(b, 10);
    if (b->rc)
        return;
    b->len += lede_varint_put(b->p + b->len, v);
}

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
    void *aux;               /* search.c's per-leaf statistics; the parser leaves it NULL */
};

/* Parses q[0..len). plain = 1: no operators, every analyzed word becomes a
 * should TERM (repeats merged into one with boost = count). On a syntax
 * error returns LEDE_ESYNTAX with err->at set. */
int lede_qparse(lede_arena *a, lede_analyzer *an, const char *q, size_t len, int plain,
                lede_qnode **out, lede_err *err);
/* Renders the AST as a compact S-expression (for tests and --explain). */
int lede_qnode_dump(const lede_qnode *n, lede_buf *out);

/* ======================================================= docstore.c
 * Stored fields: document records (id, title, body, source, date, url)
 * packed into blocks of about 4 KiB raw, each zstd-compressed. */
typedef struct lede_docstore_writer lede_docstore_writer;
/* Compressed blocks go to emit as soon as they are full, so stored text is
 * written while indexing goes on, never held whole in memory. emit returns
 * 0 or a negative lede_rc. */
typedef int (*lede_emit_fn)(void *ctx, const void *data, size_t n);
lede_docstore_writer *lede_docstore_writer_new(lede_emit_fn emit, void *ctx);
/* Appends a record (encoded by lede_record_encode). */
int lede_docstore_add(lede_docstore_writer *w, const uint8_t *rec, size_t len);
/* Finishes: emits the last block and the block index. */
int lede_docstore_finish(lede_docstore_writer *w);
void lede_docstore_writer_free(lede_docstore_writer *w);

/* Record: a presence byte (bit i = field i present, fields in lede_doc order)
 * then per present field a varint length and the bytes. */
void lede_record_encode(const lede_doc *doc, lede_buf *out);
int lede_record_decode(const uint8_t *p, size_t len, lede_doc *doc);

typedef struct lede_docstore {
    const uint8_t *base;   /* the stored section */
    size_t size;
    uint32_t nblocks;
    uint32_t ndocs;
    const uint8_t *index;  /* nblocks entries: u64 offset, u32 first_doc */
} lede_docstore;
int lede_docstore_open(lede_docstore *ds, const uint8_t *base, size_t size, uint32_t ndocs);
/* Copies doc's raw record into out (decompressing its block). */
int lede_docstore_get(const lede_docstore *ds, uint32_t doc, lede_buf *out, lede_err *err);

/* ======================================================= segment.c
 * One immutable segment file: see the format description at the top of
 * segment.c (and docs/FORMAT.md). Terms of the title field are stored under
 * the key "\x01" + term; all other keys are title+body terms. */
#define LEDE_SEG_VERSION 2
#define LEDE_TITLE_KEY 0x01

typedef struct lede_doc_info {
    uint32_t title_len;    /* indexed tokens in the title */
    uint32_t doc_len;      /* indexed tokens in title + body */
    uint32_t body_start;   /* first position of the body */
    int32_t date;          /* yyyymmdd, 0 = none */
} lede_doc_info;

typedef struct lede_term_entry {
    uint32_t df, df_body;
    uint64_t cf;
    uint64_t post_off, post_len;   /* in the postings section */
    uint64_t pos_off, pos_len;     /* in the positions section (0, 0 for title keys) */
} lede_term_entry;

typedef struct lede_seg_writer lede_seg_writer;
int lede_seg_writer_new(const char *path, lede_seg_writer **out, lede_err *err);
/* Documents first, in docno order. rec is an encoded stored record. */
int lede_seg_writer_add_doc(lede_seg_writer *w, const lede_doc_info *info, const lede_str *id,
                            const lede_str *source, const uint8_t *rec, size_t rec_len);
/* Then terms in strictly increasing key (memcmp) order; for each, postings
 * in increasing doc order. positions is NULL for title keys. */
int lede_seg_writer_begin_term(lede_seg_writer *w, const char *key, size_t len);
int lede_seg_writer_add_posting(lede_seg_writer *w, uint32_t doc, uint32_t tf,
                                const uint32_t *positions);
int lede_seg_writer_end_term(lede_seg_writer *w);
/* Term sinks encode a range of terms apart from the writer (one thread
 * each); appended in key order they give the same file as begin/add/end.
 * Every document must be added before a sink is used. */
typedef struct lede_term_sink lede_term_sink;
int lede_term_sink_new(const lede_seg_writer *w, lede_term_sink **out);
int lede_term_sink_begin(lede_term_sink *k, const char *key, size_t len);
int lede_term_sink_add(lede_term_sink *k, uint32_t doc, uint32_t tf, const uint32_t *positions);
int lede_term_sink_end(lede_term_sink *k);
void lede_term_sink_free(lede_term_sink *k);
/* Appends k's terms after the writer's; k's buffers may be taken over. */
int lede_seg_writer_append_sink(lede_seg_writer *w, lede_term_sink *k);
/* Writes the file (sections, footer) and fsyncs it. */
int lede_seg_writer_finish(lede_seg_writer *w, lede_err *err);
void lede_seg_writer_free(lede_seg_writer *w); /* removes an unfinished file */

/* In file order: stored fields first, so they are written while indexing runs. */
enum { SEC_STORED, SEC_POSTINGS, SEC_POSITIONS, SEC_DICT, SEC_DOCS, SEC_IDS, SEC_COUNT };

typedef struct lede_segment {
    int refs;                 /* atomic */
    char *path;
    uint8_t *map;
    size_t map_len;
    uint32_t ndocs, nterms;
    const uint8_t *sec[SEC_COUNT];
    uint64_t sec_len[SEC_COUNT];
    /* docs section */
    const uint8_t *title_len, *doc_len, *body_start, *date, *source_ord; /* u32 arrays */
    uint32_t nsources;
    const char **sources;     /* sorted, NUL-terminated copies */
    uint64_t sum_title_len, sum_doc_len;
    /* dictionary */
    uint32_t npages;
    const uint8_t *page_index; /* npages u32 offsets into the dict section */
    /* ids */
    const uint8_t *id_off;     /* ndocs u32 offsets into id strings, by docno */
    const uint8_t *id_sorted;  /* ndocs u32 docnos sorted by id */
    const uint8_t *id_strings;
    uint64_t id_strings_len;
    lede_docstore store;
} lede_segment;

int lede_segment_open(const char *path, lede_segment **out, lede_err *err);
void lede_segment_ref(lede_segment *s);
/* Unmaps the pages the checksum pass touched from this process's memory
 * (a writer keeps segments open only for id lookups). */
void lede_segment_drop_pages(lede_segment *s);
void lede_segment_unref(lede_segment *s);
static inline lede_doc_info lede_segment_doc(const lede_segment *s, uint32_t doc)
{
    lede_doc_info d;
    d.title_len = lede_get_u32(s->title_len + 4 * (size_t)doc);
    d.doc_len = lede_get_u32(s->doc_len + 4 * (size_t)doc);
    d.body_start = lede_get_u32(s->body_start + 4 * (size_t)doc);
    d.date = (int32_t)lede_get_u32(s->date + 4 * (size_t)doc);
    return d;
}
/* Exact lookup of a key; LEDE_ENOTFOUND if absent. */
int lede_segment_lookup(const lede_segment *s, const char *key, size_t len, lede_term_entry *out);
/* Calls fn for every key starting with prefix, in order; fn returns non-zero to stop. */
typedef int (*lede_term_fn)(void *ctx, const char *key, size_t len, const lede_term_entry *e);
int lede_segment_scan(const lede_segment *s, const char *prefix, size_t len, lede_term_fn fn,
                      void *ctx);
/* Walks a segment's dictionary in key order. */
#define LEDE_MAX_KEY 256
typedef struct lede_dict_iter {
    const lede_segment *seg;
    uint32_t page;
    const uint8_t *p, *end;
    char key[LEDE_MAX_KEY];
    size_t key_len;
    lede_term_entry e;
} lede_dict_iter;
void lede_dict_iter_init(lede_dict_iter *it, const lede_segment *s);
/* Moves to the next key: 0, LEDE_DONE past the last, LEDE_ECORRUPT. */
int lede_dict_iter_next(lede_dict_iter *it);
/* The id of doc (borrowed from the map). */
lede_str lede_segment_id(const lede_segment *s, uint32_t doc);
/* docno of an id, or LEDE_NO_DOC. */
uint32_t lede_segment_find_id(const lede_segment *s, const char *id, size_t len);
/* Source ordinal (1-based, 0 = none) of a source name, ASCII case-insensitive; 0 if absent. */
uint32_t lede_segment_source_ord(const lede_segment *s, const char *name);
static inline uint32_t lede_segment_doc_source(const lede_segment *s, uint32_t doc)
{
    return lede_get_u32(s->source_ord + 4 * (size_t)doc);
}
/* Verifies every section checksum (done at open too) and the structure of
 * every dictionary page; reports faults through err. */
int lede_segment_verify(const lede_segment *s, lede_err *err);

/* ======================================================= postings.c
 * Encoding of one term's postings (used by the segment writer) and the
 * cursor that reads them.
 * Layout of a term's postings: varint nblocks, then per block a skip entry
 * (varint last_doc delta, doc_bytes, pos_bytes, npairs, then npairs
 * (tf, len-delta) impact pairs), then the blocks: packed doc gaps, packed
 * tf-1. Positions: per block, the concatenated per-doc position gaps in
 * packed chunks of 128. */
typedef struct lede_post_builder lede_post_builder;
lede_post_builder *lede_post_builder_new(void);
void lede_post_builder_reset(lede_post_builder *b);
/* field_len: the scored length of this doc in this field (for impacts). */
void lede_post_builder_add(lede_post_builder *b, uint32_t doc, uint32_t tf, uint32_t field_len,
                           const uint32_t *positions);
/* Appends the encoded postings to post and positions (if with_positions) to pos. */
int lede_post_builder_finish(lede_post_builder *b, lede_buf *post, lede_buf *pos, int with_positions);
void lede_post_builder_free(lede_post_builder *b);

typedef struct lede_impact { uint32_t tf, len; } lede_impact;

typedef struct lede_cursor {
    /* current posting */
    uint32_t doc;            /* LEDE_NO_DOC when exhausted */
    uint32_t df;
    /* block state */
    uint32_t nblocks, block;     /* current block index */
    uint32_t block_n;            /* postings in the current block */
    uint32_t i;                  /* index in the block */
    int decoded;                 /* docs/tfs of `block` decoded */
    uint32_t docs[LEDE_BLOCK], tfs[LEDE_BLOCK];
    uint32_t *pos_buf;           /* positions of the current doc (absolute) */
    uint32_t pos_cap;
    uint32_t pos_start[LEDE_BLOCK + 1]; /* index of each doc's first position in the block */
    const uint8_t *chunk_p;      /* a position chunk of the block, NULL = its start */
    uint32_t chunk_idx;          /* which chunk chunk_p points at */
    /* skip data */
    uint32_t *last_doc;          /* per block */
    uint64_t *doc_off, *pos_off; /* per block, relative offsets */
    float *block_max;            /* per block score bound (filled by the scorer) */
    lede_impact *impacts;        /* all pairs, flattened */
    uint32_t *impact_start;      /* nblocks + 1 */
    const uint8_t *post, *post_end, *blocks;
    const uint8_t *pos, *pos_end;
    int rc;                      /* sticky: LEDE_ECORRUPT once seen */
    lede_arena *arena;
} lede_cursor;

/* Opens a cursor on e's postings in seg, positioned on the first doc.
 * Memory from arena. */
int lede_cursor_open(lede_cursor *c, const lede_segment *seg, const lede_term_entry *e,
                     lede_arena *arena);
/* Advances to the first doc >= target (target > doc); sets doc = LEDE_NO_DOC at end. */
void lede_cursor_next_geq(lede_cursor *c, uint32_t target);
static inline void lede_cursor_next(lede_cursor *c)
{
    lede_cursor_next_geq(c, c->doc + 1);
}
uint32_t lede_cursor_tf(lede_cursor *c);
/* Positions of the current doc (absolute, increasing); NULL on corruption. */
const uint32_t *lede_cursor_positions(lede_cursor *c, uint32_t *n);
/* Index of the block that holds target (or nblocks if past the end), without decoding. */
uint32_t lede_cursor_block_of(const lede_cursor *c, uint32_t target);

/* ======================================================= pending.c
 * In-memory inversion of the documents added since the last flush. Documents
 * stream into a segment writer as they arrive (stored fields, lengths);
 * postings stay in memory until flush writes the terms. */
typedef struct lede_pending lede_pending;
/* an analyzes in the caller's thread; no_stem is the index's setting, used
 * by the inverter's own stemmer. */
int lede_pending_new(const char *seg_path, lede_analyzer *an, int no_stem, lede_pending **out,
                     lede_err *err);
/* Analyzes and adds doc; its docno in the segment is returned in *docno. */
int lede_pending_add(lede_pending *p, const lede_doc *doc, uint32_t *docno, lede_err *err);
size_t lede_pending_bytes(const lede_pending *p);  /* memory held, for the budget */
/* Writes the segment file. The pending object is spent afterwards. */
int lede_pending_flush(lede_pending *p, lede_err *err);
void lede_pending_free(lede_pending *p);   /* an unflushed segment file is removed */

/* ======================================================= manifest.c
 * The list of live segments and the analyzer settings, published
 * atomically: MANIFEST.tmp is written and fsynced, renamed over MANIFEST,
 * and the directory fsynced. Deletions are bitmaps in "<segment>.<gen>.del"
 * files named by the manifest. */
typedef struct lede_manifest_seg {
    char name[64];          /* file name inside the index directory */
    uint32_t ndocs;
    char del[80];           /* deletion file name, "" if none */
} lede_manifest_seg;

typedef struct lede_manifest {
    uint64_t generation;
    uint64_t next_segment;
    int no_stem;
    int has_stopwords;      /* stopwords.txt in the index directory */
    uint32_t nsegs;
    lede_manifest_seg *segs;
} lede_manifest;

int lede_manifest_read(const char *dir, lede_manifest *m, lede_err *err);
int lede_manifest_write(const char *dir, const lede_manifest *m, lede_err *err);
void lede_manifest_clear(lede_manifest *m);
/* Deletion bitmaps: bit d set = doc d deleted. bits has (ndocs+7)/8 bytes. */
int lede_del_read(const char *dir, const char *name, uint32_t ndocs, uint8_t **bits, lede_err *err);
int lede_del_write(const char *dir, const char *name, uint32_t ndocs, const uint8_t *bits,
                   lede_err *err);
/* Joins dir and name into a malloc'd path. */
char *lede_path_join(const char *dir, const char *name);
int lede_fsync_dir(const char *dir, lede_err *err);

/* ======================================================= merge.c
 * Merges segments (skipping deleted documents) into one new segment file,
 * keeping document order. */
typedef struct lede_merge_input {
    lede_segment *seg;
    const uint8_t *deleted;   /* bitmap or NULL */
} lede_merge_input;
int lede_merge_segments(const lede_merge_input *in, size_t n, const char *out_path,
                        uint32_t *out_ndocs, lede_err *err);

/* ======================================================= reader.c
 * An open index: the snapshot of live segments and corpus statistics. */
typedef struct lede_snap_seg {
    lede_segment *seg;
    uint8_t *deleted;        /* bitmap or NULL */
    uint64_t base;           /* docno of its first document in the snapshot */
    uint32_t *source_gid;    /* segment source ordinal -> snapshot source id; [0] = none */
} lede_snap_seg;
#define LEDE_NO_SOURCE UINT32_MAX

struct lede_index {
    char *dir;
    lede_manifest manifest;
    uint32_t nsegs;
    lede_snap_seg *segs;
    uint64_t ndocs_total;    /* including deleted */
    uint64_t N;              /* live documents */
    uint64_t N_stats;        /* documents counted by BM25 statistics (deleted ones too) */
    double avgdl, avg_title, avg_body;
    lede_analyzer_opts an_opts;
    char *stopwords_path;
    uint32_t nsources;       /* distinct source names over the snapshot (exact bytes) */
    const char **sources;    /* sorted; borrowed from the segments */
};
static inline int lede_is_deleted(const lede_snap_seg *s, uint32_t doc)
{
    return s->deleted && (s->deleted[doc >> 3] >> (doc & 7) & 1);
}
int lede_stored_from_record(const uint8_t *rec, size_t len, lede_stored *out);

/* ======================================================= retrieve.c
 * Query iterators over one segment and the top-k algorithms. Every iterator
 * can advance to the first match >= a target, score the current doc, and
 * bound the score of any doc in [target, *upto] (block-max data). */
typedef struct lede_scoring {
    double k1, b;
    double avg[3];            /* average length per LEDE_FIELD_* */
} lede_scoring;

/* Per-leaf statistics gathered over the whole snapshot (search.c). */
typedef struct lede_leaf {
    uint32_t nterms;
    char **keys;              /* dictionary keys per term (title field: "\x01" + term) */
    size_t *key_lens;
    double *idf;              /* per term */
    uint64_t *df;             /* per term, summed over segments */
    double weight;            /* sum of idf x boost: the leaf's BM25 weight */
} lede_leaf;

typedef struct lede_qit lede_qit;
struct lede_qit {
    uint32_t doc;             /* current match, LEDE_NO_DOC at the end */
    double max_score;         /* bound over the whole segment */
    uint64_t cost;            /* an estimate of the number of matches */
    /* Set by the top-k algorithm: a match scoring no more than this cannot
     * matter, so an iterator with costly confirmation (a phrase) may skip
     * documents whose bound is below it. 0 = no hint. */
    double min_score;
    int skipped;              /* 1 once min_score made it pass over a match */
    void (*advance)(lede_qit *it, uint32_t target);
    double (*score)(lede_qit *it);
    double (*bound)(lede_qit *it, uint32_t target, uint32_t *upto);
    uint32_t (*freq)(lede_qit *it);   /* tf (phrase: matches) at doc, for explain */
};

typedef struct lede_topk_entry {
    double score;
    uint64_t docno;           /* global: segment base + local doc */
    uint32_t seg, doc;
    int32_t date;             /* yyyymmdd; read only by a by_date top-k */
} lede_topk_entry;

typedef struct lede_topk {
    lede_topk_entry *heap;    /* min-heap by (score, then larger docno first) */
    uint32_t n, cap;
    double threshold;         /* score to beat once full; -inf before */
    int by_date;              /* 1: order by (date, score, smaller docno) instead */
} lede_topk;

/* Exhaustive runs hand every live match to a collector when one is set
 * (facets, groups, date order) instead of pushing it to the top-k. */
typedef void (*lede_collect_fn)(void *ctx, double score, const lede_snap_seg *ss,
                                uint32_t seg_index, uint32_t doc);

typedef struct lede_run_stats {
    uint64_t matched;         /* documents fully evaluated and matching */
    uint64_t scored;          /* postings scored */
    int pruned;               /* 1 if any document or block was skipped by threshold */
    int rc;                   /* corruption seen by an iterator */
    lede_collect_fn collect;  /* NULL: push to the top-k */
    void *collect_ctx;
    uint64_t deadline_ns;     /* CLOCK_MONOTONIC; 0 = none */
    int timed_out;            /* set when the deadline passed: the run stopped early */
    uint32_t tick;
} lede_run_stats;

uint64_t lede_now_ns(void);
/* Checked once every 1024 calls, so the clock costs nothing measurable. */
static inline int lede_out_of_time(lede_run_stats *st)
{
    if (!st->deadline_ns || (++st->tick & 1023) != 0)
        return 0;
    if (lede_now_ns() < st->deadline_ns)
        return 0;
    st->timed_out = 1;
    return 1;
}

/* Builds the iterator tree of q over one segment (leaves' aux must be set). */
int lede_qit_build(const lede_qnode *q, const lede_snap_seg *ss, const lede_scoring *sc,
                   lede_arena *a, lede_qit **out);
/* Runs q over one segment, adding to top: exhaustively (every match
 * scored) or with dynamic pruning (MaxScore with block-max bounds for
 * disjunctions, block-max skipping conjunction when there are required
 * clauses). Both give the same top-k: the oracle tests hold them to it. */
int lede_retrieve(const lede_qnode *q, const lede_snap_seg *ss, uint32_t seg_index,
                  const lede_scoring *sc, lede_arena *a, int exhaustive, lede_topk *top,
                  lede_run_stats *st);
void lede_topk_push(lede_topk *t, double score, uint64_t docno, uint32_t seg, uint32_t doc);
void lede_topk_push_entry(lede_topk *t, const lede_topk_entry *e);
/* Sorts the heap best first (destroys the heap order). */
void lede_topk_sort(lede_topk *t);

#endif
