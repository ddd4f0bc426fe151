#include "api/admin_gate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

/* The one writer of the activity log (best effort: the change itself is done). The actor is the acting
 * member for a member-bound token, else the token (or the environment key). */
static void activity_write(api_ctx *ctx, const char *org, const char *project, const char *environment,
                           const char *entity_type, const char *entity_id, const char *action, const char *message)
{
    store_activity a;
    bs_err err;
    memset(&a, 0, sizeof a);
    int member = ctx->caller == API_CALLER_OPERATOR && ctx->token.member_id[0];
    snprintf(a.organization_id, sizeof a.organization_id, "%s", org);
    snprintf(a.project_id, sizeof a.project_id, "%s", project ? project : "");
    snprintf(a.environment, sizeof a.environment, "%s", environment ? environment : "");
    snprintf(a.actor, sizeof a.actor, "%s", member ? ctx->token.member_id : api_admin_actor(ctx));
    snprintf(a.actor_type, sizeof a.actor_type, "%s", member ? "member" : ctx->caller == API_CALLER_OPERATOR ? "token" : "key");
    snprintf(a.entity_type, sizeof a.entity_type, "%s", entity_type);
    snprintf(a.entity_id, sizeof a.entity_id, "%s", entity_id ? entity_id : "");
    snprintf(a.action, sizeof a.action, "%s", action);
    snprintf(a.message, sizeof a.message, "%s", message ? message : "");
    a.at = clock_now_ms();
    bs_err_clear(&err);
    store_control_activity_add(ctx->app->control, &a, &err);
}

void api_activity(api_ctx *ctx, const char *org, const char *project, const char *entity_type, const char *entity_id,
                  const char *action, const char *message)
{
    activity_write(ctx, org, project, NULL, entity_type, entity_id, action, message);
}

void api_env_activity(api_ctx *ctx, const store_env *env, const char *entity_type, const char *entity_id,
                      const char *action, const char *fmt, ...)
{
    char message[sizeof ((store_activity *)0)->message];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof message) { /* cut: never in the middle of a UTF-8 character (a long file name) */
        size_t end = sizeof message - 1;
        while (end > 0 && ((unsigned char)message[end - 1] & 0xC0) == 0x80) end--;
        if (end > 0 && ((unsigned char)message[end - 1] & 0x80)) end--;
        message[end] = '\0';
    }
    const char *org = ctx->caller == API_CALLER_OPERATOR ? ctx->token.organization_id : ctx->key.organization_id;
    activity_write(ctx, org, env->project_id, env->name, entity_type, entity_id, action, message);
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
