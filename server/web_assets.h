/* web_assets.h: the web page's files as compiled into lede-server by
 * embed_assets (the generated web_assets.c): URL path, content type,
 * bytes, strong ETag and the version the page's references carry. */
#ifndef LEDE_SERVER_WEB_ASSETS_H
#define LEDE_SERVER_WEB_ASSETS_H

#include <stddef.h>

typedef struct web_asset {
    const char *path;         /* "/" for index.html, else "/static/NAME" */
    const char *content_type;
    const unsigned char *data;/* NUL-terminated for convenience; len excludes it */
    size_t len;
    const char *etag;         /* quoted content hash */
    const char *version;      /* what "?v=" must equal for a year of caching */
} web_asset;

extern const web_asset WEB_ASSETS[];
extern const unsigned WEB_NASSETS;

#endif
