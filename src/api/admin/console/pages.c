/* pages: what the browser loads under /console/ (docs/security.md "The web console"):
 *   GET /console/{path}           the files of the console directory (http/static.h: no "..", no hidden
 *                                 files, no symlinks out), HTML with Cache-Control: no-store
 *   GET /console/vendor/chart.js  the chart library from Debian's libjs-chart.js (--console-chart-js)
 *   GET /console/signin?code=...  uses a one-time sign-in link (`basalt console link`): 303 to /console/
 *                                 with the session cookie, or to /console/?signin=expired without one
 *   GET /console                  308 to /console/
 * Every answer carries the console's Content-Security-Policy, X-Content-Type-Options: nosniff and
 * Referrer-Policy: no-referrer (a sign-in code in a URL never leaks through Referer). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/admin/console/surface.h"
#include "api/admin_gate.h"
#include "api/console_gate.h"
#include "util/clock.h"

#define CONSOLE_CSP                                                                                           \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self';"     \
    " font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

static void security_headers(http_res *res, int nosniff)
{
    http_res_header(res, "Content-Security-Policy", CONSOLE_CSP);
    http_res_header(res, "Referrer-Policy", "no-referrer");
    if (nosniff) http_res_header(res, "X-Content-Type-Options", "nosniff");
}

static void console_files(http_req *req, http_res *res, void *data)
{
    api_app *app = data;
    if (!app->console) {
        security_headers(res, 1);
        http_res_error(res, 404, "common/not-found", "The console is not installed (see --console-dir)");
        return;
    }
    security_headers(res, 0); /* http_static_handler adds nosniff itself */
    http_static_handler(req, res, app->console);
}

static void chart_library(http_req *req, http_res *res, void *data)
{
    api_app *app = data;
    security_headers(res, 1);
    struct stat sb;
    int fd = app->chart_js && *app->chart_js ? open(app->chart_js, O_RDONLY | O_CLOEXEC) : -1;
    if (fd >= 0 && (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))) {
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        http_res_error(res, 404, "common/not-found",
                       "The chart library is not installed (apt-get install libjs-chart.js, or set --console-chart-js)");
        return;
    }
    http_res_header(res, "Cache-Control", "no-cache");
    http_res_file(res, 200, "text/javascript; charset=utf-8", fd, (uint64_t)sb.st_size);
}

static void redirect(http_res *res, int status, const char *location)
{
    http_res_header(res, "Location", location);
    http_res_header(res, "Cache-Control", "no-store");
    http_res_status(res, status);
}

/* The activity log entry of a link sign-in (best effort), as the session's owner token. */
static void link_activity(api_app *app, const store_console_session *s)
{
    api_ctx ctx = {.app = app, .caller = API_CALLER_OPERATOR, .token = s->token};
    api_activity(&ctx, s->token.organization_id, NULL, "token", s->token.token_id, "create",
                 "Signed in to the console with a one-time link");
}

static void link_sign_in(http_req *req, http_res *res, void *data)
{
    api_app *app = data;
    bs_err err;
    bs_err_clear(&err);
    security_headers(res, 1);
    const char *code = http_req_query(req, "code");
    char cookie[CONSOLE_SECRET_MAX];
    store_console_session s;
    if (!code || console_link_sign_in(app->control, code, clock_now_ms(), cookie, &s, &err) < 0) {
        redirect(res, 303, "/console/?signin=expired");
        return;
    }
    link_activity(app, &s);
    api_console_set_cookie(app, req, res, cookie, CONSOLE_SESSION_TTL_MS / 1000);
    memset(cookie, 0, sizeof cookie);
    redirect(res, 303, "/console/");
}

static void console_slash(http_req *req, http_res *res, void *data)
{
    (void)data;
    security_headers(res, 1);
    redirect(res, 308, "/console/");
}

int api_console_pages_register(http_router *router, api_app *app)
{
    if (http_router_add(router, HTTP_GET, "/console", console_slash, app, NULL) < 0) return -1;
    if (http_router_add(router, HTTP_GET, "/console/signin", link_sign_in, app, NULL) < 0) return -1;
    if (http_router_add(router, HTTP_GET, "/console/vendor/chart.js", chart_library, app, NULL) < 0) return -1;
    return http_router_add(router, HTTP_GET, "/console/*path", console_files, app, NULL);
}
