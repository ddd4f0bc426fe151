/* storage_direct: --s3-direct-urls 1 (S3 driver only): uploads and private downloads go straight to
 * the bucket with S3 presigned URLs instead of through the /storage target. The server then learns
 * about an upload only when it is used: presigning records the object as pending (no ETag yet), and
 * registration, avatars and reads "settle" it with a HEAD on the bucket (size, ETag, and the type's size
 * limit, which S3 cannot enforce on a presigned PUT: an object over it is deleted and refused). A
 * presigned PUT stays usable until it expires, even after registration: once recorded, an object whose
 * ETag in the bucket is no longer the recorded one is refused (409 file/object-changed) by registration,
 * avatars, the server's reads and private download URLs.
 *
 * Multipart uploads too: part URLs are presigned PUTs of the part keys, and since no part passes through
 * here, the parts are learnt from the bucket (a listing of the upload's part keys; multipart.c HEADs the
 * parts named at completion); the joined object is checked against the upload's fileSize and the type's
 * limit before it is recorded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/v1/files/storage.h"
#include "store/s3/blobs_s3.h"
#include "util/clock.h"

/* Appends an S3 presigned URL for method on key (type: the Content-Type a PUT must send, or NULL). */
static int presigned(api_app *app, const char *method, const char *key, int64_t expires_in_s, const char *type, strbuf *url,
                     bs_err *err)
{
    char out[4096];
    if (store_blobs_s3_presign(app->blobs, method, key, expires_in_s, type, out, sizeof out, err) < 0) return -1;
    strbuf_append_str(url, out);
    return url->overflow ? bs_err_internal(err) : 0;
}

int api_storage_direct_upload_url(api_ctx *ctx, const upload_request *u, const char *key, strbuf *url, bs_err *err)
{
    char out[4096], env[STORE_ID_MAX];
    store_object o;
    memset(&o, 0, sizeof o);
    if (api_storage_key_env(key, env, sizeof env) < 0) return bs_err_internal(err);
    if (store_blobs_s3_presign(ctx->app->blobs, "PUT", key, STORAGE_UPLOAD_TTL_MS / 1000, u->type, out, sizeof out, err) < 0) return -1;
    snprintf(o.key, sizeof o.key, "%s", key);
    snprintf(o.content_type, sizeof o.content_type, "%s", u->type);
    snprintf(o.filename, sizeof o.filename, "%s", strrchr(key, '/') + 1);
    snprintf(o.uploaded_by, sizeof o.uploaded_by, "%s", u->by);
    snprintf(o.visibility, sizeof o.visibility, "%s", u->visibility);
    o.created_at = clock_now_ms(); /* etag "" = pending: the bytes may not have arrived yet */
    if (store_objects_put(ctx->app->docs, env, &o, err) < 0) return -1;
    strbuf_append_str(url, out);
    return url->overflow ? bs_err_internal(err) : 0;
}

int api_storage_changed(bs_err *err)
{
    return bs_err_set(err, 409, "file/object-changed",
                      "The stored object changed after it was recorded (its upload URL was used again): it is neither registered nor served");
}

int api_storage_settle(api_app *app, const char *env_id, store_object *o, bs_err *err)
{
    store_blob_info info;
    int found = 0;
    if (o->etag[0] && !app->s3_direct) return 0; /* the server wrote these bytes itself */
    if (store_blobs_stat(app->blobs, o->key, &info, &found, err) < 0) return -1;
    if (!found) return bs_err_set(err, 400, "file/invalid-path", "Nothing was uploaded with this key yet");
    if (o->etag[0]) return strcmp(o->etag, info.etag) ? api_storage_changed(err) : 0; /* a second PUT of an S3 URL */
    uint64_t limit = api_storage_limit(app, o->content_type);
    if (info.size > limit || info.size == 0) {
        int gone = 0;
        store_blobs_delete(app->blobs, o->key, &gone, err);
        store_objects_delete(app->docs, env_id, o->key, err);
        return info.size ? bs_err_set(err, 400, "file/file-too-large", "The upload is larger than %llu bytes", (unsigned long long)limit)
                         : bs_err_set(err, 400, "file/file-too-small", "The upload is empty");
    }
    o->size = info.size;
    snprintf(o->etag, sizeof o->etag, "%s", info.etag);
    filemeter_counts got = {.uploads = 1, .bytes_in = info.size};
    filemeter_add(app->files_meter, env_id, &got);
    return store_objects_put(app->docs, env_id, o, err);
}

int api_storage_direct_download_url(api_app *app, const char *key, int64_t expires_in_s, strbuf *url, bs_err *err)
{
    return presigned(app, "GET", key, expires_in_s, NULL, url, err);
}

/* ---- multipart ---- */

int api_storage_direct_part_url(api_app *app, const char *part_key, strbuf *url, bs_err *err)
{
    return presigned(app, "PUT", part_key, STORAGE_UPLOAD_TTL_MS / 1000, NULL, url, err); /* no type: parts have none */
}

typedef struct part_list {
    const char *prefix;
    size_t prefix_len;
    store_upload_part *out;
    size_t max, n;
    int full;
} part_list;

/* The number of a part key from what follows the upload's prefix: 1 to STORAGE_MAX_PARTS, else 0. */
static int part_number_of(const char *rest)
{
    char *end = NULL;
    if (rest[0] < '1' || rest[0] > '9' || strlen(rest) > 5) return 0;
    long n = strtol(rest, &end, 10);
    return *end || n > STORAGE_MAX_PARTS ? 0 : (int)n;
}

static int part_seen(const char *key, const store_blob_info *info, void *arg)
{
    part_list *l = arg;
    int num = strncmp(key, l->prefix, l->prefix_len) ? 0 : part_number_of(key + l->prefix_len);
    if (num == 0) return 0; /* not a part key: nothing of ours */
    if (l->n == l->max) {
        l->full = 1;
        return -1;
    }
    store_upload_part *p = &l->out[l->n++];
    p->number = num;
    p->size = info->size;
    snprintf(p->etag, sizeof p->etag, "%s", info->etag);
    return 0;
}

static int part_cmp(const void *a, const void *b)
{
    int x = ((const store_upload_part *)a)->number, y = ((const store_upload_part *)b)->number;
    return (x > y) - (x < y);
}

int api_storage_direct_parts(api_app *app, const char *prefix, store_upload_part *out, size_t max, size_t *n, bs_err *err)
{
    part_list l = {.prefix = prefix, .prefix_len = strlen(prefix), .out = out, .max = max};
    *n = 0;
    if (store_blobs_s3_list(app->blobs, prefix, part_seen, &l, err) < 0)
        return l.full ? bs_err_set(err, 500, "common/internal-error", "More parts than %zu", max) : -1;
    qsort(out, l.n, sizeof *out, part_cmp); /* the listing is in key order: 1, 10, 100, 2, ... */
    *n = l.n;
    return 0;
}

int api_storage_direct_composed(api_app *app, const char *env_id, store_object *o, int64_t file_size, bs_err *err)
{
    uint64_t limit = api_storage_limit(app, o->content_type);
    store_blob_info info;
    int found = 0;
    if (store_blobs_stat(app->blobs, o->key, &info, &found, err) < 0) return -1;
    if (found) { /* recorded as the bucket has it, so later reads can tell whether it changed */
        o->size = info.size;
        snprintf(o->etag, sizeof o->etag, "%s", info.etag);
    }
    if ((int64_t)o->size != file_size || o->size > limit) {
        int gone = 0;
        bs_err ignored;
        bs_err_clear(&ignored);
        store_blobs_delete(app->blobs, o->key, &gone, &ignored);
        if (o->size > limit)
            return bs_err_set(err, 400, "file/file-too-large", "The upload is larger than %llu bytes", (unsigned long long)limit);
        return bs_err_set(err, 400, "file/invalid-parts-array", "The joined parts are %llu bytes, not fileSize %lld (a part changed?)",
                          (unsigned long long)o->size, (long long)file_size);
    }
    filemeter_counts got = {.bytes_in = o->size}; /* the bytes here (S3 saw the parts); the upload: multipart.c */
    filemeter_add(app->files_meter, env_id, &got);
    return store_objects_put(app->docs, env_id, o, err);
}
