/* alerts (management API): the usage alerts and webhook deliveries of an organization (core/alerts.h).
 *   GET  /admin/v1/organizations/:orgId/alerts?month=YYYY-MM|all
 *   GET  /admin/v1/organizations/:orgId/webhook-deliveries
 *   GET  /admin/v1/projects/:projectId/webhook-secret */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/route.h"
#include "api/admin/org/surface.h"
#include "api/admin_gate.h"
#include "api/respond.h"
#include "core/alerts.h"
#include "util/clock.h"

/* ---- the management API ---- */

static struct json_object *alert_json(const void *row)
{
    const store_alert *a = row;
    struct json_object *j = json_object_new_object();
    json_object_object_add(j, "id", json_object_new_string(a->id));
    json_object_object_add(j, "organizationId", json_object_new_string(a->organization_id));
    json_object_object_add(j, "metric", json_object_new_string(a->metric));
    json_object_object_add(j, "threshold", json_object_new_int(a->threshold));
    json_object_object_add(j, "level", json_object_new_string(a->threshold >= 100 ? "limit" : "warning"));
    json_object_object_add(j, "used", json_object_new_int64(a->used));
    json_object_object_add(j, "limit", json_object_new_int64(a->limit));
    json_object_object_add(j, "month", json_object_new_string(a->month));
    json_add_time(j, "createdAt", a->created_at);
    return j;
}

static void alerts_list(api_ctx *ctx, http_req *req, http_res *res)
{
    enum { ALERTS_MAX = 200 };
    bs_err err;
    bs_err_clear(&err);
    store_org o;
    store_alert *rows = calloc(ALERTS_MAX, sizeof *rows);
    size_t n = 0;
    char month[8];
    const char *want = http_req_query(req, "month");
    alerts_month_of(clock_now_ms(), month);
    if (!rows) bs_err_internal(&err);
    else if (api_admin_org(ctx, req, ROLE_VIEW_ORG, &o, &err) == 0) {
        if (want && strcmp(want, "all") && (strlen(want) != 7 || want[4] != '-'))
            bs_err_set(&err, 400, "common/invalid-parameters", "month: YYYY-MM or all");
        else
            store_control_alert_list(ctx->app->control, o.id, want && !strcmp(want, "all") ? NULL : want ? want : month, rows, ALERTS_MAX,
                                     &n, &err);
    }
    api_answer_items(res, &err, rows, n, sizeof *rows, alert_json);
}

static struct json_object *delivery_json(const void *row)
{
    const store_delivery *d = row;
    struct json_object *j = json_object_new_object();
    json_object_object_add(j, "id", json_object_new_string(d->id));
    json_object_object_add(j, "projectId", json_object_new_string(d->project_id));
    json_object_object_add(j, "alertId", json_object_new_string(d->alert_id));
    json_object_object_add(j, "url", json_object_new_string(d->url));
    json_object_object_add(j, "status", json_object_new_string(d->status));
    json_object_object_add(j, "attempts", json_object_new_int(d->attempts));
    json_object_object_add(j, "lastStatus", d->last_status ? json_object_new_int(d->last_status) : NULL);
    json_object_object_add(j, "lastError", d->last_error[0] ? json_object_new_string(d->last_error) : NULL);
    json_add_time(j, "nextAttemptAt", strcmp(d->status, "pending") ? 0 : d->next_at);
    json_add_time(j, "createdAt", d->created_at);
    json_add_time(j, "updatedAt", d->updated_at);
    json_object_object_add(j, "payload", json_tokener_parse(d->payload));
    return j;
}

static void deliveries_list(api_ctx *ctx, http_req *req, http_res *res)
{
    enum { DELIVERIES_MAX = 200 };
    bs_err err;
    bs_err_clear(&err);
    store_org o;
    store_delivery *rows = calloc(DELIVERIES_MAX, sizeof *rows);
    size_t n = 0;
    if (!rows) bs_err_internal(&err);
    else if (api_admin_org(ctx, req, ROLE_EDIT_ORG, &o, &err) == 0)
        store_control_delivery_list(ctx->app->control, o.id, rows, DELIVERIES_MAX, &n, &err);
    api_answer_items(res, &err, rows, n, sizeof *rows, delivery_json);
}

/* GET /admin/v1/projects/:projectId/webhook-secret (Owner/Admin): what receivers verify with. */
static void webhook_secret(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_project p;
    int found = 0;
    const char *id = http_req_param(req, "projectId");
    if (api_admin_need(ctx, ROLE_EDIT_PROJECT_SETTINGS, &err) == 0 &&
        store_control_project_get(ctx->app->control, id, &p, &found, &err) == 0 &&
        (!found || strcmp(p.organization_id, ctx->token.organization_id) || !strcmp(p.status, "deleted")))
        bs_err_set(&err, 404, "org/project-not-found", "Project not found");
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    char secret[ALERTS_SECRET_HEX];
    alerts_webhook_secret(ctx->app->master_key, p.id, secret);
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "projectId", json_object_new_string(p.id));
    json_object_object_add(out, "secret", json_object_new_string(secret));
    json_object_object_add(out, "header", json_object_new_string("Basalt-Signature"));
    json_object_object_add(out, "scheme", json_object_new_string("t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<body>\")>"));
    http_res_json(res, 200, out);
    json_object_put(out);
}

int api_alerts_register(http_router *router, api_app *app)
{
    if (api_route_admin(router, app, HTTP_GET, "/admin/v1/organizations/:orgId/alerts", alerts_list, NULL) < 0 ||
        api_route_admin(router, app, HTTP_GET, "/admin/v1/organizations/:orgId/webhook-deliveries", deliveries_list, NULL) < 0)
        return -1;
    return api_route_admin(router, app, HTTP_GET, "/admin/v1/projects/:projectId/webhook-secret", webhook_secret, NULL);
}
