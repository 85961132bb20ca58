/* test_suggest.c: unit tests of index/query/suggest.c through the public API
 * (include/lede/suggest.h).
 *
 * Parts, chosen by the first argument (none: all but allsides):
 *   crafted   a small corpus written here so every completion and weight is
 *             known by hand: ranking by document frequency (summed over
 *             segments), phrases of two title words, accents and case,
 *             displays (most frequent spelling, possessives, acronyms),
 *             words of one stem shown once, function words last,
 *             one-letter words never alone, deleted documents, one segment
 *             against two, and every odd input (empty, blank, invalid
 *             UTF-8, control characters, over-long, max 0 and 1, NULLs);
 *             random inputs never crash and always give clean UTF-8;
 *             several threads get the same answers as one.
 *   seeds     the sample articles (data/seeds.jsonl): phrases and words of
 *             their titles, every word's weight equal to the number of
 *             documents a search for it finds.
 *   allsides  all of allsides-news from $LEDE_SHARED or else ../../shared
 *             (relative to tests/, the working directory): build time,
 *             memory, per-call latency, and sensible completions of common
 *             prefixes. Without the corpus it prints "SKIP: ..." and exits
 *             77, meson's skip code. */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lede/index.h"
#include "lede/ingest.h"
#include "lede/lede.h"
#include "lede/search.h"
#include "lede/suggest.h"
#include "tap.h"
#include "testutil.h"

#define SKIP_CODE 77

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ helpers */

/* The completions of typed (max items) joined as "text=weight|...", or
 * "ERR:<rc name>" on an error. Caller frees. */
static char *complete(const lede_suggester *s, const char *typed, size_t len, uint32_t max)
{
    lede_suggestions *r = NULL;
    lede_err err;
    lede_err_clear(&err);
    int rc = lede_suggest(s, typed, len, max, &r, &err);
    char *out = malloc(8192);
    if (!out)
        abort();
    if (rc) {
        CHECK(r == NULL);
        CHECK_EQ_INT(err.rc, rc);
        snprintf(out, 8192, "ERR:%s", lede_rc_name(rc));
        return out;
    }
    CHECK(r != NULL);
    size_t n = 0;
    out[0] = '\0';
    for (uint32_t i = 0; r && i < r->n; i++)
        n += (size_t)snprintf(out + n, n < 8192 ? 8192 - n : 0, "%s%s=%llu", i ? "|" : "",
                              r->items[i].text, (unsigned long long)r->items[i].weight);
    CHECK(r->n <= max);
    CHECK(r->n > 0 || r->items == NULL);
    lede_suggestions_free(r);
    return out;
}

#define EXPECT(s, typed, max, want) do { char *got_ = complete((s), (typed), strlen(typed), (max)); \
    CHECK_EQ_STR(got_, (want)); free(got_); } while (0)

/* The text of the first completion ("" if none). */
static char *first(const lede_suggester *s, const char *typed)
{
    char *all = complete(s, typed, strlen(typed), 10);
    char *eq = strchr(all, '=');
    if (eq)
        *eq = '\0';
    return all;
}

#define EXPECT_FIRST(s, typed, want) do { char *got_ = first((s), (typed)); \
    CHECK_EQ_STR(got_, (want)); free(got_); } while (0)

static lede_suggester *build_suggester(lede_index *ix)
{
    lede_suggester *s = NULL;
    lede_err err;
    lede_err_clear(&err);
    int rc = lede_suggester_build(ix, &s, &err);
    CHECK_EQ_INT(rc, 0);
    if (rc)
        fprintf(stderr, "lede_suggester_build: %s\n", err.msg);
    return s;
}

static lede_index *open_ix(const char *dir)
{
    lede_index *ix = NULL;
    lede_err err;
    lede_err_clear(&err);
    int rc = lede_index_open(dir, &ix, &err);
    CHECK_EQ_INT(rc, 0);
    if (rc)
        fprintf(stderr, "lede_index_open %s: %s\n", dir, err.msg);
    return ix;
}

/* Whether s[0..n) is valid UTF-8 without C0 controls or DEL. */
static int clean_utf8(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        if (c < 0x20 || c == 0x7F)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (k == 0 || i + k > n)
            return 0;
        unsigned cp = c & (k == 2 ? 0x1F : k == 3 ? 0x0F : 0x07);
        for (size_t j = 1; j < k; j++) {
            if ((p[i + j] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i + j] & 0x3F);
        }
        if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp < 0xE000))
            return 0;
        i += k;
    }
    return 1;
}

/* ------------------------------------------------------------ crafted corpus */

typedef struct tdoc {
    const char *id, *title, *body;
} tdoc;

/* Document frequencies by hand (stems in brackets): panic 6 (t1-t5 bodies,
 * t10 title), elysee [elyse] 3, palace 2, planned and plan [plan] 2 (t3,
 * t11), passes [pass] 1 (t8), border 4 (t4, t5, t6, t11), wall 3 (t4, t5,
 * t6 "walls"), us 3 (t7, t8, t9), senate 2, theory [theori] 1, theatre
 * [theatr] 1, the 7 (t1, t4, t5, t7, t8 bodies, t11, t13 titles). Ties go
 * to the word in more titles, then to key order. Phrases in two titles or
 * more: border wall (t4, t5), élysée palace (t1, t2), us senate (t8, t9).
 * The titles hold 35 words of more than one character. */
static const tdoc crafted[] = {
    {"t1", "Élysée Palace statement on Brexit", "The palace said little. Panic in markets."},
    {"t2", "Élysée palace responds", "No panic here."},
    {"t3", "Elysee visit planned", "A visit. Panic again."},
    {"t4", "Border wall funding", "The border wall needs funding. Panic."},
    {"t5", "Border Wall vote fails", "Vote on the wall. Panic."},
    {"t6", "Border walls and security", "Security matters."},
    {"t7", "Macron's U.S. visit", "Macron visits the U.S. today."},
    {"t8", "U.S. Senate passes bill", "The senate passed it."},
    {"t9", "U.S. Senate adjourns", "Senate adjourns."},
    {"t10", "Don't panic, says minister", "Minister speaks."},
    {"t11", "Plan B for the border", "Plan B."},
    {"t12", "Zanzibar treaty signed", "Signed in Zanzibar."},
    {"t13", "Theory of the theatre", "Theatre and theory."},
};
#define NCRAFTED ((int)(sizeof crafted / sizeof crafted[0]))

/* Indexes docs [0, split) and then [split, n) in two commits; no_merge
 * keeps two segments. */
static void write_docs(const char *dir, const tdoc *docs, int n, int split, int no_merge)
{
    lede_writer_opts o = {0};
    o.no_merge = no_merge;
    lede_writer *w;
    lede_err err;
    lede_err_clear(&err);
    int rc = lede_writer_open(dir, &o, 1, &w, &err);
    CHECK_EQ_INT(rc, 0);
    if (rc) {
        fprintf(stderr, "writer_open: %s\n", err.msg);
        exit(1);
    }
    for (int i = 0; i < n; i++) {
        lede_doc d = {0};
        d.id = (lede_str){docs[i].id, strlen(docs[i].id)};
        if (docs[i].title)
            d.title = (lede_str){docs[i].title, strlen(docs[i].title)};
        d.body = (lede_str){docs[i].body, strlen(docs[i].body)};
        CHECK_EQ_INT(lede_writer_add(w, &d, &err), 0);
        if (i + 1 == split)
            CHECK_EQ_INT(lede_writer_commit(w, &err), 0);
    }
    CHECK_EQ_INT(lede_writer_commit(w, &err), 0);
    lede_writer_free(w);
}

static void delete_doc(const char *dir, const char *id)
{
    lede_writer_opts o = {0};
    o.no_merge = 1;
    lede_writer *w;
    lede_err err;
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_writer_open(dir, &o, 0, &w, &err), 0);
    int found = 0;
    CHECK_EQ_INT(lede_writer_delete(w, id, strlen(id), &found, &err), 0);
    CHECK_EQ_INT(found, 1);
    CHECK_EQ_INT(lede_writer_commit(w, &err), 0);
    lede_writer_free(w);
}

/* The answers every form of the crafted index must give. */
static void check_crafted(const lede_suggester *s)
{
    /* Ranked by document frequency of the word's stem. */
    EXPECT(s, "pa", 10, "panic=6|palace=2|passes=1");
    EXPECT(s, "pa", 2, "panic=6|palace=2");
    EXPECT(s, "pa", 1, "panic=6");
    EXPECT(s, "pa", 0, "");
    EXPECT(s, "pa", UINT32_MAX, "panic=6|palace=2|passes=1");
    EXPECT(s, "panic", 10, "panic=6");
    EXPECT(s, "panics", 10, "");
    /* Accents and case fold for matching; the display is the most frequent
     * spelling, lower-cased (two "Élysée" against one "Elysee"). */
    EXPECT(s, "ely", 10, "élysée=3");
    EXPECT(s, "ÉLY", 10, "élysée=3");
    EXPECT(s, "Ély", 10, "élysée=3");
    EXPECT(s, "e\xcc\x81ly", 10, "élysée=3"); /* NFD */
    EXPECT(s, "ELYSEE", 10, "élysée=3");
    /* Phrases complete the last word after the previous one, keeping the
     * typed text as typed; then single words. */
    EXPECT(s, "border w", 10, "border wall=2");
    EXPECT(s, "Border W", 10, "Border wall=2");
    EXPECT(s, "  Border   w", 10, "  Border   wall=2");
    EXPECT(s, "élysée p", 10, "élysée palace=2|élysée panic=6|élysée plan=2|élysée passes=1");
    EXPECT(s, "ELYSEE PA", 1, "ELYSEE palace=2");
    EXPECT(s, "vote p", 10, "vote panic=6|vote palace=2|vote plan=2|vote passes=1");
    /* After a separator: the words that follow the last one in titles. */
    EXPECT(s, "border ", 10, "border wall=2");
    EXPECT(s, "Élysée ", 10, "Élysée palace=2");
    EXPECT(s, "border,", 10, "border, wall=2");
    EXPECT(s, "panic ", 10, "");
    EXPECT(s, "zebra ", 10, "");
    /* Acronyms keep their dots; possessives and "'s" go. */
    EXPECT(s, "u.s", 10, "u.s.=3");
    EXPECT(s, "U.S. s", 10, "U.S. senate=2|U.S. says=1|U.S. security=1|U.S. signed=1|U.S. statement=1");
    EXPECT(s, "U.S. ", 10, "U.S. senate=2");
    EXPECT(s, "macr", 10, "macron=1");
    EXPECT(s, "macron's", 10, "macron=1");
    EXPECT(s, "don'", 10, "don't=1");
    EXPECT(s, "don", 10, "don't=1");
    /* Words of one stem are offered once ("walls" finds what "wall" finds). */
    EXPECT(s, "wal", 10, "wall=3");
    /* Function words rank after every other word; one-letter words are
     * never offered alone. */
    EXPECT(s, "the", 10, "theatre=1|theory=1|the=7");
    EXPECT(s, "b", 10, "border=4|bill=1|brexit=1");
    EXPECT(s, "plan ", 10, "");
    /* Nothing to complete. */
    EXPECT(s, "", 10, "");
    EXPECT(s, "   ", 10, "");
    EXPECT(s, "!?", 10, "");
    EXPECT(s, "qqq", 10, "");
}

static void check_odd_inputs(const lede_suggester *s)
{
    /* Invalid UTF-8 gives nothing; control characters separate words and
     * show as spaces. */
    EXPECT(s, "pa\xff", 10, "");
    EXPECT(s, "\xc3", 10, "");
    EXPECT(s, "border \xed\xa0\x80", 10, "");   /* a surrogate */
    EXPECT(s, "border\tw", 10, "border wall=2");
    EXPECT(s, "border\nw", 10, "border wall=2");
    EXPECT(s, "\x01" "border\x7f", 10, " border wall=2");
    char *got = complete(s, "border\0w", 8, 10);
    CHECK_EQ_STR(got, "border wall=2");
    free(got);
    /* An over-long last word cannot be completed. */
    char longw[200];
    memset(longw, 'p', sizeof longw);
    memcpy(longw, "border ", 7);
    got = complete(s, longw, sizeof longw, 10);
    CHECK_EQ_STR(got, "");
    free(got);
    /* LEDE_SUGGEST_MAX_INPUT bytes are fine; one more is refused. */
    char big[LEDE_SUGGEST_MAX_INPUT + 1];
    memset(big, ' ', sizeof big);
    memcpy(big + LEDE_SUGGEST_MAX_INPUT - 8, "border w", 8);
    got = complete(s, big, LEDE_SUGGEST_MAX_INPUT, 10);
    CHECK(strstr(got, "border wall=2") != NULL);
    free(got);
    big[LEDE_SUGGEST_MAX_INPUT] = 'a';
    got = complete(s, big, LEDE_SUGGEST_MAX_INPUT + 1, 10);
    CHECK_EQ_STR(got, "ERR:LEDE_ELIMIT");
    free(got);
    /* NULLs. */
    lede_suggestions *r = (lede_suggestions *)&r;
    lede_err err;
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_suggest(NULL, "pa", 2, 10, &r, &err), LEDE_EINVAL);
    CHECK(r == NULL);
    CHECK_EQ_INT(lede_suggest(s, "pa", 2, 10, NULL, NULL), LEDE_EINVAL);
    CHECK_EQ_INT(lede_suggest(s, NULL, 2, 10, &r, NULL), LEDE_EINVAL);
    CHECK_EQ_INT(lede_suggest(s, NULL, 0, 10, &r, NULL), 0);
    CHECK(r != NULL && r->n == 0 && r->items == NULL);
    lede_suggestions_free(r);
    lede_suggestions_free(NULL);
    lede_suggester_free(NULL);
    CHECK_EQ_INT(lede_suggester_size(NULL), 0);
    CHECK_EQ_INT(lede_suggester_build(NULL, NULL, NULL), LEDE_EINVAL);
}

/* Random inputs made of pieces that stress the analyzer's edges. */
static void check_random(const lede_suggester *s)
{
    static const char *const pieces[] = {
        "pa", "b", "border", "wall", " ", "  ", "'", "\xe2\x80\x99", ".", "U.S.", "-", ",",
        "É", "e\xcc\x81", "\xff", "\xc3", "\xed\xa0\x80", "\t", "\n", "\x7f", "\xc2\x85", "1,000",
        "3.5", "ﬁ", "Ⅻ", "北京", "😀", "\xc2\xad", "s", "'s", "ELY", "the ", "don", "panic ",
    };
    const size_t npieces = sizeof pieces / sizeof pieces[0];
    unsigned seed = 12345;
    char buf[400];
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = 0;
        int n = (int)(rand_r(&seed) % 12);
        for (int k = 0; k < n; k++) {
            if (rand_r(&seed) % 8 == 0) {   /* any byte */
                if (len < sizeof buf)
                    buf[len++] = (char)(rand_r(&seed) & 0xFF);
                continue;
            }
            const char *p = pieces[rand_r(&seed) % npieces];
            size_t pl = strlen(p);
            if (len + pl <= sizeof buf) {
                memcpy(buf + len, p, pl);
                len += pl;
            }
        }
        if (iter % 97 == 0) {   /* sometimes long */
            while (len + 6 <= sizeof buf)
                memcpy(buf + len, "border", 6), len += 6;
        }
        uint32_t max = (uint32_t)(rand_r(&seed) % 12);
        lede_suggestions *r = NULL;
        lede_err err;
        lede_err_clear(&err);
        int rc = lede_suggest(s, buf, len, max, &r, &err);
        if (len > LEDE_SUGGEST_MAX_INPUT) {
            CHECK_EQ_INT(rc, LEDE_ELIMIT);
            continue;
        }
        CHECK_EQ_INT(rc, 0);
        if (rc)
            continue;
        CHECK(r->n <= max);
        for (uint32_t i = 0; i < r->n; i++) {
            size_t tl = strlen(r->items[i].text);
            CHECK_MSG(clean_utf8(r->items[i].text, tl), r->items[i].text);
            CHECK(tl > 0 && tl <= len + 1 + 255);
        }
        lede_suggestions_free(r);
    }
}

/* ------------------------------------------------------------ threads */

static const char *const thread_queries[] = {
    "pa", "ely", "border w", "border ", "U.S. s", "the", "b", "wal", "don'", "élysée p", "qq", "",
};
#define NTQ ((int)(sizeof thread_queries / sizeof thread_queries[0]))

typedef struct thread_arg {
    const lede_suggester *s;
    char *want[NTQ];
    int bad;
} thread_arg;

static void *thread_main(void *p)
{
    thread_arg *a = p;
    for (int round = 0; round < 300; round++)
        for (int q = 0; q < NTQ; q++) {
            lede_suggestions *r = NULL;
            if (lede_suggest(a->s, thread_queries[q], strlen(thread_queries[q]), 10, &r, NULL)) {
                __atomic_add_fetch(&a->bad, 1, __ATOMIC_RELAXED);
                continue;
            }
            char got[2048];
            size_t n = 0;
            got[0] = '\0';
            for (uint32_t i = 0; i < r->n && n < sizeof got; i++)
                n += (size_t)snprintf(got + n, sizeof got - n, "%s%s=%llu", i ? "|" : "",
                                      r->items[i].text, (unsigned long long)r->items[i].weight);
            if (strcmp(got, a->want[q]) != 0)
                __atomic_add_fetch(&a->bad, 1, __ATOMIC_RELAXED);
            lede_suggestions_free(r);
        }
    return NULL;
}

static void check_threads(const lede_suggester *s)
{
    thread_arg a = {.s = s};
    for (int q = 0; q < NTQ; q++)
        a.want[q] = complete(s, thread_queries[q], strlen(thread_queries[q]), 10);
    pthread_t th[4];
    for (int t = 0; t < 4; t++)
        CHECK_EQ_INT(pthread_create(&th[t], NULL, thread_main, &a), 0);
    for (int t = 0; t < 4; t++)
        pthread_join(th[t], NULL);
    CHECK_EQ_INT(a.bad, 0);
    for (int q = 0; q < NTQ; q++)
        free(a.want[q]);
}

static int run_crafted(const char *root)
{
    /* One segment. */
    char *one = test_path(root, "one");
    write_docs(one, crafted, NCRAFTED, 0, 0);
    lede_index *ix = open_ix(one);
    if (!ix)
        return 1;
    lede_suggester *s = build_suggester(ix);
    if (!s)
        return 1;
    check_crafted(s);
    check_odd_inputs(s);
    check_random(s);
    check_threads(s);
    EXPECT(s, "zan", 10, "zanzibar=1");
    EXPECT(s, "treaty ", 10, "");
    /* 35 words of more than one character, three phrases. */
    CHECK_EQ_INT(lede_suggester_size(s), 38);
    lede_suggester_free(s);
    lede_index_free(ix);

    /* Two segments: the same answers (df is summed over segments). */
    char *two = test_path(root, "two");
    write_docs(two, crafted, NCRAFTED, 6, 1);
    ix = open_ix(two);
    if (!ix)
        return 1;
    lede_index_stats st;
    lede_err err;
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_index_stats_get(ix, &st, &err), 0);
    CHECK_EQ_INT(st.segments, 2);
    s = build_suggester(ix);
    if (!s)
        return 1;
    check_crafted(s);
    CHECK_EQ_INT(lede_suggester_size(s), 38);
    lede_suggester_free(s);
    lede_index_free(ix);

    /* A deleted document's title is not offered (its segment keeps it,
     * marked deleted). */
    delete_doc(two, "t12");
    ix = open_ix(two);
    if (!ix)
        return 1;
    CHECK_EQ_INT(lede_index_stats_get(ix, &st, &err), 0);
    CHECK_EQ_INT(st.deleted, 1);
    s = build_suggester(ix);
    if (!s)
        return 1;
    EXPECT(s, "zan", 10, "");
    EXPECT(s, "tre", 10, "");
    EXPECT(s, "si", 10, "");
    EXPECT(s, "pa", 10, "panic=6|palace=2|passes=1");
    CHECK_EQ_INT(lede_suggester_size(s), 35);
    lede_suggester_free(s);
    lede_index_free(ix);

    /* An empty index, and documents without titles. */
    char *none = test_path(root, "none");
    static const tdoc untitled[] = {{"u1", NULL, "panic everywhere"}, {"u2", "", "panic"}};
    write_docs(none, untitled, 2, 0, 0);
    ix = open_ix(none);
    if (!ix)
        return 1;
    s = build_suggester(ix);
    if (!s)
        return 1;
    CHECK_EQ_INT(lede_suggester_size(s), 0);
    EXPECT(s, "pa", 10, "");
    EXPECT(s, "panic ", 10, "");
    lede_suggester_free(s);
    lede_index_free(ix);
    char *empty = test_path(root, "empty");
    write_docs(empty, untitled, 0, 0, 0);
    ix = open_ix(empty);
    if (!ix)
        return 1;
    s = build_suggester(ix);
    if (!s)
        return 1;
    CHECK_EQ_INT(lede_suggester_size(s), 0);
    EXPECT(s, "p", 10, "");
    lede_suggester_free(s);
    lede_index_free(ix);
    free(one);
    free(two);
    free(none);
    free(empty);
    return 0;
}

/* ------------------------------------------------------------ seeds */

/* Indexes path (up to limit docs, 0 = all) into dir; returns the index or NULL. */
static lede_index *build_from(const char *dir, const char *path, uint64_t limit)
{
    lede_index *ix = test_build_index(dir, path, limit);
    CHECK_MSG(ix != NULL, path);
    return ix;
}

/* Documents a search for word finds (the index has no deletions, so this
 * is its document frequency). */
static uint64_t search_total(lede_index *ix, const char *word)
{
    lede_search_opts o = {0};
    o.query = word;
    o.k = 1;
    o.exhaustive = 1;
    o.plain = 1;
    o.ids_only = 1;
    lede_results *res = NULL;
    lede_err err;
    lede_err_clear(&err);
    int rc = lede_search(ix, &o, &res, &err);
    CHECK_EQ_INT(rc, 0);
    uint64_t total = rc ? 0 : res->total;
    lede_results_free(res);
    return total;
}

static int run_seeds(const char *root)
{
    char *dir = test_path(root, "seeds");
    lede_index *ix = build_from(dir, "data/seeds.jsonl", 0);
    free(dir);
    if (!ix)
        return 1;
    lede_suggester *s = build_suggester(ix);
    if (!s)
        return 1;
    /* Titles 000, 001 and 002 say "social media"; 002 and 004 "Theresa May". */
    EXPECT_FIRST(s, "social m", "social media");
    EXPECT(s, "Social me", 1, "Social media=3");
    EXPECT(s, "theresa ", 10, "theresa may=2");
    EXPECT_FIRST(s, "mac", "macron");
    /* By document frequency, then number of titles (media 3, macron 2,
     * material and minister 1, in key order); "more" is a function word. */
    EXPECT(s, "m", 10, "media=5|macron=5|material=5|minister=5|may=4|more=5");
    EXPECT_FIRST(s, "extrem", "extremist");
    EXPECT_FIRST(s, "TERROR", "terrorism");
    /* Every word's weight is the number of documents its search finds. */
    static const char *const prefixes[] = {"m", "s", "t", "f", "e", "c", "p", "r", "g"};
    int words = 0;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        lede_suggestions *r = NULL;
        CHECK_EQ_INT(lede_suggest(s, prefixes[i], 1, 50, &r, NULL), 0);
        for (uint32_t j = 0; r && j < r->n; j++, words++) {
            CHECK_MSG(r->items[j].weight == search_total(ix, r->items[j].text), r->items[j].text);
            CHECK(r->items[j].weight > 0);
        }
        lede_suggestions_free(r);
    }
    CHECK(words > 40);
    lede_suggester_free(s);
    lede_index_free(ix);
    return 0;
}

/* ------------------------------------------------------------ allsides */

static size_t heap_bytes(void)
{
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

/* Whether the joined completions list holds text as an item. */
static int has_item(const char *all, const char *text)
{
    size_t n = strlen(text);
    for (const char *p = all; (p = strstr(p, text)) != NULL; p++)
        if ((p == all || p[-1] == '|') && p[n] == '=')
            return 1;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int run_allsides(const char *root)
{
    const char *shared = getenv("LEDE_SHARED");
    if (!shared || !*shared)
        shared = "../../shared";
    char corpus[1024];
    snprintf(corpus, sizeof corpus, "%s/corpora/allsides-news/corpus.jsonl.zst", shared);
    if (access(corpus, R_OK) != 0) {
        printf("SKIP: %s not found (set LEDE_SHARED to the shared folder): allsides "
               "completions not tested\n", corpus);
        return SKIP_CODE;
    }
    char *dir = test_path(root, "allsides");
    lede_index *ix = build_from(dir, corpus, 0);
    free(dir);
    if (!ix)
        return 1;
    lede_index_stats st;
    lede_index_stats_get(ix, &st, NULL);
    CHECK_EQ_INT(st.documents, 37554);
    /* The server builds a suggester on every (re)open: it must be quick. */
    double best = 1e9;
    size_t mem = 0;
    lede_suggester *s = NULL;
    for (int i = 0; i < 3; i++) {
        lede_suggester_free(s);
        size_t before = heap_bytes();
        double t0 = now();
        s = build_suggester(ix);
        double t = now() - t0;
        if (!s)
            return 1;
        mem = heap_bytes() - before;
        best = t < best ? t : best;
    }
    printf("allsides: %llu documents, suggester built in %.3f s (best of 3), %.1f MB, "
           "%llu completions\n", (unsigned long long)st.documents, best, (double)mem / 1e6,
           (unsigned long long)lede_suggester_size(s));
    CHECK(best < (SANITIZED ? 20.0 : 3.0));
    CHECK(SANITIZED || (mem > 0 && mem < 32u << 20)); /* sanitizers hide malloc from mallinfo */
    CHECK(lede_suggester_size(s) > 20000);

    EXPECT_FIRST(s, "tru", "trump");
    EXPECT_FIRST(s, "Trum", "trump");
    EXPECT_FIRST(s, "oba", "obama");
    EXPECT_FIRST(s, "immig", "immigration");
    EXPECT_FIRST(s, "elec", "election");
    EXPECT_FIRST(s, "presid", "president");
    EXPECT_FIRST(s, "supreme c", "supreme court");
    EXPECT_FIRST(s, "north k", "north korea");
    EXPECT_FIRST(s, "hillary c", "hillary clinton");
    EXPECT_FIRST(s, "new y", "new york");
    EXPECT_FIRST(s, "Border ", "Border wall");
    EXPECT_FIRST(s, "health ", "health care");
    /* One-letter prefixes give content words, not "the" or "a". */
    static const char *const letters[] = {"a", "t", "s", "w", "i", "o"};
    for (size_t i = 0; i < sizeof letters / sizeof letters[0]; i++) {
        char *all = complete(s, letters[i], 1, 10);
        CHECK_MSG(strlen(all) > 0 && !has_item(all, "the") && !has_item(all, "and") &&
                      !has_item(all, "a") && !has_item(all, "of") && !has_item(all, "to"), all);
        printf("  %s -> %s\n", letters[i], all);
        free(all);
    }

    /* Latency over prefixes of real words and phrases, as typed key by key. */
    static const char *const typed[] = {
        "trump", "border wall", "supreme court", "hillary clinton", "north korea",
        "health care", "immigration reform", "obama", "climate change", "tax cuts",
        "white house", "gun control", "russia investigation", "brexit", "the new york times",
        "élysée", "a", "s", "t", "co", "pr",
    };
    size_t ncalls = 0;
    double lat[4096];
    for (int pass = 0; pass < 20; pass++)
        for (size_t q = 0; q < sizeof typed / sizeof typed[0]; q++)
            for (size_t n = 1; n <= strlen(typed[q]); n++) {
                lede_suggestions *r = NULL;
                double t0 = now();
                int rc = lede_suggest(s, typed[q], n, 10, &r, NULL);
                double t = now() - t0;
                CHECK_EQ_INT(rc, 0);
                lede_suggestions_free(r);
                if (ncalls < sizeof lat / sizeof lat[0])
                    lat[ncalls++] = t;
            }
    qsort(lat, ncalls, sizeof lat[0], cmp_double);
    double p50 = lat[ncalls / 2] * 1e6, p99 = lat[ncalls * 99 / 100] * 1e6;
    printf("allsides: lede_suggest (max 10) p50 %.1f us, p99 %.1f us, max %.1f us over %zu "
           "calls\n", p50, p99, lat[ncalls - 1] * 1e6, ncalls);
    /* The median, not the tail: a shared machine preempts now and then. */
    CHECK(SANITIZED || p50 < 50.0);
    lede_suggester_free(s);
    lede_index_free(ix);
    return 0;
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    const char *part = argc > 1 ? argv[1] : "all";
    int do_crafted = strcmp(part, "all") == 0 || strcmp(part, "crafted") == 0;
    int do_seeds = strcmp(part, "all") == 0 || strcmp(part, "seeds") == 0;
    int do_allsides = strcmp(part, "allsides") == 0;
    if (!do_crafted && !do_seeds && !do_allsides) {
        fprintf(stderr, "usage: test_suggest [crafted|seeds|allsides]\n");
        return 2;
    }
    char *root = test_tmpdir("suggest");
    int skip = 0;
    if (do_crafted)
        run_crafted(root);
    if (do_seeds)
        run_seeds(root);
    if (do_allsides)
        skip = run_allsides(root) == SKIP_CODE;
    test_rmtree(root);
    free(root);
    int rc = tap_done();
    return rc == 0 && skip ? SKIP_CODE : rc;
}
