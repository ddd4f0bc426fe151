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
};

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
    c = counter_claim(q, start, key, from, &exists);
    if (c && !exists) {
        snprintf(c->key, sizeof c->key, "%s", key);
        c->window_start = from;
        atomic_store(&c->used, used);
        c->loaded = 1;
    }
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

int quota_admit(quota *q, const char *org_id, const char *project_id, int64_t month_limit, int64_t day_limit, int64_t now_ms,
                quota_verdict *out, bs_err *err)
{
    memset(out, 0, sizeof *out);
    out->admitted = 1;
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
    if (month) out->crossed = crossed(m_after, month_limit);
    /* the tightest limit: the fewest calls left */
    if (month && (!day || month_limit - m_after <= day_limit - d_after)) verdict_set(out, QUOTA_MONTH, month_limit, m_after, now_ms);
    else if (day) verdict_set(out, QUOTA_DAY, day_limit, d_after, now_ms);
    return 0;
}
