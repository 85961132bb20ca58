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

typedef struct lede_search_opts {
    const char *query;    /* NUL-terminated UTF-8 */
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
    /* 1: fill lede_results.sources: every outlet among the matches with its
     * match count and its best hit by score. Counts every match (no pruning). */
    int facets;
    /* opts.facets: how many outlets (in lede_results.sources order) get their
     * best hit's stored fields; the rest carry only its id. */
    uint32_t facet_docs;
    /* opts.facets with opts.sources: 1 = the outlet filter narrows the hits
     * (or groups) and total but not lede_results.sources, which then counts
     * every outlet among the matches of the query and dates (so a page can
     * offer the other outlets while some are selected). */
    int facets_ignore_sources;
    /* > 0: group the hits by outlet, this many per outlet: k and offset then
     * count groups (lede_results.groups), ranked by their first hit. */
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

/* An outlet among the matches (opts.facets). */
typedef struct lede_source_facet {
    const char *source;   /* the outlet as stored */
    uint64_t count;       /* its matching documents */
    lede_hit best;        /* its best-scoring match */
} lede_source_facet;

/* The hits of one outlet (opts.group_hits); source NULL for documents with none. */
typedef struct lede_group {
    const char *source;
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
    uint32_t nsources;    /* opts.facets: outlets ordered by best score, then name */
    lede_source_facet *sources;
    uint32_t ngroups;     /* opts.group_hits: the groups of the window (hits is empty) */
    lede_group *groups;
    uint64_t total_groups;/* every outlet (plus a no-source group) among the matches */
    lede_hl_query terms;  /* what highlighting should mark: the matched (not negated) terms */
} lede_results;

/* Runs opts->query. On LEDE_ESYNTAX, err->at is the byte offset in the
 * query. *out is owned by the caller (lede_results_free). */
int lede_search(lede_index *ix, const lede_search_opts *opts, lede_results **out, lede_err *err);
void lede_results_free(lede_results *res);

#endif
