#include "util/cache.h"

#include <pthread.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/check.h"
#include "util/hash.h"

/* A slot: this header, then the value at value_off (aligned for any type). */
typedef struct slot {
    int64_t stored_at;        /* the caller's clock when stored */
    unsigned char present;    /* 0 = empty */
    unsigned char loading;    /* a caller is loading key: with present, the others keep using the stale value
                                 meanwhile; without (a placeholder), they wait for the stripe's `done` */
    char key[CACHE_KEY_MAX];
} slot;

/* A lock stripe. gen counts the loads finished in the stripe (under wait_mu), so that a caller waiting
 * for a missing key cannot miss its wake-up: it reads gen while it still holds `lock`, before the loader
 * can store anything. Lock order: lock, then wait_mu. */
typedef struct stripe {
    pthread_rwlock_t lock;
    pthread_mutex_t wait_mu;
    pthread_cond_t done;
    uint64_t gen;
} stripe;

struct cache {
    size_t nslots, nstripes, value_size, value_off, stride;
    int64_t ttl;
    cache_free_fn free_value;
    unsigned char *slots;     /* nslots * stride bytes */
    stripe *stripes;          /* nstripes: slot i under stripes[i % nstripes]; both powers of two */
};

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

/* The least power of two >= n (n >= 1): slot and stripe indexes are then masks, not divisions. */
static size_t pow2_at_least(size_t n)
{
    size_t p = 1;
    while (p < n) p <<= 1;
    return p;
}

cache *cache_new(size_t slots, size_t stripes, size_t value_size, int64_t ttl, cache_free_fn free_value)
{
    if (!slots || !stripes || !value_size || ttl <= 0) return NULL;
    cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->nslots = pow2_at_least(slots);
    c->nstripes = pow2_at_least(stripes < slots ? stripes : slots);
    c->value_size = value_size;
    c->value_off = round_up(sizeof(slot), alignof(max_align_t));
    c->stride = round_up(c->value_off + value_size, alignof(max_align_t));
    c->ttl = ttl;
    c->free_value = free_value;
    c->slots = calloc(c->nslots, c->stride);
    c->stripes = calloc(c->nstripes, sizeof *c->stripes);
    if (!c->slots || !c->stripes) {
        free(c->slots);
        free(c->stripes);
        free(c);
        return NULL;
    }
    for (size_t i = 0; i < c->nstripes; i++) {
        pthread_rwlock_init(&c->stripes[i].lock, NULL);
        pthread_mutex_init(&c->stripes[i].wait_mu, NULL);
        pthread_cond_init(&c->stripes[i].done, NULL);
    }
    return c;
}

static slot *slot_at(const cache *c, size_t i)
{
    return (slot *)(void *)(c->slots + i * c->stride);
}

static void *value_of(const cache *c, slot *s)
{
    return (unsigned char *)s + c->value_off;
}

/* Empties s, releasing what its value owns. The caller holds s's write lock (or is cache_free). */
static void drop(cache *c, slot *s)
{
    if (s->present && c->free_value) c->free_value(value_of(c, s));
    s->present = 0;
    s->loading = 0;
    s->key[0] = '\0';
}

void cache_free(cache *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->nslots; i++) drop(c, slot_at(c, i));
    for (size_t i = 0; i < c->nstripes; i++) {
        pthread_rwlock_destroy(&c->stripes[i].lock);
        pthread_mutex_destroy(&c->stripes[i].wait_mu);
        pthread_cond_destroy(&c->stripes[i].done);
    }
    free(c->stripes);
    free(c->slots);
    free(c);
}

/* The slot of key and its stripe; NULL when key is too long to be cached. */
static slot *locate(const cache *c, const char *key, stripe **st)
{
    size_t len = strnlen(key, CACHE_KEY_MAX);
    if (len >= CACHE_KEY_MAX) return NULL;
    size_t i = (size_t)hash64(key, len) & (c->nslots - 1); /* = hash64_str(key) % nslots */
    *st = &c->stripes[i & (c->nstripes - 1)];
    return slot_at(c, i);
}

static int holds(const slot *s, const char *key)
{
    return s->present && strcmp(s->key, key) == 0;
}

static int fresh(const cache *c, const slot *s, int64_t now)
{
    return now >= s->stored_at && now - s->stored_at < c->ttl;
}

/* Copies s's value out. The caller holds s's lock. */
static void copy_out(const cache *c, slot *s, void *out)
{
    memcpy(out, value_of(c, s), c->value_size); /* bounded: value_size is both the slot's and out's size */
}

/* Stores (key, value) in s, replacing what it held. The caller holds s's write lock. */
static void store(cache *c, slot *s, const char *key, int64_t now, const void *value)
{
    drop(c, s);
    snprintf(s->key, sizeof s->key, "%s", key);
    memcpy(value_of(c, s), value, c->value_size); /* bounded: value_size is the slot's value capacity */
    s->stored_at = now;
    s->present = 1;
}

int cache_get(cache *c, const char *key, int64_t now, void *out)
{
    BS_ASSERT(!c->free_value); /* owning values are read in place (cache_read) */
    stripe *st = NULL;
    slot *s = locate(c, key, &st);
    if (!s) return 0;
    pthread_rwlock_t *lock = &st->lock;
    pthread_rwlock_rdlock(lock);
    int hit = holds(s, key) && fresh(c, s, now);
    if (hit) copy_out(c, s, out);
    pthread_rwlock_unlock(lock);
    return hit;
}

int cache_read(cache *c, const char *key, int64_t now, cache_read_fn read, void *arg)
{
    stripe *st = NULL;
    slot *s = locate(c, key, &st);
    if (!s) return -1;
    pthread_rwlock_t *lock = &st->lock;
    pthread_rwlock_rdlock(lock);
    int rc = holds(s, key) && fresh(c, s, now) ? read(value_of(c, s), arg) : -1;
    pthread_rwlock_unlock(lock);
    return rc;
}

void cache_put(cache *c, const char *key, int64_t now, const void *value)
{
    stripe *st = NULL;
    slot *s = locate(c, key, &st);
    if (!s) { /* not cacheable: what the value owns is released now, as it would have been later */
        if (c->free_value) c->free_value((void *)value);
        return;
    }
    pthread_rwlock_t *lock = &st->lock;
    pthread_rwlock_wrlock(lock);
    store(c, s, key, now, value);
    pthread_rwlock_unlock(lock);
}

int cache_update(cache *c, const char *key, cache_update_fn update, void *arg)
{
    stripe *st = NULL;
    slot *s = locate(c, key, &st);
    if (!s) return 0;
    pthread_rwlock_t *lock = &st->lock;
    pthread_rwlock_wrlock(lock);
    int rc = holds(s, key) ? update(value_of(c, s), arg) : 0;
    pthread_rwlock_unlock(lock);
    return rc;
}

void cache_invalidate(cache *c, const char *key)
{
    stripe *st = NULL;
    slot *s = locate(c, key, &st);
    if (!s) return;
    pthread_rwlock_t *lock = &st->lock;
    pthread_rwlock_wrlock(lock);
    if (holds(s, key)) drop(c, s);
    pthread_rwlock_unlock(lock);
}

void cache_invalidate_if(cache *c, cache_pred_fn pred, void *arg)
{
    for (size_t k = 0; k < c->nstripes; k++) { /* one lock taken per stripe, not per slot */
        pthread_rwlock_wrlock(&c->stripes[k].lock);
        for (size_t i = k; i < c->nslots; i += c->nstripes) {
            slot *s = slot_at(c, i);
            if (s->present && pred(s->key, value_of(c, s), arg)) drop(c, s);
        }
        pthread_rwlock_unlock(&c->stripes[k].lock);
    }
}

/* What a caller of cache_get_or_load does after claim_load. */
enum { CLAIM_SERVED, CLAIM_LOAD, CLAIM_WAIT };

/* The first step of a load, under the write lock. SERVED: out filled without loading (the entry turned fresh
 * meanwhile, or another caller is reloading it and its stale value serves). WAIT: another caller is loading
 * the missing key (*gen: the stripe's count to wait past). LOAD: this caller loads; *marked = 1 when it
 * marked the slot loading (a present entry, or a placeholder that replaced whatever was not being loaded),
 * 0 when the slot is busy loading another key (then this load is not single-flight). */
static int claim_load(cache *c, slot *s, stripe *st, const char *key, int64_t now, void *out, int *marked, uint64_t *gen)
{
    int rc = CLAIM_LOAD;
    *marked = 0;
    pthread_rwlock_wrlock(&st->lock);
    if (holds(s, key) && (s->loading || fresh(c, s, now))) {
        copy_out(c, s, out);
        rc = CLAIM_SERVED;
    } else if (holds(s, key)) {
        s->loading = *marked = 1;
    } else if (s->loading && strcmp(s->key, key) == 0) {
        pthread_mutex_lock(&st->wait_mu);
        *gen = st->gen;
        pthread_mutex_unlock(&st->wait_mu);
        rc = CLAIM_WAIT;
    } else if (!s->loading) {
        drop(c, s);
        snprintf(s->key, sizeof s->key, "%s", key);
        s->loading = *marked = 1;
    }
    pthread_rwlock_unlock(&st->lock);
    return rc;
}

/* Waits until a load of st finishes after gen (not necessarily key's: the caller looks again). */
static void wait_past(stripe *st, uint64_t gen)
{
    pthread_mutex_lock(&st->wait_mu);
    while (st->gen == gen) pthread_cond_wait(&st->done, &st->wait_mu);
    pthread_mutex_unlock(&st->wait_mu);
}

/* Tells the callers waiting in st that a load finished. Called without st->lock. */
static void announce(stripe *st)
{
    pthread_mutex_lock(&st->wait_mu);
    st->gen++;
    pthread_cond_broadcast(&st->done);
    pthread_mutex_unlock(&st->wait_mu);
}

/* Stores a loaded value (merged into the entry when it is still key's) and copies the result to out. */
static void finish_load(cache *c, slot *s, const char *key, int64_t now, void *out, const cache_loader *loader)
{
    if (holds(s, key) && loader->merge) {
        loader->merge(value_of(c, s), out, loader->arg);
        s->stored_at = now;
        s->loading = 0;
        copy_out(c, s, out);
    } else {
        store(c, s, key, now, out);
    }
}

/* Loads key into out and stores it (the claim was LOAD). */
static int load(cache *c, slot *s, stripe *st, const char *key, int64_t now, void *out, int marked,
                const cache_loader *loader, bs_err *err)
{
    memset(out, 0, c->value_size);
    int rc = loader->load(loader->arg, key, out, err);
    pthread_rwlock_wrlock(&st->lock);
    if (rc == 0) {
        finish_load(c, s, key, now, out, loader);
    } else if (marked && s->loading && strcmp(s->key, key) == 0) { /* let the next caller try */
        s->loading = 0;
        if (!s->present) s->key[0] = '\0'; /* the placeholder goes */
    }
    pthread_rwlock_unlock(&st->lock);
    if (marked) announce(st);
    return rc < 0 ? -1 : 0;
}

int cache_get_or_load(cache *c, const char *key, int64_t now, void *out, const cache_loader *loader, bs_err *err)
{
    BS_ASSERT(!c->free_value && loader && loader->load);
    for (;;) {
        if (cache_get(c, key, now, out)) return 0; /* the common case: fresh, under the read lock */
        stripe *st = NULL;
        slot *s = locate(c, key, &st);
        if (!s) { /* not cacheable: read through */
            memset(out, 0, c->value_size);
            return loader->load(loader->arg, key, out, err) < 0 ? -1 : 0;
        }
        int marked = 0;
        uint64_t gen = 0;
        int claim = claim_load(c, s, st, key, now, out, &marked, &gen);
        if (claim == CLAIM_SERVED) return 0;
        if (claim == CLAIM_LOAD) return load(c, s, st, key, now, out, marked, loader, err);
        wait_past(st, gen); /* then look again: loaded, or failed and up for another load */
    }
}
