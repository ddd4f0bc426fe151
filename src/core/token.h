/* token: HS256 JSON Web Tokens (RFC 7519 / RFC 7515 compact form) for end users' access and refresh
 * tokens (client-api.md §3.1), shared by the data API (who is calling) and the auth service (issuing).
 * Header is always {"alg":"HS256","typ":"JWT"}; the payload carries the claims of token_claims.
 * Invariants: verification accepts nothing but HS256 with the given secret (no "none", no other alg,
 * no alg taken from the token to pick a key), compares the MAC in constant time, reads base64url
 * without padding in its canonical form only, parses both JSON parts strictly (util/json.h: duplicate
 * keys refused), and bounds every length. Pure functions over caller memory: nothing is kept, the
 * caller owns the claims, the secret and the output buffer. */
#ifndef BASALT_CORE_TOKEN_H
#define BASALT_CORE_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "util/strbuf.h"

#define TOKEN_MAX_LEN 8192          /* bytes of a whole compact JWT; longer ones are refused unread */
#define TOKEN_SECRET_MIN 32         /* RFC 7518 §3.2: an HS256 key has at least 256 bits */
#define TOKEN_SECRET_MAX 1024
#define TOKEN_CLOCK_SKEW 60         /* seconds an iat may lie in the future (issuer clock ahead) */
#define TOKEN_TIME_MAX 253402300799 /* 9999-12-31T23:59:59Z; iat and exp above are refused */

#define TOKEN_SUB_MAX 65   /* 64 bytes + NUL */
#define TOKEN_ROLE_MAX 16
#define TOKEN_JTI_MAX 65
#define TOKEN_ENV_MAX 64
#define TOKEN_PID_MAX 64
#define TOKEN_TYP_MAX 16

/* The claims Basalt signs. All strings are NUL-terminated printable ASCII (0x20..0x7e) within their
 * arrays. sub is required (non-empty); the other strings are optional, "" meaning absent (not
 * written when signing, "" after verifying a token without them). role is "", "admin", "user" or
 * "guest"; typ is "", "access" or "refresh". iat and exp are Unix seconds, 0 <= iat < exp <= TOKEN_TIME_MAX. */
typedef struct token_claims {
    char sub[TOKEN_SUB_MAX];   /* user id */
    char role[TOKEN_ROLE_MAX];
    char jti[TOKEN_JTI_MAX];   /* session id */
    char env[TOKEN_ENV_MAX];   /* environment the token is bound to */
    char pid[TOKEN_PID_MAX];   /* project the token is bound to */
    char typ[TOKEN_TYP_MAX];   /* "access" | "refresh" */
    int64_t iat, exp;
} token_claims;

/* Appends the compact JWT for c, signed with secret (TOKEN_SECRET_MIN..TOKEN_SECRET_MAX bytes), to out.
 * Payload members in this order, the empty optional strings left out:
 *   {"sub":..,"role":..,"jti":..,"iat":N,"exp":N,"pid":..,"env":..,"typ":..}
 * 0, or -1 with 500 common/internal-error (claims or secret outside the rules above, out full) and out
 * left as it was. */
int token_sign(const token_claims *c, const uint8_t *secret, size_t secret_len, strbuf *out, bs_err *err);

/* Checks jwt[0..len) against secret at time now (Unix seconds) and fills *out with its claims.
 * 0 when the token is well-formed, signed with secret, and current. Otherwise -1, *out zeroed, and
 *   401 auth/token-expired   signature good but exp <= now;
 *   401 auth/invalid-token   anything else (malformed, wrong alg or key, iat more than
 *                            TOKEN_CLOCK_SKEW in the future, claims of the wrong type or size);
 *   500 common/internal-error when the secret itself is outside the allowed length.
 * Claims are checked only after the signature, so nothing about an unsigned payload is reported.
 * Members not listed in token_claims are ignored in the payload; the header may hold only alg and typ.
 * The caller still checks typ (access vs refresh), pid/env against the request and jti revocation. */
int token_verify(const char *jwt, size_t len, const uint8_t *secret, size_t secret_len, int64_t now,
                 token_claims *out, bs_err *err);

#endif
