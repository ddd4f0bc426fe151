/* The management API of one environment's keys and its end users' audit trail. Registered by
 * api/register.c. */
#ifndef BASALT_API_ADMIN_ENV_SURFACE_H
#define BASALT_API_ADMIN_ENV_SURFACE_H

#include "api/route.h"

int api_admin_keys_register(http_router *router, api_app *app);
int api_admin_audit_register(http_router *router, api_app *app);
int api_admin_reads_register(http_router *router, api_app *app); /* reads.c: records, files */

#endif
