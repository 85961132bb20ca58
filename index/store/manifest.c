/* manifest.c: the MANIFEST file that names an index's live segments, its
 * deletion bitmaps, and the analyzer settings the index was built with; and
 * the atomic publish (write MANIFEST.tmp, fsync, rename, fsync directory),
 * so a reader sees the old manifest or the new one, never half of one.
 *
 * MANIFEST is text, one item a line:
 *   lede-manifest 1
 *   generation G
 *   next-segment S
 *   analyzer stem=0|1 stopwords=0|1
 *   segment NAME NDOCS DELFILE|-        (one line per live segment, in order)
 *   crc32c XXXXXXXX                     (of every byte before this line)
 * Deletion file: "LEDEDEL\0", u32 ndocs, the bitmap, u32 crc32c of what
 * precedes it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"

#define MANIFEST_MAX (16u << 20)

char *lede_path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

void lede_manifest_clear(lede_manifest *m)
{
    if (!m)
        return;
    free(m->segs);
    memset(m, 0, sizeof *m);
}

static int read_file(const char *path, uint8_t **out, size_t *len, size_t max, lede_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lede_err_set(err, errno == ENOENT ? LEDE_ENOTFOUND : LEDE_EIO, "%s: %s", path,
                            strerror(errno));
    struct stat st;
    if (fstat(fd, &st) || (size_t)st.st_size > max) {
        close(fd);
        return lede_err_set(err, LEDE_ECORRUPT, "%s: unreadable or too large", path);
    }
    uint8_t *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    if (got != (size_t)st.st_size) {
        free(buf);
        return lede_err_set(err, LEDE_EIO, "%s: short read", path);
    }
    buf[got] = '\0';
    *out = buf;
    *len = got;
    return 0;
}

static int valid_name(const char *s)
{
    if (!*s || strlen(s) >= 64)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' || *s == '-'))
            return 0;
    return 1;
}

int lede_manifest_read(const char *dir, lede_manifest *m, lede_err *err)
{
    memset(m, 0, sizeof *m);
    char *path = lede_path_join(dir, "MANIFEST");
    if (!path)
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    uint8_t *text;
    size_t len;
    int rc = read_file(path, &text, &len, MANIFEST_MAX, err);
    if (rc) {
        if (rc == LEDE_ENOTFOUND) {
            err->rc = 0;
            rc = lede_err_set(err, LEDE_ENOTFOUND, "%s is not a lede index (no MANIFEST)", dir);
        }
        free(path);
        return rc;
    }
    char *crc_line = strstr((char *)text, "crc32c ");
    unsigned crc = 0;
    if (!crc_line || (crc_line != (char *)text && crc_line[-1] != '\n') ||
        sscanf(crc_line, "crc32c %8x", &crc) != 1 ||
        lede_crc32c(0, text, (size_t)(crc_line - (char *)text)) != crc) {
        rc = lede_err_set(err, LEDE_ECORRUPT, "%s: checksum mismatch", path);
        goto done;
    }
    *crc_line = '\0';
    char *save = NULL;
    int line_no = 0, ok_head = 0, stem = 1, stop = 0;
    for (char *line = strtok_r((char *)text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        line_no++;
        unsigned long long a, b;
        char name[64], del[80];
        int version;
        if (line_no == 1) {
            if (sscanf(line, "lede-manifest %d", &version) != 1) {
                rc = lede_err_set(err, LEDE_ECORRUPT, "%s: not a manifest", path);
                goto done;
            }
            if (version != 1) {
                rc = lede_err_set(err, LEDE_EVERSION, "%s: manifest version %d unsupported", path, version);
                goto done;
            }
            ok_head = 1;
        } else if (sscanf(line, "generation %llu", &a) == 1) {
            m->generation = a;
        } else if (sscanf(line, "next-segment %llu", &a) == 1) {
            m->next_segment = a;
        } else if (sscanf(line, "analyzer stem=%d stopwords=%d", &stem, &stop) == 2) {
            m->no_stem = !stem;
            m->has_stopwords = stop;
        } else if (sscanf(line, "segment %63s %llu %79s", name, &b, del) == 3) {
            if (!valid_name(name) || b > UINT32_MAX || (strcmp(del, "-") && !valid_name(del))) {
                rc = lede_err_set(err, LEDE_ECORRUPT, "%s:%d: bad segment line", path, line_no);
                goto done;
            }
            lede_manifest_seg *segs = realloc(m->segs, (m->nsegs + 1) * sizeof *segs);
            if (!segs) {
                rc = lede_err_set(err, LEDE_ENOMEM, "out of memory");
                goto done;
            }
            m->segs = segs;
            lede_manifest_seg *s = &segs[m->nsegs++];
            memset(s, 0, sizeof *s);
            snprintf(s->name, sizeof s->name, "%s", name);
            s->ndocs = (uint32_t)b;
            if (strcmp(del, "-"))
                snprintf(s->del, sizeof s->del, "%s", del);
        } else {
            rc = lede_err_set(err, LEDE_ECORRUPT, "%s:%d: unexpected line", path, line_no);
            goto done;
        }
    }
    if (!ok_head)
        rc = lede_err_set(err, LEDE_ECORRUPT, "%s: empty manifest", path);
done:
    if (rc)
        lede_manifest_clear(m);
    free(text);
    free(path);
    return rc;
}

int lede_fsync_dir(const char *dir, lede_err *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd)) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return lede_err_set(err, LEDE_EIO, "%s: fsync: %s", dir, strerror(e));
    }
    close(fd);
    return 0;
}

static int write_file_sync(const char *path, const void *data, size_t len, lede_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return lede_err_set(err, LEDE_EIO, "%s: %s", path, strerror(errno));
    const uint8_t *p = data;
    size_t left = len;
    while (left) {
        ssize_t k = write(fd, p, left);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            int e = errno;
            close(fd);
            return lede_err_set(err, LEDE_EIO, "%s: %s", path, strerror(e));
        }
        p += k;
        left -= (size_t)k;
    }
    if (fsync(fd) || close(fd))
        return lede_err_set(err, LEDE_EIO, "%s: %s", path, strerror(errno));
    return 0;
}

int lede_manifest_write(const char *dir, const lede_manifest *m, lede_err *err)
{
    lede_buf b = {0};
    char line[256];
    int n = snprintf(line, sizeof line, "lede-manifest 1\ngeneration %llu\nnext-segment %llu\n"
                     "analyzer stem=%d stopwords=%d\n",
                     (unsigned long long)m->generation, (unsigned long long)m->next_segment,
                     !m->no_stem, m->has_stopwords);
    lede_buf_put(&b, line, (size_t)n);
    for (uint32_t i = 0; i < m->nsegs; i++) {
        n = snprintf(line, sizeof line, "segment %s %u %s\n", m->segs[i].name, m->segs[i].ndocs,
                     m->segs[i].del[0] ? m->segs[i].del : "-");
        lede_buf_put(&b, line, (size_t)n);
    }
    n = snprintf(line, sizeof line, "crc32c %08x\n", b.rc ? 0 : lede_crc32c(0, b.p, b.len));
    lede_buf_put(&b, line, (size_t)n);
    if (b.rc) {
        lede_buf_free(&b);
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    }
    char *tmp = lede_path_join(dir, "MANIFEST.tmp");
    char *final = lede_path_join(dir, "MANIFEST");
    int rc = 0;
    if (!tmp || !final)
        rc = lede_err_set(err, LEDE_ENOMEM, "out of memory");
    else if (!(rc = write_file_sync(tmp, b.p, b.len, err))) {
        if (rename(tmp, final))
            rc = lede_err_set(err, LEDE_EIO, "%s: rename: %s", final, strerror(errno));
        else
            rc = lede_fsync_dir(dir, err);
    }
    free(tmp);
    free(final);
    lede_buf_free(&b);
    return rc;
}

int lede_del_read(const char *dir, const char *name, uint32_t ndocs, uint8_t **bits, lede_err *err)
{
    *bits = NULL;
    char *path = lede_path_join(dir, name);
    if (!path)
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    uint8_t *data;
    size_t len;
    size_t nbytes = ((size_t)ndocs + 7) / 8;
    int rc = read_file(path, &data, &len, nbytes + 16, err);
    if (rc) {
        free(path);
        return rc;
    }
    if (len != nbytes + 16 || memcmp(data, "LEDEDEL", 8) != 0 || lede_get_u32(data + 8) != ndocs ||
        lede_crc32c(0, data, len - 4) != lede_get_u32(data + len - 4)) {
        rc = lede_err_set(err, LEDE_ECORRUPT, "%s: corrupt deletion file", path);
    } else if (!(*bits = malloc(nbytes ? nbytes : 1))) {
        rc = lede_err_set(err, LEDE_ENOMEM, "out of memory");
    } else {
        memcpy(*bits, data + 12, nbytes);
    }
    free(data);
    free(path);
    return rc;
}

int lede_del_write(const char *dir, const char *name, uint32_t ndocs, const uint8_t *bits,
                   lede_err *err)
{
    lede_buf b = {0};
    lede_buf_put(&b, "LEDEDEL", 8);
    lede_buf_put_u32(&b, ndocs);
    lede_buf_put(&b, bits, ((size_t)ndocs + 7) / 8);
    lede_buf_put_u32(&b, b.rc ? 0 : lede_crc32c(0, b.p, b.len));
    char *path = lede_path_join(dir, name);
    int rc = (b.rc || !path) ? lede_err_set(err, LEDE_ENOMEM, "out of memory")
                             : write_file_sync(path, b.p, b.len, err);
    free(path);
    lede_buf_free(&b);
    return rc;
}
