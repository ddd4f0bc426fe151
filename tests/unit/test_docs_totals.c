/* Unit tests of the maintained list totals (store/sqlite/docs_counts.h through store/docs.h): after every
 * kind of write (grouped insert, batch insert, update, compare-and-swap replace, delete, transaction
 * insert/update/delete, rolled-back transaction, failed insert) the total a list answers equals a count of
 * the matching rows made by a separate connection on the quiet database; then writers and listers run
 * concurrently and every list's total is checked against a count of the list's own snapshot (the test
 * builds assert it inside store_docs_list, which aborts on a difference), and the final totals against the
 * quiet database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/query.h"
#include "core/schema.h"
#include "store/docs.h"
#include "util/strbuf.h"

#define ENV "envtotals"
#define NSHAPES 3

static const char *const shape_filters[NSHAPES] = {
    "{\"k\":\"a\"}", "{\"k\":\"a\",\"n\":{\"$gte\":50}}", "{\"n\":{\"$lt\":600}}"};
static const char *const shape_sql[NSHAPES] = {
    "json_extract(doc,'$.k') = 'a'", "json_extract(doc,'$.k') = 'a' AND json_extract(doc,'$.n') >= 50",
    "json_extract(doc,'$.n') < 600"};

typedef struct fixture {
    char dir[128];
    store_docs *docs;
    schema *s;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/basalt-totals-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    bs_err err;
    f->docs = store_docs_open(f->dir, &err);
    assert_non_null(f->docs);
    store_table t = {.id = "tbl_1", .name = "items", .schema_json = "{}"};
    assert_int_equal(store_docs_table_create(f->docs, ENV, &t, NULL, &err), 0);
    struct json_object *doc = json_object_new_object();
    f->s = schema_compile(doc, &err);
    json_object_put(doc);
    assert_non_null(f->s);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    store_docs_free(f->docs);
    schema_free(f->s);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", f->dir);
    free(f);
    return 0;
}

/* The total store_docs_list answers for shape i (limit 1: never the last page, so never "the page tells"). */
static int64_t list_total(fixture *f, int i)
{
    query_params p = {.and_filters = shape_filters[i], .limit = "1"};
    query_plan plan;
    bs_err err;
    assert_int_equal(query_plan_parse(&plan, &p, f->s, &err), 0);
    strbuf items;
    strbuf_init(&items, 0);
    int64_t total = -2;
    int rc = store_docs_list(f->docs, ENV, "items", &plan, NULL, NULL, &items, &total, &err);
    if (rc < 0) fprintf(stderr, "list: %s\n", err.message);
    assert_int_equal(rc, 0);
    strbuf_release(&items);
    query_plan_release(&plan);
    return total;
}

/* The count of shape i by a connection of its own (the environment has its own file: no locator). */
static int64_t direct_count(fixture *f, int i)
{
    char path[256], sql[256];
    snprintf(path, sizeof path, "%s/envs/" ENV ".db", f->dir);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM \"d_items\" WHERE %s", shape_sql[i]);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void check_all(fixture *f, const char *after)
{
    for (int i = 0; i < NSHAPES; i++) {
        int64_t listed = list_total(f, i), counted = direct_count(f, i);
        if (listed != counted) fprintf(stderr, "after %s: shape %d listed %lld, counted %lld\n", after, i, (long long)listed, (long long)counted);
        assert_int_equal(listed, counted);
    }
}

/* A record: id "r<n>", fields k and n. Strings live in the caller's buffers. */
static store_record record(char *id, char *doc, size_t size, int n, const char *k)
{
    snprintf(id, 32, "r%06d", n);
    snprintf(doc, size, "{\"id\":\"%s\",\"k\":\"%s\",\"n\":%d}", id, k, n);
    return (store_record){.id = id, .created_by = "", .created_at = "2026-12-07T00:00:00.000Z",
                          .updated_at = "2026-12-07T00:00:00.000Z", .doc = doc};
}

static int set_fields(const char *cur, size_t len, const char *created_by, strbuf *next, void *ctx, bs_err *err)
{
    (void)cur; (void)len; (void)created_by; (void)err;
    strbuf_append_str(next, ctx);
    return 0;
}

static int refuse(const char *cur, size_t len, const char *created_by, strbuf *next, void *ctx, bs_err *err)
{
    (void)cur; (void)len; (void)created_by; (void)next; (void)ctx;
    return bs_err_set(err, 403, "data/permission-denied", "no");
}

static void insert_one(fixture *f, int n, const char *k)
{
    char id[32], doc[128];
    store_record r = record(id, doc, sizeof doc, n, k);
    bs_err err;
    assert_int_equal(store_docs_insert(f->docs, ENV, "items", &r, 1, NULL, &err), 0);
}

static void update_one(fixture *f, int n, const char *k, int newn)
{
    char id[32], doc[128];
    record(id, doc, sizeof doc, newn, k);
    snprintf(id, sizeof id, "r%06d", n);
    strbuf out;
    strbuf_init(&out, 0);
    int found = 0;
    bs_err err;
    assert_int_equal(store_docs_update(f->docs, ENV, "items", id, "2026-12-07T00:00:01.000Z", set_fields, doc, &out, &found, &err), 0);
    assert_int_equal(found, 1);
    strbuf_release(&out);
}

/* Records r000000..r<count-1>, k alternating b/a, n = their number: every shape then has more than
 * COUNTS_MIN_MATCHES matches, so the first lists register them all. */
static void seed(fixture *f, int count)
{
    static char ids[1000][32], docs[1000][128];
    static store_record batch[1000];
    for (int i = 0; i < count && i < 1000; i++) batch[i] = record(ids[i], docs[i], sizeof docs[i], i, i % 2 ? "a" : "b");
    bs_err err;
    assert_int_equal(store_docs_insert(f->docs, ENV, "items", batch, (size_t)count, NULL, &err), 0);
}

/* Every shape's total is kept by the writes (explain says so), once its registration is over. */
static void assert_maintained(fixture *f)
{
    for (int i = 0; i < NSHAPES; i++) {
        query_params p = {.and_filters = shape_filters[i], .limit = "1"};
        query_plan plan;
        store_explain ex;
        bs_err err;
        assert_int_equal(query_plan_parse(&plan, &p, f->s, &err), 0);
        int maintained = 0;
        for (int tries = 0; tries < 200 && !maintained; tries++) { /* registrations run on the writer */
            assert_int_equal(store_docs_explain(f->docs, ENV, "items", &plan, NULL, &ex, &err), 0);
            maintained = ex.total_maintained;
            store_explain_release(&ex);
            if (!maintained) usleep(5000);
        }
        query_plan_release(&plan);
        assert_true(maintained);
    }
}

static void test_every_write_keeps_totals(void **state)
{
    fixture *f = *state;
    check_all(f, "nothing");
    seed(f, 600);
    check_all(f, "a batch insert (these lists count, then register the shapes)");
    assert_maintained(f);
    for (int i = 600; i < 640; i++) insert_one(f, i, i % 2 ? "a" : "b");
    check_all(f, "grouped inserts");
    char ids[20][32], docs[20][128];
    store_record batch[20];
    for (int i = 0; i < 20; i++) batch[i] = record(ids[i], docs[i], sizeof docs[i], 1000 + i, "a");
    bs_err err;
    assert_int_equal(store_docs_insert(f->docs, ENV, "items", batch, 20, NULL, &err), 0);
    check_all(f, "batch insert");
    size_t failed = 99;
    assert_int_equal(store_docs_insert(f->docs, ENV, "items", batch, 20, &failed, &err), -1); /* duplicates */
    check_all(f, "failed batch insert");
    update_one(f, 1, "b", 1);
    check_all(f, "update out of a filter");
    update_one(f, 2, "a", 60);
    check_all(f, "update into every filter");
    update_one(f, 3, "a", 3);
    check_all(f, "update that changes nothing");
    int found = 0;
    assert_int_equal(store_docs_delete(f->docs, ENV, "items", "r000005", &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(store_docs_delete(f->docs, ENV, "items", "r000005", &found, &err), 0);
    assert_int_equal(found, 0);
    check_all(f, "delete, and delete of a missing record");

    store_docs_tx *tx = store_docs_tx_begin(f->docs, ENV, &err);
    assert_non_null(tx);
    char id[32], doc[128];
    store_record r = record(id, doc, sizeof doc, 2000, "a");
    assert_int_equal(store_docs_tx_insert(tx, "items", &r, &err), 0);
    strbuf out;
    strbuf_init(&out, 0);
    char moved[128];
    snprintf(moved, sizeof moved, "{\"id\":\"r000007\",\"k\":\"b\",\"n\":7}");
    assert_int_equal(store_docs_tx_update(tx, "items", "r000007", "2026-12-07T00:00:02.000Z", set_fields, moved, &out, &found, &err), 0);
    assert_int_equal(store_docs_tx_delete(tx, "items", "r000009", NULL, NULL, &found, &err), 0);
    assert_int_equal(store_docs_tx_delete(tx, "items", "r000011", refuse, NULL, &found, &err), -1);
    assert_int_equal(store_docs_tx_commit(tx, &err), 0);
    check_all(f, "a transaction");
    tx = store_docs_tx_begin(f->docs, ENV, &err);
    assert_non_null(tx);
    r = record(id, doc, sizeof doc, 2001, "a");
    assert_int_equal(store_docs_tx_insert(tx, "items", &r, &err), 0);
    assert_int_equal(store_docs_tx_delete(tx, "items", "r000013", NULL, NULL, &found, &err), 0);
    store_docs_tx_abort(tx);
    check_all(f, "a rolled-back transaction");
    strbuf_release(&out);
}

typedef struct worker {
    fixture *f;
    int first, ops;
    unsigned seed;
} worker;

static void *writer_main(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < w->ops; i++) {
        int n = w->first + i;
        insert_one(w->f, n, rand_r(&w->seed) % 2 ? "a" : "b");
        if (i % 3 == 2) { /* delete one of this writer's earlier records */
            char id[32];
            snprintf(id, sizeof id, "r%06d", w->first + (int)(rand_r(&w->seed) % (unsigned)i));
            int found;
            bs_err err;
            assert_int_equal(store_docs_delete(w->f->docs, ENV, "items", id, &found, &err), 0);
        }
        if (i % 5 == 4) update_one(w->f, n, rand_r(&w->seed) % 2 ? "a" : "b", (int)(rand_r(&w->seed) % 100));
    }
    return NULL;
}

static _Atomic int writers_running;

static void *lister_main(void *arg)
{
    worker *w = arg;
    int lists = 0;
    while (writers_running || lists < 10) {
        int64_t t = list_total(w->f, lists++ % NSHAPES); /* the test build checks it against its snapshot */
        assert_true(t >= 0);
    }
    return NULL;
}

static void test_concurrent_writes_keep_totals(void **state)
{
    fixture *f = *state;
    seed(f, 600);
    check_all(f, "a batch insert");
    assert_maintained(f);
    enum { WRITERS = 4, LISTERS = 2, OPS = 150 };
    pthread_t wt[WRITERS], lt[LISTERS];
    worker ws[WRITERS], ls[LISTERS];
    writers_running = 1;
    for (int i = 0; i < LISTERS; i++) {
        ls[i] = (worker){.f = f};
        assert_int_equal(pthread_create(&lt[i], NULL, lister_main, &ls[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++) {
        ws[i] = (worker){.f = f, .first = 10000 * (i + 1), .ops = OPS, .seed = (unsigned)i + 1};
        assert_int_equal(pthread_create(&wt[i], NULL, writer_main, &ws[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++) pthread_join(wt[i], NULL);
    writers_running = 0;
    for (int i = 0; i < LISTERS; i++) pthread_join(lt[i], NULL);
    check_all(f, "concurrent writers");
}

static void test_dropped_table_forgets_its_totals(void **state)
{
    fixture *f = *state;
    seed(f, 600);
    check_all(f, "a batch insert");
    assert_maintained(f);
    int found = 0;
    bs_err err;
    assert_int_equal(store_docs_table_drop(f->docs, ENV, "items", &found, &err), 0);
    assert_int_equal(found, 1);
    store_table t = {.id = "tbl_2", .name = "items", .schema_json = "{}"};
    assert_int_equal(store_docs_table_create(f->docs, ENV, &t, NULL, &err), 0);
    check_all(f, "the table dropped and created again");
    seed(f, 600);
    check_all(f, "a batch insert into the new table");
    assert_maintained(f);
    insert_one(f, 5000, "a");
    check_all(f, "an insert into the new table");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_write_keeps_totals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_writes_keep_totals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dropped_table_forgets_its_totals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
