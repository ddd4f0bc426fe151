/* Unit tests of util/hash.h: known XXH3 values, the string forms agree with the byte form, seeds
 * separate keys of several parts, and table slots spread evenly (the hash every table in src/ uses). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "util/hash.h"

static void test_known_values(void **state)
{
    (void)state;
    char hex[HASH128_HEX];
    assert_true(hash64("", 0) == 0x2d06800538d394c2ULL);
    assert_true(hash64("abc", 3) == 0x78af5f94892f3950ULL);
    hash128_hex("", 0, hex);
    assert_int_equal(strlen(hex), HASH128_HEX - 1);
    assert_string_equal(hex, "99aa06d3014798d86001c324468d497f");
}

static void test_string_forms(void **state)
{
    (void)state;
    assert_true(hash64_str("abc") == hash64("abc", 3));
    assert_true(hash64_str("") == hash64("", 0));
    assert_true(hash64_str(NULL) == hash64_str(""));
    assert_true(hash64_str_seeded("abc", 0) == hash64_str("abc"));
    assert_true(hash64_str("env_1") != hash64_str("env_2"));
}

static void test_seeds_separate_parts(void **state)
{
    (void)state;
    /* "ab" + "c" and "a" + "bc" are different keys, unlike a hash of the concatenation */
    assert_true(hash64_str_seeded("c", hash64_str("ab")) != hash64_str_seeded("bc", hash64_str("a")));
    assert_true(hash64_str_seeded("key", 1) != hash64_str_seeded("key", 2));
    assert_true(hash64_str_seeded("key", 7) == hash64_str_seeded("key", 7));
}

static void test_slots_spread(void **state)
{
    (void)state;
    enum { SLOTS = 64, KEYS = 64 * 200 };
    int count[SLOTS] = {0};
    char key[32];
    for (int i = 0; i < KEYS; i++) {
        snprintf(key, sizeof key, "env_%08d", i); /* ids that differ only in their last characters */
        count[hash64_str(key) % SLOTS]++;
    }
    for (int s = 0; s < SLOTS; s++) {
        if (count[s] < 120 || count[s] > 280) fail_msg("slot %d holds %d of %d keys", s, count[s], KEYS);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_string_forms),
        cmocka_unit_test(test_seeds_separate_parts),
        cmocka_unit_test(test_slots_spread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
