#include "core/console_session.h"

#include <stdio.h>
#include <string.h>

#include "core/keys.h"
#include "util/crypto.h"

/* CONSOLE_SECRET_BYTES from the CSPRNG as unpadded base64url. */
static int new_secret(char out[CONSOLE_SECRET_MAX], bs_err *err)
{
    uint8_t raw[CONSOLE_SECRET_BYTES];
    if (crypto_random_bytes(raw, sizeof raw) < 0) return bs_err_set(err, 500, "common/internal-error", "No randomness available");
    crypto_base64url_encode(raw, sizeof raw, out);
    memset(raw, 0, sizeof raw);
    return 0;
}

/* A presented secret has exactly the form new_secret makes (so nothing else reaches the store). */
static int secret_well_formed(const char *text)
{
    if (!text || strlen(text) != CONSOLE_SECRET_LEN) return 0;
    uint8_t raw[CONSOLE_SECRET_BYTES];
    return crypto_base64url_decode_bounded(text, CONSOLE_SECRET_LEN, raw, sizeof raw) == CONSOLE_SECRET_BYTES;
}

int console_session_open(store_control *store, const store_token_context *tok, int64_t now, char cookie[CONSOLE_SECRET_MAX],
                         store_console_session *out, bs_err *err)
{
    memset(out, 0, sizeof *out);
    if (new_secret(cookie, err) < 0 || new_secret(out->csrf, err) < 0) return -1;
    crypto_sha256_hex(cookie, strlen(cookie), out->hash);
    snprintf(out->token_id, sizeof out->token_id, "%s", tok->token_id);
    out->created_at = now;
    out->expires_at = now + CONSOLE_SESSION_TTL_MS;
    if (tok->expires_at && tok->expires_at < out->expires_at) out->expires_at = tok->expires_at;
    out->token = *tok;
    return store_control_console_session_insert(store, out, err);
}

int console_session_verify(store_control *store, const char *cookie, int64_t now, store_console_session *out, bs_err *err)
{
    memset(out, 0, sizeof *out);
    if (!secret_well_formed(cookie)) return bs_err_set(err, 401, "auth/unauthorized", "The console session is not valid");
    char hash[STORE_HASH_HEX];
    crypto_sha256_hex(cookie, strlen(cookie), hash);
    int found = 0;
    if (store_control_console_session_lookup(store, hash, out, &found, err) < 0) return -1;
    if (!found) return bs_err_set(err, 401, "auth/unauthorized", "The console session is not valid");
    if (out->expires_at <= now) return bs_err_set(err, 401, "auth/unauthorized", "The console session has expired");
    if (out->token.revoked_at) return bs_err_set(err, 401, "auth/unauthorized", "The console session's token has been revoked");
    if (out->token.expires_at && out->token.expires_at <= now)
        return bs_err_set(err, 401, "auth/unauthorized", "The console session's token has expired");
    return 0;
}

int console_session_close(store_control *store, const char *cookie, int64_t now, bs_err *err)
{
    if (!secret_well_formed(cookie)) return 0;
    char hash[STORE_HASH_HEX];
    crypto_sha256_hex(cookie, strlen(cookie), hash);
    int found = 0;
    store_console_session s;
    if (store_control_console_session_lookup(store, hash, &s, &found, err) < 0) return -1;
    if (store_control_console_session_delete(store, hash, &found, err) < 0) return -1;
    /* a link's token lives as long as its session: signing out deletes it (no other token has that name) */
    return s.token_id[0] ? store_control_console_tokens_prune(store, CONSOLE_LINK_TOKEN_NAME, now, s.token_id, NULL, err) : 0;
}

int console_csrf_matches(const store_console_session *s, const char *presented)
{
    size_t n = strlen(s->csrf);
    if (!presented || n == 0 || strlen(presented) != n) return 0;
    return crypto_equal(presented, s->csrf, n);
}

int console_link_create(store_control *store, const char *org_id, int64_t now, char code[CONSOLE_SECRET_MAX], bs_err *err)
{
    store_org org;
    int found = 0;
    if (store_control_org_get(store, org_id, &org, &found, err) < 0) return -1;
    if (!found || !strcmp(org.status, "deleted")) return bs_err_set(err, 404, "org/not-found", "Organization not found");
    store_console_link l;
    memset(&l, 0, sizeof l);
    if (new_secret(code, err) < 0) return -1;
    crypto_sha256_hex(code, strlen(code), l.hash);
    snprintf(l.organization_id, sizeof l.organization_id, "%s", org.id);
    l.created_at = now;
    l.expires_at = now + CONSOLE_LINK_TTL_MS;
    return store_control_console_link_insert(store, &l, err);
}

/* The organization's first Owner member into owner (owner->id "" when it has none). */
static int first_owner(store_control *store, const char *org_id, store_member *owner, bs_err *err)
{
    store_member_query q = {.organization_id = org_id, .role = "owner", .limit = 1};
    size_t n = 0;
    int64_t total = 0;
    memset(owner, 0, sizeof *owner);
    return store_control_member_list(store, &q, owner, &n, &total, err);
}

/* A fresh owner token for the link's session (its secret is drawn and forgotten: only the session uses it). */
static int mint_owner_token(store_control *store, const char *org_id, int64_t now, store_token_context *out, bs_err *err)
{
    store_member owner;
    if (first_owner(store, org_id, &owner, err) < 0) return -1;
    store_operator_token t;
    memset(&t, 0, sizeof t);
    char secret[KEYS_TEXT_MAX];
    if (keys_generate(KEYS_OPERATOR, secret) < 0 || keys_new_id("tok", t.id) < 0)
        return bs_err_set(err, 500, "common/internal-error", "No randomness available");
    snprintf(t.organization_id, sizeof t.organization_id, "%s", org_id);
    snprintf(t.name, sizeof t.name, "%s", CONSOLE_LINK_TOKEN_NAME);
    snprintf(t.role, sizeof t.role, "owner");
    keys_hash(secret, t.hash);
    keys_hint(secret, t.hint);
    memset(secret, 0, sizeof secret);
    t.created_at = now;
    t.expires_at = now + CONSOLE_SESSION_TTL_MS;
    snprintf(t.member_id, sizeof t.member_id, "%s", owner.id);
    if (store_control_operator_token_insert(store, &t, err) < 0) return -1;
    memset(out, 0, sizeof *out);
    snprintf(out->token_id, sizeof out->token_id, "%s", t.id);
    snprintf(out->organization_id, sizeof out->organization_id, "%s", org_id);
    snprintf(out->role, sizeof out->role, "%s", owner.id[0] ? owner.role : t.role);
    snprintf(out->member_id, sizeof out->member_id, "%s", owner.id);
    out->expires_at = t.expires_at;
    return 0;
}

int console_link_sign_in(store_control *store, const char *code, int64_t now, char cookie[CONSOLE_SECRET_MAX],
                         store_console_session *out, bs_err *err)
{
    if (!secret_well_formed(code)) return bs_err_set(err, 401, "auth/unauthorized", "The sign-in link is not valid");
    char hash[STORE_HASH_HEX];
    crypto_sha256_hex(code, strlen(code), hash);
    store_console_link l;
    int consumed = 0;
    if (store_control_console_link_consume(store, hash, now, &l, &consumed, err) < 0) return -1;
    if (!consumed) return bs_err_set(err, 401, "auth/unauthorized", "The sign-in link was used already or has expired");
    store_org org;
    int found = 0;
    if (store_control_org_get(store, l.organization_id, &org, &found, err) < 0) return -1;
    if (!found || !strcmp(org.status, "deleted")) return bs_err_set(err, 401, "auth/unauthorized", "The organization is gone");
    store_token_context tok;
    if (store_control_console_tokens_prune(store, CONSOLE_LINK_TOKEN_NAME, now, NULL, NULL, err) < 0 ||
        mint_owner_token(store, l.organization_id, now, &tok, err) < 0)
        return -1;
    return console_session_open(store, &tok, now, cookie, out, err);
}
