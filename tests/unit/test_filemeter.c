/* filemeter: counters add up per environment, unknown environments read zero, the table's overflow row
 * keeps totals, and concurrent adds lose nothing. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "core/filemeter.h"

static void adds_per_environment(void **state)
{
    (void)state;
    filemeter *m = filemeter_new();
    filemeter_counts up = {.uploads = 1, .bytes_in = 100}, down = {.downloads = 1, .bytes_out = 40}, got;
    filemeter_add(m, "env_a", &up);
    filemeter_add(m, "env_a", &down);
    filemeter_add(m, "env_a", &down);
    filemeter_add(m, "env_b", &up);
    filemeter_get(m, "env_a", &got);
    assert_int_equal(got.uploads, 1);
    assert_int_equal(got.downloads, 2);
    assert_int_equal(got.bytes_in, 100);
    assert_int_equal(got.bytes_out, 80);
    filemeter_get(m, "env_b", &got);
    assert_int_equal(got.uploads, 1);
    assert_int_equal(got.downloads, 0);
    filemeter_get(m, "env_never", &got);
    assert_int_equal(got.uploads + got.downloads + got.bytes_in + got.bytes_out, 0);
    filemeter_free(m);
}

static void overflow_keeps_totals(void **state)
{
    (void)state;
    filemeter *m = filemeter_new();
    filemeter_counts one = {.uploads = 1}, got;
    char env[32];
    for (int i = 0; i < FILEMETER_ENVS + 10; i++) {
        snprintf(env, sizeof env, "env_%d", i);
        filemeter_add(m, env, &one);
    }
    filemeter_get(m, "*", &got);
    assert_int_equal(got.uploads, 10);
    filemeter_get(m, "env_0", &got);
    assert_int_equal(got.uploads, 1);
    filemeter_free(m);
}

static void *adder(void *arg)
{
    filemeter_counts one = {.downloads = 1, .bytes_out = 3};
    for (int i = 0; i < 100000; i++) filemeter_add(arg, "env_hot", &one);
    return NULL;
}

static void concurrent_adds(void **state)
{
    (void)state;
    filemeter *m = filemeter_new();
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, adder, m);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    filemeter_counts got;
    filemeter_get(m, "env_hot", &got);
    assert_int_equal(got.downloads, 400000);
    assert_int_equal(got.bytes_out, 1200000);
    filemeter_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(adds_per_environment),
        cmocka_unit_test(overflow_keeps_totals),
        cmocka_unit_test(concurrent_adds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
