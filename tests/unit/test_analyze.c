/* test_analyze.c: the rules of index/text/analyze.c, one group per rule of
 * docs/ANALYZER.md: word splitting, case and accent folding, possessives and
 * apostrophes, dots, numbers, hyphens, stemming, stop words and positions,
 * over-long words, byte offsets on multi-byte text, invalid and hostile
 * input, callback stop values, the fold/stem helpers and the stem cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lede/analyze.h"
#include "tap.h"

typedef struct collected {
    size_t n;
    lede_token tok[256];
    char term[256][LEDE_MAX_TERM + 1];
    char joined[8192];   /* "term term ..." or "term@pos ..." */
} collected;

static int collect(void *ctx, const lede_token *tok)
{
    collected *c = ctx;
    if (c->n < 256) {
        CHECK(tok->term_len > 0 && tok->term_len <= LEDE_MAX_TERM);
        memcpy(c->term[c->n], tok->term, tok->term_len);
        c->term[c->n][tok->term_len] = '\0';
        c->tok[c->n] = *tok;
        c->tok[c->n].term = c->term[c->n];
    }
    c->n++;
    return 0;
}

static collected result;

/* Analyzes s[0..len) from position 0 into `result`; returns the terms
 * joined by spaces, or with with_pos "term@pos" items. */
static const char *run(lede_analyzer *an, const char *s, size_t len, int with_pos)
{
    memset(&result, 0, sizeof result);
    uint32_t next = 0;
    int rc = lede_analyze(an, s, len, 0, collect, &result, &next);
    CHECK_EQ_INT(rc, 0);
    size_t at = 0;
    for (size_t i = 0; i < result.n && i < 256; i++) {
        int w = with_pos ? snprintf(result.joined + at, sizeof result.joined - at, "%s%s@%u",
                                    i ? " " : "", result.term[i], result.tok[i].pos)
                         : snprintf(result.joined + at, sizeof result.joined - at, "%s%s",
                                    i ? " " : "", result.term[i]);
        if (w < 0 || (size_t)w >= sizeof result.joined - at)
            break;
        at += (size_t)w;
    }
    return result.joined;
}

static const char *terms(lede_analyzer *an, const char *s)
{
    return run(an, s, strlen(s), 0);
}

static const char *terms_pos(lede_analyzer *an, const char *s)
{
    return run(an, s, strlen(s), 1);
}

static lede_analyzer *new_analyzer(int no_stem, const char *stopwords_path)
{
    lede_analyzer_opts opts = {.no_stem = no_stem, .stopwords_path = stopwords_path};
    lede_analyzer *an = NULL;
    lede_err err = {0};
    int rc = lede_analyzer_new(&opts, &an, &err);
    CHECK_MSG(rc == LEDE_OK, err.msg);
    return an;
}

static const char *fold(lede_analyzer *an, const char *s)
{
    static char out[LEDE_MAX_TERM + 1];
    size_t n = lede_fold_word(an, s, strlen(s), out, sizeof out);
    CHECK_EQ_INT(n, strlen(out));
    return out;
}

static const char *stem(lede_analyzer *an, const char *s)
{
    static char out[LEDE_MAX_TERM + 1];
    size_t n = lede_stem_word(an, s, strlen(s), out, sizeof out);
    CHECK_EQ_INT(n, strlen(out));
    return out;
}

static void test_words(lede_analyzer *plain, lede_analyzer *stemmed)
{
    CHECK_EQ_STR(terms(plain, "Hello, world!"), "hello world");
    CHECK_EQ_STR(terms(plain, "  tabs\tand\nnewlines\r\n"), "tabs and newlines");
    CHECK_EQ_STR(terms(plain, "G7 3D mp3"), "g7 3d mp3");
    CHECK_EQ_STR(terms(plain, "#hashtag @user foo_bar"), "hashtag user foo bar");
    CHECK_EQ_STR(terms(plain, "\xe2\x80\x9cQuoted\xe2\x80\x9d \xe2\x80\x94 dash"), "quoted dash");
    CHECK_EQ_STR(terms(plain, "\xe5\x8c\x97\xe4\xba\xac news"), "\xe5\x8c\x97\xe4\xba\xac news");
    CHECK_EQ_STR(terms(plain, "\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0"), /* Москва */
                 "\xd0\xbc\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0");
    /* Emoji and symbols separate words. */
    CHECK_EQ_STR(terms(plain, "love\xf0\x9f\x98\x80it \xe2\x82\xac" "5"), "love it 5");
    /* Soft hyphen and zero-width joiners do not split a word. */
    CHECK_EQ_STR(terms(plain, "inter\xc2\xad" "national"), "international");
    CHECK_EQ_STR(terms(plain, "a\xe2\x80\x8d" "b \xc2\xad" "c"), "ab c");
    /* Positions are consecutive from first_pos. */
    CHECK_EQ_STR(terms_pos(stemmed, "The presidents were running"),
                 "the@0 presid@1 were@2 run@3");
}

static void test_folding(lede_analyzer *plain)
{
    CHECK_EQ_STR(terms(plain, "\xc3\x89lys\xc3\xa9" "e"), "elysee");   /* Élysée */
    CHECK_EQ_STR(terms(plain, "\xef\xac\x81" "nance"), "finance");     /* ﬁ ligature */
    CHECK_EQ_STR(terms(plain, "Stra\xc3\x9f" "e"), "strasse");        /* Straße */
    CHECK_EQ_STR(terms(plain, "NA\xc3\x8fVE Caf\xc3\xa9"), "naive cafe");
    CHECK_EQ_STR(terms(plain, "cafe\xcc\x81"), "cafe");                 /* NFD accent */
    CHECK_EQ_STR(terms(plain, "\xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3"), "abc"); /* fullwidth */
    CHECK_EQ_STR(terms(plain, "x\xc2\xb2"), "x2");                      /* superscript */
    CHECK_EQ_STR(terms(plain, "\xe2\x85\xab"), "xii");                  /* Roman numeral 12 */
    CHECK_EQ_STR(terms(plain, "\xce\xa3\xce\x95\xce\xa3"), "\xcf\x83\xce\xb5\xcf\x83"); /* ΣΕΣ */
    CHECK_EQ_STR(terms(plain, "\xc5\x81\xc3\xb3" "d\xc5\xba"), "\xc5\x82odz"); /* Łódź: ł has no mark */
    /* A word of marks alone folds to nothing: no token, no position. */
    uint32_t next = 99;
    CHECK_EQ_STR(terms(plain, "a \xcc\x81\xcc\x81 b"), "a b");
    CHECK_EQ_INT(lede_analyze(plain, "\xcc\x81", 2, 5, NULL, NULL, &next), 0);
    CHECK_EQ_INT(next, 5);
    /* ASCII words take a fast path; the same word reached through
     * utf8proc (it holds one non-ASCII letter) folds the same way. */
    CHECK_EQ_STR(terms(plain, "MiXeD \xc3\x89MiXeD"), "mixed emixed");
}

static void test_apostrophes(lede_analyzer *plain, lede_analyzer *stemmed)
{
    CHECK_EQ_STR(terms(plain, "Macron's"), "macron");
    CHECK_EQ_STR(terms(plain, "Macron\xe2\x80\x99s"), "macron");
    CHECK_EQ_STR(terms(plain, "MACRON'S"), "macron");
    CHECK_EQ_STR(terms(plain, "\xc3\x89lys\xc3\xa9" "e's"), "elysee");
    CHECK_EQ_STR(terms(plain, "don't"), "don't");
    CHECK_EQ_STR(terms(plain, "don\xe2\x80\x99t"), "don't");
    CHECK_EQ_STR(terms(plain, "O'Brien rock'n'roll"), "o'brien rock'n'roll");
    /* Contractions must not collide with words. */
    CHECK_EQ_STR(terms(plain, "we'll he'll I'll we're"), "we'll he'll i'll we're");
    CHECK_EQ_STR(terms(plain, "l\xe2\x80\x99\xc3\xa9t\xc3\xa9"), "l'ete");
    CHECK_EQ_STR(terms(plain, "students' 'quoted' '90s"), "students quoted 90s");
    CHECK_EQ_STR(terms(plain, "it's"), "it");
    CHECK_EQ_STR(terms(plain, "don''t"), "don t");
    CHECK_EQ_STR(terms(plain, "Obama's Obamas"), "obama obamas");
    CHECK_EQ_STR(terms(stemmed, "Macron's reforms"), "macron reform");
    /* The token covers the whole word, "'s" included. */
    terms(plain, "Macron\xe2\x80\x99s plan");
    CHECK_EQ_INT(result.tok[0].start, 0);
    CHECK_EQ_INT(result.tok[0].end, 10);
    CHECK_EQ_INT(result.tok[1].start, 11);
}

static void test_dots(lede_analyzer *plain)
{
    CHECK_EQ_STR(terms(plain, "U.S."), "us");
    CHECK_EQ_STR(terms(plain, "e.g. i.e."), "eg ie");
    CHECK_EQ_STR(terms(plain, "N.Y.C. D.C. U.S.A"), "nyc dc usa");
    CHECK_EQ_STR(terms(plain, "the U.S, and"), "the us and");
    /* Only initials join: longer runs around a dot are separate words, so
     * URLs and missing spaces after a full stop still split. */
    CHECK_EQ_STR(terms(plain, "www.cnn.com"), "www cnn com");
    CHECK_EQ_STR(terms(plain, "said.The end."), "said the end");
    CHECK_EQ_STR(terms(plain, "Ph.D. J.K.Rowling"), "ph d jk rowling");
    CHECK_EQ_STR(terms(plain, "a..b .x. ."), "a b x");
    terms(plain, "in the U.S. today");
    CHECK_EQ_INT(result.tok[2].start, 7);
    CHECK_EQ_INT(result.tok[2].end, 10);   /* the final dot is not part of the word */
}

static void test_numbers(lede_analyzer *plain, lede_analyzer *stemmed)
{
    CHECK_EQ_STR(terms(plain, "3.5"), "3.5");
    CHECK_EQ_STR(terms(plain, "1,000"), "1000");
    CHECK_EQ_STR(terms(plain, "2017"), "2017");
    CHECK_EQ_STR(terms(plain, "$1,000,000.50 and 1,000."), "1000000.50 and 1000");
    CHECK_EQ_STR(terms(plain, "1,2,3 12,34 1,0000"), "1 2 3 12 34 1 0000");
    CHECK_EQ_STR(terms(plain, "v1.2.3 3.5mm"), "v1.2.3 3.5mm");
    CHECK_EQ_STR(terms(plain, "page 3.The 3. 4"), "page 3 the 3 4");
    CHECK_EQ_STR(terms(plain, "1990s 1,000th"), "1990s 1000th");
    CHECK_EQ_STR(terms(plain, "\xd9\xa3.\xd9\xa5"), "\xd9\xa3.\xd9\xa5");   /* Arabic-Indic 3.5 */
    CHECK_EQ_STR(terms(stemmed, "3.5 1,000 2017 1990s"), "3.5 1000 2017 1990s");
}

static void test_hyphens(lede_analyzer *plain)
{
    CHECK_EQ_STR(terms(plain, "U.S.-Mexico"), "us mexico");
    CHECK_EQ_STR(terms(plain, "COVID-19 well-known"), "covid 19 well known");
    CHECK_EQ_STR(terms_pos(plain, "U.S.-Mexico border"), "us@0 mexico@1 border@2");
}

static void test_offsets(lede_analyzer *plain)
{
    const char *s = "na\xc3\xafve caf\xc3\xa9 \xe5\x8c\x97\xe4\xba\xac, Stra\xc3\x9f" "e!";
    CHECK_EQ_STR(terms(plain, s), "naive cafe \xe5\x8c\x97\xe4\xba\xac strasse");
    uint32_t want[4][2] = {{0, 6}, {7, 12}, {13, 19}, {21, 28}};
    CHECK_EQ_INT(result.n, 4);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_INT(result.tok[i].start, want[i][0]);
        CHECK_EQ_INT(result.tok[i].end, want[i][1]);
        CHECK_EQ_INT(result.tok[i].pos, i);
    }
    /* A combining mark belongs to its word's span. */
    terms(plain, "cafe\xcc\x81!");
    CHECK_EQ_INT(result.tok[0].end, 6);
    /* first_pos shifts positions only, and next_pos follows the last word. */
    memset(&result, 0, sizeof result);
    uint32_t next = 0;
    CHECK_EQ_INT(lede_analyze(plain, "one two", 7, 100, collect, &result, &next), 0);
    CHECK_EQ_INT(result.tok[0].pos, 100);
    CHECK_EQ_INT(result.tok[1].pos, 101);
    CHECK_EQ_INT(result.tok[1].start, 4);
    CHECK_EQ_INT(next, 102);
}

static void test_stemming(lede_analyzer *stemmed, lede_analyzer *plain)
{
    CHECK_EQ_STR(terms(stemmed, "running runs ran"), "run run ran");
    CHECK_EQ_STR(terms(stemmed, "Elections elected electing"), "elect elect elect");
    CHECK_EQ_STR(terms(stemmed, "Universities university"), "univers univers");
    CHECK_EQ_STR(terms(plain, "running Universities"), "running universities");
    /* Stems of non-ASCII words go through the same stemmer. */
    CHECK_EQ_STR(terms(stemmed, "\xc3\x89lys\xc3\xa9" "es"), "elyse");
}

static const char *write_stop_list(const char *text)
{
    static char path[] = "/tmp/lede-test-stop-XXXXXX";
    strcpy(path, "/tmp/lede-test-stop-XXXXXX");
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return "/nonexistent";
    CHECK_EQ_INT(write(fd, text, strlen(text)), (long long)strlen(text));
    close(fd);
    return path;
}

static void test_stop_words(void)
{
    const char *path = write_stop_list("# a comment line\n"
                                       "the\n"
                                       "  Of  # trailing comment\n"
                                       "\n"
                                       "Don't\n"
                                       "running\n"
                                       "US\n"
                                       "\xc3\xa9t\xc3\xa9\n"   /* été */
                                       "the\n");               /* duplicates are fine */
    lede_analyzer *an = new_analyzer(0, path);
    CHECK_EQ_STR(terms_pos(an, "The Bank of England"), "bank@1 england@3");
    uint32_t next = 0;
    CHECK_EQ_INT(lede_analyze(an, "the bank of the", 15, 10, NULL, NULL, &next), 0);
    CHECK_EQ_INT(next, 14);   /* stop words use positions */
    /* Stop words are folded like text... */
    CHECK_EQ_STR(terms_pos(an, "don\xe2\x80\x99t stop DON'T"), "stop@1");
    CHECK_EQ_STR(terms_pos(an, "U.S. jobs"), "job@1");
    CHECK_EQ_STR(terms_pos(an, "\xc3\x89T\xc3\x89 ete x"), "x@2");
    /* ...and compared before stemming: "running" is stopped, "runs" (stem
     * "run") is not, and a stop word "the" does not stop "them". */
    CHECK_EQ_STR(terms_pos(an, "running runs them"), "run@1 them@2");
    /* The helpers ignore the stop list. */
    CHECK_EQ_STR(fold(an, "The"), "the");
    lede_analyzer_free(an);
    unlink(path);

    /* The shipped list loads (tests run in tests/ or the source root). */
    const char *shipped = access("../conf/stopwords-en.txt", R_OK) == 0 ? "../conf/stopwords-en.txt"
                                                                         : "conf/stopwords-en.txt";
    an = new_analyzer(0, shipped);
    CHECK_EQ_STR(terms_pos(an, "The President of the U.S. said it's over"),
                 "presid@1 us@4 said@5");
    lede_analyzer_free(an);

    lede_analyzer_opts opts = {.stopwords_path = "/nonexistent/stop.txt"};
    lede_err err = {0};
    an = (lede_analyzer *)1;
    CHECK_EQ_INT(lede_analyzer_new(&opts, &an, &err), LEDE_EIO);
    CHECK(an == NULL);
    CHECK_EQ_INT(err.rc, LEDE_EIO);
    CHECK(strstr(err.msg, "/nonexistent/stop.txt") != NULL);
}

static void test_over_long(lede_analyzer *plain, lede_analyzer *stemmed)
{
    char text[300];
    char word[200];
    memset(word, 'a', 64);
    word[64] = '\0';
    snprintf(text, sizeof text, "x %s y", word);
    CHECK_EQ_STR(terms_pos(plain, text), "x@0 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@1 y@2");
    word[64] = 'a';
    word[65] = '\0';
    snprintf(text, sizeof text, "x %s y", word);
    CHECK_EQ_STR(terms_pos(plain, text), "x@0 y@2");
    CHECK_EQ_STR(terms_pos(stemmed, text), "x@0 y@2");
    /* The limit is on the folded form: a "’" (3 bytes) folds to "'", and
     * 40 "é" (80 bytes) fold to 40 bytes. */
    memset(word, 'a', 66);
    memcpy(word + 10, "\xe2\x80\x99", 3);
    word[66] = '\0';   /* 66 bytes, 64 once folded */
    CHECK_EQ_INT(strlen(terms(plain, word)), 64);
    text[0] = '\0';
    for (int i = 0; i < 40; i++)
        strcat(text, "\xc3\xa9");
    CHECK_EQ_STR(terms(plain, text), "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee");
    text[0] = '\0';
    for (int i = 0; i < 65; i++)
        strcat(text, "\xc3\xa9");
    strcat(text, " z");
    CHECK_EQ_STR(terms_pos(plain, text), "z@1");
    /* A one-megabyte word, ASCII and not, is skipped in linear time. */
    size_t big = 1 << 20;
    char *huge = malloc(big + 8);
    CHECK(huge != NULL);
    if (!huge)
        return;
    memset(huge, 'q', big);
    memcpy(huge + big / 2, "\xc3\xa9", 2);
    memcpy(huge + big, " end", 4);
    CHECK_EQ_STR(run(plain, huge, big + 4, 1), "end@1");
    memset(huge, 'q', big);
    CHECK_EQ_STR(run(stemmed, huge, big + 4, 1), "end@1");
    free(huge);
}

static void test_invalid_utf8(lede_analyzer *plain)
{
    /* Bad bytes separate words; they never join or vanish silently. */
    CHECK_EQ_STR(terms(plain, "bad\xff" "byte"), "bad byte");
    CHECK_EQ_STR(terms(plain, "trunc\xc3"), "trunc");
    CHECK_EQ_STR(terms(plain, "trunc\xe2\x80"), "trunc");
    CHECK_EQ_STR(terms(plain, "\xc3(x"), "x");
    CHECK_EQ_STR(terms(plain, "over\xc0\xaflong"), "over long");       /* overlong '/' */
    CHECK_EQ_STR(terms(plain, "sur\xed\xa0\x80rogate"), "sur rogate");
    CHECK_EQ_STR(terms(plain, "big\xf4\x90\x80\x80" "cp"), "big cp");   /* > U+10FFFF */
    CHECK_EQ_STR(terms(plain, "lone\x80\x80" "cont"), "lone cont");
    CHECK_EQ_STR(terms(plain, "don\xe2\x80" "t"), "don t");               /* cut apostrophe */
    CHECK_EQ_STR(run(plain, "ab\0cd", 5, 0), "ab cd");                   /* embedded NUL */
    CHECK_EQ_STR(run(plain, "U.S\0.x", 6, 0), "us x");
    /* Truncations at every byte of a mixed text are safe and consistent. */
    const char *s = "Caf\xc3\xa9 Macron\xe2\x80\x99s 1,000 U.S. \xe5\x8c\x97";
    for (size_t cut = 0; cut <= strlen(s); cut++) {
        run(plain, s, cut, 0);
        for (size_t i = 0; i < result.n; i++)
            CHECK(result.tok[i].start < result.tok[i].end && result.tok[i].end <= cut);
    }
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t next_rand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

typedef struct fuzz_state {
    size_t len;
    uint32_t last_pos, last_end;
    int bad;
    size_t count;
} fuzz_state;

static int fuzz_check(void *ctx, const lede_token *tok)
{
    fuzz_state *f = ctx;
    if (tok->term_len == 0 || tok->term_len > LEDE_MAX_TERM || tok->start >= tok->end ||
        tok->end > f->len || tok->start < f->last_end || (f->count && tok->pos <= f->last_pos) ||
        memchr(tok->term, ' ', tok->term_len))
        f->bad++;
    f->last_pos = tok->pos;
    f->last_end = tok->end;
    f->count++;
    return 0;
}

static void test_fuzz(lede_analyzer *stemmed)
{
    /* Random bytes drawn from pieces that exercise every branch. */
    static const char *pieces[] = {"a", "Z", "9", ".", ",", "'", "\xe2\x80\x99", "s", "-", " ",
                                   "\xc3\xa9", "\xcc\x81", "\xc2\xad", "\xef\xac\x81",
                                   "\xe5\x8c\x97", "\xff", "\xc3", "\xe2\x80", "\0", "\xf0\x9f\x98\x80",
                                   "\xef\xb7\xba", "\xc2\xbd", "\xe2\x92\x88"};
    size_t npieces = sizeof pieces / sizeof *pieces;
    char buf[4096];
    for (int round = 0; round < 3000; round++) {
        size_t len = 0, want = next_rand() % 1000;
        while (len < want) {
            size_t k = next_rand() % (npieces + 4);
            if (k >= npieces) {
                buf[len++] = (char)(next_rand() & 0xff);
                continue;
            }
            size_t plen = k == 18 ? 1 : strlen(pieces[k]);
            memcpy(buf + len, pieces[k], plen);
            len += plen;
        }
        fuzz_state f = {.len = len};
        uint32_t next = 0;
        int rc = lede_analyze(stemmed, buf, len, 0, fuzz_check, &f, &next);
        CHECK_EQ_INT(rc, 0);
        if (f.bad)
            CHECK_EQ_INT(f.bad, 0);
        CHECK(next >= f.count);
    }
}

static void test_empty_and_args(lede_analyzer *plain)
{
    uint32_t next = 42;
    CHECK_EQ_INT(lede_analyze(plain, "", 0, 7, collect, &result, &next), 0);
    CHECK_EQ_INT(next, 7);
    CHECK_EQ_INT(lede_analyze(plain, NULL, 0, 3, collect, &result, &next), 0);
    CHECK_EQ_INT(next, 3);
    CHECK_EQ_STR(terms(plain, " .,;'-\xe2\x80\x99 "), "");
    CHECK_EQ_INT(result.n, 0);
    CHECK_EQ_INT(lede_analyze(NULL, "x", 1, 0, collect, &result, NULL), LEDE_EINVAL);
    CHECK_EQ_INT(lede_analyze(plain, NULL, 5, 0, collect, &result, NULL), LEDE_EINVAL);
    /* A NULL callback just counts positions. */
    CHECK_EQ_INT(lede_analyze(plain, "one two three", 13, 0, NULL, NULL, &next), 0);
    CHECK_EQ_INT(next, 3);
    lede_analyzer_free(NULL);
    CHECK_EQ_INT(lede_analyzer_new(NULL, NULL, NULL), LEDE_EINVAL);
    lede_analyzer *an = NULL;
    CHECK_EQ_INT(lede_analyzer_new(NULL, &an, NULL), LEDE_OK);   /* NULL opts: defaults */
    CHECK_EQ_STR(terms(an, "Running"), "run");
    lede_analyzer_free(an);
}

static int stop_at_second(void *ctx, const lede_token *tok)
{
    int *seen = ctx;
    return ++*seen == 2 ? 7 : 0;
}

/* A callback may use the helpers on the same analyzer without clobbering
 * the token it was given. */
static int reentrant(void *ctx, const lede_token *tok)
{
    lede_analyzer *an = ctx;
    char before[LEDE_MAX_TERM + 1], out[LEDE_MAX_TERM + 1];
    memcpy(before, tok->term, tok->term_len);
    lede_fold_word(an, "Something Else", 14, out, sizeof out);
    lede_stem_word(an, "something", 9, out, sizeof out);
    CHECK(memcmp(before, tok->term, tok->term_len) == 0);
    return 0;
}

static void test_callback(lede_analyzer *stemmed)
{
    int seen = 0;
    uint32_t next = 0;
    CHECK_EQ_INT(lede_analyze(stemmed, "one two three", 13, 0, stop_at_second, &seen, &next), 7);
    CHECK_EQ_INT(seen, 2);
    CHECK_EQ_INT(next, 2);   /* the word that stopped analysis is counted */
    seen = 0;
    CHECK_EQ_INT(lede_analyze(stemmed, "one", 3, 0, stop_at_second, &seen, &next), 0);
    CHECK_EQ_INT(lede_analyze(stemmed, "running Presidents", 18, 0, reentrant, stemmed, NULL), 0);
}

static void test_helpers(lede_analyzer *stemmed, lede_analyzer *plain)
{
    CHECK_EQ_STR(fold(stemmed, "Presidents"), "presidents");
    CHECK_EQ_STR(fold(stemmed, "\xc3\x89lys\xc3\xa9" "e"), "elysee");
    CHECK_EQ_STR(fold(stemmed, "Macron's"), "macron");
    CHECK_EQ_STR(fold(stemmed, "U.S."), "us");
    CHECK_EQ_STR(fold(stemmed, "  (Stra\xc3\x9f" "e) more"), "strasse");   /* the first word */
    CHECK_EQ_STR(fold(stemmed, "\xcc\x81 word"), "word");   /* marks alone are no word */
    CHECK_EQ_STR(fold(stemmed, ""), "");
    CHECK_EQ_STR(fold(stemmed, "-- ..."), "");
    char out[8];
    CHECK_EQ_INT(lede_fold_word(stemmed, "abcdefgh", 8, out, sizeof out), 0);   /* no room */
    CHECK_EQ_STR(out, "");
    CHECK_EQ_INT(lede_fold_word(stemmed, "abcdefg", 7, out, sizeof out), 7);
    CHECK_EQ_INT(lede_fold_word(stemmed, "abc", 3, out, 0), 0);
    CHECK_EQ_INT(lede_fold_word(NULL, "abc", 3, out, sizeof out), 0);
    char longword[80];
    memset(longword, 'b', 70);
    CHECK_EQ_INT(lede_fold_word(stemmed, longword, 70, out, sizeof out), 0);   /* over-long */

    CHECK_EQ_STR(stem(stemmed, "presidents"), "presid");
    CHECK_EQ_STR(stem(stemmed, "running"), "run");
    CHECK_EQ_STR(stem(stemmed, "elysee"), "elyse");
    CHECK_EQ_STR(stem(stemmed, "2017"), "2017");
    CHECK_EQ_STR(stem(plain, "presidents"), "presidents");   /* no_stem copies */
    CHECK_EQ_INT(lede_stem_word(stemmed, "presidents", 10, out, 6), 0);   /* "presid" + NUL */
    CHECK_EQ_INT(lede_stem_word(stemmed, "presidents", 10, out, 7), 6);
    CHECK_EQ_INT(lede_stem_word(stemmed, "", 0, out, sizeof out), 0);
    /* fold then stem gives what lede_analyze indexes. */
    char folded[LEDE_MAX_TERM + 1], stemmed_word[LEDE_MAX_TERM + 1];
    const char *words[] = {"Presidents'", "Macron\xe2\x80\x99s", "U.S.", ("\xc3\x89lys\xc3\xa9" "es"),
                           "3.5", "running"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        size_t n = lede_fold_word(stemmed, words[i], strlen(words[i]), folded, sizeof folded);
        lede_stem_word(stemmed, folded, n, stemmed_word, sizeof stemmed_word);
        CHECK_EQ_STR(stemmed_word, terms(stemmed, words[i]));
    }
}

/* The stem cache must be invisible: many distinct words (evicting one
 * another) stem the same on every pass and in a fresh analyzer. */
static void test_stem_cache(lede_analyzer *stemmed)
{
    enum { NWORDS = 60000 };
    static const char *suffixes[] = {"", "s", "ing", "ed", "ation", "ness", "ly", "ies"};
    lede_analyzer *fresh = new_analyzer(0, NULL);
    char word[40], a[LEDE_MAX_TERM + 1], b[LEDE_MAX_TERM + 1];
    int mismatches = 0;
    for (int pass = 0; pass < 2; pass++) {
        rng_state = 12345;
        for (int i = 0; i < NWORDS; i++) {
            int len = 2 + (int)(next_rand() % 10);
            for (int k = 0; k < len; k++)
                word[k] = (char)('a' + next_rand() % 26);
            strcpy(word + len, suffixes[next_rand() % 8]);
            size_t n = strlen(word);
            lede_stem_word(stemmed, word, n, a, sizeof a);
            if (pass == 1) {
                lede_stem_word(fresh, word, n, b, sizeof b);
                mismatches += strcmp(a, b) != 0;
            }
        }
    }
    CHECK_EQ_INT(mismatches, 0);
    lede_analyzer_free(fresh);
}

int main(void)
{
    lede_analyzer *stemmed = new_analyzer(0, NULL);
    lede_analyzer *plain = new_analyzer(1, NULL);
    if (!stemmed || !plain)
        return tap_done();
    test_words(plain, stemmed);
    test_folding(plain);
    test_apostrophes(plain, stemmed);
    test_dots(plain);
    test_numbers(plain, stemmed);
    test_hyphens(plain);
    test_offsets(plain);
    test_stemming(stemmed, plain);
    test_stop_words();
    test_over_long(plain, stemmed);
    test_invalid_utf8(plain);
    test_fuzz(stemmed);
    test_empty_and_args(plain);
    test_callback(stemmed);
    test_helpers(stemmed, plain);
    test_stem_cache(stemmed);
    lede_analyzer_free(stemmed);
    lede_analyzer_free(plain);
    return tap_done();
}
