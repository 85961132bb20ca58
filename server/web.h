/* web.h: the browser-facing routes of lede-server: the search page at "/",
 * its files at "/static/NAME" (compiled in by embed_assets, with ETags,
 * revalidation and year-long caching of versioned references), and the
 * OpenSearch description at "/opensearch.xml". The page itself only calls
 * the public JSON API. */
#ifndef LEDE_SERVER_WEB_H
#define LEDE_SERVER_WEB_H

#include "app.h"

/* The Content-Security-Policy of the page, and of every other reply. */
#define WEB_PAGE_CSP                                                                       \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "     \
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
#define WEB_API_CSP "default-src 'none'; frame-ancestors 'none'"

void web_page(app *a, const request *rq, reply *rp);
void web_static(app *a, const request *rq, reply *rp);
void web_opensearch(app *a, const request *rq, reply *rp);

/* The base URL of links for this request: web.public_url, else
 * "http://" + a well-formed Host header, else "http://" + the bound address.
 * Returns the length written (always NUL-terminated, cut to size). */
size_t web_base_url(const app *a, const request *rq, char *out, size_t size);

#endif
