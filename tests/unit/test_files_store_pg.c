/* Unit tests of the files store (store/files.h) on the PostgreSQL environment data store: the shared
 * behaviour suite (files_store_cases.h, also run on SQLite by test_files_store.c) through
 * store_docs_open on a database of its own per test (env_store_fixture.h), its environments schemas of a
 * shared cluster. Needs BASALT_TEST_PG_URL (tests/pg/with-pg.sh); every test skips without it. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "files_store_cases.h"

int main(void)
{
    const struct CMUnitTest tests[] = {
        FILES_STORE_CASES(es_setup_pg, es_teardown),
    };
    return cmocka_run_group_tests_name("files_store_pg", tests, NULL, NULL);
}
