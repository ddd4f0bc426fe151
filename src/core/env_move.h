/* env_move: moving an environment to another cluster inside the serving process (docs/operations.md
 * "Moving an environment"; operator endpoint POST /admin/v1/operator/environments/{envId}/move, CLI
 * `basalt env move`). A move checks the target (store_control_env_move_target) and pins it in the data
 * stores (store/docs_move.h) before env_moves_start returns, then runs on a thread of its own: copying
 * (writes go on), catching-up (writes answer 503 environment/moving; reads go on), the placement switch
 * in the control store and the route's switch at once, then the old copy is dropped. A failure at any step
 * leaves the environment where it was, unblocked, with the target's partial copy dropped. Keys, the
 * environment id and every URL stay as they were; query statistics are kept in memory by environment id
 * and so stay too. In a fleet the journal sees only this instance's writes: the other instances refuse
 * writes to the environment for the whole move instead (env_moves_set_bus).
 * Ownership: env_moves_new / env_moves_free (which waits for running moves). The registry keeps the last
 * ENV_MOVES_MAX moves. Thread-safe. */
#ifndef BASALT_CORE_ENV_MOVE_H
#define BASALT_CORE_ENV_MOVE_H

#include <stdint.h>

#include "store/control.h"
#include "store/docs.h"
#include "util/err.h"

#define ENV_MOVES_MAX 64
#define ENV_MOVE_ID_MAX 40
#define ENV_MOVE_BLOCK_WAIT_MS 10000 /* writes (then all calls) inside when writes block: waited for at most */

typedef struct env_moves env_moves;
struct fleet_bus;

typedef struct env_move_info {
    char id[ENV_MOVE_ID_MAX];          /* "mv_<hex>" */
    char env_id[STORE_ID_MAX];
    char from[STORE_ID_MAX], to[STORE_ID_MAX]; /* cluster ids */
    char state[16];                    /* copying | catching-up | done | failed */
    int64_t rows_done, rows_total;
    int64_t started_at, finished_at;   /* ms; finished 0 while running */
    int64_t blocked_ms;                /* how long writes were refused (catch-up and switch) */
    int64_t blocked_from, blocked_until; /* ms: when writes were refused, 0 when they were not (yet) */
    bs_err error;                      /* failed: why */
} env_move_info;

env_moves *env_moves_new(store_control *control, store_docs *docs);
/* In a fleet (bus joined): every move holds the environment on the other instances while it runs (writes
 * refused there, reads go on) and releases it at the end (core/fleet_bus.h FLEET_ENV_HOLD). bus is
 * borrowed and must outlive m. */
void env_moves_set_bus(env_moves *m, struct fleet_bus *bus);
void env_moves_free(env_moves *m);
/* Starts moving env_id to cluster_id: 0 with *out (state copying), or -1 with err (404 the environment or
 * cluster, 400 a cluster without a database server, 409 already there / moving / draining / full). */
int env_moves_start(env_moves *m, const char *env_id, const char *cluster_id, env_move_info *out, bs_err *err);
/* A move by id: *found = 0 when the registry has none (unknown, or pushed out by newer ones). */
void env_moves_get(env_moves *m, const char *id, env_move_info *out, int *found);

#endif
