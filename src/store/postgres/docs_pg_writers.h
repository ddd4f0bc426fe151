/* docs_pg_writers: the writer threads of the PostgreSQL docs driver. The writes without waiting
 * (store/docs.h: insert_async, replace_async) are queued here and run by DOCS_PG_WRITERS threads, each on
 * a connection it borrows for the write: the HTTP worker that queued one serves other requests while the
 * write waits for its commit, and the commits of concurrent writes share WAL flushes (PostgreSQL's group
 * commit) instead of one worker waiting for each. Private to src/store/postgres.
 *
 * Ownership: docs_pg_writers_new starts the threads; docs_pg_writers_free runs every job still queued,
 * then stops and joins them (before the pools the jobs use are freed). A job's arg is the job's own: run
 * frees it. Thread-safe. */
#ifndef BASALT_STORE_POSTGRES_DOCS_PG_WRITERS_H
#define BASALT_STORE_POSTGRES_DOCS_PG_WRITERS_H

#include "util/err.h"

#define DOCS_PG_WRITERS 8   /* threads; each holds at most one connection at a time */

typedef struct docs_pg_writers docs_pg_writers;

/* NULL with err when no thread could start. */
docs_pg_writers *docs_pg_writers_new(bs_err *err);
void docs_pg_writers_free(docs_pg_writers *w);
/* Queues run(arg) for a writer thread. 0, or -1 with err (out of memory; run will not be called). */
int docs_pg_writers_submit(docs_pg_writers *w, void (*run)(void *arg), void *arg, bs_err *err);

#endif
