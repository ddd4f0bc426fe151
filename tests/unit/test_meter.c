/* Unit tests of the usage meter (core/meter.h) and its rows in the control store (store/control.h usage
 * section), on a fresh SQLite control store per test: per-thread shards merged exactly (also while the
 * flusher reads), success/failure/endpoint counts, db counters, MAU counted once per user and month
 * (also across a restart of the meter), and the Prometheus bound. The rows' own arithmetic (roll-ups:
 * sums, peaks, minima, the storage gauge; retention and the sums that span purged hourly rows) is the
 * control store's and runs on every engine in control_store_cases.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/bootstrap.h"
#include "core/meter.h"
#include "store/control.h"

#define THREADS 8
#define CALLS 20000
#define HOUR (3600LL * 1000)
#define DAY (24 * HOUR)
#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */

typedef struct fixture {
    char dir[64];
    store_control *store;
    meter *m;
    char org[STORE_ID_MAX], project[STORE_ID_MAX], env[STORE_ID_MAX];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/basalt-meter-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    char location[128];
    snprintf(location, sizeof location, "sqlite:%s/control.db", f->dir);
    bs_err err = {0};
    f->store = store_control_open(location, &err);
    bootstrap_result b;
    store_env e;
    int found = 0;
    if (!f->store || bootstrap_run(f->store, &b, &err) < 0 ||
        store_control_env_find(f->store, b.project_id, "dev", &e, &found, &err) < 0 || !found)
        return -1;
    snprintf(f->org, sizeof f->org, "%s", b.organization_id);
    snprintf(f->project, sizeof f->project, "%s", b.project_id);
    snprintf(f->env, sizeof f->env, "%s", e.id);
    meter_config mc = {.control = f->store};
    f->m = meter_new(&mc, &err);
    *state = f;
    return f->m ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    meter_free(f->m);
    store_control_free(f->store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (system(cmd) != 0) return -1;
    free(f);
    return 0;
}

static int64_t used(fixture *f, const char *metric, int64_t from, int64_t to)
{
    int64_t sum = -1;
    bs_err err = {0};
    assert_int_equal(store_control_usage_sum(f->store, f->org, NULL, metric, from, to, &sum, &err), 0);
    return sum;
}

/* The rows of one metric and period (at most 64), oldest first. */
static size_t rows_of(fixture *f, const char *metric, const char *period, store_usage_row *out)
{
    store_usage_query q = {.organization_id = f->org, .metric = metric, .period = period, .limit = 64};
    size_t n = 0;
    int64_t total = 0;
    bs_err err = {0};
    assert_int_equal(store_control_usage_list(f->store, &q, out, &n, &total, &err), 0);
    assert_int_equal((int64_t)n, total);
    return n;
}

static void flush_at(fixture *f, int64_t now)
{
    bs_err err = {0};
    assert_int_equal(meter_flush(f->m, now, &err), 0);
}

/* ---- shards and merge ---- */

typedef struct worker {
    fixture *f;
    int index;
} worker;

static void *count_calls(void *arg)
{
    worker *w = arg;
    meter_env *e = meter_env_get(w->f->m, w->f->org, w->f->project, w->f->env, "dev");
    for (int i = 0; i < CALLS; i++) {
        int fail = i % 10 == 0;
        meter_request(e, i % 2, i % 2 ? "/v1/data/:table" : "/v1/data/:table/:id", "GET", fail ? 404 : 200, 100, 10);
        meter_db(e, 2, i % 4 == 0);
    }
    return NULL;
}

static _Atomic int stop_flusher;

static void *keep_flushing(void *arg)
{
    fixture *f = arg;
    while (!atomic_load(&stop_flusher)) {
        bs_err err = {0};
        meter_flush(f->m, T0 + 5 * 60 * 1000, &err);
        usleep(200);
    }
    return NULL;
}

static void test_shards_merge_exactly(void **state)
{
    fixture *f = *state;
    pthread_t t[THREADS], flusher;
    worker w[THREADS];
    atomic_store(&stop_flusher, 0);
    assert_int_equal(pthread_create(&flusher, NULL, keep_flushing, f), 0); /* reads while the shards count */
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){f, i};
        assert_int_equal(pthread_create(&t[i], NULL, count_calls, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    atomic_store(&stop_flusher, 1);
    pthread_join(flusher, NULL);
    flush_at(f, T0 + 5 * 60 * 1000);
    int64_t total = (int64_t)THREADS * CALLS;
    assert_int_equal(used(f, "api_call", T0, T0 + DAY), total);
    assert_int_equal(used(f, "db_read", T0, T0 + DAY), 2 * total);
    assert_int_equal(used(f, "db_write", T0, T0 + DAY), total / 4);
    assert_int_equal(used(f, "bandwidth", T0, T0 + DAY), 10 * total);
    store_usage_row *rows = calloc(64, sizeof *rows);
    assert_int_equal(rows_of(f, "api_call", "hourly", rows), 1);
    assert_int_equal(rows[0].success_count, total - total / 10);
    assert_int_equal(rows[0].failure_count, total / 10);
    assert_int_equal(rows[0].response_us, 100 * total);
    assert_int_equal(rows[0].period_start, T0);
    assert_string_equal(rows[0].environment, "dev");
    char expect[256];
    snprintf(expect, sizeof expect, "{\"GET /v1/data/:table\":%lld,\"GET /v1/data/:table/:id\":%lld}", (long long)total / 2,
             (long long)total / 2);
    assert_string_equal(rows[0].endpoints, expect);
    assert_int_equal(rows_of(f, "bandwidth", "hourly", rows), 1);
    assert_int_equal(rows[0].success_count, 10 * (total - total / 10));
    assert_int_equal(rows[0].failure_count, total);
    free(rows);
    meter_stats st;
    meter_stats_get(f->m, &st);
    assert_int_equal(st.envs, 1);
    assert_true(st.shards >= THREADS + 1);
    assert_int_equal(st.dropped_endpoints, 0);
}

static void test_hours_and_peaks(void **state)
{
    fixture *f = *state;
    meter_env *e = meter_env_get(f->m, f->org, f->project, f->env, "dev");
    for (int i = 0; i < 3; i++) meter_request(e, 1, "/v1/x", "POST", 201, 50, 0);
    flush_at(f, T0 + 10);
    meter_request(e, 1, "/v1/x", "POST", 500, 50, 0);
    flush_at(f, T0 + 20);
    flush_at(f, T0 + 30); /* nothing new: no row change */
    for (int i = 0; i < 5; i++) meter_request(e, 1, "/v1/x", "POST", 201, 50, 0);
    flush_at(f, T0 + HOUR + 1); /* the next hour */
    store_usage_row rows[4];
    assert_int_equal(rows_of(f, "api_call", "hourly", rows), 2);
    assert_int_equal(rows[0].value, 4);
    assert_int_equal(rows[0].peak, 3); /* per flush: 3 then 1 */
    assert_int_equal(rows[0].min, 1);
    assert_int_equal(rows[0].failure_count, 1);
    assert_int_equal(rows[1].value, 5);
    assert_int_equal(rows[1].period_start, T0 + HOUR);
}

/* ---- MAU ---- */

typedef struct mau_worker {
    meter_env *e;
    int64_t now;
} mau_worker;

static void *sign_in_users(void *arg)
{
    mau_worker *w = arg;
    char id[32];
    for (int round = 0; round < 5; round++)
        for (int u = 0; u < 300; u++) {
            snprintf(id, sizeof id, "usr_%04d", u);
            meter_mau(w->e, id, w->now);
        }
    return NULL;
}

static void test_mau_once_per_month(void **state)
{
    fixture *f = *state;
    meter_env *e = meter_env_get(f->m, f->org, f->project, f->env, "dev");
    pthread_t t[4];
    mau_worker w = {e, T0 + DAY};
    for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&t[i], NULL, sign_in_users, &w), 0);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    flush_at(f, T0 + DAY + 1000);
    assert_int_equal(used(f, "mau", T0, T0 + 31 * DAY), 300);
    meter_stats st;
    meter_stats_get(f->m, &st);
    assert_int_equal(st.mau_users, 300);
    assert_true(st.mau_bytes > 0 && st.mau_bytes / st.mau_users < 128);

    /* a restarted meter has forgotten its set: the store still counts each user once */
    meter_free(f->m);
    bs_err err = {0};
    meter_config mc = {.control = f->store};
    f->m = meter_new(&mc, &err);
    e = meter_env_get(f->m, f->org, f->project, f->env, "dev");
    meter_mau(e, "usr_0001", T0 + 2 * DAY);
    meter_mau(e, "usr_new", T0 + 2 * DAY);
    flush_at(f, T0 + 2 * DAY);
    assert_int_equal(used(f, "mau", T0, T0 + 31 * DAY), 301);

    /* next month: everyone counts again */
    int64_t feb = T0 + 31 * DAY;
    meter_mau(e, "usr_0001", feb + HOUR);
    meter_mau(e, "usr_0001", feb + 2 * HOUR);
    flush_at(f, feb + 2 * HOUR);
    assert_int_equal(used(f, "mau", feb, feb + 28 * DAY), 1);
    assert_int_equal(used(f, "mau", T0, T0 + 31 * DAY), 301);
}

static void test_mau_seen_at_month_end(void **state)
{
    fixture *f = *state;
    meter_env *e = meter_env_get(f->m, f->org, f->project, f->env, "dev");
    int64_t feb = T0 + 31 * DAY;
    meter_mau(e, "late", feb - 1);  /* seen in January, flushed in February */
    flush_at(f, feb + 500);
    assert_int_equal(used(f, "mau", T0, feb), 1);
    assert_int_equal(used(f, "mau", feb, feb + DAY), 0);
}

static void test_prometheus_bound(void **state)
{
    fixture *f = *state;
    char id[STORE_ID_MAX];
    for (int i = 0; i < METER_PROM_ENVS + 20; i++) {
        snprintf(id, sizeof id, "env_fake_%d", i);
        meter_env *e = meter_env_get(f->m, f->org, f->project, id, id);
        for (int k = 0; k <= i; k++) meter_request(e, 0, "/v1/x", "GET", 200, 1, 1);
    }
    bs_err err = {0};
    meter_flush(f->m, T0, &err); /* fake environments are not in the store: they reach /metrics only */
    strbuf out;
    strbuf_init(&out, 0);
    assert_int_equal(meter_render_prometheus(f->m, &out), 0);
    size_t lines = 0;
    for (const char *p = out.data; (p = strstr(p, "basalt_usage_db_reads_total{")); p++) lines++;
    assert_int_equal(lines, METER_PROM_ENVS + 1);
    assert_non_null(strstr(out.data, "environment=\"env_fake_119\""));   /* the busiest */
    assert_null(strstr(out.data, "environment=\"env_fake_0\""));         /* summed into other */
    /* other = envs 0..19: 1+2+...+20 = 210 successful calls */
    assert_non_null(strstr(out.data, "{organization=\"other\",project=\"other\",environment=\"other\",outcome=\"success\"} 210\n"));
    strbuf_release(&out);
}

/* ---- memory (BENCHMARKS.md reads the "memory" line) ---- */

static void *touch_envs(void *arg)
{
    fixture *f = arg;
    char id[STORE_ID_MAX];
    for (int i = 0; i < 1000; i++) {
        snprintf(id, sizeof id, "env_mem_%d", i);
        meter_request(meter_env_get(f->m, f->org, f->project, id, "dev"), 1, "/v1/x", "GET", 200, 1, 1);
    }
    return NULL;
}

static void test_memory_report(void **state)
{
    fixture *f = *state;
    pthread_t t[4];
    for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&t[i], NULL, touch_envs, f), 0);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    meter_env *e = meter_env_get(f->m, f->org, f->project, f->env, "dev");
    char id[32];
    for (int u = 0; u < 10000; u++) {
        snprintf(id, sizeof id, "usr_%020d", u); /* the length of a real user id */
        meter_mau(e, id, T0);
    }
    meter_stats st;
    meter_stats_get(f->m, &st);
    assert_int_equal(st.envs, 1001);
    assert_int_equal(st.mau_users, 10000);
    printf("memory per_tracked_env_bytes=%zu (with %zu counting threads) per_mau_user_bytes=%zu\n", st.env_bytes / st.envs,
           st.shards - 1, st.mau_bytes / st.mau_users);
    assert_true(st.env_bytes / st.envs < 4096);
    assert_true(st.mau_bytes / st.mau_users < 128);

    /* what one metered request adds on its thread: the environment lookup, a db count, the completion */
    struct timespec t0, t1;
    const long n = 2000000;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
        meter_env *x = meter_env_get(f->m, f->org, f->project, f->env, "dev");
        meter_db(x, 1, 0);
        meter_request(x, (int)(i & 7), "/v1/data/:table/:id", "GET", 200, 700, 1500);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / (double)n;
    printf("request path: %.1f ns per metered request (lookup + meter_db + meter_request)\n", ns);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_shards_merge_exactly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hours_and_peaks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mau_once_per_month, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mau_seen_at_month_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prometheus_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_report, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
