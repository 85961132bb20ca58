/* write/write.h: the private header of the write layer (index/write/):
 * in-memory inversion (pending) and segment merges; the JSON Lines reader,
 * the ingest readers and the writer implement include/lede/index.h and
 * ingest.h. Calls base/, text/ and store/. */
#ifndef LEDE_WRITE_H
#define LEDE_WRITE_H

#include "store/store.h"

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

/* ======================================================= merge.c
 * Merges segments (skipping deleted documents) into one new segment file,
 * keeping document order. */
typedef struct lede_merge_input {
    lede_segment *seg;
    const uint8_t *deleted;   /* bitmap or NULL */
} lede_merge_input;
int lede_merge_segments(const lede_merge_input *in, size_t n, const char *out_path,
                        uint32_t *out_ndocs, lede_err *err);

#endif
