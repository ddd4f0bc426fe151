/* Unit tests of the users store (store/users.h) on the PostgreSQL environment data store: the shared
 * behaviour suite (users_store_cases.h, also run on SQLite by test_users_store.c) through
 * store_docs_open on a database of its own per test (env_store_fixture.h), its environments schemas of a
 * shared cluster; the two-thread cases race on the server's row locks. Needs BASALT_TEST_PG_URL
 * (tests/pg/with-pg.sh); every test skips without it. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "users_store_cases.h"

int main(void)
{
    const struct CMUnitTest tests[] = {
        USERS_STORE_CASES(es_setup_pg, es_teardown),
    };
    return cmocka_run_group_tests_name("users_store_pg", tests, NULL, NULL);
}
