/* users_store_cases.h: the behaviour of the users store's public API (store/users.h), written once and run
 * against every driver of the environment data store: test_users_store.c on SQLite, test_users_store_pg.c
 * on PostgreSQL (env_store_fixture.h gives each test a fresh store). The cases use store_users_*,
 * store_sessions_*, store_tokens_* ... only.
 *
 * E-mails: the store compares them byte for byte on both engines; the API normalizes them (trimmed, lower
 * case) before they reach it (accounts_email_normalize), which is what makes sign-in case-insensitive.
 *
 * Sections: users; sessions and refresh-token rotation (with two threads on one token); mailed tokens
 * (two threads using one); invitations; linked accounts; the audit trail and pruning; abuse limits. */
#ifndef BASALT_TESTS_USERS_STORE_CASES_H
#define BASALT_TESTS_USERS_STORE_CASES_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "env_store_fixture.h"
#include "store/users.h"

#define US_T0 1736937000000LL   /* a fixed "now" */
#define US_GRACE 10000          /* the API's refresh grace window */

/* ---- helpers ---- */

static void us_user(store_user *u, const char *id, const char *email, const char *name)
{
    memset(u, 0, sizeof *u);
    snprintf(u->id, sizeof u->id, "%s", id);
    snprintf(u->email, sizeof u->email, "%s", email);
    snprintf(u->name, sizeof u->name, "%s", name);
    snprintf(u->password_hash, sizeof u->password_hash, "$argon2id$hash-of-%s", id);
    u->created_at = u->updated_at = US_T0;
    u->mfa_last_step = -1;
}

static void us_create(es_fixture *f, const char *id, const char *email, const char *name)
{
    store_user u;
    bs_err err = {0};
    us_user(&u, id, email, name);
    assert_int_equal(store_users_create(f->docs, ES_ENV, &u, &err), 0);
}

/* A SHA-256-looking hex hash made of one repeated character and a number. */
static void us_hash(char out[STORE_REFRESH_HASH_MAX], char fill, int n)
{
    memset(out, fill, STORE_REFRESH_HASH_MAX - 1);
    out[STORE_REFRESH_HASH_MAX - 1] = '\0';
    char tail[12];
    int w = snprintf(tail, sizeof tail, "%d", n);
    memcpy(out + STORE_REFRESH_HASH_MAX - 1 - w, tail, (size_t)w); /* bounded: w < 12 < 65 */
}

static void us_session(es_fixture *f, const char *id, const char *user_id, int64_t created, int64_t expires,
                       const char *refresh_hash)
{
    store_session s;
    bs_err err = {0};
    memset(&s, 0, sizeof s);
    snprintf(s.id, sizeof s.id, "%s", id);
    snprintf(s.user_id, sizeof s.user_id, "%s", user_id);
    snprintf(s.user_agent, sizeof s.user_agent, "test-agent");
    snprintf(s.ip, sizeof s.ip, "192.0.2.1");
    s.created_at = s.last_seen_at = created;
    s.expires_at = expires;
    assert_int_equal(store_sessions_create(f->docs, ES_ENV, &s, refresh_hash, &err), 0);
}

/* ---- users ---- */

static void test_users_create_and_find(void **state)
{
    es_fixture *f = es_fix(state);
    bs_err err = {0};
    store_user u, got;
    int found = 0;
    us_user(&u, "usr_1", "ada@example.com", "Ada");
    snprintf(u.nickname, sizeof u.nickname, "countess");
    snprintf(u.profile, sizeof u.profile, "{\"bio\":\"math\"}");
    u.email_verified_at = US_T0 + 5;
    assert_int_equal(store_users_create(f->docs, ES_ENV, &u, &err), 0);

    assert_int_equal(store_users_by_email(f->docs, ES_ENV, "ada@example.com", &got, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(got.id, "usr_1");
    assert_string_equal(got.name, "Ada");
    assert_string_equal(got.role, "user"); /* "" takes the default */
    assert_string_equal(got.nickname, "countess");
    assert_string_equal(got.image, "");
    assert_string_equal(got.profile, "{\"bio\":\"math\"}");
    assert_string_equal(got.mfa_recovery, "[]");
    assert_true(got.mfa_last_step == -1);
    assert_true(got.email_verified_at == US_T0 + 5);
    assert_true(got.created_at == US_T0);
    assert_true(got.last_login_at == 0);
    assert_int_equal(store_users_by_id(f->docs, ES_ENV, "usr_1", &got, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(got.email, "ada@example.com");

    /* the store compares the normalized e-mail as stored */
    assert_int_equal(store_users_by_email(f->docs, ES_ENV, "ADA@example.com", &got, &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(store_users_by_id(f->docs, ES_ENV, "usr_none", &got, &found, &err), 0);
    assert_int_equal(found, 0);
    /* another environment, another user pool */
    assert_int_equal(store_users_by_id(f->docs, ES_OTHER_ENV, "usr_1", &got, &found, &err), 0);
    assert_int_equal(found, 0);

    us_user(&u, "usr_2", "ada@example.com", "Other");
    assert_int_equal(store_users_create(f->docs, ES_ENV, &u, &err), -1);
    assert_int_equal(err.status, 409);
    assert_string_equal(err.code, "auth/email-already-exists");
    us_user(&u, "usr_2", "ada@example.com", "Other");
    assert_int_equal(store_users_create(f->docs, ES_OTHER_ENV, &u, &err), 0); /* pools are separate */

    assert_int_equal(store_users_touch_login(f->docs, ES_ENV, "usr_1", US_T0 + 100, &err), 0);
    assert_int_equal(store_users_by_id(f->docs, ES_ENV, "usr_1", &got, &found, &err), 0);
    assert_true(got.last_login_at == US_T0 + 100);
}

/* An environment with a database of its own (a dedicated cluster) holds users and sessions the same way. */
static void test_users_dedicated_env(void **state)
{
    es_fixture *f = es_fix(state);
    bs_err err = {0};
    store_user u, got;
    store_session s;
    store_rotation outcome;
    char h1[STORE_REFRESH_HASH_MAX], h2[STORE_REFRESH_HASH_MAX], cur[STORE_REFRESH_HASH_MAX];
    int found = 0;
    us_user(&u, "usr_1", "own@example.com", "Own");
    assert_int_equal(store_users_create(f->docs, ES_OWN_ENV, &u, &err), 0);
    assert_int_equal(store_users_by_email(f->docs, ES_OWN_ENV, "own@example.com", &got, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(store_users_by_email(f->docs, ES_ENV, "own@example.com", &got, &found, &err), 0);
    assert_int_equal(found, 0);
    us_hash(h1, 'a', 1), us_hash(h2, 'a', 2);
    memset(&s, 0, sizeof s);
    snprintf(s.id, sizeof s.id, "ses_1");
    snprintf(s.user_id, sizeof s.user_id, "usr_1");
    s.created_at = s.last_seen_at = US_T0;
    s.expires_at = US_T0 + 1000;
    assert_int_equal(store_sessions_create(f->docs, ES_OWN_ENV, &s, h1, &err), 0);
    assert_int_equal(store_sessions_rotate(f->docs, ES_OWN_ENV, h1, h2, US_T0 + 1, US_T0 + 2000, US_GRACE, &s, cur, &outcome,
                                           &err), 0);
    assert_int_equal(outcome, STORE_ROTATED);
    assert_int_equal(store_docs_env_drop(f->docs, ES_OWN_ENV, &err), 0);
}

static void test_users_update(void **state)
{
    es_fixture *f = es_fix(state);
    bs_err err = {0};
    store_user u, got;
    int found = 0;
    us_create(f, "usr_1", "one@example.com", "One");
    us_create(f, "usr_2", "two@example.com", "Two");
    assert_int_equal(store_users_by_id(f->docs, ES_ENV, "usr_1", &u, &found, &err), 0);
    snprintf(u.email, sizeof u.email, "uno@example.com");
    snprintf(u.name, sizeof u.name, "Uno");
    snprintf(u.role, sizeof u.role, "admin");
    snprintf(u.mfa_secret, sizeof u.mfa_secret, "JBSWY3DPEHPK3PXP");
    snprintf(u.mfa_recovery, sizeof u.mfa_recovery, "[\"aa\",\"bb\"]");
    u.mfa_enabled_at = US_T0 + 1;
    u.mfa_last_step = 42;
    u.banned_at = US_T0 + 2;
    snprintf(u.banned_reason, sizeof u.banned_reason, "spam");
    u.nickname[0] = '\0';
    u.updated_at = US_T0 + 10;
    assert_int_equal(store_users_update(f->docs, ES_ENV, &u, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(store_users_by_email(f->docs, ES_ENV, "uno@example.com", &got, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(got.name, "Uno");
    assert_string_equal(got.role, "admin");
    assert_string_equal(got.mfa_secret, "JBSWY3DPEHPK3PXP");
    assert_string_equal(got.mfa_recovery, "[\"aa\",\"bb\"]");
    assert_true(got.mfa_last_step == 42 && got.mfa_enabled_at == US_T0 + 1);
    assert_true(got.banned_at == US_T0 + 2);
    assert_string_equal(got.banned_reason, "spam");
    assert_true(got.updated_at == US_T0 + 10);
    assert_int_equal(store_users_by_email(f->docs, ES_ENV, "one@example.com", &got, &found, &err), 0);
    assert_int_equal(found, 0);

    snprintf(u.email, sizeof u.email, "two@example.com"); /* taken */
    assert_int_equal(store_users_update(f->docs, ES_ENV, &u, &found, &err), -1);
    assert_int_equal(err.status, 409);
    assert_string_equal(err.code, "auth/email-already-exists");

    us_user(&u, "usr_none", "none@example.com", "None");
    assert_int_equal(store_users_update(f->docs, ES_ENV, &u, &found, &err), 0);
    assert_int_equal(found, 0);

    /* a deleted user is no longer found */
    assert_int_equal(store_users_by_id(f->docs, ES_ENV, "usr_2", &u, &found, &err), 0);
    u.deleted_at = US_T0 + 20;
    assert_int_equal(store_users_update(f->docs, ES_ENV, &u, &found, &err), 0);
    assert_int_equal(store_users_by_id(f->docs, ES_ENV, "usr_2", &got, &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(store_users_by_email(f->docs, ES_ENV, "two@example.com", &got, &found, &err), 0);
    assert_int_equal(found, 0);
}

static void test_users_list(void **state)
{
    es_fixture *f = es_fix(state);
    bs_err err = {0};
    static const char *const names[] = {"carol", "Alice", "bob", "dave", "alina"};
    for (int i = 0; i < 5; i++) {
        char id[16], email[32];
        snprintf(id, sizeof id, "usr_%d", i);
        snprintf(email, sizeof email, "%s@example.com", names[i]);
        us_create(f, id, email, names[i]);
    }
    store_user gone, out[8];
    int found = 0;
    us_create(f, "usr_gone", "gone@example.com", "alfred");
    assert_int_equal(store_users_by_id(f->docs, ES_ENV, "usr_gone", &gone, &found, &err), 0);
    gone.deleted_at = US_T0 + 1;
    assert_int_equal(store_users_update(f->docs, ES_ENV, &gone, &found, &err), 0);

    size_t n = 0;
    int64_t total = 0;
    store_user_query q = {.sort = STORE_USERS_BY_NAME, .limit = 2};
    assert_int_equal(store_users_list(f->docs, ES_ENV, &q, out, &n, &total, &err), 0);
    assert_true(total == 5); /* deleted users never */
    assert_int_equal(n, 2);
    assert_string_equal(out[0].name, "Alice"); /* byte order: upper case first */
    assert_string_equal(out[1].name, "alina");
    q.offset = 4;
    assert_int_equal(store_users_list(f->docs, ES_ENV, &q, out, &n, &total, &err), 0);
    assert_int_equal(n, 1);
    assert_true(total == 5);
    assert_string_equal(out[0].name, "dave");
    q = (store_user_query){.sort = STORE_USERS_BY_EMAIL, .desc = 1, .limit = 8};
    assert_int_equal(store_users_list(f->docs, ES_ENV, &q, out, &n, &total, &err), 0);
    assert_int_equal(n, 5);
    assert_string_equal(out[0].email, "dave@example.com");
    assert_string_equal(out[4].email, "Alice@example.com");

    q = (store_user_query){.search = "ALI", .search_in = STORE_SEARCH_NAME, .sort = STORE_USERS_BY_NAME, .limit = 8};
    assert_int_equal(store_users_list(f->docs, ES_ENV, &q, out, &n, &total, &err), 0);
    assert_int_equal(n, 2);
    assert_true(total == 2);
    assert_string_equal(out[0].name, "Alice");
    assert_string_equal(out[1].name, "alina");
    q.search = "nobody";
    assert_int_equal(store_users_list(f->docs, ES_ENV, &q, out, &n, &total, &err), 0);
    assert_int_equal(n, 0);
    assert_true(total == 0);
    q = (store_user_query){.search = "B@EX", .search_in = STORE_SEARCH_EMAIL, .limit = 8};
    assert_int_equal(store_users_list(f->docs, ES_ENV, &q, out, &n, &total, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].id, "usr_2");
    q = (store_user_query){.search = "x", .search_in = STORE_SEARCH_NICKNAME, .limit = 8}; /* no nicknames: NULL */
    assert_int_equal(store_users_list(f->docs, ES_ENV, &q, out, &n, &total, &err), 0);
    assert_int_equal(n, 0);
    q = (store_user_query){.limit = 0};
    assert_int_equal(store_users_list(f->docs, ES_ENV, &q, out, &n, &total, &err), 0);
    assert_int_equal(n, 0);
    assert_true(total == 5);
}

static void test_users_slug_owner(void **state)
{
    es_fixture *f = es_fix(state);
    bs_err err = {0};
    store_user u;
    int found = 0, taken = 1;
    us_create(f, "usr_1", "one@example.com", "One");
    us_create(f, "usr_2", "two@example.com", "Two");
    assert_int_equal(store_users_by_id(f->docs, ES_ENV, "usr_1", &u, &found, &err), 0);
    snprintf(u.profile, sizeof u.profile, "{\"publicSettings\":{\"slug\":\"ada\"},\"bio\":\"x\"}");
    assert_int_equal(store_users_update(f->docs, ES_ENV, &u, &found, &err), 0);
    assert_int_equal(store_users_slug_owner(f->docs, ES_ENV, "ada", "usr_2", &taken, &err), 0);
    assert_int_equal(taken, 1);
    assert_int_equal(store_users_slug_owner(f->docs, ES_ENV, "ada", "", &taken, &err), 0);
    assert_int_equal(taken, 1);
    assert_int_equal(store_users_slug_owner(f->docs, ES_ENV, "ada", "usr_1", &taken, &err), 0);
    assert_int_equal(taken, 0); /* its own */
    assert_int_equal(store_users_slug_owner(f->docs, ES_ENV, "bob", "usr_2", &taken, &err), 0);
    assert_int_equal(taken, 0);
    u.deleted_at = US_T0 + 1;
    assert_int_equal(store_users_update(f->docs, ES_ENV, &u, &found, &err), 0);
    assert_int_equal(store_users_slug_owner(f->docs, ES_ENV, "ada", "usr_2", &taken, &err), 0);
    assert_int_equal(taken, 0); /* deleted users hold no slug */
}

/* ---- sessions ---- */

static void test_sessions_list_and_revoke(void **state)
{
    es_fixture *f = es_fix(state);
    bs_err err = {0};
    char h[STORE_REFRESH_HASH_MAX];
    int64_t far = US_T0 + 3650LL * 86400000;   /* sessions_list compares with the clock */
    for (int i = 0; i < 4; i++) {
        char id[16];
        snprintf(id, sizeof id, "ses_%d", i);
        us_hash(h, 'a', i);
        us_session(f, id, "usr_1", US_T0 + i, far, h);
    }
    us_hash(h, 'b', 0);
    us_session(f, "ses_other", "usr_2", US_T0, far, h);
    us_hash(h, 'b', 1);
    us_session(f, "ses_old", "usr_1", US_T0 - 10, US_T0 - 5, h); /* expired: not listed */
    us_hash(h, 'a', 0);
    store_session s;
    memset(&s, 0, sizeof s);
    snprintf(s.id, sizeof s.id, "ses_dup");
    snprintf(s.user_id, sizeof s.user_id, "usr_1");
    assert_int_equal(store_sessions_create(f->docs, ES_ENV, &s, h, &err), -1); /* the refresh hash is unique */
    assert_int_equal(err.status, 409);

    store_session out[8];
    size_t n = 0;
    int64_t total = 0;
    int found = 0;
    assert_int_equal(store_sessions_list(f->docs, ES_ENV, "usr_1", 0, 2, out, &n, &total, &err), 0);
    assert_true(total == 4);
    assert_int_equal(n, 2);
    assert_string_equal(out[0].id, "ses_3"); /* newest first */
    assert_string_equal(out[1].id, "ses_2");
    assert_string_equal(out[0].user_agent, "test-agent");
    assert_string_equal(out[0].ip, "192.0.2.1");
    assert_int_equal(store_sessions_list(f->docs, ES_ENV, "usr_1", 3, 8, out, &n, &total, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].id, "ses_0");

    assert_int_equal(store_sessions_get(f->docs, ES_ENV, "ses_1", &s, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_true(s.created_at == US_T0 + 1 && s.expires_at == far && s.revoked_at == 0);
    assert_int_equal(store_sessions_get(f->docs, ES_ENV, "ses_none", &s, &found, &err), 0);
    assert_int_equal(found, 0);

    assert_int_equal(store_sessions_revoke(f->docs, ES_ENV, "usr_2", "ses_1", US_T0 + 50, &found, &err), 0);
    assert_int_equal(found, 0); /* not theirs */
    assert_int_equal(store_sessions_revoke(f->docs, ES_ENV, "usr_1", "ses_1", US_T0 + 50, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(store_sessions_revoke(f->docs, ES_ENV, "usr_1", "ses_1", US_T0 + 60, &found, &err), 0);
    assert_int_equal(found, 0); /* already */
    assert_int_equal(store_sessions_get(f->docs, ES_ENV, "ses_1", &s, &found, &err), 0);
    assert_true(s.revoked_at == US_T0 + 50);

    int64_t count = 0;
    assert_int_equal(store_sessions_revoke_others(f->docs, ES_ENV, "usr_1", "ses_3", US_T0 + 70, &count, &err), 0);
    assert_true(count == 3); /* ses_0, ses_2 and the expired ses_old: every unrevoked one */
    assert_int_equal(store_sessions_list(f->docs, ES_ENV, "usr_1", 0, 8, out, &n, &total, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].id, "ses_3");
    assert_int_equal(store_sessions_revoke_all(f->docs, ES_ENV, "usr_1", US_T0 + 80, &err), 0);
    assert_int_equal(store_sessions_list(f->docs, ES_ENV, "usr_1", 0, 8, out, &n, &total, &err), 0);
    assert_int_equal(n, 0);
    assert_true(total == 0);
    assert_int_equal(store_sessions_list(f->docs, ES_ENV, "usr_2", 0, 8, out, &n, &total, &err), 0);
    assert_int_equal(n, 1); /* another user's untouched */
}

static void test_sessions_rotate(void **state)
{
    es_fixture *f = es_fix(state);
    bs_err err = {0};
    char h1[STORE_REFRESH_HASH_MAX], h2[STORE_REFRESH_HASH_MAX], h3[STORE_REFRESH_HASH_MAX], cur[STORE_REFRESH_HASH_MAX];
    us_hash(h1, 'c', 1), us_hash(h2, 'c', 2), us_hash(h3, 'c', 3);
    int64_t exp = US_T0 + 86400000;
    us_session(f, "ses_1", "usr_1", US_T0, exp, h1);
    us_hash(cur, 'd', 9);
    us_session(f, "ses_2", "usr_1", US_T0, exp, cur); /* the same user's other device */
    store_session s;
    store_rotation outcome = STORE_UNKNOWN;
    int found = 0;

    assert_int_equal(
        store_sessions_rotate(f->docs, ES_ENV, h1, h2, US_T0 + 100, exp + 100, US_GRACE, &s, cur, &outcome, &err), 0);
    assert_int_equal(outcome, STORE_ROTATED);
    assert_string_equal(s.id, "ses_1");
    assert_string_equal(s.user_id, "usr_1");
    assert_true(s.last_seen_at == US_T0 + 100 && s.expires_at == exp + 100);
    assert_int_equal(store_sessions_get(f->docs, ES_ENV, "ses_1", &s, &found, &err), 0);
    assert_true(s.expires_at == exp + 100);

    /* the rotated-away token again within the grace window: the session's current token */
    assert_int_equal(store_sessions_rotate(f->docs, ES_ENV, h1, h3, US_T0 + 200, exp, US_GRACE, &s, cur, &outcome, &err), 0);
    assert_int_equal(outcome, STORE_RECENT);
    assert_string_equal(s.id, "ses_1");
    assert_string_equal(cur, h2);
    /* the current one still rotates */
    assert_int_equal(store_sessions_rotate(f->docs, ES_ENV, h2, h3, US_T0 + 300, exp, US_GRACE, &s, cur, &outcome, &err), 0);
    assert_int_equal(outcome, STORE_ROTATED);

    /* unknown */
    char never[STORE_REFRESH_HASH_MAX];
    us_hash(never, 'e', 0);
    assert_int_equal(store_sessions_rotate(f->docs, ES_ENV, never, h1, US_T0 + 400, exp, US_GRACE, &s, cur, &outcome, &err), 0);
    assert_int_equal(outcome, STORE_UNKNOWN);

    /* h1 after the grace window: theft, every session of the user revoked */
    assert_int_equal(store_sessions_rotate(f->docs, ES_ENV, h1, never, US_T0 + 100 + US_GRACE, exp, US_GRACE, &s, cur,
                                           &outcome, &err), 0);
    assert_int_equal(outcome, STORE_REUSED);
    assert_string_equal(s.user_id, "usr_1");
    assert_int_equal(store_sessions_get(f->docs, ES_ENV, "ses_1", &s, &found, &err), 0);
    assert_true(s.revoked_at == US_T0 + 100 + US_GRACE);
    assert_int_equal(store_sessions_get(f->docs, ES_ENV, "ses_2", &s, &found, &err), 0);
    assert_true(s.revoked_at == US_T0 + 100 + US_GRACE);
    /* the session's current token no longer works; a rotated one within grace of a revoked session neither */
    assert_int_equal(store_sessions_rotate(f->docs, ES_ENV, h3, never, US_T0 + 20000, exp, US_GRACE, &s, cur, &outcome, &err), 0);
    assert_int_equal(outcome, STORE_ENDED);
    assert_int_equal(store_sessions_rotate(f->docs, ES_ENV, h2, never, US_T0 + 301, exp, US_GRACE, &s, cur, &outcome, &err), 0);
    assert_int_equal(outcome, STORE_ENDED);
    /* grace 0: any reuse is theft */
    us_session(f, "ses_3", "usr_3", US_T0, exp, h1); /* h1 is remembered as used, but no session holds it */
    assert_int_equal(store_sessions_rotate(f->docs, ES_ENV, h1, never, US_T0 + 500, exp, 0, &s, cur, &outcome, &err), 0);
    assert_int_equal(outcome, STORE_ROTATED); /* h1 names a live session again: it rotates */
    assert_int_equal(store_sessions_rotate(f->docs, ES_ENV, h1, h3, US_T0 + 501, exp, 0, &s, cur, &outcome, &err), 0);
    assert_int_equal(outcome, STORE_REUSED);
    assert_string_equal(s.user_id, "usr_3");

    /* expired */
    us_hash(h1, 'f', 1);
    us_session(f, "ses_4", "usr_4", US_T0, US_T0 + 10, h1);
    assert_int_equal(store_sessions_rotate(f->docs, ES_ENV, h1, h2, US_T0 + 10, exp, US_GRACE, &s, cur, &outcome, &err), 0);
    assert_int_equal(outcome, STORE_ENDED);
    assert_string_equal(s.id, "ses_4");
}

typedef struct us_race {
    es_fixture *f;
    pthread_barrier_t *start;
    const char *presented;
    char new_hash[STORE_REFRESH_HASH_MAX];
    int rc;
    store_rotation rotation;
    store_token_outcome token;
    char user_id[STORE_USER_ID_MAX];
} us_race;

static void *us_rotate_thread(void *arg)
{
    us_race *r = arg;
    bs_err err = {0};
    store_session s;
    char cur[STORE_REFRESH_HASH_MAX];
    pthread_barrier_wait(r->start);
    r->rc = store_sessions_rotate(r->f->docs, ES_ENV, r->presented, r->new_hash, US_T0 + 100, US_T0 + 86400000, US_GRACE,
                                  &s, cur, &r->rotation, &err);
    return NULL;
}

static void *us_consume_thread(void *arg)
{
    us_race *r = arg;
    bs_err err = {0};
    pthread_barrier_wait(r->start);
    r->rc = store_tokens_consume(r->f->docs, ES_ENV, "reset", r->presented, NULL, US_T0 + 100, r->user_id, &r->token, &err);
    return NULL;
}

/* Two threads at once on one value (fn: us_rotate_thread or us_consume_thread), new hashes of this round. */
static void us_race_run(es_fixture *f, const char *presented, int round, void *(*fn)(void *), us_race out[2])
{
    pthread_barrier_t start;
    pthread_t t[2];
    pthread_barrier_init(&start, NULL, 2);
    for (int i = 0; i < 2; i++) {
        memset(&out[i], 0, sizeof out[i]);
        out[i].f = f;
        out[i].start = &start;
        out[i].presented = presented;
        us_hash(out[i].new_hash, i ? 'y' : 'x', round);
        assert_int_equal(pthread_create(&t[i], NULL, fn, &out[i]), 0);
    }
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
}

static void test_sessions_rotate_concurrent(void **state)
{
    es_fixture *f = es_fix(state);
    for (int round = 0; round < 8; round++) {
        char h[STORE_REFRESH_HASH_MAX], id[16];
        us_hash(h, (char)('a' + round), round);
        snprintf(id, sizeof id, "ses_%d", round);
        us_session(f, id, "usr_1", US_T0, US_T0 + 86400000, h);
        us_race r[2];
        us_race_run(f, h, round, us_rotate_thread, r);
        assert_int_equal(r[0].rc, 0);
        assert_int_equal(r[1].rc, 0);
        /* exactly one rotates; the other sees the rotation within the grace window */
        assert_int_equal((r[0].rotation == STORE_ROTATED) + (r[1].rotation == STORE_ROTATED), 1);
        assert_int_equal((r[0].rotation == STORE_RECENT) + (r[1].rotation == STORE_RECENT), 1);
    }
}

/* ---- mailed tokens ---- */

static void test_tokens_single_use(void **state)
{
    es_fixture *f = es_fix(state);
    bs_err err = {0};
    char h[STORE_REFRESH_HASH_MAX], user[STORE_USER_ID_MAX];
    store_token_outcome outcome = STORE_TOKEN_OK;
    us_hash(h, '1', 1);
    assert_int_equal(store_tokens_create(f->docs, ES_ENV, "reset", h, "usr_1", "one@example.com", US_T0 + 1000, &err), 0);
    assert_int_equal(store_tokens_create(f->docs, ES_ENV, "reset", h, "usr_1", "one@example.com", US_T0 + 1000, &err), -1);
    assert_int_equal(err.status, 409);
    assert_int_equal(store_tokens_consume(f->docs, ES_ENV, "verify", h, NULL, US_T0, user, &outcome, &err), 0);
    assert_int_equal(outcome, STORE_TOKEN_NOT_FOUND); /* another kind */
    assert_int_equal(store_tokens_consume(f->docs, ES_ENV, "reset", h, "two@example.com", US_T0, user, &outcome, &err), 0);
    assert_int_equal(outcome, STORE_TOKEN_NOT_FOUND); /* another address */
    assert_int_equal(store_tokens_consume(f->docs, ES_ENV, "reset", h, "one@example.com", US_T0, user, &outcome, &err), 0);
    assert_int_equal(outcome, STORE_TOKEN_OK);
    assert_string_equal(user, "usr_1");
    assert_int_equal(store_tokens_consume(f->docs, ES_ENV, "reset", h, NULL, US_T0 + 1, user, &outcome, &err), 0);
    assert_int_equal(outcome, STORE_TOKEN_USED);

    us_hash(h, '2', 2);
    assert_int_equal(store_tokens_create(f->docs, ES_ENV, "verify", h, "usr_2", "two@example.com", US_T0 + 1000, &err), 0);
    assert_int_equal(store_tokens_consume(f->docs, ES_ENV, "verify", h, NULL, US_T0 + 1000, user, &outcome, &err), 0);
    assert_int_equal(outcome, STORE_TOKEN_EXPIRED);
    assert_int_equal(store_tokens_consume(f->docs, ES_ENV, "verify", h, NULL, US_T0 + 999, user, &outcome, &err), 0);
    assert_int_equal(outcome, STORE_TOKEN_OK); /* any address */
    assert_string_equal(user, "usr_2");
}

static void test_tokens_concurrent(void **state)
{
    es_fixture *f = es_fix(state);
    bs_err err = {0};
    for (int round = 0; round < 8; round++) {
        char h[STORE_REFRESH_HASH_MAX];
        us_hash(h, (char)('a' + round), round);
        assert_int_equal(store_tokens_create(f->docs, ES_ENV, "reset", h, "usr_1", "one@example.com", US_T0 + 1000, &err), 0);
        us_race r[2];
        us_race_run(f, h, round, us_consume_thread, r);
        assert_int_equal(r[0].rc, 0);
        assert_int_equal(r[1].rc, 0);
        assert_int_equal((r[0].token == STORE_TOKEN_OK) + (r[1].token == STORE_TOKEN_OK), 1); /* exactly one wins */
        assert_int_equal((r[0].token == STORE_TOKEN_USED) + (r[1].token == STORE_TOKEN_USED), 1);
        assert_string_equal(r[r[0].token == STORE_TOKEN_OK ? 0 : 1].user_id, "usr_1");
    }
}

/* ---- invitations ---- */

static void us_invitation(es_fixture *f, const char *id, const char *rid, const char *email, const char *by, int64_t at,
                          const char *token)
{
    store_invitation v;
    bs_err err = {0};
    memset(&v, 0, sizeof v);
    snprintf(v.id, sizeof v.id, "%s", id);
    snprintf(v.resource_type, sizeof v.resource_type, "team");
    snprintf(v.resource_id, sizeof v.resource_id, "%s", rid);
    snprintf(v.resource_name, sizeof v.resource_name, "Team %s", rid);
    snprintf(v.resource_role, sizeof v.resource_role, "member");
    snprintf(v.email, sizeof v.email, "%s", email);
    snprintf(v.status, sizeof v.status, "pending");
    snprintf(v.invited_by, sizeof v.invited_by, "%s", by);
    v.expires_at = at + 86400000;
    v.created_at = v.updated_at = at;
    assert_int_equal(store_invitations_create(f->docs, ES_ENV, &v, token, &err), 0);
}

static void test_invitations(void **state)
{
    es_fixture *f = es_fix(state);
    bs_err err = {0};
    us_invitation(f, "inv_1", "t1", "bob@example.com", "usr_1", US_T0 + 1, "tok1");
    us_invitation(f, "inv_2", "t2", "bob@example.com", "usr_1", US_T0 + 2, "tok2");
    us_invitation(f, "inv_3", "t1", "eve@example.com", "usr_1", US_T0 + 3, "tok3");
    us_invitation(f, "inv_4", "t3", "ada@example.com", "usr_9", US_T0 + 4, "tok4");
    store_invitation v, out[8];
    int found = 0, changed = 0;
    assert_int_equal(store_invitations_get(f->docs, ES_ENV, "inv_2", &v, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(v.resource_name, "Team t2");
    assert_string_equal(v.status, "pending");
    assert_true(v.expires_at == US_T0 + 2 + 86400000);
    assert_int_equal(store_invitations_by_token(f->docs, ES_ENV, "tok3", &v, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(v.id, "inv_3");
    assert_int_equal(store_invitations_by_token(f->docs, ES_ENV, "tok9", &v, &found, &err), 0);
    assert_int_equal(found, 0);

    assert_int_equal(store_invitations_set_status(f->docs, ES_ENV, "inv_1", "accepted", US_T0 + 10, &changed, &err), 0);
    assert_int_equal(changed, 1);
    assert_int_equal(store_invitations_set_status(f->docs, ES_ENV, "inv_1", "revoked", US_T0 + 11, &changed, &err), 0);
    assert_int_equal(changed, 0); /* no longer pending */
    assert_int_equal(store_invitations_get(f->docs, ES_ENV, "inv_1", &v, &found, &err), 0);
    assert_string_equal(v.status, "accepted");
    assert_true(v.updated_at == US_T0 + 10);

    size_t n = 0;
    int64_t total = 0;
    store_invitation_query q = {.invited_by = "usr_1", .limit = 2};
    assert_int_equal(store_invitations_list(f->docs, ES_ENV, &q, out, &n, &total, &err), 0);
    assert_true(total == 3);
    assert_int_equal(n, 2);
    assert_string_equal(out[0].id, "inv_3"); /* newest first */
    q.offset = 2;
    assert_int_equal(store_invitations_list(f->docs, ES_ENV, &q, out, &n, &total, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].id, "inv_1");
    q = (store_invitation_query){.email = "bob@example.com", .status = "pending", .limit = 8};
    assert_int_equal(store_invitations_list(f->docs, ES_ENV, &q, out, &n, &total, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].id, "inv_2");
    q = (store_invitation_query){.invited_by = "usr_1", .email = "ada@example.com", .resource_type = "team",
                                 .resource_id = "t1", .limit = 8};
    assert_int_equal(store_invitations_list(f->docs, ES_ENV, &q, out, &n, &total, &err), 0);
    assert_true(total == 2);
    assert_string_equal(out[0].id, "inv_3");
    assert_string_equal(out[1].id, "inv_1");
}

/* ---- linked accounts ---- */

static void test_accounts(void **state)
{
    es_fixture *f = es_fix(state);
    bs_err err = {0};
    char user[STORE_USER_ID_MAX];
    int found = 0;
    store_account out[4];
    size_t n = 0;
    assert_int_equal(store_accounts_link(f->docs, ES_ENV, "github", "gh-42", "usr_1", &err), 0);
    assert_int_equal(store_accounts_link(f->docs, ES_ENV, "google", "g-7", "usr_1", &err), 0);
    assert_int_equal(store_accounts_link(f->docs, ES_ENV, "github", "gh-42", "usr_2", &err), -1);
    assert_int_equal(err.status, 409);
    assert_int_equal(store_accounts_find(f->docs, ES_ENV, "github", "gh-42", user, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(user, "usr_1");
    assert_int_equal(store_accounts_find(f->docs, ES_ENV, "google", "gh-42", user, &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(store_accounts_of(f->docs, ES_ENV, "usr_1", out, 4, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_true(out[0].created_at > 0);
    assert_int_equal(store_accounts_of(f->docs, ES_ENV, "usr_1", out, 1, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(store_accounts_unlink(f->docs, ES_ENV, "usr_1", "github", &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(store_accounts_unlink(f->docs, ES_ENV, "usr_1", "github", &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(store_accounts_of(f->docs, ES_ENV, "usr_1", out, 4, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].provider, "google");
    assert_string_equal(out[0].account_id, "g-7");
}

/* ---- audit trail and pruning ---- */

static void test_audit(void **state)
{
    es_fixture *f = es_fix(state);
    bs_err err = {0};
    for (int i = 0; i < 5; i++) {
        store_audit a;
        memset(&a, 0, sizeof a);
        a.at = US_T0 + i * 1000;
        snprintf(a.event, sizeof a.event, i % 2 ? "signin" : "signin_failed");
        snprintf(a.user_id, sizeof a.user_id, "usr_%d", i);
        snprintf(a.email, sizeof a.email, "u%d@example.com", i);
        snprintf(a.ip, sizeof a.ip, "192.0.2.%d", i);
        snprintf(a.user_agent, sizeof a.user_agent, "agent");
        snprintf(a.detail, sizeof a.detail, "d%d", i);
        assert_int_equal(store_audit_add(f->docs, ES_ENV, &a, &err), 0);
    }
    store_audit out[8];
    size_t n = 0;
    assert_int_equal(store_audit_list(f->docs, ES_ENV, 0, out, 2, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(out[0].user_id, "usr_4"); /* newest first */
    assert_string_equal(out[0].detail, "d4");
    assert_string_equal(out[1].email, "u3@example.com");
    assert_true(out[0].id > out[1].id);
    assert_true(out[0].at == US_T0 + 4000);
    assert_int_equal(store_audit_list(f->docs, ES_ENV, out[1].id, out, 8, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(out[0].user_id, "usr_2");
    assert_string_equal(out[2].ip, "192.0.2.0");

    assert_int_equal(store_auth_prune(f->docs, ES_ENV, US_T0 + 2000, US_T0, &err), 0);
    assert_int_equal(store_audit_list(f->docs, ES_ENV, 0, out, 8, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(out[2].user_id, "usr_2");
}

static void test_auth_prune(void **state)
{
    es_fixture *f = es_fix(state);
    bs_err err = {0};
    int64_t day = 86400000, now = US_T0 + 10 * day;
    char tok_old[STORE_REFRESH_HASH_MAX], tok_new[STORE_REFRESH_HASH_MAX], user[STORE_USER_ID_MAX];
    us_hash(tok_old, '1', 0), us_hash(tok_new, '2', 0);
    assert_int_equal(store_tokens_create(f->docs, ES_ENV, "reset", tok_old, "usr_1", "a@example.com", now - 2 * day, &err), 0);
    assert_int_equal(store_tokens_create(f->docs, ES_ENV, "reset", tok_new, "usr_1", "a@example.com", now - day / 2, &err), 0);
    /* a session past its expiry with a rotated-away token, and a live one */
    char h1[STORE_REFRESH_HASH_MAX], h2[STORE_REFRESH_HASH_MAX], h3[STORE_REFRESH_HASH_MAX], h4[STORE_REFRESH_HASH_MAX];
    char cur[STORE_REFRESH_HASH_MAX];
    us_hash(h1, 'a', 1), us_hash(h2, 'a', 2), us_hash(h3, 'a', 3), us_hash(h4, 'a', 4);
    us_session(f, "ses_old", "usr_1", US_T0, US_T0 + day, h1);
    us_session(f, "ses_new", "usr_2", US_T0, now + day, h3);
    store_session s;
    store_rotation outcome;
    assert_int_equal(store_sessions_rotate(f->docs, ES_ENV, h1, h2, US_T0 + 1, US_T0 + day, 0, &s, cur, &outcome, &err), 0);
    assert_int_equal(outcome, STORE_ROTATED);
    assert_int_equal(store_sessions_rotate(f->docs, ES_ENV, h3, h4, US_T0 + 1, now + day, 0, &s, cur, &outcome, &err), 0);
    assert_int_equal(outcome, STORE_ROTATED);
    store_limit limit = {.max = 1, .window_ms = 1000, .block_ms = 1000};
    int64_t until = 0;
    assert_int_equal(store_limits_fail(f->docs, ES_ENV, "signin:old", &limit, now - 3 * day, &until, &err), 0);
    assert_int_equal(store_limits_fail(f->docs, ES_ENV, "signin:new", &limit, now - 1000, &until, &err), 0);

    assert_int_equal(store_auth_prune(f->docs, ES_ENV, 0, now, &err), 0);
    store_token_outcome t;
    assert_int_equal(store_tokens_consume(f->docs, ES_ENV, "reset", tok_old, NULL, now, user, &t, &err), 0);
    assert_int_equal(t, STORE_TOKEN_NOT_FOUND); /* ended more than a day ago: gone */
    assert_int_equal(store_tokens_consume(f->docs, ES_ENV, "reset", tok_new, NULL, now, user, &t, &err), 0);
    assert_int_equal(t, STORE_TOKEN_EXPIRED);   /* kept */
    /* the expired session's used token is forgotten (unknown), the live one's is not (theft) */
    assert_int_equal(store_sessions_rotate(f->docs, ES_ENV, h1, h2, now, now + day, 0, &s, cur, &outcome, &err), 0);
    assert_int_equal(outcome, STORE_UNKNOWN);
    assert_int_equal(store_sessions_rotate(f->docs, ES_ENV, h3, h1, now, now + day, 0, &s, cur, &outcome, &err), 0);
    assert_int_equal(outcome, STORE_REUSED);
    assert_int_equal(store_limits_blocked(f->docs, ES_ENV, "signin:old", now, &until, &err), 0);
    assert_true(until == 0);
}

/* ---- abuse limits ---- */

static void test_limits(void **state)
{
    es_fixture *f = es_fix(state);
    bs_err err = {0};
    store_limit limit = {.max = 3, .window_ms = 60000, .block_ms = 300000};
    int64_t until = 1;
    assert_int_equal(store_limits_blocked(f->docs, ES_ENV, "signin:a@example.com", US_T0, &until, &err), 0);
    assert_true(until == 0);
    assert_int_equal(store_limits_fail(f->docs, ES_ENV, "signin:a@example.com", &limit, US_T0, &until, &err), 0);
    assert_true(until == 0);
    assert_int_equal(store_limits_fail(f->docs, ES_ENV, "signin:a@example.com", &limit, US_T0 + 10, &until, &err), 0);
    assert_true(until == 0);
    assert_int_equal(store_limits_fail(f->docs, ES_ENV, "signin:a@example.com", &limit, US_T0 + 20, &until, &err), 0);
    assert_true(until == US_T0 + 20 + 300000); /* the third failure in the window blocks */
    assert_int_equal(store_limits_blocked(f->docs, ES_ENV, "signin:a@example.com", US_T0 + 30, &until, &err), 0);
    assert_true(until == US_T0 + 20 + 300000);
    assert_int_equal(store_limits_blocked(f->docs, ES_ENV, "signin:b@example.com", US_T0 + 30, &until, &err), 0);
    assert_true(until == 0); /* another key */
    assert_int_equal(store_limits_blocked(f->docs, ES_ENV, "signin:a@example.com", US_T0 + 20 + 300000, &until, &err), 0);
    assert_true(until == 0); /* over */
    assert_int_equal(store_limits_fail(f->docs, ES_ENV, "signin:a@example.com", &limit, US_T0 + 40, &until, &err), 0);
    assert_true(until == 0); /* the count restarted when it blocked */

    /* failures spread over more than a window do not add up */
    assert_int_equal(store_limits_fail(f->docs, ES_ENV, "signin:c@example.com", &limit, US_T0, &until, &err), 0);
    assert_int_equal(store_limits_fail(f->docs, ES_ENV, "signin:c@example.com", &limit, US_T0 + 1, &until, &err), 0);
    assert_int_equal(store_limits_fail(f->docs, ES_ENV, "signin:c@example.com", &limit, US_T0 + 60000, &until, &err), 0);
    assert_true(until == 0);
    assert_int_equal(store_limits_fail(f->docs, ES_ENV, "signin:c@example.com", &limit, US_T0 + 60001, &until, &err), 0);
    assert_true(until == 0);

    /* a success forgets the failures */
    assert_int_equal(store_limits_fail(f->docs, ES_ENV, "signin:d@example.com", &limit, US_T0, &until, &err), 0);
    assert_int_equal(store_limits_fail(f->docs, ES_ENV, "signin:d@example.com", &limit, US_T0, &until, &err), 0);
    assert_int_equal(store_limits_clear(f->docs, ES_ENV, "signin:d@example.com", &err), 0);
    assert_int_equal(store_limits_fail(f->docs, ES_ENV, "signin:d@example.com", &limit, US_T0, &until, &err), 0);
    assert_true(until == 0);
    limit.max = 1;
    assert_int_equal(store_limits_fail(f->docs, ES_ENV, "mail:e@example.com", &limit, US_T0, &until, &err), 0);
    assert_true(until == US_T0 + 300000); /* max 1: the first failure blocks */
    assert_int_equal(store_limits_clear(f->docs, ES_ENV, "mail:e@example.com", &err), 0);
    assert_int_equal(store_limits_blocked(f->docs, ES_ENV, "mail:e@example.com", US_T0 + 1, &until, &err), 0);
    assert_true(until == 0);
}

#define USERS_STORE_CASES(setup, teardown)                                     \
    cmocka_unit_test_setup_teardown(test_users_create_and_find, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_users_dedicated_env, setup, teardown),   \
    cmocka_unit_test_setup_teardown(test_users_update, setup, teardown),          \
    cmocka_unit_test_setup_teardown(test_users_list, setup, teardown),            \
    cmocka_unit_test_setup_teardown(test_users_slug_owner, setup, teardown),      \
    cmocka_unit_test_setup_teardown(test_sessions_list_and_revoke, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_sessions_rotate, setup, teardown),       \
    cmocka_unit_test_setup_teardown(test_sessions_rotate_concurrent, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_tokens_single_use, setup, teardown),     \
    cmocka_unit_test_setup_teardown(test_tokens_concurrent, setup, teardown),     \
    cmocka_unit_test_setup_teardown(test_invitations, setup, teardown),           \
    cmocka_unit_test_setup_teardown(test_accounts, setup, teardown),              \
    cmocka_unit_test_setup_teardown(test_audit, setup, teardown),                 \
    cmocka_unit_test_setup_teardown(test_auth_prune, setup, teardown),            \
    cmocka_unit_test_setup_teardown(test_limits, setup, teardown)

#endif
