/* app.h: the state one lede-server shares across its worker threads (the
 * settings, the current index snapshot, the counters) and the entry point
 * that turns a request into a reply. Nothing here knows libmicrohttpd: the
 * tests and the fuzzer call app_handle directly. */
#ifndef LEDE_SERVER_APP_H
#define LEDE_SERVER_APP_H

#include <stdint.h>

#include "config.h"
#include "metrics.h"
#include "request.h"
#include "snapshot.h"

typedef struct app {
    server_config cfg;
    snapshot_holder snaps;
    metrics m;
    double started;           /* CLOCK_MONOTONIC seconds */
    uint64_t in_flight;       /* atomic */
    char bound[300];          /* HOST:PORT actually bound (port 0 resolved), set before serving */
} app;

double app_now(void);         /* CLOCK_MONOTONIC seconds */

/* Answers rq into rp (status, type, body); *ep says which endpoint it was. */
void app_handle(app *a, request *rq, reply *rp, endpoint *ep);

/* The /search endpoint (api_search.c). */
void api_search(app *a, request *rq, reply *rp);

#endif
