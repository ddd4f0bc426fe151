/* jobs_lease: which instance of a fleet runs the background jobs that must run once (the usage roll-up and
 * retention, webhook delivery of usage alerts, the inactivity sweeper): the one holding the "jobs" lease of
 * the control store (store_control_lease_take). Its own thread takes or renews the lease every ttl/3; an
 * instance that dies stops renewing and another takes the lease over once it expires, within ttl plus one
 * renewal. A graceful stop releases it at once.
 *
 * Fencing: every change of holder increments the lease's fence. An instance believes it holds the lease
 * only until ttl (less a tenth for clock-rate drift) after the start of its last successful take, measured
 * on the monotonic clock, so it stops running jobs before any other instance may take the lease; the jobs
 * behind it are idempotent or claim their rows atomically (docs/operations.md "Background jobs and usage").
 *
 * Ownership: jobs_lease_new starts the thread; jobs_lease_free stops it and releases the lease. A NULL
 * lease (one process: the SQLite control store) is always held. jobs_lease_held may be called from any
 * thread. */
#ifndef BASALT_CORE_JOBS_LEASE_H
#define BASALT_CORE_JOBS_LEASE_H

#include <stdint.h>

#include "store/control.h"
#include "util/err.h"
#include "util/strbuf.h"

#define JOBS_LEASE_NAME "jobs"
#define JOBS_LEASE_TTL_MIN_MS 300

typedef struct jobs_lease jobs_lease;

/* Takes the lease once (so the first instance of a fleet holds it when it starts serving), then keeps it
 * on its own thread. NULL with err when the thread cannot start or ttl_ms < JOBS_LEASE_TTL_MIN_MS. */
jobs_lease *jobs_lease_new(store_control *control, int64_t ttl_ms, bs_err *err);
/* 1 when this instance holds the lease now (NULL: always); *fence (may be NULL) = the fence of the holding,
 * 0 with a NULL lease. */
int jobs_lease_held(jobs_lease *l, int64_t *fence);
/* Stops renewing and releases the lease; NULL is ignored. */
void jobs_lease_free(jobs_lease *l);
/* basalt_jobs_lease_held (gauge) and basalt_jobs_lease_takeovers_total (counter); nothing for NULL. */
int jobs_lease_render_prometheus(jobs_lease *l, strbuf *out);

#endif
