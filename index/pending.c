/* pending.c: the in-memory inverted index of one segment being built, and
 * the two-stage pipeline that fills it. The caller's thread analyzes each
 * document and inverts it locally (its distinct terms, each with tf and its
 * positions already varint-encoded, grouped through a small per-document
 * hash table that stays in cache); a ring of slots hands that to the
 * inverter thread, which only appends each distinct term's bytes to the
 * term's postings and streams the document into the segment writer
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
} pterm;

typedef struct hslot {
    uint32_t hash;
    pterm *t;
} hslot;

/* Caller side: one token of the document being analyzed, and one distinct term. */
typedef struct ctok {
    uint32_t pos, next;
} ctok;

typedef struct cterm {
    uint32_t hash, off, len;   /* stem bytes at ctext + off */
    uint32_t head, tail, tf, tf_title;
} cterm;

typedef struct cword {
    uint32_t hash, off, len;   /* folded word bytes at ctext + off */
    uint32_t term;             /* its stem's cterm */
} cword;

/* A per-document open-addressing table of indexes into cterm or cword
 * (both start with hash, off, len). A slot is used only if its generation
 * is the table's, so a new document empties it in O(1). */
typedef struct ltable {
    uint32_t *idx, *gen;
    uint32_t cap, cur;
} ltable;

/* One analyzed document on its way to the inverter. */
typedef struct slot {
    lede_buf terms;         /* per distinct term: u32 hash, u8 length, bytes, varint tf,
                               varint title tf, u32 n, n bytes of position varints */
    uint32_t nterms;
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
    lede_buf body_start;
    const uint8_t **ent;    /* entries of the slot being inverted */
    uint32_t ent_cap;
    /* caller state: the current document's tokens grouped by term */
    lede_buf ctext;         /* bytes of the document's distinct stems and words */
    struct ctok *ctok;
    uint32_t nctok, ctok_cap;
    struct cterm *cterm;    /* distinct stems */
    uint32_t ncterm, cterm_cap;
    struct cword *cword;    /* distinct words, each stemmed once */
    uint32_t ncword, cword_cap;
    struct ltable *stems, *words;
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
        lede_buf_free(&p->slots[i].terms);
        lede_buf_free(&p->slots[i].rec);
    }
    free(p->table);
    lede_arena_free(p->keys);
    lede_buf_free(&p->ctext);
    free(p->ctok);
    free(p->cterm);
    free(p->cword);
    free(p->ent);
    for (int i = 0; i < 2; i++) {
        ltable *t = i ? p->words : p->stems;
        if (t) {
            free(t->idx);
            free(t->gen);
            free(t);
        }
    }
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

static pterm *find_term(lede_pending *p, const char *s, uint32_t n, uint32_t hash)
{
    uint32_t h = hash & (p->cap - 1);
    for (; p->table[h].t; h = (h + 1) & (p->cap - 1)) {
        pterm *t = p->table[h].t;
        if (p->table[h].hash == hash && t->len == n && memcmp(t->key, s, n) == 0)
            return t;
    }
    if ((p->nterms + 1) * 2 > p->cap) {
        if (grow_table(p))
            return NULL;
        return find_term(p, s, n, hash);
    }
    pterm *t = lede_arena_zalloc(p->keys, sizeof *t);
    char *key = t ? lede_arena_strndup(p->keys, s, n) : NULL;
    if (!key)
        return NULL;
    t->key = key;
    t->len = n;
    t->hash = hash;
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
    /* First the entries' places, so the loop below can prefetch ahead: the
     * term table, the term and its postings tail are three cache misses per
     * term that would otherwise be paid one after the other. */
    if (s->nterms > p->ent_cap) {
        uint32_t cap = p->ent_cap ? p->ent_cap : 1024;
        while (cap < s->nterms)
            cap *= 2;
        const uint8_t **fresh = realloc(p->ent, cap * sizeof *fresh);
        if (!fresh) {
            fail_inverter(p, LEDE_ENOMEM, "indexing");
            return;
        }
        p->ent = fresh;
        p->ent_cap = cap;
    }
    const uint8_t *q = s->terms.p, *end = s->terms.p + s->terms.len;
    for (uint32_t k = 0; k < s->nterms; k++) {
        p->ent[k] = q;
        q += 5 + q[4];
        uint64_t skip;
        lede_varint_get(&q, end, &skip);   /* written by this file just before */
        lede_varint_get(&q, end, &skip);
        q += 4 + lede_get_u32(q);
    }
    for (uint32_t k = 0; k < s->nterms; k++) {
        uint32_t mask = p->cap - 1;
        if (k + 16 < s->nterms)
            __builtin_prefetch(&p->table[lede_get_u32(p->ent[k + 16]) & mask]);
        if (k + 8 < s->nterms) {
            const hslot *hs = &p->table[lede_get_u32(p->ent[k + 8]) & mask];
            if (hs->t)
                __builtin_prefetch(hs->t);
        }
        if (k + 4 < s->nterms) {
            const hslot *hs = &p->table[lede_get_u32(p->ent[k + 4]) & mask];
            if (hs->t && hs->t->post.p)
                __builtin_prefetch(hs->t->post.p + hs->t->post.len);
        }
        q = p->ent[k];
        uint32_t hash = lede_get_u32(q);
        uint32_t len = q[4];
        const char *term = (const char *)q + 5;
        q += 5 + len;
        uint64_t tf, tf_title;
        lede_varint_get(&q, end, &tf);
        lede_varint_get(&q, end, &tf_title);
        uint32_t nbytes = lede_get_u32(q);
        const uint8_t *positions = q + 4;
        pterm *t = find_term(p, term, len, hash);
        if (!t) {
            fail_inverter(p, LEDE_ENOMEM, "indexing");
            return;
        }
        lede_buf_reserve(&t->post, 20 + nbytes);
        lede_buf_put_varint(&t->post, t->df == 0 ? d : d - t->last_doc);
        lede_buf_put_varint(&t->post, tf);
        lede_buf_put(&t->post, positions, nbytes);
        if (tf_title) {
            lede_buf_put_varint(&t->tpost, t->tdf == 0 ? d : d - t->last_title_doc);
            lede_buf_put_varint(&t->tpost, tf_title);
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
    lede_pending *p;
    uint32_t body_start;   /* positions below it are the title's */
    uint32_t count;
} analyze_ctx;

/* Entries of cterm and cword begin with (hash, off, len). */
typedef struct lkey {
    uint32_t hash, off, len;
} lkey;

#define LKEY(base, stride, i) ((const lkey *)((const char *)(base) + (size_t)(i) * (stride)))

static int ltable_grow(ltable *t, const void *base, size_t stride, uint32_t n)
{
    uint32_t cap = t->cap ? t->cap * 2 : 4096;
    uint32_t *idx = malloc(cap * sizeof *idx), *gen = calloc(cap, sizeof *gen);
    if (!idx || !gen) {
        free(idx);
        free(gen);
        return LEDE_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t h = LKEY(base, stride, i)->hash & (cap - 1);
        while (gen[h] == 1)
            h = (h + 1) & (cap - 1);
        gen[h] = 1;
        idx[h] = i;
    }
    free(t->idx);
    free(t->gen);
    t->idx = idx;
    t->gen = gen;
    t->cap = cap;
    t->cur = 1; /* the entries just placed are this document's */
    return 0;
}

static void ltable_reset(ltable *t)
{
    if (++t->cur == 0) {
        memset(t->gen, 0, t->cap * sizeof *t->gen);
        t->cur = 1;
    }
}

/* The slot of key (found: *hit = 1) or the empty slot where it would go. */
static uint32_t ltable_find(const ltable *t, const void *base, size_t stride, const uint8_t *text,
                            const char *key, uint32_t len, uint32_t hash, int *hit)
{
    uint32_t h = hash & (t->cap - 1);
    for (; t->gen[h] == t->cur; h = (h + 1) & (t->cap - 1)) {
        const lkey *k = LKEY(base, stride, t->idx[h]);
        if (k->hash == hash && k->len == len && memcmp(text + k->off, key, len) == 0) {
            *hit = 1;
            return h;
        }
    }
    *hit = 0;
    return h;
}

static int grow_array(void **arr, uint32_t *cap, uint32_t n, size_t size)
{
    if (n < *cap)
        return 0;
    uint32_t c = *cap ? *cap * 2 : 1024;
    void *fresh = realloc(*arr, (size_t)c * size);
    if (!fresh)
        return LEDE_ENOMEM;
    *arr = fresh;
    *cap = c;
    return 0;
}

/* The cterm of a stem, created if new. */
static int stem_entry(lede_pending *p, const char *stem, uint32_t len, uint32_t *out)
{
    ltable *t = p->stems;
    if ((p->ncterm + 1) * 2 > t->cap && ltable_grow(t, p->cterm, sizeof *p->cterm, p->ncterm))
        return LEDE_ENOMEM;
    uint32_t hash = hash_term(stem, len);
    int hit;
    uint32_t h = ltable_find(t, p->cterm, sizeof *p->cterm, p->ctext.p, stem, len, hash, &hit);
    if (hit) {
        *out = t->idx[h];
        return 0;
    }
    if (grow_array((void **)&p->cterm, &p->cterm_cap, p->ncterm, sizeof *p->cterm))
        return LEDE_ENOMEM;
    cterm *c = &p->cterm[p->ncterm];
    c->hash = hash;
    c->off = (uint32_t)p->ctext.len;
    c->len = len;
    c->head = c->tail = UINT32_MAX;
    c->tf = c->tf_title = 0;
    lede_buf_put(&p->ctext, stem, len);
    if (p->ctext.rc)
        return LEDE_ENOMEM;
    t->gen[h] = t->cur;
    t->idx[h] = p->ncterm;
    *out = p->ncterm++;
    return 0;
}

/* The cterm of a folded word: its stem is computed once per document. */
static int word_entry(lede_pending *p, const char *word, uint32_t len, uint32_t *out)
{
    ltable *t = p->words;
    if ((p->ncword + 1) * 2 > t->cap && ltable_grow(t, p->cword, sizeof *p->cword, p->ncword))
        return LEDE_ENOMEM;
    uint32_t hash = hash_term(word, len);
    int hit;
    uint32_t h = ltable_find(t, p->cword, sizeof *p->cword, p->ctext.p, word, len, hash, &hit);
    if (hit) {
        *out = p->cword[t->idx[h]].term;
        return 0;
    }
    char stem[LEDE_MAX_TERM + 1];
    size_t stem_len = lede_stem_word(p->an, word, len, stem, sizeof stem);
    uint32_t term;
    int rc = stem_entry(p, stem_len ? stem : word, stem_len ? (uint32_t)stem_len : len, &term);
    if (rc || grow_array((void **)&p->cword, &p->cword_cap, p->ncword, sizeof *p->cword))
        return LEDE_ENOMEM;
    cword *w = &p->cword[p->ncword];
    w->hash = hash;
    w->off = (uint32_t)p->ctext.len;
    w->len = len;
    w->term = term;
    lede_buf_put(&p->ctext, word, len);
    if (p->ctext.rc)
        return LEDE_ENOMEM;
    t->gen[h] = t->cur;
    t->idx[h] = p->ncword++;
    *out = term;
    return 0;
}

static int on_token(void *ctx, const lede_token *tok)
{
    analyze_ctx *a = ctx;
    lede_pending *p = a->p;
    if (grow_array((void **)&p->ctok, &p->ctok_cap, p->nctok, sizeof *p->ctok))
        return LEDE_ENOMEM;
    uint32_t term;
    if (word_entry(p, tok->term, tok->term_len, &term))
        return LEDE_ENOMEM;
    cterm *c = &p->cterm[term];
    uint32_t idx = p->nctok++;
    p->ctok[idx].pos = tok->pos;
    p->ctok[idx].next = UINT32_MAX;
    if (c->tf == 0)
        c->head = idx;
    else
        p->ctok[c->tail].next = idx;
    c->tail = idx;
    c->tf++;
    c->tf_title += tok->pos < a->body_start;
    a->count++;
    return 0;
}

/* Writes the document's distinct terms into the slot in the inverter's format. */
static int encode_terms(lede_pending *p, slot *s)
{
    lede_buf *b = &s->terms;
    for (uint32_t i = 0; i < p->ncterm; i++) {
        const cterm *c = &p->cterm[i];
        lede_buf_reserve(b, 4 + 1 + c->len + 10 + 10 + 4 + (size_t)c->tf * 5);
        if (b->rc)
            return LEDE_ENOMEM;
        lede_buf_put_u32(b, c->hash);
        lede_buf_putc(b, (uint8_t)c->len); /* terms are at most LEDE_MAX_TERM bytes */
        lede_buf_put(b, p->ctext.p + c->off, c->len);
        lede_buf_put_varint(b, c->tf);
        lede_buf_put_varint(b, c->tf_title);
        size_t len_at = b->len;
        b->len += 4;
        uint32_t prev = 0;
        for (uint32_t k = c->head, first = 1; k != UINT32_MAX; k = p->ctok[k].next, first = 0) {
            uint32_t pos = p->ctok[k].pos;
            b->len += lede_varint_put(b->p + b->len, first ? pos : pos - prev);
            prev = pos;
        }
        uint32_t n = (uint32_t)(b->len - len_at - 4);
        b->p[len_at] = (uint8_t)n;
        b->p[len_at + 1] = (uint8_t)(n >> 8);
        b->p[len_at + 2] = (uint8_t)(n >> 16);
        b->p[len_at + 3] = (uint8_t)(n >> 24);
    }
    s->nterms = p->ncterm;
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
    s->terms.len = 0;
    s->rec.len = 0;
    if (!p->stems) {
        p->stems = calloc(1, sizeof *p->stems);
        p->words = calloc(1, sizeof *p->words);
        if (!p->stems || !p->words || ltable_grow(p->stems, NULL, 0, 0) ||
            ltable_grow(p->words, NULL, 0, 0))
            return lede_err_set(err, LEDE_ENOMEM, "out of memory indexing");
    }
    ltable_reset(p->stems);
    ltable_reset(p->words);
    p->nctok = p->ncterm = p->ncword = 0;
    p->ctext.len = 0;
    analyze_ctx a = {p, UINT32_MAX, 0};
    uint32_t next = 0;
    if (doc->title.ptr)
        rc = lede_analyze_words(p->an, doc->title.ptr, doc->title.len, 0, on_token, &a, &next);
    memset(&s->info, 0, sizeof s->info);
    s->info.title_len = a.count;
    s->info.body_start = next + 1; /* a gap so no phrase spans title and body */
    a.body_start = s->info.body_start;
    if (!rc && doc->body.ptr)
        rc = lede_analyze_words(p->an, doc->body.ptr, doc->body.len, s->info.body_start,
                                on_token, &a, NULL);
    if (!rc)
        rc = encode_terms(p, s);
    if (rc)
        return lede_err_set(err, rc < 0 ? rc : LEDE_ENOMEM, "analysis failed: %s",
                            lede_rc_text(rc < 0 ? rc : LEDE_ENOMEM));
    s->info.doc_len = a.count;
    if (doc->date.ptr && doc->date.len && lede_parse_date(doc->date.ptr, doc->date.len, &s->info.date))
        s->info.date = 0;
    lede_record_encode(doc, &s->rec);
    if (s->rec.rc || s->terms.rc)
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
