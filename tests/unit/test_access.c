/* Unit tests of core/access.h: key scopes, boolean and expression permissions, column rules and row
 * filters (client-api.md §5). */
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

static access_caller caller(access_group g, int has_user, const char *role)
{
    return (access_caller){g, has_user, has_user ? "u1" : "", role ? role : ""};
}

static access_verdict decide_as(const char *perms_text, access_caller who, access_op op, bs_err *err)
{
    struct json_object *perms = perms_text ? json_tokener_parse(perms_text) : NULL;
    access_verdict v = access_decide("posts", perms, &who, op, err);
    json_object_put(perms);
    return v;
}

static access_verdict decide(const char *perms_text, access_group g, int has_user, access_op op, bs_err *err)
{
    return decide_as(perms_text, caller(g, has_user, has_user ? (g == ACCESS_GUEST ? "guest" : "user") : NULL), op, err);
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
    access_caller guest = caller(ACCESS_GUEST, 0, NULL), admin = caller(ACCESS_ADMIN, 0, NULL);
    assert_int_equal(access_decide("_secrets", NULL, &guest, ACCESS_READ, &err), ACCESS_DENY);
    assert_string_equal(err.code, "data/system-table-access");
    assert_int_equal(access_decide("_secrets", NULL, &admin, ACCESS_READ, &err), ACCESS_ALLOW);
    struct json_object *perms = json_tokener_parse("{\"guest\":{\"read\":true}}");
    assert_int_equal(access_decide("_secrets", perms, &guest, ACCESS_READ, &err), ACCESS_ALLOW);
    json_object_put(perms);
}

static void test_validate_document(void **state)
{
    (void)state;
    bs_err err;
    const char *good[] = {"{}", "{\"guest\":{}}", "{\"admin\":{\"read\":true},\"self\":{\"delete\":false}}",
                          "{\"expressionPermissions\":{}}",
                          "{\"expressionPermissions\":{\"read\":\"public\",\"update\":\"self | role:editor & user\",\"list\":\"role:*\"}}",
                          "{\"columnPermissions\":{\"salary\":{\"read\":\"admin|self\",\"write\":\"admin\"}}}",
                          "{\"rowFilters\":[{\"expression\":\"user\",\"filter\":{\"ownerId\":\"$userId\"}}]}"};
    const char *bad[] = {"[]", "{\"root\":{}}", "{\"guest\":true}", "{\"guest\":{\"fly\":true}}", "{\"guest\":{\"read\":1}}",
                         "{\"expressionPermissions\":{\"read\":\"\"}}", "{\"expressionPermissions\":{\"read\":\"users\"}}",
                         "{\"expressionPermissions\":{\"read\":\"user |\"}}", "{\"expressionPermissions\":{\"read\":\"user && self\"}}",
                         "{\"expressionPermissions\":{\"read\":\"(user)\"}}", "{\"expressionPermissions\":{\"read\":\"role:\"}}",
                         "{\"expressionPermissions\":{\"read\":\"role:a'b\"}}", "{\"expressionPermissions\":{\"fly\":\"user\"}}",
                         "{\"expressionPermissions\":{\"read\":true}}", "{\"columnPermissions\":{\"a\":{\"delete\":\"user\"}}}",
                         "{\"columnPermissions\":{\"id\":{\"read\":\"admin\"}}}", "{\"columnPermissions\":[]}",
                         "{\"rowFilters\":{}}", "{\"rowFilters\":[{\"expression\":\"user\"}]}",
                         "{\"rowFilters\":[{\"expression\":\"nobody\",\"filter\":{}}]}",
                         "{\"rowFilters\":[{\"expression\":\"user\",\"filter\":[]}]}"};
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

static void test_expressions(void **state)
{
    (void)state;
    bs_err err;
    const char *doc = "{\"expressionPermissions\":{\"read\":\"public\",\"create\":\"user\",\"update\":\"self | role:editor\","
                      "\"delete\":\"admin\",\"list\":\"user & self\"},\"guest\":{\"delete\":true}}";
    access_caller guest = caller(ACCESS_GUEST, 0, NULL), user = caller(ACCESS_USER, 1, "user");
    access_caller editor = caller(ACCESS_USER, 1, "editor"), guest_user = caller(ACCESS_GUEST, 1, "guest");
    assert_int_equal(decide_as(doc, guest, ACCESS_READ, &err), ACCESS_ALLOW);
    assert_int_equal(decide_as(doc, guest, ACCESS_CREATE, &err), ACCESS_DENY);
    assert_int_equal(decide_as(doc, guest_user, ACCESS_CREATE, &err), ACCESS_ALLOW); /* user = any signed-in caller */
    assert_int_equal(decide_as(doc, user, ACCESS_UPDATE, &err), ACCESS_OWN_ROWS);
    assert_int_equal(decide_as(doc, editor, ACCESS_UPDATE, &err), ACCESS_ALLOW);
    assert_int_equal(decide_as(doc, guest, ACCESS_UPDATE, &err), ACCESS_DENY);      /* self needs a user */
    assert_int_equal(decide_as(doc, user, ACCESS_LIST, &err), ACCESS_OWN_ROWS);
    assert_int_equal(decide_as(doc, guest, ACCESS_DELETE, &err), ACCESS_DENY);      /* expressions win over booleans */
    assert_int_equal(decide_as(doc, caller(ACCESS_ADMIN, 0, NULL), ACCESS_DELETE, &err), ACCESS_ALLOW);
    assert_int_equal(decide_as("{\"expressionPermissions\":{\"create\":\"self\"}}", user, ACCESS_CREATE, &err), ACCESS_DENY);
    assert_int_equal(decide_as("{\"expressionPermissions\":{\"read\":\"role:*\"}}", editor, ACCESS_LIST, &err), ACCESS_ALLOW);
    assert_int_equal(decide_as("{\"expressionPermissions\":{\"read\":\"role:*\"}}", user, ACCESS_LIST, &err), ACCESS_DENY);
    assert_int_equal(decide_as("{\"expressionPermissions\":{\"read\":\" guest \"}}", guest, ACCESS_READ, &err), ACCESS_ALLOW);
    /* operations the expressions do not name fall back to the boolean document */
    assert_int_equal(decide_as("{\"expressionPermissions\":{\"read\":\"admin\"},\"user\":{\"create\":true}}", user,
                               ACCESS_CREATE, &err), ACCESS_ALLOW);
}

static void test_columns(void **state)
{
    (void)state;
    bs_err err;
    struct json_object *perms = json_tokener_parse(
        "{\"columnPermissions\":{\"salary\":{\"read\":\"admin | self\",\"write\":\"admin\"},\"secret\":{\"read\":\"admin\"},"
        "\"bio\":{\"write\":\"self\"},\"title\":{\"read\":\"public\"}}}");
    access_caller user = caller(ACCESS_USER, 1, "user"), admin = caller(ACCESS_ADMIN, 0, NULL);
    access_columns cols;
    assert_int_equal(access_read_columns(perms, &admin, &cols), 0);
    assert_int_equal(access_read_columns(perms, &user, &cols), 1);
    assert_int_equal(cols.nhidden, 1);
    assert_string_equal(cols.hidden[0], "secret");
    assert_int_equal(cols.nown, 1);
    assert_string_equal(cols.own_only[0], "salary");
    struct json_object *mine = json_tokener_parse("{\"id\":\"1\",\"createdBy\":\"u1\",\"salary\":5,\"secret\":\"s\",\"title\":\"t\"}");
    struct json_object *theirs = json_tokener_parse("{\"id\":\"2\",\"createdBy\":\"u2\",\"salary\":6,\"secret\":\"s\",\"title\":\"t\"}");
    access_strip_record(&cols, &user, mine);
    access_strip_record(&cols, &user, theirs);
    assert_string_equal(json_object_to_json_string_ext(mine, JSON_C_TO_STRING_PLAIN), "{\"id\":\"1\",\"createdBy\":\"u1\",\"salary\":5,\"title\":\"t\"}");
    assert_string_equal(json_object_to_json_string_ext(theirs, JSON_C_TO_STRING_PLAIN), "{\"id\":\"2\",\"createdBy\":\"u2\",\"title\":\"t\"}");
    struct json_object *body = json_tokener_parse("{\"title\":\"x\",\"bio\":\"b\"}");
    assert_int_equal(access_check_write(perms, &user, body, NULL, &err), 0);   /* self on create: own row */
    assert_int_equal(access_check_write(perms, &user, body, "u1", &err), 0);
    assert_int_equal(access_check_write(perms, &user, body, "u2", &err), -1);
    assert_string_equal(err.code, "data/permission-denied");
    assert_non_null(strstr(err.message, "bio"));
    /* queries: hidden columns (and their sub-fields) always refused, own-row-only ones unless the list is
     * restricted to the caller's rows; a prefix of a name is another field */
    assert_int_equal(access_column_unreadable(&cols, "secret", 1), 1);
    assert_int_equal(access_column_unreadable(&cols, "secret.part", 0), 1);
    assert_int_equal(access_column_unreadable(&cols, "secretive", 0), 0);
    assert_int_equal(access_column_unreadable(&cols, "salary", 0), 1);
    assert_int_equal(access_column_unreadable(&cols, "salary", 1), 0);
    assert_int_equal(access_column_unreadable(&cols, "title", 0), 0);
    struct json_object *quoted = json_tokener_parse("{\"columnPermissions\":{\"a\\\"b\":{\"read\":\"admin\"}}}");
    assert_int_equal(access_validate_document(quoted, &err), -1); /* search paths quote column names */
    json_object_put(quoted);
    struct json_object *pay = json_tokener_parse("{\"salary\":10}");
    assert_int_equal(access_check_write(perms, &user, pay, "u1", &err), -1);
    assert_int_equal(access_check_write(perms, &admin, pay, "u1", &err), 0);
    json_object_put(pay);
    json_object_put(body);
    json_object_put(mine);
    json_object_put(theirs);
    json_object_put(perms);
}

static void test_row_filters(void **state)
{
    (void)state;
    struct json_object *perms = json_tokener_parse(
        "{\"rowFilters\":[{\"expression\":\"user\",\"filter\":{\"ownerId\":\"$userId\"}},"
        "{\"expression\":\"role:editor\",\"filter\":{\"status\":\"draft\"}},{\"expression\":\"guest\",\"filter\":{\"public\":true}}]}");
    struct json_object *out[ACCESS_MAX_ROW_FILTERS];
    access_caller guest = caller(ACCESS_GUEST, 0, NULL), editor = caller(ACCESS_USER, 1, "editor");
    access_caller admin = caller(ACCESS_ADMIN, 0, NULL);
    assert_int_equal(access_row_filters(perms, &guest, out, ACCESS_MAX_ROW_FILTERS), 1);
    assert_non_null(json_object_object_get(out[0], "public"));
    assert_int_equal(access_row_filters(perms, &editor, out, ACCESS_MAX_ROW_FILTERS), 3);
    assert_int_equal(access_row_filters(perms, &editor, out, 2), 2);
    assert_int_equal(access_row_filters(perms, &admin, out, ACCESS_MAX_ROW_FILTERS), 0);
    assert_int_equal(access_row_filters(NULL, &guest, out, ACCESS_MAX_ROW_FILTERS), 0);
    json_object_put(perms);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scopes), cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_document_is_full_replacement), cmocka_unit_test(test_system_tables),
        cmocka_unit_test(test_validate_document),
        cmocka_unit_test(test_expressions),
        cmocka_unit_test(test_columns),
        cmocka_unit_test(test_row_filters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
