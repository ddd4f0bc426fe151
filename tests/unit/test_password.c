/* Unit tests of core/password.h: Argon2id hashes verify only the right password, are salted (two hashes
 * of one password differ), carry their parameters; the policy counts characters, not bytes, and names
 * the failure with the spec's codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/password.h"

static int setup(void **state)
{
    (void)state;
    bs_err err;
    return password_init(&err);
}

static void test_hash_and_verify(void **state)
{
    (void)state;
    bs_err err;
    char a[PASSWORD_HASH_MAX], b[PASSWORD_HASH_MAX];
    assert_int_equal(password_hash("correct horse", 13, a, &err), 0);
    assert_int_equal(password_hash("correct horse", 13, b, &err), 0);
    assert_string_not_equal(a, b); /* salted */
    assert_non_null(strstr(a, "$argon2id$v=19$m=19456,t=2,p=1$"));
    assert_int_equal(password_verify(a, "correct horse", 13), 1);
    assert_int_equal(password_verify(a, "correct horsf", 13), 0);
    assert_int_equal(password_verify(a, "correct hors", 12), 0);
    assert_int_equal(password_verify("not a hash", "x", 1), 0);
    password_verify_dummy("anything", 8); /* must not crash, costs one verification */
}

static void test_policy(void **state)
{
    (void)state;
    bs_err err;
    password_policy p = password_policy_default();
    assert_int_equal(password_check(&p, "abcdef", 6, &err), 0);
    assert_int_equal(password_check(&p, "abcde", 5, &err), -1);
    assert_string_equal(err.code, "auth/invalid-password-format");
    assert_int_equal(password_check(&p, "ééééé", strlen("ééééé"), &err), -1); /* 5 characters, 10 bytes */
    assert_int_equal(password_check(&p, "éééééé", strlen("éééééé"), &err), 0);
    char long_pw[200];
    memset(long_pw, 'a', sizeof long_pw);
    assert_int_equal(password_check(&p, long_pw, 129, &err), -1);
    assert_int_equal(password_check(&p, long_pw, 128, &err), 0);
    assert_int_equal(password_check(&p, "abc\0def", 7, &err), -1);
    p.require_upper = p.require_digit = p.require_special = 1;
    assert_int_equal(password_check(&p, "abcdefg", 7, &err), -1);
    assert_string_equal(err.code, "auth/weak-password");
    assert_int_equal(password_check(&p, "Abcdef1!", 8, &err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_and_verify),
        cmocka_unit_test(test_policy),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
