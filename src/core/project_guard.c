#include "core/project_guard.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/netrules.h"
#include "util/clock.h"
#include "util/hash.h"

#define GUARD_SLOTS 1024 /* direct-mapped by a hash of the project id */
#define GUARD_LOCKS 64

typedef struct guard_slot {
    char project_id[STORE_ID_MAX];
    int64_t fetched_us; /* monotonic; 0 = empty */
    netrules *rules;    /* NULL: the project has none */
    int64_t daily_limit; /* apiCallLimit, -1 none */
} guard_slot;

struct project_guard {
    store_control *store;
    int64_t ttl_us;
    pthread_rwlock_t locks[GUARD_LOCKS]; /* read: checks; write: (re)filling a slot */
    guard_slot slots[GUARD_SLOTS];
};

project_guard *project_guard_new(store_control *store, int ttl_ms)
{
    project_guard *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->store = store;
    g->ttl_us = (int64_t)(ttl_ms > 0 ? ttl_ms : 1000) * 1000;
    for (int i = 0; i < GUARD_LOCKS; i++) pthread_rwlock_init(&g->locks[i], NULL);
    return g;
}

void project_guard_free(project_guard *g)
{
    if (!g) return;
    for (int i = 0; i < GUARD_LOCKS; i++) pthread_rwlock_destroy(&g->locks[i]);
    for (int i = 0; i < GUARD_SLOTS; i++) free(g->slots[i].rules);
    free(g);
}

static size_t slot_of(const char *project_id)
{
    return (size_t)(hash64_str(project_id) % GUARD_SLOTS);
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

/* Checks under the slot's lock; -1 when the slot does not hold a fresh entry for project_id. */
static int slot_check(project_guard *g, guard_slot *slot, const char *project_id, const char *origin, const char *ip,
                      int64_t *daily_limit)
{
    if (!slot->fetched_us || strcmp(slot->project_id, project_id) != 0 || clock_mono_us() - slot->fetched_us >= g->ttl_us) return -1;
    *daily_limit = slot->daily_limit;
    return rules_check(slot->rules, origin, ip);
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
    size_t s = slot_of(project_id);
    pthread_rwlock_t *lock = &g->locks[s % GUARD_LOCKS];
    guard_slot *slot = &g->slots[s];
    pthread_rwlock_rdlock(lock);
    int v = slot_check(g, slot, project_id, origin, ip, daily_limit);
    pthread_rwlock_unlock(lock);
    if (v >= 0) return verdict(v, origin_refused, err);
    netrules *rules = NULL;
    if (rules_load(g, project_id, &rules, daily_limit, err) < 0) return -1;
    v = rules_check(rules, origin, ip);
    pthread_rwlock_wrlock(lock);
    free(slot->rules);
    slot->rules = rules;
    slot->daily_limit = *daily_limit;
    snprintf(slot->project_id, sizeof slot->project_id, "%s", project_id);
    slot->fetched_us = clock_mono_us();
    pthread_rwlock_unlock(lock);
    return verdict(v, origin_refused, err);
}

void project_guard_forget(project_guard *g, const char *project_id)
{
    size_t s = slot_of(project_id);
    pthread_rwlock_wrlock(&g->locks[s % GUARD_LOCKS]);
    if (strcmp(g->slots[s].project_id, project_id) == 0) g->slots[s].fetched_us = 0;
    pthread_rwlock_unlock(&g->locks[s % GUARD_LOCKS]);
}
