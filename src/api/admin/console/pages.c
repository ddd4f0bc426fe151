/* pages: what the browser loads under /console/ (docs/security.md "The web console"):
 *   GET /console/{path}           the files of the console directory (http/static.h: no "..", no hidden
 *                                 files, no symlinks out), HTML with Cache-Control: no-store
 *   GET /console/vendor/chart.js  the chart library from Debian's libjs-chart.js (--console-chart-js)
 *   GET /console/signin?code=...  uses a one-time sign-in link (`basalt console link`): 303 to /console/
 *                                 with the session cookie, or to /console/?signin=expired without one
 *                                 (HEAD: 303 to /console/, the code not used)
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

/* Where Debian's libjs-chart.js keeps a browser (UMD) build: 4.x names it chart.umd(.min).js, 3.x
 * chart.min.js (its chart.js is UMD too, but 4.x's chart.js is an ES module, so it is not guessed). */
static const char *const chart_candidates[] = {
    "/usr/share/javascript/chart.js/chart.umd.min.js",
    "/usr/share/javascript/chart.js/chart.min.js",
    "/usr/share/javascript/chart.js/chart.umd.js",
};

/* A regular file opened for reading, or -1. */
static int open_file(const char *path, struct stat *sb)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && (fstat(fd, sb) < 0 || !S_ISREG(sb->st_mode))) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* --console-chart-js when given (only it), else the first of the package's files that exists. */
static int open_chart(const api_app *app, struct stat *sb)
{
    if (app->chart_js && *app->chart_js) return open_file(app->chart_js, sb);
    int fd = -1;
    for (size_t i = 0; i < sizeof chart_candidates / sizeof chart_candidates[0] && fd < 0; i++)
        fd = open_file(chart_candidates[i], sb);
    return fd;
}

static void chart_library(http_req *req, http_res *res, void *data)
{
    api_app *app = data;
    security_headers(res, 1);
    struct stat sb;
    int fd = open_chart(app, &sb);
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
    if (http_req_method(req) == HTTP_HEAD) { /* a link checker's HEAD does not use the code up */
        redirect(res, 303, "/console/");
        return;
    }
    if (!code || console_link_sign_in(app->control, code, clock_now_ms(), cookie, &s, &err) < 0) {
        redirect(res, 303, "/console/?signin=expired");
        return;
    }
    link_activity(app, &s);
    api_console_set_cookie(app, req, res, cookie, CONSOLE_SESSION_TTL_MS / 1000);
    memset(cookie, 0, sizeof cookie);
    redirect(res, 303, "/console/");
}

int api_console_pages_register(http_router *router, api_app *app)
{
    if (http_router_add(router, HTTP_GET, "/console/signin", link_sign_in, app, NULL) < 0) return -1;
    if (http_router_add(router, HTTP_GET, "/console/vendor/chart.js", chart_library, app, NULL) < 0) return -1;
    return http_router_add(router, HTTP_GET, "/console/*path", console_files, app, NULL);
}
