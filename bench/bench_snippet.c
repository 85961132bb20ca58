/* bench_snippet.c: the cost of a snippet (index/text/highlight.c). Reads the
 * first N article bodies of a JSON Lines corpus (.jsonl or .jsonl.zst; by
 * default ../shared/corpora/allsides-news/corpus.jsonl.zst from the project
 * root, ../../shared/... from a build folder, or $LEDE_SHARED/corpora/...),
 * computes each query word's IDF over those bodies, then makes the body
 * snippet of every article for each of a few typical queries and prints the
 * CPU time per snippet (p50, p99, mean, and p50 over 3-5 KB bodies) and MB/s
 * of body text, next to the cost of analyzing the same bodies alone. Not a
 * test: run it by hand when touching index/text/highlight.c, e.g.
 *   build/bench/bench_snippet                      # 2,000 allsides bodies
 *   build/bench/bench_snippet tests/data/seeds.jsonl 5 3
 * Exits 0 with a message when the default corpus is absent. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "text/text.h"   /* lede_analyze_words, for the floor */
#include "lede/highlight.h"
#include "lede/ingest.h"

/* Queries as highlighting sees them: words, and phrases in double quotes. */
static const char *const queries[] = {
    "trump border wall",
    "\"health care\" obamacare repeal",
    "climate change paris agreement",
    "\"supreme court\" nominee",
    "macron fines",
    "immigration",
};
#define NQUERIES (sizeof queries / sizeof queries[0])

typedef struct corpus {
    char **body;
    size_t *len;
    size_t n, max;
    size_t bytes;
} corpus;

static int take_doc(void *ctx, const lede_doc *doc)
{
    corpus *c = ctx;
    if (!doc->body.ptr)
        return 0;
    char *b = malloc(doc->body.len + 1);
    if (!b)
        return -1;
    memcpy(b, doc->body.ptr, doc->body.len);
    b[doc->body.len] = '\0';
    c->body[c->n] = b;
    c->len[c->n] = doc->body.len;
    c->bytes += doc->body.len;
    return ++c->n == c->max ? 1 : 0;
}

typedef struct qbuild {
    lede_hl_term terms[32];
    char text[32][LEDE_MAX_TERM + 1];
    uint32_t n, phrase, base;
} qbuild;

static int add_term(void *ctx, const lede_token *tok)
{
    qbuild *q = ctx;
    if (q->n == 32)
        return 0;
    memcpy(q->text[q->n], tok->term, tok->term_len + 1);
    q->terms[q->n] = (lede_hl_term){.term = q->text[q->n], .weight = 1, .phrase = q->phrase,
                                    .phrase_pos = q->phrase ? tok->pos - q->base : 0,
                                    .fields = LEDE_HL_TITLE | LEDE_HL_BODY};
    q->n++;
    return 0;
}

/* Splits the query into words and "phrases" and analyzes each. */
static void build_query(lede_analyzer *an, const char *s, qbuild *q)
{
    memset(q, 0, sizeof *q);
    uint32_t nphrases = 0;
    while (*s) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        const char *e;
        if (*s == '"') {
            s++;
            e = strchr(s, '"');
            if (!e)
                e = s + strlen(s);
            q->phrase = ++nphrases;
            q->base = 0;
        } else {
            e = strchr(s, ' ');
            if (!e)
                e = s + strlen(s);
            q->phrase = 0;
        }
        lede_analyze(an, s, (size_t)(e - s), 0, add_term, q, NULL);
        s = *e == '"' ? e + 1 : e;
    }
}

static int has_term(void *ctx, const lede_token *tok)
{
    const char *term = ctx;
    return strcmp(tok->term, term) == 0 ? 1 : 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The thread's CPU time: a shared machine's other jobs then disturb the
 * numbers much less than wall time would (they still share the caches). */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double pct(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t k = (size_t)ceil(p * (double)n);
    return sorted[k ? k - 1 : 0];
}

int main(int argc, char **argv)
{
    char def[4096];
    const char *path = argc > 1 ? argv[1] : NULL;
    if (!path) {   /* from the project root, or from a build folder in it */
        const char *shared = getenv("LEDE_SHARED");
        snprintf(def, sizeof def, "%s/corpora/allsides-news/corpus.jsonl.zst",
                 shared && *shared ? shared : "../shared");
        if (access(def, R_OK) != 0 && !(shared && *shared))
            snprintf(def, sizeof def, "../../shared/corpora/allsides-news/corpus.jsonl.zst");
        if (access(def, R_OK) != 0) {
            printf("SKIP: %s not found (give a .jsonl path or set LEDE_SHARED)\n", def);
            return 0;
        }
        path = def;
    }
    size_t ndocs = argc > 2 ? strtoul(argv[2], NULL, 10) : 2000;
    uint32_t nfrag = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 1;
    if (ndocs == 0)
        ndocs = 1;
    corpus c = {.body = calloc(ndocs, sizeof(char *)), .len = calloc(ndocs, sizeof(size_t)),
                .max = ndocs};
    lede_err err = {0};
    lede_analyzer *an;
    if (!c.body || !c.len || lede_analyzer_new(&(lede_analyzer_opts){0}, &an, &err) < 0) {
        fprintf(stderr, "cannot start: %s\n", err.msg);
        return 1;
    }
    int rc = lede_ingest_paths(&path, 1, NULL, take_doc, &c, NULL, &err);
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
        return 1;
    }
    size_t nmid_all = 0;
    for (size_t d = 0; d < c.n; d++)
        nmid_all += c.len[d] >= 3000 && c.len[d] <= 5000;
    printf("%zu bodies from %s, %.2f MB, mean %.0f bytes (%zu of 3-5 KB); %u fragment(s) of 160 "
           "chars; µs of CPU time\n",
           c.n, path, (double)c.bytes / 1e6, c.n ? (double)c.bytes / (double)c.n : 0.0, nmid_all,
           nfrag);

    /* The analyzer alone over every body: the floor of a snippet's cost. */
    double t0 = 0, t_an = 0;
    for (int pass = 0; pass < 2; pass++) {   /* a warm-up pass (the stem cache), then the timed one */
        t0 = now();
        for (size_t d = 0; d < c.n; d++)
            lede_analyze(an, c.body[d], c.len[d], 0, NULL, NULL, NULL);
        t_an = now() - t0;
    }
    printf("analyzer alone: %.1f µs per body, %.0f MB/s\n", t_an * 1e6 / (double)c.n,
           (double)c.bytes / 1e6 / t_an);
    t0 = now();   /* what highlight.c runs: the analyzer without stemming */
    for (size_t d = 0; d < c.n; d++)
        lede_analyze_words(an, c.body[d], c.len[d], 0, NULL, NULL, NULL);
    t_an = now() - t0;
    printf("analyzer without stemming: %.1f µs per body, %.0f MB/s\n", t_an * 1e6 / (double)c.n,
           (double)c.bytes / 1e6 / t_an);

    double *us = malloc(c.n * sizeof *us), *us_hit = malloc(c.n * sizeof *us_hit);
    double *us_mid = malloc(c.n * sizeof *us_mid);
    if (!us || !us_hit || !us_mid)
        return 1;
    printf("%-34s %7s %7s %7s %7s %7s %7s %6s\n", "query", "matched", "p50", "p99", "mean",
           "hit p50", "3-5 KB", "MB/s");
    double all_time = 0;
    size_t all_n = 0;
    for (size_t qi = 0; qi < NQUERIES; qi++) {
        qbuild q;
        build_query(an, queries[qi], &q);
        for (uint32_t i = 0; i < q.n; i++) {   /* IDF over the loaded bodies */
            size_t df = 0;
            for (size_t d = 0; d < c.n; d++)
                df += lede_analyze(an, c.body[d], c.len[d], 0, has_term, q.text[i], NULL) == 1;
            q.terms[i].weight = log(1 + ((double)c.n - (double)df + 0.5) / ((double)df + 0.5));
        }
        lede_hl_query hq = {.nterms = q.n, .terms = q.terms};
        lede_snippet_opts opts = {.fragments = nfrag};
        size_t nhit = 0, nmid = 0;
        double total = 0;
        for (int pass = 0; pass < 2; pass++) {   /* a warm-up pass, then the timed one */
            nhit = nmid = 0;
            total = 0;
            for (size_t d = 0; d < c.n; d++) {
                lede_snippet *s;
                double a = now();
                if (lede_snippet_make(an, &hq, LEDE_HL_BODY, c.body[d], c.len[d], &opts, &s, &err) <
                    0) {
                    fprintf(stderr, "lede_snippet_make: %s\n", err.msg);
                    return 1;
                }
                double b = now() - a;
                us[d] = b * 1e6;
                total += b;
                if (s->matched)
                    us_hit[nhit++] = b * 1e6;
                if (c.len[d] >= 3000 && c.len[d] <= 5000)
                    us_mid[nmid++] = b * 1e6;
                lede_snippet_free(s);
            }
        }
        qsort(us, c.n, sizeof *us, cmp_double);
        qsort(us_hit, nhit, sizeof *us_hit, cmp_double);
        qsort(us_mid, nmid, sizeof *us_mid, cmp_double);
        printf("%-34s %7zu %7.1f %7.1f %7.1f %7.1f %7.1f %6.0f\n", queries[qi], nhit,
               pct(us, c.n, 0.5), pct(us, c.n, 0.99), total * 1e6 / (double)c.n,
               pct(us_hit, nhit, 0.5), pct(us_mid, nmid, 0.5), (double)c.bytes / 1e6 / total);
        all_time += total;
        all_n += c.n;
    }
    printf("all queries: %.1f µs per snippet, %.0f MB/s\n", all_time * 1e6 / (double)all_n,
           (double)c.bytes * NQUERIES / 1e6 / all_time);
    for (size_t d = 0; d < c.n; d++)
        free(c.body[d]);
    free(c.body);
    free(c.len);
    free(us);
    free(us_hit);
    free(us_mid);
    lede_analyzer_free(an);
    return 0;
}
