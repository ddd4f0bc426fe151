/* storage: the storage target of client-api.md §4.3 (not under /v1: browsers and apps reach it with the
 * URLs /v1/files hands out, without a key):
 *   PUT  /storage/<key>?expires&size&type&by&vis[&upload&part]&signature   the bytes, streamed to the
 *        blob store (never held in memory); 200 {key, size, etag} with an ETag header. Refusals: 403
 *        file/access-denied (bad or expired signature), 413 file/too-large (over the signed size or the
 *        type's limit), 400 file/file-too-small (empty, or shorter than the signed size), 400
 *        file/invalid-format (a content type of another kind than the signed one), 409
 *        file/already-uploaded (the URL already wrote its object: a URL writes once), 404 file/not-found (a
 *        part of a multipart upload completed, aborted or expired). Nothing becomes visible unless the
 *        whole body arrived.
 *   GET/HEAD /storage/<key>[?expires&signature]   the object, with Content-Type, ETag, Last-Modified,
 *        Cache-Control, Content-Disposition, Range (206/416) and If-None-Match (304). Unsigned GETs work
 *        for objects without a file record or with a public one (§4.3: apps keep the upload URL without
 *        its query as an image URL); registered private/protected/shared files need a signed URL (403).
 *        --storage-public-read strict allows unsigned GETs only for public files. Passive types (images,
 *        video, audio, text/plain, PDF, JSON) are inline; everything else is active content, served as an
 *        attachment with Content-Security-Policy: sandbox; default-src 'none'. Every answer carries
 *        X-Content-Type-Options: nosniff. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "api/v1/files/storage.h"
#include "api/admin_gate.h"
#include "api/route.h"
#include "api/v1/files/surface.h"
#include "core/storage_grant.h"
#include "store/files.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/json.h"

/* ---- signed URLs (core/storage_grant.h) ---- */

int api_storage_url(api_app *app, const char *key, const storage_grant *g, strbuf *out)
{
    return storage_grant_url(app->public_url, app->storage_key, key, g, out);
}

int api_storage_signature_ok(api_app *app, const storage_grant *g, const char *sig)
{
    return storage_grant_valid(app->storage_key, g, sig);
}

/* The grant a request's query claims (strings borrowed from req); -1 when a number is malformed. */
static int grant_of(http_req *req, const char *method, const char *key, storage_grant *g)
{
    const char *exp = http_req_query(req, "expires"), *size = http_req_query(req, "size"), *part = http_req_query(req, "part");
    char *end = NULL;
    memset(g, 0, sizeof *g);
    g->method = method;
    g->key = key;
    g->type = http_req_query(req, "type") ? http_req_query(req, "type") : "";
    g->by = http_req_query(req, "by") ? http_req_query(req, "by") : "";
    g->vis = http_req_query(req, "vis") ? http_req_query(req, "vis") : "";
    g->upload = http_req_query(req, "upload") ? http_req_query(req, "upload") : "";
    g->expires = exp ? strtoll(exp, &end, 10) : 0;
    if (!exp || *end) return -1;
    g->size = size ? strtoull(size, &end, 10) : 0;
    if (size && *end) return -1;
    g->part = part ? (int)strtol(part, &end, 10) : 0;
    if (part && *end) return -1;
    return 0;
}

int api_storage_key_env(const char *key, char *out, size_t size)
{
    size_t n = strcspn(key, "/");
    if (!key[n] || n == 0 || n >= size || strncmp(key, "env_", 4)) return -1;
    memcpy(out, key, n);
    out[n] = '\0';
    return 0;
}

uint64_t api_storage_limit(const api_app *app, const char *t)
{
    static const char *const docs[] = {"application/pdf", "application/msword", "application/vnd.ms-",
                                       "application/vnd.openxmlformats-officedocument."};
    if (!strncasecmp(t, "image/", 6)) return app->max_image;
    if (!strncasecmp(t, "video/", 6)) return app->max_video;
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
        if (!strncasecmp(t, docs[i], strlen(docs[i]))) return app->max_document;
    return app->max_upload;
}

/* ---- PUT: streaming upload ---- */

typedef struct upload_state {
    api_app *app;
    store_blob_writer *w;
    char env_id[STORE_ID_MAX];
    char key[STORE_BLOB_KEY_MAX + 1];       /* where the bytes go */
    char object_key[STORE_BLOB_KEY_MAX + 1]; /* the key the client uploads (the URL's) */
    char type[STORE_FILE_TYPE_MAX], by[STORE_FILE_ID_MAX], vis[16], upload[STORE_FILE_ID_MAX];
    int part;
    uint64_t limit, exact, received;
    store_blob_info info;
    int done;
} upload_state;

static void upload_state_free(void *p)
{
    upload_state *s = p;
    store_blob_abort(s->w); /* a client that went away mid-upload leaves nothing behind */
    free(s);
}

/* The media type without parameters, lower case. */
static void media_type(const char *in, char *out, size_t size)
{
    size_t n = in ? strcspn(in, ";") : 0, j = 0;
    while (n && (in[n - 1] == ' ' || in[n - 1] == '\t')) n--;
    for (size_t i = 0; i < n && j + 1 < size; i++) out[j++] = (char)((in[i] >= 'A' && in[i] <= 'Z') ? in[i] + 32 : in[i]);
    out[j] = '\0';
}

static int upload_gone(bs_err *err)
{
    return bs_err_set(err, 404, "file/not-found", "No such multipart upload (finished, aborted or expired?)");
}

static int already_uploaded(bs_err *err)
{
    return bs_err_set(err, 409, "file/already-uploaded", "This upload URL was already used; ask for a new one");
}

/* An upload URL writes once: a part only while its multipart upload is open, an object only while nothing
 * has its key (checked here before the body streams, and for good when the upload finishes). */
static int upload_target_open(api_app *app, const upload_state *s, bs_err *err)
{
    int found = 0;
    if (s->upload[0]) {
        store_upload u;
        if (store_uploads_get(app->docs, s->env_id, s->upload, &u, &found, err) < 0) return -1;
        return found && !strcmp(u.key, s->object_key) && u.expires_at >= clock_now_ms() ? 0 : upload_gone(err);
    }
    store_object o;
    if (store_objects_get(app->docs, s->env_id, s->key, &o, &found, err) < 0) return -1;
    return found ? already_uploaded(err) : 0;
}

/* Checks the URL of an upload and prepares its writer. */
static upload_state *upload_begin(api_app *app, http_req *req, bs_err *err)
{
    const char *key = http_req_param(req, "key"), *sig = http_req_query(req, "signature");
    storage_grant g;
    char sent[STORE_FILE_TYPE_MAX], signed_type[STORE_FILE_TYPE_MAX];
    if (!store_blob_key_valid(key) || grant_of(req, "PUT", key, &g) < 0 || !api_storage_signature_ok(app, &g, sig)) {
        bs_err_set(err, 403, "file/access-denied", "This upload URL is not valid");
        return NULL;
    }
    if (g.expires * 1000 < clock_now_ms()) {
        bs_err_set(err, 403, "file/access-denied", "This upload URL has expired; ask for a new one");
        return NULL;
    }
    media_type(http_req_header(req, "Content-Type"), sent, sizeof sent);
    media_type(g.type, signed_type, sizeof signed_type);
    if (sent[0] && strncmp(sent, signed_type, strcspn(signed_type, "/") + 1)) {
        bs_err_set(err, 400, "file/invalid-format", "Content-Type %s does not match the signed type %s", sent, signed_type);
        return NULL;
    }
    upload_state *s = calloc(1, sizeof *s);
    if (!s || api_storage_key_env(key, s->env_id, sizeof s->env_id) < 0) {
        free(s);
        bs_err_set(err, 403, "file/access-denied", "This upload URL is not valid");
        return NULL;
    }
    s->app = app;
    snprintf(s->object_key, sizeof s->object_key, "%s", key);
    snprintf(s->type, sizeof s->type, "%s", g.type);
    snprintf(s->by, sizeof s->by, "%s", g.by);
    snprintf(s->vis, sizeof s->vis, "%s", g.vis);
    snprintf(s->upload, sizeof s->upload, "%s", g.upload);
    s->part = g.part;
    s->exact = g.size;
    s->limit = g.size ? g.size : api_storage_limit(app, g.type);
    if (g.upload[0]) snprintf(s->key, sizeof s->key, "_uploads/%s/%s/%d", s->env_id, g.upload, g.part);
    else snprintf(s->key, sizeof s->key, "%s", key);
    const char *declared = http_req_header(req, "Content-Length");
    if (declared && strtoull(declared, NULL, 10) > s->limit) {
        bs_err_set(err, 413, "file/too-large", "The file is larger than %llu bytes", (unsigned long long)s->limit);
        free(s);
        return NULL;
    }
    if (upload_target_open(app, s, err) < 0) {
        free(s);
        return NULL;
    }
    s->w = store_blobs_put_begin(app->blobs, s->key, s->type, err);
    if (!s->w) {
        free(s);
        return NULL;
    }
    return s;
}

/* Commits the writer: the bytes become visible. */
static int upload_commit(upload_state *s, bs_err *err)
{
    store_blob_writer *w = s->w;
    s->w = NULL;
    if (store_blob_commit(w, &s->info, err) < 0) return -1;
    filemeter_counts got = {.uploads = s->upload[0] ? 0 : 1, .bytes_in = s->info.size};
    filemeter_add(s->app->files_meter, s->env_id, &got);
    return 0;
}

/* A part is recorded only while its upload is open; one that arrives after completion or abort is
 * deleted again. */
static int finish_part(upload_state *s, bs_err *err)
{
    store_upload_part p = {.number = s->part};
    int recorded = 0, found = 0;
    if (upload_commit(s, err) < 0) return -1;
    p.size = s->info.size;
    snprintf(p.etag, sizeof p.etag, "%s", s->info.etag);
    if (store_uploads_part_put(s->app->docs, s->env_id, s->upload, &p, &recorded, err) < 0) return -1;
    if (recorded) return 0;
    store_blobs_delete(s->app->blobs, s->key, &found, err);
    return upload_gone(err);
}

/* An object is first claimed in the object rows (pending: no ETag yet), so of two PUTs of one URL, or a
 * PUT after registration, only one ever writes; the row is completed once the bytes are visible. */
static int finish_object(upload_state *s, bs_err *err)
{
    store_object o;
    int claimed = 0;
    memset(&o, 0, sizeof o);
    snprintf(o.key, sizeof o.key, "%s", s->key);
    snprintf(o.content_type, sizeof o.content_type, "%s", s->type[0] ? s->type : "application/octet-stream");
    snprintf(o.filename, sizeof o.filename, "%s", strrchr(s->key, '/') + 1);
    snprintf(o.uploaded_by, sizeof o.uploaded_by, "%s", s->by);
    snprintf(o.visibility, sizeof o.visibility, "%s", s->vis[0] ? s->vis : "private");
    o.created_at = clock_now_ms();
    if (store_objects_claim(s->app->docs, s->env_id, &o, &claimed, err) < 0) return -1;
    if (!claimed) return already_uploaded(err);
    if (upload_commit(s, err) < 0) {
        bs_err ignored;
        store_objects_delete(s->app->docs, s->env_id, o.key, &ignored); /* the URL may try again */
        return -1;
    }
    o.size = s->info.size;
    snprintf(o.etag, sizeof o.etag, "%s", s->info.etag);
    return store_objects_put(s->app->docs, s->env_id, &o, err);
}

/* The upload is whole: make it visible and record it. */
static int upload_finish(upload_state *s, bs_err *err)
{
    if (s->received == 0 || (s->exact && s->received < s->exact))
        return bs_err_set(err, 400, "file/file-too-small", "The upload is %s", s->received ? "shorter than the signed size" : "empty");
    if ((s->upload[0] ? finish_part(s, err) : finish_object(s, err)) < 0) return -1;
    s->done = 1;
    return 0;
}

static int upload_chunk(http_req *req, const char *data, size_t len, void *route_data, bs_err *err)
{
    upload_state *s = http_req_state(req);
    if (!s) {
        if (!(s = upload_begin(route_data, req, err))) return -1;
        http_req_set_state(req, s, upload_state_free);
    }
    if (s->done) return 0;
    if (len == 0) return upload_finish(s, err);
    s->received += len;
    if (s->received > s->limit)
        return bs_err_set(err, 413, "file/too-large", "The file is larger than %llu bytes", (unsigned long long)s->limit);
    return store_blob_write(s->w, data, len, err);
}

static void upload_answer(http_req *req, http_res *res, void *data)
{
    (void)data;
    upload_state *s = http_req_state(req);
    if (!s || !s->done) {
        http_res_error(res, 500, "common/internal-error", "The upload did not finish");
        return;
    }
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "key", json_object_new_string(s->object_key));
    json_object_object_add(o, "size", json_object_new_int64((int64_t)s->info.size));
    json_object_object_add(o, "etag", json_object_new_string(s->info.etag));
    http_res_header(res, "ETag", s->info.etag);
    http_res_json(res, 200, o);
    json_object_put(o);
}

/* ---- GET/HEAD: serving ---- */

/* May this request read the object? Signed GETs always; unsigned ones per §4.3. */
static int read_allowed(api_app *app, http_req *req, const char *key, const store_object *o, const store_file *f, int has_file,
                        int *signed_read)
{
    const char *sig = http_req_query(req, "signature");
    storage_grant g;
    *signed_read = 0;
    if (sig) {
        *signed_read = grant_of(req, "GET", key, &g) == 0 && api_storage_signature_ok(app, &g, sig) &&
                       g.expires * 1000 >= clock_now_ms();
        return *signed_read;
    }
    return api_storage_public_read(app, o, f, has_file);
}

int api_storage_is_public(const store_object *o, const store_file *f, int has_file)
{
    return strcmp(has_file ? f->visibility : o->visibility, "public") == 0;
}

int api_storage_public_read(const api_app *app, const store_object *o, const store_file *f, int has_file)
{
    if (api_storage_is_public(o, f, has_file)) return 1;
    return !has_file && !app->storage_strict; /* §4.3 compat: unregistered objects, whatever was asked */
}

/* Passive types, which a browser only displays: any image, video or audio type that is not XML (SVG
 * runs scripts), text/plain, application/pdf and application/json. Everything else, known active content
 * (HTML, XHTML, SVG, XML, XSLT, JavaScript, Flash) and types we do not know alike, is active. */
static int passive_type(const char *type)
{
    static const char *const kinds[] = {"image/", "video/", "audio/"};
    static const char *const exact[] = {"text/plain", "application/pdf", "application/json"};
    char t[STORE_FILE_TYPE_MAX];
    media_type(type, t, sizeof t);
    if (strstr(t, "xml") || strstr(t, "svg")) return 0; /* image/svg+xml, any +xml */
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strncmp(t, kinds[i], strlen(kinds[i])) && t[strlen(kinds[i])]) return 1;
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (!strcmp(t, exact[i])) return 1;
    return 0;
}

/* Content-Disposition: inline (passive types) or attachment; filename="<ASCII form>";
 * filename*=UTF-8''<percent-encoded>. Active content also gets a sandboxing CSP: opened anyway (a
 * browser may ignore attachment for a frame), it runs with an opaque origin and may load nothing. */
static void disposition(http_res *res, const char *name, const char *type)
{
    int inline_ok = passive_type(type);
    strbuf v;
    strbuf_init(&v, 4096);
    if (!inline_ok) http_res_header(res, "Content-Security-Policy", "sandbox; default-src 'none'");
    strbuf_append_str(&v, inline_ok ? "inline; filename=\"" : "attachment; filename=\"");
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        strbuf_append_char(&v, (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\') ? (char)*p : '_');
    strbuf_append_str(&v, "\"; filename*=UTF-8''");
    strbuf_append_percent(&v, name, 0);
    if (!v.overflow) http_res_header(res, "Content-Disposition", v.data);
    strbuf_release(&v);
}

/* Parses a single "bytes=a-b" range against size: 1 with [*from, *to], 0 without a usable Range header
 * (absent or several ranges: the whole object), -1 when unsatisfiable. */
static int range_of(const char *h, uint64_t size, uint64_t *from, uint64_t *to)
{
    if (!h || strncmp(h, "bytes=", 6) || strchr(h, ',')) return 0;
    const char *p = h + 6;
    char *end;
    if (*p == '-') { /* the last n bytes */
        uint64_t n = strtoull(p + 1, &end, 10);
        if (*end || end == p + 1) return 0;
        if (n == 0 || size == 0) return -1;
        *from = n >= size ? 0 : size - n;
        *to = size - 1;
        return 1;
    }
    *from = strtoull(p, &end, 10);
    if (end == p || *end != '-') return 0;
    const char *q = end + 1;
    *to = *q ? strtoull(q, &end, 10) : size - 1;
    if (*q && *end) return 0;
    if (*from >= size || *to < *from) return -1;
    if (*to >= size) *to = size - 1;
    return 1;
}

static void serve_headers(http_res *res, const store_object *o, const store_file *f, int has_file, int signed_read,
                          const store_blob_info *info, const char *type)
{
    char when[64];
    http_res_header(res, "ETag", o->etag[0] ? o->etag : info->etag); /* what the upload answered */
    http_res_header(res, "Accept-Ranges", "bytes");
    http_res_header(res, "Cache-Control", signed_read ? "private, max-age=3600" : "public, max-age=86400");
    time_t t = (time_t)(info->modified_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    http_res_header(res, "Last-Modified", when);
    disposition(res, has_file ? f->original_name : o->filename, type);
}

/* ---- bodies from a blob store without file descriptors (S3): read in windows as the client takes them ---- */

#define STREAM_WINDOW (1024 * 1024)

typedef struct blob_stream {
    store_blobs *blobs;
    char key[STORE_BLOB_KEY_MAX + 1];
    uint64_t offset, len;          /* the part of the object answered */
    char *window;
    uint64_t win_start, win_len;   /* object offsets held in window */
} blob_stream;

static int window_fill(const void *data, size_t len, void *arg)
{
    blob_stream *s = arg;
    if (s->win_len + len > STREAM_WINDOW) return -1;
    memcpy(s->window + s->win_len, data, len);
    s->win_len += len;
    return 0;
}

static long blob_stream_read(void *arg, uint64_t pos, char *buf, size_t max)
{
    blob_stream *s = arg;
    uint64_t at = s->offset + pos;
    if (pos >= s->len) return 0;
    if (at < s->win_start || at >= s->win_start + s->win_len) {
        bs_err err;
        uint64_t want = s->len - pos < STREAM_WINDOW ? s->len - pos : STREAM_WINDOW;
        s->win_start = at;
        s->win_len = 0;
        if (store_blobs_read(s->blobs, s->key, at, want, window_fill, s, &err) < 0 || s->win_len == 0) return -1;
    }
    uint64_t avail = s->win_start + s->win_len - at, n = avail < max ? avail : max;
    if (n > s->len - pos) n = s->len - pos;
    memcpy(buf, s->window + (at - s->win_start), (size_t)n);
    return (long)n;
}

static void blob_stream_free(void *arg)
{
    blob_stream *s = arg;
    free(s->window);
    free(s);
}

/* Answers len bytes of key from offset with status: sendfile from fd when there is one, else streamed. */
static void answer_bytes(api_app *app, http_res *res, const char *key, int fd, const char *type, uint64_t offset, uint64_t len,
                         int status)
{
    if (fd >= 0) {
        http_res_file_range(res, status, type, fd, offset, len);
        return;
    }
    blob_stream *s = calloc(1, sizeof *s);
    if (!s || !(s->window = malloc(STREAM_WINDOW))) {
        free(s);
        http_res_error(res, 500, "common/internal-error", "Out of memory");
        return;
    }
    s->blobs = app->blobs;
    snprintf(s->key, sizeof s->key, "%s", key);
    s->offset = offset;
    s->len = len;
    http_res_stream(res, status, type, len, blob_stream_read, s, blob_stream_free);
}

/* The object's info, and a descriptor when the blob store has them (else fd = -1). */
static int open_object(api_app *app, const char *key, int *fd, store_blob_info *info, bs_err *err)
{
    int found = 0;
    *fd = -1;
    if (!strcmp(store_blobs_driver(app->blobs), "fs")) return store_blobs_open_fd(app->blobs, key, fd, info, err);
    if (store_blobs_stat(app->blobs, key, info, &found, err) < 0) return -1;
    return found ? 0 : bs_err_set(err, 404, "file/not-found", "No such file");
}

static int write_sink(const void *data, size_t len, void *arg)
{
    int fd = *(int *)arg;
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int api_storage_local_copy(api_app *app, const char *key, int *fd, bs_err *err)
{
    store_blob_info info;
    if (open_object(app, key, fd, &info, err) < 0) return -1;
    if (*fd >= 0) return 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/XXXXXX", app->tmp_dir);
    *fd = mkstemp(path);
    if (*fd < 0) return bs_err_set(err, 500, "common/internal-error", "No temporary file");
    unlink(path); /* gone when closed */
    if (store_blobs_read(app->blobs, key, 0, info.size, write_sink, fd, err) < 0) {
        close(*fd);
        *fd = -1;
        return err->status ? -1 : bs_err_internal(err);
    }
    return 0;
}

static void serve(http_req *req, http_res *res, void *data)
{
    api_app *app = data;
    bs_err err;
    bs_err_clear(&err);
    const char *key = http_req_param(req, "key");
    char env[STORE_ID_MAX];
    store_object o;
    store_file f;
    store_blob_info info;
    int found = 0, has_file = 0, signed_read = 0, fd = -1;
    http_res_header(res, "X-Content-Type-Options", "nosniff"); /* every answer, refusals too */
    if (!store_blob_key_valid(key) || api_storage_key_env(key, env, sizeof env) < 0) {
        http_res_error(res, 404, "file/not-found", "No such file");
        return;
    }
    if (store_objects_get(app->docs, env, key, &o, &found, &err) < 0 ||
        (found && store_files_by_key(app->docs, env, key, &f, &has_file, &err) < 0)) {
        http_res_error_from(res, &err);
        return;
    }
    if (!found || (!o.etag[0] && api_storage_settle(app, env, &o, &err) < 0)) { /* pending: a direct upload */
        http_res_error(res, 404, "file/not-found", "No such file");
        return;
    }
    if (!read_allowed(app, req, key, &o, &f, has_file, &signed_read)) {
        http_res_error(res, 403, "file/access-denied", http_req_query(req, "signature") ? "This download URL is not valid or has expired"
                                                                                      : "This file is not public: ask for a download URL");
        return;
    }
    if (open_object(app, key, &fd, &info, &err) < 0 || (app->s3_direct && strcmp(o.etag, info.etag) && api_storage_changed(&err) < 0)) {
        if (fd >= 0) close(fd);
        http_res_error_from(res, &err);
        return;
    }
    const char *type = has_file ? f.mime_type : o.content_type;
    serve_headers(res, &o, &f, has_file, signed_read, &info, type);
    const char *inm = http_req_header(req, "If-None-Match");
    uint64_t from = 0, to = 0;
    int ranged = range_of(http_req_header(req, "Range"), info.size, &from, &to);
    if (inm && (strstr(inm, o.etag[0] ? o.etag : info.etag) || !strcmp(inm, "*"))) {
        http_res_status(res, 304);
    } else if (ranged < 0) {
        char cr[64];
        snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)info.size);
        http_res_header(res, "Content-Range", cr);
        http_res_error(res, 416, "file/invalid-range", "The range is outside the file");
    } else {
        filemeter_counts sent = {.downloads = 1, .bytes_out = ranged ? to - from + 1 : info.size};
        if (http_req_method(req) == HTTP_GET) filemeter_add(app->files_meter, env, &sent);
        if (ranged) {
            char cr[96];
            snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)from, (unsigned long long)to, (unsigned long long)info.size);
            http_res_header(res, "Content-Range", cr);
        }
        answer_bytes(app, res, key, fd, type, ranged ? from : 0, ranged ? to - from + 1 : info.size, ranged ? 206 : 200);
        return;
    }
    if (fd >= 0) close(fd);
}

/* GET /admin/v1/projects/:projectId/environments/:env/storage → {objects, bytesStored, uploads,
 * downloads, bytesIn, bytesOut}: the gauge from the file store, the counters since this server started. */
static void storage_stats(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_env env;
    uint64_t count = 0, bytes = 0;
    filemeter_counts c;
    if (api_admin_env(ctx, req, 0, &env, &err) < 0 || store_objects_totals(ctx->app->docs, env.id, &count, &bytes, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    filemeter_get(ctx->app->files_meter, env.id, &c);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "objects", json_object_new_int64((int64_t)count));
    json_object_object_add(o, "bytesStored", json_object_new_int64((int64_t)bytes));
    json_object_object_add(o, "uploads", json_object_new_int64((int64_t)c.uploads));
    json_object_object_add(o, "downloads", json_object_new_int64((int64_t)c.downloads));
    json_object_object_add(o, "bytesIn", json_object_new_int64((int64_t)c.bytes_in));
    json_object_object_add(o, "bytesOut", json_object_new_int64((int64_t)c.bytes_out));
    json_object_object_add(o, "driver", json_object_new_string(store_blobs_driver(ctx->app->blobs)));
    http_res_json(res, 200, o);
    json_object_put(o);
}

int api_storage_register(http_router *router, api_app *app)
{
    if (api_route_admin(router, app, HTTP_GET, "/admin/v1/projects/:projectId/environments/:env/storage", storage_stats, NULL) < 0)
        return -1;
    http_route_opts put = {.body = HTTP_BODY_STREAM, .max_body = (size_t)app->max_upload, .on_chunk = upload_chunk};
    if (http_router_add(router, HTTP_PUT, "/storage/*key", upload_answer, app, &put) < 0) return -1;
    return http_router_add(router, HTTP_GET | HTTP_HEAD, "/storage/*key", serve, app, NULL);
}
