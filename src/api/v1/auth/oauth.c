/* oauth: social sign-in (client-api.md §3.5), first part: Google's authorization-code flow A (the app
 * sends the provider's code; the server exchanges it with the stored client secret and reads the
 * OpenID userinfo), and the provider settings of an environment:
 *   POST /v1/auth/:provider/callback   public {code, redirectUri, state?}  → token object + is_new_user
 *   PUT/GET /admin/v1/projects/:projectId/environments/:env/auth/providers/:provider
 *            PUT {clientId, clientSecret?, redirectUris[], enabled}; the secret is sealed with the master key
 *            and never returned (GET shows hasSecret)
 * The provider endpoints are configurable (--google-token-url, --google-userinfo-url) so the tests run the
 * whole exchange against a local stand-in speaking the same HTTP protocol. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin_gate.h"
#include "api/caller.h"
#include "api/respond.h"
#include "api/route.h"
#include "api/v1/auth/surface.h"
#include "api/v1/pipeline.h"
#include "api/v1/quota.h"
#include "core/accounts.h"
#include "api/v1/auth/auth_users.h"
#include "api/v1/auth/oauth.h"
#include "core/idtoken.h"
#include "core/keys.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/json.h"
#include "util/log.h"

#define OAUTH_RESPONSE_MAX (64 * 1024)

int api_oauth_provider_known(const char *p) { return p && (!strcmp(p, "google") || !strcmp(p, "github")); }
#define provider_known api_oauth_provider_known

int api_oauth_provider_load(api_ctx *ctx, const char *provider, store_provider *p, bs_err *err)
{
    int found = 0;
    if (!provider_known(provider)) return bs_err_set(err, 400, "auth/unsupported-provider", "Providers: google, github");
    if (store_control_provider_get(ctx->app->control, ctx->key.environment_id, provider, p, &found, err) < 0) return -1;
    if (!found || !p->enabled) return bs_err_set(err, 400, "auth/oauth-not-configured", "%s sign-in is not configured", provider);
    return 0;
}

/* ---- a small HTTPS client for the provider's endpoints ---- */

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
    strbuf *out = arg;
    return strbuf_append(out, data, size * n) == 0 ? size * n : 0;
}

/* POSTs form (when not NULL) or GETs with bearer; the JSON answer (NULL on failure) and HTTP status. */
static struct json_object *provider_call(const char *url, const char *form, const char *bearer, long *status)
{
    strbuf body;
    strbuf_init(&body, OAUTH_RESPONSE_MAX);
    char auth[2200];
    struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");
    headers = curl_slist_append(headers, "User-Agent: basalt"); /* GitHub's API refuses requests without one */
    if (bearer) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", bearer);
        headers = curl_slist_append(headers, auth);
    }
    CURL *c = curl_easy_init();
    CURLcode rc = CURLE_FAILED_INIT;
    *status = 0;
    if (c) {
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        if (form) curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
        rc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
        curl_easy_cleanup(c);
    }
    curl_slist_free_all(headers);
    struct json_object *json = NULL;
    if (rc == CURLE_OK && body.len) json = json_tokener_parse(body.data);
    if (rc != CURLE_OK) log_warn("oauth: %s: %s", url, curl_easy_strerror(rc));
    strbuf_release(&body);
    return json;
}

/* Appends key=urlencoded(value) to form, after '&' but for the first. */
static void form_add(strbuf *form, const char *key, const char *value)
{
    strbuf_appendf(form, "%s%s=", form->len ? "&" : "", key);
    strbuf_append_percent(form, value, 0);
}

/* ---- provider settings (management API) ---- */

int api_oauth_redirect_allowed(const store_provider *p, const char *uri)
{
    struct json_object *list = json_tokener_parse(p->redirect_uris);
    size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
    int ok = n == 0; /* no list: any (the provider itself checks against its own registration) */
    for (size_t i = 0; i < n && !ok; i++) ok = !strcmp(json_object_get_string(json_object_array_get_idx(list, i)), uri);
    json_object_put(list);
    return ok;
}

static struct json_object *provider_json(api_ctx *ctx, const store_provider *p)
{
    char callback[1024];
    api_oauth_callback_url(ctx, p->provider, p->environment_id, callback, sizeof callback);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "serverCallbackUrl", json_object_new_string(callback)); /* flow B's redirect_uri */
    json_object_object_add(o, "provider", json_object_new_string(p->provider));
    json_object_object_add(o, "clientId", json_object_new_string(p->client_id));
    json_object_object_add(o, "hasSecret", json_object_new_boolean(p->secret_sealed[0] != '\0'));
    json_object_object_add(o, "redirectUris", json_tokener_parse(p->redirect_uris));
    json_object_object_add(o, "enabled", json_object_new_boolean(p->enabled));
    json_object_object_add(o, "configured", json_object_new_boolean(p->updated_at != 0));
    json_add_time(o, "updatedAt", p->updated_at);
    return o;
}

static void provider_put(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_env env;
    store_provider p, old;
    int found = 0;
    memset(&p, 0, sizeof p);
    const char *name = http_req_param(req, "provider");
    struct json_object *body = http_req_json_borrow(req), *uris = NULL, *enabled = NULL;
    const char *client_id = json_get_string(body, "clientId"), *secret = json_get_string(body, "clientSecret");
    if (api_admin_env(ctx, req, 1, &env, &err) < 0) {
        /* err says why */
    } else if (!provider_known(name)) {
        bs_err_set(&err, 400, "auth/unsupported-provider", "Providers: google, github");
    } else if (!client_id || !*client_id || strlen(client_id) >= sizeof p.client_id || (secret && strlen(secret) > 1024)) {
        bs_err_set(&err, 400, "common/invalid-parameters", "clientId (and clientSecret) are required");
    } else if (json_object_object_get_ex(body, "redirectUris", &uris) && !json_object_is_type(uris, json_type_array)) {
        bs_err_set(&err, 400, "common/invalid-parameters", "redirectUris must be an array of URLs");
    } else if (store_control_provider_get(ctx->app->control, env.id, name, &old, &found, &err) == 0) {
        snprintf(p.environment_id, sizeof p.environment_id, "%s", env.id);
        snprintf(p.provider, sizeof p.provider, "%s", name);
        snprintf(p.client_id, sizeof p.client_id, "%s", client_id);
        snprintf(p.redirect_uris, sizeof p.redirect_uris, "%s", uris ? json_object_to_json_string_ext(uris, JSON_C_TO_STRING_PLAIN) : "[]");
        p.enabled = !json_object_object_get_ex(body, "enabled", &enabled) || json_object_get_boolean(enabled);
        p.updated_at = clock_now_ms();
        if (secret) {
            if (crypto_seal(ctx->app->master_key, secret, strlen(secret), p.secret_sealed, sizeof p.secret_sealed) < 0) bs_err_internal(&err);
        } else if (found) {
            snprintf(p.secret_sealed, sizeof p.secret_sealed, "%s", old.secret_sealed); /* keep the stored one */
        }
        if (!err.status) store_control_provider_put(ctx->app->control, &p, &err);
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    api_env_activity(ctx, &env, "provider", name, "update", "sign-in provider %s %s", name, p.enabled ? "enabled" : "disabled");
    struct json_object *o = provider_json(ctx, &p);
    http_res_json(res, 200, o);
    json_object_put(o);
}

/* A known provider never configured answers its default: no client, no secret, disabled
 * (configured: false); 404 auth/unsupported-provider for any other name. */
static void provider_get(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_env env;
    store_provider p;
    int found = 0;
    const char *name = http_req_param(req, "provider");
    if (api_admin_env(ctx, req, 0, &env, &err) == 0 && !provider_known(name))
        bs_err_set(&err, 404, "auth/unsupported-provider", "Providers: google, github");
    else if (!err.status && store_control_provider_get(ctx->app->control, env.id, name, &p, &found, &err) == 0 && !found) {
        memset(&p, 0, sizeof p);
        snprintf(p.environment_id, sizeof p.environment_id, "%s", env.id);
        snprintf(p.provider, sizeof p.provider, "%s", name);
        snprintf(p.redirect_uris, sizeof p.redirect_uris, "[]");
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *o = provider_json(ctx, &p);
    http_res_json(res, 200, o);
    json_object_put(o);
}

/* ---- Google, flow A ---- */

/* Exchanges an authorization code at token_url with the stored client secret: the access token into
 * out, or -1 with 401 auth/invalid-oauth-code (refused) or 400 <failed_code>. */
static int code_exchange(api_ctx *ctx, const store_provider *p, const char *token_url, const char *code, const char *redirect,
                         const char *verifier, const char *failed_code, char *out, size_t size, bs_err *err)
{
    char secret[1100];
    if (!p->secret_sealed[0] || crypto_open(ctx->app->master_key, p->secret_sealed, secret, sizeof secret) < 0)
        return bs_err_set(err, 400, "auth/oauth-not-configured", "The provider has no usable client secret");
    strbuf form;
    strbuf_init(&form, 16 * 1024);
    char first_id[256];
    snprintf(first_id, sizeof first_id, "%.*s", (int)strcspn(p->client_id, " "), p->client_id);
    form_add(&form, "grant_type", "authorization_code");
    form_add(&form, "code", code);
    form_add(&form, "client_id", first_id);
    form_add(&form, "client_secret", secret);
    form_add(&form, "redirect_uri", redirect);
    if (verifier) form_add(&form, "code_verifier", verifier); /* PKCE (RFC 7636) */
    long status = 0;
    struct json_object *tok = form.overflow ? NULL : provider_call(token_url, form.data, NULL, &status);
    strbuf_release(&form);
    memset(secret, 0, sizeof secret);
    const char *access = json_get_string(tok, "access_token"); /* GitHub answers 200 {error} on a bad code */
    int refused = (status >= 400 && status < 500) || json_get_string(tok, "error");
    if (access && strlen(access) < size) snprintf(out, size, "%s", access);
    json_object_put(tok);
    if (access) return 0;
    return bs_err_set(err, refused ? 401 : 400, refused ? "auth/invalid-oauth-code" : failed_code, "The provider did not accept the code");
}

/* GitHub: the profile (id, login, name, avatar_url) and the primary verified e-mail, as OpenID-style
 * claims {sub, email, email_verified, name, picture} (a new reference). */
static struct json_object *github_profile(api_ctx *ctx, const store_provider *p, const char *code, const char *redirect,
                                         const char *verifier, bs_err *err)
{
    char access[2048], url[1024];
    long status = 0;
    if (code_exchange(ctx, p, ctx->app->github_token_url, code, redirect, verifier, "auth/github-token-exchange-failed", access, sizeof access, err) < 0)
        return NULL;
    snprintf(url, sizeof url, "%s/user", ctx->app->github_api_url);
    struct json_object *user = provider_call(url, NULL, access, &status), *id;
    snprintf(url, sizeof url, "%s/user/emails", ctx->app->github_api_url);
    struct json_object *emails = user ? provider_call(url, NULL, access, &status) : NULL, *out = NULL;
    const char *email = NULL;
    for (size_t i = 0; json_object_is_type(emails, json_type_array) && i < json_object_array_length(emails) && !email; i++) {
        struct json_object *e = json_object_array_get_idx(emails, i), *primary, *verified;
        if (json_object_object_get_ex(e, "primary", &primary) && json_object_get_boolean(primary) &&
            json_object_object_get_ex(e, "verified", &verified) && json_object_get_boolean(verified))
            email = json_get_string(e, "email");
    }
    if (!user || !json_object_object_get_ex(user, "id", &id)) {
        bs_err_set(err, 400, "auth/github-token-exchange-failed", "GitHub did not return the user");
    } else if (!email) {
        bs_err_set(err, 400, "auth/github-email-not-found", "The GitHub account has no verified primary e-mail");
    } else {
        out = json_object_new_object();
        json_object_object_add(out, "sub", json_object_new_string(json_object_get_string(id)));
        json_object_object_add(out, "email", json_object_new_string(email));
        json_object_object_add(out, "email_verified", json_object_new_boolean(1));
        const char *name = json_get_string(user, "name") ? json_get_string(user, "name") : json_get_string(user, "login");
        if (name) json_object_object_add(out, "name", json_object_new_string(name));
        if (json_get_string(user, "avatar_url")) json_object_object_add(out, "picture", json_object_new_string(json_get_string(user, "avatar_url")));
    }
    json_object_put(user);
    json_object_put(emails);
    return out;
}

/* Exchanges code for the user's OpenID profile (sub, email, email_verified, name, picture). */
static struct json_object *google_profile(api_ctx *ctx, const store_provider *p, const char *code, const char *redirect,
                                         const char *verifier, bs_err *err)
{
    char access[2048];
    long status = 0;
    if (code_exchange(ctx, p, ctx->app->google_token_url, code, redirect, verifier, "auth/google-token-exchange-failed", access, sizeof access, err) < 0)
        return NULL;
    struct json_object *me = provider_call(ctx->app->google_userinfo_url, NULL, access, &status);
    if (!json_get_string(me, "sub") || !json_get_string(me, "email")) {
        json_object_put(me);
        bs_err_set(err, 400, "auth/google-token-exchange-failed", "Google did not return the user's profile");
        return NULL;
    }
    return me;
}

struct json_object *api_oauth_profile(api_ctx *ctx, const char *provider, const store_provider *p, const char *code,
                                      const char *redirect, const char *verifier, bs_err *err)
{
    return strcmp(provider, "github") == 0 ? github_profile(ctx, p, code, redirect, verifier, err)
                                           : google_profile(ctx, p, code, redirect, verifier, err);
}

/* ---- Google ID tokens (native apps send only {idToken}) ---- */

#define JWKS_TTL_MS (3600LL * 1000)

static pthread_mutex_t jwks_lock = PTHREAD_MUTEX_INITIALIZER;
static char jwks_text[OAUTH_RESPONSE_MAX];
static int64_t jwks_fetched_ms;

/* Google's keys as JSON text into out: cached for an hour, fetched again when forced. */
static int google_keys(api_ctx *ctx, int force, char *out, size_t size)
{
    pthread_mutex_lock(&jwks_lock);
    int fresh = jwks_text[0] && !force && clock_now_ms() - jwks_fetched_ms < JWKS_TTL_MS;
    if (!fresh) {
        long status = 0;
        struct json_object *doc = provider_call(ctx->app->google_jwks_url, NULL, NULL, &status);
        if (doc) {
            snprintf(jwks_text, sizeof jwks_text, "%s", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
            jwks_fetched_ms = clock_now_ms();
        }
        json_object_put(doc);
    }
    snprintf(out, size, "%s", jwks_text);
    pthread_mutex_unlock(&jwks_lock);
    return out[0] ? 0 : -1;
}

static struct json_object *google_id_token(api_ctx *ctx, const store_provider *p, const char *jwt, bs_err *err)
{
    static const char *const issuers[] = {"https://accounts.google.com", "accounts.google.com"};
    char *keys = malloc(OAUTH_RESPONSE_MAX);
    int unknown_kid = 0;
    struct json_object *claims = NULL;
    if (!keys) {
        bs_err_internal(err);
        return NULL;
    }
    for (int attempt = 0; attempt < 2 && !claims; attempt++) {
        if (google_keys(ctx, attempt > 0, keys, OAUTH_RESPONSE_MAX) < 0) {
            bs_err_set(err, 400, "auth/oauth-callback-failed", "Google's signing keys are unavailable");
            break;
        }
        claims = idtoken_verify(jwt, keys, issuers, 2, p->client_id, clock_now_ms() / 1000, &unknown_kid, err);
        if (!claims && !unknown_kid) break; /* only a key we do not know yet is worth a refetch */
    }
    free(keys);
    return claims;
}

/* The user of a provider profile: linked before, or new (is_new), or 409 when the e-mail has an account
 * of another kind (§3.5 recommendation: linking is explicit). */
int api_oauth_user(api_ctx *ctx, const char *provider, struct json_object *me, store_user *u, int *is_new, bs_err *err)
{
    char user_id[STORE_USER_ID_MAX], email[STORE_EMAIL_MAX];
    int found = 0;
    const char *env = ctx->key.environment_id, *sub = json_get_string(me, "sub");
    *is_new = 0;
    if (store_accounts_find(ctx->app->docs, env, provider, sub, user_id, &found, err) < 0) return -1;
    if (found) {
        if (store_users_by_id(ctx->app->docs, env, user_id, u, &found, err) < 0) return -1;
        return found ? 0 : bs_err_set(err, 401, "auth/invalid-credentials", "The linked account is gone");
    }
    if (accounts_email_normalize(json_get_string(me, "email"), email, err) < 0) return -1;
    if (store_users_by_email(ctx->app->docs, env, email, u, &found, err) < 0) return -1;
    if (found)
        return bs_err_set(err, 409, "auth/account-exists-different-provider",
                          "This e-mail already has an account; sign in and link %s to it", provider);
    /* a new user is new this month: refused before it exists (like e-mail sign-up), then not checked again */
    if (api_usage_allow(ctx->app, &ctx->key, "mau", NULL) < 0) return api_usage_refuse("mau", err);
    ctx->mau_admitted = 1;
    memset(u, 0, sizeof *u);
    const char *name = json_get_string(me, "name"), *picture = json_get_string(me, "picture");
    snprintf(u->email, sizeof u->email, "%s", email);
    snprintf(u->name, sizeof u->name, "%.100s", name && *name ? name : email);
    if (picture && !strncmp(picture, "https://", 8)) snprintf(u->image, sizeof u->image, "%s", picture);
    snprintf(u->role, sizeof u->role, "user");
    snprintf(u->profile, sizeof u->profile, "{}");
    u->mfa_last_step = -1;
    u->created_at = u->updated_at = clock_now_ms();
    struct json_object *verified;
    if (json_object_object_get_ex(me, "email_verified", &verified) && json_object_get_boolean(verified)) u->email_verified_at = u->created_at;
    if (keys_new_id("usr", u->id) < 0) return bs_err_internal(err);
    if (store_users_create(ctx->app->docs, env, u, err) < 0 || store_accounts_link(ctx->app->docs, env, provider, sub, u->id, err) < 0)
        return -1;
    *is_new = 1;
    return 0;
}

/* The provider profile of a POSTed credential: {code, redirectUri} (flow A) or, for Google, {idToken}. */
static struct json_object *posted_profile(api_ctx *ctx, const char *provider, const store_provider *p, struct json_object *body,
                                          bs_err *err)
{
    const char *code = json_get_string(body, "code"), *redirect = json_get_string(body, "redirectUri");
    const char *id_token = json_get_string(body, "idToken");
    if (!code && !id_token) bs_err_set(err, 400, "auth/missing-credentials", "code or idToken is required");
    else if (!code && strcmp(provider, "google"))
        bs_err_set(err, 400, "auth/invalid-request", "ID tokens are Google's; GitHub signs in with a code");
    else if (!code) return google_id_token(ctx, p, id_token, err); /* a native app's ID token */
    else if (!redirect || !api_oauth_redirect_allowed(p, redirect) || strlen(code) > 2048)
        bs_err_set(err, 400, "auth/invalid-request", "redirectUri is required and must be one of the provider's redirect URIs");
    else return api_oauth_profile(ctx, provider, p, code, redirect, NULL, err);
    return NULL;
}

static void callback(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_provider p;
    store_user u;
    int is_new = 0;
    const char *provider = http_req_param(req, "provider");
    struct json_object *body = http_req_json_borrow(req), *me = NULL;
    if (api_oauth_provider_load(ctx, provider, &p, &err) == 0 && (me = posted_profile(ctx, provider, &p, body, &err)) &&
        api_oauth_user(ctx, provider, me, &u, &is_new, &err) == 0)
        api_audit(ctx, req, is_new ? "signup" : "signin", u.id, u.email, json_get_string(body, "code") ? provider : "google idToken");
    json_object_put(me);
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    api_sign_in_answer(ctx, req, res, &u, 200, is_new);
}

/* ---- account linking (§3.10) ---- */

#define LINKS_MAX 16

/* POST /v1/auth/accounts {provider, code + redirectUri | idToken}: links that provider account to the caller. */
static void link_account(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_user u;
    store_session s;
    store_provider p;
    int found = 0;
    char owner[STORE_USER_ID_MAX];
    struct json_object *body = http_req_json_borrow(req), *me = NULL;
    const char *provider = json_get_string(body, "provider");
    if (api_current_user(ctx, &u, &s, &err) == 0 && api_oauth_provider_load(ctx, provider, &p, &err) == 0 &&
        (me = posted_profile(ctx, provider, &p, body, &err)) &&
        store_accounts_find(ctx->app->docs, ctx->key.environment_id, provider, json_get_string(me, "sub"), owner, &found, &err) == 0) {
        if (found) bs_err_set(&err, 409, "auth/account-already-linked", "This %s account is already linked%s", provider,
                              strcmp(owner, u.id) ? " to another user" : "");
        else if (store_accounts_link(ctx->app->docs, ctx->key.environment_id, provider, json_get_string(me, "sub"), u.id, &err) == 0)
            api_audit(ctx, req, "account_linked", u.id, u.email, provider);
    }
    json_object_put(me);
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *empty = json_object_new_object();
    http_res_json(res, 201, empty);
    json_object_put(empty);
}

static struct json_object *account_json(const store_user *u, const char *type, const char *provider, const char *account_id,
                                        int64_t at)
{
    char id[80];
    snprintf(id, sizeof id, "%s:%s", provider, u->id);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(id));
    json_object_object_add(o, "userId", json_object_new_string(u->id));
    json_object_object_add(o, "type", json_object_new_string(type));
    json_object_object_add(o, "provider", json_object_new_string(provider));
    json_object_object_add(o, "providerAccountId", json_object_new_string(account_id));
    json_object_object_add(o, "email", json_object_new_string(u->email));
    json_add_time(o, "connectedAt", at);
    json_add_time(o, "linkedAt", at);
    json_add_time(o, "createdAt", at);
    return o;
}

static void list_accounts(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_user u;
    store_session s;
    store_account links[LINKS_MAX];
    size_t n = 0;
    if (api_current_user(ctx, &u, &s, &err) < 0 ||
        store_accounts_of(ctx->app->docs, ctx->key.environment_id, u.id, links, LINKS_MAX, &n, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *items = json_object_new_array();
    if (u.password_hash[0]) json_object_array_add(items, account_json(&u, "credentials", "email", u.email, u.created_at));
    for (size_t i = 0; i < n; i++)
        json_object_array_add(items, account_json(&u, "oauth", links[i].provider, links[i].account_id, links[i].created_at));
    int64_t total = (int64_t)json_object_array_length(items);
    api_answer_page(res, items, total, 1, total > 0 ? total : 10);
}

static void unlink_account(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_user u;
    store_session s;
    store_account links[LINKS_MAX];
    size_t n = 0;
    int found = 0;
    const char *provider = http_req_param(req, "provider");
    if (api_current_user(ctx, &u, &s, &err) < 0 ||
        store_accounts_of(ctx->app->docs, ctx->key.environment_id, u.id, links, LINKS_MAX, &n, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    int linked = 0;
    for (size_t i = 0; i < n; i++) linked |= provider_known(provider) && !strcmp(links[i].provider, provider);
    if (!provider_known(provider)) bs_err_set(&err, 400, "auth/unsupported-provider", "Providers: google, github");
    else if (!linked) bs_err_set(&err, 404, "auth/account-not-found", "No %s account is linked", provider);
    else if (n + (u.password_hash[0] ? 1 : 0) <= 1)
        bs_err_set(&err, 400, "auth/cannot-unlink-last-account", "This is the account's only way to sign in");
    else if (store_accounts_unlink(ctx->app->docs, ctx->key.environment_id, u.id, provider, &found, &err) == 0 && !found)
        bs_err_set(&err, 404, "auth/account-not-found", "No %s account is linked", provider);
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    api_audit(ctx, req, "account_unlinked", u.id, u.email, provider);
    api_message(res, 200, "Account unlinked");
}

/* POST /v1/auth/accounts/check {type, provider, providerAccountId}: whether such an account exists. */
static void check_account(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    struct json_object *body = http_req_json_borrow(req), *out = json_object_new_object();
    const char *type = json_get_string(body, "type"), *provider = json_get_string(body, "provider");
    const char *account = json_get_string(body, "providerAccountId");
    int exists = 0;
    char owner[STORE_USER_ID_MAX], email[STORE_EMAIL_MAX];
    store_user u;
    if (!type || !provider || !account || (strcmp(type, "credentials") && strcmp(type, "oauth")))
        bs_err_set(&err, 400, "auth/invalid-request", "type (credentials or oauth), provider and providerAccountId are required");
    else if (!strcmp(type, "credentials")) {
        if (accounts_email_normalize(account, email, &err) == 0 &&
            store_users_by_email(ctx->app->docs, ctx->key.environment_id, email, &u, &exists, &err) == 0)
            exists = exists && u.password_hash[0];
    } else if (!provider_known(provider)) bs_err_set(&err, 400, "auth/unsupported-provider", "Providers: google, github");
    else store_accounts_find(ctx->app->docs, ctx->key.environment_id, provider, account, owner, &exists, &err);
    if (err.status) {
        json_object_put(out);
        http_res_error_from(res, &err);
        return;
    }
    json_object_object_add(out, "exists", json_object_new_boolean(exists));
    if (exists) {
        json_object_object_add(out, "type", json_object_new_string(type));
        json_object_object_add(out, "provider", json_object_new_string(provider));
    }
    http_res_json(res, 200, out);
    json_object_put(out);
}

int api_oauth_register(http_router *router, api_app *app)
{
    http_route_opts json = {.body = HTTP_BODY_JSON, .max_body = 16 * 1024};
    if (api_route_v1_public(router, app, HTTP_POST, "/v1/auth/:provider/callback", callback, &json) < 0) return -1;
    if (api_route_v1(router, app, HTTP_POST, "/v1/auth/accounts", link_account, &json) < 0) return -1;
    if (api_route_v1(router, app, HTTP_GET, "/v1/auth/accounts", list_accounts, NULL) < 0) return -1;
    if (api_route_v1_public(router, app, HTTP_POST, "/v1/auth/accounts/check", check_account, &json) < 0) return -1;
    if (api_route_v1(router, app, HTTP_DELETE, "/v1/auth/accounts/:provider", unlink_account, NULL) < 0) return -1;
    const char *path = "/admin/v1/projects/:projectId/environments/:env/auth/providers/:provider";
    if (api_route_admin(router, app, HTTP_PUT, path, provider_put, &json) < 0) return -1;
    return api_route_admin(router, app, HTTP_GET, path, provider_get, NULL);
}
