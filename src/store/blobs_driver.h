/* blobs_driver: what a blob store driver implements (store/blobs.h dispatches to it). Private to
 * src/store. A writer begins as the driver's own struct whose first member is store_blob_writer_base. */
#ifndef BASALT_STORE_BLOBS_DRIVER_H
#define BASALT_STORE_BLOBS_DRIVER_H

#include "store/blobs.h"

typedef struct store_blobs_ops {
    const char *name;
    void (*free)(void *driver);
    store_blob_writer *(*put_begin)(void *driver, const char *key, const char *content_type, bs_err *err);
    int (*write)(store_blob_writer *w, const void *data, size_t len, bs_err *err);
    int (*commit)(store_blob_writer *w, store_blob_info *info, bs_err *err); /* frees w */
    void (*abort)(store_blob_writer *w);                                     /* frees w */
    int (*stat)(void *driver, const char *key, store_blob_info *info, int *found, bs_err *err);
    int (*read)(void *driver, const char *key, uint64_t offset, uint64_t len, store_blob_sink sink, void *arg, bs_err *err);
    int (*open_fd)(void *driver, const char *key, int *fd, store_blob_info *info, bs_err *err); /* NULL: not supported */
    int (*del)(void *driver, const char *key, int *found, bs_err *err);
    int (*compose)(void *driver, const char *key, const char *const *part_keys, size_t n, const char *content_type,
                   store_blob_info *info, bs_err *err);
} store_blobs_ops;

/* Every driver writer starts with this, so store/blobs.c can find the ops from a writer. */
struct store_blob_writer {
    const store_blobs_ops *ops;
};

/* Wraps a driver in the public handle (takes ownership of driver; frees it through ops on failure). */
store_blobs *store_blobs_wrap(const store_blobs_ops *ops, void *driver, bs_err *err);
/* The driver of b when b runs on ops (for a driver's own extra functions), else NULL. */
void *store_blobs_driver_data(store_blobs *b, const store_blobs_ops *ops);

/* The S3-style ETag of a multipart object from the parts' binary MD5s: "\"<hex md5 of them>-<n>\"". */
void store_blobs_multipart_etag(const unsigned char (*part_md5)[16], size_t n, char out[STORE_BLOB_ETAG_MAX]);
/* Parses a quoted single-part ETag ("\"<32 hex>\"") into its 16 bytes; -1 when it is not one. */
int store_blobs_etag_md5(const char *etag, unsigned char out[16]);

#endif
