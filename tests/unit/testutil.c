/* testutil.c: scratch directories and paths for the test programs. */
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
