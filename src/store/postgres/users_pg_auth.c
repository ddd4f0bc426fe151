/* users_pg_auth: see users_pg_parts.h. A mailed token is used up by one UPDATE ... RETURNING that only
 * matches while it is unused and unexpired: of two concurrent uses exactly one gets the row, the other
 * then reads why it cannot (used). */
#include "store/postgres/users_pg_parts.h"

#include <string.h>

#include "store/postgres/pg_envq.h"
#include "util/clock.h"

/* ---- mailed tokens ---- */

int pgu_tokens_create(void *driver, const char *env_id, const char *kind, const char *hash, const char *user_id,
                      const char *email, int64_t expires_at, bs_err *err)
{
    pge_params p = {0};
    pge_text(&p, hash), pge_text(&p, kind), pge_text(&p, user_id), pge_text(&p, email), pge_int(&p, expires_at);
    return pge_write1(driver, env_id, "insert token",
                      "INSERT INTO {s}.tokens (hash, kind, user_id, email, expires_at) VALUES ($1, $2, $3, $4, $5)", &p, NULL,
                      err);
}

/* A token's state when it could not be used. */
typedef struct token_row {
    char user_id[STORE_USER_ID_MAX];
    int64_t expires_at, used_at;
} token_row;

static int token_read(const PGresult *r, int i, void *dst, bs_err *err)
{
    token_row *t = dst;
    t->expires_at = pg_i64(r, i, 1);
    t->used_at = pg_i64(r, i, 2);
    return PGE_TEXT(r, i, 0, t->user_id) ? -1 : 0;
}

#define TOKEN_MATCH " WHERE hash = $1 AND kind = $2 AND ($3::text IS NULL OR email = $3)"

/* Uses the token up when it can be (one UPDATE: of concurrent uses exactly one matches), else reads why not. */
static int consume_on(const docs_pg_call *call, const char *kind, const char *hash, const char *email, int64_t now,
                      char user_id[STORE_USER_ID_MAX], store_token_outcome *outcome, bs_err *err)
{
    pge_params p = {0};
    token_row t;
    int found = 0;
    pge_text(&p, hash), pge_text(&p, kind), pge_text(&p, email), pge_int(&p, now);
    if (pge_one(call, "use token",
                "UPDATE {s}.tokens SET used_at = $4" TOKEN_MATCH " AND used_at = 0 AND expires_at > $4"
                " RETURNING user_id, expires_at, used_at",
                &p, token_read, &t, sizeof t, &found, err) < 0)
        return -1;
    if (!found) { /* unknown, expired or used (maybe a moment ago by a concurrent call): why? */
        p.n = 3;
        if (pge_one(call, "token", "SELECT user_id, expires_at, used_at FROM {s}.tokens" TOKEN_MATCH, &p, token_read, &t,
                    sizeof t, &found, err) < 0)
            return -1;
        if (!found) return 0;
        *outcome = t.used_at || t.expires_at > now ? STORE_TOKEN_USED : STORE_TOKEN_EXPIRED;
    } else {
        *outcome = STORE_TOKEN_OK;
    }
    memcpy(user_id, t.user_id, sizeof t.user_id);
    return 0;
}

int pgu_tokens_consume(void *driver, const char *env_id, const char *kind, const char *hash, const char *email,
                       int64_t now, char user_id[STORE_USER_ID_MAX], store_token_outcome *outcome, bs_err *err)
{
    user_id[0] = '\0';
    *outcome = STORE_TOKEN_NOT_FOUND;
    docs_pg_call call;
    if (docs_pg_call_begin(driver, env_id, 0, &call, err) < 0) return -1;
    return docs_pg_call_end(&call, consume_on(&call, kind, hash, email, now, user_id, outcome, err), err);
}

/* ---- invitations ---- */

#define INV_COLUMNS "id, resource_type, resource_id, resource_name, resource_role, email, status, invited_by, expires_at," \
                    " created_at, updated_at"

static int invitation_read(const PGresult *r, int i, void *dst, bs_err *err)
{
    store_invitation *v = dst;
    int bad = PGE_TEXT(r, i, 0, v->id) | PGE_TEXT(r, i, 1, v->resource_type) | PGE_TEXT(r, i, 2, v->resource_id) |
              PGE_TEXT(r, i, 3, v->resource_name) | PGE_TEXT(r, i, 4, v->resource_role) | PGE_TEXT(r, i, 5, v->email) |
              PGE_TEXT(r, i, 6, v->status) | PGE_TEXT(r, i, 7, v->invited_by);
    v->expires_at = pg_i64(r, i, 8);
    v->created_at = pg_i64(r, i, 9);
    v->updated_at = pg_i64(r, i, 10);
    return bad ? -1 : 0;
}

int pgu_invitations_create(void *driver, const char *env_id, const store_invitation *v, const char *token_hash,
                           bs_err *err)
{
    pge_params p = {0};
    PGE_FIELD(&p, v->id), PGE_FIELD(&p, v->resource_type), PGE_FIELD(&p, v->resource_id), PGE_FIELD(&p, v->resource_name);
    PGE_FIELD(&p, v->resource_role), PGE_FIELD(&p, v->email), PGE_FIELD(&p, v->status), PGE_FIELD(&p, v->invited_by);
    pge_int(&p, v->expires_at), pge_int(&p, v->created_at), pge_int(&p, v->updated_at), pge_text(&p, token_hash);
    return pge_write1(driver, env_id, "insert invitation",
                      "INSERT INTO {s}.invitations (" INV_COLUMNS ", token_hash)"
                      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                      &p, NULL, err);
}

int pgu_invitations_get(void *driver, const char *env_id, const char *id, store_invitation *out, int *found, bs_err *err)
{
    return pge_one_by(driver, env_id, "invitation", "SELECT " INV_COLUMNS " FROM {s}.invitations WHERE id = $1", id,
                      invitation_read, out, sizeof *out, found, err);
}

int pgu_invitations_by_token(void *driver, const char *env_id, const char *token_hash, store_invitation *out, int *found,
                             bs_err *err)
{
    return pge_one_by(driver, env_id, "invitation", "SELECT " INV_COLUMNS " FROM {s}.invitations WHERE token_hash = $1",
                      token_hash, invitation_read, out, sizeof *out, found, err);
}

int pgu_invitations_set_status(void *driver, const char *env_id, const char *id, const char *status, int64_t at,
                               int *changed, bs_err *err)
{
    pge_params p = {0};
    pge_text(&p, id), pge_text(&p, status), pge_int(&p, at);
    return pge_write1(driver, env_id, "invitation status",
                      "UPDATE {s}.invitations SET status = $2, updated_at = $3 WHERE id = $1 AND status = 'pending'", &p,
                      changed, err);
}

int pgu_invitations_list(void *driver, const char *env_id, const store_invitation_query *q, store_invitation *out,
                         size_t *n, int64_t *total, bs_err *err)
{
#define INV_WHERE " FROM {s}.invitations WHERE (invited_by = $1 OR email = $2) AND ($3::text IS NULL OR resource_type = $3)" \
                  " AND ($4::text IS NULL OR resource_id = $4) AND ($5::text IS NULL OR status = $5)"
    static const pge_page page = {"list invitations",
                                  "SELECT " INV_COLUMNS INV_WHERE " ORDER BY created_at DESC, id DESC LIMIT $6 OFFSET $7",
                                  "SELECT count(*)" INV_WHERE, invitation_read, sizeof(store_invitation)};
#undef INV_WHERE
    pge_params p = {0};
    pge_text(&p, q->invited_by), pge_text(&p, q->email), pge_text(&p, q->resource_type), pge_text(&p, q->resource_id);
    pge_text(&p, q->status);
    return pge_page1(driver, env_id, &page, &p, q->limit, q->offset, out, n, total, err);
}

/* ---- linked social accounts ---- */

static int user_id_read(const PGresult *r, int i, void *dst, bs_err *err)
{
    return pg_text(r, i, 0, dst, STORE_USER_ID_MAX, err);
}

int pgu_accounts_find(void *driver, const char *env_id, const char *provider, const char *account_id,
                      char user_id[STORE_USER_ID_MAX], int *found, bs_err *err)
{
    pge_params p = {0};
    pge_text(&p, provider), pge_text(&p, account_id);
    return pge_one1(driver, env_id, "account",
                    "SELECT user_id FROM {s}.accounts WHERE provider = $1 AND provider_account_id = $2", &p, user_id_read,
                    user_id, STORE_USER_ID_MAX, found, err);
}

int pgu_accounts_link(void *driver, const char *env_id, const char *provider, const char *account_id, const char *user_id,
                      bs_err *err)
{
    pge_params p = {0};
    pge_text(&p, provider), pge_text(&p, account_id), pge_text(&p, user_id), pge_int(&p, clock_now_ms());
    return pge_write1(driver, env_id, "link account",
                      "INSERT INTO {s}.accounts (provider, provider_account_id, user_id, created_at) VALUES ($1, $2, $3, $4)",
                      &p, NULL, err);
}

static int account_read(const PGresult *r, int i, void *dst, bs_err *err)
{
    store_account *a = dst;
    a->created_at = pg_i64(r, i, 2);
    return PGE_TEXT(r, i, 0, a->provider) | PGE_TEXT(r, i, 1, a->account_id) ? -1 : 0;
}

int pgu_accounts_of(void *driver, const char *env_id, const char *user_id, store_account *out, size_t max, size_t *n,
                    bs_err *err)
{
    pge_params p = {0};
    pge_text(&p, user_id), pge_limit(&p, max);
    return pge_rows1(driver, env_id, "accounts",
                     "SELECT provider, provider_account_id, created_at FROM {s}.accounts WHERE user_id = $1"
                     " ORDER BY created_at, provider LIMIT $2",
                     &p, account_read, out, sizeof *out, max, n, err);
}

int pgu_accounts_unlink(void *driver, const char *env_id, const char *user_id, const char *provider, int *found,
                        bs_err *err)
{
    pge_params p = {0};
    pge_text(&p, user_id), pge_text(&p, provider);
    return pge_write1(driver, env_id, "unlink account", "DELETE FROM {s}.accounts WHERE user_id = $1 AND provider = $2", &p,
                      found, err);
}

/* ---- audit trail ---- */

int pgu_audit_add(void *driver, const char *env_id, const store_audit *a, bs_err *err)
{
    pge_params p = {0};
    PGE_FIELD(&p, a->event), PGE_FIELD(&p, a->user_id), PGE_FIELD(&p, a->email), PGE_FIELD(&p, a->ip);
    PGE_FIELD(&p, a->user_agent), PGE_FIELD(&p, a->detail), pge_int(&p, a->at);
    return pge_write1(driver, env_id, "audit",
                      "INSERT INTO {s}.audit (event, user_id, email, ip, user_agent, detail, at)"
                      " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                      &p, NULL, err);
}

int pgu_auth_prune(void *driver, const char *env_id, int64_t audit_before, int64_t now, bs_err *err)
{
    static const char *const day_old[] = {
        "DELETE FROM {s}.tokens WHERE expires_at < $1",
        "DELETE FROM {s}.limits WHERE blocked_until < $1 AND window_start < $1",
        "DELETE FROM {s}.used_refresh WHERE session_id IN (SELECT id FROM {s}.sessions WHERE expires_at < $1)",
    };
    docs_pg_call call;
    pge_params audit = {0}, day = {0};
    pge_int(&audit, audit_before), pge_int(&day, now - 86400LL * 1000);
    if (docs_pg_call_begin(driver, env_id, 0, &call, err) < 0) return -1;
    int rc = pge_run(&call, "prune audit", "DELETE FROM {s}.audit WHERE at < $1", &audit, NULL, err);
    for (size_t i = 0; rc == 0 && i < sizeof day_old / sizeof day_old[0]; i++)
        rc = pge_run(&call, "prune auth", day_old[i], &day, NULL, err);
    return docs_pg_call_end(&call, rc, err);
}

static int audit_read(const PGresult *r, int i, void *dst, bs_err *err)
{
    store_audit *a = dst;
    a->id = pg_i64(r, i, 0);
    a->at = pg_i64(r, i, 1);
    int bad = PGE_TEXT(r, i, 2, a->event) | PGE_TEXT(r, i, 3, a->user_id) | PGE_TEXT(r, i, 4, a->email) |
              PGE_TEXT(r, i, 5, a->ip) | PGE_TEXT(r, i, 6, a->user_agent) | PGE_TEXT(r, i, 7, a->detail);
    return bad ? -1 : 0;
}

int pgu_audit_list(void *driver, const char *env_id, int64_t before, store_audit *out, size_t max, size_t *n, bs_err *err)
{
    pge_params p = {0};
    pge_int(&p, before), pge_limit(&p, max);
    return pge_rows1(driver, env_id, "audit",
                     "SELECT id, at, event, user_id, email, ip, user_agent, detail FROM {s}.audit"
                     " WHERE $1::bigint = 0 OR id < $1::bigint ORDER BY id DESC LIMIT $2",
                     &p, audit_read, out, sizeof *out, max, n, err);
}

/* ---- abuse limits ---- */

static int int64_read(const PGresult *r, int i, void *dst, bs_err *err)
{
    (void)err;
    *(int64_t *)dst = pg_i64(r, i, 0);
    return 0;
}

int pgu_limits_blocked(void *driver, const char *env_id, const char *key, int64_t now, int64_t *blocked_until,
                       bs_err *err)
{
    pge_params p = {0};
    int64_t until = 0;
    int found = 0;
    *blocked_until = 0;
    pge_text(&p, key);
    if (pge_one1(driver, env_id, "limits", "SELECT blocked_until FROM {s}.limits WHERE key = $1", &p, int64_read, &until,
                 sizeof until, &found, err) < 0)
        return -1;
    if (found && until > now) *blocked_until = until;
    return 0;
}

/* Counts one failure of key, in the call's transaction (the count's row stays locked until the block is
 * written): a new window when the last one is over; then a block once the count reaches max. */
static int fail_on(const docs_pg_call *call, const char *key, const store_limit *limit, int64_t now, int64_t *blocked_until,
                   bs_err *err)
{
    pge_params p = {0}, block = {0};
    int64_t count = 0;
    int found = 0;
    pge_text(&p, key), pge_int(&p, now), pge_int(&p, limit->window_ms);
    if (pge_one(call, "count failure",
                "INSERT INTO {s}.limits AS l (key, count, window_start, blocked_until) VALUES ($1, 1, $2, 0)"
                " ON CONFLICT (key) DO UPDATE SET"
                "  count = CASE WHEN l.window_start + $3::bigint <= $2::bigint THEN 1 ELSE l.count + 1 END,"
                "  window_start = CASE WHEN l.window_start + $3::bigint <= $2::bigint THEN $2::bigint ELSE l.window_start END"
                " RETURNING count",
                &p, int64_read, &count, sizeof count, &found, err) < 0)
        return -1;
    if (count < limit->max) return 0;
    pge_text(&block, key), pge_int(&block, now + limit->block_ms), pge_int(&block, now);
    if (pge_run(call, "block", "UPDATE {s}.limits SET blocked_until = $2, count = 0, window_start = $3 WHERE key = $1", &block,
                NULL, err) < 0)
        return -1;
    *blocked_until = now + limit->block_ms;
    return 0;
}

int pgu_limits_fail(void *driver, const char *env_id, const char *key, const store_limit *limit, int64_t now,
                    int64_t *blocked_until, bs_err *err)
{
    docs_pg_call call;
    *blocked_until = 0;
    if (docs_pg_call_begin(driver, env_id, 1, &call, err) < 0) return -1;
    int rc = docs_pg_call_end(&call, fail_on(&call, key, limit, now, blocked_until, err), err);
    if (rc < 0) *blocked_until = 0;
    return rc;
}

int pgu_limits_clear(void *driver, const char *env_id, const char *key, bs_err *err)
{
    pge_params p = {0};
    pge_text(&p, key);
    return pge_write1(driver, env_id, "clear limit", "DELETE FROM {s}.limits WHERE key = $1", &p, NULL, err);
}
