/* meter: see meter.h. Layout:
 *   environments  registered once under m->lock into envs[] (never freed before the meter) and published
 *                 in a lock-free hash index (slot + 1 per bucket, release/acquire)
 *   shards        one per counting thread: rows[slot] of monotonic counters and endpoint cells, written
 *                 only by their owner (relaxed load + store); the shared spill shard uses atomic adds
 *   flusher       owns agg[] (deltas not written yet), the seen copies in each shard, fseen[] (file meter
 *                 baselines) and gauge[]; prom[] is its running total for /metrics under prom_lock */
#include "core/meter.h"

#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/files.h"
#include "util/check.h"
#include "util/clock.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/ticker.h"

#define METER_OTHER METER_ENVS            /* the slot of environments past METER_ENVS */
#define METER_NSLOTS (METER_ENVS + 1)
#define METER_INDEX (METER_ENVS * 2)
#define METER_FIELDS 7
#define METER_PROBES 64
#define METER_HOUR_MS (3600LL * 1000)

enum { F_OK, F_FAIL, F_US, F_BYTES_OK, F_BYTES_FAIL, F_READS, F_WRITES };

typedef struct meter_row {
    _Atomic uint64_t v[METER_FIELDS];
} meter_row;

typedef struct meter_cell {
    _Atomic uint32_t key;      /* 0 empty, else 1 + (slot << 12 | route << 3 | method) */
    _Atomic uint64_t count;
} meter_cell;

typedef struct meter_shard {
    pthread_t owner;
    int shared;                /* the spill shard: atomic adds, any thread */
    meter_row rows[METER_NSLOTS];
    meter_cell cells[METER_CELLS];
    uint64_t seen_rows[METER_NSLOTS][METER_FIELDS]; /* the flusher's */
    uint64_t seen_cells[METER_CELLS];
} meter_shard;

typedef struct mau_entry {
    uint64_t hash;
    char *id;
} mau_entry;

typedef struct mau_pending {
    char *id;
    int64_t month;
} mau_pending;

struct meter_env {
    meter *m;
    int slot;
    char id[STORE_ID_MAX];
    char org[STORE_ID_MAX], project[STORE_ID_MAX], name[STORE_SLUG_MAX]; /* written before publication or
                                                                            by the flusher under prom_lock */
    int resolved, gone;        /* the flusher's */
    pthread_mutex_t mau_lock;
    int64_t mau_month;
    mau_entry *mau;            /* open addressing, mau_cap a power of two, at most half full */
    size_t mau_n, mau_cap;
    mau_pending *pend;         /* seen first this month, not handed to the flusher yet */
    size_t npend, pend_cap;
};

typedef struct meter_ep {
    uint32_t rm;               /* route << 3 | method */
    uint64_t count;
} meter_ep;

typedef struct meter_agg {
    uint64_t v[METER_FIELDS];
    uint64_t uploads, downloads, file_bytes;
    meter_ep *eps;
    size_t neps, ep_cap;
    mau_pending *users;
    size_t nusers, user_cap;
    int dirty;
} meter_agg;

typedef struct meter_gauge {
    int64_t value, written_hour;
    int known, active;
} meter_gauge;

typedef struct meter_prom {
    uint64_t ok, fail, bytes, reads, writes, uploads, downloads;
    int64_t storage;
} meter_prom;

struct meter {
    meter_config cfg;
    uint64_t id;
    pthread_mutex_t lock;                  /* registrations */
    _Atomic(meter_env *) envs[METER_ENVS];
    _Atomic int nenvs;
    _Atomic int32_t index[METER_INDEX];
    meter_env other;
    _Atomic(meter_shard *) shards[METER_SHARDS + 1]; /* [0]: the spill shard */
    _Atomic int nshards;
    _Atomic(const char *) routes[METER_ROUTES];
    _Atomic uint64_t dropped;
    pthread_mutex_t flush_lock;            /* one flush / storage reading at a time */
    meter_agg *agg;
    filemeter_counts *fseen;
    meter_gauge *gauge;
    pthread_mutex_t prom_lock;
    meter_prom *prom;
    ticker *flusher;           /* between meter_start and meter_stop */
    int64_t next_storage, next_rollup; /* the flusher's schedule (monotonic ms) */
};

static _Atomic uint64_t meter_next_id = 1;
static _Thread_local uint64_t tl_meter;
static _Thread_local meter_shard *tl_shard;

/* ---- helpers ---- */

static int method_index(const char *m)
{
    static const char *const names[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};
    for (int i = 0; m && i < 7; i++)
        if (!strcmp(m, names[i])) return i;
    return 7;
}

static const char *method_name(int i)
{
    static const char *const names[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "OTHER"};
    return names[i & 7];
}

static inline void add(const meter_shard *s, _Atomic uint64_t *p, uint64_t v)
{
    /* a private shard has one writer, its owner thread: the plain load + store below relies on it */
    BS_ASSERT(s->shared || pthread_equal(s->owner, pthread_self()));
    if (s->shared) atomic_fetch_add_explicit(p, v, memory_order_relaxed);
    else atomic_store_explicit(p, atomic_load_explicit(p, memory_order_relaxed) + v, memory_order_relaxed);
}

/* ---- lifecycle ---- */

static meter_shard *shard_new(int shared)
{
    meter_shard *s = calloc(1, sizeof *s);
    if (s) {
        s->owner = pthread_self();
        s->shared = shared;
    }
    return s;
}

meter *meter_new(const meter_config *cfg, bs_err *err)
{
    meter *m = calloc(1, sizeof *m);
    if (!m) { bs_err_internal(err); return NULL; }
    m->cfg = *cfg;
    if (m->cfg.flush_ms <= 0 || m->cfg.flush_ms > 1000) m->cfg.flush_ms = 1000;
    if (m->cfg.storage_ms <= 0) m->cfg.storage_ms = 60000;
    if (m->cfg.rollup_ms <= 0) m->cfg.rollup_ms = 60000;
    m->id = atomic_fetch_add(&meter_next_id, 1);
    pthread_mutex_init(&m->lock, NULL);
    pthread_mutex_init(&m->flush_lock, NULL);
    pthread_mutex_init(&m->prom_lock, NULL);
    m->other.m = m;
    m->other.slot = METER_OTHER;
    m->other.gone = 1;
    pthread_mutex_init(&m->other.mau_lock, NULL);
    meter_shard *spill = shard_new(1);
    m->agg = calloc(METER_NSLOTS, sizeof *m->agg);
    m->fseen = calloc(METER_NSLOTS, sizeof *m->fseen);
    m->gauge = calloc(METER_NSLOTS, sizeof *m->gauge);
    m->prom = calloc(METER_NSLOTS, sizeof *m->prom);
    atomic_store(&m->shards[0], spill);
    atomic_store(&m->nshards, spill ? 1 : 0);
    if (!spill || !m->agg || !m->fseen || !m->gauge || !m->prom) {
        meter_free(m);
        bs_err_internal(err);
        return NULL;
    }
    return m;
}

static void mau_clear(meter_env *e)
{
    for (size_t i = 0; i < e->mau_cap; i++) free(e->mau[i].id);
    free(e->mau);
    e->mau = NULL;
    e->mau_n = e->mau_cap = 0;
}

static void env_free(meter_env *e)
{
    mau_clear(e);
    for (size_t i = 0; i < e->npend; i++) free(e->pend[i].id);
    free(e->pend);
    pthread_mutex_destroy(&e->mau_lock);
}

static void agg_clear(meter_agg *a, int keep_arrays)
{
    for (size_t i = 0; i < a->nusers; i++) free(a->users[i].id);
    memset(a->v, 0, sizeof a->v);
    a->uploads = a->downloads = a->file_bytes = 0;
    a->neps = a->nusers = 0;
    a->dirty = 0;
    if (keep_arrays) return;
    free(a->eps);
    free(a->users);
    a->eps = NULL;
    a->users = NULL;
    a->ep_cap = a->user_cap = 0;
}

void meter_free(meter *m)
{
    if (!m) return;
    meter_stop(m);
    int n = atomic_load(&m->nenvs);
    for (int i = 0; i < n; i++) {
        meter_env *e = atomic_load(&m->envs[i]);
        env_free(e);
        free(e);
    }
    env_free(&m->other);
    for (int i = 0; i < atomic_load(&m->nshards); i++) free(atomic_load(&m->shards[i]));
    for (int i = 0; m->agg && i < METER_NSLOTS; i++) agg_clear(&m->agg[i], 0);
    free(m->agg);
    free(m->fseen);
    free(m->gauge);
    free(m->prom);
    pthread_mutex_destroy(&m->lock);
    pthread_mutex_destroy(&m->flush_lock);
    pthread_mutex_destroy(&m->prom_lock);
    free(m);
}

/* ---- environments ---- */

static meter_env *env_find(meter *m, const char *id, uint64_t h)
{
    for (size_t i = 0; i < METER_INDEX; i++) {
        int32_t v = atomic_load_explicit(&m->index[(h + i) % METER_INDEX], memory_order_acquire);
        if (v == 0) return NULL;
        meter_env *e = atomic_load_explicit(&m->envs[v - 1], memory_order_acquire);
        if (!strcmp(e->id, id)) return e;
    }
    return NULL;
}

static meter_env *env_new(meter *m, int slot, const char *org, const char *project, const char *id, const char *name)
{
    meter_env *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->m = m;
    e->slot = slot;
    snprintf(e->id, sizeof e->id, "%s", id);
    snprintf(e->org, sizeof e->org, "%s", org ? org : "");
    snprintf(e->project, sizeof e->project, "%s", project ? project : "");
    snprintf(e->name, sizeof e->name, "%s", name ? name : "");
    e->resolved = e->org[0] && e->project[0] && e->name[0];
    pthread_mutex_init(&e->mau_lock, NULL);
    return e;
}

/* Registers id (under the lock; found again when another thread was first). */
static meter_env *env_add(meter *m, const char *org, const char *project, const char *id, const char *name, uint64_t h)
{
    pthread_mutex_lock(&m->lock);
    meter_env *e = env_find(m, id, h);
    int n = atomic_load(&m->nenvs);
    if (!e && n < METER_ENVS && (e = env_new(m, n, org, project, id, name))) {
        atomic_store_explicit(&m->envs[n], e, memory_order_release);
        atomic_store(&m->nenvs, n + 1);
        size_t i = h % METER_INDEX;
        BS_ASSERT(n + 1 < METER_INDEX); /* the open-addressed index keeps free cells, so the probe ends */
        while (atomic_load_explicit(&m->index[i], memory_order_relaxed)) i = (i + 1) % METER_INDEX;
        atomic_store_explicit(&m->index[i], n + 1, memory_order_release);
    }
    pthread_mutex_unlock(&m->lock);
    return e ? e : &m->other;
}

meter_env *meter_env_get(meter *m, const char *org_id, const char *project_id, const char *env_id, const char *env_name)
{
    if (!m || !env_id || !*env_id || strlen(env_id) >= STORE_ID_MAX) return NULL;
    uint64_t h = hash64_str(env_id);
    meter_env *e = env_find(m, env_id, h);
    return e ? e : env_add(m, org_id, project_id, env_id, env_name, h);
}

/* ---- the request path ---- */

/* This thread's shard of m: cached in a thread-local, found or made once under the lock. */
static meter_shard *shard_slow(meter *m)
{
    pthread_t self = pthread_self();
    meter_shard *s = NULL;
    pthread_mutex_lock(&m->lock);
    int n = atomic_load(&m->nshards);
    for (int i = 1; i < n && !s; i++) {
        meter_shard *x = atomic_load(&m->shards[i]);
        if (pthread_equal(x->owner, self)) s = x; /* a thread id reused after its thread ended: one writer still */
    }
    if (!s && n <= METER_SHARDS && (s = shard_new(0))) {
        atomic_store_explicit(&m->shards[n], s, memory_order_release);
        atomic_store(&m->nshards, n + 1);
    }
    if (!s) s = atomic_load(&m->shards[0]);
    pthread_mutex_unlock(&m->lock);
    tl_meter = m->id;
    tl_shard = s;
    return s;
}

static inline meter_shard *shard_of(meter *m)
{
    return tl_meter == m->id ? tl_shard : shard_slow(m);
}

static void cell_add(meter *m, meter_shard *s, uint32_t key, uint64_t v)
{
    uint32_t h = key * 2654435761u;
    for (uint32_t i = 0; i < METER_PROBES; i++) {
        meter_cell *c = &s->cells[(h + i) & (METER_CELLS - 1)];
        uint32_t k = atomic_load_explicit(&c->key, memory_order_acquire);
        if (k == 0 && atomic_compare_exchange_strong_explicit(&c->key, &k, key, memory_order_release, memory_order_acquire))
            k = key;
        if (k == key) {
            add(s, &c->count, v);
            return;
        }
    }
    atomic_fetch_add_explicit(&m->dropped, v, memory_order_relaxed);
}

void meter_request(meter_env *e, int route_id, const char *route, const char *method, int status, int64_t micros,
                   uint64_t bytes)
{
    if (!e) return;
    meter *m = e->m;
    meter_shard *s = shard_of(m);
    meter_row *r = &s->rows[e->slot];
    int ok = status < 400;
    add(s, &r->v[ok ? F_OK : F_FAIL], 1);
    add(s, &r->v[F_US], micros > 0 ? (uint64_t)micros : 0);
    add(s, &r->v[ok ? F_BYTES_OK : F_BYTES_FAIL], bytes);
    int rid = route_id < 0 || route_id >= METER_ROUTES ? METER_ROUTES - 1 : route_id;
    if (route && rid < METER_ROUTES - 1 && !atomic_load_explicit(&m->routes[rid], memory_order_relaxed))
        atomic_store_explicit(&m->routes[rid], route, memory_order_relaxed);
    cell_add(m, s, 1 + ((uint32_t)e->slot << 12 | (uint32_t)rid << 3 | (uint32_t)method_index(method)), 1);
}

void meter_db(meter_env *e, uint64_t reads, uint64_t writes)
{
    if (!e || (!reads && !writes)) return;
    meter_shard *s = shard_of(e->m);
    if (reads) add(s, &s->rows[e->slot].v[F_READS], reads);
    if (writes) add(s, &s->rows[e->slot].v[F_WRITES], writes);
}

/* ---- MAU: the month's seen set of an environment (its lock held) ---- */

static int mau_grow(meter_env *e)
{
    size_t cap = e->mau_cap ? e->mau_cap * 2 : 64;
    mau_entry *t = calloc(cap, sizeof *t);
    if (!t) return -1;
    for (size_t i = 0; i < e->mau_cap; i++) {
        if (!e->mau[i].id) continue;
        size_t j = e->mau[i].hash & (cap - 1);
        while (t[j].id) j = (j + 1) & (cap - 1);
        t[j] = e->mau[i];
    }
    free(e->mau);
    e->mau = t;
    e->mau_cap = cap;
    return 0;
}

/* The bucket of user: its own (found) or the empty one where it goes. */
static mau_entry *mau_slot(meter_env *e, const char *user, uint64_t h)
{
    size_t mask = e->mau_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask)
        if (!e->mau[i].id || (e->mau[i].hash == h && !strcmp(e->mau[i].id, user))) return &e->mau[i];
}

static int mau_pend(meter_env *e, const char *user, int64_t month)
{
    if (e->npend == e->pend_cap) {
        size_t cap = e->pend_cap ? e->pend_cap * 2 : 16;
        mau_pending *p = realloc(e->pend, cap * sizeof *p);
        if (!p) return -1;
        e->pend = p;
        e->pend_cap = cap;
    }
    char *id = strdup(user);
    if (!id) return -1;
    e->pend[e->npend++] = (mau_pending){id, month};
    return 0;
}

void meter_mau(meter_env *e, const char *user_id, int64_t now_ms)
{
    if (!e || e == &e->m->other || !user_id || !*user_id || strlen(user_id) >= METER_USER_ID_MAX) return;
    int64_t month = clock_month_start(now_ms, 0);
    uint64_t h = hash64_str(user_id);
    pthread_mutex_lock(&e->mau_lock);
    if (e->mau_month != month) {
        mau_clear(e);
        e->mau_month = month;
    }
    mau_entry *slot = e->mau_cap && (e->mau_n + 1) * 2 <= e->mau_cap ? mau_slot(e, user_id, h) : NULL;
    if (!slot && mau_grow(e) == 0) slot = mau_slot(e, user_id, h);
    /* A user whose hand-over failed stays out of the set and is handed over again next time: the store
     * records each user once a month, so a repeat never counts twice. */
    if ((!slot || !slot->id) && mau_pend(e, user_id, month) == 0 && slot && (slot->id = strdup(user_id))) {
        slot->hash = h;
        e->mau_n++;
    }
    pthread_mutex_unlock(&e->mau_lock);
}

/* ---- the flusher: collecting ---- */

static void agg_ep(meter_agg *a, uint32_t rm, uint64_t count)
{
    for (size_t i = 0; i < a->neps; i++)
        if (a->eps[i].rm == rm) {
            a->eps[i].count += count;
            return;
        }
    if (a->neps == a->ep_cap) {
        size_t cap = a->ep_cap ? a->ep_cap * 2 : 8;
        meter_ep *p = realloc(a->eps, cap * sizeof *p);
        if (!p) return; /* the endpoint list only: totals are kept */
        a->eps = p;
        a->ep_cap = cap;
    }
    a->eps[a->neps++] = (meter_ep){rm, count};
}

static void collect_row(meter *m, meter_shard *s, int slot)
{
    meter_agg *a = &m->agg[slot];
    for (int f = 0; f < METER_FIELDS; f++) {
        uint64_t cur = atomic_load_explicit(&s->rows[slot].v[f], memory_order_relaxed);
        uint64_t d = cur - s->seen_rows[slot][f];
        if (!d) continue;
        s->seen_rows[slot][f] = cur;
        a->v[f] += d;
        a->dirty = 1;
    }
}

static void collect_shard(meter *m, meter_shard *s, int nenvs)
{
    for (int slot = 0; slot < nenvs; slot++) collect_row(m, s, slot);
    collect_row(m, s, METER_OTHER);
    for (size_t i = 0; i < METER_CELLS; i++) {
        uint32_t key = atomic_load_explicit(&s->cells[i].key, memory_order_acquire);
        if (!key) continue;
        uint64_t cur = atomic_load_explicit(&s->cells[i].count, memory_order_relaxed);
        uint64_t d = cur - s->seen_cells[i];
        if (!d) continue;
        s->seen_cells[i] = cur;
        uint32_t k = key - 1;
        int slot = (int)(k >> 12);
        if (slot <= METER_OTHER) agg_ep(&m->agg[slot], k & 0xfff, d);
    }
}

static void collect_files(meter *m, int nenvs)
{
    for (int slot = 0; m->cfg.files && slot < nenvs; slot++) {
        meter_env *e = atomic_load_explicit(&m->envs[slot], memory_order_acquire);
        filemeter_counts c, *seen = &m->fseen[slot];
        filemeter_get(m->cfg.files, e->id, &c);
        meter_agg *a = &m->agg[slot];
        if (c.uploads == seen->uploads && c.downloads == seen->downloads && c.bytes_out == seen->bytes_out) continue;
        a->uploads += c.uploads - seen->uploads;
        a->downloads += c.downloads - seen->downloads;
        a->file_bytes += c.bytes_out - seen->bytes_out;
        a->dirty = 1;
        *seen = c;
    }
}

static void collect_users(meter *m, int nenvs)
{
    for (int slot = 0; slot < nenvs; slot++) {
        meter_env *e = atomic_load_explicit(&m->envs[slot], memory_order_acquire);
        meter_agg *a = &m->agg[slot];
        pthread_mutex_lock(&e->mau_lock);
        if (e->npend && a->nusers + e->npend > a->user_cap) {
            size_t cap = a->nusers + e->npend + 16;
            mau_pending *p = realloc(a->users, cap * sizeof *p);
            if (p) {
                a->users = p;
                a->user_cap = cap;
            }
        }
        if (e->npend && a->nusers + e->npend <= a->user_cap) {
            memcpy(a->users + a->nusers, e->pend, e->npend * sizeof *e->pend);
            a->nusers += e->npend;
            e->npend = 0;
            a->dirty = 1;
        }
        pthread_mutex_unlock(&e->mau_lock);
    }
}

/* ---- the flusher: writing ---- */

typedef struct delta_list {
    store_usage_delta *d;
    size_t n, cap;
    store_usage_endpoint *eps;   /* endpoints of the api_call deltas, one block per flush */
    size_t neps, ep_cap;
    const char **users;
    size_t nusers, user_cap;
} delta_list;

static void delta_list_release(delta_list *l)
{
    free(l->d);
    free(l->eps);
    free(l->users);
    memset(l, 0, sizeof *l);
}

static store_usage_delta *delta_push(delta_list *l, const meter_env *e, const char *metric, int64_t hour)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        store_usage_delta *p = realloc(l->d, cap * sizeof *p);
        if (!p) return NULL;
        l->d = p;
        l->cap = cap;
    }
    store_usage_delta *d = &l->d[l->n++];
    memset(d, 0, sizeof *d);
    snprintf(d->organization_id, sizeof d->organization_id, "%s", e->org);
    snprintf(d->project_id, sizeof d->project_id, "%s", e->project);
    snprintf(d->environment_id, sizeof d->environment_id, "%s", e->id);
    snprintf(d->environment, sizeof d->environment, "%s", e->name);
    snprintf(d->metric, sizeof d->metric, "%s", metric);
    d->hour_start = hour;
    return d;
}

static int counter_push(delta_list *l, const meter_env *e, const char *metric, int64_t hour, uint64_t ok, uint64_t fail)
{
    if (!ok && !fail) return 0;
    store_usage_delta *d = delta_push(l, e, metric, hour);
    if (!d) return -1;
    d->value = (int64_t)(ok + fail);
    d->success_count = (int64_t)ok;
    d->failure_count = (int64_t)fail;
    return 0;
}

/* Endpoint names of the api_call delta of a (indices into l->eps, fixed up after every push). */
static int endpoints_push(meter *m, delta_list *l, const meter_agg *a, size_t *first)
{
    *first = l->neps;
    if (l->neps + a->neps > l->ep_cap) {
        size_t cap = l->neps + a->neps + 64;
        store_usage_endpoint *p = realloc(l->eps, cap * sizeof *p);
        if (!p) return -1;
        l->eps = p;
        l->ep_cap = cap;
    }
    for (size_t i = 0; i < a->neps; i++) {
        uint32_t route = a->eps[i].rm >> 3;
        const char *pattern = route < METER_ROUTES - 1 ? atomic_load_explicit(&m->routes[route], memory_order_relaxed) : NULL;
        store_usage_endpoint *ep = &l->eps[l->neps++];
        snprintf(ep->endpoint, sizeof ep->endpoint, "%s %s", method_name((int)(a->eps[i].rm & 7)), pattern ? pattern : "other");
        ep->count = (int64_t)a->eps[i].count;
    }
    return 0;
}

/* The hour a user seen in month is written to: now's, or the month's last when the flush is already in
 * the next month. */
static int64_t mau_hour(int64_t hour, int64_t month)
{
    int64_t next = clock_month_start(month, 1);
    return hour < next ? hour : next - METER_HOUR_MS;
}

/* One mau delta per month the users were seen in (nearly always one); the ids stay the aggregate's. */
static int users_push(delta_list *l, const meter_env *e, const meter_agg *a, int64_t hour)
{
    for (int64_t prev = INT64_MIN;;) {
        int64_t month = INT64_MAX;
        for (size_t i = 0; i < a->nusers; i++)
            if (a->users[i].month > prev && a->users[i].month < month) month = a->users[i].month;
        if (month == INT64_MAX) return 0;
        store_usage_delta *d = delta_push(l, e, "mau", mau_hour(hour, month));
        if (!d) return -1;
        d->month_start = month;
        d->users = (const char *const *)(uintptr_t)l->nusers; /* an index until fixed up */
        for (size_t i = 0; i < a->nusers; i++) {
            if (a->users[i].month != month) continue;
            if (l->nusers == l->user_cap) {
                size_t cap = l->user_cap ? l->user_cap * 2 : 64;
                const char **p = realloc(l->users, cap * sizeof *p);
                if (!p) return -1;
                l->users = p;
                l->user_cap = cap;
            }
            l->users[l->nusers++] = a->users[i].id;
            d->nusers++;
        }
        prev = month;
    }
}

static int slot_push(meter *m, delta_list *l, int slot, int64_t hour)
{
    meter_env *e = atomic_load_explicit(&m->envs[slot], memory_order_acquire);
    const meter_agg *a = &m->agg[slot];
    const uint64_t *v = a->v;
    if (v[F_OK] || v[F_FAIL]) {
        size_t first;
        store_usage_delta *d = delta_push(l, e, "api_call", hour);
        if (!d || endpoints_push(m, l, a, &first) < 0) return -1;
        d->value = (int64_t)(v[F_OK] + v[F_FAIL]);
        d->success_count = (int64_t)v[F_OK];
        d->failure_count = (int64_t)v[F_FAIL];
        d->response_us = (int64_t)v[F_US];
        d->endpoints = (const store_usage_endpoint *)(uintptr_t)first; /* an index until fixed up */
        d->nendpoints = a->neps;
    }
    if (counter_push(l, e, "bandwidth", hour, v[F_BYTES_OK] + a->file_bytes, v[F_BYTES_FAIL]) < 0 ||
        counter_push(l, e, "db_read", hour, v[F_READS], 0) < 0 || counter_push(l, e, "db_write", hour, v[F_WRITES], 0) < 0 ||
        counter_push(l, e, "file_upload", hour, a->uploads, 0) < 0 ||
        counter_push(l, e, "file_download", hour, a->downloads, 0) < 0)
        return -1;
    return users_push(l, e, a, hour);
}

/* Turns the indices stored in the deltas into pointers (the arrays stopped moving). */
static void deltas_fix(delta_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        store_usage_delta *d = &l->d[i];
        if (d->nendpoints) d->endpoints = l->eps + (uintptr_t)d->endpoints;
        else d->endpoints = NULL;
        if (d->nusers) d->users = l->users + (uintptr_t)d->users;
        else d->users = NULL;
    }
}

/* Fills in the organization, project and name of an environment first seen without them. 0 done (or
 * gone), -1 the store did not answer. */
static int env_resolve(meter *m, meter_env *e)
{
    store_env env;
    store_project p;
    int found = 0;
    bs_err err;
    bs_err_clear(&err);
    if (!m->cfg.control || store_control_env_get(m->cfg.control, e->id, &env, &found, &err) < 0) return -1;
    if (found && store_control_project_get(m->cfg.control, env.project_id, &p, &found, &err) < 0) return -1;
    pthread_mutex_lock(&m->prom_lock);
    if (found) {
        snprintf(e->org, sizeof e->org, "%s", p.organization_id);
        snprintf(e->project, sizeof e->project, "%s", p.id);
        snprintf(e->name, sizeof e->name, "%s", env.name);
    }
    e->resolved = found;
    e->gone = !found;
    pthread_mutex_unlock(&m->prom_lock);
    return 0;
}

static void prom_add(meter *m, int slot)
{
    const meter_agg *a = &m->agg[slot];
    meter_prom *p = &m->prom[slot];
    p->ok += a->v[F_OK];
    p->fail += a->v[F_FAIL];
    p->bytes += a->v[F_BYTES_OK] + a->v[F_BYTES_FAIL] + a->file_bytes;
    p->reads += a->v[F_READS];
    p->writes += a->v[F_WRITES];
    p->uploads += a->uploads;
    p->downloads += a->downloads;
}

/* Which slots go out in this flush: resolved ones with deltas; the "other" slot and environments that
 * are gone only reach /metrics. */
static int slot_ready(meter *m, int slot)
{
    meter_agg *a = &m->agg[slot];
    if (!a->dirty) return 0;
    if (slot == METER_OTHER) return 0;
    meter_env *e = atomic_load_explicit(&m->envs[slot], memory_order_acquire);
    if (!e->resolved && !e->gone && env_resolve(m, e) < 0) return 0;
    return e->resolved;
}

/* After a flush: what was written (ok) or dropped goes to /metrics and is cleared; a failure keeps it. */
static void aggs_settle(meter *m, int nenvs, int ok)
{
    pthread_mutex_lock(&m->prom_lock);
    for (int slot = 0; slot <= nenvs; slot++) {
        int s = slot == nenvs ? METER_OTHER : slot;
        meter_agg *a = &m->agg[s];
        if (!a->dirty) continue;
        meter_env *e = s == METER_OTHER ? &m->other : atomic_load_explicit(&m->envs[s], memory_order_acquire);
        int written = e->resolved && ok;
        if (!written && !e->gone) continue;
        prom_add(m, s);
        m->gauge[s].active = 1;
        agg_clear(a, 1);
    }
    pthread_mutex_unlock(&m->prom_lock);
}

int meter_flush(meter *m, int64_t now_ms, bs_err *err)
{
    pthread_mutex_lock(&m->flush_lock);
    int nenvs = atomic_load(&m->nenvs), nshards = atomic_load(&m->nshards);
    for (int i = 0; i < nshards; i++) collect_shard(m, atomic_load_explicit(&m->shards[i], memory_order_acquire), nenvs);
    collect_files(m, nenvs);
    collect_users(m, nenvs);
    int64_t hour = now_ms - ((now_ms % METER_HOUR_MS) + METER_HOUR_MS) % METER_HOUR_MS;
    delta_list l;
    memset(&l, 0, sizeof l);
    int rc = 0;
    for (int slot = 0; rc == 0 && slot < nenvs; slot++)
        if (slot_ready(m, slot)) rc = slot_push(m, &l, slot, hour) < 0 ? bs_err_internal(err) : 0;
    deltas_fix(&l);
    if (rc == 0 && m->cfg.control) rc = store_control_usage_add(m->cfg.control, l.d, l.n, now_ms, err);
    aggs_settle(m, nenvs, rc == 0);
    delta_list_release(&l);
    pthread_mutex_unlock(&m->flush_lock);
    return rc;
}

/* ---- the storage gauge ---- */

static int storage_measure(meter *m, const meter_env *e, int64_t *bytes, bs_err *err)
{
    uint64_t count = 0, files = 0, tables = 0;
    if (store_objects_totals(m->cfg.docs, e->id, &count, &files, err) < 0 ||
        store_docs_env_bytes(m->cfg.docs, e->id, &tables, err) < 0)
        return -1;
    *bytes = (int64_t)(files + tables);
    return 0;
}

/* The gauge of one environment into l: measured again when it was active (or never measured), else its
 * last reading, once an hour. In a fleet (a jobs lease) another instance's requests may have changed it
 * since this one's last reading, so a reading is never repeated: the lease holder measures it again once
 * an hour instead, and the other instances write only what they measure. */
static int storage_env(meter *m, delta_list *l, const store_usage_env *u, int64_t hour, int holder)
{
    meter_env *e = meter_env_get(m, u->organization_id, u->project_id, u->environment_id, u->environment);
    if (!e || e == &m->other) return 0;
    if (!e->resolved) {
        pthread_mutex_lock(&m->prom_lock);
        snprintf(e->org, sizeof e->org, "%s", u->organization_id);
        snprintf(e->project, sizeof e->project, "%s", u->project_id);
        snprintf(e->name, sizeof e->name, "%s", u->environment);
        e->resolved = 1;
        e->gone = 0;
        pthread_mutex_unlock(&m->prom_lock);
    }
    meter_gauge *g = &m->gauge[e->slot];
    int measured = 0, fleet = m->cfg.lease != NULL;
    if (!g->known || g->active || (fleet && holder && g->written_hour != hour)) {
        bs_err err;
        bs_err_clear(&err);
        if (storage_measure(m, e, &g->value, &err) < 0) return 0; /* this environment only: try again next time */
        g->known = 1;
        g->active = 0;
        measured = 1;
    }
    if (!measured && (fleet || g->written_hour == hour)) return 0;
    store_usage_delta *d = delta_push(l, e, "storage", hour);
    if (!d) return -1;
    d->gauge = 1;
    d->value = g->value;
    g->written_hour = hour;
    pthread_mutex_lock(&m->prom_lock);
    m->prom[e->slot].storage = g->value;
    pthread_mutex_unlock(&m->prom_lock);
    return 0;
}

int meter_storage(meter *m, int64_t now_ms, bs_err *err)
{
    if (!m->cfg.control || !m->cfg.docs) return 0;
    store_usage_env *list = malloc(METER_ENVS * sizeof *list);
    if (!list) return bs_err_internal(err);
    size_t n = 0;
    pthread_mutex_lock(&m->flush_lock);
    int64_t hour = now_ms - ((now_ms % METER_HOUR_MS) + METER_HOUR_MS) % METER_HOUR_MS;
    delta_list l;
    memset(&l, 0, sizeof l);
    int rc = store_control_usage_envs(m->cfg.control, list, METER_ENVS, &n, err);
    int holder = jobs_lease_held(m->cfg.lease, NULL);
    for (size_t i = 0; rc == 0 && i < n; i++) rc = storage_env(m, &l, &list[i], hour, holder) < 0 ? bs_err_internal(err) : 0;
    if (rc == 0) rc = store_control_usage_add(m->cfg.control, l.d, l.n, now_ms, err);
    if (rc < 0) /* written again next time */
        for (size_t i = 0; i < l.n; i++) {
            meter_env *e = meter_env_get(m, NULL, NULL, l.d[i].environment_id, NULL);
            if (e && e != &m->other) m->gauge[e->slot].written_hour = 0;
        }
    delta_list_release(&l);
    pthread_mutex_unlock(&m->flush_lock);
    free(list);
    return rc;
}

/* ---- the flusher thread ---- */

static void tick(meter *m, int64_t *next_storage, int64_t *next_rollup)
{
    bs_err err;
    bs_err_clear(&err);
    int64_t now = clock_now_ms(), mono = clock_mono_us() / 1000;
    if (meter_flush(m, now, &err) < 0) log_warn("usage: flush failed (kept for the next one): %s", err.message);
    if (mono >= *next_storage) {
        bs_err_clear(&err);
        if (meter_storage(m, now, &err) < 0) log_warn("usage: storage reading failed: %s", err.message);
        *next_storage = mono + m->cfg.storage_ms;
    }
    if (mono >= *next_rollup && m->cfg.control && jobs_lease_held(m->cfg.lease, NULL)) {
        bs_err_clear(&err);
        if (store_control_usage_rollup(m->cfg.control, now, &err) < 0) log_warn("usage: roll-up failed: %s", err.message);
        *next_rollup = mono + m->cfg.rollup_ms;
    }
}

static void flusher_tick(void *arg)
{
    meter *m = arg;
    tick(m, &m->next_storage, &m->next_rollup);
}

int meter_start(meter *m, bs_err *err)
{
    if (m->cfg.control && store_control_usage_rollup(m->cfg.control, clock_now_ms(), err) < 0) return -1;
    m->next_storage = 0;
    m->next_rollup = clock_mono_us() / 1000 + m->cfg.rollup_ms;
    m->flusher = ticker_new(m->cfg.flush_ms, 0, flusher_tick, m);
    return m->flusher ? 0 : bs_err_internal(err);
}

void meter_stop(meter *m)
{
    if (!m || !m->flusher) return;
    ticker_free(m->flusher);
    m->flusher = NULL;
    bs_err err;
    bs_err_clear(&err);
    int64_t now = clock_now_ms();
    if (meter_flush(m, now, &err) < 0) log_error("usage: the last flush failed: %s", err.message);
    bs_err_clear(&err);
    if (m->cfg.control && store_control_usage_rollup(m->cfg.control, now, &err) < 0)
        log_warn("usage: the last roll-up failed: %s", err.message);
}

/* ---- /metrics ---- */

typedef struct prom_line {
    int slot;
    meter_prom p;
    size_t users;
} prom_line;

static int prom_busier(const void *a, const void *b)
{
    const prom_line *x = a, *y = b;
    uint64_t nx = x->p.ok + x->p.fail, ny = y->p.ok + y->p.fail;
    return nx != ny ? (nx < ny ? 1 : -1) : (x->slot > y->slot) - (x->slot < y->slot);
}

static size_t env_users(meter_env *e, int64_t month)
{
    pthread_mutex_lock(&e->mau_lock);
    size_t n = e->mau_month == month ? e->mau_n : 0;
    pthread_mutex_unlock(&e->mau_lock);
    return n;
}

/* Label text: ids and names are [A-Za-z0-9_.-]; anything else becomes '_'. */
static void label(strbuf *out, const char *name, const char *value, int last)
{
    strbuf_appendf(out, "%s=\"", name);
    for (const char *p = value; *p; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
        strbuf_append_char(out, ok ? c : '_');
    }
    strbuf_append_str(out, last ? "\"" : "\",");
}

static void prom_labels(meter *m, strbuf *out, const prom_line *l, const char *extra)
{
    meter_env *e = l->slot < 0 ? NULL : atomic_load_explicit(&m->envs[l->slot], memory_order_acquire);
    strbuf_append_char(out, '{');
    label(out, "organization", e ? e->org : "other", 0);
    label(out, "project", e ? e->project : "other", 0);
    label(out, "environment", e ? (e->name[0] ? e->name : e->id) : "other", !extra);
    if (extra) strbuf_append_str(out, extra);
    strbuf_append_str(out, "} ");
}

static const struct {
    const char *name, *type, *help;
} prom_metrics[] = {
    {"basalt_usage_api_calls_total", "counter", "/v1 calls metered since start (docs/usage.md), by outcome"},
    {"basalt_usage_bandwidth_bytes_total", "counter", "bytes of /v1 answers and file downloads since start"},
    {"basalt_usage_db_reads_total", "counter", "records returned by get and list since start"},
    {"basalt_usage_db_writes_total", "counter", "records created, updated or deleted since start"},
    {"basalt_usage_file_uploads_total", "counter", "file uploads since start"},
    {"basalt_usage_file_downloads_total", "counter", "file downloads since start"},
    {"basalt_usage_storage_bytes", "gauge", "bytes of files and table data at the last reading"},
    {"basalt_usage_active_users", "gauge", "distinct end users this process saw sign up, sign in or refresh this month"},
};

static void prom_values(meter *m, strbuf *out, const prom_line *l, int metric)
{
    const meter_prom *p = &l->p;
    if (metric == 0) {
        prom_labels(m, out, l, "outcome=\"success\"");
        strbuf_appendf(out, "%llu\n%s", (unsigned long long)p->ok, prom_metrics[0].name);
        prom_labels(m, out, l, "outcome=\"failure\"");
        strbuf_appendf(out, "%llu\n", (unsigned long long)p->fail);
        return;
    }
    uint64_t v[] = {0, p->bytes, p->reads, p->writes, p->uploads, p->downloads, (uint64_t)p->storage, l->users};
    prom_labels(m, out, l, NULL);
    strbuf_appendf(out, "%llu\n", (unsigned long long)v[metric]);
}

/* The METER_PROM_ENVS busiest environments, then "other" (the rest, and what could not be attributed). */
static size_t prom_snapshot(meter *m, prom_line *lines, int nenvs)
{
    int64_t month = clock_month_start(clock_now_ms(), 0);
    for (int i = 0; i < nenvs; i++) {
        lines[i].slot = i;
        lines[i].p = m->prom[i];
        lines[i].users = 0;
    }
    qsort(lines, (size_t)nenvs, sizeof *lines, prom_busier);
    size_t shown = nenvs < METER_PROM_ENVS ? (size_t)nenvs : METER_PROM_ENVS;
    prom_line *other = &lines[shown];
    meter_prom rest = m->prom[METER_OTHER];
    size_t rest_users = 0;
    for (size_t i = shown; i < (size_t)nenvs; i++) {
        rest.ok += lines[i].p.ok;
        rest.fail += lines[i].p.fail;
        rest.bytes += lines[i].p.bytes;
        rest.reads += lines[i].p.reads;
        rest.writes += lines[i].p.writes;
        rest.uploads += lines[i].p.uploads;
        rest.downloads += lines[i].p.downloads;
        rest.storage += lines[i].p.storage;
        rest_users += env_users(atomic_load(&m->envs[lines[i].slot]), month);
    }
    for (size_t i = 0; i < shown; i++) lines[i].users = env_users(atomic_load(&m->envs[lines[i].slot]), month);
    *other = (prom_line){-1, rest, rest_users};
    return shown + 1;
}

int meter_render_prometheus(meter *m, strbuf *out)
{
    if (!m) return 0;
    int nenvs = atomic_load(&m->nenvs);
    prom_line *lines = malloc(((size_t)nenvs + 1) * sizeof *lines);
    if (!lines) return -1;
    pthread_mutex_lock(&m->prom_lock);
    size_t n = prom_snapshot(m, lines, nenvs);
    for (size_t k = 0; k < sizeof prom_metrics / sizeof prom_metrics[0]; k++) {
        strbuf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n", prom_metrics[k].name, prom_metrics[k].help, prom_metrics[k].name,
                       prom_metrics[k].type);
        for (size_t i = 0; i < n; i++) {
            strbuf_append_str(out, prom_metrics[k].name);
            prom_values(m, out, &lines[i], (int)k);
        }
    }
    pthread_mutex_unlock(&m->prom_lock);
    free(lines);
    return out->overflow ? -1 : 0;
}

/* ---- stats ---- */

void meter_stats_get(meter *m, meter_stats *out)
{
    memset(out, 0, sizeof *out);
    int nenvs = atomic_load(&m->nenvs);
    out->envs = (size_t)nenvs;
    out->shards = (size_t)atomic_load(&m->nshards);
    out->dropped_endpoints = atomic_load(&m->dropped);
    size_t per_env = sizeof(meter_env) + 2 * sizeof(int32_t) + sizeof(meter_env *) + sizeof(meter_agg) +
                     sizeof(filemeter_counts) + sizeof(meter_gauge) + sizeof(meter_prom) +
                     out->shards * (sizeof(meter_row) + METER_FIELDS * sizeof(uint64_t));
    out->env_bytes = per_env * out->envs;
    for (int i = 0; i < nenvs; i++) {
        meter_env *e = atomic_load(&m->envs[i]);
        pthread_mutex_lock(&e->mau_lock);
        out->mau_users += e->mau_n;
        out->mau_bytes += e->mau_cap * sizeof(mau_entry);
        for (size_t j = 0; j < e->mau_cap; j++)
            if (e->mau[j].id) out->mau_bytes += malloc_usable_size(e->mau[j].id);
        pthread_mutex_unlock(&e->mau_lock);
    }
}
