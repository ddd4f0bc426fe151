/* docs_move: moving one environment's data to another database server (docs/operations.md "Moving an
 * environment"), inside the serving process, through the drivers of the data stores. The caller
 * (core/env_move.c) runs the steps in order on a thread of its own:
 *   new        pins the target location for the target server's driver (its copy is made there, under the
 *              environment's own id) and starts recording the keys written meanwhile (the journal);
 *   copy       creates every table (records table, default and custom indexes) on the target, then copies
 *              the catalog (tables with their schema and index versions), every record, the end users with
 *              their sessions, tokens, invitations, linked accounts, audit trail and limits, and the file
 *              records, objects and uploads, while reads and writes go on at the source;
 *   block      writes answer 503 STORE_ENV_MOVING_CODE (reads go on) once the writes inside have left;
 *   catch_up   copies what the journal names again (a record: read at the source, replaced or deleted at
 *              the target; a table's definition: the whole table again) and the auth, file and catalog
 *              rows whole: after it the target equals the source, which no write can change any more;
 *   switch     waits for every call to leave, runs sw (the placement change in the control store) and routes
 *              the environment to the target; writes resume;
 *   free       after a switch drops the old copy; else (a failure at any step) unblocks, drops the target's
 *              copy and leaves the environment where it was.
 * Ownership: store_docs_move_new / store_docs_move_free. One thread uses a move. */
#ifndef BASALT_STORE_DOCS_MOVE_H
#define BASALT_STORE_DOCS_MOVE_H

#include <stdint.h>

#include "store/docs.h"
#include "util/err.h"

#define STORE_ENV_MOVING_CODE "environment/moving"

typedef struct store_docs_move store_docs_move;
typedef int (*store_docs_move_switch_fn)(void *ctx, bs_err *err);
/* What the caller adds (any may be NULL): progress gets the rows copied so far and the rows to copy (the
 * records counted before, the other rows as they come: it only grows); index_defs makes the custom index
 * definitions of a table from its indexes_json (core knows fields and schemas: *defs malloc'ed, freed by
 * the move; none: the table's custom indexes are not made). */
typedef struct store_docs_move_hooks {
    void (*progress)(void *ctx, int64_t done, int64_t total);
    int (*index_defs)(void *ctx, const store_table *t, store_index_def **defs, size_t *n, bs_err *err);
    void *ctx;
} store_docs_move_hooks;

/* target: the location the placement will give (a database server's: url set). NULL with err. */
store_docs_move *store_docs_move_new(store_docs *docs, const char *env_id, const store_env_location *target,
                                     const store_docs_move_hooks *hooks, bs_err *err);
int store_docs_move_copy(store_docs_move *m, bs_err *err);
int store_docs_move_block(store_docs_move *m, int timeout_ms, bs_err *err);
int store_docs_move_catch_up(store_docs_move *m, bs_err *err);
int store_docs_move_switch(store_docs_move *m, int timeout_ms, store_docs_move_switch_fn sw, void *ctx, bs_err *err);
/* Ends the move (see above); a failure to drop a copy is logged. */
void store_docs_move_free(store_docs_move *m);

#endif
