/* Unit tests of core/query.h: query_plan_parse (page/limit clamping, sort, select, search, andFilters and
 * orFilters with every operator, coercion and refusal) and query_field_resolve. Most cases run with no
 * schema (s = NULL); the tests marked SCHEMA compile a schema with core/schema.h (field types, dotted
 * paths, date and number coercion). Every refusal must be 400 data/validation-error naming the
 * parameter. Run under ASan, which also checks that plans own their values and release them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/query.h"
#include "util/json.h"

#define VERR "data/validation-error"

/* ---- helpers ---- */

static void plan_ok_s(query_plan *plan, const query_params *p, const schema *s)
{
    bs_err err;
    bs_err_clear(&err);
    if (query_plan_parse(plan, p, s, &err) != 0)
        fail_msg("expected success, got %d %s: %s", err.status, err.code, err.message);
    assert_int_equal(err.status, 0);
}

static void plan_ok(query_plan *plan, const query_params *p)
{
    plan_ok_s(plan, p, NULL);
}

/* Expects a refusal whose message starts with `param` and contains `part` (when given). */
static void plan_err_s(const query_params *p, const schema *s, const char *param, const char *part)
{
    query_plan plan;
    bs_err err;
    bs_err_clear(&err);
    if (query_plan_parse(&plan, p, s, &err) == 0) {
        query_plan_release(&plan);
        fail_msg("expected a refusal naming %s (%s)", param, part ? part : "");
    }
    assert_int_equal(err.status, 400);
    assert_string_equal(err.code, VERR);
    if (strncmp(err.message, param, strlen(param)) != 0)
        fail_msg("message \"%s\" does not start with %s", err.message, param);
    if (part && !strstr(err.message, part)) fail_msg("message \"%s\" lacks \"%s\"", err.message, part);
    assert_int_equal(plan.nconds, 0);
}

static void plan_err(const query_params *p, const char *param, const char *part)
{
    plan_err_s(p, NULL, param, part);
}

static void and_ok_s(query_plan *plan, const char *filters, const schema *s)
{
    query_params p = {0};
    p.and_filters = filters;
    plan_ok_s(plan, &p, s);
}

static void and_ok(query_plan *plan, const char *filters)
{
    and_ok_s(plan, filters, NULL);
}

static void and_err(const char *filters, const char *part)
{
    query_params p = {0};
    p.and_filters = filters;
    plan_err(&p, "andFilters", part);
}

static void or_ok(query_plan *plan, const char *filters)
{
    query_params p = {0};
    p.or_filters = filters;
    plan_ok(plan, &p);
}

static void or_err(const char *filters, const char *part)
{
    query_params p = {0};
    p.or_filters = filters;
    plan_err(&p, "orFilters", part);
}

static void check_cond(const query_plan *plan, size_t i, query_field_kind kind, const char *path, query_op op)
{
    assert_true(i < plan->nconds);
    assert_int_equal(plan->conds[i].field.kind, kind);
    assert_string_equal(plan->conds[i].field.path, path);
    assert_int_equal(plan->conds[i].op, op);
}

/* The condition's value serialized as JSON ("null" for a JSON null). */
static void check_value(const query_plan *plan, size_t i, const char *json)
{
    assert_true(i < plan->nconds);
    const char *got = json_object_to_json_string_ext(plan->conds[i].value, JSON_C_TO_STRING_PLAIN);
    if (strcmp(got, json) != 0) fail_msg("cond %zu value %s, expected %s", i, got, json);
}

static int64_t page_of(const char *text)
{
    query_params p = {0};
    query_plan plan;
    p.page = text;
    plan_ok(&plan, &p);
    query_plan_release(&plan);
    return plan.page;
}

static int64_t limit_of(const char *text)
{
    query_params p = {0};
    query_plan plan;
    p.limit = text;
    plan_ok(&plan, &p);
    query_plan_release(&plan);
    return plan.limit;
}

/* A heap string of n copies of c. */
static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* {"a":<open>1<close>} with depth levels of [ ] around the 1. */
static char *nested_filter(int depth)
{
    char *s = malloc((size_t)depth * 2 + 16);
    assert_non_null(s);
    size_t o = (size_t)sprintf(s, "{\"a\":");
    for (int i = 0; i < depth; i++) s[o++] = '[';
    s[o++] = '1';
    for (int i = 0; i < depth; i++) s[o++] = ']';
    s[o++] = '}';
    s[o] = '\0';
    return s;
}

/* {"f0":1,"f1":1,...} with n fields (or n operators on one field when ops). */
static char *many_fields(size_t n, const char *prefix)
{
    char *s = malloc(n * 32 + 8);
    assert_non_null(s);
    size_t o = (size_t)sprintf(s, "{");
    for (size_t i = 0; i < n; i++) o += (size_t)sprintf(s + o, "%s\"%s%zu\":1", i ? "," : "", prefix, i);
    sprintf(s + o, "}");
    return s;
}

/* {"a":{"$in":[0,1,...n-1]}} */
static char *in_list(size_t n, const char *op)
{
    char *s = malloc(n * 8 + 32);
    assert_non_null(s);
    size_t o = (size_t)sprintf(s, "{\"a\":{\"%s\":[", op);
    for (size_t i = 0; i < n; i++) o += (size_t)sprintf(s + o, "%s%zu", i ? "," : "", i);
    sprintf(s + o, "]}}");
    return s;
}

/* ---- defaults, page, limit ---- */

static void test_defaults(void **state)
{
    (void)state;
    query_params p = {0};
    query_plan plan;
    plan_ok(&plan, &p);
    assert_int_equal(plan.page, 1);
    assert_int_equal(plan.limit, QUERY_DEFAULT_LIMIT);
    assert_int_equal(plan.sort.kind, QUERY_FIELD_CREATED_AT);
    assert_string_equal(plan.sort.path, "createdAt");
    assert_int_equal(plan.sort_desc, 1);
    assert_int_equal(plan.nselect, 0);
    assert_string_equal(plan.search, "");
    assert_int_equal(plan.has_search_field, 0);
    assert_int_equal(plan.search_field.kind, QUERY_FIELD_DOC);
    assert_string_equal(plan.search_field.path, "");
    assert_int_equal(plan.nconds, 0);
    assert_int_equal(plan.and_group.count, 0);
    assert_int_equal(plan.nor, 0);
    query_plan_release(&plan);

    bs_err err;
    bs_err_clear(&err);
    assert_int_equal(query_plan_parse(&plan, NULL, NULL, &err), 0);
    assert_int_equal(plan.limit, QUERY_DEFAULT_LIMIT);
    query_plan_release(&plan);
}

static void test_empty_params_are_absent(void **state)
{
    (void)state;
    query_params p = {"", "", "", "", "", "", "", "", ""};
    query_plan plan;
    plan_ok(&plan, &p);
    assert_int_equal(plan.page, 1);
    assert_int_equal(plan.limit, 20);
    assert_int_equal(plan.sort.kind, QUERY_FIELD_CREATED_AT);
    assert_int_equal(plan.sort_desc, 1);
    assert_int_equal(plan.nconds, 0);
    assert_int_equal(plan.nor, 0);
    assert_int_equal(plan.has_search_field, 0);
    query_plan_release(&plan);
}

static void test_limit_clamping(void **state)
{
    (void)state;
    assert_int_equal(limit_of("1"), 1);
    assert_int_equal(limit_of("50"), 50);
    assert_int_equal(limit_of("100"), 100);
    assert_int_equal(limit_of("101"), 100);
    assert_int_equal(limit_of("200"), 100);
    assert_int_equal(limit_of("99999999999999999999999999999"), 100);
    assert_int_equal(limit_of("-1"), 20);
    assert_int_equal(limit_of("0"), 20);
    assert_int_equal(limit_of("-99999999999999999999999"), 20);
    assert_int_equal(limit_of("abc"), 20);
    assert_int_equal(limit_of("1.5"), 20);
    assert_int_equal(limit_of("1e2"), 20);
    assert_int_equal(limit_of(" 5"), 20);
    assert_int_equal(limit_of("5 "), 20);
    assert_int_equal(limit_of("-"), 20);
    assert_int_equal(limit_of("+"), 20);
    assert_int_equal(limit_of("+7"), 7);
    assert_int_equal(limit_of("007"), 7);
}

static void test_page_clamping(void **state)
{
    (void)state;
    assert_int_equal(page_of("1"), 1);
    assert_int_equal(page_of("3"), 3);
    assert_int_equal(page_of("0"), 1);
    assert_int_equal(page_of("-5"), 1);
    assert_int_equal(page_of("1e9"), 1);
    assert_int_equal(page_of("2.0"), 1);
    assert_int_equal(page_of("x"), 1);
    assert_int_equal(page_of("1000000"), QUERY_MAX_PAGE);
    assert_int_equal(page_of("1000001"), QUERY_MAX_PAGE);
    assert_int_equal(page_of("1000000000"), QUERY_MAX_PAGE);
    assert_int_equal(page_of("123456789012345678901234567890"), QUERY_MAX_PAGE);
}

/* ---- sort ---- */

static void test_sort(void **state)
{
    (void)state;
    static const struct { const char *by, *path; query_field_kind kind; } cases[] = {
        {"title", "title", QUERY_FIELD_DOC}, {"id", "id", QUERY_FIELD_ID}, {"_id", "id", QUERY_FIELD_ID},
        {"createdBy", "createdBy", QUERY_FIELD_CREATED_BY}, {"createdAt", "createdAt", QUERY_FIELD_CREATED_AT},
        {"updatedAt", "updatedAt", QUERY_FIELD_UPDATED_AT}, {"view_count2", "view_count2", QUERY_FIELD_DOC},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        query_params p = {0};
        query_plan plan;
        p.sort_by = cases[i].by;
        plan_ok(&plan, &p);
        assert_int_equal(plan.sort.kind, cases[i].kind);
        assert_string_equal(plan.sort.path, cases[i].path);
        assert_int_equal(plan.sort.type, cases[i].kind == QUERY_FIELD_DOC ? SCHEMA_T_NONE : plan.sort.type);
        assert_int_equal(plan.sort_desc, 1);
        query_plan_release(&plan);
    }
}

static void test_sort_direction(void **state)
{
    (void)state;
    static const struct { const char *dir; int desc; } ok[] = {
        {"asc", 0}, {"ASC", 0}, {"Asc", 0}, {"desc", 1}, {"DESC", 1}, {"dEsC", 1},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        query_params p = {0};
        query_plan plan;
        p.sort_direction = ok[i].dir;
        plan_ok(&plan, &p);
        assert_int_equal(plan.sort_desc, ok[i].desc);
        query_plan_release(&plan);
    }
    static const char *const bad[] = {"up", "ascending", "asc ", " desc", "1", "-1", "as", "descc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        query_params p = {0};
        p.sort_direction = bad[i];
        plan_err(&p, "sortDirection", "asc or desc");
    }
}

/* ---- field names ---- */

static const char *const bad_names[] = {
    "a\"b", "a'b", "a[0]", "a]", "[a]", "$where", "a$", "a b", " a", "a ", "a-b", "a/b", "a\\b", "a,b", ".a",
    "a.", "a..b", "1abc", "9", "_private", "__proto__", "constructor", "prototype", "a.__proto__",
    "a.constructor", "prototype.a", "caf\xc3\xa9", "a\tb", "a\nb", "id.x", "_id.x", "createdAt.x", "createdBy.y",
    "a.b",  /* dotted path with no schema */
};

static void test_field_resolve_refusals(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        query_field f;
        bs_err err;
        bs_err_clear(&err);
        if (query_field_resolve(bad_names[i], NULL, &f, &err) == 0) fail_msg("accepted field name %s", bad_names[i]);
        assert_int_equal(err.status, 400);
        assert_string_equal(err.code, VERR);
        assert_non_null(strstr(err.message, "field"));
    }
    query_field f;
    bs_err err;
    bs_err_clear(&err);
    assert_int_equal(query_field_resolve("", NULL, &f, &err), -1);
    assert_int_equal(err.status, 400);
    assert_int_equal(query_field_resolve(NULL, NULL, &f, &err), -1);
    assert_int_equal(err.status, 400);
}

static void test_field_resolve_lengths(void **state)
{
    (void)state;
    query_field f;
    bs_err err;
    char *ok = repeat('a', QUERY_FIELD_MAX - 1);
    char *at_max = repeat('a', QUERY_FIELD_MAX);
    char *huge = repeat('x', 10000);
    assert_int_equal(query_field_resolve(ok, NULL, &f, &err), 0);
    assert_string_equal(f.path, ok);
    bs_err_clear(&err);
    assert_int_equal(query_field_resolve(at_max, NULL, &f, &err), -1);
    assert_int_equal(err.status, 400);
    assert_non_null(strstr(err.message, "longer than"));
    bs_err_clear(&err);
    assert_int_equal(query_field_resolve(huge, NULL, &f, &err), -1);
    assert_int_equal(err.status, 400);

    /* The same in every parameter that takes a field name. */
    query_params p = {0};
    p.sort_by = huge;
    plan_err(&p, "sortBy", "longer than");
    p.sort_by = NULL;
    p.select = huge;
    plan_err(&p, "select", "longer than");
    p.select = NULL;
    p.search_type = huge;
    plan_err(&p, "searchType", "longer than");
    free(ok);
    free(at_max);
    free(huge);
}

static void test_field_resolve_ok(void **state)
{
    (void)state;
    static const struct { const char *name, *path; query_field_kind kind; } cases[] = {
        {"title", "title", QUERY_FIELD_DOC}, {"Title_2", "Title_2", QUERY_FIELD_DOC}, {"a", "a", QUERY_FIELD_DOC},
        {"id", "id", QUERY_FIELD_ID}, {"_id", "id", QUERY_FIELD_ID},
        {"createdBy", "createdBy", QUERY_FIELD_CREATED_BY}, {"createdAt", "createdAt", QUERY_FIELD_CREATED_AT},
        {"updatedAt", "updatedAt", QUERY_FIELD_UPDATED_AT}, {"ID", "ID", QUERY_FIELD_DOC},
        {"protoType", "protoType", QUERY_FIELD_DOC}, {"constructors", "constructors", QUERY_FIELD_DOC},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        query_field f;
        bs_err err;
        bs_err_clear(&err);
        if (query_field_resolve(cases[i].name, NULL, &f, &err) != 0) fail_msg("%s: %s", cases[i].name, err.message);
        assert_int_equal(f.kind, cases[i].kind);
        assert_string_equal(f.path, cases[i].path);
        if (f.kind == QUERY_FIELD_DOC) assert_int_equal(f.type, SCHEMA_T_NONE);
    }
}

static void test_bad_names_in_every_parameter(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        query_params p = {0};
        p.sort_by = bad_names[i];
        plan_err(&p, "sortBy", NULL);
        p.sort_by = NULL;
        p.search_type = bad_names[i];
        plan_err(&p, "searchType", NULL);
        p.search_type = NULL;
        if (!strchr(bad_names[i], ',') && bad_names[i][0] != ' ' && bad_names[i][strlen(bad_names[i]) - 1] != ' ' &&
            !strchr(bad_names[i], '\t')) {
            p.select = bad_names[i];
            plan_err(&p, "select", NULL);
            p.select = NULL;
        }
        /* As a filter key (JSON-escaped). */
        struct json_object *key = json_object_new_string(bad_names[i]);
        char filt[256];
        snprintf(filt, sizeof filt, "{%s:1}", json_object_to_json_string_ext(key, JSON_C_TO_STRING_PLAIN));
        json_object_put(key);
        and_err(filt, NULL);
        or_err(filt, NULL);
    }
}

/* ---- select ---- */

static void test_select(void **state)
{
    (void)state;
    query_params p = {0};
    query_plan plan;
    p.select = " title, body ,,title,\tid ,_id,createdAt,createdBy,updatedAt, views,body ";
    plan_ok(&plan, &p);
    assert_int_equal(plan.nselect, 3);
    assert_string_equal(plan.select[0].path, "title");
    assert_string_equal(plan.select[1].path, "body");
    assert_string_equal(plan.select[2].path, "views");
    for (size_t i = 0; i < plan.nselect; i++) assert_int_equal(plan.select[i].kind, QUERY_FIELD_DOC);
    query_plan_release(&plan);

    p.select = "id,_id,createdAt";
    plan_ok(&plan, &p);
    assert_int_equal(plan.nselect, 0);
    query_plan_release(&plan);

    p.select = " , ,, ";
    plan_ok(&plan, &p);
    assert_int_equal(plan.nselect, 0);
    query_plan_release(&plan);

    p.select = "title,a b";
    plan_err(&p, "select", "invalid field name");
    p.select = "title,$x";
    plan_err(&p, "select", NULL);
    p.select = "__proto__";
    plan_err(&p, "select", "reserved");
}

static void test_select_limit(void **state)
{
    (void)state;
    char buf[QUERY_MAX_SELECT * 16 + 64];
    size_t o = 0;
    for (int i = 0; i < QUERY_MAX_SELECT; i++) o += (size_t)sprintf(buf + o, "f%d,", i);
    /* Duplicates and system fields do not count. */
    o += (size_t)sprintf(buf + o, "f0,f1,id,createdAt");
    query_params p = {0};
    query_plan plan;
    p.select = buf;
    plan_ok(&plan, &p);
    assert_int_equal(plan.nselect, QUERY_MAX_SELECT);
    query_plan_release(&plan);
    sprintf(buf + o, ",extra");
    plan_err(&p, "select", "more than");
}

/* ---- search ---- */

static void test_search(void **state)
{
    (void)state;
    query_params p = {0};
    query_plan plan;
    char *max = repeat('s', QUERY_SEARCH_MAX);
    char *over = repeat('s', QUERY_SEARCH_MAX + 1);
    p.search = "Hello World";
    plan_ok(&plan, &p);
    assert_string_equal(plan.search, "Hello World");
    assert_int_equal(plan.has_search_field, 0);
    query_plan_release(&plan);

    p.search = max;
    p.search_type = "title";
    plan_ok(&plan, &p);
    assert_string_equal(plan.search, max);
    assert_int_equal(plan.has_search_field, 1);
    assert_int_equal(plan.search_field.kind, QUERY_FIELD_DOC);
    assert_string_equal(plan.search_field.path, "title");
    query_plan_release(&plan);

    p.search_type = "_id";
    plan_ok(&plan, &p);
    assert_int_equal(plan.search_field.kind, QUERY_FIELD_ID);
    query_plan_release(&plan);

    p.search = over;
    p.search_type = NULL;
    plan_err(&p, "search", "longer than");
    p.search = "x";
    p.search_type = "a.b";
    plan_err(&p, "searchType", NULL);
    free(max);
    free(over);
}

/* ---- andFilters: literals ---- */

static void test_literal_equality(void **state)
{
    (void)state;
    query_plan plan;
    and_ok(&plan, "{\"title\":\"Hi\",\"n\":3,\"x\":1.5,\"b\":true,\"z\":null,\"arr\":[1,\"a\"],"
                  "\"obj\":{\"k\":{\"deep\":[1,{\"q\":2}]}},\"e\":{}}");
    assert_int_equal(plan.nconds, 8);
    assert_int_equal(plan.and_group.first, 0);
    assert_int_equal(plan.and_group.count, 8);
    assert_int_equal(plan.nor, 0);
    check_cond(&plan, 0, QUERY_FIELD_DOC, "title", QUERY_EQ);
    check_value(&plan, 0, "\"Hi\"");
    check_value(&plan, 1, "3");
    check_value(&plan, 2, "1.5");
    check_value(&plan, 3, "true");
    check_cond(&plan, 4, QUERY_FIELD_DOC, "z", QUERY_EQ);
    assert_null(plan.conds[4].value);
    check_value(&plan, 5, "[1,\"a\"]");
    check_cond(&plan, 6, QUERY_FIELD_DOC, "obj", QUERY_EQ);
    check_value(&plan, 6, "{\"k\":{\"deep\":[1,{\"q\":2}]}}");
    check_cond(&plan, 7, QUERY_FIELD_DOC, "e", QUERY_EQ);
    check_value(&plan, 7, "{}");
    for (size_t i = 0; i < plan.nconds; i++) assert_int_equal(plan.conds[i].regex_icase, 0);
    query_plan_release(&plan);
}

static void test_system_fields_in_filters(void **state)
{
    (void)state;
    query_plan plan;
    and_ok(&plan, "{\"_id\":\"abc\",\"createdBy\":{\"$in\":[\"u1\",\"u2\"]},\"id\":{\"$ne\":\"x\"},"
                  "\"updatedAt\":{\"$exists\":true}}");
    assert_int_equal(plan.nconds, 4);
    check_cond(&plan, 0, QUERY_FIELD_ID, "id", QUERY_EQ);
    check_value(&plan, 0, "\"abc\"");
    check_cond(&plan, 1, QUERY_FIELD_CREATED_BY, "createdBy", QUERY_IN);
    check_value(&plan, 1, "[\"u1\",\"u2\"]");
    check_cond(&plan, 2, QUERY_FIELD_ID, "id", QUERY_NE);
    check_cond(&plan, 3, QUERY_FIELD_UPDATED_AT, "updatedAt", QUERY_EXISTS);
    query_plan_release(&plan);
}

static void test_literal_reserved_keys(void **state)
{
    (void)state;
    and_err("{\"a\":{\"__proto__\":1}}", "reserved");
    and_err("{\"a\":{\"b\":{\"constructor\":1}}}", "reserved");
    and_err("{\"a\":[{\"prototype\":1}]}", "reserved");
    and_err("{\"a\":[[{\"x\":{\"__proto__\":{}}}]]}", "reserved");
    and_err("{\"a\":{\"$eq\":{\"__proto__\":1}}}", "reserved");
    and_err("{\"a\":{\"$ne\":[{\"constructor\":1}]}}", "reserved");
    and_err("{\"__proto__\":1}", "reserved");
    and_err("{\"constructor\":{\"$eq\":1}}", "reserved");
    /* Operator keys are refused inside a value. */
    and_err("{\"a\":{\"b\":{\"$gt\":1}}}", "operator");
    and_err("{\"a\":{\"$eq\":{\"$where\":1}}}", "operator");
    and_err("{\"a\":[{\"$x\":1}]}", "operator");
    /* Similar names are fine. */
    query_plan plan;
    and_ok(&plan, "{\"a\":{\"proto\":1,\"Constructor\":2,\"x__proto__\":3}}");
    assert_int_equal(plan.nconds, 1);
    query_plan_release(&plan);
}

/* ---- andFilters: operators ---- */

static void test_all_operators(void **state)
{
    (void)state;
    query_plan plan;
    and_ok(&plan, "{\"a\":{\"$eq\":1,\"$ne\":2,\"$gt\":3,\"$gte\":4,\"$lt\":5,\"$lte\":6,\"$in\":[7],\"$nin\":[8],"
                  "\"$regex\":\"^x\",\"$exists\":true}}");
    static const query_op ops[] = {QUERY_EQ, QUERY_NE, QUERY_GT, QUERY_GTE, QUERY_LT,
                                   QUERY_LTE, QUERY_IN, QUERY_NIN, QUERY_REGEX, QUERY_EXISTS};
    assert_int_equal(plan.nconds, 10);
    assert_int_equal(plan.and_group.count, 10);
    for (size_t i = 0; i < 10; i++) check_cond(&plan, i, QUERY_FIELD_DOC, "a", ops[i]);
    check_value(&plan, 0, "1");
    check_value(&plan, 5, "6");
    check_value(&plan, 6, "[7]");
    check_value(&plan, 7, "[8]");
    check_value(&plan, 8, "\"^x\"");
    check_value(&plan, 9, "true");
    query_plan_release(&plan);
}

static void test_range_anded(void **state)
{
    (void)state;
    query_plan plan;
    and_ok(&plan, "{\"price\":{\"$gte\":1000,\"$lte\":50000},\"status\":\"open\"}");
    assert_int_equal(plan.nconds, 3);
    assert_int_equal(plan.and_group.count, 3);
    check_cond(&plan, 0, QUERY_FIELD_DOC, "price", QUERY_GTE);
    check_value(&plan, 0, "1000");
    check_cond(&plan, 1, QUERY_FIELD_DOC, "price", QUERY_LTE);
    check_value(&plan, 1, "50000");
    check_cond(&plan, 2, QUERY_FIELD_DOC, "status", QUERY_EQ);
    query_plan_release(&plan);
}

static void test_unknown_and_mixed_operators(void **state)
{
    (void)state;
    and_err("{\"a\":{\"$where\":\"1\"}}", "unsupported operator");
    and_err("{\"a\":{\"$gt\":1,\"$foo\":2}}", "unsupported operator");
    and_err("{\"a\":{\"$\":1}}", "unsupported operator");
    and_err("{\"a\":{\"$EQ\":1}}", "unsupported operator");
    and_err("{\"a\":{\"$and\":[]}}", "unsupported operator");
    and_err("{\"$or\":[{\"a\":1}]}", "invalid field name");
    and_err("{\"a\":{\"$gt\":1,\"a\":2}}", "mixed");
    and_err("{\"a\":{\"b\":2,\"$gt\":1}}", "mixed");
}

static void test_ordering_operands(void **state)
{
    (void)state;
    query_plan plan;
    and_ok(&plan, "{\"a\":{\"$gt\":\"x\",\"$gte\":1,\"$lt\":2.5,\"$lte\":false}}");
    assert_int_equal(plan.nconds, 4);
    check_value(&plan, 0, "\"x\"");
    check_value(&plan, 3, "false");
    query_plan_release(&plan);
    static const char *const ops[] = {"$gt", "$gte", "$lt", "$lte"};
    static const char *const bad[] = {"null", "[]", "[1]", "{}", "{\"a\":1}"};
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < sizeof bad / sizeof bad[0]; j++) {
            char f[64];
            snprintf(f, sizeof f, "{\"a\":{\"%s\":%s}}", ops[i], bad[j]);
            and_err(f, "needs a number, string or boolean");
        }
}

static void test_eq_ne_operands(void **state)
{
    (void)state;
    query_plan plan;
    and_ok(&plan, "{\"a\":{\"$eq\":null,\"$ne\":{\"k\":[1]}},\"b\":{\"$ne\":[1,2]},\"c\":{\"$eq\":{}}}");
    assert_int_equal(plan.nconds, 4);
    assert_null(plan.conds[0].value);
    check_value(&plan, 1, "{\"k\":[1]}");
    check_value(&plan, 2, "[1,2]");
    check_value(&plan, 3, "{}");
    query_plan_release(&plan);
}

static void test_exists(void **state)
{
    (void)state;
    query_plan plan;
    and_ok(&plan, "{\"a\":{\"$exists\":false}}");
    check_cond(&plan, 0, QUERY_FIELD_DOC, "a", QUERY_EXISTS);
    assert_true(json_object_is_type(plan.conds[0].value, json_type_boolean));
    assert_false(json_object_get_boolean(plan.conds[0].value));
    query_plan_release(&plan);
    and_err("{\"a\":{\"$exists\":1}}", "$exists");
    and_err("{\"a\":{\"$exists\":\"true\"}}", "$exists");
    and_err("{\"a\":{\"$exists\":null}}", "$exists");
    and_err("{\"a\":{\"$exists\":[true]}}", "$exists");
}

static void test_in_nin(void **state)
{
    (void)state;
    query_plan plan;
    and_ok(&plan, "{\"a\":{\"$in\":[1,\"x\",true,null,2.5]},\"b\":{\"$nin\":[]}}");
    check_cond(&plan, 0, QUERY_FIELD_DOC, "a", QUERY_IN);
    check_value(&plan, 0, "[1,\"x\",true,null,2.5]");
    check_cond(&plan, 1, QUERY_FIELD_DOC, "b", QUERY_NIN);
    check_value(&plan, 1, "[]");
    query_plan_release(&plan);

    static const char *const ops[] = {"$in", "$nin"};
    for (size_t i = 0; i < 2; i++) {
        char f[64];
        static const char *const not_array[] = {"1", "\"x\"", "null", "{}", "true"};
        for (size_t j = 0; j < sizeof not_array / sizeof not_array[0]; j++) {
            snprintf(f, sizeof f, "{\"a\":{\"%s\":%s}}", ops[i], not_array[j]);
            and_err(f, "needs an array");
        }
        snprintf(f, sizeof f, "{\"a\":{\"%s\":[1,[2]]}}", ops[i]);
        and_err(f, "values must be");
        snprintf(f, sizeof f, "{\"a\":{\"%s\":[{\"k\":1}]}}", ops[i]);
        and_err(f, "values must be");

        char *max = in_list(QUERY_MAX_IN, ops[i]);
        char *over = in_list(QUERY_MAX_IN + 1, ops[i]);
        and_ok(&plan, max);
        assert_int_equal(json_object_array_length(plan.conds[0].value), QUERY_MAX_IN);
        query_plan_release(&plan);
        and_err(over, "more than 1000");
        free(max);
        free(over);
    }
}

static void test_regex(void **state)
{
    (void)state;
    query_plan plan;
    and_ok(&plan, "{\"a\":{\"$regex\":\"^ab+c$\"},\"b\":{\"$regex\":\"x\",\"$options\":\"i\"},"
                  "\"c\":{\"$options\":\"\",\"$regex\":\"y\"}}");
    assert_int_equal(plan.nconds, 3);
    check_cond(&plan, 0, QUERY_FIELD_DOC, "a", QUERY_REGEX);
    check_value(&plan, 0, "\"^ab+c$\"");
    assert_int_equal(plan.conds[0].regex_icase, 0);
    check_cond(&plan, 1, QUERY_FIELD_DOC, "b", QUERY_REGEX);
    assert_int_equal(plan.conds[1].regex_icase, 1);
    check_cond(&plan, 2, QUERY_FIELD_DOC, "c", QUERY_REGEX);
    assert_int_equal(plan.conds[2].regex_icase, 0);
    query_plan_release(&plan);

    and_ok(&plan, "{\"a\":{\"$regex\":\"x\",\"$options\":\"i\",\"$ne\":\"xy\"}}");
    assert_int_equal(plan.nconds, 2);
    assert_int_equal(plan.conds[0].regex_icase, 1);
    assert_int_equal(plan.conds[1].op, QUERY_NE);
    query_plan_release(&plan);

    and_err("{\"a\":{\"$regex\":\"(\"}}", "invalid regular expression");
    and_err("{\"a\":{\"$regex\":\"[a-\"}}", "invalid regular expression");
    and_err("{\"a\":{\"$regex\":\"a{2,1}\"}}", "invalid regular expression");
    and_err("{\"a\":{\"$regex\":1}}", "$regex needs a string");
    and_err("{\"a\":{\"$regex\":null}}", "$regex needs a string");
    and_err("{\"a\":{\"$regex\":[\"x\"]}}", "$regex needs a string");
    and_err("{\"a\":{\"$options\":\"i\"}}", "only allowed with $regex");
    and_err("{\"a\":{\"$gt\":1,\"$options\":\"i\"}}", "only allowed with $regex");
    and_err("{\"a\":{\"$regex\":\"x\",\"$options\":\"m\"}}", "$options");
    and_err("{\"a\":{\"$regex\":\"x\",\"$options\":\"im\"}}", "$options");
    and_err("{\"a\":{\"$regex\":\"x\",\"$options\":\"I\"}}", "$options");
    and_err("{\"a\":{\"$regex\":\"x\",\"$options\":1}}", "$options");
    and_err("{\"a\":{\"$regex\":\"x\",\"$options\":null}}", "$options");

    char f[QUERY_REGEX_MAX + 64];
    char *max = repeat('a', QUERY_REGEX_MAX), *over = repeat('a', QUERY_REGEX_MAX + 1);
    snprintf(f, sizeof f, "{\"a\":{\"$regex\":\"%s\"}}", max);
    and_ok(&plan, f);
    query_plan_release(&plan);
    snprintf(f, sizeof f, "{\"a\":{\"$regex\":\"%s\"}}", over);
    and_err(f, "longer than");
    free(max);
    free(over);
}

/* ---- andFilters: document shape ---- */

static void test_and_filters_shape(void **state)
{
    (void)state;
    query_plan plan;
    and_ok(&plan, "{}");
    assert_int_equal(plan.nconds, 0);
    assert_int_equal(plan.and_group.count, 0);
    query_plan_release(&plan);
    and_ok(&plan, " \n{ \"a\" : 1 }\t");
    assert_int_equal(plan.nconds, 1);
    query_plan_release(&plan);

    and_err("[]", "must be a JSON object");
    and_err("[{\"a\":1}]", "must be a JSON object");
    and_err("null", "must be a JSON object");
    and_err("1", "must be a JSON object");
    and_err("\"a\"", "must be a JSON object");
    and_err("true", "must be a JSON object");
}

static void test_malformed_json(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"a\":", "{\"a\":1,}", "{'a':1}", "{a:1}", "{\"a\":NaN}", "{\"a\":1} x", "{\"a\":1}{}", "{\"a\":01}",
        "{\"a\":1,\"a\":2}", "{\"a\":\"\x80\"}", "{\"a\":1 /* c */}", "{", "}", " ",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        and_err(bad[i], "Malformed JSON at byte");
        or_err(bad[i], "Malformed JSON at byte");
    }
    /* The parser's own code is re-coded. */
    query_params p = {0};
    query_plan plan;
    bs_err err;
    bs_err_clear(&err);
    p.and_filters = "{\"a\":";
    assert_int_equal(query_plan_parse(&plan, &p, NULL, &err), -1);
    assert_string_equal(err.code, VERR);
    assert_int_equal(strncmp(err.message, "andFilters: Malformed JSON at byte 5", 36), 0);
}

static void test_filter_text_limit(void **state)
{
    (void)state;
    /* {"a":"xxx..."} exactly QUERY_FILTER_TEXT_MAX bytes is fine; one more is refused. */
    size_t n = QUERY_FILTER_TEXT_MAX;
    char *f = malloc(n + 2);
    assert_non_null(f);
    memcpy(f, "{\"a\":\"", 6);
    memset(f + 6, 'x', n - 8);
    memcpy(f + n - 2, "\"}", 3);
    assert_int_equal(strlen(f), n);
    query_plan plan;
    and_ok(&plan, f);
    query_plan_release(&plan);
    memcpy(f, "{\"a\":\"", 6);
    memset(f + 6, 'x', n - 7);
    memcpy(f + n - 1, "\"}", 3);
    assert_int_equal(strlen(f), n + 1);
    and_err(f, "longer than");
    or_err(f, "longer than");
    free(f);
}

static void test_depth(void **state)
{
    (void)state;
    query_plan plan;
    char *ok = nested_filter(QUERY_MAX_DEPTH);
    char *deep = nested_filter(QUERY_MAX_DEPTH + 1);
    char *very_deep = nested_filter(200);
    and_ok(&plan, ok);
    assert_int_equal(plan.nconds, 1);
    query_plan_release(&plan);
    and_err(deep, "nested deeper than 8");
    and_err(very_deep, NULL);
    or_err(deep, "nested deeper than 8");

    /* Operator objects count: {"a":{"$in":[...]}} is two levels. */
    and_ok(&plan, "{\"a\":{\"$eq\":[[[[[[[1]]]]]]]}}");
    query_plan_release(&plan);
    and_err("{\"a\":{\"$eq\":[[[[[[[[1]]]]]]]]}}", "nested deeper than 8");

    /* orFilters array: the array wrapper does not count against its elements. */
    char f[256];
    snprintf(f, sizeof f, "[%s]", ok);
    or_ok(&plan, f);
    assert_int_equal(plan.nor, 1);
    query_plan_release(&plan);
    snprintf(f, sizeof f, "[%s]", deep);
    or_err(f, "nested deeper than");
    free(ok);
    free(deep);
    free(very_deep);
}

static void test_term_limit(void **state)
{
    (void)state;
    query_plan plan;
    char *max = many_fields(QUERY_MAX_TERMS, "f");
    char *over = many_fields(QUERY_MAX_TERMS + 1, "f");
    and_ok(&plan, max);
    assert_int_equal(plan.nconds, QUERY_MAX_TERMS);
    query_plan_release(&plan);
    and_err(over, "more than 64 conditions");

    /* Several operators on one field count one each. */
    char ops[QUERY_MAX_TERMS * 16];
    size_t o = (size_t)sprintf(ops, "{");
    for (int i = 0; i < 33; i++) o += (size_t)sprintf(ops + o, "%s\"f%d\":{\"$gt\":1,\"$lt\":9}", i ? "," : "", i);
    sprintf(ops + o, "}");
    and_err(ops, "more than 64 conditions");

    /* andFilters and orFilters together. */
    char *and50 = many_fields(50, "a"), *or14 = many_fields(14, "o"), *or15 = many_fields(15, "o");
    query_params p = {0};
    p.and_filters = and50;
    p.or_filters = or14;
    plan_ok(&plan, &p);
    assert_int_equal(plan.nconds, 64);
    assert_int_equal(plan.and_group.count, 50);
    assert_int_equal(plan.nor, 14);
    query_plan_release(&plan);
    p.or_filters = or15;
    plan_err(&p, "orFilters", "more than 64 conditions");
    free(max);
    free(over);
    free(and50);
    free(or14);
    free(or15);
}

static void test_dotted_path_without_schema(void **state)
{
    (void)state;
    and_err("{\"meta.author\":\"x\"}", "schema");
    or_err("{\"meta.author\":\"x\"}", "schema");
    query_params p = {0};
    p.sort_by = "meta.author";
    plan_err(&p, "sortBy", "schema");
}

/* ---- orFilters ---- */

static void test_or_object(void **state)
{
    (void)state;
    query_plan plan;
    or_ok(&plan, "{\"a\":1,\"b\":{\"$gt\":1,\"$lt\":5},\"_id\":\"x\"}");
    assert_int_equal(plan.and_group.count, 0);
    assert_int_equal(plan.nconds, 4);
    assert_int_equal(plan.nor, 3);
    assert_int_equal(plan.or_groups[0].first, 0);
    assert_int_equal(plan.or_groups[0].count, 1);
    assert_int_equal(plan.or_groups[1].first, 1);
    assert_int_equal(plan.or_groups[1].count, 2);
    assert_int_equal(plan.or_groups[2].first, 3);
    assert_int_equal(plan.or_groups[2].count, 1);
    check_cond(&plan, 1, QUERY_FIELD_DOC, "b", QUERY_GT);
    check_cond(&plan, 2, QUERY_FIELD_DOC, "b", QUERY_LT);
    check_cond(&plan, 3, QUERY_FIELD_ID, "id", QUERY_EQ);
    query_plan_release(&plan);

    or_ok(&plan, "{}");
    assert_int_equal(plan.nor, 0);
    assert_int_equal(plan.nconds, 0);
    query_plan_release(&plan);
}

static void test_or_array(void **state)
{
    (void)state;
    query_plan plan;
    or_ok(&plan, "[{\"a\":1,\"b\":{\"$in\":[1,2]}},{\"c\":{\"$exists\":false}}]");
    assert_int_equal(plan.nconds, 3);
    assert_int_equal(plan.nor, 2);
    assert_int_equal(plan.or_groups[0].first, 0);
    assert_int_equal(plan.or_groups[0].count, 2);
    assert_int_equal(plan.or_groups[1].first, 2);
    assert_int_equal(plan.or_groups[1].count, 1);
    check_cond(&plan, 2, QUERY_FIELD_DOC, "c", QUERY_EXISTS);
    query_plan_release(&plan);

    or_err("[]", "empty array");
    or_err("[1]", "must be a JSON object");
    or_err("[{\"a\":1},[]]", "orFilters[1]: must be a JSON object");
    or_err("[{\"a\":1},null]", "must be a JSON object");
    or_err("[{\"a\":1},{}]", "orFilters[1]: empty condition object");
    or_err("[{\"a\":{\"$where\":1}}]", "unsupported operator");
    or_err("\"a\"", "must be a JSON object or an array");
    or_err("null", "must be a JSON object");
    or_err("3", "must be a JSON object or an array");
}

static void test_or_group_limit(void **state)
{
    (void)state;
    query_plan plan;
    char arr[QUERY_MAX_OR_GROUPS * 16 + 32];
    size_t o = (size_t)sprintf(arr, "[");
    for (int i = 0; i < QUERY_MAX_OR_GROUPS; i++) o += (size_t)sprintf(arr + o, "%s{\"f%d\":1}", i ? "," : "", i);
    sprintf(arr + o, "]");
    or_ok(&plan, arr);
    assert_int_equal(plan.nor, QUERY_MAX_OR_GROUPS);
    query_plan_release(&plan);
    sprintf(arr + o, ",{\"x\":1}]");
    or_err(arr, "more than 16 alternatives");

    char *obj16 = many_fields(QUERY_MAX_OR_GROUPS, "f"), *obj17 = many_fields(QUERY_MAX_OR_GROUPS + 1, "f");
    or_ok(&plan, obj16);
    assert_int_equal(plan.nor, QUERY_MAX_OR_GROUPS);
    query_plan_release(&plan);
    or_err(obj17, "more than 16 alternatives");
    free(obj16);
    free(obj17);
}

static void test_and_with_or(void **state)
{
    (void)state;
    query_params p = {0};
    query_plan plan;
    p.and_filters = "{\"status\":\"open\",\"price\":{\"$gte\":1,\"$lte\":9}}";
    p.or_filters = "[{\"a\":1},{\"b\":2,\"c\":3}]";
    plan_ok(&plan, &p);
    assert_int_equal(plan.nconds, 6);
    assert_int_equal(plan.and_group.first, 0);
    assert_int_equal(plan.and_group.count, 3);
    assert_int_equal(plan.nor, 2);
    assert_int_equal(plan.or_groups[0].first, 3);
    assert_int_equal(plan.or_groups[0].count, 1);
    assert_int_equal(plan.or_groups[1].first, 4);
    assert_int_equal(plan.or_groups[1].count, 2);
    query_plan_release(&plan);

    /* A refusal in orFilters releases what andFilters built (ASan checks for leaks). */
    p.or_filters = "{\"a\":{\"$bad\":1}}";
    plan_err(&p, "orFilters", "unsupported operator");
    p.or_filters = "[{\"a\":1}]";
    p.and_filters = "{\"a\":1,\"b\":{\"$regex\":\"(\"}}";
    plan_err(&p, "andFilters", "invalid regular expression");
}

/* ---- ownership ---- */

static void test_values_owned_and_release_idempotent(void **state)
{
    (void)state;
    query_plan plan;
    and_ok(&plan, "{\"a\":\"a long enough string value\",\"b\":{\"$in\":[\"x\",\"y\"]},\"c\":{\"k\":\"v\"}}");
    /* The parsed document is gone; the values must still be readable. */
    assert_string_equal(json_object_get_string(plan.conds[0].value), "a long enough string value");
    assert_string_equal(json_object_get_string(json_object_array_get_idx(plan.conds[1].value, 1)), "y");
    assert_string_equal(json_object_get_string(json_object_object_get(plan.conds[2].value, "k")), "v");
    query_plan_release(&plan);
    assert_int_equal(plan.nconds, 0);
    query_plan_release(&plan);
    query_plan_release(NULL);
}

static void test_error_order_and_messages(void **state)
{
    (void)state;
    /* Sort errors are reported before filter errors; every message names its parameter. */
    query_params p = {0};
    p.sort_direction = "sideways";
    p.and_filters = "{";
    plan_err(&p, "sortDirection", NULL);
    p.sort_direction = NULL;
    plan_err(&p, "andFilters", "Malformed JSON");
    p.and_filters = "{\"title\":{\"$gt\":null}}";
    plan_err(&p, "andFilters: title: $gt", NULL);
    p.and_filters = "{\"a\":{\"$regex\":\"(\"}}";
    plan_err(&p, "andFilters: a: $regex: invalid regular expression", NULL);
}

/* ---- SCHEMA: tests that compile a schema with core/schema.h ---- */

static schema *test_schema(void)
{
    const char *doc_text =
        "{\"bsonType\":\"object\",\"properties\":{"
        "\"title\":{\"bsonType\":\"string\"},\"views\":{\"bsonType\":\"int\"},\"price\":{\"bsonType\":\"double\"},"
        "\"at\":{\"bsonType\":\"date\"},\"tags\":{\"bsonType\":\"array\"},"
        "\"meta\":{\"bsonType\":\"object\",\"properties\":{\"author\":{\"bsonType\":\"string\"},"
        "\"inner\":{\"bsonType\":\"object\",\"properties\":{\"x\":{\"bsonType\":\"int\"}}}}}}}";
    struct json_object *doc = json_tokener_parse(doc_text);
    assert_non_null(doc);
    bs_err err;
    bs_err_clear(&err);
    schema *s = schema_compile(doc, &err);
    json_object_put(doc);
    if (!s) fail_msg("schema_compile: %s", err.message);
    return s;
}

/* SCHEMA */
static void test_schema_field_types_and_paths(void **state)
{
    (void)state;
    schema *s = test_schema();
    static const struct { const char *name; schema_type type; } ok[] = {
        {"title", SCHEMA_T_STRING}, {"views", SCHEMA_T_INT}, {"price", SCHEMA_T_NUMBER}, {"at", SCHEMA_T_DATE},
        {"meta", SCHEMA_T_OBJECT}, {"meta.author", SCHEMA_T_STRING}, {"meta.inner.x", SCHEMA_T_INT},
        {"meta.other", SCHEMA_T_NONE}, {"meta.inner.y", SCHEMA_T_NONE}, {"undeclared", SCHEMA_T_NONE},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        query_field f;
        bs_err err;
        bs_err_clear(&err);
        if (query_field_resolve(ok[i].name, s, &f, &err) != 0) fail_msg("%s: %s", ok[i].name, err.message);
        assert_int_equal(f.kind, QUERY_FIELD_DOC);
        assert_string_equal(f.path, ok[i].name);
        assert_int_equal(f.type, ok[i].type);
    }
    static const char *const bad[] = {"title.x", "undeclared.x", "meta.author.x", "meta.other.x", "tags.x",
                                      "views.x", "meta.__proto__", "meta..author"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        query_field f;
        bs_err err;
        bs_err_clear(&err);
        if (query_field_resolve(bad[i], s, &f, &err) == 0) fail_msg("accepted %s", bad[i]);
        assert_int_equal(err.status, 400);
        assert_string_equal(err.code, VERR);
    }

    query_params p = {0};
    query_plan plan;
    p.sort_by = "meta.author";
    p.select = "meta.author,title";
    p.search_type = "meta.inner.x";
    p.and_filters = "{\"meta.inner.x\":{\"$gte\":\"3\"}}";
    plan_ok_s(&plan, &p, s);
    assert_string_equal(plan.sort.path, "meta.author");
    assert_int_equal(plan.sort.type, SCHEMA_T_STRING);
    assert_int_equal(plan.nselect, 2);
    assert_string_equal(plan.search_field.path, "meta.inner.x");
    check_value(&plan, 0, "3");
    query_plan_release(&plan);
    p.and_filters = "{\"title.x\":1}";
    plan_err_s(&p, s, "andFilters", "not declared as an object");
    schema_free(s);
}

/* SCHEMA */
static void test_schema_date_normalization(void **state)
{
    (void)state;
    schema *s = test_schema();
    query_plan plan;
    and_ok_s(&plan, "{\"at\":{\"$gte\":\"2025-01-13\",\"$lte\":\"2025-01-19T10:30:00Z\",\"$in\":[\"2025-02-01\",null],"
                    "\"$regex\":\"^2025\"},\"title\":\"2025-01-13\"}", s);
    assert_int_equal(plan.nconds, 5);
    check_value(&plan, 0, "\"2025-01-13T00:00:00.000Z\"");
    check_value(&plan, 1, "\"2025-01-19T10:30:00.000Z\"");
    check_value(&plan, 2, "[\"2025-02-01T00:00:00.000Z\",null]");
    check_value(&plan, 3, "\"^2025\"");          /* $regex operands are patterns, not dates */
    check_value(&plan, 4, "\"2025-01-13\"");     /* a string field compares as written */
    query_plan_release(&plan);

    and_ok_s(&plan, "{\"at\":\"2025-03-04\"}", s);
    check_value(&plan, 0, "\"2025-03-04T00:00:00.000Z\"");
    query_plan_release(&plan);

    query_params p = {0};
    p.and_filters = "{\"at\":{\"$gt\":\"yesterday\"}}";
    plan_err_s(&p, s, "andFilters", "not a valid date");
    p.and_filters = "{\"at\":\"2025-13-45\"}";
    plan_err_s(&p, s, "andFilters", "not a valid date");
    p.and_filters = "{\"at\":{\"$in\":[\"2025-01-01\",\"nope\"]}}";
    plan_err_s(&p, s, "andFilters", "not a valid date");
    p.and_filters = NULL;
    p.or_filters = "[{\"at\":{\"$lt\":\"x\"}}]";
    plan_err_s(&p, s, "orFilters", "not a valid date");
    schema_free(s);
}

/* SCHEMA (uses schema_normalize_date only): createdAt/updatedAt compare as dates without a schema. */
static void test_system_dates_normalized(void **state)
{
    (void)state;
    query_plan plan;
    and_ok(&plan, "{\"createdAt\":{\"$gte\":\"2025-01-13\"},\"updatedAt\":{\"$lt\":\"2025-01-14T00:00:00.000Z\"}}");
    check_cond(&plan, 0, QUERY_FIELD_CREATED_AT, "createdAt", QUERY_GTE);
    check_value(&plan, 0, "\"2025-01-13T00:00:00.000Z\"");
    check_value(&plan, 1, "\"2025-01-14T00:00:00.000Z\"");
    query_plan_release(&plan);
    and_err("{\"createdAt\":{\"$gt\":\"soon\"}}", "not a valid date");
}

/* SCHEMA */
static void test_schema_number_coercion(void **state)
{
    (void)state;
    schema *s = test_schema();
    query_plan plan;
    and_ok_s(&plan, "{\"views\":\"10\",\"price\":{\"$gt\":\"1.5\",\"$lt\":\"-2e3\",\"$ne\":\"abc\"},"
                    "\"meta.inner.x\":{\"$in\":[\"1\",\"x\",2,\"01\",\" 3\"]},\"title\":\"10\"}", s);
    assert_int_equal(plan.nconds, 6);
    assert_true(json_object_is_type(plan.conds[0].value, json_type_int));
    assert_int_equal(json_object_get_int64(plan.conds[0].value), 10);
    assert_true(json_object_is_type(plan.conds[1].value, json_type_double));
    assert_true(json_object_get_double(plan.conds[1].value) == 1.5);
    assert_true(json_object_is_type(plan.conds[2].value, json_type_double));
    assert_true(json_object_get_double(plan.conds[2].value) == -2000.0);
    check_value(&plan, 3, "\"abc\"");  /* not numeric: compared as written */
    struct json_object *in = plan.conds[4].value;
    assert_true(json_object_is_type(json_object_array_get_idx(in, 0), json_type_int));
    assert_true(json_object_is_type(json_object_array_get_idx(in, 1), json_type_string));
    assert_true(json_object_is_type(json_object_array_get_idx(in, 2), json_type_int));
    assert_true(json_object_is_type(json_object_array_get_idx(in, 3), json_type_string));
    assert_true(json_object_is_type(json_object_array_get_idx(in, 4), json_type_string));
    check_value(&plan, 5, "\"10\"");   /* a string field keeps the string */
    query_plan_release(&plan);

    /* Without a schema nothing is coerced. */
    and_ok(&plan, "{\"views\":\"10\"}");
    check_value(&plan, 0, "\"10\"");
    query_plan_release(&plan);
    schema_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_empty_params_are_absent),
        cmocka_unit_test(test_limit_clamping),
        cmocka_unit_test(test_page_clamping),
        cmocka_unit_test(test_sort),
        cmocka_unit_test(test_sort_direction),
        cmocka_unit_test(test_field_resolve_refusals),
        cmocka_unit_test(test_field_resolve_lengths),
        cmocka_unit_test(test_field_resolve_ok),
        cmocka_unit_test(test_bad_names_in_every_parameter),
        cmocka_unit_test(test_select),
        cmocka_unit_test(test_select_limit),
        cmocka_unit_test(test_search),
        cmocka_unit_test(test_literal_equality),
        cmocka_unit_test(test_system_fields_in_filters),
        cmocka_unit_test(test_literal_reserved_keys),
        cmocka_unit_test(test_all_operators),
        cmocka_unit_test(test_range_anded),
        cmocka_unit_test(test_unknown_and_mixed_operators),
        cmocka_unit_test(test_ordering_operands),
        cmocka_unit_test(test_eq_ne_operands),
        cmocka_unit_test(test_exists),
        cmocka_unit_test(test_in_nin),
        cmocka_unit_test(test_regex),
        cmocka_unit_test(test_and_filters_shape),
        cmocka_unit_test(test_malformed_json),
        cmocka_unit_test(test_filter_text_limit),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_term_limit),
        cmocka_unit_test(test_dotted_path_without_schema),
        cmocka_unit_test(test_or_object),
        cmocka_unit_test(test_or_array),
        cmocka_unit_test(test_or_group_limit),
        cmocka_unit_test(test_and_with_or),
        cmocka_unit_test(test_values_owned_and_release_idempotent),
        cmocka_unit_test(test_error_order_and_messages),
        /* SCHEMA: these need core/schema.c (schema_compile, schema_field_type, schema_normalize_date). */
        cmocka_unit_test(test_schema_field_types_and_paths),
        cmocka_unit_test(test_schema_date_normalization),
        cmocka_unit_test(test_system_dates_normalized),
        cmocka_unit_test(test_schema_number_coercion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
