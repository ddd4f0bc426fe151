/* master_key: DATA/master.key (see master_key.h). */
#include "app/master_key.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "util/crypto.h"

int master_key_load(const char *data_dir, int create, uint8_t key[MASTER_KEY_LEN], bs_err *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/master.key", data_dir);
    FILE *f = fopen(path, "rb");
    if (f) {
        size_t n = fread(key, 1, MASTER_KEY_LEN, f);
        fclose(f);
        return n == MASTER_KEY_LEN ? 1 : bs_err_set(err, 500, "config/invalid", "%s is damaged", path);
    }
    if (errno != ENOENT) return bs_err_set(err, 500, "config/invalid", "cannot read %s", path);
    if (!create) return 0;
    if (crypto_random_bytes(key, MASTER_KEY_LEN) < 0) return bs_err_internal(err);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || write(fd, key, MASTER_KEY_LEN) != (ssize_t)MASTER_KEY_LEN) {
        if (fd >= 0) close(fd);
        return bs_err_set(err, 500, "config/invalid", "cannot write %s", path);
    }
    close(fd);
    return 1;
}
