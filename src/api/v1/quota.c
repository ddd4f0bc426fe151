/* quota: the quota stage of every /v1 call (api/v1/pipeline.h) (design.md §4, core/quota): the organization's monthly
 * API calls from its plan and the project's daily apiCallLimit, admitted exactly in memory. Every answer
 * carries X-RateLimit-Limit / X-RateLimit-Remaining of the tightest limit that applies (none on an
 * unlimited plan without a daily cap); a refusal is
 *   429 {success: false, statusCode: 429, error: {code, message, details: {metric, limit, used, resetAt}}}
 * with Retry-After in seconds: usage/quota-exceeded for the monthly quota, data/rate-limit-exceeded for
 * the daily cap. A call that reaches 80 % or 100 % of the monthly quota raises the alert (core/alerts). */
#include <stdio.h>
#include <string.h>

#include "api/v1/quota.h"
#include "core/alerts.h"
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

/* The 429 of a refused call: metric, limit, used and, for a windowed limit, when it resets. */
static void answer_refused(http_res *res, const char *code, const char *metric, const char *message, int64_t limit, int64_t used,
                           int64_t reset_at_ms, int64_t now)
{
    if (reset_at_ms) {
        char retry[32];
        snprintf(retry, sizeof retry, "%lld", (long long)((reset_at_ms - now + 999) / 1000));
        http_res_header(res, "Retry-After", retry);
    }
    struct json_object *details = json_object_new_object();
    json_object_object_add(details, "metric", json_object_new_string(metric));
    json_object_object_add(details, "limit", json_object_new_int64(limit));
    json_object_object_add(details, "used", json_object_new_int64(used));
    json_add_time(details, "resetAt", reset_at_ms);
    http_res_error_details(res, 429, code, message, details);
    json_object_put(details);
}

static void answer_call_refused(http_res *res, const quota_verdict *v, int64_t now)
{
    int daily = v->window == QUOTA_DAY;
    char message[160];
    snprintf(message, sizeof message, daily ? "The project's daily API call limit (%lld) is reached" :
                                              "The organization's monthly API call quota (%lld) is reached",
             (long long)v->limit);
    answer_refused(res, daily ? "data/rate-limit-exceeded" : "usage/quota-exceeded", daily ? "api_call_daily" : "api_call", message,
                   v->limit, v->used, v->reset_at_ms, now);
}

/* The limits a key's context carries (plan and operator quotas) are as old as the key cache. Before a
 * refusal they are read again: when the organization's row says otherwise (a plan upgrade, an operator's
 * override from another process), its cached keys are dropped and *fresh holds the new limits. 1 then,
 * 0 when nothing changed (or the row cannot be read: the refusal stands). Only refused calls pay a read. */
static int limits_changed(api_app *app, const store_key_context *key, store_key_context *fresh)
{
    store_org o;
    int found = 0;
    bs_err err;
    if (store_control_org_get(app->control, key->organization_id, &o, &found, &err) < 0 || !found) return 0;
    if (!strcmp(o.plan, key->plan) && o.api_call_quota == key->api_call_quota && o.storage_quota == key->storage_quota &&
        o.mau_quota == key->mau_quota && o.bandwidth_quota == key->bandwidth_quota)
        return 0;
    *fresh = *key;
    snprintf(fresh->plan, sizeof fresh->plan, "%s", o.plan);
    fresh->api_call_quota = o.api_call_quota;
    fresh->storage_quota = o.storage_quota;
    fresh->mau_quota = o.mau_quota;
    fresh->bandwidth_quota = o.bandwidth_quota;
    /* here only: every instance notices a changed row on its own refused calls, and a /v1 call does not
     * wait for the fleet (core/fleet_bus) */
    if (app->bus) fleet_bus_apply(app->bus, FLEET_ORG, key->organization_id);
    return 1;
}

/* quota_admit under key's monthly limit; a monthly refusal is checked against the organization's row. */
static int admit(api_app *app, const store_key_context *key, int64_t daily_limit, int64_t now, quota_verdict *v, int64_t *month_limit,
                 bs_err *err)
{
    store_key_context fresh;
    *month_limit = plan_limit_with(plan_find(key->plan), "api_call", key->api_call_quota); /* PLAN_UNLIMITED == QUOTA_UNLIMITED */
    if (quota_admit(app->quota, key->organization_id, key->project_id, *month_limit, daily_limit, now, v, err) < 0) return -1;
    if (v->admitted || v->window != QUOTA_MONTH || !limits_changed(app, key, &fresh)) return 0;
    *month_limit = plan_limit_with(plan_find(fresh.plan), "api_call", fresh.api_call_quota);
    return quota_admit(app->quota, key->organization_id, key->project_id, *month_limit, daily_limit, now, v, err);
}

int api_usage_gate(api_app *app, const store_key_context *key, int64_t daily_limit, http_res *res)
{
    if (!app->quota || !key->organization_id[0]) return 0; /* mailed links name no organization: nothing to count */
    int64_t now = clock_now_ms(), month_limit = 0;
    quota_verdict v;
    bs_err err;
    bs_err_clear(&err);
    if (admit(app, key, daily_limit, now, &v, &month_limit, &err) < 0) { /* the control store or (fail closed) Redis */
        http_res_header(res, "Retry-After", "5");
        http_res_error(res, 503, "common/unavailable", "Usage could not be checked; try again");
        return -1;
    }
    if (v.limited) rate_headers(res, &v);
    if (!v.admitted) {
        answer_call_refused(res, &v, now);
        return -1;
    }
    if (v.crossed & QUOTA_CROSSED_80) alerts_raise(app->alerts, key->organization_id, "api_call", 80, v.used, month_limit, now);
    if (v.crossed & QUOTA_CROSSED_100) alerts_raise(app->alerts, key->organization_id, "api_call", 100, v.used, month_limit, now);
    return 0;
}

/* The limit of a metric checked by api_usage_allow: the operator's override, else the plan's. */
static int64_t metric_limit(const store_key_context *key, const plan *pl, const char *metric)
{
    int64_t over = !strcmp(metric, "storage") ? key->storage_quota : !strcmp(metric, "mau") ? key->mau_quota
                 : !strcmp(metric, "bandwidth") ? key->bandwidth_quota : -1;
    return plan_limit_with(pl, metric, over);
}

int api_usage_allow(api_app *app, const store_key_context *key, const char *metric, http_res *res)
{
    const plan *pl = plan_find(key->plan);
    int64_t limit = metric_limit(key, pl, metric), used = 0, now = clock_now_ms();
    if (!app->usage || !key->organization_id[0] || limit < 0) return 0;
    bs_err err;
    bs_err_clear(&err);
    if (usage_cache_get(app->usage, key->organization_id, metric, now, &used, &err) < 0) return 0; /* unknown: let it through */
    store_key_context fresh;
    if (used >= limit && limits_changed(app, key, &fresh)) { /* about to refuse: with the organization's limits now */
        limit = metric_limit(&fresh, plan_find(fresh.plan), metric);
        if (limit < 0) return 0;
    }
    for (int threshold = 80; threshold <= 100; threshold += 20)
        if (used * 100 >= limit * threshold && usage_cache_claim_alert(app->usage, key->organization_id, metric, threshold, now))
            alerts_raise(app->alerts, key->organization_id, metric, threshold, used, limit, now);
    if (used < limit) return 0;
    if (!res) return -1; /* the caller answers (api_usage_refuse) */
    int64_t from, reset = 0;
    if (strcmp(metric, "storage")) quota_window_bounds(QUOTA_MONTH, now, &from, &reset); /* storage is a gauge: no reset */
    char message[160];
    snprintf(message, sizeof message, "The organization's %s quota (%lld) is used up", metric, (long long)limit);
    answer_refused(res, "usage/quota-exceeded", metric, message, limit, used, reset, now);
    return -1;
}

int api_usage_refuse(const char *metric, bs_err *err)
{
    return bs_err_set(err, 429, "usage/quota-exceeded", "The organization's %s quota is used up", metric);
}

int api_usage_allow_user(api_app *app, const store_key_context *key, const char *user_id, int64_t active_ms,
                         http_res *res)
{
    const plan *pl = plan_find(key->plan);
    int64_t limit = metric_limit(key, pl, "mau"), used = 0, now = clock_now_ms(), from, to;
    if (!app->usage || !key->organization_id[0] || limit < 0) return 0;
    bs_err err;
    bs_err_clear(&err);
    if (usage_cache_get(app->usage, key->organization_id, "mau", now, &used, &err) < 0 || used < limit)
        return api_usage_allow(app, key, "mau", res); /* below: only the alerts to raise */
    quota_window_bounds(QUOTA_MONTH, now, &from, &to);
    if (active_ms >= from) return 0; /* active this month already: counted, or about to be */
    int known = 0;
    if (store_control_usage_mau_known(app->control, key->environment_id, from, user_id, &known, &err) == 0 && known) return 0;
    return api_usage_allow(app, key, "mau", res); /* a user new this month past the limit: refused */
}
