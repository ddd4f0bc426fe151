/* route: see route.h. Which surface's scope a route needs, the table of routes, and the management entry. */
#include "api/route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/console_gate.h"
#include "core/scopes.h"

/* Which surface's scope a route needs, by its pattern (docs/management-api.md, "Key scopes"). On /admin/v1
 * a route without one is refused to every scoped key; on /v1 a scoped secret key has admin rights only on
 * the data routes (within its table scopes) and on the surfaces its scopes grant. */
#define ENV_PATH "/admin/v1/projects/:projectId/environments/:env/"
static const struct { const char *prefix, *surface; } route_surfaces[] = {
    {ENV_PATH "keys", "keys"},    {ENV_PATH "tables", "tables"}, {ENV_PATH "auth/users", "users"},
    {ENV_PATH "auth", "auth"},    {ENV_PATH "outbox", "outbox"}, {ENV_PATH "storage", "files"},
    {ENV_PATH "files", "files"},
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

scope_access api_route_access(const api_route *r, http_req *req)
{
    http_method m = http_req_method(req);
    return m == HTTP_GET || m == HTTP_HEAD || (m == HTTP_POST && r->post_reads) ? SCOPE_READ : SCOPE_WRITE;
}

#define API_MAX_ROUTES 256
static api_route api_routes[API_MAX_ROUTES];
static size_t api_nroutes;

http_route_opts api_route_opts(const http_route_opts *opts)
{
    http_route_opts o = {0};
    if (opts) o = *opts;
    o.json_by_handler = 1;
    return o;
}

api_route *api_route_new(api_app *app, api_handler_fn fn, const char *pattern)
{
    if (api_nroutes == API_MAX_ROUTES) return NULL;
    api_route *r = &api_routes[api_nroutes++];
    r->app = app;
    r->fn = fn;
    r->ignore_bearer = 0;
    r->link = 0;
    r->gate = 0;
    route_scope(r, pattern);
    return r;
}

/* Management credential: "Authorization: Bearer bt_...", an environment's "X-API-Key: sk_...", or the web
 * console's session cookie (with X-CSRF-Token on a change: api/console_gate.h). */
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
    char cookie[CONSOLE_SECRET_MAX + 1];
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
        if (rc == 0) rc = scopes_check(ctx.key.scopes_json, r->surface, api_route_access(r, req), &err); /* a scoped key: its surfaces only */
    } else if (api_console_cookie(req, cookie)) { /* the web console: its session stands for its token */
        ctx.caller = API_CALLER_OPERATOR;
        store_console_session s;
        rc = api_console_session(r->app, req, 1, &s, &err);
        if (rc == 0) ctx.token = s.token;
    } else {
        rc = bs_err_set(&err, 401, "auth/unauthorized", "An operator token (Authorization: Bearer bt_...) or a secret key is required");
    }
    if (rc < 0 || http_req_parse_json(req, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    r->fn(&ctx, req, res);
}

int api_route_admin(http_router *router, api_app *app, unsigned methods, const char *pattern, api_handler_fn fn,
                    const http_route_opts *opts)
{
    api_route *r = api_route_new(app, fn, pattern);
    http_route_opts o = api_route_opts(opts);
    return r ? http_router_add(router, methods, pattern, admin_entry, r, &o) : -1;
}
