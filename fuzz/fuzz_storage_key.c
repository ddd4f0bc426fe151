/* libFuzzer target: storage object keys (store/blobs.h store_blob_key_valid, api/storage.h
 * api_storage_key_env) and the filesystem driver's use of them. scripts/fuzz.sh storage_key SECONDS.
 *
 * The input is a key as it arrives in /storage/<key>. The validator must agree with the documented rule,
 * checked here independently: segments of [A-Za-z0-9._-], none empty or starting with '.', joined by
 * '/', at most STORE_BLOB_KEY_MAX bytes. The environment prefix, when found, is the first segment and
 * starts with env_. A stat through the filesystem driver (under a scratch directory) must answer "not
 * found" for a valid key and 400 file/invalid-path for any other, never reach outside its directory. */
#include "scratch_dir.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/v1/files/storage.h"
#include "store/blobs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int documented_rule(const char *key, size_t n)
{
    if (n == 0 || n > STORE_BLOB_KEY_MAX) return 0;
    for (size_t i = 0, start = 0; i <= n; i++) {
        if (i < n && key[i] != '/') {
            char c = key[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
                return 0;
            continue;
        }
        if (i == start || key[start] == '.') return 0;
        start = i + 1;
    }
    return 1;
}

static store_blobs *blobs_get(void)
{
    static store_blobs *b;
    if (b) return b;
    bs_err err;
    if (!(b = store_blobs_fs_new(scratch_dir("keys"), &err))) abort();
    return b;
}

static void check_env(const char *key, int valid)
{
    char env[40];
    if (api_storage_key_env(key, env, sizeof env) < 0) return;
    size_t n = strlen(env);
    if (strncmp(env, "env_", 4) || strncmp(key, env, n) || key[n] != '/') abort();
    if (valid && strchr(env, '/')) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (memchr(data, '\0', size)) return 0;
    char *key = malloc(size + 1);
    if (!key) abort();
    if (size) memcpy(key, data, size);
    key[size] = '\0';
    int valid = store_blob_key_valid(key);
    if (valid != documented_rule(key, size)) abort();
    check_env(key, valid);
    store_blob_info info;
    int found = -1;
    bs_err err;
    bs_err_clear(&err);
    int rc = store_blobs_stat(blobs_get(), key, &info, &found, &err);
    if (valid ? rc != 0 || found : rc == 0 || err.status != 400 || strcmp(err.code, "file/invalid-path")) abort();
    free(key);
    return 0;
}
