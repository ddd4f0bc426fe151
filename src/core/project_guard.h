/* project_guard: checks a /v1 request against its project's allowedOrigins and ipWhitelist (core/
 * netrules) and tells its daily apiCallLimit, with both cached per project for ttl_ms (--key-cache-ms). A
 * settings change applies at once through project_guard_forget, called by core/fleet_bus (on every
 * instance of a fleet with --redis; ttl_ms bounds staleness only while Redis is unreachable). Most
 * projects have no rules: their entry costs no allocation.
 * Ownership: project_guard_new borrows the store, which must outlive it. Thread-safe. */
#ifndef BASALT_CORE_PROJECT_GUARD_H
#define BASALT_CORE_PROJECT_GUARD_H

#include "store/control.h"
#include "util/err.h"

typedef struct project_guard project_guard;

project_guard *project_guard_new(store_control *store, int ttl_ms);
void project_guard_free(project_guard *g);
/* 0 when the request may proceed; otherwise 403 cors/origin-not-allowed (origin: the Origin header or
 * NULL) or 403 org/ip-not-allowed (ip: the client address). *origin_refused = 1 for the former, so the
 * caller can leave CORS headers off the answer. */
int project_guard_check(project_guard *g, const char *project_id, const char *origin, const char *ip, int *origin_refused,
                        bs_err *err);
/* The same, also answering the project's daily apiCallLimit (-1 when it has none). */
int project_guard_check_limit(project_guard *g, const char *project_id, const char *origin, const char *ip, int *origin_refused,
                              int64_t *daily_limit, bs_err *err);
void project_guard_forget(project_guard *g, const char *project_id);
void project_guard_forget_all(project_guard *g);

#endif
