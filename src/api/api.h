/* api: the surfaces of Basalt (client API /v1, management API /admin/v1, health, metrics, console) on
 * top of the router. Each /v1 route is wrapped so that the API key is verified before its handler runs,
 * and each /admin/v1 route so that the operator credential is; the handler then gets an api_ctx with
 * the caller's tenant context.
 * Ownership: api_app holds borrowed pointers set up by the serve command; everything it points to
 * outlives the server. */
#ifndef BASALT_API_API_H
#define BASALT_API_API_H

#include <stdint.h>

#include "core/filemeter.h"
#include "core/keyauth.h"
#include "core/mailer.h"
#include "core/meter.h"
#include "core/project_guard.h"
#include "core/quota.h"
#include "core/usage_cache.h"
#include "core/querystats.h"
#include "core/roles.h"
#include "core/userauth.h"
#include "http/metrics.h"
#include "http/request.h"
#include "http/router.h"
#include "http/static.h"
#include "store/blobs.h"
#include "store/control.h"
#include "store/docs.h"
#include "util/json.h"

typedef struct env_lifecycle env_lifecycle;
typedef struct alerts alerts;

typedef struct api_app {
    store_control *control;
    store_docs *docs;
    keyauth *keys;
    project_guard *guard;      /* allowedOrigins and ipWhitelist of /v1 requests */
    env_lifecycle *lifecycle;  /* /v1 use, inactivity shutdown and deletion (env_lifecycle.h); may be NULL */
    int shared_cluster_slots;  /* dev environments per shared cluster */
    quota *quota;              /* monthly and daily API-call admission (core/quota); NULL: none */
    alerts *alerts;            /* usage alerts: banner rows, mail, webhooks (api/alerts.h); may be NULL */
    usage_cache *usage;        /* storage, MAU, bandwidth used this month, a few seconds old; NULL: unchecked */
    userauth *users;
    querystats *stats;         /* NULL when --query-stats 0 */
    mailer *mail;              /* SMTP or the outbox */
    uint8_t master_key[32];    /* seals secrets at rest (DATA/master.key, never in a database) */
    store_blobs *blobs;        /* file bytes (filesystem or S3) */
    uint8_t storage_key[32];   /* signs storage URLs (derived from master_key) */
    int storage_strict;        /* 1: unsigned GET only for registered public files (breaks §4.3 apps) */
    int s3_direct;             /* 1: S3 presigned URLs for uploads and private downloads (storage_direct.c) */
    uint64_t max_image, max_video, max_document, max_upload; /* upload limits by type, bytes */
    uint64_t multipart_min_part; /* every part but the last at least this */
    meter *meter;              /* usage metering (core/meter.h); NULL with --metering 0 */
    filemeter *files_meter;    /* uploads, downloads and bytes per environment (the metering reads it) */
    struct store_filecache *image_cache; /* image variants (bounded) */
    const char *tmp_dir;       /* DATA/tmp: scratch files (unlinked at once) */
    uint64_t image_max_pixels; /* larger inputs are refused (decompression bombs) */
    const char *google_auth_url, *google_token_url, *google_userinfo_url, *google_jwks_url; /* overridable for a stand-in */
    const char *github_auth_url, *github_token_url, *github_api_url;
    const char *public_url;    /* how clients reach this server (links in mail); filled once listening */
    int signin_max_failures;   /* per e-mail within signin_window_ms (ten times that per IP) */
    int64_t signin_window_ms, signin_block_ms;
    int64_t audit_retention_ms;  /* account events older than this are deleted */
    int allow_private_webhooks;  /* 1: webhooks may target private addresses (alerts.c) */
    int64_t refresh_reuse_ms;    /* a rotated refresh token's grace for its own session (auth.c) */
    http_metrics *metrics;     /* set after routes are registered (it is sized by them) */
    http_static *console;      /* NULL when no console directory was found */
    int64_t started_ms;
    _Atomic int ready;         /* 0 until start-up (bootstrap) finished: /healthz answers 503 */
} api_app;

typedef enum api_caller { API_CALLER_KEY = 1, API_CALLER_OPERATOR, API_CALLER_ENV_SECRET } api_caller;

/* What a handler knows about its caller. */
typedef struct api_ctx {
    api_app *app;
    api_caller caller;
    store_key_context key;       /* API_CALLER_KEY and API_CALLER_ENV_SECRET */
    int key_admin;               /* /v1: a secret key whose admin rights apply on this route (its scopes
                                    grant the route's surface, api.c); 0 for every other key */
    int mau_admitted;            /* the MAU quota already admitted the user this request creates (sign-up checks
                                    before the user exists; a second check after it would race the usage cache) */
    store_token_context token;   /* API_CALLER_OPERATOR */
    int has_user;                /* /v1 with a valid "Authorization: Bearer <access token>" */
    token_claims user;           /* its claims: sub = user id, role */
} api_ctx;

typedef void (*api_handler_fn)(api_ctx *ctx, http_req *req, http_res *res);

/* Registers every route of every surface. 0, or -1 when the router is full. */
int api_register(http_router *router, api_app *app);

/* Route helpers for the surfaces' files. */
int api_route_v1(http_router *router, api_app *app, unsigned methods, const char *pattern, api_handler_fn fn,
                 const http_route_opts *opts);
int api_route_admin(http_router *router, api_app *app, unsigned methods, const char *pattern, api_handler_fn fn,
                    const http_route_opts *opts);
/* A /v1 route opened from a mailed link: a key when one is sent, else the environment named by ?env=
 * (key_type "link"); Authorization is ignored. */
int api_route_v1_link(http_router *router, api_app *app, unsigned methods, const char *pattern, api_handler_fn fn,
                      const http_route_opts *opts);
/* A /v1 route that checks the key but ignores any Authorization header (sign-up, sign-in, refresh). */
int api_route_v1_public(http_router *router, api_app *app, unsigned methods, const char *pattern, api_handler_fn fn,
                        const http_route_opts *opts);

/* Resolves the :projectId/:env of an admin path and checks the caller may act on it (writes: change
 * it). 404 org/project-not-found, 404 data/environment-not-found, 403 org/permission-denied. */
int api_admin_env(api_ctx *ctx, http_req *req, int writes, store_env *env, bs_err *err);
/* 0 when the caller is an operator token whose role may do action, else 403 org/permission-denied. */
int api_admin_need(api_ctx *ctx, role_action action, bs_err *err);
/* Answers err when set, else the page of n rows (each size bytes) rendered by to_json; frees rows. */
void api_answer_rows(http_res *res, const bs_err *err, void *rows, size_t n, size_t size,
                     struct json_object *(*to_json)(const void *row), int64_t total, int64_t page, int64_t limit);
/* The caller's organization :orgId (404 org/not-found for any other or a deleted one), then api_admin_need. */
int api_admin_org(api_ctx *ctx, http_req *req, role_action action, store_org *org, bs_err *err);

/* Answers 200 {items, pagination} (client-api.md §1.7: total, page, limit, totalPages and both spellings
 * of hasNext/hasPrev); takes items. */
void api_answer_page(http_res *res, struct json_object *items, int64_t total, int64_t page, int64_t limit);
/* A positive integer query parameter, dflt when absent or not one, capped at max. */
int64_t api_query_int(http_req *req, const char *name, int64_t dflt, int64_t max);
/* Answers {"message": text} with status. */
void api_message(http_res *res, int status, const char *text);
/* Adds name: ISO 8601 time of ms (null when ms is 0) to a JSON object. */
void api_json_time(struct json_object *obj, const char *name, int64_t ms);
/* A table's effective permissions document (its own, or the defaults); a new reference. */
struct json_object *api_table_permissions(const store_table *t);
/* Writes one activity-log entry for a management change (platform.md §8), best effort: the actor is the
 * acting member of a member-bound token, else the token or key. */
void api_activity(api_ctx *ctx, const char *org, const char *project, const char *entity_type, const char *entity_id,
                  const char *action, const char *message);
/* The team (admin_team.c) for the other management surfaces: POST access-tokens binds a token to body's
 * optional memberId (the member's role; 400 when a different role is asked, 404 org/member-not-found);
 * POST organizations prepares the new organization's Owner member from ownerEmail/ownerName. */
int api_team_token_member(api_ctx *ctx, struct json_object *body, store_operator_token *t, bs_err *err);
int api_team_owner_new(struct json_object *body, store_member *m, bs_err *err);

/* Usage metering (admin_usage.c): a /v1 request of key's environment is metered when it completes (the
 * server's done hook); records read/written by the data API and end users active for MAU. */
void api_meter_begin(api_app *app, http_req *req, const store_key_context *key);
void api_meter_db(http_req *req, int64_t reads, int64_t writes);
void api_meter_mau(api_ctx *ctx, const char *user_id);
int api_admin_usage_register(http_router *router, api_app *app);

/* Surfaces (one file each). */
int api_health_register(http_router *router, api_app *app);
int api_admin_keys_register(http_router *router, api_app *app);
int api_admin_tables_register(http_router *router, api_app *app);
int api_data_register(http_router *router, api_app *app);
int api_auth_register(http_router *router, api_app *app);
int api_users_register(http_router *router, api_app *app);
int api_admin_platform_register(http_router *router, api_app *app);
/* Storage, MAU and bandwidth (usage_gate.c, design.md §4): 0 when the organization's monthly metric is
 * below its plan's limit (raising the 80/100 % alerts on the way), else -1 with the 429 answered (res NULL:
 * nothing answered; the caller refuses through api_usage_refuse). As of the usage rows a few seconds ago
 * (core/usage_cache). */
int api_usage_allow(api_app *app, const store_key_context *key, const char *metric, http_res *res);
/* The MAU check of a sign-in, sign-up or refresh of user_id: a user already active this month is never
 * refused; a new one is once the organization's MAU reached its limit. res as for api_usage_allow. */
int api_usage_allow_user(api_app *app, const store_key_context *key, const char *user_id, http_res *res);
/* The refusal of a flow that answers through bs_err (a redirect carries only a code): 429
 * usage/quota-exceeded, without the details api_usage_allow answers. Returns -1. */
int api_usage_refuse(const char *metric, bs_err *err);
/* usage_cache's loader (arg: the store_control). */
int api_usage_cache_load(void *arg, const char *org_id, const char *metric, int64_t from_ms, int64_t to_ms, int64_t *used,
                         bs_err *err);
/* The quota counters' loader (core/quota.h quota_loader; arg: the store_control): API calls so far. */
int api_usage_load(void *arg, const char *scope, const char *scope_id, int64_t from_ms, int64_t to_ms, int64_t *used, bs_err *err);
/* The quota check of a /v1 call (usage_gate.c): 0 admitted (X-RateLimit-* set), -1 answered (429 / 503). */
int api_usage_gate(api_app *app, const store_key_context *key, int64_t daily_limit, http_res *res);
/* 200 {items: [{id, to, subject, body, template, createdAt}]}: an outbox page (mail_flows.c). */
void api_answer_mails(http_res *res, const store_mail *mails, size_t n);
int api_admin_team_register(http_router *router, api_app *app);

#endif
