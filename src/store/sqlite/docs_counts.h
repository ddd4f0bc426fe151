/* docs_counts: list totals kept exact by the writes themselves (docs/data-api.md "Totals").
 *
 * A list answer carries the number of rows matching its filters. Counting them reads every match, so
 * instead each environment keeps a small registry of "shapes" (a table, the count's SQL text and its bound
 * values) whose totals are maintained: each shape has a row (id, n) in the environment's _basalt_counts
 * table, and every write of a record evaluates, inside its own transaction, whether the record matched each
 * shape of its table before and after the write (the same WHERE text the list runs, against that one row,
 * looked up by primary key) and adds the difference to n. A list reads n in the same read transaction as
 * its page, so the total is exactly the count of that snapshot, with no race between the two: SQLite's
 * isolation does the work.
 *
 * Life of a shape: a list that had to count COUNTS_MIN_MATCHES or more matches asks for it
 * (counts_request: the shape is "pending"; fewer matches are cheap to count, and registering every small
 * shape, e.g. one per user, would turn reads into writes); the store queues a registration on the
 * environment's writer, which counts the matches once inside a write transaction (counts_register) and
 * inserts the row; lists of a pending shape wait for it; from then on the row exists in every later
 * snapshot and is maintained. At most COUNTS_MAX_SHAPES are maintained per environment; the least
 * recently listed one is evicted (its row deleted) to make room. Ids carry a random per-process epoch, so
 * a row left by an earlier process is never read (the first registration of a process deletes them).
 *
 * Threads: readers (list threads) find and request shapes under the registry's mutex and keep only ids.
 * Shapes are freed only by the holder of the environment's write turn (the same turn every write of its
 * records holds), so a writer may use the shapes of a probe without the mutex. A NULL registry is valid
 * everywhere (nothing is maintained: every list counts). */
#ifndef BASALT_STORE_SQLITE_DOCS_COUNTS_H
#define BASALT_STORE_SQLITE_DOCS_COUNTS_H

#include <stddef.h>
#include <stdint.h>

#include "store/sqlite/docs_sql.h"
#include "store/sqlite/envdb.h"
#include "util/err.h"

#define COUNTS_MAX_SHAPES 16   /* maintained totals per environment */
#define COUNTS_MAX_PENDING 8   /* registrations waiting for the writer */
#define COUNTS_MAX_KEY 4096    /* longer shapes (SQL + values) are counted on every list */
#define COUNTS_MIN_MATCHES 200 /* shapes counted with fewer matches stay counted (cheap) */
#define COUNTS_PROBE_MAX (COUNTS_MAX_SHAPES + COUNTS_MAX_PENDING)

typedef struct count_registry count_registry;
typedef struct count_shape count_shape;

count_registry *counts_new(void);
void counts_free(count_registry *r);

typedef enum counts_state { COUNTS_NONE = 0, COUNTS_PENDING, COUNTS_LIVE } counts_state;

/* ---- readers ---- */
/* The state of the shape with this key (count SQL + values key), and its id when known. */
counts_state counts_find(count_registry *r, const char *key, size_t len, int64_t *id);
/* 1 when a shape of this count SQL may be maintained (short enough, no $regex: evaluating a pattern on a
 * write could fail the write). */
int counts_eligible(size_t key_len, const char *count_sql);
/* Adds a pending shape: table, key, the count statement (where_at: where its " WHERE ..." starts, or its
 * length when it has none) and its values (copied). 0 with *id; -1 when it cannot be added now. */
int counts_request(count_registry *r, const char *table, const char *key, size_t len, const char *count_sql,
                   size_t where_at, const docs_binds *b, int64_t *id);
/* Waits (at most ms) until shape id is registered, failed or gone. */
void counts_wait(count_registry *r, int64_t id, int ms);
/* Inside the reader's transaction: 1 and *n when the shape's row exists in this snapshot, 0 when not,
 * -1 with err. */
int counts_read(dconn *c, int64_t id, int64_t *n, bs_err *err);

/* ---- the writer (holds the environment's write turn) ---- */
/* Counts shape id into its row (evicting the least recently used shape when full); 0 when the shape is
 * gone meanwhile. */
int counts_register(dconn *c, count_registry *r, int64_t id, bs_err *err);
/* The registration of id is over, committed (ok) or not (the shape is then dropped by the next writer and
 * a later list asks again): waiters wake. */
void counts_registered(count_registry *r, int64_t id, int ok);

/* The shapes of one table during one record write, and what the write changes in each. */
typedef struct counts_probe {
    count_shape *shapes[COUNTS_PROBE_MAX];
    int delta[COUNTS_PROBE_MAX];
    int n;
} counts_probe;

void counts_probe_begin(count_registry *r, const char *table, counts_probe *p);
/* Adds sign (+1 / -1) to the delta of every shape that record id matches now. */
int counts_probe_row(dconn *c, counts_probe *p, const char *id, int sign, bs_err *err);
/* Adds the deltas to the rows (inside the write's transaction). */
int counts_probe_apply(dconn *c, counts_probe *p, bs_err *err);

/* The table is dropped (inside the drop's transaction): its shapes go, with their rows. */
int counts_forget_table(dconn *c, count_registry *r, const char *table, bs_err *err);
/* The environment's database is gone: every shape goes (no SQL). */
void counts_clear(count_registry *r);

#endif
