/* docs_driver: the ops table a driver of the environment data stores implements (store/sqlite/ today,
 * store/postgres/ later). store/docs.c picks a driver from the location given to store_docs_open and
 * forwards every public store_docs_* call to the matching function pointer here; store/users.c and
 * store/files.c forward the users and files stores (which live in the same environment databases and
 * share the handle) through the driver's `users` and `files` tables. Adding a driver touches no caller.
 *
 * Contract: `open` receives the location with its scheme prefix removed (for SQLite, the data directory;
 * PostgreSQL receives the whole URL)
 * and returns the driver's own handle (opaque to docs.c) or NULL with err filled; `free` releases it.
 * Every other function receives that handle and has exactly the semantics documented in store/docs.h.
 * A transaction handle (store_docs_tx) is the driver's own struct whose first member is the
 * `struct store_docs_tx` below, so store/docs.c finds the ops from it. Drivers must be callable from any
 * thread at the same time. No driver type (sqlite3, PGconn, ...) may appear in this header. */
#ifndef BASALT_STORE_DOCS_DRIVER_H
#define BASALT_STORE_DOCS_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "store/docs.h"
#include "util/err.h"
#include "util/strbuf.h"

struct store_users_ops;
struct store_files_ops;

typedef struct store_docs_ops {
    const char *name; /* "sqlite", "postgres": for logs */

    void *(*open)(const char *target, bs_err *err);
    void (*free)(void *driver);

    void (*set_locator)(void *driver, store_env_locate_fn locate, void *arg);
    int (*table_create)(void *driver, const char *env_id, const store_table *t, const char *created_by, bs_err *err);
    int (*table_get)(void *driver, const char *env_id, const char *name, store_table *out, int *found, bs_err *err);
    int (*table_list)(void *driver, const char *env_id, store_table **out, size_t *count, bs_err *err);
    int (*table_update)(void *driver, const char *env_id, const store_table *t, int *found, bs_err *err);
    int (*table_drop)(void *driver, const char *env_id, const char *name, int *found, bs_err *err);
    int (*count)(void *driver, const char *env_id, const char *table, int64_t *count, bs_err *err);
    int (*indexes_change)(void *driver, const char *env_id, const char *table, const store_index_def *create,
        size_t ncreate, const char *const *drop, size_t ndrop, const char *indexes_json, int index_version,
        const char *created_by, int *found, bs_err *err);
    int (*versions)(void *driver, const char *env_id, const char *table, store_version_kind kind, store_version **out,
        size_t *count, bs_err *err);
    int (*version_get)(void *driver, const char *env_id, const char *table, store_version_kind kind, int version,
        store_version *out, int *found, bs_err *err);
    int (*schema_change)(void *driver, const char *env_id, const char *table, const char *schema_json, int new_version,
        const char *created_by, int *found, bs_err *err);
    int (*env_drop)(void *driver, const char *env_id, bs_err *err);
    int (*insert)(void *driver, const char *env_id, const char *table, const store_record *records, size_t n,
        size_t *failed_index, bs_err *err);
    int (*get)(void *driver, const char *env_id, const char *table, const char *id, strbuf *out, char *created_by,
        int *found, bs_err *err);
    int (*update)(void *driver, const char *env_id, const char *table, const char *id, const char *updated_at,
        store_docs_mutate_fn mutate, void *ctx, strbuf *out, int *found, bs_err *err);
    int (*delete)(void *driver, const char *env_id, const char *table, const char *id, int *found, bs_err *err);
    int (*insert_async)(void *driver, const char *env_id, const char *table, const store_record *records, size_t n,
        size_t *failed_index, bs_err *err, store_docs_done_fn done, void *ctx);
    int (*replace_async)(void *driver, const char *env_id, const char *table, const char *id, const char *expected,
        const char *doc, const char *updated_at, int *replaced, bs_err *err, store_docs_done_fn done, void *ctx);
    store_docs_tx *(*tx_begin)(void *driver, const char *env_id, bs_err *err);
    int (*tx_commit)(store_docs_tx *tx, bs_err *err);
    void (*tx_abort)(store_docs_tx *tx);
    int (*tx_insert)(store_docs_tx *tx, const char *table, const store_record *record, bs_err *err);
    int (*tx_update)(store_docs_tx *tx, const char *table, const char *id, const char *updated_at,
        store_docs_mutate_fn mutate, void *ctx, strbuf *out, int *found, bs_err *err);
    int (*tx_delete)(store_docs_tx *tx, const char *table, const char *id, store_docs_mutate_fn check, void *ctx,
        int *found, bs_err *err);
    int (*list)(void *driver, const char *env_id, const char *table, const query_plan *plan,
        const char *created_by_filter, store_docs_paging *paging, strbuf *items, int64_t *total, bs_err *err);
    int (*explain)(void *driver, const char *env_id, const char *table, const query_plan *plan,
        const char *created_by_filter, store_explain *out, bs_err *err);
    int (*env_bytes)(void *driver, const char *env_id, uint64_t *bytes, bs_err *err);

    const struct store_users_ops *users; /* store/users_driver.h, on the same handle */
    const struct store_files_ops *files; /* store/files_driver.h, on the same handle */
} store_docs_ops;

/* Every driver's transaction starts with this, so store/docs.c can find the ops from a transaction. */
struct store_docs_tx {
    const store_docs_ops *ops;
};

/* For store/users.c and store/files.c: the driver ops and the driver handle behind docs (not NULL). */
const store_docs_ops *store_docs_driver_ops(const store_docs *docs);
void *store_docs_driver(const store_docs *docs);

#endif
