#include "core/access.h"

#include <stdio.h>
#include <string.h>

static const char *const op_names[] = {"create", "read", "list", "update", "delete"};
static const char *const group_names[] = {"guest", "user", "admin"};

const char *access_op_name(access_op op)
{
    return op_names[op];
}

static int scope_matches(const char *scope, const char *table, const char *op)
{
    const char *colon = strchr(scope, ':');
    if (!colon) return 0;
    size_t tlen = (size_t)(colon - scope);
    int table_ok = (tlen == 1 && scope[0] == '*') || (tlen == strlen(table) && strncmp(scope, table, tlen) == 0);
    int op_ok = strcmp(colon + 1, "*") == 0 || strcmp(colon + 1, op) == 0;
    return table_ok && op_ok;
}

int access_check_scope(const char *scopes_json, const char *table, access_op op, bs_err *err)
{
    if (!scopes_json || !*scopes_json) return 0;
    struct json_object *scopes = json_tokener_parse(scopes_json);
    int ok = 0;
    size_t n = scopes && json_object_is_type(scopes, json_type_array) ? json_object_array_length(scopes) : 0;
    for (size_t i = 0; i < n && !ok; i++) {
        struct json_object *s = json_object_array_get_idx(scopes, i);
        ok = json_object_is_type(s, json_type_string) && scope_matches(json_object_get_string(s), table, op_names[op]);
    }
    json_object_put(scopes);
    if (ok) return 0;
    return bs_err_set(err, 403, "data/scope-insufficient", "API Key scope does not include %s:%s", table, op_names[op]);
}

/* Boolean grant of op in a group's object; list falls back to read when list is not set. */
static int grant(struct json_object *perms, const char *group, access_op op)
{
    struct json_object *g, *v;
    if (!json_object_object_get_ex(perms, group, &g) || !json_object_is_type(g, json_type_object)) return 0;
    if (json_object_object_get_ex(g, op_names[op], &v)) return json_object_get_boolean(v);
    if (op == ACCESS_LIST && json_object_object_get_ex(g, "read", &v)) return json_object_get_boolean(v);
    return 0;
}

static int default_grant(access_group group, access_op op)
{
    if (group == ACCESS_USER) return op == ACCESS_CREATE || op == ACCESS_READ || op == ACCESS_LIST;
    return op == ACCESS_READ || op == ACCESS_LIST;
}

/* ---- expressions ---- */

#define EXPR_MAX 512

typedef enum term_value { TERM_FALSE = 0, TERM_TRUE, TERM_SELF } term_value;

static int builtin_role(const char *r)
{
    return strcmp(r, "admin") == 0 || strcmp(r, "user") == 0 || strcmp(r, "guest") == 0;
}

static int atom_is(const char *a, size_t n, const char *word)
{
    return n == strlen(word) && strncmp(a, word, n) == 0;
}

/* One term; -1 when it is not a term. who may be NULL (syntax check only). */
static int atom_value(const char *a, size_t n, const access_caller *who)
{
    if (atom_is(a, n, "public") || atom_is(a, n, "guest")) return TERM_TRUE;
    if (atom_is(a, n, "user")) return who && (who->has_user || who->group == ACCESS_ADMIN);
    if (atom_is(a, n, "admin")) return who && who->group == ACCESS_ADMIN;
    if (atom_is(a, n, "self")) return TERM_SELF;
    if (n <= 5 || strncmp(a, "role:", 5) != 0) return -1;
    const char *name = a + 5;
    size_t len = n - 5;
    if (atom_is(name, len, "*")) return who && who->role && who->role[0] && !builtin_role(who->role);
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return -1;
    }
    return who && who->role && strlen(who->role) == len && strncmp(who->role, name, len) == 0;
}

/* Evaluates expr for who (NULL: only checks the syntax). Returns ACCESS_ALLOW, ACCESS_OWN_ROWS (only
 * terms with self hold), ACCESS_DENY, or -1 on a syntax error. */
static int expr_verdict(const char *expr, const access_caller *who)
{
    size_t len = strlen(expr);
    if (len == 0 || len > EXPR_MAX) return -1;
    int best = ACCESS_DENY;
    const char *p = expr, *end = expr + len;
    while (p <= end) {
        const char *bar = memchr(p, '|', (size_t)(end - p));
        const char *term_end = bar ? bar : end;
        term_value term = TERM_TRUE;
        const char *q = p;
        while (q <= term_end) {
            const char *amp = memchr(q, '&', (size_t)(term_end - q));
            const char *a = q, *b = amp ? amp : term_end;
            while (a < b && *a == ' ') a++;
            while (b > a && b[-1] == ' ') b--;
            int v = atom_value(a, (size_t)(b - a), who);
            if (v < 0) return -1;
            if (v == TERM_FALSE) term = TERM_FALSE;
            else if (v == TERM_SELF && term == TERM_TRUE) term = TERM_SELF;
            if (!amp) break;
            q = amp + 1;
        }
        if (term == TERM_TRUE) best = ACCESS_ALLOW;
        else if (term == TERM_SELF && best == ACCESS_DENY && who && who->has_user) best = ACCESS_OWN_ROWS;
        if (!bar) break;
        p = bar + 1;
    }
    return best;
}

/* The expression of op in a {op: expr} object (list falls back to read), or NULL. */
static const char *op_expression(struct json_object *ops, const char *op)
{
    struct json_object *v;
    if (json_object_object_get_ex(ops, op, &v) && json_object_is_type(v, json_type_string)) return json_object_get_string(v);
    if (strcmp(op, "list") == 0 && json_object_object_get_ex(ops, "read", &v) && json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return NULL;
}

static struct json_object *member(struct json_object *obj, const char *name)
{
    struct json_object *v;
    return obj && json_object_object_get_ex(obj, name, &v) ? v : NULL;
}

access_verdict access_decide(const char *table, struct json_object *permissions, const access_caller *who,
                             access_op op, bs_err *err)
{
    if (who->group == ACCESS_ADMIN) return ACCESS_ALLOW;
    if (table[0] == '_' && !permissions) {
        bs_err_set(err, 403, "data/system-table-access", "Table %s is a system table", table);
        return ACCESS_DENY;
    }
    const char *expr = op_expression(member(permissions, "expressionPermissions"), op_names[op]);
    if (expr) {
        int v = expr_verdict(expr, who);
        if (v == ACCESS_ALLOW || (v == ACCESS_OWN_ROWS && op != ACCESS_CREATE)) return (access_verdict)v;
    } else {
        if (!permissions ? default_grant(who->group, op) : grant(permissions, group_names[who->group], op))
            return ACCESS_ALLOW;
        if (permissions && who->has_user && op != ACCESS_CREATE && grant(permissions, "self", op)) return ACCESS_OWN_ROWS;
    }
    bs_err_set(err, 403, "data/permission-denied", "Permission denied: %s may not %s on %s", group_names[who->group],
               op_names[op], table);
    return ACCESS_DENY;
}

/* ---- columns ---- */

static int is_system_field(const char *name)
{
    return strcmp(name, "id") == 0 || strcmp(name, "_id") == 0 || strcmp(name, "createdBy") == 0 ||
           strcmp(name, "createdAt") == 0 || strcmp(name, "updatedAt") == 0;
}

int access_read_columns(struct json_object *permissions, const access_caller *who, access_columns *cols)
{
    memset(cols, 0, sizeof *cols);
    struct json_object *rules = member(permissions, "columnPermissions");
    if (!json_object_is_type(rules, json_type_object) || who->group == ACCESS_ADMIN) return 0;
    json_object_object_foreach(rules, field, rule) {
        const char *expr = json_object_is_type(member(rule, "read"), json_type_string) ? json_object_get_string(member(rule, "read")) : NULL;
        if (!expr || is_system_field(field)) continue;
        int v = expr_verdict(expr, who);
        if (v == ACCESS_OWN_ROWS && cols->nown < ACCESS_MAX_COLUMNS) cols->own_only[cols->nown++] = field;
        else if (v != ACCESS_ALLOW && cols->nhidden < ACCESS_MAX_COLUMNS) cols->hidden[cols->nhidden++] = field;
    }
    return cols->nhidden + cols->nown > 0;
}

void access_strip_record(const access_columns *cols, const access_caller *who, struct json_object *record)
{
    if (!json_object_is_type(record, json_type_object)) return;
    for (size_t i = 0; i < cols->nhidden; i++) json_object_object_del(record, cols->hidden[i]);
    if (!cols->nown) return;
    struct json_object *owner = member(record, "createdBy");
    int own = who->has_user && owner && json_object_is_type(owner, json_type_string) &&
              strcmp(json_object_get_string(owner), who->user_id) == 0;
    for (size_t i = 0; !own && i < cols->nown; i++) json_object_object_del(record, cols->own_only[i]);
}

static int names_column(const char *path, const char *column)
{
    size_t n = strlen(column);
    return strncmp(path, column, n) == 0 && (path[n] == '\0' || path[n] == '.');
}

int access_column_unreadable(const access_columns *cols, const char *path, int own_rows_only)
{
    for (size_t i = 0; i < cols->nhidden; i++)
        if (names_column(path, cols->hidden[i])) return 1;
    for (size_t i = 0; !own_rows_only && i < cols->nown; i++)
        if (names_column(path, cols->own_only[i])) return 1;
    return 0;
}

int access_check_write(struct json_object *permissions, const access_caller *who, struct json_object *body,
                       const char *row_owner, bs_err *err)
{
    struct json_object *rules = member(permissions, "columnPermissions");
    if (!json_object_is_type(rules, json_type_object) || who->group == ACCESS_ADMIN) return 0;
    json_object_object_foreach(body, field, value) {
        (void)value;
        struct json_object *w = member(member(rules, field), "write");
        if (!json_object_is_type(w, json_type_string) || is_system_field(field)) continue;
        int v = expr_verdict(json_object_get_string(w), who);
        int own = !row_owner || (who->has_user && strcmp(row_owner, who->user_id) == 0);
        if (v == ACCESS_ALLOW || (v == ACCESS_OWN_ROWS && own)) continue;
        return bs_err_set(err, 403, "data/permission-denied", "Permission denied: the field %.64s may not be written", field);
    }
    return 0;
}

/* ---- row filters ---- */

size_t access_row_filters(struct json_object *permissions, const access_caller *who, struct json_object **out,
                          size_t max)
{
    struct json_object *entries = member(permissions, "rowFilters");
    if (!json_object_is_type(entries, json_type_array) || who->group == ACCESS_ADMIN) return 0;
    size_t n = 0;
    for (size_t i = 0; i < json_object_array_length(entries) && n < max; i++) {
        struct json_object *e = json_object_array_get_idx(entries, i), *f = member(e, "filter");
        struct json_object *x = member(e, "expression");
        if (!json_object_is_type(x, json_type_string) || !json_object_is_type(f, json_type_object)) continue;
        int v = expr_verdict(json_object_get_string(x), who);
        if (v == ACCESS_ALLOW || v == ACCESS_OWN_ROWS) out[n++] = f;
    }
    return n;
}

static int validate_group(const char *name, struct json_object *g, bs_err *err)
{
    if (!json_object_is_type(g, json_type_object))
        return bs_err_set(err, 400, "data/validation-error", "permissions.%s must be an object", name);
    json_object_object_foreach(g, op, v) {
        int known = 0;
        for (int i = 0; i < 5; i++) known |= strcmp(op, op_names[i]) == 0;
        if (!known) return bs_err_set(err, 400, "data/validation-error", "permissions.%s.%.64s is not an operation", name, op);
        if (!json_object_is_type(v, json_type_boolean))
            return bs_err_set(err, 400, "data/validation-error", "permissions.%s.%s must be true or false", name, op);
    }
    return 0;
}

static int validate_expressions(const char *where, struct json_object *ops, int column, bs_err *err)
{
    if (!json_object_is_type(ops, json_type_object))
        return bs_err_set(err, 400, "data/validation-error", "%s must be an object", where);
    json_object_object_foreach(ops, op, v) {
        int known = 0;
        for (int i = 0; i < 5 && !column; i++) known |= strcmp(op, op_names[i]) == 0;
        if (column) known = strcmp(op, "read") == 0 || strcmp(op, "write") == 0;
        if (!known)
            return bs_err_set(err, 400, "data/validation-error", "%s.%.64s is not %s", where, op,
                              column ? "read or write" : "an operation");
        if (!json_object_is_type(v, json_type_string) || expr_verdict(json_object_get_string(v), NULL) < 0)
            return bs_err_set(err, 400, "data/validation-error",
                              "%s.%s: expected an expression of public, guest, user, admin, self, role:<name>, "
                              "role:* joined by | and &", where, op);
    }
    return 0;
}

static int validate_columns(struct json_object *cols, bs_err *err)
{
    if (!json_object_is_type(cols, json_type_object) || json_object_object_length(cols) > ACCESS_MAX_COLUMNS)
        return bs_err_set(err, 400, "data/validation-error", "columnPermissions must be an object of at most %d fields",
                          ACCESS_MAX_COLUMNS);
    json_object_object_foreach(cols, field, rule) {
        char where[128];
        snprintf(where, sizeof where, "columnPermissions.%.64s", field);
        if (is_system_field(field)) return bs_err_set(err, 400, "data/validation-error", "%s: system fields are always readable", where);
        size_t n = strlen(field);
        if (n == 0 || n > ACCESS_COLUMN_NAME_MAX || strpbrk(field, "\"\\"))
            return bs_err_set(err, 400, "data/validation-error", "%s: a column name holds 1 to %d bytes, without '\"' or '\\'",
                              where, ACCESS_COLUMN_NAME_MAX);
        if (validate_expressions(where, rule, 1, err) < 0) return -1;
    }
    return 0;
}

static int validate_row_filters(struct json_object *rows, bs_err *err)
{
    if (!json_object_is_type(rows, json_type_array) || json_object_array_length(rows) > ACCESS_MAX_ROW_FILTERS)
        return bs_err_set(err, 400, "data/validation-error", "rowFilters must be an array of at most %d entries",
                          ACCESS_MAX_ROW_FILTERS);
    for (size_t i = 0; i < json_object_array_length(rows); i++) {
        struct json_object *e = json_object_array_get_idx(rows, i), *x = member(e, "expression");
        if (!json_object_is_type(e, json_type_object) || json_object_object_length(e) != 2 ||
            !json_object_is_type(member(e, "filter"), json_type_object))
            return bs_err_set(err, 400, "data/validation-error", "rowFilters[%zu] must be {expression, filter}", i);
        if (!json_object_is_type(x, json_type_string) || expr_verdict(json_object_get_string(x), NULL) < 0)
            return bs_err_set(err, 400, "data/validation-error", "rowFilters[%zu].expression is not an expression", i);
    }
    return 0;
}

int access_validate_document(struct json_object *permissions, bs_err *err)
{
    if (!json_object_is_type(permissions, json_type_object))
        return bs_err_set(err, 400, "data/validation-error", "permissions must be an object");
    json_object_object_foreach(permissions, group, g) {
        int rc;
        if (strcmp(group, "expressionPermissions") == 0) rc = validate_expressions(group, g, 0, err);
        else if (strcmp(group, "columnPermissions") == 0) rc = validate_columns(g, err);
        else if (strcmp(group, "rowFilters") == 0) rc = validate_row_filters(g, err);
        else if (strcmp(group, "admin") == 0 || strcmp(group, "user") == 0 || strcmp(group, "guest") == 0 ||
                 strcmp(group, "self") == 0)
            rc = validate_group(group, g, err);
        else
            rc = bs_err_set(err, 400, "data/validation-error",
                            "permissions.%.64s is not supported (admin, user, guest, self, expressionPermissions, "
                            "columnPermissions, rowFilters)", group);
        if (rc < 0) return -1;
    }
    return 0;
}

struct json_object *access_effective_permissions(const char *permissions_json)
{
    if (permissions_json) return json_tokener_parse(permissions_json);
    return json_tokener_parse("{\"admin\":{\"create\":true,\"read\":true,\"list\":true,\"update\":true,\"delete\":true},"
                              "\"user\":{\"create\":true,\"read\":true,\"list\":true},"
                              "\"guest\":{\"read\":true,\"list\":true}}");
}
