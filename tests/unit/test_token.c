/* Unit tests of core/token.h: HS256 JWT signing and verification.
 * Known answers were computed independently with Python's hmac/hashlib/base64/json, e.g.
 *   python3 -c 'import hmac,hashlib,base64,json; b=lambda x: base64.urlsafe_b64encode(x).rstrip(b"=").decode();
 *     s=b(b"{\"alg\":\"HS256\",\"typ\":\"JWT\"}")+"."+b(json.dumps({...},separators=(",",":")).encode());
 *     print(s+"."+b(hmac.new(SECRET,s.encode(),hashlib.sha256).digest()))'
 * and one is RFC 7515 Appendix A.1. Tampered tokens are made by forge(), which signs any header and payload
 * text correctly with HS256, so each case fails for the reason under test and not for a bad MAC.
 * Every token is verified from a heap copy of exactly its length, so AddressSanitizer sees overreads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/token.h"
#include "util/crypto.h"

#define SECRET "basalt-known-answer-secret-0123456789"
#define SECRET_LEN (sizeof SECRET - 1)
#define NOW 1700000100
#define IAT 1700000000
#define EXP 1700003600
#define HEADER_B64 "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" /* {"alg":"HS256","typ":"JWT"} */
#define INVALID "auth/invalid-token"
#define EXPIRED "auth/token-expired"

/* python: claims sub=user_42 role=user jti=sess_7f3a iat=IAT exp=EXP pid=prj_1 env=dev typ=access */
#define KAT_FULL                                                                                            \
    HEADER_B64 ".eyJzdWIiOiJ1c2VyXzQyIiwicm9sZSI6InVzZXIiLCJqdGkiOiJzZXNzXzdmM2EiLCJpYXQiOjE3MDAwMDAwMDAsIm" \
               "V4cCI6MTcwMDAwMzYwMCwicGlkIjoicHJqXzEiLCJlbnYiOiJkZXYiLCJ0eXAiOiJhY2Nlc3MifQ"                 \
               ".HX7MP5EsoQazCHUUmgFY7Kez0RLyQaCP9LHasd5FXT8"
/* python: claims sub=u1 iat=IAT exp=EXP only */
#define KAT_MINIMAL                                                                                         \
    HEADER_B64 ".eyJzdWIiOiJ1MSIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAzNjAwfQ"                            \
               ".BhicbQCeBmDwRwCk0wp1UhqrJE2tTYTwCpnblUTd6A0"
/* python, header {"typ":"JWT", "alg":"HS256"}, payload
 * {"exp":1700003600, "orgId":"org_9", "sub":"user_\u0041", "iat":1700000000, "nested":{"a":[1,2]}} */
#define KAT_FOREIGN                                                                                         \
    "eyJ0eXAiOiJKV1QiLCAiYWxnIjoiSFMyNTYifQ"                                                                \
    ".eyJleHAiOjE3MDAwMDM2MDAsICJvcmdJZCI6Im9yZ185IiwgInN1YiI6InVzZXJfXHUwMDQxIiwgImlhdCI6MTcwMDAwMDAwMCwgIm" \
    "5lc3RlZCI6eyJhIjpbMSwyXX19"                                                                            \
    ".1hZuAqZMbYn6c00MSjtervm2gJ1MTmk8UTvnmzLW4gA"
/* RFC 7515 Appendix A.1 (HS256, 64-byte key); its payload has no sub, so it fails on claims only after
 * the signature was accepted. */
#define RFC7515_A1                                                                                          \
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"                                                              \
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"       \
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
static const uint8_t rfc7515_key[64] = {
    0x03, 0x23, 0x35, 0x4b, 0x2b, 0x0f, 0xa5, 0xbc, 0x83, 0x7e, 0x06, 0x65, 0x77, 0x7b, 0xa6, 0x8f,
    0x5a, 0xb3, 0x28, 0xe6, 0xf0, 0x54, 0xc9, 0x28, 0xa9, 0x0f, 0x84, 0xb2, 0xd2, 0x50, 0x2e, 0xbf,
    0xd3, 0xfb, 0x5a, 0x92, 0xd2, 0x06, 0x47, 0xef, 0x96, 0x8a, 0xb4, 0xc3, 0x77, 0x62, 0x3d, 0x22,
    0x3d, 0x2e, 0x21, 0x72, 0x05, 0x2e, 0x4f, 0x08, 0xc0, 0xcd, 0x9a, 0xf5, 0x67, 0xd0, 0x80, 0xa3};

static const uint8_t *secret = (const uint8_t *)SECRET;

/* ---- helpers ---- */

static void full_claims(token_claims *c)
{
    memset(c, 0, sizeof *c);
    strcpy(c->sub, "user_42");
    strcpy(c->role, "user");
    strcpy(c->jti, "sess_7f3a");
    strcpy(c->pid, "prj_1");
    strcpy(c->env, "dev");
    strcpy(c->typ, "access");
    c->iat = IAT;
    c->exp = EXP;
}

static int is_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i]) return 0;
    return 1;
}

/* Verifies len bytes from a heap buffer of exactly that size. */
static int verify_n(const char *jwt, size_t len, const uint8_t *key, size_t key_len, int64_t now, token_claims *out,
                    bs_err *err)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len) memcpy(copy, jwt, len);
    bs_err_clear(err);
    memset(out, 0x5a, sizeof *out); /* must come back zeroed on failure */
    int rc = token_verify(copy, len, key, key_len, now, out, err);
    free(copy);
    return rc;
}

static void expect_ok(const char *jwt, int64_t now, token_claims *out)
{
    bs_err err;
    if (verify_n(jwt, strlen(jwt), secret, SECRET_LEN, now, out, &err) != 0)
        fail_msg("rejected (%s: %s): %s", err.code, err.message, jwt);
}

/* Expects a 401 with code; when why is given, the message must mention it (the reason tested). */
static void expect_fail_n(const char *jwt, size_t len, int64_t now, const char *code, const char *why)
{
    bs_err err;
    token_claims out;
    if (verify_n(jwt, len, secret, SECRET_LEN, now, &out, &err) == 0) fail_msg("accepted: %.*s", (int)len, jwt);
    assert_int_equal(err.status, 401);
    if (strcmp(err.code, code) != 0) fail_msg("code %s (%s), wanted %s: %.*s", err.code, err.message, code, (int)len, jwt);
    if (why && !strstr(err.message, why))
        fail_msg("message \"%s\", wanted \"%s\": %.*s", err.message, why, (int)len, jwt);
    assert_true(is_zero(&out, sizeof out));
}

static void expect_fail(const char *jwt, const char *code, const char *why)
{
    expect_fail_n(jwt, strlen(jwt), NOW, code, why);
}

static char *b64(const char *text, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    assert_non_null(out);
    crypto_base64url_encode(text, n, out);
    return out;
}

/* A compact JWT for any header and payload text, correctly HS256-signed with key. Caller frees. */
static char *forge_key(const char *header, const char *payload, const uint8_t *key, size_t key_len)
{
    char *h = b64(header, strlen(header)), *p = b64(payload, strlen(payload));
    size_t n = strlen(h) + 1 + strlen(p);
    char *jwt = malloc(n + 1 + 44);
    assert_non_null(jwt);
    snprintf(jwt, n + 1, "%s.%s", h, p);
    uint8_t mac[32];
    unsigned int mac_len = 0;
    assert_non_null(HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)jwt, n, mac, &mac_len));
    assert_int_equal(mac_len, 32);
    jwt[n] = '.';
    crypto_base64url_encode(mac, 32, jwt + n + 1);
    free(h);
    free(p);
    return jwt;
}

static char *forge(const char *header, const char *payload)
{
    return forge_key(header, payload, secret, SECRET_LEN);
}

/* "input.<HS256 of input>" for any signing input text, e.g. one with a mis-encoded segment. Caller frees. */
static char *sign_input(const char *input)
{
    size_t n = strlen(input);
    char *jwt = malloc(n + 1 + 44);
    assert_non_null(jwt);
    memcpy(jwt, input, n);
    uint8_t mac[32];
    unsigned int mac_len = 0;
    assert_non_null(HMAC(EVP_sha256(), secret, (int)SECRET_LEN, (const unsigned char *)input, n, mac, &mac_len));
    jwt[n] = '.';
    crypto_base64url_encode(mac, 32, jwt + n + 1);
    return jwt;
}

#define STD_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define STD_PAYLOAD "{\"sub\":\"u1\",\"iat\":1700000000,\"exp\":1700003600}"

static void forged_fails(const char *header, const char *payload, const char *why)
{
    char *jwt = forge(header, payload);
    expect_fail(jwt, INVALID, why);
    free(jwt);
}

static void forged_ok(const char *header, const char *payload)
{
    token_claims out;
    char *jwt = forge(header, payload);
    expect_ok(jwt, NOW, &out);
    free(jwt);
}

static char *sign_alloc(const token_claims *c)
{
    strbuf sb;
    bs_err err;
    strbuf_init(&sb, 0);
    bs_err_clear(&err);
    if (token_sign(c, secret, SECRET_LEN, &sb, &err) != 0) fail_msg("sign failed: %s", err.message);
    char *s = strbuf_steal(&sb, NULL);
    assert_non_null(s);
    return s;
}

/* ---- known answers ---- */

static void test_sign_known_answer(void **state)
{
    (void)state;
    token_claims c;
    full_claims(&c);
    char *jwt = sign_alloc(&c);
    assert_string_equal(jwt, KAT_FULL);
    free(jwt);

    memset(&c, 0, sizeof c);
    strcpy(c.sub, "u1");
    c.iat = IAT;
    c.exp = EXP;
    jwt = sign_alloc(&c);
    assert_string_equal(jwt, KAT_MINIMAL);
    free(jwt);
}

static void test_verify_known_answers(void **state)
{
    (void)state;
    token_claims out;
    expect_ok(KAT_FULL, NOW, &out);
    assert_string_equal(out.sub, "user_42");
    assert_string_equal(out.role, "user");
    assert_string_equal(out.jti, "sess_7f3a");
    assert_string_equal(out.pid, "prj_1");
    assert_string_equal(out.env, "dev");
    assert_string_equal(out.typ, "access");
    assert_int_equal(out.iat, IAT);
    assert_int_equal(out.exp, EXP);

    expect_ok(KAT_MINIMAL, NOW, &out);
    assert_string_equal(out.sub, "u1");
    assert_string_equal(out.role, "");
    assert_string_equal(out.jti, "");
    assert_string_equal(out.typ, "");

    /* another member order, whitespace, an escape, unknown claims: read, not re-signed */
    expect_ok(KAT_FOREIGN, NOW, &out);
    assert_string_equal(out.sub, "user_A");
    assert_int_equal(out.exp, EXP);
}

static void test_verify_rfc7515_vector(void **state)
{
    (void)state;
    bs_err err;
    token_claims out;
    const char *jwt = RFC7515_A1;
    /* the MAC matches (failure is on the claims, checked only after it) ... */
    assert_int_equal(verify_n(jwt, strlen(jwt), rfc7515_key, sizeof rfc7515_key, 1300000000, &out, &err), -1);
    assert_string_equal(err.code, INVALID);
    assert_non_null(strstr(err.message, "bad sub claim"));
    /* ... and with any other key it does not */
    uint8_t other[64];
    memcpy(other, rfc7515_key, sizeof other);
    other[63] ^= 1;
    assert_int_equal(verify_n(jwt, strlen(jwt), other, sizeof other, 1300000000, &out, &err), -1);
    assert_non_null(strstr(err.message, "bad signature"));
}

/* ---- round trips ---- */

static void test_round_trip(void **state)
{
    (void)state;
    token_claims c, out;
    full_claims(&c);
    strcpy(c.role, "admin");
    strcpy(c.typ, "refresh");
    strcpy(c.sub, "0123456789012345678901234567890123456789012345678901234567890123"); /* 64 = max */
    strcpy(c.jti, "q\"uo\\te {}:,");                                                  /* JSON-escaped */
    char *jwt = sign_alloc(&c);
    assert_true(strlen(jwt) <= TOKEN_MAX_LEN);
    expect_ok(jwt, NOW, &out);
    assert_memory_equal(&out, &c, sizeof c);
    /* the payload is plain base64url JSON a client can read */
    assert_int_equal(strncmp(jwt, HEADER_B64 ".", sizeof HEADER_B64), 0);
    free(jwt);

    strcpy(c.role, "guest");
    memset(c.jti, 0, sizeof c.jti); /* absent optional claims come back as all-zero arrays */
    memset(c.env, 0, sizeof c.env);
    memset(c.pid, 0, sizeof c.pid);
    jwt = sign_alloc(&c);
    expect_ok(jwt, NOW, &out);
    assert_memory_equal(&out, &c, sizeof c);
    free(jwt);
}

static void test_verify_out_may_be_null(void **state)
{
    (void)state;
    bs_err err;
    bs_err_clear(&err);
    assert_int_equal(token_verify(KAT_FULL, strlen(KAT_FULL), secret, SECRET_LEN, NOW, NULL, &err), 0);
    assert_int_equal(token_verify("x.y.z", 5, secret, SECRET_LEN, NOW, NULL, &err), -1);
    assert_string_equal(err.code, INVALID);
    assert_int_equal(token_verify("x.y.z", 5, secret, SECRET_LEN, NOW, NULL, NULL), -1);
}

static void test_sign_appends(void **state)
{
    (void)state;
    token_claims c;
    full_claims(&c);
    strbuf sb;
    bs_err err;
    strbuf_init(&sb, 0);
    strbuf_append_str(&sb, "Bearer ");
    assert_int_equal(token_sign(&c, secret, SECRET_LEN, &sb, &err), 0);
    assert_string_equal(sb.data, "Bearer " KAT_FULL);
    strbuf_release(&sb);

    /* out too small: error, out untouched */
    strbuf_init(&sb, 40);
    strbuf_append_str(&sb, "keep");
    bs_err_clear(&err);
    assert_int_equal(token_sign(&c, secret, SECRET_LEN, &sb, &err), -1);
    assert_int_equal(err.status, 500);
    assert_string_equal(sb.data, "keep");
    assert_int_equal(sb.len, 4);
    assert_int_equal(sb.overflow, 0);
    strbuf_release(&sb);
}

static void test_sign_rejects_bad_claims(void **state)
{
    (void)state;
    token_claims c;
    strbuf sb;
    bs_err err;
    strbuf_init(&sb, 0);
#define SIGN_FAILS(mutation)                                                                     \
    do {                                                                                         \
        full_claims(&c);                                                                         \
        mutation;                                                                                \
        bs_err_clear(&err);                                                                      \
        if (token_sign(&c, secret, SECRET_LEN, &sb, &err) != -1) fail_msg("signed: " #mutation); \
        assert_int_equal(err.status, 500);                                                       \
        assert_int_equal(sb.len, 0);                                                             \
    } while (0)
    SIGN_FAILS(c.sub[0] = '\0');
    SIGN_FAILS(memset(c.sub, 'a', sizeof c.sub));          /* no NUL inside */
    SIGN_FAILS(memset(c.jti, 'a', sizeof c.jti));
    SIGN_FAILS(memset(c.env, 'a', sizeof c.env));
    SIGN_FAILS(memset(c.pid, 'a', sizeof c.pid));
    SIGN_FAILS(memset(c.role, 'a', sizeof c.role));
    SIGN_FAILS(memset(c.typ, 'a', sizeof c.typ));
    SIGN_FAILS(strcpy(c.role, "root"));
    SIGN_FAILS(strcpy(c.role, "Admin"));
    SIGN_FAILS(strcpy(c.typ, "id"));
    SIGN_FAILS(strcpy(c.sub, "caf\xc3\xa9"));              /* not ASCII */
    SIGN_FAILS(strcpy(c.sub, "a\nb"));                     /* control character */
    SIGN_FAILS(c.exp = c.iat);
    SIGN_FAILS(c.exp = c.iat - 1);
    SIGN_FAILS(c.iat = -1);
    SIGN_FAILS(c.exp = TOKEN_TIME_MAX + 1);
#undef SIGN_FAILS
    full_claims(&c);
    assert_int_equal(token_sign(&c, secret, TOKEN_SECRET_MIN - 1, &sb, &err), -1);
    assert_int_equal(token_sign(&c, secret, TOKEN_SECRET_MAX + 1, &sb, &err), -1);
    assert_int_equal(token_sign(&c, NULL, SECRET_LEN, &sb, &err), -1);
    assert_int_equal(token_sign(NULL, secret, SECRET_LEN, &sb, &err), -1);
    assert_int_equal(sb.len, 0);
    strbuf_release(&sb);
}

static void test_verify_secret_length(void **state)
{
    (void)state;
    bs_err err;
    token_claims out;
    assert_int_equal(verify_n(KAT_FULL, strlen(KAT_FULL), secret, TOKEN_SECRET_MIN - 1, NOW, &out, &err), -1);
    assert_int_equal(err.status, 500);
    assert_int_equal(verify_n(KAT_FULL, strlen(KAT_FULL), NULL, SECRET_LEN, NOW, &out, &err), -1);
    assert_int_equal(err.status, 500);
}

/* ---- tampering ---- */

static void test_flipped_byte_everywhere(void **state)
{
    (void)state;
    const char *good = KAT_FULL;
    size_t len = strlen(good);
    char *jwt = malloc(len + 1);
    assert_non_null(jwt);
    const char *dot1 = strchr(good, '.'), *dot2 = strrchr(good, '.');
    const char replacements[] = {'A', 'B', '-', '_', '=', '+', '/', ' ', '\0', '\x80'};
    for (size_t i = 0; i < len; i++) {
        if (good[i] == '.') continue;
        for (size_t r = 0; r < sizeof replacements; r++) {
            if (replacements[r] == good[i]) continue;
            memcpy(jwt, good, len + 1);
            jwt[i] = replacements[r];
            /* header bytes fail on the header or the MAC, the others on the MAC or the encoding */
            expect_fail_n(jwt, len, NOW, INVALID, NULL);
        }
        /* single bit flips, which keep most bytes in the alphabet */
        for (int bit = 0; bit < 7; bit++) {
            memcpy(jwt, good, len + 1);
            jwt[i] = (char)(jwt[i] ^ (1 << bit));
            if (jwt[i] == '.') continue; /* would be a part count case, covered below */
            expect_fail_n(jwt, len, NOW, INVALID, NULL);
        }
    }
    /* a flipped character inside the payload and the signature fails on the MAC, specifically */
    memcpy(jwt, good, len + 1);
    jwt[dot1 - good + 5] = jwt[dot1 - good + 5] == 'A' ? 'B' : 'A';
    expect_fail_n(jwt, len, NOW, INVALID, "bad signature");
    memcpy(jwt, good, len + 1);
    jwt[dot2 - good + 5] = jwt[dot2 - good + 5] == 'A' ? 'B' : 'A';
    expect_fail_n(jwt, len, NOW, INVALID, "bad signature");
    free(jwt);
}

static void test_non_canonical_signature(void **state)
{
    (void)state;
    /* 43 characters hold 258 bits: the 2 spare bits of the last one must be zero. The last character
     * '8' = 0b111100; '9', '-', '_' decode to the same bytes but are other spellings of the signature. */
    const char *good = KAT_FULL;
    size_t len = strlen(good);
    assert_int_equal(good[len - 1], '8');
    char *jwt = strdup(good);
    assert_non_null(jwt);
    const char same_bytes[] = {'9', '-', '_'};
    for (size_t i = 0; i < sizeof same_bytes; i++) {
        jwt[len - 1] = same_bytes[i];
        expect_fail_n(jwt, len, NOW, INVALID, "malformed signature");
    }
    free(jwt);
}

static void test_alg_none_and_other_algs(void **state)
{
    (void)state;
    /* alg none with an empty signature, as an attacker sends it */
    const char *none_header = "{\"alg\":\"none\",\"typ\":\"JWT\"}";
    char *h = b64(none_header, strlen(none_header)), *p = b64(STD_PAYLOAD, strlen(STD_PAYLOAD));
    char none[512];
    snprintf(none, sizeof none, "%s.%s.", h, p);
    expect_fail(none, INVALID, "unsupported alg");
    snprintf(none, sizeof none, "%s.%s", h, p);
    expect_fail(none, INVALID, "expected 3 parts");
    free(h);
    /* alg none, or another alg, with a (valid HS256) signature still present */
    forged_fails("{\"alg\":\"none\",\"typ\":\"JWT\"}", STD_PAYLOAD, "unsupported alg");
    forged_fails("{\"alg\":\"None\"}", STD_PAYLOAD, "unsupported alg");
    forged_fails("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", STD_PAYLOAD, "unsupported alg");
    forged_fails("{\"alg\":\"HS384\",\"typ\":\"JWT\"}", STD_PAYLOAD, "unsupported alg");
    forged_fails("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", STD_PAYLOAD, "unsupported alg");
    forged_fails("{\"alg\":\"ES256\",\"typ\":\"JWT\"}", STD_PAYLOAD, "unsupported alg");
    forged_fails("{\"alg\":\"hs256\",\"typ\":\"JWT\"}", STD_PAYLOAD, "unsupported alg");
    forged_fails("{\"alg\":\"HS256 \",\"typ\":\"JWT\"}", STD_PAYLOAD, "unsupported alg");
    forged_fails("{\"alg\":\"\",\"typ\":\"JWT\"}", STD_PAYLOAD, "unsupported alg");
    free(p);
}

static void test_header_rules(void **state)
{
    (void)state;
    forged_ok("{\"alg\":\"HS256\"}", STD_PAYLOAD);                    /* typ is optional */
    forged_ok("{\"typ\":\"JWT\",\"alg\":\"HS256\"}", STD_PAYLOAD);    /* any member order */
    forged_ok(" { \"alg\" : \"HS256\" } ", STD_PAYLOAD);              /* JSON whitespace */
    forged_fails("{\"typ\":\"JWT\"}", STD_PAYLOAD, "missing alg");
    forged_fails("{}", STD_PAYLOAD, "missing alg");
    forged_fails("{\"alg\":256,\"typ\":\"JWT\"}", STD_PAYLOAD, "unsupported alg");
    forged_fails("{\"alg\":null}", STD_PAYLOAD, "unsupported alg");
    forged_fails("{\"alg\":true}", STD_PAYLOAD, "unsupported alg");
    forged_fails("{\"alg\":[\"HS256\"]}", STD_PAYLOAD, "unsupported alg");
    forged_fails("{\"alg\":{\"v\":\"HS256\"}}", STD_PAYLOAD, "unsupported alg");
    forged_fails("{\"alg\":\"HS256\",\"typ\":\"jwt\"}", STD_PAYLOAD, "unsupported typ");
    forged_fails("{\"alg\":\"HS256\",\"typ\":\"JWS\"}", STD_PAYLOAD, "unsupported typ");
    forged_fails("{\"alg\":\"HS256\",\"typ\":1}", STD_PAYLOAD, "unsupported typ");
    forged_fails("{\"alg\":\"HS256\",\"kid\":\"k1\"}", STD_PAYLOAD, "unexpected header member");
    forged_fails("{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", STD_PAYLOAD, "unexpected header member");
    forged_fails("{\"alg\":\"HS256\",\"jku\":\"https://x\"}", STD_PAYLOAD, "unexpected header member");
    /* duplicate members: refused by the strict parser, whichever comes last */
    forged_fails("{\"alg\":\"HS256\",\"alg\":\"none\"}", STD_PAYLOAD, "malformed header");
    forged_fails("{\"alg\":\"none\",\"alg\":\"HS256\"}", STD_PAYLOAD, "malformed header");
    /* not a JSON object */
    forged_fails("", STD_PAYLOAD, "malformed header");
    forged_fails("null", STD_PAYLOAD, "malformed header");
    forged_fails("[\"HS256\"]", STD_PAYLOAD, "malformed header");
    forged_fails("\"HS256\"", STD_PAYLOAD, "malformed header");
    forged_fails("{\"alg\":\"HS256\"", STD_PAYLOAD, "malformed header");
    forged_fails("{'alg':'HS256'}", STD_PAYLOAD, "malformed header");
    forged_fails("{\"alg\":\"HS256\",}", STD_PAYLOAD, "malformed header");
    forged_fails("{\"alg\":\"HS256\"}x", STD_PAYLOAD, "malformed header");
    forged_fails("{\"alg\":\"HS\xff\"}", STD_PAYLOAD, "malformed header");
}

static void test_payload_not_json(void **state)
{
    (void)state;
    forged_fails(STD_HEADER, "", "malformed payload");
    forged_fails(STD_HEADER, "not json", "malformed payload");
    forged_fails(STD_HEADER, "{\"sub\":\"u1\",\"iat\":1700000000,\"exp\":1700003600", "malformed payload");
    forged_fails(STD_HEADER, "{\"sub\":\"u1\",\"iat\":1700000000,\"exp\":1700003600,}", "malformed payload");
    forged_fails(STD_HEADER, "null", "malformed payload");
    forged_fails(STD_HEADER, "[]", "malformed payload");
    forged_fails(STD_HEADER, "\"u1\"", "malformed payload");
    forged_fails(STD_HEADER, "1700003600", "malformed payload");
    /* duplicate sub: two readers could see two users */
    forged_fails(STD_HEADER, "{\"sub\":\"u1\",\"sub\":\"admin\",\"iat\":1700000000,\"exp\":1700003600}",
                 "malformed payload");
    /* nested too deep for the payload limit */
    forged_fails(STD_HEADER, "{\"sub\":\"u1\",\"iat\":1700000000,\"exp\":1700003600,\"x\":[[[[[[[[[]]]]]]]]]}",
                 "malformed payload");
}

static void test_payload_claims(void **state)
{
    (void)state;
    token_claims out;
#define P(rest) "{\"iat\":1700000000,\"exp\":1700003600" rest "}"
    forged_ok(STD_HEADER, P(",\"sub\":\"0123456789012345678901234567890123456789012345678901234567890123\""));
    forged_ok(STD_HEADER, P(",\"sub\":\"u1\",\"orgId\":\"o\",\"orgRole\":\"owner\",\"extra\":{\"a\":[null]}"));
    forged_fails(STD_HEADER, P(""), "bad sub claim");
    forged_fails(STD_HEADER, P(",\"sub\":\"\""), "bad sub claim");
    forged_fails(STD_HEADER, P(",\"sub\":\"01234567890123456789012345678901234567890123456789012345678901234\""),
                 "bad sub claim"); /* 65 */
    forged_fails(STD_HEADER, P(",\"sub\":42"), "bad sub claim");
    forged_fails(STD_HEADER, P(",\"sub\":null"), "bad sub claim");
    forged_fails(STD_HEADER, P(",\"sub\":[\"u1\"]"), "bad sub claim");
    forged_fails(STD_HEADER, P(",\"sub\":\"a\\nb\""), "bad sub claim");
    forged_fails(STD_HEADER, P(",\"sub\":\"caf\\u00e9\""), "bad sub claim");
    forged_fails(STD_HEADER, P(",\"sub\":\"u1\",\"role\":\"root\""), "bad role claim");
    forged_fails(STD_HEADER, P(",\"sub\":\"u1\",\"role\":1"), "bad role claim");
    forged_fails(STD_HEADER, P(",\"sub\":\"u1\",\"role\":\"\""), "bad role claim");
    forged_fails(STD_HEADER, P(",\"sub\":\"u1\",\"typ\":\"id\""), "bad typ claim");
    forged_fails(STD_HEADER, P(",\"sub\":\"u1\",\"jti\":true"), "bad jti claim");
    forged_fails(STD_HEADER, P(",\"sub\":\"u1\",\"env\":\"0123456789012345678901234567890123456789012345678901234567890123\""),
                 "bad env claim"); /* 64 > 63 */
    forged_fails(STD_HEADER, P(",\"sub\":\"u1\",\"pid\":{}"), "bad pid claim");
#undef P
    const char *const bad_times[] = {"1700003600.0", "1.7000036e9", "\"1700003600\"", "null", "true", "-1",
                                     "253402300800", "9223372036854775807", "18446744073709551615"};
    char payload[256];
    for (size_t i = 0; i < sizeof bad_times / sizeof bad_times[0]; i++) {
        snprintf(payload, sizeof payload, "{\"sub\":\"u1\",\"iat\":1700000000,\"exp\":%s}", bad_times[i]);
        forged_fails(STD_HEADER, payload, "bad exp claim");
        snprintf(payload, sizeof payload, "{\"sub\":\"u1\",\"iat\":%s,\"exp\":1700003600}", bad_times[i]);
        forged_fails(STD_HEADER, payload, "bad iat claim");
    }
    forged_fails(STD_HEADER, "{\"sub\":\"u1\",\"iat\":1700000000}", "bad exp claim");
    forged_fails(STD_HEADER, "{\"sub\":\"u1\",\"exp\":1700003600}", "bad iat claim");
    forged_fails(STD_HEADER, "{\"sub\":\"u1\",\"iat\":1700000000,\"exp\":1700000000}", "exp not after iat");
    /* accepted claim values come back as sent */
    char *jwt = forge(STD_HEADER, "{\"sub\":\"u\\\"1\",\"role\":\"guest\",\"typ\":\"refresh\",\"iat\":0,\"exp\":253402300799}");
    expect_ok(jwt, NOW, &out);
    assert_string_equal(out.sub, "u\"1");
    assert_string_equal(out.role, "guest");
    assert_string_equal(out.typ, "refresh");
    assert_int_equal(out.iat, 0);
    assert_int_equal(out.exp, TOKEN_TIME_MAX);
    free(jwt);
}

static void test_part_count(void **state)
{
    (void)state;
    const char *good = KAT_FULL;
    const char *dot2 = strrchr(good, '.');
    char buf[1024];
    snprintf(buf, sizeof buf, "%.*s", (int)(dot2 - good), good); /* header.payload */
    expect_fail(buf, INVALID, "expected 3 parts");
    snprintf(buf, sizeof buf, "%s.", good);
    expect_fail(buf, INVALID, "expected 3 parts");
    snprintf(buf, sizeof buf, "%s.%s", good, dot2 + 1); /* 4 parts */
    expect_fail(buf, INVALID, "expected 3 parts");
    snprintf(buf, sizeof buf, "%s..", good);
    expect_fail(buf, INVALID, "expected 3 parts");
    snprintf(buf, sizeof buf, ".%s", good);
    expect_fail(buf, INVALID, "expected 3 parts");
    expect_fail(HEADER_B64, INVALID, "expected 3 parts");
    expect_fail("..", INVALID, "malformed header");
    expect_fail("...", INVALID, "expected 3 parts");
    expect_fail(".", INVALID, "expected 3 parts");
    expect_fail("", INVALID, "empty");
    /* empty payload or signature */
    snprintf(buf, sizeof buf, "%s..%s", HEADER_B64, dot2 + 1);
    expect_fail(buf, INVALID, "bad signature");
    snprintf(buf, sizeof buf, "%.*s.", (int)(dot2 - good), good);
    expect_fail(buf, INVALID, "malformed signature");
    /* the whole length counts: a NUL byte ends nothing */
    size_t len = strlen(good);
    char *nul = malloc(len + 2);
    assert_non_null(nul);
    memcpy(nul, good, len);
    nul[len] = '\0';
    nul[len + 1] = 'x';
    expect_fail_n(nul, len + 2, NOW, INVALID, "malformed signature");
    expect_fail_n(nul, len - 1, NOW, INVALID, "malformed signature"); /* truncated by one */
    free(nul);
}

static void test_padding_and_alphabet(void **state)
{
    (void)state;
    const char *good = KAT_FULL;
    const char *dot1 = strchr(good, '.'), *dot2 = strrchr(good, '.');
    char buf[1024];
    /* the signature (43 chars) padded to 44 as standard base64 would */
    snprintf(buf, sizeof buf, "%s=", good);
    expect_fail(buf, INVALID, "malformed signature");
    /* padding on the header; on the payload (here caught by the MAC, which covers the text) */
    snprintf(buf, sizeof buf, "%.*s==%s", (int)(dot1 - good), good, dot1);
    expect_fail(buf, INVALID, "malformed header");
    snprintf(buf, sizeof buf, "%.*s=%s", (int)(dot2 - good), good, dot2);
    expect_fail(buf, INVALID, "bad signature");

    /* a payload whose length needs padding: unpadded fine, padded (and signed as padded) refused */
    const char *payload = "{\"sub\":\"u12\",\"iat\":1700000000,\"exp\":1700003600}";
    assert_int_equal(strlen(payload) % 3, 2); /* 47 bytes: 63 characters, "=" to pad */
    char *jwt = forge(STD_HEADER, payload);
    token_claims out;
    expect_ok(jwt, NOW, &out);
    free(jwt);
    char *p = b64(payload, strlen(payload));
    snprintf(buf, sizeof buf, "%s.%s=", HEADER_B64, p);
    jwt = sign_input(buf);
    expect_fail(jwt, INVALID, "malformed payload");
    free(jwt);
    /* same payload, its last character's spare bits set (decodes to the same bytes) */
    size_t plen = strlen(p);
    int v = strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", p[plen - 1]) -
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    assert_int_equal(v & 3, 0);
    p[plen - 1] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[v | 1];
    snprintf(buf, sizeof buf, "%s.%s", HEADER_B64, p);
    jwt = sign_input(buf);
    expect_fail(jwt, INVALID, "malformed payload");
    free(jwt);
    free(p);

    /* standard base64 alphabet ('+', '/') instead of base64url, in the payload (signed as sent) ... */
    p = b64("{\"sub\":\"u>>>???\",\"iat\":1700000000,\"exp\":1700003600}", 51);
    int changed = 0;
    for (char *q = p; *q; q++) {
        if (*q == '-') { *q = '+'; changed = 1; }
        if (*q == '_') { *q = '/'; changed = 1; }
    }
    assert_true(changed);
    snprintf(buf, sizeof buf, "%s.%s", HEADER_B64, p);
    jwt = sign_input(buf);
    expect_fail(jwt, INVALID, "malformed payload");
    free(jwt);
    free(p);
    /* ... and in the signature: find a token whose signature has '-' or '_' */
    changed = 0;
    for (int i = 0; i < 200 && !changed; i++) {
        char pl[128];
        snprintf(pl, sizeof pl, "{\"sub\":\"u%d\",\"iat\":1700000000,\"exp\":1700003600}", i);
        jwt = forge(STD_HEADER, pl);
        for (char *q = strrchr(jwt, '.') + 1; *q; q++) {
            if (*q == '-') { *q = '+'; changed = 1; }
            if (*q == '_') { *q = '/'; changed = 1; }
        }
        if (changed) expect_fail(jwt, INVALID, "malformed signature");
        free(jwt);
    }
    assert_true(changed);
    /* whitespace or line breaks inside a segment */
    snprintf(buf, sizeof buf, "%.*s\n%s", 10, good, good + 10);
    expect_fail(buf, INVALID, "malformed header");
    snprintf(buf, sizeof buf, " %s", good);
    expect_fail(buf, INVALID, "malformed header");
    snprintf(buf, sizeof buf, "%s ", good);
    expect_fail(buf, INVALID, "malformed signature");
}

static void test_wrong_secret(void **state)
{
    (void)state;
    bs_err err;
    token_claims out;
    const char *jwt = KAT_FULL;
    uint8_t key[SECRET_LEN + 1];
    memcpy(key, SECRET, SECRET_LEN);
    key[SECRET_LEN - 1] ^= 1;
    assert_int_equal(verify_n(jwt, strlen(jwt), key, SECRET_LEN, NOW, &out, &err), -1);
    assert_string_equal(err.code, INVALID);
    assert_non_null(strstr(err.message, "bad signature"));
    /* a prefix or an extension of the right secret (not with a zero byte: HMAC pads keys with zeros,
     * so K and K||0x00 are the same key by design) */
    assert_int_equal(verify_n(jwt, strlen(jwt), secret, SECRET_LEN - 1, NOW, &out, &err), -1);
    assert_non_null(strstr(err.message, "bad signature"));
    memcpy(key, SECRET, SECRET_LEN);
    key[SECRET_LEN] = 'x';
    assert_int_equal(verify_n(jwt, strlen(jwt), key, SECRET_LEN + 1, NOW, &out, &err), -1);
    assert_non_null(strstr(err.message, "bad signature"));
    /* a token made with another secret */
    forged_ok(STD_HEADER, STD_PAYLOAD);
    char *other = forge_key(STD_HEADER, STD_PAYLOAD, (const uint8_t *)"another-secret-of-32-bytes-ok!!!", 32);
    expect_fail(other, INVALID, "bad signature");
    free(other);
}

static void test_expiry(void **state)
{
    (void)state;
    token_claims out;
    expect_ok(KAT_FULL, EXP - 1, &out);
    expect_fail_n(KAT_FULL, strlen(KAT_FULL), EXP, EXPIRED, "expired");
    expect_fail_n(KAT_FULL, strlen(KAT_FULL), EXP + 1, EXPIRED, NULL);
    expect_fail_n(KAT_FULL, strlen(KAT_FULL), INT64_MAX, EXPIRED, NULL);
    /* expiry is reported only for a genuine token */
    char *jwt = strdup(KAT_FULL);
    assert_non_null(jwt);
    jwt[strlen(jwt) - 3] = jwt[strlen(jwt) - 3] == 'A' ? 'B' : 'A';
    expect_fail_n(jwt, strlen(jwt), EXP + 1, INVALID, "bad signature");
    free(jwt);
}

static void test_not_yet_valid(void **state)
{
    (void)state;
    token_claims out;
    expect_ok(KAT_FULL, IAT - TOKEN_CLOCK_SKEW, &out); /* issuer clock ahead by the allowed skew */
    expect_fail_n(KAT_FULL, strlen(KAT_FULL), IAT - TOKEN_CLOCK_SKEW - 1, INVALID, "issued in the future");
    expect_fail_n(KAT_FULL, strlen(KAT_FULL), 0, INVALID, "issued in the future");
    expect_fail_n(KAT_FULL, strlen(KAT_FULL), INT64_MIN, INVALID, "issued in the future");
}

/* A valid token of exactly total bytes: the payload padded with an array and whitespace. */
static char *token_of_length(size_t total)
{
    size_t fixed = strlen(HEADER_B64) + 1 + 1 + 43;
    size_t b64_len = total - fixed;
    assert_true(b64_len % 4 != 1);
    size_t json_len = b64_len / 4 * 3 + (b64_len % 4 ? b64_len % 4 - 1 : 0);
    const char *head = "{\"sub\":\"u1\",\"iat\":1700000000,\"exp\":1700003600,\"pad\":[";
    char *payload = malloc(json_len + 1);
    assert_non_null(payload);
    size_t n = (size_t)snprintf(payload, json_len + 1, "%s", head);
    while (n + 4 < json_len) { /* "0," then "0]}" */
        payload[n++] = '0';
        payload[n++] = ',';
    }
    payload[n++] = '0';
    payload[n++] = ']';
    while (n + 1 < json_len) payload[n++] = ' ';
    payload[n++] = '}';
    payload[n] = '\0';
    assert_int_equal(n, json_len);
    char *jwt = forge(STD_HEADER, payload);
    free(payload);
    assert_int_equal(strlen(jwt), total);
    return jwt;
}

static void test_huge_token(void **state)
{
    (void)state;
    token_claims out;
    char *jwt = token_of_length(TOKEN_MAX_LEN);
    expect_ok(jwt, NOW, &out);
    free(jwt);
    jwt = token_of_length(TOKEN_MAX_LEN + 1);
    expect_fail(jwt, INVALID, "too long");
    free(jwt);
    /* a megabyte of anything is refused before it is read */
    size_t big = 1 << 20;
    char *junk = malloc(big);
    assert_non_null(junk);
    memset(junk, 'A', big);
    junk[100] = junk[200] = '.';
    expect_fail_n(junk, big, NOW, INVALID, "too long");
    free(junk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_known_answer),
        cmocka_unit_test(test_verify_known_answers),
        cmocka_unit_test(test_verify_rfc7515_vector),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_verify_out_may_be_null),
        cmocka_unit_test(test_sign_appends),
        cmocka_unit_test(test_sign_rejects_bad_claims),
        cmocka_unit_test(test_verify_secret_length),
        cmocka_unit_test(test_flipped_byte_everywhere),
        cmocka_unit_test(test_non_canonical_signature),
        cmocka_unit_test(test_alg_none_and_other_algs),
        cmocka_unit_test(test_header_rules),
        cmocka_unit_test(test_payload_not_json),
        cmocka_unit_test(test_payload_claims),
        cmocka_unit_test(test_part_count),
        cmocka_unit_test(test_padding_and_alphabet),
        cmocka_unit_test(test_wrong_secret),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_not_yet_valid),
        cmocka_unit_test(test_huge_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
