/* control_pg: see control_pg.h and control_pg_parts.h. */
#include "store/postgres/control_pg.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/control_pg_parts.h"

static void *pgc_open(const char *target, bs_err *err);
static void pgc_free(void *driver);
static int pgc_ping(void *driver, bs_err *err);
static int pgc_version(void *driver, int *version, bs_err *err);
static int pgc_is_empty(void *driver, int *empty, bs_err *err);

/* The lifecycle ops are here from the start; the parts fill the rest once, on the first open. */
store_control_ops store_pg_control_ops = {.name = "postgres", .open = pgc_open, .free = pgc_free, .ping = pgc_ping,
                                          .version = pgc_version, .is_empty = pgc_is_empty};
static pthread_once_t pgc_ops_once = PTHREAD_ONCE_INIT;
static int pgc_ops_complete;

/* 1 when every op of the table is set (a part that is not written yet leaves NULLs). */
static int ops_complete(const store_control_ops *ops)
{
    const void *const *fn = (const void *const *)&ops->open;
    size_t n = (sizeof *ops - offsetof(store_control_ops, open)) / sizeof(void *);
    for (size_t i = 0; i < n; i++)
        if (!fn[i]) return 0;
    return 1;
}

static void fill_ops(void)
{
    pgc_fill_core(&store_pg_control_ops);
    pgc_fill_plane(&store_pg_control_ops);
    pgc_fill_team(&store_pg_control_ops);
    pgc_fill_console(&store_pg_control_ops);
    pgc_ops_complete = ops_complete(&store_pg_control_ops);
}

static int pgc_ping(void *driver, bs_err *err)
{
    PGresult *r = pg_exec1(((pgc *)driver)->pool, "ping", "SELECT 1", 0, NULL, err);
    PQclear(r);
    return r ? 0 : -1;
}

static int pgc_version(void *driver, int *version, bs_err *err)
{
    PGresult *r = pg_exec1(((pgc *)driver)->pool, "version", "SELECT coalesce(max(version), 0) FROM basalt_schema_version", 0,
                           NULL, err);
    if (!r) return -1;
    *version = (int)pg_i64(r, 0, 0);
    PQclear(r);
    return 0;
}

static int pgc_is_empty(void *driver, int *empty, bs_err *err)
{
    PGresult *r = pg_exec1(((pgc *)driver)->pool, "is_empty", "SELECT NOT EXISTS (SELECT 1 FROM organizations)", 0, NULL, err);
    if (!r) return -1;
    *empty = !strcmp(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    return 0;
}

static void *pgc_open(const char *target, bs_err *err)
{
    pthread_once(&pgc_ops_once, fill_ops);
    if (!pgc_ops_complete) {
        bs_err_set(err, 500, "common/internal-error", "The PostgreSQL control store is not complete in this build");
        return NULL;
    }
    return pgc_driver_open(target, err);
}

void *pgc_driver_open(const char *url, bs_err *err)
{
    pgc *d = calloc(1, sizeof *d);
    if (!d) {
        bs_err_internal(err);
        return NULL;
    }
    const pg_migration steps[] = {{1, pgc_schema_v1, pgc_schema_v1_count}, {2, pgc_schema_v2, pgc_schema_v2_count},
                                 {3, pgc_schema_v3, pgc_schema_v3_count}, {4, pgc_schema_v4, pgc_schema_v4_count},
                                 {5, pgc_schema_v5, pgc_schema_v5_count}};
    int version = 0;
    if (!(d->pool = pg_pool_new(url, pgc_conflicts, pgc_conflicts_count, err)) ||
        pg_migrate(d->pool, steps, sizeof steps / sizeof steps[0], &version, err) < 0) {
        pgc_driver_free(d);
        return NULL;
    }
    return d;
}

static void pgc_free(void *driver) { pgc_driver_free(driver); }

void pgc_driver_free(void *driver)
{
    pgc *d = driver;
    if (!d) return;
    pg_pool_free(d->pool);
    free(d);
}
