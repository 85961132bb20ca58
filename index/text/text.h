/* text/text.h: the private header of the text layer (index/text/): what the
 * analyzer offers liblede beyond include/lede/analyze.h. Calls only base/. */
#ifndef LEDE_TEXT_H
#define LEDE_TEXT_H

#include "base/base.h"

/* ======================================================= analyze.c
 * lede_analyze without the stemming: tokens carry the folded words (stop
 * words still removed), so a caller that sees a word many times can stem it
 * once with lede_stem_word. */
int lede_analyze_words(lede_analyzer *an, const char *text, size_t len, uint32_t first_pos,
                       lede_token_fn fn, void *ctx, uint32_t *next_pos);

#endif
