/* storage.h: what the file surfaces share (storage.c: the /storage target that receives and serves the
 * bytes; files.c: /v1/files; avatars.c: the user avatar endpoints). Private to its folder.
 *
 * Object keys: <environment id>/<visibility>/<category>/<object id>/<file name>, every segment of the
 * blob alphabet (store/blobs.h); the file name is the client's, with every other character turned into
 * '_'. Parts of multipart uploads live under _uploads/<environment id>/<upload id>/<part number>.
 *
 * Storage URLs: <public-url>/storage/<key>, signed in the query for uploads (PUT) and private downloads
 * (GET): expires (Unix seconds), size (bytes, 0 = any up to the type's limit), type, by (the user who asked,
 * "" for the secret key), vis, upload and part (multipart), signature = base64url(HMAC-SHA256(storage key,
 * the method and those values, newline-separated)). The storage key is derived from DATA/master.key, so
 * every instance sharing the data directory accepts the others' URLs. */
#ifndef BASALT_API_V1_FILES_STORAGE_H
#define BASALT_API_V1_FILES_STORAGE_H

#include "api/route.h"
#include "store/blobs.h"
#include "store/files.h"
#include "core/storage_grant.h"

#define STORAGE_UPLOAD_TTL_MS (15LL * 60 * 1000)
#define STORAGE_DOWNLOAD_TTL_MS (3600LL * 1000)
#define STORAGE_MAX_PARTS 10000

/* Appends <public-url>/storage/<key> and, when g is not NULL, the signed query of g. */
int api_storage_url(api_app *app, const char *key, const storage_grant *g, strbuf *out);
/* 1 when sig is g's signature. */
int api_storage_signature_ok(api_app *app, const storage_grant *g, const char *sig);
/* A new object key in the caller's environment (400 file/invalid-name for an unusable file name). */
int api_storage_new_key(api_ctx *ctx, const char *visibility, const char *category, const char *filename, char *out, size_t size,
                        bs_err *err);
/* The environment id at the start of a key, into out; -1 when the key has none. */
int api_storage_key_env(const char *key, char *out, size_t size);
/* A readable descriptor of the object's bytes from its start (the caller closes it): the file itself on
 * the filesystem driver, else a copy in an unlinked temporary file under the server's tmp directory. */
int api_storage_local_copy(api_app *app, const char *key, int *fd, bs_err *err);
/* Is the object public: its record's visibility when registered, else the one signed at presign time
 * (stored with the object)? f is its file record when has_file. */
int api_storage_is_public(const store_object *o, const store_file *f, int has_file);
/* May anybody read this object without a signed URL (§4.3)? Public ones, and in compat mode also
 * unregistered ones whatever their visibility. */
int api_storage_public_read(const api_app *app, const store_object *o, const store_file *f, int has_file);
/* The largest upload for a content type (image/video/document limits, else the general one). */
uint64_t api_storage_limit(const api_app *app, const char *content_type);
/* 1 for a usable MIME type: type/subtype[;parameters], printable ASCII only (no CR/LF or other control
 * characters: the type becomes a Content-Type header). */
int api_storage_type_ok(const char *type);
/* 1 for public, private, protected, shared. */
int api_storage_visibility_ok(const char *v);
/* The signed-in user id, or "" for the secret key; 401 common/authentication-required for anybody else.
 * A user token's session is checked before, by the pipeline (live_session routes, api/v1/pipeline.c: 401
 * auth/invalid-token once it ended); callers are on /v1/files and /v1/users only. */
int api_storage_caller(api_ctx *ctx, char *out, size_t size, bs_err *err);

/* An upload request {filename, contentType, fileSize?, visibility?, category?} after its checks. */
typedef struct upload_request {
    const char *filename, *type, *visibility, *category; /* borrowed from the request body */
    int64_t size;                                        /* 0 = not given */
    char by[STORE_FILE_ID_MAX];                          /* the caller (api_storage_caller) */
} upload_request;
/* Reads and checks an upload request from body (size_required: fileSize must be given). */
int api_storage_upload_read(api_ctx *ctx, struct json_object *body, int size_required, upload_request *u, bs_err *err);
/* Answers {url, key, filename, contentType, expiresAt} (and uploadUrl when avatar) for u's upload to key. */
int api_storage_answer_upload(api_ctx *ctx, http_res *res, const upload_request *u, const char *key, int avatar);
/* Deletes an object's bytes and its object row (the file record is the caller's business). */
int api_storage_delete_object(api_ctx *ctx, const char *key, bs_err *err);

/* --s3-direct-urls (storage_direct.c): an S3 presigned PUT for u's upload to key (the object is recorded
 * as pending); settling a pending object reads its size and ETag from the bucket (400 file/invalid-path
 * when nothing arrived, file/file-too-large past the type's limit), settling a recorded one in direct
 * mode checks that its ETag is unchanged (409 file/object-changed); a presigned GET for a download. */
int api_storage_direct_upload_url(api_ctx *ctx, const upload_request *u, const char *key, strbuf *url, bs_err *err);
int api_storage_settle(api_app *app, const char *env_id, store_object *o, bs_err *err);
/* 409 file/object-changed: in direct mode, the bucket's object is no longer the one recorded (settling a
 * recorded object checks its ETag again, and so do the server's reads). */
int api_storage_changed(bs_err *err);
int api_storage_direct_download_url(api_app *app, const char *key, int64_t expires_in_s, strbuf *url, bs_err *err);
/* Multipart in direct mode: an S3 presigned PUT of a part key (15 minutes, no Content-Type signed); the
 * parts in the bucket under prefix ("_uploads/<env>/<upload>/"), by number, from a listing (at most max);
 * and the record of an object composed from such parts: its size must be file_size (else it is deleted,
 * 400 file/invalid-parts-array) and within the type's limit (400 file/file-too-large). */
int api_storage_direct_part_url(api_app *app, const char *part_key, strbuf *url, bs_err *err);
int api_storage_direct_parts(api_app *app, const char *prefix, store_upload_part *out, size_t max, size_t *n, bs_err *err);
int api_storage_direct_composed(api_app *app, const char *env_id, store_object *o, int64_t file_size, bs_err *err);


#endif
