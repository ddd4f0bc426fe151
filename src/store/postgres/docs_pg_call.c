/* docs_pg_call: see docs_pg_call.h. */
#include "store/postgres/docs_pg_call.h"

#include <stdlib.h>
#include <string.h>

#include "util/check.h"
#include "util/hash.h"

int docs_pg_call_begin(docs_pg *d, const char *env_id, int tx, docs_pg_call *call, bs_err *err)
{
    memset(call, 0, sizeof *call);
    if (docs_pg_env_get(d, env_id, &call->env, err) < 0) return -1;
    if (!(call->conn = pg_borrow(call->env.pool, err))) return -1;
    if (!tx || pg_begin(call->env.pool, call->conn, err) == 0) return 0;
    pg_return(call->env.pool, call->conn);
    call->conn = NULL;
    return -1;
}

int docs_pg_call_end(docs_pg_call *call, int rc, bs_err *err)
{
    BS_ASSERT(call->conn);
    PGTransactionStatusType state = PQtransactionStatus(call->conn);
    if (state == PQTRANS_INTRANS || state == PQTRANS_INERROR) {
        if (rc == 0 && state == PQTRANS_INTRANS) rc = pg_commit(call->env.pool, call->conn, err);
        else pg_rollback(call->conn);
        if (rc == 0 && state == PQTRANS_INERROR) rc = bs_err_internal(err); /* a failure went unreported */
    }
    pg_return(call->env.pool, call->conn);
    call->conn = NULL;
    return rc;
}

int docs_pg_table_ok(const char *t)
{
    size_t n = strnlen(t, STORE_TABLE_NAME_MAX + 1);
    if (n == 0 || n > STORE_TABLE_NAME_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = t[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

int docs_pg_table_check(const char *table, bs_err *err)
{
    return table && docs_pg_table_ok(table) ? 0 : bs_err_set(err, 404, "data/table-not-found", "Table not found");
}

void docs_pg_physical_name(char out[DOCS_PG_IDENT_MAX], const char *table, const char *suffix)
{
    char full[2 * STORE_TABLE_NAME_MAX + 16];
    int n = snprintf(full, sizeof full, "d_%s%s", table, suffix);
    BS_ASSERT(n > 0 && (size_t)n < sizeof full);
    size_t len = (size_t)n;
    if (len < DOCS_PG_IDENT_MAX || !suffix[0]) {
        len = len < DOCS_PG_IDENT_MAX ? len : DOCS_PG_IDENT_MAX - 1;
        memcpy(out, full, len); /* bounded: len < DOCS_PG_IDENT_MAX */
        out[len] = '\0';
        return;
    }
    snprintf(out, DOCS_PG_IDENT_MAX, "%.54s_%08x", full, (unsigned)(hash64_str(full) & 0xffffffffu));
}

void docs_pg_index_api_name(const char *table, const char *sql_name, char *out, size_t size)
{
    static const struct { const char *suffix, *api; } known[] = {
        {"$createdAt", "idx_createdAt_desc"}, {"$updatedAt", "idx_updatedAt_desc"}, {"$createdBy", "idx_createdBy"}};
    char name[DOCS_PG_IDENT_MAX], custom[DOCS_PG_IDENT_MAX + 4];
    docs_pg_physical_name(name, table, "");
    snprintf(custom, sizeof custom, "%.*s$x_", (int)(DOCS_PG_IDENT_MAX - 1), name);
    size_t n = strlen(name);
    if (!strncmp(sql_name, name, n) && !strcmp(sql_name + n, "_pkey")) {
        snprintf(out, size, "_id_");
        return;
    }
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        docs_pg_physical_name(name, table, known[i].suffix);
        if (!strcmp(sql_name, name)) {
            snprintf(out, size, "%s", known[i].api);
            return;
        }
    }
    n = strlen(custom);
    snprintf(out, size, "%s", strncmp(sql_name, custom, n) ? sql_name : sql_name + n);
}

void docs_pg_table_sql(strbuf *sql, const docs_pg_env *env, const char *table)
{
    BS_ASSERT(docs_pg_table_ok(table)); /* spliced into the quotes: [A-Za-z0-9_-] only */
    char name[DOCS_PG_IDENT_MAX];
    docs_pg_physical_name(name, table, "");
    strbuf_appendf(sql, "\"%s\".\"%s\"", env->schema, name);
}

void docs_pg_table_stmt(strbuf *sql, const char *before, const docs_pg_env *env, const char *table, const char *after)
{
    strbuf_append_str(sql, before);
    docs_pg_table_sql(sql, env, table);
    strbuf_append_str(sql, after);
}

/* The data store's answer for a failed statement (see docs_pg_exec). -1. */
static int docs_pg_fail(const docs_pg_call *call, const PGresult *r, const char *what, bs_err *err)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (state && !strcmp(state, "23505"))
        return bs_err_set(err, 409, "data/duplicate-value", "A record with the same unique value already exists");
    if (state && !strcmp(state, "42P01")) return bs_err_set(err, 404, "data/table-not-found", "Table not found");
    if (state && !strcmp(state, "22P05")) /* jsonb holds no \u0000 in strings */
        return bs_err_set(err, 400, "data/validation-error", "Strings may not contain the character U+0000");
    return pg_fail(call->env.pool, call->conn, r, what, err);
}

PGresult *docs_pg_exec(const docs_pg_call *call, const char *what, const char *sql, int n, const char *const *params,
                       bs_err *err)
{
    if (pg_params_check(n, params, err) < 0) return NULL;
    PGresult *r = pg_run(call->conn, sql, n, params);
    ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK) return r;
    docs_pg_fail(call, r, what, err);
    PQclear(r);
    return NULL;
}

int docs_pg_command(const docs_pg_call *call, const char *what, const char *sql, int n, const char *const *params,
                    int64_t *changed, bs_err *err)
{
    PGresult *r = docs_pg_exec(call, what, sql, n, params, err);
    if (!r) return -1;
    if (changed) *changed = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return 0;
}

