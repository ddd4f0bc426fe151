/* docs_pg_rows: the PostgreSQL driver's rows_export / rows_import (store/docs_driver.h; the neutral rows of
 * store/docs_rows.h), with which an environment moves between database servers. Every value travels as
 * text: PostgreSQL reads each parameter as its column's type (BIGINT, INTEGER, TEXT; a record's body text,
 * from which its jsonb "doc" is generated). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/docs_rows.h"
#include "store/postgres/docs_pg_call.h"
#include "util/strbuf.h"

#define ROWS_COLS_MAX 32

/* Appends the qualified table of name and returns its columns (NULL with err for a bad name). */
static const char *table_of(strbuf *sql, const docs_pg_call *call, const char *name, bs_err *err)
{
    const store_rows_table *t = store_rows_find(name);
    if (t) {
        strbuf_appendf(sql, "\"%s\".\"%s\"", call->env.schema, t->pg);
        return t->columns;
    }
    if (name[0] == '@' || docs_pg_table_check(name, err) < 0) {
        bs_err_set(err, 404, "data/table-not-found", "Table not found");
        return NULL;
    }
    docs_pg_table_sql(sql, &call->env, name);
    return STORE_ROWS_RECORD_COLUMNS_PG;
}

static struct json_object *rows_read(const PGresult *r)
{
    struct json_object *out = json_object_new_array();
    int nrows = PQntuples(r), ncols = PQnfields(r);
    for (int i = 0; out && i < nrows; i++) {
        struct json_object *row = json_object_new_array_ext(ncols);
        if (!row || json_object_array_add(out, row) != 0) {
            json_object_put(row);
            json_object_put(out);
            return NULL;
        }
        for (int j = 0; j < ncols; j++)
            json_object_array_add(row, PQgetisnull(r, i, j) ? NULL
                                       : json_object_new_string_len(PQgetvalue(r, i, j), PQgetlength(r, i, j)));
    }
    return out;
}

int docs_pg_rows_export(void *driver, const char *env_id, const char *table, const char *after, const char *only,
                        size_t max, struct json_object **rows, bs_err *err)
{
    *rows = NULL;
    docs_pg_call call;
    if (docs_pg_call_begin(driver, env_id, 0, &call, err) < 0) return -1;
    strbuf sql;
    strbuf_init(&sql, 0);
    strbuf_append_str(&sql, "SELECT ");
    size_t at = sql.len;
    strbuf_append_str(&sql, " FROM ");
    const char *cols = table_of(&sql, &call, table, err);
    int rc = cols ? 0 : -1;
    if (cols) {
        size_t keylen = strcspn(cols, ",");
        /* the columns go where "SELECT " ends: rebuild around them */
        strbuf full;
        strbuf_init(&full, 0);
        strbuf_appendf(&full, "SELECT %s%s", cols, sql.data + at);
        if (after || only) strbuf_appendf(&full, " WHERE %.*s %s $1", (int)keylen, cols, only ? "=" : ">");
        strbuf_appendf(&full, " ORDER BY %.*s", (int)keylen, cols);
        if (max) strbuf_appendf(&full, " LIMIT %zu", max);
        const char *param = only ? only : after;
        PGresult *r = full.overflow ? NULL : docs_pg_exec(&call, "export rows", full.data, param ? 1 : 0, &param, err);
        if (!r && full.overflow) bs_err_internal(err);
        if (!r || !(*rows = rows_read(r))) rc = r ? bs_err_internal(err) : -1;
        PQclear(r);
        strbuf_release(&full);
    }
    strbuf_release(&sql);
    return docs_pg_call_end(&call, rc, err);
}

/* INSERT INTO <table> (<cols>) VALUES ($1..$n) into sql; *ncols = n. */
static int insert_sql(strbuf *sql, const docs_pg_call *call, const char *table, size_t *ncols, bs_err *err)
{
    strbuf_append_str(sql, "INSERT INTO ");
    const char *cols = table_of(sql, call, table, err);
    if (!cols) return -1;
    *ncols = store_rows_ncols(cols);
    if (*ncols > ROWS_COLS_MAX) return bs_err_internal(err);
    strbuf_appendf(sql, " (%s) VALUES (", cols);
    for (size_t i = 0; i < *ncols; i++) strbuf_appendf(sql, "%s$%zu", i ? ", " : "", i + 1);
    strbuf_append_char(sql, ')');
    return sql->overflow ? bs_err_internal(err) : 0;
}

static int insert_rows(const docs_pg_call *call, const char *sql, size_t ncols, struct json_object *rows, bs_err *err)
{
    size_t n = json_object_array_length(rows);
    for (size_t i = 0; i < n; i++) {
        struct json_object *row = json_object_array_get_idx(rows, i);
        const char *v[ROWS_COLS_MAX];
        if (!json_object_is_type(row, json_type_array) || json_object_array_length(row) != ncols)
            return bs_err_set(err, 400, "common/invalid-parameters", "A row does not have the table's columns");
        for (size_t j = 0; j < ncols; j++) {
            struct json_object *cell = json_object_array_get_idx(row, j);
            v[j] = cell ? json_object_get_string(cell) : NULL;
        }
        if (docs_pg_command(call, "import row", sql, (int)ncols, v, NULL, err) < 0) return -1;
    }
    return 0;
}

int docs_pg_rows_import(void *driver, const char *env_id, const char *table, struct json_object *rows, int replace,
                        bs_err *err)
{
    docs_pg_call call;
    if (docs_pg_call_begin(driver, env_id, 1, &call, err) < 0) return -1;
    strbuf sql, del;
    strbuf_init(&sql, 0);
    strbuf_init(&del, 0);
    size_t ncols = 0;
    int rc = insert_sql(&sql, &call, table, &ncols, err);
    if (rc == 0 && replace) {
        strbuf_append_str(&del, "DELETE FROM ");
        table_of(&del, &call, table, err);
        rc = docs_pg_command(&call, "clear rows", del.data, 0, NULL, NULL, err);
    }
    if (rc == 0) rc = insert_rows(&call, sql.data, ncols, rows, err);
    if (rc == 0 && !strcmp(table, "@audit")) { /* the identity goes on after the ids copied */
        strbuf_reset(&del);
        strbuf_appendf(&del, "SELECT setval(pg_get_serial_sequence('\"%s\".audit', 'id'), max(id)) FROM \"%s\".audit"
                       " HAVING max(id) IS NOT NULL", call.env.schema, call.env.schema);
        rc = docs_pg_command(&call, "audit identity", del.data, 0, NULL, NULL, err);
    }
    strbuf_release(&sql);
    strbuf_release(&del);
    return docs_pg_call_end(&call, rc, err);
}
