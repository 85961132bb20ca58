/* http.h: lede-server's HTTP front: libmicrohttpd with its internal epoll
 * thread pool, turning connections into request/reply pairs for
 * app_handle, adding CORS and caching headers, writing the access log and
 * the metrics, and stopping gracefully. */
#ifndef LEDE_SERVER_HTTP_H
#define LEDE_SERVER_HTTP_H

#include <stdio.h>

#include "app.h"

typedef struct http_server http_server;

/* Checks a listen address ("HOST:PORT") without binding it. */
int http_check_listen(const char *listen, char *msg, size_t size);
/* Binds cfg.listen and starts the worker threads. access_log may be NULL. */
int http_start(app *a, FILE *access_log, http_server **out, char *msg, size_t size);
/* The port actually bound (useful with port 0). */
unsigned http_port(const http_server *h);
/* Stops accepting, lets in-flight requests finish (up to timeout_s), stops. */
void http_stop(http_server *h, unsigned timeout_s);

#endif
