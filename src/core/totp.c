#include "core/totp.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "util/crypto.h"

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static void b32_encode(const uint8_t *in, size_t n, char *out)
{
    uint32_t buf = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        buf = (buf << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = b32_alphabet[(buf >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0) out[o++] = b32_alphabet[(buf << (5 - bits)) & 31];
    out[o] = '\0';
}

/* Decodes base32 (upper or lower case, no padding needed); -1 on a bad character or overflow. */
static long b32_decode(const char *in, uint8_t *out, size_t cap)
{
    uint32_t buf = 0;
    int bits = 0;
    size_t o = 0;
    for (const char *p = in; *p && *p != '='; p++) {
        char c = *p >= 'a' && *p <= 'z' ? (char)(*p - 32) : *p;
        const char *at = strchr(b32_alphabet, c);
        if (!at || !c) return -1;
        buf = (buf << 5) | (uint32_t)(at - b32_alphabet);
        bits += 5;
        if (bits >= 8) {
            if (o == cap) return -1;
            out[o++] = (uint8_t)(buf >> (bits - 8));
            bits -= 8;
        }
    }
    return (long)o;
}

int totp_secret_new(char out[TOTP_SECRET_B32])
{
    uint8_t raw[TOTP_SECRET_BYTES];
    if (crypto_random_bytes(raw, sizeof raw) < 0) return -1;
    b32_encode(raw, sizeof raw, out);
    return 0;
}

int totp_code_at(const char *secret_b32, int64_t step, char out[TOTP_DIGITS + 1])
{
    uint8_t key[64], msg[8], mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    long klen = b32_decode(secret_b32, key, sizeof key);
    if (klen <= 0) return -1;
    for (int i = 7; i >= 0; i--) {
        msg[i] = (uint8_t)(step & 0xff);
        step >>= 8;
    }
    if (!HMAC(EVP_sha1(), key, (int)klen, msg, sizeof msg, mac, &maclen) || maclen < 20) return -1;
    int off = mac[maclen - 1] & 0x0f;
    uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) | ((uint32_t)mac[off + 2] << 8) | mac[off + 3];
    uint32_t mod = 1;
    for (int i = 0; i < TOTP_DIGITS; i++) mod *= 10;
    for (int i = TOTP_DIGITS - 1, v = (int)(bin % mod); i >= 0; i--, v /= 10) out[i] = (char)('0' + v % 10);
    out[TOTP_DIGITS] = '\0';
    return 0;
}

int64_t totp_match(const char *secret_b32, const char *code, int64_t now, int window, int64_t after_step)
{
    if (!code || strlen(code) != TOTP_DIGITS) return -1;
    int64_t step = now / TOTP_PERIOD;
    for (int64_t s = step - window; s <= step + window; s++) {
        char want[TOTP_DIGITS + 1];
        if (s <= after_step || totp_code_at(secret_b32, s, want) < 0) continue;
        if (crypto_equal(want, code, TOTP_DIGITS)) return s;
    }
    return -1;
}
