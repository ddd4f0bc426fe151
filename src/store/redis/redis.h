/* redis: a small Redis client over hiredis (Debian's libhiredis) for what the instances of a fleet share
 * (store/counters.h). A bs_redis is one server (redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]) and a pool of
 * connections: a command borrows an idle connection (or opens one: connect timeout, AUTH, SELECT), runs
 * with the command timeout and gives it back; a connection that failed is closed, never reused. After a
 * failed connect, commands fail at once for a backoff (50 ms doubling to 2 s) instead of each waiting for
 * the connect timeout; the first connect that works ends it. Scripts run by EVALSHA, loaded with SCRIPT LOAD
 * when the server answers NOSCRIPT (a restarted or flushed server). The password is kept for AUTH only:
 * no message, log line or description carries it.
 * Ownership: bs_redis_new/bs_redis_free; scripts are the caller's (static). Thread-safe. */
#ifndef BASALT_STORE_REDIS_REDIS_H
#define BASALT_STORE_REDIS_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define BS_REDIS_ARGS_MAX 16

typedef struct bs_redis bs_redis;
struct redisContext;

/* A Lua script and its SHA-1 (filled by bs_redis_script_init). */
typedef struct bs_redis_script {
    const char *source;
    char sha[41];
} bs_redis_script;

/* Parses url; connects lazily (the first command). timeout_ms bounds a connect and each command. */
bs_redis *bs_redis_new(const char *url, int timeout_ms, bs_err *err);
void bs_redis_free(bs_redis *r);
void bs_redis_script_init(bs_redis_script *s, const char *source);
/* EVALSHA s with keys then args (nkeys + nargs <= BS_REDIS_ARGS_MAX); the reply must be an array of
 * integers: up to cap of them into out, *n their count. -1 when the server is unreachable, timed out or
 * answered an error (err: 503 common/unavailable, the reason without the password). */
int bs_redis_eval_ints(bs_redis *r, bs_redis_script *s, int nkeys, const char *const *keys, int nargs, const char *const *args,
                       int64_t *out, int cap, int *n, bs_err *err);
/* Any command; an integer reply in *out (0 for a status reply such as OK or PONG). -1 as above. */
int bs_redis_command(bs_redis *r, int argc, const char *const *argv, int64_t *out, bs_err *err);
/* The server as host:port/db, for /healthz and logs (no credentials). */
const char *bs_redis_describe(const bs_redis *r);
/* Failed commands and connects since start, and connections opened (reconnects included). */
void bs_redis_stats(bs_redis *r, int64_t *errors, int64_t *connects);
/* A connection of the caller's own, outside the pool (a subscriber: store/redis/bus.c), with the connect
 * and command timeouts, AUTH and SELECT done; NULL with why filled (no password in it). The caller frees it
 * with redisFree. */
struct redisContext *bs_redis_connect_own(bs_redis *r, char *why, size_t cap);

#endif
