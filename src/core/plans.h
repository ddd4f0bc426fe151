/* plans: the four plans of platform.md §3.1 as data — environment types and counts, monthly quotas,
 * projects per organization and feature flags — with the checks that use them. One table; nothing else
 * in the code spells a plan's numbers. Pure; no allocation. */
#ifndef BASALT_CORE_PLANS_H
#define BASALT_CORE_PLANS_H

#include <stdint.h>

#define PLAN_UNLIMITED (-1)

typedef enum plan_feature {
    PLAN_FEATURE_WEBHOOKS = 1 << 0,
    PLAN_FEATURE_CUSTOM_DOMAIN = 1 << 1,
    PLAN_FEATURE_SSO = 1 << 2,
    PLAN_FEATURE_ADVANCED_ANALYTICS = 1 << 3,
    PLAN_FEATURE_PRIORITY_SUPPORT = 1 << 4,
} plan_feature;

typedef enum plan_env_type { PLAN_ENV_DEV = 1 << 0, PLAN_ENV_STAGING = 1 << 1, PLAN_ENV_PROD = 1 << 2, PLAN_ENV_CUSTOM = 1 << 3 } plan_env_type;

typedef struct plan {
    const char *name;          /* free | starter | growth | enterprise */
    int rank;                  /* 0..3: a higher rank is an upgrade */
    int64_t max_environments;  /* per project (design.md §4); PLAN_UNLIMITED */
    unsigned env_types;        /* plan_env_type bits allowed */
    int64_t max_projects;      /* per organization */
    int64_t api_calls;         /* per calendar month (UTC), organization */
    int64_t storage_bytes;
    int64_t mau;
    int64_t bandwidth_bytes;   /* per calendar month */
    unsigned features;         /* plan_feature bits */
} plan;

/* The plan of that name (case-insensitive), or NULL. */
const plan *plan_find(const char *name);
/* All plans, by rank; *n = 4. */
const plan *plan_all(int *n);
/* The plan_env_type bit of an environment type name ("dev", ...), 0 for an unknown one. */
unsigned plan_env_type_bit(const char *type);
/* The plan's monthly limit of a metric (api_call, storage, mau, bandwidth); PLAN_UNLIMITED for an
 * unlimited one, a metric without a limit, or no plan. */
int64_t plan_metric_limit(const plan *p, const char *metric);
/* The limit in force: an operator's override (>= 0) wins over the plan's. */
int64_t plan_limit_with(const plan *p, const char *metric, int64_t override);
/* 1 when the limit allows count + 1 (PLAN_UNLIMITED allows everything). */
int plan_allows_one_more(int64_t limit, int64_t count);

#endif
