/* snapshot.c: opening an index with its suggester as one snapshot, the
 * reference counts that keep a snapshot alive while requests use it, and
 * the swap SIGHUP performs. Opening happens outside the lock, so requests
 * never wait for a reload. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "snapshot.h"

static void snapshot_free(snapshot *s)
{
    if (!s)
        return;
    lede_suggester_free(s->suggest);
    lede_index_free(s->ix);
    free(s);
}

static int snapshot_open(const char *dir, uint64_t generation, snapshot **out, lede_err *err)
{
    snapshot *s = calloc(1, sizeof *s);
    if (!s)
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    int rc = lede_index_open(dir, &s->ix, err);
    if (!rc)
        rc = lede_index_stats_get(s->ix, &s->stats, err);
    if (!rc)
        rc = lede_suggester_build(s->ix, &s->suggest, err);
    if (rc) {
        snapshot_free(s);
        return rc;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    s->opened_at = (double)ts.tv_sec + ts.tv_nsec / 1e9;
    s->generation = generation;
    s->refs = 1; /* the holder's */
    *out = s;
    return 0;
}

int snapshots_init(snapshot_holder *h, const char *dir, lede_err *err)
{
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->lock, NULL);
    if (!(h->dir = strdup(dir)))
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    return snapshot_open(dir, 1, &h->current, err);
}

int snapshots_reload(snapshot_holder *h, lede_err *err)
{
    snapshot *cur = snapshot_acquire(h);
    uint64_t generation = cur ? cur->generation + 1 : 1;
    snapshot_release(cur);
    snapshot *fresh;
    int rc = snapshot_open(h->dir, generation, &fresh, err);
    pthread_mutex_lock(&h->lock);
    if (rc) {
        h->reload_failures++;
        pthread_mutex_unlock(&h->lock);
        return rc;
    }
    snapshot *old = h->current;
    h->current = fresh;
    h->reloads++;
    pthread_mutex_unlock(&h->lock);
    snapshot_release(old);
    return 0;
}

snapshot *snapshot_acquire(snapshot_holder *h)
{
    pthread_mutex_lock(&h->lock);
    snapshot *s = h->current;
    if (s)
        __atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&h->lock);
    return s;
}

void snapshot_release(snapshot *s)
{
    if (s && __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0)
        snapshot_free(s);
}

void snapshots_destroy(snapshot_holder *h)
{
    if (!h->dir && !h->current)
        return;
    snapshot_release(h->current);
    h->current = NULL;
    free(h->dir);
    h->dir = NULL;
    pthread_mutex_destroy(&h->lock);
}
