/* files: the file API of client-api.md §4 (a user token or the secret key; anybody else 401
 * common/authentication-required):
 *   POST /v1/files/presigned-url {filename, contentType, fileSize?, visibility?, category?}
 *        → {url, key, filename, contentType, expiresAt}: a signed PUT to the storage target, 15 minutes
 *   POST /v1/files {s3Key, originalName, mimeType, size, width?, height?, visibility?, bucket?, metadata?}
 *        → 201 file: registers an uploaded object (the caller's own upload)
 *   GET /v1/files?page&limit&sortBy&sortDirection&visibility&ownerType&ownerId&bucket&mimeType&search
 *   GET/PATCH/DELETE /v1/files/:fileId         PATCH {originalName?, visibility?, metadata?, sharedWith?}
 *   POST|GET /v1/files/:fileId/download-url    → {url, filename, contentType, size, expiresAt}
 *   POST /v1/files/multipart/init|presigned-url|complete|abort, GET /v1/files/multipart/parts
 * Access (§4.8): the owner and the secret key do everything; other signed-in users see public and
 * protected files (public fields only: no ownerId, no metadata.custom), shared files when listed in
 * sharedWith, never private ones (403 file/access-denied). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/respond.h"
#include "api/route.h"
#include "api/v1/files/files_read.h"
#include "api/v1/files/surface.h"
#include "api/v1/pipeline.h"
#include "api/v1/files/storage.h"
#include "core/keys.h"
#include "util/clock.h"
#include "util/json.h"

#define FILES_PAGE_MAX 100
#define FILE_NAME_CHARS 255
#define FILE_KEY_NAME_MAX 100

static const char *const categories[] = {"images", "documents", "media", "attachments", "exports", "backups", "temp", "avatars"};
static const char *const buckets[] = {"avatars", "documents", "media", "files", "images", "temp"};

static int one_of(const char *v, const char *const *list, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        if (!strcmp(v, list[i])) return 1;
    return 0;
}

int api_storage_visibility_ok(const char *v)
{
    static const char *const all[] = {"public", "private", "protected", "shared"};
    return one_of(v, all, 4);
}

static int is_secret(const api_ctx *ctx) { return ctx->key_admin; }

/* A user token's session was checked by the pipeline (its session stage, api/v1/pipeline.c), so a signed-out
 * token gets no upload URL. */
int api_storage_caller(api_ctx *ctx, char *out, size_t size, bs_err *err)
{
    if (ctx->has_user) {
        snprintf(out, size, "%s", ctx->user.sub);
    } else if (is_secret(ctx)) {
        out[0] = '\0';
    } else {
        return bs_err_set(err, 401, "common/authentication-required", "Files need a signed-in user or the secret key");
    }
    return 0;
}

/* A file name the client gave: 1–255 characters, no control characters, no path separators. */
static int name_ok(const char *name)
{
    if (!name || !*name || json_utf8_chars(name) > FILE_NAME_CHARS) return 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\') return 0;
    return strcmp(name, ".") && strcmp(name, "..");
}

int api_storage_type_ok(const char *type)
{
    size_t slash = type ? strcspn(type, "/") : 0;
    if (!type || slash == 0 || !type[slash] || !type[slash + 1] || strchr("; ", type[slash + 1])) return 0;
    for (const unsigned char *p = (const unsigned char *)type; *p; p++)
        if (*p < 0x20 || *p >= 0x7f) return 0; /* CR, LF, TAB, NUL, DEL, non-ASCII: nothing a header may carry */
    return 1;
}

/* A new object key of env_id for filename. */
static int new_key_in(const char *env_id, const char *visibility, const char *category, const char *filename, char *out, size_t size,
                      bs_err *err)
{
    char id[STORE_FILE_ID_MAX], safe[FILE_KEY_NAME_MAX + 1];
    size_t j = 0;
    if (!name_ok(filename)) return bs_err_set(err, 400, "file/invalid-name", "filename: 1 to %d characters, no / \\ or control characters", FILE_NAME_CHARS);
    for (const char *p = filename; *p && j < FILE_KEY_NAME_MAX; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
        safe[j] = ok && !(j == 0 && c == '.') ? c : '_';
        j++;
    }
    safe[j] = '\0';
    if (keys_new_id("obj", id) < 0) return bs_err_internal(err);
    snprintf(out, size, "%s/%s/%s/%s/%s", env_id, visibility, category, id, safe);
    return store_blob_key_valid(out) ? 0 : bs_err_set(err, 400, "file/invalid-name", "Unusable file name");
}

int api_storage_new_key(api_ctx *ctx, const char *visibility, const char *category, const char *filename, char *out, size_t size,
                        bs_err *err)
{
    return new_key_in(ctx->key.environment_id, visibility, category, filename, out, size, err);
}

/* ---- presigned upload ---- */

/* Reads a non-negative byte count; 0 when absent. */
static int size_field(struct json_object *body, const char *name, int required, int64_t *out, bs_err *err)
{
    struct json_object *v;
    *out = 0;
    if (!json_object_object_get_ex(body, name, &v)) return required ? bs_err_set(err, 400, "common/invalid-parameters", "%s is required", name) : 0;
    if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
        return bs_err_set(err, 400, "common/invalid-parameters", "%s must be a number", name);
    double d = json_object_get_double(v);
    if (d < 0) return bs_err_set(err, 400, "file/size-negative", "%s must not be negative", name);
    *out = (int64_t)d;
    return 0;
}

/* The checks shared by single and multipart uploads: {filename, contentType, fileSize, visibility, category}. */
/* An upload request's fields (u->by is the caller's to fill). */
static int upload_fields(api_ctx *ctx, struct json_object *body, int size_required, upload_request *u, bs_err *err)
{
    u->filename = json_get_string(body, "filename");
    u->type = json_get_string(body, "contentType");
    u->visibility = json_get_string(body, "visibility") ? json_get_string(body, "visibility") : "private";
    u->category = json_get_string(body, "category") ? json_get_string(body, "category") : "attachments";
    if (!json_object_is_type(body, json_type_object)) return bs_err_set(err, 400, "common/invalid-parameters", "A JSON object body is required");
    if (!name_ok(u->filename)) return bs_err_set(err, 400, "file/invalid-name", "filename: 1 to %d characters, no / \\ or control characters", FILE_NAME_CHARS);
    if (!u->type || !*u->type) return bs_err_set(err, 400, "common/invalid-parameters", "contentType (a MIME type) is required");
    if (strlen(u->type) >= STORE_FILE_TYPE_MAX) return bs_err_set(err, 400, "file/mime-type-too-long", "contentType: at most 100 characters");
    if (!api_storage_type_ok(u->type)) return bs_err_set(err, 400, "common/invalid-parameters", "contentType: type/subtype, printable ASCII");
    if (!api_storage_visibility_ok(u->visibility)) return bs_err_set(err, 400, "common/invalid-parameters", "visibility: public, private, protected or shared");
    if (!one_of(u->category, categories, sizeof categories / sizeof categories[0]))
        return bs_err_set(err, 400, "common/invalid-parameters", "category: images, documents, media, attachments, exports, backups or temp");
    if (size_field(body, "fileSize", size_required, &u->size, err) < 0) return -1;
    uint64_t limit = api_storage_limit(ctx->app, u->type);
    if ((uint64_t)u->size > limit)
        return bs_err_set(err, 400, "file/file-too-large", "%s files may be at most %llu bytes", u->type, (unsigned long long)limit);
    return 0;
}

int api_storage_upload_read(api_ctx *ctx, struct json_object *body, int size_required, upload_request *u, bs_err *err)
{
    memset(u, 0, sizeof *u);
    if (api_storage_caller(ctx, u->by, sizeof u->by, err) < 0) return -1;
    return upload_fields(ctx, body, size_required, u, err);
}

/* Answers {url, key, filename, contentType, expiresAt} for an upload of u to key (shared with avatars). */
int api_storage_answer_upload(api_ctx *ctx, http_res *res, const upload_request *u, const char *key, int avatar)
{
    strbuf url;
    strbuf_init(&url, 8192);
    int64_t expires = clock_now_ms() + STORAGE_UPLOAD_TTL_MS;
    storage_grant g = {.method = "PUT", .key = key, .expires = expires / 1000, .size = (uint64_t)u->size, .type = u->type,
                       .by = u->by, .vis = u->visibility, .upload = ""};
    bs_err err;
    bs_err_clear(&err);
    if (ctx->app->s3_direct ? api_storage_direct_upload_url(ctx, u, key, &url, &err) < 0
                            : (api_storage_url(ctx->app, key, &g, &url) < 0 && bs_err_internal(&err) < 0)) {
        strbuf_release(&url);
        http_res_error_from(res, &err);
        return -1;
    }
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "url", json_object_new_string(url.data));
    if (avatar) json_object_object_add(o, "uploadUrl", json_object_new_string(url.data));
    json_object_object_add(o, "key", json_object_new_string(key));
    json_object_object_add(o, "filename", json_object_new_string(u->filename));
    json_object_object_add(o, "contentType", json_object_new_string(u->type));
    json_add_time(o, "expiresAt", (expires / 1000) * 1000);
    http_res_json(res, 200, o);
    json_object_put(o);
    strbuf_release(&url);
    return 0;
}

/* A presigned upload into env_id; operator: a management upload (no caller, as the secret key's). */
static void presign_in(api_ctx *ctx, const char *env_id, int operator, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    upload_request u;
    char key[STORE_BLOB_KEY_MAX + 1];
    memset(&u, 0, sizeof u);
    if ((operator ? upload_fields(ctx, http_req_json_borrow(req), 0, &u, &err)
                  : api_storage_upload_read(ctx, http_req_json_borrow(req), 0, &u, &err)) < 0 ||
        new_key_in(env_id, u.visibility, u.category, u.filename, key, sizeof key, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    api_storage_answer_upload(ctx, res, &u, key, 0);
}

static void presign(api_ctx *ctx, http_req *req, http_res *res) { presign_in(ctx, ctx->key.environment_id, 0, req, res); }

/* ---- file records ---- */

static int can_read(const api_ctx *ctx, const store_file *f, const char *caller)
{
    if (is_secret(ctx) || !strcmp(f->owner_id, caller)) return 1;
    if (!strcmp(f->visibility, "public") || !strcmp(f->visibility, "protected")) return 1;
    if (strcmp(f->visibility, "shared")) return 0;
    struct json_object *list = json_tokener_parse(f->shared_with);
    int ok = 0;
    for (size_t i = 0; json_object_is_type(list, json_type_array) && i < json_object_array_length(list) && !ok; i++)
        ok = !strcmp(json_object_get_string(json_object_array_get_idx(list, i)), caller);
    json_object_put(list);
    return ok;
}

static int is_owner(const api_ctx *ctx, const store_file *f, const char *caller)
{
    return is_secret(ctx) || (caller[0] && !strcmp(f->owner_id, caller));
}

/* The file object of §4.5; full for its owner and the secret key. */
static struct json_object *file_json(const store_file *f, int full)
{
    struct json_object *o = json_object_new_object(), *meta = json_tokener_parse(f->metadata);
    if (!json_object_is_type(meta, json_type_object)) {
        json_object_put(meta);
        meta = json_object_new_object();
    }
    if (!full) json_object_object_del(meta, "custom");
    json_object_object_add(o, "id", json_object_new_string(f->id));
    json_object_object_add(o, "s3Key", json_object_new_string(f->key));
    json_object_object_add(o, "key", json_object_new_string(f->key));
    json_object_object_add(o, "originalName", json_object_new_string(f->original_name));
    json_object_object_add(o, "mimeType", json_object_new_string(f->mime_type));
    json_object_object_add(o, "size", json_object_new_int64(f->size));
    if (f->width >= 0) json_object_object_add(o, "width", json_object_new_int64(f->width));
    if (f->height >= 0) json_object_object_add(o, "height", json_object_new_int64(f->height));
    json_object_object_add(o, "visibility", json_object_new_string(f->visibility));
    json_object_object_add(o, "bucket", f->bucket[0] ? json_object_new_string(f->bucket) : NULL);
    if (full) {
        json_object_object_add(o, "ownerId", json_object_new_string(f->owner_id));
        json_object_object_add(o, "sharedWith", json_tokener_parse(f->shared_with[0] ? f->shared_with : "[]"));
    }
    json_object_object_add(o, "ownerType", json_object_new_string(f->owner_type));
    json_object_object_add(o, "metadata", meta);
    json_add_time(o, "createdAt", f->created_at);
    json_add_time(o, "updatedAt", f->updated_at);
    return o;
}

static int optional_dim(struct json_object *body, const char *name, int64_t *out, bs_err *err)
{
    struct json_object *v;
    *out = -1;
    if (!json_object_object_get_ex(body, name, &v) || json_object_is_type(v, json_type_null)) return 0;
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 || json_object_get_int64(v) > 1000000)
        return bs_err_set(err, 400, "common/invalid-parameters", "%s: a whole number of pixels", name);
    *out = json_object_get_int64(v);
    return 0;
}

/* metadata: an object of at most STORE_FILE_META_MAX bytes (category, tags, description, alt,
 * relatedEntityId, custom — others kept as given). */
static int metadata_text(struct json_object *v, char *out, size_t size, bs_err *err)
{
    if (!json_object_is_type(v, json_type_object)) return bs_err_set(err, 400, "common/invalid-parameters", "metadata must be an object");
    const char *text = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    if (strlen(text) >= size) return bs_err_set(err, 400, "common/invalid-parameters", "metadata: at most %zu bytes", size - 1);
    snprintf(out, size, "%s", text);
    return 0;
}

/* Fills f from a registration body; the object must exist, in this environment, uploaded by the caller. */
static int register_read(api_ctx *ctx, const char *env_id, int operator, struct json_object *body, const char *caller, store_file *f,
                         bs_err *err)
{
    const char *key = json_get_string(body, "s3Key"), *name = json_get_string(body, "originalName");
    const char *type = json_get_string(body, "mimeType"), *vis = json_get_string(body, "visibility");
    const char *bucket = json_get_string(body, "bucket");
    struct json_object *meta = NULL;
    char env[STORE_ID_MAX];
    store_object o;
    int found = 0;
    int64_t size = 0;
    memset(f, 0, sizeof *f);
    if (!json_object_is_type(body, json_type_object)) return bs_err_set(err, 400, "common/invalid-parameters", "A JSON object body is required");
    if (!key || !*key) return bs_err_set(err, 400, "common/invalid-parameters", "s3Key is required");
    if (strlen(key) > STORE_BLOB_KEY_MAX) return bs_err_set(err, 400, "file/s3-key-too-long", "s3Key: at most 500 characters");
    if (!name || json_utf8_chars(name) > FILE_NAME_CHARS) return bs_err_set(err, name ? 400 : 400, name ? "file/original-name-too-long" : "common/invalid-parameters", "originalName: 1 to 255 characters");
    if (!name_ok(name)) return bs_err_set(err, 400, "file/invalid-name", "originalName: no / \\ or control characters");
    if (!type || !*type) return bs_err_set(err, 400, "common/invalid-parameters", "mimeType is required");
    if (strlen(type) >= STORE_FILE_TYPE_MAX) return bs_err_set(err, 400, "file/mime-type-too-long", "mimeType: at most 100 characters");
    if (!api_storage_type_ok(type)) return bs_err_set(err, 400, "common/invalid-parameters", "mimeType: type/subtype, printable ASCII");
    if (size_field(body, "size", 1, &size, err) < 0 || optional_dim(body, "width", &f->width, err) < 0 ||
        optional_dim(body, "height", &f->height, err) < 0)
        return -1;
    if (vis && !api_storage_visibility_ok(vis)) return bs_err_set(err, 400, "common/invalid-parameters", "visibility: public, private, protected or shared");
    if (bucket && !one_of(bucket, buckets, sizeof buckets / sizeof buckets[0]))
        return bs_err_set(err, 400, "common/invalid-parameters", "bucket: avatars, documents, media, files, images or temp");
    if (json_object_object_get_ex(body, "metadata", &meta) && metadata_text(meta, f->metadata, sizeof f->metadata, err) < 0) return -1;
    if (!store_blob_key_valid(key) || api_storage_key_env(key, env, sizeof env) < 0 || strcmp(env, env_id) ||
        store_objects_get(ctx->app->docs, env, key, &o, &found, err) < 0 || !found)
        return err->status ? -1 : bs_err_set(err, 400, "file/invalid-path", "No uploaded object has this key in this environment");
    if (api_storage_settle(ctx->app, env, &o, err) < 0) return -1;
    if (!operator && !is_secret(ctx) && strcmp(o.uploaded_by, caller))
        return bs_err_set(err, 403, "file/access-denied", "Only who uploaded an object can register it");
    if (keys_new_id("file", f->id) < 0) return bs_err_internal(err);
    snprintf(f->key, sizeof f->key, "%s", key);
    snprintf(f->original_name, sizeof f->original_name, "%s", name);
    snprintf(f->mime_type, sizeof f->mime_type, "%s", type);
    f->size = (int64_t)o.size; /* what arrived, whatever the client says */
    snprintf(f->visibility, sizeof f->visibility, "%s", vis ? vis : "private");
    snprintf(f->bucket, sizeof f->bucket, "%s", bucket ? bucket : "");
    snprintf(f->owner_id, sizeof f->owner_id, "%s", caller[0] ? caller : o.uploaded_by);
    snprintf(f->owner_type, sizeof f->owner_type, "%s", caller[0] ? "user" : "service");
    f->created_at = f->updated_at = clock_now_ms();
    return 0;
}

static void register_in(api_ctx *ctx, const char *env_id, int operator, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    char caller[STORE_FILE_ID_MAX];
    store_file f;
    caller[0] = '\0';
    if ((!operator && api_storage_caller(ctx, caller, sizeof caller, &err) < 0) ||
        register_read(ctx, env_id, operator, http_req_json_borrow(req), caller, &f, &err) < 0 ||
        store_files_create(ctx->app->docs, env_id, &f, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *o = file_json(&f, 1);
    http_res_json(res, 201, o);
    json_object_put(o);
}

static void register_file(api_ctx *ctx, http_req *req, http_res *res) { register_in(ctx, ctx->key.environment_id, 0, req, res); }

/* Loads env_id's :fileId for a caller who may read it (and, when owner_only, change it); an operator
 * (a management call) may read and change every file. */
static int file_load(api_ctx *ctx, const char *env_id, int operator, http_req *req, int owner_only, store_file *f, char *caller,
                     size_t size, bs_err *err)
{
    int found = 0;
    caller[0] = '\0';
    if ((!operator && api_storage_caller(ctx, caller, size, err) < 0) ||
        store_files_get(ctx->app->docs, env_id, http_req_param(req, "fileId"), f, &found, err) < 0)
        return -1;
    if (!found) return bs_err_set(err, 404, "file/not-found", "No such file");
    if (!operator && (!can_read(ctx, f, caller) || (owner_only && !is_owner(ctx, f, caller))))
        return bs_err_set(err, 403, "file/access-denied", "This file is not yours");
    return 0;
}

static void file_get(api_ctx *ctx, const char *env_id, int operator, http_req *req, http_res *res)
{
    bs_err err;
    char caller[STORE_FILE_ID_MAX];
    store_file f;
    if (file_load(ctx, env_id, operator, req, 0, &f, caller, sizeof caller, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *o = file_json(&f, operator || is_owner(ctx, &f, caller));
    http_res_json(res, 200, o);
    json_object_put(o);
}

static void get_file(api_ctx *ctx, http_req *req, http_res *res) { file_get(ctx, ctx->key.environment_id, 0, req, res); }

static int patch_read(struct json_object *body, store_file *f, bs_err *err)
{
    struct json_object *v;
    const char *name = json_get_string(body, "originalName"), *vis = json_get_string(body, "visibility");
    if (!json_object_is_type(body, json_type_object)) return bs_err_set(err, 400, "common/invalid-parameters", "A JSON object body is required");
    if (json_object_object_get_ex(body, "originalName", &v)) {
        if (!name || json_utf8_chars(name) > FILE_NAME_CHARS) return bs_err_set(err, 400, "file/original-name-too-long", "originalName: 1 to 255 characters");
        if (!name_ok(name)) return bs_err_set(err, 400, "file/invalid-name", "originalName: no / \\ or control characters");
        snprintf(f->original_name, sizeof f->original_name, "%s", name);
    }
    if (json_object_object_get_ex(body, "visibility", &v)) {
        if (!api_storage_visibility_ok(vis)) return bs_err_set(err, 400, "common/invalid-parameters", "visibility: public, private, protected or shared");
        snprintf(f->visibility, sizeof f->visibility, "%s", vis);
    }
    if (json_object_object_get_ex(body, "metadata", &v)) { /* merged shallowly into the stored object */
        struct json_object *stored = json_tokener_parse(f->metadata);
        if (!json_object_is_type(stored, json_type_object)) {
            json_object_put(stored);
            stored = json_object_new_object();
        }
        if (!json_object_is_type(v, json_type_object)) {
            json_object_put(stored);
            return bs_err_set(err, 400, "common/invalid-parameters", "metadata must be an object");
        }
        json_object_object_foreach(v, k, val) json_object_object_add(stored, k, json_object_get(val));
        int rc = metadata_text(stored, f->metadata, sizeof f->metadata, err);
        json_object_put(stored);
        if (rc < 0) return -1;
    }
    if (json_object_object_get_ex(body, "sharedWith", &v)) {
        size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
        int ok = json_object_is_type(v, json_type_array) && n <= 20;
        for (size_t i = 0; ok && i < n; i++) {
            const char *id = json_object_get_string(json_object_array_get_idx(v, i));
            ok = json_object_is_type(json_object_array_get_idx(v, i), json_type_string) && strlen(id) < STORE_FILE_ID_MAX;
        }
        if (!ok) return bs_err_set(err, 400, "common/invalid-parameters", "sharedWith: up to 20 user ids");
        snprintf(f->shared_with, sizeof f->shared_with, "%s", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
    }
    return 0;
}

static void file_patch(api_ctx *ctx, const char *env_id, int operator, http_req *req, http_res *res)
{
    bs_err err;
    char caller[STORE_FILE_ID_MAX];
    store_file f;
    int found = 0;
    if (file_load(ctx, env_id, operator, req, 1, &f, caller, sizeof caller, &err) < 0 || patch_read(http_req_json_borrow(req), &f, &err) < 0 ||
        (f.updated_at = clock_now_ms(), store_files_update(ctx->app->docs, env_id, &f, &found, &err)) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *o = file_json(&f, 1);
    http_res_json(res, 200, o);
    json_object_put(o);
}

static void patch_file(api_ctx *ctx, http_req *req, http_res *res) { file_patch(ctx, ctx->key.environment_id, 0, req, res); }

/* Deletes env_id's stored object: bytes and object row. */
static int object_delete(api_ctx *ctx, const char *env_id, const char *key, bs_err *err)
{
    int found = 0;
    if (store_blobs_delete(ctx->app->blobs, key, &found, err) < 0) return -1;
    return store_objects_delete(ctx->app->docs, env_id, key, err);
}

/* Deletes a stored object: record (if any), bytes and object row. */
int api_storage_delete_object(api_ctx *ctx, const char *key, bs_err *err)
{
    return object_delete(ctx, ctx->key.environment_id, key, err);
}

static void file_delete(api_ctx *ctx, const char *env_id, int operator, http_req *req, http_res *res)
{
    bs_err err;
    char caller[STORE_FILE_ID_MAX];
    store_file f;
    int found = 0;
    if (file_load(ctx, env_id, operator, req, 1, &f, caller, sizeof caller, &err) < 0 ||
        store_files_delete(ctx->app->docs, env_id, f.id, &found, &err) < 0 || object_delete(ctx, env_id, f.key, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *o = json_object_new_object();
    http_res_json(res, 200, o);
    json_object_put(o);
}

static void delete_file(api_ctx *ctx, http_req *req, http_res *res) { file_delete(ctx, ctx->key.environment_id, 0, req, res); }

/* Direct mode: the object in the bucket is still the recorded one (409 file/object-changed). */
static int direct_unchanged(api_ctx *ctx, const char *env_id, const char *key, bs_err *err)
{
    store_object o;
    int found = 0;
    if (store_objects_get(ctx->app->docs, env_id, key, &o, &found, err) < 0) return -1;
    return found ? api_storage_settle(ctx->app, env_id, &o, err) : bs_err_set(err, 404, "file/not-found", "No such file");
}

static void file_download_url(api_ctx *ctx, const char *env_id, int operator, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    char caller[STORE_FILE_ID_MAX];
    store_file f;
    if (file_load(ctx, env_id, operator, req, 0, &f, caller, sizeof caller, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    int open = !strcmp(f.visibility, "public");
    if (ctx->app->s3_direct && !open && direct_unchanged(ctx, env_id, f.key, &err) < 0) { /* the bucket answers that URL, not us */
        http_res_error_from(res, &err);
        return;
    }
    int64_t expires = open ? 0 : ((clock_now_ms() + STORAGE_DOWNLOAD_TTL_MS) / 1000) * 1000;
    storage_grant g = {.method = "GET", .key = f.key, .expires = expires / 1000, .type = "", .by = "", .vis = "", .upload = ""};
    strbuf url;
    strbuf_init(&url, 8192);
    if (ctx->app->s3_direct && !open) api_storage_direct_download_url(ctx->app, f.key, STORAGE_DOWNLOAD_TTL_MS / 1000, &url, &err);
    else api_storage_url(ctx->app, f.key, open ? NULL : &g, &url);
    if (err.status) {
        strbuf_release(&url);
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "url", json_object_new_string(url.data));
    json_object_object_add(o, "filename", json_object_new_string(f.original_name));
    json_object_object_add(o, "contentType", json_object_new_string(f.mime_type));
    json_object_object_add(o, "size", json_object_new_int64(f.size));
    json_add_time(o, "expiresAt", expires);
    http_res_json(res, 200, o);
    json_object_put(o);
    strbuf_release(&url);
}

static void download_url(api_ctx *ctx, http_req *req, http_res *res) { file_download_url(ctx, ctx->key.environment_id, 0, req, res); }

/* A page of env_id's files; operator: a management read (every file, every field, no caller). */
static void list_files_into(api_ctx *ctx, const char *env_id, int operator, http_req *req, http_res *res, store_file *rows)
{
    static const char *const sorts[] = {"createdAt", "updatedAt", "originalName", "size", "mimeType"};
    bs_err err;
    bs_err_clear(&err);
    char caller[STORE_FILE_ID_MAX];
    size_t n = 0;
    int64_t total = 0, page = api_query_int(req, "page", 1, 1000000), limit = api_query_int(req, "limit", 20, FILES_PAGE_MAX);
    const char *sort = http_req_query(req, "sortBy"), *dir = http_req_query(req, "sortDirection");
    store_file_query q = {.visibility = http_req_query(req, "visibility"), .owner_type = http_req_query(req, "ownerType"),
                          .owner_id = http_req_query(req, "ownerId"), .bucket = http_req_query(req, "bucket"),
                          .mime_type = http_req_query(req, "mimeType"), .search = http_req_query(req, "search"),
                          .desc = !dir || strcasecmp(dir, "asc") != 0, .limit = (size_t)limit, .offset = (page - 1) * limit};
    for (size_t i = 0; sort && i < sizeof sorts / sizeof sorts[0]; i++)
        if (!strcmp(sort, sorts[i])) q.sort = (store_file_sort)i;
    caller[0] = '\0';
    if ((!operator && api_storage_caller(ctx, caller, sizeof caller, &err) < 0) ||
        (q.search && strlen(q.search) > 255 && bs_err_set(&err, 400, "common/invalid-parameters", "search: at most 255 characters") < 0)) {
        http_res_error_from(res, &err);
        return;
    }
    q.viewer = operator || is_secret(ctx) ? NULL : caller;
    if (store_files_list(ctx->app->docs, env_id, &q, rows, &n, &total, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *items = json_object_new_array();
    for (size_t i = 0; i < n; i++) json_object_array_add(items, file_json(&rows[i], operator || is_owner(ctx, &rows[i], caller)));
    api_answer_page(res, items, total, page, limit);
}

/* The page buffer lives on the heap for one request: as thread-local storage it would cost every thread. */
static void list_files_page(api_ctx *ctx, const char *env_id, int operator, http_req *req, http_res *res)
{
    store_file *rows = calloc(FILES_PAGE_MAX, sizeof *rows);
    if (!rows) {
        http_res_error(res, 500, "common/internal-error", "Out of memory");
        return;
    }
    list_files_into(ctx, env_id, operator, req, res, rows);
    free(rows);
}

static void list_files(api_ctx *ctx, http_req *req, http_res *res)
{
    list_files_page(ctx, ctx->key.environment_id, 0, req, res);
}

void api_files_admin_list(api_ctx *ctx, const char *env_id, http_req *req, http_res *res)
{
    list_files_page(ctx, env_id, 1, req, res);
}

void api_files_admin_file(api_ctx *ctx, const char *env_id, api_files_op op, http_req *req, http_res *res)
{
    if (op == API_FILES_GET) file_get(ctx, env_id, 1, req, res);
    else if (op == API_FILES_PATCH) file_patch(ctx, env_id, 1, req, res);
    else if (op == API_FILES_DELETE) file_delete(ctx, env_id, 1, req, res);
    else if (op == API_FILES_DOWNLOAD_URL) file_download_url(ctx, env_id, 1, req, res);
    else if (op == API_FILES_PRESIGN) presign_in(ctx, env_id, 1, req, res);
    else register_in(ctx, env_id, 1, req, res);
}

int api_files_register(http_router *router, api_app *app)
{
    http_route_opts json = {.body = HTTP_BODY_JSON, .max_body = 64 * 1024};
    if (api_route_v1_gated(router, app, HTTP_POST, "/v1/files/presigned-url", presign, &json, API_GATE_STORAGE) < 0) return -1;
    if (api_route_v1(router, app, HTTP_POST, "/v1/files", register_file, &json) < 0) return -1;
    if (api_route_v1(router, app, HTTP_GET, "/v1/files", list_files, NULL) < 0) return -1;
    if (api_route_v1(router, app, HTTP_GET, "/v1/files/:fileId", get_file, NULL) < 0) return -1;
    if (api_route_v1(router, app, HTTP_PATCH, "/v1/files/:fileId", patch_file, &json) < 0) return -1;
    if (api_route_v1(router, app, HTTP_DELETE, "/v1/files/:fileId", delete_file, NULL) < 0) return -1;
    return api_route_v1_gated(router, app, HTTP_GET | HTTP_POST, "/v1/files/:fileId/download-url", download_url, NULL,
                              API_GATE_BANDWIDTH);
}
