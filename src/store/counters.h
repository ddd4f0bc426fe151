/* counters: the hot counters the instances of a fleet share (design.md §2), on Redis (store/redis/):
 * today the API-call admission of core/quota — one counter per (organization, UTC month) and per
 * (project, UTC day), checked and taken in one atomic Lua script per call, so that any number of
 * instances admit exactly up to a limit. A counter missing from Redis (first use, a flushed or restarted
 * server) is seeded from what the caller read in the usage rows; each expires a day after its window.
 * Ownership: store_counters_open/store_counters_free. Thread-safe. */
#ifndef BASALT_STORE_COUNTERS_H
#define BASALT_STORE_COUNTERS_H

#include <stdint.h>

#include "util/err.h"

typedef struct store_counters store_counters;

/* One API call to take. A limit of -1: that counter is not involved; a seed of -1: not known (yet). */
typedef struct store_counters_call {
    const char *org_id, *project_id;
    int64_t month_start, month_end, day_start, day_end; /* the windows, Unix ms */
    int64_t month_limit, day_limit;
    int64_t month_seed, day_seed;
} store_counters_call;

typedef enum store_counters_outcome {
    STORE_COUNTERS_ADMITTED = 1,
    STORE_COUNTERS_REFUSED_MONTH = 2,   /* nothing taken */
    STORE_COUNTERS_REFUSED_DAY = 3,     /* the month's unit was taken (it is still an API call) */
} store_counters_outcome;

#define STORE_COUNTERS_SEED_MONTH 4     /* outcome bits: nothing taken, call again with this seed */
#define STORE_COUNTERS_SEED_DAY 8

typedef struct store_counters_result {
    int outcome;                        /* a store_counters_outcome or SEED_* bits */
    int64_t month_used, day_used;       /* after the call (admitted), or the count that refused it */
} store_counters_result;

/* url: redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]; timeout_ms bounds a connect and a command. */
store_counters *store_counters_open(const char *url, int timeout_ms, bs_err *err);
void store_counters_free(store_counters *c);
/* One round trip. -1 (err 503) when Redis is unreachable, timed out or failed. */
int store_counters_take_call(store_counters *c, const store_counters_call *call, store_counters_result *out, bs_err *err);
/* PING: 0 with *rtt_us its round trip, -1 when it does not answer. */
int store_counters_ping(store_counters *c, int64_t *rtt_us, bs_err *err);
/* host:port/db, without credentials. */
const char *store_counters_describe(const store_counters *c);
void store_counters_stats(store_counters *c, int64_t *errors, int64_t *connects);

#endif
