/* accounts: the end-user account rules every surface applies the same way (client-api.md §3): what an
 * e-mail address is, the user object clients see, whether a token's session still lives, and the audit
 * trail of account events with its housekeeping. Stateless; thread-safe. */
#ifndef BASALT_CORE_ACCOUNTS_H
#define BASALT_CORE_ACCOUNTS_H

#include <json-c/json.h>
#include <stdint.h>

#include "store/docs.h"
#include "store/users.h"
#include "util/err.h"

/* Trims and lower-cases an e-mail into out; 0, or 400 auth/invalid-email. */
int accounts_email_normalize(const char *in, char out[STORE_EMAIL_MAX], bs_err *err);
/* The user object of client-api.md §3.6 with the profile fields (a new reference). */
struct json_object *accounts_user_json(const store_user *u);
/* The session jti of a token is alive (s: it, or zeroed when jti is "" or no such session is stored); 401
 * auth/invalid-token once it was revoked or expired. */
int accounts_session_alive(store_docs *docs, const char *env_id, const char *jti, store_session *s, bs_err *err);
/* Records an account event in the environment's audit trail (best effort: a failure is logged); every
 * 256 events of a thread, the housekeeping below runs on the way. */
void accounts_audit(store_docs *docs, const char *env_id, int64_t retention_ms, const store_audit *a);
/* Deletes what the environment's auth tables no longer need: audit events older than retention_ms, ended
 * sessions, used or expired one-time tokens (store_auth_prune). Best effort. */
void accounts_prune(store_docs *docs, const char *env_id, int64_t retention_ms);

#endif
