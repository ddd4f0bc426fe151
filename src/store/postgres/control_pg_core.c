/* control_pg_core: see control_pg_parts.h. The statements are the SQLite driver's (store/sqlite/
 * control_sqlite.c) with $n placeholders; rows read the same: a NULL time reads as 0, a NULL text as "",
 * and a value longer than its buffer fails the call (500) instead of being cut. */
#include "store/postgres/control_pg_parts.h"

#include <stdint.h>
#include <string.h>

#include "util/check.h"
#include "util/clock.h"
#include "util/log.h"

/* ---- parameters ---- */

#define PGC_PARAMS_MAX 12

/* The text parameters of one statement; numbers are formatted into num. */
typedef struct pgc_params {
    const char *v[PGC_PARAMS_MAX];
    char num[PGC_PARAMS_MAX][PG_INT64_TEXT];
    int n;
    int bad; /* a fixed-size field without its NUL */
} pgc_params;

static void p_text(pgc_params *p, const char *text)
{
    BS_ASSERT(p->n < PGC_PARAMS_MAX);
    p->v[p->n++] = text;
}

/* A struct's fixed-size text field: it must end within its cap bytes (libpq reads text up to the NUL). */
static void p_fixed(pgc_params *p, const char *field, size_t cap)
{
    if (!memchr(field, '\0', cap)) p->bad = 1;
    p_text(p, p->bad ? "" : field);
}
#define P_FIELD(p, field) p_fixed((p), (field), sizeof(field))

static void p_int(pgc_params *p, int64_t v)
{
    BS_ASSERT(p->n < PGC_PARAMS_MAX);
    p->v[p->n] = pg_fmt_int64(p->num[p->n], v);
    p->n++;
}

/* 0 = never / not revoked, stored as NULL (the SQLite driver's sq_bind_time). */
static void p_time(pgc_params *p, int64_t ms)
{
    if (ms == 0) p_text(p, NULL);
    else p_int(p, ms);
}

/* Runs a statement without rows on c (one transaction's connection), or on a borrowed one when c is NULL. */
static int pgc_run(pgc *d, PGconn *c, const char *what, const char *sql, const pgc_params *p, int64_t *changed, bs_err *err)
{
    if (p->bad) {
        log_error("postgres: %s: a text field is not NUL-terminated", what);
        return bs_err_internal(err);
    }
    if (c) return pg_command(d->pool, c, what, sql, p->n, p->v, changed, err);
    return pg_command1(d->pool, what, sql, p->n, p->v, changed, err);
}

/* ---- row readers: fill dst from row i; -1 with err (500) when a value does not fit its buffer ---- */

typedef int (*pgc_reader)(const PGresult *r, int i, void *dst, bs_err *err);
#define PGC_TEXT(r, i, col, field) (0 - pg_text((r), (i), (col), (field), sizeof(field), err)) /* 1 when it failed */

/* The columns pgc_org_read, pgc_project_read, pgc_env_read and pgc_key_row_read expect, in their order. */
#define PGC_ORG_COLUMNS                                                                                       \
    "id, name, slug, plan, status, created_at, updated_at, display_name, description,"                        \
    " coalesce(notification_email, ''), scheduled_plan, scheduled_at, coalesce(api_call_quota, -1),"          \
    " coalesce(storage_quota, -1), coalesce(mau_quota, -1), coalesce(bandwidth_quota, -1)"
#define PGC_PROJECT_COLUMNS                                                                                   \
    "id, organization_id, name, slug, status, created_at, updated_at, description,"                           \
    " coalesce(primary_cloud, ''), coalesce(primary_region, ''), settings"
#define PGC_ENV_COLUMNS                                                                                       \
    "id, project_id, name, type, status, created_at, updated_at, coalesce(last_access_at, 0), shutdown_at,"   \
    " delete_at, coalesce(cluster, ''), slot"
#define PGC_KEY_COLUMNS "id, environment_id, type, name, key_hash, key_hint, scopes, expires_at, created_at, revoked_at"

static int pgc_org_read(const PGresult *r, int i, void *dst, bs_err *err)
{
    store_org *o = dst;
    int bad = PGC_TEXT(r, i, 0, o->id) | PGC_TEXT(r, i, 1, o->name) | PGC_TEXT(r, i, 2, o->slug) |
              PGC_TEXT(r, i, 3, o->plan) | PGC_TEXT(r, i, 4, o->status) | PGC_TEXT(r, i, 7, o->display_name) |
              PGC_TEXT(r, i, 8, o->description) | PGC_TEXT(r, i, 9, o->notification_email) |
              PGC_TEXT(r, i, 10, o->scheduled_plan);
    o->created_at = pg_i64(r, i, 5);
    o->updated_at = pg_i64(r, i, 6);
    o->scheduled_at = pg_i64(r, i, 11);
    o->api_call_quota = pg_i64(r, i, 12);
    o->storage_quota = pg_i64(r, i, 13);
    o->mau_quota = pg_i64(r, i, 14);
    o->bandwidth_quota = pg_i64(r, i, 15);
    return bad ? -1 : 0;
}

static int pgc_project_read(const PGresult *r, int i, void *dst, bs_err *err)
{
    store_project *p = dst;
    int bad = PGC_TEXT(r, i, 0, p->id) | PGC_TEXT(r, i, 1, p->organization_id) | PGC_TEXT(r, i, 2, p->name) |
              PGC_TEXT(r, i, 3, p->slug) | PGC_TEXT(r, i, 4, p->status) | PGC_TEXT(r, i, 7, p->description) |
              PGC_TEXT(r, i, 8, p->primary_cloud) | PGC_TEXT(r, i, 9, p->primary_region) |
              PGC_TEXT(r, i, 10, p->settings);
    p->created_at = pg_i64(r, i, 5);
    p->updated_at = pg_i64(r, i, 6);
    return bad ? -1 : 0;
}

static int pgc_env_read(const PGresult *r, int i, void *dst, bs_err *err)
{
    store_env *e = dst;
    int bad = PGC_TEXT(r, i, 0, e->id) | PGC_TEXT(r, i, 1, e->project_id) | PGC_TEXT(r, i, 2, e->name) |
              PGC_TEXT(r, i, 3, e->type) | PGC_TEXT(r, i, 4, e->status) | PGC_TEXT(r, i, 10, e->cluster);
    e->created_at = pg_i64(r, i, 5);
    e->updated_at = pg_i64(r, i, 6);
    e->last_access_at = pg_i64(r, i, 7);
    e->shutdown_at = pg_i64(r, i, 8);
    e->delete_at = pg_i64(r, i, 9);
    e->slot = (int)pg_i64(r, i, 11);
    return bad ? -1 : 0;
}

/* One row of PGC_KEY_COLUMNS; scopes_json points into the row, or is NULL for a NULL column (every scope). */
static int pgc_key_row_read(const PGresult *r, int i, void *dst, bs_err *err)
{
    store_api_key_row *row = dst;
    store_api_key *k = &row->key;
    int bad = PGC_TEXT(r, i, 0, k->id) | PGC_TEXT(r, i, 1, k->environment_id) | PGC_TEXT(r, i, 2, k->type) |
              PGC_TEXT(r, i, 3, k->name) | PGC_TEXT(r, i, 4, k->hash) | PGC_TEXT(r, i, 5, k->hint) |
              PGC_TEXT(r, i, 6, row->scopes);
    k->scopes_json = pg_null(r, i, 6) ? NULL : row->scopes;
    k->expires_at = pg_i64(r, i, 7);
    k->created_at = pg_i64(r, i, 8);
    row->revoked_at = pg_i64(r, i, 9);
    return bad ? -1 : 0;
}

/* A single-row query keyed by key1 (and key2 when not NULL), read into out (size bytes, zeroed first);
 * *found = 0 when there is no such row. */
static int pgc_get_row(void *driver, const char *what, const char *sql, const char *key1, const char *key2,
                       pgc_reader read, void *out, size_t size, int *found, bs_err *err)
{
    *found = 0;
    memset(out, 0, size);
    const char *keys[] = {key1, key2};
    PGresult *r = pg_exec1(((pgc *)driver)->pool, what, sql, key2 ? 2 : 1, keys, err);
    if (!r) return -1;
    int rc = 0;
    if (PQntuples(r) > 0) {
        if (read(r, 0, out, err) != 0) {
            memset(out, 0, size);
            rc = -1;
        } else {
            *found = 1;
        }
    }
    PQclear(r);
    return rc;
}

/* A list query keyed by $1 with LIMIT $2 = max (NULL: no limit), at most max rows of size bytes into out.
 * A row that does not fit its buffers fails the call with *count = 0. */
static int pgc_list_rows(void *driver, const char *what, const char *sql, const char *key, pgc_reader read, void *out,
                         size_t size, size_t max, size_t *count, bs_err *err)
{
    *count = 0;
    char limit[PG_INT64_TEXT];
    const char *params[] = {key, max > (size_t)INT64_MAX ? NULL : pg_fmt_int64(limit, (int64_t)max)};
    PGresult *r = pg_exec1(((pgc *)driver)->pool, what, sql, 2, params, err);
    if (!r) return -1;
    size_t n = 0, rows = (size_t)PQntuples(r);
    int rc = 0;
    while (n < max && n < rows) {
        void *row = (char *)out + n * size;
        memset(row, 0, size);
        if (read(r, (int)n, row, err) != 0) {
            rc = -1;
            break;
        }
        n++;
    }
    PQclear(r);
    if (rc == 0) *count = n;
    return rc;
}

/* ---- inserts (on c when given, so bootstrap can group them in one transaction) ---- */

static int pgc_org_insert_on(pgc *d, PGconn *c, const store_org *o, bs_err *err)
{
    pgc_params p = {0};
    P_FIELD(&p, o->id), P_FIELD(&p, o->name), P_FIELD(&p, o->slug), P_FIELD(&p, o->plan), P_FIELD(&p, o->status);
    p_int(&p, o->created_at), p_int(&p, o->updated_at);
    P_FIELD(&p, o->display_name), P_FIELD(&p, o->description), P_FIELD(&p, o->notification_email);
    /* display_name "" takes the name; notification_email "" is NULL (none) */
    return pgc_run(d, c, "insert organization",
                   "INSERT INTO organizations (id, name, slug, display_name, plan, status, created_at, updated_at,"
                   " description, notification_email) VALUES ($1, $2, $3, coalesce(NULLIF($8::text, ''), $2), $4, $5,"
                   " $6, $7, $9, NULLIF($10::text, ''))",
                   &p, NULL, err);
}

static int pgc_project_insert_on(pgc *d, PGconn *c, const store_project *pr, bs_err *err)
{
    pgc_params p = {0};
    P_FIELD(&p, pr->id), P_FIELD(&p, pr->organization_id), P_FIELD(&p, pr->name), P_FIELD(&p, pr->slug);
    P_FIELD(&p, pr->status), p_int(&p, pr->created_at), p_int(&p, pr->updated_at), P_FIELD(&p, pr->description);
    P_FIELD(&p, pr->primary_cloud), P_FIELD(&p, pr->primary_region), P_FIELD(&p, pr->settings);
    return pgc_run(d, c, "insert project",
                   "INSERT INTO projects (id, organization_id, name, slug, status, created_at, updated_at, description,"
                   " primary_cloud, primary_region, settings) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
                   " NULLIF($9::text, ''), NULLIF($10::text, ''), coalesce(NULLIF($11::text, ''), '{}'))",
                   &p, NULL, err);
}

static int pgc_env_insert_on(pgc *d, PGconn *c, const store_env *e, bs_err *err)
{
    pgc_params p = {0};
    P_FIELD(&p, e->id), P_FIELD(&p, e->project_id), P_FIELD(&p, e->name), P_FIELD(&p, e->type);
    P_FIELD(&p, e->status), p_int(&p, e->created_at), p_int(&p, e->updated_at);
    return pgc_run(d, c, "insert environment",
                   "INSERT INTO environments (id, project_id, name, type, status, created_at, updated_at)"
                   " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                   &p, NULL, err);
}

static int pgc_key_insert_on(pgc *d, PGconn *c, const store_api_key *k, bs_err *err)
{
    pgc_params p = {0};
    P_FIELD(&p, k->id), P_FIELD(&p, k->environment_id), P_FIELD(&p, k->type), P_FIELD(&p, k->name);
    P_FIELD(&p, k->hash), P_FIELD(&p, k->hint);
    p_text(&p, k->scopes_json); /* NULL: every scope ("" is kept as "") */
    p_time(&p, k->expires_at), p_int(&p, k->created_at);
    return pgc_run(d, c, "insert api key",
                   "INSERT INTO api_keys (id, environment_id, type, name, key_hash, key_hint, scopes, expires_at,"
                   " created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                   &p, NULL, err);
}

static int pgc_token_insert_on(pgc *d, PGconn *c, const store_operator_token *t, bs_err *err)
{
    pgc_params p = {0};
    P_FIELD(&p, t->id), P_FIELD(&p, t->organization_id), P_FIELD(&p, t->name), P_FIELD(&p, t->role);
    P_FIELD(&p, t->hash), P_FIELD(&p, t->hint), p_time(&p, t->expires_at), p_int(&p, t->created_at);
    P_FIELD(&p, t->member_id); /* "" = a service token: NULL */
    return pgc_run(d, c, "insert operator token",
                   "INSERT INTO operator_tokens (id, organization_id, name, role, token_hash, token_hint, expires_at,"
                   " created_at, member_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULLIF($9::text, ''))",
                   &p, NULL, err);
}

/* The bootstrap's Owner (the team part owns the member ops; this is the SQLite driver's member insert). */
static int pgc_member_insert_on(pgc *d, PGconn *c, const store_member *m, bs_err *err)
{
    pgc_params p = {0};
    P_FIELD(&p, m->id), P_FIELD(&p, m->organization_id), P_FIELD(&p, m->email), P_FIELD(&p, m->name);
    P_FIELD(&p, m->role);
    if (m->status[0]) P_FIELD(&p, m->status);
    else p_text(&p, "active");
    P_FIELD(&p, m->invited_by), p_int(&p, m->joined_at);
    return pgc_run(d, c, "insert member",
                   "INSERT INTO members (id, organization_id, email, name, role, status, invited_by, joined_at)"
                   " VALUES ($1, $2, NULLIF($3::text, ''), $4, $5, $6, $7, $8)",
                   &p, NULL, err);
}

/* ---- ops: bootstrap and inserts ---- */

static int pgc_bootstrap(void *driver, const store_bootstrap *b, bs_err *err)
{
    pgc *d = driver;
    PGconn *c = pg_borrow(d->pool, err);
    if (!c) return -1;
    int rc = pg_begin(d->pool, c, err);
    if (rc != 0) {
        pg_return(d->pool, c);
        return -1;
    }
    rc = pgc_org_insert_on(d, c, &b->org, err);
    if (rc == 0) rc = pgc_project_insert_on(d, c, &b->project, err);
    if (rc == 0) rc = pgc_env_insert_on(d, c, &b->env, err);
    if (rc == 0) rc = pgc_key_insert_on(d, c, &b->publishable, err);
    if (rc == 0) rc = pgc_key_insert_on(d, c, &b->secret, err);
    if (rc == 0 && b->owner.id[0]) rc = pgc_member_insert_on(d, c, &b->owner, err);
    if (rc == 0) rc = pgc_token_insert_on(d, c, &b->operator_token, err);
    if (rc == 0) rc = pg_commit(d->pool, c, err); /* rolls back itself when it fails */
    else pg_rollback(c);
    pg_return(d->pool, c);
    return rc;
}

static int pgc_org_insert(void *driver, const store_org *org, bs_err *err)
{
    return pgc_org_insert_on(driver, NULL, org, err);
}

static int pgc_project_insert(void *driver, const store_project *project, bs_err *err)
{
    return pgc_project_insert_on(driver, NULL, project, err);
}

static int pgc_env_insert(void *driver, const store_env *env, bs_err *err)
{
    return pgc_env_insert_on(driver, NULL, env, err);
}

static int pgc_api_key_insert(void *driver, const store_api_key *key, bs_err *err)
{
    return pgc_key_insert_on(driver, NULL, key, err);
}

static int pgc_operator_token_insert(void *driver, const store_operator_token *tok, bs_err *err)
{
    return pgc_token_insert_on(driver, NULL, tok, err);
}

/* ---- ops: reads by id ---- */

static int pgc_org_get(void *driver, const char *id, store_org *out, int *found, bs_err *err)
{
    return pgc_get_row(driver, "get organization", "SELECT " PGC_ORG_COLUMNS " FROM organizations WHERE id = $1", id, NULL,
                       pgc_org_read, out, sizeof *out, found, err);
}

static int pgc_env_get(void *driver, const char *id, store_env *out, int *found, bs_err *err)
{
    return pgc_get_row(driver, "get environment", "SELECT " PGC_ENV_COLUMNS " FROM environments WHERE id = $1", id, NULL,
                       pgc_env_read, out, sizeof *out, found, err);
}

static int pgc_project_get(void *driver, const char *id, store_project *out, int *found, bs_err *err)
{
    return pgc_get_row(driver, "get project", "SELECT " PGC_PROJECT_COLUMNS " FROM projects WHERE id = $1", id, NULL,
                       pgc_project_read, out, sizeof *out, found, err);
}

static int pgc_env_find(void *driver, const char *project_id, const char *name, store_env *out, int *found, bs_err *err)
{
    return pgc_get_row(driver, "find environment",
                       "SELECT " PGC_ENV_COLUMNS " FROM environments WHERE project_id = $1 AND name = $2", project_id,
                       name, pgc_env_read, out, sizeof *out, found, err);
}

static int pgc_api_key_get(void *driver, const char *key_id, store_api_key_row *out, int *found, bs_err *err)
{
    return pgc_get_row(driver, "get api key", "SELECT " PGC_KEY_COLUMNS " FROM api_keys WHERE id = $1", key_id, NULL,
                       pgc_key_row_read, out, sizeof *out, found, err);
}

/* ---- ops: keys of an environment ---- */

/* Oldest first; ids compare byte-wise (COLLATE "C") as on SQLite. */
static int pgc_api_key_list(void *driver, const char *env_id, store_api_key_row *out, size_t max, size_t *count,
                            bs_err *err)
{
    return pgc_list_rows(driver, "list api keys",
                         "SELECT " PGC_KEY_COLUMNS " FROM api_keys WHERE environment_id = $1"
                         " ORDER BY created_at, id COLLATE \"C\" LIMIT $2",
                         env_id, pgc_key_row_read, out, sizeof *out, max, count, err);
}

static int pgc_api_key_count(void *driver, const char *env_id, size_t *count, bs_err *err)
{
    *count = 0;
    const char *params[] = {env_id};
    PGresult *r = pg_exec1(((pgc *)driver)->pool, "count api keys",
                           "SELECT count(*) FROM api_keys WHERE environment_id = $1 AND revoked_at IS NULL", 1, params, err);
    if (!r) return -1;
    int64_t n = PQntuples(r) > 0 ? pg_i64(r, 0, 0) : 0;
    PQclear(r);
    *count = n > 0 ? (size_t)n : 0;
    return 0;
}

/* The secret of (env, kind): inserts `fresh` unless one exists (first writer wins, so every instance and the
 * CLI agree), then reads whichever is stored. The BYTEA goes in and comes back in binary format. */
static int pgc_env_secret(void *driver, const char *env_id, const char *kind, const uint8_t *fresh, size_t len,
                          uint8_t *out, bs_err *err)
{
    pgc *d = driver;
    if (len > INT32_MAX) return bs_err_internal(err);
    char now[PG_INT64_TEXT];
    const char *add[] = {env_id, kind, (const char *)fresh, pg_fmt_int64(now, clock_now_ms())};
    const int lengths[] = {0, 0, (int)len, 0}, formats[] = {0, 0, 1, 0};
    const char *get[] = {env_id, kind};
    PGconn *c = pg_borrow(d->pool, err);
    if (!c) return -1;
    PGresult *r = PQexecParams(c,
                               "INSERT INTO environment_secrets (environment_id, kind, secret, created_at)"
                               " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                               4, NULL, add, lengths, formats, 0);
    int rc = r && PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : pg_fail(d->pool, c, r, "insert secret", err);
    PQclear(r);
    r = NULL;
    if (rc == 0) {
        r = PQexecParams(c, "SELECT secret FROM environment_secrets WHERE environment_id = $1 AND kind = $2", 2, NULL, get,
                         NULL, NULL, 1);
        if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) rc = pg_fail(d->pool, c, r, "select secret", err);
        else if (PQntuples(r) != 1 || PQgetlength(r, 0, 0) != (int)len) rc = bs_err_internal(err);
        else memcpy(out, PQgetvalue(r, 0, 0), len); /* bounded: out holds len bytes, like fresh (control_driver.h) */
    }
    PQclear(r);
    pg_return(d->pool, c);
    return rc;
}

/* ---- ops: revocation and deletion ---- */

/* An UPDATE/DELETE by id ($1; at is $2 when >= 0); *found = 1 when a row matched. */
static int pgc_change_by_id(void *driver, const char *what, const char *sql, const char *key, int64_t at, int *found,
                            bs_err *err)
{
    *found = 0;
    pgc_params p = {0};
    p_text(&p, key);
    if (at >= 0) p_int(&p, at);
    int64_t changed = 0;
    if (pgc_run(driver, NULL, what, sql, &p, &changed, err) != 0) return -1;
    *found = changed > 0;
    return 0;
}

/* Revoking at 0 ("not revoked") would be a no-op, so 0 means now. */
static int64_t pgc_revoke_time(int64_t at)
{
    return at > 0 ? at : clock_now_ms();
}

/* Idempotent: a revoked row keeps its first time (coalesce), and still counts as found. */
static int pgc_api_key_revoke(void *driver, const char *key_id, int64_t at, int *found, bs_err *err)
{
    return pgc_change_by_id(driver, "revoke api key", "UPDATE api_keys SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1",
                            key_id, pgc_revoke_time(at), found, err);
}

static int pgc_operator_token_revoke(void *driver, const char *token_id, int64_t at, int *found, bs_err *err)
{
    return pgc_change_by_id(driver, "revoke operator token",
                            "UPDATE operator_tokens SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1", token_id,
                            pgc_revoke_time(at), found, err);
}

/* Its keys, secrets, settings ... go by ON DELETE CASCADE. */
static int pgc_env_delete(void *driver, const char *env_id, int *found, bs_err *err)
{
    return pgc_change_by_id(driver, "delete environment", "DELETE FROM environments WHERE id = $1", env_id, -1, found, err);
}

/* ---- ops: request-path lookups ---- */

/* LEFT JOINs so that a key whose environment or project is gone still resolves, with environment_exists = 0
 * (column 11, a boolean made 0/1); quotas without an override read -1. */
#define PGC_KEY_LOOKUP                                                                                        \
    "SELECT k.id, k.type, k.scopes, k.expires_at, k.revoked_at, k.environment_id, e.name, p.id, o.id, o.status," \
    " o.plan, coalesce(e.id IS NOT NULL AND p.id IS NOT NULL AND e.status <> 'deleting' AND p.status <> 'deleted',"   \
    " false)::int, coalesce(o.api_call_quota, -1), coalesce(o.storage_quota, -1), coalesce(o.mau_quota, -1),"   \
    " coalesce(o.bandwidth_quota, -1) FROM api_keys k LEFT JOIN environments e ON e.id = k.environment_id"     \
    " LEFT JOIN projects p ON p.id = e.project_id LEFT JOIN organizations o ON o.id = p.organization_id"       \
    " WHERE k.key_hash = $1"

static int pgc_key_context_read(const PGresult *r, int i, void *dst, bs_err *err)
{
    store_key_context *out = dst;
    int bad = PGC_TEXT(r, i, 0, out->key_id) | PGC_TEXT(r, i, 1, out->key_type) | PGC_TEXT(r, i, 2, out->scopes_json) |
              PGC_TEXT(r, i, 5, out->environment_id) | PGC_TEXT(r, i, 6, out->environment) |
              PGC_TEXT(r, i, 7, out->project_id) | PGC_TEXT(r, i, 8, out->organization_id) |
              PGC_TEXT(r, i, 9, out->organization_status) | PGC_TEXT(r, i, 10, out->plan);
    out->expires_at = pg_i64(r, i, 3);
    out->revoked_at = pg_i64(r, i, 4);
    out->environment_exists = pg_i64(r, i, 11) != 0;
    out->api_call_quota = pg_i64(r, i, 12);
    out->storage_quota = pg_i64(r, i, 13);
    out->mau_quota = pg_i64(r, i, 14);
    out->bandwidth_quota = pg_i64(r, i, 15);
    return bad ? -1 : 0;
}

static int pgc_key_lookup(void *driver, const char *hash_hex, store_key_context *out, int *found, bs_err *err)
{
    return pgc_get_row(driver, "look up api key", PGC_KEY_LOOKUP, hash_hex, NULL, pgc_key_context_read, out, sizeof *out,
                       found, err);
}

/* A member-bound token has its member's current role; one whose member is gone reads as revoked (at 1 when
 * it was not revoked). */
#define PGC_TOKEN_LOOKUP                                                                                      \
    "SELECT t.id, t.organization_id, coalesce(m.role, t.role), t.expires_at,"                                 \
    " (CASE WHEN t.member_id IS NOT NULL AND m.id IS NULL THEN coalesce(t.revoked_at, 1) ELSE t.revoked_at END),"    \
    " coalesce(t.member_id, '') FROM operator_tokens t"                                                       \
    " LEFT JOIN members m ON m.id = t.member_id AND m.organization_id = t.organization_id WHERE t.token_hash = $1"

static int pgc_token_context_read(const PGresult *r, int i, void *dst, bs_err *err)
{
    store_token_context *out = dst;
    int bad = PGC_TEXT(r, i, 0, out->token_id) | PGC_TEXT(r, i, 1, out->organization_id) |
              PGC_TEXT(r, i, 2, out->role) | PGC_TEXT(r, i, 5, out->member_id);
    out->expires_at = pg_i64(r, i, 3);
    out->revoked_at = pg_i64(r, i, 4);
    return bad ? -1 : 0;
}

static int pgc_token_lookup(void *driver, const char *hash_hex, store_token_context *out, int *found, bs_err *err)
{
    return pgc_get_row(driver, "look up operator token", PGC_TOKEN_LOOKUP, hash_hex, NULL, pgc_token_context_read, out,
                       sizeof *out, found, err);
}

void pgc_fill_core(store_control_ops *ops)
{
    ops->bootstrap = pgc_bootstrap;
    ops->org_insert = pgc_org_insert;
    ops->project_insert = pgc_project_insert;
    ops->env_insert = pgc_env_insert;
    ops->api_key_insert = pgc_api_key_insert;
    ops->operator_token_insert = pgc_operator_token_insert;
    ops->org_get = pgc_org_get;
    ops->env_get = pgc_env_get;
    ops->api_key_revoke = pgc_api_key_revoke;
    ops->operator_token_revoke = pgc_operator_token_revoke;
    ops->env_delete = pgc_env_delete;
    ops->key_lookup = pgc_key_lookup;
    ops->token_lookup = pgc_token_lookup;
    ops->project_get = pgc_project_get;
    ops->env_find = pgc_env_find;
    ops->api_key_list = pgc_api_key_list;
    ops->api_key_count = pgc_api_key_count;
    ops->api_key_get = pgc_api_key_get;
    ops->env_secret = pgc_env_secret;
}
