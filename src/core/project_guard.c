#include "core/project_guard.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/netrules.h"
#include "util/cache.h"
#include "util/clock.h"

#define GUARD_SLOTS 1024 /* direct-mapped by a hash of the project id */
#define GUARD_LOCKS 64

/* A project's cached guard. It owns rules (freed by the cache through guard_free_value). */
typedef struct guard_value {
    netrules *rules;     /* NULL: the project has none */
    int64_t daily_limit; /* apiCallLimit, -1 none */
} guard_value;

struct project_guard {
    store_control *store;
    cache *projects; /* project id -> guard_value; read lock: checks, write lock: (re)filling */
};

static void guard_free_value(void *value)
{
    free(((guard_value *)value)->rules);
}

project_guard *project_guard_new(store_control *store, int ttl_ms)
{
    project_guard *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    int64_t ttl_us = (int64_t)(ttl_ms > 0 ? ttl_ms : 1000) * 1000;
    g->projects = cache_new(GUARD_SLOTS, GUARD_LOCKS, sizeof(guard_value), ttl_us, guard_free_value);
    if (!g->projects) {
        free(g);
        return NULL;
    }
    g->store = store;
    return g;
}

void project_guard_free(project_guard *g)
{
    if (!g) return;
    cache_free(g->projects);
    free(g);
}

/* The settings' apiCallLimit: a positive integer, else -1. */
static int64_t daily_limit_of(const char *settings)
{
    struct json_object *s = json_tokener_parse(settings[0] ? settings : "{}"), *v;
    int64_t limit = -1;
    if (json_object_object_get_ex(s, "apiCallLimit", &v) && json_object_is_type(v, json_type_int) && json_object_get_int64(v) > 0)
        limit = json_object_get_int64(v);
    json_object_put(s);
    return limit;
}

/* Reads the project's rules (*rules = NULL when it has none) and daily limit. */
static int rules_load(project_guard *g, const char *project_id, netrules **rules, int64_t *daily_limit, bs_err *err)
{
    store_project *p = malloc(sizeof *p);
    netrules *r = malloc(sizeof *r);
    int found = 0, rc = p && r ? store_control_project_get(g->store, project_id, p, &found, err) : bs_err_internal(err);
    *daily_limit = rc == 0 && found ? daily_limit_of(p->settings) : -1;
    if (rc == 0 && found && netrules_parse(p->settings, r)) {
        *rules = r;
        r = NULL;
    } else {
        *rules = NULL;
    }
    free(r);
    free(p);
    return rc;
}

/* 0 allowed, 1 origin refused, 2 address refused. */
static int rules_check(const netrules *rules, const char *origin, const char *ip)
{
    if (!rules) return 0;
    if (!netrules_origin_allowed(rules, origin)) return 1;
    return netrules_ip_allowed(rules, ip) ? 0 : 2;
}

/* What a check asks of a cached guard_value, and what it answers. */
typedef struct guard_query {
    const char *origin, *ip;
    int64_t daily_limit;
} guard_query;

/* A cache reader (under the stripe's read lock): the verdict of rules_check, and the daily limit. */
static int cached_check(const void *value, void *arg)
{
    const guard_value *v = value;
    guard_query *q = arg;
    q->daily_limit = v->daily_limit;
    return rules_check(v->rules, q->origin, q->ip);
}

static int verdict(int v, int *origin_refused, bs_err *err)
{
    *origin_refused = v == 1;
    if (v == 1) return bs_err_set(err, 403, "cors/origin-not-allowed", "This origin may not call the project's API");
    if (v == 2) return bs_err_set(err, 403, "org/ip-not-allowed", "This address may not call the project's API");
    return 0;
}

int project_guard_check(project_guard *g, const char *project_id, const char *origin, const char *ip, int *origin_refused,
                        bs_err *err)
{
    int64_t daily_limit;
    return project_guard_check_limit(g, project_id, origin, ip, origin_refused, &daily_limit, err);
}

int project_guard_check_limit(project_guard *g, const char *project_id, const char *origin, const char *ip, int *origin_refused,
                              int64_t *daily_limit, bs_err *err)
{
    guard_query q = {.origin = origin, .ip = ip, .daily_limit = -1};
    int v = cache_read(g->projects, project_id, clock_mono_us(), cached_check, &q);
    if (v >= 0) {
        *daily_limit = q.daily_limit;
        return verdict(v, origin_refused, err);
    }
    guard_value loaded = {.rules = NULL, .daily_limit = -1};
    if (rules_load(g, project_id, &loaded.rules, daily_limit, err) < 0) return -1;
    loaded.daily_limit = *daily_limit;
    v = rules_check(loaded.rules, origin, ip);
    cache_put(g->projects, project_id, clock_mono_us(), &loaded); /* the cache owns loaded.rules from here */
    return verdict(v, origin_refused, err);
}

void project_guard_forget(project_guard *g, const char *project_id)
{
    cache_invalidate(g->projects, project_id);
}

static int any(const char *key, const void *value, void *arg)
{
    (void)key, (void)value, (void)arg;
    return 1;
}

void project_guard_forget_all(project_guard *g)
{
    cache_invalidate_if(g->projects, any, NULL);
}
