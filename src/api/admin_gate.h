/* admin_gate: the checks a management handler makes after its entry verified the credential
 * (api/route.c): which environment or organization the path names and whether the caller's role may act
 * on it; and the activity log every management change writes (platform.md §8). */
#ifndef BASALT_API_ADMIN_GATE_H
#define BASALT_API_ADMIN_GATE_H

#include "api/route.h"

/* Resolves the :projectId/:env of an admin path and checks the caller may act on it (writes: change
 * it). 404 org/project-not-found, 404 data/environment-not-found, 403 org/permission-denied. */
int api_admin_env(api_ctx *ctx, http_req *req, int writes, store_env *env, bs_err *err);
/* 0 when the caller is an operator token whose role may do action, else 403 org/permission-denied. */
int api_admin_need(api_ctx *ctx, role_action action, bs_err *err);
/* The caller's organization :orgId (404 org/not-found for any other or a deleted one), then api_admin_need. */
int api_admin_org(api_ctx *ctx, http_req *req, role_action action, store_org *org, bs_err *err);

/* Writes one activity-log entry for a management change (platform.md §8), best effort: the actor is the
 * acting member of a member-bound token, else the token or key. */
void api_activity(api_ctx *ctx, const char *org, const char *project, const char *entity_type, const char *entity_id,
                  const char *action, const char *message);
/* The same for a change inside an environment (its tables, keys, auth settings, users, files): the entry
 * names the environment's organization, project and environment; the message is formatted like printf. */
void api_env_activity(api_ctx *ctx, const store_env *env, const char *entity_type, const char *entity_id,
                      const char *action, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Who makes a management change, for version history: the operator token id or the secret key id. */
const char *api_admin_actor(const api_ctx *ctx);

#endif
