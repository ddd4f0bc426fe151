/* Unit tests of http/router.h: specificity (literal > :param > *tail, first differing segment decides),
 * 405 semantics (allowed mask of the best pattern, no route), HEAD served by GET, parameter capture by
 * segment index, tails, pattern validation, capacity and http_methods_format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/router.h"

#define PATH_MAX_TEST 512

typedef struct path_segs {
    char buf[PATH_MAX_TEST];
    char *segs[HTTP_MAX_SEGMENTS];
    int nseg;
} path_segs;

/* ---- helpers ---- */

static void handler_a(http_req *req, http_res *res, void *data)
{
    (void)req;
    (void)res;
    (void)data;
}

static void handler_b(http_req *req, http_res *res, void *data)
{
    (void)req;
    (void)res;
    (void)data;
}

/* Cuts a path into segments the way the request parser does (empty segments dropped). */
static void split(const char *path, path_segs *p)
{
    snprintf(p->buf, sizeof p->buf, "%s", path);
    p->nseg = 0;
    for (char *s = strtok(p->buf, "/"); s; s = strtok(NULL, "/")) {
        assert_true(p->nseg < HTTP_MAX_SEGMENTS);
        p->segs[p->nseg++] = s;
    }
}

static int match(const http_router *r, http_method method, const char *path, http_match *m)
{
    static path_segs p; /* segments must outlive the match for param checks */
    split(path, &p);
    return http_router_match(r, method, p.segs, p.nseg, m);
}

/* Asserts that method+path reaches the route registered as pattern. */
static http_match expect_route(const http_router *r, http_method method, const char *path, const char *pattern)
{
    http_match m;
    if (!match(r, method, path, &m)) fail_msg("%s: no route (allowed 0x%x), expected %s", path, m.allowed, pattern);
    assert_non_null(m.route);
    if (strcmp(m.route->pattern, pattern) != 0) fail_msg("%s matched %s, expected %s", path, m.route->pattern, pattern);
    return m;
}

static void expect_param(const http_match *m, int i, const char *name, int seg, int tail)
{
    assert_true(i < m->nparams);
    assert_string_equal(m->params[i].name, name);
    assert_int_equal(m->params[i].seg, seg);
    assert_int_equal(m->params[i].tail, tail);
}

static int add(http_router *r, unsigned methods, const char *pattern)
{
    return http_router_add(r, methods, pattern, handler_a, (void *)pattern, NULL);
}

/* The route table most tests use; registered least specific first, so order cannot explain a win. */
static const struct { unsigned methods; const char *pattern; } table[] = {
    {HTTP_GET, "/v1/*rest"},
    {HTTP_GET | HTTP_POST, "/v1/:table/:id"},
    {HTTP_GET | HTTP_PATCH | HTTP_DELETE, "/v1/data/:table/:id"},
    {HTTP_GET, "/v1/data/:table/spec"},
    {HTTP_GET, "/v1/auth/me"},
    {HTTP_POST, "/v1/data/:table"},
    {HTTP_GET, "/"},
    {HTTP_GET, "/files/*path"},
    {HTTP_PUT, "/files/:bucket/upload"},
    {HTTP_GET, "/v1/:a/lit"},
    {HTTP_POST, "/v1/lit/:b"},
};

static int setup(void **state)
{
    http_router *r = http_router_new();
    if (!r) return -1;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (add(r, table[i].methods, table[i].pattern) != (int)i) return -1;
    *state = r;
    return 0;
}

static int setup_reversed(void **state)
{
    http_router *r = http_router_new();
    if (!r) return -1;
    for (size_t i = sizeof table / sizeof table[0]; i-- > 0;)
        if (add(r, table[i].methods, table[i].pattern) < 0) return -1;
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    http_router_free(*state);
    return 0;
}

/* ---- specificity ---- */

static void test_literal_beats_param(void **state)
{
    http_router *r = *state;
    http_match m = expect_route(r, HTTP_GET, "/v1/data/users/spec", "/v1/data/:table/spec");
    assert_int_equal(m.nparams, 1);
    expect_param(&m, 0, "table", 2, 0);
    m = expect_route(r, HTTP_GET, "/v1/data/users/abc", "/v1/data/:table/:id");
    assert_int_equal(m.nparams, 2);
    expect_param(&m, 0, "table", 2, 0);
    expect_param(&m, 1, "id", 3, 0);
}

static void test_literal_route_beats_params(void **state)
{
    http_router *r = *state;
    http_match m = expect_route(r, HTTP_GET, "/v1/auth/me", "/v1/auth/me");
    assert_int_equal(m.nparams, 0);
    m = expect_route(r, HTTP_GET, "/v1/posts/42", "/v1/:table/:id");
    expect_param(&m, 0, "table", 1, 0);
    expect_param(&m, 1, "id", 2, 0);
    m = expect_route(r, HTTP_GET, "/v1/auth/you", "/v1/:table/:id");
    expect_param(&m, 1, "id", 2, 0);
}

static void test_first_differing_segment_decides(void **state)
{
    http_router *r = *state;
    /* /v1/:a/lit and /v1/lit/:b both match /v1/lit/lit; the literal at segment 1 wins */
    http_match m;
    /* GET is not taken by the winning pattern: the catch-all /v1/ *rest (GET) answers instead of a 405 */
    expect_route(r, HTTP_GET, "/v1/lit/lit", "/v1/*rest");
    assert_int_equal(match(r, HTTP_PATCH, "/v1/lit/lit", &m), 0);
    assert_int_equal(m.allowed, HTTP_POST);
    expect_route(r, HTTP_POST, "/v1/lit/lit", "/v1/lit/:b");
    expect_route(r, HTTP_GET, "/v1/zzz/lit", "/v1/:a/lit");
}

static void test_tail_catches_the_rest(void **state)
{
    http_router *r = *state;
    http_match m = expect_route(r, HTTP_GET, "/v1/a/b/c/d", "/v1/*rest");
    assert_int_equal(m.nparams, 1);
    expect_param(&m, 0, "rest", 1, 1);
    expect_route(r, HTTP_GET, "/v1/x", "/v1/*rest");
    m = expect_route(r, HTTP_GET, "/files/a/b/c.txt", "/files/*path");
    expect_param(&m, 0, "path", 1, 1);
    m = expect_route(r, HTTP_GET, "/files/one", "/files/*path");
    expect_param(&m, 0, "path", 1, 1);
}

/* A tail may be empty: "/files" matches "/files/" "*path", the tail starting past the last segment. */
static void test_empty_tail(void **state)
{
    http_router *r = *state;
    http_match m = expect_route(r, HTTP_GET, "/files", "/files/*path");
    expect_param(&m, 0, "path", 1, 1);
    m = expect_route(r, HTTP_GET, "/v1", "/v1/*rest");
    expect_param(&m, 0, "rest", 1, 1);
}

static void test_param_beats_tail(void **state)
{
    http_router *r = *state;
    expect_route(r, HTTP_GET, "/v1/posts/1", "/v1/:table/:id");
    expect_route(r, HTTP_GET, "/v1/posts/1/2", "/v1/*rest");
    expect_route(r, HTTP_PUT, "/files/b/upload", "/files/:bucket/upload");
}

static void test_param_does_not_match_empty_segment(void **state)
{
    http_router *r = *state;
    char s0[] = "v1", s1[] = "data", s2[] = "", s3[] = "spec";
    char *segs[] = {s0, s1, s2, s3};
    http_match m;
    assert_int_equal(http_router_match(r, HTTP_GET, segs, 4, &m), 1);
    assert_string_equal(m.route->pattern, "/v1/*rest");
}

static void test_root(void **state)
{
    http_router *r = *state;
    http_match m = expect_route(r, HTTP_GET, "/", "/");
    assert_int_equal(m.nparams, 0);
    assert_int_equal(match(r, HTTP_GET, "/nothing", &m), 0);
    assert_int_equal(m.allowed, 0);
    assert_null(m.route);
}

static void test_not_found(void **state)
{
    http_router *r = *state;
    http_match m;
    const char *paths[] = {"/v2/x", "/v", "/v1x/a", "/file", "/V1/auth/me", "/healthz"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        if (match(r, HTTP_GET, paths[i], &m)) fail_msg("%s matched %s", paths[i], m.route->pattern);
        assert_int_equal(m.allowed, 0);
        assert_null(m.route);
    }
}

static void test_registration_order_does_not_matter(void **state)
{
    http_router *r = *state; /* built in reverse order */
    expect_route(r, HTTP_GET, "/v1/data/users/spec", "/v1/data/:table/spec");
    expect_route(r, HTTP_GET, "/v1/data/users/x", "/v1/data/:table/:id");
    expect_route(r, HTTP_GET, "/v1/auth/me", "/v1/auth/me");
    expect_route(r, HTTP_GET, "/v1/a/b/c", "/v1/*rest");
    expect_route(r, HTTP_GET, "/v1/posts/1", "/v1/:table/:id");
    expect_route(r, HTTP_POST, "/v1/lit/lit", "/v1/lit/:b");
}

/* ---- 405 and HEAD ---- */

static void test_405_sets_allowed(void **state)
{
    http_router *r = *state;
    http_match m;
    assert_int_equal(match(r, HTTP_DELETE, "/v1/auth/me", &m), 0);
    assert_null(m.route);
    assert_int_equal(m.allowed, HTTP_GET);
    assert_int_equal(m.nparams, 0);
    assert_int_equal(match(r, HTTP_PUT, "/v1/data/users/abc", &m), 0);
    assert_int_equal(m.allowed, HTTP_GET | HTTP_PATCH | HTTP_DELETE);
    assert_int_equal(match(r, HTTP_PATCH, "/v1/data/users", &m), 0); /* only POST at the best pattern */
    assert_int_equal(m.allowed, HTTP_POST);
    expect_route(r, HTTP_GET, "/v1/data/users", "/v1/*rest"); /* a tail route taking the method beats 405 */
    assert_int_equal(match(r, HTTP_OPTIONS, "/v1/posts/1", &m), 0);
    assert_int_equal(m.allowed, HTTP_GET | HTTP_POST);
    assert_int_equal(match(r, HTTP_OTHER, "/", &m), 0);
    assert_int_equal(m.allowed, HTTP_GET);
}

static void test_405_unions_equally_specific_patterns(void **state)
{
    (void)state;
    http_router *r = http_router_new();
    assert_non_null(r);
    assert_int_equal(add(r, HTTP_GET, "/x/:a"), 0);
    assert_int_equal(add(r, HTTP_POST, "/x/:b"), 1);
    assert_int_equal(add(r, HTTP_DELETE, "/x/*c"), 2);
    http_match m;
    assert_int_equal(match(r, HTTP_PUT, "/x/1", &m), 0);
    assert_int_equal(m.allowed, HTTP_GET | HTTP_POST);
    http_match ok = expect_route(r, HTTP_POST, "/x/1", "/x/:b");
    expect_param(&ok, 0, "b", 1, 0);
    http_router_free(r);
}

static void test_head_served_by_get(void **state)
{
    http_router *r = *state;
    http_match m = expect_route(r, HTTP_HEAD, "/v1/auth/me", "/v1/auth/me");
    assert_int_equal(m.nparams, 0);
    m = expect_route(r, HTTP_HEAD, "/v1/data/t/1", "/v1/data/:table/:id");
    expect_param(&m, 1, "id", 3, 0);
    assert_int_equal(match(r, HTTP_HEAD, "/v1/data/users", &m), 0); /* POST only: 405 */
    assert_int_equal(m.allowed, HTTP_POST);
}

static void test_head_route_preferred(void **state)
{
    (void)state;
    http_router *r = http_router_new();
    assert_non_null(r);
    assert_int_equal(http_router_add(r, HTTP_GET, "/f", handler_a, NULL, NULL), 0);
    assert_int_equal(http_router_add(r, HTTP_HEAD, "/f", handler_b, NULL, NULL), 1);
    http_match m;
    assert_int_equal(match(r, HTTP_HEAD, "/f", &m), 1);
    assert_ptr_equal(m.route->handler, handler_b);
    assert_int_equal(match(r, HTTP_GET, "/f", &m), 1);
    assert_ptr_equal(m.route->handler, handler_a);
    http_router_free(r);
}

/* ---- registration ---- */

static void test_route_data_and_options(void **state)
{
    (void)state;
    http_router *r = http_router_new();
    assert_non_null(r);
    int tag = 7;
    http_route_opts opts = {.body = HTTP_BODY_JSON, .max_body = 1234, .json_by_handler = 1};
    char pattern[] = "/v1/:x";
    assert_int_equal(http_router_add(r, HTTP_POST, pattern, handler_b, &tag, &opts), 0);
    pattern[1] = 'Z'; /* the router keeps its own copy */
    http_match m = expect_route(r, HTTP_POST, "/v1/abc", "/v1/:x");
    assert_ptr_equal(m.route->data, &tag);
    assert_ptr_equal(m.route->handler, handler_b);
    assert_int_equal(m.route->opts.body, HTTP_BODY_JSON);
    assert_int_equal(m.route->opts.max_body, 1234);
    assert_int_equal(m.route->opts.json_by_handler, 1);
    assert_int_equal(m.route->id, 0);
    assert_int_equal(http_router_count(r), 1);
    assert_ptr_equal(http_router_route(r, 0), m.route);
    assert_null(http_router_route(r, 1));
    http_router_free(r);
}

static void test_bad_patterns_rejected(void **state)
{
    (void)state;
    http_router *r = http_router_new();
    assert_non_null(r);
    const char *bad[] = {"", "v1/x", "x", " /v1", "/v1/*rest/more", "/*a/*b", "/*a/b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (add(r, HTTP_GET, bad[i]) != -1) fail_msg("pattern \"%s\" accepted", bad[i]);
    assert_int_equal(http_router_add(r, HTTP_GET, NULL, handler_a, NULL, NULL), -1);
    assert_int_equal(http_router_add(r, HTTP_GET, "/ok", NULL, NULL, NULL), -1);
    assert_int_equal(http_router_add(r, 0, "/ok", handler_a, NULL, NULL), -1);
    assert_int_equal(http_router_count(r), 0);
    http_router_free(r);
}

static void test_segment_limit(void **state)
{
    (void)state;
    http_router *r = http_router_new();
    assert_non_null(r);
    char pat[256] = "";
    for (int i = 0; i < HTTP_MAX_SEGMENTS; i++) strcat(pat, "/s");
    assert_int_equal(add(r, HTTP_GET, pat), 0);
    expect_route(r, HTTP_GET, pat, pat);
    char longer[260];
    snprintf(longer, sizeof longer, "%s/s", pat);
    assert_int_equal(add(r, HTTP_GET, longer), -1);
    http_router_free(r);
}

/* A pattern with more parameters than a match can report would silently lose the last ones. */
static void test_too_many_params_rejected(void **state)
{
    (void)state;
    http_router *r = http_router_new();
    assert_non_null(r);
    char pat[256] = "";
    for (int i = 0; i < HTTP_MAX_PATH_PARAMS; i++) {
        char seg[24];
        snprintf(seg, sizeof seg, "/:p%d", i);
        strcat(pat, seg);
    }
    assert_int_equal(add(r, HTTP_GET, pat), 0);
    http_match m = expect_route(r, HTTP_GET, "/a/b/c/d/e/f/g/h", pat);
    assert_int_equal(m.nparams, HTTP_MAX_PATH_PARAMS);
    expect_param(&m, HTTP_MAX_PATH_PARAMS - 1, "p7", 7, 0);
    char more[270];
    snprintf(more, sizeof more, "%s/:p%d", pat, HTTP_MAX_PATH_PARAMS);
    int id = add(r, HTTP_POST, more);
    int reported = -1;
    if (id >= 0) {
        m = expect_route(r, HTTP_POST, "/a/b/c/d/e/f/g/h/i", more);
        reported = m.nparams;
    }
    http_router_free(r);
    if (id >= 0)
        fail_msg("pattern with %d parameters accepted; the match reports %d of them", HTTP_MAX_PATH_PARAMS + 1,
                 reported);
}

static void test_trailing_slash_pattern(void **state)
{
    (void)state;
    http_router *r = http_router_new();
    assert_non_null(r);
    assert_int_equal(add(r, HTTP_GET, "/a/"), 0);
    http_match m;
    assert_int_equal(match(r, HTTP_GET, "/a", &m), 1);
    http_router_free(r);
}

static void test_capacity(void **state)
{
    (void)state;
    http_router *r = http_router_new();
    assert_non_null(r);
    char pat[32];
    for (int i = 0; i < ROUTER_MAX_ROUTES; i++) {
        snprintf(pat, sizeof pat, "/r%d/:x", i);
        assert_int_equal(http_router_add(r, HTTP_GET, pat, handler_a, NULL, NULL), i);
    }
    assert_int_equal(http_router_add(r, HTTP_GET, "/one-too-many", handler_a, NULL, NULL), -1);
    assert_int_equal(http_router_count(r), ROUTER_MAX_ROUTES);
    http_match m = expect_route(r, HTTP_GET, "/r511/v", "/r511/:x");
    assert_int_equal(m.route->id, 511);
    http_router_free(r);
}

static void test_sixteen_segment_paths(void **state)
{
    (void)state;
    http_router *r = http_router_new();
    assert_non_null(r);
    /* specificity decided at the last of 16 segments */
    /* (at most HTTP_MAX_PATH_PARAMS = 8 parameters per pattern) */
    assert_int_equal(add(r, HTTP_GET, "/a/:b/:c/:d/:e/:f/:g/:h/i/j/k/l/m/n/o/:p"), 0);
    assert_int_equal(add(r, HTTP_GET, "/a/:b/:c/:d/:e/:f/:g/:h/i/j/k/l/m/n/o/z"), 1);
    expect_route(r, HTTP_GET, "/a/1/2/3/4/5/6/7/i/j/k/l/m/n/o/z", "/a/:b/:c/:d/:e/:f/:g/:h/i/j/k/l/m/n/o/z");
    expect_route(r, HTTP_GET, "/a/1/2/3/4/5/6/7/i/j/k/l/m/n/o/y", "/a/:b/:c/:d/:e/:f/:g/:h/i/j/k/l/m/n/o/:p");
    http_router_free(r);
}

/* ---- http_methods_format ---- */

static void expect_format(unsigned methods, size_t size, const char *expected)
{
    char out[128];
    memset(out, 'X', sizeof out);
    http_methods_format(methods, out, size);
    assert_string_equal(out, expected);
    assert_int_equal(out[size], 'X'); /* nothing written past size */
}

static void test_methods_format(void **state)
{
    (void)state;
    expect_format(HTTP_GET, 64, "GET, HEAD");
    expect_format(HTTP_POST, 64, "POST");
    expect_format(HTTP_GET | HTTP_POST, 64, "GET, HEAD, POST");
    expect_format(HTTP_DELETE | HTTP_PATCH | HTTP_PUT, 64, "PUT, PATCH, DELETE");
    expect_format(HTTP_GET | HTTP_HEAD | HTTP_POST | HTTP_PUT | HTTP_PATCH | HTTP_DELETE | HTTP_OPTIONS, 64,
                  "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
    expect_format(0, 64, "");
    expect_format(HTTP_OTHER, 64, "");
}

/* A buffer too small for the whole list keeps whole names only ("GET, HEAD", never "GET, HEAD, PO"). */
static void test_methods_format_truncates_whole_names(void **state)
{
    (void)state;
    expect_format(HTTP_GET | HTTP_POST, 4, "GET");
    expect_format(HTTP_GET | HTTP_POST, 10, "GET, HEAD");
    expect_format(HTTP_GET | HTTP_POST, 15, "GET, HEAD");
    expect_format(HTTP_GET | HTTP_POST, 16, "GET, HEAD, POST");
    expect_format(HTTP_POST, 1, "");
    char out[4] = {'X', 'X', 'X', 'X'};
    http_methods_format(HTTP_GET, out, 0);
    assert_int_equal(out[0], 'X');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_literal_beats_param, setup, teardown),
        cmocka_unit_test_setup_teardown(test_literal_route_beats_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_differing_segment_decides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tail_catches_the_rest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_param_beats_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_param_does_not_match_empty_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registration_order_does_not_matter, setup_reversed, teardown),
        cmocka_unit_test_setup_teardown(test_405_sets_allowed, setup, teardown),
        cmocka_unit_test(test_405_unions_equally_specific_patterns),
        cmocka_unit_test_setup_teardown(test_head_served_by_get, setup, teardown),
        cmocka_unit_test(test_head_route_preferred),
        cmocka_unit_test(test_route_data_and_options),
        cmocka_unit_test(test_bad_patterns_rejected),
        cmocka_unit_test(test_segment_limit),
        cmocka_unit_test(test_too_many_params_rejected),
        cmocka_unit_test(test_trailing_slash_pattern),
        cmocka_unit_test(test_capacity),
        cmocka_unit_test(test_sixteen_segment_paths),
        cmocka_unit_test(test_methods_format),
        cmocka_unit_test(test_methods_format_truncates_whole_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
