#include "core/accounts.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"

/* Trims and lower-cases an e-mail into out; 0, or 400 auth/invalid-email. */
int accounts_email_normalize(const char *in, char out[STORE_EMAIL_MAX], bs_err *err)
{
    if (!in) return bs_err_set(err, 400, "auth/invalid-email", "A valid e-mail address is required");
    while (*in == ' ' || *in == '\t') in++;
    size_t n = strlen(in);
    while (n && (in[n - 1] == ' ' || in[n - 1] == '\t')) n--;
    if (n == 0 || n >= STORE_EMAIL_MAX) return bs_err_set(err, 400, "auth/invalid-email", "A valid e-mail address is required");
    const char *at = memchr(in, '@', n);
    int ok = at && at > in && at < in + n - 1 && !memchr(at + 1, '@', (size_t)(in + n - at - 1));
    const char *dot = ok ? memchr(at + 1, '.', (size_t)(in + n - at - 1)) : NULL;
    ok = ok && dot && dot > at + 1 && dot < in + n - 1;
    for (size_t i = 0; ok && i < n; i++) ok = (unsigned char)in[i] > 0x20 && in[i] != 0x7f;
    if (!ok) return bs_err_set(err, 400, "auth/invalid-email", "A valid e-mail address is required");
    for (size_t i = 0; i < n; i++) out[i] = (char)tolower((unsigned char)in[i]);
    out[n] = '\0';
    return 0;
}

void accounts_audit(store_docs *docs, const char *env_id, int64_t retention_ms, const store_audit *a)
{
    bs_err err;
    if (store_audit_add(docs, env_id, a, &err) < 0) log_warn("audit %s not recorded: %s", a->event, err.message);
    static _Thread_local unsigned events;
    if (events++ % 256 == 0) accounts_prune(docs, env_id, retention_ms); /* now and then, on the way */
}

void accounts_prune(store_docs *docs, const char *env_id, int64_t retention_ms)
{
    bs_err err;
    int64_t now = clock_now_ms();
    if (store_auth_prune(docs, env_id, now - retention_ms, now, &err) < 0)
        log_warn("auth housekeeping of %s failed: %s", env_id, err.message);
}

int accounts_session_alive(store_docs *docs, const char *env_id, const char *jti, store_session *s, bs_err *err)
{
    int found = 0;
    if (jti[0]) {
        if (store_sessions_get(docs, env_id, jti, s, &found, err) < 0) return -1;
        if (found && (s->revoked_at || s->expires_at <= clock_now_ms()))
            return bs_err_set(err, 401, "auth/invalid-token", "The session of this token has ended");
    }
    if (!found) memset(s, 0, sizeof *s);
    return 0;
}

static void add_text_or_null(struct json_object *o, const char *name, const char *text)
{
    json_object_object_add(o, name, text && text[0] ? json_object_new_string(text) : NULL);
}

struct json_object *accounts_user_json(const store_user *u)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(u->id));
    json_object_object_add(o, "role", json_object_new_string(u->role));
    json_object_object_add(o, "name", json_object_new_string(u->name));
    json_object_object_add(o, "email", json_object_new_string(u->email));
    json_add_time(o, "emailVerified", u->email_verified_at);
    add_text_or_null(o, "image", u->image);
    add_text_or_null(o, "nickname", u->nickname);
    struct json_object *profile = json_tokener_parse(u->profile), *v;
    static const char *const extra[] = {"mobile", "gender", "bio", "socialLinks"};
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        json_object_object_add(o, extra[i], json_object_object_get_ex(profile, extra[i], &v) ? json_object_get(v) : NULL);
    struct json_object *onboarding, *status;
    int has = json_object_object_get_ex(profile, "onboarding", &onboarding) && json_object_object_get_ex(onboarding, "status", &status);
    json_object_object_add(o, "onboardingStatus", json_object_new_string(has ? json_object_get_string(status) : "pending"));
    json_object_put(profile);
    json_add_time(o, "lastLoginAt", u->last_login_at);
    json_add_time(o, "createdAt", u->created_at);
    json_add_time(o, "updatedAt", u->updated_at);
    return o;
}
