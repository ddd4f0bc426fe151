/* Unit tests of the users store (store/users.h) on the SQLite environment data store: the shared behaviour
 * suite (users_store_cases.h, also run on PostgreSQL by test_users_store_pg.c) on a fresh data directory
 * per test (env_store_fixture.h), its environments on a shared cluster's file. */
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
        USERS_STORE_CASES(es_setup_sqlite, es_teardown),
    };
    return cmocka_run_group_tests_name("users_store", tests, NULL, NULL);
}
