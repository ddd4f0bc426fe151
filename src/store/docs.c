/* docs: driver selection, per-environment routing and dispatch for the environment data stores (see
 * docs.h). The handle holds the driver of the --env-store location (the base) and one PostgreSQL driver per
 * other database server an environment is placed on (a registered cluster's URL, opened on first use), and
 * a route per environment used so far: which of those drivers serves it (from the locator, on first use),
 * how many calls are inside it, and what a move (docs_move.h) has set on it: writes blocked, the keys
 * written meanwhile (the journal), a location pinned for the move's target driver, a moment of exclusive
 * use for the switch. Every public call enters the environment's route, forwards to its driver and leaves.
 * Routes and drivers are only added, and freed with the handle. The helpers that only release what a call
 * filled in are driver-neutral and live here too. */
#include "store/docs.h"

#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/docs_driver.h"
#include "store/postgres/docs_pg.h"
#include "store/sqlite/docs_sqlite.h"
#include "util/check.h"
#include "util/clock.h"
#include "util/hash.h"
#include "util/log.h"

#define DOCS_ROUTE_BUCKETS 1024
#define DOCS_ROUTE_ENV_MAX 64
#define DOCS_PIN_WAIT_MS 30000     /* a move waits this long for the writes begun before it */
#define DOCS_JOURNAL_MAX 1000000     /* keys a move's journal holds; more and the move fails */
#define DOCS_ROUTE_STRIPES 8         /* counters of the calls that entered without the route's lock */

/* One driver: the base (url "") or a database server's. */
typedef struct docs_drv {
    struct docs_drv *next;
    store_docs *docs;                /* the owner (the locator wrapper's way back) */
    const store_docs_ops *ops;
    void *driver;
    char *url;                       /* "" for the base */
} docs_drv;

/* The keys written to an environment while a move copies it: "<table>\x1f<id>" for a record,
 * "<table>\x1f" for a table's definition (created, changed or dropped). */
typedef struct docs_journal {
    char **keys;
    size_t n, cap;
    int overflow;
} docs_journal;

/* Calls inside a route that entered without its lock, counted on a stripe of their thread's (one cache line
 * each, so the threads serving one busy environment do not write the same line). */
typedef struct route_stripe {
    atomic_int calls, writes;
    char pad[64 - 2 * sizeof(atomic_int)];
} route_stripe;

/* A call enters a route in one of two ways. While the route is quiet (located, and no move holds it: no
 * journal, pin, write block or exclusive use) it enters without the lock: it counts itself on its thread's
 * stripe, then checks `quiet` again (a move clears `quiet` first, then waits for the stripes to empty, so
 * either the call sees the move or the move sees the call). Otherwise it takes the lock and the counters
 * under it, as a move needs (the generation, the journal, the block). */
typedef struct docs_route {
    _Atomic(struct docs_route *) next;
    char env_id[DOCS_ROUTE_ENV_MAX];
    atomic_int quiet;                /* 1: calls may enter without the lock (route_quiet_update sets it) */
    route_stripe stripes[DOCS_ROUTE_STRIPES];
    pthread_mutex_t m;               /* everything below */
    pthread_cond_t changed;          /* a call left, or exclusive use ended */
    _Atomic(docs_drv *) drv;         /* NULL: not located yet; written under m, read without it while quiet */
    int inflight, inflight_writes;   /* calls that entered under the lock */
    int gen, writes_by_gen[2], old_gen; /* writes inside by the generation they began in (a pin starts one) */
    int waiters;                     /* a move waits on `changed` (calls leaving wake it) */
    int exclusive, writes_blocked;
    int64_t held_until_us;           /* another instance moves the environment (store_docs_route_hold): writes
                                        refused until released, or until this monotonic moment (then the
                                        route is located again) */
    docs_journal *journal;           /* not NULL while a move copies */
    docs_drv *pin_drv;               /* the move's target driver: its locator answers pin for this env */
    store_env_location pin;
} docs_route;

struct store_docs {
    docs_drv *base;
    pthread_mutex_t lock;            /* extra drivers */
    docs_drv *extra;
    pthread_mutex_t locate_lock;     /* locate, locate_arg */
    store_env_locate_fn locate;
    void *locate_arg;
    pthread_mutex_t routes_lock;     /* adding to the buckets' chains (read without it: routes are only added) */
    _Atomic(docs_route *) buckets[DOCS_ROUTE_BUCKETS];
};

/* Locations the data store understands; the first matching prefix wins. A location with no known prefix
 * and no "scheme://" is the SQLite data directory. */
static const struct {
    const char *prefix;
    const store_docs_ops *ops; /* NULL: recognised but not built yet */
    int whole;                 /* the driver receives the whole location (a URL), not what follows the prefix */
} docs_schemes[] = {
    {"sqlite:", &store_sqlite_docs_ops, 0},
    {"postgres://", &store_pg_docs_ops, 1},
    {"postgresql://", &store_pg_docs_ops, 1},
};

/* Finds the driver for location and the target text it receives. -1 with err filled when none fits. */
static int docs_pick(const char *location, const store_docs_ops **ops, const char **target, bs_err *err)
{
    if (!location || !*location)
        return bs_err_set(err, 500, "common/internal-error", "data store location is empty");
    for (size_t i = 0; i < sizeof docs_schemes / sizeof docs_schemes[0]; i++) {
        size_t n = strlen(docs_schemes[i].prefix);
        if (strncmp(location, docs_schemes[i].prefix, n) != 0) continue;
        if (!docs_schemes[i].ops)
            return bs_err_set(err, 500, "common/internal-error", "PostgreSQL data store not built yet");
        *ops = docs_schemes[i].ops;
        *target = docs_schemes[i].whole ? location : location + n;
        return 0;
    }
    const char *sep = strstr(location, "://");
    if (sep && !memchr(location, '/', (size_t)(sep - location)))
        return bs_err_set(err, 500, "common/internal-error", "unsupported data store location scheme");
    *ops = &store_sqlite_docs_ops;
    *target = location;
    return 0;
}

static docs_drv *drv_open(store_docs *docs, const char *location, bs_err *err)
{
    const store_docs_ops *ops = NULL;
    const char *target = NULL;
    if (docs_pick(location, &ops, &target, err) != 0) return NULL;
    if (!*target) {
        bs_err_set(err, 500, "common/internal-error", "data store path is empty");
        return NULL;
    }
    docs_drv *d = calloc(1, sizeof *d);
    if (!d || !(d->url = strdup(docs->base ? location : ""))) {
        free(d);
        bs_err_internal(err);
        return NULL;
    }
    d->docs = docs;
    d->ops = ops;
    if (!(d->driver = ops->open(target, err))) {
        free(d->url);
        free(d);
        return NULL;
    }
    return d;
}

static void drv_free(docs_drv *d)
{
    if (!d) return;
    d->ops->free(d->driver);
    free(d->url);
    free(d);
}

static void journal_free(docs_journal *j)
{
    if (!j) return;
    for (size_t i = 0; i < j->n; i++) free(j->keys[i]);
    free(j->keys);
    free(j);
}

static docs_route *route_find(store_docs *docs, const char *env_id, uint64_t h)
{
    for (docs_route *r = atomic_load_explicit(&docs->buckets[h % DOCS_ROUTE_BUCKETS], memory_order_acquire); r;
         r = atomic_load_explicit(&r->next, memory_order_acquire))
        if (!strcmp(r->env_id, env_id)) return r;
    return NULL;
}

/* Sets r->quiet from the state below r->m (held). */
static void route_quiet_update(docs_route *r)
{
    int quiet = atomic_load_explicit(&r->drv, memory_order_relaxed) && !r->journal && !r->pin_drv && !r->exclusive &&
                !r->writes_blocked && !r->held_until_us;
    atomic_store(&r->quiet, quiet);
}

/* The calls (write: the writes) inside r that entered without the lock. */
static int route_stripes_sum(const docs_route *r, int write)
{
    int n = 0;
    for (int i = 0; i < DOCS_ROUTE_STRIPES; i++) n += atomic_load(write ? &r->stripes[i].writes : &r->stripes[i].calls);
    BS_ASSERT(n >= 0);
    return n;
}

/* This thread's stripe. */
static int route_stripe_mine(void)
{
    static atomic_uint next_stripe;
    static _Thread_local int mine = -1;
    if (mine < 0) mine = (int)(atomic_fetch_add_explicit(&next_stripe, 1, memory_order_relaxed) % DOCS_ROUTE_STRIPES);
    return mine;
}

/* The route of env_id, created on first use; NULL (err set) only when out of memory or the id is too long. */
static docs_route *route_get(store_docs *docs, const char *env_id, bs_err *err)
{
    if (strnlen(env_id, DOCS_ROUTE_ENV_MAX) >= DOCS_ROUTE_ENV_MAX) {
        bs_err_set(err, 404, "data/environment-not-found", "Environment not found");
        return NULL;
    }
    uint64_t h = hash64_str(env_id);
    docs_route *r = route_find(docs, env_id, h);
    if (r) return r;
    pthread_mutex_lock(&docs->routes_lock);
    if (!(r = route_find(docs, env_id, h)) && (r = calloc(1, sizeof *r))) {
        snprintf(r->env_id, sizeof r->env_id, "%s", env_id);
        pthread_mutex_init(&r->m, NULL);
        pthread_cond_init(&r->changed, NULL);
        _Atomic(docs_route *) *head = &docs->buckets[h % DOCS_ROUTE_BUCKETS];
        atomic_store_explicit(&r->next, atomic_load_explicit(head, memory_order_relaxed), memory_order_relaxed);
        atomic_store_explicit(head, r, memory_order_release); /* published whole */
    }
    pthread_mutex_unlock(&docs->routes_lock);
    if (!r) bs_err_internal(err);
    return r;
}

/* The locator every driver of the handle asks (arg: its docs_drv): a pinned location for a move's target
 * driver, else the handle's locator. */
static int drv_locate(void *arg, const char *env_id, store_env_location *out, bs_err *err)
{
    const docs_drv *d = arg;
    store_docs *docs = d->docs;
    bs_err ignored;
    docs_route *r = env_id ? route_get(docs, env_id, &ignored) : NULL;
    if (r) {
        pthread_mutex_lock(&r->m);
        int pinned = r->pin_drv == d;
        if (pinned) *out = r->pin;
        pthread_mutex_unlock(&r->m);
        if (pinned) return 0;
    }
    pthread_mutex_lock(&docs->locate_lock);
    store_env_locate_fn locate = docs->locate;
    void *larg = docs->locate_arg;
    pthread_mutex_unlock(&docs->locate_lock);
    if (!locate) {
        memset(out, 0, sizeof *out);
        snprintf(out->file, sizeof out->file, "envs/%s.db", env_id);
        return 0;
    }
    return locate(larg, env_id, out, err);
}

/* The driver serving a database server's url ("" or NULL: the base), opened on first use. */
static docs_drv *drv_for_url(store_docs *docs, const char *url, bs_err *err)
{
    if (!url || !url[0]) return docs->base;
    pthread_mutex_lock(&docs->lock);
    docs_drv *d = docs->extra;
    while (d && strcmp(d->url, url)) d = d->next;
    if (!d && (d = drv_open(docs, url, err))) {
        d->ops->set_locator(d->driver, drv_locate, d);
        d->next = docs->extra;
        docs->extra = d;
    }
    pthread_mutex_unlock(&docs->lock);
    return d;
}

/* Which driver serves env_id: the locator's answer. */
static docs_drv *route_locate(store_docs *docs, const char *env_id, bs_err *err)
{
    pthread_mutex_lock(&docs->locate_lock);
    store_env_locate_fn locate = docs->locate;
    void *arg = docs->locate_arg;
    pthread_mutex_unlock(&docs->locate_lock);
    if (!locate) return docs->base;
    store_env_location loc;
    memset(&loc, 0, sizeof loc);
    if (locate(arg, env_id, &loc, err) < 0) return NULL;
    return drv_for_url(docs, loc.url, err);
}

/* 1 when env_id can name a route: else the call goes to the base driver, which answers it as it does. */
static int routable(const char *env_id)
{
    return env_id && env_id[0] && strnlen(env_id, DOCS_ROUTE_ENV_MAX) < DOCS_ROUTE_ENV_MAX;
}

static int journal_add(docs_journal *j, const char *table, const char *id)
{
    if (j->overflow) return 0;
    if (j->n == j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 256;
        char **keys = cap <= DOCS_JOURNAL_MAX ? realloc(j->keys, cap * sizeof *keys) : NULL;
        if (!keys) {
            j->overflow = 1;
            return 0;
        }
        j->keys = keys;
        j->cap = cap;
    }
    size_t tn = strlen(table), in = id ? strlen(id) : 0;
    char *k = malloc(tn + in + 2);
    if (!k) {
        j->overflow = 1;
        return 0;
    }
    memcpy(k, table, tn); /* bounded: allocated tn + in + 2 */
    k[tn] = '\x1f';
    memcpy(k + tn + 1, id ? id : "", in); /* bounded: allocated tn + in + 2 */
    k[tn + 1 + in] = '\0';
    j->keys[j->n++] = k;
    return 0;
}

/* Records that a write of (table, id) is coming (id NULL: the table's definition) while a move copies. */
static void route_mark(docs_route *r, const char *table, const char *id)
{
    if (!r || !table || atomic_load(&r->quiet)) return; /* quiet: no journal (a pin waits for this write) */
    pthread_mutex_lock(&r->m);
    if (r->journal) journal_add(r->journal, table, id);
    pthread_mutex_unlock(&r->m);
}

/* Leaves r entered without the lock; wakes a move waiting for the stripes to empty. */
static void call_leave_quiet(docs_route *r, const store_docs_call *call)
{
    BS_ASSERT(call->stripe >= 0 && call->stripe < DOCS_ROUTE_STRIPES);
    route_stripe *s = &r->stripes[call->stripe];
    if (call->write) atomic_fetch_sub(&s->writes, 1);
    atomic_fetch_sub(&s->calls, 1);
    if (atomic_load(&r->quiet)) return;
    pthread_mutex_lock(&r->m);
    if (r->waiters) pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->m);
}

/* Enters r without its lock if it is quiet: 1 entered, 0 not (take the lock). */
static int call_enter_quiet(docs_route *r, int write, store_docs_call *call)
{
    if (!atomic_load(&r->quiet)) return 0;
    route_stripe *s = &r->stripes[route_stripe_mine()];
    atomic_fetch_add(&s->calls, 1);
    if (write) atomic_fetch_add(&s->writes, 1);
    docs_drv *d = atomic_load(&r->quiet) ? atomic_load_explicit(&r->drv, memory_order_acquire) : NULL;
    call->route = r;
    call->write = write;
    call->stripe = (int)(s - r->stripes);
    if (!d) { /* a move or a drop came between: leave again (waking the move that saw us), the lock decides */
        call_leave_quiet(r, call);
        call->route = NULL;
        call->write = 0;
        call->stripe = -1;
        return 0;
    }
    call->ops = d->ops;
    call->driver = d->driver;
    return 1;
}

/* Ends another instance's hold on r (r->m held): writes go on, and the environment is located again (its
 * move may have switched it), unless a move of this instance pins it. */
static void route_release_locked(docs_route *r)
{
    r->held_until_us = 0;
    if (!r->pin_drv) atomic_store(&r->drv, NULL);
    route_quiet_update(r);
    pthread_cond_broadcast(&r->changed);
}

int store_docs_call_begin(store_docs *docs, const char *env_id, int write, store_docs_call *call, bs_err *err)
{
    memset(call, 0, sizeof *call);
    call->stripe = -1;
    if (!docs) return bs_err_internal(err);
    call->ops = docs->base->ops;
    call->driver = docs->base->driver;
    if (!routable(env_id)) return 0;
    docs_route *r = route_get(docs, env_id, err);
    if (!r) return -1;
    if (call_enter_quiet(r, write, call)) return 0;
    pthread_mutex_lock(&r->m);
    for (;;) {
        while (r->exclusive) pthread_cond_wait(&r->changed, &r->m);
        if (r->held_until_us && clock_mono_us() >= r->held_until_us) route_release_locked(r); /* never released */
        if (write && (r->writes_blocked || r->held_until_us)) {
            pthread_mutex_unlock(&r->m);
            return bs_err_set(err, 503, "environment/moving", /* STORE_ENV_MOVING_CODE */
                              "The environment is moving to another cluster: writes resume within seconds");
        }
        if (atomic_load_explicit(&r->drv, memory_order_relaxed)) break;
        pthread_mutex_unlock(&r->m); /* the locator may be slow */
        docs_drv *d = route_locate(docs, env_id, err);
        if (!d) return -1;
        pthread_mutex_lock(&r->m);
        if (!atomic_load_explicit(&r->drv, memory_order_relaxed) && !r->exclusive) {
            atomic_store_explicit(&r->drv, d, memory_order_release);
            route_quiet_update(r);
        }
    }
    docs_drv *d = atomic_load_explicit(&r->drv, memory_order_relaxed);
    r->inflight++;
    if (write) {
        r->inflight_writes++;
        call->gen = r->gen & 1;
        r->writes_by_gen[call->gen]++;
    }
    call->ops = d->ops;
    call->driver = d->driver;
    call->route = r;
    call->write = write;
    pthread_mutex_unlock(&r->m);
    return 0;
}

void store_docs_call_end(store_docs_call *call)
{
    docs_route *r = call->route;
    if (!r) return;
    if (call->stripe >= 0) {
        call_leave_quiet(r, call);
        call->route = NULL;
        return;
    }
    pthread_mutex_lock(&r->m);
    r->inflight--;
    if (call->write) {
        r->inflight_writes--;
        r->writes_by_gen[call->gen & 1]--;
    }
    if (r->waiters) pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->m);
    call->route = NULL;
}

void store_docs_call_mark(store_docs_call *call, const char *table, const char *id)
{
    route_mark(call->route, table, id);
}

store_docs *store_docs_open(const char *data_dir, bs_err *err)
{
    store_docs *docs = calloc(1, sizeof *docs);
    if (!docs) {
        bs_err_internal(err);
        return NULL;
    }
    pthread_mutex_init(&docs->lock, NULL);
    pthread_mutex_init(&docs->locate_lock, NULL);
    pthread_mutex_init(&docs->routes_lock, NULL);
    if (!(docs->base = drv_open(docs, data_dir, err))) {
        store_docs_free(docs);
        return NULL;
    }
    docs->base->ops->set_locator(docs->base->driver, drv_locate, docs->base);
    return docs;
}

void store_docs_free(store_docs *docs)
{
    if (!docs) return;
    drv_free(docs->base);
    while (docs->extra) {
        docs_drv *next = docs->extra->next;
        drv_free(docs->extra);
        docs->extra = next;
    }
    for (size_t i = 0; i < DOCS_ROUTE_BUCKETS; i++) {
        for (docs_route *r = atomic_load(&docs->buckets[i]), *next; r; r = next) {
            next = atomic_load(&r->next);
            journal_free(r->journal);
            pthread_mutex_destroy(&r->m);
            pthread_cond_destroy(&r->changed);
            free(r);
        }
    }
    pthread_mutex_destroy(&docs->lock);
    pthread_mutex_destroy(&docs->locate_lock);
    pthread_mutex_destroy(&docs->routes_lock);
    free(docs);
}

/* ---- releasing what the calls filled ---- */

void store_table_release(store_table *t)
{
    if (!t) return;
    free(t->schema_json);
    free(t->permissions_json);
    free(t->display_name);
    free(t->description);
    free(t->indexes_json);
    t->schema_json = t->permissions_json = t->display_name = t->description = t->indexes_json = NULL;
}

void store_table_list_free(store_table *tables, size_t count)
{
    for (size_t i = 0; i < count; i++) store_table_release(&tables[i]);
    free(tables);
}

void store_version_list_free(store_version *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) free(v[i].body);
    free(v);
}

void store_version_release(store_version *v)
{
    if (v) free(v->body);
}

void store_explain_release(store_explain *e)
{
    if (e) json_object_put(e->steps);
}


int store_docs_server_check(const char *url, int dedicated, bs_err *err)
{
    if (!url || (strncmp(url, "postgres://", 11) != 0 && strncmp(url, "postgresql://", 13) != 0))
        return bs_err_set(err, 400, "common/invalid-parameters", "A cluster's URL is a postgres:// URL");
    return docs_pg_server_check(url, dedicated, err);
}

void store_docs_set_locator(store_docs *docs, store_env_locate_fn locate, void *arg)
{
    if (!docs) return;
    pthread_mutex_lock(&docs->locate_lock);
    docs->locate = locate;
    docs->locate_arg = arg;
    pthread_mutex_unlock(&docs->locate_lock);
}

int store_docs_table_create(store_docs *docs, const char *env_id, const store_table *t, const char *created_by,
                            bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(docs, env_id, 1, &call, err) < 0) return -1;
    store_docs_call_mark(&call, t->name, NULL);
    int rc = call.ops->table_create(call.driver, env_id, t, created_by, err);
    store_docs_call_end(&call);
    return rc;
}

int store_docs_table_get(store_docs *docs, const char *env_id, const char *name, store_table *out, int *found,
                         bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(docs, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->table_get(call.driver, env_id, name, out, found, err);
    store_docs_call_end(&call);
    return rc;
}

int store_docs_table_list(store_docs *docs, const char *env_id, store_table **out, size_t *count, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(docs, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->table_list(call.driver, env_id, out, count, err);
    store_docs_call_end(&call);
    return rc;
}

int store_docs_table_update(store_docs *docs, const char *env_id, const store_table *t, int *found, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(docs, env_id, 1, &call, err) < 0) return -1;
    store_docs_call_mark(&call, t->name, NULL);
    int rc = call.ops->table_update(call.driver, env_id, t, found, err);
    store_docs_call_end(&call);
    return rc;
}

int store_docs_table_drop(store_docs *docs, const char *env_id, const char *name, int *found, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(docs, env_id, 1, &call, err) < 0) return -1;
    store_docs_call_mark(&call, name, NULL);
    int rc = call.ops->table_drop(call.driver, env_id, name, found, err);
    store_docs_call_end(&call);
    return rc;
}

int store_docs_count(store_docs *docs, const char *env_id, const char *table, int64_t *count, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(docs, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->count(call.driver, env_id, table, count, err);
    store_docs_call_end(&call);
    return rc;
}

int store_docs_indexes_change(store_docs *docs, const char *env_id, const char *table, const store_index_def *create,
                              size_t ncreate, const char *const *drop, size_t ndrop, const char *indexes_json,
                              int index_version, const char *created_by, int *found, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(docs, env_id, 1, &call, err) < 0) return -1;
    store_docs_call_mark(&call, table, NULL);
    int rc = call.ops->indexes_change(call.driver, env_id, table, create, ncreate, drop, ndrop, indexes_json, index_version,
        created_by, found, err);
    store_docs_call_end(&call);
    return rc;
}

int store_docs_versions(store_docs *docs, const char *env_id, const char *table, store_version_kind kind,
                        store_version **out, size_t *count, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(docs, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->versions(call.driver, env_id, table, kind, out, count, err);
    store_docs_call_end(&call);
    return rc;
}

int store_docs_version_get(store_docs *docs, const char *env_id, const char *table, store_version_kind kind,
                           int version, store_version *out, int *found, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(docs, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->version_get(call.driver, env_id, table, kind, version, out, found, err);
    store_docs_call_end(&call);
    return rc;
}

int store_docs_schema_change(store_docs *docs, const char *env_id, const char *table, const char *schema_json,
                             int new_version, const char *created_by, int *found, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(docs, env_id, 1, &call, err) < 0) return -1;
    store_docs_call_mark(&call, table, NULL);
    int rc = call.ops->schema_change(call.driver, env_id, table, schema_json, new_version, created_by, found, err);
    store_docs_call_end(&call);
    return rc;
}

int store_docs_env_drop(store_docs *docs, const char *env_id, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(docs, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->env_drop(call.driver, env_id, err);
    docs_route *r = call.route;
    store_docs_call_end(&call);
    if (r) { /* a later use asks the locator again */
        pthread_mutex_lock(&r->m);
        if (!r->pin_drv) {
            atomic_store(&r->drv, NULL);
            route_quiet_update(r);
        }
        pthread_mutex_unlock(&r->m);
    }
    return rc;
}

int store_docs_insert(store_docs *docs, const char *env_id, const char *table, const store_record *records, size_t n,
                      size_t *failed_index, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(docs, env_id, 1, &call, err) < 0) return -1;
    for (size_t i = 0; i < n; i++) store_docs_call_mark(&call, table, records[i].id);
    int rc = call.ops->insert(call.driver, env_id, table, records, n, failed_index, err);
    store_docs_call_end(&call);
    return rc;
}

int store_docs_get(store_docs *docs, const char *env_id, const char *table, const char *id, strbuf *out,
                   char *created_by, int *found, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(docs, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->get(call.driver, env_id, table, id, out, created_by, found, err);
    store_docs_call_end(&call);
    return rc;
}

int store_docs_update(store_docs *docs, const char *env_id, const char *table, const char *id, const char *updated_at,
                      store_docs_mutate_fn mutate, void *ctx, strbuf *out, int *found, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(docs, env_id, 1, &call, err) < 0) return -1;
    store_docs_call_mark(&call, table, id);
    int rc = call.ops->update(call.driver, env_id, table, id, updated_at, mutate, ctx, out, found, err);
    store_docs_call_end(&call);
    return rc;
}

int store_docs_delete(store_docs *docs, const char *env_id, const char *table, const char *id, int *found, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(docs, env_id, 1, &call, err) < 0) return -1;
    store_docs_call_mark(&call, table, id);
    int rc = call.ops->delete(call.driver, env_id, table, id, found, err);
    store_docs_call_end(&call);
    return rc;
}

/* An asynchronous write's call, left when its done runs. */
typedef struct docs_async {
    store_docs_call call;
    store_docs_done_fn done;
    void *ctx;
} docs_async;

static void docs_async_done(void *arg, int rc)
{
    docs_async *a = arg;
    store_docs_call_end(&a->call);
    store_docs_done_fn done = a->done;
    void *ctx = a->ctx;
    free(a);
    done(ctx, rc);
}

static docs_async *docs_async_new(store_docs *docs, const char *env_id, store_docs_done_fn done, void *ctx, bs_err *err)
{
    docs_async *a = calloc(1, sizeof *a);
    if (!a) {
        bs_err_internal(err);
        return NULL;
    }
    a->done = done;
    a->ctx = ctx;
    if (store_docs_call_begin(docs, env_id, 1, &a->call, err) == 0) return a;
    free(a);
    return NULL;
}

int store_docs_insert_async(store_docs *docs, const char *env_id, const char *table, const store_record *records,
                            size_t n, size_t *failed_index, bs_err *err, store_docs_done_fn done, void *ctx)
{
    docs_async *a = docs_async_new(docs, env_id, done, ctx, err);
    if (!a) return -1;
    for (size_t i = 0; i < n; i++) store_docs_call_mark(&a->call, table, records[i].id);
    store_docs_call call = a->call; /* a may be gone once the driver took it */
    if (call.ops->insert_async(call.driver, env_id, table, records, n, failed_index, err, docs_async_done, a) == 0) return 0;
    store_docs_call_end(&a->call);
    free(a);
    return -1;
}

int store_docs_replace_async(store_docs *docs, const char *env_id, const char *table, const char *id,
                             const char *expected, const char *doc, const char *updated_at, int *replaced, bs_err *err,
                             store_docs_done_fn done, void *ctx)
{
    docs_async *a = docs_async_new(docs, env_id, done, ctx, err);
    if (!a) return -1;
    store_docs_call_mark(&a->call, table, id);
    store_docs_call call = a->call;
    if (call.ops->replace_async(call.driver, env_id, table, id, expected, doc, updated_at, replaced, err, docs_async_done,
                                a) == 0)
        return 0;
    store_docs_call_end(&a->call);
    free(a);
    return -1;
}

store_docs_tx *store_docs_tx_begin(store_docs *docs, const char *env_id, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(docs, env_id, 1, &call, err) < 0) return NULL;
    store_docs_tx *tx = call.ops->tx_begin(call.driver, env_id, err);
    if (!tx) {
        store_docs_call_end(&call);
        return NULL;
    }
    tx->route = call.route;
    tx->gen = call.gen;
    tx->stripe = call.stripe;
    return tx;
}

/* Leaves the call a transaction entered (its route, a write). */
static void tx_leave(void *route, int gen, int stripe)
{
    store_docs_call call = {.route = route, .write = 1, .gen = gen, .stripe = stripe};
    store_docs_call_end(&call);
}

int store_docs_tx_commit(store_docs_tx *tx, bs_err *err)
{
    if (!tx) return bs_err_internal(err);
    void *route = tx->route;
    int gen = tx->gen, stripe = tx->stripe;
    int rc = tx->ops->tx_commit(tx, err);
    tx_leave(route, gen, stripe);
    return rc;
}

void store_docs_tx_abort(store_docs_tx *tx)
{
    if (!tx) return;
    void *route = tx->route;
    int gen = tx->gen, stripe = tx->stripe;
    tx->ops->tx_abort(tx);
    tx_leave(route, gen, stripe);
}

int store_docs_tx_insert(store_docs_tx *tx, const char *table, const store_record *record, bs_err *err)
{
    if (!tx) return bs_err_internal(err);
    route_mark(tx->route, table, record->id);
    return tx->ops->tx_insert(tx, table, record, err);
}

int store_docs_tx_update(store_docs_tx *tx, const char *table, const char *id, const char *updated_at,
                         store_docs_mutate_fn mutate, void *ctx, strbuf *out, int *found, bs_err *err)
{
    if (!tx) return bs_err_internal(err);
    route_mark(tx->route, table, id);
    return tx->ops->tx_update(tx, table, id, updated_at, mutate, ctx, out, found, err);
}

int store_docs_tx_delete(store_docs_tx *tx, const char *table, const char *id, store_docs_mutate_fn check, void *ctx,
                         int *found, bs_err *err)
{
    if (!tx) return bs_err_internal(err);
    route_mark(tx->route, table, id);
    return tx->ops->tx_delete(tx, table, id, check, ctx, found, err);
}

int store_docs_list(store_docs *docs, const char *env_id, const char *table, const query_plan *plan,
                    const char *created_by_filter, store_docs_paging *paging, strbuf *items, int64_t *total,
                    bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(docs, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->list(call.driver, env_id, table, plan, created_by_filter, paging, items, total, err);
    store_docs_call_end(&call);
    return rc;
}

int store_docs_explain(store_docs *docs, const char *env_id, const char *table, const query_plan *plan,
                       const char *created_by_filter, store_explain *out, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(docs, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->explain(call.driver, env_id, table, plan, created_by_filter, out, err);
    store_docs_call_end(&call);
    return rc;
}

int store_docs_env_bytes(store_docs *docs, const char *env_id, uint64_t *bytes, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(docs, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->env_bytes(call.driver, env_id, bytes, err);
    store_docs_call_end(&call);
    return rc;
}

/* ---- a move's hold on a route (docs_driver.h) ---- */

/* The route of env_id, located. */
static docs_route *route_located(store_docs *docs, const char *env_id, bs_err *err)
{
    store_docs_call call;
    if (!routable(env_id))
        return bs_err_set(err, 404, "data/environment-not-found", "Environment not found"), NULL;
    if (store_docs_call_begin(docs, env_id, 0, &call, err) < 0) return NULL;
    docs_route *r = call.route;
    store_docs_call_end(&call);
    return r ? r : (bs_err_internal(err), NULL);
}

static int route_wait(docs_route *r, int (*done)(const docs_route *), int timeout_ms);
/* The writes that entered without the lock all began before the pin (it cleared `quiet`): old ones too. */
static int old_writes_done(const docs_route *r)
{
    return r->writes_by_gen[r->old_gen] == 0 && route_stripes_sum(r, 1) == 0;
}

int store_docs_route_pin(store_docs *docs, const char *env_id, const store_env_location *target, store_docs_side *src,
                         store_docs_side *dst, bs_err *err)
{
    docs_route *r = route_located(docs, env_id, err);
    docs_drv *to = r ? drv_for_url(docs, target->url, err) : NULL;
    docs_journal *j = to ? calloc(1, sizeof *j) : NULL;
    if (to && !j) bs_err_internal(err);
    if (!j) return -1;
    char here[STORE_ENV_URL_MAX + 64] = "", there[STORE_ENV_URL_MAX + 64] = "";
    to->ops->place_id(to->driver, there, sizeof there);
    pthread_mutex_lock(&r->m);
    docs_drv *from = atomic_load_explicit(&r->drv, memory_order_relaxed);
    BS_ASSERT(from); /* located */
    from->ops->place_id(from->driver, here, sizeof here);
    int busy = r->journal || r->pin_drv, same = from == to || !strcmp(here, there), late = 0;
    if (!busy && !same) {
        r->journal = j;
        r->pin_drv = to;
        r->pin = *target;
        route_quiet_update(r); /* from here every call takes the lock (and so the journal) */
        src->ops = from->ops;
        src->driver = from->driver;
        dst->ops = to->ops;
        dst->driver = to->driver;
        j = NULL;
        r->old_gen = r->gen & 1; /* the writes that began before the journal must end before the copy starts */
        r->gen++;
        if ((late = route_wait(r, old_writes_done, DOCS_PIN_WAIT_MS) < 0)) {
            journal_free(r->journal);
            r->journal = NULL;
            r->pin_drv = NULL;
            route_quiet_update(r);
        }
    }
    pthread_mutex_unlock(&r->m);
    free(j);
    if (busy) return bs_err_set(err, 409, "common/conflict", "The environment is already moving");
    if (same)
        return bs_err_set(err, 409, "common/conflict",
                          "The environment is already on that database server (the same server and database)");
    if (late) return bs_err_set(err, 503, "common/unavailable", "Writes to the environment did not finish in time");
    return 0;
}

/* Waits on r (locked) until done(r) or timeout_ms pass: 0, or -1 on timeout. */
static int route_wait(docs_route *r, int (*done)(const docs_route *), int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    int rc = 0;
    r->waiters++;
    while (!done(r) && rc == 0)
        if (pthread_cond_timedwait(&r->changed, &r->m, &until) == ETIMEDOUT) rc = done(r) ? 0 : -1;
    r->waiters--;
    return rc;
}

static int no_writes_inside(const docs_route *r) { return r->inflight_writes == 0 && route_stripes_sum(r, 1) == 0; }
static int no_calls_inside(const docs_route *r) { return r->inflight == 0 && route_stripes_sum(r, 0) == 0; }

int store_docs_route_block(store_docs *docs, const char *env_id, int timeout_ms, bs_err *err)
{
    docs_route *r = route_located(docs, env_id, err);
    if (!r) return -1;
    pthread_mutex_lock(&r->m);
    r->writes_blocked = 1;
    route_quiet_update(r);
    int rc = route_wait(r, no_writes_inside, timeout_ms);
    if (rc < 0) {
        r->writes_blocked = 0;
        route_quiet_update(r);
        pthread_cond_broadcast(&r->changed);
    }
    pthread_mutex_unlock(&r->m);
    return rc < 0 ? bs_err_set(err, 503, "common/unavailable", "Writes to the environment did not finish in time") : 0;
}

int store_docs_route_hold(store_docs *docs, const char *env_id, int hold_ms, int timeout_ms, bs_err *err)
{
    docs_route *r = route_located(docs, env_id, err);
    if (!r) return -1;
    pthread_mutex_lock(&r->m);
    r->held_until_us = clock_mono_us() + (int64_t)hold_ms * 1000;
    route_quiet_update(r);
    int rc = route_wait(r, no_writes_inside, timeout_ms);
    pthread_mutex_unlock(&r->m);
    return rc < 0 ? bs_err_set(err, 503, "common/unavailable", "Writes to the environment did not finish in time") : 0;
}

void store_docs_route_release(store_docs *docs, const char *env_id)
{
    bs_err ignored;
    docs_route *r = route_located(docs, env_id, &ignored);
    if (!r) return;
    pthread_mutex_lock(&r->m);
    route_release_locked(r);
    pthread_mutex_unlock(&r->m);
}

void store_docs_route_unblock(store_docs *docs, const char *env_id)
{
    bs_err ignored;
    docs_route *r = route_located(docs, env_id, &ignored);
    if (!r) return;
    pthread_mutex_lock(&r->m);
    r->writes_blocked = 0;
    journal_free(r->journal);
    r->journal = NULL;
    route_quiet_update(r);
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->m);
}

static int key_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int store_docs_route_journal_take(store_docs *docs, const char *env_id, char ***keys, size_t *n, bs_err *err)
{
    *keys = NULL;
    *n = 0;
    docs_route *r = route_located(docs, env_id, err);
    if (!r) return -1;
    pthread_mutex_lock(&r->m);
    docs_journal *j = r->journal, *fresh = calloc(1, sizeof *fresh);
    r->journal = fresh;
    pthread_mutex_unlock(&r->m);
    if (!j) {
        free(fresh);
        return 0;
    }
    if (!fresh || j->overflow) {
        journal_free(j);
        return bs_err_set(err, 503, "common/unavailable", "Too many writes during the copy: move again");
    }
    if (j->n) qsort(j->keys, j->n, sizeof *j->keys, key_cmp);
    size_t u = 0;
    for (size_t i = 0; i < j->n; i++) {
        if (u && !strcmp(j->keys[u - 1], j->keys[i])) free(j->keys[i]);
        else j->keys[u++] = j->keys[i];
    }
    *keys = j->keys;
    *n = u;
    free(j);
    return 0;
}

void store_docs_journal_free(char **keys, size_t n)
{
    for (size_t i = 0; keys && i < n; i++) free(keys[i]);
    free(keys);
}

int store_docs_route_switch(store_docs *docs, const char *env_id, int timeout_ms, store_docs_switch_fn sw, void *ctx,
                            bs_err *err)
{
    docs_route *r = route_located(docs, env_id, err);
    if (!r) return -1;
    pthread_mutex_lock(&r->m);
    r->exclusive = 1;
    route_quiet_update(r);
    int rc = route_wait(r, no_calls_inside, timeout_ms);
    if (rc < 0) bs_err_set(err, 503, "common/unavailable", "Calls on the environment did not finish in time");
    else rc = sw(ctx, err); /* under the route's lock: no call can enter meanwhile */
    if (rc == 0) {
        atomic_store_explicit(&r->drv, r->pin_drv, memory_order_release); /* the pinned driver serves it from now on */
        r->pin_drv = NULL;
    }
    r->exclusive = 0;
    r->writes_blocked = 0;
    journal_free(r->journal);
    r->journal = NULL;
    route_quiet_update(r);
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->m);
    return rc;
}

void store_docs_route_unpin(store_docs *docs, const char *env_id)
{
    bs_err ignored;
    docs_route *r = route_located(docs, env_id, &ignored);
    if (!r) return;
    pthread_mutex_lock(&r->m);
    r->pin_drv = NULL;
    route_quiet_update(r);
    pthread_mutex_unlock(&r->m);
}
