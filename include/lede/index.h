/* index.h: the public face of an index directory: the document record, the
 * writer (add, delete, commit, merge), the reader (open a snapshot of the
 * live segments, fetch stored documents, statistics) and the checker.
 *
 * An index is a directory holding immutable segment files and a manifest
 * that names the live ones; a commit publishes a new manifest atomically
 * (docs/FORMAT.md). A lede_index is safe to use from many threads at once:
 * searches pin the snapshot they started on. */
#ifndef LEDE_INDEX_H
#define LEDE_INDEX_H

#include "lede/lede.h"
#include "lede/analyze.h"
#include "lede/date.h"
#include "lede/schema.h"

/* A string slice; ptr == NULL means the field is absent (JSON null). */
typedef struct lede_str {
    const char *ptr;
    size_t len;
} lede_str;

/* One member a field of the schema (lede/schema.h), in its order. */
#define LEDE_SCHEMA_MEMBER(member, key, ord, flags) lede_str member;

/* One article: id, title, body, source, date, url. All fields borrowed by
 * the writer only during the call. */
typedef struct lede_doc {
    LEDE_SCHEMA_FIELDS(LEDE_SCHEMA_MEMBER)
} lede_doc;

/* lede_parse_date, which reads a document's date, is in lede/date.h. */

/* ---------------------------------------------------------------- writer */

typedef struct lede_writer_opts {
    size_t mem_budget;            /* bytes of pending postings before a flush; 0 = 256 MiB */
    int no_merge;                 /* 1: keep the flushed segments as they are at commit */
    lede_analyzer_opts analyzer;  /* recorded in the index at creation; ignored when opening */
} lede_writer_opts;

typedef struct lede_writer lede_writer;

/* create = 1: start a new index in dir (made if missing); what dir held
 * before stays live until the first commit replaces it. create = 0: open the
 * index in dir to add to it. Only one writer per directory (a lock file). */
int lede_writer_open(const char *dir, const lede_writer_opts *opts, int create,
                     lede_writer **out, lede_err *err);
/* Adds a document; an id seen before (in this writer or the index) replaces
 * the earlier document at commit. A doc without an id is rejected with
 * LEDE_EINVAL (the ingest layer names id-less articles). */
int lede_writer_add(lede_writer *w, const lede_doc *doc, lede_err *err);
/* Marks the document with this id deleted at commit; *found says whether it existed. */
int lede_writer_delete(lede_writer *w, const char *id, size_t len, int *found, lede_err *err);
/* Flushes pending documents, merges (unless no_merge), and publishes. */
int lede_writer_commit(lede_writer *w, lede_err *err);
/* Merges every live segment into one (purging deleted documents) and publishes. */
int lede_writer_merge(lede_writer *w, lede_err *err);
/* Counts: documents added and replaced so far. */
void lede_writer_counts(const lede_writer *w, uint64_t *added, uint64_t *replaced);
/* Discards anything not committed and releases the lock. */
void lede_writer_free(lede_writer *w);

/* ---------------------------------------------------------------- reader */

typedef struct lede_index lede_index;

int lede_index_open(const char *dir, lede_index **out, lede_err *err);
void lede_index_free(lede_index *ix);

typedef struct lede_index_stats {
    uint64_t documents;        /* live documents */
    uint64_t deleted;          /* deleted but not yet purged */
    uint64_t terms;            /* distinct terms (sum over segments) */
    uint64_t segments;
    uint64_t bytes_postings, bytes_positions, bytes_dictionary, bytes_stored, bytes_other;
    double avgdl;
} lede_index_stats;

int lede_index_stats_get(lede_index *ix, lede_index_stats *out, lede_err *err);

/* A stored document, owned by the caller (lede_stored_free). */
typedef struct lede_stored {
    LEDE_SCHEMA_FIELDS(LEDE_SCHEMA_MEMBER)
    char *mem;   /* backing memory */
} lede_stored;

void lede_stored_free(lede_stored *doc);
/* Looks a document up by its id; LEDE_ENOTFOUND if absent or deleted. */
int lede_index_get(lede_index *ix, const char *id, size_t len, lede_stored *out, lede_err *err);

/* The analyzer this index was built with, one per calling thread (owned by
 * the index; valid until lede_index_free). For highlighting and /analyze. */
lede_analyzer *lede_index_analyzer(lede_index *ix, lede_err *err);

/* Verifies every checksum, every decoder's bounds, and that the postings
 * agree with the stored text re-analyzed. Writes one line per fault to
 * report (if non-NULL). Returns 0 when the index is sound. */
typedef void (*lede_report_fn)(void *ctx, const char *line);
int lede_index_check(const char *dir, lede_report_fn report, void *ctx, lede_err *err);

#endif
