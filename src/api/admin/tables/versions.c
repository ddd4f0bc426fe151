/* admin_schema: a table's schema history through the management API (management-api.md, platform.md
 * §11.5):
 *   PATCH .../tables/:tableName/fields   {fieldsToAddOrUpdate: {name: field schema}, fieldsToRemove: [name],
 *                                         requiredFieldsToAdd: [name], requiredFieldsToRemove: [name]}
 *   GET   .../schema/versions            POST .../schema/rollback {version}
 * Every change writes the next schema version; a rollback copies an old version into a new one. Records
 * are not rewritten: removing a field stops validating it, its values stay in existing records (and can
 * be filtered on); the next PATCH of a record keeps them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin/tables/surface.h"
#include "api/admin_gate.h"
#include "api/route.h"
#include "api/admin/tables/tables.h"
#include "core/table_cache.h"
#include "util/clock.h"
#include "util/json.h"

int api_version_param(struct json_object *body)
{
    struct json_object *v = NULL;
    if (!json_object_is_type(body, json_type_object)) return 0;
    if (!json_object_object_get_ex(body, "version", &v)) json_object_object_get_ex(body, "targetVersion", &v);
    if (!json_object_is_type(v, json_type_int)) return 0;
    int64_t n = json_object_get_int64(v);
    return n >= 1 && n <= 1000000000 ? (int)n : 0;
}

int api_rollback_target(api_ctx *ctx, http_req *req, http_res *res, store_version_kind kind, store_env *env,
                        store_table *t, store_version *v)
{
    bs_err err;
    bs_err_clear(&err);
    int found = 0, version = api_version_param(http_req_json_borrow(req));
    memset(v, 0, sizeof *v);
    if (api_table_open(ctx, req, res, 1, env, t) < 0) return -1;
    const char *what = kind == STORE_VERSION_SCHEMA ? "schema" : "index";
    if (version < 1) bs_err_set(&err, 400, "data/validation-error", "version (a positive integer) is required");
    if (version >= 1 && store_docs_version_get(ctx->app->docs, env->id, t->name, kind, version, v, &found, &err) == 0 && found)
        return 0;
    if (version >= 1 && !found && err.status == 0)
        bs_err_set(&err, 404, kind == STORE_VERSION_SCHEMA ? "table/schema-version-not-found" : "table/index-version-not-found",
                   "No %s version %d", what, version);
    http_res_error_from(res, &err);
    store_version_release(v);
    store_table_release(t);
    return -1;
}

static struct json_object *version_json(const store_version *v, store_version_kind kind, int current)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "version", json_object_new_int(v->version));
    json_object_object_add(o, kind == STORE_VERSION_SCHEMA ? "schema" : "indexes", json_tokener_parse(v->body));
    json_object_object_add(o, "isActive", json_object_new_boolean(v->version == current));
    json_object_object_add(o, "createdBy", v->created_by[0] ? json_object_new_string(v->created_by) : NULL);
    json_add_time(o, "createdAt", v->created_at);
    return o;
}

void api_versions_answer(api_ctx *ctx, http_req *req, http_res *res, store_version_kind kind)
{
    bs_err err;
    store_env env;
    store_table t;
    store_version *list = NULL;
    size_t n = 0;
    if (api_table_load(ctx, req, 0, &env, &t, &err) < 0 ||
        store_docs_versions(ctx->app->docs, env.id, t.name, kind, &list, &n, &err) < 0) {
        http_res_error_from(res, &err);
        store_table_release(&t);
        return;
    }
    int current = kind == STORE_VERSION_SCHEMA ? t.schema_version : t.index_version;
    struct json_object *out = json_object_new_object(), *items = json_object_new_array();
    for (size_t i = 0; i < n; i++) json_object_array_add(items, version_json(&list[i], kind, current));
    if (n == 0) { /* a table from before version history: its current definition is the only version known */
        store_version now = {.version = current, .body = kind == STORE_VERSION_SCHEMA ? t.schema_json : t.indexes_json,
                             .created_at = t.updated_at};
        json_object_array_add(items, version_json(&now, kind, current));
    }
    json_object_object_add(out, "tableName", json_object_new_string(t.name));
    json_object_object_add(out, "items", items);
    json_object_object_add(out, "currentVersion", json_object_new_int(current));
    http_res_json(res, 200, out);
    json_object_put(out);
    store_version_list_free(list, n);
    store_table_release(&t);
}

/* ---- PATCH .../fields ---- */

static int is_system_field(const char *name)
{
    return strcmp(name, "id") == 0 || strcmp(name, "_id") == 0 || strcmp(name, "createdBy") == 0 ||
           strcmp(name, "createdAt") == 0 || strcmp(name, "updatedAt") == 0;
}

static int string_list(struct json_object *body, const char *key, struct json_object **out, bs_err *err)
{
    *out = NULL;
    if (!json_object_object_get_ex(body, key, out)) return 0;
    int ok = json_object_is_type(*out, json_type_array) && json_object_array_length(*out) <= 256;
    for (size_t i = 0; ok && i < json_object_array_length(*out); i++) {
        const char *name = json_object_get_string(json_object_array_get_idx(*out, i));
        ok = json_object_is_type(json_object_array_get_idx(*out, i), json_type_string) && name[0];
        if (ok && is_system_field(name))
            return bs_err_set(err, 400, "data/system-field-protected", "%s is a system field", name);
    }
    return ok ? 0 : bs_err_set(err, 400, "data/validation-error", "%s must be an array of field names", key);
}

static int listed(struct json_object *list, const char *name)
{
    for (size_t i = 0; list && i < json_object_array_length(list); i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(list, i)), name) == 0) return 1;
    return 0;
}

/* Removes name from a JSON array of strings; 1 when it was there. */
static int unlist(struct json_object *list, const char *name)
{
    for (size_t i = 0; list && i < json_object_array_length(list); i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(list, i)), name) == 0) {
            json_object_array_del_idx(list, i, 1);
            return 1;
        }
    return 0;
}

typedef struct field_change {
    struct json_object *upsert, *remove, *req_add, *req_remove;  /* borrowed from the body */
    struct json_object *added, *updated, *removed, *req_added, *req_removed;  /* owned: the answer */
} field_change;

static int read_change(struct json_object *body, field_change *fc, bs_err *err)
{
    if (!json_object_is_type(body, json_type_object)) return bs_err_set(err, 400, "data/validation-error", "A JSON object body is required");
    json_object_object_get_ex(body, "fieldsToAddOrUpdate", &fc->upsert);
    if (fc->upsert && !json_object_is_type(fc->upsert, json_type_object))
        return bs_err_set(err, 400, "data/validation-error", "fieldsToAddOrUpdate must map field names to field schemas");
    if (string_list(body, "fieldsToRemove", &fc->remove, err) < 0 || string_list(body, "requiredFieldsToAdd", &fc->req_add, err) < 0 ||
        string_list(body, "requiredFieldsToRemove", &fc->req_remove, err) < 0)
        return -1;
    if (!fc->upsert && !fc->remove && !fc->req_add && !fc->req_remove)
        return bs_err_set(err, 400, "data/validation-error",
                          "nothing to change (fieldsToAddOrUpdate, fieldsToRemove, requiredFieldsToAdd, requiredFieldsToRemove)");
    if (fc->upsert) {
        json_object_object_foreach(fc->upsert, name, def) {
            if (is_system_field(name)) return bs_err_set(err, 400, "data/system-field-protected", "%s is a system field", name);
            if (!json_object_is_type(def, json_type_object))
                return bs_err_set(err, 400, "data/validation-error", "fieldsToAddOrUpdate.%.64s must be an object", name);
            if (listed(fc->remove, name))
                return bs_err_set(err, 400, "data/field-conflict", "%.64s is both added or updated and removed", name);
        }
    }
    for (size_t i = 0; fc->req_add && i < json_object_array_length(fc->req_add); i++) {
        const char *name = json_object_get_string(json_object_array_get_idx(fc->req_add, i));
        if (listed(fc->req_remove, name))
            return bs_err_set(err, 400, "data/required-conflict", "%.64s is both made required and optional", name);
    }
    return 0;
}

/* Applies the change to a copy of the schema document (properties and required). */
static int edit_schema(struct json_object *doc, field_change *fc, bs_err *err)
{
    struct json_object *props, *req;
    if (!json_object_object_get_ex(doc, "properties", &props) || !json_object_is_type(props, json_type_object)) {
        props = json_object_new_object();
        json_object_object_add(doc, "properties", props);
    }
    if (!json_object_object_get_ex(doc, "required", &req) || !json_object_is_type(req, json_type_array)) {
        req = json_object_new_array();
        json_object_object_add(doc, "required", req);
    }
    if (!json_object_object_get_ex(doc, "bsonType", NULL)) json_object_object_add(doc, "bsonType", json_object_new_string("object"));
    if (fc->upsert) {
        json_object_object_foreach(fc->upsert, name, def) {
            struct json_object *cur;
            if (json_object_object_get_ex(props, name, &cur) && json_object_is_type(cur, json_type_object)) {
                json_object_object_foreach(def, k, v) json_object_object_add(cur, k, json_object_get(v));
                json_object_array_add(fc->updated, json_object_new_string(name));
            } else {
                json_object_object_add(props, name, json_object_get(def));
                json_object_array_add(fc->added, json_object_new_string(name));
            }
        }
    }
    for (size_t i = 0; fc->remove && i < json_object_array_length(fc->remove); i++) {
        const char *name = json_object_get_string(json_object_array_get_idx(fc->remove, i));
        if (!json_object_object_get_ex(props, name, NULL))
            return bs_err_set(err, 404, "data/field-not-found", "No field %.64s in the schema", name);
        json_object_object_del(props, name);
        if (unlist(req, name)) json_object_array_add(fc->req_removed, json_object_new_string(name));
        json_object_array_add(fc->removed, json_object_new_string(name));
    }
    for (size_t i = 0; fc->req_add && i < json_object_array_length(fc->req_add); i++) {
        const char *name = json_object_get_string(json_object_array_get_idx(fc->req_add, i));
        if (!json_object_object_get_ex(props, name, NULL))
            return bs_err_set(err, 404, "data/field-not-found", "No field %.64s in the schema", name);
        if (!listed(req, name)) {
            json_object_array_add(req, json_object_new_string(name));
            json_object_array_add(fc->req_added, json_object_new_string(name));
        }
    }
    for (size_t i = 0; fc->req_remove && i < json_object_array_length(fc->req_remove); i++) {
        const char *name = json_object_get_string(json_object_array_get_idx(fc->req_remove, i));
        if (unlist(req, name) && !listed(fc->req_removed, name)) json_object_array_add(fc->req_removed, json_object_new_string(name));
    }
    if (json_object_array_length(req) == 0) json_object_object_del(doc, "required");
    return 0;
}

/* Checks the new schema document, stores it as the next version, logs it (action: update | rollback) and
 * answers; frees doc. */
static void save_schema(api_ctx *ctx, http_res *res, store_env *env, store_table *t, struct json_object *doc,
                        struct json_object *applied, const char *action, bs_err *err)
{
    schema *compiled = schema_compile(doc, err);
    int found = 0, previous = t->schema_version;
    const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
    if (!compiled || store_docs_schema_change(ctx->app->docs, env->id, t->name, text, previous + 1,
                                              api_admin_actor(ctx), &found, err) < 0) {
        schema_free(compiled);
        http_res_error_from(res, err);
        json_object_put(doc);
        json_object_put(applied);
        return;
    }
    schema_free(compiled);
    fleet_bus_publish(ctx->app->bus, FLEET_TABLES, env->id);
    api_env_activity(ctx, env, "schema", t->name, action, "table %s: schema version %d (%s)", t->name, previous + 1,
                     strcmp(action, "rollback") ? "fields changed" : "rolled back");
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "tableName", json_object_new_string(t->name));
    json_object_object_add(out, "projectId", json_object_new_string(env->project_id));
    json_object_object_add(out, "environment", json_object_new_string(env->name));
    json_object_object_add(out, "schemaVersion", json_object_new_int(previous + 1));
    json_object_object_add(out, "previousVersion", json_object_new_int(previous));
    json_object_object_add(out, "schema", doc);
    if (applied) {
        json_object_object_foreach(applied, k, v) json_object_object_add(out, k, json_object_get(v));
        json_object_put(applied);
    }
    json_add_time(out, "updatedAt", clock_now_ms());
    http_res_json(res, 200, out);
    json_object_put(out);
}

static void patch_fields(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_env env;
    store_table t;
    field_change fc = {0};
    if (api_table_load(ctx, req, 1, &env, &t, &err) < 0 || read_change(http_req_json_borrow(req), &fc, &err) < 0) {
        http_res_error_from(res, &err);
        store_table_release(&t);
        return;
    }
    fc.added = json_object_new_array(), fc.updated = json_object_new_array(), fc.removed = json_object_new_array();
    fc.req_added = json_object_new_array(), fc.req_removed = json_object_new_array();
    struct json_object *doc = json_tokener_parse(t.schema_json), *applied = json_object_new_object();
    if (!json_object_is_type(doc, json_type_object)) {
        json_object_put(doc);
        doc = json_object_new_object();
    }
    struct json_object *fields = json_object_new_object(), *required = json_object_new_object();
    json_object_object_add(fields, "added", fc.added);
    json_object_object_add(fields, "updated", fc.updated);
    json_object_object_add(fields, "removed", fc.removed);
    json_object_object_add(required, "added", fc.req_added);
    json_object_object_add(required, "removed", fc.req_removed);
    json_object_object_add(applied, "appliedFields", fields);
    json_object_object_add(applied, "appliedRequired", required);
    if (edit_schema(doc, &fc, &err) < 0) {
        http_res_error_from(res, &err);
        json_object_put(doc);
        json_object_put(applied);
    } else {
        save_schema(ctx, res, &env, &t, doc, applied, "update", &err);
    }
    store_table_release(&t);
}

static void rollback_schema(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_env env;
    store_table t;
    store_version v;
    if (api_rollback_target(ctx, req, res, STORE_VERSION_SCHEMA, &env, &t, &v) < 0) return;
    struct json_object *applied = json_object_new_object();
    json_object_object_add(applied, "rolledBackTo", json_object_new_int(v.version));
    save_schema(ctx, res, &env, &t, json_tokener_parse(v.body), applied, "rollback", &err);
    store_version_release(&v);
    store_table_release(&t);
}

static void schema_versions(api_ctx *ctx, http_req *req, http_res *res)
{
    api_versions_answer(ctx, req, res, STORE_VERSION_SCHEMA);
}

int api_admin_schema_register(http_router *router, api_app *app)
{
    http_route_opts json = {.body = HTTP_BODY_JSON, .max_body = 256 * 1024};
    const char *one = "/admin/v1/projects/:projectId/environments/:env/tables/:tableName";
    char path[160];
    snprintf(path, sizeof path, "%s/fields", one);
    if (api_route_admin(router, app, HTTP_PATCH, path, patch_fields, &json) < 0) return -1;
    snprintf(path, sizeof path, "%s/schema/versions", one);
    if (api_route_admin(router, app, HTTP_GET, path, schema_versions, NULL) < 0) return -1;
    snprintf(path, sizeof path, "%s/schema/rollback", one);
    return api_route_admin(router, app, HTTP_POST, path, rollback_schema, &json);
}
