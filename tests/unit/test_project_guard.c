/* project_guard: a project's allowedOrigins, ipWhitelist and apiCallLimit checked from the cache until
 * its ttl, project_guard_forget or project_guard_forget_all, projects without rules allowed, and the cached rules (owned by the
 * cache) released on replacement, forget and free (ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/bootstrap.h"
#include "core/project_guard.h"
#include "store/control.h"

typedef struct fixture {
    char dir[64];
    store_control *store;
    bootstrap_result boot;
    project_guard *g;
} fixture;

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/basalt-guard-XXXXXX");
    if (!mkdtemp(f->dir)) { free(f); return -1; }
    char location[128];
    snprintf(location, sizeof location, "sqlite:%s/control.db", f->dir);
    bs_err err = {0};
    f->store = store_control_open(location, &err);
    if (!f->store || bootstrap_run(f->store, &f->boot, &err) < 0) return -1;
    f->g = project_guard_new(f->store, 60000); /* an hour-long test would be needed to expire it */
    if (!f->g) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    project_guard_free(f->g);
    store_control_free(f->store);
    remove_dir(f->dir);
    free(f);
    return 0;
}

static void set_settings(fixture *f, const char *settings)
{
    store_project *p = calloc(1, sizeof *p);
    int found = 0;
    bs_err err;
    assert_int_equal(store_control_project_get(f->store, f->boot.project_id, p, &found, &err), 0);
    assert_true(found);
    snprintf(p->settings, sizeof p->settings, "%s", settings);
    assert_int_equal(store_control_project_update(f->store, p, &found, &err), 0);
    free(p);
}

/* The status of a check (0 allowed), with the daily limit and whether the origin was refused. */
static int check(fixture *f, const char *project_id, const char *origin, const char *ip, int64_t *limit, int *refused)
{
    bs_err err = {0};
    int rc = project_guard_check_limit(f->g, project_id, origin, ip, refused, limit, &err);
    return rc == 0 ? 0 : err.status;
}

static void rules_cached_until_forget(void **state)
{
    fixture *f = *state;
    int64_t limit = 0;
    int refused = 0;
    set_settings(f, "{\"allowedOrigins\":[\"https://a.example\"],\"ipWhitelist\":[\"10.0.0.0/8\"],\"apiCallLimit\":100}");
    assert_int_equal(check(f, f->boot.project_id, "https://a.example", "10.1.2.3", &limit, &refused), 0);
    assert_int_equal(limit, 100);
    assert_int_equal(check(f, f->boot.project_id, "https://b.example", "10.1.2.3", &limit, &refused), 403);
    assert_int_equal(refused, 1);
    assert_int_equal(check(f, f->boot.project_id, "https://a.example", "192.0.2.1", &limit, &refused), 403);
    assert_int_equal(refused, 0);
    set_settings(f, "{}");
    assert_int_equal(check(f, f->boot.project_id, "https://b.example", "10.1.2.3", &limit, &refused), 403); /* cached */
    project_guard_forget(f->g, f->boot.project_id);
    assert_int_equal(check(f, f->boot.project_id, "https://b.example", "192.0.2.1", &limit, &refused), 0);
    assert_int_equal(limit, -1);
    for (int i = 0; i < 5; i++) { /* rules loaded and released again and again */
        set_settings(f, i % 2 ? "{}" : "{\"allowedOrigins\":[\"https://a.example\"]}");
        project_guard_forget(f->g, f->boot.project_id);
        assert_int_equal(check(f, f->boot.project_id, "https://b.example", "10.1.2.3", &limit, &refused), i % 2 ? 0 : 403);
    }
}

/* project_guard_forget_all (the fleet bus after a resubscribe or a gap) drops every project, rules released (ASan). */
static void forget_all_drops_every_project(void **state)
{
    fixture *f = *state;
    int64_t limit = 0;
    int refused = 0;
    set_settings(f, "{\"allowedOrigins\":[\"https://a.example\"]}");
    assert_int_equal(check(f, f->boot.project_id, "https://b.example", "10.1.2.3", &limit, &refused), 403);
    set_settings(f, "{}");
    assert_int_equal(check(f, f->boot.project_id, "https://b.example", "10.1.2.3", &limit, &refused), 403); /* cached */
    project_guard_forget_all(f->g);
    assert_int_equal(check(f, f->boot.project_id, "https://b.example", "10.1.2.3", &limit, &refused), 0);
}

static void unknown_project_allowed(void **state)
{
    fixture *f = *state;
    int64_t limit = 0;
    int refused = 1;
    assert_int_equal(check(f, "prj_unknown", "https://b.example", "192.0.2.1", &limit, &refused), 0);
    assert_int_equal(limit, -1);
    assert_int_equal(refused, 0);
    bs_err err;
    assert_int_equal(project_guard_check(f->g, "prj_unknown", NULL, "192.0.2.1", &refused, &err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(rules_cached_until_forget, setup, teardown),
        cmocka_unit_test_setup_teardown(forget_all_drops_every_project, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_project_allowed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
