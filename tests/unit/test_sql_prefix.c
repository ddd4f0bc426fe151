/* Unit tests of store/sqlite/sql_prefix.h: the per-slot rewrite of environment SQL (identifiers bare and
 * quoted get the prefix, literals, comments, blobs, parameters, columns and functions do not), the reverse
 * strip of names SQLite gives back (EXPLAIN QUERY PLAN lines), the name and prefix checks, and the real
 * statement shapes of the drivers (CREATE/DROP, indexes, json paths).
 *
 * Then the same through the docs store on a temporary data directory with a locator (store/docs.h): two
 * environments in one shared file with the same table name, end users in each, slot deletion (the other
 * slot intact, a reused slot empty), concurrent writers of two environments of one file (busy waits, never
 * fails), and a file of its own from before _basalt_meta (PRAGMA user_version) kept and carried on. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/docs.h"
#include "store/sqlite/sql_prefix.h"
#include "store/users.h"

static void expect_add(const char *sql, const char *prefix, const char *want)
{
    strbuf out;
    strbuf_init(&out, 0);
    assert_int_equal(sql_prefix_add(&out, sql, prefix), 0);
    assert_string_equal(out.data ? out.data : "", want);
    strbuf_release(&out);
}

static void expect_strip(const char *text, const char *prefix, const char *want)
{
    strbuf out;
    strbuf_init(&out, 0);
    assert_int_equal(sql_prefix_strip(&out, text, prefix), 0);
    assert_string_equal(out.data ? out.data : "", want);
    strbuf_release(&out);
}

static void test_env_names(void **state)
{
    (void)state;
    const char *yes[] = {"d_posts", "d_posts__createdAt", "D_Posts", "_basalt_tables", "_basalt_versions", "_basalt_meta",
                         "_auth_users", "_AUTH_sessions", "_auth_sessions_user", "_auth_audit_at", "_objects", "_files",
                         "_files_owner", "_uploads", "_upload_parts"};
    const char *no[] = {"doc", "id", "created_by", "deleted_at", "display_name", "data", "d", "basalt_regexp", "json_extract",
                        "json_tree", "_rowid_", "sqlite_master", "sqlite_autoindex_d_x_1", "s3_d_posts", "key", "value", "t",
                        "_auth", "_file", "_upload", "auth_users", "upload_id", "owner_id"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (!sql_prefix_is_env_name(yes[i], strlen(yes[i]))) fail_msg("%s should be an environment name", yes[i]);
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (sql_prefix_is_env_name(no[i], strlen(no[i]))) fail_msg("%s should not be an environment name", no[i]);
}

static void test_prefix_valid(void **state)
{
    (void)state;
    assert_true(sql_prefix_valid("s3_"));
    assert_true(sql_prefix_valid("s99_"));
    assert_true(sql_prefix_valid("slot_12_"));
    assert_false(sql_prefix_valid(""));
    assert_false(sql_prefix_valid("_"));
    assert_false(sql_prefix_valid("s3"));         /* no trailing '_' */
    assert_false(sql_prefix_valid("3s_"));        /* not a letter first */
    assert_false(sql_prefix_valid("_x_"));
    assert_false(sql_prefix_valid("d_"));         /* an object name itself: rewriting twice would double it */
    assert_false(sql_prefix_valid("d_3_"));
    assert_false(sql_prefix_valid("s\"3_"));
    assert_false(sql_prefix_valid("s 3_"));
    assert_false(sql_prefix_valid("abcdefghijklmno_")); /* 16 characters */
}

static void test_bare_and_quoted(void **state)
{
    (void)state;
    expect_add("SELECT doc FROM \"d_posts\" WHERE id = ?", "s3_", "SELECT doc FROM \"s3_d_posts\" WHERE id = ?");
    expect_add("SELECT name FROM _basalt_tables ORDER BY name", "s3_", "SELECT name FROM s3__basalt_tables ORDER BY name");
    expect_add("SELECT \"d_x\".\"doc\" FROM \"d_x\"", "s3_", "SELECT \"s3_d_x\".\"doc\" FROM \"s3_d_x\"");
    expect_add("SELECT `d_x`.id, [d_y].id FROM `d_x`, [d_y]", "s1_", "SELECT `s1_d_x`.id, [s1_d_y].id FROM `s1_d_x`, [s1_d_y]");
    expect_add("SELECT main._files.key FROM main._files", "s0_", "SELECT main.s0__files.key FROM main.s0__files");
    expect_add("SELECT * FROM \"d_my-table\"", "s7_", "SELECT * FROM \"s7_d_my-table\"");
    expect_add("SELECT 1 FROM \"d_a\"\"b\"", "s7_", "SELECT 1 FROM \"s7_d_a\"\"b\"");
    /* no prefix needed: the text is copied exactly */
    expect_add("SELECT doc FROM \"d_posts\"", "s3_", "SELECT doc FROM \"s3_d_posts\"");
    expect_add("BEGIN IMMEDIATE", "s3_", "BEGIN IMMEDIATE");
    expect_add("", "s3_", "");
}

static void test_literals_comments_params_untouched(void **state)
{
    (void)state;
    expect_add("SELECT 'd_posts', '_auth_users', 'it''s d_x' FROM d_t", "s3_",
               "SELECT 'd_posts', '_auth_users', 'it''s d_x' FROM s3_d_t");
    expect_add("SELECT json_extract(doc,'$.d_x') FROM \"d_t\" WHERE json_type(doc,'$._files') IS NOT NULL", "s3_",
               "SELECT json_extract(doc,'$.d_x') FROM \"s3_d_t\" WHERE json_type(doc,'$._files') IS NOT NULL");
    expect_add("SELECT doc->'$.d_a' FROM d_t", "s3_", "SELECT doc->'$.d_a' FROM s3_d_t");
    expect_add("SELECT x'd0', X'5F' FROM d_t", "s3_", "SELECT x'd0', X'5F' FROM s3_d_t");
    expect_add("-- d_x comment\nSELECT 1 FROM d_x /* _auth_users */", "s3_",
               "-- d_x comment\nSELECT 1 FROM s3_d_x /* _auth_users */");
    expect_add("SELECT 1 FROM d_x WHERE a = :d_y AND b = @_auth_z AND c = $d_w AND d = ?1", "s3_",
               "SELECT 1 FROM s3_d_x WHERE a = :d_y AND b = @_auth_z AND c = $d_w AND d = ?1");
    expect_add("SELECT 1e5, 0x1F, 3.5 FROM d_x", "s3_", "SELECT 1e5, 0x1F, 3.5 FROM s3_d_x");
    /* an unterminated literal or comment keeps the rest untouched */
    expect_add("SELECT 'd_x FROM d_y", "s3_", "SELECT 'd_x FROM d_y");
    expect_add("SELECT 1 /* d_y", "s3_", "SELECT 1 /* d_y");
}

static void test_columns_and_functions_untouched(void **state)
{
    (void)state;
    const char *sql = "SELECT id, created_by, created_at, updated_at, doc, deleted_at, display_name, upload_id, "
                      "basalt_regexp(?, 0, doc), json_object('id',id), instr(lower(t.value), lower(?)) "
                      "FROM json_tree(doc) AS t WHERE _rowid_ > 0";
    expect_add(sql, "s3_", sql);
}

static void test_statement_shapes(void **state)
{
    (void)state;
    expect_add("CREATE TABLE \"d_p\" (id TEXT PRIMARY KEY NOT NULL, created_by TEXT NOT NULL DEFAULT '',"
               " created_at TEXT NOT NULL, updated_at TEXT NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID;"
               "CREATE INDEX \"d_p__createdAt\" ON \"d_p\"(created_at DESC, id DESC);",
               "s12_",
               "CREATE TABLE \"s12_d_p\" (id TEXT PRIMARY KEY NOT NULL, created_by TEXT NOT NULL DEFAULT '',"
               " created_at TEXT NOT NULL, updated_at TEXT NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID;"
               "CREATE INDEX \"s12_d_p__createdAt\" ON \"s12_d_p\"(created_at DESC, id DESC);");
    expect_add("CREATE UNIQUE INDEX \"d_p__x_byEmail\" ON \"d_p\"(json_extract(doc,'$.email') ASC)"
               " WHERE json_type(doc,'$.email') IS NOT NULL",
               "s1_",
               "CREATE UNIQUE INDEX \"s1_d_p__x_byEmail\" ON \"s1_d_p\"(json_extract(doc,'$.email') ASC)"
               " WHERE json_type(doc,'$.email') IS NOT NULL");
    expect_add("DROP INDEX IF EXISTS \"d_p__x_old\"", "s1_", "DROP INDEX IF EXISTS \"s1_d_p__x_old\"");
    expect_add("DROP TABLE \"d_p\"", "s1_", "DROP TABLE \"s1_d_p\"");
    expect_add("CREATE TABLE IF NOT EXISTS _auth_sessions (id TEXT PRIMARY KEY NOT NULL, user_id TEXT NOT NULL);"
               "CREATE INDEX IF NOT EXISTS _auth_sessions_user ON _auth_sessions (user_id, created_at);",
               "s2_",
               "CREATE TABLE IF NOT EXISTS s2__auth_sessions (id TEXT PRIMARY KEY NOT NULL, user_id TEXT NOT NULL);"
               "CREATE INDEX IF NOT EXISTS s2__auth_sessions_user ON s2__auth_sessions (user_id, created_at);");
    expect_add("ALTER TABLE _auth_users ADD COLUMN banned_at INTEGER NOT NULL DEFAULT 0;", "s2_",
               "ALTER TABLE s2__auth_users ADD COLUMN banned_at INTEGER NOT NULL DEFAULT 0;");
    expect_add("INSERT OR REPLACE INTO _upload_parts (upload_id, etag, number, size) VALUES (?,?,?,?)", "s2_",
               "INSERT OR REPLACE INTO s2__upload_parts (upload_id, etag, number, size) VALUES (?,?,?,?)");
    expect_add("SELECT count(*) FROM _files WHERE (?1 IS NULL OR visibility IN ('public', 'protected')"
               " OR EXISTS (SELECT 1 FROM json_each(shared_with) WHERE value = ?1))",
               "s2_",
               "SELECT count(*) FROM s2__files WHERE (?1 IS NULL OR visibility IN ('public', 'protected')"
               " OR EXISTS (SELECT 1 FROM json_each(shared_with) WHERE value = ?1))");
    expect_add("INSERT OR REPLACE INTO _basalt_meta (key, value) VALUES ('schema_version', ?)", "s2_",
               "INSERT OR REPLACE INTO s2__basalt_meta (key, value) VALUES ('schema_version', ?)");
}

static void test_idempotent_on_prefixed_names(void **state)
{
    (void)state;
    /* names that already carry the prefix are not object names: a second pass changes nothing */
    expect_add("DROP TABLE \"s3_d_p\"; DROP INDEX s3__files_owner", "s3_", "DROP TABLE \"s3_d_p\"; DROP INDEX s3__files_owner");
}

static void test_strip(void **state)
{
    (void)state;
    expect_strip("SEARCH s3_d_posts USING INDEX s3_d_posts__x_byTitle (<expr>=?)", "s3_",
                 "SEARCH d_posts USING INDEX d_posts__x_byTitle (<expr>=?)");
    expect_strip("SCAN s3_d_posts USING COVERING INDEX s3_d_posts__createdAt", "s3_",
                 "SCAN d_posts USING COVERING INDEX d_posts__createdAt");
    expect_strip("SCAN s3_d_my-table", "s3_", "SCAN d_my-table");
    expect_strip("SCAN t VIRTUAL TABLE INDEX 0:", "s3_", "SCAN t VIRTUAL TABLE INDEX 0:");
    expect_strip("USE TEMP B-TREE FOR ORDER BY", "s3_", "USE TEMP B-TREE FOR ORDER BY");
    /* another slot's names, and prefixed names that are no object names, stay */
    expect_strip("SCAN s30_d_posts", "s3_", "SCAN s30_d_posts");
    expect_strip("SCAN s3_other", "s3_", "SCAN s3_other");
    expect_strip("SCAN \"s3_d_x\"", "s3_", "SCAN \"d_x\"");
    expect_strip("SCAN s3_d_posts", "", "SCAN s3_d_posts");
}

static void test_round_trip(void **state)
{
    (void)state;
    const char *sql = "SELECT doc, json_extract(doc,'$.title'), id FROM \"d_posts\" WHERE created_by = ? ORDER BY"
                      " json_extract(doc,'$.title') ASC, id ASC LIMIT ? OFFSET ?";
    strbuf added, back;
    strbuf_init(&added, 0);
    strbuf_init(&back, 0);
    assert_int_equal(sql_prefix_add(&added, sql, "s42_"), 0);
    assert_non_null(strstr(added.data, "\"s42_d_posts\""));
    assert_int_equal(sql_prefix_strip(&back, added.data, "s42_"), 0);
    assert_string_equal(back.data, sql);
    strbuf_release(&added);
    strbuf_release(&back);
}

static void test_overflow(void **state)
{
    (void)state;
    strbuf out;
    strbuf_init(&out, 16);
    assert_int_equal(sql_prefix_add(&out, "SELECT doc FROM \"d_posts\" WHERE id = ?", "s3_"), -1);
    strbuf_release(&out);
}

/* ---- through the docs store ---- */

/* envA → shared-1 slot 1, envB → shared-1 slot 2, envC → shared-1 slot 1 (a reused slot), others their own file. */
static int test_locate(void *arg, const char *env_id, store_env_location *out, bs_err *err)
{
    (void)arg;
    (void)err;
    memset(out, 0, sizeof *out);
    const char *prefix = !strcmp(env_id, "envA") || !strcmp(env_id, "envC") ? "s1_" : !strcmp(env_id, "envB") ? "s2_" : NULL;
    if (!prefix) {
        snprintf(out->file, sizeof out->file, "envs/%s.db", env_id);
        return 0;
    }
    snprintf(out->file, sizeof out->file, "clusters/shared-1.db");
    snprintf(out->prefix, sizeof out->prefix, "%s", prefix);
    return 0;
}

typedef struct data_dir {
    char path[64];
    store_docs *docs;
} data_dir;

static store_docs *docs_open(const char *path, int with_locator)
{
    bs_err err;
    store_docs *d = store_docs_open(path, &err);
    if (!d) fail_msg("store_docs_open: %s", err.message);
    if (with_locator) store_docs_set_locator(d, test_locate, NULL);
    return d;
}

static int setup_dir(void **state)
{
    data_dir *dd = calloc(1, sizeof *dd);
    snprintf(dd->path, sizeof dd->path, "/tmp/basalt-sqlprefix-XXXXXX");
    if (!dd || !mkdtemp(dd->path)) return -1;
    dd->docs = docs_open(dd->path, 1);
    *state = dd;
    return 0;
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown_dir(void **state)
{
    data_dir *dd = *state;
    store_docs_free(dd->docs);
    nftw(dd->path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    free(dd);
    return 0;
}

static void table_make(store_docs *d, const char *env, const char *name)
{
    store_table t;
    bs_err err;
    memset(&t, 0, sizeof t);
    snprintf(t.id, sizeof t.id, "tbl_%s_%s", env, name);
    snprintf(t.name, sizeof t.name, "%s", name);
    t.created_at = t.updated_at = 1;
    if (store_docs_table_create(d, env, &t, NULL, &err) != 0) fail_msg("table create %s/%s: %s", env, name, err.message);
}

static void record_put(store_docs *d, const char *env, const char *table, const char *id, const char *doc)
{
    store_record r = {.id = id, .created_by = "", .created_at = "2024-01-01T00:00:00.000Z",
                      .updated_at = "2024-01-01T00:00:00.000Z", .doc = doc};
    bs_err err;
    if (store_docs_insert(d, env, table, &r, 1, NULL, &err) != 0) fail_msg("insert %s/%s: %s", env, id, err.message);
}

static int64_t count_of(store_docs *d, const char *env, const char *table)
{
    int64_t n = -1;
    bs_err err;
    if (store_docs_count(d, env, table, &n, &err) != 0) return -1;
    return n;
}

static size_t tables_of(store_docs *d, const char *env)
{
    store_table *list = NULL;
    size_t n = 0;
    bs_err err;
    if (store_docs_table_list(d, env, &list, &n, &err) != 0) fail_msg("table list %s: %s", env, err.message);
    store_table_list_free(list, n);
    return n;
}

static void user_make(store_docs *d, const char *env, const char *id, const char *email)
{
    store_user *u = calloc(1, sizeof *u);
    bs_err err;
    snprintf(u->id, sizeof u->id, "%s", id);
    snprintf(u->email, sizeof u->email, "%s", email);
    snprintf(u->profile, sizeof u->profile, "{}");
    u->mfa_last_step = -1;
    if (store_users_create(d, env, u, &err) != 0) fail_msg("user %s/%s: %s", env, email, err.message);
    free(u);
}

static int user_exists(store_docs *d, const char *env, const char *email)
{
    store_user *u = calloc(1, sizeof *u);
    int found = 0;
    bs_err err;
    if (store_users_by_email(d, env, email, u, &found, &err) != 0) fail_msg("user lookup %s: %s", env, err.message);
    free(u);
    return found;
}

/* The names of the file's objects that start with prefix, counted. */
static int objects_with(const char *dir, const char *prefix)
{
    char path[128];
    snprintf(path, sizeof path, "%s/clusters/shared-1.db", dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int n = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE substr(name, 1, length(?1)) = ?1", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void test_store_shared_file(void **state)
{
    data_dir *dd = *state;
    store_docs *d = dd->docs;
    table_make(d, "envA", "posts");
    table_make(d, "envB", "posts");
    record_put(d, "envA", "posts", "a1", "{\"id\":\"a1\",\"title\":\"from A\"}");
    record_put(d, "envA", "posts", "a2", "{\"id\":\"a2\",\"title\":\"from A\"}");
    record_put(d, "envB", "posts", "b1", "{\"id\":\"b1\",\"title\":\"from B\"}");
    user_make(d, "envA", "u_a", "same@example.com");
    user_make(d, "envB", "u_b", "same@example.com"); /* one e-mail per environment, not per file */
    assert_int_equal(count_of(d, "envA", "posts"), 2);
    assert_int_equal(count_of(d, "envB", "posts"), 1);
    strbuf out;
    strbuf_init(&out, 0);
    int found = 0;
    bs_err err;
    assert_int_equal(store_docs_get(d, "envB", "posts", "a1", &out, NULL, &found, &err), 0);
    assert_false(found);
    strbuf_release(&out);
    char path[128];
    struct stat sb;
    snprintf(path, sizeof path, "%s/envs/envA.db", dd->path);
    assert_int_not_equal(stat(path, &sb), 0); /* nothing of theirs in a file of their own */
    assert_true(objects_with(dd->path, "s1_d_posts") >= 4); /* the table and its three indexes */
    assert_true(objects_with(dd->path, "s2_d_posts") >= 4);
    assert_int_equal(objects_with(dd->path, "d_"), 0);
    assert_int_equal(objects_with(dd->path, "_"), 0);

    /* query analysis answers the plain names */
    query_plan plan;
    memset(&plan, 0, sizeof plan);
    plan.page = 1;
    plan.limit = 10;
    plan.sort.kind = QUERY_FIELD_CREATED_AT;
    plan.sort_desc = 1;
    store_explain ex;
    assert_int_equal(store_docs_explain(d, "envA", "posts", &plan, NULL, &ex, &err), 0);
    assert_string_equal(ex.index, "idx_createdAt_desc");
    const char *steps = json_object_to_json_string(ex.steps);
    assert_null(strstr(steps, "s1_"));
    assert_non_null(strstr(steps, "d_posts"));
    store_explain_release(&ex);

    /* deleting envA empties its slot only */
    assert_int_equal(store_docs_env_drop(d, "envA", &err), 0);
    assert_int_equal(objects_with(dd->path, "s1_"), 0);
    assert_true(objects_with(dd->path, "s2_") > 10);
    assert_int_equal(count_of(d, "envB", "posts"), 1);
    assert_true(user_exists(d, "envB", "same@example.com"));
    /* envC takes the freed slot: it starts empty */
    assert_int_equal(tables_of(d, "envC"), 0);
    assert_false(user_exists(d, "envC", "same@example.com"));
    assert_int_equal(objects_with(dd->path, "s1_d_"), 0);
}

typedef struct writer_arg {
    store_docs *docs;
    const char *env;
    int thread, failures;
} writer_arg;

#define WRITES_PER_THREAD 150

static void *writer_thread(void *p)
{
    writer_arg *a = p;
    for (int i = 0; i < WRITES_PER_THREAD; i++) {
        char id[32], doc[96];
        snprintf(id, sizeof id, "t%d_%d", a->thread, i);
        snprintf(doc, sizeof doc, "{\"id\":\"%s\",\"n\":%d}", id, i);
        store_record r = {.id = id, .created_by = "", .created_at = "2024-01-01T00:00:00.000Z",
                          .updated_at = "2024-01-01T00:00:00.000Z", .doc = doc};
        bs_err err;
        int rc;
        if (i % 10 == 0) { /* now and then a transaction of its own beside the grouped writes */
            store_docs_tx *tx = store_docs_tx_begin(a->docs, a->env, &err);
            rc = tx ? store_docs_tx_insert(tx, "items", &r, &err) : -1;
            rc = tx ? (rc == 0 ? store_docs_tx_commit(tx, &err) : (store_docs_tx_abort(tx), -1)) : -1;
        } else {
            rc = store_docs_insert(a->docs, a->env, "items", &r, 1, NULL, &err);
        }
        if (rc != 0) {
            a->failures++;
            fprintf(stderr, "write %s/%s: %d %s\n", a->env, id, err.status, err.message);
        }
    }
    return NULL;
}

static void test_store_concurrent_writers(void **state)
{
    data_dir *dd = *state;
    table_make(dd->docs, "envA", "items");
    table_make(dd->docs, "envB", "items");
    enum { THREADS = 6 };
    pthread_t t[THREADS];
    writer_arg args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (writer_arg){.docs = dd->docs, .env = i % 2 ? "envB" : "envA", .thread = i};
        assert_int_equal(pthread_create(&t[i], NULL, writer_thread, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < THREADS; i++) assert_int_equal(args[i].failures, 0);
    assert_int_equal(count_of(dd->docs, "envA", "items"), THREADS / 2 * WRITES_PER_THREAD);
    assert_int_equal(count_of(dd->docs, "envB", "items"), THREADS / 2 * WRITES_PER_THREAD);
}

static void test_store_legacy_file_kept(void **state)
{
    data_dir *dd = *state;
    /* a file of its own as a build before _basalt_meta left it: written without a locator, then the
     * version row dropped (PRAGMA user_version still counts the steps) */
    store_docs *plain = docs_open(dd->path, 0);
    table_make(plain, "envA", "old");
    record_put(plain, "envA", "old", "o1", "{\"id\":\"o1\"}");
    store_docs_free(plain);
    char path[128];
    snprintf(path, sizeof path, "%s/envs/envA.db", dd->path);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DROP TABLE _basalt_meta", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    /* with the locator, envA would be on shared-1: its file of its own wins, and opens without re-running steps */
    assert_int_equal(count_of(dd->docs, "envA", "old"), 1);
    assert_int_equal(objects_with(dd->path, "s1_"), -1); /* the shared file was never even created */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT value FROM _basalt_meta WHERE key = 'schema_version'", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    assert_true(version >= 2);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), version);
    sqlite3_finalize(st);
    sqlite3_close(db);
    /* deleting it removes its file */
    bs_err err;
    assert_int_equal(store_docs_env_drop(dd->docs, "envA", &err), 0);
    struct stat sb;
    assert_int_not_equal(stat(path, &sb), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_env_names),
        cmocka_unit_test(test_prefix_valid),
        cmocka_unit_test(test_bare_and_quoted),
        cmocka_unit_test(test_literals_comments_params_untouched),
        cmocka_unit_test(test_columns_and_functions_untouched),
        cmocka_unit_test(test_statement_shapes),
        cmocka_unit_test(test_idempotent_on_prefixed_names),
        cmocka_unit_test(test_strip),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test_setup_teardown(test_store_shared_file, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_store_concurrent_writers, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_store_legacy_file_kept, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
