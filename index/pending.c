/* pending.c: the in-memory inverted index of one segment being built, and
 * the two-stage pipeline that fills it. The caller's thread analyzes each
 * document (tokenizing and stemming are the costliest part of indexing) and
 * hands the tokens through a small ring of slots to an inverter thread,
 * which appends postings and streams the document into the segment writer
 * (lengths, columns, compressed stored fields). Document numbers are given
 * in submission order, so the result does not depend on thread timing.
 *
 * Per term the inverter keeps a varint stream of postings (doc gap, tf,
 * position gaps) and a second one for the title field (doc gap, tf in the
 * title). Per document, tokens are chained per term through one scratch
 * array, so inverting costs O(tokens) with no per-term allocation. Flush
 * sorts the terms and writes the title keys ("\x01" + term), then the
 * title+body keys. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "index_int.h"

#define NSLOTS 64

typedef struct pterm {
    char *key;              /* term bytes (arena), NUL-terminated */
    uint32_t len, hash;
    uint32_t df, last_doc;
    uint32_t tdf, last_title_doc;
    lede_buf post;          /* doc gap, tf, position gaps */
    lede_buf tpost;         /* title field: doc gap, tf */
    uint32_t cur_doc;       /* doc of the chain below, or LEDE_NO_DOC */
    uint32_t head, tail, tf, tf_title;
} pterm;

typedef struct hslot {
    uint32_t hash;
    pterm *t;
} hslot;

typedef struct tok_link {
    uint32_t pos, next;
} tok_link;

/* One analyzed document on its way to the inverter. */
typedef struct slot {
    lede_buf toks;          /* per token: u32 position, u8 length, bytes */
    uint32_t ntok;
    lede_buf rec;           /* the stored record */
    lede_doc_info info;
} slot;

struct lede_pending {
    lede_seg_writer *sw;
    lede_analyzer *an;
    /* inverter state */
    lede_arena *keys;
    hslot *table;
    uint32_t cap, nterms;
    uint32_t ndocs;         /* inverted */
    tok_link *tok;
    uint32_t ntok, tok_cap;
    pterm **touched;
    uint32_t ntouched, touched_cap;
    lede_buf body_start;
    /* caller state */
    uint32_t submitted;
    size_t bytes;           /* estimate of memory held, for the budget */
    /* pipeline */
    slot slots[NSLOTS];
    uint32_t head, tail, count;
    int closing, threaded;
    pthread_t worker;
    pthread_mutex_t mu;
    pthread_cond_t filled, freed;
    int rc;                 /* first failure of either side; under mu */
    lede_err err;           /* the inverter's message */
};

static uint32_t hash_term(const char *s, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, s, 8);
        h = (h ^ v) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
        s += 8;
        n -= 8;
    }
    uint64_t v = 0;
    memcpy(&v, s, n);
    h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return (uint32_t)h;
}

static void invert_slot(lede_pending *p, slot *s);

static void *worker_main(void *arg)
{
    lede_pending *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->count == 0 && !p->closing)
            pthread_cond_wait(&p->filled, &p->mu);
        if (p->count == 0) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        slot *s = &p->slots[p->tail];
        int failed = p->rc != 0;
        pthread_mutex_unlock(&p->mu);
        if (!failed)
            invert_slot(p, s);
        pthread_mutex_lock(&p->mu);
        p->tail = (p->tail + 1) % NSLOTS;
        p->count--;
        pthread_cond_signal(&p->freed);
        pthread_mutex_unlock(&p->mu);
    }
}

int lede_pending_new(const char *seg_path, lede_analyzer *an, lede_pending **out, lede_err *err)
{
    lede_pending *p = calloc(1, sizeof *p);
    if (!p)
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    lede_err_clear(&p->err);
    p->an = an;
    p->cap = 1 << 16;
    p->table = calloc(p->cap, sizeof *p->table);
    p->keys = lede_arena_new(1 << 20);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->filled, NULL);
    pthread_cond_init(&p->freed, NULL);
    if (!p->table || !p->keys) {
        lede_pending_free(p);
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    }
    int rc = lede_seg_writer_new(seg_path, &p->sw, err);
    if (rc) {
        lede_pending_free(p);
        return rc;
    }
    /* Without a second thread the caller inverts too: slower, same result. */
    p->threaded = pthread_create(&p->worker, NULL, worker_main, p) == 0;
    *out = p;
    return LEDE_OK;
}

static void stop_worker(lede_pending *p)
{
    if (!p->threaded)
        return;
    pthread_mutex_lock(&p->mu);
    p->closing = 1;
    pthread_cond_signal(&p->filled);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->worker, NULL);
    p->threaded = 0;
}

void lede_pending_free(lede_pending *p)
{
    if (!p)
        return;
    stop_worker(p);
    for (uint32_t i = 0; i < p->cap && p->table; i++)
        if (p->table[i].t) {
            lede_buf_free(&p->table[i].t->post);
            lede_buf_free(&p->table[i].t->tpost);
        }
    for (int i = 0; i < NSLOTS; i++) {
        lede_buf_free(&p->slots[i].toks);
        lede_buf_free(&p->slots[i].rec);
    }
    free(p->table);
    lede_arena_free(p->keys);
    free(p->tok);
    free(p->touched);
    lede_buf_free(&p->body_start);
    lede_seg_writer_free(p->sw);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->filled);
    pthread_cond_destroy(&p->freed);
    free(p);
}

uint32_t lede_pending_ndocs(const lede_pending *p)
{
    return p->submitted;
}

size_t lede_pending_bytes(const lede_pending *p)
{
    return p->bytes;
}

/* ------------------------------------------------------------ inverter */

static int grow_table(lede_pending *p)
{
    uint32_t cap = p->cap * 2;
    hslot *fresh = calloc(cap, sizeof *fresh);
    if (!fresh)
        return LEDE_ENOMEM;
    for (uint32_t i = 0; i < p->cap; i++) {
        if (!p->table[i].t)
            continue;
        uint32_t h = p->table[i].hash & (cap - 1);
        while (fresh[h].t)
            h = (h + 1) & (cap - 1);
        fresh[h] = p->table[i];
    }
    free(p->table);
    p->table = fresh;
    p->cap = cap;
    return 0;
}

static pterm *find_term(lede_pending *p, const char *s, uint32_t n)
{
    uint32_t hash = hash_term(s, n);
    uint32_t h = hash & (p->cap - 1);
    for (; p->table[h].t; h = (h + 1) & (p->cap - 1)) {
        pterm *t = p->table[h].t;
        if (p->table[h].hash == hash && t->len == n && memcmp(t->key, s, n) == 0)
            return t;
    }
    if ((p->nterms + 1) * 2 > p->cap) {
        if (grow_table(p))
            return NULL;
        return find_term(p, s, n);
    }
    pterm *t = lede_arena_zalloc(p->keys, sizeof *t);
    char *key = t ? lede_arena_strndup(p->keys, s, n) : NULL;
    if (!key)
        return NULL;
    t->key = key;
    t->len = n;
    t->hash = hash;
    t->cur_doc = LEDE_NO_DOC;
    p->table[h].hash = hash;
    p->table[h].t = t;
    p->nterms++;
    return t;
}

static int fail_inverter(lede_pending *p, int rc, const char *what)
{
    pthread_mutex_lock(&p->mu);
    if (!p->rc) {
        p->rc = rc;
        lede_err_set(&p->err, rc, "%s: %s", what, lede_rc_text(rc));
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

static void invert_slot(lede_pending *p, slot *s)
{
    uint32_t d = p->ndocs;
    p->ntouched = 0;
    p->ntok = 0;
    if (s->ntok > p->tok_cap) {
        uint32_t cap = p->tok_cap ? p->tok_cap : 4096;
        while (cap < s->ntok)
            cap *= 2;
        tok_link *fresh = realloc(p->tok, cap * sizeof *fresh);
        if (!fresh) {
            fail_inverter(p, LEDE_ENOMEM, "indexing");
            return;
        }
        p->tok = fresh;
        p->tok_cap = cap;
    }
    const uint8_t *q = s->toks.p;
    for (uint32_t k = 0; k < s->ntok; k++) {
        uint32_t pos = lede_get_u32(q);
        uint32_t len = q[4];
        const char *term = (const char *)q + 5;
        q += 5 + len;
        pterm *t = find_term(p, term, len);
        if (!t) {
            fail_inverter(p, LEDE_ENOMEM, "indexing");
            return;
        }
        uint32_t idx = p->ntok++;
        p->tok[idx].pos = pos;
        p->tok[idx].next = UINT32_MAX;
        if (t->cur_doc != d) {
            if (p->ntouched == p->touched_cap) {
                uint32_t cap = p->touched_cap ? p->touched_cap * 2 : 1024;
                pterm **fresh = realloc(p->touched, cap * sizeof *fresh);
                if (!fresh) {
                    fail_inverter(p, LEDE_ENOMEM, "indexing");
                    return;
                }
                p->touched = fresh;
                p->touched_cap = cap;
            }
            p->touched[p->ntouched++] = t;
            t->cur_doc = d;
            t->head = t->tail = idx;
            t->tf = 1;
            t->tf_title = pos < s->info.body_start;
        } else {
            p->tok[t->tail].next = idx;
            t->tail = idx;
            t->tf++;
            t->tf_title += pos < s->info.body_start;
        }
    }
    for (uint32_t i = 0; i < p->ntouched; i++) {
        pterm *t = p->touched[i];
        lede_buf_reserve(&t->post, 10 + 5 + 5 * (size_t)t->tf);
        lede_buf_put_varint(&t->post, t->df == 0 ? d : d - t->last_doc);
        lede_buf_put_varint(&t->post, t->tf);
        uint32_t prev = 0;
        for (uint32_t k = t->head, first = 1; k != UINT32_MAX; k = p->tok[k].next, first = 0) {
            uint32_t pos = p->tok[k].pos;
            lede_buf_put_varint(&t->post, first ? pos : pos - prev);
            prev = pos;
        }
        if (t->tf_title) {
            lede_buf_put_varint(&t->tpost, t->tdf == 0 ? d : d - t->last_title_doc);
            lede_buf_put_varint(&t->tpost, t->tf_title);
            t->tdf++;
            t->last_title_doc = d;
        }
        if (t->post.rc || t->tpost.rc) {
            fail_inverter(p, LEDE_ENOMEM, "indexing");
            return;
        }
        t->df++;
        t->last_doc = d;
    }
    lede_doc doc;
    if (lede_record_decode(s->rec.p, s->rec.len, &doc)) {
        fail_inverter(p, LEDE_EINVAL, "encoding a stored record");
        return;
    }
    lede_buf_put_u32(&p->body_start, s->info.body_start);
    int rc = p->body_start.rc;
    if (!rc)
        rc = lede_seg_writer_add_doc(p->sw, &s->info, &doc.id, &doc.source, s->rec.p, s->rec.len);
    if (rc) {
        fail_inverter(p, rc, "adding a document to the segment");
        return;
    }
    p->ndocs++;
}

/* ------------------------------------------------------------ caller */

typedef struct analyze_ctx {
    slot *s;
    uint32_t count;
} analyze_ctx;

static int on_token(void *ctx, const lede_token *tok)
{
    analyze_ctx *a = ctx;
    lede_buf *b = &a->s->toks;
    lede_buf_reserve(b, 5 + tok->term_len);
    if (b->rc)
        return LEDE_ENOMEM;
    uint8_t *o = b->p + b->len;
    o[0] = (uint8_t)tok->pos;
    o[1] = (uint8_t)(tok->pos >> 8);
    o[2] = (uint8_t)(tok->pos >> 16);
    o[3] = (uint8_t)(tok->pos >> 24);
    o[4] = (uint8_t)tok->term_len; /* terms are at most LEDE_MAX_TERM bytes */
    memcpy(o + 5, tok->term, tok->term_len);
    b->len += 5 + tok->term_len;
    a->count++;
    return 0;
}

int lede_pending_add(lede_pending *p, const lede_doc *doc, uint32_t *docno, lede_err *err)
{
    if (!doc->id.ptr || doc->id.len == 0)
        return lede_err_set(err, LEDE_EINVAL, "document without id");
    pthread_mutex_lock(&p->mu);
    while (p->threaded && p->count == NSLOTS && !p->rc)
        pthread_cond_wait(&p->freed, &p->mu);
    int rc = p->rc;
    pthread_mutex_unlock(&p->mu);
    if (rc)
        return lede_err_set(err, rc, "%s", p->err.msg[0] ? p->err.msg : lede_rc_text(rc));
    /* The slot at head is ours until count says otherwise. */
    slot *s = &p->slots[p->head];
    s->toks.len = 0;
    s->rec.len = 0;
    analyze_ctx a = {s, 0};
    uint32_t next = 0;
    if (doc->title.ptr)
        rc = lede_analyze(p->an, doc->title.ptr, doc->title.len, 0, on_token, &a, &next);
    memset(&s->info, 0, sizeof s->info);
    s->info.title_len = a.count;
    s->info.body_start = next + 1; /* a gap so no phrase spans title and body */
    if (!rc && doc->body.ptr)
        rc = lede_analyze(p->an, doc->body.ptr, doc->body.len, s->info.body_start, on_token, &a,
                          NULL);
    if (rc)
        return lede_err_set(err, rc < 0 ? rc : LEDE_ENOMEM, "analysis failed: %s",
                            lede_rc_text(rc < 0 ? rc : LEDE_ENOMEM));
    s->ntok = a.count;
    s->info.doc_len = a.count;
    if (doc->date.ptr && doc->date.len && lede_parse_date(doc->date.ptr, doc->date.len, &s->info.date))
        s->info.date = 0;
    lede_record_encode(doc, &s->rec);
    if (s->rec.rc || s->toks.rc)
        return lede_err_set(err, LEDE_ENOMEM, "out of memory indexing");
    /* Postings take about 3 bytes a token in memory; stored fields compress
     * to about a quarter. */
    p->bytes += (size_t)a.count * 3 + s->rec.len / 4 + 64;
    if (p->threaded) {
        pthread_mutex_lock(&p->mu);
        p->head = (p->head + 1) % NSLOTS;
        p->count++;
        pthread_cond_signal(&p->filled);
        pthread_mutex_unlock(&p->mu);
    } else {
        invert_slot(p, s);
        if (p->rc)
            return lede_err_set(err, p->rc, "%s", p->err.msg);
    }
    *docno = p->submitted++;
    return LEDE_OK;
}

/* Decodes one posting from a term's stream: doc, tf and absolute positions. */
static int next_posting(const uint8_t **q, const uint8_t *end, uint32_t *doc, int first,
                        uint32_t *tf, uint32_t **pos, uint32_t *pos_cap)
{
    uint32_t gap;
    if (lede_varint_get32(q, end, &gap) || lede_varint_get32(q, end, tf))
        return LEDE_ECORRUPT;
    *doc = first ? gap : *doc + gap;
    if (!pos)
        return 0;
    if (*tf > *pos_cap) {
        uint32_t cap = *pos_cap ? *pos_cap : 64;
        while (cap < *tf)
            cap *= 2;
        uint32_t *fresh = realloc(*pos, cap * sizeof *fresh);
        if (!fresh)
            return LEDE_ENOMEM;
        *pos = fresh;
        *pos_cap = cap;
    }
    uint32_t prev = 0;
    for (uint32_t i = 0; i < *tf; i++) {
        uint32_t v;
        if (lede_varint_get32(q, end, &v))
            return LEDE_ECORRUPT;
        prev = i == 0 ? v : prev + v;
        (*pos)[i] = prev;
    }
    return 0;
}

static int cmp_pterm(const void *a, const void *b)
{
    const pterm *x = *(pterm *const *)a, *y = *(pterm *const *)b;
    int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len < y->len ? -1 : x->len > y->len);
}

/* One key to write: a term's title postings or its title+body postings. */
typedef struct flush_item {
    pterm *t;
    int title;
} flush_item;

typedef struct flush_range {
    const flush_item *items;
    size_t from, to;
    lede_term_sink *sink;
    int rc;
} flush_range;

static void *encode_range(void *arg)
{
    flush_range *r = arg;
    uint32_t *pos = NULL, pos_cap = 0;
    char key[LEDE_MAX_TERM + 2];
    int rc = 0;
    for (size_t i = r->from; i < r->to && !rc; i++) {
        pterm *t = r->items[i].t;
        int title = r->items[i].title;
        const lede_buf *stream = title ? &t->tpost : &t->post;
        uint32_t n = title ? t->tdf : t->df;
        key[0] = LEDE_TITLE_KEY;
        memcpy(key + 1, t->key, t->len);
        rc = lede_term_sink_begin(r->sink, title ? key : key + 1, t->len + (size_t)title);
        const uint8_t *q = stream->p, *end = q + stream->len;
        uint32_t doc = 0, tf;
        for (uint32_t k = 0; k < n && !rc; k++)
            if (!(rc = next_posting(&q, end, &doc, k == 0, &tf, title ? NULL : &pos, &pos_cap)))
                rc = lede_term_sink_add(r->sink, doc, tf, title ? NULL : pos);
        if (!rc)
            rc = lede_term_sink_end(r->sink);
        /* Each stream belongs to exactly one range: release it as we go. */
        lede_buf_free(title ? &t->tpost : &t->post);
    }
    free(pos);
    r->rc = rc;
    return NULL;
}

int lede_pending_flush(lede_pending *p, lede_err *err)
{
    stop_worker(p);
    if (p->rc)
        return lede_err_set(err, p->rc, "%s", p->err.msg[0] ? p->err.msg : lede_rc_text(p->rc));
    pterm **terms = malloc((p->nterms ? p->nterms : 1) * sizeof *terms);
    flush_item *items = malloc(((size_t)p->nterms * 2 + 1) * sizeof *items);
    flush_range ranges[2] = {{0}};
    int rc = 0;
    if (!terms || !items) {
        rc = LEDE_ENOMEM;
        goto done;
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->cap; i++)
        if (p->table[i].t)
            terms[n++] = p->table[i].t;
    qsort(terms, n, sizeof *terms, cmp_pterm);
    /* Title keys sort first ("\x01" is below every term byte). */
    size_t nitems = 0;
    uint64_t work = 0;
    for (uint32_t i = 0; i < n; i++)
        if (terms[i]->tdf) {
            items[nitems++] = (flush_item){terms[i], 1};
            work += terms[i]->tpost.len;
        }
    for (uint32_t i = 0; i < n; i++) {
        items[nitems++] = (flush_item){terms[i], 0};
        work += terms[i]->post.len;
    }
    /* Two ranges of about equal bytes, encoded on two threads and appended
     * in order: the file is the same as one thread would write. */
    size_t cut = 0;
    for (uint64_t acc = 0; cut < nitems && acc < work / 2; cut++)
        acc += items[cut].title ? items[cut].t->tpost.len : items[cut].t->post.len;
    for (int r = 0; r < 2; r++) {
        ranges[r].items = items;
        ranges[r].from = r ? cut : 0;
        ranges[r].to = r ? nitems : cut;
        if (lede_term_sink_new(p->sw, &ranges[r].sink)) {
            rc = LEDE_ENOMEM;
            goto done;
        }
    }
    pthread_t helper;
    int threaded = pthread_create(&helper, NULL, encode_range, &ranges[1]) == 0;
    encode_range(&ranges[0]);
    if (threaded)
        pthread_join(helper, NULL);
    else
        encode_range(&ranges[1]);
    rc = ranges[0].rc ? ranges[0].rc : ranges[1].rc;
    for (int r = 0; r < 2 && !rc; r++)
        rc = lede_seg_writer_append_sink(p->sw, ranges[r].sink);
done:
    for (int r = 0; r < 2; r++)
        lede_term_sink_free(ranges[r].sink);
    free(items);
    free(terms);
    if (rc)
        return p->rc = lede_err_set(err, rc, "cannot write segment: %s", lede_rc_text(rc));
    rc = lede_seg_writer_finish(p->sw, err);
    p->rc = rc ? rc : LEDE_EINVAL; /* spent either way */
    return rc;
}
