/* user_settings: the per-user settings of client-api.md §3.14, each a section of the user's profile
 * document (self or admin, like the profile):
 *   GET/PATCH /v1/users/:userId/preferences      {locale, timezone, theme}          strings or null
 *   GET/PATCH /v1/users/:userId/notifications    {service, marketing, push, email, sms, nightTime, securityAlerts}
 *   GET/PATCH /v1/users/:userId/onboarding       {status: pending|completed, steps: {}}  (→ /me onboardingStatus)
 *   GET/PATCH /v1/users/:userId/public-settings  {slug: string|null, isPublic}     (slug unique: 409)
 * PATCH merges the given members (null clears a nullable one) and answers the whole section. */
#include <stdio.h>
#include <string.h>

#include "api/caller.h"
#include "api/route.h"
#include "api/v1/auth/surface.h"
#include "api/v1/pipeline.h"
#include "api/v1/auth/auth_users.h"
#include "util/clock.h"
#include "util/json.h"

typedef int (*member_check_fn)(const char *key, struct json_object *v);

typedef struct section {
    const char *name;            /* key in the profile document */
    const char *defaults;        /* JSON object of every member with its default */
    member_check_fn check;       /* 1 when (key, value) is acceptable */
} section;

static int text_chars(struct json_object *v, size_t max, const char *alphabet)
{
    if (!json_object_is_type(v, json_type_string)) return 0;
    const char *t = json_object_get_string(v);
    size_t n = strlen(t);
    return n >= 1 && n <= max && strspn(t, alphabet) == n;
}

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

static int preferences_ok(const char *key, struct json_object *v)
{
    if (!v) return 1;
    if (!strcmp(key, "locale")) return text_chars(v, 16, ALNUM "-_");
    if (!strcmp(key, "timezone")) return text_chars(v, 64, ALNUM "/_+-");
    if (!strcmp(key, "theme")) {
        const char *t = json_object_get_string(v);
        return json_object_is_type(v, json_type_string) && (!strcmp(t, "light") || !strcmp(t, "dark") || !strcmp(t, "system"));
    }
    return 0;
}

static int notifications_ok(const char *key, struct json_object *v)
{
    (void)key;
    return json_object_is_type(v, json_type_boolean);
}

static int onboarding_ok(const char *key, struct json_object *v)
{
    if (!strcmp(key, "status")) {
        const char *t = json_object_get_string(v);
        return json_object_is_type(v, json_type_string) && (!strcmp(t, "pending") || !strcmp(t, "completed"));
    }
    if (!strcmp(key, "steps")) return json_object_is_type(v, json_type_object) && strlen(json_object_to_json_string(v)) <= 2048;
    return 0;
}

static int public_ok(const char *key, struct json_object *v)
{
    if (!strcmp(key, "slug")) return !v || text_chars(v, 64, "abcdefghijklmnopqrstuvwxyz0123456789-_");
    if (!strcmp(key, "isPublic")) return json_object_is_type(v, json_type_boolean);
    return 0;
}

static const section sections[] = {
    {"preferences", "{\"locale\":null,\"timezone\":null,\"theme\":null}", preferences_ok},
    {"notifications", "{\"service\":true,\"marketing\":false,\"push\":true,\"email\":true,\"sms\":false,"
                      "\"nightTime\":false,\"securityAlerts\":true}", notifications_ok},
    {"onboarding", "{\"status\":\"pending\",\"steps\":{}}", onboarding_ok},
    {"publicSettings", "{\"slug\":null,\"isPublic\":false}", public_ok},
};

/* The section of u: its defaults overlaid with what the profile holds (a new reference). */
static struct json_object *section_of(const section *sec, struct json_object *profile)
{
    struct json_object *out = json_tokener_parse(sec->defaults), *stored;
    if (json_object_object_get_ex(profile, sec->name, &stored) && json_object_is_type(stored, json_type_object)) {
        json_object_object_foreach(stored, k, v) json_object_object_add(out, k, json_object_get(v));
    }
    return out;
}

static int slug_taken(api_ctx *ctx, const store_user *u, struct json_object *slug, bs_err *err)
{
    if (!slug) return 0;
    int taken = 0;
    if (store_users_slug_owner(ctx->app->docs, ctx->key.environment_id, json_object_get_string(slug), u->id, &taken, err) < 0) return -1;
    return taken ? bs_err_set(err, 409, "user/slug-taken", "This slug belongs to another user") : 0;
}

static void section_answer(api_ctx *ctx, http_req *req, http_res *res, const section *sec, int patch)
{
    bs_err err;
    bs_err_clear(&err);
    store_user u;
    int self = 0, found = 0;
    api_target_user(ctx, req, 1, &u, &self, &err);
    struct json_object *profile = err.status ? NULL : json_tokener_parse(u.profile);
    if (!err.status && !json_object_is_type(profile, json_type_object)) {
        json_object_put(profile);
        profile = json_object_new_object();
    }
    struct json_object *current = err.status ? NULL : section_of(sec, profile), *body = http_req_json_borrow(req);
    if (!err.status && patch) {
        if (!json_object_is_type(body, json_type_object)) bs_err_set(&err, 400, "common/invalid-parameters", "A JSON object body is required");
        else {
            json_object_object_foreach(body, k, v) {
                if (err.status) break;
                if (!json_object_object_get_ex(current, k, NULL) || !sec->check(k, v))
                    bs_err_set(&err, 400, "common/invalid-parameters", "%s.%.64s: not a member or not a valid value", sec->name, k);
                else if (!strcmp(k, "slug") && slug_taken(ctx, &u, v, &err) == 0)
                    json_object_object_add(current, k, v ? json_object_get(v) : NULL);
                else if (strcmp(k, "slug"))
                    json_object_object_add(current, k, v ? json_object_get(v) : NULL);
            }
        }
        if (!err.status) {
            json_object_object_add(profile, sec->name, json_object_get(current));
            const char *text = json_object_to_json_string_ext(profile, JSON_C_TO_STRING_PLAIN);
            if (strlen(text) >= sizeof u.profile) bs_err_set(&err, 400, "common/invalid-parameters", "The settings are too large");
            else {
                snprintf(u.profile, sizeof u.profile, "%s", text);
                u.updated_at = clock_now_ms();
                store_users_update(ctx->app->docs, ctx->key.environment_id, &u, &found, &err);
            }
        }
    }
    if (err.status) http_res_error_from(res, &err);
    else http_res_json(res, 200, current);
    json_object_put(current);
    json_object_put(profile);
}

static void get_preferences(api_ctx *c, http_req *q, http_res *r) { section_answer(c, q, r, &sections[0], 0); }
static void patch_preferences(api_ctx *c, http_req *q, http_res *r) { section_answer(c, q, r, &sections[0], 1); }
static void get_notifications(api_ctx *c, http_req *q, http_res *r) { section_answer(c, q, r, &sections[1], 0); }
static void patch_notifications(api_ctx *c, http_req *q, http_res *r) { section_answer(c, q, r, &sections[1], 1); }
static void get_onboarding(api_ctx *c, http_req *q, http_res *r) { section_answer(c, q, r, &sections[2], 0); }
static void patch_onboarding(api_ctx *c, http_req *q, http_res *r) { section_answer(c, q, r, &sections[2], 1); }
static void get_public(api_ctx *c, http_req *q, http_res *r) { section_answer(c, q, r, &sections[3], 0); }
static void patch_public(api_ctx *c, http_req *q, http_res *r) { section_answer(c, q, r, &sections[3], 1); }

int api_user_settings_register(http_router *router, api_app *app)
{
    static const struct { const char *path; api_handler_fn get, patch; } routes[] = {
        {"/v1/users/:userId/preferences", get_preferences, patch_preferences},
        {"/v1/users/:userId/notifications", get_notifications, patch_notifications},
        {"/v1/users/:userId/onboarding", get_onboarding, patch_onboarding},
        {"/v1/users/:userId/public-settings", get_public, patch_public},
    };
    http_route_opts json = {.body = HTTP_BODY_JSON, .max_body = 16 * 1024};
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (api_route_v1(router, app, HTTP_GET, routes[i].path, routes[i].get, NULL) < 0) return -1;
        if (api_route_v1(router, app, HTTP_PATCH, routes[i].path, routes[i].patch, &json) < 0) return -1;
    }
    return 0;
}
