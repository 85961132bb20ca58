/* metrics.c: the counters of metrics.h and their Prometheus text format
 * (version 0.0.4): lede_requests_total{endpoint,status},
 * lede_request_duration_seconds histogram per endpoint, and gauges for the
 * index (documents, segments, bytes), uptime and reloads. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static const int STATUSES[METRICS_STATUSES] = {200, 204, 304, 400, 404, 405, 413, 414, 415, 431,
                                               500, 503, 408, 0 /* other */};
static const double BUCKET_MS[METRICS_BUCKETS - 1] = {0.25, 0.5, 1, 2, 5, 10, 25, 50,
                                                      100, 250, 500, 1000, 2500};
static const char *NAMES[EP_COUNT] = {"search", "doc", "analyze", "suggest", "health",
                                      "stats", "metrics", "static", "other"};

const char *endpoint_name(endpoint e)
{
    return e < EP_COUNT ? NAMES[e] : "other";
}

void metrics_record(metrics *m, endpoint e, int status, uint64_t micros, uint64_t bytes)
{
    int s = METRICS_STATUSES - 1;
    for (int i = 0; i < METRICS_STATUSES - 1; i++)
        if (STATUSES[i] == status)
            s = i;
    __atomic_add_fetch(&m->requests[e][s], 1, __ATOMIC_RELAXED);
    int b = METRICS_BUCKETS - 1;
    for (int i = 0; i < METRICS_BUCKETS - 1; i++)
        if ((double)micros <= BUCKET_MS[i] * 1000) {
            b = i;
            break;
        }
    __atomic_add_fetch(&m->latency_buckets[e][b], 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&m->latency_count[e], 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&m->latency_sum_us[e], micros, __ATOMIC_RELAXED);
    __atomic_add_fetch(&m->bytes_sent, bytes, __ATOMIC_RELAXED);
    if (e == EP_SEARCH && status == 200)
        __atomic_add_fetch(&m->queries, 1, __ATOMIC_RELAXED);
}

typedef struct out {
    char *p;
    size_t len, cap;
    int failed;
} out;

__attribute__((format(printf, 2, 3))) static void put(out *o, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = o->failed ? 0 : vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (o->failed || n < 0)
            return;
        if ((size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        size_t cap = o->cap * 2 + (size_t)n + 1;
        char *fresh = realloc(o->p, cap);
        if (!fresh) {
            o->failed = 1;
            return;
        }
        o->p = fresh;
        o->cap = cap;
    }
}

static uint64_t get(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

char *metrics_render(const metrics *m, const lede_index_stats *st, double uptime,
                     uint64_t generation, uint64_t reloads, uint64_t reload_failures,
                     uint64_t in_flight, size_t *len)
{
    out o = {malloc(8192), 0, 8192, 0};
    if (!o.p)
        return NULL;
    o.p[0] = '\0';
    put(&o, "# HELP lede_requests_total HTTP requests answered, by endpoint and status.\n"
            "# TYPE lede_requests_total counter\n");
    for (int e = 0; e < EP_COUNT; e++)
        for (int s = 0; s < METRICS_STATUSES; s++) {
            uint64_t n = get(&m->requests[e][s]);
            if (!n)
                continue;
            if (STATUSES[s])
                put(&o, "lede_requests_total{endpoint=\"%s\",status=\"%d\"} %llu\n", NAMES[e],
                    STATUSES[s], (unsigned long long)n);
            else
                put(&o, "lede_requests_total{endpoint=\"%s\",status=\"other\"} %llu\n", NAMES[e],
                    (unsigned long long)n);
        }
    put(&o, "# HELP lede_request_errors_total HTTP requests answered with a 4xx or 5xx status.\n"
            "# TYPE lede_request_errors_total counter\n");
    for (int e = 0; e < EP_COUNT; e++) {
        uint64_t n = 0;
        for (int s = 0; s < METRICS_STATUSES; s++)
            if (STATUSES[s] >= 400 || STATUSES[s] == 0)
                n += get(&m->requests[e][s]);
        put(&o, "lede_request_errors_total{endpoint=\"%s\"} %llu\n", NAMES[e],
            (unsigned long long)n);
    }
    put(&o, "# HELP lede_request_duration_seconds Time from request arrival to reply queued.\n"
            "# TYPE lede_request_duration_seconds histogram\n");
    for (int e = 0; e < EP_COUNT; e++) {
        uint64_t count = get(&m->latency_count[e]);
        if (!count)
            continue;
        uint64_t cum = 0;
        for (int b = 0; b < METRICS_BUCKETS - 1; b++) {
            cum += get(&m->latency_buckets[e][b]);
            put(&o, "lede_request_duration_seconds_bucket{endpoint=\"%s\",le=\"%g\"} %llu\n",
                NAMES[e], BUCKET_MS[b] / 1000, (unsigned long long)cum);
        }
        put(&o, "lede_request_duration_seconds_bucket{endpoint=\"%s\",le=\"+Inf\"} %llu\n",
            NAMES[e], (unsigned long long)count);
        put(&o, "lede_request_duration_seconds_sum{endpoint=\"%s\"} %.6f\n", NAMES[e],
            (double)get(&m->latency_sum_us[e]) / 1e6);
        put(&o, "lede_request_duration_seconds_count{endpoint=\"%s\"} %llu\n", NAMES[e],
            (unsigned long long)count);
    }
    put(&o, "# HELP lede_queries_total Searches answered successfully.\n"
            "# TYPE lede_queries_total counter\nlede_queries_total %llu\n",
        (unsigned long long)get(&m->queries));
    put(&o, "# HELP lede_response_bytes_total Reply body bytes sent.\n"
            "# TYPE lede_response_bytes_total counter\nlede_response_bytes_total %llu\n",
        (unsigned long long)get(&m->bytes_sent));
    put(&o, "# HELP lede_requests_in_flight Requests being answered now.\n"
            "# TYPE lede_requests_in_flight gauge\nlede_requests_in_flight %llu\n",
        (unsigned long long)in_flight);
    put(&o, "# HELP lede_index_documents Live documents in the served index.\n"
            "# TYPE lede_index_documents gauge\nlede_index_documents %llu\n",
        (unsigned long long)st->documents);
    put(&o, "# HELP lede_index_segments Segments in the served index.\n"
            "# TYPE lede_index_segments gauge\nlede_index_segments %llu\n",
        (unsigned long long)st->segments);
    put(&o, "# HELP lede_index_bytes Bytes of the served index by part.\n"
            "# TYPE lede_index_bytes gauge\n");
    put(&o, "lede_index_bytes{part=\"postings\"} %llu\n", (unsigned long long)st->bytes_postings);
    put(&o, "lede_index_bytes{part=\"positions\"} %llu\n", (unsigned long long)st->bytes_positions);
    put(&o, "lede_index_bytes{part=\"dictionary\"} %llu\n", (unsigned long long)st->bytes_dictionary);
    put(&o, "lede_index_bytes{part=\"stored\"} %llu\n", (unsigned long long)st->bytes_stored);
    put(&o, "lede_index_bytes{part=\"other\"} %llu\n", (unsigned long long)st->bytes_other);
    put(&o, "# HELP lede_index_generation Index snapshots opened (1 + successful reloads).\n"
            "# TYPE lede_index_generation gauge\nlede_index_generation %llu\n",
        (unsigned long long)generation);
    put(&o, "# HELP lede_index_reloads_total Index reloads (SIGHUP), by outcome.\n"
            "# TYPE lede_index_reloads_total counter\n"
            "lede_index_reloads_total{outcome=\"ok\"} %llu\n"
            "lede_index_reloads_total{outcome=\"failed\"} %llu\n",
        (unsigned long long)reloads, (unsigned long long)reload_failures);
    put(&o, "# HELP lede_uptime_seconds Seconds since the server started.\n"
            "# TYPE lede_uptime_seconds gauge\nlede_uptime_seconds %.3f\n", uptime);
    if (o.failed) {
        free(o.p);
        return NULL;
    }
    *len = o.len;
    return o.p;
}
