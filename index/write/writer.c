/* writer.c: lede_writer, the only code that changes an index directory. It
 * feeds documents to a pending segment, flushes it when the memory budget
 * is reached, resolves replaced and deleted ids into deletion bitmaps,
 * merges, and publishes everything with one manifest commit. Until that
 * commit, readers (and a crash) see the previous manifest only; files of an
 * abandoned writer are removed, and stray files are swept at the next commit.
 * One writer per directory, enforced with flock on LOCK. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "write/write.h"

#define DEFAULT_BUDGET ((size_t)256 << 20)
#define MAX_SEGMENTS_AFTER_ADD 8

typedef struct wseg {
    char name[64];
    lede_segment *seg;
    uint8_t *del;         /* bitmap or NULL */
    int del_dirty;
    char del_name[80];
} wseg;

typedef struct id_slot {
    char *id;
    size_t len;
    uint32_t doc;
} id_slot;

struct lede_writer {
    char *dir;
    int lock_fd;
    int create;
    lede_writer_opts opts;
    lede_manifest man;     /* the manifest this writer started from (next_segment advanced) */
    lede_analyzer *an;
    wseg *segs;
    uint32_t nsegs, nnew;  /* the last nnew of segs were written by this writer */
    lede_pending *pending;
    char pending_name[64];
    id_slot *ids;          /* ids of the pending segment, in order of first use */
    size_t ids_cap;
    uint32_t nids;
    lede_htab ids_index;   /* id -> index in ids */
    uint8_t *pending_dead;
    size_t dead_cap;
    char **created;        /* files this writer made, removed unless committed */
    size_t ncreated;
    uint64_t added, replaced;
    int failed;
};

static int new_segment_name(lede_writer *w, char *out, size_t cap)
{
    snprintf(out, cap, "seg-%08llx.lede", (unsigned long long)w->man.next_segment++);
    char **c = realloc(w->created, (w->ncreated + 1) * sizeof *c);
    if (!c)
        return LEDE_ENOMEM;
    w->created = c;
    if (!(c[w->ncreated] = strdup(out)))
        return LEDE_ENOMEM;
    w->ncreated++;
    return 0;
}

static void free_ids(lede_writer *w)
{
    for (uint32_t i = 0; i < w->nids; i++)
        free(w->ids[i].id);
    free(w->ids);
    w->ids = NULL;
    w->ids_cap = w->nids = 0;
    lede_htab_free(&w->ids_index);
    free(w->pending_dead);
    w->pending_dead = NULL;
    w->dead_cap = 0;
}

static bool id_eq(const void *ctx, uint32_t i, const void *key, size_t len)
{
    const id_slot *s = &((const lede_writer *)ctx)->ids[i];
    return s->len == len && memcmp(s->id, key, len) == 0;
}

/* The pending segment's entry of id, or NULL. */
static id_slot *id_find(lede_writer *w, const char *id, size_t len)
{
    uint32_t i = lede_htab_find(&w->ids_index, lede_hash(id, len), id, len, id_eq, w, NULL);
    return i == LEDE_HTAB_NONE ? NULL : &w->ids[i];
}

static int id_put(lede_writer *w, const char *id, size_t len, uint32_t doc)
{
    uint32_t hash = lede_hash(id, len), pos;
    uint32_t i = lede_htab_find(&w->ids_index, hash, id, len, id_eq, w, &pos);
    if (i == LEDE_HTAB_NONE) {
        char *copy = malloc(len + 1);
        if (!copy || lede_grow((void **)&w->ids, &w->ids_cap, (size_t)w->nids + 1, sizeof *w->ids,
                               4096) ||
            lede_htab_insert(&w->ids_index, pos, hash, w->nids)) {
            free(copy);
            return LEDE_ENOMEM;
        }
        memcpy(copy, id, len);
        copy[len] = '\0';
        i = w->nids++;
        w->ids[i] = (id_slot){copy, len, doc};
    }
    w->ids[i].doc = doc;
    return 0;
}

static int mark_pending_dead(lede_writer *w, uint32_t doc)
{
    size_t need = doc / 8 + 1;
    if (need > w->dead_cap) {
        size_t cap = w->dead_cap ? w->dead_cap : 1024;
        while (cap < need)
            cap *= 2;
        uint8_t *fresh = realloc(w->pending_dead, cap);
        if (!fresh)
            return LEDE_ENOMEM;
        memset(fresh + w->dead_cap, 0, cap - w->dead_cap);
        w->pending_dead = fresh;
        w->dead_cap = cap;
    }
    w->pending_dead[doc / 8] |= (uint8_t)(1u << (doc & 7));
    return 0;
}

static int mark_seg_deleted(wseg *s, uint32_t doc)
{
    if (!s->del) {
        s->del = calloc(((size_t)s->seg->ndocs + 7) / 8 + 1, 1);
        if (!s->del)
            return LEDE_ENOMEM;
    }
    s->del[doc >> 3] |= (uint8_t)(1u << (doc & 7));
    s->del_dirty = 1;
    return 0;
}

/* Deletes the live document with this id wherever it is; *found says if one was. */
static int delete_id(lede_writer *w, const char *id, size_t len, int *found)
{
    *found = 0;
    id_slot *s = id_find(w, id, len);
    if (s) {
        uint32_t d = s->doc;
        int dead = d / 8 < w->dead_cap && (w->pending_dead[d / 8] >> (d & 7) & 1);
        if (!dead) {
            *found = 1;
            if (mark_pending_dead(w, d))
                return LEDE_ENOMEM;
        }
    }
    for (uint32_t i = 0; i < w->nsegs; i++) {
        wseg *ws = &w->segs[i];
        uint32_t d = lede_segment_find_id(ws->seg, id, len);
        if (d == LEDE_NO_DOC || (ws->del && (ws->del[d >> 3] >> (d & 7) & 1)))
            continue;
        *found = 1;
        if (mark_seg_deleted(ws, d))
            return LEDE_ENOMEM;
    }
    return 0;
}

static int add_wseg(lede_writer *w, const char *name, uint8_t *del, lede_err *err)
{
    char *path = lede_path_join(w->dir, name);
    if (!path)
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    lede_segment *seg;
    int rc = lede_segment_open(path, &seg, err);
    free(path);
    if (rc)
        return rc;
    lede_segment_drop_pages(seg);
    wseg *segs = realloc(w->segs, (w->nsegs + 1) * sizeof *segs);
    if (!segs) {
        lede_segment_unref(seg);
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    }
    w->segs = segs;
    wseg *s = &segs[w->nsegs++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->seg = seg;
    s->del = del;
    s->del_dirty = del != NULL;
    return 0;
}

int lede_writer_open(const char *dir, const lede_writer_opts *opts, int create, lede_writer **out,
                     lede_err *err)
{
    *out = NULL;
    if (create && mkdir(dir, 0755) && errno != EEXIST)
        return lede_err_set(err, LEDE_EIO, "%s: %s", dir, strerror(errno));
    lede_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->dir = strdup(dir))) {
        free(w);
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    }
    w->lock_fd = -1;
    w->create = create;
    if (opts)
        w->opts = *opts;
    if (!w->opts.mem_budget)
        w->opts.mem_budget = DEFAULT_BUDGET;
    int rc = 0;
    char *lock = lede_path_join(dir, "LOCK");
    if (!lock) {
        rc = lede_err_set(err, LEDE_ENOMEM, "out of memory");
        goto fail;
    }
    w->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    free(lock);
    if (w->lock_fd < 0) {
        rc = lede_err_set(err, LEDE_EIO, "%s: %s", dir, strerror(errno));
        goto fail;
    }
    if (flock(w->lock_fd, LOCK_EX | LOCK_NB)) {
        rc = lede_err_set(err, LEDE_EIO, "%s: another writer is using this index", dir);
        goto fail;
    }
    lede_err probe;
    lede_err_clear(&probe);
    rc = lede_manifest_read(dir, &w->man, &probe);
    if (rc && rc != LEDE_ENOTFOUND) {
        lede_err_set(err, rc, "%s", probe.msg);
        goto fail;
    }
    if (rc == LEDE_ENOTFOUND && !create) {
        lede_err_set(err, rc, "%s", probe.msg);
        goto fail;
    }
    rc = 0;
    lede_analyzer_opts an_opts = {0};
    char *stop_copy = NULL;
    if (create) {
        /* A rebuild starts from no segments but keeps counting names, so
         * files of the live index are never overwritten. */
        w->man.nsegs = 0;
        w->man.no_stem = w->opts.analyzer.no_stem;
        w->man.has_stopwords = w->opts.analyzer.stopwords_path != NULL;
        an_opts = w->opts.analyzer;
    } else {
        an_opts.no_stem = w->man.no_stem;
        if (w->man.has_stopwords)
            an_opts.stopwords_path = stop_copy = lede_path_join(dir, "stopwords.txt");
        for (uint32_t i = 0; i < w->man.nsegs && !rc; i++) {
            uint8_t *del = NULL;
            if (w->man.segs[i].del[0] &&
                (rc = lede_del_read(dir, w->man.segs[i].del, w->man.segs[i].ndocs, &del, err)))
                break;
            rc = add_wseg(w, w->man.segs[i].name, del, err);
            if (!rc) {
                w->segs[w->nsegs - 1].del_dirty = 0;
                snprintf(w->segs[w->nsegs - 1].del_name, sizeof w->segs[0].del_name, "%s",
                         w->man.segs[i].del);
            } else {
                free(del);
            }
        }
    }
    if (!rc)
        rc = lede_analyzer_new(&an_opts, &w->an, err);
    free(stop_copy);
    if (rc)
        goto fail;
    *out = w;
    return 0;
fail:
    lede_writer_free(w);
    return rc;
}

static int flush_pending(lede_writer *w, lede_err *err)
{
    if (!w->pending)
        return 0;
    int rc = lede_pending_flush(w->pending, err);
    lede_pending_free(w->pending);
    w->pending = NULL;
    if (rc)
        return rc;
    uint8_t *dead = w->pending_dead;
    w->pending_dead = NULL;
    w->dead_cap = 0;
    free_ids(w);
    rc = add_wseg(w, w->pending_name, dead, err);
    if (rc) {
        free(dead);
        return rc;
    }
    w->nnew++;
    return 0;
}

int lede_writer_add(lede_writer *w, const lede_doc *doc, lede_err *err)
{
    if (w->failed)
        return lede_err_set(err, LEDE_EINVAL, "writer failed earlier");
    if (!doc->id.ptr || doc->id.len == 0)
        return lede_err_set(err, LEDE_EINVAL, "document without id");
    if (doc->id.len > 1024)
        return lede_err_set(err, LEDE_ELIMIT, "document id longer than 1024 bytes");
    int rc = 0;
    if (!w->pending) {
        if (new_segment_name(w, w->pending_name, sizeof w->pending_name))
            return lede_err_set(err, LEDE_ENOMEM, "out of memory");
        char *path = lede_path_join(w->dir, w->pending_name);
        if (!path)
            return lede_err_set(err, LEDE_ENOMEM, "out of memory");
        rc = lede_pending_new(path, w->an, w->man.no_stem, &w->pending, err);
        free(path);
        if (rc)
            return rc;
    }
    int found = 0;
    if (delete_id(w, doc->id.ptr, doc->id.len, &found))
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    uint32_t docno;
    if ((rc = lede_pending_add(w->pending, doc, &docno, err))) {
        w->failed = 1;
        return rc;
    }
    if (id_put(w, doc->id.ptr, doc->id.len, docno))
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    w->added++;
    w->replaced += found;
    size_t ids_bytes = w->ids_cap * sizeof(id_slot) + lede_htab_bytes(&w->ids_index);
    if (lede_pending_bytes(w->pending) + ids_bytes >= w->opts.mem_budget) {
        if ((rc = flush_pending(w, err)))
            w->failed = 1;
    }
    return rc;
}

int lede_writer_delete(lede_writer *w, const char *id, size_t len, int *found, lede_err *err)
{
    if (delete_id(w, id, len, found))
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    return 0;
}

void lede_writer_counts(const lede_writer *w, uint64_t *added, uint64_t *replaced)
{
    *added = w->added;
    *replaced = w->replaced;
}

/* Merges segs[from..nsegs) into one new segment that takes their place. */
static int merge_range(lede_writer *w, uint32_t from, lede_err *err)
{
    uint32_t n = w->nsegs - from;
    lede_merge_input *in = calloc(n ? n : 1, sizeof *in);
    if (!in)
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        in[i].seg = w->segs[from + i].seg;
        in[i].deleted = w->segs[from + i].del;
    }
    char name[64];
    int rc = new_segment_name(w, name, sizeof name);
    char *path = rc ? NULL : lede_path_join(w->dir, name);
    uint32_t ndocs = 0;
    if (!path)
        rc = lede_err_set(err, LEDE_ENOMEM, "out of memory");
    else
        rc = lede_merge_segments(in, n, path, &ndocs, err);
    free(path);
    free(in);
    if (rc)
        return rc;
    for (uint32_t i = from; i < w->nsegs; i++) {
        lede_segment_unref(w->segs[i].seg);
        free(w->segs[i].del);
    }
    w->nsegs = from;
    w->nnew = 0;
    if (ndocs == 0) {
        /* Everything was deleted: the empty segment is not kept. */
        char *p = lede_path_join(w->dir, name);
        if (p)
            unlink(p);
        free(p);
        return 0;
    }
    if ((rc = add_wseg(w, name, NULL, err)))
        return rc;
    w->nnew = 1;
    return 0;
}

static int copy_file(const char *from, const char *to, lede_err *err)
{
    FILE *in = fopen(from, "rb");
    if (!in)
        return lede_err_set(err, LEDE_EIO, "%s: %s", from, strerror(errno));
    FILE *out = fopen(to, "wb");
    if (!out) {
        fclose(in);
        return lede_err_set(err, LEDE_EIO, "%s: %s", to, strerror(errno));
    }
    char buf[8192];
    size_t n;
    int bad = 0;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        bad |= fwrite(buf, 1, n, out) != n;
    bad |= ferror(in);
    fclose(in);
    bad |= fflush(out) != 0 || fsync(fileno(out)) != 0;
    bad |= fclose(out) != 0;
    return bad ? lede_err_set(err, LEDE_EIO, "cannot copy %s to %s", from, to) : 0;
}

/* Removes segment and deletion files the manifest no longer names. */
static void sweep(lede_writer *w)
{
    DIR *d = opendir(w->dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        if (strncmp(n, "seg-", 4) != 0)
            continue;
        int live = 0;
        for (uint32_t i = 0; i < w->nsegs && !live; i++)
            live = strcmp(n, w->segs[i].name) == 0 || strcmp(n, w->segs[i].del_name) == 0;
        if (!live) {
            char *p = lede_path_join(w->dir, n);
            if (p)
                unlink(p);
            free(p);
        }
    }
    closedir(d);
}

static int publish(lede_writer *w, lede_err *err)
{
    int rc = 0;
    lede_manifest m = w->man;
    m.generation = w->man.generation + 1;
    m.nsegs = w->nsegs;
    m.segs = calloc(w->nsegs ? w->nsegs : 1, sizeof *m.segs);
    if (!m.segs)
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < w->nsegs && !rc; i++) {
        wseg *s = &w->segs[i];
        if (s->del_dirty) {
            char name[80];
            snprintf(name, sizeof name, "%.*s.%llu.del", (int)(strlen(s->name) - 5), s->name,
                     (unsigned long long)m.generation);
            if ((rc = lede_del_write(w->dir, name, s->seg->ndocs, s->del, err)))
                break;
            snprintf(s->del_name, sizeof s->del_name, "%s", name);
            s->del_dirty = 0;
        }
        snprintf(m.segs[i].name, sizeof m.segs[i].name, "%s", s->name);
        m.segs[i].ndocs = s->seg->ndocs;
        snprintf(m.segs[i].del, sizeof m.segs[i].del, "%s", s->del_name);
    }
    if (!rc && w->create && w->opts.analyzer.stopwords_path) {
        char *to = lede_path_join(w->dir, "stopwords.txt");
        rc = to ? copy_file(w->opts.analyzer.stopwords_path, to, err)
                : lede_err_set(err, LEDE_ENOMEM, "out of memory");
        free(to);
    }
    if (!rc)
        rc = lede_manifest_write(w->dir, &m, err);
    free(m.segs);
    if (rc)
        return rc;
    w->man.generation = m.generation;
    /* Committed: these files are the index's now. */
    for (size_t i = 0; i < w->ncreated; i++)
        free(w->created[i]);
    w->ncreated = 0;
    sweep(w);
    return 0;
}

int lede_writer_commit(lede_writer *w, lede_err *err)
{
    if (w->failed)
        return lede_err_set(err, LEDE_EINVAL, "writer failed earlier; nothing was published");
    int rc = flush_pending(w, err);
    if (!rc && !w->opts.no_merge) {
        if (w->create) {
            int need = w->nsegs > 1;
            for (uint32_t i = 0; i < w->nsegs; i++)
                need |= w->segs[i].del != NULL;
            if (need)
                rc = merge_range(w, 0, err);
        } else {
            if (w->nnew > 1)
                rc = merge_range(w, w->nsegs - w->nnew, err);
            if (!rc && w->nsegs > MAX_SEGMENTS_AFTER_ADD)
                rc = merge_range(w, 0, err);
        }
    }
    if (!rc)
        rc = publish(w, err);
    if (rc)
        w->failed = 1;
    return rc;
}

int lede_writer_merge(lede_writer *w, lede_err *err)
{
    int rc = flush_pending(w, err);
    if (!rc && w->nsegs > 0)
        rc = merge_range(w, 0, err);
    if (!rc)
        rc = publish(w, err);
    if (rc)
        w->failed = 1;
    return rc;
}

void lede_writer_free(lede_writer *w)
{
    if (!w)
        return;
    lede_pending_free(w->pending);
    for (uint32_t i = 0; i < w->nsegs; i++) {
        lede_segment_unref(w->segs[i].seg);
        free(w->segs[i].del);
    }
    free(w->segs);
    for (size_t i = 0; i < w->ncreated; i++) {
        char *p = lede_path_join(w->dir, w->created[i]);
        if (p)
            unlink(p);
        free(p);
        free(w->created[i]);
    }
    free(w->created);
    free_ids(w);
    lede_analyzer_free(w->an);
    lede_manifest_clear(&w->man);
    if (w->lock_fd >= 0)
        close(w->lock_fd);
    free(w->dir);
    free(w);
}
