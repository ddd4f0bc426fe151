/* decode_guard.h: makes the writes of library decoders visible to AddressSanitizer.
 *
 * OpenSSL and libsodium are not instrumented, so ASan does not see them write past a caller's buffer
 * (issue 11 #1: EVP_DecodeBlock wrote 1,050 bytes into a 1,024-byte stack buffer and nothing noticed in
 * the sanitizer build). A program that includes this header defines the decoders itself; the dynamic
 * linker then sends Basalt's calls here (the executable's definition wins over the shared library's).
 * Each interposer lets the real decoder fill a heap scratch buffer, then writes the caller's buffer with
 * memset/memcpy, which ASan checks: the whole capacity the caller claims, and every byte produced.
 *
 * For tests and fuzz targets only. Include it first (it needs _GNU_SOURCE for RTLD_NEXT). */
#ifndef BASALT_TESTS_DECODE_GUARD_H
#define BASALT_TESTS_DECODE_GUARD_H

#define _GNU_SOURCE
#include <dlfcn.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void *decode_guard_real(const char *name)
{
    void *fn = dlsym(RTLD_NEXT, name);
    if (!fn) abort();
    return fn;
}

int EVP_DecodeBlock(unsigned char *t, const unsigned char *f, int n)
{
    int (*real)(unsigned char *, const unsigned char *, int) = decode_guard_real("EVP_DecodeBlock");
    size_t cap = n > 0 ? (size_t)n / 4 * 3 + 3 : 1;
    unsigned char *tmp = malloc(cap);
    if (!tmp) abort();
    int r = real(tmp, f, n);
    if (r > 0) memcpy(t, tmp, (size_t)r);
    free(tmp);
    return r;
}

int sodium_base642bin(unsigned char *const bin, const size_t bin_maxlen, const char *const b64, const size_t b64_len,
                      const char *const ignore, size_t *const bin_len, const char **const b64_end, const int variant)
{
    int (*real)(unsigned char *, size_t, const char *, size_t, const char *, size_t *, const char **, int) =
        decode_guard_real("sodium_base642bin");
    unsigned char *tmp = malloc(bin_maxlen ? bin_maxlen : 1);
    if (!tmp) abort();
    size_t n = 0;
    int r = real(tmp, bin_maxlen, b64, b64_len, ignore, &n, b64_end, variant);
    if (bin_maxlen) memset(bin, 0xa5, bin_maxlen); /* the caller promised this much room */
    if (n) memcpy(bin, tmp, n);
    if (bin_len) *bin_len = n;
    free(tmp);
    return r;
}

#endif
