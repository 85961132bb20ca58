/* suggest.h: completions for search-as-you-type. A suggester is built once
 * per open index (a snapshot) from the words and two-word phrases of the
 * stored titles, each ranked by how often the index holds it (the document
 * frequency of the word's analyzed form in the term dictionary, the number
 * of titles for a phrase). Completion folds the typed text like the
 * analyzer (case, accents) and completes its last word, preferring words
 * that follow the previous word in some title. Read-only once built: safe
 * from many threads. */
#ifndef LEDE_SUGGEST_H
#define LEDE_SUGGEST_H

#include "lede/index.h"

typedef struct lede_suggester lede_suggester;

/* Reads every stored title of ix (which must outlive the suggester). */
int lede_suggester_build(lede_index *ix, lede_suggester **out, lede_err *err);
void lede_suggester_free(lede_suggester *s);

typedef struct lede_suggestion {
    char *text;              /* the whole completed query, NUL-terminated */
    uint64_t weight;         /* its frequency rank key */
} lede_suggestion;

typedef struct lede_suggestions {
    uint32_t n;
    lede_suggestion *items;  /* best first */
} lede_suggestions;

/* Longest text lede_suggest accepts, in bytes. */
#define LEDE_SUGGEST_MAX_INPUT 256

/* Up to max completions of typed[0..len) (UTF-8). An empty or blank input
 * gives none, and so do max = 0, invalid UTF-8 and a last word that cannot
 * be completed (over-long); a text longer than LEDE_SUGGEST_MAX_INPUT bytes
 * is refused with LEDE_ELIMIT. Each text is the typed text up to the word
 * being completed, as typed (control characters become spaces), then the
 * completed word; after a typed separator, the typed text then a next word.
 * *out is the caller's (lede_suggestions_free); items is NULL when n = 0. */
int lede_suggest(const lede_suggester *s, const char *typed, size_t len, uint32_t max,
                 lede_suggestions **out, lede_err *err);
void lede_suggestions_free(lede_suggestions *s);
/* Number of distinct completions held (for /stats). */
uint64_t lede_suggester_size(const lede_suggester *s);

#endif
