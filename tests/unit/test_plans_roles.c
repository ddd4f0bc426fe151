/* plans and roles: the plan table's numbers (platform.md §3.1, maxProjects decided), environment type
 * gating, the "one more" check, and the permission matrix of platform.md §9.2–9.3 row by row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/plans.h"
#include "core/roles.h"

static void plan_numbers(void **state)
{
    (void)state;
    const plan *f = plan_find("free"), *s = plan_find("STARTER"), *g = plan_find("growth"), *e = plan_find("enterprise");
    assert_non_null(f);
    assert_non_null(s);
    assert_non_null(g);
    assert_non_null(e);
    assert_null(plan_find("platinum"));
    assert_null(plan_find(NULL));
    assert_int_equal(f->api_calls, 10000);
    assert_int_equal(s->api_calls, 100000);
    assert_int_equal(g->api_calls, 1000000);
    assert_int_equal(e->api_calls, PLAN_UNLIMITED);
    assert_int_equal(f->mau, 1000);
    assert_int_equal(g->mau, 100000);
    assert_int_equal(f->storage_bytes, 1LL << 30);
    assert_int_equal(s->bandwidth_bytes, 50LL << 30);
    assert_int_equal(f->max_environments, 1);
    assert_int_equal(s->max_environments, 3);
    assert_int_equal(g->max_environments, 10);
    assert_int_equal(f->max_projects, 2);
    assert_int_equal(s->max_projects, 5);
    assert_int_equal(g->max_projects, 20);
    assert_int_equal(e->max_projects, PLAN_UNLIMITED);
    assert_true(f->rank < s->rank && s->rank < g->rank && g->rank < e->rank);
    int n = 0;
    assert_ptr_equal(plan_all(&n), f);
    assert_int_equal(n, 4);
}

static void env_types_and_features(void **state)
{
    (void)state;
    const plan *f = plan_find("free"), *s = plan_find("starter"), *g = plan_find("growth");
    assert_true(f->env_types & plan_env_type_bit("dev"));
    assert_false(f->env_types & plan_env_type_bit("staging"));
    assert_true(s->env_types & plan_env_type_bit("prod"));
    assert_false(s->env_types & plan_env_type_bit("custom"));
    assert_true(g->env_types & plan_env_type_bit("custom"));
    assert_int_equal(plan_env_type_bit("preview"), 0);
    assert_false(f->features & PLAN_FEATURE_WEBHOOKS);
    assert_true(s->features & PLAN_FEATURE_WEBHOOKS);
    assert_false(g->features & PLAN_FEATURE_SSO);
    assert_true(plan_find("enterprise")->features & PLAN_FEATURE_SSO);
    assert_true(plan_allows_one_more(2, 1));
    assert_false(plan_allows_one_more(2, 2));
    assert_true(plan_allows_one_more(PLAN_UNLIMITED, 1000000));
    assert_int_equal(plan_metric_limit(f, "api_call"), 10000);
    assert_int_equal(plan_metric_limit(s, "storage"), 10LL << 30);
    assert_int_equal(plan_metric_limit(g, "mau"), 100000);
    assert_int_equal(plan_metric_limit(plan_find("enterprise"), "bandwidth"), PLAN_UNLIMITED);
    assert_int_equal(plan_metric_limit(f, "db_read"), PLAN_UNLIMITED);
    assert_int_equal(plan_metric_limit(NULL, "api_call"), PLAN_UNLIMITED);
    assert_int_equal(plan_limit_with(f, "api_call", -1), 10000);
    assert_int_equal(plan_limit_with(f, "api_call", 10), 10);
    assert_int_equal(plan_limit_with(plan_find("enterprise"), "api_call", 0), 0); /* an override wins, even 0 */
}

static void matrix_rows(void **state)
{
    (void)state;
    /* owner admin member billing, per row of platform.md §9.2 and §9.3 */
    static const struct { role_action a; int o, ad, m, b; } rows[] = {
        {ROLE_VIEW_ORG, 1, 1, 1, 1},           {ROLE_EDIT_ORG, 1, 1, 0, 0},          {ROLE_MANAGE_PROJECTS, 1, 1, 0, 0},
        {ROLE_USE_PROJECTS, 1, 1, 1, 0},       {ROLE_EDIT_TABLES, 1, 1, 0, 0},       {ROLE_EDIT_PROJECT_SETTINGS, 1, 1, 0, 0},
        {ROLE_MANAGE_ENVIRONMENTS, 1, 1, 0, 0}, {ROLE_MANAGE_KEYS, 1, 1, 0, 0},       {ROLE_INVITE_MEMBERS, 1, 1, 0, 0},
        {ROLE_CHANGE_ROLES, 1, 1, 0, 0},       {ROLE_REMOVE_MEMBERS, 1, 0, 0, 0},    {ROLE_DELETE_ORG, 1, 0, 0, 0},
        {ROLE_TRANSFER_OWNERSHIP, 1, 0, 0, 0}, {ROLE_VIEW_PLAN, 1, 1, 1, 1},         {ROLE_MANAGE_BILLING, 1, 0, 0, 1},
    };
    assert_int_equal(sizeof rows / sizeof rows[0], ROLE_ACTION_COUNT);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        assert_int_equal(role_may("owner", rows[i].a), rows[i].o);
        assert_int_equal(role_may("admin", rows[i].a), rows[i].ad);
        assert_int_equal(role_may("member", rows[i].a), rows[i].m);
        assert_int_equal(role_may("billing", rows[i].a), rows[i].b);
        assert_int_equal(role_may("emperor", rows[i].a), 0);
        assert_int_equal(role_may(NULL, rows[i].a), 0);
        assert_non_null(role_action_name(rows[i].a));
    }
    assert_int_equal(role_may("owner", ROLE_ACTION_COUNT), 0);
}

/* The team's ranks: an owner outranks an admin, who outranks members and billing (equal). */
static void role_ranks(void **state)
{
    (void)state;
    static const char *const known[] = {"owner", "admin", "member", "billing"};
    for (size_t i = 0; i < 4; i++) assert_true(role_known(known[i]));
    assert_false(role_known("emperor"));
    assert_false(role_known(""));
    assert_true(role_level("owner") > role_level("admin"));
    assert_true(role_level("admin") > role_level("member"));
    assert_int_equal(role_level("member"), role_level("billing"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plan_numbers),
        cmocka_unit_test(env_types_and_features),
        cmocka_unit_test(matrix_rows),
        cmocka_unit_test(role_ranks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
