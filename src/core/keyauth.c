#include "core/keyauth.h"

#include <stdlib.h>
#include <string.h>

#include "core/keys.h"
#include "util/cache.h"
#include "util/clock.h"

#define KEYAUTH_SLOTS 4096   /* direct-mapped by a hash of the key's SHA-256 */
#define KEYAUTH_LOCKS 64

/* A cached lookup: unknown keys are cached too (found = 0). */
typedef struct cached_key {
    int found;
    store_key_context ctx;
} cached_key;

struct keyauth {
    store_control *store;
    cache *keys; /* SHA-256 hex -> cached_key */
};

keyauth *keyauth_new(store_control *store, int ttl_ms)
{
    keyauth *ka = calloc(1, sizeof *ka);
    if (!ka) return NULL;
    int64_t ttl_us = (int64_t)(ttl_ms > 0 ? ttl_ms : KEYAUTH_DEFAULT_TTL_MS) * 1000;
    ka->keys = cache_new(KEYAUTH_SLOTS, KEYAUTH_LOCKS, sizeof(cached_key), ttl_us, NULL);
    if (!ka->keys) {
        free(ka);
        return NULL;
    }
    ka->store = store;
    return ka;
}

void keyauth_free(keyauth *ka)
{
    if (!ka) return;
    cache_free(ka->keys);
    free(ka);
}

void keyauth_forget(keyauth *ka, const char *hash_hex)
{
    cache_invalidate(ka->keys, hash_hex);
}

static int of_org(const char *key, const void *value, void *org_id)
{
    const cached_key *k = value;
    (void)key;
    return k->found && strcmp(k->ctx.organization_id, org_id) == 0;
}

void keyauth_forget_org(keyauth *ka, const char *org_id)
{
    cache_invalidate_if(ka->keys, of_org, (void *)org_id);
}

static int of_env(const char *key, const void *value, void *env_id)
{
    const cached_key *k = value;
    (void)key;
    return k->found && strcmp(k->ctx.environment_id, env_id) == 0;
}

void keyauth_forget_env(keyauth *ka, const char *env_id)
{
    cache_invalidate_if(ka->keys, of_env, (void *)env_id);
}

static int any(const char *key, const void *value, void *arg)
{
    (void)key, (void)value, (void)arg;
    return 1;
}

void keyauth_forget_all(keyauth *ka)
{
    cache_invalidate_if(ka->keys, any, NULL);
}

/* A cache reader: whether the key was found, with its context copied to out when it was. */
static int read_cached(const void *value, void *out)
{
    const cached_key *k = value;
    if (k->found) *(store_key_context *)out = k->ctx;
    return k->found;
}

static int check_usable(const store_key_context *ctx, bs_err *err)
{
    if (ctx->revoked_at) return bs_err_set(err, 401, "auth/invalid-api-key", "API key has been revoked");
    if (ctx->expires_at && ctx->expires_at <= clock_now_ms())
        return bs_err_set(err, 401, "auth/invalid-api-key", "API key has expired");
    if (!ctx->environment_exists)
        return bs_err_set(err, 404, "data/environment-not-found", "The key's environment no longer exists");
    if (strcmp(ctx->organization_status, "suspended") == 0)
        return bs_err_set(err, 403, "org/suspended", "The organization is suspended");
    return 0;
}

int keyauth_verify(keyauth *ka, const char *presented, store_key_context *out, bs_err *err)
{
    if (!presented || !*presented) return bs_err_set(err, 401, "data/invalid-header", "The X-API-Key header is required");
    keys_kind kind = keys_classify(presented);
    if (kind != KEYS_PUBLISHABLE && kind != KEYS_SECRET)
        return bs_err_set(err, 401, "auth/invalid-api-key", "API key is malformed: expected pk_ or sk_ and 64 hex digits");
    char hash[STORE_HASH_HEX];
    keys_hash(presented, hash);
    int found = cache_read(ka->keys, hash, clock_mono_us(), read_cached, out);
    if (found < 0) {
        cached_key k;
        memset(&k, 0, sizeof k);
        if (store_control_key_lookup(ka->store, hash, &k.ctx, &k.found, err) < 0) return -1;
        if (k.found) *out = k.ctx;
        found = k.found;
        cache_put(ka->keys, hash, clock_mono_us(), &k);
    }
    if (!found) return bs_err_set(err, 401, "auth/invalid-api-key", "API key is not recognised");
    return check_usable(out, err);
}

int keyauth_verify_operator(keyauth *ka, const char *presented, store_token_context *out, bs_err *err)
{
    if (!presented || !*presented) return bs_err_set(err, 401, "auth/unauthorized", "An operator token is required");
    if (keys_classify(presented) != KEYS_OPERATOR)
        return bs_err_set(err, 401, "auth/unauthorized", "Operator token is malformed");
    char hash[STORE_HASH_HEX];
    keys_hash(presented, hash);
    int found = 0;
    if (store_control_token_lookup(ka->store, hash, out, &found, err) < 0) return -1;
    if (!found) return bs_err_set(err, 401, "auth/unauthorized", "Operator token is not recognised");
    if (out->revoked_at) return bs_err_set(err, 401, "auth/unauthorized", "Operator token has been revoked");
    if (out->expires_at && out->expires_at <= clock_now_ms())
        return bs_err_set(err, 401, "auth/unauthorized", "Operator token has expired");
    return 0;
}
