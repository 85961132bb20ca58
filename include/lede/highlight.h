/* highlight.h: snippets and highlights: the best passages of a stored text
 * for a query, with the query's words marked. The query side is a
 * lede_hl_query (the analyzed terms a search matched, with their IDF and
 * phrase structure, from lede_results); the text side is re-analyzed with
 * the index's analyzer, so "fines" marks "fined" and "Elysee" marks
 * "Élysée". Every fragment comes three ways: plain text, HTML-escaped text
 * with matches wrapped in tags, and the byte spans of the matches in the
 * plain text. The algorithm (matching, scoring, passages) is
 * docs/HIGHLIGHT.md. */
#ifndef LEDE_HIGHLIGHT_H
#define LEDE_HIGHLIGHT_H

#include "lede/analyze.h"

enum { LEDE_HL_TITLE = 1, LEDE_HL_BODY = 2 };

/* One query term as highlighting sees it. Terms of a phrase share a phrase
 * number and give their position inside it; a phrase is marked as one span
 * only where all its words occur in order at those relative positions
 * (stop-word gaps included). A word of a phrase found elsewhere is not
 * marked unless the query also has it as a word of its own. The same term
 * may appear several times (on its own, in phrases); it counts once, with
 * its largest weight. Terms that are empty or longer than LEDE_MAX_TERM
 * never match. */
typedef struct lede_hl_term {
    const char *term;        /* analyzed form, as lede_analyze emits it; borrowed for the call */
    double weight;           /* the term's IDF in the index (> 0; others count as tiny) */
    uint32_t phrase;         /* 0: a word of its own; else the phrase's number (any non-zero id) */
    uint32_t phrase_pos;     /* position relative to the phrase's first word */
    uint8_t fields;          /* LEDE_HL_TITLE | LEDE_HL_BODY: where it may match; 0 = both */
} lede_hl_term;

typedef struct lede_hl_query {
    uint32_t nterms;
    uint32_t nphrases;       /* informational: phrases are told apart by lede_hl_term.phrase */
    lede_hl_term *terms;
} lede_hl_query;

/* opts may be NULL: all defaults. */
typedef struct lede_snippet_opts {
    uint32_t fragments;      /* passages wanted; 0 = 1; at most 64 (fewer if fewer match) */
    uint32_t chars;          /* target passage length in characters; 0 = 160 */
    int whole;               /* 1: one fragment, the whole text, every match marked (titles);
                                fragments and chars are ignored */
    const char *pre_tag;     /* NULL = "<mark>"; tags go into html as given (not escaped) */
    const char *post_tag;    /* NULL = "</mark>" */
    const char *ellipsis;    /* NULL = "…" (U+2026); joins fragments and marks cut ends;
                                "" = no marks; escaped in html */
} lede_snippet_opts;

typedef struct lede_span {
    uint32_t start, end;     /* byte offsets, end exclusive */
} lede_span;

/* A passage. text is valid UTF-8 whatever the source held (invalid bytes
 * become U+FFFD; control characters spaces), so spans index text, not the
 * source. In passages (not whole mode) every run of whitespace, line
 * breaks included, is one space; a passage cut inside a sentence starts
 * with the ellipsis and a space, or ends with a space and the ellipsis. */
typedef struct lede_fragment {
    char *text;              /* plain UTF-8, NUL-terminated */
    size_t text_len;
    char *html;              /* HTML-escaped (& < > " '), matches wrapped in pre/post tags,
                                NUL-terminated */
    size_t html_len;
    lede_span *matches;      /* in text, in order, non-overlapping; a phrase is one span;
                                NULL when nmatches is 0 */
    uint32_t nmatches;
    uint32_t src_start, src_end; /* the byte range of the source text it shows (no ellipses) */
    double score;            /* sum over its distinct terms and phrases of their weight, a
                                little more for repeats; 0 for the lede */
} lede_fragment;

/* One allocation holds everything; the strings and spans of fragments
 * and joined are valid until lede_snippet_free. */
typedef struct lede_snippet {
    int matched;             /* 0: no query term in the text; fragments[0] is the lede (in
                                whole mode, the whole text) */
    uint32_t nfragments;     /* at least 1 (an empty text gives one empty fragment) */
    lede_fragment *fragments;/* in document order, not overlapping */
    lede_fragment joined;    /* the fragments joined by " … " (a space where nothing lies
                                between two), cut ends marked too; with one fragment, that
                                fragment (same memory); src_* span the first to the last */
} lede_snippet;

/* Makes the snippet of text[0..len) for field (LEDE_HL_TITLE or
 * LEDE_HL_BODY: terms whose fields lack it are ignored). an is the index's
 * analyzer (lede_index_analyzer), or any analyzer with the same options; it
 * is used, so one per thread. q may be NULL (no terms). Passages are
 * sentence-aware windows of about opts->chars characters; a passage with
 * more distinct query terms (weighted by IDF) beats one repeating a term,
 * and a phrase match beats its words scattered. When nothing matches, the
 * text's first sentence (cut to about opts->chars). *out is the caller's
 * (lede_snippet_free); NULL on error. Returns 0, LEDE_EINVAL (NULL
 * analyzer, out, query term or text with a length; a bad field),
 * LEDE_ELIMIT (len of 4 GiB or more) or LEDE_ENOMEM. */
int lede_snippet_make(lede_analyzer *an, const lede_hl_query *q, int field, const char *text,
                      size_t len, const lede_snippet_opts *opts, lede_snippet **out,
                      lede_err *err);
void lede_snippet_free(lede_snippet *s);

#endif
