/* docs_pg_call: what the files of the PostgreSQL docs driver share. Private to src/store/postgres.
 *   docs_pg.c          the handle, locating environments (docs_pg_env.h), env_drop, the ops table;
 *   docs_pg_catalog.c  the "catalog" schema part and the catalog ops (tables, versions, indexes, bytes);
 *   docs_pg_records.c  the records ops (writes, reads, transactions, lists);
 *   docs_pg_call.c     one call on one environment, table names, statements with the data store's errors;
 *   docs_pg_writers.c  the writer threads that run the writes without waiting.
 *
 * A call (docs_pg_call) is one environment located and one connection of its database borrowed, inside a
 * transaction when asked; docs_pg_call_end commits (rc 0) or rolls back and returns the connection. Every
 * statement names its objects qualified with the environment's schema: connections are shared by every
 * environment of a database. */
#ifndef BASALT_STORE_POSTGRES_DOCS_PG_CALL_H
#define BASALT_STORE_POSTGRES_DOCS_PG_CALL_H

#include <json-c/json.h>
#include <libpq-fe.h>
#include <stdint.h>

#include "store/docs_driver.h"
#include "store/postgres/docs_pg_env.h"
#include "util/err.h"
#include "util/strbuf.h"

typedef struct docs_pg_call {
    docs_pg_env env;
    PGconn *conn;                    /* borrowed from env.pool */
} docs_pg_call;

/* Locates env_id and borrows a connection (BEGIN when tx). 0, or -1 with err (nothing held). */
int docs_pg_call_begin(docs_pg *d, const char *env_id, int tx, docs_pg_call *call, bs_err *err);
/* Ends the call: inside a transaction, COMMIT when rc is 0 (rc becomes -1 with err when that fails),
 * ROLLBACK otherwise; the connection goes back. Returns rc. */
int docs_pg_call_end(docs_pg_call *call, int rc, bs_err *err);

/* 1 when table can be an environment table's name: [A-Za-z0-9_-], 1..STORE_TABLE_NAME_MAX. */
int docs_pg_table_ok(const char *table);
/* 0, or 404 data/table-not-found when the name is not one (as the SQLite driver answers). */
int docs_pg_table_check(const char *table, bs_err *err);
/* The physical name of a records table or one of its indexes: "d_<table><suffix>" (suffix "" for the
 * table, "$createdAt", "$updatedAt", "$createdBy", "$x_<index name>" for indexes; docs_pg_catalog.c). A
 * PostgreSQL identifier holds at most 63 bytes: a longer table name is cut there, as PostgreSQL cuts
 * "d_<table>" spelled in full (table_name_free refuses a second table cut to the same name); a longer
 * index name keeps its first 54 bytes followed by '_' and 8 hex digits of the whole name's hash, so the
 * default indexes of a long table name stay distinct from each other and from the table. */
#define DOCS_PG_IDENT_MAX 64
void docs_pg_physical_name(char out[DOCS_PG_IDENT_MAX], const char *table, const char *suffix);
/* The API name of an index of table from its physical name (what EXPLAIN names): "_id_" for the primary
 * key ("d_T_pkey"), "idx_createdAt_desc", "idx_updatedAt_desc", "idx_createdBy" for the defaults, <name>
 * for "d_T$x_<name>"; a name it does not know (or a custom index's name cut to a hash) as it is. */
void docs_pg_index_api_name(const char *table, const char *sql_name, char *out, size_t size);
/* Appends the records table of table, schema-qualified: "<schema>"."d_<table>" (table checked; the name
 * as docs_pg_physical_name makes it). */
void docs_pg_table_sql(strbuf *sql, const docs_pg_env *env, const char *table);
/* Appends "<before>" "<schema>"."d_<table>" "<after>": one statement on one records table. */
void docs_pg_table_stmt(strbuf *sql, const char *before, const docs_pg_env *env, const char *table, const char *after);

/* pg_exec on the call's connection with the data store's errors: a unique violation is 409
 * data/duplicate-value, a missing records table 404 data/table-not-found, a string jsonb cannot hold
 * (U+0000) 400 data/validation-error, the rest as pg_fail. */
PGresult *docs_pg_exec(const docs_pg_call *call, const char *what, const char *sql, int n, const char *const *params,
                       bs_err *err);
/* docs_pg_exec of a statement whose rows are not needed; *changed (may be NULL) = rows affected. */
int docs_pg_command(const docs_pg_call *call, const char *what, const char *sql, int n, const char *const *params,
                    int64_t *changed, bs_err *err);

/* ---- the ops, by file ---- */
/* docs_pg_catalog.c */
int docs_pg_table_create(void *driver, const char *env_id, const store_table *t, const char *created_by, bs_err *err);
int docs_pg_table_get(void *driver, const char *env_id, const char *name, store_table *out, int *found, bs_err *err);
int docs_pg_table_list(void *driver, const char *env_id, store_table **out, size_t *count, bs_err *err);
int docs_pg_table_update(void *driver, const char *env_id, const store_table *t, int *found, bs_err *err);
int docs_pg_table_drop(void *driver, const char *env_id, const char *name, int *found, bs_err *err);
int docs_pg_indexes_change(void *driver, const char *env_id, const char *table, const store_index_def *create,
                           size_t ncreate, const char *const *drop, size_t ndrop, const char *indexes_json,
                           int index_version, const char *created_by, int *found, bs_err *err);
int docs_pg_versions(void *driver, const char *env_id, const char *table, store_version_kind kind, store_version **out,
                     size_t *count, bs_err *err);
int docs_pg_version_get(void *driver, const char *env_id, const char *table, store_version_kind kind, int version,
                        store_version *out, int *found, bs_err *err);
int docs_pg_schema_change(void *driver, const char *env_id, const char *table, const char *schema_json, int new_version,
                          const char *created_by, int *found, bs_err *err);
int docs_pg_env_bytes(void *driver, const char *env_id, uint64_t *bytes, bs_err *err);

/* docs_pg_rows.c */
int docs_pg_rows_export(void *driver, const char *env_id, const char *table, const char *after, const char *only,
                        size_t max, struct json_object **rows, bs_err *err);
int docs_pg_rows_import(void *driver, const char *env_id, const char *table, struct json_object *rows, int replace,
                        bs_err *err);

/* docs_pg_records.c */
int docs_pg_count(void *driver, const char *env_id, const char *table, int64_t *count, bs_err *err);
int docs_pg_insert(void *driver, const char *env_id, const char *table, const store_record *records, size_t n,
                   size_t *failed_index, bs_err *err);
int docs_pg_get(void *driver, const char *env_id, const char *table, const char *id, strbuf *out, char *created_by,
                int *found, bs_err *err);
int docs_pg_update(void *driver, const char *env_id, const char *table, const char *id, const char *updated_at,
                   store_docs_mutate_fn mutate, void *ctx, strbuf *out, int *found, bs_err *err);
int docs_pg_delete(void *driver, const char *env_id, const char *table, const char *id, int *found, bs_err *err);
int docs_pg_insert_async(void *driver, const char *env_id, const char *table, const store_record *records, size_t n,
                         size_t *failed_index, bs_err *err, store_docs_done_fn done, void *ctx);
int docs_pg_replace_async(void *driver, const char *env_id, const char *table, const char *id, const char *expected,
                          const char *doc, const char *updated_at, int *replaced, bs_err *err, store_docs_done_fn done,
                          void *ctx);
store_docs_tx *docs_pg_tx_begin(void *driver, const char *env_id, bs_err *err);
int docs_pg_tx_commit(store_docs_tx *tx, bs_err *err);
void docs_pg_tx_abort(store_docs_tx *tx);
int docs_pg_tx_insert(store_docs_tx *tx, const char *table, const store_record *record, bs_err *err);
int docs_pg_tx_update(store_docs_tx *tx, const char *table, const char *id, const char *updated_at,
                      store_docs_mutate_fn mutate, void *ctx, strbuf *out, int *found, bs_err *err);
int docs_pg_tx_delete(store_docs_tx *tx, const char *table, const char *id, store_docs_mutate_fn check, void *ctx,
                      int *found, bs_err *err);
int docs_pg_list_op(void *driver, const char *env_id, const char *table, const query_plan *plan,
                    const char *created_by_filter, store_docs_paging *paging, strbuf *items, int64_t *total, bs_err *err);
int docs_pg_explain_op(void *driver, const char *env_id, const char *table, const query_plan *plan,
                       const char *created_by_filter, store_explain *out, bs_err *err);

#endif
