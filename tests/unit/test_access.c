/* Unit tests of core/access.h: key scopes and boolean-mode table permissions (client-api.md §5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/access.h"

static void test_scopes(void **state)
{
    (void)state;
    bs_err err;
    assert_int_equal(access_check_scope(NULL, "posts", ACCESS_DELETE, &err), 0);
    assert_int_equal(access_check_scope("", "posts", ACCESS_DELETE, &err), 0);
    assert_int_equal(access_check_scope("[\"posts:read\"]", "posts", ACCESS_READ, &err), 0);
    assert_int_equal(access_check_scope("[\"posts:read\"]", "posts", ACCESS_LIST, &err), -1); /* read does not cover list */
    assert_int_equal(err.status, 403);
    assert_string_equal(err.code, "data/scope-insufficient");
    assert_non_null(strstr(err.message, "posts:list"));
    assert_int_equal(access_check_scope("[\"posts:*\"]", "posts", ACCESS_DELETE, &err), 0);
    assert_int_equal(access_check_scope("[\"*:read\"]", "notes", ACCESS_READ, &err), 0);
    assert_int_equal(access_check_scope("[\"*:*\"]", "x", ACCESS_CREATE, &err), 0);
    assert_int_equal(access_check_scope("[\"post:read\"]", "posts", ACCESS_READ, &err), -1); /* no prefix matching */
    assert_int_equal(access_check_scope("[\"postsx:read\"]", "posts", ACCESS_READ, &err), -1);
    assert_int_equal(access_check_scope("[]", "posts", ACCESS_READ, &err), -1);
}

static access_verdict decide(const char *perms_text, access_group g, int has_user, access_op op, bs_err *err)
{
    struct json_object *perms = perms_text ? json_tokener_parse(perms_text) : NULL;
    access_verdict v = access_decide("posts", perms, g, has_user, op, err);
    json_object_put(perms);
    return v;
}

static void test_defaults(void **state)
{
    (void)state;
    bs_err err;
    assert_int_equal(decide(NULL, ACCESS_GUEST, 0, ACCESS_READ, &err), ACCESS_ALLOW);
    assert_int_equal(decide(NULL, ACCESS_GUEST, 0, ACCESS_LIST, &err), ACCESS_ALLOW);
    assert_int_equal(decide(NULL, ACCESS_GUEST, 0, ACCESS_CREATE, &err), ACCESS_DENY);
    assert_string_equal(err.code, "data/permission-denied");
    assert_int_equal(decide(NULL, ACCESS_USER, 1, ACCESS_CREATE, &err), ACCESS_ALLOW);
    assert_int_equal(decide(NULL, ACCESS_USER, 1, ACCESS_UPDATE, &err), ACCESS_DENY);
    for (int op = ACCESS_CREATE; op <= ACCESS_DELETE; op++)
        assert_int_equal(decide("{\"admin\":{}}", ACCESS_ADMIN, 0, (access_op)op, &err), ACCESS_ALLOW);
}

static void test_document_is_full_replacement(void **state)
{
    (void)state;
    bs_err err;
    const char *doc = "{\"guest\":{\"read\":true},\"self\":{\"update\":true,\"list\":true}}";
    assert_int_equal(decide(doc, ACCESS_GUEST, 0, ACCESS_LIST, &err), ACCESS_ALLOW); /* list falls back to read */
    assert_int_equal(decide(doc, ACCESS_USER, 1, ACCESS_READ, &err), ACCESS_DENY);   /* user gets nothing */
    assert_int_equal(decide(doc, ACCESS_USER, 1, ACCESS_UPDATE, &err), ACCESS_OWN_ROWS);
    assert_int_equal(decide(doc, ACCESS_USER, 1, ACCESS_LIST, &err), ACCESS_OWN_ROWS);
    assert_int_equal(decide(doc, ACCESS_GUEST, 0, ACCESS_UPDATE, &err), ACCESS_DENY); /* self needs a user */
    assert_int_equal(decide("{\"self\":{\"create\":true}}", ACCESS_USER, 1, ACCESS_CREATE, &err), ACCESS_DENY);
    assert_int_equal(decide("{\"guest\":{\"list\":false,\"read\":true}}", ACCESS_GUEST, 0, ACCESS_LIST, &err), ACCESS_DENY);
}

static void test_system_tables(void **state)
{
    (void)state;
    bs_err err;
    assert_int_equal(access_decide("_secrets", NULL, ACCESS_GUEST, 0, ACCESS_READ, &err), ACCESS_DENY);
    assert_string_equal(err.code, "data/system-table-access");
    assert_int_equal(access_decide("_secrets", NULL, ACCESS_ADMIN, 0, ACCESS_READ, &err), ACCESS_ALLOW);
    struct json_object *perms = json_tokener_parse("{\"guest\":{\"read\":true}}");
    assert_int_equal(access_decide("_secrets", perms, ACCESS_GUEST, 0, ACCESS_READ, &err), ACCESS_ALLOW);
    json_object_put(perms);
}

static void test_validate_document(void **state)
{
    (void)state;
    bs_err err;
    const char *good[] = {"{}", "{\"guest\":{}}", "{\"admin\":{\"read\":true},\"self\":{\"delete\":false}}"};
    const char *bad[] = {"[]", "{\"root\":{}}", "{\"guest\":true}", "{\"guest\":{\"fly\":true}}", "{\"guest\":{\"read\":1}}",
                         "{\"expressionPermissions\":{}}"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct json_object *p = json_tokener_parse(good[i]);
        assert_int_equal(access_validate_document(p, &err), 0);
        json_object_put(p);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct json_object *p = json_tokener_parse(bad[i]);
        assert_int_equal(access_validate_document(p, &err), -1);
        assert_string_equal(err.code, "data/validation-error");
        json_object_put(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scopes), cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_document_is_full_replacement), cmocka_unit_test(test_system_tables),
        cmocka_unit_test(test_validate_document),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
