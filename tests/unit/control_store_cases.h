/* control_store_cases.h: the behaviour of the control store's public API (store/control.h), written once
 * and run against every driver: test_control_store.c runs it on SQLite (a fresh file per test),
 * test_control_store_pg.c on PostgreSQL (a fresh schema per test, tests/unit/pg_fixture.h). The cases
 * use store_control_* only, so a new driver gets all of it by opening its own location; the two
 * exceptions go through what every runner provides: raw_exec (rows written behind the store's back) and
 * ops/target (the driver handed chosen secret bytes, test_env_secret_binary_safe).
 *
 * A runner includes this after cmocka.h, gives every test a cs_fixture as its state (setup opens
 * f->store from f->location; teardown frees f->store, which a test may have set to NULL) and lists the
 * cases with CONTROL_STORE_CASES(setup, teardown). A fixture whose store is NULL skips the test (no
 * server). Where the engines differ on purpose, the case says so with f->engine.
 *
 * Sections: keys, tokens and lookups; management reads; threads (per-thread connections or a pool);
 * the team; console sessions and sign-in links; the management plane; usage, alerts and webhook deliveries. */
#ifndef BASALT_TESTS_CONTROL_STORE_CASES_H
#define BASALT_TESTS_CONTROL_STORE_CASES_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/control.h"
#include "store/control_driver.h"
#include "util/clock.h"

typedef enum cs_engine { CS_SQLITE, CS_POSTGRES } cs_engine;

typedef struct cs_fixture {
    cs_engine engine;
    char location[640];      /* what store_control_open was given; reopening it reaches the same data */
    store_control *store;    /* NULL: the engine is not available here, the test skips */
    int lookups_per_thread;  /* the thread tests' load (a round trip to a server costs more than a file) */
    void *runner;            /* the runner's own state (a temporary directory, ...) */
    /* Runs sql on the store behind its back (another connection), 0 when it worked: for the cases that
     * need rows the public inserts cannot write. */
    int (*raw_exec)(const struct cs_fixture *f, const char *sql);
    /* The driver under the store and what its open takes (the location without its scheme), for the one
     * case that must hand the driver chosen bytes (store/control_driver.h; the public call draws its own). */
    const store_control_ops *ops;
    const char *target;
} cs_fixture;

#define LOOKUP_THREADS 4
#define BOOT_TIME 1736937000000
#define BOOT_ENV "env_00000000000000000001"

static cs_fixture *cs_fix(void **state)
{
    cs_fixture *f = *state;
    if (!f || !f->store) skip();
    return f;
}

/* ---- helpers ---- */

static void fake_hash(char out[STORE_HASH_HEX], char fill)
{
    memset(out, fill, STORE_HASH_HEX - 1);
    out[STORE_HASH_HEX - 1] = '\0';
}

static void make_bootstrap(store_bootstrap *b)
{
    memset(b, 0, sizeof *b);
    int64_t t = 1736937000000;
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
    snprintf(e->id, sizeof e->id, "env_00000000000000000001");
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

static void bootstrap_default(store_control *store)
{
    store_bootstrap b;
    make_bootstrap(&b);
    bs_err err = {0};
    assert_int_equal(store_control_bootstrap(store, &b, &err), 0);
}

/* The same without the Owner member (the team tests add their own members). */
static void bootstrap_bare(store_control *store)
{
    store_bootstrap b;
    make_bootstrap(&b);
    memset(&b.owner, 0, sizeof b.owner);
    b.operator_token.member_id[0] = '\0';
    bs_err err = {0};
    assert_int_equal(store_control_bootstrap(store, &b, &err), 0);
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

static int lookup_found(store_control *store, char fill, store_key_context *ctx)
{
    char hash[STORE_HASH_HEX];
    fake_hash(hash, fill);
    int found = -1;
    bs_err err = {0};
    assert_int_equal(store_control_key_lookup(store, hash, ctx, &found, &err), 0);
    return found;
}

static int is_empty(store_control *store)
{
    int empty = -1;
    bs_err err = {0};
    assert_int_equal(store_control_is_empty(store, &empty, &err), 0);
    return empty;
}


/* The first secret stored for (env, kind) is the one everyone gets, across reopening; kinds and
 * environments have their own. */
static void test_env_secret_created_once(void **state)
{
    cs_fixture *f = cs_fix(state);
    bootstrap_default(f->store);
    bs_err err = {0};
    uint8_t a[STORE_ENV_SECRET_LEN], b[STORE_ENV_SECRET_LEN], c[STORE_ENV_SECRET_LEN], zero[STORE_ENV_SECRET_LEN] = {0};
    assert_int_equal(store_control_env_secret(f->store, "env_00000000000000000001", "jwt", a, &err), 0);
    assert_memory_not_equal(a, zero, sizeof a);
    assert_int_equal(store_control_env_secret(f->store, "env_00000000000000000001", "jwt", b, &err), 0);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(store_control_env_secret(f->store, "env_00000000000000000001", "other", c, &err), 0);
    assert_memory_not_equal(a, c, sizeof a);
    store_control_free(f->store);
    f->store = store_control_open(f->location, &err); /* a new handle on the same store */
    assert_non_null(f->store);
    assert_int_equal(store_control_env_secret(f->store, "env_00000000000000000001", "jwt", b, &err), 0);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(store_control_env_secret(NULL, "env_00000000000000000001", "jwt", b, &err), -1);
    assert_int_equal(store_control_env_secret(f->store, "env_missing", "jwt", b, &err), -1); /* no such env */
}

/* Secrets are bytes, not text: one with NUL bytes, handed to the driver's op on a second handle (the
 * public call draws its own random bytes), is read back whole through the public API; the first one
 * written for (env, kind) stays, another kind gets its own; an unknown environment is a 409. */
static void test_env_secret_binary_safe(void **state)
{
    cs_fixture *f = cs_fix(state);
    bootstrap_default(f->store);
    bs_err err = {0};
    uint8_t fresh1[STORE_ENV_SECRET_LEN], fresh2[STORE_ENV_SECRET_LEN], out[STORE_ENV_SECRET_LEN];
    for (size_t i = 0; i < sizeof fresh1; i++) {
        fresh1[i] = (uint8_t)(i * 7); /* includes 0x00 bytes */
        fresh2[i] = (uint8_t)(255 - i);
    }
    void *d = f->ops->open(f->target, &err);
    assert_non_null(d);
    assert_int_equal(f->ops->env_secret(d, BOOT_ENV, "jwt", fresh1, sizeof fresh1, out, &err), 0);
    assert_memory_equal(out, fresh1, sizeof out);
    memset(out, 0, sizeof out);
    assert_int_equal(f->ops->env_secret(d, BOOT_ENV, "jwt", fresh2, sizeof fresh2, out, &err), 0);
    assert_memory_equal(out, fresh1, sizeof out); /* the first one stays */
    assert_int_equal(f->ops->env_secret(d, BOOT_ENV, "other", fresh2, sizeof fresh2, out, &err), 0);
    assert_memory_equal(out, fresh2, sizeof out);
    assert_int_equal(f->ops->env_secret(d, "env_missing", "jwt", fresh1, sizeof fresh1, out, &err), -1);
    assert_int_equal(err.status, 409);
    f->ops->free(d);
    memset(out, 0, sizeof out);
    assert_int_equal(store_control_env_secret(f->store, BOOT_ENV, "jwt", out, &err), 0);
    assert_memory_equal(out, fresh1, sizeof out);
}

static void test_bootstrap_and_key_lookup(void **state)
{
    cs_fixture *f = cs_fix(state);
    assert_int_equal(is_empty(f->store), 1);
    bootstrap_default(f->store);
    assert_int_equal(is_empty(f->store), 0);
    store_key_context ctx;
    assert_int_equal(lookup_found(f->store, 'a', &ctx), 1);
    assert_string_equal(ctx.key_id, "key_00000000000000000001");
    assert_string_equal(ctx.key_type, "publishable");
    assert_string_equal(ctx.organization_id, "org_00000000000000000001");
    assert_string_equal(ctx.organization_status, "active");
    assert_string_equal(ctx.plan, "free");
    assert_string_equal(ctx.project_id, "prj_00000000000000000001");
    assert_string_equal(ctx.environment_id, "env_00000000000000000001");
    assert_string_equal(ctx.environment, "dev");
    assert_string_equal(ctx.scopes_json, "");
    assert_int_equal(ctx.expires_at, 0);
    assert_int_equal(ctx.revoked_at, 0);
    assert_int_equal(ctx.environment_exists, 1);
    assert_int_equal(ctx.api_call_quota, -1); /* no override: the plan's */
    assert_int_equal(ctx.storage_quota, -1);
    assert_int_equal(ctx.mau_quota, -1);
    assert_int_equal(ctx.bandwidth_quota, -1);
    assert_int_equal(lookup_found(f->store, 'b', &ctx), 1);
    assert_string_equal(ctx.key_type, "secret");

    char hash[STORE_HASH_HEX];
    fake_hash(hash, 'c');
    store_token_context tctx;
    int found = 0;
    bs_err err = {0};
    assert_int_equal(store_control_token_lookup(f->store, hash, &tctx, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(tctx.token_id, "tok_00000000000000000001");
    assert_string_equal(tctx.organization_id, "org_00000000000000000001");
    assert_string_equal(tctx.role, "owner");
    assert_string_equal(tctx.member_id, "mem_00000000000000000001");
    assert_int_equal(tctx.expires_at, 0);
    assert_int_equal(tctx.revoked_at, 0);

    store_org org;
    assert_int_equal(store_control_org_get(f->store, "org_00000000000000000001", &org, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(org.slug, "default");
    assert_string_equal(org.display_name, "Default"); /* "" takes the name */
    assert_string_equal(org.notification_email, "");
    assert_string_equal(org.scheduled_plan, "");
    assert_int_equal(org.scheduled_at, 0);
    assert_int_equal(org.api_call_quota, -1);
    assert_int_equal(org.bandwidth_quota, -1);
    assert_int_equal(org.created_at, 1736937000000);
    store_env env;
    assert_int_equal(store_control_env_get(f->store, "env_00000000000000000001", &env, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(env.project_id, "prj_00000000000000000001");
    assert_string_equal(env.type, "dev");
    assert_int_equal(env.last_access_at, 0); /* never used */
    assert_string_equal(env.cluster, "");     /* not placed yet */
    assert_int_equal(env.slot, 0);
}

static void test_unknown_hash_not_found(void **state)
{
    cs_fixture *f = cs_fix(state);
    bootstrap_default(f->store);
    store_key_context ctx;
    assert_int_equal(lookup_found(f->store, 'f', &ctx), 0);
    store_token_context tctx;
    char hash[STORE_HASH_HEX];
    fake_hash(hash, 'f');
    int found = 1;
    bs_err err = {0};
    assert_int_equal(store_control_token_lookup(f->store, hash, &tctx, &found, &err), 0);
    assert_int_equal(found, 0);
    store_org org;
    assert_int_equal(store_control_org_get(f->store, "org_missing", &org, &found, &err), 0);
    assert_int_equal(found, 0);
    found = 1;
    store_env env;
    assert_int_equal(store_control_env_get(f->store, "env_missing", &env, &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(err.status, 0);
}

static void test_revoke_visible_in_lookup(void **state)
{
    cs_fixture *f = cs_fix(state);
    bootstrap_default(f->store);
    bs_err err = {0};
    int found = 0;
    assert_int_equal(store_control_api_key_revoke(f->store, "key_00000000000000000001", 5000, &found, &err), 0);
    assert_int_equal(found, 1);
    store_key_context ctx;
    assert_int_equal(lookup_found(f->store, 'a', &ctx), 1);
    assert_int_equal(ctx.revoked_at, 5000);
    /* Idempotent: a second revocation keeps the first time. */
    assert_int_equal(store_control_api_key_revoke(f->store, "key_00000000000000000001", 9000, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(lookup_found(f->store, 'a', &ctx), 1);
    assert_int_equal(ctx.revoked_at, 5000);
    assert_int_equal(lookup_found(f->store, 'b', &ctx), 1);
    assert_int_equal(ctx.revoked_at, 0);
    assert_int_equal(store_control_api_key_revoke(f->store, "key_missing", 5000, &found, &err), 0);
    assert_int_equal(found, 0);

    assert_int_equal(store_control_operator_token_revoke(f->store, "tok_00000000000000000001", 7000, &found, &err),
                     0);
    assert_int_equal(found, 1);
    char hash[STORE_HASH_HEX];
    fake_hash(hash, 'c');
    store_token_context tctx;
    assert_int_equal(store_control_token_lookup(f->store, hash, &tctx, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(tctx.revoked_at, 7000);
    assert_int_equal(store_control_operator_token_revoke(f->store, "tok_missing", 7000, &found, &err), 0);
    assert_int_equal(found, 0);
    /* at 0 means now */
    assert_int_equal(store_control_api_key_revoke(f->store, "key_00000000000000000002", 0, &found, &err), 0);
    assert_int_equal(lookup_found(f->store, 'b', &ctx), 1);
    assert_true(ctx.revoked_at > BOOT_TIME);
}

static void test_expiry_and_scopes_round_trip(void **state)
{
    cs_fixture *f = cs_fix(state);
    bootstrap_default(f->store);
    store_api_key k = make_key("key_expiring", "env_00000000000000000001", 'd');
    k.expires_at = 1893456000123;
    k.scopes_json = "[\"data:read\",\"files:read\"]";
    bs_err err = {0};
    assert_int_equal(store_control_api_key_insert(f->store, &k, &err), 0);
    store_key_context ctx;
    assert_int_equal(lookup_found(f->store, 'd', &ctx), 1);
    assert_int_equal(ctx.expires_at, 1893456000123);
    assert_string_equal(ctx.scopes_json, "[\"data:read\",\"files:read\"]");
    assert_int_equal(lookup_found(f->store, 'a', &ctx), 1);
    assert_int_equal(ctx.expires_at, 0);
}

static void test_scopes_too_long_is_internal_error(void **state)
{
    cs_fixture *f = cs_fix(state);
    bootstrap_default(f->store);
    char scopes[2048];
    memset(scopes, 'x', sizeof scopes - 1);
    scopes[sizeof scopes - 1] = '\0';
    store_api_key k = make_key("key_wide", "env_00000000000000000001", 'e');
    k.scopes_json = scopes;
    bs_err err = {0};
    assert_int_equal(store_control_api_key_insert(f->store, &k, &err), 0);
    char hash[STORE_HASH_HEX];
    fake_hash(hash, 'e');
    store_key_context ctx;
    int found = 1;
    assert_int_equal(store_control_key_lookup(f->store, hash, &ctx, &found, &err), -1);
    assert_int_equal(found, 0);
    assert_int_equal(err.status, 500);
    assert_string_equal(err.code, "common/internal-error");
}

static void test_duplicate_slug_conflict(void **state)
{
    cs_fixture *f = cs_fix(state);
    bootstrap_default(f->store);
    store_bootstrap b;
    make_bootstrap(&b);
    snprintf(b.org.id, sizeof b.org.id, "org_other");
    bs_err err = {0};
    assert_int_equal(store_control_org_insert(f->store, &b.org, &err), -1);
    assert_int_equal(err.status, 409);
    assert_string_equal(err.code, "common/conflict");
    assert_string_equal(err.message, "organization slug already taken");

    snprintf(b.project.id, sizeof b.project.id, "prj_other");
    bs_err_clear(&err);
    assert_int_equal(store_control_project_insert(f->store, &b.project, &err), -1);
    assert_int_equal(err.status, 409);
    assert_string_equal(err.message, "project slug already taken in this organization");

    snprintf(b.env.id, sizeof b.env.id, "env_other");
    bs_err_clear(&err);
    assert_int_equal(store_control_env_insert(f->store, &b.env, &err), -1);
    assert_int_equal(err.status, 409);
    assert_string_equal(err.message, "environment name already taken in this project");

    /* Keys and tokens: the same hash, or the same id, is a conflict too. */
    make_bootstrap(&b);
    bs_err_clear(&err);
    snprintf(b.publishable.id, sizeof b.publishable.id, "key_other");
    assert_int_equal(store_control_api_key_insert(f->store, &b.publishable, &err), -1);
    assert_int_equal(err.status, 409);
    assert_string_equal(err.message, "API key already exists");
    bs_err_clear(&err);
    fake_hash(b.secret.hash, '9');
    assert_int_equal(store_control_api_key_insert(f->store, &b.secret, &err), -1);
    assert_int_equal(err.status, 409);
    assert_string_equal(err.message, "API key id already exists");
    bs_err_clear(&err);
    snprintf(b.operator_token.id, sizeof b.operator_token.id, "tok_other");
    assert_int_equal(store_control_operator_token_insert(f->store, &b.operator_token, &err), -1);
    assert_int_equal(err.status, 409);
    assert_string_equal(err.message, "operator token already exists");

    /* Same slug in another organization is fine. */
    make_bootstrap(&b);
    snprintf(b.org.id, sizeof b.org.id, "org_other");
    snprintf(b.org.slug, sizeof b.org.slug, "other");
    bs_err_clear(&err);
    assert_int_equal(store_control_org_insert(f->store, &b.org, &err), 0);
    snprintf(b.project.id, sizeof b.project.id, "prj_other");
    snprintf(b.project.organization_id, sizeof b.project.organization_id, "org_other");
    assert_int_equal(store_control_project_insert(f->store, &b.project, &err), 0);
    store_project p;
    int found = 0;
    assert_int_equal(store_control_project_get(f->store, "prj_other", &p, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(p.settings, "{}"); /* "" stored as {} */
    assert_string_equal(p.primary_cloud, "");
}

static void test_missing_parent_conflict(void **state)
{
    cs_fixture *f = cs_fix(state);
    store_api_key k = make_key("key_orphan", "env_missing", 'd');
    bs_err err = {0};
    assert_int_equal(store_control_api_key_insert(f->store, &k, &err), -1);
    assert_int_equal(err.status, 409);
    assert_string_equal(err.code, "common/conflict");
    assert_string_equal(err.message, "the record it belongs to does not exist");
}

static void test_bootstrap_failure_leaves_store_empty(void **state)
{
    cs_fixture *f = cs_fix(state);
    store_bootstrap b;
    make_bootstrap(&b);
    memcpy(b.secret.hash, b.publishable.hash, sizeof b.secret.hash);
    bs_err err = {0};
    assert_int_equal(store_control_bootstrap(f->store, &b, &err), -1);
    assert_int_equal(err.status, 409);
    assert_string_equal(err.code, "common/conflict");
    assert_string_equal(err.message, "API key already exists");
    assert_int_equal(is_empty(f->store), 1);
    store_key_context ctx;
    assert_int_equal(lookup_found(f->store, 'a', &ctx), 0);
    /* The connection is usable again: a correct bootstrap now succeeds. */
    bootstrap_default(f->store);
    assert_int_equal(is_empty(f->store), 0);
}

static void test_env_delete_cascades(void **state)
{
    cs_fixture *f = cs_fix(state);
    bootstrap_default(f->store);
    bs_err err = {0};
    int found = 0;
    assert_int_equal(store_control_env_delete(f->store, "env_00000000000000000001", &found, &err), 0);
    assert_int_equal(found, 1);
    store_key_context ctx;
    assert_int_equal(lookup_found(f->store, 'a', &ctx), 0);
    assert_int_equal(lookup_found(f->store, 'b', &ctx), 0);
    store_env env;
    assert_int_equal(store_control_env_get(f->store, "env_00000000000000000001", &env, &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(store_control_env_delete(f->store, "env_00000000000000000001", &found, &err), 0);
    assert_int_equal(found, 0);
}

static void test_deleting_env_does_not_exist(void **state)
{
    cs_fixture *f = cs_fix(state);
    bootstrap_default(f->store);
    store_bootstrap b;
    make_bootstrap(&b);
    snprintf(b.env.id, sizeof b.env.id, "env_going");
    snprintf(b.env.name, sizeof b.env.name, "staging");
    snprintf(b.env.status, sizeof b.env.status, "deleting");
    bs_err err = {0};
    assert_int_equal(store_control_env_insert(f->store, &b.env, &err), 0);
    store_api_key k = make_key("key_going", "env_going", 'd');
    assert_int_equal(store_control_api_key_insert(f->store, &k, &err), 0);
    store_key_context ctx;
    assert_int_equal(lookup_found(f->store, 'd', &ctx), 1);
    assert_int_equal(ctx.environment_exists, 0);
}

/* ---- management reads: projects, environments, key listing ---- */


static void test_project_get(void **state)
{
    cs_fixture *f = cs_fix(state);
    bootstrap_default(f->store);
    store_project p;
    int found = 0;
    bs_err err = {0};
    assert_int_equal(store_control_project_get(f->store, "prj_00000000000000000001", &p, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(p.id, "prj_00000000000000000001");
    assert_string_equal(p.organization_id, "org_00000000000000000001");
    assert_string_equal(p.name, "Default");
    assert_string_equal(p.slug, "default");
    assert_string_equal(p.status, "active");
    assert_int_equal(p.created_at, BOOT_TIME);
    assert_int_equal(p.updated_at, BOOT_TIME);
    found = 1;
    assert_int_equal(store_control_project_get(f->store, "prj_missing", &p, &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(err.status, 0);
}

static void test_env_find(void **state)
{
    cs_fixture *f = cs_fix(state);
    bootstrap_default(f->store);
    /* A second project with an environment of the same name, and a second environment in the first. */
    store_bootstrap b;
    make_bootstrap(&b);
    snprintf(b.project.id, sizeof b.project.id, "prj_other");
    snprintf(b.project.slug, sizeof b.project.slug, "other");
    bs_err err = {0};
    assert_int_equal(store_control_project_insert(f->store, &b.project, &err), 0);
    snprintf(b.env.id, sizeof b.env.id, "env_other_dev");
    snprintf(b.env.project_id, sizeof b.env.project_id, "prj_other");
    assert_int_equal(store_control_env_insert(f->store, &b.env, &err), 0);
    make_bootstrap(&b);
    snprintf(b.env.id, sizeof b.env.id, "env_prod");
    snprintf(b.env.name, sizeof b.env.name, "prod");
    snprintf(b.env.type, sizeof b.env.type, "prod");
    snprintf(b.env.status, sizeof b.env.status, "ready");
    b.env.created_at = 1000;
    b.env.updated_at = 2000;
    assert_int_equal(store_control_env_insert(f->store, &b.env, &err), 0);

    store_env env;
    int found = 0;
    assert_int_equal(store_control_env_find(f->store, "prj_00000000000000000001", "dev", &env, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(env.id, BOOT_ENV);
    assert_string_equal(env.project_id, "prj_00000000000000000001");
    assert_string_equal(env.name, "dev");
    assert_string_equal(env.type, "dev");
    assert_string_equal(env.status, "active");
    assert_int_equal(env.created_at, BOOT_TIME);
    assert_int_equal(env.updated_at, BOOT_TIME);
    assert_int_equal(store_control_env_find(f->store, "prj_other", "dev", &env, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(env.id, "env_other_dev");
    assert_string_equal(env.project_id, "prj_other");
    assert_int_equal(store_control_env_find(f->store, "prj_00000000000000000001", "prod", &env, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(env.id, "env_prod");
    assert_string_equal(env.type, "prod");
    assert_string_equal(env.status, "ready");
    assert_int_equal(env.created_at, 1000);
    assert_int_equal(env.updated_at, 2000);

    found = 1;
    assert_int_equal(store_control_env_find(f->store, "prj_other", "prod", &env, &found, &err), 0);
    assert_int_equal(found, 0);
    found = 1;
    assert_int_equal(store_control_env_find(f->store, "prj_missing", "dev", &env, &found, &err), 0);
    assert_int_equal(found, 0);
    found = 1;
    assert_int_equal(store_control_env_find(f->store, "prj_00000000000000000001", "DEV", &env, &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(err.status, 0);
}

static void test_api_key_get(void **state)
{
    cs_fixture *f = cs_fix(state);
    bootstrap_default(f->store);
    store_api_key_row row;
    int found = 0;
    bs_err err = {0};
    assert_int_equal(store_control_api_key_get(f->store, "key_00000000000000000001", &row, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(row.key.id, "key_00000000000000000001");
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

    /* Scopes, expiry and revocation round-trip; scopes_json points into the row itself. */
    store_api_key k = make_key("key_scoped", BOOT_ENV, 'd');
    k.expires_at = 1893456000123;
    k.created_at = 42;
    k.scopes_json = "[\"data:read\",\"files:read\"]";
    assert_int_equal(store_control_api_key_insert(f->store, &k, &err), 0);
    assert_int_equal(store_control_api_key_revoke(f->store, "key_scoped", 5000, &found, &err), 0);
    assert_int_equal(store_control_api_key_get(f->store, "key_scoped", &row, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(row.key.type, "secret");
    assert_string_equal(row.key.name, "extra");
    assert_string_equal(row.key.hint, "sk_x");
    assert_ptr_equal(row.key.scopes_json, row.scopes);
    assert_string_equal(row.scopes, "[\"data:read\",\"files:read\"]");
    assert_int_equal(row.key.expires_at, 1893456000123);
    assert_int_equal(row.key.created_at, 42);
    assert_int_equal(row.revoked_at, 5000);

    /* An empty scopes array is not NULL. */
    store_api_key none = make_key("key_noscope", BOOT_ENV, 'e');
    none.scopes_json = "[]";
    assert_int_equal(store_control_api_key_insert(f->store, &none, &err), 0);
    assert_int_equal(store_control_api_key_get(f->store, "key_noscope", &row, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_ptr_equal(row.key.scopes_json, row.scopes);
    assert_string_equal(row.key.scopes_json, "[]");

    found = 1;
    assert_int_equal(store_control_api_key_get(f->store, "key_missing", &row, &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(err.status, 0);
}

/* Scopes of exactly sizeof row.scopes - 1 bytes fit; one more byte is an internal error. */
static void test_api_key_scopes_limit(void **state)
{
    cs_fixture *f = cs_fix(state);
    bootstrap_default(f->store);
    store_api_key_row row;
    char fits[sizeof row.scopes], wide[sizeof row.scopes + 1];
    memset(fits, 'x', sizeof fits - 1);
    fits[sizeof fits - 1] = '\0';
    memset(wide, 'y', sizeof wide - 1);
    wide[sizeof wide - 1] = '\0';
    store_api_key k = make_key("key_fits", BOOT_ENV, 'd');
    k.scopes_json = fits;
    bs_err err = {0};
    assert_int_equal(store_control_api_key_insert(f->store, &k, &err), 0);
    int found = 0;
    assert_int_equal(store_control_api_key_get(f->store, "key_fits", &row, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(row.key.scopes_json, fits);

    k = make_key("key_wide", BOOT_ENV, 'e');
    k.scopes_json = wide;
    k.created_at = BOOT_TIME + 1; /* the newest key */
    assert_int_equal(store_control_api_key_insert(f->store, &k, &err), 0);
    found = 1;
    assert_int_equal(store_control_api_key_get(f->store, "key_wide", &row, &found, &err), -1);
    assert_int_equal(found, 0);
    assert_int_equal(err.status, 500);
    assert_string_equal(err.code, "common/internal-error");

    /* The list fails as a whole, and the connection stays usable. */
    store_api_key_row rows[8];
    size_t count = 99;
    bs_err_clear(&err);
    assert_int_equal(store_control_api_key_list(f->store, BOOT_ENV, rows, 8, &count, &err), -1);
    assert_int_equal(count, 0);
    assert_int_equal(err.status, 500);
    assert_string_equal(err.code, "common/internal-error");
    bs_err_clear(&err);
    assert_int_equal(store_control_api_key_list(f->store, BOOT_ENV, rows, 3, &count, &err), 0);
    assert_int_equal(count, 3); /* max stops before the wide key, the newest */
    assert_string_equal(rows[0].key.id, "key_fits");
    assert_string_equal(rows[2].key.id, "key_00000000000000000002");
}

/* Inserts a secret key of env with a given creation time and, when scopes is not NULL, scopes. */
static void insert_key_at(store_control *store, const char *id, const char *env_id, char hash_fill,
                          int64_t created_at, const char *scopes)
{
    store_api_key k = make_key(id, env_id, hash_fill);
    k.created_at = created_at;
    k.scopes_json = scopes;
    bs_err err = {0};
    assert_int_equal(store_control_api_key_insert(store, &k, &err), 0);
}

static void test_api_key_list_order_and_max(void **state)
{
    cs_fixture *f = cs_fix(state);
    bootstrap_default(f->store); /* key_...01 and key_...02, both at BOOT_TIME */
    insert_key_at(f->store, "key_late", BOOT_ENV, 'd', BOOT_TIME + 10, "[\"data:read\"]");
    insert_key_at(f->store, "key_early_b", BOOT_ENV, 'e', 100, NULL);
    insert_key_at(f->store, "key_early_a", BOOT_ENV, 'f', 100, "[\"files:write\"]");
    insert_key_at(f->store, "key_early_B", BOOT_ENV, '7', 100, NULL); /* ties by id in byte order: 'B' < 'a' */
    bs_err err = {0};
    int found = 0;
    assert_int_equal(store_control_api_key_revoke(f->store, "key_00000000000000000002", 7000, &found, &err), 0);
    /* Another environment's key is never listed. */
    store_bootstrap b;
    make_bootstrap(&b);
    snprintf(b.env.id, sizeof b.env.id, "env_prod");
    snprintf(b.env.name, sizeof b.env.name, "prod");
    assert_int_equal(store_control_env_insert(f->store, &b.env, &err), 0);
    insert_key_at(f->store, "key_prod", "env_prod", '1', 1, NULL);

    const char *expected[] = {"key_early_B", "key_early_a", "key_early_b", "key_00000000000000000001",
                              "key_00000000000000000002", "key_late"};
    store_api_key_row rows[STORE_MAX_KEYS_PER_ENV];
    size_t count = 0;
    assert_int_equal(store_control_api_key_list(f->store, BOOT_ENV, rows, STORE_MAX_KEYS_PER_ENV, &count, &err),
                     0);
    assert_int_equal(count, 6);
    for (size_t i = 0; i < count; i++) {
        assert_string_equal(rows[i].key.id, expected[i]);
        assert_string_equal(rows[i].key.environment_id, BOOT_ENV);
        /* Each row's scopes pointer is into that row, or NULL. */
        if (rows[i].key.scopes_json) assert_ptr_equal(rows[i].key.scopes_json, rows[i].scopes);
    }
    assert_null(rows[0].key.scopes_json);
    assert_string_equal(rows[1].key.scopes_json, "[\"files:write\"]");
    assert_int_equal(rows[1].key.created_at, 100);
    assert_null(rows[2].key.scopes_json);
    assert_string_equal(rows[3].key.type, "publishable");
    char hash[STORE_HASH_HEX];
    fake_hash(hash, 'a');
    assert_string_equal(rows[3].key.hash, hash);
    assert_string_equal(rows[3].key.hint, "pk_1a2b");
    assert_int_equal(rows[3].revoked_at, 0);
    assert_int_equal(rows[4].revoked_at, 7000); /* revoked keys are listed */
    assert_string_equal(rows[5].key.scopes_json, "[\"data:read\"]");
    assert_int_equal(rows[5].key.created_at, BOOT_TIME + 10);

    /* max truncates to the oldest; rows past max are not written. */
    store_api_key_row two[3];
    memset(two, 0x5a, sizeof two);
    assert_int_equal(store_control_api_key_list(f->store, BOOT_ENV, two, 2, &count, &err), 0);
    assert_int_equal(count, 2);
    assert_string_equal(two[0].key.id, "key_early_B");
    assert_string_equal(two[1].key.id, "key_early_a");
    assert_int_equal((unsigned char)two[2].key.id[0], 0x5a);
    count = 99;
    assert_int_equal(store_control_api_key_list(f->store, BOOT_ENV, two, 0, &count, &err), 0);
    assert_int_equal(count, 0);
    /* Exactly as many as there are, and no limit at all. */
    assert_int_equal(store_control_api_key_list(f->store, BOOT_ENV, rows, 6, &count, &err), 0);
    assert_int_equal(count, 6);
    assert_string_equal(rows[5].key.id, "key_late");
    assert_int_equal(store_control_api_key_list(f->store, BOOT_ENV, rows, SIZE_MAX, &count, &err), 0);
    assert_int_equal(count, 6);

    assert_int_equal(store_control_api_key_list(f->store, "env_prod", rows, STORE_MAX_KEYS_PER_ENV, &count, &err),
                     0);
    assert_int_equal(count, 1);
    assert_string_equal(rows[0].key.id, "key_prod");
    count = 99;
    assert_int_equal(store_control_api_key_list(f->store, "env_missing", rows, STORE_MAX_KEYS_PER_ENV, &count, &err),
                     0);
    assert_int_equal(count, 0);
    assert_int_equal(err.status, 0);
}

static size_t key_count(store_control *store, const char *env_id)
{
    size_t count = 99;
    bs_err err = {0};
    assert_int_equal(store_control_api_key_count(store, env_id, &count, &err), 0);
    return count;
}

static void test_api_key_count(void **state)
{
    cs_fixture *f = cs_fix(state);
    assert_int_equal(key_count(f->store, BOOT_ENV), 0);
    bootstrap_default(f->store);
    assert_int_equal(key_count(f->store, BOOT_ENV), 2);
    insert_key_at(f->store, "key_more", BOOT_ENV, 'd', 5, NULL);
    assert_int_equal(key_count(f->store, BOOT_ENV), 3);
    bs_err err = {0};
    int found = 0;
    assert_int_equal(store_control_api_key_revoke(f->store, "key_00000000000000000001", 5000, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(key_count(f->store, BOOT_ENV), 2);
    assert_int_equal(store_control_api_key_revoke(f->store, "key_more", 0, &found, &err), 0);
    assert_int_equal(key_count(f->store, BOOT_ENV), 1);
    /* Revoking again changes nothing; the list still has all three. */
    assert_int_equal(store_control_api_key_revoke(f->store, "key_more", 9000, &found, &err), 0);
    assert_int_equal(key_count(f->store, BOOT_ENV), 1);
    store_api_key_row rows[4];
    size_t count = 0;
    assert_int_equal(store_control_api_key_list(f->store, BOOT_ENV, rows, 4, &count, &err), 0);
    assert_int_equal(count, 3);
    assert_int_equal(key_count(f->store, "env_missing"), 0);
}

/* ---- threads ---- */

typedef struct lookup_job {
    store_control *store;
    int lookups;
    int failures;
    pthread_barrier_t *used;  /* NULL: exit straight after the lookups */
    pthread_barrier_t *freed;
} lookup_job;

static void *lookup_thread(void *arg)
{
    lookup_job *job = arg;
    char hash[STORE_HASH_HEX];
    for (int i = 0; i < job->lookups; i++) {
        fake_hash(hash, (i & 1) ? 'a' : 'b');
        store_key_context ctx;
        int found = 0;
        bs_err err = {0};
        if (store_control_key_lookup(job->store, hash, &ctx, &found, &err) != 0 || !found ||
            strcmp(ctx.project_id, "prj_00000000000000000001") != 0)
            job->failures++;
    }
    if (job->used) {
        pthread_barrier_wait(job->used);  /* the store is freed while this thread is alive ... */
        pthread_barrier_wait(job->freed); /* ... and the thread exits only afterwards */
    }
    return NULL;
}

static void run_lookup_threads(const cs_fixture *f, pthread_barrier_t *used, pthread_barrier_t *freed,
                               lookup_job jobs[LOOKUP_THREADS], pthread_t tids[LOOKUP_THREADS])
{
    for (int i = 0; i < LOOKUP_THREADS; i++) {
        jobs[i] = (lookup_job){.store = f->store, .lookups = f->lookups_per_thread, .used = used, .freed = freed};
        assert_int_equal(pthread_create(&tids[i], NULL, lookup_thread, &jobs[i]), 0);
    }
}

static void test_concurrent_lookups(void **state)
{
    cs_fixture *f = cs_fix(state);
    bootstrap_default(f->store);
    lookup_job jobs[LOOKUP_THREADS];
    pthread_t tids[LOOKUP_THREADS];
    run_lookup_threads(f, NULL, NULL, jobs, tids);
    for (int i = 0; i < LOOKUP_THREADS; i++) {
        pthread_join(tids[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
    }
}

/* Threads use the store and are still alive when it is freed; they exit afterwards. Their connections
 * must be closed by store_control_free, once, and not again by their exit. */
static void test_free_while_threads_alive(void **state)
{
    cs_fixture *f = cs_fix(state);
    bootstrap_default(f->store);
    store_key_context ctx;
    assert_int_equal(lookup_found(f->store, 'a', &ctx), 1); /* the main thread's connection too */
    pthread_barrier_t used, freed;
    pthread_barrier_init(&used, NULL, LOOKUP_THREADS + 1);
    pthread_barrier_init(&freed, NULL, LOOKUP_THREADS + 1);
    lookup_job jobs[LOOKUP_THREADS];
    pthread_t tids[LOOKUP_THREADS];
    run_lookup_threads(f, &used, &freed, jobs, tids);
    pthread_barrier_wait(&used);
    store_control_free(f->store);
    f->store = NULL;
    pthread_barrier_wait(&freed);
    for (int i = 0; i < LOOKUP_THREADS; i++) {
        pthread_join(tids[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
    }
    pthread_barrier_destroy(&used);
    pthread_barrier_destroy(&freed);
    /* A new store on the same file from the same threads' successors works. */
    bs_err err = {0};
    f->store = store_control_open(f->location, &err);
    assert_non_null(f->store);
    assert_int_equal(lookup_found(f->store, 'a', &ctx), 1);
}

/* Threads use the store and exit before it is freed: their exit closes their connections. */
static void test_free_after_threads_exited(void **state)
{
    cs_fixture *f = cs_fix(state);
    bootstrap_default(f->store);
    lookup_job jobs[LOOKUP_THREADS];
    pthread_t tids[LOOKUP_THREADS];
    run_lookup_threads(f, NULL, NULL, jobs, tids);
    for (int i = 0; i < LOOKUP_THREADS; i++) pthread_join(tids[i], NULL);
    store_control_free(f->store);
    f->store = NULL;
    for (int i = 0; i < LOOKUP_THREADS; i++) assert_int_equal(jobs[i].failures, 0);
}

/* ---- team ---- */

#define TEAM_ORG "org_00000000000000000001"

static store_member make_member(const char *id, const char *email, const char *role, int64_t at)
{
    store_member m;
    memset(&m, 0, sizeof m);
    snprintf(m.id, sizeof m.id, "%s", id);
    snprintf(m.organization_id, sizeof m.organization_id, TEAM_ORG);
    snprintf(m.email, sizeof m.email, "%s", email);
    snprintf(m.name, sizeof m.name, "Name of %s", id);
    snprintf(m.role, sizeof m.role, "%s", role);
    snprintf(m.status, sizeof m.status, "active");
    m.joined_at = at;
    return m;
}

static store_operator_token make_token(const char *id, const char *member_id, const char *role, char hash_fill)
{
    store_operator_token t;
    memset(&t, 0, sizeof t);
    snprintf(t.id, sizeof t.id, "%s", id);
    snprintf(t.organization_id, sizeof t.organization_id, TEAM_ORG);
    snprintf(t.name, sizeof t.name, "token %s", id);
    snprintf(t.role, sizeof t.role, "%s", role);
    snprintf(t.member_id, sizeof t.member_id, "%s", member_id);
    fake_hash(t.hash, hash_fill);
    snprintf(t.hint, sizeof t.hint, "bt_x");
    t.created_at = 10;
    return t;
}

static store_org_invitation make_invitation(const char *id, const char *email, char hash_fill, int64_t at)
{
    store_org_invitation v;
    memset(&v, 0, sizeof v);
    snprintf(v.id, sizeof v.id, "%s", id);
    snprintf(v.organization_id, sizeof v.organization_id, TEAM_ORG);
    snprintf(v.email, sizeof v.email, "%s", email);
    snprintf(v.name, sizeof v.name, "Invitee");
    snprintf(v.role, sizeof v.role, "member");
    snprintf(v.invited_by, sizeof v.invited_by, "mem_owner");
    fake_hash(v.hash, hash_fill);
    v.created_at = at;
    v.expires_at = at + STORE_INVITATION_TTL_MS;
    return v;
}

static store_team_outcome set_role(store_control *s, const char *id, const char *role)
{
    store_team_outcome outcome = STORE_TEAM_DONE;
    bs_err err = {0};
    assert_int_equal(store_control_member_set_role(s, TEAM_ORG, id, role, &outcome, &err), 0);
    return outcome;
}

static store_team_outcome remove_member(store_control *s, const char *id)
{
    store_team_outcome outcome = STORE_TEAM_DONE;
    bs_err err = {0};
    assert_int_equal(store_control_member_remove(s, TEAM_ORG, id, 50, &outcome, &err), 0);
    return outcome;
}

static void member_role_is(store_control *s, const char *id, const char *role)
{
    store_member m;
    int found = 0;
    bs_err err = {0};
    assert_int_equal(store_control_member_get(s, TEAM_ORG, id, &m, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(m.role, role);
}

/* Members: e-mails unique without case, search and role filters with a total, the last owner stays. */
static void test_team_members(void **state)
{
    cs_fixture *f = cs_fix(state);
    bootstrap_bare(f->store);
    bs_err err = {0};
    store_member a = make_member("mem_a", "", "owner", 1), b = make_member("mem_b", "Bob@X.io", "member", 2);
    store_member dup = make_member("mem_c", "bob@x.IO", "admin", 3);
    assert_int_equal(store_control_member_insert(f->store, &a, &err), 0);
    assert_int_equal(store_control_member_insert(f->store, &b, &err), 0);
    assert_int_equal(store_control_member_insert(f->store, &dup, &err), -1);
    assert_int_equal(err.status, 409);
    assert_string_equal(err.code, "common/conflict");
    assert_string_equal(err.message, "the organization already has a member with this e-mail");
    store_member got;
    int found = 0;
    assert_int_equal(store_control_member_find_email(f->store, TEAM_ORG, "BOB@x.io", &got, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(got.id, "mem_b");
    assert_string_equal(got.email, "Bob@X.io");
    assert_int_equal(got.joined_at, 2);
    assert_int_equal(store_control_member_find_email(f->store, TEAM_ORG, "", &got, &found, &err), 0);
    assert_int_equal(found, 0); /* the owner without e-mail is not found by "" */
    assert_int_equal(store_control_member_get(f->store, "org_other", "mem_b", &got, &found, &err), 0);
    assert_int_equal(found, 0);
    store_member rows[4];
    size_t n = 0;
    int64_t total = 0;
    store_member_query q = {.organization_id = TEAM_ORG, .search = "BOB", .limit = 4};
    assert_int_equal(store_control_member_list(f->store, &q, rows, &n, &total, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(total, 1);
    q = (store_member_query){.organization_id = TEAM_ORG, .search = "name of mem_a", .limit = 4};
    assert_int_equal(store_control_member_list(f->store, &q, rows, &n, &total, &err), 0);
    assert_int_equal(total, 1); /* names are searched too, without case */
    q = (store_member_query){.organization_id = TEAM_ORG, .limit = 1, .offset = 1};
    assert_int_equal(store_control_member_list(f->store, &q, rows, &n, &total, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(total, 2);
    assert_string_equal(rows[0].id, "mem_b"); /* oldest first */
    q = (store_member_query){.organization_id = TEAM_ORG, .limit = 4, .offset = 7};
    assert_int_equal(store_control_member_list(f->store, &q, rows, &n, &total, &err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(total, 2);
    q = (store_member_query){.organization_id = TEAM_ORG, .role = "owner", .limit = 4};
    assert_int_equal(store_control_member_list(f->store, &q, rows, &n, &total, &err), 0);
    assert_int_equal(total, 1);
    assert_string_equal(rows[0].email, "");
    assert_int_equal(set_role(f->store, "mem_a", "admin"), STORE_TEAM_LAST_OWNER);
    assert_int_equal(remove_member(f->store, "mem_a"), STORE_TEAM_LAST_OWNER);
    assert_int_equal(set_role(f->store, "mem_zz", "admin"), STORE_TEAM_NOT_FOUND);
    assert_int_equal(set_role(f->store, "mem_b", "owner"), STORE_TEAM_DONE);
    assert_int_equal(set_role(f->store, "mem_a", "billing"), STORE_TEAM_DONE);
    member_role_is(f->store, "mem_a", "billing");
    assert_int_equal(store_control_member_transfer(f->store, TEAM_ORG, "mem_a", &found, &err), 0);
    assert_int_equal(found, 1);
    member_role_is(f->store, "mem_a", "owner");
    member_role_is(f->store, "mem_b", "admin");
    assert_int_equal(store_control_member_transfer(f->store, TEAM_ORG, "mem_zz", &found, &err), 0);
    assert_int_equal(found, 0);
    member_role_is(f->store, "mem_a", "owner");
    assert_int_equal(remove_member(f->store, "mem_b"), STORE_TEAM_DONE);
    assert_int_equal(remove_member(f->store, "mem_b"), STORE_TEAM_NOT_FOUND);
}

/* A member-bound token takes its member's current role and is revoked with the member; a service token
 * keeps its own role. */
static void test_team_tokens_follow_member(void **state)
{
    cs_fixture *f = cs_fix(state);
    bootstrap_bare(f->store);
    bs_err err = {0};
    store_member a = make_member("mem_a", "a@x.io", "owner", 1), b = make_member("mem_b", "b@x.io", "member", 2);
    assert_int_equal(store_control_member_insert(f->store, &a, &err), 0);
    assert_int_equal(store_control_member_insert(f->store, &b, &err), 0);
    store_operator_token tb = make_token("tok_b", "mem_b", "member", 'd'), ghost = make_token("tok_g", "mem_gone", "owner", 'e');
    assert_int_equal(store_control_operator_token_insert(f->store, &tb, &err), 0);
    assert_int_equal(store_control_operator_token_insert(f->store, &ghost, &err), 0);
    char hash[STORE_HASH_HEX];
    store_token_context ctx;
    int found = 0;
    fake_hash(hash, 'd');
    assert_int_equal(set_role(f->store, "mem_b", "admin"), STORE_TEAM_DONE);
    assert_int_equal(store_control_token_lookup(f->store, hash, &ctx, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(ctx.role, "admin");
    assert_string_equal(ctx.member_id, "mem_b");
    assert_int_equal(ctx.revoked_at, 0);
    fake_hash(hash, 'c'); /* the bootstrap token: a service token */
    assert_int_equal(store_control_token_lookup(f->store, hash, &ctx, &found, &err), 0);
    assert_string_equal(ctx.role, "owner");
    assert_string_equal(ctx.member_id, "");
    fake_hash(hash, 'e'); /* bound to a member that does not exist: revoked */
    assert_int_equal(store_control_token_lookup(f->store, hash, &ctx, &found, &err), 0);
    assert_true(ctx.revoked_at != 0);
    store_operator_token_row rows[4];
    size_t n = 0;
    assert_int_equal(store_control_operator_token_list(f->store, TEAM_ORG, rows, 4, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(rows[0].token.id, "tok_b"); /* oldest first, then by id */
    assert_string_equal(rows[0].token.role, "admin");
    assert_string_equal(rows[1].token.id, "tok_g");
    assert_true(rows[1].revoked_at != 0);
    assert_string_equal(rows[2].token.id, "tok_00000000000000000001");
    assert_string_equal(rows[2].token.member_id, "");
    assert_string_equal(rows[2].token.role, "owner");
    assert_int_equal(rows[2].revoked_at, 0);
    assert_int_equal(store_control_operator_token_list(f->store, TEAM_ORG, rows, 1, &n, &err), 0);
    assert_int_equal(n, 1);
    store_operator_token_row row;
    assert_int_equal(store_control_operator_token_get(f->store, TEAM_ORG, "tok_b", &row, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(row.token.role, "admin");
    assert_string_equal(row.token.member_id, "mem_b");
    assert_string_equal(row.token.hash, tb.hash);
    assert_string_equal(row.token.hint, "bt_x");
    assert_int_equal(row.token.expires_at, 0);
    assert_int_equal(row.revoked_at, 0);
    assert_int_equal(store_control_operator_token_get(f->store, "org_other", "tok_b", &row, &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(remove_member(f->store, "mem_b"), STORE_TEAM_DONE);
    assert_int_equal(store_control_operator_token_get(f->store, TEAM_ORG, "tok_b", &row, &found, &err), 0);
    assert_int_equal(row.revoked_at, 50);
    fake_hash(hash, 'd');
    assert_int_equal(store_control_token_lookup(f->store, hash, &ctx, &found, &err), 0);
    assert_true(ctx.revoked_at != 0);
}

/* Two owners demoted at the same time, from two threads: exactly one of them stays owner. Each round
 * has an organization of its own. */
typedef struct demotion {
    store_control *store;
    char org[STORE_ID_MAX], id[STORE_ID_MAX];
    store_team_outcome outcome;
} demotion;

static void *demote(void *arg)
{
    demotion *j = arg;
    bs_err err = {0};
    if (store_control_member_set_role(j->store, j->org, j->id, "admin", &j->outcome, &err) != 0)
        j->outcome = (store_team_outcome)-1;
    return NULL;
}

static void test_team_last_owner_concurrent(void **state)
{
    cs_fixture *f = cs_fix(state);
    bs_err err = {0};
    for (int round = 0; round < 10; round++) {
        store_bootstrap b;
        make_bootstrap(&b);
        snprintf(b.org.id, sizeof b.org.id, "org_race%d", round);
        snprintf(b.org.slug, sizeof b.org.slug, "race-%d", round);
        assert_int_equal(store_control_org_insert(f->store, &b.org, &err), 0);
        demotion ja = {.store = f->store}, jb = {.store = f->store};
        snprintf(ja.org, sizeof ja.org, "%s", b.org.id);
        snprintf(jb.org, sizeof jb.org, "%s", b.org.id);
        snprintf(ja.id, sizeof ja.id, "mem_a%d", round);
        snprintf(jb.id, sizeof jb.id, "mem_b%d", round);
        store_member a = make_member(ja.id, "a@x.io", "owner", 1), m = make_member(jb.id, "b@x.io", "owner", 2);
        snprintf(a.organization_id, sizeof a.organization_id, "%s", b.org.id);
        snprintf(m.organization_id, sizeof m.organization_id, "%s", b.org.id);
        assert_int_equal(store_control_member_insert(f->store, &a, &err), 0);
        assert_int_equal(store_control_member_insert(f->store, &m, &err), 0);
        pthread_t ta, tb;
        assert_int_equal(pthread_create(&ta, NULL, demote, &ja), 0);
        assert_int_equal(pthread_create(&tb, NULL, demote, &jb), 0);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        assert_true((ja.outcome == STORE_TEAM_DONE) != (jb.outcome == STORE_TEAM_DONE));
        assert_true(ja.outcome == STORE_TEAM_LAST_OWNER || jb.outcome == STORE_TEAM_LAST_OWNER);
    }
}

static int64_t invitations_with(store_control *s, const char *status, int64_t now)
{
    store_org_invitation rows[4];
    size_t n = 0;
    int64_t total = 0;
    bs_err err = {0};
    store_org_invitation_query q = {.organization_id = TEAM_ORG, .status = status, .now = now, .limit = 4};
    assert_int_equal(store_control_invitation_list(s, &q, rows, &n, &total, &err), 0);
    assert_int_equal((int64_t)n, total);
    return total;
}

/* Invitations: a new one for the same e-mail replaces the unaccepted ones; status as of now; revoking
 * and accepting only while pending; accepting writes member, token and invitation together. */
static void test_team_invitations(void **state)
{
    cs_fixture *f = cs_fix(state);
    bootstrap_bare(f->store);
    bs_err err = {0};
    int64_t t0 = 1000;
    store_org_invitation v1 = make_invitation("inv_1", "new@x.io", '1', t0), v2 = make_invitation("inv_2", "NEW@x.io", '2', t0 + 1);
    store_org_invitation other = make_invitation("inv_3", "other@x.io", '3', t0 + 2);
    assert_int_equal(store_control_invitation_insert(f->store, &v1, &err), 0);
    assert_int_equal(store_control_invitation_insert(f->store, &v2, &err), 0);
    assert_int_equal(store_control_invitation_insert(f->store, &other, &err), 0);
    store_org_invitation got;
    int found = 0, accepted = 0;
    assert_int_equal(store_control_invitation_get(f->store, TEAM_ORG, "inv_1", &got, &found, &err), 0);
    assert_int_equal(found, 0); /* replaced by inv_2 */
    char hash[STORE_HASH_HEX];
    fake_hash(hash, '2');
    assert_int_equal(store_control_invitation_lookup(f->store, hash, &got, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(got.id, "inv_2");
    assert_string_equal(got.email, "NEW@x.io");
    assert_int_equal(got.expires_at, t0 + 1 + STORE_INVITATION_TTL_MS);
    store_org_invitation rows[4];
    size_t n = 0;
    int64_t total = 0;
    store_org_invitation_query q = {.organization_id = TEAM_ORG, .now = t0, .limit = 1};
    assert_int_equal(store_control_invitation_list(f->store, &q, rows, &n, &total, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(total, 2);
    assert_string_equal(rows[0].id, "inv_3"); /* newest first */
    assert_int_equal(invitations_with(f->store, NULL, t0), 2);
    assert_int_equal(invitations_with(f->store, "pending", t0 + 5), 2);
    assert_int_equal(invitations_with(f->store, "expired", t0 + STORE_INVITATION_TTL_MS + 5), 2);
    assert_int_equal(invitations_with(f->store, "", t0), 0); /* no such status */
    assert_int_equal(store_control_invitation_revoke(f->store, TEAM_ORG, "inv_3", t0 + 10, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(store_control_invitation_revoke(f->store, TEAM_ORG, "inv_3", t0 + 11, &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(store_control_invitation_revoke(f->store, TEAM_ORG, "inv_2", v2.expires_at, &found, &err), 0);
    assert_int_equal(found, 0); /* expired */
    assert_int_equal(invitations_with(f->store, "revoked", t0 + 20), 1);
    store_member m = make_member("mem_new", "new@x.io", "member", t0 + 30);
    store_operator_token t = make_token("tok_new", "mem_new", "member", '4');
    assert_int_equal(store_control_invitation_accept(f->store, "inv_3", t0 + 30, &m, &t, &accepted, &err), 0);
    assert_int_equal(accepted, 0); /* revoked */
    assert_int_equal(store_control_invitation_accept(f->store, "inv_2", v2.expires_at, &m, &t, &accepted, &err), 0);
    assert_int_equal(accepted, 0); /* expired */
    assert_int_equal(store_control_invitation_accept(f->store, "inv_2", t0 + 30, &m, &t, &accepted, &err), 0);
    assert_int_equal(accepted, 1);
    assert_int_equal(store_control_invitation_get(f->store, TEAM_ORG, "inv_2", &got, &found, &err), 0);
    assert_int_equal(got.accepted_at, t0 + 30);
    assert_string_equal(got.member_id, "mem_new");
    member_role_is(f->store, "mem_new", "member");
    store_token_context ctx;
    fake_hash(hash, '4');
    assert_int_equal(store_control_token_lookup(f->store, hash, &ctx, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(ctx.member_id, "mem_new");
    assert_int_equal(invitations_with(f->store, "accepted", t0 + 40), 1);
    assert_int_equal(store_control_invitation_accept(f->store, "inv_2", t0 + 31, &m, &t, &accepted, &err), 0);
    assert_int_equal(accepted, 0); /* used */
    /* the e-mail became a member meanwhile: 409 and nothing written */
    store_org_invitation v5 = make_invitation("inv_5", "new@x.io", '5', t0 + 40);
    assert_int_equal(store_control_invitation_insert(f->store, &v5, &err), 0);
    assert_int_equal(store_control_invitation_get(f->store, TEAM_ORG, "inv_2", &got, &found, &err), 0);
    assert_int_equal(found, 1); /* accepted invitations are kept */
    store_member m2 = make_member("mem_new2", "New@X.io", "member", t0 + 41); /* the same e-mail but for case */
    store_operator_token t2 = make_token("tok_new2", "mem_new2", "member", '6');
    assert_int_equal(store_control_invitation_accept(f->store, "inv_5", t0 + 41, &m2, &t2, &accepted, &err), -1);
    assert_int_equal(err.status, 409);
    assert_int_equal(accepted, 0);
    assert_int_equal(store_control_invitation_get(f->store, TEAM_ORG, "inv_5", &got, &found, &err), 0);
    assert_int_equal(got.accepted_at, 0);
    assert_int_equal(store_control_operator_token_get(f->store, TEAM_ORG, "tok_new2", &(store_operator_token_row){0}, &found, &err), 0);
    assert_int_equal(found, 0);
}

/* The bootstrap token's member deleted behind the store's back (no public call removes the last owner):
 * the token reads as revoked at 1; a service token keeps its own role and expiry. */
static void test_token_member_gone(void **state)
{
    cs_fixture *f = cs_fix(state);
    bootstrap_default(f->store);
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
    assert_int_equal(store_control_operator_token_insert(f->store, &t, &err), 0);
    assert_int_equal(f->raw_exec(f, "DELETE FROM members"), 0);
    char hash[STORE_HASH_HEX];
    store_token_context tctx;
    int found = 0;
    fake_hash(hash, 'c');
    assert_int_equal(store_control_token_lookup(f->store, hash, &tctx, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(tctx.revoked_at, 1);
    fake_hash(hash, 'd');
    assert_int_equal(store_control_token_lookup(f->store, hash, &tctx, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(tctx.role, "admin");
    assert_string_equal(tctx.member_id, "");
    assert_int_equal(tctx.expires_at, 1893456000123);
    assert_int_equal(tctx.revoked_at, 0);
}

/* ---- console sessions and sign-in links ---- */

static store_console_session cs_session(char fill, const char *token_id, int64_t created, int64_t expires)
{
    store_console_session s;
    memset(&s, 0, sizeof s);
    fake_hash(s.hash, fill);
    snprintf(s.token_id, sizeof s.token_id, "%s", token_id);
    snprintf(s.csrf, sizeof s.csrf, "csrf-%c", fill);
    s.created_at = created;
    s.expires_at = expires;
    return s;
}

static int cs_session_found(store_control *store, char fill, store_console_session *out)
{
    char hash[STORE_HASH_HEX];
    fake_hash(hash, fill);
    int found = -1;
    bs_err err = {0};
    assert_int_equal(store_control_console_session_lookup(store, hash, out, &found, &err), 0);
    return found;
}

/* A session reads back with its token's context (the member's role), follows the token's revocation,
 * deletes once, and inserting one prunes those expired by then. */
static void test_console_sessions(void **state)
{
    cs_fixture *f = cs_fix(state);
    bootstrap_default(f->store);
    bs_err err = {0};
    store_console_session s = cs_session('1', "tok_00000000000000000001", 1000, 5000), got;
    assert_int_equal(store_control_console_session_insert(f->store, &s, &err), 0);
    assert_int_equal(cs_session_found(f->store, '1', &got), 1);
    assert_string_equal(got.token_id, "tok_00000000000000000001");
    assert_string_equal(got.csrf, "csrf-1");
    assert_int_equal(got.created_at, 1000);
    assert_int_equal(got.expires_at, 5000);
    assert_string_equal(got.token.token_id, "tok_00000000000000000001");
    assert_string_equal(got.token.organization_id, "org_00000000000000000001");
    assert_string_equal(got.token.role, "owner");
    assert_string_equal(got.token.member_id, "mem_00000000000000000001");
    assert_int_equal(got.token.revoked_at, 0);
    assert_int_equal(cs_session_found(f->store, '2', &got), 0);
    /* an unknown token: refused */
    store_console_session orphan = cs_session('3', "tok_nope", 1000, 5000);
    assert_int_equal(store_control_console_session_insert(f->store, &orphan, &err), -1);
    assert_int_equal(err.status, 409);
    /* revoking the token shows in the session */
    int found = 0;
    assert_int_equal(store_control_operator_token_revoke(f->store, "tok_00000000000000000001", 4242, &found, &err), 0);
    assert_int_equal(cs_session_found(f->store, '1', &got), 1);
    assert_int_equal(got.token.revoked_at, 4242);
    /* a later insert prunes the expired one */
    store_console_session later = cs_session('4', "tok_00000000000000000001", 5000, 9000);
    assert_int_equal(store_control_console_session_insert(f->store, &later, &err), 0);
    assert_int_equal(cs_session_found(f->store, '1', &got), 0);
    char hash[STORE_HASH_HEX];
    fake_hash(hash, '4');
    assert_int_equal(store_control_console_session_delete(f->store, hash, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(store_control_console_session_delete(f->store, hash, &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(cs_session_found(f->store, '4', &got), 0);
    /* sessions go with their organization */
    store_console_session last = cs_session('5', "tok_00000000000000000001", 6000, 9000);
    assert_int_equal(store_control_console_session_insert(f->store, &last, &err), 0);
    assert_int_equal(store_control_org_delete(f->store, "org_00000000000000000001", &found, &err), 0);
    assert_int_equal(cs_session_found(f->store, '5', &got), 0);
}

/* A link is used once, only before it expires; inserting one prunes the expired. */
static void test_console_links(void **state)
{
    cs_fixture *f = cs_fix(state);
    bootstrap_default(f->store);
    bs_err err = {0};
    store_console_link l, got;
    memset(&l, 0, sizeof l);
    fake_hash(l.hash, 'l');
    snprintf(l.organization_id, sizeof l.organization_id, "org_00000000000000000001");
    l.created_at = 1000;
    l.expires_at = 2000;
    assert_int_equal(store_control_console_link_insert(f->store, &l, &err), 0);
    int consumed = -1;
    assert_int_equal(store_control_console_link_consume(f->store, l.hash, 2000, &got, &consumed, &err), 0);
    assert_int_equal(consumed, 0); /* expired at 2000 */
    assert_int_equal(store_control_console_link_consume(f->store, l.hash, 1500, &got, &consumed, &err), 0);
    assert_int_equal(consumed, 1);
    assert_string_equal(got.organization_id, "org_00000000000000000001");
    assert_int_equal(got.used_at, 1500);
    assert_int_equal(got.expires_at, 2000);
    assert_int_equal(store_control_console_link_consume(f->store, l.hash, 1600, &got, &consumed, &err), 0);
    assert_int_equal(consumed, 0); /* used */
    char other[STORE_HASH_HEX];
    fake_hash(other, 'm');
    assert_int_equal(store_control_console_link_consume(f->store, other, 1500, &got, &consumed, &err), 0);
    assert_int_equal(consumed, 0); /* unknown */
    /* a new link prunes the expired one: the same code can be stored again */
    store_console_link again = l;
    again.created_at = 3000;
    again.expires_at = 4000;
    assert_int_equal(store_control_console_link_insert(f->store, &again, &err), 0);
    assert_int_equal(store_control_console_link_consume(f->store, l.hash, 3500, &got, &consumed, &err), 0);
    assert_int_equal(consumed, 1);
}

/* ---- the management plane: organizations, projects, environments, inactivity, placement, the activity
 * log, the outbox, OAuth providers and settings ---- */

#define DAY 86400000LL

/* Prerequisite rows through the public inserts: an organization (slug = id, plan free, created at 1), a
 * project (slug = id) created at `created`, an environment (name = id) created at `created`. */
static void cs_add_org(store_control *store, const char *id)
{
    store_org o;
    memset(&o, 0, sizeof o);
    snprintf(o.id, sizeof o.id, "%s", id);
    snprintf(o.name, sizeof o.name, "Org");
    snprintf(o.slug, sizeof o.slug, "%s", id);
    snprintf(o.plan, sizeof o.plan, "free");
    snprintf(o.status, sizeof o.status, "active");
    o.api_call_quota = o.storage_quota = o.mau_quota = o.bandwidth_quota = -1;
    o.created_at = o.updated_at = 1;
    bs_err err = {0};
    assert_int_equal(store_control_org_insert(store, &o, &err), 0);
}

static void cs_add_project(store_control *store, const char *id, const char *org, int64_t created)
{
    store_project p;
    memset(&p, 0, sizeof p);
    snprintf(p.id, sizeof p.id, "%s", id);
    snprintf(p.organization_id, sizeof p.organization_id, "%s", org);
    snprintf(p.name, sizeof p.name, "P");
    snprintf(p.slug, sizeof p.slug, "%s", id);
    snprintf(p.status, sizeof p.status, "active");
    p.created_at = created;
    p.updated_at = 1;
    bs_err err = {0};
    assert_int_equal(store_control_project_insert(store, &p, &err), 0);
}

static void cs_add_env(store_control *store, const char *id, const char *project, const char *type, const char *status,
                       int64_t created)
{
    store_env e;
    memset(&e, 0, sizeof e);
    snprintf(e.id, sizeof e.id, "%s", id);
    snprintf(e.project_id, sizeof e.project_id, "%s", project);
    snprintf(e.name, sizeof e.name, "%s", id);
    snprintf(e.type, sizeof e.type, "%s", type);
    snprintf(e.status, sizeof e.status, "%s", status);
    e.created_at = e.updated_at = created;
    bs_err err = {0};
    assert_int_equal(store_control_env_insert(store, &e, &err), 0);
}

/* org_1, prj_1 and one ready dev environment per id of envs. */
static void cs_add_tree(store_control *store, const char *const *envs, size_t n)
{
    cs_add_org(store, "org_1");
    cs_add_project(store, "prj_1", "org_1", 1);
    for (size_t i = 0; i < n; i++) cs_add_env(store, envs[i], "prj_1", "dev", "ready", 1);
}

/* Adds org_1 and fills o with an update of it: renamed, shown as "Shown", on growth, no notification
 * e-mail, an API-call quota of its own and the plan's other quotas, updated at 99. */
static void cs_renamed_org(store_control *store, store_org *o)
{
    cs_add_org(store, "org_1");
    memset(o, 0, sizeof *o);
    snprintf(o->id, sizeof o->id, "org_1");
    snprintf(o->name, sizeof o->name, "Renamed");
    snprintf(o->display_name, sizeof o->display_name, "Shown");
    snprintf(o->plan, sizeof o->plan, "growth");
    snprintf(o->status, sizeof o->status, "active");
    o->updated_at = 99;
    o->api_call_quota = 5000;
    o->storage_quota = o->mau_quota = o->bandwidth_quota = -1;
}

static void test_org_plane(void **state)
{
    cs_fixture *f = cs_fix(state);
    bs_err err = {0};
    int found = -1;
    store_org o;
    cs_renamed_org(f->store, &o);
    assert_int_equal(store_control_org_update(f->store, &o, &found, &err), 0);
    assert_int_equal(found, 1);
    store_org got;
    assert_int_equal(store_control_org_get(f->store, "org_1", &got, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(got.name, "Renamed");
    assert_string_equal(got.display_name, "Shown");
    assert_string_equal(got.plan, "growth");
    assert_string_equal(got.notification_email, "");
    assert_int_equal(got.api_call_quota, 5000);
    assert_int_equal(got.storage_quota, -1);
    assert_int_equal(got.updated_at, 99);
    assert_int_equal(got.created_at, 1); /* not written */
    snprintf(o.id, sizeof o.id, "org_none");
    assert_int_equal(store_control_org_update(f->store, &o, &found, &err), 0);
    assert_int_equal(found, 0);
}

/* What an organization update stores: "" e-mail and -1 quotas are NULL columns, not "" and -1
 * (test_org_plane checks what they read back as). Seen through a marker that SQL behind the store's back
 * writes only where the columns are NULL. */
static void test_org_update_stores_null(void **state)
{
    cs_fixture *f = cs_fix(state);
    store_org o;
    cs_renamed_org(f->store, &o);
    int found = 0;
    bs_err err = {0};
    assert_int_equal(store_control_org_update(f->store, &o, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(f->raw_exec(f, "UPDATE organizations SET name = 'stored as NULL' WHERE id = 'org_1'"
                                    " AND notification_email IS NULL AND storage_quota IS NULL AND mau_quota IS NULL"
                                    " AND bandwidth_quota IS NULL AND api_call_quota = 5000"),
                     0);
    store_org got;
    assert_int_equal(store_control_org_get(f->store, "org_1", &got, &found, &err), 0);
    assert_string_equal(got.name, "stored as NULL");
}

static void test_project_plane(void **state)
{
    cs_fixture *f = cs_fix(state);
    bs_err err = {0};
    int found = -1;
    cs_add_org(f->store, "org_1");
    cs_add_project(f->store, "prj_b", "org_1", 20);
    cs_add_project(f->store, "prj_a", "org_1", 10);
    cs_add_project(f->store, "prj_c", "org_1", 10);
    store_project ps[4];
    size_t count = 9;
    assert_int_equal(store_control_project_list(f->store, "org_1", ps, 4, &count, &err), 0);
    assert_int_equal(count, 3);
    assert_string_equal(ps[0].id, "prj_a"); /* oldest first, then by id */
    assert_string_equal(ps[1].id, "prj_c");
    assert_string_equal(ps[2].id, "prj_b");
    assert_string_equal(ps[0].settings, "{}");
    assert_string_equal(ps[0].primary_cloud, "");
    assert_int_equal(store_control_project_list(f->store, "org_1", ps, 2, &count, &err), 0);
    assert_int_equal(count, 2);

    store_project p = ps[0];
    snprintf(p.status, sizeof p.status, "deleted");
    snprintf(p.settings, sizeof p.settings, "{\"a\":1}");
    snprintf(p.primary_cloud, sizeof p.primary_cloud, "aws");
    p.updated_at = 7;
    assert_int_equal(store_control_project_update(f->store, &p, &found, &err), 0);
    assert_int_equal(found, 1);
    int64_t n = -1;
    assert_int_equal(store_control_project_count(f->store, "org_1", &n, &err), 0);
    assert_int_equal(n, 2); /* deleted ones are not counted */
    assert_int_equal(store_control_project_list(f->store, "org_1", ps, 1, &count, &err), 0);
    assert_string_equal(ps[0].settings, "{\"a\":1}");
    assert_string_equal(ps[0].primary_cloud, "aws");
    assert_string_equal(ps[0].status, "deleted");

    assert_int_equal(store_control_project_delete(f->store, "prj_b", &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(store_control_project_delete(f->store, "prj_b", &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(store_control_org_delete(f->store, "org_1", &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(store_control_project_list(f->store, "org_1", ps, 4, &count, &err), 0);
    assert_int_equal(count, 0); /* cascaded */
    assert_int_equal(store_control_project_count(f->store, "org_1", &n, &err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_control_org_delete(f->store, "org_1", &found, &err), 0);
    assert_int_equal(found, 0);
}

static void test_env_list_and_status(void **state)
{
    cs_fixture *f = cs_fix(state);
    bs_err err = {0};
    cs_add_org(f->store, "org_1");
    cs_add_project(f->store, "prj_1", "org_1", 1);
    cs_add_env(f->store, "env_b", "prj_1", "dev", "ready", 5);
    cs_add_env(f->store, "env_a", "prj_1", "prod", "creating", 3);
    store_env e[3];
    size_t count = 0;
    assert_int_equal(store_control_env_list(f->store, "prj_1", e, 3, &count, &err), 0);
    assert_int_equal(count, 2);
    assert_string_equal(e[0].id, "env_a");
    assert_string_equal(e[0].cluster, "");
    assert_int_equal(e[0].last_access_at, 0);
    assert_int_equal(e[1].created_at, 5);
    int found = 0;
    assert_int_equal(store_control_env_set_status(f->store, "env_a", "ready", 42, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(store_control_env_set_status(f->store, "env_x", "ready", 42, &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(store_control_env_list(f->store, "prj_1", e, 1, &count, &err), 0);
    assert_int_equal(count, 1);
    assert_string_equal(e[0].status, "ready");
    assert_int_equal(e[0].updated_at, 42);
    assert_int_equal(store_control_envs_unplaced(f->store, e, 3, &count, &err), 0);
    assert_int_equal(count, 2);
    assert_string_equal(e[0].id, "env_a");
}


static void test_inactivity(void **state)
{
    cs_fixture *f = cs_fix(state);
    bs_err err = {0};
    cs_add_org(f->store, "org_1");
    cs_add_project(f->store, "prj_1", "org_1", 1);
    cs_add_env(f->store, "env_dev", "prj_1", "dev", "active", 0);
    cs_add_env(f->store, "env_prod", "prj_1", "prod", "ready", 0);
    cs_add_env(f->store, "env_new", "prj_1", "dev", "creating", 0);
    int react = -1;
    assert_int_equal(store_control_env_touch(f->store, "env_prod", 20 * DAY, &react, &err), 0);
    assert_int_equal(react, 0);
    int64_t n = -1;
    assert_int_equal(store_control_env_shutdown_idle(f->store, 10 * DAY, 7 * DAY, 30 * DAY, &n, &err), 0);
    assert_int_equal(n, 1); /* env_dev: idle 10 days > 7; env_new is not ready/active */
    store_env e[4];
    size_t count = 9;
    assert_int_equal(store_control_env_deletions_due(f->store, 16 * DAY, e, 4, &count, &err), 0);
    assert_int_equal(count, 0);
    assert_int_equal(store_control_env_deletions_due(f->store, 17 * DAY, e, 4, &count, &err), 0);
    assert_int_equal(count, 1);
    assert_string_equal(e[0].id, "env_dev");
    assert_string_equal(e[0].status, "shutdown");
    assert_int_equal(e[0].shutdown_at, 10 * DAY);
    assert_int_equal(e[0].delete_at, 17 * DAY);
    int found = -1;
    assert_int_equal(store_control_env_cancel_deletion(f->store, "env_dev", &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(store_control_env_cancel_deletion(f->store, "env_dev", &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(store_control_env_deletions_due(f->store, 40 * DAY, e, 4, &count, &err), 0);
    assert_int_equal(count, 0);
    /* a use brings it back to what it was */
    assert_int_equal(store_control_env_touch(f->store, "env_dev", 41 * DAY, &react, &err), 0);
    assert_int_equal(react, 1);
    assert_int_equal(store_control_env_list(f->store, "prj_1", e, 4, &count, &err), 0);
    assert_int_equal(count, 3);
    assert_string_equal(e[0].id, "env_dev");
    assert_string_equal(e[0].status, "active");
    assert_int_equal(e[0].last_access_at, 41 * DAY);
    assert_int_equal(e[0].shutdown_at, 0);
    assert_int_equal(e[0].delete_at, 0);
    /* the prod environment: its last use counts, and its period is 30 days */
    assert_int_equal(store_control_env_shutdown_idle(f->store, 47 * DAY, 7 * DAY, 30 * DAY, &n, &err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_control_env_shutdown_idle(f->store, 50 * DAY, 7 * DAY, 30 * DAY, &n, &err), 0);
    assert_int_equal(n, 2); /* prod (idle since day 20: 30 days) and dev (since day 41: 9 days) */
    assert_int_equal(store_control_env_touch(f->store, "env_none", 1, &react, &err), 0);
    assert_int_equal(react, 0);
}

static void cs_place(store_control *store, const char *env, int dedicated, store_placement *out)
{
    bs_err err = {0};
    assert_int_equal(store_control_env_place(store, env, dedicated, 2, 100, out, &err), 0);
}

static void reclaim_and_reuse(cs_fixture *f);

static void test_placement(void **state)
{
    cs_fixture *f = cs_fix(state);
    const char *envs[] = {"env_1", "env_2", "env_3", "env_4", "env_5"};
    cs_add_tree(f->store, envs, 5);
    store_placement p;
    cs_place(f->store, "env_1", 0, &p); /* no cluster yet: the spare opens, a new spare stands by */
    assert_string_equal(p.cluster_id, "shared-1");
    assert_string_equal(p.kind, "shared");
    assert_int_equal(p.slot, 0);
    assert_int_equal(p.reused, 0);
    cs_place(f->store, "env_2", 0, &p); /* shares it up to its capacity */
    assert_string_equal(p.cluster_id, "shared-1");
    assert_int_equal(p.slot, 1);
    cs_place(f->store, "env_3", 0, &p); /* full: the spare opens */
    assert_string_equal(p.cluster_id, "shared-2");
    assert_int_equal(p.slot, 0);
    cs_place(f->store, "env_2", 0, &p); /* already placed: the same place */
    assert_string_equal(p.cluster_id, "shared-1");
    assert_int_equal(p.slot, 1);
    cs_place(f->store, "env_4", 1, &p);
    assert_string_equal(p.cluster_id, "dedicated-env_4");
    assert_string_equal(p.kind, "dedicated");
    assert_int_equal(p.slot, 0);

    bs_err err = {0};
    store_cluster c[8];
    size_t count = 0;
    assert_int_equal(store_control_cluster_list(f->store, c, 8, &count, &err), 0);
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
    assert_int_equal(store_control_env_placement(f->store, "env_3", &p, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(p.cluster_id, "shared-2");
    assert_int_equal(store_control_env_placement(f->store, "env_5", &p, &found, &err), 0);
    assert_int_equal(found, 0);
    assert_string_equal(p.cluster_id, "");
    store_env e[8];
    assert_int_equal(store_control_envs_unplaced(f->store, e, 8, &count, &err), 0);
    assert_int_equal(count, 1);
    assert_string_equal(e[0].id, "env_5");
    assert_int_equal(store_control_env_list(f->store, "prj_1", e, 8, &count, &err), 0);
    assert_string_equal(e[1].cluster, "shared-1");
    assert_int_equal(e[1].slot, 1);
    reclaim_and_reuse(f);
}

/* After test_placement's first part: deleted environments free their slots, reused first in, first out;
 * a dedicated cluster goes. */
static void reclaim_and_reuse(cs_fixture *f)
{
    bs_err err = {0};
    store_placement p;
    store_cluster c[8];
    size_t count = 0;
    int found = 0;
    assert_int_equal(store_control_env_delete(f->store, "env_2", &found, &err), 0);
    int64_t n = 0;
    assert_int_equal(store_control_slots_reclaim(f->store, 200, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(store_control_env_delete(f->store, "env_1", &found, &err), 0);
    assert_int_equal(store_control_env_delete(f->store, "env_4", &found, &err), 0);
    assert_int_equal(store_control_slots_reclaim(f->store, 300, &n, &err), 0);
    assert_int_equal(n, 1); /* env_1's slot; env_4's cluster was removed */
    assert_int_equal(store_control_slots_reclaim(f->store, 400, &n, &err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_control_cluster_list(f->store, c, 8, &count, &err), 0);
    assert_int_equal(count, 3);
    assert_int_equal(c[0].used, 0);
    cs_place(f->store, "env_5", 0, &p);
    assert_string_equal(p.cluster_id, "shared-1");
    assert_int_equal(p.slot, 1); /* freed at 200, before slot 0 (300) */
    assert_int_equal(p.reused, 1);
    assert_int_equal(store_control_cluster_list(f->store, c, 1, &count, &err), 0);
    assert_int_equal(count, 1);
    assert_int_equal(c[0].used, 1);
}

static void cs_cluster_add(store_control *store, const char *id, const char *kind, int capacity, const char *url)
{
    store_cluster c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "%s", id);
    snprintf(c.kind, sizeof c.kind, "%s", kind);
    snprintf(c.url, sizeof c.url, "%s", url);
    c.capacity = capacity;
    bs_err err = {0};
    assert_int_equal(store_control_cluster_add(store, &c, 50, &err), 0);
}

/* Moving environments: the target's checks (unknown cluster, no server, already there, draining, full) and
 * the commit: a shared slot joins the reuse queue (and is the next target there), a dedicated cluster Basalt
 * made goes, a registered server's slot frees, a place taken meanwhile is refused. */
static void test_env_move_places(void **state)
{
    cs_fixture *f = cs_fix(state);
    const char *envs[] = {"env_1", "env_2", "env_3"};
    cs_add_tree(f->store, envs, 3);
    bs_err err = {0};
    store_placement p, t;
    cs_place(f->store, "env_1", 0, &p); /* shared-1 slot 0 */
    cs_place(f->store, "env_2", 1, &p); /* dedicated-env_2 */
    cs_cluster_add(f->store, "big1", "dedicated", 1, "postgres://u:pw@h1:5432/b");
    assert_int_equal(store_control_env_move_target(f->store, "env_1", "nope", &t, &err), -1);
    assert_int_equal(err.status, 404);
    assert_int_equal(store_control_env_move_target(f->store, "env_1", "dedicated-env_2", &t, &err), -1);
    assert_int_equal(err.status, 400); /* no server */
    assert_int_equal(store_control_env_move_target(f->store, "env_1", "big1", &t, &err), 0);
    assert_string_equal(t.kind, "dedicated");
    assert_string_equal(t.url, "postgres://u:pw@h1:5432/b");
    assert_int_equal(t.slot, 0);
    assert_int_equal(store_control_env_move_commit(f->store, "env_1", &t, 200, &err), 0);
    int found = 0;
    assert_int_equal(store_control_env_placement(f->store, "env_1", &p, &found, &err), 0);
    assert_string_equal(p.cluster_id, "big1");
    store_env e;
    assert_int_equal(store_control_env_get(f->store, "env_1", &e, &found, &err), 0);
    assert_string_equal(e.cluster, "big1");
    assert_int_equal(store_control_env_move_target(f->store, "env_1", "big1", &t, &err), -1);
    assert_int_equal(err.status, 409); /* there already */
    assert_int_equal(store_control_env_move_target(f->store, "env_2", "big1", &t, &err), -1);
    assert_int_equal(err.status, 409); /* full */
    cs_place(f->store, "env_3", 0, &p); /* the slot env_1 freed is reused */
    assert_string_equal(p.cluster_id, "shared-1");
    assert_int_equal(p.slot, 0);
    assert_int_equal(p.reused, 1);
    cs_cluster_add(f->store, "pool1", "shared", 3, "postgres://u:pw@h2:5432/b");
    /* env_2 leaves its dedicated cluster Basalt made: the cluster goes */
    assert_int_equal(store_control_env_move_target(f->store, "env_2", "pool1", &t, &err), 0);
    assert_int_equal(t.slot, 0);
    store_placement stale = t;
    assert_int_equal(store_control_env_move_commit(f->store, "env_2", &t, 300, &err), 0);
    store_cluster c[8];
    size_t n = 0;
    assert_int_equal(store_control_cluster_list(f->store, c, 8, &n, &err), 0);
    for (size_t i = 0; i < n; i++) assert_string_not_equal(c[i].id, "dedicated-env_2");
    /* env_1 leaves big1 (a server's slot frees) for pool1: slot 1 (0 is env_2's); a stale target is refused */
    assert_int_equal(store_control_env_move_commit(f->store, "env_1", &stale, 400, &err), -1);
    assert_int_equal(err.status, 409);
    assert_int_equal(store_control_env_move_target(f->store, "env_1", "pool1", &t, &err), 0);
    assert_int_equal(t.slot, 1);
    assert_int_equal(store_control_env_move_commit(f->store, "env_1", &t, 500, &err), 0);
    assert_int_equal(store_control_env_move_target(f->store, "env_2", "big1", &t, &err), 0); /* room again */
    assert_int_equal(store_control_cluster_set_status(f->store, "big1", "draining", &found, &err), 0);
    assert_int_equal(store_control_env_move_target(f->store, "env_2", "big1", &t, &err), -1);
    assert_int_equal(err.status, 409); /* draining */
}

/* Clusters as data: a registered dedicated server takes staging/prod environments up to its capacity (the
 * fewest first), a registered shared server takes dev slots first; draining stops new placements; a
 * deleted environment frees its place on a server without removing the server. */
static void test_registered_clusters(void **state)
{
    cs_fixture *f = cs_fix(state);
    const char *envs[] = {"env_1", "env_2", "env_3", "env_4", "env_5", "env_6"};
    cs_add_tree(f->store, envs, 6);
    bs_err err = {0};
    cs_cluster_add(f->store, "big1", "dedicated", 2, "postgres://u:pw@h1:5432/b");
    cs_cluster_add(f->store, "big2", "dedicated", 2, "postgres://u:pw@h2:5432/b");
    store_cluster dup;
    memset(&dup, 0, sizeof dup);
    snprintf(dup.id, sizeof dup.id, "big1");
    snprintf(dup.kind, sizeof dup.kind, "shared");
    assert_int_equal(store_control_cluster_add(f->store, &dup, 51, &err), -1);
    assert_int_equal(err.status, 409);
    store_placement p;
    cs_place(f->store, "env_1", 1, &p);
    assert_string_equal(p.cluster_id, "big1");
    assert_string_equal(p.kind, "dedicated");
    assert_string_equal(p.url, "postgres://u:pw@h1:5432/b");
    cs_place(f->store, "env_2", 1, &p); /* the fewest environments */
    assert_string_equal(p.cluster_id, "big2");
    cs_place(f->store, "env_3", 1, &p);
    assert_string_equal(p.cluster_id, "big1");
    assert_int_equal(p.slot, 1);
    int found = 0;
    assert_int_equal(store_control_cluster_set_status(f->store, "big2", "draining", &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(store_control_cluster_set_status(f->store, "none", "draining", &found, &err), 0);
    assert_int_equal(found, 0);
    cs_place(f->store, "env_4", 1, &p); /* big1 full, big2 draining: a database of its own on the default */
    assert_string_equal(p.cluster_id, "dedicated-env_4");
    assert_string_equal(p.url, "");
    cs_cluster_add(f->store, "pool1", "shared", 5, "postgres://u:pw@h3:5432/b");
    cs_place(f->store, "env_5", 0, &p);
    assert_string_equal(p.cluster_id, "pool1");
    assert_string_equal(p.kind, "shared");
    assert_string_equal(p.url, "postgres://u:pw@h3:5432/b");
    assert_int_equal(store_control_env_placement(f->store, "env_2", &p, &found, &err), 0);
    assert_string_equal(p.url, "postgres://u:pw@h2:5432/b"); /* draining: those placed stay */

    store_cluster c[8];
    size_t count = 0;
    assert_int_equal(store_control_cluster_list(f->store, c, 8, &count, &err), 0);
    assert_int_equal(count, 4);
    assert_string_equal(c[0].id, "big1");
    assert_string_equal(c[0].status, "active");
    assert_int_equal(c[0].used, 2);
    assert_int_equal(c[0].capacity, 2);
    assert_string_equal(c[1].status, "draining");
    assert_string_equal(c[1].url, "postgres://u:pw@h2:5432/b");
    assert_string_equal(c[2].url, "");

    assert_int_equal(store_control_env_delete(f->store, "env_1", &found, &err), 0);
    int64_t n = 0;
    assert_int_equal(store_control_slots_reclaim(f->store, 200, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(store_control_cluster_list(f->store, c, 8, &count, &err), 0);
    assert_int_equal(count, 4); /* the server stays */
    assert_int_equal(c[0].used, 1);
    cs_place(f->store, "env_6", 1, &p); /* room again */
    assert_string_equal(p.cluster_id, "big1");
    assert_int_equal(p.slot, 2);
}

#define RACERS 6
#define RACE_ENVS 8

typedef struct racer {
    store_control *store;
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
        if (store_control_env_place(r->store, env, i % 4 == 3, 3, 100 + i, &r->got[i], &err) != 0) r->failures++;
    }
    return NULL;
}

/* Two handles on the same store (as two processes) place at once from several threads: every slot is
 * held once, no cluster holds more than its capacity, the shared clusters fill without a gap. */
static void test_concurrent_placement(void **state)
{
    cs_fixture *f = cs_fix(state);
    cs_add_org(f->store, "org_1");
    cs_add_project(f->store, "prj_1", "org_1", 1);
    for (int t = 0; t < RACERS; t++)
        for (int i = 0; i < RACE_ENVS; i++) {
            char env[32];
            snprintf(env, sizeof env, "env_%d_%d", t, i);
            cs_add_env(f->store, env, "prj_1", "dev", "ready", 1);
        }
    bs_err err = {0};
    store_control *other = store_control_open(f->location, &err);
    assert_non_null(other);
    racer r[RACERS];
    pthread_t th[RACERS];
    for (int t = 0; t < RACERS; t++) {
        memset(&r[t], 0, sizeof r[t]);
        r[t].store = t % 2 ? other : f->store;
        r[t].index = t;
        assert_int_equal(pthread_create(&th[t], NULL, race, &r[t]), 0);
    }
    for (int t = 0; t < RACERS; t++) pthread_join(th[t], NULL);
    store_control_free(other);
    for (int t = 0; t < RACERS; t++) assert_int_equal(r[t].failures, 0);
    /* every environment's place, as stored, is its own */
    char seen[RACERS * RACE_ENVS][STORE_ID_MAX + 16];
    size_t nseen = 0;
    for (int t = 0; t < RACERS; t++)
        for (int i = 0; i < RACE_ENVS; i++) {
            char env[32];
            snprintf(env, sizeof env, "env_%d_%d", t, i);
            store_placement p;
            int found = 0;
            assert_int_equal(store_control_env_placement(f->store, env, &p, &found, &err), 0);
            assert_int_equal(found, 1);
            assert_string_equal(p.cluster_id, r[t].got[i].cluster_id);
            assert_int_equal(p.slot, r[t].got[i].slot);
            snprintf(seen[nseen], sizeof seen[nseen], "%s:%d", p.cluster_id, p.slot);
            for (size_t k = 0; k < nseen; k++) assert_string_not_equal(seen[k], seen[nseen]);
            nseen++;
        }
    store_cluster c[64];
    size_t count = 0;
    assert_int_equal(store_control_cluster_list(f->store, c, 64, &count, &err), 0);
    int used = 0, spare = 0, shared_active = 0;
    for (size_t k = 0; k < count; k++) {
        assert_true(c[k].used <= c[k].capacity);
        used += c[k].used;
        if (strcmp(c[k].status, "spare") == 0) spare++;
        else if (strcmp(c[k].kind, "shared") == 0) {
            shared_active++;
            assert_int_equal(c[k].used, c[k].capacity); /* 36 shared environments in clusters of 3: no gap */
        }
    }
    assert_int_equal(used, 48);
    assert_int_equal(spare, 1);
    assert_int_equal(shared_active, 12);
}

static void cs_add_activity(store_control *store, const char *entity_type, const char *action, const char *message, int64_t at)
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
    assert_int_equal(store_control_activity_add(store, &a, &err), 0);
}

static void test_activity_paging(void **state)
{
    cs_fixture *f = cs_fix(state);
    cs_add_org(f->store, "org_1");
    cs_add_activity(f->store, "project", "create", "Created project Alpha", 10);
    cs_add_activity(f->store, "project", "update", "Renamed project ALPHA_1", 20);
    cs_add_activity(f->store, "key", "create", "Created key 50% off", 20);
    cs_add_activity(f->store, "environment", "delete", "Deleted environment beta", 30);
    cs_add_activity(f->store, "project", "delete", "Deleted project gamma", 40);
    store_activity out[8];
    size_t count = 0;
    int64_t total = 0;
    bs_err err = {0};
    store_activity_query q = {.organization_id = "org_1", .limit = 2, .offset = 1};
    assert_int_equal(store_control_activity_list(f->store, &q, out, &count, &total, &err), 0);
    assert_int_equal(total, 5);
    assert_int_equal(count, 2);
    assert_string_equal(out[0].message, "Deleted environment beta");
    assert_string_equal(out[1].message, "Created key 50% off"); /* same time: the later id first */
    assert_true(out[1].id > 0);
    assert_string_equal(out[1].project_id, "");
    assert_int_equal(out[1].at, 20);
    q = (store_activity_query){.organization_id = "org_1", .limit = 10, .entity_type = "project"};
    assert_int_equal(store_control_activity_list(f->store, &q, out, &count, &total, &err), 0);
    assert_int_equal(total, 3);
    assert_int_equal(count, 3);
    assert_true(out[2].id < out[1].id);
    q = (store_activity_query){.organization_id = "org_1", .limit = 10, .search = "alpha"};
    assert_int_equal(store_control_activity_list(f->store, &q, out, &count, &total, &err), 0);
    assert_int_equal(total, 2); /* case-insensitive substring */
    q.search = "_1";            /* no wildcards: '_' and '%' are themselves */
    assert_int_equal(store_control_activity_list(f->store, &q, out, &count, &total, &err), 0);
    assert_int_equal(total, 1);
    q.search = "0%";
    assert_int_equal(store_control_activity_list(f->store, &q, out, &count, &total, &err), 0);
    assert_int_equal(total, 1);
    assert_string_equal(out[0].entity_type, "key");
    q = (store_activity_query){.organization_id = "org_1", .limit = 10, .action = "delete", .entity_type = "project"};
    assert_int_equal(store_control_activity_list(f->store, &q, out, &count, &total, &err), 0);
    assert_int_equal(total, 1);
    assert_string_equal(out[0].message, "Deleted project gamma");
    q = (store_activity_query){.organization_id = "org_1", .limit = 10, .offset = 10};
    assert_int_equal(store_control_activity_list(f->store, &q, out, &count, &total, &err), 0);
    assert_int_equal(count, 0);
    assert_int_equal(total, 5);
    q = (store_activity_query){.organization_id = "org_2", .limit = 10};
    assert_int_equal(store_control_activity_list(f->store, &q, out, &count, &total, &err), 0);
    assert_int_equal(total, 0);
}

static void cs_add_mail(store_control *store, const char *id, const char *env, const char *org, int64_t at)
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
    assert_int_equal(store_control_outbox_add(store, &m, &err), 0);
}

static void test_outbox(void **state)
{
    cs_fixture *f = cs_fix(state);
    const char *envs[] = {"env_1"};
    cs_add_tree(f->store, envs, 1);
    cs_add_mail(f->store, "m_2", "env_1", "", 5);
    cs_add_mail(f->store, "m_1", "env_1", "", 5);
    cs_add_mail(f->store, "m_0", "env_1", "", 1);
    cs_add_mail(f->store, "o_1", "", "org_1", 3);
    store_mail out[4];
    size_t count = 0;
    bs_err err = {0};
    assert_int_equal(store_control_outbox_list(f->store, "env_1", out, 4, &count, &err), 0);
    assert_int_equal(count, 3);
    assert_string_equal(out[0].id, "m_1"); /* newest first; same time: the later one */
    assert_string_equal(out[1].id, "m_2");
    assert_string_equal(out[2].id, "m_0");
    assert_string_equal(out[0].environment_id, "env_1");
    assert_string_equal(out[0].organization_id, "");
    assert_string_equal(out[0].subject, "Subject m_1");
    assert_string_equal(out[0].template_name, "verify");
    assert_int_equal(store_control_outbox_list(f->store, "env_1", out, 1, &count, &err), 0);
    assert_int_equal(count, 1);
    assert_int_equal(store_control_org_outbox_list(f->store, "org_1", out, 4, &count, &err), 0);
    assert_int_equal(count, 1);
    assert_string_equal(out[0].organization_id, "org_1");
    assert_string_equal(out[0].environment_id, "");
    assert_int_equal(out[0].created_at, 3);
    store_mail m = {0};
    snprintf(m.id, sizeof m.id, "m_x");
    snprintf(m.environment_id, sizeof m.environment_id, "env_none");
    assert_int_equal(store_control_outbox_add(f->store, &m, &err), -1);
    assert_int_equal(err.status, 409);
}

static void test_providers_and_settings(void **state)
{
    cs_fixture *f = cs_fix(state);
    const char *envs[] = {"env_1"};
    cs_add_tree(f->store, envs, 1);
    bs_err err = {0};
    store_provider p = {0};
    snprintf(p.environment_id, sizeof p.environment_id, "env_1");
    snprintf(p.provider, sizeof p.provider, "github");
    snprintf(p.client_id, sizeof p.client_id, "cid");
    snprintf(p.secret_sealed, sizeof p.secret_sealed, "sealed");
    snprintf(p.redirect_uris, sizeof p.redirect_uris, "[\"https://a\"]");
    p.enabled = 1;
    p.updated_at = 5;
    assert_int_equal(store_control_provider_put(f->store, &p, &err), 0);
    p.enabled = 0;
    p.updated_at = 6;
    snprintf(p.client_id, sizeof p.client_id, "cid2");
    assert_int_equal(store_control_provider_put(f->store, &p, &err), 0); /* replaces */
    store_provider got;
    int found = 0;
    assert_int_equal(store_control_provider_get(f->store, "env_1", "github", &got, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(got.client_id, "cid2");
    assert_string_equal(got.secret_sealed, "sealed");
    assert_string_equal(got.redirect_uris, "[\"https://a\"]");
    assert_int_equal(got.enabled, 0);
    assert_int_equal(got.updated_at, 6);
    assert_int_equal(store_control_provider_get(f->store, "env_1", "google", &got, &found, &err), 0);
    assert_int_equal(found, 0);

    char v[16];
    assert_int_equal(store_control_setting_get(f->store, "env_1", "auth", v, sizeof v, &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(store_control_setting_put(f->store, "env_1", "auth", "{\"a\":1}", &err), 0);
    assert_int_equal(store_control_setting_put(f->store, "env_1", "auth", "{\"a\":2}", &err), 0);
    assert_int_equal(store_control_setting_get(f->store, "env_1", "auth", v, sizeof v, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(v, "{\"a\":2}");
    char small[4];
    assert_int_equal(store_control_setting_get(f->store, "env_1", "auth", small, sizeof small, &found, &err), -1);
    assert_int_equal(found, 0);
    assert_int_equal(err.status, 500);
    assert_int_equal(store_control_setting_delete(f->store, "env_1", "auth", &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(store_control_setting_delete(f->store, "env_1", "auth", &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(store_control_setting_put(f->store, "env_none", "auth", "{}", &err), -1);
    assert_int_equal(err.status, 409);
}


/* A stored value longer than its buffer (written behind the store's back: the public inserts cannot)
 * fails the list (500, *count = 0) rather than being cut short. */
static void test_too_long_fails(void **state)
{
    cs_fixture *f = cs_fix(state);
    cs_add_org(f->store, "org_1");
    cs_add_project(f->store, "prj_1", "org_1", 1);
    /* n characters of c: the SQL differs (SQLite has no repeat()) */
    int pg = f->engine == CS_POSTGRES;
    assert_int_equal(f->raw_exec(f, pg ? "UPDATE projects SET name = repeat('n', 500)"
                                       : "UPDATE projects SET name = replace(hex(zeroblob(250)), '0', 'n')"),
                     0);
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO activity (organization_id, actor, actor_type, entity_type, entity_id, action, message, at)"
             " VALUES ('org_1', 'a', 'token', 'project', 'x', 'create', %s, 1)",
             pg ? "repeat('m', 600)" : "replace(hex(zeroblob(300)), '0', 'm')");
    assert_int_equal(f->raw_exec(f, sql), 0);
    bs_err err = {0};
    store_project ps[2];
    size_t count = 9;
    assert_int_equal(store_control_project_list(f->store, "org_1", ps, 2, &count, &err), -1);
    assert_int_equal(count, 0);
    assert_int_equal(err.status, 500);
    store_activity a[2];
    int64_t total = 9;
    store_activity_query q = {.organization_id = "org_1", .limit = 2};
    assert_int_equal(store_control_activity_list(f->store, &q, a, &count, &total, &err), -1);
    assert_int_equal(count, 0);
    assert_int_equal(total, 0);
    /* the connection stays usable; (the driver's "a NULL key matches nothing" is not reachable through the
     * public API, which refuses a NULL organization before the driver) */
    assert_int_equal(f->raw_exec(f, "UPDATE projects SET name = 'short'"), 0);
    assert_int_equal(store_control_project_list(f->store, "org_1", ps, 2, &count, &err), 0);
    assert_int_equal(count, 1);
}

/* ---- usage alerts, webhook deliveries and usage rows (design.md §4, docs/usage.md): an organization
 * with a dev and a prod environment and one being deleted; T0 is 2026-01-01T00:00:00Z ---- */

#define U_ORG "org_00000000000000000001"
#define U_PROJECT "prj_00000000000000000001"
#define U_ENV "env_00000000000000000001"
#define HOUR (3600LL * 1000)
#define T0 1767225600000LL

static void usage_env(store_control *store, const char *id, const char *name, const char *type, const char *status,
                      int64_t created)
{
    store_env e;
    memset(&e, 0, sizeof e);
    snprintf(e.id, sizeof e.id, "%s", id);
    snprintf(e.project_id, sizeof e.project_id, U_PROJECT);
    snprintf(e.name, sizeof e.name, "%s", name);
    snprintf(e.type, sizeof e.type, "%s", type);
    snprintf(e.status, sizeof e.status, "%s", status);
    e.created_at = e.updated_at = created;
    bs_err err = {0};
    assert_int_equal(store_control_env_insert(store, &e, &err), 0);
}

static cs_fixture *usage_fix(void **state)
{
    cs_fixture *f = cs_fix(state);
    cs_add_org(f->store, U_ORG);
    cs_add_org(f->store, "org_other");
    cs_add_project(f->store, U_PROJECT, U_ORG, 1);
    usage_env(f->store, U_ENV, "dev", "dev", "ready", 1);
    usage_env(f->store, "env_prod", "prod", "prod", "ready", 2);
    usage_env(f->store, "env_gone", "old", "custom", "deleting", 3);
    return f;
}

static store_alert make_alert(const char *id, const char *month, int threshold, int64_t at)
{
    store_alert a;
    memset(&a, 0, sizeof a);
    snprintf(a.id, sizeof a.id, "%s", id);
    snprintf(a.organization_id, sizeof a.organization_id, U_ORG);
    snprintf(a.metric, sizeof a.metric, "api_call");
    snprintf(a.month, sizeof a.month, "%s", month);
    a.threshold = threshold;
    a.used = 80 * 1000;
    a.limit = 100 * 1000;
    a.created_at = at;
    return a;
}

static void test_alerts_once(void **state)
{
    cs_fixture *f = usage_fix(state);
    bs_err err = {0};
    int created = -1;
    store_alert a80 = make_alert("alr_1", "2026-01", 80, 10), again = make_alert("alr_2", "2026-01", 80, 11);
    store_alert a100 = make_alert("alr_3", "2026-01", 100, 12), feb = make_alert("alr_4", "2026-02", 80, 20);
    assert_int_equal(store_control_alert_add(f->store, &a80, &created, &err), 0);
    assert_int_equal(created, 1);
    assert_int_equal(store_control_alert_add(f->store, &again, &created, &err), 0);
    assert_int_equal(created, 0);
    assert_int_equal(store_control_alert_add(f->store, &a100, &created, &err), 0);
    assert_int_equal(created, 1);
    assert_int_equal(store_control_alert_add(f->store, &feb, &created, &err), 0);
    assert_int_equal(created, 1);
    store_alert rows[8];
    size_t n = 0;
    assert_int_equal(store_control_alert_list(f->store, U_ORG, "2026-01", rows, 8, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].id, "alr_3"); /* newest first */
    assert_int_equal(rows[0].threshold, 100);
    assert_int_equal(rows[0].used, 80 * 1000);
    assert_int_equal(rows[0].limit, 100 * 1000);
    assert_string_equal(rows[1].id, "alr_1");
    assert_int_equal(store_control_alert_list(f->store, U_ORG, NULL, rows, 8, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(rows[0].month, "2026-02");
    assert_int_equal(store_control_alert_list(f->store, U_ORG, NULL, rows, 2, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(store_control_alert_list(f->store, "org_other", NULL, rows, 8, &n, &err), 0);
    assert_int_equal(n, 0);
}

static store_delivery make_delivery(const char *id, int64_t next_at, int64_t created_at)
{
    store_delivery d;
    memset(&d, 0, sizeof d);
    snprintf(d.id, sizeof d.id, "%s", id);
    snprintf(d.organization_id, sizeof d.organization_id, U_ORG);
    snprintf(d.project_id, sizeof d.project_id, U_PROJECT);
    snprintf(d.alert_id, sizeof d.alert_id, "alr_1");
    snprintf(d.url, sizeof d.url, "https://hooks.example/x");
    snprintf(d.payload, sizeof d.payload, "{\"type\":\"usage.threshold\",\"quote\":\"it's\"}");
    snprintf(d.status, sizeof d.status, "pending");
    d.next_at = next_at;
    d.created_at = d.updated_at = created_at;
    return d;
}

static void test_deliveries_due_and_update(void **state)
{
    cs_fixture *f = usage_fix(state);
    bs_err err = {0};
    store_delivery a = make_delivery("whd_a", 100, 1), b = make_delivery("whd_b", 50, 2), c = make_delivery("whd_c", 500, 3);
    assert_int_equal(store_control_delivery_add(f->store, &a, &err), 0);
    assert_int_equal(store_control_delivery_add(f->store, &b, &err), 0);
    assert_int_equal(store_control_delivery_add(f->store, &c, &err), 0);
    assert_int_equal(store_control_delivery_add(f->store, &c, &err), -1); /* same id */
    assert_int_equal(err.status, 409);
    store_delivery rows[4];
    size_t n = 0;
    assert_int_equal(store_control_deliveries_due(f->store, 100, rows, 4, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].id, "whd_b"); /* soonest first */
    assert_string_equal(rows[1].id, "whd_a");
    assert_string_equal(rows[1].payload, a.payload);
    assert_int_equal(store_control_deliveries_due(f->store, 100, rows, 4, &n, &err), 0);
    assert_int_equal(n, 0); /* claimed by the first call: no second claimer gets them */
    b.attempts = 1;
    b.last_status = 503;
    snprintf(b.last_error, sizeof b.last_error, "HTTP 503");
    b.next_at = 1000;
    b.updated_at = 60;
    assert_int_equal(store_control_delivery_update(f->store, &b, &err), 0);
    snprintf(a.status, sizeof a.status, "delivered");
    a.attempts = 1;
    a.last_status = 200;
    a.updated_at = 101;
    assert_int_equal(store_control_delivery_update(f->store, &a, &err), 0);
    assert_int_equal(store_control_deliveries_due(f->store, 600, rows, 4, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].id, "whd_c");
    assert_int_equal(store_control_delivery_list(f->store, U_ORG, rows, 4, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(rows[0].id, "whd_c"); /* newest first */
    assert_string_equal(rows[1].id, "whd_b");
    assert_int_equal(rows[1].attempts, 1);
    assert_int_equal(rows[1].last_status, 503);
    assert_string_equal(rows[1].last_error, "HTTP 503");
    assert_int_equal(rows[1].next_at, 1000);
    assert_int_equal(rows[1].updated_at, 60);
    assert_int_equal(rows[1].created_at, 2);
    assert_string_equal(rows[2].status, "delivered");
    assert_int_equal(store_control_deliveries_due(f->store, 600 + STORE_DELIVERY_CLAIM_MS, rows, 4, &n, &err), 0);
    assert_int_equal(n, 2); /* c's claim was never settled (its claimer died): due again after the claim, with b */
    assert_string_equal(rows[0].id, "whd_b");
    assert_string_equal(rows[1].id, "whd_c");
}

/* ---- leases (store_control_lease_take): the jobs one instance of a fleet runs ---- */

static void lease_take(cs_fixture *f, const char *name, const char *holder, int64_t ttl_ms, int want_held, int64_t want_fence)
{
    bs_err err = {0};
    int64_t fence = -1;
    int held = -1;
    assert_int_equal(store_control_lease_take(f->store, name, holder, ttl_ms, &fence, &held, &err), 0);
    assert_int_equal(held, want_held);
    assert_int_equal(fence, want_fence);
}

static void test_lease_take_renew_takeover(void **state)
{
    cs_fixture *f = cs_fix(state);
    bs_err err = {0};
    lease_take(f, "jobs", "a", 60000, 1, 1);  /* free: taken, the first fence */
    lease_take(f, "jobs", "a", 60000, 1, 1);  /* renewed by its holder: the same fence */
    lease_take(f, "jobs", "b", 60000, 0, 0);  /* held by another: refused */
    lease_take(f, "other", "b", 60000, 1, 1); /* leases are independent */
    assert_int_equal(f->raw_exec(f, "UPDATE leases SET expires_at = 0 WHERE name = 'jobs'"), 0); /* a stopped renewing */
    lease_take(f, "jobs", "b", 60000, 1, 2);  /* taken over: a larger fence */
    lease_take(f, "jobs", "a", 60000, 0, 0);  /* the old holder is refused */
    assert_int_equal(store_control_lease_release(f->store, "jobs", "a", &err), 0); /* not a's: nothing */
    lease_take(f, "jobs", "c", 60000, 0, 0);
    assert_int_equal(store_control_lease_release(f->store, "jobs", "b", &err), 0); /* a graceful stop */
    lease_take(f, "jobs", "c", 60000, 1, 3);  /* at once, no expiry to wait for */
    int64_t fence = 0;
    int held = 0;
    assert_int_equal(store_control_lease_take(f->store, "", "c", 1000, &fence, &held, &err), -1);
    assert_int_equal(store_control_lease_take(f->store, "jobs", "c", 0, &fence, &held, &err), -1);
}

/* A real expiry, on the store's own clock: a 300 ms lease is refused to another holder, then theirs. */
static void test_lease_expires(void **state)
{
    cs_fixture *f = cs_fix(state);
    lease_take(f, "short", "a", 300, 1, 1);
    lease_take(f, "short", "b", 300, 0, 0);
    bs_err err = {0};
    int64_t fence = 0, deadline = clock_mono_us() + 5000000;
    int held = 0;
    while (!held && clock_mono_us() < deadline) {
        assert_int_equal(store_control_lease_take(f->store, "short", "b", 60000, &fence, &held, &err), 0);
        if (!held) usleep(20000); /* polled until the expiry, with a deadline */
    }
    assert_int_equal(held, 1);
    assert_int_equal(fence, 2);
}

typedef struct lease_racer {
    cs_fixture *f;
    char holder[32];
    int held;
} lease_racer;

static void *lease_race(void *arg)
{
    lease_racer *r = arg;
    bs_err err = {0};
    int64_t fence = 0;
    if (store_control_lease_take(r->f->store, "race", r->holder, 60000, &fence, &r->held, &err) < 0) r->held = -1;
    return NULL;
}

/* Four instances starting at once: exactly one holds the lease. */
static void test_lease_race(void **state)
{
    cs_fixture *f = cs_fix(state);
    lease_racer r[LOOKUP_THREADS];
    pthread_t t[LOOKUP_THREADS];
    for (int i = 0; i < LOOKUP_THREADS; i++) {
        r[i] = (lease_racer){.f = f};
        snprintf(r[i].holder, sizeof r[i].holder, "racer%d", i);
        assert_int_equal(pthread_create(&t[i], NULL, lease_race, &r[i]), 0);
    }
    int holders = 0;
    for (int i = 0; i < LOOKUP_THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_true(r[i].held >= 0);
        holders += r[i].held;
    }
    assert_int_equal(holders, 1);
}

/* ---- usage ---- */

static store_usage_delta make_delta(const char *env, const char *metric, int64_t hour, int64_t value, int gauge)
{
    store_usage_delta d = {.hour_start = hour, .gauge = gauge, .value = value, .success_count = gauge ? 0 : value};
    snprintf(d.organization_id, sizeof d.organization_id, U_ORG);
    snprintf(d.project_id, sizeof d.project_id, U_PROJECT);
    snprintf(d.environment_id, sizeof d.environment_id, "%s", env);
    snprintf(d.environment, sizeof d.environment, "%s", strcmp(env, U_ENV) ? "prod" : "dev");
    snprintf(d.metric, sizeof d.metric, "%s", metric);
    return d;
}

static void usage_add_row(cs_fixture *f, const char *metric, int64_t hour, int64_t value, int gauge)
{
    store_usage_endpoint ep = {"GET /v1/data/:table", value};
    store_usage_delta d = make_delta(U_ENV, metric, hour, value, gauge);
    if (!strcmp(metric, "api_call")) {
        d.endpoints = &ep;
        d.nendpoints = 1;
    }
    bs_err err = {0};
    assert_int_equal(store_control_usage_add(f->store, &d, 1, hour, &err), 0);
}

static int64_t usage_sum_of(cs_fixture *f, const char *metric, int64_t from, int64_t to)
{
    int64_t sum = -1;
    bs_err err = {0};
    assert_int_equal(store_control_usage_sum(f->store, U_ORG, NULL, metric, from, to, &sum, &err), 0);
    return sum;
}

/* The rows of one metric and period (at most 64), oldest first. */
static size_t usage_rows_of(cs_fixture *f, const char *metric, const char *period, store_usage_row *out)
{
    store_usage_query q = {.organization_id = U_ORG, .metric = metric, .period = period, .limit = 64};
    size_t n = 0;
    int64_t total = 0;
    bs_err err = {0};
    assert_int_equal(store_control_usage_list(f->store, &q, out, &n, &total, &err), 0);
    assert_int_equal((int64_t)n, total);
    return n;
}

static void usage_rollup(cs_fixture *f, int64_t now)
{
    bs_err err = {0};
    assert_int_equal(store_control_usage_rollup(f->store, now, &err), 0);
}

/* Batches add to the hour's counters (peak / min per batch), a gauge replaces, endpoints add; a batch
 * that fails writes nothing. */
static void test_usage_add_and_list(void **state)
{
    cs_fixture *f = usage_fix(state);
    bs_err err = {0};
    store_usage_endpoint eps[] = {{"GET /v1/x", 2}, {"POST /v1/\"q\"", 1}};
    store_usage_delta d[3] = {make_delta(U_ENV, "api_call", T0, 3, 0), make_delta("env_prod", "api_call", T0, 1, 0),
                              make_delta(U_ENV, "storage", T0, 700, 1)};
    d[0].failure_count = 1;
    d[0].response_us = 300;
    d[0].endpoints = eps;
    d[0].nendpoints = 2;
    assert_int_equal(store_control_usage_add(f->store, d, 3, T0 + 10, &err), 0);
    d[0].value = d[0].success_count = 1;
    d[0].nendpoints = 1;
    d[2].value = 500;
    assert_int_equal(store_control_usage_add(f->store, d, 3, T0 + 20, &err), 0);
    store_usage_row rows[8];
    assert_int_equal(usage_rows_of(f, "api_call", "hourly", rows), 2);
    assert_string_equal(rows[0].environment, "dev");
    assert_int_equal(rows[0].value, 4);
    assert_int_equal(rows[0].success_count, 4);
    assert_int_equal(rows[0].failure_count, 2);
    assert_int_equal(rows[0].response_us, 600);
    assert_int_equal(rows[0].peak, 3);
    assert_int_equal(rows[0].min, 1);
    assert_string_equal(rows[0].endpoints, "{\"GET /v1/x\":4,\"POST /v1/\\\"q\\\"\":1}");
    assert_string_equal(rows[1].environment, "prod");
    assert_int_equal(rows[1].value, 2);
    assert_string_equal(rows[1].endpoints, "{}");
    assert_int_equal(usage_rows_of(f, "storage", "hourly", rows), 1);
    assert_int_equal(rows[0].value, 500);
    assert_int_equal(rows[0].peak, 700);
    assert_int_equal(rows[0].min, 500);
    /* filters and paging */
    store_usage_query q = {.organization_id = U_ORG, .environment = "prod", .period = "hourly", .limit = 8};
    size_t n = 0;
    int64_t total = 0;
    assert_int_equal(store_control_usage_list(f->store, &q, rows, &n, &total, &err), 0);
    assert_int_equal(total, 1);
    q = (store_usage_query){.organization_id = U_ORG, .environment = U_ENV, .period = "hourly", .limit = 1, .offset = 1};
    assert_int_equal(store_control_usage_list(f->store, &q, rows, &n, &total, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(total, 2);
    assert_string_equal(rows[0].metric, "storage"); /* by bucket, then metric */
    q = (store_usage_query){.organization_id = U_ORG, .period = "hourly", .from_ms = T0 + HOUR, .limit = 8};
    assert_int_equal(store_control_usage_list(f->store, &q, rows, &n, &total, &err), 0);
    assert_int_equal(total, 0);
    q = (store_usage_query){.organization_id = U_ORG, .period = "hourly", .from_ms = 0, .to_ms = T0, .limit = 8};
    assert_int_equal(store_control_usage_list(f->store, &q, rows, &n, &total, &err), 0);
    assert_int_equal(total, 0);
    assert_int_equal(usage_sum_of(f, "api_call", T0, T0 + DAY), 6);
    /* All or none: on PostgreSQL the second delta overflows its BIGINT counter and the first is not kept.
     * SQLite gives no such failure to provoke (an integer sum past INT64_MAX becomes a REAL there). */
    if (f->engine == CS_POSTGRES) {
        store_usage_delta bad[2] = {make_delta(U_ENV, "db_read", T0, 5, 0), make_delta("env_prod", "api_call", T0, INT64_MAX, 0)};
        assert_int_equal(store_control_usage_add(f->store, bad, 2, T0 + 30, &err), -1);
        assert_int_equal(usage_rows_of(f, "db_read", "hourly", rows), 0);
        assert_int_equal(usage_sum_of(f, "api_call", T0, T0 + DAY), 6);
    }
}

static void test_usage_mau_once_per_month(void **state)
{
    cs_fixture *f = usage_fix(state);
    bs_err err = {0};
    const char *users[] = {"usr_1", "usr_2", "usr_1", "usr_3", "q\"uo\\te,{x} y", "NULL"};
    store_usage_delta d = make_delta(U_ENV, "mau", T0 + DAY, 0, 0);
    d.users = users;
    d.nusers = 6;
    d.month_start = T0;
    assert_int_equal(store_control_usage_add(f->store, &d, 1, T0 + DAY, &err), 0);
    assert_int_equal(usage_sum_of(f, "mau", T0, T0 + 31 * DAY), 5);
    int known = -1;
    assert_int_equal(store_control_usage_mau_known(f->store, U_ENV, T0, "usr_2", &known, &err), 0);
    assert_int_equal(known, 1);
    assert_int_equal(store_control_usage_mau_known(f->store, U_ENV, T0, "q\"uo\\te,{x} y", &known, &err), 0);
    assert_int_equal(known, 1);
    assert_int_equal(store_control_usage_mau_known(f->store, U_ENV, T0, "NULL", &known, &err), 0);
    assert_int_equal(known, 1);
    assert_int_equal(store_control_usage_mau_known(f->store, U_ENV, T0, "usr_9", &known, &err), 0);
    assert_int_equal(known, 0);
    assert_int_equal(store_control_usage_mau_known(f->store, "env_prod", T0, "usr_2", &known, &err), 0);
    assert_int_equal(known, 0);
    /* again later in the month: only the new one counts; nobody new: no row change */
    const char *again[] = {"usr_2", "usr_new"};
    d.users = again;
    d.nusers = 2;
    d.hour_start = T0 + 2 * DAY;
    assert_int_equal(store_control_usage_add(f->store, &d, 1, T0 + 2 * DAY, &err), 0);
    d.nusers = 1;
    d.hour_start = T0 + 3 * DAY;
    assert_int_equal(store_control_usage_add(f->store, &d, 1, T0 + 3 * DAY, &err), 0);
    store_usage_row rows[8];
    assert_int_equal(usage_rows_of(f, "mau", "hourly", rows), 2);
    assert_int_equal(rows[0].value, 5);
    assert_int_equal(rows[1].value, 1);
    assert_int_equal(rows[1].success_count, 1);
    assert_int_equal(usage_sum_of(f, "mau", T0, T0 + 31 * DAY), 6);
    /* next month: everyone counts again */
    int64_t feb = T0 + 31 * DAY;
    d.month_start = feb;
    d.hour_start = feb + HOUR;
    assert_int_equal(store_control_usage_add(f->store, &d, 1, feb + HOUR, &err), 0);
    assert_int_equal(usage_sum_of(f, "mau", feb, feb + 28 * DAY), 1);
    assert_int_equal(usage_sum_of(f, "mau", T0, T0 + 31 * DAY), 6);
}

/* Batches from several threads touching the same rows in different orders: no deadlock, exact sums. */
#define ADDERS 4
#define BATCHES 40

static void *add_batches(void *arg)
{
    cs_fixture *f = ((void **)arg)[0];
    int index = *(int *)((void **)arg)[1];
    store_usage_endpoint ep[] = {{"GET /v1/a", 1}, {"GET /v1/b", 1}};
    for (int i = 0; i < BATCHES; i++) {
        store_usage_delta d[3] = {make_delta(U_ENV, "api_call", T0, 1, 0), make_delta("env_prod", "api_call", T0, 1, 0),
                                  make_delta(U_ENV, "db_read", T0, 1, 0)};
        d[0].endpoints = d[1].endpoints = ep;
        d[0].nendpoints = d[1].nendpoints = 2;
        if ((index + i) % 2) { /* the other order */
            store_usage_delta t = d[0];
            d[0] = d[2];
            d[2] = t;
        }
        bs_err err = {0};
        if (store_control_usage_add(f->store, d, 3, T0 + i, &err) != 0) return (void *)1;
    }
    return NULL;
}

static void test_usage_add_concurrent(void **state)
{
    cs_fixture *f = usage_fix(state);
    pthread_t t[ADDERS];
    int index[ADDERS];
    void *args[ADDERS][2];
    for (int i = 0; i < ADDERS; i++) {
        index[i] = i;
        args[i][0] = f;
        args[i][1] = &index[i];
        assert_int_equal(pthread_create(&t[i], NULL, add_batches, args[i]), 0);
    }
    for (int i = 0; i < ADDERS; i++) {
        void *failed = NULL;
        pthread_join(t[i], &failed);
        assert_null(failed);
    }
    assert_int_equal(usage_sum_of(f, "api_call", T0, T0 + DAY), 2 * ADDERS * BATCHES);
    assert_int_equal(usage_sum_of(f, "db_read", T0, T0 + DAY), ADDERS * BATCHES);
    store_usage_row rows[2];
    assert_int_equal(usage_rows_of(f, "db_read", "hourly", rows), 1);
    assert_int_equal(rows[0].peak, 1);
    assert_int_equal(usage_rows_of(f, "api_call", "hourly", rows), 2);
    assert_string_equal(rows[0].endpoints, "{\"GET /v1/a\":160,\"GET /v1/b\":160}");
}

/* The same endpoint twice in one delta adds both counts (as one statement per endpoint would). */
static void test_usage_endpoints_repeated(void **state)
{
    cs_fixture *f = usage_fix(state);
    bs_err err = {0};
    store_usage_endpoint eps[] = {{"GET /v1/a", 2}, {"GET /v1/b\\", 5}, {"GET /v1/a", 4}};
    store_usage_delta d = make_delta(U_ENV, "api_call", T0, 11, 0);
    d.endpoints = eps;
    d.nendpoints = 3;
    assert_int_equal(store_control_usage_add(f->store, &d, 1, T0, &err), 0);
    assert_int_equal(store_control_usage_add(f->store, &d, 1, T0 + 1, &err), 0);
    store_usage_row rows[2];
    assert_int_equal(usage_rows_of(f, "api_call", "hourly", rows), 1);
    assert_int_equal(rows[0].value, 22);
    assert_string_equal(rows[0].endpoints, "{\"GET /v1/a\":12,\"GET /v1/b\\\\\":10}");
}

static void test_rollup_arithmetic(void **state)
{
    cs_fixture *f = usage_fix(state);
    /* day 1: 5, 7, 1 calls in three hours; day 2: 4; storage readings 100, 300, 200 on day 1, 50 on day 2 */
    usage_add_row(f, "api_call", T0, 5, 0);
    usage_add_row(f, "api_call", T0 + 3 * HOUR, 7, 0);
    usage_add_row(f, "api_call", T0 + 23 * HOUR, 1, 0);
    usage_add_row(f, "api_call", T0 + DAY + HOUR, 4, 0);
    usage_add_row(f, "storage", T0, 100, 1);
    usage_add_row(f, "storage", T0 + 2 * HOUR, 300, 1);
    usage_add_row(f, "storage", T0 + 2 * HOUR, 200, 1); /* a later reading of the same hour replaces it */
    usage_add_row(f, "storage", T0 + DAY + 5 * HOUR, 50, 1);
    usage_rollup(f, T0 + DAY + 6 * HOUR);
    store_usage_row rows[8];
    assert_int_equal(usage_rows_of(f, "api_call", "daily", rows), 2);
    assert_int_equal(rows[0].value, 13);
    assert_int_equal(rows[0].peak, 7);
    assert_int_equal(rows[0].min, 1);
    assert_int_equal(rows[0].success_count, 13);
    assert_string_equal(rows[0].endpoints, "{\"GET /v1/data/:table\":13}");
    assert_int_equal(rows[1].value, 4);
    assert_int_equal(usage_rows_of(f, "api_call", "monthly", rows), 1);
    assert_int_equal(rows[0].value, 17);
    assert_int_equal(rows[0].peak, 13);
    assert_int_equal(rows[0].min, 4);
    assert_int_equal(rows[0].period_start, T0);
    assert_string_equal(rows[0].endpoints, "{\"GET /v1/data/:table\":17}");
    assert_int_equal(usage_rows_of(f, "storage", "daily", rows), 2);
    assert_int_equal(rows[0].value, 200); /* the day's last reading */
    assert_int_equal(rows[0].peak, 300);
    assert_int_equal(rows[0].min, 100);
    assert_int_equal(usage_rows_of(f, "storage", "monthly", rows), 1);
    assert_int_equal(rows[0].value, 50);
    assert_int_equal(rows[0].peak, 300);
    assert_int_equal(usage_sum_of(f, "storage", T0, T0 + 31 * DAY), 50);
    assert_int_equal(usage_sum_of(f, "storage", T0, T0 + DAY), 200);

    /* more of day 2 after the roll-up: recomputed, not added twice */
    usage_add_row(f, "api_call", T0 + DAY + 2 * HOUR, 6, 0);
    usage_rollup(f, T0 + DAY + 7 * HOUR);
    assert_int_equal(usage_rows_of(f, "api_call", "daily", rows), 2);
    assert_int_equal(rows[1].value, 10);
    assert_int_equal(usage_rows_of(f, "api_call", "monthly", rows), 1);
    assert_int_equal(rows[0].value, 23);
}

/* A month that does not start on a multiple of 31 days: February's monthly bucket. */
static void test_rollup_month_bucket(void **state)
{
    cs_fixture *f = usage_fix(state);
    int64_t feb = T0 + 31 * DAY, mar = feb + 28 * DAY;
    usage_add_row(f, "api_call", feb + 27 * DAY + HOUR, 2, 0);
    usage_add_row(f, "api_call", mar + HOUR, 3, 0);
    usage_rollup(f, mar + 2 * HOUR);
    store_usage_row rows[8];
    assert_int_equal(usage_rows_of(f, "api_call", "monthly", rows), 2);
    assert_int_equal(rows[0].period_start, feb);
    assert_int_equal(rows[0].value, 2);
    assert_int_equal(rows[1].period_start, mar);
    assert_int_equal(rows[1].value, 3);
}

static void test_retention_and_sums(void **state)
{
    cs_fixture *f = usage_fix(state);
    for (int d = 0; d < 10; d++) usage_add_row(f, "api_call", T0 + d * DAY + HOUR, d + 1, 0); /* 55 in January */
    usage_rollup(f, T0 + 9 * DAY + 2 * HOUR);
    assert_int_equal(usage_sum_of(f, "api_call", T0, T0 + 31 * DAY), 55);
    /* day 17: hourly rows of days before day 10 are purged (whole days older than 7 days) */
    usage_rollup(f, T0 + 17 * DAY);
    store_usage_row *rows = calloc(64, sizeof *rows);
    size_t n = usage_rows_of(f, "api_call", "hourly", rows);
    assert_int_equal(n, 0);
    assert_int_equal(usage_rows_of(f, "api_call", "daily", rows), 10);
    assert_int_equal(usage_sum_of(f, "api_call", T0, T0 + 31 * DAY), 55); /* from the daily rows now */
    assert_int_equal(usage_sum_of(f, "api_call", T0 + 2 * DAY, T0 + 4 * DAY), 3 + 4);
    usage_add_row(f, "api_call", T0 + 17 * DAY + HOUR, 100, 0); /* today's hourly rows are added to closed days */
    assert_int_equal(usage_sum_of(f, "api_call", T0, T0 + 31 * DAY), 155);
    /* ~4 months later: January's daily rows are gone (whole months older than 90 days), its monthly stays */
    usage_rollup(f, T0 + 130 * DAY);
    assert_int_equal(usage_rows_of(f, "api_call", "daily", rows), 0);
    assert_int_equal(usage_rows_of(f, "api_call", "monthly", rows), 1);
    assert_int_equal(rows[0].value, 155);
    /* 25 months later: the monthly row too */
    usage_rollup(f, T0 + 25 * 31 * DAY);
    assert_int_equal(usage_rows_of(f, "api_call", "monthly", rows), 0);
    free(rows);
}

/* Rows of an organization that is gone are dropped by the first roll-up of a day; old MAU sets too. */
static void test_rollup_drops_orphans(void **state)
{
    cs_fixture *f = usage_fix(state);
    bs_err err = {0};
    store_usage_delta d = make_delta(U_ENV, "api_call", T0, 4, 0);
    snprintf(d.organization_id, sizeof d.organization_id, "org_deleted");
    assert_int_equal(store_control_usage_add(f->store, &d, 1, T0, &err), 0);
    const char *users[] = {"usr_1"};
    store_usage_delta m = make_delta(U_ENV, "mau", T0, 0, 0);
    m.users = users;
    m.nusers = 1;
    m.month_start = T0;
    assert_int_equal(store_control_usage_add(f->store, &m, 1, T0, &err), 0);
    usage_rollup(f, T0 + 62 * DAY); /* March: January's MAU set is gone */
    int known = -1;
    assert_int_equal(store_control_usage_mau_known(f->store, U_ENV, T0, "usr_1", &known, &err), 0);
    assert_int_equal(known, 0);
    store_usage_row rows[2];
    size_t n = 9;
    int64_t total = 9;
    const char *periods[] = {"hourly", "daily", "monthly"};
    for (size_t i = 0; i < 3; i++) {
        store_usage_query q = {.organization_id = "org_deleted", .period = periods[i], .limit = 2};
        assert_int_equal(store_control_usage_list(f->store, &q, rows, &n, &total, &err), 0);
        assert_int_equal(total, 0);
    }
}

static void test_usage_envs(void **state)
{
    cs_fixture *f = usage_fix(state);
    bs_err err = {0};
    store_usage_env rows[4];
    size_t n = 0;
    assert_int_equal(store_control_usage_envs(f->store, rows, 4, &n, &err), 0);
    assert_int_equal(n, 2); /* the one being deleted is left out */
    assert_string_equal(rows[0].organization_id, U_ORG);
    assert_string_equal(rows[0].project_id, U_PROJECT);
    assert_string_equal(rows[0].environment_id, U_ENV);
    assert_string_equal(rows[0].environment, "dev");
    assert_string_equal(rows[0].status, "ready");
    assert_string_equal(rows[1].environment, "prod");
    assert_int_equal(store_control_usage_envs(f->store, rows, 1, &n, &err), 0);
    assert_int_equal(n, 1);
}

#define CONTROL_STORE_CASES(setup, teardown)                                                        \
    cmocka_unit_test_setup_teardown(test_env_secret_created_once, setup, teardown),                 \
    cmocka_unit_test_setup_teardown(test_env_secret_binary_safe, setup, teardown),                  \
    cmocka_unit_test_setup_teardown(test_bootstrap_and_key_lookup, setup, teardown),                \
    cmocka_unit_test_setup_teardown(test_unknown_hash_not_found, setup, teardown),                  \
    cmocka_unit_test_setup_teardown(test_revoke_visible_in_lookup, setup, teardown),                \
    cmocka_unit_test_setup_teardown(test_expiry_and_scopes_round_trip, setup, teardown),            \
    cmocka_unit_test_setup_teardown(test_scopes_too_long_is_internal_error, setup, teardown),       \
    cmocka_unit_test_setup_teardown(test_duplicate_slug_conflict, setup, teardown),                 \
    cmocka_unit_test_setup_teardown(test_missing_parent_conflict, setup, teardown),                 \
    cmocka_unit_test_setup_teardown(test_bootstrap_failure_leaves_store_empty, setup, teardown),    \
    cmocka_unit_test_setup_teardown(test_env_delete_cascades, setup, teardown),                     \
    cmocka_unit_test_setup_teardown(test_deleting_env_does_not_exist, setup, teardown),             \
    cmocka_unit_test_setup_teardown(test_project_get, setup, teardown),                             \
    cmocka_unit_test_setup_teardown(test_env_find, setup, teardown),                                \
    cmocka_unit_test_setup_teardown(test_api_key_get, setup, teardown),                             \
    cmocka_unit_test_setup_teardown(test_api_key_scopes_limit, setup, teardown),                    \
    cmocka_unit_test_setup_teardown(test_api_key_list_order_and_max, setup, teardown),              \
    cmocka_unit_test_setup_teardown(test_api_key_count, setup, teardown),                           \
    cmocka_unit_test_setup_teardown(test_concurrent_lookups, setup, teardown),                      \
    cmocka_unit_test_setup_teardown(test_free_while_threads_alive, setup, teardown),                \
    cmocka_unit_test_setup_teardown(test_free_after_threads_exited, setup, teardown),               \
    cmocka_unit_test_setup_teardown(test_team_members, setup, teardown),                            \
    cmocka_unit_test_setup_teardown(test_team_last_owner_concurrent, setup, teardown),              \
    cmocka_unit_test_setup_teardown(test_team_tokens_follow_member, setup, teardown),               \
    cmocka_unit_test_setup_teardown(test_team_invitations, setup, teardown),                        \
    cmocka_unit_test_setup_teardown(test_token_member_gone, setup, teardown),                       \
    cmocka_unit_test_setup_teardown(test_console_sessions, setup, teardown),                        \
    cmocka_unit_test_setup_teardown(test_console_links, setup, teardown),                           \
    cmocka_unit_test_setup_teardown(test_org_plane, setup, teardown),                               \
    cmocka_unit_test_setup_teardown(test_org_update_stores_null, setup, teardown),                  \
    cmocka_unit_test_setup_teardown(test_project_plane, setup, teardown),                           \
    cmocka_unit_test_setup_teardown(test_env_list_and_status, setup, teardown),                     \
    cmocka_unit_test_setup_teardown(test_inactivity, setup, teardown),                              \
    cmocka_unit_test_setup_teardown(test_placement, setup, teardown),                               \
    cmocka_unit_test_setup_teardown(test_registered_clusters, setup, teardown),                     \
    cmocka_unit_test_setup_teardown(test_env_move_places, setup, teardown),                         \
    cmocka_unit_test_setup_teardown(test_concurrent_placement, setup, teardown),                    \
    cmocka_unit_test_setup_teardown(test_activity_paging, setup, teardown),                         \
    cmocka_unit_test_setup_teardown(test_outbox, setup, teardown),                                  \
    cmocka_unit_test_setup_teardown(test_providers_and_settings, setup, teardown),                  \
    cmocka_unit_test_setup_teardown(test_too_long_fails, setup, teardown),                          \
    cmocka_unit_test_setup_teardown(test_alerts_once, setup, teardown),                             \
    cmocka_unit_test_setup_teardown(test_deliveries_due_and_update, setup, teardown),               \
    cmocka_unit_test_setup_teardown(test_usage_add_and_list, setup, teardown),                      \
    cmocka_unit_test_setup_teardown(test_usage_mau_once_per_month, setup, teardown),                \
    cmocka_unit_test_setup_teardown(test_usage_endpoints_repeated, setup, teardown),                \
    cmocka_unit_test_setup_teardown(test_usage_add_concurrent, setup, teardown),                    \
    cmocka_unit_test_setup_teardown(test_rollup_arithmetic, setup, teardown),                       \
    cmocka_unit_test_setup_teardown(test_rollup_month_bucket, setup, teardown),                     \
    cmocka_unit_test_setup_teardown(test_retention_and_sums, setup, teardown),                      \
    cmocka_unit_test_setup_teardown(test_rollup_drops_orphans, setup, teardown),                    \
    cmocka_unit_test_setup_teardown(test_usage_envs, setup, teardown),                              \
    cmocka_unit_test_setup_teardown(test_lease_take_renew_takeover, setup, teardown),               \
    cmocka_unit_test_setup_teardown(test_lease_expires, setup, teardown),                           \
    cmocka_unit_test_setup_teardown(test_lease_race, setup, teardown)

#endif
