/* arena.c: the bump allocator behind per-query memory. Allocations are never
 * freed one by one; reset drops all but the first chunk so a reused arena
 * settles at the size its queries need. */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

typedef struct chunk {
    struct chunk *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
} chunk;

struct lede_arena {
    chunk *head;       /* current chunk; older ones follow */
    size_t chunk_size;
};

lede_arena *lede_arena_new(size_t chunk_size)
{
    lede_arena *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->chunk_size = chunk_size ? chunk_size : 64 * 1024;
    return a;
}

void *lede_arena_alloc(lede_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    chunk *c = a->head;
    if (!c || c->size - c->used < n) {
        size_t size = n > a->chunk_size ? n : a->chunk_size;
        chunk *fresh = malloc(sizeof *fresh + size);
        if (!fresh)
            return NULL;
        fresh->size = size;
        fresh->used = 0;
        /* An oversized block goes behind the current chunk so the current
         * chunk's free space is not wasted. */
        if (c && n > a->chunk_size) {
            fresh->next = c->next;
            c->next = fresh;
        } else {
            fresh->next = c;
            a->head = fresh;
        }
        c = fresh;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

void *lede_arena_zalloc(lede_arena *a, size_t n)
{
    void *p = lede_arena_alloc(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

char *lede_arena_strndup(lede_arena *a, const char *s, size_t n)
{
    char *p = lede_arena_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

void lede_arena_reset(lede_arena *a)
{
    if (!a || !a->head)
        return;
    chunk *keep = a->head;
    while (keep->next) {
        chunk *old = keep->next;
        keep->next = old->next;
        free(old);
    }
    keep->used = 0;
}

void lede_arena_free(lede_arena *a)
{
    if (!a)
        return;
    chunk *c = a->head;
    while (c) {
        chunk *next = c->next;
        free(c);
        c = next;
    }
    free(a);
}
