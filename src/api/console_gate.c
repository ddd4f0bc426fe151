#include "api/console_gate.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/cookie.h"
#include "util/clock.h"

int api_console_cookie(const http_req *req, char out[CONSOLE_SECRET_MAX + 1])
{
    return http_req_cookie(req, API_CONSOLE_COOKIE, out, CONSOLE_SECRET_MAX + 1);
}

static int changes_state(const http_req *req)
{
    http_method m = http_req_method(req);
    return m != HTTP_GET && m != HTTP_HEAD && m != HTTP_OPTIONS;
}

int api_console_session(api_app *app, http_req *req, int check_csrf, store_console_session *s, bs_err *err)
{
    char cookie[CONSOLE_SECRET_MAX + 1];
    if (!api_console_cookie(req, cookie)) return bs_err_set(err, 401, "auth/unauthorized", "No console session");
    if (console_session_verify(app->control, cookie, clock_now_ms(), s, err) < 0) return -1;
    if (check_csrf && changes_state(req) && !console_csrf_matches(s, http_req_header(req, API_CONSOLE_CSRF_HEADER)))
        return bs_err_set(err, 403, "auth/csrf-invalid", "The X-CSRF-Token header is missing or does not match the console session");
    return 0;
}

static int loopback(const char *ip)
{
    return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0 || strncmp(ip, "::ffff:127.", 11) == 0;
}

int api_console_secure(const api_app *app, const http_req *req)
{
    if (app->cookie_secure != 0) return app->cookie_secure > 0;
    if (app->public_url && strncasecmp(app->public_url, "https://", 8) == 0) return 1;
    const char *proto = http_req_header(req, "X-Forwarded-Proto");
    return proto && strcasecmp(proto, "https") == 0 && loopback(http_req_client_ip(req));
}

void api_console_set_cookie(const api_app *app, http_req *req, http_res *res, const char *value, long max_age)
{
    char line[256];
    if (http_cookie_format(line, sizeof line, API_CONSOLE_COOKIE, value, "/", max_age, api_console_secure(app, req)) == 0)
        http_res_header(res, "Set-Cookie", line);
}
