/* Unit tests of the per-connection prepared statements (store/postgres/pg_stmts.c) against a real
 * PostgreSQL: a statement is prepared once and then reused; the least recently used one makes room past
 * PG_STMTS_MAX and is deallocated on the server; a reset connection starts empty; a table whose columns
 * change under a statement is planned afresh (outside a transaction at once, inside one after the
 * transaction); a failed transaction runs statements unprepared (they fail as before) and the cache serves
 * again after ROLLBACK; a statement whose first run failed (unique violation) stays prepared; multi-statement
 * strings and utility statements run unprepared; pg_begin's BEGIN travels with the next statement; a
 * statement run after lead statements (pg_run_led) is prepared and reused the same way. Needs BASALT_TEST_PG_URL (tests/pg/with-pg.sh); skipped
 * without it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pg_fixture.h"
#include "store/postgres/pg.h"

typedef struct fixture {
    pg_pool *pool;
    PGconn *c;
} fixture;

static int setup(void **state)
{
    static fixture f;
    char url[512];
    int rc = pg_fixture_url(url, sizeof url);
    if (rc == 0) skip();
    assert_int_equal(rc, 1);
    bs_err err = {0};
    f.pool = pg_pool_new_sized(url, NULL, 0, 1, &err);
    assert_non_null(f.pool);
    f.c = pg_borrow(f.pool, &err);
    assert_non_null(f.c);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pg_return(f->pool, f->c);
    pg_pool_free(f->pool);
    return 0;
}

static pg_stmts_stats stats(PGconn *c)
{
    pg_stmts_stats s;
    pg_stmts_stats_get(c, &s);
    return s;
}

/* Runs sql through the cache; its status. */
static ExecStatusType run(PGconn *c, const char *sql, int n, const char *const *params)
{
    PGresult *r = pg_run(c, sql, n, params);
    ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    PQclear(r);
    return s;
}

/* The SQLSTATE of running sql through the cache ("" when it succeeded). */
static void run_state(PGconn *c, const char *sql, char state[6])
{
    PGresult *r = pg_run(c, sql, 0, NULL);
    const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    snprintf(state, 6, "%s", s ? s : "");
    PQclear(r);
}

/* Runs sql unprepared (simple protocol): what the test sets up or asks the server. */
static int64_t plain(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType s = PQresultStatus(r);
    assert_true(s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK);
    int64_t v = s == PGRES_TUPLES_OK && PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    return v;
}

static int64_t server_statements(PGconn *c) { return plain(c, "SELECT count(*) FROM pg_prepared_statements"); }

static void test_prepared_once_then_reused(void **state)
{
    fixture *f = *state;
    pg_stmts_stats before = stats(f->c);
    const char *params[] = {"41"};
    PGresult *r = pg_run(f->c, "SELECT $1::int + 1", 1, params);
    assert_non_null(r);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(r, 0, 0), "42");
    PQclear(r);
    const char *again[] = {"1"};
    r = pg_run(f->c, "SELECT $1::int + 1", 1, again);
    assert_string_equal(PQgetvalue(r, 0, 0), "2");
    PQclear(r);
    pg_stmts_stats after = stats(f->c);
    assert_int_equal(after.prepared - before.prepared, 1);
    assert_int_equal(after.reused - before.reused, 1);
    assert_int_equal(server_statements(f->c), after.live);
    /* BEGIN, several statements in one string: unprepared */
    assert_int_equal(run(f->c, "BEGIN", 0, NULL), PGRES_COMMAND_OK);
    assert_int_equal(run(f->c, "COMMIT", 0, NULL), PGRES_COMMAND_OK);
    assert_int_equal(run(f->c, "SELECT 1; SELECT 2", 0, NULL), PGRES_FATAL_ERROR); /* as PQexecParams answers */
    assert_int_equal(stats(f->c).unprepared - after.unprepared, 3);
    assert_int_equal(stats(f->c).prepared, after.prepared);
}

static void test_least_recently_used_makes_room(void **state)
{
    fixture *f = *state;
    plain(f->c, "DEALLOCATE ALL");
    PQreset(f->c);
    assert_int_equal(stats(f->c).live, 0);
    char sql[64];
    for (int i = 0; i < PG_STMTS_MAX + 10; i++) {
        snprintf(sql, sizeof sql, "SELECT %d", i);
        assert_int_equal(run(f->c, sql, 0, NULL), PGRES_TUPLES_OK);
        if (i == 20) assert_int_equal(run(f->c, "SELECT 0", 0, NULL), PGRES_TUPLES_OK); /* 0 used again: 1..10 are older */
    }
    pg_stmts_stats s = stats(f->c);
    assert_int_equal(s.live, PG_STMTS_MAX);
    assert_int_equal(s.evicted, 10);
    assert_int_equal(run(f->c, "SELECT 0", 0, NULL), PGRES_TUPLES_OK); /* kept: used after 1..10 */
    assert_int_equal(stats(f->c).reused - s.reused, 1);
    /* that statement ran outside a transaction: the server let go of the ten too */
    assert_int_equal(server_statements(f->c), PG_STMTS_MAX);
    assert_int_equal(run(f->c, "SELECT 1", 0, NULL), PGRES_TUPLES_OK); /* evicted: prepared again */
    assert_int_equal(stats(f->c).prepared - s.prepared, 1);
}

static void test_reset_empties(void **state)
{
    fixture *f = *state;
    assert_int_equal(run(f->c, "SELECT 'reset'", 0, NULL), PGRES_TUPLES_OK);
    assert_true(stats(f->c).live > 0);
    uint64_t resets = stats(f->c).resets;
    PQreset(f->c);
    assert_int_equal(PQstatus(f->c), CONNECTION_OK);
    assert_int_equal(stats(f->c).live, 0);
    assert_int_equal(stats(f->c).resets, resets + 1);
    uint64_t prepared = stats(f->c).prepared;
    assert_int_equal(run(f->c, "SELECT 'reset'", 0, NULL), PGRES_TUPLES_OK);
    assert_int_equal(stats(f->c).prepared, prepared + 1);
}

static void test_table_changes_under_a_statement(void **state)
{
    fixture *f = *state;
    char st[6];
    plain(f->c, "CREATE TABLE ddl_t (a INTEGER, b INTEGER)");
    plain(f->c, "INSERT INTO ddl_t VALUES (1, 2)");
    PGresult *r = pg_run(f->c, "SELECT * FROM ddl_t", 0, NULL);
    assert_int_equal(PQnfields(r), 2);
    PQclear(r);
    plain(f->c, "ALTER TABLE ddl_t ADD COLUMN c INTEGER");
    uint64_t stale = stats(f->c).stale;
    r = pg_run(f->c, "SELECT * FROM ddl_t", 0, NULL); /* planned afresh and run once more */
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQnfields(r), 3);
    PQclear(r);
    assert_int_equal(stats(f->c).stale, stale + 1);
    /* inside a transaction the error is the caller's; after it the statement serves again */
    plain(f->c, "BEGIN");
    plain(f->c, "ALTER TABLE ddl_t DROP COLUMN c");
    run_state(f->c, "SELECT * FROM ddl_t", st);
    assert_string_equal(st, "0A000");
    plain(f->c, "ROLLBACK");
    r = pg_run(f->c, "SELECT * FROM ddl_t", 0, NULL);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQnfields(r), 3);
    PQclear(r);
    /* a statement naming its columns survives a change of the others; a dropped table is 42P01 */
    assert_int_equal(run(f->c, "SELECT a FROM ddl_t", 0, NULL), PGRES_TUPLES_OK);
    plain(f->c, "ALTER TABLE ddl_t DROP COLUMN b");
    assert_int_equal(run(f->c, "SELECT a FROM ddl_t", 0, NULL), PGRES_TUPLES_OK);
    plain(f->c, "DROP TABLE ddl_t");
    run_state(f->c, "SELECT a FROM ddl_t", st);
    assert_string_equal(st, "42P01");
    plain(f->c, "CREATE TABLE ddl_t (a INTEGER)");
    assert_int_equal(run(f->c, "SELECT a FROM ddl_t", 0, NULL), PGRES_TUPLES_OK);
    plain(f->c, "DROP TABLE ddl_t");
}

static void test_failed_transaction(void **state)
{
    fixture *f = *state;
    char st[6];
    plain(f->c, "CREATE TABLE tx_t (id TEXT PRIMARY KEY)");
    const char *one[] = {"one"};
    /* first run fails (unique violation): the statement is prepared all the same, and reused */
    plain(f->c, "INSERT INTO tx_t VALUES ('one')");
    uint64_t prepared = stats(f->c).prepared;
    PGresult *r = pg_run(f->c, "INSERT INTO tx_t (id) VALUES ($1)", 1, one);
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "23505");
    PQclear(r);
    assert_int_equal(stats(f->c).prepared, prepared + 1);
    const char *two[] = {"two"};
    uint64_t reused = stats(f->c).reused;
    assert_int_equal(run(f->c, "INSERT INTO tx_t (id) VALUES ($1)", 1, two), PGRES_COMMAND_OK);
    assert_int_equal(stats(f->c).reused, reused + 1);
    /* a statement prepared inside a transaction that rolls back stays prepared */
    plain(f->c, "BEGIN");
    assert_int_equal(run(f->c, "SELECT count(*) FROM tx_t", 0, NULL), PGRES_TUPLES_OK);
    run_state(f->c, "SELECT 1 / 0", st);
    assert_string_equal(st, "22012");
    assert_int_equal(PQtransactionStatus(f->c), PQTRANS_INERROR);
    uint64_t unprepared = stats(f->c).unprepared;
    run_state(f->c, "SELECT count(*) FROM tx_t", st); /* unprepared, and fails as it would */
    assert_string_equal(st, "25P02");
    assert_int_equal(stats(f->c).unprepared, unprepared + 1);
    plain(f->c, "ROLLBACK");
    reused = stats(f->c).reused;
    r = pg_run(f->c, "SELECT count(*) FROM tx_t", 0, NULL);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(r, 0, 0), "2");
    PQclear(r);
    assert_int_equal(stats(f->c).reused, reused + 1);
    plain(f->c, "DROP TABLE tx_t");
}

/* pg_begin sends nothing: BEGIN goes with the next statement (prepared or not, new or cached), one round
 * trip; a transaction in which nothing ran ends without one. */
static void test_begin_deferred(void **state)
{
    fixture *f = *state;
    bs_err err = {0};
    char st[6];
    plain(f->c, "CREATE TABLE b_t (id TEXT PRIMARY KEY)");
    uint64_t folded = stats(f->c).begins_folded;
    assert_int_equal(pg_begin(f->pool, f->c, &err), 0);
    assert_int_equal(PQtransactionStatus(f->c), PQTRANS_IDLE); /* nothing sent yet */
    assert_int_equal(pg_commit(f->pool, f->c, &err), 0);        /* nothing ran: nothing to commit */
    assert_int_equal(PQtransactionStatus(f->c), PQTRANS_IDLE);
    for (int round = 0; round < 2; round++) { /* the INSERT new, then cached */
        const char *id[] = {"x"};
        assert_int_equal(pg_begin(f->pool, f->c, &err), 0);
        assert_int_equal(pg_command(f->pool, f->c, "insert", "INSERT INTO b_t (id) VALUES ($1)", 1, id, NULL, &err), 0);
        assert_int_equal(PQtransactionStatus(f->c), PQTRANS_INTRANS);
        PGresult *r = pg_exec(f->pool, f->c, "count", "SELECT count(*) FROM b_t", 0, NULL, &err);
        assert_string_equal(PQgetvalue(r, 0, 0), "1");
        PQclear(r);
        pg_rollback(f->c);
        assert_int_equal(plain(f->c, "SELECT count(*) FROM b_t"), 0); /* it was one transaction */
    }
    assert_int_equal(stats(f->c).begins_folded, folded + 2);
    /* unprepared statements, and a first statement the server refuses, open the transaction too */
    assert_int_equal(pg_begin(f->pool, f->c, &err), 0);
    assert_int_equal(run(f->c, "SET LOCAL statement_timeout = 1000", 0, NULL), PGRES_COMMAND_OK);
    assert_int_equal(PQtransactionStatus(f->c), PQTRANS_INTRANS);
    pg_rollback(f->c);
    assert_int_equal(pg_begin(f->pool, f->c, &err), 0);
    run_state(f->c, "SELECT id FROM no_such_table", st);
    assert_string_equal(st, "42P01");
    assert_int_equal(PQtransactionStatus(f->c), PQTRANS_INERROR);
    pg_rollback(f->c);
    assert_int_equal(PQtransactionStatus(f->c), PQTRANS_IDLE);
    /* a commit that fails is the caller's -1 (a deferred unique check) */
    plain(f->c, "CREATE TABLE d_t (id TEXT, CONSTRAINT d_t_u UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)");
    const char *id[] = {"y"};
    assert_int_equal(pg_begin(f->pool, f->c, &err), 0);
    assert_int_equal(pg_command(f->pool, f->c, "insert", "INSERT INTO d_t (id) VALUES ($1)", 1, id, NULL, &err), 0);
    assert_int_equal(pg_command(f->pool, f->c, "insert", "INSERT INTO d_t (id) VALUES ($1)", 1, id, NULL, &err), 0);
    assert_int_equal(pg_commit(f->pool, f->c, &err), -1);
    assert_int_equal(err.status, 409);
    assert_int_equal(PQtransactionStatus(f->c), PQTRANS_IDLE);
    plain(f->c, "DROP TABLE b_t, d_t");
}

/* pg_exec (the drivers' path) goes through the cache too. */
static void test_pg_exec_prepares(void **state)
{
    fixture *f = *state;
    bs_err err = {0};
    uint64_t prepared = stats(f->c).prepared, reused = stats(f->c).reused;
    for (int i = 0; i < 3; i++) {
        PGresult *r = pg_exec(f->pool, f->c, "test", "SELECT 'pg_exec'", 0, NULL, &err);
        assert_non_null(r);
        PQclear(r);
    }
    assert_int_equal(stats(f->c).prepared, prepared + 1);
    assert_int_equal(stats(f->c).reused, reused + 2);
}

/* pg_run_led (a list's page): the lead statements open the transaction and set it up, then the statement,
 * prepared once and reused, in one round trip; a failing lead statement is the answer; a statement gone
 * stale under the lead is prepared afresh and the whole run done once more. */
static void test_led(void **state)
{
    fixture *f = *state;
    static const char *const lead[] = {"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "SET LOCAL enable_seqscan = off"};
    plain(f->c, "CREATE TABLE led_t (a INTEGER)");
    plain(f->c, "INSERT INTO led_t VALUES (7)");
    uint64_t prepared = stats(f->c).prepared, reused = stats(f->c).reused;
    const char *seven[] = {"7"};
    for (int round = 0; round < 3; round++) {
        PGresult *r = pg_run_led(f->c, lead, 2, "SELECT a, current_setting('enable_seqscan') FROM led_t WHERE a = $1::int",
                                 1, seven);
        assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
        assert_int_equal(PQntuples(r), 1);
        assert_string_equal(PQgetvalue(r, 0, 1), "off"); /* the lead ran first, in the same transaction */
        PQclear(r);
        assert_int_equal(PQtransactionStatus(f->c), PQTRANS_INTRANS); /* left open for the caller */
        assert_int_equal(plain(f->c, "SELECT count(*) FROM pg_prepared_statements"), (int64_t)stats(f->c).live);
        plain(f->c, "COMMIT");
    }
    assert_int_equal(stats(f->c).prepared, prepared + 1);
    assert_int_equal(stats(f->c).reused, reused + 2);
    /* a lead statement that fails is the answer, the statement does not run */
    static const char *const bad[] = {"BEGIN", "SET LOCAL no_such_setting_at_all = 1"};
    PGresult *r = pg_run_led(f->c, bad, 2, "SELECT a FROM led_t WHERE a = $1::int", 1, seven);
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "42704");
    PQclear(r);
    assert_int_equal(PQtransactionStatus(f->c), PQTRANS_INERROR);
    plain(f->c, "ROLLBACK");
    /* the table's columns change under the statement: planned afresh, run once more */
    plain(f->c, "ALTER TABLE led_t ADD COLUMN b INTEGER");
    uint64_t stale = stats(f->c).stale;
    r = pg_run_led(f->c, lead, 2, "SELECT * FROM led_t", 0, NULL);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
    plain(f->c, "COMMIT");
    plain(f->c, "ALTER TABLE led_t ADD COLUMN c INTEGER");
    r = pg_run_led(f->c, lead, 2, "SELECT * FROM led_t", 0, NULL);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQnfields(r), 3);
    PQclear(r);
    assert_int_equal(stats(f->c).stale, stale + 1);
    assert_int_equal(PQtransactionStatus(f->c), PQTRANS_INTRANS);
    plain(f->c, "COMMIT");
    plain(f->c, "DROP TABLE led_t");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_prepared_once_then_reused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_least_recently_used_makes_room, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_empties, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_changes_under_a_statement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_begin_deferred, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_exec_prepares, setup, teardown),
        cmocka_unit_test_setup_teardown(test_led, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
