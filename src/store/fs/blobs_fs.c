/* blobs_fs: store/blobs.h on the local filesystem. Layout under the root:
 *   objects/<key>   the bytes
 *   meta/<key>      the object's ETag (one line), written before the bytes appear
 *   tmp/            uploads in progress (w-<random>), renamed into objects/ on commit
 * A commit is fsync + rename, so readers see the old object or the new one, never a part. Temporary files
 * of uploads that never finished (a crash) are removed when the driver starts. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/blobs_driver.h"
#include "util/crypto.h"
#include "util/log.h"

#define FS_PATH_MAX 4096
#define FS_IO_CHUNK (256 * 1024)
#define FS_RACE_RETRIES 8

typedef struct fs_driver {
    char root[FS_PATH_MAX - 1024];
} fs_driver;

typedef struct fs_writer {
    store_blob_writer base;
    fs_driver *d;
    int fd;
    char tmp[FS_PATH_MAX];
    char key[STORE_BLOB_KEY_MAX + 1];
    EVP_MD_CTX *md5;
    uint64_t size;
} fs_writer;

static const store_blobs_ops fs_ops;

static int fs_fail(const char *what, const char *path, bs_err *err)
{
    log_error("blobs fs: %s %s: %s", what, path, strerror(errno));
    return bs_err_set(err, 500, "common/internal-error", "File storage failed");
}

static void fs_path(const fs_driver *d, const char *area, const char *key, char out[FS_PATH_MAX])
{
    snprintf(out, FS_PATH_MAX, "%s/%s/%s", d->root, area, key);
}

/* mkdir -p of the directories above path. */
static int mkdirs_for(const char *path)
{
    char buf[FS_PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0700) < 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return 0;
}

static void clean_tmp(const fs_driver *d)
{
    char dir[FS_PATH_MAX], path[FS_PATH_MAX + 256];
    snprintf(dir, sizeof dir, "%s/tmp", d->root);
    DIR *dh = opendir(dir);
    if (!dh) return;
    struct dirent *e;
    while ((e = readdir(dh)))
        if (!strncmp(e->d_name, "w-", 2)) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    closedir(dh);
}

store_blobs *store_blobs_fs_new(const char *dir, bs_err *err)
{
    fs_driver *d = calloc(1, sizeof *d);
    char probe[FS_PATH_MAX];
    if (!d || strlen(dir) >= sizeof d->root) {
        free(d);
        bs_err_set(err, 500, "common/internal-error", "file storage directory path too long");
        return NULL;
    }
    snprintf(d->root, sizeof d->root, "%s", dir);
    snprintf(probe, sizeof probe, "%s/tmp/x", d->root);
    if (mkdir(d->root, 0700) < 0 && errno != EEXIST) {
        fs_fail("mkdir", d->root, err);
        free(d);
        return NULL;
    }
    if (mkdirs_for(probe) < 0) {
        fs_fail("mkdir", probe, err);
        free(d);
        return NULL;
    }
    clean_tmp(d);
    return store_blobs_wrap(&fs_ops, d, err);
}

static void fs_free(void *driver) { free(driver); }

static store_blob_writer *fs_put_begin(void *driver, const char *key, const char *content_type, bs_err *err)
{
    (void)content_type; /* the filesystem keeps bytes only; the API layer records the type */
    fs_driver *d = driver;
    fs_writer *w = calloc(1, sizeof *w);
    char rnd[17];
    if (!w || crypto_random_hex(rnd, 8) < 0 || !(w->md5 = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(w->md5, EVP_md5(), NULL)) {
        if (w) EVP_MD_CTX_free(w->md5);
        free(w);
        bs_err_internal(err);
        return NULL;
    }
    w->base.ops = &fs_ops;
    w->d = d;
    snprintf(w->key, sizeof w->key, "%s", key);
    snprintf(w->tmp, sizeof w->tmp, "%s/tmp/w-%s", d->root, rnd);
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (w->fd < 0) {
        fs_fail("create", w->tmp, err);
        EVP_MD_CTX_free(w->md5);
        free(w);
        return NULL;
    }
    return &w->base;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int fs_write(store_blob_writer *base, const void *data, size_t len, bs_err *err)
{
    fs_writer *w = (fs_writer *)base;
    if (write_all(w->fd, data, len) < 0) return errno == ENOSPC ? bs_err_set(err, 507, "file/storage-full", "The file store is full")
                                                                : fs_fail("write", w->tmp, err);
    EVP_DigestUpdate(w->md5, data, len);
    w->size += len;
    return 0;
}

static void writer_free(fs_writer *w)
{
    if (w->fd >= 0) close(w->fd);
    EVP_MD_CTX_free(w->md5);
    free(w);
}

/* Writes the ETag sidecar of key. */
static int meta_put(const fs_driver *d, const char *key, const char *etag, bs_err *err)
{
    char path[FS_PATH_MAX], tmp[FS_PATH_MAX + 8], rnd[17];
    fs_path(d, "meta", key, path);
    if (crypto_random_hex(rnd, 8) < 0) return bs_err_internal(err);
    snprintf(tmp, sizeof tmp, "%s/tmp/m-%s", d->root, rnd);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int ok = fd >= 0 && write_all(fd, etag, strlen(etag)) == 0 && write_all(fd, "\n", 1) == 0;
    if (fd >= 0) close(fd);
    for (int attempt = 0; ok && attempt < FS_RACE_RETRIES; attempt++) { /* see publish */
        if (mkdirs_for(path) == 0 && rename(tmp, path) == 0) return 0;
        if (errno != ENOENT) break;
    }
    unlink(tmp);
    return fs_fail("write meta", path, err);
}

static void meta_get(const fs_driver *d, const char *key, char etag[STORE_BLOB_ETAG_MAX])
{
    char path[FS_PATH_MAX];
    fs_path(d, "meta", key, path);
    etag[0] = '\0';
    FILE *f = fopen(path, "re");
    if (!f) return;
    if (fgets(etag, STORE_BLOB_ETAG_MAX, f)) etag[strcspn(etag, "\n")] = '\0';
    fclose(f);
}

/* Moves the finished temporary file at tmp to key, with its ETag. */
static int publish(const fs_driver *d, const char *tmp, const char *key, const char *etag, bs_err *err)
{
    char path[FS_PATH_MAX];
    fs_path(d, "objects", key, path);
    if (meta_put(d, key, etag, err) < 0) return -1;
    /* a delete of a sibling may remove a directory between our mkdir and rename: make it again */
    for (int attempt = 0; attempt < FS_RACE_RETRIES; attempt++) {
        if (mkdirs_for(path) == 0 && rename(tmp, path) == 0) return 0;
        if (errno != ENOENT) break;
    }
    return fs_fail("publish", path, err);
}

static int fs_commit(store_blob_writer *base, store_blob_info *info, bs_err *err)
{
    fs_writer *w = (fs_writer *)base;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char hex[33];
    int rc = fsync(w->fd) == 0 ? 0 : fs_fail("fsync", w->tmp, err);
    close(w->fd);
    w->fd = -1;
    if (rc == 0) {
        EVP_DigestFinal_ex(w->md5, md, &n);
        crypto_hex(md, 16, hex);
        snprintf(info->etag, sizeof info->etag, "\"%s\"", hex);
        info->size = w->size;
        rc = publish(w->d, w->tmp, w->key, info->etag, err);
        struct stat st;
        char path[FS_PATH_MAX];
        fs_path(w->d, "objects", w->key, path);
        info->modified_ms = rc == 0 && stat(path, &st) == 0 ? (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000 : 0;
    }
    if (rc < 0) unlink(w->tmp);
    writer_free(w);
    return rc;
}

static void fs_abort(store_blob_writer *base)
{
    fs_writer *w = (fs_writer *)base;
    if (w->fd >= 0) close(w->fd);
    w->fd = -1;
    unlink(w->tmp);
    writer_free(w);
}

static int info_of(const fs_driver *d, const char *key, int fd, store_blob_info *info)
{
    struct stat st;
    if (fstat(fd, &st) < 0) return -1;
    info->size = (uint64_t)st.st_size;
    info->modified_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    meta_get(d, key, info->etag);
    return 0;
}

static int fs_open_fd(void *driver, const char *key, int *fd, store_blob_info *info, bs_err *err)
{
    char path[FS_PATH_MAX];
    fs_path(driver, "objects", key, path);
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0) return errno == ENOENT || errno == ENOTDIR ? bs_err_set(err, 404, "file/not-found", "No such object")
                                                           : fs_fail("open", path, err);
    if (info_of(driver, key, *fd, info) < 0) {
        close(*fd);
        *fd = -1;
        return fs_fail("stat", path, err);
    }
    return 0;
}

static int fs_stat(void *driver, const char *key, store_blob_info *info, int *found, bs_err *err)
{
    int fd = -1;
    bs_err e;
    bs_err_clear(&e);
    if (fs_open_fd(driver, key, &fd, info, &e) < 0) {
        if (e.status == 404) return 0;
        *err = e;
        return -1;
    }
    close(fd);
    *found = 1;
    return 0;
}

static int fs_read(void *driver, const char *key, uint64_t offset, uint64_t len, store_blob_sink sink, void *arg, bs_err *err)
{
    int fd;
    store_blob_info info;
    if (fs_open_fd(driver, key, &fd, &info, err) < 0) return -1;
    char *buf = malloc(FS_IO_CHUNK);
    int rc = buf ? 0 : bs_err_internal(err);
    while (rc == 0 && len) {
        ssize_t n = pread(fd, buf, len < FS_IO_CHUNK ? (size_t)len : FS_IO_CHUNK, (off_t)offset);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            rc = n < 0 ? fs_fail("read", key, err) : bs_err_set(err, 416, "file/invalid-range", "Range beyond the object");
            break;
        }
        if (sink(buf, (size_t)n, arg) < 0) rc = -1;
        offset += (uint64_t)n;
        len -= (uint64_t)n;
    }
    free(buf);
    close(fd);
    return rc;
}

/* Removes the directories above path that became empty, up to (not including) the area's root. */
static void prune_dirs(const fs_driver *d, const char *area, char *path)
{
    size_t root = strlen(d->root) + 1 + strlen(area);
    for (char *slash = strrchr(path, '/'); slash && (size_t)(slash - path) > root; slash = strrchr(path, '/')) {
        *slash = '\0';
        if (rmdir(path) < 0) break; /* not empty (or gone): stop */
    }
}

static int fs_del(void *driver, const char *key, int *found, bs_err *err)
{
    char path[FS_PATH_MAX];
    fs_path(driver, "objects", key, path);
    if (unlink(path) == 0) *found = 1;
    else if (errno != ENOENT && errno != ENOTDIR) return fs_fail("delete", path, err);
    prune_dirs(driver, "objects", path);
    fs_path(driver, "meta", key, path);
    unlink(path);
    prune_dirs(driver, "meta", path);
    return 0;
}

/* Appends the whole file at src to fd (in-kernel copy when possible). */
static int append_file(int fd, const char *src)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) return -1;
    struct stat st;
    int rc = fstat(in, &st);
    off_t left = st.st_size;
    while (rc == 0 && left > 0) {
        ssize_t n = copy_file_range(in, NULL, fd, NULL, (size_t)left, 0);
        if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL)) { /* fall back to read/write */
            char buf[65536];
            n = read(in, buf, sizeof buf);
            if (n > 0 && write_all(fd, buf, (size_t)n) < 0) n = -1;
        }
        if (n <= 0) rc = -1;
        else left -= n;
    }
    close(in);
    return rc;
}

static int fs_compose(void *driver, const char *key, const char *const *part_keys, size_t n, const char *content_type,
                      store_blob_info *info, bs_err *err)
{
    (void)content_type;
    fs_driver *d = driver;
    unsigned char (*md5s)[16] = calloc(n, 16);
    store_blob_writer *base = md5s ? fs_put_begin(d, key, NULL, err) : NULL;
    if (!base) {
        free(md5s);
        return err->status ? -1 : bs_err_internal(err);
    }
    fs_writer *w = (fs_writer *)base;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char path[FS_PATH_MAX], etag[STORE_BLOB_ETAG_MAX];
        fs_path(d, "objects", part_keys[i], path);
        meta_get(d, part_keys[i], etag);
        if (store_blobs_etag_md5(etag, md5s[i]) < 0) rc = bs_err_set(err, 400, "file/invalid-parts-array", "A part is missing");
        else if (append_file(w->fd, path) < 0) rc = fs_fail("compose", path, err);
    }
    struct stat st;
    if (rc == 0 && (fsync(w->fd) < 0 || fstat(w->fd, &st) < 0)) rc = fs_fail("fsync", w->tmp, err);
    if (rc == 0) {
        info->size = (uint64_t)st.st_size;
        info->modified_ms = (int64_t)st.st_mtim.tv_sec * 1000;
        store_blobs_multipart_etag((const unsigned char (*)[16])md5s, n, info->etag);
        close(w->fd);
        w->fd = -1;
        rc = publish(d, w->tmp, key, info->etag, err);
    }
    free(md5s);
    if (rc < 0) fs_abort(base);
    else writer_free(w);
    return rc;
}

static const store_blobs_ops fs_ops = {
    .name = "fs",
    .free = fs_free,
    .put_begin = fs_put_begin,
    .write = fs_write,
    .commit = fs_commit,
    .abort = fs_abort,
    .stat = fs_stat,
    .read = fs_read,
    .open_fd = fs_open_fd,
    .del = fs_del,
    .compose = fs_compose,
};
