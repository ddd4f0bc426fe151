/* docs_pg_catalog: the "catalog" part of an environment schema and the catalog ops of the PostgreSQL docs
 * driver: tables (the catalog row and the records table with its default indexes, in one transaction),
 * schema and index versions, custom indexes, and the bytes the environment's relations take.
 *
 * Physical names as on SQLite (docs_sqlite.c "physical names"): table T is "d_T" in the environment's
 * schema, its indexes "d_T$createdAt", "d_T$updatedAt", "d_T$createdBy" and "d_T$x_<name>" for custom
 * ones (its primary key PostgreSQL's "d_T_pkey"). Names are compared regardless of case as on SQLite: a
 * table may not be named like another one or like an object of the schema but for case. */
#include <stdlib.h>
#include <string.h>

#include "store/postgres/docs_pg_call.h"
#include "store/postgres/docs_pg_counts.h"
#include "store/postgres/docs_pg_sql.h"
#include "util/check.h"
#include "util/clock.h"

#define INDEX_SEP "$"
#define CATALOG_SQL_MAX 512

/* ---- the part's migrations (run with search_path set to the environment's schema) ---- */

static const char *const catalog_v1[] = {
    "CREATE TABLE _basalt_tables (name TEXT COLLATE \"C\" PRIMARY KEY, id TEXT NOT NULL, schema TEXT NOT NULL DEFAULT '{}',"
    " permissions TEXT, display_name TEXT, description TEXT, schema_version INTEGER NOT NULL DEFAULT 1,"
    " index_version INTEGER NOT NULL DEFAULT 1, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,"
    " indexes TEXT NOT NULL DEFAULT '[]')",
    /* names differ by more than case (as SQLite compares them): two concurrent creates cannot both pass */
    "CREATE UNIQUE INDEX _basalt_tables_name_ci ON _basalt_tables (lower(name))",
    "CREATE TABLE _basalt_versions (table_name TEXT COLLATE \"C\" NOT NULL, kind INTEGER NOT NULL, version INTEGER NOT NULL,"
    " body TEXT NOT NULL, created_by TEXT NOT NULL DEFAULT '', created_at BIGINT NOT NULL,"
    " PRIMARY KEY (table_name, kind, version))",
};

/* The kept totals' counters are a few rows updated by every write of their table: pages kept mostly empty,
 * so every update stays on its page (HOT) and each read prunes the dead versions before they pile up, and
 * vacuumed by the row count, not by a share of a table this small. A list reads them on every page: with
 * the defaults, 100,000 creates left it walking dead versions (-20 % lists until a VACUUM). */
static const char *const catalog_v3[] = {
    "ALTER TABLE _basalt_count_slots SET (fillfactor = 10, autovacuum_vacuum_scale_factor = 0,"
    " autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0)",
};

static const pg_migration catalog_steps[] = {
    {1, catalog_v1, sizeof catalog_v1 / sizeof catalog_v1[0]},
    {2, docs_pg_counts_schema, DOCS_PG_COUNTS_SCHEMA_N},
    {3, catalog_v3, sizeof catalog_v3 / sizeof catalog_v3[0]},
};

const docs_pg_part docs_pg_part_catalog = {.name = "catalog", .steps = catalog_steps,
                                           .nsteps = sizeof catalog_steps / sizeof catalog_steps[0]};

/* ---- statements on the catalog ---- */

/* fmt with every "{S}" replaced by the environment's schema, quoted, into out. */
static const char *catalog_sql(char out[CATALOG_SQL_MAX], const char *fmt, const docs_pg_env *env)
{
    size_t n = 0, slen = strnlen(env->schema, DOCS_PG_SCHEMA_MAX);
    for (const char *p = fmt; *p && n + slen + 3 < CATALOG_SQL_MAX; p++) {
        if (strncmp(p, "{S}", 3) != 0) {
            out[n++] = *p;
            continue;
        }
        out[n++] = '"';
        memcpy(out + n, env->schema, slen); /* bounded: n + slen + 3 < CATALOG_SQL_MAX */
        n += slen;
        out[n++] = '"';
        p += 2;
    }
    BS_ASSERT(n + slen + 3 < CATALOG_SQL_MAX); /* the statements below fit */
    out[n] = '\0';
    return out;
}

/* docs_pg_command of a catalog statement (fmt as catalog_sql: "{S}" names the schema). */
static int catalog_command(const docs_pg_call *call, const char *what, const char *fmt, int n, const char *const *params,
                           int64_t *changed, bs_err *err)
{
    char sql[CATALOG_SQL_MAX];
    return docs_pg_command(call, what, catalog_sql(sql, fmt, &call->env), n, params, changed, err);
}

static PGresult *catalog_exec(const docs_pg_call *call, const char *what, const char *fmt, int n, const char *const *params,
                              bs_err *err)
{
    char sql[CATALOG_SQL_MAX];
    return docs_pg_exec(call, what, catalog_sql(sql, fmt, &call->env), n, params, err);
}

/* ---- tables ---- */

#define TABLE_COLUMNS \
    "name, id, schema, permissions, display_name, description, schema_version, index_version, created_at, updated_at, indexes"

static int table_read(const PGresult *r, int row, store_table *t, bs_err *err)
{
    memset(t, 0, sizeof *t);
    if (pg_text(r, row, 0, t->name, sizeof t->name, err) < 0 || pg_text(r, row, 1, t->id, sizeof t->id, err) < 0) return -1;
    t->schema_json = pg_dup(r, row, 2);
    t->permissions_json = pg_dup(r, row, 3);
    t->display_name = pg_dup(r, row, 4);
    t->description = pg_dup(r, row, 5);
    t->schema_version = (int)pg_i64(r, row, 6);
    t->index_version = (int)pg_i64(r, row, 7);
    t->created_at = pg_i64(r, row, 8);
    t->updated_at = pg_i64(r, row, 9);
    t->indexes_json = pg_dup(r, row, 10);
    return t->schema_json && t->indexes_json ? 0 : bs_err_internal(err);
}

/* 0 when no table of the catalog and no object of the schema is named like table's, regardless of case;
 * 409 data/table-already-exists otherwise. */
static int table_name_free(const docs_pg_call *call, const char *table, bs_err *err)
{
    char physical[DOCS_PG_IDENT_MAX];
    docs_pg_physical_name(physical, table, "");
    const char *params[] = {table, call->env.schema, physical};
    PGresult *r = catalog_exec(call, "table name",
                               "SELECT 1 FROM {S}._basalt_tables WHERE lower(name) = lower($1) UNION ALL"
                               " SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                               " WHERE n.nspname = $2 AND lower(c.relname) = lower($3)", 3, params, err);
    if (!r) return -1;
    int taken = PQntuples(r) > 0;
    PQclear(r);
    return taken ? bs_err_set(err, 409, "data/table-already-exists",
                              "Table %s already exists: names are compared regardless of case and may not equal an index's", table)
                 : 0;
}

/* Appends "CREATE [UNIQUE] INDEX "d_<table>$<suffix>" ON <records table> (" (the name as
 * docs_pg_physical_name makes it). */
static void index_head(strbuf *sql, const docs_pg_env *env, const char *table, int unique, const char *suffix)
{
    char name[DOCS_PG_IDENT_MAX], full[STORE_INDEX_NAME_MAX + 8];
    snprintf(full, sizeof full, INDEX_SEP "%s", suffix);
    docs_pg_physical_name(name, table, full);
    strbuf_appendf(sql, "CREATE %sINDEX \"%s\" ON ", unique ? "UNIQUE " : "", name);
    docs_pg_table_sql(sql, env, table);
    strbuf_append_str(sql, " (");
}

static int run_sql(const docs_pg_call *call, const char *what, strbuf *sql, bs_err *err)
{
    int rc = sql->overflow ? bs_err_internal(err) : docs_pg_command(call, what, sql->data, 0, NULL, NULL, err);
    strbuf_reset(sql);
    return rc;
}

/* The records table of a new table and its default indexes (docs_pg_sql.h). */
static int records_table_create(const docs_pg_call *call, const char *table, bs_err *err)
{
    static const struct { const char *name, *keys; } defaults[] = {
        {"createdAt", "created_at DESC, id DESC"},
        {"updatedAt", "updated_at DESC, id DESC"},
        {"createdBy", "created_by, created_at DESC"},
    };
    strbuf sql;
    strbuf_init(&sql, 0);
    docs_pg_table_stmt(&sql, "CREATE TABLE ", &call->env, table,
                       " (id TEXT COLLATE \"C\" PRIMARY KEY, created_by TEXT COLLATE \"C\" NOT NULL DEFAULT '',"
                       " created_at TEXT COLLATE \"C\" NOT NULL, updated_at TEXT COLLATE \"C\" NOT NULL, body TEXT NOT NULL,"
                       " doc JSONB GENERATED ALWAYS AS (body::jsonb) STORED)");
    int rc = run_sql(call, "create table", &sql, err);
    for (size_t i = 0; rc == 0 && i < sizeof defaults / sizeof defaults[0]; i++) {
        index_head(&sql, &call->env, table, 0, defaults[i].name);
        strbuf_appendf(&sql, "%s)", defaults[i].keys);
        rc = run_sql(call, "create index", &sql, err);
    }
    strbuf_release(&sql);
    return rc;
}

/* Records one version of a table's schema or index list (inside the call's transaction). */
static int version_add(const docs_pg_call *call, const char *table, store_version_kind kind, int version, const char *body,
                       const char *created_by, bs_err *err)
{
    char k[PG_INT64_TEXT], v[PG_INT64_TEXT], at[PG_INT64_TEXT];
    const char *params[] = {table, pg_fmt_int64(k, (int64_t)kind), pg_fmt_int64(v, version), body,
                            created_by ? created_by : "", pg_fmt_int64(at, clock_now_ms())};
    return catalog_command(call, "insert version",
                           "INSERT INTO {S}._basalt_versions (table_name, kind, version, body, created_by, created_at)"
                           " VALUES ($1, $2::integer, $3::integer, $4, $5, $6::bigint) ON CONFLICT (table_name, kind, version)"
                           " DO UPDATE SET body = EXCLUDED.body, created_by = EXCLUDED.created_by, created_at = EXCLUDED.created_at",
                           6, params, NULL, err);
}

static int catalog_insert(const docs_pg_call *call, const store_table *t, bs_err *err)
{
    char sv[PG_INT64_TEXT], iv[PG_INT64_TEXT], ca[PG_INT64_TEXT], ua[PG_INT64_TEXT];
    const char *params[] = {t->name, t->id, t->schema_json ? t->schema_json : "{}", t->permissions_json, t->display_name,
                            t->description, pg_fmt_int64(sv, t->schema_version ? t->schema_version : 1),
                            pg_fmt_int64(iv, t->index_version ? t->index_version : 1), pg_fmt_int64(ca, t->created_at),
                            pg_fmt_int64(ua, t->updated_at)};
    int rc = catalog_command(call, "insert table",
                             "INSERT INTO {S}._basalt_tables (" TABLE_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6,"
                             " $7::integer, $8::integer, $9::bigint, $10::bigint, '[]')", 10, params, NULL, err);
    if (rc < 0 && err && !strcmp(err->code, "data/duplicate-value"))
        return bs_err_set(err, 409, "data/table-already-exists", "Table %s already exists", t->name);
    return rc;
}

int docs_pg_table_create(void *driver, const char *env_id, const store_table *t, const char *created_by, bs_err *err)
{
    docs_pg_call call;
    if (docs_pg_table_check(t->name, err) < 0 || docs_pg_call_begin(driver, env_id, 1, &call, err) < 0) return -1;
    const char *schema = t->schema_json ? t->schema_json : "{}";
    int rc = table_name_free(&call, t->name, err);
    if (rc == 0) rc = catalog_insert(&call, t, err);
    if (rc == 0) rc = records_table_create(&call, t->name, err);
    if (rc == 0) rc = version_add(&call, t->name, STORE_VERSION_SCHEMA, 1, schema, created_by, err);
    if (rc == 0) rc = version_add(&call, t->name, STORE_VERSION_INDEXES, 1, "[]", created_by, err);
    return docs_pg_call_end(&call, rc, err);
}

int docs_pg_table_get(void *driver, const char *env_id, const char *name, store_table *out, int *found, bs_err *err)
{
    docs_pg_call call;
    *found = 0;
    memset(out, 0, sizeof *out);
    if (!docs_pg_table_ok(name)) return 0; /* no table has that name (as on SQLite: not found) */
    if (docs_pg_call_begin(driver, env_id, 0, &call, err) < 0) return -1;
    const char *params[] = {name};
    PGresult *r = catalog_exec(&call, "select table", "SELECT " TABLE_COLUMNS " FROM {S}._basalt_tables WHERE name = $1", 1,
                               params, err);
    int rc = r ? 0 : -1;
    if (r && PQntuples(r) > 0) {
        *found = 1;
        rc = table_read(r, 0, out, err);
    }
    PQclear(r);
    return docs_pg_call_end(&call, rc, err);
}

int docs_pg_table_list(void *driver, const char *env_id, store_table **out, size_t *count, bs_err *err)
{
    docs_pg_call call;
    *out = NULL;
    *count = 0;
    if (docs_pg_call_begin(driver, env_id, 0, &call, err) < 0) return -1;
    PGresult *r = catalog_exec(&call, "list tables", "SELECT " TABLE_COLUMNS " FROM {S}._basalt_tables ORDER BY name LIMIT 1000",
                               0, NULL, err);
    size_t n = r ? (size_t)PQntuples(r) : 0;
    store_table *tables = r ? calloc(n ? n : 1, sizeof *tables) : NULL;
    int rc = tables ? 0 : (r ? bs_err_internal(err) : -1);
    for (size_t i = 0; rc == 0 && i < n; i++, (*count)++) rc = table_read(r, (int)i, &tables[i], err);
    PQclear(r);
    rc = docs_pg_call_end(&call, rc, err);
    if (rc < 0) {
        store_table_list_free(tables, n);
        *count = 0;
        return -1;
    }
    *out = tables;
    return 0;
}

int docs_pg_table_update(void *driver, const char *env_id, const store_table *t, int *found, bs_err *err)
{
    docs_pg_call call;
    *found = 0;
    if (docs_pg_call_begin(driver, env_id, 0, &call, err) < 0) return -1;
    char sv[PG_INT64_TEXT], iv[PG_INT64_TEXT], ua[PG_INT64_TEXT];
    const char *params[] = {t->schema_json ? t->schema_json : "{}", t->permissions_json, t->display_name, t->description,
                            pg_fmt_int64(sv, t->schema_version), pg_fmt_int64(iv, t->index_version),
                            pg_fmt_int64(ua, t->updated_at), t->name};
    int64_t changed = 0;
    int rc = catalog_command(&call, "update table",
                             "UPDATE {S}._basalt_tables SET schema = $1, permissions = $2, display_name = $3, description = $4,"
                             " schema_version = $5::integer, index_version = $6::integer, updated_at = $7::bigint WHERE name = $8",
                             8, params, &changed, err);
    *found = rc == 0 && changed > 0;
    return docs_pg_call_end(&call, rc, err);
}

/* The catalog row and versions of a table, and its records table (which takes its indexes along). */
static int table_drop_on(const docs_pg_call *call, const char *name, int *found, bs_err *err)
{
    const char *params[] = {name};
    int64_t changed = 0;
    if (catalog_command(call, "drop table", "DELETE FROM {S}._basalt_tables WHERE name = $1", 1, params, &changed, err) < 0)
        return -1;
    *found = changed > 0;
    if (!*found) return 0;
    if (catalog_command(call, "drop versions", "DELETE FROM {S}._basalt_versions WHERE table_name = $1", 1, params, NULL, err) < 0)
        return -1;
    if (docs_pg_table_check(name, err) < 0) return -1; /* a catalog row with a name no records table can have */
    strbuf sql;
    strbuf_init(&sql, 0);
    docs_pg_table_stmt(&sql, "DROP TABLE IF EXISTS ", &call->env, name, "");
    int rc = run_sql(call, "drop table", &sql, err);
    strbuf_release(&sql);
    /* after the DROP's lock: no writer of the table is left to add to their counters */
    return rc < 0 ? -1 : docs_pg_counts_drop_table(&call->env, call->conn, name, err);
}

int docs_pg_table_drop(void *driver, const char *env_id, const char *name, int *found, bs_err *err)
{
    docs_pg_call call;
    *found = 0;
    if (docs_pg_call_begin(driver, env_id, 1, &call, err) < 0) return -1;
    return docs_pg_call_end(&call, table_drop_on(&call, name, found, err), err);
}

/* ---- versions ---- */

#define VERSION_COLUMNS "version, body, created_by, created_at"
#define VERSIONS_MAX 1000

static int version_read(const PGresult *r, int row, store_version *v, bs_err *err)
{
    memset(v, 0, sizeof *v);
    v->version = (int)pg_i64(r, row, 0);
    v->created_at = pg_i64(r, row, 3);
    if (pg_text(r, row, 2, v->created_by, sizeof v->created_by, err) < 0) return -1;
    v->body = pg_dup(r, row, 1);
    return v->body ? 0 : bs_err_internal(err);
}

int docs_pg_versions(void *driver, const char *env_id, const char *table, store_version_kind kind, store_version **out,
                     size_t *count, bs_err *err)
{
    docs_pg_call call;
    *out = NULL;
    *count = 0;
    if (docs_pg_call_begin(driver, env_id, 0, &call, err) < 0) return -1;
    char k[PG_INT64_TEXT];
    const char *params[] = {table, pg_fmt_int64(k, (int64_t)kind)};
    PGresult *r = catalog_exec(&call, "versions", "SELECT " VERSION_COLUMNS " FROM {S}._basalt_versions"
                               " WHERE table_name = $1 AND kind = $2::integer ORDER BY version DESC LIMIT 1000", 2, params, err);
    size_t n = r ? (size_t)PQntuples(r) : 0;
    BS_ASSERT(n <= VERSIONS_MAX);
    store_version *list = r ? calloc(n ? n : 1, sizeof *list) : NULL;
    int rc = list ? 0 : (r ? bs_err_internal(err) : -1);
    for (size_t i = 0; rc == 0 && i < n; i++, (*count)++) rc = version_read(r, (int)i, &list[i], err);
    PQclear(r);
    rc = docs_pg_call_end(&call, rc, err);
    if (rc < 0) {
        store_version_list_free(list, n);
        *count = 0;
        return -1;
    }
    *out = list;
    return 0;
}

int docs_pg_version_get(void *driver, const char *env_id, const char *table, store_version_kind kind, int version,
                        store_version *out, int *found, bs_err *err)
{
    docs_pg_call call;
    memset(out, 0, sizeof *out);
    *found = 0;
    if (docs_pg_call_begin(driver, env_id, 0, &call, err) < 0) return -1;
    char k[PG_INT64_TEXT], v[PG_INT64_TEXT];
    const char *params[] = {table, pg_fmt_int64(k, (int64_t)kind), pg_fmt_int64(v, version)};
    PGresult *r = catalog_exec(&call, "version", "SELECT " VERSION_COLUMNS " FROM {S}._basalt_versions"
                               " WHERE table_name = $1 AND kind = $2::integer AND version = $3::integer", 3, params, err);
    int rc = r ? 0 : -1;
    if (r && PQntuples(r) > 0) {
        *found = 1;
        rc = version_read(r, 0, out, err);
    }
    PQclear(r);
    return docs_pg_call_end(&call, rc, err);
}

int docs_pg_schema_change(void *driver, const char *env_id, const char *table, const char *schema_json, int new_version,
                          const char *created_by, int *found, bs_err *err)
{
    docs_pg_call call;
    *found = 0;
    if (docs_pg_table_check(table, err) < 0 || docs_pg_call_begin(driver, env_id, 1, &call, err) < 0) return -1;
    char nv[PG_INT64_TEXT], pv[PG_INT64_TEXT], at[PG_INT64_TEXT];
    const char *params[] = {schema_json, pg_fmt_int64(nv, new_version), pg_fmt_int64(at, clock_now_ms()), table,
                            pg_fmt_int64(pv, (int64_t)new_version - 1)};
    int64_t changed = 0;
    int rc = catalog_command(&call, "schema change",
                             "UPDATE {S}._basalt_tables SET schema = $1, schema_version = $2::integer, updated_at = $3::bigint"
                             " WHERE name = $4 AND schema_version = $5::integer", 5, params, &changed, err);
    *found = rc == 0 && changed > 0;
    if (rc == 0 && !*found)
        rc = bs_err_set(err, 409, "data/conflict", "The table changed meanwhile (or is gone); reload it and retry");
    if (rc == 0) rc = version_add(&call, table, STORE_VERSION_SCHEMA, new_version, schema_json, created_by, err);
    return docs_pg_call_end(&call, rc, err);
}

/* ---- custom indexes ---- */

/* An index name spliced into quotes: [A-Za-z0-9_-] only. */
static int index_name_ok(const char *name)
{
    size_t n = strnlen(name, STORE_INDEX_NAME_MAX + 1);
    if (n == 0 || n > STORE_INDEX_NAME_MAX) return 0;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

/* CREATE [UNIQUE] INDEX "d_T$x_<name>" ON <records table> ((<field>) ASC NULLS FIRST|DESC NULLS LAST, ...,
 * id ASC|DESC) [WHERE (<first field>) IS NOT NULL]: each key exactly the lists' sort key
 * (docs_pg_sql_key), so a sorted page is read from the index. */
static void index_sql(strbuf *sql, const docs_pg_env *env, const char *table, const store_index_def *ix)
{
    char suffix[STORE_INDEX_NAME_MAX + 4];
    snprintf(suffix, sizeof suffix, "x_%s", ix->name);
    index_head(sql, env, table, ix->unique, suffix);
    for (size_t i = 0; i < ix->nfields; i++) {
        if (i) strbuf_append_str(sql, ", ");
        docs_pg_sql_key(sql, &ix->fields[i], ix->desc[i]);
    }
    /* lists break ties by id in the sort's direction (not for unique indexes: their uniqueness is over
     * the listed fields only) */
    if (!ix->unique && ix->fields[ix->nfields - 1].kind != QUERY_FIELD_ID)
        strbuf_append_str(sql, ix->desc[ix->nfields - 1] ? ", id DESC" : ", id ASC");
    strbuf_append_char(sql, ')');
    if (ix->sparse && ix->fields[0].kind == QUERY_FIELD_DOC) {
        strbuf_append_str(sql, " WHERE (");
        docs_pg_sql_field(sql, &ix->fields[0]);
        strbuf_append_str(sql, ") IS NOT NULL");
    }
}

static int indexes_apply(const docs_pg_call *call, const char *table, const store_index_def *create, size_t ncreate,
                         const char *const *drop, size_t ndrop, bs_err *err)
{
    strbuf sql;
    strbuf_init(&sql, 0);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < ndrop; i++) {
        if (!index_name_ok(drop[i])) continue; /* no such index can exist */
        char suffix[STORE_INDEX_NAME_MAX + 8], name[DOCS_PG_IDENT_MAX];
        snprintf(suffix, sizeof suffix, INDEX_SEP "x_%s", drop[i]);
        docs_pg_physical_name(name, table, suffix);
        strbuf_appendf(&sql, "DROP INDEX IF EXISTS \"%s\".\"%s\"", call->env.schema, name);
        rc = run_sql(call, "drop index", &sql, err);
    }
    for (size_t i = 0; rc == 0 && i < ncreate; i++) {
        const store_index_def *ix = &create[i];
        if (!index_name_ok(ix->name) || ix->nfields == 0 || ix->nfields > STORE_INDEX_MAX_FIELDS) {
            rc = bs_err_set(err, 400, "data/validation-error", "Invalid index definition");
            break;
        }
        index_sql(&sql, &call->env, table, ix);
        rc = run_sql(call, "create index", &sql, err);
    }
    strbuf_release(&sql);
    return rc;
}

int docs_pg_indexes_change(void *driver, const char *env_id, const char *table, const store_index_def *create,
                           size_t ncreate, const char *const *drop, size_t ndrop, const char *indexes_json,
                           int index_version, const char *created_by, int *found, bs_err *err)
{
    docs_pg_call call;
    *found = 0;
    if (docs_pg_table_check(table, err) < 0 || docs_pg_call_begin(driver, env_id, 1, &call, err) < 0) return -1;
    char iv[PG_INT64_TEXT];
    const char *params[] = {indexes_json, pg_fmt_int64(iv, index_version), table};
    int64_t changed = 0;
    int rc = catalog_command(&call, "update indexes",
                             "UPDATE {S}._basalt_tables SET indexes = $1, index_version = $2::integer WHERE name = $3", 3,
                             params, &changed, err);
    *found = rc == 0 && changed > 0;
    if (rc == 0 && *found) rc = indexes_apply(&call, table, create, ncreate, drop, ndrop, err);
    if (rc == 0 && *found) rc = version_add(&call, table, STORE_VERSION_INDEXES, index_version, indexes_json, created_by, err);
    return docs_pg_call_end(&call, rc, err);
}

/* ---- usage ---- */

int docs_pg_env_bytes(void *driver, const char *env_id, uint64_t *bytes, bs_err *err)
{
    docs_pg_call call;
    *bytes = 0;
    if (docs_pg_call_begin(driver, env_id, 0, &call, err) < 0) return -1;
    const char *params[] = {call.env.schema};
    PGresult *r = docs_pg_exec(&call, "table bytes",
                               "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c"
                               " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'",
                               1, params, err);
    if (r) *bytes = (uint64_t)pg_i64(r, 0, 0);
    PQclear(r);
    return docs_pg_call_end(&call, r ? 0 : -1, err);
}
