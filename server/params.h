/* params.h: the parameters of /search, read from the query string (GET) or
 * a JSON object (POST, same keys) and validated against the configured
 * limits. Every problem becomes an error reply naming the parameter, the
 * value and what was expected. */
#ifndef LEDE_SERVER_PARAMS_H
#define LEDE_SERVER_PARAMS_H

#include <stdint.h>

#include "config.h"
#include "request.h"

#define MAX_SOURCE_FILTERS 64

typedef struct search_params {
    const char *q;              /* borrowed from the request's args */
    unsigned k, offset;
    const char *sources[MAX_SOURCE_FILTERS];
    unsigned nsources;
    int32_t from, to;           /* yyyymmdd, 0 = open */
    int sort_date;
    int group_source;
    unsigned group_hits;
    int explain;
    int facets;
    int panel_all;              /* panel=all: the panel ignores the source filter */
    unsigned source_details;
    unsigned snippets, snippet_chars;
} search_params;

/* Reads and checks p from rq->args. Returns 0, or fills rp with a 400 and
 * returns -1. */
int params_parse(const request *rq, const server_config *cfg, search_params *p, reply *rp);
/* Turns a JSON object body into rq->args (numbers and booleans as text,
 * arrays as repeated keys). Returns 0, or fills rp with an error (400 for
 * malformed JSON with its line, column and byte) and returns -1. */
int params_from_json(request *rq, reply *rp);

#endif
