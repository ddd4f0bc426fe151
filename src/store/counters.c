#include "store/counters.h"

#include <stdio.h>
#include <stdlib.h>

#include "store/redis/redis.h"
#include "util/clock.h"

/* KEYS[1] the month's counter, KEYS[2] the day's; ARGV: month limit, day limit (-1: not involved), month
 * seed, day seed (-1: unknown), month expiry, day expiry (Unix ms). Both counters are read (or seeded)
 * before either is taken, so an answer asking for a seed has changed nothing. */
#define TAKE_CALL_LUA \
    "local ml, dl = tonumber(ARGV[1]), tonumber(ARGV[2])\n" \
    "local m, d, missing = 0, 0, 0\n" \
    "local function load(key, seed, expiry, bit)\n" \
    "  local v = redis.call('GET', key)\n" \
    "  if v then return tonumber(v) end\n" \
    "  if tonumber(seed) >= 0 then redis.call('SET', key, seed, 'PXAT', expiry) return tonumber(seed) end\n" \
    "  missing = missing + bit\n" \
    "  return 0\n" \
    "end\n" \
    "if ml >= 0 then m = load(KEYS[1], ARGV[3], ARGV[5], 4) end\n" \
    "if dl >= 0 then d = load(KEYS[2], ARGV[4], ARGV[6], 8) end\n" \
    "if missing > 0 then return {missing, 0, 0} end\n" \
    "if ml >= 0 then\n" \
    "  if m >= ml then return {2, m, d} end\n" \
    "  m = redis.call('INCR', KEYS[1])\n" \
    "end\n" \
    "if dl >= 0 then\n" \
    "  if d >= dl then return {3, m, d} end\n" \
    "  d = redis.call('INCR', KEYS[2])\n" \
    "end\n" \
    "return {1, m, d}\n"

#define COUNTER_EXPIRY_MS (24LL * 3600 * 1000) /* kept a day past its window */

struct store_counters {
    bs_redis *redis;
    bs_redis_script take_call;
};

store_counters *store_counters_open(const char *url, int timeout_ms, bs_err *err)
{
    store_counters *c = calloc(1, sizeof *c);
    if (!c) {
        bs_err_internal(err);
        return NULL;
    }
    c->redis = bs_redis_new(url, timeout_ms, err);
    if (!c->redis) {
        free(c);
        return NULL;
    }
    bs_redis_script_init(&c->take_call, TAKE_CALL_LUA);
    return c;
}

void store_counters_free(store_counters *c)
{
    if (!c) return;
    bs_redis_free(c->redis);
    free(c);
}

int store_counters_take_call(store_counters *c, const store_counters_call *call, store_counters_result *out, bs_err *err)
{
    char month_key[128], day_key[128], num[6][24];
    snprintf(month_key, sizeof month_key, "basalt:calls:month:%s:%lld", call->org_id, (long long)call->month_start);
    snprintf(day_key, sizeof day_key, "basalt:calls:day:%s:%lld", call->project_id, (long long)call->day_start);
    const int64_t v[6] = {call->month_limit, call->day_limit, call->month_seed, call->day_seed,
                          call->month_end + COUNTER_EXPIRY_MS, call->day_end + COUNTER_EXPIRY_MS};
    const char *args[6];
    for (int i = 0; i < 6; i++) {
        snprintf(num[i], sizeof num[i], "%lld", (long long)v[i]);
        args[i] = num[i];
    }
    const char *keys[2] = {month_key, day_key};
    int64_t got[3];
    int n = 0;
    if (bs_redis_eval_ints(c->redis, &c->take_call, 2, keys, 6, args, got, 3, &n, err) < 0) return -1;
    if (n != 3) return bs_err_set(err, 503, "common/unavailable", "Redis: unexpected answer to the admission script");
    out->outcome = (int)got[0];
    out->month_used = got[1];
    out->day_used = got[2];
    return 0;
}

int store_counters_ping(store_counters *c, int64_t *rtt_us, bs_err *err)
{
    const char *ping[1] = {"PING"};
    int64_t start = clock_mono_us();
    if (bs_redis_command(c->redis, 1, ping, NULL, err) < 0) return -1;
    *rtt_us = clock_mono_us() - start;
    return 0;
}

const char *store_counters_describe(const store_counters *c)
{
    return bs_redis_describe(c->redis);
}

void store_counters_stats(store_counters *c, int64_t *errors, int64_t *connects)
{
    bs_redis_stats(c->redis, errors, connects);
}
