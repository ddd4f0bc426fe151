#include "core/env_lifecycle.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/files.h"
#include "util/clock.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/ticker.h"

#define TOUCH_SLOTS 1024
#define TOUCH_LOCKS 32
#define DELETIONS_PER_SWEEP 64

typedef struct touch_slot {
    char env_id[STORE_ID_MAX];      /* under the slot's lock */
    _Atomic uint64_t hash;          /* of env_id, and written_ms: read without the lock on the fast path */
    _Atomic int64_t written_ms;
} touch_slot;

struct env_lifecycle {
    env_stores st;
    int64_t interval_ms;
    pthread_mutex_t locks[TOUCH_LOCKS];
    touch_slot slots[TOUCH_SLOTS];
    ticker *sweeper;                /* NULL: no sweeps (interval 0) */
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

/* Drops the environment's keys from the key cache, so none is trusted for --key-cache-ms after this. */
static int env_forget_keys(const env_stores *st, const char *env_id, bs_err *err)
{
    enum { KEYS_PER_ENV_MAX = 1000 };
    store_api_key_row *rows = calloc(KEYS_PER_ENV_MAX, sizeof *rows);
    size_t n = 0;
    if (!rows) return bs_err_internal(err);
    int rc = store_control_api_key_list(st->control, env_id, rows, KEYS_PER_ENV_MAX, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++) keyauth_forget(st->keys, rows[i].key.hash);
    free(rows);
    return rc;
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

static uint64_t hash_of(const char *env_id)
{
    return hash64_str(env_id) | 1; /* never 0, the empty slot */
}

/* 1 when this use should be written (none written for ENV_TOUCH_INTERVAL_MS); marks it written. */
static int touch_due(env_lifecycle *l, const char *env_id, int64_t now)
{
    uint64_t h = hash_of(env_id);
    size_t s = (size_t)(h % TOUCH_SLOTS);
    touch_slot *slot = &l->slots[s];
    int64_t written = atomic_load_explicit(&slot->written_ms, memory_order_relaxed);
    if (atomic_load_explicit(&slot->hash, memory_order_relaxed) == h && now >= written && now - written < ENV_TOUCH_INTERVAL_MS)
        return 0; /* the common case, no lock: written recently (a hash collision at worst delays one record) */
    pthread_mutex_t *lock = &l->locks[s % TOUCH_LOCKS];
    pthread_mutex_lock(lock);
    written = atomic_load(&slot->written_ms);
    int due = strcmp(slot->env_id, env_id) != 0 || now - written >= ENV_TOUCH_INTERVAL_MS || now < written;
    if (due) {
        snprintf(slot->env_id, sizeof slot->env_id, "%s", env_id);
        atomic_store(&slot->hash, h);
        atomic_store(&slot->written_ms, now);
    }
    pthread_mutex_unlock(lock);
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
    if (env_lifecycle_sweep(&l->st, &err) < 0) log_warn("environment sweep failed: %s", err.message);
}

env_lifecycle *env_lifecycle_new(const env_stores *st, int64_t interval_ms)
{
    env_lifecycle *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->st = *st;
    l->interval_ms = interval_ms;
    for (int i = 0; i < TOUCH_LOCKS; i++) pthread_mutex_init(&l->locks[i], NULL);
    if (interval_ms > 0 && !(l->sweeper = ticker_new(interval_ms, 1, sweep, l))) log_warn("environment sweeper not started");
    return l;
}

void env_lifecycle_free(env_lifecycle *l)
{
    if (!l) return;
    ticker_free(l->sweeper);
    for (int i = 0; i < TOUCH_LOCKS; i++) pthread_mutex_destroy(&l->locks[i]);
    free(l);
}
