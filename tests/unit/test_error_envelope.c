/* Unit tests of the error envelope (client-api.md §1.6) that http/request.c builds for every error
 * answer: plain, with a named field (details [{field, reason}]) and with given details (quota and plan
 * refusals), text that needs escaping, and the content type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <string.h>

#include "http/exchange.h"
#include "util/err.h"

static struct json_object *answer(http_res *res, int status)
{
    assert_int_equal(res->status, status);
    assert_string_equal(res->content_type, "application/json; charset=utf-8");
    struct json_object *o = json_tokener_parse(res->body.data);
    assert_non_null(o);
    return o;
}

static struct json_object *get(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v)) fail_msg("no \"%s\" in %s", key, json_object_to_json_string(o));
    return v;
}

static struct json_object *envelope(http_res *res, int status, const char *code, const char *message)
{
    struct json_object *o = answer(res, status);
    assert_int_equal(json_object_object_length(o), 4);
    assert_false(json_object_get_boolean(get(o, "success")));
    assert_int_equal(json_object_get_int(get(o, "statusCode")), status);
    assert_string_equal(json_object_get_string(get(o, "message")), message);
    struct json_object *e = get(o, "error");
    assert_string_equal(json_object_get_string(get(e, "code")), code);
    assert_string_equal(json_object_get_string(get(e, "message")), message);
    return o;
}

static void test_plain(void **state)
{
    (void)state;
    http_res res;
    memset(&res, 0, sizeof res);
    strbuf_init(&res.body, 0);
    http_res_error(&res, 404, "data/not-found", "No \"such\" record\n\\ here");
    struct json_object *o = envelope(&res, 404, "data/not-found", "No \"such\" record\n\\ here");
    assert_int_equal(json_object_object_length(get(o, "error")), 2); /* no details */
    json_object_put(o);
    strbuf_release(&res.body);
}

static void test_from_err_with_field(void **state)
{
    (void)state;
    http_res res;
    bs_err err;
    memset(&res, 0, sizeof res);
    strbuf_init(&res.body, 0);
    bs_err_set(&err, 400, "data/validation-error", "Invalid record");
    bs_err_field(&err, "[2].views", "must be a number");
    http_res_error_from(&res, &err);
    struct json_object *o = envelope(&res, 400, "data/validation-error", "Invalid record");
    struct json_object *d = get(get(o, "error"), "details");
    assert_true(json_object_is_type(d, json_type_array));
    assert_int_equal(json_object_array_length(d), 1);
    assert_string_equal(json_object_get_string(get(json_object_array_get_idx(d, 0), "field")), "[2].views");
    assert_string_equal(json_object_get_string(get(json_object_array_get_idx(d, 0), "reason")), "must be a number");
    json_object_put(o);
    http_res_error_from(&res, NULL); /* no error set: a 500, the body replaced */
    json_object_put(envelope(&res, 500, "common/internal-error", "Internal server error"));
    strbuf_release(&res.body);
}

static void test_given_details(void **state)
{
    (void)state;
    http_res res;
    memset(&res, 0, sizeof res);
    strbuf_init(&res.body, 0);
    struct json_object *details = json_object_new_object();
    json_object_object_add(details, "metric", json_object_new_string("api_call"));
    json_object_object_add(details, "limit", json_object_new_int64(1000));
    json_object_object_add(details, "used", json_object_new_int64(1000));
    http_res_error_details(&res, 429, "usage/quota-exceeded", "Over the quota", details);
    json_object_put(details); /* borrowed: the body is text already */
    struct json_object *o = envelope(&res, 429, "usage/quota-exceeded", "Over the quota");
    struct json_object *d = get(get(o, "error"), "details");
    assert_string_equal(json_object_get_string(get(d, "metric")), "api_call");
    assert_int_equal(json_object_get_int64(get(d, "limit")), 1000);
    assert_int_equal(json_object_get_int64(get(d, "used")), 1000);
    assert_null(strstr(res.body.data, "\\/")); /* codes keep their slash as written */
    json_object_put(o);
    http_res_error_details(&res, 409, "org/plan-limit", "Over the lower plan", NULL);
    o = envelope(&res, 409, "org/plan-limit", "Over the lower plan");
    assert_int_equal(json_object_object_length(get(o, "error")), 2);
    json_object_put(o);
    strbuf_release(&res.body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_from_err_with_field),
        cmocka_unit_test(test_given_details),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
