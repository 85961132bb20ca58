/* reader.c: lede_index, an open index directory: the segments its manifest
 * names, their deletion bitmaps, and the corpus statistics every query
 * scores with (N and average lengths over live documents). The snapshot is
 * fixed for the life of a lede_index, so queries need no lock; a server that
 * wants new data opens a new lede_index and swaps. Also: stored-document
 * lookup by id, statistics, and the per-thread analyzer. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

static uint64_t next_uid = 1;   /* atomic: lede_index.uid */

void lede_index_free(lede_index *ix)
{
    if (!ix)
        return;
    for (uint32_t i = 0; i < ix->nsegs; i++) {
        lede_segment_unref(ix->segs[i].seg);
        free(ix->segs[i].deleted);
        for (int c = 0; c < LEDE_NCOLUMNS; c++)
            free(ix->segs[i].value_gid[c]);
    }
    free(ix->segs);
    for (int c = 0; c < LEDE_NCOLUMNS; c++)
        free(ix->columns[c].values);
    for (uint32_t i = 0; i < ix->nanalyzers; i++)
        lede_analyzer_free(ix->analyzers[i].an);
    free(ix->analyzers);
    pthread_mutex_destroy(&ix->an_lock);
    lede_manifest_clear(&ix->manifest);
    free(ix->stopwords_path);
    free(ix->stopwords_text);
    free(ix->dir);
    free(ix);
}

static int by_name(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* One id per distinct value of each keyword column over the snapshot, so
 * per-value counts and groups can be kept in flat arrays whatever segment a
 * match is in. */
static int build_column_table(lede_index *ix, int column)
{
    lede_snap_column *col = &ix->columns[column];
    size_t total = 0;
    for (uint32_t i = 0; i < ix->nsegs; i++)
        total += lede_segment_nvalues(ix->segs[i].seg, column);
    col->values = calloc(total ? total : 1, sizeof *col->values);
    if (!col->values)
        return LEDE_ENOMEM;
    size_t n = 0;
    for (uint32_t i = 0; i < ix->nsegs; i++)
        for (uint32_t j = 0; j < lede_segment_nvalues(ix->segs[i].seg, column); j++)
            col->values[n++] = lede_segment_value(ix->segs[i].seg, column, j + 1);
    qsort(col->values, n, sizeof *col->values, by_name);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || strcmp(col->values[m - 1], col->values[i]) != 0)
            col->values[m++] = col->values[i];
    col->nvalues = (uint32_t)m;
    for (uint32_t i = 0; i < ix->nsegs; i++) {
        const lede_segment *seg = ix->segs[i].seg;
        uint32_t nv = lede_segment_nvalues(seg, column);
        uint32_t *gid = malloc((nv + 1) * sizeof *gid);
        if (!gid)
            return LEDE_ENOMEM;
        gid[0] = LEDE_NO_VALUE;
        for (uint32_t j = 0; j < nv; j++) {
            const char *v = lede_segment_value(seg, column, j + 1);
            const char **hit = bsearch(&v, col->values, m, sizeof *col->values, by_name);
            gid[j + 1] = (uint32_t)(hit - col->values);
        }
        ix->segs[i].value_gid[column] = gid;
    }
    return 0;
}

int lede_index_open(const char *dir, lede_index **out, lede_err *err)
{
    *out = NULL;
    lede_index *ix = calloc(1, sizeof *ix);
    if (!ix || !(ix->dir = strdup(dir))) {
        free(ix);
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    }
    ix->uid = __atomic_fetch_add(&next_uid, 1, __ATOMIC_RELAXED);
    pthread_mutex_init(&ix->an_lock, NULL);
    int rc = lede_manifest_read(dir, &ix->manifest, err);
    if (rc)
        goto fail;
    ix->segs = calloc(ix->manifest.nsegs ? ix->manifest.nsegs : 1, sizeof *ix->segs);
    if (!ix->segs) {
        rc = lede_err_set(err, LEDE_ENOMEM, "out of memory");
        goto fail;
    }
    uint64_t sum_doc = 0, sum_title = 0;
    for (uint32_t i = 0; i < ix->manifest.nsegs; i++) {
        const lede_manifest_seg *ms = &ix->manifest.segs[i];
        char *path = lede_path_join(dir, ms->name);
        if (!path) {
            rc = lede_err_set(err, LEDE_ENOMEM, "out of memory");
            goto fail;
        }
        lede_snap_seg *ss = &ix->segs[i];
        rc = lede_segment_open(path, &ss->seg, err);
        free(path);
        if (rc)
            goto fail;
        ix->nsegs++;
        if (ss->seg->ndocs != ms->ndocs) {
            rc = lede_err_set(err, LEDE_ECORRUPT, "%s: manifest says %u documents, segment has %u",
                              ms->name, ms->ndocs, ss->seg->ndocs);
            goto fail;
        }
        if (ms->del[0] && (rc = lede_del_read(dir, ms->del, ms->ndocs, &ss->deleted, err)))
            goto fail;
        ss->base = ix->ndocs_total;
        ix->ndocs_total += ss->seg->ndocs;
        /* Scoring statistics count every document still in a segment,
         * deleted or not, as df does (Lucene's choice): df can then never
         * exceed N, and a merge that purges deletions is the only thing
         * that moves them. */
        for (uint32_t d = 0; d < ss->seg->ndocs; d++)
            ix->N += !lede_is_deleted(ss, d);
        sum_doc += ss->seg->sum_doc_len;
        sum_title += ss->seg->sum_title_len;
    }
    ix->N_stats = ix->ndocs_total;
    ix->sum_doc = sum_doc;
    ix->sum_title = sum_title;
    if (ix->ndocs_total) {
        ix->avgdl = (double)sum_doc / (double)ix->ndocs_total;
        ix->avg_title = (double)sum_title / (double)ix->ndocs_total;
        ix->avg_body = (double)(sum_doc - sum_title) / (double)ix->ndocs_total;
    }
    /* Guard the length normalisations against empty fields everywhere. */
    if (ix->avgdl <= 0)
        ix->avgdl = 1;
    if (ix->avg_title <= 0)
        ix->avg_title = 1;
    if (ix->avg_body <= 0)
        ix->avg_body = 1;
    ix->an_opts.no_stem = ix->manifest.no_stem;
    if (ix->manifest.has_stopwords) {
        if (!(ix->stopwords_path = lede_path_join(dir, "stopwords.txt"))) {
            rc = lede_err_set(err, LEDE_ENOMEM, "out of memory");
            goto fail;
        }
        ix->an_opts.stopwords_path = ix->stopwords_path;
        if ((rc = lede_stopwords_read(ix->stopwords_path, &ix->stopwords_text,
                                      &ix->an_opts.stopwords_size, err)))
            goto fail;
        ix->an_opts.stopwords_text = ix->stopwords_text ? ix->stopwords_text : "";
    }
    for (int c = 0; c < LEDE_NCOLUMNS; c++)
        if ((rc = build_column_table(ix, c))) {
            lede_err_set(err, rc, "out of memory");
            goto fail;
        }
    /* Fail now, not on the first query, if the analyzer cannot be built. */
    if (!lede_index_analyzer(ix, err)) {
        rc = err ? err->rc : LEDE_EINVAL;
        goto fail;
    }
    *out = ix;
    return 0;
fail:
    lede_index_free(ix);
    return rc ? rc : LEDE_EINVAL;
}

/* One analyzer per (index, thread): libstemmer state is not shareable
 * between threads, and an analyzer belongs to the index whose settings
 * (stemming, stop list) built it, so two open indexes never share or free
 * each other's, and an index reopened after a rebuild reads its new stop
 * list. The index owns every analyzer it made and frees them in
 * lede_index_free. A one-entry thread-local cache, keyed by the index's
 * process-unique uid (never reused, so a freed index cannot match), keeps
 * the common call off the lock. */
static _Thread_local struct {
    uint64_t uid;
    lede_analyzer *an;
} tl_last;

lede_analyzer *lede_index_analyzer(lede_index *ix, lede_err *err)
{
    if (tl_last.uid == ix->uid && tl_last.an)
        return tl_last.an;
    pthread_t self = pthread_self();
    lede_analyzer *an = NULL;
    pthread_mutex_lock(&ix->an_lock);
    for (uint32_t i = 0; i < ix->nanalyzers && !an; i++)
        if (pthread_equal(ix->analyzers[i].thread, self))
            an = ix->analyzers[i].an;
    if (!an) {
        size_t cap = ix->analyzers_cap;
        if (lede_grow((void **)&ix->analyzers, &cap, (size_t)ix->nanalyzers + 1,
                      sizeof *ix->analyzers, 4)) {
            lede_err_set(err, LEDE_ENOMEM, "out of memory");
        } else {
            ix->analyzers_cap = (uint32_t)cap;
            if (lede_analyzer_new(&ix->an_opts, &an, err) == 0)
                ix->analyzers[ix->nanalyzers++] = (lede_index_analyzer_slot){self, an};
        }
    }
    pthread_mutex_unlock(&ix->an_lock);
    if (an) {
        tl_last.uid = ix->uid;
        tl_last.an = an;
    }
    return an;
}

int lede_index_stats_get(lede_index *ix, lede_index_stats *out, lede_err *err)
{
    LEDE_UNUSED(err);
    memset(out, 0, sizeof *out);
    out->documents = ix->N;
    out->deleted = ix->ndocs_total - ix->N;
    out->segments = ix->nsegs;
    out->avgdl = ix->avgdl;
    for (uint32_t i = 0; i < ix->nsegs; i++) {
        const lede_segment *s = ix->segs[i].seg;
        out->terms += s->nterms;
        out->bytes_postings += s->sec_len[SEC_POSTINGS];
        out->bytes_positions += s->sec_len[SEC_POSITIONS];
        out->bytes_dictionary += s->sec_len[SEC_DICT];
        out->bytes_stored += s->sec_len[SEC_STORED];
        out->bytes_other += s->map_len - s->sec_len[SEC_POSTINGS] - s->sec_len[SEC_POSITIONS] -
                            s->sec_len[SEC_DICT] - s->sec_len[SEC_STORED];
    }
    return 0;
}

void lede_stored_free(lede_stored *doc)
{
    if (!doc)
        return;
    free(doc->mem);
    memset(doc, 0, sizeof *doc);
}

/* Decodes a raw record into a caller-owned lede_stored (steals nothing). */
int lede_stored_from_record(const uint8_t *rec, size_t len, lede_stored *out)
{
    memset(out, 0, sizeof *out);
    out->mem = malloc(len ? len : 1);
    if (!out->mem)
        return LEDE_ENOMEM;
    memcpy(out->mem, rec, len);
    lede_doc d;
    int rc = lede_record_decode((const uint8_t *)out->mem, len, &d);
    if (rc) {
        lede_stored_free(out);
        return rc;
    }
#define FIELD_COPY(member, key, ord, flags) out->member = d.member;
    LEDE_SCHEMA_FIELDS(FIELD_COPY)
#undef FIELD_COPY
    return 0;
}

int lede_index_get(lede_index *ix, const char *id, size_t len, lede_stored *out, lede_err *err)
{
    memset(out, 0, sizeof *out);
    /* Newest segment first: an id lives in at most one live document. */
    for (uint32_t i = ix->nsegs; i-- > 0;) {
        lede_snap_seg *ss = &ix->segs[i];
        uint32_t d = lede_segment_find_id(ss->seg, id, len);
        if (d == LEDE_NO_DOC || lede_is_deleted(ss, d))
            continue;
        lede_buf rec = {0};
        int rc = lede_docstore_get(&ss->seg->store, d, &rec, err);
        if (!rc && (rc = lede_stored_from_record(rec.p, rec.len, out)))
            lede_err_set(err, rc, rc == LEDE_ENOMEM ? "out of memory" : "stored document is corrupt");
        lede_buf_free(&rec);
        return rc;
    }
    return lede_err_set(err, LEDE_ENOTFOUND, "no document with id \"%.*s\"",
                        (int)(len > 200 ? 200 : len), id);
}
