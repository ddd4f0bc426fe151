/* alerts: usage alerts (design.md §4) — at 80 % and 100 % of a quota, once per (organization, metric,
 * month, threshold): an entry for the console banner (GET /admin/v1/organizations/:orgId/alerts, served by
 * api/admin/org/alerts.c), a mail to the organization's notification address (SMTP or its outbox), and,
 * when the plan has webhooks, a POST to each project's webhookUrl signed "Basalt-Signature: t=<unix>,
 * v1=<hex HMAC-SHA256 of "<t>.<body>">" with the project's secret, retried with exponential backoff (1 s,
 * 2 s, 4 s ... at most an hour apart) for 24 hours; every attempt is recorded (webhook deliveries).
 * The request that reaches a threshold only queues the event: a worker thread records and sends.
 * Across a fleet: the unique alert row decides which instance mails and queues the webhooks (one, however
 * many evaluate the threshold at once); deliveries are claimed atomically (store_control_deliveries_due) and
 * are sent only by the instance holding the jobs lease (core/jobs_lease.h).
 * Ownership: alerts_new copies the config, whose pointers are borrowed and must outlive the alerts;
 * alerts_free stops the worker after the queued events. Thread-safe. */
#ifndef BASALT_CORE_ALERTS_H
#define BASALT_CORE_ALERTS_H

#include <stdint.h>

#include "core/jobs_lease.h"
#include "core/mailer.h"
#include "store/control.h"

#define ALERTS_SECRET_HEX 71 /* "whsec_" + 64 hex + NUL */

typedef struct alerts alerts;

typedef struct alerts_config {
    store_control *control;      /* alerts, deliveries, organizations, projects */
    mailer *mail;                /* SMTP or the outbox */
    const uint8_t *master_key;   /* 32 bytes: webhook secrets are derived from it */
    int allow_private_webhooks;  /* --allow-private-webhooks */
    int64_t interval_ms;         /* how often the worker looks for due webhook deliveries; <= 0: 1 s */
    jobs_lease *lease;           /* deliveries are sent only while held; NULL: always (one process) */
} alerts_config;

/* NULL on failure. */
alerts *alerts_new(const alerts_config *cfg);
void alerts_free(alerts *a);
/* Queues: organization org_id reached threshold (80 or 100) % of metric's quota limit at now. */
void alerts_raise(alerts *a, const char *org_id, const char *metric, int threshold, int64_t used, int64_t limit, int64_t now);
/* The project's webhook signing secret (derived from the server's master key; stable). */
void alerts_webhook_secret(const uint8_t master_key[32], const char *project_id, char out[ALERTS_SECRET_HEX]);
/* 1 when webhooks may go to url as far as can be told before resolving it: with allow_private any, else
 * not to an internal address literal (core/netrules: private, loopback, link-local, CGNAT, unique-local,
 * multicast, unspecified, metadata; IPv4-mapped too) nor to localhost. Names are resolved, and every
 * address vetted, when a delivery connects: the address checked is the one used. */
int alerts_webhook_url_allowed(int allow_private, const char *url);
/* The month "YYYY-MM" (UTC) of ms, as alerts are keyed. */
void alerts_month_of(int64_t ms, char out[8]);
/* One pass of the worker now: queued events, then due deliveries (tests of the module, shutdown). */
void alerts_run_once(alerts *a);

#endif
