/* cache: a bounded, striped, TTL cache of fixed-size values keyed by strings, with single-flight reloads.
 *
 * Shape. cache_new(slots, stripes, value_size, ttl, free_value) makes `slots` direct-mapped slots (the slot
 * of a key is hash64_str(key) % slots) guarded by `stripes` reader-writer locks (slot i by lock
 * i % stripes); both are rounded up to powers of two (indexes are masks), stripes to at most slots. A
 * value is value_size bytes, copied in by cache_put and out by cache_get. A key is a NUL-terminated string
 * of at most CACHE_KEY_MAX - 1 bytes; a longer key is never cached (get misses, put drops the value,
 * get_or_load reads through). A collision is settled by replacement: a put or load for a key whose slot
 * holds another key evicts that entry (it is a cache: the evicted key is read through when next asked for).
 *
 * Time. Every call that looks at freshness takes `now` from the caller, in the unit of ttl (microseconds
 * from clock_mono_us() by convention; a caller with its own clock, e.g. a test clock, passes that). An
 * entry stored at t is fresh while t <= now < t + ttl; a stale entry stays in its slot (for cache_update,
 * cache_invalidate_if and single-flight reuse) until replaced or invalidated.
 *
 * Ownership. Values are plain bytes unless free_value is given: then a value may own memory (e.g. a
 * pointer to rules), and the cache owns what a value owns from cache_put on. cache_put always takes it
 * (stored, or freed at once when the key cannot be cached); free_value runs exactly once per stored value,
 * when it is replaced, invalidated or at cache_free. Such values must be read in place with cache_read
 * (the reader runs under the stripe's read lock and must not keep pointers into the value); cache_get
 * and cache_get_or_load copy bytes out and are only for caches without free_value.
 *
 * Single flight (cache_get_or_load). A fresh value is copied out. Otherwise one caller per key loads it
 * (with no lock held) while concurrent callers for the same key either keep using the stale value, when
 * there is one (as usage checks want: a slightly old number now beats a queue behind the store), or, when
 * the key is missing, wait for that load and take its value. A reload of a present entry is combined with
 * it through the loader's merge (NULL: replaced whole), so state kept in the value across reloads (e.g.
 * claim bits set by cache_update during the load) survives. A failed load stores nothing and returns its
 * error to its own caller only: the next caller (e.g. a woken waiter) loads again, one at a time. A
 * missing key whose slot is busy loading another key is loaded without single flight (a collision).
 *
 * Thread safety: every function may be called from any thread, except cache_free. Callbacks (readers,
 * updaters, predicates, merges, free_value) run under a stripe lock and must not call back into the
 * cache; loaders run with no lock held and may use the cache (but must not wait for their own key). */
#ifndef BASALT_UTIL_CACHE_H
#define BASALT_UTIL_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define CACHE_KEY_MAX 160 /* a key's bytes + NUL */

typedef struct cache cache;

/* Releases what a value owns (not the value's bytes, which the cache keeps). */
typedef void (*cache_free_fn)(void *value);
/* Reads a fresh value in place (under the read lock); its result is what cache_read returns. */
typedef int (*cache_read_fn)(const void *value, void *arg);
/* Changes a present value in place (under the write lock); its result is what cache_update returns. */
typedef int (*cache_update_fn)(void *value, void *arg);
/* 1 when the entry (key, value) should be dropped by cache_invalidate_if. */
typedef int (*cache_pred_fn)(const char *key, const void *value, void *arg);

/* How cache_get_or_load fills a missing or stale value. load fills value (value_size bytes, zeroed
 * first) and returns 0, or -1 with err; merge (optional) folds a loaded value into the stored one of the
 * same key (under the write lock), e.g. to keep bits set by cache_update during the load. */
typedef struct cache_loader {
    int (*load)(void *arg, const char *key, void *value, bs_err *err);
    void (*merge)(void *stored, const void *loaded, void *arg);
    void *arg;
} cache_loader;

/* NULL on allocation failure or a zero size. ttl > 0. */
cache *cache_new(size_t slots, size_t stripes, size_t value_size, int64_t ttl, cache_free_fn free_value);
void cache_free(cache *c);

/* 1 and *out (value_size bytes) filled when key has a fresh value, else 0. Not with free_value. */
int cache_get(cache *c, const char *key, int64_t now, void *out);
/* When key has a fresh value: calls read(value, arg) under the read lock and returns its result
 * (which should be >= 0); else returns -1 without calling it. */
int cache_read(cache *c, const char *key, int64_t now, cache_read_fn read, void *arg);
/* Stores value (value_size bytes, stored at now) for key, replacing whatever its slot held. Takes what
 * the value owns (see Ownership). */
void cache_put(cache *c, const char *key, int64_t now, const void *value);
/* Calls update(value, arg) on key's value when present (fresh or stale) and returns its result; 0 when
 * key is absent. */
int cache_update(cache *c, const char *key, cache_update_fn update, void *arg);
/* Drops key's entry (fresh or stale) when present. */
void cache_invalidate(cache *c, const char *key);
/* Drops every present entry for which pred(key, value, arg) is 1 (visits every slot). */
void cache_invalidate_if(cache *c, cache_pred_fn pred, void *arg);
/* See Single flight above: 0 and *out filled (fresh, stale while another caller reloads, or loaded by this
 * caller or the one it waited for: the stored value after merge), or -1 with err from this caller's load.
 * Not with free_value. */
int cache_get_or_load(cache *c, const char *key, int64_t now, void *out, const cache_loader *loader, bs_err *err);

#endif
