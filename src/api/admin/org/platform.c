/* admin_platform: the management plane's organizations, plans, projects, environments and activity log
 * (management-api.md, platform.md §2–5 and §8). Operator tokens only (an environment's secret key reaches
 * its own environment's endpoints, not these): 403 org/permission-denied. A token belongs to one
 * organization; another organization's ids answer 404 as if they did not exist.
 *   GET  /admin/v1/organizations                         → {items: [organization]}
 *   POST /admin/v1/organizations {name, slug}            → 201 organization + ownerToken (shown once)
 *   GET/PATCH/DELETE /admin/v1/organizations/:orgId      PATCH {name, displayName, description, notificationEmail}
 *   GET/PUT /admin/v1/organizations/:orgId/plan          PUT {plan}: upgrade now; downgrade at the end of the
 *        month (UTC) unless usage is over the lower plan (409 org/downgrade-blocked, details per metric);
 *        PUT of the current plan cancels a scheduled downgrade
 *   GET /admin/v1/organizations/:orgId/activity?page&limit&entityType&action&search&projectId&environment
 *   GET/POST /admin/v1/projects[?organizationId]         POST {organizationId, slug, name, description?,
 *        primaryCloud?, primaryRegion?}: also creates its dev environment; maxProjects per plan
 *   GET/PATCH/DELETE /admin/v1/projects/:projectId       PATCH {name, description, settings}
 *   GET/POST /admin/v1/projects/:projectId/environments  POST {environment, environmentType}: plan-gated
 *   GET/DELETE /admin/v1/projects/:projectId/environments/:env
 * Deleting runs the steps of platform.md §5.6 for each environment (files, then the environment's
 * database with its tables, users and indexes, then its keys, secrets and settings with its record);
 * an organization or project is marked deleted first, so a DELETE interrupted half way can be sent again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/alerts.h"
#include "core/console_session.h"
#include "api/admin/org/surface.h"
#include "api/admin/org/team.h"
#include "store/files.h"
#include "api/admin_gate.h"
#include "api/respond.h"
#include "api/route.h"
#include "core/env_lifecycle.h"
#include "core/keys.h"
#include "core/netrules.h"
#include "core/plans.h"
#include "core/roles.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"
#include "util/url_mask.h"

#define PROJECTS_MAX 1000
#define ENVS_MAX 100
#define ACTIVITY_PAGE_MAX 100

/* ---- callers, roles, activity ---- */


static void activity(api_ctx *ctx, const char *org, const char *project, const char *entity_type, const char *entity_id,
                     const char *action, const char *message)
{
    api_activity(ctx, org, project, entity_type, entity_id, action, message); /* api/admin_gate.c */
}

/* The caller's organization :orgId (404 org/not-found for any other), with a due downgrade applied. */
static int load_org_any(api_ctx *ctx, const char *id, store_org *org, int deleted_too, bs_err *err)
{
    int found = 0;
    if (ctx->caller != API_CALLER_OPERATOR) return api_admin_need(ctx, ROLE_VIEW_ORG, err);
    if (!id || strcmp(id, ctx->token.organization_id) || store_control_org_get(ctx->app->control, id, org, &found, err) < 0 || !found ||
        (!deleted_too && !strcmp(org->status, "deleted")))
        return err->status ? -1 : bs_err_set(err, 404, "org/not-found", "Organization not found");
    if (org->scheduled_plan[0] && org->scheduled_at <= clock_now_ms()) {
        snprintf(org->plan, sizeof org->plan, "%s", org->scheduled_plan);
        org->scheduled_plan[0] = '\0';
        org->scheduled_at = 0;
        org->updated_at = clock_now_ms();
        if (store_control_org_update(ctx->app->control, org, &found, err) < 0) return -1;
        fleet_bus_publish(ctx->app->bus, FLEET_ORG, org->id); /* the lower limits apply to the next /v1 call */
        activity(ctx, org->id, NULL, "plan", org->id, "downgrade", "scheduled downgrade applied");
    }
    return 0;
}

static int load_org(api_ctx *ctx, const char *id, store_org *org, bs_err *err) { return load_org_any(ctx, id, org, 0, err); }

/* ---- JSON shapes ---- */

static struct json_object *org_json(const store_org *o)
{
    struct json_object *j = json_object_new_object();
    json_object_object_add(j, "id", json_object_new_string(o->id));
    json_object_object_add(j, "name", json_object_new_string(o->name));
    json_object_object_add(j, "slug", json_object_new_string(o->slug));
    json_object_object_add(j, "displayName", json_object_new_string(o->display_name));
    json_object_object_add(j, "description", json_object_new_string(o->description));
    json_object_object_add(j, "notificationEmail", o->notification_email[0] ? json_object_new_string(o->notification_email) : NULL);
    json_object_object_add(j, "plan", json_object_new_string(o->plan));
    json_object_object_add(j, "status", json_object_new_string(o->status));
    json_add_time(j, "createdAt", o->created_at);
    json_add_time(j, "updatedAt", o->updated_at);
    return j;
}

static struct json_object *limit_json(int64_t v) { return v == PLAN_UNLIMITED ? NULL : json_object_new_int64(v); }

static struct json_object *plan_json(const store_org *o)
{
    const plan *p = plan_find(o->plan);
    struct json_object *j = json_object_new_object(), *limits = json_object_new_object(), *features = json_object_new_object();
    static const char *const types[] = {"dev", "staging", "prod", "custom"};
    struct json_object *allowed = json_object_new_array();
    for (int i = 0; p && i < 4; i++)
        if (p->env_types & plan_env_type_bit(types[i])) json_object_array_add(allowed, json_object_new_string(types[i]));
    json_object_object_add(j, "plan", json_object_new_string(o->plan));
    json_object_object_add(j, "scheduledPlan", o->scheduled_plan[0] ? json_object_new_string(o->scheduled_plan) : NULL);
    json_add_time(j, "scheduledAt", o->scheduled_at);
    struct json_object *over = json_object_new_object();
    json_object_object_add(over, "apiCallLimit", o->api_call_quota >= 0 ? json_object_new_int64(o->api_call_quota) : NULL);
    json_object_object_add(over, "storageLimit", o->storage_quota >= 0 ? json_object_new_int64(o->storage_quota) : NULL);
    json_object_object_add(over, "mau", o->mau_quota >= 0 ? json_object_new_int64(o->mau_quota) : NULL);
    json_object_object_add(over, "bandwidthLimit", o->bandwidth_quota >= 0 ? json_object_new_int64(o->bandwidth_quota) : NULL);
    json_object_object_add(j, "overrides", over); /* the operator's (basalt operator quota), null: the plan's */
    if (p) {
        json_object_object_add(limits, "maxProjects", limit_json(p->max_projects));
        json_object_object_add(limits, "maxEnvironmentsPerProject", limit_json(p->max_environments));
        json_object_object_add(limits, "apiCallLimit", limit_json(plan_limit_with(p, "api_call", o->api_call_quota)));
        json_object_object_add(limits, "storageLimit", limit_json(plan_limit_with(p, "storage", o->storage_quota)));
        json_object_object_add(limits, "mau", limit_json(plan_limit_with(p, "mau", o->mau_quota)));
        json_object_object_add(limits, "bandwidthLimit", limit_json(plan_limit_with(p, "bandwidth", o->bandwidth_quota)));
        json_object_object_add(features, "webhookEnabled", json_object_new_boolean(p->features & PLAN_FEATURE_WEBHOOKS));
        json_object_object_add(features, "customDomainEnabled", json_object_new_boolean(p->features & PLAN_FEATURE_CUSTOM_DOMAIN));
        json_object_object_add(features, "ssoEnabled", json_object_new_boolean(p->features & PLAN_FEATURE_SSO));
        json_object_object_add(features, "advancedAnalyticsEnabled", json_object_new_boolean(p->features & PLAN_FEATURE_ADVANCED_ANALYTICS));
        json_object_object_add(features, "prioritySupportEnabled", json_object_new_boolean(p->features & PLAN_FEATURE_PRIORITY_SUPPORT));
    }
    json_object_object_add(limits, "environmentTypes", allowed);
    json_object_object_add(j, "limits", limits);
    json_object_object_add(j, "features", features);
    return j;
}

static struct json_object *project_json(const store_project *p, int envs)
{
    struct json_object *j = json_object_new_object(), *settings = json_tokener_parse(p->settings[0] ? p->settings : "{}");
    json_object_object_add(j, "id", json_object_new_string(p->id));
    json_object_object_add(j, "organizationId", json_object_new_string(p->organization_id));
    json_object_object_add(j, "name", json_object_new_string(p->name));
    json_object_object_add(j, "slug", json_object_new_string(p->slug));
    json_object_object_add(j, "description", json_object_new_string(p->description));
    json_object_object_add(j, "primaryCloud", p->primary_cloud[0] ? json_object_new_string(p->primary_cloud) : NULL);
    json_object_object_add(j, "primaryRegion", p->primary_region[0] ? json_object_new_string(p->primary_region) : NULL);
    json_object_object_add(j, "status", json_object_new_string(p->status));
    json_object_object_add(j, "settings", settings ? settings : json_object_new_object());
    if (envs >= 0) json_object_object_add(j, "environmentCount", json_object_new_int(envs));
    json_add_time(j, "createdAt", p->created_at);
    json_add_time(j, "updatedAt", p->updated_at);
    return j;
}

/* {id, type, slot[, server]}: the environment's cluster, its kind from the placement (registered clusters
 * have names of their own) and, on a registered cluster with a server, that URL with the password masked
 * (absent on the default environment store, so existing answers keep their shape). */
static struct json_object *cluster_json(store_control *control, const store_env *e)
{
    store_placement where;
    int found = 0;
    bs_err ignored;
    if (store_control_env_placement(control, e->id, &where, &found, &ignored) < 0 || !found) {
        memset(&where, 0, sizeof where);
        snprintf(where.kind, sizeof where.kind, "%s", strncmp(e->cluster, "shared-", 7) ? "dedicated" : "shared");
    }
    char server[STORE_CLUSTER_URL_MAX];
    url_mask(where.url, server, sizeof server);
    struct json_object *cluster = json_object_new_object();
    json_object_object_add(cluster, "id", json_object_new_string(e->cluster));
    json_object_object_add(cluster, "type", json_object_new_string(where.kind));
    json_object_object_add(cluster, "slot", json_object_new_int(e->slot));
    if (server[0]) json_object_object_add(cluster, "server", json_object_new_string(server)); /* absent: the default */
    return cluster;
}

static struct json_object *env_json(store_control *control, const store_env *e)
{
    struct json_object *j = json_object_new_object(), *deployment = json_object_new_object();
    json_object_object_add(j, "id", json_object_new_string(e->id));
    json_object_object_add(j, "projectId", json_object_new_string(e->project_id));
    json_object_object_add(j, "environment", json_object_new_string(e->name));
    json_object_object_add(j, "name", json_object_new_string(e->name));
    json_object_object_add(j, "environmentType", json_object_new_string(e->type));
    json_object_object_add(deployment, "status", json_object_new_string(e->status));
    json_object_object_add(j, "deployment", deployment);
    json_object_object_add(j, "status", json_object_new_string(e->status));
    json_object_object_add(j, "cluster", e->cluster[0] ? cluster_json(control, e) : NULL);
    json_add_time(j, "lastAccessAt", e->last_access_at);
    json_add_time(j, "shutdownAt", e->shutdown_at);
    json_add_time(j, "deletionScheduledAt", e->delete_at);
    json_add_time(j, "createdAt", e->created_at);
    json_add_time(j, "updatedAt", e->updated_at);
    return j;
}

/* ---- validation ---- */

/* 3–50 of [a-z0-9-], not starting or ending with '-'. */
static int slug_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 3 || n > 50 || s[0] == '-' || s[n - 1] == '-') return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-')) return 0;
    return 1;
}

/* An optional text member of body into out: 400 when present and not a string of at most max characters. */
static int text_member(struct json_object *body, const char *name, size_t max, int required, char *out, size_t size, bs_err *err)
{
    struct json_object *v;
    if (!json_object_object_get_ex(body, name, &v))
        return required ? bs_err_set(err, 400, "common/invalid-parameters", "%s is required", name) : 0;
    const char *t = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
    if (!t || (required && !*t) || json_utf8_chars(t) > max || strlen(t) >= size)
        return bs_err_set(err, 400, "common/invalid-parameters", "%s: a string of at most %zu characters", name, max);
    snprintf(out, size, "%s", t);
    return 0;
}

static int body_object(http_req *req, struct json_object **body, bs_err *err)
{
    *body = http_req_json_borrow(req);
    return json_object_is_type(*body, json_type_object) ? 0 : bs_err_set(err, 400, "common/invalid-parameters", "A JSON object body is required");
}

/* ---- deleting environments, projects, organizations (platform.md §5.6) ---- */

static int project_remove(api_ctx *ctx, store_project *p, bs_err *err)
{
    store_env *envs = calloc(ENVS_MAX, sizeof *envs);
    size_t n = 0;
    int found = 0, rc = envs ? 0 : bs_err_internal(err);
    env_stores st = api_env_stores(ctx->app);
    snprintf(p->status, sizeof p->status, "deleted");
    p->updated_at = clock_now_ms();
    if (rc == 0) rc = store_control_project_update(ctx->app->control, p, &found, err);
    if (rc == 0) rc = store_control_env_list(ctx->app->control, p->id, envs, ENVS_MAX, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++) rc = env_lifecycle_remove(&st, &envs[i], err);
    free(envs);
    return rc < 0 ? -1 : store_control_project_delete(ctx->app->control, p->id, &found, err);
}

/* ---- organizations ---- */

static void orgs_list(api_ctx *ctx, http_req *req, http_res *res)
{
    (void)req;
    bs_err err;
    bs_err_clear(&err);
    store_org o;
    if (api_admin_need(ctx, ROLE_VIEW_ORG, &err) < 0 || load_org(ctx, ctx->token.organization_id, &o, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *items = json_object_new_array();
    json_object_array_add(items, org_json(&o));
    api_answer_page(res, items, 1, 1, 20);
}

/* POST /admin/v1/organizations: a new organization on the free plan with an Owner member (ownerEmail,
 * ownerName) and a new operator token bound to it (the caller's token belongs to its own organization; the
 * answer's ownerToken is the way into this one). */
static void org_create(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    struct json_object *body;
    store_org o;
    store_operator_token t;
    store_member m;
    char token[KEYS_TEXT_MAX];
    memset(&o, 0, sizeof o);
    memset(&t, 0, sizeof t);
    memset(&m, 0, sizeof m);
    if (api_admin_need(ctx, ROLE_VIEW_ORG, &err) == 0 && body_object(req, &body, &err) == 0 &&
        text_member(body, "name", 100, 1, o.name, sizeof o.name, &err) == 0 && text_member(body, "slug", 50, 1, o.slug, sizeof o.slug, &err) == 0 &&
        api_team_owner_new(body, &m, &err) == 0) {
        if (!slug_ok(o.slug)) bs_err_set(&err, 400, "common/invalid-parameters", "slug: 3 to 50 of a-z, 0-9 and '-'");
        else if (keys_new_id("org", o.id) < 0 || keys_new_id("tok", t.id) < 0 || keys_generate(KEYS_OPERATOR, token) < 0) bs_err_internal(&err);
    }
    if (!err.status) {
        snprintf(o.plan, sizeof o.plan, "free");
        snprintf(o.status, sizeof o.status, "active");
        o.created_at = o.updated_at = t.created_at = clock_now_ms();
        snprintf(t.organization_id, sizeof t.organization_id, "%s", o.id);
        snprintf(m.organization_id, sizeof m.organization_id, "%s", o.id);
        snprintf(t.member_id, sizeof t.member_id, "%s", m.id);
        m.joined_at = o.created_at;
        snprintf(t.name, sizeof t.name, "owner of %s", o.slug);
        snprintf(t.role, sizeof t.role, "owner");
        keys_hash(token, t.hash);
        keys_hint(token, t.hint);
        bs_err e;
        bs_err_clear(&e);
        if (store_control_org_insert(ctx->app->control, &o, &e) < 0)
            e.status == 409 ? bs_err_set(&err, 409, "org/slug-taken", "An organization already uses this slug") : (err = e, 0);
        else if (store_control_member_insert(ctx->app->control, &m, &err) == 0)
            store_control_operator_token_insert(ctx->app->control, &t, &err);
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    activity(ctx, o.id, NULL, "organization", o.id, "create", o.name);
    struct json_object *j = org_json(&o);
    json_object_object_add(j, "ownerMemberId", json_object_new_string(m.id));
    json_object_object_add(j, "ownerToken", json_object_new_string(token));
    http_res_json(res, 201, j);
    json_object_put(j);
}

static void org_get(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_org o;
    if (load_org(ctx, http_req_param(req, "orgId"), &o, &err) < 0 || api_admin_need(ctx, ROLE_VIEW_ORG, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *j = org_json(&o);
    http_res_json(res, 200, j);
    json_object_put(j);
}

static void org_patch(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_org o;
    struct json_object *body;
    int found = 0;
    if (load_org(ctx, http_req_param(req, "orgId"), &o, &err) == 0 && api_admin_need(ctx, ROLE_EDIT_ORG, &err) == 0 && body_object(req, &body, &err) == 0 &&
        text_member(body, "name", 100, 0, o.name, sizeof o.name, &err) == 0 &&
        text_member(body, "displayName", 100, 0, o.display_name, sizeof o.display_name, &err) == 0 &&
        text_member(body, "description", 1000, 0, o.description, sizeof o.description, &err) == 0 &&
        text_member(body, "notificationEmail", 320, 0, o.notification_email, sizeof o.notification_email, &err) == 0) {
        if (!o.name[0]) bs_err_set(&err, 400, "common/invalid-parameters", "name must not be empty");
        else if (o.notification_email[0] && !strchr(o.notification_email, '@'))
            bs_err_set(&err, 400, "common/invalid-parameters", "notificationEmail must be an e-mail address");
        else if (json_object_object_get_ex(body, "slug", NULL) && strcmp(json_get_string(body, "slug") ? json_get_string(body, "slug") : "", o.slug))
            bs_err_set(&err, 400, "common/invalid-parameters", "slug cannot change");
        else {
            o.updated_at = clock_now_ms();
            store_control_org_update(ctx->app->control, &o, &found, &err);
        }
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    activity(ctx, o.id, NULL, "organization", o.id, "update", "organization settings changed");
    struct json_object *j = org_json(&o);
    http_res_json(res, 200, j);
    json_object_put(j);
}

static void org_delete(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_org o;
    store_project *projects = calloc(PROJECTS_MAX, sizeof *projects);
    size_t n = 0;
    int found = 0;
    if (!projects) bs_err_internal(&err);
    else if (load_org_any(ctx, http_req_param(req, "orgId"), &o, 1, &err) == 0 && api_admin_need(ctx, ROLE_DELETE_ORG, &err) == 0) {
        snprintf(o.status, sizeof o.status, "deleted"); /* from here on the organization answers 404 but to a DELETE, which resumes */
        o.updated_at = clock_now_ms();
        if (store_control_org_update(ctx->app->control, &o, &found, &err) == 0 &&
            store_control_project_list(ctx->app->control, o.id, projects, PROJECTS_MAX, &n, &err) == 0) {
            for (size_t i = 0; i < n && !err.status; i++) project_remove(ctx, &projects[i], &err);
            if (!err.status) store_control_org_delete(ctx->app->control, o.id, &found, &err);
        }
    }
    free(projects);
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    api_message(res, 200, "Organization deleted");
}

/* ---- plans ---- */

static void detail(struct json_object *list, const char *metric, int64_t used, int64_t limit)
{
    struct json_object *d = json_object_new_object();
    json_object_object_add(d, "metric", json_object_new_string(metric));
    json_object_object_add(d, "used", json_object_new_int64(used));
    json_object_object_add(d, "limit", json_object_new_int64(limit));
    json_object_array_add(list, d);
}

/* What the organization uses that the lower plan p would not allow, appended to over: projects,
 * environments (per project, and types), storage. MAU, API calls and bandwidth come with metering. */
static int usage_over(api_ctx *ctx, const store_org *o, const plan *p, struct json_object *over, bs_err *err)
{
    store_project *projects = calloc(PROJECTS_MAX, sizeof *projects);
    store_env *envs = calloc(ENVS_MAX, sizeof *envs);
    size_t np = 0, ne = 0;
    int64_t most_envs = 0, bad_types = 0;
    uint64_t bytes = 0, count = 0, b = 0;
    int rc = projects && envs ? store_control_project_list(ctx->app->control, o->id, projects, PROJECTS_MAX, &np, err) : bs_err_internal(err);
    for (size_t i = 0; rc == 0 && i < np; i++) {
        rc = store_control_env_list(ctx->app->control, projects[i].id, envs, ENVS_MAX, &ne, err);
        if ((int64_t)ne > most_envs) most_envs = (int64_t)ne;
        for (size_t j = 0; rc == 0 && j < ne; j++) {
            if (!(p->env_types & plan_env_type_bit(envs[j].type))) bad_types++;
            rc = store_objects_totals(ctx->app->docs, envs[j].id, &count, &b, err);
            bytes += b;
        }
    }
    free(projects);
    free(envs);
    if (rc < 0) return -1;
    if (p->max_projects != PLAN_UNLIMITED && (int64_t)np > p->max_projects) detail(over, "projects", (int64_t)np, p->max_projects);
    if (p->max_environments != PLAN_UNLIMITED && most_envs > p->max_environments)
        detail(over, "environments", most_envs, p->max_environments);
    if (bad_types) detail(over, "environmentTypes", bad_types, 0);
    if (p->storage_bytes != PLAN_UNLIMITED && (int64_t)bytes > p->storage_bytes) detail(over, "storage", (int64_t)bytes, p->storage_bytes);
    return 0;
}

static void plan_get(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_org o;
    if (load_org(ctx, http_req_param(req, "orgId"), &o, &err) < 0 || api_admin_need(ctx, ROLE_VIEW_PLAN, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *j = plan_json(&o);
    http_res_json(res, 200, j);
    json_object_put(j);
}

static void plan_put(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_org o;
    struct json_object *body, *over = json_object_new_array();
    const plan *want = NULL, *now = NULL;
    int found = 0;
    if (load_org(ctx, http_req_param(req, "orgId"), &o, &err) == 0 && api_admin_need(ctx, ROLE_MANAGE_BILLING, &err) == 0 && body_object(req, &body, &err) == 0) {
        want = plan_find(json_get_string(body, "plan"));
        now = plan_find(o.plan);
        if (!want || !now) bs_err_set(&err, 400, "common/invalid-parameters", "plan: free, starter, growth or enterprise");
        else if (want->rank < now->rank && usage_over(ctx, &o, want, over, &err) == 0 && json_object_array_length(over) > 0)
            bs_err_set(&err, 409, "org/downgrade-blocked", "Current usage is over the %s plan", want->name);
    }
    if (!err.status) {
        const char *what = want->rank > now->rank ? "upgrade" : want->rank < now->rank ? "downgrade scheduled" : "scheduled change cancelled";
        if (want->rank > now->rank) snprintf(o.plan, sizeof o.plan, "%s", want->name); /* at once */
        if (want->rank < now->rank) {
            snprintf(o.scheduled_plan, sizeof o.scheduled_plan, "%s", want->name); /* at the end of the month */
            o.scheduled_at = clock_month_start(clock_now_ms(), 1);
        } else {
            o.scheduled_plan[0] = '\0';
            o.scheduled_at = 0;
        }
        o.updated_at = clock_now_ms();
        if (store_control_org_update(ctx->app->control, &o, &found, &err) == 0) {
            fleet_bus_publish(ctx->app->bus, FLEET_ORG, o.id); /* the next /v1 call, on any instance, sees the new plan's limits */
            activity(ctx, o.id, NULL, "plan", o.id, what, want->name);
        }
    }
    if (err.status) {
        if (err.status == 409) http_res_error_details(res, 409, err.code, err.message, over); /* the metrics over the lower plan */
        else http_res_error_from(res, &err);
        json_object_put(over);
        return;
    }
    json_object_put(over);
    struct json_object *j = plan_json(&o);
    http_res_json(res, 200, j);
    json_object_put(j);
}

/* ---- operator tokens of the organization (platform.md §10.2) ---- */

/* A token never outlives the token that creates it (no credential mints one with more rights than its
 * own): without expiresAt it takes the creator's expiry, a later one is 403. */
static int token_within_creator(const api_ctx *ctx, store_operator_token *t, bs_err *err)
{
    int64_t bound = ctx->caller == API_CALLER_OPERATOR ? ctx->token.expires_at : 0;
    if (!bound) return 0;
    if (!t->expires_at) t->expires_at = bound;
    if (t->expires_at > bound)
        return bs_err_set(err, 403, "org/permission-denied", "A token cannot outlive the token that creates it");
    return 0;
}

static void token_create(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_org o;
    store_operator_token t;
    struct json_object *body, *exp = NULL;
    char token[KEYS_TEXT_MAX], when[CLOCK_ISO_LEN];
    memset(&t, 0, sizeof t);
    if (load_org(ctx, http_req_param(req, "orgId"), &o, &err) == 0 && api_admin_need(ctx, ROLE_MANAGE_KEYS, &err) == 0 && body_object(req, &body, &err) == 0 &&
        text_member(body, "name", 100, 1, t.name, sizeof t.name, &err) == 0 && text_member(body, "role", 10, 0, t.role, sizeof t.role, &err) == 0 &&
        api_team_token_member(ctx, body, &t, &err) == 0) { /* memberId: bound to the member, with its role (admin_team.c) */
        if (!t.role[0]) snprintf(t.role, sizeof t.role, "member");
        if (!role_known(t.role)) bs_err_set(&err, 400, "common/invalid-parameters", "role: owner, admin, member or billing");
        else if (!strcmp(t.name, CONSOLE_LINK_TOKEN_NAME))
            bs_err_set(&err, 400, "common/invalid-parameters", "name: \"%s\" is reserved for one-time console sign-in links", CONSOLE_LINK_TOKEN_NAME);
        else if (!strcmp(t.role, "owner") && strcmp(ctx->token.role, "owner"))
            bs_err_set(&err, 403, "org/permission-denied", "Only an owner grants the owner role");
        else if (json_object_object_get_ex(body, "expiresAt", &exp) && !json_object_is_type(exp, json_type_null) &&
                 (clock_parse_iso8601(json_object_get_string(exp), &t.expires_at) < 0 || t.expires_at <= clock_now_ms()))
            bs_err_set(&err, 400, "common/invalid-parameters", "expiresAt: an ISO 8601 time in the future");
        else if (token_within_creator(ctx, &t, &err) < 0) {
        } else if (keys_new_id("tok", t.id) < 0 || keys_generate(KEYS_OPERATOR, token) < 0) bs_err_internal(&err);
    }
    if (!err.status) {
        snprintf(t.organization_id, sizeof t.organization_id, "%s", o.id);
        keys_hash(token, t.hash);
        keys_hint(token, t.hint);
        t.created_at = clock_now_ms();
        if (store_control_operator_token_insert(ctx->app->control, &t, &err) == 0) activity(ctx, o.id, NULL, "token", t.id, "create", t.name);
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *j = json_object_new_object();
    json_object_object_add(j, "id", json_object_new_string(t.id));
    json_object_object_add(j, "name", json_object_new_string(t.name));
    json_object_object_add(j, "role", json_object_new_string(t.role));
    json_object_object_add(j, "memberId", t.member_id[0] ? json_object_new_string(t.member_id) : NULL);
    json_object_object_add(j, "token", json_object_new_string(token)); /* the only time it is shown */
    json_object_object_add(j, "tokenHint", json_object_new_string(t.hint));
    clock_iso8601(t.created_at, when);
    json_object_object_add(j, "createdAt", json_object_new_string(when));
    json_add_time(j, "expiresAt", t.expires_at);
    http_res_json(res, 201, j);
    json_object_put(j);
}

/* ---- activity ---- */

static struct json_object *activity_json(const store_activity *a);
static struct json_object *activity_json_row(const void *row) { return activity_json(row); }

static struct json_object *activity_json(const store_activity *a)
{
    struct json_object *j = json_object_new_object();
    json_object_object_add(j, "id", json_object_new_int64(a->id));
    json_object_object_add(j, "organizationId", json_object_new_string(a->organization_id));
    json_object_object_add(j, "projectId", a->project_id[0] ? json_object_new_string(a->project_id) : NULL);
    json_object_object_add(j, "environment", a->environment[0] ? json_object_new_string(a->environment) : NULL);
    json_object_object_add(j, "actor", json_object_new_string(a->actor));
    json_object_object_add(j, "actorType", json_object_new_string(a->actor_type));
    json_object_object_add(j, "entityType", json_object_new_string(a->entity_type));
    json_object_object_add(j, "entityId", json_object_new_string(a->entity_id));
    json_object_object_add(j, "action", json_object_new_string(a->action));
    json_object_object_add(j, "message", json_object_new_string(a->message));
    json_add_time(j, "createdAt", a->at);
    return j;
}

static void activity_list(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_org o;
    int64_t page = api_query_int(req, "page", 1, 1000000), limit = api_query_int(req, "limit", 20, ACTIVITY_PAGE_MAX), total = 0;
    store_activity_query q = {.entity_type = http_req_query(req, "entityType"), .action = http_req_query(req, "action"),
                              .search = http_req_query(req, "search"), .project_id = http_req_query(req, "projectId"),
                              .environment = http_req_query(req, "environment"), .offset = (page - 1) * limit,
                              .limit = (size_t)limit};
    store_activity *rows = calloc((size_t)limit, sizeof *rows);
    size_t n = 0;
    if (!rows) bs_err_internal(&err);
    else if (load_org(ctx, http_req_param(req, "orgId"), &o, &err) == 0 && api_admin_need(ctx, ROLE_VIEW_ORG, &err) == 0) {
        q.organization_id = o.id;
        store_control_activity_list(ctx->app->control, &q, rows, &n, &total, &err);
    }
    api_answer_rows(res, &err, rows, n, sizeof *rows, activity_json_row, total, page, limit);
}

/* ---- projects ---- */

/* The project :projectId of the caller's organization (404 org/project-not-found otherwise). */
static int load_project(api_ctx *ctx, const char *id, store_project *p, bs_err *err)
{
    int found = 0;
    if (ctx->caller != API_CALLER_OPERATOR) return api_admin_need(ctx, ROLE_USE_PROJECTS, err);
    if (store_control_project_get(ctx->app->control, id ? id : "", p, &found, err) < 0) return -1;
    if (!found || strcmp(p->organization_id, ctx->token.organization_id) || !strcmp(p->status, "deleted"))
        return bs_err_set(err, 404, "org/project-not-found", "Project not found");
    return 0;
}

static int env_count(api_ctx *ctx, const char *project_id, int *count)
{
    store_env envs[ENVS_MAX];
    size_t n = 0;
    bs_err err;
    *count = store_control_env_list(ctx->app->control, project_id, envs, ENVS_MAX, &n, &err) == 0 ? (int)n : -1;
    return *count;
}

static void projects_list(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_org o;
    const char *org = http_req_query(req, "organizationId");
    store_project *rows = calloc(PROJECTS_MAX, sizeof *rows);
    size_t n = 0;
    if (!rows) bs_err_internal(&err);
    else if (api_admin_need(ctx, ROLE_USE_PROJECTS, &err) == 0 && load_org(ctx, org ? org : ctx->token.organization_id, &o, &err) == 0)
        store_control_project_list(ctx->app->control, o.id, rows, PROJECTS_MAX, &n, &err);
    if (err.status) {
        free(rows);
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *items = json_object_new_array();
    int envs = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].status, "deleted")) json_object_array_add(items, project_json(&rows[i], env_count(ctx, rows[i].id, &envs)));
    free(rows);
    int64_t total = (int64_t)json_object_array_length(items);
    api_answer_page(res, items, total, 1, total > 0 ? total : 20);
}

/* Creates an environment of project p (plan-gated) and moves it to ready; the database opens on first use. */
static int env_create(api_ctx *ctx, const store_org *o, const store_project *p, const char *name, const char *type, store_env *e,
                      bs_err *err)
{
    const plan *pl = plan_find(o->plan);
    int count = 0, found = 0;
    if (!pl || !(pl->env_types & plan_env_type_bit(type)))
        return bs_err_set(err, 403, "org/plan-limit-exceeded", "The %s plan does not include %s environments", o->plan, type);
    if (env_count(ctx, p->id, &count) < 0) return bs_err_internal(err);
    if (!plan_allows_one_more(pl->max_environments, count))
        return bs_err_set(err, 403, "org/plan-limit-exceeded", "The %s plan allows %lld environments per project", o->plan,
                          (long long)pl->max_environments);
    memset(e, 0, sizeof *e);
    if (keys_new_id("env", e->id) < 0) return bs_err_internal(err);
    snprintf(e->project_id, sizeof e->project_id, "%s", p->id);
    snprintf(e->name, sizeof e->name, "%s", name);
    snprintf(e->type, sizeof e->type, "%s", type);
    snprintf(e->status, sizeof e->status, "creating");
    e->created_at = e->updated_at = clock_now_ms();
    bs_err dup;
    bs_err_clear(&dup);
    if (store_control_env_insert(ctx->app->control, e, &dup) < 0)
        return dup.status == 409 ? bs_err_set(err, 409, "org/environment-exists", "The project already has an environment named %s", name)
                                 : (*err = dup, -1);
    env_stores st = api_env_stores(ctx->app);
    if (env_lifecycle_place(&st, e, err) < 0) { /* §5.7: the environment stays, failed, with the reason logged */
        log_warn("environment %s could not be placed: %s", e->id, err->message);
        snprintf(e->status, sizeof e->status, "failed");
        store_control_env_set_status(ctx->app->control, e->id, "failed", clock_now_ms(), &found, &dup);
        return -1;
    }
    snprintf(e->status, sizeof e->status, "ready"); /* an SQLite environment's database opens on first use */
    return store_control_env_set_status(ctx->app->control, e->id, "ready", clock_now_ms(), &found, err);
}

static void project_create(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    struct json_object *body;
    store_org o;
    store_project p;
    store_env e;
    int64_t count = 0;
    memset(&p, 0, sizeof p);
    if (api_admin_need(ctx, ROLE_MANAGE_PROJECTS, &err) == 0 && body_object(req, &body, &err) == 0 &&
        load_org(ctx, json_get_string(body, "organizationId") ? json_get_string(body, "organizationId") : ctx->token.organization_id, &o, &err) == 0 &&
        text_member(body, "name", 100, 1, p.name, sizeof p.name, &err) == 0 && text_member(body, "slug", 50, 1, p.slug, sizeof p.slug, &err) == 0 &&
        text_member(body, "description", 1000, 0, p.description, sizeof p.description, &err) == 0 &&
        text_member(body, "primaryCloud", 10, 0, p.primary_cloud, sizeof p.primary_cloud, &err) == 0 &&
        text_member(body, "primaryRegion", 50, 0, p.primary_region, sizeof p.primary_region, &err) == 0 &&
        store_control_project_count(ctx->app->control, o.id, &count, &err) == 0) {
        const plan *pl = plan_find(o.plan);
        if (!slug_ok(p.slug)) bs_err_set(&err, 400, "common/invalid-parameters", "slug: 3 to 50 of a-z, 0-9 and '-'");
        else if (!pl || !plan_allows_one_more(pl->max_projects, count))
            bs_err_set(&err, 403, "org/plan-limit-exceeded", "The %s plan allows %lld projects", o.plan, (long long)(pl ? pl->max_projects : 0));
        else if (keys_new_id("proj", p.id) < 0) bs_err_internal(&err);
    }
    if (!err.status) {
        snprintf(p.organization_id, sizeof p.organization_id, "%s", o.id);
        snprintf(p.status, sizeof p.status, "active");
        snprintf(p.settings, sizeof p.settings, "{}");
        p.created_at = p.updated_at = clock_now_ms();
        bs_err dup;
        bs_err_clear(&dup);
        if (store_control_project_insert(ctx->app->control, &p, &dup) < 0)
            dup.status == 409 ? bs_err_set(&err, 409, "org/slug-taken", "The organization already has a project with this slug") : (err = dup, 0);
        else env_create(ctx, &o, &p, "dev", "dev", &e, &err);
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    activity(ctx, o.id, p.id, "project", p.id, "create", p.name);
    struct json_object *j = project_json(&p, 1), *envs = json_object_new_array();
    json_object_array_add(envs, env_json(ctx->app->control, &e));
    json_object_object_add(j, "environments", envs);
    http_res_json(res, 201, j);
    json_object_put(j);
}

static void project_get(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_project p;
    int envs = 0;
    if (api_admin_need(ctx, ROLE_USE_PROJECTS, &err) < 0 || load_project(ctx, http_req_param(req, "projectId"), &p, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *j = project_json(&p, env_count(ctx, p.id, &envs));
    http_res_json(res, 200, j);
    json_object_put(j);
}

/* An http(s) URL without spaces or control characters (webhooks). */
static int url_ok(const char *u)
{
    if ((strncmp(u, "https://", 8) && strncmp(u, "http://", 7)) || strlen(u) > 1000) return 0;
    for (const unsigned char *c = (const unsigned char *)u; *c; c++)
        if (*c <= ' ' || *c == 0x7f) return 0;
    return 1;
}

static int string_list_ok(struct json_object *v, size_t max, int (*ok)(const char *))
{
    if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) > max) return 0;
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        struct json_object *s = json_object_array_get_idx(v, i);
        if (!json_object_is_type(s, json_type_string) || !ok(json_object_get_string(s))) return 0;
    }
    return 1;
}

/* Validates the settings members present in in and merges them into the stored text. */
static int settings_merge(const api_app *app, const store_org *o, struct json_object *in, char *stored, size_t size, bs_err *err)
{
    struct json_object *v, *cur = json_tokener_parse(stored[0] ? stored : "{}");
    const plan *pl = plan_find(o->plan);
    int bad = 0;
    if (!json_object_is_type(in, json_type_object)) bad = 1;
    else if (json_object_object_get_ex(in, "allowedOrigins", &v) && !string_list_ok(v, NETRULES_MAX_ORIGINS, netrules_origin_valid)) bad = 2;
    else if (json_object_object_get_ex(in, "ipWhitelist", &v) && !string_list_ok(v, NETRULES_MAX_IPS, netrules_ip_valid)) bad = 3;
    else if (json_object_object_get_ex(in, "apiCallLimit", &v) && !json_object_is_type(v, json_type_null) &&
             (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 1)) bad = 4;
    else if (json_object_object_get_ex(in, "webhookUrl", &v) && !json_object_is_type(v, json_type_null) &&
             (!json_object_is_type(v, json_type_string) || !url_ok(json_object_get_string(v)))) bad = 5;
    else if (json_object_object_get_ex(in, "webhookUrl", &v) && json_object_is_type(v, json_type_string) &&
             !alerts_webhook_url_allowed(app->allow_private_webhooks, json_object_get_string(v))) bad = 7;
    else if (json_object_object_get_ex(in, "notificationEmail", &v) && !json_object_is_type(v, json_type_null) &&
             (!json_object_is_type(v, json_type_string) || !strchr(json_object_get_string(v), '@') || strlen(json_object_get_string(v)) > 320)) bad = 6;
    static const char *const what[] = {"", "settings must be an object", "allowedOrigins: up to 20 origins like https://app.example.com (no wildcard)",
                                       "ipWhitelist: up to 100 IPv4/IPv6 addresses or CIDR ranges", "apiCallLimit: a positive integer or null",
                                       "webhookUrl: an http(s) URL or null", "notificationEmail: an e-mail address or null",
                                       "webhookUrl: private, loopback, link-local and metadata addresses are refused (--allow-private-webhooks)"};
    if (!bad && json_object_object_get_ex(in, "webhookUrl", &v) && !json_object_is_type(v, json_type_null) && pl &&
        !(pl->features & PLAN_FEATURE_WEBHOOKS)) {
        json_object_put(cur);
        return bs_err_set(err, 403, "org/feature-not-available", "Webhooks need the starter plan or above");
    }
    if (bad) {
        json_object_put(cur);
        return bs_err_set(err, 400, "common/invalid-parameters", "%s", what[bad]);
    }
    static const char *const known[] = {"allowedOrigins", "ipWhitelist", "apiCallLimit", "webhookUrl", "notificationEmail"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (json_object_object_get_ex(in, known[i], &v)) json_object_object_add(cur, known[i], json_object_get(v));
    const char *text = json_object_to_json_string_ext(cur, JSON_C_TO_STRING_PLAIN);
    int rc = strlen(text) < size ? (snprintf(stored, size, "%s", text), 0) : bs_err_set(err, 400, "common/invalid-parameters", "settings too large");
    json_object_put(cur);
    return rc;
}

static void project_patch(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_project p;
    store_org o;
    struct json_object *body, *settings;
    int found = 0;
    if (load_project(ctx, http_req_param(req, "projectId"), &p, &err) == 0 && api_admin_need(ctx, ROLE_EDIT_PROJECT_SETTINGS, &err) == 0 &&
        body_object(req, &body, &err) == 0 && load_org(ctx, p.organization_id, &o, &err) == 0 &&
        text_member(body, "name", 100, 0, p.name, sizeof p.name, &err) == 0 &&
        text_member(body, "description", 1000, 0, p.description, sizeof p.description, &err) == 0 &&
        (!json_object_object_get_ex(body, "settings", &settings) || settings_merge(ctx->app, &o, settings, p.settings, sizeof p.settings, &err) == 0)) {
        if (!p.name[0]) bs_err_set(&err, 400, "common/invalid-parameters", "name must not be empty");
        else if (json_object_object_get_ex(body, "slug", NULL) && strcmp(json_get_string(body, "slug") ? json_get_string(body, "slug") : "", p.slug))
            bs_err_set(&err, 400, "common/invalid-parameters", "slug cannot change");
        else {
            p.updated_at = clock_now_ms();
            store_control_project_update(ctx->app->control, &p, &found, &err);
        }
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    fleet_bus_publish(ctx->app->bus, FLEET_PROJECT, p.id); /* new origins and addresses apply to the next request, fleet-wide */
    activity(ctx, p.organization_id, p.id, "project", p.id, "update", "project settings changed");
    int envs = 0;
    struct json_object *j = project_json(&p, env_count(ctx, p.id, &envs));
    http_res_json(res, 200, j);
    json_object_put(j);
}

static void project_delete(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_project p;
    int found = 0;
    const char *id = http_req_param(req, "projectId");
    /* a project marked deleted by an interrupted DELETE is finished off by the next one */
    if (api_admin_need(ctx, ROLE_MANAGE_PROJECTS, &err) == 0 && store_control_project_get(ctx->app->control, id, &p, &found, &err) == 0) {
        if (!found || strcmp(p.organization_id, ctx->token.organization_id)) bs_err_set(&err, 404, "org/project-not-found", "Project not found");
        else if (project_remove(ctx, &p, &err) == 0) activity(ctx, p.organization_id, NULL, "project", p.id, "delete", p.name);
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    api_message(res, 200, "Project deleted");
}

/* ---- environments ---- */

static int env_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 30 || s[0] == '-') return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-')) return 0;
    return 1;
}

static void envs_list(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_project p;
    store_env envs[ENVS_MAX];
    size_t n = 0;
    if (api_admin_need(ctx, ROLE_USE_PROJECTS, &err) < 0 || load_project(ctx, http_req_param(req, "projectId"), &p, &err) < 0 ||
        store_control_env_list(ctx->app->control, p.id, envs, ENVS_MAX, &n, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *items = json_object_new_array();
    for (size_t i = 0; i < n; i++) json_object_array_add(items, env_json(ctx->app->control, &envs[i]));
    api_answer_page(res, items, (int64_t)n, 1, n ? (int64_t)n : 20);
}

static void env_post(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_project p;
    store_org o;
    store_env e;
    struct json_object *body;
    if (api_admin_need(ctx, ROLE_MANAGE_ENVIRONMENTS, &err) == 0 && load_project(ctx, http_req_param(req, "projectId"), &p, &err) == 0 &&
        body_object(req, &body, &err) == 0 && load_org(ctx, p.organization_id, &o, &err) == 0) {
        const char *name = json_get_string(body, "environment"), *type = json_get_string(body, "environmentType");
        if (!type && name && plan_env_type_bit(name)) type = name; /* {environment: "staging"} alone */
        if (!env_name_ok(name)) bs_err_set(&err, 400, "common/invalid-parameters", "environment: 1 to 30 of a-z, 0-9 and '-'");
        else if (!plan_env_type_bit(type)) bs_err_set(&err, 400, "common/invalid-parameters", "environmentType: dev, staging, prod or custom");
        else if (env_create(ctx, &o, &p, name, type, &e, &err) == 0) api_env_activity(ctx, &e, "environment", e.id, "create", "%s", name);
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *j = env_json(ctx->app->control, &e);
    http_res_json(res, 201, j);
    json_object_put(j);
}

static int load_env(api_ctx *ctx, http_req *req, store_project *p, store_env *e, bs_err *err)
{
    int found = 0;
    if (load_project(ctx, http_req_param(req, "projectId"), p, err) < 0 ||
        store_control_env_find(ctx->app->control, p->id, http_req_param(req, "env"), e, &found, err) < 0)
        return -1;
    return found ? 0 : bs_err_set(err, 404, "data/environment-not-found", "Environment not found");
}

static void env_get(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_project p;
    store_env e;
    if (api_admin_need(ctx, ROLE_USE_PROJECTS, &err) < 0 || load_env(ctx, req, &p, &e, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *j = env_json(ctx->app->control, &e);
    http_res_json(res, 200, j);
    json_object_put(j);
}

static void env_delete(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_project p;
    store_env e;
    env_stores st = api_env_stores(ctx->app);
    if (api_admin_need(ctx, ROLE_MANAGE_ENVIRONMENTS, &err) == 0 && load_env(ctx, req, &p, &e, &err) == 0 && env_lifecycle_remove(&st, &e, &err) == 0)
        api_env_activity(ctx, &e, "environment", e.id, "delete", "%s", e.name);
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    api_message(res, 200, "Environment deleted");
}

/* DELETE .../environments/:env/scheduled-deletion: a shut-down environment stays, shut down, until used. */
static void env_keep(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_project p;
    store_env e;
    int found = 0;
    if (api_admin_need(ctx, ROLE_MANAGE_ENVIRONMENTS, &err) == 0 && load_env(ctx, req, &p, &e, &err) == 0 &&
        store_control_env_cancel_deletion(ctx->app->control, e.id, &found, &err) == 0 && !found)
        bs_err_set(&err, 409, "org/no-deletion-scheduled", "The environment has no scheduled deletion");
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    api_env_activity(ctx, &e, "environment", e.id, "deletion cancelled", "%s", e.name);
    e.delete_at = 0;
    struct json_object *j = env_json(ctx->app->control, &e);
    http_res_json(res, 200, j);
    json_object_put(j);
}

int api_admin_platform_register(http_router *router, api_app *app)
{
    http_route_opts json = {.body = HTTP_BODY_JSON, .max_body = 64 * 1024};
    const struct { unsigned m; const char *path; api_handler_fn fn; int body; } routes[] = {
        {HTTP_GET, "/admin/v1/organizations", orgs_list, 0},
        {HTTP_POST, "/admin/v1/organizations", org_create, 1},
        {HTTP_GET, "/admin/v1/organizations/:orgId", org_get, 0},
        {HTTP_PATCH, "/admin/v1/organizations/:orgId", org_patch, 1},
        {HTTP_DELETE, "/admin/v1/organizations/:orgId", org_delete, 0},
        {HTTP_GET, "/admin/v1/organizations/:orgId/plan", plan_get, 0},
        {HTTP_PUT, "/admin/v1/organizations/:orgId/plan", plan_put, 1},
        {HTTP_GET, "/admin/v1/organizations/:orgId/activity", activity_list, 0},
        {HTTP_POST, "/admin/v1/organizations/:orgId/access-tokens", token_create, 1},
        {HTTP_GET, "/admin/v1/projects", projects_list, 0},
        {HTTP_POST, "/admin/v1/projects", project_create, 1},
        {HTTP_GET, "/admin/v1/projects/:projectId", project_get, 0},
        {HTTP_PATCH, "/admin/v1/projects/:projectId", project_patch, 1},
        {HTTP_DELETE, "/admin/v1/projects/:projectId", project_delete, 0},
        {HTTP_GET, "/admin/v1/projects/:projectId/environments", envs_list, 0},
        {HTTP_POST, "/admin/v1/projects/:projectId/environments", env_post, 1},
        {HTTP_GET, "/admin/v1/projects/:projectId/environments/:env", env_get, 0},
        {HTTP_DELETE, "/admin/v1/projects/:projectId/environments/:env", env_delete, 0},
        {HTTP_DELETE, "/admin/v1/projects/:projectId/environments/:env/scheduled-deletion", env_keep, 0},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (api_route_admin(router, app, routes[i].m, routes[i].path, routes[i].fn, routes[i].body ? &json : NULL) < 0) return -1;
    return 0;
}
