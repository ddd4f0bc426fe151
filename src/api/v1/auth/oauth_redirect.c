/* oauth_redirect: social sign-in flow B of client-api.md §3.5, driven by the server:
 *   GET /v1/auth/:provider/authorize?redirect=<appUrl>[&state=<appState>]   (key)
 *       → 200 {authorizationUrl, state, callbackUrl}: the provider's page with the server's own callback as
 *         redirect_uri, a server-issued state and a PKCE challenge (S256)
 *   GET /v1/auth/:provider/callback?env=<envId>&code=...&state=...            (keyless: the browser arrives)
 *       → 302 <appUrl>?accessToken=...&refreshToken=...&expiresIn=3600&isNewUser=true|false[&state=<appState>]
 *         or 302 <appUrl>?error=<code>&errorMessage=<text>[&state=<appState>]
 * The state is self-contained and signed: base64url(JSON {e: env, p: provider, r: appUrl, s: appState,
 * x: expiry, n: nonce}) "." base64url(HMAC-SHA256(environment secret "oauth", first part)); it is good for
 * 10 minutes and once (the nonce is stored hashed as a single-use token). The PKCE verifier is derived
 * from the nonce with the same secret, so nothing else is stored. A state that fails its signature cannot
 * name a trustworthy app URL, so it is answered 400 auth/invalid-oauth-state without a redirect.
 * App URLs must be listed in the provider's redirectUris (compared without their query string). */
#include <stdio.h>
#include <string.h>

#include "api/caller.h"
#include "api/route.h"
#include "api/v1/auth/surface.h"
#include "api/v1/pipeline.h"
#include "api/v1/quota.h"
#include "api/v1/auth/auth_users.h"
#include "api/v1/auth/oauth.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/json.h"

#define STATE_TTL_MS (10LL * 60 * 1000)
#define STATE_MAX 4096
#define APP_URL_MAX 1024
#define APP_STATE_MAX 512

static void url_param(strbuf *out, const char *key, const char *value)
{
    strbuf_appendf(out, "%s=", key);
    strbuf_append_percent(out, value, 0);
}

/* The app URL is a plain http(s) URL without fragment listed in the provider's redirect URIs, compared
 * without query strings (callbacks.c). */
static int app_url_allowed(const store_provider *p, const char *url)
{
    char origin[APP_URL_MAX];
    return api_callback_origin(url, origin, sizeof origin) && !strchr(url, '#') && api_url_listed(p->redirect_uris, url);
}

void api_oauth_callback_url(api_ctx *ctx, const char *provider, const char *env_id, char *out, size_t size)
{
    snprintf(out, size, "%s/v1/auth/%s/callback?env=%s", ctx->app->public_url, provider, env_id);
}

static void callback_url(api_ctx *ctx, const char *provider, char *out, size_t size)
{
    api_oauth_callback_url(ctx, provider, ctx->key.environment_id, out, size);
}

/* The PKCE verifier of a nonce: base64url(HMAC(secret, "pkce:" nonce)), 43 characters. */
static int pkce_verifier(const uint8_t *secret, const char *nonce, char out[64])
{
    char msg[80];
    uint8_t mac[CRYPTO_SHA256_LEN];
    snprintf(msg, sizeof msg, "pkce:%s", nonce);
    if (crypto_hmac_sha256(secret, STORE_ENV_SECRET_LEN, msg, strlen(msg), mac) < 0) return -1;
    crypto_base64url_encode(mac, sizeof mac, out);
    return 0;
}

/* Signs payload (JSON text) into state: base64url(payload) "." base64url(mac). */
static int state_sign(const uint8_t *secret, const char *payload, strbuf *state)
{
    static _Thread_local char enc[STATE_MAX * 2];
    uint8_t mac[CRYPTO_SHA256_LEN];
    char mac_text[64];
    size_t len = strlen(payload);
    if (len > STATE_MAX) return -1;
    size_t n = crypto_base64url_encode(payload, len, enc);
    if (crypto_hmac_sha256(secret, STORE_ENV_SECRET_LEN, enc, n, mac) < 0) return -1;
    crypto_base64url_encode(mac, sizeof mac, mac_text);
    strbuf_appendf(state, "%s.%s", enc, mac_text);
    return state->overflow ? -1 : 0;
}

/* The payload of a state signed with secret (a new reference), or NULL when forged or malformed. */
static struct json_object *state_open(const uint8_t *secret, const char *state)
{
    static _Thread_local uint8_t raw[STATE_MAX * 2];
    const char *dot = state ? strchr(state, '.') : NULL;
    uint8_t mac[CRYPTO_SHA256_LEN], given[CRYPTO_SHA256_LEN];
    if (!dot || (size_t)(dot - state) > STATE_MAX * 4 / 3 + 4 || strlen(dot + 1) != 43) return NULL;
    if (crypto_hmac_sha256(secret, STORE_ENV_SECRET_LEN, state, (size_t)(dot - state), mac) < 0 ||
        crypto_base64url_decode_bounded(dot + 1, 43, given, sizeof given) != CRYPTO_SHA256_LEN || !crypto_equal(mac, given, sizeof mac))
        return NULL;
    long n = crypto_base64url_decode_bounded(state, (size_t)(dot - state), raw, sizeof raw - 1);
    if (n <= 0) return NULL;
    raw[n] = '\0';
    return json_tokener_parse((const char *)raw);
}

/* ---- step 1: the provider's URL ---- */

static void provider_url(api_ctx *ctx, const char *provider, const store_provider *p, const char *state, const char *challenge,
                         strbuf *out)
{
    char callback[1024], client[256];
    callback_url(ctx, provider, callback, sizeof callback);
    snprintf(client, sizeof client, "%.*s", (int)strcspn(p->client_id, " "), p->client_id);
    int google = !strcmp(provider, "google");
    const char *base = google ? ctx->app->google_auth_url : ctx->app->github_auth_url;
    strbuf_appendf(out, "%s%s", base, strchr(base, '?') ? "&" : "?");
    url_param(out, "client_id", client);
    strbuf_append_char(out, '&');
    url_param(out, "redirect_uri", callback);
    strbuf_append_str(out, google ? "&response_type=code&" : "&");
    url_param(out, "scope", google ? "openid email profile" : "read:user user:email");
    strbuf_append_char(out, '&');
    url_param(out, "state", state);
    strbuf_append_char(out, '&');
    url_param(out, "code_challenge", challenge);
    strbuf_append_str(out, "&code_challenge_method=S256");
}

static void authorize(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_provider p;
    uint8_t secret[STORE_ENV_SECRET_LEN], digest[CRYPTO_SHA256_LEN];
    char nonce[33], verifier[64], challenge[64], hash[CRYPTO_SHA256_HEX];
    const char *provider = http_req_param(req, "provider"), *app = http_req_query(req, "redirect");
    const char *app_state = http_req_query(req, "state");
    if (api_oauth_provider_load(ctx, provider, &p, &err) < 0) {
        /* err says why */
    } else if (!app_url_allowed(&p, app)) {
        bs_err_set(&err, 400, "auth/invalid-request", "redirect must be an http(s) URL listed in the provider's redirectUris");
    } else if (app_state && strlen(app_state) > APP_STATE_MAX) {
        bs_err_set(&err, 400, "auth/invalid-request", "state: at most %d characters", APP_STATE_MAX);
    } else if (store_control_env_secret(ctx->app->control, ctx->key.environment_id, "oauth", secret, &err) == 0) {
        if (crypto_random_hex(nonce, 16) < 0 || pkce_verifier(secret, nonce, verifier) < 0) bs_err_internal(&err);
    }
    strbuf state, url;
    strbuf_init(&state, STATE_MAX * 2);
    strbuf_init(&url, STATE_MAX * 3);
    if (!err.status) {
        int64_t expires = clock_now_ms() + STATE_TTL_MS;
        struct json_object *payload = json_object_new_object();
        json_object_object_add(payload, "e", json_object_new_string(ctx->key.environment_id));
        json_object_object_add(payload, "p", json_object_new_string(provider));
        json_object_object_add(payload, "r", json_object_new_string(app));
        if (app_state) json_object_object_add(payload, "s", json_object_new_string(app_state));
        json_object_object_add(payload, "x", json_object_new_int64(expires));
        json_object_object_add(payload, "n", json_object_new_string(nonce));
        crypto_sha256(verifier, strlen(verifier), digest);
        crypto_base64url_encode(digest, sizeof digest, challenge);
        crypto_sha256_hex(nonce, strlen(nonce), hash);
        if (state_sign(secret, json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN), &state) < 0) bs_err_internal(&err);
        else if (store_tokens_create(ctx->app->docs, ctx->key.environment_id, "oauth_state", hash, "", "", expires, &err) == 0)
            provider_url(ctx, provider, &p, state.data, challenge, &url);
        json_object_put(payload);
    }
    memset(secret, 0, sizeof secret);
    if (err.status || url.overflow) {
        if (!err.status) bs_err_internal(&err);
        http_res_error_from(res, &err);
    } else {
        char callback[1024];
        callback_url(ctx, provider, callback, sizeof callback);
        struct json_object *out = json_object_new_object();
        json_object_object_add(out, "authorizationUrl", json_object_new_string(url.data));
        json_object_object_add(out, "state", json_object_new_string(state.data));
        json_object_object_add(out, "callbackUrl", json_object_new_string(callback));
        http_res_json(res, 200, out);
        json_object_put(out);
    }
    strbuf_release(&state);
    strbuf_release(&url);
}

/* ---- step 2: the browser comes back ---- */

/* 302 to the app URL with the token object's fields, or with error and errorMessage. */
static void back_to_app(http_res *res, const char *app, const char *app_state, const char *tokens, const bs_err *err)
{
    strbuf loc;
    strbuf_init(&loc, 16 * 1024);
    strbuf_appendf(&loc, "%s%s", app, strchr(app, '?') ? "&" : "?");
    struct json_object *t = tokens ? json_tokener_parse(tokens) : NULL, *v;
    if (t) {
        url_param(&loc, "accessToken", json_get_string(t, "accessToken"));
        strbuf_append_char(&loc, '&');
        url_param(&loc, "refreshToken", json_get_string(t, "refreshToken"));
        strbuf_appendf(&loc, "&expiresIn=%lld", json_object_object_get_ex(t, "expiresIn", &v) ? (long long)json_object_get_int64(v) : 0LL);
        strbuf_appendf(&loc, "&isNewUser=%s",
                       json_object_object_get_ex(t, "is_new_user", &v) && json_object_get_boolean(v) ? "true" : "false");
    } else {
        url_param(&loc, "error", err->code);
        strbuf_append_char(&loc, '&');
        url_param(&loc, "errorMessage", err->message);
    }
    if (app_state) {
        strbuf_append_char(&loc, '&');
        url_param(&loc, "state", app_state);
    }
    json_object_put(t);
    http_res_status(res, 302);
    http_res_header(res, "Location", loc.data);
    http_res_header(res, "Cache-Control", "no-store");
    http_res_header(res, "Referrer-Policy", "no-referrer");
    strbuf_release(&loc);
}

/* The signed-in user's token object into tokens, from the provider's answer in the query. */
static int finish_sign_in(api_ctx *ctx, http_req *req, const char *provider, const char *nonce, const uint8_t *secret,
                          strbuf *tokens, bs_err *err)
{
    store_provider p;
    store_user u;
    store_token_outcome outcome;
    char hash[CRYPTO_SHA256_HEX], user_id[STORE_USER_ID_MAX], verifier[64], callback[1024];
    const char *code = http_req_query(req, "code"), *refused = http_req_query(req, "error");
    int is_new = 0;
    crypto_sha256_hex(nonce, strlen(nonce), hash);
    if (store_tokens_consume(ctx->app->docs, ctx->key.environment_id, "oauth_state", hash, NULL, clock_now_ms(), user_id,
                             &outcome, err) < 0)
        return -1;
    if (outcome != STORE_TOKEN_OK) return bs_err_set(err, 400, "auth/invalid-oauth-state", "This sign-in was already used or expired");
    if (refused) return bs_err_set(err, 400, "auth/oauth-callback-failed", "The provider answered: %.200s", refused);
    if (!code || strlen(code) > 2048) return bs_err_set(err, 400, "auth/missing-credentials", "The provider sent no code");
    if (api_oauth_provider_load(ctx, provider, &p, err) < 0 || pkce_verifier(secret, nonce, verifier) < 0) return err->status ? -1 : bs_err_internal(err);
    callback_url(ctx, provider, callback, sizeof callback);
    struct json_object *me = api_oauth_profile(ctx, provider, &p, code, callback, verifier, err);
    int rc = me && api_oauth_user(ctx, provider, me, &u, &is_new, err) == 0 ? 0 : -1;
    json_object_put(me);
    if (rc == 0) {
        char detail[32];
        snprintf(detail, sizeof detail, "%s redirect", provider);
        api_audit(ctx, req, is_new ? "signup" : "signin", u.id, u.email, detail);
        /* the MAU check of a returning user (a new one was admitted before it was made: api_oauth_user) */
        if (!ctx->mau_admitted && api_usage_allow_user(ctx->app, &ctx->key, u.id, u.last_login_at, NULL) < 0)
            rc = api_usage_refuse("mau", err);
        else rc = api_session_start(ctx, req, &u, is_new, tokens, err);
    }
    return rc;
}

static void provider_callback(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    uint8_t secret[STORE_ENV_SECRET_LEN];
    const char *provider = http_req_param(req, "provider");
    struct json_object *payload = NULL, *x = NULL;
    if (store_control_env_secret(ctx->app->control, ctx->key.environment_id, "oauth", secret, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    payload = state_open(secret, http_req_query(req, "state"));
    const char *app = json_get_string(payload, "r"), *nonce = json_get_string(payload, "n");
    if (!payload || !app || !nonce || !json_object_object_get_ex(payload, "x", &x) ||
        strcmp(json_get_string(payload, "e") ? json_get_string(payload, "e") : "", ctx->key.environment_id) ||
        strcmp(json_get_string(payload, "p") ? json_get_string(payload, "p") : "", provider ? provider : "")) {
        json_object_put(payload);
        memset(secret, 0, sizeof secret);
        http_res_error(res, 400, "auth/invalid-oauth-state", "Unknown or altered state: start the sign-in again");
        return;
    }
    strbuf tokens;
    strbuf_init(&tokens, 8192);
    if (json_object_get_int64(x) < clock_now_ms())
        bs_err_set(&err, 400, "auth/invalid-oauth-state", "The sign-in took too long; start it again");
    else
        finish_sign_in(ctx, req, provider, nonce, secret, &tokens, &err);
    memset(secret, 0, sizeof secret);
    back_to_app(res, app, json_get_string(payload, "s"), err.status ? NULL : tokens.data, &err);
    strbuf_release(&tokens);
    json_object_put(payload);
}

int api_oauth_redirect_register(http_router *router, api_app *app)
{
    if (api_route_v1_public(router, app, HTTP_GET, "/v1/auth/:provider/authorize", authorize, NULL) < 0) return -1;
    return api_route_v1_link(router, app, HTTP_GET, "/v1/auth/:provider/callback", provider_callback, NULL);
}
