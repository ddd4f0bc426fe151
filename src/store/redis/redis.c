#include "store/redis/redis.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "util/clock.h"
#include "util/crypto.h"

#define REDIS_POOL_MAX 64        /* idle connections kept; more in flight are closed when given back */
#define REDIS_BACKOFF_MIN_MS 50
#define REDIS_BACKOFF_MAX_MS 2000

struct bs_redis {
    char host[256], user[128], password[256], where[300];
    int port, db, timeout_ms;
    pthread_mutex_t lock;        /* the pool and the backoff */
    redisContext *idle[REDIS_POOL_MAX];
    int nidle;
    int64_t retry_at_ms;         /* after a failed connect: commands fail at once until then */
    int backoff_ms;
    _Atomic int64_t errors, connects;
};

/* ---- the URL ---- */

/* "[[USER]:PASSWORD@]HOST[:PORT][/DB]" after "redis://" into r. */
static int parse_url(bs_redis *r, const char *url, bs_err *err)
{
    if (strncmp(url, "redis://", 8)) return bs_err_set(err, 400, "config/invalid", "--redis wants redis://[:PASSWORD@]HOST[:PORT][/DB]");
    const char *p = url + 8, *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        size_t ulen = colon ? (size_t)(colon - p) : 0;
        const char *pw = colon ? colon + 1 : p;
        if (ulen >= sizeof r->user || (size_t)(at - pw) >= sizeof r->password)
            return bs_err_set(err, 400, "config/invalid", "--redis: the user or password is too long");
        snprintf(r->user, sizeof r->user, "%.*s", (int)ulen, p);
        snprintf(r->password, sizeof r->password, "%.*s", (int)(at - pw), pw);
        p = at + 1;
    }
    const char *slash = strchr(p, '/'), *end = slash ? slash : p + strlen(p);
    const char *colon = memchr(p, ':', (size_t)(end - p));
    size_t hlen = (size_t)((colon ? colon : end) - p);
    if (hlen == 0 || hlen >= sizeof r->host) return bs_err_set(err, 400, "config/invalid", "--redis: no host");
    snprintf(r->host, sizeof r->host, "%.*s", (int)hlen, p);
    r->port = colon ? atoi(colon + 1) : 6379;
    r->db = slash && slash[1] ? atoi(slash + 1) : 0;
    if (r->port <= 0 || r->port > 65535 || r->db < 0) return bs_err_set(err, 400, "config/invalid", "--redis: bad port or database");
    snprintf(r->where, sizeof r->where, "%s:%d/%d", r->host, r->port, r->db);
    return 0;
}

bs_redis *bs_redis_new(const char *url, int timeout_ms, bs_err *err)
{
    bs_redis *r = calloc(1, sizeof *r);
    if (!r) {
        bs_err_internal(err);
        return NULL;
    }
    if (parse_url(r, url, err) < 0) {
        memset(r->password, 0, sizeof r->password);
        free(r);
        return NULL;
    }
    r->timeout_ms = timeout_ms > 0 ? timeout_ms : 50;
    r->backoff_ms = REDIS_BACKOFF_MIN_MS;
    pthread_mutex_init(&r->lock, NULL);
    return r;
}

void bs_redis_free(bs_redis *r)
{
    if (!r) return;
    for (int i = 0; i < r->nidle; i++) redisFree(r->idle[i]);
    pthread_mutex_destroy(&r->lock);
    memset(r->password, 0, sizeof r->password);
    free(r);
}

const char *bs_redis_describe(const bs_redis *r)
{
    return r->where;
}

void bs_redis_stats(bs_redis *r, int64_t *errors, int64_t *connects)
{
    *errors = atomic_load(&r->errors);
    *connects = atomic_load(&r->connects);
}

void bs_redis_script_init(bs_redis_script *s, const char *source)
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    s->source = source;
    EVP_Digest(source, strlen(source), md, &len, EVP_sha1(), NULL);
    crypto_hex(md, len > 20 ? 20 : len, s->sha);
}

/* ---- connections ---- */

static int fail(bs_redis *r, bs_err *err, const char *why)
{
    atomic_fetch_add(&r->errors, 1);
    return bs_err_set(err, 503, "common/unavailable", "Redis %s: %s", r->where, why);
}

/* Runs one command on c; NULL (c broken) when no reply came. */
static redisReply *run(redisContext *c, int argc, const char *const *argv)
{
    size_t lens[BS_REDIS_ARGS_MAX + 4];
    for (int i = 0; i < argc; i++) lens[i] = strlen(argv[i]);
    return redisCommandArgv(c, argc, (const char **)argv, lens);
}

/* AUTH and SELECT on a new connection: 0 when both (as needed) answered OK. */
static int handshake(bs_redis *r, redisContext *c, char *why, size_t cap)
{
    if (r->password[0]) {
        const char *auth[3] = {"AUTH", r->user[0] ? r->user : r->password, r->password};
        redisReply *rep = run(c, r->user[0] ? 3 : 2, auth);
        int ok = rep && rep->type == REDIS_REPLY_STATUS;
        snprintf(why, cap, "%s", ok ? "" : "authentication failed");
        if (rep) freeReplyObject(rep);
        if (!ok) return -1;
    }
    if (r->db) {
        char db[16];
        snprintf(db, sizeof db, "%d", r->db);
        const char *sel[2] = {"SELECT", db};
        redisReply *rep = run(c, 2, sel);
        int ok = rep && rep->type == REDIS_REPLY_STATUS;
        snprintf(why, cap, "%s", ok ? "" : "SELECT refused");
        if (rep) freeReplyObject(rep);
        if (!ok) return -1;
    }
    return 0;
}

/* A fresh connection with both timeouts set, or NULL (why filled). */
static redisContext *open_conn(bs_redis *r, char *why, size_t cap)
{
    struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout(r->host, r->port, tv);
    if (!c || c->err) {
        snprintf(why, cap, "cannot connect (%s)", c ? c->errstr : "out of memory");
        if (c) redisFree(c);
        return NULL;
    }
    if (redisSetTimeout(c, tv) != REDIS_OK || handshake(r, c, why, cap) < 0) {
        if (!why[0]) snprintf(why, cap, "cannot set the timeout");
        redisFree(c);
        return NULL;
    }
    atomic_fetch_add(&r->connects, 1);
    return c;
}

struct redisContext *bs_redis_connect_own(bs_redis *r, char *why, size_t cap)
{
    why[0] = '\0';
    redisContext *c = open_conn(r, why, cap);
    if (!c) atomic_fetch_add(&r->errors, 1);
    return c;
}

/* An idle connection (*pooled = 1), else a new one; NULL while backing off or when the connect fails. */
static redisContext *borrow(bs_redis *r, int *pooled, bs_err *err)
{
    char why[160] = "";
    pthread_mutex_lock(&r->lock);
    redisContext *c = r->nidle ? r->idle[--r->nidle] : NULL;
    int64_t now = clock_mono_us() / 1000, retry_at = r->retry_at_ms;
    pthread_mutex_unlock(&r->lock);
    *pooled = c != NULL;
    if (c) return c;
    if (now < retry_at) {
        fail(r, err, "unreachable, retrying shortly");
        return NULL;
    }
    c = open_conn(r, why, sizeof why);
    pthread_mutex_lock(&r->lock);
    if (c) r->backoff_ms = REDIS_BACKOFF_MIN_MS;
    else {
        r->retry_at_ms = clock_mono_us() / 1000 + r->backoff_ms;
        r->backoff_ms = r->backoff_ms * 2 > REDIS_BACKOFF_MAX_MS ? REDIS_BACKOFF_MAX_MS : r->backoff_ms * 2;
    }
    pthread_mutex_unlock(&r->lock);
    if (!c) fail(r, err, why);
    return c;
}

/* Back to the pool, or closed when it failed (broken: 1) or the pool is full. */
static void give_back(bs_redis *r, redisContext *c, int broken)
{
    if (!broken && !c->err) {
        pthread_mutex_lock(&r->lock);
        int kept = r->nidle < REDIS_POOL_MAX;
        if (kept) r->idle[r->nidle++] = c;
        pthread_mutex_unlock(&r->lock);
        if (kept) return;
    }
    redisFree(c);
}

/* Closes every idle connection: one of them found the server gone (a restart), so are the others. */
static void drop_idle(bs_redis *r)
{
    redisContext *gone[REDIS_POOL_MAX];
    pthread_mutex_lock(&r->lock);
    int n = r->nidle;
    memcpy(gone, r->idle, sizeof gone);
    r->nidle = 0;
    pthread_mutex_unlock(&r->lock);
    for (int i = 0; i < n; i++) redisFree(gone[i]);
}

/* ---- commands ---- */

typedef redisReply *(*redis_send_fn)(redisContext *c, void *arg);

/* send on a borrowed connection; when a pooled one got no reply (the server closed it: restarted, or
 * idle connections dropped), once more on a new connection. NULL (err filled, errors counted) or the reply;
 * the connection is given back either way. */
static redisReply *send_once_more(bs_redis *r, redis_send_fn send, void *arg, bs_err *err)
{
    int pooled = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        redisContext *c = borrow(r, &pooled, err);
        if (!c) return NULL;
        redisReply *rep = send(c, arg);
        if (rep) {
            give_back(r, c, 0);
            return rep;
        }
        char why[160];
        snprintf(why, sizeof why, "%s", c->errstr[0] ? c->errstr : "no answer");
        /* closed by the server, not timed out (a timed-out script may still run: never sent twice) */
        int closed = c->err == REDIS_ERR_EOF || (c->err == REDIS_ERR_IO && (errno == ECONNRESET || errno == EPIPE));
        give_back(r, c, 1);
        if (!pooled || !closed) {
            fail(r, err, why);
            return NULL;
        }
        drop_idle(r);
    }
    fail(r, err, "no answer");
    return NULL;
}

typedef struct command_args {
    int argc;
    const char *const *argv;
} command_args;

static redisReply *send_command(redisContext *c, void *arg)
{
    command_args *a = arg;
    return run(c, a->argc, a->argv);
}

int bs_redis_command(bs_redis *r, int argc, const char *const *argv, int64_t *out, bs_err *err)
{
    if (argc < 1 || argc > BS_REDIS_ARGS_MAX) return bs_err_internal(err);
    command_args a = {argc, argv};
    redisReply *rep = send_once_more(r, send_command, &a, err);
    if (!rep) return -1;
    int ok = rep->type == REDIS_REPLY_INTEGER || rep->type == REDIS_REPLY_STATUS;
    if (out) *out = rep->type == REDIS_REPLY_INTEGER ? (int64_t)rep->integer : 0;
    char why[160];
    snprintf(why, sizeof why, "%.150s", rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
    freeReplyObject(rep);
    return ok ? 0 : fail(r, err, why);
}

/* EVALSHA, then (NOSCRIPT) SCRIPT LOAD and EVALSHA again, on one connection: the reply or NULL. */
static redisReply *evalsha(redisContext *c, bs_redis_script *s, int nkeys, const char *const *keys, int nargs, const char *const *args)
{
    const char *argv[BS_REDIS_ARGS_MAX + 3];
    char num[16];
    snprintf(num, sizeof num, "%d", nkeys);
    argv[0] = "EVALSHA";
    argv[1] = s->sha;
    argv[2] = num;
    for (int i = 0; i < nkeys; i++) argv[3 + i] = keys[i];
    for (int i = 0; i < nargs; i++) argv[3 + nkeys + i] = args[i];
    redisReply *rep = run(c, 3 + nkeys + nargs, argv);
    if (!rep || rep->type != REDIS_REPLY_ERROR || strncmp(rep->str, "NOSCRIPT", 8)) return rep;
    freeReplyObject(rep);
    const char *load[3] = {"SCRIPT", "LOAD", s->source};
    rep = run(c, 3, load);
    int loaded = rep && rep->type == REDIS_REPLY_STRING;
    if (!loaded) return rep;
    freeReplyObject(rep);
    return run(c, 3 + nkeys + nargs, argv);
}

typedef struct eval_args {
    bs_redis_script *s;
    int nkeys, nargs;
    const char *const *keys, *const *args;
} eval_args;

static redisReply *send_eval(redisContext *c, void *arg)
{
    eval_args *a = arg;
    return evalsha(c, a->s, a->nkeys, a->keys, a->nargs, a->args);
}

int bs_redis_eval_ints(bs_redis *r, bs_redis_script *s, int nkeys, const char *const *keys, int nargs, const char *const *args,
                       int64_t *out, int cap, int *n, bs_err *err)
{
    *n = 0;
    if (nkeys < 0 || nargs < 0 || nkeys + nargs > BS_REDIS_ARGS_MAX) return bs_err_internal(err);
    eval_args a = {s, nkeys, nargs, keys, args};
    redisReply *rep = send_once_more(r, send_eval, &a, err);
    if (!rep) return -1;
    char why[160] = "";
    if (rep->type == REDIS_REPLY_ERROR) snprintf(why, sizeof why, "%.150s", rep->str);
    else if (rep->type != REDIS_REPLY_ARRAY) snprintf(why, sizeof why, "unexpected reply");
    for (size_t i = 0; !why[0] && i < rep->elements && (int)i < cap; i++) {
        if (rep->element[i]->type != REDIS_REPLY_INTEGER) snprintf(why, sizeof why, "unexpected reply");
        else out[(*n)++] = (int64_t)rep->element[i]->integer;
    }
    freeReplyObject(rep);
    return why[0] ? fail(r, err, why) : 0;
}
