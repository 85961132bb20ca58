/* query/query_int.h: the private header of the query layer (index/query/):
 * the query AST the parser builds, the per-segment iterators, the top-k
 * heap and the retrieval algorithms. Calls base/, text/ and store/; never
 * write/. */
#ifndef LEDE_QUERY_INT_H
#define LEDE_QUERY_INT_H

#include "store/store.h"

/* ======================================================= qparse.c
 * Query string -> AST, allocated in an arena. Terms are analyzed with the
 * index's analyzer. Semantics of a BOOL node: every must child matches, no
 * must_not child matches, and if there is no must child at least one should
 * child matches (a BOOL with no must and no should matches nothing; the
 * parser puts a Q_ALL in must for a query of only negations/filters). The
 * score is the sum of the matching must and should children's scores;
 * filters and Q_ALL score 0. */

typedef enum lede_qkind {
    Q_TERM,          /* terms[0] in field */
    Q_PHRASE,        /* terms[0..nterms) at relative positions term_pos[] in field */
    Q_PREFIX,        /* every indexed term starting with terms[0]: the longest common
                        prefix of the folded word and its stem ("president*" ->
                        "presid", since stems, not words, are indexed) */
    Q_KEYWORD,       /* keyword column `column` equals value (ASCII case-insensitive) */
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
    char *value;             /* KEYWORD: NUL-terminated, as written */
    uint8_t column;          /* KEYWORD: lede_column */
    uint8_t no_score;        /* 1: a filter clause: must match, scores 0 */
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
/* One leaf of include/lede/query.h's trees: the analyzed words of text as
 * a TERM or a PHRASE (an empty BOOL when nothing is indexed), or the PREFIX
 * node of word as `word*` makes it. */
int lede_qparse_text(lede_arena *a, lede_analyzer *an, uint8_t field, const char *text,
                     size_t len, lede_qnode **out, lede_err *err);
int lede_qparse_prefix(lede_arena *a, lede_analyzer *an, uint8_t field, const char *word,
                       size_t len, lede_qnode **out, lede_err *err);
/* Renders the AST as a compact S-expression (for tests and --explain). */
int lede_qnode_dump(const lede_qnode *n, lede_buf *out);

/* ======================================================= iter.c, topk.c, retrieve.c
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

/* Bounds are multiplied by this before a comparison, so a rounding
 * difference between a bound and a score never skips a document. */
#define BOUND_SLACK (1.0 + 1e-9)
#define NO_UPTO (LEDE_NO_DOC - 1)

/* The boolean iterator: the root of every tree lede_qit_build_root makes. */
typedef struct lede_bool_it {
    lede_qit it;
    lede_qit **must;       /* clause order (scores are summed in it) */
    lede_qit **must_lead;  /* cheapest first, for the leapfrog */
    lede_qit **should, **not;
    uint32_t nmust, nshould, nnot;
} lede_bool_it;

typedef struct lede_qit_build_ctx lede_qit_build_ctx;
typedef struct lede_qit_root {
    lede_bool_it *root;
    lede_qit_build_ctx *ctx;  /* the cursors opened, for lede_qit_root_rc */
} lede_qit_root;

/* Builds the iterator tree of q over one segment (leaves' aux must be set). */
int lede_qit_build(const lede_qnode *q, const lede_snap_seg *ss, const lede_scoring *sc,
                   lede_arena *a, lede_qit **out);
/* The tree of q under a boolean root (a lone leaf becomes its one should
 * clause), memory from a. */
int lede_qit_build_root(const lede_qnode *q, const lede_snap_seg *ss, const lede_scoring *sc,
                        lede_arena *a, lede_qit_root *out);
/* Corruption any cursor of the tree ran into (0 if none). */
int lede_qit_root_rc(const lede_qit_root *r);
/* 1 if any of the not clauses matches d (advancing them to d). */
int lede_qit_excluded(lede_qit **not, uint32_t nnot, uint32_t d);
/* Advances every must clause to the first doc >= d they share; LEDE_NO_DOC if none. */
uint32_t lede_qit_leapfrog(lede_qit **m, uint32_t n, uint32_t d);
/* The boolean iterator's score at its current doc (clause order). */
double lede_bool_score(lede_qit *it);

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

/* ======================================================= tree.c
 * The nodes of include/lede/query.h's trees, and their translation into the
 * AST when a search runs (text analyzed with the searched index's analyzer). */
enum { QB_MATCH, QB_TERM, QB_PHRASE, QB_PREFIX, QB_KEYWORD, QB_DATE, QB_ALL, QB_STRING, QB_BOOL };
struct lede_query {
    lede_query_tree *tree;
    int kind;                 /* QB_* */
    uint8_t field, column;
    int flag;                 /* MATCH: all_required; STRING: plain */
    char *text;               /* NUL-terminated copy */
    size_t len;
    int32_t lo, hi;
    double boost;
    lede_query **kids;
    uint8_t *occur;           /* lede_occur per kid */
    uint32_t nkids, cap;
};
/* q as an AST in arena a, boosts multiplied down to the leaves. */
int lede_query_to_ast(lede_arena *a, lede_analyzer *an, const lede_query *q, lede_qnode **out,
                      lede_err *err);

/* ======================================================= stats.c
 * Corpus statistics as a value: what the planner looks up (N, summed
 * lengths, df per dictionary key, the keys a prefix covers), gathered from
 * an index, summed over indexes, and read back in place of the index's own. */
typedef struct lede_stat_term {
    char *key;                /* dictionary key (title field: "\x01" + term) */
    size_t len;
    uint64_t df, df_body;
} lede_stat_term;

typedef struct lede_stat_prefix {
    char *key;                /* the prefix as a dictionary key */
    size_t len;
    char **keys;              /* every dictionary key it covers, sorted */
    size_t *lens;
    uint32_t nkeys;
} lede_stat_prefix;

struct lede_corpus_stats {
    uint64_t N, sum_doc, sum_title;
    lede_stat_term *terms;    /* sorted by key once finished */
    uint32_t nterms;
    size_t terms_cap;
    lede_stat_prefix *prefixes;
    uint32_t nprefixes;
    size_t prefixes_cap;
    int rc;                   /* sticky: LEDE_ENOMEM once a record failed */
};
void lede_stats_record_term(lede_corpus_stats *s, const char *key, size_t len, uint64_t df,
                            uint64_t df_body);
void lede_stats_record_prefix(lede_corpus_stats *s, const char *key, size_t len,
                              char *const *keys, const size_t *lens, uint32_t n);
/* Sorts and folds repeated entries (a query may look a key up twice). */
int lede_stats_finish(lede_corpus_stats *s);
const lede_stat_term *lede_stats_find_term(const lede_corpus_stats *s, const char *key, size_t len);
const lede_stat_prefix *lede_stats_find_prefix(const lede_corpus_stats *s, const char *key,
                                               size_t len);

/* ======================================================= plan.c
 * plan: the query (string or tree) as an AST over one snapshot: prefixes
 * rewritten into the terms they cover, each leaf's statistics (df, IDF,
 * weight) from the index or from imported statistics, BM25's parameters
 * and averages, the caller's filters AND-ed in. */
typedef struct lede_plan {
    lede_index *ix;
    lede_arena *a;
    const lede_corpus_stats *stats_in;  /* score with these (opts.stats) */
    lede_corpus_stats *stats_out;       /* record what is looked up (gathering) */
    double N;
    lede_scoring sc;
    lede_qnode *q;                      /* the planned query */
    uint64_t N_explain;                 /* N as explain reports it */
} lede_plan;
/* with_keyword_filter = 0: opts.sources is left to the collector. */
int lede_plan_build(lede_plan *pl, lede_index *ix, lede_arena *a, const lede_search_opts *opts,
                    lede_corpus_stats *record, int with_keyword_filter, lede_err *err);
/* The terms highlighting should mark: every leaf outside a negation, in one
 * block owned by out (freed with free(out->terms)). */
int lede_plan_hl_terms(const lede_qnode *q, lede_hl_query *out);

/* ======================================================= collect.c
 * What an exhaustive run gathers beyond the top-k, per value of a keyword
 * column (source today): its count and best match (facets) and its own
 * top-k (groups); with a kept mask, the column filter applied here instead
 * of in the query, so the facets see every value. */
typedef struct lede_collector {
    lede_topk *top;
    int column;
    uint32_t nvalues;          /* slot nvalues is "no value" */
    uint64_t *count;           /* per slot */
    lede_topk_entry *best;     /* per slot, by score (facets) */
    lede_topk *groups;         /* per slot (group_hits > 0) */
    uint32_t group_cap;
    int by_date;
    uint8_t *kept;             /* per slot, or NULL */
    uint64_t nkept;            /* matches that passed it */
    int rc;
} lede_collector;
int lede_collector_init(lede_collector *c, lede_index *ix, const lede_search_opts *opts,
                        int column, lede_topk *top, int post_filter);
void lede_collect_match(void *ctx, double score, const lede_snap_seg *ss, uint32_t seg_index,
                        uint32_t doc);
void lede_collector_free(lede_collector *c);

/* ======================================================= fetch.c
 * The stored side of results: hits' stored fields (one record buffer per
 * search), explanations, facets and groups in their final order. Every
 * string a result hands out is copied into memory the result owns. */
typedef struct lede_fetch {
    lede_index *ix;
    const lede_search_opts *opts;
    const lede_plan *plan;
    lede_arena *a;
    lede_buf rec;
} lede_fetch;
int lede_fetch_hits(lede_fetch *f, const lede_topk_entry *entries, uint32_t n, lede_hit **out,
                    uint32_t *nout, lede_err *err);
int lede_fetch_facets(lede_fetch *f, const lede_collector *c, lede_results *res, lede_err *err);
int lede_fetch_groups(lede_fetch *f, lede_collector *c, uint32_t k, uint32_t offset,
                      lede_results *res, lede_err *err);

#endif
