/* quota: admission of /v1 calls against the organization's monthly API-call quota (its plan) and the
 * project's daily apiCallLimit (design.md §4), exactly and without a database round trip: one counter
 * per (organization, UTC month) and per (project, UTC day) in memory, advanced by compare-and-swap only
 * while below its limit, so with any number of threads no call is admitted past a limit. A counter is
 * loaded once, when first needed, from what was already used (the loader, e.g. the usage rows); after
 * that this process's counter is authoritative. With shared counters (quota_set_shared: --redis, store/counters.h)
 * the decision is taken there instead, one atomic check-and-take per call for the whole fleet; a missing
 * shared counter is seeded through the loader. When the shared counters fail, this process's counters
 * decide for at most fail_open_ms from the outage's first failure (fail open, counted and logged at most
 * every 10 s), then calls are refused (fail closed: -1, err 503 common/unavailable) until they answer.
 * A call refused by the daily cap still counts toward the month (every call that reaches authentication
 * is an API call, as the usage rows count it); a counter itself never goes past its limit.
 * Ownership: quota_new/quota_free; the loader's arg is borrowed. Thread-safe. */
#ifndef BASALT_CORE_QUOTA_H
#define BASALT_CORE_QUOTA_H

#include <stdint.h>

#include "store/counters.h"
#include "util/err.h"
#include "util/strbuf.h"

#define QUOTA_UNLIMITED (-1)

/* Fills *used with what scope_id used of the metric in [from_ms, to_ms): scope is "org" or "project". */
typedef int (*quota_loader)(void *arg, const char *scope, const char *scope_id, int64_t from_ms, int64_t to_ms, int64_t *used,
                            bs_err *err);

typedef struct quota quota;

typedef enum quota_window { QUOTA_MONTH = 0, QUOTA_DAY = 1 } quota_window;

/* What admission decided and the numbers a client is told (X-RateLimit-*, the 429 body). */
typedef struct quota_verdict {
    int admitted;
    int limited;             /* 0: no limit applies (unlimited plan, no daily cap) */
    quota_window window;     /* the tightest limit (refused: the one that refused) */
    int64_t limit, used;     /* used: after this call when admitted */
    int64_t reset_at_ms;     /* start of the next month / day (UTC) */
    int crossed;             /* monthly thresholds this very call reached: QUOTA_CROSSED_80 | QUOTA_CROSSED_100 */
} quota_verdict;

#define QUOTA_CROSSED_80 1
#define QUOTA_CROSSED_100 2

/* load may be NULL (counters start at 0). NULL on allocation failure. */
quota *quota_new(quota_loader load, void *arg);
void quota_free(quota *q);
/* Admits one API call of project_id (of org_id) at now_ms under month_limit and day_limit (either
 * QUOTA_UNLIMITED). -1 only when a counter could not be loaded (err filled); a refusal is a verdict. */
int quota_admit(quota *q, const char *org_id, const char *project_id, int64_t month_limit, int64_t day_limit, int64_t now_ms,
                quota_verdict *out, bs_err *err);
/* Decides in shared counters (borrowed; outlives q) from now on, failing open for up to fail_open_ms
 * (0: fail closed at once). Call before the first quota_admit. */
void quota_set_shared(quota *q, store_counters *shared, int64_t fail_open_ms);
/* The same fail-open choice for the other decisions taken in the shared counters (the auth limits of
 * api/v1/auth/limits.h): after a failure of Redis (cause), 1 to decide locally (within the fail-open time
 * of the outage's start), 0 to refuse (err: 503 common/unavailable). One outage state and the same
 * basalt_redis_fail_open_total / basalt_redis_fail_closed_total counters as API calls; what names the
 * decisions in the log line. Only with shared counters. */
int quota_shared_failed(quota *q, int64_t now_ms, const char *what, const bs_err *cause, bs_err *err);
/* A decision in the shared counters worked: the outage, if any, is over. */
void quota_shared_answered(quota *q);
/* How calls are admitted now: "local" (no shared counters), "shared", "fail-open" or "fail-closed". */
const char *quota_admission_mode(quota *q, int64_t now_ms);
/* basalt_redis_* lines for /metrics (nothing without shared counters). */
int quota_render_prometheus(quota *q, strbuf *out);
/* The UTC bounds of the month / day holding now_ms. */
void quota_window_bounds(quota_window w, int64_t now_ms, int64_t *from_ms, int64_t *to_ms);

#endif
