/* Unit tests of the control store (store/control.h) on its PostgreSQL driver: the shared behaviour suite
 * (control_store_cases.h, also run on SQLite by test_control_store.c) through store_control_open(url) on
 * a fresh schema per test (pg_fixture.h), plus what only the PostgreSQL driver has to show: the NULL
 * columns an update stores. Needs BASALT_TEST_PG_URL
 * (tests/pg/with-pg.sh); every test skips without it. The driver's base (migrations, conflicts,
 * truncation, an unreachable server) is test_control_pg.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_store_cases.h"
#include "pg_fixture.h"
#include "store/control.h"
#include "store/postgres/control_pg.h"

/* The fixture's raw_exec: sql through a connection of its own (pg_fixture.h). */
static int pg_raw_exec(const cs_fixture *f, const char *sql)
{
    return pg_fixture_exec(f->location, sql);
}

static int setup(void **state)
{
    cs_fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    f->engine = CS_POSTGRES;
    f->lookups_per_thread = 200;
    f->raw_exec = pg_raw_exec;
    f->ops = &store_pg_control_ops; /* filled by the first open (control_pg_parts.h) */
    *state = f;
    int rc = pg_fixture_url(f->location, sizeof f->location);
    if (rc == 0) return 0; /* no server: the tests skip */
    if (rc < 0) return -1;
    bs_err err = {0};
    f->store = store_control_open(f->location, &err);
    f->target = f->location; /* the PostgreSQL driver's open takes the whole URL */
    return f->store ? 0 : -1;
}

static int teardown(void **state)
{
    cs_fixture *f = *state;
    store_control_free(f->store);
    free(f);
    return 0;
}

/* ---- PostgreSQL only ---- */


/* 0 when the one-row, one-column query sql yields a nonzero count (it fails, dividing by zero, otherwise). */
static int pg_holds(const char *url, const char *count_sql)
{
    char q[1024];
    snprintf(q, sizeof q, "SELECT 1 / (%s)::int", count_sql);
    return pg_fixture_exec(url, q);
}

/* What an organization update stores: "" e-mail and -1 quotas are NULL columns, not "" and -1 (the
 * shared suite's test_org_plane checks what they read back as). */
static void test_org_update_stores_null(void **state)
{
    cs_fixture *f = cs_fix(state);
    store_org o;
    cs_renamed_org(f->store, &o);
    int found = 0;
    bs_err err = {0};
    assert_int_equal(store_control_org_update(f->store, &o, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(pg_holds(f->location, "SELECT count(*) FROM organizations WHERE id = 'org_1' AND notification_email IS NULL"
                                           " AND storage_quota IS NULL AND api_call_quota = 5000"),
                     0);
    assert_int_equal(pg_holds(f->location, "SELECT count(*) FROM organizations WHERE id = 'org_none'"), -1); /* the check can fail */
}


int main(void)
{
    const struct CMUnitTest tests[] = {
        CONTROL_STORE_CASES(setup, teardown),
        cmocka_unit_test_setup_teardown(test_org_update_stores_null, setup, teardown),
    };
    return cmocka_run_group_tests_name("control_store_pg", tests, NULL, NULL);
}
