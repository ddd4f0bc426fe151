/* Unit tests of store/sqlite/sq.h, the SQLite toolkit of the drivers: column copies that fit, that fit
 * exactly, and that do not (they FAIL with an error and leave the buffer empty: never a truncated
 * value), SQL NULL as "", duplicates of texts with embedded bytes, text binds (NULL as SQL NULL, fixed
 * buffers without a NUL), one-row selects (found, not found, a row too long), row lists (max, a row too
 * long fails the whole call), pages with LIMIT/OFFSET and one-integer queries. In-memory databases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sq.h"

static int test_fail(sqlite3 *db, const char *what, bs_err *err)
{
    (void)db;
    return bs_err_set(err, 500, "test/sqlite", "%s failed", what);
}

static sqlite3 *db_new(void)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);"
                                      "INSERT INTO t VALUES (1, 'abc'), (2, NULL), (3, 'abcdefgh'), (4, 'x');",
                                  NULL, NULL, NULL), SQLITE_OK);
    return db;
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    return st;
}

/* Steps st to the row with id (one parameter). */
static sqlite3_stmt *row(sqlite3 *db, int id)
{
    sqlite3_stmt *st = prepare(db, "SELECT name, id FROM t WHERE id = ?");
    sqlite3_bind_int(st, 1, id);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    return st;
}

static void test_col_copy(void **state)
{
    (void)state;
    sqlite3 *db = db_new();
    char buf[4];
    bs_err err;
    bs_err_clear(&err);
    sqlite3_stmt *st = row(db, 1); /* "abc": exactly fits 4 bytes */
    assert_int_equal(sq_col_copy(st, 0, buf, sizeof buf, &err), 0);
    assert_string_equal(buf, "abc");
    sqlite3_finalize(st);

    st = row(db, 2); /* NULL reads as "" */
    memset(buf, 'z', sizeof buf);
    assert_int_equal(SQ_COL_FIELD(st, 0, buf, &err), 0);
    assert_string_equal(buf, "");
    sqlite3_finalize(st);

    st = row(db, 3); /* "abcdefgh" does not fit: fails, no truncated value */
    memset(buf, 'z', sizeof buf);
    assert_int_equal(sq_col_copy(st, 0, buf, sizeof buf, &err), -1);
    assert_int_equal(err.status, 500);
    assert_string_equal(buf, "");
    assert_int_equal(sq_col_copy(st, 0, buf, sizeof buf, NULL), -1); /* err is optional */
    char big[9];
    assert_int_equal(SQ_COL_FIELD(st, 0, big, NULL), 0);
    assert_string_equal(big, "abcdefgh");
    char tight[8]; /* 8 bytes of text need 9 */
    assert_int_equal(SQ_COL_FIELD(st, 0, tight, NULL), -1);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_col_dup(void **state)
{
    (void)state;
    sqlite3 *db = db_new();
    sqlite3_stmt *st = prepare(db, "SELECT 'a' || char(0) || 'b', NULL");
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char *copy = sq_col_dup(st, 0);
    assert_non_null(copy);
    assert_memory_equal(copy, "a\0b", 4);
    free(copy);
    assert_null(sq_col_dup(st, 1));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_binds(void **state)
{
    (void)state;
    sqlite3 *db = db_new();
    sqlite3_stmt *st = prepare(db, "SELECT ?1 IS NULL, ?2, ?3 IS NULL, ?4, ?5 IS NULL");
    const char *texts[] = {NULL, "two"};
    assert_int_equal(sq_bind_texts(st, 1, texts, 2), SQLITE_OK);
    assert_int_equal(sq_bind_text_or_null(st, 3, ""), SQLITE_OK);
    char fixed[3] = {'a', 'b', 'c'}; /* no NUL: reads no further than 3 bytes */
    assert_int_equal(SQ_BIND_FIELD(st, 4, fixed), SQLITE_OK);
    assert_int_equal(sq_bind_text_or_null(st, 5, "x"), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    assert_string_equal((const char *)sqlite3_column_text(st, 1), "two");
    assert_int_equal(sqlite3_column_int(st, 2), 1);
    assert_string_equal((const char *)sqlite3_column_text(st, 3), "abc");
    assert_int_equal(sqlite3_column_int(st, 4), 0);
    assert_int_not_equal(sq_bind_texts(st, 9, texts, 1), SQLITE_OK); /* out of range: the bind's code */
    sqlite3_finalize(st);
    sqlite3_close(db);
}

typedef struct small_row {
    char name[4];
    int64_t id;
} small_row;

static int small_read(sqlite3_stmt *st, void *out)
{
    small_row *r = out;
    r->id = sqlite3_column_int64(st, 1);
    return SQ_COL_FIELD(st, 0, r->name, NULL);
}

static void test_select_one(void **state)
{
    (void)state;
    sqlite3 *db = db_new();
    sqlite3_stmt *st = prepare(db, "SELECT name, id FROM t WHERE id = ?");
    small_row r;
    int found = -1;
    bs_err err;
    bs_err_clear(&err);
    sqlite3_bind_int(st, 1, 1);
    assert_int_equal(sq_select_one(st, test_fail, small_read, &r, sizeof r, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(r.name, "abc");
    assert_int_equal(r.id, 1);
    sqlite3_reset(st);
    sqlite3_bind_int(st, 1, 99);
    assert_int_equal(sq_select_one(st, test_fail, small_read, &r, sizeof r, &found, &err), 0);
    assert_int_equal(found, 0);
    sqlite3_reset(st);
    sqlite3_bind_int(st, 1, 3); /* too long for name[4]: fails, out zeroed, not found */
    assert_int_equal(sq_select_one(st, test_fail, small_read, &r, sizeof r, &found, &err), -1);
    assert_int_equal(found, 0);
    assert_int_equal(err.status, 500);
    assert_int_equal(r.id, 0);
    assert_string_equal(r.name, "");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_select_rows_and_page(void **state)
{
    (void)state;
    sqlite3 *db = db_new();
    small_row rows[4];
    size_t n = 99;
    bs_err err;
    sqlite3_stmt *st = prepare(db, "SELECT name, id FROM t WHERE id <> 3 ORDER BY id LIMIT ?1 OFFSET ?2");
    assert_int_equal(sq_bind_page(st, 1, 2, 1), SQLITE_OK);
    assert_int_equal(sq_select_rows(st, test_fail, small_read, rows, sizeof rows[0], 4, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].id, 2);
    assert_string_equal(rows[0].name, "");
    assert_int_equal(rows[1].id, 4);
    sqlite3_reset(st);
    assert_int_equal(sq_bind_page(st, 1, SIZE_MAX, 0), SQLITE_OK); /* no limit */
    assert_int_equal(sq_select_rows(st, test_fail, small_read, rows, sizeof rows[0], 2, &n, &err), 0);
    assert_int_equal(n, 2); /* max stops it */
    sqlite3_finalize(st);

    st = prepare(db, "SELECT name, id FROM t ORDER BY id"); /* row 3 does not fit: the whole call fails */
    assert_int_equal(sq_select_rows(st, test_fail, small_read, rows, sizeof rows[0], 4, &n, &err), -1);
    assert_int_equal(n, 0);
    sqlite3_finalize(st);

    int64_t total = -1;
    st = prepare(db, "SELECT count(*) FROM t WHERE id > ?");
    sqlite3_bind_int(st, 1, 1);
    assert_int_equal(sq_select_int64(st, test_fail, &total, &err), 0);
    assert_int_equal(total, 3);
    sqlite3_finalize(st);
    st = prepare(db, "SELECT id FROM t WHERE id > 100"); /* no row: an error for a one-integer query */
    assert_int_equal(sq_select_int64(st, test_fail, &total, &err), -1);
    sqlite3_finalize(st);
    st = prepare(db, "SELECT abs(-9223372036854775807 - 1)"); /* a step error goes through fail */
    bs_err_clear(&err);
    assert_int_equal(sq_select_int64(st, test_fail, &total, &err), -1);
    assert_string_equal(err.code, "test/sqlite");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_col_copy),
        cmocka_unit_test(test_col_dup),
        cmocka_unit_test(test_binds),
        cmocka_unit_test(test_select_one),
        cmocka_unit_test(test_select_rows_and_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
