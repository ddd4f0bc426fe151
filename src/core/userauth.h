/* userauth: end users' bearer tokens for one environment (client-api.md §1.4, §3.1). Signs and checks
 * HS256 JWTs (core/token) with the environment's "jwt" secret from the control store, which is
 * fetched once per environment and kept (secrets do not change while the server runs; rotation will
 * add userauth_forget). A token is accepted only for the environment and project it was issued for.
 * Ownership: userauth_new borrows the store, which must outlive it. Thread-safe. */
#ifndef BASALT_CORE_USERAUTH_H
#define BASALT_CORE_USERAUTH_H

#include "core/token.h"
#include "store/control.h"
#include "util/err.h"
#include "util/strbuf.h"

#define USERAUTH_ACCESS_TTL 3600   /* seconds: client-api.md §3.1 */

typedef struct userauth userauth;

userauth *userauth_new(store_control *store);
void userauth_free(userauth *ua);

/* Signs claims (their env and pid must be set) with the environment's secret; the token appended to out. */
int userauth_sign(userauth *ua, const token_claims *claims, strbuf *out, bs_err *err);

/* Checks an access token presented to env_id of project_id at time now (Unix seconds). 0 and *out
 * filled, or -1 with 401 auth/invalid-token (malformed, forged, another environment's, a refresh
 * token) or 401 auth/token-expired. */
int userauth_verify(userauth *ua, const char *env_id, const char *project_id, const char *jwt, int64_t now,
                    token_claims *out, bs_err *err);

#endif
