/* test_hashtab.c: the one hash table of index/base/hashtab.c (and its
 * inline half in base/base.h): insert and find, growth from a zeroed table
 * and from lede_htab_init, keys whose hashes are all equal (every probe
 * compares keys), the empty key, many keys, and the O(1) reset, including
 * the real clear once refs pass half their range. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "tap.h"

/* The entries: keys back to back in pool, one (offset, length) each. */
typedef struct keys {
    char *pool;
    size_t pool_len;
    uint32_t *off, *len;
    uint32_t n;
    uint32_t compares;
} keys;

static bool key_eq(const void *ctx, uint32_t i, const void *key, size_t len)
{
    keys *k = (keys *)ctx;
    k->compares++;
    return k->len[i] == len && memcmp(k->pool + k->off[i], key, len) == 0;
}

static void keys_init(keys *k, uint32_t cap)
{
    memset(k, 0, sizeof *k);
    k->pool = malloc((size_t)cap * 16);
    k->off = malloc(cap * sizeof *k->off);
    k->len = malloc(cap * sizeof *k->len);
}

static void keys_free(keys *k)
{
    free(k->pool);
    free(k->off);
    free(k->len);
}

/* Finds key, adding it if new, under the given hash; returns its index. */
static uint32_t intern(lede_htab *t, keys *k, const char *s, size_t n, uint32_t hash)
{
    uint32_t pos;
    uint32_t i = lede_htab_find(t, hash, s, n, key_eq, k, &pos);
    if (i != LEDE_HTAB_NONE)
        return i;
    k->off[k->n] = (uint32_t)k->pool_len;
    k->len[k->n] = (uint32_t)n;
    memcpy(k->pool + k->pool_len, s, n);
    k->pool_len += n;
    CHECK_EQ_INT(lede_htab_insert(t, pos, hash, k->n), LEDE_OK);
    return k->n++;
}

static void test_basic(void)
{
    lede_htab t = {0};
    keys k;
    keys_init(&k, 16);
    uint32_t pos = 7;
    /* A zeroed table is empty and allocates nothing until the first insert. */
    CHECK(lede_htab_find(&t, lede_hash("a", 1), "a", 1, key_eq, &k, &pos) == LEDE_HTAB_NONE);
    CHECK_EQ_INT(lede_htab_bytes(&t), 0);
    CHECK(lede_htab_peek(&t, 1) == LEDE_HTAB_NONE);
    CHECK_EQ_INT(intern(&t, &k, "a", 1, lede_hash("a", 1)), 0);
    CHECK_EQ_INT(intern(&t, &k, "", 0, lede_hash("", 0)), 1);   /* the empty key is a key */
    CHECK_EQ_INT(intern(&t, &k, "ab", 2, lede_hash("ab", 2)), 2);
    CHECK_EQ_INT(intern(&t, &k, "a", 1, lede_hash("a", 1)), 0);
    CHECK_EQ_INT(intern(&t, &k, "", 0, lede_hash("", 0)), 1);
    CHECK_EQ_INT(t.n, 3);
    CHECK(lede_htab_find(&t, lede_hash("b", 1), "b", 1, key_eq, &k, NULL) == LEDE_HTAB_NONE);
    CHECK(lede_htab_bytes(&t) > 0);
    lede_htab_free(&t);
    CHECK(t.slot == NULL && t.n == 0);
    lede_htab_free(&t);   /* twice is fine */
    lede_htab_free(NULL);
    keys_free(&k);
}

/* Every key has the same hash: the table must still tell them apart, and
 * survive growth with one long probe run. */
static void test_collisions(void)
{
    enum { N = 300 };
    lede_htab t = {0};
    keys k;
    keys_init(&k, N);
    char s[16];
    for (uint32_t i = 0; i < N; i++) {
        int n = snprintf(s, sizeof s, "k%u", i);
        CHECK_EQ_INT(intern(&t, &k, s, (size_t)n, 42), i);
    }
    CHECK_EQ_INT(t.n, N);
    for (uint32_t i = 0; i < N; i++) {
        int n = snprintf(s, sizeof s, "k%u", i);
        CHECK_EQ_INT(lede_htab_find(&t, 42, s, (size_t)n, key_eq, &k, NULL), i);
    }
    CHECK(lede_htab_find(&t, 42, "k300", 4, key_eq, &k, NULL) == LEDE_HTAB_NONE);
    /* The same key under another hash is another key: hashes are compared first. */
    k.compares = 0;
    CHECK(lede_htab_find(&t, 43, "k1", 2, key_eq, &k, NULL) == LEDE_HTAB_NONE);
    CHECK_EQ_INT(k.compares, 0);
    lede_htab_free(&t);
    keys_free(&k);
}

static void test_many(void)
{
    enum { N = 200000 };
    keys k;
    keys_init(&k, N);
    for (int presize = 0; presize < 2; presize++) {
        lede_htab t = {0};
        k.n = 0;
        k.pool_len = 0;
        if (presize)
            CHECK_EQ_INT(lede_htab_init(&t, N), LEDE_OK);
        size_t bytes = lede_htab_bytes(&t);
        char s[16];
        for (uint32_t i = 0; i < N; i++) {
            int n = snprintf(s, sizeof s, "%x", i * 2654435761u);
            uint32_t got = intern(&t, &k, s, (size_t)n, lede_hash(s, (size_t)n));
            if (got != i)
                CHECK_EQ_INT(got, i);
        }
        if (presize)
            CHECK_EQ_INT(lede_htab_bytes(&t), bytes);   /* no growth after init(N) */
        /* At most half full. */
        CHECK((uint64_t)t.n * 2 <= (uint64_t)t.mask + 1);
        int bad = 0;
        for (uint32_t i = 0; i < N; i++) {
            int n = snprintf(s, sizeof s, "%x", i * 2654435761u);
            bad += lede_htab_find(&t, lede_hash(s, (size_t)n), s, (size_t)n, key_eq, &k, NULL) != i;
            /* The peek is a guess, but the right one when the key sits in its first slot. */
            uint32_t p = lede_htab_peek(&t, lede_hash(s, (size_t)n));
            bad += p != LEDE_HTAB_NONE && p >= k.n;
        }
        CHECK_EQ_INT(bad, 0);
        lede_htab_free(&t);
    }
    keys_free(&k);
}

static void test_reset(void)
{
    lede_htab t = {0};
    keys k;
    keys_init(&k, 64);
    CHECK_EQ_INT(intern(&t, &k, "x", 1, 7), 0);
    CHECK_EQ_INT(intern(&t, &k, "y", 1, 7), 1);
    size_t bytes = lede_htab_bytes(&t);
    for (int round = 0; round < 3; round++) {
        lede_htab_reset(&t);
        CHECK_EQ_INT(t.n, 0);
        CHECK_EQ_INT(lede_htab_bytes(&t), bytes);
        CHECK(lede_htab_find(&t, 7, "x", 1, key_eq, &k, NULL) == LEDE_HTAB_NONE);
        CHECK(lede_htab_peek(&t, 7) == LEDE_HTAB_NONE);
        /* Indexes start again at 0 after a reset; the keys array is the caller's. */
        k.n = 0;
        k.pool_len = 0;
        CHECK_EQ_INT(intern(&t, &k, "y", 1, 7), 0);
        CHECK_EQ_INT(intern(&t, &k, "x", 1, 7), 1);
        CHECK_EQ_INT(lede_htab_find(&t, 7, "y", 1, key_eq, &k, NULL), 0);
    }
    /* Growth after resets keeps only the live entries. */
    char s[16];
    for (uint32_t i = 2; i < 64; i++) {
        int n = snprintf(s, sizeof s, "w%u", i);
        CHECK_EQ_INT(intern(&t, &k, s, (size_t)n, lede_hash(s, (size_t)n)), i);
    }
    CHECK_EQ_INT(t.n, 64);
    CHECK_EQ_INT(lede_htab_find(&t, 7, "x", 1, key_eq, &k, NULL), 1);
    /* Near the top of the ref range a reset clears the slots for real. */
    t.top = t.base = UINT32_MAX / 2 + 5;
    lede_htab_reset(&t);
    CHECK_EQ_INT(t.base, 0);
    CHECK_EQ_INT(t.top, 0);
    int live = 0;
    for (uint32_t i = 0; i <= t.mask; i++)
        live += t.slot[i].ref != 0;
    CHECK_EQ_INT(live, 0);
    k.n = 0;
    k.pool_len = 0;
    CHECK_EQ_INT(intern(&t, &k, "x", 1, 7), 0);
    CHECK_EQ_INT(lede_htab_find(&t, 7, "x", 1, key_eq, &k, NULL), 0);
    /* An index past the limit is refused and leaves the table as it was. */
    uint32_t pos;
    CHECK(lede_htab_find(&t, 9, "z", 1, key_eq, &k, &pos) == LEDE_HTAB_NONE);
    CHECK_EQ_INT(lede_htab_insert(&t, pos, 9, LEDE_HTAB_MAX), LEDE_ELIMIT);
    CHECK_EQ_INT(t.n, 1);
    CHECK_EQ_INT(lede_htab_init(&t, LEDE_HTAB_MAX + 1), LEDE_ELIMIT);
    lede_htab_free(&t);
    keys_free(&k);
}

int main(void)
{
    test_basic();
    test_collisions();
    test_many();
    test_reset();
    return tap_done();
}
