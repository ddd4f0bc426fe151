/* auth_users.h: what the auth and user endpoints share (auth.c, users.c). Private to src/api. */
#ifndef BASALT_API_AUTH_USERS_H
#define BASALT_API_AUTH_USERS_H

#include "api/api.h"
#include "core/password.h"
#include "store/users.h"

/* The token's session is still alive (s: it, or zeroed for a token without one): else 401
 * auth/invalid-token (ended) or auth/unauthorized (no user token). */
int api_session_alive(api_ctx *ctx, store_session *s, bs_err *err);
/* The caller's user and live session: 401 auth/unauthorized without a user token, 401
 * auth/invalid-token when its session ended, 404 auth/user-not-found when the user is gone. */
int api_current_user(api_ctx *ctx, store_user *u, store_session *s, bs_err *err);
/* Loads :userId for a caller who must be that user or an admin when need_self_or_admin (403
 * user/forbidden otherwise; 401 user/unauthorized without any user or secret key); *self tells which. */
int api_target_user(api_ctx *ctx, http_req *req, int need_self_or_admin, store_user *u, int *self, bs_err *err);
/* The user object of client-api.md §3.6 with the profile fields (a new reference). */
struct json_object *api_user_json(const store_user *u);

/* Trims and lower-cases an e-mail into out; 0, or 400 auth/invalid-email. */
int api_email_normalize(const char *in, char out[STORE_EMAIL_MAX], bs_err *err);

/* A user with MFA on proves it with code: a TOTP code (±30 s, each step once) or an unused backup code
 * (used up); the user is saved. 401 auth/invalid-mfa-code or auth/mfa-backup-codes-exhausted. */
int api_mfa_check(api_ctx *ctx, store_user *u, const char *code, bs_err *err);
int api_mfa_register(http_router *router, api_app *app);
/* Starts a session for u (this request's device) and appends the token object to out; 403
 * auth/account-banned for a banned user. is_new_user as below. */
int api_session_start(api_ctx *ctx, http_req *req, const store_user *u, int is_new_user, strbuf *out, bs_err *err);
/* Starts a session for u (this request's device) and answers the token object with status; is_new_user
 * 0/1 adds "is_new_user" (magic-link and OAuth callbacks), -1 leaves it out. */
void api_sign_in_answer(api_ctx *ctx, http_req *req, http_res *res, const store_user *u, int status, int is_new_user);
/* Sign-up or sign-in with method "magiclink": mails a link to callbackUrl?token=... (mail_flows.c). */
void api_magic_request(api_ctx *ctx, http_req *req, http_res *res, int signup);
int api_mail_flows_register(http_router *router, api_app *app);
int api_admin_auth_register(http_router *router, api_app *app);
int api_user_settings_register(http_router *router, api_app *app);
int api_invitations_register(http_router *router, api_app *app);
int api_oauth_register(http_router *router, api_app *app);
/* One mail of the environment to an end user: SMTP when configured, else the outbox (core/mailer). */
int api_send_mail(api_ctx *ctx, const char *to, const char *template_name, const char *subject, const char *body, bs_err *err);
/* An environment's sign-in rules (auth_settings.c); defaults when the operator set none. */
typedef struct api_auth_settings {
    int magic_link_enabled, magic_link_minutes;
    int require_verification;   /* password sign-in of an unverified e-mail: 403 auth/email-not-verified */
    int signup_enabled;         /* sign-up closed: 403 auth/signup-disabled */
    password_policy password;
} api_auth_settings;
int api_auth_settings_load(api_ctx *ctx, const char *env_id, api_auth_settings *out, bs_err *err);
int api_auth_settings_register(http_router *router, api_app *app);
/* One mail from the environment's template of category (custom, else built in) with {{name}} values. */
typedef struct api_mail_var {
    const char *name, *value;
} api_mail_var;
int api_send_template(api_ctx *ctx, const char *to, const char *category, const api_mail_var *vars, size_t n, bs_err *err);
/* Caller-given URLs the server redirects to or mails (callbacks.c). api_callback_origin: the origin
 * "scheme://host[:port]" of a plain http(s) URL into out (size bytes), 0 when it is not one.
 * api_url_listed: 1 when url, without its query, equals an entry (without query) of the JSON array text.
 * api_callback_allowed: 1 when the environment allows url (its origin in the project's allowedOrigins, or
 * one of its OAuth providers' redirectUris). api_callback_check: the same as 0, or 400 auth/invalid-request
 * naming the parameter. */
int api_callback_origin(const char *url, char *out, size_t size);
int api_url_listed(const char *list_json, const char *url);
int api_callback_allowed(api_ctx *ctx, const char *url);
int api_callback_check(api_ctx *ctx, const char *name, const char *url, bs_err *err);
/* Mails u the link that confirms its sign-up e-mail (mail_flows.c). */
int api_send_signup_confirmation(api_ctx *ctx, const store_user *u, const char *callback, bs_err *err);
/* Deletes what the environment's auth tables no longer need (store_auth_prune with --audit-retention-days);
 * run every 256 events of a thread and before the audit trail is read. */
void api_auth_prune(api_app *app, const char *env_id);
/* Records an account event in the environment's audit trail (best effort: a failure is logged). */
void api_audit(api_ctx *ctx, http_req *req, const char *event, const char *user_id, const char *email, const char *detail);

#endif
