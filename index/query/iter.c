/* iter.c: query iterators over one segment (term, body-scoped term,
 * phrase, boolean, filters, keyword columns) and BM25 with per-field
 * lengths. Iterators speak only to posting cursors (store/postings.c), never
 * to the codec; their bounds come from the block impacts, so the top-k
 * algorithms of retrieve.c can skip safely. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "query/query_int.h"

struct lede_qit_build_ctx {
    const lede_snap_seg *ss;
    const lede_segment *seg;
    const lede_scoring *sc;
    lede_arena *a;
    lede_cursor **cursors;    /* every cursor opened, to collect corruption */
    uint32_t ncursors, cap;
    int rc;
};
typedef lede_qit_build_ctx build_ctx;

static inline double bm25(const lede_scoring *sc, double w, uint32_t tf, uint32_t len, int field)
{
    double norm = sc->k1 * (1.0 - sc->b + sc->b * (double)len / sc->avg[field]);
    return w * (double)tf * (sc->k1 + 1.0) / ((double)tf + norm);
}

static inline uint32_t u32_at(const uint8_t *arr, uint32_t doc)
{
    return lede_get_u32(arr + 4 * (size_t)doc);
}

/* The length BM25 normalises by: the field's own length. */
static inline uint32_t field_len(const lede_segment *seg, uint32_t doc, int field)
{
    if (field == LEDE_FIELD_ALL)
        return u32_at(seg->doc_len, doc);
    if (field == LEDE_FIELD_TITLE)
        return u32_at(seg->title_len, doc);
    return u32_at(seg->doc_len, doc) - u32_at(seg->title_len, doc);
}

typedef void (*advance_fn)(lede_qit *it, uint32_t target);
typedef double (*score_fn)(lede_qit *it);
typedef double (*bound_fn)(lede_qit *it, uint32_t target, uint32_t *upto);
typedef uint32_t (*freq_fn)(lede_qit *it);

static void set_ops(lede_qit *it, advance_fn advance, score_fn score, bound_fn bound, freq_fn freq)
{
    it->advance = advance;
    it->score = score;
    it->bound = bound;
    it->freq = freq;
}

/* ------------------------------------------------------------ empty */

static void empty_advance(lede_qit *it, uint32_t target)
{
    LEDE_UNUSED(target);
    it->doc = LEDE_NO_DOC;
}
static double zero_score(lede_qit *it)
{
    LEDE_UNUSED(it);
    return 0;
}
static double zero_bound(lede_qit *it, uint32_t target, uint32_t *upto)
{
    LEDE_UNUSED(it);
    LEDE_UNUSED(target);
    *upto = NO_UPTO;
    return 0;
}
static uint32_t zero_freq(lede_qit *it)
{
    LEDE_UNUSED(it);
    return 0;
}

static lede_qit *new_empty(build_ctx *b)
{
    lede_qit *it = lede_arena_zalloc(b->a, sizeof *it);
    if (!it)
        return NULL;
    it->doc = LEDE_NO_DOC;
    set_ops(it, empty_advance, zero_score, zero_bound, zero_freq);
    return it;
}

/* ------------------------------------------------------------ cursors */

static int open_cursor(build_ctx *b, const char *key, size_t len, lede_cursor **out, uint32_t *df)
{
    lede_term_entry e;
    int rc = lede_segment_lookup(b->seg, key, len, &e);
    *out = NULL;
    if (rc == LEDE_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    lede_cursor *c = lede_arena_alloc(b->a, sizeof *c);
    if (!c)
        return LEDE_ENOMEM;
    if ((rc = lede_cursor_open(c, b->seg, &e, b->a)))
        return rc;
    if (b->ncursors == b->cap) {
        uint32_t cap = b->cap ? b->cap * 2 : 16;
        lede_cursor **fresh = lede_arena_alloc(b->a, cap * sizeof *fresh);
        if (!fresh)
            return LEDE_ENOMEM;
        if (b->ncursors)
            memcpy(fresh, b->cursors, b->ncursors * sizeof *fresh);
        b->cursors = fresh;
        b->cap = cap;
    }
    b->cursors[b->ncursors++] = c;
    if (df)
        *df = e.df_body;
    *out = c;
    return 0;
}

/* Block bounds for a term scored in field with weight w. */
static void fill_block_max(lede_cursor *c, const lede_scoring *sc, double w, int field)
{
    for (uint32_t blk = 0; blk < c->nblocks; blk++) {
        double best = 0;
        if (field == LEDE_FIELD_BODY) {
            best = w * (sc->k1 + 1.0);
        } else {
            for (uint32_t k = c->impact_start[blk]; k < c->impact_start[blk + 1]; k++) {
                double s = bm25(sc, w, c->impacts[k].tf, c->impacts[k].len, field);
                if (s > best)
                    best = s;
            }
        }
        c->block_max[blk] = (float)(best * BOUND_SLACK) + (float)1e-7;
        if ((double)c->block_max[blk] < best)
            c->block_max[blk] = nextafterf((float)best, INFINITY);
    }
}

static double cursor_bound(lede_cursor *c, uint32_t target, uint32_t *upto)
{
    uint32_t blk = lede_cursor_block_of(c, target);
    if (blk >= c->nblocks) {
        *upto = NO_UPTO;
        return 0;
    }
    *upto = c->last_doc[blk];
    return c->block_max[blk];
}

static double cursor_max(const lede_cursor *c)
{
    double m = 0;
    for (uint32_t blk = 0; blk < c->nblocks; blk++)
        if (c->block_max[blk] > m)
            m = c->block_max[blk];
    return m;
}

/* ------------------------------------------------------------ term */

typedef struct term_it {
    lede_qit it;
    lede_cursor *c;        /* the scored postings: title+body, or title */
    lede_cursor *title;    /* body field: the title postings to subtract */
    int field;
    double w;
    uint32_t tf;           /* tf in the field at doc */
    const lede_segment *seg;
    const lede_scoring *sc;
} term_it;

static void term_advance(lede_qit *it, uint32_t target)
{
    term_it *t = (term_it *)it;
    lede_cursor_next_geq(t->c, target);
    it->doc = t->c->doc;
    t->tf = lede_cursor_tf(t->c);
}

static void body_term_advance(lede_qit *it, uint32_t target)
{
    term_it *t = (term_it *)it;
    for (;;) {
        lede_cursor_next_geq(t->c, target);
        uint32_t d = t->c->doc;
        if (d == LEDE_NO_DOC) {
            it->doc = d;
            return;
        }
        uint32_t in_title = 0;
        if (t->title) {
            lede_cursor_next_geq(t->title, d);
            if (t->title->doc == d)
                in_title = lede_cursor_tf(t->title);
        }
        uint32_t tf = lede_cursor_tf(t->c);
        if (tf > in_title) {
            it->doc = d;
            t->tf = tf - in_title;
            return;
        }
        target = d + 1;
    }
}

static double term_score(lede_qit *it)
{
    term_it *t = (term_it *)it;
    return bm25(t->sc, t->w, t->tf, field_len(t->seg, it->doc, t->field), t->field);
}

static double term_bound(lede_qit *it, uint32_t target, uint32_t *upto)
{
    return cursor_bound(((term_it *)it)->c, target, upto);
}

static uint32_t term_freq(lede_qit *it)
{
    return ((term_it *)it)->tf;
}

static lede_qit *new_term(build_ctx *b, const lede_leaf *leaf, uint32_t k, int field, double w)
{
    lede_cursor *c = NULL, *title = NULL;
    const char *key = leaf->keys[k];
    size_t len = leaf->key_lens[k];
    /* Keys of the body field are the title+body keys; its title postings
     * are the same term under the title prefix. */
    if ((b->rc = open_cursor(b, key, len, &c, NULL)))
        return NULL;
    if (!c)
        return new_empty(b);
    if (field == LEDE_FIELD_BODY) {
        char tkey[LEDE_MAX_TERM + 2];
        if (len + 1 <= sizeof tkey) {
            tkey[0] = LEDE_TITLE_KEY;
            memcpy(tkey + 1, key, len);
            if ((b->rc = open_cursor(b, tkey, len + 1, &title, NULL)))
                return NULL;
        }
    }
    term_it *t = lede_arena_zalloc(b->a, sizeof *t);
    if (!t) {
        b->rc = LEDE_ENOMEM;
        return NULL;
    }
    t->c = c;
    t->title = title;
    t->field = field;
    t->w = w;
    t->seg = b->seg;
    t->sc = b->sc;
    fill_block_max(c, b->sc, w, field);
    t->it.doc = 0;
    t->it.max_score = cursor_max(c);
    t->it.cost = c->df;
    set_ops(&t->it, field == LEDE_FIELD_BODY ? body_term_advance : term_advance, term_score,
            term_bound, term_freq);
    t->it.advance(&t->it, 0);
    return &t->it;
}

/* ------------------------------------------------------------ phrase */

typedef struct phrase_it {
    lede_qit it;
    uint32_t n;
    lede_cursor **c;       /* rarest first */
    uint32_t *rel;         /* relative position of each cursor's term */
    uint32_t rel_max;
    int field;
    double w;
    uint32_t freq;
    uint32_t *starts;      /* candidate start positions in the current doc */
    uint32_t starts_cap;
    lede_arena *arena;
    const lede_segment *seg;
    const lede_scoring *sc;
} phrase_it;

/* Counts the phrase's occurrences in doc. Start positions come from the
 * rarest term and are filtered term by term (rarest first), so a document
 * that fails early never has the positions of its frequent terms decoded. */
static uint32_t phrase_matches(phrase_it *p, uint32_t doc)
{
    uint32_t n0;
    const uint32_t *pos0 = lede_cursor_positions(p->c[0], &n0);
    if (!pos0)
        return 0;
    if (n0 > p->starts_cap) {
        uint32_t cap = p->starts_cap ? p->starts_cap : 64;
        while (cap < n0)
            cap *= 2;
        uint32_t *fresh = lede_arena_alloc(p->arena, (size_t)cap * sizeof *fresh);
        if (!fresh)
            return 0;
        p->starts = fresh;
        p->starts_cap = cap;
    }
    uint32_t ns = 0;
    for (uint32_t j = 0; j < n0; j++)
        if (pos0[j] >= p->rel[0])
            p->starts[ns++] = pos0[j] - p->rel[0];
    for (uint32_t i = 1; i < p->n && ns > 0; i++) {
        uint32_t ni;
        const uint32_t *pos = lede_cursor_positions(p->c[i], &ni);
        if (!pos)
            return 0;
        uint32_t kept = 0, at = 0;
        for (uint32_t j = 0; j < ns; j++) {
            uint32_t want = p->starts[j] + p->rel[i];
            while (at < ni && pos[at] < want)
                at++;
            if (at == ni)
                break;
            if (pos[at] == want)
                p->starts[kept++] = p->starts[j];
        }
        ns = kept;
    }
    uint32_t body_start = u32_at(p->seg->body_start, doc);
    uint32_t count = 0;
    for (uint32_t j = 0; j < ns; j++) {
        uint32_t start = p->starts[j], end = start + p->rel_max;
        int in_title = end < body_start, in_body = start >= body_start;
        if ((p->field == LEDE_FIELD_ALL && (in_title || in_body)) ||
            (p->field == LEDE_FIELD_TITLE && in_title) || (p->field == LEDE_FIELD_BODY && in_body))
            count++;
    }
    return count;
}

static double phrase_bound(lede_qit *it, uint32_t target, uint32_t *upto);

static void phrase_advance(lede_qit *it, uint32_t target)
{
    phrase_it *p = (phrase_it *)it;
    uint32_t d = target;
again:
    for (uint32_t i = 0; i < p->n; i++) {
        lede_cursor_next_geq(p->c[i], d);
        if (p->c[i]->doc == LEDE_NO_DOC) {
            it->doc = LEDE_NO_DOC;
            return;
        }
        if (p->c[i]->doc > d) {
            d = p->c[i]->doc;
            goto again;
        }
    }
    if (it->min_score > 0) {
        /* Positions are the costly part: not for documents that cannot compete. */
        uint32_t upto;
        if (phrase_bound(it, d, &upto) <= it->min_score) {
            it->skipped = 1;
            if (upto >= NO_UPTO) {
                it->doc = LEDE_NO_DOC;
                return;
            }
            d = upto + 1;
            goto again;
        }
    }
    p->freq = phrase_matches(p, d);
    if (!p->freq) {
        if (d == NO_UPTO) {
            it->doc = LEDE_NO_DOC;
            return;
        }
        d++;
        goto again;
    }
    it->doc = d;
}

static double phrase_score(lede_qit *it)
{
    phrase_it *p = (phrase_it *)it;
    return bm25(p->sc, p->w, p->freq, field_len(p->seg, it->doc, p->field), p->field);
}

static double phrase_bound(lede_qit *it, uint32_t target, uint32_t *upto)
{
    phrase_it *p = (phrase_it *)it;
    double sum = 0;
    *upto = NO_UPTO;
    for (uint32_t i = 0; i < p->n; i++) {
        uint32_t u;
        sum += cursor_bound(p->c[i], target, &u);
        if (u < *upto)
            *upto = u;
    }
    double cap = p->w * (p->sc->k1 + 1.0) * BOUND_SLACK;
    return p->field == LEDE_FIELD_ALL && sum < cap ? sum : cap;
}

static uint32_t phrase_freq(lede_qit *it)
{
    return ((phrase_it *)it)->freq;
}

static lede_qit *new_phrase(build_ctx *b, const lede_qnode *q, const lede_leaf *leaf)
{
    uint32_t n = leaf->nterms;
    if (n > 16) {
        b->rc = LEDE_ELIMIT;
        return NULL;
    }
    phrase_it *p = lede_arena_zalloc(b->a, sizeof *p);
    lede_cursor **c = lede_arena_zalloc(b->a, n * sizeof *c);
    uint32_t *rel = lede_arena_zalloc(b->a, n * sizeof *rel);
    if (!p || !c || !rel) {
        b->rc = LEDE_ENOMEM;
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++) {
        /* Phrases always read title+body positions; the field limits where they may match. */
        if ((b->rc = open_cursor(b, leaf->keys[i], leaf->key_lens[i], &c[i], NULL)))
            return NULL;
        if (!c[i])
            return new_empty(b);
        fill_block_max(c[i], b->sc, leaf->idf[i] * q->boost, LEDE_FIELD_ALL);
        rel[i] = q->term_pos ? q->term_pos[i] : i;
        if (rel[i] > p->rel_max)
            p->rel_max = rel[i];
    }
    /* Rarest first: the leapfrog then skips the most. */
    for (uint32_t i = 1; i < n; i++)
        for (uint32_t j = i; j > 0 && c[j]->df < c[j - 1]->df; j--) {
            lede_cursor *tc = c[j];
            c[j] = c[j - 1];
            c[j - 1] = tc;
            uint32_t tr = rel[j];
            rel[j] = rel[j - 1];
            rel[j - 1] = tr;
        }
    p->n = n;
    p->c = c;
    p->rel = rel;
    p->arena = b->a;
    p->field = q->field;
    p->w = leaf->weight;
    p->seg = b->seg;
    p->sc = b->sc;
    double sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += cursor_max(c[i]);
    double cap = p->w * (b->sc->k1 + 1.0) * BOUND_SLACK;
    p->it.max_score = q->field == LEDE_FIELD_ALL && sum < cap ? sum : cap;
    p->it.cost = c[0]->df;
    set_ops(&p->it, phrase_advance, phrase_score, phrase_bound, phrase_freq);
    phrase_advance(&p->it, 0);
    return &p->it;
}

/* ------------------------------------------------------------ filters */

typedef struct filter_it {
    lede_qit it;
    const lede_segment *seg;
    lede_qkind kind;
    uint8_t column;
    uint32_t value;           /* KEYWORD: the segment's ordinal of the value */
    int32_t lo, hi;
} filter_it;

static int filter_match(const filter_it *f, uint32_t d)
{
    if (f->kind == Q_KEYWORD)
        return lede_segment_doc_value(f->seg, f->column, d) == f->value;
    if (f->kind == Q_DATE) {
        int32_t date = (int32_t)u32_at(f->seg->date, d);
        return date != 0 && date >= f->lo && date <= f->hi;
    }
    return 1;
}

static void filter_advance(lede_qit *it, uint32_t target)
{
    filter_it *f = (filter_it *)it;
    for (uint32_t d = target; d < f->seg->ndocs; d++)
        if (filter_match(f, d)) {
            it->doc = d;
            return;
        }
    it->doc = LEDE_NO_DOC;
}

static lede_qit *new_filter(build_ctx *b, const lede_qnode *q)
{
    filter_it *f = lede_arena_zalloc(b->a, sizeof *f);
    if (!f) {
        b->rc = LEDE_ENOMEM;
        return NULL;
    }
    f->seg = b->seg;
    f->kind = q->kind;
    if (q->kind == Q_KEYWORD) {
        f->column = q->column;
        f->value = lede_segment_value_ord(b->seg, q->column, q->value ? q->value : "");
        if (!f->value)
            return new_empty(b);
    }
    f->lo = q->date_lo;
    f->hi = q->date_hi;
    f->it.cost = b->seg->ndocs;
    set_ops(&f->it, filter_advance, zero_score, zero_bound, zero_freq);
    filter_advance(&f->it, 0);
    return &f->it;
}

/* ------------------------------------------------------------ boolean */

int lede_qit_excluded(lede_qit **not, uint32_t nnot, uint32_t d)
{
    for (uint32_t i = 0; i < nnot; i++) {
        if (not[i]->doc < d)
            not[i]->advance(not[i], d);
        if (not[i]->doc == d)
            return 1;
    }
    return 0;
}

/* All musts on the first doc >= d they share; LEDE_NO_DOC if none. */
uint32_t lede_qit_leapfrog(lede_qit **m, uint32_t n, uint32_t d)
{
again:
    for (uint32_t i = 0; i < n; i++) {
        if (m[i]->doc < d)
            m[i]->advance(m[i], d);
        if (m[i]->doc == LEDE_NO_DOC)
            return LEDE_NO_DOC;
        if (m[i]->doc > d) {
            d = m[i]->doc;
            goto again;
        }
    }
    return d;
}

static void bool_advance(lede_qit *it, uint32_t target)
{
    lede_bool_it *b = (lede_bool_it *)it;
    uint32_t d = target;
    for (;;) {
        if (b->nmust) {
            d = lede_qit_leapfrog(b->must_lead, b->nmust, d);
        } else {
            uint32_t best = LEDE_NO_DOC;
            for (uint32_t i = 0; i < b->nshould; i++) {
                if (b->should[i]->doc < d)
                    b->should[i]->advance(b->should[i], d);
                if (b->should[i]->doc < best)
                    best = b->should[i]->doc;
            }
            d = best;
        }
        if (d == LEDE_NO_DOC || !lede_qit_excluded(b->not, b->nnot, d))
            break;
        d++;
    }
    it->doc = d;
}

double lede_bool_score(lede_qit *it)
{
    lede_bool_it *b = (lede_bool_it *)it;
    uint32_t d = it->doc;
    double s = 0;
    for (uint32_t i = 0; i < b->nmust; i++)
        s += b->must[i]->score(b->must[i]);
    for (uint32_t i = 0; i < b->nshould; i++) {
        lede_qit *c = b->should[i];
        if (c->doc < d)
            c->advance(c, d);
        if (c->doc == d)
            s += c->score(c);
    }
    return s;
}

static double bool_bound(lede_qit *it, uint32_t target, uint32_t *upto)
{
    lede_bool_it *b = (lede_bool_it *)it;
    double s = 0;
    *upto = NO_UPTO;
    for (uint32_t i = 0; i < b->nmust + b->nshould; i++) {
        lede_qit *c = i < b->nmust ? b->must[i] : b->should[i - b->nmust];
        uint32_t u;
        s += c->bound(c, target, &u);
        if (u < *upto)
            *upto = u;
    }
    return s;
}

static lede_qit *build(build_ctx *b, const lede_qnode *q);

static lede_qit **build_list(build_ctx *b, lede_qnode **nodes, uint32_t n)
{
    lede_qit **out = lede_arena_zalloc(b->a, (n ? n : 1) * sizeof *out);
    if (!out) {
        b->rc = LEDE_ENOMEM;
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++)
        if (!(out[i] = build(b, nodes[i])))
            return NULL;
    return out;
}

static int by_cost(const void *x, const void *y)
{
    const lede_qit *a = *(lede_qit *const *)x, *c = *(lede_qit *const *)y;
    return a->cost < c->cost ? -1 : a->cost > c->cost;
}

static lede_qit *new_bool(build_ctx *b, const lede_qnode *q)
{
    lede_bool_it *it = lede_arena_zalloc(b->a, sizeof *it);
    if (!it) {
        b->rc = LEDE_ENOMEM;
        return NULL;
    }
    it->nmust = q->nmust;
    it->nshould = q->nshould;
    it->nnot = q->nmust_not;
    if (!(it->must = build_list(b, q->must, q->nmust)) ||
        !(it->should = build_list(b, q->should, q->nshould)) ||
        !(it->not = build_list(b, q->must_not, q->nmust_not)) ||
        !(it->must_lead = lede_arena_alloc(b->a, (q->nmust ? q->nmust : 1) * sizeof *it->must_lead)))
        return NULL;
    if (q->nmust)
        memcpy(it->must_lead, it->must, q->nmust * sizeof *it->must);
    qsort(it->must_lead, it->nmust, sizeof *it->must_lead, by_cost);
    double max = 0;
    uint64_t cost = 0;
    for (uint32_t i = 0; i < it->nmust; i++)
        max += it->must[i]->max_score;
    for (uint32_t i = 0; i < it->nshould; i++) {
        max += it->should[i]->max_score;
        cost += it->should[i]->cost;
    }
    it->it.max_score = max;
    it->it.cost = it->nmust ? it->must_lead[0]->cost : cost;
    set_ops(&it->it, bool_advance, lede_bool_score, bool_bound, zero_freq);
    if (!it->nmust && !it->nshould)
        it->it.doc = LEDE_NO_DOC;
    else
        bool_advance(&it->it, 0);
    return &it->it;
}

/* ------------------------------------------------------------ unscored */

/* A filter clause (lede_query's LEDE_FILTER): its child decides the
 * matches, and it adds 0 to the score and to every bound, so the
 * algorithms never count on it. */
typedef struct unscored_it {
    lede_qit it;
    lede_qit *child;
} unscored_it;

static void unscored_advance(lede_qit *it, uint32_t target)
{
    unscored_it *u = (unscored_it *)it;
    u->child->advance(u->child, target);
    it->doc = u->child->doc;
}

static lede_qit *build_scored(build_ctx *b, const lede_qnode *q);

static lede_qit *build(build_ctx *b, const lede_qnode *q)
{
    if (!q->no_score || q->kind == Q_KEYWORD || q->kind == Q_DATE || q->kind == Q_ALL)
        return build_scored(b, q);
    lede_qit *child = build_scored(b, q);
    unscored_it *u = child ? lede_arena_zalloc(b->a, sizeof *u) : NULL;
    if (!u) {
        if (child)
            b->rc = LEDE_ENOMEM;
        return NULL;
    }
    u->child = child;
    u->it.doc = child->doc;
    u->it.cost = child->cost;
    set_ops(&u->it, unscored_advance, zero_score, zero_bound, zero_freq);
    return &u->it;
}

static lede_qit *build_scored(build_ctx *b, const lede_qnode *q)
{
    if (b->rc)
        return NULL;
    const lede_leaf *leaf = q->aux;
    switch (q->kind) {
    case Q_TERM:
        if (!leaf || leaf->nterms != 1)
            return new_empty(b);
        return new_term(b, leaf, 0, q->field, leaf->weight);
    case Q_PHRASE:
        if (!leaf || leaf->nterms == 0)
            return new_empty(b);
        return new_phrase(b, q, leaf);
    case Q_KEYWORD:
    case Q_DATE:
    case Q_ALL:
        return new_filter(b, q);
    case Q_BOOL:
        return new_bool(b, q);
    case Q_PREFIX:
        break; /* search.c rewrites prefixes into BOOLs of terms */
    }
    return new_empty(b);
}

int lede_qit_build(const lede_qnode *q, const lede_snap_seg *ss, const lede_scoring *sc,
                   lede_arena *a, lede_qit **out)
{
    build_ctx b = {ss, ss->seg, sc, a, NULL, 0, 0, 0};
    *out = build(&b, q);
    return b.rc ? b.rc : (*out ? 0 : LEDE_ENOMEM);
}

int lede_qit_build_root(const lede_qnode *q, const lede_snap_seg *ss, const lede_scoring *sc,
                        lede_arena *a, lede_qit_root *out)
{
    build_ctx *b = lede_arena_zalloc(a, sizeof *b);
    if (!b)
        return LEDE_ENOMEM;
    *b = (build_ctx){ss, ss->seg, sc, a, NULL, 0, 0, 0};
    lede_qnode wrapper;
    lede_qnode *child = (lede_qnode *)q;
    if (q->kind != Q_BOOL) {
        memset(&wrapper, 0, sizeof wrapper);
        wrapper.kind = Q_BOOL;
        wrapper.should = &child;
        wrapper.nshould = 1;
        q = &wrapper;
    }
    lede_qit *root = build(b, q);
    out->root = (lede_bool_it *)root;
    out->ctx = b;
    return b->rc ? b->rc : (root ? 0 : LEDE_ENOMEM);
}

int lede_qit_root_rc(const lede_qit_root *r)
{
    for (uint32_t i = 0; i < r->ctx->ncursors; i++)
        if (r->ctx->cursors[i]->rc)
            return r->ctx->cursors[i]->rc;
    return 0;
}
