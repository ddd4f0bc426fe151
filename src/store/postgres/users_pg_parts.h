/* users_pg_parts: how the PostgreSQL users driver (store/users.h on an environment schema) is put
 * together. Private to src/store/postgres.
 *   users_pg.c          the schema part (users_pg_part), users, sessions and refresh-token rotation, and
 *                       the ops table store_pg_users_ops;
 *   users_pg_auth.c     mailed tokens, invitations, linked accounts, the audit trail and its pruning,
 *                       abuse limits.
 * Tables (the SQLite driver's _auth_* without the prefix): users, sessions, used_refresh, tokens, audit,
 * invitations, accounts, limits. Every op receives the docs_pg handle as `void *driver` (docs_pg_env.h). */
#ifndef BASALT_STORE_POSTGRES_USERS_PG_PARTS_H
#define BASALT_STORE_POSTGRES_USERS_PG_PARTS_H

#include <stddef.h>
#include <stdint.h>

#include "store/users.h"
#include "util/err.h"

/* ---- users_pg_auth.c: the ops of store/users.h of the same names ---- */
int pgu_tokens_create(void *driver, const char *env_id, const char *kind, const char *hash, const char *user_id,
                      const char *email, int64_t expires_at, bs_err *err);
int pgu_tokens_consume(void *driver, const char *env_id, const char *kind, const char *hash, const char *email,
                       int64_t now, char user_id[STORE_USER_ID_MAX], store_token_outcome *outcome, bs_err *err);
int pgu_invitations_create(void *driver, const char *env_id, const store_invitation *inv, const char *token_hash,
                           bs_err *err);
int pgu_invitations_get(void *driver, const char *env_id, const char *id, store_invitation *out, int *found,
                        bs_err *err);
int pgu_invitations_by_token(void *driver, const char *env_id, const char *token_hash, store_invitation *out,
                             int *found, bs_err *err);
int pgu_invitations_set_status(void *driver, const char *env_id, const char *id, const char *status, int64_t at,
                               int *changed, bs_err *err);
int pgu_invitations_list(void *driver, const char *env_id, const store_invitation_query *q, store_invitation *out,
                         size_t *n, int64_t *total, bs_err *err);
int pgu_accounts_find(void *driver, const char *env_id, const char *provider, const char *account_id,
                      char user_id[STORE_USER_ID_MAX], int *found, bs_err *err);
int pgu_accounts_link(void *driver, const char *env_id, const char *provider, const char *account_id,
                      const char *user_id, bs_err *err);
int pgu_accounts_of(void *driver, const char *env_id, const char *user_id, store_account *out, size_t max, size_t *n,
                    bs_err *err);
int pgu_accounts_unlink(void *driver, const char *env_id, const char *user_id, const char *provider, int *found,
                        bs_err *err);
int pgu_audit_add(void *driver, const char *env_id, const store_audit *a, bs_err *err);
int pgu_auth_prune(void *driver, const char *env_id, int64_t audit_before, int64_t now, bs_err *err);
int pgu_audit_list(void *driver, const char *env_id, int64_t before, store_audit *out, size_t max, size_t *n,
                   bs_err *err);
int pgu_limits_blocked(void *driver, const char *env_id, const char *key, int64_t now, int64_t *blocked_until,
                       bs_err *err);
int pgu_limits_fail(void *driver, const char *env_id, const char *key, const store_limit *limit, int64_t now,
                    int64_t *blocked_until, bs_err *err);
int pgu_limits_clear(void *driver, const char *env_id, const char *key, bs_err *err);

#endif
