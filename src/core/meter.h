/* meter: usage metering (platform.md §6, design.md §4, docs/usage.md). Counts, per environment (with its
 * project and organization), the eight metrics: api_call (with success/failure, response time and
 * per-endpoint counts), db_read, db_write, bandwidth, file_upload, file_download (read from core/filemeter),
 * storage (a gauge: file bytes + table data) and mau (distinct end users of the calendar month, exact).
 *
 * Hot path: every thread that counts owns a shard of monotonic counters (one row per environment, plus
 * endpoint cells) that only it writes, with relaxed atomic loads and stores: no lock, no read-modify-write
 * shared with another thread. The flusher thread reads every shard, subtracts what it saw last time, adds
 * the deltas to hourly rows of the control store (store_control_usage_add) at least once a second, reads
 * the storage gauge every storage interval, and runs the roll-up and retention job every roll-up interval
 * when it holds the fleet's jobs lease (core/jobs_lease.h; always in one process). Flushing runs on every
 * instance: each adds its own deltas with an atomic += upsert, so the rows sum every instance's counts. The
 * storage readings stay on every instance too, for the environments its own requests touched: a reading is
 * an absolute value (written as is, not added), so two instances writing one never double count; in a
 * fleet no instance repeats an old reading (another's requests may have changed it): the lease holder
 * measures every environment again once an hour instead.
 * meter_stop flushes what is left and rolls up once more: a graceful stop loses nothing, a crash loses
 * at most the last flush interval (one second) of counts.
 *
 * MAU takes a per-environment lock (sign-up, sign-in and refresh only, never the data path): the month's
 * set of users already seen lives in memory, so a user is handed to the store once a month per process,
 * and the store records it once a month (usage_mau), which keeps the count exact across restarts.
 *
 * Bounds: METER_ENVS environments are tracked (more: counted into the "other" environment, not written
 * to usage rows, only to /metrics); METER_CELLS (environment, route, method) endpoint cells per thread
 * (more: endpoints not itemized, totals still exact); METER_SHARDS threads have a shard of their own (more
 * share one shard updated with atomic adds); /metrics labels the METER_PROM_ENVS busiest environments
 * and sums the others as "other".
 * Ownership: meter_new/meter_free; the stores and the file meter are borrowed and must outlive it.
 * meter_env pointers stay valid until meter_free. Thread-safe. */
#ifndef BASALT_CORE_METER_H
#define BASALT_CORE_METER_H

#include <stddef.h>
#include <stdint.h>

#include "core/filemeter.h"
#include "core/jobs_lease.h"
#include "store/control.h"
#include "store/docs.h"
#include "util/err.h"
#include "util/strbuf.h"

#define METER_ENVS 16384
#define METER_ROUTES 512        /* route ids itemized; higher ones share the last */
#define METER_CELLS 32768       /* endpoint cells per thread (a power of two) */
#define METER_SHARDS 1024
#define METER_PROM_ENVS 100
#define METER_USER_ID_MAX 128

typedef struct meter meter;
typedef struct meter_env meter_env;

typedef struct meter_config {
    store_control *control;     /* where rows go; NULL: counted but never written (tests) */
    store_docs *docs;           /* the storage gauge's source; NULL: no gauge */
    filemeter *files;           /* file uploads/downloads and bytes served outside /v1; may be NULL */
    int64_t flush_ms;           /* between flushes (<= 1000 for the crash bound); 0 = 1000 */
    int64_t storage_ms;         /* between storage readings; 0 = 60 s */
    int64_t rollup_ms;          /* between roll-ups and retention runs; 0 = 60 s */
    jobs_lease *lease;          /* roll-ups run only while held; NULL: always (one process) */
} meter_config;

meter *meter_new(const meter_config *cfg, bs_err *err);
/* Runs a first roll-up (so the usage sums are current before the first request) and starts the flusher. */
int meter_start(meter *m, bs_err *err);
/* Stops the flusher after a last flush, storage reading and roll-up. Idempotent; call after the last
 * request completed. */
void meter_stop(meter *m);
void meter_free(meter *m);

/* The environment's counters, registered on first use (lock-free lookup afterwards). org_id and
 * project_id may be "" or NULL when unknown: the flusher looks them up. NULL only for a bad id. */
meter_env *meter_env_get(meter *m, const char *org_id, const char *project_id, const char *env_id, const char *env_name);

/* One /v1 exchange of e: route id and pattern, method, status (>= 400 a failure), time and body bytes. */
void meter_request(meter_env *e, int route_id, const char *route, const char *method, int status, int64_t micros,
                   uint64_t bytes);
/* Records read (returned by get/list) and written (created, updated, deleted). */
void meter_db(meter_env *e, uint64_t reads, uint64_t writes);
/* An end user of e signed up, signed in or refreshed a token at now_ms. */
void meter_mau(meter_env *e, const char *user_id, int64_t now_ms);

/* The flusher's steps, for tests (the thread calls them itself): merges the shards and writes the deltas
 * into hourly rows at now_ms (kept for the next flush when the write fails); reads the storage gauge of
 * every environment (active ones measured again, idle ones repeat their last reading once an hour). */
int meter_flush(meter *m, int64_t now_ms, bs_err *err);
int meter_storage(meter *m, int64_t now_ms, bs_err *err);

/* Prometheus text of the counters since start, by organization/project/environment (bounded). */
int meter_render_prometheus(meter *m, strbuf *out);

typedef struct meter_stats {
    size_t envs;                /* tracked environments */
    size_t shards;              /* threads that counted */
    size_t mau_users;           /* users in the months' seen sets */
    size_t env_bytes;           /* memory of the environments' rows (all shards, the flusher's copies) */
    size_t mau_bytes;           /* memory of the seen sets */
    uint64_t dropped_endpoints; /* counts not itemized by endpoint (cells full) */
} meter_stats;
void meter_stats_get(meter *m, meter_stats *out);

#endif
