/* auth_users.h: what the files of the auth surface share (sign-in answers, MFA, mail flows, auth settings,
 * callback URLs). Private to src/api/v1/auth. */
#ifndef BASALT_API_V1_AUTH_AUTH_USERS_H
#define BASALT_API_V1_AUTH_AUTH_USERS_H

#include "api/caller.h"
#include "api/route.h"
#include "core/password.h"
#include "store/users.h"

/* A user with MFA on proves it with code: a TOTP code (±30 s, each step once) or an unused backup code
 * (used up); the user is saved. 401 auth/invalid-mfa-code or auth/mfa-backup-codes-exhausted. */
int api_mfa_check(api_ctx *ctx, store_user *u, const char *code, bs_err *err);
/* Starts a session for u (this request's device) and appends the token object to out; 403
 * auth/account-banned for a banned user. is_new_user as below. */
int api_session_start(api_ctx *ctx, http_req *req, const store_user *u, int is_new_user, strbuf *out, bs_err *err);
/* Starts a session for u (this request's device) and answers the token object with status; is_new_user
 * 0/1 adds "is_new_user" (magic-link and OAuth callbacks), -1 leaves it out. */
void api_sign_in_answer(api_ctx *ctx, http_req *req, http_res *res, const store_user *u, int status, int is_new_user);
/* Sign-up or sign-in with method "magiclink": mails a link to callbackUrl?token=... (mail_flows.c). */
void api_magic_request(api_ctx *ctx, http_req *req, http_res *res, int signup);
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

/* A session as GET /v1/auth/sessions answers it: {id, userId, userAgent, ipAddress, deviceInfo, current
 * (its id is current), lastActivityAt, createdAt}. Shared with the management API's user sessions. */
struct json_object *api_session_json(const store_session *s, const char *current);

/* One page of an environment's users (users.c), the /v1 list's query parameters (page, limit, sortBy,
 * sortDirection, search, searchType) and {items, pagination} answer; admin: e-mails and roles may be
 * sorted and searched; as_json shapes each user. Shared by GET /v1/users and the management API. */
typedef struct api_users_page {
    api_ctx *ctx;
    const char *env_id;
    int admin;
    struct json_object *(*as_json)(const store_user *u);
} api_users_page;
void api_users_list_page(const api_users_page *of, http_req *req, http_res *res);

#endif
