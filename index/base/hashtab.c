/* hashtab.c: the slow paths of the one hash table (base/base.h has the
 * inline look-up and insert): allocation, growth and reset. Growth copies
 * the slots into a table twice the size using their stored hashes, so no
 * key is read or hashed again. Calls libc only. */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

#define FIRST_CAP 16

/* A table of cap slots holding t's entries; refs become index + 1 again. */
static int rehash(lede_htab *t, uint64_t cap)
{
    if (cap > (uint64_t)LEDE_HTAB_MAX * 2)
        return LEDE_ELIMIT;
    lede_hslot *fresh = calloc((size_t)cap, sizeof *fresh);
    if (!fresh)
        return LEDE_ENOMEM;
    uint32_t mask = (uint32_t)(cap - 1), top = 0;
    for (uint64_t i = 0; t->slot && i <= t->mask; i++) {
        lede_hslot s = t->slot[i];
        if (s.ref <= t->base)
            continue;
        s.ref -= t->base;
        uint32_t j = s.hash & mask;
        while (fresh[j].ref)
            j = (j + 1) & mask;
        fresh[j] = s;
        if (s.ref > top)
            top = s.ref;
    }
    free(t->slot);
    t->slot = fresh;
    t->mask = mask;
    t->base = 0;
    t->top = top;
    return 0;
}

int lede_htab_init(lede_htab *t, uint32_t n)
{
    if (n > LEDE_HTAB_MAX)
        return LEDE_ELIMIT;
    uint64_t cap = t->slot ? (uint64_t)t->mask + 1 : FIRST_CAP;
    while (cap < 2 * (uint64_t)n)
        cap *= 2;
    if (t->slot && cap == (uint64_t)t->mask + 1)
        return 0;
    return rehash(t, cap);
}

void lede_htab_free(lede_htab *t)
{
    if (!t)
        return;
    free(t->slot);
    memset(t, 0, sizeof *t);
}

void lede_htab_reset(lede_htab *t)
{
    t->n = 0;
    if (!t->slot)
        return;
    /* Refs to come are above top; they must stay below 2^32, and an index
     * is below LEDE_HTAB_MAX, so past half the range the slots are cleared
     * for real (once every two billion entries or so). */
    if (t->top >= UINT32_MAX / 2) {
        memset(t->slot, 0, ((size_t)t->mask + 1) * sizeof *t->slot);
        t->base = t->top = 0;
    } else {
        t->base = t->top;
    }
}

size_t lede_htab_bytes(const lede_htab *t)
{
    return t->slot ? ((size_t)t->mask + 1) * sizeof *t->slot : 0;
}

int lede_htab_insert_slow(lede_htab *t, uint32_t hash, uint32_t idx)
{
    if (idx >= LEDE_HTAB_MAX)
        return LEDE_ELIMIT;
    uint64_t cap = t->slot ? (uint64_t)t->mask + 1 : FIRST_CAP;
    while ((uint64_t)(t->n + 1) * 2 > cap)
        cap *= 2;
    if (!t->slot || cap != (uint64_t)t->mask + 1) {
        int rc = rehash(t, cap);
        if (rc)
            return rc;
    }
    /* The caller's pos was for the old slots: find the key's place again
     * (it is not in the table, so the first empty slot). */
    uint32_t i = hash & t->mask;
    while (t->slot[i].ref > t->base)
        i = (i + 1) & t->mask;
    return lede_htab_insert(t, i, hash, idx);
}
