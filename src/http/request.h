/* request/response: what a handler sees of one HTTP exchange, independent of the server library.
 * Ownership: the server owns every http_req and http_res and frees them when the exchange completes;
 * handlers borrow both for the duration of the call and must not keep pointers into them. Strings
 * returned by the accessors are borrowed from the request. */
#ifndef BASALT_HTTP_REQUEST_H
#define BASALT_HTTP_REQUEST_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "util/strbuf.h"

#define HTTP_MAX_PATH 32768        /* bytes of the request target (path + query: filters can be long) */
#define HTTP_MAX_SEGMENTS 16       /* path segments */
#define HTTP_MAX_QUERY_PARAMS 64   /* query parameters kept; more answer 400 */
#define HTTP_MAX_PATH_PARAMS 8
#define HTTP_MAX_RES_HEADERS 16
#define HTTP_REQUEST_ID_MAX 65     /* accepted X-Request-Id: up to 64 of [A-Za-z0-9._-] */

typedef enum http_method {
    HTTP_GET = 1 << 0, HTTP_HEAD = 1 << 1, HTTP_POST = 1 << 2, HTTP_PUT = 1 << 3,
    HTTP_PATCH = 1 << 4, HTTP_DELETE = 1 << 5, HTTP_OPTIONS = 1 << 6, HTTP_OTHER = 1 << 7
} http_method;

typedef struct http_kv {
    char *name;   /* decoded */
    char *value;  /* decoded */
} http_kv;

typedef struct http_req http_req;

http_method http_req_method(const http_req *req);
const char *http_req_method_name(const http_req *req);
const char *http_req_path(const http_req *req);          /* decoded path, without the query */
const char *http_req_id(const http_req *req);            /* X-Request-Id as echoed */
const char *http_req_client_ip(const http_req *req);
/* Header value by case-insensitive name, NULL when absent. */
const char *http_req_header(const http_req *req, const char *name);
/* Query parameter (first occurrence, decoded with '+' as space), NULL when absent. */
const char *http_req_query(const http_req *req, const char *name);
size_t http_req_query_count(const http_req *req);
const http_kv *http_req_query_at(const http_req *req, size_t i);
/* Path parameter captured by the route pattern (":name" or "*name"), NULL when absent. */
const char *http_req_param(const http_req *req, const char *name);
/* Raw body bytes (buffered routes only) and the parsed JSON body (JSON routes; NULL for no body). */
const char *http_req_body(const http_req *req, size_t *len);
struct json_object *http_req_json_borrow(const http_req *req);
/* Checks the content type and parses the buffered body as JSON (strict, with the server's limits);
 * idempotent. -1 with err: 415 common/unsupported-media-type or 400 common/invalid-parameters. */
int http_req_parse_json(http_req *req, bs_err *err);
/* Deferred answers: a handler that waits on something slow but not CPU-bound (a grouped database
 * write) calls http_req_defer and returns without a status, and its worker thread goes on with other
 * connections. Later any thread fills the response (http_res_*) and calls http_req_resume exactly once;
 * the answer then goes out from a worker thread. Between the two calls only the finishing code may touch
 * req and res; the request's parameters, headers and JSON body stay valid until the answer is sent. */
void http_req_defer(http_req *req);
void http_req_resume(http_req *req);
typedef long (*http_res_reader)(void *arg, uint64_t pos, char *buf, size_t max);
typedef struct http_res http_res;
/* The response of req, for the code that finishes a deferred answer. */
http_res *http_req_res_borrow(http_req *req);
/* A streaming route's per-request state (an upload in progress): set once by its chunk callback;
 * free_fn(state) runs when the request is freed, finished or abandoned by the client. */
void http_req_set_state(http_req *req, void *state, void (*free_fn)(void *state));
void *http_req_state(const http_req *req);
/* What a completed exchange tells its completion callback (http_req_on_done). Borrowed for the call. */
typedef struct http_done_info {
    int route_id;                /* the matched route's id, -1 none */
    const char *route;           /* its pattern, "" none */
    const char *method;          /* "GET", ... */
    int status;                  /* 499: the client went away before the answer */
    int64_t micros;              /* first byte to completion */
    uint64_t bytes_out;          /* response body bytes */
} http_done_info;
typedef void (*http_done_fn)(void *arg, const http_done_info *info);
/* Asks for fn(arg, info) once the exchange completes (answered, or abandoned by the client), on the thread
 * that completes it; fn must not block. One per request: a second call replaces the first. The metering
 * of /v1 calls (api/v1/pipeline.c) is its user. */
void http_req_on_done(http_req *req, http_done_fn fn, void *arg);
/* The arg given to http_req_on_done, NULL when none was. */
void *http_req_done_arg(const http_req *req);

typedef struct http_res http_res;

void http_res_status(http_res *res, int status);
int http_res_get_status(const http_res *res);
/* Adds a response header (copied). Returns -1 when the header table is full. */
int http_res_header(http_res *res, const char *name, const char *value);
/* Leaves the CORS headers off this answer (a request from an origin the project does not allow). */
void http_res_no_cors(http_res *res);
/* Sets the body to a copy of the bytes with the given content type. */
int http_res_body(http_res *res, int status, const char *content_type, const char *data, size_t len);
/* The body buffer, for building a body in place; content type defaults to JSON. */
strbuf *http_res_buffer(http_res *res);
void http_res_content_type(http_res *res, const char *content_type);
/* 2xx JSON answer from a json-c value (borrowed). */
int http_res_json(http_res *res, int status, struct json_object *obj);
/* The error envelope of client-api.md §1.6. */
void http_res_error(http_res *res, int status, const char *code, const char *message);
/* The same from err; a 503 also carries Retry-After: 1 (a moment, e.g. an environment moving). */
void http_res_error_from(http_res *res, const bs_err *err);
/* The same envelope with error.details set to details (any JSON value, borrowed; NULL for none). */
void http_res_error_details(http_res *res, int status, const char *code, const char *message, struct json_object *details);
/* Answer with a file: the server takes ownership of fd (closes it). */
void http_res_file(http_res *res, int status, const char *content_type, int fd, uint64_t size);
/* The same with size bytes from offset (a Range answer). */
void http_res_file_range(http_res *res, int status, const char *content_type, int fd, uint64_t offset, uint64_t size);
/* Answer with bytes a reader produces as the client takes them: reader(arg, pos, buf, max) returns the
 * count written (> 0), 0 at the end, or -1 to abort the connection; free_fn(arg) runs once afterwards.
 * size is the total (Content-Length). */
void http_res_stream(http_res *res, int status, const char *content_type, uint64_t size, http_res_reader reader, void *arg,
                     void (*free_fn)(void *arg));

#endif
