/* rows_sqlite: see rows_sqlite.h. */
#include "store/sqlite/rows_sqlite.h"

#include <stdio.h>
#include <string.h>

#include "store/docs.h"
#include "store/docs_rows.h"
#include "store/sqlite/envdb.h"
#include "util/strbuf.h"

#define ROWS_SQL_MAX 1024

/* The SELECT of table's rows: columns, key filter (?1) and order. 0, or -1 with err. */
static int export_sql(const char *table, const char *after, const char *only, size_t max, char *sql, size_t cap,
                      size_t *ncols, bs_err *err)
{
    const store_rows_table *t = store_rows_find(table);
    const char *cols = t ? t->columns : STORE_ROWS_RECORD_COLUMNS;
    char name[STORE_TABLE_NAME_MAX + 8];
    if (t) {
        snprintf(name, sizeof name, "%s", t->sqlite);
    } else {
        size_t n = strnlen(table, STORE_TABLE_NAME_MAX + 1);
        if (table[0] == '@' || n == 0 || n > STORE_TABLE_NAME_MAX || strspn(table, "abcdefghijklmnopqrstuvwxyz"
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n)
            return bs_err_set(err, 404, "data/table-not-found", "Table not found");
        snprintf(name, sizeof name, "\"d_%s\"", table);
    }
    size_t keylen = strcspn(cols, ",");
    int w = snprintf(sql, cap, "SELECT %s FROM %s%s%.*s%s ORDER BY %.*s", cols, name,
                     after || only ? " WHERE " : "", after || only ? (int)keylen : 0, cols,
                     only ? " = ?1" : after ? " > ?1" : "", (int)keylen, cols);
    if (w > 0 && (size_t)w < cap && max)
        w += snprintf(sql + w, cap - (size_t)w, " LIMIT %zu", max);
    if (w < 0 || (size_t)w >= cap) return bs_err_internal(err);
    *ncols = store_rows_ncols(cols);
    return 0;
}

static struct json_object *row_read(sqlite3_stmt *st, size_t ncols)
{
    struct json_object *row = json_object_new_array_ext((int)ncols);
    for (size_t i = 0; row && i < ncols; i++) {
        struct json_object *cell = NULL;
        if (sqlite3_column_type(st, (int)i) != SQLITE_NULL)
            cell = json_object_new_string_len((const char *)sqlite3_column_text(st, (int)i),
                                              sqlite3_column_bytes(st, (int)i));
        json_object_array_add(row, cell);
    }
    return row;
}

int sqlite_rows_export(void *driver, const char *env_id, const char *table, const char *after, const char *only,
                       size_t max, struct json_object **rows, bs_err *err)
{
    char sql[ROWS_SQL_MAX];
    size_t ncols = 0;
    *rows = NULL;
    if (export_sql(table, after, only, max, sql, sizeof sql, &ncols, err) < 0) return -1;
    denv *e = NULL;
    dconn *c = docs_conn_borrow(driver, env_id, &e, err);
    if (!c) return -1;
    sqlite3_stmt *st = docs_stmt(c, sql, err);
    int rc = st ? 0 : -1, step = SQLITE_DONE;
    if (st && (only || after)) sqlite3_bind_text(st, 1, only ? only : after, -1, SQLITE_TRANSIENT);
    struct json_object *out = st ? json_object_new_array() : NULL;
    if (st && !out) rc = bs_err_internal(err);
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct json_object *row = row_read(st, ncols);
        if (!row || json_object_array_add(out, row) != 0) rc = bs_err_internal(err);
    }
    if (rc == 0 && step != SQLITE_DONE) rc = docs_fail(c->db, "export rows", err);
    if (st) docs_stmt_done(st);
    docs_conn_return(driver, e, c);
    if (rc == 0) *rows = out;
    else json_object_put(out);
    return rc;
}

int sqlite_rows_import(void *driver, const char *env_id, const char *table, struct json_object *rows, int replace,
                       bs_err *err)
{
    (void)driver, (void)env_id, (void)table, (void)rows, (void)replace;
    return bs_err_set(err, 400, "common/invalid-parameters",
                      "An environment moves to a cluster on a database server, not to SQLite");
}
