/* hash: fast non-cryptographic hashing (xxHash's XXH3, from Debian's libxxhash) for hash tables and for
 * validators such as ETags, where SHA-256 cost 4 us per 7 KB list answer and nothing adversarial is at stake: a collision
 * could only make one client keep one stale copy of data it is allowed to read. Never use it for
 * secrets, keys or signatures (util/crypto). */
#ifndef BASALT_UTIL_HASH_H
#define BASALT_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH128_HEX 33   /* 32 hex digits + NUL */

/* The 128-bit XXH3 hash of data as 32 lowercase hex digits. */
void hash128_hex(const void *data, size_t len, char out[HASH128_HEX]);

/* The 64-bit XXH3 hash of data, or of the NUL-terminated s (NULL hashes as ""), for hash tables: the
 * only table hash in src/ (take it modulo the table size). */
uint64_t hash64(const void *data, size_t len);
uint64_t hash64_str(const char *s);
/* hash64_str with a seed: a key of several parts hashes as hash64_str_seeded(b, hash64_str(a)), a key
 * scoped to a number (a window, a generation) as hash64_str_seeded(key, (uint64_t)n). */
uint64_t hash64_str_seeded(const char *s, uint64_t seed);

#endif
