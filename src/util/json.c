#include "util/json.h"

#include <stdlib.h>
#include <string.h>

/* Counts the members of every object in document order (pre-order by opening brace). The text has
 * already been validated by json-c, so this scan only needs to skip strings correctly. Each member has
 * exactly one ':' at its object's own level. */
typedef struct member_counts {
    uint32_t *counts;
    size_t n;
} member_counts;

static int count_members(const char *text, size_t len, int max_depth, member_counts *mc)
{
    size_t objects = 0;
    for (size_t i = 0; i < len; i++) if (text[i] == '{') objects++; /* upper bound (braces in strings) */
    mc->counts = calloc(objects ? objects : 1, sizeof *mc->counts);
    if (!mc->counts) return -1;
    long *stack = malloc(sizeof(long) * (size_t)(max_depth + 2));
    if (!stack) { free(mc->counts); return -1; }
    int top = -1;
    mc->n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '"') {
            for (i++; i < len && text[i] != '"'; i++) if (text[i] == '\\') i++;
        } else if (c == '{' || c == '[') {
            if (top + 1 > max_depth) break; /* json-c has rejected this already */
            stack[++top] = c == '{' ? (long)mc->n++ : -1;
        } else if (c == '}' || c == ']') {
            if (top >= 0) top--;
        } else if (c == ':' && top >= 0 && stack[top] >= 0) {
            mc->counts[stack[top]]++;
        }
    }
    free(stack);
    return 0;
}

/* Walks the tree in the same pre-order and checks member counts and string lengths. */
static int check_tree(struct json_object *obj, const member_counts *mc, size_t *next, size_t max_string,
                      bs_err *err)
{
    switch (json_object_get_type(obj)) {
    case json_type_object: {
        size_t idx = (*next)++;
        if (idx >= mc->n || (size_t)json_object_object_length(obj) != mc->counts[idx])
            return bs_err_set(err, 400, "common/invalid-parameters", "Malformed JSON: duplicate object key");
        json_object_object_foreach(obj, key, val) {
            if (strlen(key) > max_string)
                return bs_err_set(err, 400, "common/invalid-parameters",
                                  "Malformed JSON: a key is longer than %zu bytes", max_string);
            if (val && check_tree(val, mc, next, max_string, err) < 0) return -1;
        }
        return 0;
    }
    case json_type_array: {
        size_t n = json_object_array_length(obj);
        for (size_t i = 0; i < n; i++) {
            struct json_object *v = json_object_array_get_idx(obj, i);
            if (v && check_tree(v, mc, next, max_string, err) < 0) return -1;
        }
        return 0;
    }
    case json_type_string:
        if ((size_t)json_object_get_string_len(obj) > max_string)
            return bs_err_set(err, 400, "common/invalid-parameters",
                              "Malformed JSON: a string is longer than %zu bytes", max_string);
        return 0;
    default:
        return 0;
    }
}

static int only_whitespace(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') return 0;
    return 1;
}

static struct json_object *tokenize(const char *text, size_t len, int depth, bs_err *err)
{
    if (len > (size_t)INT32_MAX) {
        bs_err_set(err, 400, "common/invalid-parameters", "Malformed JSON: document too large");
        return NULL;
    }
    struct json_tokener *tok = json_tokener_new_ex(depth);
    if (!tok) { bs_err_internal(err); return NULL; }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *obj = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (jerr != json_tokener_success) {
        json_object_put(obj);
        const char *why = jerr == json_tokener_continue ? "unexpected end of input" : json_tokener_error_desc(jerr);
        bs_err_set(err, 400, "common/invalid-parameters", "Malformed JSON at byte %zu: %s", used, why);
        return NULL;
    }
    if (!only_whitespace(text + used, len - used)) {
        json_object_put(obj);
        bs_err_set(err, 400, "common/invalid-parameters", "Malformed JSON at byte %zu: trailing characters", used);
        return NULL;
    }
    return obj;
}

struct json_object *json_parse_strict(const char *text, size_t len, const json_limits *limits, int *is_null,
                                      bs_err *err)
{
    int depth = limits && limits->max_depth > 0 ? limits->max_depth : JSON_DEFAULT_MAX_DEPTH;
    size_t max_string = limits && limits->max_string ? limits->max_string : JSON_DEFAULT_MAX_STRING;
    if (is_null) *is_null = 0;
    if (memchr(text, '\0', len)) {
        bs_err_set(err, 400, "common/invalid-parameters", "Malformed JSON: NUL byte in the document");
        return NULL;
    }
    bs_err local;
    bs_err_clear(&local);
    struct json_object *obj = tokenize(text, len, depth, &local);
    if (!obj) {
        if (local.status) { *err = local; return NULL; }
        if (is_null) *is_null = 1; /* the document was the literal null */
        return NULL;
    }
    member_counts mc;
    if (count_members(text, len, depth, &mc) < 0) {
        json_object_put(obj);
        bs_err_internal(err);
        return NULL;
    }
    size_t next = 0;
    int rc = check_tree(obj, &mc, &next, max_string, err);
    free(mc.counts);
    if (rc < 0) {
        json_object_put(obj);
        return NULL;
    }
    return obj;
}

int json_append(strbuf *sb, struct json_object *obj)
{
    size_t n = 0;
    const char *s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    if (!s) return -1;
    return strbuf_append(sb, s, n);
}

const char *json_get_string(struct json_object *obj, const char *key)
{
    struct json_object *v;
    if (!obj || !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}
