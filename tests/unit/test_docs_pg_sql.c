/* Unit tests of the PostgreSQL list compiler (store/postgres/docs_pg_sql.c), differential: the same ~200
 * varied records (strings with unicode, ints and floats, booleans, nulls, missing fields, nested objects,
 * arrays, dates, fields of mixed types, ties on createdAt) go into the SQLite data store and into a
 * PostgreSQL records table made by hand per docs_pg_sql.h's layout; then every request shape below (every
 * operator, and/or groups, row filters, the `self` filter, sorts on system and document fields, pages,
 * `after` cursors, select with dotted paths, search, $regex) is listed on both, and the items, totals,
 * has_more and cursors must be equal. Then EXPLAIN: an equality filter sorted by createdAt over an
 * expression index built from docs_pg_sql_key is one index scan. Needs BASALT_TEST_PG_URL
 * (tests/pg/with-pg.sh); skipped without it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/query.h"
#include "core/schema.h"
#include "store/postgres/docs_pg_counts.h"
#include "store/docs.h"
#include "store/postgres/docs_pg_sql.h"
#include "util/strbuf.h"

#define ENV "envpgsql"
#define NRECORDS 200

static const char *const schema_text =
    "{\"bsonType\":\"object\",\"properties\":{"
    "\"when\":{\"bsonType\":\"date\"},"
    "\"meta\":{\"bsonType\":\"object\",\"properties\":{\"author\":{\"bsonType\":\"string\"},"
    "\"n\":{\"bsonType\":\"double\"},\"inner\":{\"bsonType\":\"object\",\"properties\":{\"x\":{\"bsonType\":\"int\"}}}}}}}";

typedef struct fixture {
    char dir[128];
    store_docs *docs;
    schema *s;
    pg_pool *pool;
    docs_pg_env env;
} fixture;

static const char *const titles[] = {"Alpha one", "alpha two", "BETA", "beta gamma", "Ünïcödé", "ÉCOLE",
                                     "école", "naïve café", "日本語テキスト", "100% sure", "under_score",
                                     "quote \" and \\ slash", "", "Zeta", "zz top", "a",
                                     "line one\nline two", "end 42"};
static const char *const statuses[] = {"draft", "published", "archived", "Draft"};

/* The i-th record's document (without system fields). */
static void record_doc(int i, strbuf *d)
{
    strbuf_append_str(d, "{\"title\":");
    const char *t = titles[i % (int)(sizeof titles / sizeof *titles)];
    strbuf_append_json_string(d, t, strlen(t));
    if (i % 11 != 5) strbuf_appendf(d, ",\"status\":\"%s\"", statuses[(i * 7) % 4]);
    switch (i % 7) { /* n: ints, floats, null, missing */
    case 0: strbuf_appendf(d, ",\"n\":%d", i - 100); break;
    case 1: strbuf_appendf(d, ",\"n\":%d.5", i % 13 - 6); break;
    case 2: strbuf_append_str(d, ",\"n\":null"); break;
    case 3: break;
    case 4: strbuf_appendf(d, ",\"n\":%d", i % 5); break;
    case 5: strbuf_appendf(d, ",\"n\":0.%d", i % 9 + 1); break;
    default: strbuf_appendf(d, ",\"n\":%d", (i * 37) % 1000); break;
    }
    switch (i % 9) { /* mix: every scalar type in one field */
    case 0: strbuf_appendf(d, ",\"mix\":%d", i % 4); break;
    case 1: strbuf_appendf(d, ",\"mix\":\"s%d\"", i % 6); break;
    case 2: strbuf_append_str(d, ",\"mix\":true"); break;
    case 3: strbuf_append_str(d, ",\"mix\":false"); break;
    case 4: strbuf_append_str(d, ",\"mix\":null"); break;
    case 5: break;
    case 6: strbuf_appendf(d, ",\"mix\":%d.25", i % 3); break;
    case 7: strbuf_appendf(d, ",\"mix\":\"%d\"", i % 4); break;
    default: strbuf_append_str(d, ",\"mix\":\"\""); break;
    }
    if (i % 3 == 0) strbuf_appendf(d, ",\"flag\":%s", i % 2 ? "true" : "false");
    if (i % 4 != 3)
        strbuf_appendf(d, ",\"meta\":{\"author\":\"%s\",\"n\":%d.5,\"inner\":{\"x\":%d}}", i % 2 ? "Ann" : "bob",
                       i % 10, i % 4);
    else if (i % 8 == 3)
        strbuf_append_str(d, ",\"meta\":\"plain\""); /* not an object: its paths are missing */
    if (i % 17 == 0) strbuf_appendf(d, ",\"big\":%lld", 9007199254740993LL + i);
    static const char *const huge[] = {"1.7976931348623157e308", "-1.7976931348623157e+308", "1e+20", "5.0",
                                       "0.6", "1.5e300", "-2.5E-3"};
    if (i % 19 == 4) strbuf_appendf(d, ",\"huge\":%s", huge[(i / 19) % 7]); /* jsonb prints these otherwise */
    if (i % 5 == 1) strbuf_appendf(d, ",\"tags\":[\"t%d\",\"Red\",\"x%d\"]", i % 3, i);
    if (i % 6 != 2) strbuf_appendf(d, ",\"when\":\"2024-0%d-%02dT10:00:00.000Z\"", i % 9 + 1, i % 28 + 1);
    if (i % 10 == 0) strbuf_append_str(d, ",\"obj\":{\"a\":1,\"b\":[1,2]}");
    if (i % 13 == 0) strbuf_append_str(d, ",\"deep\":{\"list\":[{\"word\":\"Needle\"}]}");
    strbuf_append_char(d, '}');
}

typedef struct rec_ids {
    char id[32], by[8], created[48], updated[48];
} rec_ids;

static void record_ids(int i, rec_ids *r)
{
    snprintf(r->id, sizeof r->id, "%08x", (unsigned)((uint32_t)(i + 1) * 2654435761u)); /* not in insert order */
    snprintf(r->by, sizeof r->by, "%s", i % 4 == 3 ? "" : (i % 4 == 0 ? "u1" : (i % 4 == 1 ? "u2" : "u3")));
    snprintf(r->created, sizeof r->created, "2024-01-%02dT00:00:00.000Z", i % 20 + 1); /* ties */
    snprintf(r->updated, sizeof r->updated, "2024-02-01T00:00:%02d.%03dZ", i % 60, i);
}

/* The SQLite record: the document with its system fields. */
static char *sqlite_doc(const char *doc, const rec_ids *r)
{
    strbuf s;
    strbuf_init(&s, 0);
    strbuf_append(&s, doc, strlen(doc) - 1);
    strbuf_appendf(&s, ",\"id\":\"%s\",\"createdBy\":\"%s\",\"createdAt\":\"%s\",\"updatedAt\":\"%s\"}", r->id, r->by,
                   r->created, r->updated);
    return strbuf_steal(&s, NULL);
}

static void pg_ok(PGconn *c, const char *sql, int n, const char *const *params)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

static void pg_table(PGconn *c, const char *schema_name, const char *table)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "CREATE TABLE \"%s\".\"d_%s\" (id TEXT COLLATE \"C\" PRIMARY KEY, created_by TEXT COLLATE \"C\" NOT NULL "
             "DEFAULT '', created_at TEXT COLLATE \"C\" NOT NULL, updated_at TEXT COLLATE \"C\" NOT NULL, body TEXT NOT NULL, "
             "doc JSONB GENERATED ALWAYS AS (body::jsonb) STORED)",
             schema_name, table);
    pg_ok(c, sql, 0, NULL);
    snprintf(sql, sizeof sql, "CREATE INDEX \"d_%s$createdAt\" ON \"%s\".\"d_%s\" (created_at DESC, id DESC)", table,
             schema_name, table);
    pg_ok(c, sql, 0, NULL);
}

static int setup(void **state)
{
    const char *url = getenv("BASALT_TEST_PG_URL");
    if (!url || !*url) {
        *state = NULL;
        return 0;
    }
    fixture *f = calloc(1, sizeof *f);
    bs_err err;
    snprintf(f->dir, sizeof f->dir, "/tmp/basalt-pgsql-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->docs = store_docs_open(f->dir, &err);
    assert_non_null(f->docs);
    store_table t = {.id = "tbl_1", .name = "items", .schema_json = (char *)schema_text};
    assert_int_equal(store_docs_table_create(f->docs, ENV, &t, NULL, &err), 0);
    struct json_object *sj = json_tokener_parse(schema_text);
    f->s = schema_compile(sj, &err);
    json_object_put(sj);
    assert_non_null(f->s);
    f->pool = pg_pool_new(url, NULL, 0, &err);
    assert_non_null(f->pool);
    snprintf(f->env.schema, sizeof f->env.schema, "t_%d_%u", (int)getpid(), (unsigned)rand());
    f->env.pool = f->pool;
    PGconn *c = pg_borrow(f->pool, &err);
    assert_non_null(c);
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE SCHEMA \"%s\"", f->env.schema);
    pg_ok(c, sql, 0, NULL);
    snprintf(sql, sizeof sql, "SET search_path TO \"%s\"", f->env.schema); /* as the catalog part's migration */
    pg_ok(c, sql, 0, NULL);
    for (size_t i = 0; i < DOCS_PG_COUNTS_SCHEMA_N; i++) pg_ok(c, docs_pg_counts_schema[i], 0, NULL);
    pg_ok(c, "RESET search_path", 0, NULL);
    f->env.counts = docs_pg_counts_new();
    pg_table(c, f->env.schema, "items");
    snprintf(sql, sizeof sql, "INSERT INTO \"%s\".\"d_items\" VALUES ($1, $2, $3, $4, $5)", f->env.schema);
    store_record recs[NRECORDS];
    rec_ids ids[NRECORDS];
    char *docs[NRECORDS];
    for (int i = 0; i < NRECORDS; i++) {
        strbuf d;
        strbuf_init(&d, 0);
        record_doc(i, &d);
        record_ids(i, &ids[i]);
        docs[i] = sqlite_doc(d.data, &ids[i]); /* the whole record on both engines */
        const char *params[] = {ids[i].id, ids[i].by, ids[i].created, ids[i].updated, docs[i]};
        pg_ok(c, sql, 5, params);
        recs[i] = (store_record){.id = ids[i].id, .created_by = ids[i].by, .created_at = ids[i].created,
                                 .updated_at = ids[i].updated, .doc = docs[i]};
        strbuf_release(&d);
    }
    pg_return(f->pool, c);
    assert_int_equal(store_docs_insert(f->docs, ENV, "items", recs, NRECORDS, NULL, &err), 0);
    for (int i = 0; i < NRECORDS; i++) free(docs[i]);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (!f) return 0;
    char sql[256];
    snprintf(sql, sizeof sql, "DROP SCHEMA \"%s\" CASCADE", f->env.schema);
    bs_err err;
    pg_command1(f->pool, "drop", sql, 0, NULL, NULL, &err);
    pg_pool_free(f->pool);
    docs_pg_counts_free(f->env.counts);
    store_docs_free(f->docs);
    schema_free(f->s);
    snprintf(sql, sizeof sql, "rm -rf %s", f->dir);
    if (system(sql) != 0) fprintf(stderr, "could not remove %s\n", f->dir);
    free(f);
    return 0;
}

/* JSON equality where numbers compare by value (1.5 and 1.50, 2 and 2.0 are one number). */
static int same_json(struct json_object *a, struct json_object *b)
{
    enum json_type ta = json_object_get_type(a), tb = json_object_get_type(b);
    int na = ta == json_type_int || ta == json_type_double, nb = tb == json_type_int || tb == json_type_double;
    if (na && nb) return json_object_get_double(a) == json_object_get_double(b);
    if (ta != tb) return 0;
    if (ta == json_type_array) {
        size_t n = json_object_array_length(a);
        if (n != json_object_array_length(b)) return 0;
        for (size_t i = 0; i < n; i++)
            if (!same_json(json_object_array_get_idx(a, i), json_object_array_get_idx(b, i))) return 0;
        return 1;
    }
    if (ta == json_type_object) {
        if (json_object_object_length(a) != json_object_object_length(b)) return 0;
        json_object_object_foreach(a, k, v) {
            struct json_object *w;
            if (!json_object_object_get_ex(b, k, &w) || !same_json(v, w)) return 0;
        }
        return 1;
    }
    return json_object_equal(a, b);
}

/* One request shape. */
typedef struct shape {
    const char *and_f, *or_f, *sort_by, *dir, *page, *limit, *search, *search_type, *select;
    const char *row1, *row2;       /* row filters (user u1) */
    const char *self;              /* created_by_filter */
    const char *skip;              /* a column search leaves out */
    const char *after;             /* a cursor of the client's own */
    int cursor_pages;              /* walk this many pages by `after` */
    int skip_total;
} shape;

static const shape shapes[] = {
    {0},
    {.dir = "asc"},
    {.sort_by = "id", .dir = "asc"},
    {.sort_by = "id"},
    {.sort_by = "updatedAt", .dir = "asc", .limit = "7", .page = "3"},
    {.sort_by = "createdBy", .limit = "10", .page = "2"},
    {.page = "2", .limit = "50"},
    {.page = "3", .limit = "100"},
    {.page = "30", .limit = "10"},
    {.sort_by = "n", .dir = "asc", .limit = "100"},
    {.sort_by = "n", .limit = "100", .page = "2"},
    {.sort_by = "mix", .dir = "asc", .limit = "100"},
    {.sort_by = "mix", .limit = "100", .page = "2"},
    {.sort_by = "title", .dir = "asc", .limit = "100"},
    {.sort_by = "flag", .limit = "100"},
    {.sort_by = "meta.n", .dir = "asc", .limit = "30"},
    {.sort_by = "when", .limit = "25"},
    {.and_f = "{\"status\":\"draft\"}"},
    {.and_f = "{\"status\":{\"$eq\":\"published\"}}", .sort_by = "title", .dir = "asc"},
    {.and_f = "{\"status\":{\"$ne\":\"draft\"}}", .limit = "100"},
    {.and_f = "{\"status\":null}"},
    {.and_f = "{\"n\":null}", .limit = "100"},
    {.and_f = "{\"n\":{\"$ne\":null}}", .limit = "100"},
    {.and_f = "{\"n\":{\"$gt\":10}}", .sort_by = "n", .limit = "100"},
    {.and_f = "{\"n\":{\"$gte\":0,\"$lt\":2}}", .limit = "100"},
    {.and_f = "{\"n\":{\"$lte\":-50}}", .limit = "100"},
    {.and_f = "{\"n\":1.5}", .limit = "100"},
    {.and_f = "{\"mix\":1}", .limit = "100"},
    {.and_f = "{\"mix\":true}", .limit = "100"},
    {.and_f = "{\"mix\":{\"$ne\":true}}", .limit = "100"},
    {.and_f = "{\"mix\":{\"$ne\":1}}", .limit = "100"},
    {.and_f = "{\"mix\":\"1\"}", .limit = "100"},
    {.and_f = "{\"mix\":{\"$gt\":0}}", .sort_by = "mix", .limit = "100"},
    {.and_f = "{\"mix\":{\"$lt\":\"s3\"}}", .sort_by = "mix", .dir = "asc", .limit = "100"},
    {.and_f = "{\"mix\":{\"$gte\":\"\"}}", .limit = "100"},
    {.and_f = "{\"mix\":{\"$gte\":false}}", .limit = "100"},
    {.and_f = "{\"mix\":{\"$lt\":true}}", .limit = "100"},
    {.and_f = "{\"mix\":{\"$in\":[1,\"s1\",true]}}", .limit = "100"},
    {.and_f = "{\"mix\":{\"$in\":[null,0]}}", .limit = "100"},
    {.and_f = "{\"mix\":{\"$nin\":[1,\"s1\",2.25]}}", .limit = "100"},
    {.and_f = "{\"status\":{\"$in\":[\"draft\",\"Draft\"]}}", .limit = "100"},
    {.and_f = "{\"status\":{\"$nin\":[\"draft\"]}}", .limit = "100"},
    {.and_f = "{\"flag\":{\"$exists\":true}}", .limit = "100"},
    {.and_f = "{\"flag\":{\"$exists\":false}}", .limit = "100"},
    {.and_f = "{\"mix\":{\"$exists\":true}}", .limit = "100"},
    {.and_f = "{\"flag\":false}", .limit = "100"},
    {.and_f = "{\"meta.author\":\"Ann\"}", .sort_by = "meta.n", .limit = "100"},
    {.and_f = "{\"meta.inner.x\":{\"$gte\":2}}", .limit = "100"},
    {.and_f = "{\"meta.inner.x\":{\"$exists\":false}}", .limit = "100"},
    {.and_f = "{\"when\":{\"$gte\":\"2024-05-01\"}}", .sort_by = "when", .dir = "asc", .limit = "100"},
    {.and_f = "{\"when\":{\"$lt\":\"2024-03-10T00:00:00.000Z\"}}", .limit = "100"},
    {.and_f = "{\"createdAt\":{\"$gte\":\"2024-01-10\"}}", .limit = "100"},
    {.and_f = "{\"createdBy\":\"u2\"}", .limit = "100"},
    {.and_f = "{\"createdBy\":{\"$in\":[\"u1\",\"\"]}}", .limit = "100"},
    {.and_f = "{\"id\":{\"$gt\":\"80000000\"}}", .sort_by = "id", .dir = "asc", .limit = "100"},
    {.and_f = "{\"updatedAt\":{\"$lt\":5}}", .limit = "100"},
    {.and_f = "{\"updatedAt\":{\"$gt\":5}}", .limit = "5"},
    {.and_f = "{\"obj\":{\"$eq\":{\"a\":1,\"b\":[1,2]}}}", .limit = "100"},
    {.and_f = "{\"title\":{\"$regex\":\"^al\"}}", .limit = "100"},
    {.and_f = "{\"title\":{\"$regex\":\"^al\",\"$options\":\"i\"}}", .limit = "100"},
    {.and_f = "{\"title\":{\"$regex\":\"[0-9]+\"}}", .limit = "100"},
    {.and_f = "{\"title\":{\"$regex\":\"one.line\"}}", .limit = "100"},
    {.and_f = "{\"title\":{\"$regex\":\"(?i)ALPHA\"}}", .limit = "100"},
    {.and_f = "{\"title\":{\"$regex\":\"(?s)one.line\"}}", .limit = "100"},
    {.and_f = "{\"title\":{\"$regex\":\"\\\\bgamma\\\\b\"}}", .limit = "100"},
    {.and_f = "{\"title\":{\"$regex\":\"\\\\Bamma\"}}", .limit = "100"},
    {.and_f = "{\"title\":{\"$regex\":\"\\\\d+\\\\z\"}}", .limit = "100"},
    {.and_f = "{\"title\":{\"$regex\":\"^[[:upper:]][^a-z]+$\"}}", .limit = "100"},
    {.and_f = "{\"title\":{\"$regex\":\"[]a]$\"}}", .limit = "100"},
    {.and_f = "{\"title\":{\"$regex\":\"^\\\\w+ \\\\w+$\"}}", .limit = "100"},
    {.and_f = "{\"title\":{\"$regex\":\"^[\\\\w ]+$\",\"$options\":\"i\"}}", .limit = "100"},
    {.and_f = "{\"title\":{\"$regex\":\"\\\\S\\\\s\\\\D\"}}", .limit = "100"},
    {.and_f = "{\"title\":{\"$regex\":\"^[^[:alpha:][:space:]]\"}}", .limit = "100"},
    {.and_f = "{\"title\":{\"$regex\":\"[[:lower:]]{5}\",\"$options\":\"i\"}}", .limit = "100"},
    {.and_f = "{\"mix\":{\"$regex\":\"1\"}}", .limit = "100"},
    {.and_f = "{\"createdBy\":{\"$regex\":\"^u[12]$\"}}", .limit = "100"},
    {.or_f = "{\"status\":\"archived\",\"n\":{\"$gt\":500}}", .limit = "100"},
    {.or_f = "[{\"status\":\"draft\",\"flag\":true},{\"mix\":{\"$in\":[\"s1\",\"s2\"]}}]", .limit = "100"},
    {.and_f = "{\"status\":{\"$ne\":\"archived\"}}", .or_f = "[{\"n\":{\"$lt\":0}},{\"tags\":{\"$exists\":true}}]", .limit = "100"},
    {.row1 = "{\"createdBy\":\"$userId\"}", .row2 = "{\"status\":\"published\"}", .limit = "100"},
    {.row1 = "{}", .and_f = "{\"flag\":true}"},
    {.self = "u3", .limit = "100"},
    {.self = "", .and_f = "{\"n\":{\"$exists\":true}}", .limit = "100"},
    {.search = "alpha"},
    {.search = "ÉCOLE", .limit = "100"},
    {.search = "école", .limit = "100"},
    {.search = "needle", .limit = "100"},
    {.search = "red", .limit = "100"},
    {.search = "%", .limit = "100"},
    {.search = "\\", .limit = "100"},
    {.search = "BoB", .search_type = "meta.author", .limit = "100"},
    {.search = "1", .search_type = "n", .limit = "100"},
    {.search = "1", .search_type = "mix", .limit = "100"},
    {.search = "U", .search_type = "createdBy", .limit = "100"},
    {.select = "title,n", .limit = "100"},
    {.select = "title,meta.author,meta.inner.x,nothere", .limit = "100", .sort_by = "title"},
    {.select = "meta,meta.author", .limit = "100"},
    {.select = "createdAt,tags", .limit = "10"},
    {.cursor_pages = 4, .limit = "30"},
    {.cursor_pages = 4, .limit = "25", .dir = "asc", .sort_by = "updatedAt"},
    {.cursor_pages = 4, .limit = "30", .sort_by = "n"},
    {.cursor_pages = 5, .limit = "3", .sort_by = "huge", .and_f = "{\"huge\":{\"$exists\":true}}"},
    {.cursor_pages = 5, .limit = "2", .sort_by = "huge", .dir = "asc", .and_f = "{\"huge\":{\"$exists\":true}}"},
    {.cursor_pages = 4, .limit = "30", .sort_by = "mix", .dir = "asc"},
    {.cursor_pages = 3, .limit = "40", .sort_by = "mix"},
    {.cursor_pages = 3, .limit = "20", .sort_by = "title", .and_f = "{\"status\":\"draft\"}"},
    {.cursor_pages = 3, .limit = "20", .sort_by = "id", .dir = "asc"},
    {.cursor_pages = 3, .limit = "20", .sort_by = "flag", .dir = "asc"},
    {.and_f = "{\"n\":{\"$gte\":0}}", .skip_total = 1, .limit = "10"},
    /* probes */
    {.select = "meta.author,meta.inner.x", .sort_by = "meta.author", .dir = "asc", .limit = "100"},
    {.and_f = "{\"meta.author\":{\"$exists\":false}}", .limit = "100"},
    {.and_f = "{\"meta\":\"plain\"}", .limit = "100"},
    {.and_f = "{\"big\":{\"$gt\":9007199254740993}}", .sort_by = "big", .limit = "100"},
    {.search = "ann", .search_type = "meta", .limit = "100"},
    {.after = "[\"x\",\"80000000\"]", .sort_by = "n", .limit = "100"},
    {.after = "[5,\"80000000\"]", .sort_by = "mix", .dir = "asc", .limit = "100"},
    {.after = "[true,\"80000000\"]", .sort_by = "flag", .limit = "100"},
    {.after = "[\"2024-01-10T00:00:00.000Z\",null]", .limit = "100"},
    {.after = "[null,\"80000000\"]", .sort_by = "updatedAt", .dir = "asc", .limit = "100"},
    {.after = "[3,\"80000000\"]", .sort_by = "createdBy", .dir = "asc", .limit = "100"},
    {.and_f = "{\"mix\":{\"$nin\":[null]}}", .limit = "100"},
    {.and_f = "{\"mix\":{\"$nin\":[null,1]}}", .limit = "100"},
    {.and_f = "{\"mix\":{\"$nin\":[]}}", .limit = "100"},
    {.and_f = "{\"mix\":{\"$in\":[]}}", .limit = "100"},
    {.and_f = "{\"createdBy\":{\"$nin\":[null]}}", .limit = "100"},
    {.and_f = "{\"title\":{\"$regex\":\"ÜNÏ\",\"$options\":\"i\"}}", .limit = "100"},
    {.and_f = "{\"title\":{\"$regex\":\"^é\",\"$options\":\"i\"}}", .limit = "100"},
    {.sort_by = "obj", .limit = "30"},
    {.sort_by = "tags", .dir = "asc", .limit = "100"},
    {.and_f = "{\"n\":{\"$ne\":0.5}}", .limit = "100"},
    {.and_f = "{\"n\":{\"$gt\":0.59999999999999998}}", .limit = "100"},
    {.and_f = "{\"mix\":{\"$in\":[\"1\",1,true]}}", .limit = "100"},
    {.and_f = "{\"mix\":{\"$lt\":2}}", .limit = "100"},
    {.cursor_pages = 5, .limit = "30", .sort_by = "flag", .dir = "desc"},
    {.and_f = "{\"obj\":{\"$regex\":\"a\"}}", .limit = "100"},
    {.and_f = "{\"meta.inner\":{\"$exists\":true}}", .limit = "100"},
    {.and_f = "{\"createdAt\":{\"$in\":[1,\"2024-01-02T00:00:00.000Z\"]}}", .limit = "100"},
    {.and_f = "{\"id\":5}", .limit = "100"},
    {.and_f = "{\"id\":{\"$ne\":5}}", .limit = "10"},
    {.and_f = "{\"when\":\"2024-03-04T10:00:00.000Z\"}", .limit = "100"},
    {.and_f = "{\"tags\":[\"t0\",\"Red\",\"x6\"]}", .limit = "100"},
    {.and_f = "{\"flag\":{\"$ne\":false}}", .limit = "100"},
    {.and_f = "{\"flag\":{\"$in\":[false]}}", .limit = "100"},
    {.and_f = "{\"flag\":{\"$gt\":false}}", .limit = "100"},
    {.and_f = "{\"flag\":{\"$gte\":0}}", .limit = "100"},
    {.and_f = "{\"title\":{\"$gt\":\"Z\"}}", .sort_by = "title", .limit = "100"},
    {.and_f = "{\"title\":{\"$lte\":\"a\"}}", .sort_by = "title", .dir = "asc", .limit = "100"},
    {.search = "a", .skip = "title", .limit = "100"},
    {.search = "x", .search_type = "tags", .limit = "100"},
    {.search = "1", .search_type = "obj", .limit = "100"},
    {.select = "f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20,f21,f22,f23,f24,f25,f26,f27,"
               "f28,f29,f30,f31,f32,f33,f34,f35,f36,f37,f38,f39,f40,f41,f42,f43,f44,f45,f46,f47,f48,f49,f50,f51,f52,"
               "f53,f54,f55,f56,f57,f58,f59,title", .limit = "5"},
    {.select = "meta.inner.x,meta.author,meta.n,title,id", .limit = "5"},
};

/* One page on one engine: items, total, paging. */
typedef struct answer {
    strbuf items, next;
    int64_t total;
    int has_more;
    int64_t rows;
} answer;

static void list_one(fixture *f, int pg, const query_plan *plan, const char *self, struct json_object *after, int skip,
                     answer *a)
{
    strbuf_init(&a->items, 0);
    strbuf_init(&a->next, 0);
    store_docs_paging paging = {.skip_total = skip, .after = after, .next_after = &a->next};
    bs_err err;
    int rc = pg ? docs_pg_list(&f->env, "items", plan, self, &paging, &a->items, &a->total, &err)
                : store_docs_list(f->docs, ENV, "items", plan, self, &paging, &a->items, &a->total, &err);
    if (rc < 0) fail_msg("%s list: %s", pg ? "pg" : "sqlite", err.message);
    a->has_more = paging.has_more;
    a->rows = paging.rows;
}

static void answer_release(answer *a)
{
    strbuf_release(&a->items);
    strbuf_release(&a->next);
}

static void plan_of(fixture *f, const shape *s, query_plan *plan)
{
    query_params p = {.and_filters = s->and_f, .or_filters = s->or_f, .sort_by = s->sort_by, .sort_direction = s->dir,
                      .page = s->page, .limit = s->limit, .search = s->search, .search_type = s->search_type,
                      .select = s->select};
    bs_err err;
    if (query_plan_parse(plan, &p, f->s, &err) < 0) fail_msg("parse: %s", err.message);
    if (s->skip && query_plan_search_skip(plan, s->skip, &err) < 0) fail_msg("skip: %s", err.message);
    const char *rows[] = {s->row1, s->row2};
    for (int i = 0; i < 2; i++) {
        if (!rows[i]) continue;
        struct json_object *rf = json_tokener_parse(rows[i]);
        if (query_plan_add_row_filter(plan, rf, f->s, "u1", &err) < 0) fail_msg("row filter: %s", err.message);
        json_object_put(rf);
    }
}

static int same_text(const char *what, size_t n, const char *a, const char *b)
{
    struct json_object *ja = json_tokener_parse(a), *jb = json_tokener_parse(b);
    int same = (!ja && !jb) || (ja && jb && same_json(ja, jb));
    if (!same) fprintf(stderr, "shape %zu: %s differ\n  sqlite: %.3000s\n  pg:     %.3000s\n", n, what, a, b);
    json_object_put(ja);
    json_object_put(jb);
    return same;
}

/* Compares one page; 1 when equal. */
static int compare(size_t n, int page, const answer *sq, const answer *pg)
{
    int ok = same_text("items", n, sq->items.data, pg->items.data);
    ok &= same_text("next_after", n, sq->next.data ? sq->next.data : "null", pg->next.data ? pg->next.data : "null");
    if (sq->total != pg->total || sq->has_more != pg->has_more || sq->rows != pg->rows) {
        fprintf(stderr, "shape %zu page %d: total %lld/%lld has_more %d/%d rows %lld/%lld\n", n, page, (long long)sq->total,
                (long long)pg->total, sq->has_more, pg->has_more, (long long)sq->rows, (long long)pg->rows);
        ok = 0;
    }
    return ok;
}

/* Lists shape n on both engines, page after page along each engine's own cursor; 1 when they agree. */
static int run_shape(fixture *f, size_t n)
{
    const shape *s = &shapes[n];
    query_plan plan;
    plan_of(f, s, &plan);
    struct json_object *after[2] = {s->after ? json_tokener_parse(s->after) : NULL, s->after ? json_tokener_parse(s->after) : NULL};
    int ok = 1;
    for (int page = 0; page < (s->cursor_pages ? s->cursor_pages : 1) && ok; page++) {
        answer a[2];
        for (int pg = 0; pg < 2; pg++) list_one(f, pg, &plan, s->self, after[pg], s->skip_total, &a[pg]);
        ok = compare(n, page, &a[0], &a[1]);
        if (!s->select && strcmp(a[0].items.data, a[1].items.data)) { /* whole records: the very bytes written */
            fprintf(stderr, "shape %zu page %d: items not byte for byte\n", n, page);
            ok = 0;
        }
        if (getenv("DOCS_PG_SQL_VERBOSE")) fprintf(stderr, "shape %zu page %d: total %lld rows %lld\n", n, page, (long long)a[0].total, (long long)a[0].rows);
        for (int pg = 0; pg < 2; pg++) {
            json_object_put(after[pg]);
            after[pg] = a[pg].next.len ? json_tokener_parse(a[pg].next.data) : NULL;
            answer_release(&a[pg]);
        }
        if (!after[0] || !after[1]) break;
    }
    json_object_put(after[0]);
    json_object_put(after[1]);
    query_plan_release(&plan);
    return ok;
}

static void test_differential(void **state)
{
    fixture *f = *state;
    if (!f) skip();
    int failed = 0;
    for (size_t n = 0; n < sizeof shapes / sizeof *shapes; n++) failed += !run_shape(f, n);
    assert_int_equal(failed, 0);
}

/* A pattern PCRE2 takes (the parser checks it) but PostgreSQL does not is the client's 400; a table that
 * does not exist 404. */
static void test_regex_refused(void **state)
{
    fixture *f = *state;
    if (!f) skip();
    shape s = {.and_f = "{\"title\":{\"$regex\":\"(?<name>a)\"}}"};
    query_plan plan;
    plan_of(f, &s, &plan);
    strbuf items;
    strbuf_init(&items, 0);
    int64_t total;
    bs_err err;
    assert_int_equal(docs_pg_list(&f->env, "items", &plan, NULL, NULL, &items, &total, &err), -1);
    assert_int_equal(err.status, 400);
    assert_string_equal(err.code, "data/validation-error");
    strbuf_reset(&items);
    assert_int_equal(docs_pg_list(&f->env, "nosuch", &plan, NULL, NULL, &items, &total, &err), -1);
    assert_int_equal(err.status, 404);
    strbuf_release(&items);
    query_plan_release(&plan);
}

/* Where the engines differ on purpose: an object literal equals a stored object whatever the order of its
 * keys on PostgreSQL (jsonb equality); SQLite compares the JSON texts, so there the order must match. */
static void test_object_equality(void **state)
{
    fixture *f = *state;
    if (!f) skip();
    const char *filters[] = {"{\"obj\":{\"a\":1,\"b\":[1,2]}}", "{\"obj\":{\"b\":[1,2],\"a\":1}}"};
    for (int i = 0; i < 2; i++) {
        shape s = {.and_f = filters[i]};
        query_plan plan;
        plan_of(f, &s, &plan);
        answer pg;
        list_one(f, 1, &plan, NULL, NULL, 0, &pg);
        assert_int_equal(pg.total, 20);
        answer_release(&pg);
        query_plan_release(&plan);
    }
}

/* status = x sorted by createdAt desc over an index on (status key, createdAt desc, id desc): one index
 * scan, no sort, exact count; a sort on an unindexed field sorts; the default index serves createdAt. */
static void test_explain(void **state)
{
    fixture *f = *state;
    if (!f) skip();
    bs_err err;
    PGconn *c = pg_borrow(f->pool, &err);
    assert_non_null(c);
    pg_table(c, f->env.schema, "big");
    char sql[2048];
    snprintf(sql, sizeof sql,
             "INSERT INTO \"%s\".\"d_big\" SELECT lpad(to_hex(g), 8, '0'), 'u' || (g %% 7), "
             "'2024-01-01T00:00:' || lpad((g %% 60)::text, 2, '0') || '.' || lpad((g %% 1000)::text, 3, '0') || 'Z', "
             "'2024-01-01T00:00:00.000Z', jsonb_build_object('status', 's' || (g %% 50), 'n', g, 'id', lpad(to_hex(g), 8, '0'))::text "
             "FROM generate_series(1, 5000) g", f->env.schema);
    pg_ok(c, sql, 0, NULL);
    query_field status = {.kind = QUERY_FIELD_DOC, .path = "status"};
    strbuf ix;
    strbuf_init(&ix, 0);
    strbuf_appendf(&ix, "CREATE INDEX \"d_big$x_status_createdAt\" ON \"%s\".\"d_big\" (", f->env.schema);
    docs_pg_sql_key(&ix, &status, 0);
    strbuf_append_str(&ix, ", created_at DESC, id DESC)");
    pg_ok(c, ix.data, 0, NULL);
    query_field n = {.kind = QUERY_FIELD_DOC, .path = "n"};
    strbuf_reset(&ix);
    strbuf_appendf(&ix, "CREATE INDEX \"d_big$x_n\" ON \"%s\".\"d_big\" (", f->env.schema);
    docs_pg_sql_key(&ix, &n, 0);
    strbuf_append_str(&ix, ", id ASC)");
    pg_ok(c, ix.data, 0, NULL);
    strbuf_release(&ix);
    snprintf(sql, sizeof sql, "ANALYZE \"%s\".\"d_big\"", f->env.schema);
    pg_ok(c, sql, 0, NULL);
    pg_return(f->pool, c);

    shape s = {.and_f = "{\"status\":\"s3\"}", .sort_by = "createdAt", .dir = "desc", .limit = "20"};
    query_plan plan;
    plan_of(f, &s, &plan);
    store_explain e;
    assert_int_equal(docs_pg_explain(&f->env, "big", &plan, NULL, &e, &err), 0);
    fprintf(stderr, "explain: %s\n", json_object_to_json_string(e.steps));
    assert_string_equal(e.index, "status_createdAt");
    assert_int_equal(e.sorts, 0);
    assert_int_equal(e.full_scan, 0);
    assert_int_equal(e.matching, 100);
    assert_int_equal(e.total_maintained, 0); /* 100 matches: counted, never registered */
    assert_int_equal(e.total_maintainable, 1);
    store_explain_release(&e);
    query_plan_release(&plan);

    shape range = {.and_f = "{\"n\":{\"$gt\":4000}}", .sort_by = "n", .limit = "20"}; /* read backwards */
    plan_of(f, &range, &plan);
    assert_int_equal(docs_pg_explain(&f->env, "big", &plan, NULL, &e, &err), 0);
    fprintf(stderr, "explain: %s\n", json_object_to_json_string(e.steps));
    assert_string_equal(e.index, "n");
    assert_int_equal(e.sorts, 0);
    assert_int_equal(e.full_scan, 0);
    assert_int_equal(e.matching, 1000);
    store_explain_release(&e);
    query_plan_release(&plan);

    shape by_status = {.sort_by = "status", .limit = "20"};
    plan_of(f, &by_status, &plan);
    assert_int_equal(docs_pg_explain(&f->env, "big", &plan, NULL, &e, &err), 0);
    assert_int_equal(e.sorts, 1);
    assert_int_equal(e.full_scan, 1);
    assert_int_equal(e.matching, 5000);
    store_explain_release(&e);
    query_plan_release(&plan);

    shape latest = {.limit = "20"};
    plan_of(f, &latest, &plan);
    assert_int_equal(docs_pg_explain(&f->env, "big", &plan, NULL, &e, &err), 0);
    assert_string_equal(e.index, "idx_createdAt_desc");
    assert_int_equal(e.sorts, 0);
    store_explain_release(&e);
    query_plan_release(&plan);

    shape next = {.and_f = "{\"status\":\"s3\"}", .limit = "20"}; /* the next page by cursor */
    plan_of(f, &next, &plan);
    strbuf cursor, items;
    strbuf_init(&cursor, 0);
    strbuf_init(&items, 0);
    int64_t total;
    store_docs_paging paging = {.next_after = &cursor};
    assert_int_equal(docs_pg_list(&f->env, "big", &plan, NULL, &paging, &items, &total, &err), 0);
    assert_int_equal(paging.has_more, 1);
    paging.after = json_tokener_parse(cursor.data);
    strbuf_reset(&items);
    assert_int_equal(docs_pg_list(&f->env, "big", &plan, NULL, &paging, &items, &total, &err), 0);
    assert_int_equal(paging.rows, 20);
    assert_int_equal(total, 100);
    json_object_put(paging.after);
    strbuf_release(&items);
    strbuf_release(&cursor);
    query_plan_release(&plan);

    shape by_id = {.sort_by = "id", .dir = "asc", .limit = "20"};
    plan_of(f, &by_id, &plan);
    assert_int_equal(docs_pg_explain(&f->env, "big", &plan, NULL, &e, &err), 0);
    assert_string_equal(e.index, "_id_");
    assert_int_equal(e.sorts, 0);
    store_explain_release(&e);
    query_plan_release(&plan);

    /* query statistics: rows a page reads beyond those it answers (and the one that tells more exist) */
    shape served = {.and_f = "{\"status\":\"s3\"}", .sort_by = "createdAt", .dir = "desc", .limit = "20"};
    shape scanned = {.and_f = "{\"n\":{\"$lt\":100}}", .sort_by = "createdAt", .dir = "desc", .limit = "20"};
    strbuf_init(&items, 0);
    store_docs_paging measured = {.measure_scanned = 1};
    plan_of(f, &served, &plan);
    assert_int_equal(docs_pg_list(&f->env, "big", &plan, NULL, &measured, &items, &total, &err), 0);
    assert_int_equal(measured.rows, 20);
    assert_int_equal(measured.scanned, 0);
    query_plan_release(&plan);
    plan_of(f, &scanned, &plan);
    strbuf_reset(&items);
    assert_int_equal(docs_pg_list(&f->env, "big", &plan, NULL, &measured, &items, &total, &err), 0);
    assert_int_equal(total, 99);
    assert_true(measured.scanned >= 99 - 21); /* every match is read (the index on n, then a sort) or more */
    query_plan_release(&plan);
    strbuf_release(&items);

    shape rx = {.and_f = "{\"status\":{\"$regex\":\"^s4\"}}"};
    plan_of(f, &rx, &plan);
    assert_int_equal(docs_pg_explain(&f->env, "big", &plan, NULL, &e, &err), 0);
    assert_int_equal(e.total_maintainable, 0);
    assert_int_equal(e.matching, 1100);
    store_explain_release(&e);
    query_plan_release(&plan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_differential),
        cmocka_unit_test(test_regex_refused),
        cmocka_unit_test(test_object_equality),
        cmocka_unit_test(test_explain),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
