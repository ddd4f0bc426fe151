/* The data surface (/v1/data, /v1/batch, /v1/:shorttable): records of an environment's tables (data.c).
 * Registered by api/register.c. */
#ifndef BASALT_API_V1_DATA_SURFACE_H
#define BASALT_API_V1_DATA_SURFACE_H

#include "api/route.h"

int api_data_register(http_router *router, api_app *app);

#endif
