/* control_pg_plane: see control_pg_parts.h. The management plane of the PostgreSQL control driver, with the
 * semantics of the SQLite driver's matching sq_* functions (store/sqlite/control_sqlite.c).
 *
 * Placement. SQLite serializes placement with BEGIN IMMEDIATE (one writer). Here every placement (and the
 * reclaim of slots) runs in one transaction that first takes the transaction-scoped advisory lock
 * PG_LOCK_PLACEMENT, so two processes placing at once see each other's committed slots and never share one;
 * the unique indexes on cluster_slots (cluster_id, slot) and (environment_id) back this up.
 *
 * Text searches compare ASCII-lower-cased text (PGP_ASCII_LOWER), as SQLite's lower() does. Lists read at
 * most max rows (LIMIT; a max beyond INT64_MAX binds NULL: no limit), and a row that does not fit its
 * buffers fails the call with *count = 0. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "store/postgres/control_pg_parts.h"

#define PGP_ASCII_LOWER(x) "translate(" x ", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
#define PGP_FIELD(r, row, col, field, err) pg_text((r), (row), (col), (field), sizeof(field), (err))

/* The columns project_read and env_read expect, in their order. */
#define PGP_PROJECT_COLUMNS                                                                                   \
    "id, organization_id, name, slug, status, created_at, updated_at, description,"                           \
    " coalesce(primary_cloud, ''), coalesce(primary_region, ''), settings"
#define PGP_ENV_COLUMNS                                                                                       \
    "id, project_id, name, type, status, created_at, updated_at, coalesce(last_access_at, 0), shutdown_at,"   \
    " delete_at, coalesce(cluster, ''), slot"
/* The idle period of an environment: $2 for dev, $3 for the others. */
#define PGP_ENV_IDLE "(CASE type WHEN 'dev' THEN $2::bigint ELSE $3::bigint END)"
/* Activity filters: $1 organization, $2 entity type, $3 action, $4 search (NULL = any). */
#define PGP_ACTIVITY_WHERE                                                                                    \
    " WHERE organization_id = $1 AND ($2::text IS NULL OR entity_type = $2) AND ($3::text IS NULL OR action = $3)" \
    " AND ($4::text IS NULL OR strpos(" PGP_ASCII_LOWER("message") ", " PGP_ASCII_LOWER("$4") ") > 0)"            \
    " AND ($5::text IS NULL OR project_id = $5) AND ($6::text IS NULL OR environment = $6)"
#define PGP_PLACE_COLUMNS "SELECT s.cluster_id, c.kind, s.slot, c.url FROM cluster_slots s JOIN clusters c ON c.id = s.cluster_id"
/* A cluster's environments now (c: the cluster). */
#define PGP_CLUSTER_USED "(SELECT count(*) FROM cluster_slots s WHERE s.cluster_id = c.id AND s.environment_id IS NOT NULL)"

/* Fills out (zeroed by the caller) from row `row` of r: 0, or -1 with err when a value does not fit. */
typedef int (*pgp_reader)(const PGresult *r, int row, void *out, bs_err *err);

static pg_pool *pool_of(void *driver) { return ((pgc *)driver)->pool; }

/* A LIMIT parameter: max as text in buf, or NULL (no limit) beyond INT64_MAX. */
static const char *fmt_limit(char buf[PG_INT64_TEXT], size_t max)
{
    return max > (size_t)INT64_MAX ? NULL : pg_fmt_int64(buf, (int64_t)max);
}

/* Reads at most max rows of r into out (elements of size bytes); r is cleared. */
static int read_rows(PGresult *r, pgp_reader reader, void *out, size_t size, size_t max, size_t *count, bs_err *err)
{
    size_t n = (size_t)PQntuples(r);
    if (n > max) n = max;
    for (size_t i = 0; i < n; i++) {
        void *row = (char *)out + i * size;
        memset(row, 0, size);
        if (reader(r, (int)i, row, err) != 0) {
            memset(row, 0, size);
            PQclear(r);
            return -1;
        }
    }
    PQclear(r);
    *count = n;
    return 0;
}

/* Runs a list query (its last parameter is the LIMIT) and reads its rows. */
static int list_rows(void *driver, const char *what, const char *sql, int n, const char *const *params, pgp_reader reader,
                     void *out, size_t size, size_t max, size_t *count, bs_err *err)
{
    *count = 0;
    PGresult *r = pg_exec1(pool_of(driver), what, sql, n, params, err);
    return r ? read_rows(r, reader, out, size, max, count, err) : -1;
}

/* A list keyed by one text $1 (keyed: 1; a NULL key matches nothing) or by none (keyed: 0, key unused), with
 * LIMIT max as the next parameter. */
static int list_by(void *driver, const char *what, const char *sql, int keyed, const char *key, pgp_reader reader, void *out,
                   size_t size, size_t max, size_t *count, bs_err *err)
{
    char lim[PG_INT64_TEXT];
    const char *params[] = {key, fmt_limit(lim, max)};
    return list_rows(driver, what, sql, keyed ? 2 : 1, keyed ? params : params + 1, reader, out, size, max, count, err);
}

/* Runs a statement and reports whether it changed a row. */
static int change(void *driver, const char *what, const char *sql, int n, const char *const *params, int *found, bs_err *err)
{
    int64_t changed = 0;
    *found = 0;
    if (pg_command1(pool_of(driver), what, sql, n, params, &changed, err) < 0) return -1;
    *found = changed > 0;
    return 0;
}

/* Runs a one-integer query. */
static int query_int(pg_pool *p, PGconn *c, const char *what, const char *sql, int n, const char *const *params, int64_t *out,
                     bs_err *err)
{
    PGresult *r = c ? pg_exec(p, c, what, sql, n, params, err) : pg_exec1(p, what, sql, n, params, err);
    if (!r) return -1;
    int rows = PQntuples(r);
    if (rows > 0) *out = pg_i64(r, 0, 0);
    PQclear(r);
    return rows > 0 ? 0 : bs_err_internal(err);
}

/* Runs fn inside one transaction on one borrowed connection: committed when it returns 0, else rolled back. */
typedef int (*pgp_tx_fn)(pg_pool *p, PGconn *c, void *arg, bs_err *err);
static int in_tx(void *driver, pgp_tx_fn fn, void *arg, bs_err *err)
{
    pg_pool *p = pool_of(driver);
    PGconn *c = pg_borrow(p, err);
    if (!c) return -1;
    int rc = pg_begin(p, c, err);
    if (rc == 0) {
        rc = fn(p, c, arg, err);
        if (rc == 0) rc = pg_commit(p, c, err); /* rolls back itself when COMMIT fails */
        else pg_rollback(c);
    }
    pg_return(p, c);
    return rc;
}

/* ---- row readers ---- */

static int project_read(const PGresult *r, int row, void *dst, bs_err *err)
{
    store_project *out = dst;
    int bad = PGP_FIELD(r, row, 0, out->id, err) | PGP_FIELD(r, row, 1, out->organization_id, err) |
              PGP_FIELD(r, row, 2, out->name, err) | PGP_FIELD(r, row, 3, out->slug, err) |
              PGP_FIELD(r, row, 4, out->status, err) | PGP_FIELD(r, row, 7, out->description, err) |
              PGP_FIELD(r, row, 8, out->primary_cloud, err) | PGP_FIELD(r, row, 9, out->primary_region, err) |
              PGP_FIELD(r, row, 10, out->settings, err);
    out->created_at = pg_i64(r, row, 5);
    out->updated_at = pg_i64(r, row, 6);
    return bad ? -1 : 0;
}

static int env_read(const PGresult *r, int row, void *dst, bs_err *err)
{
    store_env *out = dst;
    int bad = PGP_FIELD(r, row, 0, out->id, err) | PGP_FIELD(r, row, 1, out->project_id, err) |
              PGP_FIELD(r, row, 2, out->name, err) | PGP_FIELD(r, row, 3, out->type, err) |
              PGP_FIELD(r, row, 4, out->status, err) | PGP_FIELD(r, row, 10, out->cluster, err);
    out->created_at = pg_i64(r, row, 5);
    out->updated_at = pg_i64(r, row, 6);
    out->last_access_at = pg_i64(r, row, 7);
    out->shutdown_at = pg_i64(r, row, 8);
    out->delete_at = pg_i64(r, row, 9);
    out->slot = (int)pg_i64(r, row, 11);
    return bad ? -1 : 0;
}

static int cluster_read(const PGresult *r, int row, void *dst, bs_err *err)
{
    store_cluster *out = dst;
    int bad = PGP_FIELD(r, row, 0, out->id, err) | PGP_FIELD(r, row, 1, out->kind, err) |
              PGP_FIELD(r, row, 2, out->status, err);
    out->capacity = (int)pg_i64(r, row, 3);
    out->created_at = pg_i64(r, row, 4);
    out->used = (int)pg_i64(r, row, 5);
    bad |= PGP_FIELD(r, row, 6, out->url, err);
    return bad ? -1 : 0;
}

static int activity_read(const PGresult *r, int row, void *dst, bs_err *err)
{
    store_activity *a = dst;
    a->id = pg_i64(r, row, 0);
    int bad = PGP_FIELD(r, row, 1, a->organization_id, err) | PGP_FIELD(r, row, 2, a->project_id, err) |
              PGP_FIELD(r, row, 3, a->actor, err) | PGP_FIELD(r, row, 4, a->actor_type, err) |
              PGP_FIELD(r, row, 5, a->entity_type, err) | PGP_FIELD(r, row, 6, a->entity_id, err) |
              PGP_FIELD(r, row, 7, a->action, err) | PGP_FIELD(r, row, 8, a->message, err) |
              PGP_FIELD(r, row, 10, a->environment, err);
    a->at = pg_i64(r, row, 9);
    return bad ? -1 : 0;
}

/* ---- organizations and projects ---- */

static int pgp_org_update(void *driver, const store_org *o, int *found, bs_err *err)
{
    char t[6][PG_INT64_TEXT];
    const char *params[] = {o->id, o->name, o->display_name, o->description, o->notification_email, o->plan, o->status,
                            o->scheduled_plan, pg_fmt_int64(t[0], o->scheduled_at), pg_fmt_int64(t[1], o->updated_at),
                            pg_fmt_int64(t[2], o->api_call_quota < 0 ? -1 : o->api_call_quota),
                            pg_fmt_int64(t[3], o->storage_quota < 0 ? -1 : o->storage_quota),
                            pg_fmt_int64(t[4], o->mau_quota < 0 ? -1 : o->mau_quota),
                            pg_fmt_int64(t[5], o->bandwidth_quota < 0 ? -1 : o->bandwidth_quota)};
    return change(driver, "update organization",
                  "UPDATE organizations SET name = $2, display_name = $3, description = $4, notification_email = NULLIF($5, ''),"
                  " plan = $6, status = $7, scheduled_plan = $8, scheduled_at = $9::bigint, updated_at = $10::bigint,"
                  " api_call_quota = NULLIF($11::bigint, -1), storage_quota = NULLIF($12::bigint, -1),"
                  " mau_quota = NULLIF($13::bigint, -1), bandwidth_quota = NULLIF($14::bigint, -1) WHERE id = $1",
                  14, params, found, err);
}

static int pgp_org_delete(void *driver, const char *id, int *found, bs_err *err)
{
    const char *params[] = {id};
    return change(driver, "delete organization", "DELETE FROM organizations WHERE id = $1", 1, params, found, err);
}

static int pgp_project_list(void *driver, const char *org_id, store_project *out, size_t max, size_t *count, bs_err *err)
{
    return list_by(driver, "list projects",
                   "SELECT " PGP_PROJECT_COLUMNS " FROM projects WHERE organization_id = $1 ORDER BY created_at, id LIMIT $2",
                   1, org_id, project_read, out, sizeof *out, max, count, err);
}

static int pgp_project_count(void *driver, const char *org_id, int64_t *count, bs_err *err)
{
    *count = 0;
    const char *params[] = {org_id};
    return query_int(pool_of(driver), NULL, "count projects",
                     "SELECT count(*) FROM projects WHERE organization_id = $1 AND status <> 'deleted'", 1, params, count, err);
}

static int pgp_project_update(void *driver, const store_project *p, int *found, bs_err *err)
{
    char at[PG_INT64_TEXT];
    const char *params[] = {p->id,       p->name, p->description, p->status, p->settings, p->primary_cloud, p->primary_region,
                            pg_fmt_int64(at, p->updated_at)};
    return change(driver, "update project",
                  "UPDATE projects SET name = $2, description = $3, status = $4, settings = $5, primary_cloud = NULLIF($6, ''),"
                  " primary_region = NULLIF($7, ''), updated_at = $8::bigint WHERE id = $1",
                  8, params, found, err);
}

static int pgp_project_delete(void *driver, const char *id, int *found, bs_err *err)
{
    const char *params[] = {id};
    return change(driver, "delete project", "DELETE FROM projects WHERE id = $1", 1, params, found, err);
}

/* ---- environments and inactivity ---- */

static int pgp_env_list(void *driver, const char *project_id, store_env *out, size_t max, size_t *count, bs_err *err)
{
    return list_by(driver, "list environments",
                   "SELECT " PGP_ENV_COLUMNS " FROM environments WHERE project_id = $1 ORDER BY created_at, id LIMIT $2",
                   1, project_id, env_read, out, sizeof *out, max, count, err);
}

static int pgp_env_set_status(void *driver, const char *env_id, const char *status, int64_t at, int *found, bs_err *err)
{
    char t[PG_INT64_TEXT];
    const char *params[] = {env_id, pg_fmt_int64(t, at), status};
    return change(driver, "set environment status", "UPDATE environments SET status = $3, updated_at = $2::bigint WHERE id = $1",
                  3, params, found, err);
}

typedef struct touch_args {
    const char *env_id;
    int64_t at;
    int *reactivated;
} touch_args;

/* A shut-down environment becomes what it was before; then the use is recorded. */
static int touch_on(pg_pool *p, PGconn *c, void *arg, bs_err *err)
{
    touch_args *a = arg;
    char t[PG_INT64_TEXT];
    const char *params[] = {a->env_id, pg_fmt_int64(t, a->at)};
    int64_t changed = 0;
    if (pg_command(p, c, "reactivate environment",
                   "UPDATE environments SET status = coalesce(NULLIF(status_before, ''), 'ready'), status_before = '',"
                   " shutdown_at = 0, delete_at = 0, updated_at = $2::bigint WHERE id = $1 AND status = 'shutdown'",
                   2, params, &changed, err) < 0)
        return -1;
    *a->reactivated = changed > 0;
    return pg_command(p, c, "touch environment", "UPDATE environments SET last_access_at = $2::bigint WHERE id = $1", 2, params,
                      NULL, err);
}

static int pgp_env_touch(void *driver, const char *env_id, int64_t at, int *reactivated, bs_err *err)
{
    *reactivated = 0;
    touch_args a = {env_id, at, reactivated};
    int rc = in_tx(driver, touch_on, &a, err);
    if (rc < 0) *reactivated = 0;
    return rc;
}

static int pgp_env_shutdown_idle(void *driver, int64_t now, int64_t dev_idle_ms, int64_t other_idle_ms, int64_t *count,
                                 bs_err *err)
{
    *count = 0;
    char t[3][PG_INT64_TEXT];
    const char *params[] = {pg_fmt_int64(t[0], now), pg_fmt_int64(t[1], dev_idle_ms), pg_fmt_int64(t[2], other_idle_ms)};
    return pg_command1(pool_of(driver), "shut down idle environments",
                       "UPDATE environments SET status_before = status, status = 'shutdown', shutdown_at = $1::bigint,"
                       " delete_at = $1::bigint + " PGP_ENV_IDLE ", updated_at = $1::bigint WHERE status IN ('ready', 'active')"
                       " AND coalesce(last_access_at, created_at) <= $1::bigint - " PGP_ENV_IDLE,
                       3, params, count, err);
}

static int pgp_env_deletions_due(void *driver, int64_t now, store_env *out, size_t max, size_t *count, bs_err *err)
{
    char t[PG_INT64_TEXT];
    return list_by(driver, "environment deletions due",
                   "SELECT " PGP_ENV_COLUMNS " FROM environments WHERE status = 'shutdown' AND delete_at > 0"
                   " AND delete_at <= $1::bigint ORDER BY delete_at, id LIMIT $2",
                   1, pg_fmt_int64(t, now), env_read, out, sizeof *out, max, count, err);
}

static int pgp_env_cancel_deletion(void *driver, const char *env_id, int *found, bs_err *err)
{
    const char *params[] = {env_id};
    return change(driver, "cancel environment deletion",
                  "UPDATE environments SET delete_at = 0 WHERE id = $1 AND status = 'shutdown' AND delete_at > 0", 1, params,
                  found, err);
}

static int pgp_envs_unplaced(void *driver, store_env *out, size_t max, size_t *count, bs_err *err)
{
    return list_by(driver, "unplaced environments",
                   "SELECT " PGP_ENV_COLUMNS " FROM environments WHERE cluster IS NULL AND status <> 'deleting'"
                   " ORDER BY created_at, id LIMIT $1",
                   0, NULL, env_read, out, sizeof *out, max, count, err);
}

/* ---- placement ---- */

/* Runs a placement query (columns: cluster id, kind, slot, url): 1 with out filled, 0 for no row, -1 on error. */
static int place_row(pg_pool *p, PGconn *c, const char *sql, int n, const char *const *params, store_placement *out, bs_err *err)
{
    PGresult *r = c ? pg_exec(p, c, "placement", sql, n, params, err) : pg_exec1(p, "placement", sql, n, params, err);
    if (!r) return -1;
    int ret = 0;
    if (PQntuples(r) > 0) {
        ret = PGP_FIELD(r, 0, 0, out->cluster_id, err) | PGP_FIELD(r, 0, 1, out->kind, err) |
                      PGP_FIELD(r, 0, 3, out->url, err) ? -1 : 1;
        out->slot = (int)pg_i64(r, 0, 2);
    }
    PQclear(r);
    return ret;
}

static int place_find(pg_pool *p, PGconn *c, const char *env_id, store_placement *out, bs_err *err)
{
    const char *params[] = {env_id};
    return place_row(p, c, PGP_PLACE_COLUMNS " WHERE s.environment_id = $1", 1, params, out, err);
}

/* Runs a statement of text $1, integer $2 and text $3. */
static int run_tit(pg_pool *p, PGconn *c, const char *what, const char *sql, const char *t1, int64_t i2, const char *t3,
                   bs_err *err)
{
    char t[PG_INT64_TEXT];
    const char *params[] = {t1, pg_fmt_int64(t, i2), t3};
    return pg_command(p, c, what, sql, 3, params, NULL, err);
}

static int slot_add(pg_pool *p, PGconn *c, const char *cluster_id, int slot, const char *env_id, bs_err *err)
{
    return run_tit(p, c, "add slot", "INSERT INTO cluster_slots (cluster_id, slot, environment_id) VALUES ($1, $2::bigint, $3)",
                   cluster_id, slot, env_id, err);
}

/* Registers a cluster as the newest (seq: one past the highest, read under the placement lock); id into
 * id (cap bytes) formatted from prefix and seq when prefix is not NULL. */
static int cluster_add(pg_pool *p, PGconn *c, char *id, size_t cap, const char *prefix, const char *kind, const char *status,
                       int capacity, int64_t now, const char *url, bs_err *err)
{
    int64_t seq = 0;
    if (query_int(p, c, "add cluster", "SELECT coalesce(max(seq), 0) + 1 FROM clusters", 0, NULL, &seq, err) < 0) return -1;
    if (prefix) snprintf(id, cap, "%s%lld", prefix, (long long)seq);
    char t[3][PG_INT64_TEXT];
    const char *params[] = {id, kind, status, pg_fmt_int64(t[0], capacity), pg_fmt_int64(t[1], now), pg_fmt_int64(t[2], seq),
                            url};
    return pg_command(p, c, "add cluster",
                      "INSERT INTO clusters (id, kind, status, capacity, created_at, seq, url)"
                      " VALUES ($1, $2, $3, $4::bigint, $5::bigint, $6::bigint, $7)",
                      7, params, NULL, err);
}

/* Priority 3 of §5.5: the spare opens (registered first when there is none) and a new spare stands by. */
static int place_spare(pg_pool *p, PGconn *c, const char *env_id, int capacity, int64_t now, store_placement *out, bs_err *err)
{
    int got = place_row(p, c, "SELECT id, kind, 0, url FROM clusters WHERE kind = 'shared' AND status = 'spare' ORDER BY seq LIMIT 1",
                        0, NULL, out, err);
    if (got < 0) return -1;
    if (!got && cluster_add(p, c, out->cluster_id, sizeof out->cluster_id, "shared-", "shared", "spare", capacity, now, "", err) < 0)
        return -1;
    snprintf(out->kind, sizeof out->kind, "shared");
    out->slot = 0;
    const char *params[] = {out->cluster_id};
    char spare[STORE_ID_MAX];
    if (pg_command(p, c, "open spare cluster", "UPDATE clusters SET status = 'active' WHERE id = $1", 1, params, NULL, err) < 0 ||
        slot_add(p, c, out->cluster_id, 0, env_id, err) < 0)
        return -1;
    return cluster_add(p, c, spare, sizeof spare, "shared-", "shared", "spare", capacity, now, "", err);
}

/* The next slot of the oldest active shared cluster with room (registered ones only: a server named), as
 * columns of a placement row. */
#define PGP_SHARED_ROOM(registered)                                                                            \
    "SELECT id, kind, used, url FROM (SELECT c.id, c.kind, c.seq, c.capacity, c.url, (SELECT count(*) FROM"     \
    " cluster_slots s WHERE s.cluster_id = c.id) AS used FROM clusters c WHERE c.kind = 'shared'"               \
    " AND c.status = 'active'" registered ") t WHERE used < capacity ORDER BY seq LIMIT 1"

/* A registered shared server with room first, then a freed slot (longest ago) of a cluster not draining,
 * else the next slot of the oldest active shared cluster with room, else the spare. */
static int place_shared(pg_pool *p, PGconn *c, const char *env_id, int capacity, int64_t now, store_placement *out, bs_err *err)
{
    int got = place_row(p, c, PGP_SHARED_ROOM(" AND c.url <> ''"), 0, NULL, out, err);
    if (got != 0) return got < 0 ? -1 : slot_add(p, c, out->cluster_id, out->slot, env_id, err);
    got = place_row(p, c,
                    PGP_PLACE_COLUMNS " WHERE s.environment_id IS NULL AND c.kind = 'shared' AND c.status <> 'draining'"
                                      " ORDER BY s.freed_at NULLS FIRST, c.seq, s.slot LIMIT 1",
                    0, NULL, out, err);
    if (got != 0) {
        out->reused = got > 0;
        return got < 0 ? -1
                       : run_tit(p, c, "take slot",
                                 "UPDATE cluster_slots SET environment_id = $3, freed_at = NULL"
                                 " WHERE cluster_id = $1 AND slot = $2::bigint",
                                 out->cluster_id, out->slot, env_id, err);
    }
    got = place_row(p, c, PGP_SHARED_ROOM(""), 0, NULL, out, err);
    if (got > 0) return slot_add(p, c, out->cluster_id, out->slot, env_id, err);
    return got < 0 ? -1 : place_spare(p, c, env_id, capacity, now, out, err);
}

/* The registered active dedicated server (url set) with the fewest environments below its capacity: its
 * next slot number into out. 1, 0 (none) or -1. */
static int place_server_dedicated(pg_pool *p, PGconn *c, store_placement *out, bs_err *err)
{
    return place_row(p, c,
                     "SELECT c.id, c.kind, (SELECT coalesce(max(s.slot) + 1, 0) FROM cluster_slots s WHERE s.cluster_id = c.id),"
                     " c.url FROM clusters c WHERE c.kind = 'dedicated' AND c.status = 'active' AND c.url <> ''"
                     " AND " PGP_CLUSTER_USED " < c.capacity ORDER BY " PGP_CLUSTER_USED ", c.seq LIMIT 1",
                     0, NULL, out, err);
}

typedef struct place_args {
    const char *env_id;
    int dedicated, capacity;
    int64_t now;
    store_placement *out;
} place_args;

static int place_on(pg_pool *p, PGconn *c, void *arg, bs_err *err)
{
    place_args *a = arg;
    store_placement *out = a->out;
    if (pg_command(p, c, "placement lock", "SELECT pg_advisory_xact_lock(" PG_LOCK_PLACEMENT ")", 0, NULL, NULL, err) < 0) return -1;
    int got = place_find(p, c, a->env_id, out, err);
    if (got != 0) return got < 0 ? -1 : 0;
    int rc;
    if (a->dedicated && (got = place_server_dedicated(p, c, out, err)) != 0) {
        rc = got < 0 ? -1 : slot_add(p, c, out->cluster_id, out->slot, a->env_id, err);
    } else if (a->dedicated) {
        snprintf(out->cluster_id, sizeof out->cluster_id, "dedicated-%.26s", a->env_id);
        snprintf(out->kind, sizeof out->kind, "dedicated");
        out->slot = 0;
        rc = cluster_add(p, c, out->cluster_id, sizeof out->cluster_id, NULL, "dedicated", "active", 1, a->now, "", err);
        if (rc == 0) rc = slot_add(p, c, out->cluster_id, 0, a->env_id, err);
    } else {
        rc = place_shared(p, c, a->env_id, a->capacity, a->now, out, err);
    }
    return rc < 0 ? -1
                  : run_tit(p, c, "set placement", "UPDATE environments SET cluster = $1, slot = $2::bigint WHERE id = $3",
                            out->cluster_id, out->slot, a->env_id, err);
}

static int pgp_env_place(void *driver, const char *env_id, int dedicated, int capacity, int64_t now, store_placement *out,
                         bs_err *err)
{
    memset(out, 0, sizeof *out);
    place_args a = {env_id, dedicated, capacity, now, out};
    int rc = in_tx(driver, place_on, &a, err);
    if (rc < 0) memset(out, 0, sizeof *out);
    return rc;
}

static int pgp_env_placement(void *driver, const char *env_id, store_placement *out, int *found, bs_err *err)
{
    memset(out, 0, sizeof *out);
    *found = 0;
    int got = place_find(pool_of(driver), NULL, env_id, out, err);
    if (got < 0) {
        memset(out, 0, sizeof *out);
        return -1;
    }
    *found = got;
    return 0;
}

/* ---- moving an environment (store_control_env_move_target / _commit) ---- */

static int pgp_env_move_target(void *driver, const char *env_id, const char *cluster_id, store_placement *out, bs_err *err)
{
    memset(out, 0, sizeof *out);
    const char *params[] = {cluster_id, env_id};
    PGresult *r = pg_exec1(pool_of(driver), "move target",
        "SELECT c.kind, c.status, c.capacity, c.url, (SELECT count(*) FROM cluster_slots s WHERE s.cluster_id = c.id"
        " AND s.environment_id IS NOT NULL), COALESCE((SELECT min(s.slot) FROM cluster_slots s WHERE s.cluster_id = c.id"
        " AND s.environment_id IS NULL AND c.kind = 'shared'), (SELECT COALESCE(max(s.slot) + 1, 0) FROM cluster_slots s"
        " WHERE s.cluster_id = c.id)), COALESCE((SELECT s.cluster_id FROM cluster_slots s WHERE s.environment_id = $2), '')"
        " FROM clusters c WHERE c.id = $1", 2, params, err);
    if (!r) return -1;
    int found = PQntuples(r) > 0, rc = 0, capacity = 0, used = 0;
    char status[STORE_ENUM_MAX] = "", current[STORE_ID_MAX] = "";
    if (found) {
        rc = pg_text(r, 0, 0, out->kind, sizeof out->kind, err) | pg_text(r, 0, 1, status, sizeof status, err) |
             pg_text(r, 0, 3, out->url, sizeof out->url, err) | pg_text(r, 0, 6, current, sizeof current, err);
        capacity = (int)pg_i64(r, 0, 2);
        used = (int)pg_i64(r, 0, 4);
        out->slot = (int)pg_i64(r, 0, 5);
        snprintf(out->cluster_id, sizeof out->cluster_id, "%s", cluster_id);
    }
    PQclear(r);
    if (rc == 0) rc = store_move_target_check(found, status, capacity, used, out->url, current, cluster_id, err);
    if (rc < 0) memset(out, 0, sizeof *out);
    return rc < 0 ? -1 : 0;
}

typedef struct move_args {
    const char *env_id;
    const store_placement *to;
    int64_t now;
} move_args;

static int move_on(pg_pool *p, PGconn *c, void *arg, bs_err *err)
{
    move_args *a = arg;
    char slot[PG_INT64_TEXT];
    const char *where[] = {a->to->cluster_id, pg_fmt_int64(slot, a->to->slot)};
    if (pg_command(p, c, "placement lock", "SELECT pg_advisory_xact_lock(" PG_LOCK_PLACEMENT ")", 0, NULL, NULL, err) < 0) return -1;
    PGresult *r = pg_exec(p, c, "move", "SELECT COALESCE(environment_id, '') FROM cluster_slots WHERE cluster_id = $1"
                          " AND slot = $2::bigint", 2, where, err);
    if (!r) return -1;
    int exists = PQntuples(r) > 0, taken = exists && PQgetlength(r, 0, 0) > 0;
    PQclear(r);
    if (taken) return bs_err_set(err, 409, "common/conflict", "Another environment took the place meanwhile");
    store_placement old;
    memset(&old, 0, sizeof old);
    int had = place_find(p, c, a->env_id, &old, err), rc = 0;
    if (had < 0) return -1;
    char at[PG_INT64_TEXT];
    const char *env[] = {a->env_id, pg_fmt_int64(at, a->now)}, *cluster[] = {old.cluster_id};
    if (had && !strcmp(old.kind, "dedicated")) {
        rc = pg_command(p, c, "move", "DELETE FROM cluster_slots WHERE environment_id = $1", 1, env, NULL, err);
        if (rc == 0 && !old.url[0]) rc = pg_command(p, c, "move", "DELETE FROM clusters WHERE id = $1", 1, cluster, NULL, err);
    } else if (had) {
        rc = pg_command(p, c, "move", "UPDATE cluster_slots SET environment_id = NULL, freed_at = $2::bigint"
                        " WHERE environment_id = $1", 2, env, NULL, err);
    }
    if (rc == 0)
        rc = run_tit(p, c, "move", exists ? "UPDATE cluster_slots SET environment_id = $3, freed_at = NULL WHERE cluster_id = $1"
                                            " AND slot = $2::bigint"
                                          : "INSERT INTO cluster_slots (cluster_id, slot, environment_id) VALUES ($1, $2::bigint, $3)",
                     a->to->cluster_id, a->to->slot, a->env_id, err);
    return rc < 0 ? -1
                  : run_tit(p, c, "set placement", "UPDATE environments SET cluster = $1, slot = $2::bigint WHERE id = $3",
                            a->to->cluster_id, a->to->slot, a->env_id, err);
}

static int pgp_env_move_commit(void *driver, const char *env_id, const store_placement *to, int64_t now, bs_err *err)
{
    move_args a = {env_id, to, now};
    return in_tx(driver, move_on, &a, err);
}

typedef struct reclaim_args {
    int64_t now, *count;
} reclaim_args;

static int reclaim_on(pg_pool *p, PGconn *c, void *arg, bs_err *err)
{
    reclaim_args *a = arg;
    char t[PG_INT64_TEXT];
    const char *params[] = {pg_fmt_int64(t, a->now)};
    if (pg_command(p, c, "placement lock", "SELECT pg_advisory_xact_lock(" PG_LOCK_PLACEMENT ")", 0, NULL, NULL, err) < 0 ||
        pg_command(p, c, "reclaim dedicated clusters",
                   "DELETE FROM clusters WHERE kind = 'dedicated' AND url = '' AND id IN (SELECT cluster_id FROM cluster_slots"
                   " WHERE environment_id IS NOT NULL AND environment_id NOT IN (SELECT id FROM environments))",
                   0, NULL, NULL, err) < 0)
        return -1;
    int64_t servers = 0; /* a registered dedicated server's slot goes with its environment */
    if (pg_command(p, c, "reclaim dedicated servers' slots",
                   "DELETE FROM cluster_slots WHERE environment_id IS NOT NULL AND environment_id NOT IN (SELECT id FROM environments)"
                   " AND cluster_id IN (SELECT id FROM clusters WHERE kind = 'dedicated')",
                   0, NULL, &servers, err) < 0 ||
        pg_command(p, c, "reclaim slots",
                   "UPDATE cluster_slots SET environment_id = NULL, freed_at = $1::bigint"
                   " WHERE environment_id IS NOT NULL AND environment_id NOT IN (SELECT id FROM environments)",
                   1, params, a->count, err) < 0)
        return -1;
    *a->count += servers;
    return 0;
}

static int pgp_slots_reclaim(void *driver, int64_t now, int64_t *count, bs_err *err)
{
    *count = 0;
    reclaim_args a = {now, count};
    int rc = in_tx(driver, reclaim_on, &a, err);
    if (rc < 0) *count = 0;
    return rc;
}

static int pgp_cluster_list(void *driver, store_cluster *out, size_t max, size_t *count, bs_err *err)
{
    return list_by(driver, "list clusters",
                   "SELECT c.id, c.kind, c.status, c.capacity, c.created_at, (SELECT count(*) FROM cluster_slots s"
                   " WHERE s.cluster_id = c.id AND s.environment_id IS NOT NULL), c.url FROM clusters c ORDER BY c.seq LIMIT $1",
                   0, NULL, cluster_read, out, sizeof *out, max, count, err);
}

typedef struct cluster_add_args {
    const store_cluster *cl;
    int64_t now;
} cluster_add_args;

/* Under the placement lock: seq is read and written by every registration. */
static int cluster_add_on(pg_pool *p, PGconn *c, void *arg, bs_err *err)
{
    cluster_add_args *a = arg;
    char id[STORE_ID_MAX];
    snprintf(id, sizeof id, "%s", a->cl->id);
    if (pg_command(p, c, "placement lock", "SELECT pg_advisory_xact_lock(" PG_LOCK_PLACEMENT ")", 0, NULL, NULL, err) < 0) return -1;
    return cluster_add(p, c, id, sizeof id, NULL, a->cl->kind, "active", a->cl->capacity, a->now, a->cl->url, err);
}

static int pgp_cluster_add(void *driver, const store_cluster *cl, int64_t now, bs_err *err)
{
    cluster_add_args a = {cl, now};
    return in_tx(driver, cluster_add_on, &a, err);
}

static int pgp_cluster_set_status(void *driver, const char *id, const char *status, int *found, bs_err *err)
{
    const char *params[] = {id, status};
    return change(driver, "cluster status", "UPDATE clusters SET status = $2 WHERE id = $1", 2, params, found, err);
}

/* ---- the activity log ---- */

static int pgp_activity_add(void *driver, const store_activity *a, bs_err *err)
{
    char at[PG_INT64_TEXT];
    const char *params[] = {a->organization_id, a->project_id, a->actor, a->actor_type,
                            a->entity_type,     a->entity_id,  a->action,   a->message, pg_fmt_int64(at, a->at),
                            a->environment};
    return pg_command1(pool_of(driver), "insert activity",
                       "INSERT INTO activity (organization_id, project_id, actor, actor_type, entity_type, entity_id, action,"
                       " message, at, environment) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::bigint, $10)",
                       10, params, NULL, err);
}

/* Newest first: a page of at most q->limit from q->offset, and *total = all that match. */
static int pgp_activity_list(void *driver, const store_activity_query *q, store_activity *out, size_t *count, int64_t *total,
                             bs_err *err)
{
    *count = 0;
    *total = 0;
    char lim[PG_INT64_TEXT], off[PG_INT64_TEXT];
    const char *params[] = {q->organization_id, q->entity_type, q->action, q->search, q->project_id, q->environment,
                            fmt_limit(lim, q->limit), pg_fmt_int64(off, q->offset < 0 ? 0 : q->offset)};
    if (list_rows(driver, "list activity",
                  "SELECT id, organization_id, project_id, actor, actor_type, entity_type, entity_id, action, message, at,"
                  " environment FROM activity" PGP_ACTIVITY_WHERE " ORDER BY at DESC, id DESC LIMIT $7 OFFSET $8",
                  8, params, activity_read, out, sizeof *out, q->limit, count, err) < 0)
        return -1;
    if (query_int(pool_of(driver), NULL, "count activity", "SELECT count(*) FROM activity" PGP_ACTIVITY_WHERE, 6, params, total,
                  err) < 0) {
        *count = 0;
        *total = 0;
        return -1;
    }
    return 0;
}

/* ---- outbox ---- */

static int pgp_outbox_add(void *driver, const store_mail *m, bs_err *err)
{
    int of_org = !m->environment_id[0];
    char at[PG_INT64_TEXT];
    const char *params[] = {m->id,   of_org ? m->organization_id : m->environment_id, m->to, m->subject,
                            m->body, m->template_name, pg_fmt_int64(at, m->created_at)};
    return pg_command1(pool_of(driver), "insert mail",
                       of_org ? "INSERT INTO org_outbox (id, organization_id, to_addr, subject, body, template, created_at)"
                                " VALUES ($1, $2, $3, $4, $5, $6, $7::bigint)"
                              : "INSERT INTO outbox (id, environment_id, to_addr, subject, body, template, created_at)"
                                " VALUES ($1, $2, $3, $4, $5, $6, $7::bigint)",
                       7, params, NULL, err);
}

/* As the SQLite driver: a field that does not fit is left "" rather than failing the list. */
static int mail_read(const PGresult *r, int row, store_mail *m, int of_org)
{
    bs_err ignored;
    PGP_FIELD(r, row, 0, m->id, &ignored);
    if (of_org) PGP_FIELD(r, row, 1, m->organization_id, &ignored);
    else PGP_FIELD(r, row, 1, m->environment_id, &ignored);
    PGP_FIELD(r, row, 2, m->to, &ignored);
    PGP_FIELD(r, row, 3, m->subject, &ignored);
    PGP_FIELD(r, row, 4, m->body, &ignored);
    PGP_FIELD(r, row, 5, m->template_name, &ignored);
    m->created_at = pg_i64(r, row, 6);
    return 0;
}

static int env_mail_read(const PGresult *r, int row, void *dst, bs_err *err)
{
    (void)err;
    return mail_read(r, row, dst, 0);
}

static int org_mail_read(const PGresult *r, int row, void *dst, bs_err *err)
{
    (void)err;
    return mail_read(r, row, dst, 1);
}

/* Newest first; mail of the same millisecond newest-inserted first (seq, the identity column). */
static int pgp_outbox_list(void *driver, const char *env_id, store_mail *out, size_t max, size_t *count, bs_err *err)
{
    return list_by(driver, "list mail",
                   "SELECT id, environment_id, to_addr, subject, body, template, created_at FROM outbox"
                   " WHERE environment_id = $1 ORDER BY created_at DESC, seq DESC LIMIT $2",
                   1, env_id, env_mail_read, out, sizeof *out, max, count, err);
}

static int pgp_org_outbox_list(void *driver, const char *org_id, store_mail *out, size_t max, size_t *count, bs_err *err)
{
    return list_by(driver, "list organization mail",
                   "SELECT id, organization_id, to_addr, subject, body, template, created_at FROM org_outbox"
                   " WHERE organization_id = $1 ORDER BY created_at DESC, seq DESC LIMIT $2",
                   1, org_id, org_mail_read, out, sizeof *out, max, count, err);
}

/* ---- OAuth providers and settings ---- */

static int pgp_provider_put(void *driver, const store_provider *p, bs_err *err)
{
    char t[2][PG_INT64_TEXT];
    const char *params[] = {p->environment_id, p->provider, p->client_id, p->secret_sealed, p->redirect_uris,
                            pg_fmt_int64(t[0], p->enabled), pg_fmt_int64(t[1], p->updated_at)};
    return pg_command1(pool_of(driver), "put provider",
                       "INSERT INTO auth_providers (environment_id, provider, client_id, secret_sealed, redirect_uris, enabled,"
                       " updated_at) VALUES ($1, $2, $3, $4, $5, $6::integer, $7::bigint) ON CONFLICT (environment_id, provider)"
                       " DO UPDATE SET client_id = excluded.client_id, secret_sealed = excluded.secret_sealed,"
                       " redirect_uris = excluded.redirect_uris, enabled = excluded.enabled, updated_at = excluded.updated_at",
                       7, params, NULL, err);
}

static int pgp_provider_get(void *driver, const char *env_id, const char *provider, store_provider *out, int *found, bs_err *err)
{
    *found = 0;
    const char *params[] = {env_id, provider};
    PGresult *r = pg_exec1(pool_of(driver), "get provider",
                           "SELECT environment_id, provider, client_id, secret_sealed, redirect_uris, enabled, updated_at"
                           " FROM auth_providers WHERE environment_id = $1 AND provider = $2",
                           2, params, err);
    if (!r) return -1;
    if (PQntuples(r) > 0) {
        bs_err ignored; /* as the SQLite driver: a field that does not fit is left "" */
        memset(out, 0, sizeof *out);
        PGP_FIELD(r, 0, 0, out->environment_id, &ignored);
        PGP_FIELD(r, 0, 1, out->provider, &ignored);
        PGP_FIELD(r, 0, 2, out->client_id, &ignored);
        PGP_FIELD(r, 0, 3, out->secret_sealed, &ignored);
        PGP_FIELD(r, 0, 4, out->redirect_uris, &ignored);
        out->enabled = (int)pg_i64(r, 0, 5);
        out->updated_at = pg_i64(r, 0, 6);
        *found = 1;
    }
    PQclear(r);
    return 0;
}

static int pgp_setting_put(void *driver, const char *env_id, const char *name, const char *value, int64_t at, bs_err *err)
{
    char t[PG_INT64_TEXT];
    const char *params[] = {env_id, name, value, pg_fmt_int64(t, at)};
    return pg_command1(pool_of(driver), "put setting",
                       "INSERT INTO environment_settings (environment_id, name, value, updated_at)"
                       " VALUES ($1, $2, $3, $4::bigint) ON CONFLICT (environment_id, name)"
                       " DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                       4, params, NULL, err);
}

static int pgp_setting_get(void *driver, const char *env_id, const char *name, char *out, size_t size, int *found, bs_err *err)
{
    *found = 0;
    const char *params[] = {env_id, name};
    PGresult *r = pg_exec1(pool_of(driver), "get setting",
                           "SELECT value FROM environment_settings WHERE environment_id = $1 AND name = $2", 2, params, err);
    if (!r) return -1;
    int rc = 0;
    if (PQntuples(r) > 0) {
        rc = size > 0 ? pg_text(r, 0, 0, out, size, err) : bs_err_internal(err); /* too long: internal error */
        *found = rc == 0;
    }
    PQclear(r);
    return rc;
}

static int pgp_setting_delete(void *driver, const char *env_id, const char *name, int *found, bs_err *err)
{
    const char *params[] = {env_id, name};
    return change(driver, "delete setting", "DELETE FROM environment_settings WHERE environment_id = $1 AND name = $2", 2,
                  params, found, err);
}

void pgc_fill_plane(store_control_ops *ops)
{
    ops->org_update = pgp_org_update;
    ops->org_delete = pgp_org_delete;
    ops->project_list = pgp_project_list;
    ops->project_count = pgp_project_count;
    ops->project_update = pgp_project_update;
    ops->project_delete = pgp_project_delete;
    ops->env_list = pgp_env_list;
    ops->env_set_status = pgp_env_set_status;
    ops->env_touch = pgp_env_touch;
    ops->env_shutdown_idle = pgp_env_shutdown_idle;
    ops->env_deletions_due = pgp_env_deletions_due;
    ops->env_cancel_deletion = pgp_env_cancel_deletion;
    ops->env_place = pgp_env_place;
    ops->env_move_target = pgp_env_move_target;
    ops->env_move_commit = pgp_env_move_commit;
    ops->env_placement = pgp_env_placement;
    ops->slots_reclaim = pgp_slots_reclaim;
    ops->envs_unplaced = pgp_envs_unplaced;
    ops->cluster_list = pgp_cluster_list;
    ops->cluster_add = pgp_cluster_add;
    ops->cluster_set_status = pgp_cluster_set_status;
    ops->activity_add = pgp_activity_add;
    ops->activity_list = pgp_activity_list;
    ops->outbox_add = pgp_outbox_add;
    ops->outbox_list = pgp_outbox_list;
    ops->org_outbox_list = pgp_org_outbox_list;
    ops->provider_put = pgp_provider_put;
    ops->provider_get = pgp_provider_get;
    ops->setting_put = pgp_setting_put;
    ops->setting_get = pgp_setting_get;
    ops->setting_delete = pgp_setting_delete;
}
