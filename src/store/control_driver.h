/* control_driver: the ops table a control-store driver implements (store/sqlite/ today, store/postgres/
 * later). store/control.c picks a driver from the location and forwards every public store_control_*
 * call to the matching function pointer here, so adding a driver touches no caller.
 *
 * Contract: `open` receives the location with its scheme prefix removed (for SQLite, the file path) and
 * returns the driver's own handle (opaque to control.c) or NULL with err filled; `free` releases it.
 * Every other function receives that handle and has exactly the semantics documented in store/control.h
 * (0 on success, -1 with err filled on failure; *found = 0 is not an error). Drivers must be callable
 * from any thread at the same time. No driver type (sqlite3, PGconn, ...) may appear in this header. */
#ifndef BASALT_STORE_CONTROL_DRIVER_H
#define BASALT_STORE_CONTROL_DRIVER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "store/control.h"
#include "util/err.h"

typedef struct store_control_ops {
    const char *name; /* "sqlite", "postgres": for logs */

    void *(*open)(const char *target, bs_err *err);
    void (*free)(void *driver);

    int (*ping)(void *driver, bs_err *err);
    int (*version)(void *driver, int *version, bs_err *err);
    int (*is_empty)(void *driver, int *empty, bs_err *err);
    int (*bootstrap)(void *driver, const store_bootstrap *b, bs_err *err);

    int (*org_insert)(void *driver, const store_org *org, bs_err *err);
    int (*project_insert)(void *driver, const store_project *project, bs_err *err);
    int (*env_insert)(void *driver, const store_env *env, bs_err *err);
    int (*api_key_insert)(void *driver, const store_api_key *key, bs_err *err);
    int (*operator_token_insert)(void *driver, const store_operator_token *tok, bs_err *err);

    int (*org_get)(void *driver, const char *id, store_org *out, int *found, bs_err *err);
    int (*env_get)(void *driver, const char *id, store_env *out, int *found, bs_err *err);

    int (*api_key_revoke)(void *driver, const char *key_id, int64_t at, int *found, bs_err *err);
    int (*operator_token_revoke)(void *driver, const char *token_id, int64_t at, int *found, bs_err *err);
    int (*env_delete)(void *driver, const char *env_id, int *found, bs_err *err);

    int (*key_lookup)(void *driver, const char *hash_hex, store_key_context *out, int *found, bs_err *err);
    int (*token_lookup)(void *driver, const char *hash_hex, store_token_context *out, int *found,
                        bs_err *err);

    int (*project_get)(void *driver, const char *id, store_project *out, int *found, bs_err *err);
    int (*env_find)(void *driver, const char *project_id, const char *name, store_env *out, int *found,
                    bs_err *err);
    int (*api_key_list)(void *driver, const char *env_id, store_api_key_row *out, size_t max, size_t *count,
                        bs_err *err);
    int (*api_key_count)(void *driver, const char *env_id, size_t *count, bs_err *err);
    int (*api_key_get)(void *driver, const char *key_id, store_api_key_row *out, int *found, bs_err *err);
    int (*env_secret)(void *driver, const char *env_id, const char *kind, const uint8_t *fresh, size_t len,
                      uint8_t *out, bs_err *err);
    int (*outbox_add)(void *driver, const store_mail *mail, bs_err *err);
    int (*outbox_list)(void *driver, const char *env_id, store_mail *out, size_t max, size_t *count, bs_err *err);
    int (*org_outbox_list)(void *driver, const char *org_id, store_mail *out, size_t max, size_t *count, bs_err *err);
    int (*provider_put)(void *driver, const store_provider *p, bs_err *err);
    int (*provider_get)(void *driver, const char *env_id, const char *provider, store_provider *out, int *found, bs_err *err);
    int (*setting_put)(void *driver, const char *env_id, const char *name, const char *value, int64_t at, bs_err *err);
    int (*setting_get)(void *driver, const char *env_id, const char *name, char *out, size_t size, int *found, bs_err *err);
    int (*setting_delete)(void *driver, const char *env_id, const char *name, int *found, bs_err *err);

    int (*org_update)(void *driver, const store_org *org, int *found, bs_err *err);
    int (*org_delete)(void *driver, const char *id, int *found, bs_err *err);
    int (*project_list)(void *driver, const char *org_id, store_project *out, size_t max, size_t *count, bs_err *err);
    int (*project_count)(void *driver, const char *org_id, int64_t *count, bs_err *err);
    int (*project_update)(void *driver, const store_project *p, int *found, bs_err *err);
    int (*project_delete)(void *driver, const char *id, int *found, bs_err *err);
    int (*env_list)(void *driver, const char *project_id, store_env *out, size_t max, size_t *count, bs_err *err);
    int (*env_set_status)(void *driver, const char *env_id, const char *status, int64_t at, int *found, bs_err *err);
    int (*env_touch)(void *driver, const char *env_id, int64_t at, int *reactivated, bs_err *err);
    int (*env_shutdown_idle)(void *driver, int64_t now, int64_t dev_idle_ms, int64_t other_idle_ms, int64_t *count,
                             bs_err *err);
    int (*env_deletions_due)(void *driver, int64_t now, store_env *out, size_t max, size_t *count, bs_err *err);
    int (*env_cancel_deletion)(void *driver, const char *env_id, int *found, bs_err *err);
    int (*env_place)(void *driver, const char *env_id, int dedicated, int capacity, int64_t now, store_placement *out,
                     bs_err *err);
    int (*env_placement)(void *driver, const char *env_id, store_placement *out, int *found, bs_err *err);
    int (*env_move_target)(void *driver, const char *env_id, const char *cluster_id, store_placement *out, bs_err *err);
    int (*env_move_commit)(void *driver, const char *env_id, const store_placement *to, int64_t now, bs_err *err);
    int (*slots_reclaim)(void *driver, int64_t now, int64_t *count, bs_err *err);
    int (*envs_unplaced)(void *driver, store_env *out, size_t max, size_t *count, bs_err *err);
    int (*cluster_list)(void *driver, store_cluster *out, size_t max, size_t *count, bs_err *err);
    int (*cluster_add)(void *driver, const store_cluster *c, int64_t now, bs_err *err);
    int (*cluster_set_status)(void *driver, const char *id, const char *status, int *found, bs_err *err);
    int (*activity_add)(void *driver, const store_activity *a, bs_err *err);
    int (*activity_list)(void *driver, const store_activity_query *q, store_activity *out, size_t *count,
                         int64_t *total, bs_err *err);
    /* team */
    int (*member_insert)(void *driver, const store_member *m, bs_err *err);
    int (*member_get)(void *driver, const char *org_id, const char *member_id, store_member *out, int *found, bs_err *err);
    int (*member_find_email)(void *driver, const char *org_id, const char *email, store_member *out, int *found,
                             bs_err *err);
    int (*member_list)(void *driver, const store_member_query *q, store_member *out, size_t *count, int64_t *total,
                       bs_err *err);
    int (*member_set_role)(void *driver, const char *org_id, const char *member_id, const char *role,
                           store_team_outcome *outcome, bs_err *err);
    int (*member_remove)(void *driver, const char *org_id, const char *member_id, int64_t at, store_team_outcome *outcome,
                         bs_err *err);
    int (*member_transfer)(void *driver, const char *org_id, const char *member_id, int *found, bs_err *err);
    int (*operator_token_list)(void *driver, const char *org_id, store_operator_token_row *out, size_t max,
                               size_t *count, bs_err *err);
    int (*operator_token_get)(void *driver, const char *org_id, const char *token_id, store_operator_token_row *out,
                              int *found, bs_err *err);
    int (*invitation_insert)(void *driver, const store_org_invitation *inv, bs_err *err);
    int (*invitation_get)(void *driver, const char *org_id, const char *id, store_org_invitation *out, int *found,
                          bs_err *err);
    int (*invitation_lookup)(void *driver, const char *hash_hex, store_org_invitation *out, int *found, bs_err *err);
    int (*invitation_list)(void *driver, const store_org_invitation_query *q, store_org_invitation *out, size_t *count,
                           int64_t *total, bs_err *err);
    int (*invitation_revoke)(void *driver, const char *org_id, const char *id, int64_t at, int *found, bs_err *err);
    int (*invitation_accept)(void *driver, const char *id, int64_t at, const store_member *m,
                             const store_operator_token *t, int *accepted, bs_err *err);
    /* console sessions and sign-in links */
    int (*console_session_insert)(void *driver, const store_console_session *s, bs_err *err);
    int (*console_session_lookup)(void *driver, const char *hash_hex, store_console_session *out, int *found, bs_err *err);
    int (*console_session_delete)(void *driver, const char *hash_hex, int *found, bs_err *err);
    int (*console_tokens_prune)(void *driver, const char *name, int64_t now, const char *token_id, int64_t *count,
                                bs_err *err);
    int (*console_link_insert)(void *driver, const store_console_link *l, bs_err *err);
    int (*console_link_consume)(void *driver, const char *hash_hex, int64_t at, store_console_link *out, int *consumed,
                                bs_err *err);
    /* usage alerts and webhook deliveries */
    int (*usage_mau_known)(void *driver, const char *env_id, int64_t month_start, const char *user_id, int *known, bs_err *err);
    int (*alert_add)(void *driver, const store_alert *a, int *created, bs_err *err);
    int (*alert_list)(void *driver, const char *org_id, const char *month, store_alert *out, size_t max, size_t *count,
                      bs_err *err);
    int (*delivery_add)(void *driver, const store_delivery *d, bs_err *err);
    int (*deliveries_due)(void *driver, int64_t now, store_delivery *out, size_t max, size_t *count, bs_err *err);
    int (*delivery_update)(void *driver, const store_delivery *d, bs_err *err);
    int (*delivery_list)(void *driver, const char *org_id, store_delivery *out, size_t max, size_t *count, bs_err *err);
    /* usage */
    int (*usage_sum)(void *driver, const char *org_id, const char *project_id, const char *metric, int64_t from_ms,
                     int64_t to_ms, int64_t *sum, bs_err *err);
    int (*usage_add)(void *driver, const store_usage_delta *d, size_t n, int64_t now_ms, bs_err *err);
    int (*usage_list)(void *driver, const store_usage_query *q, store_usage_row *out, size_t *count, int64_t *total,
                      bs_err *err);
    int (*usage_rollup)(void *driver, int64_t now_ms, bs_err *err);
    int (*usage_envs)(void *driver, store_usage_env *out, size_t max, size_t *count, bs_err *err);
    /* leases */
    int (*lease_take)(void *driver, const char *name, const char *holder, int64_t ttl_ms, int64_t *fence, int *held, bs_err *err);
    int (*lease_release)(void *driver, const char *name, const char *holder, bs_err *err);
} store_control_ops;

/* The checks of env_move_target, shared by the drivers: what they read about the cluster (found = 0: none)
 * and where the environment is (its cluster id, "" none). 0, or -1 with err. */
static inline int store_move_target_check(int found, const char *status, int capacity, int used, const char *url,
                                          const char *current, const char *cluster_id, bs_err *err)
{
    if (!found) return bs_err_set(err, 404, "common/not-found", "No cluster %.64s", cluster_id);
    if (!url[0])
        return bs_err_set(err, 400, "common/invalid-parameters",
                          "Cluster %.64s names no database server: an environment moves to a registered server", cluster_id);
    if (!strcmp(current, cluster_id))
        return bs_err_set(err, 409, "common/conflict", "The environment is on cluster %.64s already", cluster_id);
    if (strcmp(status, "active") != 0)
        return bs_err_set(err, 409, "common/conflict", "Cluster %.64s is %.16s: it takes no environment", cluster_id, status);
    if (used >= capacity) return bs_err_set(err, 409, "common/conflict", "Cluster %.64s is full", cluster_id);
    return 0;
}

#endif
