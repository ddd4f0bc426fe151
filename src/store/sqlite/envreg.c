/* envreg: the lock-free-read environment registry (see envreg.h). */
#include "store/sqlite/envreg.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util/check.h"
#include "util/hash.h"

struct envreg {
    _Atomic(envreg_entry *) buckets[ENVREG_BUCKETS];
    pthread_mutex_t stripes[ENVREG_STRIPES]; /* stripe b % ENVREG_STRIPES: creation in bucket b */
    atomic_size_t count;
    envreg_make_fn make;
    void *arg;
};

envreg *envreg_new(envreg_make_fn make, void *arg)
{
    envreg *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    for (size_t b = 0; b < ENVREG_BUCKETS; b++) atomic_init(&r->buckets[b], NULL);
    for (size_t s = 0; s < ENVREG_STRIPES; s++) pthread_mutex_init(&r->stripes[s], NULL);
    atomic_init(&r->count, 0);
    r->make = make;
    r->arg = arg;
    return r;
}

void envreg_free(envreg *r, envreg_visit_fn release, void *arg)
{
    if (!r) return;
    for (size_t b = 0; b < ENVREG_BUCKETS; b++) {
        envreg_entry *e = atomic_load_explicit(&r->buckets[b], memory_order_acquire);
        while (e) {
            envreg_entry *next = e->next;
            if (release) release(e, arg);
            e = next;
        }
    }
    for (size_t s = 0; s < ENVREG_STRIPES; s++) pthread_mutex_destroy(&r->stripes[s]);
    free(r);
}

/* The entry of (id, hash) in the chain starting at head, or NULL. */
static envreg_entry *chain_find(envreg_entry *head, const char *id, uint64_t hash)
{
    for (envreg_entry *e = head; e; e = e->next)
        if (e->hash == hash && strcmp(e->key, id) == 0) return e;
    return NULL;
}

envreg_entry *envreg_get(envreg *r, const char *id)
{
    uint64_t hash = hash64_str(id);
    size_t b = (size_t)(hash & (ENVREG_BUCKETS - 1));
    envreg_entry *head = atomic_load_explicit(&r->buckets[b], memory_order_acquire);
    envreg_entry *e = chain_find(head, id, hash);
    if (e) return e;
    pthread_mutex_t *stripe = &r->stripes[b % ENVREG_STRIPES];
    pthread_mutex_lock(stripe);
    head = atomic_load_explicit(&r->buckets[b], memory_order_acquire); /* another thread may have added it */
    e = chain_find(head, id, hash);
    if (!e && (e = r->make(r->arg, id)) != NULL) {
        BS_ASSERT(e->key && strcmp(e->key, id) == 0);
        e->hash = hash;
        e->next = head;
        atomic_store_explicit(&r->buckets[b], e, memory_order_release);
        atomic_fetch_add_explicit(&r->count, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(stripe);
    return e;
}

void envreg_each(envreg *r, envreg_visit_fn visit, void *arg)
{
    for (size_t b = 0; b < ENVREG_BUCKETS; b++)
        for (envreg_entry *e = atomic_load_explicit(&r->buckets[b], memory_order_acquire); e; e = e->next)
            visit(e, arg);
}

size_t envreg_count(envreg *r)
{
    return atomic_load_explicit(&r->count, memory_order_relaxed);
}
