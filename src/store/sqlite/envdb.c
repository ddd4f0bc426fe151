/* envdb: the statement runners on environment connections shared by the SQLite drivers (see envdb.h). */
#include "store/sqlite/envdb.h"

/* Binds q's texts then ints from ?1: SQLITE_OK or the failing bind's code. */
static int select_bind(sqlite3_stmt *st, const docs_select *q)
{
    int rc = sq_bind_texts(st, 1, q->texts, q->ntexts);
    for (size_t i = 0; rc == SQLITE_OK && i < q->nints; i++)
        rc = sqlite3_bind_int64(st, (int)(q->ntexts + i) + 1, q->ints[i]);
    return rc;
}

/* The prepared, bound statement sql of c, or NULL with err. */
static sqlite3_stmt *select_prepare(dconn *c, const char *sql, const docs_select *q, bs_err *err)
{
    sqlite3_stmt *st = docs_stmt(c, sql, err);
    if (st && select_bind(st, q) != SQLITE_OK) {
        docs_fail(c->db, "bind", err);
        docs_stmt_done(st);
        return NULL;
    }
    return st;
}

int docs_write_one(sqlite_docs *db, const char *env_id, const char *sql, const char *const *texts, size_t ntexts,
                   const int64_t *ints, size_t nints, int *changed, bs_err *err)
{
    denv *e;
    dconn *c = docs_conn_borrow_writer(db, env_id, &e, err);
    if (!c) return -1;
    docs_select q = {.texts = texts, .ntexts = ntexts, .ints = ints, .nints = nints};
    sqlite3_stmt *st = select_prepare(c, sql, &q, err);
    int rc = st ? 0 : -1;
    if (st) {
        if (sqlite3_step(st) != SQLITE_DONE) rc = docs_fail(c->db, "write", err);
        else if (changed) *changed = sqlite3_changes(c->db) > 0;
        docs_stmt_done(st);
    }
    docs_conn_return_writer(db, e, c);
    return rc;
}

int docs_select_one(sqlite_docs *db, const char *env_id, const docs_select *q, void *out, int *found, bs_err *err)
{
    denv *e;
    *found = 0;
    dconn *c = docs_conn_borrow(db, env_id, &e, err);
    if (!c) return -1;
    sqlite3_stmt *st = select_prepare(c, q->sql, q, err);
    int rc = st ? sq_select_one(st, docs_fail, q->read, out, q->size, found, err) : -1;
    if (st) docs_stmt_done(st);
    docs_conn_return(db, e, c);
    return rc;
}

int docs_select_rows(sqlite_docs *db, const char *env_id, const docs_select *q, void *out, size_t max, size_t *n,
                     bs_err *err)
{
    denv *e;
    *n = 0;
    dconn *c = docs_conn_borrow(db, env_id, &e, err);
    if (!c) return -1;
    sqlite3_stmt *st = select_prepare(c, q->sql, q, err);
    int rc = st ? sq_select_rows(st, docs_fail, q->read, out, q->size, max, n, err) : -1;
    if (st) docs_stmt_done(st);
    docs_conn_return(db, e, c);
    return rc;
}

int docs_select_page(sqlite_docs *db, const char *env_id, const docs_select *q, size_t limit, int64_t offset, void *out,
                     size_t *n, int64_t *total, bs_err *err)
{
    denv *e;
    *n = 0;
    *total = 0;
    dconn *c = docs_conn_borrow(db, env_id, &e, err);
    if (!c) return -1;
    sqlite3_stmt *st = select_prepare(c, q->count_sql, q, err);
    int rc = st ? sq_select_int64(st, docs_fail, total, err) : -1;
    if (st) docs_stmt_done(st);
    st = rc == 0 ? select_prepare(c, q->sql, q, err) : NULL;
    if (rc == 0 && !st) rc = -1;
    if (st && sq_bind_page(st, q->page_at, limit, offset) != SQLITE_OK) rc = docs_fail(c->db, "bind page", err);
    if (st && rc == 0) rc = sq_select_rows(st, docs_fail, q->read, out, q->size, limit, n, err);
    if (st) docs_stmt_done(st);
    docs_conn_return(db, e, c);
    if (rc != 0) *total = 0;
    return rc;
}
