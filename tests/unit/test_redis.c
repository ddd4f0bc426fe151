/* redis: the Redis client (store/redis/redis.h) and the shared admission counters (store/counters.h)
 * against a real redis-server (tests/redis/with-redis.sh: BASALT_TEST_REDIS_URL; without it those tests
 * are skipped): scripts by EVALSHA with the SCRIPT LOAD fallback after a SCRIPT FLUSH, a command timeout
 * and the reconnect after it, the backoff after a failed connect, no password in any message, the
 * check-and-take script (seeds, limits, a daily refusal still taking the month) and three clients racing
 * for the last 100 calls, the auth limits' script (take, block, refund, clear, a new window) and three
 * clients racing for one limit, core/quota seeding shared counters once through its loader and two quotas (two
 * processes) deciding on the same counters. Without a server: core/quota's fail-open then fail-closed answer. */
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "net_fixture.h"

#include "core/quota.h"
#include "store/counters.h"
#include "store/redis/redis.h"
#include "util/clock.h"

static const char *server(void)
{
    const char *url = getenv("BASALT_TEST_REDIS_URL");
    return url && *url ? url : NULL;
}

/* A port nothing listens on. */
static int closed_port(void)
{
    int port = net_fixture_closed_port();
    assert_true(port > 0);
    return port;
}

static void scripts_load_after_a_flush(void **state)
{
    (void)state;
    if (!server()) skip();
    bs_err err;
    bs_redis *r = bs_redis_new(server(), 1000, &err);
    assert_non_null(r);
    bs_redis_script s;
    bs_redis_script_init(&s, "return {7, tonumber(ARGV[1]) + 1}");
    assert_int_equal(strlen(s.sha), 40);
    int64_t out[4];
    int n = 0;
    const char *args[1] = {"41"};
    assert_int_equal(bs_redis_eval_ints(r, &s, 0, NULL, 1, args, out, 4, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(out[1], 42);
    const char *flush[2] = {"SCRIPT", "FLUSH"};
    assert_int_equal(bs_redis_command(r, 2, flush, NULL, &err), 0);
    const char *exists[3] = {"EVALSHA", s.sha, "0"}; /* the server no longer knows it ... */
    assert_int_equal(bs_redis_command(r, 3, exists, NULL, &err), -1);
    assert_non_null(strstr(err.message, "NOSCRIPT"));
    n = 0; /* ... and eval loads it again */
    assert_int_equal(bs_redis_eval_ints(r, &s, 0, NULL, 1, args, out, 4, &n, &err), 0);
    assert_int_equal(out[1], 42);
    int64_t errors, connects;
    bs_redis_stats(r, &errors, &connects);
    assert_int_equal(connects, 1); /* one pooled connection throughout: a script error does not drop it */
    bs_redis_free(r);
}

static void a_slow_command_times_out_then_reconnects(void **state)
{
    (void)state;
    if (!server()) skip();
    bs_err err;
    bs_redis *r = bs_redis_new(server(), 50, &err);
    assert_non_null(r);
    bs_redis_script spin;
    bs_redis_script_init(&spin, "local function us() local t = redis.call('TIME') return t[1] * 1000000 + t[2] end\n"
                                "local start = us()\nrepeat until us() - start > 300000\nreturn {1}");
    int64_t out[2], t0 = clock_mono_us();
    int n = 0;
    assert_int_equal(bs_redis_eval_ints(r, &spin, 0, NULL, 0, NULL, out, 2, &n, &err), -1);
    int64_t took = clock_mono_us() - t0;
    assert_true(took < 250000); /* gave up at the timeout, not when the server finished */
    assert_int_equal(err.status, 503);
    usleep(400000); /* the server is done */
    const char *ping[1] = {"PING"};
    assert_int_equal(bs_redis_command(r, 1, ping, NULL, &err), 0);
    int64_t errors, connects;
    bs_redis_stats(r, &errors, &connects);
    assert_int_equal(connects, 2); /* the timed-out connection was closed, a new one opened */
    assert_int_equal(errors, 1);
    bs_redis_free(r);
}

static void a_connection_the_server_closed_is_replaced_at_once(void **state)
{
    (void)state;
    if (!server()) skip();
    bs_err err;
    bs_redis *r = bs_redis_new(server(), 1000, &err), *killer = bs_redis_new(server(), 1000, &err);
    const char *ping[1] = {"PING"};
    assert_int_equal(bs_redis_command(r, 1, ping, NULL, &err), 0);
    const char *kill_all[6] = {"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"};
    int64_t killed = 0;
    assert_int_equal(bs_redis_command(killer, 6, kill_all, &killed, &err), 0);
    assert_true(killed >= 1);
    assert_int_equal(bs_redis_command(r, 1, ping, NULL, &err), 0); /* as after a restart: no failed call */
    int64_t errors, connects;
    bs_redis_stats(r, &errors, &connects);
    assert_int_equal(connects, 2);
    assert_int_equal(errors, 0);
    bs_redis_free(r);
    bs_redis_free(killer);
}

static void a_refused_connect_backs_off_and_hides_the_password(void **state)
{
    (void)state;
    char url[128];
    snprintf(url, sizeof url, "redis://:s3cret-pw@127.0.0.1:%d/2", closed_port());
    bs_err err;
    bs_redis *r = bs_redis_new(url, 50, &err);
    assert_non_null(r);
    assert_null(strstr(bs_redis_describe(r), "s3cret"));
    assert_non_null(strstr(bs_redis_describe(r), "/2"));
    const char *ping[1] = {"PING"};
    assert_int_equal(bs_redis_command(r, 1, ping, NULL, &err), -1);
    assert_non_null(strstr(err.message, "cannot connect"));
    assert_null(strstr(err.message, "s3cret"));
    assert_int_equal(bs_redis_command(r, 1, ping, NULL, &err), -1); /* within the backoff: no connect tried */
    assert_non_null(strstr(err.message, "retrying shortly"));
    usleep(80000);
    assert_int_equal(bs_redis_command(r, 1, ping, NULL, &err), -1); /* past it: tried again */
    assert_non_null(strstr(err.message, "cannot connect"));
    int64_t errors, connects;
    bs_redis_stats(r, &errors, &connects);
    assert_int_equal(errors, 3);
    assert_int_equal(connects, 0);
    bs_redis_free(r);
    assert_null(bs_redis_new("http://127.0.0.1:6379", 50, &err));
    assert_null(bs_redis_new("redis://:pw@", 50, &err));
}

static void a_wrong_password_is_refused_without_showing_it(void **state)
{
    (void)state;
    if (!server()) skip();
    char url[256];
    snprintf(url, sizeof url, "redis://:not-the-pw@%s", server() + 8); /* the test server has no password */
    bs_err err;
    bs_redis *r = bs_redis_new(url, 1000, &err);
    const char *ping[1] = {"PING"};
    assert_int_equal(bs_redis_command(r, 1, ping, NULL, &err), -1);
    assert_non_null(strstr(err.message, "authentication failed"));
    assert_null(strstr(err.message, "not-the-pw"));
    bs_redis_free(r);
}

/* An organization and project id no other test run uses. */
static void fresh_ids(char *org, char *project, size_t cap)
{
    static int n;
    snprintf(org, cap, "org_t%d_%lld_%d", (int)getpid(), (long long)clock_mono_us(), ++n);
    snprintf(project, cap, "prj_t%d_%lld_%d", (int)getpid(), (long long)clock_mono_us(), n);
}

static store_counters_call call_of(const char *org, const char *project, int64_t month_limit, int64_t day_limit)
{
    store_counters_call c = {.org_id = org, .project_id = project, .month_limit = month_limit, .day_limit = day_limit,
                             .month_seed = -1, .day_seed = -1};
    int64_t now = clock_now_ms();
    quota_window_bounds(QUOTA_MONTH, now, &c.month_start, &c.month_end);
    quota_window_bounds(QUOTA_DAY, now, &c.day_start, &c.day_end);
    return c;
}

static void the_script_seeds_checks_and_takes(void **state)
{
    (void)state;
    if (!server()) skip();
    bs_err err;
    store_counters *c = store_counters_open(server(), 1000, &err);
    assert_non_null(c);
    char org[64], project[64];
    fresh_ids(org, project, sizeof org);
    store_counters_call call = call_of(org, project, 10, 3);
    store_counters_result r;
    assert_int_equal(store_counters_take_call(c, &call, &r, &err), 0);
    assert_int_equal(r.outcome, STORE_COUNTERS_SEED_MONTH | STORE_COUNTERS_SEED_DAY); /* nothing known yet */
    call.month_seed = 7;
    assert_int_equal(store_counters_take_call(c, &call, &r, &err), 0);
    assert_int_equal(r.outcome, STORE_COUNTERS_SEED_DAY); /* nothing taken, the month now seeded */
    call.day_seed = 1;
    assert_int_equal(store_counters_take_call(c, &call, &r, &err), 0);
    assert_int_equal(r.outcome, STORE_COUNTERS_ADMITTED);
    assert_int_equal(r.month_used, 8);
    assert_int_equal(r.day_used, 2);
    call.month_seed = call.day_seed = -1; /* seeds are ignored once a counter exists */
    assert_int_equal(store_counters_take_call(c, &call, &r, &err), 0);
    assert_int_equal(r.outcome, STORE_COUNTERS_ADMITTED);
    assert_int_equal(r.day_used, 3);
    assert_int_equal(store_counters_take_call(c, &call, &r, &err), 0);
    assert_int_equal(r.outcome, STORE_COUNTERS_REFUSED_DAY); /* the month's unit was still taken */
    assert_int_equal(r.month_used, 10);
    assert_int_equal(r.day_used, 3);
    assert_int_equal(store_counters_take_call(c, &call, &r, &err), 0);
    assert_int_equal(r.outcome, STORE_COUNTERS_REFUSED_MONTH);
    assert_int_equal(r.month_used, 10);
    store_counters_call month_only = call_of(org, project, 11, -1); /* a raised quota admits again */
    assert_int_equal(store_counters_take_call(c, &month_only, &r, &err), 0);
    assert_int_equal(r.outcome, STORE_COUNTERS_ADMITTED);
    assert_int_equal(r.month_used, 11);
    int64_t rtt;
    assert_int_equal(store_counters_ping(c, &rtt, &err), 0);
    store_counters_free(c);
}

typedef struct racer {
    store_counters *c;
    const char *org, *project;
    int admitted, refused, failed;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    for (int i = 0; i < 20; i++) {
        store_counters_call call = call_of(r->org, r->project, 1000, -1);
        call.month_seed = 900;
        store_counters_result res;
        bs_err err;
        if (store_counters_take_call(r->c, &call, &res, &err) < 0) r->failed++;
        else if (res.outcome == STORE_COUNTERS_ADMITTED) r->admitted++;
        else r->refused++;
    }
    return NULL;
}

static void three_clients_racing_get_exactly_the_last_100(void **state)
{
    (void)state;
    if (!server()) skip();
    bs_err err;
    store_counters *clients[3];
    for (int i = 0; i < 3; i++) assert_non_null(clients[i] = store_counters_open(server(), 2000, &err));
    char org[64], project[64];
    fresh_ids(org, project, sizeof org);
    enum { RACERS = 24 };
    racer rs[RACERS];
    pthread_t th[RACERS];
    for (int i = 0; i < RACERS; i++) {
        rs[i] = (racer){.c = clients[i % 3], .org = org, .project = project};
        pthread_create(&th[i], NULL, race, &rs[i]);
    }
    int admitted = 0, refused = 0, failed = 0;
    for (int i = 0; i < RACERS; i++) {
        pthread_join(th[i], NULL);
        admitted += rs[i].admitted;
        refused += rs[i].refused;
        failed += rs[i].failed;
    }
    assert_int_equal(failed, 0);
    assert_int_equal(admitted, 100); /* seeded at 900 of 1000 */
    assert_int_equal(refused, RACERS * 20 - 100);
    for (int i = 0; i < 3; i++) store_counters_free(clients[i]);
}

/* ---- the auth abuse limits' script (store_counters_limit) ---- */

static int limit_op(store_counters *c, store_limit_op op, const char *env, int nkeys, const char *const *keys, const int64_t *maxes,
                    int64_t now, int64_t *until)
{
    bs_err err;
    int status = -1;
    assert_int_equal(store_counters_limit(c, op, env, nkeys, keys, maxes, 1000, 5000, now, &status, until, &err), 0);
    return status;
}

static void the_limit_script_takes_blocks_refunds_and_clears(void **state)
{
    (void)state;
    if (!server()) skip();
    bs_err err;
    store_counters *c = store_counters_open(server(), 1000, &err);
    assert_non_null(c);
    char env[64], unused[64];
    fresh_ids(env, unused, sizeof env);
    const char *keys[2] = {"signin:a@x.io", "signin-ip:10.0.0.1"};
    const int64_t maxes[2] = {3, 30};
    int64_t now = clock_now_ms(), until = -1;
    assert_int_equal(limit_op(c, STORE_LIMIT_TAKE, env, 2, keys, maxes, now, &until), STORE_LIMIT_TAKEN);
    assert_int_equal(until, 0);
    assert_int_equal(limit_op(c, STORE_LIMIT_TAKE, env, 2, keys, maxes, now, &until), STORE_LIMIT_TAKEN);
    assert_int_equal(limit_op(c, STORE_LIMIT_REFUND, env, 2, keys, maxes, now, &until), STORE_LIMIT_TAKEN); /* back to 1 */
    assert_int_equal(limit_op(c, STORE_LIMIT_TAKE, env, 2, keys, maxes, now, &until), STORE_LIMIT_TAKEN);
    assert_int_equal(limit_op(c, STORE_LIMIT_TAKE, env, 2, keys, maxes, now, &until), STORE_LIMIT_BLOCKING); /* the 3rd */
    assert_int_equal(until, now + 5000);
    assert_int_equal(limit_op(c, STORE_LIMIT_TAKE, env, 2, keys, maxes, now + 10, &until), STORE_LIMIT_BLOCKED);
    assert_int_equal(until, now + 5000);
    assert_int_equal(limit_op(c, STORE_LIMIT_TAKE, env, 1, keys + 1, maxes + 1, now + 10, &until), STORE_LIMIT_TAKEN); /* the IP alone is not */
    assert_int_equal(limit_op(c, STORE_LIMIT_TAKE, env, 2, keys, maxes, now + 5000, &until), STORE_LIMIT_TAKEN); /* the block is over */
    assert_int_equal(limit_op(c, STORE_LIMIT_CLEAR, env, 2, keys, maxes, now + 5000, &until), STORE_LIMIT_TAKEN);
    assert_int_equal(limit_op(c, STORE_LIMIT_TAKE, env, 2, keys, maxes, now + 5001, &until), STORE_LIMIT_TAKEN);
    assert_int_equal(limit_op(c, STORE_LIMIT_TAKE, env, 2, keys, maxes, now + 5002, &until), STORE_LIMIT_TAKEN);
    assert_int_equal(limit_op(c, STORE_LIMIT_TAKE, env, 2, keys, maxes, now + 6100, &until), STORE_LIMIT_TAKEN); /* a new window */
    store_counters_free(c);
}

typedef struct limit_racer {
    store_counters *c;
    const char *env;
    int evaluated, refused, failed;
} limit_racer;

static void *limit_race(void *arg)
{
    limit_racer *r = arg;
    const char *keys[1] = {"mail-reset:a@x.io"};
    const int64_t maxes[1] = {4};
    for (int i = 0; i < 10; i++) {
        bs_err err;
        int status = 0;
        int64_t until = 0;
        if (store_counters_limit(r->c, STORE_LIMIT_TAKE, r->env, 1, keys, maxes, 3600000, 7200000, clock_now_ms(), &status, &until, &err) < 0)
            r->failed++;
        else if (status == STORE_LIMIT_TAKEN) r->evaluated++;
        else r->refused++;
    }
    return NULL;
}

/* Three clients (three instances) racing 240 mails of one address: exactly 3 go out (the 4th blocks). */
static void three_clients_racing_a_limit_get_exactly_it(void **state)
{
    (void)state;
    if (!server()) skip();
    bs_err err;
    store_counters *clients[3];
    for (int i = 0; i < 3; i++) assert_non_null(clients[i] = store_counters_open(server(), 2000, &err));
    char env[64], unused[64];
    fresh_ids(env, unused, sizeof env);
    enum { RACERS = 24 };
    limit_racer rs[RACERS];
    pthread_t th[RACERS];
    for (int i = 0; i < RACERS; i++) {
        rs[i] = (limit_racer){.c = clients[i % 3], .env = env};
        pthread_create(&th[i], NULL, limit_race, &rs[i]);
    }
    int evaluated = 0, refused = 0, failed = 0;
    for (int i = 0; i < RACERS; i++) {
        pthread_join(th[i], NULL);
        evaluated += rs[i].evaluated;
        refused += rs[i].refused;
        failed += rs[i].failed;
    }
    assert_int_equal(failed, 0);
    assert_int_equal(evaluated, 3);
    assert_int_equal(refused, RACERS * 10 - 3);
    for (int i = 0; i < 3; i++) store_counters_free(clients[i]);
}

/* ---- core/quota over shared counters ---- */

static int loads;

static int load_counted(void *arg, const char *scope, const char *id, int64_t from, int64_t to, int64_t *used, bs_err *err)
{
    (void)arg; (void)id; (void)from; (void)to; (void)err;
    loads++;
    *used = !strcmp(scope, "org") ? 40 : 2;
    return 0;
}

static void quota_seeds_shared_counters_once_and_two_processes_share_them(void **state)
{
    (void)state;
    if (!server()) skip();
    bs_err err;
    store_counters *c1 = store_counters_open(server(), 1000, &err), *c2 = store_counters_open(server(), 1000, &err);
    quota *a = quota_new(load_counted, NULL), *b = quota_new(load_counted, NULL);
    quota_set_shared(a, c1, 30000);
    quota_set_shared(b, c2, 30000);
    char org[64], project[64];
    fresh_ids(org, project, sizeof org);
    int64_t now = clock_now_ms();
    quota_verdict v;
    loads = 0;
    assert_int_equal(quota_admit(a, org, project, 50, 4, now, &v, &err), 0);
    assert_true(v.admitted);
    assert_int_equal(loads, 2); /* both counters seeded from the rows: 40 and 2 */
    assert_int_equal(v.window, QUOTA_DAY);
    assert_int_equal(v.used, 3);
    assert_int_equal(quota_admit(b, org, project, 50, 4, now, &v, &err), 0); /* another process: the same counters */
    assert_true(v.admitted);
    assert_int_equal(v.used, 4);
    assert_int_equal(loads, 2); /* no more loads */
    assert_int_equal(quota_admit(a, org, project, 50, 4, now, &v, &err), 0);
    assert_false(v.admitted);
    assert_int_equal(v.window, QUOTA_DAY);
    assert_int_equal(v.limit, 4);
    assert_int_equal(quota_admit(b, org, project, 43, -1, now, &v, &err), 0); /* the refused call kept its month unit: 43 */
    assert_false(v.admitted);
    assert_int_equal(v.window, QUOTA_MONTH);
    assert_int_equal(v.used, 43);
    assert_string_equal(quota_admission_mode(a, now), "shared");
    quota_free(a);
    quota_free(b);
    store_counters_free(c1);
    store_counters_free(c2);
}

/* ---- core/quota over shared counters that never answer ---- */

static int load_five(void *arg, const char *scope, const char *id, int64_t from, int64_t to, int64_t *used, bs_err *err)
{
    (void)arg; (void)scope; (void)id; (void)from; (void)to; (void)err;
    *used = 5;
    return 0;
}

static void an_unreachable_redis_fails_open_then_closed(void **state)
{
    (void)state;
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", closed_port());
    bs_err err;
    store_counters *dead = store_counters_open(url, 50, &err);
    quota *q = quota_new(load_five, NULL);
    quota_set_shared(q, dead, 30000);
    int64_t t0 = clock_now_ms();
    assert_string_equal(quota_admission_mode(q, t0), "shared");
    quota_verdict v;
    assert_int_equal(quota_admit(q, "org_a", "prj_a", 7, -1, t0, &v, &err), 0); /* fail open: this process's counters */
    assert_true(v.admitted);
    assert_int_equal(v.used, 6);
    assert_string_equal(quota_admission_mode(q, t0 + 1000), "fail-open");
    assert_int_equal(quota_admit(q, "org_a", "prj_a", 7, -1, t0 + 29000, &v, &err), 0);
    assert_int_equal(v.used, 7);
    assert_int_equal(quota_admit(q, "org_a", "prj_a", 7, -1, t0 + 29500, &v, &err), 0);
    assert_false(v.admitted); /* limits still hold while failing open */
    assert_int_equal(quota_admit(q, "org_a", "prj_a", 7, -1, t0 + 30001, &v, &err), -1); /* then fail closed */
    assert_int_equal(err.status, 503);
    assert_string_equal(err.code, "common/unavailable");
    assert_string_equal(quota_admission_mode(q, t0 + 30001), "fail-closed");
    assert_int_equal(quota_admit(q, "org_a", "prj_a", -1, -1, t0 + 30001, &v, &err), 0); /* no limit: no Redis needed */
    strbuf sb;
    strbuf_init(&sb, 0);
    assert_int_equal(quota_render_prometheus(q, &sb), 0);
    strbuf_append_char(&sb, '\0');
    assert_non_null(strstr(sb.data, "basalt_redis_fail_open_total 3\n"));
    assert_non_null(strstr(sb.data, "basalt_redis_fail_closed_total 1\n"));
    assert_non_null(strstr(sb.data, "basalt_redis_outage 1\n"));
    strbuf_release(&sb);
    quota_free(q);
    store_counters_free(dead);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scripts_load_after_a_flush),
        cmocka_unit_test(a_slow_command_times_out_then_reconnects),
        cmocka_unit_test(a_connection_the_server_closed_is_replaced_at_once),
        cmocka_unit_test(a_refused_connect_backs_off_and_hides_the_password),
        cmocka_unit_test(a_wrong_password_is_refused_without_showing_it),
        cmocka_unit_test(the_script_seeds_checks_and_takes),
        cmocka_unit_test(three_clients_racing_get_exactly_the_last_100),
        cmocka_unit_test(the_limit_script_takes_blocks_refunds_and_clears),
        cmocka_unit_test(three_clients_racing_a_limit_get_exactly_it),
        cmocka_unit_test(quota_seeds_shared_counters_once_and_two_processes_share_them),
        cmocka_unit_test(an_unreachable_redis_fails_open_then_closed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
