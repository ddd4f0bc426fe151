/* libFuzzer target: request targets (URL decoding, path segments, query parameters: http/request.c) and
 * route matching (http/router.c). scripts/fuzz.sh router SECONDS.
 *
 * The first byte picks the method, the rest is the request target as received. The target is parsed
 * like the server does (exchange_parse_target); a refusal must be a 4xx with a code. Otherwise the
 * decoded path must not hold more segments than allowed or a NUL, the query parameters must be there,
 * and a matched route's parameters must bind: a plain parameter is its segment, a tail the segments
 * from its own joined by '/'. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/exchange.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void noop(http_req *req, http_res *res, void *data) { (void)req; (void)res; (void)data; }

/* Patterns shaped like Basalt's own: literals, parameters and tails, overlapping on purpose. */
static const struct { unsigned methods; const char *pattern; } routes[] = {
    {HTTP_GET, "/healthz"},
    {HTTP_GET | HTTP_POST, "/v1/data/:table"},
    {HTTP_GET | HTTP_PATCH | HTTP_DELETE, "/v1/data/:table/:id"},
    {HTTP_GET, "/v1/data/:table/spec"},
    {HTTP_POST, "/v1/batch"},
    {HTTP_GET | HTTP_POST, "/v1/:table"},
    {HTTP_GET | HTTP_PUT, "/storage/*key"},
    {HTTP_GET, "/img/*rest"},
    {HTTP_GET | HTTP_POST | HTTP_PUT | HTTP_DELETE, "/admin/v1/projects/:pid/environments/:env/tables/:name"},
    {HTTP_GET, "/admin/v1/projects/:pid/environments/:env/tables/:name/indexes"},
    {HTTP_GET | HTTP_HEAD, "/console/*path"},
};

static http_router *router_get(void)
{
    static http_router *r;
    if (r) return r;
    r = http_router_new();
    if (!r) abort();
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (http_router_add(r, routes[i].methods, routes[i].pattern, noop, NULL, NULL) < 0) abort();
    return r;
}

/* The segments from..nseg joined by '/' equal tail. */
static int is_tail(const http_req *req, int from, const char *tail)
{
    for (int s = from; s < req->nseg; s++) {
        if (s > from && *tail++ != '/') return 0;
        size_t n = strlen(req->segs[s]);
        if (strncmp(tail, req->segs[s], n) != 0) return 0;
        tail += n;
    }
    return *tail == '\0';
}

static void check_parsed(http_req *req)
{
    if (req->nseg > HTTP_MAX_SEGMENTS || req->nquery > HTTP_MAX_QUERY_PARAMS || !req->path || req->path[0] != '/') abort();
    for (size_t i = 0; i < req->nquery; i++)
        if (!req->query[i].name || !req->query[i].value) abort();
    if (!http_router_match(router_get(), req->method, req->segs, req->nseg, &req->match)) return;
    if (exchange_bind_params(req) < 0) abort();
    for (int i = 0; i < req->match.nparams; i++) {
        int seg = req->match.params[i].seg;
        if (!req->params[i] || seg < 0 || seg > req->nseg) abort();
        const char *plain = seg < req->nseg ? req->segs[seg] : "";
        if (req->match.params[i].tail ? !is_tail(req, seg, req->params[i]) : strcmp(req->params[i], plain) != 0) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const http_method methods[] = {HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_PUT, HTTP_PATCH, HTTP_DELETE, HTTP_OPTIONS};
    if (size == 0) return 0;
    http_req *req = calloc(1, sizeof *req);
    if (!req) abort();
    req->res.fd = -1;
    req->method = methods[data[0] % (sizeof methods / sizeof methods[0])];
    req->target = malloc(size);
    if (!req->target) abort();
    memcpy(req->target, data + 1, size - 1);
    req->target[size - 1] = '\0';
    exchange_parse_target(req);
    if (req->early.status) {
        if (req->early.status < 400 || req->early.status > 499 || !req->early.code[0]) abort();
    } else {
        check_parsed(req);
    }
    exchange_free(req);
    return 0;
}
