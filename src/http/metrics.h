/* metrics: request counters for /metrics in Prometheus text format: requests by route and status,
 * a latency histogram per route, response bytes, open connections. Recording is lock-free (relaxed
 * atomics) and costs a few nanoseconds; rendering walks the tables.
 * Ownership: http_metrics_new returns a table the caller frees; the router is borrowed for rendering. */
#ifndef BASALT_HTTP_METRICS_H
#define BASALT_HTTP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "http/router.h"
#include "util/strbuf.h"

typedef struct http_metrics http_metrics;

/* Sized for the routes registered so far plus one row for unmatched requests. */
http_metrics *http_metrics_new(const http_router *router);
void http_metrics_free(http_metrics *m);
/* route_id -1 = no route matched. status 100..599. */
void http_metrics_record(http_metrics *m, int route_id, int status, int64_t micros, uint64_t bytes_out);
void http_metrics_connection(http_metrics *m, int delta);
int http_metrics_render(http_metrics *m, strbuf *out);
/* Another module's lines (e.g. the usage meter's), appended to every render. Set once, before the server
 * starts; fn must be thread-safe. */
typedef int (*http_metrics_section_fn)(void *arg, strbuf *out);
void http_metrics_set_section(http_metrics *m, http_metrics_section_fn fn, void *arg);

#endif
