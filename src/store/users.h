/* users: an environment's end users and their sessions (client-api.md §3), kept in the environment's
 * own database beside its tables (so a user pool is as isolated as the data). The handle is the
 * environment data store (store/docs.h). Calls reach the data store's driver through store/users_driver.h
 * (SQLite: store/sqlite/users_sqlite.c).
 *
 * Sessions hold the SHA-256 of their current refresh token only. A refresh rotates it; a token that was
 * rotated away is remembered, and presenting it again is treated as theft: every session of that user
 * is revoked (client-api.md §3.1, "current rule").
 * Ownership: every struct is caller memory; nothing is kept. Thread-safe. */
#ifndef BASALT_STORE_USERS_H
#define BASALT_STORE_USERS_H

#include <stddef.h>
#include <stdint.h>

#include "store/docs.h"
#include "util/err.h"

#define STORE_USER_ID_MAX 40
#define STORE_EMAIL_MAX 321
#define STORE_USER_NAME_MAX 257

typedef struct store_user {
    char id[STORE_USER_ID_MAX];
    char email[STORE_EMAIL_MAX];     /* normalized: trimmed, lower case */
    char password_hash[128];         /* "" when the user has no password */
    char name[STORE_USER_NAME_MAX];
    char role[16];                   /* admin | user | guest */
    char nickname[STORE_USER_NAME_MAX]; /* "" = none */
    char image[1024];                /* "" = none */
    int64_t email_verified_at, created_at, updated_at, last_login_at, deleted_at; /* ms; 0 = never */
    char profile[4096];              /* JSON object of the other profile fields (mobile, gender, bio,
                                        socialLinks); "{}" when none */
    char mfa_secret[40];             /* base32 TOTP secret when MFA is on, "" off */
    int64_t mfa_enabled_at;          /* ms, 0 = off */
    int64_t mfa_last_step;           /* the last TOTP step accepted (replay guard), -1 none */
    char mfa_pending[512];           /* a setup awaiting confirmation: {"secret","codes":[...],"at"}, "" none */
    char mfa_recovery[1024];         /* JSON array of the SHA-256 (hex) of unused backup codes */
    int64_t banned_at;               /* ms; 0 = not banned (auth/account-banned) */
    char banned_reason[256];
} store_user;

typedef struct store_session {
    char id[STORE_USER_ID_MAX];
    char user_id[STORE_USER_ID_MAX];
    char user_agent[256];
    char ip[48];
    int64_t created_at, last_seen_at, expires_at, revoked_at;   /* ms */
} store_session;

/* 409 auth/email-already-exists when the e-mail is taken. */
int store_users_create(store_docs *db, const char *env_id, const store_user *u, bs_err *err);
int store_users_by_email(store_docs *db, const char *env_id, const char *email, store_user *out, int *found, bs_err *err);
int store_users_by_id(store_docs *db, const char *env_id, const char *id, store_user *out, int *found, bs_err *err);
int store_users_touch_login(store_docs *db, const char *env_id, const char *id, int64_t at, bs_err *err);
/* Writes every mutable field of u (email, password_hash, name, role, nickname, image, email_verified_at,
 * updated_at, deleted_at, profile, MFA, ban) by u->id. 409 auth/email-already-exists on an e-mail clash. */
int store_users_update(store_docs *db, const char *env_id, const store_user *u, int *found, bs_err *err);
/* A page of users (deleted ones never), for GET /v1/users. Columns are whitelisted by the caller's enum. */
typedef enum store_user_sort { STORE_USERS_BY_CREATED = 0, STORE_USERS_BY_UPDATED, STORE_USERS_BY_NAME,
                               STORE_USERS_BY_EMAIL, STORE_USERS_BY_ROLE } store_user_sort;
typedef enum store_user_search { STORE_SEARCH_NAME = 0, STORE_SEARCH_NICKNAME, STORE_SEARCH_EMAIL } store_user_search;
typedef struct store_user_query {
    const char *search;          /* NULL or "": no search (case-insensitive substring) */
    store_user_search search_in;
    store_user_sort sort;
    int desc;
    int64_t offset;
    size_t limit;
} store_user_query;
int store_users_list(store_docs *db, const char *env_id, const store_user_query *q, store_user *out, size_t *n,
                     int64_t *total, bs_err *err);
/* *taken = 1 when another live user (not except_id) has public slug `slug`. */
int store_users_slug_owner(store_docs *db, const char *env_id, const char *slug, const char *except_id, int *taken,
                           bs_err *err);
/* Ends every live session of a user but keep_id (its current one; "" keeps none); *count = how many. */
int store_sessions_revoke_others(store_docs *db, const char *env_id, const char *user_id, const char *keep_id, int64_t at,
                                 int64_t *count, bs_err *err);
/* Ends every live session of a user (password change, account deletion). */
int store_sessions_revoke_all(store_docs *db, const char *env_id, const char *user_id, int64_t at, bs_err *err);

/* A new session with its first refresh token's hash. */
int store_sessions_create(store_docs *db, const char *env_id, const store_session *s, const char *refresh_hash, bs_err *err);

typedef enum store_rotation {
    STORE_ROTATED = 0,     /* *out is the session, now holding new_hash */
    STORE_UNKNOWN,         /* no session ever had that token */
    STORE_REUSED,          /* the token was already rotated: every session of its user is now revoked
                              (out->user_id names the user) */
    STORE_ENDED,           /* the session is revoked or expired */
    STORE_RECENT           /* the token was rotated away less than grace_ms ago and its session lives: nothing
                              changed; *out is the session, current_hash its refresh token's hash now */
} store_rotation;

#define STORE_REFRESH_HASH_MAX 65 /* SHA-256 hex + NUL */

/* Replaces presented_hash by new_hash in one transaction (now, new_expires_at in ms); a token rotated away
 * less than grace_ms ago (0: never) is STORE_RECENT instead of STORE_REUSED (parallel refreshes of one
 * client). current_hash (STORE_REFRESH_HASH_MAX bytes) is filled for STORE_RECENT. */
int store_sessions_rotate(store_docs *db, const char *env_id, const char *presented_hash, const char *new_hash,
                          int64_t now, int64_t new_expires_at, int64_t grace_ms, store_session *out,
                          char current_hash[STORE_REFRESH_HASH_MAX], store_rotation *outcome, bs_err *err);
/* *found = 0 when no such session. */
int store_sessions_get(store_docs *db, const char *env_id, const char *id, store_session *out, int *found, bs_err *err);
/* Revokes one session of user_id (*found = 0 when it is not theirs or does not exist). */
int store_sessions_revoke(store_docs *db, const char *env_id, const char *user_id, const char *id, int64_t at,
                          int *found, bs_err *err);
/* Active sessions of a user, newest first: at most max from offset into out; *total counts them all. */
int store_sessions_list(store_docs *db, const char *env_id, const char *user_id, int64_t offset, size_t max,
                        store_session *out, size_t *n, int64_t *total, bs_err *err);

/* ---- single-use tokens sent by mail (password reset, e-mail verification), stored as SHA-256 ---- */
typedef enum store_token_outcome { STORE_TOKEN_OK = 0, STORE_TOKEN_NOT_FOUND, STORE_TOKEN_EXPIRED, STORE_TOKEN_USED } store_token_outcome;

int store_tokens_create(store_docs *db, const char *env_id, const char *kind, const char *hash, const char *user_id,
                        const char *email, int64_t expires_at, bs_err *err);
/* Uses up the token (kind, hash) for email (NULL: any): *outcome tells why it could not be, else *user_id. */
int store_tokens_consume(store_docs *db, const char *env_id, const char *kind, const char *hash, const char *email,
                         int64_t now, char user_id[STORE_USER_ID_MAX], store_token_outcome *outcome, bs_err *err);

/* ---- invitations (client-api.md §3.11) ---- */
typedef struct store_invitation {
    char id[STORE_USER_ID_MAX];
    char resource_type[16], resource_id[128], resource_name[128], resource_role[32];
    char email[STORE_EMAIL_MAX];
    char status[16];             /* pending, accepted, rejected, revoked (expired is computed) */
    char invited_by[STORE_USER_ID_MAX];
    int64_t expires_at, created_at, updated_at;
} store_invitation;
int store_invitations_create(store_docs *db, const char *env_id, const store_invitation *inv, const char *token_hash, bs_err *err);
int store_invitations_get(store_docs *db, const char *env_id, const char *id, store_invitation *out, int *found, bs_err *err);
int store_invitations_by_token(store_docs *db, const char *env_id, const char *token_hash, store_invitation *out, int *found,
                               bs_err *err);
/* Moves a pending invitation to status (accepted, rejected, revoked); *changed = 0 when it was not pending. */
int store_invitations_set_status(store_docs *db, const char *env_id, const char *id, const char *status, int64_t at,
                                 int *changed, bs_err *err);
/* Invitations sent by user_id or addressed to email, optionally of one resource type/id and status;
 * newest first, at most max from offset; *total counts them all. */
typedef struct store_invitation_query {
    const char *invited_by, *email, *resource_type, *resource_id, *status;
    int64_t offset;
    size_t limit;
} store_invitation_query;
int store_invitations_list(store_docs *db, const char *env_id, const store_invitation_query *q, store_invitation *out,
                           size_t *n, int64_t *total, bs_err *err);

/* ---- social accounts linked to users ---- */
/* The user linked to (provider, account); *found = 0 when none. */
int store_accounts_find(store_docs *db, const char *env_id, const char *provider, const char *account_id,
                        char user_id[STORE_USER_ID_MAX], int *found, bs_err *err);
int store_accounts_link(store_docs *db, const char *env_id, const char *provider, const char *account_id,
                        const char *user_id, bs_err *err);
typedef struct store_account {
    char provider[16];
    char account_id[256];
    int64_t created_at;
} store_account;
/* The accounts linked to a user (at most max). */
int store_accounts_of(store_docs *db, const char *env_id, const char *user_id, store_account *out, size_t max, size_t *n,
                      bs_err *err);
/* Removes the user's link to provider; *found = 0 when there was none. */
int store_accounts_unlink(store_docs *db, const char *env_id, const char *user_id, const char *provider, int *found,
                          bs_err *err);

/* ---- audit trail: what happened to accounts, newest first ---- */
typedef struct store_audit {
    int64_t id, at;              /* id: increasing; at: ms */
    char event[32];              /* signup, signin, signin_failed, signin_blocked, refresh_reuse, signout, ... */
    char user_id[STORE_USER_ID_MAX];
    char email[STORE_EMAIL_MAX];
    char ip[48];
    char user_agent[256];
    char detail[256];
} store_audit;
int store_audit_add(store_docs *db, const char *env_id, const store_audit *a, bs_err *err);
/* Events with id < before (0: from the newest), at most max. */
/* Housekeeping of an environment's auth tables: audit events before audit_before, mailed tokens and
 * sign-in/mail limits that ended a day before now, used refresh tokens of sessions past expiry. */
int store_auth_prune(store_docs *db, const char *env_id, int64_t audit_before, int64_t now, bs_err *err);
int store_audit_list(store_docs *db, const char *env_id, int64_t before, store_audit *out, size_t max, size_t *n,
                     bs_err *err);

/* ---- abuse limits (client-api.md §1.10), persistent so that a restart does not reset them ----
 * A bucket is a key such as "signin:<e-mail>" counting failures in a window. */
typedef struct store_limit {
    int max;                 /* failures allowed in the window */
    int64_t window_ms, block_ms;
} store_limit;

/* *blocked_until = the time (ms) the key is blocked until, 0 when it is not blocked at now. */
int store_limits_blocked(store_docs *db, const char *env_id, const char *key, int64_t now, int64_t *blocked_until,
                         bs_err *err);
/* Counts one failure; reaching max failures in the window blocks the key for block_ms (*blocked_until). */
int store_limits_fail(store_docs *db, const char *env_id, const char *key, const store_limit *limit, int64_t now,
                      int64_t *blocked_until, bs_err *err);
/* Forgets the key's failures (a success). */
int store_limits_clear(store_docs *db, const char *env_id, const char *key, bs_err *err);

#endif
