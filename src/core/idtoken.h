/* idtoken: OpenID Connect ID tokens signed with RS256 (Google's sign-in for native apps, client-api.md
 * §3.5): the signature is checked against the provider's JWKS (JSON Web Key Set) document, then iss,
 * aud and exp. Pure functions over caller memory; OpenSSL does the RSA. */
#ifndef BASALT_CORE_IDTOKEN_H
#define BASALT_CORE_IDTOKEN_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* The claims (a new reference) of jwt when it is an RS256 token signed by a key of jwks (JSON text), issued
 * by one of issuers, for one of audiences (space-separated client ids), unexpired at now (Unix seconds,
 * 60 s of skew allowed). NULL with 401 auth/google-id-token-invalid otherwise (the message says why);
 * *unknown_kid = 1 when only the key id was not found (refetch the keys and try again). */
struct json_object *idtoken_verify(const char *jwt, const char *jwks, const char *const *issuers, size_t nissuers,
                                   const char *audiences, int64_t now, int *unknown_kid, bs_err *err);

#endif
