/* Unit tests of core/userauth.h: tokens are accepted only by the environment (and project) they were
 * signed for; a genuine token of another environment is 403 data/project-access-denied, a forged or
 * malformed one 401 auth/invalid-token, an expired one 401 auth/token-expired, a refresh token is not an
 * access token; secrets come from the control store and are the same for every userauth over it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/bootstrap.h"
#include "core/userauth.h"
#include "util/clock.h"

typedef struct fixture {
    char dir[64];
    store_control *store;
    bootstrap_result boot;
    store_env other;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/basalt-userauth-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char location[128];
    snprintf(location, sizeof location, "sqlite:%s/control.db", f->dir);
    bs_err err = {0};
    f->store = store_control_open(location, &err);
    assert_non_null(f->store);
    assert_int_equal(bootstrap_run(f->store, &f->boot, &err), 0);
    store_env dev;
    int found = 0;
    assert_int_equal(store_control_env_find(f->store, f->boot.project_id, "dev", &dev, &found, &err), 0);
    assert_int_equal(found, 1);
    f->other = dev;
    snprintf(f->other.id, sizeof f->other.id, "env_00000000000000000099");
    snprintf(f->other.name, sizeof f->other.name, "staging");
    assert_int_equal(store_control_env_insert(f->store, &f->other, &err), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    store_control_free(f->store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void sign(userauth *ua, const store_env *env, const char *typ, int64_t iat, char *out, size_t size)
{
    token_claims c;
    memset(&c, 0, sizeof c);
    snprintf(c.sub, sizeof c.sub, "user_1");
    snprintf(c.role, sizeof c.role, "user");
    snprintf(c.env, sizeof c.env, "%s", env->id);
    snprintf(c.pid, sizeof c.pid, "%s", env->project_id);
    snprintf(c.typ, sizeof c.typ, "%s", typ);
    c.iat = iat;
    c.exp = iat + 3600;
    strbuf sb;
    strbuf_init(&sb, 0);
    bs_err err = {0};
    assert_int_equal(userauth_sign(ua, &c, &sb, &err), 0);
    snprintf(out, size, "%s", sb.data);
    strbuf_release(&sb);
}

static void test_environments(void **state)
{
    fixture *f = *state;
    userauth *ua = userauth_new(f->store), *other_instance = userauth_new(f->store);
    store_env dev;
    int found = 0;
    bs_err err = {0};
    assert_int_equal(store_control_env_find(f->store, f->boot.project_id, "dev", &dev, &found, &err), 0);
    int64_t now = clock_now_ms() / 1000;
    char dev_token[1024], staging_token[1024], refresh[1024];
    sign(ua, &dev, "access", now, dev_token, sizeof dev_token);
    sign(ua, &f->other, "access", now, staging_token, sizeof staging_token);
    sign(ua, &dev, "refresh", now, refresh, sizeof refresh);
    token_claims c;
    assert_int_equal(userauth_verify(other_instance, dev.id, dev.project_id, dev_token, now, &c, &err), 0);
    assert_string_equal(c.sub, "user_1");
    assert_int_equal(userauth_verify(ua, dev.id, dev.project_id, staging_token, now, &c, &err), -1);
    assert_int_equal(err.status, 403);
    assert_string_equal(err.code, "data/project-access-denied");
    assert_int_equal(userauth_verify(ua, dev.id, "prj_other", dev_token, now, &c, &err), -1);
    assert_string_equal(err.code, "data/project-access-denied");
    assert_int_equal(userauth_verify(ua, dev.id, dev.project_id, refresh, now, &c, &err), -1);
    assert_string_equal(err.code, "auth/invalid-token");
    assert_int_equal(userauth_verify(ua, dev.id, dev.project_id, dev_token, now + 7200, &c, &err), -1);
    assert_string_equal(err.code, "auth/token-expired");
    char forged[1024];
    snprintf(forged, sizeof forged, "%s", staging_token);
    forged[strlen(forged) - 3] = forged[strlen(forged) - 3] == 'A' ? 'B' : 'A';
    assert_int_equal(userauth_verify(ua, dev.id, dev.project_id, forged, now, &c, &err), -1);
    assert_int_equal(err.status, 401); /* a forged token of another environment is just invalid */
    assert_int_equal(userauth_verify(ua, dev.id, dev.project_id, "x.y.z", now, &c, &err), -1);
    assert_string_equal(err.code, "auth/invalid-token");
    userauth_free(ua);
    userauth_free(other_instance);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_environments, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
