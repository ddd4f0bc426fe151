/* libFuzzer target: Google ID-token verification (core/idtoken.h). scripts/fuzz.sh idtoken SECONDS.
 *
 * The first byte picks what the rest is:
 *   0 mod 3: a whole token, checked against this target's published key set (one RSA key, kid "k1");
 *   1 mod 3: "header\nclaims" as JSON text, which the target encodes and signs with that key, so the
 *            fuzzer reaches the claim checks behind the signature;
 *   2 mod 3: "jwks\ntoken": a key set of the fuzzer's making and a token checked against it.
 * A verified token must give claims with sub and email strings; a refusal must be 401
 * auth/google-id-token-invalid. decode_guard.h makes the base64 decoders' writes visible to ASan. */
#include "decode_guard.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/idtoken.h"
#include "util/crypto.h"
#include "util/json.h"
#include "util/strbuf.h"

#define NOW 1700000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const issuers[] = {"https://accounts.google.com", "accounts.google.com"};
static EVP_PKEY *key;
static char jwks[1024];

static void b64_param(const char *name, char *out)
{
    BIGNUM *bn = NULL;
    uint8_t bytes[256];
    if (EVP_PKEY_get_bn_param(key, name, &bn) != 1 || BN_num_bytes(bn) > (int)sizeof bytes) abort();
    crypto_base64url_encode(bytes, (size_t)BN_bn2bin(bn, bytes), out);
    BN_free(bn);
}

static void setup(void)
{
    char n[400], e[16];
    if (key) return;
    key = EVP_RSA_gen(1024); /* small: signing runs for every input of mode 1 */
    if (!key) abort();
    b64_param(OSSL_PKEY_PARAM_RSA_N, n);
    b64_param(OSSL_PKEY_PARAM_RSA_E, e);
    snprintf(jwks, sizeof jwks, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k1\",\"alg\":\"RS256\",\"n\":\"%s\",\"e\":\"%s\"}]}", n, e);
}

static void append_b64(strbuf *sb, const void *p, size_t n)
{
    char *enc = malloc((n + 2) / 3 * 4 + 1);
    if (!enc) abort();
    strbuf_append(sb, enc, crypto_base64url_encode(p, n, enc));
    free(enc);
}

/* base64url(header) "." base64url(claims) "." RS256 signature, into sb. */
static void sign(strbuf *sb, const uint8_t *header, size_t hn, const uint8_t *claims, size_t cn)
{
    append_b64(sb, header, hn);
    strbuf_append_char(sb, '.');
    append_b64(sb, claims, cn);
    uint8_t sig[256];
    size_t siglen = sizeof sig;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(md, sig, &siglen, (const uint8_t *)sb->data, sb->len) != 1)
        abort();
    EVP_MD_CTX_free(md);
    strbuf_append_char(sb, '.');
    append_b64(sb, sig, siglen);
}

static void verify(const char *jwt, const char *keys)
{
    bs_err err;
    bs_err_clear(&err);
    int unknown = 0;
    struct json_object *claims = idtoken_verify(jwt, keys, issuers, 2, "client.apps", NOW, &unknown, &err);
    if (claims) {
        if (!json_get_string(claims, "sub") || !json_get_string(claims, "email")) abort();
        json_object_put(claims);
    } else if (err.status != 401 || strcmp(err.code, "auth/google-id-token-invalid")) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || memchr(data, '\0', size)) return 0; /* both texts are C strings */
    setup();
    const uint8_t *rest = data + 1, *nl = memchr(rest, '\n', size - 1);
    size_t n = size - 1, first = nl ? (size_t)(nl - rest) : n;
    strbuf a, b;
    strbuf_init(&a, 0);
    strbuf_init(&b, 0);
    if (data[0] % 3 == 1 && nl) sign(&a, rest, first, nl + 1, n - first - 1);
    else if (data[0] % 3 == 2 && nl) {
        strbuf_append(&b, (const char *)rest, first);
        strbuf_append(&a, (const char *)nl + 1, n - first - 1);
    } else strbuf_append(&a, (const char *)rest, n);
    const char *keys = data[0] % 3 == 2 && nl ? (b.data ? b.data : "") : jwks;
    if (!a.overflow && !b.overflow) verify(a.data ? a.data : "", keys);
    strbuf_release(&a);
    strbuf_release(&b);
    return 0;
}
