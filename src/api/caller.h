/* caller: who a /v1 request acts for, as the surfaces ask it: the signed-in user and the session of its
 * token (core/accounts), the user a /v1/users/:userId path names, and whether the caller has admin rights
 * (an admin-role user, or a secret key whose rights apply on the route). */
#ifndef BASALT_API_CALLER_H
#define BASALT_API_CALLER_H

#include "api/route.h"
#include "store/users.h"

/* The token's session is still alive (s: it, or zeroed for a token without one): else 401
 * auth/invalid-token (ended) or auth/unauthorized (no user token). */
int api_session_alive(api_ctx *ctx, store_session *s, bs_err *err);
/* The caller's user and live session: 401 auth/unauthorized without a user token, 401
 * auth/invalid-token when its session ended, 404 auth/user-not-found when the user is gone. */
int api_current_user(api_ctx *ctx, store_user *u, store_session *s, bs_err *err);
/* Loads :userId for a caller who must be that user or an admin when need_self_or_admin (403
 * user/forbidden otherwise; 401 user/unauthorized without any user or secret key); *self tells which. */
int api_target_user(api_ctx *ctx, http_req *req, int need_self_or_admin, store_user *u, int *self, bs_err *err);
/* 1 for a secret key with admin rights on the route, or a signed-in user of role admin. */
int api_caller_is_admin(const api_ctx *ctx);
/* Records an account event of this request (its client address and User-Agent) in the audit trail. */
void api_audit(api_ctx *ctx, http_req *req, const char *event, const char *user_id, const char *email, const char *detail);

#endif
