/* Unit tests of core/idtoken.h: RS256 ID tokens checked against a JWKS document. The tests make their own
 * RSA key, publish it as a JWKS and sign tokens with it (OpenSSL), so each case fails for the reason under
 * test. decode_guard.h makes the base64 decoders' writes visible to AddressSanitizer: an oversized part
 * decoded past a buffer aborts the test instead of passing unnoticed (issue 11 #1). */
#include "decode_guard.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/idtoken.h"
#include "util/crypto.h"
#include "util/strbuf.h"

#define KID "test-key-1"
#define AUDIENCE "web-client.apps"
#define NOW 1700000000
#define INVALID "auth/google-id-token-invalid"
#define CLAIMS "{\"iss\":\"https://accounts.google.com\",\"aud\":\"" AUDIENCE "\",\"sub\":\"g-1\"," \
               "\"email\":\"a@gmail.com\",\"exp\":1700003600}"

static const char *const issuers[] = {"https://accounts.google.com", "accounts.google.com"};
static EVP_PKEY *key;
static char jwks[2048];

/* base64url of a big number's bytes into out (cap characters). */
static void b64_param(const char *name, char *out, size_t cap)
{
    BIGNUM *bn = NULL;
    uint8_t bytes[512];
    assert_int_equal(EVP_PKEY_get_bn_param(key, name, &bn), 1);
    int n = BN_bn2bin(bn, bytes);
    assert_true(n > 0 && (size_t)n <= sizeof bytes && ((size_t)n + 2) / 3 * 4 < cap);
    crypto_base64url_encode(bytes, (size_t)n, out);
    BN_free(bn);
}

static int setup(void **state)
{
    key = EVP_RSA_gen(2048);
    assert_non_null(key);
    char n[400], e[16];
    b64_param(OSSL_PKEY_PARAM_RSA_N, n, sizeof n);
    b64_param(OSSL_PKEY_PARAM_RSA_E, e, sizeof e);
    snprintf(jwks, sizeof jwks, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"" KID "\",\"alg\":\"RS256\",\"n\":\"%s\",\"e\":\"%s\"}]}",
             n, e);
    return 0;
}

/* jwks for the current key into out. */
static void jwks_of_key(char *out, size_t cap)
{
    char n[700], e[16];
    b64_param(OSSL_PKEY_PARAM_RSA_N, n, sizeof n);
    b64_param(OSSL_PKEY_PARAM_RSA_E, e, sizeof e);
    snprintf(out, cap, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"" KID "\",\"alg\":\"RS256\",\"n\":\"%s\",\"e\":\"%s\"}]}", n, e);
}

static int teardown(void **state)
{
    EVP_PKEY_free(key);
    return 0;
}

static void append_b64(strbuf *sb, const void *data, size_t n)
{
    char *enc = malloc((n + 2) / 3 * 4 + 1);
    assert_non_null(enc);
    size_t len = crypto_base64url_encode(data, n, enc);
    assert_int_equal(strbuf_append(sb, enc, len), 0);
    free(enc);
}

/* header.claims.signature, signed with the test key; the caller releases sb. */
static void sign(strbuf *sb, const char *claims)
{
    static const char header[] = "{\"alg\":\"RS256\",\"kid\":\"" KID "\",\"typ\":\"JWT\"}";
    strbuf_init(sb, 0);
    append_b64(sb, header, sizeof header - 1);
    assert_int_equal(strbuf_append_char(sb, '.'), 0);
    append_b64(sb, claims, strlen(claims));
    uint8_t sig[512];
    size_t siglen = sizeof sig;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
    assert_int_equal(EVP_DigestSign(md, sig, &siglen, (const uint8_t *)sb->data, sb->len), 1);
    EVP_MD_CTX_free(md);
    assert_int_equal(strbuf_append_char(sb, '.'), 0);
    append_b64(sb, sig, siglen);
}

/* Verifies jwt against keys; returns the claims' sub (static) or NULL, with the error in *err. */
static const char *verify(const char *jwt, const char *keys, bs_err *err)
{
    static char sub[64];
    int unknown = 0;
    bs_err_clear(err);
    struct json_object *claims = idtoken_verify(jwt, keys, issuers, 2, AUDIENCE, NOW, &unknown, err);
    if (!claims) return NULL;
    struct json_object *v = NULL;
    json_object_object_get_ex(claims, "sub", &v);
    snprintf(sub, sizeof sub, "%s", json_object_get_string(v));
    json_object_put(claims);
    return sub;
}

static void expect_refused(const char *jwt, const char *keys, const char *why)
{
    bs_err err;
    assert_null(verify(jwt, keys, &err));
    assert_int_equal(err.status, 401);
    assert_string_equal(err.code, INVALID);
    if (why) assert_non_null(strstr(err.message, why));
}

static void test_signed_token_accepted(void **state)
{
    strbuf tok;
    sign(&tok, CLAIMS);
    bs_err err;
    assert_string_equal(verify(tok.data, jwks, &err), "g-1");
    tok.data[tok.len - 3] ^= 1; /* one character of the signature */
    expect_refused(tok.data, jwks, NULL);
    strbuf_release(&tok);
}

/* The signed part of a good token followed by a signature of n characters of c. */
static void with_signature(strbuf *out, size_t n, char c)
{
    strbuf tok;
    sign(&tok, CLAIMS);
    strbuf_init(out, 0);
    assert_int_equal(strbuf_append(out, tok.data, (size_t)(strrchr(tok.data, '.') + 1 - tok.data)), 0);
    for (size_t i = 0; i < n; i++) assert_int_equal(strbuf_append_char(out, c), 0);
    strbuf_release(&tok);
}

/* Issue 11 #1: 1,400 characters decode to 1,050 bytes, past the 1,024-byte signature buffer. Around
 * the edge: 1,366 characters are exactly 1,024 bytes (a wrong signature), 1,368 are 1,026 (too long). */
static void test_oversized_signature_refused(void **state)
{
    static const struct { size_t n; const char *why; } cases[] = {
        {1400, "bad signature"}, {1366, "bad signature"}, {1368, "bad signature"}, {6000, "bad signature"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        strbuf tok;
        with_signature(&tok, cases[i].n, 'A');
        expect_refused(tok.data, jwks, cases[i].why);
        strbuf_release(&tok);
    }
}

/* A token correctly signed with a published 1,024-bit key is refused: RSA keys below 2,048 bits can be
 * factored by a well-funded attacker, and Google publishes 2,048-bit keys. */
static void test_weak_key_refused(void **state)
{
    EVP_PKEY *strong = key;
    key = EVP_RSA_gen(1024);
    assert_non_null(key);
    char weak_jwks[2048];
    jwks_of_key(weak_jwks, sizeof weak_jwks);
    strbuf tok;
    sign(&tok, CLAIMS);
    expect_refused(tok.data, weak_jwks, "unusable signing key");
    strbuf_release(&tok);
    EVP_PKEY_free(key);
    key = strong;
}

/* A published key whose modulus or exponent is longer than any key Basalt accepts is unusable, not
 * decoded past its buffer. */
static void test_oversized_key_refused(void **state)
{
    strbuf tok, keys;
    sign(&tok, CLAIMS);
    for (int which = 0; which < 2; which++) {
        strbuf_init(&keys, 0);
        strbuf_appendf(&keys, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"" KID "\",\"%s\":\"", which ? "e" : "n");
        for (int i = 0; i < (which ? 24 : 1400); i++) strbuf_append_char(&keys, 'A');
        strbuf_appendf(&keys, "\",\"%s\":\"AQAB\"}]}", which ? "n" : "e");
        expect_refused(tok.data, keys.data, "unusable signing key");
        strbuf_release(&keys);
    }
    strbuf_release(&tok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signed_token_accepted),
        cmocka_unit_test(test_oversized_signature_refused),
        cmocka_unit_test(test_oversized_key_refused),
        cmocka_unit_test(test_weak_key_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
