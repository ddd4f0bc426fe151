#include "api/caller.h"

#include <stdio.h>
#include <string.h>

#include "core/accounts.h"
#include "util/clock.h"

int api_session_alive(api_ctx *ctx, store_session *s, bs_err *err)
{
    if (!ctx->has_user) return bs_err_set(err, 401, "auth/unauthorized", "A signed-in user is required");
    return accounts_session_alive(ctx->app->docs, ctx->key.environment_id, ctx->user.jti, s, err);
}

int api_current_user(api_ctx *ctx, store_user *u, store_session *s, bs_err *err)
{
    int found = 0;
    if (api_session_alive(ctx, s, err) < 0) return -1;
    if (store_users_by_id(ctx->app->docs, ctx->key.environment_id, ctx->user.sub, u, &found, err) < 0) return -1;
    return found ? 0 : bs_err_set(err, 404, "auth/user-not-found", "User not found");
}

int api_caller_is_admin(const api_ctx *ctx)
{
    return ctx->key_admin || (ctx->has_user && strcmp(ctx->user.role, "admin") == 0);
}

int api_target_user(api_ctx *ctx, http_req *req, int need_self_or_admin, store_user *u, int *self, bs_err *err)
{
    const char *id = http_req_param(req, "userId");
    int found = 0;
    *self = ctx->has_user && strcmp(ctx->user.sub, id) == 0;
    if (!ctx->has_user && !api_caller_is_admin(ctx)) return bs_err_set(err, 401, "user/unauthorized", "A signed-in user is required");
    if (*self) {
        store_session s;
        return api_current_user(ctx, u, &s, err); /* checks the session too */
    }
    if (need_self_or_admin && !api_caller_is_admin(ctx)) return bs_err_set(err, 403, "user/forbidden", "Only the user or an admin may do this");
    if (store_users_by_id(ctx->app->docs, ctx->key.environment_id, id, u, &found, err) < 0) return -1;
    return found ? 0 : bs_err_set(err, 404, "user/not-found", "User not found");
}

void api_audit(api_ctx *ctx, http_req *req, const char *event, const char *user_id, const char *email, const char *detail)
{
    store_audit a;
    memset(&a, 0, sizeof a);
    a.at = clock_now_ms();
    snprintf(a.event, sizeof a.event, "%s", event);
    snprintf(a.user_id, sizeof a.user_id, "%s", user_id ? user_id : "");
    snprintf(a.email, sizeof a.email, "%s", email ? email : "");
    snprintf(a.ip, sizeof a.ip, "%s", http_req_client_ip(req));
    const char *agent = http_req_header(req, "User-Agent");
    snprintf(a.user_agent, sizeof a.user_agent, "%s", agent ? agent : "");
    snprintf(a.detail, sizeof a.detail, "%s", detail ? detail : "");
    accounts_audit(ctx->app->docs, ctx->key.environment_id, ctx->app->audit_retention_ms, &a);
}
