#include "core/usage_cache.h"

#include <stdlib.h>
#include <string.h>

#include "core/quota.h"
#include "util/cache.h"
#include "util/clock.h"

#define USAGE_CACHE_SLOTS 4096 /* (organization, metric, month) triples, direct-mapped */
#define USAGE_CACHE_LOCKS 64   /* striped by slot: checks of different organizations do not meet */

/* A cached use. The key "<org>\t<metric>\t<month start>" holds the month, so a new month starts over
 * (alerts included). */
typedef struct usage_value {
    int64_t used;
    int alerted; /* thresholds claimed this month: 1 = 80, 2 = 100; kept across reloads */
} usage_value;

struct usage_cache {
    usage_cache_loader load;
    void *arg;
    cache *uses; /* in the caller's clock (ms) */
};

usage_cache *usage_cache_new(usage_cache_loader load, void *arg, int64_t ttl_ms)
{
    usage_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->uses = cache_new(USAGE_CACHE_SLOTS, USAGE_CACHE_LOCKS, sizeof(usage_value), ttl_ms > 0 ? ttl_ms : 5000, NULL);
    if (!c->uses) {
        free(c);
        return NULL;
    }
    c->load = load;
    c->arg = arg;
    return c;
}

void usage_cache_free(usage_cache *c)
{
    if (!c) return;
    cache_free(c->uses);
    free(c);
}

/* Appends s and a separator at key + *at; -1 when it does not fit. */
static int key_part(char key[CACHE_KEY_MAX], size_t *at, const char *s)
{
    size_t n = strnlen(s, CACHE_KEY_MAX);
    if (n >= CACHE_KEY_MAX - 1 - *at) return -1;
    memcpy(key + *at, s, n);
    key[*at + n] = '\t';
    *at += n + 1;
    return 0;
}

/* The cache key "<org>\t<metric>\t<month start in days since 1970, hex>" of (org_id, metric) in the month
 * starting at from; -1 when it does not fit (then the pair is read through every time). Built by hand:
 * snprintf cost as much as the rest of a cached lookup. */
static int key_of(char key[CACHE_KEY_MAX], const char *org_id, const char *metric, int64_t from)
{
    size_t at = 0;
    if (key_part(key, &at, org_id) < 0 || key_part(key, &at, metric) < 0 || at + 17 > CACHE_KEY_MAX) return -1;
    uint64_t day = (uint64_t)(from / CLOCK_DAY_MS); /* a month starts at 00:00 UTC */
    do {
        key[at++] = "0123456789abcdef"[day & 15];
        day >>= 4;
    } while (day);
    key[at] = '\0';
    return 0;
}

/* One read of the loader, for cache_get_or_load. */
typedef struct usage_load {
    usage_cache *c;
    const char *org_id, *metric;
    int64_t from, to;
} usage_load;

static int load_use(void *arg, const char *key, void *value, bs_err *err)
{
    usage_load *l = arg;
    (void)key;
    return l->c->load(l->c->arg, l->org_id, l->metric, l->from, l->to, &((usage_value *)value)->used, err);
}

/* A reload updates the use and keeps the alerts already claimed. */
static void merge_use(void *stored, const void *loaded, void *arg)
{
    (void)arg;
    ((usage_value *)stored)->used = ((const usage_value *)loaded)->used;
}

int usage_cache_get(usage_cache *c, const char *org_id, const char *metric, int64_t now_ms, int64_t *used, bs_err *err)
{
    usage_load l = {.c = c, .org_id = org_id, .metric = metric};
    quota_window_bounds(QUOTA_MONTH, now_ms, &l.from, &l.to);
    char key[CACHE_KEY_MAX];
    if (key_of(key, org_id, metric, l.from) < 0) return c->load(c->arg, org_id, metric, l.from, l.to, used, err);
    /* one reader of the store at a time per entry: the others use the last value meanwhile (or, for the
     * month's first read, wait for it) */
    const cache_loader loader = {.load = load_use, .merge = merge_use, .arg = &l};
    usage_value v;
    if (cache_get_or_load(c->uses, key, now_ms, &v, &loader, err) < 0) return -1;
    *used = v.used;
    return 0;
}

/* A cache updater: claims the bit in *arg when it is not claimed yet. */
static int claim_bit(void *value, void *arg)
{
    usage_value *v = value;
    int bit = *(const int *)arg;
    if (v->alerted & bit) return 0;
    v->alerted |= bit;
    return 1;
}

int usage_cache_claim_alert(usage_cache *c, const char *org_id, const char *metric, int threshold, int64_t now_ms)
{
    int64_t from, to;
    quota_window_bounds(QUOTA_MONTH, now_ms, &from, &to);
    int bit = threshold >= 100 ? 2 : 1;
    char key[CACHE_KEY_MAX];
    if (key_of(key, org_id, metric, from) < 0) return 0;
    return cache_update(c->uses, key, claim_bit, &bit);
}
