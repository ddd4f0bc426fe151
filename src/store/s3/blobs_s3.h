/* blobs_s3: what the S3 blob driver (store/s3/blobs_s3.c) offers beyond store/blobs.h. */
#ifndef BASALT_STORE_BLOBS_S3_H
#define BASALT_STORE_BLOBS_S3_H

#include <stddef.h>
#include <stdint.h>

#include "store/blobs.h"

/* A writer buffers this many bytes; a larger object is sent as an S3 multipart upload of parts this size
 * (the last one smaller), so its ETag is the multipart form "<md5 of the parts' md5s>-<parts>". */
#define STORE_BLOBS_S3_PART_SIZE (8 * 1024 * 1024)
#define STORE_BLOBS_S3_EXPIRES_MAX 604800 /* 7 days: the longest a SigV4 presigned URL lasts */

/* Writes into out a SigV4 query-string presigned URL for method ("GET" or "PUT") on key, valid for
 * expires_in_s seconds (1 to STORE_BLOBS_S3_EXPIRES_MAX). With content_type (may be NULL) a PUT must send
 * that exact Content-Type header. 400 common/invalid-parameters for a bad method, lifetime or type, 400
 * file/invalid-path for a bad key, 500 when b is not an S3 store or out is too small. */
int store_blobs_s3_presign(store_blobs *b, const char *method, const char *key, int64_t expires_in_s, const char *content_type,
                           char *out, size_t size, bs_err *err);

/* Called by store_blobs_s3_list with each object's key (without the store's prefix) and its size, ETag
 * and modification time; returning -1 stops the listing. */
typedef int (*store_blobs_s3_list_fn)(const char *key, const store_blob_info *info, void *arg);
/* Calls fn for every object whose key starts with prefix (a key, or a key and '/'), in key order, with
 * ListObjectsV2 (up to 1000 keys a request). -1 without touching err when fn stopped it; 400
 * file/invalid-path for a bad prefix, 500 when b is not an S3 store, else the driver's storage errors. */
int store_blobs_s3_list(store_blobs *b, const char *prefix, store_blobs_s3_list_fn fn, void *arg, bs_err *err);

#endif
