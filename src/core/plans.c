/* plans: the plan table (platform.md §3.1, §2.3). maxProjects is not numeric in the spec: Free 2,
 * Starter 5, Growth 20, Enterprise unlimited (issue "Platform", documented in docs/platform.md). */
#include "core/plans.h"

#include <string.h>

#include <stddef.h>
#include <strings.h>

#define GB (1024LL * 1024 * 1024)

static const plan plans[] = {
    {"free", 0, 1, PLAN_ENV_DEV, 2, 10000, 1 * GB, 1000, 5 * GB, 0},
    {"starter", 1, 3, PLAN_ENV_DEV | PLAN_ENV_STAGING | PLAN_ENV_PROD, 5, 100000, 10 * GB, 10000, 50 * GB, PLAN_FEATURE_WEBHOOKS},
    {"growth", 2, 10, PLAN_ENV_DEV | PLAN_ENV_STAGING | PLAN_ENV_PROD | PLAN_ENV_CUSTOM, 20, 1000000, 100 * GB, 100000, 500 * GB,
     PLAN_FEATURE_WEBHOOKS | PLAN_FEATURE_CUSTOM_DOMAIN | PLAN_FEATURE_ADVANCED_ANALYTICS},
    {"enterprise", 3, PLAN_UNLIMITED, PLAN_ENV_DEV | PLAN_ENV_STAGING | PLAN_ENV_PROD | PLAN_ENV_CUSTOM, PLAN_UNLIMITED, PLAN_UNLIMITED,
     PLAN_UNLIMITED, PLAN_UNLIMITED, PLAN_UNLIMITED,
     PLAN_FEATURE_WEBHOOKS | PLAN_FEATURE_CUSTOM_DOMAIN | PLAN_FEATURE_SSO | PLAN_FEATURE_ADVANCED_ANALYTICS | PLAN_FEATURE_PRIORITY_SUPPORT},
};
#define NPLANS ((int)(sizeof plans / sizeof plans[0]))

const plan *plan_find(const char *name)
{
    for (int i = 0; name && i < NPLANS; i++)
        if (!strcasecmp(plans[i].name, name)) return &plans[i];
    return NULL;
}

const plan *plan_all(int *n)
{
    *n = NPLANS;
    return plans;
}

unsigned plan_env_type_bit(const char *type)
{
    static const struct { const char *name; unsigned bit; } types[] = {
        {"dev", PLAN_ENV_DEV}, {"staging", PLAN_ENV_STAGING}, {"prod", PLAN_ENV_PROD}, {"custom", PLAN_ENV_CUSTOM}};
    for (size_t i = 0; type && i < sizeof types / sizeof types[0]; i++)
        if (!strcasecmp(types[i].name, type)) return types[i].bit;
    return 0;
}

int plan_allows_one_more(int64_t limit, int64_t count)
{
    return limit == PLAN_UNLIMITED || count + 1 <= limit;
}

int64_t plan_metric_limit(const plan *p, const char *metric)
{
    if (!p || !metric) return PLAN_UNLIMITED;
    if (!strcmp(metric, "api_call")) return p->api_calls;
    if (!strcmp(metric, "storage")) return p->storage_bytes;
    if (!strcmp(metric, "mau")) return p->mau;
    if (!strcmp(metric, "bandwidth")) return p->bandwidth_bytes;
    return PLAN_UNLIMITED;
}

int64_t plan_limit_with(const plan *p, const char *metric, int64_t override)
{
    return override >= 0 ? override : plan_metric_limit(p, metric);
}
