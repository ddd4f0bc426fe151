/* docs_pg_env: how the PostgreSQL driver of the environment data stores (docs, users, files) is put
 * together, and where an environment lives on PostgreSQL. Private to src/store/postgres.
 *
 * The driver handle (docs_pg, opened on the --env-store URL) owns the pool of the main database and one
 * small pool per dedicated database. An environment is located on first use through the locator
 * (store_docs_set_locator; store/env_locator.h answers in SQLite's terms, read here as):
 *   - a slot on a shared cluster ("clusters/<c>.db", prefix "s3_")  → schema "s3" in the main database
 *     (the slot's schema; slots are reused as on SQLite, so dropping the environment drops the schema);
 *   - a dedicated cluster or no placement ("envs/<env_id>.db")      → schema "env" in a database of its
 *     own, "<maindb>_<env_id>" (created by Basalt on first use, dropped with the environment).
 *   - either with a server URL (a registered cluster, store_env_location.url) → the same on that server:
 *     the slot's schema in the URL's database, or the database "<urldb>_<env_id>" made there.
 * The schema of an environment is created and migrated on first use: every part (catalog and records,
 * users, files) declares its own versioned migrations (docs_pg_part), recorded per schema in
 * basalt_schema_parts(part, version); statements run with search_path set to the schema, so they name
 * objects unqualified. At run time every statement names its objects qualified with the schema
 * ("s3".users, "env"."d_posts"): connections are shared by all environments of a database.
 *
 * Ownership: docs_pg_env_get fills caller memory with borrowed pointers that live as long as the driver
 * (until the environment is dropped). Thread-safe. */
#ifndef BASALT_STORE_POSTGRES_DOCS_PG_ENV_H
#define BASALT_STORE_POSTGRES_DOCS_PG_ENV_H

#include <stddef.h>

#include "store/docs_driver.h"
#include "store/files_driver.h"
#include "store/postgres/docs_pg_writers.h"
#include "store/postgres/pg.h"
#include "store/users_driver.h"
#include "util/err.h"

#define DOCS_PG_SCHEMA_MAX 64     /* a schema identifier: [a-z0-9_], at most 63 bytes */
#define DOCS_PG_ENV_ID_MAX 64

typedef struct docs_pg docs_pg;   /* the driver handle (docs_pg.c); `void *driver` in every op */
typedef struct docs_pg_counts docs_pg_counts; /* list totals kept by the writes (docs_pg_counts.h) */

/* Where one environment lives. */
typedef struct docs_pg_env {
    pg_pool *pool;                    /* its database's pool (borrowed from the driver) */
    char schema[DOCS_PG_SCHEMA_MAX];  /* its schema, safe to splice unquoted: [a-z0-9_] only */
    docs_pg_counts *counts;           /* the driver's hints of kept totals (borrowed; NULL: none kept) */
} docs_pg_env;

/* The driver's writer threads (docs_pg_writers.h), borrowed for the driver's life. */
docs_pg_writers *docs_pg_writers_borrow(docs_pg *d);

/* Locates env_id, creating and migrating its database and schema on first use. 0, or -1 with err. */
int docs_pg_env_get(docs_pg *d, const char *env_id, docs_pg_env *out, bs_err *err);

/* One part's migrations of an environment schema: versions ascending, statements unqualified. */
typedef struct docs_pg_part {
    const char *name;                 /* "catalog", "users", "files" */
    const pg_migration *steps;
    size_t nsteps;
} docs_pg_part;

/* The parts, run in this order on every new or older environment schema. */
extern const docs_pg_part docs_pg_part_catalog;   /* docs_pg_catalog.c: tables, versions, records' tables */
extern const docs_pg_part users_pg_part;          /* users_pg.c */
extern const docs_pg_part files_pg_part;          /* files_pg.c */

/* The users and files ops on the same handle (users_pg.c, files_pg.c). */
extern const store_users_ops store_pg_users_ops;
extern const store_files_ops store_pg_files_ops;

#endif
