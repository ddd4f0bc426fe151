/* Unit tests of the users store (store/users.h) on the PostgreSQL environment data store: the shared
 * behaviour suite (users_store_cases.h, also run on SQLite by test_users_store.c) through
 * store_docs_open on a database of its own per test (env_store_fixture.h), its environments schemas of a
 * shared cluster; the two-thread cases race on the server's row locks. What only this engine has: the
 * users and files parts of an environment schema (users_pg.c, files_pg.c) recorded at their versions,
 * their tables in the slot's schema and nowhere else. Needs BASALT_TEST_PG_URL (tests/pg/with-pg.sh);
 * every test skips without it. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "users_store_cases.h"

/* The one-value answer of sql on the fixture's database, into out. */
static void pg_answer(const es_fixture *f, const char *sql, char *out, size_t cap)
{
    char url[640];
    assert_int_equal(es_pg_url(f, url, sizeof url), 0);
    PGconn *c = PQconnectdb(url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, sql);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 1);
    snprintf(out, cap, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(c);
}

static void test_schema_parts(void **state)
{
    es_fixture *f = es_fix(state);
    store_user u;
    int found = 0;
    bs_err err = {0};
    assert_int_equal(store_users_by_id(f->docs, ES_ENV, "usr_1", &u, &found, &err), 0); /* env_a: schema s1 */
    char got[512];
    pg_answer(f, "SELECT string_agg(part || '=' || version, ',' ORDER BY part) FROM s1.basalt_schema_parts"
                 " WHERE part IN ('users', 'files')", got, sizeof got);
    assert_string_equal(got, "files=1,users=1");
    pg_answer(f, "SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables"
                 " WHERE table_schema = 's1' AND table_name IN ('accounts', 'audit', 'files', 'invitations', 'limits',"
                 " 'objects', 'sessions', 'tokens', 'upload_parts', 'uploads', 'used_refresh', 'users')", got, sizeof got);
    assert_string_equal(got, "accounts,audit,files,invitations,limits,objects,sessions,tokens,upload_parts,uploads,"
                             "used_refresh,users");
    pg_answer(f, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'users'",
              got, sizeof got);
    assert_string_equal(got, "0"); /* the slot's schema only */
    /* ids, keys and hashes compare and sort as bytes, as SQLite's BINARY */
    pg_answer(f, "SELECT string_agg(DISTINCT collation_name, ',') FROM information_schema.columns WHERE table_schema = 's1'"
                 " AND table_name IN ('users', 'sessions', 'objects') AND data_type = 'text'", got, sizeof got);
    assert_string_equal(got, "C");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        USERS_STORE_CASES(es_setup_pg, es_teardown),
        cmocka_unit_test_setup_teardown(test_schema_parts, es_setup_pg, es_teardown),
    };
    return cmocka_run_group_tests_name("users_store_pg", tests, NULL, NULL);
}
