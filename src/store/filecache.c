/* filecache: see the header. Eviction scans the directory (the cache holds thousands of files, not
 * millions) and removes the oldest by modification time. */
#include "store/filecache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/crypto.h"
#include "util/log.h"

#define CACHE_PATH_MAX 4096

struct store_filecache {
    char dir[CACHE_PATH_MAX - 512];
    uint64_t max_bytes, bytes;
    pthread_mutex_t lock;
};

static int name_ok(const char *name)
{
    if (!name || !*name || strlen(name) > 100) return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || *p == '.')) return 0;
    return name[0] != '.';
}

/* Calls fn for each cached file (not temporaries). */
typedef void (*entry_fn)(const char *path, const struct stat *st, void *arg);
static void each_entry(const store_filecache *c, entry_fn fn, void *arg)
{
    DIR *d = opendir(c->dir);
    if (!d) return;
    struct dirent *e;
    char path[CACHE_PATH_MAX];
    struct stat st;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", c->dir, e->d_name);
        if (!strncmp(e->d_name, "tmp-", 4)) {
            unlink(path); /* a write that never finished */
            continue;
        }
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) fn(path, &st, arg);
    }
    closedir(d);
}

static void add_size(const char *path, const struct stat *st, void *arg)
{
    (void)path;
    *(uint64_t *)arg += (uint64_t)st->st_size;
}

store_filecache *store_filecache_new(const char *dir, uint64_t max_bytes, bs_err *err)
{
    store_filecache *c = calloc(1, sizeof *c);
    if (!c || strlen(dir) >= sizeof c->dir) {
        free(c);
        bs_err_set(err, 500, "config/invalid", "cache directory path too long");
        return NULL;
    }
    snprintf(c->dir, sizeof c->dir, "%s", dir);
    char parent[CACHE_PATH_MAX];
    snprintf(parent, sizeof parent, "%s", dir);
    for (char *p = parent + 1; *p; p++) /* mkdir -p */
        if (*p == '/') {
            *p = '\0';
            mkdir(parent, 0700);
            *p = '/';
        }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        bs_err_set(err, 500, "config/invalid", "cannot create %s: %s", dir, strerror(errno));
        free(c);
        return NULL;
    }
    c->max_bytes = max_bytes;
    pthread_mutex_init(&c->lock, NULL);
    each_entry(c, add_size, &c->bytes);
    return c;
}

void store_filecache_free(store_filecache *c)
{
    if (!c) return;
    pthread_mutex_destroy(&c->lock);
    free(c);
}

int store_filecache_open(store_filecache *c, const char *name, uint64_t *size)
{
    char path[CACHE_PATH_MAX];
    struct stat st;
    if (!name_ok(name)) return -1;
    snprintf(path, sizeof path, "%s/%s", c->dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return -1;
    }
    *size = (uint64_t)st.st_size;
    return fd;
}

typedef struct oldest {
    char path[CACHE_PATH_MAX];
    time_t when;
    uint64_t size;
    int found;
} oldest;

static void pick_oldest(const char *path, const struct stat *st, void *arg)
{
    oldest *o = arg;
    if (o->found && st->st_mtime >= o->when) return;
    snprintf(o->path, sizeof o->path, "%s", path);
    o->when = st->st_mtime;
    o->size = (uint64_t)st->st_size;
    o->found = 1;
}

/* With the lock held: removes the oldest files until the total is at most 90 % of the bound. */
static void evict(store_filecache *c)
{
    while (c->bytes > c->max_bytes / 10 * 9) {
        oldest o = {.found = 0};
        each_entry(c, pick_oldest, &o);
        if (!o.found || unlink(o.path) < 0) {
            c->bytes = 0; /* the directory changed under us: count again */
            each_entry(c, add_size, &c->bytes);
            if (!o.found) return;
            continue;
        }
        c->bytes = c->bytes > o.size ? c->bytes - o.size : 0;
    }
}

int store_filecache_put(store_filecache *c, const char *name, const void *data, size_t len)
{
    char path[CACHE_PATH_MAX], tmp[CACHE_PATH_MAX], rnd[17];
    if (!name_ok(name) || len > c->max_bytes || crypto_random_hex(rnd, 8) < 0) return -1;
    snprintf(path, sizeof path, "%s/%s", c->dir, name);
    snprintf(tmp, sizeof tmp, "%s/tmp-%s", c->dir, rnd);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    ssize_t n = fd >= 0 ? write(fd, data, len) : -1;
    if (fd >= 0) close(fd);
    struct stat old;
    pthread_mutex_lock(&c->lock);
    uint64_t replaced = stat(path, &old) == 0 ? (uint64_t)old.st_size : 0;
    if (n != (ssize_t)len || rename(tmp, path) < 0) {
        pthread_mutex_unlock(&c->lock);
        log_warn("image cache: cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    c->bytes = c->bytes - (replaced < c->bytes ? replaced : c->bytes) + len;
    if (c->bytes > c->max_bytes) evict(c);
    pthread_mutex_unlock(&c->lock);
    return 0;
}

uint64_t store_filecache_bytes(store_filecache *c)
{
    pthread_mutex_lock(&c->lock);
    uint64_t b = c->bytes;
    pthread_mutex_unlock(&c->lock);
    return b;
}
