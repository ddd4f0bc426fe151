/* health: /healthz (the control store answers), /metrics (Prometheus text) and / (what this is). None
 * needs a credential. (The console's files are served by api/admin/console/pages.c.) */
#include <stdio.h>
#include <string.h>

#include "api/health.h"
#include "api/route.h"
#include "core/quota.h"
#include "store/counters.h"
#include "util/clock.h"
#include "util/strbuf.h"

/* "redis": this instance's view of the fleet's Redis (--redis): whether a PING answers, how calls are
 * admitted now and whether the cache invalidation bus is subscribed. An unreachable Redis leaves /healthz
 * at 200: every instance sees the same Redis, and taking them all out of the balancer would refuse more
 * than the fail-open / fail-closed choice does. */
static void redis_view(api_app *app, strbuf *b)
{
    bs_err err;
    bs_err_clear(&err);
    int64_t rtt_us = 0;
    int up = store_counters_ping(app->counters, &rtt_us, &err) == 0;
    strbuf_append_str(b, ",\"redis\":{\"server\":");
    const char *where = store_counters_describe(app->counters);
    strbuf_append_json_string(b, where, strlen(where));
    if (up) strbuf_appendf(b, ",\"status\":\"ok\",\"pingMs\":%.3f", (double)rtt_us / 1000.0);
    else {
        strbuf_append_str(b, ",\"status\":\"unreachable\",\"error\":");
        strbuf_append_json_string(b, err.message, strlen(err.message));
    }
    strbuf_appendf(b, ",\"admission\":\"%s\"", quota_admission_mode(app->quota, clock_now_ms()));
    int bus = fleet_bus_subscribed(app->bus); /* the cache invalidation bus (core/fleet_bus.h) */
    if (bus >= 0) strbuf_appendf(b, ",\"invalidation\":\"%s\"", bus ? "subscribed" : "unsubscribed");
    strbuf_append_char(b, '}');
}

static void healthz(http_req *req, http_res *res, void *data)
{
    api_app *app = data;
    bs_err err;
    bs_err_clear(&err);
    http_res_header(res, "Cache-Control", "no-store");
    if (!app->ready) {
        http_res_error(res, 503, "common/unavailable", "Starting up");
        return;
    }
    if (store_control_ping(app->control, &err) < 0) {
        http_res_error(res, 503, "common/unavailable", "The control store does not answer");
        return;
    }
    strbuf *b = http_res_buffer(res);
    strbuf_appendf(b, "{\"status\":\"ok\",\"version\":\"%s\",\"uptimeSeconds\":%lld,\"controlStore\":\"ok\"", BASALT_VERSION,
                   (long long)((clock_now_ms() - app->started_ms) / 1000));
    if (app->counters) redis_view(app, b);
    strbuf_append_char(b, '}');
    http_res_status(res, 200);
}

static void metrics(http_req *req, http_res *res, void *data)
{
    api_app *app = data;
    http_res_content_type(res, "text/plain; version=0.0.4; charset=utf-8");
    if (!app->metrics || http_metrics_render(app->metrics, http_res_buffer(res)) < 0) {
        http_res_error(res, 500, "common/internal-error", "Internal server error");
        return;
    }
    http_res_status(res, 200);
}

static void root(http_req *req, http_res *res, void *data)
{
    strbuf *b = http_res_buffer(res);
    strbuf_appendf(b, "{\"name\":\"basalt\",\"version\":\"%s\",\"clientApi\":\"/v1\",\"managementApi\":\"/admin/v1\","
                      "\"console\":\"/console/\",\"health\":\"/healthz\"}", BASALT_VERSION);
    http_res_status(res, 200);
}

int api_health_register(http_router *router, api_app *app)
{
    if (http_router_add(router, HTTP_GET, "/healthz", healthz, app, NULL) < 0) return -1;
    if (http_router_add(router, HTTP_GET, "/metrics", metrics, app, NULL) < 0) return -1;
    return http_router_add(router, HTTP_GET, "/", root, app, NULL);
}
