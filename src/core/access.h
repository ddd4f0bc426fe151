/* access: who may do what to a table (client-api.md §5): key scopes first, then the caller's group
 * against the table's permissions document (boolean mode). Pure decisions over the documents; no I/O.
 *
 * Groups: admin (secret key, or a user whose role is admin), user (a signed-in user), guest (no user).
 * Defaults when a table has no permissions document: admin everything; user create, read, list; guest
 * read, list. Once a document exists, a missing group or operation is denied, except that `list` falls
 * back to `read`. `self` grants read/update/delete on rows the caller created and list with an owner
 * filter; it never grants create. Tables whose name starts with '_' are admin-only unless they have a
 * permissions document. */
#ifndef BASALT_CORE_ACCESS_H
#define BASALT_CORE_ACCESS_H

#include <json-c/json.h>

#include "util/err.h"

typedef enum access_op { ACCESS_CREATE = 0, ACCESS_READ, ACCESS_LIST, ACCESS_UPDATE, ACCESS_DELETE } access_op;
typedef enum access_group { ACCESS_GUEST = 0, ACCESS_USER, ACCESS_ADMIN } access_group;

typedef enum access_verdict {
    ACCESS_DENY = 0,
    ACCESS_ALLOW,          /* any row */
    ACCESS_OWN_ROWS        /* only rows whose createdBy is the caller (the `self` rule) */
} access_verdict;

const char *access_op_name(access_op op);

/* Scope check: scopes_json is the key's JSON array text ("" or NULL = unrestricted). 0 when a scope
 * covers table:op, else 403 data/scope-insufficient naming the missing scope. */
int access_check_scope(const char *scopes_json, const char *table, access_op op, bs_err *err);

/* The verdict for a caller of `group` (has_user: a signed-in user, needed for `self`) on `table` with
 * its permissions document (NULL = defaults). DENY comes with err filled: 403 data/permission-denied,
 * or 403 data/system-table-access for '_' tables. */
access_verdict access_decide(const char *table, struct json_object *permissions, access_group group, int has_user,
                             access_op op, bs_err *err);

/* Checks that a permissions document has the boolean-mode shape (groups admin/user/guest/self mapping
 * operations to booleans; expressionPermissions/columnPermissions/rowFilters are refused for now).
 * 400 data/validation-error otherwise. */
int access_validate_document(struct json_object *permissions, bs_err *err);

#endif
