/* bench_analyze.c: analyzer throughput. Reads a file (or stdin), analyzes it
 * line by line as documents, and prints MB/s and tokens/s. Not a test: run
 * it by hand when touching index/text/analyze.c, e.g.
 *   zstd -dc corpus.jsonl.zst | head -c 50000000 > /tmp/news.txt
 *   build/bench/bench_analyze /tmp/news.txt */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lede/analyze.h"

static int count_token(void *ctx, const lede_token *tok)
{
    uint64_t *counts = ctx;
    counts[0]++;
    counts[1] += tok->term_len;
    return 0;
}

static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 1 << 20, n = 0;
    char *p = malloc(cap);
    while (p) {
        n += fread(p + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *q = realloc(p, cap *= 2);
        if (!q)
            free(p);
        p = q;
    }
    *len = n;
    return p;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    FILE *f = argc > 1 ? fopen(argv[1], "rb") : stdin;
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    size_t len;
    char *text = read_all(f, &len);
    if (!text) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    lede_analyzer_opts opts = {0};
    opts.stopwords_path = argc > 2 ? argv[2] : NULL;
    lede_analyzer *an;
    lede_err err = {0};
    if (lede_analyzer_new(&opts, &an, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    uint64_t counts[2] = {0, 0};
    double t0 = now();
    for (size_t at = 0; at < len;) {
        char *nl = memchr(text + at, '\n', len - at);
        size_t line_len = nl ? (size_t)(nl - (text + at)) : len - at;
        int rc = lede_analyze(an, text + at, line_len, 0, count_token, counts, NULL);
        if (rc != 0) {
            fprintf(stderr, "lede_analyze: %d\n", rc);
            return 1;
        }
        at += line_len + 1;
    }
    double secs = now() - t0;
    printf("%.1f MB in %.3f s: %.1f MB/s, %.1f M tokens/s (%llu tokens, mean term %.2f bytes)\n",
           (double)len / 1e6, secs, (double)len / 1e6 / secs, (double)counts[0] / 1e6 / secs,
           (unsigned long long)counts[0], counts[0] ? (double)counts[1] / (double)counts[0] : 0.0);
    lede_analyzer_free(an);
    free(text);
    return 0;
}
