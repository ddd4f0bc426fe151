#include "util/hash.h"

#include <stdio.h>
#include <string.h>
#include <xxhash.h>

void hash128_hex(const void *data, size_t len, char out[HASH128_HEX])
{
    XXH128_hash_t h = XXH3_128bits(data, len);
    snprintf(out, HASH128_HEX, "%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
}

uint64_t hash64(const void *data, size_t len)
{
    return XXH3_64bits(data, len);
}

uint64_t hash64_str(const char *s)
{
    return hash64_str_seeded(s, 0);
}

uint64_t hash64_str_seeded(const char *s, uint64_t seed)
{
    s = s ? s : "";
    return XXH3_64bits_withSeed(s, strlen(s), seed);
}
