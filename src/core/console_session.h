/* console_session: the web console's sign-in (docs/management-api.md "Console sessions", docs/security.md).
 * A session is made from an operator token and carries exactly its rights: it stores the token's id, and
 * every use reads the token again (revoked, expired or its member gone: the session ends with it). The
 * cookie value and the CSRF token are 32 CSPRNG bytes each, base64url; only the SHA-256 hex of the cookie
 * is stored. A one-time sign-in link (`basalt console link`) holds a code of 32 CSPRNG bytes, stored as its
 * SHA-256 hex, used once within CONSOLE_LINK_TTL_MS: it mints a fresh owner token named "console link"
 * (bound to the organization's first Owner member, expiring with the session; its secret is never shown)
 * and opens a session on it. That token is deleted when its session is signed out, and once expired at the
 * next link sign-in or access-token list (store_control_console_tokens_prune); the name is reserved.
 * Pure logic over the control store: no HTTP. Every buffer is the caller's; nothing is kept. */
#ifndef BASALT_CORE_CONSOLE_SESSION_H
#define BASALT_CORE_CONSOLE_SESSION_H

#include <stdint.h>

#include "store/control.h"
#include "util/err.h"

#define CONSOLE_SECRET_BYTES 32
#define CONSOLE_SECRET_LEN 43                    /* base64url of 32 bytes, unpadded */
#define CONSOLE_SECRET_MAX (CONSOLE_SECRET_LEN + 1)
#define CONSOLE_SESSION_TTL_MS (12LL * 3600 * 1000) /* no sliding: a session ends 12 h after sign-in */
#define CONSOLE_LINK_TTL_MS (15LL * 60 * 1000)
#define CONSOLE_LINK_TOKEN_NAME "console link"

/* Opens a session for a verified token at now: *cookie (the value of the basalt_console cookie) and *out
 * (its CSRF token, expiry and tok as its context). */
int console_session_open(store_control *store, const store_token_context *tok, int64_t now, char cookie[CONSOLE_SECRET_MAX],
                         store_console_session *out, bs_err *err);
/* The live session of a cookie value: 401 auth/unauthorized when it is malformed, unknown, expired at now,
 * or its token is revoked or expired. */
int console_session_verify(store_control *store, const char *cookie, int64_t now, store_console_session *out, bs_err *err);
/* Deletes the session of a cookie value (nothing when there is none); a session a sign-in link opened takes
 * its "console link" token with it. */
int console_session_close(store_control *store, const char *cookie, int64_t now, bs_err *err);
/* 1 when presented equals the session's CSRF token (compared in constant time), 0 otherwise (NULL too). */
int console_csrf_matches(const store_console_session *s, const char *presented);

/* A new one-time sign-in code for the organization org_id (404 org/not-found when there is none). */
int console_link_create(store_control *store, const char *org_id, int64_t now, char code[CONSOLE_SECRET_MAX], bs_err *err);
/* Uses a sign-in code at now and opens a session as the organization's owner (see above): 401
 * auth/unauthorized when the code is malformed, unknown, used or expired. */
int console_link_sign_in(store_control *store, const char *code, int64_t now, char cookie[CONSOLE_SECRET_MAX],
                         store_console_session *out, bs_err *err);

#endif
