/* pipeline: how a /v1 request is admitted, in one place (docs/data-api.md "Admission"). Every /v1 route
 * is added here and runs these named stages in this order, the first refusal answering:
 *   key      the X-API-Key (or, on a mailed link's route, ?env=) names a live environment  (401, 404)
 *   meter    from here on the call is metered: its completion is counted for the environment
 *   guard    the project's allowedOrigins and ipWhitelist                                  (403)
 *   quota    the organization's monthly API calls and the project's daily cap (X-RateLimit-*) (429)
 *   touch    the environment's last use (a shut-down environment comes back)
 *   user     the "Authorization: Bearer" access token, unless the route ignores it         (401)
 *   session  on live-session routes (/v1/users, /v1/files) the token's session still lives  (401)
 *   scope    a scoped secret key's rights on the route's surface                            (403)
 *   body     the JSON body, parsed only now (a stranger learns nothing from it)             (400, 413, 415)
 *   gate     the route's own usage gate, declared with it: bandwidth or storage             (429)
 *   handler  the surface's handler (its own checks: table 404, permissions 403, ...)
 *   meter end the completed exchange (status, time, bytes) is recorded by the meter
 * The quota and gate stages, and the usage checks surfaces make inside their handlers (MAU on sign-in and
 * sign-up), are api/v1/quota.h.
 * Ownership: routes are added at start-up and live as long as the process. */
#ifndef BASALT_API_V1_PIPELINE_H
#define BASALT_API_V1_PIPELINE_H

#include <stdint.h>

#include "api/route.h"

/* The usage gate of a route, run after the body stage: past the organization's monthly quota of the
 * metric, 429 usage/quota-exceeded. */
typedef enum api_quota_gate { API_GATE_NONE = 0, API_GATE_BANDWIDTH, API_GATE_STORAGE } api_quota_gate;

/* A /v1 route: every stage. */
int api_route_v1(http_router *router, api_app *app, unsigned methods, const char *pattern, api_handler_fn fn,
                 const http_route_opts *opts);
/* A /v1 route with a usage gate (record bodies and downloads: bandwidth; new uploads: storage). */
int api_route_v1_gated(http_router *router, api_app *app, unsigned methods, const char *pattern, api_handler_fn fn,
                       const http_route_opts *opts, api_quota_gate gate);
/* A /v1 route opened from a mailed link: a key when one is sent, else the environment named by ?env=
 * (key_type "link"); Authorization is ignored. */
int api_route_v1_link(http_router *router, api_app *app, unsigned methods, const char *pattern, api_handler_fn fn,
                      const http_route_opts *opts);
/* A /v1 route that checks the key but ignores any Authorization header (sign-up, sign-in, refresh). */
int api_route_v1_public(http_router *router, api_app *app, unsigned methods, const char *pattern, api_handler_fn fn,
                        const http_route_opts *opts);

/* What handlers add to the call's metering (docs/usage.md): records read and written by the data API, and
 * end users active this month (MAU). No-ops when metering is off. */
void api_meter_db(http_req *req, int64_t reads, int64_t writes);
void api_meter_mau(api_ctx *ctx, const char *user_id);

#endif
