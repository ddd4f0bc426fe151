/* files: what an environment knows about its stored files (client-api.md §4), kept in the environment's
 * own database beside its tables and users (the bytes are in store/blobs.h):
 *   objects  every object uploaded through a storage URL, registered or not: key, type, size, ETag, who
 *            asked for the URL and with which visibility (the unsigned-GET rule of §4.3 reads this)
 *   files    the registered file records of §4.5 (POST /v1/files), one per object key at most
 *   uploads  multipart uploads in progress and their parts (§4.4)
 * Calls reach the data store's driver through store/files_driver.h (SQLite: store/sqlite/files_sqlite.c).
 * Ownership: every struct is caller memory. Thread-safe. */
#ifndef BASALT_STORE_FILES_H
#define BASALT_STORE_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "store/blobs.h"
#include "store/docs.h"
#include "util/err.h"

#define STORE_FILE_ID_MAX 72   /* user ids are token subjects (at most 64 characters) */
#define STORE_FILE_NAME_MAX 1021      /* 255 characters of UTF-8 */
#define STORE_FILE_TYPE_MAX 101
#define STORE_FILE_META_MAX 8192

typedef struct store_object {
    char key[STORE_BLOB_KEY_MAX + 1];
    char content_type[STORE_FILE_TYPE_MAX];
    char filename[STORE_FILE_NAME_MAX];   /* as the client named it when asking for the URL */
    uint64_t size;
    char etag[STORE_BLOB_ETAG_MAX];
    char uploaded_by[STORE_FILE_ID_MAX];  /* user id; "" = the secret key */
    char visibility[16];                  /* asked for at presign time */
    int64_t created_at;
} store_object;

typedef struct store_file {
    char id[STORE_FILE_ID_MAX];
    char key[STORE_BLOB_KEY_MAX + 1];
    char original_name[STORE_FILE_NAME_MAX];
    char mime_type[STORE_FILE_TYPE_MAX];
    int64_t size;
    int64_t width, height;                /* -1 = not given */
    char visibility[16];                  /* public | private | protected | shared */
    char bucket[16];                      /* "" = none */
    char owner_id[STORE_FILE_ID_MAX];
    char owner_type[16];                  /* user | session | service | public */
    char metadata[STORE_FILE_META_MAX];   /* JSON object text */
    char shared_with[1024];               /* JSON array of user ids (visibility shared) */
    int64_t created_at, updated_at;
} store_file;

int store_objects_put(store_docs *db, const char *env_id, const store_object *o, bs_err *err); /* insert or replace */
/* Inserts o unless an object row has its key (*claimed = 0 then): how an upload URL writes once. */
int store_objects_claim(store_docs *db, const char *env_id, const store_object *o, int *claimed, bs_err *err);
int store_objects_get(store_docs *db, const char *env_id, const char *key, store_object *out, int *found, bs_err *err);
int store_objects_delete(store_docs *db, const char *env_id, const char *key, bs_err *err);
/* Up to max object keys after `after` ("" = from the start), in key order (to walk all of them). */
int store_objects_keys(store_docs *db, const char *env_id, const char *after, char (*keys)[STORE_BLOB_KEY_MAX + 1], size_t max,
                       size_t *n, bs_err *err);
/* How many objects the environment has and their bytes (the storage gauge). */
int store_objects_totals(store_docs *db, const char *env_id, uint64_t *count, uint64_t *bytes, bs_err *err);

/* 409 file/s3-key-already-exists when the key has a record. */
int store_files_create(store_docs *db, const char *env_id, const store_file *f, bs_err *err);
int store_files_get(store_docs *db, const char *env_id, const char *id, store_file *out, int *found, bs_err *err);
int store_files_by_key(store_docs *db, const char *env_id, const char *key, store_file *out, int *found, bs_err *err);
/* Writes original_name, visibility, metadata, shared_with, updated_at by id. */
int store_files_update(store_docs *db, const char *env_id, const store_file *f, int *found, bs_err *err);
int store_files_delete(store_docs *db, const char *env_id, const char *id, int *found, bs_err *err);

typedef enum store_file_sort { STORE_FILES_BY_CREATED = 0, STORE_FILES_BY_UPDATED, STORE_FILES_BY_NAME,
                               STORE_FILES_BY_SIZE, STORE_FILES_BY_TYPE } store_file_sort;
typedef struct store_file_query {
    const char *viewer;        /* the caller's user id: own + public + protected; NULL = everything (secret key) */
    const char *visibility, *owner_type, *owner_id, *bucket, *mime_type, *search; /* NULL = any */
    store_file_sort sort;
    int desc;
    size_t limit;
    int64_t offset;
} store_file_query;
/* A page of files into out (at most q->limit) and *total of the whole set. */
int store_files_list(store_docs *db, const char *env_id, const store_file_query *q, store_file *out, size_t *n,
                     int64_t *total, bs_err *err);

typedef struct store_upload {
    char id[STORE_FILE_ID_MAX];
    char key[STORE_BLOB_KEY_MAX + 1];
    char filename[STORE_FILE_NAME_MAX];
    char content_type[STORE_FILE_TYPE_MAX];
    int64_t file_size;
    char requested_by[STORE_FILE_ID_MAX];
    char visibility[16];
    int64_t created_at, expires_at;
} store_upload;

typedef struct store_upload_part {
    int number;
    uint64_t size;
    char etag[STORE_BLOB_ETAG_MAX];
} store_upload_part;

int store_uploads_create(store_docs *db, const char *env_id, const store_upload *u, bs_err *err);
int store_uploads_get(store_docs *db, const char *env_id, const char *id, store_upload *out, int *found, bs_err *err);
/* Removes the upload and its part rows. */
int store_uploads_delete(store_docs *db, const char *env_id, const char *id, bs_err *err);
/* Records a part while its upload exists (*recorded = 0 when it was completed, aborted or never was). */
int store_uploads_part_put(store_docs *db, const char *env_id, const char *upload_id, const store_upload_part *p, int *recorded,
                           bs_err *err);
/* The parts received, by number, at most max. */
int store_uploads_parts(store_docs *db, const char *env_id, const char *upload_id, store_upload_part *out, size_t max,
                        size_t *n, bs_err *err);
/* Up to max uploads that expired before now (for cleanup). */
int store_uploads_expired(store_docs *db, const char *env_id, int64_t now, store_upload *out, size_t max, size_t *n,
                          bs_err *err);

#endif
