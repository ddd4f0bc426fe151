/* Unit tests of the environment registry of the SQLite data-store driver (store/sqlite/envreg.h): many
 * environments (far past the old fixed table of 4096), the same entry for the same id every time,
 * concurrent get-or-create of the same ids from several threads (exactly one entry per id, no lost or
 * doubled creation), the walk over every entry; then the store itself (store/docs.h) with several threads
 * borrowing and returning the connections of many environments at once (catalog reads and writes), which
 * ThreadSanitizer checks in the Thread build. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/docs.h"
#include "store/sqlite/envreg.h"

typedef struct test_env {
    envreg_entry ent;
    char id[64];
    atomic_int uses;
} test_env;

static atomic_int made;

static envreg_entry *test_make(void *arg, const char *id)
{
    (void)arg;
    test_env *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    snprintf(e->id, sizeof e->id, "%s", id);
    e->ent.key = e->id;
    atomic_fetch_add(&made, 1);
    return &e->ent;
}

static void test_release(envreg_entry *e, void *arg)
{
    atomic_fetch_add((atomic_int *)arg, 1);
    free(e);
}

static void count_visit(envreg_entry *e, void *arg)
{
    (void)e;
    (*(size_t *)arg)++;
}

#define MANY 20000

static void test_many(void **state)
{
    (void)state;
    atomic_store(&made, 0);
    envreg *r = envreg_new(test_make, NULL);
    assert_non_null(r);
    static envreg_entry *first[MANY];
    char id[64];
    for (int i = 0; i < MANY; i++) {
        snprintf(id, sizeof id, "env_%d", i);
        first[i] = envreg_get(r, id);
        assert_non_null(first[i]);
        assert_string_equal(first[i]->key, id);
    }
    for (int i = MANY - 1; i >= 0; i--) {
        snprintf(id, sizeof id, "env_%d", i);
        assert_ptr_equal(envreg_get(r, id), first[i]);
    }
    assert_int_equal(envreg_count(r), MANY);
    assert_int_equal(atomic_load(&made), MANY);
    size_t seen = 0;
    envreg_each(r, count_visit, &seen);
    assert_int_equal(seen, MANY);
    atomic_int released = 0;
    envreg_free(r, test_release, &released);
    assert_int_equal(atomic_load(&released), MANY);
}

#define THREADS 8
#define SHARED_IDS 3000

typedef struct racer {
    envreg *r;
    int seed;
    envreg_entry *got[SHARED_IDS];
} racer;

static void *race_main(void *arg)
{
    racer *t = arg;
    char id[64];
    for (int k = 0; k < SHARED_IDS; k++) {
        int i = (k * 7 + t->seed * 13) % SHARED_IDS; /* each thread in its own order */
        snprintf(id, sizeof id, "e%d", i);
        t->got[i] = envreg_get(t->r, id);
        atomic_fetch_add(&((test_env *)t->got[i])->uses, 1);
    }
    return NULL;
}

static void test_concurrent_create(void **state)
{
    (void)state;
    atomic_store(&made, 0);
    envreg *r = envreg_new(test_make, NULL);
    static racer racers[THREADS];
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        racers[t].r = r;
        racers[t].seed = t;
        assert_int_equal(pthread_create(&th[t], NULL, race_main, &racers[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
    assert_int_equal(atomic_load(&made), SHARED_IDS);
    assert_int_equal(envreg_count(r), SHARED_IDS);
    for (int i = 0; i < SHARED_IDS; i++) {
        for (int t = 1; t < THREADS; t++) assert_ptr_equal(racers[t].got[i], racers[0].got[i]);
        assert_int_equal(atomic_load(&((test_env *)racers[0].got[i])->uses), THREADS);
    }
    atomic_int released = 0;
    envreg_free(r, test_release, &released);
    assert_int_equal(atomic_load(&released), SHARED_IDS);
}

/* ---- the store: concurrent borrows over many environments ---- */

#define STORE_ENVS 48
#define ROUNDS 6

typedef struct borrower {
    store_docs *docs;
    int seed;
    int failures;
} borrower;

static void *borrow_main(void *arg)
{
    borrower *b = arg;
    char env[32];
    for (int round = 0; round < ROUNDS; round++) {
        for (int k = 0; k < STORE_ENVS; k++) {
            snprintf(env, sizeof env, "env_%d", (k + b->seed * 5) % STORE_ENVS);
            bs_err err;
            store_table *tables = NULL;
            size_t n = 0;
            if (store_docs_table_list(b->docs, env, &tables, &n, &err) < 0) b->failures++;
            store_table_list_free(tables, n);
            int64_t count = 0;
            if (round == 0 && k % 8 == b->seed) { /* some writes too: the write turn beside the readers */
                store_table t;
                char schema_text[] = "{}", indexes_text[] = "[]";
                memset(&t, 0, sizeof t);
                snprintf(t.name, sizeof t.name, "t%d", b->seed);
                t.schema_json = schema_text;
                t.indexes_json = indexes_text;
                if (store_docs_table_create(b->docs, env, &t, NULL, &err) < 0 && err.status != 409) b->failures++;
                if (store_docs_count(b->docs, env, t.name, &count, &err) < 0) b->failures++;
            }
        }
    }
    return NULL;
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void test_store_concurrent_borrow(void **state)
{
    (void)state;
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/basalt-envreg-XXXXXX");
    assert_non_null(mkdtemp(dir));
    bs_err err;
    store_docs *docs = store_docs_open(dir, &err);
    assert_non_null(docs);
    static borrower borrowers[THREADS];
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        borrowers[t] = (borrower){.docs = docs, .seed = t};
        assert_int_equal(pthread_create(&th[t], NULL, borrow_main, &borrowers[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(borrowers[t].failures, 0);
    }
    store_table *tables = NULL;
    size_t n = 0, total = 0;
    char env[32];
    for (int k = 0; k < STORE_ENVS; k++) {
        snprintf(env, sizeof env, "env_%d", k);
        assert_int_equal(store_docs_table_list(docs, env, &tables, &n, &err), 0);
        total += n;
        store_table_list_free(tables, n);
    }
    assert_int_equal(total, THREADS * (STORE_ENVS / 8)); /* six per thread, each in another environment */
    assert_int_equal(store_docs_table_list(docs, "bad id!", &tables, &n, &err), -1);
    assert_int_equal(err.status, 404);
    store_docs_free(docs);
    nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_concurrent_create),
        cmocka_unit_test(test_store_concurrent_borrow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
