/* avatars: a user's picture (client-api.md §3.14), stored like any upload (public, category avatars):
 *   POST   /v1/users/:userId/avatar/upload-url {filename, contentType?} → {url, uploadUrl, key, filename,
 *          contentType, expiresAt}; without contentType the type comes from the extension (blog-web and
 *          shopping-mall-web send only the file name); anything but an image is 400 file/invalid-format
 *   PATCH  /v1/users/:userId/avatar {s3Key}   → the whole user, image = the object's permanent public URL
 *   DELETE /v1/users/:userId/avatar           → {message}; image becomes null
 * Self or an admin (the secret key or an admin user). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/caller.h"
#include "api/respond.h"
#include "api/route.h"
#include "api/v1/files/surface.h"
#include "api/v1/pipeline.h"
#include "core/accounts.h"
#include "api/v1/files/storage.h"
#include "util/clock.h"
#include "util/json.h"

static const char *type_from_name(const char *name)
{
    static const char *const map[][2] = {{".jpg", "image/jpeg"}, {".jpeg", "image/jpeg"}, {".png", "image/png"},
                                         {".gif", "image/gif"},  {".webp", "image/webp"}, {".avif", "image/avif"},
                                         {".heic", "image/heic"}};
    const char *dot = name ? strrchr(name, '.') : NULL;
    for (size_t i = 0; dot && i < sizeof map / sizeof map[0]; i++)
        if (!strcasecmp(dot, map[i][0])) return map[i][1];
    return NULL;
}

static void upload_url(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_user u;
    int self = 0;
    upload_request r;
    char key[STORE_BLOB_KEY_MAX + 1];
    struct json_object *body = http_req_json_borrow(req);
    memset(&r, 0, sizeof r);
    r.filename = json_get_string(body, "filename");
    r.type = json_get_string(body, "contentType") ? json_get_string(body, "contentType") : type_from_name(r.filename);
    r.visibility = "public";
    r.category = "avatars";
    if (api_target_user(ctx, req, 1, &u, &self, &err) < 0 || api_storage_caller(ctx, r.by, sizeof r.by, &err) < 0) {
        /* err says why */
    } else if (!api_storage_type_ok(r.type) || strncasecmp(r.type, "image/", 6) || strlen(r.type) >= STORE_FILE_TYPE_MAX) {
        bs_err_set(&err, 400, "file/invalid-format", "An avatar is an image (jpeg, png, gif, webp)");
    } else {
        api_storage_new_key(ctx, r.visibility, r.category, r.filename, key, sizeof key, &err);
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    api_storage_answer_upload(ctx, res, &r, key, 1);
}

static void answer_user(http_res *res, const store_user *u)
{
    struct json_object *o = accounts_user_json(u);
    http_res_json(res, 200, o);
    json_object_put(o);
}

static void set_avatar(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_user u;
    store_object o;
    int self = 0, found = 0;
    char caller[STORE_FILE_ID_MAX], env[STORE_ID_MAX];
    const char *key = json_get_string(http_req_json_borrow(req), "s3Key");
    if (api_target_user(ctx, req, 1, &u, &self, &err) < 0 || api_storage_caller(ctx, caller, sizeof caller, &err) < 0) {
        /* err says why */
    } else if (!key || !store_blob_key_valid(key) || api_storage_key_env(key, env, sizeof env) < 0 ||
               strcmp(env, ctx->key.environment_id)) {
        bs_err_set(&err, 400, "file/invalid-path", "s3Key: the key of an uploaded avatar");
    } else if (store_objects_get(ctx->app->docs, env, key, &o, &found, &err) == 0 && !found) {
        bs_err_set(&err, 400, "file/invalid-path", "Nothing was uploaded with this key");
    } else if (found && api_storage_settle(ctx->app, env, &o, &err) < 0) {
        /* err says why */
    } else if (found && caller[0] && strcmp(o.uploaded_by, caller)) {
        bs_err_set(&err, 403, "file/access-denied", "This upload is not yours");
    } else if (found && strncasecmp(o.content_type, "image/", 6)) {
        bs_err_set(&err, 400, "file/invalid-format", "An avatar is an image");
    } else if (found) {
        strbuf url;
        strbuf_init(&url, sizeof u.image);
        api_storage_url(ctx->app, key, NULL, &url);
        snprintf(u.image, sizeof u.image, "%s", url.data ? url.data : "");
        strbuf_release(&url);
        u.updated_at = clock_now_ms();
        store_users_update(ctx->app->docs, ctx->key.environment_id, &u, &found, &err);
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    answer_user(res, &u);
}

static void delete_avatar(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_user u;
    int self = 0, found = 0;
    if (api_target_user(ctx, req, 1, &u, &self, &err) == 0) {
        u.image[0] = '\0';
        u.updated_at = clock_now_ms();
        store_users_update(ctx->app->docs, ctx->key.environment_id, &u, &found, &err);
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    api_message(res, 200, "Avatar removed");
}

int api_avatars_register(http_router *router, api_app *app)
{
    http_route_opts json = {.body = HTTP_BODY_JSON, .max_body = 16 * 1024};
    if (api_route_v1_gated(router, app, HTTP_POST, "/v1/users/:userId/avatar/upload-url", upload_url, &json, API_GATE_STORAGE) < 0) return -1;
    if (api_route_v1(router, app, HTTP_PATCH, "/v1/users/:userId/avatar", set_avatar, &json) < 0) return -1;
    return api_route_v1(router, app, HTTP_DELETE, "/v1/users/:userId/avatar", delete_avatar, NULL);
}
