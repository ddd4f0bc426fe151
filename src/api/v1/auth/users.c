/* users: an environment's end users as clients see them (client-api.md §3.12–3.14), first part:
 *   GET    /v1/users/:userId            self or admin: the user; others: public fields only
 *   DELETE /v1/users/:userId            self (= withdraw, §3.12) or admin
 *   DELETE /v1/auth/withdraw            self
 *   GET    /v1/users/:userId/profile    PATCH /v1/users/:userId/profile (self or admin; answers the user)
 *   GET    /v1/users                    any signed-in caller (public fields unless admin)
 *   POST   /v1/users                    admin: {name, email, role?} (no password: the user signs in after a reset)
 *   PATCH  /v1/users/:userId            self or admin: {name}
 *   PATCH  /v1/users/:userId/role       admin: {role}
 * Admin = the secret key, or a user whose role is admin. Deletion is soft: the record stays (its
 * e-mail is freed for a new account), every session ends; the user's data rows stay (§3.12). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/caller.h"
#include "api/respond.h"
#include "api/route.h"
#include "api/v1/auth/surface.h"
#include "api/v1/pipeline.h"
#include "core/accounts.h"
#include "api/v1/auth/auth_users.h"
#include "core/keys.h"
#include "util/clock.h"
#include "util/json.h"

#define PROFILE_NAME_MAX 100
#define PROFILE_NICKNAME_MAX 50
#define PROFILE_BIO_MAX 500
#define PROFILE_URL_MAX 1000

static struct json_object *public_user(const store_user *u);
static struct json_object *user_fields(const store_user *u, const char *const *fields, size_t n);

static void get_user(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_user u;
    int self = 0;
    if (api_target_user(ctx, req, 0, &u, &self, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *o = self || api_caller_is_admin(ctx) ? accounts_user_json(&u) : public_user(&u);
    http_res_json(res, 200, o);
    json_object_put(o);
}

/* Soft deletion: freed e-mail, ended sessions. */
static int delete_account(api_ctx *ctx, store_user *u, bs_err *err)
{
    int found = 0;
    char freed[STORE_EMAIL_MAX];
    snprintf(freed, sizeof freed, "deleted-%s-%.*s", u->id, 200, u->email);
    snprintf(u->email, sizeof u->email, "%s", freed);
    u->deleted_at = u->updated_at = clock_now_ms();
    if (store_users_update(ctx->app->docs, ctx->key.environment_id, u, &found, err) < 0) return -1;
    return store_sessions_revoke_all(ctx->app->docs, ctx->key.environment_id, u->id, u->deleted_at, err);
}

static void delete_user(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_user u;
    int self = 0;
    if (api_target_user(ctx, req, 1, &u, &self, &err) < 0 || delete_account(ctx, &u, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    api_audit(ctx, req, "account_deleted", u.id, NULL, self ? "self" : "admin");
    api_message(res, 200, "Account deleted");
}

static void withdraw(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_user u;
    store_session s;
    if (api_current_user(ctx, &u, &s, &err) < 0 || delete_account(ctx, &u, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    api_audit(ctx, req, "account_deleted", u.id, NULL, "withdraw");
    api_message(res, 200, "Account deleted");
}

/* ---- profile ---- */

static void get_profile(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_user u;
    int self = 0;
    if (api_target_user(ctx, req, 1, &u, &self, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    static const char *const fields[] = {"name", "nickname", "email", "mobile", "gender", "bio", "socialLinks", "image"};
    struct json_object *o = user_fields(&u, fields, sizeof fields / sizeof fields[0]);
    http_res_json(res, 200, o);
    json_object_put(o);
}

/* A string of 1..max characters, or (nullable) null: 0 and *out (NULL for null), else -1. */
static int text_field(struct json_object *v, size_t min, size_t max, int nullable, const char **out)
{
    *out = NULL;
    if (!v) return nullable ? 0 : -1;
    if (!json_object_is_type(v, json_type_string)) return -1;
    size_t n = json_utf8_chars(json_object_get_string(v));
    if (n < min || n > max) return -1;
    *out = json_object_get_string(v);
    return 0;
}

static int social_links_ok(struct json_object *v)
{
    if (!v) return 1;
    if (!json_object_is_type(v, json_type_object)) return 0;
    json_object_object_foreach(v, k, link) {
        if (strcmp(k, "github") && strcmp(k, "twitter") && strcmp(k, "linkedin")) return 0;
        if (link && (!json_object_is_type(link, json_type_string) || json_utf8_chars(json_object_get_string(link)) > 200)) return 0;
    }
    return 1;
}

static int mobile_ok(const char *m)
{
    size_t n = strlen(m), i = m[0] == '+';
    if (n < 5 || n > 20) return 0;
    for (; i < n; i++)
        if (m[i] < '0' || m[i] > '9') return 0;
    return 1;
}

/* Applies one profile field of the body to u (profile: the extra fields object). */
static int apply_field(const char *key, struct json_object *v, store_user *u, struct json_object *profile, bs_err *err)
{
    const char *text;
    if (strcmp(key, "name") == 0) {
        if (text_field(v, 1, PROFILE_NAME_MAX, 0, &text) < 0) return bs_err_set(err, 400, "user/invalid-name", "name: 1 to 100 characters");
        snprintf(u->name, sizeof u->name, "%s", text);
    } else if (strcmp(key, "nickname") == 0) {
        if (text_field(v, 1, PROFILE_NICKNAME_MAX, 1, &text) < 0)
            return bs_err_set(err, 400, "user/invalid-nickname", "nickname: 1 to 50 characters, or null");
        snprintf(u->nickname, sizeof u->nickname, "%s", text ? text : "");
    } else if (strcmp(key, "image") == 0) {
        if (text_field(v, 1, PROFILE_URL_MAX, 1, &text) < 0 || (text && strncmp(text, "https://", 8) && strncmp(text, "http://", 7)))
            return bs_err_set(err, 400, "common/invalid-parameters", "image: an absolute http(s) URL, or null");
        snprintf(u->image, sizeof u->image, "%s", text ? text : "");
    } else if (strcmp(key, "mobile") == 0 || strcmp(key, "gender") == 0 || strcmp(key, "bio") == 0) {
        int ok = text_field(v, strcmp(key, "bio") ? 1 : 0, strcmp(key, "bio") ? 20 : PROFILE_BIO_MAX, 1, &text) == 0;
        if (ok && text && strcmp(key, "mobile") == 0) ok = mobile_ok(text);
        if (ok && text && strcmp(key, "gender") == 0)
            ok = !strcmp(text, "none") || !strcmp(text, "male") || !strcmp(text, "female") || !strcmp(text, "etc");
        if (!ok) return bs_err_set(err, 400, "common/invalid-parameters", "%s: not a valid value (see client-api.md §3.14)", key);
        json_object_object_add(profile, key, v ? json_object_get(v) : NULL);
    } else if (strcmp(key, "socialLinks") == 0) {
        if (!social_links_ok(v)) return bs_err_set(err, 400, "common/invalid-parameters", "socialLinks: {github, twitter, linkedin} strings or null");
        json_object_object_add(profile, key, v ? json_object_get(v) : NULL);
    }
    return 0; /* other members are ignored (apps send back whole user objects) */
}

static void patch_profile(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_user u;
    int self = 0, found = 0;
    struct json_object *body = http_req_json_borrow(req);
    if (api_target_user(ctx, req, 1, &u, &self, &err) < 0 ||
        (!json_object_is_type(body, json_type_object) && bs_err_set(&err, 400, "common/invalid-parameters", "A JSON object body is required") < 0)) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *profile = json_tokener_parse(u.profile);
    if (!json_object_is_type(profile, json_type_object)) {
        json_object_put(profile);
        profile = json_object_new_object();
    }
    json_object_object_foreach(body, key, v) if (!err.status) apply_field(key, v, &u, profile, &err);
    const char *text = json_object_to_json_string_ext(profile, JSON_C_TO_STRING_PLAIN);
    if (!err.status && strlen(text) >= sizeof u.profile) bs_err_set(&err, 400, "common/invalid-parameters", "The profile is too large");
    if (!err.status) {
        snprintf(u.profile, sizeof u.profile, "%s", text);
        u.updated_at = clock_now_ms();
        store_users_update(ctx->app->docs, ctx->key.environment_id, &u, &found, &err);
    }
    json_object_put(profile);
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *o = accounts_user_json(&u);
    http_res_json(res, 200, o);
    json_object_put(o);
}

/* ---- list, create, rename, role ---- */

/* The listed members of u's user object (a new reference). */
static struct json_object *user_fields(const store_user *u, const char *const *fields, size_t n)
{
    struct json_object *full = accounts_user_json(u), *out = json_object_new_object(), *v;
    for (size_t i = 0; i < n; i++)
        json_object_object_add(out, fields[i], json_object_object_get_ex(full, fields[i], &v) ? json_object_get(v) : NULL);
    json_object_put(full);
    return out;
}

static struct json_object *public_user(const store_user *u)
{
    static const char *const fields[] = {"id", "name", "nickname", "image", "createdAt"};
    return user_fields(u, fields, sizeof fields / sizeof fields[0]);
}

/* Maps a query value to its index in names (dflt when absent); -1 when it is not one of them. */
static int pick(const char *value, const char *const *names, int count, int dflt)
{
    if (!value || !*value) return dflt;
    for (int i = 0; i < count; i++)
        if (strcmp(value, names[i]) == 0) return i;
    return -1;
}

static void list_users_into(const api_users_page *pg_of, http_req *req, http_res *res, store_user *page)
{
    static const char *const sorts[] = {"createdAt", "updatedAt", "name", "email", "role"};
    static const char *const searches[] = {"name", "nickname", "email"};
    api_ctx *ctx = pg_of->ctx;
    int admin = pg_of->admin;
    int sort = pick(http_req_query(req, "sortBy"), sorts, 5, 0), in = pick(http_req_query(req, "searchType"), searches, 3, 0);
    const char *dir = http_req_query(req, "sortDirection");
    if (sort < 0 || in < 0 || (dir && strcmp(dir, "asc") && strcmp(dir, "desc"))) {
        http_res_error(res, 400, "common/invalid-parameters", "sortBy: createdAt, updatedAt, name, email, role; searchType: name, nickname, email; sortDirection: asc, desc");
        return;
    }
    /* updatedAt, email and role are not public fields: an order or a match on them would reveal them */
    if (!admin && (sort == STORE_USERS_BY_UPDATED || sort == STORE_USERS_BY_EMAIL || sort == STORE_USERS_BY_ROLE ||
                   in == STORE_SEARCH_EMAIL)) {
        http_res_error(res, 403, "user/forbidden", "Only an admin may sort by updatedAt, email or role, or search e-mails");
        return;
    }
    int64_t pg = api_query_int(req, "page", 1, 1000000), limit = api_query_int(req, "limit", 20, 100), total = 0;
    store_user_query q = {http_req_query(req, "search"), (store_user_search)in, (store_user_sort)sort, !dir || !strcmp(dir, "desc"),
                          (pg - 1) * limit, (size_t)limit};
    size_t n = 0;
    bs_err err;
    if (q.search && json_utf8_chars(q.search) > 100) {
        http_res_error(res, 400, "common/invalid-parameters", "search: at most 100 characters");
        return;
    }
    if (store_users_list(ctx->app->docs, pg_of->env_id, &q, page, &n, &total, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *items = json_object_new_array();
    for (size_t i = 0; i < n; i++) json_object_array_add(items, pg_of->as_json(&page[i]));
    api_answer_page(res, items, total, pg, limit);
}

/* The page buffer lives on the heap for one request: as thread-local storage it would cost every thread. */
void api_users_list_page(const api_users_page *of, http_req *req, http_res *res)
{
    store_user *page = calloc(100, sizeof *page);
    if (!page) {
        http_res_error(res, 500, "common/internal-error", "Out of memory");
        return;
    }
    list_users_into(of, req, res, page);
    free(page);
}

static void list_users(api_ctx *ctx, http_req *req, http_res *res)
{
    int admin = api_caller_is_admin(ctx);
    if (!ctx->has_user && !admin) {
        http_res_error(res, 401, "user/unauthorized", "A signed-in user is required");
        return;
    }
    api_users_page of = {ctx, ctx->key.environment_id, admin, admin ? accounts_user_json : public_user};
    api_users_list_page(&of, req, res);
}

static int role_valid(const char *r)
{
    return r && (!strcmp(r, "admin") || !strcmp(r, "user") || !strcmp(r, "guest"));
}

static void create_user(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    struct json_object *body = http_req_json_borrow(req);
    store_user u;
    memset(&u, 0, sizeof u);
    const char *role = json_get_string(body, "role"), *name;
    if (!api_caller_is_admin(ctx)) bs_err_set(&err, 403, "user/forbidden", "Only an admin may create users");
    else if (!json_object_is_type(body, json_type_object)) bs_err_set(&err, 400, "common/invalid-parameters", "A JSON object body is required");
    else if (text_field(json_object_object_get(body, "name"), 1, PROFILE_NAME_MAX, 0, &name) < 0) bs_err_set(&err, 400, "user/invalid-name", "name: 1 to 100 characters");
    else if (json_object_object_get_ex(body, "role", NULL) && !role_valid(role)) bs_err_set(&err, 400, "user/invalid-role", "role: admin, user or guest");
    else if (accounts_email_normalize(json_get_string(body, "email"), u.email, &err) == 0) {
        snprintf(u.name, sizeof u.name, "%s", name);
        snprintf(u.role, sizeof u.role, "%s", role ? role : "user");
        snprintf(u.profile, sizeof u.profile, "{}");
        u.created_at = u.updated_at = clock_now_ms();
        if (keys_new_id("usr", u.id) < 0) bs_err_internal(&err);
        else store_users_create(ctx->app->docs, ctx->key.environment_id, &u, &err);
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *o = accounts_user_json(&u);
    http_res_json(res, 201, o);
    json_object_put(o);
}

/* Loads the target, lets change edit it, saves it, answers the whole user. */
static void change_user(api_ctx *ctx, http_req *req, http_res *res, int admin_only,
                        int (*change)(struct json_object *body, store_user *u, bs_err *err))
{
    bs_err err;
    bs_err_clear(&err);
    store_user u;
    int self = 0, found = 0;
    struct json_object *body = http_req_json_borrow(req);
    if (admin_only && !api_caller_is_admin(ctx)) bs_err_set(&err, 403, "user/forbidden", "Only an admin may do this");
    else if (api_target_user(ctx, req, 1, &u, &self, &err) == 0) {
        if (!json_object_is_type(body, json_type_object)) bs_err_set(&err, 400, "common/invalid-parameters", "A JSON object body is required");
        else if (change(body, &u, &err) == 0) {
            u.updated_at = clock_now_ms();
            store_users_update(ctx->app->docs, ctx->key.environment_id, &u, &found, &err);
        }
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *o = accounts_user_json(&u);
    http_res_json(res, 200, o);
    json_object_put(o);
}

static int rename_user(struct json_object *body, store_user *u, bs_err *err)
{
    const char *name;
    if (text_field(json_object_object_get(body, "name"), 1, PROFILE_NAME_MAX, 0, &name) < 0)
        return bs_err_set(err, 400, "user/invalid-name", "name: 1 to 100 characters");
    snprintf(u->name, sizeof u->name, "%s", name);
    return 0;
}

static int set_role(struct json_object *body, store_user *u, bs_err *err)
{
    const char *role = json_get_string(body, "role");
    if (!role_valid(role)) return bs_err_set(err, 400, "user/invalid-role", "role: admin, user or guest");
    snprintf(u->role, sizeof u->role, "%s", role);
    return 0;
}

static void patch_user(api_ctx *ctx, http_req *req, http_res *res) { change_user(ctx, req, res, 0, rename_user); }
static void patch_role(api_ctx *ctx, http_req *req, http_res *res) { change_user(ctx, req, res, 1, set_role); }

int api_users_register(http_router *router, api_app *app)
{
    http_route_opts json = {.body = HTTP_BODY_JSON, .max_body = 64 * 1024};
    if (api_route_v1(router, app, HTTP_GET, "/v1/users", list_users, NULL) < 0) return -1;
    if (api_route_v1(router, app, HTTP_POST, "/v1/users", create_user, &json) < 0) return -1;
    if (api_route_v1(router, app, HTTP_PATCH, "/v1/users/:userId", patch_user, &json) < 0) return -1;
    if (api_route_v1(router, app, HTTP_PATCH, "/v1/users/:userId/role", patch_role, &json) < 0) return -1;
    if (api_route_v1(router, app, HTTP_GET, "/v1/users/:userId", get_user, NULL) < 0) return -1;
    if (api_route_v1(router, app, HTTP_DELETE, "/v1/users/:userId", delete_user, NULL) < 0) return -1;
    if (api_route_v1(router, app, HTTP_DELETE, "/v1/auth/withdraw", withdraw, NULL) < 0) return -1;
    if (api_route_v1(router, app, HTTP_GET, "/v1/users/:userId/profile", get_profile, NULL) < 0) return -1;
    return api_route_v1(router, app, HTTP_PATCH, "/v1/users/:userId/profile", patch_profile, &json);
}
