/* docs: driver selection and dispatch for the environment data stores (see docs.h). The handle is a
 * driver ops table plus the driver's own opaque handle; every public call forwards to the ops table. The
 * helpers that only release what a call filled in are driver-neutral and live here. */
#include "store/docs.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "store/docs_driver.h"
#include "store/postgres/docs_pg.h"
#include "store/sqlite/docs_sqlite.h"

struct store_docs {
    const store_docs_ops *ops;
    void *driver;
};

/* Locations the data store understands; the first matching prefix wins. A location with no known prefix
 * and no "scheme://" is the SQLite data directory. */
static const struct {
    const char *prefix;
    const store_docs_ops *ops; /* NULL: recognised but not built yet */
    int whole;                 /* the driver receives the whole location (a URL), not what follows the prefix */
} docs_schemes[] = {
    {"sqlite:", &store_sqlite_docs_ops, 0},
    {"postgres://", &store_pg_docs_ops, 1},
    {"postgresql://", &store_pg_docs_ops, 1},
};

/* Finds the driver for location and the target text it receives. -1 with err filled when none fits. */
static int docs_pick(const char *location, const store_docs_ops **ops, const char **target, bs_err *err)
{
    if (!location || !*location)
        return bs_err_set(err, 500, "common/internal-error", "data store location is empty");
    for (size_t i = 0; i < sizeof docs_schemes / sizeof docs_schemes[0]; i++) {
        size_t n = strlen(docs_schemes[i].prefix);
        if (strncmp(location, docs_schemes[i].prefix, n) != 0) continue;
        if (!docs_schemes[i].ops)
            return bs_err_set(err, 500, "common/internal-error", "PostgreSQL data store not built yet");
        *ops = docs_schemes[i].ops;
        *target = docs_schemes[i].whole ? location : location + n;
        return 0;
    }
    const char *sep = strstr(location, "://");
    if (sep && !memchr(location, '/', (size_t)(sep - location)))
        return bs_err_set(err, 500, "common/internal-error", "unsupported data store location scheme");
    *ops = &store_sqlite_docs_ops;
    *target = location;
    return 0;
}

store_docs *store_docs_open(const char *data_dir, bs_err *err)
{
    const store_docs_ops *ops = NULL;
    const char *target = NULL;
    if (docs_pick(data_dir, &ops, &target, err) != 0) return NULL;
    if (!*target) {
        bs_err_set(err, 500, "common/internal-error", "data store path is empty");
        return NULL;
    }
    store_docs *docs = calloc(1, sizeof *docs);
    if (!docs) {
        bs_err_internal(err);
        return NULL;
    }
    docs->ops = ops;
    docs->driver = ops->open(target, err);
    if (!docs->driver) {
        free(docs);
        return NULL;
    }
    return docs;
}

void store_docs_free(store_docs *docs)
{
    if (!docs) return;
    docs->ops->free(docs->driver);
    free(docs);
}

const store_docs_ops *store_docs_driver_ops(const store_docs *docs)
{
    return docs->ops;
}

void *store_docs_driver(const store_docs *docs)
{
    return docs->driver;
}

/* ---- releasing what the calls filled ---- */

void store_table_release(store_table *t)
{
    if (!t) return;
    free(t->schema_json);
    free(t->permissions_json);
    free(t->display_name);
    free(t->description);
    free(t->indexes_json);
    t->schema_json = t->permissions_json = t->display_name = t->description = t->indexes_json = NULL;
}

void store_table_list_free(store_table *tables, size_t count)
{
    for (size_t i = 0; i < count; i++) store_table_release(&tables[i]);
    free(tables);
}

void store_version_list_free(store_version *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) free(v[i].body);
    free(v);
}

void store_version_release(store_version *v)
{
    if (v) free(v->body);
}

void store_explain_release(store_explain *e)
{
    if (e) json_object_put(e->steps);
}

/* ---- forwarders ---- */

int store_docs_server_check(const char *url, int dedicated, bs_err *err)
{
    if (!url || (strncmp(url, "postgres://", 11) != 0 && strncmp(url, "postgresql://", 13) != 0))
        return bs_err_set(err, 400, "common/invalid-parameters", "A cluster's URL is a postgres:// URL");
    return docs_pg_server_check(url, dedicated, err);
}

void store_docs_set_locator(store_docs *docs, store_env_locate_fn locate, void *arg)
{
    if (!docs) return;
    docs->ops->set_locator(docs->driver, locate, arg);
}

int store_docs_table_create(store_docs *docs, const char *env_id, const store_table *t, const char *created_by,
                            bs_err *err)
{
    if (!docs) return bs_err_internal(err);
    return docs->ops->table_create(docs->driver, env_id, t, created_by, err);
}

int store_docs_table_get(store_docs *docs, const char *env_id, const char *name, store_table *out, int *found,
                         bs_err *err)
{
    if (!docs) return bs_err_internal(err);
    return docs->ops->table_get(docs->driver, env_id, name, out, found, err);
}

int store_docs_table_list(store_docs *docs, const char *env_id, store_table **out, size_t *count, bs_err *err)
{
    if (!docs) return bs_err_internal(err);
    return docs->ops->table_list(docs->driver, env_id, out, count, err);
}

int store_docs_table_update(store_docs *docs, const char *env_id, const store_table *t, int *found, bs_err *err)
{
    if (!docs) return bs_err_internal(err);
    return docs->ops->table_update(docs->driver, env_id, t, found, err);
}

int store_docs_table_drop(store_docs *docs, const char *env_id, const char *name, int *found, bs_err *err)
{
    if (!docs) return bs_err_internal(err);
    return docs->ops->table_drop(docs->driver, env_id, name, found, err);
}

int store_docs_count(store_docs *docs, const char *env_id, const char *table, int64_t *count, bs_err *err)
{
    if (!docs) return bs_err_internal(err);
    return docs->ops->count(docs->driver, env_id, table, count, err);
}

int store_docs_indexes_change(store_docs *docs, const char *env_id, const char *table, const store_index_def *create,
                              size_t ncreate, const char *const *drop, size_t ndrop, const char *indexes_json,
                              int index_version, const char *created_by, int *found, bs_err *err)
{
    if (!docs) return bs_err_internal(err);
    return docs->ops->indexes_change(docs->driver, env_id, table, create, ncreate, drop, ndrop, indexes_json, index_version,
        created_by, found, err);
}

int store_docs_versions(store_docs *docs, const char *env_id, const char *table, store_version_kind kind,
                        store_version **out, size_t *count, bs_err *err)
{
    if (!docs) return bs_err_internal(err);
    return docs->ops->versions(docs->driver, env_id, table, kind, out, count, err);
}

int store_docs_version_get(store_docs *docs, const char *env_id, const char *table, store_version_kind kind,
                           int version, store_version *out, int *found, bs_err *err)
{
    if (!docs) return bs_err_internal(err);
    return docs->ops->version_get(docs->driver, env_id, table, kind, version, out, found, err);
}

int store_docs_schema_change(store_docs *docs, const char *env_id, const char *table, const char *schema_json,
                             int new_version, const char *created_by, int *found, bs_err *err)
{
    if (!docs) return bs_err_internal(err);
    return docs->ops->schema_change(docs->driver, env_id, table, schema_json, new_version, created_by, found, err);
}

int store_docs_env_drop(store_docs *docs, const char *env_id, bs_err *err)
{
    if (!docs) return bs_err_internal(err);
    return docs->ops->env_drop(docs->driver, env_id, err);
}

int store_docs_insert(store_docs *docs, const char *env_id, const char *table, const store_record *records, size_t n,
                      size_t *failed_index, bs_err *err)
{
    if (!docs) return bs_err_internal(err);
    return docs->ops->insert(docs->driver, env_id, table, records, n, failed_index, err);
}

int store_docs_get(store_docs *docs, const char *env_id, const char *table, const char *id, strbuf *out,
                   char *created_by, int *found, bs_err *err)
{
    if (!docs) return bs_err_internal(err);
    return docs->ops->get(docs->driver, env_id, table, id, out, created_by, found, err);
}

int store_docs_update(store_docs *docs, const char *env_id, const char *table, const char *id, const char *updated_at,
                      store_docs_mutate_fn mutate, void *ctx, strbuf *out, int *found, bs_err *err)
{
    if (!docs) return bs_err_internal(err);
    return docs->ops->update(docs->driver, env_id, table, id, updated_at, mutate, ctx, out, found, err);
}

int store_docs_delete(store_docs *docs, const char *env_id, const char *table, const char *id, int *found, bs_err *err)
{
    if (!docs) return bs_err_internal(err);
    return docs->ops->delete(docs->driver, env_id, table, id, found, err);
}

int store_docs_insert_async(store_docs *docs, const char *env_id, const char *table, const store_record *records,
                            size_t n, size_t *failed_index, bs_err *err, store_docs_done_fn done, void *ctx)
{
    if (!docs) return bs_err_internal(err);
    return docs->ops->insert_async(docs->driver, env_id, table, records, n, failed_index, err, done, ctx);
}

int store_docs_replace_async(store_docs *docs, const char *env_id, const char *table, const char *id,
                             const char *expected, const char *doc, const char *updated_at, int *replaced, bs_err *err,
                             store_docs_done_fn done, void *ctx)
{
    if (!docs) return bs_err_internal(err);
    return docs->ops->replace_async(docs->driver, env_id, table, id, expected, doc, updated_at, replaced, err, done, ctx);
}

store_docs_tx *store_docs_tx_begin(store_docs *docs, const char *env_id, bs_err *err)
{
    if (!docs) {
        bs_err_internal(err);
        return NULL;
    }
    return docs->ops->tx_begin(docs->driver, env_id, err);
}

int store_docs_tx_commit(store_docs_tx *tx, bs_err *err)
{
    if (!tx) return bs_err_internal(err);
    return tx->ops->tx_commit(tx, err);
}

void store_docs_tx_abort(store_docs_tx *tx)
{
    if (!tx) return;
    tx->ops->tx_abort(tx);
}

int store_docs_tx_insert(store_docs_tx *tx, const char *table, const store_record *record, bs_err *err)
{
    if (!tx) return bs_err_internal(err);
    return tx->ops->tx_insert(tx, table, record, err);
}

int store_docs_tx_update(store_docs_tx *tx, const char *table, const char *id, const char *updated_at,
                         store_docs_mutate_fn mutate, void *ctx, strbuf *out, int *found, bs_err *err)
{
    if (!tx) return bs_err_internal(err);
    return tx->ops->tx_update(tx, table, id, updated_at, mutate, ctx, out, found, err);
}

int store_docs_tx_delete(store_docs_tx *tx, const char *table, const char *id, store_docs_mutate_fn check, void *ctx,
                         int *found, bs_err *err)
{
    if (!tx) return bs_err_internal(err);
    return tx->ops->tx_delete(tx, table, id, check, ctx, found, err);
}

int store_docs_list(store_docs *docs, const char *env_id, const char *table, const query_plan *plan,
                    const char *created_by_filter, store_docs_paging *paging, strbuf *items, int64_t *total,
                    bs_err *err)
{
    if (!docs) return bs_err_internal(err);
    return docs->ops->list(docs->driver, env_id, table, plan, created_by_filter, paging, items, total, err);
}

int store_docs_explain(store_docs *docs, const char *env_id, const char *table, const query_plan *plan,
                       const char *created_by_filter, store_explain *out, bs_err *err)
{
    if (!docs) return bs_err_internal(err);
    return docs->ops->explain(docs->driver, env_id, table, plan, created_by_filter, out, err);
}

int store_docs_env_bytes(store_docs *docs, const char *env_id, uint64_t *bytes, bs_err *err)
{
    if (!docs) return bs_err_internal(err);
    return docs->ops->env_bytes(docs->driver, env_id, bytes, err);
}
