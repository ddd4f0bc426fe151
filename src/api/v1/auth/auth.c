/* auth: end-user authentication under /v1/auth (client-api.md §3), first part: e-mail + password
 * sign-up and sign-in, tokens, refresh with rotation, the current user, sign-out and sessions.
 *   POST /v1/auth/email/signup  {method?, email, password, name}     201 token object
 *   POST /v1/auth/email/signin  {method?, email, password}           200 token object
 *   POST /v1/auth/refresh       {refreshToken}                       200 token object
 *   POST /v1/auth/signout                                            200 {message}
 *   GET  /v1/auth/me                                                 200 user
 *   GET  /v1/auth/sessions?page&limit      DELETE /v1/auth/sessions/:sessionId
 *   DELETE /v1/auth/sessions                                         200 {message, revoked}: all but the caller's
 *   POST /v1/auth/switch-organization {organizationId}              200 token object (a new session
 *        replacing the current one) for this environment's own organization; another → 400 (§3.6: an
 *        environment's users belong to one organization on a self-hosted server)
 * Access tokens: HS256 JWTs (core/userauth), 1 hour, jti = the session. Refresh tokens: opaque
 * "rt_" + 64 hex, stored as SHA-256, rotated on every use, 7 days; a rotated token presented again
 * revokes every session of its user (store/users.h), except within --refresh-reuse-interval (10 s) of its
 * rotation while its session lives: then it answers the session's current token (parallel refreshes of
 * one app). Successors are derived from the presented token (refresh_next), so racers agree. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/caller.h"
#include "api/respond.h"
#include "api/route.h"
#include "api/v1/auth/limits.h"
#include "api/v1/auth/surface.h"
#include "api/v1/pipeline.h"
#include "api/v1/quota.h"
#include "core/accounts.h"
#include "api/v1/auth/auth_users.h"
#include "core/keys.h"
#include "core/password.h"
#include "store/users.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/json.h"
#include "util/log.h"

#define AUTH_REFRESH_TTL_MS (7LL * 24 * 3600 * 1000)
#define AUTH_REFRESH_CHAIN_MAX 16 /* rotations a session may make within the reuse interval and still be found */
#define AUTH_REFRESH_PREFIX "rt_"
#define AUTH_SESSIONS_DEFAULT_LIMIT 10

/* ---- inputs ---- */

/* `method` must be "password" or absent (recipe-app omits it). */
static int method_password(struct json_object *body, bs_err *err)
{
    struct json_object *m;
    if (!json_object_object_get_ex(body, "method", &m)) return 0;
    if (json_object_is_type(m, json_type_string) && strcmp(json_object_get_string(m), "password") == 0) return 0;
    return bs_err_set(err, 400, "auth/invalid-request", "method must be \"password\" or \"magiclink\"");
}

static int body_object(http_req *req, struct json_object **out, bs_err *err)
{
    *out = http_req_json_borrow(req);
    if (json_object_is_type(*out, json_type_object)) return 0;
    return bs_err_set(err, 400, "auth/invalid-request", "A JSON object body is required");
}

/* ---- audit ---- */

/* ---- tokens ---- */

/* Issues an access token for (user, session) and appends the token object with refresh to out. */
static int token_object(api_ctx *ctx, const store_user *u, const char *session_id, const char *refresh, int is_new_user,
                        strbuf *out, bs_err *err)
{
    token_claims c;
    memset(&c, 0, sizeof c);
    snprintf(c.sub, sizeof c.sub, "%s", u->id);
    snprintf(c.role, sizeof c.role, "%s", u->role[0] ? u->role : "user");
    snprintf(c.jti, sizeof c.jti, "%s", session_id);
    snprintf(c.env, sizeof c.env, "%s", ctx->key.environment_id);
    snprintf(c.pid, sizeof c.pid, "%s", ctx->key.project_id);
    snprintf(c.typ, sizeof c.typ, "access");
    c.iat = clock_now_ms() / 1000;
    c.exp = c.iat + USERAUTH_ACCESS_TTL;
    strbuf_append_str(out, "{\"accessToken\":\"");
    if (userauth_sign(ctx->app->users, &c, out, err) < 0) return -1;
    strbuf_appendf(out, "\",\"refreshToken\":\"%s\",\"tokenType\":\"Bearer\",\"expiresIn\":%d", refresh, USERAUTH_ACCESS_TTL);
    if (is_new_user >= 0) strbuf_appendf(out, ",\"is_new_user\":%s", is_new_user ? "true" : "false"); /* callbacks (§3.2) */
    strbuf_append_char(out, '}');
    return out->overflow ? bs_err_internal(err) : 0;
}

/* A new refresh token (text) and its stored form (SHA-256 hex). */
static int refresh_new(char text[3 + 65], char hash[CRYPTO_SHA256_HEX], bs_err *err)
{
    memcpy(text, AUTH_REFRESH_PREFIX, 3);
    if (crypto_random_hex(text + 3, 32) < 0) return bs_err_internal(err); /* 64 hex digits */
    crypto_sha256_hex(text, strlen(text), hash);
    return 0;
}

/* The token that replaces a refresh token: "rt_" + hex(HMAC-SHA256(master key, label + presented)).
 * Derived rather than random so that parallel refreshes of one token all get the same successor. */
static int refresh_next(const api_app *app, const char *presented, char text[3 + 65], char hash[CRYPTO_SHA256_HEX], bs_err *err)
{
    char msg[128];
    uint8_t mac[CRYPTO_SHA256_LEN];
    int n = snprintf(msg, sizeof msg, "basalt refresh v1:%s", presented);
    if (n < 0 || (size_t)n >= sizeof msg || crypto_hmac_sha256(app->master_key, sizeof app->master_key, msg, (size_t)n, mac) < 0)
        return bs_err_internal(err);
    memcpy(text, AUTH_REFRESH_PREFIX, 3);
    crypto_hex(mac, sizeof mac, text + 3);
    crypto_sha256_hex(text, strlen(text), hash);
    return 0;
}

/* A token presented again within the reuse interval (STORE_RECENT): its session may have rotated on since;
 * the session's current token is presented's successor after a few steps. Into text, or 401. */
static int refresh_current(const api_app *app, const char *presented, const char *current_hash, char text[3 + 65], bs_err *err)
{
    char cur[3 + 65], hash[CRYPTO_SHA256_HEX];
    snprintf(cur, sizeof cur, "%s", presented);
    for (int i = 0; i < AUTH_REFRESH_CHAIN_MAX; i++) {
        if (refresh_next(app, cur, text, hash, err) < 0) return -1;
        if (!strcmp(hash, current_hash)) return 0;
        snprintf(cur, sizeof cur, "%s", text);
    }
    return bs_err_set(err, 401, "auth/invalid-refresh-token", "Invalid refresh token");
}

int api_session_start(api_ctx *ctx, http_req *req, const store_user *u, int is_new_user, strbuf *out, bs_err *err)
{
    store_session s;
    memset(&s, 0, sizeof s);
    char refresh[3 + 65], hash[CRYPTO_SHA256_HEX];
    int64_t now = clock_now_ms();
    if (u->banned_at) {
        api_audit(ctx, req, "signin_blocked", u->id, u->email, "banned");
        return bs_err_set(err, 403, "auth/account-banned", "This account is suspended");
    }
    snprintf(s.user_id, sizeof s.user_id, "%s", u->id);
    const char *agent = http_req_header(req, "User-Agent");
    snprintf(s.user_agent, sizeof s.user_agent, "%s", agent ? agent : "");
    snprintf(s.ip, sizeof s.ip, "%s", http_req_client_ip(req));
    s.created_at = s.last_seen_at = now;
    s.expires_at = now + AUTH_REFRESH_TTL_MS;
    if (keys_new_id("ses", s.id) < 0 || refresh_new(refresh, hash, err) < 0 ||
        store_sessions_create(ctx->app->docs, ctx->key.environment_id, &s, hash, err) < 0 ||
        store_users_touch_login(ctx->app->docs, ctx->key.environment_id, u->id, now, err) < 0 ||
        token_object(ctx, u, s.id, refresh, is_new_user, out, err) < 0)
        return err->status ? -1 : bs_err_internal(err);
    api_meter_mau(ctx, u->id); /* sign-up and every sign-in go through here */
    return 0;
}

void api_sign_in_answer(api_ctx *ctx, http_req *req, http_res *res, const store_user *u, int status, int is_new_user)
{
    bs_err err;
    bs_err_clear(&err);
    if (!ctx->mau_admitted && api_usage_allow_user(ctx->app, &ctx->key, u->id, u->last_login_at, res) < 0)
        return; /* MAU quota: users new this month */
    if (api_session_start(ctx, req, u, is_new_user, http_res_buffer(res), &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    http_res_content_type(res, "application/json; charset=utf-8");
    http_res_status(res, status);
}

/* ---- sign-up, sign-in, refresh ---- */

/* 1 when the body asks for a magic link (then the whole answer is written by api_magic_request). */
static int magic_requested(api_ctx *ctx, http_req *req, http_res *res, int signup)
{
    struct json_object *body = http_req_json_borrow(req), *m;
    if (!json_object_is_type(body, json_type_object) || !json_object_object_get_ex(body, "method", &m) ||
        !json_object_is_type(m, json_type_string) || strcmp(json_object_get_string(m), "magiclink") != 0)
        return 0;
    api_magic_request(ctx, req, res, signup);
    return 1;
}

static void signup(api_ctx *ctx, http_req *req, http_res *res)
{
    if (api_usage_allow(ctx->app, &ctx->key, "mau", res) < 0) return; /* a new user is new this month: refused before it exists */
    ctx->mau_admitted = 1;
    if (magic_requested(ctx, req, res, 1)) return;
    bs_err err;
    bs_err_clear(&err);
    struct json_object *body = NULL;
    store_user u;
    memset(&u, 0, sizeof u);
    const char *password = NULL, *name = NULL;
    api_auth_settings settings;
    if (api_auth_settings_load(ctx, ctx->key.environment_id, &settings, &err) == 0 &&
        (settings.signup_enabled || bs_err_set(&err, 403, "auth/signup-disabled", "Sign-up is closed for this environment") == 0) &&
        body_object(req, &body, &err) == 0 && method_password(body, &err) == 0 &&
        accounts_email_normalize(json_get_string(body, "email"), u.email, &err) == 0) {
        password = json_get_string(body, "password");
        name = json_get_string(body, "name");
        const char *callback = json_get_string(body, "callbackUrl"); /* used only when the address needs confirming */
        if (settings.require_verification && callback && api_callback_check(ctx, "callbackUrl", callback, &err) < 0) {
            /* err says why */
        } else if (password_check(&settings.password, password, password ? strlen(password) : 0, &err) == 0 && name &&
                   json_utf8_chars(name) <= 256) {
            snprintf(u.name, sizeof u.name, "%s", name);
        } else if (!err.status) {
            bs_err_set(&err, 400, "auth/invalid-request", "name (at most 256 characters) is required");
        }
    }
    if (!err.status) {
        u.created_at = u.updated_at = clock_now_ms();
        snprintf(u.role, sizeof u.role, "user");
        if (keys_new_id("usr", u.id) < 0 || password_hash(password, strlen(password), u.password_hash, &err) < 0) bs_err_internal(&err);
        else store_users_create(ctx->app->docs, ctx->key.environment_id, &u, &err);
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    api_audit(ctx, req, "signup", u.id, u.email, "password");
    if (settings.require_verification) { /* no session until the mailed link is opened */
        if (api_send_signup_confirmation(ctx, &u, json_get_string(body, "callbackUrl"), &err) < 0) {
            http_res_error_from(res, &err);
            return;
        }
        struct json_object *out = json_object_new_object();
        json_object_object_add(out, "message", json_object_new_string("Confirm the e-mail address with the link just sent, then sign in"));
        json_object_object_add(out, "email", json_object_new_string(u.email));
        json_object_object_add(out, "emailVerificationRequired", json_object_new_boolean(1));
        http_res_json(res, 201, out);
        json_object_put(out);
        return;
    }
    api_sign_in_answer(ctx, req, res, &u, 201, -1);
}

/* §1.10: an e-mail (or an IP, ten times as many) with too many failed sign-ins is blocked for a while;
 * even the right password gets 429 then. The counters live in Redis with --redis, else in the environment
 * database (api/v1/auth/limits.h). */
static int signin_blocked(api_ctx *ctx, http_req *req, http_res *res, const char *by_email, const char *by_ip, auth_limits_ticket *t)
{
    bs_err err;
    bs_err_clear(&err);
    int64_t now = clock_now_ms(), until = 0;
    if (auth_limits_signin_admit(ctx, by_email, by_ip, t, &until, &err) < 0) {
        http_res_error_from(res, &err);
        return 1;
    }
    if (!until) return 0;
    char retry[24];
    snprintf(retry, sizeof retry, "%lld", (long long)((until - now + 999) / 1000));
    http_res_error(res, 429, "auth/too-many-login-attempts", "Too many failed sign-ins; try again later");
    api_audit(ctx, req, "signin_blocked", NULL, by_email + 7, NULL);
    http_res_header(res, "Retry-After", retry);
    return 1;
}

static void signin(api_ctx *ctx, http_req *req, http_res *res)
{
    if (magic_requested(ctx, req, res, 0)) return;
    bs_err err;
    bs_err_clear(&err);
    struct json_object *body;
    char email[STORE_EMAIL_MAX];
    store_user u;
    int found = 0;
    if (body_object(req, &body, &err) < 0 || method_password(body, &err) < 0 ||
        accounts_email_normalize(json_get_string(body, "email"), email, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    const char *password = json_get_string(body, "password");
    size_t len = password ? strlen(password) : 0;
    if (!password || len > PASSWORD_MAX_BYTES) {
        http_res_error(res, 401, "auth/invalid-credentials", "Invalid e-mail or password");
        return;
    }
    char by_email[16 + STORE_EMAIL_MAX], by_ip[16 + 48];
    snprintf(by_email, sizeof by_email, "signin:%s", email);
    snprintf(by_ip, sizeof by_ip, "signin-ip:%s", http_req_client_ip(req));
    auth_limits_ticket ticket = {0};
    if (signin_blocked(ctx, req, res, by_email, by_ip, &ticket) ||
        store_users_by_email(ctx->app->docs, ctx->key.environment_id, email, &u, &found, &err) < 0) {
        if (err.status) http_res_error_from(res, &err);
        return;
    }
    int ok = found && u.password_hash[0] ? password_verify(u.password_hash, password, len) : 0;
    if (!found || !u.password_hash[0]) password_verify_dummy(password, len); /* same cost whether or not the e-mail exists */
    if (!ok) {
        api_audit(ctx, req, "signin_failed", found ? u.id : NULL, email, "password");
        auth_limits_signin_failed(ctx, by_email, by_ip, &ticket);
        http_res_error(res, 401, "auth/invalid-credentials", "Invalid e-mail or password");
        return;
    }
    if (u.mfa_enabled_at) { /* the second factor: 403 asks for it, a wrong one counts as a failure */
        const char *code = json_get_string(body, "mfaCode");
        if (!code) {
            auth_limits_signin_undecided(ctx, by_email, by_ip, &ticket);
            http_res_error(res, 403, "auth/mfa-required", "This account needs mfaCode (a TOTP or backup code)");
            return;
        }
        if (api_mfa_check(ctx, &u, code, &err) < 0) {
            api_audit(ctx, req, "signin_failed", u.id, email, "mfa");
            if (err.status == 401) auth_limits_signin_failed(ctx, by_email, by_ip, &ticket);
            else auth_limits_signin_undecided(ctx, by_email, by_ip, &ticket);
            http_res_error_from(res, &err);
            return;
        }
    }
    auth_limits_signin_succeeded(ctx, by_email, by_ip, &ticket);
    api_auth_settings settings;
    if (api_auth_settings_load(ctx, ctx->key.environment_id, &settings, &err) < 0 ||
        (settings.require_verification && !u.email_verified_at && !u.banned_at &&
         bs_err_set(&err, 403, "auth/email-not-verified", "Confirm the e-mail address first (see signup/email/resend)") < 0)) {
        http_res_error_from(res, &err);
        return;
    }
    api_audit(ctx, req, "signin", u.id, u.email, u.mfa_enabled_at ? "password+mfa" : "password");
    api_sign_in_answer(ctx, req, res, &u, 200, -1);
}

static void refresh(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    struct json_object *body;
    if (body_object(req, &body, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    const char *presented = json_get_string(body, "refreshToken");
    if (!presented || strncmp(presented, AUTH_REFRESH_PREFIX, 3) != 0 || strlen(presented) != 67) {
        http_res_error(res, 401, "auth/invalid-refresh-token", "Invalid refresh token");
        return;
    }
    char old_hash[CRYPTO_SHA256_HEX], text[3 + 65], hash[CRYPTO_SHA256_HEX], current[STORE_REFRESH_HASH_MAX];
    crypto_sha256_hex(presented, strlen(presented), old_hash);
    store_session s;
    store_rotation outcome;
    store_user u;
    int found = 0;
    int64_t now = clock_now_ms();
    if (refresh_next(ctx->app, presented, text, hash, &err) < 0 ||
        store_sessions_rotate(ctx->app->docs, ctx->key.environment_id, old_hash, hash, now, now + AUTH_REFRESH_TTL_MS,
                              ctx->app->refresh_reuse_ms, &s, current, &outcome, &err) < 0 ||
        (outcome == STORE_RECENT && refresh_current(ctx->app, presented, current, text, &err) < 0)) {
        http_res_error_from(res, &err);
        return;
    }
    if (outcome == STORE_RECENT) outcome = STORE_ROTATED; /* a parallel refresh of the same client: the same pair */
    if (outcome == STORE_ENDED) {
        http_res_error(res, 401, "auth/session-expired", "The session has ended; sign in again");
        return;
    }
    if (outcome == STORE_REUSED) api_audit(ctx, req, "refresh_reuse", s.user_id, NULL, "every session revoked");
    if (outcome != STORE_ROTATED) { /* unknown, or reused: the whole family was just revoked */
        http_res_error(res, 401, "auth/invalid-refresh-token", "Invalid refresh token");
        return;
    }
    if (api_usage_allow_user(ctx->app, &ctx->key, s.user_id, s.created_at, res) < 0) return; /* MAU quota */
    if (store_users_by_id(ctx->app->docs, ctx->key.environment_id, s.user_id, &u, &found, &err) < 0 ||
        (!found && bs_err_set(&err, 401, "auth/invalid-refresh-token", "Invalid refresh token") < 0) ||
        token_object(ctx, &u, s.id, text, -1, http_res_buffer(res), &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    api_meter_mau(ctx, u.id);
    http_res_content_type(res, "application/json; charset=utf-8");
    http_res_status(res, 200);
}

/* ---- the signed-in user ---- */

static void me(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_user u;
    store_session s;
    if (api_current_user(ctx, &u, &s, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *o = accounts_user_json(&u);
    http_res_json(res, 200, o);
    json_object_put(o);
}

static void signout(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_user u;
    store_session s;
    int found = 0;
    if (api_current_user(ctx, &u, &s, &err) < 0 ||
        (s.id[0] && store_sessions_revoke(ctx->app->docs, ctx->key.environment_id, u.id, s.id, clock_now_ms(), &found, &err) < 0)) {
        http_res_error_from(res, &err);
        return;
    }
    api_audit(ctx, req, "signout", u.id, u.email, s.id);
    api_message(res, 200, "Signed out");
}

static void switch_organization(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_user u;
    store_session s;
    struct json_object *body;
    int found = 0;
    if (api_current_user(ctx, &u, &s, &err) == 0 && body_object(req, &body, &err) == 0) {
        const char *org = json_get_string(body, "organizationId");
        if (!org || strcmp(org, ctx->key.organization_id))
            bs_err_set(&err, 400, "auth/invalid-request", "organizationId must be this project's organization (%s)", ctx->key.organization_id);
        else if (s.id[0])
            store_sessions_revoke(ctx->app->docs, ctx->key.environment_id, u.id, s.id, clock_now_ms(), &found, &err);
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    api_sign_in_answer(ctx, req, res, &u, 200, -1);
}

struct json_object *api_session_json(const store_session *s, const char *current)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(s->id));
    json_object_object_add(o, "userId", json_object_new_string(s->user_id));
    json_object_object_add(o, "userAgent", json_object_new_string(s->user_agent));
    json_object_object_add(o, "ipAddress", json_object_new_string(s->ip));
    json_object_object_add(o, "deviceInfo", json_object_new_string(s->user_agent));
    json_object_object_add(o, "current", json_object_new_boolean(strcmp(s->id, current) == 0));
    json_add_time(o, "lastActivityAt", s->last_seen_at);
    json_add_time(o, "createdAt", s->created_at);
    return o;
}

static void sessions(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_user u;
    store_session cur, list[100];
    size_t n = 0;
    int64_t total = 0, page = api_query_int(req, "page", 1, 1000000), limit = api_query_int(req, "limit", AUTH_SESSIONS_DEFAULT_LIMIT, 100);
    if (api_current_user(ctx, &u, &cur, &err) < 0 ||
        store_sessions_list(ctx->app->docs, ctx->key.environment_id, u.id, (page - 1) * limit, (size_t)limit, list, &n,
                            &total, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *items = json_object_new_array();
    for (size_t i = 0; i < n; i++) json_object_array_add(items, api_session_json(&list[i], cur.id));
    api_answer_page(res, items, total, page, limit);
}

static void session_delete(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_user u;
    store_session cur;
    int found = 0;
    if (api_current_user(ctx, &u, &cur, &err) < 0 ||
        store_sessions_revoke(ctx->app->docs, ctx->key.environment_id, u.id, http_req_param(req, "sessionId"),
                              clock_now_ms(), &found, &err) < 0 ||
        (!found && bs_err_set(&err, 404, "auth/session-not-found", "Session not found") < 0)) {
        http_res_error_from(res, &err);
        return;
    }
    api_audit(ctx, req, "session_revoked", u.id, u.email, http_req_param(req, "sessionId"));
    api_message(res, 200, "Session revoked");
}

/* DELETE /v1/auth/sessions: "sign out everywhere else": every session of the caller but the one of its
 * token ends at once; 200 {message, revoked}. */
static void sessions_delete_others(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_user u;
    store_session cur;
    int64_t count = 0;
    if (api_current_user(ctx, &u, &cur, &err) < 0 ||
        store_sessions_revoke_others(ctx->app->docs, ctx->key.environment_id, u.id, cur.id, clock_now_ms(), &count, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    char detail[48];
    snprintf(detail, sizeof detail, "%lld other sessions", (long long)count);
    api_audit(ctx, req, "session_revoked", u.id, u.email, detail);
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "message", json_object_new_string("Every other session was revoked"));
    json_object_object_add(out, "revoked", json_object_new_int64(count));
    http_res_json(res, 200, out);
    json_object_put(out);
}

/* POST /v1/auth/password/change {currentPassword, newPassword}: every session ends (the caller signs in
 * again, as the spec accepts). */
static void password_change(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_user u;
    store_session s;
    struct json_object *body;
    int found = 0;
    api_auth_settings settings;
    bs_err_clear(&err);
    if (api_current_user(ctx, &u, &s, &err) < 0 || body_object(req, &body, &err) < 0 ||
        api_auth_settings_load(ctx, ctx->key.environment_id, &settings, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    const char *current = json_get_string(body, "currentPassword"), *next = json_get_string(body, "newPassword");
    size_t clen = current ? strlen(current) : 0, nlen = next ? strlen(next) : 0;
    if (!current || clen > PASSWORD_MAX_BYTES || !u.password_hash[0] || !password_verify(u.password_hash, current, clen))
        bs_err_set(&err, 401, "auth/invalid-password", "The current password is wrong");
    else if (password_check(&settings.password, next, nlen, &err) < 0)
        ;
    else if (nlen == clen && memcmp(next, current, clen) == 0)
        bs_err_set(&err, 400, "auth/same-as-previous-password", "The new password is the current one");
    if (!err.status) {
        u.updated_at = clock_now_ms();
        if (password_hash(next, nlen, u.password_hash, &err) == 0 &&
            store_users_update(ctx->app->docs, ctx->key.environment_id, &u, &found, &err) == 0)
            store_sessions_revoke_all(ctx->app->docs, ctx->key.environment_id, u.id, u.updated_at, &err);
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    api_audit(ctx, req, "password_changed", u.id, u.email, NULL);
    api_message(res, 200, "Password changed; sign in again");
}

int api_auth_register(http_router *router, api_app *app)
{
    bs_err err;
    if (password_init(&err) < 0) return -1;
    http_route_opts json = {.body = HTTP_BODY_JSON, .max_body = 64 * 1024};
    if (api_route_v1_public(router, app, HTTP_POST, "/v1/auth/email/signup", signup, &json) < 0) return -1;
    if (api_route_v1_public(router, app, HTTP_POST, "/v1/auth/email/signin", signin, &json) < 0) return -1;
    if (api_route_v1_public(router, app, HTTP_POST, "/v1/auth/refresh", refresh, &json) < 0) return -1;
    if (api_route_v1(router, app, HTTP_POST, "/v1/auth/signout", signout, NULL) < 0) return -1;
    if (api_route_v1(router, app, HTTP_GET, "/v1/auth/me", me, NULL) < 0) return -1;
    if (api_route_v1(router, app, HTTP_GET, "/v1/auth/sessions", sessions, NULL) < 0) return -1;
    if (api_route_v1(router, app, HTTP_POST, "/v1/auth/password/change", password_change, &json) < 0) return -1;
    if (api_route_v1(router, app, HTTP_POST, "/v1/auth/switch-organization", switch_organization, &json) < 0) return -1;
    if (api_route_v1(router, app, HTTP_DELETE, "/v1/auth/sessions", sessions_delete_others, NULL) < 0) return -1;
    return api_route_v1(router, app, HTTP_DELETE, "/v1/auth/sessions/:sessionId", session_delete, NULL);
}
