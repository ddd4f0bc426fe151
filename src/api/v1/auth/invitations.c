/* invitations: an end user invites someone by e-mail to a resource of the app (client-api.md §3.11).
 * In a self-hosted server these are a record store with mail delivery: the app decides what accepting
 * means for its organizations/projects.
 *   POST   /v1/auth/invitations           JWT: {resourceType, resourceId, email, resourceRole, resourceName?, name?, inviterName?} → 201
 *   GET    /v1/auth/invitations           JWT: sent by or addressed to the caller; resourceType, resourceId, status, page, limit (10)
 *   GET    /v1/auth/invitations/:id       JWT: the inviter or the invitee
 *   POST   /v1/auth/invitations/accept    public {token, email?}  → the invitation, accepted
 *   POST   /v1/auth/invitations/reject    public {token, email}   → {}
 *   DELETE /v1/auth/invitations/:id       JWT, the inviter        → revoked
 * Tokens: 32 random bytes in the mail, SHA-256 stored; invitations expire after 7 days (410). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/caller.h"
#include "api/respond.h"
#include "api/route.h"
#include "api/v1/auth/surface.h"
#include "api/v1/pipeline.h"
#include "core/accounts.h"
#include "api/v1/auth/auth_users.h"
#include "core/keys.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/json.h"

#define INVITATION_TTL_MS (7LL * 24 * 3600 * 1000)
#define INVITATION_PAGE_MAX 100

static const char *effective_status(const store_invitation *v)
{
    return strcmp(v->status, "pending") == 0 && v->expires_at <= clock_now_ms() ? "expired" : v->status;
}

static struct json_object *invitation_json(const store_invitation *v)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(v->id));
    json_object_object_add(o, "resourceType", json_object_new_string(v->resource_type));
    json_object_object_add(o, "resourceId", json_object_new_string(v->resource_id));
    json_object_object_add(o, "resourceName", json_object_new_string(v->resource_name));
    json_object_object_add(o, "resourceRole", json_object_new_string(v->resource_role));
    json_object_object_add(o, "email", json_object_new_string(v->email));
    json_object_object_add(o, "status", json_object_new_string(effective_status(v)));
    json_add_time(o, "expiresAt", v->expires_at);
    json_object_object_add(o, "invitedBy", json_object_new_string(v->invited_by));
    json_add_time(o, "createdAt", v->created_at);
    return o;
}

static int short_text(struct json_object *body, const char *key, size_t max, int required, char *out, size_t size, bs_err *err)
{
    const char *t = json_get_string(body, key);
    if (!t && !required) { out[0] = '\0'; return 0; }
    if (!t || !*t || json_utf8_chars(t) > max)
        return bs_err_set(err, 400, "auth/invalid-request", "%s: %s1 to %zu characters", key, required ? "required, " : "", max);
    snprintf(out, size, "%s", t);
    return 0;
}

static void create(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_user u;
    store_session s;
    store_invitation v;
    memset(&v, 0, sizeof v);
    char token[65], hash[CRYPTO_SHA256_HEX], inviter[128], name[128];
    struct json_object *body = http_req_json_borrow(req);
    const char *type = json_get_string(body, "resourceType");
    if (api_current_user(ctx, &u, &s, &err) < 0 ||
        (!json_object_is_type(body, json_type_object) && bs_err_set(&err, 400, "auth/invalid-request", "A JSON object body is required") < 0) ||
        ((!type || (strcmp(type, "organization") && strcmp(type, "project"))) &&
         bs_err_set(&err, 400, "auth/invalid-request", "resourceType: organization or project") < 0) ||
        short_text(body, "resourceId", 100, 1, v.resource_id, sizeof v.resource_id, &err) < 0 ||
        short_text(body, "resourceRole", 30, 1, v.resource_role, sizeof v.resource_role, &err) < 0 ||
        short_text(body, "resourceName", 100, 0, v.resource_name, sizeof v.resource_name, &err) < 0 ||
        short_text(body, "name", 100, 0, name, sizeof name, &err) < 0 ||
        short_text(body, "inviterName", 100, 0, inviter, sizeof inviter, &err) < 0 ||
        accounts_email_normalize(json_get_string(body, "email"), v.email, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    snprintf(v.resource_type, sizeof v.resource_type, "%s", type);
    snprintf(v.status, sizeof v.status, "pending");
    snprintf(v.invited_by, sizeof v.invited_by, "%s", u.id);
    v.created_at = v.updated_at = clock_now_ms();
    v.expires_at = v.created_at + INVITATION_TTL_MS;
    if (keys_new_id("inv", v.id) < 0 || crypto_random_hex(token, 32) < 0) bs_err_internal(&err);
    else {
        crypto_sha256_hex(token, strlen(token), hash);
        store_invitations_create(ctx->app->docs, ctx->key.environment_id, &v, hash, &err);
    }
    if (!err.status) {
        char resource[300];
        snprintf(resource, sizeof resource, "%s \"%s\"", v.resource_type, v.resource_name[0] ? v.resource_name : v.resource_id);
        api_mail_var vars[] = {{"userName", name[0] ? name : v.email}, {"userEmail", v.email}, {"inviterName", inviter[0] ? inviter : u.name},
                               {"resourceName", resource}, {"resourceRole", v.resource_role}, {"code", token}};
        api_send_template(ctx, v.email, "invitation", vars, 6, &err);
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *o = invitation_json(&v);
    http_res_json(res, 201, o);
    json_object_put(o);
}

static void list_into(api_ctx *ctx, http_req *req, http_res *res, store_invitation *page)
{
    bs_err err;
    store_user u;
    store_session s;
    size_t n = 0;
    int64_t total = 0, pg = api_query_int(req, "page", 1, 1000000), limit = api_query_int(req, "limit", 10, INVITATION_PAGE_MAX);
    const char *type = http_req_query(req, "resourceType");
    if (api_current_user(ctx, &u, &s, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    /* resourceType=user: the invitations addressed to the caller */
    int to_me = type && strcmp(type, "user") == 0;
    store_invitation_query q = {to_me ? "" : u.id, u.email, to_me ? NULL : type, http_req_query(req, "resourceId"),
                                http_req_query(req, "status"), (pg - 1) * limit, (size_t)limit};
    if (store_invitations_list(ctx->app->docs, ctx->key.environment_id, &q, page, &n, &total, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *items = json_object_new_array();
    for (size_t i = 0; i < n; i++) json_object_array_add(items, invitation_json(&page[i]));
    api_answer_page(res, items, total, pg, limit);
}

/* The page buffer lives on the heap for one request: as thread-local storage it would cost every thread. */
static void list(api_ctx *ctx, http_req *req, http_res *res)
{
    store_invitation *page = calloc(INVITATION_PAGE_MAX, sizeof *page);
    if (!page) {
        http_res_error(res, 500, "common/internal-error", "Out of memory");
        return;
    }
    list_into(ctx, req, res, page);
    free(page);
}

/* The invitation :invitationId for its inviter (or, when !inviter_only, its invitee). */
static int load_own(api_ctx *ctx, http_req *req, int inviter_only, store_user *u, store_invitation *v, bs_err *err)
{
    store_session s;
    int found = 0;
    if (api_current_user(ctx, u, &s, err) < 0 ||
        store_invitations_get(ctx->app->docs, ctx->key.environment_id, http_req_param(req, "invitationId"), v, &found, err) < 0)
        return -1;
    int mine = found && (strcmp(v->invited_by, u->id) == 0 || (!inviter_only && strcmp(v->email, u->email) == 0));
    return mine ? 0 : bs_err_set(err, 404, "auth/invitation-not-found", "Invitation not found");
}

static void get_one(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_user u;
    store_invitation v;
    if (load_own(ctx, req, 0, &u, &v, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *o = invitation_json(&v);
    http_res_json(res, 200, o);
    json_object_put(o);
}

static void revoke(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_user u;
    store_invitation v;
    int changed = 0;
    if (load_own(ctx, req, 1, &u, &v, &err) < 0 ||
        store_invitations_set_status(ctx->app->docs, ctx->key.environment_id, v.id, "revoked", clock_now_ms(), &changed, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    api_message(res, 200, changed ? "Invitation revoked" : "The invitation was no longer pending");
}

/* accept / reject by the mailed token. */
static void answer(api_ctx *ctx, http_req *req, http_res *res, const char *status)
{
    bs_err err;
    bs_err_clear(&err);
    store_invitation v;
    char hash[CRYPTO_SHA256_HEX], email[STORE_EMAIL_MAX];
    int found = 0, changed = 0;
    struct json_object *body = http_req_json_borrow(req);
    const char *token = json_get_string(body, "token"), *given = json_get_string(body, "email");
    int need_email = strcmp(status, "rejected") == 0;
    if (!token || strlen(token) > 128) bs_err_set(&err, 401, "auth/invalid-token", "Unknown invitation token");
    else if ((given || need_email) && accounts_email_normalize(given, email, &err) < 0) {
        /* err says why */
    } else {
        crypto_sha256_hex(token, strlen(token), hash);
        if (store_invitations_by_token(ctx->app->docs, ctx->key.environment_id, hash, &v, &found, &err) == 0) {
            const char *now = found ? effective_status(&v) : "";
            if (!found || (given && strcmp(email, v.email))) bs_err_set(&err, 401, "auth/invalid-token", "Unknown invitation token");
            else if (!strcmp(now, "expired")) bs_err_set(&err, 410, "auth/invitation-expired", "The invitation expired");
            else if (!strcmp(now, "accepted")) bs_err_set(&err, 400, "auth/invitation-already-accepted", "Already accepted");
            else if (strcmp(now, "pending")) bs_err_set(&err, 400, "auth/invalid-request", "The invitation is %s", now);
            else if (store_invitations_set_status(ctx->app->docs, ctx->key.environment_id, v.id, status, clock_now_ms(), &changed, &err) == 0 && !changed)
                bs_err_set(&err, 400, "auth/invalid-request", "The invitation is no longer pending");
        }
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    if (need_email) {
        struct json_object *empty = json_object_new_object();
        http_res_json(res, 200, empty);
        json_object_put(empty);
        return;
    }
    snprintf(v.status, sizeof v.status, "%s", status);
    struct json_object *o = invitation_json(&v);
    http_res_json(res, 200, o);
    json_object_put(o);
}

static void accept(api_ctx *ctx, http_req *req, http_res *res) { answer(ctx, req, res, "accepted"); }
static void reject(api_ctx *ctx, http_req *req, http_res *res) { answer(ctx, req, res, "rejected"); }

int api_invitations_register(http_router *router, api_app *app)
{
    http_route_opts json = {.body = HTTP_BODY_JSON, .max_body = 16 * 1024};
    if (api_route_v1(router, app, HTTP_POST, "/v1/auth/invitations", create, &json) < 0) return -1;
    if (api_route_v1(router, app, HTTP_GET, "/v1/auth/invitations", list, NULL) < 0) return -1;
    if (api_route_v1_public(router, app, HTTP_POST, "/v1/auth/invitations/accept", accept, &json) < 0) return -1;
    if (api_route_v1_public(router, app, HTTP_POST, "/v1/auth/invitations/reject", reject, &json) < 0) return -1;
    if (api_route_v1(router, app, HTTP_GET, "/v1/auth/invitations/:invitationId", get_one, NULL) < 0) return -1;
    return api_route_v1(router, app, HTTP_DELETE, "/v1/auth/invitations/:invitationId", revoke, NULL);
}
