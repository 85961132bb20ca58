/* snapshot.h: the index a request reads: an open lede_index with its
 * suggester, reference-counted so SIGHUP can swap in a newly opened index
 * while requests on the old one finish undisturbed; the last release
 * frees the old one. */
#ifndef LEDE_SERVER_SNAPSHOT_H
#define LEDE_SERVER_SNAPSHOT_H

#include <pthread.h>
#include <stdint.h>

#include "lede/index.h"
#include "lede/suggest.h"

typedef struct snapshot {
    lede_index *ix;
    lede_suggester *suggest;
    lede_index_stats stats;
    uint64_t generation;      /* 1 for the first open, +1 per reload */
    double opened_at;         /* unix seconds */
    int refs;                 /* atomic */
} snapshot;

typedef struct snapshot_holder {
    pthread_mutex_t lock;
    snapshot *current;
    char *dir;
    uint64_t reloads, reload_failures;
} snapshot_holder;

/* Opens dir; err says why not. */
int snapshots_init(snapshot_holder *h, const char *dir, lede_err *err);
/* Opens the directory again and swaps if that worked; the old snapshot
 * stays current (and err says why) if it did not. */
int snapshots_reload(snapshot_holder *h, lede_err *err);
snapshot *snapshot_acquire(snapshot_holder *h);
void snapshot_release(snapshot *s);
void snapshots_destroy(snapshot_holder *h);

#endif
