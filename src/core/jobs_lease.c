#include "core/jobs_lease.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/check.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/log.h"
#include "util/ticker.h"

struct jobs_lease {
    store_control *control;
    int64_t ttl_ms;
    char holder[STORE_LEASE_HOLDER_MAX];   /* "<host>:<pid>:<random>", unique per process start */
    _Atomic int64_t valid_until_ms;         /* monotonic ms; held while now < this */
    _Atomic int64_t fence;                  /* of the current holding, 0 none */
    _Atomic uint64_t takeovers;             /* holdings begun (each with a new fence) */
    ticker *renewer;
};

static int64_t mono_ms(void) { return clock_mono_us() / 1000; }

/* One take or renewal; what this instance may believe afterwards. Runs on the renewer's thread (and once
 * in jobs_lease_new, before that thread exists). */
static void renew(jobs_lease *l)
{
    int64_t started = mono_ms(), fence = 0;
    int held = 0;
    bs_err err;
    bs_err_clear(&err);
    if (store_control_lease_take(l->control, JOBS_LEASE_NAME, l->holder, l->ttl_ms, &fence, &held, &err) < 0) {
        log_warn("jobs lease: not renewed (%s); this instance stops running the fleet's jobs when it runs out", err.message);
        return; /* what was believed stays believed until valid_until_ms */
    }
    int64_t before = atomic_load(&l->fence);
    if (!held) {
        atomic_store(&l->valid_until_ms, 0);
        atomic_store(&l->fence, 0);
        if (before) log_info("jobs lease: held by another instance now");
        return;
    }
    BS_ASSERT(fence > 0);
    if (fence != before) {
        atomic_fetch_add(&l->takeovers, 1);
        log_info("jobs lease: this instance (%s) runs the fleet's background jobs (fence %lld)", l->holder, (long long)fence);
    }
    atomic_store(&l->fence, fence);
    atomic_store(&l->valid_until_ms, started + l->ttl_ms - l->ttl_ms / 10);
}

static void renew_tick(void *arg) { renew(arg); }

jobs_lease *jobs_lease_new(store_control *control, int64_t ttl_ms, bs_err *err)
{
    if (!control || ttl_ms < JOBS_LEASE_TTL_MIN_MS) {
        bs_err_set(err, 400, "config/invalid", "the jobs lease needs a control store and a TTL of at least %d ms", JOBS_LEASE_TTL_MIN_MS);
        return NULL;
    }
    jobs_lease *l = calloc(1, sizeof *l);
    char host[64] = "", nonce[17];
    if (!l || crypto_random_hex(nonce, 8) < 0) {
        free(l);
        bs_err_internal(err);
        return NULL;
    }
    if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "host");
    host[sizeof host - 1] = '\0';
    l->control = control;
    l->ttl_ms = ttl_ms;
    snprintf(l->holder, sizeof l->holder, "%s:%ld:%s", host, (long)getpid(), nonce);
    renew(l);
    if (!(l->renewer = ticker_new(ttl_ms / 3, 0, renew_tick, l))) {
        free(l);
        bs_err_internal(err);
        return NULL;
    }
    return l;
}

int jobs_lease_held(jobs_lease *l, int64_t *fence)
{
    if (!l) {
        if (fence) *fence = 0;
        return 1;
    }
    int64_t f = atomic_load(&l->fence);
    int held = f > 0 && mono_ms() < atomic_load(&l->valid_until_ms);
    if (fence) *fence = held ? f : 0;
    return held;
}

void jobs_lease_free(jobs_lease *l)
{
    if (!l) return;
    ticker_free(l->renewer);
    bs_err err;
    bs_err_clear(&err);
    if (atomic_load(&l->fence) && store_control_lease_release(l->control, JOBS_LEASE_NAME, l->holder, &err) < 0)
        log_warn("jobs lease: not released (%s); another instance takes it when it expires", err.message);
    free(l);
}

int jobs_lease_render_prometheus(jobs_lease *l, strbuf *out)
{
    if (!l) return 0;
    strbuf_appendf(out, "# HELP basalt_jobs_lease_held 1 while this instance holds the jobs lease (runs the fleet's background jobs)\n"
                        "# TYPE basalt_jobs_lease_held gauge\nbasalt_jobs_lease_held %d\n"
                        "# HELP basalt_jobs_lease_takeovers_total times this instance began holding the jobs lease\n"
                        "# TYPE basalt_jobs_lease_takeovers_total counter\nbasalt_jobs_lease_takeovers_total %llu\n",
                   jobs_lease_held(l, NULL), (unsigned long long)atomic_load(&l->takeovers));
    return out->overflow ? -1 : 0;
}
