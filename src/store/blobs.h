/* blobs: file bytes by key (design.md §2), behind one interface with two drivers: the local filesystem
 * (store/fs/blobs_fs.c, the default, under DATA/files) and an S3-compatible service (store/s3/blobs_s3.c,
 * AWS Signature V4 over libcurl). Keys are made by the caller from a strict alphabet: segments of
 * [A-Za-z0-9._-] (not starting with '.') joined by '/', at most STORE_BLOB_KEY_MAX bytes; a driver
 * refuses any other key with 400 file/invalid-path, so no key can leave its root.
 *
 * Writes stream: store_blobs_put_begin, any number of store_blob_write, then store_blob_commit (the
 * object appears whole, atomically replacing an older one) or store_blob_abort (nothing appears). A
 * writer never holds the object in memory. Every object has an ETag as S3 computes it: the quoted MD5
 * hex of the bytes, or for an object composed of parts the MD5 of the parts' binary MD5s, "-", the count.
 *
 * Reads: store_blobs_read calls a sink with the bytes of a range, in chunks; the filesystem driver can also
 * hand out a file descriptor (store_blobs_open_fd) so the HTTP layer sends it with sendfile.
 *
 * Ownership: store_blobs_*_new return a handle freed with store_blobs_free; a writer is owned by the
 * caller from put_begin until commit or abort (each frees it). Thread-safe: any thread may call anything;
 * one writer is used by one thread at a time. */
#ifndef BASALT_STORE_BLOBS_H
#define BASALT_STORE_BLOBS_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define STORE_BLOB_KEY_MAX 500
#define STORE_BLOB_ETAG_MAX 48   /* "\"" + 32 hex + "-10000" + "\"" + NUL fits */

typedef struct store_blobs store_blobs;
typedef struct store_blob_writer store_blob_writer;

typedef struct store_blob_info {
    uint64_t size;
    char etag[STORE_BLOB_ETAG_MAX];   /* quoted, as in an HTTP ETag header */
    int64_t modified_ms;
} store_blob_info;

/* Settings of the S3 driver (all strings borrowed for the call; the driver copies them). */
typedef struct store_s3_config {
    const char *endpoint;     /* e.g. https://s3.eu-west-1.amazonaws.com or http://127.0.0.1:4568 */
    const char *region;       /* e.g. us-east-1 */
    const char *bucket;
    const char *access_key, *secret_key;
    const char *prefix;       /* prepended to every key ("" for none) */
    int path_style;           /* 1: endpoint/bucket/key; 0: bucket.endpoint/key */
} store_s3_config;

/* The filesystem driver rooted at dir (created when missing). */
store_blobs *store_blobs_fs_new(const char *dir, bs_err *err);
/* The S3 driver; it checks nothing on the network until used. */
store_blobs *store_blobs_s3_new(const store_s3_config *cfg, bs_err *err);
void store_blobs_free(store_blobs *b);
/* "fs" or "s3". */
const char *store_blobs_driver(const store_blobs *b);

/* 1 when key is made of the allowed alphabet (see above). */
int store_blob_key_valid(const char *key);

store_blob_writer *store_blobs_put_begin(store_blobs *b, const char *key, const char *content_type, bs_err *err);
int store_blob_write(store_blob_writer *w, const void *data, size_t len, bs_err *err);
/* Makes the object visible; fills info (may be NULL). Frees w whatever the outcome. */
int store_blob_commit(store_blob_writer *w, store_blob_info *info, bs_err *err);
/* Drops what was written. Frees w. NULL is fine. */
void store_blob_abort(store_blob_writer *w);

/* *found = 0 when there is no such object. */
int store_blobs_stat(store_blobs *b, const char *key, store_blob_info *info, int *found, bs_err *err);
/* Calls sink with the bytes [offset, offset + len) in order; a sink returning -1 stops the read (the
 * function then returns -1 without setting err). 404 file/not-found when the object is missing. */
typedef int (*store_blob_sink)(const void *data, size_t len, void *arg);
int store_blobs_read(store_blobs *b, const char *key, uint64_t offset, uint64_t len, store_blob_sink sink, void *arg,
                     bs_err *err);
/* Filesystem driver only: an open descriptor of the object (the caller closes it) and its info; -1 with
 * err for S3 (use store_blobs_read) and 404 file/not-found when missing. */
int store_blobs_open_fd(store_blobs *b, const char *key, int *fd, store_blob_info *info, bs_err *err);
/* *found = 0 when there was nothing to delete. */
int store_blobs_delete(store_blobs *b, const char *key, int *found, bs_err *err);
/* Writes key as the concatenation of the objects part_keys[0..n) (each left in place), with the
 * multipart ETag. Used to complete multipart uploads. */
int store_blobs_compose(store_blobs *b, const char *key, const char *const *part_keys, size_t n, const char *content_type,
                        store_blob_info *info, bs_err *err);

#endif
