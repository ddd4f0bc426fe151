/* control_sqlite: see control_sqlite.h.
 *
 * Connections. SQLite connections are opened with SQLITE_OPEN_NOMUTEX and never shared: each thread gets
 * its own on first use, found again through a per-store pthread key, with its prepared statements cached
 * in an array indexed by stmt_id (prepared lazily, once, with SQLITE_PREPARE_PERSISTENT; every use ends
 * with reset + clear bindings).
 *
 * Closing. A connection is closed either by its thread's exit (the key destructor) or by the driver's
 * free. Both paths unlink it from one process-wide registry under one process-wide mutex before
 * closing, so exactly one of them closes it. The mutex and registry are global rather than per store
 * because a thread's destructor may run after (or while) the store that created the key is freed: free
 * calls pthread_key_delete first, after which no new destructor starts for that key, and a destructor
 * already under way finds its connection gone from the registry and does nothing. The destructor only
 * claims a registered connection that belongs to the calling thread, so an address reused by another
 * thread's new connection is never mistaken for its own. */
#include "store/sqlite/control_sqlite.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/sqlite/migrations.h"
#include "store/sqlite/sq.h"
#include "util/clock.h"
#include "util/log.h"

#define SQ_BUSY_TIMEOUT_MS 5000
#define SQ_STR_(x) #x
#define SQ_STR(x) SQ_STR_(x) /* a numeric macro as SQL text */
#define SQ_SETUP_SQL                                                                                          \
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "                            \
    "PRAGMA mmap_size=268435456;"

typedef enum stmt_id {
    ST_PING,
    ST_VERSION,
    ST_IS_EMPTY,
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_ORG_INSERT,
    ST_PROJECT_INSERT,
    ST_ENV_INSERT,
    ST_KEY_INSERT,
    ST_TOKEN_INSERT,
    ST_ORG_GET,
    ST_ENV_GET,
    ST_KEY_REVOKE,
    ST_TOKEN_REVOKE,
    ST_ENV_DELETE,
    ST_KEY_LOOKUP,
    ST_TOKEN_LOOKUP,
    ST_PROJECT_GET,
    ST_ENV_FIND,
    ST_KEY_LIST,
    ST_KEY_COUNT,
    ST_KEY_GET,
    ST_SECRET_ADD,
    ST_SECRET_GET,
    ST_OUTBOX_ADD,
    ST_OUTBOX_LIST,
    ST_ORG_OUTBOX_ADD,
    ST_ORG_OUTBOX_LIST,
    ST_PROVIDER_PUT,
    ST_PROVIDER_GET,
    ST_SETTING_PUT,
    ST_SETTING_GET,
    ST_SETTING_DELETE,
    ST_ORG_UPDATE,
    ST_ORG_DELETE,
    ST_PROJECT_LIST,
    ST_PROJECT_COUNT,
    ST_PROJECT_UPDATE,
    ST_PROJECT_DELETE,
    ST_ENV_LIST,
    ST_ENV_SET_STATUS,
    ST_ACTIVITY_ADD,
    ST_ACTIVITY_LIST,
    ST_ACTIVITY_COUNT,
    ST_ENV_REACTIVATE,
    ST_ENV_TOUCH,
    ST_ENV_SHUTDOWN_IDLE,
    ST_ENV_DELETIONS_DUE,
    ST_ENV_CANCEL_DELETION,
    ST_PLACE_FIND,
    ST_PLACE_REUSE,
    ST_PLACE_TAKE,
    ST_PLACE_ROOM,
    ST_PLACE_SERVER_SHARED,
    ST_PLACE_SERVER_DEDICATED,
    ST_PLACE_SLOT_ADD,
    ST_PLACE_SPARE,
    ST_CLUSTER_NEXT_SEQ,
    ST_CLUSTER_ADD,
    ST_CLUSTER_ACTIVATE,
    ST_CLUSTER_SET_STATUS,
    ST_SLOTS_RECLAIM_SERVERS,
    ST_ENV_SET_PLACE,
    ST_SLOTS_RECLAIM_DEDICATED,
    ST_SLOTS_RECLAIM,
    ST_CLUSTER_LIST,
    ST_ENVS_UNPLACED,
    ST_MEMBER_INSERT,
    ST_MEMBER_GET,
    ST_MEMBER_BY_EMAIL,
    ST_MEMBER_LIST,
    ST_MEMBER_COUNT,
    ST_MEMBER_OWNERS,
    ST_MEMBER_SET_ROLE,
    ST_MEMBER_DELETE,
    ST_MEMBER_TOKENS_REVOKE,
    ST_MEMBER_DEMOTE_OWNERS,
    ST_TOKEN_LIST,
    ST_TOKEN_GET,
    ST_INVITE_DISCARD,
    ST_INVITE_INSERT,
    ST_INVITE_GET,
    ST_INVITE_LOOKUP,
    ST_INVITE_LIST,
    ST_INVITE_COUNT,
    ST_INVITE_REVOKE,
    ST_INVITE_ACCEPT,
    ST_ALERT_ADD,
    ST_ALERT_LIST,
    ST_ALERT_LIST_ALL,
    ST_DELIVERY_ADD,
    ST_DELIVERY_DUE,
    ST_DELIVERY_CLAIM,
    ST_DELIVERY_UPDATE,
    ST_DELIVERY_LIST,
    ST_USAGE_SUM,
    ST_USAGE_GAUGE_SUM,
    ST_USAGE_STATE_GET,
    ST_USAGE_STATE_PUT,
    ST_USAGE_ADD,
    ST_USAGE_ENDPOINT_ADD,
    ST_USAGE_MAU_ADD,
    ST_USAGE_MAU_KNOWN,
    ST_USAGE_LIST,
    ST_USAGE_COUNT,
    ST_USAGE_DAILY,
    ST_USAGE_DAILY_GAUGE,
    ST_USAGE_DAILY_ENDPOINTS,
    ST_USAGE_MONTHLY,
    ST_USAGE_MONTHLY_GAUGE,
    ST_USAGE_MONTHLY_ENDPOINTS,
    ST_USAGE_PURGE,
    ST_USAGE_PURGE_ENDPOINTS,
    ST_USAGE_PURGE_MAU,
    ST_USAGE_PURGE_ORPHANS,
    ST_USAGE_PURGE_ORPHAN_ENDPOINTS,
    ST_USAGE_ENVS,
    ST_CONSOLE_SESSION_PRUNE,
    ST_CONSOLE_SESSION_INSERT,
    ST_CONSOLE_SESSION_LOOKUP,
    ST_CONSOLE_SESSION_DELETE,
    ST_CONSOLE_TOKENS_PRUNE,
    ST_CONSOLE_LINK_PRUNE,
    ST_CONSOLE_LINK_INSERT,
    ST_CONSOLE_LINK_CONSUME,
    ST_LEASE_TAKE,
    ST_LEASE_RELEASE,
    ST_COUNT
} stmt_id;

/* The columns sq_org_read, sq_project_read and sq_env_read expect, in their order. */
#define SQ_ORG_COLUMNS                                                                                        \
    "id, name, slug, plan, status, created_at, updated_at, display_name, description,"                        \
    " COALESCE(notification_email, ''), scheduled_plan, scheduled_at, COALESCE(api_call_quota, -1),"             \
    " COALESCE(storage_quota, -1), COALESCE(mau_quota, -1), COALESCE(bandwidth_quota, -1)"
#define SQ_PROJECT_COLUMNS                                                                                    \
    "id, organization_id, name, slug, status, created_at, updated_at, description,"                           \
    " COALESCE(primary_cloud, ''), COALESCE(primary_region, ''), settings"
#define SQ_ENV_COLUMNS                                                                                        \
    "id, project_id, name, type, status, created_at, updated_at, COALESCE(last_access_at, 0), shutdown_at, delete_at,"     \
    " COALESCE(cluster, ''), slot"
/* The idle period of an environment: ?2 for dev, ?3 for the others. */
#define SQ_ENV_IDLE "(CASE type WHEN 'dev' THEN ?2 ELSE ?3 END)"
/* Activity filters: ?1 organization, ?2 entity type, ?3 action, ?4 search (NULL = any). */
#define SQ_ACTIVITY_WHERE                                                                                     \
    " WHERE organization_id = ?1 AND (?2 IS NULL OR entity_type = ?2) AND (?3 IS NULL OR action = ?3)"        \
    " AND (?4 IS NULL OR instr(lower(message), lower(?4)) > 0) AND (?5 IS NULL OR project_id = ?5)"           \
    " AND (?6 IS NULL OR environment = ?6)"

/* Team: the columns sq_member_read, sq_token_row_read and sq_invitation_read expect, in their order. A
 * member-bound token has its member's role; one whose member is gone reads as revoked. */
#define SQ_MEMBER_COLUMNS "id, organization_id, COALESCE(email, ''), name, role, status, invited_by, joined_at"
#define SQ_TOKEN_ROLE "COALESCE(m.role, t.role)"
#define SQ_TOKEN_REVOKED "(CASE WHEN t.member_id IS NOT NULL AND m.id IS NULL THEN COALESCE(t.revoked_at, 1) ELSE t.revoked_at END)"
#define SQ_TOKEN_FROM                                                                                         \
    " FROM operator_tokens t LEFT JOIN members m ON m.id = t.member_id AND m.organization_id = t.organization_id"
#define SQ_TOKEN_ROW_COLUMNS                                                                                  \
    "t.id, t.organization_id, t.name, " SQ_TOKEN_ROLE ", t.token_hash, t.token_hint, t.expires_at, t.created_at,"   \
    " COALESCE(t.member_id, ''), " SQ_TOKEN_REVOKED
#define SQ_INVITE_COLUMNS                                                                                     \
    "id, organization_id, email, name, role, token_hash, invited_by, member_id, created_at, expires_at,"      \
    " accepted_at, revoked_at"
/* Member filters: ?1 organization, ?2 role, ?3 search (NULL = any). */
#define SQ_MEMBER_WHERE                                                                                       \
    " WHERE organization_id = ?1 AND (?2 IS NULL OR role = ?2) AND (?3 IS NULL OR instr(lower(name), lower(?3)) > 0" \
    " OR instr(lower(COALESCE(email, '')), lower(?3)) > 0)"
/* Invitation filters: ?1 organization, ?2 now, ?3 status (NULL = any). */
#define SQ_INVITE_STATUS                                                                                      \
    "(CASE WHEN accepted_at > 0 THEN 'accepted' WHEN revoked_at > 0 THEN 'revoked'"                           \
    " WHEN expires_at <= ?2 THEN 'expired' ELSE 'pending' END)"
#define SQ_INVITE_WHERE " WHERE organization_id = ?1 AND (?3 IS NULL OR " SQ_INVITE_STATUS " = ?3)"

/* The columns sq_alert_read and sq_delivery_read expect, in their order. */
#define SQ_ALERT_COLUMNS "id, organization_id, metric, month, threshold, used, quota, created_at"
#define SQ_DELIVERY_COLUMNS                                                                                   \
    "id, organization_id, project_id, alert_id, url, payload, status, attempts, last_status, last_error, next_at,"   \
    " created_at, updated_at"

/* The columns sq_key_row_read expects, in its order. */
#define SQ_KEY_COLUMNS                                                                                        \
    "id, environment_id, type, name, key_hash, key_hint, scopes, expires_at, created_at, revoked_at"

/* Usage (v11): the columns of a usage row as written; its filters (?1 organization, ?2 project, ?3
 * environment name or id, ?4 metric: NULL = any; ?5 period; ?6, ?7 period_start range, ?7 = 0 no end);
 * the UTC day and month of period_start; the roll-ups: ?1 = the first source bucket to (re)compute, ?2 =
 * now. Counters sum the finer rows (peak / min: their highest / lowest value), the gauge (storage) takes
 * the latest finer value (peak / min: of the finer peaks / minima); endpoints sum. */
#define SQ_USAGE_COLUMNS                                                                                      \
    "environment_id, metric, period, period_start, organization_id, project_id, environment, value, success_count," \
    " failure_count, response_us, peak, min_value, updated_at"
#define SQ_USAGE_WHERE                                                                                        \
    " WHERE organization_id = ?1 AND (?2 IS NULL OR project_id = ?2) AND (?3 IS NULL OR environment = ?3 OR"   \
    " environment_id = ?3) AND (?4 IS NULL OR metric = ?4) AND period = ?5 AND period_start >= ?6 AND (?7 = 0 OR" \
    " period_start < ?7)"
#define SQ_USAGE_DAY "period_start - period_start % 86400000"
#define SQ_USAGE_MONTH "CAST(strftime('%s', period_start / 1000, 'unixepoch', 'start of month') AS INTEGER) * 1000"
#define SQ_USAGE_UPSERT_ALL                                                                                   \
    " ON CONFLICT (environment_id, metric, period, period_start) DO UPDATE SET value = excluded.value,"       \
    " success_count = excluded.success_count, failure_count = excluded.failure_count,"                        \
    " response_us = excluded.response_us, peak = excluded.peak, min_value = excluded.min_value,"              \
    " organization_id = excluded.organization_id, project_id = excluded.project_id,"                          \
    " environment = excluded.environment, updated_at = excluded.updated_at"
#define SQ_USAGE_ROLL_COUNTERS(from, to, bucket)                                                              \
    "INSERT INTO usage (" SQ_USAGE_COLUMNS ") SELECT environment_id, metric, '" to "', " bucket " AS b,"      \
    " max(organization_id), max(project_id), max(environment), sum(value), sum(success_count),"               \
    " sum(failure_count), sum(response_us), max(value), min(value), ?2 FROM usage WHERE period = '" from "'"   \
    " AND metric <> 'storage' AND period_start >= ?1 GROUP BY environment_id, metric, b" SQ_USAGE_UPSERT_ALL
#define SQ_USAGE_ROLL_GAUGE(from, to, bucket)                                                                 \
    "INSERT INTO usage (" SQ_USAGE_COLUMNS ") SELECT g.environment_id, 'storage', '" to "', g.b, g.o, g.p, g.e," \
    " (SELECT h.value FROM usage h WHERE h.environment_id = g.environment_id AND h.metric = 'storage' AND"     \
    " h.period = '" from "' AND h.period_start = g.last), 0, 0, 0, g.pk, g.mn, ?2 FROM (SELECT environment_id," \
    " " bucket " AS b, max(organization_id) AS o, max(project_id) AS p, max(environment) AS e,"               \
    " max(period_start) AS last, max(peak) AS pk, min(min_value) AS mn FROM usage WHERE period = '" from "'"  \
    " AND metric = 'storage' AND period_start >= ?1 GROUP BY environment_id, b) g WHERE true" SQ_USAGE_UPSERT_ALL
#define SQ_USAGE_ROLL_ENDPOINTS(from, to, bucket)                                                             \
    "INSERT INTO usage_endpoints (environment_id, metric, period, period_start, organization_id, endpoint, count)" \
    " SELECT environment_id, metric, '" to "', " bucket " AS b, max(organization_id), endpoint, sum(count)"   \
    " FROM usage_endpoints WHERE period = '" from "' AND period_start >= ?1 GROUP BY environment_id, metric, b," \
    " endpoint ON CONFLICT (environment_id, metric, period, period_start, endpoint) DO UPDATE SET"            \
    " count = excluded.count, organization_id = excluded.organization_id"

static const char *const stmt_sql[ST_COUNT] = {
    /* ---- console sessions and sign-in links (v15) ---- */
    [ST_CONSOLE_SESSION_PRUNE] = "DELETE FROM console_sessions WHERE expires_at <= ?1",
    [ST_CONSOLE_TOKENS_PRUNE] = "DELETE FROM operator_tokens WHERE name = ?1 AND ((expires_at > 0 AND expires_at <= ?2)"
                                " OR id = ?3)",
    [ST_CONSOLE_SESSION_INSERT] = "INSERT INTO console_sessions (session_hash, token_id, csrf_token, created_at, expires_at)"
                                  " VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_CONSOLE_SESSION_LOOKUP] = "SELECT s.session_hash, s.token_id, s.csrf_token, s.created_at, s.expires_at, t.id,"
                                  " t.organization_id, " SQ_TOKEN_ROLE ", t.expires_at, " SQ_TOKEN_REVOKED ","
                                  " COALESCE(t.member_id, '') FROM console_sessions s JOIN operator_tokens t ON t.id = s.token_id"
                                  " LEFT JOIN members m ON m.id = t.member_id AND m.organization_id = t.organization_id"
                                  " WHERE s.session_hash = ?1",
    [ST_CONSOLE_SESSION_DELETE] = "DELETE FROM console_sessions WHERE session_hash = ?1",
    [ST_CONSOLE_LINK_PRUNE] = "DELETE FROM console_links WHERE expires_at <= ?1",
    [ST_CONSOLE_LINK_INSERT] = "INSERT INTO console_links (code_hash, organization_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
    [ST_CONSOLE_LINK_CONSUME] = "UPDATE console_links SET used_at = ?2 WHERE code_hash = ?1 AND used_at = 0 AND expires_at > ?2"
                                " RETURNING code_hash, organization_id, created_at, expires_at, used_at",
    /* ?3 now, ?4 the TTL: free, expired or already ours; the fence grows when the holder changes */
    [ST_LEASE_TAKE] = "INSERT INTO leases (name, holder, fence, expires_at) VALUES (?1, ?2, 1, ?3 + ?4)"
                      " ON CONFLICT (name) DO UPDATE SET"
                      " fence = CASE WHEN leases.holder = excluded.holder THEN leases.fence ELSE leases.fence + 1 END,"
                      " holder = excluded.holder, expires_at = excluded.expires_at"
                      " WHERE leases.holder = excluded.holder OR leases.expires_at <= ?3 RETURNING fence",
    [ST_LEASE_RELEASE] = "UPDATE leases SET expires_at = 0 WHERE name = ?1 AND holder = ?2",
    [ST_PING] = "SELECT 1",
    [ST_VERSION] = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
    [ST_IS_EMPTY] = "SELECT NOT EXISTS (SELECT 1 FROM organizations)",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_ORG_INSERT] = "INSERT INTO organizations (id, name, slug, display_name, plan, status, created_at,"
                      " updated_at, description, notification_email)"
                      " VALUES (?1, ?2, ?3, COALESCE(NULLIF(?8, ''), ?2), ?4, ?5, ?6, ?7, ?9, NULLIF(?10, ''))",
    [ST_PROJECT_INSERT] = "INSERT INTO projects (id, organization_id, name, slug, status, created_at,"
                          " updated_at, description, primary_cloud, primary_region, settings)"
                          " VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, ''), NULLIF(?, ''), COALESCE(NULLIF(?, ''), '{}'))",
    [ST_ENV_INSERT] = "INSERT INTO environments (id, project_id, name, type, status, created_at, updated_at)"
                      " VALUES (?, ?, ?, ?, ?, ?, ?)",
    [ST_KEY_INSERT] = "INSERT INTO api_keys (id, environment_id, type, name, key_hash, key_hint, scopes,"
                      " expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_TOKEN_INSERT] = "INSERT INTO operator_tokens (id, organization_id, name, role, token_hash, token_hint,"
                        " expires_at, created_at, member_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, ''))",
    [ST_ORG_GET] = "SELECT " SQ_ORG_COLUMNS " FROM organizations WHERE id = ?",
    [ST_ENV_GET] = "SELECT " SQ_ENV_COLUMNS " FROM environments WHERE id = ?",
    [ST_KEY_REVOKE] = "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
    [ST_TOKEN_REVOKE] = "UPDATE operator_tokens SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
    [ST_ENV_DELETE] = "DELETE FROM environments WHERE id = ?",
    /* LEFT JOINs so that a key whose environment or project is gone still resolves, with
     * environment_exists = 0 (last column). */
    [ST_KEY_LOOKUP] = "SELECT k.id, k.type, k.scopes, k.expires_at, k.revoked_at, k.environment_id, e.name,"
                      " p.id, o.id, o.status, o.plan,"
                      " (e.id IS NOT NULL AND p.id IS NOT NULL AND e.status <> 'deleting'"
                      "  AND p.status <> 'deleted'), COALESCE(o.api_call_quota, -1), COALESCE(o.storage_quota, -1),"
                      " COALESCE(o.mau_quota, -1), COALESCE(o.bandwidth_quota, -1)"
                      " FROM api_keys k"
                      " LEFT JOIN environments e ON e.id = k.environment_id"
                      " LEFT JOIN projects p ON p.id = e.project_id"
                      " LEFT JOIN organizations o ON o.id = p.organization_id"
                      " WHERE k.key_hash = ?",
    [ST_TOKEN_LOOKUP] = "SELECT t.id, t.organization_id, " SQ_TOKEN_ROLE ", t.expires_at, " SQ_TOKEN_REVOKED ","
                        " COALESCE(t.member_id, '')" SQ_TOKEN_FROM " WHERE t.token_hash = ?",
    [ST_PROJECT_GET] = "SELECT " SQ_PROJECT_COLUMNS " FROM projects WHERE id = ?",
    [ST_ENV_FIND] = "SELECT " SQ_ENV_COLUMNS " FROM environments WHERE project_id = ?1 AND name = ?2",
    [ST_KEY_LIST] = "SELECT " SQ_KEY_COLUMNS " FROM api_keys WHERE environment_id = ?1"
                    " ORDER BY created_at, id LIMIT ?2",
    [ST_KEY_COUNT] = "SELECT count(*) FROM api_keys WHERE environment_id = ? AND revoked_at IS NULL",
    [ST_KEY_GET] = "SELECT " SQ_KEY_COLUMNS " FROM api_keys WHERE id = ?",
    [ST_SECRET_ADD] = "INSERT OR IGNORE INTO environment_secrets (environment_id, kind, secret, created_at)"
                      " VALUES (?, ?, ?, ?)",
    [ST_SECRET_GET] = "SELECT secret FROM environment_secrets WHERE environment_id = ? AND kind = ?",
    [ST_OUTBOX_ADD] = "INSERT INTO outbox (id, environment_id, to_addr, subject, body, template, created_at)"
                      " VALUES (?, ?, ?, ?, ?, ?, ?)",
    [ST_PROVIDER_PUT] = "INSERT OR REPLACE INTO auth_providers (environment_id, provider, client_id, secret_sealed,"
                        " redirect_uris, enabled, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    [ST_PROVIDER_GET] = "SELECT environment_id, provider, client_id, secret_sealed, redirect_uris, enabled, updated_at"
                        " FROM auth_providers WHERE environment_id = ? AND provider = ?",
    [ST_SETTING_PUT] = "INSERT OR REPLACE INTO environment_settings (environment_id, name, value, updated_at) VALUES (?, ?, ?, ?)",
    [ST_SETTING_GET] = "SELECT value FROM environment_settings WHERE environment_id = ? AND name = ?",
    [ST_SETTING_DELETE] = "DELETE FROM environment_settings WHERE environment_id = ? AND name = ?",
    [ST_ORG_OUTBOX_ADD] = "INSERT INTO org_outbox (id, organization_id, to_addr, subject, body, template, created_at)"
                          " VALUES (?, ?, ?, ?, ?, ?, ?)",
    [ST_ORG_OUTBOX_LIST] = "SELECT id, organization_id, to_addr, subject, body, template, created_at FROM org_outbox"
                           " WHERE organization_id = ?1 ORDER BY created_at DESC, rowid DESC LIMIT ?2",
    [ST_OUTBOX_LIST] = "SELECT id, environment_id, to_addr, subject, body, template, created_at FROM outbox"
                       " WHERE environment_id = ?1 ORDER BY created_at DESC, rowid DESC LIMIT ?2",
    [ST_ORG_UPDATE] = "UPDATE organizations SET name = ?2, display_name = ?3, description = ?4,"
                      " notification_email = NULLIF(?5, ''), plan = ?6, status = ?7, scheduled_plan = ?8,"
                      " scheduled_at = ?9, updated_at = ?10, api_call_quota = NULLIF(?11, -1), storage_quota = NULLIF(?12, -1),"
                      " mau_quota = NULLIF(?13, -1), bandwidth_quota = NULLIF(?14, -1) WHERE id = ?1",
    [ST_ORG_DELETE] = "DELETE FROM organizations WHERE id = ?",
    [ST_PROJECT_LIST] = "SELECT " SQ_PROJECT_COLUMNS " FROM projects WHERE organization_id = ?1"
                        " ORDER BY created_at, id LIMIT ?2",
    [ST_PROJECT_COUNT] = "SELECT count(*) FROM projects WHERE organization_id = ? AND status <> 'deleted'",
    [ST_PROJECT_UPDATE] = "UPDATE projects SET name = ?2, description = ?3, status = ?4, settings = ?5,"
                          " primary_cloud = NULLIF(?6, ''), primary_region = NULLIF(?7, ''), updated_at = ?8"
                          " WHERE id = ?1",
    [ST_PROJECT_DELETE] = "DELETE FROM projects WHERE id = ?",
    [ST_ENV_LIST] = "SELECT " SQ_ENV_COLUMNS " FROM environments WHERE project_id = ?1 ORDER BY created_at, id LIMIT ?2",
    [ST_ENV_SET_STATUS] = "UPDATE environments SET status = ?3, updated_at = ?2 WHERE id = ?1",
    [ST_ACTIVITY_ADD] = "INSERT INTO activity (organization_id, project_id, actor, actor_type, entity_type, entity_id,"
                        " action, message, at, environment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_ACTIVITY_LIST] = "SELECT id, organization_id, project_id, actor, actor_type, entity_type, entity_id, action,"
                         " message, at, environment FROM activity" SQ_ACTIVITY_WHERE " ORDER BY at DESC, id DESC LIMIT ?7 OFFSET ?8",
    [ST_ACTIVITY_COUNT] = "SELECT count(*) FROM activity" SQ_ACTIVITY_WHERE,
    [ST_ENV_REACTIVATE] = "UPDATE environments SET status = COALESCE(NULLIF(status_before, ''), 'ready'), status_before = '',"
                          " shutdown_at = 0, delete_at = 0, updated_at = ?2 WHERE id = ?1 AND status = 'shutdown'",
    [ST_ENV_TOUCH] = "UPDATE environments SET last_access_at = ?2 WHERE id = ?1",
    [ST_ENV_SHUTDOWN_IDLE] = "UPDATE environments SET status_before = status, status = 'shutdown', shutdown_at = ?1,"
                             " delete_at = ?1 + " SQ_ENV_IDLE ", updated_at = ?1"
                             " WHERE status IN ('ready', 'active') AND COALESCE(last_access_at, created_at) <= ?1 - " SQ_ENV_IDLE,
    [ST_ENV_DELETIONS_DUE] = "SELECT " SQ_ENV_COLUMNS " FROM environments WHERE status = 'shutdown' AND delete_at > 0"
                             " AND delete_at <= CAST(?1 AS INTEGER) ORDER BY delete_at LIMIT ?2",
    [ST_PLACE_FIND] = "SELECT s.cluster_id, c.kind, s.slot, c.url FROM cluster_slots s JOIN clusters c ON c.id = s.cluster_id"
                      " WHERE s.environment_id = ?1",
    [ST_PLACE_REUSE] = "SELECT s.cluster_id, c.kind, s.slot, c.url FROM cluster_slots s JOIN clusters c ON c.id = s.cluster_id"
                       " WHERE s.environment_id IS NULL AND c.kind = 'shared' AND c.status <> 'draining'"
                       " ORDER BY s.freed_at, c.seq, s.slot LIMIT 1",
    [ST_PLACE_TAKE] = "UPDATE cluster_slots SET environment_id = ?3, freed_at = NULL WHERE cluster_id = ?1 AND slot = ?2",
    [ST_PLACE_ROOM] = "SELECT c.id, c.kind, (SELECT count(*) FROM cluster_slots s WHERE s.cluster_id = c.id) AS used, c.url"
                      " FROM clusters c WHERE c.kind = 'shared' AND c.status = 'active' AND used < c.capacity ORDER BY c.seq LIMIT 1",
    [ST_PLACE_SERVER_SHARED] = "SELECT c.id, c.kind, (SELECT count(*) FROM cluster_slots s WHERE s.cluster_id = c.id) AS used,"
                               " c.url FROM clusters c WHERE c.kind = 'shared' AND c.status = 'active' AND c.url <> ''"
                               " AND used < c.capacity ORDER BY c.seq LIMIT 1",
    [ST_PLACE_SERVER_DEDICATED] = "SELECT c.id, c.kind, (SELECT COALESCE(MAX(s.slot) + 1, 0) FROM cluster_slots s"
                                  " WHERE s.cluster_id = c.id), c.url, (SELECT count(*) FROM cluster_slots s"
                                  " WHERE s.cluster_id = c.id AND s.environment_id IS NOT NULL) AS used FROM clusters c"
                                  " WHERE c.kind = 'dedicated' AND c.status = 'active' AND c.url <> '' AND used < c.capacity"
                                  " ORDER BY used, c.seq LIMIT 1",
    [ST_PLACE_SLOT_ADD] = "INSERT INTO cluster_slots (cluster_id, slot, environment_id) VALUES (?1, ?2, ?3)",
    [ST_PLACE_SPARE] = "SELECT id, kind, 0, url FROM clusters WHERE kind = 'shared' AND status = 'spare' ORDER BY seq LIMIT 1",
    [ST_CLUSTER_NEXT_SEQ] = "SELECT COALESCE(MAX(seq), 0) + 1 FROM clusters",
    [ST_CLUSTER_ADD] = "INSERT INTO clusters (id, kind, status, capacity, created_at, seq, url)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_CLUSTER_SET_STATUS] = "UPDATE clusters SET status = ?2 WHERE id = ?1",
    [ST_CLUSTER_ACTIVATE] = "UPDATE clusters SET status = 'active' WHERE id = ?1",
    [ST_ENV_SET_PLACE] = "UPDATE environments SET cluster = ?1, slot = ?2 WHERE id = ?3",
    [ST_SLOTS_RECLAIM_DEDICATED] = "DELETE FROM clusters WHERE kind = 'dedicated' AND url = '' AND id IN (SELECT cluster_id FROM cluster_slots"
                                   " WHERE environment_id IS NOT NULL AND environment_id NOT IN (SELECT id FROM environments))",
    [ST_SLOTS_RECLAIM_SERVERS] = "DELETE FROM cluster_slots WHERE environment_id IS NOT NULL"
                                 " AND environment_id NOT IN (SELECT id FROM environments)"
                                 " AND cluster_id IN (SELECT id FROM clusters WHERE kind = 'dedicated')",
    [ST_SLOTS_RECLAIM] = "UPDATE cluster_slots SET environment_id = NULL, freed_at = ?1"
                         " WHERE environment_id IS NOT NULL AND environment_id NOT IN (SELECT id FROM environments)",
    [ST_CLUSTER_LIST] = "SELECT c.id, c.kind, c.status, c.capacity, c.created_at, (SELECT count(*) FROM cluster_slots s"
                        " WHERE s.cluster_id = c.id AND s.environment_id IS NOT NULL), c.url FROM clusters c"
                        " WHERE ?1 IS NOT NULL ORDER BY c.seq LIMIT ?2",
    [ST_ENVS_UNPLACED] = "SELECT " SQ_ENV_COLUMNS " FROM environments WHERE ?1 IS NOT NULL AND cluster IS NULL"
                         " AND status <> 'deleting' ORDER BY created_at LIMIT ?2",
    [ST_ENV_CANCEL_DELETION] = "UPDATE environments SET delete_at = 0 WHERE id = ?1 AND status = 'shutdown' AND delete_at > 0",
    [ST_MEMBER_INSERT] = "INSERT INTO members (id, organization_id, email, name, role, status, invited_by, joined_at)"
                         " VALUES (?1, ?2, NULLIF(?3, ''), ?4, ?5, ?6, ?7, ?8)",
    [ST_MEMBER_GET] = "SELECT " SQ_MEMBER_COLUMNS " FROM members WHERE id = ?1 AND organization_id = ?2",
    [ST_MEMBER_BY_EMAIL] = "SELECT " SQ_MEMBER_COLUMNS " FROM members WHERE email = ?1 AND organization_id = ?2",
    [ST_MEMBER_LIST] = "SELECT " SQ_MEMBER_COLUMNS " FROM members" SQ_MEMBER_WHERE " ORDER BY joined_at, id LIMIT ?4 OFFSET ?5",
    [ST_MEMBER_COUNT] = "SELECT count(*) FROM members" SQ_MEMBER_WHERE,
    [ST_MEMBER_OWNERS] = "SELECT count(*) FROM members WHERE organization_id = ? AND role = 'owner'",
    [ST_MEMBER_SET_ROLE] = "UPDATE members SET role = ?3 WHERE id = ?1 AND organization_id = ?2",
    [ST_MEMBER_DELETE] = "DELETE FROM members WHERE id = ?1 AND organization_id = ?2",
    [ST_MEMBER_TOKENS_REVOKE] = "UPDATE operator_tokens SET revoked_at = COALESCE(revoked_at, ?2) WHERE member_id = ?1",
    [ST_MEMBER_DEMOTE_OWNERS] = "UPDATE members SET role = 'admin' WHERE organization_id = ?2 AND role = 'owner' AND id <> ?1",
    [ST_TOKEN_LIST] = "SELECT " SQ_TOKEN_ROW_COLUMNS SQ_TOKEN_FROM " WHERE t.organization_id = ?1"
                      " ORDER BY t.created_at, t.id LIMIT ?2",
    [ST_TOKEN_GET] = "SELECT " SQ_TOKEN_ROW_COLUMNS SQ_TOKEN_FROM " WHERE t.id = ?1 AND t.organization_id = ?2",
    [ST_INVITE_DISCARD] = "DELETE FROM invitations WHERE organization_id = ?1 AND email = ?2 AND accepted_at = 0",
    [ST_INVITE_INSERT] = "INSERT INTO invitations (id, organization_id, email, name, role, token_hash, invited_by,"
                         " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_INVITE_GET] = "SELECT " SQ_INVITE_COLUMNS " FROM invitations WHERE id = ?1 AND organization_id = ?2",
    [ST_INVITE_LOOKUP] = "SELECT " SQ_INVITE_COLUMNS " FROM invitations WHERE token_hash = ?1",
    [ST_INVITE_LIST] = "SELECT " SQ_INVITE_COLUMNS " FROM invitations" SQ_INVITE_WHERE
                       " ORDER BY created_at DESC, id DESC LIMIT ?4 OFFSET ?5",
    [ST_INVITE_COUNT] = "SELECT count(*) FROM invitations" SQ_INVITE_WHERE,
    [ST_INVITE_REVOKE] = "UPDATE invitations SET revoked_at = ?3 WHERE id = ?1 AND organization_id = ?2"
                         " AND accepted_at = 0 AND revoked_at = 0 AND expires_at > ?3",
    [ST_INVITE_ACCEPT] = "UPDATE invitations SET accepted_at = ?2, member_id = ?3 WHERE id = ?1"
                         " AND accepted_at = 0 AND revoked_at = 0 AND expires_at > ?2",
    [ST_ALERT_ADD] = "INSERT OR IGNORE INTO usage_alerts (id, organization_id, metric, month, threshold, used, quota, created_at)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_ALERT_LIST] = "SELECT " SQ_ALERT_COLUMNS " FROM usage_alerts WHERE organization_id = ?1 AND month = ?3"
                      " ORDER BY created_at DESC, threshold DESC LIMIT ?2",
    [ST_ALERT_LIST_ALL] = "SELECT " SQ_ALERT_COLUMNS " FROM usage_alerts WHERE organization_id = ?1"
                          " ORDER BY created_at DESC, threshold DESC LIMIT ?2",
    [ST_DELIVERY_ADD] = "INSERT INTO webhook_deliveries (id, organization_id, project_id, alert_id, url, payload, status, attempts,"
                        " last_status, last_error, next_at, created_at, updated_at)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    [ST_DELIVERY_DUE] = "SELECT " SQ_DELIVERY_COLUMNS " FROM webhook_deliveries WHERE ?1 IS NOT NULL AND status = 'pending'"
                        " AND next_at <= CAST(?1 AS INTEGER) ORDER BY next_at LIMIT ?2",
    /* a claim: only the first of two claimers of a due delivery changes the row */
    [ST_DELIVERY_CLAIM] = "UPDATE webhook_deliveries SET next_at = ?2 + " SQ_STR(STORE_DELIVERY_CLAIM_MS)
                          " WHERE id = ?1 AND status = 'pending' AND next_at <= ?2",
    [ST_DELIVERY_UPDATE] = "UPDATE webhook_deliveries SET status = ?7, attempts = ?8, last_status = ?9, last_error = ?10,"
                           " next_at = ?11, updated_at = ?13 WHERE id = ?1",
    [ST_DELIVERY_LIST] = "SELECT " SQ_DELIVERY_COLUMNS " FROM webhook_deliveries WHERE organization_id = ?1"
                         " ORDER BY created_at DESC, id DESC LIMIT ?2",
    /* ---- usage (SQ_USAGE_* below) ---- */
    [ST_USAGE_SUM] = "SELECT coalesce(sum(value), 0) FROM usage WHERE organization_id = ?1 AND (?2 IS NULL OR project_id = ?2)"
                     " AND metric = ?3 AND period = ?4 AND period_start >= ?5 AND period_start < ?6",
    [ST_USAGE_GAUGE_SUM] = "SELECT coalesce(sum(v), 0) FROM (SELECT value AS v, max(period_start + CASE period WHEN 'hourly'"
                           " THEN 3600000 ELSE 86400000 END) FROM usage WHERE organization_id = ?1 AND (?2 IS NULL OR"
                           " project_id = ?2) AND metric = ?3 AND period IN ('hourly', 'daily') AND period_start >= ?4"
                           " AND period_start < ?5 GROUP BY environment_id)",
    [ST_USAGE_STATE_GET] = "SELECT coalesce((SELECT value FROM usage_state WHERE name = ?1), 0)",
    [ST_USAGE_STATE_PUT] = "INSERT INTO usage_state (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    [ST_USAGE_ADD] = "INSERT INTO usage (" SQ_USAGE_COLUMNS ") VALUES (?1, ?2, 'hourly', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?7, ?7, ?11)"
                     " ON CONFLICT (environment_id, metric, period, period_start) DO UPDATE SET"
                     " value = CASE WHEN ?12 THEN excluded.value ELSE value + excluded.value END,"
                     " success_count = success_count + excluded.success_count, failure_count = failure_count + excluded.failure_count,"
                     " response_us = response_us + excluded.response_us, peak = max(peak, excluded.value),"
                     " min_value = min(min_value, excluded.value), organization_id = excluded.organization_id,"
                     " project_id = excluded.project_id, environment = excluded.environment, updated_at = excluded.updated_at",
    [ST_USAGE_ENDPOINT_ADD] = "INSERT INTO usage_endpoints (environment_id, metric, period, period_start, organization_id, endpoint, count)"
                              " VALUES (?1, ?2, 'hourly', ?3, ?4, ?5, ?6) ON CONFLICT (environment_id, metric, period, period_start,"
                              " endpoint) DO UPDATE SET count = count + excluded.count",
    [ST_USAGE_MAU_KNOWN] = "SELECT 1 FROM usage_mau WHERE user_id = ?1 AND environment_id = ?2 AND month_start = ?3",
    [ST_USAGE_MAU_ADD] = "INSERT OR IGNORE INTO usage_mau (environment_id, month_start, user_id, first_seen) VALUES (?1, ?2, ?3, ?4)",
    [ST_USAGE_LIST] = "SELECT organization_id, project_id, environment_id, environment, metric, period, period_start, value,"
                      " success_count, failure_count, response_us, peak, min_value, (SELECT json_group_object(endpoint, count)"
                      " FROM (SELECT e.endpoint, e.count FROM usage_endpoints e WHERE e.environment_id = u.environment_id AND"
                      " e.metric = u.metric AND e.period = u.period AND e.period_start = u.period_start"
                      " ORDER BY e.count DESC, e.endpoint LIMIT 32)) FROM usage u" SQ_USAGE_WHERE
                      " ORDER BY period_start, metric, project_id, environment LIMIT ?8 OFFSET ?9",
    [ST_USAGE_COUNT] = "SELECT count(*) FROM usage u" SQ_USAGE_WHERE,
    [ST_USAGE_DAILY] = SQ_USAGE_ROLL_COUNTERS("hourly", "daily", SQ_USAGE_DAY),
    [ST_USAGE_DAILY_GAUGE] = SQ_USAGE_ROLL_GAUGE("hourly", "daily", SQ_USAGE_DAY),
    [ST_USAGE_DAILY_ENDPOINTS] = SQ_USAGE_ROLL_ENDPOINTS("hourly", "daily", SQ_USAGE_DAY),
    [ST_USAGE_MONTHLY] = SQ_USAGE_ROLL_COUNTERS("daily", "monthly", SQ_USAGE_MONTH),
    [ST_USAGE_MONTHLY_GAUGE] = SQ_USAGE_ROLL_GAUGE("daily", "monthly", SQ_USAGE_MONTH),
    [ST_USAGE_MONTHLY_ENDPOINTS] = SQ_USAGE_ROLL_ENDPOINTS("daily", "monthly", SQ_USAGE_MONTH),
    [ST_USAGE_PURGE] = "DELETE FROM usage WHERE period = ?1 AND period_start < ?2",
    [ST_USAGE_PURGE_ENDPOINTS] = "DELETE FROM usage_endpoints WHERE period = ?1 AND period_start < ?2",
    [ST_USAGE_PURGE_MAU] = "DELETE FROM usage_mau WHERE month_start < ?1",
    [ST_USAGE_PURGE_ORPHANS] = "DELETE FROM usage WHERE organization_id NOT IN (SELECT id FROM organizations)",
    [ST_USAGE_PURGE_ORPHAN_ENDPOINTS] = "DELETE FROM usage_endpoints WHERE organization_id NOT IN (SELECT id FROM organizations)",
    [ST_USAGE_ENVS] = "SELECT p.organization_id, e.project_id, e.id, e.name, e.status FROM environments e JOIN projects p"
                      " ON p.id = e.project_id WHERE ?1 IS NOT NULL AND e.status <> 'deleting' ORDER BY e.created_at, e.id LIMIT ?2",
};

typedef struct sq_store sq_store;

typedef struct sq_conn {
    sqlite3 *db;
    sqlite3_stmt *stmts[ST_COUNT];
    sq_store *store;                /* the store that opened it; compared, never dereferenced on close */
    pthread_t thread;               /* the only thread that uses it */
    struct sq_conn *prev, *next;    /* the global registry */
} sq_conn;

struct sq_store {
    char *path;
    pthread_key_t key; /* this thread's sq_conn */
};

static pthread_mutex_t sq_registry_lock = PTHREAD_MUTEX_INITIALIZER;
static sq_conn *sq_registry; /* every open connection of every store */

/* ---- errors ---- */

/* Unique-constraint columns as SQLite names them in its message, and what the client is told. */
static const struct {
    const char *column;
    const char *message;
} sq_conflicts[] = {
    {"organizations.slug", "organization slug already taken"},
    {"organizations.id", "organization id already exists"},
    {"projects.slug", "project slug already taken in this organization"},
    {"projects.id", "project id already exists"},
    {"environments.name", "environment name already taken in this project"},
    {"environments.id", "environment id already exists"},
    {"api_keys.key_hash", "API key already exists"},
    {"api_keys.id", "API key id already exists"},
    {"operator_tokens.token_hash", "operator token already exists"},
    {"operator_tokens.id", "operator token id already exists"},
    {"members.email", "the organization already has a member with this e-mail"},
    {"members.id", "member id already exists"},
    {"invitations.token_hash", "invitation token already exists"},
    {"invitations.id", "invitation id already exists"},
    {"clusters.id", "cluster already exists"},
};

static const char *sq_conflict_message(const char *sqlite_message)
{
    for (size_t i = 0; i < sizeof sq_conflicts / sizeof sq_conflicts[0]; i++)
        if (strstr(sqlite_message, sq_conflicts[i].column)) return sq_conflicts[i].message;
    return "a record with the same unique value already exists";
}

/* Maps the connection's last error to a bs_err: unique violations are 409 conflicts naming the clash, a
 * missing parent row is a 409 too, everything else is an internal error (logged, not shown). */
static int control_fail_db(sqlite3 *db, const char *what, bs_err *err)
{
    int code = sqlite3_extended_errcode(db);
    const char *message = sqlite3_errmsg(db);
    if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY)
        return bs_err_set(err, 409, "common/conflict", "%s", sq_conflict_message(message));
    if (code == SQLITE_CONSTRAINT_FOREIGNKEY)
        return bs_err_set(err, 409, "common/conflict", "the record it belongs to does not exist");
    log_error("control store: %s failed: %s (%d)", what, message, code);
    return bs_err_internal(err);
}

static int sq_fail(sq_conn *c, const char *what, bs_err *err)
{
    return control_fail_db(c->db, what, err);
}

/* ---- connections ---- */

static void sq_conn_close(sq_conn *c)
{
    for (int i = 0; i < ST_COUNT; i++) sqlite3_finalize(c->stmts[i]);
    sqlite3_close(c->db);
    free(c);
}

/* Opens and configures a connection: busy timeout first, then WAL and the other pragmas. */
static int sq_db_open(const char *path, sqlite3 **out, bs_err *err)
{
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_busy_timeout(db, SQ_BUSY_TIMEOUT_MS);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, SQ_SETUP_SQL, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        log_error("control store: cannot open %s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return bs_err_internal(err);
    }
    *out = db;
    return 0;
}

static void sq_registry_link(sq_conn *c)
{
    c->prev = NULL;
    c->next = sq_registry;
    if (sq_registry) sq_registry->prev = c;
    sq_registry = c;
}

static void sq_registry_unlink(sq_conn *c)
{
    if (c->prev) c->prev->next = c->next;
    else sq_registry = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

/* The pthread key destructor: runs at the exit of a thread that used the store. */
static void sq_conn_destructor(void *value)
{
    uintptr_t addr = (uintptr_t)value;
    sq_conn *mine = NULL;
    pthread_mutex_lock(&sq_registry_lock);
    for (sq_conn *c = sq_registry; c; c = c->next) {
        if ((uintptr_t)c == addr && pthread_equal(c->thread, pthread_self())) {
            sq_registry_unlink(c);
            mine = c;
            break;
        }
    }
    pthread_mutex_unlock(&sq_registry_lock);
    if (mine) sq_conn_close(mine);
}

/* This thread's connection to s, opened on first use. */
static sq_conn *sq_conn_get(sq_store *s, bs_err *err)
{
    sq_conn *c = pthread_getspecific(s->key);
    if (c) return c;
    c = calloc(1, sizeof *c);
    if (!c) {
        bs_err_internal(err);
        return NULL;
    }
    if (sq_db_open(s->path, &c->db, err) != 0) {
        free(c);
        return NULL;
    }
    c->store = s;
    c->thread = pthread_self();
    pthread_mutex_lock(&sq_registry_lock);
    sq_registry_link(c);
    pthread_mutex_unlock(&sq_registry_lock);
    if (pthread_setspecific(s->key, c) != 0) {
        pthread_mutex_lock(&sq_registry_lock);
        sq_registry_unlink(c);
        pthread_mutex_unlock(&sq_registry_lock);
        sq_conn_close(c);
        bs_err_internal(err);
        return NULL;
    }
    return c;
}

/* The cached statement id of c, prepared on first use. */
static sqlite3_stmt *sq_stmt(sq_conn *c, stmt_id id, bs_err *err)
{
    if (c->stmts[id]) return c->stmts[id];
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        sq_fail(c, "prepare", err);
        return NULL;
    }
    c->stmts[id] = st;
    return st;
}

static void sq_stmt_done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* ---- binding and reading ---- */

/* 0 = never / not revoked, stored as NULL. */
static int sq_bind_time(sqlite3_stmt *st, int idx, int64_t ms)
{
    return ms == 0 ? sqlite3_bind_null(st, idx) : sqlite3_bind_int64(st, idx, ms);
}

/* Row readers fail (sq.h's one policy) rather than cut a value short; the select helpers report it. */
#define SQ_READ_FIELD(st, col, field) SQ_COL_FIELD((st), (col), (field), NULL)

/* Steps a statement that returns no row and releases it. */
static int sq_run(sq_conn *c, sqlite3_stmt *st, const char *what, bs_err *err)
{
    int rc = sqlite3_step(st);
    int ret = rc == SQLITE_DONE ? 0 : sq_fail(c, what, err);
    sq_stmt_done(st);
    return ret;
}

static int sq_bind_failed(sq_conn *c, sqlite3_stmt *st, bs_err *err)
{
    sq_fail(c, "bind", err);
    sq_stmt_done(st);
    return -1;
}

static int sq_exec_id(sq_conn *c, stmt_id id, const char *what, bs_err *err)
{
    sqlite3_stmt *st = sq_stmt(c, id, err);
    return st ? sq_run(c, st, what, err) : -1;
}

/* Runs a one-row, one-integer query without parameters. */
static int sq_query_int(sq_conn *c, stmt_id id, int *out, bs_err *err)
{
    sqlite3_stmt *st = sq_stmt(c, id, err);
    if (!st) return -1;
    int rc = sqlite3_step(st);
    int ret = 0;
    if (rc == SQLITE_ROW) *out = sqlite3_column_int(st, 0);
    else ret = rc == SQLITE_DONE ? bs_err_internal(err) : sq_fail(c, "query", err);
    sq_stmt_done(st);
    return ret;
}

/* ---- inserts (on a given connection, so bootstrap can group them in one transaction) ---- */

static int sq_org_insert_on(sq_conn *c, const store_org *o, bs_err *err)
{
    sqlite3_stmt *st = sq_stmt(c, ST_ORG_INSERT, err);
    if (!st) return -1;
    int rc = SQ_BIND_FIELD(st, 1, o->id) | SQ_BIND_FIELD(st, 2, o->name) | SQ_BIND_FIELD(st, 3, o->slug) |
             SQ_BIND_FIELD(st, 4, o->plan) | SQ_BIND_FIELD(st, 5, o->status) |
             sqlite3_bind_int64(st, 6, o->created_at) | sqlite3_bind_int64(st, 7, o->updated_at) |
             SQ_BIND_FIELD(st, 8, o->display_name) | SQ_BIND_FIELD(st, 9, o->description) |
             SQ_BIND_FIELD(st, 10, o->notification_email);
    if (rc != SQLITE_OK) return sq_bind_failed(c, st, err);
    return sq_run(c, st, "insert organization", err);
}

static int sq_project_insert_on(sq_conn *c, const store_project *p, bs_err *err)
{
    sqlite3_stmt *st = sq_stmt(c, ST_PROJECT_INSERT, err);
    if (!st) return -1;
    int rc = SQ_BIND_FIELD(st, 1, p->id) | SQ_BIND_FIELD(st, 2, p->organization_id) |
             SQ_BIND_FIELD(st, 3, p->name) | SQ_BIND_FIELD(st, 4, p->slug) | SQ_BIND_FIELD(st, 5, p->status) |
             sqlite3_bind_int64(st, 6, p->created_at) | sqlite3_bind_int64(st, 7, p->updated_at) |
             SQ_BIND_FIELD(st, 8, p->description) | SQ_BIND_FIELD(st, 9, p->primary_cloud) |
             SQ_BIND_FIELD(st, 10, p->primary_region) | SQ_BIND_FIELD(st, 11, p->settings);
    if (rc != SQLITE_OK) return sq_bind_failed(c, st, err);
    return sq_run(c, st, "insert project", err);
}

static int sq_env_insert_on(sq_conn *c, const store_env *e, bs_err *err)
{
    sqlite3_stmt *st = sq_stmt(c, ST_ENV_INSERT, err);
    if (!st) return -1;
    int rc = SQ_BIND_FIELD(st, 1, e->id) | SQ_BIND_FIELD(st, 2, e->project_id) | SQ_BIND_FIELD(st, 3, e->name) |
             SQ_BIND_FIELD(st, 4, e->type) | SQ_BIND_FIELD(st, 5, e->status) |
             sqlite3_bind_int64(st, 6, e->created_at) | sqlite3_bind_int64(st, 7, e->updated_at);
    if (rc != SQLITE_OK) return sq_bind_failed(c, st, err);
    return sq_run(c, st, "insert environment", err);
}

static int sq_key_insert_on(sq_conn *c, const store_api_key *k, bs_err *err)
{
    sqlite3_stmt *st = sq_stmt(c, ST_KEY_INSERT, err);
    if (!st) return -1;
    int rc = SQ_BIND_FIELD(st, 1, k->id) | SQ_BIND_FIELD(st, 2, k->environment_id) |
             SQ_BIND_FIELD(st, 3, k->type) | SQ_BIND_FIELD(st, 4, k->name) | SQ_BIND_FIELD(st, 5, k->hash) |
             SQ_BIND_FIELD(st, 6, k->hint) |
             (k->scopes_json ? sqlite3_bind_text(st, 7, k->scopes_json, -1, SQLITE_STATIC)
                             : sqlite3_bind_null(st, 7)) |
             sq_bind_time(st, 8, k->expires_at) | sqlite3_bind_int64(st, 9, k->created_at);
    if (rc != SQLITE_OK) return sq_bind_failed(c, st, err);
    return sq_run(c, st, "insert api key", err);
}

static int sq_token_insert_on(sq_conn *c, const store_operator_token *t, bs_err *err)
{
    sqlite3_stmt *st = sq_stmt(c, ST_TOKEN_INSERT, err);
    if (!st) return -1;
    int rc = SQ_BIND_FIELD(st, 1, t->id) | SQ_BIND_FIELD(st, 2, t->organization_id) |
             SQ_BIND_FIELD(st, 3, t->name) | SQ_BIND_FIELD(st, 4, t->role) | SQ_BIND_FIELD(st, 5, t->hash) |
             SQ_BIND_FIELD(st, 6, t->hint) | sq_bind_time(st, 7, t->expires_at) |
             sqlite3_bind_int64(st, 8, t->created_at) | SQ_BIND_FIELD(st, 9, t->member_id);
    if (rc != SQLITE_OK) return sq_bind_failed(c, st, err);
    return sq_run(c, st, "insert operator token", err);
}

/* ---- ops: lifecycle ---- */

static void *sq_open(const char *path, bs_err *err)
{
    sq_store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        bs_err_internal(err);
        return NULL;
    }
    sqlite3 *db = NULL;
    int version = 0;
    int rc = sq_db_open(path, &db, err);
    if (rc == 0) rc = store_sqlite_migrate(db, &version, err);
    sqlite3_close(db);
    if (rc == 0 && pthread_key_create(&s->key, sq_conn_destructor) != 0) rc = bs_err_internal(err);
    if (rc != 0) {
        free(s->path);
        free(s);
        return NULL;
    }
    return s;
}

static void sq_free(void *driver)
{
    sq_store *s = driver;
    if (!s) return;
    /* No destructor starts for this key after this; see the comment at the top of the file. */
    pthread_key_delete(s->key);
    sq_conn *closing = NULL;
    pthread_mutex_lock(&sq_registry_lock);
    sq_conn *c = sq_registry;
    while (c) {
        sq_conn *next = c->next;
        if (c->store == s) {
            sq_registry_unlink(c);
            c->next = closing;
            closing = c;
        }
        c = next;
    }
    pthread_mutex_unlock(&sq_registry_lock);
    while (closing) {
        sq_conn *next = closing->next;
        sq_conn_close(closing);
        closing = next;
    }
    free(s->path);
    free(s);
}

static int sq_ping(void *driver, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    int one = 0;
    if (!c || sq_query_int(c, ST_PING, &one, err) != 0) return -1;
    return one == 1 ? 0 : bs_err_internal(err);
}

static int sq_version(void *driver, int *version, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    return c ? sq_query_int(c, ST_VERSION, version, err) : -1;
}

static int sq_is_empty(void *driver, int *empty, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    return c ? sq_query_int(c, ST_IS_EMPTY, empty, err) : -1;
}

static int sq_member_insert_on(sq_conn *c, const store_member *m, bs_err *err);

static int sq_bootstrap(void *driver, const store_bootstrap *b, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    if (!c || sq_exec_id(c, ST_BEGIN, "begin", err) != 0) return -1;
    int rc = sq_org_insert_on(c, &b->org, err);
    if (rc == 0) rc = sq_project_insert_on(c, &b->project, err);
    if (rc == 0) rc = sq_env_insert_on(c, &b->env, err);
    if (rc == 0) rc = sq_key_insert_on(c, &b->publishable, err);
    if (rc == 0) rc = sq_key_insert_on(c, &b->secret, err);
    if (rc == 0 && b->owner.id[0]) rc = sq_member_insert_on(c, &b->owner, err);
    if (rc == 0) rc = sq_token_insert_on(c, &b->operator_token, err);
    if (rc == 0) rc = sq_exec_id(c, ST_COMMIT, "commit", err);
    if (rc != 0 && !sqlite3_get_autocommit(c->db)) {
        bs_err ignored;
        sq_exec_id(c, ST_ROLLBACK, "rollback", &ignored);
    }
    return rc;
}

/* ---- ops: inserts ---- */

static int sq_org_insert(void *driver, const store_org *org, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    return c ? sq_org_insert_on(c, org, err) : -1;
}

static int sq_project_insert(void *driver, const store_project *project, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    return c ? sq_project_insert_on(c, project, err) : -1;
}

static int sq_env_insert(void *driver, const store_env *env, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    return c ? sq_env_insert_on(c, env, err) : -1;
}

static int sq_api_key_insert(void *driver, const store_api_key *key, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    return c ? sq_key_insert_on(c, key, err) : -1;
}

static int sq_operator_token_insert(void *driver, const store_operator_token *tok, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    return c ? sq_token_insert_on(c, tok, err) : -1;
}

/* ---- ops: reads by id ---- */

/* Binds the text key of a single-row query and steps it: 1 with a row to read, 0 for no row, -1 on
 * error (statement already released). On 1 the caller reads and then calls sq_stmt_done. */
static int sq_fetch_by(sq_conn *c, sqlite3_stmt *st, const char *key, bs_err *err)
{
    if (sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) != SQLITE_OK) return sq_bind_failed(c, st, err);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) return 1;
    int ret = rc == SQLITE_DONE ? 0 : sq_fail(c, "select", err);
    sq_stmt_done(st);
    return ret;
}

/* Row readers (sq_row_reader): fill out from the current row; -1 when a value does not fit its buffer. */

static int sq_org_read(sqlite3_stmt *st, void *dst)
{
    store_org *out = dst;
    int bad = SQ_READ_FIELD(st, 0, out->id) | SQ_READ_FIELD(st, 1, out->name) | SQ_READ_FIELD(st, 2, out->slug) |
              SQ_READ_FIELD(st, 3, out->plan) | SQ_READ_FIELD(st, 4, out->status) |
              SQ_READ_FIELD(st, 7, out->display_name) | SQ_READ_FIELD(st, 8, out->description) |
              SQ_READ_FIELD(st, 9, out->notification_email) | SQ_READ_FIELD(st, 10, out->scheduled_plan);
    out->created_at = sqlite3_column_int64(st, 5);
    out->updated_at = sqlite3_column_int64(st, 6);
    out->scheduled_at = sqlite3_column_int64(st, 11);
    out->api_call_quota = sqlite3_column_int64(st, 12);
    out->storage_quota = sqlite3_column_int64(st, 13);
    out->mau_quota = sqlite3_column_int64(st, 14);
    out->bandwidth_quota = sqlite3_column_int64(st, 15);
    return bad ? -1 : 0;
}

static int sq_project_read(sqlite3_stmt *st, void *dst)
{
    store_project *out = dst;
    int bad = SQ_READ_FIELD(st, 0, out->id) | SQ_READ_FIELD(st, 1, out->organization_id) |
              SQ_READ_FIELD(st, 2, out->name) | SQ_READ_FIELD(st, 3, out->slug) | SQ_READ_FIELD(st, 4, out->status) |
              SQ_READ_FIELD(st, 7, out->description) | SQ_READ_FIELD(st, 8, out->primary_cloud) |
              SQ_READ_FIELD(st, 9, out->primary_region) | SQ_READ_FIELD(st, 10, out->settings);
    out->created_at = sqlite3_column_int64(st, 5);
    out->updated_at = sqlite3_column_int64(st, 6);
    return bad ? -1 : 0;
}

static int sq_env_read(sqlite3_stmt *st, void *dst)
{
    store_env *out = dst;
    int bad = SQ_READ_FIELD(st, 0, out->id) | SQ_READ_FIELD(st, 1, out->project_id) |
              SQ_READ_FIELD(st, 2, out->name) | SQ_READ_FIELD(st, 3, out->type) | SQ_READ_FIELD(st, 4, out->status);
    out->created_at = sqlite3_column_int64(st, 5);
    out->updated_at = sqlite3_column_int64(st, 6);
    out->last_access_at = sqlite3_column_int64(st, 7);
    out->shutdown_at = sqlite3_column_int64(st, 8);
    out->delete_at = sqlite3_column_int64(st, 9);
    out->slot = sqlite3_column_int(st, 11);
    bad |= SQ_READ_FIELD(st, 10, out->cluster);
    return bad ? -1 : 0;
}

/* Reads one row of SQ_KEY_COLUMNS. */
static int sq_key_row_read(sqlite3_stmt *st, void *dst)
{
    store_api_key_row *row = dst;
    store_api_key *k = &row->key;
    int bad = SQ_READ_FIELD(st, 0, k->id) | SQ_READ_FIELD(st, 1, k->environment_id) | SQ_READ_FIELD(st, 2, k->type) |
              SQ_READ_FIELD(st, 3, k->name) | SQ_READ_FIELD(st, 4, k->hash) | SQ_READ_FIELD(st, 5, k->hint) |
              SQ_READ_FIELD(st, 6, row->scopes);
    k->scopes_json = sqlite3_column_type(st, 6) == SQLITE_NULL ? NULL : row->scopes;
    k->expires_at = sqlite3_column_int64(st, 7);
    k->created_at = sqlite3_column_int64(st, 8);
    row->revoked_at = sqlite3_column_int64(st, 9);
    return bad ? -1 : 0;
}

/* Runs a single-row query keyed by key1 (and key2 when not NULL) and reads the row into out (size
 * bytes, zeroed first). *found = 0 when there is no such row. */
static int sq_get_row(void *driver, stmt_id id, const char *key1, const char *key2, sq_row_reader reader,
                      void *out, size_t size, int *found, bs_err *err)
{
    *found = 0;
    memset(out, 0, size);
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, id, err) : NULL;
    if (!st) return -1;
    const char *keys[] = {key1, key2};
    if (sq_bind_texts(st, 1, keys, key2 ? 2 : 1) != SQLITE_OK) return sq_bind_failed(c, st, err);
    int rc = sq_select_one(st, control_fail_db, reader, out, size, found, err);
    sq_stmt_done(st);
    return rc;
}

static int sq_org_get(void *driver, const char *id, store_org *out, int *found, bs_err *err)
{
    return sq_get_row(driver, ST_ORG_GET, id, NULL, sq_org_read, out, sizeof *out, found, err);
}

static int sq_env_get(void *driver, const char *id, store_env *out, int *found, bs_err *err)
{
    return sq_get_row(driver, ST_ENV_GET, id, NULL, sq_env_read, out, sizeof *out, found, err);
}

static int sq_project_get(void *driver, const char *id, store_project *out, int *found, bs_err *err)
{
    return sq_get_row(driver, ST_PROJECT_GET, id, NULL, sq_project_read, out, sizeof *out, found, err);
}

static int sq_env_find(void *driver, const char *project_id, const char *name, store_env *out, int *found,
                       bs_err *err)
{
    return sq_get_row(driver, ST_ENV_FIND, project_id, name, sq_env_read, out, sizeof *out, found, err);
}

static int sq_api_key_get(void *driver, const char *key_id, store_api_key_row *out, int *found, bs_err *err)
{
    return sq_get_row(driver, ST_KEY_GET, key_id, NULL, sq_key_row_read, out, sizeof *out, found, err);
}

/* ---- ops: key listing ---- */

/* Reads up to max rows, oldest first; LIMIT keeps SQLite from producing more. A row that does not fit
 * its buffers (scopes over 1023 bytes) fails the whole call with *count = 0. */
/* Rows of a query keyed by ?1 with LIMIT ?2 = max (defined with the management plane's ops). */
static int sq_list_rows(void *driver, stmt_id id, const char *key, sq_row_reader reader, void *out, size_t size,
                        size_t max, size_t *count, bs_err *err);

static int sq_api_key_list(void *driver, const char *env_id, store_api_key_row *out, size_t max, size_t *count,
                           bs_err *err)
{
    return sq_list_rows(driver, ST_KEY_LIST, env_id, sq_key_row_read, out, sizeof *out, max, count, err);
}

static int sq_api_key_count(void *driver, const char *env_id, size_t *count, bs_err *err)
{
    *count = 0;
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, ST_KEY_COUNT, err) : NULL;
    if (!st) return -1;
    int rc = sq_fetch_by(c, st, env_id, err);
    if (rc <= 0) return rc; /* count(*) always yields a row; 0 here would mean none */
    sqlite3_int64 n = sqlite3_column_int64(st, 0);
    sq_stmt_done(st);
    *count = n > 0 ? (size_t)n : 0;
    return 0;
}

/* The secret of (env, kind): inserts `fresh` unless one exists (first writer wins, so every instance
 * and the CLI agree), then reads whichever is stored. */
static int sq_env_secret(void *driver, const char *env_id, const char *kind, const uint8_t *fresh, size_t len,
                         uint8_t *out, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, ST_SECRET_ADD, err) : NULL;
    if (!st) return -1;
    if (sqlite3_bind_text(st, 1, env_id, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_blob(st, 3, fresh, (int)len, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(st, 4, clock_now_ms()) != SQLITE_OK)
        return sq_bind_failed(c, st, err);
    if (sq_run(c, st, "insert secret", err) != 0) return -1;
    st = sq_stmt(c, ST_SECRET_GET, err);
    if (!st) return -1;
    if (sqlite3_bind_text(st, 1, env_id, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC) != SQLITE_OK)
        return sq_bind_failed(c, st, err);
    int rc = sqlite3_step(st), ret = 0;
    /* bounded: out holds len bytes, like fresh (control_driver.h) */
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == (int)len) memcpy(out, sqlite3_column_blob(st, 0), len);
    else ret = rc == SQLITE_ROW || rc == SQLITE_DONE ? bs_err_internal(err) : sq_fail(c, "select secret", err);
    sq_stmt_done(st);
    return ret;
}

static int sq_outbox_add(void *driver, const store_mail *m, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    int of_org = !m->environment_id[0];
    sqlite3_stmt *st = c ? sq_stmt(c, of_org ? ST_ORG_OUTBOX_ADD : ST_OUTBOX_ADD, err) : NULL;
    if (!st) return -1;
    const char *texts[] = {m->id, of_org ? m->organization_id : m->environment_id, m->to, m->subject, m->body, m->template_name};
    int rc = SQLITE_OK;
    for (int i = 0; i < 6 && rc == SQLITE_OK; i++) rc = sqlite3_bind_text(st, i + 1, texts[i], -1, SQLITE_STATIC);
    if (rc != SQLITE_OK || sqlite3_bind_int64(st, 7, m->created_at) != SQLITE_OK) return sq_bind_failed(c, st, err);
    return sq_run(c, st, "insert mail", err);
}

static int sq_provider_put(void *driver, const store_provider *p, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, ST_PROVIDER_PUT, err) : NULL;
    if (!st) return -1;
    const char *texts[] = {p->environment_id, p->provider, p->client_id, p->secret_sealed, p->redirect_uris};
    int rc = SQLITE_OK;
    for (int i = 0; i < 5 && rc == SQLITE_OK; i++) rc = sqlite3_bind_text(st, i + 1, texts[i], -1, SQLITE_STATIC);
    if (rc != SQLITE_OK || sqlite3_bind_int(st, 6, p->enabled) != SQLITE_OK || sqlite3_bind_int64(st, 7, p->updated_at) != SQLITE_OK)
        return sq_bind_failed(c, st, err);
    return sq_run(c, st, "put provider", err);
}

static int sq_provider_get(void *driver, const char *env_id, const char *provider, store_provider *out, int *found, bs_err *err)
{
    *found = 0;
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, ST_PROVIDER_GET, err) : NULL;
    if (!st) return -1;
    if (sqlite3_bind_text(st, 1, env_id, -1, SQLITE_STATIC) != SQLITE_OK || sqlite3_bind_text(st, 2, provider, -1, SQLITE_STATIC) != SQLITE_OK)
        return sq_bind_failed(c, st, err);
    if (sqlite3_step(st) == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        SQ_READ_FIELD(st, 0, out->environment_id);
        SQ_READ_FIELD(st, 1, out->provider);
        SQ_READ_FIELD(st, 2, out->client_id);
        SQ_READ_FIELD(st, 3, out->secret_sealed);
        SQ_READ_FIELD(st, 4, out->redirect_uris);
        out->enabled = sqlite3_column_int(st, 5);
        out->updated_at = sqlite3_column_int64(st, 6);
        *found = 1;
    }
    sq_stmt_done(st);
    return 0;
}

static int sq_setting_put(void *driver, const char *env_id, const char *name, const char *value, int64_t at, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, ST_SETTING_PUT, err) : NULL;
    if (!st) return -1;
    if (sqlite3_bind_text(st, 1, env_id, -1, SQLITE_STATIC) != SQLITE_OK || sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC) != SQLITE_OK || sqlite3_bind_int64(st, 4, at) != SQLITE_OK)
        return sq_bind_failed(c, st, err);
    return sq_run(c, st, "put setting", err);
}

/* Reads (out != NULL) or deletes (out == NULL) one setting. */
static int sq_setting_op(void *driver, int which, const char *env_id, const char *name, char *out, size_t size, int *found, bs_err *err)
{
    *found = 0;
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, which, err) : NULL;
    if (!st) return -1;
    if (sqlite3_bind_text(st, 1, env_id, -1, SQLITE_STATIC) != SQLITE_OK || sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC) != SQLITE_OK)
        return sq_bind_failed(c, st, err);
    int rc = sqlite3_step(st), fits = 1;
    if (which == ST_SETTING_GET && rc == SQLITE_ROW) *found = fits = sq_col_copy(st, 0, out, size, NULL) == 0;
    if (which == ST_SETTING_DELETE && rc == SQLITE_DONE) *found = sqlite3_changes(c->db) > 0;
    sq_stmt_done(st);
    return (rc == SQLITE_ROW || rc == SQLITE_DONE) && fits ? 0 : bs_err_internal(err);
}

static int sq_setting_get(void *driver, const char *env_id, const char *name, char *out, size_t size, int *found, bs_err *err)
{
    return sq_setting_op(driver, ST_SETTING_GET, env_id, name, out, size, found, err);
}

static int sq_setting_delete(void *driver, const char *env_id, const char *name, int *found, bs_err *err)
{
    return sq_setting_op(driver, ST_SETTING_DELETE, env_id, name, NULL, 0, found, err);
}

/* The newest mail of an environment (ST_OUTBOX_LIST) or an organization (ST_ORG_OUTBOX_LIST) first. */
static int sq_mail_list(void *driver, stmt_id id, const char *owner, store_mail *out, size_t max, size_t *count, bs_err *err)
{
    *count = 0;
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, id, err) : NULL;
    if (!st) return -1;
    if (sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, (sqlite3_int64)max) != SQLITE_OK)
        return sq_bind_failed(c, st, err);
    int rc;
    while (*count < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_mail *m = &out[(*count)++];
        memset(m, 0, sizeof *m);
        SQ_READ_FIELD(st, 0, m->id);
        if (id == ST_ORG_OUTBOX_LIST) SQ_READ_FIELD(st, 1, m->organization_id);
        else SQ_READ_FIELD(st, 1, m->environment_id);
        SQ_READ_FIELD(st, 2, m->to);
        SQ_READ_FIELD(st, 3, m->subject);
        SQ_READ_FIELD(st, 4, m->body);
        SQ_READ_FIELD(st, 5, m->template_name);
        m->created_at = sqlite3_column_int64(st, 6);
    }
    sq_stmt_done(st);
    return 0;
}

static int sq_outbox_list(void *driver, const char *env_id, store_mail *out, size_t max, size_t *count, bs_err *err)
{
    return sq_mail_list(driver, ST_OUTBOX_LIST, env_id, out, max, count, err);
}

static int sq_org_outbox_list(void *driver, const char *org_id, store_mail *out, size_t max, size_t *count, bs_err *err)
{
    return sq_mail_list(driver, ST_ORG_OUTBOX_LIST, org_id, out, max, count, err);
}

/* ---- ops: revocation and deletion ---- */

/* Runs an UPDATE/DELETE by id and reports whether a row matched. at: second parameter when >= 0. */
static int sq_change_by_id(void *driver, stmt_id id, const char *key, int64_t at, int *found, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, id, err) : NULL;
    *found = 0;
    if (!st) return -1;
    int rc = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (at >= 0) rc |= sqlite3_bind_int64(st, 2, at);
    if (rc != SQLITE_OK) return sq_bind_failed(c, st, err);
    if (sq_run(c, st, "update", err) != 0) return -1;
    *found = sqlite3_changes(c->db) > 0;
    return 0;
}

/* Revoking at 0 ("not revoked") would be a no-op, so 0 means now. */
static int64_t sq_revoke_time(int64_t at)
{
    return at > 0 ? at : clock_now_ms();
}

static int sq_api_key_revoke(void *driver, const char *key_id, int64_t at, int *found, bs_err *err)
{
    return sq_change_by_id(driver, ST_KEY_REVOKE, key_id, sq_revoke_time(at), found, err);
}

static int sq_operator_token_revoke(void *driver, const char *token_id, int64_t at, int *found, bs_err *err)
{
    return sq_change_by_id(driver, ST_TOKEN_REVOKE, token_id, sq_revoke_time(at), found, err);
}

static int sq_env_delete(void *driver, const char *env_id, int *found, bs_err *err)
{
    return sq_change_by_id(driver, ST_ENV_DELETE, env_id, -1, found, err);
}

/* ---- ops: request-path lookups ---- */

static int sq_key_read(sqlite3_stmt *st, store_key_context *out)
{
    int bad = SQ_READ_FIELD(st, 0, out->key_id) | SQ_READ_FIELD(st, 1, out->key_type) |
              SQ_READ_FIELD(st, 2, out->scopes_json) | SQ_READ_FIELD(st, 5, out->environment_id) |
              SQ_READ_FIELD(st, 6, out->environment) | SQ_READ_FIELD(st, 7, out->project_id) |
              SQ_READ_FIELD(st, 8, out->organization_id) | SQ_READ_FIELD(st, 9, out->organization_status) |
              SQ_READ_FIELD(st, 10, out->plan);
    out->expires_at = sqlite3_column_int64(st, 3);
    out->revoked_at = sqlite3_column_int64(st, 4);
    out->environment_exists = sqlite3_column_int(st, 11) != 0;
    out->api_call_quota = sqlite3_column_type(st, 12) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 12);
    out->storage_quota = sqlite3_column_type(st, 13) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 13);
    out->mau_quota = sqlite3_column_type(st, 14) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 14);
    out->bandwidth_quota = sqlite3_column_type(st, 15) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 15);
    return bad ? -1 : 0;
}

static int sq_key_lookup(void *driver, const char *hash_hex, store_key_context *out, int *found, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, ST_KEY_LOOKUP, err) : NULL;
    *found = 0;
    if (!st) return -1;
    memset(out, 0, sizeof *out);
    int rc = sq_fetch_by(c, st, hash_hex, err);
    if (rc <= 0) return rc;
    int bad = sq_key_read(st, out);
    sq_stmt_done(st);
    if (bad) {
        log_error("control store: api key row does not fit store_key_context (scopes too long?)");
        memset(out, 0, sizeof *out);
        return bs_err_internal(err);
    }
    *found = 1;
    return 0;
}

static int sq_token_lookup(void *driver, const char *hash_hex, store_token_context *out, int *found,
                           bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, ST_TOKEN_LOOKUP, err) : NULL;
    *found = 0;
    if (!st) return -1;
    memset(out, 0, sizeof *out);
    int rc = sq_fetch_by(c, st, hash_hex, err);
    if (rc <= 0) return rc;
    int bad = SQ_READ_FIELD(st, 0, out->token_id) | SQ_READ_FIELD(st, 1, out->organization_id) |
              SQ_READ_FIELD(st, 2, out->role);
    bad |= SQ_READ_FIELD(st, 5, out->member_id);
    out->expires_at = sqlite3_column_int64(st, 3);
    out->revoked_at = sqlite3_column_int64(st, 4);
    sq_stmt_done(st);
    if (bad) {
        memset(out, 0, sizeof *out);
        return bs_err_internal(err);
    }
    *found = 1;
    return 0;
}

/* ---- ops: the management plane ---- */

/* Runs a list query keyed by key (?1) with LIMIT ?2 = max and reads each row into out (elements of
 * size bytes). A row that does not fit its buffers fails the call with *count = 0. */
static int sq_rows_read(sq_conn *c, sqlite3_stmt *st, sq_row_reader reader, void *out, size_t size, size_t max,
                        size_t *count, bs_err *err);

static int sq_list_rows(void *driver, stmt_id id, const char *key, sq_row_reader reader, void *out, size_t size,
                        size_t max, size_t *count, bs_err *err)
{
    *count = 0;
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, id, err) : NULL;
    if (!st) return -1;
    if (sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, max > (size_t)INT64_MAX ? -1 : (sqlite3_int64)max) != SQLITE_OK)
        return sq_bind_failed(c, st, err);
    return sq_rows_read(c, st, reader, out, size, max, count, err);
}

/* Runs a prepared UPDATE whose parameters are bound (rc: the binds' result) and reports a matched row. */
static int sq_update_bound(sq_conn *c, sqlite3_stmt *st, int rc, int *found, bs_err *err)
{
    *found = 0;
    if (rc != SQLITE_OK) return sq_bind_failed(c, st, err);
    if (sq_run(c, st, "update", err) != 0) return -1;
    *found = sqlite3_changes(c->db) > 0;
    return 0;
}

static int sq_org_update(void *driver, const store_org *o, int *found, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, ST_ORG_UPDATE, err) : NULL;
    if (!st) return -1;
    int rc = SQ_BIND_FIELD(st, 1, o->id) | SQ_BIND_FIELD(st, 2, o->name) | SQ_BIND_FIELD(st, 3, o->display_name) |
             SQ_BIND_FIELD(st, 4, o->description) | SQ_BIND_FIELD(st, 5, o->notification_email) |
             SQ_BIND_FIELD(st, 6, o->plan) | SQ_BIND_FIELD(st, 7, o->status) | SQ_BIND_FIELD(st, 8, o->scheduled_plan) |
             sqlite3_bind_int64(st, 9, o->scheduled_at) | sqlite3_bind_int64(st, 10, o->updated_at) |
             sqlite3_bind_int64(st, 11, o->api_call_quota < 0 ? -1 : o->api_call_quota) |
             sqlite3_bind_int64(st, 12, o->storage_quota < 0 ? -1 : o->storage_quota) |
             sqlite3_bind_int64(st, 13, o->mau_quota < 0 ? -1 : o->mau_quota) |
             sqlite3_bind_int64(st, 14, o->bandwidth_quota < 0 ? -1 : o->bandwidth_quota);
    return sq_update_bound(c, st, rc, found, err);
}

static int sq_org_delete(void *driver, const char *id, int *found, bs_err *err)
{
    return sq_change_by_id(driver, ST_ORG_DELETE, id, -1, found, err);
}

static int sq_project_list(void *driver, const char *org_id, store_project *out, size_t max, size_t *count, bs_err *err)
{
    return sq_list_rows(driver, ST_PROJECT_LIST, org_id, sq_project_read, out, sizeof *out, max, count, err);
}

static int sq_project_count(void *driver, const char *org_id, int64_t *count, bs_err *err)
{
    *count = 0;
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, ST_PROJECT_COUNT, err) : NULL;
    if (!st) return -1;
    int rc = sq_fetch_by(c, st, org_id, err);
    if (rc <= 0) return rc;
    *count = sqlite3_column_int64(st, 0);
    sq_stmt_done(st);
    return 0;
}

static int sq_project_update(void *driver, const store_project *p, int *found, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, ST_PROJECT_UPDATE, err) : NULL;
    if (!st) return -1;
    int rc = SQ_BIND_FIELD(st, 1, p->id) | SQ_BIND_FIELD(st, 2, p->name) | SQ_BIND_FIELD(st, 3, p->description) |
             SQ_BIND_FIELD(st, 4, p->status) | SQ_BIND_FIELD(st, 5, p->settings) |
             SQ_BIND_FIELD(st, 6, p->primary_cloud) | SQ_BIND_FIELD(st, 7, p->primary_region) |
             sqlite3_bind_int64(st, 8, p->updated_at);
    return sq_update_bound(c, st, rc, found, err);
}

static int sq_project_delete(void *driver, const char *id, int *found, bs_err *err)
{
    return sq_change_by_id(driver, ST_PROJECT_DELETE, id, -1, found, err);
}

static int sq_env_list(void *driver, const char *project_id, store_env *out, size_t max, size_t *count, bs_err *err)
{
    return sq_list_rows(driver, ST_ENV_LIST, project_id, sq_env_read, out, sizeof *out, max, count, err);
}

static int sq_env_set_status(void *driver, const char *env_id, const char *status, int64_t at, int *found, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, ST_ENV_SET_STATUS, err) : NULL;
    if (!st) return -1;
    int rc = sqlite3_bind_text(st, 1, env_id, -1, SQLITE_STATIC) | sqlite3_bind_int64(st, 2, at) |
             sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
    return sq_update_bound(c, st, rc, found, err);
}

/* ---- ops: inactivity ---- */

static int sq_env_touch(void *driver, const char *env_id, int64_t at, int *reactivated, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, ST_ENV_REACTIVATE, err) : NULL;
    if (!st) return -1;
    int rc = sqlite3_bind_text(st, 1, env_id, -1, SQLITE_STATIC) | sqlite3_bind_int64(st, 2, at);
    if (sq_update_bound(c, st, rc, reactivated, err) < 0) return -1;
    int found = 0;
    return sq_change_by_id(driver, ST_ENV_TOUCH, env_id, at, &found, err);
}

static int sq_env_shutdown_idle(void *driver, int64_t now, int64_t dev_idle_ms, int64_t other_idle_ms, int64_t *count,
                                bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, ST_ENV_SHUTDOWN_IDLE, err) : NULL;
    *count = 0;
    if (!st) return -1;
    int rc = sqlite3_bind_int64(st, 1, now) | sqlite3_bind_int64(st, 2, dev_idle_ms) | sqlite3_bind_int64(st, 3, other_idle_ms);
    if (rc != SQLITE_OK) return sq_bind_failed(c, st, err);
    if (sq_run(c, st, "shut down idle environments", err) != 0) return -1;
    *count = sqlite3_changes(c->db);
    return 0;
}

static int sq_env_deletions_due(void *driver, int64_t now, store_env *out, size_t max, size_t *count, bs_err *err)
{
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)now); /* sq_list_rows binds ?1 as text: the SQL casts it */
    return sq_list_rows(driver, ST_ENV_DELETIONS_DUE, key, sq_env_read, out, sizeof *out, max, count, err);
}

static int sq_env_cancel_deletion(void *driver, const char *env_id, int *found, bs_err *err)
{
    return sq_change_by_id(driver, ST_ENV_CANCEL_DELETION, env_id, -1, found, err);
}

/* ---- ops: placement ---- */

/* Runs a placement query (columns: cluster id, kind, slot, url) with an optional text ?1: 1 with out filled,
 * 0 for no row, -1 on error. */
static int sq_place_row(sq_conn *c, stmt_id id, const char *key, store_placement *out, bs_err *err)
{
    sqlite3_stmt *st = sq_stmt(c, id, err);
    if (!st) return -1;
    if (key && sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) != SQLITE_OK) return sq_bind_failed(c, st, err);
    int rc = sqlite3_step(st), ret = 0;
    if (rc == SQLITE_ROW) {
        ret = SQ_READ_FIELD(st, 0, out->cluster_id) | SQ_READ_FIELD(st, 1, out->kind) | SQ_READ_FIELD(st, 3, out->url)
                  ? bs_err_internal(err) : 1;
        out->slot = sqlite3_column_int(st, 2);
    } else if (rc != SQLITE_DONE) {
        ret = sq_fail(c, "placement", err);
    }
    sq_stmt_done(st);
    return ret;
}

/* Runs a statement binding text ?1 only; *found = whether a row changed. */
static int sq_change_by_id_on(sq_conn *c, stmt_id id, const char *key, int *found, bs_err *err)
{
    sqlite3_stmt *st = sq_stmt(c, id, err);
    *found = 0;
    if (!st) return -1;
    return sq_update_bound(c, st, sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC), found, err);
}

/* Runs a statement binding text ?1, int ?2 and text ?3 (NULL: unbound). */
static int sq_run_tit(sq_conn *c, stmt_id id, const char *t1, int64_t i2, const char *t3, bs_err *err)
{
    sqlite3_stmt *st = sq_stmt(c, id, err);
    if (!st) return -1;
    int rc = sqlite3_bind_text(st, 1, t1, -1, SQLITE_STATIC) | sqlite3_bind_int64(st, 2, i2);
    if (t3) rc |= sqlite3_bind_text(st, 3, t3, -1, SQLITE_STATIC);
    if (rc != SQLITE_OK) return sq_bind_failed(c, st, err);
    return sq_run(c, st, "placement", err);
}

/* Registers a cluster as the newest (seq: one past the highest, read inside the caller's transaction). */
static int sq_cluster_add(sq_conn *c, const char *id, const char *kind, const char *status, int capacity, int64_t now, int seq,
                          const char *url, bs_err *err)
{
    sqlite3_stmt *st = sq_stmt(c, ST_CLUSTER_ADD, err);
    if (!st) return -1;
    int rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC) | sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC) |
             sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC) | sqlite3_bind_int(st, 4, capacity) |
             sqlite3_bind_int64(st, 5, now) | sqlite3_bind_int(st, 6, seq) | sqlite3_bind_text(st, 7, url, -1, SQLITE_STATIC);
    if (rc != SQLITE_OK) return sq_bind_failed(c, st, err);
    return sq_run(c, st, "add cluster", err);
}

/* Registers a new shared cluster ("shared-<n>") with the given status; its id into id. */
static int sq_shared_cluster_add(sq_conn *c, const char *status, int capacity, int64_t now, char id[STORE_ID_MAX], bs_err *err)
{
    int seq = 0;
    if (sq_query_int(c, ST_CLUSTER_NEXT_SEQ, &seq, err) < 0) return -1;
    snprintf(id, STORE_ID_MAX, "shared-%d", seq);
    return sq_cluster_add(c, id, "shared", status, capacity, now, seq, "", err);
}

/* Priority 3 of §5.5: the spare opens (registered first when there is none) and a new spare stands by. */
static int sq_place_spare(sq_conn *c, const char *env_id, int capacity, int64_t now, store_placement *out, bs_err *err)
{
    int got = sq_place_row(c, ST_PLACE_SPARE, NULL, out, err);
    if (got < 0) return -1;
    if (!got && sq_shared_cluster_add(c, "spare", capacity, now, out->cluster_id, err) < 0) return -1;
    char spare[STORE_ID_MAX];
    snprintf(out->kind, sizeof out->kind, "shared");
    out->slot = 0;
    int found = 0;
    if (sq_change_by_id_on(c, ST_CLUSTER_ACTIVATE, out->cluster_id, &found, err) < 0 ||
        sq_run_tit(c, ST_PLACE_SLOT_ADD, out->cluster_id, 0, env_id, err) < 0)
        return -1;
    return sq_shared_cluster_add(c, "spare", capacity, now, spare, err);
}

static int sq_place_shared(sq_conn *c, const char *env_id, int capacity, int64_t now, store_placement *out, bs_err *err)
{
    int got = sq_place_row(c, ST_PLACE_SERVER_SHARED, NULL, out, err);
    if (got != 0) return got < 0 ? -1 : sq_run_tit(c, ST_PLACE_SLOT_ADD, out->cluster_id, out->slot, env_id, err);
    got = sq_place_row(c, ST_PLACE_REUSE, NULL, out, err);
    if (got != 0) {
        out->reused = got > 0;
        return got < 0 ? -1 : sq_run_tit(c, ST_PLACE_TAKE, out->cluster_id, out->slot, env_id, err);
    }
    got = sq_place_row(c, ST_PLACE_ROOM, NULL, out, err);
    if (got > 0) return sq_run_tit(c, ST_PLACE_SLOT_ADD, out->cluster_id, out->slot, env_id, err);
    return got < 0 ? -1 : sq_place_spare(c, env_id, capacity, now, out, err);
}

static int sq_place_on(sq_conn *c, const char *env_id, int dedicated, int capacity, int64_t now, store_placement *out,
                       bs_err *err)
{
    int got = sq_place_row(c, ST_PLACE_FIND, env_id, out, err);
    if (got != 0) return got < 0 ? -1 : 0;
    int rc;
    if (dedicated && (got = sq_place_row(c, ST_PLACE_SERVER_DEDICATED, NULL, out, err)) != 0) {
        rc = got < 0 ? -1 : sq_run_tit(c, ST_PLACE_SLOT_ADD, out->cluster_id, out->slot, env_id, err);
    } else if (dedicated) {
        snprintf(out->cluster_id, sizeof out->cluster_id, "dedicated-%.26s", env_id);
        snprintf(out->kind, sizeof out->kind, "dedicated");
        out->slot = 0;
        int seq = 0;
        rc = sq_query_int(c, ST_CLUSTER_NEXT_SEQ, &seq, err);
        if (rc == 0) rc = sq_cluster_add(c, out->cluster_id, "dedicated", "active", 1, now, seq, "", err);
        if (rc == 0) rc = sq_run_tit(c, ST_PLACE_SLOT_ADD, out->cluster_id, 0, env_id, err);
    } else {
        rc = sq_place_shared(c, env_id, capacity, now, out, err);
    }
    return rc < 0 ? -1 : sq_run_tit(c, ST_ENV_SET_PLACE, out->cluster_id, out->slot, env_id, err);
}

static int sq_env_place(void *driver, const char *env_id, int dedicated, int capacity, int64_t now, store_placement *out,
                        bs_err *err)
{
    memset(out, 0, sizeof *out);
    sq_conn *c = sq_conn_get(driver, err);
    if (!c || sq_exec_id(c, ST_BEGIN, "begin", err) != 0) return -1;
    int rc = sq_place_on(c, env_id, dedicated, capacity, now, out, err);
    if (rc == 0) rc = sq_exec_id(c, ST_COMMIT, "commit", err);
    if (rc != 0 && !sqlite3_get_autocommit(c->db)) {
        bs_err ignored;
        sq_exec_id(c, ST_ROLLBACK, "rollback", &ignored);
    }
    return rc;
}

static int sq_env_placement(void *driver, const char *env_id, store_placement *out, int *found, bs_err *err)
{
    memset(out, 0, sizeof *out);
    *found = 0;
    sq_conn *c = sq_conn_get(driver, err);
    int got = c ? sq_place_row(c, ST_PLACE_FIND, env_id, out, err) : -1;
    if (got < 0) return -1;
    *found = got;
    return 0;
}

/* ---- ops: moving an environment (store_control_env_move_target / _commit) ---- */

#define MV_TARGET_SQL                                                                                          \
    "SELECT c.kind, c.status, c.capacity, c.url, (SELECT count(*) FROM cluster_slots s WHERE s.cluster_id = c.id" \
    " AND s.environment_id IS NOT NULL), COALESCE((SELECT min(s.slot) FROM cluster_slots s WHERE s.cluster_id = c.id" \
    " AND s.environment_id IS NULL AND c.kind = 'shared'), (SELECT COALESCE(max(s.slot) + 1, 0) FROM cluster_slots s" \
    " WHERE s.cluster_id = c.id)), COALESCE((SELECT s.cluster_id FROM cluster_slots s WHERE s.environment_id = ?2), '')" \
    " FROM clusters c WHERE c.id = ?1"

/* Prepares sql on c and binds text ?1, integer ?2 and text ?3 where the statement has them. */
static sqlite3_stmt *mv_prepare(sq_conn *c, const char *sql, const char *t1, int64_t i2, const char *t3, bs_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
        sq_fail(c, "move", err);
        sqlite3_finalize(st);
        return NULL;
    }
    int n = sqlite3_bind_parameter_count(st);
    if (n >= 1) sqlite3_bind_text(st, 1, t1, -1, SQLITE_STATIC);
    if (n >= 2) sqlite3_bind_int64(st, 2, i2);
    if (n >= 3) sqlite3_bind_text(st, 3, t3, -1, SQLITE_STATIC);
    return st;
}

static int mv_run(sq_conn *c, const char *sql, const char *t1, int64_t i2, const char *t3, bs_err *err)
{
    sqlite3_stmt *st = mv_prepare(c, sql, t1, i2, t3, err);
    if (!st) return -1;
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sq_fail(c, "move", err);
    sqlite3_finalize(st);
    return rc;
}

static int sq_env_move_target(void *driver, const char *env_id, const char *cluster_id, store_placement *out, bs_err *err)
{
    memset(out, 0, sizeof *out);
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? mv_prepare(c, MV_TARGET_SQL, cluster_id, 0, NULL, err) : NULL;
    if (!st) return -1;
    sqlite3_bind_text(st, 2, env_id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st), rc = 0, found = step == SQLITE_ROW;
    char status[STORE_ENUM_MAX] = "", current[STORE_ID_MAX] = "";
    int capacity = 0, used = 0;
    if (found) {
        rc = SQ_READ_FIELD(st, 0, out->kind) | SQ_READ_FIELD(st, 1, status) | SQ_READ_FIELD(st, 3, out->url) |
                     SQ_READ_FIELD(st, 6, current)
                 ? bs_err_internal(err) : 0;
        capacity = sqlite3_column_int(st, 2);
        used = sqlite3_column_int(st, 4);
        out->slot = sqlite3_column_int(st, 5);
        snprintf(out->cluster_id, sizeof out->cluster_id, "%s", cluster_id);
    } else if (step != SQLITE_DONE) {
        rc = sq_fail(c, "move target", err);
    }
    sqlite3_finalize(st);
    if (rc == 0) rc = store_move_target_check(found, status, capacity, used, out->url, current, cluster_id, err);
    if (rc < 0) memset(out, 0, sizeof *out);
    return rc;
}

/* Inside the transaction: frees env_id's place and takes `to`. */
static int mv_commit_on(sq_conn *c, const char *env_id, const store_placement *to, int64_t now, bs_err *err)
{
    sqlite3_stmt *st = mv_prepare(c, "SELECT COALESCE(environment_id, '') FROM cluster_slots WHERE cluster_id = ?1 AND slot = ?2",
                                  to->cluster_id, to->slot, NULL, err);
    if (!st) return -1;
    int step = sqlite3_step(st), exists = step == SQLITE_ROW;
    int taken = exists && sqlite3_column_bytes(st, 0) > 0;
    sqlite3_finalize(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE) return sq_fail(c, "move", err);
    if (taken) return bs_err_set(err, 409, "common/conflict", "Another environment took the place meanwhile");
    store_placement old;
    memset(&old, 0, sizeof old);
    int had = sq_place_row(c, ST_PLACE_FIND, env_id, &old, err);
    if (had < 0) return -1;
    int rc = 0;
    if (had && !strcmp(old.kind, "dedicated")) {
        rc = mv_run(c, "DELETE FROM cluster_slots WHERE environment_id = ?1", env_id, 0, NULL, err);
        if (rc == 0 && !old.url[0]) rc = mv_run(c, "DELETE FROM clusters WHERE id = ?1", old.cluster_id, 0, NULL, err);
    } else if (had) {
        rc = mv_run(c, "UPDATE cluster_slots SET environment_id = NULL, freed_at = ?2 WHERE environment_id = ?1", env_id, now,
                    NULL, err);
    }
    if (rc == 0)
        rc = mv_run(c, exists ? "UPDATE cluster_slots SET environment_id = ?3, freed_at = NULL WHERE cluster_id = ?1 AND slot = ?2"
                              : "INSERT INTO cluster_slots (cluster_id, slot, environment_id) VALUES (?1, ?2, ?3)",
                    to->cluster_id, to->slot, env_id, err);
    return rc < 0 ? -1 : sq_run_tit(c, ST_ENV_SET_PLACE, to->cluster_id, to->slot, env_id, err);
}

static int sq_env_move_commit(void *driver, const char *env_id, const store_placement *to, int64_t now, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    if (!c || sq_exec_id(c, ST_BEGIN, "begin", err) != 0) return -1;
    int rc = mv_commit_on(c, env_id, to, now, err);
    if (rc == 0) rc = sq_exec_id(c, ST_COMMIT, "commit", err);
    if (rc != 0 && !sqlite3_get_autocommit(c->db)) {
        bs_err ignored;
        sq_exec_id(c, ST_ROLLBACK, "rollback", &ignored);
    }
    return rc;
}

static int sq_slots_reclaim(void *driver, int64_t now, int64_t *count, bs_err *err)
{
    *count = 0;
    sq_conn *c = sq_conn_get(driver, err);
    if (!c || sq_exec_id(c, ST_SLOTS_RECLAIM_DEDICATED, "reclaim dedicated clusters", err) < 0 ||
        sq_exec_id(c, ST_SLOTS_RECLAIM_SERVERS, "reclaim dedicated servers' slots", err) < 0)
        return -1;
    int64_t servers = sqlite3_changes(c->db);
    sqlite3_stmt *st = sq_stmt(c, ST_SLOTS_RECLAIM, err);
    if (!st) return -1;
    if (sqlite3_bind_int64(st, 1, now) != SQLITE_OK) return sq_bind_failed(c, st, err);
    if (sq_run(c, st, "reclaim slots", err) < 0) return -1;
    *count = servers + sqlite3_changes(c->db);
    return 0;
}

static int sq_cluster_read(sqlite3_stmt *st, void *dst)
{
    store_cluster *out = dst;
    int bad = SQ_READ_FIELD(st, 0, out->id) | SQ_READ_FIELD(st, 1, out->kind) | SQ_READ_FIELD(st, 2, out->status);
    out->capacity = sqlite3_column_int(st, 3);
    out->created_at = sqlite3_column_int64(st, 4);
    out->used = sqlite3_column_int(st, 5);
    bad |= SQ_READ_FIELD(st, 6, out->url);
    return bad ? -1 : 0;
}

static int sq_envs_unplaced(void *driver, store_env *out, size_t max, size_t *count, bs_err *err)
{
    return sq_list_rows(driver, ST_ENVS_UNPLACED, "all", sq_env_read, out, sizeof *out, max, count, err);
}

static int sq_cluster_list(void *driver, store_cluster *out, size_t max, size_t *count, bs_err *err)
{
    return sq_list_rows(driver, ST_CLUSTER_LIST, "all", sq_cluster_read, out, sizeof *out, max, count, err);
}

static int sq_cluster_add_op(void *driver, const store_cluster *cl, int64_t now, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    if (!c || sq_exec_id(c, ST_BEGIN, "begin", err) != 0) return -1;
    int seq = 0;
    int rc = sq_query_int(c, ST_CLUSTER_NEXT_SEQ, &seq, err);
    if (rc == 0) rc = sq_cluster_add(c, cl->id, cl->kind, "active", cl->capacity, now, seq, cl->url, err);
    if (rc == 0) rc = sq_exec_id(c, ST_COMMIT, "commit", err);
    if (rc != 0 && !sqlite3_get_autocommit(c->db)) {
        bs_err ignored;
        sq_exec_id(c, ST_ROLLBACK, "rollback", &ignored);
    }
    return rc;
}

static int sq_cluster_set_status(void *driver, const char *id, const char *status, int *found, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, ST_CLUSTER_SET_STATUS, err) : NULL;
    if (!st) return -1;
    return sq_update_bound(c, st, sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC) |
                                      sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC), found, err);
}

static int sq_activity_add(void *driver, const store_activity *a, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, ST_ACTIVITY_ADD, err) : NULL;
    if (!st) return -1;
    int rc = SQ_BIND_FIELD(st, 1, a->organization_id) | SQ_BIND_FIELD(st, 2, a->project_id) |
             SQ_BIND_FIELD(st, 3, a->actor) | SQ_BIND_FIELD(st, 4, a->actor_type) |
             SQ_BIND_FIELD(st, 5, a->entity_type) | SQ_BIND_FIELD(st, 6, a->entity_id) |
             SQ_BIND_FIELD(st, 7, a->action) | SQ_BIND_FIELD(st, 8, a->message) | sqlite3_bind_int64(st, 9, a->at) |
             SQ_BIND_FIELD(st, 10, a->environment);
    if (rc != SQLITE_OK) return sq_bind_failed(c, st, err);
    return sq_run(c, st, "insert activity", err);
}

static int sq_bind_opt(sqlite3_stmt *st, int idx, const char *text)
{
    return sq_bind_texts(st, idx, &text, 1);
}

/* A page of a filtered list, shared by the management lists: list_id gets the filter (bind) and then
 * LIMIT as ?limit_at and OFFSET as ?limit_at + 1, count_id the filter only; *total = all that match. */
typedef int (*sq_filter_binder)(sqlite3_stmt *st, const void *query);
static int sq_paged(void *driver, stmt_id list_id, stmt_id count_id, sq_filter_binder bind, const void *query, int limit_at,
                    size_t limit, int64_t offset, sq_row_reader reader, void *out, size_t size, size_t *count, int64_t *total,
                    bs_err *err);

static int sq_activity_bind(sqlite3_stmt *st, const void *query)
{
    const store_activity_query *q = query;
    return sqlite3_bind_text(st, 1, q->organization_id, -1, SQLITE_STATIC) | sq_bind_opt(st, 2, q->entity_type) |
           sq_bind_opt(st, 3, q->action) | sq_bind_opt(st, 4, q->search) | sq_bind_opt(st, 5, q->project_id) |
           sq_bind_opt(st, 6, q->environment);
}

static int sq_activity_read(sqlite3_stmt *st, void *dst)
{
    store_activity *a = dst;
    a->id = sqlite3_column_int64(st, 0);
    int bad = SQ_READ_FIELD(st, 1, a->organization_id) | SQ_READ_FIELD(st, 2, a->project_id) |
              SQ_READ_FIELD(st, 3, a->actor) | SQ_READ_FIELD(st, 4, a->actor_type) |
              SQ_READ_FIELD(st, 5, a->entity_type) | SQ_READ_FIELD(st, 6, a->entity_id) |
              SQ_READ_FIELD(st, 7, a->action) | SQ_READ_FIELD(st, 8, a->message) | SQ_READ_FIELD(st, 10, a->environment);
    a->at = sqlite3_column_int64(st, 9);
    return bad ? -1 : 0;
}

static int sq_activity_list(void *driver, const store_activity_query *q, store_activity *out, size_t *count,
                            int64_t *total, bs_err *err)
{
    return sq_paged(driver, ST_ACTIVITY_LIST, ST_ACTIVITY_COUNT, sq_activity_bind, q, 7, q->limit, q->offset, sq_activity_read,
                    out, sizeof *out, count, total, err);
}

/* ---- ops: team ---- */

/* Ends a transaction begun with ST_BEGIN: commits when rc is 0, else rolls back; returns rc (or the
 * commit's failure). */
static int sq_tx_end(sq_conn *c, int rc, bs_err *err)
{
    if (rc == 0) rc = sq_exec_id(c, ST_COMMIT, "commit", err);
    if (rc != 0 && !sqlite3_get_autocommit(c->db)) {
        bs_err ignored;
        sq_exec_id(c, ST_ROLLBACK, "rollback", &ignored);
    }
    return rc;
}

static int sq_member_read(sqlite3_stmt *st, void *dst)
{
    store_member *m = dst;
    int bad = SQ_READ_FIELD(st, 0, m->id) | SQ_READ_FIELD(st, 1, m->organization_id) | SQ_READ_FIELD(st, 2, m->email) |
              SQ_READ_FIELD(st, 3, m->name) | SQ_READ_FIELD(st, 4, m->role) | SQ_READ_FIELD(st, 5, m->status) |
              SQ_READ_FIELD(st, 6, m->invited_by);
    m->joined_at = sqlite3_column_int64(st, 7);
    return bad ? -1 : 0;
}

static int sq_token_row_read(sqlite3_stmt *st, void *dst)
{
    store_operator_token_row *row = dst;
    store_operator_token *t = &row->token;
    int bad = SQ_READ_FIELD(st, 0, t->id) | SQ_READ_FIELD(st, 1, t->organization_id) | SQ_READ_FIELD(st, 2, t->name) |
              SQ_READ_FIELD(st, 3, t->role) | SQ_READ_FIELD(st, 4, t->hash) | SQ_READ_FIELD(st, 5, t->hint) |
              SQ_READ_FIELD(st, 8, t->member_id);
    t->expires_at = sqlite3_column_int64(st, 6);
    t->created_at = sqlite3_column_int64(st, 7);
    row->revoked_at = sqlite3_column_int64(st, 9);
    return bad ? -1 : 0;
}

static int sq_invitation_read(sqlite3_stmt *st, void *dst)
{
    store_org_invitation *v = dst;
    int bad = SQ_READ_FIELD(st, 0, v->id) | SQ_READ_FIELD(st, 1, v->organization_id) | SQ_READ_FIELD(st, 2, v->email) |
              SQ_READ_FIELD(st, 3, v->name) | SQ_READ_FIELD(st, 4, v->role) | SQ_READ_FIELD(st, 5, v->hash) |
              SQ_READ_FIELD(st, 6, v->invited_by) | SQ_READ_FIELD(st, 7, v->member_id);
    v->created_at = sqlite3_column_int64(st, 8);
    v->expires_at = sqlite3_column_int64(st, 9);
    v->accepted_at = sqlite3_column_int64(st, 10);
    v->revoked_at = sqlite3_column_int64(st, 11);
    return bad ? -1 : 0;
}

/* Steps a bound list statement, reading at most max rows of size bytes into out, and releases it. */
static int sq_rows_read(sq_conn *c, sqlite3_stmt *st, sq_row_reader reader, void *out, size_t size, size_t max,
                        size_t *count, bs_err *err)
{
    (void)c;
    int ret = sq_select_rows(st, control_fail_db, reader, out, size, max, count, err);
    sq_stmt_done(st);
    return ret;
}

/* Steps a bound one-integer query (count(*)) and releases it. */
static int sq_count_bound(sq_conn *c, sqlite3_stmt *st, int64_t *out, bs_err *err)
{
    (void)c;
    int ret = sq_select_int64(st, control_fail_db, out, err);
    sq_stmt_done(st);
    return ret;
}

static int sq_paged(void *driver, stmt_id list_id, stmt_id count_id, sq_filter_binder bind, const void *query, int limit_at,
                    size_t limit, int64_t offset, sq_row_reader reader, void *out, size_t size, size_t *count, int64_t *total,
                    bs_err *err)
{
    *count = 0;
    *total = 0;
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, list_id, err) : NULL;
    if (!st) return -1;
    if ((bind(st, query) | sq_bind_page(st, limit_at, limit, offset)) != SQLITE_OK)
        return sq_bind_failed(c, st, err);
    if (sq_rows_read(c, st, reader, out, size, limit, count, err) < 0) return -1;
    st = sq_stmt(c, count_id, err);
    if (!st) return -1;
    if (bind(st, query) != SQLITE_OK) return sq_bind_failed(c, st, err);
    return sq_count_bound(c, st, total, err);
}

static int sq_member_insert_on(sq_conn *c, const store_member *m, bs_err *err)
{
    sqlite3_stmt *st = sq_stmt(c, ST_MEMBER_INSERT, err);
    if (!st) return -1;
    int rc = SQ_BIND_FIELD(st, 1, m->id) | SQ_BIND_FIELD(st, 2, m->organization_id) | SQ_BIND_FIELD(st, 3, m->email) |
             SQ_BIND_FIELD(st, 4, m->name) | SQ_BIND_FIELD(st, 5, m->role) |
             sq_bind_fixed(st, 6, m->status[0] ? m->status : "active", sizeof m->status) |
             SQ_BIND_FIELD(st, 7, m->invited_by) | sqlite3_bind_int64(st, 8, m->joined_at);
    if (rc != SQLITE_OK) return sq_bind_failed(c, st, err);
    return sq_run(c, st, "insert member", err);
}

static int sq_member_insert(void *driver, const store_member *m, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    return c ? sq_member_insert_on(c, m, err) : -1;
}

static int sq_member_get(void *driver, const char *org_id, const char *member_id, store_member *out, int *found, bs_err *err)
{
    return sq_get_row(driver, ST_MEMBER_GET, member_id, org_id, sq_member_read, out, sizeof *out, found, err);
}

static int sq_member_find_email(void *driver, const char *org_id, const char *email, store_member *out, int *found,
                                bs_err *err)
{
    return sq_get_row(driver, ST_MEMBER_BY_EMAIL, email, org_id, sq_member_read, out, sizeof *out, found, err);
}

static int sq_member_bind(sqlite3_stmt *st, const void *query)
{
    const store_member_query *q = query;
    return sqlite3_bind_text(st, 1, q->organization_id, -1, SQLITE_STATIC) | sq_bind_opt(st, 2, q->role) |
           sq_bind_opt(st, 3, q->search);
}

static int sq_member_list(void *driver, const store_member_query *q, store_member *out, size_t *count, int64_t *total,
                          bs_err *err)
{
    return sq_paged(driver, ST_MEMBER_LIST, ST_MEMBER_COUNT, sq_member_bind, q, 4, q->limit, q->offset, sq_member_read, out,
                    sizeof *out, count, total, err);
}

/* Inside a transaction: the member (found or not) and, when it is an owner, how many owners there are. */
static int sq_member_and_owners(void *driver, sq_conn *c, const char *org_id, const char *member_id, store_member *m,
                                int *found, int64_t *owners, bs_err *err)
{
    *owners = 0;
    if (sq_member_get(driver, org_id, member_id, m, found, err) < 0) return -1;
    if (!*found || strcmp(m->role, "owner")) return 0;
    sqlite3_stmt *st = sq_stmt(c, ST_MEMBER_OWNERS, err);
    if (!st) return -1;
    if (sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC) != SQLITE_OK) return sq_bind_failed(c, st, err);
    return sq_count_bound(c, st, owners, err);
}

/* Runs a two-text-parameter change (?1, ?2) and an optional third text parameter. */
static int sq_change2(sq_conn *c, stmt_id id, const char *p1, const char *p2, const char *p3, bs_err *err)
{
    sqlite3_stmt *st = sq_stmt(c, id, err);
    if (!st) return -1;
    int rc = sqlite3_bind_text(st, 1, p1, -1, SQLITE_STATIC) | sqlite3_bind_text(st, 2, p2, -1, SQLITE_STATIC);
    if (p3) rc |= sqlite3_bind_text(st, 3, p3, -1, SQLITE_STATIC);
    if (rc != SQLITE_OK) return sq_bind_failed(c, st, err);
    return sq_run(c, st, "update team", err);
}

static int sq_member_set_role(void *driver, const char *org_id, const char *member_id, const char *role,
                              store_team_outcome *outcome, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    store_member m;
    int found = 0;
    int64_t owners = 0;
    *outcome = STORE_TEAM_NOT_FOUND;
    if (!c || sq_exec_id(c, ST_BEGIN, "begin", err) != 0) return -1;
    int rc = sq_member_and_owners(driver, c, org_id, member_id, &m, &found, &owners, err);
    if (rc == 0 && found && !strcmp(m.role, "owner") && strcmp(role, "owner") && owners <= 1) *outcome = STORE_TEAM_LAST_OWNER;
    else if (rc == 0 && found) {
        rc = sq_change2(c, ST_MEMBER_SET_ROLE, member_id, org_id, role, err);
        if (rc == 0) *outcome = STORE_TEAM_DONE;
    }
    return sq_tx_end(c, rc, err);
}

static int sq_member_remove(void *driver, const char *org_id, const char *member_id, int64_t at,
                            store_team_outcome *outcome, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    store_member m;
    int found = 0;
    int64_t owners = 0;
    *outcome = STORE_TEAM_NOT_FOUND;
    if (!c || sq_exec_id(c, ST_BEGIN, "begin", err) != 0) return -1;
    int rc = sq_member_and_owners(driver, c, org_id, member_id, &m, &found, &owners, err);
    if (rc == 0 && found && !strcmp(m.role, "owner") && owners <= 1) *outcome = STORE_TEAM_LAST_OWNER;
    else if (rc == 0 && found) {
        rc = sq_change2(c, ST_MEMBER_DELETE, member_id, org_id, NULL, err);
        int revoked = 0;
        if (rc == 0) rc = sq_change_by_id(driver, ST_MEMBER_TOKENS_REVOKE, member_id, sq_revoke_time(at), &revoked, err);
        if (rc == 0) *outcome = STORE_TEAM_DONE;
    }
    return sq_tx_end(c, rc, err);
}

static int sq_member_transfer(void *driver, const char *org_id, const char *member_id, int *found, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    store_member m;
    *found = 0;
    if (!c || sq_exec_id(c, ST_BEGIN, "begin", err) != 0) return -1;
    int rc = sq_member_get(driver, org_id, member_id, &m, found, err);
    if (rc == 0 && *found) rc = sq_change2(c, ST_MEMBER_DEMOTE_OWNERS, member_id, org_id, NULL, err);
    if (rc == 0 && *found) rc = sq_change2(c, ST_MEMBER_SET_ROLE, member_id, org_id, "owner", err);
    return sq_tx_end(c, rc, err);
}

static int sq_operator_token_list(void *driver, const char *org_id, store_operator_token_row *out, size_t max,
                                  size_t *count, bs_err *err)
{
    return sq_list_rows(driver, ST_TOKEN_LIST, org_id, sq_token_row_read, out, sizeof *out, max, count, err);
}

static int sq_operator_token_get(void *driver, const char *org_id, const char *token_id, store_operator_token_row *out,
                                 int *found, bs_err *err)
{
    return sq_get_row(driver, ST_TOKEN_GET, token_id, org_id, sq_token_row_read, out, sizeof *out, found, err);
}

static int sq_invitation_insert(void *driver, const store_org_invitation *v, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    if (!c || sq_exec_id(c, ST_BEGIN, "begin", err) != 0) return -1;
    int rc = sq_change2(c, ST_INVITE_DISCARD, v->organization_id, v->email, NULL, err);
    sqlite3_stmt *st = rc == 0 ? sq_stmt(c, ST_INVITE_INSERT, err) : NULL;
    if (st) {
        int b = SQ_BIND_FIELD(st, 1, v->id) | SQ_BIND_FIELD(st, 2, v->organization_id) | SQ_BIND_FIELD(st, 3, v->email) |
                SQ_BIND_FIELD(st, 4, v->name) | SQ_BIND_FIELD(st, 5, v->role) | SQ_BIND_FIELD(st, 6, v->hash) |
                SQ_BIND_FIELD(st, 7, v->invited_by) | sqlite3_bind_int64(st, 8, v->created_at) |
                sqlite3_bind_int64(st, 9, v->expires_at);
        rc = b != SQLITE_OK ? sq_bind_failed(c, st, err) : sq_run(c, st, "insert invitation", err);
    } else {
        rc = -1;
    }
    return sq_tx_end(c, rc, err);
}

static int sq_invitation_get(void *driver, const char *org_id, const char *id, store_org_invitation *out, int *found,
                             bs_err *err)
{
    return sq_get_row(driver, ST_INVITE_GET, id, org_id, sq_invitation_read, out, sizeof *out, found, err);
}

static int sq_invitation_lookup(void *driver, const char *hash_hex, store_org_invitation *out, int *found, bs_err *err)
{
    return sq_get_row(driver, ST_INVITE_LOOKUP, hash_hex, NULL, sq_invitation_read, out, sizeof *out, found, err);
}

static int sq_invitation_bind(sqlite3_stmt *st, const void *query)
{
    const store_org_invitation_query *q = query;
    return sqlite3_bind_text(st, 1, q->organization_id, -1, SQLITE_STATIC) | sqlite3_bind_int64(st, 2, q->now) |
           sq_bind_opt(st, 3, q->status);
}

static int sq_invitation_list(void *driver, const store_org_invitation_query *q, store_org_invitation *out, size_t *count,
                              int64_t *total, bs_err *err)
{
    return sq_paged(driver, ST_INVITE_LIST, ST_INVITE_COUNT, sq_invitation_bind, q, 4, q->limit, q->offset, sq_invitation_read,
                    out, sizeof *out, count, total, err);
}

static int sq_invitation_revoke(void *driver, const char *org_id, const char *id, int64_t at, int *found, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, ST_INVITE_REVOKE, err) : NULL;
    if (!st) return -1;
    int rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC) | sqlite3_bind_text(st, 2, org_id, -1, SQLITE_STATIC) |
             sqlite3_bind_int64(st, 3, sq_revoke_time(at));
    return sq_update_bound(c, st, rc, found, err);
}

static int sq_invitation_accept(void *driver, const char *id, int64_t at, const store_member *m,
                                const store_operator_token *t, int *accepted, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, ST_INVITE_ACCEPT, err) : NULL;
    *accepted = 0;
    if (!st || sq_exec_id(c, ST_BEGIN, "begin", err) != 0) return -1;
    int rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC) | sqlite3_bind_int64(st, 2, at) |
             SQ_BIND_FIELD(st, 3, m->id);
    rc = sq_update_bound(c, st, rc, accepted, err);
    if (rc == 0 && *accepted) rc = sq_member_insert_on(c, m, err);
    if (rc == 0 && *accepted) rc = sq_token_insert_on(c, t, err);
    if (rc != 0) *accepted = 0;
    if (rc == 0 && !*accepted) {
        sq_exec_id(c, ST_ROLLBACK, "rollback", err);
        return 0;
    }
    return sq_tx_end(c, rc, err);
}

/* ---- ops: console sessions and sign-in links ---- */

/* Runs a statement binding only the integer ?1 (a prune by time). */
static int sq_run_at(sq_conn *c, stmt_id id, int64_t at, bs_err *err)
{
    sqlite3_stmt *st = sq_stmt(c, id, err);
    if (!st) return -1;
    if (sqlite3_bind_int64(st, 1, at) != SQLITE_OK) return sq_bind_failed(c, st, err);
    return sq_run(c, st, "prune", err);
}

static int sq_console_session_insert(void *driver, const store_console_session *s, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    if (!c || sq_run_at(c, ST_CONSOLE_SESSION_PRUNE, s->created_at, err) != 0) return -1;
    sqlite3_stmt *st = sq_stmt(c, ST_CONSOLE_SESSION_INSERT, err);
    if (!st) return -1;
    int rc = SQ_BIND_FIELD(st, 1, s->hash) | SQ_BIND_FIELD(st, 2, s->token_id) | SQ_BIND_FIELD(st, 3, s->csrf) |
             sqlite3_bind_int64(st, 4, s->created_at) | sqlite3_bind_int64(st, 5, s->expires_at);
    if (rc != SQLITE_OK) return sq_bind_failed(c, st, err);
    return sq_run(c, st, "insert console session", err);
}

static int sq_console_session_read(sqlite3_stmt *st, void *dst)
{
    store_console_session *s = dst;
    store_token_context *t = &s->token;
    int bad = SQ_READ_FIELD(st, 0, s->hash) | SQ_READ_FIELD(st, 1, s->token_id) | SQ_READ_FIELD(st, 2, s->csrf) |
              SQ_READ_FIELD(st, 5, t->token_id) | SQ_READ_FIELD(st, 6, t->organization_id) |
              SQ_READ_FIELD(st, 7, t->role) | SQ_READ_FIELD(st, 10, t->member_id);
    s->created_at = sqlite3_column_int64(st, 3);
    s->expires_at = sqlite3_column_int64(st, 4);
    t->expires_at = sqlite3_column_int64(st, 8);
    t->revoked_at = sqlite3_column_int64(st, 9);
    return bad ? -1 : 0;
}

static int sq_console_session_lookup(void *driver, const char *hash_hex, store_console_session *out, int *found,
                                     bs_err *err)
{
    return sq_get_row(driver, ST_CONSOLE_SESSION_LOOKUP, hash_hex, NULL, sq_console_session_read, out, sizeof *out,
                      found, err);
}

static int sq_console_session_delete(void *driver, const char *hash_hex, int *found, bs_err *err)
{
    return sq_change_by_id(driver, ST_CONSOLE_SESSION_DELETE, hash_hex, -1, found, err);
}

static int sq_console_tokens_prune(void *driver, const char *name, int64_t now, const char *token_id, int64_t *count,
                                   bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, ST_CONSOLE_TOKENS_PRUNE, err) : NULL;
    if (!st) return -1;
    int rc = sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) | sqlite3_bind_int64(st, 2, now) | sq_bind_opt(st, 3, token_id);
    if (rc != SQLITE_OK) return sq_bind_failed(c, st, err);
    if (sq_run(c, st, "prune console link tokens", err) != 0) return -1;
    *count = sqlite3_changes(c->db);
    return 0;
}

static int sq_console_link_insert(void *driver, const store_console_link *l, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    if (!c || sq_run_at(c, ST_CONSOLE_LINK_PRUNE, l->created_at, err) != 0) return -1;
    sqlite3_stmt *st = sq_stmt(c, ST_CONSOLE_LINK_INSERT, err);
    if (!st) return -1;
    int rc = SQ_BIND_FIELD(st, 1, l->hash) | SQ_BIND_FIELD(st, 2, l->organization_id) |
             sqlite3_bind_int64(st, 3, l->created_at) | sqlite3_bind_int64(st, 4, l->expires_at);
    if (rc != SQLITE_OK) return sq_bind_failed(c, st, err);
    return sq_run(c, st, "insert console link", err);
}

static int sq_console_link_read(sqlite3_stmt *st, void *dst)
{
    store_console_link *l = dst;
    int bad = SQ_READ_FIELD(st, 0, l->hash) | SQ_READ_FIELD(st, 1, l->organization_id);
    l->created_at = sqlite3_column_int64(st, 2);
    l->expires_at = sqlite3_column_int64(st, 3);
    l->used_at = sqlite3_column_int64(st, 4);
    return bad ? -1 : 0;
}

/* One UPDATE ... RETURNING: the row is changed (and returned) only when it was still usable. */
static int sq_console_link_consume(void *driver, const char *hash_hex, int64_t at, store_console_link *out, int *consumed,
                                   bs_err *err)
{
    *consumed = 0;
    memset(out, 0, sizeof *out);
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, ST_CONSOLE_LINK_CONSUME, err) : NULL;
    if (!st) return -1;
    if ((sqlite3_bind_text(st, 1, hash_hex, -1, SQLITE_STATIC) | sqlite3_bind_int64(st, 2, at)) != SQLITE_OK)
        return sq_bind_failed(c, st, err);
    int rc = sq_select_one(st, control_fail_db, sq_console_link_read, out, sizeof *out, consumed, err);
    sq_stmt_done(st);
    return rc;
}

/* ---- ops: leases ---- */

static int sq_fence_read(sqlite3_stmt *st, void *dst)
{
    *(int64_t *)dst = sqlite3_column_int64(st, 0);
    return 0;
}

static int sq_lease_take(void *driver, const char *name, const char *holder, int64_t ttl_ms, int64_t *fence, int *held, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, ST_LEASE_TAKE, err) : NULL;
    if (!st) return -1;
    if ((sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) | sqlite3_bind_text(st, 2, holder, -1, SQLITE_STATIC) |
         sqlite3_bind_int64(st, 3, clock_now_ms()) | sqlite3_bind_int64(st, 4, ttl_ms)) != SQLITE_OK)
        return sq_bind_failed(c, st, err);
    int rc = sq_select_one(st, control_fail_db, sq_fence_read, fence, sizeof *fence, held, err);
    sq_stmt_done(st);
    if (!*held) *fence = 0;
    return rc;
}

static int sq_lease_release(void *driver, const char *name, const char *holder, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, ST_LEASE_RELEASE, err) : NULL;
    int found = 0;
    if (!st) return -1;
    int rc = sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) | sqlite3_bind_text(st, 2, holder, -1, SQLITE_STATIC);
    return sq_update_bound(c, st, rc, &found, err);
}

/* ---- ops: usage alerts and webhook deliveries ---- */

static int sq_usage_mau_known(void *driver, const char *env_id, int64_t month_start, const char *user_id, int *known, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, ST_USAGE_MAU_KNOWN, err) : NULL;
    *known = 0;
    if (!st) return -1;
    if ((sqlite3_bind_text(st, 2, env_id, -1, SQLITE_STATIC) | sqlite3_bind_int64(st, 3, month_start)) != SQLITE_OK)
        return sq_bind_failed(c, st, err);
    int rc = sq_fetch_by(c, st, user_id, err);
    if (rc < 0) return -1;
    if (rc > 0) sq_stmt_done(st);
    *known = rc > 0;
    return 0;
}

static int sq_alert_add(void *driver, const store_alert *a, int *created, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, ST_ALERT_ADD, err) : NULL;
    *created = 0;
    if (!st) return -1;
    int rc = SQ_BIND_FIELD(st, 1, a->id) | SQ_BIND_FIELD(st, 2, a->organization_id) | SQ_BIND_FIELD(st, 3, a->metric) |
             SQ_BIND_FIELD(st, 4, a->month) | sqlite3_bind_int(st, 5, a->threshold) | sqlite3_bind_int64(st, 6, a->used) |
             sqlite3_bind_int64(st, 7, a->limit) | sqlite3_bind_int64(st, 8, a->created_at);
    return sq_update_bound(c, st, rc, created, err);
}

static int sq_alert_read(sqlite3_stmt *st, void *dst)
{
    store_alert *a = dst;
    int bad = SQ_READ_FIELD(st, 0, a->id) | SQ_READ_FIELD(st, 1, a->organization_id) | SQ_READ_FIELD(st, 2, a->metric) |
              SQ_READ_FIELD(st, 3, a->month);
    a->threshold = sqlite3_column_int(st, 4);
    a->used = sqlite3_column_int64(st, 5);
    a->limit = sqlite3_column_int64(st, 6);
    a->created_at = sqlite3_column_int64(st, 7);
    return bad ? -1 : 0;
}

/* sq_list_rows with a third text parameter (?3). */
static int sq_list_rows3(void *driver, stmt_id id, const char *key, const char *third, sq_row_reader reader, void *out,
                         size_t size, size_t max, size_t *count, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, id, err) : NULL;
    if (!st) return -1;
    if (sqlite3_bind_text(st, 3, third, -1, SQLITE_TRANSIENT) != SQLITE_OK) return sq_bind_failed(c, st, err);
    return sq_list_rows(driver, id, key, reader, out, size, max, count, err); /* keeps ?3: bindings survive until cleared */
}

static int sq_alert_list(void *driver, const char *org_id, const char *month, store_alert *out, size_t max, size_t *count,
                         bs_err *err)
{
    if (!month) return sq_list_rows(driver, ST_ALERT_LIST_ALL, org_id, sq_alert_read, out, sizeof *out, max, count, err);
    return sq_list_rows3(driver, ST_ALERT_LIST, org_id, month, sq_alert_read, out, sizeof *out, max, count, err);
}

/* Binds every column of a delivery in SQ_DELIVERY_COLUMNS order as ?1..?13. */
static int sq_delivery_bind(sqlite3_stmt *st, const store_delivery *d)
{
    return SQ_BIND_FIELD(st, 1, d->id) | SQ_BIND_FIELD(st, 2, d->organization_id) | SQ_BIND_FIELD(st, 3, d->project_id) |
           SQ_BIND_FIELD(st, 4, d->alert_id) | SQ_BIND_FIELD(st, 5, d->url) | SQ_BIND_FIELD(st, 6, d->payload) |
           SQ_BIND_FIELD(st, 7, d->status) | sqlite3_bind_int(st, 8, d->attempts) | sqlite3_bind_int(st, 9, d->last_status) |
           SQ_BIND_FIELD(st, 10, d->last_error) | sqlite3_bind_int64(st, 11, d->next_at) |
           sqlite3_bind_int64(st, 12, d->created_at) | sqlite3_bind_int64(st, 13, d->updated_at);
}

static int sq_delivery_write(void *driver, stmt_id id, const store_delivery *d, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    sqlite3_stmt *st = c ? sq_stmt(c, id, err) : NULL;
    if (!st) return -1;
    if (sq_delivery_bind(st, d) != SQLITE_OK) return sq_bind_failed(c, st, err);
    return sq_run(c, st, "write webhook delivery", err);
}

static int sq_delivery_add(void *driver, const store_delivery *d, bs_err *err)
{
    return sq_delivery_write(driver, ST_DELIVERY_ADD, d, err);
}

static int sq_delivery_update(void *driver, const store_delivery *d, bs_err *err)
{
    return sq_delivery_write(driver, ST_DELIVERY_UPDATE, d, err);
}

static int sq_delivery_read(sqlite3_stmt *st, void *dst)
{
    store_delivery *d = dst;
    int bad = SQ_READ_FIELD(st, 0, d->id) | SQ_READ_FIELD(st, 1, d->organization_id) | SQ_READ_FIELD(st, 2, d->project_id) |
              SQ_READ_FIELD(st, 3, d->alert_id) | SQ_READ_FIELD(st, 4, d->url) | SQ_READ_FIELD(st, 5, d->payload) |
              SQ_READ_FIELD(st, 6, d->status) | SQ_READ_FIELD(st, 9, d->last_error);
    d->attempts = sqlite3_column_int(st, 7);
    d->last_status = sqlite3_column_int(st, 8);
    d->next_at = sqlite3_column_int64(st, 10);
    d->created_at = sqlite3_column_int64(st, 11);
    d->updated_at = sqlite3_column_int64(st, 12);
    return bad ? -1 : 0;
}

static int sq_deliveries_due(void *driver, int64_t now, store_delivery *out, size_t max, size_t *count, bs_err *err)
{
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)now); /* sq_list_rows binds ?1 as text: the SQL casts it */
    size_t found = 0, kept = 0;
    if (sq_list_rows(driver, ST_DELIVERY_DUE, key, sq_delivery_read, out, sizeof *out, max, &found, err) < 0) return -1;
    sq_conn *c = sq_conn_get(driver, err);
    for (size_t i = 0; c && i < found; i++) { /* each claimed by a conditional update: kept only when this one changed it */
        sqlite3_stmt *st = sq_stmt(c, ST_DELIVERY_CLAIM, err);
        int claimed = 0;
        if (!st || sq_update_bound(c, st, sqlite3_bind_text(st, 1, out[i].id, -1, SQLITE_STATIC) | sqlite3_bind_int64(st, 2, now),
                                   &claimed, err) < 0)
            return -1;
        if (claimed) out[kept++] = out[i];
    }
    *count = kept;
    return c ? 0 : -1;
}

static int sq_delivery_list(void *driver, const char *org_id, store_delivery *out, size_t max, size_t *count, bs_err *err)
{
    return sq_list_rows(driver, ST_DELIVERY_LIST, org_id, sq_delivery_read, out, sizeof *out, max, count, err);
}

/* ---- usage ---- */

#define SQ_USAGE_ROLLED "rolled_until" /* usage_state: days before it have final daily rows */

/* Binds the integers of args to ?1.. (as many as the statement has) and runs it. */
static int sq_usage_run(sq_conn *c, stmt_id id, const int64_t *args, int nargs, const char *what, bs_err *err)
{
    sqlite3_stmt *st = sq_stmt(c, id, err);
    if (!st) return -1;
    int rc = SQLITE_OK, n = sqlite3_bind_parameter_count(st);
    for (int i = 0; i < nargs && i < n; i++) rc |= sqlite3_bind_int64(st, i + 1, args[i]);
    if (rc != SQLITE_OK) return sq_bind_failed(c, st, err);
    return sq_run(c, st, what, err);
}

/* One integer answer of a statement whose texts (?1..) and integers (then) are bound; NULL texts bind NULL. */
static int sq_usage_int(sq_conn *c, stmt_id id, const char *const *texts, int ntexts, const int64_t *ints, int nints,
                        int64_t *out, bs_err *err)
{
    sqlite3_stmt *st = sq_stmt(c, id, err);
    if (!st) return -1;
    int rc = SQLITE_OK;
    for (int i = 0; i < ntexts; i++) rc |= sq_bind_opt(st, i + 1, texts[i]);
    for (int i = 0; i < nints; i++) rc |= sqlite3_bind_int64(st, ntexts + i + 1, ints[i]);
    if (rc != SQLITE_OK) return sq_bind_failed(c, st, err);
    return sq_count_bound(c, st, out, err);
}

static int sq_usage_state_get(sq_conn *c, int64_t *value, bs_err *err)
{
    const char *name = SQ_USAGE_ROLLED;
    return sq_usage_int(c, ST_USAGE_STATE_GET, &name, 1, NULL, 0, value, err);
}

/* The sum of one period's rows with period_start in [from, to). */
static int sq_usage_part(sq_conn *c, const char *org, const char *project, const char *metric, const char *period,
                         int64_t from, int64_t to, int64_t *sum, bs_err *err)
{
    int64_t part = 0;
    const char *texts[] = {org, project, metric, period};
    const int64_t ints[] = {from, to};
    if (from >= to) return 0;
    if (sq_usage_int(c, ST_USAGE_SUM, texts, 4, ints, 2, &part, err) < 0) return -1;
    *sum += part;
    return 0;
}

static int sq_usage_sum(void *driver, const char *org, const char *project, const char *metric, int64_t from, int64_t to,
                        int64_t *sum, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    int64_t rolled = 0;
    *sum = 0;
    if (!c) return -1;
    if (!strcmp(metric, "storage")) {
        const char *texts[] = {org, project, metric};
        const int64_t ints[] = {from, to};
        return sq_usage_int(c, ST_USAGE_GAUGE_SUM, texts, 3, ints, 2, sum, err);
    }
    if (sq_usage_state_get(c, &rolled, err) < 0) return -1;
    /* closed whole days from daily rows, the edges and the days not closed yet from hourly rows */
    int64_t a = clock_day_start(from + STORE_USAGE_DAY_MS - 1), b = clock_day_start(to);
    if (b > rolled) b = rolled;
    if (a >= b) return sq_usage_part(c, org, project, metric, "hourly", from, to, sum, err);
    if (sq_usage_part(c, org, project, metric, "daily", a, b, sum, err) < 0 ||
        sq_usage_part(c, org, project, metric, "hourly", from, a, sum, err) < 0)
        return -1;
    return sq_usage_part(c, org, project, metric, "hourly", b, to, sum, err);
}

/* mau: records the users not yet recorded in the month; *added = how many. */
static int sq_usage_mau(sq_conn *c, const store_usage_delta *d, int64_t now, int64_t *added, bs_err *err)
{
    *added = 0;
    sqlite3_stmt *st = sq_stmt(c, ST_USAGE_MAU_ADD, err);
    for (size_t i = 0; st && i < d->nusers; i++) {
        int rc = SQ_BIND_FIELD(st, 1, d->environment_id) | sqlite3_bind_int64(st, 2, d->month_start) |
                 sqlite3_bind_text(st, 3, d->users[i], -1, SQLITE_STATIC) | sqlite3_bind_int64(st, 4, now);
        if (rc != SQLITE_OK) return sq_bind_failed(c, st, err);
        if (sq_run(c, st, "record a monthly user", err) < 0) return -1;
        *added += sqlite3_changes(c->db);
    }
    return st ? 0 : -1;
}

static int sq_usage_endpoints_add(sq_conn *c, const store_usage_delta *d, bs_err *err)
{
    sqlite3_stmt *st = d->nendpoints ? sq_stmt(c, ST_USAGE_ENDPOINT_ADD, err) : NULL;
    if (d->nendpoints && !st) return -1;
    for (size_t i = 0; i < d->nendpoints; i++) {
        const store_usage_endpoint *e = &d->endpoints[i];
        int rc = SQ_BIND_FIELD(st, 1, d->environment_id) | SQ_BIND_FIELD(st, 2, d->metric) |
                 sqlite3_bind_int64(st, 3, d->hour_start) | SQ_BIND_FIELD(st, 4, d->organization_id) |
                 SQ_BIND_FIELD(st, 5, e->endpoint) | sqlite3_bind_int64(st, 6, e->count);
        if (rc != SQLITE_OK) return sq_bind_failed(c, st, err);
        if (sq_run(c, st, "add usage endpoint", err) < 0) return -1;
    }
    return 0;
}

static int sq_usage_add_one(sq_conn *c, const store_usage_delta *d, int64_t now, bs_err *err)
{
    int64_t value = d->value, success = d->success_count;
    if (d->nusers) {
        if (sq_usage_mau(c, d, now, &value, err) < 0) return -1;
        if (!value) return 0;
        success = value;
    }
    sqlite3_stmt *st = sq_stmt(c, ST_USAGE_ADD, err);
    if (!st) return -1;
    int rc = SQ_BIND_FIELD(st, 1, d->environment_id) | SQ_BIND_FIELD(st, 2, d->metric) |
             sqlite3_bind_int64(st, 3, d->hour_start) | SQ_BIND_FIELD(st, 4, d->organization_id) |
             SQ_BIND_FIELD(st, 5, d->project_id) | SQ_BIND_FIELD(st, 6, d->environment) | sqlite3_bind_int64(st, 7, value) |
             sqlite3_bind_int64(st, 8, success) | sqlite3_bind_int64(st, 9, d->failure_count) |
             sqlite3_bind_int64(st, 10, d->response_us) | sqlite3_bind_int64(st, 11, now) |
             sqlite3_bind_int(st, 12, d->gauge ? 1 : 0);
    if (rc != SQLITE_OK) return sq_bind_failed(c, st, err);
    if (sq_run(c, st, "add usage", err) < 0) return -1;
    return sq_usage_endpoints_add(c, d, err);
}

static int sq_usage_add(void *driver, const store_usage_delta *d, size_t n, int64_t now, bs_err *err)
{
    sq_conn *c = sq_conn_get(driver, err);
    if (!c || sq_exec_id(c, ST_BEGIN, "begin", err) != 0) return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) rc = sq_usage_add_one(c, &d[i], now, err);
    return sq_tx_end(c, rc, err);
}

static int sq_usage_row_read(sqlite3_stmt *st, void *dst)
{
    store_usage_row *r = dst;
    int bad = SQ_READ_FIELD(st, 0, r->organization_id) | SQ_READ_FIELD(st, 1, r->project_id) |
              SQ_READ_FIELD(st, 2, r->environment_id) | SQ_READ_FIELD(st, 3, r->environment) |
              SQ_READ_FIELD(st, 4, r->metric) | SQ_READ_FIELD(st, 5, r->period) | SQ_READ_FIELD(st, 13, r->endpoints);
    r->period_start = sqlite3_column_int64(st, 6);
    r->value = sqlite3_column_int64(st, 7);
    r->success_count = sqlite3_column_int64(st, 8);
    r->failure_count = sqlite3_column_int64(st, 9);
    r->response_us = sqlite3_column_int64(st, 10);
    r->peak = sqlite3_column_int64(st, 11);
    r->min = sqlite3_column_int64(st, 12);
    return bad;
}

static int sq_usage_bind(sqlite3_stmt *st, const void *query)
{
    const store_usage_query *q = query;
    return sqlite3_bind_text(st, 1, q->organization_id, -1, SQLITE_STATIC) | sq_bind_opt(st, 2, q->project_id) |
           sq_bind_opt(st, 3, q->environment) | sq_bind_opt(st, 4, q->metric) |
           sqlite3_bind_text(st, 5, q->period, -1, SQLITE_STATIC) | sqlite3_bind_int64(st, 6, q->from_ms) |
           sqlite3_bind_int64(st, 7, q->to_ms);
}

static int sq_usage_list(void *driver, const store_usage_query *q, store_usage_row *out, size_t *count, int64_t *total,
                         bs_err *err)
{
    return sq_paged(driver, ST_USAGE_LIST, ST_USAGE_COUNT, sq_usage_bind, q, 8, q->limit, q->offset, sq_usage_row_read, out,
                    sizeof *out, count, total, err);
}

/* Deletes one period's rows (and endpoint counts) that start before `before`. */
static int sq_usage_purge(sq_conn *c, const char *period, int64_t before, bs_err *err)
{
    static const stmt_id ids[] = {ST_USAGE_PURGE, ST_USAGE_PURGE_ENDPOINTS};
    for (size_t i = 0; i < 2; i++) {
        sqlite3_stmt *st = sq_stmt(c, ids[i], err);
        if (!st) return -1;
        if ((sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC) | sqlite3_bind_int64(st, 2, before)) != SQLITE_OK)
            return sq_bind_failed(c, st, err);
        if (sq_run(c, st, "purge usage", err) < 0) return -1;
    }
    return 0;
}

/* Retention (whole days of hourly rows, whole months of daily rows, so that a bucket is rolled up only
 * from complete finer rows), the MAU sets of months before the previous one and, once a day, the rows of
 * organizations that are gone. */
static int sq_usage_retention(sq_conn *c, int64_t now, int new_day, bs_err *err)
{
    int64_t mau_before = clock_month_start(now, -1);
    if (sq_usage_purge(c, "hourly", clock_day_start(now - STORE_USAGE_HOURLY_KEEP_MS), err) < 0 ||
        sq_usage_purge(c, "daily", clock_month_start(now - STORE_USAGE_DAILY_KEEP_MS, 0), err) < 0 ||
        sq_usage_purge(c, "monthly", clock_month_start(now, -STORE_USAGE_MONTHLY_KEEP_MONTHS), err) < 0 ||
        sq_usage_run(c, ST_USAGE_PURGE_MAU, &mau_before, 1, "purge monthly users", err) < 0)
        return -1;
    if (!new_day) return 0;
    if (sq_usage_run(c, ST_USAGE_PURGE_ORPHANS, NULL, 0, "purge usage", err) < 0) return -1;
    return sq_usage_run(c, ST_USAGE_PURGE_ORPHAN_ENDPOINTS, NULL, 0, "purge usage", err);
}

static int sq_usage_rollup(void *driver, int64_t now, bs_err *err)
{
    static const stmt_id daily[] = {ST_USAGE_DAILY, ST_USAGE_DAILY_GAUGE, ST_USAGE_DAILY_ENDPOINTS};
    static const stmt_id monthly[] = {ST_USAGE_MONTHLY, ST_USAGE_MONTHLY_GAUGE, ST_USAGE_MONTHLY_ENDPOINTS};
    sq_conn *c = sq_conn_get(driver, err);
    int64_t rolled = 0;
    if (!c || sq_exec_id(c, ST_BEGIN, "begin", err) != 0) return -1;
    int rc = sq_usage_state_get(c, &rolled, err);
    int64_t day_args[] = {rolled, now}, month_args[] = {clock_month_start(rolled, 0), now};
    for (size_t i = 0; rc == 0 && i < 3; i++) rc = sq_usage_run(c, daily[i], day_args, 2, "daily roll-up", err);
    for (size_t i = 0; rc == 0 && i < 3; i++) rc = sq_usage_run(c, monthly[i], month_args, 2, "monthly roll-up", err);
    int64_t today = clock_day_start(now);
    if (rc == 0) rc = sq_usage_retention(c, now, today != rolled, err);
    sqlite3_stmt *st = rc == 0 ? sq_stmt(c, ST_USAGE_STATE_PUT, err) : NULL;
    if (rc == 0 && !st) rc = -1;
    if (st) {
        int b = sqlite3_bind_text(st, 1, SQ_USAGE_ROLLED, -1, SQLITE_STATIC) | sqlite3_bind_int64(st, 2, today);
        rc = b != SQLITE_OK ? sq_bind_failed(c, st, err) : sq_run(c, st, "usage watermark", err);
    }
    return sq_tx_end(c, rc, err);
}

static int sq_usage_env_read(sqlite3_stmt *st, void *dst)
{
    store_usage_env *e = dst;
    return SQ_READ_FIELD(st, 0, e->organization_id) | SQ_READ_FIELD(st, 1, e->project_id) |
           SQ_READ_FIELD(st, 2, e->environment_id) | SQ_READ_FIELD(st, 3, e->environment) | SQ_READ_FIELD(st, 4, e->status);
}

static int sq_usage_envs(void *driver, store_usage_env *out, size_t max, size_t *count, bs_err *err)
{
    return sq_list_rows(driver, ST_USAGE_ENVS, "all", sq_usage_env_read, out, sizeof *out, max, count, err);
}

const store_control_ops store_sqlite_control_ops = {
    .name = "sqlite",
    .open = sq_open,
    .free = sq_free,
    .ping = sq_ping,
    .version = sq_version,
    .is_empty = sq_is_empty,
    .bootstrap = sq_bootstrap,
    .org_insert = sq_org_insert,
    .project_insert = sq_project_insert,
    .env_insert = sq_env_insert,
    .api_key_insert = sq_api_key_insert,
    .operator_token_insert = sq_operator_token_insert,
    .org_get = sq_org_get,
    .env_get = sq_env_get,
    .api_key_revoke = sq_api_key_revoke,
    .operator_token_revoke = sq_operator_token_revoke,
    .env_delete = sq_env_delete,
    .key_lookup = sq_key_lookup,
    .token_lookup = sq_token_lookup,
    .project_get = sq_project_get,
    .env_find = sq_env_find,
    .api_key_list = sq_api_key_list,
    .api_key_count = sq_api_key_count,
    .env_secret = sq_env_secret,
    .outbox_add = sq_outbox_add,
    .outbox_list = sq_outbox_list,
    .org_outbox_list = sq_org_outbox_list,
    .provider_put = sq_provider_put,
    .provider_get = sq_provider_get,
    .setting_put = sq_setting_put,
    .setting_get = sq_setting_get,
    .setting_delete = sq_setting_delete,
    .api_key_get = sq_api_key_get,
    .org_update = sq_org_update,
    .org_delete = sq_org_delete,
    .project_list = sq_project_list,
    .project_count = sq_project_count,
    .project_update = sq_project_update,
    .project_delete = sq_project_delete,
    .env_list = sq_env_list,
    .env_set_status = sq_env_set_status,
    .env_touch = sq_env_touch,
    .env_shutdown_idle = sq_env_shutdown_idle,
    .env_deletions_due = sq_env_deletions_due,
    .env_cancel_deletion = sq_env_cancel_deletion,
    .env_place = sq_env_place,
    .env_placement = sq_env_placement,
    .env_move_target = sq_env_move_target,
    .env_move_commit = sq_env_move_commit,
    .slots_reclaim = sq_slots_reclaim,
    .cluster_list = sq_cluster_list,
    .cluster_add = sq_cluster_add_op,
    .cluster_set_status = sq_cluster_set_status,
    .envs_unplaced = sq_envs_unplaced,
    .activity_add = sq_activity_add,
    .activity_list = sq_activity_list,
    .member_insert = sq_member_insert,
    .member_get = sq_member_get,
    .member_find_email = sq_member_find_email,
    .member_list = sq_member_list,
    .member_set_role = sq_member_set_role,
    .member_remove = sq_member_remove,
    .member_transfer = sq_member_transfer,
    .operator_token_list = sq_operator_token_list,
    .operator_token_get = sq_operator_token_get,
    .invitation_insert = sq_invitation_insert,
    .invitation_get = sq_invitation_get,
    .invitation_lookup = sq_invitation_lookup,
    .invitation_list = sq_invitation_list,
    .invitation_revoke = sq_invitation_revoke,
    .invitation_accept = sq_invitation_accept,
    .usage_mau_known = sq_usage_mau_known,
    .alert_add = sq_alert_add,
    .alert_list = sq_alert_list,
    .delivery_add = sq_delivery_add,
    .deliveries_due = sq_deliveries_due,
    .delivery_update = sq_delivery_update,
    .delivery_list = sq_delivery_list,
    .usage_sum = sq_usage_sum,
    .usage_add = sq_usage_add,
    .usage_list = sq_usage_list,
    .usage_rollup = sq_usage_rollup,
    .usage_envs = sq_usage_envs,
    .console_session_insert = sq_console_session_insert,
    .console_session_lookup = sq_console_session_lookup,
    .console_session_delete = sq_console_session_delete,
    .console_tokens_prune = sq_console_tokens_prune,
    .console_link_insert = sq_console_link_insert,
    .console_link_consume = sq_console_link_consume,
    .lease_take = sq_lease_take,
    .lease_release = sq_lease_release,
};
