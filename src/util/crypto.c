#include "util/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sodium.h>

int crypto_random_bytes(void *out, size_t n)
{
    return RAND_bytes(out, (int)n) == 1 ? 0 : -1;
}

void crypto_hex(const uint8_t *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

int crypto_random_hex(char *out, size_t n)
{
    uint8_t buf[64];
    size_t done = 0;
    while (done < n) {
        size_t chunk = n - done < sizeof buf ? n - done : sizeof buf;
        if (crypto_random_bytes(buf, chunk) < 0) return -1;
        crypto_hex(buf, chunk, out + 2 * done);
        done += chunk;
    }
    out[2 * n] = '\0';
    return 0;
}

void crypto_sha256(const void *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN])
{
    SHA256(data, len, out);
}

void crypto_sha256_hex(const void *data, size_t len, char out[CRYPTO_SHA256_HEX])
{
    uint8_t digest[CRYPTO_SHA256_LEN];
    SHA256(data, len, digest);
    crypto_hex(digest, sizeof digest, out);
}

int crypto_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

size_t crypto_base64url_encode(const void *data, size_t n, char *out)
{
    int len = EVP_EncodeBlock((unsigned char *)out, data, (int)n);
    while (len > 0 && out[len - 1] == '=') len--;
    for (int i = 0; i < len; i++) out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    out[len] = '\0';
    return (size_t)len;
}

long crypto_base64url_decode_bounded(const char *text, size_t len, uint8_t *out, size_t cap)
{
    size_t n = 0;
    if (sodium_base642bin(out, cap, text, len, NULL, &n, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return -1;
    return (long)n;
}

#define SEAL_NONCE 12
#define SEAL_TAG 16

int crypto_seal(const uint8_t key[CRYPTO_KEY_LEN], const char *plain, size_t len, char *out, size_t out_size)
{
    uint8_t buf[SEAL_NONCE + SEAL_TAG + 2048];
    int n = 0, m = 0, ok;
    if (len > 2048 || (len + SEAL_NONCE + SEAL_TAG) * 4 / 3 + 8 > out_size) return -1;
    if (crypto_random_bytes(buf, SEAL_NONCE) < 0) return -1;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    ok = c && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, buf) == 1 &&
         EVP_EncryptUpdate(c, buf + SEAL_NONCE + SEAL_TAG, &n, (const unsigned char *)plain, (int)len) == 1 &&
         EVP_EncryptFinal_ex(c, buf + SEAL_NONCE + SEAL_TAG + n, &m) == 1 &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, SEAL_TAG, buf + SEAL_NONCE) == 1;
    EVP_CIPHER_CTX_free(c);
    if (!ok) return -1;
    crypto_base64url_encode(buf, (size_t)(SEAL_NONCE + SEAL_TAG + n + m), out);
    return 0;
}

int crypto_open(const uint8_t key[CRYPTO_KEY_LEN], const char *sealed, char *out, size_t out_size)
{
    uint8_t buf[SEAL_NONCE + SEAL_TAG + 2048];
    long total = crypto_base64url_decode_bounded(sealed, strlen(sealed), buf, sizeof buf);
    if (total < SEAL_NONCE + SEAL_TAG || (size_t)(total - SEAL_NONCE - SEAL_TAG) + 1 > out_size) return -1;
    int n = 0, m = 0, ok;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    ok = c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, buf) == 1 &&
         EVP_DecryptUpdate(c, (unsigned char *)out, &n, buf + SEAL_NONCE + SEAL_TAG, (int)(total - SEAL_NONCE - SEAL_TAG)) == 1 &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, SEAL_TAG, buf + SEAL_NONCE) == 1 &&
         EVP_DecryptFinal_ex(c, (unsigned char *)out + n, &m) == 1;
    EVP_CIPHER_CTX_free(c);
    if (!ok) return -1;
    out[n + m] = '\0';
    return 0;
}

int crypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t n, uint8_t mac[CRYPTO_SHA256_LEN])
{
    unsigned int mac_len = 0;
    if (!HMAC(EVP_sha256(), key, (int)key_len, data, n, mac, &mac_len)) return -1;
    return mac_len == CRYPTO_SHA256_LEN ? 0 : -1;
}
