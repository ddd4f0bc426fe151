/* dstmt: see dstmt.h. */
#include "store/sqlite/dstmt.h"

#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sql_prefix.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/strbuf.h"

int docs_fail(sqlite3 *db, const char *what, bs_err *err)
{
    int code = db ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
    if (code == SQLITE_CONSTRAINT_PRIMARYKEY || code == SQLITE_CONSTRAINT_UNIQUE)
        return bs_err_set(err, 409, "data/duplicate-value", "A record with the same unique value already exists");
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
        return bs_err_set(err, 503, "common/unavailable", "The database is busy; retry");
    if (db && strcmp(sqlite3_errmsg(db), DOCS_REGEX_LIMIT_MSG) == 0)
        return bs_err_set(err, 400, "data/validation-error",
                          "$regex: the pattern needs too much backtracking on this data; simplify it");
    log_error("docs store: %s: %s", what, db ? sqlite3_errmsg(db) : "no connection");
    return bs_err_internal(err);
}

/* sql as this connection's database names its objects: sql itself (its own file), or the per-slot rewrite
 * kept in named (released by the caller either way). NULL when out of memory. */
static const char *sql_named(const dconn *c, const char *sql, strbuf *named)
{
    strbuf_init(named, 0);
    if (!c->prefix[0]) return sql;
    if (sql_prefix_add(named, sql, c->prefix) < 0) return NULL;
    return named->data ? named->data : "";
}

/* sqlite3_prepare_v3 of sql with the connection's names. */
int dconn_prepare(dconn *c, const char *sql, unsigned flags, sqlite3_stmt **st)
{
    strbuf named;
    const char *text = sql_named(c, sql, &named);
    int rc = text ? sqlite3_prepare_v3(c->db, text, -1, flags, st, NULL) : SQLITE_NOMEM;
    strbuf_release(&named);
    return rc;
}

/* sqlite3_exec of sql with the connection's names. */
int dconn_exec(dconn *c, const char *sql)
{
    strbuf named;
    const char *text = sql_named(c, sql, &named);
    int rc = text ? sqlite3_exec(c->db, text, NULL, NULL, NULL) : SQLITE_NOMEM;
    strbuf_release(&named);
    return rc;
}

sqlite3_stmt *docs_stmt(dconn *c, const char *sql, bs_err *err)
{
    uint64_t h = hash64_str(sql); /* list statements share long prefixes: compare hashes first */
    for (int i = 0; i < c->ncache; i++)
        if (c->cache[i].hash == h && strcmp(c->cache[i].sql, sql) == 0) return c->cache[i].st;
    sqlite3_stmt *st = NULL;
    if (dconn_prepare(c, sql, SQLITE_PREPARE_PERSISTENT, &st) != SQLITE_OK) {
        docs_fail(c->db, "prepare", err);
        return NULL;
    }
    int slot = c->ncache < DOCS_STMT_CACHE ? c->ncache++ : c->evict++ % DOCS_STMT_CACHE;
    if (c->cache[slot].st) {
        sqlite3_finalize(c->cache[slot].st);
        free(c->cache[slot].sql);
    }
    c->cache[slot].sql = strdup(sql);
    c->cache[slot].hash = h;
    c->cache[slot].st = st;
    if (!c->cache[slot].sql) {
        sqlite3_finalize(st);
        c->cache[slot].st = NULL;
        c->ncache = slot; /* drop the slot */
        bs_err_internal(err);
        return NULL;
    }
    return st;
}

void dconn_stmts_clear(dconn *c)
{
    for (int i = 0; i < c->ncache; i++) {
        sqlite3_finalize(c->cache[i].st);
        free(c->cache[i].sql);
        c->cache[i].st = NULL;
        c->cache[i].sql = NULL;
    }
    c->ncache = 0;
    c->evict = 0;
}

void docs_stmt_done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

int docs_exec(dconn *c, const char *sql, bs_err *err)
{
    return dconn_exec(c, sql) == SQLITE_OK ? 0 : docs_fail(c->db, "exec", err);
}
