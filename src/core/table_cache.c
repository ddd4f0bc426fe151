#include "core/table_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/hash.h"

typedef struct table_cache {
    table_entry slots[TABLE_CACHE_SLOTS];
} table_cache;

static _Atomic unsigned long cache_generation = 1;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void entry_clear(table_entry *e)
{
    schema_free(e->schema);
    json_object_put(e->permissions);
    store_table_release(&e->def);
    memset(e, 0, sizeof *e);
}

static void cache_destroy(void *p)
{
    table_cache *c = p;
    for (int i = 0; i < TABLE_CACHE_SLOTS; i++) entry_clear(&c->slots[i]);
    free(c);
}

static void cache_key_make(void)
{
    pthread_key_create(&cache_key, cache_destroy);
}

static table_cache *thread_cache(void)
{
    pthread_once(&cache_once, cache_key_make);
    table_cache *c = pthread_getspecific(cache_key);
    if (!c && (c = calloc(1, sizeof *c)) && pthread_setspecific(cache_key, c) != 0) {
        free(c);
        c = NULL;
    }
    return c;
}

void table_cache_bump(void)
{
    atomic_fetch_add(&cache_generation, 1);
}

static size_t slot_of(const char *env_id, const char *name)
{
    return (size_t)(hash64_str_seeded(name, hash64_str(env_id)) % TABLE_CACHE_SLOTS);
}

static int entry_fill(table_entry *e, store_docs *docs, const char *env_id, const char *name, bs_err *err)
{
    int found = 0;
    if (store_docs_table_get(docs, env_id, name, &e->def, &found, err) < 0) return -1;
    if (!found) return bs_err_set(err, 404, "data/table-not-found", "Table %.64s not found", name);
    struct json_object *doc = json_tokener_parse(e->def.schema_json);
    e->schema = schema_compile(doc, err);
    json_object_put(doc);
    if (!e->schema) return bs_err_internal(err);
    e->permissions = e->def.permissions_json ? json_tokener_parse(e->def.permissions_json) : NULL;
    snprintf(e->env_id, sizeof e->env_id, "%s", env_id);
    return 0;
}

const table_entry *table_cache_lookup(store_docs *docs, const char *env_id, const char *name, bs_err *err)
{
    if (!name || !*name || strlen(name) > STORE_TABLE_NAME_MAX) {
        bs_err_set(err, 404, "data/table-not-found", "Table not found");
        return NULL;
    }
    table_cache *c = thread_cache();
    if (!c) { bs_err_internal(err); return NULL; }
    table_entry *e = &c->slots[slot_of(env_id, name)];
    unsigned long gen = atomic_load(&cache_generation);
    int64_t now = clock_mono_us();
    if (e->schema && e->generation == gen && now - e->fetched_us < TABLE_CACHE_TTL_MS * 1000 &&
        strcmp(e->def.name, name) == 0 && strcmp(e->env_id, env_id) == 0)
        return e;
    entry_clear(e);
    if (entry_fill(e, docs, env_id, name, err) < 0) {
        entry_clear(e);
        return NULL;
    }
    e->fetched_us = now;
    e->generation = gen;
    return e;
}
