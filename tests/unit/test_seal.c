/* Unit tests of crypto_seal / crypto_open (util/crypto.h): round trip, a fresh nonce per seal, and
 * refusal of a wrong key, an altered text, truncation and garbage; the bounded base64url decoder.
 * decode_guard.h makes the decoder's writes visible to AddressSanitizer. */
#include "decode_guard.h"

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

/* The decoder writes at most cap bytes and refuses what does not fit or is not canonical base64url. */
static void test_base64url_decode_bounded(void **state)
{
    (void)state;
    uint8_t out[8] = {0};
    assert_int_equal(crypto_base64url_decode_bounded("AQIDBAUG", 8, out, 6), 6);
    assert_memory_equal(out, "\1\2\3\4\5\6", 6);
    assert_int_equal(crypto_base64url_decode_bounded("AQIDBAUG", 8, out, 5), -1);   /* one byte short */
    assert_int_equal(crypto_base64url_decode_bounded("AQIDBAUGBw", 10, out, 7), 7);
    assert_int_equal(crypto_base64url_decode_bounded("AQIDBAUGBw", 10, out, 6), -1);
    assert_int_equal(crypto_base64url_decode_bounded("", 0, out, 0), 0);
    assert_int_equal(crypto_base64url_decode_bounded("-_8", 3, out, sizeof out), 2);  /* URL alphabet */
    assert_int_equal(crypto_base64url_decode_bounded("+/8", 3, out, sizeof out), -1); /* not the plain one */
    assert_int_equal(crypto_base64url_decode_bounded("AQ==", 4, out, sizeof out), -1); /* no padding */
    assert_int_equal(crypto_base64url_decode_bounded("AQIDB", 5, out, sizeof out), -1); /* 4k+1 characters */
    assert_int_equal(crypto_base64url_decode_bounded("AR", 2, out, sizeof out), -1);   /* unused bits set */
    assert_int_equal(crypto_base64url_decode_bounded("AQ", 2, out, sizeof out), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_round_trip_and_tamper),
                                       cmocka_unit_test(test_base64url_decode_bounded)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
