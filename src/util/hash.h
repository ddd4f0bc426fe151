/* hash: fast non-cryptographic hashing (xxHash's XXH3, from Debian's libxxhash) for validators such as
 * ETags, where SHA-256 cost 4 us per 7 KB list answer and nothing adversarial is at stake: a collision
 * could only make one client keep one stale copy of data it is allowed to read. Never use it for
 * secrets, keys or signatures (util/crypto). */
#ifndef BASALT_UTIL_HASH_H
#define BASALT_UTIL_HASH_H

#include <stddef.h>

#define HASH128_HEX 33   /* 32 hex digits + NUL */

/* The 128-bit XXH3 hash of data as 32 lowercase hex digits. */
void hash128_hex(const void *data, size_t len, char out[HASH128_HEX]);

#endif
