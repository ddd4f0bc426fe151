/* env_lifecycle: an environment's life after creation (platform.md §5.6, §5.8).
 *   - env_remove runs the deletion steps in order (the management API and the sweeper share it);
 *   - env_lifecycle_touch records a /v1 use (written at most every ENV_TOUCH_INTERVAL_MS per environment,
 *     so the request path does not write the control store each time) and brings a shut-down environment
 *     back at once;
 *   - a background sweeper, every interval, shuts down environments unused for 30 days (dev) or 90 days
 *     (staging, prod, custom), scheduling their deletion the same period later, and deletes those whose
 *     time has come. Times come from clock_now_ms, so tests move them with BASALT_TEST_CLOCK_OFFSET_MS.
 *     In a fleet only the instance holding the jobs lease sweeps (core/jobs_lease.h).
 * Ownership: env_lifecycle_new copies the env_stores, whose pointers are borrowed and must outlive it;
 * env_lifecycle_free stops the sweeper. Thread-safe. */
#ifndef BASALT_CORE_ENV_LIFECYCLE_H
#define BASALT_CORE_ENV_LIFECYCLE_H

#include <stdint.h>

#include "core/fleet_bus.h"
#include "core/jobs_lease.h"
#include "store/blobs.h"
#include "store/control.h"
#include "store/docs.h"

#define ENV_TOUCH_INTERVAL_MS (10LL * 60 * 1000)
#define ENV_IDLE_DEV_MS (30LL * 86400 * 1000)
#define ENV_IDLE_OTHER_MS (90LL * 86400 * 1000)

typedef struct env_lifecycle env_lifecycle;

/* What an environment's placement and deletion touch (all borrowed). */
typedef struct env_stores {
    store_control *control;
    store_docs *docs;
    store_blobs *blobs;
    fleet_bus *bus;              /* the environment's keys leave every instance's key cache at deletion */
    int shared_cluster_slots;    /* dev environments per shared cluster; <= 0: 100 */
} env_stores;

/* Deletes an environment: mark deleting (its keys stop resolving and leave the key caches of the fleet), its files, its
 * database (tables, schemas, indexes, end users, file records), then its record with its keys, secrets
 * and settings. Safe to run again after an interruption. */
int env_lifecycle_remove(const env_stores *st, const store_env *e, bs_err *err);

/* Gives a new environment its place (platform.md §5.4–5.5): dev → a slot on a shared cluster, the others
 * → a dedicated cluster; e->cluster and e->slot are filled. */
int env_lifecycle_place(const env_stores *st, store_env *e, bs_err *err);

/* Places the environments created before placement existed, and the bootstrap's (start-up, sweeps). */
int env_lifecycle_place_unplaced(const env_stores *st, bs_err *err);

/* interval_ms 0: no sweeper (touches still reactivate). The sweeper sweeps only while lease is held (NULL:
 * always; borrowed). NULL on allocation failure. */
env_lifecycle *env_lifecycle_new(const env_stores *st, int64_t interval_ms, jobs_lease *lease);
void env_lifecycle_free(env_lifecycle *l);
void env_lifecycle_touch(env_lifecycle *l, const char *env_id);
/* One sweep now (the sweeper's body): shut down the idle, delete the due. */
int env_lifecycle_sweep(const env_stores *st, bs_err *err);

#endif
