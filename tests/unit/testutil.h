/* testutil.h: what several test programs need besides checks: scratch
 * directories under $TMPDIR (or /tmp) and their removal, and path joining. */
#ifndef LEDE_TESTUTIL_H
#define LEDE_TESTUTIL_H

/* A new directory "lede-test-<tag>-XXXXXX"; caller frees the string. Exits on failure. */
char *test_tmpdir(const char *tag);
/* Removes a directory tree (best effort). */
void test_rmtree(const char *dir);
/* root + "/" + name; caller frees. */
char *test_path(const char *root, const char *name);

#endif
