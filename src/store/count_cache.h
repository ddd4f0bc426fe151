/* count_cache: exact row counts remembered per query, valid for one write generation.
 *
 * A list answer carries the number of matching rows; counting them reads every match, which on a large
 * table costs far more than the page itself. The count of a given query (SQL text and bound values) can
 * only change when the table is written, so the store keeps a generation number per database, bumped
 * after every committed write, and a count cached at generation g is returned only while the generation
 * is still g. Callers read the generation BEFORE counting and store the count under that generation:
 * a write that commits while the count runs bumps the generation, so the possibly stale count is never
 * served.
 *
 * Concurrent misses of one key are serialized by count_cache_flight_*, so a burst of identical cold
 * lists runs one count, not one per request.
 *
 * Bounded: a fixed number of slots (direct-mapped by hash; a new key replaces the old one), keys longer
 * than COUNT_CACHE_MAX_KEY are not cached. Thread-safe (one mutex held for a hash-slot compare).
 * Ownership: count_cache_new / count_cache_free; keys are copied. */
#ifndef BASALT_STORE_COUNT_CACHE_H
#define BASALT_STORE_COUNT_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define COUNT_CACHE_MAX_KEY 4096

typedef struct count_cache count_cache;

count_cache *count_cache_new(size_t slots);
void count_cache_free(count_cache *cc);
/* 1 and *count when key was stored at generation gen; 0 otherwise. */
int count_cache_get(count_cache *cc, const char *key, size_t len, uint64_t gen, int64_t *count);
void count_cache_put(count_cache *cc, const char *key, size_t len, uint64_t gen, int64_t count);
/* Single flight: callers that missed the same key take this lock around "look again, count, put", so
 * that many concurrent lists of a new query count it once instead of each reading every match.
 * (Striped: unrelated keys may share a lock.) */
void count_cache_flight_begin(count_cache *cc, const char *key, size_t len);
void count_cache_flight_end(count_cache *cc, const char *key, size_t len);

#endif
