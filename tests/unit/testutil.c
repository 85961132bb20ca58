/* testutil.c: scratch directories, paths, document copies and CRC-32C for
 * the test programs (testutil.h). */
#define _XOPEN_SOURCE 700
#include "testutil.h"
#include "lede/ingest.h"
#include "lede/index.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void test_rmtree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *test_tmpdir(const char *tag)
{
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/lede-test-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    char *d = mkdtemp(tmpl);
    if (!d) {
        perror("mkdtemp");
        exit(1);
    }
    return strdup(d);
}

char *test_path(const char *root, const char *name)
{
    size_t n = strlen(root) + strlen(name) + 2;
    char *p = malloc(n);
    if (!p) {
        perror("malloc");
        exit(1);
    }
    snprintf(p, n, "%s/%s", root, name);
    return p;
}

typedef struct feed {
    lede_writer *w;
    uint64_t n, limit;
    int rc;
    lede_err err;
} feed;

static int feed_doc(void *ctx, const lede_doc *doc)
{
    feed *f = ctx;
    if ((f->rc = lede_writer_add(f->w, doc, &f->err)))
        return f->rc;
    f->n++;
    return f->limit && f->n >= f->limit ? 1 : 0;
}

lede_index *test_build_index(const char *dir, const char *path, uint64_t limit)
{
    feed f = {0};
    f.limit = limit;
    if (lede_writer_open(dir, NULL, 1, &f.w, &f.err)) {
        fprintf(stderr, "writer_open %s: %s\n", dir, f.err.msg);
        return NULL;
    }
    lede_err err = {0};
    int rc = lede_ingest_paths(&path, 1, NULL, feed_doc, &f, NULL, &err);
    /* 1: the callback stopped at the limit. */
    int ok = f.rc == 0 && (rc == 0 || (limit && rc == 1 && f.n == limit));
    if (!ok)
        fprintf(stderr, "ingest %s: %s %s\n", path, err.msg, f.err.msg);
    else if (lede_writer_commit(f.w, &f.err)) {
        fprintf(stderr, "commit %s: %s\n", dir, f.err.msg);
        ok = 0;
    }
    lede_writer_free(f.w);
    if (!ok)
        return NULL;
    lede_index *ix;
    lede_err_clear(&err);
    if (lede_index_open(dir, &ix, &err)) {
        fprintf(stderr, "index_open %s: %s\n", dir, err.msg);
        return NULL;
    }
    return ix;
}

static lede_str str_copy(lede_str s)
{
    lede_str out = {NULL, 0};
    if (!s.ptr)
        return out;
    char *p = malloc(s.len + 1);
    if (!p) {
        perror("malloc");
        exit(1);
    }
    memcpy(p, s.ptr, s.len);
    p[s.len] = '\0';
    out.ptr = p;
    out.len = s.len;
    return out;
}

void test_doc_copy(lede_doc *out, const lede_doc *doc)
{
    out->id = str_copy(doc->id);
    out->title = str_copy(doc->title);
    out->body = str_copy(doc->body);
    out->source = str_copy(doc->source);
    out->date = str_copy(doc->date);
    out->url = str_copy(doc->url);
}

void test_doc_free(lede_doc *doc)
{
    free((void *)doc->id.ptr);
    free((void *)doc->title.ptr);
    free((void *)doc->body.ptr);
    free((void *)doc->source.ptr);
    free((void *)doc->date.ptr);
    free((void *)doc->url.ptr);
    memset(doc, 0, sizeof *doc);
}

uint32_t test_crc32c(const void *data, size_t n)
{
    static uint32_t table[256];
    static int ready;
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    const uint8_t *p = data;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}
