/* test_highlight.c: index/text/highlight.c, the snippets and highlights of
 * include/lede/highlight.h and docs/HIGHLIGHT.md. Matching through the
 * analyzer (stems, accents, stop-word gaps in phrases), phrases as one span
 * and only where they occur, scoring (distinct terms over repeats, phrases
 * over scattered words), fragments in document order joined by the
 * ellipsis, sentence-aligned and cut passages, the lede when nothing
 * matches, whole mode, HTML escaping and tags, field masks, invalid UTF-8,
 * empty and huge inputs, argument errors; the seed articles as realistic
 * input; and a random loop. Every snippet made here is checked for valid
 * UTF-8, sorted in-bounds spans, and html equal to its text with the spans
 * wrapped in the tags. The prefilter of highlight.c rests on a property of
 * the stemmer (a stem keeps its word's first byte and is never longer),
 * which is checked over the seed articles' words. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/text.h"
#include "lede/highlight.h"
#include "lede/ingest.h"
#include "tap.h"

static lede_analyzer *an;        /* stemming, no stop words */
static lede_analyzer *an_stop;   /* stemming, conf/stopwords-en.txt */

/* ================================================================ queries */

#define QMAX 256

typedef struct qb {
    lede_hl_term t[QMAX];
    char s[QMAX][LEDE_MAX_TERM + 1];
    uint32_t n, nphrases;
    uint32_t cur_phrase, base;
    double w;
    uint8_t fields;
} qb;

static int q_add(void *ctx, const lede_token *tok)
{
    qb *q = ctx;
    if (q->n == QMAX)
        return 0;
    memcpy(q->s[q->n], tok->term, tok->term_len + 1);
    q->t[q->n] = (lede_hl_term){.term = q->s[q->n], .weight = q->w, .phrase = q->cur_phrase,
                                .phrase_pos = q->cur_phrase ? tok->pos - q->base : 0,
                                .fields = q->fields};
    q->n++;
    return 0;
}

static void q_reset(qb *q)
{
    q->n = q->nphrases = 0;
}

/* Each word of words becomes a term of its own. */
static void q_words(qb *q, lede_analyzer *a, const char *words, double w, uint8_t fields)
{
    q->cur_phrase = 0;
    q->w = w;
    q->fields = fields;
    lede_analyze(a, words, strlen(words), 0, q_add, q, NULL);
}

/* words as one phrase, positions as the analyzer gives them. */
static void q_phrase(qb *q, lede_analyzer *a, const char *words, double w, uint8_t fields)
{
    q->cur_phrase = ++q->nphrases;
    q->base = 0;
    q->w = w;
    q->fields = fields;
    lede_analyze(a, words, strlen(words), 0, q_add, q, NULL);
}

static lede_hl_query q_get(qb *q)
{
    return (lede_hl_query){.nterms = q->n, .nphrases = q->nphrases, .terms = q->t};
}

/* ================================================================ checks */

static bool valid_utf8(const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s;
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        size_t k;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            k = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (p[i + j] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + j] & 0x3F);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += k + 1;
    }
    return true;
}

static size_t nchars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((uint8_t)s[i] & 0xC0) != 0x80;
    return c;
}

static void put_esc(char **o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *e = NULL;
        switch (s[i]) {
        case '&': e = "&amp;"; break;
        case '<': e = "&lt;"; break;
        case '>': e = "&gt;"; break;
        case '"': e = "&quot;"; break;
        case '\'': e = "&#39;"; break;
        }
        if (e) {
            memcpy(*o, e, strlen(e));
            *o += strlen(e);
        } else {
            *(*o)++ = s[i];
        }
    }
}

/* The html a fragment must have: its text escaped, spans in the tags. */
static char *render(const lede_fragment *f, const char *pre, const char *post)
{
    size_t cap = f->text_len * 6 + f->nmatches * (strlen(pre) + strlen(post)) + 1;
    char *out = malloc(cap), *o = out;
    size_t at = 0;
    for (uint32_t i = 0; i < f->nmatches; i++) {
        put_esc(&o, f->text + at, f->matches[i].start - at);
        memcpy(o, pre, strlen(pre));
        o += strlen(pre);
        put_esc(&o, f->text + f->matches[i].start, f->matches[i].end - f->matches[i].start);
        memcpy(o, post, strlen(post));
        o += strlen(post);
        at = f->matches[i].end;
    }
    put_esc(&o, f->text + at, f->text_len - at);
    *o = '\0';
    return out;
}

static void check_fragment(const lede_fragment *f, const char *pre, const char *post)
{
    CHECK(f->text && f->html);
    if (!f->text || !f->html)
        return;
    CHECK_EQ_INT(strlen(f->text), f->text_len);
    CHECK_EQ_INT(strlen(f->html), f->html_len);
    CHECK(valid_utf8(f->text, f->text_len));
    CHECK(valid_utf8(f->html, f->html_len));
    CHECK(f->nmatches == 0 || f->matches);
    uint32_t at = 0;
    for (uint32_t i = 0; i < f->nmatches; i++) {
        const lede_span *m = &f->matches[i];
        CHECK(m->start >= at && m->start < m->end && m->end <= f->text_len);
        if (!(m->start >= at && m->start < m->end && m->end <= f->text_len))
            return;
        CHECK(((uint8_t)f->text[m->start] & 0xC0) != 0x80);
        CHECK(m->end == f->text_len || ((uint8_t)f->text[m->end] & 0xC0) != 0x80);
        at = m->end;
    }
    char *want = render(f, pre, post);
    CHECK_EQ_STR(f->html, want);
    free(want);
}

/* The checks every snippet must pass. */
static void check_snippet(const lede_snippet *s, const lede_snippet_opts *o)
{
    const char *pre = o && o->pre_tag ? o->pre_tag : "<mark>";
    const char *post = o && o->post_tag ? o->post_tag : "</mark>";
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(s->nfragments >= 1);
    uint32_t want = o && o->fragments ? o->fragments : 1;
    CHECK(s->nfragments <= (want < 64 ? want : 64));
    CHECK(s->fragments != NULL);
    uint32_t spans = 0;
    for (uint32_t i = 0; i < s->nfragments; i++) {
        const lede_fragment *f = &s->fragments[i];
        check_fragment(f, pre, post);
        CHECK(f->src_start <= f->src_end);
        if (i > 0)
            CHECK(s->fragments[i - 1].src_end <= f->src_start);
        spans += f->nmatches;
    }
    check_fragment(&s->joined, pre, post);
    CHECK_EQ_INT(s->joined.nmatches, spans);
    CHECK_EQ_INT(s->matched, spans > 0);
    if (s->nfragments == 1 && !(o && o->whole))
        CHECK(s->joined.text_len == s->fragments[0].text_len);
}

static lede_snippet *make(lede_analyzer *a, const lede_hl_query *q, int field, const char *text,
                          const lede_snippet_opts *o)
{
    lede_snippet *s = NULL;
    lede_err err = {0};
    int rc = lede_snippet_make(a, q, field, text, text ? strlen(text) : 0, o, &s, &err);
    CHECK_MSG(rc == LEDE_OK, err.msg);
    if (rc == LEDE_OK)
        check_snippet(s, o);
    return s;
}

/* The text of match i of f. */
static const char *match_text(const lede_fragment *f, uint32_t i)
{
    static char buf[1024];
    if (i >= f->nmatches) {
        snprintf(buf, sizeof buf, "(no match %u)", i);
        return buf;
    }
    snprintf(buf, sizeof buf, "%.*s", (int)(f->matches[i].end - f->matches[i].start),
             f->text + f->matches[i].start);
    return buf;
}

/* All matches of f as "a|b|c". */
static const char *matches_of(const lede_fragment *f)
{
    static char buf[4096];
    size_t at = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < f->nmatches && at < sizeof buf - 256; i++)
        at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%.*s", i ? "|" : "",
                               (int)(f->matches[i].end - f->matches[i].start),
                               f->text + f->matches[i].start);
    return buf;
}

/* ================================================================ tests */

static void test_stemming_and_folding(void)
{
    qb q;
    q_reset(&q);
    q_words(&q, an, "fines", 2, LEDE_HL_BODY);
    lede_hl_query hq = q_get(&q);
    lede_snippet *s = make(an, &hq, LEDE_HL_BODY, "Facebook was fined heavily. Fine.", NULL);
    CHECK_EQ_INT(s->matched, 1);
    CHECK_EQ_STR(matches_of(&s->fragments[0]), "fined|Fine");
    CHECK_EQ_STR(s->fragments[0].html, "Facebook was <mark>fined</mark> heavily. <mark>Fine</mark>.");
    lede_snippet_free(s);

    q_reset(&q);
    q_words(&q, an, "Élysée", 2, LEDE_HL_BODY);
    hq = q_get(&q);
    s = make(an, &hq, LEDE_HL_BODY, "He went to the Elysee palace.", NULL);
    CHECK_EQ_STR(matches_of(&s->fragments[0]), "Elysee");
    lede_snippet_free(s);
    q_reset(&q);
    q_words(&q, an, "Elysee", 2, LEDE_HL_BODY);
    hq = q_get(&q);
    s = make(an, &hq, LEDE_HL_BODY, "He went to the ÉLYSÉE palace; Élysées.", NULL);
    CHECK_EQ_STR(matches_of(&s->fragments[0]), "ÉLYSÉE|Élysées");
    lede_snippet_free(s);

    /* The stemmer's special forms, which the prefilter must let through. */
    q_reset(&q);
    q_words(&q, an, "lie die tie ieds oed sky", 2, LEDE_HL_BODY);
    hq = q_get(&q);
    s = make(an, &hq, LEDE_HL_BODY, "Lying, dying, tying; IEDs, oed, skies.", NULL);
    CHECK_EQ_STR(matches_of(&s->fragments[0]), "Lying|dying|tying|IEDs|oed|skies");
    lede_snippet_free(s);

    /* Possessives: the token (and the span) covers the whole word. */
    q_reset(&q);
    q_words(&q, an, "macron", 2, LEDE_HL_BODY);
    hq = q_get(&q);
    s = make(an, &hq, LEDE_HL_BODY, "Macron’s party and MACRON'S rivals.", NULL);
    CHECK_EQ_STR(matches_of(&s->fragments[0]), "Macron’s|MACRON'S");
    lede_snippet_free(s);
}

static void test_phrases(void)
{
    qb q;
    q_reset(&q);
    q_phrase(&q, an, "legal liability", 2, LEDE_HL_BODY);
    lede_hl_query hq = q_get(&q);
    lede_snippet *s = make(an, &hq, LEDE_HL_BODY,
                           "Plans for a new legal liability for firms. Legal, not liability.", NULL);
    CHECK_EQ_INT(s->fragments[0].nmatches, 1);
    CHECK_EQ_STR(match_text(&s->fragments[0], 0), "legal liability");
    CHECK(strstr(s->fragments[0].html, "<mark>legal liability</mark>") != NULL);
    lede_snippet_free(s);

    /* Words of a phrase found scattered are not marked... */
    s = make(an, &hq, LEDE_HL_BODY, "Legal experts doubt it. Liability is unclear.", NULL);
    CHECK_EQ_INT(s->matched, 0);
    CHECK_EQ_INT(s->fragments[0].nmatches, 0);
    lede_snippet_free(s);
    /* ...unless the word is also a term of its own. */
    q_words(&q, an, "liability", 1, LEDE_HL_BODY);
    hq = q_get(&q);
    s = make(an, &hq, LEDE_HL_BODY, "Legal experts doubt it. Liability is unclear.", NULL);
    CHECK_EQ_STR(matches_of(&s->fragments[0]), "Liability");
    lede_snippet_free(s);
    s = make(an, &hq, LEDE_HL_BODY, "A new legal liability, and liability.", NULL);
    CHECK_EQ_STR(matches_of(&s->fragments[0]), "legal liability|liability");
    lede_snippet_free(s);

    /* Stop words leave position gaps: the phrase spans them. */
    q_reset(&q);
    q_phrase(&q, an_stop, "Bank of England", 2, LEDE_HL_BODY);
    hq = q_get(&q);
    CHECK_EQ_INT(hq.nterms, 2);
    CHECK_EQ_INT(hq.terms[1].phrase_pos, 2);
    s = make(an_stop, &hq, LEDE_HL_BODY, "The Bank of  England said; the bank England.", NULL);
    CHECK_EQ_STR(matches_of(&s->fragments[0]), "Bank of England");
    lede_snippet_free(s);

    /* Overlapping occurrences merge into one span; a phrase across a
     * sentence end still matches (positions do not know sentences). */
    q_reset(&q);
    q_phrase(&q, an, "ha ha", 1, LEDE_HL_BODY);
    hq = q_get(&q);
    s = make(an, &hq, LEDE_HL_BODY, "He said ha ha ha and ha.", NULL);
    CHECK_EQ_STR(matches_of(&s->fragments[0]), "ha ha ha");
    lede_snippet_free(s);

    /* A one-word phrase is its word. */
    q_reset(&q);
    q_phrase(&q, an, "liability", 1, LEDE_HL_BODY);
    hq = q_get(&q);
    s = make(an, &hq, LEDE_HL_BODY, "No liability.", NULL);
    CHECK_EQ_STR(matches_of(&s->fragments[0]), "liability");
    lede_snippet_free(s);

    /* Two phrases sharing a first word. */
    q_reset(&q);
    q_phrase(&q, an, "new york", 1, LEDE_HL_BODY);
    q_phrase(&q, an, "new jersey", 1, LEDE_HL_BODY);
    hq = q_get(&q);
    s = make(an, &hq, LEDE_HL_BODY, "From New York to New Jersey, a new road.", NULL);
    CHECK_EQ_STR(matches_of(&s->fragments[0]), "New York|New Jersey");
    lede_snippet_free(s);
}

/* Filler sentences without query words, to push passages apart. */
static const char *filler =
    "Officials gave no further details about the timing of the next meeting between the "
    "two delegations, which had been postponed twice already this spring. ";

static void test_scoring(void)
{
    char text[4096];
    qb q;
    lede_snippet_opts one = {.fragments = 1};

    /* A phrase beats its words scattered, even later in the text. */
    q_reset(&q);
    q_phrase(&q, an, "social media", 2, LEDE_HL_BODY);
    q_words(&q, an, "social media", 2, LEDE_HL_BODY);
    lede_hl_query hq = q_get(&q);
    snprintf(text, sizeof text,
             "Social clubs and the media met. %s%sRegulators targeted social media firms.", filler,
             filler);
    lede_snippet *s = make(an, &hq, LEDE_HL_BODY, text, &one);
    CHECK_EQ_STR(matches_of(&s->fragments[0]), "social media");
    CHECK(strstr(s->fragments[0].text, "Regulators") != NULL);
    lede_snippet_free(s);

    /* More distinct terms beat one term repeated. */
    q_reset(&q);
    q_words(&q, an, "tax reform", 2, LEDE_HL_BODY);
    hq = q_get(&q);
    snprintf(text, sizeof text, "Tax, tax, tax and more tax: taxes everywhere. %s%sThe reform of the tax code.",
             filler, filler);
    s = make(an, &hq, LEDE_HL_BODY, text, &one);
    CHECK_EQ_STR(matches_of(&s->fragments[0]), "reform|tax");
    lede_snippet_free(s);

    /* IDF weighs: a rare term beats a common one. */
    q_reset(&q);
    q_words(&q, an, "said", 0.1, LEDE_HL_BODY);
    q_words(&q, an, "obamacare", 5, LEDE_HL_BODY);
    hq = q_get(&q);
    snprintf(text, sizeof text, "He said, she said, they said. %s%sObamacare is law.", filler, filler);
    s = make(an, &hq, LEDE_HL_BODY, text, &one);
    CHECK_EQ_STR(matches_of(&s->fragments[0]), "Obamacare");
    lede_snippet_free(s);

    /* Equal passages: the earlier wins. */
    q_reset(&q);
    q_words(&q, an, "macron", 1, LEDE_HL_BODY);
    hq = q_get(&q);
    snprintf(text, sizeof text, "%sMacron spoke first. %s%sMacron spoke again.", filler, filler,
             filler);
    s = make(an, &hq, LEDE_HL_BODY, text, &one);
    CHECK(strstr(s->fragments[0].text, "first") != NULL);
    CHECK(s->fragments[0].score > 0.99 && s->fragments[0].score < 1.01);
    lede_snippet_free(s);
}

static void test_fragments(void)
{
    static char text[32768];
    qb q;
    q_reset(&q);
    q_words(&q, an, "alpha beta gamma", 2, LEDE_HL_BODY);
    lede_hl_query hq = q_get(&q);
    /* Three passages; the best (two terms) is last. */
    snprintf(text, sizeof text, "Alpha came first. %s%sBeta was second. %s%sGamma and alpha were last.",
             filler, filler, filler, filler);
    lede_snippet_opts o = {.fragments = 3};
    lede_snippet *s = make(an, &hq, LEDE_HL_BODY, text, &o);
    CHECK_EQ_INT(s->nfragments, 3);
    /* Each passage starts at its sentence and takes the next one too, as
     * it fits in about 160 characters. */
    CHECK(strncmp(s->fragments[0].text, "Alpha came first. Officials", 27) == 0);
    CHECK(strncmp(s->fragments[1].text, "Beta was second. Officials", 26) == 0);
    CHECK_EQ_STR(s->fragments[2].text, "Gamma and alpha were last.");
    CHECK(s->fragments[2].score > s->fragments[0].score);
    CHECK(strncmp(s->joined.text, "Alpha came first. ", 18) == 0);
    CHECK(strstr(s->joined.text, "spring. … Beta was second. ") != NULL);
    CHECK(strstr(s->joined.text, "spring. … Gamma and alpha were last.") != NULL);
    CHECK_EQ_STR(matches_of(&s->joined), "Alpha|Beta|Gamma|alpha");
    CHECK_EQ_INT(s->joined.src_start, 0);
    CHECK_EQ_INT(s->joined.src_end, strlen(text));
    lede_snippet_free(s);

    /* One fragment: the best. Two: the best two, in document order. */
    o.fragments = 1;
    s = make(an, &hq, LEDE_HL_BODY, text, &o);
    CHECK_EQ_STR(s->fragments[0].text, "Gamma and alpha were last.");
    CHECK_EQ_STR(s->joined.text, "Gamma and alpha were last.");
    lede_snippet_free(s);
    o.fragments = 2;
    s = make(an, &hq, LEDE_HL_BODY, text, &o);
    CHECK_EQ_INT(s->nfragments, 2);
    CHECK(strncmp(s->fragments[0].text, "Alpha came first.", 17) == 0);
    CHECK_EQ_STR(s->fragments[1].text, "Gamma and alpha were last.");
    lede_snippet_free(s);

    /* Fewer passages than asked for: as many as there are. */
    o.fragments = 100;
    s = make(an, &hq, LEDE_HL_BODY, "Alpha and beta.", &o);
    CHECK_EQ_INT(s->nfragments, 1);
    lede_snippet_free(s);

    /* Many matches, many fragments: each match in exactly one. */
    size_t at = 0;
    for (int i = 0; i < 80; i++)
        at += (size_t)snprintf(text + at, sizeof text - at, "Alpha %d is here. %s", i, filler);
    s = make(an, &hq, LEDE_HL_BODY, text, &o);
    CHECK_EQ_INT(s->nfragments, 64);
    CHECK_EQ_INT(s->joined.nmatches, 64);
    lede_snippet_free(s);
}

static void test_sentences(void)
{
    qb q;
    q_reset(&q);
    q_words(&q, an, "macron", 1, LEDE_HL_BODY);
    lede_hl_query hq = q_get(&q);
    char text[4096];

    /* The match's sentence, from its start. */
    snprintf(text, sizeof text, "%sThe president met Macron in Paris on Tuesday. %s", filler, filler);
    lede_snippet *s = make(an, &hq, LEDE_HL_BODY, text, NULL);
    CHECK(strncmp(s->fragments[0].text, "The president met Macron", 24) == 0);
    CHECK(strncmp(s->joined.text, "The president", 13) == 0);
    lede_snippet_free(s);

    /* Abbreviations and initials do not end sentences. */
    snprintf(text, sizeof text, "%sYesterday Mr. Macron met J. K. Rowling in the U.S. capital. %s",
             filler, filler);
    s = make(an, &hq, LEDE_HL_BODY, text, NULL);
    CHECK(strncmp(s->fragments[0].text, "Yesterday Mr. Macron", 20) == 0);
    lede_snippet_free(s);

    /* Closing quotes belong to the sentence; a line break ends one. */
    snprintf(text, sizeof text, "%s“We agree,” she said.” Macron nodded.\nNext line here.", filler);
    s = make(an, &hq, LEDE_HL_BODY, text, NULL);
    CHECK(strstr(s->fragments[0].text, "Macron nodded.") != NULL);
    lede_snippet_free(s);

    /* Deep inside a long sentence: cut at a word, marked with the ellipsis. */
    size_t at = (size_t)snprintf(text, sizeof text, "The long sentence goes on");
    for (int i = 0; i < 40; i++)
        at += (size_t)snprintf(text + at, sizeof text - at, " and on");
    at += (size_t)snprintf(text + at, sizeof text - at, " until Macron appears");
    for (int i = 0; i < 40; i++)
        at += (size_t)snprintf(text + at, sizeof text - at, " and on");
    snprintf(text + at, sizeof text - at, ".");
    s = make(an, &hq, LEDE_HL_BODY, text, NULL);
    const lede_fragment *f = &s->fragments[0];
    CHECK(strncmp(f->text, "… ", 4) == 0);
    CHECK(f->text_len > 4 && strcmp(f->text + f->text_len - 4, " …") == 0);
    CHECK(strstr(f->text, "Macron") != NULL);
    size_t c = nchars(f->text, f->text_len);
    CHECK_MSG(c >= 120 && c <= 200, f->text);
    CHECK(f->src_start > 0 && f->src_end < strlen(text));
    /* The passage is the source range, whitespace collapsed. */
    CHECK(f->src_end - f->src_start == f->text_len - 8);
    CHECK(memcmp(text + f->src_start, f->text + 4, f->text_len - 8) == 0);
    lede_snippet_free(s);

    /* No sentence punctuation at all, and no spaces at all. */
    at = 0;
    for (int i = 0; i < 300; i++)
        at += (size_t)snprintf(text + at, sizeof text - at, "%s ", i == 150 ? "macron" : "word");
    s = make(an, &hq, LEDE_HL_BODY, text, NULL);
    c = nchars(s->fragments[0].text, s->fragments[0].text_len);
    CHECK_MSG(c >= 120 && c <= 200, s->fragments[0].text);
    CHECK_EQ_INT(s->fragments[0].nmatches, 1);
    lede_snippet_free(s);
    memset(text, 'x', 3000);
    memcpy(text + 1500, "-macron-", 8);
    text[3000] = '\0';
    s = make(an, &hq, LEDE_HL_BODY, text, NULL);
    CHECK_EQ_STR(matches_of(&s->fragments[0]), "macron");
    c = nchars(s->fragments[0].text, s->fragments[0].text_len);
    CHECK_MSG(c <= 200, s->fragments[0].text);
    lede_snippet_free(s);

    /* Paragraphs: newlines become single spaces inside a passage. */
    s = make(an, &hq, LEDE_HL_BODY, "Macron won.\n\nHe smiled.\t Then  left.", NULL);
    CHECK_EQ_STR(s->fragments[0].text, "Macron won. He smiled. Then left.");
    lede_snippet_free(s);

    /* A shorter chars gives a shorter passage. */
    snprintf(text, sizeof text, "%sThe president met Macron in Paris on Tuesday. %s", filler, filler);
    lede_snippet_opts o = {.chars = 40};
    s = make(an, &hq, LEDE_HL_BODY, text, &o);
    c = nchars(s->fragments[0].text, s->fragments[0].text_len);
    CHECK_MSG(c <= 60, s->fragments[0].text);
    CHECK(strstr(s->fragments[0].text, "Macron") != NULL);
    lede_snippet_free(s);
}

static void test_lede(void)
{
    qb q;
    q_reset(&q);
    q_words(&q, an, "zebra", 1, LEDE_HL_BODY);
    lede_hl_query hq = q_get(&q);
    lede_snippet *s = make(an, &hq, LEDE_HL_BODY,
                           "  Theresa May met Emmanuel Macron. They talked about the internet.", NULL);
    CHECK_EQ_INT(s->matched, 0);
    CHECK_EQ_INT(s->nfragments, 1);
    CHECK_EQ_STR(s->fragments[0].text, "Theresa May met Emmanuel Macron.");
    CHECK_EQ_STR(s->joined.text, "Theresa May met Emmanuel Macron.");
    CHECK_EQ_INT(s->fragments[0].nmatches, 0);
    CHECK_EQ_INT(s->fragments[0].src_start, 2);
    CHECK(s->fragments[0].score == 0);
    lede_snippet_free(s);

    /* A long first sentence is cut at a word, with the ellipsis. */
    char text[4096];
    size_t at = (size_t)snprintf(text, sizeof text, "It began");
    for (int i = 0; i < 60; i++)
        at += (size_t)snprintf(text + at, sizeof text - at, " and went on");
    snprintf(text + at, sizeof text - at, ". Second sentence.");
    s = make(an, &hq, LEDE_HL_BODY, text, NULL);
    const lede_fragment *f = &s->fragments[0];
    CHECK(strncmp(f->text, "It began and went on", 20) == 0);
    CHECK(f->text_len > 4 && strcmp(f->text + f->text_len - 4, " …") == 0);
    size_t c = nchars(f->text, f->text_len);
    CHECK_MSG(c >= 140 && c <= 185, f->text);
    lede_snippet_free(s);

    /* An empty query gives the lede too. */
    lede_hl_query empty = {0};
    s = make(an, &empty, LEDE_HL_BODY, "First. Second.", NULL);
    CHECK_EQ_STR(s->fragments[0].text, "First.");
    lede_snippet_free(s);
    s = make(an, NULL, LEDE_HL_BODY, "No terminator at all", NULL);
    CHECK_EQ_STR(s->fragments[0].text, "No terminator at all");
    lede_snippet_free(s);
}

static void test_whole(void)
{
    qb q;
    q_reset(&q);
    q_words(&q, an, "macron fines", 1, LEDE_HL_TITLE);
    lede_hl_query hq = q_get(&q);
    lede_snippet_opts o = {.whole = 1};
    const char *title = "Macron’s Élysée fines Facebook & <Twitter>";
    lede_snippet *s = make(an, &hq, LEDE_HL_TITLE, title, &o);
    CHECK_EQ_INT(s->nfragments, 1);
    CHECK_EQ_STR(s->fragments[0].text, title);
    CHECK_EQ_STR(matches_of(&s->fragments[0]), "Macron’s|fines");
    CHECK_EQ_STR(s->fragments[0].html,
                 "<mark>Macron’s</mark> Élysée <mark>fines</mark> Facebook &amp; &lt;Twitter&gt;");
    CHECK_EQ_STR(s->joined.text, title);
    CHECK_EQ_INT(s->joined.nmatches, 2);
    CHECK(s->fragments[0].score > 1.99);
    lede_snippet_free(s);

    /* Whole mode keeps the text's newlines, and returns it unmatched too. */
    s = make(an, &hq, LEDE_HL_TITLE, "Line one.\nLine two, with no match.", &o);
    CHECK_EQ_INT(s->matched, 0);
    CHECK_EQ_STR(s->fragments[0].text, "Line one.\nLine two, with no match.");
    lede_snippet_free(s);

    /* Every match of a long text, none dropped. */
    char text[8192];
    size_t at = 0;
    for (int i = 0; i < 100; i++)
        at += (size_t)snprintf(text + at, sizeof text - at, "Macron fined %d. ", i);
    s = make(an, &hq, LEDE_HL_TITLE, text, &o);
    CHECK_EQ_INT(s->fragments[0].nmatches, 200);
    CHECK_EQ_INT(s->fragments[0].text_len, strlen(text));
    lede_snippet_free(s);
}

static void test_html(void)
{
    qb q;
    q_reset(&q);
    q_words(&q, an, "macron", 1, LEDE_HL_BODY);
    lede_hl_query hq = q_get(&q);
    const char *text = "<script>alert(\"x\")</script> Tom & Jerry's \"Macron\" <b>bold</b>.";
    lede_snippet *s = make(an, &hq, LEDE_HL_BODY, text, NULL);
    CHECK_EQ_STR(s->fragments[0].text, text);
    CHECK_EQ_STR(s->fragments[0].html,
                 "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Tom &amp; Jerry&#39;s "
                 "&quot;<mark>Macron</mark>&quot; &lt;b&gt;bold&lt;/b&gt;.");
    CHECK(strstr(s->joined.html, "<script") == NULL);
    lede_snippet_free(s);

    /* Tags and ellipsis from the options; the ellipsis is escaped in html. */
    char long_text[4096];
    snprintf(long_text, sizeof long_text, "%s%s and then Macron spoke at length about it all, %s",
             filler, filler, filler);
    lede_snippet_opts o = {.pre_tag = "<em class=\"hl\">", .post_tag = "</em>", .ellipsis = "<...>"};
    s = make(an, &hq, LEDE_HL_BODY, long_text, &o);
    CHECK(strstr(s->fragments[0].html, "<em class=\"hl\">Macron</em>") != NULL);
    CHECK(strncmp(s->fragments[0].text, "<...> ", 6) == 0);
    CHECK(strncmp(s->fragments[0].html, "&lt;...&gt; ", 12) == 0);
    lede_snippet_free(s);
    /* An empty ellipsis: cut ends are not marked. */
    o.ellipsis = "";
    s = make(an, &hq, LEDE_HL_BODY, long_text, &o);
    CHECK(s->fragments[0].text[0] != ' ');
    CHECK(s->fragments[0].text[s->fragments[0].text_len - 1] != ' ');
    lede_snippet_free(s);
}

static void test_field_masks(void)
{
    qb q;
    q_reset(&q);
    q_words(&q, an, "macron", 1, LEDE_HL_TITLE);
    q_words(&q, an, "paris", 1, LEDE_HL_BODY);
    q_words(&q, an, "fines", 1, LEDE_HL_TITLE | LEDE_HL_BODY);
    q_words(&q, an, "tuesday", 1, 0);   /* 0: both fields */
    lede_hl_query hq = q_get(&q);
    const char *text = "Macron fined them in Paris on Tuesday.";
    lede_snippet *s = make(an, &hq, LEDE_HL_BODY, text, NULL);
    CHECK_EQ_STR(matches_of(&s->fragments[0]), "fined|Paris|Tuesday");
    lede_snippet_free(s);
    s = make(an, &hq, LEDE_HL_TITLE, text, NULL);
    CHECK_EQ_STR(matches_of(&s->fragments[0]), "Macron|fined|Tuesday");
    lede_snippet_free(s);

    /* A phrase with a word of another field cannot match here. */
    q_reset(&q);
    q_phrase(&q, an, "legal liability", 1, LEDE_HL_TITLE);
    hq = q_get(&q);
    hq.terms[1].fields = LEDE_HL_TITLE | LEDE_HL_BODY;
    s = make(an, &hq, LEDE_HL_BODY, "A legal liability.", NULL);
    CHECK_EQ_INT(s->matched, 0);
    lede_snippet_free(s);
    s = make(an, &hq, LEDE_HL_TITLE, "A legal liability.", NULL);
    CHECK_EQ_STR(matches_of(&s->fragments[0]), "legal liability");
    lede_snippet_free(s);
}

static void test_invalid_utf8(void)
{
    qb q;
    q_reset(&q);
    q_words(&q, an, "macron fines", 1, LEDE_HL_BODY);
    lede_hl_query hq = q_get(&q);
    const char *text = "\xFF" "Macron\xFE\xC3 fines \xE2\x82 x\xED\xA0\x80y \xF0\x9F\x98\x80 \xC0\xAF end.";
    lede_snippet_opts modes[2] = {{0}, {.whole = 1}};
    for (int m = 0; m < 2; m++) {
        lede_snippet *s = make(an, &hq, LEDE_HL_BODY, text, &modes[m]);
        CHECK_EQ_STR(matches_of(&s->fragments[0]), "Macron|fines");
        CHECK(strstr(s->fragments[0].text, "\xF0\x9F\x98\x80") != NULL);   /* valid kept */
        CHECK(strstr(s->fragments[0].text, "\xEF\xBF\xBD" "Macron\xEF\xBF\xBD\xEF\xBF\xBD") != NULL);
        lede_snippet_free(s);
    }
    /* Bytes that are all invalid. */
    char junk[600];
    for (int i = 0; i < 599; i++)
        junk[i] = (char)(0x80 + i % 0x40);
    junk[599] = '\0';
    lede_snippet *s = make(an, &hq, LEDE_HL_BODY, junk, NULL);
    CHECK_EQ_INT(s->matched, 0);
    lede_snippet_free(s);
}

static void test_empty_and_odd(void)
{
    qb q;
    q_reset(&q);
    q_words(&q, an, "macron", 1, LEDE_HL_BODY);
    lede_hl_query hq = q_get(&q);
    lede_snippet_opts whole = {.whole = 1};
    const char *texts[] = {"", "   \n\n  ", "!!! ??? ... ,,, ;;;", ".", "Macron", " Macron ",
                           "…", "\"Macron!\"", "a", "\n\nMacron\n\n"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        lede_snippet *s = make(an, &hq, LEDE_HL_BODY, texts[i], NULL);
        lede_snippet_free(s);
        s = make(an, &hq, LEDE_HL_BODY, texts[i], &whole);
        CHECK_EQ_STR(s->fragments[0].text, texts[i]);
        lede_snippet_free(s);
    }
    lede_snippet *s = make(an, &hq, LEDE_HL_BODY, "", NULL);
    CHECK_EQ_INT(s->nfragments, 1);
    CHECK_EQ_STR(s->fragments[0].text, "");
    CHECK_EQ_STR(s->joined.html, "");
    lede_snippet_free(s);
    s = make(an, &hq, LEDE_HL_BODY, NULL, NULL);   /* NULL text of length 0 */
    CHECK_EQ_STR(s->fragments[0].text, "");
    lede_snippet_free(s);
    s = make(an, &hq, LEDE_HL_BODY, "\n\nMacron\n\n", NULL);
    CHECK_EQ_STR(s->fragments[0].text, "Macron");
    lede_snippet_free(s);

    /* Odd query terms: empty, over-long, unmatched, bad weights. */
    char longterm[100];
    memset(longterm, 'a', 99);
    longterm[99] = '\0';
    lede_hl_term odd[] = {
        {.term = "", .weight = 1},
        {.term = longterm, .weight = 1},
        {.term = "macron", .weight = NAN},
        {.term = "fine", .weight = -3},
        {.term = "pari", .weight = INFINITY},
        {.term = "x", .weight = 1, .phrase = 7, .phrase_pos = 5},   /* a one-word phrase */
        {.term = "a", .weight = 1, .phrase = 9, .phrase_pos = UINT32_MAX},
        {.term = "b", .weight = 1, .phrase = 9, .phrase_pos = 0},
    };
    lede_hl_query oq = {.nterms = 8, .nphrases = 2, .terms = odd};
    s = make(an, &oq, LEDE_HL_BODY, "Macron fined x in Paris, a b a.", NULL);
    CHECK_EQ_STR(matches_of(&s->fragments[0]), "Macron|fined|x|Paris");
    lede_snippet_free(s);
}

static void test_errors(void)
{
    lede_snippet *s = (lede_snippet *)&s;
    lede_err err = {0};
    lede_hl_query q = {0};
    CHECK_EQ_INT(lede_snippet_make(NULL, &q, LEDE_HL_BODY, "x", 1, NULL, &s, &err), LEDE_EINVAL);
    CHECK(s == NULL);
    CHECK(strstr(err.msg, "analyzer") != NULL);
    CHECK_EQ_INT(lede_snippet_make(an, &q, LEDE_HL_BODY, NULL, 5, NULL, &s, NULL), LEDE_EINVAL);
    CHECK_EQ_INT(lede_snippet_make(an, &q, 3, "x", 1, NULL, &s, NULL), LEDE_EINVAL);
    CHECK_EQ_INT(lede_snippet_make(an, &q, 0, "x", 1, NULL, &s, NULL), LEDE_EINVAL);
    CHECK_EQ_INT(lede_snippet_make(an, &q, LEDE_HL_BODY, "x", 1, NULL, NULL, NULL), LEDE_EINVAL);
    lede_hl_query bad = {.nterms = 2, .terms = NULL};
    CHECK_EQ_INT(lede_snippet_make(an, &bad, LEDE_HL_BODY, "x", 1, NULL, &s, NULL), LEDE_EINVAL);
    lede_hl_term nul[] = {{.term = "x", .weight = 1}, {.term = NULL, .weight = 1}};
    bad.terms = nul;
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_snippet_make(an, &bad, LEDE_HL_BODY, "x", 1, NULL, &s, &err), LEDE_EINVAL);
    CHECK(s == NULL);
    CHECK(strstr(err.msg, "term 1") != NULL);
    lede_snippet_free(NULL);
}

/* ================================================================ seeds */

typedef struct bodies {
    char *text[16];
    size_t n;
} bodies;

static int take_body(void *ctx, const lede_doc *doc)
{
    bodies *b = ctx;
    if (b->n < 16 && doc->body.ptr)
        b->text[b->n++] = strndup(doc->body.ptr, doc->body.len);
    return 0;
}

static bodies seeds;

static void load_seeds(void)
{
    const char *path = "data/seeds.jsonl";
    lede_err err = {0};
    int rc = lede_ingest_paths(&path, 1, NULL, take_body, &seeds, NULL, &err);
    CHECK_MSG(rc == LEDE_OK, err.msg);
    CHECK_EQ_INT(seeds.n, 5);
}

static bool is_query_term(const lede_hl_query *q, const char *term)
{
    for (uint32_t i = 0; i < q->nterms; i++)
        if (strcmp(q->terms[i].term, term) == 0)
            return true;
    return false;
}

static int first_term(void *ctx, const lede_token *tok)
{
    memcpy(ctx, tok->term, tok->term_len + 1);
    return 1;
}

static void test_seeds(void)
{
    static const char *const queries[][2] = {
        {"macron", NULL},
        {"fines", NULL},
        {"social media", "legal liability"},
        {NULL, "Theresa May"},
        {"facebook twitter google", NULL},
        {"terrorist extremist content internet", "social media"},
        {"nonexistentword", NULL},
    };
    size_t nq = sizeof queries / sizeof queries[0];
    for (size_t d = 0; d < seeds.n; d++) {
        const char *body = seeds.text[d];
        for (size_t k = 0; k < nq; k++) {
            qb q;
            q_reset(&q);
            if (queries[k][0])
                q_words(&q, an, queries[k][0], 1.0 + (double)k / 3, LEDE_HL_BODY);
            if (queries[k][1])
                q_phrase(&q, an, queries[k][1], 2.5, LEDE_HL_BODY);
            lede_hl_query hq = q_get(&q);
            for (uint32_t nf = 1; nf <= 4; nf++) {
                lede_snippet_opts o = {.fragments = nf};
                lede_snippet *s = make(an, &hq, LEDE_HL_BODY, body, &o);
                if (!s)
                    continue;
                if (k == nq - 1)
                    CHECK_EQ_INT(s->matched, 0);
                if (k == 0)
                    CHECK_EQ_INT(s->matched, 1);
                for (uint32_t i = 0; i < s->nfragments; i++) {
                    const lede_fragment *f = &s->fragments[i];
                    size_t c = nchars(f->text, f->text_len);
                    CHECK_MSG(c <= 240, f->text);
                    CHECK(strchr(f->text, '\n') == NULL && strstr(f->text, "  ") == NULL);
                    CHECK(f->src_end <= strlen(body));
                    /* Each span starts with a query word. */
                    for (uint32_t m = 0; m < f->nmatches; m++) {
                        char term[LEDE_MAX_TERM + 1] = "";
                        lede_analyze(an, f->text + f->matches[m].start,
                                     f->matches[m].end - f->matches[m].start, 0, first_term, term,
                                     NULL);
                        CHECK_MSG(is_query_term(&hq, term), match_text(f, m));
                    }
                }
                lede_snippet_free(s);
            }
        }
    }
    /* Titles in whole mode. */
    qb q;
    q_reset(&q);
    q_words(&q, an, "macron may", 1, LEDE_HL_TITLE);
    lede_hl_query hq = q_get(&q);
    lede_snippet_opts whole = {.whole = 1};
    lede_snippet *s = make(an, &hq, LEDE_HL_TITLE,
                           "May and Macron target social media under plans to fine firms", &whole);
    CHECK_EQ_STR(matches_of(&s->fragments[0]), "May|Macron");
    lede_snippet_free(s);
}

/* The prefilter's premise: over every word of the seeds (and some tricky
 * ones), the stem starts with the folded word's first byte, is never longer
 * than it, and has its second byte unless that is a 'y' made 'i' or the
 * stem has one byte. */
typedef struct words_seen {
    lede_token tok[1 << 14];
    char term[1 << 14][LEDE_MAX_TERM + 1];
    size_t n;
} words_seen;

static int see_word(void *ctx, const lede_token *tok)
{
    words_seen *w = ctx;
    if (w->n < (1 << 14)) {
        memcpy(w->term[w->n], tok->term, tok->term_len + 1);
        w->tok[w->n] = *tok;
        w->n++;
    }
    return 0;
}

static void test_stem_premise(void)
{
    static words_seen folded, stemmed;
    static const char *tricky = "dying lying tying skies skis idly gently ugly early only singly "
                                "yelling Yves yes ies ied aing eing aed sses news bias atlas "
                                "cosmos andes howe generously hoping used ties Élysées ΣΕΣ oed "
                                "ieds lies dies flying crying i ye yo yyy "
                                "don’t he'll rock'n'roll 3.5 1,000 1990s y ya yy ay sky";
    size_t checked = 0;
    for (size_t d = 0; d <= seeds.n; d++) {
        const char *text = d < seeds.n ? seeds.text[d] : tricky;
        folded.n = stemmed.n = 0;
        lede_analyze_words(an, text, strlen(text), 0, see_word, &folded, NULL);
        lede_analyze(an, text, strlen(text), 0, see_word, &stemmed, NULL);
        CHECK_EQ_INT(folded.n, stemmed.n);
        for (size_t i = 0; i < folded.n && i < stemmed.n; i++) {
            CHECK(folded.tok[i].pos == stemmed.tok[i].pos);
            CHECK_MSG(folded.term[i][0] == stemmed.term[i][0], folded.term[i]);
            CHECK_MSG(stemmed.tok[i].term_len <= folded.tok[i].term_len, folded.term[i]);
            bool y_to_i = folded.term[i][1] == 'y' && stemmed.term[i][1] == 'i';
            CHECK_MSG(stemmed.tok[i].term_len == 1 || y_to_i ||
                          folded.term[i][1] == stemmed.term[i][1], folded.term[i]);
            checked++;
        }
    }
    CHECK(checked > 2000);
}

/* Whole mode marks exactly the tokens lede_analyze finds for lone terms. */
static int collect_spans(void *ctx, const lede_token *tok)
{
    void **c = ctx;
    const lede_hl_query *q = c[0];
    lede_span *spans = c[1];
    uint32_t *n = c[2];
    if (is_query_term(q, tok->term) && *n < 4096)
        spans[(*n)++] = (lede_span){tok->start, tok->end};
    return 0;
}

static void check_equivalence(const lede_hl_query *q, const char *text)
{
    static lede_span want[4096];
    uint32_t nwant = 0;
    void *ctx[3] = {(void *)q, want, &nwant};
    lede_analyze(an, text, strlen(text), 0, collect_spans, ctx, NULL);
    lede_snippet_opts whole = {.whole = 1};
    lede_snippet *s = make(an, q, LEDE_HL_BODY, text, &whole);
    if (!s)
        return;
    const lede_fragment *f = &s->fragments[0];
    CHECK_EQ_INT(f->nmatches, nwant);
    for (uint32_t i = 0; i < f->nmatches && i < nwant; i++)
        CHECK(f->matches[i].start == want[i].start && f->matches[i].end == want[i].end);
    lede_snippet_free(s);
}

static void test_equivalence(void)
{
    static words_seen w;
    for (size_t d = 0; d < seeds.n; d++) {
        w.n = 0;
        lede_analyze(an, seeds.text[d], strlen(seeds.text[d]), 0, see_word, &w, NULL);
        for (int round = 0; round < 20; round++) {
            qb q;
            q_reset(&q);
            for (int k = 0; k < 1 + round % 7 && w.n; k++) {
                const char *t = w.term[(size_t)(d * 7919 + (size_t)round * 104729 + (size_t)k * 31) % w.n];
                memcpy(q.s[q.n], t, strlen(t) + 1);
                q.t[q.n] = (lede_hl_term){.term = q.s[q.n], .weight = 1 + k, .fields = LEDE_HL_BODY};
                q.n++;
            }
            lede_hl_query hq = q_get(&q);
            check_equivalence(&hq, seeds.text[d]);
        }
    }
}

/* ================================================================ stress */

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return n ? (uint32_t)(rng % n) : 0;
}

static void test_random(void)
{
    static const char *const vocab[] = {
        "macron", "fines", "fined", "Élysée", "Elysee", "legal", "liability", "the", "of", "Mr.",
        "U.S.", "tax", "ha", "don’t", "café", "北京", "😀", "social", "media", "May", "3.5",
        "1,000", "inter\xC2\xADnational", "Macron's", "ﬁnance"};
    static const char *const punct[] = {
        ". ", "! ", "? ", ", ", "\n\n", " ", "\"", "(", ")", "<", "&", "'", "” ", "…", "\t",
        "\xC2\xA0", "\xE3\x80\x80", "-", "...", ".\" "};
    size_t nv = sizeof vocab / sizeof vocab[0], np = sizeof punct / sizeof punct[0];
    static char text[8192];
    static const char *const tags[][2] = {{NULL, NULL}, {"[", "]"}, {"", ""}, {"<b>", "</b>"}};
    for (int iter = 0; iter < 3000; iter++) {
        /* The text: words, punctuation and, sometimes, raw bytes. */
        size_t len = 0, target = rnd(iter % 10 == 0 ? 6000 : 800);
        bool raw = rnd(3) == 0;
        while (len < target && len + 64 < sizeof text) {
            uint32_t r = rnd(10);
            const char *p = r < 6 ? vocab[rnd((uint32_t)nv)] : punct[rnd((uint32_t)np)];
            if (raw && r == 9) {
                text[len++] = (char)(rnd(255) + 1);
                continue;
            }
            size_t n = strlen(p);
            memcpy(text + len, p, n);
            len += n;
            if (r < 6 && rnd(2))
                text[len++] = ' ';
        }
        text[len] = '\0';
        /* The query: words of the vocabulary, phrases, junk, odd weights. */
        qb q;
        q_reset(&q);
        bool lone_only = true;
        uint32_t nt = rnd(6);
        for (uint32_t k = 0; k < nt; k++) {
            uint32_t kind = rnd(6);
            uint8_t fields = (uint8_t)rnd(4);
            double w = rnd(10) == 0 ? -1.0 : 0.1 + rnd(50) / 10.0;
            if (kind < 3) {
                q_words(&q, an, vocab[rnd((uint32_t)nv)], w, fields);
            } else if (kind < 5) {
                char ph[128];
                snprintf(ph, sizeof ph, "%s %s%s%s", vocab[rnd((uint32_t)nv)], vocab[rnd((uint32_t)nv)],
                         rnd(2) ? " " : "", rnd(2) ? vocab[rnd((uint32_t)nv)] : "");
                q_phrase(&q, an, ph, w, fields);
                lone_only = false;
            } else if (q.n < QMAX) {
                size_t n = 1 + rnd(LEDE_MAX_TERM + 4);
                for (size_t i = 0; i < n && i < LEDE_MAX_TERM; i++)
                    q.s[q.n][i] = (char)(rnd(255) + 1);
                q.s[q.n][n < LEDE_MAX_TERM ? n : LEDE_MAX_TERM] = '\0';
                q.t[q.n] = (lede_hl_term){.term = q.s[q.n], .weight = w,
                                          .phrase = rnd(3) ? 0 : 1 + rnd(3),
                                          .phrase_pos = rnd(4), .fields = fields};
                q.n++;
                lone_only = false;
            }
        }
        lede_hl_query hq = q_get(&q);
        const char *const *tg = tags[rnd(4)];
        lede_snippet_opts o = {.fragments = rnd(6), .chars = rnd(3) ? 0 : rnd(400),
                               .whole = rnd(5) == 0, .pre_tag = tg[0], .post_tag = tg[1],
                               .ellipsis = rnd(4) ? NULL : "..."};
        int field = rnd(2) ? LEDE_HL_BODY : LEDE_HL_TITLE;
        lede_snippet *s = make(an, &hq, field, text, &o);
        lede_snippet_free(s);
        if (!raw && lone_only && iter % 3 == 0) {
            for (uint32_t i = 0; i < q.n; i++)
                q.t[i].fields = LEDE_HL_BODY;
            hq = q_get(&q);
            check_equivalence(&hq, text);
        }
    }
}

static void test_huge(void)
{
    /* About 4 MB of articles: one pass, a passage, and every match in whole mode. */
    size_t one = 0;
    for (size_t d = 0; d < seeds.n; d++)
        one += strlen(seeds.text[d]) + 2;
    size_t reps = 4000000 / (one ? one : 1) + 1;
    char *text = malloc(one * reps + 1);
    size_t at = 0;
    for (size_t r = 0; r < reps; r++)
        for (size_t d = 0; d < seeds.n; d++)
            at += (size_t)sprintf(text + at, "%s\n\n", seeds.text[d]);
    qb q;
    q_reset(&q);
    q_words(&q, an, "macron", 1, LEDE_HL_BODY);
    q_phrase(&q, an, "legal liability", 2, LEDE_HL_BODY);
    lede_hl_query hq = q_get(&q);
    lede_snippet_opts o = {.fragments = 3};
    lede_snippet *s = make(an, &hq, LEDE_HL_BODY, text, &o);
    CHECK_EQ_INT(s->nfragments, 3);
    lede_snippet_free(s);
    lede_snippet_opts whole = {.whole = 1};
    s = make(an, &hq, LEDE_HL_BODY, text, &whole);
    CHECK(s->fragments[0].nmatches > 10 * reps);
    CHECK_EQ_INT(s->fragments[0].text_len, at);
    lede_snippet_free(s);
    /* No match anywhere in megabytes: the lede, quickly. */
    q_reset(&q);
    q_words(&q, an, "zzyzx", 1, LEDE_HL_BODY);
    hq = q_get(&q);
    s = make(an, &hq, LEDE_HL_BODY, text, &o);
    CHECK_EQ_INT(s->matched, 0);
    lede_snippet_free(s);
    free(text);
}

int main(void)
{
    lede_err err = {0};
    int rc = lede_analyzer_new(&(lede_analyzer_opts){0}, &an, &err);
    CHECK_MSG(rc == LEDE_OK, err.msg);
    rc = lede_analyzer_new(&(lede_analyzer_opts){.stopwords_path = "../conf/stopwords-en.txt"},
                           &an_stop, &err);
    CHECK_MSG(rc == LEDE_OK, err.msg);
    if (!an || !an_stop)
        return tap_done();
    load_seeds();
    test_stemming_and_folding();
    test_phrases();
    test_scoring();
    test_fragments();
    test_sentences();
    test_lede();
    test_whole();
    test_html();
    test_field_masks();
    test_invalid_utf8();
    test_empty_and_odd();
    test_errors();
    test_seeds();
    test_stem_premise();
    test_equivalence();
    test_random();
    test_huge();
    for (size_t d = 0; d < seeds.n; d++)
        free(seeds.text[d]);
    lede_analyzer_free(an);
    lede_analyzer_free(an_stop);
    return tap_done();
}
