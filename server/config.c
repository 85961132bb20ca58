/* config.c: the settings table of lede-server (every key, its type,
 * default, limits and one line of help), the conf-file reader built on
 * libinih, and the key=value setter the command-line flags use. The
 * documented conf/lede.conf must list exactly these keys (a test checks). */
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "reply_json.h"

typedef enum { T_STR, T_UINT, T_REAL } key_type;

typedef struct key_def {
    const char *section, *name;
    key_type type;
    size_t offset, size;
    double min, max;
    const char *def;
} key_def;

#define STR(sec, field, dflt) {sec, #field, T_STR, offsetof(server_config, field), \
                               sizeof(((server_config *)0)->field), 0, 0, dflt}
#define UINT(sec, field, lo, hi, dflt) {sec, #field, T_UINT, offsetof(server_config, field), 0, lo, hi, dflt}
#define REAL(sec, field, lo, hi, dflt) {sec, #field, T_REAL, offsetof(server_config, field), 0, lo, hi, dflt}

static const key_def KEYS[] = {
    STR("server", listen, "127.0.0.1:8080"),
    STR("server", index, "index"),
    UINT("server", threads, 0, 256, "0"),
    STR("server", access_log, "-"),
    STR("server", log_level, "info"),
    STR("server", cors_origins, ""),
    UINT("server", connection_timeout, 1, 3600, "30"),
    UINT("server", shutdown_timeout, 0, 3600, "10"),
    REAL("search", k1, 0.001, 100, "1.2"),
    REAL("search", b, 0, 1, "0.75"),
    UINT("search", default_k, 1, 10000, "10"),
    UINT("search", max_k, 1, 10000, "100"),
    UINT("search", max_offset, 0, 90000, "10000"),
    UINT("search", max_query_bytes, 1, 1 << 20, "1024"),
    UINT("search", max_body_bytes, 64, 16 << 20, "65536"),
    UINT("search", time_budget_ms, 0, 600000, "2000"),
    UINT("search", source_details, 0, 100000, "10"),
    UINT("search", max_source_details, 0, 100000, "1000"),
    UINT("search", group_hits, 1, 100, "3"),
    UINT("search", max_group_hits, 1, 100, "20"),
    UINT("snippets", snippets, 0, 100, "2"),
    UINT("snippets", max_snippets, 0, 100, "10"),
    UINT("snippets", snippet_chars, 20, 100000, "160"),
    UINT("snippets", max_snippet_chars, 20, 100000, "2000"),
    STR("snippets", pre_tag, "<mark>"),
    STR("snippets", post_tag, "</mark>"),
    UINT("suggest", suggest_count, 1, 1000, "8"),
    UINT("suggest", max_suggest_count, 1, 1000, "20"),
    UINT("web", web_enabled, 0, 1, "1"),
    STR("web", public_url, ""),
    STR("web", site_name, "lede"),
};
#define NKEYS (sizeof KEYS / sizeof KEYS[0])

static const key_def *find_key(const char *section, const char *name)
{
    const key_def *found = NULL;
    for (size_t i = 0; i < NKEYS; i++) {
        if (strcmp(KEYS[i].name, name) != 0)
            continue;
        if (section && strcmp(KEYS[i].section, section) != 0)
            continue;
        found = &KEYS[i];
    }
    return found;
}

static int set_key(server_config *c, const key_def *k, const char *value, char *msg, size_t size)
{
    char *p = (char *)c + k->offset;
    if (k->type == T_STR) {
        if (strlen(value) >= k->size) {
            snprintf(msg, size, "%s.%s: value longer than %zu bytes", k->section, k->name,
                     k->size - 1);
            return -1;
        }
        strcpy(p, value);
        return 0;
    }
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    while (*end == ' ' || *end == '\t')
        end++;
    if (end == value || *end || errno || v < k->min || v > k->max ||
        (k->type == T_UINT && v != (double)(unsigned)v)) {
        snprintf(msg, size, "%s.%s: \"%s\" is not %s between %g and %g", k->section, k->name,
                 value, k->type == T_UINT ? "a whole number" : "a number", k->min, k->max);
        return -1;
    }
    if (k->type == T_UINT)
        *(unsigned *)p = (unsigned)v;
    else
        *(double *)p = v;
    return 0;
}

void config_defaults(server_config *c)
{
    char msg[256];
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < NKEYS; i++)
        set_key(c, &KEYS[i], KEYS[i].def, msg, sizeof msg);
}

int config_set(server_config *c, const char *key, const char *value, char *msg, size_t size)
{
    char section[64] = "";
    const char *name = key, *dot = strchr(key, '.');
    if (dot) {
        snprintf(section, sizeof section, "%.*s", (int)(dot - key), key);
        name = dot + 1;
    }
    const key_def *k = find_key(dot ? section : NULL, name);
    if (!k) {
        snprintf(msg, size, "unknown setting \"%s\"", key);
        return -1;
    }
    return set_key(c, k, value, msg, size);
}

typedef struct load_ctx {
    server_config *c;
    char *msg;
    size_t size;
} load_ctx;

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
    load_ctx *l = user;
    const key_def *k = find_key(section, name);
    if (!k) {
        snprintf(l->msg, l->size, "unknown setting \"%s\" in section [%s]", name, section);
        return 0;
    }
    return set_key(l->c, k, value, l->msg, l->size) == 0;
}

int config_load(server_config *c, const char *path, char *msg, size_t size)
{
    char inner[512] = "";
    load_ctx l = {c, inner, sizeof inner};
    int line = ini_parse(path, on_ini, &l);
    if (line == -1) {
        snprintf(msg, size, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (line == -2) {
        snprintf(msg, size, "%s: out of memory", path);
        return -1;
    }
    if (line > 0) {
        snprintf(msg, size, "%s:%d: %s", path, line, inner[0] ? inner : "syntax error");
        return -1;
    }
    return 0;
}

/* public_url goes into XML attributes and links: it must be a plain
 * absolute http(s) URL. A trailing '/' is dropped so paths can follow. */
static int check_web(server_config *c, char *msg, size_t size)
{
    size_t n = strlen(c->public_url);
    while (n && c->public_url[n - 1] == '/')
        c->public_url[--n] = '\0';
    if (n) {
        int scheme = strncasecmp(c->public_url, "http://", 7) == 0 ? 7
                     : strncasecmp(c->public_url, "https://", 8) == 0 ? 8 : 0;
        int bad = !scheme || !c->public_url[scheme] || c->public_url[scheme] == '/';
        for (const unsigned char *p = (const unsigned char *)c->public_url; *p && !bad; p++)
            bad = *p <= 0x20 || *p >= 0x7f || strchr("\"'<>\\^`{|}", *p) || *p == '?' || *p == '#';
        if (bad) {
            snprintf(msg, size, "web.public_url: \"%s\" is not an absolute http:// or https:// URL "
                                "without spaces, quotes, query or fragment "
                                "(e.g. https://search.example.org/lede)", c->public_url);
            return -1;
        }
    }
    if (utf8_invalid_at((const unsigned char *)c->site_name, strlen(c->site_name)) >= 0) {
        snprintf(msg, size, "web.site_name: not valid UTF-8");
        return -1;
    }
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)c->site_name; *p; p++) {
        chars += (*p & 0xc0) != 0x80;
        if (*p < 0x20 || *p == 0x7f) {
            snprintf(msg, size, "web.site_name: control characters are not allowed");
            return -1;
        }
    }
    if (chars < 1 || chars > 16) {
        snprintf(msg, size, "web.site_name: \"%s\" must be 1 to 16 characters (OpenSearch's "
                            "ShortName)", c->site_name);
        return -1;
    }
    return 0;
}

int config_finish(server_config *c, char *msg, size_t size)
{
    static const char *levels[] = {"error", "warn", "info", "debug"};
    c->log_level_num = -1;
    for (int i = 0; i < 4; i++)
        if (strcasecmp(c->log_level, levels[i]) == 0)
            c->log_level_num = i;
    if (c->log_level_num < 0) {
        snprintf(msg, size, "server.log_level: \"%s\" is not one of error, warn, info, debug",
                 c->log_level);
        return -1;
    }
    if (c->default_k > c->max_k) {
        snprintf(msg, size, "search.default_k (%u) is over search.max_k (%u)", c->default_k,
                 c->max_k);
        return -1;
    }
    if ((unsigned long)c->max_k + c->max_offset > 100000) {
        snprintf(msg, size, "search.max_k + search.max_offset must not exceed 100000");
        return -1;
    }
    if (c->snippets > c->max_snippets || c->snippet_chars > c->max_snippet_chars ||
        c->group_hits > c->max_group_hits || c->suggest_count > c->max_suggest_count ||
        c->source_details > c->max_source_details) {
        snprintf(msg, size, "a default is over its maximum (snippets, snippet_chars, group_hits, "
                            "suggest_count or source_details)");
        return -1;
    }
    return check_web(c, msg, size);
}

void config_print(const server_config *c, void *file)
{
    FILE *f = file;
    const char *section = "";
    for (size_t i = 0; i < NKEYS; i++) {
        const key_def *k = &KEYS[i];
        const char *p = (const char *)c + k->offset;
        if (strcmp(section, k->section) != 0) {
            fprintf(f, "%s[%s]\n", i ? "\n" : "", k->section);
            section = k->section;
        }
        if (k->type == T_STR)
            fprintf(f, "%s = %s\n", k->name, p);
        else if (k->type == T_UINT)
            fprintf(f, "%s = %u\n", k->name, *(const unsigned *)p);
        else
            fprintf(f, "%s = %g\n", k->name, *(const double *)p);
    }
}
