/* pending.c: the in-memory inverted index of one segment being built.
 * Documents go to the segment writer as they arrive (lengths, columns,
 * stored fields); each term keeps a varint stream of its postings (doc gap,
 * tf, position gaps) until flush sorts the terms and writes them, title-field
 * keys ("\x01" + term, tf = occurrences before the body) first.
 *
 * Per document, tokens are chained per term through one scratch array, so
 * inverting a document costs O(tokens) with no per-term allocation. */
#include <stdlib.h>
#include <string.h>

#include "index_int.h"

typedef struct pterm {
    char *key;              /* term bytes (arena), NUL-terminated */
    uint32_t len, hash;
    uint32_t df, last_doc;
    lede_buf post;
    uint32_t cur_doc;       /* doc of the chain below, or LEDE_NO_DOC */
    uint32_t head, tail, tf;/* chain of this doc's tokens in tok[] */
} pterm;

typedef struct tok_link {
    uint32_t pos, next;
} tok_link;

struct lede_pending {
    lede_seg_writer *sw;
    lede_analyzer *an;
    lede_arena *keys;
    pterm **table;          /* open addressing */
    uint32_t cap, nterms;
    uint32_t ndocs;
    size_t bytes;
    /* per-document scratch */
    tok_link *tok;
    uint32_t ntok, tok_cap;
    pterm **touched;
    uint32_t ntouched, touched_cap;
    lede_buf rec;
    int rc;
    /* doc info: body_start per doc, needed at flush for title postings */
    lede_buf body_start;
};

static uint32_t hash_term(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h ^ (h >> 15);
}

int lede_pending_new(const char *seg_path, lede_analyzer *an, lede_pending **out, lede_err *err)
{
    lede_pending *p = calloc(1, sizeof *p);
    if (!p)
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    p->an = an;
    p->cap = 1 << 16;
    p->table = calloc(p->cap, sizeof *p->table);
    p->keys = lede_arena_new(1 << 20);
    if (!p->table || !p->keys) {
        lede_pending_free(p);
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    }
    int rc = lede_seg_writer_new(seg_path, &p->sw, err);
    if (rc) {
        lede_pending_free(p);
        return rc;
    }
    *out = p;
    return LEDE_OK;
}

void lede_pending_free(lede_pending *p)
{
    if (!p)
        return;
    for (uint32_t i = 0; i < p->cap && p->table; i++)
        if (p->table[i])
            lede_buf_free(&p->table[i]->post);
    free(p->table);
    lede_arena_free(p->keys);
    free(p->tok);
    free(p->touched);
    lede_buf_free(&p->rec);
    lede_buf_free(&p->body_start);
    lede_seg_writer_free(p->sw);
    free(p);
}

uint32_t lede_pending_ndocs(const lede_pending *p)
{
    return p->ndocs;
}

size_t lede_pending_bytes(const lede_pending *p)
{
    return p->bytes;
}

static int grow_table(lede_pending *p)
{
    uint32_t cap = p->cap * 2;
    pterm **fresh = calloc(cap, sizeof *fresh);
    if (!fresh)
        return LEDE_ENOMEM;
    for (uint32_t i = 0; i < p->cap; i++) {
        pterm *t = p->table[i];
        if (!t)
            continue;
        uint32_t h = t->hash & (cap - 1);
        while (fresh[h])
            h = (h + 1) & (cap - 1);
        fresh[h] = t;
    }
    p->bytes += (size_t)(cap - p->cap) * sizeof *fresh;
    free(p->table);
    p->table = fresh;
    p->cap = cap;
    return 0;
}

static pterm *find_term(lede_pending *p, const char *s, uint32_t n)
{
    uint32_t hash = hash_term(s, n);
    uint32_t h = hash & (p->cap - 1);
    for (pterm *t; (t = p->table[h]); h = (h + 1) & (p->cap - 1))
        if (t->hash == hash && t->len == n && memcmp(t->key, s, n) == 0)
            return t;
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
    p->table[h] = t;
    p->nterms++;
    p->bytes += sizeof *t + n + 1 + 16;
    return t;
}

typedef struct add_ctx {
    lede_pending *p;
    uint32_t doc;
    uint32_t count;
} add_ctx;

static int on_token(void *ctx, const lede_token *tok)
{
    add_ctx *a = ctx;
    lede_pending *p = a->p;
    pterm *t = find_term(p, tok->term, tok->term_len);
    if (!t)
        return LEDE_ENOMEM;
    if (p->ntok == p->tok_cap) {
        uint32_t cap = p->tok_cap ? p->tok_cap * 2 : 4096;
        tok_link *fresh = realloc(p->tok, cap * sizeof *fresh);
        if (!fresh)
            return LEDE_ENOMEM;
        p->tok = fresh;
        p->tok_cap = cap;
    }
    uint32_t idx = p->ntok++;
    p->tok[idx].pos = tok->pos;
    p->tok[idx].next = UINT32_MAX;
    if (t->cur_doc != a->doc) {
        if (p->ntouched == p->touched_cap) {
            uint32_t cap = p->touched_cap ? p->touched_cap * 2 : 1024;
            pterm **fresh = realloc(p->touched, cap * sizeof *fresh);
            if (!fresh)
                return LEDE_ENOMEM;
            p->touched = fresh;
            p->touched_cap = cap;
        }
        p->touched[p->ntouched++] = t;
        t->cur_doc = a->doc;
        t->head = t->tail = idx;
        t->tf = 1;
    } else {
        p->tok[t->tail].next = idx;
        t->tail = idx;
        t->tf++;
    }
    a->count++;
    return 0;
}

int lede_pending_add(lede_pending *p, const lede_doc *doc, uint32_t *docno, lede_err *err)
{
    if (p->rc)
        return lede_err_set(err, p->rc, "segment builder failed earlier");
    if (!doc->id.ptr || doc->id.len == 0)
        return lede_err_set(err, LEDE_EINVAL, "document without id");
    uint32_t d = p->ndocs;
    add_ctx a = {p, d, 0};
    p->ntok = 0;
    p->ntouched = 0;
    uint32_t next = 0;
    int rc = 0;
    if (doc->title.ptr)
        rc = lede_analyze(p->an, doc->title.ptr, doc->title.len, 0, on_token, &a, &next);
    lede_doc_info info = {0};
    info.title_len = a.count;
    info.body_start = next + 1; /* a gap so no phrase spans title and body */
    if (!rc && doc->body.ptr)
        rc = lede_analyze(p->an, doc->body.ptr, doc->body.len, info.body_start, on_token, &a, NULL);
    if (rc)
        return p->rc = lede_err_set(err, rc < 0 ? rc : LEDE_ENOMEM, "analysis failed: %s",
                                    lede_rc_text(rc < 0 ? rc : LEDE_ENOMEM));
    info.doc_len = a.count;
    info.date = 0;
    if (doc->date.ptr && doc->date.len && lede_parse_date(doc->date.ptr, doc->date.len, &info.date))
        info.date = 0;
    for (uint32_t i = 0; i < p->ntouched; i++) {
        pterm *t = p->touched[i];
        size_t before = t->post.cap;
        lede_buf_reserve(&t->post, 10 + 5 + 5 * (size_t)t->tf);
        lede_buf_put_varint(&t->post, t->df == 0 ? d : d - t->last_doc);
        lede_buf_put_varint(&t->post, t->tf);
        uint32_t prev = 0, first = 1;
        for (uint32_t k = t->head; k != UINT32_MAX; k = p->tok[k].next) {
            uint32_t pos = p->tok[k].pos;
            lede_buf_put_varint(&t->post, first ? pos : pos - prev);
            prev = pos;
            first = 0;
        }
        if (t->post.rc)
            return p->rc = lede_err_set(err, LEDE_ENOMEM, "out of memory indexing");
        p->bytes += t->post.cap - before;
        t->df++;
        t->last_doc = d;
    }
    p->rec.len = 0;
    lede_record_encode(doc, &p->rec);
    lede_buf_put_u32(&p->body_start, info.body_start);
    if (p->rec.rc || p->body_start.rc)
        return p->rc = lede_err_set(err, LEDE_ENOMEM, "out of memory indexing");
    rc = lede_seg_writer_add_doc(p->sw, &info, &doc->id, &doc->source, p->rec.p, p->rec.len);
    if (rc)
        return p->rc = lede_err_set(err, rc, "cannot add document: %s", lede_rc_text(rc));
    /* Stored fields compress to roughly a quarter; count them for the budget. */
    p->bytes += p->rec.len / 4 + 24;
    p->ndocs++;
    *docno = d;
    return LEDE_OK;
}

static int cmp_pterm(const void *a, const void *b)
{
    const pterm *x = *(pterm *const *)a, *y = *(pterm *const *)b;
    int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len < y->len ? -1 : x->len > y->len);
}

/* Decodes one posting from a term's stream: doc, tf and absolute positions. */
static int next_posting(const uint8_t **q, const uint8_t *end, uint32_t *doc, int first,
                        uint32_t *tf, uint32_t **pos, uint32_t *pos_cap)
{
    uint32_t gap;
    if (lede_varint_get32(q, end, &gap) || lede_varint_get32(q, end, tf))
        return LEDE_ECORRUPT;
    *doc = first ? gap : *doc + gap;
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

int lede_pending_flush(lede_pending *p, lede_err *err)
{
    if (p->rc)
        return lede_err_set(err, p->rc, "segment builder failed earlier");
    pterm **terms = malloc((p->nterms ? p->nterms : 1) * sizeof *terms);
    if (!terms)
        return lede_err_set(err, LEDE_ENOMEM, "out of memory flushing");
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->cap; i++)
        if (p->table[i])
            terms[n++] = p->table[i];
    qsort(terms, n, sizeof *terms, cmp_pterm);
    uint32_t *pos = NULL, pos_cap = 0;
    char key[LEDE_MAX_TERM + 2];
    int rc = 0;
    /* Title keys sort first ("\x01" is below every term byte). */
    for (uint32_t i = 0; i < n && !rc; i++) {
        pterm *t = terms[i];
        const uint8_t *q = t->post.p, *end = q + t->post.len;
        uint32_t doc = 0, tf;
        int begun = 0;
        for (uint32_t k = 0; k < t->df && !rc; k++) {
            if ((rc = next_posting(&q, end, &doc, k == 0, &tf, &pos, &pos_cap)))
                break;
            uint32_t body_start = lede_get_u32(p->body_start.p + 4 * (size_t)doc);
            uint32_t in_title = 0;
            while (in_title < tf && pos[in_title] < body_start)
                in_title++;
            if (!in_title)
                continue;
            if (!begun) {
                key[0] = LEDE_TITLE_KEY;
                memcpy(key + 1, t->key, t->len);
                rc = lede_seg_writer_begin_term(p->sw, key, t->len + 1);
                begun = 1;
            }
            if (!rc)
                rc = lede_seg_writer_add_posting(p->sw, doc, in_title, NULL);
        }
        if (begun && !rc)
            rc = lede_seg_writer_end_term(p->sw);
    }
    for (uint32_t i = 0; i < n && !rc; i++) {
        pterm *t = terms[i];
        const uint8_t *q = t->post.p, *end = q + t->post.len;
        uint32_t doc = 0, tf;
        rc = lede_seg_writer_begin_term(p->sw, t->key, t->len);
        for (uint32_t k = 0; k < t->df && !rc; k++) {
            if ((rc = next_posting(&q, end, &doc, k == 0, &tf, &pos, &pos_cap)))
                break;
            rc = lede_seg_writer_add_posting(p->sw, doc, tf, pos);
        }
        if (!rc)
            rc = lede_seg_writer_end_term(p->sw);
        lede_buf_free(&t->post); /* release memory as we go */
    }
    free(pos);
    free(terms);
    if (rc)
        return p->rc = lede_err_set(err, rc, "cannot write segment: %s", lede_rc_text(rc));
    rc = lede_seg_writer_finish(p->sw, err);
    p->rc = rc ? rc : LEDE_EINVAL; /* spent either way */
    return rc;
}
