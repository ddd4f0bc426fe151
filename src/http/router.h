/* router: maps (method, path) to a handler. Patterns are literal segments, ":name" parameters (one
 * segment) and a final "*name" capturing the rest of the path. When several patterns match a path the
 * most specific wins: comparing segment by segment, a literal beats a parameter beats a tail. When the
 * winning pattern does not take the method, the most specific matching "*tail" route that does take it
 * answers instead (a catch-all that authenticates first); only without one is it 405 with the Allow list.
 * Ownership: the router copies patterns; route data pointers are borrowed for the router's lifetime. */
#ifndef BASALT_HTTP_ROUTER_H
#define BASALT_HTTP_ROUTER_H

#include <stddef.h>

#include "http/request.h"

#define ROUTER_MAX_ROUTES 512

typedef void (*http_handler_fn)(http_req *req, http_res *res, void *data);

/* How a route takes its body. */
typedef enum http_body_mode {
    HTTP_BODY_NONE = 0,   /* body must be empty (a JSON content type with no bytes is fine) */
    HTTP_BODY_JSON,       /* buffered and parsed as JSON (empty body allowed: json is NULL) */
    HTTP_BODY_RAW,        /* buffered as bytes */
    HTTP_BODY_STREAM      /* handed to the route's chunk callback as it arrives, never buffered */
} http_body_mode;

/* Streaming body sink: called for each chunk, then once with len 0 at the end. Returning -1 with err
 * filled stops the upload and answers the error. */
typedef int (*http_chunk_fn)(http_req *req, const char *data, size_t len, void *data_ptr, bs_err *err);

typedef struct http_route_opts {
    http_body_mode body;
    size_t max_body;        /* 0 = the server default */
    http_chunk_fn on_chunk; /* HTTP_BODY_STREAM only */
    int json_by_handler;    /* HTTP_BODY_JSON: the handler calls http_req_parse_json itself (after it
                               authenticated the caller) instead of the server parsing before dispatch */
} http_route_opts;

typedef struct http_route {
    unsigned methods;
    char *pattern;         /* as registered, for logs and metrics */
    char *seg_buf;         /* a copy of the pattern cut into the segments below */
    char *segments[HTTP_MAX_SEGMENTS];
    int nseg;
    int tail;              /* last segment is "*name" */
    http_handler_fn handler;
    void *data;
    http_route_opts opts;
    int id;                /* index, stable, used by metrics */
} http_route;

typedef struct http_router http_router;

typedef struct http_match {
    const http_route *route;   /* NULL when nothing matched */
    unsigned allowed;          /* methods of the best-matching pattern (for 405) */
    int nparams;
    struct { const char *name; int seg; int tail; } params[HTTP_MAX_PATH_PARAMS]; /* name borrowed from route */
} http_match;

http_router *http_router_new(void);
void http_router_free(http_router *router);
/* Registers a route; methods is a mask of http_method. Returns the route id, or -1 (bad pattern, full). */
int http_router_add(http_router *router, unsigned methods, const char *pattern, http_handler_fn handler,
                    void *data, const http_route_opts *opts);
/* Matches the decoded path segments. Returns 1 when a route for this method matched, 0 otherwise
 * (m->allowed != 0 then means 405). A parameter names the segment it captured (a tail: that segment and
 * all after it). */
int http_router_match(const http_router *router, http_method method, char *const *segs, int nseg,
                      http_match *m);
size_t http_router_count(const http_router *router);
const http_route *http_router_route(const http_router *router, size_t id);
/* Writes "GET, POST" for a method mask. */
void http_methods_format(unsigned methods, char *out, size_t size);

#endif
