/* conns: the server's guard over its open connections (private to src/http/).
 * - Header deadline: a connection waiting for a request head is cut (shutdown, so libmicrohttpd closes it
 *   on its own thread) when the head is not complete header_timeout seconds after the wait began: at
 *   accept for the first request; for a later request on a keep-alive connection, from its first byte
 *   (seen through TCP_INFO), so idle keep-alive connections are left to the idle timeout.
 * - Reserve: when more than max_connections - reserve connections are open, the connections that have
 *   waited longest (at least a second) for a head are cut until the reserve is free again, so new
 *   clients always find room even while slow clients hold connections.
 * - Lingering close: a connection answered before its body was read is not closed under a client still
 *   sending (that would reset it, and the client would lose the answer): its socket is half-closed and
 *   drained for up to HTTP_LINGER_MS before it is closed.
 * One thread sweeps every 250 ms. Ownership: a http_conn lives from http_conns_open to http_conns_close,
 * both called on the connection's thread; the sweeper only reads it under the registry lock. */
#ifndef BASALT_HTTP_CONNS_H
#define BASALT_HTTP_CONNS_H

#include <stdatomic.h>
#include <stdint.h>

struct http_req;

typedef struct http_conn {
    struct http_req *req;            /* the exchange between on_uri and on_completed (server.c), owned */
    int fd;
    _Atomic int64_t wait_since_us;   /* when the wait for a request head began; 0 while one is served */
    _Atomic int first;               /* 1 until the first request head is complete */
    int linger;                      /* answered before the body was read: drain before closing */
    int64_t seen_wait_us, head_seen_us; /* the sweeper's: the wait it looked at, when its first byte came */
    int cut;                         /* the sweeper shut it down */
    struct http_conn *prev, *next;
} http_conn;

typedef struct http_conns http_conns;

/* header_timeout_s 0: no deadline; reserve 0: none. Returns NULL when the sweeper cannot start. */
http_conns *http_conns_new(unsigned header_timeout_s, unsigned max_connections, unsigned reserve);
/* Stops the sweeper and closes the connections still lingering. */
void http_conns_free(http_conns *cs);
/* A connection was accepted. NULL when out of memory (the connection is then served untracked). */
http_conn *http_conns_open(http_conns *cs, int fd);
/* The connection closes (its fd is still open): forget it, hand it to the lingering close if asked. */
void http_conns_close(http_conns *cs, http_conn *c);
/* A request head is complete: no deadline until http_conn_idle. */
void http_conn_busy(http_conn *c);
/* The answer went out: the connection waits for its next request head. */
void http_conn_idle(http_conn *c);

#endif
