/* totp: RFC 6238 time-based one-time passwords (6 digits, 30 s, HMAC-SHA-1: what Google Authenticator
 * and Authy use) over RFC 4648 base32 secrets, for MFA (client-api.md §3.9). Pure functions. */
#ifndef BASALT_CORE_TOTP_H
#define BASALT_CORE_TOTP_H

#include <stddef.h>
#include <stdint.h>

#define TOTP_SECRET_BYTES 20
#define TOTP_SECRET_B32 33      /* 32 base32 characters + NUL */
#define TOTP_PERIOD 30
#define TOTP_DIGITS 6

/* A new random secret, base32 without padding. 0, or -1 when the CSPRNG fails. */
int totp_secret_new(char out[TOTP_SECRET_B32]);
/* The code of the time step `step` (unix time / 30) into out (7 bytes). -1 on a malformed secret. */
int totp_code_at(const char *secret_b32, int64_t step, char out[TOTP_DIGITS + 1]);
/* The step (unix / 30) whose code equals code, searching now's step and `window` steps either side,
 * only steps after `after_step` (replay protection); -1 when none matches. */
int64_t totp_match(const char *secret_b32, const char *code, int64_t now, int window, int64_t after_step);

#endif
