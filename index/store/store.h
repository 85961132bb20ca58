/* store/store.h: the private header of the storage layer (index/store/):
 * stored fields, segment files, posting lists and their cursor, the
 * manifest and deletion files, and the open snapshot (struct lede_index).
 * Calls base/ and text/ only; write/ and query/ build on it. */
#ifndef LEDE_STORE_H
#define LEDE_STORE_H

#include <pthread.h>

#include "base/base.h"
#include "text/text.h"

/* ======================================================= docstore.c
 * Stored fields: document records (the fields of lede/schema.h)
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
/* The stored records of blocks [from, to) of a store (0, UINT32_MAX: all
 * of them) in docno order, each block decompressed once. Records whose bit
 * is set in skip (a deletion bitmap, or NULL) are left out, and a block of
 * such records only is not decompressed. Owns its zstd context and block
 * buffer, so each thread walks with its own iterator. */
typedef struct lede_docstore_iter {
    const lede_docstore *ds;
    const uint8_t *skip;
    uint32_t blk, end_blk;      /* the next block to read; the block to stop at */
    uint32_t doc, block_end;    /* the next record's docno; the first docno after the block */
    const uint8_t *p, *e;       /* the unread records of the current block */
    uint8_t *raw;
    size_t cap;
    void *dctx;                 /* ZSTD_DCtx: this header does not include zstd.h */
} lede_docstore_iter;
int lede_docstore_iter_init(lede_docstore_iter *it, const lede_docstore *ds, uint32_t from,
                            uint32_t to, const uint8_t *skip, lede_err *err);
/* LEDE_OK with the next record (*rec, *len: borrowed until the next call or
 * _free) and its docno; LEDE_DONE after the last; LEDE_ECORRUPT (LEDE_ENOMEM)
 * with a message in err for a damaged block, whose remaining records are
 * lost: the next call goes on with the next block. */
int lede_docstore_iter_next(lede_docstore_iter *it, uint32_t *doc, const uint8_t **rec,
                            size_t *len, lede_err *err);
void lede_docstore_iter_free(lede_docstore_iter *it);   /* NULL is fine */

/* ======================================================= segment.c
 * One immutable segment file: see the format description at the top of
 * segment.c (and docs/FORMAT.md). Terms of the title field are stored under
 * the key "\x01" + term; all other keys are title+body terms. */
#define LEDE_SEG_VERSION 2
#define LEDE_TITLE_KEY 0x01
/* The dictionary key of an analyzed term in buf: the term, behind
 * LEDE_TITLE_KEY for the title field. Returns its length, or 0 when it
 * does not fit in cap bytes (no such key can be in a dictionary). */
static inline size_t lede_dict_key(char *buf, size_t cap, const char *term, size_t len, int title)
{
    size_t n = len + (title != 0);
    if (n > cap || n == 0)
        return 0;
    buf[0] = LEDE_TITLE_KEY;
    __builtin_memcpy(buf + (title != 0), term, len);
    return n;
}

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
/* Keyword columns of a segment (lede_column; source is the only one the
 * format stores today): the number of distinct values, a value by its
 * 1-based ordinal, a document's ordinal (0 = none), and the ordinal of a
 * name (ASCII case-insensitive, 0 if absent). */
static inline uint32_t lede_segment_nvalues(const lede_segment *s, int column)
{
    return column == LEDE_COLUMN_SOURCE ? s->nsources : 0;
}
static inline const char *lede_segment_value(const lede_segment *s, int column, uint32_t ord)
{
    return column == LEDE_COLUMN_SOURCE && ord >= 1 && ord <= s->nsources ? s->sources[ord - 1] : NULL;
}
static inline uint32_t lede_segment_doc_value(const lede_segment *s, int column, uint32_t doc)
{
    return column == LEDE_COLUMN_SOURCE ? lede_segment_doc_source(s, doc) : 0;
}
static inline uint32_t lede_segment_value_ord(const lede_segment *s, int column, const char *name)
{
    return column == LEDE_COLUMN_SOURCE ? lede_segment_source_ord(s, name) : 0;
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

/* ======================================================= reader.c
 * An open index: the snapshot of live segments and corpus statistics. */
typedef struct lede_snap_seg {
    lede_segment *seg;
    uint8_t *deleted;        /* bitmap or NULL */
    uint64_t base;           /* docno of its first document in the snapshot */
    /* per keyword column: segment value ordinal -> snapshot value id; [0] = none */
    uint32_t *value_gid[LEDE_NCOLUMNS];
} lede_snap_seg;
#define LEDE_NO_VALUE UINT32_MAX

/* A keyword column over the snapshot: its distinct values, sorted (exact
 * bytes), borrowed from the segments' maps for the life of the index. */
typedef struct lede_snap_column {
    uint32_t nvalues;
    const char **values;
} lede_snap_column;

typedef struct lede_index_analyzer_slot {
    pthread_t thread;
    lede_analyzer *an;
} lede_index_analyzer_slot;

struct lede_index {
    char *dir;
    uint64_t uid;            /* unique in the process, never reused */
    pthread_mutex_t an_lock; /* guards analyzers */
    lede_index_analyzer_slot *analyzers; /* one per thread that asked; owned */
    uint32_t nanalyzers, analyzers_cap;
    lede_manifest manifest;
    uint32_t nsegs;
    lede_snap_seg *segs;
    uint64_t ndocs_total;    /* including deleted */
    uint64_t N;              /* live documents */
    uint64_t N_stats;        /* documents counted by BM25 statistics (deleted ones too) */
    double avgdl, avg_title, avg_body;
    lede_analyzer_opts an_opts;
    char *stopwords_path;
    char *stopwords_text;    /* the stop list as read at open (an_opts points at it) */
    uint64_t sum_doc, sum_title; /* field lengths summed over every document counted in N_stats */
    lede_snap_column columns[LEDE_NCOLUMNS];
};
/* The snapshot-wide value id of doc's value in column, LEDE_NO_VALUE if it has none. */
static inline uint32_t lede_snap_value(const lede_snap_seg *ss, int column, uint32_t doc)
{
    return ss->value_gid[column][lede_segment_doc_value(ss->seg, column, doc)];
}
static inline int lede_is_deleted(const lede_snap_seg *s, uint32_t doc)
{
    return s->deleted && (s->deleted[doc >> 3] >> (doc & 7) & 1);
}
int lede_stored_from_record(const uint8_t *rec, size_t len, lede_stored *out);

#endif
