/* reads: an environment's records through the management API, read as the table's admin (no key
 * scopes, row filters or column rules hide anything from an operator), with the /v1 list's code
 * (api/v1/data/records.h):
 *   GET /admin/v1/projects/:projectId/environments/:env/tables/:tableName/records      ({items, pagination})
 *   GET .../tables/:tableName/records/:id
 *   GET .../tables/:tableName/openapi                (the table's generated OpenAPI document of /v1)
 *   GET /admin/v1/projects/:projectId/environments/:env/files   (GET /v1/files' parameters, every file)
 *   GET|PATCH|DELETE .../files/:fileId  (/v1's file object and PATCH body; changes: owner and admin only)
 *   GET .../files/:fileId/download-url  (a signed URL, as /v1 answers)
 *   POST .../files/presigned-url, POST .../files  (an upload as /v1's: presign, PUT, register; owner and admin)
 * Every role that may view the environment reads (api_admin_env, reads); owner and admin change files
 * (api_admin_env, writes), with the /v1 handlers' code (api/v1/files/files_read.h). Management calls are not
 * metered as /v1 API calls. */
#include <stdio.h>
#include <stdlib.h>

#include "api/admin/env/surface.h"
#include "api/admin_gate.h"
#include "api/v1/data/records.h"
#include "api/v1/files/files_read.h"
#include "store/files.h"

/* The environment of the path, when the caller may view it (changes: when it may change it); else the
 * refusal is answered. */
static int gated_env(api_ctx *ctx, http_req *req, http_res *res, int change, store_env *env)
{
    bs_err err;
    bs_err_clear(&err);
    if (api_admin_env(ctx, req, change, env, &err) == 0) return 0;
    http_res_error_from(res, &err);
    return -1;
}

static void table_read(api_ctx *ctx, http_req *req, http_res *res, api_records_read what)
{
    store_env env;
    if (gated_env(ctx, req, res, 0, &env) == 0)
        api_records_admin_read(ctx, env.id, http_req_param(req, "tableName"), what, req, res);
}

static void records_list(api_ctx *ctx, http_req *req, http_res *res) { table_read(ctx, req, res, API_RECORDS_LIST); }
static void record_get(api_ctx *ctx, http_req *req, http_res *res) { table_read(ctx, req, res, API_RECORDS_GET); }
static void table_openapi(api_ctx *ctx, http_req *req, http_res *res) { table_read(ctx, req, res, API_RECORDS_OPENAPI); }

static void files_list(api_ctx *ctx, http_req *req, http_res *res)
{
    store_env env;
    if (gated_env(ctx, req, res, 0, &env) == 0) api_files_admin_list(ctx, env.id, req, res);
}

/* The activity-log entry of a file change that succeeded (register, patch, delete): the file object of
 * the answer names the file (a delete: `gone`, the name read before it). */
static void file_activity(api_ctx *ctx, http_req *req, http_res *res, const store_env *env, api_files_op op, const char *gone)
{
    int status = http_res_get_status(res);
    if (status < 200 || status > 299 || op == API_FILES_PRESIGN) return;
    strbuf *body = http_res_buffer(res);
    struct json_object *file = body && body->len ? json_tokener_parse(body->data) : NULL;
    const char *id = json_get_string(file, "id") ? json_get_string(file, "id") : http_req_param(req, "fileId");
    const char *name = json_get_string(file, "originalName") ? json_get_string(file, "originalName") : "";
    if (op == API_FILES_REGISTER) api_env_activity(ctx, env, "file", id, "create", "file %s uploaded", name);
    if (op == API_FILES_PATCH)
        api_env_activity(ctx, env, "file", id, "update", "file %s changed (visibility %s)", name,
                         json_get_string(file, "visibility") ? json_get_string(file, "visibility") : "unchanged");
    if (op == API_FILES_DELETE) api_env_activity(ctx, env, "file", id, "delete", "file %s deleted", gone[0] ? gone : id);
    json_object_put(file);
}

static void file_op(api_ctx *ctx, http_req *req, http_res *res, api_files_op op)
{
    store_env env;
    int change = op != API_FILES_GET && op != API_FILES_DOWNLOAD_URL;
    if (gated_env(ctx, req, res, change, &env) < 0) return;
    char gone[STORE_FILE_NAME_MAX] = "";
    if (op == API_FILES_DELETE) { /* its name, for the activity log, before it is gone */
        store_file *f = calloc(1, sizeof *f);
        int found = 0;
        bs_err err;
        if (f && store_files_get(ctx->app->docs, env.id, http_req_param(req, "fileId"), f, &found, &err) == 0 && found)
            snprintf(gone, sizeof gone, "%s", f->original_name);
        free(f);
    }
    api_files_admin_file(ctx, env.id, op, req, res);
    if (change) file_activity(ctx, req, res, &env, op, gone);
}

static void file_get(api_ctx *ctx, http_req *req, http_res *res) { file_op(ctx, req, res, API_FILES_GET); }
static void file_patch(api_ctx *ctx, http_req *req, http_res *res) { file_op(ctx, req, res, API_FILES_PATCH); }
static void file_delete(api_ctx *ctx, http_req *req, http_res *res) { file_op(ctx, req, res, API_FILES_DELETE); }
static void file_link(api_ctx *ctx, http_req *req, http_res *res) { file_op(ctx, req, res, API_FILES_DOWNLOAD_URL); }
static void file_presign(api_ctx *ctx, http_req *req, http_res *res) { file_op(ctx, req, res, API_FILES_PRESIGN); }
static void file_register(api_ctx *ctx, http_req *req, http_res *res) { file_op(ctx, req, res, API_FILES_REGISTER); }

static int files_register(http_router *router, api_app *app)
{
    const char *all = "/admin/v1/projects/:projectId/environments/:env/files";
    const char *one = "/admin/v1/projects/:projectId/environments/:env/files/:fileId";
    http_route_opts json = {.body = HTTP_BODY_JSON, .max_body = 64 * 1024};
    if (api_route_admin(router, app, HTTP_POST, "/admin/v1/projects/:projectId/environments/:env/files/presigned-url", file_presign, &json) < 0 ||
        api_route_admin(router, app, HTTP_POST, all, file_register, &json) < 0)
        return -1;
    if (api_route_admin(router, app, HTTP_GET, one, file_get, NULL) < 0) return -1;
    if (api_route_admin(router, app, HTTP_PATCH, one, file_patch, &json) < 0) return -1;
    if (api_route_admin(router, app, HTTP_GET, "/admin/v1/projects/:projectId/environments/:env/files/:fileId/download-url", file_link,
                        NULL) < 0)
        return -1;
    return api_route_admin(router, app, HTTP_DELETE, one, file_delete, NULL);
}

int api_admin_reads_register(http_router *router, api_app *app)
{
    const char *base = "/admin/v1/projects/:projectId/environments/:env/tables/:tableName/records";
    if (api_route_admin(router, app, HTTP_GET, base, records_list, NULL) < 0) return -1;
    if (api_route_admin(router, app, HTTP_GET, "/admin/v1/projects/:projectId/environments/:env/tables/:tableName/openapi",
                        table_openapi, NULL) < 0)
        return -1;
    if (api_route_admin(router, app, HTTP_GET, "/admin/v1/projects/:projectId/environments/:env/files", files_list, NULL) < 0 ||
        files_register(router, app) < 0)
        return -1;
    return api_route_admin(router, app, HTTP_GET, "/admin/v1/projects/:projectId/environments/:env/tables/:tableName/records/:id",
                           record_get, NULL);
}
