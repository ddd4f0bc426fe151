/* usage_load: how the in-memory quota counters (core/quota) and the usage cache (core/usage_cache) learn
 * what an organization used before this process started: sums of the metered usage rows in the control
 * store (docs/usage.md). Both are loaders of those modules; arg is the store_control (borrowed). */
#ifndef BASALT_CORE_USAGE_LOAD_H
#define BASALT_CORE_USAGE_LOAD_H

#include <stdint.h>

#include "util/err.h"

/* core/quota.h quota_loader: API calls of scope "org" (an organization) or "project" in [from_ms, to_ms). */
int usage_load_api_calls(void *arg, const char *scope, const char *scope_id, int64_t from_ms, int64_t to_ms, int64_t *used,
                         bs_err *err);
/* core/usage_cache.h usage_cache_loader: the organization's metric in [from_ms, to_ms). */
int usage_load_metric(void *arg, const char *org_id, const char *metric, int64_t from_ms, int64_t to_ms, int64_t *used,
                      bs_err *err);

#endif
