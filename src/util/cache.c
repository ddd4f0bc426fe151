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
    unsigned char loading;    /* a caller is reloading this entry: the others keep using it meanwhile */
    char key[CACHE_KEY_MAX];
} slot;

struct cache {
    size_t nslots, nstripes, value_size, value_off, stride;
    int64_t ttl;
    cache_free_fn free_value;
    unsigned char *slots;     /* nslots * stride bytes */
    pthread_rwlock_t *locks;  /* nstripes: slot i under locks[i % nstripes]; both powers of two */
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
    c->locks = calloc(c->nstripes, sizeof *c->locks);
    if (!c->slots || !c->locks) {
        free(c->slots);
        free(c->locks);
        free(c);
        return NULL;
    }
    for (size_t i = 0; i < c->nstripes; i++) pthread_rwlock_init(&c->locks[i], NULL);
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
    for (size_t i = 0; i < c->nstripes; i++) pthread_rwlock_destroy(&c->locks[i]);
    free(c->locks);
    free(c->slots);
    free(c);
}

/* The slot of key and its lock; NULL when key is too long to be cached. */
static slot *locate(const cache *c, const char *key, pthread_rwlock_t **lock)
{
    size_t len = strnlen(key, CACHE_KEY_MAX);
    if (len >= CACHE_KEY_MAX) return NULL;
    size_t i = (size_t)hash64(key, len) & (c->nslots - 1); /* = hash64_str(key) % nslots */
    *lock = &c->locks[i & (c->nstripes - 1)];
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
    pthread_rwlock_t *lock;
    slot *s = locate(c, key, &lock);
    if (!s) return 0;
    pthread_rwlock_rdlock(lock);
    int hit = holds(s, key) && fresh(c, s, now);
    if (hit) copy_out(c, s, out);
    pthread_rwlock_unlock(lock);
    return hit;
}

int cache_read(cache *c, const char *key, int64_t now, cache_read_fn read, void *arg)
{
    pthread_rwlock_t *lock;
    slot *s = locate(c, key, &lock);
    if (!s) return -1;
    pthread_rwlock_rdlock(lock);
    int rc = holds(s, key) && fresh(c, s, now) ? read(value_of(c, s), arg) : -1;
    pthread_rwlock_unlock(lock);
    return rc;
}

void cache_put(cache *c, const char *key, int64_t now, const void *value)
{
    pthread_rwlock_t *lock;
    slot *s = locate(c, key, &lock);
    if (!s) { /* not cacheable: what the value owns is released now, as it would have been later */
        if (c->free_value) c->free_value((void *)value);
        return;
    }
    pthread_rwlock_wrlock(lock);
    store(c, s, key, now, value);
    pthread_rwlock_unlock(lock);
}

int cache_update(cache *c, const char *key, cache_update_fn update, void *arg)
{
    pthread_rwlock_t *lock;
    slot *s = locate(c, key, &lock);
    if (!s) return 0;
    pthread_rwlock_wrlock(lock);
    int rc = holds(s, key) ? update(value_of(c, s), arg) : 0;
    pthread_rwlock_unlock(lock);
    return rc;
}

void cache_invalidate(cache *c, const char *key)
{
    pthread_rwlock_t *lock;
    slot *s = locate(c, key, &lock);
    if (!s) return;
    pthread_rwlock_wrlock(lock);
    if (holds(s, key)) drop(c, s);
    pthread_rwlock_unlock(lock);
}

void cache_invalidate_if(cache *c, cache_pred_fn pred, void *arg)
{
    for (size_t k = 0; k < c->nstripes; k++) { /* one lock taken per stripe, not per slot */
        pthread_rwlock_wrlock(&c->locks[k]);
        for (size_t i = k; i < c->nslots; i += c->nstripes) {
            slot *s = slot_at(c, i);
            if (s->present && pred(s->key, value_of(c, s), arg)) drop(c, s);
        }
        pthread_rwlock_unlock(&c->locks[k]);
    }
}

/* The first step of a reload under the write lock: 1 when out was filled without loading (the entry turned
 * fresh meanwhile, or another caller is reloading it: its stale value serves); else 0, with the entry
 * marked loading when present (*known = 1). */
static int claim_load(cache *c, slot *s, pthread_rwlock_t *lock, const char *key, int64_t now, void *out, int *known)
{
    pthread_rwlock_wrlock(lock);
    *known = holds(s, key);
    int served = *known && (s->loading || fresh(c, s, now));
    if (served) copy_out(c, s, out);
    else if (*known) s->loading = 1;
    pthread_rwlock_unlock(lock);
    return served;
}

/* Stores a loaded value (merged into the entry when it is still key's) and copies the result to out. */
static void finish_load(cache *c, slot *s, pthread_rwlock_t *lock, const char *key, int64_t now, void *out,
                        const cache_loader *loader)
{
    pthread_rwlock_wrlock(lock);
    if (holds(s, key) && loader->merge) {
        loader->merge(value_of(c, s), out, loader->arg);
        s->stored_at = now;
        s->loading = 0;
        copy_out(c, s, out);
    } else {
        store(c, s, key, now, out);
    }
    pthread_rwlock_unlock(lock);
}

int cache_get_or_load(cache *c, const char *key, int64_t now, void *out, const cache_loader *loader, bs_err *err)
{
    BS_ASSERT(!c->free_value && loader && loader->load);
    if (cache_get(c, key, now, out)) return 0; /* the common case: fresh, under the read lock */
    pthread_rwlock_t *lock = NULL;
    slot *s = locate(c, key, &lock);
    int known = 0;
    if (s && claim_load(c, s, lock, key, now, out, &known)) return 0;
    memset(out, 0, c->value_size);
    if (loader->load(loader->arg, key, out, err) < 0) {
        if (known) { /* let the next caller try */
            pthread_rwlock_wrlock(lock);
            if (holds(s, key)) s->loading = 0;
            pthread_rwlock_unlock(lock);
        }
        return -1;
    }
    if (s) finish_load(c, s, lock, key, now, out, loader);
    return 0;
}
