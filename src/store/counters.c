#include "store/counters.h"

#include <stdio.h>
#include <stdlib.h>

#include "store/redis/redis.h"
#include "util/check.h"
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

/* KEYS: the limited keys (a hash each: c units in the window starting w, blocked until b); ARGV: op, now,
 * window, block, then one max per key. TAKE refuses ({2, b}) while any key is blocked; else takes one unit
 * of each (a new window once the last is over) and blocks a key whose count reaches its max ({1, b}).
 * REFUND gives a unit back to every key; CLEAR deletes the first key and refunds the others. A key
 * expires once neither its window nor its block matters. */
#define LIMIT_LUA \
    "local op, now, win, blk = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])\n" \
    "local function get(k)\n" \
    "  local h = redis.call('HMGET', k, 'c', 'w', 'b')\n" \
    "  return tonumber(h[1]) or 0, tonumber(h[2]) or 0, tonumber(h[3]) or 0\n" \
    "end\n" \
    "local function put(k, c, w, b)\n" \
    "  redis.call('HSET', k, 'c', c, 'w', w, 'b', b)\n" \
    "  redis.call('PEXPIREAT', k, math.max(w + win, b) + 1000)\n" \
    "end\n" \
    "if op ~= 0 then\n" \
    "  for i, k in ipairs(KEYS) do\n" \
    "    if op == 2 and i == 1 then redis.call('DEL', k) else\n" \
    "      local c, w, b = get(k)\n" \
    "      if c > 0 then put(k, c - 1, w, b) end\n" \
    "    end\n" \
    "  end\n" \
    "  return {0, 0}\n" \
    "end\n" \
    "local upto = 0\n" \
    "for _, k in ipairs(KEYS) do\n" \
    "  local _, _, b = get(k)\n" \
    "  if b > now and b > upto then upto = b end\n" \
    "end\n" \
    "if upto > 0 then return {2, upto} end\n" \
    "local status = 0\n" \
    "for i, k in ipairs(KEYS) do\n" \
    "  local c, w, b = get(k)\n" \
    "  if w + win <= now then c, w = 0, now end\n" \
    "  c = c + 1\n" \
    "  if c >= tonumber(ARGV[4 + i]) then\n" \
    "    c, w, b, status = 0, now, now + blk, 1\n" \
    "    if b > upto then upto = b end\n" \
    "  end\n" \
    "  put(k, c, w, b)\n" \
    "end\n" \
    "return {status, upto}\n"

#define LIMIT_KEYS_MAX 2
#define LIMIT_KEY_MAX 512

struct store_counters {
    bs_redis *redis;
    bs_redis_script take_call;
    bs_redis_script limit;
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
    bs_redis_script_init(&c->limit, LIMIT_LUA);
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

int store_counters_limit(store_counters *c, store_limit_op op, const char *env_id, int nkeys, const char *const *keys,
                         const int64_t *maxes, int64_t window_ms, int64_t block_ms, int64_t now_ms, int *status,
                         int64_t *blocked_until, bs_err *err)
{
    BS_ASSERT(nkeys >= 1 && nkeys <= LIMIT_KEYS_MAX);
    char names[LIMIT_KEYS_MAX][LIMIT_KEY_MAX], num[4 + LIMIT_KEYS_MAX][24];
    const char *key_args[LIMIT_KEYS_MAX], *args[4 + LIMIT_KEYS_MAX];
    const int64_t head[4] = {op, now_ms, window_ms, block_ms};
    for (int i = 0; i < nkeys; i++) {
        snprintf(names[i], sizeof names[i], "basalt:limit:%s:%s", env_id, keys[i]);
        key_args[i] = names[i];
    }
    for (int i = 0; i < 4 + nkeys; i++) {
        snprintf(num[i], sizeof num[i], "%lld", (long long)(i < 4 ? head[i] : maxes[i - 4]));
        args[i] = num[i];
    }
    int64_t got[2];
    int n = 0;
    if (bs_redis_eval_ints(c->redis, &c->limit, nkeys, key_args, 4 + nkeys, args, got, 2, &n, err) < 0) return -1;
    if (n != 2) return bs_err_set(err, 503, "common/unavailable", "Redis: unexpected answer to the limit script");
    *status = (int)got[0];
    *blocked_until = got[1];
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
