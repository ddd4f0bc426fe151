#include "http/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct http_router {
    http_route *routes[ROUTER_MAX_ROUTES];
    size_t count;
};

http_router *http_router_new(void)
{
    return calloc(1, sizeof(http_router));
}

static void route_free(http_route *route)
{
    if (!route) return;
    free(route->pattern);
    free(route->seg_buf);
    free(route);
}

void http_router_free(http_router *router)
{
    if (!router) return;
    for (size_t i = 0; i < router->count; i++) route_free(router->routes[i]);
    free(router);
}

/* Cuts route->seg_buf in place into route->segments. */
static int route_split(http_route *route)
{
    char *p = route->seg_buf;
    if (*p != '/') return -1;
    while (*p == '/') {
        *p++ = '\0';
        if (*p == '\0') break;
        if (route->nseg == HTTP_MAX_SEGMENTS || route->tail) return -1;
        route->segments[route->nseg++] = p;
        if (*p == '*') route->tail = 1;
        while (*p && *p != '/') p++;
    }
    int params = 0;
    for (int i = 0; i < route->nseg; i++)
        if (route->segments[i][0] == ':' || route->segments[i][0] == '*') params++;
    return *p == '\0' && params <= HTTP_MAX_PATH_PARAMS ? 0 : -1;
}

int http_router_add(http_router *router, unsigned methods, const char *pattern, http_handler_fn handler,
                    void *data, const http_route_opts *opts)
{
    if (router->count == ROUTER_MAX_ROUTES || !pattern || !handler || !methods) return -1;
    http_route *route = calloc(1, sizeof *route);
    if (!route) return -1;
    route->pattern = strdup(pattern);
    route->seg_buf = strdup(pattern);
    if (!route->pattern || !route->seg_buf || route_split(route) < 0) {
        route_free(route);
        return -1;
    }
    route->methods = methods;
    route->handler = handler;
    route->data = data;
    if (opts) route->opts = *opts;
    route->id = (int)router->count;
    router->routes[router->count++] = route;
    return route->id;
}

/* Scores how a route matches: 0 = no match, else higher is more specific. Each segment contributes
 * 2 (literal), 1 (parameter) in a base-3 positional number, so the first differing segment decides;
 * a tail contributes 0 from its position on. */
static unsigned long route_score(const http_route *route, char *const *segs, int nseg)
{
    if (route->tail ? nseg < route->nseg - 1 : nseg != route->nseg) return 0;
    unsigned long score = 1;
    for (int i = 0; i < HTTP_MAX_SEGMENTS; i++) {
        unsigned digit = 0;
        if (i < route->nseg) {
            const char *pat = route->segments[i];
            if (*pat == '*') digit = 0;
            else if (*pat == ':') digit = i < nseg && segs[i][0] != '\0' ? 1 : 3;
            else digit = i < nseg && strcmp(pat, segs[i]) == 0 ? 2 : 3;
            if (digit == 3) return 0;
        }
        score = score * 3 + digit;
    }
    return score;
}

static void match_params(const http_route *route, http_match *m)
{
    m->nparams = 0;
    for (int i = 0; i < route->nseg && m->nparams < HTTP_MAX_PATH_PARAMS; i++) {
        const char *pat = route->segments[i];
        if (*pat != ':' && *pat != '*') continue;
        m->params[m->nparams].name = pat + 1;
        m->params[m->nparams].seg = i;
        m->params[m->nparams].tail = *pat == '*';
        m->nparams++;
    }
}

int http_router_match(const http_router *router, http_method method, char *const *segs, int nseg,
                      http_match *m)
{
    memset(m, 0, sizeof *m);
    unsigned long best = 0;
    const http_route *hit = NULL;
    for (size_t i = 0; i < router->count; i++) {
        const http_route *route = router->routes[i];
        unsigned long score = route_score(route, segs, nseg);
        if (score == 0 || score < best) continue;
        if (score > best) {
            best = score;
            m->allowed = 0;
            hit = NULL;
        }
        m->allowed |= route->methods;
        if (!hit && (route->methods & (unsigned)method)) hit = route;
    }
    /* A less specific route that takes this method (a catch-all such as /v1/ *rest, which authenticates
     * first) is preferred over a 405, so that anonymous callers do not learn which routes exist. */
    unsigned long fallback = 0;
    for (size_t i = 0; i < router->count && !hit; i++) {
        const http_route *route = router->routes[i];
        if (!(route->methods & (unsigned)method) || !route->tail) continue;
        unsigned long score = route_score(route, segs, nseg);
        if (score > fallback) fallback = score;
    }
    for (size_t i = 0; i < router->count && !hit && fallback; i++)
        if (router->routes[i]->tail && (router->routes[i]->methods & (unsigned)method) &&
            route_score(router->routes[i], segs, nseg) == fallback)
            hit = router->routes[i];
    /* HEAD is served by GET routes. */
    if (!hit && method == HTTP_HEAD && (m->allowed & HTTP_GET)) {
        for (size_t i = 0; i < router->count && !hit; i++)
            if (route_score(router->routes[i], segs, nseg) == best && (router->routes[i]->methods & HTTP_GET))
                hit = router->routes[i];
    }
    if (!hit) return 0;
    m->route = hit;
    match_params(hit, m);
    return 1;
}

size_t http_router_count(const http_router *router)
{
    return router->count;
}

const http_route *http_router_route(const http_router *router, size_t id)
{
    return id < router->count ? router->routes[id] : NULL;
}

void http_methods_format(unsigned methods, char *out, size_t size)
{
    static const struct { unsigned bit; const char *name; } names[] = {
        {HTTP_GET, "GET"}, {HTTP_HEAD, "HEAD"}, {HTTP_POST, "POST"}, {HTTP_PUT, "PUT"},
        {HTTP_PATCH, "PATCH"}, {HTTP_DELETE, "DELETE"}, {HTTP_OPTIONS, "OPTIONS"}};
    size_t used = 0;
    if (size) out[0] = '\0';
    if (methods & HTTP_GET) methods |= HTTP_HEAD;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(methods & names[i].bit)) continue;
        size_t need = strlen(names[i].name) + (used ? 2 : 0);
        if (used + need >= size) break; /* only whole names */
        snprintf(out + used, size - used, "%s%s", used ? ", " : "", names[i].name);
        used += need;
    }
}
