/* server: the HTTP server adapter over libmicrohttpd (thread pool, one worker per core, epoll).
 * It parses the request target, routes, enforces limits (body size per route, JSON depth and string
 * size, idle timeout, connection count, header memory), buffers or streams the body, calls the handler
 * once with the whole request, writes the answer with the request id, logs one access line and feeds
 * the metrics. Every error it produces itself uses the error envelope (http_res_error).
 * Ownership: http_server_new borrows the router and metrics, which must outlive the server. */
#ifndef BASALT_HTTP_SERVER_H
#define BASALT_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "http/metrics.h"
#include "http/router.h"
#include "util/err.h"

typedef struct http_server_config {
    const char *listen;          /* "127.0.0.1:8080", "[::1]:8080", ":8080", port 0 = any free port */
    unsigned threads;            /* worker threads; 0 = two per core */
    unsigned max_connections;    /* concurrent connections accepted */
    unsigned idle_timeout_s;     /* a connection idle this long is closed */
    size_t header_memory;        /* per-connection memory for the request line and headers */
    unsigned header_timeout_s;   /* a request head not complete this long after it began is cut; 0 = never */
    unsigned max_per_ip;         /* connections from one client address; 0 = no limit */
    unsigned connection_reserve; /* connections kept free for new clients by cutting the longest waiting */
    size_t max_body;             /* default body limit of buffered routes */
    int json_max_depth;
    size_t json_max_string;
} http_server_config;

void http_server_config_defaults(http_server_config *cfg);

typedef struct http_server http_server;

http_server *http_server_new(const http_server_config *cfg, http_router *router, http_metrics *metrics,
                             bs_err *err);
/* The port actually bound (useful with port 0). */
uint16_t http_server_port(const http_server *server);
/* Stops accepting new connections; requests in flight and open connections continue. */
void http_server_quiesce(http_server *server);
/* Requests currently between their first byte and their completed answer. */
long http_server_inflight(const http_server *server);
/* Waits until no request is in flight or timeout_ms passed. Returns the number still in flight. */
long http_server_drain(http_server *server, int timeout_ms);
/* Stops the daemon (closing every connection) and frees the server. */
void http_server_free(http_server *server);

#endif
