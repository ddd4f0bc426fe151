#include "api/v1/pipeline.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/caller.h"
#include "api/v1/quota.h"
#include "core/scopes.h"
#include "util/clock.h"

/* One /v1 call on its way through the stages. */
typedef struct v1_call {
    const api_route *r;
    http_req *req;
    http_res *res;
    api_ctx ctx;
    int64_t daily_limit;         /* the project's apiCallLimit, from the guard stage; -1 none */
    bs_err err;                  /* a stage's refusal; status 0: the stage answered itself */
} v1_call;

/* A stage: 0 to go on, -1 to stop (c->err is answered when set). */
typedef int (*v1_stage_fn)(v1_call *c);

/* ---- key ---- */

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

static int stage_key(v1_call *c)
{
    const char *key = http_req_header(c->req, "X-API-Key");
    if (c->r->link && !key) return link_environment(c->ctx.app, c->req, &c->ctx.key, &c->err);
    return keyauth_verify(c->ctx.app->keys, key, &c->ctx.key, &c->err);
}

/* ---- meter (and meter end) ---- */

static void meter_end(void *arg, const http_done_info *i)
{
    meter_request(arg, i->route_id, i->route, i->method, i->status, i->micros, i->bytes_out);
}

static meter_env *meter_of(api_app *app, const store_key_context *k)
{
    return meter_env_get(app->meter, k->organization_id, k->project_id, k->environment_id, k->environment);
}

/* Every call past the key check is metered (docs/usage.md), refused ones too. */
static int stage_meter(v1_call *c)
{
    if (c->ctx.app->meter) http_req_on_done(c->req, meter_end, meter_of(c->ctx.app, &c->ctx.key));
    return 0;
}

void api_meter_db(http_req *req, int64_t reads, int64_t writes)
{
    meter_env *e = http_req_done_arg(req);
    if (e) meter_db(e, reads > 0 ? (uint64_t)reads : 0, writes > 0 ? (uint64_t)writes : 0);
}

void api_meter_mau(api_ctx *ctx, const char *user_id)
{
    if (ctx->app->meter) meter_mau(meter_of(ctx->app, &ctx->key), user_id, clock_now_ms());
}

/* ---- guard, quota, touch ---- */

static int stage_guard(v1_call *c)
{
    int origin_refused = 0;
    if (project_guard_check_limit(c->ctx.app->guard, c->ctx.key.project_id, http_req_header(c->req, "Origin"),
                                  http_req_client_ip(c->req), &origin_refused, &c->daily_limit, &c->err) == 0)
        return 0;
    if (origin_refused) http_res_no_cors(c->res);
    return -1;
}

static int stage_quota(v1_call *c) { return api_usage_gate(c->ctx.app, &c->ctx.key, c->daily_limit, c->res); }

static int stage_touch(v1_call *c)
{
    env_lifecycle_touch(c->ctx.app->lifecycle, c->ctx.key.environment_id);
    return 0;
}

/* ---- user, session, scope ---- */

/* The end user of a /v1 request: an "Authorization: Bearer" access token of the key's environment.
 * Without one the caller is the key alone; with a bad or expired one the request is refused (401), so
 * that clients refresh instead of silently acting as a guest. Other schemes are ignored. */
static int stage_user(v1_call *c)
{
    const char *auth = http_req_header(c->req, "Authorization");
    if (c->r->ignore_bearer || !auth || strncasecmp(auth, "Bearer", 6) != 0 || (auth[6] != ' ' && auth[6] != '\0')) return 0;
    const char *jwt = auth + 6;
    while (*jwt == ' ') jwt++;
    if (userauth_verify(c->ctx.app->users, c->ctx.key.environment_id, c->ctx.key.project_id, jwt, clock_now_ms() / 1000,
                        &c->ctx.user, &c->err) < 0)
        return -1;
    c->ctx.has_user = 1;
    return 0;
}

/* On a live_session route: 401 auth/invalid-token once the token's session ended (sign-out, revocation).
 * The auth handlers check the session themselves (api_current_user); the data API trusts the token until
 * it expires (docs/auth.md). */
static int stage_session(v1_call *c)
{
    if (!c->r->live_session || !c->ctx.has_user) return 0;
    store_session s;
    return api_session_alive(&c->ctx, &s, &c->err); /* one primary-key read; the handler loads the user it needs */
}

/* Whether the secret key's admin rights apply on this route (ctx->key_admin): an unscoped key's always; a
 * scoped key's on the data routes (its table scopes bind it there, data.c) and where its scopes grant the
 * route's surface. On the users and files surfaces a scoped secret key without that grant acts as the
 * signed-in user it carries, and is refused (403 data/scope-insufficient) without one. */
static int stage_scope(v1_call *c)
{
    api_ctx *ctx = &c->ctx;
    if (strcmp(ctx->key.key_type, "secret") != 0) return 0;
    const char *scopes = ctx->key.scopes_json;
    scope_access access = api_route_access(c->r, c->req);
    ctx->key_admin = scopes_none(scopes) || c->r->table_scoped || (c->r->surface && scopes_grant(scopes, c->r->surface, access));
    if (ctx->key_admin || ctx->has_user || !c->r->surface) return 0;
    return scopes_check(scopes, c->r->surface, access, &c->err);
}

/* ---- body, gate ---- */

static int stage_body(v1_call *c) { return http_req_parse_json(c->req, &c->err); }

static int stage_gate(v1_call *c)
{
    static const char *const metrics[] = {[API_GATE_BANDWIDTH] = "bandwidth", [API_GATE_STORAGE] = "storage"};
    if (c->r->gate == API_GATE_NONE) return 0;
    return api_usage_allow(c->ctx.app, &c->ctx.key, metrics[c->r->gate], c->res);
}

/* ---- the pipeline ---- */

static const struct {
    const char *name;
    v1_stage_fn run;
} v1_stages[] = {
    {"key", stage_key},     {"meter", stage_meter},     {"guard", stage_guard}, {"quota", stage_quota},
    {"touch", stage_touch}, {"user", stage_user},       {"session", stage_session}, {"scope", stage_scope},
    {"body", stage_body},   {"gate", stage_gate},
};

static void v1_entry(http_req *req, http_res *res, void *data)
{
    v1_call c = {.r = data, .req = req, .res = res, .daily_limit = -1};
    c.ctx.app = c.r->app;
    c.ctx.caller = API_CALLER_KEY;
    bs_err_clear(&c.err);
    for (size_t i = 0; i < sizeof v1_stages / sizeof v1_stages[0]; i++) {
        if (v1_stages[i].run(&c) == 0) continue;
        if (c.err.status) http_res_error_from(res, &c.err);
        return;
    }
    c.r->fn(&c.ctx, req, res);
}

static int add_v1(http_router *router, api_app *app, unsigned methods, const char *pattern, api_handler_fn fn,
                  const http_route_opts *opts, int ignore_bearer, int link, api_quota_gate gate)
{
    api_route *r = api_route_new(app, fn, pattern);
    if (!r) return -1;
    r->ignore_bearer = ignore_bearer;
    r->link = link;
    r->gate = (int)gate;
    http_route_opts o = api_route_opts(opts);
    return http_router_add(router, methods, pattern, v1_entry, r, &o);
}

int api_route_v1(http_router *router, api_app *app, unsigned methods, const char *pattern, api_handler_fn fn,
                 const http_route_opts *opts)
{
    return add_v1(router, app, methods, pattern, fn, opts, 0, 0, API_GATE_NONE);
}

int api_route_v1_gated(http_router *router, api_app *app, unsigned methods, const char *pattern, api_handler_fn fn,
                       const http_route_opts *opts, api_quota_gate gate)
{
    return add_v1(router, app, methods, pattern, fn, opts, 0, 0, gate);
}

int api_route_v1_public(http_router *router, api_app *app, unsigned methods, const char *pattern, api_handler_fn fn,
                        const http_route_opts *opts)
{
    return add_v1(router, app, methods, pattern, fn, opts, 1, 0, API_GATE_NONE);
}

int api_route_v1_link(http_router *router, api_app *app, unsigned methods, const char *pattern, api_handler_fn fn,
                      const http_route_opts *opts)
{
    return add_v1(router, app, methods, pattern, fn, opts, 1, 1, API_GATE_NONE);
}
