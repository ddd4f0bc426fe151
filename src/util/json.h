/* json: strict JSON parsing with explicit limits, on top of json-c, and small helpers to read and write
 * json-c values. Parsing is strict (RFC 8259: no comments, no single quotes, no trailing commas, no
 * NaN, valid UTF-8 only), rejects duplicate object keys, nesting deeper than max_depth, any string or
 * key longer than max_string bytes, and trailing non-whitespace.
 * Ownership: json_parse_strict returns a new reference the caller drops with json_object_put. */
#ifndef BASALT_UTIL_JSON_H
#define BASALT_UTIL_JSON_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "util/strbuf.h"

#define JSON_DEFAULT_MAX_DEPTH 64
#define JSON_DEFAULT_MAX_STRING (1024 * 1024)

typedef struct json_limits {
    int max_depth;          /* nesting of arrays and objects, e.g. 64 */
    size_t max_string;      /* bytes of any one string value or key */
} json_limits;

/* Parses text[0..len). On failure returns NULL and fills err with 400 common/invalid-parameters and
 * a message saying what is wrong and where (byte offset). A JSON `null` document parses to NULL too:
 * *is_null (when given) tells the two apart. */
struct json_object *json_parse_strict(const char *text, size_t len, const json_limits *limits, int *is_null,
                                      bs_err *err);

/* Serializes obj (plain, no slash escaping; integers as integers; doubles with the client's own text)
 * onto sb. */
int json_append(strbuf *sb, struct json_object *obj);

/* A json-c double d made from the numeric text of a string (schema coercion, filter values). It keeps
 * text as its serialization when the strict parser reads text back as this double; otherwise (an integral
 * text beyond 64 bits, leading zeros) it serializes as the shortest %g form that reads back as d, so
 * stored records and cursors always parse again. d must be finite. */
struct json_object *json_new_double_text(double d, const char *text);

/* Characters (code points) of a valid UTF-8 string. */
size_t json_utf8_chars(const char *s);

/* Borrowed lookups that check the type; NULL when absent or of another type. */
const char *json_get_string(struct json_object *obj, const char *key);
/* client-api.md §1.8: integral numbers are written as integers. Replaces, at every depth of v, each
 * number that was written with a fraction or exponent but holds an integral value within int64
 * (30.0, 3e1) by that integer; other numbers keep the client's own text. */
void json_normalize_integers(struct json_object *v);

/* Adds name: the ISO 8601 time of ms (Unix milliseconds; null when ms is 0) to a JSON object. */
void json_add_time(struct json_object *obj, const char *name, int64_t ms);

#endif
