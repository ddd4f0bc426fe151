/* blobs: the driver-neutral half of store/blobs.h (dispatch, key rules, ETag helpers). */
#include "store/blobs.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/blobs_driver.h"
#include "util/crypto.h"

struct store_blobs {
    const store_blobs_ops *ops;
    void *driver;
};

store_blobs *store_blobs_wrap(const store_blobs_ops *ops, void *driver, bs_err *err)
{
    store_blobs *b = calloc(1, sizeof *b);
    if (!b) {
        ops->free(driver);
        bs_err_internal(err);
        return NULL;
    }
    b->ops = ops;
    b->driver = driver;
    return b;
}

void store_blobs_free(store_blobs *b)
{
    if (!b) return;
    b->ops->free(b->driver);
    free(b);
}

const char *store_blobs_driver(const store_blobs *b) { return b->ops->name; }

void *store_blobs_driver_data(store_blobs *b, const store_blobs_ops *ops) { return b && b->ops == ops ? b->driver : NULL; }

static int seg_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

int store_blob_key_valid(const char *key)
{
    if (!key || !*key || strlen(key) > STORE_BLOB_KEY_MAX) return 0;
    int start = 1;
    for (const char *p = key; *p; p++) {
        if (*p == '/') {
            if (start) return 0; /* empty segment or leading slash */
            start = 1;
            continue;
        }
        if (!seg_char(*p) || (start && *p == '.')) return 0; /* no "..", no hidden names */
        start = 0;
    }
    return !start; /* no trailing slash */
}

static int bad_key(bs_err *err) { return bs_err_set(err, 400, "file/invalid-path", "Invalid object key"); }

store_blob_writer *store_blobs_put_begin(store_blobs *b, const char *key, const char *content_type, bs_err *err)
{
    if (!store_blob_key_valid(key)) {
        bad_key(err);
        return NULL;
    }
    return b->ops->put_begin(b->driver, key, content_type ? content_type : "application/octet-stream", err);
}

int store_blob_write(store_blob_writer *w, const void *data, size_t len, bs_err *err)
{
    return len ? w->ops->write(w, data, len, err) : 0;
}

int store_blob_commit(store_blob_writer *w, store_blob_info *info, bs_err *err)
{
    store_blob_info ignored;
    return w->ops->commit(w, info ? info : &ignored, err);
}

void store_blob_abort(store_blob_writer *w)
{
    if (w) w->ops->abort(w);
}

int store_blobs_stat(store_blobs *b, const char *key, store_blob_info *info, int *found, bs_err *err)
{
    *found = 0;
    if (!store_blob_key_valid(key)) return bad_key(err);
    return b->ops->stat(b->driver, key, info, found, err);
}

int store_blobs_read(store_blobs *b, const char *key, uint64_t offset, uint64_t len, store_blob_sink sink, void *arg,
                     bs_err *err)
{
    if (!store_blob_key_valid(key)) return bad_key(err);
    return b->ops->read(b->driver, key, offset, len, sink, arg, err);
}

int store_blobs_open_fd(store_blobs *b, const char *key, int *fd, store_blob_info *info, bs_err *err)
{
    *fd = -1;
    if (!store_blob_key_valid(key)) return bad_key(err);
    if (!b->ops->open_fd) return bs_err_set(err, 500, "common/internal-error", "This blob store has no file descriptors");
    return b->ops->open_fd(b->driver, key, fd, info, err);
}

int store_blobs_delete(store_blobs *b, const char *key, int *found, bs_err *err)
{
    *found = 0;
    if (!store_blob_key_valid(key)) return bad_key(err);
    return b->ops->del(b->driver, key, found, err);
}

int store_blobs_compose(store_blobs *b, const char *key, const char *const *part_keys, size_t n, const char *content_type,
                        store_blob_info *info, bs_err *err)
{
    if (!store_blob_key_valid(key)) return bad_key(err);
    for (size_t i = 0; i < n; i++)
        if (!store_blob_key_valid(part_keys[i])) return bad_key(err);
    if (n == 0) return bs_err_set(err, 400, "file/invalid-parts-array", "At least one part is needed");
    store_blob_info ignored;
    return b->ops->compose(b->driver, key, part_keys, n, content_type ? content_type : "application/octet-stream",
                           info ? info : &ignored, err);
}

void store_blobs_multipart_etag(const unsigned char (*part_md5)[16], size_t n, char out[STORE_BLOB_ETAG_MAX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    char hex[33];
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, EVP_md5(), NULL);
    for (size_t i = 0; i < n; i++) EVP_DigestUpdate(c, part_md5[i], 16);
    EVP_DigestFinal_ex(c, md, &len);
    EVP_MD_CTX_free(c);
    crypto_hex(md, 16, hex);
    snprintf(out, STORE_BLOB_ETAG_MAX, "\"%s-%zu\"", hex, n);
}

int store_blobs_etag_md5(const char *etag, unsigned char out[16])
{
    if (!etag || strlen(etag) != 34 || etag[0] != '"' || etag[33] != '"') return -1;
    for (int i = 0; i < 16; i++) {
        unsigned v = 0;
        for (int j = 0; j < 2; j++) {
            char c = etag[1 + 2 * i + j];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0) return -1;
            v = v * 16 + (unsigned)d;
        }
        out[i] = (unsigned char)v;
    }
    return 0;
}
