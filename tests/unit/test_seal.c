/* Unit tests of crypto_seal / crypto_open (util/crypto.h): round trip, a fresh nonce per seal, and
 * refusal of a wrong key, an altered text, truncation and garbage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "util/crypto.h"

static void test_round_trip_and_tamper(void **state)
{
    (void)state;
    uint8_t key[CRYPTO_KEY_LEN], other[CRYPTO_KEY_LEN];
    memset(key, 7, sizeof key);
    memset(other, 8, sizeof other);
    char a[256], b[256], plain[256];
    assert_int_equal(crypto_seal(key, "client-secret-123", 17, a, sizeof a), 0);
    assert_int_equal(crypto_seal(key, "client-secret-123", 17, b, sizeof b), 0);
    assert_string_not_equal(a, b); /* a fresh nonce each time */
    assert_null(strstr(a, "client"));
    assert_int_equal(crypto_open(key, a, plain, sizeof plain), 0);
    assert_string_equal(plain, "client-secret-123");
    assert_int_equal(crypto_open(other, a, plain, sizeof plain), -1);
    char altered[256];
    strcpy(altered, a);
    altered[20] = altered[20] == 'A' ? 'B' : 'A';
    assert_int_equal(crypto_open(key, altered, plain, sizeof plain), -1);
    a[10] = '\0';
    assert_int_equal(crypto_open(key, a, plain, sizeof plain), -1);
    assert_int_equal(crypto_open(key, "!!not base64!!", plain, sizeof plain), -1);
    assert_int_equal(crypto_seal(key, "x", 1, a, 8), -1); /* no room */
    assert_int_equal(crypto_seal(key, "", 0, a, sizeof a), 0);
    assert_int_equal(crypto_open(key, a, plain, sizeof plain), 0);
    assert_string_equal(plain, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_round_trip_and_tamper)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
