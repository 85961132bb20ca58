/* ingest.h: reading news corpora into lede_doc records: JSON Lines
 * (`.jsonl`, or zstd-compressed `.jsonl.zst`, read streaming), and folders of
 * plain-text articles (`*.txt`: id = file name without extension, title =
 * first non-empty line, body = the rest).
 *
 * JSON Lines: one object a line with keys id, title, body, source, date, url
 * (strings or null; numbers accepted for id); other keys are ignored. A line
 * that is not such an object is malformed: by default ingestion stops with
 * LEDE_EFORMAT and a message "FILE:LINE: what is wrong"; with skip_bad the
 * line is counted and skipped. A document without id is named
 * "BASENAME#LINE" (or the file name for a text article). */
#ifndef LEDE_INGEST_H
#define LEDE_INGEST_H

#include "lede/index.h"

/* Called for each document; borrowed fields live until it returns. Return 0
 * to go on; a non-zero value stops ingestion and is returned. */
typedef int (*lede_doc_fn)(void *ctx, const lede_doc *doc);

/* Progress: bytes of input consumed so far and the total (file sizes on
 * disk, compressed if so); called about every 64 KiB of input. */
typedef void (*lede_progress_fn)(void *ctx, uint64_t done_bytes, uint64_t total_bytes,
                                 uint64_t docs);

typedef struct lede_ingest_opts {
    int skip_bad;
    lede_progress_fn progress;   /* may be NULL */
    void *progress_ctx;
    /* With skip_bad, each skipped line is reported here (may be NULL). */
    void (*on_bad)(void *ctx, const char *message);
    void *bad_ctx;
} lede_ingest_opts;

typedef struct lede_ingest_stats {
    uint64_t docs;          /* passed to the callback */
    uint64_t bad;           /* skipped (skip_bad) */
    uint64_t bytes_in;      /* uncompressed input bytes read */
} lede_ingest_stats;

/* Reads the paths in order: files by their extension (.jsonl, .json,
 * .ndjson, .jsonl.zst / .zst; anything else is read as JSON Lines),
 * directories as folders of .txt articles (sorted by name, not recursive).
 * stats accumulates (may be NULL). */
int lede_ingest_paths(const char *const *paths, size_t npaths, const lede_ingest_opts *opts,
                      lede_doc_fn fn, void *ctx, lede_ingest_stats *stats, lede_err *err);

/* Parses one JSON Lines record (no newline) into doc, whose fields point into
 * scratch (decoded strings) or line. scratch is reused between calls: the
 * doc is valid until the next call or lede_jsonl_scratch_free. Returns 0, or
 * LEDE_EFORMAT with a message naming the byte column. */
typedef struct lede_jsonl_scratch { char *p; size_t cap; } lede_jsonl_scratch;
int lede_jsonl_parse(const char *line, size_t len, lede_jsonl_scratch *scratch, lede_doc *doc,
                     lede_err *err);
void lede_jsonl_scratch_free(lede_jsonl_scratch *scratch);

#endif
