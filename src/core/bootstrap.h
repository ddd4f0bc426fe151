/* bootstrap: what the first start on an empty control store creates: organization "default" (plan
 * free), project "default", environment "dev", a publishable and a secret key and an operator token.
 * The secrets exist in clear only in the result handed back to the caller, which shows them once;
 * the store keeps their SHA-256 digests. */
#ifndef BASALT_CORE_BOOTSTRAP_H
#define BASALT_CORE_BOOTSTRAP_H

#include "core/keys.h"
#include "store/control.h"

typedef struct bootstrap_result {
    int created;                        /* 0 when the store already held an organization */
    char organization_id[STORE_ID_MAX];
    char project_id[STORE_ID_MAX];
    char environment[STORE_SLUG_MAX];
    char publishable_key[KEYS_TEXT_MAX];
    char secret_key[KEYS_TEXT_MAX];
    char operator_token[KEYS_TEXT_MAX];
} bootstrap_result;

/* Creates the defaults when the store is empty, atomically. */
int bootstrap_run(store_control *store, bootstrap_result *out, bs_err *err);
/* Called with the new credentials after they are made and before the transaction that makes them real
 * commits: it keeps them durably (bootstrap.json, fsync + rename), so that a crash at any point leaves
 * either no bootstrap (the next start does it again and overwrites the file) or a committed one whose keys
 * are in the file. A failure aborts the bootstrap with nothing committed. */
typedef int (*bootstrap_keep_fn)(const bootstrap_result *b, void *arg, bs_err *err);
int bootstrap_run_kept(store_control *store, bootstrap_keep_fn keep, void *arg, bootstrap_result *out, bs_err *err);

/* Test builds (BASALT_ASSERTS, util/check.h): dies with SIGKILL when BASALT_TEST_FAILPOINT names this point. */
void bootstrap_failpoint(const char *name);

#endif
