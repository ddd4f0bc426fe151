#include "util/hash.h"

#include <stdio.h>
#include <xxhash.h>

void hash128_hex(const void *data, size_t len, char out[HASH128_HEX])
{
    XXH128_hash_t h = XXH3_128bits(data, len);
    snprintf(out, HASH128_HEX, "%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
}
