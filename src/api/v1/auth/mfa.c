/* mfa: TOTP second factor for end users (client-api.md §3.9).
 *   POST /v1/auth/mfa/enable   {password}          200 {secret, qrCodeUrl, backupCodes}   (pending for 10 min)
 *   POST /v1/auth/mfa/confirm  {code}              200 {backupCodes}                       (MFA is on)
 *   POST /v1/auth/mfa/disable  {password, code?}   200 {}
 * Sign-in of a user with MFA on needs `mfaCode` (api_mfa_check): a current TOTP code (±30 s, each step
 * once) or one of ten single-use backup codes, stored as SHA-256. */
#include <stdio.h>
#include <string.h>

#include "api/caller.h"
#include "api/route.h"
#include "api/v1/auth/surface.h"
#include "api/v1/pipeline.h"
#include "api/v1/auth/auth_users.h"
#include "core/password.h"
#include "core/totp.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/json.h"

#define MFA_SETUP_TTL_MS (10 * 60 * 1000)
#define MFA_BACKUP_CODES 10
#define MFA_BACKUP_LEN 8
#define MFA_ISSUER "Basalt"

static const char backup_alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789"; /* no 0/o, 1/l/i */

static struct json_object *backup_codes_new(void)
{
    struct json_object *codes = json_object_new_array();
    for (int i = 0; i < MFA_BACKUP_CODES; i++) {
        uint8_t raw[MFA_BACKUP_LEN];
        char code[MFA_BACKUP_LEN + 1];
        if (crypto_random_bytes(raw, sizeof raw) < 0) {
            json_object_put(codes);
            return NULL;
        }
        for (int k = 0; k < MFA_BACKUP_LEN; k++) code[k] = backup_alphabet[raw[k] % (sizeof backup_alphabet - 1)];
        code[MFA_BACKUP_LEN] = '\0';
        json_object_array_add(codes, json_object_new_string(code));
    }
    return codes;
}

static int password_ok(const store_user *u, struct json_object *body)
{
    const char *pw = json_get_string(body, "password");
    size_t len = pw ? strlen(pw) : 0;
    return pw && len <= PASSWORD_MAX_BYTES && u->password_hash[0] && password_verify(u->password_hash, pw, len);
}

/* Loads the caller and its JSON body; 0, or -1 with err. */
static int caller_and_body(api_ctx *ctx, http_req *req, store_user *u, struct json_object **body, bs_err *err)
{
    store_session s;
    if (api_current_user(ctx, u, &s, err) < 0) return -1;
    *body = http_req_json_borrow(req);
    if (!json_object_is_type(*body, json_type_object)) return bs_err_set(err, 400, "auth/invalid-request", "A JSON object body is required");
    return 0;
}

static void save_or_fail(api_ctx *ctx, http_res *res, store_user *u, struct json_object *answer)
{
    bs_err err;
    int found = 0;
    u->updated_at = clock_now_ms();
    if (store_users_update(ctx->app->docs, ctx->key.environment_id, u, &found, &err) < 0) http_res_error_from(res, &err);
    else http_res_json(res, 200, answer);
    json_object_put(answer);
}

static void enable(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_user u;
    struct json_object *body;
    char secret[TOTP_SECRET_B32];
    if (caller_and_body(ctx, req, &u, &body, &err) < 0 ||
        (u.mfa_enabled_at && bs_err_set(&err, 409, "auth/mfa-already-enabled", "MFA is already on") < 0) ||
        (!password_ok(&u, body) && bs_err_set(&err, 401, "auth/invalid-credentials", "The password is wrong") < 0) ||
        (totp_secret_new(secret) < 0 && bs_err_internal(&err) < 0)) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *codes = backup_codes_new(), *pending = json_object_new_object();
    json_object_object_add(pending, "secret", json_object_new_string(secret));
    json_object_object_add(pending, "codes", json_object_get(codes));
    json_object_object_add(pending, "at", json_object_new_int64(clock_now_ms()));
    snprintf(u.mfa_pending, sizeof u.mfa_pending, "%s", json_object_to_json_string_ext(pending, JSON_C_TO_STRING_PLAIN));
    json_object_put(pending);
    strbuf uri;
    strbuf_init(&uri, 0);
    strbuf_append_str(&uri, "otpauth://totp/" MFA_ISSUER ":");
    strbuf_append_percent(&uri, u.email, 0);
    strbuf_appendf(&uri, "?secret=%s&issuer=" MFA_ISSUER "&algorithm=SHA1&digits=%d&period=%d", secret, TOTP_DIGITS, TOTP_PERIOD);
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "secret", json_object_new_string(secret));
    json_object_object_add(out, "qrCodeUrl", json_object_new_string(uri.data));
    json_object_object_add(out, "backupCodes", codes);
    strbuf_release(&uri);
    save_or_fail(ctx, res, &u, out);
}

static void confirm(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_user u;
    struct json_object *body, *pending = NULL, *codes, *at;
    bs_err_clear(&err);
    if (caller_and_body(ctx, req, &u, &body, &err) == 0) {
        if (u.mfa_enabled_at) bs_err_set(&err, 409, "auth/mfa-already-enabled", "MFA is already on");
        else if (!u.mfa_pending[0] || !(pending = json_tokener_parse(u.mfa_pending)))
            bs_err_set(&err, 400, "auth/mfa-not-enabled", "Start with POST /v1/auth/mfa/enable");
        else if (!json_object_object_get_ex(pending, "at", &at) || clock_now_ms() - json_object_get_int64(at) > MFA_SETUP_TTL_MS)
            bs_err_set(&err, 400, "auth/mfa-setup-expired", "The MFA setup expired; enable it again");
    }
    const char *secret = pending ? json_get_string(pending, "secret") : NULL;
    int64_t step = !err.status && secret ? totp_match(secret, json_get_string(body, "code"), clock_now_ms() / 1000, 1, -1) : -1;
    if (!err.status && step < 0) bs_err_set(&err, 401, "auth/invalid-mfa-code", "The code is wrong");
    if (err.status) {
        json_object_put(pending);
        http_res_error_from(res, &err);
        return;
    }
    json_object_object_get_ex(pending, "codes", &codes);
    struct json_object *hashes = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(codes); i++) {
        const char *code = json_object_get_string(json_object_array_get_idx(codes, i));
        char hex[CRYPTO_SHA256_HEX];
        crypto_sha256_hex(code, strlen(code), hex);
        json_object_array_add(hashes, json_object_new_string(hex));
    }
    snprintf(u.mfa_secret, sizeof u.mfa_secret, "%s", secret);
    snprintf(u.mfa_recovery, sizeof u.mfa_recovery, "%s", json_object_to_json_string_ext(hashes, JSON_C_TO_STRING_PLAIN));
    u.mfa_enabled_at = clock_now_ms();
    u.mfa_last_step = step;
    u.mfa_pending[0] = '\0';
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "backupCodes", json_object_get(codes));
    json_object_put(hashes);
    json_object_put(pending);
    api_audit(ctx, req, "mfa_enabled", u.id, u.email, NULL);
    save_or_fail(ctx, res, &u, out);
}

int api_mfa_check(api_ctx *ctx, store_user *u, const char *code, bs_err *err)
{
    int found = 0;
    int64_t step = totp_match(u->mfa_secret, code, clock_now_ms() / 1000, 1, u->mfa_last_step);
    if (step >= 0) {
        u->mfa_last_step = step;
    } else {
        char hex[CRYPTO_SHA256_HEX];
        struct json_object *hashes = json_tokener_parse(u->mfa_recovery);
        size_t n = json_object_is_type(hashes, json_type_array) ? json_object_array_length(hashes) : 0, i = 0;
        if (code && strlen(code) == MFA_BACKUP_LEN) {
            crypto_sha256_hex(code, MFA_BACKUP_LEN, hex);
            while (i < n && strcmp(json_object_get_string(json_object_array_get_idx(hashes, i)), hex) != 0) i++;
        } else {
            i = n;
        }
        if (i < n) { /* a backup code: used up */
            json_object_array_del_idx(hashes, i, 1);
            snprintf(u->mfa_recovery, sizeof u->mfa_recovery, "%s", json_object_to_json_string_ext(hashes, JSON_C_TO_STRING_PLAIN));
        }
        json_object_put(hashes);
        if (i >= n)
            return n == 0 && code && strlen(code) == MFA_BACKUP_LEN
                       ? bs_err_set(err, 401, "auth/mfa-backup-codes-exhausted", "Every backup code has been used")
                       : bs_err_set(err, 401, "auth/invalid-mfa-code", "The code is wrong");
    }
    return store_users_update(ctx->app->docs, ctx->key.environment_id, u, &found, err);
}

static void disable(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_user u;
    struct json_object *body;
    if (caller_and_body(ctx, req, &u, &body, &err) < 0 ||
        (!u.mfa_enabled_at && bs_err_set(&err, 400, "auth/mfa-not-enabled", "MFA is off") < 0) ||
        (!password_ok(&u, body) && bs_err_set(&err, 401, "auth/invalid-credentials", "The password is wrong") < 0) ||
        (json_object_object_get_ex(body, "code", NULL) && api_mfa_check(ctx, &u, json_get_string(body, "code"), &err) < 0)) {
        http_res_error_from(res, &err);
        return;
    }
    u.mfa_secret[0] = u.mfa_pending[0] = '\0';
    u.mfa_enabled_at = 0;
    u.mfa_last_step = -1;
    snprintf(u.mfa_recovery, sizeof u.mfa_recovery, "[]");
    api_audit(ctx, req, "mfa_disabled", u.id, u.email, NULL);
    save_or_fail(ctx, res, &u, json_object_new_object());
}

int api_mfa_register(http_router *router, api_app *app)
{
    http_route_opts json = {.body = HTTP_BODY_JSON, .max_body = 16 * 1024};
    if (api_route_v1(router, app, HTTP_POST, "/v1/auth/mfa/enable", enable, &json) < 0) return -1;
    if (api_route_v1(router, app, HTTP_POST, "/v1/auth/mfa/confirm", confirm, &json) < 0) return -1;
    return api_route_v1(router, app, HTTP_POST, "/v1/auth/mfa/disable", disable, &json);
}
