/* limits: the auth abuse limits of client-api.md §1.10 (docs/auth.md): failed sign-ins per e-mail and per
 * IP, and mails sent per address and purpose.
 *
 * Without --redis they are rows of the environment store (store_limits_*): a check, then a count after the
 * outcome is known, so requests racing each other (threads of one process, or instances sharing a
 * PostgreSQL environment store) may be evaluated a few times past the limit before the block is written.
 * With --redis (app->counters) each decision is one script in Redis that checks and takes in one step
 * (store_counters_limit), so N instances racing get exactly the limit: a sign-in attempt takes its unit
 * before the password is checked and gives it back when it did not fail (a success clears the e-mail's
 * count, as without Redis); a mail takes its unit before it is sent. One Redis round trip per failed
 * sign-in or mail, two for a successful sign-in. When Redis fails, the fleet's fail-open choice of the
 * API-call admission applies (core/quota.h quota_shared_failed): for --redis-fail-open seconds the store
 * rows decide, then 503 common/unavailable. */
#ifndef BASALT_API_V1_AUTH_LIMITS_H
#define BASALT_API_V1_AUTH_LIMITS_H

#include <stdint.h>

#include "api/route.h"
#include "store/users.h"

/* How one sign-in attempt was admitted: in Redis (its unit is taken there) or by the store. */
typedef struct auth_limits_ticket {
    int shared;
} auth_limits_ticket;

/* Before checking a password: *blocked_until > 0 when the e-mail or the IP is blocked (answer 429). -1
 * with err (503 when Redis failed past the fail-open time, or the store failed). */
int auth_limits_signin_admit(api_ctx *ctx, const char *by_email, const char *by_ip, auth_limits_ticket *t,
                             int64_t *blocked_until, bs_err *err);
/* The attempt failed (wrong password or second factor): counted (already, in Redis). */
void auth_limits_signin_failed(api_ctx *ctx, const char *by_email, const char *by_ip, const auth_limits_ticket *t);
/* The attempt succeeded: the e-mail's failures are forgotten (and, in Redis, the IP's unit given back). */
void auth_limits_signin_succeeded(api_ctx *ctx, const char *by_email, const char *by_ip, const auth_limits_ticket *t);
/* The attempt neither failed nor succeeded (a second factor is asked for): its unit is given back. */
void auth_limits_signin_undecided(api_ctx *ctx, const char *by_email, const char *by_ip, const auth_limits_ticket *t);
/* One mail of key ("mail-<purpose>:<e-mail>") under limit: *blocked_until > 0 when refused (429). -1 with err. */
int auth_limits_mail_take(api_ctx *ctx, const char *key, const store_limit *limit, int64_t *blocked_until, bs_err *err);

#endif
