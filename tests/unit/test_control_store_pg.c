/* Unit tests of the control store (store/control.h) on its PostgreSQL driver: the shared behaviour suite
 * (control_store_cases.h, also run on SQLite by test_control_store.c) through store_control_open(url) on
 * a fresh schema per test (pg_fixture.h). Every case of the former PostgreSQL ports now runs there, on
 * both engines; what only this driver has (migrations, its conflict and truncation mapping, an
 * unreachable server) is test_control_pg.c. Needs BASALT_TEST_PG_URL (tests/pg/with-pg.sh); every test
 * skips without it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        CONTROL_STORE_CASES(setup, teardown),
    };
    return cmocka_run_group_tests_name("control_store_pg", tests, NULL, NULL);
}
