/* docs_pg_counts: list totals kept by the writes on PostgreSQL, exact for every process on the database
 * (docs/data-api.md "Totals"). Private to src/store/postgres.
 *
 * A list's total is the number of rows matching its filters. Counting them reads every match, so a list
 * whose count found DOCS_PG_COUNTS_MIN or more matches registers its *shape*: its WHERE text with the
 * bound values spelled as SQL literals (docs_pg_sql.c writes it), stored in the environment schema's
 * _basalt_count_shapes (id = a hash of table and text, tbl, where_sql, used_at). The shape's total lives
 * in _basalt_count_slots (shape, slot, n): the sum of n over its slots. Every statement that writes a
 * records table fires a statement trigger (AFTER INSERT / UPDATE / DELETE, with transition tables) that
 * counts, for each shape of the table, the rows it added that match (NEW TABLE) minus the rows it removed
 * that matched (OLD TABLE), with the shape's own WHERE text, and adds the difference to the slot of its
 * connection (pg_backend_pid() % DOCS_PG_COUNTS_SLOTS: concurrent writers of one table seldom wait for
 * one counter row). The trigger runs inside the write's transaction: the total commits with the rows.
 *
 * Why it is exact: registering takes the records table's SHARE ROW EXCLUSIVE lock (it waits for the
 * writes in flight, which hold ROW EXCLUSIVE, and holds back new ones), counts, and inserts the shape and
 * its count in one transaction; a write's trigger reads the shapes after its own statement took ROW
 * EXCLUSIVE, so a shape registered before it is seen, and one registered after counted it. A list reads
 * the slots in the same REPEATABLE READ snapshot as its page. Since the trigger is in the database, it
 * holds for every writer: other Basalt processes, an environment move, a psql session.
 *
 * Limits: DOCS_PG_COUNTS_PER_TABLE shapes per table (the least recently listed one is evicted, under the
 * same table lock, so no writer holds its counter rows), DOCS_PG_COUNTS_PER_ENV per environment schema
 * (past it lists count); shapes with $regex, or whose text exceeds DOCS_PG_COUNTS_KEY_MAX, are counted
 * on every list (docs_pg_sql.c decides). Triggers are created on a table when its first shape is.
 *
 * Ownership: docs_pg_counts is the driver's (docs_pg_counts_new/_free), a hint of this process only (which
 * shapes it is registering, when it last marked one used); what is exact lives in the database.
 * Thread-safe. */
#ifndef BASALT_STORE_POSTGRES_DOCS_PG_COUNTS_H
#define BASALT_STORE_POSTGRES_DOCS_PG_COUNTS_H

#include <libpq-fe.h>
#include <stdint.h>

#include "store/postgres/docs_pg_env.h"
#include "store/postgres/pg.h"
#include "util/err.h"
#include "util/strbuf.h"

#define DOCS_PG_COUNTS_MIN 200       /* counted totals below it stay counted (cheap) */
#define DOCS_PG_COUNTS_PER_TABLE 16
#define DOCS_PG_COUNTS_PER_ENV 64
#define DOCS_PG_COUNTS_KEY_MAX 4096  /* a shape's WHERE text with its values */
#define DOCS_PG_COUNTS_SLOTS 16

typedef struct docs_pg_counts docs_pg_counts;

docs_pg_counts *docs_pg_counts_new(void);
void docs_pg_counts_free(docs_pg_counts *k);

/* The catalog part's statements that add the shapes, their slots and the trigger function (migration). */
#define DOCS_PG_COUNTS_SCHEMA_N 4
extern const char *const docs_pg_counts_schema[DOCS_PG_COUNTS_SCHEMA_N];

/* The shape's id in its schema: a hash of table and text (a collision is found by comparing the text). */
int64_t docs_pg_counts_shape_id(const char *table, const char *where_lit);
/* Appends the scalar subquery a page query selects to read the kept total in its own snapshot (NULL when
 * the shape is not kept): "(SELECT sum ... WHERE s.id = <id_param> AND s.where_sql = <text_param>)". */
void docs_pg_counts_kept_sql(strbuf *sql, const docs_pg_env *env, const char *id_param, const char *text_param);

/* Inside a list's read transaction on c: 1 and *total when the shape (table, where_lit) is kept in this
 * snapshot, 0 when it is not, -1 with err. */
int docs_pg_counts_read(const docs_pg_env *env, PGconn *c, const char *table, const char *where_lit, int64_t *total,
                        bs_err *err);

/* After a list's transaction ended, on its connection c (idle): registers the shape of table (its records
 * table rel, schema-qualified SQL: docs_pg_table_sql) unless this process is registering it already or
 * tried in the last seconds; or, for a kept shape (kept = 1), marks it used (at most once a minute per
 * process). Failures are not the list's: they are logged and forgotten. */
void docs_pg_counts_after_list(const docs_pg_env *env, PGconn *c, const char *table, const char *rel,
                               const char *where_lit, int kept);

/* Inside the caller's transaction on c (a table being dropped): deletes the table's shapes. */
int docs_pg_counts_drop_table(const docs_pg_env *env, PGconn *c, const char *table, bs_err *err);

#endif
