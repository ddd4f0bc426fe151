/* scopes: the vocabulary of API-key scopes and the rights they grant (docs/management-api.md, "Key
 * scopes"). Two kinds:
 *   data scopes        "<table>:<op>"              table a name or *, op create|read|list|update|delete|*;
 *                                                  they bind /v1/data (core/access.c checks them)
 *   management scopes  "admin:<surface>:<access>"  surface keys|tables|auth|outbox|users|files or *,
 *                                                  access read|write|*; they grant a secret key its
 *                                                  admin rights on one surface
 * A key without scopes ("" or NULL) has every right; a key with scopes has only what they name. Data
 * wildcards match tables, never a management surface (`*:*` is every table, nothing else).
 * Pure functions over the key's JSON array text; no I/O. */
#ifndef BASALT_CORE_SCOPES_H
#define BASALT_CORE_SCOPES_H

#include <stddef.h>

#include "util/err.h"

#define SCOPES_MAX_LEN 128 /* one scope string, bytes */

typedef enum scope_access { SCOPE_READ = 0, SCOPE_WRITE } scope_access;

const char *scopes_access_name(scope_access access);
/* 1 when s is a scope of the vocabulary above. */
int scopes_valid(const char *s);
/* 1 when s is a management scope ("admin:<surface>:<access>"). */
int scopes_is_admin(const char *s);
/* 1 when a key with scopes_json has no scopes, so every right ("", NULL or JSON null). */
int scopes_none(const char *scopes_json);
/* 1 when a key with scopes_json holds the management right surface/access (an unscoped key holds all). */
int scopes_grant(const char *scopes_json, const char *surface, scope_access access);
/* 0 when scopes_grant holds, else 403 data/scope-insufficient naming admin:<surface>:<access>. surface
 * NULL: an endpoint no scope reaches, refused to every scoped key. */
int scopes_check(const char *scopes_json, const char *surface, scope_access access, bs_err *err);
/* 1 when every right of a key with inner_json is a right of a key with outer_json: each inner scope is
 * matched part by part by an outer scope of the same kind (`*` covers any part); an unscoped inner is
 * covered only by an unscoped outer. Else 0 with the first uncovered scope in missing. */
int scopes_cover(const char *outer_json, const char *inner_json, char *missing, size_t missing_size);

#endif
