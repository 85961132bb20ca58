/* pending.c: the in-memory inverted index of one segment being built, and
 * the two-stage pipeline that fills it. The caller's thread analyzes each
 * document into folded words (no stemming) and inverts it locally: each
 * distinct word with its tf and its positions, varint-encoded, grouped
 * through a small per-document hash table that stays in cache. A ring of
 * slots hands that to the inverter thread, which maps each word to its term
 * through a table of every word seen (so a word is stemmed once per segment,
 * not once per document), merges the positions of words sharing a stem
 * ("run", "running"), appends each term's bytes to its postings, and
 * streams the document into the segment writer (lengths, columns, and
 * compressed stored fields written as blocks fill). Document numbers are
 * given in submission order, so the result does not depend on timing.
 *
 * Per term the inverter keeps a varint stream of postings (doc gap, tf,
 * position gaps) and one for the title field (doc gap, tf in the title).
 * Flush sorts the terms and writes the title keys ("\x01" + term), then the
 * title+body keys, encoding the two halves of the dictionary on two threads. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "write/write.h"

#define NSLOTS 64

typedef struct pterm {
    char *key;              /* term bytes (arena), NUL-terminated */
    uint32_t len;
    uint32_t df, last_doc;
    uint32_t tdf, last_title_doc;
    lede_buf post;          /* doc gap, tf, position gaps */
    lede_buf tpost;         /* title field: doc gap, tf */
    uint32_t cur_doc;       /* the document whose words are being gathered */
    uint32_t first, last, nwords;   /* its words in that document: a chain through ent_next */
} pterm;

/* A word seen in this segment and the term it stems to. */
typedef struct pword {
    char *key;
    uint32_t len;
    uint32_t term;          /* index in terms */
} pword;

/* Caller side: one token of the document being analyzed, and one distinct word. */
typedef struct ctok {
    uint32_t pos, next;
} ctok;

typedef struct cword {
    uint32_t hash, off, len;   /* folded word bytes at ctext + off */
    uint32_t head, tail, tf, tf_title;
} cword;

/* One analyzed document on its way to the inverter. */
typedef struct slot {
    lede_buf words;         /* per distinct word: u32 hash, u8 length, bytes, varint tf,
                               varint title tf, u32 n, n bytes of position varints */
    uint32_t nwords;
    lede_buf rec;           /* the stored record */
    lede_doc_info info;
} slot;

struct lede_pending {
    lede_seg_writer *sw;
    lede_analyzer *an;      /* the caller's */
    /* inverter state */
    lede_analyzer *stemmer; /* the inverter's own: libstemmer is not thread-safe */
    lede_arena *keys;
    pterm *terms;           /* every term, in order of first use */
    uint32_t nterms;
    size_t terms_cap;
    lede_htab ttab;         /* term -> index in terms */
    pword *words;           /* every word, in order of first use */
    uint32_t nwords;
    size_t words_cap;
    lede_htab wtab;         /* word -> index in words */
    uint32_t ndocs;         /* inverted */
    lede_buf body_start;
    const uint8_t **ent;    /* entries of the slot being inverted */
    pterm **ent_term;
    uint32_t *ent_next;
    uint32_t *touched;      /* terms of the slot being inverted */
    size_t ent_cap;
    uint32_t *merge_a, *merge_b;   /* positions of words merged into one term */
    size_t merge_cap, merge_cap_b;
    /* caller state: the current document's tokens grouped by word */
    lede_buf ctext;
    ctok *ctok;
    uint32_t nctok;
    size_t ctok_cap;
    cword *cword;
    uint32_t ncword;
    size_t cword_cap;
    lede_htab ltab;         /* per-document table: word -> index in cword */
    uint32_t submitted;
    size_t inv_bytes;       /* memory the inverter holds; written by it, read by the caller */
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

int lede_pending_new(const char *seg_path, lede_analyzer *an, int no_stem, lede_pending **out,
                     lede_err *err)
{
    lede_pending *p = calloc(1, sizeof *p);
    if (!p)
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    lede_err_clear(&p->err);
    p->an = an;
    p->keys = lede_arena_new(1 << 20);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->filled, NULL);
    pthread_cond_init(&p->freed, NULL);
    if (lede_htab_init(&p->ttab, 1 << 15) || lede_htab_init(&p->wtab, 1 << 15) ||
        lede_htab_init(&p->ltab, 1 << 11) || !p->keys) {
        lede_pending_free(p);
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    }
    lede_analyzer_opts so = {0};
    so.no_stem = no_stem;
    int rc = lede_analyzer_new(&so, &p->stemmer, err);
    if (!rc)
        rc = lede_seg_writer_new(seg_path, &p->sw, err);
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
    for (uint32_t i = 0; i < p->nterms; i++) {
        lede_buf_free(&p->terms[i].post);
        lede_buf_free(&p->terms[i].tpost);
    }
    for (int i = 0; i < NSLOTS; i++) {
        lede_buf_free(&p->slots[i].words);
        lede_buf_free(&p->slots[i].rec);
    }
    free(p->terms);
    lede_htab_free(&p->ttab);
    free(p->words);
    lede_htab_free(&p->wtab);
    lede_arena_free(p->keys);
    lede_analyzer_free(p->stemmer);
    free(p->ent);
    free(p->ent_term);
    free(p->ent_next);
    free(p->touched);
    free(p->merge_a);
    free(p->merge_b);
    lede_buf_free(&p->ctext);
    free(p->ctok);
    free(p->cword);
    lede_htab_free(&p->ltab);
    lede_buf_free(&p->body_start);
    lede_seg_writer_free(p->sw);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->filled);
    pthread_cond_destroy(&p->freed);
    free(p);
}

size_t lede_pending_bytes(const lede_pending *p)
{
    /* The inverter's count lags by at most the ring of slots, which is
     * small next to a budget. */
    size_t slots = 0;
    for (int i = 0; i < NSLOTS; i++)
        slots += p->slots[i].words.cap + p->slots[i].rec.cap;
    return __atomic_load_n(&p->inv_bytes, __ATOMIC_RELAXED) + slots;
}

static void count_bytes(lede_pending *p, size_t add)
{
    __atomic_store_n(&p->inv_bytes, __atomic_load_n(&p->inv_bytes, __ATOMIC_RELAXED) + add,
                     __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------ inverter */

static bool term_eq(const void *ctx, uint32_t i, const void *key, size_t len)
{
    const pterm *t = &((const lede_pending *)ctx)->terms[i];
    return t->len == len && memcmp(t->key, key, len) == 0;
}

static bool word_eq(const void *ctx, uint32_t i, const void *key, size_t len)
{
    const pword *w = &((const lede_pending *)ctx)->words[i];
    return w->len == len && memcmp(w->key, key, len) == 0;
}

/* Adds entry idx (its key copied into the arena as *key) to table t,
 * growing the entries' array *arr as needed, and counts the memory for the
 * budget. */
static int add_entry(lede_pending *p, lede_htab *t, uint32_t pos, uint32_t hash, uint32_t idx,
                     void **arr, size_t *cap, size_t elem, const char *s, uint32_t n, char **key)
{
    size_t before = *cap * elem + lede_htab_bytes(t);
    if (lede_grow(arr, cap, (size_t)idx + 1, elem, 1 << 15) ||
        !(*key = lede_arena_strndup(p->keys, s, n)) || lede_htab_insert(t, pos, hash, idx))
        return LEDE_ENOMEM;
    count_bytes(p, *cap * elem + lede_htab_bytes(t) - before + n + 1);
    return 0;
}

/* The index of a term in terms, added if new; LEDE_HTAB_NONE out of memory. */
static uint32_t find_term(lede_pending *p, const char *s, uint32_t n, uint32_t hash)
{
    uint32_t pos;
    uint32_t i = lede_htab_find(&p->ttab, hash, s, n, term_eq, p, &pos);
    if (i != LEDE_HTAB_NONE)
        return i;
    char *key;
    if (add_entry(p, &p->ttab, pos, hash, p->nterms, (void **)&p->terms, &p->terms_cap,
                  sizeof *p->terms, s, n, &key))
        return LEDE_HTAB_NONE;
    pterm *t = &p->terms[p->nterms];
    memset(t, 0, sizeof *t);
    t->key = key;
    t->len = n;
    t->cur_doc = LEDE_NO_DOC;
    return p->nterms++;
}

/* The term of a word; a word met for the first time is stemmed here. */
static uint32_t word_term(lede_pending *p, const char *s, uint32_t n, uint32_t hash)
{
    uint32_t pos;
    uint32_t i = lede_htab_find(&p->wtab, hash, s, n, word_eq, p, &pos);
    if (i != LEDE_HTAB_NONE)
        return p->words[i].term;
    char stem[LEDE_MAX_TERM + 1];
    size_t stem_len = lede_stem_word(p->stemmer, s, n, stem, sizeof stem);
    const char *term = stem_len ? stem : s;
    uint32_t term_len = stem_len ? (uint32_t)stem_len : n;
    uint32_t t = find_term(p, term, term_len, lede_hash(term, term_len));
    if (t == LEDE_HTAB_NONE)
        return t;
    /* The word table's pos still holds: find_term inserted into the term table only. */
    char *key;
    if (add_entry(p, &p->wtab, pos, hash, p->nwords, (void **)&p->words, &p->words_cap,
                  sizeof *p->words, s, n, &key))
        return LEDE_HTAB_NONE;
    p->words[p->nwords++] = (pword){key, n, t};
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

/* Fields of one slot entry. */
typedef struct entry {
    uint32_t hash, len, nbytes;
    const char *word;
    uint64_t tf, tf_title;
    const uint8_t *positions;
} entry;

static void read_entry(const uint8_t *q, const uint8_t *end, entry *e)
{
    e->hash = lede_get_u32(q);
    e->len = q[4];
    e->word = (const char *)q + 5;
    q += 5 + e->len;
    lede_varint_get(&q, end, &e->tf); /* written by this file just before */
    lede_varint_get(&q, end, &e->tf_title);
    e->nbytes = lede_get_u32(q);
    e->positions = q + 4;
}

static int ensure_merge(lede_pending *p, uint64_t n)
{
    if (lede_grow((void **)&p->merge_a, &p->merge_cap, n, sizeof *p->merge_a, 1024) ||
        lede_grow((void **)&p->merge_b, &p->merge_cap_b, n, sizeof *p->merge_b, 1024))
        return LEDE_ENOMEM;
    return 0;
}

/* Appends one document's posting of t: a single word's bytes as they are,
 * or several words' positions merged in order. */
static int append_posting(lede_pending *p, pterm *t, uint32_t d, const uint8_t *end)
{
    entry e;
    uint64_t tf = 0, tf_title = 0;
    if (t->nwords == 1) {
        read_entry(p->ent[t->first], end, &e);
        tf = e.tf;
        tf_title = e.tf_title;
        lede_buf_reserve(&t->post, 20 + e.nbytes);
        lede_buf_put_varint(&t->post, t->df == 0 ? d : d - t->last_doc);
        lede_buf_put_varint(&t->post, tf);
        lede_buf_put(&t->post, e.positions, e.nbytes);
    } else {
        uint32_t n = 0;
        for (uint32_t k = t->first; k != UINT32_MAX; k = p->ent_next[k]) {
            read_entry(p->ent[k], end, &e);
            tf += e.tf;
            tf_title += e.tf_title;
            if (ensure_merge(p, tf))
                return LEDE_ENOMEM;
            /* Merge this word's positions (decoded) into the sorted run so far. */
            const uint8_t *q = e.positions, *qend = e.positions + e.nbytes;
            uint32_t i = 0, out = 0, pos = 0;
            uint32_t *a = p->merge_a, *b = p->merge_b;
            for (uint64_t m = 0; m < e.tf; m++) {
                uint32_t gap;
                lede_varint_get32(&q, qend, &gap);
                pos = m == 0 ? gap : pos + gap;
                while (i < n && a[i] < pos)
                    b[out++] = a[i++];
                b[out++] = pos;
            }
            while (i < n)
                b[out++] = a[i++];
            n = out;
            p->merge_a = b;
            p->merge_b = a;
            size_t cap = p->merge_cap;
            p->merge_cap = p->merge_cap_b;
            p->merge_cap_b = cap;
        }
        lede_buf_reserve(&t->post, 20 + 5 * (size_t)n);
        lede_buf_put_varint(&t->post, t->df == 0 ? d : d - t->last_doc);
        lede_buf_put_varint(&t->post, tf);
        for (uint32_t i = 0; i < n; i++)
            lede_buf_put_varint(&t->post, i == 0 ? p->merge_a[0] : p->merge_a[i] - p->merge_a[i - 1]);
    }
    if (tf_title) {
        lede_buf_put_varint(&t->tpost, t->tdf == 0 ? d : d - t->last_title_doc);
        lede_buf_put_varint(&t->tpost, tf_title);
        t->tdf++;
        t->last_title_doc = d;
    }
    if (t->post.rc || t->tpost.rc)
        return LEDE_ENOMEM;
    t->df++;
    t->last_doc = d;
    return 0;
}

static void invert_slot(lede_pending *p, slot *s)
{
    uint32_t d = p->ndocs;
    size_t held = 0;   /* growth of the postings buffers for this document */
    /* Four arrays, one per entry, with one capacity. */
    size_t cap = p->ent_cap, c;
    c = cap;
    int bad = lede_grow((void **)&p->ent, &c, s->nwords, sizeof *p->ent, 1024);
    c = cap;
    bad = bad || lede_grow((void **)&p->ent_term, &c, s->nwords, sizeof *p->ent_term, 1024);
    c = cap;
    bad = bad || lede_grow((void **)&p->ent_next, &c, s->nwords, sizeof *p->ent_next, 1024);
    c = cap;
    bad = bad || lede_grow((void **)&p->touched, &c, s->nwords, sizeof *p->touched, 1024);
    if (bad) {
        fail_inverter(p, LEDE_ENOMEM, "indexing");
        return;
    }
    p->ent_cap = c;
    /* First the entries' places, so the loops below can prefetch ahead: the
     * word table, the term and its postings tail are cache misses that would
     * otherwise be paid one after the other. */
    const uint8_t *q = s->words.p, *end = q ? q + s->words.len : q;
    for (uint32_t k = 0; k < s->nwords; k++) {
        p->ent[k] = q;
        q += 5 + q[4];
        uint64_t skip;
        lede_varint_get(&q, end, &skip);
        lede_varint_get(&q, end, &skip);
        q += 4 + lede_get_u32(q);
    }
    uint32_t ntouched = 0;
    for (uint32_t k = 0; k < s->nwords; k++) {
        if (k + 16 < s->nwords)
            lede_htab_prefetch(&p->wtab, lede_get_u32(p->ent[k + 16]));
        if (k + 8 < s->nwords) {
            uint32_t w = lede_htab_peek(&p->wtab, lede_get_u32(p->ent[k + 8]));
            if (w != LEDE_HTAB_NONE)
                __builtin_prefetch(&p->words[w]);
        }
        if (k + 4 < s->nwords) {
            uint32_t w = lede_htab_peek(&p->wtab, lede_get_u32(p->ent[k + 4]));
            if (w != LEDE_HTAB_NONE) {
                const pterm *t = &p->terms[p->words[w].term];
                __builtin_prefetch(t);
                if (t->post.p)
                    __builtin_prefetch(t->post.p + t->post.len);
            }
        }
        const uint8_t *e = p->ent[k];
        uint32_t ti = word_term(p, (const char *)e + 5, e[4], lede_get_u32(e));
        if (ti == LEDE_HTAB_NONE) {
            fail_inverter(p, LEDE_ENOMEM, "indexing");
            return;
        }
        pterm *t = &p->terms[ti];
        p->ent_next[k] = UINT32_MAX;
        if (t->cur_doc != d) {
            t->cur_doc = d;
            t->first = t->last = k;
            t->nwords = 1;
            p->touched[ntouched++] = ti;
        } else {
            p->ent_next[t->last] = k;
            t->last = k;
            t->nwords++;
        }
    }
    for (uint32_t i = 0; i < ntouched; i++) {
        pterm *t = &p->terms[p->touched[i]];
        size_t before = t->post.cap + t->tpost.cap;
        if (append_posting(p, t, d, end)) {
            fail_inverter(p, LEDE_ENOMEM, "indexing");
            return;
        }
        held += t->post.cap + t->tpost.cap - before;
    }
    /* Stored text is on disk already; its block index stays: a few bytes a document. */
    count_bytes(p, held + 16);
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

static bool cword_eq(const void *ctx, uint32_t i, const void *key, size_t len)
{
    const lede_pending *p = ctx;
    const cword *c = &p->cword[i];
    return c->len == len && memcmp(p->ctext.p + c->off, key, len) == 0;
}

static int on_token(void *ctx, const lede_token *tok)
{
    analyze_ctx *a = ctx;
    lede_pending *p = a->p;
    if (lede_grow((void **)&p->ctok, &p->ctok_cap, (size_t)p->nctok + 1, sizeof *p->ctok, 1024))
        return LEDE_ENOMEM;
    uint32_t hash = lede_hash(tok->term, tok->term_len), pos;
    uint32_t ci = lede_htab_find(&p->ltab, hash, tok->term, tok->term_len, cword_eq, p, &pos);
    cword *c = ci == LEDE_HTAB_NONE ? NULL : &p->cword[ci];
    uint32_t idx = p->nctok++;
    p->ctok[idx].pos = tok->pos;
    p->ctok[idx].next = UINT32_MAX;
    int in_title = tok->pos < a->body_start;
    if (c) {
        p->ctok[c->tail].next = idx;
        c->tail = idx;
        c->tf++;
        c->tf_title += in_title;
    } else {
        if (lede_grow((void **)&p->cword, &p->cword_cap, (size_t)p->ncword + 1, sizeof *p->cword,
                      1024) ||
            lede_htab_insert(&p->ltab, pos, hash, p->ncword))
            return LEDE_ENOMEM;
        c = &p->cword[p->ncword];
        c->hash = hash;
        c->off = (uint32_t)p->ctext.len;
        c->len = tok->term_len;
        c->head = c->tail = idx;
        c->tf = 1;
        c->tf_title = in_title;
        lede_buf_put(&p->ctext, tok->term, tok->term_len);
        if (p->ctext.rc)
            return LEDE_ENOMEM;
        p->ncword++;
    }
    a->count++;
    return 0;
}

/* Writes the document's distinct words into the slot in the inverter's format. */
static int encode_words(lede_pending *p, slot *s)
{
    lede_buf *b = &s->words;
    for (uint32_t i = 0; i < p->ncword; i++) {
        const cword *c = &p->cword[i];
        lede_buf_reserve(b, 4 + 1 + c->len + 10 + 10 + 4 + (size_t)c->tf * 5);
        if (b->rc)
            return LEDE_ENOMEM;
        lede_buf_put_u32(b, c->hash);
        lede_buf_putc(b, (uint8_t)c->len); /* words are at most LEDE_MAX_TERM bytes */
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
    s->nwords = p->ncword;
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
    s->words.len = 0;
    s->rec.len = 0;
    lede_htab_reset(&p->ltab);   /* O(1): its slots stay allocated */
    p->nctok = p->ncword = 0;
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
        rc = encode_words(p, s);
    if (rc)
        return lede_err_set(err, rc < 0 ? rc : LEDE_ENOMEM, "analysis failed: %s",
                            lede_rc_text(rc < 0 ? rc : LEDE_ENOMEM));
    s->info.doc_len = a.count;
    if (doc->date.ptr && doc->date.len && lede_parse_date(doc->date.ptr, doc->date.len, &s->info.date))
        s->info.date = 0;
    lede_record_encode(doc, &s->rec);
    if (s->rec.rc || s->words.rc)
        return lede_err_set(err, LEDE_ENOMEM, "out of memory indexing");
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
    for (uint32_t i = 0; i < p->nterms; i++)
        terms[n++] = &p->terms[i];
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
