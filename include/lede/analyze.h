/* analyze.h: the public analyzer: UTF-8 text in, index terms out, each with
 * its position and byte offsets into the original text. Documents and queries
 * go through exactly this code, so a query term always meets the form that
 * was indexed.
 *
 * Rules (docs/ANALYZER.md has the full list): words are runs of Unicode
 * letters, marks and digits; case and accents are folded (NFKC casefold with
 * marks stripped, so "Élysée" -> "elysee"); a possessive "'s" / "’s" is
 * dropped and an inner apostrophe kept as ASCII "'" ("Macron's" -> "macron",
 * "don’t" -> "don't", so "he'll" never meets "hell"); dots inside letter runs are dropped ("U.S." -> "us"); digits joined
 * by '.' or ',' stay one number ("3.5", "1,000" -> "1000"); English Snowball
 * stemming (libstemmer "english"); no stop words unless a stop list is given.
 * Stop words and over-long words are not emitted but still use a position,
 * so phrases keep their gaps. */
#ifndef LEDE_ANALYZE_H
#define LEDE_ANALYZE_H

#include "lede/lede.h"

#define LEDE_MAX_TERM 64 /* bytes of a folded term; longer words are skipped */

typedef struct lede_token {
    const char *term;   /* folded and stemmed; borrowed until the callback returns */
    uint32_t term_len;
    uint32_t pos;       /* word position: first_pos + index of the word */
    uint32_t start;     /* byte offset of the word in the analyzed text */
    uint32_t end;       /* one past its last byte */
} lede_token;

/* Return 0 to go on; any other value stops analysis and is returned. */
typedef int (*lede_token_fn)(void *ctx, const lede_token *tok);

typedef struct lede_analyzer_opts {
    int no_stem;                 /* 1: skip Snowball stemming */
    const char *stopwords_path;  /* NULL: no stop words; else one word a line, '#' comments */
    /* The stop list's text itself, used instead of stopwords_path when
     * non-NULL (borrowed during lede_analyzer_new only): an open index
     * reads its list once, so every analyzer it makes later agrees with
     * the list it was opened with, whatever happens to the file. */
    const char *stopwords_text;
    size_t stopwords_size;
} lede_analyzer_opts;

/* Reads a stop-list file whole into *text (caller frees) for
 * lede_analyzer_opts.stopwords_text. */
int lede_stopwords_read(const char *path, char **text, size_t *size, lede_err *err);

/* One analyzer per thread: libstemmer's state is not thread-safe. */
typedef struct lede_analyzer lede_analyzer;

int lede_analyzer_new(const lede_analyzer_opts *opts, lede_analyzer **out, lede_err *err);
void lede_analyzer_free(lede_analyzer *an);

/* Tokenizes text[0..len) (need not be NUL-terminated; invalid UTF-8 bytes
 * separate words). Positions start at first_pos. Stores the position after
 * the last word in *next_pos (may be NULL). Returns 0, a callback's non-zero
 * value, or a negative lede_rc. */
int lede_analyze(lede_analyzer *an, const char *text, size_t len, uint32_t first_pos,
                 lede_token_fn fn, void *ctx, uint32_t *next_pos);

/* Folds one word like lede_analyze but without stemming (for prefix
 * queries): writes at most cap-1 bytes and a NUL to out; returns the length,
 * 0 when the word folds to nothing. */
size_t lede_fold_word(lede_analyzer *an, const char *word, size_t len, char *out, size_t cap);

/* Stems an already folded word into out (cap bytes incl. NUL); returns the
 * length. With no_stem it copies. */
size_t lede_stem_word(lede_analyzer *an, const char *folded, size_t len, char *out, size_t cap);

#endif
