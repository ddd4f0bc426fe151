/* fleet_bus: the invalidation bus (store/bus.h on Redis, core/fleet_bus.h). Without a server: the message
 * format (round trip, malformed messages refused), the sequence rule (only last + 1 is in order; a gap or
 * a number going back drops everything), a bus with no Redis applying locally only, and a publish to an
 * unreachable Redis failing (counted) without blocking. Against a real redis-server
 * (tests/redis/with-redis.sh: BASALT_TEST_REDIS_URL; skipped without it): a message published by one
 * instance is applied by the other before the publish returns (the ack wait); another installation's
 * namespace hears nothing; a gap in the numbers makes the receiver drop everything; a live peer that never
 * acks makes the publish time out after wait_ms (counted); a peer whose presence expired is not waited
 * for; subscribing drops everything once; free stops the subscriber and leaves the fleet's view. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "net_fixture.h"

#include "core/fleet_bus.h"
#include "store/bus.h"
#include "store/redis/redis.h"
#include "util/clock.h"
#include "util/crypto.h"

static const char *server(void)
{
    const char *url = getenv("BASALT_TEST_REDIS_URL");
    return url && *url ? url : NULL;
}

/* ---- a recorder of applied messages ---- */

#define SEEN_MAX 64
typedef struct seen {
    pthread_mutex_t lock;
    int n, drops;
    int kinds[SEEN_MAX];
    char ids[SEEN_MAX][STORE_BUS_ID_MAX];
} seen;

static int record(void *arg, int kind, const char *id)
{
    seen *s = arg;
    pthread_mutex_lock(&s->lock);
    if (kind == 0) s->drops++;
    else if (s->n < SEEN_MAX) {
        s->kinds[s->n] = kind;
        snprintf(s->ids[s->n++], STORE_BUS_ID_MAX, "%s", id);
    }
    pthread_mutex_unlock(&s->lock);
    return strcmp(id, "cannot") ? 0 : -1; /* a message its receiver cannot apply */
}

static int seen_has(seen *s, int kind, const char *id)
{
    pthread_mutex_lock(&s->lock);
    int hit = 0;
    for (int i = 0; i < s->n; i++) hit |= s->kinds[i] == kind && !strcmp(s->ids[i], id);
    pthread_mutex_unlock(&s->lock);
    return hit;
}

static int seen_drops(seen *s)
{
    pthread_mutex_lock(&s->lock);
    int d = s->drops;
    pthread_mutex_unlock(&s->lock);
    return d;
}

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static store_bus *open_bus(const char *url, const char *ns, int listen, int wait_ms, seen *s)
{
    bs_err err;
    store_bus_config c = {.url = url, .timeout_ms = 1000, .ns = ns, .listen = listen, .wait_ms = wait_ms, .apply = record, .arg = s};
    store_bus *b = store_bus_open(&c, &err);
    assert_non_null(b);
    return b;
}

/* Waits (at most 5 s) until b is subscribed. */
static void until_subscribed(store_bus *b)
{
    store_bus_stats st;
    for (int i = 0; i < 500; i++) {
        store_bus_stats_get(b, &st);
        if (st.subscribed) return;
        nap_ms(10);
    }
    fail_msg("the bus did not subscribe");
}

static void random_ns(char out[24])
{
    char hex[17];
    crypto_random_hex(hex, 8);
    snprintf(out, 24, "t%s", hex);
}

/* ---- without a server ---- */

static void message_format_round_trips(void **state)
{
    (void)state;
    char m[STORE_BUS_MSG_MAX], id[STORE_BUS_ID_MAX];
    int64_t seq;
    int kind;
    assert_int_equal(store_bus_msg_format(m, sizeof m, 42, 3, "env_abc"), 0);
    assert_string_equal(m, "42 3 env_abc");
    assert_int_equal(store_bus_msg_parse(m, strlen(m), &seq, &kind, id), 0);
    assert_int_equal(seq, 42);
    assert_int_equal(kind, 3);
    assert_string_equal(id, "env_abc");
    char small[8];
    assert_int_equal(store_bus_msg_format(small, sizeof small, 42, 3, "env_abc"), -1); /* does not fit */
    assert_int_equal(store_bus_msg_format(m, sizeof m, 1, 0, "x"), -1);              /* kind 0 is reserved */
    assert_int_equal(store_bus_msg_format(m, sizeof m, 1, 1, "a b"), -1);            /* no space in an id */
    assert_int_equal(store_bus_msg_format(m, sizeof m, 1, 1, ""), -1);
    const char *bad[] = {"", "x 1 a", "1 1", "1 1 ", "0 1 a", "-3 1 a", "1 0 a", "1 100 a", "1 x a", "1 1 a b", "12"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(store_bus_msg_parse(bad[i], strlen(bad[i]), &seq, &kind, id), -1);
    assert_int_equal(store_bus_msg_parse("5 1 a\0b", 7, &seq, &kind, id), -1); /* a NUL inside */
    char longer[STORE_BUS_MSG_MAX + 8];
    memset(longer, 'a', sizeof longer);
    memcpy(longer, "1 1 ", 4);
    assert_int_equal(store_bus_msg_parse(longer, sizeof longer, &seq, &kind, id), -1);
}

static void only_the_next_number_is_in_order(void **state)
{
    (void)state;
    assert_int_equal(store_bus_seq_resync(4, 5), 0);
    assert_int_equal(store_bus_seq_resync(0, 1), 0);
    assert_int_equal(store_bus_seq_resync(4, 6), 1); /* 5 was missed */
    assert_int_equal(store_bus_seq_resync(4, 4), 1); /* a repeat or Redis lost its counter */
    assert_int_equal(store_bus_seq_resync(400, 1), 1);
}

static void alone_it_only_applies_locally(void **state)
{
    (void)state;
    fleet_caches none = {NULL, NULL, NULL};
    fleet_bus *b = fleet_bus_new(&none);
    assert_non_null(b);
    assert_int_equal(fleet_bus_subscribed(b), -1);
    fleet_bus_publish(b, FLEET_TABLES, "env_x"); /* no Redis: returns at once */
    strbuf out;
    strbuf_init(&out, 0);
    assert_int_equal(fleet_bus_render_prometheus(b, &out), 0);
    assert_int_equal(out.len, 0); /* no series without --redis */
    strbuf_release(&out);
    fleet_bus_free(b);
}

/* A port nothing listens on. */
static int closed_port(void)
{
    int port = net_fixture_closed_port();
    assert_true(port > 0);
    return port;
}

static void unreachable_redis_fails_the_publish_only(void **state)
{
    (void)state;
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", closed_port());
    seen s = {.lock = PTHREAD_MUTEX_INITIALIZER};
    store_bus *b = open_bus(url, "nowhere", 1, 200, &s);
    bs_err err;
    int64_t t0 = clock_mono_us();
    assert_int_equal(store_bus_publish(b, 1, "key", &err), -1);
    assert_int_equal(err.status, 503);
    assert_true(clock_mono_us() - t0 < 1000 * 1000);
    store_bus_stats st;
    store_bus_stats_get(b, &st);
    assert_int_equal(st.publish_failures, 1);
    assert_int_equal(st.published, 0);
    assert_int_equal(st.subscribed, 0);
    store_bus_free(b); /* the subscriber stops while it backs off */
}

/* ---- against Redis ---- */

static void a_message_is_applied_everywhere_before_publish_returns(void **state)
{
    (void)state;
    if (!server()) skip();
    char ns[24], other_ns[24];
    random_ns(ns);
    random_ns(other_ns);
    seen sa = {.lock = PTHREAD_MUTEX_INITIALIZER}, sb = {.lock = PTHREAD_MUTEX_INITIALIZER}, so = {.lock = PTHREAD_MUTEX_INITIALIZER};
    store_bus *a = open_bus(server(), ns, 1, 1000, &sa), *b = open_bus(server(), ns, 1, 1000, &sb);
    store_bus *other = open_bus(server(), other_ns, 1, 1000, &so);
    until_subscribed(a);
    until_subscribed(b);
    until_subscribed(other);
    assert_int_equal(seen_drops(&sb), 1); /* subscribing dropped everything once */
    bs_err err;
    for (int i = 0; i < 20; i++) {
        char id[32];
        snprintf(id, sizeof id, "key%d", i);
        assert_int_equal(store_bus_publish(a, 1, id, &err), 0);
        assert_true(seen_has(&sb, 1, id)); /* b applied it before the publish returned */
    }
    assert_int_equal(store_bus_publish(b, 5, "env_1", &err), 0);
    assert_true(seen_has(&sa, 5, "env_1"));
    store_bus_stats st;
    store_bus_stats_get(b, &st);
    assert_int_equal(st.received, 21); /* its own message too */
    assert_int_equal(st.resyncs, 1);   /* no gap */
    assert_int_equal(st.wait_timeouts, 0);
    nap_ms(50);
    assert_false(seen_has(&so, 1, "key0")); /* another installation hears nothing */
    store_bus_free(other);
    store_bus_free(b);
    store_bus_free(a);
}

static void a_gap_drops_everything(void **state)
{
    (void)state;
    if (!server()) skip();
    char ns[24], channel[64], seqkey[64];
    random_ns(ns);
    snprintf(channel, sizeof channel, "basalt:bus:%s", ns);
    snprintf(seqkey, sizeof seqkey, "basalt:bus:%s:seq", ns);
    seen sb = {.lock = PTHREAD_MUTEX_INITIALIZER};
    store_bus *b = open_bus(server(), ns, 1, 1000, &sb);
    until_subscribed(b);
    bs_err err;
    bs_redis *r = bs_redis_new(server(), 1000, &err);
    int64_t n = 0;
    const char *incr[3] = {"INCRBY", seqkey, "3"}; /* numbers 1 and 2 "lost" */
    assert_int_equal(bs_redis_command(r, 3, incr, &n, &err), 0);
    char msg[64];
    snprintf(msg, sizeof msg, "%lld 2 org_9", (long long)n);
    const char *pub[3] = {"PUBLISH", channel, msg};
    assert_int_equal(bs_redis_command(r, 3, pub, NULL, &err), 0);
    for (int i = 0; i < 200 && !seen_has(&sb, 2, "org_9"); i++) nap_ms(10);
    assert_true(seen_has(&sb, 2, "org_9"));
    assert_int_equal(seen_drops(&sb), 2); /* the subscribe, then the gap */
    store_bus_stats st;
    store_bus_stats_get(b, &st);
    assert_int_equal(st.resyncs, 2);
    bs_redis_free(r);
    store_bus_free(b);
}

static void a_live_peer_that_never_acks_times_out_a_dead_one_is_not_waited_for(void **state)
{
    (void)state;
    if (!server()) skip();
    char ns[24], alive[64], exp[32];
    random_ns(ns);
    snprintf(alive, sizeof alive, "basalt:bus:%s:alive", ns);
    seen sa = {.lock = PTHREAD_MUTEX_INITIALIZER};
    store_bus *a = open_bus(server(), ns, 0, 200, &sa); /* publish only, waits 200 ms */
    bs_err err;
    bs_redis *r = bs_redis_new(server(), 1000, &err);
    snprintf(exp, sizeof exp, "%lld", (long long)(clock_now_ms() - 10000)); /* expired 10 s ago */
    const char *dead[4] = {"HSET", alive, "dead", exp};
    assert_int_equal(bs_redis_command(r, 4, dead, NULL, &err), 0);
    int64_t t0 = clock_mono_us();
    assert_int_equal(store_bus_publish(a, 1, "k1", &err), 0);
    assert_true(clock_mono_us() - t0 < 150 * 1000);
    snprintf(exp, sizeof exp, "%lld", (long long)(clock_now_ms() + 60000));
    const char *ghost[4] = {"HSET", alive, "ghost", exp}; /* alive, never acks */
    assert_int_equal(bs_redis_command(r, 4, ghost, NULL, &err), 0);
    t0 = clock_mono_us();
    assert_int_equal(store_bus_publish(a, 1, "k2", &err), 1);
    int64_t took = clock_mono_us() - t0;
    assert_true(took >= 200 * 1000 && took < 900 * 1000);
    store_bus_stats st;
    store_bus_stats_get(a, &st);
    assert_int_equal(st.wait_timeouts, 1);
    assert_int_equal(st.published, 2);
    const char *del[2] = {"DEL", alive};
    assert_int_equal(bs_redis_command(r, 2, del, NULL, &err), 0);
    bs_redis_free(r);
    store_bus_free(a);
}

static void a_peer_that_cannot_apply_fails_the_publish(void **state)
{
    (void)state;
    if (!server()) skip();
    char ns[24];
    random_ns(ns);
    seen sa = {.lock = PTHREAD_MUTEX_INITIALIZER}, sb = {.lock = PTHREAD_MUTEX_INITIALIZER};
    store_bus *a = open_bus(server(), ns, 1, 1000, &sa), *b = open_bus(server(), ns, 1, 1000, &sb);
    until_subscribed(a);
    until_subscribed(b);
    bs_err err;
    int64_t t0 = clock_mono_us();
    assert_int_equal(store_bus_publish(a, 6, "cannot", &err), 2); /* b could not: told at once, not after the wait */
    assert_true(clock_mono_us() - t0 < 900000);
    assert_true(seen_has(&sb, 6, "cannot"));
    assert_int_equal(store_bus_publish(a, 6, "can", &err), 0); /* the next one is b's to apply again */
    store_bus_free(b);
    store_bus_free(a);
}

static void free_leaves_the_fleet(void **state)
{
    (void)state;
    if (!server()) skip();
    char ns[24], alive[64];
    random_ns(ns);
    snprintf(alive, sizeof alive, "basalt:bus:%s:alive", ns);
    seen sb = {.lock = PTHREAD_MUTEX_INITIALIZER};
    store_bus *b = open_bus(server(), ns, 1, 1000, &sb);
    until_subscribed(b);
    bs_err err;
    bs_redis *r = bs_redis_new(server(), 1000, &err);
    const char *hlen[2] = {"HLEN", alive};
    int64_t n = 0;
    assert_int_equal(bs_redis_command(r, 2, hlen, &n, &err), 0);
    assert_int_equal(n, 1);
    store_bus_free(b);
    assert_int_equal(bs_redis_command(r, 2, hlen, &n, &err), 0);
    assert_int_equal(n, 0);
    bs_redis_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(message_format_round_trips),
        cmocka_unit_test(only_the_next_number_is_in_order),
        cmocka_unit_test(alone_it_only_applies_locally),
        cmocka_unit_test(unreachable_redis_fails_the_publish_only),
        cmocka_unit_test(a_message_is_applied_everywhere_before_publish_returns),
        cmocka_unit_test(a_gap_drops_everything),
        cmocka_unit_test(a_live_peer_that_never_acks_times_out_a_dead_one_is_not_waited_for),
        cmocka_unit_test(a_peer_that_cannot_apply_fails_the_publish),
        cmocka_unit_test(free_leaves_the_fleet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
