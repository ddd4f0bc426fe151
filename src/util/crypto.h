/* crypto: the few primitives Basalt needs from OpenSSL, behind names that say what they are for.
 * All output buffers are caller-owned with the sizes given; nothing allocates. */
#ifndef BASALT_UTIL_CRYPTO_H
#define BASALT_UTIL_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_LEN 32
#define CRYPTO_SHA256_HEX 65 /* 64 hex characters + NUL */

/* Fills out with n bytes from the operating system's CSPRNG. 0, or -1 when it is unavailable. */
int crypto_random_bytes(void *out, size_t n);
/* Writes 2*n lowercase hex characters from the CSPRNG plus a NUL into out (2*n + 1 bytes). */
int crypto_random_hex(char *out, size_t n);
void crypto_sha256(const void *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN]);
void crypto_sha256_hex(const void *data, size_t len, char out[CRYPTO_SHA256_HEX]);
/* HMAC-SHA256 of data under key into mac. 0, or -1 when OpenSSL fails. */
int crypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t n, uint8_t mac[CRYPTO_SHA256_LEN]);
/* Compares in time that depends only on n. 1 when equal. */
int crypto_equal(const void *a, const void *b, size_t n);

/* Secrets at rest: AES-256-GCM under a 32-byte key; the sealed form is base64url(nonce | tag | ciphertext).
 * crypto_seal appends it to out; crypto_open appends the plaintext (-1 when the key is wrong or the text
 * was altered). Both need out to hold the result: sealed ≈ 4/3 (len + 28) + 4, opened ≤ the sealed length. */
#define CRYPTO_KEY_LEN 32
int crypto_seal(const uint8_t key[CRYPTO_KEY_LEN], const char *plain, size_t len, char *out, size_t out_size);
int crypto_open(const uint8_t key[CRYPTO_KEY_LEN], const char *sealed, char *out, size_t out_size);
void crypto_hex(const uint8_t *bytes, size_t n, char *out);
/* Base64url without padding (RFC 4648 §5). encode: out needs 4*ceil(n/3)+1 bytes; returns the length.
 * decode: writes at most cap bytes into out; returns the decoded length, or -1 when text is not canonical
 * unpadded base64url (other characters, '=', a length of 4k+1, or nonzero unused bits in the last
 * character) or its bytes do not fit in cap. */
size_t crypto_base64url_encode(const void *data, size_t n, char *out);
long crypto_base64url_decode_bounded(const char *text, size_t len, uint8_t *out, size_t cap);

#endif
