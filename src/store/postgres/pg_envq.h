/* pg_envq: statements on one environment's schema, shared by the PostgreSQL users and files drivers
 * (users_pg.c, users_pg_sessions.c, files_pg.c). Private to src/store/postgres.
 *
 * SQL is written once with "{s}" where the environment's schema goes ("SELECT ... FROM {s}.users"):
 * pge_* splice the schema (docs_pg_env.h: [a-z0-9_] only, quoted) and run the statement with bound text
 * parameters (pge_params: numbers formatted in place) on a docs_pg_call (docs_pg_call.h: one located
 * environment, one borrowed connection, a transaction when asked). A unique violation answers as the SQLite
 * driver's (409 data/duplicate-value); operations with a message of their own remap it (pge_conflict).
 * Rows are read by a pge_reader into caller memory: NULL text reads as "", NULL numbers as 0, a value
 * longer than its buffer fails the call (500), as on SQLite.
 *
 * Ownership: parameters and rows are caller memory; the *1 calls hold a connection for their duration only.
 * Thread-safe as the pool is: a call belongs to one thread. */
#ifndef BASALT_STORE_POSTGRES_PG_ENVQ_H
#define BASALT_STORE_POSTGRES_PG_ENVQ_H

#include <stddef.h>
#include <stdint.h>

#include "store/postgres/docs_pg_call.h"
#include "store/postgres/docs_pg_env.h"
#include "store/postgres/pg.h"
#include "util/err.h"

#define PGE_PARAMS_MAX 24
#define PGE_SQL_MAX 4096   /* a statement with its schema spliced in */

/* The text parameters of one statement ($1 ... in the order added). */
typedef struct pge_params {
    const char *v[PGE_PARAMS_MAX];
    char num[PGE_PARAMS_MAX][PG_INT64_TEXT];
    int n;
    int bad;               /* a fixed-size field without its NUL */
} pge_params;

void pge_text(pge_params *p, const char *text);          /* NULL binds SQL NULL */
void pge_fixed(pge_params *p, const char *field, size_t cap);
#define PGE_FIELD(p, field) pge_fixed((p), (field), sizeof(field))
void pge_int(pge_params *p, int64_t v);
/* A LIMIT of max rows (NULL, no limit, when max does not fit an int64). */
void pge_limit(pge_params *p, size_t max);

/* Reads row i into dst; -1 with err when a value does not fit. */
typedef int (*pge_reader)(const PGresult *r, int i, void *dst, bs_err *err);
/* A text cell into a char array field: 1 when it failed (for `bad |= ...` chains; needs `err` in scope). */
#define PGE_TEXT(r, i, col, field) (0 - pg_text((r), (i), (col), (field), sizeof(field), err))

/* ---- statements on one call (docs_pg_call.h: docs_pg_call_begin ... docs_pg_call_end) ---- */
/* Runs tmpl ({s}: the schema) with p (NULL: none) on the call's connection, errors as docs_pg_exec's: the
 * result (the caller PQclears it), or NULL with err. */
PGresult *pge_exec(const docs_pg_call *call, const char *what, const char *tmpl, const pge_params *p, bs_err *err);
/* A statement without rows; *changed (may be NULL) = rows affected. */
int pge_run(const docs_pg_call *call, const char *what, const char *tmpl, const pge_params *p, int64_t *changed,
            bs_err *err);
/* pge_run, *changed as a flag (may be NULL): 1 when a row was affected. */
int pge_run_flag(const docs_pg_call *call, const char *what, const char *tmpl, const pge_params *p, int *changed,
                 bs_err *err);
/* The first row into out (size bytes, zeroed first); *found = 0 when there is none. */
int pge_one(const docs_pg_call *call, const char *what, const char *tmpl, const pge_params *p, pge_reader read,
            void *out, size_t size, int *found, bs_err *err);
/* Up to max rows into out (an array of size-byte rows); *n = rows read. */
int pge_rows(const docs_pg_call *call, const char *what, const char *tmpl, const pge_params *p, pge_reader read,
             void *out, size_t size, size_t max, size_t *n, bs_err *err);
/* One integer answer (count(*), a sum): the first cell of the first row, 0 when there is none. */
int pge_int64(const docs_pg_call *call, const char *what, const char *tmpl, const pge_params *p, int64_t *out, bs_err *err);

/* A page: *total = count_tmpl's answer, then up to limit rows of tmpl from offset; both take p, and tmpl
 * also $n+1 = LIMIT, $n+2 = OFFSET (n = p->n). */
typedef struct pge_page {
    const char *what, *tmpl, *count_tmpl;
    pge_reader read;
    size_t size;           /* bytes of one row in out */
} pge_page;
int pge_page_read(const docs_pg_call *call, const pge_page *q, const pge_params *p, size_t limit, int64_t offset,
                  void *out, size_t *n, int64_t *total, bs_err *err);

/* ---- one call of one statement on env_id (docs_pg_call_begin, the function without the 1, the end) ---- */
int pge_write1(void *driver, const char *env_id, const char *what, const char *tmpl, const pge_params *p, int *changed,
               bs_err *err);
int pge_one1(void *driver, const char *env_id, const char *what, const char *tmpl, const pge_params *p, pge_reader read,
             void *out, size_t size, int *found, bs_err *err);
int pge_rows1(void *driver, const char *env_id, const char *what, const char *tmpl, const pge_params *p, pge_reader read,
              void *out, size_t size, size_t max, size_t *n, bs_err *err);
int pge_page1(void *driver, const char *env_id, const pge_page *q, const pge_params *p, size_t limit, int64_t offset,
              void *out, size_t *n, int64_t *total, bs_err *err);
/* pge_one1 and pge_write1 of a statement whose only parameter is key ($1). */
int pge_one_by(void *driver, const char *env_id, const char *what, const char *tmpl, const char *key, pge_reader read,
               void *out, size_t size, int *found, bs_err *err);
int pge_write_by(void *driver, const char *env_id, const char *what, const char *tmpl, const char *key, int *changed,
                 bs_err *err);

/* A failed write's 409 (a unique violation) as status/code/message; any other error unchanged. -1. */
int pge_conflict(bs_err *err, const char *code, const char *message);

#endif
