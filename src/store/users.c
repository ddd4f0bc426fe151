/* users: dispatch of the users store (see users.h) to the driver serving the environment (its route in
 * store/docs.c: store_docs_call_begin; reads and writes told apart for a move's write block) of the data store handle
 * (store_docs_ops.users, users_driver.h). */
#include "store/users.h"

#include "store/docs_driver.h"
#include "store/users_driver.h"

int store_users_create(store_docs *db, const char *env_id, const store_user *u, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->users->users_create(call.driver, env_id, u, err);
    store_docs_call_end(&call);
    return rc;
}

int store_users_by_email(store_docs *db, const char *env_id, const char *email, store_user *out, int *found,
                         bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->users->users_by_email(call.driver, env_id, email, out, found, err);
    store_docs_call_end(&call);
    return rc;
}

int store_users_by_id(store_docs *db, const char *env_id, const char *id, store_user *out, int *found, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->users->users_by_id(call.driver, env_id, id, out, found, err);
    store_docs_call_end(&call);
    return rc;
}

int store_users_touch_login(store_docs *db, const char *env_id, const char *id, int64_t at, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->users->users_touch_login(call.driver, env_id, id, at, err);
    store_docs_call_end(&call);
    return rc;
}

int store_users_update(store_docs *db, const char *env_id, const store_user *u, int *found, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->users->users_update(call.driver, env_id, u, found, err);
    store_docs_call_end(&call);
    return rc;
}

int store_users_list(store_docs *db, const char *env_id, const store_user_query *q, store_user *out, size_t *n,
                     int64_t *total, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->users->users_list(call.driver, env_id, q, out, n, total, err);
    store_docs_call_end(&call);
    return rc;
}

int store_users_slug_owner(store_docs *db, const char *env_id, const char *slug, const char *except_id, int *taken,
                           bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->users->users_slug_owner(call.driver, env_id, slug, except_id, taken, err);
    store_docs_call_end(&call);
    return rc;
}

int store_sessions_revoke_others(store_docs *db, const char *env_id, const char *user_id, const char *keep_id,
                                 int64_t at, int64_t *count, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->users->sessions_revoke_others(call.driver, env_id, user_id, keep_id, at, count, err);
    store_docs_call_end(&call);
    return rc;
}

int store_sessions_revoke_all(store_docs *db, const char *env_id, const char *user_id, int64_t at, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->users->sessions_revoke_all(call.driver, env_id, user_id, at, err);
    store_docs_call_end(&call);
    return rc;
}

int store_sessions_create(store_docs *db, const char *env_id, const store_session *s, const char *refresh_hash,
                          bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->users->sessions_create(call.driver, env_id, s, refresh_hash, err);
    store_docs_call_end(&call);
    return rc;
}

int store_sessions_rotate(store_docs *db, const char *env_id, const char *presented_hash, const char *new_hash,
                          int64_t now, int64_t new_expires_at, int64_t grace_ms, store_session *out,
                          char current_hash[STORE_REFRESH_HASH_MAX], store_rotation *outcome, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->users->sessions_rotate(call.driver, env_id, presented_hash, new_hash, now, new_expires_at,
        grace_ms, out, current_hash, outcome, err);
    store_docs_call_end(&call);
    return rc;
}

int store_sessions_get(store_docs *db, const char *env_id, const char *id, store_session *out, int *found, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->users->sessions_get(call.driver, env_id, id, out, found, err);
    store_docs_call_end(&call);
    return rc;
}

int store_sessions_revoke(store_docs *db, const char *env_id, const char *user_id, const char *id, int64_t at,
                          int *found, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->users->sessions_revoke(call.driver, env_id, user_id, id, at, found, err);
    store_docs_call_end(&call);
    return rc;
}

int store_sessions_list(store_docs *db, const char *env_id, const char *user_id, int64_t offset, size_t max,
                        store_session *out, size_t *n, int64_t *total, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->users->sessions_list(call.driver, env_id, user_id, offset, max, out, n, total, err);
    store_docs_call_end(&call);
    return rc;
}

int store_tokens_create(store_docs *db, const char *env_id, const char *kind, const char *hash, const char *user_id,
                        const char *email, int64_t expires_at, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->users->tokens_create(call.driver, env_id, kind, hash, user_id, email, expires_at, err);
    store_docs_call_end(&call);
    return rc;
}

int store_tokens_consume(store_docs *db, const char *env_id, const char *kind, const char *hash, const char *email,
                         int64_t now, char user_id[STORE_USER_ID_MAX], store_token_outcome *outcome, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->users->tokens_consume(call.driver, env_id, kind, hash, email, now, user_id, outcome, err);
    store_docs_call_end(&call);
    return rc;
}

int store_invitations_create(store_docs *db, const char *env_id, const store_invitation *inv, const char *token_hash,
                             bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->users->invitations_create(call.driver, env_id, inv, token_hash, err);
    store_docs_call_end(&call);
    return rc;
}

int store_invitations_get(store_docs *db, const char *env_id, const char *id, store_invitation *out, int *found,
                          bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->users->invitations_get(call.driver, env_id, id, out, found, err);
    store_docs_call_end(&call);
    return rc;
}

int store_invitations_by_token(store_docs *db, const char *env_id, const char *token_hash, store_invitation *out,
                               int *found, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->users->invitations_by_token(call.driver, env_id, token_hash, out, found, err);
    store_docs_call_end(&call);
    return rc;
}

int store_invitations_set_status(store_docs *db, const char *env_id, const char *id, const char *status, int64_t at,
                                 int *changed, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->users->invitations_set_status(call.driver, env_id, id, status, at, changed, err);
    store_docs_call_end(&call);
    return rc;
}

int store_invitations_list(store_docs *db, const char *env_id, const store_invitation_query *q, store_invitation *out,
                           size_t *n, int64_t *total, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->users->invitations_list(call.driver, env_id, q, out, n, total, err);
    store_docs_call_end(&call);
    return rc;
}

int store_accounts_find(store_docs *db, const char *env_id, const char *provider, const char *account_id,
                        char user_id[STORE_USER_ID_MAX], int *found, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->users->accounts_find(call.driver, env_id, provider, account_id, user_id, found, err);
    store_docs_call_end(&call);
    return rc;
}

int store_accounts_link(store_docs *db, const char *env_id, const char *provider, const char *account_id,
                        const char *user_id, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->users->accounts_link(call.driver, env_id, provider, account_id, user_id, err);
    store_docs_call_end(&call);
    return rc;
}

int store_accounts_of(store_docs *db, const char *env_id, const char *user_id, store_account *out, size_t max,
                      size_t *n, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->users->accounts_of(call.driver, env_id, user_id, out, max, n, err);
    store_docs_call_end(&call);
    return rc;
}

int store_accounts_unlink(store_docs *db, const char *env_id, const char *user_id, const char *provider, int *found,
                          bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->users->accounts_unlink(call.driver, env_id, user_id, provider, found, err);
    store_docs_call_end(&call);
    return rc;
}

int store_audit_add(store_docs *db, const char *env_id, const store_audit *a, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->users->audit_add(call.driver, env_id, a, err);
    store_docs_call_end(&call);
    return rc;
}

int store_auth_prune(store_docs *db, const char *env_id, int64_t audit_before, int64_t now, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->users->auth_prune(call.driver, env_id, audit_before, now, err);
    store_docs_call_end(&call);
    return rc;
}

int store_audit_list(store_docs *db, const char *env_id, int64_t before, store_audit *out, size_t max, size_t *n,
                     bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->users->audit_list(call.driver, env_id, before, out, max, n, err);
    store_docs_call_end(&call);
    return rc;
}

int store_limits_blocked(store_docs *db, const char *env_id, const char *key, int64_t now, int64_t *blocked_until,
                         bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->users->limits_blocked(call.driver, env_id, key, now, blocked_until, err);
    store_docs_call_end(&call);
    return rc;
}

int store_limits_fail(store_docs *db, const char *env_id, const char *key, const store_limit *limit, int64_t now,
                      int64_t *blocked_until, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->users->limits_fail(call.driver, env_id, key, limit, now, blocked_until, err);
    store_docs_call_end(&call);
    return rc;
}

int store_limits_clear(store_docs *db, const char *env_id, const char *key, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->users->limits_clear(call.driver, env_id, key, err);
    store_docs_call_end(&call);
    return rc;
}
