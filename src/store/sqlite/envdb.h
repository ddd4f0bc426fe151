/* envdb: the connections to the environment databases, shared by the drivers that keep data in them
 * (docs_sqlite.c: tables and records; users_sqlite.c: end users and sessions). Private to
 * src/store/sqlite. A connection is borrowed for one call and returned; a writer borrows with
 * docs_conn_borrow_writer, which also takes the environment's write turn (one writer per environment in
 * this process). Each connection caches its prepared
 * statements by SQL text (docs_stmt); reset them with docs_stmt_done after use.
 *
 * An environment on a shared cluster's file has per-slot names (store/docs.h store_env_location): its
 * connections carry the prefix, and docs_stmt and docs_exec rewrite the SQL text (sql_prefix.h) before
 * preparing it, so callers always write the plain names ("_auth_users", "d_<table>"). Names read back
 * from SQLite carry the prefix: strip it (sql_prefix_strip) before answering with them. Several
 * environments of one file write in turns of their own: SQLite's busy timeout makes each wait for the
 * file's write lock. */
#ifndef BASALT_STORE_SQLITE_ENVDB_H
#define BASALT_STORE_SQLITE_ENVDB_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "store/docs.h"
#include "util/err.h"

#define DOCS_STMT_CACHE 64

struct count_registry;

typedef struct dconn {
    sqlite3 *db;
    struct count_registry *totals;     /* the environment's maintained list totals (docs_counts.h), or NULL */
    char prefix[STORE_ENV_PREFIX_MAX]; /* "" or the environment's per-slot name prefix */
    struct { char *sql; uint64_t hash; sqlite3_stmt *st; } cache[DOCS_STMT_CACHE];
    int ncache, evict;
} dconn;

typedef struct denv denv;

dconn *docs_conn_borrow(store_docs *d, const char *env_id, denv **env_out, bs_err *err);
void docs_conn_return(store_docs *d, denv *e, dconn *c);
dconn *docs_conn_borrow_writer(store_docs *d, const char *env_id, denv **env_out, bs_err *err);
void docs_conn_return_writer(store_docs *d, denv *e, dconn *c);
/* The prepared statement of sql on c (cached), or NULL with err. */
sqlite3_stmt *docs_stmt(dconn *c, const char *sql, bs_err *err);
void docs_stmt_done(sqlite3_stmt *st);
/* Runs sql (one or more statements, names rewritten for the connection's slot). */
int docs_exec(dconn *c, const char *sql, bs_err *err);
/* One write statement on the environment's writer connection: texts bound first (?1...), then ints;
 * *changed (may be NULL) = whether a row changed. */
int docs_write_one(store_docs *db, const char *env_id, const char *sql, const char *const *texts, size_t ntexts,
                   const int64_t *ints, size_t nints, int *changed, bs_err *err);
/* Maps the connection's last error: constraint → 409 data/duplicate-value, busy → 503, else 500 (logged). */
int docs_fail(sqlite3 *db, const char *what, bs_err *err);

#endif
