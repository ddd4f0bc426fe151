/* admin_tables.h: helpers shared by the management API's table files (admin_tables.c, admin_indexes.c,
 * admin_schema.c, admin_query.c). Private to src/api. */
#ifndef BASALT_API_ADMIN_TABLES_H
#define BASALT_API_ADMIN_TABLES_H

#include "api/api.h"
#include "core/schema.h"

/* Loads :tableName of the :projectId/:env of the path (writes: the caller must be allowed to change it);
 * 404 data/table-not-found. Release t with store_table_release. */
int api_table_load(api_ctx *ctx, http_req *req, int writes, store_env *env, store_table *t, bs_err *err);
/* api_table_load answering the error itself: 0, or -1 when the answer is already written. */
int api_table_open(api_ctx *ctx, http_req *req, http_res *res, int writes, store_env *env, store_table *t);
/* The table object of management-api.md (a new reference). */
struct json_object *api_table_json(api_ctx *ctx, const store_env *env, const store_table *t);
/* Answers the table object with status and releases t. */
void api_table_answer(api_ctx *ctx, http_res *res, const store_env *env, store_table *t, int status);
/* The table's compiled schema (free with schema_free), or NULL with err. */
schema *api_table_schema_new(const store_table *t, bs_err *err);
/* Who makes a management change, for version history: the operator token id or the secret key id. */
const char *api_admin_actor(const api_ctx *ctx);
/* The version of a rollback body, {version} or {targetVersion}; 0 when absent or not a positive integer. */
int api_version_param(struct json_object *body);
/* For POST .../rollback: loads the table (for writing) and the version the body names, answering any
 * error itself (400 without a version, 404 table/<kind>-version-not-found). 0 with *t and *v to release
 * (store_table_release, store_version_release), or -1 when the answer is written. */
int api_rollback_target(api_ctx *ctx, http_req *req, http_res *res, store_version_kind kind, store_env *env,
                        store_table *t, store_version *v);
/* Answers GET .../schema/versions or .../indexes/versions: {items: [{version, schema | indexes, isActive,
 * createdBy, createdAt}] newest first, currentVersion}. */
void api_versions_answer(api_ctx *ctx, http_req *req, http_res *res, store_version_kind kind);
/* Registers the index and schema routes (admin_indexes.c, admin_schema.c) and query analysis. */
int api_admin_indexes_register(http_router *router, api_app *app);
int api_admin_schema_register(http_router *router, api_app *app);
int api_admin_query_register(http_router *router, api_app *app);

#endif
