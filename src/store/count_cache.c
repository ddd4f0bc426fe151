#include "store/count_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct count_slot {
    uint64_t hash, gen;
    int64_t count;
    char *key; /* owned */
    size_t len;
} count_slot;

#define COUNT_CACHE_FLIGHTS 64

struct count_cache {
    pthread_mutex_t flights[COUNT_CACHE_FLIGHTS];
    pthread_mutex_t lock;
    size_t nslots;
    count_slot *slots;
};

static uint64_t key_hash(const char *key, size_t len)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 1099511628211ULL;
    }
    return h;
}

count_cache *count_cache_new(size_t slots)
{
    count_cache *cc = calloc(1, sizeof *cc);
    if (!cc || slots == 0 || !(cc->slots = calloc(slots, sizeof *cc->slots))) {
        free(cc);
        return NULL;
    }
    cc->nslots = slots;
    pthread_mutex_init(&cc->lock, NULL);
    for (int i = 0; i < COUNT_CACHE_FLIGHTS; i++) pthread_mutex_init(&cc->flights[i], NULL);
    return cc;
}

void count_cache_free(count_cache *cc)
{
    if (!cc) return;
    for (size_t i = 0; i < cc->nslots; i++) free(cc->slots[i].key);
    free(cc->slots);
    pthread_mutex_destroy(&cc->lock);
    for (int i = 0; i < COUNT_CACHE_FLIGHTS; i++) pthread_mutex_destroy(&cc->flights[i]);
    free(cc);
}

static int slot_matches(const count_slot *s, uint64_t hash, const char *key, size_t len)
{
    return s->key && s->hash == hash && s->len == len && memcmp(s->key, key, len) == 0;
}

int count_cache_get(count_cache *cc, const char *key, size_t len, uint64_t gen, int64_t *count)
{
    if (!cc || len > COUNT_CACHE_MAX_KEY) return 0;
    uint64_t h = key_hash(key, len);
    count_slot *s = &cc->slots[h % cc->nslots];
    pthread_mutex_lock(&cc->lock);
    int hit = slot_matches(s, h, key, len) && s->gen == gen;
    if (hit) *count = s->count;
    pthread_mutex_unlock(&cc->lock);
    return hit;
}

void count_cache_put(count_cache *cc, const char *key, size_t len, uint64_t gen, int64_t count)
{
    if (!cc || len > COUNT_CACHE_MAX_KEY) return;
    uint64_t h = key_hash(key, len);
    count_slot *s = &cc->slots[h % cc->nslots];
    char *copy = NULL, *old = NULL;
    int fresh = 0;
    pthread_mutex_lock(&cc->lock);
    if (!slot_matches(s, h, key, len) && (copy = malloc(len ? len : 1))) {
        memcpy(copy, key, len);
        old = s->key; /* freed below, outside the lock */
        s->key = copy;
        s->len = len;
        s->hash = h;
        fresh = 1;
    }
    /* never replace a newer generation's count of the same query with an older one */
    if (fresh || (slot_matches(s, h, key, len) && gen >= s->gen)) {
        s->gen = gen;
        s->count = count;
    }
    pthread_mutex_unlock(&cc->lock);
    free(old);
}

void count_cache_flight_begin(count_cache *cc, const char *key, size_t len)
{
    if (cc) pthread_mutex_lock(&cc->flights[key_hash(key, len) % COUNT_CACHE_FLIGHTS]);
}

void count_cache_flight_end(count_cache *cc, const char *key, size_t len)
{
    if (cc) pthread_mutex_unlock(&cc->flights[key_hash(key, len) % COUNT_CACHE_FLIGHTS]);
}
