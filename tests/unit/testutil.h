/* testutil.h: what several test programs need besides checks: scratch
 * directories under $TMPDIR (or /tmp) and their removal, and path joining. */
#ifndef LEDE_TESTUTIL_H
#define LEDE_TESTUTIL_H

#include <stdint.h>

/* A new directory "lede-test-<tag>-XXXXXX"; caller frees the string. Exits on failure. */
char *test_tmpdir(const char *tag);
/* Removes a directory tree (best effort). */
void test_rmtree(const char *dir);
/* root + "/" + name; caller frees. */
char *test_path(const char *root, const char *name);

/* Indexes path (JSON Lines, .jsonl.zst or a folder; up to limit documents,
 * 0 = all) into a new index in dir and opens it. NULL (with a message on
 * stderr) on any failure. */
struct lede_index;
struct lede_index *test_build_index(const char *dir, const char *path, uint64_t limit);
#endif
