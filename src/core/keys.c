#include "core/keys.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <stdatomic.h>
#include <stdint.h>

#include "util/clock.h"
#include "util/crypto.h"

static const char *const key_prefixes[] = {NULL, "pk_", "sk_", "bt_"};

keys_kind keys_classify(const char *text)
{
    if (!text || strlen(text) != KEYS_TEXT_LEN) return KEYS_INVALID;
    for (int i = 3; i < KEYS_TEXT_LEN; i++)
        if (!isxdigit((unsigned char)text[i])) return KEYS_INVALID;
    for (int k = KEYS_PUBLISHABLE; k <= KEYS_OPERATOR; k++)
        if (strncmp(text, key_prefixes[k], 3) == 0) return (keys_kind)k;
    return KEYS_INVALID;
}

int keys_generate(keys_kind kind, char out[KEYS_TEXT_MAX])
{
    if (kind == KEYS_INVALID) return -1;
    memcpy(out, key_prefixes[kind], 3);
    return crypto_random_hex(out + 3, KEYS_HEX_LEN / 2);
}

void keys_hash(const char *text, char out_hex[65])
{
    char lower[KEYS_TEXT_MAX];
    size_t n = strlen(text);
    if (n > KEYS_TEXT_LEN) { /* not a key: hash it as given, so it can never match one */
        crypto_sha256_hex(text, n, out_hex);
        return;
    }
    for (size_t i = 0; i < n; i++) lower[i] = (char)tolower((unsigned char)text[i]);
    crypto_sha256_hex(lower, n, out_hex);
}

void keys_hint(const char *text, char out[KEYS_HINT_LEN + 1])
{
    snprintf(out, KEYS_HINT_LEN + 1, "%s", text);
}

int keys_new_id(const char *prefix, char out[KEYS_ID_MAX])
{
    char hex[21];
    if (crypto_random_hex(hex, 10) < 0) return -1;
    int n = snprintf(out, KEYS_ID_MAX, "%s_%s", prefix, hex);
    return n > 0 && n < KEYS_ID_MAX ? 0 : -1;
}

int keys_record_id(char out[KEYS_RECORD_ID_LEN + 1])
{
    static _Atomic unsigned counter;
    static _Thread_local uint8_t rnd[5];
    static _Thread_local int seeded;
    if (!seeded) {
        if (crypto_random_bytes(rnd, sizeof rnd) < 0) return -1;
        seeded = 1;
    }
    unsigned n = atomic_fetch_add(&counter, 1);
    uint8_t bytes[12];
    uint32_t secs = (uint32_t)(clock_now_ms() / 1000);
    bytes[0] = (uint8_t)(secs >> 24); bytes[1] = (uint8_t)(secs >> 16); bytes[2] = (uint8_t)(secs >> 8); bytes[3] = (uint8_t)secs;
    memcpy(bytes + 4, rnd, 5);
    bytes[9] = (uint8_t)(n >> 16); bytes[10] = (uint8_t)(n >> 8); bytes[11] = (uint8_t)n;
    crypto_hex(bytes, sizeof bytes, out);
    return 0;
}

const char *keys_kind_name(keys_kind kind)
{
    switch (kind) {
    case KEYS_PUBLISHABLE: return "publishable";
    case KEYS_SECRET: return "secret";
    case KEYS_OPERATOR: return "operator";
    default: return "invalid";
    }
}
