/* env_locator: where an environment's data lives, from its placement in the control store (platform.md
 * §5.1, docs/platform.md "Placement"), as the docs store asks on an environment's first use
 * (store_docs_set_locator):
 *   - a slot on a shared cluster → the cluster's file clusters/<cluster>.db, its objects named with the
 *     slot's prefix s<slot>_ ("s3_d_posts", "s3__auth_users");
 *   - a dedicated cluster, or no placement (yet) → the environment's own file envs/<env_id>.db.
 *   - either on a registered cluster that names a database server (clusters as data) → the same, with
 *     the server's URL in out->url (PostgreSQL: a schema or a database on that server).
 * (A file envs/<env_id>.db from before placement is kept by the docs store whatever this answers.)
 * It joins two stores and nothing else (no HTTP): placement read from the control store, answered in the
 * docs store's terms. Ownership: nothing is kept; out is caller memory. Thread-safe (the control store
 * is). */
#ifndef BASALT_STORE_ENV_LOCATOR_H
#define BASALT_STORE_ENV_LOCATOR_H

#include "store/control.h"
#include "store/docs.h"

/* A store_env_locate_fn: arg is the store_control (borrowed; it must outlive the docs store's use). */
int env_locator_locate(void *control, const char *env_id, store_env_location *out, bs_err *err);
/* Where env_id lives at place (NULL: no placement), in the docs store's terms (as above). 0, or -1. */
int env_locator_of(const store_placement *place, const char *env_id, store_env_location *out, bs_err *err);

#endif
