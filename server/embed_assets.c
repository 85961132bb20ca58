/* embed_assets.c: the build-time tool that compiles the web page's files
 * (server/web/) into lede-server, so the one binary is the whole product.
 * It writes a C file defining WEB_ASSETS (web_assets.h): each file's URL
 * path, content type, bytes, ETag and version. index.html is served at "/",
 * every other file at "/static/NAME". In HTML files, every reference
 * "/static/NAME" to an embedded file becomes "/static/NAME?v=VERSION", the
 * start of that file's content hash, so the assets can be cached for a year
 * and a new build still reaches every browser at once.
 *
 * Usage: embed_assets OUT.c FILE...   (a build error names a bad file) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct asset {
    const char *src;          /* path given on the command line */
    char name[128];           /* its base name */
    const char *type;
    unsigned char *data;
    size_t len;
    char hash[17];            /* FNV-1a 64, hex */
} asset;

static const struct {
    const char *ext, *type;
} TYPES[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
    {".webmanifest", "application/manifest+json"},
};

static const char *type_of(const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++) {
        size_t e = strlen(TYPES[i].ext);
        if (n > e && strcmp(name + n - e, TYPES[i].ext) == 0)
            return TYPES[i].type;
    }
    return NULL;
}

static int is_html(const asset *a)
{
    return strncmp(a->type, "text/html", 9) == 0;
}

/* Cache validation only (not security): a change of content must change
 * the hash, which FNV-1a does for any realistic edit. */
static void hash_hex(const unsigned char *p, size_t n, char out[17])
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static int read_file(asset *a)
{
    FILE *f = fopen(a->src, "rb");
    if (!f) {
        perror(a->src);
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            unsigned char *fresh = realloc(buf, cap *= 2);
            if (!fresh)
                free(buf);
            buf = fresh;
        }
    }
    int bad = ferror(f) || !buf;
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: cannot read\n", a->src);
        free(buf);
        return -1;
    }
    a->data = buf;
    a->len = len;
    return 0;
}

/* Appends "?v=VERSION" to every quoted reference "/static/NAME" of another
 * asset. Returns 0 or -1 (out of memory). */
static int version_references(asset *html, const asset *all, int n)
{
    size_t cap = html->len * 2 + 1024, len = 0;
    unsigned char *out = malloc(cap);
    if (!out)
        return -1;
    static const char prefix[] = "\"/static/";
    const size_t plen = sizeof prefix - 1;
    for (size_t i = 0; i < html->len;) {
        int done = 0;
        if (html->len - i > plen && memcmp(html->data + i, prefix, plen) == 0) {
            for (int j = 0; j < n && !done; j++) {
                size_t nl = strlen(all[j].name);
                if (&all[j] == html || html->len - i < plen + nl + 1 ||
                    memcmp(html->data + i + plen, all[j].name, nl) != 0 ||
                    html->data[i + plen + nl] != '"')
                    continue;
                if (len + plen + nl + 32 > cap && !(out = realloc(out, cap *= 2)))
                    return -1;
                memcpy(out + len, html->data + i, plen + nl);
                len += plen + nl;
                len += (size_t)sprintf((char *)out + len, "?v=%.12s", all[j].hash);
                i += plen + nl;
                done = 1;
            }
        }
        if (!done) {
            if (len + 1 > cap && !(out = realloc(out, cap *= 2)))
                return -1;
            out[len++] = html->data[i++];
        }
    }
    free(html->data);
    html->data = out;
    html->len = len;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: embed_assets OUT.c FILE...\n");
        return 2;
    }
    int n = argc - 2;
    asset *all = calloc((size_t)n, sizeof *all);
    if (!all)
        return 1;
    int have_index = 0;
    for (int i = 0; i < n; i++) {
        asset *a = &all[i];
        a->src = argv[i + 2];
        const char *slash = strrchr(a->src, '/');
        const char *base = slash ? slash + 1 : a->src;
        if (strlen(base) >= sizeof a->name || !base[0]) {
            fprintf(stderr, "%s: bad file name\n", a->src);
            return 1;
        }
        for (const char *p = base; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' ||
                  *p == '-' || *p == '_')) {
                fprintf(stderr, "%s: file names must be lower-case a-z, 0-9, '.', '-', '_'\n",
                        a->src);
                return 1;
            }
        strcpy(a->name, base);
        if (!(a->type = type_of(base))) {
            fprintf(stderr, "%s: unknown file type (add its extension to embed_assets.c)\n",
                    a->src);
            return 1;
        }
        have_index |= strcmp(base, "index.html") == 0;
        if (read_file(a))
            return 1;
    }
    if (!have_index) {
        fprintf(stderr, "embed_assets: index.html is missing\n");
        return 1;
    }
    /* Versions of the referenced files first, then the pages that cite them. */
    for (int i = 0; i < n; i++)
        if (!is_html(&all[i]))
            hash_hex(all[i].data, all[i].len, all[i].hash);
    for (int i = 0; i < n; i++)
        if (is_html(&all[i])) {
            if (version_references(&all[i], all, n)) {
                fprintf(stderr, "embed_assets: out of memory\n");
                return 1;
            }
            hash_hex(all[i].data, all[i].len, all[i].hash);
        }

    FILE *out = fopen(argv[1], "w");
    if (!out) {
        perror(argv[1]);
        return 1;
    }
    fprintf(out, "/* Generated by embed_assets from server/web/: do not edit. */\n"
                 "#include \"web_assets.h\"\n\n");
    for (int i = 0; i < n; i++) {
        fprintf(out, "static const unsigned char DATA_%d[%zu] = {", i, all[i].len + 1);
        for (size_t k = 0; k < all[i].len; k++)
            fprintf(out, "%s%u,", k % 20 ? "" : "\n", all[i].data[k]);
        fprintf(out, "0};\n");
    }
    fprintf(out, "\nconst web_asset WEB_ASSETS[] = {\n");
    for (int i = 0; i < n; i++) {
        const asset *a = &all[i];
        int index = strcmp(a->name, "index.html") == 0;
        fprintf(out, "    {\"%s%s\", \"%s\", DATA_%d, %zu, \"\\\"%s\\\"\", \"%.12s\"},\n",
                index ? "/" : "/static/", index ? "" : a->name, a->type, i, a->len, a->hash,
                a->hash);
    }
    fprintf(out, "};\nconst unsigned WEB_NASSETS = %d;\n", n);
    if (fclose(out)) {
        perror(argv[1]);
        return 1;
    }
    for (int i = 0; i < n; i++)
        free(all[i].data);
    free(all);
    return 0;
}
