/* docs_rows: the neutral shape of an environment's rows, which a move (store/docs_move.c) reads from one
 * driver and writes into another (store_docs_ops.rows_export / rows_import). A table is named logically:
 * "@<part>" for the catalog, auth and file tables below (each driver maps the name to its own: SQLite
 * "_auth_users", PostgreSQL "users"), a records table by its API name. A row is a JSON array of its
 * columns in the order listed here, each a string (numbers as their decimal text) or null; both engines
 * hold the same columns with the same meaning (TEXT and 64-bit integers). The first column is the key
 * rows are ordered and paged by (unique for a records table). */
#ifndef BASALT_STORE_DOCS_ROWS_H
#define BASALT_STORE_DOCS_ROWS_H

#include <stddef.h>
#include <string.h>

typedef struct store_rows_table {
    const char *name;            /* "@users" */
    const char *sqlite;          /* the SQLite table ("_auth_users") */
    const char *pg;              /* the PostgreSQL table in the environment's schema ("users") */
    const char *columns;         /* the columns, comma-separated, in row order */
} store_rows_table;

/* The columns of a records table; PostgreSQL names the stored text "body" (its "doc" is made from it). */
#define STORE_ROWS_RECORD_COLUMNS "id, created_by, created_at, updated_at, doc"
#define STORE_ROWS_RECORD_COLUMNS_PG "id, created_by, created_at, updated_at, body"
#define STORE_ROWS_RECORD_NCOLS 5

static const store_rows_table store_rows_tables[] = {
    {"@tables", "_basalt_tables", "_basalt_tables",
     "name, id, schema, permissions, display_name, description, schema_version, index_version, created_at, updated_at,"
     " indexes"},
    {"@versions", "_basalt_versions", "_basalt_versions", "table_name, kind, version, body, created_by, created_at"},
    {"@users", "_auth_users", "users",
     "id, email, password_hash, name, role, nickname, image, email_verified_at, created_at, updated_at, last_login_at,"
     " deleted_at, profile, mfa_secret, mfa_enabled_at, mfa_last_step, mfa_pending, mfa_recovery, banned_at,"
     " banned_reason"},
    {"@sessions", "_auth_sessions", "sessions",
     "id, user_id, refresh_hash, user_agent, ip, created_at, last_seen_at, expires_at, revoked_at"},
    {"@tokens", "_auth_tokens", "tokens", "hash, kind, user_id, email, expires_at, used_at"},
    {"@audit", "_auth_audit", "audit", "id, at, event, user_id, email, ip, user_agent, detail"},
    {"@invitations", "_auth_invitations", "invitations",
     "id, resource_type, resource_id, resource_name, resource_role, email, status, token_hash, expires_at, invited_by,"
     " created_at, updated_at"},
    {"@accounts", "_auth_accounts", "accounts", "provider, provider_account_id, user_id, created_at"},
    {"@limits", "_auth_limits", "limits", "key, count, window_start, blocked_until"},
    {"@used_refresh", "_auth_used_refresh", "used_refresh", "hash, session_id, user_id, used_at"},
    {"@objects", "_objects", "objects", "key, content_type, filename, size, etag, uploaded_by, visibility, created_at"},
    {"@files", "_files", "files",
     "id, key, original_name, mime_type, size, width, height, visibility, bucket, owner_id, owner_type, metadata,"
     " shared_with, created_at, updated_at"},
    {"@uploads", "_uploads", "uploads",
     "id, key, filename, content_type, file_size, requested_by, visibility, created_at, expires_at"},
    {"@upload_parts", "_upload_parts", "upload_parts", "upload_id, number, size, etag"},
};
#define STORE_ROWS_TABLES (sizeof store_rows_tables / sizeof store_rows_tables[0])

/* The table named name ("@users"), or NULL (a records table, or no such table). */
static inline const store_rows_table *store_rows_find(const char *name)
{
    for (size_t i = 0; name && i < STORE_ROWS_TABLES; i++)
        if (!strcmp(store_rows_tables[i].name, name)) return &store_rows_tables[i];
    return NULL;
}

/* How many columns a comma-separated list names. */
static inline size_t store_rows_ncols(const char *columns)
{
    size_t n = 1;
    for (const char *p = columns; *p; p++) n += *p == ',';
    return n;
}

#endif
