#include "core/env_lifecycle.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/files.h"
#include "util/clock.h"
#include "util/cache.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/ticker.h"

#define TOUCH_SLOTS 1024
#define TOUCH_LOCKS 32
#define DELETIONS_PER_SWEEP 64

struct env_lifecycle {
    env_stores st;
    int64_t interval_ms;
    cache *written;                 /* environments whose use was written less than ENV_TOUCH_INTERVAL_MS ago */
    ticker *sweeper;                /* NULL: no sweeps (interval 0) */
    jobs_lease *lease;              /* sweeps only while held (NULL: always) */
};

/* ---- deletion (platform.md §5.6) ---- */

/* Deletes every stored object of the environment (file bytes), in batches. */
static int env_drop_files(const env_stores *st, const char *env_id, bs_err *err)
{
    char (*keys)[STORE_BLOB_KEY_MAX + 1] = calloc(256, sizeof *keys);
    char after[STORE_BLOB_KEY_MAX + 1] = "";
    size_t n = 0;
    int rc = keys ? 0 : bs_err_internal(err), found = 0;
    while (rc == 0 && (rc = store_objects_keys(st->docs, env_id, after, keys, 256, &n, err)) == 0 && n > 0) {
        for (size_t i = 0; rc == 0 && i < n; i++) rc = store_blobs_delete(st->blobs, keys[i], &found, err);
        snprintf(after, sizeof after, "%s", keys[n - 1]);
    }
    free(keys);
    return rc;
}

/* Drops the environment's keys from every instance's key cache, so none is trusted for --key-cache-ms
 * after this (core/fleet_bus). */
static int env_forget_keys(const env_stores *st, const char *env_id, bs_err *err)
{
    (void)err;
    fleet_bus_publish(st->bus, FLEET_ENV, env_id);
    return 0;
}

int env_lifecycle_remove(const env_stores *st, const store_env *e, bs_err *err)
{
    int found = 0;
    int64_t freed = 0;
    if (store_control_env_set_status(st->control, e->id, "deleting", clock_now_ms(), &found, err) < 0 ||
        env_forget_keys(st, e->id, err) < 0 || env_drop_files(st, e->id, err) < 0 || store_docs_env_drop(st->docs, e->id, err) < 0 ||
        store_control_env_delete(st->control, e->id, &found, err) < 0)
        return -1;
    return store_control_slots_reclaim(st->control, clock_now_ms(), &freed, err); /* step 7: the slot joins the reuse queue */
}

int env_lifecycle_place(const env_stores *st, store_env *e, bs_err *err)
{
    store_placement where;
    int dedicated = strcmp(e->type, "dev") != 0;
    int capacity = st->shared_cluster_slots > 0 ? st->shared_cluster_slots : 100;
    if (store_control_env_place(st->control, e->id, dedicated, capacity, clock_now_ms(), &where, err) < 0) return -1;
    snprintf(e->cluster, sizeof e->cluster, "%s", where.cluster_id);
    e->slot = where.slot;
    return 0;
}

int env_lifecycle_place_unplaced(const env_stores *st, bs_err *err)
{
    store_env *envs = calloc(DELETIONS_PER_SWEEP, sizeof *envs);
    size_t n = 0;
    int rc = envs ? store_control_envs_unplaced(st->control, envs, DELETIONS_PER_SWEEP, &n, err) : bs_err_internal(err);
    for (size_t i = 0; rc == 0 && i < n; i++) rc = env_lifecycle_place(st, &envs[i], err);
    free(envs);
    return rc;
}

/* ---- use ---- */

/* What this thread last found written: most requests stop here, with no lock and no shared cache line
 * written (every request of an environment would otherwise take the same stripe's lock). */
#define TOUCH_MEMO 8
static _Thread_local struct {
    uint64_t hash;                  /* of the environment id; 0: empty */
    int64_t at;                     /* when this thread saw it written */
} touch_memo[TOUCH_MEMO];

/* 1 when this use should be written (none written for ENV_TOUCH_INTERVAL_MS); marks it written. Two
 * threads may both find a use due at once: the second write is harmless. The memo keeps when this thread
 * looked, not when the use was written, so a use is recorded at most two intervals late (the inactivity
 * periods are 30 and 90 days); a memo hash collision at worst delays one record too. */
static int touch_due(env_lifecycle *l, const char *env_id, int64_t now)
{
    uint64_t h = (hash64_str(env_id) ^ (uint64_t)(uintptr_t)l) | 1; /* the memo is per thread, not per lifecycle */
    size_t m = (size_t)(h % TOUCH_MEMO);
    if (touch_memo[m].hash == h && now >= touch_memo[m].at && now - touch_memo[m].at < ENV_TOUCH_INTERVAL_MS) return 0;
    char written = 1;
    int due = !cache_get(l->written, env_id, now, &written);
    if (due) cache_put(l->written, env_id, now, &written);
    touch_memo[m].hash = h;
    touch_memo[m].at = now;
    return due;
}

void env_lifecycle_touch(env_lifecycle *l, const char *env_id)
{
    int64_t now = clock_now_ms();
    if (!l || !env_id[0] || !touch_due(l, env_id, now)) return;
    bs_err err;
    int reactivated = 0;
    if (store_control_env_touch(l->st.control, env_id, now, &reactivated, &err) < 0)
        log_warn("environment %s: use not recorded: %s", env_id, err.message);
    else if (reactivated)
        log_info("environment %s reactivated by a request", env_id);
}

/* ---- the sweeper ---- */

int env_lifecycle_sweep(const env_stores *st, bs_err *err)
{
    int64_t now = clock_now_ms(), shut = 0, freed = 0;
    if (env_lifecycle_place_unplaced(st, err) < 0 || store_control_slots_reclaim(st->control, now, &freed, err) < 0) return -1;
    if (store_control_env_shutdown_idle(st->control, now, ENV_IDLE_DEV_MS, ENV_IDLE_OTHER_MS, &shut, err) < 0) return -1;
    if (shut) log_info("%lld idle environment(s) shut down", (long long)shut);
    store_env *due = calloc(DELETIONS_PER_SWEEP, sizeof *due);
    size_t n = 0;
    int rc = due ? store_control_env_deletions_due(st->control, now, due, DELETIONS_PER_SWEEP, &n, err) : bs_err_internal(err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        log_info("environment %s (%s) deleted after its inactivity period", due[i].id, due[i].name);
        rc = env_lifecycle_remove(st, &due[i], err);
    }
    free(due);
    return rc;
}

static void sweep(void *arg)
{
    env_lifecycle *l = arg;
    bs_err err;
    bs_err_clear(&err);
    if (!jobs_lease_held(l->lease, NULL)) return; /* another instance of the fleet sweeps */
    if (env_lifecycle_sweep(&l->st, &err) < 0) log_warn("environment sweep failed: %s", err.message);
}

env_lifecycle *env_lifecycle_new(const env_stores *st, int64_t interval_ms, jobs_lease *lease)
{
    env_lifecycle *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->st = *st;
    l->lease = lease;
    l->interval_ms = interval_ms;
    if (!(l->written = cache_new(TOUCH_SLOTS, TOUCH_LOCKS, 1, ENV_TOUCH_INTERVAL_MS, NULL))) {
        free(l);
        return NULL;
    }
    if (interval_ms > 0 && !(l->sweeper = ticker_new(interval_ms, 1, sweep, l))) log_warn("environment sweeper not started");
    return l;
}

void env_lifecycle_free(env_lifecycle *l)
{
    if (!l) return;
    ticker_free(l->sweeper);
    cache_free(l->written);
    free(l);
}
