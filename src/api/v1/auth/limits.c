#include "api/v1/auth/limits.h"

#include "store/counters.h"
#include "util/clock.h"
#include "util/log.h"

#define LIMITS_WHAT "sign-in and mail limits"

static store_limit per_email(const api_ctx *ctx)
{
    return (store_limit){ctx->app->signin_max_failures, ctx->app->signin_window_ms, ctx->app->signin_block_ms};
}

/* One decision in Redis: 0 decided, 1 Redis failed but the fleet fails open (decide with the store), -1
 * refused (err: 503). */
static int shared_limit(api_ctx *ctx, store_limit_op op, int nkeys, const char *const *keys, const int64_t *maxes,
                        const store_limit *l, int64_t now, int *status, int64_t *until, bs_err *err)
{
    bs_err cause;
    bs_err_clear(&cause);
    if (store_counters_limit(ctx->app->counters, op, ctx->key.environment_id, nkeys, keys, maxes, l->window_ms, l->block_ms, now,
                             status, until, &cause) == 0) {
        quota_shared_answered(ctx->app->quota);
        return 0;
    }
    if (!ctx->app->quota) return bs_err_set(err, 503, "common/unavailable", "Limits could not be checked; try again");
    return quota_shared_failed(ctx->app->quota, now, LIMITS_WHAT, &cause, err) ? 1 : -1;
}

/* The store's check: the later block of the two keys. */
static int store_blocked(api_ctx *ctx, const char *a, const char *b, int64_t now, int64_t *until, bs_err *err)
{
    int64_t x = 0, y = 0;
    if (store_limits_blocked(ctx->app->docs, ctx->key.environment_id, a, now, &x, err) < 0 ||
        (b && store_limits_blocked(ctx->app->docs, ctx->key.environment_id, b, now, &y, err) < 0))
        return -1;
    *until = x > y ? x : y;
    return 0;
}

int auth_limits_signin_admit(api_ctx *ctx, const char *by_email, const char *by_ip, auth_limits_ticket *t,
                             int64_t *blocked_until, bs_err *err)
{
    int64_t now = clock_now_ms();
    store_limit l = per_email(ctx);
    *blocked_until = 0;
    t->shared = 0;
    if (ctx->app->counters) {
        const char *keys[2] = {by_email, by_ip};
        const int64_t maxes[2] = {l.max, (int64_t)l.max * 10};
        int status = 0, rc = shared_limit(ctx, STORE_LIMIT_TAKE, 2, keys, maxes, &l, now, &status, blocked_until, err);
        if (rc < 0) return -1;
        if (rc == 0) {
            t->shared = status != STORE_LIMIT_BLOCKED; /* a unit was taken: settled in Redis */
            if (status != STORE_LIMIT_BLOCKED) *blocked_until = 0; /* this attempt is still evaluated */
            return 0;
        }
    }
    return store_blocked(ctx, by_email, by_ip, now, blocked_until, err);
}

void auth_limits_signin_failed(api_ctx *ctx, const char *by_email, const char *by_ip, const auth_limits_ticket *t)
{
    if (t->shared) return; /* counted when admitted */
    bs_err err;
    int64_t now = clock_now_ms(), until = 0;
    store_limit l = per_email(ctx), per_ip = l;
    per_ip.max *= 10;
    store_limits_fail(ctx->app->docs, ctx->key.environment_id, by_email, &l, now, &until, &err);
    store_limits_fail(ctx->app->docs, ctx->key.environment_id, by_ip, &per_ip, now, &until, &err);
}

/* Gives the attempt's units back in Redis (CLEAR also forgets the e-mail's count); a failure is logged:
 * the worst it does is count one attempt too many. */
static void shared_settle(api_ctx *ctx, store_limit_op op, const char *by_email, const char *by_ip)
{
    const char *keys[2] = {by_email, by_ip};
    store_limit l = per_email(ctx);
    const int64_t maxes[2] = {l.max, (int64_t)l.max * 10};
    int status = 0;
    int64_t until = 0;
    bs_err err;
    bs_err_clear(&err);
    if (store_counters_limit(ctx->app->counters, op, ctx->key.environment_id, 2, keys, maxes, l.window_ms, l.block_ms, clock_now_ms(),
                             &status, &until, &err) < 0)
        log_warn("sign-in limit not settled in Redis: %s", err.message);
}

void auth_limits_signin_succeeded(api_ctx *ctx, const char *by_email, const char *by_ip, const auth_limits_ticket *t)
{
    bs_err err;
    if (t->shared) shared_settle(ctx, STORE_LIMIT_CLEAR, by_email, by_ip);
    else store_limits_clear(ctx->app->docs, ctx->key.environment_id, by_email, &err);
}

void auth_limits_signin_undecided(api_ctx *ctx, const char *by_email, const char *by_ip, const auth_limits_ticket *t)
{
    if (t->shared) shared_settle(ctx, STORE_LIMIT_REFUND, by_email, by_ip);
}

int auth_limits_mail_take(api_ctx *ctx, const char *key, const store_limit *limit, int64_t *blocked_until, bs_err *err)
{
    int64_t now = clock_now_ms();
    *blocked_until = 0;
    if (ctx->app->counters) {
        const char *keys[1] = {key};
        const int64_t maxes[1] = {limit->max};
        int status = 0, rc = shared_limit(ctx, STORE_LIMIT_TAKE, 1, keys, maxes, limit, now, &status, blocked_until, err);
        if (rc < 0) return -1;
        if (rc == 0) {
            if (status == STORE_LIMIT_TAKEN) *blocked_until = 0;
            return 0;
        }
    }
    if (store_blocked(ctx, key, NULL, now, blocked_until, err) < 0) return -1;
    if (*blocked_until) return 0;
    return store_limits_fail(ctx->app->docs, ctx->key.environment_id, key, limit, now, blocked_until, err);
}
