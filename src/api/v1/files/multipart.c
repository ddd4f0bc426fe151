/* multipart: multipart uploads of client-api.md §4.4 (a user token or the secret key):
 *   POST /v1/files/multipart/init          {filename, contentType, fileSize, visibility?, category?} → {uploadId, key, filename}
 *   POST /v1/files/multipart/presigned-url {key, uploadId, partNumber}      → {url, partNumber, expiresAt}
 *   GET  /v1/files/multipart/parts?key&uploadId                            → {uploadId, key, parts: [{partNumber, etag, size}]}
 *   POST /v1/files/multipart/complete      {key, uploadId, parts: [{partNumber, etag}]} → {key, location}
 *   POST /v1/files/multipart/abort         {key, uploadId}                  → {success: true, key}
 * Parts are PUT to the storage target like single uploads (their answers carry the part's ETag) and kept
 * as separate objects until completion joins them; every part but the last must be at least
 * --multipart-min-part bytes and the parts must add up to fileSize. An upload not completed within 24
 * hours expires: its parts are deleted by the next init in that environment.
 * With --s3-direct-urls the part URLs are S3 presigned PUTs of the same part keys and the server sees no
 * part arrive: the parts are learnt from the bucket (listing, abort and expiry list the upload's part
 * keys; completion HEADs each part it names, so the ETags and sizes checked are the bucket's), and the
 * joined object is checked against fileSize and the type's limit (storage_direct.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/route.h"
#include "api/v1/files/surface.h"
#include "api/v1/pipeline.h"
#include "api/v1/files/storage.h"
#include "core/keys.h"
#include "util/clock.h"
#include "util/json.h"

#define UPLOAD_TTL_MS (24LL * 3600 * 1000)
#define EXPIRED_PER_INIT 16

static void part_key(const char *env, const char *upload, int part, char *out, size_t size)
{
    snprintf(out, size, "_uploads/%s/%s/%d", env, upload, part);
}

/* The parts of u received so far, by number (out holds STORAGE_MAX_PARTS): the rows the storage target
 * wrote, or in direct mode what the bucket has under the upload's part keys. */
static int parts_received(api_ctx *ctx, const store_upload *u, store_upload_part *out, size_t *n, bs_err *err)
{
    char prefix[STORE_BLOB_KEY_MAX + 1];
    if (!ctx->app->s3_direct) return store_uploads_parts(ctx->app->docs, ctx->key.environment_id, u->id, out, STORAGE_MAX_PARTS, n, err);
    snprintf(prefix, sizeof prefix, "_uploads/%s/%s/", ctx->key.environment_id, u->id);
    return api_storage_direct_parts(ctx->app, prefix, out, STORAGE_MAX_PARTS, n, err);
}

/* Deletes the parts and rows of an upload. */
static int upload_drop(api_ctx *ctx, const store_upload *u, bs_err *err)
{
    store_upload_part *parts = calloc(STORAGE_MAX_PARTS, sizeof *parts);
    size_t n = 0;
    char key[STORE_BLOB_KEY_MAX + 1];
    int found = 0, rc = parts ? 0 : bs_err_internal(err);
    if (rc == 0) rc = parts_received(ctx, u, parts, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        part_key(ctx->key.environment_id, u->id, parts[i].number, key, sizeof key);
        rc = store_blobs_delete(ctx->app->blobs, key, &found, err);
    }
    free(parts);
    return rc < 0 ? -1 : store_uploads_delete(ctx->app->docs, ctx->key.environment_id, u->id, err);
}

static void drop_expired(api_ctx *ctx)
{
    store_upload old[EXPIRED_PER_INIT];
    size_t n = 0;
    bs_err err;
    if (store_uploads_expired(ctx->app->docs, ctx->key.environment_id, clock_now_ms(), old, EXPIRED_PER_INIT, &n, &err) < 0) return;
    for (size_t i = 0; i < n; i++) upload_drop(ctx, &old[i], &err);
}

/* The upload named by {key, uploadId} (body) or ?key&uploadId (query), started by the caller. */
static int target_upload(api_ctx *ctx, const char *key, const char *id, store_upload *u, char *caller, size_t size, bs_err *err)
{
    int found = 0;
    if (api_storage_caller(ctx, caller, size, err) < 0) return -1;
    if (!key || !id || strlen(id) >= STORE_FILE_ID_MAX) return bs_err_set(err, 400, "common/invalid-parameters", "key and uploadId are required");
    if (store_uploads_get(ctx->app->docs, ctx->key.environment_id, id, u, &found, err) < 0) return -1;
    if (!found || strcmp(u->key, key) || u->expires_at < clock_now_ms())
        return bs_err_set(err, 404, "file/not-found", "No such multipart upload (finished, aborted or expired?)");
    if (!ctx->key_admin && strcmp(u->requested_by, caller))
        return bs_err_set(err, 403, "file/access-denied", "This upload is not yours");
    return 0;
}

static void init(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    upload_request r;
    store_upload u;
    memset(&u, 0, sizeof u);
    if (api_storage_upload_read(ctx, http_req_json_borrow(req), 1, &r, &err) < 0 ||
        (r.size == 0 && bs_err_set(&err, 400, "file/file-too-small", "fileSize must be above 0") < 0) ||
        api_storage_new_key(ctx, r.visibility, r.category, r.filename, u.key, sizeof u.key, &err) < 0 ||
        (keys_new_id("upl", u.id) < 0 && bs_err_internal(&err) < 0)) {
        http_res_error_from(res, &err);
        return;
    }
    drop_expired(ctx);
    snprintf(u.filename, sizeof u.filename, "%s", r.filename);
    snprintf(u.content_type, sizeof u.content_type, "%s", r.type);
    snprintf(u.requested_by, sizeof u.requested_by, "%s", r.by);
    snprintf(u.visibility, sizeof u.visibility, "%s", r.visibility);
    u.file_size = r.size;
    u.created_at = clock_now_ms();
    u.expires_at = u.created_at + UPLOAD_TTL_MS;
    if (store_uploads_create(ctx->app->docs, ctx->key.environment_id, &u, &err) < 0) {
        bs_err_set(&err, 500, "file/upload-init-failed", "The upload could not start");
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "uploadId", json_object_new_string(u.id));
    json_object_object_add(o, "key", json_object_new_string(u.key));
    json_object_object_add(o, "filename", json_object_new_string(u.filename));
    http_res_json(res, 200, o);
    json_object_put(o);
}

static int part_number(struct json_object *o, const char *name, int *out, bs_err *err)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 1 ||
        json_object_get_int64(v) > STORAGE_MAX_PARTS)
        return bs_err_set(err, 400, "file/invalid-part-number-range", "partNumber: 1 to %d", STORAGE_MAX_PARTS);
    *out = (int)json_object_get_int64(v);
    return 0;
}

/* Where part is PUT: the storage target's signed URL, or in direct mode an S3 presigned one. */
static int part_put_url(api_ctx *ctx, const store_upload *u, int part, int64_t expires, strbuf *url, bs_err *err)
{
    if (ctx->app->s3_direct) {
        char key[STORE_BLOB_KEY_MAX + 1];
        part_key(ctx->key.environment_id, u->id, part, key, sizeof key);
        return api_storage_direct_part_url(ctx->app, key, url, err);
    }
    storage_grant g = {.method = "PUT", .key = u->key, .expires = expires / 1000, .type = u->content_type, .by = u->requested_by,
                       .vis = u->visibility, .upload = u->id, .part = part};
    api_storage_url(ctx->app, u->key, &g, url);
    return 0;
}

static void part_url(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_upload u;
    char caller[STORE_FILE_ID_MAX];
    int part = 0;
    struct json_object *body = http_req_json_borrow(req);
    if (target_upload(ctx, json_get_string(body, "key"), json_get_string(body, "uploadId"), &u, caller, sizeof caller, &err) < 0 ||
        part_number(body, "partNumber", &part, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    int64_t expires = clock_now_ms() + STORAGE_UPLOAD_TTL_MS;
    strbuf url;
    strbuf_init(&url, 8192);
    if (part_put_url(ctx, &u, part, expires, &url, &err) < 0) {
        strbuf_release(&url);
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "url", json_object_new_string(url.data));
    json_object_object_add(o, "partNumber", json_object_new_int(part));
    json_add_time(o, "expiresAt", (expires / 1000) * 1000);
    http_res_json(res, 200, o);
    json_object_put(o);
    strbuf_release(&url);
}

static struct json_object *parts_json(const store_upload_part *parts, size_t n)
{
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        struct json_object *p = json_object_new_object();
        json_object_object_add(p, "partNumber", json_object_new_int(parts[i].number));
        json_object_object_add(p, "etag", json_object_new_string(parts[i].etag));
        json_object_object_add(p, "size", json_object_new_int64((int64_t)parts[i].size));
        json_object_array_add(a, p);
    }
    return a;
}

static void list_parts(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_upload u;
    char caller[STORE_FILE_ID_MAX];
    size_t n = 0;
    store_upload_part *parts = calloc(STORAGE_MAX_PARTS, sizeof *parts);
    if ((!parts && bs_err_internal(&err) < 0) ||
        target_upload(ctx, http_req_query(req, "key"), http_req_query(req, "uploadId"), &u, caller, sizeof caller, &err) < 0 ||
        parts_received(ctx, &u, parts, &n, &err) < 0) {
        free(parts);
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "uploadId", json_object_new_string(u.id));
    json_object_object_add(o, "key", json_object_new_string(u.key));
    json_object_object_add(o, "parts", parts_json(parts, n));
    http_res_json(res, 200, o);
    json_object_put(o);
    free(parts);
}

/* Checks the client's part list against the parts received: ascending numbers, matching ETags, sizes. */
static int parts_check(api_ctx *ctx, const store_upload *u, struct json_object *list, const store_upload_part *got, size_t ngot,
                       const store_upload_part **use, size_t *nuse, bs_err *err)
{
    size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
    uint64_t total = 0;
    int last = 0;
    *nuse = 0;
    if (n == 0 || n > STORAGE_MAX_PARTS) return bs_err_set(err, 400, "file/invalid-parts-array", "parts: 1 to %d {partNumber, etag}", STORAGE_MAX_PARTS);
    for (size_t i = 0; i < n; i++) {
        struct json_object *p = json_object_array_get_idx(list, i);
        const char *etag = json_get_string(p, "etag");
        int num = 0;
        if (part_number(p, "partNumber", &num, err) < 0) return -1;
        if (num <= last || !etag) return bs_err_set(err, 400, "file/invalid-parts-array", "parts must be in ascending partNumber order, each with its etag");
        const store_upload_part *match = NULL;
        for (size_t j = 0; j < ngot && !match; j++)
            if (got[j].number == num) match = &got[j];
        if (!match || strcmp(match->etag, etag))
            return bs_err_set(err, 400, "file/invalid-parts-array", "part %d was not uploaded with etag %s", num, etag);
        if (i + 1 < n && match->size < ctx->app->multipart_min_part)
            return bs_err_set(err, 400, "file/invalid-parts-array", "part %d is %llu bytes; every part but the last needs %llu", num,
                              (unsigned long long)match->size, (unsigned long long)ctx->app->multipart_min_part);
        use[(*nuse)++] = match;
        total += match->size;
        last = num;
    }
    if ((int64_t)total != u->file_size)
        return bs_err_set(err, 400, "file/invalid-parts-array", "the parts add up to %llu bytes, not fileSize %lld", (unsigned long long)total,
                          (long long)u->file_size);
    return 0;
}

/* Direct mode: the parts list names, as the bucket has them (a HEAD each, in order, up to the first that
 * is missing, empty or out of order: parts_check then says what is wrong). */
static int parts_named(api_ctx *ctx, const store_upload *u, struct json_object *list, store_upload_part *out, size_t *n, bs_err *err)
{
    size_t len = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
    char key[STORE_BLOB_KEY_MAX + 1];
    int last = 0;
    *n = 0;
    for (size_t i = 0; len <= STORAGE_MAX_PARTS && i < len; i++) {
        store_blob_info info;
        bs_err ignored;
        int num = 0, found = 0;
        if (part_number(json_object_array_get_idx(list, i), "partNumber", &num, &ignored) < 0 || num <= last) return 0;
        part_key(ctx->key.environment_id, u->id, num, key, sizeof key);
        if (store_blobs_stat(ctx->app->blobs, key, &info, &found, err) < 0) return -1;
        if (!found || info.size == 0) return 0; /* an empty part counts as missing: the storage target refuses empty bodies */
        out[*n].number = num;
        out[*n].size = info.size;
        snprintf(out[*n].etag, sizeof out[*n].etag, "%s", info.etag);
        (*n)++;
        last = num;
    }
    return 0;
}

/* The parts a completion may use: those received, or in direct mode those it names, from the bucket. */
static int parts_to_check(api_ctx *ctx, const store_upload *u, struct json_object *list, store_upload_part *out, size_t *n, bs_err *err)
{
    if (ctx->app->s3_direct) return parts_named(ctx, u, list, out, n, err);
    return store_uploads_parts(ctx->app->docs, ctx->key.environment_id, u->id, out, STORAGE_MAX_PARTS, n, err);
}

/* Joins the chosen parts into the upload's key and records the object. */
static int join(api_ctx *ctx, const store_upload *u, const store_upload_part *const *use, size_t n, bs_err *err)
{
    char (*keys)[160] = calloc(n, sizeof *keys);
    const char **key_list = calloc(n, sizeof *key_list);
    store_blob_info info;
    int rc = keys && key_list ? 0 : bs_err_internal(err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        part_key(ctx->key.environment_id, u->id, use[i]->number, keys[i], sizeof keys[i]);
        key_list[i] = keys[i];
    }
    if (rc == 0) rc = store_blobs_compose(ctx->app->blobs, u->key, key_list, n, u->content_type, &info, err);
    free(keys);
    free(key_list);
    if (rc < 0) return -1;
    store_object o;
    memset(&o, 0, sizeof o);
    snprintf(o.key, sizeof o.key, "%s", u->key);
    snprintf(o.content_type, sizeof o.content_type, "%s", u->content_type);
    snprintf(o.filename, sizeof o.filename, "%s", strrchr(u->key, '/') + 1);
    o.size = info.size;
    snprintf(o.etag, sizeof o.etag, "%s", info.etag);
    snprintf(o.uploaded_by, sizeof o.uploaded_by, "%s", u->requested_by);
    snprintf(o.visibility, sizeof o.visibility, "%s", u->visibility);
    o.created_at = clock_now_ms();
    rc = ctx->app->s3_direct ? api_storage_direct_composed(ctx->app, ctx->key.environment_id, &o, u->file_size, err)
                             : store_objects_put(ctx->app->docs, ctx->key.environment_id, &o, err);
    filemeter_counts one = {.uploads = 1}; /* a multipart upload is one upload (its parts brought the bytes) */
    if (rc == 0) filemeter_add(ctx->app->files_meter, ctx->key.environment_id, &one);
    return rc;
}

static void complete(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_upload u;
    char caller[STORE_FILE_ID_MAX];
    size_t ngot = 0, nuse = 0;
    struct json_object *body = http_req_json_borrow(req), *list = NULL;
    json_object_object_get_ex(body, "parts", &list);
    store_upload_part *got = calloc(STORAGE_MAX_PARTS, sizeof *got);
    const store_upload_part **use = calloc(STORAGE_MAX_PARTS, sizeof *use);
    if ((!got || !use) && bs_err_internal(&err) < 0) {
        /* err says why */
    } else if (target_upload(ctx, json_get_string(body, "key"), json_get_string(body, "uploadId"), &u, caller, sizeof caller, &err) < 0 ||
        parts_to_check(ctx, &u, list, got, &ngot, &err) < 0 ||
        parts_check(ctx, &u, list, got, ngot, use, &nuse, &err) < 0 || join(ctx, &u, use, nuse, &err) < 0 ||
        upload_drop(ctx, &u, &err) < 0) {
        /* err says why */
    }
    free(got);
    free(use);
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    strbuf url;
    strbuf_init(&url, 4096);
    api_storage_url(ctx->app, u.key, NULL, &url);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "key", json_object_new_string(u.key));
    json_object_object_add(o, "location", json_object_new_string(url.data));
    http_res_json(res, 200, o);
    json_object_put(o);
    strbuf_release(&url);
}

static void abort_upload(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_upload u;
    char caller[STORE_FILE_ID_MAX];
    struct json_object *body = http_req_json_borrow(req);
    if (target_upload(ctx, json_get_string(body, "key"), json_get_string(body, "uploadId"), &u, caller, sizeof caller, &err) < 0 ||
        upload_drop(ctx, &u, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "success", json_object_new_boolean(1));
    json_object_object_add(o, "key", json_object_new_string(u.key));
    http_res_json(res, 200, o);
    json_object_put(o);
}

int api_multipart_register(http_router *router, api_app *app)
{
    http_route_opts json = {.body = HTTP_BODY_JSON, .max_body = 1024 * 1024};
    if (api_route_v1_gated(router, app, HTTP_POST, "/v1/files/multipart/init", init, &json, API_GATE_STORAGE) < 0) return -1;
    if (api_route_v1(router, app, HTTP_POST, "/v1/files/multipart/presigned-url", part_url, &json) < 0) return -1;
    if (api_route_v1(router, app, HTTP_GET, "/v1/files/multipart/parts", list_parts, NULL) < 0) return -1;
    if (api_route_v1(router, app, HTTP_POST, "/v1/files/multipart/complete", complete, &json) < 0) return -1;
    return api_route_v1(router, app, HTTP_POST, "/v1/files/multipart/abort", abort_upload, &json);
}
