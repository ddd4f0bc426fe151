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

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define DOCS_PG_WRITERS 8     /* threads; each holds at most one connection at a time */
#define DOCS_PG_GROUP_MAX 64  /* jobs a thread takes together (docs_pg_writers_submit_grouped) */

typedef struct docs_pg_writers docs_pg_writers;

/* NULL with err when no thread could start. */
docs_pg_writers *docs_pg_writers_new(bs_err *err);
void docs_pg_writers_free(docs_pg_writers *w);
/* Queues run(arg) for a writer thread. 0, or -1 with err (out of memory; run will not be called). */
int docs_pg_writers_submit(docs_pg_writers *w, void (*run)(void *arg), void *arg, bs_err *err);
/* Queues arg to be run with the other jobs queued under the same many and key when a thread takes it:
 * many(args, n) with 1 <= n <= DOCS_PG_GROUP_MAX, in the order they were queued (jobs wait only while every
 * thread is busy, so under load the writes queued meanwhile go together). key (not 0) names what may go
 * together; many must still check, as keys may collide. 0, or -1 with err (many will not see arg). */
int docs_pg_writers_submit_grouped(docs_pg_writers *w, void (*many)(void **args, size_t n), uint64_t key, void *arg,
                                   bs_err *err);

#endif
