/* highlight.c: snippets and highlights (include/lede/highlight.h; the
 * algorithm is docs/HIGHLIGHT.md). One pass of the analyzer over the text
 * finds the query's words; phrase occurrences are confirmed by position;
 * matches become marks (a phrase is one mark); the best windows of marks are
 * chosen by distinct-term IDF, widened to sentence-aware passages, and
 * written out as plain text, HTML and byte spans, all packed in one
 * allocation. Calls the analyzer (lede_analyze_words, lede_stem_word),
 * lede_hash, lede_buf and lede_grow; nothing else of liblede. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "text/text.h"
#include "lede/highlight.h"

#define DEFAULT_CHARS 160
#define MAX_FRAGMENTS 64
#define REPEAT_BONUS 0.2    /* a unit seen n times scores w * (1 + REPEAT_BONUS * ln n) */
#define EARLY_BONUS 0.05    /* a window at the text's start ranks up to 5% higher */
#define PHRASE_BYTES 128    /* an occurrence spans at most this many bytes per word position */
#define RUN_LIMIT 256       /* whitespace runs are looked at up to this many bytes */
#define NONE SIZE_MAX

/* ================================================================ the query */

typedef struct qterm {      /* one distinct analyzed term of the query, for this field */
    const char *s;
    uint32_t len;
    bool lone;              /* a word of its own in the query (not only inside phrases) */
    double w;               /* its largest IDF in the query */
    uint32_t starts_lo, starts_hi; /* phrases whose first word it is: starts[lo..hi) */
} qterm;

typedef struct pword {
    uint32_t qid, rel;
} pword;

typedef struct phrase {
    uint32_t lo, hi;        /* its words: words[lo..hi), by relative position */
    uint32_t span;          /* the relative position of its last word */
    double w;               /* sum of its words' IDFs */
} phrase;

typedef struct ptmp {       /* a phrase word while the phrases are grouped */
    uint32_t phrase, rel, qid; /* qid NONE32: the word cannot match in this field */
    double w;
} ptmp;

#define NONE32 UINT32_MAX

/* ================================================================ per call */

typedef struct hit {        /* a token whose term is a query term */
    uint32_t pos, start, end, qid;
} hit;

typedef struct occ {        /* a phrase occurrence: hits[lo..hi] */
    uint32_t lo, hi, ph;
} occ;

typedef struct mark {       /* a highlighted span: a lone term or merged phrase occurrences */
    uint32_t start, end;    /* bytes in the text */
    uint32_t cstart, cend;  /* the same in characters */
    uint32_t flo, fhi;      /* its scoring units: feats[flo..fhi) */
} mark;

typedef struct frag {
    uint32_t mlo, mhi;      /* the core: marks[mlo..mhi] */
    size_t start, end;      /* the passage in bytes */
    double score;
    bool cut_start, cut_end;
} frag;

typedef struct hl {
    const uint8_t *t;
    size_t len;
    lede_analyzer *an;

    qterm *terms;
    uint32_t nterms;
    lede_htab index;        /* term -> qid */
    phrase *phrases;
    uint32_t nphrases;
    pword *words;
    uint32_t *starts;
    uint8_t minlen[256];    /* by first byte: the shortest term starting with it; 0xFF none */
    uint64_t second[256][4];/* by first byte: the second bytes a word may have (a bitmap) */

    hit *hits;
    size_t nhits, hits_cap;
    occ *occs;
    size_t nocc, occ_cap;
    mark *marks;
    size_t nmarks, marks_cap;
    uint32_t *feats;
    size_t nfeats, feats_cap;
    double *unit_w;         /* terms' units first, then phrases' */
    uint32_t *count;
    uint32_t nunits;
} hl;

static void hl_free(hl *h)
{
    free(h->terms);
    lede_htab_free(&h->index);
    free(h->phrases);
    free(h->words);
    free(h->starts);
    free(h->hits);
    free(h->occs);
    free(h->marks);
    free(h->feats);
    free(h->unit_w);
    free(h->count);
}

static bool qterm_eq(const void *ctx, uint32_t i, const void *key, size_t len)
{
    const qterm *q = &((const hl *)ctx)->terms[i];
    return q->len == len && memcmp(q->s, key, len) == 0;
}

static uint32_t term_find(const hl *h, const char *s, size_t len, uint32_t hash)
{
    return lede_htab_find(&h->index, hash, s, len, qterm_eq, h, NULL);
}

/* The table was sized for every query term, so inserting cannot fail. */
static uint32_t term_intern(hl *h, const char *s, uint32_t len, double w)
{
    uint32_t hash = lede_hash(s, len), pos;
    uint32_t qid = lede_htab_find(&h->index, hash, s, len, qterm_eq, h, &pos);
    if (qid != LEDE_HTAB_NONE) {
        if (w > h->terms[qid].w)
            h->terms[qid].w = w;
        return qid;
    }
    qid = h->nterms++;
    h->terms[qid] = (qterm){.s = s, .len = len, .w = w};
    lede_htab_insert(&h->index, pos, hash, qid);
    return qid;
}

/* IDFs come from the index, but a NaN, negative or infinite weight must not
 * poison comparisons. */
static double clean_weight(double w)
{
    if (!(w > 0))
        return 1e-6;
    return w > 1e6 ? 1e6 : w;
}

static int cmp_ptmp(const void *a, const void *b)
{
    const ptmp *x = a, *y = b;
    if (x->phrase != y->phrase)
        return x->phrase < y->phrase ? -1 : 1;
    if (x->rel != y->rel)
        return x->rel < y->rel ? -1 : 1;
    return 0;
}

/* Builds the term table, the phrases and the scoring units of q for field. */
static int prepare_query(hl *h, const lede_hl_query *q, int field, lede_err *err)
{
    uint32_t n = q ? q->nterms : 0;
    if (n == 0)
        return LEDE_OK;
    if (!q->terms)
        return lede_err_set(err, LEDE_EINVAL, "lede_snippet_make: query has %u terms but no array",
                            (unsigned)n);
    if (n > UINT32_MAX / 4)
        return lede_err_set(err, LEDE_ELIMIT, "lede_snippet_make: too many query terms");
    int sized = lede_htab_init(&h->index, n) == 0;
    h->terms = malloc(n * sizeof *h->terms);
    ptmp *pt = malloc(n * sizeof *pt);
    if (!sized || !h->terms || !pt) {
        free(pt);
        return lede_err_set(err, LEDE_ENOMEM, "cannot allocate a snippet");
    }
    uint32_t npt = 0;
    for (uint32_t i = 0; i < n; i++) {
        const lede_hl_term *t = &q->terms[i];
        if (!t->term) {
            free(pt);
            return lede_err_set(err, LEDE_EINVAL, "lede_snippet_make: query term %u is NULL",
                                (unsigned)i);
        }
        int fields = t->fields ? t->fields : LEDE_HL_TITLE | LEDE_HL_BODY;
        size_t len = strnlen(t->term, LEDE_MAX_TERM + 1);
        double w = clean_weight(t->weight);
        uint32_t qid = NONE32;
        if ((fields & field) && len > 0 && len <= LEDE_MAX_TERM)
            qid = term_intern(h, t->term, (uint32_t)len, w);
        if (t->phrase == 0) {
            if (qid != NONE32)
                h->terms[qid].lone = true;
        } else {
            pt[npt++] = (ptmp){.phrase = t->phrase, .rel = t->phrase_pos, .qid = qid, .w = w};
        }
    }
    qsort(pt, npt, sizeof *pt, cmp_ptmp);
    h->phrases = malloc((npt ? npt : 1) * sizeof *h->phrases);
    h->words = malloc((npt ? npt : 1) * sizeof *h->words);
    h->starts = malloc((npt ? npt : 1) * sizeof *h->starts);
    if (!h->phrases || !h->words || !h->starts) {
        free(pt);
        return lede_err_set(err, LEDE_ENOMEM, "cannot allocate a snippet");
    }
    /* Group by phrase number. A phrase with a word that cannot match here
     * (another field, an impossible term) cannot match at all; a one-word
     * phrase is its word. */
    uint32_t nwords = 0;
    for (uint32_t a = 0, b; a < npt; a = b) {
        bool ok = true;
        double w = 0;
        for (b = a; b < npt && pt[b].phrase == pt[a].phrase; b++) {
            ok = ok && pt[b].qid != NONE32;
            w += pt[b].w;
        }
        if (!ok)
            continue;
        if (b - a == 1) {
            h->terms[pt[a].qid].lone = true;
            continue;
        }
        uint32_t base = pt[a].rel;
        phrase *p = &h->phrases[h->nphrases++];
        p->lo = nwords;
        for (uint32_t i = a; i < b; i++)
            h->words[nwords++] = (pword){pt[i].qid, pt[i].rel - base};
        p->hi = nwords;
        p->span = pt[b - 1].rel - base;
        p->w = w;
    }
    free(pt);
    /* Phrases by first word, as ranges of starts[] (a counting sort). */
    for (uint32_t i = 0; i < h->nphrases; i++)
        h->terms[h->words[h->phrases[i].lo].qid].starts_hi++;
    uint32_t at = 0;
    for (uint32_t i = 0; i < h->nterms; i++) {
        uint32_t c = h->terms[i].starts_hi;
        h->terms[i].starts_lo = h->terms[i].starts_hi = at;
        at += c;
    }
    for (uint32_t i = 0; i < h->nphrases; i++)
        h->starts[h->terms[h->words[h->phrases[i].lo].qid].starts_hi++] = i;
    /* Scoring units and the prefilter of the token callback. */
    h->nunits = h->nterms + h->nphrases;
    h->unit_w = malloc((h->nunits ? h->nunits : 1) * sizeof *h->unit_w);
    h->count = calloc(h->nunits ? h->nunits : 1, sizeof *h->count);
    if (!h->unit_w || !h->count)
        return lede_err_set(err, LEDE_ENOMEM, "cannot allocate a snippet");
    memset(h->minlen, 0xFF, sizeof h->minlen);
    for (uint32_t i = 0; i < h->nterms; i++) {
        const qterm *t = &h->terms[i];
        h->unit_w[i] = t->w;
        uint8_t c = (uint8_t)t->s[0];
        if (t->len < h->minlen[c])
            h->minlen[c] = (uint8_t)t->len;
        if (t->len == 1) {   /* "i" is the stem of "ieds": any second byte */
            memset(h->second[c], 0xFF, sizeof h->second[c]);
            continue;
        }
        uint8_t d = (uint8_t)t->s[1];
        h->second[c][d >> 6] |= 1ull << (d & 63);
        if (d == 'i')        /* "lying" -> "lie" */
            h->second[c]['y' >> 6] |= 1ull << ('y' & 63);
    }
    for (uint32_t i = 0; i < h->nphrases; i++)
        h->unit_w[h->nterms + i] = h->phrases[i].w;
    return LEDE_OK;
}

/* ================================================================ matching */

/* The analyzer's folded words come here unstemmed. Snowball never changes a
 * word's first byte, never lengthens it, and changes its second byte only
 * from 'y' to 'i' (dying, lying, tying) or by leaving a one-byte stem
 * (docs/HIGHLIGHT.md; checked by test_highlight). So a word shorter than
 * every query term with its first byte, or whose first two bytes start
 * none, cannot stem to a query term and is not stemmed at all: most words
 * of a text cost two table look-ups. */
static __attribute__((noinline)) int on_candidate(hl *h, const lede_token *tok)
{
    char stem[LEDE_MAX_TERM + 1];
    size_t len = lede_stem_word(h->an, tok->term, tok->term_len, stem, sizeof stem);
    if (len == 0)
        return 0;
    uint32_t qid = term_find(h, stem, len, lede_hash(stem, len));
    if (qid == NONE32)
        return 0;
    if (h->nhits == h->hits_cap &&
        lede_grow((void **)&h->hits, &h->hits_cap, h->nhits + 1, sizeof *h->hits, 64) < 0)
        return LEDE_ENOMEM;
    h->hits[h->nhits++] = (hit){tok->pos, tok->start, tok->end, qid};
    return 0;
}

static int on_word(void *ctx, const lede_token *tok)
{
    hl *h = ctx;
    uint8_t c = (uint8_t)tok->term[0], d = (uint8_t)tok->term[1];   /* term is NUL-terminated */
    if (tok->term_len < h->minlen[c] || !((h->second[c][d >> 6] >> (d & 63)) & 1))
        return 0;
    return on_candidate(h, tok);
}

/* The hit at position pos among hits[lo..hi], or NONE (positions increase
 * and are unique, so a binary search). */
static size_t hit_at(const hl *h, size_t lo, size_t hi, uint32_t pos)
{
    while (lo <= hi && hi != NONE) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->hits[mid].pos == pos)
            return mid;
        if (h->hits[mid].pos < pos)
            lo = mid + 1;
        else if (mid == 0)
            return NONE;
        else
            hi = mid - 1;
    }
    return NONE;
}

/* Every occurrence of every phrase, in order of their first hit. */
static int find_phrases(hl *h)
{
    for (size_t i = 0; i < h->nhits; i++) {
        const qterm *qt = &h->terms[h->hits[i].qid];
        for (uint32_t s = qt->starts_lo; s < qt->starts_hi; s++) {
            uint32_t ph = h->starts[s];
            const phrase *p = &h->phrases[ph];
            uint32_t pos0 = h->hits[i].pos;
            if (pos0 > UINT32_MAX - p->span)
                continue;
            /* Positions are unique, so the word at pos0 + r is at most r hits on. */
            size_t far = i + p->span < h->nhits - 1 ? i + p->span : h->nhits - 1;
            size_t last = i;
            bool ok = true;
            for (uint32_t k = p->lo + 1; k < p->hi && ok; k++) {
                size_t j = hit_at(h, i + 1, far, pos0 + h->words[k].rel);
                ok = j != NONE && h->hits[j].qid == h->words[k].qid;
                if (ok && j > last)
                    last = j;
            }
            if (!ok || h->hits[last].end - h->hits[i].start > ((uint64_t)p->span + 1) * PHRASE_BYTES)
                continue;
            if (h->nocc == h->occ_cap &&
                lede_grow((void **)&h->occs, &h->occ_cap, h->nocc + 1, sizeof *h->occs, 16) < 0)
                return LEDE_ENOMEM;
            h->occs[h->nocc++] = (occ){(uint32_t)i, (uint32_t)last, ph};
        }
    }
    return LEDE_OK;
}

static int add_feat(hl *h, uint32_t unit)
{
    if (h->nfeats == h->feats_cap &&
        lede_grow((void **)&h->feats, &h->feats_cap, h->nfeats + 1, sizeof *h->feats, 64) < 0)
        return LEDE_ENOMEM;
    h->feats[h->nfeats++] = unit;
    return LEDE_OK;
}

/* Turns hits and occurrences into marks: a lone term's hit is a mark; a
 * phrase occurrence is one mark from its first word to its last, merged with
 * any occurrence or hit it overlaps. A hit of a word that is only in a
 * phrase, outside an occurrence of it, is not marked. */
static int build_marks(hl *h)
{
    size_t oi = 0;
    for (size_t i = 0; i < h->nhits;) {
        bool opens = oi < h->nocc && h->occs[oi].lo == i;
        if (!opens && !h->terms[h->hits[i].qid].lone) {
            i++;
            continue;
        }
        if (h->nmarks == h->marks_cap &&
            lede_grow((void **)&h->marks, &h->marks_cap, h->nmarks + 1, sizeof *h->marks, 32) < 0)
            return LEDE_ENOMEM;
        mark *m = &h->marks[h->nmarks++];
        m->start = h->hits[i].start;
        m->flo = (uint32_t)h->nfeats;
        size_t last = i;
        for (size_t k = i; k <= last; k++) {
            for (; oi < h->nocc && h->occs[oi].lo == k; oi++) {
                if (add_feat(h, h->nterms + h->occs[oi].ph) < 0)
                    return LEDE_ENOMEM;
                if (h->occs[oi].hi > last)
                    last = h->occs[oi].hi;
            }
            if (h->terms[h->hits[k].qid].lone && add_feat(h, h->hits[k].qid) < 0)
                return LEDE_ENOMEM;
        }
        m->end = h->hits[last].end;
        m->fhi = (uint32_t)h->nfeats;
        i = last + 1;
    }
    /* Character offsets, counting the bytes that start a character. */
    size_t at = 0, chars = 0;
    for (size_t i = 0; i < h->nmarks; i++) {
        mark *m = &h->marks[i];
        for (; at < m->start; at++)
            chars += (h->t[at] & 0xC0) != 0x80;
        m->cstart = (uint32_t)chars;
        for (; at < m->end; at++)
            chars += (h->t[at] & 0xC0) != 0x80;
        m->cend = (uint32_t)chars;
    }
    return LEDE_OK;
}

/* ================================================================ scoring */

static double unit_gain(const hl *h, uint32_t u, uint32_t n)
{
    if (n == 0)
        return 0;
    return h->unit_w[u] * (n == 1 ? 1.0 : 1.0 + REPEAT_BONUS * log((double)n));
}

static double mark_add(hl *h, const mark *m, int dir)
{
    double d = 0;
    for (uint32_t f = m->flo; f < m->fhi; f++) {
        uint32_t u = h->feats[f];
        d -= unit_gain(h, u, h->count[u]);
        h->count[u] = (uint32_t)((int64_t)h->count[u] + dir);
        d += unit_gain(h, u, h->count[u]);
    }
    return d;
}

/* The score of marks[lo..hi] (leaves count[] zeroed). */
static double score_marks(hl *h, size_t lo, size_t hi)
{
    double s = 0;
    for (size_t i = lo; i <= hi && i < h->nmarks; i++)
        s += mark_add(h, &h->marks[i], +1);
    for (size_t i = lo; i <= hi && i < h->nmarks; i++)
        mark_add(h, &h->marks[i], -1);
    return s;
}

/* Chooses up to nwant cores, one round each: the best window of marks no
 * wider than chars characters that holds no mark of an earlier core. Each
 * round is a two-pointer sweep, so the cost is O(rounds * marks). */
static int choose_cores(hl *h, uint32_t chars, uint32_t nwant, frag *out, uint32_t *nout)
{
    uint8_t *used = calloc(h->nmarks, 1);
    if (!used)
        return LEDE_ENOMEM;
    *nout = 0;
    for (uint32_t round = 0; round < nwant; round++) {
        double best_rank = 0, best_score = 0;
        size_t best_lo = NONE, best_hi = 0;
        for (size_t seg = 0; seg < h->nmarks;) {
            if (used[seg]) {
                seg++;
                continue;
            }
            size_t seg_end = seg;
            while (seg_end < h->nmarks && !used[seg_end])
                seg_end++;
            double s = 0;
            size_t j = seg;
            for (size_t a = seg; a < seg_end; a++) {
                if (j <= a) {
                    s += mark_add(h, &h->marks[a], +1);
                    j = a + 1;
                }
                while (j < seg_end && h->marks[j].cend - h->marks[a].cstart <= chars) {
                    s += mark_add(h, &h->marks[j], +1);
                    j++;
                }
                double rank = s * (1 + EARLY_BONUS * (1 - (double)h->marks[a].start / (double)h->len));
                if (rank > best_rank) {
                    best_rank = rank;
                    best_score = s;
                    best_lo = a;
                    best_hi = j - 1;
                }
                s += mark_add(h, &h->marks[a], -1);
            }
            seg = seg_end;
        }
        if (best_lo == NONE)
            break;
        memset(used + best_lo, 1, best_hi - best_lo + 1);
        out[(*nout)++] = (frag){.mlo = (uint32_t)best_lo, .mhi = (uint32_t)best_hi,
                                .score = best_score};
    }
    free(used);
    return LEDE_OK;
}

/* ================================================================ text shape */

static inline bool is_cont(uint8_t c)
{
    return (c & 0xC0) == 0x80;
}

static size_t next_char(const uint8_t *t, size_t hi, size_t p)
{
    p++;
    for (int k = 0; k < 3 && p < hi && is_cont(t[p]); k++)
        p++;
    return p;
}

static size_t prev_char(const uint8_t *t, size_t lo, size_t p)
{
    p--;
    for (int k = 0; k < 3 && p > lo && is_cont(t[p]); k++)
        p--;
    return p;
}

static size_t count_chars(const uint8_t *t, size_t a, size_t b)
{
    size_t n = 0;
    for (; a < b; a = next_char(t, b, a))
        n++;
    return n;
}

static size_t fwd_chars(const uint8_t *t, size_t hi, size_t p, size_t n)
{
    for (; p < hi && n > 0; n--)
        p = next_char(t, hi, p);
    return p;
}

static size_t back_chars(const uint8_t *t, size_t lo, size_t p, size_t n)
{
    for (; p > lo && n > 0; n--)
        p = prev_char(t, lo, p);
    return p;
}

/* The byte length of the whitespace character at p, 0 if none. ASCII
 * controls count as whitespace; so do NBSP, the spaces U+2000..U+200A, the
 * line and paragraph separators, U+202F, U+205F and U+3000. */
static size_t space_at(const uint8_t *t, size_t len, size_t p)
{
    uint8_t c = t[p];
    if (c <= 0x20 || c == 0x7F)
        return 1;
    if (c < 0xC2)
        return 0;
    if (c == 0xC2)
        return p + 1 < len && (t[p + 1] == 0xA0 || t[p + 1] == 0x85) ? 2 : 0;
    if (p + 2 >= len)
        return 0;
    uint8_t b1 = t[p + 1], b2 = t[p + 2];
    if (c == 0xE2 && b1 == 0x80 &&
        ((b2 >= 0x80 && b2 <= 0x8A) || b2 == 0xA8 || b2 == 0xA9 || b2 == 0xAF))
        return 3;
    if (c == 0xE2 && b1 == 0x81 && b2 == 0x9F)
        return 3;
    if (c == 0xE3 && b1 == 0x80 && b2 == 0x80)
        return 3;
    return 0;
}

/* The byte length of a whitespace character ending at p (p > lo), 0 if none. */
static size_t space_before(const uint8_t *t, size_t len, size_t lo, size_t p)
{
    for (size_t k = 1; k <= 3 && k <= p - lo; k++)
        if (space_at(t, len, p - k) == k)
            return k;
    return 0;
}

static bool is_line_break(const uint8_t *t, size_t len, size_t p)
{
    return t[p] == '\n' || t[p] == '\r' || t[p] == 0x0B || t[p] == 0x0C ||
           (t[p] == 0xE2 && p + 2 < len && t[p + 1] == 0x80 && (t[p + 2] == 0xA8 || t[p + 2] == 0xA9));
}

static bool is_alpha(uint8_t c)
{
    return (uint8_t)((c | 0x20) - 'a') < 26;
}

/* Words that end in a dot without ending a sentence ("Mr. Macron"). */
static bool is_abbrev(const uint8_t *w, size_t n)
{
    static const char *const list[] = {
        "mr", "mrs", "ms", "dr", "st", "jr", "sr", "gen", "sen", "rep", "gov", "lt", "col",
        "sgt", "capt", "prof", "rev", "hon", "vs", "no", "mt", "ft", "jan", "feb", "aug",
        "sep", "sept", "oct", "nov", "dec", "dept", "univ", "cmdr", "adm", "maj", "supt",
    };
    char low[8];
    if (n >= sizeof low)
        return false;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)(w[i] | 0x20);
    low[n] = '\0';
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        if (strcmp(low, list[i]) == 0)
            return true;
    return false;
}

/* Whether the whitespace run t[ws..we) ends a sentence: it holds a line
 * break, or it follows '.', '!', '?' or '…' (then optional closing quotes
 * and brackets) and is not followed by a lowercase ASCII letter; a dot after
 * an initial ("J.", "U.S.") or a listed abbreviation does not count. */
static bool sentence_break(const uint8_t *t, size_t len, size_t ws, size_t we)
{
    for (size_t i = ws; i < we; i++)
        if (is_line_break(t, len, i))
            return true;
    if (we < len && t[we] >= 'a' && t[we] <= 'z')
        return false;
    size_t q = ws;
    for (int k = 0; k < 4 && q > 0; k++) {
        uint8_t c = t[q - 1];
        if (c == '"' || c == '\'' || c == ')' || c == ']')
            q--;
        else if (q >= 3 && t[q - 3] == 0xE2 && t[q - 2] == 0x80 && (c == 0x99 || c == 0x9D))
            q -= 3;   /* ’ ” */
        else if (q >= 2 && t[q - 2] == 0xC2 && c == 0xBB)
            q -= 2;   /* » */
        else
            break;
    }
    if (q == 0)
        return false;
    uint8_t c = t[q - 1];
    if (c == '!' || c == '?')
        return true;
    if (q >= 3 && t[q - 3] == 0xE2 && t[q - 2] == 0x80 && c == 0xA6)
        return true;  /* … */
    if (c != '.')
        return false;
    size_t w = q - 1;
    while (w > 0 && is_alpha(t[w - 1]) && q - 1 - w < 8)
        w--;
    size_t n = q - 1 - w;
    if (n == 1 && t[w] >= 'A' && t[w] <= 'Z')
        return false;
    if (n >= 1 && n < 8 && (w == 0 || !is_alpha(t[w - 1])) && is_abbrev(t + w, n))
        return false;
    return true;
}

/* Whether a sentence starts at p (a non-space byte): the text's first
 * word, or after a whitespace run that ends a sentence. A run longer than
 * RUN_LIMIT bytes counts as a break. */
static bool sentence_starts(const uint8_t *t, size_t len, size_t p)
{
    size_t ws = p, k;
    while (ws > 0 && (k = space_before(t, len, 0, ws)) > 0) {
        ws -= k;
        if (p - ws > RUN_LIMIT)
            return true;
    }
    if (ws == 0)
        return true;
    return ws < p && sentence_break(t, len, ws, p);
}

/* Whether a sentence ends at p (just after a non-space byte). */
static bool sentence_ends(const uint8_t *t, size_t len, size_t p)
{
    size_t we = p, k;
    while (we < len && (k = space_at(t, len, we)) > 0) {
        we += k;
        if (we - p > RUN_LIMIT)
            return true;
    }
    if (we == len)
        return true;
    return we > p && sentence_break(t, len, p, we);
}

/* The sentence start nearest before p (farthest = false) or the farthest
 * (true) at most budget characters back and after lo; NONE if none. */
static size_t find_sentence_start(const uint8_t *t, size_t len, size_t lo, size_t p,
                                  size_t budget, bool farthest)
{
    size_t best = NONE;
    for (size_t c = p, n = 0;; n++) {
        if (c < len && c >= lo && !space_at(t, len, c) &&
            (c == 0 || space_before(t, len, 0, c) || c == p) && sentence_starts(t, len, c)) {
            best = c;
            if (!farthest)
                return c;
        }
        if (c <= lo || n >= budget)
            break;
        c = prev_char(t, lo, c);
    }
    return best;
}

/* The first (last = false) or last sentence end in [p, limit] (p > 0 is
 * just after a non-space byte); NONE if none. */
static size_t find_sentence_end(const uint8_t *t, size_t len, size_t p, size_t limit, bool last)
{
    size_t best = NONE;
    for (size_t c = p; c <= limit; c = next_char(t, len, c)) {
        if (c > 0 && (c == len || space_at(t, len, c)) && !space_before(t, len, 0, c) &&
            sentence_ends(t, len, c)) {
            best = c;
            if (!last)
                return c;
        }
        if (c >= len)
            break;
    }
    return best;
}

/* Bytes next to which a cut never splits a word: ASCII that is neither a
 * letter, a digit, nor a connector of docs/ANALYZER.md rule 2. */
static bool is_sep(uint8_t c)
{
    if (c >= 0x80)
        return false;
    if ((c >= '0' && c <= '9') || is_alpha(c))
        return false;
    return c != '\'' && c != '.' && c != ',';
}

/* Cut points. A strong cut is at the edge of whitespace (a start: space
 * before, text after; an end: text before, space or the end after); a weak
 * one is next to a separator byte. */
static bool cut_start_ok(const uint8_t *t, size_t len, size_t q, bool strong)
{
    if (q >= len || space_at(t, len, q))
        return false;
    if (q == 0 || space_before(t, len, 0, q))
        return true;
    return !strong && (is_sep(t[q - 1]) || is_sep(t[q])) && !is_cont(t[q]);
}

static bool cut_end_ok(const uint8_t *t, size_t len, size_t q, bool strong)
{
    if (q == 0 || space_before(t, len, 0, q))
        return false;
    if (q == len || space_at(t, len, q))
        return true;
    return !strong && (is_sep(t[q - 1]) || is_sep(t[q])) && !is_cont(t[q]);
}

/* The first start cut in [p, limit], strong ones first; limit if none. */
static size_t cut_start_fwd(const uint8_t *t, size_t len, size_t p, size_t limit)
{
    for (int strong = 1; strong >= 0; strong--)
        for (size_t q = p; q < limit; q = next_char(t, limit, q))
            if (cut_start_ok(t, len, q, strong))
                return q;
    return limit;
}

/* The last end cut in [floor, p], or else the first in [p, limit]; strong
 * ones first; p if none. */
static size_t cut_end_near(const uint8_t *t, size_t len, size_t floor, size_t p, size_t limit)
{
    for (int strong = 1; strong >= 0; strong--) {
        for (size_t q = p;; q = prev_char(t, floor, q)) {
            if (cut_end_ok(t, len, q, strong))
                return q;
            if (q <= floor)
                break;
        }
        for (size_t q = p; q <= limit && q <= len; q = next_char(t, len, q)) {
            if (cut_end_ok(t, len, q, strong))
                return q;
            if (q == len)
                break;
        }
    }
    return p;
}

/* The mark holding byte p strictly inside, or NONE. */
static size_t mark_around(const hl *h, size_t p)
{
    size_t lo = 0, hi = h->nmarks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->marks[mid].end <= p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < h->nmarks && h->marks[lo].start < p ? lo : NONE;
}

/* Widens the core of f to a passage of about chars characters inside
 * [lo, hi): from the start of the core's sentence when that is near, else
 * some words before it; to the last sentence end that fits (a little slack
 * allowed), else a word boundary; budget left at the text's end goes back
 * before the start. */
static void widen(const hl *h, frag *f, size_t lo, size_t hi, size_t chars)
{
    const uint8_t *t = h->t;
    size_t len = h->len;
    size_t cs = h->marks[f->mlo].start, ce = h->marks[f->mhi].end;
    size_t slack = chars / 8;
    size_t core = h->marks[f->mhi].cend - h->marks[f->mlo].cstart;
    size_t room = chars > core ? chars - core : 0;

    /* The core's sentence start, if the passage can begin there and still
     * show some words after the core (or the whole sentence). */
    size_t start = find_sentence_start(t, len, lo, cs, room + slack, false);
    if (start != NONE && count_chars(t, start, cs) > room / 2 + slack &&
        find_sentence_end(t, len, ce, fwd_chars(t, hi, start, chars + slack), false) == NONE)
        start = NONE;
    if (start == NONE) {
        size_t lead = room / 2 < chars / 4 ? room / 2 : chars / 4;
        start = cut_start_fwd(t, len, back_chars(t, lo, cs, lead), cs);
    }
    size_t used = count_chars(t, start, ce);
    size_t target = fwd_chars(t, hi, ce, chars > used ? chars - used : 0);
    size_t limit = fwd_chars(t, hi, target, slack);
    size_t end = find_sentence_end(t, len, ce, limit, true);
    if (end == NONE || (limit < len && count_chars(t, start, end) < chars / 2))
        end = cut_end_near(t, len, ce, target, limit);
    if (end > hi)
        end = hi;
    size_t shown = count_chars(t, start, end);
    if (shown + slack < chars && start > lo) {
        size_t more = chars - shown;
        size_t s2 = find_sentence_start(t, len, lo, start, more, true);
        if (s2 != NONE && s2 < start)
            start = s2;
        else if (!sentence_starts(t, len, start))
            start = cut_start_fwd(t, len, back_chars(t, lo, start, more), start);
    }
    /* Never split a mark of the context; trim whitespace. */
    size_t m = mark_around(h, start);
    if (m != NONE && h->marks[m].start >= lo)
        start = h->marks[m].start;
    m = end > 0 ? mark_around(h, end) : NONE;
    if (m != NONE && h->marks[m].end <= hi)
        end = h->marks[m].end;
    size_t k;
    while (start < end && (k = space_at(t, len, start)) > 0)
        start += k;
    while (end > start && (k = space_before(t, len, start, end)) > 0)
        end -= k;
    f->start = start;
    f->end = end;
}

/* The lede: the text's first sentence, cut to about chars characters. */
static void lede_passage(const hl *h, frag *f, size_t chars)
{
    const uint8_t *t = h->t;
    size_t len = h->len, start = 0, k;
    while (start < len && (k = space_at(t, len, start)) > 0)
        start += k;
    f->start = f->end = start;
    if (start == len)
        return;
    size_t target = fwd_chars(t, len, start, chars);
    size_t limit = fwd_chars(t, len, target, chars / 8);
    size_t end = find_sentence_end(t, len, next_char(t, len, start), limit, false);
    if (end == NONE)
        end = cut_end_near(t, len, start, target, limit);
    while (end > start && (k = space_before(t, len, start, end)) > 0)
        end -= k;
    f->end = end;
}

/* ================================================================ output */

typedef struct emit {
    lede_buf text, html;
    lede_span *spans;
    size_t nspans, spans_cap;
    int rc;
    bool collapse;          /* passages: whitespace runs become one space */
    bool space;             /* the last byte written to text was a collapsed space */
    const char *pre, *post;
    size_t pre_len, post_len;
} emit;

static void put2(emit *e, const void *p, size_t n)
{
    lede_buf_put(&e->text, p, n);
    lede_buf_put(&e->html, p, n);
}

static void put_escaped(lede_buf *b, const uint8_t *p, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        const char *ent;
        switch (p[i]) {
        case '&': ent = "&amp;"; break;
        case '<': ent = "&lt;"; break;
        case '>': ent = "&gt;"; break;
        case '"': ent = "&quot;"; break;
        case '\'': ent = "&#39;"; break;
        default: continue;
        }
        lede_buf_put(b, p + run, i - run);
        lede_buf_put(b, ent, strlen(ent));
        run = i + 1;
    }
    lede_buf_put(b, p + run, n - run);
}

/* Writes t[a..b) to text and html: invalid UTF-8 becomes U+FFFD, control
 * characters spaces (collapsed with whitespace in passages), and HTML's
 * five special characters entities in html. */
static void emit_range(emit *e, const uint8_t *t, size_t a, size_t b)
{
    static const uint8_t fffd[3] = {0xEF, 0xBF, 0xBD};
    size_t i = a;
    while (i < b) {
        uint8_t c = t[i];
        if (c > 0x20 && c < 0x7F) {
            size_t j = i + 1;
            while (j < b && t[j] > 0x20 && t[j] < 0x7F)
                j++;
            lede_buf_put(&e->text, t + i, j - i);
            put_escaped(&e->html, t + i, j - i);
            e->space = false;
            i = j;
        } else if (c < 0x80) {
            if (e->collapse) {
                if (!e->space)
                    put2(e, " ", 1);
                e->space = true;
            } else {
                uint8_t s = c == '\t' || c == '\n' || c == '\r' ? c : ' ';
                put2(e, &s, 1);
            }
            i++;
        } else {
            size_t n = lede_utf8_seq_len(t + i, t + b);
            if (n == 0) {
                put2(e, fffd, 3);
                n = 1;
            } else if (e->collapse && space_at(t, b, i) == n && t[i] != 0xC2) {
                /* a Unicode space (not NBSP) inside a passage: one space */
                if (!e->space)
                    put2(e, " ", 1);
                e->space = true;
                i += n;
                continue;
            } else {
                put2(e, t + i, n);
            }
            e->space = false;
            i += n;
        }
    }
}

/* Writes t[a..b) with the marks in it wrapped in the tags. */
static void emit_marked(emit *e, const hl *h, size_t a, size_t b)
{
    size_t m = 0, at = a;
    if (h->nmarks) {   /* the first mark ending after a */
        size_t lo = 0, hi = h->nmarks;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (h->marks[mid].end <= a)
                lo = mid + 1;
            else
                hi = mid;
        }
        m = lo;
    }
    for (; m < h->nmarks && h->marks[m].start < b; m++) {
        const mark *mk = &h->marks[m];
        if (mk->start < a || mk->end > b)
            continue;
        emit_range(e, h->t, at, mk->start);
        lede_buf_put(&e->html, e->pre, e->pre_len);
        uint32_t s0 = (uint32_t)e->text.len;
        emit_range(e, h->t, mk->start, mk->end);
        lede_buf_put(&e->html, e->post, e->post_len);
        if (e->nspans == e->spans_cap &&
            lede_grow((void **)&e->spans, &e->spans_cap, e->nspans + 1, sizeof *e->spans, 16) < 0) {
            e->rc = LEDE_ENOMEM;
            return;
        }
        e->spans[e->nspans++] = (lede_span){s0, (uint32_t)e->text.len};
        at = mk->end;
    }
    emit_range(e, h->t, at, b);
}

/* ---------------------------------------------------------------- packing
 * Every string and span of a snippet lives in the one allocation of its
 * lede_snippet (lede_snippet_free is free): the fragments' passages are
 * emitted once into scratch buffers, then copied, with their ellipses, into
 * the pieces of the result. */

/* A passage in the scratch buffers, or a fragment or the joined text in
 * the packer's, as offsets. */
typedef struct piece {
    size_t text, text_len, html, html_len, spans, nspans;
} piece;

typedef struct packer {
    lede_buf str;           /* every text and html, NUL-terminated */
    lede_span *spans;
    size_t nspans, spans_cap;
    int rc;
    const char *ell;        /* the ellipsis, plain and escaped */
    size_t ell_len;
    lede_buf ell_html;
} packer;

static void pack_ellipsis(packer *p, int html)
{
    if (html)
        lede_buf_put(&p->str, p->ell_html.p, p->ell_html.len);
    else
        lede_buf_put(&p->str, p->ell, p->ell_len);
}

/* Builds the piece showing fragments first..last: a leading ellipsis if the
 * first starts mid-sentence, " … " between fragments (a space when nothing
 * lies between them), a trailing ellipsis if the last ends mid-sentence. */
static void pack_piece(packer *p, const hl *h, const emit *e, const frag *fr, const piece *cr,
                       uint32_t first, uint32_t last, piece *pc)
{
    bool ell = p->ell_len > 0;
    pc->spans = p->nspans;
    for (int html = 0; html < 2; html++) {
        size_t base = p->str.len;
        for (uint32_t k = first; k <= last; k++) {
            if (k == first && fr[k].cut_start && ell) {
                pack_ellipsis(p, html);
                lede_buf_putc(&p->str, ' ');
            } else if (k > first) {
                bool gap = false;
                for (size_t b = fr[k - 1].end; b < fr[k].start && !gap; b++)
                    gap = !space_at(h->t, h->len, b);
                lede_buf_putc(&p->str, ' ');
                if (gap && ell) {
                    pack_ellipsis(p, html);
                    lede_buf_putc(&p->str, ' ');
                }
            }
            if (html) {
                if (cr[k].html_len)   /* an empty text has no buffer: no NULL + 0 */
                    lede_buf_put(&p->str, e->html.p + cr[k].html, cr[k].html_len);
            } else {
                size_t to = p->str.len - base;
                if (cr[k].nspans && p->rc == LEDE_OK &&
                    lede_grow((void **)&p->spans, &p->spans_cap, p->nspans + cr[k].nspans,
                              sizeof *p->spans, 64) < 0)
                    p->rc = LEDE_ENOMEM;
                for (size_t i = 0; i < cr[k].nspans && p->rc == LEDE_OK; i++) {
                    const lede_span *sp = &e->spans[cr[k].spans + i];
                    p->spans[p->nspans++] = (lede_span){(uint32_t)(sp->start - cr[k].text + to),
                                                        (uint32_t)(sp->end - cr[k].text + to)};
                }
                if (cr[k].text_len)   /* an empty text has no buffer: no NULL + 0 */
                    lede_buf_put(&p->str, e->text.p + cr[k].text, cr[k].text_len);
            }
            if (k == last && fr[k].cut_end && ell) {
                lede_buf_putc(&p->str, ' ');
                pack_ellipsis(p, html);
            }
        }
        if (html) {
            pc->html = base;
            pc->html_len = p->str.len - base;
        } else {
            pc->text = base;
            pc->text_len = p->str.len - base;
        }
        lede_buf_putc(&p->str, '\0');
    }
    pc->nspans = p->nspans - pc->spans;
}

static void set_fragment(lede_fragment *f, const piece *pc, char *str, lede_span *spans)
{
    f->text = str + pc->text;
    f->text_len = pc->text_len;
    f->html = str + pc->html;
    f->html_len = pc->html_len;
    f->matches = pc->nspans ? spans + pc->spans : NULL;
    f->nmatches = (uint32_t)pc->nspans;
}

static int finish(const hl *h, const frag *fr, uint32_t nfr, const lede_snippet_opts *opts,
                  lede_snippet **out, lede_err *err)
{
    emit e = {.collapse = !(opts && opts->whole)};
    e.pre = opts && opts->pre_tag ? opts->pre_tag : "<mark>";
    e.post = opts && opts->post_tag ? opts->post_tag : "</mark>";
    e.pre_len = strlen(e.pre);
    e.post_len = strlen(e.post);
    packer pk = {.ell = opts && opts->ellipsis ? opts->ellipsis : "\xE2\x80\xA6"};
    pk.ell_len = strlen(pk.ell);
    put_escaped(&pk.ell_html, (const uint8_t *)pk.ell, pk.ell_len);
    piece *cr = calloc(nfr, sizeof *cr);
    piece *pc = calloc(nfr + 1, sizeof *pc);
    int rc = cr && pc && !pk.ell_html.rc ? LEDE_OK : LEDE_ENOMEM;

    for (uint32_t i = 0; rc == LEDE_OK && i < nfr; i++) {
        e.space = false;
        cr[i] = (piece){.text = e.text.len, .html = e.html.len, .spans = e.nspans};
        emit_marked(&e, h, fr[i].start, fr[i].end);
        cr[i].text_len = e.text.len - cr[i].text;
        cr[i].html_len = e.html.len - cr[i].html;
        cr[i].nspans = e.nspans - cr[i].spans;
        if (e.rc || e.text.rc || e.html.rc)
            rc = LEDE_ENOMEM;
    }
    /* Each fragment, then (for several) the joined text; one fragment is
     * its own joined text and shares its memory. */
    for (uint32_t i = 0; rc == LEDE_OK && i < nfr; i++)
        pack_piece(&pk, h, &e, fr, cr, i, i, &pc[i]);
    if (rc == LEDE_OK && nfr > 1)
        pack_piece(&pk, h, &e, fr, cr, 0, nfr - 1, &pc[nfr]);
    if (rc == LEDE_OK && (pk.rc || pk.str.rc))
        rc = LEDE_ENOMEM;
    if (rc == LEDE_OK && pk.str.len > UINT32_MAX)
        rc = LEDE_ELIMIT;

    lede_snippet *s = NULL;
    if (rc == LEDE_OK) {
        size_t head = sizeof(lede_snippet) + nfr * sizeof(lede_fragment);
        s = malloc(head + pk.nspans * sizeof(lede_span) + pk.str.len);
        if (!s)
            rc = LEDE_ENOMEM;
    }
    if (rc == LEDE_OK) {
        lede_fragment *frs = (lede_fragment *)(s + 1);
        lede_span *spans = (lede_span *)(frs + nfr);
        char *str = (char *)(spans + pk.nspans);
        if (pk.nspans)
            memcpy(spans, pk.spans, pk.nspans * sizeof *spans);
        memcpy(str, pk.str.p, pk.str.len);
        memset(s, 0, sizeof *s);
        s->matched = h->nmarks > 0;
        s->nfragments = nfr;
        s->fragments = frs;
        double total = 0;
        for (uint32_t i = 0; i < nfr; i++) {
            lede_fragment *f = &frs[i];
            set_fragment(f, &pc[i], str, spans);
            f->src_start = (uint32_t)fr[i].start;
            f->src_end = (uint32_t)fr[i].end;
            f->score = fr[i].score;
            total += fr[i].score;
        }
        set_fragment(&s->joined, &pc[nfr > 1 ? nfr : 0], str, spans);
        s->joined.src_start = (uint32_t)fr[0].start;
        s->joined.src_end = (uint32_t)fr[nfr - 1].end;
        s->joined.score = total;
        *out = s;
    }
    lede_buf_free(&e.text);
    lede_buf_free(&e.html);
    free(e.spans);
    lede_buf_free(&pk.str);
    lede_buf_free(&pk.ell_html);
    free(pk.spans);
    free(cr);
    free(pc);
    if (rc < 0)
        return lede_err_set(err, rc, rc == LEDE_ENOMEM ? "cannot allocate a snippet"
                                                       : "snippet larger than 4 GiB");
    return LEDE_OK;
}

/* ================================================================ API */

int lede_snippet_make(lede_analyzer *an, const lede_hl_query *q, int field, const char *text,
                      size_t len, const lede_snippet_opts *opts, lede_snippet **out, lede_err *err)
{
    if (!out)
        return lede_err_set(err, LEDE_EINVAL, "lede_snippet_make: out is NULL");
    *out = NULL;
    if (!an || (!text && len))
        return lede_err_set(err, LEDE_EINVAL, "lede_snippet_make: %s is NULL",
                            an ? "text" : "analyzer");
    if (field != LEDE_HL_TITLE && field != LEDE_HL_BODY)
        return lede_err_set(err, LEDE_EINVAL, "lede_snippet_make: field %d is not a field", field);
    if (len >= UINT32_MAX)
        return lede_err_set(err, LEDE_ELIMIT, "lede_snippet_make: text of %zu bytes (4 GiB at most)",
                            len);
    hl h = {.t = (const uint8_t *)(text ? text : ""), .len = len, .an = an};
    size_t chars = opts && opts->chars ? opts->chars : DEFAULT_CHARS;
    uint32_t nwant = opts && opts->fragments ? opts->fragments : 1;
    if (nwant > MAX_FRAGMENTS)
        nwant = MAX_FRAGMENTS;
    bool whole = opts && opts->whole;
    frag fr[MAX_FRAGMENTS];
    uint32_t nfr = 0;

    int rc = prepare_query(&h, q, field, err);
    if (rc == LEDE_OK && h.nterms > 0 && len > 0) {
        rc = lede_analyze_words(an, text, len, 0, on_word, &h, NULL);
        if (rc == LEDE_OK)
            rc = find_phrases(&h);
        if (rc == LEDE_OK)
            rc = build_marks(&h);
        if (rc > 0)
            rc = LEDE_EINVAL;   /* on_word never stops analysis with a positive value */
        if (rc < 0)
            lede_err_set(err, rc, "lede_snippet_make: %s", lede_rc_text(rc));
    }
    if (rc == LEDE_OK && whole) {
        fr[0] = (frag){.start = 0, .end = len,
                       .score = h.nmarks ? score_marks(&h, 0, h.nmarks - 1) : 0};
        nfr = 1;
    } else if (rc == LEDE_OK && h.nmarks) {
        rc = choose_cores(&h, (uint32_t)(chars < UINT32_MAX ? chars : UINT32_MAX), nwant, fr, &nfr);
        if (rc < 0)
            lede_err_set(err, rc, "cannot allocate a snippet");
        /* Document order, then widen each inside its neighbours' bounds. */
        for (uint32_t i = 1; i < nfr; i++)
            for (uint32_t j = i; j > 0 && fr[j].mlo < fr[j - 1].mlo; j--) {
                frag tmp = fr[j];
                fr[j] = fr[j - 1];
                fr[j - 1] = tmp;
            }
        for (uint32_t i = 0; rc == LEDE_OK && i < nfr; i++) {
            size_t lo = i ? fr[i - 1].end : 0;
            size_t hi = i + 1 < nfr ? h.marks[fr[i + 1].mlo].start : len;
            widen(&h, &fr[i], lo, hi, chars);
            /* The passage's score counts every mark it shows. */
            size_t a = fr[i].mlo, b = fr[i].mhi;
            while (a > 0 && h.marks[a - 1].start >= fr[i].start)
                a--;
            while (b + 1 < h.nmarks && h.marks[b + 1].end <= fr[i].end)
                b++;
            fr[i].score = score_marks(&h, a, b);
        }
    } else if (rc == LEDE_OK) {
        fr[0] = (frag){0};
        lede_passage(&h, &fr[0], chars);
        nfr = 1;
    }
    if (rc == LEDE_OK) {
        for (uint32_t i = 0; i < nfr; i++) {
            fr[i].cut_start = !whole && fr[i].start < fr[i].end &&
                              !sentence_starts(h.t, len, fr[i].start);
            fr[i].cut_end = !whole && fr[i].start < fr[i].end &&
                            !sentence_ends(h.t, len, fr[i].end);
        }
        rc = finish(&h, fr, nfr, opts, out, err);
    }
    hl_free(&h);
    return rc;
}

void lede_snippet_free(lede_snippet *s)
{
    free(s);
}
