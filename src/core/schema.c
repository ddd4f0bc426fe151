/* schema: compile a table's record schema once, then validate and coerce record bodies against it.
 * See schema.h for the contract; the choices it leaves open are noted where they are made. */
#include "core/schema.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"
#include "util/regex.h"

#define SCHEMA_CODE "data/validation-error"
#define SCHEMA_PATH_MAX 512          /* bytes of a field path in a message (longer paths are cut) */
#define SCHEMA_RECORD_DEPTH_MAX 128  /* nesting of a record body walked by the field-name rules */
#define SCHEMA_NUMTEXT_MAX 64        /* bytes of a numeric string considered for coercion */

typedef struct snode snode;
struct snode {
    char *name;                 /* property name; NULL for the root and for `items` */
    char *path;                 /* declared path: "meta.author", "tags[]" for items */
    schema_type type;
    int nullable;
    int has_min_len, has_max_len, has_min, has_max, has_min_items, has_max_items;
    size_t min_len, max_len, min_items, max_items;
    double minimum, maximum;
    regex *pattern;
    struct json_object *enum_vals;   /* own deep copy, never mutated after compile */
    struct json_object *def;         /* own deep copy, already coerced and validated */
    snode *props;
    size_t nprops;
    char **required;
    size_t nrequired;
    snode *items;
};

struct schema {
    snode root;
    size_t nfields;
};

/* ---- messages and paths ---- */

typedef struct vctx {
    bs_err *err;
    size_t len;
    char path[SCHEMA_PATH_MAX];
} vctx;

__attribute__((format(printf, 3, 0))) static int vfail(bs_err *err, const char *path, const char *fmt, va_list ap)
{
    char reason[BS_ERR_MESSAGE_MAX];
    vsnprintf(reason, sizeof reason, fmt, ap);
    bs_err_set(err, 400, SCHEMA_CODE, "%s: %s", path && *path ? path : "body", reason);
    bs_err_field(err, path && *path ? path : "body", reason);
    return -1;
}

static int fail(vctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(vctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(c->err, c->path, fmt, ap);
    va_end(ap);
    return -1;
}

static int cfail(bs_err *err, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int cfail(bs_err *err, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(err, path && *path ? path : "schema", fmt, ap);
    va_end(ap);
    return -1;
}

static size_t path_push(vctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t path_push(vctx *c, const char *fmt, ...)
{
    size_t old = c->len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->path + c->len, sizeof c->path - c->len, fmt, ap);
    va_end(ap);
    if (n > 0) c->len += (size_t)n;
    if (c->len >= sizeof c->path) c->len = sizeof c->path - 1;
    return old;
}

static size_t path_key(vctx *c, const char *name)
{
    return path_push(c, c->len ? ".%s" : "%s", name);
}

static void path_pop(vctx *c, size_t old)
{
    c->len = old;
    c->path[old] = '\0';
}

/* A printable form of a client-sent name: at most the name limit, unusual bytes as '?'. */
static void name_display(const char *name, char out[SCHEMA_FIELD_NAME_MAX + 4])
{
    size_t i = 0;
    for (; name[i] && i < SCHEMA_FIELD_NAME_MAX; i++) {
        unsigned char ch = (unsigned char)name[i];
        out[i] = ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\' ? '?' : (char)ch;
    }
    if (name[i]) { memcpy(out + i, "...", 3); i += 3; }
    out[i] = '\0';
}

/* ---- field names ---- */

/* NULL when the name is acceptable, else the reason. */
static const char *name_problem(const char *name)
{
    size_t n = strlen(name);
    if (n == 0) return "empty field name";
    if (n > SCHEMA_FIELD_NAME_MAX) return "field name longer than 64 bytes";
    char ch = name[0];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')))
        return "invalid field name (must start with a letter)";
    for (size_t i = 1; i < n; i++) {
        ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_'))
            return "invalid field name (use only letters, digits and _)";
    }
    if (!strcmp(name, "__proto__") || !strcmp(name, "constructor") || !strcmp(name, "prototype"))
        return "reserved field name";
    return NULL;
}

static int check_names(struct json_object *v, vctx *c, int depth);

static int check_object_names(struct json_object *obj, vctx *c, int depth)
{
    json_object_object_foreach(obj, key, val) {
        const char *problem = name_problem(key);
        if (problem) {
            char shown[SCHEMA_FIELD_NAME_MAX + 4];
            name_display(key, shown);
            if (*key) path_key(c, shown);
            return fail(c, "%s", problem);
        }
        size_t old = path_key(c, key);
        if (check_names(val, c, depth + 1)) return -1;
        path_pop(c, old);
    }
    return 0;
}

static int check_names(struct json_object *v, vctx *c, int depth)
{
    if (depth > SCHEMA_RECORD_DEPTH_MAX) return fail(c, "nested too deeply");
    if (json_object_is_type(v, json_type_object)) return check_object_names(v, c, depth);
    if (!json_object_is_type(v, json_type_array)) return 0;
    size_t n = json_object_array_length(v);
    for (size_t i = 0; i < n; i++) {
        size_t old = path_push(c, "[%zu]", i);
        if (check_names(json_object_array_get_idx(v, i), c, depth + 1)) return -1;
        path_pop(c, old);
    }
    return 0;
}

/* ---- dates ---- */

static int read_digits(const char *p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

static int month_days(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Parses "THH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)"; *secs is seconds of the day, *off minutes east. */
static int parse_time(const char *p, int *secs, int *ms, int *off)
{
    int h, mi, s, oh, om;
    if (p[0] != 'T' || read_digits(p + 1, 2, &h) || p[3] != ':' || read_digits(p + 4, 2, &mi) || p[6] != ':' ||
        read_digits(p + 7, 2, &s))
        return -1;
    if (h > 23 || mi > 59 || s > 59) return -1;
    p += 9;
    *ms = 0;
    if (*p == '.') {
        int nd = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, nd++)
            if (nd < 3) *ms = *ms * 10 + (*p - '0');
        if (nd == 0 || nd > 9) return -1;
        for (; nd < 3; nd++) *ms *= 10;
    }
    *secs = h * 3600 + mi * 60 + s;
    if (!strcmp(p, "Z")) { *off = 0; return 0; }
    if ((p[0] != '+' && p[0] != '-') || read_digits(p + 1, 2, &oh) || p[3] != ':' || read_digits(p + 4, 2, &om) ||
        p[6] != '\0' || oh > 23 || om > 59)
        return -1;
    *off = (p[0] == '-' ? -1 : 1) * (oh * 60 + om);
    return 0;
}

int schema_normalize_date(const char *text, char out[25])
{
    int y, mo, d, secs = 0, ms = 0, off = 0;
    if (!text || strnlen(text, 8) < 8) return -1;
    if (read_digits(text, 4, &y) || text[4] != '-' || read_digits(text + 5, 2, &mo) || text[7] != '-' ||
        read_digits(text + 8, 2, &d))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo)) return -1;
    if (text[10] != '\0' && parse_time(text + 10, &secs, &ms, &off)) return -1;
    int64_t t = days_from_civil(y, mo, d) * 86400 + secs - (int64_t)off * 60;
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t rem = t - days * 86400, yy;
    civil_from_days(days, &yy, &mo, &d);
    if (yy < 0 || yy > 9999) return -1;
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)yy, mo % 100, d % 100,
             (int)(rem / 3600), (int)(rem % 3600 / 60), (int)(rem % 60), ms % 1000);
    memcpy(out, tmp, 24);
    out[24] = '\0';
    return 0;
}

/* ---- coercion ---- */

/* 1 when text is an optionally negative run of digits (integral == 1 also forbids fraction/exponent). */
static int numeric_text(const char *t, size_t n, int integral)
{
    size_t i = 0, start;
    if (n == 0 || n > SCHEMA_NUMTEXT_MAX) return 0;
    if (t[i] == '-') i++;
    for (start = i; i < n && t[i] >= '0' && t[i] <= '9'; i++) {}
    if (i == start) return 0;
    if (integral) return i == n;
    if (i < n && t[i] == '.') {
        for (start = ++i; i < n && t[i] >= '0' && t[i] <= '9'; i++) {}
        if (i == start) return 0;
    }
    if (i < n && (t[i] == 'e' || t[i] == 'E')) {
        if (++i < n && (t[i] == '+' || t[i] == '-')) i++;
        for (start = i; i < n && t[i] >= '0' && t[i] <= '9'; i++) {}
        if (i == start) return 0;
    }
    return i == n;
}

static struct json_object *coerce_number_text(const char *t, size_t n, int integral)
{
    if (!numeric_text(t, n, 0)) return NULL;
    if (numeric_text(t, n, 1)) {
        errno = 0;
        long long v = strtoll(t, NULL, 10);
        if (errno == 0) return json_object_new_int64(v);
        if (integral) return NULL;
    } else if (integral) {
        return NULL;
    }
    errno = 0;
    double d = strtod(t, NULL);
    if (!isfinite(d)) return NULL;
    return json_new_double_text(d, t);
}

static int double_fits_int64(double d)
{
    return d == floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0;
}

/* A new value replacing v, or NULL when v stays as it is. */
static struct json_object *coerce_value(const snode *n, struct json_object *v)
{
    if (!v) return NULL;
    int is_str = json_object_is_type(v, json_type_string);
    const char *t = is_str ? json_object_get_string(v) : NULL;
    size_t len = is_str ? (size_t)json_object_get_string_len(v) : 0;
    switch (n->type) {
    case SCHEMA_T_INT:
        if (json_object_is_type(v, json_type_double) && double_fits_int64(json_object_get_double(v)))
            return json_object_new_int64((int64_t)json_object_get_double(v));
        return is_str && strlen(t) == len ? coerce_number_text(t, len, 1) : NULL;
    case SCHEMA_T_NUMBER:
        return is_str && strlen(t) == len ? coerce_number_text(t, len, 0) : NULL;
    case SCHEMA_T_BOOL:
        if (is_str && !strcmp(t, "true") && len == 4) return json_object_new_boolean(1);
        if (is_str && !strcmp(t, "false") && len == 5) return json_object_new_boolean(0);
        return NULL;
    case SCHEMA_T_DATE: {
        char out[25];
        if (!is_str || strlen(t) != len || schema_normalize_date(t, out)) return NULL;
        return strcmp(out, t) ? json_object_new_string(out) : NULL;
    }
    default:
        return NULL;
    }
}

/* ---- type and constraint checks ---- */

static int is_int64(struct json_object *v)
{
    if (!json_object_is_type(v, json_type_int)) return 0;
    return json_object_get_int64(v) != INT64_MAX || json_object_get_uint64(v) == (uint64_t)INT64_MAX;
}

static int type_ok(const snode *n, struct json_object *v)
{
    switch (n->type) {
    case SCHEMA_T_NONE: return 1;
    case SCHEMA_T_STRING:
    case SCHEMA_T_REFERENCE: return json_object_is_type(v, json_type_string);
    case SCHEMA_T_NUMBER: return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
    case SCHEMA_T_INT: return is_int64(v);
    case SCHEMA_T_BOOL: return json_object_is_type(v, json_type_boolean);
    case SCHEMA_T_DATE: {
        char out[25];
        return json_object_is_type(v, json_type_string) && !schema_normalize_date(json_object_get_string(v), out);
    }
    case SCHEMA_T_OBJECT: return json_object_is_type(v, json_type_object);
    case SCHEMA_T_ARRAY: return json_object_is_type(v, json_type_array);
    }
    return 0;
}

static const char *type_reason(schema_type t)
{
    switch (t) {
    case SCHEMA_T_STRING: return "must be a string";
    case SCHEMA_T_NUMBER: return "must be a number";
    case SCHEMA_T_INT: return "must be an integer";
    case SCHEMA_T_BOOL: return "must be a boolean";
    case SCHEMA_T_DATE: return "must be a date (ISO 8601)";
    case SCHEMA_T_OBJECT: return "must be an object";
    case SCHEMA_T_ARRAY: return "must be an array";
    case SCHEMA_T_REFERENCE: return "must be a reference (a record id string)";
    default: return "has an invalid value";
    }
}

static int is_number(struct json_object *v)
{
    return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
}

static int values_equal(struct json_object *a, struct json_object *b)
{
    if (is_number(a) && is_number(b)) {
        if (json_object_is_type(a, json_type_int) && json_object_is_type(b, json_type_int))
            return json_object_get_int64(a) == json_object_get_int64(b) &&
                   json_object_get_uint64(a) == json_object_get_uint64(b);
        return json_object_get_double(a) == json_object_get_double(b);
    }
    return json_object_equal(a, b);
}

static int in_enum(const snode *n, struct json_object *v)
{
    size_t count = json_object_array_length(n->enum_vals);
    for (size_t i = 0; i < count; i++)
        if (values_equal(json_object_array_get_idx(n->enum_vals, i), v)) return 1;
    return 0;
}

static size_t utf8_chars(const char *s, size_t len)
{
    size_t count = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) count++;
    return count;
}

/* Shortest text of d that reads back the same. */
static void number_text(double d, char out[40])
{
    snprintf(out, 40, "%.15g", d);
    if (strtod(out, NULL) != d) snprintf(out, 40, "%.17g", d);
}

static int check_string(const snode *n, struct json_object *v, vctx *c)
{
    const char *s = json_object_get_string(v);
    size_t len = (size_t)json_object_get_string_len(v);
    size_t chars = utf8_chars(s, len);
    if (n->has_min_len && chars < n->min_len) return fail(c, "shorter than %zu characters", n->min_len);
    if (n->has_max_len && chars > n->max_len) return fail(c, "longer than %zu characters", n->max_len);
    if (n->pattern) {
        int rc = regex_match(n->pattern, s, len);
        if (rc == 0) return fail(c, "does not match the required pattern");
        if (rc < 0) return fail(c, "could not be matched against the required pattern");
    }
    return 0;
}

static int check_range(const snode *n, struct json_object *v, vctx *c)
{
    double d = json_object_get_double(v);
    char text[40];
    if (n->has_min && d < n->minimum) {
        number_text(n->minimum, text);
        return fail(c, "less than %s", text);
    }
    if (n->has_max && d > n->maximum) {
        number_text(n->maximum, text);
        return fail(c, "greater than %s", text);
    }
    return 0;
}

static int validate_object(const snode *n, struct json_object *obj, int whole, vctx *c);
static int validate_value(const snode *n, struct json_object *v, vctx *c);

static int validate_array(const snode *n, struct json_object *arr, vctx *c)
{
    size_t count = json_object_array_length(arr);
    if (n->has_min_items && count < n->min_items) return fail(c, "fewer than %zu items", n->min_items);
    if (n->has_max_items && count > n->max_items) return fail(c, "more than %zu items", n->max_items);
    if (!n->items) return 0;
    for (size_t i = 0; i < count; i++) {
        struct json_object *el = json_object_array_get_idx(arr, i);
        struct json_object *nv = coerce_value(n->items, el);
        if (nv) {
            if (json_object_array_put_idx(arr, i, nv)) {
                json_object_put(nv);
                return bs_err_internal(c->err);
            }
            el = nv;
        }
        size_t old = path_push(c, "[%zu]", i);
        if (validate_value(n->items, el, c)) return -1;
        path_pop(c, old);
    }
    return 0;
}

/* Type, then enum, then the type's own constraints; a null value passes only for a nullable or untyped
 * node (properties handle null before they get here). */
static int validate_value(const snode *n, struct json_object *v, vctx *c)
{
    if (!v) return n->nullable || n->type == SCHEMA_T_NONE ? 0 : fail(c, "%s", type_reason(n->type));
    if (!type_ok(n, v)) return fail(c, "%s", type_reason(n->type));
    if (n->enum_vals && !in_enum(n, v)) return fail(c, "must be one of the allowed values");
    switch (n->type) {
    case SCHEMA_T_STRING: return check_string(n, v, c);
    case SCHEMA_T_NUMBER:
    case SCHEMA_T_INT: return check_range(n, v, c);
    case SCHEMA_T_ARRAY: return validate_array(n, v, c);
    case SCHEMA_T_OBJECT: return validate_object(n, v, 1, c);
    default: return 0;
    }
}

static const snode *find_prop(const snode *n, const char *name, size_t len)
{
    for (size_t i = 0; i < n->nprops; i++)
        if (strlen(n->props[i].name) == len && !memcmp(n->props[i].name, name, len)) return &n->props[i];
    return NULL;
}

static int coerce_and_default(const snode *n, struct json_object *obj, int whole)
{
    for (size_t i = 0; i < n->nprops; i++) {
        const snode *p = &n->props[i];
        struct json_object *v = NULL;
        if (json_object_object_get_ex(obj, p->name, &v)) {
            struct json_object *nv = coerce_value(p, v);
            if (nv && json_object_object_add(obj, p->name, nv)) return -1;
        } else if (whole && p->def) {
            struct json_object *copy = NULL;
            if (json_object_deep_copy(p->def, &copy, NULL) || json_object_object_add(obj, p->name, copy)) {
                json_object_put(copy);
                return -1;
            }
        }
    }
    return 0;
}

/* whole: the object is a complete value (a create, or a nested object, which replaces the stored one
 * as a whole); otherwise only the fields present are checked. */
static int validate_object(const snode *n, struct json_object *obj, int whole, vctx *c)
{
    if (coerce_and_default(n, obj, whole)) return bs_err_internal(c->err);
    for (size_t i = 0; i < n->nrequired; i++) {
        const char *name = n->required[i];
        struct json_object *v = NULL;
        int present = json_object_object_get_ex(obj, name, &v);
        const snode *p = find_prop(n, name, strlen(name));
        if ((!present && whole) || (present && !v && !(p && p->nullable))) {
            path_key(c, name);
            return fail(c, "is required");
        }
    }
    for (size_t i = 0; i < n->nprops; i++) {
        const snode *p = &n->props[i];
        struct json_object *v = NULL;
        if (!json_object_object_get_ex(obj, p->name, &v) || !v) continue;
        size_t old = path_key(c, p->name);
        if (validate_value(p, v, c)) return -1;
        path_pop(c, old);
    }
    return 0;
}

int schema_apply(const schema *s, struct json_object *record, schema_mode mode, bs_err *err)
{
    static const char *const system_fields[] = {"id", "_id", "createdBy", "createdAt", "updatedAt"};
    if (!s) return bs_err_internal(err);
    if (!json_object_is_type(record, json_type_object))
        return bs_err_set(err, 400, SCHEMA_CODE, "body: must be an object");
    for (size_t i = 0; i < sizeof system_fields / sizeof system_fields[0]; i++)
        json_object_object_del(record, system_fields[i]);
    vctx c = {.err = err, .len = 0, .path = ""};
    if (check_names(record, &c, 0)) return -1;
    return validate_object(&s->root, record, mode == SCHEMA_CREATE, &c);
}

/* ---- compile ---- */

typedef struct cctx {
    size_t nfields;
    bs_err *err;
} cctx;

static int compile_node(snode *n, struct json_object *doc, int depth, cctx *cc);

static int type_from_name(const char *name, schema_type *t)
{
    static const struct { const char *name; schema_type type; } names[] = {
        {"string", SCHEMA_T_STRING}, {"int", SCHEMA_T_INT},       {"long", SCHEMA_T_INT},
        {"double", SCHEMA_T_NUMBER}, {"number", SCHEMA_T_NUMBER}, {"decimal", SCHEMA_T_NUMBER},
        {"bool", SCHEMA_T_BOOL},     {"date", SCHEMA_T_DATE},     {"object", SCHEMA_T_OBJECT},
        {"array", SCHEMA_T_ARRAY},   {"reference", SCHEMA_T_REFERENCE}, {"objectId", SCHEMA_T_REFERENCE},
        {"mixed", SCHEMA_T_NONE},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(names[i].name, name)) { *t = names[i].type; return 0; }
    return -1;
}

static int compile_type_array(snode *n, struct json_object *bt, cctx *cc)
{
    size_t count = json_object_array_length(bt);
    int have_type = 0;
    for (size_t i = 0; i < count; i++) {
        struct json_object *e = json_object_array_get_idx(bt, i);
        if (!json_object_is_type(e, json_type_string)) return cfail(cc->err, n->path, "bsonType must hold names");
        const char *name = json_object_get_string(e);
        if (!strcmp(name, "null")) { n->nullable = 1; continue; }
        if (have_type) return cfail(cc->err, n->path, "bsonType may name only one type besides \"null\"");
        if (type_from_name(name, &n->type))
            return cfail(cc->err, n->path, "unknown bsonType \"%.40s\"", name);
        have_type = 1;
    }
    if (!have_type) return cfail(cc->err, n->path, "bsonType needs a type besides \"null\"");
    return 0;
}

static int compile_type(snode *n, struct json_object *doc, cctx *cc)
{
    struct json_object *bt = NULL;
    if (!json_object_object_get_ex(doc, "bsonType", &bt)) {
        if (json_object_object_get_ex(doc, "properties", NULL)) n->type = SCHEMA_T_OBJECT;
        else if (json_object_object_get_ex(doc, "items", NULL)) n->type = SCHEMA_T_ARRAY;
        return 0;
    }
    if (json_object_is_type(bt, json_type_array)) return compile_type_array(n, bt, cc);
    if (!json_object_is_type(bt, json_type_string))
        return cfail(cc->err, n->path, "bsonType must be a string or an array of strings");
    if (type_from_name(json_object_get_string(bt), &n->type))
        return cfail(cc->err, n->path, "unknown bsonType \"%.40s\"", json_object_get_string(bt));
    return 0;
}

/* Reads an optional non-negative integer keyword; 0 absent or fine, -1 error. */
static int get_count(const snode *n, struct json_object *doc, const char *key, schema_type applies, int *has,
                     size_t *out, cctx *cc)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(doc, key, &v)) return 0;
    if (n->type != applies)
        return cfail(cc->err, n->path, "%s applies to %s fields only", key, applies == SCHEMA_T_ARRAY ? "array" : "string");
    double d = is_number(v) ? json_object_get_double(v) : -1;
    if (!is_number(v) || d < 0 || d != floor(d) || d > 9007199254740992.0)
        return cfail(cc->err, n->path, "%s must be a non-negative integer", key);
    *has = 1;
    *out = (size_t)d;
    return 0;
}

static int get_bound(const snode *n, struct json_object *doc, const char *key, int *has, double *out, cctx *cc)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(doc, key, &v)) return 0;
    if (n->type != SCHEMA_T_NUMBER && n->type != SCHEMA_T_INT)
        return cfail(cc->err, n->path, "%s applies to number fields only", key);
    if (!is_number(v)) return cfail(cc->err, n->path, "%s must be a number", key);
    *has = 1;
    *out = json_object_get_double(v);
    return 0;
}

static int compile_pattern(snode *n, struct json_object *doc, cctx *cc)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(doc, "pattern", &v)) return 0;
    if (n->type != SCHEMA_T_STRING) return cfail(cc->err, n->path, "pattern applies to string fields only");
    if (!json_object_is_type(v, json_type_string)) return cfail(cc->err, n->path, "pattern must be a string");
    size_t len = (size_t)json_object_get_string_len(v);
    if (len > SCHEMA_PATTERN_MAX) return cfail(cc->err, n->path, "pattern longer than %d bytes", SCHEMA_PATTERN_MAX);
    n->pattern = regex_compile(json_object_get_string(v), len, 0, *n->path ? n->path : "schema", cc->err);
    return n->pattern ? 0 : -1;
}

static int compile_limits(snode *n, struct json_object *doc, cctx *cc)
{
    if (get_count(n, doc, "minLength", SCHEMA_T_STRING, &n->has_min_len, &n->min_len, cc) ||
        get_count(n, doc, "maxLength", SCHEMA_T_STRING, &n->has_max_len, &n->max_len, cc) ||
        get_count(n, doc, "minItems", SCHEMA_T_ARRAY, &n->has_min_items, &n->min_items, cc) ||
        get_count(n, doc, "maxItems", SCHEMA_T_ARRAY, &n->has_max_items, &n->max_items, cc) ||
        get_bound(n, doc, "minimum", &n->has_min, &n->minimum, cc) ||
        get_bound(n, doc, "maximum", &n->has_max, &n->maximum, cc))
        return -1;
    if (n->has_min_len && n->has_max_len && n->min_len > n->max_len)
        return cfail(cc->err, n->path, "minLength greater than maxLength");
    if (n->has_min_items && n->has_max_items && n->min_items > n->max_items)
        return cfail(cc->err, n->path, "minItems greater than maxItems");
    if (n->has_min && n->has_max && n->minimum > n->maximum)
        return cfail(cc->err, n->path, "minimum greater than maximum");
    return compile_pattern(n, doc, cc);
}

static char *join_path(const char *parent, const char *name)
{
    size_t a = strlen(parent), b = strlen(name);
    char *out = malloc(a + b + 2);
    if (!out) return NULL;
    memcpy(out, parent, a);
    size_t o = a;
    if (a && name[0] != '[') out[o++] = '.';
    memcpy(out + o, name, b + 1);
    return out;
}

static int compile_properties(snode *n, struct json_object *props, int depth, cctx *cc)
{
    if (!json_object_is_type(props, json_type_object)) return cfail(cc->err, n->path, "properties must be an object");
    size_t count = (size_t)json_object_object_length(props);
    if (count == 0) return 0;
    if (cc->nfields + count > SCHEMA_MAX_FIELDS)
        return cfail(cc->err, n->path, "more than %d fields in the schema", SCHEMA_MAX_FIELDS);
    cc->nfields += count;
    n->props = calloc(count, sizeof *n->props);
    if (!n->props) return bs_err_internal(cc->err);
    json_object_object_foreach(props, key, sub) {
        const char *problem = name_problem(key);
        if (problem) {
            char shown[SCHEMA_FIELD_NAME_MAX + 4];
            name_display(key, shown);
            return cfail(cc->err, n->path, "%s \"%s\"", problem, shown);
        }
        snode *p = &n->props[n->nprops++];
        p->name = strdup(key);
        p->path = join_path(n->path, key);
        if (!p->name || !p->path) return bs_err_internal(cc->err);
        if (compile_node(p, sub, depth + 1, cc)) return -1;
    }
    return 0;
}

static int compile_required(snode *n, struct json_object *req, cctx *cc)
{
    if (!json_object_is_type(req, json_type_array)) return cfail(cc->err, n->path, "required must be an array");
    size_t count = json_object_array_length(req);
    if (count == 0) return 0;
    n->required = calloc(count, sizeof *n->required);
    if (!n->required) return bs_err_internal(cc->err);
    for (size_t i = 0; i < count; i++) {
        struct json_object *e = json_object_array_get_idx(req, i);
        if (!json_object_is_type(e, json_type_string) || name_problem(json_object_get_string(e)))
            return cfail(cc->err, n->path, "required must list valid field names");
        n->required[n->nrequired] = strdup(json_object_get_string(e));
        if (!n->required[n->nrequired++]) return bs_err_internal(cc->err);
    }
    return 0;
}

static int compile_children(snode *n, struct json_object *doc, int depth, cctx *cc)
{
    struct json_object *v = NULL;
    int is_obj = n->type == SCHEMA_T_OBJECT;
    if (json_object_object_get_ex(doc, "properties", &v)) {
        if (!is_obj) return cfail(cc->err, n->path, "properties applies to object fields only");
        if (compile_properties(n, v, depth, cc)) return -1;
    }
    if (json_object_object_get_ex(doc, "required", &v)) {
        if (!is_obj) return cfail(cc->err, n->path, "required applies to object fields only");
        if (compile_required(n, v, cc)) return -1;
    }
    if (json_object_object_get_ex(doc, "items", &v)) {
        if (n->type != SCHEMA_T_ARRAY) return cfail(cc->err, n->path, "items applies to array fields only");
        n->items = calloc(1, sizeof *n->items);
        if (!n->items || !(n->items->path = join_path(n->path, "[]"))) return bs_err_internal(cc->err);
        if (compile_node(n->items, v, depth + 1, cc)) return -1;
    }
    return 0;
}

/* enum, then default (which must itself pass the node, after coercion). */
static int compile_values(snode *n, struct json_object *doc, cctx *cc)
{
    struct json_object *v = NULL;
    if (json_object_object_get_ex(doc, "enum", &v)) {
        if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0)
            return cfail(cc->err, n->path, "enum must be a non-empty array");
        if (json_object_deep_copy(v, &n->enum_vals, NULL)) return bs_err_internal(cc->err);
    }
    if (!json_object_object_get_ex(doc, "default", &v) || !v) return 0;
    if (json_object_deep_copy(v, &n->def, NULL)) return bs_err_internal(cc->err);
    struct json_object *nv = coerce_value(n, n->def);
    if (nv) {
        json_object_put(n->def);
        n->def = nv;
    }
    vctx c = {.err = cc->err, .len = 0, .path = ""};
    path_push(&c, "%s.default", *n->path ? n->path : "schema");
    if (check_names(n->def, &c, 0)) return -1;
    return validate_value(n, n->def, &c);
}

static int compile_node(snode *n, struct json_object *doc, int depth, cctx *cc)
{
    if (depth > SCHEMA_MAX_DEPTH)
        return cfail(cc->err, n->path, "nested deeper than %d levels", SCHEMA_MAX_DEPTH);
    if (!json_object_is_type(doc, json_type_object)) return cfail(cc->err, n->path, "must be a schema object");
    if (compile_type(n, doc, cc) || compile_limits(n, doc, cc) || compile_children(n, doc, depth, cc))
        return -1;
    return compile_values(n, doc, cc);
}

static void node_free(snode *n)
{
    if (!n) return;
    for (size_t i = 0; i < n->nprops; i++) node_free(&n->props[i]);
    free(n->props);
    for (size_t i = 0; i < n->nrequired; i++) free(n->required[i]);
    free(n->required);
    if (n->items) {
        node_free(n->items);
        free(n->items);
    }
    regex_free(n->pattern);
    json_object_put(n->enum_vals);
    json_object_put(n->def);
    free(n->name);
    free(n->path);
}

static int compile_root(schema *s, struct json_object *doc, bs_err *err)
{
    cctx cc = {.nfields = 0, .err = err};
    if (!json_object_is_type(doc, json_type_object)) return cfail(err, "", "must be an object");
    if (json_object_object_get_ex(doc, "enum", NULL) || json_object_object_get_ex(doc, "default", NULL))
        return cfail(err, "", "enum and default do not apply to the record itself");
    s->root.type = SCHEMA_T_OBJECT;
    struct json_object *bt = NULL;
    if (json_object_object_get_ex(doc, "bsonType", &bt) &&
        (!json_object_is_type(bt, json_type_string) || strcmp(json_object_get_string(bt), "object")))
        return cfail(err, "", "bsonType of the record must be \"object\"");
    if (compile_limits(&s->root, doc, &cc) || compile_children(&s->root, doc, 0, &cc)) return -1;
    s->nfields = cc.nfields;
    return 0;
}

schema *schema_compile(struct json_object *doc, bs_err *err)
{
    schema *s = calloc(1, sizeof *s);
    if (!s) {
        bs_err_internal(err);
        return NULL;
    }
    s->root.path = strdup("");
    if (!s->root.path) {
        free(s);
        bs_err_internal(err);
        return NULL;
    }
    if (doc && compile_root(s, doc, err)) {
        schema_free(s);
        return NULL;
    }
    return s;
}

void schema_free(schema *s)
{
    if (!s) return;
    node_free(&s->root);
    free(s);
}

/* ---- lookups ---- */

static int all_digits(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] < '0' || p[i] > '9') return 0;
    return len > 0;
}

/* Walks "a.b.c"; an array node is looked through (to its items), with an optional numeric index segment. */
static const snode *find_node(const schema *s, const char *path)
{
    if (!s || !path || !*path) return NULL;
    const snode *cur = &s->root;
    const char *p = path;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (cur->type == SCHEMA_T_ARRAY && cur->items && all_digits(p, len)) {
            cur = cur->items;
        } else {
            if (cur->type == SCHEMA_T_ARRAY && cur->items) cur = cur->items;
            if (cur->type != SCHEMA_T_OBJECT || !(cur = find_prop(cur, p, len))) return NULL;
        }
        if (!dot) return cur;
        p = dot + 1;
    }
}

schema_type schema_field_type(const schema *s, const char *path)
{
    const snode *n = find_node(s, path);
    return n ? n->type : SCHEMA_T_NONE;
}

int schema_field_declared(const schema *s, const char *path)
{
    return find_node(s, path) != NULL;
}

int schema_is_empty(const schema *s)
{
    return !s || (s->root.nprops == 0 && s->root.nrequired == 0);
}

static void each_string(const snode *n, void (*fn)(const char *path, void *ctx), void *ctx)
{
    for (size_t i = 0; i < n->nprops; i++) {
        const snode *p = &n->props[i];
        if (p->type == SCHEMA_T_STRING) fn(p->path, ctx);
        else if (p->type == SCHEMA_T_OBJECT) each_string(p, fn, ctx);
    }
}

void schema_each_string_field(const schema *s, void (*fn)(const char *path, void *ctx), void *ctx)
{
    if (s && fn) each_string(&s->root, fn, ctx);
}
