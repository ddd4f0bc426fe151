#include "core/keyauth.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/keys.h"
#include "util/clock.h"

#define KEYAUTH_SLOTS 4096   /* direct-mapped by the (uniformly random) key hash */
#define KEYAUTH_LOCKS 64

typedef struct cache_slot {
    char hash[STORE_HASH_HEX];
    int64_t fetched_us;      /* monotonic; 0 = empty */
    int found;
    store_key_context ctx;
} cache_slot;

struct keyauth {
    store_control *store;
    int64_t ttl_us;
    pthread_mutex_t locks[KEYAUTH_LOCKS];
    cache_slot *slots;
};

keyauth *keyauth_new(store_control *store, int ttl_ms)
{
    keyauth *ka = calloc(1, sizeof *ka);
    if (!ka) return NULL;
    ka->slots = calloc(KEYAUTH_SLOTS, sizeof *ka->slots);
    if (!ka->slots) { free(ka); return NULL; }
    ka->store = store;
    ka->ttl_us = (int64_t)(ttl_ms > 0 ? ttl_ms : KEYAUTH_DEFAULT_TTL_MS) * 1000;
    for (int i = 0; i < KEYAUTH_LOCKS; i++) pthread_mutex_init(&ka->locks[i], NULL);
    return ka;
}

void keyauth_free(keyauth *ka)
{
    if (!ka) return;
    for (int i = 0; i < KEYAUTH_LOCKS; i++) pthread_mutex_destroy(&ka->locks[i]);
    free(ka->slots);
    free(ka);
}

static size_t slot_of(const char *hash_hex)
{
    size_t v = 0;
    for (int i = 0; i < 6; i++) {
        char c = hash_hex[i];
        v = v * 16 + (size_t)(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    return v % KEYAUTH_SLOTS;
}

/* 1 when a fresh entry was copied out. */
static int cache_get(keyauth *ka, const char *hash, store_key_context *out, int *found)
{
    size_t s = slot_of(hash);
    pthread_mutex_t *lock = &ka->locks[s % KEYAUTH_LOCKS];
    int hit = 0;
    pthread_mutex_lock(lock);
    cache_slot *slot = &ka->slots[s];
    if (slot->fetched_us && strcmp(slot->hash, hash) == 0 && clock_mono_us() - slot->fetched_us < ka->ttl_us) {
        *found = slot->found;
        if (slot->found) *out = slot->ctx;
        hit = 1;
    }
    pthread_mutex_unlock(lock);
    return hit;
}

static void cache_put(keyauth *ka, const char *hash, const store_key_context *ctx, int found)
{
    size_t s = slot_of(hash);
    pthread_mutex_t *lock = &ka->locks[s % KEYAUTH_LOCKS];
    pthread_mutex_lock(lock);
    cache_slot *slot = &ka->slots[s];
    memcpy(slot->hash, hash, STORE_HASH_HEX);
    slot->fetched_us = clock_mono_us();
    slot->found = found;
    if (found) slot->ctx = *ctx;
    pthread_mutex_unlock(lock);
}

void keyauth_forget(keyauth *ka, const char *hash_hex)
{
    size_t s = slot_of(hash_hex);
    pthread_mutex_lock(&ka->locks[s % KEYAUTH_LOCKS]);
    if (strcmp(ka->slots[s].hash, hash_hex) == 0) ka->slots[s].fetched_us = 0;
    pthread_mutex_unlock(&ka->locks[s % KEYAUTH_LOCKS]);
}

void keyauth_forget_org(keyauth *ka, const char *org_id)
{
    for (size_t s = 0; s < KEYAUTH_SLOTS; s++) {
        pthread_mutex_lock(&ka->locks[s % KEYAUTH_LOCKS]);
        cache_slot *slot = &ka->slots[s];
        if (slot->fetched_us && slot->found && strcmp(slot->ctx.organization_id, org_id) == 0) slot->fetched_us = 0;
        pthread_mutex_unlock(&ka->locks[s % KEYAUTH_LOCKS]);
    }
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
    int found = 0;
    if (!cache_get(ka, hash, out, &found)) {
        if (store_control_key_lookup(ka->store, hash, out, &found, err) < 0) return -1;
        cache_put(ka, hash, out, found);
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
