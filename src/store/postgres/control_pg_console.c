/* control_pg_console: see control_pg_parts.h. The web console's sessions and one-time sign-in links, with
 * exactly the semantics of the SQLite driver's sq_console_* functions (store/sqlite/control_sqlite.c):
 * a session reads its operator token as the token lookup does (its member's current role; revoked at 1
 * when the member is gone), and a link is used by one UPDATE ... RETURNING, so two racing uses cannot
 * both succeed. Schema: version 2 (control_pg_schema.c). */
#include "store/postgres/control_pg_parts.h"

#include <stdint.h>
#include <string.h>

#define PGS_TEXT(r, row, col, field, err) pg_text((r), (row), (col), (field), sizeof(field), (err))

static pg_pool *pool_of(void *driver) { return ((pgc *)driver)->pool; }

/* A fixed-size text field as a parameter: NULL (refused by the caller) when it lacks its NUL. */
static const char *pgs_field(const char *field, size_t cap)
{
    return memchr(field, '\0', cap) ? field : NULL;
}
#define PGS_FIELD(field) pgs_field((field), sizeof(field))

static int pgs_prune(void *driver, const char *what, const char *sql, int64_t at, bs_err *err)
{
    char t[PG_INT64_TEXT];
    const char *params[] = {pg_fmt_int64(t, at)};
    return pg_command1(pool_of(driver), what, sql, 1, params, NULL, err);
}

static int pgs_session_insert(void *driver, const store_console_session *s, bs_err *err)
{
    if (pgs_prune(driver, "prune console sessions", "DELETE FROM console_sessions WHERE expires_at <= $1", s->created_at,
                  err) < 0)
        return -1;
    char c[PG_INT64_TEXT], e[PG_INT64_TEXT];
    const char *params[] = {PGS_FIELD(s->hash), PGS_FIELD(s->token_id), PGS_FIELD(s->csrf), pg_fmt_int64(c, s->created_at),
                            pg_fmt_int64(e, s->expires_at)};
    if (!params[0] || !params[1] || !params[2]) return bs_err_internal(err);
    return pg_command1(pool_of(driver), "insert console session",
                       "INSERT INTO console_sessions (session_hash, token_id, csrf_token, created_at, expires_at)"
                       " VALUES ($1, $2, $3, $4, $5)",
                       5, params, NULL, err);
}

#define PGS_SESSION_LOOKUP                                                                                    \
    "SELECT s.session_hash, s.token_id, s.csrf_token, s.created_at, s.expires_at, t.id, t.organization_id,"   \
    " coalesce(m.role, t.role), t.expires_at,"                                                                \
    " (CASE WHEN t.member_id IS NOT NULL AND m.id IS NULL THEN coalesce(t.revoked_at, 1) ELSE t.revoked_at END),"    \
    " coalesce(t.member_id, '') FROM console_sessions s JOIN operator_tokens t ON t.id = s.token_id"         \
    " LEFT JOIN members m ON m.id = t.member_id AND m.organization_id = t.organization_id WHERE s.session_hash = $1"

static int pgs_session_read(const PGresult *r, store_console_session *s, bs_err *err)
{
    store_token_context *t = &s->token;
    if (PGS_TEXT(r, 0, 0, s->hash, err) < 0 || PGS_TEXT(r, 0, 1, s->token_id, err) < 0 ||
        PGS_TEXT(r, 0, 2, s->csrf, err) < 0 || PGS_TEXT(r, 0, 5, t->token_id, err) < 0 ||
        PGS_TEXT(r, 0, 6, t->organization_id, err) < 0 || PGS_TEXT(r, 0, 7, t->role, err) < 0 ||
        PGS_TEXT(r, 0, 10, t->member_id, err) < 0)
        return -1;
    s->created_at = pg_i64(r, 0, 3);
    s->expires_at = pg_i64(r, 0, 4);
    t->expires_at = pg_i64(r, 0, 8);
    t->revoked_at = pg_i64(r, 0, 9);
    return 0;
}

static int pgs_session_lookup(void *driver, const char *hash_hex, store_console_session *out, int *found, bs_err *err)
{
    *found = 0;
    memset(out, 0, sizeof *out);
    const char *params[] = {hash_hex};
    PGresult *r = pg_exec1(pool_of(driver), "look up console session", PGS_SESSION_LOOKUP, 1, params, err);
    if (!r) return -1;
    int rc = 0;
    if (PQntuples(r) > 0) {
        rc = pgs_session_read(r, out, err);
        if (rc < 0) memset(out, 0, sizeof *out);
        else *found = 1;
    }
    PQclear(r);
    return rc;
}

static int pgs_session_delete(void *driver, const char *hash_hex, int *found, bs_err *err)
{
    int64_t changed = 0;
    const char *params[] = {hash_hex};
    *found = 0;
    if (pg_command1(pool_of(driver), "delete console session", "DELETE FROM console_sessions WHERE session_hash = $1", 1,
                    params, &changed, err) < 0)
        return -1;
    *found = changed > 0;
    return 0;
}

static int pgs_tokens_prune(void *driver, const char *name, int64_t now, const char *token_id, int64_t *count, bs_err *err)
{
    char at[PG_INT64_TEXT];
    const char *params[] = {name, pg_fmt_int64(at, now), token_id};
    *count = 0;
    return pg_command1(pool_of(driver), "prune console link tokens",
                       "DELETE FROM operator_tokens WHERE name = $1 AND ((expires_at > 0 AND expires_at <= $2::bigint)"
                       " OR id = $3::text)",
                       3, params, count, err);
}

static int pgs_link_insert(void *driver, const store_console_link *l, bs_err *err)
{
    if (pgs_prune(driver, "prune console links", "DELETE FROM console_links WHERE expires_at <= $1", l->created_at, err) < 0)
        return -1;
    char c[PG_INT64_TEXT], e[PG_INT64_TEXT];
    const char *params[] = {PGS_FIELD(l->hash), PGS_FIELD(l->organization_id), pg_fmt_int64(c, l->created_at),
                            pg_fmt_int64(e, l->expires_at)};
    if (!params[0] || !params[1]) return bs_err_internal(err);
    return pg_command1(pool_of(driver), "insert console link",
                       "INSERT INTO console_links (code_hash, organization_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                       4, params, NULL, err);
}

static int pgs_link_consume(void *driver, const char *hash_hex, int64_t at, store_console_link *out, int *consumed,
                            bs_err *err)
{
    *consumed = 0;
    memset(out, 0, sizeof *out);
    char a[PG_INT64_TEXT];
    const char *params[] = {hash_hex, pg_fmt_int64(a, at)};
    PGresult *r = pg_exec1(pool_of(driver), "use console link",
                           "UPDATE console_links SET used_at = $2 WHERE code_hash = $1 AND used_at = 0 AND expires_at > $2"
                           " RETURNING code_hash, organization_id, created_at, expires_at, used_at",
                           2, params, err);
    if (!r) return -1;
    int rc = 0;
    if (PQntuples(r) > 0) {
        if (PGS_TEXT(r, 0, 0, out->hash, err) < 0 || PGS_TEXT(r, 0, 1, out->organization_id, err) < 0) {
            memset(out, 0, sizeof *out);
            rc = -1;
        } else {
            out->created_at = pg_i64(r, 0, 2);
            out->expires_at = pg_i64(r, 0, 3);
            out->used_at = pg_i64(r, 0, 4);
            *consumed = 1;
        }
    }
    PQclear(r);
    return rc;
}

void pgc_fill_console(store_control_ops *ops)
{
    ops->console_session_insert = pgs_session_insert;
    ops->console_session_lookup = pgs_session_lookup;
    ops->console_session_delete = pgs_session_delete;
    ops->console_tokens_prune = pgs_tokens_prune;
    ops->console_link_insert = pgs_link_insert;
    ops->console_link_consume = pgs_link_consume;
}
