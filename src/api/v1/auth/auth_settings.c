/* auth_settings: an environment's sign-in rules and mail templates, kept as named settings in the
 * control store ("auth", "template:<category>"), and the operator's endpoints for them:
 *   GET/PATCH  /admin/v1/projects/:projectId/environments/:env/auth/settings
 *   GET        /admin/v1/projects/:projectId/environments/:env/auth/templates
 *   GET/PUT/DELETE .../auth/templates/:category     {subject, body}; DELETE restores the built-in text
 *   GET        .../auth/users, .../auth/users/:userId   every role that may view the environment; with ban state
 *   PATCH      .../auth/users/:userId               {banned: bool, reason?}
 *   GET        .../auth/users/:userId/sessions      a user's live sessions, newest first ({items, pagination})
 *   DELETE     .../auth/users/:userId/sessions/:sessionId   ends one (owner and admin)
 * Settings (defaults): magicLinkEnabled (true), magicLinkExpirationMinutes (15, 1–1440),
 * requireEmailVerification (false), signupEnabled (true), passwordPolicy {minLength 6, maxLength 128,
 * requireUppercase, requireLowercase, requireNumbers, requireSpecialChars (all false)}.
 * Templates: categories of client-api.md §3.15 with {{variable}} placeholders; unknown variables render
 * empty. Mail is plain text. */
#include <stdio.h>
#include <string.h>

#include "api/admin_gate.h"
#include "api/respond.h"
#include "api/route.h"
#include "api/v1/auth/surface.h"
#include "core/accounts.h"
#include "api/v1/auth/auth_users.h"
#include "util/clock.h"
#include "util/json.h"

#define SETTINGS_TEXT_MAX 2048
#define TEMPLATE_TEXT_MAX 8192
#define TEMPLATE_SUBJECT_CHARS 200
#define TEMPLATE_BODY_CHARS 3000

/* ---- settings ---- */

static api_auth_settings settings_default(void)
{
    api_auth_settings s = {.magic_link_enabled = 1, .magic_link_minutes = 15, .require_verification = 0, .signup_enabled = 1};
    s.password = password_policy_default();
    return s;
}

static int json_flag(struct json_object *o, const char *key, int *out)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v)) return 0;
    if (!json_object_is_type(v, json_type_boolean)) return -1;
    *out = json_object_get_boolean(v);
    return 0;
}

static int json_int_in(struct json_object *o, const char *key, int lo, int hi, int *out)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v)) return 0;
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < lo || json_object_get_int64(v) > hi) return -1;
    *out = (int)json_object_get_int64(v);
    return 0;
}

/* Applies the fields present in o over s; -1 names the bad field in err. */
static int settings_apply(struct json_object *o, api_auth_settings *s, bs_err *err)
{
    struct json_object *pw = NULL;
    int bad = json_flag(o, "magicLinkEnabled", &s->magic_link_enabled) < 0 ? 1
            : json_int_in(o, "magicLinkExpirationMinutes", 1, 1440, &s->magic_link_minutes) < 0 ? 2
            : json_flag(o, "requireEmailVerification", &s->require_verification) < 0 ? 3
            : json_flag(o, "signupEnabled", &s->signup_enabled) < 0 ? 4 : 0;
    if (!bad && json_object_object_get_ex(o, "passwordPolicy", &pw)) {
        password_policy *p = &s->password;
        if (!json_object_is_type(pw, json_type_object) || json_int_in(pw, "minLength", 1, 128, &p->min_length) < 0 ||
            json_int_in(pw, "maxLength", 1, 128, &p->max_length) < 0 || json_flag(pw, "requireUppercase", &p->require_upper) < 0 ||
            json_flag(pw, "requireLowercase", &p->require_lower) < 0 || json_flag(pw, "requireNumbers", &p->require_digit) < 0 ||
            json_flag(pw, "requireSpecialChars", &p->require_special) < 0 || p->min_length > p->max_length)
            bad = 5;
    }
    static const char *const what[] = {"", "magicLinkEnabled: a boolean", "magicLinkExpirationMinutes: 1 to 1440",
                                       "requireEmailVerification: a boolean", "signupEnabled: a boolean",
                                       "passwordPolicy: {minLength 1–128 ≤ maxLength 1–128, require*: booleans}"};
    return bad ? bs_err_set(err, 400, "common/invalid-parameters", "%s", what[bad]) : 0;
}

static struct json_object *settings_json(const api_auth_settings *s)
{
    struct json_object *o = json_object_new_object(), *pw = json_object_new_object();
    json_object_object_add(o, "magicLinkEnabled", json_object_new_boolean(s->magic_link_enabled));
    json_object_object_add(o, "magicLinkExpirationMinutes", json_object_new_int(s->magic_link_minutes));
    json_object_object_add(o, "requireEmailVerification", json_object_new_boolean(s->require_verification));
    json_object_object_add(o, "signupEnabled", json_object_new_boolean(s->signup_enabled));
    json_object_object_add(pw, "minLength", json_object_new_int(s->password.min_length));
    json_object_object_add(pw, "maxLength", json_object_new_int(s->password.max_length));
    json_object_object_add(pw, "requireUppercase", json_object_new_boolean(s->password.require_upper));
    json_object_object_add(pw, "requireLowercase", json_object_new_boolean(s->password.require_lower));
    json_object_object_add(pw, "requireNumbers", json_object_new_boolean(s->password.require_digit));
    json_object_object_add(pw, "requireSpecialChars", json_object_new_boolean(s->password.require_special));
    json_object_object_add(o, "passwordPolicy", pw);
    return o;
}

int api_auth_settings_load(api_ctx *ctx, const char *env_id, api_auth_settings *out, bs_err *err)
{
    char text[SETTINGS_TEXT_MAX];
    int found = 0;
    *out = settings_default();
    if (store_control_setting_get(ctx->app->control, env_id, "auth", text, sizeof text, &found, err) < 0) return -1;
    if (!found) return 0;
    struct json_object *o = json_tokener_parse(text);
    int rc = settings_apply(o, out, err); /* stored by settings_patch, so valid */
    json_object_put(o);
    return rc;
}

static void settings_get(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_env env;
    api_auth_settings s;
    if (api_admin_env(ctx, req, 0, &env, &err) < 0 || api_auth_settings_load(ctx, env.id, &s, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *o = settings_json(&s);
    http_res_json(res, 200, o);
    json_object_put(o);
}

static void settings_patch(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_env env;
    api_auth_settings s;
    struct json_object *body = http_req_json_borrow(req), *o = NULL;
    if (api_admin_env(ctx, req, 1, &env, &err) == 0 && api_auth_settings_load(ctx, env.id, &s, &err) == 0 &&
        (json_object_is_type(body, json_type_object) || bs_err_set(&err, 400, "common/invalid-parameters", "A JSON object body is required") == 0) &&
        settings_apply(body, &s, &err) == 0) {
        o = settings_json(&s);
        if (store_control_setting_put(ctx->app->control, env.id, "auth", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), &err) < 0) {
            json_object_put(o);
            o = NULL;
        }
    }
    if (!o) {
        http_res_error_from(res, &err);
        return;
    }
    api_env_activity(ctx, &env, "auth", "settings", "update", "sign-in settings changed");
    http_res_json(res, 200, o);
    json_object_put(o);
}

/* ---- mail templates ---- */

typedef struct mail_template {
    const char *category, *subject, *body, *variables;
} mail_template;

static const mail_template builtin[] = {
    {"signup_confirmation", "Confirm your e-mail address",
     "Hello {{userName}},\n\nConfirm this e-mail address: {{verifyLink}}\n\nThe link works once, for 24 hours.\n",
     "userName userEmail verifyLink"},
    {"password_reset", "Reset your password",
     "Hello {{userName}},\n\nSomeone asked to reset the password of this account. Your reset code:\n\n{{code}}\n\n"
     "Reset link: {{resetLink}}\n\nThe code works once, for 24 hours. If it was not you, ignore this mail.\n",
     "userName userEmail resetLink code"},
    {"magic_link", "Your sign-in link",
     "Hello {{userName}},\n\nSign in with this link: {{magicLink}}\n\nIt works once, for {{expiresInMinutes}} minutes. "
     "If you did not ask for it, ignore this mail.\n",
     "userName userEmail magicLink expiresInMinutes"},
    {"email_verification", "Verify your e-mail address",
     "Hello {{userName}},\n\nYour e-mail verification code: {{code}}\n\nIt works once, for 24 hours.\n",
     "userName userEmail code"},
    {"invitation", "You are invited",
     "Hello {{userName}},\n\n{{inviterName}} invites you to {{resourceName}} as {{resourceRole}}.\n\n"
     "Your invitation code: {{code}}\n\nIt is valid for 7 days.\n",
     "userName userEmail inviterName resourceName resourceRole code"},
};
#define TEMPLATE_COUNT (sizeof builtin / sizeof builtin[0])

static const mail_template *template_builtin(const char *category)
{
    for (size_t i = 0; category && i < TEMPLATE_COUNT; i++)
        if (!strcmp(builtin[i].category, category)) return &builtin[i];
    return NULL;
}

/* Appends text with each {{name}} replaced by its value (unknown: nothing); one_line turns CR/LF into
 * spaces (subjects are header lines). */
static void render(strbuf *out, const char *text, const api_mail_var *vars, size_t n, int one_line)
{
    size_t start = out->len;
    for (const char *p = text; *p;) {
        const char *open = strstr(p, "{{"), *close = open ? strstr(open + 2, "}}") : NULL;
        if (!close) {
            strbuf_append_str(out, p);
            break;
        }
        strbuf_append(out, p, (size_t)(open - p));
        const char *name = open + 2;
        while (*name == ' ') name++;
        size_t len = (size_t)(close - name);
        while (len && name[len - 1] == ' ') len--;
        for (size_t i = 0; i < n; i++)
            if (strlen(vars[i].name) == len && !strncmp(vars[i].name, name, len)) strbuf_append_str(out, vars[i].value ? vars[i].value : "");
        p = close + 2;
    }
    for (size_t i = start; one_line && i < out->len; i++)
        if (out->data[i] == '\r' || out->data[i] == '\n') out->data[i] = ' ';
}

/* The environment's template of category (custom or built-in) as subject and body texts. */
static int template_load(api_ctx *ctx, const char *env_id, const mail_template *t, char *subject, size_t ssize, char *body,
                         size_t bsize, int *custom, bs_err *err)
{
    char name[64], text[TEMPLATE_TEXT_MAX];
    snprintf(name, sizeof name, "template:%s", t->category);
    if (store_control_setting_get(ctx->app->control, env_id, name, text, sizeof text, custom, err) < 0) return -1;
    struct json_object *o = *custom ? json_tokener_parse(text) : NULL;
    snprintf(subject, ssize, "%s", o ? json_get_string(o, "subject") : t->subject);
    snprintf(body, bsize, "%s", o ? json_get_string(o, "body") : t->body);
    json_object_put(o);
    return 0;
}

int api_send_template(api_ctx *ctx, const char *to, const char *category, const api_mail_var *vars, size_t n, bs_err *err)
{
    const mail_template *t = template_builtin(category);
    char subject[TEMPLATE_TEXT_MAX], body[TEMPLATE_TEXT_MAX];
    int custom = 0;
    if (!t) return bs_err_internal(err);
    if (template_load(ctx, ctx->key.environment_id, t, subject, sizeof subject, body, sizeof body, &custom, err) < 0) return -1;
    strbuf s, b;
    strbuf_init(&s, 1024);
    strbuf_init(&b, 16 * 1024);
    render(&s, subject, vars, n, 1);
    render(&b, body, vars, n, 0);
    int rc = api_send_mail(ctx, to, category, s.data ? s.data : "", b.data ? b.data : "", err);
    strbuf_release(&s);
    strbuf_release(&b);
    return rc;
}

static struct json_object *template_json(const mail_template *t, const char *subject, const char *body, int custom)
{
    struct json_object *o = json_object_new_object(), *vars = json_object_new_array();
    json_object_object_add(o, "category", json_object_new_string(t->category));
    json_object_object_add(o, "subject", json_object_new_string(subject));
    json_object_object_add(o, "body", json_object_new_string(body));
    json_object_object_add(o, "custom", json_object_new_boolean(custom));
    for (const char *p = t->variables; *p;) {
        size_t len = strcspn(p, " ");
        json_object_array_add(vars, json_object_new_string_len(p, (int)len));
        p += len + (p[len] == ' ');
    }
    json_object_object_add(o, "variables", vars);
    return o;
}

/* The environment and the template named by :category (404 auth/template-not-found). */
static const mail_template *template_target(api_ctx *ctx, http_req *req, int writes, store_env *env, bs_err *err)
{
    if (api_admin_env(ctx, req, writes, env, err) < 0) return NULL;
    const mail_template *t = template_builtin(http_req_param(req, "category"));
    if (!t) bs_err_set(err, 404, "auth/template-not-found", "Categories: signup_confirmation, password_reset, magic_link, email_verification, invitation");
    return t;
}

static void template_answer(api_ctx *ctx, http_res *res, const char *env_id, const mail_template *t, int status)
{
    bs_err err;
    char subject[TEMPLATE_TEXT_MAX], body[TEMPLATE_TEXT_MAX];
    int custom = 0;
    if (template_load(ctx, env_id, t, subject, sizeof subject, body, sizeof body, &custom, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *o = template_json(t, subject, body, custom);
    http_res_json(res, status, o);
    json_object_put(o);
}

static void templates_list(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_env env;
    char subject[TEMPLATE_TEXT_MAX], body[TEMPLATE_TEXT_MAX];
    int custom = 0;
    if (api_admin_env(ctx, req, 0, &env, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *items = json_object_new_array();
    for (size_t i = 0; i < TEMPLATE_COUNT; i++) {
        if (template_load(ctx, env.id, &builtin[i], subject, sizeof subject, body, sizeof body, &custom, &err) < 0) {
            json_object_put(items);
            http_res_error_from(res, &err);
            return;
        }
        json_object_array_add(items, template_json(&builtin[i], subject, body, custom));
    }
    api_answer_page(res, items, (int64_t)TEMPLATE_COUNT, 1, (int64_t)TEMPLATE_COUNT);
}

static void template_get(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_env env;
    const mail_template *t = template_target(ctx, req, 0, &env, &err);
    if (!t) http_res_error_from(res, &err);
    else template_answer(ctx, res, env.id, t, 200);
}

static void template_put(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_env env;
    struct json_object *body = http_req_json_borrow(req);
    const char *subject = json_get_string(body, "subject"), *text = json_get_string(body, "body");
    const mail_template *t = template_target(ctx, req, 1, &env, &err);
    if (t && (!subject || !*subject || json_utf8_chars(subject) > TEMPLATE_SUBJECT_CHARS || strpbrk(subject, "\r\n") ||
              !text || !*text || json_utf8_chars(text) > TEMPLATE_BODY_CHARS))
        bs_err_set(&err, 400, "common/invalid-parameters", "subject (one line, 1–%d characters) and body (1–%d characters) are required",
                   TEMPLATE_SUBJECT_CHARS, TEMPLATE_BODY_CHARS);
    if (t && !err.status) {
        struct json_object *o = json_object_new_object();
        char name[64];
        snprintf(name, sizeof name, "template:%s", t->category);
        json_object_object_add(o, "subject", json_object_new_string(subject));
        json_object_object_add(o, "body", json_object_new_string(text));
        store_control_setting_put(ctx->app->control, env.id, name, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), &err);
        json_object_put(o);
    }
    if (!t || err.status) {
        http_res_error_from(res, &err);
        return;
    }
    api_env_activity(ctx, &env, "template", t->category, "update", "mail template %s changed", t->category);
    template_answer(ctx, res, env.id, t, 200);
}

static void template_delete(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_env env;
    int found = 0;
    char name[64];
    const mail_template *t = template_target(ctx, req, 1, &env, &err);
    if (t) snprintf(name, sizeof name, "template:%s", t->category);
    if (!t || store_control_setting_delete(ctx->app->control, env.id, name, &found, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    api_env_activity(ctx, &env, "template", t->category, "delete", "mail template %s back to the built-in text", t->category);
    template_answer(ctx, res, env.id, t, 200);
}

/* ---- banning a user ---- */

/* A user as an operator sees it: every field and the ban state. */
static struct json_object *operator_user_json(const store_user *u)
{
    struct json_object *o = accounts_user_json(u);
    json_add_time(o, "bannedAt", u->banned_at);
    json_object_object_add(o, "bannedReason", u->banned_at ? json_object_new_string(u->banned_reason) : NULL);
    return o;
}

static void user_ban(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_env env;
    store_user u;
    int found = 0;
    struct json_object *body = http_req_json_borrow(req), *banned = NULL;
    const char *reason = json_get_string(body, "reason");
    if (api_admin_env(ctx, req, 1, &env, &err) < 0) {
        /* err says why */
    } else if (!json_object_object_get_ex(body, "banned", &banned) || !json_object_is_type(banned, json_type_boolean) ||
               (reason && json_utf8_chars(reason) > 200)) {
        bs_err_set(&err, 400, "common/invalid-parameters", "{banned: boolean, reason?: up to 200 characters}");
    } else if (store_users_by_id(ctx->app->docs, env.id, http_req_param(req, "userId"), &u, &found, &err) == 0 && !found) {
        bs_err_set(&err, 404, "user/not-found", "No such user");
    } else if (found) {
        int64_t now = clock_now_ms();
        u.banned_at = json_object_get_boolean(banned) ? (u.banned_at ? u.banned_at : now) : 0;
        snprintf(u.banned_reason, sizeof u.banned_reason, "%s", u.banned_at && reason ? reason : "");
        u.updated_at = now;
        if (store_users_update(ctx->app->docs, env.id, &u, &found, &err) == 0 && u.banned_at)
            store_sessions_revoke_all(ctx->app->docs, env.id, u.id, now, &err); /* a ban ends every session */
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    api_env_activity(ctx, &env, "user", u.id, u.banned_at ? "ban" : "unban", "user %s %s", u.email,
                     u.banned_at ? "banned" : "unbanned");
    struct json_object *o = operator_user_json(&u);
    http_res_json(res, 200, o);
    json_object_put(o);
}

/* ---- reading users (management reads: every role that may view the environment) ---- */

static void users_list(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_env env;
    if (api_admin_env(ctx, req, 0, &env, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    api_users_page of = {ctx, env.id, 1, operator_user_json};
    api_users_list_page(&of, req, res);
}

static void user_get(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_env env;
    store_user u;
    int found = 0;
    if (api_admin_env(ctx, req, 0, &env, &err) == 0 &&
        store_users_by_id(ctx->app->docs, env.id, http_req_param(req, "userId"), &u, &found, &err) == 0 && !found)
        bs_err_set(&err, 404, "user/not-found", "No such user");
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *o = operator_user_json(&u);
    http_res_json(res, 200, o);
    json_object_put(o);
}

/* ---- a user's sessions ---- */

#define USER_SESSIONS_PAGE_MAX 100

/* The environment (writes: for a change) and the user of the path; 404 user/not-found. */
static int session_owner(api_ctx *ctx, http_req *req, int writes, store_env *env, store_user *u, bs_err *err)
{
    int found = 0;
    if (api_admin_env(ctx, req, writes, env, err) < 0 ||
        store_users_by_id(ctx->app->docs, env->id, http_req_param(req, "userId"), u, &found, err) < 0)
        return -1;
    return found ? 0 : bs_err_set(err, 404, "user/not-found", "No such user");
}

static void user_sessions(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_env env;
    store_user u;
    store_session list[USER_SESSIONS_PAGE_MAX];
    size_t n = 0;
    int64_t total = 0, page = api_query_int(req, "page", 1, 1000000), limit = api_query_int(req, "limit", 20, USER_SESSIONS_PAGE_MAX);
    if (session_owner(ctx, req, 0, &env, &u, &err) < 0 ||
        store_sessions_list(ctx->app->docs, env.id, u.id, (page - 1) * limit, (size_t)limit, list, &n, &total, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *items = json_object_new_array();
    for (size_t i = 0; i < n; i++) json_object_array_add(items, api_session_json(&list[i], ""));
    api_answer_page(res, items, total, page, limit);
}

static void user_session_end(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_env env;
    store_user u;
    int found = 0;
    const char *id = http_req_param(req, "sessionId");
    if (session_owner(ctx, req, 1, &env, &u, &err) == 0 &&
        store_sessions_revoke(ctx->app->docs, env.id, u.id, id, clock_now_ms(), &found, &err) == 0 && !found)
        bs_err_set(&err, 404, "auth/session-not-found", "Session not found");
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    api_env_activity(ctx, &env, "session", id, "revoke", "a session of user %s ended", u.email);
    api_message(res, 200, "Session revoked");
}

int api_auth_settings_register(http_router *router, api_app *app)
{
    http_route_opts json = {.body = HTTP_BODY_JSON, .max_body = 64 * 1024};
    const char *base = "/admin/v1/projects/:projectId/environments/:env/auth";
    char path[160];
    snprintf(path, sizeof path, "%s/settings", base);
    if (api_route_admin(router, app, HTTP_GET, path, settings_get, NULL) < 0 ||
        api_route_admin(router, app, HTTP_PATCH, path, settings_patch, &json) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/templates", base);
    if (api_route_admin(router, app, HTTP_GET, path, templates_list, NULL) < 0) return -1;
    snprintf(path, sizeof path, "%s/templates/:category", base);
    if (api_route_admin(router, app, HTTP_GET, path, template_get, NULL) < 0 ||
        api_route_admin(router, app, HTTP_PUT, path, template_put, &json) < 0 ||
        api_route_admin(router, app, HTTP_DELETE, path, template_delete, NULL) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/users/:userId", base);
    if (api_route_admin(router, app, HTTP_GET, path, user_get, NULL) < 0) return -1;
    snprintf(path, sizeof path, "%s/users", base);
    if (api_route_admin(router, app, HTTP_GET, path, users_list, NULL) < 0) return -1;
    snprintf(path, sizeof path, "%s/users/:userId/sessions", base);
    if (api_route_admin(router, app, HTTP_GET, path, user_sessions, NULL) < 0) return -1;
    snprintf(path, sizeof path, "%s/users/:userId/sessions/:sessionId", base);
    if (api_route_admin(router, app, HTTP_DELETE, path, user_session_end, NULL) < 0) return -1;
    snprintf(path, sizeof path, "%s/users/:userId", base);
    return api_route_admin(router, app, HTTP_PATCH, path, user_ban, &json);
}
