#include "util/ticker.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "util/check.h"

struct ticker {
    int64_t interval_ms;
    ticker_fn tick;
    void *arg;
    pthread_mutex_t lock;
    pthread_cond_t cond;     /* on CLOCK_MONOTONIC */
    int woken, stopping;
    pthread_t thread;
};

/* The monotonic time interval_ms from now. */
static struct timespec deadline(int64_t interval_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(interval_ms / 1000);
    ts.tv_nsec += (long)(interval_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static void *ticker_main(void *arg)
{
    ticker *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        struct timespec until = deadline(t->interval_ms);
        while (!t->stopping && !t->woken && pthread_cond_timedwait(&t->cond, &t->lock, &until) == 0) {
        }
        if (t->stopping) break;
        t->woken = 0;
        pthread_mutex_unlock(&t->lock);
        t->tick(t->arg);
        pthread_mutex_lock(&t->lock);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

ticker *ticker_new(int64_t interval_ms, int first_now, ticker_fn tick, void *arg)
{
    if (interval_ms <= 0 || !tick) return NULL;
    ticker *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->interval_ms = interval_ms;
    t->tick = tick;
    t->arg = arg;
    t->woken = first_now != 0;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&t->thread, NULL, ticker_main, t) == 0) return t;
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
    free(t);
    return NULL;
}

void ticker_wake(ticker *t)
{
    BS_ASSERT(t);
    pthread_mutex_lock(&t->lock);
    t->woken = 1;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
}

void ticker_free(ticker *t)
{
    if (!t) return;
    pthread_mutex_lock(&t->lock);
    t->stopping = 1;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
    free(t);
}
