/* tables.h: helpers shared by the management API's table files (tables.c, indexes.c, versions.c,
 * query_analysis.c). Private to src/api/admin/tables. */
#ifndef BASALT_API_ADMIN_TABLES_TABLES_H
#define BASALT_API_ADMIN_TABLES_TABLES_H

#include "api/admin/tables/surface.h"
#include "api/admin_gate.h"
#include "api/route.h"
#include "core/schema.h"

/* Loads :tableName of the :projectId/:env of the path (writes: the caller must be allowed to change it);
 * 404 data/table-not-found. Release t with store_table_release. */
int api_table_load(api_ctx *ctx, http_req *req, int writes, store_env *env, store_table *t, bs_err *err);
/* api_table_load answering the error itself: 0, or -1 when the answer is already written. */
int api_table_open(api_ctx *ctx, http_req *req, http_res *res, int writes, store_env *env, store_table *t);
/* The table object of management-api.md (a new reference), with its documentCount. */
struct json_object *api_table_json(api_ctx *ctx, const store_env *env, const store_table *t);
/* The same; with_count 0 answers documentCount null without counting the records. */
struct json_object *api_table_json_counted(api_ctx *ctx, const store_env *env, const store_table *t, int with_count);
/* Answers the table object with status and releases t. */
void api_table_answer(api_ctx *ctx, http_res *res, const store_env *env, store_table *t, int status);
/* The table's compiled schema (free with schema_free), or NULL with err. */
schema *api_table_schema_new(const store_table *t, bs_err *err);
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
#endif
