/* dstmt: one connection to an environment database and its statements (the layer under envdb.h, shared by
 * docs_sqlite.c, docs_counts.c, users_sqlite.c and files_sqlite.c). Private to src/store/sqlite. Each
 * connection caches its prepared statements by SQL text (docs_stmt); reset them with docs_stmt_done after
 * use. A connection of an environment on a shared cluster's file carries the slot's name prefix: docs_stmt,
 * docs_exec, dconn_prepare and dconn_exec rewrite the SQL text (sql_prefix.h) before preparing it, so
 * callers always write the plain names ("_auth_users", "d_<table>").
 * Ownership: a dconn is the caller's for the duration of its borrow (envdb.h); not thread-safe. */
#ifndef BASALT_STORE_SQLITE_DSTMT_H
#define BASALT_STORE_SQLITE_DSTMT_H

#include <sqlite3.h>
#include <stdint.h>

#include "store/docs.h"
#include "util/err.h"

#define DOCS_REGEX_LIMIT_MSG "basalt: $regex over its match limit" /* the REGEXP function's error */

#define DOCS_STMT_CACHE 64

struct count_registry;

typedef struct dconn {
    sqlite3 *db;
    struct count_registry *totals;     /* the environment's maintained list totals (docs_counts.h), or NULL */
    char prefix[STORE_ENV_PREFIX_MAX]; /* "" or the environment's per-slot name prefix */
    struct { char *sql; uint64_t hash; sqlite3_stmt *st; } cache[DOCS_STMT_CACHE];
    int ncache, evict;
} dconn;

/* The prepared statement of sql on c (cached), or NULL with err. */
sqlite3_stmt *docs_stmt(dconn *c, const char *sql, bs_err *err);
void docs_stmt_done(sqlite3_stmt *st);
/* Runs sql (one or more statements, names rewritten for the connection's slot). */
int docs_exec(dconn *c, const char *sql, bs_err *err);
/* sqlite3_prepare_v3 / sqlite3_exec of sql with the connection's names: SQLite's result code. */
int dconn_prepare(dconn *c, const char *sql, unsigned flags, sqlite3_stmt **st);
int dconn_exec(dconn *c, const char *sql);
/* Finalizes every cached statement (before a table they may read is dropped). */
void dconn_stmts_clear(dconn *c);
/* Maps the connection's last error: constraint → 409 data/duplicate-value, busy → 503, else 500 (logged). */
int docs_fail(sqlite3 *db, const char *what, bs_err *err);

#endif
