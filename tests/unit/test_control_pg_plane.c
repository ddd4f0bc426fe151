/* Unit tests of the PostgreSQL control driver's management plane (store/postgres/control_pg_plane.c):
 * organization and project updates, lists and deletions; environment lists, status, inactivity (touch,
 * idle shutdown, deletions due, cancel); placement (dev environments share a cluster up to its capacity,
 * the spare opens, reclaimed slots are reused first in first out, dedicated clusters come and go, and
 * concurrent placements from two handles never share a slot); the activity log's paging and filters; the
 * outbox; OAuth providers; settings. The core ops are another part's, so rows are inserted with SQL. Needs
 * BASALT_TEST_PG_URL (tests/pg/with-pg.sh); skipped without it. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pg_fixture.h"
#include "store/control.h"
#include "store/postgres/control_pg.h"
#include "store/postgres/control_pg_parts.h"

#define OPS store_pg_control_ops

typedef struct fx {
    char url[512];
    pgc *d;
} fx;

static fx F;

static int setup(void **state)
{
    (void)state;
    memset(&F, 0, sizeof F);
    int rc = pg_fixture_url(F.url, sizeof F.url);
    if (rc == 0) return 0; /* no server: every test skips */
    if (rc < 0) return -1;
    bs_err err = {0};
    F.d = pgc_driver_open(F.url, &err);
    if (!F.d) return -1;
    pgc_fill_plane(&store_pg_control_ops);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pgc_driver_free(F.d);
    F.d = NULL;
    return 0;
}

static void need_server(void)
{
    if (!F.d) skip();
}

/* Runs sql with text parameters on the fixture's pool; asserts it worked. */
static void sql(const char *text, int n, const char *const *params)
{
    bs_err err = {0};
    assert_int_equal(pg_command1(F.d->pool, "test", text, n, params, NULL, &err), 0);
}

/* One text cell of a one-row query into out (cap bytes). */
static void cell(const char *text, int n, const char *const *params, char *out, size_t cap)
{
    bs_err err = {0};
    PGresult *r = pg_exec1(F.d->pool, "test", text, n, params, &err);
    assert_non_null(r);
    assert_int_equal(PQntuples(r), 1);
    snprintf(out, cap, "%s", PQgetisnull(r, 0, 0) ? "<null>" : PQgetvalue(r, 0, 0));
    PQclear(r);
}

static void add_org(const char *id)
{
    const char *p[] = {id};
    sql("INSERT INTO organizations (id, name, slug, created_at, updated_at) VALUES ($1, 'Org', $1, 1, 1)", 1, p);
}

static void add_project(const char *id, const char *org, const char *created)
{
    const char *p[] = {id, org, created};
    sql("INSERT INTO projects (id, organization_id, name, slug, created_at, updated_at) VALUES ($1, $2, 'P', $1, $3::bigint, 1)",
        3, p);
}

static void add_env(const char *id, const char *project, const char *type, const char *status, const char *created)
{
    const char *p[] = {id, project, type, status, created};
    sql("INSERT INTO environments (id, project_id, name, type, status, created_at, updated_at)"
        " VALUES ($1, $2, $1, $3, $4, $5::bigint, $5::bigint)",
        5, p);
}

/* org, project and one dev environment per id of envs. */
static void add_tree(const char *const *envs, size_t n)
{
    add_org("org_1");
    add_project("prj_1", "org_1", "1");
    for (size_t i = 0; i < n; i++) add_env(envs[i], "prj_1", "dev", "ready", "1");
}

static void test_org_plane(void **state)
{
    (void)state;
    need_server();
    bs_err err = {0};
    int found = -1;
    add_org("org_1");
    store_org o = {0};
    snprintf(o.id, sizeof o.id, "org_1");
    snprintf(o.name, sizeof o.name, "Renamed");
    snprintf(o.display_name, sizeof o.display_name, "Shown");
    snprintf(o.plan, sizeof o.plan, "growth");
    snprintf(o.status, sizeof o.status, "active");
    o.updated_at = 99;
    o.api_call_quota = 5000;
    o.storage_quota = o.mau_quota = o.bandwidth_quota = -1;
    assert_int_equal(OPS.org_update(F.d, &o, &found, &err), 0);
    assert_int_equal(found, 1);
    char v[256];
    const char *id[] = {"org_1"};
    cell("SELECT name || '|' || plan || '|' || coalesce(notification_email, '<null>') || '|' || api_call_quota || '|'"
         " || coalesce(storage_quota::text, 'null') || '|' || updated_at FROM organizations WHERE id = $1",
         1, id, v, sizeof v);
    assert_string_equal(v, "Renamed|growth|<null>|5000|null|99");
    snprintf(o.id, sizeof o.id, "org_none");
    assert_int_equal(OPS.org_update(F.d, &o, &found, &err), 0);
    assert_int_equal(found, 0);
}

static void test_project_plane(void **state)
{
    (void)state;
    need_server();
    bs_err err = {0};
    int found = -1;
    add_org("org_1");
    add_project("prj_b", "org_1", "20");
    add_project("prj_a", "org_1", "10");
    add_project("prj_c", "org_1", "10");
    store_project ps[4];
    size_t count = 9;
    assert_int_equal(OPS.project_list(F.d, "org_1", ps, 4, &count, &err), 0);
    assert_int_equal(count, 3);
    assert_string_equal(ps[0].id, "prj_a"); /* oldest first, then by id */
    assert_string_equal(ps[1].id, "prj_c");
    assert_string_equal(ps[2].id, "prj_b");
    assert_string_equal(ps[0].settings, "{}");
    assert_string_equal(ps[0].primary_cloud, "");
    assert_int_equal(OPS.project_list(F.d, "org_1", ps, 2, &count, &err), 0);
    assert_int_equal(count, 2);

    store_project p = ps[0];
    snprintf(p.status, sizeof p.status, "deleted");
    snprintf(p.settings, sizeof p.settings, "{\"a\":1}");
    snprintf(p.primary_cloud, sizeof p.primary_cloud, "aws");
    p.updated_at = 7;
    assert_int_equal(OPS.project_update(F.d, &p, &found, &err), 0);
    assert_int_equal(found, 1);
    int64_t n = -1;
    assert_int_equal(OPS.project_count(F.d, "org_1", &n, &err), 0);
    assert_int_equal(n, 2); /* deleted ones are not counted */
    assert_int_equal(OPS.project_list(F.d, "org_1", ps, 1, &count, &err), 0);
    assert_string_equal(ps[0].settings, "{\"a\":1}");
    assert_string_equal(ps[0].primary_cloud, "aws");
    assert_string_equal(ps[0].status, "deleted");

    assert_int_equal(OPS.project_delete(F.d, "prj_b", &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(OPS.project_delete(F.d, "prj_b", &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(OPS.org_delete(F.d, "org_1", &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(OPS.project_list(F.d, "org_1", ps, 4, &count, &err), 0);
    assert_int_equal(count, 0); /* cascaded */
    assert_int_equal(OPS.project_count(F.d, "org_1", &n, &err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(OPS.org_delete(F.d, "org_1", &found, &err), 0);
    assert_int_equal(found, 0);
}

static void test_env_list_and_status(void **state)
{
    (void)state;
    need_server();
    bs_err err = {0};
    add_org("org_1");
    add_project("prj_1", "org_1", "1");
    add_env("env_b", "prj_1", "dev", "ready", "5");
    add_env("env_a", "prj_1", "prod", "creating", "3");
    store_env e[3];
    size_t count = 0;
    assert_int_equal(OPS.env_list(F.d, "prj_1", e, 3, &count, &err), 0);
    assert_int_equal(count, 2);
    assert_string_equal(e[0].id, "env_a");
    assert_string_equal(e[0].cluster, "");
    assert_int_equal(e[0].last_access_at, 0);
    assert_int_equal(e[1].created_at, 5);
    int found = 0;
    assert_int_equal(OPS.env_set_status(F.d, "env_a", "ready", 42, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(OPS.env_set_status(F.d, "env_x", "ready", 42, &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(OPS.env_list(F.d, "prj_1", e, 1, &count, &err), 0);
    assert_int_equal(count, 1);
    assert_string_equal(e[0].status, "ready");
    assert_int_equal(e[0].updated_at, 42);
    assert_int_equal(OPS.envs_unplaced(F.d, e, 3, &count, &err), 0);
    assert_int_equal(count, 2);
    assert_string_equal(e[0].id, "env_a");
}

#define DAY 86400000LL

static void test_inactivity(void **state)
{
    (void)state;
    need_server();
    bs_err err = {0};
    add_org("org_1");
    add_project("prj_1", "org_1", "1");
    add_env("env_dev", "prj_1", "dev", "active", "0");
    add_env("env_prod", "prj_1", "prod", "ready", "0");
    add_env("env_new", "prj_1", "dev", "creating", "0");
    int react = -1;
    assert_int_equal(OPS.env_touch(F.d, "env_prod", 20 * DAY, &react, &err), 0);
    assert_int_equal(react, 0);
    int64_t n = -1;
    assert_int_equal(OPS.env_shutdown_idle(F.d, 10 * DAY, 7 * DAY, 30 * DAY, &n, &err), 0);
    assert_int_equal(n, 1); /* env_dev: idle 10 days > 7; env_new is not ready/active */
    store_env e[4];
    size_t count = 9;
    assert_int_equal(OPS.env_deletions_due(F.d, 16 * DAY, e, 4, &count, &err), 0);
    assert_int_equal(count, 0);
    assert_int_equal(OPS.env_deletions_due(F.d, 17 * DAY, e, 4, &count, &err), 0);
    assert_int_equal(count, 1);
    assert_string_equal(e[0].id, "env_dev");
    assert_string_equal(e[0].status, "shutdown");
    assert_int_equal(e[0].shutdown_at, 10 * DAY);
    assert_int_equal(e[0].delete_at, 17 * DAY);
    int found = -1;
    assert_int_equal(OPS.env_cancel_deletion(F.d, "env_dev", &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(OPS.env_cancel_deletion(F.d, "env_dev", &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(OPS.env_deletions_due(F.d, 40 * DAY, e, 4, &count, &err), 0);
    assert_int_equal(count, 0);
    /* a use brings it back to what it was */
    assert_int_equal(OPS.env_touch(F.d, "env_dev", 41 * DAY, &react, &err), 0);
    assert_int_equal(react, 1);
    assert_int_equal(OPS.env_list(F.d, "prj_1", e, 4, &count, &err), 0);
    assert_int_equal(count, 3);
    assert_string_equal(e[0].id, "env_dev");
    assert_string_equal(e[0].status, "active");
    assert_int_equal(e[0].last_access_at, 41 * DAY);
    assert_int_equal(e[0].shutdown_at, 0);
    assert_int_equal(e[0].delete_at, 0);
    /* the prod environment: its last use counts, and its period is 30 days */
    assert_int_equal(OPS.env_shutdown_idle(F.d, 47 * DAY, 7 * DAY, 30 * DAY, &n, &err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(OPS.env_shutdown_idle(F.d, 50 * DAY, 7 * DAY, 30 * DAY, &n, &err), 0);
    assert_int_equal(n, 2); /* prod (idle since day 20: 30 days) and dev (since day 41: 9 days) */
    assert_int_equal(OPS.env_touch(F.d, "env_none", 1, &react, &err), 0);
    assert_int_equal(react, 0);
}

static void place(const char *env, int dedicated, store_placement *out)
{
    bs_err err = {0};
    assert_int_equal(OPS.env_place(F.d, env, dedicated, 2, 100, out, &err), 0);
}

static void reclaim_and_reuse(void);

static void test_placement(void **state)
{
    (void)state;
    need_server();
    const char *envs[] = {"env_1", "env_2", "env_3", "env_4", "env_5"};
    add_tree(envs, 5);
    store_placement p;
    place("env_1", 0, &p); /* no cluster yet: the spare opens, a new spare stands by */
    assert_string_equal(p.cluster_id, "shared-1");
    assert_string_equal(p.kind, "shared");
    assert_int_equal(p.slot, 0);
    assert_int_equal(p.reused, 0);
    place("env_2", 0, &p); /* shares it up to its capacity */
    assert_string_equal(p.cluster_id, "shared-1");
    assert_int_equal(p.slot, 1);
    place("env_3", 0, &p); /* full: the spare opens */
    assert_string_equal(p.cluster_id, "shared-2");
    assert_int_equal(p.slot, 0);
    place("env_2", 0, &p); /* already placed: the same place */
    assert_string_equal(p.cluster_id, "shared-1");
    assert_int_equal(p.slot, 1);
    place("env_4", 1, &p);
    assert_string_equal(p.cluster_id, "dedicated-env_4");
    assert_string_equal(p.kind, "dedicated");
    assert_int_equal(p.slot, 0);

    bs_err err = {0};
    store_cluster c[8];
    size_t count = 0;
    assert_int_equal(OPS.cluster_list(F.d, c, 8, &count, &err), 0);
    assert_int_equal(count, 4);
    assert_string_equal(c[0].id, "shared-1");
    assert_string_equal(c[0].status, "active");
    assert_int_equal(c[0].capacity, 2);
    assert_int_equal(c[0].used, 2);
    assert_string_equal(c[1].id, "shared-2");
    assert_int_equal(c[1].used, 1);
    assert_string_equal(c[2].id, "shared-3");
    assert_string_equal(c[2].status, "spare");
    assert_int_equal(c[2].used, 0);
    assert_string_equal(c[3].id, "dedicated-env_4");
    assert_int_equal(c[3].capacity, 1);

    int found = 0;
    assert_int_equal(OPS.env_placement(F.d, "env_3", &p, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(p.cluster_id, "shared-2");
    assert_int_equal(OPS.env_placement(F.d, "env_5", &p, &found, &err), 0);
    assert_int_equal(found, 0);
    assert_string_equal(p.cluster_id, "");
    store_env e[8];
    assert_int_equal(OPS.envs_unplaced(F.d, e, 8, &count, &err), 0);
    assert_int_equal(count, 1);
    assert_string_equal(e[0].id, "env_5");
    assert_int_equal(OPS.env_list(F.d, "prj_1", e, 8, &count, &err), 0);
    assert_string_equal(e[1].cluster, "shared-1");
    assert_int_equal(e[1].slot, 1);
    reclaim_and_reuse();
}

/* After test_placement's first part: deleted environments free their slots, reused first in, first out;
 * a dedicated cluster goes. */
static void reclaim_and_reuse(void)
{
    bs_err err = {0};
    store_placement p;
    store_cluster c[8];
    size_t count = 0;
    const char *gone[] = {"env_2"};
    sql("DELETE FROM environments WHERE id = $1", 1, gone);
    int64_t n = 0;
    assert_int_equal(OPS.slots_reclaim(F.d, 200, &n, &err), 0);
    assert_int_equal(n, 1);
    gone[0] = "env_1";
    sql("DELETE FROM environments WHERE id = $1", 1, gone);
    assert_int_equal(pg_fixture_exec(F.url, "DELETE FROM environments WHERE id = 'env_4'"), 0);
    assert_int_equal(OPS.slots_reclaim(F.d, 300, &n, &err), 0);
    assert_int_equal(n, 1); /* env_1's slot; env_4's cluster was removed */
    assert_int_equal(OPS.slots_reclaim(F.d, 400, &n, &err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(OPS.cluster_list(F.d, c, 8, &count, &err), 0);
    assert_int_equal(count, 3);
    assert_int_equal(c[0].used, 0);
    place("env_5", 0, &p);
    assert_string_equal(p.cluster_id, "shared-1");
    assert_int_equal(p.slot, 1); /* freed at 200, before slot 0 (300) */
    assert_int_equal(p.reused, 1);
    assert_int_equal(OPS.cluster_list(F.d, c, 1, &count, &err), 0);
    assert_int_equal(count, 1);
    assert_int_equal(c[0].used, 1);
}

#define RACERS 6
#define RACE_ENVS 8

typedef struct racer {
    pgc *d;
    int index, failures;
    store_placement got[RACE_ENVS];
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    for (int i = 0; i < RACE_ENVS; i++) {
        char env[32];
        snprintf(env, sizeof env, "env_%d_%d", r->index, i);
        bs_err err = {0};
        if (OPS.env_place(r->d, env, i % 4 == 3, 3, 100 + i, &r->got[i], &err) != 0) r->failures++;
    }
    return NULL;
}

/* Two handles (as two processes) place at once from several threads: every slot is held once. */
static void test_concurrent_placement(void **state)
{
    (void)state;
    need_server();
    add_org("org_1");
    add_project("prj_1", "org_1", "1");
    for (int t = 0; t < RACERS; t++)
        for (int i = 0; i < RACE_ENVS; i++) {
            char env[32];
            snprintf(env, sizeof env, "env_%d_%d", t, i);
            add_env(env, "prj_1", "dev", "ready", "1");
        }
    bs_err err = {0};
    pgc *other = pgc_driver_open(F.url, &err);
    assert_non_null(other);
    racer r[RACERS];
    pthread_t th[RACERS];
    for (int t = 0; t < RACERS; t++) {
        memset(&r[t], 0, sizeof r[t]);
        r[t].d = t % 2 ? other : F.d;
        r[t].index = t;
        assert_int_equal(pthread_create(&th[t], NULL, race, &r[t]), 0);
    }
    for (int t = 0; t < RACERS; t++) pthread_join(th[t], NULL);
    pgc_driver_free(other);
    for (int t = 0; t < RACERS; t++) assert_int_equal(r[t].failures, 0);
    char v[64];
    cell("SELECT count(*) FROM cluster_slots WHERE environment_id IS NOT NULL", 0, NULL, v, sizeof v);
    assert_string_equal(v, "48");
    cell("SELECT count(DISTINCT cluster || ':' || slot) FROM environments WHERE cluster IS NOT NULL", 0, NULL, v, sizeof v);
    assert_string_equal(v, "48");
    cell("SELECT count(*) FROM clusters c WHERE capacity < (SELECT count(*) FROM cluster_slots s WHERE s.cluster_id = c.id)", 0,
         NULL, v, sizeof v);
    assert_string_equal(v, "0");
    cell("SELECT count(*) FROM clusters WHERE status = 'spare'", 0, NULL, v, sizeof v);
    assert_string_equal(v, "1");
    /* 36 shared environments in clusters of 3: 12 full clusters, no gap */
    cell("SELECT count(*) FROM clusters WHERE kind = 'shared' AND status = 'active'", 0, NULL, v, sizeof v);
    assert_string_equal(v, "12");
}

static void add_activity(const char *entity_type, const char *action, const char *message, int64_t at)
{
    store_activity a = {0};
    snprintf(a.organization_id, sizeof a.organization_id, "org_1");
    snprintf(a.actor, sizeof a.actor, "tok_1");
    snprintf(a.actor_type, sizeof a.actor_type, "token");
    snprintf(a.entity_type, sizeof a.entity_type, "%s", entity_type);
    snprintf(a.entity_id, sizeof a.entity_id, "x");
    snprintf(a.action, sizeof a.action, "%s", action);
    snprintf(a.message, sizeof a.message, "%s", message);
    a.at = at;
    bs_err err = {0};
    assert_int_equal(OPS.activity_add(F.d, &a, &err), 0);
}

static void test_activity_paging(void **state)
{
    (void)state;
    need_server();
    add_org("org_1");
    add_activity("project", "create", "Created project Alpha", 10);
    add_activity("project", "update", "Renamed project ALPHA_1", 20);
    add_activity("key", "create", "Created key 50% off", 20);
    add_activity("environment", "delete", "Deleted environment beta", 30);
    add_activity("project", "delete", "Deleted project gamma", 40);
    store_activity out[8];
    size_t count = 0;
    int64_t total = 0;
    bs_err err = {0};
    store_activity_query q = {.organization_id = "org_1", .limit = 2, .offset = 1};
    assert_int_equal(OPS.activity_list(F.d, &q, out, &count, &total, &err), 0);
    assert_int_equal(total, 5);
    assert_int_equal(count, 2);
    assert_string_equal(out[0].message, "Deleted environment beta");
    assert_string_equal(out[1].message, "Created key 50% off"); /* same time: the later id first */
    assert_true(out[1].id > 0);
    assert_string_equal(out[1].project_id, "");
    assert_int_equal(out[1].at, 20);
    q = (store_activity_query){.organization_id = "org_1", .limit = 10, .entity_type = "project"};
    assert_int_equal(OPS.activity_list(F.d, &q, out, &count, &total, &err), 0);
    assert_int_equal(total, 3);
    assert_int_equal(count, 3);
    assert_true(out[2].id < out[1].id);
    q = (store_activity_query){.organization_id = "org_1", .limit = 10, .search = "alpha"};
    assert_int_equal(OPS.activity_list(F.d, &q, out, &count, &total, &err), 0);
    assert_int_equal(total, 2); /* case-insensitive substring */
    q.search = "_1";            /* no wildcards: '_' and '%' are themselves */
    assert_int_equal(OPS.activity_list(F.d, &q, out, &count, &total, &err), 0);
    assert_int_equal(total, 1);
    q.search = "0%";
    assert_int_equal(OPS.activity_list(F.d, &q, out, &count, &total, &err), 0);
    assert_int_equal(total, 1);
    assert_string_equal(out[0].entity_type, "key");
    q = (store_activity_query){.organization_id = "org_1", .limit = 10, .action = "delete", .entity_type = "project"};
    assert_int_equal(OPS.activity_list(F.d, &q, out, &count, &total, &err), 0);
    assert_int_equal(total, 1);
    assert_string_equal(out[0].message, "Deleted project gamma");
    q = (store_activity_query){.organization_id = "org_1", .limit = 10, .offset = 10};
    assert_int_equal(OPS.activity_list(F.d, &q, out, &count, &total, &err), 0);
    assert_int_equal(count, 0);
    assert_int_equal(total, 5);
    q = (store_activity_query){.organization_id = "org_2", .limit = 10};
    assert_int_equal(OPS.activity_list(F.d, &q, out, &count, &total, &err), 0);
    assert_int_equal(total, 0);
}

static void add_mail(const char *id, const char *env, const char *org, int64_t at)
{
    store_mail m = {0};
    snprintf(m.id, sizeof m.id, "%s", id);
    snprintf(m.environment_id, sizeof m.environment_id, "%s", env);
    snprintf(m.organization_id, sizeof m.organization_id, "%s", org);
    snprintf(m.to, sizeof m.to, "a@example.com");
    snprintf(m.subject, sizeof m.subject, "Subject %s", id);
    snprintf(m.body, sizeof m.body, "Body");
    snprintf(m.template_name, sizeof m.template_name, "verify");
    m.created_at = at;
    bs_err err = {0};
    assert_int_equal(OPS.outbox_add(F.d, &m, &err), 0);
}

static void test_outbox(void **state)
{
    (void)state;
    need_server();
    const char *envs[] = {"env_1"};
    add_tree(envs, 1);
    add_mail("m_2", "env_1", "", 5);
    add_mail("m_1", "env_1", "", 5);
    add_mail("m_0", "env_1", "", 1);
    add_mail("o_1", "", "org_1", 3);
    store_mail out[4];
    size_t count = 0;
    bs_err err = {0};
    assert_int_equal(OPS.outbox_list(F.d, "env_1", out, 4, &count, &err), 0);
    assert_int_equal(count, 3);
    assert_string_equal(out[0].id, "m_1"); /* newest first; same time: the later one */
    assert_string_equal(out[1].id, "m_2");
    assert_string_equal(out[2].id, "m_0");
    assert_string_equal(out[0].environment_id, "env_1");
    assert_string_equal(out[0].organization_id, "");
    assert_string_equal(out[0].subject, "Subject m_1");
    assert_string_equal(out[0].template_name, "verify");
    assert_int_equal(OPS.outbox_list(F.d, "env_1", out, 1, &count, &err), 0);
    assert_int_equal(count, 1);
    assert_int_equal(OPS.org_outbox_list(F.d, "org_1", out, 4, &count, &err), 0);
    assert_int_equal(count, 1);
    assert_string_equal(out[0].organization_id, "org_1");
    assert_string_equal(out[0].environment_id, "");
    assert_int_equal(out[0].created_at, 3);
    store_mail m = {0};
    snprintf(m.id, sizeof m.id, "m_x");
    snprintf(m.environment_id, sizeof m.environment_id, "env_none");
    assert_int_equal(OPS.outbox_add(F.d, &m, &err), -1);
    assert_int_equal(err.status, 409);
}

static void test_providers_and_settings(void **state)
{
    (void)state;
    need_server();
    const char *envs[] = {"env_1"};
    add_tree(envs, 1);
    bs_err err = {0};
    store_provider p = {0};
    snprintf(p.environment_id, sizeof p.environment_id, "env_1");
    snprintf(p.provider, sizeof p.provider, "github");
    snprintf(p.client_id, sizeof p.client_id, "cid");
    snprintf(p.secret_sealed, sizeof p.secret_sealed, "sealed");
    snprintf(p.redirect_uris, sizeof p.redirect_uris, "[\"https://a\"]");
    p.enabled = 1;
    p.updated_at = 5;
    assert_int_equal(OPS.provider_put(F.d, &p, &err), 0);
    p.enabled = 0;
    p.updated_at = 6;
    snprintf(p.client_id, sizeof p.client_id, "cid2");
    assert_int_equal(OPS.provider_put(F.d, &p, &err), 0); /* replaces */
    store_provider got;
    int found = 0;
    assert_int_equal(OPS.provider_get(F.d, "env_1", "github", &got, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(got.client_id, "cid2");
    assert_string_equal(got.secret_sealed, "sealed");
    assert_string_equal(got.redirect_uris, "[\"https://a\"]");
    assert_int_equal(got.enabled, 0);
    assert_int_equal(got.updated_at, 6);
    assert_int_equal(OPS.provider_get(F.d, "env_1", "google", &got, &found, &err), 0);
    assert_int_equal(found, 0);

    char v[16];
    assert_int_equal(OPS.setting_get(F.d, "env_1", "auth", v, sizeof v, &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(OPS.setting_put(F.d, "env_1", "auth", "{\"a\":1}", 1, &err), 0);
    assert_int_equal(OPS.setting_put(F.d, "env_1", "auth", "{\"a\":2}", 2, &err), 0);
    assert_int_equal(OPS.setting_get(F.d, "env_1", "auth", v, sizeof v, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(v, "{\"a\":2}");
    char small[4];
    assert_int_equal(OPS.setting_get(F.d, "env_1", "auth", small, sizeof small, &found, &err), -1);
    assert_int_equal(found, 0);
    assert_int_equal(err.status, 500);
    assert_int_equal(OPS.setting_delete(F.d, "env_1", "auth", &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(OPS.setting_delete(F.d, "env_1", "auth", &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(OPS.setting_put(F.d, "env_none", "auth", "{}", 1, &err), -1);
    assert_int_equal(err.status, 409);
}

/* A stored value longer than its buffer fails the list (500, *count = 0) rather than being cut short. */
static void test_too_long_fails(void **state)
{
    (void)state;
    need_server();
    add_org("org_1");
    add_project("prj_1", "org_1", "1");
    sql("UPDATE projects SET name = repeat('n', 500)", 0, NULL);
    sql("INSERT INTO activity (organization_id, actor, actor_type, entity_type, entity_id, action, message, at)"
        " VALUES ('org_1', 'a', 'token', 'project', 'x', 'create', repeat('m', 600), 1)",
        0, NULL);
    bs_err err = {0};
    store_project ps[2];
    size_t count = 9;
    assert_int_equal(OPS.project_list(F.d, "org_1", ps, 2, &count, &err), -1);
    assert_int_equal(count, 0);
    assert_int_equal(err.status, 500);
    store_activity a[2];
    int64_t total = 9;
    store_activity_query q = {.organization_id = "org_1", .limit = 2};
    assert_int_equal(OPS.activity_list(F.d, &q, a, &count, &total, &err), -1);
    assert_int_equal(count, 0);
    assert_int_equal(total, 0);
    assert_int_equal(OPS.project_list(F.d, NULL, ps, 2, &count, &err), 0); /* a NULL key matches nothing */
    assert_int_equal(count, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_org_plane, setup, teardown),
        cmocka_unit_test_setup_teardown(test_project_plane, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_list_and_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inactivity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_placement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_placement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_activity_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outbox, setup, teardown),
        cmocka_unit_test_setup_teardown(test_providers_and_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_long_fails, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
