#include "core/userauth.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/crypto.h"
#include "util/hash.h"
#include "util/json.h"

#define USERAUTH_SLOTS 256   /* environments whose secret is kept; direct-mapped by id */

typedef struct secret_slot {
    char env_id[64];
    uint8_t secret[STORE_ENV_SECRET_LEN];
} secret_slot;

struct userauth {
    store_control *store;
    pthread_mutex_t lock;
    secret_slot slots[USERAUTH_SLOTS];
};

userauth *userauth_new(store_control *store)
{
    userauth *ua = calloc(1, sizeof *ua);
    if (!ua) return NULL;
    ua->store = store;
    pthread_mutex_init(&ua->lock, NULL);
    return ua;
}

void userauth_free(userauth *ua)
{
    if (!ua) return;
    pthread_mutex_destroy(&ua->lock);
    free(ua);
}

static secret_slot *slot_of(userauth *ua, const char *env_id)
{
    return &ua->slots[hash64_str(env_id) % USERAUTH_SLOTS];
}

static int env_secret(userauth *ua, const char *env_id, uint8_t out[STORE_ENV_SECRET_LEN], bs_err *err)
{
    if (strlen(env_id) >= sizeof ua->slots[0].env_id) return bs_err_set(err, 401, "auth/invalid-token", "Invalid token");
    secret_slot *slot = slot_of(ua, env_id);
    pthread_mutex_lock(&ua->lock);
    int hit = strcmp(slot->env_id, env_id) == 0;
    if (hit) memcpy(out, slot->secret, STORE_ENV_SECRET_LEN);
    pthread_mutex_unlock(&ua->lock);
    if (hit) return 0;
    if (store_control_env_secret(ua->store, env_id, "jwt", out, err) < 0) return -1;
    pthread_mutex_lock(&ua->lock);
    snprintf(slot->env_id, sizeof slot->env_id, "%s", env_id);
    memcpy(slot->secret, out, STORE_ENV_SECRET_LEN);
    pthread_mutex_unlock(&ua->lock);
    return 0;
}

int userauth_sign(userauth *ua, const token_claims *claims, strbuf *out, bs_err *err)
{
    uint8_t secret[STORE_ENV_SECRET_LEN];
    if (!claims->env[0] || !claims->pid[0]) return bs_err_set(err, 500, "common/internal-error", "token without environment");
    if (env_secret(ua, claims->env, secret, err) < 0) return -1;
    return token_sign(claims, secret, sizeof secret, out, err);
}

/* The env claim of a token, read without checking anything (only to pick the key to check it with). */
static int peek_env(const char *jwt, char env[TOKEN_ENV_MAX])
{
    const char *p = strchr(jwt, '.'), *q = p ? strchr(p + 1, '.') : NULL;
    size_t len = q ? (size_t)(q - p - 1) : 0;
    if (!q || len == 0 || len > TOKEN_MAX_LEN) return -1;
    uint8_t raw[TOKEN_MAX_LEN];
    long n = crypto_base64url_decode_bounded(p + 1, len, raw, sizeof raw);
    bs_err ignored;
    struct json_object *claims = n > 0 ? json_parse_strict((const char *)raw, (size_t)n, NULL, NULL, &ignored) : NULL;
    const char *e = json_get_string(claims, "env");
    int ok = e && strlen(e) < TOKEN_ENV_MAX;
    if (ok) snprintf(env, TOKEN_ENV_MAX, "%s", e);
    json_object_put(claims);
    return ok ? 0 : -1;
}

/* A token that fails here but is genuinely signed for another environment is that environment's user
 * knocking on the wrong door: 403 data/project-access-denied (client-api.md §1.3). */
static int other_environment(userauth *ua, const char *env_id, const char *jwt, int64_t now)
{
    char env[TOKEN_ENV_MAX];
    uint8_t secret[STORE_ENV_SECRET_LEN];
    token_claims claims;
    bs_err ignored;
    store_env known;
    int found = 0;
    if (peek_env(jwt, env) < 0 || strcmp(env, env_id) == 0 ||
        store_control_env_get(ua->store, env, &known, &found, &ignored) < 0 || !found ||
        env_secret(ua, env, secret, &ignored) < 0)
        return 0;
    return token_verify(jwt, strlen(jwt), secret, sizeof secret, now, &claims, &ignored) == 0 && strcmp(claims.env, env) == 0;
}

int userauth_verify(userauth *ua, const char *env_id, const char *project_id, const char *jwt, int64_t now,
                    token_claims *out, bs_err *err)
{
    uint8_t secret[STORE_ENV_SECRET_LEN];
    if (env_secret(ua, env_id, secret, err) < 0) return -1;
    if (token_verify(jwt, strlen(jwt), secret, sizeof secret, now, out, err) < 0) {
        if (err->status == 401 && other_environment(ua, env_id, jwt, now))
            return bs_err_set(err, 403, "data/project-access-denied", "The token belongs to another project or environment");
        return -1;
    }
    if (strcmp(out->env, env_id) != 0 || strcmp(out->pid, project_id) != 0)
        return bs_err_set(err, 403, "data/project-access-denied", "The token belongs to another project or environment");
    if (strcmp(out->typ, "access") != 0)
        return bs_err_set(err, 401, "auth/invalid-token", "Not an access token");
    return 0;
}
