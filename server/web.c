/* web.c: the browser-facing routes (web.h). Files are served straight from
 * the bytes compiled into the binary (no copy per request). Caching: the
 * page is revalidated on every visit ("no-cache" + ETag, so a visit costs a
 * 304 once cached), while a file requested with the version the current
 * page cites ("?v=...") is cached for a year; any other version is served
 * as it is now with "no-cache". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reply_json.h"
#include "web.h"
#include "web_assets.h"

static const web_asset *find_asset(const char *path)
{
    for (unsigned i = 0; i < WEB_NASSETS; i++)
        if (strcmp(WEB_ASSETS[i].path, path) == 0)
            return &WEB_ASSETS[i];
    return NULL;
}

/* If-None-Match: a comma list of entity tags (weak ones compare by their
 * opaque part, as RFC 9110 asks for GET), or "*". */
static int etag_matches(const char *header, const char *etag)
{
    size_t n = strlen(etag);
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (p[0] == '*' && (p[1] == '\0' || p[1] == ',' || p[1] == ' '))
            return 1;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        if ((size_t)(t - p) == n && memcmp(p, etag, n) == 0)
            return 1;
        p = e;
    }
    return 0;
}

/* The 404 of the web routes: the path, and why (a message of at most one
 * %.200s, the path). */
static void not_found(reply *rp, const request *rq, const char *why)
{
    json_t *d = json_object();
    json_object_set_new(d, "path", json_text(rq->path, rq->path_len));
    reply_error(rp, 404, "not_found", d, why, rq->path);
}

static void turned_off(reply *rp, const request *rq)
{
    not_found(rp, rq,
              "the web page is turned off on this server (web.web_enabled = 0); the JSON API "
              "is at /search");
}

static void serve_asset(const request *rq, reply *rp, const web_asset *as, int immutable)
{
    reply_clear(rp);
    rp->etag = as->etag;
    rp->cache = immutable ? "public, max-age=31536000, immutable" : "no-cache";
    if (strncmp(as->content_type, "text/html", 9) == 0)
        rp->csp = WEB_PAGE_CSP;
    if (rq->if_none_match && etag_matches(rq->if_none_match, as->etag)) {
        rp->status = 304;
        return;
    }
    rp->status = 200;
    rp->content_type = as->content_type;
    rp->body = (char *)as->data;
    rp->len = as->len;
    rp->body_static = 1;
}

void web_page(app *a, const request *rq, reply *rp)
{
    /* The page reads its state (q, source, from, to, sort, page) from its
     * own URL, so any query string is fine here. */
    const web_asset *as = find_asset("/");
    if (!a->cfg.web_enabled || !as) {
        turned_off(rp, rq);
        return;
    }
    serve_asset(rq, rp, as, 0);
}

void web_static(app *a, const request *rq, reply *rp)
{
    const web_asset *as = find_asset(rq->path);
    if (!a->cfg.web_enabled) {
        turned_off(rp, rq);
        return;
    }
    if (!as) {
        not_found(rp, rq, "no file %.200s");
        return;
    }
    const char *version = NULL;
    for (size_t i = 0; i < rq->nargs; i++)
        if (strcmp(rq->args[i].key, "v") == 0)
            version = rq->args[i].value;
    serve_asset(rq, rp, as, version && strcmp(version, as->version) == 0);
}

/* A Host header is used only when it is a plain host[:port]: it ends up in
 * links, so anything else falls back to the listen address. */
static int host_ok(const char *h)
{
    size_t n = h ? strlen(h) : 0;
    if (n == 0 || n > 255)
        return 0;
    for (const char *p = h; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '-' || *p == ':' || *p == '[' || *p == ']'))
            return 0;
    return 1;
}

size_t web_base_url(const app *a, const request *rq, char *out, size_t size)
{
    int n;
    if (a->cfg.public_url[0])
        n = snprintf(out, size, "%s", a->cfg.public_url);
    else if (host_ok(rq->host))
        n = snprintf(out, size, "http://%s", rq->host);
    else
        n = snprintf(out, size, "http://%s", a->bound[0] ? a->bound : a->cfg.listen);
    if (n < 0)
        n = 0;
    return (size_t)n < size ? (size_t)n : size - 1;
}

/* Appends text with XML's five special characters escaped. */
static void xml_escaped(char **p, const char *end, const char *text)
{
    for (; *text && *p < end - 7; text++) {
        const char *rep = *text == '&'    ? "&amp;"
                          : *text == '<'  ? "&lt;"
                          : *text == '>'  ? "&gt;"
                          : *text == '"'  ? "&quot;"
                          : *text == '\'' ? "&apos;"
                                          : NULL;
        if (rep) {
            size_t l = strlen(rep);
            memcpy(*p, rep, l);
            *p += l;
        } else {
            *(*p)++ = *text;
        }
    }
}

void web_opensearch(app *a, const request *rq, reply *rp)
{
    if (!a->cfg.web_enabled) {
        turned_off(rp, rq);
        return;
    }
    char base_raw[600], base[3100], name[400];
    web_base_url(a, rq, base_raw, sizeof base_raw);
    char *p = base;
    xml_escaped(&p, base + sizeof base, base_raw);
    *p = '\0';
    p = name;
    xml_escaped(&p, name + sizeof name, a->cfg.site_name);
    *p = '\0';
    char image[3300] = "";
    if (find_asset("/static/icon.svg"))
        snprintf(image, sizeof image,
                 "  <Image width=\"16\" height=\"16\" type=\"image/svg+xml\">%s/static/icon.svg"
                 "</Image>\n", base);
    char *xml = NULL;
    int n = asprintf(
        &xml,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<OpenSearchDescription xmlns=\"http://a9.com/-/spec/opensearch/1.1/\"\n"
        "                       xmlns:moz=\"http://www.mozilla.org/2006/browser/search/\">\n"
        "  <ShortName>%s</ShortName>\n"
        "  <Description>%s: search news articles, with each outlet's coverage side by side"
        "</Description>\n"
        "  <InputEncoding>UTF-8</InputEncoding>\n"
        "  <OutputEncoding>UTF-8</OutputEncoding>\n"
        "%s"
        "  <Url type=\"text/html\" method=\"get\" template=\"%s/?q={searchTerms}\"/>\n"
        "  <Url type=\"application/x-suggestions+json\" method=\"get\"\n"
        "       template=\"%s/suggest?q={searchTerms}&amp;format=opensearch\"/>\n"
        "  <Url type=\"application/json\" method=\"get\" template=\"%s/search?q={searchTerms}\"/>\n"
        "  <Url type=\"application/opensearchdescription+xml\" rel=\"self\"\n"
        "       template=\"%s/opensearch.xml\"/>\n"
        "  <moz:SearchForm>%s/</moz:SearchForm>\n"
        "</OpenSearchDescription>\n",
        name, name, image, base, base, base, base, base);
    if (n < 0) {
        reply_lede_error(rp, LEDE_ENOMEM, NULL, NULL);
        return;
    }
    reply_clear(rp);
    rp->status = 200;
    rp->content_type = "application/opensearchdescription+xml; charset=utf-8";
    rp->body = xml;
    rp->len = (size_t)n;
    rp->cache = "public, max-age=3600";
}
