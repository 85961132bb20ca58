/* ingest.c: lede_ingest_paths, reading corpora into lede_doc records: JSON
 * Lines files (plain, or zstd-compressed and decoded as a stream) split into
 * lines of any length and handed to lede_jsonl_parse, and folders of plain
 * text articles. Owns the error policy for bad input (stop, or skip and
 * count), naming of id-less documents and progress reporting.
 *
 * Every path is examined before the first document is read, so a missing
 * file fails fast and the progress total is known from the start. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "write/write.h"

/* Input is read (and progress counted) in steps of this size. */
#define READ_STEP (64u * 1024)
/* The line buffer starts here and doubles for longer lines. */
#define LINE_BUF_INITIAL (1u * 1024 * 1024)
/* Room for a path and a parser message; lede_err keeps the first 511 bytes. */
#define BAD_MESSAGE_MAX 1024

typedef enum input_kind { INPUT_JSONL, INPUT_JSONL_ZST, INPUT_TXT } input_kind;

typedef struct input_file {
    char *path;          /* as given, or DIR/NAME for a text article */
    const char *name;    /* the last component of path */
    uint64_t size;       /* on disk; 0 for pipes and other streams */
    input_kind kind;
} input_file;

typedef struct ingest_run {
    const lede_ingest_opts *opts;
    lede_doc_fn fn;
    void *ctx;
    lede_err *err;
    lede_ingest_stats counts;   /* this call's, added to the caller's at the end */
    uint64_t done_bytes, total_bytes, reported_bytes;
    lede_jsonl_scratch scratch;
    char *buf;                  /* lines being split, or a whole text article */
    size_t cap;
    input_file *inputs;
    size_t ninputs, inputs_cap;
} ingest_run;

/* ------------------------------------------------------------ helpers */

static int io_error(ingest_run *run, const char *path, int errnum)
{
    return lede_err_set(run->err, LEDE_EIO, "%s: %s", path, strerror(errnum));
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static const char *last_component(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int buf_reserve(ingest_run *run, size_t need)
{
    if (run->cap >= need)
        return LEDE_OK;
    size_t cap = run->cap ? run->cap : LINE_BUF_INITIAL;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return lede_err_set(run->err, LEDE_ENOMEM, "out of memory: a line of %zu bytes", need);
        cap *= 2;
    }
    char *grown = realloc(run->buf, cap);
    if (!grown)
        return lede_err_set(run->err, LEDE_ENOMEM, "out of memory: a line of %zu bytes", need);
    run->buf = grown;
    run->cap = cap;
    return LEDE_OK;
}

static void report_progress(ingest_run *run, bool force)
{
    const lede_ingest_opts *o = run->opts;
    if (!o->progress)
        return;
    if (!force && run->done_bytes - run->reported_bytes < READ_STEP)
        return;
    run->reported_bytes = run->done_bytes;
    /* A file may have grown since it was measured; never report past 100%. */
    uint64_t total = run->total_bytes > run->done_bytes ? run->total_bytes : run->done_bytes;
    o->progress(o->progress_ctx, run->done_bytes, total, run->counts.docs);
}

/* A malformed record or article: an error, or with skip_bad counted and
 * reported. */
static int bad_input(ingest_run *run, const char *message)
{
    if (!run->opts->skip_bad)
        return lede_err_set(run->err, LEDE_EFORMAT, "%s", message);
    run->counts.bad++;
    if (run->opts->on_bad)
        run->opts->on_bad(run->opts->bad_ctx, message);
    return LEDE_OK;
}

static int deliver(ingest_run *run, const lede_doc *doc)
{
    run->counts.docs++;
    return run->fn(run->ctx, doc);
}

/* ------------------------------------------------------------ planning */

static int add_input(ingest_run *run, const char *path, size_t path_len, uint64_t size,
                     input_kind kind)
{
    if (run->ninputs == run->inputs_cap) {
        size_t cap = run->inputs_cap ? run->inputs_cap * 2 : 16;
        input_file *grown = realloc(run->inputs, cap * sizeof *grown);
        if (!grown)
            return lede_err_set(run->err, LEDE_ENOMEM, "out of memory listing inputs");
        run->inputs = grown;
        run->inputs_cap = cap;
    }
    char *copy = malloc(path_len + 1);
    if (!copy)
        return lede_err_set(run->err, LEDE_ENOMEM, "out of memory listing inputs");
    memcpy(copy, path, path_len);
    copy[path_len] = '\0';
    run->inputs[run->ninputs++] = (input_file){copy, last_component(copy), size, kind};
    run->total_bytes += size;
    return LEDE_OK;
}

static int compare_inputs_by_name(const void *a, const void *b)
{
    return strcmp(((const input_file *)a)->name, ((const input_file *)b)->name);
}

/* Adds every *.txt regular file directly in dir, sorted by name. Dot files
 * are left out, as a shell's *.txt would. */
static int plan_folder(ingest_run *run, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return io_error(run, dir, errno);
    size_t first = run->ninputs;
    size_t dir_len = strlen(dir);
    bool dir_has_slash = dir_len > 0 && dir[dir_len - 1] == '/';
    char *path = NULL;
    size_t path_cap = 0;
    int rc = LEDE_OK;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno != 0)
                rc = io_error(run, dir, errno);
            break;
        }
        const char *name = e->d_name;
        size_t name_len = strlen(name);
        if (name[0] == '.' || name_len <= 4 || !has_suffix(name, ".txt"))
            continue;
        size_t need = dir_len + 1 + name_len + 1;
        if (need > path_cap) {
            char *grown = realloc(path, need);
            if (!grown) {
                rc = lede_err_set(run->err, LEDE_ENOMEM, "out of memory listing %s", dir);
                break;
            }
            path = grown;
            path_cap = need;
        }
        int path_len = snprintf(path, path_cap, "%s%s%s", dir, dir_has_slash ? "" : "/", name);
        struct stat st;
        if (stat(path, &st) != 0) {
            rc = io_error(run, path, errno);
            break;
        }
        if (!S_ISREG(st.st_mode))
            continue;
        if ((rc = add_input(run, path, (size_t)path_len, (uint64_t)st.st_size, INPUT_TXT)) != LEDE_OK)
            break;
    }
    free(path);
    closedir(d);
    if (rc == LEDE_OK && run->ninputs - first > 1)
        qsort(run->inputs + first, run->ninputs - first, sizeof *run->inputs,
              compare_inputs_by_name);
    return rc;
}

static int plan_path(ingest_run *run, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return io_error(run, path, errno);
    if (S_ISDIR(st.st_mode))
        return plan_folder(run, path);
    input_kind kind = has_suffix(path, ".zst") ? INPUT_JSONL_ZST : INPUT_JSONL;
    uint64_t size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
    return add_input(run, path, strlen(path), size, kind);
}

/* ------------------------------------------------------------ byte sources */

/* A file read as plain bytes or through a zstd stream decoder. */
typedef struct byte_source {
    int fd;
    const char *path;
    ZSTD_DStream *zstd;          /* NULL for a plain file */
    char *zin;                   /* compressed bytes read, not yet decoded */
    size_t zin_cap;
    ZSTD_inBuffer in;
    bool eof;
    bool frame_done;             /* between frames: the data may end here */
} byte_source;

static int read_some(ingest_run *run, byte_source *src, char *dst, size_t cap, size_t *got)
{
    for (;;) {
        ssize_t n = read(src->fd, dst, cap);
        if (n >= 0) {
            *got = (size_t)n;
            run->done_bytes += (uint64_t)n;
            return LEDE_OK;
        }
        if (errno != EINTR)
            return io_error(run, src->path, errno);
    }
}

/* Fills dst with up to cap decoded bytes; *got == 0 at the end of input. */
static int source_read(ingest_run *run, byte_source *src, char *dst, size_t cap, size_t *got)
{
    if (!src->zstd)
        return read_some(run, src, dst, cap < READ_STEP ? cap : READ_STEP, got);
    for (;;) {
        if (src->in.pos == src->in.size && !src->eof) {
            size_t n = 0;
            int rc = read_some(run, src, src->zin, src->zin_cap, &n);
            if (rc != LEDE_OK)
                return rc;
            src->in = (ZSTD_inBuffer){src->zin, n, 0};
            src->eof = n == 0;
        }
        if (src->in.pos == src->in.size && src->eof && src->frame_done) {
            *got = 0;
            return LEDE_OK;
        }
        ZSTD_outBuffer out = {dst, cap, 0};
        size_t r = ZSTD_decompressStream(src->zstd, &out, &src->in);
        if (ZSTD_isError(r))
            return lede_err_set(run->err, LEDE_EFORMAT, "%s: zstd: %s", src->path,
                                ZSTD_getErrorName(r));
        src->frame_done = r == 0;
        if (out.pos > 0) {
            *got = out.pos;
            return LEDE_OK;
        }
        /* No output with all input consumed: the decoder still wants bytes
         * that will never come. */
        if (src->in.pos == src->in.size && src->eof)
            return lede_err_set(run->err, LEDE_EFORMAT,
                                "%s: truncated zstd data (the file ends inside a frame)",
                                src->path);
    }
}

/* ------------------------------------------------------------ JSON Lines */

static int handle_line(ingest_run *run, const input_file *in, uint64_t lineno, const char *line,
                       size_t len)
{
    /* Tools on Windows often start a file with a byte order mark. */
    if (lineno == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
        line += 3;
        len -= 3;
    }
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
        i++;
    if (i == len)
        return LEDE_OK;

    lede_doc doc;
    lede_err parse_err;
    lede_err_clear(&parse_err);
    int rc = lede_jsonl_parse(line, len, &run->scratch, &doc, &parse_err);
    if (rc == LEDE_EFORMAT) {
        char message[BAD_MESSAGE_MAX];
        snprintf(message, sizeof message, "%s:%llu: %s", in->path, (unsigned long long)lineno,
                 parse_err.msg);
        return bad_input(run, message);
    }
    if (rc != LEDE_OK)
        return lede_err_set(run->err, rc, "%s:%llu: %s", in->path, (unsigned long long)lineno,
                            parse_err.msg);
    char fallback_id[320];
    if (!doc.id.ptr || doc.id.len == 0) {
        int n = snprintf(fallback_id, sizeof fallback_id, "%s#%llu", in->name,
                         (unsigned long long)lineno);
        doc.id.ptr = fallback_id;
        doc.id.len = n < (int)sizeof fallback_id ? (size_t)n : sizeof fallback_id - 1;
    }
    return deliver(run, &doc);
}

static int ingest_jsonl(ingest_run *run, const input_file *in)
{
    byte_source src = {.fd = -1, .path = in->path, .frame_done = true};
    int rc = LEDE_OK;
    src.fd = open(in->path, O_RDONLY | O_CLOEXEC);
    if (src.fd < 0)
        return io_error(run, in->path, errno);
    if (in->kind == INPUT_JSONL_ZST) {
        src.zstd = ZSTD_createDStream();
        src.zin_cap = READ_STEP;
        src.zin = malloc(src.zin_cap);
        if (!src.zstd || !src.zin) {
            rc = lede_err_set(run->err, LEDE_ENOMEM, "%s: out of memory for the zstd decoder",
                              in->path);
            goto out;
        }
        size_t r = ZSTD_initDStream(src.zstd);
        if (ZSTD_isError(r)) {
            rc = lede_err_set(run->err, LEDE_EFORMAT, "%s: zstd: %s", in->path,
                              ZSTD_getErrorName(r));
            goto out;
        }
    }

    /* run->buf[start, len) is unsplit input; its first `scanned` bytes are
     * known to hold no newline, so a long line is not searched again after
     * every read. */
    size_t start = 0, len = 0, scanned = 0;
    uint64_t lineno = 0;
    for (;;) {
        if (run->cap - len < READ_STEP) {
            if (start > 0) {
                memmove(run->buf, run->buf + start, len - start);
                len -= start;
                start = 0;
            }
            if ((rc = buf_reserve(run, len + READ_STEP)) != LEDE_OK)
                goto out;
        }
        size_t got = 0;
        if ((rc = source_read(run, &src, run->buf + len, run->cap - len, &got)) != LEDE_OK)
            goto out;
        if (got == 0) {
            if (len > start)   /* the last line has no newline */
                rc = handle_line(run, in, ++lineno, run->buf + start, len - start);
            goto out;
        }
        len += got;
        run->counts.bytes_in += got;
        for (;;) {
            char *line = run->buf + start;
            char *nl = memchr(line + scanned, '\n', len - start - scanned);
            if (!nl) {
                scanned = len - start;
                break;
            }
            if ((rc = handle_line(run, in, ++lineno, line, (size_t)(nl - line))) != LEDE_OK)
                goto out;
            start = (size_t)(nl - run->buf) + 1;
            scanned = 0;
        }
        report_progress(run, false);
    }
out:
    ZSTD_freeDStream(src.zstd);
    free(src.zin);
    close(src.fd);
    return rc;
}

/* ------------------------------------------------------------ text articles */

static bool is_blank_char(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Splits an article into title (its first non-blank line, trimmed) and body
 * (what follows, without the blank lines before it or trailing whitespace). */
static void split_article(const char *text, size_t len, lede_str *title, lede_str *body)
{
    const char *p = text, *end = text + len;
    title->ptr = body->ptr = end;
    title->len = body->len = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        const char *a = p, *b = line_end;
        while (a < b && is_blank_char(*a))
            a++;
        while (b > a && is_blank_char(b[-1]))
            b--;
        p = nl ? nl + 1 : end;
        if (a < b) {
            title->ptr = a;
            title->len = (size_t)(b - a);
            break;
        }
    }
    /* Skip whole blank lines only: the body's first line keeps its indent. */
    while (p < end) {
        const char *q = p;
        while (q < end && is_blank_char(*q))
            q++;
        if (q < end && *q != '\n')
            break;
        p = q < end ? q + 1 : end;
    }
    while (end > p && (is_blank_char(end[-1]) || end[-1] == '\n'))
        end--;
    body->ptr = p;
    body->len = (size_t)(end - p);
}

static int ingest_txt(ingest_run *run, const input_file *in)
{
    int fd = open(in->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_error(run, in->path, errno);
    size_t len = 0;
    int rc = LEDE_OK;
    for (;;) {
        if ((rc = buf_reserve(run, len + READ_STEP)) != LEDE_OK)
            break;
        ssize_t n = read(fd, run->buf + len, run->cap - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = io_error(run, in->path, errno);
            break;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (rc != LEDE_OK)
        return rc;
    run->counts.bytes_in += len;
    run->done_bytes += len;

    const char *text = run->buf;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        len -= 3;
    }
    size_t valid = lede_utf8_valid_len((const uint8_t *)text, (const uint8_t *)text + len);
    if (valid < len) {
        char message[BAD_MESSAGE_MAX];
        snprintf(message, sizeof message, "%s: not valid UTF-8 (byte %zu)", in->path, valid + 1);
        return bad_input(run, message);
    }
    lede_doc doc = {0};
    doc.id.ptr = in->name;
    doc.id.len = strlen(in->name) - 4;   /* without ".txt" */
    split_article(text, len, &doc.title, &doc.body);
    return deliver(run, &doc);
}

/* ------------------------------------------------------------ entry point */

int lede_ingest_paths(const char *const *paths, size_t npaths, const lede_ingest_opts *opts,
                      lede_doc_fn fn, void *ctx, lede_ingest_stats *stats, lede_err *err)
{
    static const lede_ingest_opts no_opts;
    if (!fn || (npaths > 0 && !paths))
        return lede_err_set(err, LEDE_EINVAL, "lede_ingest_paths: NULL argument");
    ingest_run run = {.opts = opts ? opts : &no_opts, .fn = fn, .ctx = ctx, .err = err};
    int rc = LEDE_OK;
    for (size_t i = 0; i < npaths && rc == LEDE_OK; i++) {
        if (!paths[i])
            rc = lede_err_set(err, LEDE_EINVAL, "lede_ingest_paths: path %zu is NULL", i);
        else
            rc = plan_path(&run, paths[i]);
    }
    for (size_t i = 0; i < run.ninputs && rc == LEDE_OK; i++) {
        const input_file *in = &run.inputs[i];
        rc = in->kind == INPUT_TXT ? ingest_txt(&run, in) : ingest_jsonl(&run, in);
        if (rc == LEDE_OK)
            report_progress(&run, false);
    }
    if (rc == LEDE_OK)
        report_progress(&run, true);

    if (stats) {
        stats->docs += run.counts.docs;
        stats->bad += run.counts.bad;
        stats->bytes_in += run.counts.bytes_in;
    }
    for (size_t i = 0; i < run.ninputs; i++)
        free(run.inputs[i].path);
    free(run.inputs);
    free(run.buf);
    lede_jsonl_scratch_free(&run.scratch);
    return rc;
}
