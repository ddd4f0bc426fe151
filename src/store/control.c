/* control: driver selection and dispatch for the control store (see control.h). The handle is a driver
 * ops table plus the driver's own opaque handle; every public call forwards to the ops table. */
#include "store/control.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/control_driver.h"
#include "store/postgres/control_pg.h"
#include "store/sqlite/control_sqlite.h"
#include "util/check.h"
#include "util/clock.h"
#include "util/crypto.h"

struct store_control {
    const store_control_ops *ops;
    void *driver;
    uint8_t seal_key[CRYPTO_KEY_LEN]; /* seals cluster URLs at rest (store_control_set_seal_key) */
    int sealing;
};

/* Locations the control store understands; the first matching prefix wins. A location with no known
 * prefix and no "scheme://" is a SQLite file path. */
static const struct {
    const char *prefix;
    const store_control_ops *ops;
    int whole;                    /* the driver receives the whole location (libpq's URL), not what follows */
} control_schemes[] = {
    {"sqlite:", &store_sqlite_control_ops, 0},
    {"postgres://", &store_pg_control_ops, 1},
    {"postgresql://", &store_pg_control_ops, 1},
};

static int control_no_store(bs_err *err)
{
    return bs_err_internal(err);
}

/* Finds the driver for location and the target text it receives. -1 with err filled when none fits. */
static int control_pick(const char *location, const store_control_ops **ops, const char **target,
                        bs_err *err)
{
    if (!location || !*location)
        return bs_err_set(err, 500, "common/internal-error", "control store location is empty");
    for (size_t i = 0; i < sizeof control_schemes / sizeof control_schemes[0]; i++) {
        size_t n = strlen(control_schemes[i].prefix);
        if (strncmp(location, control_schemes[i].prefix, n) != 0) continue;
        *ops = control_schemes[i].ops;
        *target = control_schemes[i].whole ? location : location + n;
        return 0;
    }
    const char *sep = strstr(location, "://");
    if (sep && !memchr(location, '/', (size_t)(sep - location)))
        return bs_err_set(err, 500, "common/internal-error", "unsupported control store location scheme");
    *ops = &store_sqlite_control_ops;
    *target = location;
    return 0;
}

store_control *store_control_open(const char *location, bs_err *err)
{
    const store_control_ops *ops = NULL;
    const char *target = NULL;
    if (control_pick(location, &ops, &target, err) != 0) return NULL;
    if (!*target) {
        bs_err_set(err, 500, "common/internal-error", "control store path is empty");
        return NULL;
    }
    store_control *store = calloc(1, sizeof *store);
    if (!store) {
        bs_err_internal(err);
        return NULL;
    }
    store->ops = ops;
    store->driver = ops->open(target, err);
    if (!store->driver) {
        free(store);
        return NULL;
    }
    return store;
}

int store_control_is_shared(const store_control *store)
{
    return store && store->ops == &store_pg_control_ops;
}

void store_control_free(store_control *store)
{
    if (!store) return;
    store->ops->free(store->driver);
    free(store);
}

int store_control_ping(store_control *store, bs_err *err)
{
    if (!store) return control_no_store(err);
    return store->ops->ping(store->driver, err);
}

int store_control_version(store_control *store, int *version, bs_err *err)
{
    if (!store || !version) return control_no_store(err);
    return store->ops->version(store->driver, version, err);
}

int store_control_is_empty(store_control *store, int *empty, bs_err *err)
{
    if (!store || !empty) return control_no_store(err);
    return store->ops->is_empty(store->driver, empty, err);
}

int store_control_bootstrap(store_control *store, const store_bootstrap *b, bs_err *err)
{
    if (!store || !b) return control_no_store(err);
    return store->ops->bootstrap(store->driver, b, err);
}

int store_control_org_insert(store_control *store, const store_org *org, bs_err *err)
{
    if (!store || !org) return control_no_store(err);
    return store->ops->org_insert(store->driver, org, err);
}

int store_control_project_insert(store_control *store, const store_project *project, bs_err *err)
{
    if (!store || !project) return control_no_store(err);
    return store->ops->project_insert(store->driver, project, err);
}

int store_control_env_insert(store_control *store, const store_env *env, bs_err *err)
{
    if (!store || !env) return control_no_store(err);
    return store->ops->env_insert(store->driver, env, err);
}

int store_control_api_key_insert(store_control *store, const store_api_key *key, bs_err *err)
{
    if (!store || !key) return control_no_store(err);
    return store->ops->api_key_insert(store->driver, key, err);
}

int store_control_operator_token_insert(store_control *store, const store_operator_token *tok, bs_err *err)
{
    if (!store || !tok) return control_no_store(err);
    return store->ops->operator_token_insert(store->driver, tok, err);
}

int store_control_org_get(store_control *store, const char *id, store_org *out, int *found, bs_err *err)
{
    if (!store || !id || !out || !found) return control_no_store(err);
    return store->ops->org_get(store->driver, id, out, found, err);
}

int store_control_env_get(store_control *store, const char *id, store_env *out, int *found, bs_err *err)
{
    if (!store || !id || !out || !found) return control_no_store(err);
    return store->ops->env_get(store->driver, id, out, found, err);
}

int store_control_project_get(store_control *store, const char *id, store_project *out, int *found, bs_err *err)
{
    if (!store || !id || !out || !found) return control_no_store(err);
    return store->ops->project_get(store->driver, id, out, found, err);
}

int store_control_env_find(store_control *store, const char *project_id, const char *name, store_env *out,
                           int *found, bs_err *err)
{
    if (!store || !project_id || !name || !out || !found) return control_no_store(err);
    return store->ops->env_find(store->driver, project_id, name, out, found, err);
}

int store_control_api_key_list(store_control *store, const char *env_id, store_api_key_row *out, size_t max,
                               size_t *count, bs_err *err)
{
    if (!store || !env_id || !out || !count) return control_no_store(err);
    return store->ops->api_key_list(store->driver, env_id, out, max, count, err);
}

int store_control_env_secret(store_control *store, const char *env_id, const char *kind,
                             uint8_t out[STORE_ENV_SECRET_LEN], bs_err *err)
{
    if (!store || !env_id || !kind || !out) return control_no_store(err);
    uint8_t fresh[STORE_ENV_SECRET_LEN];
    if (crypto_random_bytes(fresh, sizeof fresh) < 0) return bs_err_internal(err);
    return store->ops->env_secret(store->driver, env_id, kind, fresh, sizeof fresh, out, err);
}

int store_control_outbox_add(store_control *store, const store_mail *mail, bs_err *err)
{
    if (!store || !mail) return control_no_store(err);
    return store->ops->outbox_add(store->driver, mail, err);
}

int store_control_provider_put(store_control *store, const store_provider *p, bs_err *err)
{
    if (!store || !p) return control_no_store(err);
    return store->ops->provider_put(store->driver, p, err);
}

int store_control_provider_get(store_control *store, const char *env_id, const char *provider, store_provider *out,
                               int *found, bs_err *err)
{
    if (!store || !env_id || !provider || !out || !found) return control_no_store(err);
    return store->ops->provider_get(store->driver, env_id, provider, out, found, err);
}

int store_control_setting_put(store_control *store, const char *env_id, const char *name, const char *value, bs_err *err)
{
    if (!store || !env_id || !name || !value) return control_no_store(err);
    return store->ops->setting_put(store->driver, env_id, name, value, clock_now_ms(), err);
}

int store_control_setting_get(store_control *store, const char *env_id, const char *name, char *out, size_t size,
                              int *found, bs_err *err)
{
    if (!store || !env_id || !name || !out || !size || !found) return control_no_store(err);
    return store->ops->setting_get(store->driver, env_id, name, out, size, found, err);
}

int store_control_setting_delete(store_control *store, const char *env_id, const char *name, int *found, bs_err *err)
{
    if (!store || !env_id || !name || !found) return control_no_store(err);
    return store->ops->setting_delete(store->driver, env_id, name, found, err);
}

int store_control_outbox_list(store_control *store, const char *env_id, store_mail *out, size_t max, size_t *count,
                              bs_err *err)
{
    if (!store || !env_id || !out || !count) return control_no_store(err);
    return store->ops->outbox_list(store->driver, env_id, out, max, count, err);
}

int store_control_api_key_count(store_control *store, const char *env_id, size_t *count, bs_err *err)
{
    if (!store || !env_id || !count) return control_no_store(err);
    return store->ops->api_key_count(store->driver, env_id, count, err);
}

int store_control_api_key_get(store_control *store, const char *key_id, store_api_key_row *out, int *found,
                              bs_err *err)
{
    if (!store || !key_id || !out || !found) return control_no_store(err);
    return store->ops->api_key_get(store->driver, key_id, out, found, err);
}

int store_control_api_key_revoke(store_control *store, const char *key_id, int64_t at, int *found, bs_err *err)
{
    if (!store || !key_id || !found) return control_no_store(err);
    return store->ops->api_key_revoke(store->driver, key_id, at, found, err);
}

int store_control_operator_token_revoke(store_control *store, const char *token_id, int64_t at, int *found,
                                        bs_err *err)
{
    if (!store || !token_id || !found) return control_no_store(err);
    return store->ops->operator_token_revoke(store->driver, token_id, at, found, err);
}

int store_control_env_delete(store_control *store, const char *env_id, int *found, bs_err *err)
{
    if (!store || !env_id || !found) return control_no_store(err);
    return store->ops->env_delete(store->driver, env_id, found, err);
}

int store_control_key_lookup(store_control *store, const char *hash_hex, store_key_context *out, int *found,
                             bs_err *err)
{
    if (!store || !hash_hex || !out || !found) return control_no_store(err);
    return store->ops->key_lookup(store->driver, hash_hex, out, found, err);
}

int store_control_token_lookup(store_control *store, const char *hash_hex, store_token_context *out,
                               int *found, bs_err *err)
{
    if (!store || !hash_hex || !out || !found) return control_no_store(err);
    return store->ops->token_lookup(store->driver, hash_hex, out, found, err);
}

/* ---- the management plane ---- */

int store_control_org_update(store_control *store, const store_org *org, int *found, bs_err *err)
{
    if (!store || !org || !found) return control_no_store(err);
    return store->ops->org_update(store->driver, org, found, err);
}

int store_control_org_delete(store_control *store, const char *id, int *found, bs_err *err)
{
    if (!store || !id || !found) return control_no_store(err);
    return store->ops->org_delete(store->driver, id, found, err);
}

int store_control_project_list(store_control *store, const char *org_id, store_project *out, size_t max, size_t *count,
                               bs_err *err)
{
    if (!store || !org_id || !out || !count) return control_no_store(err);
    return store->ops->project_list(store->driver, org_id, out, max, count, err);
}

int store_control_project_count(store_control *store, const char *org_id, int64_t *count, bs_err *err)
{
    if (!store || !org_id || !count) return control_no_store(err);
    return store->ops->project_count(store->driver, org_id, count, err);
}

int store_control_project_update(store_control *store, const store_project *p, int *found, bs_err *err)
{
    if (!store || !p || !found) return control_no_store(err);
    return store->ops->project_update(store->driver, p, found, err);
}

int store_control_project_delete(store_control *store, const char *id, int *found, bs_err *err)
{
    if (!store || !id || !found) return control_no_store(err);
    return store->ops->project_delete(store->driver, id, found, err);
}

int store_control_env_list(store_control *store, const char *project_id, store_env *out, size_t max, size_t *count,
                           bs_err *err)
{
    if (!store || !project_id || !out || !count) return control_no_store(err);
    return store->ops->env_list(store->driver, project_id, out, max, count, err);
}

int store_control_env_set_status(store_control *store, const char *env_id, const char *status, int64_t at, int *found,
                                 bs_err *err)
{
    if (!store || !env_id || !status || !found) return control_no_store(err);
    return store->ops->env_set_status(store->driver, env_id, status, at, found, err);
}

int store_control_activity_add(store_control *store, const store_activity *a, bs_err *err)
{
    if (!store || !a) return control_no_store(err);
    return store->ops->activity_add(store->driver, a, err);
}

int store_control_activity_list(store_control *store, const store_activity_query *q, store_activity *out, size_t *count,
                                int64_t *total, bs_err *err)
{
    if (!store || !q || !q->organization_id || !out || !count || !total) return control_no_store(err);
    return store->ops->activity_list(store->driver, q, out, count, total, err);
}

/* ---- inactivity ---- */

int store_control_env_touch(store_control *store, const char *env_id, int64_t at, int *reactivated, bs_err *err)
{
    if (!store || !env_id || !reactivated) return control_no_store(err);
    return store->ops->env_touch(store->driver, env_id, at, reactivated, err);
}

int store_control_env_shutdown_idle(store_control *store, int64_t now, int64_t dev_idle_ms, int64_t other_idle_ms,
                                    int64_t *count, bs_err *err)
{
    if (!store || !count) return control_no_store(err);
    return store->ops->env_shutdown_idle(store->driver, now, dev_idle_ms, other_idle_ms, count, err);
}

int store_control_env_deletions_due(store_control *store, int64_t now, store_env *out, size_t max, size_t *count,
                                    bs_err *err)
{
    if (!store || !out || !count) return control_no_store(err);
    return store->ops->env_deletions_due(store->driver, now, out, max, count, err);
}

int store_control_env_cancel_deletion(store_control *store, const char *env_id, int *found, bs_err *err)
{
    if (!store || !env_id || !found) return control_no_store(err);
    return store->ops->env_cancel_deletion(store->driver, env_id, found, err);
}

/* ---- placement ---- */

/* Cluster URLs carry a database password: with a seal key they are stored as CLUSTER_SEALED + crypto_seal
 * of the URL, and opened on every read. A URL in clear (registered before sealing, or without a key) reads
 * as it is; a sealed one read without the key stays sealed (it connects nowhere). */
#define CLUSTER_SEALED "sealed:v1:"

void store_control_set_seal_key(store_control *store, const uint8_t key[32])
{
    if (!store) return;
    memcpy(store->seal_key, key, sizeof store->seal_key);
    store->sealing = 1;
}

static int url_open(const store_control *store, char url[STORE_CLUSTER_URL_MAX], bs_err *err)
{
    size_t pre = strlen(CLUSTER_SEALED);
    if (!store->sealing || strncmp(url, CLUSTER_SEALED, pre) != 0) return 0;
    char plain[STORE_CLUSTER_URL_MAX];
    if (crypto_open(store->seal_key, url + pre, plain, sizeof plain) < 0)
        return bs_err_set(err, 500, "config/invalid", "a cluster's URL cannot be opened with this data directory's master.key");
    snprintf(url, STORE_CLUSTER_URL_MAX, "%s", plain);
    memset(plain, 0, sizeof plain);
    return 0;
}

static int url_seal(const store_control *store, const char *url, char out[STORE_CLUSTER_URL_MAX], bs_err *err)
{
    size_t pre = strlen(CLUSTER_SEALED);
    if (!store->sealing || !url[0]) {
        snprintf(out, STORE_CLUSTER_URL_MAX, "%s", url);
        return 0;
    }
    memcpy(out, CLUSTER_SEALED, pre); /* bounded: pre < STORE_CLUSTER_URL_MAX */
    if (strlen(url) > STORE_CLUSTER_URL_PLAIN_MAX || crypto_seal(store->seal_key, url, strlen(url), out + pre, STORE_CLUSTER_URL_MAX - pre) < 0)
        return bs_err_set(err, 400, "common/invalid-parameters", "A cluster URL holds at most %d bytes", STORE_CLUSTER_URL_PLAIN_MAX);
    return 0;
}

int store_control_env_place(store_control *store, const char *env_id, int dedicated, int capacity, int64_t now,
                            store_placement *out, bs_err *err)
{
    if (!store || !env_id || !out || capacity < 1) return control_no_store(err);
    int rc = store->ops->env_place(store->driver, env_id, dedicated, capacity, now, out, err);
    return rc < 0 ? rc : url_open(store, out->url, err);
}

int store_control_env_placement(store_control *store, const char *env_id, store_placement *out, int *found, bs_err *err)
{
    if (!store || !env_id || !out || !found) return control_no_store(err);
    int rc = store->ops->env_placement(store->driver, env_id, out, found, err);
    return rc < 0 || !*found ? rc : url_open(store, out->url, err);
}

int store_control_slots_reclaim(store_control *store, int64_t now, int64_t *count, bs_err *err)
{
    if (!store || !count) return control_no_store(err);
    return store->ops->slots_reclaim(store->driver, now, count, err);
}

int store_control_env_move_target(store_control *store, const char *env_id, const char *cluster_id,
                                  store_placement *out, bs_err *err)
{
    if (!store) return bs_err_internal(err);
    int rc = store->ops->env_move_target(store->driver, env_id, cluster_id, out, err);
    return rc < 0 ? rc : url_open(store, out->url, err);
}

int store_control_env_move_commit(store_control *store, const char *env_id, const store_placement *to, int64_t now,
                                  bs_err *err)
{
    if (!store) return bs_err_internal(err);
    return store->ops->env_move_commit(store->driver, env_id, to, now, err);
}

int store_control_cluster_list(store_control *store, store_cluster *out, size_t max, size_t *count, bs_err *err)
{
    if (!store || !out || !count) return control_no_store(err);
    int rc = store->ops->cluster_list(store->driver, out, max, count, err);
    for (size_t i = 0; rc == 0 && i < *count; i++) rc = url_open(store, out[i].url, err);
    return rc;
}

int store_control_cluster_add(store_control *store, const store_cluster *c, int64_t now, bs_err *err)
{
    if (!store || !c) return control_no_store(err);
    store_cluster sealed = *c;
    int rc = url_seal(store, c->url, sealed.url, err);
    if (rc == 0) rc = store->ops->cluster_add(store->driver, &sealed, now, err);
    memset(&sealed, 0, sizeof sealed);
    return rc;
}

int store_control_cluster_set_status(store_control *store, const char *id, const char *status, int *found,
                                     bs_err *err)
{
    if (!store || !id || !status || !found) return control_no_store(err);
    *found = 0;
    return store->ops->cluster_set_status(store->driver, id, status, found, err);
}

int store_control_envs_unplaced(store_control *store, store_env *out, size_t max, size_t *count, bs_err *err)
{
    if (!store || !out || !count) return control_no_store(err);
    return store->ops->envs_unplaced(store->driver, out, max, count, err);
}

/* ---- team ---- */

int store_control_member_insert(store_control *store, const store_member *m, bs_err *err)
{
    if (!store || !m) return control_no_store(err);
    return store->ops->member_insert(store->driver, m, err);
}

int store_control_member_get(store_control *store, const char *org_id, const char *member_id, store_member *out,
                             int *found, bs_err *err)
{
    if (!store || !org_id || !member_id || !out || !found) return control_no_store(err);
    return store->ops->member_get(store->driver, org_id, member_id, out, found, err);
}

int store_control_member_find_email(store_control *store, const char *org_id, const char *email, store_member *out,
                                    int *found, bs_err *err)
{
    if (!store || !org_id || !email || !out || !found) return control_no_store(err);
    return store->ops->member_find_email(store->driver, org_id, email, out, found, err);
}

int store_control_member_list(store_control *store, const store_member_query *q, store_member *out, size_t *count,
                              int64_t *total, bs_err *err)
{
    if (!store || !q || !q->organization_id || !out || !count || !total) return control_no_store(err);
    return store->ops->member_list(store->driver, q, out, count, total, err);
}

int store_control_member_set_role(store_control *store, const char *org_id, const char *member_id, const char *role,
                                  store_team_outcome *outcome, bs_err *err)
{
    if (!store || !org_id || !member_id || !role || !outcome) return control_no_store(err);
    return store->ops->member_set_role(store->driver, org_id, member_id, role, outcome, err);
}

int store_control_member_remove(store_control *store, const char *org_id, const char *member_id, int64_t at,
                                store_team_outcome *outcome, bs_err *err)
{
    if (!store || !org_id || !member_id || !outcome) return control_no_store(err);
    return store->ops->member_remove(store->driver, org_id, member_id, at, outcome, err);
}

int store_control_member_transfer(store_control *store, const char *org_id, const char *member_id, int *found,
                                  bs_err *err)
{
    if (!store || !org_id || !member_id || !found) return control_no_store(err);
    return store->ops->member_transfer(store->driver, org_id, member_id, found, err);
}

int store_control_operator_token_list(store_control *store, const char *org_id, store_operator_token_row *out,
                                      size_t max, size_t *count, bs_err *err)
{
    if (!store || !org_id || !out || !count) return control_no_store(err);
    return store->ops->operator_token_list(store->driver, org_id, out, max, count, err);
}

int store_control_operator_token_get(store_control *store, const char *org_id, const char *token_id,
                                     store_operator_token_row *out, int *found, bs_err *err)
{
    if (!store || !org_id || !token_id || !out || !found) return control_no_store(err);
    return store->ops->operator_token_get(store->driver, org_id, token_id, out, found, err);
}

int store_control_invitation_insert(store_control *store, const store_org_invitation *inv, bs_err *err)
{
    if (!store || !inv) return control_no_store(err);
    return store->ops->invitation_insert(store->driver, inv, err);
}

int store_control_invitation_get(store_control *store, const char *org_id, const char *id, store_org_invitation *out,
                                 int *found, bs_err *err)
{
    if (!store || !org_id || !id || !out || !found) return control_no_store(err);
    return store->ops->invitation_get(store->driver, org_id, id, out, found, err);
}

int store_control_invitation_lookup(store_control *store, const char *hash_hex, store_org_invitation *out, int *found,
                                    bs_err *err)
{
    if (!store || !hash_hex || !out || !found) return control_no_store(err);
    return store->ops->invitation_lookup(store->driver, hash_hex, out, found, err);
}

int store_control_invitation_list(store_control *store, const store_org_invitation_query *q, store_org_invitation *out,
                                  size_t *count, int64_t *total, bs_err *err)
{
    if (!store || !q || !q->organization_id || !out || !count || !total) return control_no_store(err);
    return store->ops->invitation_list(store->driver, q, out, count, total, err);
}

int store_control_invitation_revoke(store_control *store, const char *org_id, const char *id, int64_t at, int *found,
                                    bs_err *err)
{
    if (!store || !org_id || !id || !found) return control_no_store(err);
    return store->ops->invitation_revoke(store->driver, org_id, id, at, found, err);
}

int store_control_invitation_accept(store_control *store, const char *id, int64_t at, const store_member *m,
                                    const store_operator_token *t, int *accepted, bs_err *err)
{
    if (!store || !id || !m || !t || !accepted) return control_no_store(err);
    return store->ops->invitation_accept(store->driver, id, at, m, t, accepted, err);
}

int store_control_console_session_insert(store_control *store, const store_console_session *s, bs_err *err)
{
    if (!store || !s) return control_no_store(err);
    return store->ops->console_session_insert(store->driver, s, err);
}

int store_control_console_session_lookup(store_control *store, const char *hash_hex, store_console_session *out,
                                         int *found, bs_err *err)
{
    if (!store || !hash_hex || !out || !found) return control_no_store(err);
    return store->ops->console_session_lookup(store->driver, hash_hex, out, found, err);
}

int store_control_console_session_delete(store_control *store, const char *hash_hex, int *found, bs_err *err)
{
    if (!store || !hash_hex || !found) return control_no_store(err);
    return store->ops->console_session_delete(store->driver, hash_hex, found, err);
}

int store_control_console_tokens_prune(store_control *store, const char *link_token_name, int64_t now,
                                       const char *token_id, int64_t *count, bs_err *err)
{
    int64_t ignored = 0;
    if (!store || !link_token_name || !*link_token_name) return control_no_store(err);
    return store->ops->console_tokens_prune(store->driver, link_token_name, now, token_id, count ? count : &ignored, err);
}

int store_control_console_link_insert(store_control *store, const store_console_link *l, bs_err *err)
{
    if (!store || !l) return control_no_store(err);
    return store->ops->console_link_insert(store->driver, l, err);
}

int store_control_console_link_consume(store_control *store, const char *hash_hex, int64_t at, store_console_link *out,
                                       int *consumed, bs_err *err)
{
    if (!store || !hash_hex || !out || !consumed) return control_no_store(err);
    return store->ops->console_link_consume(store->driver, hash_hex, at, out, consumed, err);
}

int store_control_org_outbox_list(store_control *store, const char *org_id, store_mail *out, size_t max, size_t *count,
                                  bs_err *err)
{
    if (!store || !org_id || !out || !count) return control_no_store(err);
    return store->ops->org_outbox_list(store->driver, org_id, out, max, count, err);
}

/* ---- usage alerts and webhook deliveries ---- */

int store_control_alert_add(store_control *store, const store_alert *a, int *created, bs_err *err)
{
    if (!store || !a || !created) return control_no_store(err);
    return store->ops->alert_add(store->driver, a, created, err);
}

int store_control_alert_list(store_control *store, const char *org_id, const char *month, store_alert *out, size_t max,
                             size_t *count, bs_err *err)
{
    if (!store || !org_id || !out || !count) return control_no_store(err);
    return store->ops->alert_list(store->driver, org_id, month, out, max, count, err);
}

int store_control_delivery_add(store_control *store, const store_delivery *d, bs_err *err)
{
    if (!store || !d) return control_no_store(err);
    return store->ops->delivery_add(store->driver, d, err);
}

int store_control_deliveries_due(store_control *store, int64_t now, store_delivery *out, size_t max, size_t *count, bs_err *err)
{
    if (!store || !out || !count) return control_no_store(err);
    return store->ops->deliveries_due(store->driver, now, out, max, count, err);
}

int store_control_delivery_update(store_control *store, const store_delivery *d, bs_err *err)
{
    if (!store || !d) return control_no_store(err);
    return store->ops->delivery_update(store->driver, d, err);
}

int store_control_delivery_list(store_control *store, const char *org_id, store_delivery *out, size_t max, size_t *count,
                                bs_err *err)
{
    if (!store || !org_id || !out || !count) return control_no_store(err);
    return store->ops->delivery_list(store->driver, org_id, out, max, count, err);
}

/* ---- usage ---- */

int store_control_usage_sum(store_control *store, const char *org_id, const char *project_id, const char *metric,
                            int64_t from_ms, int64_t to_ms, int64_t *sum, bs_err *err)
{
    if (!store || !org_id || !metric || !sum) return control_no_store(err);
    *sum = 0;
    if (from_ms >= to_ms) return 0;
    return store->ops->usage_sum(store->driver, org_id, project_id, metric, from_ms, to_ms, sum, err);
}

int store_control_usage_add(store_control *store, const store_usage_delta *d, size_t n, int64_t now_ms, bs_err *err)
{
    if (!store || (n && !d)) return control_no_store(err);
    return n ? store->ops->usage_add(store->driver, d, n, now_ms, err) : 0;
}

int store_control_usage_list(store_control *store, const store_usage_query *q, store_usage_row *out, size_t *count,
                             int64_t *total, bs_err *err)
{
    if (!store || !q || !q->organization_id || !q->period || !out || !count || !total) return control_no_store(err);
    return store->ops->usage_list(store->driver, q, out, count, total, err);
}

int store_control_usage_rollup(store_control *store, int64_t now_ms, bs_err *err)
{
    if (!store) return control_no_store(err);
    return store->ops->usage_rollup(store->driver, now_ms, err);
}

int store_control_usage_envs(store_control *store, store_usage_env *out, size_t max, size_t *count, bs_err *err)
{
    if (!store || !out || !count) return control_no_store(err);
    return store->ops->usage_envs(store->driver, out, max, count, err);
}

int store_control_usage_mau_known(store_control *store, const char *env_id, int64_t month_start, const char *user_id, int *known,
                                  bs_err *err)
{
    if (!store || !env_id || !user_id || !known) return control_no_store(err);
    return store->ops->usage_mau_known(store->driver, env_id, month_start, user_id, known, err);
}

/* ---- leases ---- */

static int lease_args_ok(const char *name, const char *holder)
{
    return name && holder && *name && *holder && strlen(name) < STORE_LEASE_NAME_MAX && strlen(holder) < STORE_LEASE_HOLDER_MAX;
}

int store_control_lease_take(store_control *store, const char *name, const char *holder, int64_t ttl_ms, int64_t *fence,
                             int *held, bs_err *err)
{
    if (!store || !fence || !held) return control_no_store(err);
    *fence = 0;
    *held = 0;
    if (!lease_args_ok(name, holder) || ttl_ms <= 0) return bs_err_internal(err); /* a caller's bug: names and holders are the program's own */
    int rc = store->ops->lease_take(store->driver, name, holder, ttl_ms, fence, held, err);
    BS_ASSERT(rc < 0 || !*held || *fence > 0); /* a holding always has a fence */
    return rc;
}

int store_control_lease_release(store_control *store, const char *name, const char *holder, bs_err *err)
{
    if (!store) return control_no_store(err);
    if (!lease_args_ok(name, holder)) return bs_err_internal(err); /* a caller's bug: names and holders are the program's own */
    return store->ops->lease_release(store->driver, name, holder, err);
}
