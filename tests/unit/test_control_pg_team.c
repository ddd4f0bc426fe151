/* Unit tests of the PostgreSQL control driver's team part (store/postgres/control_pg_team.c) beyond the
 * shared behaviour suite (control_store_cases.h, which covers members, the last owner, ownership transfer,
 * tokens that follow their member and invitations on both engines through test_control_store_pg.c):
 * usage rows added in batches (counters, peaks, minima, the gauge, endpoints, all or none, batches racing
 * from several threads), MAU once per user and month, roll-ups and retention with the sums that span them,
 * alerts recorded once, webhook deliveries due and updated. A fresh schema per test; the rows other parts
 * write (organizations, projects, environments) are inserted with SQL. Needs BASALT_TEST_PG_URL
 * (tests/pg/with-pg.sh); skipped without it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_fixture.h"
#include "store/control.h"
#include "store/postgres/control_pg.h"
#include "store/postgres/control_pg_parts.h"

#define ORG "org_00000000000000000001"
#define PROJECT "prj_00000000000000000001"
#define ENV "env_00000000000000000001"
#define HOUR (3600LL * 1000)
#define DAY (24 * HOUR)
#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */

#define OPS store_pg_control_ops

typedef struct fixture {
    char url[512];
    pgc *d;
} fixture;

static void sql(fixture *f, const char *text)
{
    if (pg_fixture_exec(f->url, text) != 0) fail_msg("setup SQL failed: %s", text);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    *state = f;
    int rc = pg_fixture_url(f->url, sizeof f->url);
    if (rc <= 0) return rc; /* 0: no server, every test skips */
    bs_err err = {0};
    f->d = pgc_driver_open(f->url, &err);
    if (!f->d) return -1;
    pgc_fill_team(&OPS);
    sql(f, "INSERT INTO organizations (id, name, slug, created_at, updated_at) VALUES ('" ORG "', 'Acme', 'acme', 1, 1),"
           " ('org_other', 'Other', 'other', 1, 1)");
    sql(f, "INSERT INTO projects (id, organization_id, name, slug, created_at, updated_at)"
           " VALUES ('" PROJECT "', '" ORG "', 'App', 'app', 1, 1)");
    sql(f, "INSERT INTO environments (id, project_id, name, type, status, created_at, updated_at)"
           " VALUES ('" ENV "', '" PROJECT "', 'dev', 'dev', 'ready', 1, 1), ('env_prod', '" PROJECT "', 'prod', 'prod', 'ready', 2, 2),"
           " ('env_gone', '" PROJECT "', 'old', 'custom', 'deleting', 3, 3)");
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pgc_driver_free(f->d);
    free(f);
    return 0;
}

static fixture *need(void **state)
{
    fixture *f = *state;
    if (!f->d) skip();
    return f;
}

/* ---- alerts and webhook deliveries ---- */

static store_alert make_alert(const char *id, const char *month, int threshold, int64_t at)
{
    store_alert a;
    memset(&a, 0, sizeof a);
    snprintf(a.id, sizeof a.id, "%s", id);
    snprintf(a.organization_id, sizeof a.organization_id, ORG);
    snprintf(a.metric, sizeof a.metric, "api_call");
    snprintf(a.month, sizeof a.month, "%s", month);
    a.threshold = threshold;
    a.used = 80 * 1000;
    a.limit = 100 * 1000;
    a.created_at = at;
    return a;
}

static void test_alerts_once(void **state)
{
    fixture *f = need(state);
    bs_err err = {0};
    int created = -1;
    store_alert a80 = make_alert("alr_1", "2026-01", 80, 10), again = make_alert("alr_2", "2026-01", 80, 11);
    store_alert a100 = make_alert("alr_3", "2026-01", 100, 12), feb = make_alert("alr_4", "2026-02", 80, 20);
    assert_int_equal(OPS.alert_add(f->d, &a80, &created, &err), 0);
    assert_int_equal(created, 1);
    assert_int_equal(OPS.alert_add(f->d, &again, &created, &err), 0);
    assert_int_equal(created, 0);
    assert_int_equal(OPS.alert_add(f->d, &a100, &created, &err), 0);
    assert_int_equal(created, 1);
    assert_int_equal(OPS.alert_add(f->d, &feb, &created, &err), 0);
    assert_int_equal(created, 1);
    store_alert rows[8];
    size_t n = 0;
    assert_int_equal(OPS.alert_list(f->d, ORG, "2026-01", rows, 8, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].id, "alr_3"); /* newest first */
    assert_int_equal(rows[0].threshold, 100);
    assert_int_equal(rows[0].used, 80 * 1000);
    assert_int_equal(rows[0].limit, 100 * 1000);
    assert_string_equal(rows[1].id, "alr_1");
    assert_int_equal(OPS.alert_list(f->d, ORG, NULL, rows, 8, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(rows[0].month, "2026-02");
    assert_int_equal(OPS.alert_list(f->d, ORG, NULL, rows, 2, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(OPS.alert_list(f->d, "org_other", NULL, rows, 8, &n, &err), 0);
    assert_int_equal(n, 0);
}

static store_delivery make_delivery(const char *id, int64_t next_at, int64_t created_at)
{
    store_delivery d;
    memset(&d, 0, sizeof d);
    snprintf(d.id, sizeof d.id, "%s", id);
    snprintf(d.organization_id, sizeof d.organization_id, ORG);
    snprintf(d.project_id, sizeof d.project_id, PROJECT);
    snprintf(d.alert_id, sizeof d.alert_id, "alr_1");
    snprintf(d.url, sizeof d.url, "https://hooks.example/x");
    snprintf(d.payload, sizeof d.payload, "{\"type\":\"usage.threshold\",\"quote\":\"it's\"}");
    snprintf(d.status, sizeof d.status, "pending");
    d.next_at = next_at;
    d.created_at = d.updated_at = created_at;
    return d;
}

static void test_deliveries_due_and_update(void **state)
{
    fixture *f = need(state);
    bs_err err = {0};
    store_delivery a = make_delivery("whd_a", 100, 1), b = make_delivery("whd_b", 50, 2), c = make_delivery("whd_c", 500, 3);
    assert_int_equal(OPS.delivery_add(f->d, &a, &err), 0);
    assert_int_equal(OPS.delivery_add(f->d, &b, &err), 0);
    assert_int_equal(OPS.delivery_add(f->d, &c, &err), 0);
    assert_int_equal(OPS.delivery_add(f->d, &c, &err), -1); /* same id */
    assert_int_equal(err.status, 409);
    store_delivery rows[4];
    size_t n = 0;
    assert_int_equal(OPS.deliveries_due(f->d, 100, rows, 4, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].id, "whd_b"); /* soonest first */
    assert_string_equal(rows[1].id, "whd_a");
    assert_string_equal(rows[1].payload, a.payload);
    assert_int_equal(OPS.deliveries_due(f->d, 100, rows, 1, &n, &err), 0);
    assert_int_equal(n, 1);
    b.attempts = 1;
    b.last_status = 503;
    snprintf(b.last_error, sizeof b.last_error, "HTTP 503");
    b.next_at = 1000;
    b.updated_at = 60;
    assert_int_equal(OPS.delivery_update(f->d, &b, &err), 0);
    snprintf(a.status, sizeof a.status, "delivered");
    a.attempts = 1;
    a.last_status = 200;
    a.updated_at = 101;
    assert_int_equal(OPS.delivery_update(f->d, &a, &err), 0);
    assert_int_equal(OPS.deliveries_due(f->d, 600, rows, 4, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].id, "whd_c");
    assert_int_equal(OPS.delivery_list(f->d, ORG, rows, 4, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(rows[0].id, "whd_c"); /* newest first */
    assert_string_equal(rows[1].id, "whd_b");
    assert_int_equal(rows[1].attempts, 1);
    assert_int_equal(rows[1].last_status, 503);
    assert_string_equal(rows[1].last_error, "HTTP 503");
    assert_int_equal(rows[1].next_at, 1000);
    assert_int_equal(rows[1].updated_at, 60);
    assert_int_equal(rows[1].created_at, 2);
    assert_string_equal(rows[2].status, "delivered");
}

/* ---- usage ---- */

static store_usage_delta make_delta(const char *env, const char *metric, int64_t hour, int64_t value, int gauge)
{
    store_usage_delta d = {.hour_start = hour, .gauge = gauge, .value = value, .success_count = gauge ? 0 : value};
    snprintf(d.organization_id, sizeof d.organization_id, ORG);
    snprintf(d.project_id, sizeof d.project_id, PROJECT);
    snprintf(d.environment_id, sizeof d.environment_id, "%s", env);
    snprintf(d.environment, sizeof d.environment, "%s", strcmp(env, ENV) ? "prod" : "dev");
    snprintf(d.metric, sizeof d.metric, "%s", metric);
    return d;
}

static void add_row(fixture *f, const char *metric, int64_t hour, int64_t value, int gauge)
{
    store_usage_endpoint ep = {"GET /v1/data/:table", value};
    store_usage_delta d = make_delta(ENV, metric, hour, value, gauge);
    if (!strcmp(metric, "api_call")) {
        d.endpoints = &ep;
        d.nendpoints = 1;
    }
    bs_err err = {0};
    assert_int_equal(OPS.usage_add(f->d, &d, 1, hour, &err), 0);
}

static int64_t used(fixture *f, const char *metric, int64_t from, int64_t to)
{
    int64_t sum = -1;
    bs_err err = {0};
    assert_int_equal(OPS.usage_sum(f->d, ORG, NULL, metric, from, to, &sum, &err), 0);
    return sum;
}

/* The rows of one metric and period (at most 64), oldest first. */
static size_t rows_of(fixture *f, const char *metric, const char *period, store_usage_row *out)
{
    store_usage_query q = {.organization_id = ORG, .metric = metric, .period = period, .limit = 64};
    size_t n = 0;
    int64_t total = 0;
    bs_err err = {0};
    assert_int_equal(OPS.usage_list(f->d, &q, out, &n, &total, &err), 0);
    assert_int_equal((int64_t)n, total);
    return n;
}

static void rollup(fixture *f, int64_t now)
{
    bs_err err = {0};
    assert_int_equal(OPS.usage_rollup(f->d, now, &err), 0);
}

/* Batches add to the hour's counters (peak / min per batch), a gauge replaces, endpoints add; a batch
 * that fails writes nothing. */
static void test_usage_add_and_list(void **state)
{
    fixture *f = need(state);
    bs_err err = {0};
    store_usage_endpoint eps[] = {{"GET /v1/x", 2}, {"POST /v1/\"q\"", 1}};
    store_usage_delta d[3] = {make_delta(ENV, "api_call", T0, 3, 0), make_delta("env_prod", "api_call", T0, 1, 0),
                              make_delta(ENV, "storage", T0, 700, 1)};
    d[0].failure_count = 1;
    d[0].response_us = 300;
    d[0].endpoints = eps;
    d[0].nendpoints = 2;
    assert_int_equal(OPS.usage_add(f->d, d, 3, T0 + 10, &err), 0);
    d[0].value = d[0].success_count = 1;
    d[0].nendpoints = 1;
    d[2].value = 500;
    assert_int_equal(OPS.usage_add(f->d, d, 3, T0 + 20, &err), 0);
    store_usage_row rows[8];
    assert_int_equal(rows_of(f, "api_call", "hourly", rows), 2);
    assert_string_equal(rows[0].environment, "dev");
    assert_int_equal(rows[0].value, 4);
    assert_int_equal(rows[0].success_count, 4);
    assert_int_equal(rows[0].failure_count, 2);
    assert_int_equal(rows[0].response_us, 600);
    assert_int_equal(rows[0].peak, 3);
    assert_int_equal(rows[0].min, 1);
    assert_string_equal(rows[0].endpoints, "{\"GET /v1/x\":4,\"POST /v1/\\\"q\\\"\":1}");
    assert_string_equal(rows[1].environment, "prod");
    assert_int_equal(rows[1].value, 2);
    assert_string_equal(rows[1].endpoints, "{}");
    assert_int_equal(rows_of(f, "storage", "hourly", rows), 1);
    assert_int_equal(rows[0].value, 500);
    assert_int_equal(rows[0].peak, 700);
    assert_int_equal(rows[0].min, 500);
    /* filters and paging */
    store_usage_query q = {.organization_id = ORG, .environment = "prod", .period = "hourly", .limit = 8};
    size_t n = 0;
    int64_t total = 0;
    assert_int_equal(OPS.usage_list(f->d, &q, rows, &n, &total, &err), 0);
    assert_int_equal(total, 1);
    q = (store_usage_query){.organization_id = ORG, .environment = ENV, .period = "hourly", .limit = 1, .offset = 1};
    assert_int_equal(OPS.usage_list(f->d, &q, rows, &n, &total, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(total, 2);
    assert_string_equal(rows[0].metric, "storage"); /* by bucket, then metric */
    q = (store_usage_query){.organization_id = ORG, .period = "hourly", .from_ms = T0 + HOUR, .limit = 8};
    assert_int_equal(OPS.usage_list(f->d, &q, rows, &n, &total, &err), 0);
    assert_int_equal(total, 0);
    q = (store_usage_query){.organization_id = ORG, .period = "hourly", .from_ms = 0, .to_ms = T0, .limit = 8};
    assert_int_equal(OPS.usage_list(f->d, &q, rows, &n, &total, &err), 0);
    assert_int_equal(total, 0);
    /* all or none: the second delta overflows its counter */
    store_usage_delta bad[2] = {make_delta(ENV, "db_read", T0, 5, 0), make_delta("env_prod", "api_call", T0, INT64_MAX, 0)};
    assert_int_equal(OPS.usage_add(f->d, bad, 2, T0 + 30, &err), -1);
    assert_int_equal(rows_of(f, "db_read", "hourly", rows), 0);
    assert_int_equal(used(f, "api_call", T0, T0 + DAY), 6);
}

static void test_usage_mau_once_per_month(void **state)
{
    fixture *f = need(state);
    bs_err err = {0};
    const char *users[] = {"usr_1", "usr_2", "usr_1", "usr_3", "q\"uo\\te,{x} y", "NULL"};
    store_usage_delta d = make_delta(ENV, "mau", T0 + DAY, 0, 0);
    d.users = users;
    d.nusers = 6;
    d.month_start = T0;
    assert_int_equal(OPS.usage_add(f->d, &d, 1, T0 + DAY, &err), 0);
    assert_int_equal(used(f, "mau", T0, T0 + 31 * DAY), 5);
    int known = -1;
    assert_int_equal(OPS.usage_mau_known(f->d, ENV, T0, "usr_2", &known, &err), 0);
    assert_int_equal(known, 1);
    assert_int_equal(OPS.usage_mau_known(f->d, ENV, T0, "q\"uo\\te,{x} y", &known, &err), 0);
    assert_int_equal(known, 1);
    assert_int_equal(OPS.usage_mau_known(f->d, ENV, T0, "NULL", &known, &err), 0);
    assert_int_equal(known, 1);
    assert_int_equal(OPS.usage_mau_known(f->d, ENV, T0, "usr_9", &known, &err), 0);
    assert_int_equal(known, 0);
    assert_int_equal(OPS.usage_mau_known(f->d, "env_prod", T0, "usr_2", &known, &err), 0);
    assert_int_equal(known, 0);
    /* again later in the month: only the new one counts; nobody new: no row change */
    const char *again[] = {"usr_2", "usr_new"};
    d.users = again;
    d.nusers = 2;
    d.hour_start = T0 + 2 * DAY;
    assert_int_equal(OPS.usage_add(f->d, &d, 1, T0 + 2 * DAY, &err), 0);
    d.nusers = 1;
    d.hour_start = T0 + 3 * DAY;
    assert_int_equal(OPS.usage_add(f->d, &d, 1, T0 + 3 * DAY, &err), 0);
    store_usage_row rows[8];
    assert_int_equal(rows_of(f, "mau", "hourly", rows), 2);
    assert_int_equal(rows[0].value, 5);
    assert_int_equal(rows[1].value, 1);
    assert_int_equal(rows[1].success_count, 1);
    assert_int_equal(used(f, "mau", T0, T0 + 31 * DAY), 6);
    /* next month: everyone counts again */
    int64_t feb = T0 + 31 * DAY;
    d.month_start = feb;
    d.hour_start = feb + HOUR;
    assert_int_equal(OPS.usage_add(f->d, &d, 1, feb + HOUR, &err), 0);
    assert_int_equal(used(f, "mau", feb, feb + 28 * DAY), 1);
    assert_int_equal(used(f, "mau", T0, T0 + 31 * DAY), 6);
}

/* Batches from several threads touching the same rows in different orders: no deadlock, exact sums. */
#define ADDERS 4
#define BATCHES 40

static void *add_batches(void *arg)
{
    fixture *f = ((void **)arg)[0];
    int index = *(int *)((void **)arg)[1];
    store_usage_endpoint ep[] = {{"GET /v1/a", 1}, {"GET /v1/b", 1}};
    for (int i = 0; i < BATCHES; i++) {
        store_usage_delta d[3] = {make_delta(ENV, "api_call", T0, 1, 0), make_delta("env_prod", "api_call", T0, 1, 0),
                                  make_delta(ENV, "db_read", T0, 1, 0)};
        d[0].endpoints = d[1].endpoints = ep;
        d[0].nendpoints = d[1].nendpoints = 2;
        if ((index + i) % 2) { /* the other order */
            store_usage_delta t = d[0];
            d[0] = d[2];
            d[2] = t;
        }
        bs_err err = {0};
        if (OPS.usage_add(f->d, d, 3, T0 + i, &err) != 0) return (void *)1;
    }
    return NULL;
}

static void test_usage_add_concurrent(void **state)
{
    fixture *f = need(state);
    pthread_t t[ADDERS];
    int index[ADDERS];
    void *args[ADDERS][2];
    for (int i = 0; i < ADDERS; i++) {
        index[i] = i;
        args[i][0] = f;
        args[i][1] = &index[i];
        assert_int_equal(pthread_create(&t[i], NULL, add_batches, args[i]), 0);
    }
    for (int i = 0; i < ADDERS; i++) {
        void *failed = NULL;
        pthread_join(t[i], &failed);
        assert_null(failed);
    }
    assert_int_equal(used(f, "api_call", T0, T0 + DAY), 2 * ADDERS * BATCHES);
    assert_int_equal(used(f, "db_read", T0, T0 + DAY), ADDERS * BATCHES);
    store_usage_row rows[2];
    assert_int_equal(rows_of(f, "db_read", "hourly", rows), 1);
    assert_int_equal(rows[0].peak, 1);
    assert_int_equal(rows_of(f, "api_call", "hourly", rows), 2);
    assert_string_equal(rows[0].endpoints, "{\"GET /v1/a\":160,\"GET /v1/b\":160}");
}

/* The same endpoint twice in one delta adds both counts (as one statement per endpoint would). */
static void test_usage_endpoints_repeated(void **state)
{
    fixture *f = need(state);
    bs_err err = {0};
    store_usage_endpoint eps[] = {{"GET /v1/a", 2}, {"GET /v1/b\\", 5}, {"GET /v1/a", 4}};
    store_usage_delta d = make_delta(ENV, "api_call", T0, 11, 0);
    d.endpoints = eps;
    d.nendpoints = 3;
    assert_int_equal(OPS.usage_add(f->d, &d, 1, T0, &err), 0);
    assert_int_equal(OPS.usage_add(f->d, &d, 1, T0 + 1, &err), 0);
    store_usage_row rows[2];
    assert_int_equal(rows_of(f, "api_call", "hourly", rows), 1);
    assert_int_equal(rows[0].value, 22);
    assert_string_equal(rows[0].endpoints, "{\"GET /v1/a\":12,\"GET /v1/b\\\\\":10}");
}

static void test_rollup_arithmetic(void **state)
{
    fixture *f = need(state);
    /* day 1: 5, 7, 1 calls in three hours; day 2: 4; storage readings 100, 300, 200 on day 1, 50 on day 2 */
    add_row(f, "api_call", T0, 5, 0);
    add_row(f, "api_call", T0 + 3 * HOUR, 7, 0);
    add_row(f, "api_call", T0 + 23 * HOUR, 1, 0);
    add_row(f, "api_call", T0 + DAY + HOUR, 4, 0);
    add_row(f, "storage", T0, 100, 1);
    add_row(f, "storage", T0 + 2 * HOUR, 300, 1);
    add_row(f, "storage", T0 + 2 * HOUR, 200, 1); /* a later reading of the same hour replaces it */
    add_row(f, "storage", T0 + DAY + 5 * HOUR, 50, 1);
    rollup(f, T0 + DAY + 6 * HOUR);
    store_usage_row rows[8];
    assert_int_equal(rows_of(f, "api_call", "daily", rows), 2);
    assert_int_equal(rows[0].value, 13);
    assert_int_equal(rows[0].peak, 7);
    assert_int_equal(rows[0].min, 1);
    assert_int_equal(rows[0].success_count, 13);
    assert_string_equal(rows[0].endpoints, "{\"GET /v1/data/:table\":13}");
    assert_int_equal(rows[1].value, 4);
    assert_int_equal(rows_of(f, "api_call", "monthly", rows), 1);
    assert_int_equal(rows[0].value, 17);
    assert_int_equal(rows[0].peak, 13);
    assert_int_equal(rows[0].min, 4);
    assert_int_equal(rows[0].period_start, T0);
    assert_string_equal(rows[0].endpoints, "{\"GET /v1/data/:table\":17}");
    assert_int_equal(rows_of(f, "storage", "daily", rows), 2);
    assert_int_equal(rows[0].value, 200); /* the day's last reading */
    assert_int_equal(rows[0].peak, 300);
    assert_int_equal(rows[0].min, 100);
    assert_int_equal(rows_of(f, "storage", "monthly", rows), 1);
    assert_int_equal(rows[0].value, 50);
    assert_int_equal(rows[0].peak, 300);
    assert_int_equal(used(f, "storage", T0, T0 + 31 * DAY), 50);
    assert_int_equal(used(f, "storage", T0, T0 + DAY), 200);

    /* more of day 2 after the roll-up: recomputed, not added twice */
    add_row(f, "api_call", T0 + DAY + 2 * HOUR, 6, 0);
    rollup(f, T0 + DAY + 7 * HOUR);
    assert_int_equal(rows_of(f, "api_call", "daily", rows), 2);
    assert_int_equal(rows[1].value, 10);
    assert_int_equal(rows_of(f, "api_call", "monthly", rows), 1);
    assert_int_equal(rows[0].value, 23);
}

/* A month that does not start on a multiple of 31 days: February's monthly bucket. */
static void test_rollup_month_bucket(void **state)
{
    fixture *f = need(state);
    int64_t feb = T0 + 31 * DAY, mar = feb + 28 * DAY;
    add_row(f, "api_call", feb + 27 * DAY + HOUR, 2, 0);
    add_row(f, "api_call", mar + HOUR, 3, 0);
    rollup(f, mar + 2 * HOUR);
    store_usage_row rows[8];
    assert_int_equal(rows_of(f, "api_call", "monthly", rows), 2);
    assert_int_equal(rows[0].period_start, feb);
    assert_int_equal(rows[0].value, 2);
    assert_int_equal(rows[1].period_start, mar);
    assert_int_equal(rows[1].value, 3);
}

static void test_retention_and_sums(void **state)
{
    fixture *f = need(state);
    for (int d = 0; d < 10; d++) add_row(f, "api_call", T0 + d * DAY + HOUR, d + 1, 0); /* 55 in January */
    rollup(f, T0 + 9 * DAY + 2 * HOUR);
    assert_int_equal(used(f, "api_call", T0, T0 + 31 * DAY), 55);
    /* day 17: hourly rows of days before day 10 are purged (whole days older than 7 days) */
    rollup(f, T0 + 17 * DAY);
    store_usage_row *rows = calloc(64, sizeof *rows);
    size_t n = rows_of(f, "api_call", "hourly", rows);
    assert_int_equal(n, 0);
    assert_int_equal(rows_of(f, "api_call", "daily", rows), 10);
    assert_int_equal(used(f, "api_call", T0, T0 + 31 * DAY), 55); /* from the daily rows now */
    assert_int_equal(used(f, "api_call", T0 + 2 * DAY, T0 + 4 * DAY), 3 + 4);
    add_row(f, "api_call", T0 + 17 * DAY + HOUR, 100, 0); /* today's hourly rows are added to closed days */
    assert_int_equal(used(f, "api_call", T0, T0 + 31 * DAY), 155);
    /* ~4 months later: January's daily rows are gone (whole months older than 90 days), its monthly stays */
    rollup(f, T0 + 130 * DAY);
    assert_int_equal(rows_of(f, "api_call", "daily", rows), 0);
    assert_int_equal(rows_of(f, "api_call", "monthly", rows), 1);
    assert_int_equal(rows[0].value, 155);
    /* 25 months later: the monthly row too */
    rollup(f, T0 + 25 * 31 * DAY);
    assert_int_equal(rows_of(f, "api_call", "monthly", rows), 0);
    free(rows);
}

/* Rows of an organization that is gone are dropped by the first roll-up of a day; old MAU sets too. */
static void test_rollup_drops_orphans(void **state)
{
    fixture *f = need(state);
    bs_err err = {0};
    store_usage_delta d = make_delta(ENV, "api_call", T0, 4, 0);
    snprintf(d.organization_id, sizeof d.organization_id, "org_deleted");
    assert_int_equal(OPS.usage_add(f->d, &d, 1, T0, &err), 0);
    const char *users[] = {"usr_1"};
    store_usage_delta m = make_delta(ENV, "mau", T0, 0, 0);
    m.users = users;
    m.nusers = 1;
    m.month_start = T0;
    assert_int_equal(OPS.usage_add(f->d, &m, 1, T0, &err), 0);
    rollup(f, T0 + 62 * DAY); /* March: January's MAU set is gone */
    int known = -1;
    assert_int_equal(OPS.usage_mau_known(f->d, ENV, T0, "usr_1", &known, &err), 0);
    assert_int_equal(known, 0);
    PGresult *r = pg_exec1(f->d->pool, "count", "SELECT count(*) FROM usage WHERE organization_id = 'org_deleted'", 0, NULL, &err);
    assert_non_null(r);
    assert_int_equal(pg_i64(r, 0, 0), 0);
    PQclear(r);
}

static void test_usage_envs(void **state)
{
    fixture *f = need(state);
    bs_err err = {0};
    store_usage_env rows[4];
    size_t n = 0;
    assert_int_equal(OPS.usage_envs(f->d, rows, 4, &n, &err), 0);
    assert_int_equal(n, 2); /* the one being deleted is left out */
    assert_string_equal(rows[0].organization_id, ORG);
    assert_string_equal(rows[0].project_id, PROJECT);
    assert_string_equal(rows[0].environment_id, ENV);
    assert_string_equal(rows[0].environment, "dev");
    assert_string_equal(rows[0].status, "ready");
    assert_string_equal(rows[1].environment, "prod");
    assert_int_equal(OPS.usage_envs(f->d, rows, 1, &n, &err), 0);
    assert_int_equal(n, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_alerts_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deliveries_due_and_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_add_and_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_mau_once_per_month, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_endpoints_repeated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_add_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollup_arithmetic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollup_month_bucket, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_and_sums, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollup_drops_orphans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_envs, setup, teardown),
    };
    return cmocka_run_group_tests_name("control_pg_team", tests, NULL, NULL);
}
