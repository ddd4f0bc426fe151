#include "core/access.h"

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

access_verdict access_decide(const char *table, struct json_object *permissions, access_group group, int has_user,
                             access_op op, bs_err *err)
{
    if (group == ACCESS_ADMIN) return ACCESS_ALLOW;
    if (table[0] == '_' && !permissions) {
        bs_err_set(err, 403, "data/system-table-access", "Table %s is a system table", table);
        return ACCESS_DENY;
    }
    if (!permissions ? default_grant(group, op) : grant(permissions, group_names[group], op)) return ACCESS_ALLOW;
    if (permissions && has_user && op != ACCESS_CREATE && grant(permissions, "self", op)) return ACCESS_OWN_ROWS;
    bs_err_set(err, 403, "data/permission-denied", "Permission denied: %s may not %s on %s", group_names[group],
               op_names[op], table);
    return ACCESS_DENY;
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

int access_validate_document(struct json_object *permissions, bs_err *err)
{
    if (!json_object_is_type(permissions, json_type_object))
        return bs_err_set(err, 400, "data/validation-error", "permissions must be an object");
    json_object_object_foreach(permissions, group, g) {
        int known = strcmp(group, "admin") == 0 || strcmp(group, "user") == 0 || strcmp(group, "guest") == 0 ||
                    strcmp(group, "self") == 0;
        if (!known)
            return bs_err_set(err, 400, "data/validation-error",
                              "permissions.%.64s is not supported (groups: admin, user, guest, self)", group);
        if (validate_group(group, g, err) < 0) return -1;
    }
    return 0;
}
