/* mailer: where the server's mail to end users goes. Without an SMTP URL, into the environment's outbox
 * in the control store (development, tests; readable through the management API). With one
 * (--smtp-url smtp://[user:password@]host:port, or smtps:// for TLS from the start; STARTTLS is used
 * when the server offers it), a sender thread delivers through libcurl, trying each mail three times
 * (after 1 s and 5 s) before logging it as failed; the request that caused a mail never waits for SMTP.
 * Ownership: mailer_new borrows the store; mailer_free delivers what is queued, then stops. The process
 * calls curl_global_init before and curl_global_cleanup after (app/serve.c). */
#ifndef BASALT_CORE_MAILER_H
#define BASALT_CORE_MAILER_H

#include "store/control.h"
#include "util/err.h"

typedef struct mailer mailer;

/* smtp_url NULL or "" = outbox only. from: the sender address (no display name). */
mailer *mailer_new(store_control *store, const char *smtp_url, const char *from, bs_err *err);
void mailer_free(mailer *m);
/* Sends (or keeps) one mail; its id and created_at are filled here. */
int mailer_send(mailer *m, store_mail *mail, bs_err *err);

#endif
