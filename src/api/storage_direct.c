/* storage_direct: --s3-direct-urls 1 (S3 driver only): uploads and private downloads go straight to
 * the bucket with S3 presigned URLs instead of through the /storage target. The server then learns
 * about an upload only when it is used: presigning records the object as pending (no ETag yet), and
 * registration, avatars and reads "settle" it with a HEAD on the bucket (size, ETag, and the type's size
 * limit, which S3 cannot enforce on a presigned PUT: an object over it is deleted and refused). */
#include <stdio.h>
#include <string.h>

#include "api/storage.h"
#include "store/s3/blobs_s3.h"
#include "util/clock.h"

int api_storage_direct_upload_url(api_ctx *ctx, const upload_request *u, const char *key, strbuf *url, bs_err *err)
{
    char out[4096];
    store_object o;
    memset(&o, 0, sizeof o);
    if (store_blobs_s3_presign(ctx->app->blobs, "PUT", key, STORAGE_UPLOAD_TTL_MS / 1000, u->type, out, sizeof out, err) < 0) return -1;
    snprintf(o.key, sizeof o.key, "%s", key);
    snprintf(o.content_type, sizeof o.content_type, "%s", u->type);
    snprintf(o.filename, sizeof o.filename, "%s", strrchr(key, '/') + 1);
    snprintf(o.uploaded_by, sizeof o.uploaded_by, "%s", u->by);
    snprintf(o.visibility, sizeof o.visibility, "%s", u->visibility);
    o.created_at = clock_now_ms(); /* etag "" = pending: the bytes may not have arrived yet */
    if (store_objects_put(ctx->app->docs, ctx->key.environment_id, &o, err) < 0) return -1;
    strbuf_append_str(url, out);
    return url->overflow ? bs_err_internal(err) : 0;
}

int api_storage_settle(api_app *app, const char *env_id, store_object *o, bs_err *err)
{
    store_blob_info info;
    int found = 0;
    if (o->etag[0]) return 0;
    if (store_blobs_stat(app->blobs, o->key, &info, &found, err) < 0) return -1;
    if (!found) return bs_err_set(err, 400, "file/invalid-path", "Nothing was uploaded with this key yet");
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
    char out[4096];
    if (store_blobs_s3_presign(app->blobs, "GET", key, expires_in_s, NULL, out, sizeof out, err) < 0) return -1;
    strbuf_append_str(url, out);
    return url->overflow ? bs_err_internal(err) : 0;
}
