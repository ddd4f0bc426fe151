/* admin_auth: an environment's account events for operators (the auth issue's audit trail):
 *   GET /admin/v1/projects/:projectId/environments/:env/auth/audit?limit&before
 *   → {items: [{id, at, event, userId, email, ip, userAgent, detail}] newest first, nextBefore}
 * Events: signup, signin (detail: password, password+mfa, magiclink), signin_failed (password, mfa),
 * signin_blocked, refresh_reuse, signout, session_revoked, password_changed, password_reset,
 * mfa_enabled, mfa_disabled, account_deleted. */
#include <stdio.h>
#include <stdlib.h>

#include "api/admin/env/surface.h"
#include "api/admin_gate.h"
#include "api/respond.h"
#include "api/route.h"
#include "core/accounts.h"

#define AUDIT_PAGE_MAX 200

static void audit_into(api_ctx *ctx, http_req *req, http_res *res, store_audit *rows)
{
    bs_err err;
    bs_err_clear(&err);
    store_env env;
    size_t n = 0;
    int64_t limit = api_query_int(req, "limit", 50, AUDIT_PAGE_MAX), before = api_query_int(req, "before", 0, INT64_MAX);
    if (api_admin_env(ctx, req, 0, &env, &err) == 0) accounts_prune(ctx->app->docs, env.id, ctx->app->audit_retention_ms); /* the trail shown is within retention */
    if (err.status ||
        store_audit_list(ctx->app->docs, env.id, before, rows, (size_t)limit, &n, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *out = json_object_new_object(), *items = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_int64(rows[i].id));
        json_add_time(o, "at", rows[i].at);
        json_object_object_add(o, "event", json_object_new_string(rows[i].event));
        json_object_object_add(o, "userId", rows[i].user_id[0] ? json_object_new_string(rows[i].user_id) : NULL);
        json_object_object_add(o, "email", rows[i].email[0] ? json_object_new_string(rows[i].email) : NULL);
        json_object_object_add(o, "ip", json_object_new_string(rows[i].ip));
        json_object_object_add(o, "userAgent", json_object_new_string(rows[i].user_agent));
        json_object_object_add(o, "detail", rows[i].detail[0] ? json_object_new_string(rows[i].detail) : NULL);
        json_object_array_add(items, o);
    }
    json_object_object_add(out, "items", items);
    json_object_object_add(out, "nextBefore", n == (size_t)limit && n ? json_object_new_int64(rows[n - 1].id) : NULL);
    http_res_json(res, 200, out);
    json_object_put(out);
}

/* The page buffer lives on the heap for one request: as thread-local storage it would cost every thread. */
static void audit(api_ctx *ctx, http_req *req, http_res *res)
{
    store_audit *rows = calloc(AUDIT_PAGE_MAX, sizeof *rows);
    if (!rows) {
        http_res_error(res, 500, "common/internal-error", "Out of memory");
        return;
    }
    audit_into(ctx, req, res, rows);
    free(rows);
}

int api_admin_audit_register(http_router *router, api_app *app)
{
    return api_route_admin(router, app, HTTP_GET, "/admin/v1/projects/:projectId/environments/:env/auth/audit", audit, NULL);
}
