/* usage_gate: the quota check of every /v1 call (design.md §4, core/quota): the organization's monthly
 * API calls from its plan and the project's daily apiCallLimit, admitted exactly in memory. Every answer
 * carries X-RateLimit-Limit / X-RateLimit-Remaining of the tightest limit that applies (none on an
 * unlimited plan without a daily cap); a refusal is
 *   429 {success: false, statusCode: 429, error: {code, message, details: {metric, limit, used, resetAt}}}
 * with Retry-After in seconds: usage/quota-exceeded for the monthly quota, data/rate-limit-exceeded for
 * the daily cap. A call that reaches 80 % or 100 % of the monthly quota raises the alert (api/alerts). */
#include <stdio.h>
#include <string.h>

#include "api/alerts.h"
#include "api/api.h"
#include "core/plans.h"
#include "util/clock.h"

static void rate_headers(http_res *res, const quota_verdict *v)
{
    char text[32];
    snprintf(text, sizeof text, "%lld", (long long)v->limit);
    http_res_header(res, "X-RateLimit-Limit", text);
    snprintf(text, sizeof text, "%lld", (long long)(v->limit > v->used ? v->limit - v->used : 0));
    http_res_header(res, "X-RateLimit-Remaining", text);
}

static void answer_refused(http_res *res, const quota_verdict *v, int64_t now)
{
    int daily = v->window == QUOTA_DAY;
    const char *code = daily ? "data/rate-limit-exceeded" : "usage/quota-exceeded";
    char message[160], retry[32];
    snprintf(message, sizeof message, daily ? "The project's daily API call limit (%lld) is reached" :
                                              "The organization's monthly API call quota (%lld) is reached",
             (long long)v->limit);
    snprintf(retry, sizeof retry, "%lld", (long long)((v->reset_at_ms - now + 999) / 1000));
    http_res_header(res, "Retry-After", retry);
    struct json_object *body = json_object_new_object(), *error = json_object_new_object(), *details = json_object_new_object();
    json_object_object_add(details, "metric", json_object_new_string(daily ? "api_call_daily" : "api_call"));
    json_object_object_add(details, "limit", json_object_new_int64(v->limit));
    json_object_object_add(details, "used", json_object_new_int64(v->used));
    api_json_time(details, "resetAt", v->reset_at_ms);
    json_object_object_add(error, "code", json_object_new_string(code));
    json_object_object_add(error, "message", json_object_new_string(message));
    json_object_object_add(error, "details", details);
    json_object_object_add(body, "success", json_object_new_boolean(0));
    json_object_object_add(body, "statusCode", json_object_new_int(429));
    json_object_object_add(body, "error", error);
    json_object_object_add(body, "message", json_object_new_string(message));
    const char *text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
    http_res_body(res, 429, "application/json; charset=utf-8", text, strlen(text));
    json_object_put(body);
}

int api_usage_gate(api_app *app, const store_key_context *key, int64_t daily_limit, http_res *res)
{
    if (!app->quota || !key->organization_id[0]) return 0; /* mailed links name no organization: nothing to count */
    const plan *pl = plan_find(key->plan);
    int64_t month_limit = key->api_call_quota >= 0                 ? key->api_call_quota /* the operator's contract */
                          : pl && pl->api_calls != PLAN_UNLIMITED ? pl->api_calls
                                                                  : QUOTA_UNLIMITED;
    int64_t now = clock_now_ms();
    quota_verdict v;
    bs_err err;
    bs_err_clear(&err);
    if (quota_admit(app->quota, key->organization_id, key->project_id, month_limit, daily_limit, now, &v, &err) < 0) {
        http_res_error(res, 503, "common/unavailable", "Usage could not be checked; try again");
        return -1;
    }
    if (v.limited) rate_headers(res, &v);
    if (!v.admitted) {
        answer_refused(res, &v, now);
        return -1;
    }
    if (v.crossed & QUOTA_CROSSED_80) alerts_raise(app->alerts, key->organization_id, "api_call", 80, v.used, month_limit, now);
    if (v.crossed & QUOTA_CROSSED_100) alerts_raise(app->alerts, key->organization_id, "api_call", 100, v.used, month_limit, now);
    return 0;
}
