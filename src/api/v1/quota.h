/* quota: the usage checks of /v1 calls (design.md §4, docs/quotas.md): the pipeline's quota stage (the
 * organization's monthly API calls, the project's daily cap) and gate stage (bandwidth, storage), and the
 * MAU checks the auth surface makes when a user signs up or in. A refusal is 429 with the envelope's
 * details {metric, limit, used, resetAt}; a threshold reached raises the usage alert (core/alerts). */
#ifndef BASALT_API_V1_QUOTA_H
#define BASALT_API_V1_QUOTA_H

#include <stdint.h>

#include "api/route.h"

/* The quota stage: 0 admitted (X-RateLimit-* set), -1 answered (429 / 503). */
int api_usage_gate(api_app *app, const store_key_context *key, int64_t daily_limit, http_res *res);
/* Storage, MAU and bandwidth: 0 when the organization's monthly metric is below its plan's limit (raising
 * the 80/100 % alerts on the way), else -1 with the 429 answered (res NULL: nothing answered; the caller
 * refuses through api_usage_refuse). As of the usage rows a few seconds ago (core/usage_cache). */
int api_usage_allow(api_app *app, const store_key_context *key, const char *metric, http_res *res);
/* The MAU check of a sign-in, sign-up or refresh of user_id: a user already active this month is never
 * refused; a new one is once the organization's MAU reached its limit. active_ms: when the caller knows the
 * user was last active (a previous sign-in, the session's start; 0 unknown): in this month, the user is
 * one of the month's users even before any instance's meter flushed it (in a fleet another instance may
 * have seen the user a moment ago). res as for api_usage_allow. */
int api_usage_allow_user(api_app *app, const store_key_context *key, const char *user_id, int64_t active_ms,
                         http_res *res);
/* The refusal of a flow that answers through bs_err (a redirect carries only a code): 429
 * usage/quota-exceeded, without the details api_usage_allow answers. Returns -1. */
int api_usage_refuse(const char *metric, bs_err *err);

#endif
