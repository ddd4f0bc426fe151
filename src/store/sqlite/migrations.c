#include "store/sqlite/migrations.h"

#include <stddef.h>
#include <stdint.h>

#include "util/clock.h"
#include "util/log.h"

typedef struct migration_step {
    int version;
    const char *sql;
} migration_step;

/* Version 1: tenancy and credentials. Timestamps are epoch milliseconds; a NULL expires_at/revoked_at
 * means never/not revoked (the C side maps it to 0). */
static const char migration_v1[] =
    "CREATE TABLE organizations ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  slug TEXT NOT NULL UNIQUE,"
    "  display_name TEXT NOT NULL DEFAULT '',"
    "  description TEXT NOT NULL DEFAULT '',"
    "  notification_email TEXT,"
    "  plan TEXT NOT NULL DEFAULT 'free',"
    "  status TEXT NOT NULL DEFAULT 'active',"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE projects ("
    "  id TEXT PRIMARY KEY,"
    "  organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  slug TEXT NOT NULL,"
    "  description TEXT NOT NULL DEFAULT '',"
    "  primary_cloud TEXT,"
    "  primary_region TEXT,"
    "  status TEXT NOT NULL DEFAULT 'active',"
    "  settings TEXT NOT NULL DEFAULT '{}',"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  UNIQUE (organization_id, slug)"
    ");"
    "CREATE TABLE environments ("
    "  id TEXT PRIMARY KEY,"
    "  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  cluster TEXT,"
    "  last_access_at INTEGER,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  UNIQUE (project_id, name)"
    ");"
    "CREATE TABLE api_keys ("
    "  id TEXT PRIMARY KEY,"
    "  environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,"
    "  type TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  key_hash TEXT NOT NULL UNIQUE,"
    "  key_hint TEXT NOT NULL,"
    "  scopes TEXT,"
    "  expires_at INTEGER,"
    "  revoked_at INTEGER,"
    "  created_by TEXT,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX api_keys_environment ON api_keys (environment_id);"
    "CREATE TABLE operator_tokens ("
    "  id TEXT PRIMARY KEY,"
    "  organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  role TEXT NOT NULL,"
    "  token_hash TEXT NOT NULL UNIQUE,"
    "  token_hint TEXT NOT NULL,"
    "  expires_at INTEGER,"
    "  revoked_at INTEGER,"
    "  created_by TEXT,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX operator_tokens_organization ON operator_tokens (organization_id);";

/* Append only; versions ascend by one from 1. */
/* v2: per-environment signing secrets (end-user JWTs). */
static const char migration_v2[] =
    "CREATE TABLE environment_secrets ("
    " environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,"
    " kind TEXT NOT NULL,"
    " secret BLOB NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " PRIMARY KEY (environment_id, kind)"
    ");";

/* v3: mail that is not sent through SMTP waits here (development, tests); the management API reads it. */
static const char migration_v3[] =
    "CREATE TABLE outbox ("
    " id TEXT PRIMARY KEY,"
    " environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,"
    " to_addr TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL, template TEXT NOT NULL,"
    " created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX outbox_environment ON outbox (environment_id, created_at);";

/* v4: social login providers per environment; the client secret is sealed (util/crypto) with the
 * server's master key, which is not in this database. */
static const char migration_v4[] =
    "CREATE TABLE auth_providers ("
    " environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,"
    " provider TEXT NOT NULL, client_id TEXT NOT NULL, secret_sealed TEXT NOT NULL, redirect_uris TEXT NOT NULL,"
    " enabled INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    " PRIMARY KEY (environment_id, provider)"
    ");";

/* v5: settings of an environment by name (JSON text): "auth" (sign-in rules), "template:<category>" (mail). */
static const char migration_v5[] =
    "CREATE TABLE environment_settings ("
    " environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL, value TEXT NOT NULL, updated_at INTEGER NOT NULL,"
    " PRIMARY KEY (environment_id, name)"
    ");";

/* v6: the management plane: a plan downgrade waiting for the end of the month, and the activity log
 * (platform.md §8), newest first per organization. */
static const char migration_v6[] =
    "ALTER TABLE organizations ADD COLUMN scheduled_plan TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE organizations ADD COLUMN scheduled_at INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE activity ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,"
    " project_id TEXT NOT NULL DEFAULT '', actor TEXT NOT NULL, actor_type TEXT NOT NULL,"
    " entity_type TEXT NOT NULL, entity_id TEXT NOT NULL, action TEXT NOT NULL, message TEXT NOT NULL,"
    " at INTEGER NOT NULL"
    ");"
    "CREATE INDEX activity_organization ON activity (organization_id, at DESC, id DESC);";

/* v7: the team (platform.md §9): members of an organization (e-mail unique per organization, compared
 * without case; NULL for an owner created without one), invitations (only the SHA-256 of the token is
 * kept; 0 = not yet accepted / revoked), and the member an operator token acts for (NULL: a service token
 * with a role of its own). No foreign key on member_id: a removed member's tokens must stay revoked,
 * never turn into service tokens. */
static const char migration_v7[] =
    "CREATE TABLE members ("
    " id TEXT PRIMARY KEY,"
    " organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,"
    " email TEXT COLLATE NOCASE, name TEXT NOT NULL, role TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'active',"
    " invited_by TEXT NOT NULL DEFAULT '', joined_at INTEGER NOT NULL,"
    " UNIQUE (organization_id, email)"
    ");"
    "CREATE TABLE invitations ("
    " id TEXT PRIMARY KEY,"
    " organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,"
    " email TEXT NOT NULL COLLATE NOCASE, name TEXT NOT NULL, role TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,"
    " invited_by TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
    " accepted_at INTEGER NOT NULL DEFAULT 0, revoked_at INTEGER NOT NULL DEFAULT 0, member_id TEXT NOT NULL DEFAULT ''"
    ");"
    "CREATE INDEX invitations_organization ON invitations (organization_id, created_at DESC);"
    "ALTER TABLE operator_tokens ADD COLUMN member_id TEXT;"
    "CREATE INDEX operator_tokens_member ON operator_tokens (member_id);";

/* v8: inactivity (platform.md §5.8): when an environment was shut down, when it is to be deleted (0: not
 * scheduled or cancelled) and the state a request brings it back to. v7 is the team's. */
static const char migration_v8[] =
    "ALTER TABLE environments ADD COLUMN shutdown_at INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE environments ADD COLUMN delete_at INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE environments ADD COLUMN status_before TEXT NOT NULL DEFAULT '';";

/* v9: placement (platform.md §5.1, §5.5): registered clusters (shared ones hold many dev environments in
 * numbered slots, a dedicated one holds one environment) and their slots; a slot whose environment was
 * deleted keeps its row with environment_id NULL and freed_at set, the reuse queue. */
static const char migration_v9[] =
    "CREATE TABLE clusters ("
    " id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL, capacity INTEGER NOT NULL,"
    " created_at INTEGER NOT NULL, seq INTEGER NOT NULL"
    ");"
    "CREATE TABLE cluster_slots ("
    " cluster_id TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE, slot INTEGER NOT NULL,"
    " environment_id TEXT, freed_at INTEGER,"
    " PRIMARY KEY (cluster_id, slot)"
    ");"
    "CREATE UNIQUE INDEX cluster_slots_environment ON cluster_slots (environment_id) WHERE environment_id IS NOT NULL;"
    "CREATE INDEX cluster_slots_free ON cluster_slots (freed_at, cluster_id, slot) WHERE environment_id IS NULL;"
    "ALTER TABLE environments ADD COLUMN slot INTEGER NOT NULL DEFAULT 0;";

/* v10: mail of an organization rather than of an environment (team invitations, usage alerts), kept here
 * when no SMTP server is configured, like the environments' outbox. */
static const char migration_v10[] =
    "CREATE TABLE org_outbox ("
    " id TEXT PRIMARY KEY,"
    " organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,"
    " to_addr TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL, template TEXT NOT NULL,"
    " created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX org_outbox_organization ON org_outbox (organization_id, created_at);";

/* v11: usage metering (platform.md §6, docs/usage.md): one row per (environment, metric, period, bucket)
 * with the organization and project it belongs to (kept after the environment is deleted: its usage still
 * counts), the per-endpoint counts of api_call rows, the users already counted in a month's MAU, and the
 * roll-up's watermark. */
static const char migration_v11[] =
    "CREATE TABLE usage ("
    " environment_id TEXT NOT NULL, metric TEXT NOT NULL, period TEXT NOT NULL, period_start INTEGER NOT NULL,"
    " organization_id TEXT NOT NULL, project_id TEXT NOT NULL, environment TEXT NOT NULL DEFAULT '',"
    " value INTEGER NOT NULL DEFAULT 0, success_count INTEGER NOT NULL DEFAULT 0, failure_count INTEGER NOT NULL DEFAULT 0,"
    " response_us INTEGER NOT NULL DEFAULT 0, peak INTEGER NOT NULL DEFAULT 0, min_value INTEGER NOT NULL DEFAULT 0,"
    " updated_at INTEGER NOT NULL,"
    " PRIMARY KEY (environment_id, metric, period, period_start)"
    ") WITHOUT ROWID;"
    "CREATE INDEX usage_organization ON usage (organization_id, metric, period, period_start);"
    "CREATE INDEX usage_period ON usage (period, period_start);"
    "CREATE TABLE usage_endpoints ("
    " environment_id TEXT NOT NULL, metric TEXT NOT NULL, period TEXT NOT NULL, period_start INTEGER NOT NULL,"
    " organization_id TEXT NOT NULL, endpoint TEXT NOT NULL, count INTEGER NOT NULL,"
    " PRIMARY KEY (environment_id, metric, period, period_start, endpoint)"
    ") WITHOUT ROWID;"
    "CREATE INDEX usage_endpoints_period ON usage_endpoints (period, period_start);"
    "CREATE TABLE usage_mau ("
    " environment_id TEXT NOT NULL, month_start INTEGER NOT NULL, user_id TEXT NOT NULL, first_seen INTEGER NOT NULL,"
    " PRIMARY KEY (environment_id, month_start, user_id)"
    ") WITHOUT ROWID;"
    "CREATE TABLE usage_state (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;";

/* v12: usage alerts, once per (organization, metric, month, threshold), and the webhook deliveries they
 * cause with their attempts (v11 is the usage rows'). */
static const char migration_v12[] =
    "CREATE TABLE usage_alerts ("
    " id TEXT PRIMARY KEY,"
    " organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,"
    " metric TEXT NOT NULL, month TEXT NOT NULL, threshold INTEGER NOT NULL, used INTEGER NOT NULL,"
    " quota INTEGER NOT NULL, created_at INTEGER NOT NULL,"
    " UNIQUE (organization_id, metric, month, threshold)"
    ");"
    "CREATE TABLE webhook_deliveries ("
    " id TEXT PRIMARY KEY,"
    " organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,"
    " project_id TEXT NOT NULL, alert_id TEXT NOT NULL, url TEXT NOT NULL, payload TEXT NOT NULL,"
    " status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_status INTEGER NOT NULL DEFAULT 0,"
    " last_error TEXT NOT NULL DEFAULT '', next_at INTEGER NOT NULL, created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_at);"
    "CREATE INDEX webhook_deliveries_organization ON webhook_deliveries (organization_id, created_at);"
    "ALTER TABLE organizations ADD COLUMN api_call_quota INTEGER;"; /* an operator's override of the plan's, NULL none */

/* v13: every organization has an Owner member (platform.md §2.1): organizations bootstrapped before the
 * team existed get one, and their bootstrap token acts as it. */
static const char migration_v13[] =
    "INSERT INTO members (id, organization_id, email, name, role, status, invited_by, joined_at)"
    " SELECT 'mem_' || lower(hex(randomblob(10))), o.id, NULL, 'Owner', 'owner', 'active', '', o.created_at"
    " FROM organizations o WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.organization_id = o.id AND m.role = 'owner');"
    "UPDATE operator_tokens SET member_id = (SELECT m.id FROM members m WHERE m.organization_id = operator_tokens.organization_id"
    " AND m.role = 'owner' ORDER BY m.joined_at LIMIT 1)"
    " WHERE name = 'bootstrap' AND member_id IS NULL AND role = 'owner';";

/* v14: the operator's overrides of the plan's other monthly quotas (NULL: the plan's). */
static const char migration_v14[] =
    "ALTER TABLE organizations ADD COLUMN storage_quota INTEGER;"
    "ALTER TABLE organizations ADD COLUMN mau_quota INTEGER;"
    "ALTER TABLE organizations ADD COLUMN bandwidth_quota INTEGER;";

/* v15: the web console's sessions (SHA-256 of the cookie, bound to the operator token they act with) and
 * its one-time sign-in links (SHA-256 of the code). */
static const char migration_v15[] =
    "CREATE TABLE console_sessions ("
    " session_hash TEXT PRIMARY KEY,"
    " token_id TEXT NOT NULL REFERENCES operator_tokens(id) ON DELETE CASCADE,"
    " csrf_token TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX console_sessions_token ON console_sessions (token_id);"
    "CREATE INDEX console_sessions_expires ON console_sessions (expires_at);"
    "CREATE TABLE console_links ("
    " code_hash TEXT PRIMARY KEY,"
    " organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,"
    " created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, used_at INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE INDEX console_links_expires ON console_links (expires_at);";

/* v16: clusters as data: a registered cluster may name its own database server (a PostgreSQL URL; '' =
 * the default --env-store); status 'draining' takes no new placement. */
static const char migration_v16[] = "ALTER TABLE clusters ADD COLUMN url TEXT NOT NULL DEFAULT '';";

/* v17: the activity log names the environment of an environment-level change ('' = project or
 * organization level), and a project's entries are read newest first without scanning the organization's. */
static const char migration_v17[] =
    "ALTER TABLE activity ADD COLUMN environment TEXT NOT NULL DEFAULT '';"
    "CREATE INDEX activity_project ON activity (organization_id, project_id, at DESC, id DESC);";

/* v18: leases of the background jobs one instance of a fleet runs at a time (store_control_lease_take). */
static const char migration_v18[] =
    "CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, fence INTEGER NOT NULL, expires_at INTEGER NOT NULL);";

static const migration_step migration_steps[] = {
    {1, migration_v1},
    {2, migration_v2},
    {3, migration_v3},
    {4, migration_v4},
    {5, migration_v5},
    {6, migration_v6},
    {7, migration_v7},
    {8, migration_v8},
    {9, migration_v9},
    {10, migration_v10},
    {11, migration_v11},
    {12, migration_v12},
    {13, migration_v13},
    {14, migration_v14},
    {15, migration_v15},
    {16, migration_v16},
    {17, migration_v17},
    {18, migration_v18},
};

#define MIGRATION_COUNT ((int)(sizeof migration_steps / sizeof migration_steps[0]))

int store_sqlite_migrations_count(void)
{
    return MIGRATION_COUNT;
}

int store_sqlite_migrations_latest(void)
{
    return migration_steps[MIGRATION_COUNT - 1].version;
}

static int migration_fail(sqlite3 *db, const char *what, bs_err *err)
{
    log_error("control store migration: %s failed: %s (%d)", what, sqlite3_errmsg(db),
              sqlite3_extended_errcode(db));
    return bs_err_internal(err);
}

static int migration_exec(sqlite3 *db, const char *sql, const char *what, bs_err *err)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) return migration_fail(db, what, err);
    return 0;
}

/* Runs a one-row, one-integer query with an optional integer parameter (-1: none). */
static int migration_query_int(sqlite3 *db, const char *sql, int param, int *out, bs_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return migration_fail(db, "prepare", err);
    if (param >= 0) sqlite3_bind_int(st, 1, param);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *out = sqlite3_column_int(st, 0);
    else migration_fail(db, "query", err);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

static int migration_record(sqlite3 *db, int version, bs_err *err)
{
    sqlite3_stmt *st = NULL;
    const char *sql = "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return migration_fail(db, "prepare", err);
    sqlite3_bind_int(st, 1, version);
    sqlite3_bind_int64(st, 2, clock_now_ms());
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) migration_fail(db, "record version", err);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Applies one step in its own transaction unless already applied. */
static int migration_apply(sqlite3 *db, const migration_step *step, bs_err *err)
{
    if (migration_exec(db, "BEGIN IMMEDIATE", "begin", err) != 0) return -1;
    int applied = 0;
    int rc = migration_query_int(db, "SELECT COUNT(*) FROM schema_migrations WHERE version = ?", step->version,
                                 &applied, err);
    if (rc == 0 && !applied) {
        rc = migration_exec(db, step->sql, "schema step", err);
        if (rc == 0) rc = migration_record(db, step->version, err);
    }
    if (rc == 0) rc = migration_exec(db, "COMMIT", "commit", err);
    if (rc != 0) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

int store_sqlite_migrate(sqlite3 *db, int *version, bs_err *err)
{
    const char *create = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                         "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)";
    if (migration_exec(db, "BEGIN IMMEDIATE", "begin", err) != 0) return -1;
    if (migration_exec(db, create, "create schema_migrations", err) != 0 ||
        migration_exec(db, "COMMIT", "commit", err) != 0) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    int current = 0;
    const char *max_sql = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
    if (migration_query_int(db, max_sql, -1, &current, err) != 0) return -1;
    if (current > store_sqlite_migrations_latest())
        return bs_err_set(err, 500, "common/internal-error",
                          "control store schema version %d is newer than this build supports (%d)", current,
                          store_sqlite_migrations_latest());
    /* Every step not recorded yet, even below the highest one: steps written in parallel may land out of
     * order (a database at 8 without 7 still gets 7); migration_apply skips the applied ones. */
    for (int i = 0; i < MIGRATION_COUNT; i++)
        if (migration_apply(db, &migration_steps[i], err) != 0) return -1;
    return migration_query_int(db, max_sql, -1, version, err);
}
