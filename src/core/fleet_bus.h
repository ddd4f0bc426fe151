/* fleet_bus: the one way every cache invalidation goes (docs/operations.md "Cache invalidation"). A
 * management change calls fleet_bus_publish(kind, id) after it is stored: the invalidation applies to
 * this instance's caches at once, and with --redis (fleet_bus_join) it is also published on the fleet's
 * bus (store/bus.h) and the call returns once every live instance applied it, or after at most
 * STORE_BUS_WAIT_MS (a warning and basalt_fleet_invalidation_timeouts_total). When Redis is unreachable
 * the local invalidation still applies, the caller still succeeds, a warning and
 * basalt_fleet_invalidation_publish_failures_total say so, and the other instances fall back on their
 * caches' TTLs (--key-cache-ms, TABLE_CACHE_TTL_MS); when their subscriber comes back they drop every cache.
 * Caches stay per instance: keyauth (keys, by hash; by organization; by environment), project_guard
 * (project rules), table_cache (table definitions). Without fleet_bus_join nothing else happens: no thread,
 * no Redis, no cost.
 * Ownership: fleet_bus_new borrows the caches, which must outlive it; fleet_bus_free stops the subscriber.
 * Thread-safe. */
#ifndef BASALT_CORE_FLEET_BUS_H
#define BASALT_CORE_FLEET_BUS_H

#include "core/keyauth.h"
#include "core/project_guard.h"
#include "store/docs.h"
#include "util/err.h"
#include "util/strbuf.h"

typedef enum fleet_kind {
    FLEET_ALL = 0,     /* every cache (id ignored) */
    FLEET_KEY = 1,     /* an API key or token, by its SHA-256 hex: revoked, deleted */
    FLEET_ORG = 2,     /* an organization: plan, quotas, status (suspension) */
    FLEET_ENV = 3,     /* an environment's keys: deleted */
    FLEET_PROJECT = 4, /* a project's rules: allowedOrigins, ipWhitelist, apiCallLimit; deleted */
    FLEET_TABLES = 5,  /* an environment's tables: created, changed, permissions, indexes, dropped */
    FLEET_ENV_HOLD = 6,    /* an environment being moved by the publisher: writes refused, the writes inside
                              drained (fleet_bus_require); renewed every second while the move runs */
    FLEET_ENV_RELEASE = 7, /* the move ended: writes go on, the environment is located again */
    FLEET_KINDS
} fleet_kind;

/* The per-instance caches the bus invalidates (borrowed; either may be NULL: a CLI has none). */
typedef struct fleet_caches {
    keyauth *keys;
    project_guard *guard;
    store_docs *docs; /* an environment's route, held while another instance moves it */
} fleet_caches;

#define FLEET_HOLD_MS 30000      /* a hold not renewed (the mover died or lost Redis) ends after this */
#define FLEET_HOLD_DRAIN_MS 500  /* a hold waits this long for the writes inside (under STORE_BUS_WAIT_MS) */

typedef struct fleet_bus fleet_bus;

fleet_bus *fleet_bus_new(const fleet_caches *caches);
void fleet_bus_free(fleet_bus *b);
/* Joins the fleet's bus on Redis (url), namespaced by ns (one installation); listen 1 starts the
 * subscriber (a server), 0 only publishes (a CLI). 0, or -1 with err (a bad URL). */
int fleet_bus_join(fleet_bus *b, const char *url, int timeout_ms, const char *ns, int listen, bs_err *err);
/* The namespace of an installation: a hex digest of its master key (every instance of a fleet shares
 * DATA/master.key, no other installation has it; the key itself cannot be recovered from it). */
void fleet_bus_namespace(const uint8_t master_key[32], char out[33]);
/* Applies (kind, id) here and, joined, on every live instance (see above). Never fails for the caller. */
void fleet_bus_publish(fleet_bus *b, fleet_kind kind, const char *id);
/* Applies (kind, id) to this instance's caches only (what a message does on arrival): 0, or -1 when it
 * could not (a hold whose writes did not leave in time). */
int fleet_bus_apply(fleet_bus *b, fleet_kind kind, const char *id);
/* Publishes (kind, id) to the other instances only, and requires them all to apply it: 0 when every live
 * instance did (or this instance is alone), else -1 with err (503: Redis unreachable, an instance did not
 * answer within STORE_BUS_WAIT_MS, or one could not apply it). */
int fleet_bus_require(fleet_bus *b, fleet_kind kind, const char *id, bs_err *err);
/* 1 when the instance is in a fleet (joined the bus). */
int fleet_bus_joined(const fleet_bus *b);
/* 1 when joined and subscribed, 0 joined and not subscribed, -1 not joined. */
int fleet_bus_subscribed(fleet_bus *b);
/* The basalt_fleet_* series (nothing when not joined). */
int fleet_bus_render_prometheus(fleet_bus *b, strbuf *out);

#endif
