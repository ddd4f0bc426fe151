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
#include "store/sqlite/dstmt.h"
#include "store/sqlite/sq.h"
#include "util/err.h"

typedef struct denv denv;
/* The SQLite driver of the data stores (docs_sqlite.c): the handle behind store/docs.h's store_docs. */
typedef struct sqlite_docs sqlite_docs;

dconn *docs_conn_borrow(sqlite_docs *d, const char *env_id, denv **env_out, bs_err *err);
void docs_conn_return(sqlite_docs *d, denv *e, dconn *c);
dconn *docs_conn_borrow_writer(sqlite_docs *d, const char *env_id, denv **env_out, bs_err *err);
void docs_conn_return_writer(sqlite_docs *d, denv *e, dconn *c);
/* One write statement on the environment's writer connection: texts bound first (?1...; a NULL text binds
 * SQL NULL), then ints; *changed (may be NULL) = whether a row changed. */
int docs_write_one(sqlite_docs *db, const char *env_id, const char *sql, const char *const *texts, size_t ntexts,
                   const int64_t *ints, size_t nints, int *changed, bs_err *err);

/* A read on an environment's reader connection (envdb.c): the statement, its parameters (texts bound at
 * ?1..., a NULL text as SQL NULL, then ints) and how each row is read (sq.h's policy: a value that does
 * not fit fails the call). */
typedef struct docs_select {
    const char *sql;              /* the row query */
    const char *count_sql;        /* docs_select_page: count(*) over the same filter and parameters */
    const char *const *texts;
    size_t ntexts;
    const int64_t *ints;
    size_t nints;
    int page_at;                  /* docs_select_page: LIMIT at ?page_at, OFFSET at ?page_at + 1 */
    sq_row_reader read;
    size_t size;                  /* bytes of one row in out */
} docs_select;

/* The first row of q->sql into out (zeroed); *found = 0 when there is none. */
int docs_select_one(sqlite_docs *db, const char *env_id, const docs_select *q, void *out, int *found, bs_err *err);
/* Up to max rows of q->sql into out (an array of q->size-byte rows); *n = rows read. */
int docs_select_rows(sqlite_docs *db, const char *env_id, const docs_select *q, void *out, size_t max, size_t *n,
                     bs_err *err);
/* A page: *total = q->count_sql's count, then up to limit rows of q->sql from offset into out. */
int docs_select_page(sqlite_docs *db, const char *env_id, const docs_select *q, size_t limit, int64_t offset, void *out,
                     size_t *n, int64_t *total, bs_err *err);

#endif
