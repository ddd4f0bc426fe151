/* files_driver: the ops table a driver of the files store (store/files.h) implements. File records live
 * in the environment's data store databases, so a files driver is part of a docs driver
 * (store_docs_ops.files) and receives the same driver handle; store/files.c forwards every public call
 * through it. Contract: each function has exactly the semantics documented in store/files.h (0 on success,
 * -1 with err filled; *found = 0 is not an error); drivers must be callable from any thread at the same
 * time. No driver type (sqlite3, PGconn, ...) may appear in this header. */
#ifndef BASALT_STORE_FILES_DRIVER_H
#define BASALT_STORE_FILES_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "store/files.h"
#include "util/err.h"

typedef struct store_files_ops {
    int (*objects_put)(void *driver, const char *env_id, const store_object *o, bs_err *err);
    int (*objects_claim)(void *driver, const char *env_id, const store_object *o, int *claimed, bs_err *err);
    int (*objects_get)(void *driver, const char *env_id, const char *key, store_object *out, int *found, bs_err *err);
    int (*objects_delete)(void *driver, const char *env_id, const char *key, bs_err *err);
    int (*objects_keys)(void *driver, const char *env_id, const char *after, char (*keys)[STORE_BLOB_KEY_MAX + 1],
        size_t max, size_t *n, bs_err *err);
    int (*objects_totals)(void *driver, const char *env_id, uint64_t *count, uint64_t *bytes, bs_err *err);
    int (*files_create)(void *driver, const char *env_id, const store_file *f, bs_err *err);
    int (*files_get)(void *driver, const char *env_id, const char *id, store_file *out, int *found, bs_err *err);
    int (*files_by_key)(void *driver, const char *env_id, const char *key, store_file *out, int *found, bs_err *err);
    int (*files_update)(void *driver, const char *env_id, const store_file *f, int *found, bs_err *err);
    int (*files_delete)(void *driver, const char *env_id, const char *id, int *found, bs_err *err);
    int (*files_list)(void *driver, const char *env_id, const store_file_query *q, store_file *out, size_t *n,
        int64_t *total, bs_err *err);
    int (*uploads_create)(void *driver, const char *env_id, const store_upload *u, bs_err *err);
    int (*uploads_get)(void *driver, const char *env_id, const char *id, store_upload *out, int *found, bs_err *err);
    int (*uploads_delete)(void *driver, const char *env_id, const char *id, bs_err *err);
    int (*uploads_part_put)(void *driver, const char *env_id, const char *upload_id, const store_upload_part *p,
        int *recorded, bs_err *err);
    int (*uploads_parts)(void *driver, const char *env_id, const char *upload_id, store_upload_part *out, size_t max,
        size_t *n, bs_err *err);
    int (*uploads_expired)(void *driver, const char *env_id, int64_t now, store_upload *out, size_t max, size_t *n,
        bs_err *err);
} store_files_ops;

#endif
