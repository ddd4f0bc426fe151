/* The store/bus.h interface on Redis pub/sub (see bus.h for the keys, the subscriber and the wait). */
#include "store/bus.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/redis/redis.h"
#include "util/check.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/log.h"

#define BUS_READ_POLL_MS 100      /* the subscriber looks at its stop flag this often */
#define BUS_BACKOFF_MIN_MS 50
#define BUS_BACKOFF_MAX_MS 2000
#define BUS_KEY_MAX (STORE_BUS_NS_MAX + 32)

/* KEYS: seq, channel; ARGV: "<kind> <id>". Numbers and publishes in one step, so numbers arrive in order. */
#define PUBLISH_LUA                                      \
    "local s = redis.call('INCR', KEYS[1])\n"            \
    "redis.call('PUBLISH', KEYS[2], s .. ' ' .. ARGV[1])\n" \
    "return {s}\n"
/* KEYS: seq. The last number (0 when none). */
#define SEQ_LUA "return {tonumber(redis.call('GET', KEYS[1]) or '0')}\n"
/* KEYS: alive, acks; ARGV: instance, alive ms, ack (-1: unchanged). Also forgets expired instances. */
#define BEAT_LUA                                                                           \
    "local t = redis.call('TIME')\n"                                                       \
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"              \
    "redis.call('HSET', KEYS[1], ARGV[1], now + tonumber(ARGV[2]))\n"                      \
    "if tonumber(ARGV[3]) >= 0 then redis.call('HSET', KEYS[2], ARGV[1], ARGV[3]) end\n"   \
    "local all = redis.call('HGETALL', KEYS[1])\n"                                         \
    "for i = 1, #all, 2 do\n"                                                              \
    "  if tonumber(all[i + 1]) < now then\n"                                               \
    "    redis.call('HDEL', KEYS[1], all[i]) redis.call('HDEL', KEYS[2], all[i], all[i] .. ':fail')\n" \
    "  end\n"                                                                              \
    "end\n"                                                                                \
    "return {now}\n"
/* KEYS: alive, acks; ARGV: seq, this instance. {live peers behind seq, live peers, live peers that could not
 * apply it}. A peer's "<instance>:fail" field in acks is the last number it could not apply. */
#define WAIT_LUA                                                                           \
    "local t = redis.call('TIME')\n"                                                       \
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"              \
    "local all = redis.call('HGETALL', KEYS[1])\n"                                         \
    "local behind, live, failed = 0, 0, 0\n"                                               \
    "for i = 1, #all, 2 do\n"                                                              \
    "  if all[i] ~= ARGV[2] and tonumber(all[i + 1]) >= now then\n"                        \
    "    live = live + 1\n"                                                                \
    "    local a = tonumber(redis.call('HGET', KEYS[2], all[i]) or '0')\n"                 \
    "    local f = tonumber(redis.call('HGET', KEYS[2], all[i] .. ':fail') or '0')\n"      \
    "    if a < tonumber(ARGV[1]) then behind = behind + 1 end\n"                          \
    "    if f >= tonumber(ARGV[1]) then failed = failed + 1 end\n"                         \
    "  end\n"                                                                              \
    "end\n"                                                                                \
    "return {behind, live, failed}\n"

struct store_bus {
    bs_redis *redis;                 /* commands: publish, acks, heartbeats, waits */
    char channel[BUS_KEY_MAX], seq_key[BUS_KEY_MAX], alive_key[BUS_KEY_MAX], acks_key[BUS_KEY_MAX];
    char instance[33];               /* random hex, new at every start */
    int wait_ms;
    store_bus_apply_fn apply;
    void *arg;
    bs_redis_script publish_s, seq_s, beat_s, wait_s;
    int listening;
    pthread_t thread;
    pthread_mutex_t lock;            /* stop and its condition */
    pthread_cond_t cond;
    int stop;
    _Atomic int subscribed;
    _Atomic int64_t published, publish_failures, wait_timeouts, received, resyncs;
};

/* ---- the message format ---- */

static int id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n >= STORE_BUS_ID_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if (id[i] <= ' ' || id[i] == 0x7f) return 0;
    return 1;
}

int store_bus_msg_format(char *out, size_t cap, int64_t seq, int kind, const char *id)
{
    if (seq < 0 || kind < 1 || kind > STORE_BUS_KIND_MAX || !id_ok(id)) return -1;
    int n = snprintf(out, cap, "%" PRId64 " %d %s", seq, kind, id);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int store_bus_msg_parse(const char *msg, size_t len, int64_t *seq, int *kind, char id[STORE_BUS_ID_MAX])
{
    char text[STORE_BUS_MSG_MAX];
    if (len == 0 || len >= sizeof text || memchr(msg, '\0', len)) return -1;
    memcpy(text, msg, len);
    text[len] = '\0';
    char *end = NULL;
    errno = 0;
    long long s = strtoll(text, &end, 10);
    if (errno || end == text || *end != ' ' || s < 1) return -1;
    char *k = end + 1;
    long kv = strtol(k, &end, 10);
    if (end == k || *end != ' ' || kv < 1 || kv > STORE_BUS_KIND_MAX || !id_ok(end + 1)) return -1;
    *seq = s;
    *kind = (int)kv;
    snprintf(id, STORE_BUS_ID_MAX, "%s", end + 1);
    return 0;
}

int store_bus_seq_resync(int64_t last, int64_t seq)
{
    return seq != last + 1;
}

/* ---- commands on the pool ---- */

static int run_script(store_bus *b, bs_redis_script *s, const char *const *args, int nargs, int64_t *out, int cap, bs_err *err)
{
    const char *keys[2];
    int nkeys = 2, n = 0;
    if (s == &b->publish_s) keys[0] = b->seq_key, keys[1] = b->channel;
    else if (s == &b->seq_s) keys[0] = b->seq_key, nkeys = 1;
    else keys[0] = b->alive_key, keys[1] = b->acks_key;
    if (bs_redis_eval_ints(b->redis, s, nkeys, keys, nargs, args, out, cap, &n, err) < 0) return -1;
    return n == cap ? 0 : bs_err_set(err, 503, "common/unavailable", "Redis %s: unexpected reply", bs_redis_describe(b->redis));
}

/* Refreshes this instance's presence, with its ack when ack >= 0. */
static int beat(store_bus *b, int64_t ack, bs_err *err)
{
    char alive[16], acked[24];
    snprintf(alive, sizeof alive, "%d", STORE_BUS_ALIVE_MS);
    snprintf(acked, sizeof acked, "%" PRId64, ack);
    const char *args[3] = {b->instance, alive, acked};
    int64_t now;
    return run_script(b, &b->beat_s, args, 3, &now, 1, err);
}

/* Records that this instance applied message seq (failed: that it could not apply it, then that it is
 * done with it, so the publisher sees the failure first). */
static int ack(store_bus *b, int64_t seq, int failed, bs_err *err)
{
    char v[24], fail_field[48];
    snprintf(v, sizeof v, "%" PRId64, seq);
    snprintf(fail_field, sizeof fail_field, "%s:fail", b->instance);
    const char *nack[4] = {"HSET", b->acks_key, fail_field, v}, *argv[4] = {"HSET", b->acks_key, b->instance, v};
    if (failed && bs_redis_command(b->redis, 4, nack, NULL, err) < 0) return -1;
    return bs_redis_command(b->redis, 4, argv, NULL, err);
}

/* Leaves the fleet's view (best effort: at shutdown). */
static void leave(store_bus *b)
{
    bs_err ignored;
    char fail_field[48];
    snprintf(fail_field, sizeof fail_field, "%s:fail", b->instance);
    const char *a[3] = {"HDEL", b->alive_key, b->instance}, *k[4] = {"HDEL", b->acks_key, b->instance, fail_field};
    bs_redis_command(b->redis, 3, a, NULL, &ignored);
    bs_redis_command(b->redis, 4, k, NULL, &ignored);
}

/* ---- the subscriber ---- */

/* Sleeps ms unless stopped first: 1 when stopped. */
static int nap(store_bus *b, int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&b->lock);
    while (!b->stop && pthread_cond_timedwait(&b->cond, &b->lock, &until) == 0) {}
    int stop = b->stop;
    pthread_mutex_unlock(&b->lock);
    return stop;
}

static int stopping(store_bus *b)
{
    pthread_mutex_lock(&b->lock);
    int stop = b->stop;
    pthread_mutex_unlock(&b->lock);
    return stop;
}

/* SUBSCRIBE on c, then drop every cache and take the current number as the last applied: 0, or -1. */
static int subscribe(store_bus *b, redisContext *c, int64_t *last, bs_err *err)
{
    redisReply *rep = redisCommand(c, "SUBSCRIBE %s", b->channel);
    int ok = rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 3;
    if (rep) freeReplyObject(rep);
    if (!ok) return bs_err_set(err, 503, "common/unavailable", "Redis %s: SUBSCRIBE failed", bs_redis_describe(b->redis));
    int64_t seq = 0;
    if (run_script(b, &b->seq_s, NULL, 0, &seq, 1, err) < 0) return -1;
    b->apply(b->arg, 0, ""); /* after SUBSCRIBE: whatever was published while away is gone from every cache */
    atomic_fetch_add(&b->resyncs, 1);
    *last = seq;
    if (beat(b, seq, err) < 0) return -1;
    atomic_store(&b->subscribed, 1);
    return 0;
}

/* One pub/sub reply: a message is applied (after a drop of everything on a gap) and acked. */
static int on_reply(store_bus *b, redisReply *rep, int64_t *last, bs_err *err)
{
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 3 || rep->element[0]->type != REDIS_REPLY_STRING ||
        strcmp(rep->element[0]->str, "message") || rep->element[2]->type != REDIS_REPLY_STRING)
        return 0; /* not a message (a subscribe confirmation) */
    int64_t seq;
    int kind;
    char id[STORE_BUS_ID_MAX];
    if (store_bus_msg_parse(rep->element[2]->str, rep->element[2]->len, &seq, &kind, id) < 0) {
        log_warn("fleet bus: a malformed message on %s: dropping every cache", b->channel);
        b->apply(b->arg, 0, "");
        atomic_fetch_add(&b->resyncs, 1);
        return 0;
    }
    if (store_bus_seq_resync(*last, seq)) {
        b->apply(b->arg, 0, "");
        atomic_fetch_add(&b->resyncs, 1);
    }
    int failed = b->apply(b->arg, kind, id) < 0;
    atomic_fetch_add(&b->received, 1);
    *last = seq;
    return ack(b, seq, failed, err);
}

/* Reads and applies messages until the connection fails or the bus stops; heartbeats in between. */
static void listen_on(store_bus *b, redisContext *c, int64_t last)
{
    int64_t next_beat = clock_mono_us() / 1000 + STORE_BUS_BEAT_MS;
    bs_err err;
    bs_err_clear(&err);
    while (!stopping(b)) {
        void *reply = NULL;
        if (redisGetReplyFromReader(c, &reply) != REDIS_OK) break;
        if (reply) {
            int rc = on_reply(b, reply, &last, &err);
            freeReplyObject(reply);
            if (rc < 0) break;
            continue;
        }
        int64_t now = clock_mono_us() / 1000;
        if (now >= next_beat) {
            if (beat(b, -1, &err) < 0) break;
            next_beat = now + STORE_BUS_BEAT_MS;
        }
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        int ready = poll(&p, 1, BUS_READ_POLL_MS);
        if (ready < 0 && errno != EINTR) break;
        if (ready > 0 && redisBufferRead(c) != REDIS_OK) break;
    }
    if (!err.status && c->err) bs_err_set(&err, 503, "common/unavailable", "%s", c->errstr);
    if (!stopping(b)) log_warn("fleet bus: lost %s (%s); caches are dropped again on resubscribe", b->channel, err.message);
}

static void *subscriber(void *arg)
{
    store_bus *b = arg;
    int backoff = BUS_BACKOFF_MIN_MS, warned = 0;
    while (!stopping(b)) {
        char why[160];
        bs_err err;
        bs_err_clear(&err);
        int64_t last = 0;
        redisContext *c = bs_redis_connect_own(b->redis, why, sizeof why);
        if (c && subscribe(b, c, &last, &err) == 0) {
            backoff = BUS_BACKOFF_MIN_MS;
            warned = 0;
            log_info("fleet bus: subscribed to %s on %s", b->channel, bs_redis_describe(b->redis));
            listen_on(b, c, last);
        } else if (!warned++) {
            log_warn("fleet bus: cannot subscribe on %s (%s); retrying", bs_redis_describe(b->redis), c ? err.message : why);
        }
        atomic_store(&b->subscribed, 0);
        if (c) redisFree(c);
        if (nap(b, backoff)) break;
        backoff = backoff * 2 > BUS_BACKOFF_MAX_MS ? BUS_BACKOFF_MAX_MS : backoff * 2;
    }
    return NULL;
}

/* ---- open, free, publish ---- */

static int ns_ok(const char *ns)
{
    size_t n = strlen(ns);
    if (n == 0 || n >= STORE_BUS_NS_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((ns[i] >= 'a' && ns[i] <= 'z') || (ns[i] >= 'A' && ns[i] <= 'Z') || (ns[i] >= '0' && ns[i] <= '9') || ns[i] == '-' ||
              ns[i] == '_'))
            return 0;
    return 1;
}

static void names(store_bus *b, const char *ns)
{
    snprintf(b->channel, sizeof b->channel, "basalt:bus:%s", ns);
    snprintf(b->seq_key, sizeof b->seq_key, "basalt:bus:%s:seq", ns);
    snprintf(b->alive_key, sizeof b->alive_key, "basalt:bus:%s:alive", ns);
    snprintf(b->acks_key, sizeof b->acks_key, "basalt:bus:%s:acks", ns);
    uint8_t raw[16];
    crypto_random_bytes(raw, sizeof raw);
    crypto_hex(raw, sizeof raw, b->instance);
    bs_redis_script_init(&b->publish_s, PUBLISH_LUA);
    bs_redis_script_init(&b->seq_s, SEQ_LUA);
    bs_redis_script_init(&b->beat_s, BEAT_LUA);
    bs_redis_script_init(&b->wait_s, WAIT_LUA);
}

store_bus *store_bus_open(const store_bus_config *c, bs_err *err)
{
    if (!c->ns || !ns_ok(c->ns) || (c->listen && !c->apply)) {
        bs_err_set(err, 400, "config/invalid", "fleet bus: a namespace of [A-Za-z0-9_-] and an apply function are needed");
        return NULL;
    }
    store_bus *b = calloc(1, sizeof *b);
    if (!b) {
        bs_err_internal(err);
        return NULL;
    }
    if (!(b->redis = bs_redis_new(c->url, c->timeout_ms, err))) {
        free(b);
        return NULL;
    }
    names(b, c->ns);
    b->wait_ms = c->wait_ms > 0 ? c->wait_ms : STORE_BUS_WAIT_MS;
    b->apply = c->apply;
    b->arg = c->arg;
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->cond, NULL);
    if (c->listen && pthread_create(&b->thread, NULL, subscriber, b) != 0) {
        store_bus_free(b);
        bs_err_internal(err);
        return NULL;
    }
    b->listening = c->listen;
    return b;
}

void store_bus_free(store_bus *b)
{
    if (!b) return;
    if (b->listening) {
        pthread_mutex_lock(&b->lock);
        b->stop = 1;
        pthread_cond_broadcast(&b->cond);
        pthread_mutex_unlock(&b->lock);
        pthread_join(b->thread, NULL);
        leave(b);
    }
    pthread_cond_destroy(&b->cond);
    pthread_mutex_destroy(&b->lock);
    bs_redis_free(b->redis);
    free(b);
}

/* Polls until no live peer is behind seq, or wait_ms passed: 0, 1 (timed out), 2 (a peer could not apply
 * it), -1 (Redis failed). */
static int wait_acks(store_bus *b, int64_t seq, bs_err *err)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRId64, seq);
    const char *args[2] = {s, b->instance};
    int64_t deadline = clock_mono_us() + (int64_t)b->wait_ms * 1000, out[3];
    for (;;) {
        if (run_script(b, &b->wait_s, args, 2, out, 3, err) < 0) return -1;
        if (out[2] > 0) return 2;
        if (out[0] == 0) return 0;
        if (clock_mono_us() >= deadline) return 1;
        struct timespec ts = {0, STORE_BUS_POLL_US * 1000L};
        nanosleep(&ts, NULL);
    }
}

int store_bus_publish(store_bus *b, int kind, const char *id, bs_err *err)
{
    char body[STORE_BUS_MSG_MAX];
    BS_ASSERT(kind >= 1 && kind <= STORE_BUS_KIND_MAX);
    if (store_bus_msg_format(body, sizeof body, 1, kind, id) < 0) return bs_err_set(err, 400, "common/invalid-parameters", "fleet bus: a bad id");
    const char *args[1] = {strchr(body, ' ') + 1}; /* "<kind> <id>": the script puts the number first */
    int64_t seq = 0;
    if (run_script(b, &b->publish_s, args, 1, &seq, 1, err) < 0) {
        atomic_fetch_add(&b->publish_failures, 1);
        return -1;
    }
    atomic_fetch_add(&b->published, 1);
    int rc = wait_acks(b, seq, err);
    if (rc != 0) atomic_fetch_add(&b->wait_timeouts, 1); /* published; some peer may not have applied it (yet) */
    return rc == 0 ? 0 : rc == 2 ? 2 : 1;
}

void store_bus_stats_get(store_bus *b, store_bus_stats *out)
{
    out->published = atomic_load(&b->published);
    out->publish_failures = atomic_load(&b->publish_failures);
    out->wait_timeouts = atomic_load(&b->wait_timeouts);
    out->received = atomic_load(&b->received);
    out->resyncs = atomic_load(&b->resyncs);
    out->subscribed = atomic_load(&b->subscribed);
}

const char *store_bus_describe(const store_bus *b)
{
    return bs_redis_describe(b->redis);
}
