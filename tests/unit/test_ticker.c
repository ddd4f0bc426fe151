/* Unit tests of util/ticker.h: ticks come every interval, at once after a wake (also one asked during a
 * tick), first_now runs one at start, ticker_free waits for a tick in progress and none runs after it,
 * and refused arguments give NULL. Times are generous: only "at least" and "well before" are asserted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdatomic.h>
#include <time.h>

#include "util/clock.h"
#include "util/ticker.h"

typedef struct counter {
    _Atomic int ticks;
    _Atomic int in_tick;
    _Atomic int overlapped;   /* a tick began while another ran */
    int sleep_ms;             /* each tick takes this long */
} counter;

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void count_tick(void *arg)
{
    counter *c = arg;
    if (atomic_fetch_add(&c->in_tick, 1) != 0) atomic_store(&c->overlapped, 1);
    if (c->sleep_ms) sleep_ms(c->sleep_ms);
    atomic_fetch_add(&c->ticks, 1);
    atomic_fetch_sub(&c->in_tick, 1);
}

/* Waits up to timeout_ms for at least n ticks; the ticks seen. */
static int wait_ticks(counter *c, int n, int timeout_ms)
{
    int64_t until = clock_mono_us() + (int64_t)timeout_ms * 1000;
    while (atomic_load(&c->ticks) < n && clock_mono_us() < until) sleep_ms(2);
    return atomic_load(&c->ticks);
}

static void test_refuses_bad_arguments(void **state)
{
    (void)state;
    counter c = {0};
    assert_null(ticker_new(0, 0, count_tick, &c));
    assert_null(ticker_new(-5, 0, count_tick, &c));
    assert_null(ticker_new(10, 0, NULL, &c));
    ticker_free(NULL);
}

static void test_ticks_every_interval(void **state)
{
    (void)state;
    counter c = {0};
    ticker *t = ticker_new(20, 0, count_tick, &c);
    assert_non_null(t);
    assert_true(wait_ticks(&c, 3, 5000) >= 3);
    ticker_free(t);
    assert_false(atomic_load(&c.overlapped));
}

static void test_first_now_and_wake(void **state)
{
    (void)state;
    counter c = {0};
    ticker *t = ticker_new(60 * 1000, 1, count_tick, &c); /* a minute: only first_now and wakes tick */
    assert_non_null(t);
    assert_int_equal(wait_ticks(&c, 1, 5000), 1);
    ticker_wake(t);
    assert_int_equal(wait_ticks(&c, 2, 5000), 2);
    ticker_wake(t);
    assert_int_equal(wait_ticks(&c, 3, 5000), 3);
    ticker_free(t);
    assert_int_equal(atomic_load(&c.ticks), 3);
}

static void test_wake_during_tick_runs_one_more(void **state)
{
    (void)state;
    counter c = {.sleep_ms = 100};
    ticker *t = ticker_new(60 * 1000, 1, count_tick, &c);
    assert_non_null(t);
    while (!atomic_load(&c.in_tick)) sleep_ms(1); /* the first tick is running */
    ticker_wake(t);
    assert_int_equal(wait_ticks(&c, 2, 5000), 2);
    ticker_free(t);
    assert_false(atomic_load(&c.overlapped));
}

static void test_free_waits_for_the_tick_in_progress(void **state)
{
    (void)state;
    counter c = {.sleep_ms = 150};
    ticker *t = ticker_new(60 * 1000, 1, count_tick, &c);
    assert_non_null(t);
    while (!atomic_load(&c.in_tick)) sleep_ms(1);
    ticker_free(t); /* returns only after the running tick ended */
    assert_int_equal(atomic_load(&c.in_tick), 0);
    int after = atomic_load(&c.ticks);
    assert_int_equal(after, 1);
    sleep_ms(50);
    assert_int_equal(atomic_load(&c.ticks), after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refuses_bad_arguments),
        cmocka_unit_test(test_ticks_every_interval),
        cmocka_unit_test(test_first_now_and_wake),
        cmocka_unit_test(test_wake_during_tick_runs_one_more),
        cmocka_unit_test(test_free_waits_for_the_tick_in_progress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
