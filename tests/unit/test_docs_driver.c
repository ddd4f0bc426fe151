/* Unit tests of the data-store dispatch (store/docs.c, store/docs_driver.h): which locations pick which
 * driver ("sqlite:DIR" and a plain directory are SQLite; postgres:// is PostgreSQL (an unreachable server is 503); an
 * unknown scheme and an empty location fail), and that the users, files and transaction calls reach the
 * driver through the ops tables on one handle (users_driver.h, files_driver.h, store_docs_tx), with a
 * NULL handle answered by an error rather than a crash; and that a move's holds on an environment's route
 * (block, switch) see every call inside it, those that entered a quiet route without its lock included,
 * and are woken when such a call leaves. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/docs.h"
#include "store/docs_driver.h"
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

typedef struct call_ender {
    store_docs_call *call;
    int delay_ms;
} call_ender;

static void *end_later(void *arg)
{
    call_ender *e = arg;
    usleep((useconds_t)e->delay_ms * 1000);
    store_docs_call_end(e->call);
    return NULL;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int switch_called;
static int switch_mark(void *ctx, bs_err *err)
{
    (void)ctx;
    (void)err;
    switch_called = 1;
    return 0;
}

static void test_route_holds(void **state)
{
    (void)state;
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/basalt-docsroute-XXXXXX");
    assert_non_null(mkdtemp(dir));
    bs_err err;
    store_docs *docs = store_docs_open(dir, &err);
    assert_non_null(docs);
    store_docs_call first, w, w2, rd;
    assert_int_equal(store_docs_call_begin(docs, "env_h", 0, &first, &err), 0); /* locates the route */
    assert_int_equal(first.stripe, -1);
    store_docs_call_end(&first);

    assert_int_equal(store_docs_call_begin(docs, "env_h", 1, &w, &err), 0);
    assert_true(w.stripe >= 0); /* a quiet route: entered without the lock */
    bs_err_clear(&err);
    assert_int_equal(store_docs_route_block(docs, "env_h", 100, &err), -1); /* the write is inside */
    assert_int_equal(err.status, 503);

    call_ender e = {.call = &w, .delay_ms = 150};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, end_later, &e), 0);
    int64_t t0 = now_ms();
    assert_int_equal(store_docs_route_block(docs, "env_h", 10000, &err), 0);
    int64_t waited = now_ms() - t0;
    pthread_join(t, NULL);
    assert_true(waited >= 100 && waited < 5000); /* woken by the write leaving, not by the deadline */

    bs_err_clear(&err);
    assert_int_equal(store_docs_call_begin(docs, "env_h", 1, &w2, &err), -1);
    assert_int_equal(err.status, 503);
    assert_string_equal(err.code, "environment/moving");
    assert_int_equal(store_docs_call_begin(docs, "env_h", 0, &rd, &err), 0);
    assert_int_equal(rd.stripe, -1); /* not quiet while blocked: under the lock */
    store_docs_call_end(&rd);
    store_docs_route_unblock(docs, "env_h");

    assert_int_equal(store_docs_call_begin(docs, "env_h", 0, &rd, &err), 0);
    assert_true(rd.stripe >= 0);
    switch_called = 0;
    assert_int_equal(store_docs_route_switch(docs, "env_h", 100, switch_mark, NULL, &err), -1); /* the read is inside */
    assert_int_equal(switch_called, 0);
    store_docs_call_end(&rd);
    assert_int_equal(store_docs_call_begin(docs, "env_h", 1, &w, &err), 0); /* quiet again after the failed switch */
    assert_true(w.stripe >= 0);
    store_docs_call_end(&w);

    store_docs_free(docs);
    nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_locations),
        cmocka_unit_test(test_dispatch),
        cmocka_unit_test(test_null_handle),
        cmocka_unit_test(test_route_holds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
