#include "api/api.h"
#include "api/alerts.h"
#include "api/auth_users.h"
#include "api/env_lifecycle.h"
#include "api/oauth.h"
#include "api/storage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/scopes.h"
#include "util/clock.h"

/* Route data of a wrapped route: which handler, for which app. Allocated once per route at start-up
 * and kept for the process lifetime (the router borrows it). */
typedef struct api_route {
    api_app *app;
    api_handler_fn fn;
    int ignore_bearer;   /* sign-up, sign-in, refresh: a stale Authorization header must not block them */
    int link;            /* opened from a mailed link: the environment may come from ?env= instead of a key */
    const char *surface; /* the management surface a scoped secret key needs (core/scopes.h), NULL: none */
    int post_reads;      /* a POST that only reads (explain, a download URL) */
    int table_scoped;    /* a /v1/data route: table scopes bind the key there (data.c), no surface scope */
    int live_session;    /* a user token is honoured only while its session lives (checked here, see below) */
} api_route;

/* Which surface's scope a route needs, by its pattern (docs/management-api.md, "Key scopes"). On /admin/v1
 * a route without one is refused to every scoped key; on /v1 a scoped secret key has admin rights only on
 * the data routes (within its table scopes) and on the surfaces its scopes grant. */
#define ENV_PATH "/admin/v1/projects/:projectId/environments/:env/"
static const struct { const char *prefix, *surface; } route_surfaces[] = {
    {ENV_PATH "keys", "keys"},    {ENV_PATH "tables", "tables"}, {ENV_PATH "auth/users", "users"},
    {ENV_PATH "auth", "auth"},    {ENV_PATH "outbox", "outbox"}, {ENV_PATH "storage", "files"},
    {"/v1/users", "users"},       {"/v1/files", "files"},
};
static const char *const table_scoped_routes[] = {"/v1/data", "/v1/batch", "/v1/:shorttable"};
/* Where a signed-out user's token must stop working at once, not when it expires: the users surface (an
 * admin-role user acts on others there) and the files surface (upload URLs, every user's files for an
 * admin). The auth handlers check the session themselves (api_current_user); the data API trusts the token
 * until it expires (docs/auth.md). */
static const char *const live_session_routes[] = {"/v1/users", "/v1/files"};
static const char *const reading_posts[] = {ENV_PATH "tables/:tableName/explain", "/v1/files/:fileId/download-url"};

/* pattern is prefix or goes on below it. */
static int under(const char *pattern, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(pattern, prefix, n) == 0 && (pattern[n] == '\0' || pattern[n] == '/');
}

static void route_scope(api_route *r, const char *pattern)
{
    r->surface = NULL;
    for (size_t i = 0; i < sizeof route_surfaces / sizeof route_surfaces[0] && !r->surface; i++)
        if (under(pattern, route_surfaces[i].prefix)) r->surface = route_surfaces[i].surface;
    r->table_scoped = 0;
    for (size_t i = 0; i < sizeof table_scoped_routes / sizeof table_scoped_routes[0]; i++)
        if (under(pattern, table_scoped_routes[i])) r->table_scoped = 1;
    r->live_session = 0;
    for (size_t i = 0; i < sizeof live_session_routes / sizeof live_session_routes[0]; i++)
        if (under(pattern, live_session_routes[i])) r->live_session = 1;
    r->post_reads = 0;
    for (size_t i = 0; i < sizeof reading_posts / sizeof reading_posts[0]; i++)
        if (strcmp(pattern, reading_posts[i]) == 0) r->post_reads = 1;
}

static scope_access route_access(const api_route *r, http_req *req)
{
    http_method m = http_req_method(req);
    return m == HTTP_GET || m == HTTP_HEAD || (m == HTTP_POST && r->post_reads) ? SCOPE_READ : SCOPE_WRITE;
}

#define API_MAX_ROUTES 256
static api_route api_routes[API_MAX_ROUTES];
static size_t api_nroutes;

/* Wrapped routes parse their JSON body after authenticating, so a stranger learns nothing from it. */
static http_route_opts wrapped_opts(const http_route_opts *opts)
{
    http_route_opts o = {0};
    if (opts) o = *opts;
    o.json_by_handler = 1;
    return o;
}

static api_route *route_data(api_app *app, api_handler_fn fn, const char *pattern)
{
    if (api_nroutes == API_MAX_ROUTES) return NULL;
    api_route *r = &api_routes[api_nroutes++];
    r->app = app;
    r->fn = fn;
    r->ignore_bearer = 0;
    r->link = 0;
    route_scope(r, pattern);
    return r;
}

/* The end user of a /v1 request: an "Authorization: Bearer" access token of the key's environment.
 * Without one the caller is the key alone; with a bad or expired one the request is refused (401), so
 * that clients refresh instead of silently acting as a guest. Other schemes are ignored. */
static int v1_user(api_app *app, http_req *req, api_ctx *ctx, bs_err *err)
{
    const char *auth = http_req_header(req, "Authorization");
    if (!auth || strncasecmp(auth, "Bearer", 6) != 0 || (auth[6] != ' ' && auth[6] != '\0')) return 0;
    const char *jwt = auth + 6;
    while (*jwt == ' ') jwt++;
    if (userauth_verify(app->users, ctx->key.environment_id, ctx->key.project_id, jwt, clock_now_ms() / 1000,
                        &ctx->user, err) < 0)
        return -1;
    ctx->has_user = 1;
    return 0;
}

/* On a live_session route: 401 auth/invalid-token once the token's session ended (sign-out, revocation). */
static int v1_session_alive(const api_route *r, api_ctx *ctx, bs_err *err)
{
    if (!r->live_session || !ctx->has_user) return 0;
    store_session s;
    return api_session_alive(ctx, &s, err); /* one primary-key read; the handler loads the user it needs */
}

/* A mailed link is opened by a browser, which sends no key: the link names its environment (?env=). */
static int link_environment(api_app *app, http_req *req, store_key_context *key, bs_err *err)
{
    const char *env_id = http_req_query(req, "env");
    store_env env;
    int found = 0;
    if (!env_id || strlen(env_id) >= sizeof key->environment_id) return bs_err_set(err, 401, "data/invalid-header", "X-API-Key is required");
    if (store_control_env_get(app->control, env_id, &env, &found, err) < 0) return -1;
    if (!found) return bs_err_set(err, 404, "data/environment-not-found", "Environment not found");
    memset(key, 0, sizeof *key);
    snprintf(key->environment_id, sizeof key->environment_id, "%s", env.id);
    snprintf(key->project_id, sizeof key->project_id, "%s", env.project_id);
    snprintf(key->environment, sizeof key->environment, "%s", env.name);
    snprintf(key->key_type, sizeof key->key_type, "link");
    key->environment_exists = 1;
    return 0;
}

/* Whether the secret key's admin rights apply on this route (ctx->key_admin): an unscoped key's always; a
 * scoped key's on the data routes (its table scopes bind it there, data.c) and where its scopes grant the
 * route's surface. On the users and files surfaces a scoped secret key without that grant acts as the
 * signed-in user it carries, and is refused (403 data/scope-insufficient) without one. */
static int v1_key_admin(const api_route *r, http_req *req, api_ctx *ctx, bs_err *err)
{
    if (strcmp(ctx->key.key_type, "secret") != 0) return 0;
    const char *scopes = ctx->key.scopes_json;
    scope_access access = route_access(r, req);
    ctx->key_admin = scopes_none(scopes) || r->table_scoped || (r->surface && scopes_grant(scopes, r->surface, access));
    if (ctx->key_admin || ctx->has_user || !r->surface) return 0;
    return scopes_check(scopes, r->surface, access, err);
}

static void v1_entry(http_req *req, http_res *res, void *data)
{
    api_route *r = data;
    api_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.app = r->app;
    ctx.caller = API_CALLER_KEY;
    bs_err err;
    bs_err_clear(&err);
    int keyless = r->link && !http_req_header(req, "X-API-Key");
    if (keyless ? link_environment(r->app, req, &ctx.key, &err) < 0
                : keyauth_verify(r->app->keys, http_req_header(req, "X-API-Key"), &ctx.key, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    api_meter_begin(r->app, req, &ctx.key); /* every call past the key check is metered (docs/usage.md) */
    int origin_refused = 0;
    int64_t daily_limit = -1;
    if (project_guard_check_limit(r->app->guard, ctx.key.project_id, http_req_header(req, "Origin"), http_req_client_ip(req),
                                  &origin_refused, &daily_limit, &err) < 0) {
        if (origin_refused) http_res_no_cors(res);
        http_res_error_from(res, &err);
        return;
    }
    if (api_usage_gate(r->app, &ctx.key, daily_limit, res) < 0) return;
    env_lifecycle_touch(r->app->lifecycle, ctx.key.environment_id);
    if ((!r->ignore_bearer && v1_user(r->app, req, &ctx, &err) < 0) || v1_session_alive(r, &ctx, &err) < 0 ||
        v1_key_admin(r, req, &ctx, &err) < 0 ||
        http_req_parse_json(req, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    r->fn(&ctx, req, res);
}

/* Management credential: "Authorization: Bearer bt_..." or an environment's "X-API-Key: sk_...". */
static void admin_entry(http_req *req, http_res *res, void *data)
{
    api_route *r = data;
    api_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.app = r->app;
    bs_err err;
    bs_err_clear(&err);
    const char *auth = http_req_header(req, "Authorization");
    const char *key = http_req_header(req, "X-API-Key");
    int rc;
    if (auth) {
        ctx.caller = API_CALLER_OPERATOR;
        rc = strncasecmp(auth, "Bearer ", 7) == 0 ? keyauth_verify_operator(r->app->keys, auth + 7, &ctx.token, &err)
                                                 : bs_err_set(&err, 401, "auth/unauthorized", "Authorization must be a Bearer token");
    } else if (key && strncmp(key, "sk_", 3) == 0) {
        ctx.caller = API_CALLER_ENV_SECRET;
        rc = keyauth_verify(r->app->keys, key, &ctx.key, &err);
        if (rc < 0 && err.status == 401) {
            char why[BS_ERR_MESSAGE_MAX];
            memcpy(why, err.message, sizeof why);
            bs_err_set(&err, 401, "auth/unauthorized", "%s", why);
        }
        if (rc == 0) rc = scopes_check(ctx.key.scopes_json, r->surface, route_access(r, req), &err); /* a scoped key: its surfaces only */
    } else {
        rc = bs_err_set(&err, 401, "auth/unauthorized", "An operator token (Authorization: Bearer bt_...) or a secret key is required");
    }
    if (rc < 0 || http_req_parse_json(req, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    r->fn(&ctx, req, res);
}

/* One /v1 route: key (or, for mailed links, ?env=) first, then the user token unless ignored. */
static int add_v1(http_router *router, api_app *app, unsigned methods, const char *pattern, api_handler_fn fn,
                  const http_route_opts *opts, int ignore_bearer, int link)
{
    api_route *r = route_data(app, fn, pattern);
    if (!r) return -1;
    r->ignore_bearer = ignore_bearer;
    r->link = link;
    http_route_opts o = wrapped_opts(opts);
    return http_router_add(router, methods, pattern, v1_entry, r, &o);
}

int api_route_v1(http_router *router, api_app *app, unsigned methods, const char *pattern, api_handler_fn fn,
                 const http_route_opts *opts)
{
    return add_v1(router, app, methods, pattern, fn, opts, 0, 0);
}

int api_route_v1_public(http_router *router, api_app *app, unsigned methods, const char *pattern, api_handler_fn fn,
                        const http_route_opts *opts)
{
    return add_v1(router, app, methods, pattern, fn, opts, 1, 0);
}

int api_route_v1_link(http_router *router, api_app *app, unsigned methods, const char *pattern, api_handler_fn fn,
                      const http_route_opts *opts)
{
    return add_v1(router, app, methods, pattern, fn, opts, 1, 1);
}

int api_route_admin(http_router *router, api_app *app, unsigned methods, const char *pattern, api_handler_fn fn,
                    const http_route_opts *opts)
{
    api_route *r = route_data(app, fn, pattern);
    http_route_opts o = wrapped_opts(opts);
    return r ? http_router_add(router, methods, pattern, admin_entry, r, &o) : -1;
}

/* Authenticated but unknown: the credential is checked first (it counts as an API call), then 404. */
static void unknown_route(api_ctx *ctx, http_req *req, http_res *res)
{
    char msg[256];
    snprintf(msg, sizeof msg, "No route for %s %.128s", http_req_method_name(req), http_req_path(req));
    http_res_error(res, 404, "common/not-found", msg);
}

#define ALL_METHODS (HTTP_GET | HTTP_POST | HTTP_PUT | HTTP_PATCH | HTTP_DELETE)

int api_register(http_router *router, api_app *app)
{
    http_route_opts raw = {.body = HTTP_BODY_RAW};
    if (api_health_register(router, app) < 0) return -1;
    if (api_admin_keys_register(router, app) < 0) return -1;
    if (api_admin_tables_register(router, app) < 0) return -1;
    if (api_data_register(router, app) < 0) return -1;
    if (api_auth_register(router, app) < 0) return -1;
    if (api_users_register(router, app) < 0) return -1;
    if (api_mfa_register(router, app) < 0) return -1;
    if (api_mail_flows_register(router, app) < 0) return -1;
    if (api_admin_auth_register(router, app) < 0) return -1;
    if (api_auth_settings_register(router, app) < 0) return -1;
    if (api_admin_platform_register(router, app) < 0) return -1;
    if (api_admin_usage_register(router, app) < 0) return -1;
    if (api_alerts_register(router, app) < 0) return -1;
    if (api_admin_team_register(router, app) < 0) return -1;
    if (api_user_settings_register(router, app) < 0) return -1;
    if (api_invitations_register(router, app) < 0) return -1;
    if (api_oauth_register(router, app) < 0) return -1;
    if (api_oauth_redirect_register(router, app) < 0) return -1;
    if (api_storage_register(router, app) < 0 || api_files_register(router, app) < 0 || api_multipart_register(router, app) < 0 ||
        api_avatars_register(router, app) < 0 || api_images_register(router, app) < 0)
        return -1;
    if (api_route_v1(router, app, ALL_METHODS, "/v1/*rest", unknown_route, &raw) < 0) return -1;
    if (api_route_admin(router, app, ALL_METHODS, "/admin/v1/*rest", unknown_route, &raw) < 0) return -1;
    return 0;
}
