/* rows_sqlite: the SQLite driver's rows_export / rows_import (store/docs_driver.h, the neutral rows of
 * store/docs_rows.h) for moving an environment away. Private to src/store/sqlite. SQLite is a move's
 * source only: import answers 400 (a move's target is a database server). */
#ifndef BASALT_STORE_SQLITE_ROWS_SQLITE_H
#define BASALT_STORE_SQLITE_ROWS_SQLITE_H

#include <json-c/json.h>
#include <stddef.h>

#include "util/err.h"

int sqlite_rows_export(void *driver, const char *env_id, const char *table, const char *after, const char *only,
                       size_t max, struct json_object **rows, bs_err *err);
int sqlite_rows_import(void *driver, const char *env_id, const char *table, struct json_object *rows, int replace,
                       bs_err *err);

#endif
