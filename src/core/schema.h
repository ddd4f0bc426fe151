/* schema: a table's record schema (client-api.md §2.3, platform.md §11.4): a JSON-Schema-like document
 * with MongoDB bsonType names, compiled once, then used to validate and coerce record bodies.
 *
 * Schema document accepted by schema_compile (the table's `schema`):
 *   {"bsonType":"object", "required":["title"], "properties":{
 *      "title": {"bsonType":"string", "minLength":1, "maxLength":200, "pattern":"^[A-Z]", "enum":[...]},
 *      "views": {"bsonType":"int"|"long"|"double"|"number"|"decimal", "minimum":0, "maximum":1e9},
 *      "published": {"bsonType":"bool"}, "at": {"bsonType":"date"}, "ref": {"bsonType":"reference"|"objectId"},
 *      "meta": {"bsonType":"object", "properties":{...}, "required":[...]},
 *      "tags": {"bsonType":"array", "items":{...}, "minItems":0, "maxItems":100},
 *      "any": {"bsonType":"mixed"} | {} ,
 *      "x": {..., "default": <value>} }}
 * `bsonType` may also be an array of names where one is "null" (nullable). An empty document {} means
 * "no schema": every body is stored as sent (after the field-name rules below).
 *
 * Ownership: schema_compile returns a compiled schema the caller frees with schema_free; it does not keep
 * a reference to the document it was given. Compiled schemas are immutable and safe to share between
 * threads. */
#ifndef BASALT_CORE_SCHEMA_H
#define BASALT_CORE_SCHEMA_H

#include <json-c/json.h>
#include <stddef.h>

#include "util/err.h"

#define SCHEMA_MAX_FIELDS 256      /* properties, all levels together */
#define SCHEMA_MAX_DEPTH 8         /* nesting of object properties */
#define SCHEMA_FIELD_NAME_MAX 64   /* bytes of one field name */
#define SCHEMA_PATTERN_MAX 512     /* bytes of a `pattern` */

typedef enum schema_type {
    SCHEMA_T_NONE = 0,   /* not declared (or "mixed"): anything goes */
    SCHEMA_T_STRING, SCHEMA_T_NUMBER, SCHEMA_T_INT, SCHEMA_T_BOOL, SCHEMA_T_DATE,
    SCHEMA_T_OBJECT, SCHEMA_T_ARRAY, SCHEMA_T_REFERENCE
} schema_type;

typedef struct schema schema;

/* Compiles a schema document. NULL doc or {} gives the empty schema. Errors: 400 data/validation-error
 * naming the offending property (unknown bsonType, bad constraint type, min > max, invalid pattern,
 * bad field name, too many fields, too deep). */
schema *schema_compile(struct json_object *doc, bs_err *err);
void schema_free(schema *s);

typedef enum schema_mode { SCHEMA_CREATE, SCHEMA_UPDATE } schema_mode;

/* Validates and coerces a record body in place, in the order of client-api.md §2.3:
 *   1. the body must be an object; the system fields id, _id, createdBy, createdAt, updatedAt are
 *      removed silently;
 *   2. field names (at every depth): non-empty, at most SCHEMA_FIELD_NAME_MAX bytes, start with a letter,
 *      then letters, digits, '_' (so no '$', no '.'); "__proto__", "constructor", "prototype" refused;
 *   3. coercion where a type is declared: numeric strings -> number, "true"/"false" -> bool, date strings
 *      (ISO 8601, or date-only YYYY-MM-DD meaning midnight UTC) -> normalized "YYYY-MM-DDTHH:MM:SS.mmmZ";
 *      int fields accept only integral values;
 *   4. create: defaults for absent fields, then `required` (missing or null fails); update: only the
 *      fields present are checked and `required` only refuses setting a required field to null;
 *   5. type, then enum, minLength/maxLength (in characters), pattern, minimum/maximum, items, nested
 *      properties. Fields not in the schema are kept as sent.
 * Errors: 400 data/validation-error, message "<field path>: <reason>" for the first failure. */
int schema_apply(const schema *s, struct json_object *record, schema_mode mode, bs_err *err);

/* The declared type of a field path ("title", "meta.author"); SCHEMA_T_NONE when not declared. */
schema_type schema_field_type(const schema *s, const char *path);
/* 1 when the path is declared by the schema (at any depth). */
int schema_field_declared(const schema *s, const char *path);
/* 1 when the schema declares no properties at all. */
int schema_is_empty(const schema *s);
/* Calls fn for each declared field path of type string (for search without searchType). */
void schema_each_string_field(const schema *s, void (*fn)(const char *path, void *ctx), void *ctx);
/* Normalizes an ISO 8601 date or date-time to "YYYY-MM-DDTHH:MM:SS.mmmZ" (out: 25 bytes). 0 or -1. */
int schema_normalize_date(const char *text, char out[25]);

#endif
