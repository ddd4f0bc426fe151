/* docs_sqlite: the SQLite driver of the environment data stores (store/docs.h), with its users
 * (users_sqlite.c) and files (files_sqlite.c) tables on the same connections. Reached only through
 * store/docs.h, store/users.h and store/files.h: store/docs.c selects it for "sqlite:DIR" or a plain data
 * directory and calls it through the ops table below (its .users and .files are the tables of
 * users_sqlite.h and files_sqlite.h).
 *
 * Owns: the data directory, the environment registry (each environment's location, connection pool,
 * write turn and queue of grouped writes), the checkpointer thread and the writer threads. Thread-safe:
 * any thread may call any op at any time. */
#ifndef BASALT_STORE_SQLITE_DOCS_SQLITE_H
#define BASALT_STORE_SQLITE_DOCS_SQLITE_H

#include "store/docs_driver.h"

extern const store_docs_ops store_sqlite_docs_ops;

#endif
