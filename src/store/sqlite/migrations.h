/* migrations: the versioned schema of the SQLite control store.
 *
 * An ordered list of steps (version 1, 2, ...), each applied in its own BEGIN IMMEDIATE transaction
 * together with its row in schema_migrations(version, applied_at), so a step is either fully applied or
 * not at all. Re-running is idempotent: applied versions are skipped (checked inside the transaction, so
 * two processes opening the same file at once apply each step once). Steps are never edited once
 * released; a schema change is a new step appended at the end. */
#ifndef BASALT_STORE_SQLITE_MIGRATIONS_H
#define BASALT_STORE_SQLITE_MIGRATIONS_H

#include <sqlite3.h>

#include "util/err.h"

/* The version the newest step brings the schema to. */
int store_sqlite_migrations_latest(void);
/* How many steps there are (every one is applied by store_sqlite_migrate). */
int store_sqlite_migrations_count(void);

/* Applies every pending step on db (a connection the caller owns and has configured: busy timeout,
 * foreign keys) and sets *version to the highest applied version. Fails when the file was migrated
 * by a newer build (a version above store_sqlite_migrations_latest()). */
int store_sqlite_migrate(sqlite3 *db, int *version, bs_err *err);

#endif
