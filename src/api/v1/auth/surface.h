/* The auth surface: end users' sign-up, sign-in, tokens, sessions, MFA, mailed links, OAuth (/v1/auth),
 * users and their settings (/v1/users), invitations, and the environment's auth settings and providers under
 * /admin/v1. Registered by api/register.c. */
#ifndef BASALT_API_V1_AUTH_SURFACE_H
#define BASALT_API_V1_AUTH_SURFACE_H

#include "api/route.h"

int api_auth_register(http_router *router, api_app *app);
int api_users_register(http_router *router, api_app *app);
int api_mfa_register(http_router *router, api_app *app);
int api_mail_flows_register(http_router *router, api_app *app);
int api_auth_settings_register(http_router *router, api_app *app);
int api_user_settings_register(http_router *router, api_app *app);
int api_invitations_register(http_router *router, api_app *app);
int api_oauth_register(http_router *router, api_app *app);
int api_oauth_redirect_register(http_router *router, api_app *app);

#endif
