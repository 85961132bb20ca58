/* highlight.h: snippets and highlights: the best passages of a stored text
 * for a query, with the query's words marked. The query side is a
 * lede_hl_query (the analyzed terms a search matched, with their IDF and
 * phrase structure, from lede_results); the text side is re-analyzed with
 * the index's analyzer, so "fines" marks "fined" and "Elysee" marks
 * "Élysée". Every fragment comes three ways: plain text, HTML-escaped text
 * with matches wrapped in tags, and the byte spans of the matches in the
 * plain text. */
#ifndef LEDE_HIGHLIGHT_H
#define LEDE_HIGHLIGHT_H

#include "lede/analyze.h"

enum { LEDE_HL_TITLE = 1, LEDE_HL_BODY = 2 };

/* One query term as highlighting sees it. Terms of a phrase share a phrase
 * number and give their position inside it; a phrase is marked as one span
 * only where all its words occur in order at those relative positions. */
typedef struct lede_hl_term {
    const char *term;        /* analyzed form, as lede_analyze emits it */
    double weight;           /* the term's IDF in the index (> 0) */
    uint32_t phrase;         /* 0: a word of its own; else the phrase's 1-based number */
    uint32_t phrase_pos;     /* position relative to the phrase's first word */
    uint8_t fields;          /* LEDE_HL_TITLE | LEDE_HL_BODY: where it may match */
} lede_hl_term;

typedef struct lede_hl_query {
    uint32_t nterms;
    uint32_t nphrases;
    lede_hl_term *terms;
} lede_hl_query;

typedef struct lede_snippet_opts {
    uint32_t fragments;      /* passages wanted; 0 = 1 */
    uint32_t chars;          /* target passage length in characters; 0 = 160 */
    int whole;               /* 1: one fragment, the whole text, every match marked (titles) */
    const char *pre_tag;     /* NULL = "<mark>" */
    const char *post_tag;    /* NULL = "</mark>" */
    const char *ellipsis;    /* NULL = "…" (U+2026); joins fragments and marks cut ends */
} lede_snippet_opts;

typedef struct lede_span {
    uint32_t start, end;     /* byte offsets, end exclusive */
} lede_span;

typedef struct lede_fragment {
    char *text;              /* plain UTF-8, NUL-terminated */
    size_t text_len;
    char *html;              /* HTML-escaped, matches wrapped in pre/post tags, NUL-terminated */
    size_t html_len;
    lede_span *matches;      /* in text, in order, non-overlapping; a phrase is one span */
    uint32_t nmatches;
    uint32_t src_start, src_end; /* the byte range of the source text it shows */
    double score;
} lede_fragment;

typedef struct lede_snippet {
    int matched;             /* 0: no query term in the text; fragments[0] is the lede */
    uint32_t nfragments;
    lede_fragment *fragments;/* in document order */
    lede_fragment joined;    /* the fragments joined by the ellipsis (cut ends marked too) */
} lede_snippet;

/* Makes the snippet of text[0..len) for field (LEDE_HL_TITLE or
 * LEDE_HL_BODY: terms whose fields lack it are ignored). an is the index's
 * analyzer (lede_index_analyzer). Passages are sentence-aware windows of
 * about opts->chars characters; a passage with more distinct query terms
 * (weighted by IDF) beats one repeating a term, and a phrase match beats
 * its words scattered. When nothing matches, the text's first sentence
 * (cut to about opts->chars). *out is the caller's (lede_snippet_free). */
int lede_snippet_make(lede_analyzer *an, const lede_hl_query *q, int field, const char *text,
                      size_t len, const lede_snippet_opts *opts, lede_snippet **out,
                      lede_err *err);
void lede_snippet_free(lede_snippet *s);

#endif
