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

#endif
