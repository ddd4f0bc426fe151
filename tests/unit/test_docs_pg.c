/* Unit tests of the PostgreSQL data store (store/postgres/docs_pg*.c) through the public store/docs.h API:
 * tables (create, get, list, update, drop, names taken regardless of case), records (insert, get, update,
 * delete, count, duplicate ids), transactions (commit, abort), schema versions, a unique custom index,
 * dropping a slot's schema and a dedicated database, and two environments isolated from each other.
 * Environments whose id starts with "slot" are located on a shared cluster's slot (schema "s<n>" of the
 * main database), the others in a database of their own. Needs BASALT_TEST_PG_URL (tests/pg/with-pg.sh):
 * each run works in a fresh database of its own; skipped without it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pg_fixture.h"
#include "store/docs.h"
#include "store/postgres/docs_pg_call.h"

static char main_url[512];
static char main_db[64];
static store_docs *docs;

/* ---- fixture: a fresh database, the store opened on it ---- */

/* base with its database replaced by db: ".../<db>[?...]". */
static void url_with_db(const char *base, const char *db, char *out, size_t cap)
{
    const char *q = strchr(base, '?');
    size_t end = q ? (size_t)(q - base) : strlen(base);
    const char *slash = base + end;
    while (slash > base && *slash != '/') slash--;
    snprintf(out, cap, "%.*s/%s%s", (int)(slash - base), base, db, q ? q : "");
}

/* The locator: "slot<n>..." on slot n of cluster c1, anything else in a file (database) of its own. */
static int locate(void *arg, const char *env_id, store_env_location *out, bs_err *err)
{
    (void)arg;
    (void)err;
    memset(out, 0, sizeof *out);
    if (!strncmp(env_id, "slot", 4)) {
        snprintf(out->file, sizeof out->file, "clusters/shared-1.db");
        snprintf(out->prefix, sizeof out->prefix, "s%d_", atoi(env_id + 4));
    } else {
        snprintf(out->file, sizeof out->file, "envs/%s.db", env_id);
    }
    return 0;
}

static int setup(void **state)
{
    (void)state;
    const char *base = getenv("BASALT_TEST_PG_URL");
    if (!base || !*base) return 0;
    snprintf(main_db, sizeof main_db, "docs_t_%d_%ld", (int)getpid(), (long)random() % 100000);
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", main_db);
    if (pg_fixture_exec(base, sql) < 0) return -1;
    url_with_db(base, main_db, main_url, sizeof main_url);
    bs_err err = {0};
    docs = store_docs_open(main_url, &err);
    if (!docs) {
        fprintf(stderr, "store_docs_open: %d %s %s\n", err.status, err.code, err.message);
        return -1;
    }
    store_docs_set_locator(docs, locate, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    store_docs_free(docs);
    docs = NULL;
    return 0;
}

static void need_pg(void)
{
    if (!docs) skip();
}

/* 1 when sql (one row, one column) answers "t" on url. */
static int pg_true(const char *url, const char *sql)
{
    PGconn *c = PQconnectdb(url);
    PGresult *r = c && PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
    int yes = r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    PQfinish(c);
    return yes;
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

static store_record record(const char *id, const char *doc)
{
    return (store_record){.id = id, .created_by = "u1", .created_at = "2026-01-01T00:00:00.000Z",
                          .updated_at = "2026-01-01T00:00:00.000Z", .doc = doc};
}

static int64_t count_of(const char *env, const char *table)
{
    int64_t n = -1;
    bs_err err = {0};
    assert_int_equal(store_docs_count(docs, env, table, &n, &err), 0);
    return n;
}

/* ---- tables ---- */

static void test_tables(void **state)
{
    (void)state;
    need_pg();
    bs_err err = {0};
    table_make("env_tables", "posts");
    store_table t, dup;
    int found = 0;
    assert_int_equal(store_docs_table_get(docs, "env_tables", "posts", &t, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(t.id, "tbl_posts");
    assert_string_equal(t.schema_json, "{}");
    assert_string_equal(t.indexes_json, "[]");
    assert_null(t.permissions_json);
    assert_int_equal(t.schema_version, 1);
    assert_int_equal(t.created_at, 1000);

    memset(&dup, 0, sizeof dup);
    snprintf(dup.id, sizeof dup.id, "tbl_other");
    snprintf(dup.name, sizeof dup.name, "posts");
    assert_int_equal(store_docs_table_create(docs, "env_tables", &dup, NULL, &err), -1);
    assert_int_equal(err.status, 409);
    assert_string_equal(err.code, "data/table-already-exists");
    snprintf(dup.name, sizeof dup.name, "Posts"); /* names are compared regardless of case */
    assert_int_equal(store_docs_table_create(docs, "env_tables", &dup, NULL, &err), -1);
    assert_string_equal(err.code, "data/table-already-exists");

    t.display_name = strdup("Posts");
    t.updated_at = 2000;
    assert_int_equal(store_docs_table_update(docs, "env_tables", &t, &found, &err), 0);
    assert_int_equal(found, 1);
    store_table_release(&t);
    table_make("env_tables", "authors");
    store_table *list = NULL;
    size_t n = 0;
    assert_int_equal(store_docs_table_list(docs, "env_tables", &list, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].name, "authors");
    assert_string_equal(list[1].name, "posts");
    assert_string_equal(list[1].display_name, "Posts");
    assert_int_equal(list[1].updated_at, 2000);
    store_table_list_free(list, n);

    assert_int_equal(store_docs_table_drop(docs, "env_tables", "posts", &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(store_docs_table_get(docs, "env_tables", "posts", &t, &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(store_docs_table_drop(docs, "env_tables", "posts", &found, &err), 0);
    assert_int_equal(found, 0);
    table_make("env_tables", "posts"); /* the name is free again */
}

/* ---- records ---- */

static int set_title(const char *current, size_t len, const char *created_by, strbuf *next, void *ctx, bs_err *err)
{
    (void)len;
    (void)err;
    assert_non_null(strstr(current, "\"first\""));
    assert_string_equal(created_by, "u1");
    strbuf_append_str(next, (const char *)ctx);
    return 0;
}

static int refuse(const char *current, size_t len, const char *created_by, strbuf *next, void *ctx, bs_err *err)
{
    (void)current, (void)len, (void)created_by, (void)next, (void)ctx;
    return bs_err_set(err, 403, "data/permission-denied", "no");
}

static void test_records(void **state)
{
    (void)state;
    need_pg();
    bs_err err = {0};
    table_make("env_records", "notes");
    store_record batch[] = {record("r1", "{\"id\":\"r1\",\"title\":\"first\",\"n\":1}"), record("r2", "{\"id\":\"r2\",\"title\":\"second\"}")};
    size_t failed = 99;
    assert_int_equal(store_docs_insert(docs, "env_records", "notes", batch, 2, &failed, &err), 0);
    assert_int_equal(count_of("env_records", "notes"), 2);

    store_record again[] = {record("r3", "{\"id\":\"r3\"}"), record("r1", "{\"id\":\"r1\"}")};
    assert_int_equal(store_docs_insert(docs, "env_records", "notes", again, 2, &failed, &err), -1);
    assert_int_equal(err.status, 409);
    assert_string_equal(err.code, "data/duplicate-value");
    assert_int_equal(failed, 1);
    assert_int_equal(count_of("env_records", "notes"), 2); /* all or none */
    store_record twice[] = {record("r4", "{\"id\":\"r4\"}"), record("r5", "{}"), record("r4", "{\"id\":\"r4\"}")};
    assert_int_equal(store_docs_insert(docs, "env_records", "notes", twice, 3, &failed, &err), -1);
    assert_string_equal(err.code, "data/duplicate-value");
    assert_int_equal(failed, 2); /* the same id twice in one batch */
    assert_int_equal(count_of("env_records", "notes"), 2);
    store_record nul = record("r6", "{\"s\":\"a\\u0000b\"}");
    assert_int_equal(store_docs_insert(docs, "env_records", "notes", &nul, 1, NULL, &err), -1);
    assert_int_equal(err.status, 400);

    strbuf out;
    strbuf_init(&out, 0);
    char owner[65] = "";
    int found = 0;
    assert_int_equal(store_docs_get(docs, "env_records", "notes", "r1", &out, owner, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(owner, "u1");
    assert_string_equal(out.data, "{\"id\":\"r1\",\"title\":\"first\",\"n\":1}"); /* as written */
    strbuf_reset(&out);
    assert_int_equal(store_docs_get(docs, "env_records", "notes", "nope", &out, owner, &found, &err), 0);
    assert_int_equal(found, 0);
    store_record big = record("r7", "{\"id\":\"r7\",\"big\":1.7976931348623157e+308}");
    assert_int_equal(store_docs_insert(docs, "env_records", "notes", &big, 1, NULL, &err), 0);
    strbuf_reset(&out);
    assert_int_equal(store_docs_get(docs, "env_records", "notes", "r7", &out, NULL, &found, &err), 0);
    assert_string_equal(out.data, big.doc); /* the very bytes: jsonb would spell it as 309 digits */
    assert_int_equal(store_docs_delete(docs, "env_records", "notes", "r7", &found, &err), 0);
    strbuf_reset(&out);

    const char *next = "{\"id\":\"r1\",\"title\":\"changed\"}";
    assert_int_equal(store_docs_update(docs, "env_records", "notes", "r1", "2026-02-02T00:00:00.000Z", set_title, (void *)next,
                                       &out, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(out.data, next);
    strbuf_reset(&out);
    assert_int_equal(store_docs_get(docs, "env_records", "notes", "r1", &out, NULL, &found, &err), 0);
    assert_non_null(strstr(out.data, "changed"));

    assert_int_equal(store_docs_delete(docs, "env_records", "notes", "r2", &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(store_docs_delete(docs, "env_records", "notes", "r2", &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(count_of("env_records", "notes"), 1);
    assert_int_equal(store_docs_get(docs, "env_records", "missing_table", "r1", &out, NULL, &found, &err), -1);
    assert_int_equal(err.status, 404);
    strbuf_release(&out);
}

/* done runs on a writer thread: the test waits for it (at most 5 s). */
static void async_done(void *ctx, int rc) { atomic_store((_Atomic int *)ctx, rc + 100); }

static int async_wait(_Atomic int *done)
{
    for (int i = 0; i < 5000 && !atomic_load(done); i++) usleep(1000);
    return atomic_load(done);
}

/* Many creates queued at once: the writer threads take those queued meanwhile together (one INSERT); one
 * that clashes (a duplicate id) makes its group run one by one, so it alone fails with 409. */
#define ASYNC_MANY 300
typedef struct async_slot {
    char id[16], doc[48];
    store_record rec;
    bs_err err;
    _Atomic int done;
} async_slot;

static void test_async_grouped(void **state)
{
    (void)state;
    need_pg();
    table_make("env_group", "notes");
    async_slot *slots = calloc(ASYNC_MANY, sizeof *slots);
    assert_non_null(slots);
    for (int i = 0; i < ASYNC_MANY; i++) {
        async_slot *a = &slots[i];
        snprintf(a->id, sizeof a->id, "g%d", i == 250 ? 100 : i); /* 250 repeats 100's id */
        snprintf(a->doc, sizeof a->doc, "{\"id\":\"%s\",\"n\":%d}", a->id, i);
        a->rec = record(a->id, a->doc);
        assert_int_equal(store_docs_insert_async(docs, "env_group", "notes", &a->rec, 1, NULL, &a->err, async_done, &a->done), 0);
    }
    int failed = 0;
    for (int i = 0; i < ASYNC_MANY; i++) {
        int rc = async_wait(&slots[i].done) - 100;
        if (rc < 0) {
            failed++;
            assert_int_equal(slots[i].err.status, 409);
            assert_true(i == 100 || i == 250);
        }
    }
    assert_int_equal(failed, 1);
    assert_int_equal(count_of("env_group", "notes"), ASYNC_MANY - 1);
    free(slots);
}

static void test_async(void **state)
{
    (void)state;
    need_pg();
    bs_err err = {0};
    table_make("env_async", "notes");
    store_record r = record("a1", "{\"id\":\"a1\",\"v\":1}");
    _Atomic int done = 0;
    int replaced = -1;
    assert_int_equal(store_docs_insert_async(docs, "env_async", "notes", &r, 1, NULL, &err, async_done, &done), 0);
    assert_int_equal(async_wait(&done), 100);
    strbuf cur;
    strbuf_init(&cur, 0);
    int found = 0;
    assert_int_equal(store_docs_get(docs, "env_async", "notes", "a1", &cur, NULL, &found, &err), 0);
    done = 0;
    assert_int_equal(store_docs_replace_async(docs, "env_async", "notes", "a1", cur.data, "{\"id\":\"a1\",\"v\":2}", "t2",
                                              &replaced, &err, async_done, &done), 0);
    assert_int_equal(async_wait(&done), 100);
    assert_int_equal(replaced, 1);
    done = 0; /* the record changed meanwhile: not replaced */
    assert_int_equal(store_docs_replace_async(docs, "env_async", "notes", "a1", cur.data, "{\"id\":\"a1\",\"v\":3}", "t3",
                                              &replaced, &err, async_done, &done), 0);
    assert_int_equal(async_wait(&done), 100);
    assert_int_equal(replaced, 0);
    strbuf_release(&cur);
}

/* ---- transactions ---- */

static void test_transactions(void **state)
{
    (void)state;
    need_pg();
    bs_err err = {0};
    table_make("env_tx", "notes");
    store_record r1 = record("t1", "{\"id\":\"t1\",\"title\":\"first\"}"), r2 = record("t2", "{\"id\":\"t2\"}");
    store_docs_tx *tx = store_docs_tx_begin(docs, "env_tx", &err);
    assert_non_null(tx);
    assert_int_equal(store_docs_tx_insert(tx, "notes", &r1, &err), 0);
    assert_int_equal(store_docs_tx_insert(tx, "notes", &r2, &err), 0);
    assert_int_equal(store_docs_tx_commit(tx, &err), 0);
    assert_int_equal(count_of("env_tx", "notes"), 2);

    tx = store_docs_tx_begin(docs, "env_tx", &err);
    assert_non_null(tx);
    strbuf out;
    strbuf_init(&out, 0);
    int found = 0;
    assert_int_equal(store_docs_tx_update(tx, "notes", "t1", "t", set_title, (void *)"{\"id\":\"t1\"}", &out, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(store_docs_tx_delete(tx, "notes", "t2", NULL, NULL, &found, &err), 0);
    assert_int_equal(found, 1);
    store_docs_tx_abort(tx); /* nothing of it stays */
    assert_int_equal(count_of("env_tx", "notes"), 2);
    strbuf_reset(&out);
    assert_int_equal(store_docs_get(docs, "env_tx", "notes", "t1", &out, NULL, &found, &err), 0);
    assert_non_null(strstr(out.data, "first"));

    tx = store_docs_tx_begin(docs, "env_tx", &err);
    assert_int_equal(store_docs_tx_delete(tx, "notes", "t2", refuse, NULL, &found, &err), -1);
    assert_int_equal(err.status, 403);
    store_docs_tx_abort(tx);
    assert_int_equal(count_of("env_tx", "notes"), 2);
    strbuf_release(&out);
}

/* ---- versions and indexes ---- */

static void test_versions(void **state)
{
    (void)state;
    need_pg();
    bs_err err = {0};
    table_make("env_versions", "items");
    int found = 0;
    assert_int_equal(store_docs_schema_change(docs, "env_versions", "items", "{\"a\":1}", 2, "tok_2", &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(store_docs_schema_change(docs, "env_versions", "items", "{\"a\":2}", 2, "tok_2", &found, &err), -1);
    assert_string_equal(err.code, "data/conflict");
    store_version *v = NULL;
    size_t n = 0;
    assert_int_equal(store_docs_versions(docs, "env_versions", "items", STORE_VERSION_SCHEMA, &v, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].version, 2);
    assert_string_equal(v[0].body, "{\"a\":1}");
    assert_string_equal(v[0].created_by, "tok_2");
    assert_int_equal(v[1].version, 1);
    store_version_list_free(v, n);
    store_version one;
    assert_int_equal(store_docs_version_get(docs, "env_versions", "items", STORE_VERSION_INDEXES, 1, &one, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(one.body, "[]");
    store_version_release(&one);
    assert_int_equal(store_docs_version_get(docs, "env_versions", "items", STORE_VERSION_SCHEMA, 9, &one, &found, &err), 0);
    assert_int_equal(found, 0);
}

static void test_unique_index(void **state)
{
    (void)state;
    need_pg();
    bs_err err = {0};
    table_make("env_index", "people");
    store_index_def ix;
    memset(&ix, 0, sizeof ix);
    snprintf(ix.name, sizeof ix.name, "email_unique");
    ix.fields[0].kind = QUERY_FIELD_DOC;
    snprintf(ix.fields[0].path, sizeof ix.fields[0].path, "contact.email");
    ix.nfields = 1;
    ix.unique = 1;
    ix.sparse = 1;
    int found = 0;
    const char *json = "[{\"name\":\"email_unique\"}]";
    assert_int_equal(store_docs_indexes_change(docs, "env_index", "people", &ix, 1, NULL, 0, json, 2, "tok", &found, &err), 0);
    assert_int_equal(found, 1);
    store_record a = record("p1", "{\"contact\":{\"email\":\"a@x\"}}"), b = record("p2", "{\"contact\":{\"email\":\"a@x\"}}");
    store_record c = record("p3", "{\"name\":\"no email\"}"), d = record("p4", "{\"name\":\"none either\"}");
    assert_int_equal(store_docs_insert(docs, "env_index", "people", &a, 1, NULL, &err), 0);
    assert_int_equal(store_docs_insert(docs, "env_index", "people", &b, 1, NULL, &err), -1);
    assert_int_equal(err.status, 409);
    assert_string_equal(err.code, "data/duplicate-value");
    assert_int_equal(store_docs_insert(docs, "env_index", "people", &c, 1, NULL, &err), 0); /* sparse */
    assert_int_equal(store_docs_insert(docs, "env_index", "people", &d, 1, NULL, &err), 0);
    store_table t;
    assert_int_equal(store_docs_table_get(docs, "env_index", "people", &t, &found, &err), 0);
    assert_string_equal(t.indexes_json, json);
    assert_int_equal(t.index_version, 2);
    store_table_release(&t);

    const char *drop[] = {"email_unique"}; /* dropped: duplicates go in */
    assert_int_equal(store_docs_indexes_change(docs, "env_index", "people", NULL, 0, drop, 1, "[]", 3, "tok", &found, &err), 0);
    assert_int_equal(store_docs_insert(docs, "env_index", "people", &b, 1, NULL, &err), 0);
    /* a unique index over existing duplicates fails and changes nothing */
    assert_int_equal(store_docs_indexes_change(docs, "env_index", "people", &ix, 1, NULL, 0, json, 4, "tok", &found, &err), -1);
    assert_string_equal(err.code, "data/duplicate-value");
    assert_int_equal(store_docs_table_get(docs, "env_index", "people", &t, &found, &err), 0);
    assert_int_equal(t.index_version, 3);
    store_table_release(&t);
}

/* Names longer than PostgreSQL's 63-byte identifiers: a table name is cut as PostgreSQL cuts it (a second
 * table cut to the same name is refused), index names end in a hash and stay distinct. */
static void test_long_names(void **state)
{
    (void)state;
    need_pg();
    bs_err err = {0};
    char name[STORE_TABLE_NAME_MAX + 1], cut[STORE_TABLE_NAME_MAX + 1], other[STORE_TABLE_NAME_MAX + 1];
    memset(name, 'a', STORE_TABLE_NAME_MAX);
    name[STORE_TABLE_NAME_MAX] = '\0';
    snprintf(cut, sizeof cut, "%s", name);
    cut[STORE_TABLE_NAME_MAX - 1] = 'b'; /* differs only past byte 63 of "d_<name>" */
    snprintf(other, sizeof other, "%s", name);
    other[0] = 'b';
    table_make("env_long", name);
    table_make("env_long", other);
    store_table t;
    memset(&t, 0, sizeof t);
    snprintf(t.id, sizeof t.id, "tbl_cut");
    snprintf(t.name, sizeof t.name, "%s", cut);
    assert_int_equal(store_docs_table_create(docs, "env_long", &t, NULL, &err), -1);
    assert_string_equal(err.code, "data/table-already-exists");

    store_index_def ix;
    memset(&ix, 0, sizeof ix);
    memset(ix.name, 'i', STORE_INDEX_NAME_MAX);
    ix.fields[0].kind = QUERY_FIELD_DOC;
    snprintf(ix.fields[0].path, sizeof ix.fields[0].path, "n");
    ix.nfields = 1;
    int found = 0;
    assert_int_equal(store_docs_indexes_change(docs, "env_long", name, &ix, 1, NULL, 0, "[]", 2, NULL, &found, &err), 0);
    store_record r = record("l1", "{\"n\":1}");
    assert_int_equal(store_docs_insert(docs, "env_long", name, &r, 1, NULL, &err), 0);
    assert_int_equal(count_of("env_long", name), 1);
    assert_int_equal(count_of("env_long", other), 0);
    const char *drop[] = {ix.name};
    assert_int_equal(store_docs_indexes_change(docs, "env_long", name, NULL, 0, drop, 1, "[]", 3, NULL, &found, &err), 0);
    assert_int_equal(store_docs_table_drop(docs, "env_long", name, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(count_of("env_long", other), 0);
}

/* Physical index names read back into API names (what explain answers); no server needed. */
static void test_index_api_names(void **state)
{
    (void)state;
    char out[80], phys[DOCS_PG_IDENT_MAX], longt[STORE_TABLE_NAME_MAX + 1];
    docs_pg_index_api_name("posts", "d_posts_pkey", out, sizeof out);
    assert_string_equal(out, "_id_");
    docs_pg_index_api_name("posts", "d_posts$createdAt", out, sizeof out);
    assert_string_equal(out, "idx_createdAt_desc");
    docs_pg_index_api_name("posts", "d_posts$createdBy", out, sizeof out);
    assert_string_equal(out, "idx_createdBy");
    docs_pg_index_api_name("posts", "d_posts$x_by_title", out, sizeof out);
    assert_string_equal(out, "by_title");
    docs_pg_index_api_name("posts", "something_else", out, sizeof out);
    assert_string_equal(out, "something_else");
    memset(longt, 'q', STORE_TABLE_NAME_MAX);
    longt[STORE_TABLE_NAME_MAX] = '\0';
    docs_pg_physical_name(phys, longt, "$updatedAt");
    assert_int_equal(strlen(phys), DOCS_PG_IDENT_MAX - 1);
    docs_pg_index_api_name(longt, phys, out, sizeof out);
    assert_string_equal(out, "idx_updatedAt_desc");
}

/* ---- environments ---- */

static void test_isolation(void **state)
{
    (void)state;
    need_pg();
    bs_err err = {0};
    const char *envs[] = {"env_iso_a", "slot7", "slot8"};
    for (size_t i = 0; i < 3; i++) table_make(envs[i], "shared_name");
    store_record r = record("same", "{\"id\":\"same\"}");
    assert_int_equal(store_docs_insert(docs, "env_iso_a", "shared_name", &r, 1, NULL, &err), 0);
    assert_int_equal(store_docs_insert(docs, "slot7", "shared_name", &r, 1, NULL, &err), 0);
    assert_int_equal(count_of("env_iso_a", "shared_name"), 1);
    assert_int_equal(count_of("slot7", "shared_name"), 1);
    assert_int_equal(count_of("slot8", "shared_name"), 0);
    uint64_t bytes = 0;
    assert_int_equal(store_docs_env_bytes(docs, "slot7", &bytes, &err), 0);
    assert_true(bytes > 0);
}

/* Threads using new environments at once: each environment's database and schema are made once, every
 * thread gets them. */
#define RACE_THREADS 6

static void *race_main(void *arg)
{
    long i = (long)arg;
    char table[16];
    snprintf(table, sizeof table, "t%ld", i);
    const char *envs[] = {"env_race", "slot41"};
    for (size_t k = 0; k < 2; k++) {
        store_table t;
        memset(&t, 0, sizeof t);
        snprintf(t.id, sizeof t.id, "tbl_%ld", i);
        snprintf(t.name, sizeof t.name, "%s", table);
        bs_err err = {0};
        if (store_docs_table_create(docs, envs[k], &t, NULL, &err) < 0) {
            fprintf(stderr, "race %ld %s: %d %s %s\n", i, envs[k], err.status, err.code, err.message);
            return (void *)1;
        }
        store_record r = record("x", "{\"id\":\"x\"}");
        if (store_docs_insert(docs, envs[k], table, &r, 1, NULL, &err) < 0) return (void *)1;
    }
    return NULL;
}

static void test_first_use_race(void **state)
{
    (void)state;
    need_pg();
    pthread_t th[RACE_THREADS];
    for (long i = 0; i < RACE_THREADS; i++) assert_int_equal(pthread_create(&th[i], NULL, race_main, (void *)i), 0);
    for (long i = 0; i < RACE_THREADS; i++) {
        void *rc = NULL;
        pthread_join(th[i], &rc);
        assert_null(rc);
    }
    store_table *list = NULL;
    size_t n = 0;
    bs_err err = {0};
    assert_int_equal(store_docs_table_list(docs, "env_race", &list, &n, &err), 0);
    assert_int_equal(n, RACE_THREADS);
    store_table_list_free(list, n);
    assert_int_equal(count_of("slot41", "t0"), 1);
}

static void test_env_drop(void **state)
{
    (void)state;
    need_pg();
    bs_err err = {0};
    table_make("slot3", "things");
    table_make("env_gone", "things");
    char sql[256], db[128];
    assert_true(pg_true(main_url, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 's3')"));
    snprintf(db, sizeof db, "%s_env_gone", main_db);
    snprintf(sql, sizeof sql, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = '%s')", db);
    assert_true(pg_true(main_url, sql));

    assert_int_equal(store_docs_env_drop(docs, "slot3", &err), 0);
    assert_true(pg_true(main_url, "SELECT NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 's3')"));
    assert_int_equal(store_docs_env_drop(docs, "env_gone", &err), 0);
    assert_false(pg_true(main_url, sql));

    /* the slot is reused by another environment: it starts empty */
    store_table *list = NULL;
    size_t n = 9;
    assert_int_equal(store_docs_table_list(docs, "slot3", &list, &n, &err), 0);
    assert_int_equal(n, 0);
    store_table_list_free(list, n);
}

/* Text that is not UTF-8 never reaches PostgreSQL (a UTF8 database refuses it: a 500): a table name or an
 * id no record can have is not found, as on SQLite; any other such text is the client's 400. */
static void test_invalid_utf8(void **state)
{
    (void)state;
    need_pg();
    bs_err err = {0};
    table_make("env_utf8", "notes");
    store_table t;
    int found = 1;
    assert_int_equal(store_docs_table_get(docs, "env_utf8", "\xff", &t, &found, &err), 0);
    assert_int_equal(found, 0);
    store_table_release(&t);
    strbuf out;
    strbuf_init(&out, 0);
    char by[65];
    found = 1;
    assert_int_equal(store_docs_get(docs, "env_utf8", "notes", "\xed\xa0\x80", &out, by, &found, &err), 0);
    assert_int_equal(found, 0);
    found = 1;
    assert_int_equal(store_docs_delete(docs, "env_utf8", "notes", "a\xc3", &found, &err), 0);
    assert_int_equal(found, 0);
    store_record bad = record("\xc0\xaf", "{}");
    assert_int_equal(store_docs_insert(docs, "env_utf8", "notes", &bad, 1, NULL, &err), -1);
    assert_int_equal(err.status, 400);
    assert_string_equal(err.code, "common/invalid-parameters");
    assert_int_equal(count_of("env_utf8", "notes"), 0);
    strbuf_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_api_names),
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_async),
        cmocka_unit_test(test_async_grouped),
        cmocka_unit_test(test_transactions),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_unique_index),
        cmocka_unit_test(test_long_names),
        cmocka_unit_test(test_isolation),
        cmocka_unit_test(test_first_use_race),
        cmocka_unit_test(test_env_drop),
        cmocka_unit_test(test_invalid_utf8),
    };
    if (!getenv("BASALT_TEST_PG_URL") || !*getenv("BASALT_TEST_PG_URL")) {
        printf("test_docs_pg: skipped (BASALT_TEST_PG_URL is not set; run under tests/pg/with-pg.sh)\n");
        return 0;
    }
    srandom((unsigned)getpid());
    return cmocka_run_group_tests(tests, setup, teardown);
}
