#include "core/scopes.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

static const char *const data_ops[] = {"*", "create", "read", "list", "update", "delete"};
static const char *const surfaces[] = {"*", "keys", "tables", "auth", "outbox", "users", "files"};
static const char *const accesses[] = {"*", "read", "write"};

/* A scope split at ':' into at most three parts (borrowed from the string). */
typedef struct scope_parts {
    const char *at[3];
    size_t len[3];
    int n;                /* 0 when the string has more than three parts */
} scope_parts;

static scope_parts split(const char *s)
{
    scope_parts p = {.n = 0};
    for (const char *start = s;; ) {
        const char *colon = strchr(start, ':');
        if (p.n == 3) return (scope_parts){.n = 0};
        p.at[p.n] = start;
        p.len[p.n] = colon ? (size_t)(colon - start) : strlen(start);
        p.n++;
        if (!colon) return p;
        start = colon + 1;
    }
}

static int part_is(const scope_parts *p, int i, const char *word)
{
    return p->len[i] == strlen(word) && strncmp(p->at[i], word, p->len[i]) == 0;
}

static int part_in(const scope_parts *p, int i, const char *const *words, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (part_is(p, i, words[k])) return 1;
    return 0;
}

/* outer's part i matches inner's part i: `*` or the same text. */
static int part_covers(const scope_parts *outer, const scope_parts *inner, int i)
{
    return part_is(outer, i, "*") || (outer->len[i] == inner->len[i] && strncmp(outer->at[i], inner->at[i], inner->len[i]) == 0);
}

static int table_part_valid(const scope_parts *p)
{
    if (p->len[0] == 0) return 0;
    if (part_is(p, 0, "*")) return 1;
    for (size_t i = 0; i < p->len[0]; i++) {
        char c = p->at[0][i];
        if (!(c == '_' || c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return 0;
    }
    return 1;
}

const char *scopes_access_name(scope_access access)
{
    return access == SCOPE_READ ? "read" : "write";
}

int scopes_is_admin(const char *s)
{
    scope_parts p = split(s);
    return p.n == 3 && part_is(&p, 0, "admin");
}

int scopes_valid(const char *s)
{
    if (!s || strlen(s) > SCOPES_MAX_LEN) return 0;
    scope_parts p = split(s);
    if (p.n == 2) return table_part_valid(&p) && part_in(&p, 1, data_ops, sizeof data_ops / sizeof data_ops[0]);
    return p.n == 3 && part_is(&p, 0, "admin") && part_in(&p, 1, surfaces, sizeof surfaces / sizeof surfaces[0]) &&
           part_in(&p, 2, accesses, sizeof accesses / sizeof accesses[0]);
}

/* 1 when some scope of the key's array text covers `wanted` part by part; an array that does not parse
 * holds nothing. */
static int array_covers(const char *scopes_json, const char *wanted)
{
    struct json_object *arr = json_tokener_parse(scopes_json);
    scope_parts want = split(wanted);
    int ok = 0;
    size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
    for (size_t i = 0; i < n && !ok && want.n; i++) {
        struct json_object *s = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(s, json_type_string)) continue;
        scope_parts have = split(json_object_get_string(s));
        ok = have.n == want.n && part_covers(&have, &want, 0) && part_covers(&have, &want, 1) &&
             (want.n < 3 || part_covers(&have, &want, 2));
    }
    json_object_put(arr);
    return ok;
}

int scopes_none(const char *scopes_json)
{
    return !scopes_json || !*scopes_json || strcmp(scopes_json, "null") == 0;
}

int scopes_grant(const char *scopes_json, const char *surface, scope_access access)
{
    if (scopes_none(scopes_json)) return 1;
    char wanted[SCOPES_MAX_LEN + 1];
    int n = snprintf(wanted, sizeof wanted, "admin:%s:%s", surface, scopes_access_name(access));
    return n > 0 && (size_t)n < sizeof wanted && array_covers(scopes_json, wanted);
}

int scopes_check(const char *scopes_json, const char *surface, scope_access access, bs_err *err)
{
    if (surface ? scopes_grant(scopes_json, surface, access) : scopes_none(scopes_json)) return 0;
    if (!surface) return bs_err_set(err, 403, "data/scope-insufficient", "A key with scopes may not use this endpoint");
    return bs_err_set(err, 403, "data/scope-insufficient", "API Key scope does not include admin:%s:%s", surface,
                      scopes_access_name(access));
}

int scopes_cover(const char *outer_json, const char *inner_json, char *missing, size_t missing_size)
{
    if (scopes_none(outer_json)) return 1;
    if (scopes_none(inner_json)) {
        snprintf(missing, missing_size, "every scope (a key without scopes)");
        return 0;
    }
    struct json_object *arr = json_tokener_parse(inner_json);
    int ok = 1;
    size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
    for (size_t i = 0; i < n && ok; i++) {
        const char *s = json_object_get_string(json_object_array_get_idx(arr, i));
        ok = s && array_covers(outer_json, s);
        if (!ok) snprintf(missing, missing_size, "%.*s", SCOPES_MAX_LEN, s ? s : "?");
    }
    json_object_put(arr);
    return ok;
}
