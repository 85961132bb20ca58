/* config.h: lede-server's settings: every key of conf/lede.conf with its
 * type, default and limits in one table, read from the conf file (libinih)
 * and overridden by command-line flags. */
#ifndef LEDE_SERVER_CONFIG_H
#define LEDE_SERVER_CONFIG_H

#include <stddef.h>

enum { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

typedef struct server_config {
    /* [server] */
    char listen[256];           /* host:port; the host must be an IPv4 or IPv6 literal */
    char index[4096];
    unsigned threads;           /* 0 = one per core */
    char access_log[4096];      /* "-" = stderr, "off", or a file (appended) */
    char log_level[16];         /* error | warn | info | debug */
    char cors_origins[2048];    /* "" = no CORS headers, "*" = any, else a comma list */
    unsigned connection_timeout;/* seconds an idle connection is kept */
    unsigned shutdown_timeout;  /* seconds in-flight requests get at shutdown */
    /* [search] */
    double k1, b;
    unsigned default_k, max_k, max_offset;
    unsigned max_query_bytes, max_body_bytes;
    unsigned time_budget_ms;    /* 0 = none */
    unsigned source_details;    /* outlets in "sources" that get their best hit in full */
    unsigned max_source_details;
    unsigned group_hits, max_group_hits;
    /* [snippets] */
    unsigned snippets, max_snippets;
    unsigned snippet_chars, max_snippet_chars;
    char pre_tag[64], post_tag[64];
    /* [suggest] */
    unsigned suggest_count, max_suggest_count;
    /* [web] */
    unsigned web_enabled;       /* 0: no page, static files or /opensearch.xml (API only) */
    char public_url[512];       /* "" = http://HOST from the request, else the URL users reach */
    char site_name[64];         /* the OpenSearch ShortName (at most 16 characters) */
    /* derived */
    int log_level_num;
} server_config;

void config_defaults(server_config *c);
/* Reads an ini file over c. On error writes "FILE:LINE: message" to msg. */
int config_load(server_config *c, const char *path, char *msg, size_t msg_size);
/* Sets one key ("section.key" or a unique bare "key") from text. */
int config_set(server_config *c, const char *key, const char *value, char *msg, size_t msg_size);
/* Checks cross-key constraints and fills the derived fields. */
int config_finish(server_config *c, char *msg, size_t msg_size);
/* Writes every key with its current value, as a conf file. */
void config_print(const server_config *c, void *file);

#endif
