/* token: see token.h. A compact JWT is three base64url segments, header.payload.signature, where
 * signature = HMAC-SHA256(secret, "header.payload"). Verification order: size, shape (exactly two
 * dots), header (strict JSON, alg HS256 only), signature (canonical base64url, 32 bytes, constant-time
 * compare), and only then the payload and its claims, so that an unsigned payload is never interpreted.
 * HMAC comes from util/crypto. */
#include "core/token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#include "util/crypto.h"
#include "util/json.h"

#define TOKEN_MAC_LEN 32
#define TOKEN_SIG_B64_LEN 43             /* 32 bytes in base64url without padding */
#define TOKEN_DECODED_MAX (TOKEN_MAX_LEN / 4 * 3 + 3)
#define TOKEN_PAYLOAD_JSON_MAX 1023      /* ample: the claims' strings escape to < 600 bytes */
#define TOKEN_JSON_DEPTH 8
#define TOKEN_JSON_STRING 1024

static const char header_json[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

static int invalid(bs_err *err, const char *why)
{
    return bs_err_set(err, 401, "auth/invalid-token", "Invalid token: %s", why);
}

static int secret_ok(const uint8_t *secret, size_t secret_len)
{
    return secret && secret_len >= TOKEN_SECRET_MIN && secret_len <= TOKEN_SECRET_MAX;
}

static int hmac_sha256(const uint8_t *key, size_t key_len, const void *data, size_t n, uint8_t mac[TOKEN_MAC_LEN])
{
    return crypto_hmac_sha256(key, key_len, data, n, mac);
}

/* ---- claims rules, shared by sign and verify ---- */

/* A NUL within cap, printable ASCII before it, and not empty unless allowed. */
static int field_ok(const char *s, size_t cap, int may_be_empty)
{
    const char *end = memchr(s, '\0', cap);
    if (!end) return 0;
    if (end == s) return may_be_empty;
    for (const char *p = s; p < end; p++)
        if (*p < 0x20 || *p > 0x7e) return 0;
    return 1;
}

static int one_of(const char *s, const char *const *allowed)
{
    for (; *allowed; allowed++)
        if (strcmp(s, *allowed) == 0) return 1;
    return 0;
}

/* NULL when c follows the rules of token.h, otherwise what is wrong. */
static const char *claims_problem(const token_claims *c)
{
    static const char *const roles[] = {"", "admin", "user", "guest", NULL};
    static const char *const typs[] = {"", "access", "refresh", NULL};
    if (!field_ok(c->sub, sizeof c->sub, 0)) return "bad sub claim";
    if (!field_ok(c->role, sizeof c->role, 1) || !one_of(c->role, roles)) return "bad role claim";
    if (!field_ok(c->jti, sizeof c->jti, 1)) return "bad jti claim";
    if (!field_ok(c->env, sizeof c->env, 1)) return "bad env claim";
    if (!field_ok(c->pid, sizeof c->pid, 1)) return "bad pid claim";
    if (!field_ok(c->typ, sizeof c->typ, 1) || !one_of(c->typ, typs)) return "bad typ claim";
    if (c->iat < 0 || c->iat > TOKEN_TIME_MAX) return "bad iat claim";
    if (c->exp < 0 || c->exp > TOKEN_TIME_MAX) return "bad exp claim";
    if (c->exp <= c->iat) return "exp not after iat";
    return NULL;
}

/* ---- signing ---- */

static int append_claim(strbuf *sb, const char *key, const char *value, int *first)
{
    if (!value[0]) return 0;
    if (!*first && strbuf_append_char(sb, ',') < 0) return -1;
    *first = 0;
    if (strbuf_append_json_string(sb, key, strlen(key)) < 0 || strbuf_append_char(sb, ':') < 0) return -1;
    return strbuf_append_json_string(sb, value, strlen(value));
}

static int payload_json(const token_claims *c, strbuf *sb)
{
    int first = 1;
    if (strbuf_append_char(sb, '{') < 0) return -1;
    if (append_claim(sb, "sub", c->sub, &first) < 0 || append_claim(sb, "role", c->role, &first) < 0 ||
        append_claim(sb, "jti", c->jti, &first) < 0)
        return -1;
    if (strbuf_appendf(sb, ",\"iat\":%lld,\"exp\":%lld", (long long)c->iat, (long long)c->exp) < 0) return -1;
    if (append_claim(sb, "pid", c->pid, &first) < 0 || append_claim(sb, "env", c->env, &first) < 0 ||
        append_claim(sb, "typ", c->typ, &first) < 0)
        return -1;
    return strbuf_append_char(sb, '}');
}

int token_sign(const token_claims *c, const uint8_t *secret, size_t secret_len, strbuf *out, bs_err *err)
{
    if (!c || !out || !secret_ok(secret, secret_len) || claims_problem(c)) return bs_err_internal(err);

    char json_mem[TOKEN_PAYLOAD_JSON_MAX + 1];
    strbuf json;
    strbuf_init_stack(&json, json_mem, sizeof json_mem);
    json.max = TOKEN_PAYLOAD_JSON_MAX;
    int rc = payload_json(c, &json);
    char payload_b64[4 * ((TOKEN_PAYLOAD_JSON_MAX + 2) / 3) + 1];
    size_t payload_b64_len = rc < 0 ? 0 : crypto_base64url_encode(json.data, json.len, payload_b64);
    strbuf_release(&json);
    if (rc < 0) return bs_err_internal(err);

    char header_b64[4 * ((sizeof header_json + 1) / 3) + 1];
    size_t header_b64_len = crypto_base64url_encode(header_json, sizeof header_json - 1, header_b64);

    size_t start = out->len;
    int overflow_before = out->overflow;
    uint8_t mac[TOKEN_MAC_LEN];
    char sig_b64[TOKEN_SIG_B64_LEN + 2];
    if (strbuf_append(out, header_b64, header_b64_len) < 0 || strbuf_append_char(out, '.') < 0 ||
        strbuf_append(out, payload_b64, payload_b64_len) < 0 ||
        hmac_sha256(secret, secret_len, out->data + start, out->len - start, mac) < 0 ||
        crypto_base64url_encode(mac, sizeof mac, sig_b64) != TOKEN_SIG_B64_LEN ||
        strbuf_append_char(out, '.') < 0 || strbuf_append(out, sig_b64, TOKEN_SIG_B64_LEN) < 0) {
        out->len = start;
        out->overflow = overflow_before;
        if (out->data) out->data[start] = '\0';
        OPENSSL_cleanse(mac, sizeof mac);
        return bs_err_internal(err);
    }
    OPENSSL_cleanse(mac, sizeof mac);
    return 0;
}

/* ---- verification ---- */

/* Decodes one segment and parses it as a strict JSON object. NULL when it is not one. */
static struct json_object *segment_object(const char *s, size_t n, uint8_t *buf)
{
    long len = crypto_base64url_decode_bounded(s, n, buf, TOKEN_DECODED_MAX);
    if (len <= 0) return NULL;
    json_limits limits = {.max_depth = TOKEN_JSON_DEPTH, .max_string = TOKEN_JSON_STRING};
    bs_err ignored;
    bs_err_clear(&ignored);
    struct json_object *obj = json_parse_strict((const char *)buf, (size_t)len, &limits, NULL, &ignored);
    if (obj && !json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        return NULL;
    }
    return obj;
}

/* 1 when v is a JSON string equal to want, byte for byte. */
static int string_is(struct json_object *v, const char *want)
{
    if (!json_object_is_type(v, json_type_string)) return 0;
    size_t n = (size_t)json_object_get_string_len(v);
    return n == strlen(want) && memcmp(json_object_get_string(v), want, n) == 0;
}

static const char *header_problem(struct json_object *hdr)
{
    int has_alg = 0;
    json_object_object_foreach(hdr, key, val) {
        if (strcmp(key, "alg") == 0) {
            if (!string_is(val, "HS256")) return "unsupported alg";
            has_alg = 1;
        } else if (strcmp(key, "typ") == 0) {
            if (!string_is(val, "JWT")) return "unsupported typ";
        } else {
            return "unexpected header member";
        }
    }
    return has_alg ? NULL : "missing alg";
}

/* Copies payload[key] into dst (cap bytes) when present; it must be a string that fits. */
static int read_string(struct json_object *payload, const char *key, char *dst, size_t cap)
{
    struct json_object *v;
    dst[0] = '\0';
    if (!json_object_object_get_ex(payload, key, &v)) return 0;
    if (!json_object_is_type(v, json_type_string)) return -1;
    size_t n = (size_t)json_object_get_string_len(v);
    if (n == 0 || n >= cap) return -1;
    memcpy(dst, json_object_get_string(v), n);
    dst[n] = '\0';
    return 0;
}

static int read_time(struct json_object *payload, const char *key, int64_t *dst)
{
    struct json_object *v;
    if (!json_object_object_get_ex(payload, key, &v) || !json_object_is_type(v, json_type_int)) return -1;
    int64_t t = json_object_get_int64(v); /* an unsigned value above INT64_MAX reads as INT64_MAX */
    if (t < 0 || t > TOKEN_TIME_MAX) return -1;
    *dst = t;
    return 0;
}

static const char *payload_claims(struct json_object *payload, token_claims *c)
{
    if (read_string(payload, "sub", c->sub, sizeof c->sub) < 0 || !c->sub[0]) return "bad sub claim";
    if (read_string(payload, "role", c->role, sizeof c->role) < 0) return "bad role claim";
    if (read_string(payload, "jti", c->jti, sizeof c->jti) < 0) return "bad jti claim";
    if (read_string(payload, "env", c->env, sizeof c->env) < 0) return "bad env claim";
    if (read_string(payload, "pid", c->pid, sizeof c->pid) < 0) return "bad pid claim";
    if (read_string(payload, "typ", c->typ, sizeof c->typ) < 0) return "bad typ claim";
    if (read_time(payload, "iat", &c->iat) < 0) return "bad iat claim";
    if (read_time(payload, "exp", &c->exp) < 0) return "bad exp claim";
    return claims_problem(c);
}

int token_verify(const char *jwt, size_t len, const uint8_t *secret, size_t secret_len, int64_t now,
                 token_claims *out, bs_err *err)
{
    if (out) memset(out, 0, sizeof *out);
    if (!secret_ok(secret, secret_len)) return bs_err_internal(err);
    if (!jwt || len == 0) return invalid(err, "empty");
    if (len > TOKEN_MAX_LEN) return invalid(err, "too long");

    const char *dot1 = memchr(jwt, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - jwt)) : NULL;
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - jwt))) return invalid(err, "expected 3 parts");
    const char *sig = dot2 + 1;
    size_t header_len = (size_t)(dot1 - jwt), payload_len = (size_t)(dot2 - dot1 - 1);
    size_t sig_len = len - (size_t)(sig - jwt);

    uint8_t buf[TOKEN_DECODED_MAX];
    struct json_object *hdr = segment_object(jwt, header_len, buf);
    if (!hdr) return invalid(err, "malformed header");
    const char *problem = header_problem(hdr);
    json_object_put(hdr);
    if (problem) return invalid(err, problem);

    uint8_t given[TOKEN_MAC_LEN], mac[TOKEN_MAC_LEN];
    if (sig_len != TOKEN_SIG_B64_LEN || crypto_base64url_decode_bounded(sig, sig_len, given, sizeof given) != TOKEN_MAC_LEN)
        return invalid(err, "malformed signature");
    if (hmac_sha256(secret, secret_len, jwt, (size_t)(dot2 - jwt), mac) < 0) return bs_err_internal(err);
    int same = CRYPTO_memcmp(given, mac, TOKEN_MAC_LEN) == 0;
    OPENSSL_cleanse(mac, sizeof mac);
    if (!same) return invalid(err, "bad signature");

    struct json_object *payload = segment_object(dot1 + 1, payload_len, buf);
    if (!payload) return invalid(err, "malformed payload");
    token_claims c;
    memset(&c, 0, sizeof c);
    problem = payload_claims(payload, &c);
    json_object_put(payload);
    if (problem) return invalid(err, problem);
    if (c.iat - TOKEN_CLOCK_SKEW > now) return invalid(err, "issued in the future"); /* iat >= 0: no overflow */
    if (c.exp <= now) return bs_err_set(err, 401, "auth/token-expired", "Token expired");
    if (out) *out = c;
    return 0;
}
