/* usage: the usage metering surface (platform.md §6, management-api.md, docs/usage.md) (the /v1 calls
 * are fed to the meter by api/v1/pipeline.c).
 *   GET /admin/v1/usage?organizationId&projectId&environment&type&period&startDate&endDate&page&limit
 *        → {items: [{id, organizationId, projectId, environment, metricType, period, periodStart, periodEnd,
 *           value, metadata: {successCount, failureCount, avgResponseTime, peakValue, minValue, endpoints}}],
 *           total, page, limit}
 *   GET /admin/v1/usage/summary?organizationId → this month per metric: {metric, used, limit, percent, resetAt}
 * Operator tokens of that organization only (any role: ROLE_VIEW_ORG); another organization's id is 404
 * org/not-found, a secret key 403 org/permission-denied. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/admin/org/surface.h"
#include "api/admin_gate.h"
#include "api/respond.h"
#include "api/route.h"
#include "core/plans.h"
#include "core/roles.h"
#include "util/clock.h"
#include "util/json.h"

#define USAGE_PAGE_MAX 100
#define USAGE_PAGE_DEFAULT 20

static const char *const usage_metrics[] = {"api_call", "db_read", "db_write", "bandwidth",
                                            "file_upload", "file_download", "storage", "mau"};
#define USAGE_METRICS (sizeof usage_metrics / sizeof usage_metrics[0])

/* ---- time ---- */

static int64_t period_end(const char *period, int64_t start)
{
    if (!strcmp(period, "hourly")) return start + STORE_USAGE_HOUR_MS;
    if (!strcmp(period, "daily")) return start + STORE_USAGE_DAY_MS;
    return clock_month_start(start, 1);
}

/* A date parameter: "YYYY-MM-DD" (its start, or with end_of_day the next day's start) or an ISO 8601
 * time. *ms unchanged when absent; 400 when malformed. */
static int date_param(http_req *req, const char *name, int end_of_day, int64_t *ms, bs_err *err)
{
    const char *t = http_req_query(req, name);
    int y, mo, d;
    char tail;
    if (!t || !*t) return 0;
    if (strlen(t) == 10 && sscanf(t, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) == 3 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31) {
        struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d};
        *ms = (int64_t)timegm(&tm) * 1000 + (end_of_day ? STORE_USAGE_DAY_MS : 0);
        return 0;
    }
    if (clock_parse_iso8601(t, ms) == 0) return 0;
    return bs_err_set(err, 400, "common/invalid-parameters", "%s must be a date (YYYY-MM-DD) or an ISO 8601 time", name);
}

/* ---- access ---- */

/* ?organizationId= must be the caller's own organization (404 otherwise), with a role that may view it. */
static int usage_org(api_ctx *ctx, http_req *req, store_org *org, bs_err *err)
{
    const char *id = http_req_query(req, "organizationId");
    int found = 0;
    if (api_admin_need(ctx, ROLE_VIEW_ORG, err) < 0) return -1;
    if (!id || !*id) return bs_err_set(err, 400, "common/invalid-parameters", "organizationId is required");
    if (strcmp(id, ctx->token.organization_id)) return bs_err_set(err, 404, "org/not-found", "Organization not found");
    if (store_control_org_get(ctx->app->control, id, org, &found, err) < 0) return -1;
    if (!found || !strcmp(org->status, "deleted")) return bs_err_set(err, 404, "org/not-found", "Organization not found");
    return 0;
}

static int metric_known(const char *m)
{
    for (size_t i = 0; i < USAGE_METRICS; i++)
        if (!strcmp(m, usage_metrics[i])) return 1;
    return 0;
}

/* ---- GET /admin/v1/usage ---- */

static int usage_query(api_ctx *ctx, http_req *req, store_usage_query *q, store_org *org, bs_err *err)
{
    memset(q, 0, sizeof *q);
    if (usage_org(ctx, req, org, err) < 0) return -1;
    q->organization_id = org->id;
    q->project_id = http_req_query(req, "projectId");
    q->environment = http_req_query(req, "environment");
    q->metric = http_req_query(req, "type");
    q->period = http_req_query(req, "period");
    if (!q->period) q->period = "daily";
    if (q->metric && !metric_known(q->metric))
        return bs_err_set(err, 400, "common/invalid-parameters",
                          "type must be one of api_call, db_read, db_write, bandwidth, file_upload, file_download, storage, mau");
    if (strcmp(q->period, "hourly") && strcmp(q->period, "daily") && strcmp(q->period, "monthly"))
        return bs_err_set(err, 400, "common/invalid-parameters", "period must be hourly, daily or monthly");
    if (date_param(req, "startDate", 0, &q->from_ms, err) < 0 || date_param(req, "endDate", 1, &q->to_ms, err) < 0) return -1;
    if (q->to_ms && q->to_ms <= q->from_ms)
        return bs_err_set(err, 400, "common/invalid-parameters", "endDate must be after startDate");
    return 0;
}

/* A JSON number written with at most `places` decimals (0.03, not 0.029999999999999999). */
static struct json_object *decimal(double v, int places)
{
    char text[64];
    snprintf(text, sizeof text, "%.*f", places, v);
    return json_object_new_double_s(strtod(text, NULL), text);
}

/* metric_<16 hex>: stable for (environment, metric, period, bucket). */
static void row_id(const store_usage_row *r, char out[24])
{
    uint64_t h = 1469598103934665603ULL;
    char key[160];
    snprintf(key, sizeof key, "%s|%s|%s|%lld", r->environment_id, r->metric, r->period, (long long)r->period_start);
    for (const char *p = key; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    snprintf(out, 24, "metric_%016llx", (unsigned long long)h);
}

static struct json_object *row_metadata(const store_usage_row *r)
{
    struct json_object *m = json_object_new_object(), *eps = NULL;
    json_object_object_add(m, "successCount", json_object_new_int64(r->success_count));
    json_object_object_add(m, "failureCount", json_object_new_int64(r->failure_count));
    int calls = !strcmp(r->metric, "api_call") && r->value > 0;
    json_object_object_add(m, "avgResponseTime", calls ? decimal((double)r->response_us / (double)r->value / 1000.0, 3) : NULL);
    json_object_object_add(m, "peakValue", json_object_new_int64(r->peak));
    json_object_object_add(m, "minValue", json_object_new_int64(r->min));
    bs_err err;
    if (r->endpoints[0]) eps = json_parse_strict(r->endpoints, strlen(r->endpoints), NULL, NULL, &err);
    json_object_object_add(m, "endpoints", eps ? eps : json_object_new_object());
    return m;
}

static struct json_object *row_json(const store_usage_row *r)
{
    struct json_object *o = json_object_new_object();
    char id[24];
    row_id(r, id);
    json_object_object_add(o, "id", json_object_new_string(id));
    json_object_object_add(o, "organizationId", json_object_new_string(r->organization_id));
    json_object_object_add(o, "projectId", json_object_new_string(r->project_id));
    json_object_object_add(o, "environment", json_object_new_string(r->environment));
    json_object_object_add(o, "environmentId", json_object_new_string(r->environment_id));
    json_object_object_add(o, "metricType", json_object_new_string(r->metric));
    json_object_object_add(o, "period", json_object_new_string(r->period));
    json_add_time(o, "periodStart", r->period_start);
    json_add_time(o, "periodEnd", period_end(r->period, r->period_start));
    json_object_object_add(o, "value", json_object_new_int64(r->value));
    json_object_object_add(o, "metadata", row_metadata(r));
    return o;
}

static void usage_list(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_usage_query q;
    store_org org;
    int64_t page = api_query_int(req, "page", 1, 1000000), limit = api_query_int(req, "limit", USAGE_PAGE_DEFAULT, USAGE_PAGE_MAX);
    store_usage_row *rows = calloc((size_t)limit, sizeof *rows);
    size_t n = 0;
    int64_t total = 0;
    int rc = rows ? usage_query(ctx, req, &q, &org, &err) : bs_err_internal(&err);
    q.offset = (page - 1) * limit;
    q.limit = (size_t)limit;
    if (rc == 0) rc = store_control_usage_list(ctx->app->control, &q, rows, &n, &total, &err);
    if (rc < 0) {
        free(rows);
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *out = json_object_new_object(), *items = json_object_new_array();
    for (size_t i = 0; i < n; i++) json_object_array_add(items, row_json(&rows[i]));
    free(rows);
    json_object_object_add(out, "items", items);
    json_object_object_add(out, "total", json_object_new_int64(total));
    json_object_object_add(out, "page", json_object_new_int64(page));
    json_object_object_add(out, "limit", json_object_new_int64(limit));
    http_res_json(res, 200, out);
    json_object_put(out);
}

/* ---- GET /admin/v1/usage/summary ---- */

/* The organization's limit of a metric: the operator's override, else its plan's (PLAN_UNLIMITED: none). */
static int64_t org_limit(const store_org *o, const plan *p, const char *metric)
{
    int64_t over = !strcmp(metric, "api_call") ? o->api_call_quota : !strcmp(metric, "storage") ? o->storage_quota
                 : !strcmp(metric, "mau")      ? o->mau_quota      : !strcmp(metric, "bandwidth") ? o->bandwidth_quota : -1;
    return plan_limit_with(p, metric, over);
}

static struct json_object *summary_item(const char *metric, int64_t used, int64_t limit, int64_t reset_at)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "metric", json_object_new_string(metric));
    json_object_object_add(o, "used", json_object_new_int64(used));
    int limited = limit != PLAN_UNLIMITED && limit >= 0;
    json_object_object_add(o, "limit", limited ? json_object_new_int64(limit) : NULL);
    json_object_object_add(o, "percent", limited && limit > 0 ? decimal((double)used * 100.0 / (double)limit, 2) : NULL);
    if (strcmp(metric, "storage")) json_add_time(o, "resetAt", reset_at);
    else json_object_object_add(o, "resetAt", NULL); /* a gauge: it never resets */
    return o;
}

static void usage_summary(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_org org;
    if (usage_org(ctx, req, &org, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    int64_t now = clock_now_ms(), from = clock_month_start(now, 0), to = clock_month_start(now, 1);
    const plan *p = plan_find(org.plan);
    struct json_object *items = json_object_new_array();
    for (size_t i = 0; i < USAGE_METRICS; i++) {
        int64_t used = 0;
        if (store_control_usage_sum(ctx->app->control, org.id, NULL, usage_metrics[i], from, to, &used, &err) < 0) {
            json_object_put(items);
            http_res_error_from(res, &err);
            return;
        }
        json_object_array_add(items, summary_item(usage_metrics[i], used, org_limit(&org, p, usage_metrics[i]), to));
    }
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "organizationId", json_object_new_string(org.id));
    json_object_object_add(out, "plan", json_object_new_string(org.plan));
    json_add_time(out, "periodStart", from);
    json_add_time(out, "resetAt", to);
    json_object_object_add(out, "items", items);
    http_res_json(res, 200, out);
    json_object_put(out);
}

int api_admin_usage_register(http_router *router, api_app *app)
{
    if (api_route_admin(router, app, HTTP_GET, "/admin/v1/usage", usage_list, NULL) < 0) return -1;
    return api_route_admin(router, app, HTTP_GET, "/admin/v1/usage/summary", usage_summary, NULL);
}
