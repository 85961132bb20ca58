/* metrics.h: request counters for /stats and /metrics: requests by endpoint
 * and status, a latency histogram per endpoint, and queries served. Updated
 * with atomic adds from every worker thread; read without locks. */
#ifndef LEDE_SERVER_METRICS_H
#define LEDE_SERVER_METRICS_H

#include <stdint.h>

#include "lede/index.h"

typedef enum endpoint {
    EP_SEARCH, EP_DOC, EP_ANALYZE, EP_SUGGEST, EP_HEALTH, EP_STATS, EP_METRICS, EP_STATIC,
    EP_OTHER, EP_COUNT
} endpoint;

#define METRICS_STATUSES 14
#define METRICS_BUCKETS 14

typedef struct metrics {
    uint64_t requests[EP_COUNT][METRICS_STATUSES];
    uint64_t latency_buckets[EP_COUNT][METRICS_BUCKETS]; /* cumulative at read time */
    uint64_t latency_count[EP_COUNT];
    uint64_t latency_sum_us[EP_COUNT];
    uint64_t bytes_sent;
    uint64_t queries;          /* /search requests answered with 200 */
} metrics;

const char *endpoint_name(endpoint e);
void metrics_record(metrics *m, endpoint e, int status, uint64_t micros, uint64_t bytes);
/* Appends the Prometheus text exposition to a malloc'd string. */
char *metrics_render(const metrics *m, const lede_index_stats *st, double uptime,
                     uint64_t generation, uint64_t reloads, uint64_t reload_failures,
                     uint64_t in_flight, size_t *len);

#endif
