/* The instance operator's surface, /admin/v1/operator/... (docs/management-api.md "Instance operator"):
 * moving an environment between clusters and reading the clusters. The instance operator is no member of
 * any organization: these routes take only the secret of --operator-token-file, as
 * "Authorization: Bearer <secret>" (compared in constant time). Without that option every route answers
 * 404 common/not-found; a missing or wrong secret answers 401 auth/unauthorized. Registered by
 * api/register.c (before the /admin/v1 catch-all). */
#ifndef BASALT_API_ADMIN_OPERATOR_SURFACE_H
#define BASALT_API_ADMIN_OPERATOR_SURFACE_H

#include "api/route.h"

int api_operator_register(http_router *router, api_app *app);

#endif
