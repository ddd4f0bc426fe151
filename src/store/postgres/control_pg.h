/* control_pg: the PostgreSQL driver of the control store (store/control_driver.h), selected by a location
 * "postgres://..." or "postgresql://..." (store/control.c). The same rows as the SQLite driver
 * (store/sqlite/migrations.c), in one PostgreSQL database: timestamps BIGINT epoch milliseconds, booleans
 * INTEGER 0/1, JSON documents TEXT, so both drivers answer alike. */
#ifndef BASALT_STORE_POSTGRES_CONTROL_PG_H
#define BASALT_STORE_POSTGRES_CONTROL_PG_H

#include "store/control_driver.h"

/* Not const: the parts fill it on the first open (control_pg_parts.h); open fails while any op is
 * missing from this build. */
extern store_control_ops store_pg_control_ops;

#endif
