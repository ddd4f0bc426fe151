#include "core/fleet_bus.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/table_cache.h"
#include "store/bus.h"
#include "store/docs_driver.h"
#include "util/check.h"
#include "util/crypto.h"
#include "util/log.h"

struct fleet_bus {
    fleet_caches caches;
    store_bus *bus;    /* NULL: this instance alone */
};

fleet_bus *fleet_bus_new(const fleet_caches *caches)
{
    fleet_bus *b = calloc(1, sizeof *b);
    if (b) b->caches = *caches;
    return b;
}

void fleet_bus_free(fleet_bus *b)
{
    if (!b) return;
    store_bus_free(b->bus); /* stops the subscriber before the caches can go */
    free(b);
}

void fleet_bus_namespace(const uint8_t master_key[32], char out[33])
{
    uint8_t mac[32];
    crypto_hmac_sha256(master_key, 32, "basalt fleet bus v1", 19, mac);
    crypto_hex(mac, 16, out);
}

/* Another instance moves the environment id: writes refused here until it releases it (at most
 * FLEET_HOLD_MS without a renewal), once the writes inside left. -1 when they did not leave in time. */
static int env_hold(fleet_bus *b, const char *id)
{
    if (!b->caches.docs) return 0;
    bs_err err;
    bs_err_clear(&err);
    if (store_docs_route_hold(b->caches.docs, id, FLEET_HOLD_MS, FLEET_HOLD_DRAIN_MS, &err) == 0) return 0;
    log_warn("fleet bus: writes to environment %.64s still running after %d ms: its move must not start", id,
             FLEET_HOLD_DRAIN_MS);
    return -1;
}

int fleet_bus_apply(fleet_bus *b, fleet_kind kind, const char *id)
{
    BS_ASSERT(kind >= FLEET_ALL && kind < FLEET_KINDS);
    keyauth *keys = b->caches.keys;
    project_guard *guard = b->caches.guard;
    switch (kind) {
    case FLEET_ENV_HOLD: return env_hold(b, id);
    case FLEET_ENV_RELEASE: if (b->caches.docs) store_docs_route_release(b->caches.docs, id); break;
    case FLEET_KEY: if (keys) keyauth_forget(keys, id); break;
    case FLEET_ORG: if (keys) keyauth_forget_org(keys, id); break;
    case FLEET_ENV: if (keys) keyauth_forget_env(keys, id); break;
    case FLEET_PROJECT: if (guard) project_guard_forget(guard, id); break;
    case FLEET_TABLES: table_cache_bump(); break;
    default:
        if (keys) keyauth_forget_all(keys);
        if (guard) project_guard_forget_all(guard);
        table_cache_bump(); /* (a move's hold stays: it ends with its release, or runs out) */
    }
    return 0;
}

/* A store_bus_apply_fn: a message from another instance (or kind 0: drop everything). */
static int on_message(void *arg, int kind, const char *id)
{
    fleet_bus *b = arg;
    return fleet_bus_apply(b, kind > FLEET_ALL && kind < FLEET_KINDS ? (fleet_kind)kind : FLEET_ALL, id);
}

int fleet_bus_join(fleet_bus *b, const char *url, int timeout_ms, const char *ns, int listen, bs_err *err)
{
    BS_ASSERT(!b->bus);
    store_bus_config c = {.url = url, .timeout_ms = timeout_ms, .ns = ns, .listen = listen, .apply = on_message, .arg = b};
    b->bus = store_bus_open(&c, err);
    return b->bus ? 0 : -1;
}

void fleet_bus_publish(fleet_bus *b, fleet_kind kind, const char *id)
{
    BS_ASSERT(kind > FLEET_ALL && kind < FLEET_KINDS && id);
    fleet_bus_apply(b, kind, id);
    if (!b->bus) return;
    bs_err err;
    bs_err_clear(&err);
    int rc = store_bus_publish(b->bus, (int)kind, id, &err);
    if (rc < 0)
        log_warn("fleet bus: invalidation %d %.64s not published (%s); other instances rely on their cache TTLs", (int)kind, id,
                 err.message);
    else if (rc > 0)
        log_warn("fleet bus: invalidation %d %.64s not acknowledged by every instance within %d ms", (int)kind, id, STORE_BUS_WAIT_MS);
}

int fleet_bus_require(fleet_bus *b, fleet_kind kind, const char *id, bs_err *err)
{
    BS_ASSERT(kind > FLEET_ALL && kind < FLEET_KINDS && id);
    if (!b || !b->bus) return 0;
    int rc = store_bus_publish(b->bus, (int)kind, id, err);
    if (rc == 1) return bs_err_set(err, 503, "common/unavailable", "Not every instance of the fleet answered within %d ms", STORE_BUS_WAIT_MS);
    if (rc == 2) return bs_err_set(err, 503, "common/unavailable", "An instance of the fleet could not hold the environment");
    return rc;
}

int fleet_bus_joined(const fleet_bus *b) { return b && b->bus; }

int fleet_bus_subscribed(fleet_bus *b)
{
    if (!b || !b->bus) return -1;
    store_bus_stats s;
    store_bus_stats_get(b->bus, &s);
    return s.subscribed;
}

int fleet_bus_render_prometheus(fleet_bus *b, strbuf *out)
{
    if (!b || !b->bus) return 0;
    store_bus_stats s;
    store_bus_stats_get(b->bus, &s);
    return strbuf_appendf(out,
                   "# TYPE basalt_fleet_invalidations_published_total counter\nbasalt_fleet_invalidations_published_total %lld\n"
                   "# TYPE basalt_fleet_invalidation_publish_failures_total counter\n"
                   "basalt_fleet_invalidation_publish_failures_total %lld\n"
                   "# TYPE basalt_fleet_invalidation_timeouts_total counter\nbasalt_fleet_invalidation_timeouts_total %lld\n"
                   "# TYPE basalt_fleet_invalidations_received_total counter\nbasalt_fleet_invalidations_received_total %lld\n"
                   "# TYPE basalt_fleet_cache_resyncs_total counter\nbasalt_fleet_cache_resyncs_total %lld\n"
                   "# TYPE basalt_fleet_bus_subscribed gauge\nbasalt_fleet_bus_subscribed %d\n",
                   (long long)s.published, (long long)s.publish_failures, (long long)s.wait_timeouts, (long long)s.received,
                   (long long)s.resyncs, s.subscribed) < 0 ? -1 : 0;
}
