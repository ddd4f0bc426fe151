/* session: the web console signs in with an operator token and then works with a cookie (docs/
 * management-api.md "Console sessions"):
 *   POST   /admin/v1/console/session {token}     → 201 the session, Set-Cookie basalt_console (12 h); a
 *                                                  session of the cookie the browser still sends is ended
 *   GET    /admin/v1/console/session   (cookie)  → 200 the session (a reloaded page gets its CSRF token)
 *   DELETE /admin/v1/console/session   (cookie + X-CSRF-Token) → 204, the session deleted, the cookie cleared
 * The session body: {csrfToken, expiresAt, organizationId, role, member: {id, email, name}, token: {id,
 * name}}. A sign-in whose Origin header names another site than this server is refused (login CSRF). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/admin/console/surface.h"
#include "api/console_gate.h"
#include "core/keyauth.h"
#include "util/clock.h"
#include "util/json.h"

/* "https://host[:port]" → "host[:port]" (what a Host header says); NULL when there is no scheme. */
static const char *authority_of(const char *url)
{
    const char *p = url ? strstr(url, "://") : NULL;
    return p ? p + 3 : NULL;
}

/* 1 when a and the authority at b (up to its '/' or end) are equal, ignoring case. */
static int same_authority(const char *a, const char *b)
{
    if (!a || !b) return 0;
    size_t n = strcspn(b, "/");
    return strlen(a) == n && strncasecmp(a, b, n) == 0;
}

/* A browser's sign-in from a page of another site is refused; requests without Origin (the CLI, tests,
 * same-origin GETs) are not browser cross-site posts. */
static int origin_allowed(const api_app *app, const http_req *req)
{
    const char *origin = authority_of(http_req_header(req, "Origin"));
    if (!origin) return http_req_header(req, "Origin") == NULL;
    return same_authority(http_req_header(req, "Host"), origin) ||
           same_authority(http_req_header(req, "X-Forwarded-Host"), origin) ||
           (authority_of(app->public_url) && same_authority(origin, authority_of(app->public_url)));
}

static void add_text(struct json_object *j, const char *name, const char *text)
{
    json_object_object_add(j, name, text && *text ? json_object_new_string(text) : NULL);
}

/* Who signed in: the token's member (id, e-mail, name) when it is bound to one, else nulls. */
static struct json_object *member_json(api_app *app, const store_token_context *t)
{
    struct json_object *m = json_object_new_object();
    store_member mem;
    int found = 0;
    bs_err err;
    bs_err_clear(&err);
    memset(&mem, 0, sizeof mem);
    if (t->member_id[0]) store_control_member_get(app->control, t->organization_id, t->member_id, &mem, &found, &err);
    add_text(m, "id", t->member_id);
    add_text(m, "email", found ? mem.email : NULL);
    add_text(m, "name", found ? mem.name : NULL);
    return m;
}

static struct json_object *token_json(api_app *app, const store_token_context *t)
{
    struct json_object *j = json_object_new_object();
    store_operator_token_row row;
    int found = 0;
    bs_err err;
    bs_err_clear(&err);
    store_control_operator_token_get(app->control, t->organization_id, t->token_id, &row, &found, &err);
    add_text(j, "id", t->token_id);
    add_text(j, "name", found ? row.token.name : NULL);
    return j;
}

static void answer_session(api_app *app, http_res *res, int status, const store_console_session *s)
{
    struct json_object *j = json_object_new_object();
    json_object_object_add(j, "csrfToken", json_object_new_string(s->csrf));
    json_add_time(j, "expiresAt", s->expires_at);
    json_object_object_add(j, "organizationId", json_object_new_string(s->token.organization_id));
    json_object_object_add(j, "role", json_object_new_string(s->token.role));
    json_object_object_add(j, "member", member_json(app, &s->token));
    json_object_object_add(j, "token", token_json(app, &s->token));
    http_res_header(res, "Cache-Control", "no-store");
    http_res_json(res, status, j);
    json_object_put(j);
}

static void session_create(http_req *req, http_res *res, api_app *app)
{
    bs_err err;
    bs_err_clear(&err);
    struct json_object *body = http_req_json_borrow(req);
    const char *token = json_object_is_type(body, json_type_object) ? json_get_string(body, "token") : NULL;
    store_token_context tok;
    store_console_session s;
    char cookie[CONSOLE_SECRET_MAX];
    if (!origin_allowed(app, req))
        bs_err_set(&err, 403, "auth/csrf-invalid", "A console sign-in must come from this server's own pages");
    else if (!token)
        bs_err_set(&err, 400, "common/invalid-parameters", "token: an operator access token (bt_...) is required");
    else if (keyauth_verify_operator(app->keys, token, &tok, &err) == 0)
        console_session_open(app->control, &tok, clock_now_ms(), cookie, &s, &err);
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    char old[CONSOLE_SECRET_MAX + 1];
    bs_err ignored;
    if (api_console_cookie(req, old)) console_session_close(app->control, old, clock_now_ms(), &ignored); /* the browser's previous one */
    api_console_set_cookie(app, req, res, cookie, CONSOLE_SESSION_TTL_MS / 1000);
    memset(cookie, 0, sizeof cookie);
    answer_session(app, res, 201, &s);
}

static void session_delete(http_req *req, http_res *res, api_app *app)
{
    bs_err err;
    bs_err_clear(&err);
    store_console_session s;
    char cookie[CONSOLE_SECRET_MAX + 1];
    if (api_console_session(app, req, 1, &s, &err) < 0 ||
        (api_console_cookie(req, cookie) && console_session_close(app->control, cookie, clock_now_ms(), &err) < 0)) {
        if (err.status == 401) api_console_set_cookie(app, req, res, "", 0); /* a dead session: forget it too */
        http_res_error_from(res, &err);
        return;
    }
    api_console_set_cookie(app, req, res, "", 0);
    http_res_header(res, "Cache-Control", "no-store");
    http_res_status(res, 204);
}

static void session_route(http_req *req, http_res *res, void *data)
{
    api_app *app = data;
    bs_err err;
    bs_err_clear(&err);
    store_console_session s;
    switch (http_req_method(req)) {
    case HTTP_POST: session_create(req, res, app); return;
    case HTTP_DELETE: session_delete(req, res, app); return;
    default:
        if (api_console_session(app, req, 0, &s, &err) < 0) http_res_error_from(res, &err);
        else answer_session(app, res, 200, &s);
    }
}

int api_console_session_register(http_router *router, api_app *app)
{
    http_route_opts json = {.body = HTTP_BODY_JSON, .max_body = 16 * 1024};
    return http_router_add(router, HTTP_GET | HTTP_POST | HTTP_DELETE, "/admin/v1/console/session", session_route, app, &json);
}
