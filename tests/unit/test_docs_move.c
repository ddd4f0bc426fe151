/* Unit tests of moving an environment's data (store/docs_move.h) from the SQLite data store to a
 * PostgreSQL server, through the public store API: the copy while writes go on, the journal's catch-up
 * (a record inserted, one updated, one deleted and a table created during the copy), writes refused with
 * 503 environment/moving while blocked (reads served), the switch (the store then reads the environment
 * from PostgreSQL, the old SQLite file gone), and a failed switch (the environment stays on SQLite,
 * writable, the target's database dropped). Needs BASALT_TEST_PG_URL (tests/pg/with-pg.sh); skipped
 * without it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pg_fixture.h"
#include "store/docs.h"
#include "store/docs_move.h"

static char dir[64], pg_url[512], pg_db[64];
static store_docs *docs;
static int moved_e1; /* the locator's answer for e1 after its switch: the PostgreSQL server */

static int locate(void *arg, const char *env_id, store_env_location *out, bs_err *err)
{
    (void)arg;
    (void)err;
    memset(out, 0, sizeof *out);
    snprintf(out->file, sizeof out->file, "envs/%s.db", env_id);
    if (moved_e1 && !strcmp(env_id, "e1")) snprintf(out->url, sizeof out->url, "%s", pg_url);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    const char *base = getenv("BASALT_TEST_PG_URL");
    if (!base || !*base) return 0;
    snprintf(dir, sizeof dir, "/tmp/basalt-move-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    snprintf(pg_db, sizeof pg_db, "move_t_%d", (int)getpid());
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", pg_db);
    if (pg_fixture_exec(base, sql) < 0) return -1;
    const char *q = strchr(base, '?');
    size_t end = q ? (size_t)(q - base) : strlen(base);
    while (end > 0 && base[end - 1] != '/') end--;
    snprintf(pg_url, sizeof pg_url, "%.*s%s%s", (int)end, base, pg_db, q ? q : "");
    bs_err err = {0};
    docs = store_docs_open(dir, &err);
    if (!docs) return -1;
    store_docs_set_locator(docs, locate, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    store_docs_free(docs);
    return 0;
}

static store_record record(const char *id, const char *doc)
{
    return (store_record){.id = id, .created_by = "u1", .created_at = "2026-01-01T00:00:00.000Z",
                          .updated_at = "2026-01-01T00:00:00.000Z", .doc = doc};
}

static void table_make(const char *env, const char *name)
{
    store_table t;
    memset(&t, 0, sizeof t);
    snprintf(t.id, sizeof t.id, "tbl_%s", name);
    snprintf(t.name, sizeof t.name, "%s", name);
    t.schema_json = "{}";
    t.created_at = t.updated_at = 1000;
    bs_err err = {0};
    assert_int_equal(store_docs_table_create(docs, env, &t, "tok_1", &err), 0);
}

static void seed(const char *env, int n)
{
    table_make(env, "notes");
    for (int i = 0; i < n; i++) {
        char id[16], doc[64];
        snprintf(id, sizeof id, "r%03d", i);
        snprintf(doc, sizeof doc, "{\"id\":\"%s\",\"n\":%d}", id, i);
        store_record r = record(id, doc);
        bs_err err = {0};
        assert_int_equal(store_docs_insert(docs, env, "notes", &r, 1, NULL, &err), 0);
    }
}

/* The stored JSON of env/table/id, "" when there is none. */
static const char *get(const char *env, const char *table, const char *id, char *buf, size_t cap)
{
    strbuf out;
    strbuf_init(&out, 0);
    int found = 0;
    bs_err err = {0};
    assert_int_equal(store_docs_get(docs, env, table, id, &out, NULL, &found, &err), 0);
    snprintf(buf, cap, "%s", found ? out.data : "");
    strbuf_release(&out);
    return buf;
}

static int replace_doc(const char *current, size_t len, const char *created_by, strbuf *next, void *ctx, bs_err *err)
{
    (void)current, (void)len, (void)created_by, (void)err;
    return strbuf_append_str(next, ctx);
}

static int switch_ok(void *ctx, bs_err *err)
{
    (void)ctx, (void)err;
    moved_e1 = 1;
    return 0;
}

static int switch_fails(void *ctx, bs_err *err)
{
    (void)ctx;
    return bs_err_set(err, 409, "common/conflict", "taken meanwhile");
}

static void test_move_with_catch_up(void **state)
{
    (void)state;
    if (!docs) skip();
    seed("e1", 200);
    store_env_location target = {.file = "envs/e1.db"};
    snprintf(target.url, sizeof target.url, "%s", pg_url);
    bs_err err = {0};
    store_docs_move *m = store_docs_move_new(docs, "e1", &target, NULL, &err);
    assert_non_null(m);
    assert_null(store_docs_move_new(docs, "e1", &target, NULL, &err)); /* one move at a time */
    assert_int_equal(err.status, 409);
    assert_int_equal(store_docs_move_copy(m, &err), 0);
    /* writes during the copy: the journal has them */
    store_record late = record("zz-late", "{\"id\":\"zz-late\",\"n\":-1}");
    int found = 0;
    strbuf out;
    strbuf_init(&out, 0);
    assert_int_equal(store_docs_insert(docs, "e1", "notes", &late, 1, NULL, &err), 0);
    assert_int_equal(store_docs_update(docs, "e1", "notes", "r005", "2026-02-01T00:00:00.000Z", replace_doc,
                                       "{\"id\":\"r005\",\"n\":555}", &out, &found, &err), 0);
    assert_int_equal(store_docs_delete(docs, "e1", "notes", "r003", &found, &err), 0);
    table_make("e1", "later");
    store_record one = record("a", "{\"id\":\"a\"}");
    assert_int_equal(store_docs_insert(docs, "e1", "later", &one, 1, NULL, &err), 0);

    assert_int_equal(store_docs_move_block(m, 5000, &err), 0);
    bs_err refused = {0};
    assert_int_equal(store_docs_insert(docs, "e1", "notes", &late, 1, NULL, &refused), -1);
    assert_int_equal(refused.status, 503);
    assert_string_equal(refused.code, STORE_ENV_MOVING_CODE);
    char buf[256];
    assert_string_equal(get("e1", "notes", "r007", buf, sizeof buf), "{\"id\":\"r007\",\"n\":7}"); /* reads go on */
    assert_int_equal(store_docs_move_catch_up(m, &err), 0);
    assert_int_equal(store_docs_move_switch(m, 5000, switch_ok, NULL, &err), 0);
    store_docs_move_free(m);

    struct stat sb;
    char path[128];
    snprintf(path, sizeof path, "%s/envs/e1.db", dir);
    assert_int_equal(stat(path, &sb), -1); /* the old copy is gone: what answers now is PostgreSQL */
    int64_t n = 0;
    assert_int_equal(store_docs_count(docs, "e1", "notes", &n, &err), 0);
    assert_int_equal(n, 200);
    assert_string_equal(get("e1", "notes", "r003", buf, sizeof buf), "");
    assert_non_null(strstr(get("e1", "notes", "r005", buf, sizeof buf), "555"));
    assert_non_null(strstr(get("e1", "notes", "zz-late", buf, sizeof buf), "-1"));
    assert_non_null(strstr(get("e1", "later", "a", buf, sizeof buf), "\"a\""));
    store_record after = record("after", "{\"id\":\"after\"}");
    assert_int_equal(store_docs_insert(docs, "e1", "notes", &after, 1, NULL, &err), 0); /* writes resume */
    strbuf_release(&out);
}

static void test_failed_switch_stays(void **state)
{
    (void)state;
    if (!docs) skip();
    seed("e2", 20);
    store_env_location target = {.file = "envs/e2.db"};
    snprintf(target.url, sizeof target.url, "%s", pg_url);
    bs_err err = {0};
    store_docs_move *m = store_docs_move_new(docs, "e2", &target, NULL, &err);
    assert_non_null(m);
    assert_int_equal(store_docs_move_copy(m, &err), 0);
    assert_int_equal(store_docs_move_block(m, 5000, &err), 0);
    assert_int_equal(store_docs_move_catch_up(m, &err), 0);
    assert_int_equal(store_docs_move_switch(m, 5000, switch_fails, NULL, &err), -1);
    assert_int_equal(err.status, 409);
    store_docs_move_free(m);
    struct stat sb;
    char path[128], sql[256];
    snprintf(path, sizeof path, "%s/envs/e2.db", dir);
    assert_int_equal(stat(path, &sb), 0); /* still on SQLite */
    store_record more = record("more", "{\"id\":\"more\"}");
    assert_int_equal(store_docs_insert(docs, "e2", "notes", &more, 1, NULL, &err), 0);
    int64_t n = 0;
    assert_int_equal(store_docs_count(docs, "e2", "notes", &n, &err), 0);
    assert_int_equal(n, 21);
    snprintf(sql, sizeof sql, "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_database WHERE datname = '%s_e2') THEN"
             " RAISE EXCEPTION 'left'; END IF; END $$", pg_db);
    assert_int_equal(pg_fixture_exec(pg_url, sql), 0); /* the target's partial copy is dropped */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_move_with_catch_up),
        cmocka_unit_test(test_failed_switch_stays),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
