/* Unit tests of core/keys.h (key and id formats, generation, hashing) and util/crypto.h (SHA-256, hex,
 * randomness, constant-time comparison). Known digests were computed with `printf %s TEXT | sha256sum`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/keys.h"
#include "util/crypto.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HEX64_UPPER "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
/* printf %s pk_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef | sha256sum */
#define PK_HEX64_SHA256 "e0b6760a94bd5116d72b76f6e5a6fcdf78f9ca9ed00b8340ed9519d3459e06c3"
#define GENERATED 200

/* ---- helpers ---- */

static int is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

static void with_prefix(char out[KEYS_TEXT_MAX + 8], const char *prefix, const char *hex)
{
    snprintf(out, KEYS_TEXT_MAX + 8, "%s%s", prefix, hex);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* ---- classify ---- */

static void test_classify_valid(void **state)
{
    (void)state;
    assert_int_equal(keys_classify("pk_" HEX64), KEYS_PUBLISHABLE);
    assert_int_equal(keys_classify("sk_" HEX64), KEYS_SECRET);
    assert_int_equal(keys_classify("bt_" HEX64), KEYS_OPERATOR);
}

static void test_classify_upper_case_hex(void **state)
{
    (void)state;
    assert_int_equal(keys_classify("pk_" HEX64_UPPER), KEYS_PUBLISHABLE);
    assert_int_equal(keys_classify("sk_" HEX64_UPPER), KEYS_SECRET);
    assert_int_equal(keys_classify("bt_aBcDeF" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789"),
                     KEYS_OPERATOR);
}

static void test_classify_wrong_length(void **state)
{
    (void)state;
    char buf[KEYS_TEXT_MAX + 8];
    with_prefix(buf, "pk_", HEX64);
    buf[KEYS_TEXT_LEN - 1] = '\0'; /* 63 hex */
    assert_int_equal(keys_classify(buf), KEYS_INVALID);
    with_prefix(buf, "pk_", HEX64 "a"); /* 65 hex */
    assert_int_equal(keys_classify(buf), KEYS_INVALID);
    with_prefix(buf, "sk_", HEX64 "\n");
    assert_int_equal(keys_classify(buf), KEYS_INVALID);
    assert_int_equal(keys_classify(""), KEYS_INVALID);
    assert_int_equal(keys_classify("pk_"), KEYS_INVALID);
    assert_int_equal(keys_classify(HEX64 "abc"), KEYS_INVALID); /* right length, no prefix */
}

static void test_classify_other_prefixes(void **state)
{
    (void)state;
    const char *prefixes[] = {"PK_", "Sk_", "BT_", "xk_", "pk-", "pk.", "pkk", "_pk", "tk_", "pb_", "sp_"};
    char buf[KEYS_TEXT_MAX + 8];
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        with_prefix(buf, prefixes[i], HEX64);
        if (keys_classify(buf) != KEYS_INVALID) fail_msg("%s accepted", buf);
    }
}

static void test_classify_non_hex(void **state)
{
    (void)state;
    const char bad[] = {'g', 'G', 'z', ' ', '-', '_', 'x', '\t', '\x80', '\xff', '+', '.'};
    char buf[KEYS_TEXT_MAX + 8];
    for (size_t i = 0; i < sizeof bad; i++) {
        for (size_t pos = 3; pos < KEYS_TEXT_LEN; pos += 31) {
            with_prefix(buf, "sk_", HEX64);
            buf[pos] = bad[i];
            if (keys_classify(buf) != KEYS_INVALID) fail_msg("byte 0x%02x at %zu accepted", (unsigned char)bad[i], pos);
        }
    }
    with_prefix(buf, "pk_", HEX64);
    buf[KEYS_TEXT_LEN - 1] = 'g'; /* last position */
    assert_int_equal(keys_classify(buf), KEYS_INVALID);
}

static void test_classify_null(void **state)
{
    (void)state;
    assert_int_equal(keys_classify(NULL), KEYS_INVALID);
}

static void test_classify_embedded_nul(void **state)
{
    (void)state;
    char buf[KEYS_TEXT_MAX + 8];
    with_prefix(buf, "pk_", HEX64);
    buf[40] = '\0';
    assert_int_equal(keys_classify(buf), KEYS_INVALID);
}

/* ---- generate ---- */

static void test_generate_well_formed(void **state)
{
    (void)state;
    const keys_kind kinds[] = {KEYS_PUBLISHABLE, KEYS_SECRET, KEYS_OPERATOR};
    const char *prefixes[] = {"pk_", "sk_", "bt_"};
    for (size_t k = 0; k < 3; k++) {
        char key[KEYS_TEXT_MAX];
        memset(key, 'X', sizeof key);
        assert_int_equal(keys_generate(kinds[k], key), 0);
        assert_int_equal(strlen(key), KEYS_TEXT_LEN);
        assert_memory_equal(key, prefixes[k], 3);
        assert_true(is_lower_hex(key + 3, KEYS_HEX_LEN));
        assert_int_equal(keys_classify(key), kinds[k]);
    }
}

static void test_generate_distinct(void **state)
{
    (void)state;
    char (*keys)[KEYS_TEXT_MAX] = calloc(GENERATED, KEYS_TEXT_MAX);
    assert_non_null(keys);
    for (int i = 0; i < GENERATED; i++) assert_int_equal(keys_generate(KEYS_SECRET, keys[i]), 0);
    qsort(keys, GENERATED, KEYS_TEXT_MAX, cmp_str);
    for (int i = 1; i < GENERATED; i++) assert_string_not_equal(keys[i - 1], keys[i]);
    free(keys);
}

static void test_generate_invalid_kind(void **state)
{
    (void)state;
    char key[KEYS_TEXT_MAX];
    assert_int_equal(keys_generate(KEYS_INVALID, key), -1);
}

/* ---- hash ---- */

static void test_hash_known_vector(void **state)
{
    (void)state;
    char hex[65];
    memset(hex, 'X', sizeof hex);
    keys_hash("pk_" HEX64, hex);
    assert_string_equal(hex, PK_HEX64_SHA256);
}

static void test_hash_lower_cases_first(void **state)
{
    (void)state;
    char lower[65], upper[65], mixed[65];
    keys_hash("pk_" HEX64, lower);
    keys_hash("pk_" HEX64_UPPER, upper);
    keys_hash("pk_0123456789ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef", mixed);
    assert_string_equal(upper, PK_HEX64_SHA256);
    assert_string_equal(mixed, PK_HEX64_SHA256);
    assert_string_equal(lower, upper);
}

static void test_hash_matches_sha256_of_generated_keys(void **state)
{
    (void)state;
    for (int i = 0; i < 50; i++) {
        char key[KEYS_TEXT_MAX], a[65], b[CRYPTO_SHA256_HEX];
        assert_int_equal(keys_generate(i % 2 ? KEYS_PUBLISHABLE : KEYS_OPERATOR, key), 0);
        keys_hash(key, a);
        crypto_sha256_hex(key, strlen(key), b);
        assert_string_equal(a, b);
        assert_true(is_lower_hex(a, 64));
    }
}

static void test_hash_distinguishes_kinds(void **state)
{
    (void)state;
    char a[65], b[65];
    keys_hash("pk_" HEX64, a);
    keys_hash("sk_" HEX64, b);
    assert_string_not_equal(a, b);
}

/* ---- hint, ids, names ---- */

static void test_hint(void **state)
{
    (void)state;
    char hint[KEYS_HINT_LEN + 1];
    memset(hint, 'X', sizeof hint);
    keys_hint("pk_" HEX64, hint);
    assert_string_equal(hint, "pk_01234567");
    keys_hint("sk_ab", hint);
    assert_string_equal(hint, "sk_ab");
}

static void assert_id(const char *id, const char *prefix)
{
    size_t pl = strlen(prefix);
    assert_int_equal(strlen(id), pl + 1 + 20);
    assert_memory_equal(id, prefix, pl);
    assert_int_equal(id[pl], '_');
    assert_true(is_lower_hex(id + pl + 1, 20));
}

static void test_new_id_format(void **state)
{
    (void)state;
    const char *prefixes[] = {"org", "proj", "env", "key", "tok", "x"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        char id[KEYS_ID_MAX];
        assert_int_equal(keys_new_id(prefixes[i], id), 0);
        assert_id(id, prefixes[i]);
    }
}

static void test_new_id_distinct(void **state)
{
    (void)state;
    char (*ids)[KEYS_ID_MAX] = calloc(GENERATED, KEYS_ID_MAX);
    assert_non_null(ids);
    for (int i = 0; i < GENERATED; i++) assert_int_equal(keys_new_id("org", ids[i]), 0);
    qsort(ids, GENERATED, KEYS_ID_MAX, cmp_str);
    for (int i = 1; i < GENERATED; i++) assert_string_not_equal(ids[i - 1], ids[i]);
    free(ids);
}

static void test_new_id_prefix_too_long(void **state)
{
    (void)state;
    char id[KEYS_ID_MAX];
    /* 18 + 1 + 20 = 39 characters fit; 19 + 1 + 20 = 40 need one byte more than KEYS_ID_MAX */
    assert_int_equal(keys_new_id("abcdefghijklmnopqr", id), 0);
    assert_id(id, "abcdefghijklmnopqr");
    assert_int_equal(keys_new_id("abcdefghijklmnopqrs", id), -1);
    assert_int_equal(keys_new_id("a-very-long-prefix-that-cannot-possibly-fit", id), -1);
}

static void test_kind_names(void **state)
{
    (void)state;
    assert_string_equal(keys_kind_name(KEYS_PUBLISHABLE), "publishable");
    assert_string_equal(keys_kind_name(KEYS_SECRET), "secret");
    assert_string_equal(keys_kind_name(KEYS_OPERATOR), "operator");
    assert_string_equal(keys_kind_name(KEYS_INVALID), "invalid");
}

/* ---- crypto ---- */

static void test_sha256_vectors(void **state)
{
    (void)state;
    char hex[CRYPTO_SHA256_HEX];
    crypto_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    crypto_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    uint8_t raw[CRYPTO_SHA256_LEN];
    crypto_sha256("abc", 3, raw);
    assert_int_equal(raw[0], 0xba);
    assert_int_equal(raw[31], 0xad);
}

static void test_crypto_hex(void **state)
{
    (void)state;
    const uint8_t bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    char out[13];
    memset(out, 'X', sizeof out);
    crypto_hex(bytes, sizeof bytes, out);
    assert_string_equal(out, "00017f80abff");
    crypto_hex(bytes, 0, out);
    assert_string_equal(out, "");
}

static void test_random_hex(void **state)
{
    (void)state;
    char a[201], b[201];
    memset(a, 'X', sizeof a);
    assert_int_equal(crypto_random_hex(a, 100), 0); /* more than one internal chunk */
    assert_int_equal(strlen(a), 200);
    assert_true(is_lower_hex(a, 200));
    assert_int_equal(crypto_random_hex(b, 100), 0);
    assert_string_not_equal(a, b);
    assert_int_equal(crypto_random_hex(a, 0), 0);
    assert_string_equal(a, "");
}

static void test_random_bytes_not_constant(void **state)
{
    (void)state;
    uint8_t buf[256];
    memset(buf, 0, sizeof buf);
    assert_int_equal(crypto_random_bytes(buf, sizeof buf), 0);
    int distinct = 0;
    int seen[256] = {0};
    for (size_t i = 0; i < sizeof buf; i++)
        if (!seen[buf[i]]++) distinct++;
    assert_true(distinct > 64); /* 256 uniform bytes give ~162 distinct values */
}

static void test_crypto_equal(void **state)
{
    (void)state;
    assert_int_equal(crypto_equal("abcdef", "abcdef", 6), 1);
    assert_int_equal(crypto_equal("abcdef", "abcdeg", 6), 0);
    assert_int_equal(crypto_equal("xbcdef", "abcdef", 6), 0);
    assert_int_equal(crypto_equal("abcdef", "abcxyz", 3), 1); /* only n bytes compared */
    assert_int_equal(crypto_equal("a", "b", 0), 1);
    assert_int_equal(crypto_equal("a\0b", "a\0c", 3), 0);  /* not a string compare */
    char h1[65], h2[65];
    keys_hash("pk_" HEX64, h1);
    keys_hash("pk_" HEX64_UPPER, h2);
    assert_int_equal(crypto_equal(h1, h2, 64), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify_valid),
        cmocka_unit_test(test_classify_upper_case_hex),
        cmocka_unit_test(test_classify_wrong_length),
        cmocka_unit_test(test_classify_other_prefixes),
        cmocka_unit_test(test_classify_non_hex),
        cmocka_unit_test(test_classify_null),
        cmocka_unit_test(test_classify_embedded_nul),
        cmocka_unit_test(test_generate_well_formed),
        cmocka_unit_test(test_generate_distinct),
        cmocka_unit_test(test_generate_invalid_kind),
        cmocka_unit_test(test_hash_known_vector),
        cmocka_unit_test(test_hash_lower_cases_first),
        cmocka_unit_test(test_hash_matches_sha256_of_generated_keys),
        cmocka_unit_test(test_hash_distinguishes_kinds),
        cmocka_unit_test(test_hint),
        cmocka_unit_test(test_new_id_format),
        cmocka_unit_test(test_new_id_distinct),
        cmocka_unit_test(test_new_id_prefix_too_long),
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_crypto_hex),
        cmocka_unit_test(test_random_hex),
        cmocka_unit_test(test_random_bytes_not_constant),
        cmocka_unit_test(test_crypto_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
