/* suggest.c: completions for search-as-you-type (include/lede/suggest.h;
 * docs/SUGGEST.md has the design and the measurements). A suggester is
 * built once per lede_index from the stored titles of its live documents:
 * every word (its folded form is the key, its most frequent lower-cased
 * spelling the display), weighted by the document frequency of its stem in
 * the term dictionary, and every two-word title phrase found in at least
 * two titles, weighted by the number of those titles. Completion folds the
 * typed text like the analyzer and looks the prefix of its last word up in
 * the sorted keys; a segment tree over the ranks of the sorted entries
 * gives the best entry of any range in O(log n), so the top k of a prefix
 * of any size cost O(k log n). Read-only once built, so any number of
 * threads may query it; each thread folds with its own analyzer.
 *
 * Calls: the docstore's block iterator and record decoder (each stored
 * block decompressed once, ranges of blocks on several threads), segment
 * dictionary lookups, the analyzer (lede_analyze_words, lede_stem_word),
 * and utf8proc. Nothing in liblede calls into this file. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utf8proc.h>

#include "query/query_int.h"
#include "lede/suggest.h"

#define NONE UINT32_MAX
#define MIN_PHRASE_TITLES 2      /* a phrase must occur in this many titles */
#define MAX_DISPLAY 255          /* bytes of a displayed word; longer shows the key */

/* ================================================================ the suggester */

typedef struct sword {
    uint32_t key_off, disp_off;  /* into pool */
    uint16_t key_len, disp_len;
    uint8_t single;              /* one character: never offered alone */
    uint8_t common;              /* a function word: ranked after every other word */
    uint32_t stem;               /* words of one stem find the same documents */
    uint32_t df;                 /* document frequency of the stem (clamped) */
    uint32_t titles;             /* live titles holding the word */
} sword;

/* Elements ranked 0 (best) to n-1; tree[n + i] = i, tree[i] = the better of
 * tree[2i] and tree[2i + 1]: the bottom-up segment tree of argmin rank. */
typedef struct ranked {
    uint32_t n;
    uint32_t *rank;
    uint32_t *tree;
} ranked;

struct lede_suggester {
    char *pool;
    uint32_t nwords;
    sword *words;                /* sorted by key (bytes) */
    ranked wr;                   /* words by (common, df, titles, key) */
    uint32_t *phr_start;         /* nwords + 1: first word w's phrases are [start[w], start[w+1]) */
    uint32_t nphr;
    uint32_t *phr_w2;            /* second word, increasing within a first word's block */
    uint32_t *phr_count;         /* titles holding the phrase */
    ranked pr;                   /* phrases by (count, rank of w2, key) */
    uint64_t completions;
};

static inline uint32_t better(const ranked *r, uint32_t a, uint32_t b)
{
    if (a == NONE)
        return b;
    if (b == NONE)
        return a;
    return r->rank[a] <= r->rank[b] ? a : b;
}

/* The best element of [lo, hi), NONE if empty. */
static uint32_t ranked_best(const ranked *r, uint32_t lo, uint32_t hi)
{
    uint32_t best = NONE;
    for (lo += r->n, hi += r->n; lo < hi; lo >>= 1, hi >>= 1) {
        if (lo & 1)
            best = better(r, best, r->tree[lo++]);
        if (hi & 1)
            best = better(r, best, r->tree[--hi]);
    }
    return best;
}

/* rank must be set; builds the tree. */
static int ranked_build(ranked *r)
{
    if (r->n == 0)
        return 0;
    r->tree = malloc(2 * (size_t)r->n * sizeof *r->tree);
    if (!r->tree)
        return LEDE_ENOMEM;
    r->tree[0] = NONE;
    for (uint32_t i = 0; i < r->n; i++)
        r->tree[r->n + i] = i;
    for (uint32_t i = r->n - 1; i >= 1; i--)
        r->tree[i] = better(r, r->tree[2 * i], r->tree[2 * i + 1]);
    return 0;
}

static void ranked_free(ranked *r)
{
    free(r->rank);
    free(r->tree);
}

/* The elements of a range best first: a heap of sub-ranges keyed by the rank
 * of their best element; taking one splits its range in two. */
typedef struct span {
    uint32_t lo, hi, best;
} span;

typedef struct topiter {
    const ranked *r;
    span *heap;
    uint32_t n, cap;
    int rc;
    span inl[32];
} topiter;

static void top_push(topiter *t, uint32_t lo, uint32_t hi)
{
    if (lo >= hi || t->rc)
        return;
    if (t->n == t->cap) {
        uint32_t cap = t->cap * 2;
        span *h = malloc(cap * sizeof *h);
        if (!h) {
            t->rc = LEDE_ENOMEM;
            return;
        }
        memcpy(h, t->heap, t->n * sizeof *h);
        if (t->heap != t->inl)
            free(t->heap);
        t->heap = h;
        t->cap = cap;
    }
    span s = {lo, hi, ranked_best(t->r, lo, hi)};
    uint32_t i = t->n++;
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (t->r->rank[t->heap[p].best] <= t->r->rank[s.best])
            break;
        t->heap[i] = t->heap[p];
        i = p;
    }
    t->heap[i] = s;
}

static void top_init(topiter *t, const ranked *r, uint32_t lo, uint32_t hi)
{
    t->r = r;
    t->heap = t->inl;
    t->n = 0;
    t->cap = sizeof t->inl / sizeof t->inl[0];
    t->rc = 0;
    top_push(t, lo, hi);
}

/* The next best element, NONE at the end (or on failure: see t->rc). */
static uint32_t top_next(topiter *t)
{
    if (t->n == 0 || t->rc)
        return NONE;
    span s = t->heap[0];
    span last = t->heap[--t->n];
    uint32_t i = 0;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= t->n)
            break;
        if (c + 1 < t->n && t->r->rank[t->heap[c + 1].best] < t->r->rank[t->heap[c].best])
            c++;
        if (t->r->rank[last.best] <= t->r->rank[t->heap[c].best])
            break;
        t->heap[i] = t->heap[c];
        i = c;
    }
    if (t->n)
        t->heap[i] = last;
    top_push(t, s.lo, s.best);
    top_push(t, s.best + 1, s.hi);
    return s.best;
}

static void top_free(topiter *t)
{
    if (t->heap != t->inl)
        free(t->heap);
}

void lede_suggester_free(lede_suggester *s)
{
    if (!s)
        return;
    free(s->pool);
    free(s->words);
    ranked_free(&s->wr);
    free(s->phr_start);
    free(s->phr_w2);
    free(s->phr_count);
    ranked_free(&s->pr);
    free(s);
}

uint64_t lede_suggester_size(const lede_suggester *s)
{
    return s ? s->completions : 0;
}

/* ================================================================ building */

/* English function words (conf/stopwords-en.txt's list, with the
 * apostrophe forms the analyzer keeps): as completions they rank after
 * every other word, since they find nearly every article. Sorted. */
static const char *const function_words[] = {
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and",
    "any", "are", "aren't", "arent", "as", "at", "be", "because", "been", "before", "being",
    "below", "between", "both", "but", "by", "can", "can't", "cant", "could", "did", "didn't",
    "didnt", "do", "does", "doesn't", "doesnt", "doing", "don't", "dont", "down", "during",
    "each", "every", "few", "for", "from", "had", "has", "have", "having", "he", "her", "here",
    "hers", "him", "his", "how", "i", "if", "in", "into", "is", "isn't", "isnt", "it", "its",
    "just", "me", "more", "most", "my", "no", "nor", "not", "of", "off", "on", "once", "only",
    "onto", "or", "other", "our", "ours", "out", "over", "own", "same", "she", "should", "so",
    "some", "such", "than", "that", "the", "their", "theirs", "them", "then", "there", "these",
    "they", "this", "those", "through", "to", "too", "under", "until", "up", "upon", "very",
    "was", "wasn't", "wasnt", "we", "were", "weren't", "werent", "what", "when", "where",
    "which", "while", "whom", "whose", "why", "with", "within", "without", "won't", "wont",
    "would", "you", "your", "yours",
};

typedef struct bword {
    uint32_t key_off;
    uint16_t key_len;
    uint32_t hash;
    uint32_t titles, last_title;
    uint32_t plain, plain_first; /* occurrences displayed as the key itself; first one */
    uint32_t var;                /* first variant + 1, 0 = none */
    uint32_t stem;               /* stem group */
} bword;

typedef struct bvar {            /* a spelling other than the key */
    uint32_t off;
    uint16_t len;
    uint32_t count, first, next; /* next variant + 1 */
} bvar;

typedef struct bpair {           /* key = first word << 32 | second word */
    uint64_t key;
    uint32_t count, last_title;
} bpair;

typedef struct bstem {
    uint64_t df;                 /* summed over segments */
    int common;                  /* the stem of a function word */
} bstem;

typedef struct btok {
    uint32_t id, pos, start, end;
} btok;

/* A string -> id table over a pool (words by folded key, stems). */
typedef struct strtab {
    lede_buf pool;
    uint32_t *off;               /* per id */
    uint16_t *len;
    size_t n, cap;
    lede_htab index;             /* string -> id */
} strtab;

static void strtab_free(strtab *t)
{
    lede_buf_free(&t->pool);
    free(t->off);
    free(t->len);
    lede_htab_free(&t->index);
}

static const char *strtab_str(const strtab *t, uint32_t id)
{
    return (const char *)t->pool.p + t->off[id];
}

static int pool_add(lede_buf *pool, const char *s, size_t n, uint32_t *off)
{
    if (pool->len + n > UINT32_MAX)
        return LEDE_ELIMIT;
    *off = (uint32_t)pool->len;
    lede_buf_put(pool, s, n);
    return pool->rc;
}

static bool strtab_eq(const void *ctx, uint32_t id, const void *key, size_t len)
{
    const strtab *t = ctx;
    return t->len[id] == len && memcmp(strtab_str(t, id), key, len) == 0;
}

/* The id of s[0..n) (n < 65536), added if new (*added = 1). */
static int strtab_intern(strtab *t, const char *s, size_t n, uint32_t *id, int *added)
{
    uint32_t h = lede_hash(s, n), pos;
    *added = 0;
    uint32_t i = lede_htab_find(&t->index, h, s, n, strtab_eq, t, &pos);
    if (i != LEDE_HTAB_NONE) {
        *id = i;
        return 0;
    }
    if (t->n >= LEDE_HTAB_MAX)
        return LEDE_ELIMIT;
    if (t->n == t->cap) {
        size_t cap = t->cap;
        int rc = lede_grow((void **)&t->off, &cap, t->n + 1, sizeof *t->off, 4096);
        if (!rc) {
            cap = t->cap;
            rc = lede_grow((void **)&t->len, &cap, t->n + 1, sizeof *t->len, 4096);
        }
        if (rc)
            return rc;
        t->cap = cap;
    }
    int rc = pool_add(&t->pool, s, n, &t->off[t->n]);
    if (rc)
        return rc;
    if ((rc = lede_htab_insert(&t->index, pos, h, (uint32_t)t->n)))
        return rc;
    t->len[t->n] = (uint16_t)n;
    *id = (uint32_t)t->n++;
    *added = 1;
    return 0;
}

typedef struct builder {
    lede_analyzer *an;
    strtab keys;                 /* folded words; ids index w */
    bword *w;
    size_t capw;
    lede_buf spell;              /* variant spellings */
    bvar *v;
    size_t nv, capv;
    bpair *pairs;                /* every pair of adjacent title words */
    size_t npairs, pcap;
    lede_htab pair_index;        /* key -> index in pairs */
    btok *toks;                  /* words of the current title */
    size_t ntoks, captoks;
    strtab stems;
    bstem *stem;                 /* per stem */
    size_t capstem;
    const char *title;
    size_t title_len;
    uint32_t title_no;           /* 1-based over the whole snapshot */
    uint32_t seen;               /* occurrences so far: order of first sightings */
} builder;

static void builder_free(builder *b)
{
    strtab_free(&b->keys);
    free(b->w);
    lede_buf_free(&b->spell);
    free(b->v);
    free(b->pairs);
    lede_htab_free(&b->pair_index);
    free(b->toks);
    strtab_free(&b->stems);
    free(b->stem);
}

/* Lower-cases the UTF-8 text s[0..n) code point by code point (accents
 * stay) into out; returns the length, 0 if it does not fit or is not UTF-8. */
static size_t lower_utf8(const char *s, size_t n, char *out, size_t cap)
{
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            if (m + 1 > cap)
                return 0;
            out[m++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            i++;
            continue;
        }
        uint32_t cp;
        size_t k = lede_utf8_decode((const uint8_t *)s + i, (const uint8_t *)s + n, &cp);
        if (k == 0 || m + 4 > cap)
            return 0;
        m += (size_t)utf8proc_encode_char(utf8proc_tolower((utf8proc_int32_t)cp),
                                          (utf8proc_uint8_t *)out + m);
        i += k;
    }
    return m;
}

/* A word written with dots between initials ("U.S"): the analyzer leaves
 * the final dot out of the word; the display puts it back ("u.s."). */
static int acronym_dot(const char *title, size_t title_len, uint32_t start, uint32_t end)
{
    return end - start >= 3 && end < title_len && title[end] == '.' && title[end - 2] == '.';
}

/* Counts one spelling of word id: title[start..end) lower-cased, without a
 * possessive "'s", with an acronym's final dot. */
static int add_spelling(builder *b, uint32_t id, uint32_t start, uint32_t end)
{
    char out[MAX_DISPLAY + 1];
    size_t m = lower_utf8(b->title + start, end - start, out, MAX_DISPLAY);
    int possessive = 0;
    if (m >= 2 && out[m - 1] == 's' && out[m - 2] == '\'')
        m -= 2, possessive = 1;
    else if (m >= 4 && out[m - 1] == 's' && memcmp(out + m - 4, "\xe2\x80\x99", 3) == 0)
        m -= 4, possessive = 1;
    if (m && !possessive && m < MAX_DISPLAY && acronym_dot(b->title, b->title_len, start, end))
        out[m++] = '.';
    bword *w = &b->w[id];
    uint32_t seq = ++b->seen;
    if (m == 0 || (m == b->keys.len[id] && memcmp(out, strtab_str(&b->keys, id), m) == 0)) {
        if (w->plain++ == 0)
            w->plain_first = seq;
        return 0;
    }
    for (uint32_t v = w->var; v; v = b->v[v - 1].next) {
        bvar *x = &b->v[v - 1];
        if (x->len == m && memcmp(b->spell.p + x->off, out, m) == 0) {
            x->count++;
            return 0;
        }
    }
    if (b->nv >= UINT32_MAX - 1)
        return LEDE_ELIMIT;
    int rc = lede_grow((void **)&b->v, &b->capv, b->nv + 1, sizeof *b->v, 1024);
    if (rc)
        return rc;
    bvar *x = &b->v[b->nv];
    if ((rc = pool_add(&b->spell, out, m, &x->off)))
        return rc;
    x->len = (uint16_t)m;
    x->count = 1;
    x->first = seq;
    x->next = w->var;
    w->var = (uint32_t)++b->nv;
    return 0;
}

static int on_title_word(void *ctx, const lede_token *t)
{
    builder *b = ctx;
    uint32_t id;
    int added;
    int rc = strtab_intern(&b->keys, t->term, t->term_len, &id, &added);
    if (rc)
        return rc;
    if (added) {
        size_t cap = b->capw;
        if ((rc = lede_grow((void **)&b->w, &cap, id + 1, sizeof *b->w, 4096)))
            return rc;
        b->capw = cap;
        memset(&b->w[id], 0, sizeof b->w[id]);
    }
    bword *w = &b->w[id];
    if (w->last_title != b->title_no) {
        w->last_title = b->title_no;
        w->titles++;
    }
    if ((rc = add_spelling(b, id, t->start, t->end)))
        return rc;
    if ((rc = lede_grow((void **)&b->toks, &b->captoks, b->ntoks + 1, sizeof *b->toks, 64)))
        return rc;
    b->toks[b->ntoks++] = (btok){id, t->pos, t->start, t->end};
    return 0;
}

static bool pair_eq(const void *ctx, uint32_t i, const void *key, size_t len)
{
    LEDE_UNUSED(len);
    uint64_t k;
    memcpy(&k, key, sizeof k);
    return ((const builder *)ctx)->pairs[i].key == k;
}

static int pair_add(builder *b, uint32_t w1, uint32_t w2)
{
    uint64_t key = (uint64_t)w1 << 32 | w2;
    uint32_t h = lede_hash(&key, sizeof key), pos;
    uint32_t i = lede_htab_find(&b->pair_index, h, &key, sizeof key, pair_eq, b, &pos);
    if (i == LEDE_HTAB_NONE) {
        if (b->npairs >= LEDE_HTAB_MAX)
            return LEDE_ELIMIT;
        int rc = lede_grow((void **)&b->pairs, &b->pcap, b->npairs + 1, sizeof *b->pairs, 8192);
        if (!rc)
            rc = lede_htab_insert(&b->pair_index, pos, h, (uint32_t)b->npairs);
        if (rc)
            return rc;
        i = (uint32_t)b->npairs++;
        b->pairs[i] = (bpair){key, 0, 0};
    }
    bpair *p = &b->pairs[i];
    if (p->last_title != b->title_no) {
        p->last_title = b->title_no;
        p->count++;
    }
    return 0;
}

/* Two title words make a phrase when nothing but spaces and hyphens (after
 * an acronym's dot) stands between them: "Border Wall", "U.S.-Mexico",
 * "U.S. Senate", not "Brexit: May". */
static int plain_gap(const builder *b, const btok *a, const btok *c)
{
    const unsigned char *t = (const unsigned char *)b->title;
    size_t i = a->end;
    if (acronym_dot(b->title, b->title_len, a->start, a->end))
        i++;
    while (i < c->start) {
        if (t[i] == ' ' || t[i] == '\t' || t[i] == '-')
            i++;
        else if (t[i] == 0xC2 && i + 1 < c->start && t[i + 1] == 0xA0) /* no-break space */
            i += 2;
        else
            return 0;
    }
    return 1;
}

static int add_title(builder *b, const char *title, size_t len)
{
    b->title = title;
    b->title_len = len;
    b->title_no++;
    b->ntoks = 0;
    int rc = lede_analyze_words(b->an, title, len, 0, on_title_word, b, NULL);
    if (rc)
        return rc < 0 ? rc : LEDE_EINVAL;
    for (size_t i = 0; i + 1 < b->ntoks; i++) {
        const btok *a = &b->toks[i], *c = &b->toks[i + 1];
        if (c->pos == a->pos + 1 && plain_gap(b, a, c) && (rc = pair_add(b, a->id, c->id)))
            return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------- reading titles */

/* Reading the titles means decompressing every stored block, bodies and
 * all: most of the build's time. Jobs over consecutive runs of blocks
 * decompress them on several threads; the titles are then added in
 * document order, so the result does not depend on the number of jobs. */
#define MAX_JOBS 8
#define MIN_BLOCKS_PER_JOB 64

typedef struct title_job {
    const lede_index *ix;
    uint64_t from, to;           /* blocks [from, to), numbered over the segments in order */
    lede_buf titles;             /* per live titled document: u32 length, bytes */
    int rc;
    lede_err err;
    pthread_t thread;
    int started;
} title_job;

/* Appends the titles of the live documents of blocks [from, to) of
 * segment segno to j->titles. */
static int read_blocks(title_job *j, uint32_t segno, uint32_t from, uint32_t to)
{
    const lede_snap_seg *ss = &j->ix->segs[segno];
    lede_docstore_iter it;
    lede_err err;
    lede_err_clear(&err);
    int rc = lede_docstore_iter_init(&it, &ss->seg->store, from, to, ss->deleted, &err);
    uint32_t d;
    const uint8_t *rec;
    size_t len;
    while (!rc && !(rc = lede_docstore_iter_next(&it, &d, &rec, &len, &err))) {
        lede_doc doc;
        if (lede_record_decode(rec, len, &doc)) {
            rc = lede_err_set(&err, LEDE_ECORRUPT, "stored record %u is corrupt", d);
            break;
        }
        if (!doc.title.ptr || doc.title.len == 0)
            continue;
        if (doc.title.len > UINT32_MAX) {
            rc = lede_err_set(&err, LEDE_ECORRUPT, "title of %u is too long", d);
            break;
        }
        lede_buf_put_u32(&j->titles, (uint32_t)doc.title.len);
        lede_buf_put(&j->titles, doc.title.ptr, doc.title.len);
    }
    lede_docstore_iter_free(&it);
    if (rc == LEDE_DONE)
        rc = j->titles.rc ? lede_err_set(&err, LEDE_ENOMEM, "out of memory") : 0;
    if (rc)
        return lede_err_set(&j->err, rc, "segment %u: reading stored titles: %s", segno, err.msg);
    return 0;
}

static void *run_title_job(void *arg)
{
    title_job *j = arg;
    uint64_t base = 0;
    for (uint32_t s = 0; s < j->ix->nsegs && !j->rc; s++) {
        uint64_t nb = j->ix->segs[s].seg->store.nblocks;
        uint64_t from = base > j->from ? base : j->from, to = base + nb < j->to ? base + nb : j->to;
        if (from < to)
            j->rc = read_blocks(j, s, (uint32_t)(from - base), (uint32_t)(to - base));
        base += nb;
    }
    return NULL;
}

static int add_job_titles(builder *b, const title_job *j)
{
    const uint8_t *p = j->titles.p, *end = p + j->titles.len;
    while (p < end) {
        uint32_t n = lede_get_u32(p);
        p += 4;
        int rc = add_title(b, (const char *)p, n);
        if (rc)
            return rc;
        p += n;
    }
    return 0;
}

static int add_titles(builder *b, const lede_index *ix, lede_err *err)
{
    uint64_t nblocks = 0;
    for (uint32_t s = 0; s < ix->nsegs; s++)
        nblocks += ix->segs[s].seg->store.nblocks;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t njobs = cpus < 1 ? 1 : cpus > MAX_JOBS ? MAX_JOBS : (uint64_t)cpus;
    if (njobs > nblocks / MIN_BLOCKS_PER_JOB)
        njobs = nblocks / MIN_BLOCKS_PER_JOB ? nblocks / MIN_BLOCKS_PER_JOB : 1;
    title_job jobs[MAX_JOBS];
    memset(jobs, 0, sizeof jobs);
    for (uint64_t i = 0; i < njobs; i++) {
        jobs[i].ix = ix;
        jobs[i].from = nblocks * i / njobs;
        jobs[i].to = nblocks * (i + 1) / njobs;
        lede_err_clear(&jobs[i].err);
    }
    /* Job 0 runs here; the others on threads (or here, if one cannot start). */
    for (uint64_t i = 1; i < njobs; i++)
        jobs[i].started = pthread_create(&jobs[i].thread, NULL, run_title_job, &jobs[i]) == 0;
    int rc = 0;
    for (uint64_t i = 0; i < njobs; i++) {
        if (jobs[i].started)
            pthread_join(jobs[i].thread, NULL);
        else if (!rc)
            run_title_job(&jobs[i]);
        if (!rc && jobs[i].rc)
            rc = lede_err_set(err, jobs[i].rc, "%s", jobs[i].err.msg);
        if (!rc && (rc = add_job_titles(b, &jobs[i])))
            lede_err_set(err, rc, "indexing titles for completion: %s", lede_rc_text(rc));
        lede_buf_free(&jobs[i].titles);
    }
    return rc;
}

/* The stem group of a folded word (added with its document frequency,
 * summed over the segments, if new). */
static int stem_of(builder *b, const lede_index *ix, const char *word, size_t len, uint32_t *id,
                   lede_err *err)
{
    char stem[LEDE_MAX_TERM + 1];
    size_t n = lede_stem_word(b->an, word, len, stem, sizeof stem);
    if (n == 0) {   /* cannot happen (stems never grow): the word is its own group */
        n = len < LEDE_MAX_TERM ? len : LEDE_MAX_TERM;
        memcpy(stem, word, n);
        stem[n] = '\0';
    }
    int added;
    int rc = strtab_intern(&b->stems, stem, n, id, &added);
    if (!rc && added)
        rc = lede_grow((void **)&b->stem, &b->capstem, *id + 1, sizeof *b->stem, 4096);
    if (rc)
        return lede_err_set(err, rc, "grouping words by stem: %s", lede_rc_text(rc));
    if (!added)
        return 0;
    bstem *st = &b->stem[*id];
    memset(st, 0, sizeof *st);
    for (uint32_t s = 0; s < ix->nsegs; s++) {
        lede_term_entry e;
        rc = lede_segment_lookup(ix->segs[s].seg, stem, n, &e);
        if (rc == LEDE_OK)
            st->df += e.df;
        else if (rc != LEDE_ENOTFOUND)
            return lede_err_set(err, rc, "segment %u: dictionary lookup of \"%s\" failed", s,
                                stem);
    }
    return 0;
}

/* Groups the words by stem (words of one stem find the same documents);
 * the stems of function words are marked common ("alls" finds what "all"
 * finds). */
static int add_stems(builder *b, const lede_index *ix, lede_err *err)
{
    for (size_t i = 0; i < sizeof function_words / sizeof function_words[0]; i++) {
        uint32_t id;
        int rc = stem_of(b, ix, function_words[i], strlen(function_words[i]), &id, err);
        if (rc)
            return rc;
        b->stem[id].common = 1;
    }
    for (size_t i = 0; i < b->keys.n; i++) {
        int rc = stem_of(b, ix, strtab_str(&b->keys, (uint32_t)i), b->keys.len[i], &b->w[i].stem,
                         err);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------- sorting */

static int by_key(const void *x, const void *y, void *ctx)
{
    const strtab *t = ctx;
    uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;
    size_t n = t->len[i] < t->len[j] ? t->len[i] : t->len[j];
    int c = memcmp(strtab_str(t, i), strtab_str(t, j), n);
    return c ? c : (int)t->len[i] - (int)t->len[j];
}

/* Words best first: function words last, then higher df, then more
 * titles, then key order (= index). */
static int by_word_rank(const void *x, const void *y, void *ctx)
{
    const sword *w = ctx;
    uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;
    if (w[i].common != w[j].common)
        return w[i].common < w[j].common ? -1 : 1;
    if (w[i].df != w[j].df)
        return w[i].df > w[j].df ? -1 : 1;
    if (w[i].titles != w[j].titles)
        return w[i].titles > w[j].titles ? -1 : 1;
    return i < j ? -1 : i > j;
}

typedef struct fphrase {
    uint32_t w1, w2, count;
} fphrase;

static int by_phrase_key(const void *x, const void *y)
{
    const fphrase *p = x, *q = y;
    if (p->w1 != q->w1)
        return p->w1 < q->w1 ? -1 : 1;
    return p->w2 < q->w2 ? -1 : p->w2 > q->w2;
}

/* Phrases best first: more titles, then the second word's rank, then
 * index (key order). */
static int by_phrase_rank(const void *x, const void *y, void *ctx)
{
    const lede_suggester *s = ctx;
    uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;
    if (s->phr_count[i] != s->phr_count[j])
        return s->phr_count[i] > s->phr_count[j] ? -1 : 1;
    uint32_t ri = s->wr.rank[s->phr_w2[i]], rj = s->wr.rank[s->phr_w2[j]];
    if (ri != rj)
        return ri < rj ? -1 : 1;
    return i < j ? -1 : i > j;
}

/* Fills r->rank from a permutation sorted best first, and the tree. */
static int rank_from_order(ranked *r, const uint32_t *order)
{
    r->rank = malloc((r->n ? r->n : 1) * sizeof *r->rank);
    if (!r->rank)
        return LEDE_ENOMEM;
    for (uint32_t i = 0; i < r->n; i++)
        r->rank[order[i]] = i;
    return ranked_build(r);
}

static int one_char(const char *s, size_t n)
{
    unsigned char c = (unsigned char)s[0];
    size_t k = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    return n <= k;
}

/* The words in key order with their displays and ranks. newpos: the
 * builder's word id -> position. */
static int finish_words(builder *b, lede_suggester *s, uint32_t *newpos)
{
    if (b->keys.n >= 1u << 31)   /* the segment tree indexes 2n entries */
        return LEDE_ELIMIT;
    uint32_t n = (uint32_t)b->keys.n;
    uint32_t *order = malloc((n ? n : 1) * sizeof *order);
    s->words = calloc(n ? n : 1, sizeof *s->words);
    if (!order || !s->words) {
        free(order);
        return LEDE_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++)
        order[i] = i;
    qsort_r(order, n, sizeof *order, by_key, &b->keys);
    s->nwords = n;
    /* The pool of the suggester: each key, then its display if it differs. */
    lede_buf pool = {0};
    int rc = 0;
    for (uint32_t i = 0; i < n && !rc; i++) {
        uint32_t id = order[i];
        const bword *w = &b->w[id];
        const char *key = strtab_str(&b->keys, id);
        sword *o = &s->words[i];
        newpos[id] = i;
        o->key_len = b->keys.len[id];
        if ((rc = pool_add(&pool, key, o->key_len, &o->key_off)))
            break;
        o->disp_off = o->key_off;
        o->disp_len = o->key_len;
        uint32_t best = w->plain, best_first = w->plain ? w->plain_first : UINT32_MAX;
        const bvar *pick = NULL;
        for (uint32_t v = w->var; v; v = b->v[v - 1].next) {
            const bvar *x = &b->v[v - 1];
            if (x->count > best || (x->count == best && x->first < best_first)) {
                best = x->count;
                best_first = x->first;
                pick = x;
            }
        }
        if (pick) {
            rc = pool_add(&pool, (const char *)b->spell.p + pick->off, pick->len, &o->disp_off);
            o->disp_len = pick->len;
        }
        o->single = (uint8_t)one_char(key, o->key_len);
        o->common = (uint8_t)b->stem[w->stem].common;
        o->stem = w->stem;
        uint64_t df = b->stem[w->stem].df;
        o->df = df > UINT32_MAX ? UINT32_MAX : (uint32_t)df;
        o->titles = w->titles;
    }
    if (!rc)
        rc = pool.rc;
    if (!rc && !pool.p && !(pool.p = malloc(1)))
        rc = LEDE_ENOMEM;
    if (rc) {
        lede_buf_free(&pool);
        free(order);
        return rc;
    }
    s->pool = (char *)pool.p;
    for (uint32_t i = 0; i < n; i++)
        order[i] = i;
    qsort_r(order, n, sizeof *order, by_word_rank, s->words);
    s->wr.n = n;
    rc = rank_from_order(&s->wr, order);
    free(order);
    return rc;
}

/* Phrases of at least MIN_PHRASE_TITLES titles, by (first, second). */
static int finish_phrases(const builder *b, lede_suggester *s, const uint32_t *newpos)
{
    size_t m = 0;
    for (size_t i = 0; i < b->npairs; i++)
        m += b->pairs[i].count >= MIN_PHRASE_TITLES;
    if (m >= 1u << 31)
        return LEDE_ELIMIT;
    fphrase *ph = malloc((m ? m : 1) * sizeof *ph);
    s->phr_start = calloc((size_t)s->nwords + 1, sizeof *s->phr_start);
    s->phr_w2 = malloc((m ? m : 1) * sizeof *s->phr_w2);
    s->phr_count = malloc((m ? m : 1) * sizeof *s->phr_count);
    uint32_t *order = malloc((m ? m : 1) * sizeof *order);
    if (!ph || !s->phr_start || !s->phr_w2 || !s->phr_count || !order) {
        free(ph);
        free(order);
        return LEDE_ENOMEM;
    }
    m = 0;
    for (size_t i = 0; i < b->npairs; i++) {
        const bpair *p = &b->pairs[i];
        if (p->count >= MIN_PHRASE_TITLES)
            ph[m++] = (fphrase){newpos[p->key >> 32], newpos[(uint32_t)p->key], p->count};
    }
    qsort(ph, m, sizeof *ph, by_phrase_key);
    s->nphr = (uint32_t)m;
    for (size_t i = 0; i < m; i++) {
        s->phr_start[ph[i].w1 + 1]++;
        s->phr_w2[i] = ph[i].w2;
        s->phr_count[i] = ph[i].count;
        order[i] = (uint32_t)i;
    }
    free(ph);
    for (uint32_t i = 0; i < s->nwords; i++)
        s->phr_start[i + 1] += s->phr_start[i];
    qsort_r(order, m, sizeof *order, by_phrase_rank, s);
    s->pr.n = (uint32_t)m;
    int rc = rank_from_order(&s->pr, order);
    free(order);
    return rc;
}

int lede_suggester_build(lede_index *ix, lede_suggester **out, lede_err *err)
{
    if (!out)
        return lede_err_set(err, LEDE_EINVAL, "lede_suggester_build: out is NULL");
    *out = NULL;
    if (!ix)
        return lede_err_set(err, LEDE_EINVAL, "lede_suggester_build: no index");
    builder b = {0};
    uint32_t *newpos = NULL;
    lede_suggester *s = calloc(1, sizeof *s);
    int rc = 0;
    if (!s) {
        rc = lede_err_set(err, LEDE_ENOMEM, "out of memory building the suggester");
        goto fail;
    }
    if (!(b.an = lede_index_analyzer(ix, err))) {
        rc = err && err->rc ? err->rc : LEDE_ENOMEM;
        goto fail;
    }
    if ((rc = add_titles(&b, ix, err)) || (rc = add_stems(&b, ix, err)))
        goto fail;
    newpos = malloc((b.keys.n ? b.keys.n : 1) * sizeof *newpos);
    rc = newpos ? finish_words(&b, s, newpos) : LEDE_ENOMEM;
    if (!rc)
        rc = finish_phrases(&b, s, newpos);
    if (rc) {
        lede_err_set(err, rc, "building the suggester: %s", lede_rc_text(rc));
        goto fail;
    }
    s->completions = s->nphr;
    for (uint32_t i = 0; i < s->nwords; i++)
        s->completions += !s->words[i].single;
    free(newpos);
    builder_free(&b);
    *out = s;
    return 0;
fail:
    free(newpos);
    builder_free(&b);
    lede_suggester_free(s);
    return rc;
}

/* ================================================================ completing */

/* Folding the typed text needs an analyzer per thread; folding does not
 * depend on the index's settings, and with no stop list a stop word being
 * typed ("the" on its way to "theresa") still counts as a word. */
static pthread_key_t an_key;
static pthread_once_t an_once = PTHREAD_ONCE_INIT;

static void an_destroy(void *p)
{
    lede_analyzer_free(p);
}

static void an_init(void)
{
    pthread_key_create(&an_key, an_destroy);
}

static lede_analyzer *thread_analyzer(lede_err *err)
{
    pthread_once(&an_once, an_init);
    lede_analyzer *an = pthread_getspecific(an_key);
    if (an)
        return an;
    lede_analyzer_opts o = {.no_stem = 1, .stopwords_path = NULL};
    if (lede_analyzer_new(&o, &an, err))
        return NULL;
    if (pthread_setspecific(an_key, an)) {
        lede_analyzer_free(an);
        lede_err_set(err, LEDE_ENOMEM, "cannot keep a per-thread analyzer");
        return NULL;
    }
    return an;
}

/* The last two words of the typed text, and the position after its last
 * word: one more than the last word's when that word was the last one seen
 * (an over-long word takes a position but is not emitted). */
typedef struct typed_word {
    char term[LEDE_MAX_TERM + 2];   /* room for a trailing apostrophe */
    uint32_t len, pos, start, end;
} typed_word;

typedef struct typed_words {
    uint32_t n, next_pos;
    typed_word w[2];
} typed_words;

static int on_typed_word(void *ctx, const lede_token *t)
{
    typed_words *tw = ctx;
    if (tw->n == 2)
        tw->w[0] = tw->w[1];
    uint32_t i = tw->n < 2 ? tw->n++ : 1;
    memcpy(tw->w[i].term, t->term, t->term_len);
    tw->w[i].term[t->term_len] = '\0';
    tw->w[i].len = t->term_len;
    tw->w[i].pos = t->pos;
    tw->w[i].start = t->start;
    tw->w[i].end = t->end;
    return 0;
}

static int key_prefix_cmp(const lede_suggester *s, uint32_t w, const char *p, size_t n)
{
    const sword *x = &s->words[w];
    size_t k = x->key_len < n ? x->key_len : n;
    int c = memcmp(s->pool + x->key_off, p, k);
    if (c)
        return c;
    return x->key_len < n ? -1 : 0;   /* 0: x starts with p */
}

/* The words ids[lo..hi) (increasing keys) that start with p: [*a, *b). */
static void prefix_range(const lede_suggester *s, const uint32_t *ids, uint32_t lo, uint32_t hi,
                         const char *p, size_t n, uint32_t *a, uint32_t *b)
{
    uint32_t l = lo, h = hi;
    while (l < h) {
        uint32_t mid = l + (h - l) / 2;
        if (key_prefix_cmp(s, ids ? ids[mid] : mid, p, n) < 0)
            l = mid + 1;
        else
            h = mid;
    }
    *a = l;
    h = hi;
    while (l < h) {
        uint32_t mid = l + (h - l) / 2;
        if (key_prefix_cmp(s, ids ? ids[mid] : mid, p, n) <= 0)
            l = mid + 1;
        else
            h = mid;
    }
    *b = l;
}

static uint32_t find_word(const lede_suggester *s, const char *key, size_t n)
{
    uint32_t a, b;
    prefix_range(s, NULL, 0, s->nwords, key, n, &a, &b);
    return a < b && s->words[a].key_len == n ? a : NONE;
}

typedef struct pick {
    uint32_t word;
    uint64_t weight;
} pick;

typedef struct picks {
    pick *p;
    size_t n, cap;
    uint32_t max;
} picks;

/* Whether a word of the same stem was picked: it would find the same
 * documents ("wall" after "walls"). */
static int stem_picked(const lede_suggester *s, const picks *k, uint32_t word)
{
    for (size_t i = 0; i < k->n; i++)
        if (s->words[k->p[i].word].stem == s->words[word].stem)
            return 1;
    return 0;
}

static int pick_add(picks *k, uint32_t word, uint64_t weight)
{
    int rc = lede_grow((void **)&k->p, &k->cap, k->n + 1, sizeof *k->p, 16);
    if (rc)
        return rc;
    k->p[k->n++] = (pick){word, weight};
    return 0;
}

/* Takes t's elements (phrases or words) best first until k is full,
 * passing over one-character words (alone) and stems already picked; frees t. */
static int pick_best(const lede_suggester *s, topiter *t, picks *k, int phrases)
{
    int rc = 0;
    for (uint32_t i; k->n < k->max && !rc && (i = top_next(t)) != NONE;) {
        uint32_t w = phrases ? s->phr_w2[i] : i;
        if ((!phrases && s->words[w].single) || stem_picked(s, k, w))
            continue;
        rc = pick_add(k, w, phrases ? s->phr_count[i] : s->words[w].df);
    }
    rc = rc ? rc : t->rc;
    top_free(t);
    return rc;
}

/* Phrases (w1, x) with x in the words starting with p (all if n = 0). */
static int pick_phrases(const lede_suggester *s, uint32_t w1, const char *p, size_t n, picks *k)
{
    uint32_t lo = s->phr_start[w1], hi = s->phr_start[w1 + 1];
    if (n)
        prefix_range(s, s->phr_w2, lo, hi, p, n, &lo, &hi);
    topiter t;
    top_init(&t, &s->pr, lo, hi);
    return pick_best(s, &t, k, 1);
}

/* Single words starting with p. */
static int pick_words(const lede_suggester *s, const char *p, size_t n, picks *k)
{
    uint32_t lo, hi;
    prefix_range(s, NULL, 0, s->nwords, p, n, &lo, &hi);
    topiter t;
    top_init(&t, &s->wr, lo, hi);
    return pick_best(s, &t, k, 0);
}

/* Copies typed[0..n) with control characters (C0, DEL, C1) turned into
 * spaces; returns the length written (at most n). */
static size_t clean_copy(const char *typed, size_t n, char *out)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)typed[i];
        if (c < 0x20 || c == 0x7F) {
            out[m++] = ' ';
        } else if (c == 0xC2 && i + 1 < n && (unsigned char)typed[i + 1] >= 0x80 &&
                   (unsigned char)typed[i + 1] <= 0x9F) {
            out[m++] = ' ';
            i++;
        } else {
            out[m++] = (char)c;
        }
    }
    return m;
}

static int empty_result(lede_suggestions **out, lede_err *err)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : lede_err_set(err, LEDE_ENOMEM, "out of memory");
}

int lede_suggest(const lede_suggester *s, const char *typed, size_t len, uint32_t max,
                 lede_suggestions **out, lede_err *err)
{
    if (!out)
        return lede_err_set(err, LEDE_EINVAL, "lede_suggest: out is NULL");
    *out = NULL;
    if (!s || (!typed && len))
        return lede_err_set(err, LEDE_EINVAL, "lede_suggest: no suggester or no text");
    if (len > LEDE_SUGGEST_MAX_INPUT)
        return lede_err_set(err, LEDE_ELIMIT, "text to complete is longer than %d bytes",
                            LEDE_SUGGEST_MAX_INPUT);
    if (max == 0 || len == 0 || lede_utf8_valid_len((const uint8_t *)typed, (const uint8_t *)typed + len) < len)
        return empty_result(out, err);
    lede_analyzer *an = thread_analyzer(err);
    if (!an)
        return err && err->rc ? err->rc : LEDE_ENOMEM;
    typed_words tw = {0};
    int rc = lede_analyze_words(an, typed, len, 0, on_typed_word, &tw, &tw.next_pos);
    if (rc)
        return lede_err_set(err, rc < 0 ? rc : LEDE_EINVAL, "analyzing the text to complete: %s",
                            lede_rc_text(rc));
    /* No word, or the last word typed is over-long: nothing to complete. */
    if (tw.n == 0 || tw.next_pos != tw.w[tw.n - 1].pos + 1)
        return empty_result(out, err);

    /* The last word is still being typed unless a separator follows it;
     * a lone apostrophe after it ("don'") is the start of an inner one. */
    typed_word *last = &tw.w[tw.n - 1];
    size_t tail = len - last->end;
    int partial = tail == 0;
    if ((tail == 1 && typed[last->end] == '\'') ||
        (tail == 3 && memcmp(typed + last->end, "\xe2\x80\x99", 3) == 0)) {
        partial = 1;
        last->term[last->len++] = '\'';
        last->term[last->len] = '\0';
    }
    picks k = {NULL, 0, 0, max};
    size_t cut;         /* typed[0..cut) is kept as typed */
    int space = 0;      /* a space goes between it and the completed word */
    if (partial) {
        cut = last->start;
        if (tw.n == 2) {
            uint32_t w1 = find_word(s, tw.w[0].term, tw.w[0].len);
            if (w1 != NONE)
                rc = pick_phrases(s, w1, last->term, last->len, &k);
        }
        if (!rc)
            rc = pick_words(s, last->term, last->len, &k);
    } else {
        cut = len;
        uint32_t w1 = find_word(s, last->term, last->len);
        if (w1 != NONE)
            rc = pick_phrases(s, w1, NULL, 0, &k);
    }
    if (rc) {
        free(k.p);
        return lede_err_set(err, rc, "completing: %s", lede_rc_text(rc));
    }

    /* One block: the list, the items, then the texts. */
    char head[LEDE_SUGGEST_MAX_INPUT + 1];
    size_t head_len = clean_copy(typed, cut, head);
    if (!partial && head_len && head[head_len - 1] != ' ')
        space = 1;
    size_t bytes = sizeof(lede_suggestions) + k.n * sizeof(lede_suggestion);
    for (size_t i = 0; i < k.n; i++)
        bytes += head_len + (size_t)space + s->words[k.p[i].word].disp_len + 1;
    lede_suggestions *r = calloc(1, bytes);
    if (!r) {
        free(k.p);
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    }
    r->n = (uint32_t)k.n;
    r->items = k.n ? (lede_suggestion *)(r + 1) : NULL;
    char *text = (char *)(r + 1) + k.n * sizeof(lede_suggestion);
    for (size_t i = 0; i < k.n; i++) {
        const sword *w = &s->words[k.p[i].word];
        r->items[i].text = text;
        r->items[i].weight = k.p[i].weight;
        memcpy(text, head, head_len);
        text += head_len;
        if (space)
            *text++ = ' ';
        memcpy(text, s->pool + w->disp_off, w->disp_len);
        text += w->disp_len;
        *text++ = '\0';
    }
    free(k.p);
    *out = r;
    return 0;
}

void lede_suggestions_free(lede_suggestions *s)
{
    free(s);
}
