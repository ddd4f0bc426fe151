/* Unit tests of the PostgreSQL control driver's core part (store/postgres/control_pg_core.c): the cases of
 * test_control_store.c that concern its ops (bootstrap and lookups, revocation, conflicts as 409, not-found
 * reads, key lists and counts, environment secrets), run through store_pg_control_ops on a fresh schema per
 * test. Needs BASALT_TEST_PG_URL (tests/pg/with-pg.sh); skipped without it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_fixture.h"
#include "store/control.h"
#include "store/postgres/control_pg.h"
#include "store/postgres/control_pg_parts.h"

#define OPS store_pg_control_ops
#define BOOT_TIME 1736937000000
#define BOOT_ENV "env_00000000000000000001"

typedef struct fixture {
    char url[512];
    void *d;
} fixture;

/* ---- helpers (as test_control_store.c) ---- */

static void fake_hash(char out[STORE_HASH_HEX], char fill)
{
    memset(out, fill, STORE_HASH_HEX - 1);
    out[STORE_HASH_HEX - 1] = '\0';
}

static void make_bootstrap(store_bootstrap *b)
{
    memset(b, 0, sizeof *b);
    int64_t t = BOOT_TIME;
    store_org *o = &b->org;
    snprintf(o->id, sizeof o->id, "org_00000000000000000001");
    snprintf(o->name, sizeof o->name, "Default");
    snprintf(o->slug, sizeof o->slug, "default");
    snprintf(o->plan, sizeof o->plan, "free");
    snprintf(o->status, sizeof o->status, "active");
    o->created_at = o->updated_at = t;
    store_project *p = &b->project;
    snprintf(p->id, sizeof p->id, "prj_00000000000000000001");
    snprintf(p->organization_id, sizeof p->organization_id, "%s", o->id);
    snprintf(p->name, sizeof p->name, "Default");
    snprintf(p->slug, sizeof p->slug, "default");
    snprintf(p->status, sizeof p->status, "active");
    p->created_at = p->updated_at = t;
    store_env *e = &b->env;
    snprintf(e->id, sizeof e->id, BOOT_ENV);
    snprintf(e->project_id, sizeof e->project_id, "%s", p->id);
    snprintf(e->name, sizeof e->name, "dev");
    snprintf(e->type, sizeof e->type, "dev");
    snprintf(e->status, sizeof e->status, "active");
    e->created_at = e->updated_at = t;
    store_api_key *pk = &b->publishable, *sk = &b->secret;
    snprintf(pk->id, sizeof pk->id, "key_00000000000000000001");
    snprintf(pk->environment_id, sizeof pk->environment_id, "%s", e->id);
    snprintf(pk->type, sizeof pk->type, "publishable");
    snprintf(pk->name, sizeof pk->name, "Default publishable key");
    fake_hash(pk->hash, 'a');
    snprintf(pk->hint, sizeof pk->hint, "pk_1a2b");
    pk->created_at = t;
    *sk = *pk;
    snprintf(sk->id, sizeof sk->id, "key_00000000000000000002");
    snprintf(sk->type, sizeof sk->type, "secret");
    snprintf(sk->name, sizeof sk->name, "Default secret key");
    fake_hash(sk->hash, 'b');
    snprintf(sk->hint, sizeof sk->hint, "sk_3c4d");
    store_operator_token *tok = &b->operator_token;
    snprintf(tok->id, sizeof tok->id, "tok_00000000000000000001");
    snprintf(tok->organization_id, sizeof tok->organization_id, "%s", o->id);
    snprintf(tok->name, sizeof tok->name, "Bootstrap token");
    snprintf(tok->role, sizeof tok->role, "owner");
    fake_hash(tok->hash, 'c');
    snprintf(tok->hint, sizeof tok->hint, "bt_5e6f");
    tok->created_at = t;
    store_member *owner = &b->owner;
    snprintf(owner->id, sizeof owner->id, "mem_00000000000000000001");
    snprintf(owner->organization_id, sizeof owner->organization_id, "%s", o->id);
    snprintf(owner->name, sizeof owner->name, "Owner");
    snprintf(owner->role, sizeof owner->role, "owner");
    owner->joined_at = t;
    snprintf(tok->member_id, sizeof tok->member_id, "%s", owner->id);
}

static void bootstrap_default(void *d)
{
    store_bootstrap b;
    make_bootstrap(&b);
    bs_err err = {0};
    assert_int_equal(OPS.bootstrap(d, &b, &err), 0);
}

static store_api_key make_key(const char *id, const char *env_id, char hash_fill)
{
    store_api_key k;
    memset(&k, 0, sizeof k);
    snprintf(k.id, sizeof k.id, "%s", id);
    snprintf(k.environment_id, sizeof k.environment_id, "%s", env_id);
    snprintf(k.type, sizeof k.type, "secret");
    snprintf(k.name, sizeof k.name, "extra");
    fake_hash(k.hash, hash_fill);
    snprintf(k.hint, sizeof k.hint, "sk_x");
    k.created_at = 1;
    return k;
}

static void insert_key_at(void *d, const char *id, const char *env_id, char hash_fill, int64_t created_at,
                          const char *scopes)
{
    store_api_key k = make_key(id, env_id, hash_fill);
    k.created_at = created_at;
    k.scopes_json = scopes;
    bs_err err = {0};
    assert_int_equal(OPS.api_key_insert(d, &k, &err), 0);
}

static int lookup_found(void *d, char fill, store_key_context *ctx)
{
    char hash[STORE_HASH_HEX];
    fake_hash(hash, fill);
    int found = -1;
    bs_err err = {0};
    assert_int_equal(OPS.key_lookup(d, hash, ctx, &found, &err), 0);
    return found;
}

static int is_empty(void *d)
{
    int empty = -1;
    bs_err err = {0};
    assert_int_equal(OPS.is_empty(d, &empty, &err), 0);
    return empty;
}

static size_t key_count(void *d, const char *env_id)
{
    size_t count = 99;
    bs_err err = {0};
    assert_int_equal(OPS.api_key_count(d, env_id, &count, &err), 0);
    return count;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    *state = f;
    int rc = pg_fixture_url(f->url, sizeof f->url);
    if (rc == 0) return 0; /* no server: the tests skip */
    if (rc < 0) return -1;
    pgc_fill_core(&store_pg_control_ops); /* control_pg.c fills the table only in the ops' open */
    bs_err err = {0};
    f->d = pgc_driver_open(f->url, &err);
    return f->d ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pgc_driver_free(f->d);
    free(f);
    return 0;
}

/* The test's driver, or a skip without a server. */
static void *drv(void **state)
{
    fixture *f = *state;
    if (!f->d) skip();
    return f->d;
}

/* ---- tests ---- */

static void test_bootstrap_and_key_lookup(void **state)
{
    void *d = drv(state);
    assert_int_equal(is_empty(d), 1);
    bootstrap_default(d);
    assert_int_equal(is_empty(d), 0);
    store_key_context ctx;
    assert_int_equal(lookup_found(d, 'a', &ctx), 1);
    assert_string_equal(ctx.key_id, "key_00000000000000000001");
    assert_string_equal(ctx.key_type, "publishable");
    assert_string_equal(ctx.organization_id, "org_00000000000000000001");
    assert_string_equal(ctx.organization_status, "active");
    assert_string_equal(ctx.plan, "free");
    assert_string_equal(ctx.project_id, "prj_00000000000000000001");
    assert_string_equal(ctx.environment_id, BOOT_ENV);
    assert_string_equal(ctx.environment, "dev");
    assert_string_equal(ctx.scopes_json, "");
    assert_int_equal(ctx.expires_at, 0);
    assert_int_equal(ctx.revoked_at, 0);
    assert_int_equal(ctx.environment_exists, 1);
    assert_int_equal(ctx.api_call_quota, -1);
    assert_int_equal(ctx.storage_quota, -1);
    assert_int_equal(ctx.mau_quota, -1);
    assert_int_equal(ctx.bandwidth_quota, -1);
    assert_int_equal(lookup_found(d, 'b', &ctx), 1);
    assert_string_equal(ctx.key_type, "secret");

    char hash[STORE_HASH_HEX];
    fake_hash(hash, 'c');
    store_token_context tctx;
    int found = 0;
    bs_err err = {0};
    assert_int_equal(OPS.token_lookup(d, hash, &tctx, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(tctx.token_id, "tok_00000000000000000001");
    assert_string_equal(tctx.organization_id, "org_00000000000000000001");
    assert_string_equal(tctx.role, "owner");
    assert_string_equal(tctx.member_id, "mem_00000000000000000001");
    assert_int_equal(tctx.expires_at, 0);
    assert_int_equal(tctx.revoked_at, 0);

    store_org org;
    assert_int_equal(OPS.org_get(d, "org_00000000000000000001", &org, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(org.slug, "default");
    assert_string_equal(org.display_name, "Default"); /* "" takes the name */
    assert_string_equal(org.notification_email, "");
    assert_string_equal(org.scheduled_plan, "");
    assert_int_equal(org.scheduled_at, 0);
    assert_int_equal(org.api_call_quota, -1);
    assert_int_equal(org.bandwidth_quota, -1);
    assert_int_equal(org.created_at, BOOT_TIME);
    store_env env;
    assert_int_equal(OPS.env_get(d, BOOT_ENV, &env, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(env.project_id, "prj_00000000000000000001");
    assert_string_equal(env.type, "dev");
    assert_int_equal(env.last_access_at, 0); /* NULL reads as 0 */
    assert_string_equal(env.cluster, "");
    assert_int_equal(env.slot, 0);
}

/* A member-bound token whose member is gone reads as revoked; a service token keeps its own role. */
static void test_token_member_gone(void **state)
{
    void *d = drv(state);
    fixture *f = *state;
    bootstrap_default(d);
    store_operator_token t;
    memset(&t, 0, sizeof t);
    snprintf(t.id, sizeof t.id, "tok_service");
    snprintf(t.organization_id, sizeof t.organization_id, "org_00000000000000000001");
    snprintf(t.name, sizeof t.name, "CI");
    snprintf(t.role, sizeof t.role, "admin");
    fake_hash(t.hash, 'd');
    snprintf(t.hint, sizeof t.hint, "bt_x");
    t.expires_at = 1893456000123;
    t.created_at = 5;
    bs_err err = {0};
    assert_int_equal(OPS.operator_token_insert(d, &t, &err), 0);
    assert_int_equal(pg_fixture_exec(f->url, "DELETE FROM members"), 0);
    char hash[STORE_HASH_HEX];
    store_token_context tctx;
    int found = 0;
    fake_hash(hash, 'c');
    assert_int_equal(OPS.token_lookup(d, hash, &tctx, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(tctx.revoked_at, 1);
    fake_hash(hash, 'd');
    assert_int_equal(OPS.token_lookup(d, hash, &tctx, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(tctx.role, "admin");
    assert_string_equal(tctx.member_id, "");
    assert_int_equal(tctx.expires_at, 1893456000123);
    assert_int_equal(tctx.revoked_at, 0);
}

static void test_unknown_hash_not_found(void **state)
{
    void *d = drv(state);
    bootstrap_default(d);
    store_key_context ctx;
    assert_int_equal(lookup_found(d, 'f', &ctx), 0);
    store_token_context tctx;
    char hash[STORE_HASH_HEX];
    fake_hash(hash, 'f');
    int found = 1;
    bs_err err = {0};
    assert_int_equal(OPS.token_lookup(d, hash, &tctx, &found, &err), 0);
    assert_int_equal(found, 0);
    found = 1;
    store_org org;
    assert_int_equal(OPS.org_get(d, "org_missing", &org, &found, &err), 0);
    assert_int_equal(found, 0);
    found = 1;
    store_env env;
    assert_int_equal(OPS.env_get(d, "env_missing", &env, &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(err.status, 0);
}

static void test_revoke_visible_in_lookup(void **state)
{
    void *d = drv(state);
    bootstrap_default(d);
    bs_err err = {0};
    int found = 0;
    assert_int_equal(OPS.api_key_revoke(d, "key_00000000000000000001", 5000, &found, &err), 0);
    assert_int_equal(found, 1);
    store_key_context ctx;
    assert_int_equal(lookup_found(d, 'a', &ctx), 1);
    assert_int_equal(ctx.revoked_at, 5000);
    /* Idempotent: a second revocation keeps the first time. */
    assert_int_equal(OPS.api_key_revoke(d, "key_00000000000000000001", 9000, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(lookup_found(d, 'a', &ctx), 1);
    assert_int_equal(ctx.revoked_at, 5000);
    assert_int_equal(lookup_found(d, 'b', &ctx), 1);
    assert_int_equal(ctx.revoked_at, 0);
    assert_int_equal(OPS.api_key_revoke(d, "key_missing", 5000, &found, &err), 0);
    assert_int_equal(found, 0);

    assert_int_equal(OPS.operator_token_revoke(d, "tok_00000000000000000001", 7000, &found, &err), 0);
    assert_int_equal(found, 1);
    char hash[STORE_HASH_HEX];
    fake_hash(hash, 'c');
    store_token_context tctx;
    assert_int_equal(OPS.token_lookup(d, hash, &tctx, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(tctx.revoked_at, 7000);
    assert_int_equal(OPS.operator_token_revoke(d, "tok_missing", 7000, &found, &err), 0);
    assert_int_equal(found, 0);
    /* at 0 means now */
    assert_int_equal(OPS.api_key_revoke(d, "key_00000000000000000002", 0, &found, &err), 0);
    assert_int_equal(lookup_found(d, 'b', &ctx), 1);
    assert_true(ctx.revoked_at > BOOT_TIME);
}

static void test_expiry_and_scopes_round_trip(void **state)
{
    void *d = drv(state);
    bootstrap_default(d);
    store_api_key k = make_key("key_expiring", BOOT_ENV, 'd');
    k.expires_at = 1893456000123;
    k.scopes_json = "[\"data:read\",\"files:read\"]";
    bs_err err = {0};
    assert_int_equal(OPS.api_key_insert(d, &k, &err), 0);
    store_key_context ctx;
    assert_int_equal(lookup_found(d, 'd', &ctx), 1);
    assert_int_equal(ctx.expires_at, 1893456000123);
    assert_string_equal(ctx.scopes_json, "[\"data:read\",\"files:read\"]");
    assert_int_equal(lookup_found(d, 'a', &ctx), 1);
    assert_int_equal(ctx.expires_at, 0);
}

static void test_scopes_too_long_is_internal_error(void **state)
{
    void *d = drv(state);
    bootstrap_default(d);
    char scopes[2048];
    memset(scopes, 'x', sizeof scopes - 1);
    scopes[sizeof scopes - 1] = '\0';
    store_api_key k = make_key("key_wide", BOOT_ENV, 'e');
    k.scopes_json = scopes;
    bs_err err = {0};
    assert_int_equal(OPS.api_key_insert(d, &k, &err), 0);
    char hash[STORE_HASH_HEX];
    fake_hash(hash, 'e');
    store_key_context ctx;
    int found = 1;
    assert_int_equal(OPS.key_lookup(d, hash, &ctx, &found, &err), -1);
    assert_int_equal(found, 0);
    assert_int_equal(err.status, 500);
    assert_string_equal(err.code, "common/internal-error");
}

static void test_duplicate_conflicts(void **state)
{
    void *d = drv(state);
    bootstrap_default(d);
    store_bootstrap b;
    make_bootstrap(&b);
    snprintf(b.org.id, sizeof b.org.id, "org_other");
    bs_err err = {0};
    assert_int_equal(OPS.org_insert(d, &b.org, &err), -1);
    assert_int_equal(err.status, 409);
    assert_string_equal(err.code, "common/conflict");
    assert_string_equal(err.message, "organization slug already taken");

    snprintf(b.project.id, sizeof b.project.id, "prj_other");
    bs_err_clear(&err);
    assert_int_equal(OPS.project_insert(d, &b.project, &err), -1);
    assert_int_equal(err.status, 409);
    assert_string_equal(err.message, "project slug already taken in this organization");

    snprintf(b.env.id, sizeof b.env.id, "env_other");
    bs_err_clear(&err);
    assert_int_equal(OPS.env_insert(d, &b.env, &err), -1);
    assert_int_equal(err.status, 409);
    assert_string_equal(err.message, "environment name already taken in this project");

    make_bootstrap(&b);
    bs_err_clear(&err);
    snprintf(b.publishable.id, sizeof b.publishable.id, "key_other");
    assert_int_equal(OPS.api_key_insert(d, &b.publishable, &err), -1);
    assert_int_equal(err.status, 409);
    assert_string_equal(err.message, "API key already exists");
    bs_err_clear(&err);
    fake_hash(b.secret.hash, '9');
    assert_int_equal(OPS.api_key_insert(d, &b.secret, &err), -1);
    assert_string_equal(err.message, "API key id already exists");
    bs_err_clear(&err);
    snprintf(b.operator_token.id, sizeof b.operator_token.id, "tok_other");
    assert_int_equal(OPS.operator_token_insert(d, &b.operator_token, &err), -1);
    assert_int_equal(err.status, 409);
    assert_string_equal(err.message, "operator token already exists");

    /* Same slug in another organization is fine. */
    make_bootstrap(&b);
    snprintf(b.org.id, sizeof b.org.id, "org_other");
    snprintf(b.org.slug, sizeof b.org.slug, "other");
    bs_err_clear(&err);
    assert_int_equal(OPS.org_insert(d, &b.org, &err), 0);
    snprintf(b.project.id, sizeof b.project.id, "prj_other");
    snprintf(b.project.organization_id, sizeof b.project.organization_id, "org_other");
    assert_int_equal(OPS.project_insert(d, &b.project, &err), 0);
    store_project p;
    int found = 0;
    assert_int_equal(OPS.project_get(d, "prj_other", &p, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(p.settings, "{}"); /* "" stored as {} */
    assert_string_equal(p.primary_cloud, "");
}

static void test_missing_parent_conflict(void **state)
{
    void *d = drv(state);
    store_api_key k = make_key("key_orphan", "env_missing", 'd');
    bs_err err = {0};
    assert_int_equal(OPS.api_key_insert(d, &k, &err), -1);
    assert_int_equal(err.status, 409);
    assert_string_equal(err.code, "common/conflict");
    assert_string_equal(err.message, "the record it belongs to does not exist");
}

static void test_bootstrap_failure_leaves_store_empty(void **state)
{
    void *d = drv(state);
    store_bootstrap b;
    make_bootstrap(&b);
    memcpy(b.secret.hash, b.publishable.hash, sizeof b.secret.hash);
    bs_err err = {0};
    assert_int_equal(OPS.bootstrap(d, &b, &err), -1);
    assert_int_equal(err.status, 409);
    assert_string_equal(err.code, "common/conflict");
    assert_string_equal(err.message, "API key already exists");
    assert_int_equal(is_empty(d), 1);
    store_key_context ctx;
    assert_int_equal(lookup_found(d, 'a', &ctx), 0);
    /* The pool is usable again: a correct bootstrap now succeeds. */
    bootstrap_default(d);
    assert_int_equal(is_empty(d), 0);
}

static void test_env_delete_cascades(void **state)
{
    void *d = drv(state);
    bootstrap_default(d);
    bs_err err = {0};
    int found = 0;
    assert_int_equal(OPS.env_delete(d, BOOT_ENV, &found, &err), 0);
    assert_int_equal(found, 1);
    store_key_context ctx;
    assert_int_equal(lookup_found(d, 'a', &ctx), 0);
    assert_int_equal(lookup_found(d, 'b', &ctx), 0);
    store_env env;
    assert_int_equal(OPS.env_get(d, BOOT_ENV, &env, &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(OPS.env_delete(d, BOOT_ENV, &found, &err), 0);
    assert_int_equal(found, 0);
}

static void test_deleting_env_does_not_exist(void **state)
{
    void *d = drv(state);
    bootstrap_default(d);
    store_bootstrap b;
    make_bootstrap(&b);
    snprintf(b.env.id, sizeof b.env.id, "env_going");
    snprintf(b.env.name, sizeof b.env.name, "staging");
    snprintf(b.env.status, sizeof b.env.status, "deleting");
    bs_err err = {0};
    assert_int_equal(OPS.env_insert(d, &b.env, &err), 0);
    store_api_key k = make_key("key_going", "env_going", 'd');
    assert_int_equal(OPS.api_key_insert(d, &k, &err), 0);
    store_key_context ctx;
    assert_int_equal(lookup_found(d, 'd', &ctx), 1);
    assert_int_equal(ctx.environment_exists, 0);
}

static void test_project_get(void **state)
{
    void *d = drv(state);
    bootstrap_default(d);
    store_project p;
    int found = 0;
    bs_err err = {0};
    assert_int_equal(OPS.project_get(d, "prj_00000000000000000001", &p, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(p.id, "prj_00000000000000000001");
    assert_string_equal(p.organization_id, "org_00000000000000000001");
    assert_string_equal(p.name, "Default");
    assert_string_equal(p.slug, "default");
    assert_string_equal(p.status, "active");
    assert_int_equal(p.created_at, BOOT_TIME);
    assert_int_equal(p.updated_at, BOOT_TIME);
    found = 1;
    assert_int_equal(OPS.project_get(d, "prj_missing", &p, &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(err.status, 0);
}

static void test_env_find(void **state)
{
    void *d = drv(state);
    bootstrap_default(d);
    store_bootstrap b;
    make_bootstrap(&b);
    snprintf(b.project.id, sizeof b.project.id, "prj_other");
    snprintf(b.project.slug, sizeof b.project.slug, "other");
    bs_err err = {0};
    assert_int_equal(OPS.project_insert(d, &b.project, &err), 0);
    snprintf(b.env.id, sizeof b.env.id, "env_other_dev");
    snprintf(b.env.project_id, sizeof b.env.project_id, "prj_other");
    assert_int_equal(OPS.env_insert(d, &b.env, &err), 0);
    make_bootstrap(&b);
    snprintf(b.env.id, sizeof b.env.id, "env_prod");
    snprintf(b.env.name, sizeof b.env.name, "prod");
    snprintf(b.env.type, sizeof b.env.type, "prod");
    snprintf(b.env.status, sizeof b.env.status, "ready");
    b.env.created_at = 1000;
    b.env.updated_at = 2000;
    assert_int_equal(OPS.env_insert(d, &b.env, &err), 0);

    store_env env;
    int found = 0;
    assert_int_equal(OPS.env_find(d, "prj_00000000000000000001", "dev", &env, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(env.id, BOOT_ENV);
    assert_string_equal(env.status, "active");
    assert_int_equal(env.created_at, BOOT_TIME);
    assert_int_equal(OPS.env_find(d, "prj_other", "dev", &env, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(env.id, "env_other_dev");
    assert_int_equal(OPS.env_find(d, "prj_00000000000000000001", "prod", &env, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(env.id, "env_prod");
    assert_string_equal(env.type, "prod");
    assert_string_equal(env.status, "ready");
    assert_int_equal(env.created_at, 1000);
    assert_int_equal(env.updated_at, 2000);

    found = 1;
    assert_int_equal(OPS.env_find(d, "prj_other", "prod", &env, &found, &err), 0);
    assert_int_equal(found, 0);
    found = 1;
    assert_int_equal(OPS.env_find(d, "prj_missing", "dev", &env, &found, &err), 0);
    assert_int_equal(found, 0);
    found = 1;
    assert_int_equal(OPS.env_find(d, "prj_00000000000000000001", "DEV", &env, &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(err.status, 0);
}

static void test_api_key_get(void **state)
{
    void *d = drv(state);
    bootstrap_default(d);
    store_api_key_row row;
    int found = 0;
    bs_err err = {0};
    assert_int_equal(OPS.api_key_get(d, "key_00000000000000000001", &row, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(row.key.environment_id, BOOT_ENV);
    assert_string_equal(row.key.type, "publishable");
    assert_string_equal(row.key.name, "Default publishable key");
    char hash[STORE_HASH_HEX];
    fake_hash(hash, 'a');
    assert_string_equal(row.key.hash, hash);
    assert_string_equal(row.key.hint, "pk_1a2b");
    assert_null(row.key.scopes_json); /* NULL column: every scope */
    assert_string_equal(row.scopes, "");
    assert_int_equal(row.key.expires_at, 0);
    assert_int_equal(row.key.created_at, BOOT_TIME);
    assert_int_equal(row.revoked_at, 0);

    store_api_key k = make_key("key_scoped", BOOT_ENV, 'd');
    k.expires_at = 1893456000123;
    k.created_at = 42;
    k.scopes_json = "[\"data:read\",\"files:read\"]";
    assert_int_equal(OPS.api_key_insert(d, &k, &err), 0);
    assert_int_equal(OPS.api_key_revoke(d, "key_scoped", 5000, &found, &err), 0);
    assert_int_equal(OPS.api_key_get(d, "key_scoped", &row, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_ptr_equal(row.key.scopes_json, row.scopes);
    assert_string_equal(row.scopes, "[\"data:read\",\"files:read\"]");
    assert_int_equal(row.key.expires_at, 1893456000123);
    assert_int_equal(row.key.created_at, 42);
    assert_int_equal(row.revoked_at, 5000);

    /* An empty scopes array is not NULL. */
    store_api_key none = make_key("key_noscope", BOOT_ENV, 'e');
    none.scopes_json = "[]";
    assert_int_equal(OPS.api_key_insert(d, &none, &err), 0);
    assert_int_equal(OPS.api_key_get(d, "key_noscope", &row, &found, &err), 0);
    assert_ptr_equal(row.key.scopes_json, row.scopes);
    assert_string_equal(row.key.scopes_json, "[]");

    found = 1;
    assert_int_equal(OPS.api_key_get(d, "key_missing", &row, &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(err.status, 0);
}

static void test_api_key_scopes_limit(void **state)
{
    void *d = drv(state);
    bootstrap_default(d);
    store_api_key_row row;
    char fits[sizeof row.scopes], wide[sizeof row.scopes + 1];
    memset(fits, 'x', sizeof fits - 1);
    fits[sizeof fits - 1] = '\0';
    memset(wide, 'y', sizeof wide - 1);
    wide[sizeof wide - 1] = '\0';
    store_api_key k = make_key("key_fits", BOOT_ENV, 'd');
    k.scopes_json = fits;
    bs_err err = {0};
    assert_int_equal(OPS.api_key_insert(d, &k, &err), 0);
    int found = 0;
    assert_int_equal(OPS.api_key_get(d, "key_fits", &row, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(row.key.scopes_json, fits);

    k = make_key("key_wide", BOOT_ENV, 'e');
    k.scopes_json = wide;
    k.created_at = BOOT_TIME + 1;
    assert_int_equal(OPS.api_key_insert(d, &k, &err), 0);
    found = 1;
    assert_int_equal(OPS.api_key_get(d, "key_wide", &row, &found, &err), -1);
    assert_int_equal(found, 0);
    assert_int_equal(err.status, 500);

    store_api_key_row rows[8];
    size_t count = 99;
    bs_err_clear(&err);
    assert_int_equal(OPS.api_key_list(d, BOOT_ENV, rows, 8, &count, &err), -1);
    assert_int_equal(count, 0);
    assert_int_equal(err.status, 500);
    assert_string_equal(err.code, "common/internal-error");
    bs_err_clear(&err);
    assert_int_equal(OPS.api_key_list(d, BOOT_ENV, rows, 3, &count, &err), 0);
    assert_int_equal(count, 3); /* max stops before the wide key, the newest */
    assert_string_equal(rows[0].key.id, "key_fits");
    assert_string_equal(rows[2].key.id, "key_00000000000000000002");
}

static void test_api_key_list_order_and_max(void **state)
{
    void *d = drv(state);
    bootstrap_default(d);
    insert_key_at(d, "key_late", BOOT_ENV, 'd', BOOT_TIME + 10, "[\"data:read\"]");
    insert_key_at(d, "key_early_b", BOOT_ENV, 'e', 100, NULL);
    insert_key_at(d, "key_early_a", BOOT_ENV, 'f', 100, "[\"files:write\"]");
    insert_key_at(d, "key_early_B", BOOT_ENV, '7', 100, NULL); /* byte order: 'B' < 'a' */
    bs_err err = {0};
    int found = 0;
    assert_int_equal(OPS.api_key_revoke(d, "key_00000000000000000002", 7000, &found, &err), 0);
    store_bootstrap b;
    make_bootstrap(&b);
    snprintf(b.env.id, sizeof b.env.id, "env_prod");
    snprintf(b.env.name, sizeof b.env.name, "prod");
    assert_int_equal(OPS.env_insert(d, &b.env, &err), 0);
    insert_key_at(d, "key_prod", "env_prod", '1', 1, NULL);

    const char *expected[] = {"key_early_B", "key_early_a", "key_early_b", "key_00000000000000000001",
                              "key_00000000000000000002", "key_late"};
    store_api_key_row rows[STORE_MAX_KEYS_PER_ENV];
    size_t count = 0;
    assert_int_equal(OPS.api_key_list(d, BOOT_ENV, rows, STORE_MAX_KEYS_PER_ENV, &count, &err), 0);
    assert_int_equal(count, 6);
    for (size_t i = 0; i < count; i++) {
        assert_string_equal(rows[i].key.id, expected[i]);
        if (rows[i].key.scopes_json) assert_ptr_equal(rows[i].key.scopes_json, rows[i].scopes);
    }
    assert_string_equal(rows[1].key.scopes_json, "[\"files:write\"]");
    assert_null(rows[2].key.scopes_json);
    assert_int_equal(rows[3].revoked_at, 0);
    assert_int_equal(rows[4].revoked_at, 7000);
    assert_int_equal(rows[5].key.created_at, BOOT_TIME + 10);

    store_api_key_row two[3];
    memset(two, 0x5a, sizeof two);
    assert_int_equal(OPS.api_key_list(d, BOOT_ENV, two, 2, &count, &err), 0);
    assert_int_equal(count, 2);
    assert_string_equal(two[1].key.id, "key_early_a");
    assert_int_equal((unsigned char)two[2].key.id[0], 0x5a);
    count = 99;
    assert_int_equal(OPS.api_key_list(d, BOOT_ENV, two, 0, &count, &err), 0);
    assert_int_equal(count, 0);
    assert_int_equal(OPS.api_key_list(d, BOOT_ENV, rows, SIZE_MAX, &count, &err), 0); /* no limit */
    assert_int_equal(count, 6);
    assert_int_equal(OPS.api_key_list(d, "env_prod", rows, STORE_MAX_KEYS_PER_ENV, &count, &err), 0);
    assert_int_equal(count, 1);
    assert_string_equal(rows[0].key.id, "key_prod");
    count = 99;
    assert_int_equal(OPS.api_key_list(d, "env_missing", rows, STORE_MAX_KEYS_PER_ENV, &count, &err), 0);
    assert_int_equal(count, 0);
    assert_int_equal(err.status, 0);
}

static void test_api_key_count(void **state)
{
    void *d = drv(state);
    assert_int_equal(key_count(d, BOOT_ENV), 0);
    bootstrap_default(d);
    assert_int_equal(key_count(d, BOOT_ENV), 2);
    insert_key_at(d, "key_more", BOOT_ENV, 'd', 5, NULL);
    assert_int_equal(key_count(d, BOOT_ENV), 3);
    bs_err err = {0};
    int found = 0;
    assert_int_equal(OPS.api_key_revoke(d, "key_00000000000000000001", 5000, &found, &err), 0);
    assert_int_equal(key_count(d, BOOT_ENV), 2);
    assert_int_equal(OPS.api_key_revoke(d, "key_more", 0, &found, &err), 0);
    assert_int_equal(key_count(d, BOOT_ENV), 1);
    assert_int_equal(OPS.api_key_revoke(d, "key_more", 9000, &found, &err), 0);
    assert_int_equal(key_count(d, BOOT_ENV), 1);
    assert_int_equal(key_count(d, "env_missing"), 0);
}

static void test_env_secret_created_once(void **state)
{
    void *d = drv(state);
    bootstrap_default(d);
    bs_err err = {0};
    uint8_t fresh1[STORE_ENV_SECRET_LEN], fresh2[STORE_ENV_SECRET_LEN], out[STORE_ENV_SECRET_LEN];
    for (size_t i = 0; i < sizeof fresh1; i++) {
        fresh1[i] = (uint8_t)(i * 7); /* includes 0x00 bytes: binary-safe */
        fresh2[i] = (uint8_t)(255 - i);
    }
    assert_int_equal(OPS.env_secret(d, BOOT_ENV, "jwt", fresh1, sizeof fresh1, out, &err), 0);
    assert_memory_equal(out, fresh1, sizeof out);
    memset(out, 0, sizeof out);
    assert_int_equal(OPS.env_secret(d, BOOT_ENV, "jwt", fresh2, sizeof fresh2, out, &err), 0);
    assert_memory_equal(out, fresh1, sizeof out); /* the first one stays */
    assert_int_equal(OPS.env_secret(d, BOOT_ENV, "other", fresh2, sizeof fresh2, out, &err), 0);
    assert_memory_equal(out, fresh2, sizeof out);
    /* Another handle (another pool) reads the same. */
    fixture *f = *state;
    void *d2 = pgc_driver_open(f->url, &err);
    assert_non_null(d2);
    assert_int_equal(OPS.env_secret(d2, BOOT_ENV, "jwt", fresh2, sizeof fresh2, out, &err), 0);
    assert_memory_equal(out, fresh1, sizeof out);
    pgc_driver_free(d2);
    assert_int_equal(OPS.env_secret(d, "env_missing", "jwt", fresh1, sizeof fresh1, out, &err), -1); /* no such env */
    assert_int_equal(err.status, 409);
}

/* Lookups from several threads at once share the pool (more threads than idle connections at first). */
#define LOOKUP_THREADS 4
#define LOOKUPS_PER_THREAD 200

typedef struct lookup_job {
    void *d;
    int failures;
} lookup_job;

static void *lookup_thread(void *arg)
{
    lookup_job *job = arg;
    char hash[STORE_HASH_HEX];
    for (int i = 0; i < LOOKUPS_PER_THREAD; i++) {
        fake_hash(hash, i % 2 ? 'a' : 'b');
        store_key_context ctx;
        int found = 0;
        bs_err err = {0};
        if (OPS.key_lookup(job->d, hash, &ctx, &found, &err) != 0 || !found ||
            strcmp(ctx.environment_id, BOOT_ENV) != 0)
            job->failures++;
    }
    return NULL;
}

static void test_concurrent_lookups(void **state)
{
    void *d = drv(state);
    bootstrap_default(d);
    pthread_t threads[LOOKUP_THREADS];
    lookup_job jobs[LOOKUP_THREADS];
    for (int i = 0; i < LOOKUP_THREADS; i++) {
        jobs[i] = (lookup_job){.d = d};
        assert_int_equal(pthread_create(&threads[i], NULL, lookup_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < LOOKUP_THREADS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bootstrap_and_key_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_member_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_hash_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_visible_in_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry_and_scopes_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scopes_too_long_is_internal_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_parent_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bootstrap_failure_leaves_store_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_delete_cascades, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleting_env_does_not_exist, setup, teardown),
        cmocka_unit_test_setup_teardown(test_project_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_find, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_key_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_key_scopes_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_key_list_order_and_max, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_key_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_secret_created_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_lookups, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
