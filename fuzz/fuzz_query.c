/* libFuzzer target: the query compiler (core/query.h) and its SQL (store/sqlite/docs_sql.h), run in
 * SQLite through the docs store. scripts/fuzz.sh query SECONDS.
 *
 * The input is list parameters, one "name=value" per line (page, limit, sortBy, sortDirection, search,
 * searchType, andFilters, orFilters, select, and "owner" for the self rule's createdBy filter), checked
 * against a schema with a field of every type. A refusal must be 400 data/validation-error. An accepted
 * plan must become SQL that SQLite prepares with exactly as many parameters as values are bound (page:
 * plus LIMIT and OFFSET), with and without a keyset position, and the list must run through the store
 * without error; when it answers a next-page position, the next page must run too. */
#include "scratch_dir.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/query.h"
#include "store/docs.h"
#include "store/sqlite/docs_sql.h"
#include "util/json.h"
#include "util/strbuf.h"

#define ENV "env_fuzz"
#define TABLE "t"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char schema_json[] =
    "{\"bsonType\":\"object\",\"properties\":{\"title\":{\"bsonType\":\"string\"},\"views\":{\"bsonType\":\"int\"},"
    "\"price\":{\"bsonType\":\"double\"},\"flag\":{\"bsonType\":\"bool\"},\"when\":{\"bsonType\":\"date\"},"
    "\"ref\":{\"bsonType\":\"reference\"},\"tags\":{\"bsonType\":\"array\",\"items\":{\"bsonType\":\"string\"}},"
    "\"meta\":{\"bsonType\":\"object\",\"properties\":{\"author\":{\"bsonType\":\"string\"},"
    "\"n\":{\"bsonType\":\"int\"},\"deep\":{\"bsonType\":\"object\",\"properties\":{\"x\":{\"bsonType\":\"number\"}}}}}}}";
static const char *const records[] = {
    "{\"title\":\"Alpha\",\"views\":3,\"price\":1.5,\"flag\":true,\"when\":\"2024-01-02T00:00:00.000Z\",\"tags\":[\"a\",\"b\"],\"meta\":{\"author\":\"ann\",\"n\":1,\"deep\":{\"x\":2.5}}}",
    "{\"title\":\"beta\",\"views\":-7,\"price\":1e300,\"flag\":false,\"meta\":{\"author\":\"Bob\"},\"extra\":\"x\"}",
    "{\"title\":null,\"views\":9223372036854775807,\"tags\":[],\"other\":[1,{\"a\":2}]}",
    "{}",
};

static struct {
    store_docs *docs;
    schema *schema;
    sqlite3 *db;       /* a connection of our own to the environment's file, to prepare the SQL */
} fx;

/* basalt_regexp stands in on our own connection: preparing needs the function to exist. */
static void regexp_stub(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    sqlite3_result_int(ctx, 0);
}

static void setup(void)
{
    char path[128];
    bs_err err;
    if (fx.docs) return;
    const char *dir = scratch_dir("query");
    if (!(fx.docs = store_docs_open(dir, &err))) abort();
    store_table t = {.schema_json = (char *)schema_json, .created_at = 1, .updated_at = 1};
    snprintf(t.id, sizeof t.id, "tbl_fuzz");
    snprintf(t.name, sizeof t.name, TABLE);
    if (store_docs_table_create(fx.docs, ENV, &t, NULL, &err) < 0) abort();
    for (size_t i = 0; i < sizeof records / sizeof records[0]; i++) {
        char id[32], at[32];
        snprintf(id, sizeof id, "rec%zu", i);
        snprintf(at, sizeof at, "2024-01-0%zuT00:00:00.000Z", i + 1);
        store_record r = {.id = id, .created_by = i % 2 ? "u1" : "u2", .created_at = at, .updated_at = at, .doc = records[i]};
        if (store_docs_insert(fx.docs, ENV, TABLE, &r, 1, NULL, &err) < 0) abort();
    }
    struct json_object *doc = json_tokener_parse(schema_json);
    if (!(fx.schema = schema_compile(doc, &err))) abort();
    json_object_put(doc);
    snprintf(path, sizeof path, "%s/envs/" ENV ".db", dir);
    if (sqlite3_open_v2(path, &fx.db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_create_function_v2(fx.db, "basalt_regexp", 3, SQLITE_UTF8, NULL, regexp_stub, NULL, NULL, NULL) != SQLITE_OK)
        abort();
}

/* Points the parameter named by line (up to its '=') at its value, NUL-terminating both in place. */
static void take_param(query_params *p, const char **owner, char *line)
{
    char *eq = strchr(line, '=');
    if (!eq) return;
    *eq = '\0';
    const char *v = eq + 1;
    static const char *const names[] = {"page", "limit", "sortBy", "sortDirection", "search", "searchType",
                                        "andFilters", "orFilters", "select", "owner"};
    const char **slots[] = {&p->page, &p->limit, &p->sort_by, &p->sort_direction, &p->search, &p->search_type,
                            &p->and_filters, &p->or_filters, &p->select, owner};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(line, names[i])) *slots[i] = v;
}

/* SQLite prepares sql and counts exactly nbinds parameters. */
static void check_prepares(const strbuf *sql, int nbinds)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(fx.db, sql->data, (int)sql->len, &st, NULL);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "does not prepare (%s): %s\n", sqlite3_errmsg(fx.db), sql->data);
        abort();
    }
    if (sqlite3_bind_parameter_count(st) != nbinds) {
        fprintf(stderr, "%d parameters, %d values: %s\n", sqlite3_bind_parameter_count(st), nbinds, sql->data);
        abort();
    }
    sqlite3_finalize(st);
}

static void check_sql(const query_plan *plan, const char *owner, struct json_object *after)
{
    docs_list_sql q;
    memset(&q, 0, sizeof q);
    if (docs_sql_list(&q, TABLE, plan, owner, after) == 0) {
        check_prepares(&q.count, q.count_binds.n);
        check_prepares(&q.page, q.page_binds.n + 2);
    }
    docs_sql_list_release(&q);
}

/* Runs the list through the store; a next-page position, when answered, must run as well. */
static void check_runs(const query_plan *plan, const char *owner)
{
    strbuf items, next;
    strbuf_init(&items, 0);
    strbuf_init(&next, 0);
    store_docs_paging pg = {.next_after = &next};
    int64_t total;
    bs_err err;
    bs_err_clear(&err);
    int rc = store_docs_list(fx.docs, ENV, TABLE, plan, owner, &pg, &items, &total, &err);
    if (rc < 0 && err.status >= 500) { fprintf(stderr, "list: %s\n", err.message); abort(); }
    if (rc == 0 && pg.has_more && next.len) {
        struct json_object *after = json_tokener_parse(next.data);
        if (!after) abort();
        check_sql(plan, owner, after);
        strbuf_reset(&items);
        store_docs_paging pg2 = {.after = after};
        if (store_docs_list(fx.docs, ENV, TABLE, plan, owner, &pg2, &items, &total, &err) < 0 && err.status >= 500) abort();
        json_object_put(after);
    }
    strbuf_release(&items);
    strbuf_release(&next);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    char *text = malloc(size + 1);
    if (!text) abort();
    if (size) memcpy(text, data, size);
    text[size] = '\0';
    query_params params = {0};
    const char *owner = NULL;
    for (char *line = text, *end; line; line = end) {
        end = strchr(line, '\n');
        if (end) *end++ = '\0';
        take_param(&params, &owner, line);
    }
    query_plan *plan = calloc(1, sizeof *plan);
    if (!plan) abort();
    bs_err err;
    bs_err_clear(&err);
    if (query_plan_parse(plan, &params, fx.schema, &err) == 0) {
        check_sql(plan, owner, NULL);
        check_runs(plan, owner);
    } else if (err.status != 400 || strcmp(err.code, "data/validation-error")) {
        abort();
    }
    query_plan_release(plan);
    free(plan);
    free(text);
    return 0;
}
