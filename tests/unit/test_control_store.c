/* Unit tests of the control store (store/control.h) on its SQLite driver: the shared behaviour suite
 * (control_store_cases.h, also run on PostgreSQL by test_control_store_pg.c) on a fresh store in its own
 * mkdtemp directory per test, plus what only SQLite has: the file itself (WAL, the migrations table),
 * "sqlite:" locations and reopening a file. Built with AddressSanitizer by the test build, so the thread
 * tests also check that every per-thread connection is closed exactly once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control_store_cases.h"
#include "store/control.h"
#include "store/sqlite/control_sqlite.h"
#include "store/sqlite/migrations.h"

typedef struct sqlite_dir {
    char dir[64];
    char path[128];
} sqlite_dir;

static const char *file_of(const cs_fixture *f)
{
    return ((const sqlite_dir *)f->runner)->path;
}

/* Runs a one-value text query on the store's file through a separate connection. */
static void raw_query(const char *path, const char *sql, char *out, size_t cap)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* The fixture's raw_exec: sql through a connection of its own on the store's file. */
static int sqlite_raw_exec(const cs_fixture *f, const char *sql)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(file_of(f), &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK) sqlite3_busy_timeout(db, 5000);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

static int setup(void **state)
{
    cs_fixture *f = calloc(1, sizeof *f);
    sqlite_dir *d = calloc(1, sizeof *d);
    if (!f || !d) return -1;
    f->engine = CS_SQLITE;
    f->runner = d;
    f->lookups_per_thread = 2000;
    f->raw_exec = sqlite_raw_exec;
    f->ops = &store_sqlite_control_ops;
    *state = f;
    snprintf(d->dir, sizeof d->dir, "/tmp/basalt-control-XXXXXX");
    if (!mkdtemp(d->dir)) return -1;
    snprintf(d->path, sizeof d->path, "%s/control.db", d->dir);
    snprintf(f->location, sizeof f->location, "%s", d->path);
    f->target = d->path;
    bs_err err = {0};
    f->store = store_control_open(f->location, &err);
    return f->store ? 0 : -1;
}

static int teardown(void **state)
{
    cs_fixture *f = *state;
    sqlite_dir *d = f->runner;
    store_control_free(f->store);
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char p[160];
        snprintf(p, sizeof p, "%s%s", d->path, suffixes[i]);
        unlink(p);
    }
    rmdir(d->dir);
    free(d);
    free(f);
    return 0;
}

/* ---- SQLite only ---- */

static void test_open_creates_and_migrates(void **state)
{
    cs_fixture *f = cs_fix(state);
    struct stat sb;
    assert_int_equal(stat(file_of(f), &sb), 0);
    bs_err err = {0};
    int version = 0;
    assert_int_equal(store_control_version(f->store, &version, &err), 0);
    assert_int_equal(version, store_sqlite_migrations_latest());
    assert_int_equal(store_control_ping(f->store, &err), 0);
    assert_int_equal(is_empty(f->store), 1);
    char text[64];
    raw_query(file_of(f), "PRAGMA journal_mode", text, sizeof text);
    assert_string_equal(text, "wal");
    char expected[16];
    snprintf(expected, sizeof expected, "%d", store_sqlite_migrations_count());
    raw_query(file_of(f), "SELECT count(*) FROM schema_migrations", text, sizeof text);
    assert_string_equal(text, expected); /* every step applied once */
    raw_query(file_of(f), "SELECT min(version) FROM schema_migrations", text, sizeof text);
    assert_string_equal(text, "1");
}

static void test_reopen_keeps_version_and_data(void **state)
{
    cs_fixture *f = cs_fix(state);
    bootstrap_default(f->store);
    store_control_free(f->store);
    f->store = NULL;
    char location[160];
    snprintf(location, sizeof location, "sqlite:%s", file_of(f));
    bs_err err = {0};
    f->store = store_control_open(location, &err);
    assert_non_null(f->store);
    int version = 0;
    assert_int_equal(store_control_version(f->store, &version, &err), 0);
    assert_int_equal(version, store_sqlite_migrations_latest());
    char text[64], expected[16];
    snprintf(expected, sizeof expected, "%d", store_sqlite_migrations_count());
    raw_query(file_of(f), "SELECT count(*) FROM schema_migrations", text, sizeof text);
    assert_string_equal(text, expected);
    assert_int_equal(is_empty(f->store), 0);
    store_key_context ctx;
    assert_int_equal(lookup_found(f->store, 'a', &ctx), 1);
}

static void test_open_locations(void **state)
{
    (void)state;
    bs_err err = {0};
    /* a postgres:// location reaches the PostgreSQL driver (test_control_pg*.c): nothing listens on port 1 */
    assert_null(store_control_open("postgres://postgres@127.0.0.1:1/none?connect_timeout=2", &err));
    assert_int_equal(err.status, 503);
    bs_err_clear(&err);
    assert_null(store_control_open("", &err));
    assert_int_equal(err.status, 500);
    bs_err_clear(&err);
    assert_null(store_control_open("/nonexistent-dir-for-basalt/x/control.db", &err));
    assert_int_equal(err.status, 500);
    assert_string_equal(err.code, "common/internal-error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_and_migrates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_keeps_version_and_data, setup, teardown),
        cmocka_unit_test(test_open_locations),
        CONTROL_STORE_CASES(setup, teardown),
    };
    return cmocka_run_group_tests_name("control_store", tests, NULL, NULL);
}
