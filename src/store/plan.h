/* plan: the query-plan types a data-store driver turns into SQL (store/docs.h store_docs_list and
 * store_docs_explain, custom index fields): the fields, conditions, condition groups, sort, select,
 * search and paging of one list request. Pure data, no functions: core/query.h parses and checks a
 * request into a query_plan (and includes this header); the store only reads it. Kept in store/ so that
 * nothing in src/store includes anything from src/core.
 *
 * Ownership: a query_plan is caller memory; the json-c values of its conditions are owned by the plan
 * (core/query.h query_plan_release frees them); search_skip entries are borrowed. Thread-safety: plain
 * data; a plan is read by the store during one call. */
#ifndef BASALT_STORE_PLAN_H
#define BASALT_STORE_PLAN_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#define QUERY_FIELD_MAX 128
#define QUERY_MAX_TERMS 64       /* conditions in andFilters + orFilters together */
#define QUERY_MAX_OR_GROUPS 16
#define QUERY_MAX_ROW_FILTERS 8
#define QUERY_SEARCH_MAX 256
#define QUERY_MAX_SELECT 64
#define QUERY_MAX_SEARCH_SKIP 64  /* = ACCESS_MAX_COLUMNS */

typedef enum query_op {
    QUERY_EQ, QUERY_NE, QUERY_GT, QUERY_GTE, QUERY_LT, QUERY_LTE, QUERY_IN, QUERY_NIN, QUERY_REGEX, QUERY_EXISTS
} query_op;

typedef enum query_field_kind {
    QUERY_FIELD_DOC = 0,       /* a path inside the record document */
    QUERY_FIELD_ID, QUERY_FIELD_CREATED_BY, QUERY_FIELD_CREATED_AT, QUERY_FIELD_UPDATED_AT
} query_field_kind;

typedef struct query_field {
    query_field_kind kind;
    char path[QUERY_FIELD_MAX];   /* "title", "meta.author"; for system fields their API name */
    int type;                     /* the declared type (core/schema.h schema_type), SCHEMA_T_NONE = 0 when
                                     undeclared: filled and read above the store, carried as it is */
} query_field;

typedef struct query_cond {
    query_field field;
    query_op op;
    struct json_object *value;    /* owned: scalar, or array for $in/$nin, boolean for $exists */
    int regex_icase;              /* $regex with $options "i" */
} query_cond;

/* A conjunction of conditions. */
typedef struct query_group {
    size_t first, count;          /* a range of query_plan.conds */
} query_group;

typedef struct query_plan {
    query_cond conds[QUERY_MAX_TERMS];
    size_t nconds;
    query_group and_group;                     /* andFilters (count 0 = none) */
    query_group or_groups[QUERY_MAX_OR_GROUPS]; /* orFilters: OR of these groups; an object form gives one
                                                   group per key (each key one alternative) */
    size_t nor;
    query_group row_groups[QUERY_MAX_ROW_FILTERS]; /* permission row filters: OR of these groups, ANDed */
    size_t nrow;
    query_field sort;
    int sort_desc;
    query_field select[QUERY_MAX_SELECT];
    size_t nselect;                            /* 0 = whole records */
    char search[QUERY_SEARCH_MAX + 1];         /* "" = no search */
    query_field search_field;                  /* kind DOC with path "" = all string fields */
    int has_search_field;
    /* top-level fields that a search across all fields leaves out: the columns the caller may not read
     * (set by the data API from column permissions with query_plan_search_skip; borrowed) */
    const char *search_skip[QUERY_MAX_SEARCH_SKIP];
    size_t nsearch_skip;
    int64_t page, limit;
} query_plan;

#endif
