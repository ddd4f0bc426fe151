/* Unit tests of store/count_cache.h: a count is served only for the same key at the same generation,
 * an older generation never overwrites a newer count, colliding keys replace each other without being
 * confused, over-long keys are not cached, and concurrent use is safe (run under ASan/UBSan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "store/count_cache.h"

static void test_hit_and_miss(void **state)
{
    (void)state;
    count_cache *cc = count_cache_new(64);
    int64_t n = -1;
    assert_int_equal(count_cache_get(cc, "a", 1, 1, &n), 0);
    count_cache_put(cc, "a", 1, 1, 42);
    assert_int_equal(count_cache_get(cc, "a", 1, 1, &n), 1);
    assert_int_equal(n, 42);
    assert_int_equal(count_cache_get(cc, "a", 1, 2, &n), 0); /* a write happened since */
    assert_int_equal(count_cache_get(cc, "b", 1, 1, &n), 0);
    assert_int_equal(count_cache_get(cc, "ab", 2, 1, &n), 0);
    count_cache_free(cc);
}

static void test_older_generation_never_wins(void **state)
{
    (void)state;
    count_cache *cc = count_cache_new(64);
    int64_t n = -1;
    count_cache_put(cc, "q", 1, 5, 10);
    count_cache_put(cc, "q", 1, 4, 99); /* a slow count that started before the last write */
    assert_int_equal(count_cache_get(cc, "q", 1, 5, &n), 1);
    assert_int_equal(n, 10);
    assert_int_equal(count_cache_get(cc, "q", 1, 4, &n), 0);
    count_cache_put(cc, "q", 1, 6, 11);
    assert_int_equal(count_cache_get(cc, "q", 1, 6, &n), 1);
    assert_int_equal(n, 11);
    count_cache_free(cc);
}

static void test_single_slot_replacement(void **state)
{
    (void)state;
    count_cache *cc = count_cache_new(1); /* every key collides */
    int64_t n = -1;
    count_cache_put(cc, "first", 5, 1, 1);
    count_cache_put(cc, "second", 6, 1, 2);
    assert_int_equal(count_cache_get(cc, "first", 5, 1, &n), 0);
    assert_int_equal(count_cache_get(cc, "second", 6, 1, &n), 1);
    assert_int_equal(n, 2);
    count_cache_put(cc, "first", 5, 0, 7); /* a new key takes the slot whatever its generation */
    assert_int_equal(count_cache_get(cc, "first", 5, 0, &n), 1);
    assert_int_equal(n, 7);
    count_cache_free(cc);
}

static void test_long_keys_not_cached(void **state)
{
    (void)state;
    count_cache *cc = count_cache_new(8);
    static char key[COUNT_CACHE_MAX_KEY + 1];
    memset(key, 'k', sizeof key);
    int64_t n = -1;
    count_cache_put(cc, key, sizeof key, 1, 3);
    assert_int_equal(count_cache_get(cc, key, sizeof key, 1, &n), 0);
    count_cache_put(cc, key, COUNT_CACHE_MAX_KEY, 1, 3);
    assert_int_equal(count_cache_get(cc, key, COUNT_CACHE_MAX_KEY, 1, &n), 1);
    assert_null(count_cache_new(0));
    count_cache_free(NULL);
    count_cache_free(cc);
}

static void *hammer(void *arg)
{
    count_cache *cc = arg;
    char key[32];
    for (int i = 0; i < 20000; i++) {
        int k = i % 50;
        int len = snprintf(key, sizeof key, "key-%d", k);
        int64_t n;
        if (count_cache_get(cc, key, (size_t)len, (uint64_t)(i / 100), &n) && n != k * 1000 + i / 100) return (void *)1;
        count_cache_put(cc, key, (size_t)len, (uint64_t)(i / 100), k * 1000 + i / 100);
    }
    return NULL;
}

static void test_concurrent_use(void **state)
{
    (void)state;
    count_cache *cc = count_cache_new(16);
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, hammer, cc);
    for (int i = 0; i < 4; i++) {
        void *bad;
        pthread_join(t[i], &bad);
        assert_null(bad); /* a hit always carries the count stored for that key and generation */
    }
    count_cache_free(cc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_and_miss),
        cmocka_unit_test(test_older_generation_never_wins),
        cmocka_unit_test(test_single_slot_replacement),
        cmocka_unit_test(test_long_keys_not_cached),
        cmocka_unit_test(test_concurrent_use),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
