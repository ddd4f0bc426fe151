/* docs_sql: the one place that turns a query plan into SQLite SQL text and its bound values (the
 * dialect layer of the docs driver). Field expressions come from docs_sql_field so that queries and
 * expression indexes always spell a field the same way (an index serves a query only then).
 * Field paths were validated by core/query ([A-Za-z0-9_.] only) before they reach here; values are
 * never pasted into SQL, only bound. */
#ifndef BASALT_STORE_SQLITE_DOCS_SQL_H
#define BASALT_STORE_SQLITE_DOCS_SQL_H

#include <json-c/json.h>

#include "store/plan.h"
#include "util/strbuf.h"

#define DOCS_SQL_MAX_BINDS 2100

typedef struct docs_binds {
    struct json_object *values[DOCS_SQL_MAX_BINDS]; /* borrowed from the plan */
    const char *texts[DOCS_SQL_MAX_BINDS];          /* when values[i] is NULL: a borrowed text */
    int n;
} docs_binds;

/* Appends the quoted SQL name of a user table: "d_<name>". */
void docs_sql_table(strbuf *sql, const char *table);
/* Appends the SQL expression of a field: a system column, or json_extract(doc,'$.path'). */
void docs_sql_field(strbuf *sql, const query_field *f);
/* Appends " WHERE ..." (or nothing) for the plan's filters, search, the optional owner filter and the
 * optional keyset position `after` ([sortValue, id]: rows strictly after it in the plan's order). */
int docs_sql_where(strbuf *sql, docs_binds *b, const query_plan *plan, const char *created_by_filter,
                   struct json_object *after);
/* Appends " ORDER BY ..." (sort field, then id in the same direction). */
void docs_sql_order(strbuf *sql, const query_plan *plan);
/* Appends the selected columns: "doc", or a JSON object of the system fields and the selected paths (a
 * nested path as nested objects holding only it), built within SQLite's function argument limit. */
void docs_sql_projection(strbuf *sql, const query_plan *plan);

/* The two statements of a list: the count (filters only) and the page (filters, keyset position, order,
 * LIMIT ? OFFSET ? left to bind after page_binds). */
typedef struct docs_list_sql {
    strbuf count, page;
    size_t count_where;             /* where the count's " WHERE ..." starts (its length when it has none) */
    docs_binds count_binds, page_binds;
} docs_list_sql;

/* Fills q (its strbufs are re-initialized; release with docs_sql_list_release); -1 when the SQL would
 * be too large. */
int docs_sql_list(docs_list_sql *q, const char *table, const query_plan *plan, const char *created_by_filter,
                  struct json_object *after);
void docs_sql_list_release(docs_list_sql *q);

/* Appends a text that identifies the bound values (type and value of each), for cache keys. */
void docs_sql_binds_key(strbuf *key, const docs_binds *b);

#endif
