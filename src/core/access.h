/* access: who may do what to a table (client-api.md §5): key scopes first, then the caller's group
 * against the table's permissions document. Pure decisions over the documents; no I/O.
 *
 * Groups: admin (secret key, or a user whose role is admin), user (a signed-in user), guest (no user,
 * or a user whose role is guest). Admin is never restricted by a document (only by key scopes).
 *
 * Boolean mode: {admin|user|guest|self: {create, read, list, update, delete: bool}}. Defaults when a
 * table has no document: user create, read, list; guest read, list. Once a document exists, a missing
 * group or operation is denied, except that `list` falls back to `read`. `self` grants read/update/
 * delete on rows the caller created and list with an owner filter; never create. Tables whose name
 * starts with '_' are admin-only unless they have a document.
 *
 * Expression mode (takes priority for the operations it names): expressionPermissions {op: expr}.
 * An expression is terms joined by '|' (or) and '&' (and, binds tighter), spaces allowed; terms:
 * public (always), guest (everyone, signed in or not), user (any signed-in caller), admin, self (the
 * row's owner; for list it adds the owner filter; it never grants create), role:<name> (the user's
 * role claim is <name>), role:* (a role other than admin/user/guest).
 *
 * Column permissions: columnPermissions {field: {read: expr, write: expr}} on top-level fields. A field
 * the caller may not read is removed from every answer (`self`: kept on the caller's own rows) and may
 * not be filtered, sorted or searched on (access_column_unreadable); answers' ETags are of what remains
 * (api/data.c). Writing
 * a field the caller may not write is 403 data/permission-denied (`self` on create: the caller will own
 * the row, so it holds). System fields are always readable and never written by clients.
 *
 * Row filters (lists only): rowFilters [{expression, filter}] — the filters (andFilters syntax, "$userId"
 * standing for the caller's id) of every entry whose expression holds for the caller (self counting as
 * "signed in") are OR-combined and ANDed to the list's own filters. Admin lists are never filtered. */
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

/* The caller as the rules see it. Strings borrowed. */
typedef struct access_caller {
    access_group group;
    int has_user;                /* a signed-in user, whatever its role */
    const char *user_id;         /* "" without a user */
    const char *role;            /* the user's role claim, "" without a user */
} access_caller;

/* The verdict for the caller on `table` with its permissions document (NULL = defaults). DENY comes
 * with err filled: 403 data/permission-denied, or 403 data/system-table-access for '_' tables. */
access_verdict access_decide(const char *table, struct json_object *permissions, const access_caller *who,
                             access_op op, bs_err *err);

#define ACCESS_MAX_COLUMNS 64
#define ACCESS_COLUMN_NAME_MAX 127   /* bytes of a column rule's name (= QUERY_FIELD_MAX - 1) */
/* The columns this caller may not read: names borrowed from the permissions document. */
typedef struct access_columns {
    const char *hidden[ACCESS_MAX_COLUMNS];    /* removed from every record */
    size_t nhidden;
    const char *own_only[ACCESS_MAX_COLUMNS];  /* kept only on the caller's own records */
    size_t nown;
} access_columns;

/* Fills cols for the caller; 1 when some column has to be removed from its answers, else 0. */
int access_read_columns(struct json_object *permissions, const access_caller *who, access_columns *cols);
/* Removes from one record object the fields cols says the caller may not read (its createdBy decides
 * ownership). */
void access_strip_record(const access_columns *cols, const access_caller *who, struct json_object *record);
/* 1 when a list query on path (a field name; its first segment names the column) would read a column
 * the caller may not read on every row listed: a hidden column, or an own-rows-only (`self`) column
 * unless own_rows_only (the list is restricted to the caller's rows). Filters, search and sort on such a
 * path are refused: their results would reveal the values. */
int access_column_unreadable(const access_columns *cols, const char *path, int own_rows_only);
/* 0 when the caller may write every field of body; row_owner is the record's createdBy on update,
 * NULL on create. 403 data/permission-denied naming the first refused field otherwise. */
int access_check_write(struct json_object *permissions, const access_caller *who, struct json_object *body,
                       const char *row_owner, bs_err *err);

#define ACCESS_MAX_ROW_FILTERS 8
/* The `filter` objects (borrowed) of the rowFilters entries that apply to the caller, at most max. */
size_t access_row_filters(struct json_object *permissions, const access_caller *who, struct json_object **out,
                          size_t max);

/* A table's effective permissions document: its own (permissions_json), or the defaults of client-api.md
 * §5.4 when it has none (NULL). A new reference. */
struct json_object *access_effective_permissions(const char *permissions_json);
/* Checks a permissions document: boolean groups, expressionPermissions, columnPermissions and
 * rowFilters as above (every expression parsed; filters must be objects; at most ACCESS_MAX_COLUMNS
 * column rules, named by 1 to ACCESS_COLUMN_NAME_MAX bytes without '"' or '\\', and at most
 * ACCESS_MAX_ROW_FILTERS row filters). 400 data/validation-error otherwise. */
int access_validate_document(struct json_object *permissions, bs_err *err);

#endif
