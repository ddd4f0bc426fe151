/* files_sqlite: the SQLite driver of the files store (store/files.h), on the environment connections of
 * docs_sqlite.c (envdb.h); reached only through store_sqlite_docs_ops.files. Thread-safe. */
#ifndef BASALT_STORE_SQLITE_FILES_SQLITE_H
#define BASALT_STORE_SQLITE_FILES_SQLITE_H

#include "store/files_driver.h"

extern const store_files_ops store_sqlite_files_ops;

#endif
