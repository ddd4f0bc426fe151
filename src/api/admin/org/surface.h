/* The management API of organizations, projects and environments (platform.c), the team (team.c), usage
 * (usage.c) and usage alerts (alerts.c). Registered by api/register.c. */
#ifndef BASALT_API_ADMIN_ORG_SURFACE_H
#define BASALT_API_ADMIN_ORG_SURFACE_H

#include "api/route.h"

int api_admin_platform_register(http_router *router, api_app *app);
int api_admin_team_register(http_router *router, api_app *app);
int api_admin_usage_register(http_router *router, api_app *app);
int api_alerts_register(http_router *router, api_app *app);

#endif
