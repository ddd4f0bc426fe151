/* usage_cache: an organization's use of a monthly metric (storage, MAU, bandwidth) as of a few seconds
 * ago, for the quota checks that need not be exact to the call (design.md §4: storage refuses new
 * uploads, MAU refuses sign-ins of users new this month, bandwidth refuses downloads and data bodies).
 * A value is read through the loader (the usage rows) at most once per ttl_ms per (organization, metric);
 * in between, checks cost a lookup under a read lock. It also remembers which alert thresholds were
 * already raised this month, so a threshold is raised once per process, not on every call.
 * Ownership: usage_cache_new/usage_cache_free; the loader's arg is borrowed. Thread-safe. */
#ifndef BASALT_CORE_USAGE_CACHE_H
#define BASALT_CORE_USAGE_CACHE_H

#include <stdint.h>

#include "util/err.h"

typedef int (*usage_cache_loader)(void *arg, const char *org_id, const char *metric, int64_t from_ms, int64_t to_ms,
                                  int64_t *used, bs_err *err);

typedef struct usage_cache usage_cache;

usage_cache *usage_cache_new(usage_cache_loader load, void *arg, int64_t ttl_ms);
void usage_cache_free(usage_cache *c);
/* What org_id used of metric this UTC month as of at most ttl_ms ago (now_ms: the caller's clock). */
int usage_cache_get(usage_cache *c, const char *org_id, const char *metric, int64_t now_ms, int64_t *used, bs_err *err);
/* 1 the first time (per process and month) threshold (80 or 100) is claimed for (org_id, metric). */
int usage_cache_claim_alert(usage_cache *c, const char *org_id, const char *metric, int threshold, int64_t now_ms);

#endif
