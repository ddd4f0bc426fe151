#include "core/bootstrap.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

void bootstrap_failpoint(const char *name)
{
#ifdef BASALT_ASSERTS /* test builds only (Debug, Sanitize, Thread): BASALT_TEST_FAILPOINT=name dies there as kill -9 would */
    const char *want = getenv("BASALT_TEST_FAILPOINT");
    if (want && !strcmp(want, name)) raise(SIGKILL);
#else
    (void)name;
#endif
}

static int make_key(keys_kind kind, const char *env_id, const char *name, store_api_key *key, char *text)
{
    if (keys_generate(kind, text) < 0 || keys_new_id("key", key->id) < 0) return -1;
    snprintf(key->environment_id, sizeof key->environment_id, "%s", env_id);
    snprintf(key->type, sizeof key->type, "%s", keys_kind_name(kind));
    snprintf(key->name, sizeof key->name, "%s", name);
    keys_hash(text, key->hash);
    keys_hint(text, key->hint);
    return 0;
}

static int fill_rows(store_bootstrap *b, bootstrap_result *out, int64_t now)
{
    if (keys_new_id("org", b->org.id) < 0 || keys_new_id("proj", b->project.id) < 0 ||
        keys_new_id("env", b->env.id) < 0 || keys_new_id("tok", b->operator_token.id) < 0)
        return -1;
    snprintf(b->org.name, sizeof b->org.name, "default");
    snprintf(b->org.slug, sizeof b->org.slug, "default");
    snprintf(b->org.plan, sizeof b->org.plan, "free");
    snprintf(b->org.status, sizeof b->org.status, "active");
    b->org.created_at = b->org.updated_at = now;
    snprintf(b->project.organization_id, sizeof b->project.organization_id, "%s", b->org.id);
    snprintf(b->project.name, sizeof b->project.name, "default");
    snprintf(b->project.slug, sizeof b->project.slug, "default");
    snprintf(b->project.status, sizeof b->project.status, "active");
    b->project.created_at = b->project.updated_at = now;
    snprintf(b->env.project_id, sizeof b->env.project_id, "%s", b->project.id);
    snprintf(b->env.name, sizeof b->env.name, "dev");
    snprintf(b->env.type, sizeof b->env.type, "dev");
    snprintf(b->env.status, sizeof b->env.status, "ready");
    b->env.created_at = b->env.updated_at = now;
    if (make_key(KEYS_PUBLISHABLE, b->env.id, "default publishable", &b->publishable, out->publishable_key) < 0 ||
        make_key(KEYS_SECRET, b->env.id, "default secret", &b->secret, out->secret_key) < 0)
        return -1;
    b->publishable.created_at = b->secret.created_at = now;
    store_operator_token *t = &b->operator_token;
    if (keys_generate(KEYS_OPERATOR, out->operator_token) < 0) return -1;
    snprintf(t->organization_id, sizeof t->organization_id, "%s", b->org.id);
    snprintf(t->name, sizeof t->name, "bootstrap");
    snprintf(t->role, sizeof t->role, "owner");
    keys_hash(out->operator_token, t->hash);
    keys_hint(out->operator_token, t->hint);
    t->created_at = now;
    store_member *owner = &b->owner; /* the token acts as the organization's Owner member (platform.md §2.1) */
    if (keys_new_id("mem", owner->id) < 0) return -1;
    snprintf(owner->organization_id, sizeof owner->organization_id, "%s", b->org.id);
    snprintf(owner->name, sizeof owner->name, "Owner");
    snprintf(owner->role, sizeof owner->role, "owner");
    snprintf(owner->status, sizeof owner->status, "active");
    owner->joined_at = now;
    snprintf(t->member_id, sizeof t->member_id, "%s", owner->id);
    return 0;
}

int bootstrap_run_kept(store_control *store, bootstrap_keep_fn keep, void *arg, bootstrap_result *out, bs_err *err)
{
    memset(out, 0, sizeof *out);
    int empty = 0;
    if (store_control_is_empty(store, &empty, err) < 0) return -1;
    if (!empty) return 0;
    store_bootstrap b;
    memset(&b, 0, sizeof b);
    if (fill_rows(&b, out, clock_now_ms()) < 0) return bs_err_set(err, 500, "common/internal-error", "No randomness available");
    snprintf(out->organization_id, sizeof out->organization_id, "%s", b.org.id);
    snprintf(out->project_id, sizeof out->project_id, "%s", b.project.id);
    snprintf(out->environment, sizeof out->environment, "%s", b.env.name);
    if (keep && keep(out, arg, err) < 0) return -1; /* nothing committed: the next start begins again */
    bootstrap_failpoint("bootstrap-before-commit");
    if (store_control_bootstrap(store, &b, err) < 0) return -1;
    bootstrap_failpoint("bootstrap-after-commit");
    out->created = 1;
    return 0;
}

int bootstrap_run(store_control *store, bootstrap_result *out, bs_err *err)
{
    return bootstrap_run_kept(store, NULL, NULL, out, err);
}
