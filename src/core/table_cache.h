/* table_cache: a table's definition as the data API needs it on every request (catalog row, compiled
 * schema, parsed permissions), cached per worker thread so that the hot path neither reads the catalog
 * nor compiles the schema again. An entry is trusted for at most TABLE_CACHE_TTL_MS, and every table
 * change (table_cache_bump, called through core/fleet_bus) invalidates all entries at once: on every
 * instance of a fleet with --redis, before the management call answers; only while Redis is unreachable
 * do other instances rely on the TTL.
 * Ownership: the entry returned is borrowed until the same thread's next lookup; never free it. */
#ifndef BASALT_CORE_TABLE_CACHE_H
#define BASALT_CORE_TABLE_CACHE_H

#include <json-c/json.h>

#include "core/schema.h"
#include "store/docs.h"

#define TABLE_CACHE_TTL_MS 1000
#define TABLE_CACHE_SLOTS 64

typedef struct table_entry {
    char env_id[64];
    store_table def;
    schema *schema;                  /* compiled */
    struct json_object *permissions; /* parsed document, NULL when the table has none */
    int64_t fetched_us;
    unsigned long generation;
} table_entry;

/* The table `name` of the environment, or NULL with err: 404 data/table-not-found, 500. */
const table_entry *table_cache_lookup(store_docs *docs, const char *env_id, const char *name, bs_err *err);
/* Invalidates every cached table of every thread (after a table change). */
void table_cache_bump(void);

#endif
