/* query: see query.h. Parsing goes parameter by parameter in a fixed order (page, limit, sortBy,
 * sortDirection, select, search, searchType, andFilters, orFilters); the first refusal wins and leaves
 * the plan released. Filter values are walked once: the field name is resolved, the value's nesting is
 * bounded, then it becomes one equality or one condition per operator. Operands are validated (and,
 * for declared date and number fields, coerced) here so the store driver only binds them. */
#include "core/query.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"
#include "util/regex.h"

#define QUERY_VERR "data/validation-error"

/* ---- field names ---- */

static const char *const forbidden_names[] = {"__proto__", "constructor", "prototype"};

static int is_letter(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_name_char(char c)
{
    return is_letter(c) || (c >= '0' && c <= '9') || c == '_';
}

static int is_forbidden(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof forbidden_names / sizeof forbidden_names[0]; i++)
        if (strlen(forbidden_names[i]) == len && memcmp(forbidden_names[i], name, len) == 0) return 1;
    return 0;
}

static int set_system(const char *name, query_field *out)
{
    static const struct { const char *name, *path; query_field_kind kind; schema_type type; } sys[] = {
        {"id", "id", QUERY_FIELD_ID, SCHEMA_T_STRING},
        {"_id", "id", QUERY_FIELD_ID, SCHEMA_T_STRING},
        {"createdBy", "createdBy", QUERY_FIELD_CREATED_BY, SCHEMA_T_STRING},
        {"createdAt", "createdAt", QUERY_FIELD_CREATED_AT, SCHEMA_T_DATE},
        {"updatedAt", "updatedAt", QUERY_FIELD_UPDATED_AT, SCHEMA_T_DATE},
    };
    for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++) {
        if (strcmp(name, sys[i].name) != 0) continue;
        memset(out, 0, sizeof *out);
        out->kind = sys[i].kind;
        out->type = sys[i].type;
        snprintf(out->path, sizeof out->path, "%s", sys[i].path);
        return 1;
    }
    return 0;
}

static int is_system_name(const char *seg, size_t len)
{
    query_field tmp;
    char buf[16];
    if (len >= sizeof buf) return 0;
    memcpy(buf, seg, len);
    buf[len] = '\0';
    return set_system(buf, &tmp);
}

/* Checks the segments of name (len bytes, len < QUERY_FIELD_MAX); returns the segment count or -1. */
static int check_segments(const char *name, size_t len, const char *what, bs_err *err)
{
    int nseg = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && name[i] != '.') continue;
        const char *seg = name + start;
        size_t n = i - start;
        if (n == 0) return bs_err_set(err, 400, QUERY_VERR, "%s: invalid field name: empty segment", what);
        if (is_forbidden(seg, n))
            return bs_err_set(err, 400, QUERY_VERR, "%s: invalid field name: reserved name %.*s", what, (int)n, seg);
        if (!is_letter(seg[0]))
            return bs_err_set(err, 400, QUERY_VERR, "%s: invalid field name: each part must start with a letter",
                              what);
        for (size_t k = 1; k < n; k++)
            if (!is_name_char(seg[k]))
                return bs_err_set(err, 400, QUERY_VERR,
                                  "%s: invalid field name: only letters, digits, '_' and '.' are allowed", what);
        if (nseg == 0 && n < len && is_system_name(seg, n))
            return bs_err_set(err, 400, QUERY_VERR, "%s: invalid field name: %.*s has no sub-fields", what,
                              (int)n, seg);
        nseg++;
        start = i + 1;
    }
    return nseg;
}

/* A dotted path: every proper prefix must be declared by the schema as an object. */
static int check_path_declared(const char *path, const schema *s, const char *what, bs_err *err)
{
    if (!s)
        return bs_err_set(err, 400, QUERY_VERR, "%s: %s: a dotted path needs a schema that declares it", what,
                          path);
    char prefix[QUERY_FIELD_MAX];
    for (size_t i = 0; i < sizeof prefix && path[i]; i++) {
        if (path[i] != '.') continue;
        memcpy(prefix, path, i);
        prefix[i] = '\0';
        if (!schema_field_declared(s, prefix) || schema_field_type(s, prefix) != SCHEMA_T_OBJECT)
            return bs_err_set(err, 400, QUERY_VERR, "%s: %s: %s is not declared as an object in the schema",
                              what, path, prefix);
    }
    return 0;
}

static int field_resolve(const char *name, const schema *s, query_field *out, const char *what, bs_err *err)
{
    if (!name) return bs_err_set(err, 400, QUERY_VERR, "%s: missing field name", what);
    size_t len = strnlen(name, QUERY_FIELD_MAX);
    if (len == 0) return bs_err_set(err, 400, QUERY_VERR, "%s: empty field name", what);
    if (len >= QUERY_FIELD_MAX)
        return bs_err_set(err, 400, QUERY_VERR, "%s: field name longer than %d bytes", what, QUERY_FIELD_MAX - 1);
    if (set_system(name, out)) return 0;
    int nseg = check_segments(name, len, what, err);
    if (nseg < 0) return -1;
    if (nseg > 1 && check_path_declared(name, s, what, err) != 0) return -1;
    memset(out, 0, sizeof *out);
    out->kind = QUERY_FIELD_DOC;
    memcpy(out->path, name, len + 1);
    out->type = s ? schema_field_type(s, name) : SCHEMA_T_NONE;
    return 0;
}

int query_field_resolve(const char *name, const schema *s, query_field *out, bs_err *err)
{
    return field_resolve(name, s, out, "field", err);
}

/* ---- page, limit, sort, select, search ---- */

/* An optionally signed decimal integer, clamped: default when absent, not an integer or < 1; max when
 * above max (however many digits). */
static int64_t parse_count(const char *text, int64_t dflt, int64_t max)
{
    if (!text) return dflt;
    const char *p = text;
    int neg = 0;
    if (*p == '+' || *p == '-') neg = *p++ == '-';
    if (!*p) return dflt;
    int64_t v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9') return dflt;
        if (v <= max) v = v * 10 + (*p - '0');
    }
    if (neg || v < 1) return dflt;
    return v > max ? max : v;
}

static int ascii_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = (*a >= 'A' && *a <= 'Z') ? (char)(*a + 32) : *a;
        if (x != *b) return 0;
    }
    return *a == *b;
}

static int parse_sort(query_plan *plan, const query_params *p, const schema *s, bs_err *err)
{
    if (p->sort_by && p->sort_by[0]) {
        if (field_resolve(p->sort_by, s, &plan->sort, "sortBy", err) != 0) return -1;
    } else {
        set_system("createdAt", &plan->sort);
    }
    plan->sort_desc = 1;
    if (!p->sort_direction || !p->sort_direction[0]) return 0;
    if (ascii_ieq(p->sort_direction, "asc")) plan->sort_desc = 0;
    else if (!ascii_ieq(p->sort_direction, "desc"))
        return bs_err_set(err, 400, QUERY_VERR, "sortDirection: must be asc or desc");
    return 0;
}

static int select_add(query_plan *plan, const char *name, const schema *s, bs_err *err)
{
    query_field f;
    if (field_resolve(name, s, &f, "select", err) != 0) return -1;
    if (f.kind != QUERY_FIELD_DOC) return 0; /* system fields are always returned */
    for (size_t i = 0; i < plan->nselect; i++)
        if (strcmp(plan->select[i].path, f.path) == 0) return 0;
    if (plan->nselect >= QUERY_MAX_SELECT)
        return bs_err_set(err, 400, QUERY_VERR, "select: more than %d fields", QUERY_MAX_SELECT);
    plan->select[plan->nselect++] = f;
    return 0;
}

static int parse_select(query_plan *plan, const char *text, const schema *s, bs_err *err)
{
    if (!text) return 0;
    const char *p = text;
    while (*p) {
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t')) a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
        size_t n = (size_t)(b - a);
        if (n >= QUERY_FIELD_MAX)
            return bs_err_set(err, 400, QUERY_VERR, "select: field name longer than %d bytes", QUERY_FIELD_MAX - 1);
        if (n > 0) {
            char name[QUERY_FIELD_MAX];
            memcpy(name, a, n);
            name[n] = '\0';
            if (select_add(plan, name, s, err) != 0) return -1;
        }
        p = *end ? end + 1 : end;
    }
    return 0;
}

static int parse_search(query_plan *plan, const query_params *p, const schema *s, bs_err *err)
{
    if (p->search) {
        size_t n = strnlen(p->search, QUERY_SEARCH_MAX + 1);
        if (n > QUERY_SEARCH_MAX)
            return bs_err_set(err, 400, QUERY_VERR, "search: longer than %d bytes", QUERY_SEARCH_MAX);
        memcpy(plan->search, p->search, n + 1);
    }
    if (p->search_type && p->search_type[0]) {
        if (field_resolve(p->search_type, s, &plan->search_field, "searchType", err) != 0) return -1;
        plan->has_search_field = 1;
    }
    return 0;
}

/* ---- filter values ---- */

typedef struct fctx {
    query_plan *plan;
    const schema *s;
    const char *param;   /* "andFilters" / "orFilters" */
    bs_err *err;
} fctx;

static const struct { const char *name; query_op op; } op_names[] = {
    {"$eq", QUERY_EQ}, {"$ne", QUERY_NE}, {"$gt", QUERY_GT}, {"$gte", QUERY_GTE}, {"$lt", QUERY_LT},
    {"$lte", QUERY_LTE}, {"$in", QUERY_IN}, {"$nin", QUERY_NIN}, {"$regex", QUERY_REGEX}, {"$exists", QUERY_EXISTS},
};

/* Container nesting of v: 0 for a scalar; stops counting past limit. */
static int value_depth(struct json_object *v, int limit)
{
    if (limit < 0) return 1;
    int deepest = 0;
    if (json_object_is_type(v, json_type_object)) {
        json_object_object_foreach(v, k, child) {
            (void)k;
            int d = value_depth(child, limit - 1);
            if (d > deepest) deepest = d;
        }
    } else if (json_object_is_type(v, json_type_array)) {
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++) {
            int d = value_depth(json_object_array_get_idx(v, i), limit - 1);
            if (d > deepest) deepest = d;
        }
    } else {
        return 0;
    }
    return deepest + 1;
}

/* Keys inside a literal value: no reserved names and no operators, at any depth. */
static int check_literal(fctx *c, const query_field *f, struct json_object *v)
{
    if (json_object_is_type(v, json_type_array)) {
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++)
            if (check_literal(c, f, json_object_array_get_idx(v, i)) != 0) return -1;
        return 0;
    }
    if (!json_object_is_type(v, json_type_object)) return 0;
    json_object_object_foreach(v, key, child) {
        if (is_forbidden(key, strlen(key)))
            return bs_err_set(c->err, 400, QUERY_VERR, "%s: %s: reserved key %s in a value", c->param, f->path, key);
        if (key[0] == '$')
            return bs_err_set(c->err, 400, QUERY_VERR, "%s: %s: operator key inside a value", c->param, f->path);
        if (check_literal(c, f, child) != 0) return -1;
    }
    return 0;
}

/* A JSON number's text: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?; *integral when no point/exponent. */
static int numeric_text(const char *t, int *integral)
{
    const char *p = t;
    if (*p == '-') p++;
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9') while (*p >= '0' && *p <= '9') p++;
    else return 0;
    *integral = 1;
    if (*p == '.') {
        *integral = 0;
        if (!(*++p >= '0' && *p <= '9')) return 0;
        while (*p >= '0' && *p <= '9') p++;
    }
    if (*p == 'e' || *p == 'E') {
        *integral = 0;
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!(*p >= '0' && *p <= '9')) return 0;
        while (*p >= '0' && *p <= '9') p++;
    }
    return *p == '\0';
}

/* A numeric string as a new json number, or NULL when the text is not one. */
static struct json_object *number_from_string(const char *t)
{
    int integral = 0;
    if (!numeric_text(t, &integral)) return NULL;
    errno = 0;
    if (integral) {
        long long v = strtoll(t, NULL, 10);
        if (errno == 0) return json_object_new_int64(v);
        errno = 0;
    }
    double d = strtod(t, NULL);
    if (errno != 0 || !isfinite(d)) return NULL;
    return json_new_double_text(d, t);
}

/* One scalar operand, coerced for the field's declared type: *out is a new reference (or NULL for null). */
static int coerce_scalar(fctx *c, const query_field *f, struct json_object *v, struct json_object **out)
{
    *out = NULL;
    if (json_object_is_type(v, json_type_string)) {
        const char *t = json_object_get_string(v);
        if (f->type == SCHEMA_T_DATE) {
            char norm[25];
            if (schema_normalize_date(t, norm) != 0)
                return bs_err_set(c->err, 400, QUERY_VERR, "%s: %s: not a valid date", c->param, f->path);
            *out = json_object_new_string(norm);
            return *out ? 0 : bs_err_internal(c->err);
        }
        if ((f->type == SCHEMA_T_NUMBER || f->type == SCHEMA_T_INT) && (*out = number_from_string(t)) != NULL)
            return 0;
    }
    *out = json_object_get(v);
    return 0;
}

static int is_scalar(struct json_object *v)
{
    return !json_object_is_type(v, json_type_object) && !json_object_is_type(v, json_type_array);
}

/* $in / $nin: an array of at most QUERY_MAX_IN scalars, each coerced; *out is a new array. */
static int coerce_list(fctx *c, const query_field *f, const char *opname, struct json_object *v,
                       struct json_object **out)
{
    *out = NULL;
    if (!json_object_is_type(v, json_type_array))
        return bs_err_set(c->err, 400, QUERY_VERR, "%s: %s: %s needs an array", c->param, f->path, opname);
    size_t n = json_object_array_length(v);
    if (n > QUERY_MAX_IN)
        return bs_err_set(c->err, 400, QUERY_VERR, "%s: %s: %s has more than %d values", c->param, f->path, opname,
                          QUERY_MAX_IN);
    struct json_object *arr = json_object_new_array();
    if (!arr) return bs_err_internal(c->err);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct json_object *item = json_object_array_get_idx(v, i), *coerced = NULL;
        if (!is_scalar(item))
            rc = bs_err_set(c->err, 400, QUERY_VERR, "%s: %s: %s values must be strings, numbers, booleans or null",
                            c->param, f->path, opname);
        else if (coerce_scalar(c, f, item, &coerced) != 0)
            rc = -1;
        else if (json_object_array_add(arr, coerced) != 0) {
            json_object_put(coerced);
            rc = bs_err_internal(c->err);
        }
    }
    if (rc != 0) json_object_put(arr);
    else *out = arr;
    return rc;
}

static int append_cond(fctx *c, const query_field *f, query_op op, struct json_object *value, int icase)
{
    query_plan *plan = c->plan;
    if (plan->nconds >= QUERY_MAX_TERMS) {
        json_object_put(value);
        return bs_err_set(c->err, 400, QUERY_VERR, "%s: more than %d conditions in andFilters and orFilters",
                          c->param, QUERY_MAX_TERMS);
    }
    query_cond *cond = &plan->conds[plan->nconds++];
    cond->field = *f;
    cond->op = op;
    cond->value = value;
    cond->regex_icase = icase;
    return 0;
}

static int check_regex(fctx *c, const query_field *f, struct json_object *v, int icase)
{
    if (!json_object_is_type(v, json_type_string))
        return bs_err_set(c->err, 400, QUERY_VERR, "%s: %s: $regex needs a string", c->param, f->path);
    size_t len = (size_t)json_object_get_string_len(v);
    if (len > QUERY_REGEX_MAX)
        return bs_err_set(c->err, 400, QUERY_VERR, "%s: %s: $regex longer than %d bytes", c->param, f->path,
                          QUERY_REGEX_MAX);
    char what[QUERY_FIELD_MAX + 32];
    snprintf(what, sizeof what, "%s: %s: $regex", c->param, f->path);
    regex *re = regex_compile(json_object_get_string(v), len, icase, what, c->err);
    if (!re) return -1;
    regex_free(re);
    return 0;
}

/* Checks one operator's operand and appends its condition. */
static int add_op(fctx *c, const query_field *f, query_op op, const char *opname, struct json_object *v, int icase)
{
    struct json_object *value = NULL;
    switch (op) {
    case QUERY_EXISTS:
        if (!json_object_is_type(v, json_type_boolean))
            return bs_err_set(c->err, 400, QUERY_VERR, "%s: %s: $exists needs true or false", c->param, f->path);
        return append_cond(c, f, op, json_object_get(v), 0);
    case QUERY_REGEX:
        if (check_regex(c, f, v, icase) != 0) return -1;
        return append_cond(c, f, op, json_object_get(v), icase);
    case QUERY_IN:
    case QUERY_NIN:
        if (coerce_list(c, f, opname, v, &value) != 0) return -1;
        return append_cond(c, f, op, value, 0);
    case QUERY_GT:
    case QUERY_GTE:
    case QUERY_LT:
    case QUERY_LTE:
        if (!json_object_is_type(v, json_type_string) && !json_object_is_type(v, json_type_int) &&
            !json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_boolean))
            return bs_err_set(c->err, 400, QUERY_VERR, "%s: %s: %s needs a number, string or boolean", c->param,
                              f->path, opname);
        break;
    case QUERY_EQ:
    case QUERY_NE:
        if (check_literal(c, f, v) != 0) return -1;
        break;
    }
    if (coerce_scalar(c, f, v, &value) != 0) return -1;
    return append_cond(c, f, op, value, 0);
}

/* $options: allowed only next to $regex, and only "i" or "". Returns 1 for "i", 0 otherwise, -1 refused. */
static int regex_options(fctx *c, const query_field *f, struct json_object *ops)
{
    struct json_object *opt = NULL;
    if (!json_object_object_get_ex(ops, "$options", &opt)) return 0;
    if (!json_object_object_get_ex(ops, "$regex", NULL))
        return bs_err_set(c->err, 400, QUERY_VERR, "%s: %s: $options is only allowed with $regex", c->param, f->path);
    const char *t = json_object_is_type(opt, json_type_string) ? json_object_get_string(opt) : NULL;
    if (!t || (strcmp(t, "i") != 0 && t[0] != '\0'))
        return bs_err_set(c->err, 400, QUERY_VERR, "%s: %s: $options must be \"i\" or \"\"", c->param, f->path);
    return t[0] == 'i';
}

static int add_operators(fctx *c, const query_field *f, struct json_object *ops)
{
    int icase = regex_options(c, f, ops);
    if (icase < 0) return -1;
    json_object_object_foreach(ops, key, v) {
        if (strcmp(key, "$options") == 0) continue;
        size_t i = 0, nops = sizeof op_names / sizeof op_names[0];
        while (i < nops && strcmp(op_names[i].name, key) != 0) i++;
        if (i == nops)
            return bs_err_set(c->err, 400, QUERY_VERR,
                              "%s: %s: unsupported operator (allowed: $eq $ne $gt $gte $lt $lte $in $nin $regex "
                              "$exists)", c->param, f->path);
        if (add_op(c, f, op_names[i].op, key, v, icase) != 0) return -1;
    }
    return 0;
}

/* One `field: value` member of a filter object: one equality, or one condition per operator. */
static int add_field(fctx *c, const char *key, struct json_object *v)
{
    query_field f;
    if (field_resolve(key, c->s, &f, c->param, c->err) != 0) return -1;
    if (value_depth(v, QUERY_MAX_DEPTH) > QUERY_MAX_DEPTH)
        return bs_err_set(c->err, 400, QUERY_VERR, "%s: %s: value nested deeper than %d levels", c->param, f.path,
                          QUERY_MAX_DEPTH);
    if (!json_object_is_type(v, json_type_object)) return add_op(c, &f, QUERY_EQ, "$eq", v, 0);
    size_t nops = 0, nkeys = 0;
    json_object_object_foreach(v, k, child) {
        (void)child;
        nkeys++;
        if (k[0] == '$') nops++;
    }
    if (nops == 0) return add_op(c, &f, QUERY_EQ, "$eq", v, 0); /* equality on an object value */
    if (nops != nkeys)
        return bs_err_set(c->err, 400, QUERY_VERR, "%s: %s: operators cannot be mixed with field names", c->param,
                          f.path);
    return add_operators(c, &f, v);
}

/* ---- andFilters, orFilters ---- */

static struct json_object *parse_filter_json(const char *param, const char *text, bs_err *err)
{
    size_t len = strnlen(text, QUERY_FILTER_TEXT_MAX + 1);
    if (len > QUERY_FILTER_TEXT_MAX) {
        bs_err_set(err, 400, QUERY_VERR, "%s: longer than %d bytes", param, QUERY_FILTER_TEXT_MAX);
        return NULL;
    }
    /* The parser bounds the document; the per-field depth rule (value_depth) gives the precise refusal. */
    json_limits lim = {QUERY_MAX_DEPTH + 2, QUERY_FILTER_TEXT_MAX};
    bs_err perr;
    bs_err_clear(&perr);
    int is_null = 0;
    struct json_object *doc = json_parse_strict(text, len, &lim, &is_null, &perr);
    if (doc) return doc;
    if (is_null) bs_err_set(err, 400, QUERY_VERR, "%s: must be a JSON object", param);
    else if (perr.status >= 500) *err = perr;
    else bs_err_set(err, 400, QUERY_VERR, "%s: %s", param, perr.message);
    return NULL;
}

static int add_object(fctx *c, struct json_object *obj)
{
    json_object_object_foreach(obj, key, v) {
        if (add_field(c, key, v) != 0) return -1;
    }
    return 0;
}

static int push_or_group(fctx *c, size_t first)
{
    query_plan *plan = c->plan;
    if (plan->nor >= QUERY_MAX_OR_GROUPS)
        return bs_err_set(c->err, 400, QUERY_VERR, "orFilters: more than %d alternatives", QUERY_MAX_OR_GROUPS);
    plan->or_groups[plan->nor].first = first;
    plan->or_groups[plan->nor].count = plan->nconds - first;
    plan->nor++;
    return 0;
}

static int add_or_array(fctx *c, struct json_object *arr)
{
    size_t n = json_object_array_length(arr);
    if (n == 0) return bs_err_set(c->err, 400, QUERY_VERR, "orFilters: empty array");
    if (n > QUERY_MAX_OR_GROUPS)
        return bs_err_set(c->err, 400, QUERY_VERR, "orFilters: more than %d alternatives", QUERY_MAX_OR_GROUPS);
    for (size_t i = 0; i < n; i++) {
        struct json_object *el = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(el, json_type_object))
            return bs_err_set(c->err, 400, QUERY_VERR, "orFilters[%zu]: must be a JSON object", i);
        if (json_object_object_length(el) == 0)
            return bs_err_set(c->err, 400, QUERY_VERR, "orFilters[%zu]: empty condition object", i);
        size_t first = c->plan->nconds;
        if (add_object(c, el) != 0 || push_or_group(c, first) != 0) return -1;
    }
    return 0;
}

static int add_or_object(fctx *c, struct json_object *obj)
{
    json_object_object_foreach(obj, key, v) {
        size_t first = c->plan->nconds;
        if (add_field(c, key, v) != 0 || push_or_group(c, first) != 0) return -1;
    }
    return 0;
}

static int parse_filters(query_plan *plan, const query_params *p, const schema *s, bs_err *err)
{
    fctx c = {plan, s, "andFilters", err};
    if (p->and_filters && p->and_filters[0]) {
        struct json_object *doc = parse_filter_json("andFilters", p->and_filters, err);
        if (!doc) return -1;
        int rc = json_object_is_type(doc, json_type_object)
                     ? add_object(&c, doc)
                     : bs_err_set(err, 400, QUERY_VERR, "andFilters: must be a JSON object");
        json_object_put(doc);
        if (rc != 0) return -1;
        plan->and_group.first = 0;
        plan->and_group.count = plan->nconds;
    }
    if (!p->or_filters || !p->or_filters[0]) return 0;
    c.param = "orFilters";
    struct json_object *doc = parse_filter_json("orFilters", p->or_filters, err);
    if (!doc) return -1;
    int rc;
    if (json_object_is_type(doc, json_type_object)) rc = add_or_object(&c, doc);
    else if (json_object_is_type(doc, json_type_array)) rc = add_or_array(&c, doc);
    else rc = bs_err_set(err, 400, QUERY_VERR, "orFilters: must be a JSON object or an array of objects");
    json_object_put(doc);
    return rc;
}

/* ---- entry points ---- */

int query_plan_parse(query_plan *plan, const query_params *params, const schema *s, bs_err *err)
{
    static const query_params none;
    const query_params *p = params ? params : &none;
    memset(plan, 0, sizeof *plan);
    plan->page = parse_count(p->page, 1, QUERY_MAX_PAGE);
    plan->limit = parse_count(p->limit, QUERY_DEFAULT_LIMIT, QUERY_MAX_LIMIT);
    if (parse_sort(plan, p, s, err) != 0 || parse_select(plan, p->select, s, err) != 0 ||
        parse_search(plan, p, s, err) != 0 || parse_filters(plan, p, s, err) != 0) {
        query_plan_release(plan);
        return -1;
    }
    return 0;
}

void query_plan_release(query_plan *plan)
{
    if (!plan) return;
    for (size_t i = 0; i < plan->nconds && i < QUERY_MAX_TERMS; i++) {
        json_object_put(plan->conds[i].value);
        plan->conds[i].value = NULL;
    }
    plan->nconds = 0;
    plan->and_group.count = 0;
    plan->nor = 0;
    plan->nrow = 0;
}

/* A copy of v with every string "$userId" replaced by user_id (a new reference). */
static struct json_object *with_user_id(struct json_object *v, const char *user_id)
{
    switch (json_object_get_type(v)) {
    case json_type_string:
        if (strcmp(json_object_get_string(v), "$userId") == 0) return json_object_new_string(user_id);
        return json_object_get(v);
    case json_type_object: {
        struct json_object *out = json_object_new_object();
        json_object_object_foreach(v, k, child) json_object_object_add(out, k, with_user_id(child, user_id));
        return out;
    }
    case json_type_array: {
        struct json_object *out = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(v); i++)
            json_object_array_add(out, with_user_id(json_object_array_get_idx(v, i), user_id));
        return out;
    }
    default: return json_object_get(v);
    }
}

int query_plan_add_row_filter(query_plan *plan, struct json_object *filter, const schema *s, const char *user_id,
                              bs_err *err)
{
    if (!json_object_is_type(filter, json_type_object))
        return bs_err_set(err, 400, QUERY_VERR, "rowFilters: a filter must be a JSON object");
    if (plan->nrow >= QUERY_MAX_ROW_FILTERS)
        return bs_err_set(err, 400, QUERY_VERR, "rowFilters: more than %d filters", QUERY_MAX_ROW_FILTERS);
    fctx c = {plan, s, "rowFilters", err};
    size_t first = plan->nconds;
    struct json_object *bound = with_user_id(filter, user_id ? user_id : "");
    int rc = add_object(&c, bound);
    json_object_put(bound);
    if (rc != 0) return -1;
    plan->row_groups[plan->nrow].first = first;
    plan->row_groups[plan->nrow].count = plan->nconds - first;
    plan->nrow++;
    return 0;
}

int query_plan_search_skip(query_plan *plan, const char *column, bs_err *err)
{
    if (plan->nsearch_skip >= QUERY_MAX_SEARCH_SKIP) return bs_err_internal(err);
    plan->search_skip[plan->nsearch_skip++] = column;
    return 0;
}
