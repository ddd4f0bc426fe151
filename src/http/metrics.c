#include "http/metrics.h"

#include <stdatomic.h>
#include <stdlib.h>

#define METRICS_STATUS_MIN 100
#define METRICS_STATUS_SPAN 500
#define METRICS_BUCKETS 16

static const int64_t bucket_le_us[METRICS_BUCKETS] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000, 10000000};

typedef struct route_row {
    _Atomic uint64_t by_status[METRICS_STATUS_SPAN];
    _Atomic uint64_t buckets[METRICS_BUCKETS + 1]; /* last = +Inf */
    _Atomic uint64_t micros_sum;
    _Atomic uint64_t bytes_out;
} route_row;

struct http_metrics {
    const http_router *router;
    size_t nrows;            /* routes + 1; row 0 = unmatched */
    route_row *rows;
    _Atomic long connections;
    http_metrics_section_fn section;   /* NULL: none */
    void *section_arg;
};

http_metrics *http_metrics_new(const http_router *router)
{
    http_metrics *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->router = router;
    m->nrows = http_router_count(router) + 1;
    m->rows = calloc(m->nrows, sizeof *m->rows);
    if (!m->rows) { free(m); return NULL; }
    return m;
}

void http_metrics_free(http_metrics *m)
{
    if (!m) return;
    free(m->rows);
    free(m);
}

void http_metrics_record(http_metrics *m, int route_id, int status, int64_t micros, uint64_t bytes_out)
{
    size_t row = route_id < 0 || (size_t)route_id + 1 >= m->nrows ? 0 : (size_t)route_id + 1;
    route_row *r = &m->rows[row];
    if (status < METRICS_STATUS_MIN || status >= METRICS_STATUS_MIN + METRICS_STATUS_SPAN) status = 500;
    atomic_fetch_add_explicit(&r->by_status[status - METRICS_STATUS_MIN], 1, memory_order_relaxed);
    int b = 0;
    while (b < METRICS_BUCKETS && micros > bucket_le_us[b]) b++;
    atomic_fetch_add_explicit(&r->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->micros_sum, (uint64_t)(micros > 0 ? micros : 0), memory_order_relaxed);
    atomic_fetch_add_explicit(&r->bytes_out, bytes_out, memory_order_relaxed);
}

void http_metrics_connection(http_metrics *m, int delta)
{
    atomic_fetch_add_explicit(&m->connections, delta, memory_order_relaxed);
}

static const char *row_label(const http_metrics *m, size_t row)
{
    if (row == 0) return "unmatched";
    return http_router_route(m->router, row - 1)->pattern;
}

static void render_row(const http_metrics *m, size_t row, strbuf *out, int part)
{
    route_row *r = &m->rows[row];
    const char *route = row_label(m, row);
    if (part == 0) {
        for (int s = 0; s < METRICS_STATUS_SPAN; s++) {
            uint64_t n = atomic_load_explicit(&r->by_status[s], memory_order_relaxed);
            if (n) strbuf_appendf(out, "basalt_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n", route,
                                  s + METRICS_STATUS_MIN, (unsigned long long)n);
        }
        return;
    }
    if (part == 2) {
        uint64_t bytes = atomic_load(&r->bytes_out);
        if (bytes) strbuf_appendf(out, "basalt_http_response_bytes_total{route=\"%s\"} %llu\n", route,
                                  (unsigned long long)bytes);
        return;
    }
    uint64_t total = 0;
    for (int b = 0; b <= METRICS_BUCKETS; b++) total += atomic_load_explicit(&r->buckets[b], memory_order_relaxed);
    if (!total) return;
    uint64_t cum = 0;
    for (int b = 0; b < METRICS_BUCKETS; b++) {
        cum += atomic_load_explicit(&r->buckets[b], memory_order_relaxed);
        strbuf_appendf(out, "basalt_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n", route,
                       (double)bucket_le_us[b] / 1e6, (unsigned long long)cum);
    }
    strbuf_appendf(out, "basalt_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n", route,
                   (unsigned long long)total);
    strbuf_appendf(out, "basalt_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", route,
                   (double)atomic_load(&r->micros_sum) / 1e6);
    strbuf_appendf(out, "basalt_http_request_duration_seconds_count{route=\"%s\"} %llu\n", route,
                   (unsigned long long)total);
}

int http_metrics_render(http_metrics *m, strbuf *out)
{
    strbuf_append_str(out, "# HELP basalt_http_requests_total HTTP requests answered, by route pattern and status.\n"
                           "# TYPE basalt_http_requests_total counter\n");
    for (size_t row = 0; row < m->nrows; row++) render_row(m, row, out, 0);
    strbuf_append_str(out, "# HELP basalt_http_request_duration_seconds Time from first byte to answer queued.\n"
                           "# TYPE basalt_http_request_duration_seconds histogram\n");
    for (size_t row = 0; row < m->nrows; row++) render_row(m, row, out, 1);
    strbuf_append_str(out, "# HELP basalt_http_response_bytes_total Response body bytes written.\n"
                           "# TYPE basalt_http_response_bytes_total counter\n");
    for (size_t row = 0; row < m->nrows; row++) render_row(m, row, out, 2);
    strbuf_appendf(out, "# HELP basalt_http_open_connections Client connections open now.\n"
                        "# TYPE basalt_http_open_connections gauge\nbasalt_http_open_connections %ld\n",
                   atomic_load(&m->connections));
    if (m->section && m->section(m->section_arg, out) < 0) return -1;
    return out->overflow ? -1 : 0;
}

void http_metrics_set_section(http_metrics *m, http_metrics_section_fn fn, void *arg)
{
    m->section = fn;
    m->section_arg = arg;
}
