/* oauth.h: what the social sign-in files share (oauth.c: provider settings, code exchange, ID tokens,
 * POSTed callbacks and linking; oauth_redirect.c: the server-driven redirect flow). Private to its folder. */
#ifndef BASALT_API_V1_AUTH_OAUTH_H
#define BASALT_API_V1_AUTH_OAUTH_H

#include "api/v1/auth/auth_users.h"

/* 1 for google and github. */
int api_oauth_provider_known(const char *provider);
/* The caller's environment's settings of provider: 400 auth/unsupported-provider or auth/oauth-not-configured. */
int api_oauth_provider_load(api_ctx *ctx, const char *provider, store_provider *p, bs_err *err);
/* 1 when uri is one of the provider's redirect URIs (any when the list is empty). */
int api_oauth_redirect_allowed(const store_provider *p, const char *uri);
/* Exchanges code (sent with redirect, and the PKCE verifier when not NULL) for the user's profile as
 * OpenID-style claims {sub, email, email_verified, name, picture} (a new reference), or NULL with err. */
struct json_object *api_oauth_profile(api_ctx *ctx, const char *provider, const store_provider *p, const char *code,
                                      const char *redirect, const char *verifier, bs_err *err);
/* The user of a provider profile: linked before, or created (*is_new), or 409
 * auth/account-exists-different-provider when the e-mail has an account of another kind. */
int api_oauth_user(api_ctx *ctx, const char *provider, struct json_object *me, store_user *u, int *is_new, bs_err *err);
/* The server's own callback of the redirect flow (the redirect_uri to register with the provider). */
void api_oauth_callback_url(api_ctx *ctx, const char *provider, const char *env_id, char *out, size_t size);

#endif
