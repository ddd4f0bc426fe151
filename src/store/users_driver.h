/* users_driver: the ops table a driver of the users store (store/users.h) implements. The users of an
 * environment live in its data store's databases, so a users driver is part of a docs driver
 * (store_docs_ops.users) and receives the same driver handle; store/users.c forwards every public call
 * through it. Contract: each function has exactly the semantics documented in store/users.h (0 on success,
 * -1 with err filled; *found = 0 is not an error); drivers must be callable from any thread at the same
 * time. No driver type (sqlite3, PGconn, ...) may appear in this header. */
#ifndef BASALT_STORE_USERS_DRIVER_H
#define BASALT_STORE_USERS_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "store/users.h"
#include "util/err.h"

typedef struct store_users_ops {
    int (*users_create)(void *driver, const char *env_id, const store_user *u, bs_err *err);
    int (*users_by_email)(void *driver, const char *env_id, const char *email, store_user *out, int *found,
        bs_err *err);
    int (*users_by_id)(void *driver, const char *env_id, const char *id, store_user *out, int *found, bs_err *err);
    int (*users_touch_login)(void *driver, const char *env_id, const char *id, int64_t at, bs_err *err);
    int (*users_update)(void *driver, const char *env_id, const store_user *u, int *found, bs_err *err);
    int (*users_list)(void *driver, const char *env_id, const store_user_query *q, store_user *out, size_t *n,
        int64_t *total, bs_err *err);
    int (*users_slug_owner)(void *driver, const char *env_id, const char *slug, const char *except_id, int *taken,
        bs_err *err);
    int (*sessions_revoke_others)(void *driver, const char *env_id, const char *user_id, const char *keep_id,
        int64_t at, int64_t *count, bs_err *err);
    int (*sessions_revoke_all)(void *driver, const char *env_id, const char *user_id, int64_t at, bs_err *err);
    int (*sessions_create)(void *driver, const char *env_id, const store_session *s, const char *refresh_hash,
        bs_err *err);
    int (*sessions_rotate)(void *driver, const char *env_id, const char *presented_hash, const char *new_hash,
        int64_t now, int64_t new_expires_at, int64_t grace_ms, store_session *out,
        char current_hash[STORE_REFRESH_HASH_MAX], store_rotation *outcome, bs_err *err);
    int (*sessions_get)(void *driver, const char *env_id, const char *id, store_session *out, int *found, bs_err *err);
    int (*sessions_revoke)(void *driver, const char *env_id, const char *user_id, const char *id, int64_t at,
        int *found, bs_err *err);
    int (*sessions_list)(void *driver, const char *env_id, const char *user_id, int64_t offset, size_t max,
        store_session *out, size_t *n, int64_t *total, bs_err *err);
    int (*tokens_create)(void *driver, const char *env_id, const char *kind, const char *hash, const char *user_id,
        const char *email, int64_t expires_at, bs_err *err);
    int (*tokens_consume)(void *driver, const char *env_id, const char *kind, const char *hash, const char *email,
        int64_t now, char user_id[STORE_USER_ID_MAX], store_token_outcome *outcome, bs_err *err);
    int (*invitations_create)(void *driver, const char *env_id, const store_invitation *inv, const char *token_hash,
        bs_err *err);
    int (*invitations_get)(void *driver, const char *env_id, const char *id, store_invitation *out, int *found,
        bs_err *err);
    int (*invitations_by_token)(void *driver, const char *env_id, const char *token_hash, store_invitation *out,
        int *found, bs_err *err);
    int (*invitations_set_status)(void *driver, const char *env_id, const char *id, const char *status, int64_t at,
        int *changed, bs_err *err);
    int (*invitations_list)(void *driver, const char *env_id, const store_invitation_query *q, store_invitation *out,
        size_t *n, int64_t *total, bs_err *err);
    int (*accounts_find)(void *driver, const char *env_id, const char *provider, const char *account_id,
        char user_id[STORE_USER_ID_MAX], int *found, bs_err *err);
    int (*accounts_link)(void *driver, const char *env_id, const char *provider, const char *account_id,
        const char *user_id, bs_err *err);
    int (*accounts_of)(void *driver, const char *env_id, const char *user_id, store_account *out, size_t max, size_t *n,
        bs_err *err);
    int (*accounts_unlink)(void *driver, const char *env_id, const char *user_id, const char *provider, int *found,
        bs_err *err);
    int (*audit_add)(void *driver, const char *env_id, const store_audit *a, bs_err *err);
    int (*auth_prune)(void *driver, const char *env_id, int64_t audit_before, int64_t now, bs_err *err);
    int (*audit_list)(void *driver, const char *env_id, int64_t before, store_audit *out, size_t max, size_t *n,
        bs_err *err);
    int (*limits_blocked)(void *driver, const char *env_id, const char *key, int64_t now, int64_t *blocked_until,
        bs_err *err);
    int (*limits_fail)(void *driver, const char *env_id, const char *key, const store_limit *limit, int64_t now,
        int64_t *blocked_until, bs_err *err);
    int (*limits_clear)(void *driver, const char *env_id, const char *key, bs_err *err);
} store_users_ops;

#endif
