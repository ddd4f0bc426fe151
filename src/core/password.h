/* password: end users' passwords (client-api.md §3.15). Hashes are Argon2id through libsodium in its
 * self-describing string form ("$argon2id$v=19$m=19456,t=2,p=1$..."), so the cost can change later
 * without breaking stored hashes (verification reads the parameters from the hash). The default cost is
 * OWASP's minimum for Argon2id: 19 MiB of memory, 2 passes, 1 lane (BENCHMARKS.md has the sign-in rate).
 * The policy defaults to the spec's recommendation: 6 to 128 characters, no class requirements.
 * Pure functions; thread-safe after password_init. */
#ifndef BASALT_CORE_PASSWORD_H
#define BASALT_CORE_PASSWORD_H

#include <stddef.h>

#include "util/err.h"

#define PASSWORD_HASH_MAX 128   /* crypto_pwhash_STRBYTES */
#define PASSWORD_MAX_BYTES 1024 /* longer input is refused before hashing (cost is per byte too) */

typedef struct password_policy {
    int min_length, max_length;          /* in characters (UTF-8 code points) */
    int require_upper, require_lower, require_digit, require_special;
} password_policy;

/* 0, or -1 with err when libsodium cannot start. Call once before the other functions. */
int password_init(bs_err *err);
password_policy password_policy_default(void);

/* 0 when the password satisfies the policy; else 400 auth/invalid-password-format (not a string of
 * acceptable length/characters) or 400 auth/weak-password (a class requirement unmet). */
int password_check(const password_policy *p, const char *password, size_t len, bs_err *err);

/* Hashes password into out (NUL-terminated). -1 with 500 when out of memory. */
int password_hash(const char *password, size_t len, char out[PASSWORD_HASH_MAX], bs_err *err);
/* 1 when password matches hash, 0 when not (or the hash is malformed). */
int password_verify(const char *hash, const char *password, size_t len);
/* Burns the time of one verification, so that an unknown e-mail costs what a wrong password costs. */
void password_verify_dummy(const char *password, size_t len);

#endif
