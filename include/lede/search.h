/* search.h: running a query against an open index: options, ranked hits,
 * and the explanation of a hit's score.
 *
 * Query syntax (README "Query syntax"): bare words OR-ed and ranked by BM25,
 * "exact phrase", +required, -excluded, AND, OR, NOT, parentheses, title: /
 * body: scoping, prefix*, and filters source:"Outlet", date>=YYYY-MM-DD,
 * date<..., date:YYYY[-MM[-DD]]. Scoring is BM25 over title+body as one text
 * (k1 = 1.2, b = 0.75 by default) with Lucene's IDF; statistics (N, avgdl,
 * df) are summed over the live segments so a score does not depend on how
 * the index is cut into segments. Ties are broken by insertion order. */
#ifndef LEDE_SEARCH_H
#define LEDE_SEARCH_H

#include "lede/highlight.h"
#include "lede/index.h"
#include "lede/query.h"

typedef struct lede_search_opts {
    const char *query;    /* NUL-terminated UTF-8; NULL when tree is given */
    const lede_query *tree; /* a built query (lede/query.h) instead of the string */
    /* Score with these statistics instead of the index's own (a shard
     * scoring with the whole collection's); they must cover the query
     * (lede_corpus_stats_gather of the same opts), else LEDE_EINVAL. */
    const lede_corpus_stats *stats;
    uint32_t k;           /* hits wanted after offset; 0 = 10 */
    uint32_t offset;      /* hits skipped */
    int exhaustive;       /* 1: score every match (oracle mode) */
    int plain;            /* 1: no operators: every word is an OR-ed term */
    int explain;          /* 1: fill lede_hit.explain */
    double k1, b;         /* 0 and 0 = defaults (1.2, 0.75); b may be set to 0 via b_set */
    int b_set;            /* 1: use b as given, even 0 */
    int ids_only;         /* 1: hits carry only doc.id (no stored-field fetch) */
    int with_body;        /* 1: hits keep the stored body (for snippets) */
    /* Filters, AND-ed with the query (they do not change scores). */
    const char *const *sources; /* only documents of these outlets (ASCII case-insensitive) */
    uint32_t nsources;
    int32_t date_from, date_to; /* yyyymmdd, inclusive; 0 = open-ended */
    int sort;             /* LEDE_SORT_RELEVANCE or LEDE_SORT_DATE */
    /* The keyword column facets and groups are by (lede_column; 0 = source). */
    int column;
    /* 1: fill lede_results.facets: every value of the column among the
     * matches with its match count and its best hit by score. Counts every
     * match (no pruning). */
    int facets;
    /* opts.facets: how many values (in lede_results.facets order) get their
     * best hit's stored fields; the rest carry only its id. */
    uint32_t facet_docs;
    /* opts.facets with opts.sources: 1 = the outlet filter narrows the hits
     * (or groups) and total but not lede_results.facets, which then counts
     * every outlet among the matches of the query and dates (so a page can
     * offer the other outlets while some are selected). Needs column = source. */
    int facets_ignore_sources;
    /* > 0: group the hits by the column's value, this many per value: k and
     * offset then count groups (lede_results.groups), ranked by their first hit. */
    uint32_t group_hits;
    uint32_t budget_ms;   /* 0 = none; else stop after about this long (results.timed_out) */
} lede_search_opts;

enum { LEDE_SORT_RELEVANCE = 0, LEDE_SORT_DATE = 1 /* newest first, ties by score */ };

typedef struct lede_explain_term {
    const char *term;     /* analyzed term; a phrase is its words joined by ' ' */
    const char *field;    /* "all", "title" or "body" */
    uint32_t tf;          /* occurrences in the scored field (phrase: matches) */
    uint64_t df;
    double idf;
    double score;         /* this term's contribution */
} lede_explain_term;

typedef struct lede_explain {
    uint64_t N;
    double avgdl;
    uint32_t doc_len;
    uint32_t nterms;
    lede_explain_term *terms;
} lede_explain;

typedef struct lede_hit {
    double score;
    uint64_t docno;       /* position in the snapshot's document order */
    lede_stored doc;      /* stored fields (body left empty) */
    lede_explain *explain;/* NULL unless asked */
} lede_hit;

/* A value of the column among the matches (opts.facets). */
typedef struct lede_facet {
    const char *value;    /* the value as stored (an outlet's name) */
    uint64_t count;       /* its matching documents */
    lede_hit best;        /* its best-scoring match */
} lede_facet;

/* The hits of one value (opts.group_hits); value NULL for documents with none. */
typedef struct lede_group {
    const char *value;
    uint64_t count;       /* its matching documents */
    uint32_t nhits;
    lede_hit *hits;       /* in the requested sort order */
} lede_group;

typedef struct lede_results {
    uint32_t nhits;
    lede_hit *hits;
    uint64_t total;       /* matching documents counted */
    int total_exact;      /* 0: total is a lower bound (pruning skipped some) */
    int timed_out;        /* 1: the time budget ran out; hits are the best found so far */
    uint64_t postings_scored; /* work done, for benchmarks */
    uint32_t nfacets;     /* opts.facets: values ordered by best score, then name */
    lede_facet *facets;
    uint32_t ngroups;     /* opts.group_hits: the groups of the window (hits is empty) */
    lede_group *groups;
    uint64_t total_groups;/* every value (plus a no-value group) among the matches */
    lede_hl_query terms;  /* what highlighting should mark: the matched (not negated) terms */
} lede_results;

/* Runs opts->query (or opts->tree): plan (parse, prefixes, statistics) ->
 * execute (per segment, pruned or exhaustive) -> collect (top-k, facets,
 * groups) -> fetch (stored fields, explain). On LEDE_ESYNTAX, err->at is
 * the byte offset in the query (in a tree, in the string node's text).
 *
 * Lifetimes: *out is owned by the caller, and every pointer in it (hits'
 * stored fields, explain terms, facet and group values, highlight terms)
 * points into memory *out owns: valid until lede_results_free, even after
 * the index is freed. */
int lede_search(lede_index *ix, const lede_search_opts *opts, lede_results **out, lede_err *err);
void lede_results_free(lede_results *res);

#endif
