/* env_move: see env_move.h. Each move is a slot of the registry (fixed, ENV_MOVES_MAX; a new move takes a
 * finished slot, the oldest first) and a thread that runs store/docs_move.h's steps and keeps the slot's
 * state; the registry's mutex guards every slot. */
#include "core/env_move.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fleet_bus.h"
#include "core/query.h"
#include "core/schema.h"
#include "store/docs_move.h"
#include "store/env_locator.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/log.h"
#include "util/ticker.h"

typedef struct move_slot {
    env_move_info info;
    int used, running, joinable;
    pthread_t thread;
    struct env_moves *owner;
    store_docs_move *move;
    store_placement target;
    ticker *hold;                /* in a fleet: renews the other instances' hold every second */
    atomic_int hold_lost;        /* a renewal was not applied by every instance: the move must not switch */
} move_slot;

struct env_moves {
    store_control *control;
    store_docs *docs;
    fleet_bus *bus;              /* NULL or alone: no other instance to hold */
    pthread_mutex_t lock;
    move_slot slots[ENV_MOVES_MAX];
};

env_moves *env_moves_new(store_control *control, store_docs *docs)
{
    env_moves *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->control = control;
    m->docs = docs;
    pthread_mutex_init(&m->lock, NULL);
    for (size_t i = 0; i < ENV_MOVES_MAX; i++) m->slots[i].owner = m;
    return m;
}

void env_moves_set_bus(env_moves *m, fleet_bus *bus)
{
    m->bus = bus;
}

void env_moves_free(env_moves *m)
{
    if (!m) return;
    for (size_t i = 0; i < ENV_MOVES_MAX; i++)
        if (m->slots[i].joinable) pthread_join(m->slots[i].thread, NULL);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* ---- the hooks of the copy ---- */

static void on_progress(void *ctx, int64_t done, int64_t total)
{
    move_slot *s = ctx;
    pthread_mutex_lock(&s->owner->lock);
    s->info.rows_done = done;
    s->info.rows_total = total;
    pthread_mutex_unlock(&s->owner->lock);
}

/* One stored index definition ({"name", "fields": {path: 1|-1}, "unique", "sparse"}) into def. */
static int index_def(struct json_object *in, const schema *sch, store_index_def *def, bs_err *err)
{
    struct json_object *name, *fields, *v;
    memset(def, 0, sizeof *def);
    if (!json_object_object_get_ex(in, "name", &name) || !json_object_object_get_ex(in, "fields", &fields) ||
        !json_object_is_type(fields, json_type_object))
        return bs_err_set(err, 500, "common/internal-error", "A stored index definition is unreadable");
    snprintf(def->name, sizeof def->name, "%s", json_object_get_string(name));
    json_object_object_foreach(fields, field, dir) {
        if (def->nfields == STORE_INDEX_MAX_FIELDS) return bs_err_internal(err);
        if (query_field_resolve(field, sch, &def->fields[def->nfields], err) < 0) return -1;
        def->desc[def->nfields++] = json_object_get_int(dir) < 0;
    }
    def->unique = json_object_object_get_ex(in, "unique", &v) && json_object_get_boolean(v);
    def->sparse = json_object_object_get_ex(in, "sparse", &v) && json_object_get_boolean(v);
    return 0;
}

/* The custom indexes of t, from its stored list (store_docs_move_hooks.index_defs). */
static int index_defs(void *ctx, const store_table *t, store_index_def **defs, size_t *n, bs_err *err)
{
    (void)ctx;
    *defs = NULL;
    *n = 0;
    struct json_object *list = json_tokener_parse(t->indexes_json ? t->indexes_json : "[]");
    struct json_object *doc = json_tokener_parse(t->schema_json ? t->schema_json : "{}");
    schema *sch = schema_compile(doc, err);
    size_t count = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
    int rc = sch ? 0 : -1;
    if (rc == 0 && count && !(*defs = calloc(count, sizeof **defs))) rc = bs_err_internal(err);
    for (size_t i = 0; rc == 0 && i < count; i++) rc = index_def(json_object_array_get_idx(list, i), sch, &(*defs)[i], err);
    if (rc == 0) {
        *n = count;
    } else {
        free(*defs);
        *defs = NULL;
    }
    schema_free(sch);
    json_object_put(doc);
    json_object_put(list);
    return rc;
}

/* ---- the move's thread ---- */

static void set_state(move_slot *s, const char *state)
{
    pthread_mutex_lock(&s->owner->lock);
    snprintf(s->info.state, sizeof s->info.state, "%s", state);
    pthread_mutex_unlock(&s->owner->lock);
}

/* The placement switch, under the route's exclusive use (store_docs_move_switch's sw). */
static int switch_placement(void *ctx, bs_err *err)
{
    move_slot *s = ctx;
    return store_control_env_move_commit(s->owner->control, s->info.env_id, &s->target, clock_now_ms(), err);
}

/* ---- the fleet's hold ----
 * The journal sees this instance's writes only, so in a fleet the other instances refuse writes to the
 * environment for the whole move (fleet_bus FLEET_ENV_HOLD, after their writes inside left) and take it up
 * again where the placement says once it ends (FLEET_ENV_RELEASE). The hold is renewed every second; a
 * renewal that not every instance applied stops the move before it switches (a hold that runs out lets
 * writes through that the copy does not see). */

static void hold_tick(void *arg)
{
    move_slot *s = arg;
    bs_err err;
    bs_err_clear(&err);
    if (fleet_bus_require(s->owner->bus, FLEET_ENV_HOLD, s->info.env_id, &err) == 0) return;
    if (!atomic_exchange(&s->hold_lost, 1)) log_warn("env move %s: the fleet's hold was not renewed: %s", s->info.id, err.message);
}

/* Holds env_id on every other instance and starts renewing it: 0, or -1 with err (503). */
static int hold_start(move_slot *s, const char *env_id, bs_err *err)
{
    atomic_store(&s->hold_lost, 0);
    s->hold = NULL;
    if (!fleet_bus_joined(s->owner->bus)) return 0;
    if (fleet_bus_require(s->owner->bus, FLEET_ENV_HOLD, env_id, err) < 0) {
        fleet_bus_require(s->owner->bus, FLEET_ENV_RELEASE, env_id, &(bs_err){0}); /* those that held */
        return -1;
    }
    if ((s->hold = ticker_new(1000, 0, hold_tick, s))) return 0;
    fleet_bus_require(s->owner->bus, FLEET_ENV_RELEASE, env_id, &(bs_err){0});
    return bs_err_internal(err);
}

/* 0 while every renewal of the hold was applied; -1 with err otherwise. */
static int hold_kept(move_slot *s, bs_err *err)
{
    if (!atomic_load(&s->hold_lost)) return 0;
    return bs_err_set(err, 503, "common/unavailable", "The other instances of the fleet stopped holding the environment");
}

/* Stops renewing and releases the other instances (they locate the environment again). */
static void hold_end(move_slot *s)
{
    if (!s->hold) return;
    ticker_free(s->hold);
    s->hold = NULL;
    bs_err err;
    bs_err_clear(&err);
    if (fleet_bus_require(s->owner->bus, FLEET_ENV_RELEASE, s->info.env_id, &err) < 0)
        log_warn("env move %s: not every instance was released (%s): their hold runs out within %d s", s->info.id, err.message,
                 FLEET_HOLD_MS / 1000);
}

static void *move_run(void *arg)
{
    move_slot *s = arg;
    bs_err err;
    bs_err_clear(&err);
    int rc = store_docs_move_copy(s->move, &err);
    if (rc == 0) rc = hold_kept(s, &err);
    int64_t blocked = 0, blocked_from = 0;
    if (rc == 0) {
        set_state(s, "catching-up");
        blocked = clock_mono_us();
        blocked_from = clock_now_ms(); /* just before: no write is refused earlier */
        rc = store_docs_move_block(s->move, ENV_MOVE_BLOCK_WAIT_MS, &err);
    }
    if (rc == 0) rc = store_docs_move_catch_up(s->move, &err);
    if (rc == 0) rc = hold_kept(s, &err);
    if (rc == 0) rc = store_docs_move_switch(s->move, ENV_MOVE_BLOCK_WAIT_MS, switch_placement, s, &err);
    if (blocked) blocked = (clock_mono_us() - blocked) / 1000;
    int64_t blocked_until = blocked_from ? clock_now_ms() : 0; /* writes are let through again (switch or failure) */
    hold_end(s);                   /* the other instances read the new placement before the old copy goes */
    store_docs_move_free(s->move); /* after a switch: the old copy goes; else the target's */
    pthread_mutex_lock(&s->owner->lock);
    s->info.blocked_from = blocked_from;
    s->info.blocked_until = blocked_until;
    s->move = NULL;
    s->running = 0;
    s->info.blocked_ms = blocked;
    s->info.finished_at = clock_now_ms();
    snprintf(s->info.state, sizeof s->info.state, "%s", rc == 0 ? "done" : "failed");
    if (rc < 0) s->info.error = err;
    pthread_mutex_unlock(&s->owner->lock);
    if (rc < 0) log_warn("env move %s: %s to %s failed: %s", s->info.id, s->info.env_id, s->info.to, err.message);
    else log_info("env move %s: %s moved from %s to %s (writes refused %lld ms)", s->info.id, s->info.env_id, s->info.from,
                  s->info.to, (long long)blocked);
    return NULL;
}

/* A free slot (never used, or the oldest finished one); NULL when every slot runs a move. */
static move_slot *slot_take(env_moves *m)
{
    move_slot *best = NULL;
    for (size_t i = 0; i < ENV_MOVES_MAX; i++) {
        move_slot *s = &m->slots[i];
        if (!s->used) return s;
        if (!s->running && (!best || s->info.finished_at < best->info.finished_at)) best = s;
    }
    return best;
}

/* Checks and pins the move: the environment, the target place, its location. */
static int move_prepare(env_moves *m, const char *env_id, const char *cluster_id, move_slot *s, bs_err *err)
{
    store_env env;
    int found = 0;
    if (store_control_env_get(m->control, env_id, &env, &found, err) < 0) return -1;
    if (!found) return bs_err_set(err, 404, "common/not-found", "Environment not found");
    if (store_control_env_move_target(m->control, env_id, cluster_id, &s->target, err) < 0) return -1;
    store_env_location loc;
    if (env_locator_of(&s->target, env_id, &loc, err) < 0) return -1;
    store_docs_move_hooks hooks = {.progress = on_progress, .index_defs = index_defs, .ctx = s};
    if (!(s->move = store_docs_move_new(m->docs, env_id, &loc, &hooks, err))) return -1;
    snprintf(s->info.env_id, sizeof s->info.env_id, "%s", env_id);
    if (hold_start(s, env_id, err) < 0) {
        store_docs_move_free(s->move);
        s->move = NULL;
        return -1;
    }
    snprintf(s->info.from, sizeof s->info.from, "%s", env.cluster);
    snprintf(s->info.to, sizeof s->info.to, "%s", cluster_id);
    return 0;
}

int env_moves_start(env_moves *m, const char *env_id, const char *cluster_id, env_move_info *out, bs_err *err)
{
    char hex[17];
    if (crypto_random_hex(hex, 8) < 0) return bs_err_internal(err);
    pthread_mutex_lock(&m->lock);
    move_slot *s = slot_take(m);
    if (s && s->joinable) pthread_join(s->thread, NULL); /* finished: its thread ended or is ending */
    if (s) {
        memset(&s->info, 0, sizeof s->info);
        s->used = 1;
        s->running = 1; /* reserved while it is prepared */
        s->joinable = 0;
    }
    pthread_mutex_unlock(&m->lock);
    if (!s) return bs_err_set(err, 503, "common/unavailable", "Too many moves are running");
    int rc = move_prepare(m, env_id, cluster_id, s, err);
    pthread_mutex_lock(&m->lock);
    snprintf(s->info.id, sizeof s->info.id, "mv_%s", hex);
    snprintf(s->info.state, sizeof s->info.state, "copying");
    s->info.started_at = clock_now_ms();
    if (rc == 0 && pthread_create(&s->thread, NULL, move_run, s) != 0) {
        store_docs_move_free(s->move);
        s->move = NULL;
        rc = bs_err_internal(err);
    }
    if (rc < 0) s->used = s->running = 0;
    else s->joinable = 1, *out = s->info;
    pthread_mutex_unlock(&m->lock);
    return rc;
}

void env_moves_get(env_moves *m, const char *id, env_move_info *out, int *found)
{
    *found = 0;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < ENV_MOVES_MAX && !*found; i++) {
        if (!m->slots[i].used || strcmp(m->slots[i].info.id, id) != 0) continue;
        *out = m->slots[i].info;
        *found = 1;
    }
    pthread_mutex_unlock(&m->lock);
}
