#include "store/sqlite/docs_sql.h"

#include <string.h>

void docs_sql_table(strbuf *sql, const char *table)
{
    strbuf_appendf(sql, "\"d_%s\"", table);
}

void docs_sql_field(strbuf *sql, const query_field *f)
{
    switch (f->kind) {
    case QUERY_FIELD_ID: strbuf_append_str(sql, "id"); return;
    case QUERY_FIELD_CREATED_BY: strbuf_append_str(sql, "created_by"); return;
    case QUERY_FIELD_CREATED_AT: strbuf_append_str(sql, "created_at"); return;
    case QUERY_FIELD_UPDATED_AT: strbuf_append_str(sql, "updated_at"); return;
    default: strbuf_appendf(sql, "json_extract(doc,'$.%s')", f->path);
    }
}

static void json_type_expr(strbuf *sql, const query_field *f)
{
    strbuf_appendf(sql, "json_type(doc,'$.%s')", f->path);
}

static int bind_value(docs_binds *b, struct json_object *v)
{
    if (b->n >= DOCS_SQL_MAX_BINDS) return -1;
    b->values[b->n] = v;
    b->texts[b->n] = NULL;
    b->n++;
    return 0;
}

static int bind_text(docs_binds *b, const char *text)
{
    if (b->n >= DOCS_SQL_MAX_BINDS) return -1;
    b->values[b->n] = NULL;
    b->texts[b->n] = text;
    b->n++;
    return 0;
}

/* A type guard so that ordering compares like with like (JSON type first, then value). It is spelled on
 * the field expression itself so an index on that expression still serves the query: in SQLite every
 * TEXT value sorts above every number, and '' is the smallest TEXT, so "is a string" is expr >= '' and
 * "is a number" is expr < '' (json_extract returns true/false as 1/0: booleans count as numbers here). */
static void type_guard(strbuf *sql, const query_field *f, struct json_object *v)
{
    if (f->kind != QUERY_FIELD_DOC) return;
    enum json_type t = json_object_get_type(v);
    if (t == json_type_boolean) {
        json_type_expr(sql, f);
        strbuf_append_str(sql, " IN ('true','false') AND ");
        return;
    }
    docs_sql_field(sql, f);
    strbuf_append_str(sql, t == json_type_int || t == json_type_double ? " < '' AND " : " >= '' AND ");
}

static int cond_eq(strbuf *sql, docs_binds *b, const query_cond *c, int negate)
{
    enum json_type t = json_object_get_type(c->value);
    const query_field *f = &c->field;
    if (f->kind != QUERY_FIELD_DOC) {
        if (t == json_type_null) { strbuf_append_str(sql, negate ? "1" : "0"); return 0; }
        strbuf_append_str(sql, negate ? "(" : "");
        docs_sql_field(sql, f);
        strbuf_append_str(sql, negate ? " IS NOT ?)" : " IS ?");
        return bind_value(b, c->value);
    }
    if (t == json_type_null) {
        strbuf_append_char(sql, '(');
        json_type_expr(sql, f);
        strbuf_append_str(sql, negate ? " IS NOT NULL AND " : " IS NULL OR ");
        json_type_expr(sql, f);
        strbuf_append_str(sql, negate ? " <> 'null')" : " = 'null')");
        return 0;
    }
    if (t == json_type_boolean) {
        strbuf_append_str(sql, negate ? "(" : "");
        json_type_expr(sql, f);
        strbuf_appendf(sql, " IS '%s'", json_object_get_boolean(c->value) ? "true" : "false");
        strbuf_append_str(sql, negate ? " IS NOT 1)" : "");
        return 0;
    }
    strbuf_append_str(sql, "(");
    docs_sql_field(sql, f); /* equality needs no guard: a TEXT value never equals a number */
    if (t == json_type_object || t == json_type_array) {
        strbuf_append_str(sql, negate ? " IS NOT json(?))" : " = json(?))");
        return bind_text(b, json_object_to_json_string_ext(c->value, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    }
    strbuf_append_str(sql, negate ? " IS NOT ?" : " = ?");
    if (negate) {
        /* $ne also matches a value of another JSON type with the same SQL value ("1" vs 1) */
        strbuf_append_str(sql, " OR ");
        json_type_expr(sql, f);
        strbuf_append_str(sql, t == json_type_string ? " IS NOT 'text')" : " NOT IN ('integer','real'))");
        return bind_value(b, c->value);
    }
    strbuf_append_char(sql, ')');
    return bind_value(b, c->value);
}

static int list_has_null(struct json_object *list)
{
    size_t n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++) {
        struct json_object *v = json_object_array_get_idx(list, i);
        if (!v || json_object_is_type(v, json_type_null)) return 1;
    }
    return 0;
}

/* $in: a listed value, or null/missing when null is listed; $nin: the opposite (a missing field is not in
 * a list without null). An empty list is SQLite's "IN ()": false for IN, true for NOT IN. */
static int cond_in(strbuf *sql, docs_binds *b, const query_cond *c, int negate)
{
    size_t n = json_object_array_length(c->value);
    int nulls = c->field.kind == QUERY_FIELD_DOC && list_has_null(c->value);
    strbuf_append_str(sql, "(");
    if (negate && !nulls) {
        docs_sql_field(sql, &c->field);
        strbuf_append_str(sql, " IS NULL OR ");
    }
    docs_sql_field(sql, &c->field);
    strbuf_append_str(sql, negate ? " NOT IN (" : " IN (");
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        struct json_object *v = json_object_array_get_idx(c->value, i);
        if (!v || json_object_is_type(v, json_type_null)) continue;
        strbuf_append_str(sql, first ? "?" : ",?");
        first = 0;
        if (bind_value(b, v) < 0) return -1;
    }
    strbuf_append_char(sql, ')');
    if (nulls) {
        strbuf_append_str(sql, negate ? " AND " : " OR ");
        json_type_expr(sql, &c->field);
        strbuf_append_str(sql, negate ? " IS NOT NULL AND " : " IS NULL OR ");
        json_type_expr(sql, &c->field);
        strbuf_append_str(sql, negate ? " <> 'null'" : " = 'null'");
    }
    strbuf_append_char(sql, ')');
    return 0;
}

static int cond_sql(strbuf *sql, docs_binds *b, const query_cond *c)
{
    static const char *const ops[] = {[QUERY_GT] = " > ?", [QUERY_GTE] = " >= ?", [QUERY_LT] = " < ?", [QUERY_LTE] = " <= ?"};
    switch (c->op) {
    case QUERY_EQ: return cond_eq(sql, b, c, 0);
    case QUERY_NE: return cond_eq(sql, b, c, 1);
    case QUERY_IN: return cond_in(sql, b, c, 0);
    case QUERY_NIN: return cond_in(sql, b, c, 1);
    case QUERY_EXISTS:
        if (c->field.kind != QUERY_FIELD_DOC) {
            strbuf_append_str(sql, json_object_get_boolean(c->value) ? "1" : "0");
            return 0;
        }
        json_type_expr(sql, &c->field);
        strbuf_append_str(sql, json_object_get_boolean(c->value) ? " IS NOT NULL" : " IS NULL");
        return 0;
    case QUERY_REGEX:
        strbuf_appendf(sql, "basalt_regexp(?, %d, ", c->regex_icase);
        docs_sql_field(sql, &c->field);
        strbuf_append_char(sql, ')');
        return bind_value(b, c->value);
    default:
        strbuf_append_char(sql, '(');
        type_guard(sql, &c->field, c->value);
        docs_sql_field(sql, &c->field);
        strbuf_append_str(sql, ops[c->op]);
        strbuf_append_char(sql, ')');
        return bind_value(b, c->value);
    }
}

static int group_sql(strbuf *sql, docs_binds *b, const query_plan *plan, const query_group *g)
{
    if (g->count == 0) {
        strbuf_append_str(sql, "(1)"); /* an empty row filter: every row */
        return 0;
    }
    strbuf_append_char(sql, '(');
    for (size_t i = 0; i < g->count; i++) {
        if (i) strbuf_append_str(sql, " AND ");
        if (cond_sql(sql, b, &plan->conds[g->first + i]) < 0) return -1;
    }
    strbuf_append_char(sql, ')');
    return 0;
}

static int search_sql(strbuf *sql, docs_binds *b, const query_plan *plan)
{
    int rc = 0;
    strbuf_append_char(sql, '(');
    if (plan->has_search_field) {
        strbuf_append_str(sql, "instr(lower(");
        docs_sql_field(sql, &plan->search_field);
        strbuf_append_str(sql, "), lower(?)) > 0");
        rc = bind_text(b, plan->search);
    } else {
        /* every string value of the record but the system fields and the columns the caller may not read */
        strbuf_append_str(sql, "EXISTS (SELECT 1 FROM json_tree(");
        if (plan->nsearch_skip) {
            strbuf_append_str(sql, "json_remove(doc");
            for (size_t i = 0; i < plan->nsearch_skip; i++) {
                strbuf_append_str(sql, ",'$.\"' || ? || '\"'");
                if (bind_text(b, plan->search_skip[i]) < 0) rc = -1;
            }
            strbuf_append_char(sql, ')');
        } else {
            strbuf_append_str(sql, "doc");
        }
        strbuf_append_str(sql, ") AS t WHERE t.type = 'text' "
                               "AND NOT (t.path = '$' AND t.key IN ('id','createdBy','createdAt','updatedAt')) "
                               "AND instr(lower(t.value), lower(?)) > 0)");
        if (bind_text(b, plan->search) < 0) rc = -1;
    }
    strbuf_append_char(sql, ')');
    return rc;
}

/* (sort < v OR (sort = v AND id < last)) for descending order, > for ascending. */
static int after_sql(strbuf *sql, docs_binds *b, const query_plan *plan, struct json_object *after)
{
    const char *op = plan->sort_desc ? "<" : ">";
    struct json_object *v = json_object_array_get_idx(after, 0), *id = json_object_array_get_idx(after, 1);
    strbuf_append_char(sql, '(');
    if (plan->sort.kind == QUERY_FIELD_ID) {
        strbuf_appendf(sql, "id %s ?)", op);
        return bind_value(b, id);
    }
    docs_sql_field(sql, &plan->sort);
    strbuf_appendf(sql, " %s ? OR (", op);
    docs_sql_field(sql, &plan->sort);
    strbuf_appendf(sql, " = ? AND id %s ?))", op);
    return bind_value(b, v) < 0 || bind_value(b, v) < 0 ? -1 : bind_value(b, id);
}

int docs_sql_where(strbuf *sql, docs_binds *b, const query_plan *plan, const char *created_by_filter,
                   struct json_object *after)
{
    const char *glue = " WHERE ";
    if (plan && plan->and_group.count) {
        strbuf_append_str(sql, glue);
        if (group_sql(sql, b, plan, &plan->and_group) < 0) return -1;
        glue = " AND ";
    }
    if (plan && plan->nor) {
        strbuf_append_str(sql, glue);
        strbuf_append_char(sql, '(');
        for (size_t i = 0; i < plan->nor; i++) {
            if (i) strbuf_append_str(sql, " OR ");
            if (group_sql(sql, b, plan, &plan->or_groups[i]) < 0) return -1;
        }
        strbuf_append_char(sql, ')');
        glue = " AND ";
    }
    if (plan && plan->nrow) {
        strbuf_append_str(sql, glue);
        strbuf_append_char(sql, '(');
        for (size_t i = 0; i < plan->nrow; i++) {
            if (i) strbuf_append_str(sql, " OR ");
            if (group_sql(sql, b, plan, &plan->row_groups[i]) < 0) return -1;
        }
        strbuf_append_char(sql, ')');
        glue = " AND ";
    }
    if (plan && plan->search[0]) {
        strbuf_append_str(sql, glue);
        if (search_sql(sql, b, plan) < 0) return -1;
        glue = " AND ";
    }
    if (created_by_filter) {
        strbuf_append_str(sql, glue);
        strbuf_append_str(sql, "created_by = ?");
        if (bind_text(b, created_by_filter) < 0) return -1;
        glue = " AND ";
    }
    if (after) {
        strbuf_append_str(sql, glue);
        if (after_sql(sql, b, plan, after) < 0) return -1;
    }
    return sql->overflow ? -1 : 0;
}

void docs_sql_order(strbuf *sql, const query_plan *plan)
{
    const char *dir = plan->sort_desc ? "DESC" : "ASC";
    strbuf_append_str(sql, " ORDER BY ");
    docs_sql_field(sql, &plan->sort);
    strbuf_appendf(sql, " %s", dir);
    if (plan->sort.kind != QUERY_FIELD_ID) strbuf_appendf(sql, ", id %s", dir);
}

/* SQLite takes at most 127 arguments per function call (SQLITE_MAX_FUNCTION_ARG's default): one
 * json_object holds the 4 system fields and at most PROJECTION_FLAT_MAX selected ones; beyond that, or for
 * nested paths, the selected paths are added by json_insert calls of at most PROJECTION_INSERT_MAX paths. */
#define PROJECTION_FLAT_MAX 59
#define PROJECTION_INSERT_MAX 60

/* 1 when another selected path is an ancestor of select[i] (it brings select[i] along). */
static int projection_covered(const query_plan *plan, size_t i)
{
    const char *path = plan->select[i].path;
    for (size_t j = 0; j < plan->nselect; j++) {
        const char *other = plan->select[j].path;
        size_t n = strlen(other);
        if (j != i && strncmp(path, other, n) == 0 && path[n] == '.') return 1;
    }
    return 0;
}

/* The selected paths to project (none covered by another), in the request's order; 1 when one is nested. */
static size_t projection_paths(const query_plan *plan, const char **out, int *nested)
{
    size_t n = 0;
    *nested = 0;
    for (size_t i = 0; i < plan->nselect && i < QUERY_MAX_SELECT; i++) {
        if (projection_covered(plan, i)) continue;
        out[n++] = plan->select[i].path;
        if (strchr(plan->select[i].path, '.')) *nested = 1;
    }
    return n;
}

/* The selected fields as a record: system fields, then each selected path, nested ones as nested objects
 * holding only that path ({"profile":{"city":..}}); a path the record lacks is null. */
void docs_sql_projection(strbuf *sql, const query_plan *plan)
{
    if (!plan || plan->nselect == 0) {
        strbuf_append_str(sql, "doc");
        return;
    }
    const char *paths[QUERY_MAX_SELECT];
    int nested;
    size_t n = projection_paths(plan, paths, &nested);
    int flat = !nested && n <= PROJECTION_FLAT_MAX;
    size_t calls = flat ? 0 : (n + PROJECTION_INSERT_MAX - 1) / PROJECTION_INSERT_MAX;
    for (size_t i = 0; i < calls; i++) strbuf_append_str(sql, "json_insert(");
    strbuf_append_str(sql, "json_object('id',id,'createdBy',created_by,'createdAt',created_at,'updatedAt',updated_at");
    for (size_t i = 0; flat && i < n; i++) strbuf_appendf(sql, ",'%s',doc->'$.%s'", paths[i], paths[i]);
    strbuf_append_char(sql, ')');
    for (size_t i = 0; !flat && i < n; i++) {
        strbuf_appendf(sql, ",'$.%s',doc->'$.%s'", paths[i], paths[i]);
        if ((i + 1) % PROJECTION_INSERT_MAX == 0 || i + 1 == n) strbuf_append_char(sql, ')');
    }
}

void docs_sql_binds_key(strbuf *key, const docs_binds *b)
{
    for (int i = 0; i < b->n; i++) {
        struct json_object *v = b->values[i];
        if (!v) {
            const char *t = b->texts[i];
            strbuf_appendf(key, "\nt%zu:", strlen(t));
            strbuf_append_str(key, t);
            continue;
        }
        switch (json_object_get_type(v)) {
        case json_type_int: strbuf_appendf(key, "\ni%lld", (long long)json_object_get_int64(v)); break;
        case json_type_double: strbuf_appendf(key, "\nd%.17g", json_object_get_double(v)); break;
        case json_type_boolean: strbuf_appendf(key, "\nb%d", json_object_get_boolean(v)); break;
        case json_type_string:
            strbuf_appendf(key, "\ns%d:", json_object_get_string_len(v));
            strbuf_append(key, json_object_get_string(v), (size_t)json_object_get_string_len(v));
            break;
        default: strbuf_append_str(key, "\nn");
        }
    }
}

int docs_sql_list(docs_list_sql *q, const char *table, const query_plan *plan, const char *created_by_filter,
                  struct json_object *after)
{
    strbuf_init(&q->count, 256 * 1024);
    strbuf_init(&q->page, 256 * 1024);
    q->count_binds.n = 0;
    q->page_binds.n = 0;
    strbuf_append_str(&q->count, "SELECT count(*) FROM ");
    docs_sql_table(&q->count, table);
    q->count_where = q->count.len;
    int rc = docs_sql_where(&q->count, &q->count_binds, plan, created_by_filter, NULL);
    strbuf_append_str(&q->page, "SELECT ");
    docs_sql_projection(&q->page, plan);
    strbuf_append_str(&q->page, ", ");
    docs_sql_field(&q->page, &plan->sort);
    strbuf_append_str(&q->page, ", id FROM ");
    docs_sql_table(&q->page, table);
    if (rc == 0) rc = docs_sql_where(&q->page, &q->page_binds, plan, created_by_filter, after);
    docs_sql_order(&q->page, plan);
    strbuf_append_str(&q->page, " LIMIT ? OFFSET ?");
    return rc < 0 || q->count.overflow || q->page.overflow ? -1 : 0;
}

void docs_sql_list_release(docs_list_sql *q)
{
    strbuf_release(&q->count);
    strbuf_release(&q->page);
}
