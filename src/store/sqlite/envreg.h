/* envreg: the environment registry of the SQLite data-store driver (docs_sqlite.c): a hash map keyed by
 * environment id (XXH3, util/hash.h) whose lookups take no lock at all. Private to src/store/sqlite.
 *
 * Entries are the driver's own structs with an envreg_entry embedded; envreg_get finds one or has the
 * driver's `make` create it. An entry is published with a release store of its bucket's head and never
 * moves, changes key or leaves the map before envreg_free: a pointer envreg_get returned is a reference
 * that stays valid for the registry's whole life, so callers keep no count. Creation takes one of
 * ENVREG_STRIPES stripe mutexes (the bucket's), so two threads that race to create one id get the same
 * entry; lookups of existing entries never block. There is no limit on the number of entries; chains
 * grow past ENVREG_BUCKETS entries.
 *
 * Ownership: the registry owns its buckets; the entries belong to the driver, which frees them in
 * envreg_free's callback. Thread-safety: envreg_get and envreg_each from any thread at any time;
 * envreg_free once, when no other call can run. */
#ifndef BASALT_STORE_SQLITE_ENVREG_H
#define BASALT_STORE_SQLITE_ENVREG_H

#include <stddef.h>
#include <stdint.h>

#define ENVREG_BUCKETS 4096 /* a power of two */
#define ENVREG_STRIPES 64

typedef struct envreg_entry {
    struct envreg_entry *next; /* the bucket's chain: set before publication, never changed after */
    uint64_t hash;
    const char *key;           /* the entry's id, inside the driver's struct (make sets it) */
} envreg_entry;

/* Creates the entry for id (the driver's struct; make fills key to a copy of id it owns), or NULL when
 * out of memory. Runs under the bucket's stripe mutex: keep it short and call no registry function. */
typedef envreg_entry *(*envreg_make_fn)(void *arg, const char *id);
typedef void (*envreg_visit_fn)(envreg_entry *e, void *arg);

typedef struct envreg envreg;

/* A new empty registry creating entries with make(arg, id), or NULL when out of memory. */
envreg *envreg_new(envreg_make_fn make, void *arg);
/* Calls release(e, arg) on every entry (may be NULL), then frees the registry. */
void envreg_free(envreg *r, envreg_visit_fn release, void *arg);
/* The entry of id (a NUL-terminated key), created on first use; NULL only when make failed. */
envreg_entry *envreg_get(envreg *r, const char *id);
/* Calls visit(e, arg) on every entry published before the call (entries created meanwhile may be
 * skipped). Takes no lock: visit may call envreg_get. */
void envreg_each(envreg *r, envreg_visit_fn visit, void *arg);
/* How many entries the registry holds. */
size_t envreg_count(envreg *r);

#endif
