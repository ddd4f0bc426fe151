/* libFuzzer target: HS256 JWT verification (core/token.h). scripts/fuzz.sh token SECONDS.
 *
 * An input whose first byte is odd is a forged token's "header.payload" text, which this target signs
 * correctly, so the fuzzer reaches the header and claims rules behind the signature; otherwise the rest
 * is a whole token as a client would send it. A token verification accepts must sign again to a token
 * that verifies to the same claims; a refusal must be 401 auth/invalid-token or auth/token-expired. */
#include "decode_guard.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/token.h"
#include "util/crypto.h"
#include "util/strbuf.h"

#define NOW 1700000100

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t secret[] = "fuzz-secret-0123456789abcdefghijklmnop";

/* text + "." + base64url(HMAC(text)) into sb. */
static void forge(strbuf *sb, const uint8_t *text, size_t n)
{
    uint8_t mac[CRYPTO_SHA256_LEN];
    char sig[64];
    if (crypto_hmac_sha256(secret, sizeof secret - 1, text, n, mac) < 0) abort();
    crypto_base64url_encode(mac, sizeof mac, sig);
    strbuf_append(sb, (const char *)text, n);
    strbuf_appendf(sb, ".%s", sig);
}

static int same_claims(const token_claims *a, const token_claims *b)
{
    return !strcmp(a->sub, b->sub) && !strcmp(a->role, b->role) && !strcmp(a->jti, b->jti) && !strcmp(a->env, b->env) &&
           !strcmp(a->pid, b->pid) && !strcmp(a->typ, b->typ) && a->iat == b->iat && a->exp == b->exp;
}

static void check_accepted(const token_claims *c)
{
    strbuf again;
    strbuf_init(&again, 0);
    token_claims back;
    bs_err err;
    if (token_sign(c, secret, sizeof secret - 1, &again, &err) < 0) abort();
    if (token_verify(again.data, again.len, secret, sizeof secret - 1, NOW, &back, &err) < 0) abort();
    if (!same_claims(c, &back)) abort();
    strbuf_release(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    strbuf jwt;
    strbuf_init(&jwt, 0);
    if (data[0] & 1) forge(&jwt, data + 1, size - 1);
    else strbuf_append(&jwt, (const char *)data + 1, size - 1);
    char *exact = malloc(jwt.len ? jwt.len : 1); /* exactly the token's bytes: ASan sees overreads */
    if (!exact) abort();
    if (jwt.len) memcpy(exact, jwt.data, jwt.len);
    token_claims c;
    bs_err err;
    bs_err_clear(&err);
    int rc = token_verify(exact, jwt.len, secret, sizeof secret - 1, NOW, &c, &err);
    free(exact);
    strbuf_release(&jwt);
    if (rc == 0) check_accepted(&c);
    else if (err.status != 401 || (strcmp(err.code, "auth/invalid-token") && strcmp(err.code, "auth/token-expired")))
        abort();
    return 0;
}
