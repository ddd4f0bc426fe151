/* mail_flows: what end users do through mailed links and codes (client-api.md §3.7–3.8), first part:
 *   POST /v1/auth/password/reset/request  {email}                        200 {message} whether or not the e-mail exists
 *   POST /v1/auth/password/reset/confirm  {email, token, newPassword}    200 {message}; every session ends
 *   POST /v1/auth/signup/email/resend     {email, callbackUrl?}          200 {message, email}
 *   GET  /v1/auth/signup/email/confirm?token&email&callbackUrl           302 to callbackUrl, or 200 {success, data}
 *   GET  /admin/v1/projects/:projectId/environments/:env/outbox          the environment's kept mail
 * Mail goes through SMTP when --smtp-url is set, else to the outbox in the control store (core/mailer).
 * Tokens: 32 random bytes (hex), stored as SHA-256, single use; reset 24 h, verification 24 h. Sending is
 * limited per e-mail: 3 per hour, then 2 hours blocked (§1.10), answered 429 auth/too-many-code-requests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin_gate.h"
#include "api/caller.h"
#include "api/respond.h"
#include "api/route.h"
#include "api/v1/auth/limits.h"
#include "api/v1/auth/surface.h"
#include "api/v1/pipeline.h"
#include "core/accounts.h"
#include "api/v1/auth/auth_users.h"
#include "core/keys.h"
#include "core/password.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/json.h"

#define MAIL_TOKEN_TTL_MS (24LL * 3600 * 1000)
#define MAIL_SENDS_PER_HOUR 3
#define MAIL_SEND_BLOCK_MS (2LL * 3600 * 1000)
#define OUTBOX_LIST_MAX 100

/* One mail of env to an end user: through SMTP when configured, else into the outbox (core/mailer). */
int api_send_mail(api_ctx *ctx, const char *to, const char *template_name, const char *subject, const char *body, bs_err *err)
{
    store_mail m;
    memset(&m, 0, sizeof m);
    snprintf(m.environment_id, sizeof m.environment_id, "%s", ctx->key.environment_id);
    snprintf(m.to, sizeof m.to, "%s", to);
    snprintf(m.subject, sizeof m.subject, "%s", subject);
    snprintf(m.body, sizeof m.body, "%s", body);
    snprintf(m.template_name, sizeof m.template_name, "%s", template_name);
    return mailer_send(ctx->app->mail, &m, err);
}

/* §1.10: at most 3 mails per hour per e-mail and purpose; the fourth blocks sending for 2 hours. */
static int send_allowed(api_ctx *ctx, http_res *res, const char *purpose, const char *email)
{
    char key[32 + STORE_EMAIL_MAX];
    int64_t now = clock_now_ms(), until = 0;
    bs_err err;
    snprintf(key, sizeof key, "mail-%s:%s", purpose, email);
    store_limit limit = {MAIL_SENDS_PER_HOUR + 1, 3600LL * 1000, MAIL_SEND_BLOCK_MS};
    if (auth_limits_mail_take(ctx, key, &limit, &until, &err) < 0) { /* in Redis with --redis (api/v1/auth/limits.h) */
        http_res_error_from(res, &err);
        return 0;
    }
    if (!until) return 1;
    char retry[24];
    snprintf(retry, sizeof retry, "%lld", (long long)((until - now + 999) / 1000));
    http_res_error(res, 429, "auth/too-many-code-requests", "Too many mails for this address; try again later");
    http_res_header(res, "Retry-After", retry);
    return 0;
}

/* A new mailed token for (kind, user), valid ttl_ms: its text into out (65 bytes). */
static int token_new(api_ctx *ctx, const char *kind, const store_user *u, int64_t ttl_ms, char out[65], bs_err *err)
{
    char hash[CRYPTO_SHA256_HEX];
    if (crypto_random_hex(out, 32) < 0) return bs_err_internal(err);
    crypto_sha256_hex(out, strlen(out), hash);
    return store_tokens_create(ctx->app->docs, ctx->key.environment_id, kind, hash, u->id, u->email,
                               clock_now_ms() + ttl_ms, err);
}

static int token_use(api_ctx *ctx, const char *kind, const char *email, const char *token, char user_id[STORE_USER_ID_MAX],
                     bs_err *err)
{
    char hash[CRYPTO_SHA256_HEX];
    store_token_outcome outcome;
    if (!token || strlen(token) > 128) return bs_err_set(err, 404, "auth/verification-token-not-found", "Unknown or used token");
    crypto_sha256_hex(token, strlen(token), hash);
    if (store_tokens_consume(ctx->app->docs, ctx->key.environment_id, kind, hash, email, clock_now_ms(), user_id, &outcome, err) < 0)
        return -1;
    if (outcome == STORE_TOKEN_EXPIRED) return bs_err_set(err, 401, "auth/verification-token-expired", "The token expired");
    if (outcome != STORE_TOKEN_OK) return bs_err_set(err, 404, "auth/verification-token-not-found", "Unknown or used token");
    return 0;
}

/* ---- password reset ---- */

static void reset_request(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    char email[STORE_EMAIL_MAX], token[65];
    store_user u;
    int found = 0;
    struct json_object *body = http_req_json_borrow(req);
    if (accounts_email_normalize(json_get_string(body, "email"), email, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    if (!send_allowed(ctx, res, "reset", email)) return;
    if (store_users_by_email(ctx->app->docs, ctx->key.environment_id, email, &u, &found, &err) == 0 && found &&
        token_new(ctx, "reset", &u, MAIL_TOKEN_TTL_MS, token, &err) == 0) {
        strbuf link;
        strbuf_init(&link, 4000);
        strbuf_appendf(&link, "%s/reset-password?token=%s&email=", ctx->app->public_url, token);
        strbuf_append_percent(&link, u.email, 0);
        api_mail_var vars[] = {{"userName", u.name}, {"userEmail", u.email}, {"resetLink", link.data}, {"code", token}};
        api_send_template(ctx, u.email, "password_reset", vars, 4, &err);
        strbuf_release(&link);
    }
    api_message(res, 200, "If an account uses this e-mail, a reset mail is on its way");
}

static void reset_confirm(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    char email[STORE_EMAIL_MAX], user_id[STORE_USER_ID_MAX];
    store_user u;
    int found = 0;
    api_auth_settings settings;
    struct json_object *body = http_req_json_borrow(req);
    const char *next = json_get_string(body, "newPassword");
    if (api_auth_settings_load(ctx, ctx->key.environment_id, &settings, &err) == 0 &&
        accounts_email_normalize(json_get_string(body, "email"), email, &err) == 0 &&
        password_check(&settings.password, next, next ? strlen(next) : 0, &err) == 0 &&
        token_use(ctx, "reset", email, json_get_string(body, "token"), user_id, &err) == 0 &&
        store_users_by_id(ctx->app->docs, ctx->key.environment_id, user_id, &u, &found, &err) == 0) {
        if (!found) bs_err_set(&err, 404, "auth/account-not-found", "The account is gone");
        else if (password_hash(next, strlen(next), u.password_hash, &err) == 0) {
            u.updated_at = clock_now_ms();
            if (!u.email_verified_at) u.email_verified_at = u.updated_at; /* the mail reached its owner */
            if (store_users_update(ctx->app->docs, ctx->key.environment_id, &u, &found, &err) == 0)
                store_sessions_revoke_all(ctx->app->docs, ctx->key.environment_id, u.id, u.updated_at, &err);
        }
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    api_audit(ctx, req, "password_reset", u.id, u.email, NULL);
    api_message(res, 200, "Password reset; sign in with the new password");
}

/* Mails u the link that confirms its sign-up e-mail (template signup_confirmation), with callbackUrl. */
int api_send_signup_confirmation(api_ctx *ctx, const store_user *u, const char *callback, bs_err *err)
{
    char token[65];
    if (token_new(ctx, "verify", u, MAIL_TOKEN_TTL_MS, token, err) < 0) return -1;
    strbuf link;
    strbuf_init(&link, 4000);
    strbuf_appendf(&link, "%s/v1/auth/signup/email/confirm?env=%s&token=%s&email=", ctx->app->public_url,
                   ctx->key.environment_id, token);
    strbuf_append_percent(&link, u->email, 0);
    if (callback) {
        strbuf_append_str(&link, "&callbackUrl=");
        strbuf_append_percent(&link, callback, 0);
    }
    api_mail_var vars[] = {{"userName", u->name}, {"userEmail", u->email}, {"verifyLink", link.data}};
    int rc = api_send_template(ctx, u->email, "signup_confirmation", vars, 3, err);
    strbuf_release(&link);
    return rc;
}

/* ---- sign-up e-mail verification ---- */

static void verify_resend(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    char email[STORE_EMAIL_MAX];
    store_user u;
    int found = 0;
    struct json_object *body = http_req_json_borrow(req);
    const char *callback = json_get_string(body, "callbackUrl");
    if (accounts_email_normalize(json_get_string(body, "email"), email, &err) < 0 ||
        (callback && api_callback_check(ctx, "callbackUrl", callback, &err) < 0) ||
        store_users_by_email(ctx->app->docs, ctx->key.environment_id, email, &u, &found, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    if (found && u.email_verified_at) {
        http_res_error(res, 400, "auth/already-verified", "This e-mail is already verified");
        return;
    }
    if (!send_allowed(ctx, res, "verify", email)) return;
    if (found) api_send_signup_confirmation(ctx, &u, callback, &err);
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "message", json_object_new_string("If an account uses this e-mail, a confirmation mail is on its way"));
    json_object_object_add(out, "email", json_object_new_string(email));
    http_res_json(res, 200, out);
    json_object_put(out);
}

/* Answers the confirmation: a redirect to callbackUrl (verified=true|false) when the environment allows
 * that URL, else JSON (the link may have been altered: the token was checked and used all the same). */
static void verify_answer(api_ctx *ctx, http_res *res, const char *callback, const char *email, const bs_err *err)
{
    if (callback && api_callback_allowed(ctx, callback)) {
        strbuf loc;
        strbuf_init(&loc, 8192);
        strbuf_append_str(&loc, callback);
        strbuf_append_str(&loc, strchr(callback, '?') ? "&" : "?");
        strbuf_appendf(&loc, "verified=%s&email=", err->status ? "false" : "true");
        strbuf_append_percent(&loc, email, 0);
        if (err->status) {
            strbuf_append_str(&loc, "&error=");
            strbuf_append_percent(&loc, err->code, 0);
        }
        http_res_header(res, "Location", loc.data);
        http_res_body(res, 302, "text/plain; charset=utf-8", "", 0);
        strbuf_release(&loc);
        return;
    }
    if (err->status) {
        http_res_error_from(res, err);
        return;
    }
    struct json_object *out = json_object_new_object(), *data = json_object_new_object();
    json_object_object_add(data, "verified", json_object_new_boolean(1));
    json_object_object_add(data, "email", json_object_new_string(email));
    json_object_object_add(out, "success", json_object_new_boolean(1));
    json_object_object_add(out, "data", data);
    http_res_json(res, 200, out);
    json_object_put(out);
}

static void verify_confirm(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    char email[STORE_EMAIL_MAX] = "", user_id[STORE_USER_ID_MAX];
    store_user u;
    int found = 0;
    if (accounts_email_normalize(http_req_query(req, "email"), email, &err) == 0 &&
        token_use(ctx, "verify", email, http_req_query(req, "token"), user_id, &err) == 0 &&
        store_users_by_id(ctx->app->docs, ctx->key.environment_id, user_id, &u, &found, &err) == 0) {
        if (!found) bs_err_set(&err, 404, "auth/account-not-found", "The account is gone");
        else {
            u.email_verified_at = u.updated_at = clock_now_ms();
            store_users_update(ctx->app->docs, ctx->key.environment_id, &u, &found, &err);
        }
    }
    verify_answer(ctx, res, http_req_query(req, "callbackUrl"), email, &err);
}

/* ---- the outbox, for operators ---- */

/* The page buffer lives on the heap for one request: as thread-local storage it would cost every thread. */
static void outbox(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_env env;
    size_t n = 0;
    store_mail *mails = calloc(OUTBOX_LIST_MAX, sizeof *mails);
    if (!mails) bs_err_internal(&err);
    else if (api_admin_env(ctx, req, 0, &env, &err) == 0)
        store_control_outbox_list(ctx->app->control, env.id, mails, OUTBOX_LIST_MAX, &n, &err);
    api_answer_mails(res, &err, mails, n); /* frees mails */
}

/* ---- contact e-mail verification (§3.8) ----
 * With a user token: the user wants `email` as its address; a code goes there, and confirming it switches
 * the account to it (verified). Without one: the same as the sign-up confirmation, for that address. */

static void contact_send(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    char email[STORE_EMAIL_MAX], token[65];
    store_user u, other;
    store_session s;
    int found = 0;
    struct json_object *body = http_req_json_borrow(req);
    if (accounts_email_normalize(json_get_string(body, "email"), email, &err) < 0 ||
        (ctx->has_user && api_current_user(ctx, &u, &s, &err) < 0) ||
        (!ctx->has_user && (store_users_by_email(ctx->app->docs, ctx->key.environment_id, email, &u, &found, &err) < 0))) {
        http_res_error_from(res, &err);
        return;
    }
    if (ctx->has_user && store_users_by_email(ctx->app->docs, ctx->key.environment_id, email, &other, &found, &err) == 0 && found &&
        strcmp(other.id, u.id) != 0) {
        http_res_error(res, 409, "auth/email-already-exists", "Another account uses this e-mail");
        return;
    }
    int own = ctx->has_user ? strcmp(u.email, email) == 0 : found;
    if (own && u.email_verified_at) {
        http_res_error(res, 400, "auth/already-verified", "This e-mail is already verified");
        return;
    }
    if (!send_allowed(ctx, res, "contact", email)) return;
    if (ctx->has_user || found) {
        store_user target = u;
        snprintf(target.email, sizeof target.email, "%s", email); /* the token is bound to the new address */
        if (token_new(ctx, "contact", &target, MAIL_TOKEN_TTL_MS, token, &err) == 0) {
            api_mail_var vars[] = {{"userName", u.name}, {"userEmail", email}, {"code", token}};
            api_send_template(ctx, email, "email_verification", vars, 3, &err);
        }
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "message", json_object_new_string("A verification code is on its way"));
    json_object_object_add(out, "email", json_object_new_string(email));
    http_res_json(res, 200, out);
    json_object_put(out);
}

static void contact_confirm(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    char email[STORE_EMAIL_MAX], user_id[STORE_USER_ID_MAX];
    store_user u;
    int found = 0;
    struct json_object *body = http_req_json_borrow(req);
    if (accounts_email_normalize(json_get_string(body, "email"), email, &err) == 0 &&
        token_use(ctx, "contact", email, json_get_string(body, "token"), user_id, &err) == 0 &&
        store_users_by_id(ctx->app->docs, ctx->key.environment_id, user_id, &u, &found, &err) == 0) {
        if (!found) bs_err_set(&err, 404, "auth/account-not-found", "The account is gone");
        else {
            snprintf(u.email, sizeof u.email, "%s", email);
            u.email_verified_at = u.updated_at = clock_now_ms();
            store_users_update(ctx->app->docs, ctx->key.environment_id, &u, &found, &err); /* 409 if taken meanwhile */
        }
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "message", json_object_new_string("E-mail verified"));
    json_object_object_add(out, "verified", json_object_new_boolean(1));
    http_res_json(res, 200, out);
    json_object_put(out);
}

/* ---- magic links (§3.4) ---- */

/* Finds the user of email, creating a password-less one on sign-up (*created). */
static int magic_user(api_ctx *ctx, const char *email, struct json_object *body, int signup, store_user *u, int *found,
                      bs_err *err)
{
    if (store_users_by_email(ctx->app->docs, ctx->key.environment_id, email, u, found, err) < 0) return -1;
    if (*found || !signup) return 0;
    memset(u, 0, sizeof *u);
    const char *name = json_get_string(body, "name");
    snprintf(u->email, sizeof u->email, "%s", email);
    if (name && json_utf8_chars(name) <= 100) snprintf(u->name, sizeof u->name, "%s", name);
    else snprintf(u->name, sizeof u->name, "%.*s", (int)strcspn(email, "@"), email); /* the local part */
    snprintf(u->role, sizeof u->role, "user");
    snprintf(u->profile, sizeof u->profile, "{}");
    u->mfa_last_step = -1;
    u->created_at = u->updated_at = clock_now_ms();
    if (keys_new_id("usr", u->id) < 0) return bs_err_internal(err);
    if (store_users_create(ctx->app->docs, ctx->key.environment_id, u, err) < 0) return -1;
    *found = 1;
    return 0;
}

void api_magic_request(api_ctx *ctx, http_req *req, http_res *res, int signup)
{
    bs_err err;
    bs_err_clear(&err);
    char email[STORE_EMAIL_MAX], token[65];
    store_user u;
    int found = 0;
    api_auth_settings settings;
    struct json_object *body = http_req_json_borrow(req);
    const char *callback = json_get_string(body, "callbackUrl");
    if (api_auth_settings_load(ctx, ctx->key.environment_id, &settings, &err) < 0 ||
        (!settings.magic_link_enabled && bs_err_set(&err, 400, "auth/magiclink-disabled", "Magic links are turned off for this environment") < 0) ||
        accounts_email_normalize(json_get_string(body, "email"), email, &err) < 0 ||
        (!callback && bs_err_set(&err, 400, "auth/invalid-request", "callbackUrl (an http(s) URL) is required") < 0) ||
        api_callback_check(ctx, "callbackUrl", callback, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    if (!send_allowed(ctx, res, "magic", email)) return;
    if (magic_user(ctx, email, body, signup && settings.signup_enabled, &u, &found, &err) == 0 && found &&
        token_new(ctx, "magic", &u, settings.magic_link_minutes * 60LL * 1000, token, &err) == 0) {
        char link[1200], minutes[16];
        snprintf(link, sizeof link, "%s%stoken=%s", callback, strchr(callback, '?') ? "&" : "?", token);
        snprintf(minutes, sizeof minutes, "%d", settings.magic_link_minutes);
        api_mail_var vars[] = {{"userName", u.name}, {"userEmail", u.email}, {"magicLink", link}, {"expiresInMinutes", minutes}};
        api_send_template(ctx, u.email, "magic_link", vars, 4, &err);
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "message", json_object_new_string("If the address can sign in, a link is on its way"));
    json_object_object_add(out, "email", json_object_new_string(email));
    json_object_object_add(out, "callbackUrl", json_object_new_string(callback));
    http_res_json(res, signup ? 201 : 200, out);
    json_object_put(out);
}

/* POST /v1/auth/email/callback {token, email?}: the token object with is_new_user. */
static void magic_callback(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    char email[STORE_EMAIL_MAX], user_id[STORE_USER_ID_MAX], hash[CRYPTO_SHA256_HEX];
    store_user u;
    store_token_outcome outcome = STORE_TOKEN_NOT_FOUND;
    int found = 0;
    struct json_object *body = http_req_json_borrow(req);
    const char *token = json_get_string(body, "token"), *given = json_get_string(body, "email");
    if (!token || !*token) bs_err_set(&err, 400, "auth/magic-token-missing", "token is required");
    else if ((!given || accounts_email_normalize(given, email, &err) == 0) && strlen(token) <= 128) {
        crypto_sha256_hex(token, strlen(token), hash);
        store_tokens_consume(ctx->app->docs, ctx->key.environment_id, "magic", hash, given ? email : NULL, clock_now_ms(),
                             user_id, &outcome, &err);
    }
    if (!err.status && outcome == STORE_TOKEN_EXPIRED) bs_err_set(&err, 401, "auth/magic-token-expired", "The link expired");
    else if (!err.status && outcome != STORE_TOKEN_OK) bs_err_set(&err, 401, "auth/invalid-token", "Unknown or used link");
    if (!err.status && store_users_by_id(ctx->app->docs, ctx->key.environment_id, user_id, &u, &found, &err) == 0 && !found)
        bs_err_set(&err, 401, "auth/invalid-token", "The account is gone");
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    int is_new = u.last_login_at == 0;
    if (!u.email_verified_at) { /* the link reached the address */
        u.email_verified_at = u.updated_at = clock_now_ms();
        store_users_update(ctx->app->docs, ctx->key.environment_id, &u, &found, &err);
    }
    api_audit(ctx, req, "signin", u.id, u.email, "magiclink");
    api_sign_in_answer(ctx, req, res, &u, 200, is_new);
}

int api_mail_flows_register(http_router *router, api_app *app)
{
    http_route_opts json_opts = {.body = HTTP_BODY_JSON, .max_body = 16 * 1024};
    if (api_route_v1_public(router, app, HTTP_POST, "/v1/auth/email/callback", magic_callback, &json_opts) < 0) return -1;
    if (api_route_v1(router, app, HTTP_POST, "/v1/auth/email/verify/send", contact_send, &json_opts) < 0) return -1;
    if (api_route_v1(router, app, HTTP_POST, "/v1/auth/email/verify/resend", contact_send, &json_opts) < 0) return -1;
    if (api_route_v1(router, app, HTTP_POST, "/v1/auth/email/verify/confirm", contact_confirm, &json_opts) < 0) return -1;
    http_route_opts json = {.body = HTTP_BODY_JSON, .max_body = 16 * 1024};
    if (api_route_v1_public(router, app, HTTP_POST, "/v1/auth/password/reset/request", reset_request, &json) < 0) return -1;
    if (api_route_v1_public(router, app, HTTP_POST, "/v1/auth/password/reset/confirm", reset_confirm, &json) < 0) return -1;
    if (api_route_v1_public(router, app, HTTP_POST, "/v1/auth/signup/email/resend", verify_resend, &json) < 0) return -1;
    if (api_route_v1_link(router, app, HTTP_GET, "/v1/auth/signup/email/confirm", verify_confirm, NULL) < 0) return -1;
    return api_route_admin(router, app, HTTP_GET, "/admin/v1/projects/:projectId/environments/:env/outbox", outbox, NULL);
}
