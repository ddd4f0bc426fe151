/* quota: exact admission under the monthly and daily limits — counts, thresholds, windows in UTC, the
 * loader, and 64 threads racing for the last 100 calls (exactly 100 admitted). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/quota.h"

#define NOV_15 1763200800000LL /* 2025-11-15T10:00:00Z */

static void windows(void **state)
{
    (void)state;
    int64_t from, to;
    quota_window_bounds(QUOTA_MONTH, NOV_15, &from, &to);
    assert_int_equal(from, 1761955200000LL); /* 2025-11-01T00:00:00Z */
    assert_int_equal(to, 1764547200000LL);   /* 2025-12-01T00:00:00Z */
    quota_window_bounds(QUOTA_DAY, NOV_15, &from, &to);
    assert_int_equal(from, 1763164800000LL); /* 2025-11-15T00:00:00Z */
    assert_int_equal(to, 1763251200000LL);
    quota_window_bounds(QUOTA_MONTH, 1767225599999LL, &from, &to); /* 2025-12-31T23:59:59.999Z */
    assert_int_equal(to, 1767225600000LL);                         /* 2026-01-01 */
}

static void monthly_limit_thresholds_and_headers(void **state)
{
    (void)state;
    quota *q = quota_new(NULL, NULL);
    quota_verdict v;
    bs_err err;
    int c80 = 0, c100 = 0;
    for (int i = 1; i <= 10; i++) {
        assert_int_equal(quota_admit(q, "org_a", "p1", 10, QUOTA_UNLIMITED, NOV_15, &v, &err), 0);
        assert_true(v.admitted);
        assert_true(v.limited);
        assert_int_equal(v.used, i);
        assert_int_equal(v.limit, 10);
        assert_int_equal(v.window, QUOTA_MONTH);
        if (v.crossed & QUOTA_CROSSED_80) { c80++; assert_int_equal(i, 8); }
        if (v.crossed & QUOTA_CROSSED_100) { c100++; assert_int_equal(i, 10); }
    }
    assert_int_equal(c80, 1);
    assert_int_equal(c100, 1);
    assert_int_equal(quota_admit(q, "org_a", "p1", 10, QUOTA_UNLIMITED, NOV_15, &v, &err), 0);
    assert_false(v.admitted);
    assert_int_equal(v.used, 10);
    assert_int_equal(v.reset_at_ms, 1764547200000LL);
    assert_int_equal(v.crossed, 0);
    /* another organization is not affected; the next month starts over */
    assert_int_equal(quota_admit(q, "org_b", "p2", 10, QUOTA_UNLIMITED, NOV_15, &v, &err), 0);
    assert_true(v.admitted);
    assert_int_equal(quota_admit(q, "org_a", "p1", 10, QUOTA_UNLIMITED, 1764547200000LL, &v, &err), 0);
    assert_true(v.admitted);
    assert_int_equal(v.used, 1);
    /* a higher limit (an upgrade) admits again at once */
    assert_int_equal(quota_admit(q, "org_a", "p1", 100, QUOTA_UNLIMITED, 1764547200000LL, &v, &err), 0);
    assert_int_equal(v.used, 2);
    quota_free(q);
}

static void unlimited_and_daily(void **state)
{
    (void)state;
    quota *q = quota_new(NULL, NULL);
    quota_verdict v;
    bs_err err;
    assert_int_equal(quota_admit(q, "org_e", "p", QUOTA_UNLIMITED, QUOTA_UNLIMITED, NOV_15, &v, &err), 0);
    assert_true(v.admitted);
    assert_false(v.limited);
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(quota_admit(q, "org_e", "p", 1000, 3, NOV_15, &v, &err), 0);
        assert_true(v.admitted);
        assert_int_equal(v.window, QUOTA_DAY); /* 3 left today is tighter than 1000 this month */
        assert_int_equal(v.used, i);
    }
    assert_int_equal(quota_admit(q, "org_e", "p", 1000, 3, NOV_15, &v, &err), 0);
    assert_false(v.admitted);
    assert_int_equal(v.window, QUOTA_DAY);
    assert_int_equal(v.reset_at_ms, 1763251200000LL);
    /* the refused call still counts toward the month: 4 used this month; the next day is open */
    assert_int_equal(quota_admit(q, "org_e", "p", 1000, 3, 1763251200000LL, &v, &err), 0);
    assert_true(v.admitted);
    assert_int_equal(v.window, QUOTA_DAY);
    assert_int_equal(quota_admit(q, "org_e", "p", 6, QUOTA_UNLIMITED, 1763251200000LL, &v, &err), 0);
    assert_int_equal(v.used, 6);
    quota_free(q);
}

static int fake_load(void *arg, const char *scope, const char *id, int64_t from, int64_t to, int64_t *used, bs_err *err)
{
    int *calls = arg;
    (*calls)++;
    if (!strcmp(id, "broken")) return bs_err_set(err, 500, "common/internal-error", "store down");
    *used = !strcmp(scope, "org") && to - from > 86400000LL ? 95 : 0;
    return 0;
}

static void loaded_once(void **state)
{
    (void)state;
    int calls = 0;
    quota *q = quota_new(fake_load, &calls);
    quota_verdict v;
    bs_err err;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(quota_admit(q, "org_l", "p", 100, QUOTA_UNLIMITED, NOV_15, &v, &err), 0);
        assert_true(v.admitted);
    }
    assert_int_equal(v.used, 100);
    assert_int_equal(calls, 1);
    assert_int_equal(quota_admit(q, "org_l", "p", 100, QUOTA_UNLIMITED, NOV_15, &v, &err), 0);
    assert_false(v.admitted);
    assert_int_equal(quota_admit(q, "broken", "p", 100, QUOTA_UNLIMITED, NOV_15, &v, &err), -1);
    assert_int_equal(err.status, 500);
    quota_free(q);
}

typedef struct race { quota *q; _Atomic int admitted; } race;

static void *racer(void *arg)
{
    race *r = arg;
    quota_verdict v;
    bs_err err;
    for (int i = 0; i < 50; i++)
        if (quota_admit(r->q, "org_race", "p_race", 10000, 9999, NOV_15, &v, &err) == 0 && v.admitted) r->admitted++;
    return NULL;
}

static void exact_under_concurrency(void **state)
{
    (void)state;
    race r = {.q = quota_new(NULL, NULL)};
    quota_verdict v;
    bs_err err;
    for (int i = 0; i < 9900; i++) assert_int_equal(quota_admit(r.q, "org_race", "p_race", 10000, 9999, NOV_15, &v, &err), 0);
    pthread_t t[64];
    for (int i = 0; i < 64; i++) pthread_create(&t[i], NULL, racer, &r);
    for (int i = 0; i < 64; i++) pthread_join(t[i], NULL);
    assert_int_equal(r.admitted, 99); /* the daily cap 9999 binds first: exactly the last 99, none past it */
    quota_free(r.q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(windows),
        cmocka_unit_test(monthly_limit_thresholds_and_headers),
        cmocka_unit_test(unlimited_and_daily),
        cmocka_unit_test(loaded_once),
        cmocka_unit_test(exact_under_concurrency),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
