/* counters: the hot counters the instances of a fleet share (design.md §2), on Redis (store/redis/):
 * today the API-call admission of core/quota — one counter per (organization, UTC month) and per
 * (project, UTC day), checked and taken in one atomic Lua script per call, so that any number of
 * instances admit exactly up to a limit. A counter missing from Redis (first use, a flushed or restarted
 * server) is seeded from what the caller read in the usage rows; each expires a day after its window.
 * Also the auth abuse limits (client-api.md §1.10: failed sign-ins per e-mail and per IP, mails sent per
 * address and purpose): one hash per limited key, checked and taken by one script per decision.
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

/* ---- abuse limits ---- */

typedef enum store_limit_op {
    STORE_LIMIT_TAKE = 0,   /* refused when a key is blocked; else one unit of every key, blocking at its max */
    STORE_LIMIT_REFUND = 1, /* gives back the unit of every key (the attempt turned out not to count) */
    STORE_LIMIT_CLEAR = 2,  /* forgets the first key (a success) and gives back the unit of the others */
} store_limit_op;

typedef enum store_limit_status {
    STORE_LIMIT_TAKEN = 0,     /* taken, no key blocked */
    STORE_LIMIT_BLOCKING = 1,  /* taken, and this unit reached a key's max: it is blocked from now */
    STORE_LIMIT_BLOCKED = 2,   /* a key was already blocked: nothing taken */
} store_limit_status;

/* A decision on up to two keys of one environment (keys[i]: "signin:<e-mail>", ...; maxes[i]: units per
 * window_ms, then blocked for block_ms), in one round trip. *blocked_until: the latest block of a key
 * (Unix ms; 0 none). -1 (err 503) when Redis failed. */
int store_counters_limit(store_counters *c, store_limit_op op, const char *env_id, int nkeys, const char *const *keys,
                         const int64_t *maxes, int64_t window_ms, int64_t block_ms, int64_t now_ms, int *status,
                         int64_t *blocked_until, bs_err *err);

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
