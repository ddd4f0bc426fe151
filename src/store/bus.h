/* bus: the fleet's invalidation messages (docs/operations.md "Cache invalidation"), on Redis pub/sub
 * (store/redis/bus.c). What a message means is the caller's (core/fleet_bus): here it is a kind (a small
 * integer, 0 reserved for "drop everything") and an id.
 *
 * Redis keys, all under basalt:bus:<ns>: (ns: one installation, so unrelated fleets sharing a server
 * never wait for each other):
 *   basalt:bus:<ns>        the channel; a message is "<seq> <kind> <id>"
 *   basalt:bus:<ns>:seq    the last sequence number (INCR and PUBLISH in one script: messages are
 *                          numbered in the order they are delivered)
 *   basalt:bus:<ns>:alive  hash instance -> expiry (Redis TIME ms), refreshed every STORE_BUS_BEAT_MS,
 *                          expiring STORE_BUS_ALIVE_MS later; only subscribed instances write it
 *   basalt:bus:<ns>:acks   hash instance -> the last sequence number it applied, and instance:fail -> the
 *                          last one it could not apply
 *
 * Subscriber (listen = 1): a thread with a connection of its own SUBSCRIBEs; on every subscribe (first
 * connect and each reconnect) and on any message whose number is not the last one + 1 it calls
 * apply(kind 0): a missed message can never leave a stale entry. It applies each message, then acks it.
 * It reconnects with a backoff (50 ms doubling to 2 s) and stops at store_bus_free.
 * Publisher: store_bus_publish numbers and publishes a message, then polls (every STORE_BUS_POLL_US)
 * until every other live instance acked it, or wait_ms passed.
 * Ownership: store_bus_open/store_bus_free; the config's strings are copied. Thread-safe. */
#ifndef BASALT_STORE_BUS_H
#define BASALT_STORE_BUS_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define STORE_BUS_ID_MAX 128          /* an id's bytes + NUL */
#define STORE_BUS_NS_MAX 64
#define STORE_BUS_MSG_MAX (24 + 1 + 4 + 1 + STORE_BUS_ID_MAX)
#define STORE_BUS_KIND_MAX 99
#define STORE_BUS_BEAT_MS 1000
#define STORE_BUS_ALIVE_MS 3000
#define STORE_BUS_POLL_US 1000
#define STORE_BUS_WAIT_MS 1000

/* Applies one message on this instance (kind 0: drop every cache). Runs on the subscriber thread. 0, or -1
 * when it could not be applied (the publisher is told: store_bus_publish answers 2). */
typedef int (*store_bus_apply_fn)(void *arg, int kind, const char *id);

typedef struct store_bus_config {
    const char *url;          /* redis://... */
    int timeout_ms;           /* a connect and a command (--redis-timeout-ms) */
    const char *ns;           /* [A-Za-z0-9_-], at most STORE_BUS_NS_MAX - 1 */
    int listen;               /* 1: subscribe (a serving instance); 0: publish only (a CLI) */
    int wait_ms;              /* how long a publish waits for acks; <= 0: STORE_BUS_WAIT_MS */
    store_bus_apply_fn apply; /* with listen */
    void *arg;
} store_bus_config;

typedef struct store_bus_stats {
    int64_t published, publish_failures, wait_timeouts; /* by this instance */
    int64_t received, resyncs;                          /* messages applied; drops of every cache */
    int subscribed;                                     /* 1 while the subscriber is subscribed */
} store_bus_stats;

typedef struct store_bus store_bus;

/* Starts the subscriber (listen) without waiting for it; NULL with err on a bad URL or namespace. */
store_bus *store_bus_open(const store_bus_config *c, bs_err *err);
/* Stops the subscriber (it leaves alive and acks) and frees. */
void store_bus_free(store_bus *b);
/* Publishes (kind 1..STORE_BUS_KIND_MAX, id) and waits for the fleet: 0 every live peer applied it, 1 the
 * wait ran out, 2 a live peer could not apply it (both counted as timeouts), -1 with err (503) when it could
 * not be published (counted). */
int store_bus_publish(store_bus *b, int kind, const char *id, bs_err *err);
void store_bus_stats_get(store_bus *b, store_bus_stats *out);
const char *store_bus_describe(const store_bus *b);

/* The message format and the sequence rule (exposed for tests). */
/* "<seq> <kind> <id>" into out (cap bytes): 0, or -1 when it does not fit or kind/id are invalid. */
int store_bus_msg_format(char *out, size_t cap, int64_t seq, int kind, const char *id);
/* Parses len bytes of a message: 0 and the fields, or -1 when malformed. */
int store_bus_msg_parse(const char *msg, size_t len, int64_t *seq, int *kind, char id[STORE_BUS_ID_MAX]);
/* 1 when a message numbered seq after last applied means something may have been missed (a gap, or the
 * numbering went back: Redis lost its counter), so every cache must be dropped; 0 when it is last + 1. */
int store_bus_seq_resync(int64_t last, int64_t seq);

#endif
