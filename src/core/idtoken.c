#include "core/idtoken.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <string.h>

#include "util/crypto.h"
#include "util/json.h"

#define IDTOKEN_MAX 8192
#define IDTOKEN_SKEW 60
#define IDTOKEN_RSA_MAX 1024 /* bytes of a modulus or a signature: RSA keys up to 8,192 bits */
#define IDTOKEN_RSA_MIN 256  /* and at least 2,048 bits: shorter keys can be factored (Google's are 2,048) */

static int fail(bs_err *err, const char *why)
{
    return bs_err_set(err, 401, "auth/google-id-token-invalid", "Invalid ID token: %s", why);
}

/* Decodes one base64url part into a JSON object (a new reference) or NULL. */
static struct json_object *part_json(const char *p, size_t len)
{
    uint8_t buf[IDTOKEN_MAX];
    long n = crypto_base64url_decode_bounded(p, len, buf, sizeof buf);
    if (n <= 0) return NULL;
    struct json_object *o = json_parse_strict((const char *)buf, (size_t)n, NULL, NULL, NULL);
    if (o && !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        o = NULL;
    }
    return o;
}

/* The RSA public key of a JWK {kty: RSA, n, e}. */
static EVP_PKEY *rsa_key(struct json_object *jwk)
{
    const char *n64 = json_get_string(jwk, "n"), *e64 = json_get_string(jwk, "e");
    uint8_t n[IDTOKEN_RSA_MAX], e[16];
    if (!n64 || !e64) return NULL;
    long nl = crypto_base64url_decode_bounded(n64, strlen(n64), n, sizeof n);
    long el = crypto_base64url_decode_bounded(e64, strlen(e64), e, sizeof e);
    if (nl < IDTOKEN_RSA_MIN || el <= 0 || n[0] == 0) return NULL; /* a leading zero byte would hide a short key */
    BIGNUM *bn = BN_bin2bn(n, (int)nl, NULL), *be = BN_bin2bn(e, (int)el, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (bn && be && bld && ctx && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) && (params = OSSL_PARAM_BLD_to_param(bld)) &&
        EVP_PKEY_fromdata_init(ctx) == 1)
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    BN_free(bn);
    BN_free(be);
    return key;
}

static struct json_object *find_key(const char *jwks, const char *kid)
{
    struct json_object *doc = json_tokener_parse(jwks), *keys, *found = NULL;
    if (doc && json_object_object_get_ex(doc, "keys", &keys) && json_object_is_type(keys, json_type_array))
        for (size_t i = 0; i < json_object_array_length(keys) && !found; i++) {
            struct json_object *k = json_object_array_get_idx(keys, i);
            const char *id = json_get_string(k, "kid"), *kty = json_get_string(k, "kty");
            if (id && kty && !strcmp(id, kid) && !strcmp(kty, "RSA")) found = json_object_get(k);
        }
    json_object_put(doc);
    return found;
}

static int signature_ok(EVP_PKEY *key, const char *signed_part, size_t signed_len, const char *sig64)
{
    uint8_t sig[IDTOKEN_RSA_MAX];
    long n = crypto_base64url_decode_bounded(sig64, strlen(sig64), sig, sizeof sig);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = n > 0 && md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestVerify(md, sig, (size_t)n, (const unsigned char *)signed_part, signed_len) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

static int audience_ok(const char *aud, const char *audiences)
{
    size_t len = strlen(aud);
    for (const char *p = audiences; *p;) {
        size_t n = strcspn(p, " ");
        if (n == len && !strncmp(p, aud, n)) return 1;
        p += n;
        while (*p == ' ') p++;
    }
    return 0;
}

static int claims_ok(struct json_object *c, const char *const *issuers, size_t nissuers, const char *audiences, int64_t now,
                     bs_err *err)
{
    const char *iss = json_get_string(c, "iss"), *aud = json_get_string(c, "aud");
    struct json_object *exp;
    int iss_ok = 0;
    for (size_t i = 0; iss && i < nissuers; i++) iss_ok |= !strcmp(iss, issuers[i]);
    if (!iss_ok) return fail(err, "issuer");
    if (!aud || !audience_ok(aud, audiences)) return fail(err, "audience");
    if (!json_object_object_get_ex(c, "exp", &exp) || !json_object_is_type(exp, json_type_int) ||
        json_object_get_int64(exp) + IDTOKEN_SKEW <= now)
        return fail(err, "expired");
    if (!json_get_string(c, "sub") || !json_get_string(c, "email")) return fail(err, "no subject or e-mail");
    return 0;
}

struct json_object *idtoken_verify(const char *jwt, const char *jwks, const char *const *issuers, size_t nissuers,
                                   const char *audiences, int64_t now, int *unknown_kid, bs_err *err)
{
    *unknown_kid = 0;
    size_t len = jwt ? strlen(jwt) : 0;
    const char *d1 = len && len <= IDTOKEN_MAX ? strchr(jwt, '.') : NULL, *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d2 || strchr(d2 + 1, '.')) { fail(err, "malformed"); return NULL; }
    struct json_object *header = part_json(jwt, (size_t)(d1 - jwt)), *claims = NULL, *jwk = NULL;
    const char *alg = json_get_string(header, "alg"), *kid = json_get_string(header, "kid");
    EVP_PKEY *key = NULL;
    if (!alg || strcmp(alg, "RS256") || !kid) fail(err, "not an RS256 token with a key id");
    else if (!(jwk = find_key(jwks, kid))) {
        *unknown_kid = 1;
        fail(err, "unknown signing key");
    } else if (!(key = rsa_key(jwk))) fail(err, "unusable signing key");
    else if (!signature_ok(key, jwt, (size_t)(d2 - jwt), d2 + 1)) fail(err, "bad signature");
    else if (!(claims = part_json(d1 + 1, (size_t)(d2 - d1 - 1)))) fail(err, "malformed claims");
    else if (claims_ok(claims, issuers, nissuers, audiences, now, err) < 0) {
        json_object_put(claims);
        claims = NULL;
    }
    EVP_PKEY_free(key);
    json_object_put(jwk);
    json_object_put(header);
    return claims;
}
