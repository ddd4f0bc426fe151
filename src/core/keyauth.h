/* keyauth: turns a presented X-API-Key into the tenant context of a /v1 request, and an operator token
 * into its organization and role. Verification order (platform.md §10.1): format → SHA-256 → lookup →
 * revoked / expired / environment gone / organization suspended.
 * Lookups are cached per key hash for at most ttl_ms (default 1000), so most requests need no database
 * round trip; unknown keys are cached too, so random keys cannot hammer the store. The keyauth_forget*
 * functions drop entries at once; they are called through core/fleet_bus, which with --redis applies
 * them on every instance of the fleet before the management call answers (ttl_ms then only bounds
 * staleness while Redis is unreachable).
 * Ownership: keyauth_new borrows the store, which must outlive it. Thread-safe. */
#ifndef BASALT_CORE_KEYAUTH_H
#define BASALT_CORE_KEYAUTH_H

#include "store/control.h"
#include "util/err.h"

#define KEYAUTH_DEFAULT_TTL_MS 1000

typedef struct keyauth keyauth;

keyauth *keyauth_new(store_control *store, int ttl_ms);
void keyauth_free(keyauth *ka);

/* 0 and *out filled for a usable key; -1 with err as the client must see it:
 * 401 data/invalid-header (absent), 401 auth/invalid-api-key (malformed, unknown, revoked, expired),
 * 404 data/environment-not-found, 403 org/suspended, 500 on store failure. */
int keyauth_verify(keyauth *ka, const char *presented, store_key_context *out, bs_err *err);
/* Same for an operator token "bt_...": 401 auth/unauthorized on anything wrong. */
int keyauth_verify_operator(keyauth *ka, const char *presented, store_token_context *out, bs_err *err);
/* Drops a cached key (by its SHA-256 hex), e.g. right after revoking it. */
void keyauth_forget(keyauth *ka, const char *hash_hex);
/* Drops every cached key of an organization (its plan, quotas or status changed: they come with the context). */
void keyauth_forget_org(keyauth *ka, const char *org_id);
/* Drops every cached key of an environment (it is being deleted). */
void keyauth_forget_env(keyauth *ka, const char *env_id);
/* Drops every cached key (the fleet bus may have missed a message). */
void keyauth_forget_all(keyauth *ka);

#endif
