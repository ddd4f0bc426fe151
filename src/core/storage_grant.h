/* storage_grant: the signed storage URLs of the files surface (client-api.md §4.3, api/v1/files/storage.h):
 * <public-url>/storage/<key> with, for uploads (PUT) and private downloads (GET), the grant in the query:
 * expires (Unix seconds), size (bytes, 0 = any up to the type's limit), type, by (the user who asked, ""
 * for the secret key), vis, upload and part (multipart), and signature = base64url(HMAC-SHA256(signing
 * key, the method and those values, newline-separated)). The signing key is derived from DATA/master.key,
 * so every instance sharing it accepts the others' URLs. Stateless; thread-safe. */
#ifndef BASALT_CORE_STORAGE_GRANT_H
#define BASALT_CORE_STORAGE_GRANT_H

#include <stdint.h>

#include "util/strbuf.h"

#define STORAGE_GRANT_KEY_LEN 32

/* What a signed storage URL carries. */
typedef struct storage_grant {
    const char *method;          /* "PUT" or "GET" */
    const char *key;
    int64_t expires;             /* Unix seconds */
    uint64_t size;               /* 0 = any (up to the type's limit) */
    const char *type, *by, *vis; /* "" when not part of the grant */
    const char *upload;          /* multipart upload id, "" for a whole object */
    int part;                    /* 1..10000 with upload, else 0 */
} storage_grant;

/* Appends <public_url>/storage/<key> and, when g is not NULL, the signed query of g; -1 when out overflowed. */
int storage_grant_url(const char *public_url, const uint8_t signing_key[STORAGE_GRANT_KEY_LEN], const char *key, const storage_grant *g,
                      strbuf *out);
/* 1 when sig is g's signature (compared in constant time). */
int storage_grant_valid(const uint8_t signing_key[STORAGE_GRANT_KEY_LEN], const storage_grant *g, const char *sig);

#endif
