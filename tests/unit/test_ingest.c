/* test_ingest.c: unit tests of index/write/ingest.c: lede_ingest_paths over the
 * seed articles as JSON Lines, as zstd (compressed here) and as a folder of
 * text files, and over files made in a temporary directory for the edge
 * cases: bad lines (stop or skip), id-less records, blank lines and CRLF,
 * a multi-megabyte line, truncated and corrupt zstd, missing paths, text
 * folders, progress and early stop by the callback. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "lede/ingest.h"
#include "tap.h"

/* ------------------------------------------------------------ collecting docs */

typedef struct owned_str {
    char *ptr;   /* NUL-terminated copy; NULL if absent */
    size_t len;
} owned_str;

typedef struct owned_doc {
    owned_str id, title, body, source, date, url;
} owned_doc;

typedef struct collector {
    owned_doc *docs;
    size_t n, cap;
    size_t stop_after;   /* non-zero: return stop_rc after this many docs */
    int stop_rc;
} collector;

static owned_str own(lede_str s)
{
    owned_str o = {NULL, s.len};
    if (s.ptr) {
        o.ptr = malloc(s.len + 1);
        memcpy(o.ptr, s.ptr, s.len);
        o.ptr[s.len] = '\0';
    }
    return o;
}

static int collect(void *ctx, const lede_doc *doc)
{
    collector *c = ctx;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        c->docs = realloc(c->docs, c->cap * sizeof *c->docs);
    }
    c->docs[c->n++] = (owned_doc){own(doc->id), own(doc->title), own(doc->body),
                                  own(doc->source), own(doc->date), own(doc->url)};
    if (c->stop_after && c->n == c->stop_after)
        return c->stop_rc;
    return 0;
}

static void collector_reset(collector *c)
{
    for (size_t i = 0; i < c->n; i++) {
        owned_doc *d = &c->docs[i];
        free(d->id.ptr);
        free(d->title.ptr);
        free(d->body.ptr);
        free(d->source.ptr);
        free(d->date.ptr);
        free(d->url.ptr);
    }
    free(c->docs);
    memset(c, 0, sizeof *c);
}

static bool owned_is(owned_str s, const char *want)
{
    if (!want)
        return s.ptr == NULL;
    return s.ptr && s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

static bool owned_eq(owned_str a, owned_str b)
{
    if (!a.ptr || !b.ptr)
        return a.ptr == b.ptr;
    return a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0;
}

typedef struct bad_log {
    int count;
    char last[600];
} bad_log;

static void log_bad(void *ctx, const char *message)
{
    bad_log *log = ctx;
    log->count++;
    snprintf(log->last, sizeof log->last, "%s", message);
}

/* Runs lede_ingest_paths on one path with fresh stats; returns the rc. */
static int ingest_one(const char *path, const lede_ingest_opts *opts, collector *c,
                      lede_ingest_stats *stats, lede_err *err)
{
    const char *paths[] = {path};
    memset(stats, 0, sizeof *stats);
    lede_err_clear(err);
    return lede_ingest_paths(paths, 1, opts, collect, c, stats, err);
}

/* ------------------------------------------------------------ temp files */

static char tmpdir[64];

static char *tmp_path(const char *name)
{
    static char path[4][256];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
    return p;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK_MSG(f != NULL, path);
    if (!f)
        return;
    CHECK(fwrite(data, 1, len, f) == len);
    fclose(f);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    CHECK_MSG(f != NULL, path);
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)n + 1);
    *len = fread(data, 1, (size_t)n, f);
    fclose(f);
    return data;
}

/* Compresses data into one zstd frame; *out_len is its size. */
static char *zstd_frame(const void *data, size_t len, size_t *out_len)
{
    size_t cap = ZSTD_compressBound(len);
    char *out = malloc(cap);
    size_t n = ZSTD_compress(out, cap, data, len, 3);
    CHECK(!ZSTD_isError(n));
    *out_len = ZSTD_isError(n) ? 0 : n;
    return out;
}

static void remove_tree(const char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

/* ------------------------------------------------------------ the seeds */

static const char *const seed_ids[5] = {
    "000_136d13ec05cde2c5", "001_323ec14388e56bcd", "002_474febd79aaf13be",
    "003_3d7c43c390a1a416", "004_9275b583300badea",
};

static void check_seed_docs(const collector *c, const char *what)
{
    CHECK_MSG(c->n == 5, what);
    if (c->n != 5)
        return;
    for (int i = 0; i < 5; i++)
        CHECK_MSG(owned_is(c->docs[i].id, seed_ids[i]), what);
    CHECK_MSG(owned_is(c->docs[0].source, "ITV News"), what);
    CHECK_MSG(owned_is(c->docs[0].date, NULL), what);
    CHECK_MSG(owned_is(c->docs[0].url, NULL), what);
    CHECK_MSG(owned_is(c->docs[2].date, "2017-06-13"), what);
    CHECK_MSG(owned_is(c->docs[2].source, "The Inquirer"), what);
    CHECK_MSG(owned_is(c->docs[0].title, "May and Macron target social media under plans to fine "
                                         "firms for not removing extremist content"),
              what);
    CHECK_MSG(c->docs[0].body.len > 2000 &&
                  strncmp(c->docs[0].body.ptr, "Facebook, Twitter, and other social media", 41) == 0,
              what);
}

static void test_seeds_jsonl(void)
{
    collector c = {0};
    lede_ingest_stats st;
    lede_err err;
    CHECK_EQ_INT(ingest_one("data/seeds.jsonl", NULL, &c, &st, &err), LEDE_OK);
    CHECK_EQ_STR(err.msg, "");
    check_seed_docs(&c, "seeds.jsonl");
    CHECK_EQ_INT(st.docs, 5);
    CHECK_EQ_INT(st.bad, 0);
    struct stat sb;
    CHECK(stat("data/seeds.jsonl", &sb) == 0);
    CHECK_EQ_INT(st.bytes_in, sb.st_size);
    collector_reset(&c);
}

/* The text folder holds the same five articles as seeds.jsonl. */
static void test_seeds_txt(void)
{
    collector json = {0}, txt = {0};
    lede_ingest_stats st;
    lede_err err;
    CHECK_EQ_INT(ingest_one("data/seeds.jsonl", NULL, &json, &st, &err), LEDE_OK);
    CHECK_EQ_INT(ingest_one("data/seeds_txt", NULL, &txt, &st, &err), LEDE_OK);
    CHECK_EQ_STR(err.msg, "");
    CHECK_EQ_INT(txt.n, 5);
    CHECK_EQ_INT(st.docs, 5);
    for (size_t i = 0; i < txt.n && i < json.n; i++) {
        char what[64];
        snprintf(what, sizeof what, "seed article %zu", i);
        CHECK_MSG(owned_eq(txt.docs[i].id, json.docs[i].id), what);
        CHECK_MSG(owned_eq(txt.docs[i].title, json.docs[i].title), what);
        CHECK_MSG(owned_eq(txt.docs[i].body, json.docs[i].body), what);
        CHECK_MSG(txt.docs[i].source.ptr == NULL && txt.docs[i].date.ptr == NULL &&
                      txt.docs[i].url.ptr == NULL,
                  what);
    }
    /* 002's first line starts with a space; the title is trimmed */
    if (txt.n == 5)
        CHECK(owned_is(txt.docs[2].title, "date 2017-06-13 Social media companies can't be 'safe "
                                          "spaces' for terrorists anymore, according to Theresa May"));
    collector_reset(&json);
    collector_reset(&txt);
}

/* Paths are read in order, and stats accumulate over calls. */
static void test_several_paths(void)
{
    collector c = {0};
    lede_ingest_stats st = {0};
    lede_err err;
    lede_err_clear(&err);
    const char *paths[] = {"data/seeds_txt", "data/seeds.jsonl"};
    CHECK_EQ_INT(lede_ingest_paths(paths, 2, NULL, collect, &c, &st, &err), LEDE_OK);
    CHECK_EQ_INT(c.n, 10);
    CHECK_EQ_INT(st.docs, 10);
    if (c.n == 10)
        CHECK(owned_is(c.docs[5].id, seed_ids[0]) && c.docs[5].source.ptr != NULL &&
              c.docs[0].source.ptr == NULL);
    CHECK_EQ_INT(lede_ingest_paths(paths + 1, 1, NULL, collect, &c, &st, &err), LEDE_OK);
    CHECK_EQ_INT(st.docs, 15);
    CHECK_EQ_INT(lede_ingest_paths(NULL, 0, NULL, collect, &c, &st, &err), LEDE_OK);
    CHECK_EQ_INT(st.docs, 15);
    CHECK_EQ_INT(lede_ingest_paths(paths, 1, NULL, NULL, &c, &st, &err), LEDE_EINVAL);
    collector_reset(&c);
}

/* ------------------------------------------------------------ zstd */

static void test_zstd(void)
{
    size_t len, zlen;
    char *plain = read_file("data/seeds.jsonl", &len);
    if (!plain)
        return;
    char *frame = zstd_frame(plain, len, &zlen);
    collector c = {0};
    lede_ingest_stats st;
    lede_err err;

    const char *path = tmp_path("seeds.jsonl.zst");
    write_file(path, frame, zlen);
    CHECK_EQ_INT(ingest_one(path, NULL, &c, &st, &err), LEDE_OK);
    CHECK_EQ_STR(err.msg, "");
    check_seed_docs(&c, "seeds.jsonl.zst");
    CHECK_EQ_INT(st.bytes_in, len);
    collector_reset(&c);

    /* concatenated frames are one stream */
    char *two = malloc(zlen * 2);
    memcpy(two, frame, zlen);
    memcpy(two + zlen, frame, zlen);
    path = tmp_path("twice.zst");
    write_file(path, two, zlen * 2);
    CHECK_EQ_INT(ingest_one(path, NULL, &c, &st, &err), LEDE_OK);
    CHECK_EQ_INT(c.n, 10);
    collector_reset(&c);

    /* frames may split a line anywhere */
    size_t cut = len / 3;
    size_t z1, z2;
    char *f1 = zstd_frame(plain, cut, &z1), *f2 = zstd_frame(plain + cut, len - cut, &z2);
    char *split = malloc(z1 + z2);
    memcpy(split, f1, z1);
    memcpy(split + z1, f2, z2);
    path = tmp_path("split.jsonl.zst");
    write_file(path, split, z1 + z2);
    CHECK_EQ_INT(ingest_one(path, NULL, &c, &st, &err), LEDE_OK);
    check_seed_docs(&c, "split frames");
    collector_reset(&c);

    /* truncated: the data ends inside a frame */
    path = tmp_path("truncated.jsonl.zst");
    write_file(path, frame, zlen - 7);
    CHECK_EQ_INT(ingest_one(path, NULL, &c, &st, &err), LEDE_EFORMAT);
    char want[400];
    snprintf(want, sizeof want, "%s: truncated zstd data (the file ends inside a frame)", path);
    CHECK_EQ_STR(err.msg, want);
    collector_reset(&c);

    /* truncated after the first frame of two: still an error */
    path = tmp_path("truncated2.zst");
    write_file(path, two, zlen + 10);
    CHECK_EQ_INT(ingest_one(path, NULL, &c, &st, &err), LEDE_EFORMAT);
    CHECK(strstr(err.msg, "truncated zstd data") != NULL);
    collector_reset(&c);

    /* corrupt: a flipped byte in the middle of the compressed data */
    char *corrupt = malloc(zlen);
    memcpy(corrupt, frame, zlen);
    for (size_t i = zlen / 2; i < zlen / 2 + 16 && i < zlen; i++)
        corrupt[i] ^= 0x5A;
    path = tmp_path("corrupt.jsonl.zst");
    write_file(path, corrupt, zlen);
    int rc = ingest_one(path, NULL, &c, &st, &err);
    CHECK(rc == LEDE_EFORMAT || rc == LEDE_OK);   /* zstd may not notice; it checks its checksum */
    if (rc != LEDE_OK)
        CHECK_MSG(strncmp(err.msg, path, strlen(path)) == 0, err.msg);
    collector_reset(&c);

    /* not zstd at all */
    path = tmp_path("plain.zst");
    write_file(path, plain, len);
    CHECK_EQ_INT(ingest_one(path, NULL, &c, &st, &err), LEDE_EFORMAT);
    snprintf(want, sizeof want, "%s: zstd: ", path);
    CHECK_MSG(strncmp(err.msg, want, strlen(want)) == 0, err.msg);
    CHECK_EQ_INT(c.n, 0);
    collector_reset(&c);

    /* an empty file holds no frame and no documents */
    path = tmp_path("empty.jsonl.zst");
    write_file(path, "", 0);
    CHECK_EQ_INT(ingest_one(path, NULL, &c, &st, &err), LEDE_OK);
    CHECK_EQ_INT(c.n, 0);
    collector_reset(&c);

    free(plain);
    free(frame);
    free(two);
    free(f1);
    free(f2);
    free(split);
    free(corrupt);
}

/* ------------------------------------------------------------ JSON Lines edge cases */

static void test_bad_line(void)
{
    const char *text = "{\"id\":\"a\"}\n"
                       "{\"id\":\"b\"}\n"
                       "{\"id\":\"c\" \"title\":\"x\"}\n"
                       "{\"id\":\"d\"}\n";
    const char *path = tmp_path("bad.jsonl");
    write_file(path, text, strlen(text));
    collector c = {0};
    lede_ingest_stats st;
    lede_err err;
    char want[400];
    snprintf(want, sizeof want, "%s:3: column 11: expected ',' or '}' after object member", path);

    /* default: stop at the bad line, after the good ones before it */
    CHECK_EQ_INT(ingest_one(path, NULL, &c, &st, &err), LEDE_EFORMAT);
    CHECK_EQ_STR(err.msg, want);
    CHECK_EQ_INT(c.n, 2);
    CHECK_EQ_INT(st.docs, 2);
    collector_reset(&c);

    /* skip_bad: count, report, go on */
    bad_log log = {0};
    lede_ingest_opts opts = {.skip_bad = 1, .on_bad = log_bad, .bad_ctx = &log};
    CHECK_EQ_INT(ingest_one(path, &opts, &c, &st, &err), LEDE_OK);
    CHECK_EQ_STR(err.msg, "");
    CHECK_EQ_INT(c.n, 3);
    CHECK_EQ_INT(st.docs, 3);
    CHECK_EQ_INT(st.bad, 1);
    CHECK_EQ_INT(log.count, 1);
    CHECK_EQ_STR(log.last, want);
    if (c.n == 3)
        CHECK(owned_is(c.docs[2].id, "d"));
    collector_reset(&c);

    /* skip_bad without on_bad */
    opts.on_bad = NULL;
    CHECK_EQ_INT(ingest_one(path, &opts, &c, &st, &err), LEDE_OK);
    CHECK_EQ_INT(st.bad, 1);
    collector_reset(&c);

    /* a bad date and invalid UTF-8 are bad lines too */
    const char *more = "{\"id\":\"a\",\"date\":\"2017-02-30\"}\n{\"id\":\"\xC3(\"}\n{\"id\":\"ok\"}\n";
    path = tmp_path("bad2.jsonl");
    write_file(path, more, strlen(more));
    opts.on_bad = log_bad;
    log.count = 0;
    CHECK_EQ_INT(ingest_one(path, &opts, &c, &st, &err), LEDE_OK);
    CHECK_EQ_INT(st.bad, 2);
    CHECK_EQ_INT(c.n, 1);
    snprintf(want, sizeof want, "%s:2: column 8: invalid UTF-8 in string", path);
    CHECK_EQ_STR(log.last, want);
    collector_reset(&c);
    CHECK_EQ_INT(ingest_one(path, NULL, &c, &st, &err), LEDE_EFORMAT);
    snprintf(want, sizeof want, "%s:1: column 18: date: expected YYYY-MM-DD", path);
    CHECK_EQ_STR(err.msg, want);
    collector_reset(&c);
}

/* Blank lines count for line numbers but are skipped; CRLF, a missing
 * final newline and a byte order mark are all fine. Records without id are
 * named after the file and line. */
static void test_blank_lines_crlf_and_names(void)
{
    const char *text = "\xEF\xBB\xBF\r\n"
                       "\n"
                       "  \t \r\n"
                       "{\"title\":\"no id\"}\r\n"
                       "{\"id\":null,\"title\":\"null id\"}\r\n"
                       "\r\n"
                       "{\"id\":\"x\",\"body\":\"line one\\r\\nline two\"}\r\n"
                       "{\"id\":\"\",\"title\":\"empty id\"}\n"
                       "{\"id\":7}";
    const char *path = tmp_path("mixed.ndjson");
    write_file(path, text, strlen(text));
    collector c = {0};
    lede_ingest_stats st;
    lede_err err;
    CHECK_EQ_INT(ingest_one(path, NULL, &c, &st, &err), LEDE_OK);
    CHECK_EQ_STR(err.msg, "");
    CHECK_EQ_INT(c.n, 5);
    CHECK_EQ_INT(st.bad, 0);
    if (c.n == 5) {
        CHECK(owned_is(c.docs[0].id, "mixed.ndjson#4"));
        CHECK(owned_is(c.docs[0].title, "no id"));
        CHECK(owned_is(c.docs[1].id, "mixed.ndjson#5"));
        CHECK(owned_is(c.docs[2].id, "x"));
        CHECK(owned_is(c.docs[2].body, "line one\r\nline two"));
        CHECK(owned_is(c.docs[3].id, "mixed.ndjson#8"));
        CHECK(owned_is(c.docs[4].id, "7"));
    }
    CHECK_EQ_INT(st.bytes_in, strlen(text));
    collector_reset(&c);

    /* a file of nothing but blank lines, and an empty file */
    path = tmp_path("blank.json");
    write_file(path, "\n\n \r\n", 4);
    CHECK_EQ_INT(ingest_one(path, NULL, &c, &st, &err), LEDE_OK);
    CHECK_EQ_INT(c.n, 0);
    path = tmp_path("empty.jsonl");
    write_file(path, "", 0);
    CHECK_EQ_INT(ingest_one(path, NULL, &c, &st, &err), LEDE_OK);
    CHECK_EQ_INT(c.n, 0);
    collector_reset(&c);
}

/* A line far longer than any read buffer, plain and compressed. */
static void test_huge_line(void)
{
    size_t body_len = 5u * 1024 * 1024 + 3;
    size_t cap = body_len + 256;
    char *text = malloc(cap);
    size_t len = (size_t)sprintf(text, "{\"id\":\"small\"}\n{\"id\":\"huge\",\"body\":\"");
    for (size_t i = 0; i < body_len; i++)
        text[len++] = (char)('a' + i % 26);
    len += (size_t)sprintf(text + len, "\\n\"}\n{\"id\":\"after\"}\n");

    const char *path = tmp_path("huge.jsonl");
    write_file(path, text, len);
    collector c = {0};
    lede_ingest_stats st;
    lede_err err;
    CHECK_EQ_INT(ingest_one(path, NULL, &c, &st, &err), LEDE_OK);
    CHECK_EQ_INT(c.n, 3);
    if (c.n == 3) {
        CHECK(owned_is(c.docs[1].id, "huge"));
        CHECK_EQ_INT(c.docs[1].body.len, body_len + 1);
        CHECK(c.docs[1].body.ptr[0] == 'a' && c.docs[1].body.ptr[body_len - 1] ==
                                                  (char)('a' + (body_len - 1) % 26));
        CHECK(c.docs[1].body.ptr[body_len] == '\n');
        CHECK(owned_is(c.docs[2].id, "after"));
    }
    collector_reset(&c);

    size_t zlen;
    char *frame = zstd_frame(text, len, &zlen);
    path = tmp_path("huge.jsonl.zst");
    write_file(path, frame, zlen);
    CHECK_EQ_INT(ingest_one(path, NULL, &c, &st, &err), LEDE_OK);
    CHECK_EQ_INT(c.n, 3);
    if (c.n == 3)
        CHECK_EQ_INT(c.docs[1].body.len, body_len + 1);
    CHECK_EQ_INT(st.bytes_in, len);
    collector_reset(&c);
    free(frame);
    free(text);
}

/* ------------------------------------------------------------ paths and callbacks */

static void test_missing_path(void)
{
    collector c = {0};
    lede_ingest_stats st;
    lede_err err;
    CHECK_EQ_INT(ingest_one("data/no-such-file.jsonl", NULL, &c, &st, &err), LEDE_EIO);
    CHECK_EQ_STR(err.msg, "data/no-such-file.jsonl: No such file or directory");

    /* every path is checked before any is read */
    const char *paths[] = {"data/seeds.jsonl", "data/missing.jsonl.zst"};
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_ingest_paths(paths, 2, NULL, collect, &c, &st, &err), LEDE_EIO);
    CHECK_EQ_STR(err.msg, "data/missing.jsonl.zst: No such file or directory");
    CHECK_EQ_INT(c.n, 0);
    collector_reset(&c);
}

static void test_callback_stops(void)
{
    collector c = {.stop_after = 2, .stop_rc = 42};
    lede_ingest_stats st;
    lede_err err;
    CHECK_EQ_INT(ingest_one("data/seeds.jsonl", NULL, &c, &st, &err), 42);
    CHECK_EQ_INT(c.n, 2);
    CHECK_EQ_INT(st.docs, 2);
    CHECK_EQ_STR(err.msg, "");
    collector_reset(&c);

    c = (collector){.stop_after = 1, .stop_rc = LEDE_ELIMIT};
    CHECK_EQ_INT(ingest_one("data/seeds_txt", NULL, &c, &st, &err), LEDE_ELIMIT);
    CHECK_EQ_INT(c.n, 1);
    collector_reset(&c);
}

typedef struct progress_log {
    int calls;
    uint64_t last_done, last_total, last_docs;
    bool monotonic;
} progress_log;

static void log_progress(void *ctx, uint64_t done, uint64_t total, uint64_t docs)
{
    progress_log *p = ctx;
    if (done < p->last_done || docs < p->last_docs || done > total)
        p->monotonic = false;
    p->calls++;
    p->last_done = done;
    p->last_total = total;
    p->last_docs = docs;
}

static void test_progress(void)
{
    /* about 3 MB of small records, so progress is reported many times */
    size_t n = 30000, cap = n * 120;
    char *text = malloc(cap);
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len,
                                "{\"id\":\"doc%zu\",\"title\":\"title %zu\",\"body\":\"body of "
                                "document number %zu, some words\"}\n",
                                i, i, i);
    const char *path = tmp_path("many.jsonl");
    write_file(path, text, len);
    size_t zlen;
    char *frame = zstd_frame(text, len, &zlen);
    const char *zpath = tmp_path("many.jsonl.zst");
    write_file(zpath, frame, zlen);

    progress_log log = {.monotonic = true};
    lede_ingest_opts opts = {.progress = log_progress, .progress_ctx = &log};
    collector c = {0};
    lede_ingest_stats st = {0};
    lede_err err;
    lede_err_clear(&err);
    const char *paths[] = {path, zpath, "data/seeds_txt"};
    struct stat sb;
    uint64_t total = 0;
    for (int i = 0; i < 3; i++)
        if (i < 2 && stat(paths[i], &sb) == 0)
            total += (uint64_t)sb.st_size;
    for (int i = 0; i < 5; i++) {
        char txt[128];
        snprintf(txt, sizeof txt, "data/seeds_txt/%s.txt", seed_ids[i]);
        if (stat(txt, &sb) == 0)
            total += (uint64_t)sb.st_size;
    }
    CHECK_EQ_INT(lede_ingest_paths(paths, 3, &opts, collect, &c, &st, &err), LEDE_OK);
    CHECK_EQ_INT(st.docs, 2 * n + 5);
    CHECK(log.monotonic);
    /* at least one report per 64 KiB of the plain file, give or take */
    CHECK_MSG(log.calls >= (int)(len / (64 * 1024)), "too few progress reports");
    CHECK_MSG(log.calls <= (int)((len + zlen) / (32 * 1024)) + 20, "too many progress reports");
    CHECK_EQ_INT(log.last_done, total);
    CHECK_EQ_INT(log.last_total, total);
    CHECK_EQ_INT(log.last_docs, 2 * n + 5);
    collector_reset(&c);
    free(text);
    free(frame);
}

/* ------------------------------------------------------------ text folders */

static void test_txt_folder(void)
{
    char *dir = tmp_path("articles");
    char dirpath[256];
    snprintf(dirpath, sizeof dirpath, "%s", dir);
    CHECK(mkdir(dirpath, 0700) == 0);
    char path[300];
#define ARTICLE(name, text)                                        \
    do {                                                           \
        snprintf(path, sizeof path, "%s/%s", dirpath, name);       \
        write_file(path, text, sizeof(text) - 1);                  \
    } while (0)
    ARTICLE("b.txt", "\xEF\xBB\xBF\r\n  \r\n  Title B  \r\n\r\n \r\n  First line.\r\nSecond.\r\n\r\n");
    ARTICLE("a.txt", "Title A\nBody A\n");
    ARTICLE("c.txt", "only a title");
    ARTICLE("d.txt", "");
    ARTICLE("e.txt", "caf\xC3\xA9 \xE2\x82\xAC\n\n\nbody \xF0\x9F\x98\x80\n");
    ARTICLE(".hidden.txt", "not read\n");
    ARTICLE("notes.md", "not read\n");
    ARTICLE("TXT.TXT", "not read\n");
    snprintf(path, sizeof path, "%s/sub.txt", dirpath);
    CHECK(mkdir(path, 0700) == 0);
#undef ARTICLE

    collector c = {0};
    lede_ingest_stats st;
    lede_err err;
    CHECK_EQ_INT(ingest_one(dirpath, NULL, &c, &st, &err), LEDE_OK);
    CHECK_EQ_STR(err.msg, "");
    CHECK_EQ_INT(c.n, 5);
    if (c.n == 5) {
        CHECK(owned_is(c.docs[0].id, "a"));
        CHECK(owned_is(c.docs[0].title, "Title A"));
        CHECK(owned_is(c.docs[0].body, "Body A"));
        CHECK(owned_is(c.docs[1].id, "b"));
        CHECK(owned_is(c.docs[1].title, "Title B"));
        CHECK(owned_is(c.docs[1].body, "  First line.\r\nSecond."));
        CHECK(owned_is(c.docs[2].id, "c"));
        CHECK(owned_is(c.docs[2].title, "only a title"));
        CHECK(owned_is(c.docs[2].body, ""));
        CHECK(owned_is(c.docs[3].id, "d"));
        CHECK(owned_is(c.docs[3].title, ""));
        CHECK(owned_is(c.docs[3].body, ""));
        CHECK(owned_is(c.docs[4].title, "caf\xC3\xA9 \xE2\x82\xAC"));
        CHECK(owned_is(c.docs[4].body, "body \xF0\x9F\x98\x80"));
        CHECK(c.docs[4].source.ptr == NULL && c.docs[4].date.ptr == NULL &&
              c.docs[4].url.ptr == NULL);
    }
    collector_reset(&c);

    /* a trailing slash on the folder is fine */
    char slashed[300];
    snprintf(slashed, sizeof slashed, "%s/", dirpath);
    CHECK_EQ_INT(ingest_one(slashed, NULL, &c, &st, &err), LEDE_OK);
    CHECK_EQ_INT(c.n, 5);
    collector_reset(&c);

    /* an article that is not UTF-8: an error naming it, or skipped */
    snprintf(path, sizeof path, "%s/c2.txt", dirpath);
    write_file(path, "Latin-1 title\ncaf\xE9\n", 19);
    CHECK_EQ_INT(ingest_one(dirpath, NULL, &c, &st, &err), LEDE_EFORMAT);
    char want[400];
    snprintf(want, sizeof want, "%s: not valid UTF-8 (byte 18)", path);
    CHECK_EQ_STR(err.msg, want);
    CHECK_EQ_INT(c.n, 3);   /* a, b, c came before c2 */
    collector_reset(&c);

    bad_log log = {0};
    lede_ingest_opts opts = {.skip_bad = 1, .on_bad = log_bad, .bad_ctx = &log};
    CHECK_EQ_INT(ingest_one(dirpath, &opts, &c, &st, &err), LEDE_OK);
    CHECK_EQ_INT(c.n, 5);
    CHECK_EQ_INT(st.bad, 1);
    CHECK_EQ_INT(log.count, 1);
    CHECK_EQ_STR(log.last, want);
    collector_reset(&c);

    /* a surrogate encoded in UTF-8 is not UTF-8 either */
    write_file(path, "T\n\xED\xA0\x80", 5);
    CHECK_EQ_INT(ingest_one(dirpath, NULL, &c, &st, &err), LEDE_EFORMAT);
    snprintf(want, sizeof want, "%s: not valid UTF-8 (byte 3)", path);
    CHECK_EQ_STR(err.msg, want);
    collector_reset(&c);

    /* an empty folder gives nothing, without error */
    snprintf(path, sizeof path, "%s/sub.txt", dirpath);
    CHECK_EQ_INT(ingest_one(path, NULL, &c, &st, &err), LEDE_OK);
    CHECK_EQ_INT(c.n, 0);
    collector_reset(&c);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lede-test-ingest-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_seeds_jsonl();
    test_seeds_txt();
    test_several_paths();
    test_zstd();
    test_bad_line();
    test_blank_lines_crlf_and_names();
    test_huge_line();
    test_missing_path();
    test_callback_stops();
    test_progress();
    test_txt_folder();
    remove_tree(tmpdir);
    return tap_done();
}
