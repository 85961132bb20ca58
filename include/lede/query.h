/* query.h: a query as a tree a caller builds without the query-string
 * parser (an Elasticsearch-style DSL, a shard coordinator), the keyword
 * columns a query can filter on and a search can group by, and the corpus
 * statistics a query scores with: readable from an index, summable over
 * indexes, and passable into lede_search, so a shard that scores with the
 * statistics of the whole collection returns exactly the scores one big
 * index of every shard's documents would.
 *
 * Lifetimes: every node belongs to the lede_query_tree that made it and is
 * valid until lede_query_tree_free; text given to a builder is copied. A
 * lede_corpus_stats is owned by its caller (lede_corpus_stats_free). */
#ifndef LEDE_QUERY_H
#define LEDE_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "lede/lede.h"

/* The scored fields: title and body as one text, the title, the body. */
typedef enum lede_field { LEDE_FIELD_ALL = 0, LEDE_FIELD_TITLE = 1, LEDE_FIELD_BODY = 2 } lede_field;

/* Keyword columns: one value per document, matched exactly (ASCII
 * case-insensitive), counted and grouped in flat per-value arrays. */
typedef enum lede_column { LEDE_COLUMN_SOURCE = 0, LEDE_NCOLUMNS = 1 } lede_column;
/* "source" -> LEDE_COLUMN_SOURCE; -1 for a name that is no column. */
int lede_column_by_name(const char *name);
const char *lede_column_name(int column);

/* ---------------------------------------------------------------- trees */

typedef struct lede_query lede_query;
typedef struct lede_query_tree lede_query_tree;

/* How a clause joins its boolean parent: MUST match and score, SHOULD
 * score (and match when the parent has no MUST or FILTER), MUST_NOT match,
 * FILTER match without scoring. */
typedef enum lede_occur { LEDE_MUST = 0, LEDE_SHOULD = 1, LEDE_MUST_NOT = 2, LEDE_FILTER = 3 } lede_occur;

lede_query_tree *lede_query_tree_new(void);
void lede_query_tree_free(lede_query_tree *t);

/* Leaves. Text is analyzed with the searched index's analyzer when the
 * search runs. Each returns NULL only when out of memory. */
/* Every analyzed word of text as a term in field; all_required = 0: any
 * of them matches (ranked by BM25; a repeated word counts once with its
 * repeats as weight, like plain mode), 1: every one must match. Text with
 * no indexed word matches nothing. */
lede_query *lede_query_match(lede_query_tree *t, lede_field field, const char *text, size_t len,
                             int all_required);
/* One already analyzed term (no analysis: what the index holds). */
lede_query *lede_query_term(lede_query_tree *t, lede_field field, const char *term, size_t len);
/* The analyzed words of text as a phrase (one word: a term). */
lede_query *lede_query_phrase(lede_query_tree *t, lede_field field, const char *text, size_t len);
/* Every indexed term that starts with the analyzed word (as word* does). */
lede_query *lede_query_prefix(lede_query_tree *t, lede_field field, const char *word, size_t len);
/* Documents whose column equals value. Scores 0. */
lede_query *lede_query_keyword(lede_query_tree *t, lede_column column, const char *value,
                               size_t len);
/* Documents dated in [from, to] (yyyymmdd, inclusive; 0 = open). Scores 0;
 * undated documents never match. */
lede_query *lede_query_date_range(lede_query_tree *t, int32_t from, int32_t to);
/* Every live document. Scores 0. */
lede_query *lede_query_all(lede_query_tree *t);
/* A query in lede's syntax (docs/QUERY.md), parsed when the search runs;
 * a syntax error reports its byte position inside text. plain = 1: no
 * operators. */
lede_query *lede_query_string(lede_query_tree *t, const char *text, size_t len, int plain);
/* An empty boolean: add clauses with lede_query_add. With no clause it
 * matches nothing. */
lede_query *lede_query_bool(lede_query_tree *t);
/* Adds child to parent (a bool of the same tree). LEDE_EINVAL when parent
 * is no bool, a node of another tree, or child is NULL. */
int lede_query_add(lede_query *parent, lede_occur occur, lede_query *child);
/* Multiplies the node's score (> 0). */
int lede_query_set_boost(lede_query *q, double boost);

/* ---------------------------------------------------------------- statistics */

typedef struct lede_corpus_stats lede_corpus_stats;

/* The statistics of the search opts describes (its query string or tree)
 * over ix: N, the summed field lengths, the df of every term the query
 * scores, and every term each of its prefixes covers. Caller frees. */
struct lede_search_opts;
struct lede_index;
int lede_corpus_stats_gather(struct lede_index *ix, const struct lede_search_opts *opts,
                             lede_corpus_stats **out, lede_err *err);
/* Adds from's counts to into: right when the indexes share no document
 * (shards partition the corpus). On failure into is left partly merged:
 * free it. */
int lede_corpus_stats_merge(lede_corpus_stats *into, const lede_corpus_stats *from,
                            lede_err *err);
void lede_corpus_stats_free(lede_corpus_stats *s);
/* Documents counted (deleted ones still in a segment included, as BM25
 * counts them) and the average length of field. */
uint64_t lede_corpus_stats_docs(const lede_corpus_stats *s);
double lede_corpus_stats_avg_len(const lede_corpus_stats *s, lede_field field);
/* The df of an analyzed term in field as gathered; LEDE_ENOTFOUND when the
 * statistics hold no entry for it. */
int lede_corpus_stats_df(const lede_corpus_stats *s, lede_field field, const char *term,
                         size_t len, uint64_t *df);

/* The df of an analyzed term in field over the whole index. */
int lede_index_term_df(struct lede_index *ix, lede_field field, const char *term, size_t len,
                       uint64_t *df, lede_err *err);

#endif
