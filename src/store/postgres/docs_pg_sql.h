/* docs_pg_sql: a list request's plan (store/plan.h) as PostgreSQL SQL, run and explained; and the field
 * expressions custom indexes are built on (the same text the lists emit, so an index serves them).
 * Private to src/store/postgres.
 *
 * Records of an environment table T live in "<schema>"."d_T":
 *   id TEXT COLLATE "C" PRIMARY KEY, created_by TEXT COLLATE "C" NOT NULL DEFAULT '',
 *   created_at TEXT COLLATE "C" NOT NULL, updated_at TEXT COLLATE "C" NOT NULL, body TEXT NOT NULL,
 *   doc JSONB GENERATED ALWAYS AS (body::jsonb) STORED
 * (created_at/updated_at: the ISO-8601 text the API answers, which sorts by time; body: the whole record
 * exactly as the API wrote it, system fields id/createdBy/createdAt/updatedAt included, as on SQLite: a
 * list without select answers body as it is, so a read answers the very bytes of the write, ETags match
 * and large numbers keep their spelling; doc: the same as jsonb, what filters, sorts and indexes read). Default indexes as on SQLite: (created_at DESC, id DESC),
 * (updated_at DESC, id DESC), (created_by, created_at DESC). Physical names (table "d_T", indexes
 * "d_T$createdAt", "d_T$x_<name>" ...) are made by docs_pg_physical_name, and read back into API names by
 * docs_pg_index_api_name (docs_pg_call.h).
 *
 * Semantics are SQLite's (docs/data-api.md): filters compare like JSON types with like (an ordering
 * operator never matches a value of another type), $ne/$nin also match a missing field, $exists, $regex
 * with PostgreSQL regular expressions under the statement timeout, search as a case-insensitive substring
 * of the string values (of one field, or of every top-level string field but the skipped ones), totals
 * exact, paging by page or by `after` [sortValue, id] as store/docs.h says.
 *
 * Thread-safety: pure functions of their arguments plus one borrowed connection per call. */
#ifndef BASALT_STORE_POSTGRES_DOCS_PG_SQL_H
#define BASALT_STORE_POSTGRES_DOCS_PG_SQL_H

#include <stdint.h>

#include "store/docs.h"
#include "store/plan.h"
#include "store/postgres/docs_pg_env.h"
#include "util/err.h"
#include "util/strbuf.h"

/* Appends the SQL expression of field f on a records table (no table qualifier): the column for a system
 * field; for a document field its key, an immutable jsonb expression of doc->'a'->'b' that orders values as
 * SQLite orders them (NULL for missing and null, numbers with booleans as 0/1, then strings as ["s"]; see
 * docs_pg_sql.c). Filters and sorts compare this expression, so an expression index on it serves them;
 * a custom index key is spelled by docs_pg_sql_key. */
void docs_pg_sql_field(strbuf *sql, const query_field *f);
/* Appends f as a sort key in the lists' order: docs_pg_sql_field and ASC NULLS FIRST / DESC NULLS LAST for a
 * document field (missing and null first in ascending order, as on SQLite), ASC / DESC for a column. The
 * lists' ORDER BY is this; a custom index key must be exactly this too (then id ASC/DESC), or PostgreSQL
 * will not read a sorted page from it (either direction: an index is also scanned backwards). */
void docs_pg_sql_key(strbuf *sql, const query_field *f, int desc);

/* store_docs_list on PostgreSQL for table (its API name, already checked) of env. */
int docs_pg_list(const docs_pg_env *env, const char *table, const query_plan *plan, const char *created_by_filter,
                 store_docs_paging *paging, strbuf *items, int64_t *total, bs_err *err);

/* store_docs_explain on PostgreSQL: EXPLAIN of the very page query docs_pg_list runs. */
int docs_pg_explain(const docs_pg_env *env, const char *table, const query_plan *plan,
                    const char *created_by_filter, store_explain *out, bs_err *err);

#endif
