/* images: image variants of stored files (client-api.md §4.9), without a key:
 *   GET/HEAD /img/[fit-in/]{w}x{h}/[smart/][filters:quality(q):format(f):blur(r)/]<key>
 * Only public files are served: registered public, or uploaded with visibility public and not registered
 * (not the compat rule of the storage target's unsigned GET, which also serves unregistered private
 * ones). Without format(...) the answer is WebP for clients that accept it (Vary: Accept), else the
 * original's kind. Variants are kept in a bounded on-disk cache (--image-cache-size) named by the
 * object's ETag, the operations and the output format, so a replaced original never serves a stale one.
 * Inputs over --image-max-pixels are refused (400 file/file-too-large) before decoding; non-images are
 * 400 file/invalid-format. With --s3-direct-urls the object is settled like on the storage target
 * (recorded when pending, 409 file/object-changed when its ETag in the bucket changed). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/route.h"
#include "api/v1/files/surface.h"
#include "api/v1/files/storage.h"
#include "core/image.h"
#include "core/imageops.h"
#include "store/filecache.h"
#include "util/crypto.h"

static int accepts_webp(http_req *req)
{
    const char *accept = http_req_header(req, "Accept");
    return accept && strstr(accept, "image/webp") != NULL;
}

/* The cache name of a variant: sha256(key, etag, operations, webp or not) + ".img". */
static void variant_name(const store_object *o, const imageops *ops, int webp, char out[80])
{
    char canon[128], hex[CRYPTO_SHA256_HEX];
    strbuf text;
    strbuf_init(&text, 2048);
    imageops_canonical(ops, canon, sizeof canon);
    strbuf_appendf(&text, "%s\n%s\n%s\n%d", o->key, o->etag, canon, ops->format == IMAGEOPS_AUTO && webp);
    crypto_sha256_hex(text.data, text.len, hex);
    strbuf_release(&text);
    snprintf(out, 80, "%.40s.img", hex);
}

/* Which media type a cached variant has: the first bytes tell (RIFF....WEBP, \x89PNG, else JPEG). */
static const char *sniff(int fd)
{
    unsigned char head[12] = {0};
    ssize_t n = pread(fd, head, sizeof head, 0);
    if (n >= 12 && !memcmp(head, "RIFF", 4) && !memcmp(head + 8, "WEBP", 4)) return "image/webp";
    if (n >= 4 && !memcmp(head, "\x89PNG", 4)) return "image/png";
    return "image/jpeg";
}

static void variant_headers(http_res *res, const char *name)
{
    char etag[64];
    snprintf(etag, sizeof etag, "\"%.32s\"", name);
    http_res_header(res, "ETag", etag);
    http_res_header(res, "Cache-Control", "public, max-age=86400");
    http_res_header(res, "Vary", "Accept");
    http_res_header(res, "X-Content-Type-Options", "nosniff");
}

/* Makes the variant from the original and caches it; the answer is the bytes. */
static int make_variant(api_app *app, http_req *req, http_res *res, const store_object *o, const imageops *ops, const char *name,
                        uint64_t *len, bs_err *err)
{
    int fd = -1;
    const char *mime = NULL;
    strbuf out;
    strbuf_init(&out, 0);
    if (api_storage_local_copy(app, o->key, &fd, err) < 0) return -1;
    int rc = image_transform(fd, ops, accepts_webp(req), app->image_max_pixels, &out, &mime, err);
    close(fd);
    if (rc == 0) {
        store_filecache_put(app->image_cache, name, out.data, out.len);
        http_res_body(res, 200, mime, out.data, out.len);
        *len = out.len;
    }
    strbuf_release(&out);
    return rc;
}

static void image(http_req *req, http_res *res, void *data)
{
    api_app *app = data;
    bs_err err;
    bs_err_clear(&err);
    imageops ops;
    store_object o;
    store_file f;
    char env[STORE_ID_MAX], name[80];
    int found = 0, has_file = 0;
    http_res_header(res, "X-Content-Type-Options", "nosniff"); /* every answer, refusals too */
    if (imageops_parse(http_req_param(req, "path"), &ops, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    if (!store_blob_key_valid(ops.key) || api_storage_key_env(ops.key, env, sizeof env) < 0 ||
        store_objects_get(app->docs, env, ops.key, &o, &found, &err) < 0 || !found ||
        store_files_by_key(app->docs, env, ops.key, &f, &has_file, &err) < 0) {
        if (!err.status) bs_err_set(&err, 404, "file/not-found", "No such file");
        http_res_error_from(res, &err);
        return;
    }
    if (!api_storage_is_public(&o, &f, has_file)) { /* not the compat rule of unsigned reads: public files only */
        http_res_error(res, 403, "file/access-denied", "Only public files have image variants");
        return;
    }
    if ((!o.etag[0] || app->s3_direct) && api_storage_settle(app, env, &o, &err) < 0) { /* pending, or changed in the bucket */
        if (err.status == 400 && !strcmp(err.code, "file/invalid-path")) bs_err_set(&err, 404, "file/not-found", "No such file");
        http_res_error_from(res, &err);
        return;
    }
    variant_name(&o, &ops, accepts_webp(req), name);
    variant_headers(res, name);
    const char *inm = http_req_header(req, "If-None-Match");
    char etag[64];
    snprintf(etag, sizeof etag, "\"%.32s\"", name);
    if (inm && strstr(inm, etag)) {
        http_res_status(res, 304);
        return;
    }
    uint64_t size = 0;
    int fd = store_filecache_open(app->image_cache, name, &size);
    if (fd >= 0) http_res_file(res, 200, sniff(fd), fd, size);
    else if (make_variant(app, req, res, &o, &ops, name, &size, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    filemeter_counts sent = {.downloads = 1, .bytes_out = size};
    if (http_req_method(req) == HTTP_GET) filemeter_add(app->files_meter, env, &sent);
}

int api_images_register(http_router *router, api_app *app)
{
    return http_router_add(router, HTTP_GET | HTTP_HEAD, "/img/*path", image, app, NULL);
}
