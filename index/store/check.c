/* check.c: lede_index_check, the full verification behind `lede-index
 * check`: the manifest and deletion files, every segment's checksums and
 * dictionary, every posting list decoded end to end, and the postings
 * compared with the stored text analyzed again: each document's terms, tfs
 * and positions must be in the index, document lengths must agree, and the
 * index must hold no posting the text does not explain. It reads a damaged
 * index without crashing: every fault is reported, never trusted. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

typedef struct checker {
    lede_report_fn report;
    void *ctx;
    uint64_t faults;
} checker;

static void fault(checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fault(checker *c, const char *fmt, ...)
{
    char line[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    c->faults++;
    if (c->report)
        c->report(c->ctx, line);
}

/* Every key of a segment with its entry, so the per-document pass looks
 * terms up in O(1); terms longer than one block keep one cursor for the
 * whole pass (documents come in increasing order), instead of decoding
 * their skip data again for every document. */
typedef struct term_slot {
    const char *key;
    size_t len;
    lede_term_entry e;
    lede_cursor *cursor;
} term_slot;

typedef struct term_table {
    term_slot *slots;     /* every key, in dictionary order */
    size_t cap, n;
    lede_htab index;      /* key -> index in slots */
    lede_arena *keep;     /* keys and long-lived cursors */
} term_table;

static bool slot_eq(const void *ctx, uint32_t i, const void *key, size_t len)
{
    const term_slot *s = &((const term_table *)ctx)->slots[i];
    return s->len == len && memcmp(s->key, key, len) == 0;
}

static int table_put(term_table *t, const char *key, size_t len, const lede_term_entry *e)
{
    uint32_t hash = lede_hash(key, len), pos;
    if (lede_htab_find(&t->index, hash, key, len, slot_eq, t, &pos) != LEDE_HTAB_NONE)
        return 0; /* a key met twice (a damaged dictionary) keeps its first entry */
    char *copy = lede_arena_strndup(t->keep, key, len);
    if (!copy || lede_grow((void **)&t->slots, &t->cap, t->n + 1, sizeof *t->slots, 4096))
        return LEDE_ENOMEM;
    int rc = lede_htab_insert(&t->index, pos, hash, (uint32_t)t->n);
    if (rc)
        return rc;
    t->slots[t->n++] = (term_slot){copy, len, *e, NULL};
    return 0;
}

static term_slot *table_get(term_table *t, const char *key, size_t len)
{
    uint32_t i = lede_htab_find(&t->index, lede_hash(key, len), key, len, slot_eq, t, NULL);
    return i == LEDE_HTAB_NONE ? NULL : &t->slots[i];
}

static void table_clear(term_table *t)
{
    free(t->slots);
    lede_htab_free(&t->index);
    lede_arena_free(t->keep);
    memset(t, 0, sizeof *t);
}

/* Decodes every posting list of the segment; counts postings per field. */
typedef struct walk_ctx {
    checker *chk;
    const lede_segment *seg;
    lede_arena *a;
    term_table *table;
    uint64_t all_postings, title_postings;
    uint64_t faults_before;
} walk_ctx;

static int walk_term(void *ctx, const char *key, size_t len, const lede_term_entry *e)
{
    walk_ctx *w = ctx;
    int title = (uint8_t)key[0] == LEDE_TITLE_KEY;
    lede_cursor c;
    uint32_t count = 0, body = 0;
    uint64_t cf = 0;
    int rc = lede_cursor_open(&c, w->seg, e, w->a);
    if (rc == LEDE_ENOMEM)
        return rc;
    if (rc == 0) {
        for (; c.doc != LEDE_NO_DOC; lede_cursor_next(&c)) {
            uint32_t tf = lede_cursor_tf(&c), n = 0;
            count++;
            cf += tf;
            if (!title) {
                const uint32_t *pos = lede_cursor_positions(&c, &n);
                if (!pos || n != tf)
                    break;
                if (pos[n - 1] >= lede_segment_doc(w->seg, c.doc).body_start)
                    body++;
            }
            if (c.doc == LEDE_NO_DOC - 1)
                break;
        }
    }
    if (c.rc == LEDE_ENOMEM)
        return c.rc;
    if (c.rc || count != e->df || cf != e->cf || (!title && body != e->df_body))
        fault(w->chk, "%s: postings of term \"%.*s\" are corrupt", w->seg->path,
              (int)(len - (size_t)title), key + title);
    if (title)
        w->title_postings += count;
    else
        w->all_postings += count;
    lede_arena_reset(w->a);
    return table_put(w->table, key, len, e);
}

/* Re-analysis of one document, compared with the postings. */
typedef struct doc_terms {
    char (*terms)[LEDE_MAX_TERM + 1];
    uint32_t *pos;
    uint32_t *order;      /* token indices sorted by (term, position) */
    uint32_t n, cap;
} doc_terms;

static int collect(void *ctx, const lede_token *t)
{
    doc_terms *d = ctx;
    if (d->n == d->cap) {
        uint32_t cap = d->cap ? d->cap * 2 : 1024;
        void *terms = realloc(d->terms, cap * sizeof *d->terms);
        if (terms)
            d->terms = terms;
        uint32_t *pos = realloc(d->pos, cap * sizeof *d->pos);
        if (pos)
            d->pos = pos;
        uint32_t *order = realloc(d->order, cap * sizeof *d->order);
        if (order)
            d->order = order;
        if (!terms || !pos || !order)
            return LEDE_ENOMEM;
        d->cap = cap;
    }
    memcpy(d->terms[d->n], t->term, t->term_len);
    d->terms[d->n][t->term_len] = '\0';
    d->pos[d->n] = t->pos;
    d->n++;
    return 0;
}

static int by_term_pos(const void *x, const void *y, void *ctx)
{
    const doc_terms *d = ctx;
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    int c = strcmp(d->terms[a], d->terms[b]);
    return c ? c : (d->pos[a] < d->pos[b] ? -1 : d->pos[a] > d->pos[b]);
}

static int check_doc(checker *chk, const lede_segment *seg, lede_analyzer *an, uint32_t doc,
                     const uint8_t *rec, size_t rec_len, doc_terms *dt, lede_arena *a,
                     term_table *table, uint64_t *all, uint64_t *title)
{
    lede_doc d;
    int rc = 0;
    if (lede_record_decode(rec, rec_len, &d)) {
        fault(chk, "%s: stored document %u is unreadable", seg->path, doc);
        return 0;
    }
    dt->n = 0;
    uint32_t next = 0;
    if (d.title.ptr)
        rc = lede_analyze(an, d.title.ptr, d.title.len, 0, collect, dt, &next);
    uint32_t ntitle = dt->n;
    lede_doc_info info = lede_segment_doc(seg, doc);
    if (!rc && d.body.ptr)
        rc = lede_analyze(an, d.body.ptr, d.body.len, next + 1, collect, dt, NULL);
    lede_str id = lede_segment_id(seg, doc);
    if (rc == LEDE_ENOMEM)
        return rc;
    if (rc)
        fault(chk, "%s: document %u cannot be analyzed", seg->path, doc);
    else if (info.title_len != ntitle || info.doc_len != dt->n || info.body_start != next + 1)
        fault(chk, "%s: lengths of document \"%.*s\" disagree with its text", seg->path,
              (int)id.len, id.ptr);
    else if (!d.id.ptr || d.id.len != id.len || memcmp(d.id.ptr, id.ptr, id.len))
        fault(chk, "%s: id index disagrees with stored document %u", seg->path, doc);
    int32_t date = 0;
    if (d.date.ptr && d.date.len && lede_parse_date(d.date.ptr, d.date.len, &date))
        date = 0;
    uint32_t ord = lede_segment_doc_source(seg, doc);
    const char *source = ord ? seg->sources[ord - 1] : NULL;
    int source_ok = (!d.source.ptr || d.source.len == 0)
                        ? ord == 0
                        : source && strlen(source) == d.source.len &&
                              memcmp(source, d.source.ptr, d.source.len) == 0;
    if (date != info.date || !source_ok)
        fault(chk, "%s: date or source column of document \"%.*s\" disagrees with its text",
              seg->path, (int)id.len, id.ptr);
    for (uint32_t i = 0; i < dt->n; i++)
        dt->order[i] = i;
    if (dt->n)
        qsort_r(dt->order, dt->n, sizeof *dt->order, by_term_pos, dt);
    uint32_t *want = malloc((dt->n ? dt->n : 1) * sizeof *want);
    if (!want)
        return LEDE_ENOMEM;
    for (uint32_t g = 0; g < dt->n && !rc;) {
        uint32_t i = dt->order[g];
        uint32_t tf = 0, tf_title = 0;
        while (g < dt->n && strcmp(dt->terms[dt->order[g]], dt->terms[i]) == 0) {
            uint32_t j = dt->order[g++];
            want[tf++] = dt->pos[j];
            tf_title += j < ntitle;
        }
        for (int field = 0; field < 2; field++) {
            if (field == 1 && !tf_title)
                continue;
            char key[LEDE_MAX_TERM + 2];
            size_t klen = strlen(dt->terms[i]);
            key[0] = LEDE_TITLE_KEY;
            memcpy(key + 1, dt->terms[i], klen);
            lede_cursor local, *cp = &local;
            const char *k = field ? key : key + 1;
            size_t kl = field ? klen + 1 : klen;
            term_slot *ts = table_get(table, k, kl);
            int bad = !ts;
            if (ts && ts->e.df > LEDE_BLOCK) {
                if (!ts->cursor) {
                    ts->cursor = lede_arena_alloc(table->keep, sizeof *ts->cursor);
                    bad = ts->cursor ? lede_cursor_open(ts->cursor, seg, &ts->e, table->keep)
                                     : LEDE_ENOMEM;
                    if (bad)
                        ts->cursor = NULL;
                }
                cp = ts->cursor;
            } else if (ts) {
                bad = lede_cursor_open(&local, seg, &ts->e, a);
            }
            if (bad == LEDE_ENOMEM) {
                rc = bad;
                break;
            }
            if (bad) {
                fault(chk, "%s: term \"%s\" of document \"%.*s\" is missing", seg->path,
                      dt->terms[i], (int)id.len, id.ptr);
                continue;
            }
            lede_cursor_next_geq(cp, doc);
            uint32_t expect = field ? tf_title : tf;
            if (cp->doc != doc || lede_cursor_tf(cp) != expect) {
                fault(chk, "%s: posting of \"%s\" in document \"%.*s\" is wrong", seg->path,
                      dt->terms[i], (int)id.len, id.ptr);
            } else if (!field) {
                uint32_t n;
                const uint32_t *pos = lede_cursor_positions(cp, &n);
                if (!pos && cp->rc == LEDE_ENOMEM) {
                    rc = cp->rc;
                    break;
                }
                if (!pos || n != tf || memcmp(pos, want, tf * sizeof *pos))
                    fault(chk, "%s: positions of \"%s\" in document \"%.*s\" are wrong", seg->path,
                          dt->terms[i], (int)id.len, id.ptr);
            }
            lede_arena_reset(a);
            if (field)
                (*title)++;
            else
                (*all)++;
        }
    }
    free(want);
    return rc;
}

/* Every stored document of seg analyzed again and compared with the
 * postings; a damaged stored block is a fault, and the walk goes on after it. */
static int check_docs(checker *chk, const lede_segment *seg, lede_analyzer *an, doc_terms *dt,
                      lede_arena *a, term_table *table, uint64_t *all, uint64_t *title)
{
    lede_docstore_iter it;
    lede_err err;
    lede_err_clear(&err);
    int rc = lede_docstore_iter_init(&it, &seg->store, 0, UINT32_MAX, NULL, &err);
    uint32_t doc;
    const uint8_t *rec;
    size_t len;
    while (!rc) {
        rc = lede_docstore_iter_next(&it, &doc, &rec, &len, &err);
        if (rc == LEDE_OK)
            rc = check_doc(chk, seg, an, doc, rec, len, dt, a, table, all, title);
        else if (rc == LEDE_ECORRUPT) {
            fault(chk, "%s: stored documents are unreadable: %s", seg->path, err.msg);
            rc = 0;
        }
    }
    lede_docstore_iter_free(&it);
    return rc == LEDE_DONE ? 0 : rc;
}

int lede_index_check(const char *dir, lede_report_fn report, void *ctx, lede_err *err)
{
    checker chk = {report, ctx, 0};
    lede_index *ix;
    int rc = lede_index_open(dir, &ix, err);
    if (rc) {
        fault(&chk, "%s", err ? err->msg : "cannot open the index");
        return rc;
    }
    lede_analyzer *an = lede_index_analyzer(ix, err);
    lede_arena *a = lede_arena_new(1 << 16);
    doc_terms dt = {0};
    if (!an || !a) {
        rc = lede_err_set(err, LEDE_ENOMEM, "out of memory");
        goto out;
    }
    for (uint32_t s = 0; s < ix->nsegs; s++) {
        const lede_segment *seg = ix->segs[s].seg;
        lede_err verr;
        lede_err_clear(&verr);
        if (lede_segment_verify(seg, &verr)) {
            fault(&chk, "%s", verr.msg);
            continue;
        }
        term_table table = {0};
        if (!(table.keep = lede_arena_new(1 << 20))) {
            rc = lede_err_set(err, LEDE_ENOMEM, "out of memory");
            goto out;
        }
        walk_ctx w = {&chk, seg, a, &table, 0, 0, chk.faults};
        int scan = lede_segment_scan(seg, "", 0, walk_term, &w);
        if (scan == LEDE_ENOMEM) {
            table_clear(&table);
            rc = lede_err_set(err, LEDE_ENOMEM, "out of memory");
            goto out;
        }
        if (scan)
            fault(&chk, "%s: dictionary cannot be read to its end", seg->path);
        if (chk.faults != w.faults_before) {
            table_clear(&table);
            continue; /* the re-analysis would only repeat these faults */
        }
        uint64_t all = 0, title = 0;
        if (check_docs(&chk, seg, an, &dt, a, &table, &all, &title))
            rc = lede_err_set(err, LEDE_ENOMEM, "out of memory");
        table_clear(&table);
        if (rc)
            goto out;
        if (all != w.all_postings || title != w.title_postings)
            fault(&chk, "%s: the index holds %llu postings its text does not explain", seg->path,
                  (unsigned long long)((w.all_postings + w.title_postings) - (all + title)));
    }
    if (chk.faults && !rc)
        rc = lede_err_set(err, LEDE_ECORRUPT, "%llu fault%s found", (unsigned long long)chk.faults,
                          chk.faults == 1 ? "" : "s");
out:
    free(dt.terms);
    free(dt.pos);
    free(dt.order);
    lede_arena_free(a);
    lede_index_free(ix);
    return rc;
}
