/* Unit tests of the PostgreSQL control driver's base (store/postgres/control_pg.c, pg.c): the schema is
 * migrated once (a second open finds it at the same version, 2), ping and is_empty answer, unique violations
 * map to 409 common/conflict with the constraint's message, values longer than their buffer fail, and an
 * unreachable server is 503. Needs BASALT_TEST_PG_URL (tests/pg/with-pg.sh); skipped without it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pg_fixture.h"
#include "store/control.h"
#include "store/postgres/control_pg.h"
#include "store/postgres/control_pg_parts.h"

static int fresh(char *url, size_t cap)
{
    int rc = pg_fixture_url(url, cap);
    if (rc == 0) skip();
    assert_int_equal(rc, 1);
    return 0;
}

static void test_migrates_once(void **state)
{
    (void)state;
    char url[512];
    fresh(url, sizeof url);
    bs_err err = {0};
    void *d = pgc_driver_open(url, &err);
    assert_non_null(d);
    assert_int_equal(store_pg_control_ops.ping(d, &err), 0);
    int version = 0, empty = 0;
    assert_int_equal(store_pg_control_ops.version(d, &version, &err), 0);
    assert_int_equal(version, 5); /* v5: the jobs leases */
    assert_int_equal(store_pg_control_ops.is_empty(d, &empty, &err), 0);
    assert_int_equal(empty, 1);
    pgc_driver_free(d);
    d = pgc_driver_open(url, &err); /* again: nothing to do */
    assert_non_null(d);
    assert_int_equal(store_pg_control_ops.version(d, &version, &err), 0);
    assert_int_equal(version, 5); /* v5: the jobs leases */
    assert_int_equal(pg_fixture_exec(url, "SELECT count(*) FROM basalt_schema_version"), 0);
    pgc_driver_free(d);
}

static void test_conflicts_and_truncation(void **state)
{
    (void)state;
    char url[512];
    fresh(url, sizeof url);
    bs_err err = {0};
    pgc *d = pgc_driver_open(url, &err);
    assert_non_null(d);
    const char *ins = "INSERT INTO organizations (id, name, slug, created_at, updated_at) VALUES ($1, 'n', $2, 1, 1)";
    const char *a[] = {"org_a", "same"}, *b[] = {"org_b", "same"};
    assert_int_equal(pg_command1(d->pool, "insert", ins, 2, a, NULL, &err), 0);
    assert_int_equal(pg_command1(d->pool, "insert", ins, 2, b, NULL, &err), -1);
    assert_int_equal(err.status, 409);
    assert_string_equal(err.code, "common/conflict");
    assert_string_equal(err.message, "organization slug already taken");
    PGresult *r = pg_exec1(d->pool, "read", "SELECT slug FROM organizations WHERE id = $1", 1, a, &err);
    assert_non_null(r);
    char small[4], fits[5];
    assert_int_equal(pg_text(r, 0, 0, small, sizeof small, &err), -1); /* "same" needs 5 bytes */
    assert_string_equal(small, "");
    assert_int_equal(pg_text(r, 0, 0, fits, sizeof fits, &err), 0);
    assert_string_equal(fits, "same");
    PQclear(r);
    pgc_driver_free(d);
}

static void test_unreachable_is_503(void **state)
{
    (void)state;
    if (!getenv("BASALT_TEST_PG_URL")) skip();
    bs_err err = {0};
    assert_null(pgc_driver_open("postgresql://postgres@127.0.0.1:1/none?connect_timeout=2", &err));
    assert_int_equal(err.status, 503);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrates_once),
        cmocka_unit_test(test_conflicts_and_truncation),
        cmocka_unit_test(test_unreachable_is_503),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
