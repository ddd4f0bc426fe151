/* admin_common: pieces every /admin/v1 surface shares (environment resolution, paging, the activity log). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin_tables.h"
#include "api/api.h"
#include "core/roles.h"
#include "util/clock.h"

/* Resolves :projectId/:env and checks the caller may act on it. */
int api_admin_env(api_ctx *ctx, http_req *req, int writes, store_env *env, bs_err *err)
{
    const char *pid = http_req_param(req, "projectId"), *name = http_req_param(req, "env");
    store_project project;
    int found = 0;
    if (store_control_project_get(ctx->app->control, pid, &project, &found, err) < 0) return -1;
    int allowed = found;
    if (found && ctx->caller == API_CALLER_OPERATOR)
        allowed = strcmp(project.organization_id, ctx->token.organization_id) == 0;
    if (found && ctx->caller == API_CALLER_ENV_SECRET)
        allowed = strcmp(ctx->key.project_id, pid) == 0 && strcmp(ctx->key.environment, name) == 0;
    if (!allowed) return bs_err_set(err, 404, "org/project-not-found", "Project not found");
    if (store_control_env_find(ctx->app->control, pid, name, env, &found, err) < 0) return -1;
    if (!found) return bs_err_set(err, 404, "data/environment-not-found", "Environment not found");
    if (ctx->caller == API_CALLER_OPERATOR) {
        const char *role = ctx->token.role;
        int may_write = strcmp(role, "owner") == 0 || strcmp(role, "admin") == 0;
        if (strcmp(role, "billing") == 0 || (writes && !may_write))
            return bs_err_set(err, 403, "org/permission-denied", "Your role may not change this environment");
    }
    return 0;
}


const char *api_admin_actor(const api_ctx *ctx)
{
    return ctx->caller == API_CALLER_OPERATOR ? ctx->token.token_id : ctx->key.key_id;
}

void api_answer_page(http_res *res, struct json_object *items, int64_t total, int64_t page, int64_t limit)
{
    struct json_object *out = json_object_new_object(), *p = json_object_new_object();
    int64_t pages = (total + limit - 1) / limit;
    json_object_object_add(p, "total", json_object_new_int64(total));
    json_object_object_add(p, "page", json_object_new_int64(page));
    json_object_object_add(p, "limit", json_object_new_int64(limit));
    json_object_object_add(p, "totalPages", json_object_new_int64(pages));
    json_object_object_add(p, "hasNext", json_object_new_boolean(page < pages));
    json_object_object_add(p, "hasPrev", json_object_new_boolean(page > 1));
    json_object_object_add(p, "hasNextPage", json_object_new_boolean(page < pages));
    json_object_object_add(p, "hasPrevPage", json_object_new_boolean(page > 1));
    json_object_object_add(out, "items", items);
    json_object_object_add(out, "pagination", p);
    http_res_json(res, 200, out);
    json_object_put(out);
}

int64_t api_query_int(http_req *req, const char *name, int64_t dflt, int64_t max)
{
    const char *t = http_req_query(req, name);
    char *end;
    long long v = t ? strtoll(t, &end, 10) : 0;
    if (!t || *end || v < 1) return dflt;
    return v > max ? max : v;
}

void api_message(http_res *res, int status, const char *text)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "message", json_object_new_string(text));
    http_res_json(res, status, o);
    json_object_put(o);
}

void api_json_time(struct json_object *obj, const char *name, int64_t ms)
{
    char iso[CLOCK_ISO_LEN];
    if (!ms) {
        json_object_object_add(obj, name, NULL);
        return;
    }
    clock_iso8601(ms, iso);
    json_object_object_add(obj, name, json_object_new_string(iso));
}

/* The activity log entry of a management change (best effort: the change itself is done). The actor is
 * the acting member for a member-bound token, else the token (or the environment key). */
void api_activity(api_ctx *ctx, const char *org, const char *project, const char *entity_type, const char *entity_id,
                  const char *action, const char *message)
{
    store_activity a;
    bs_err err;
    memset(&a, 0, sizeof a);
    int member = ctx->caller == API_CALLER_OPERATOR && ctx->token.member_id[0];
    snprintf(a.organization_id, sizeof a.organization_id, "%s", org);
    snprintf(a.project_id, sizeof a.project_id, "%s", project ? project : "");
    snprintf(a.actor, sizeof a.actor, "%s", member ? ctx->token.member_id : api_admin_actor(ctx));
    snprintf(a.actor_type, sizeof a.actor_type, "%s", member ? "member" : ctx->caller == API_CALLER_OPERATOR ? "token" : "key");
    snprintf(a.entity_type, sizeof a.entity_type, "%s", entity_type);
    snprintf(a.entity_id, sizeof a.entity_id, "%s", entity_id);
    snprintf(a.action, sizeof a.action, "%s", action);
    snprintf(a.message, sizeof a.message, "%s", message);
    a.at = clock_now_ms();
    bs_err_clear(&err);
    store_control_activity_add(ctx->app->control, &a, &err);
}

int api_admin_need(api_ctx *ctx, role_action action, bs_err *err)
{
    if (ctx->caller != API_CALLER_OPERATOR)
        return bs_err_set(err, 403, "org/permission-denied", "Only operator tokens may %s", role_action_name(action));
    if (!role_may(ctx->token.role, action))
        return bs_err_set(err, 403, "org/permission-denied", "A %s may not %s", ctx->token.role, role_action_name(action));
    return 0;
}

int api_admin_org(api_ctx *ctx, http_req *req, role_action action, store_org *org, bs_err *err)
{
    const char *id = http_req_param(req, "orgId");
    int found = 0;
    if (ctx->caller != API_CALLER_OPERATOR) return api_admin_need(ctx, action, err);
    if (!id || strcmp(id, ctx->token.organization_id)) return bs_err_set(err, 404, "org/not-found", "Organization not found");
    if (store_control_org_get(ctx->app->control, id, org, &found, err) < 0) return -1;
    if (!found || !strcmp(org->status, "deleted")) return bs_err_set(err, 404, "org/not-found", "Organization not found");
    return api_admin_need(ctx, action, err);
}

void api_answer_rows(http_res *res, const bs_err *err, void *rows, size_t n, size_t size,
                     struct json_object *(*to_json)(const void *row), int64_t total, int64_t page, int64_t limit)
{
    if (err->status) {
        free(rows);
        http_res_error_from(res, err);
        return;
    }
    struct json_object *items = json_object_new_array();
    for (size_t i = 0; i < n; i++) json_object_array_add(items, to_json((const char *)rows + i * size));
    free(rows);
    api_answer_page(res, items, total, page, limit);
}
