/* usage_cache: a metric's monthly use read through the loader at most once per ttl per (organization,
 * metric), alerts claimed once per month, a new month starting over, loader failures passed on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/usage_cache.h"

#define NOV_15 1763200800000LL /* 2025-11-15T10:00:00Z */
#define DEC_01 1764547200000LL

typedef struct fake { int calls; int64_t value; int64_t last_from; } fake;

static int fake_load(void *arg, const char *org, const char *metric, int64_t from, int64_t to, int64_t *used, bs_err *err)
{
    fake *f = arg;
    (void)to;
    f->calls++;
    f->last_from = from;
    if (!strcmp(org, "broken")) return bs_err_set(err, 500, "common/internal-error", "store down");
    *used = f->value + (!strcmp(metric, "mau") ? 1 : 0);
    return 0;
}

static void read_through_once_per_ttl(void **state)
{
    (void)state;
    fake f = {.value = 10};
    usage_cache *c = usage_cache_new(fake_load, &f, 1000);
    bs_err err;
    int64_t used = 0;
    assert_int_equal(usage_cache_get(c, "org_a", "storage", NOV_15, &used, &err), 0);
    assert_int_equal(used, 10);
    f.value = 20;
    assert_int_equal(usage_cache_get(c, "org_a", "storage", NOV_15 + 999, &used, &err), 0);
    assert_int_equal(used, 10); /* still fresh */
    assert_int_equal(f.calls, 1);
    assert_int_equal(usage_cache_get(c, "org_a", "mau", NOV_15 + 999, &used, &err), 0);
    assert_int_equal(used, 21); /* another metric: its own entry */
    assert_int_equal(usage_cache_get(c, "org_a", "storage", NOV_15 + 1000, &used, &err), 0);
    assert_int_equal(used, 20); /* stale: read again */
    assert_int_equal(f.calls, 3);
    assert_int_equal(usage_cache_get(c, "org_a", "storage", DEC_01, &used, &err), 0);
    assert_int_equal(f.last_from, DEC_01); /* the new month's window */
    assert_int_equal(usage_cache_get(c, "broken", "storage", NOV_15, &used, &err), -1);
    assert_int_equal(err.status, 500);
    usage_cache_free(c);
}

static void alerts_claimed_once_a_month(void **state)
{
    (void)state;
    fake f = {.value = 90};
    usage_cache *c = usage_cache_new(fake_load, &f, 1000);
    bs_err err;
    int64_t used;
    assert_int_equal(usage_cache_claim_alert(c, "org_b", "bandwidth", 80, NOV_15), 0); /* nothing read yet */
    assert_int_equal(usage_cache_get(c, "org_b", "bandwidth", NOV_15, &used, &err), 0);
    assert_int_equal(usage_cache_claim_alert(c, "org_b", "bandwidth", 80, NOV_15), 1);
    assert_int_equal(usage_cache_claim_alert(c, "org_b", "bandwidth", 80, NOV_15 + 5000), 0);
    assert_int_equal(usage_cache_claim_alert(c, "org_b", "bandwidth", 100, NOV_15), 1);
    assert_int_equal(usage_cache_claim_alert(c, "org_b", "bandwidth", 100, NOV_15), 0);
    assert_int_equal(usage_cache_get(c, "org_b", "bandwidth", DEC_01, &used, &err), 0);
    assert_int_equal(usage_cache_claim_alert(c, "org_b", "bandwidth", 80, DEC_01), 1); /* a new month */
    usage_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(read_through_once_per_ttl),
        cmocka_unit_test(alerts_claimed_once_a_month),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
