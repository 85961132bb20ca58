/* main.c: lede-index, the command-line driver of liblede: build, add,
 * delete, merge, search, stats, check and analyze. Its output is a stable
 * contract that scripts and the server's tests rely on (docs/CLI.md): JSON
 * on stdout, one clear error line on stderr, exit codes 0 ok, 1 runtime
 * error, 2 usage error. It uses only the public API in include/lede/. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lede/analyze.h"
#include "lede/index.h"
#include "lede/ingest.h"
#include "lede/lede.h"
#include "lede/search.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

static const char usage_text[] =
    "usage: lede-index COMMAND ...\n"
    "  build [-o DIR] [--quiet] [--skip-bad] [--no-merge] [--mem-mb N]\n"
    "        [--stopwords FILE] [--no-stem] FILE_OR_FOLDER...\n"
    "  add DIR [--quiet] [--skip-bad] [--no-merge] FILE_OR_FOLDER...\n"
    "  delete DIR ID...\n"
    "  merge DIR\n"
    "  search DIR QUERY [-k N] [--offset N] [--explain] [--exhaustive] [--plain]\n"
    "         [--k1 X] [--b X] [--] (a QUERY may start with '-')\n"
    "  search DIR --queries FILE [-k N] [--exhaustive] [--plain]\n"
    "  stats DIR\n"
    "  check DIR\n"
    "  analyze TEXT\n"
    "  --help, --version\n";

/* One line: what was wrong, and where to read more. */
static int usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "lede-index: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see lede-index --help)\n");
    return EXIT_USAGE;
}

static int fail(const lede_err *err)
{
    fprintf(stderr, "lede-index: %s\n", err->msg[0] ? err->msg : lede_rc_text(err->rc));
    return EXIT_RUNTIME;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ JSON out */

static void json_str(FILE *f, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    putc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (c < 0x20) {
                fputs("\\u00", f);
                putc(hex[c >> 4], f);
                putc(hex[c & 15], f);
            } else {
                putc(c, f);
            }
        }
    }
    putc('"', f);
}

static void json_cstr(FILE *f, const char *s)
{
    json_str(f, s, strlen(s));
}

static void json_field(FILE *f, const char *key, lede_str v)
{
    fprintf(f, ",\"%s\":", key);
    if (v.ptr)
        json_str(f, v.ptr, v.len);
    else
        fputs("null", f);
}

/* ------------------------------------------------------------ options */

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v > max || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

/* ------------------------------------------------------------ build / add */

typedef struct build_ctx {
    lede_writer *w;
    lede_err *err;
    int progress;
    double started;
    uint64_t total_bytes;
} build_ctx;

static int add_doc(void *ctx, const lede_doc *doc)
{
    build_ctx *b = ctx;
    return lede_writer_add(b->w, doc, b->err);
}

static void on_progress(void *ctx, uint64_t done, uint64_t total, uint64_t docs)
{
    build_ctx *b = ctx;
    double el = now_s() - b->started;
    double rate = el > 0 ? (double)done / el : 0;
    double eta = rate > 0 && total > done ? (double)(total - done) / rate : 0;
    fprintf(stderr, "\r%llu docs, %.1f MB/s (input), %3.0f%%, ETA %.0f s   ",
            (unsigned long long)docs, rate / 1e6, total ? 100.0 * (double)done / (double)total : 0,
            eta);
}

static void on_bad(void *ctx, const char *message)
{
    (void)ctx;
    fprintf(stderr, "lede-index: skipped: %s\n", message);
}

static int cmd_build(int argc, char **argv, int create)
{
    const char *dir = create ? "index" : NULL;
    int quiet = 0, skip_bad = 0, no_merge = 0, no_stem = 0;
    unsigned long mem_mb = 0;
    const char *stopwords = NULL;
    const char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
    size_t ninputs = 0;
    if (!inputs)
        return EXIT_RUNTIME;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (create && (!strcmp(a, "-o") || !strcmp(a, "--output")) && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(a, "--quiet") || !strcmp(a, "-q"))
            quiet = 1;
        else if (!strcmp(a, "--skip-bad"))
            skip_bad = 1;
        else if (!strcmp(a, "--no-merge"))
            no_merge = 1;
        else if (create && !strcmp(a, "--no-stem"))
            no_stem = 1;
        else if (create && !strcmp(a, "--stopwords") && i + 1 < argc)
            stopwords = argv[++i];
        else if (!strcmp(a, "--mem-mb") && i + 1 < argc) {
            if (parse_uint(argv[++i], 1u << 20, &mem_mb) || mem_mb == 0) {
                free(inputs);
                return usage("--mem-mb takes a positive number of MiB, not '%s'", argv[i]);
            }
        } else if (a[0] == '-' && a[1]) {
            free(inputs);
            return usage("unknown option '%s'", a);
        } else if (!dir) {
            dir = a; /* add: the first word that is not an option is the index */
        } else {
            inputs[ninputs++] = a;
        }
    }
    if (!dir) {
        free(inputs);
        return usage("add needs an index directory and files or folders to add", "");
    }
    if (ninputs == 0) {
        free(inputs);
        return usage("%s needs at least one file or folder to index", create ? "build" : "add");
    }
    lede_err err;
    lede_err_clear(&err);
    lede_writer_opts wo = {0};
    wo.mem_budget = (size_t)mem_mb << 20;
    wo.no_merge = no_merge;
    wo.analyzer.no_stem = no_stem;
    wo.analyzer.stopwords_path = stopwords;
    lede_writer *w;
    if (lede_writer_open(dir, &wo, create, &w, &err)) {
        free(inputs);
        return fail(&err);
    }
    build_ctx b = {w, &err, !quiet && isatty(2), now_s(), 0};
    lede_ingest_opts io = {0};
    io.skip_bad = skip_bad;
    if (b.progress) {
        io.progress = on_progress;
        io.progress_ctx = &b;
    }
    if (!quiet) {
        io.on_bad = on_bad;
    }
    lede_ingest_stats st = {0};
    int rc = lede_ingest_paths(inputs, ninputs, &io, add_doc, &b, &st, &err);
    free(inputs);
    if (b.progress)
        fputc('\n', stderr);
    double ingested = now_s();
    if (!rc)
        rc = lede_writer_commit(w, &err);
    if (getenv("LEDE_TIMING"))
        fprintf(stderr, "lede-index: timing: ingest+analyze+invert %.2f s, commit %.2f s\n",
                ingested - b.started, now_s() - ingested);
    uint64_t added = 0, replaced = 0;
    lede_writer_counts(w, &added, &replaced);
    lede_writer_free(w);
    if (rc) {
        fprintf(stderr, "lede-index: %s; nothing was published, %s is unchanged\n",
                err.msg[0] ? err.msg : lede_rc_text(rc), dir);
        return EXIT_RUNTIME;
    }
    if (!quiet) {
        double el = now_s() - b.started;
        fprintf(stderr,
                "lede-index: %s %llu documents (%llu replaced, %llu bad lines skipped) in %.2f s, "
                "%.1f MB/s, into %s\n",
                create ? "indexed" : "added", (unsigned long long)added,
                (unsigned long long)replaced, (unsigned long long)st.bad, el,
                el > 0 ? (double)st.bytes_in / el / 1e6 : 0, dir);
    }
    return 0;
}

static int cmd_delete(int argc, char **argv)
{
    if (argc < 4)
        return usage("delete needs an index directory and at least one id", "");
    lede_err err;
    lede_err_clear(&err);
    lede_writer *w;
    if (lede_writer_open(argv[2], NULL, 0, &w, &err))
        return fail(&err);
    int missing = 0;
    for (int i = 3; i < argc; i++) {
        int found = 0;
        if (lede_writer_delete(w, argv[i], strlen(argv[i]), &found, &err)) {
            lede_writer_free(w);
            return fail(&err);
        }
        if (!found) {
            fprintf(stderr, "lede-index: no document with id \"%s\"\n", argv[i]);
            missing++;
        }
    }
    int rc = lede_writer_commit(w, &err);
    lede_writer_free(w);
    if (rc)
        return fail(&err);
    printf("{\"deleted\":%d,\"missing\":%d}\n", argc - 3 - missing, missing);
    return missing ? EXIT_RUNTIME : 0;
}

static int cmd_merge(int argc, char **argv)
{
    if (argc != 3)
        return usage("merge takes exactly one index directory", "");
    lede_err err;
    lede_err_clear(&err);
    lede_writer *w;
    if (lede_writer_open(argv[2], NULL, 0, &w, &err))
        return fail(&err);
    int rc = lede_writer_merge(w, &err);
    lede_writer_free(w);
    return rc ? fail(&err) : 0;
}

/* ------------------------------------------------------------ search */

static void print_hit(const lede_hit *h)
{
    fputs("{\"id\":", stdout);
    json_str(stdout, h->doc.id.ptr ? h->doc.id.ptr : "", h->doc.id.len);
    printf(",\"score\":%.9g", h->score);
    /* then the summary fields of the schema (lede/schema.h), as the server writes a hit */
#define HIT_FIELD(member, key, ord, flags) \
    if ((flags) & LEDE_SCHEMA_SUMMARY)     \
        json_field(stdout, key, h->doc.member);
    LEDE_SCHEMA_FIELDS(HIT_FIELD)
#undef HIT_FIELD
    if (h->explain) {
        const lede_explain *x = h->explain;
        printf(",\"explain\":{\"N\":%llu,\"avgdl\":%.6g,\"doc_len\":%u,\"terms\":[",
               (unsigned long long)x->N, x->avgdl, x->doc_len);
        for (uint32_t i = 0; i < x->nterms; i++) {
            const lede_explain_term *t = &x->terms[i];
            fputs(i ? ",{\"term\":" : "{\"term\":", stdout);
            json_cstr(stdout, t->term);
            printf(",\"field\":\"%s\",\"tf\":%u,\"df\":%llu,\"idf\":%.9g,\"score\":%.9g}", t->field,
                   t->tf, (unsigned long long)t->df, t->idf, t->score);
        }
        fputs("]}", stdout);
    }
    fputs("}\n", stdout);
}

static int run_queries(lede_index *ix, const char *path, lede_search_opts *so)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) {
        fprintf(stderr, "lede-index: %s: %s\n", path, strerror(errno));
        return EXIT_RUNTIME;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    so->ids_only = 1;
    while ((n = getline(&line, &cap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        char *text = line, *tab = strchr(line, '\t');
        if (tab) {
            *tab = '\0';
            text = tab + 1;
        }
        so->query = text;
        lede_err err;
        lede_err_clear(&err);
        lede_results *res = NULL;
        double t0 = now_s();
        int rc = lede_search(ix, so, &res, &err);
        double us = (now_s() - t0) * 1e6;
        fputs("{\"query\":", stdout);
        json_cstr(stdout, tab ? line : text);
        fputs(",\"ids\":[", stdout);
        for (uint32_t i = 0; !rc && i < res->nhits; i++) {
            if (i)
                putchar(',');
            json_str(stdout, res->hits[i].doc.id.ptr, res->hits[i].doc.id.len);
        }
        printf("],\"us\":%.1f", us);
        if (rc) {
            fputs(",\"error\":", stdout);
            json_cstr(stdout, err.msg);
            if (err.at >= 0)
                printf(",\"at\":%ld", err.at);
        }
        fputs("}\n", stdout);
        lede_results_free(res);
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return 0;
}

static int cmd_search(int argc, char **argv)
{
    if (argc < 4)
        return usage("search needs an index directory and a query (or --queries FILE)", "");
    lede_search_opts so = {0};
    const char *queries = NULL, *query = NULL;
    int options_done = 0;
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i];
        unsigned long v;
        if (options_done || (a[0] == '-' && a[1] != '-' && strcmp(a, "-k") != 0)) {
            /* "-football" is a query (an excluded word), not an option. */
            if (query)
                return usage("more than one query given: '%s' (quote the query)", a);
            query = a;
        } else if (!strcmp(a, "--")) {
            options_done = 1;
        } else if (!strcmp(a, "-k") && i + 1 < argc) {
            if (parse_uint(argv[++i], 100000, &v) || v == 0)
                return usage("-k takes a number from 1 to 100000, not '%s'", argv[i]);
            so.k = (uint32_t)v;
        } else if (!strcmp(a, "--offset") && i + 1 < argc) {
            if (parse_uint(argv[++i], 100000, &v))
                return usage("--offset takes a number from 0 to 100000, not '%s'", argv[i]);
            so.offset = (uint32_t)v;
        } else if (!strcmp(a, "--k1") && i + 1 < argc) {
            if (parse_double(argv[++i], &so.k1) || so.k1 <= 0)
                return usage("--k1 takes a positive number, not '%s'", argv[i]);
        } else if (!strcmp(a, "--b") && i + 1 < argc) {
            if (parse_double(argv[++i], &so.b) || so.b < 0 || so.b > 1)
                return usage("--b takes a number from 0 to 1, not '%s'", argv[i]);
            so.b_set = 1;
        } else if (!strcmp(a, "--explain")) {
            so.explain = 1;
        } else if (!strcmp(a, "--exhaustive")) {
            so.exhaustive = 1;
        } else if (!strcmp(a, "--plain")) {
            so.plain = 1;
        } else if (!strcmp(a, "--queries") && i + 1 < argc) {
            queries = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            return usage("unknown option '%s'", a);
        } else if (!query) {
            query = a;
        } else {
            return usage("more than one query given: '%s' (quote the query)", a);
        }
    }
    if (!queries == !query)
        return usage("search takes either one QUERY or --queries FILE", "");
    lede_err err;
    lede_err_clear(&err);
    lede_index *ix;
    if (lede_index_open(argv[2], &ix, &err))
        return fail(&err);
    int rc = 0;
    if (queries) {
        rc = run_queries(ix, queries, &so);
    } else {
        so.query = query;
        lede_results *res;
        if (lede_search(ix, &so, &res, &err)) {
            if (err.rc == LEDE_ESYNTAX && err.at >= 0 && (size_t)err.at <= strlen(query))
                fprintf(stderr, "lede-index: query syntax error at byte %ld (at \"%.40s\"): %s\n",
                        err.at, query + err.at, err.msg);
            else
                fail(&err);
            rc = err.rc == LEDE_ESYNTAX || err.rc == LEDE_ELIMIT ? EXIT_USAGE : EXIT_RUNTIME;
        } else {
            for (uint32_t i = 0; i < res->nhits; i++)
                print_hit(&res->hits[i]);
            lede_results_free(res);
        }
    }
    lede_index_free(ix);
    return rc;
}

/* ------------------------------------------------------------ stats, check, analyze */

static int cmd_stats(int argc, char **argv)
{
    if (argc != 3)
        return usage("stats takes exactly one index directory", "");
    lede_err err;
    lede_err_clear(&err);
    lede_index *ix;
    if (lede_index_open(argv[2], &ix, &err))
        return fail(&err);
    lede_index_stats s;
    lede_index_stats_get(ix, &s, &err);
    printf("{\"documents\":%llu,\"deleted\":%llu,\"terms\":%llu,\"segments\":%llu,\"avgdl\":%.3f,"
           "\"bytes\":{\"postings\":%llu,\"positions\":%llu,\"dictionary\":%llu,\"stored\":%llu,"
           "\"other\":%llu}}\n",
           (unsigned long long)s.documents, (unsigned long long)s.deleted,
           (unsigned long long)s.terms, (unsigned long long)s.segments, s.avgdl,
           (unsigned long long)s.bytes_postings, (unsigned long long)s.bytes_positions,
           (unsigned long long)s.bytes_dictionary, (unsigned long long)s.bytes_stored,
           (unsigned long long)s.bytes_other);
    lede_index_free(ix);
    return 0;
}

static void report_line(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "lede-index: check: %s\n", line);
}

static int cmd_check(int argc, char **argv)
{
    if (argc != 3)
        return usage("check takes exactly one index directory", "");
    lede_err err;
    lede_err_clear(&err);
    int rc = lede_index_check(argv[2], report_line, NULL, &err);
    if (rc) {
        fprintf(stderr, "lede-index: check failed: %s\n", err.msg);
        printf("{\"ok\":false}\n");
        return EXIT_RUNTIME;
    }
    printf("{\"ok\":true}\n");
    return 0;
}

typedef struct analyze_ctx {
    int first;
} analyze_ctx;

static int print_token(void *ctx, const lede_token *t)
{
    analyze_ctx *a = ctx;
    fputs(a->first ? "{\"term\":" : ",{\"term\":", stdout);
    json_str(stdout, t->term, t->term_len);
    printf(",\"position\":%u,\"start\":%u,\"end\":%u}", t->pos, t->start, t->end);
    a->first = 0;
    return 0;
}

static int cmd_analyze(int argc, char **argv)
{
    if (argc != 3)
        return usage("analyze takes exactly one TEXT argument (quote it)", "");
    lede_err err;
    lede_err_clear(&err);
    lede_analyzer *an;
    lede_analyzer_opts ao = {0};
    if (lede_analyzer_new(&ao, &an, &err))
        return fail(&err);
    analyze_ctx a = {1};
    fputs("[", stdout);
    int rc = lede_analyze(an, argv[2], strlen(argv[2]), 0, print_token, &a, NULL);
    fputs("]\n", stdout);
    lede_analyzer_free(an);
    return rc < 0 ? EXIT_RUNTIME : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage("no command given", "");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("lede-index %s\n", LEDE_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "build"))
        return cmd_build(argc, argv, 1);
    if (!strcmp(cmd, "add"))
        return cmd_build(argc, argv, 0);
    if (!strcmp(cmd, "delete"))
        return cmd_delete(argc, argv);
    if (!strcmp(cmd, "merge"))
        return cmd_merge(argc, argv);
    if (!strcmp(cmd, "search"))
        return cmd_search(argc, argv);
    if (!strcmp(cmd, "stats"))
        return cmd_stats(argc, argv);
    if (!strcmp(cmd, "check"))
        return cmd_check(argc, argv);
    if (!strcmp(cmd, "analyze"))
        return cmd_analyze(argc, argv);
    return usage("unknown command '%s'", cmd);
}
