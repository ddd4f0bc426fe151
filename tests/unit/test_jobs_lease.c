/* jobs_lease (core/jobs_lease.h) on a SQLite control store, two leases standing for two instances: the
 * first holds the jobs lease from its start (fence 1, one takeover on /metrics), the second does not; once
 * the first stops (a graceful stop releases it), the second takes it over within a renewal (fence 2); a NULL
 * lease (one process) is always held and renders nothing. The store's statement itself is tested on both
 * engines by control_store_cases.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/jobs_lease.h"
#include "util/clock.h"

static void two_instances_one_holder_then_a_takeover(void **state)
{
    (void)state;
    char dir[] = "/tmp/basalt-lease-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/control.db", dir);
    bs_err err = {0};
    store_control *store = store_control_open(path, &err);
    assert_non_null(store);
    jobs_lease *a = jobs_lease_new(store, 600, &err), *b = jobs_lease_new(store, 600, &err);
    assert_non_null(a);
    assert_non_null(b);
    int64_t fence = -1;
    assert_int_equal(jobs_lease_held(a, &fence), 1);
    assert_int_equal(fence, 1);
    assert_int_equal(jobs_lease_held(b, &fence), 0);
    assert_int_equal(fence, 0);
    strbuf out;
    strbuf_init(&out, 0);
    assert_int_equal(jobs_lease_render_prometheus(a, &out), 0);
    assert_non_null(strstr(out.data, "\nbasalt_jobs_lease_held 1\n"));
    assert_non_null(strstr(out.data, "\nbasalt_jobs_lease_takeovers_total 1\n"));
    jobs_lease_free(a);
    int64_t deadline = clock_mono_us() + 3000000; /* b renews every 200 ms */
    while (!jobs_lease_held(b, &fence) && clock_mono_us() < deadline) usleep(10000);
    assert_int_equal(jobs_lease_held(b, &fence), 1);
    assert_int_equal(fence, 2);
    strbuf_reset(&out);
    assert_int_equal(jobs_lease_render_prometheus(b, &out), 0);
    assert_non_null(strstr(out.data, "\nbasalt_jobs_lease_held 1\n"));
    strbuf_release(&out);
    jobs_lease_free(b);
    store_control_free(store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void a_null_lease_is_always_held(void **state)
{
    (void)state;
    int64_t fence = -1;
    assert_int_equal(jobs_lease_held(NULL, &fence), 1);
    assert_int_equal(fence, 0);
    strbuf out;
    strbuf_init(&out, 0);
    assert_int_equal(jobs_lease_render_prometheus(NULL, &out), 0);
    assert_int_equal(out.len, 0);
    strbuf_release(&out);
    bs_err err = {0};
    assert_null(jobs_lease_new(NULL, 30000, &err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_instances_one_holder_then_a_takeover),
        cmocka_unit_test(a_null_lease_is_always_held),
    };
    return cmocka_run_group_tests_name("jobs_lease", tests, NULL, NULL);
}
