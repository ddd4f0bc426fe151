/* admin_tables: an environment's tables through the management API (management-api.md):
 *   GET/POST   /admin/v1/projects/:projectId/environments/:env/tables   (GET: ?page&limit&search&counts)
 *   GET/PATCH/DELETE .../tables/:tableName
 *   PUT        .../tables/:tableName/permissions      (full replacement, client-api.md §5.5)
 * Schemas are checked by compiling them (core/schema), permissions by core/access. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin/tables/tables.h"
#include "api/admin/tables/surface.h"
#include "api/admin_gate.h"
#include "api/respond.h"
#include "api/route.h"
#include "core/table_cache.h"
#include "core/access.h"
#include "core/keys.h"
#include "core/query.h"
#include "core/schema.h"
#include "util/clock.h"

#define TABLE_DESCRIPTION_MAX 1000
#define TABLES_PAGE_DEFAULT 20
#define TABLES_PAGE_MAX 100

static int table_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > STORE_TABLE_NAME_MAX) return 0;
    if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') || name[0] == '_')) return 0;
    for (size_t i = 1; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return 0;
    }
    return 1;
}

static struct json_object *default_indexes(void)
{
    static const char *const defs[] = {
        "{\"name\":\"_id_\",\"fields\":{\"id\":1},\"unique\":true,\"default\":true}",
        "{\"name\":\"idx_createdAt_desc\",\"fields\":{\"createdAt\":-1},\"unique\":false,\"default\":true}",
        "{\"name\":\"idx_updatedAt_desc\",\"fields\":{\"updatedAt\":-1},\"unique\":false,\"default\":true}",
        "{\"name\":\"idx_createdBy\",\"fields\":{\"createdBy\":1},\"unique\":false,\"default\":true}"};
    struct json_object *arr = json_object_new_array();
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) json_object_array_add(arr, json_tokener_parse(defs[i]));
    return arr;
}

struct json_object *api_table_json(api_ctx *ctx, const store_env *env, const store_table *t)
{
    return api_table_json_counted(ctx, env, t, 1);
}

struct json_object *api_table_json_counted(api_ctx *ctx, const store_env *env, const store_table *t, int with_count)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(t->id));
    json_object_object_add(o, "tableName", json_object_new_string(t->name));
    json_object_object_add(o, "displayName", t->display_name ? json_object_new_string(t->display_name) : NULL);
    json_object_object_add(o, "description", t->description ? json_object_new_string(t->description) : NULL);
    json_object_object_add(o, "schema", json_tokener_parse(t->schema_json));
    json_object_object_add(o, "schemaVersion", json_object_new_int(t->schema_version));
    struct json_object *indexes = default_indexes(), *custom = t->indexes_json ? json_tokener_parse(t->indexes_json) : NULL;
    for (size_t i = 0; custom && i < json_object_array_length(custom); i++)
        json_object_array_add(indexes, json_object_get(json_object_array_get_idx(custom, i)));
    json_object_put(custom);
    json_object_object_add(o, "indexes", indexes);
    json_object_object_add(o, "indexVersion", json_object_new_int(t->index_version));
    json_object_object_add(o, "permissions", access_effective_permissions(t->permissions_json));
    int64_t count = 0;
    bs_err err;
    if (with_count && store_docs_count(ctx->app->docs, env->id, t->name, &count, &err) < 0) count = 0;
    json_object_object_add(o, "documentCount", with_count ? json_object_new_int64(count) : NULL);
    json_add_time(o, "createdAt", t->created_at);
    json_add_time(o, "updatedAt", t->updated_at);
    return o;
}

static int optional_text(struct json_object *body, const char *key, size_t max, char **out, bs_err *err)
{
    struct json_object *v;
    if (!json_object_object_get_ex(body, key, &v)) return 0;
    free(*out);
    *out = NULL;
    if (!v) return 0;
    if (!json_object_is_type(v, json_type_string) || json_utf8_chars(json_object_get_string(v)) > max)
        return bs_err_set(err, 400, "data/validation-error", "%s must be a string of at most %zu characters", key, max);
    *out = strdup(json_object_get_string(v));
    return *out ? 0 : bs_err_internal(err);
}

schema *api_table_schema_new(const store_table *t, bs_err *err)
{
    struct json_object *doc = json_tokener_parse(t->schema_json ? t->schema_json : "{}");
    schema *s = schema_compile(doc, err);
    json_object_put(doc);
    return s;
}

/* Row filters use the list filter syntax: each is parsed against the table's schema now, so a bad one is
 * refused here rather than failing every list later. */
static int check_row_filters(struct json_object *perms, const store_table *t, bs_err *err)
{
    struct json_object *rows;
    if (!json_object_object_get_ex(perms, "rowFilters", &rows)) return 0;
    schema *s = api_table_schema_new(t, err);
    if (!s) return -1;
    static _Thread_local query_plan scratch;
    memset(&scratch, 0, sizeof scratch);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < json_object_array_length(rows); i++) {
        struct json_object *f;
        json_object_object_get_ex(json_object_array_get_idx(rows, i), "filter", &f);
        rc = query_plan_add_row_filter(&scratch, f, s, "user", err);
        query_plan_release(&scratch);
    }
    schema_free(s);
    return rc;
}

/* Checks a permissions value from a body and stores its text in t (NULL value = back to defaults). */
static int take_permissions(struct json_object *v, store_table *t, bs_err *err)
{
    free(t->permissions_json);
    t->permissions_json = NULL;
    if (!v) return 0;
    if (access_validate_document(v, err) < 0 || check_row_filters(v, t, err) < 0) return -1;
    t->permissions_json = strdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
    return t->permissions_json ? 0 : bs_err_internal(err);
}

static int parse_create(struct json_object *body, store_table *t, bs_err *err)
{
    if (!body || !json_object_is_type(body, json_type_object))
        return bs_err_set(err, 400, "data/validation-error", "A JSON object body is required");
    const char *name = json_get_string(body, "tableName");
    if (!table_name_valid(name))
        return bs_err_set(err, 400, "data/validation-error",
                          "tableName must start with a letter and hold at most 64 letters, digits, '_' or '-'");
    snprintf(t->name, sizeof t->name, "%s", name);
    struct json_object *schema_doc = NULL, *perms;
    json_object_object_get_ex(body, "schema", &schema_doc);
    schema *compiled = schema_compile(schema_doc, err);
    if (!compiled) return -1;
    schema_free(compiled);
    t->schema_json = strdup(schema_doc ? json_object_to_json_string_ext(schema_doc, JSON_C_TO_STRING_PLAIN) : "{}");
    if (!t->schema_json) return bs_err_internal(err);
    if (json_object_object_get_ex(body, "permissions", &perms) && take_permissions(perms, t, err) < 0) return -1;
    if (optional_text(body, "displayName", 100, &t->display_name, err) < 0) return -1;
    return optional_text(body, "description", TABLE_DESCRIPTION_MAX, &t->description, err);
}

/* 1 when name holds q, ignoring ASCII case ("" holds every q ""). */
static int name_holds(const char *name, const char *q)
{
    size_t n = strlen(name), m = strlen(q);
    for (size_t i = 0; i + m <= n; i++) {
        size_t j = 0;
        while (j < m && tolower((unsigned char)name[i + j]) == tolower((unsigned char)q[j])) j++;
        if (j == m) return 1;
    }
    return 0;
}

/* GET .../tables?page&limit&search&counts: a page of the environment's tables by name, {items,
 * pagination}; documentCount (a count of every record) only with counts=true, and then only for the
 * page's tables, so a list costs the same with 10 tables or 1,000. */
static void list_tables(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_env env;
    store_table *tables = NULL;
    size_t n = 0;
    int64_t page = api_query_int(req, "page", 1, 1000000), limit = api_query_int(req, "limit", TABLES_PAGE_DEFAULT, TABLES_PAGE_MAX);
    const char *search = http_req_query(req, "search"), *counts = http_req_query(req, "counts");
    if (counts && strcmp(counts, "true") && strcmp(counts, "false"))
        bs_err_set(&err, 400, "common/invalid-parameters", "counts: true or false");
    else if (search && strlen(search) > STORE_TABLE_NAME_MAX)
        bs_err_set(&err, 400, "common/invalid-parameters", "search: at most %d characters", STORE_TABLE_NAME_MAX);
    else if (api_admin_env(ctx, req, 0, &env, &err) == 0)
        store_docs_table_list(ctx->app->docs, env.id, &tables, &n, &err);
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    int with_count = counts && !strcmp(counts, "true");
    int64_t total = 0, first = (page - 1) * limit;
    struct json_object *items = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        if (search && !name_holds(tables[i].name, search)) continue;
        if (total >= first && total < first + limit)
            json_object_array_add(items, api_table_json_counted(ctx, &env, &tables[i], with_count));
        total++;
    }
    store_table_list_free(tables, n);
    api_answer_page(res, items, total, page, limit);
}

static void create_table(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_env env;
    store_table t;
    memset(&t, 0, sizeof t);
    t.created_at = t.updated_at = clock_now_ms();
    t.schema_version = t.index_version = 1;
    if (api_admin_env(ctx, req, 1, &env, &err) < 0 || parse_create(http_req_json_borrow(req), &t, &err) < 0 ||
        keys_new_id("tbl", t.id) < 0 || store_docs_table_create(ctx->app->docs, env.id, &t, api_admin_actor(ctx), &err) < 0) {
        http_res_error_from(res, &err);
        store_table_release(&t);
        return;
    }
    fleet_bus_publish(ctx->app->bus, FLEET_TABLES, env.id);
    api_env_activity(ctx, &env, "table", t.name, "create", "table %s created", t.name);
    int found = 0;
    if (!strcmp(env.status, "ready")) /* platform.md §5.3: the first table makes an environment active */
        store_control_env_set_status(ctx->app->control, env.id, "active", clock_now_ms(), &found, &err);
    struct json_object *out = api_table_json(ctx, &env, &t);
    http_res_json(res, 201, out);
    json_object_put(out);
    store_table_release(&t);
}

/* Loads :tableName of the resolved environment; 404 data/table-not-found. */
int api_table_load(api_ctx *ctx, http_req *req, int writes, store_env *env, store_table *t, bs_err *err)
{
    int found = 0;
    memset(t, 0, sizeof *t);
    if (api_admin_env(ctx, req, writes, env, err) < 0) return -1;
    const char *name = http_req_param(req, "tableName");
    if (!table_name_valid(name)) return bs_err_set(err, 404, "data/table-not-found", "Table not found");
    if (store_docs_table_get(ctx->app->docs, env->id, name, t, &found, err) < 0) return -1;
    return found ? 0 : bs_err_set(err, 404, "data/table-not-found", "Table %s not found", name);
}

int api_table_open(api_ctx *ctx, http_req *req, http_res *res, int writes, store_env *env, store_table *t)
{
    bs_err err;
    if (api_table_load(ctx, req, writes, env, t, &err) == 0) return 0;
    http_res_error_from(res, &err);
    return -1;
}

void api_table_answer(api_ctx *ctx, http_res *res, const store_env *env, store_table *t, int status)
{
    struct json_object *out = api_table_json(ctx, env, t);
    http_res_json(res, status, out);
    json_object_put(out);
    store_table_release(t);
}

static void get_table(api_ctx *ctx, http_req *req, http_res *res)
{
    store_env env;
    store_table t;
    if (api_table_open(ctx, req, res, 0, &env, &t) < 0) return;
    api_table_answer(ctx, res, &env, &t, 200);
}

/* A change to a table's definition: load it, let `change` edit it from the body, save, log (action),
 * answer. */
typedef int (*table_change_fn)(struct json_object *body, store_table *t, bs_err *err);

static void change_table(api_ctx *ctx, http_req *req, http_res *res, table_change_fn change, const char *action)
{
    bs_err err;
    store_env env;
    store_table t;
    int found = 0;
    if (api_table_load(ctx, req, 1, &env, &t, &err) < 0 || change(http_req_json_borrow(req), &t, &err) < 0 ||
        (t.updated_at = clock_now_ms(), store_docs_table_update(ctx->app->docs, env.id, &t, &found, &err)) < 0) {
        http_res_error_from(res, &err);
        store_table_release(&t);
        return;
    }
    fleet_bus_publish(ctx->app->bus, FLEET_TABLES, env.id);
    api_env_activity(ctx, &env, "table", t.name, action, "table %s: %s", t.name,
                     strcmp(action, "permissions") ? "name or description changed" : "permissions changed");
    api_table_answer(ctx, res, &env, &t, 200);
}

static int change_texts(struct json_object *body, store_table *t, bs_err *err)
{
    if (!json_object_is_type(body, json_type_object))
        return bs_err_set(err, 400, "data/validation-error", "A JSON object body is required");
    if (optional_text(body, "displayName", 100, &t->display_name, err) < 0) return -1;
    return optional_text(body, "description", TABLE_DESCRIPTION_MAX, &t->description, err);
}

static int change_permissions(struct json_object *body, store_table *t, bs_err *err)
{
    if (!body) return bs_err_set(err, 400, "data/validation-error", "A permissions document is required");
    return take_permissions(body, t, err);
}

static void patch_table(api_ctx *ctx, http_req *req, http_res *res) { change_table(ctx, req, res, change_texts, "update"); }
static void put_permissions(api_ctx *ctx, http_req *req, http_res *res)
{
    change_table(ctx, req, res, change_permissions, "permissions");
}

static void delete_table(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_env env;
    store_table t;
    int found = 0;
    if (api_table_load(ctx, req, 1, &env, &t, &err) < 0 || store_docs_table_drop(ctx->app->docs, env.id, t.name, &found, &err) < 0) {
        http_res_error_from(res, &err);
        store_table_release(&t);
        return;
    }
    fleet_bus_publish(ctx->app->bus, FLEET_TABLES, env.id);
    api_env_activity(ctx, &env, "table", t.name, "delete", "table %s deleted", t.name);
    char body[160];
    int n = snprintf(body, sizeof body, "{\"success\":true,\"tableName\":\"%s\"}", t.name);
    http_res_body(res, 200, "application/json; charset=utf-8", body, (size_t)n);
    store_table_release(&t);
}

int api_admin_tables_register(http_router *router, api_app *app)
{
    const char *base = "/admin/v1/projects/:projectId/environments/:env/tables";
    const char *one = "/admin/v1/projects/:projectId/environments/:env/tables/:tableName";
    http_route_opts json = {.body = HTTP_BODY_JSON, .max_body = 256 * 1024};
    if (api_route_admin(router, app, HTTP_GET, base, list_tables, NULL) < 0) return -1;
    if (api_route_admin(router, app, HTTP_POST, base, create_table, &json) < 0) return -1;
    if (api_route_admin(router, app, HTTP_GET, one, get_table, NULL) < 0) return -1;
    if (api_route_admin(router, app, HTTP_PATCH, one, patch_table, &json) < 0) return -1;
    if (api_route_admin(router, app, HTTP_DELETE, one, delete_table, NULL) < 0) return -1;
    return api_route_admin(router, app, HTTP_PUT,
                           "/admin/v1/projects/:projectId/environments/:env/tables/:tableName/permissions",
                           put_permissions, &json);
}
