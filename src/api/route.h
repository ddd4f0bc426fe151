/* route: what every surface of Basalt (client API /v1, management API /admin/v1, health, metrics,
 * console) shares on top of the router: the application (api_app), the caller of a request (api_ctx) and
 * the management routes' entry, which checks the operator credential (or a scoped secret key) before the
 * handler runs. The /v1 routes enter through the admission pipeline (api/v1/pipeline.h); which surface
 * a route belongs to, for key scopes, is decided here (api_route_surface). Surfaces live in folders
 * (api/v1/<surface>/, api/admin/<surface>/) and are registered by api/register.c alone.
 * Ownership: api_app holds borrowed pointers set up by the serve command; everything it points to
 * outlives the server. */
#ifndef BASALT_API_ROUTE_H
#define BASALT_API_ROUTE_H

#include <stdint.h>

#include "core/alerts.h"
#include "core/env_lifecycle.h"
#include "core/env_move.h"
#include "core/filemeter.h"
#include "core/fleet_bus.h"
#include "core/keyauth.h"
#include "core/mailer.h"
#include "core/meter.h"
#include "core/project_guard.h"
#include "core/quota.h"
#include "core/usage_cache.h"
#include "core/querystats.h"
#include "core/roles.h"
#include "core/scopes.h"
#include "core/userauth.h"
#include "http/metrics.h"
#include "http/request.h"
#include "http/router.h"
#include "http/static.h"
#include "store/blobs.h"
#include "store/control.h"
#include "store/docs.h"
#include "util/json.h"


typedef struct api_app {
    store_control *control;
    store_docs *docs;
    keyauth *keys;
    project_guard *guard;      /* allowedOrigins and ipWhitelist of /v1 requests */
    fleet_bus *bus;            /* every cache invalidation goes through it (core/fleet_bus.h) */
    env_lifecycle *lifecycle;  /* /v1 use, inactivity shutdown and deletion (core/env_lifecycle.h); may be NULL */
    int shared_cluster_slots;  /* dev environments per shared cluster */
    quota *quota;              /* monthly and daily API-call admission (core/quota); NULL: none */
    struct store_counters *counters; /* the fleet's shared counters (--redis); NULL: this process alone */
    alerts *alerts;            /* usage alerts: banner rows, mail, webhooks (core/alerts.h); may be NULL */
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
    const char *chart_js;      /* the chart library served at /console/vendor/chart.js (--console-chart-js), NULL: Debian's */
    int cookie_secure;         /* the console cookie's Secure flag: 1 always, -1 never, 0 auto (api/console_gate.h) */
    int64_t started_ms;
    const char *operator_secret; /* the instance operator's (--operator-token-file), NULL: the surface is off */
    env_moves *moves;          /* environment moves (core/env_move.h) */
    _Atomic int ready;         /* 0 until start-up (bootstrap) finished: /healthz answers 503 */
} api_app;

/* What environment placement and deletion need of the app (core/env_lifecycle.h). */
static inline env_stores api_env_stores(const api_app *app)
{
    return (env_stores){.control = app->control, .docs = app->docs, .blobs = app->blobs, .bus = app->bus,
                        .shared_cluster_slots = app->shared_cluster_slots};
}

typedef enum api_caller { API_CALLER_KEY = 1, API_CALLER_OPERATOR, API_CALLER_ENV_SECRET } api_caller;

/* What a handler knows about its caller. */
typedef struct api_ctx {
    api_app *app;
    api_caller caller;
    store_key_context key;       /* API_CALLER_KEY and API_CALLER_ENV_SECRET */
    int key_admin;               /* /v1: a secret key whose admin rights apply on this route (its scopes
                                    grant the route's surface: the scope stage of api/v1/pipeline.c); 0 for every other key */
    int mau_admitted;            /* the MAU quota already admitted the user this request creates (sign-up checks
                                    before the user exists; a second check after it would race the usage cache) */
    store_token_context token;   /* API_CALLER_OPERATOR */
    int has_user;                /* /v1 with a valid "Authorization: Bearer <access token>" */
    token_claims user;           /* its claims: sub = user id, role */
} api_ctx;

typedef void (*api_handler_fn)(api_ctx *ctx, http_req *req, http_res *res);

/* Route data of a wrapped route: which handler, for which app, and what the route's entry must check.
 * Allocated once per route at start-up and kept for the process lifetime (the router borrows it). */
typedef struct api_route {
    api_app *app;
    api_handler_fn fn;
    int ignore_bearer;   /* sign-up, sign-in, refresh: a stale Authorization header must not block them */
    int link;            /* opened from a mailed link: the environment may come from ?env= instead of a key */
    const char *surface; /* the management surface a scoped secret key needs (core/scopes.h), NULL: none */
    int post_reads;      /* a POST that only reads (explain, a download URL) */
    int table_scoped;    /* a /v1/data route: table scopes bind the key there (data.c), no surface scope */
    int live_session;    /* a user token is honoured only while its session lives (the pipeline checks) */
    int gate;            /* a /v1 route's usage gate (api_quota_gate, api/v1/pipeline.h), 0: none */
} api_route;

/* A new route's data for pattern (its surface and flags filled from the pattern), NULL when the table of
 * routes is full. */
api_route *api_route_new(api_app *app, api_handler_fn fn, const char *pattern);
/* Read or write, for the scope check: GET/HEAD, and the POSTs that only read, are reads. */
scope_access api_route_access(const api_route *r, http_req *req);
/* The options of a wrapped route: its JSON body is parsed after the credential was checked, so a stranger
 * learns nothing from it. */
http_route_opts api_route_opts(const http_route_opts *opts);

/* Route helpers for the surfaces' files: a management route (the operator credential is checked first). The
 * /v1 routes are added through the admission pipeline (api/v1/pipeline.h). */
int api_route_admin(http_router *router, api_app *app, unsigned methods, const char *pattern, api_handler_fn fn,
                    const http_route_opts *opts);

#endif
