/* admin_keys: an environment's API keys through the management API:
 *   GET    /admin/v1/projects/:projectId/environments/:env/keys          list (hints only)
 *   POST   /admin/v1/projects/:projectId/environments/:env/keys          create; the key is shown once
 *   DELETE /admin/v1/projects/:projectId/environments/:env/keys/:keyId   revoke (effective at once here,
 *                                                                        within the key cache TTL elsewhere)
 * Callers: an operator token of the project's organization (owner/admin change, member reads), or the
 * environment's own secret key, which creates and revokes only keys within its own rights (its scopes
 * cover theirs, and a new key does not outlive it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin/env/surface.h"
#include "api/admin_gate.h"
#include "api/route.h"
#include "core/keys.h"
#include "core/scopes.h"
#include "util/clock.h"

#define KEY_MAX_SCOPES 50

static struct json_object *key_json(const store_api_key_row *row, const char *env_name, const char *project_id)
{
    struct json_object *o = json_object_new_object();
    const store_api_key *k = &row->key;
    json_object_object_add(o, "id", json_object_new_string(k->id));
    json_object_object_add(o, "type", json_object_new_string(k->type));
    json_object_object_add(o, "name", json_object_new_string(k->name));
    json_object_object_add(o, "keyHint", json_object_new_string(k->hint));
    json_object_object_add(o, "projectId", json_object_new_string(project_id));
    json_object_object_add(o, "environment", json_object_new_string(env_name));
    struct json_object *scopes = k->scopes_json ? json_tokener_parse(k->scopes_json) : NULL;
    json_object_object_add(o, "scopes", scopes);
    const char *status = row->revoked_at ? "revoked"
                         : k->expires_at && k->expires_at <= clock_now_ms() ? "expired" : "active";
    json_object_object_add(o, "status", json_object_new_string(status));
    json_add_time(o, "expiresAt", k->expires_at);
    json_add_time(o, "revokedAt", row->revoked_at);
    json_add_time(o, "createdAt", k->created_at);
    return o;
}

static void list_keys_into(api_ctx *ctx, http_req *req, http_res *res, store_api_key_row *rows)
{
    bs_err err;
    bs_err_clear(&err);
    store_env env;
    size_t n = 0;
    if (api_admin_env(ctx, req, 0, &env, &err) < 0 ||
        store_control_api_key_list(ctx->app->control, env.id, rows, STORE_MAX_KEYS_PER_ENV, &n, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *items = json_object_new_array();
    for (size_t i = 0; i < n; i++) json_object_array_add(items, key_json(&rows[i], env.name, env.project_id));
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "items", items);
    json_object_object_add(out, "total", json_object_new_int64((int64_t)n));
    http_res_json(res, 200, out);
    json_object_put(out);
}

/* The page buffer lives on the heap for one request: as thread-local storage it would cost every thread. */
static void list_keys(api_ctx *ctx, http_req *req, http_res *res)
{
    store_api_key_row *rows = calloc(STORE_MAX_KEYS_PER_ENV, sizeof *rows);
    if (!rows) {
        http_res_error(res, 500, "common/internal-error", "Out of memory");
        return;
    }
    list_keys_into(ctx, req, res, rows);
    free(rows);
}

/* Checks the body and fills the new key's fields; scopes_text receives the normalized JSON array. */
/* The scopes array v of a new key of kind: the vocabulary of core/scopes.h, management scopes on secret
 * keys only. */
static int scopes_ok(struct json_object *v, keys_kind kind, bs_err *err)
{
    if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) > KEY_MAX_SCOPES)
        return bs_err_set(err, 400, "common/invalid-parameters", "scopes must be an array of at most %d scope strings", KEY_MAX_SCOPES);
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        struct json_object *s = json_object_array_get_idx(v, i);
        const char *text = json_object_is_type(s, json_type_string) ? json_object_get_string(s) : NULL;
        if (!scopes_valid(text))
            return bs_err_set(err, 400, "common/invalid-parameters", "scope %zu is neither \"table:operation\" (operation: create, read, list, update, delete or *) nor \"admin:surface:access\" (surface: keys, tables, auth, outbox, users, files or *; access: read, write or *)", i);
        if (kind != KEYS_SECRET && scopes_is_admin(text))
            return bs_err_set(err, 400, "common/invalid-parameters", "scope %zu: admin scopes are for secret keys only", i);
    }
    return 0;
}

static int parse_create(struct json_object *body, store_api_key *key, keys_kind *kind, char *scopes_text,
                        size_t scopes_size, bs_err *err)
{
    if (!body || !json_object_is_type(body, json_type_object))
        return bs_err_set(err, 400, "common/invalid-parameters", "A JSON object body is required");
    const char *type = json_get_string(body, "type");
    if (!type || (strcmp(type, "publishable") != 0 && strcmp(type, "secret") != 0))
        return bs_err_set(err, 400, "common/invalid-parameters", "type must be \"publishable\" or \"secret\"");
    *kind = type[0] == 'p' ? KEYS_PUBLISHABLE : KEYS_SECRET;
    struct json_object *v;
    const char *name = type;
    if (json_object_object_get_ex(body, "name", &v)) {
        name = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
        if (!name || !*name || json_utf8_chars(name) > 100)
            return bs_err_set(err, 400, "common/invalid-parameters", "name must be a string of 1 to 100 characters");
    }
    snprintf(key->name, sizeof key->name, "%s", name);
    key->scopes_json = NULL;
    if (json_object_object_get_ex(body, "scopes", &v) && v) {
        if (scopes_ok(v, *kind, err) < 0) return -1;
        const char *text = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
        if (strlen(text) >= scopes_size) return bs_err_set(err, 400, "common/invalid-parameters", "scopes are too long");
        snprintf(scopes_text, scopes_size, "%s", text);
        key->scopes_json = scopes_text;
    }
    key->expires_at = 0;
    if (json_object_object_get_ex(body, "expiresAt", &v) && v) {
        if (!json_object_is_type(v, json_type_string) || clock_parse_iso8601(json_object_get_string(v), &key->expires_at) < 0)
            return bs_err_set(err, 400, "common/invalid-parameters", "expiresAt must be an ISO 8601 UTC time such as 2030-01-01T00:00:00.000Z");
        if (key->expires_at <= clock_now_ms())
            return bs_err_set(err, 400, "common/invalid-parameters", "expiresAt must be in the future");
    }
    return 0;
}

/* A secret key manages only keys within its own rights: its scopes cover the other key's (an unscoped
 * one only when it is unscoped itself), and a new key (expires_at not NULL) does not outlive it, taking
 * its expiry when it names none. Operator tokens: their role decides (api_admin_env). 403
 * data/scope-insufficient otherwise. */
static int within_caller(const api_ctx *ctx, const char *scopes_json, int64_t *expires_at, bs_err *err)
{
    char missing[SCOPES_MAX_LEN + 64];
    if (ctx->caller != API_CALLER_ENV_SECRET) return 0;
    if (!scopes_cover(ctx->key.scopes_json, scopes_json, missing, sizeof missing))
        return bs_err_set(err, 403, "data/scope-insufficient", "A key manages only keys within its own rights; its scopes do not include %s", missing);
    if (!expires_at || !ctx->key.expires_at) return 0;
    if (*expires_at > ctx->key.expires_at)
        return bs_err_set(err, 403, "data/scope-insufficient", "A key manages only keys within its own rights; a new key may not outlive it");
    if (!*expires_at) *expires_at = ctx->key.expires_at;
    return 0;
}

static void create_key(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_env env;
    store_api_key_row row;
    memset(&row, 0, sizeof row);
    store_api_key *key = &row.key;
    keys_kind kind = KEYS_INVALID;
    char text[KEYS_TEXT_MAX];
    size_t active = 0;
    if (api_admin_env(ctx, req, 1, &env, &err) < 0 ||
        parse_create(http_req_json_borrow(req), key, &kind, row.scopes, sizeof row.scopes, &err) < 0 ||
        within_caller(ctx, key->scopes_json, &key->expires_at, &err) < 0 ||
        store_control_api_key_count(ctx->app->control, env.id, &active, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    if (active >= STORE_MAX_KEYS_PER_ENV) {
        http_res_error(res, 409, "common/limit-reached", "An environment has at most 100 active keys; revoke one first");
        return;
    }
    if (keys_generate(kind, text) < 0 || keys_new_id("key", key->id) < 0) {
        http_res_error(res, 500, "common/internal-error", "Internal server error");
        return;
    }
    snprintf(key->environment_id, sizeof key->environment_id, "%s", env.id);
    snprintf(key->type, sizeof key->type, "%s", keys_kind_name(kind));
    keys_hash(text, key->hash);
    keys_hint(text, key->hint);
    key->created_at = clock_now_ms();
    if (store_control_api_key_insert(ctx->app->control, key, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    api_env_activity(ctx, &env, "key", key->id, "create", "%s key %s created", key->type, key->name);
    struct json_object *out = key_json(&row, env.name, env.project_id);
    json_object_object_add(out, "key", json_object_new_string(text));
    http_res_json(res, 201, out);
    json_object_put(out);
}

static void revoke_key(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_env env;
    store_api_key_row row;
    int found = 0;
    if (api_admin_env(ctx, req, 1, &env, &err) < 0 ||
        store_control_api_key_get(ctx->app->control, http_req_param(req, "keyId"), &row, &found, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    if (!found || strcmp(row.key.environment_id, env.id) != 0) {
        http_res_error(res, 404, "auth/api-key-not-found", "API key not found");
        return;
    }
    if (within_caller(ctx, row.key.scopes_json, NULL, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    if (!row.revoked_at) {
        row.revoked_at = clock_now_ms();
        if (store_control_api_key_revoke(ctx->app->control, row.key.id, row.revoked_at, &found, &err) < 0) {
            http_res_error_from(res, &err);
            return;
        }
        api_env_activity(ctx, &env, "key", row.key.id, "revoke", "%s key %s revoked", row.key.type, row.key.name);
    }
    fleet_bus_publish(ctx->app->bus, FLEET_KEY, row.key.hash);
    struct json_object *out = key_json(&row, env.name, env.project_id);
    json_object_object_add(out, "success", json_object_new_boolean(1));
    http_res_json(res, 200, out);
    json_object_put(out);
}

int api_admin_keys_register(http_router *router, api_app *app)
{
    const char *base = "/admin/v1/projects/:projectId/environments/:env/keys";
    http_route_opts json = {.body = HTTP_BODY_JSON, .max_body = 64 * 1024};
    if (api_route_admin(router, app, HTTP_GET, base, list_keys, NULL) < 0) return -1;
    if (api_route_admin(router, app, HTTP_POST, base, create_key, &json) < 0) return -1;
    return api_route_admin(router, app, HTTP_DELETE, "/admin/v1/projects/:projectId/environments/:env/keys/:keyId",
                           revoke_key, NULL);
}
