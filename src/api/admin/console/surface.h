/* The web console's server side: signing in and out (session.c: /admin/v1/console/session), the one-time
 * sign-in link (/console/signin) and the console's files with their security headers (pages.c: /console/,
 * /console/vendor/chart.js). Registered by api/register.c. */
#ifndef BASALT_API_ADMIN_CONSOLE_SURFACE_H
#define BASALT_API_ADMIN_CONSOLE_SURFACE_H

#include "api/route.h"

int api_console_session_register(http_router *router, api_app *app);
int api_console_pages_register(http_router *router, api_app *app);

#endif
