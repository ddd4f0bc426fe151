/* docs_pg_sql: list requests as PostgreSQL SQL (see docs_pg_sql.h).
 *
 * Keys. A document field is compared and sorted through its key K(R), R = doc->'a'->'b' (a jsonb
 * expression, immutable, so an expression index on it serves filters and sorts). K orders values the way
 * SQLite orders json_extract results (docs_sql.c), which the lists must match:
 *   SQL NULL        for a missing field or JSON null   (they tie, then id decides, as on SQLite)
 *   the number      for a number; 0 or 1 for a boolean (SQLite reads booleans as the integers 0/1)
 *   [value]         for a string (and, approximately, an object or array: SQLite compares their JSON
 *                   text with strings; here they sort after every string)
 * jsonb orders raw scalars before non-scalar arrays, so every number sorts before every string as on
 * SQLite, and ["b"] compares as "b" (byte order in a C or C.UTF-8 database, as SQLite's BINARY). The
 * value '[null]' lies between the two classes: it is the type guard of the ordering operators (a number
 * filter never matches a string, a string filter never a number). Filter values are bound in key form.
 *
 * System fields are TEXT COLLATE "C" columns; a filter value of another type compares as SQLite compares
 * it with a TEXT column: a number as its text (the column's affinity), null, objects and arrays never. */
#include "store/postgres/docs_pg_sql.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/docs_pg_call.h"
#include "store/postgres/docs_pg_counts.h"
#include "util/check.h"

#define DOCS_PG_MAX_PARAMS 2100          /* as SQLite's DOCS_SQL_MAX_BINDS: the same requests fit */
#define DOCS_PG_SQL_MAX (256 * 1024)
#define DOCS_PG_REGEX_TIMEOUT "SET LOCAL statement_timeout = 5000" /* ms, for lists with $regex */
#define DOCS_PG_BUILD_PAIRS 50           /* jsonb_build_object takes at most 100 arguments */
#define KEY_BOUND "'[null]'::jsonb"      /* above every number key, below every string key */
#define NO_PARAM ((size_t)-1)

/* Bound values: their texts in one arena, resolved to pointers once the SQL is complete. */
typedef struct pg_binds {
    strbuf arena;
    size_t at[DOCS_PG_MAX_PARAMS];       /* offset in arena, NO_PARAM for SQL NULL */
    const char *values[DOCS_PG_MAX_PARAMS];
    int n;
    int overflow;
    int literal;                         /* values spelled as SQL literals in the text, not bound */
} pg_binds;

typedef struct pg_list_sql {
    strbuf count, page;
    pg_binds count_binds, page_binds;
    int has_regex;
    strbuf shape;                        /* the count's WHERE with literal values: a kept total's shape */
    int keepable;                        /* its total may be kept by the writes (docs_pg_counts.h) */
} pg_list_sql;

/* ---- parameters ---- */

/* Appends text[0..len) as an SQL string literal (standard_conforming_strings: only ' is doubled), or NULL,
 * with its cast. Text with a NUL byte cannot be one (b overflows: nothing is kept). */
static void literal(strbuf *sql, pg_binds *b, const char *text, size_t len, const char *cast)
{
    if (!text) {
        strbuf_appendf(sql, "NULL%s", cast);
        return;
    }
    if (memchr(text, '\0', len)) {
        b->overflow = 1;
        return;
    }
    strbuf_append_char(sql, '\'');
    for (size_t at = 0; at < len;) {
        const char *q = memchr(text + at, '\'', len - at);
        size_t run = q ? (size_t)(q - (text + at)) + 1 : len - at;
        strbuf_append(sql, text + at, run);
        if (q) strbuf_append_char(sql, '\''); /* '' */
        at += run;
    }
    strbuf_append_char(sql, '\'');
    strbuf_append_str(sql, cast);
}

/* Appends "$k<cast>" for a new parameter holding text[0..len) (NULL: SQL NULL); a literal when b says. */
static void param(strbuf *sql, pg_binds *b, const char *text, size_t len, const char *cast)
{
    if (b->literal) {
        literal(sql, b, text, len, cast);
        return;
    }
    if (b->n >= DOCS_PG_MAX_PARAMS) {
        b->overflow = 1;
        return;
    }
    b->at[b->n] = text ? b->arena.len : NO_PARAM;
    if (text && (strbuf_append(&b->arena, text, len) < 0 || strbuf_append_char(&b->arena, '\0') < 0)) b->overflow = 1;
    b->n++;
    strbuf_appendf(sql, "$%d%s", b->n, cast);
}

static void bind_str(strbuf *sql, pg_binds *b, const char *text) { param(sql, b, text, strlen(text), "::text"); }

static const char *json_text(struct json_object *v)
{
    return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* The shortest text that reads back as d: SQLite compares numbers as doubles, PostgreSQL jsonb numbers
 * exactly, so a value sent as 0.59999999999999998 (a cursor SQLite wrote) must compare as 0.6. */
static void double_text(double d, char *out, size_t size)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, size, "%.*g", prec, d);
        if (strtod(out, NULL) == d) return;
    }
}

/* A number as jsonb text (doubles as double_text). */
static const char *number_text(struct json_object *v, char *buf, size_t size)
{
    if (!json_object_is_type(v, json_type_double)) return json_text(v);
    double_text(json_object_get_double(v), buf, size);
    return buf;
}

/* v as jsonb, as it is (numbers as number_text). */
static void bind_json(strbuf *sql, pg_binds *b, struct json_object *v)
{
    char num[64];
    const char *t = number_text(v, num, sizeof num);
    param(sql, b, t, strlen(t), "::jsonb");
}

/* v as jsonb in key form (see the top): NULL for null, objects and arrays (as SQLite binds them). */
static void bind_key(strbuf *sql, pg_binds *b, struct json_object *v)
{
    enum json_type t = json_object_get_type(v);
    if (t == json_type_boolean) {
        param(sql, b, json_object_get_boolean(v) ? "1" : "0", 1, "::jsonb");
    } else if (t == json_type_int || t == json_type_double) {
        bind_json(sql, b, v);
    } else if (t == json_type_string) {
        strbuf key;
        strbuf_init(&key, 0);
        strbuf_append_char(&key, '[');
        strbuf_append_json_string(&key, json_object_get_string(v), (size_t)json_object_get_string_len(v));
        strbuf_append_char(&key, ']');
        if (key.overflow) b->overflow = 1;
        param(sql, b, key.data ? key.data : "[]", key.len, "::jsonb");
        strbuf_release(&key);
    } else {
        param(sql, b, NULL, 0, "::jsonb");
    }
}

/* Points values at the arena's texts (it no longer moves). */
static void binds_resolve(pg_binds *b)
{
    for (int i = 0; i < b->n; i++) b->values[i] = b->at[i] == NO_PARAM ? NULL : b->arena.data + b->at[i];
}

/* ---- $regex: a PCRE2 pattern (what core/query checked) as a PostgreSQL ARE ----
 * Where the two dialects read the same text differently, the ARE is made to mean what PCRE2 (UTF, no UCP)
 * means: "." does not match a newline (option p, merged into a leading option group such as "(?i)");
 * \b \B \z (outside brackets) are \y \Y \Z; the classes \d \w \s (and \D \W \S) and [:alpha:] ... hold
 * ASCII characters only, as explicit sets (the database's locale would add every letter and digit of
 * Unicode). Case-insensitive matching folds Unicode on both. Patterns PostgreSQL does not take
 * ((?<name>...), possessive quantifiers, \h, \K ...) are refused when the list runs (400, see run). */

static const struct {
    const char *name, *set;
} ascii_classes[] = {
    {"alpha", "A-Za-z"}, {"digit", "0-9"}, {"alnum", "0-9A-Za-z"}, {"upper", "A-Z"}, {"lower", "a-z"},
    {"space", "\\t\\n\\v\\f\\r "}, {"xdigit", "0-9A-Fa-f"}, {"word", "0-9A-Za-z_"}, {"blank", " \\t"},
    {"punct", "\\x21-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7e"}, {"cntrl", "\\x01-\\x1f\\x7f"},
    {"print", "\\x20-\\x7e"}, {"graph", "\\x21-\\x7e"},
};

/* The ASCII set of a POSIX class name[0..len), or of the escape letter \d \w \s (len 0); NULL if none. */
static const char *ascii_set(const char *name, size_t len)
{
    if (!len) name = *name == 'd' ? "digit" : *name == 'w' ? "word" : *name == 's' ? "space" : "";
    if (!len) len = strlen(name);
    for (size_t i = 0; i < sizeof ascii_classes / sizeof *ascii_classes; i++)
        if (strlen(ascii_classes[i].name) == len && !strncmp(ascii_classes[i].name, name, len)) return ascii_classes[i].set;
    return NULL;
}

/* The length of a leading option group "(?letters)", 0 when there is none. */
static size_t regex_options(const char *pat)
{
    if (pat[0] != '(' || pat[1] != '?') return 0;
    size_t k = 2;
    while (pat[k] >= 'a' && pat[k] <= 'z') k++;
    return k > 2 && pat[k] == ')' ? k + 1 : 0;
}

/* Translates a bracket expression starting at pat[i] == '['; the index after it. */
static size_t regex_bracket(strbuf *out, const char *pat, size_t i)
{
    size_t j = i + 1;
    strbuf_append_char(out, '[');
    if (pat[j] == '^') strbuf_append_char(out, pat[j++]);
    if (pat[j] == ']') strbuf_append_char(out, pat[j++]); /* a leading ] is literal */
    while (pat[j] && pat[j] != ']') {
        const char *set = NULL, *end = NULL;
        if (pat[j] == '\\' && pat[j + 1]) set = ascii_set(pat + j + 1, 0);
        else if (pat[j] == '[' && pat[j + 1] == ':' && (end = strstr(pat + j + 2, ":]")))
            set = ascii_set(pat + j + 2, (size_t)(end - pat - j - 2));
        size_t len = set && end ? (size_t)(end - pat - j) + 2 : (pat[j] == '\\' && pat[j + 1] ? 2 : 1);
        if (set) strbuf_append_str(out, set);
        else strbuf_append(out, pat + j, len);
        j += len;
    }
    if (pat[j]) strbuf_append_char(out, pat[j++]);
    return j;
}

/* One escape outside brackets (pat[i] == '\\'); the index after it. */
static size_t regex_escape(strbuf *out, const char *pat, size_t i)
{
    char e = pat[i + 1], lower = (char)(e >= 'A' && e <= 'Z' ? e - 'A' + 'a' : e);
    const char *set = ascii_set(&lower, 0);
    if (set && (e == 'd' || e == 'w' || e == 's' || e == 'D' || e == 'W' || e == 'S')) {
        strbuf_appendf(out, "[%s%s]", e == lower ? "" : "^", set);
        return i + 2;
    }
    strbuf_append_char(out, '\\');
    strbuf_append_char(out, e == 'b' ? 'y' : e == 'B' ? 'Y' : e == 'z' ? 'Z' : e);
    return i + 2;
}

static void regex_pg(strbuf *out, const char *pat)
{
    size_t i = regex_options(pat);
    if (!i) {
        strbuf_append_str(out, "(?p)");
    } else {
        strbuf_append(out, pat, i - 1);
        if (strcspn(pat + 2, "smnpw") >= i - 3) strbuf_append_char(out, 'p'); /* no newline option given */
        strbuf_append_char(out, ')');
    }
    while (pat[i]) {
        if (pat[i] == '[') i = regex_bracket(out, pat, i);
        else if (pat[i] == '\\' && pat[i + 1]) i = regex_escape(out, pat, i);
        else strbuf_append_char(out, pat[i++]);
    }
}

/* ---- fields ---- */

static const char *column(query_field_kind kind)
{
    switch (kind) {
    case QUERY_FIELD_ID: return "id";
    case QUERY_FIELD_CREATED_BY: return "created_by";
    case QUERY_FIELD_CREATED_AT: return "created_at";
    case QUERY_FIELD_UPDATED_AT: return "updated_at";
    default: return NULL;
    }
}

/* R: doc->'a'->'b' for path[0..len) (checked by core/query: [A-Za-z0-9_.] only). */
static void raw_path(strbuf *sql, const char *path, size_t len)
{
    strbuf_append_str(sql, "(doc");
    for (size_t at = 0; at < len;) {
        size_t seg = strcspn(path + at, ".");
        if (at + seg > len) seg = len - at;
        strbuf_appendf(sql, "->'%.*s'", (int)seg, path + at);
        at += seg + 1;
    }
    strbuf_append_char(sql, ')');
}

static void raw_field(strbuf *sql, const query_field *f) { raw_path(sql, f->path, strlen(f->path)); }

void docs_pg_sql_field(strbuf *sql, const query_field *f)
{
    const char *col = column(f->kind);
    if (col) {
        strbuf_append_str(sql, col);
        return;
    }
    strbuf_append_str(sql, "(CASE jsonb_typeof(");
    raw_field(sql, f);
    strbuf_append_str(sql, ") WHEN 'number' THEN ");
    raw_field(sql, f);
    strbuf_append_str(sql, " WHEN 'boolean' THEN CASE WHEN ");
    raw_field(sql, f);
    strbuf_append_str(sql, " = 'true'::jsonb THEN '1'::jsonb ELSE '0'::jsonb END WHEN 'null' THEN NULL"
                           " ELSE jsonb_insert('[]'::jsonb, '{0}', ");
    raw_field(sql, f); /* a string, object or array: [value]; NULL when missing */
    strbuf_append_str(sql, ") END)");
}

void docs_pg_sql_key(strbuf *sql, const query_field *f, int desc)
{
    docs_pg_sql_field(sql, f);
    if (f->kind == QUERY_FIELD_DOC) strbuf_append_str(sql, desc ? " DESC NULLS LAST" : " ASC NULLS FIRST");
    else strbuf_append_str(sql, desc ? " DESC" : " ASC");
}

typedef enum key_unwrap {
    KEY_VALUE,        /* jsonb: a string key's string, any other key itself */
    KEY_TEXT,         /* text: a string's, a number's digits, a boolean's 0/1 (SQLite's text of the value) */
    KEY_STRING_TEXT   /* text: a string's, NULL for other keys (SQLite's TEXT values) */
} key_unwrap;

/* What field f's key holds (a string key is [value]; objects and arrays approximately as strings). */
static void key_unwrapped(strbuf *sql, const query_field *f, key_unwrap as)
{
    strbuf_append_str(sql, "(CASE WHEN jsonb_typeof(");
    docs_pg_sql_field(sql, f);
    strbuf_append_str(sql, ") = 'array' THEN ");
    docs_pg_sql_field(sql, f);
    strbuf_append_str(sql, as == KEY_VALUE ? " -> 0" : " ->> 0");
    if (as != KEY_STRING_TEXT) {
        strbuf_append_str(sql, " ELSE ");
        docs_pg_sql_field(sql, f);
        if (as == KEY_TEXT) strbuf_append_str(sql, " #>> '{}'");
    }
    strbuf_append_str(sql, " END)");
}

/* A column, or key_unwrapped of a document field. */
static void field_value(strbuf *sql, const query_field *f, key_unwrap as)
{
    const char *col = column(f->kind);
    if (col) strbuf_append_str(sql, col);
    else key_unwrapped(sql, f, as);
}

/* "(<f's text> ~ $n)", or ~* with option i. */
static void regex_sql(strbuf *sql, pg_binds *b, const query_cond *c)
{
    strbuf pat;
    strbuf_init(&pat, 0);
    regex_pg(&pat, json_object_get_string(c->value));
    strbuf_append_char(sql, '(');
    field_value(sql, &c->field, KEY_STRING_TEXT);
    strbuf_append_str(sql, c->regex_icase ? " ~* " : " ~ ");
    if (pat.overflow) b->overflow = 1;
    bind_str(sql, b, pat.data ? pat.data : "");
    strbuf_append_char(sql, ')');
    strbuf_release(&pat);
}

/* ---- conditions ---- */

static const char *const cmp_ops[] = {[QUERY_GT] = " > ", [QUERY_GTE] = " >= ", [QUERY_LT] = " < ", [QUERY_LTE] = " <= "};

/* v as SQLite compares it with a TEXT column (the column's affinity makes a number text: an integer's
 * digits, a double as "%!.15g", a boolean bound as 0/1); NULL for null, objects and arrays (bound as NULL). */
static const char *column_text(struct json_object *v, char *buf, size_t size)
{
    switch (json_object_get_type(v)) {
    case json_type_string: return json_object_get_string(v);
    case json_type_boolean: return json_object_get_boolean(v) ? "1" : "0";
    case json_type_int: snprintf(buf, size, "%lld", (long long)json_object_get_int64(v)); return buf;
    case json_type_double: {
        char g[40];
        snprintf(g, sizeof g, "%.15g", json_object_get_double(v));
        size_t mant = strcspn(g, "e");
        int point = strchr(g, '.') || strchr(g, 'n') || strchr(g, 'N'); /* nan, inf: never from JSON */
        snprintf(buf, size, "%.*s%s%s", (int)mant, g, point ? "" : ".0", g + mant);
        return buf;
    }
    default: return NULL;
    }
}

/* col <op> v for a TEXT column, as SQLite compares them (NULL never compares: FALSE). */
static void column_cmp(strbuf *sql, pg_binds *b, const char *col, const char *op, struct json_object *v)
{
    char buf[64];
    const char *text = column_text(v, buf, sizeof buf);
    if (!text) {
        strbuf_append_str(sql, "FALSE");
        return;
    }
    strbuf_appendf(sql, "%s%s", col, op);
    bind_str(sql, b, text);
}

static void cond_column(strbuf *sql, pg_binds *b, const query_cond *c, const char *col)
{
    struct json_object *v = c->value;
    char buf[64];
    switch (c->op) {
    case QUERY_EQ: column_cmp(sql, b, col, " = ", v); return;
    case QUERY_NE: /* IS NOT: a NULL value differs from every column */
        if (!column_text(v, buf, sizeof buf)) strbuf_append_str(sql, "TRUE");
        else column_cmp(sql, b, col, " <> ", v);
        return;
    case QUERY_EXISTS: strbuf_append_str(sql, json_object_get_boolean(v) ? "TRUE" : "FALSE"); return;
    case QUERY_REGEX: regex_sql(sql, b, c); return;
    default: column_cmp(sql, b, col, cmp_ops[c->op], v);
    }
}

/* key IN (...) / NOT IN (...) of the non-null values of c's array; 0 when it has none. */
static int in_list(strbuf *sql, pg_binds *b, const query_cond *c, const char *col, int negate)
{
    size_t n = json_object_array_length(c->value);
    int first = 1;
    char buf[64];
    for (size_t i = 0; i < n; i++) {
        struct json_object *v = json_object_array_get_idx(c->value, i);
        const char *text = col && v ? column_text(v, buf, sizeof buf) : NULL;
        if (!v || json_object_is_type(v, json_type_null) || (col && !text)) continue;
        if (first) {
            if (col) strbuf_append_str(sql, col);
            else docs_pg_sql_field(sql, &c->field);
            strbuf_append_str(sql, negate ? " NOT IN (" : " IN (");
        } else {
            strbuf_append_char(sql, ',');
        }
        first = 0;
        if (col) bind_str(sql, b, text);
        else bind_key(sql, b, v);
    }
    if (!first) strbuf_append_char(sql, ')');
    return !first;
}

static int has_null(struct json_object *list)
{
    size_t n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++) {
        struct json_object *v = json_object_array_get_idx(list, i);
        if (!v || json_object_is_type(v, json_type_null)) return 1;
    }
    return 0;
}

/* $in: a listed value, or null/missing when null is listed; $nin: the opposite (a missing field is not
 * in a list without null). Columns are never null. */
static void cond_in(strbuf *sql, pg_binds *b, const query_cond *c, int negate)
{
    const char *col = column(c->field.kind);
    int nulls = !col && has_null(c->value);
    strbuf_append_char(sql, '(');
    if (nulls || (!col && negate)) {
        docs_pg_sql_field(sql, &c->field);
        strbuf_append_str(sql, negate == nulls ? " IS NOT NULL" : " IS NULL");
        strbuf_append_str(sql, negate && nulls ? " AND " : " OR ");
    }
    if (!in_list(sql, b, c, col, negate)) strbuf_append_str(sql, negate ? "TRUE" : "FALSE");
    strbuf_append_char(sql, ')');
}

/* An ordering operator on a document field: like types only (numbers and booleans as numbers, as SQLite
 * reads them, for a number; strings for a string; booleans for a boolean). */
static void cond_order(strbuf *sql, pg_binds *b, const query_cond *c)
{
    enum json_type t = json_object_get_type(c->value);
    int lower = c->op == QUERY_GT || c->op == QUERY_GTE;
    strbuf_append_char(sql, '(');
    if (t == json_type_boolean) {
        strbuf_append_str(sql, "jsonb_typeof(");
        raw_field(sql, &c->field);
        strbuf_append_str(sql, ") = 'boolean' AND ");
    } else if (t == json_type_string ? !lower : lower) {
        docs_pg_sql_field(sql, &c->field);
        strbuf_append_str(sql, t == json_type_string ? " > " KEY_BOUND " AND " : " < " KEY_BOUND " AND ");
    }
    docs_pg_sql_field(sql, &c->field);
    strbuf_append_str(sql, cmp_ops[c->op]);
    bind_key(sql, b, c->value);
    strbuf_append_char(sql, ')');
}

static void cond_eq(strbuf *sql, pg_binds *b, const query_cond *c, int negate)
{
    enum json_type t = json_object_get_type(c->value);
    if (t == json_type_null) { /* missing or null */
        docs_pg_sql_field(sql, &c->field);
        strbuf_append_str(sql, negate ? " IS NOT NULL" : " IS NULL");
        return;
    }
    if (negate) { /* anything but this very value (of this type), missing fields included */
        raw_field(sql, &c->field);
        strbuf_append_str(sql, " IS DISTINCT FROM ");
        bind_json(sql, b, c->value);
        return;
    }
    strbuf_append_char(sql, '(');
    if (t == json_type_object || t == json_type_array) {
        raw_field(sql, &c->field);
        strbuf_append_str(sql, " = ");
        bind_json(sql, b, c->value);
    } else { /* the key: a number also matches a boolean of the same value, as on SQLite */
        docs_pg_sql_field(sql, &c->field);
        strbuf_append_str(sql, " = ");
        bind_key(sql, b, c->value);
        if (t == json_type_boolean) {
            strbuf_append_str(sql, " AND jsonb_typeof(");
            raw_field(sql, &c->field);
            strbuf_append_str(sql, ") = 'boolean'");
        }
    }
    strbuf_append_char(sql, ')');
}

static void cond_sql(strbuf *sql, pg_binds *b, const query_cond *c)
{
    const char *col = column(c->field.kind);
    if (col && c->op != QUERY_IN && c->op != QUERY_NIN) {
        cond_column(sql, b, c, col);
        return;
    }
    switch (c->op) {
    case QUERY_EQ: cond_eq(sql, b, c, 0); return;
    case QUERY_NE: cond_eq(sql, b, c, 1); return;
    case QUERY_IN: cond_in(sql, b, c, 0); return;
    case QUERY_NIN: cond_in(sql, b, c, 1); return;
    case QUERY_EXISTS:
        raw_field(sql, &c->field);
        strbuf_append_str(sql, json_object_get_boolean(c->value) ? " IS NOT NULL" : " IS NULL");
        return;
    case QUERY_REGEX: regex_sql(sql, b, c); return;
    default: cond_order(sql, b, c);
    }
}

static void group_sql(strbuf *sql, pg_binds *b, const query_plan *plan, const query_group *g)
{
    if (g->count == 0) {
        strbuf_append_str(sql, "TRUE"); /* an empty row filter: every row */
        return;
    }
    strbuf_append_char(sql, '(');
    for (size_t i = 0; i < g->count; i++) {
        if (i) strbuf_append_str(sql, " AND ");
        cond_sql(sql, b, &plan->conds[g->first + i]);
    }
    strbuf_append_char(sql, ')');
}

static void groups_sql(strbuf *sql, pg_binds *b, const query_plan *plan, const query_group *g, size_t n)
{
    strbuf_append_char(sql, '(');
    for (size_t i = 0; i < n; i++) {
        if (i) strbuf_append_str(sql, " OR ");
        group_sql(sql, b, plan, &g[i]);
    }
    strbuf_append_char(sql, ')');
}

/* ---- search: a case-insensitive substring (ASCII case, as SQLite's lower()) ---- */

/* The text of field f (NULL: of the search's jsonb value t.v) holds search. */
static void contains(strbuf *sql, pg_binds *b, const query_field *f, const char *search)
{
    strbuf_append_str(sql, "strpos(lower(");
    if (f) field_value(sql, f, KEY_TEXT);
    else strbuf_append_str(sql, "(t.v #>> '{}')");
    strbuf_append_str(sql, " COLLATE \"C\"), lower(");
    bind_str(sql, b, search);
    strbuf_append_str(sql, " COLLATE \"C\")) > 0");
}

static void search_sql(strbuf *sql, pg_binds *b, const query_plan *plan)
{
    strbuf_append_char(sql, '(');
    if (plan->has_search_field) {
        contains(sql, b, &plan->search_field, plan->search);
    } else { /* every string value at any depth but the system fields and the columns the caller may not read */
        strbuf_append_str(sql, "EXISTS (SELECT 1 FROM jsonb_path_query(doc - '{id,createdBy,createdAt,updatedAt}'::text[]");
        for (size_t i = 0; i < plan->nsearch_skip; i++) {
            strbuf_append_str(sql, " - ");
            bind_str(sql, b, plan->search_skip[i]);
        }
        strbuf_append_str(sql, ", 'strict $.**') AS t(v) WHERE jsonb_typeof(t.v) = 'string' AND ");
        contains(sql, b, NULL, plan->search);
        strbuf_append_char(sql, ')');
    }
    strbuf_append_char(sql, ')');
}

/* ---- where, order, projection ---- */

/* A column's value in a cursor, as column_cmp compares it (NULL: SQL NULL). */
static void bind_column(strbuf *sql, pg_binds *b, struct json_object *v)
{
    char buf[64];
    const char *text = column_text(v, buf, sizeof buf);
    param(sql, b, text, text ? strlen(text) : 0, "::text");
}

/* Rows strictly after [sortValue, id] in the plan's order: (key, id) < (v, last) when descending, > when
 * ascending: the same rows as (key < v OR (key = v AND id < last)), NULLs included, and a range of the
 * index that gives the order. */
static void after_sql(strbuf *sql, pg_binds *b, const query_plan *plan, struct json_object *after)
{
    const char *op = plan->sort_desc ? " < " : " > ";
    struct json_object *v = json_object_array_get_idx(after, 0), *id = json_object_array_get_idx(after, 1);
    if (plan->sort.kind == QUERY_FIELD_ID) {
        strbuf_append_str(sql, "id");
        strbuf_append_str(sql, op);
        bind_column(sql, b, id);
        return;
    }
    strbuf_append_char(sql, '(');
    docs_pg_sql_field(sql, &plan->sort);
    strbuf_appendf(sql, ", id)%s(", op);
    if (column(plan->sort.kind)) bind_column(sql, b, v);
    else bind_key(sql, b, v);
    strbuf_append_str(sql, ", ");
    bind_column(sql, b, id);
    strbuf_append_char(sql, ')');
}

static const char *glue_next(strbuf *sql, const char *glue)
{
    strbuf_append_str(sql, glue);
    return " AND ";
}

static void where_sql(strbuf *sql, pg_binds *b, const query_plan *plan, const char *created_by_filter,
                      struct json_object *after)
{
    const char *glue = " WHERE ";
    if (plan->and_group.count) {
        glue = glue_next(sql, glue);
        group_sql(sql, b, plan, &plan->and_group);
    }
    if (plan->nor) {
        glue = glue_next(sql, glue);
        groups_sql(sql, b, plan, plan->or_groups, plan->nor);
    }
    if (plan->nrow) {
        glue = glue_next(sql, glue);
        groups_sql(sql, b, plan, plan->row_groups, plan->nrow);
    }
    if (plan->search[0]) {
        glue = glue_next(sql, glue);
        search_sql(sql, b, plan);
    }
    if (created_by_filter) {
        glue = glue_next(sql, glue);
        strbuf_append_str(sql, "created_by = ");
        bind_str(sql, b, created_by_filter);
    }
    if (after) {
        glue_next(sql, glue);
        after_sql(sql, b, plan, after);
    }
}

static void order_sql(strbuf *sql, const query_plan *plan)
{
    strbuf_append_str(sql, " ORDER BY ");
    docs_pg_sql_key(sql, &plan->sort, plan->sort_desc);
    if (plan->sort.kind != QUERY_FIELD_ID) strbuf_append_str(sql, plan->sort_desc ? ", id DESC" : ", id ASC");
}

/* 1 when another selected path is an ancestor of select[i] (it brings select[i] along), or select[i] is
 * a system field (always answered). */
static int projection_skipped(const query_plan *plan, size_t i)
{
    const char *path = plan->select[i].path;
    if (plan->select[i].kind != QUERY_FIELD_DOC) return 1;
    for (size_t j = 0; j < plan->nselect; j++) {
        const char *other = plan->select[j].path;
        size_t n = strlen(other);
        if (j != i && plan->select[j].kind == QUERY_FIELD_DOC && strncmp(path, other, n) == 0 && path[n] == '.')
            return 1;
    }
    return 0;
}

/* 1 when paths holds exactly path[0..len). */
static int path_listed(const char *const *paths, size_t n, const char *path, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(paths[i]) == len && strncmp(paths[i], path, len) == 0) return 1;
    return 0;
}

/* 1 when one of paths[0..i) has the same segment after prefix[0..plen) as paths[i]. */
static int segment_seen(const char *const *paths, size_t i, size_t plen, size_t slen)
{
    for (size_t j = 0; j < i; j++)
        if (strncmp(paths[j], paths[i], plen + slen) == 0 && (paths[j][plen + slen] == '.' || !paths[j][plen + slen]))
            return 1;
    return 0;
}

/* A jsonb object of the selected paths under prefix (paths[i][0..plen), "" or "a.b."): each segment once,
 * a selected path as its value (null when missing), a parent of selected paths as a nested object. */
static void projection_object(strbuf *sql, const char *const *paths, size_t n, const char *prefix, size_t plen)
{
    size_t pairs = 0;
    strbuf_append_str(sql, "(jsonb_build_object(");
    for (size_t i = 0; i < n; i++) {
        if (strncmp(paths[i], prefix, plen) != 0) continue;
        size_t slen = strcspn(paths[i] + plen, ".");
        if (segment_seen(paths, i, plen, slen)) continue;
        if (pairs) strbuf_append_str(sql, pairs % DOCS_PG_BUILD_PAIRS ? "," : ") || jsonb_build_object(");
        pairs++;
        strbuf_appendf(sql, "'%.*s',", (int)slen, paths[i] + plen);
        if (path_listed(paths, n, paths[i], plen + slen)) {
            raw_path(sql, paths[i], plen + slen);
        } else {
            char sub[QUERY_FIELD_MAX + 2];
            snprintf(sub, sizeof sub, "%.*s.", (int)(plen + slen), paths[i]);
            projection_object(sql, paths, n, sub, plen + slen + 1);
        }
    }
    strbuf_append_str(sql, "))");
}

#define SYSTEM_OBJECT "jsonb_build_object('id',id,'createdBy',created_by,'createdAt',created_at,'updatedAt',updated_at)"

/* The record as the API answers it: the document with its system fields, or only the selected paths. */
static void projection_sql(strbuf *sql, const query_plan *plan)
{
    const char *paths[QUERY_MAX_SELECT];
    size_t n = 0;
    for (size_t i = 0; i < plan->nselect && i < QUERY_MAX_SELECT; i++)
        if (!projection_skipped(plan, i)) paths[n++] = plan->select[i].path;
    if (plan->nselect == 0) { /* the whole record, the very bytes the API wrote (system fields included) */
        strbuf_append_str(sql, "body");
        return;
    }
    strbuf_append_str(sql, SYSTEM_OBJECT);
    if (n == 0) return;
    strbuf_append_str(sql, " || ");
    projection_object(sql, paths, n, "", 0);
}

/* The sort value as JSON (a key's value, a column as a string), for cursors. */
static void sort_value_sql(strbuf *sql, const query_plan *plan)
{
    const char *col = column(plan->sort.kind);
    if (col) strbuf_appendf(sql, "to_jsonb(%s)", col);
    else key_unwrapped(sql, &plan->sort, KEY_VALUE);
}

static void table_sql(strbuf *sql, const docs_pg_env *env, const char *table)
{
    strbuf_append_str(sql, " FROM ");
    docs_pg_table_sql(sql, env, table);
}

static int plan_has_regex(const query_plan *plan)
{
    for (size_t i = 0; i < plan->nconds; i++)
        if (plan->conds[i].op == QUERY_REGEX) return 1;
    return 0;
}

static void list_free(pg_list_sql *q)
{
    if (!q) return;
    strbuf_release(&q->count);
    strbuf_release(&q->page);
    strbuf_release(&q->count_binds.arena);
    strbuf_release(&q->page_binds.arena);
    strbuf_release(&q->shape);
    free(q);
}

/* The shape of the count (its WHERE, values as literals), when its total may be kept: no $regex (a
 * pattern evaluated by every write could fail the write, as on SQLite), not longer than the kept texts. */
static void shape_sql(pg_list_sql *q, const query_plan *plan, const char *created_by_filter)
{
    pg_binds lit = {.literal = 1};
    strbuf_init(&q->shape, DOCS_PG_COUNTS_KEY_MAX);
    if (q->has_regex) return;
    where_sql(&q->shape, &lit, plan, created_by_filter, NULL);
    q->keepable = !q->shape.overflow && !lit.overflow;
}

/* The shape's text: "" for a list without filters (every row). */
static const char *shape_text(const pg_list_sql *q) { return q->shape.data ? q->shape.data : ""; }

/* ", <the kept total of the shape, NULL when not kept>" as the page's fourth column: read in the page's
 * own snapshot, with no statement of its own. */
#define KEPT_COLUMN 3
static void kept_column(strbuf *sql, pg_binds *b, const docs_pg_env *env, const char *table, const char *shape)
{
    char idt[PG_INT64_TEXT], id_param[16], text_param[16];
    pg_fmt_int64(idt, docs_pg_counts_shape_id(table, shape));
    strbuf ph;
    strbuf_init_stack(&ph, id_param, sizeof id_param);
    param(&ph, b, idt, strlen(idt), "::bigint");
    strbuf_init_stack(&ph, text_param, sizeof text_param);
    param(&ph, b, shape, strlen(shape), "::text");
    strbuf_append_str(sql, ", ");
    docs_pg_counts_kept_sql(sql, env, id_param, text_param);
}

/* The count (filters only) and the page (filters, keyset position, order, LIMIT limit+1 OFFSET offset).
 * NULL with err when the SQL would be too large. */
static pg_list_sql *list_new(const docs_pg_env *env, const char *table, const query_plan *plan,
                             const char *created_by_filter, struct json_object *after, bs_err *err)
{
    pg_list_sql *q = calloc(1, sizeof *q);
    if (!q) {
        bs_err_internal(err);
        return NULL;
    }
    strbuf_init(&q->count, DOCS_PG_SQL_MAX);
    strbuf_init(&q->page, DOCS_PG_SQL_MAX);
    strbuf_init(&q->count_binds.arena, DOCS_PG_SQL_MAX);
    strbuf_init(&q->page_binds.arena, DOCS_PG_SQL_MAX);
    q->has_regex = plan_has_regex(plan);
    shape_sql(q, plan, created_by_filter);
    strbuf_append_str(&q->count, "SELECT count(*)");
    table_sql(&q->count, env, table);
    where_sql(&q->count, &q->count_binds, plan, created_by_filter, NULL);
    strbuf_append_str(&q->page, "SELECT ");
    projection_sql(&q->page, plan);
    strbuf_append_str(&q->page, ", ");
    sort_value_sql(&q->page, plan);
    strbuf_append_str(&q->page, ", id");
    if (q->keepable) kept_column(&q->page, &q->page_binds, env, table, shape_text(q));
    table_sql(&q->page, env, table);
    where_sql(&q->page, &q->page_binds, plan, created_by_filter, after);
    order_sql(&q->page, plan);
    char limit[32], offset[32];
    snprintf(limit, sizeof limit, "%lld", (long long)plan->limit + 1);
    snprintf(offset, sizeof offset, "%lld", after ? 0LL : (long long)((plan->page - 1) * plan->limit));
    strbuf_append_str(&q->page, " LIMIT ");
    param(&q->page, &q->page_binds, limit, strlen(limit), "::bigint");
    strbuf_append_str(&q->page, " OFFSET ");
    param(&q->page, &q->page_binds, offset, strlen(offset), "::bigint");
    if (q->count.overflow || q->page.overflow || q->count_binds.overflow || q->page_binds.overflow) {
        list_free(q);
        bs_err_set(err, 400, "data/validation-error", "The filters are too large");
        return NULL;
    }
    binds_resolve(&q->count_binds);
    binds_resolve(&q->page_binds);
    return q;
}

/* ---- running ---- */

/* r (a statement's result) when it succeeded; else NULL with err: a $regex the server refuses (an
 * expression it does not take, or over the statement timeout) is the client's 400, as on SQLite; a records
 * table that does not exist 404. r is cleared then. */
static PGresult *checked(const docs_pg_env *env, PGconn *c, const char *what, PGresult *r, bs_err *err)
{
    ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK) return r;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (state && !strcmp(state, "57014"))
        bs_err_set(err, 400, "data/validation-error", "$regex: the pattern needs too much backtracking on this data; simplify it");
    else if (state && !strcmp(state, "2201B"))
        bs_err_set(err, 400, "data/validation-error", "$regex: %s", primary ? primary : "invalid regular expression");
    else if (state && !strcmp(state, "42P01")) /* the table went away meanwhile */
        bs_err_set(err, 404, "data/table-not-found", "Table not found");
    else
        pg_fail(env->pool, c, r, what, err);
    PQclear(r);
    return NULL;
}

/* Runs sql with b (checked). */
static PGresult *run(const docs_pg_env *env, PGconn *c, const char *what, const char *sql, const pg_binds *b,
                     bs_err *err)
{
    if (b && pg_params_check(b->n, (const char *const *)b->values, err) < 0) return NULL;
    return checked(env, c, what, PQexecParams(c, sql, b ? b->n : 0, NULL, b ? b->values : NULL, NULL, NULL, 0), err);
}

/* ---- a list's read transaction ----
 * One read-only snapshot for the page and its count. The page runs with enable_seqscan off (SET LOCAL):
 * an index that serves its filters or its order is used whatever the table's size (the planner reads a
 * small table whole, sorting it, and would then name no index, nor run as the same list on a large
 * table), and a page no index serves is still a scan. The count runs with the server's own setting (a
 * count with seqscan off loses its parallel workers: docs/operations.md "Environments on PostgreSQL").
 * The rows a page reads are measured, when asked, from the transaction's statistics counters of the table
 * and its indexes (rows returned by scans, fetched through an index or a bitmap), read before and after
 * the page in the round trips of BEGIN and of the count or COMMIT. */

#define LIST_BEGIN "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL enable_seqscan = off"
#define COUNT_PLAN "SET LOCAL enable_seqscan TO DEFAULT"

typedef struct page_meter {
    strbuf sql;      /* "; SELECT <rows read from the table in this transaction so far>", empty when not measuring */
    int64_t before, after;
    int done;        /* after was read */
} page_meter;

static void meter_init(page_meter *m, const docs_pg_env *env, const char *table, int on)
{
    memset(m, 0, sizeof *m);
    strbuf_init(&m->sql, 0);
    if (!on) return;
    strbuf_append_str(&m->sql, "; SELECT coalesce(pg_stat_get_xact_tuples_returned(t) + pg_stat_get_xact_tuples_fetched(t)"
                               " + (SELECT coalesce(sum(pg_stat_get_xact_tuples_fetched(i.indexrelid)), 0) FROM pg_index i"
                               " WHERE i.indrelid = t), 0) FROM to_regclass('");
    docs_pg_table_sql(&m->sql, env, table); /* quoted identifiers of [A-Za-z0-9_-]: no quote to escape */
    strbuf_append_str(&m->sql, "') t");
}

/* paging->scanned: rows the page read beyond the ones it answered (and the one more that tells that more
 * exist). */
static void meter_done(page_meter *m, store_docs_paging *paging)
{
    int64_t read = m->after - m->before - paging->rows - (paging->has_more ? 1 : 0);
    if (m->done) paging->scanned = read > 0 ? read : 0;
    strbuf_release(&m->sql);
}

/* Runs the statements of first and then (NULL: none), one round trip; *value gets the number a statement
 * among them answers. */
static int statements_run(const docs_pg_env *env, PGconn *c, const char *first, const char *then, int64_t *value,
                          bs_err *err)
{
    strbuf sql;
    strbuf_init(&sql, 0);
    strbuf_append_str(&sql, first);
    if (then) strbuf_append_str(&sql, then);
    int rc = sql.overflow || !PQsendQuery(c, sql.data) ? pg_fail(env->pool, c, NULL, "list", err) : 0;
    strbuf_release(&sql);
    if (rc < 0) return -1;
    for (PGresult *r; (r = PQgetResult(c));) { /* every result, so that the connection is ready again */
        ExecStatusType s = PQresultStatus(r);
        if (s == PGRES_TUPLES_OK && PQntuples(r) == 1) *value = pg_i64(r, 0, 0);
        else if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK && rc == 0) rc = pg_fail(env->pool, c, r, "list", err);
        PQclear(r);
    }
    return rc;
}

/* BEGIN; the page's planner setting; $regex under the statement timeout; the meter's first read. */
static int read_begin(const docs_pg_env *env, PGconn *c, const pg_list_sql *q, page_meter *m, bs_err *err)
{
    return statements_run(env, c, q->has_regex ? LIST_BEGIN "; " DOCS_PG_REGEX_TIMEOUT : LIST_BEGIN, m->sql.data,
                          &m->before, err);
}

/* BEGIN, the page's planner setting (and $regex's timeout) and the page, in one round trip (libpq's
 * pipeline mode), the page a prepared statement of the connection (pg_run_led: parsed once, and planned
 * once when the server finds its generic plan as good): the page's result, inside the open read
 * transaction; or NULL with err (the transaction rolled back). Not with the meter, whose reads must
 * surround the page. */
static PGresult *page_pipelined(const docs_pg_env *env, PGconn *c, const pg_list_sql *q, bs_err *err)
{
    const pg_binds *b = &q->page_binds;
    if (pg_params_check(b->n, (const char *const *)b->values, err) < 0) return NULL;
    static const char *const lead[] = {"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "SET LOCAL enable_seqscan = off",
                                       DOCS_PG_REGEX_TIMEOUT};
    PGresult *page = pg_run_led(c, lead, q->has_regex ? 3 : 2, q->page.data, b->n, (const char *const *)b->values);
    page = checked(env, c, "list", page, err);
    if (!page) pg_rollback(c);
    return page;
}

/* Before the count: the server's planner setting again; the meter's second read. */
static int count_plan(const docs_pg_env *env, PGconn *c, page_meter *m, bs_err *err)
{
    m->done = m->sql.len > 0;
    return statements_run(env, c, COUNT_PLAN, m->sql.data, &m->after, err);
}

/* COMMIT (after the meter's second read when the count did not take it), or ROLLBACK when rc < 0. */
static int read_end(const docs_pg_env *env, PGconn *c, int rc, page_meter *m, bs_err *err)
{
    if (rc < 0) {
        pg_rollback(c);
        return -1;
    }
    if (m->done || !m->sql.len) return statements_run(env, c, "COMMIT", NULL, &m->after, err);
    m->done = 1;
    return statements_run(env, c, m->sql.data + 2, "; COMMIT", &m->after, err); /* without the leading "; " */
}

static int count_run(const docs_pg_env *env, PGconn *c, const pg_list_sql *q, int64_t *total, bs_err *err)
{
    PGresult *r = run(env, c, "count", q->count.data, &q->count_binds, err);
    if (!r) return -1;
    *total = pg_i64(r, 0, 0);
    PQclear(r);
    return 0;
}

/* 1 when t[0..n) is an integer (jsonb's spelling: -?[0-9]+) within 64 bits. */
static int int64_text(const char *t, size_t n)
{
    size_t i = t[0] == '-';
    if (i == n || n - i > 19) return 0;
    for (size_t k = i; k < n; k++)
        if (t[k] < '0' || t[k] > '9') return 0;
    if (n - i < 19) return 1;
    return strncmp(t + i, t[0] == '-' ? "9223372036854775808" : "9223372036854775807", 19) <= 0;
}

/* Appends a sort value (jsonb text) to a cursor as SQLite's driver writes it: a number within 64 bits as
 * it is, any other number as the double it reads as in %.17g (jsonb writes 1e308 as 309 digits and 5.0
 * as 5.0; SQLite's json_extract reads them as the REALs 1e+308 and 5), so the server's strict parser
 * takes the cursor back and both engines hand out the same cursors. Strings and the rest as they are. */
static void sort_value_json(strbuf *cursor, const char *t, size_t n)
{
    if (n == 0 || !(t[0] == '-' || (t[0] >= '0' && t[0] <= '9')) || int64_text(t, n) || n >= 512) {
        strbuf_append(cursor, t, n);
        return;
    }
    char num[512], out[32];
    memcpy(num, t, n); /* bounded: n < sizeof num */
    num[n] = '\0';
    snprintf(out, sizeof out, "%.17g", strtod(num, NULL));
    strbuf_append_str(cursor, out);
}

/* Appends the page's items (limit of its rows; one more tells that more exist) and the cursor. */
static void page_read(const PGresult *r, int64_t limit, strbuf *items, store_docs_paging *paging, int64_t *rows,
                      int *more)
{
    int64_t n = PQntuples(r) > limit ? limit : PQntuples(r);
    *more = PQntuples(r) > limit;
    strbuf_append_char(items, '[');
    for (int i = 0; i < (int)n; i++) {
        if (i) strbuf_append_char(items, ',');
        strbuf_append(items, PQgetvalue(r, i, 0), (size_t)PQgetlength(r, i, 0));
    }
    strbuf_append_char(items, ']');
    *rows = n;
    if (!paging || !paging->next_after || n != limit) return;
    strbuf *cursor = paging->next_after;
    int last = (int)n - 1;
    strbuf_reset(cursor);
    strbuf_append_char(cursor, '[');
    if (PQgetisnull(r, last, 1)) strbuf_append_str(cursor, "null");
    else sort_value_json(cursor, PQgetvalue(r, last, 1), (size_t)PQgetlength(r, last, 1));
    strbuf_append_char(cursor, ',');
    strbuf_append_json_string(cursor, PQgetvalue(r, last, 2), (size_t)PQgetlength(r, last, 2));
    strbuf_append_char(cursor, ']');
}

/* The kept total the page read (its fourth column; none on an empty page): 1 and *total, or 0. In the
 * test builds a kept total is also counted in the same snapshot, and must agree. */
static int kept_total(const docs_pg_env *env, PGconn *c, const pg_list_sql *q, const PGresult *r, int64_t *total,
                      bs_err *err)
{
    if (!q->keepable || PQntuples(r) == 0 || PQgetisnull(r, 0, KEPT_COLUMN)) return 0;
    *total = pg_i64(r, 0, KEPT_COLUMN);
#ifdef BASALT_ASSERTS
    int64_t counted = -1;
    if (count_run(env, c, q, &counted, err) < 0) return -1;
    BS_ASSERT(counted == *total); /* the triggers kept it exact */
#else
    (void)env, (void)c, (void)err;
#endif
    return 1;
}

/* What a list leaves for after its transaction (docs_pg_counts_after_list). */
typedef enum after_list { AFTER_NOTHING = 0, AFTER_REGISTER, AFTER_TOUCH } after_list;

/* The list inside its read transaction, from the page's result r (taken). */
static int list_on(const docs_pg_env *env, PGconn *c, const pg_list_sql *q, PGresult *r,
                   const query_plan *plan, store_docs_paging *paging, strbuf *items, int64_t *total, page_meter *m,
                   after_list *after_out, bs_err *err)
{
    struct json_object *after = paging ? paging->after : NULL;
    int64_t offset = after ? 0 : (plan->page - 1) * plan->limit, rows = 0;
    int more = 0;
    page_read(r, plan->limit, items, paging, &rows, &more);
    int64_t kept = 0;
    int is_kept = kept_total(env, c, q, r, &kept, err);
    PQclear(r);
    if (is_kept < 0) return -1;
    if (paging) {
        paging->has_more = more;
        paging->rows = rows;
    }
    if (paging && paging->skip_total) return 0;
    if (!after && !more && (rows > 0 || offset == 0)) { /* the last page tells */
        *total = offset + rows;
        return 0;
    }
    if (is_kept) {
        *total = kept;
        *after_out = AFTER_TOUCH;
        return 0;
    }
    if (count_plan(env, c, m, err) < 0 || count_run(env, c, q, total, err) < 0) return -1;
    if (q->keepable && *total >= DOCS_PG_COUNTS_MIN) *after_out = AFTER_REGISTER;
    return 0;
}

int docs_pg_list(const docs_pg_env *env, const char *table, const query_plan *plan, const char *created_by_filter,
                 store_docs_paging *paging, strbuf *items, int64_t *total, bs_err *err)
{
    *total = -1;
    pg_list_sql *q = list_new(env, table, plan, created_by_filter, paging ? paging->after : NULL, err);
    page_meter m;
    meter_init(&m, env, table, paging && paging->measure_scanned);
    PGconn *c = q ? pg_borrow(env->pool, err) : NULL;
    PGresult *page = NULL;
    if (c && !m.sql.len) { /* the transaction is open when page is */
        page = page_pipelined(env, c, q, err);
    } else if (c) {
        if (read_begin(env, c, q, &m, err) == 0) page = run(env, c, "list", q->page.data, &q->page_binds, err);
        if (!page) pg_rollback(c);
    }
    int rc = page ? 0 : -1;
    after_list after = AFTER_NOTHING;
    if (rc == 0) rc = list_on(env, c, q, page, plan, paging, items, total, &m, &after, err);
    if (page) rc = read_end(env, c, rc, &m, err);
    if (rc == 0 && after) {
        strbuf rel;
        strbuf_init(&rel, 0);
        docs_pg_table_sql(&rel, env, table);
        if (!rel.overflow) docs_pg_counts_after_list(env, c, table, rel.data, shape_text(q), after == AFTER_TOUCH);
        strbuf_release(&rel);
    }
    if (c) pg_return(env->pool, c);
    if (rc == 0 && paging) meter_done(&m, paging);
    else strbuf_release(&m.sql);
    list_free(q);
    return rc;
}

/* ---- explain ---- */

static const char *plan_str(struct json_object *node, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(node, key, &v) && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* One plan node and its children: a line each ("Index Scan using d_t__status on d_t"), the index the rows
 * are read through (the first one met), whether a whole table (or a whole index, no condition) is walked,
 * whether rows are sorted. */
static void explain_node(const char *table, struct json_object *node, int depth, store_explain *out)
{
    const char *type = plan_str(node, "Node Type"), *ix = plan_str(node, "Index Name");
    const char *rel = plan_str(node, "Relation Name"), *parent = plan_str(node, "Parent Relationship");
    if (!type) return;
    if (parent && (!strcmp(parent, "InitPlan") || !strcmp(parent, "SubPlan"))) return; /* the kept total's read */
    char line[512];
    snprintf(line, sizeof line, "%*s%s%s%s%s%s", depth * 2, "", type, ix ? " using " : "", ix ? ix : "",
             rel ? " on " : "", rel ? rel : "");
    json_object_array_add(out->steps, json_object_new_string(line));
    if (!strcmp(type, "Seq Scan")) out->full_scan = 1;
    if (!strcmp(type, "Sort") || !strcmp(type, "Incremental Sort")) out->sorts = 1;
    if (ix && (!strcmp(type, "Index Scan") || !strcmp(type, "Index Only Scan")) && !plan_str(node, "Index Cond"))
        out->full_scan = 1;
    if (ix && !out->index[0]) docs_pg_index_api_name(table, ix, out->index, sizeof out->index);
    struct json_object *kids;
    if (!json_object_object_get_ex(node, "Plans", &kids) || !json_object_is_type(kids, json_type_array)) return;
    for (size_t i = 0; i < json_object_array_length(kids); i++)
        explain_node(table, json_object_array_get_idx(kids, i), depth + 1, out);
}

static int explain_on(const docs_pg_env *env, PGconn *c, const char *table, const pg_list_sql *q, page_meter *m,
                      store_explain *out, bs_err *err)
{
    strbuf sql;
    strbuf_init(&sql, 0);
    strbuf_append_str(&sql, "EXPLAIN (FORMAT JSON) ");
    strbuf_append(&sql, q->page.data, q->page.len);
    PGresult *r = sql.overflow ? NULL : run(env, c, "explain", sql.data, &q->page_binds, err);
    strbuf_release(&sql);
    if (!r) return -1;
    struct json_object *doc = PQntuples(r) == 1 ? json_tokener_parse(PQgetvalue(r, 0, 0)) : NULL;
    PQclear(r);
    struct json_object *top = json_object_is_type(doc, json_type_array) ? json_object_array_get_idx(doc, 0) : NULL, *root;
    if (top && json_object_object_get_ex(top, "Plan", &root)) explain_node(table, root, 0, out);
    json_object_put(doc);
    if (!top) return bs_err_internal(err);
    if (count_plan(env, c, m, err) < 0) return -1;
    if (count_run(env, c, q, &out->matching, err) < 0) return -1;
    int64_t kept_total = 0;
    int kept = q->keepable ? docs_pg_counts_read(env, c, table, shape_text(q), &kept_total, err) : 0;
    out->total_maintained = kept > 0;
    out->total_maintainable = q->keepable;
    return kept < 0 ? -1 : 0;
}

int docs_pg_explain(const docs_pg_env *env, const char *table, const query_plan *plan,
                    const char *created_by_filter, store_explain *out, bs_err *err)
{
    memset(out, 0, sizeof *out);
    out->steps = json_object_new_array();
    pg_list_sql *q = list_new(env, table, plan, created_by_filter, NULL, err);
    if (!out->steps && q) {
        list_free(q);
        return bs_err_internal(err);
    }
    page_meter m;
    meter_init(&m, env, table, 0);
    PGconn *c = q ? pg_borrow(env->pool, err) : NULL;
    int rc = c ? read_begin(env, c, q, &m, err) : -1;
    if (rc == 0) rc = explain_on(env, c, table, q, &m, out, err);
    if (c) rc = read_end(env, c, rc, &m, err);
    if (c) pg_return(env->pool, c);
    strbuf_release(&m.sql);
    list_free(q);
    return rc;
}
