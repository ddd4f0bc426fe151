/* console_gate: the web console's session cookie as a management credential (docs/management-api.md
 * "Console sessions", docs/security.md). The management entry (api/route.c) takes it when a request has
 * no Authorization header and no secret key: the session's token stands in for a bearer token, and a
 * request other than GET, HEAD or OPTIONS must carry the session's CSRF token in X-CSRF-Token. The console
 * surface (api/admin/console/) signs in and out with the cookie helpers here. */
#ifndef BASALT_API_CONSOLE_GATE_H
#define BASALT_API_CONSOLE_GATE_H

#include "api/route.h"
#include "core/console_session.h"

#define API_CONSOLE_COOKIE "basalt_console"
#define API_CONSOLE_CSRF_HEADER "X-CSRF-Token"

/* The request's console cookie value into out: 1 when it has one (of a plausible length), else 0. */
int api_console_cookie(const http_req *req, char out[CONSOLE_SECRET_MAX + 1]);
/* The live session of the request's cookie (401 auth/unauthorized otherwise); when check_csrf and the
 * method changes state, 403 auth/csrf-invalid unless X-CSRF-Token equals the session's CSRF token. */
int api_console_session(api_app *app, http_req *req, int check_csrf, store_console_session *s, bs_err *err);
/* Sets the console cookie to value for max_age seconds (0 with value "": clears it); Secure per
 * api_console_secure. */
void api_console_set_cookie(const api_app *app, http_req *req, http_res *res, const char *value, long max_age);
/* 1 when the cookie must be Secure: --cookie-secure always, or auto and the public URL is https, or the
 * request came through a reverse proxy on this host (a loopback peer) with X-Forwarded-Proto: https. */
int api_console_secure(const api_app *app, const http_req *req);

#endif
