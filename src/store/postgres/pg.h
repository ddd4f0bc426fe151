/* pg: what the PostgreSQL drivers share (libpq, PostgreSQL 15): a bounded pool of connections to one
 * server URL, statements with text parameters, reading result cells into fixed buffers (one truncation
 * policy, as store/sqlite/sq.h: a value that does not fit fails), transactions, the mapping of server
 * errors to bs_err, and versioned schema migrations. Private to src/store/postgres.
 *
 * Statements run through pg_run: parameters are always bound ($1, $2 ...; never spliced into the SQL
 * text), passed as text (pg_fmt_int64 for numbers), NULL for SQL NULL; results come back as text. Each
 * connection keeps its statements prepared (pg_stmts.c, "prepared statements" below), so the server
 * parses and plans a statement once per connection, not once per call.
 * Integers are BIGINT (epoch milliseconds, counters), booleans INTEGER 0/1 as on SQLite, so rows read the
 * same on both engines.
 *
 * Ownership: pg_pool_new returns a pool freed with pg_pool_free (after every borrowed connection was
 * returned). A connection is borrowed for one call (or one transaction) and returned; results are freed
 * with PQclear by the caller. Thread-safe: any thread may borrow; a borrowed connection is its alone. */
#ifndef BASALT_STORE_POSTGRES_PG_H
#define BASALT_STORE_POSTGRES_PG_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define PG_POOL_MAX 16          /* connections to one server (more callers wait for one) */
#define PG_INT64_TEXT 24        /* a buffer for pg_fmt_int64 */
/* pg_advisory_xact_lock keys, all in one place: schema migrations, environment placement, usage batches,
 * the usage roll-up. */
#define PG_LOCK_MIGRATE "4242424242"
#define PG_LOCK_PLACEMENT "4242424243"
#define PG_LOCK_USAGE_ADD "4242424244"
#define PG_LOCK_USAGE_ROLLUP "4242424245"
#define PG_LOCK_ENV_SCHEMA "4242424246" /* seeds the hash of the schema name: environment schemas (docs_pg.c) */

typedef struct pg_pool pg_pool;

/* One unique constraint and what a client is told when a write clashes with it (409 common/conflict). */
typedef struct pg_conflict {
    const char *constraint;     /* the server's constraint name, e.g. "organizations_slug_key" */
    const char *message;
} pg_conflict;

/* Connects once to url (to fail early with a clear error) and keeps the connection in the pool. conflicts
 * (borrowed, may be NULL) name the unique constraints for pg_fail. NULL with err on failure. */
pg_pool *pg_pool_new(const char *url, const pg_conflict *conflicts, size_t nconflicts, bs_err *err);
/* pg_pool_new keeping at most max_conns (1..PG_POOL_MAX) connections open at once. */
pg_pool *pg_pool_new_sized(const char *url, const pg_conflict *conflicts, size_t nconflicts, int max_conns, bs_err *err);
void pg_pool_free(pg_pool *p);
/* Closes the idle connections (the borrowed ones are closed when they come back): before the database is
 * dropped. The pool stays usable. */
void pg_pool_close_idle(pg_pool *p);

/* A connection for one call or transaction (opened when the pool has none idle; waits while PG_POOL_MAX
 * are borrowed); NULL with err (503 when the server cannot be reached). Return it with pg_return, which
 * closes it instead of keeping it when it is broken or left inside a transaction. */
PGconn *pg_borrow(pg_pool *p, bs_err *err);
void pg_return(pg_pool *p, PGconn *c);

/* 0 when every one of the n text parameters (NULL: SQL NULL) is valid UTF-8; else 400
 * common/invalid-parameters: a database in UTF8 refuses such a text (22021), and no stored text equals it.
 * pg_exec and the data store's statements check their parameters with it before sending them. */
int pg_params_check(int n, const char *const *params, bs_err *err);
/* Runs sql with n text parameters (checked by pg_params_check). The result (PGRES_TUPLES_OK or PGRES_COMMAND_OK), or NULL with err
 * mapped by pg_fail (what names the operation for the log). */
PGresult *pg_exec(pg_pool *p, PGconn *c, const char *what, const char *sql, int n, const char *const *params, bs_err *err);
/* pg_exec of a statement whose rows are not needed: 0 and *changed (may be NULL) = rows affected. */
int pg_command(pg_pool *p, PGconn *c, const char *what, const char *sql, int n, const char *const *params, int64_t *changed,
               bs_err *err);
/* Borrows a connection, runs pg_command, returns it. */
int pg_command1(pg_pool *p, const char *what, const char *sql, int n, const char *const *params, int64_t *changed, bs_err *err);
/* Borrows a connection, runs pg_exec, returns it (the result is the caller's). */
PGresult *pg_exec1(pg_pool *p, const char *what, const char *sql, int n, const char *const *params, bs_err *err);

/* Runs sql (no parameters, outside any transaction) on a connection of p; a failure with one of the
 * SQLSTATEs listed in tolerated ("42P04 23505") counts as success. */
int pg_command_tolerant(pg_pool *p, const char *what, const char *sql, const char *tolerated, bs_err *err);

/* BEGIN, COMMIT, ROLLBACK on c. BEGIN is deferred: it travels with the transaction's first statement (one
 * round trip for both), so after pg_begin run statements through pg_exec/pg_command/pg_run only, not raw
 * libpq calls; PQtransactionStatus reads PQTRANS_IDLE until that statement ran. A transaction in which
 * nothing ran commits and rolls back without a round trip. */
int pg_begin(pg_pool *p, PGconn *c, bs_err *err);
int pg_commit(pg_pool *p, PGconn *c, bs_err *err);
void pg_rollback(PGconn *c);

/* Maps a failed result (or, when r is NULL, the connection's state) to err: unique violations are 409
 * common/conflict with the constraint's message, foreign-key violations 409 "the record it belongs to does
 * not exist", a lost or unreachable server, a deadlock or a serialization failure 503 common/unavailable, anything else 500 (logged). -1. */
int pg_fail(pg_pool *p, PGconn *c, const PGresult *r, const char *what, bs_err *err);

/* ---- prepared statements (pg_stmts.c) ----
 * Every connection of a pool carries a cache of at most PG_STMTS_MAX named statements, keyed by the exact
 * SQL text (its hash, then the text). pg_run sends a statement it does not hold as Parse + Execute in one
 * pipeline (one round trip, as PQexecParams) and keeps it; later it is only executed (PQexecPrepared). The
 * least recently used statement makes room (deallocated on the server at the next statement outside a
 * transaction). Run unprepared, as before: several statements in one string (';'), a statement that is
 * not SELECT/INSERT/UPDATE/DELETE/WITH (BEGIN, COMMIT, SET, DDL), one longer than PG_STMT_SQL_MAX or with
 * more than PG_STMT_PARAMS_MAX parameters (multi-row inserts), and any statement inside a failed
 * transaction (it fails as it would). A reset connection (PQreset) empties its cache. A table whose
 * columns changed under a statement (0A000 "cached plan must not change result type") or a statement the
 * server lost (26000) is prepared again and run once more outside a transaction; inside one the error is
 * the caller's, and the statement is prepared afresh next time. */
#define PG_STMTS_MAX 256
#define PG_STMT_SQL_MAX 4096
#define PG_STMT_PARAMS_MAX 32

/* What one connection's cache did (tests, logs). */
typedef struct pg_stmts_stats {
    uint64_t prepared, reused, unprepared, evicted, stale, resets;
    uint64_t begins_folded;     /* BEGINs sent with the statement after them */
    int live;                   /* statements held now */
} pg_stmts_stats;

/* Gives c its statement cache (the pool does, for every connection it opens); freed by PQfinish. -1 when
 * out of memory (c then runs every statement unprepared). */
int pg_stmts_attach(PGconn *c);
/* Runs sql with n text parameters on c, prepared when it can be (see above); the result as PQexecParams
 * answers it (NULL when out of memory or the connection is gone). No error mapping: pg_exec does that. */
PGresult *pg_run(PGconn *c, const char *sql, int n, const char *const *params);
/* Runs the nlead lead statements (no parameters, unprepared: "BEGIN ISOLATION LEVEL ...", "SET LOCAL ...";
 * the first opens a transaction, c must be idle) and then sql, prepared as pg_run prepares it, in one round
 * trip (pipeline mode). The result of sql, or the first failing lead statement's error; the transaction
 * stays open (or failed) for the caller to end. A statement gone stale is prepared afresh and the whole
 * run done once more (after a ROLLBACK of the failed transaction). */
PGresult *pg_run_led(PGconn *c, const char *const *lead, int nlead, const char *sql, int n, const char *const *params);
/* pg_begin's deferred BEGIN: 1 when c will send it with its next pg_run (c idle, with a cache), 0 when the
 * caller must send it. pg_stmts_take_begin: 1 when a deferred BEGIN was still unsent (now dropped: nothing
 * ran, so there is nothing to commit or roll back). */
int pg_stmts_defer_begin(PGconn *c);
int pg_stmts_take_begin(PGconn *c);
/* c's counters (zeros when it has no cache). */
void pg_stmts_stats_get(const PGconn *c, pg_stmts_stats *out);

/* ---- reading a row ---- */
/* Copies cell (row, col) into buf (cap bytes, NUL-terminated; SQL NULL reads as ""); -1 with err (500)
 * when it does not fit. */
int pg_text(const PGresult *r, int row, int col, char *buf, size_t cap, bs_err *err);
/* A malloc'ed copy of the cell (NULL reads as NULL); NULL also on allocation failure. */
char *pg_dup(const PGresult *r, int row, int col);
/* The cell as an integer (SQL NULL reads as 0). */
int64_t pg_i64(const PGresult *r, int row, int col);
/* 1 when the cell is SQL NULL. */
int pg_null(const PGresult *r, int row, int col);

/* ---- parameters ---- */
/* v as decimal text in buf (returned). */
const char *pg_fmt_int64(char buf[PG_INT64_TEXT], int64_t v);
/* text, or NULL (SQL NULL) when text is NULL or "". */
const char *pg_or_null(const char *text);

/* ---- schema ---- */
/* One schema version: its statements, run in order in one transaction. */
typedef struct pg_migration {
    int version;
    const char *const *statements;
    size_t count;
} pg_migration;
/* Brings the database to the last version of steps (ascending), recording it in basalt_schema_version;
 * concurrent starts are serialized by an advisory lock. *version: the version after. */
int pg_migrate(pg_pool *p, const pg_migration *steps, size_t nsteps, int *version, bs_err *err);

#endif
