/* users_sqlite: the SQLite driver of the users store (store/users.h), on the environment connections of
 * docs_sqlite.c (envdb.h); reached only through store_sqlite_docs_ops.users. Thread-safe. */
#ifndef BASALT_STORE_SQLITE_USERS_SQLITE_H
#define BASALT_STORE_SQLITE_USERS_SQLITE_H

#include "store/users_driver.h"

extern const store_users_ops store_sqlite_users_ops;

#endif
