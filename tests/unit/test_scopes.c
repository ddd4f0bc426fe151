/* Unit tests of core/scopes.h: the scope vocabulary, management rights and the subset rule of key
 * creation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/scopes.h"

static void test_valid(void **state)
{
    (void)state;
    const char *good[] = {"posts:read", "*:*", "my-table_2:list", "admin:read", "admin:keys:read", "admin:*:*",
                          "admin:users:write", "admin:files:*", "admin:outbox:read", "admin:tables:write", "admin:auth:read"};
    const char *bad[] = {"posts", ":read", "posts:fly", "posts:read:x", "admin:keys", "admin:billing:read",
                         "admin:keys:fly", "admin::read", "admin:keys:read:x", "root:keys:read", "po\"sts:read", "", "a:b:c:d"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) assert_true(scopes_valid(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) assert_false(scopes_valid(bad[i]));
    char longer[SCOPES_MAX_LEN + 8];
    memset(longer, 'a', sizeof longer);
    memcpy(longer + sizeof longer - 6, ":read", 6);
    assert_false(scopes_valid(longer));
    assert_true(scopes_is_admin("admin:keys:read"));
    assert_false(scopes_is_admin("admin:read"));
}

static void test_grant(void **state)
{
    (void)state;
    bs_err err;
    assert_true(scopes_none(NULL) && scopes_none("") && scopes_none("null"));
    assert_false(scopes_none("[]"));
    assert_true(scopes_grant(NULL, "keys", SCOPE_WRITE));
    assert_true(scopes_grant("", "keys", SCOPE_WRITE));
    assert_false(scopes_grant("[]", "keys", SCOPE_READ));
    assert_false(scopes_grant("[\"*:*\"]", "users", SCOPE_READ)); /* data wildcards are tables only */
    assert_false(scopes_grant("[\"users:read\"]", "users", SCOPE_READ));
    assert_true(scopes_grant("[\"admin:users:read\"]", "users", SCOPE_READ));
    assert_false(scopes_grant("[\"admin:users:read\"]", "users", SCOPE_WRITE));
    assert_true(scopes_grant("[\"admin:users:*\"]", "users", SCOPE_WRITE));
    assert_true(scopes_grant("[\"admin:*:read\"]", "outbox", SCOPE_READ));
    assert_false(scopes_grant("[\"admin:*:read\"]", "outbox", SCOPE_WRITE));
    assert_int_equal(scopes_check("[\"posts:read\"]", "tables", SCOPE_WRITE, &err), -1);
    assert_int_equal(err.status, 403);
    assert_string_equal(err.code, "data/scope-insufficient");
    assert_non_null(strstr(err.message, "admin:tables:write"));
    assert_int_equal(scopes_check("[\"admin:*:*\"]", NULL, SCOPE_READ, &err), -1); /* no scope reaches it */
    assert_int_equal(scopes_check("", NULL, SCOPE_READ, &err), 0);
}

static void test_cover(void **state)
{
    (void)state;
    char missing[SCOPES_MAX_LEN + 64];
    assert_true(scopes_cover("", NULL, missing, sizeof missing));
    assert_true(scopes_cover(NULL, "[\"a:read\"]", missing, sizeof missing));
    assert_false(scopes_cover("[\"*:*\",\"admin:*:*\"]", NULL, missing, sizeof missing));
    assert_non_null(strstr(missing, "without scopes"));
    assert_true(scopes_cover("[\"posts:*\"]", "[\"posts:read\",\"posts:delete\"]", missing, sizeof missing));
    assert_true(scopes_cover("[\"*:read\"]", "[\"posts:read\"]", missing, sizeof missing));
    assert_true(scopes_cover("[\"posts:read\"]", "[]", missing, sizeof missing));
    assert_false(scopes_cover("[\"posts:read\"]", "[\"*:read\"]", missing, sizeof missing));
    assert_string_equal(missing, "*:read");
    assert_false(scopes_cover("[\"posts:read\"]", "[\"posts:*\"]", missing, sizeof missing));
    assert_false(scopes_cover("[\"*:*\"]", "[\"admin:keys:read\"]", missing, sizeof missing));
    assert_true(scopes_cover("[\"admin:keys:*\"]", "[\"admin:keys:read\"]", missing, sizeof missing));
    assert_false(scopes_cover("[\"admin:keys:read\"]", "[\"admin:*:read\"]", missing, sizeof missing));
    assert_false(scopes_cover("[\"admin:read\"]", "[\"admin:keys:read\"]", missing, sizeof missing)); /* kinds apart */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_grant),
        cmocka_unit_test(test_cover),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
