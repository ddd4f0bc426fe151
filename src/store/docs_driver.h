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
    /* Moving an environment (store/docs_move.c): the rows of one of its tables in the neutral shape of
     * store/docs_rows.h (a JSON array of rows, each an array of the table's columns as strings or null).
     * export: rows whose key (first column) is > after (NULL: from the start) or = only (NULL: any), in key
     * order, at most max (0: all); *rows is owned by the caller (json_object_put). import: inserts rows in
     * one transaction, deleting every row of the table first when replace. */
    int (*rows_export)(void *driver, const char *env_id, const char *table, const char *after, const char *only,
        size_t max, struct json_object **rows, bs_err *err);
    int (*rows_import)(void *driver, const char *env_id, const char *table, struct json_object *rows, int replace,
        bs_err *err);
    /* Where the driver's own databases are, as text equal for two handles on the same place (PostgreSQL:
     * "host:port/database" of its main URL; SQLite: the data directory): a move never targets the place its
     * source is in (their environments' databases would have the same names). */
    void (*place_id)(void *driver, char *out, size_t cap);

    const struct store_users_ops *users; /* store/users_driver.h, on the same handle */
    const struct store_files_ops *files; /* store/files_driver.h, on the same handle */
} store_docs_ops;

/* Every driver's transaction starts with this, so store/docs.c can find the ops from a transaction. */
struct store_docs_tx {
    const store_docs_ops *ops;
    void *route;                 /* store/docs.c's: the environment's route the transaction is inside */
    int gen;                     /* store/docs.c's: the call's generation (store_docs_call.gen) */
    int stripe;                  /* store/docs.c's: how the call entered (store_docs_call.stripe) */
};

/* One call on one environment (store/docs.c, store/users.c, store/files.c): the driver that serves the
 * environment (its route: the base driver, or a database server's), entered for the call's duration so a
 * move (docs_move.h) can wait for calls to leave. begin: 0, or -1 with err (503 STORE_ENV_MOVING_CODE for
 * a write while a move blocks writes); end leaves (once). mark records, while a move copies, that the call
 * writes the record table/id (id NULL: the table's definition). */
typedef struct store_docs_call {
    const store_docs_ops *ops;
    void *driver;
    void *route;                 /* NULL: an id no route can name (the driver answers it) */
    int write;
    int gen;                     /* a write's generation (0 or 1): a move waits for the writes that began
                                    before its journal */
    int stripe;                  /* -1: entered under the route's lock; else the counter stripe of a call
                                    that entered without it (store/docs.c) */
} store_docs_call;
int store_docs_call_begin(store_docs *docs, const char *env_id, int write, store_docs_call *call, bs_err *err);
void store_docs_call_end(store_docs_call *call);
void store_docs_call_mark(store_docs_call *call, const char *table, const char *id);

/* ---- for store/docs_move.c: a move's hold on an environment's route ----
 * pin: locates env_id, refuses (409 common/conflict) when a move is already running or url's driver is the
 * one serving it, starts the journal, pins target for url's driver and fills src and dst.
 * block / unblock: writes answer 503 STORE_ENV_MOVING_CODE; block waits (at most timeout_ms, else 503 and
 * unblocked) for the writes inside to leave. journal_take: the keys written since pin, sorted, unique
 * (*keys freed with store_docs_journal_free); -1 when the journal overflowed.
 * switch_to: exclusive use (waits at most timeout_ms for every call to leave; reads and writes arriving
 * wait), runs sw, and on success routes the environment to the pinned driver; either way the exclusive use
 * ends, writes unblock, the journal stops and the pin goes (on failure the pin stays: release it with
 * unpin after dropping the target's copy). */
typedef struct store_docs_side {
    const store_docs_ops *ops;
    void *driver;
} store_docs_side;
typedef int (*store_docs_switch_fn)(void *ctx, bs_err *err);
int store_docs_route_pin(store_docs *docs, const char *env_id, const store_env_location *target, store_docs_side *src,
                         store_docs_side *dst, bs_err *err);
int store_docs_route_block(store_docs *docs, const char *env_id, int timeout_ms, bs_err *err);
/* Another instance of the fleet moves env_id (core/env_move.c through core/fleet_bus): hold refuses writes
 * here (503 STORE_ENV_MOVING_CODE; reads go on) for hold_ms from now (a move renews it every second while it
 * runs) and waits at most timeout_ms for the writes inside to leave (-1, 503, when they did not: the hold
 * stays); release ends the hold and locates the environment again (the move may have switched it). A hold
 * that runs out without a release ends the same way on the next call. */
int store_docs_route_hold(store_docs *docs, const char *env_id, int hold_ms, int timeout_ms, bs_err *err);
void store_docs_route_release(store_docs *docs, const char *env_id);
void store_docs_route_unblock(store_docs *docs, const char *env_id);
int store_docs_route_journal_take(store_docs *docs, const char *env_id, char ***keys, size_t *n, bs_err *err);
void store_docs_journal_free(char **keys, size_t n);
int store_docs_route_switch(store_docs *docs, const char *env_id, int timeout_ms, store_docs_switch_fn sw, void *ctx,
                            bs_err *err);
void store_docs_route_unpin(store_docs *docs, const char *env_id);

#endif
