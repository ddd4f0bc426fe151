#include "http/exchange.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util/json.h"
#include "util/strbuf.h"

http_method exchange_method_parse(const char *name)
{
    static const struct { const char *name; http_method m; } methods[] = {
        {"GET", HTTP_GET}, {"POST", HTTP_POST}, {"PATCH", HTTP_PATCH}, {"DELETE", HTTP_DELETE},
        {"PUT", HTTP_PUT}, {"HEAD", HTTP_HEAD}, {"OPTIONS", HTTP_OPTIONS}};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(name, methods[i].name) == 0) return methods[i].m;
    return HTTP_OTHER;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes src[0..len) into dst (at least len + 1 bytes). plus_space: '+' means ' '.
 * Returns the decoded length, or -1 on a bad escape or an encoded NUL. */
static long url_decode(const char *src, size_t len, char *dst, int plus_space)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '%') {
            if (i + 2 >= len) return -1;
            int hi = hex_value(src[i + 1]);
            int lo = hex_value(src[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return -1;
            dst[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            dst[o++] = plus_space && c == '+' ? ' ' : c;
        }
    }
    dst[o] = '\0';
    return (long)o;
}

static int parse_segments(http_req *req, const char *raw, size_t len)
{
    req->seg_buf = malloc(len + 1);
    req->path = malloc(len + 2);
    if (!req->seg_buf || !req->path) return bs_err_internal(&req->early);
    size_t o = 0, p = 0;
    req->path[p++] = '/';
    req->path[p] = '\0'; /* kept terminated at every step: the access log reads it after errors too */
    size_t i = 0;
    while (i < len && raw[i] == '/') i++;
    while (i < len) {
        size_t start = i;
        while (i < len && raw[i] != '/') i++;
        if (req->nseg == HTTP_MAX_SEGMENTS)
            return bs_err_set(&req->early, 404, "common/not-found", "No such route: too many path segments");
        long n = url_decode(raw + start, i - start, req->seg_buf + o, 0);
        if (n < 0) return bs_err_set(&req->early, 400, "common/invalid-parameters", "Malformed percent-encoding in the path");
        req->segs[req->nseg++] = req->seg_buf + o;
        if (p > 1) req->path[p++] = '/';
        /* bounded: path has len + 2 bytes; '/' plus the decoded segments take at most len + 1 */
        memcpy(req->path + p, req->seg_buf + o, (size_t)n);
        p += (size_t)n;
        req->path[p] = '\0';
        o += (size_t)n + 1;
        while (i < len && raw[i] == '/') i++;
    }
    req->path[p] = '\0';
    return 0;
}

static int parse_query(http_req *req, const char *q)
{
    while (*q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        if (len) {
            if (req->nquery == HTTP_MAX_QUERY_PARAMS)
                return bs_err_set(&req->early, 400, "common/invalid-parameters", "Too many query parameters (at most %d)",
                                  HTTP_MAX_QUERY_PARAMS);
            const char *eq = memchr(q, '=', len);
            size_t klen = eq ? (size_t)(eq - q) : len;
            size_t vlen = eq ? len - klen - 1 : 0;
            http_kv *kv = &req->query[req->nquery];
            kv->name = malloc(klen + 1);
            kv->value = malloc(vlen + 1);
            if (!kv->name || !kv->value) { free(kv->name); free(kv->value); return bs_err_internal(&req->early); }
            req->nquery++;
            if (url_decode(q, klen, kv->name, 1) < 0 || url_decode(eq ? eq + 1 : "", vlen, kv->value, 1) < 0)
                return bs_err_set(&req->early, 400, "common/invalid-parameters", "Malformed percent-encoding in the query");
        }
        q += len + (amp ? 1 : 0);
    }
    return 0;
}

void exchange_parse_target(http_req *req)
{
    const char *t = req->target ? req->target : "/";
    size_t len = strlen(t);
    if (len > HTTP_MAX_PATH) {
        bs_err_set(&req->early, 414, "common/uri-too-long", "The request target is longer than %d bytes", HTTP_MAX_PATH);
        return;
    }
    const char *qmark = strchr(t, '?');
    const char *hash = strchr(t, '#');
    size_t plen = qmark ? (size_t)(qmark - t) : hash ? (size_t)(hash - t) : len;
    if (t[0] != '/') {
        bs_err_set(&req->early, 400, "common/invalid-parameters", "The request target must be an absolute path");
        return;
    }
    if (parse_segments(req, t, plen) < 0) return;
    if (qmark) {
        char *q = strdup(qmark + 1);
        if (!q) { bs_err_internal(&req->early); return; }
        char *h = strchr(q, '#');
        if (h) *h = '\0';
        parse_query(req, q);
        free(q);
    }
}

/* The decoded segments from..nseg joined by '/', a new heap string; NULL when out of memory. */
static char *join_segments(const http_req *req, int from)
{
    strbuf sb;
    strbuf_init(&sb, 0);
    for (int s = from; s < req->nseg; s++) {
        if (s > from) strbuf_append_char(&sb, '/');
        strbuf_append_str(&sb, req->segs[s]);
    }
    if (sb.overflow) {
        strbuf_release(&sb);
        return NULL;
    }
    return strbuf_steal(&sb, NULL);
}

int exchange_bind_params(http_req *req)
{
    for (int i = 0; i < req->match.nparams; i++) {
        int seg = req->match.params[i].seg;
        if (!req->match.params[i].tail) req->params[i] = strdup(seg < req->nseg ? req->segs[seg] : "");
        else req->params[i] = join_segments(req, seg);
        if (!req->params[i]) return -1;
    }
    return 0;
}

http_res *http_req_res_borrow(http_req *req)
{
    return &req->res;
}

void exchange_free(http_req *req)
{
    if (!req) return;
    free(req->target);
    free(req->path);
    free(req->seg_buf);
    for (size_t i = 0; i < req->nquery; i++) {
        free(req->query[i].name);
        free(req->query[i].value);
    }
    for (int i = 0; i < HTTP_MAX_PATH_PARAMS; i++) free(req->params[i]);
    strbuf_release(&req->body);
    if (req->json) json_object_put(req->json);
    for (int i = 0; i < req->res.nheaders; i++) {
        free(req->res.headers[i].name);
        free(req->res.headers[i].value);
    }
    strbuf_release(&req->res.body);
    if (req->res.fd >= 0) close(req->res.fd);
    if (req->res.reader_free) req->res.reader_free(req->res.reader_arg);
    if (req->route_state_free) req->route_state_free(req->route_state);
    if (req->deferred) pthread_mutex_destroy(&req->defer_lock);
    free(req);
}

/* ---- request accessors ---- */

http_method http_req_method(const http_req *req) { return req->method; }
const char *http_req_method_name(const http_req *req) { return req->method_name; }
const char *http_req_path(const http_req *req) { return req->path ? req->path : "/"; }
const char *http_req_id(const http_req *req) { return req->request_id; }
const char *http_req_client_ip(const http_req *req) { return req->client_ip; }
void http_req_on_done(http_req *req, http_done_fn fn, void *arg)
{
    req->on_done = fn;
    req->on_done_arg = arg;
}

void *http_req_done_arg(const http_req *req) { return req->on_done ? req->on_done_arg : NULL; }
struct json_object *http_req_json_borrow(const http_req *req) { return req->json; }
size_t http_req_query_count(const http_req *req) { return req->nquery; }

const http_kv *http_req_query_at(const http_req *req, size_t i)
{
    return i < req->nquery ? &req->query[i] : NULL;
}

const char *http_req_header(const http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_req_query(const http_req *req, const char *name)
{
    for (size_t i = 0; i < req->nquery; i++)
        if (strcmp(req->query[i].name, name) == 0) return req->query[i].value;
    return NULL;
}

const char *http_req_param(const http_req *req, const char *name)
{
    for (int i = 0; i < req->match.nparams; i++)
        if (strcmp(req->match.params[i].name, name) == 0) return req->params[i];
    return NULL;
}

const char *http_req_body(const http_req *req, size_t *len)
{
    if (len) *len = req->body.len;
    return req->body.data ? req->body.data : "";
}

static int content_type_is_json(const char *ct)
{
    if (!ct) return 1; /* no type given: try JSON */
    while (*ct == ' ') ct++;
    size_t n = strcspn(ct, "; ");
    if (n == 16 && strncasecmp(ct, "application/json", 16) == 0) return 1;
    return n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0;
}

static int body_is_blank(const strbuf *b)
{
    for (size_t i = 0; i < b->len; i++)
        if (b->data[i] != ' ' && b->data[i] != '\n' && b->data[i] != '\r' && b->data[i] != '\t') return 0;
    return 1;
}

int http_req_parse_json(http_req *req, bs_err *err)
{
    if (!req->match.route || req->match.route->opts.body != HTTP_BODY_JSON) return 0;
    if (!req->json_parsed) {
        req->json_parsed = 1;
        if (body_is_blank(&req->body)) return 0;
        const char *ct = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        int is_null = 0;
        json_limits limits = {req->json_max_depth, req->json_max_string};
        if (!content_type_is_json(ct))
            bs_err_set(&req->json_err, 415, "common/unsupported-media-type", "Request bodies must be application/json");
        else
            req->json = json_parse_strict(req->body.data, req->body.len, &limits, &is_null, &req->json_err);
    }
    if (!req->json_err.status) return 0;
    if (err) *err = req->json_err;
    return -1;
}

/* ---- response ---- */

void http_res_status(http_res *res, int status) { res->status = status; }
void http_res_no_cors(http_res *res) { res->no_cors = 1; }
int http_res_get_status(const http_res *res) { return res->status; }
strbuf *http_res_buffer(http_res *res) { return &res->body; }

void http_res_content_type(http_res *res, const char *content_type)
{
    size_t n = strlen(content_type);
    if (n >= sizeof res->content_type) n = sizeof res->content_type - 1;
    memcpy(res->content_type, content_type, n);
    res->content_type[n] = '\0';
}

int http_res_header(http_res *res, const char *name, const char *value)
{
    for (int i = 0; i < res->nheaders; i++) {
        if (strcasecmp(res->headers[i].name, name) == 0) {
            char *v = strdup(value);
            if (!v) return -1;
            free(res->headers[i].value);
            res->headers[i].value = v;
            return 0;
        }
    }
    if (res->nheaders == HTTP_MAX_RES_HEADERS) return -1;
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) { free(n); free(v); return -1; }
    res->headers[res->nheaders].name = n;
    res->headers[res->nheaders].value = v;
    res->nheaders++;
    return 0;
}

int http_res_body(http_res *res, int status, const char *content_type, const char *data, size_t len)
{
    res->status = status;
    http_res_content_type(res, content_type);
    strbuf_reset(&res->body);
    return strbuf_append(&res->body, data, len);
}

int http_res_json(http_res *res, int status, struct json_object *obj)
{
    res->status = status;
    http_res_content_type(res, "application/json; charset=utf-8");
    strbuf_reset(&res->body);
    return json_append(&res->body, obj);
}

/* The error envelope of client-api.md §1.6 (the only builder of it), with error.details when a field is
 * named ([{field, reason}]) or details are given (any JSON value, borrowed). */
static void error_body(http_res *res, int status, const char *code, const char *message, const char *field,
                       const char *reason, struct json_object *details)
{
    res->status = status;
    http_res_content_type(res, "application/json; charset=utf-8");
    strbuf *b = &res->body;
    strbuf_reset(b);
    strbuf_appendf(b, "{\"success\":false,\"statusCode\":%d,\"error\":{\"code\":", status);
    strbuf_append_json_string(b, code, strlen(code));
    strbuf_append_str(b, ",\"message\":");
    strbuf_append_json_string(b, message, strlen(message));
    if (field) {
        strbuf_append_str(b, ",\"details\":[{\"field\":");
        strbuf_append_json_string(b, field, strlen(field));
        strbuf_append_str(b, ",\"reason\":");
        strbuf_append_json_string(b, reason, strlen(reason));
        strbuf_append_str(b, "}]");
    } else if (details) {
        strbuf_append_str(b, ",\"details\":");
        json_append(b, details);
    }
    strbuf_append_str(b, "},\"message\":");
    strbuf_append_json_string(b, message, strlen(message));
    strbuf_append_char(b, '}');
}

void http_res_error(http_res *res, int status, const char *code, const char *message)
{
    error_body(res, status, code, message, NULL, NULL, NULL);
}

void http_res_error_details(http_res *res, int status, const char *code, const char *message, struct json_object *details)
{
    error_body(res, status, code, message, NULL, NULL, details);
}

void http_res_error_from(http_res *res, const bs_err *err)
{
    if (!err || err->status == 0) {
        http_res_error(res, 500, "common/internal-error", "Internal server error");
        return;
    }
    const char *reason = err->reason[0] ? err->reason : err->message;
    if (err->status == 503) http_res_header(res, "Retry-After", "1"); /* unavailable for a moment: try again */
    error_body(res, err->status, err->code, err->message, err->field[0] ? err->field : NULL, reason, NULL);
}

void http_res_file(http_res *res, int status, const char *content_type, int fd, uint64_t size)
{
    http_res_file_range(res, status, content_type, fd, 0, size);
}

void http_res_file_range(http_res *res, int status, const char *content_type, int fd, uint64_t offset, uint64_t size)
{
    if (res->fd >= 0) close(res->fd);
    res->status = status;
    http_res_content_type(res, content_type);
    res->fd = fd;
    res->fd_size = size;
    res->fd_offset = offset;
}

void http_res_stream(http_res *res, int status, const char *content_type, uint64_t size, http_res_reader reader, void *arg,
                     void (*free_fn)(void *arg))
{
    if (res->reader_free) res->reader_free(res->reader_arg);
    res->status = status;
    http_res_content_type(res, content_type);
    res->reader = reader;
    res->reader_arg = arg;
    res->reader_free = free_fn;
    res->fd_size = size;
}

void http_req_set_state(http_req *req, void *state, void (*free_fn)(void *state))
{
    if (req->route_state_free) req->route_state_free(req->route_state);
    req->route_state = state;
    req->route_state_free = free_fn;
}

void *http_req_state(const http_req *req) { return req->route_state; }
