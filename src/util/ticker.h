/* ticker: one background thread that runs a function every interval, and at once when woken: the
 * housekeeping loops of the server (slow-client sweeps, metering flushes, usage alerts, the environment
 * sweeper) share it instead of each keeping its own thread, stop flag and timed wait.
 * Ownership: ticker_new starts the thread; ticker_free stops it (waiting for a tick in progress) and frees
 * it. tick runs on the ticker's thread only, never twice at once, and never after ticker_free returns.
 * ticker_wake may be called from any thread. */
#ifndef BASALT_UTIL_TICKER_H
#define BASALT_UTIL_TICKER_H

#include <stdint.h>

typedef struct ticker ticker;
typedef void (*ticker_fn)(void *arg);

/* Calls tick(arg) every interval_ms (monotonic; the first call after one interval, or at once with
 * first_now), and at once after ticker_wake. NULL when the thread cannot start or interval_ms <= 0. */
ticker *ticker_new(int64_t interval_ms, int first_now, ticker_fn tick, void *arg);
/* Asks for a tick now (a wake during a tick runs one more right after it). */
void ticker_wake(ticker *t);
/* Stops the thread after the tick in progress, if any; NULL is ignored. */
void ticker_free(ticker *t);

#endif
