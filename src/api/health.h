/* health: /healthz, /metrics and / (health.c). Registered by api/register.c. */
#ifndef BASALT_API_HEALTH_H
#define BASALT_API_HEALTH_H

#include "api/route.h"

int api_health_register(http_router *router, api_app *app);

#endif
