#include "core/usage_cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/quota.h"
#include "util/hash.h"

#define USAGE_CACHE_SLOTS 4096 /* (organization, metric) pairs; a full table reads through every time */
#define USAGE_CACHE_LOCKS 64

typedef struct entry {
    char org_id[48];
    char metric[24];
    int64_t month_start;
    int64_t read_at;   /* the caller's clock when loaded; 0 = empty */
    int64_t used;
    int alerted;       /* thresholds claimed this month: 1 = 80, 2 = 100 */
    int loading;       /* a caller is reading a newer value: the others keep using this one meanwhile */
} entry;

struct usage_cache {
    usage_cache_loader load;
    void *arg;
    int64_t ttl_ms;
    pthread_rwlock_t locks[USAGE_CACHE_LOCKS]; /* striped by slot: checks of different organizations do not meet */
    entry slots[USAGE_CACHE_SLOTS];
};

usage_cache *usage_cache_new(usage_cache_loader load, void *arg, int64_t ttl_ms)
{
    usage_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->load = load;
    c->arg = arg;
    c->ttl_ms = ttl_ms > 0 ? ttl_ms : 5000;
    for (int i = 0; i < USAGE_CACHE_LOCKS; i++) pthread_rwlock_init(&c->locks[i], NULL);
    return c;
}

void usage_cache_free(usage_cache *c)
{
    if (!c) return;
    for (int i = 0; i < USAGE_CACHE_LOCKS; i++) pthread_rwlock_destroy(&c->locks[i]);
    free(c);
}

static entry *slot_of(usage_cache *c, const char *org_id, const char *metric)
{
    return &c->slots[hash64_str_seeded(metric, hash64_str(org_id)) % USAGE_CACHE_SLOTS];
}

/* The lock of e's stripe. */
static pthread_rwlock_t *lock_of(usage_cache *c, const entry *e)
{
    return &c->locks[(size_t)(e - c->slots) % USAGE_CACHE_LOCKS];
}

static int same(const entry *e, const char *org_id, const char *metric, int64_t month_start)
{
    return e->read_at && e->month_start == month_start && !strcmp(e->org_id, org_id) && !strcmp(e->metric, metric);
}

int usage_cache_get(usage_cache *c, const char *org_id, const char *metric, int64_t now_ms, int64_t *used, bs_err *err)
{
    int64_t from, to;
    quota_window_bounds(QUOTA_MONTH, now_ms, &from, &to);
    entry *e = slot_of(c, org_id, metric);
    pthread_rwlock_rdlock(lock_of(c, e));
    int fresh = same(e, org_id, metric, from) && now_ms - e->read_at < c->ttl_ms && now_ms >= e->read_at;
    if (fresh) *used = e->used;
    pthread_rwlock_unlock(lock_of(c, e));
    if (fresh) return 0;
    pthread_rwlock_wrlock(lock_of(c, e)); /* one reader of the store at a time per entry: the rest use the last value */
    int known = same(e, org_id, metric, from), wait_for_other = known && e->loading;
    if (wait_for_other) *used = e->used;
    else if (known) e->loading = 1;
    pthread_rwlock_unlock(lock_of(c, e));
    if (wait_for_other) return 0;
    int rc = c->load(c->arg, org_id, metric, from, to, used, err);
    pthread_rwlock_wrlock(lock_of(c, e));
    if (known && same(e, org_id, metric, from)) e->loading = 0;
    if (rc < 0) {
        pthread_rwlock_unlock(lock_of(c, e));
        return -1;
    }
    if (!same(e, org_id, metric, from)) { /* a new pair (or month) takes the slot */
        snprintf(e->org_id, sizeof e->org_id, "%s", org_id);
        snprintf(e->metric, sizeof e->metric, "%s", metric);
        e->month_start = from;
        e->alerted = 0;
        e->loading = 0;
    }
    e->used = *used;
    e->read_at = now_ms;
    pthread_rwlock_unlock(lock_of(c, e));
    return 0;
}

int usage_cache_claim_alert(usage_cache *c, const char *org_id, const char *metric, int threshold, int64_t now_ms)
{
    int64_t from, to;
    quota_window_bounds(QUOTA_MONTH, now_ms, &from, &to);
    int bit = threshold >= 100 ? 2 : 1, claimed = 0;
    entry *e = slot_of(c, org_id, metric);
    pthread_rwlock_wrlock(lock_of(c, e));
    if (same(e, org_id, metric, from) && !(e->alerted & bit)) {
        e->alerted |= bit;
        claimed = 1;
    }
    pthread_rwlock_unlock(lock_of(c, e));
    return claimed;
}
