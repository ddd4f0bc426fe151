/* query: what a list request asks for (client-api.md §2.6–2.7), parsed and checked into a plan that a
 * store driver turns into parameterized SQL. Nothing here builds SQL text.
 *
 * Inputs are the raw (already percent-decoded) query parameters: page, limit, sortBy, sortDirection,
 * search, searchType, andFilters, orFilters, select. Rules:
 *   - page >= 1 (default 1), limit 1..100 (default 20; above 100 clamps to 100; < 1 or non-numeric uses
 *     the default; page likewise clamps to 1; page is capped at QUERY_MAX_PAGE);
 *   - andFilters: a JSON object {field: literal | {op: operand, ...}}; orFilters: the same, or an array of
 *     such objects (each array element is ANDed inside, the elements ORed). Operators: $eq $ne $gt $gte
 *     $lt $lte $in $nin $regex $exists (and $options with $regex: only "i"); anything else is refused;
 *   - field names: [A-Za-z0-9_] segments joined by '.', each segment starting with a letter or '_' for
 *     the system fields; at most QUERY_FIELD_MAX bytes; a dotted path must not go deeper than the schema
 *     declares (an undeclared top-level field is allowed, but then no dots); "__proto__", "constructor",
 *     "prototype" refused anywhere (also as keys inside literal values);
 *   - system fields: id (alias _id), createdBy, createdAt, updatedAt;
 *   - $in / $nin: an array of at most QUERY_MAX_IN scalars; $exists: a boolean; $regex: a string of at
 *     most QUERY_REGEX_MAX bytes; ordering operators: number, string or boolean;
 *   - a value compared with a field declared `date` is normalized like schema_normalize_date;
 *     a numeric string compared with a number field is coerced to a number;
 *   - filter JSON nested deeper than QUERY_MAX_DEPTH, more than QUERY_MAX_TERMS conditions, malformed
 *     JSON: refused;
 *   - sortBy: a field name (same rules), default createdAt; sortDirection asc|desc (default desc);
 *   - select: comma-separated field names (same rules), at most QUERY_MAX_SELECT; the system fields are
 *     always returned and need not be listed; a dotted name selects only that path (the store nests it);
 *   - search: at most QUERY_SEARCH_MAX bytes; searchType: a field name.
 * Every refusal is 400 data/validation-error with a message naming the parameter and the problem.
 *
 * The plan types themselves (query_plan, query_field, query_cond, ...) and the limits that size them are
 * in store/plan.h, since the store reads them.
 *
 * Ownership: query_plan_parse fills a caller-owned plan; query_plan_release frees what it holds. Values
 * in conditions are json-c objects owned by the plan. */
#ifndef BASALT_CORE_QUERY_H
#define BASALT_CORE_QUERY_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "core/schema.h"
#include "store/plan.h"
#include "util/err.h"

#define QUERY_MAX_IN 1000
#define QUERY_MAX_DEPTH 8
#define QUERY_REGEX_MAX 256
#define QUERY_MAX_PAGE 1000000
#define QUERY_DEFAULT_LIMIT 20
#define QUERY_MAX_LIMIT 100
#define QUERY_FILTER_TEXT_MAX 65536  /* bytes of one filter parameter */

/* The parameters as received; NULL for absent ones. */
typedef struct query_params {
    const char *page, *limit, *sort_by, *sort_direction, *search, *search_type, *and_filters, *or_filters,
        *select;
} query_params;

/* Parses and checks params against the table's schema (NULL = no schema). 0, or -1 with err filled. */
int query_plan_parse(query_plan *plan, const query_params *params, const schema *s, bs_err *err);
void query_plan_release(query_plan *plan);
/* Adds one permission row filter (an andFilters-style object) as an alternative of the plan's row-filter
 * clause; string values "$userId" stand for user_id. Same checks as andFilters ("rowFilters" in
 * messages); an empty object matches every row. */
int query_plan_add_row_filter(query_plan *plan, struct json_object *filter, const schema *s, const char *user_id,
                              bs_err *err);
/* Leaves the top-level field column (borrowed; no '"' in it) out of a search across all fields. 0, or -1
 * (500) when the plan holds QUERY_MAX_SEARCH_SKIP columns already. */
int query_plan_search_skip(query_plan *plan, const char *column, bs_err *err);
/* Checks one field name against the rules above and resolves it; used for sortBy, select, indexes. */
int query_field_resolve(const char *name, const schema *s, query_field *out, bs_err *err);

#endif
