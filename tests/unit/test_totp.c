/* Unit tests of core/totp.h against RFC 6238 Appendix B (SHA-1 secret "12345678901234567890", the
 * 8-digit values' last 6 digits) and the window and replay rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/totp.h"

#define RFC_SECRET "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" /* base32 of "12345678901234567890" */

static void test_rfc6238_vectors(void **state)
{
    (void)state;
    static const struct { int64_t t; const char *code; } v[] = {
        {59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"}, {1234567890, "005924"},
        {2000000000, "279037"}, {20000000000LL, "353130"}};
    char out[7];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        assert_int_equal(totp_code_at(RFC_SECRET, v[i].t / 30, out), 0);
        assert_string_equal(out, v[i].code);
    }
    assert_int_equal(totp_code_at("gezdgnbvgy3tqojqgezdgnbvgy3tqojq", 59 / 30, out), 0); /* lower case */
    assert_string_equal(out, "287082");
    assert_int_equal(totp_code_at("not base32!", 1, out), -1);
}

static void test_match_window_and_replay(void **state)
{
    (void)state;
    int64_t now = 1111111111;
    assert_int_equal(totp_match(RFC_SECRET, "050471", now, 1, -1), now / 30);
    char prev[7];
    totp_code_at(RFC_SECRET, now / 30 - 1, prev);
    assert_int_equal(totp_match(RFC_SECRET, prev, now, 1, -1), now / 30 - 1); /* 30 s of clock skew */
    assert_int_equal(totp_match(RFC_SECRET, prev, now, 0, -1), -1);
    assert_int_equal(totp_match(RFC_SECRET, "050471", now, 1, now / 30), -1); /* already used */
    assert_int_equal(totp_match(RFC_SECRET, "12345", now, 1, -1), -1);
    assert_int_equal(totp_match(RFC_SECRET, NULL, now, 1, -1), -1);
    char secret[TOTP_SECRET_B32], other[TOTP_SECRET_B32];
    assert_int_equal(totp_secret_new(secret), 0);
    assert_int_equal(totp_secret_new(other), 0);
    assert_int_equal(strlen(secret), 32);
    assert_string_not_equal(secret, other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6238_vectors),
        cmocka_unit_test(test_match_window_and_replay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
