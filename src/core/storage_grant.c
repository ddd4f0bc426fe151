#include "core/storage_grant.h"

#include <stdio.h>
#include <string.h>

#include "util/crypto.h"

static void grant_text(const storage_grant *g, strbuf *out)
{
    strbuf_appendf(out, "%s\n%s\n%lld\n%llu\n%s\n%s\n%s\n%s\n%d", g->method, g->key, (long long)g->expires,
                   (unsigned long long)g->size, g->type ? g->type : "", g->by ? g->by : "", g->vis ? g->vis : "",
                   g->upload ? g->upload : "", g->part);
}

static void grant_sign(const uint8_t signing_key[STORAGE_GRANT_KEY_LEN], const storage_grant *g, char out[64])
{
    uint8_t mac[CRYPTO_SHA256_LEN];
    strbuf text;
    strbuf_init(&text, 4096);
    grant_text(g, &text);
    crypto_hmac_sha256(signing_key, STORAGE_GRANT_KEY_LEN, text.data, text.len, mac);
    crypto_base64url_encode(mac, sizeof mac, out);
    strbuf_release(&text);
}

static void query_param(strbuf *out, const char *name, const char *value)
{
    strbuf_appendf(out, "&%s=", name);
    strbuf_append_percent(out, value, 0);
}

int storage_grant_url(const char *public_url, const uint8_t signing_key[STORAGE_GRANT_KEY_LEN], const char *key, const storage_grant *g,
                      strbuf *out)
{
    strbuf_appendf(out, "%s/storage/%s", public_url, key);
    if (g) {
        char sig[64], num[32];
        snprintf(num, sizeof num, "%lld", (long long)g->expires);
        strbuf_appendf(out, "?expires=%s", num);
        if (g->size) {
            snprintf(num, sizeof num, "%llu", (unsigned long long)g->size);
            query_param(out, "size", num);
        }
        if (g->type && *g->type) query_param(out, "type", g->type);
        if (g->by && *g->by) query_param(out, "by", g->by);
        if (g->vis && *g->vis) query_param(out, "vis", g->vis);
        if (g->upload && *g->upload) {
            query_param(out, "upload", g->upload);
            snprintf(num, sizeof num, "%d", g->part);
            query_param(out, "part", num);
        }
        grant_sign(signing_key, g, sig);
        query_param(out, "signature", sig);
    }
    return out->overflow ? -1 : 0;
}

int storage_grant_valid(const uint8_t signing_key[STORAGE_GRANT_KEY_LEN], const storage_grant *g, const char *sig)
{
    char want[64];
    if (!sig || strlen(sig) != 43) return 0;
    grant_sign(signing_key, g, want);
    return crypto_equal(want, sig, 43);
}
