/* control_pg_parts: how the PostgreSQL control driver is put together. Private to src/store/postgres.
 * control_pg.c opens the pool, migrates the schema (control_pg_schema.c) and fills the ops table from three
 * parts, each of which owns its operations:
 *   control_pg_core.c   tenancy and credentials: bootstrap, organizations, projects, environments, keys,
 *                       operator tokens, request-path lookups;
 *   control_pg_plane.c  the management plane: updates, lists and deletions, inactivity, placement and
 *                       clusters, the activity log, the outbox, OAuth providers and settings;
 *   control_pg_team.c   members, operator-token listing, invitations, usage rows and roll-ups, alerts and
 *                       webhook deliveries;
 *   control_pg_console.c the web console's sessions and one-time sign-in links.
 * Every operation receives the driver handle (pgc) as `void *driver`. */
#ifndef BASALT_STORE_POSTGRES_CONTROL_PG_PARTS_H
#define BASALT_STORE_POSTGRES_CONTROL_PG_PARTS_H

#include <stddef.h>

#include "store/control_driver.h"
#include "store/postgres/pg.h"

typedef struct pgc {
    pg_pool *pool;
} pgc;

/* Each part sets the ops it implements. */
void pgc_fill_core(store_control_ops *ops);
void pgc_fill_plane(store_control_ops *ops);
void pgc_fill_team(store_control_ops *ops);
void pgc_fill_console(store_control_ops *ops);
/* The schema (control_pg_schema.c): each version's statements. */
extern const char *const pgc_schema_v1[];
extern const size_t pgc_schema_v1_count;
extern const char *const pgc_schema_v2[];
extern const size_t pgc_schema_v2_count;
extern const char *const pgc_schema_v3[];
extern const size_t pgc_schema_v3_count;
extern const char *const pgc_schema_v4[];
extern const size_t pgc_schema_v4_count;
extern const char *const pgc_schema_v5[];
extern const size_t pgc_schema_v5_count;
/* A driver handle on url, the schema migrated, whether or not every op is filled (the tests of one part use
 * it; store_control_open goes through the ops table's open, which refuses an incomplete table). */
void *pgc_driver_open(const char *url, bs_err *err);
void pgc_driver_free(void *driver);
/* The unique constraints and their client messages (control_pg_schema.c). */
extern const pg_conflict pgc_conflicts[];
extern const size_t pgc_conflicts_count;

#endif
