/* admin_query: query analysis through the management API (management-api.md):
 *   POST .../tables/:tableName/explain      {andFilters, orFilters, search, searchType, sortBy, sortDirection,
 *                                            page, limit, select} as a list takes them (objects or strings)
 *   GET  .../tables/:tableName/query-stats  per query shape: count, mean and p95 time, rows scanned per row
 *                                            returned, the index used (core/querystats)
 * Explain runs EXPLAIN QUERY PLAN on the very SQL a list with those parameters runs, and suggests the
 * compound index that would serve it: equality fields first, then the sort, then one range field. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin/tables/surface.h"
#include "api/route.h"
#include "api/admin/tables/tables.h"
#include "core/query.h"
#include "util/json.h"

#define EXPLAIN_PARAMS 9

/* The text of a body member as a list parameter (objects and arrays as JSON, numbers as digits); the
 * text lives in the body object or in slot. NULL when absent. */
static const char *param_text(struct json_object *body, const char *key, char slot[32])
{
    struct json_object *v;
    if (!json_object_object_get_ex(body, key, &v) || !v) return NULL;
    switch (json_object_get_type(v)) {
    case json_type_string: return json_object_get_string(v);
    case json_type_int: snprintf(slot, 32, "%lld", (long long)json_object_get_int64(v)); return slot;
    case json_type_object:
    case json_type_array: return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    default: return "";
    }
}

static int is_system(const query_field *f) { return f->kind != QUERY_FIELD_DOC; }

/* Adds field (direction dir) to the suggested fields unless there already. */
static void suggest_add(struct json_object *fields, const query_field *f, int dir)
{
    const char *name = f->path;
    if (!json_object_object_get_ex(fields, name, NULL)) json_object_object_add(fields, name, json_object_new_int(dir));
}

/* An index for a plan the database cannot serve from an index (a scan or a sort step): NULL when none helps. */
static struct json_object *suggestion(const query_plan *plan, const store_explain *ex)
{
    if (!ex->full_scan && !ex->sorts) return NULL;
    struct json_object *fields = json_object_new_object();
    int doc_fields = 0;
    const query_group *g = &plan->and_group;
    for (size_t i = 0; i < g->count; i++) {
        const query_cond *c = &plan->conds[g->first + i];
        if (c->op == QUERY_EQ || c->op == QUERY_IN) { suggest_add(fields, &c->field, 1); doc_fields += !is_system(&c->field); }
    }
    suggest_add(fields, &plan->sort, plan->sort_desc ? -1 : 1);
    doc_fields += !is_system(&plan->sort);
    for (size_t i = 0; i < g->count; i++) {
        const query_cond *c = &plan->conds[g->first + i];
        if (c->op >= QUERY_GT && c->op <= QUERY_LTE && !json_object_object_get_ex(fields, c->field.path, NULL)) {
            suggest_add(fields, &c->field, 1);
            doc_fields += !is_system(&c->field);
            break;
        }
    }
    if (!doc_fields || json_object_object_length(fields) > STORE_INDEX_MAX_FIELDS) {
        json_object_put(fields);
        return NULL;
    }
    char name[STORE_INDEX_NAME_MAX + 1] = "idx";
    json_object_object_foreach(fields, f, dir) {
        (void)dir;
        size_t len = strlen(name);
        snprintf(name + len, sizeof name - len, "_%s", f);
    }
    for (char *p = name; *p; p++) if (*p == '.') *p = '_';
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "name", json_object_new_string(name));
    json_object_object_add(out, "fields", fields);
    json_object_object_add(out, "reason", json_object_new_string(
        ex->full_scan ? "the list reads every record of the table; equality filters, then the sort, then a range in one index serve it"
                      : "the list sorts its rows after reading them; an index ending with the sort field gives the order"));
    return out;
}

/* How a list of this shape gets pagination.total (docs/data-api.md "Totals"), and why it is slower when it is. */
static struct json_object *total_note(const store_explain *ex)
{
    struct json_object *out = json_object_new_object();
    const char *why;
    if (ex->total_maintained)
        why = "kept exact by every write of the table; a list reads it in the same transaction as its page";
    else if (ex->total_maintainable)
        why = "counted by each list (not its last page) until a count finds 200 or more matching rows; that shape is "
              "then counted once more and from then on kept exact by every write";
    else
        why = "filters with $regex, or longer than 4096 bytes, cannot be kept by the writes: every list that is not "
              "its last page counts the matching rows";
    json_object_object_add(out, "method", json_object_new_string(ex->total_maintained ? "maintained" : "counted"));
    json_object_object_add(out, "reason", json_object_new_string(why));
    if (ex->full_scan)
        json_object_object_add(out, "pageCost", json_object_new_string(
            "no index serves these filters: each page reads the table until it has its rows (see suggestion)"));
    return out;
}

static void explain(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_env env;
    store_table t;
    struct json_object *body = http_req_json_borrow(req);
    if (api_table_load(ctx, req, 0, &env, &t, &err) < 0 ||
        (!json_object_is_type(body, json_type_object) && bs_err_set(&err, 400, "data/validation-error", "A JSON object body is required") < 0)) {
        http_res_error_from(res, &err);
        store_table_release(&t);
        return;
    }
    char slots[EXPLAIN_PARAMS][32];
    query_params p = {
        .and_filters = param_text(body, "andFilters", slots[0]), .or_filters = param_text(body, "orFilters", slots[1]),
        .search = param_text(body, "search", slots[2]), .search_type = param_text(body, "searchType", slots[3]),
        .sort_by = param_text(body, "sortBy", slots[4]), .sort_direction = param_text(body, "sortDirection", slots[5]),
        .page = param_text(body, "page", slots[6]), .limit = param_text(body, "limit", slots[7]),
        .select = param_text(body, "select", slots[8])};
    static _Thread_local query_plan plan;
    store_explain ex = {0};
    schema *s = api_table_schema_new(&t, &err);
    int rc = s ? query_plan_parse(&plan, &p, s, &err) : -1;
    if (rc == 0) rc = store_docs_explain(ctx->app->docs, env.id, t.name, &plan, NULL, &ex, &err);
    if (rc < 0) {
        http_res_error_from(res, &err);
    } else {
        struct json_object *out = json_object_new_object();
        json_object_object_add(out, "tableName", json_object_new_string(t.name));
        json_object_object_add(out, "index", ex.index[0] ? json_object_new_string(ex.index) : NULL);
        json_object_object_add(out, "fullScan", json_object_new_boolean(ex.full_scan));
        json_object_object_add(out, "sortInMemory", json_object_new_boolean(ex.sorts));
        json_object_object_add(out, "estimatedRows", json_object_new_int64(ex.matching));
        json_object_object_add(out, "plan", json_object_get(ex.steps));
        json_object_object_add(out, "suggestion", suggestion(&plan, &ex));
        json_object_object_add(out, "total", total_note(&ex));
        json_object_object_add(out, "indexVersion", json_object_new_int(t.index_version));
        http_res_json(res, 200, out);
        json_object_put(out);
    }
    if (rc == 0 || s) query_plan_release(&plan);
    store_explain_release(&ex);
    schema_free(s);
    store_table_release(&t);
}

static void query_stats(api_ctx *ctx, http_req *req, http_res *res)
{
    store_env env;
    store_table t;
    if (api_table_open(ctx, req, res, 0, &env, &t) < 0) return;
    struct json_object *out = querystats_json(ctx->app->stats, env.id, t.name);
    json_object_object_add(out, "tableName", json_object_new_string(t.name));
    json_object_object_add(out, "enabled", json_object_new_boolean(ctx->app->stats != NULL));
    http_res_json(res, 200, out);
    json_object_put(out);
    store_table_release(&t);
}

int api_admin_query_register(http_router *router, api_app *app)
{
    http_route_opts json = {.body = HTTP_BODY_JSON, .max_body = 256 * 1024};
    if (api_route_admin(router, app, HTTP_POST, "/admin/v1/projects/:projectId/environments/:env/tables/:tableName/explain",
                        explain, &json) < 0)
        return -1;
    return api_route_admin(router, app, HTTP_GET, "/admin/v1/projects/:projectId/environments/:env/tables/:tableName/query-stats",
                           query_stats, NULL);
}
