/* Unit tests of the data-store dispatch (store/docs.c, store/docs_driver.h): which locations pick which
 * driver ("sqlite:DIR" and a plain directory are SQLite; postgres:// is PostgreSQL (an unreachable server is 503); an
 * unknown scheme and an empty location fail), and that the users, files and transaction calls reach the
 * driver through the ops tables on one handle (users_driver.h, files_driver.h, store_docs_tx), with a
 * NULL handle answered by an error rather than a crash. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/docs.h"
#include "store/files.h"
#include "store/users.h"

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void test_locations(void **state)
{
    (void)state;
    bs_err err;
    bs_err_clear(&err);
    assert_null(store_docs_open("postgresql://postgres@127.0.0.1:1/none?connect_timeout=2", &err));
    assert_int_equal(err.status, 503);
    bs_err_clear(&err);
    assert_null(store_docs_open("mysql://db.example/basalt", &err));
    assert_non_null(strstr(err.message, "unsupported"));
    bs_err_clear(&err);
    assert_null(store_docs_open("", &err));
    assert_int_equal(err.status, 500);
    bs_err_clear(&err);
    assert_null(store_docs_open("sqlite:", &err));
    assert_int_equal(err.status, 500);
}

static void test_dispatch(void **state)
{
    (void)state;
    char dir[64], location[80];
    snprintf(dir, sizeof dir, "/tmp/basalt-docsdriver-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(location, sizeof location, "sqlite:%s", dir);
    bs_err err;
    store_docs *docs = store_docs_open(location, &err);
    assert_non_null(docs);

    store_user u, got;
    memset(&u, 0, sizeof u);
    snprintf(u.id, sizeof u.id, "u1");
    snprintf(u.email, sizeof u.email, "a@example.com");
    u.created_at = u.updated_at = 1000;
    assert_int_equal(store_users_create(docs, "env_a", &u, &err), 0);
    int found = 0;
    assert_int_equal(store_users_by_id(docs, "env_a", "u1", &got, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(got.email, "a@example.com");
    assert_string_equal(got.profile, "{}");
    assert_int_equal(store_users_by_id(docs, "env_b", "u1", &got, &found, &err), 0);
    assert_int_equal(found, 0); /* another environment, another database */

    store_object o, obj;
    memset(&o, 0, sizeof o);
    snprintf(o.key, sizeof o.key, "env_a/photo.png");
    snprintf(o.content_type, sizeof o.content_type, "image/png");
    o.size = 42;
    assert_int_equal(store_objects_put(docs, "env_a", &o, &err), 0);
    assert_int_equal(store_objects_get(docs, "env_a", o.key, &obj, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(obj.size, 42);
    uint64_t count = 0, bytes = 0;
    assert_int_equal(store_objects_totals(docs, "env_a", &count, &bytes, &err), 0);
    assert_int_equal(count, 1);
    assert_int_equal(bytes, 42);

    store_table t;
    char schema_text[] = "{}", indexes_text[] = "[]";
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "posts");
    t.schema_json = schema_text;
    t.indexes_json = indexes_text;
    assert_int_equal(store_docs_table_create(docs, "env_a", &t, NULL, &err), 0);
    store_docs_tx *tx = store_docs_tx_begin(docs, "env_a", &err);
    assert_non_null(tx);
    store_record r = {.id = "r1", .created_by = "u1", .created_at = "2026-01-01T00:00:00.000Z",
                      .updated_at = "2026-01-01T00:00:00.000Z", .doc = "{\"id\":\"r1\"}"};
    assert_int_equal(store_docs_tx_insert(tx, "posts", &r, &err), 0);
    assert_int_equal(store_docs_tx_commit(tx, &err), 0);
    strbuf out;
    strbuf_init(&out, 0);
    char owner[65];
    assert_int_equal(store_docs_get(docs, "env_a", "posts", "r1", &out, owner, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(owner, "u1");
    strbuf_release(&out);
    store_docs_tx_abort(NULL);

    store_docs_free(docs);
    nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_null_handle(void **state)
{
    (void)state;
    bs_err err;
    bs_err_clear(&err);
    int found = 1;
    store_user u;
    assert_int_equal(store_users_by_id(NULL, "env_a", "u1", &u, &found, &err), -1);
    assert_int_equal(err.status, 500);
    bs_err_clear(&err);
    assert_int_equal(store_docs_count(NULL, "env_a", "posts", &(int64_t){0}, &err), -1);
    assert_null(store_docs_tx_begin(NULL, "env_a", &err));
    store_docs_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_locations),
        cmocka_unit_test(test_dispatch),
        cmocka_unit_test(test_null_handle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
