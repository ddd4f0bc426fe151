/* users_sqlite: store/users.h on the environment databases (tables _auth_users, _auth_sessions,
 * _auth_used_refresh, created with the catalog by docs_sqlite.c). */
#include "store/sqlite/users_sqlite.h"

#include <stdio.h>
#include <string.h>

#include "store/sqlite/envdb.h"
#include "util/clock.h"

#define USER_COLUMNS "id, email, password_hash, name, role, nickname, image, email_verified_at, created_at," \
                     " updated_at, last_login_at, deleted_at, profile, mfa_secret, mfa_enabled_at, mfa_last_step," \
                     " mfa_pending, mfa_recovery, banned_at, banned_reason"
#define SESSION_COLUMNS "id, user_id, user_agent, ip, created_at, last_seen_at, expires_at, revoked_at"

/* A text column into a char array field of the row (sq.h: a value that does not fit fails the read). */
#define COL(st, col, field) SQ_COL_FIELD((st), (col), (field), NULL)

static int user_read(sqlite3_stmt *st, void *dst)
{
    store_user *u = dst;
    memset(u, 0, sizeof *u);
    int bad = COL(st, 0, u->id) | COL(st, 1, u->email) | COL(st, 2, u->password_hash) | COL(st, 3, u->name) |
              COL(st, 4, u->role) | COL(st, 5, u->nickname) | COL(st, 6, u->image) | COL(st, 12, u->profile) |
              COL(st, 13, u->mfa_secret) | COL(st, 16, u->mfa_pending) | COL(st, 17, u->mfa_recovery) |
              COL(st, 19, u->banned_reason);
    u->email_verified_at = sqlite3_column_int64(st, 7);
    u->created_at = sqlite3_column_int64(st, 8);
    u->updated_at = sqlite3_column_int64(st, 9);
    u->last_login_at = sqlite3_column_int64(st, 10);
    u->deleted_at = sqlite3_column_int64(st, 11);
    if (!u->profile[0]) snprintf(u->profile, sizeof u->profile, "{}");
    u->mfa_enabled_at = sqlite3_column_int64(st, 14);
    u->mfa_last_step = sqlite3_column_int64(st, 15);
    u->banned_at = sqlite3_column_int64(st, 18);
    return bad ? -1 : 0;
}

/* Binds the MFA and ban columns of u at first, first+1, ... (seven of them). */
static void bind_mfa(sqlite3_stmt *st, int first, const store_user *u)
{
    sqlite3_bind_text(st, first, u->mfa_secret, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, first + 1, u->mfa_enabled_at);
    sqlite3_bind_int64(st, first + 2, u->mfa_last_step);
    sqlite3_bind_text(st, first + 3, u->mfa_pending, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, first + 4, u->mfa_recovery[0] ? u->mfa_recovery : "[]", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, first + 5, u->banned_at);
    sqlite3_bind_text(st, first + 6, u->banned_reason, -1, SQLITE_STATIC);
}

static int session_read(sqlite3_stmt *st, void *dst)
{
    store_session *s = dst;
    memset(s, 0, sizeof *s);
    int bad = COL(st, 0, s->id) | COL(st, 1, s->user_id) | COL(st, 2, s->user_agent) | COL(st, 3, s->ip);
    s->created_at = sqlite3_column_int64(st, 4);
    s->last_seen_at = sqlite3_column_int64(st, 5);
    s->expires_at = sqlite3_column_int64(st, 6);
    s->revoked_at = sqlite3_column_int64(st, 7);
    return bad ? -1 : 0;
}

static int sqlite_users_create(void *db, const char *env_id, const store_user *u, bs_err *err)
{
    denv *e;
    dconn *c = docs_conn_borrow_writer(db, env_id, &e, err);
    if (!c) return -1;
    sqlite3_stmt *st = docs_stmt(c, "INSERT INTO _auth_users (" USER_COLUMNS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", err);
    int rc = st ? 0 : -1;
    if (st) {
        sqlite3_bind_text(st, 1, u->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, u->email, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, u->password_hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, u->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, u->role[0] ? u->role : "user", -1, SQLITE_STATIC);
        sq_bind_text_or_null(st, 6, u->nickname);
        sq_bind_text_or_null(st, 7, u->image);
        sqlite3_bind_int64(st, 8, u->email_verified_at);
        sqlite3_bind_int64(st, 9, u->created_at);
        sqlite3_bind_int64(st, 10, u->updated_at);
        sqlite3_bind_int64(st, 11, u->last_login_at);
        sqlite3_bind_int64(st, 12, u->deleted_at);
        sqlite3_bind_text(st, 13, u->profile[0] ? u->profile : "{}", -1, SQLITE_STATIC);
        bind_mfa(st, 14, u);
        if (sqlite3_step(st) != SQLITE_DONE) {
            int code = sqlite3_extended_errcode(c->db);
            rc = code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY
                     ? bs_err_set(err, 409, "auth/email-already-exists", "An account with this e-mail already exists")
                     : docs_fail(c->db, "insert user", err);
        }
        docs_stmt_done(st);
    }
    docs_conn_return_writer(db, e, c);
    return rc;
}

/* One user by a column (email or id). */
static int user_by(sqlite_docs *db, const char *env_id, const char *sql, const char *key, store_user *out, int *found,
                   bs_err *err)
{
    const char *texts[] = {key};
    docs_select q = {.sql = sql, .texts = texts, .ntexts = 1, .read = user_read, .size = sizeof *out};
    return docs_select_one(db, env_id, &q, out, found, err);
}

static int sqlite_users_by_email(void *db, const char *env_id, const char *email, store_user *out, int *found, bs_err *err)
{
    return user_by(db, env_id, "SELECT " USER_COLUMNS " FROM _auth_users WHERE email = ? AND deleted_at = 0", email, out,
                   found, err);
}

static int sqlite_users_by_id(void *db, const char *env_id, const char *id, store_user *out, int *found, bs_err *err)
{
    return user_by(db, env_id, "SELECT " USER_COLUMNS " FROM _auth_users WHERE id = ? AND deleted_at = 0", id, out,
                   found, err);
}

static int sqlite_users_touch_login(void *db, const char *env_id, const char *id, int64_t at, bs_err *err)
{
    const char *texts[] = {id};
    int64_t ints[] = {at};
    return docs_write_one(db, env_id, "UPDATE _auth_users SET last_login_at = ?2 WHERE id = ?1", texts, 1, ints, 1, NULL, err);
}

static int sqlite_sessions_create(void *db, const char *env_id, const store_session *s, const char *refresh_hash, bs_err *err)
{
    const char *texts[] = {s->id, s->user_id, refresh_hash, s->user_agent, s->ip};
    int64_t ints[] = {s->created_at, s->last_seen_at, s->expires_at};
    return docs_write_one(db, env_id,
                     "INSERT INTO _auth_sessions (id, user_id, refresh_hash, user_agent, ip, created_at, last_seen_at,"
                     " expires_at) VALUES (?,?,?,?,?,?,?,?)",
                     texts, 5, ints, 3, NULL, err);
}

/* Inside the rotation transaction: the live session id and its current refresh hash; *outcome =
 * STORE_RECENT, or STORE_ENDED when the session is gone, revoked or expired. */
static int recent_session(dconn *c, const char *session_id, int64_t now, store_session *out, char *current_hash,
                          store_rotation *outcome, bs_err *err)
{
    sqlite3_stmt *st = docs_stmt(c, "SELECT " SESSION_COLUMNS ", refresh_hash FROM _auth_sessions WHERE id = ?", err);
    if (!st) return -1;
    sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st), bad = 0;
    if (step == SQLITE_ROW)
        bad = session_read(st, out) | sq_col_copy(st, 8, current_hash, STORE_REFRESH_HASH_MAX, NULL);
    docs_stmt_done(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE) return docs_fail(c->db, "recent session", err);
    if (bad) return bs_err_internal(err);
    *outcome = step == SQLITE_ROW && !out->revoked_at && out->expires_at > now ? STORE_RECENT : STORE_ENDED;
    return 0;
}

/* Inside the rotation transaction: was presented_hash rotated away before? Less than grace_ms ago: the
 * session's current token is the answer (STORE_RECENT); earlier: theft, revoke the family. */
static int detect_reuse(dconn *c, const char *hash, int64_t now, int64_t grace_ms, store_session *out, char *current_hash,
                        store_rotation *outcome, bs_err *err)
{
    sqlite3_stmt *st = docs_stmt(c, "SELECT user_id, session_id, used_at FROM _auth_used_refresh WHERE hash = ?", err);
    if (!st) return -1;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    char user[STORE_USER_ID_MAX] = "", session[STORE_USER_ID_MAX] = "";
    int64_t used_at = 0;
    int step = sqlite3_step(st), bad = 0;
    if (step == SQLITE_ROW) {
        bad = COL(st, 0, user) | COL(st, 1, session);
        used_at = sqlite3_column_int64(st, 2);
    }
    docs_stmt_done(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE) return docs_fail(c->db, "reuse check", err);
    if (bad) return bs_err_internal(err);
    if (!user[0]) { *outcome = STORE_UNKNOWN; return 0; }
    if (grace_ms > 0 && now - used_at < grace_ms) return recent_session(c, session, now, out, current_hash, outcome, err);
    *outcome = STORE_REUSED;
    snprintf(out->user_id, sizeof out->user_id, "%s", user);
    st = docs_stmt(c, "UPDATE _auth_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at = 0", err);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : docs_fail(c->db, "revoke family", err);
    docs_stmt_done(st);
    return rc;
}

typedef struct rotation_req {
    const char *presented, *new_hash;
    int64_t now, expires, grace_ms;
} rotation_req;

static int rotate_locked(dconn *c, const rotation_req *r, store_session *out, char *current_hash, store_rotation *outcome,
                         bs_err *err)
{
    sqlite3_stmt *st = docs_stmt(c, "SELECT " SESSION_COLUMNS " FROM _auth_sessions WHERE refresh_hash = ?", err);
    if (!st) return -1;
    sqlite3_bind_text(st, 1, r->presented, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    int bad = step == SQLITE_ROW && session_read(st, out) != 0;
    docs_stmt_done(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE) return docs_fail(c->db, "rotate", err);
    if (bad) return bs_err_internal(err);
    if (step == SQLITE_DONE) return detect_reuse(c, r->presented, r->now, r->grace_ms, out, current_hash, outcome, err);
    if (out->revoked_at || out->expires_at <= r->now) { *outcome = STORE_ENDED; return 0; }
    st = docs_stmt(c, "INSERT OR REPLACE INTO _auth_used_refresh (hash, session_id, user_id, used_at) VALUES (?,?,?,?)", err);
    if (!st) return -1;
    sqlite3_bind_text(st, 1, r->presented, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, out->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, out->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, r->now);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : docs_fail(c->db, "remember used token", err);
    docs_stmt_done(st);
    if (rc < 0) return -1;
    st = docs_stmt(c, "UPDATE _auth_sessions SET refresh_hash = ?, last_seen_at = ?, expires_at = ? WHERE id = ?", err);
    if (!st) return -1;
    sqlite3_bind_text(st, 1, r->new_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, r->now);
    sqlite3_bind_int64(st, 3, r->expires);
    sqlite3_bind_text(st, 4, out->id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : docs_fail(c->db, "rotate session", err);
    docs_stmt_done(st);
    out->last_seen_at = r->now;
    out->expires_at = r->expires;
    *outcome = STORE_ROTATED;
    return rc;
}

static int sqlite_sessions_rotate(void *db, const char *env_id, const char *presented_hash, const char *new_hash,
                          int64_t now, int64_t new_expires_at, int64_t grace_ms, store_session *out,
                          char current_hash[STORE_REFRESH_HASH_MAX], store_rotation *outcome, bs_err *err)
{
    denv *e;
    memset(out, 0, sizeof *out);
    current_hash[0] = '\0';
    *outcome = STORE_UNKNOWN;
    dconn *c = docs_conn_borrow_writer(db, env_id, &e, err);
    if (!c) return -1;
    rotation_req r = {presented_hash, new_hash, now, new_expires_at, grace_ms};
    int rc = docs_exec(c, "BEGIN IMMEDIATE", err);
    if (rc == 0) rc = rotate_locked(c, &r, out, current_hash, outcome, err);
    if (rc == 0) rc = docs_exec(c, "COMMIT", err);
    docs_conn_return_writer(db, e, c); /* rolls back when not committed */
    return rc;
}

static int sqlite_sessions_get(void *db, const char *env_id, const char *id, store_session *out, int *found, bs_err *err)
{
    const char *texts[] = {id};
    docs_select q = {.sql = "SELECT " SESSION_COLUMNS " FROM _auth_sessions WHERE id = ?", .texts = texts, .ntexts = 1,
                     .read = session_read, .size = sizeof *out};
    return docs_select_one(db, env_id, &q, out, found, err);
}

static int sqlite_sessions_revoke(void *db, const char *env_id, const char *user_id, const char *id, int64_t at,
                          int *found, bs_err *err)
{
    const char *texts[] = {id, user_id};
    int64_t ints[] = {at};
    *found = 0;
    return docs_write_one(db, env_id, "UPDATE _auth_sessions SET revoked_at = ?3 WHERE id = ?1 AND user_id = ?2 AND revoked_at = 0",
                     texts, 2, ints, 1, found, err);
}

static int sqlite_sessions_list(void *db, const char *env_id, const char *user_id, int64_t offset, size_t max,
                        store_session *out, size_t *n, int64_t *total, bs_err *err)
{
#define SESSIONS_WHERE " FROM _auth_sessions WHERE user_id = ?1 AND revoked_at = 0 AND expires_at > ?2"
    const char *texts[] = {user_id};
    int64_t ints[] = {clock_now_ms()};
    docs_select q = {.sql = "SELECT " SESSION_COLUMNS SESSIONS_WHERE " ORDER BY created_at DESC, id DESC LIMIT ?3 OFFSET ?4",
                     .count_sql = "SELECT count(*)" SESSIONS_WHERE, .texts = texts, .ntexts = 1, .ints = ints, .nints = 1,
                     .page_at = 3, .read = session_read, .size = sizeof *out};
#undef SESSIONS_WHERE
    return docs_select_page(db, env_id, &q, max, offset, out, n, total, err);
}

static int sqlite_users_update(void *db, const char *env_id, const store_user *u, int *found, bs_err *err)
{
    denv *e;
    *found = 0;
    dconn *c = docs_conn_borrow_writer(db, env_id, &e, err);
    if (!c) return -1;
    sqlite3_stmt *st = docs_stmt(c, "UPDATE _auth_users SET email = ?2, password_hash = ?3, name = ?4, role = ?5, nickname = ?6,"
                                    " image = ?7, email_verified_at = ?8, updated_at = ?9, deleted_at = ?10, profile = ?11,"
                                    " mfa_secret = ?12, mfa_enabled_at = ?13, mfa_last_step = ?14, mfa_pending = ?15,"
                                    " mfa_recovery = ?16, banned_at = ?17, banned_reason = ?18 WHERE id = ?1", err);
    int rc = st ? 0 : -1;
    if (st) {
        sqlite3_bind_text(st, 1, u->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, u->email, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, u->password_hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, u->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, u->role, -1, SQLITE_STATIC);
        sq_bind_text_or_null(st, 6, u->nickname);
        sq_bind_text_or_null(st, 7, u->image);
        sqlite3_bind_int64(st, 8, u->email_verified_at);
        sqlite3_bind_int64(st, 9, u->updated_at);
        sqlite3_bind_int64(st, 10, u->deleted_at);
        sqlite3_bind_text(st, 11, u->profile[0] ? u->profile : "{}", -1, SQLITE_STATIC);
        bind_mfa(st, 12, u);
        if (sqlite3_step(st) == SQLITE_DONE) *found = sqlite3_changes(c->db) > 0;
        else if (sqlite3_extended_errcode(c->db) == SQLITE_CONSTRAINT_UNIQUE)
            rc = bs_err_set(err, 409, "auth/email-already-exists", "An account with this e-mail already exists");
        else rc = docs_fail(c->db, "update user", err);
        docs_stmt_done(st);
    }
    docs_conn_return_writer(db, e, c);
    return rc;
}

static int sqlite_sessions_revoke_others(void *db, const char *env_id, const char *user_id, const char *keep_id, int64_t at,
                                 int64_t *count, bs_err *err)
{
    denv *e;
    *count = 0;
    dconn *c = docs_conn_borrow_writer(db, env_id, &e, err);
    if (!c) return -1;
    sqlite3_stmt *st = docs_stmt(c, "UPDATE _auth_sessions SET revoked_at = ?3 WHERE user_id = ?1 AND id <> ?2 AND revoked_at = 0", err);
    int rc = st ? 0 : -1;
    if (st) {
        sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, keep_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, at);
        if (sqlite3_step(st) != SQLITE_DONE) rc = docs_fail(c->db, "revoke other sessions", err);
        else *count = sqlite3_changes(c->db);
        docs_stmt_done(st);
    }
    docs_conn_return_writer(db, e, c);
    return rc;
}

static int sqlite_sessions_revoke_all(void *db, const char *env_id, const char *user_id, int64_t at, bs_err *err)
{
    const char *texts[] = {user_id};
    int64_t ints[] = {at};
    return docs_write_one(db, env_id, "UPDATE _auth_sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at = 0", texts, 1,
                     ints, 1, NULL, err);
}

/* ---- abuse limits ---- */

static int sqlite_limits_blocked(void *db, const char *env_id, const char *key, int64_t now, int64_t *blocked_until,
                         bs_err *err)
{
    denv *e;
    *blocked_until = 0;
    dconn *c = docs_conn_borrow(db, env_id, &e, err);
    if (!c) return -1;
    sqlite3_stmt *st = docs_stmt(c, "SELECT blocked_until FROM _auth_limits WHERE key = ?", err);
    int rc = st ? 0 : -1;
    if (st) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW && sqlite3_column_int64(st, 0) > now) *blocked_until = sqlite3_column_int64(st, 0);
        else if (step != SQLITE_ROW && step != SQLITE_DONE) rc = docs_fail(c->db, "limits", err);
        docs_stmt_done(st);
    }
    docs_conn_return(db, e, c);
    return rc;
}

static int sqlite_limits_fail(void *db, const char *env_id, const char *key, const store_limit *limit, int64_t now,
                      int64_t *blocked_until, bs_err *err)
{
    denv *e;
    *blocked_until = 0;
    dconn *c = docs_conn_borrow_writer(db, env_id, &e, err);
    if (!c) return -1;
    /* a new window when the last one is over; then block once the count reaches max */
    sqlite3_stmt *st = docs_stmt(c,
        "INSERT INTO _auth_limits (key, count, window_start, blocked_until) VALUES (?1, 1, ?2, 0)"
        " ON CONFLICT (key) DO UPDATE SET"
        "  count = CASE WHEN window_start + ?3 <= ?2 THEN 1 ELSE count + 1 END,"
        "  window_start = CASE WHEN window_start + ?3 <= ?2 THEN ?2 ELSE window_start END"
        " RETURNING count", err);
    int rc = st ? 0 : -1, count = 0;
    if (st) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_int64(st, 3, limit->window_ms);
        if (sqlite3_step(st) == SQLITE_ROW) count = sqlite3_column_int(st, 0);
        else rc = docs_fail(c->db, "count failure", err);
        docs_stmt_done(st);
    }
    if (rc == 0 && count >= limit->max) {
        st = docs_stmt(c, "UPDATE _auth_limits SET blocked_until = ?2, count = 0, window_start = ?3 WHERE key = ?1", err);
        if (!st) rc = -1;
        if (st) {
            *blocked_until = now + limit->block_ms;
            sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, *blocked_until);
            sqlite3_bind_int64(st, 3, now);
            if (sqlite3_step(st) != SQLITE_DONE) rc = docs_fail(c->db, "block", err);
            docs_stmt_done(st);
        }
    }
    docs_conn_return_writer(db, e, c);
    return rc;
}

static int sqlite_limits_clear(void *db, const char *env_id, const char *key, bs_err *err)
{
    const char *texts[] = {key};
    return docs_write_one(db, env_id, "DELETE FROM _auth_limits WHERE key = ?1", texts, 1, NULL, 0, NULL, err);
}

/* ---- listing ---- */

static int sqlite_users_list(void *db, const char *env_id, const store_user_query *q, store_user *out, size_t *n,
                     int64_t *total, bs_err *err)
{
    static const char *const sort_col[] = {"created_at", "updated_at", "name", "email", "role"};
    static const char *const search_col[] = {"name", "nickname", "email"};
    char where[160], sql[640], count_sql[256];
    int search = q->search && q->search[0];
    if (search)
        snprintf(where, sizeof where, " WHERE deleted_at = 0 AND instr(lower(coalesce(%s, '')), lower(?1)) > 0", search_col[q->search_in]);
    else
        snprintf(where, sizeof where, " WHERE deleted_at = 0");
    snprintf(count_sql, sizeof count_sql, "SELECT count(*) FROM _auth_users%s", where);
    snprintf(sql, sizeof sql, "SELECT " USER_COLUMNS " FROM _auth_users%s ORDER BY %s %s, id %s LIMIT ?2 OFFSET ?3",
             where, sort_col[q->sort], q->desc ? "DESC" : "ASC", q->desc ? "DESC" : "ASC");
    const char *texts[] = {q->search};
    docs_select s = {.sql = sql, .count_sql = count_sql, .texts = texts, .ntexts = search ? 1 : 0, .page_at = 2,
                     .read = user_read, .size = sizeof *out};
    return docs_select_page(db, env_id, &s, q->limit, q->offset, out, n, total, err);
}

/* ---- mailed tokens ---- */

static int sqlite_tokens_create(void *db, const char *env_id, const char *kind, const char *hash, const char *user_id,
                        const char *email, int64_t expires_at, bs_err *err)
{
    const char *texts[] = {hash, kind, user_id, email};
    int64_t ints[] = {expires_at};
    return docs_write_one(db, env_id, "INSERT INTO _auth_tokens (hash, kind, user_id, email, expires_at) VALUES (?,?,?,?,?)", texts, 4,
                     ints, 1, NULL, err);
}

static int sqlite_tokens_consume(void *db, const char *env_id, const char *kind, const char *hash, const char *email,
                         int64_t now, char user_id[STORE_USER_ID_MAX], store_token_outcome *outcome, bs_err *err)
{
    denv *e;
    user_id[0] = '\0';
    *outcome = STORE_TOKEN_NOT_FOUND;
    dconn *c = docs_conn_borrow_writer(db, env_id, &e, err);
    if (!c) return -1;
    sqlite3_stmt *st = docs_stmt(c, "SELECT user_id, expires_at, used_at FROM _auth_tokens WHERE hash = ?1 AND kind = ?2"
                                    " AND (?3 IS NULL OR email = ?3)", err);
    int rc = st ? 0 : -1, step = SQLITE_DONE;
    int64_t expires = 0, used = 0;
    if (st) {
        sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
        if (email) sqlite3_bind_text(st, 3, email, -1, SQLITE_STATIC);
        else sqlite3_bind_null(st, 3);
        step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            rc = sq_col_copy(st, 0, user_id, STORE_USER_ID_MAX, err);
            expires = sqlite3_column_int64(st, 1);
            used = sqlite3_column_int64(st, 2);
        } else if (step != SQLITE_DONE) {
            rc = docs_fail(c->db, "token", err);
        }
        docs_stmt_done(st);
    }
    if (rc == 0 && step == SQLITE_ROW)
        *outcome = used ? STORE_TOKEN_USED : expires <= now ? STORE_TOKEN_EXPIRED : STORE_TOKEN_OK;
    if (rc == 0 && *outcome == STORE_TOKEN_OK) { /* under the write turn: nobody else uses it meanwhile */
        st = docs_stmt(c, "UPDATE _auth_tokens SET used_at = ? WHERE hash = ?", err);
        if (!st) rc = -1;
        if (st) {
            sqlite3_bind_int64(st, 1, now);
            sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE) rc = docs_fail(c->db, "use token", err);
            docs_stmt_done(st);
        }
    }
    docs_conn_return_writer(db, e, c);
    return rc;
}

/* ---- audit trail ---- */

static int sqlite_audit_add(void *db, const char *env_id, const store_audit *a, bs_err *err)
{
    const char *texts[] = {a->event, a->user_id, a->email, a->ip, a->user_agent, a->detail};
    int64_t ints[] = {a->at};
    return docs_write_one(db, env_id, "INSERT INTO _auth_audit (event, user_id, email, ip, user_agent, detail, at) VALUES (?,?,?,?,?,?,?)",
                     texts, 6, ints, 1, NULL, err);
}

static int sqlite_auth_prune(void *db, const char *env_id, int64_t audit_before, int64_t now, bs_err *err)
{
    int64_t day_ago[] = {now - 86400LL * 1000};
    int64_t audit[] = {audit_before};
    if (docs_write_one(db, env_id, "DELETE FROM _auth_audit WHERE at < ?1", NULL, 0, audit, 1, NULL, err) < 0 ||
        docs_write_one(db, env_id, "DELETE FROM _auth_tokens WHERE expires_at < ?1", NULL, 0, day_ago, 1, NULL, err) < 0 ||
        docs_write_one(db, env_id, "DELETE FROM _auth_limits WHERE blocked_until < ?1 AND window_start < ?1", NULL, 0, day_ago, 1, NULL, err) < 0)
        return -1;
    return docs_write_one(db, env_id, "DELETE FROM _auth_used_refresh WHERE session_id IN"
                                 " (SELECT id FROM _auth_sessions WHERE expires_at < ?1)", NULL, 0, day_ago, 1, NULL, err);
}

static int audit_read(sqlite3_stmt *st, void *dst)
{
    store_audit *a = dst;
    a->id = sqlite3_column_int64(st, 0);
    a->at = sqlite3_column_int64(st, 1);
    int bad = COL(st, 2, a->event) | COL(st, 3, a->user_id) | COL(st, 4, a->email) | COL(st, 5, a->ip) |
              COL(st, 6, a->user_agent) | COL(st, 7, a->detail);
    return bad ? -1 : 0;
}

static int sqlite_audit_list(void *db, const char *env_id, int64_t before, store_audit *out, size_t max, size_t *n,
                     bs_err *err)
{
    int64_t ints[] = {before, max > (size_t)INT64_MAX ? -1 : (int64_t)max};
    docs_select q = {.sql = "SELECT id, at, event, user_id, email, ip, user_agent, detail FROM _auth_audit"
                            " WHERE ?1 = 0 OR id < ?1 ORDER BY id DESC LIMIT ?2",
                     .ints = ints, .nints = 2, .read = audit_read, .size = sizeof *out};
    return docs_select_rows(db, env_id, &q, out, max, n, err);
}

static int sqlite_users_slug_owner(void *db, const char *env_id, const char *slug, const char *except_id, int *taken,
                           bs_err *err)
{
    denv *e;
    *taken = 0;
    dconn *c = docs_conn_borrow(db, env_id, &e, err);
    if (!c) return -1;
    sqlite3_stmt *st = docs_stmt(c, "SELECT 1 FROM _auth_users WHERE deleted_at = 0 AND id <> ?2"
                                    " AND json_extract(profile, '$.publicSettings.slug') = ?1 LIMIT 1", err);
    int rc = st ? 0 : -1;
    if (st) {
        sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, except_id, -1, SQLITE_STATIC);
        *taken = sqlite3_step(st) == SQLITE_ROW;
        docs_stmt_done(st);
    }
    docs_conn_return(db, e, c);
    return rc;
}

/* ---- invitations ---- */

#define INV_COLUMNS "id, resource_type, resource_id, resource_name, resource_role, email, status, invited_by, expires_at," \
                    " created_at, updated_at"

static int invitation_read(sqlite3_stmt *st, void *dst)
{
    store_invitation *v = dst;
    int bad = COL(st, 0, v->id) | COL(st, 1, v->resource_type) | COL(st, 2, v->resource_id) |
              COL(st, 3, v->resource_name) | COL(st, 4, v->resource_role) | COL(st, 5, v->email) |
              COL(st, 6, v->status) | COL(st, 7, v->invited_by);
    v->expires_at = sqlite3_column_int64(st, 8);
    v->created_at = sqlite3_column_int64(st, 9);
    v->updated_at = sqlite3_column_int64(st, 10);
    return bad ? -1 : 0;
}

static int sqlite_invitations_create(void *db, const char *env_id, const store_invitation *v, const char *token_hash, bs_err *err)
{
    const char *texts[] = {v->id, v->resource_type, v->resource_id, v->resource_name, v->resource_role, v->email, v->status,
                           v->invited_by, token_hash};
    int64_t ints[] = {v->expires_at, v->created_at, v->updated_at};
    return docs_write_one(db, env_id, "INSERT INTO _auth_invitations (" INV_COLUMNS ", token_hash) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?10,?11,?12,?9)",
                     texts, 9, ints, 3, NULL, err);
}

static int invitation_by(sqlite_docs *db, const char *env_id, const char *sql, const char *key, store_invitation *out,
                         int *found, bs_err *err)
{
    const char *texts[] = {key};
    docs_select q = {.sql = sql, .texts = texts, .ntexts = 1, .read = invitation_read, .size = sizeof *out};
    return docs_select_one(db, env_id, &q, out, found, err);
}

static int sqlite_invitations_get(void *db, const char *env_id, const char *id, store_invitation *out, int *found, bs_err *err)
{
    return invitation_by(db, env_id, "SELECT " INV_COLUMNS " FROM _auth_invitations WHERE id = ?", id, out, found, err);
}

static int sqlite_invitations_by_token(void *db, const char *env_id, const char *token_hash, store_invitation *out, int *found,
                               bs_err *err)
{
    return invitation_by(db, env_id, "SELECT " INV_COLUMNS " FROM _auth_invitations WHERE token_hash = ?", token_hash, out,
                         found, err);
}

static int sqlite_invitations_set_status(void *db, const char *env_id, const char *id, const char *status, int64_t at,
                                 int *changed, bs_err *err)
{
    const char *texts[] = {id, status};
    int64_t ints[] = {at};
    *changed = 0;
    return docs_write_one(db, env_id, "UPDATE _auth_invitations SET status = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'pending'",
                     texts, 2, ints, 1, changed, err);
}

static int sqlite_invitations_list(void *db, const char *env_id, const store_invitation_query *q, store_invitation *out,
                           size_t *n, int64_t *total, bs_err *err)
{
#define INV_WHERE " FROM _auth_invitations WHERE (invited_by = ?1 OR email = ?2) AND (?3 IS NULL OR resource_type = ?3)" \
                  " AND (?4 IS NULL OR resource_id = ?4) AND (?5 IS NULL OR status = ?5)"
    const char *texts[] = {q->invited_by, q->email, q->resource_type, q->resource_id, q->status};
    docs_select s = {.sql = "SELECT " INV_COLUMNS INV_WHERE " ORDER BY created_at DESC, id DESC LIMIT ?6 OFFSET ?7",
                     .count_sql = "SELECT count(*)" INV_WHERE, .texts = texts, .ntexts = 5, .page_at = 6,
                     .read = invitation_read, .size = sizeof *out};
#undef INV_WHERE
    return docs_select_page(db, env_id, &s, q->limit, q->offset, out, n, total, err);
}

/* ---- linked social accounts ---- */

static int user_id_read(sqlite3_stmt *st, void *dst)
{
    return sq_col_copy(st, 0, dst, STORE_USER_ID_MAX, NULL);
}

static int sqlite_accounts_find(void *db, const char *env_id, const char *provider, const char *account_id,
                        char user_id[STORE_USER_ID_MAX], int *found, bs_err *err)
{
    const char *texts[] = {provider, account_id};
    docs_select q = {.sql = "SELECT user_id FROM _auth_accounts WHERE provider = ? AND provider_account_id = ?",
                     .texts = texts, .ntexts = 2, .read = user_id_read, .size = STORE_USER_ID_MAX};
    return docs_select_one(db, env_id, &q, user_id, found, err);
}

static int sqlite_accounts_link(void *db, const char *env_id, const char *provider, const char *account_id,
                        const char *user_id, bs_err *err)
{
    const char *texts[] = {provider, account_id, user_id};
    int64_t ints[] = {clock_now_ms()};
    return docs_write_one(db, env_id, "INSERT INTO _auth_accounts (provider, provider_account_id, user_id, created_at) VALUES (?,?,?,?)",
                     texts, 3, ints, 1, NULL, err);
}

static int account_read(sqlite3_stmt *st, void *dst)
{
    store_account *a = dst;
    a->created_at = sqlite3_column_int64(st, 2);
    return COL(st, 0, a->provider) | COL(st, 1, a->account_id) ? -1 : 0;
}

static int sqlite_accounts_of(void *db, const char *env_id, const char *user_id, store_account *out, size_t max, size_t *n,
                      bs_err *err)
{
    const char *texts[] = {user_id};
    docs_select q = {.sql = "SELECT provider, provider_account_id, created_at FROM _auth_accounts WHERE user_id = ?"
                            " ORDER BY created_at, provider",
                     .texts = texts, .ntexts = 1, .read = account_read, .size = sizeof *out};
    return docs_select_rows(db, env_id, &q, out, max, n, err);
}

static int sqlite_accounts_unlink(void *db, const char *env_id, const char *user_id, const char *provider, int *found,
                          bs_err *err)
{
    const char *texts[] = {user_id, provider};
    *found = 0;
    return docs_write_one(db, env_id, "DELETE FROM _auth_accounts WHERE user_id = ?1 AND provider = ?2", texts, 2, NULL, 0, found, err);
}

const store_users_ops store_sqlite_users_ops = {
    .users_create = sqlite_users_create,
    .users_by_email = sqlite_users_by_email,
    .users_by_id = sqlite_users_by_id,
    .users_touch_login = sqlite_users_touch_login,
    .users_update = sqlite_users_update,
    .users_list = sqlite_users_list,
    .users_slug_owner = sqlite_users_slug_owner,
    .sessions_revoke_others = sqlite_sessions_revoke_others,
    .sessions_revoke_all = sqlite_sessions_revoke_all,
    .sessions_create = sqlite_sessions_create,
    .sessions_rotate = sqlite_sessions_rotate,
    .sessions_get = sqlite_sessions_get,
    .sessions_revoke = sqlite_sessions_revoke,
    .sessions_list = sqlite_sessions_list,
    .tokens_create = sqlite_tokens_create,
    .tokens_consume = sqlite_tokens_consume,
    .invitations_create = sqlite_invitations_create,
    .invitations_get = sqlite_invitations_get,
    .invitations_by_token = sqlite_invitations_by_token,
    .invitations_set_status = sqlite_invitations_set_status,
    .invitations_list = sqlite_invitations_list,
    .accounts_find = sqlite_accounts_find,
    .accounts_link = sqlite_accounts_link,
    .accounts_of = sqlite_accounts_of,
    .accounts_unlink = sqlite_accounts_unlink,
    .audit_add = sqlite_audit_add,
    .auth_prune = sqlite_auth_prune,
    .audit_list = sqlite_audit_list,
    .limits_blocked = sqlite_limits_blocked,
    .limits_fail = sqlite_limits_fail,
    .limits_clear = sqlite_limits_clear,
};
