/* control_pg_schema: the control store's tables on PostgreSQL: the same rows as the SQLite driver's
 * migrations (store/sqlite/migrations.c, versions 1 to 14) in their final shape, as schema version 1 of
 * this driver; version 2 adds the console's tables (SQLite's v15). Timestamps and counters are BIGINT (epoch milliseconds), flags INTEGER 0/1, JSON TEXT,
 * secrets BYTEA; every TEXT column COLLATE "C" (bytes order, as SQLite's BINARY: ORDER BY agrees); e-mail uniqueness ignores case through lower(email) indexes (SQLite's COLLATE NOCASE):
 * queries compare lower(email) = lower($n). Append new versions; never edit a released one. */
#include "store/postgres/control_pg_parts.h"

const char *const pgc_schema_v1[] = {
    "CREATE TABLE organizations ("
    " id TEXT COLLATE \"C\" PRIMARY KEY, name TEXT COLLATE \"C\" NOT NULL, slug TEXT COLLATE \"C\" NOT NULL UNIQUE, display_name TEXT COLLATE \"C\" NOT NULL DEFAULT '',"
    " description TEXT COLLATE \"C\" NOT NULL DEFAULT '', notification_email TEXT COLLATE \"C\", plan TEXT COLLATE \"C\" NOT NULL DEFAULT 'free',"
    " status TEXT COLLATE \"C\" NOT NULL DEFAULT 'active', created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,"
    " scheduled_plan TEXT COLLATE \"C\" NOT NULL DEFAULT '', scheduled_at BIGINT NOT NULL DEFAULT 0, api_call_quota BIGINT,"
    " storage_quota BIGINT, mau_quota BIGINT, bandwidth_quota BIGINT)",
    "CREATE TABLE projects ("
    " id TEXT COLLATE \"C\" PRIMARY KEY, organization_id TEXT COLLATE \"C\" NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,"
    " name TEXT COLLATE \"C\" NOT NULL, slug TEXT COLLATE \"C\" NOT NULL, description TEXT COLLATE \"C\" NOT NULL DEFAULT '', primary_cloud TEXT COLLATE \"C\","
    " primary_region TEXT COLLATE \"C\", status TEXT COLLATE \"C\" NOT NULL DEFAULT 'active', settings TEXT COLLATE \"C\" NOT NULL DEFAULT '{}',"
    " created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, UNIQUE (organization_id, slug))",
    "CREATE TABLE environments ("
    " id TEXT COLLATE \"C\" PRIMARY KEY, project_id TEXT COLLATE \"C\" NOT NULL REFERENCES projects(id) ON DELETE CASCADE, name TEXT COLLATE \"C\" NOT NULL,"
    " type TEXT COLLATE \"C\" NOT NULL, status TEXT COLLATE \"C\" NOT NULL, cluster TEXT COLLATE \"C\", last_access_at BIGINT, created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL, shutdown_at BIGINT NOT NULL DEFAULT 0, delete_at BIGINT NOT NULL DEFAULT 0,"
    " status_before TEXT COLLATE \"C\" NOT NULL DEFAULT '', slot BIGINT NOT NULL DEFAULT 0, UNIQUE (project_id, name))",
    "CREATE TABLE api_keys ("
    " id TEXT COLLATE \"C\" PRIMARY KEY, environment_id TEXT COLLATE \"C\" NOT NULL REFERENCES environments(id) ON DELETE CASCADE,"
    " type TEXT COLLATE \"C\" NOT NULL, name TEXT COLLATE \"C\" NOT NULL, key_hash TEXT COLLATE \"C\" NOT NULL UNIQUE, key_hint TEXT COLLATE \"C\" NOT NULL, scopes TEXT COLLATE \"C\","
    " expires_at BIGINT, revoked_at BIGINT, created_by TEXT COLLATE \"C\", created_at BIGINT NOT NULL)",
    "CREATE INDEX api_keys_environment ON api_keys (environment_id)",
    "CREATE TABLE operator_tokens ("
    " id TEXT COLLATE \"C\" PRIMARY KEY, organization_id TEXT COLLATE \"C\" NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,"
    " name TEXT COLLATE \"C\" NOT NULL, role TEXT COLLATE \"C\" NOT NULL, token_hash TEXT COLLATE \"C\" NOT NULL UNIQUE, token_hint TEXT COLLATE \"C\" NOT NULL,"
    " expires_at BIGINT, revoked_at BIGINT, created_by TEXT COLLATE \"C\", created_at BIGINT NOT NULL, member_id TEXT COLLATE \"C\")",
    "CREATE INDEX operator_tokens_organization ON operator_tokens (organization_id)",
    "CREATE INDEX operator_tokens_member ON operator_tokens (member_id)",
    "CREATE TABLE environment_secrets ("
    " environment_id TEXT COLLATE \"C\" NOT NULL REFERENCES environments(id) ON DELETE CASCADE, kind TEXT COLLATE \"C\" NOT NULL,"
    " secret BYTEA NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (environment_id, kind))",
    "CREATE TABLE outbox ("
    " seq BIGINT GENERATED ALWAYS AS IDENTITY, id TEXT COLLATE \"C\" PRIMARY KEY, environment_id TEXT COLLATE \"C\" NOT NULL REFERENCES environments(id) ON DELETE CASCADE,"
    " to_addr TEXT COLLATE \"C\" NOT NULL, subject TEXT COLLATE \"C\" NOT NULL, body TEXT COLLATE \"C\" NOT NULL, template TEXT COLLATE \"C\" NOT NULL,"
    " created_at BIGINT NOT NULL)",
    "CREATE INDEX outbox_environment ON outbox (environment_id, created_at)",
    "CREATE TABLE auth_providers ("
    " environment_id TEXT COLLATE \"C\" NOT NULL REFERENCES environments(id) ON DELETE CASCADE, provider TEXT COLLATE \"C\" NOT NULL,"
    " client_id TEXT COLLATE \"C\" NOT NULL, secret_sealed TEXT COLLATE \"C\" NOT NULL, redirect_uris TEXT COLLATE \"C\" NOT NULL, enabled INTEGER NOT NULL,"
    " updated_at BIGINT NOT NULL, PRIMARY KEY (environment_id, provider))",
    "CREATE TABLE environment_settings ("
    " environment_id TEXT COLLATE \"C\" NOT NULL REFERENCES environments(id) ON DELETE CASCADE, name TEXT COLLATE \"C\" NOT NULL,"
    " value TEXT COLLATE \"C\" NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (environment_id, name))",
    "CREATE TABLE activity ("
    " id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " organization_id TEXT COLLATE \"C\" NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,"
    " project_id TEXT COLLATE \"C\" NOT NULL DEFAULT '', actor TEXT COLLATE \"C\" NOT NULL, actor_type TEXT COLLATE \"C\" NOT NULL, entity_type TEXT COLLATE \"C\" NOT NULL,"
    " entity_id TEXT COLLATE \"C\" NOT NULL, action TEXT COLLATE \"C\" NOT NULL, message TEXT COLLATE \"C\" NOT NULL, at BIGINT NOT NULL)",
    "CREATE INDEX activity_organization ON activity (organization_id, at DESC, id DESC)",
    "CREATE TABLE members ("
    " id TEXT COLLATE \"C\" PRIMARY KEY, organization_id TEXT COLLATE \"C\" NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,"
    " email TEXT COLLATE \"C\", name TEXT COLLATE \"C\" NOT NULL, role TEXT COLLATE \"C\" NOT NULL, status TEXT COLLATE \"C\" NOT NULL DEFAULT 'active',"
    " invited_by TEXT COLLATE \"C\" NOT NULL DEFAULT '', joined_at BIGINT NOT NULL)",
    "CREATE UNIQUE INDEX members_organization_email ON members (organization_id, lower(email))",
    "CREATE TABLE invitations ("
    " id TEXT COLLATE \"C\" PRIMARY KEY, organization_id TEXT COLLATE \"C\" NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,"
    " email TEXT COLLATE \"C\" NOT NULL, name TEXT COLLATE \"C\" NOT NULL, role TEXT COLLATE \"C\" NOT NULL, token_hash TEXT COLLATE \"C\" NOT NULL UNIQUE,"
    " invited_by TEXT COLLATE \"C\" NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,"
    " accepted_at BIGINT NOT NULL DEFAULT 0, revoked_at BIGINT NOT NULL DEFAULT 0, member_id TEXT COLLATE \"C\" NOT NULL DEFAULT '')",
    "CREATE INDEX invitations_organization ON invitations (organization_id, created_at DESC)",
    "CREATE TABLE clusters ("
    " id TEXT COLLATE \"C\" PRIMARY KEY, kind TEXT COLLATE \"C\" NOT NULL, status TEXT COLLATE \"C\" NOT NULL, capacity BIGINT NOT NULL,"
    " created_at BIGINT NOT NULL, seq BIGINT NOT NULL)",
    "CREATE TABLE cluster_slots ("
    " cluster_id TEXT COLLATE \"C\" NOT NULL REFERENCES clusters(id) ON DELETE CASCADE, slot BIGINT NOT NULL,"
    " environment_id TEXT COLLATE \"C\", freed_at BIGINT, PRIMARY KEY (cluster_id, slot))",
    "CREATE UNIQUE INDEX cluster_slots_environment ON cluster_slots (environment_id) WHERE environment_id IS NOT NULL",
    "CREATE INDEX cluster_slots_free ON cluster_slots (freed_at, cluster_id, slot) WHERE environment_id IS NULL",
    "CREATE TABLE org_outbox ("
    " seq BIGINT GENERATED ALWAYS AS IDENTITY, id TEXT COLLATE \"C\" PRIMARY KEY, organization_id TEXT COLLATE \"C\" NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,"
    " to_addr TEXT COLLATE \"C\" NOT NULL, subject TEXT COLLATE \"C\" NOT NULL, body TEXT COLLATE \"C\" NOT NULL, template TEXT COLLATE \"C\" NOT NULL,"
    " created_at BIGINT NOT NULL)",
    "CREATE INDEX org_outbox_organization ON org_outbox (organization_id, created_at)",
    "CREATE TABLE usage ("
    " environment_id TEXT COLLATE \"C\" NOT NULL, metric TEXT COLLATE \"C\" NOT NULL, period TEXT COLLATE \"C\" NOT NULL, period_start BIGINT NOT NULL,"
    " organization_id TEXT COLLATE \"C\" NOT NULL, project_id TEXT COLLATE \"C\" NOT NULL, environment TEXT COLLATE \"C\" NOT NULL DEFAULT '',"
    " value BIGINT NOT NULL DEFAULT 0, success_count BIGINT NOT NULL DEFAULT 0, failure_count BIGINT NOT NULL DEFAULT 0,"
    " response_us BIGINT NOT NULL DEFAULT 0, peak BIGINT NOT NULL DEFAULT 0, min_value BIGINT NOT NULL DEFAULT 0,"
    " updated_at BIGINT NOT NULL, PRIMARY KEY (environment_id, metric, period, period_start))",
    "CREATE INDEX usage_organization ON usage (organization_id, metric, period, period_start)",
    "CREATE INDEX usage_period ON usage (period, period_start)",
    "CREATE TABLE usage_endpoints ("
    " environment_id TEXT COLLATE \"C\" NOT NULL, metric TEXT COLLATE \"C\" NOT NULL, period TEXT COLLATE \"C\" NOT NULL, period_start BIGINT NOT NULL,"
    " organization_id TEXT COLLATE \"C\" NOT NULL, endpoint TEXT COLLATE \"C\" NOT NULL, count BIGINT NOT NULL,"
    " PRIMARY KEY (environment_id, metric, period, period_start, endpoint))",
    "CREATE INDEX usage_endpoints_period ON usage_endpoints (period, period_start)",
    "CREATE TABLE usage_mau ("
    " environment_id TEXT COLLATE \"C\" NOT NULL, month_start BIGINT NOT NULL, user_id TEXT COLLATE \"C\" NOT NULL, first_seen BIGINT NOT NULL,"
    " PRIMARY KEY (environment_id, month_start, user_id))",
    "CREATE TABLE usage_state (name TEXT COLLATE \"C\" PRIMARY KEY, value BIGINT NOT NULL)",
    "CREATE TABLE usage_alerts ("
    " id TEXT COLLATE \"C\" PRIMARY KEY, organization_id TEXT COLLATE \"C\" NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,"
    " metric TEXT COLLATE \"C\" NOT NULL, month TEXT COLLATE \"C\" NOT NULL, threshold BIGINT NOT NULL, used BIGINT NOT NULL, quota BIGINT NOT NULL,"
    " created_at BIGINT NOT NULL, UNIQUE (organization_id, metric, month, threshold))",
    "CREATE TABLE webhook_deliveries ("
    " id TEXT COLLATE \"C\" PRIMARY KEY, organization_id TEXT COLLATE \"C\" NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,"
    " project_id TEXT COLLATE \"C\" NOT NULL, alert_id TEXT COLLATE \"C\" NOT NULL, url TEXT COLLATE \"C\" NOT NULL, payload TEXT COLLATE \"C\" NOT NULL, status TEXT COLLATE \"C\" NOT NULL,"
    " attempts BIGINT NOT NULL DEFAULT 0, last_status BIGINT NOT NULL DEFAULT 0, last_error TEXT COLLATE \"C\" NOT NULL DEFAULT '',"
    " next_at BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
    "CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_at)",
    "CREATE INDEX webhook_deliveries_organization ON webhook_deliveries (organization_id, created_at)",
};
const size_t pgc_schema_v1_count = sizeof pgc_schema_v1 / sizeof pgc_schema_v1[0];

/* Version 2: the web console's sessions and one-time sign-in links (SQLite's v15). */
const char *const pgc_schema_v2[] = {
    "CREATE TABLE console_sessions ("
    " session_hash TEXT COLLATE \"C\" PRIMARY KEY,"
    " token_id TEXT COLLATE \"C\" NOT NULL REFERENCES operator_tokens(id) ON DELETE CASCADE,"
    " csrf_token TEXT COLLATE \"C\" NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL)",
    "CREATE INDEX console_sessions_token ON console_sessions (token_id)",
    "CREATE INDEX console_sessions_expires ON console_sessions (expires_at)",
    "CREATE TABLE console_links ("
    " code_hash TEXT COLLATE \"C\" PRIMARY KEY,"
    " organization_id TEXT COLLATE \"C\" NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,"
    " created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, used_at BIGINT NOT NULL DEFAULT 0)",
    "CREATE INDEX console_links_expires ON console_links (expires_at)",
};
const size_t pgc_schema_v2_count = sizeof pgc_schema_v2 / sizeof pgc_schema_v2[0];

/* Version 3: clusters as data (SQLite's v16): a registered cluster's database server ('' = the default). */
const char *const pgc_schema_v3[] = {
    "ALTER TABLE clusters ADD COLUMN url TEXT COLLATE \"C\" NOT NULL DEFAULT ''",
};
const size_t pgc_schema_v3_count = sizeof pgc_schema_v3 / sizeof pgc_schema_v3[0];

/* Version 4: the activity log's environment (SQLite's v17) and a project's entries by time. */
const char *const pgc_schema_v4[] = {
    "ALTER TABLE activity ADD COLUMN environment TEXT COLLATE \"C\" NOT NULL DEFAULT ''",
    "CREATE INDEX activity_project ON activity (organization_id, project_id, at DESC, id DESC)",
};
const size_t pgc_schema_v4_count = sizeof pgc_schema_v4 / sizeof pgc_schema_v4[0];

/* Version 5: leases of the background jobs one instance of a fleet runs at a time (SQLite's v18). */
const char *const pgc_schema_v5[] = {
    "CREATE TABLE leases (name TEXT COLLATE \"C\" PRIMARY KEY, holder TEXT COLLATE \"C\" NOT NULL, fence BIGINT NOT NULL,"
    " expires_at BIGINT NOT NULL)",
};
const size_t pgc_schema_v5_count = sizeof pgc_schema_v5 / sizeof pgc_schema_v5[0];

/* The unique constraints (PostgreSQL's default names) and what a client is told (as the SQLite driver). */
const pg_conflict pgc_conflicts[] = {
    {"organizations_slug_key", "organization slug already taken"},
    {"organizations_pkey", "organization id already exists"},
    {"projects_organization_id_slug_key", "project slug already taken in this organization"},
    {"projects_pkey", "project id already exists"},
    {"environments_project_id_name_key", "environment name already taken in this project"},
    {"environments_pkey", "environment id already exists"},
    {"api_keys_key_hash_key", "API key already exists"},
    {"api_keys_pkey", "API key id already exists"},
    {"operator_tokens_token_hash_key", "operator token already exists"},
    {"operator_tokens_pkey", "operator token id already exists"},
    {"members_organization_email", "the organization already has a member with this e-mail"},
    {"members_pkey", "member id already exists"},
    {"invitations_token_hash_key", "invitation token already exists"},
    {"invitations_pkey", "invitation id already exists"},
    {"console_sessions_pkey", "console session already exists"},
    {"console_links_pkey", "console sign-in link already exists"},
    {"clusters_pkey", "cluster already exists"},
};
const size_t pgc_conflicts_count = sizeof pgc_conflicts / sizeof pgc_conflicts[0];
