/* control_sqlite: the SQLite driver of the control store (one file, e.g. basalt-data/control.db).
 * Reached only through store/control.h: store/control.c selects it for "sqlite:PATH" or a plain path and
 * calls it through the ops table below.
 *
 * Owns: the path, one pthread key, and every connection it opened (one per thread that used it, each
 * with its own prepared-statement cache). Invariants: a connection is only ever used by the thread that
 * opened it; each connection is closed exactly once, either by its thread's exit (key destructor) or by
 * the driver's free, whichever comes first. Migrations run once at open on a connection of their own. */
#ifndef BASALT_STORE_SQLITE_CONTROL_SQLITE_H
#define BASALT_STORE_SQLITE_CONTROL_SQLITE_H

#include "store/control_driver.h"

extern const store_control_ops store_sqlite_control_ops;

#endif
