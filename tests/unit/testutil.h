/* testutil.h: what several test programs need besides checks: scratch
 * directories under $TMPDIR (or /tmp) and their removal, path joining,
 * owned copies of documents, and the CRC-32C and little-endian integers of
 * the index files (docs/FORMAT.md) for tests that rewrite them. */
#ifndef LEDE_TESTUTIL_H
#define LEDE_TESTUTIL_H

#include <stddef.h>
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

/* A copy of doc whose fields the caller owns (test_doc_free). Exits on
 * out of memory. */
struct lede_doc;
void test_doc_copy(struct lede_doc *out, const struct lede_doc *doc);
void test_doc_free(struct lede_doc *doc);

/* CRC-32C (Castagnoli), as liblede's lede_crc32c(0, ...). */
uint32_t test_crc32c(const void *data, size_t n);

static inline uint32_t test_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t test_get_u64(const uint8_t *p)
{
    return (uint64_t)test_get_u32(p) | (uint64_t)test_get_u32(p + 4) << 32;
}

static inline void test_put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
#endif
