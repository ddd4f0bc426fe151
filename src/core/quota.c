#include "core/quota.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/check.h"
#include "util/clock.h"
#include "util/hash.h"
#include "util/log.h"

/* Not util/cache: a counter is authoritative, not a copy that may be dropped (evicting one would forget calls
 * already admitted and let a limit be passed), it is handed out by pointer and advanced by CAS outside any
 * lock, and a full table stops enforcing rather than replacing; so open addressing with no TTL. */
#define QUOTA_BUCKETS 4096 /* counters, open addressing; a full table refuses nothing: see counter_get */
#define QUOTA_KEY_MAX 64

typedef struct counter {
    char key[QUOTA_KEY_MAX];  /* "<scope id>" of this window; "" = free */
    int64_t window_start;     /* the month's or day's first millisecond */
    _Atomic int64_t used;
    int loaded;               /* 1 once used holds the loaded value */
} counter;

struct quota {
    quota_loader load;
    void *arg;
    pthread_rwlock_t lock; /* read: finding a counter; write: creating one; admission itself is lock-free */
    counter *counters;
    store_counters *shared;          /* NULL: this process decides */
    int64_t fail_open_ms;
    _Atomic int64_t outage_since_ms; /* first failure of the current outage, 0: none */
    _Atomic int64_t last_log_ms;
    _Atomic int64_t fail_open_total, fail_closed_total;
};

#define OUTAGE_LOG_EVERY_MS 10000

quota *quota_new(quota_loader load, void *arg)
{
    quota *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    q->counters = calloc(QUOTA_BUCKETS, sizeof *q->counters);
    if (!q->counters) {
        free(q);
        return NULL;
    }
    q->load = load;
    q->arg = arg;
    pthread_rwlock_init(&q->lock, NULL);
    return q;
}

void quota_free(quota *q)
{
    if (!q) return;
    pthread_rwlock_destroy(&q->lock);
    free(q->counters);
    free(q);
}

void quota_window_bounds(quota_window w, int64_t now_ms, int64_t *from_ms, int64_t *to_ms)
{
    *from_ms = w == QUOTA_MONTH ? clock_month_start(now_ms, 0) : clock_day_start(now_ms);
    *to_ms = w == QUOTA_MONTH ? clock_month_start(now_ms, 1) : *from_ms + CLOCK_DAY_MS;
}

static size_t bucket_of(const char *key, int64_t start)
{
    return (size_t)(hash64_str_seeded(key, (uint64_t)start) % QUOTA_BUCKETS);
}

/* The current counter of (key, window) when it exists (the caller holds the lock), else NULL. */
static counter *counter_find(quota *q, size_t start, const char *key, int64_t from)
{
    for (size_t i = 0; i < QUOTA_BUCKETS; i++) {
        counter *s = &q->counters[(start + i) % QUOTA_BUCKETS];
        if (!s->key[0]) return NULL;
        if (s->loaded && s->window_start == from && !strcmp(s->key, key)) return s;
    }
    return NULL;
}

/* The slot for (key, from) under the write lock: its current counter, else the first reusable one (an
 * older window of the key or a long-stale one of another key) or the empty slot that ends the probe; NULL
 * when the table is full of current counters. *exists = 1 when the counter is already there. */
static counter *counter_claim(quota *q, size_t start, const char *key, int64_t from, int *exists)
{
    counter *spare = NULL;
    *exists = 0;
    for (size_t i = 0; i < QUOTA_BUCKETS; i++) { /* until the key's counter or an empty slot */
        counter *s = &q->counters[(start + i) % QUOTA_BUCKETS];
        if (!s->key[0]) return spare ? spare : s;
        if (s->loaded && !strcmp(s->key, key) && s->window_start == from) {
            *exists = 1;
            return s;
        }
        if (!spare && (!strcmp(s->key, key) || s->window_start < from - 31LL * 86400 * 1000)) spare = s; /* an old window */
    }
    return spare;
}

/* counter_claim, a new counter seeded with used calls of window from. */
static counter *counter_claim_seeded(quota *q, size_t start, const char *key, int64_t from, int64_t used, int *exists)
{
    counter *c = counter_claim(q, start, key, from, exists);
    if (c && !*exists) {
        snprintf(c->key, sizeof c->key, "%s", key);
        c->window_start = from;
        atomic_store(&c->used, used);
        c->loaded = 1;
    }
    return c;
}

/* The counter of (key, window), created and loaded on first use. The loader (a store read) runs outside
 * the lock, so a first call of one organization never holds up the others; when two callers load the same
 * counter at once, the first to store it wins and the other uses it. NULL when the table is full of current
 * counters (then nothing is enforced for key: a bounded table must not refuse service; 4096 organizations
 * and projects active in one window). */
static counter *counter_get(quota *q, const char *scope, const char *key, quota_window w, int64_t now_ms, bs_err *err, int *failed)
{
    int64_t from, to, used = 0;
    quota_window_bounds(w, now_ms, &from, &to);
    size_t start = bucket_of(key, from);
    *failed = 0;
    pthread_rwlock_rdlock(&q->lock);
    counter *c = counter_find(q, start, key, from); /* the common case: shared, no writer */
    pthread_rwlock_unlock(&q->lock);
    if (c) return c;
    if (q->load && q->load(q->arg, scope, key, from, to, &used, err) < 0) {
        *failed = 1;
        return NULL;
    }
    int exists = 0;
    pthread_rwlock_wrlock(&q->lock);
    c = counter_claim_seeded(q, start, key, from, used, &exists);
    BS_ASSERT(!c || c->window_start == from); /* a counter is only ever handed out for its own window */
    pthread_rwlock_unlock(&q->lock);
    return c;
}

/* Takes one unit below limit: 1 taken (*after = the new count), 0 refused (*after = the count). */
static int take(counter *c, int64_t limit, int64_t *after)
{
    int64_t cur = atomic_load_explicit(&c->used, memory_order_relaxed);
    while (cur < limit) {
        if (atomic_compare_exchange_weak_explicit(&c->used, &cur, cur + 1, memory_order_relaxed, memory_order_relaxed)) {
            BS_ASSERT(cur >= 0 && cur + 1 <= limit); /* admission never passes the limit */
            *after = cur + 1;
            return 1;
        }
    }
    *after = cur;
    return 0;
}

static void verdict_set(quota_verdict *v, quota_window w, int64_t limit, int64_t used, int64_t now_ms)
{
    int64_t from;
    v->limited = 1;
    v->window = w;
    v->limit = limit;
    v->used = used;
    quota_window_bounds(w, now_ms, &from, &v->reset_at_ms);
}

static int crossed(int64_t after, int64_t limit)
{
    int64_t at80 = (limit * 80 + 99) / 100; /* the first count at or over 80 % */
    return (after == at80 ? QUOTA_CROSSED_80 : 0) | (after == limit ? QUOTA_CROSSED_100 : 0);
}

/* The verdict of an admitted call: the thresholds the month crossed and the tightest limit. */
static void verdict_admitted(quota_verdict *out, int64_t month_limit, int64_t m_after, int64_t day_limit, int64_t d_after, int64_t now_ms)
{
    int month = month_limit >= 0, day = day_limit >= 0;
    if (month) out->crossed = crossed(m_after, month_limit);
    /* the tightest limit: the fewest calls left */
    if (month && (!day || month_limit - m_after <= day_limit - d_after)) verdict_set(out, QUOTA_MONTH, month_limit, m_after, now_ms);
    else if (day) verdict_set(out, QUOTA_DAY, day_limit, d_after, now_ms);
}

/* ---- this process's counters ---- */

static int admit_local(quota *q, const char *org_id, const char *project_id, int64_t month_limit, int64_t day_limit, int64_t now_ms,
                       quota_verdict *out, bs_err *err)
{
    int failed = 0;
    counter *month = month_limit >= 0 ? counter_get(q, "org", org_id, QUOTA_MONTH, now_ms, err, &failed) : NULL;
    if (failed) return -1;
    counter *day = day_limit >= 0 ? counter_get(q, "project", project_id, QUOTA_DAY, now_ms, err, &failed) : NULL;
    if (failed) return -1;
    int64_t m_after = 0, d_after = 0;
    if (month && !take(month, month_limit, &m_after)) {
        out->admitted = 0;
        verdict_set(out, QUOTA_MONTH, month_limit, m_after, now_ms);
        return 0;
    }
    if (day && !take(day, day_limit, &d_after)) { /* still an API call of the month (as the usage rows count it) */
        out->admitted = 0;
        verdict_set(out, QUOTA_DAY, day_limit, d_after, now_ms);
        return 0;
    }
    verdict_admitted(out, month ? month_limit : -1, m_after, day ? day_limit : -1, d_after, now_ms);
    return 0;
}

/* Raises this process's counter of (key, window) to at least used (creating it, unloaded from the
 * store), so that a fallback during an outage goes on from the fleet's count. */
static void counter_raise(quota *q, const char *key, quota_window w, int64_t now_ms, int64_t used)
{
    int64_t from, to;
    quota_window_bounds(w, now_ms, &from, &to);
    size_t start = bucket_of(key, from);
    int exists = 0;
    pthread_rwlock_rdlock(&q->lock);
    counter *c = counter_find(q, start, key, from);
    pthread_rwlock_unlock(&q->lock);
    if (!c) {
        pthread_rwlock_wrlock(&q->lock);
        c = counter_claim_seeded(q, start, key, from, used, &exists);
        pthread_rwlock_unlock(&q->lock);
        if (!c || !exists) return;
    }
    int64_t cur = atomic_load(&c->used);
    while (cur < used && !atomic_compare_exchange_weak(&c->used, &cur, used)) {}
}

/* ---- shared counters ---- */

/* The seeds a shared counter asked for, read through the loader: -1 when the loader failed. */
static int load_seeds(quota *q, int outcome, store_counters_call *call, bs_err *err)
{
    if ((outcome & STORE_COUNTERS_SEED_MONTH) &&
        (!q->load ? (call->month_seed = 0, 0) : q->load(q->arg, "org", call->org_id, call->month_start, call->month_end, &call->month_seed, err)) < 0)
        return -1;
    if ((outcome & STORE_COUNTERS_SEED_DAY) &&
        (!q->load ? (call->day_seed = 0, 0) : q->load(q->arg, "project", call->project_id, call->day_start, call->day_end, &call->day_seed, err)) < 0)
        return -1;
    return 0;
}

/* One decision in the shared counters (a second round trip only to seed a missing counter): 0 decided,
 * -1 the shared counters failed, -2 the loader failed (err filled either way). */
static int admit_shared(quota *q, const char *org_id, const char *project_id, int64_t month_limit, int64_t day_limit, int64_t now_ms,
                        quota_verdict *out, bs_err *err)
{
    store_counters_call call = {.org_id = org_id, .project_id = project_id, .month_limit = month_limit, .day_limit = day_limit,
                                .month_seed = -1, .day_seed = -1};
    quota_window_bounds(QUOTA_MONTH, now_ms, &call.month_start, &call.month_end);
    quota_window_bounds(QUOTA_DAY, now_ms, &call.day_start, &call.day_end);
    store_counters_result r = {0};
    for (int attempt = 0; attempt < 3; attempt++) { /* a seeded counter may expire in between: rarely twice */
        if (store_counters_take_call(q->shared, &call, &r, err) < 0) return -1;
        if (!(r.outcome & (STORE_COUNTERS_SEED_MONTH | STORE_COUNTERS_SEED_DAY))) break;
        if (load_seeds(q, r.outcome, &call, err) < 0) return -2;
    }
    if (month_limit >= 0) counter_raise(q, org_id, QUOTA_MONTH, now_ms, r.month_used);
    if (day_limit >= 0) counter_raise(q, project_id, QUOTA_DAY, now_ms, r.day_used);
    if (r.outcome == STORE_COUNTERS_REFUSED_MONTH || r.outcome == STORE_COUNTERS_REFUSED_DAY) {
        int month = r.outcome == STORE_COUNTERS_REFUSED_MONTH;
        out->admitted = 0;
        verdict_set(out, month ? QUOTA_MONTH : QUOTA_DAY, month ? month_limit : day_limit, month ? r.month_used : r.day_used, now_ms);
        return 0;
    }
    if (r.outcome != STORE_COUNTERS_ADMITTED) return bs_err_set(err, 503, "common/unavailable", "Redis: the admission script gave no answer");
    verdict_admitted(out, month_limit, r.month_used, day_limit, r.day_used, now_ms);
    return 0;
}

/* After a failure of the shared counters: 1 to decide locally (within fail_open_ms of the outage's
 * start), 0 to refuse (err: 503). Logs at most every OUTAGE_LOG_EVERY_MS. */
static int fail_open(quota *q, int64_t now_ms, const char *what, const bs_err *cause, bs_err *err)
{
    int64_t since = 0;
    if (!atomic_compare_exchange_strong(&q->outage_since_ms, &since, now_ms)) now_ms = now_ms < since ? since : now_ms;
    else since = now_ms;
    int open = now_ms - since < q->fail_open_ms;
    atomic_fetch_add(open ? &q->fail_open_total : &q->fail_closed_total, 1);
    int64_t last = atomic_load(&q->last_log_ms);
    if (now_ms - last >= OUTAGE_LOG_EVERY_MS && atomic_compare_exchange_strong(&q->last_log_ms, &last, now_ms))
        log_warn("%s; %s %s", cause->message, what, open ? "are admitted by this instance's counters (fail open)"
                                                          : "are refused with 503 until it answers (fail closed)");
    if (!open) bs_err_set(err, 503, "common/unavailable", "Usage could not be checked; try again");
    return open;
}

int quota_shared_failed(quota *q, int64_t now_ms, const char *what, const bs_err *cause, bs_err *err)
{
    BS_ASSERT(q && q->shared);
    return fail_open(q, now_ms, what, cause, err);
}

void quota_shared_answered(quota *q)
{
    if (q && atomic_exchange(&q->outage_since_ms, 0))
        log_info("Redis %s answers again: decisions are fleet-wide", store_counters_describe(q->shared));
}

void quota_set_shared(quota *q, store_counters *shared, int64_t fail_open_ms)
{
    q->shared = shared;
    q->fail_open_ms = fail_open_ms;
}

int quota_admit(quota *q, const char *org_id, const char *project_id, int64_t month_limit, int64_t day_limit, int64_t now_ms,
                quota_verdict *out, bs_err *err)
{
    memset(out, 0, sizeof *out);
    out->admitted = 1;
    if (!q->shared || (month_limit < 0 && day_limit < 0)) return admit_local(q, org_id, project_id, month_limit, day_limit, now_ms, out, err);
    bs_err cause;
    bs_err_clear(&cause);
    int rc = admit_shared(q, org_id, project_id, month_limit, day_limit, now_ms, out, &cause);
    if (rc == 0) {
        if (atomic_exchange(&q->outage_since_ms, 0)) log_info("Redis %s answers again: API calls are admitted fleet-wide",
                                                                 store_counters_describe(q->shared));
        return 0;
    }
    if (rc == -2 || !fail_open(q, now_ms, "API calls", &cause, err)) {
        if (rc == -2) *err = cause;
        return -1;
    }
    memset(out, 0, sizeof *out);
    out->admitted = 1;
    return admit_local(q, org_id, project_id, month_limit, day_limit, now_ms, out, err);
}

const char *quota_admission_mode(quota *q, int64_t now_ms)
{
    if (!q || !q->shared) return "local";
    int64_t since = atomic_load(&q->outage_since_ms);
    if (!since) return "shared";
    return now_ms - since < q->fail_open_ms ? "fail-open" : "fail-closed";
}

int quota_render_prometheus(quota *q, strbuf *out)
{
    if (!q || !q->shared) return 0;
    int64_t errors = 0, connects = 0;
    store_counters_stats(q->shared, &errors, &connects);
    strbuf_appendf(out, "# HELP basalt_redis_errors_total Redis commands and connects that failed\n"
                        "# TYPE basalt_redis_errors_total counter\nbasalt_redis_errors_total %lld\n"
                        "# HELP basalt_redis_connects_total Redis connections opened (reconnects included)\n"
                        "# TYPE basalt_redis_connects_total counter\nbasalt_redis_connects_total %lld\n"
                        "# HELP basalt_redis_fail_open_total API calls and sign-in/mail limit decisions taken by this instance alone while Redis failed\n"
                        "# TYPE basalt_redis_fail_open_total counter\nbasalt_redis_fail_open_total %lld\n"
                        "# HELP basalt_redis_fail_closed_total API calls and sign-in/mail limit decisions refused with 503 while Redis failed past the fail-open time\n"
                        "# TYPE basalt_redis_fail_closed_total counter\nbasalt_redis_fail_closed_total %lld\n"
                        "# HELP basalt_redis_outage 1 while Redis is failing (since the last failed decision)\n"
                        "# TYPE basalt_redis_outage gauge\nbasalt_redis_outage %d\n",
                   (long long)errors, (long long)connects, (long long)atomic_load(&q->fail_open_total),
                   (long long)atomic_load(&q->fail_closed_total), atomic_load(&q->outage_since_ms) ? 1 : 0);
    return 0;
}
