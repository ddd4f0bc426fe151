/* control: the control store, the platform's own records (organizations, projects, environments, API
 * keys, operator tokens). Driver-neutral: callers see only the types below; the SQLite driver lives in
 * store/sqlite/ and a PostgreSQL driver will implement the same ops table (store/control_driver.h).
 *
 * Ownership: store_control_open returns a handle the caller frees with store_control_free. Row structs
 * are plain fixed-size values filled into caller memory; nothing returned here must be freed except the
 * handle. Secrets are never stored: keys and tokens are looked up by their SHA-256 hex digest.
 * Thread safety: every function may be called from any thread at the same time (the driver keeps one
 * connection per thread). Timestamps are Unix epoch milliseconds (util/clock.h). */
#ifndef BASALT_STORE_CONTROL_H
#define BASALT_STORE_CONTROL_H

#include <stdint.h>

#include "util/err.h"

#define STORE_ID_MAX 40        /* ids such as "org_" + 20 hex, with room to spare */
#define STORE_NAME_MAX 401     /* names: at most 100 characters (platform.md §2.1), 4 UTF-8 bytes each */
#define STORE_SLUG_MAX 51      /* slugs: 3–50 characters */
#define STORE_ENUM_MAX 16      /* plan, status, type, role */
#define STORE_HASH_HEX 65      /* SHA-256 as 64 lowercase hex characters + NUL */
#define STORE_KEY_HINT_MAX 16  /* what may be shown of a key after creation: "pk_1a2b…" prefix */

typedef struct store_control store_control;

#define STORE_TEXT_MAX 4001     /* descriptions: at most 1,000 characters */
#define STORE_EMAIL_ADDR_MAX 321

typedef struct store_org {
    char id[STORE_ID_MAX];
    char name[STORE_NAME_MAX];
    char slug[STORE_SLUG_MAX];
    char plan[STORE_ENUM_MAX];   /* free | starter | growth | enterprise */
    char status[STORE_ENUM_MAX]; /* active | suspended | deleted */
    char display_name[STORE_NAME_MAX];
    char description[STORE_TEXT_MAX];
    char notification_email[STORE_EMAIL_ADDR_MAX]; /* "" = none */
    char scheduled_plan[STORE_ENUM_MAX];           /* a downgrade waiting for the end of the month, "" none */
    int64_t scheduled_at;                          /* when it applies (ms), 0 none */
    int64_t api_call_quota;                        /* the operator's monthly API-call quota for it, -1: the plan's */
    int64_t storage_quota, mau_quota, bandwidth_quota; /* the operator's other quotas, -1: the plan's */
    int64_t created_at, updated_at;
} store_org;

typedef struct store_project {
    char id[STORE_ID_MAX];
    char organization_id[STORE_ID_MAX];
    char name[STORE_NAME_MAX];
    char slug[STORE_SLUG_MAX];
    char status[STORE_ENUM_MAX]; /* active | inactive | deleted */
    char description[STORE_TEXT_MAX];
    char primary_cloud[STORE_ENUM_MAX];   /* "" = not given */
    char primary_region[STORE_SLUG_MAX];
    char settings[8192];                  /* JSON object text: allowedOrigins, ipWhitelist, apiCallLimit, webhookUrl, notificationEmail */
    int64_t created_at, updated_at;
} store_project;

typedef struct store_env {
    char id[STORE_ID_MAX];
    char project_id[STORE_ID_MAX];
    char name[STORE_SLUG_MAX];   /* unique within the project: dev, staging, prod, ... */
    char type[STORE_ENUM_MAX];   /* dev | staging | prod | custom */
    char status[STORE_ENUM_MAX]; /* creating | ready | active | failed | deleting | shutdown */
    int64_t created_at, updated_at;
    int64_t last_access_at;      /* last /v1 use (at most STORE_ENV_TOUCH_MS late), 0 never */
    int64_t shutdown_at;         /* when it was shut down for inactivity, 0 when it is not */
    int64_t delete_at;           /* when a shut-down environment is to be deleted, 0 not scheduled */
    char cluster[STORE_ID_MAX];  /* its place (store_control_env_place): "shared-<n>" or "dedicated-...", "" none yet */
    int slot;
} store_env;

typedef struct store_api_key {
    char id[STORE_ID_MAX];
    char environment_id[STORE_ID_MAX];
    char type[STORE_ENUM_MAX];        /* publishable | secret */
    char name[STORE_NAME_MAX];
    char hash[STORE_HASH_HEX];        /* SHA-256 hex of the whole key text */
    char hint[STORE_KEY_HINT_MAX];    /* first characters of the key, for display */
    const char *scopes_json;          /* borrowed on insert; JSON array text or NULL (= all scopes) */
    int64_t expires_at;               /* 0 = never */
    int64_t created_at;
} store_api_key;

typedef struct store_operator_token {
    char id[STORE_ID_MAX];
    char organization_id[STORE_ID_MAX];
    char name[STORE_NAME_MAX];
    char role[STORE_ENUM_MAX];        /* owner | admin | member | billing */
    char hash[STORE_HASH_HEX];
    char hint[STORE_KEY_HINT_MAX];
    int64_t expires_at;               /* 0 = never */
    int64_t created_at;
    char member_id[STORE_ID_MAX];     /* "" = a service token with its own role; else it acts as this member */
} store_operator_token;

/* What an API key resolves to: everything a /v1 request needs to know about its tenant. */
typedef struct store_key_context {
    char key_id[STORE_ID_MAX];
    char key_type[STORE_ENUM_MAX];
    char organization_id[STORE_ID_MAX];
    char organization_status[STORE_ENUM_MAX];
    char plan[STORE_ENUM_MAX];
    char project_id[STORE_ID_MAX];
    char environment_id[STORE_ID_MAX];
    char environment[STORE_SLUG_MAX];  /* the environment's name */
    char scopes_json[1024];            /* JSON array text, "" when the key has every scope */
    int64_t expires_at;                /* 0 = never */
    int64_t revoked_at;                /* 0 = not revoked */
    int environment_exists;            /* 0 when the environment (or its project) was deleted */
    int64_t api_call_quota;            /* the organization's override of its plan's monthly API calls, -1 none */
    int64_t storage_quota, mau_quota, bandwidth_quota; /* its other overrides, -1 none */
} store_key_context;

/* What an operator token resolves to. */
typedef struct store_token_context {
    char token_id[STORE_ID_MAX];
    char organization_id[STORE_ID_MAX];
    char role[STORE_ENUM_MAX];         /* a member-bound token: its member's current role */
    int64_t expires_at;
    int64_t revoked_at;                /* a member-bound token whose member is gone counts as revoked */
    char member_id[STORE_ID_MAX];      /* "" = service token */
} store_token_context;

/* A person in an organization (the team, platform.md §9). */
typedef struct store_member {
    char id[STORE_ID_MAX];                 /* "mem_..." */
    char organization_id[STORE_ID_MAX];
    char email[STORE_EMAIL_ADDR_MAX];      /* unique per organization (case-insensitive); "" = none */
    char name[STORE_NAME_MAX];
    char role[STORE_ENUM_MAX];             /* owner | admin | member | billing */
    char status[STORE_ENUM_MAX];           /* active */
    char invited_by[STORE_ID_MAX];         /* the member (or service token) that invited; "" = creator */
    int64_t joined_at;
} store_member;

/* Everything the first start creates, in one transaction (core/bootstrap.c fills it). */
typedef struct store_bootstrap {
    store_org org;
    store_project project;
    store_env env;
    store_api_key publishable, secret;
    store_operator_token operator_token; /* bound to owner */
    store_member owner;                  /* the organization's first Owner member */
} store_bootstrap;

/* Opens (creating when missing) the control store named by `location`: a SQLite file path, or
 * "sqlite:PATH". Runs pending migrations. NULL on failure, with err filled. */
store_control *store_control_open(const char *location, bs_err *err);
void store_control_free(store_control *store);

/* 0 when the store answers a trivial query. */
int store_control_ping(store_control *store, bs_err *err);
/* The migration version the store is at. */
int store_control_version(store_control *store, int *version, bs_err *err);
/* Sets *empty to 1 when no organization exists yet (first start). */
int store_control_is_empty(store_control *store, int *empty, bs_err *err);

/* Creates all rows of b atomically; on any failure nothing is written. */
int store_control_bootstrap(store_control *store, const store_bootstrap *b, bs_err *err);

int store_control_org_insert(store_control *store, const store_org *org, bs_err *err);
int store_control_project_insert(store_control *store, const store_project *project, bs_err *err);
int store_control_env_insert(store_control *store, const store_env *env, bs_err *err);
int store_control_api_key_insert(store_control *store, const store_api_key *key, bs_err *err);
int store_control_operator_token_insert(store_control *store, const store_operator_token *tok, bs_err *err);

/* Reads by id; *found is 0 when there is no such row (not an error). */
int store_control_org_get(store_control *store, const char *id, store_org *out, int *found, bs_err *err);
int store_control_env_get(store_control *store, const char *id, store_env *out, int *found, bs_err *err);

/* Revocation: sets revoked_at (idempotent). *found is 0 when no such key/token. */
int store_control_api_key_revoke(store_control *store, const char *key_id, int64_t at, int *found, bs_err *err);
int store_control_operator_token_revoke(store_control *store, const char *token_id, int64_t at, int *found,
                                        bs_err *err);
/* Deleting an environment (foundation scope: the row and its keys). */
int store_control_env_delete(store_control *store, const char *env_id, int *found, bs_err *err);

/* Environment keys, as listed by the management API (the hash is never returned above store/). */
#define STORE_MAX_KEYS_PER_ENV 100
typedef struct store_api_key_row {
    store_api_key key;                /* key.scopes_json points at `scopes` below (or is NULL) */
    char scopes[1024];
    int64_t revoked_at;               /* 0 = active */
} store_api_key_row;

int store_control_project_get(store_control *store, const char *id, store_project *out, int *found, bs_err *err);
/* The environment named `name` of a project; *found = 0 when there is none. */
int store_control_env_find(store_control *store, const char *project_id, const char *name, store_env *out,
                           int *found, bs_err *err);
/* Keys of one environment (revoked ones included), oldest first, at most `max` into out. */
int store_control_api_key_list(store_control *store, const char *env_id, store_api_key_row *out, size_t max,
                               size_t *count, bs_err *err);
/* Number of keys of an environment that are not revoked. */
int store_control_api_key_count(store_control *store, const char *env_id, size_t *count, bs_err *err);
int store_control_api_key_get(store_control *store, const char *key_id, store_api_key_row *out, int *found,
                              bs_err *err);
/* An environment's signing secret of one kind ("jwt": end-user tokens), created from the CSPRNG on
 * first use; every caller and every instance gets the same STORE_ENV_SECRET_LEN bytes. */
#define STORE_ENV_SECRET_LEN 32

/* ---- outbox: mail kept instead of sent (no SMTP configured) ---- */
typedef struct store_mail {
    char id[STORE_ID_MAX];
    char environment_id[STORE_ID_MAX];  /* "" for mail of an organization (invitations, alerts) */
    char organization_id[STORE_ID_MAX]; /* set when environment_id is "" */
    char to[321];
    char subject[256];
    char body[4096];
    char template_name[32];
    int64_t created_at;
} store_mail;
/* Keeps a mail in its environment's outbox, or its organization's when environment_id is "". */
int store_control_outbox_add(store_control *store, const store_mail *mail, bs_err *err);
/* The organization's newest mail first, at most max into out. */
int store_control_org_outbox_list(store_control *store, const char *org_id, store_mail *out, size_t max, size_t *count,
                                  bs_err *err);

/* ---- social login providers of an environment ---- */
typedef struct store_provider {
    char environment_id[STORE_ID_MAX];
    char provider[16];               /* google | github */
    char client_id[256];             /* several ids (web, platforms) separated by spaces */
    char secret_sealed[1024];        /* crypto_seal of the client secret */
    char redirect_uris[2048];        /* JSON array of allowed redirect URIs */
    int enabled;
    int64_t updated_at;
} store_provider;
int store_control_provider_put(store_control *store, const store_provider *p, bs_err *err);
int store_control_provider_get(store_control *store, const char *env_id, const char *provider, store_provider *out,
                               int *found, bs_err *err);
/* ---- named settings of an environment (JSON text): "auth", "template:<category>" ---- */
int store_control_setting_put(store_control *store, const char *env_id, const char *name, const char *value, bs_err *err);
/* The value into out (NUL-terminated; a value longer than size is an internal error); *found = 0 when unset. */
int store_control_setting_get(store_control *store, const char *env_id, const char *name, char *out, size_t size,
                              int *found, bs_err *err);
int store_control_setting_delete(store_control *store, const char *env_id, const char *name, int *found, bs_err *err);
/* The environment's newest mail first, at most max into out. */
int store_control_outbox_list(store_control *store, const char *env_id, store_mail *out, size_t max, size_t *count,
                              bs_err *err);
int store_control_env_secret(store_control *store, const char *env_id, const char *kind,
                             uint8_t out[STORE_ENV_SECRET_LEN], bs_err *err);

/* ---- the management plane (platform.md §2–5, §8) ---- */
/* Writes name, display_name, description, notification_email, plan, status, scheduled_plan, scheduled_at,
 * updated_at by id. */
int store_control_org_update(store_control *store, const store_org *org, int *found, bs_err *err);
/* Removes the organization and, by cascade, its projects, environments, keys, tokens and settings rows. */
int store_control_org_delete(store_control *store, const char *id, int *found, bs_err *err);
/* The organization's projects, oldest first, at most max into out; *count = how many were written. */
int store_control_project_list(store_control *store, const char *org_id, store_project *out, size_t max, size_t *count,
                               bs_err *err);
int store_control_project_count(store_control *store, const char *org_id, int64_t *count, bs_err *err);
/* Writes name, description, status, settings, updated_at by id. 409 org/slug-taken never (slug is immutable). */
int store_control_project_update(store_control *store, const store_project *p, int *found, bs_err *err);
int store_control_project_delete(store_control *store, const char *id, int *found, bs_err *err);
/* The project's environments, oldest first, at most max into out. */
int store_control_env_list(store_control *store, const char *project_id, store_env *out, size_t max, size_t *count,
                           bs_err *err);
int store_control_env_set_status(store_control *store, const char *env_id, const char *status, int64_t at, int *found,
                                 bs_err *err);

/* ---- inactivity (platform.md §5.8) ---- */
/* Records a /v1 use at `at`; a shut-down environment becomes what it was before (*reactivated = 1). */
int store_control_env_touch(store_control *store, const char *env_id, int64_t at, int *reactivated, bs_err *err);
/* Shuts down every ready/active environment unused for its idle period (dev: dev_idle_ms, others:
 * other_idle_ms) as of now, scheduling its deletion the same period later; *count = how many. */
int store_control_env_shutdown_idle(store_control *store, int64_t now, int64_t dev_idle_ms, int64_t other_idle_ms,
                                    int64_t *count, bs_err *err);
/* Shut-down environments whose deletion time has come (delete_at <= now), at most max into out. */
int store_control_env_deletions_due(store_control *store, int64_t now, store_env *out, size_t max, size_t *count,
                                    bs_err *err);
/* Cancels the scheduled deletion of a shut-down environment; *found = 0 when none was scheduled. */
int store_control_env_cancel_deletion(store_control *store, const char *env_id, int *found, bs_err *err);

/* ---- placement (platform.md §5.1, §5.5) ---- */
#define STORE_CLUSTER_URL_MAX 512 /* a registered cluster's database server URL, password included (sealed at
                                     rest: the URL itself holds at most STORE_CLUSTER_URL_PLAIN_MAX bytes) */
#define STORE_CLUSTER_URL_PLAIN_MAX 320
/* Seals the registered clusters' URLs (their passwords) at rest with key (DATA/master.key): written
 * sealed by store_control_cluster_add, opened by every read (placement, cluster list). Without it URLs
 * are written in clear and sealed ones are not opened. */
void store_control_set_seal_key(store_control *store, const uint8_t key[32]);
typedef struct store_placement {
    char cluster_id[STORE_ID_MAX];
    char kind[STORE_ENUM_MAX];   /* shared | dedicated */
    int slot;
    int reused;                  /* 1: a slot a deleted environment freed */
    char url[STORE_CLUSTER_URL_MAX]; /* the cluster's database server; "" = the default environment store */
} store_placement;

typedef struct store_cluster {
    char id[STORE_ID_MAX];
    char kind[STORE_ENUM_MAX];   /* shared | dedicated */
    char status[STORE_ENUM_MAX]; /* active | spare (a standby shared cluster, opened when the others are full)
                                    | draining (takes no new environment; those placed stay) */
    int capacity, used;          /* slots (a registered dedicated server: environments); used = holding one now */
    int64_t created_at;
    char url[STORE_CLUSTER_URL_MAX]; /* registered by an operator: its database server; "" = auto-created on
                                        the default environment store. Secret (a password): mask it to show */
} store_cluster;

/* Gives env_id a place, atomically. Dedicated → the registered active dedicated cluster (a server: url
 * set) with the fewest environments below its capacity, else a new dedicated cluster of its own
 * ("dedicated-<env id>" on the default store). Shared → the next slot of the oldest registered active
 * shared cluster (url set) with room, else the slot freed longest ago (first in, first out) on a cluster
 * not draining, else the next never-used slot of the oldest active shared cluster with room, else the
 * spare cluster opens (and a new spare of `capacity` slots is registered). An environment already placed
 * gets its placement back. */
int store_control_env_place(store_control *store, const char *env_id, int dedicated, int capacity, int64_t now,
                            store_placement *out, bs_err *err);
/* Where env_id is; *found = 0 when it has no place (yet). */
int store_control_env_placement(store_control *store, const char *env_id, store_placement *out, int *found, bs_err *err);
/* Moving an environment to another cluster (docs/operations.md "Moving an environment"). target: the place
 * env_id would take on cluster_id, nothing written: 404 common/not-found (no such cluster or environment),
 * 400 common/invalid-parameters (the cluster names no database server), 409 common/conflict (the
 * environment is there already, the cluster is draining or full). commit: atomically frees the
 * environment's place (a shared slot joins the reuse queue at now; a dedicated one goes, with its cluster
 * when Basalt made it) and takes `to` (409 common/conflict when another environment took it meanwhile). */
int store_control_env_move_target(store_control *store, const char *env_id, const char *cluster_id,
                                  store_placement *out, bs_err *err);
int store_control_env_move_commit(store_control *store, const char *env_id, const store_placement *to, int64_t now,
                                  bs_err *err);
/* Frees the slots of environments that no longer exist: a shared slot joins the reuse queue at `now`, a
 * dedicated cluster is removed. *count = slots freed. */
int store_control_slots_reclaim(store_control *store, int64_t now, int64_t *count, bs_err *err);
/* Environments without a place yet (created before placement existed), at most max. */
int store_control_envs_unplaced(store_control *store, store_env *out, size_t max, size_t *count, bs_err *err);
/* Every cluster, oldest first, at most max. */
int store_control_cluster_list(store_control *store, store_cluster *out, size_t max, size_t *count, bs_err *err);
/* Registers c (id, kind, capacity, url; status active) as the newest cluster: 409 common/conflict when
 * the id is taken. */
int store_control_cluster_add(store_control *store, const store_cluster *c, int64_t now, bs_err *err);
/* Sets a cluster's status (active | draining); *found = 0 when there is no such cluster. */
int store_control_cluster_set_status(store_control *store, const char *id, const char *status, int *found,
                                     bs_err *err);

/* The activity log (platform.md §8): every management change. */
typedef struct store_activity {
    int64_t id;
    char organization_id[STORE_ID_MAX];
    char project_id[STORE_ID_MAX];        /* "" = organization-level */
    char environment[STORE_SLUG_MAX];     /* the environment's name; "" = project or organization level */
    char actor[STORE_ID_MAX];             /* operator token id or key id */
    char actor_type[STORE_ENUM_MAX];      /* token | key | system */
    char entity_type[32];                 /* organization | project | environment | key | table | schema | index | ... (docs/platform.md) */
    char entity_id[128];
    char action[32];                      /* create | update | delete | ... */
    char message[512];
    int64_t at;
} store_activity;
int store_control_activity_add(store_control *store, const store_activity *a, bs_err *err);
typedef struct store_activity_query {
    const char *organization_id;
    const char *entity_type, *action, *search;   /* NULL = any; search: case-insensitive substring of message */
    const char *project_id, *environment;        /* NULL = any */
    int64_t offset;
    size_t limit;
} store_activity_query;
/* Newest first. */
int store_control_activity_list(store_control *store, const store_activity_query *q, store_activity *out, size_t *count,
                                int64_t *total, bs_err *err);

/* Lookups on the request path: by SHA-256 hex of the presented key/token. *found = 0 when unknown. */
int store_control_key_lookup(store_control *store, const char *hash_hex, store_key_context *out, int *found,
                             bs_err *err);
int store_control_token_lookup(store_control *store, const char *hash_hex, store_token_context *out,
                               int *found, bs_err *err);

/* ---- team (platform.md §9): members, invitations, the organization's operator tokens ---- */
#define STORE_INVITATION_TTL_MS (7LL * 24 * 3600 * 1000)


typedef struct store_member_query {
    const char *organization_id;
    const char *search, *role;             /* NULL = any; search: case-insensitive substring of name or e-mail */
    int64_t offset;
    size_t limit;
} store_member_query;

/* What a team change that must keep an owner reports (member_set_role, member_remove). */
typedef enum store_team_outcome {
    STORE_TEAM_DONE = 0,
    STORE_TEAM_NOT_FOUND,                  /* no such member in the organization */
    STORE_TEAM_LAST_OWNER                  /* refused: the organization would have no owner member left */
} store_team_outcome;

/* 409 common/conflict when the organization already has a member with this e-mail. */
int store_control_member_insert(store_control *store, const store_member *m, bs_err *err);
int store_control_member_get(store_control *store, const char *org_id, const char *member_id, store_member *out,
                             int *found, bs_err *err);
int store_control_member_find_email(store_control *store, const char *org_id, const char *email, store_member *out,
                                    int *found, bs_err *err);
/* Oldest first, at most q->limit into out; *total = all that match. */
int store_control_member_list(store_control *store, const store_member_query *q, store_member *out, size_t *count,
                              int64_t *total, bs_err *err);
/* Changes a member's role atomically, refusing to demote the organization's last owner member. */
int store_control_member_set_role(store_control *store, const char *org_id, const char *member_id, const char *role,
                                  store_team_outcome *outcome, bs_err *err);
/* Removes a member and revokes its tokens (at `at`) atomically, refusing to remove the last owner member. */
int store_control_member_remove(store_control *store, const char *org_id, const char *member_id, int64_t at,
                                store_team_outcome *outcome, bs_err *err);
/* Makes member_id an owner and every other owner member of the organization an admin, atomically;
 * *found = 0 (nothing changed) when there is no such member. */
int store_control_member_transfer(store_control *store, const char *org_id, const char *member_id, int *found,
                                  bs_err *err);

/* An operator token as listed: role is the effective one (a bound token's member's current role). */
typedef struct store_operator_token_row {
    store_operator_token token;
    int64_t revoked_at;                    /* 0 = active */
} store_operator_token_row;
/* The organization's tokens, oldest first, at most max into out. */
int store_control_operator_token_list(store_control *store, const char *org_id, store_operator_token_row *out,
                                      size_t max, size_t *count, bs_err *err);
int store_control_operator_token_get(store_control *store, const char *org_id, const char *token_id,
                                     store_operator_token_row *out, int *found, bs_err *err);

typedef struct store_org_invitation {
    char id[STORE_ID_MAX];                 /* "inv_..." */
    char organization_id[STORE_ID_MAX];
    char email[STORE_EMAIL_ADDR_MAX];
    char name[STORE_NAME_MAX];
    char role[STORE_ENUM_MAX];             /* admin | member | billing */
    char hash[STORE_HASH_HEX];             /* SHA-256 hex of the invitation token */
    char invited_by[STORE_ID_MAX];
    char member_id[STORE_ID_MAX];          /* the member it made, once accepted */
    int64_t created_at, expires_at;
    int64_t accepted_at, revoked_at;       /* 0 = not (yet) */
} store_org_invitation;

typedef struct store_org_invitation_query {
    const char *organization_id;
    const char *status;                    /* pending | accepted | revoked | expired as of now; NULL = any */
    int64_t now, offset;
    size_t limit;
} store_org_invitation_query;

/* Inserts inv after deleting every invitation of the same organization and e-mail that was not accepted
 * (a new invitation, or a resent one, replaces them), atomically. */
int store_control_invitation_insert(store_control *store, const store_org_invitation *inv, bs_err *err);
int store_control_invitation_get(store_control *store, const char *org_id, const char *id, store_org_invitation *out,
                                 int *found, bs_err *err);
/* By the SHA-256 hex of its token, whatever its state. */
int store_control_invitation_lookup(store_control *store, const char *hash_hex, store_org_invitation *out, int *found,
                                    bs_err *err);
/* Newest first, at most q->limit into out; *total = all that match. */
int store_control_invitation_list(store_control *store, const store_org_invitation_query *q, store_org_invitation *out,
                                  size_t *count, int64_t *total, bs_err *err);
/* Revokes a pending invitation (not accepted, not revoked, not expired at `at`); *found = 0 when none. */
int store_control_invitation_revoke(store_control *store, const char *org_id, const char *id, int64_t at, int *found,
                                    bs_err *err);
/* Accepts invitation id at `at` and inserts its member m and m's token t, all or nothing. *accepted = 0
 * (nothing written) when it was no longer pending; a 409 common/conflict when the e-mail became a member. */
int store_control_invitation_accept(store_control *store, const char *id, int64_t at, const store_member *m,
                                    const store_operator_token *t, int *accepted, bs_err *err);

/* ---- console sessions and one-time sign-in links (docs/management-api.md "Console sessions") ----
 * Only SHA-256 hex digests of the cookie value and of the link code are stored. A session carries the
 * rights of the operator token it was made from: lookups read that token as store_control_token_lookup
 * does (its member's current role; revoked when its member is gone), so revoking the token ends it. */
#define STORE_CSRF_MAX 48       /* the CSRF token: base64url of 32 random bytes (43 characters) + NUL */

typedef struct store_console_session {
    char hash[STORE_HASH_HEX];            /* SHA-256 hex of the cookie value */
    char token_id[STORE_ID_MAX];          /* the operator token it acts with */
    char csrf[STORE_CSRF_MAX];            /* what X-CSRF-Token must carry on a state-changing request */
    int64_t created_at, expires_at;
    store_token_context token;            /* lookups: the token's context (ignored on insert) */
} store_console_session;

typedef struct store_console_link {
    char hash[STORE_HASH_HEX];            /* SHA-256 hex of the code */
    char organization_id[STORE_ID_MAX];   /* whose owner the session acts as */
    int64_t created_at, expires_at;
    int64_t used_at;                      /* 0 = not used yet */
} store_console_link;

/* Inserts s and deletes every session (of any token) that expired at or before s->created_at. A 409
 * common/conflict ("the record it belongs to does not exist") when its token does not exist. */
int store_control_console_session_insert(store_control *store, const store_console_session *s, bs_err *err);
/* The session whose cookie hashes to hash_hex, with its token's context; *found = 0 when none (expired
 * ones are returned: the caller decides by expires_at). */
int store_control_console_session_lookup(store_control *store, const char *hash_hex, store_console_session *out,
                                         int *found, bs_err *err);
/* Deletes one session; *found = 0 when there was none. */
int store_control_console_session_delete(store_control *store, const char *hash_hex, int *found, bs_err *err);
/* Deletes the access tokens that one-time sign-in links minted (named link_token_name) once they expired
 * at or before now, and the one of id token_id (NULL: none) whatever its expiry; their sessions go with
 * them. Other tokens are never touched. *count = tokens deleted (may be NULL). */
int store_control_console_tokens_prune(store_control *store, const char *link_token_name, int64_t now,
                                       const char *token_id, int64_t *count, bs_err *err);
/* Inserts a sign-in link (used_at ignored) and deletes the links that expired at or before its created_at. */
int store_control_console_link_insert(store_control *store, const store_console_link *l, bs_err *err);
/* Uses the link of hash_hex at `at`, once: *consumed = 1 with out filled when it existed, was unused and
 * had not expired at `at`; else *consumed = 0 and nothing changes (a second use never succeeds, also when
 * two race). */
int store_control_console_link_consume(store_control *store, const char *hash_hex, int64_t at, store_console_link *out,
                                       int *consumed, bs_err *err);

/* 1 in *known when user_id of env_id is already counted active in the month starting at month_start. */
int store_control_usage_mau_known(store_control *store, const char *env_id, int64_t month_start, const char *user_id, int *known,
                                  bs_err *err);

/* ---- usage alerts and their webhook deliveries (design.md §4) ---- */
typedef struct store_alert {
    char id[STORE_ID_MAX];
    char organization_id[STORE_ID_MAX];
    char metric[32];             /* api_call, storage, mau, bandwidth */
    char month[8];               /* "YYYY-MM" (UTC) */
    int threshold;               /* 80 | 100 */
    int64_t used, limit;
    int64_t created_at;
} store_alert;
/* Records the alert once per (organization, metric, month, threshold): *created = 0 when it exists. */
int store_control_alert_add(store_control *store, const store_alert *a, int *created, bs_err *err);
/* The organization's alerts of month ("YYYY-MM"; NULL: all), newest first, at most max. */
int store_control_alert_list(store_control *store, const char *org_id, const char *month, store_alert *out, size_t max,
                             size_t *count, bs_err *err);

typedef struct store_delivery {
    char id[STORE_ID_MAX];
    char organization_id[STORE_ID_MAX];
    char project_id[STORE_ID_MAX];
    char alert_id[STORE_ID_MAX];
    char url[1024];
    char payload[2048];          /* the JSON body, signed as sent */
    char status[STORE_ENUM_MAX]; /* pending | delivered | failed */
    int attempts;
    int last_status;             /* the receiver's HTTP status, 0 when it did not answer */
    char last_error[256];
    int64_t next_at, created_at, updated_at;
} store_delivery;
int store_control_delivery_add(store_control *store, const store_delivery *d, bs_err *err);
/* Claims the pending deliveries due at now, oldest first, at most max: each is claimed in the same statement
 * that selects it (its next_at moves to now + STORE_DELIVERY_CLAIM_MS), so two instances asking at the same
 * moment never get the same delivery; the claimer writes the outcome with store_control_delivery_update,
 * and a claimer that dies leaves the delivery due again after the claim. */
#define STORE_DELIVERY_CLAIM_MS 300000
int store_control_deliveries_due(store_control *store, int64_t now, store_delivery *out, size_t max, size_t *count, bs_err *err);
/* Writes status, attempts, last_status, last_error, next_at, updated_at by id. */
int store_control_delivery_update(store_control *store, const store_delivery *d, bs_err *err);
/* The organization's deliveries, newest first, at most max. */
int store_control_delivery_list(store_control *store, const char *org_id, store_delivery *out, size_t max, size_t *count,
                                bs_err *err);

/* ---- usage (platform.md §6, design.md §4; core/meter.h writes it, docs/usage.md) ----
 * One row per (environment, metric, period, period_start): hourly rows are written by the meter (deltas
 * added once a second), daily and monthly rows are recomputed from the finer ones by
 * store_control_usage_rollup. Buckets are UTC. Values are counts, bytes (bandwidth, storage) or people
 * (mau: the users first active in the month within the bucket, so a month's rows sum to its MAU).
 * Retention: hourly rows of whole days older than 7 days, daily rows of whole months older than 90 days,
 * monthly rows older than 24 months are deleted by the roll-up. */
#define STORE_METRIC_MAX 16
#define STORE_PERIOD_MAX 8
#define STORE_ENDPOINT_MAX 128
#define STORE_USAGE_ENDPOINTS_JSON_MAX 8192
#define STORE_USAGE_HOUR_MS (3600LL * 1000)
#define STORE_USAGE_DAY_MS (24 * STORE_USAGE_HOUR_MS)
#define STORE_USAGE_HOURLY_KEEP_MS (7 * STORE_USAGE_DAY_MS)
#define STORE_USAGE_DAILY_KEEP_MS (90 * STORE_USAGE_DAY_MS)
#define STORE_USAGE_MONTHLY_KEEP_MONTHS 24

typedef struct store_usage_endpoint {
    char endpoint[STORE_ENDPOINT_MAX];    /* "GET /v1/data/:table" */
    int64_t count;
} store_usage_endpoint;

/* What the meter adds to one hourly row. */
typedef struct store_usage_delta {
    char organization_id[STORE_ID_MAX];
    char project_id[STORE_ID_MAX];
    char environment_id[STORE_ID_MAX];
    char environment[STORE_SLUG_MAX];     /* the environment's name */
    char metric[STORE_METRIC_MAX];        /* api_call | db_read | db_write | bandwidth | file_upload | file_download | storage | mau */
    int64_t hour_start;                   /* the hourly bucket (UTC, ms) */
    int gauge;                            /* 1: value is a reading (storage): it replaces the hour's value */
    int64_t value, success_count, failure_count;
    int64_t response_us;                  /* sum of response times (api_call) */
    const store_usage_endpoint *endpoints; /* borrowed; per-route counts (api_call) */
    size_t nendpoints;
    const char *const *users;             /* mau: user ids seen; value = how many were not yet recorded in */
    size_t nusers;                        /* the month of month_start (each user is recorded once a month) */
    int64_t month_start;
} store_usage_delta;

typedef struct store_usage_row {
    char organization_id[STORE_ID_MAX];
    char project_id[STORE_ID_MAX];
    char environment_id[STORE_ID_MAX];
    char environment[STORE_SLUG_MAX];
    char metric[STORE_METRIC_MAX];
    char period[STORE_PERIOD_MAX];        /* hourly | daily | monthly */
    int64_t period_start;
    int64_t value, success_count, failure_count, response_us;
    int64_t peak, min;                    /* highest / lowest finer value inside the bucket (docs/usage.md) */
    char endpoints[STORE_USAGE_ENDPOINTS_JSON_MAX]; /* JSON object {"GET /v1/...": count}, the 32 busiest */
} store_usage_row;

typedef struct store_usage_query {
    const char *organization_id;          /* required */
    const char *project_id, *environment, *metric; /* NULL = any; environment: its name or id */
    const char *period;                   /* hourly | daily | monthly (required) */
    int64_t from_ms, to_ms;               /* period_start in [from_ms, to_ms); to_ms 0 = no end */
    int64_t offset;
    size_t limit;
} store_usage_query;

/* An environment as the meter needs it (names and owners). */
typedef struct store_usage_env {
    char organization_id[STORE_ID_MAX];
    char project_id[STORE_ID_MAX];
    char environment_id[STORE_ID_MAX];
    char environment[STORE_SLUG_MAX];
    char status[STORE_ENUM_MAX];
} store_usage_env;

/* What the organization (and project; NULL = all) used of metric in [from_ms, to_ms): the sum of the
 * rows' values — days the roll-up has closed are read from daily rows, the rest from hourly rows, so a
 * month is complete although hourly rows are kept 7 days. For storage (a gauge) it is the sum over
 * environments of each one's latest reading in the range. */
int store_control_usage_sum(store_control *store, const char *org_id, const char *project_id, const char *metric,
                            int64_t from_ms, int64_t to_ms, int64_t *sum, bs_err *err);
/* Adds n deltas to their hourly rows in one transaction (all or none); now_ms stamps them. */
int store_control_usage_add(store_control *store, const store_usage_delta *d, size_t n, int64_t now_ms, bs_err *err);
/* Rows of q, oldest bucket first, at most q->limit into out; *total = all that match. */
int store_control_usage_list(store_control *store, const store_usage_query *q, store_usage_row *out, size_t *count,
                             int64_t *total, bs_err *err);
/* Recomputes daily rows from hourly and monthly rows from daily for every bucket written since the last
 * roll-up, then applies retention (and drops rows of organizations that no longer exist), as of now_ms. */
int store_control_usage_rollup(store_control *store, int64_t now_ms, bs_err *err);
/* Every environment (not being deleted) with its project and organization, at most max into out. */
int store_control_usage_envs(store_control *store, store_usage_env *out, size_t max, size_t *count, bs_err *err);

/* ---- leases: a background job run by one instance of a fleet at a time (core/jobs_lease.h) ----
 * One row per name: its holder, its expiry and a fence that grows by one whenever the holder changes.
 * store_control_lease_take, in one atomic statement, takes the lease when it is free or expired, or renews
 * it when holder holds it, for ttl_ms from now: *held = 1 and *fence = the fence of this holding; when
 * another holder's lease has not expired, nothing changes and *held = 0, *fence = 0. "Now" is the database
 * server's clock on PostgreSQL (one clock for every instance), this process's on SQLite.
 * store_control_lease_release ends holder's lease at once (a graceful stop), so another takes it without
 * waiting for the expiry; nothing when holder does not hold it. */
#define STORE_LEASE_NAME_MAX 64
#define STORE_LEASE_HOLDER_MAX 128
/* 1 when several processes may share this store (PostgreSQL), so a lease decides; 0 on SQLite (one process). */
int store_control_is_shared(const store_control *store);
int store_control_lease_take(store_control *store, const char *name, const char *holder, int64_t ttl_ms, int64_t *fence,
                             int *held, bs_err *err);
int store_control_lease_release(store_control *store, const char *name, const char *holder, bs_err *err);

#endif
