/* admin_team: the team of an organization (platform.md §2.4, §9; management-api.md): members,
 * invitations, the organization's operator tokens, ownership transfer and leaving. Operator tokens only;
 * a token sees only its own organization (other ids answer 404 as if absent). A member-bound token acts
 * with its member's current role, so a role change applies to the very next request.
 *   GET    /admin/v1/organizations/:orgId/members?search&role&page&limit
 *   GET    /admin/v1/organizations/:orgId/members/:memberId
 *   PATCH  /admin/v1/organizations/:orgId/members/:memberId {role}     §9.6
 *   DELETE /admin/v1/organizations/:orgId/members/:memberId            Owner only; revokes its tokens
 *   GET    /admin/v1/organizations/:orgId/invitations?status&page&limit
 *   POST   /admin/v1/organizations/:orgId/invitations {email, name?, role?}   → 201 with token + acceptUrl (once)
 *   DELETE /admin/v1/organizations/:orgId/invitations/:id                     revokes a pending one
 *   POST   /admin/v1/organizations/:orgId/invitations/:id/resend              a new one, new 7 days
 *   POST   /admin/v1/invitations/accept {token, name?}                        no credential: 201 {member, token}
 *   GET    /admin/v1/organizations/:orgId/access-tokens
 *   DELETE /admin/v1/organizations/:orgId/access-tokens/:id
 *   POST   /admin/v1/organizations/:orgId/transfer {memberId}
 *   POST   /admin/v1/organizations/:orgId/leave
 * Every change is written to the activity log (entity types member, invitation, token). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin/org/surface.h"
#include "api/admin/org/team.h"
#include "api/admin_gate.h"
#include "api/respond.h"
#include "api/route.h"
#include "core/console_session.h"
#include "core/keys.h"
#include "core/roles.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#define TEAM_PAGE_MAX 100
#define TEAM_TOKENS_MAX 1000
#define INVITE_TOKEN_BYTES 32
#define INVITE_TOKEN_MAX (4 + 2 * INVITE_TOKEN_BYTES + 1) /* "inv_" + 64 hex */

/* ---- callers and lookups ---- */


static int is_owner(const api_ctx *ctx) { return !strcmp(ctx->token.role, "owner"); }


static int member_load(api_ctx *ctx, const char *org_id, const char *id, store_member *m, bs_err *err)
{
    int found = 0;
    if (!id || store_control_member_get(ctx->app->control, org_id, id, m, &found, err) < 0) return err->status ? -1 : bs_err_internal(err);
    return found ? 0 : bs_err_set(err, 404, "org/member-not-found", "Member not found");
}

static int invitation_load(api_ctx *ctx, const char *org_id, const char *id, store_org_invitation *v, bs_err *err)
{
    int found = 0;
    if (!id || store_control_invitation_get(ctx->app->control, org_id, id, v, &found, err) < 0) return err->status ? -1 : bs_err_internal(err);
    return found ? 0 : bs_err_set(err, 404, "org/invitation-not-found", "Invitation not found");
}

/* Who did it, for invitedBy: the acting member, else the service token. */
static const char *actor_id(const api_ctx *ctx) { return ctx->token.member_id[0] ? ctx->token.member_id : ctx->token.token_id; }

/* Drops the cached state of the organization's tokens bound to member_id (NULL: every token), so a role
 * change or a revocation applies to the very next request. */
static void forget_tokens(api_ctx *ctx, const char *org_id, const char *member_id)
{
    store_operator_token_row *rows = calloc(TEAM_TOKENS_MAX, sizeof *rows);
    size_t n = 0;
    bs_err err;
    bs_err_clear(&err);
    if (rows && store_control_operator_token_list(ctx->app->control, org_id, rows, TEAM_TOKENS_MAX, &n, &err) == 0)
        for (size_t i = 0; i < n; i++)
            if (!member_id || !strcmp(rows[i].token.member_id, member_id)) fleet_bus_publish(ctx->app->bus, FLEET_KEY, rows[i].token.hash);
    free(rows);
}

/* ---- input ---- */

static int body_object(http_req *req, struct json_object **body, bs_err *err)
{
    *body = http_req_json_borrow(req);
    return json_object_is_type(*body, json_type_object) ? 0 : bs_err_set(err, 400, "common/invalid-parameters", "A JSON object body is required");
}

/* An optional (or required) string member of at most max characters into out. */
static int text_member(struct json_object *body, const char *name, size_t max, int required, char *out, size_t size, bs_err *err)
{
    struct json_object *v;
    if (!json_object_object_get_ex(body, name, &v) || json_object_is_type(v, json_type_null))
        return required ? bs_err_set(err, 400, "common/invalid-parameters", "%s is required", name) : 0;
    const char *t = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
    if (!t || (required && !*t) || json_utf8_chars(t) > max || strlen(t) >= size)
        return bs_err_set(err, 400, "common/invalid-parameters", "%s: a string of at most %zu characters", name, max);
    snprintf(out, size, "%s", t);
    return 0;
}

/* local@domain, at most 320 characters, no spaces or control characters. */
static int email_ok(const char *e)
{
    const char *at = strchr(e, '@');
    if (!at || at == e || !at[1] || strchr(at + 1, '@') || strlen(e) > 320) return 0;
    for (const unsigned char *c = (const unsigned char *)e; *c; c++)
        if (*c <= ' ' || *c == 0x7f) return 0;
    return 1;
}

static int email_member(struct json_object *body, const char *name, int required, char *out, size_t size, bs_err *err)
{
    if (text_member(body, name, 320, required, out, size, err) < 0) return -1;
    if (out[0] && !email_ok(out)) return bs_err_set(err, 400, "common/invalid-parameters", "%s must be an e-mail address", name);
    return 0;
}

/* ---- JSON shapes ---- */

static struct json_object *member_json(const store_member *m);
static struct json_object *member_json_row(const void *row) { return member_json(row); }

static struct json_object *member_json(const store_member *m)
{
    struct json_object *j = json_object_new_object();
    json_object_object_add(j, "id", json_object_new_string(m->id));
    json_object_object_add(j, "organizationId", json_object_new_string(m->organization_id));
    json_object_object_add(j, "email", m->email[0] ? json_object_new_string(m->email) : NULL);
    json_object_object_add(j, "name", json_object_new_string(m->name));
    json_object_object_add(j, "role", json_object_new_string(m->role));
    json_object_object_add(j, "status", json_object_new_string(m->status[0] ? m->status : "active"));
    json_add_time(j, "joinedAt", m->joined_at);
    json_object_object_add(j, "invitedBy", m->invited_by[0] ? json_object_new_string(m->invited_by) : NULL);
    return j;
}

static const char *invitation_status(const store_org_invitation *v, int64_t now)
{
    return v->accepted_at ? "accepted" : v->revoked_at ? "revoked" : v->expires_at <= now ? "expired" : "pending";
}

static struct json_object *invitation_json(const store_org_invitation *v);
static struct json_object *invitation_json_row(const void *row) { return invitation_json(row); }

static struct json_object *invitation_json(const store_org_invitation *v)
{
    struct json_object *j = json_object_new_object();
    json_object_object_add(j, "id", json_object_new_string(v->id));
    json_object_object_add(j, "organizationId", json_object_new_string(v->organization_id));
    json_object_object_add(j, "email", json_object_new_string(v->email));
    json_object_object_add(j, "name", json_object_new_string(v->name));
    json_object_object_add(j, "role", json_object_new_string(v->role));
    json_object_object_add(j, "status", json_object_new_string(invitation_status(v, clock_now_ms())));
    json_object_object_add(j, "invitedBy", json_object_new_string(v->invited_by));
    json_object_object_add(j, "memberId", v->member_id[0] ? json_object_new_string(v->member_id) : NULL);
    json_add_time(j, "createdAt", v->created_at);
    json_add_time(j, "expiresAt", v->expires_at);
    json_add_time(j, "acceptedAt", v->accepted_at);
    json_add_time(j, "revokedAt", v->revoked_at);
    return j;
}

static struct json_object *token_json(const store_operator_token_row *r)
{
    const store_operator_token *t = &r->token;
    int64_t now = clock_now_ms();
    const char *status = r->revoked_at ? "revoked" : t->expires_at && t->expires_at <= now ? "expired" : "active";
    struct json_object *j = json_object_new_object();
    json_object_object_add(j, "id", json_object_new_string(t->id));
    json_object_object_add(j, "name", json_object_new_string(t->name));
    json_object_object_add(j, "role", json_object_new_string(t->role));
    json_object_object_add(j, "memberId", t->member_id[0] ? json_object_new_string(t->member_id) : NULL);
    json_object_object_add(j, "tokenHint", json_object_new_string(t->hint));
    json_object_object_add(j, "status", json_object_new_string(status));
    json_add_time(j, "createdAt", t->created_at);
    json_add_time(j, "expiresAt", t->expires_at);
    json_add_time(j, "revokedAt", r->revoked_at);
    return j;
}

static void answer(http_res *res, int status, struct json_object *j)
{
    http_res_json(res, status, j);
    json_object_put(j);
}

/* ---- members ---- */

static void members_list(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_org o;
    int64_t page = api_query_int(req, "page", 1, 1000000), limit = api_query_int(req, "limit", 20, TEAM_PAGE_MAX), total = 0;
    store_member_query q = {.search = http_req_query(req, "search"), .role = http_req_query(req, "role"),
                            .offset = (page - 1) * limit, .limit = (size_t)limit};
    store_member *rows = calloc((size_t)limit, sizeof *rows);
    size_t n = 0;
    if (!rows) bs_err_internal(&err);
    else if (q.role && !role_known(q.role)) bs_err_set(&err, 400, "common/invalid-parameters", "role: owner, admin, member or billing");
    else if (api_admin_org(ctx, req, ROLE_VIEW_ORG, &o, &err) == 0) {
        q.organization_id = o.id;
        store_control_member_list(ctx->app->control, &q, rows, &n, &total, &err);
    }
    api_answer_rows(res, &err, rows, n, sizeof *rows, member_json_row, total, page, limit);
}

static void member_get(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_org o;
    store_member m;
    if (api_admin_org(ctx, req, ROLE_VIEW_ORG, &o, &err) < 0 || member_load(ctx, o.id, http_req_param(req, "memberId"), &m, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    answer(res, 200, member_json(&m));
}

/* §9.6: an Owner changes anyone to anything; below Owner, only members below your own level, to roles
 * below it (an Admin: Member and Billing users, to Member or Billing). */
static int may_set_role(const api_ctx *ctx, const store_member *m, const char *role, bs_err *err)
{
    if (is_owner(ctx)) return 0;
    int mine = role_level(ctx->token.role);
    if (!strcmp(role, "owner")) return bs_err_set(err, 403, "org/permission-denied", "Only an owner grants the owner role");
    if (role_level(m->role) >= mine || role_level(role) >= mine)
        return bs_err_set(err, 403, "org/permission-denied", "A %s changes only members below their own level, to roles below it", ctx->token.role);
    return 0;
}

static int team_outcome(store_team_outcome outcome, bs_err *err)
{
    if (outcome == STORE_TEAM_NOT_FOUND) return bs_err_set(err, 404, "org/member-not-found", "Member not found");
    if (outcome == STORE_TEAM_LAST_OWNER)
        return bs_err_set(err, 409, "org/last-owner", "The organization must keep at least one owner: transfer ownership first");
    return 0;
}

static void member_patch(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_org o;
    store_member m;
    struct json_object *body;
    char role[STORE_ENUM_MAX] = "", was[STORE_ENUM_MAX], msg[512];
    store_team_outcome outcome = STORE_TEAM_DONE;
    if (api_admin_org(ctx, req, ROLE_CHANGE_ROLES, &o, &err) == 0 && member_load(ctx, o.id, http_req_param(req, "memberId"), &m, &err) == 0 &&
        body_object(req, &body, &err) == 0 && text_member(body, "role", 10, 1, role, sizeof role, &err) == 0) {
        if (!role_known(role)) bs_err_set(&err, 400, "common/invalid-parameters", "role: owner, admin, member or billing");
        else if (may_set_role(ctx, &m, role, &err) == 0 &&
                 store_control_member_set_role(ctx->app->control, o.id, m.id, role, &outcome, &err) == 0)
            team_outcome(outcome, &err);
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    snprintf(was, sizeof was, "%s", m.role);
    snprintf(m.role, sizeof m.role, "%s", role);
    forget_tokens(ctx, o.id, m.id); /* the member's tokens act with the new role from the next request */
    snprintf(msg, sizeof msg, "%s: %s -> %s", m.email[0] ? m.email : m.name, was, role);
    api_activity(ctx, o.id, NULL, "member", m.id, "update", msg);
    answer(res, 200, member_json(&m));
}

static void member_delete(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_org o;
    store_member m;
    store_team_outcome outcome = STORE_TEAM_DONE;
    if (api_admin_org(ctx, req, ROLE_REMOVE_MEMBERS, &o, &err) == 0 && member_load(ctx, o.id, http_req_param(req, "memberId"), &m, &err) == 0 &&
        store_control_member_remove(ctx->app->control, o.id, m.id, clock_now_ms(), &outcome, &err) == 0)
        team_outcome(outcome, &err);
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    forget_tokens(ctx, o.id, m.id);
    api_activity(ctx, o.id, NULL, "member", m.id, "delete", m.email[0] ? m.email : m.name);
    api_message(res, 200, "Member removed; their tokens are revoked");
}

/* ---- invitations ---- */

/* §9.4: an Owner invites Admin, Member or Billing; an Admin only Member. Ownership moves by transfer. */
static int may_invite(const api_ctx *ctx, const char *role, bs_err *err)
{
    if (!role_known(role) || !strcmp(role, "owner"))
        return bs_err_set(err, 400, "common/invalid-parameters", "role: admin, member or billing");
    if (!is_owner(ctx) && strcmp(role, "member"))
        return bs_err_set(err, 403, "org/permission-denied", "Only an owner invites %s users", role);
    return 0;
}

static int not_member(api_ctx *ctx, const char *org_id, const char *email, bs_err *err)
{
    store_member m;
    int found = 0;
    if (store_control_member_find_email(ctx->app->control, org_id, email, &m, &found, err) < 0) return -1;
    return found ? bs_err_set(err, 409, "org/already-member", "%s is already a member of the organization", email) : 0;
}

/* Fills the new invitation's id, token (text into token), hash, times and inviter, and stores it
 * (replacing earlier unaccepted invitations of the same e-mail). */
static int invitation_issue(api_ctx *ctx, store_org_invitation *v, char token[INVITE_TOKEN_MAX], bs_err *err)
{
    memcpy(token, "inv_", 4);
    if (keys_new_id("inv", v->id) < 0 || crypto_random_hex(token + 4, INVITE_TOKEN_BYTES) < 0) return bs_err_internal(err);
    keys_hash(token, v->hash);
    snprintf(v->invited_by, sizeof v->invited_by, "%s", actor_id(ctx));
    v->created_at = clock_now_ms();
    v->expires_at = v->created_at + STORE_INVITATION_TTL_MS;
    v->accepted_at = v->revoked_at = 0;
    v->member_id[0] = '\0';
    return store_control_invitation_insert(ctx->app->control, v, err);
}

/* The console link that accepts an invitation. */
static void accept_url(const api_ctx *ctx, const char *token, char *out, size_t size)
{
    snprintf(out, size, "%s/console/accept-invitation?token=%s", ctx->app->public_url ? ctx->app->public_url : "", token);
}

/* §9.4: the invitee gets the link by mail (SMTP, else the organization's outbox). Best effort: the
 * invitation stands and its answer carries the link even when the mail cannot be sent. */
static void invitation_mail(api_ctx *ctx, const store_org *o, const store_org_invitation *v, const char *token)
{
    store_mail m;
    char url[1024];
    bs_err err;
    memset(&m, 0, sizeof m);
    accept_url(ctx, token, url, sizeof url);
    snprintf(m.organization_id, sizeof m.organization_id, "%s", o->id);
    snprintf(m.to, sizeof m.to, "%s", v->email);
    snprintf(m.template_name, sizeof m.template_name, "org_invitation");
    snprintf(m.subject, sizeof m.subject, "You are invited to join %.200s", o->display_name[0] ? o->display_name : o->name);
    snprintf(m.body, sizeof m.body,
             "Hello%s%.100s,\n\nYou are invited to join the organization %.200s as %s.\n\nAccept the invitation: %s\n"
             "(or with the CLI: basalt invite accept %s)\n\nThe invitation expires in 7 days.\n",
             v->name[0] ? " " : "", v->name, o->display_name[0] ? o->display_name : o->name, v->role, url, token);
    if (mailer_send(ctx->app->mail, &m, &err) < 0) log_warn("invitation mail to %s not sent: %s", v->email, err.message);
}

/* 201 with the invitation, its token and the link that accepts it (shown this once), mailed too. */
static void answer_issued(api_ctx *ctx, http_res *res, const store_org *o, const store_org_invitation *v, const char *token)
{
    struct json_object *j = invitation_json(v);
    char url[1024];
    accept_url(ctx, token, url, sizeof url);
    invitation_mail(ctx, o, v, token);
    json_object_object_add(j, "token", json_object_new_string(token));
    json_object_object_add(j, "acceptUrl", json_object_new_string(url));
    answer(res, 201, j);
}

static void invitation_create(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_org o;
    store_org_invitation v;
    struct json_object *body;
    char token[INVITE_TOKEN_MAX];
    memset(&v, 0, sizeof v);
    if (api_admin_org(ctx, req, ROLE_INVITE_MEMBERS, &o, &err) == 0 && body_object(req, &body, &err) == 0 &&
        email_member(body, "email", 1, v.email, sizeof v.email, &err) == 0 && text_member(body, "name", 100, 0, v.name, sizeof v.name, &err) == 0 &&
        text_member(body, "role", 10, 0, v.role, sizeof v.role, &err) == 0) {
        if (!v.role[0]) snprintf(v.role, sizeof v.role, "member");
        snprintf(v.organization_id, sizeof v.organization_id, "%s", o.id);
        if (may_invite(ctx, v.role, &err) == 0 && not_member(ctx, o.id, v.email, &err) == 0 && invitation_issue(ctx, &v, token, &err) == 0)
            api_activity(ctx, o.id, NULL, "invitation", v.id, "create", v.email);
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    answer_issued(ctx, res, &o, &v, token);
}

static int status_known(const char *s)
{
    return !strcmp(s, "pending") || !strcmp(s, "accepted") || !strcmp(s, "revoked") || !strcmp(s, "expired");
}

static void invitations_list(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_org o;
    int64_t page = api_query_int(req, "page", 1, 1000000), limit = api_query_int(req, "limit", 20, TEAM_PAGE_MAX), total = 0;
    store_org_invitation_query q = {.status = http_req_query(req, "status"), .now = clock_now_ms(),
                                    .offset = (page - 1) * limit, .limit = (size_t)limit};
    store_org_invitation *rows = calloc((size_t)limit, sizeof *rows);
    size_t n = 0;
    if (!rows) bs_err_internal(&err);
    else if (q.status && !status_known(q.status)) bs_err_set(&err, 400, "common/invalid-parameters", "status: pending, accepted, revoked or expired");
    else if (api_admin_org(ctx, req, ROLE_VIEW_ORG, &o, &err) == 0) {
        q.organization_id = o.id;
        store_control_invitation_list(ctx->app->control, &q, rows, &n, &total, &err);
    }
    api_answer_rows(res, &err, rows, n, sizeof *rows, invitation_json_row, total, page, limit);
}

/* Loads :id of the caller's organization for a change the caller may make to invitations of its role. */
static int invitation_for_change(api_ctx *ctx, http_req *req, store_org *o, store_org_invitation *v, bs_err *err)
{
    if (api_admin_org(ctx, req, ROLE_INVITE_MEMBERS, o, err) < 0 || invitation_load(ctx, o->id, http_req_param(req, "id"), v, err) < 0) return -1;
    if (!is_owner(ctx) && strcmp(v->role, "member"))
        return bs_err_set(err, 403, "org/permission-denied", "Only an owner manages %s invitations", v->role);
    return 0;
}

static void invitation_revoke(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_org o;
    store_org_invitation v;
    int found = 0;
    int64_t now = clock_now_ms();
    if (invitation_for_change(ctx, req, &o, &v, &err) == 0) {
        if (strcmp(invitation_status(&v, now), "pending") ||
            (store_control_invitation_revoke(ctx->app->control, o.id, v.id, now, &found, &err) == 0 && !found))
            bs_err_set(&err, 409, "org/invitation-not-pending", "The invitation is %s, not pending", invitation_status(&v, now));
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    v.revoked_at = now;
    api_activity(ctx, o.id, NULL, "invitation", v.id, "revoke", v.email);
    answer(res, 200, invitation_json(&v));
}

static void invitation_resend(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_org o;
    store_org_invitation v;
    char token[INVITE_TOKEN_MAX], old[STORE_ID_MAX] = "";
    if (invitation_for_change(ctx, req, &o, &v, &err) == 0) {
        snprintf(old, sizeof old, "%s", v.id);
        if (v.accepted_at) bs_err_set(&err, 409, "org/invitation-used", "The invitation was already accepted");
        else if (not_member(ctx, o.id, v.email, &err) == 0 && invitation_issue(ctx, &v, token, &err) == 0)
            api_activity(ctx, o.id, NULL, "invitation", v.id, "resend", v.email);
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    answer_issued(ctx, res, &o, &v, token);
}

/* GET .../outbox: the organization's mail kept when no SMTP server is configured (Owner/Admin: it holds
 * invitation links). */
static void org_outbox(api_ctx *ctx, http_req *req, http_res *res)
{
    enum { ORG_OUTBOX_MAX = 100 };
    bs_err err;
    bs_err_clear(&err);
    store_org o;
    size_t n = 0;
    store_mail *mails = calloc(ORG_OUTBOX_MAX, sizeof *mails);
    if (!mails) bs_err_internal(&err);
    else if (api_admin_org(ctx, req, ROLE_INVITE_MEMBERS, &o, &err) == 0)
        store_control_org_outbox_list(ctx->app->control, o.id, mails, ORG_OUTBOX_MAX, &n, &err);
    api_answer_mails(res, &err, mails, n); /* frees mails */
}

/* ---- accepting (no credential: the invitation token is the credential) ---- */

/* Why an invitation cannot be accepted now, or 0. */
static int acceptable(const store_org_invitation *v, bs_err *err)
{
    if (v->accepted_at) return bs_err_set(err, 410, "org/invitation-used", "The invitation was already accepted");
    if (v->revoked_at) return bs_err_set(err, 410, "org/invitation-revoked", "The invitation was revoked");
    if (v->expires_at <= clock_now_ms()) return bs_err_set(err, 410, "org/invitation-expired", "The invitation has expired; ask for a new one");
    return 0;
}

/* The invitation named by body.token, usable now, of an organization that still exists. */
static int accept_find(api_app *app, struct json_object *body, store_org_invitation *v, bs_err *err)
{
    const char *token = json_get_string(body, "token");
    char hash[STORE_HASH_HEX];
    store_org o;
    int found = 0;
    if (!token || strncmp(token, "inv_", 4) || strlen(token) != INVITE_TOKEN_MAX - 1)
        return bs_err_set(err, 400, "common/invalid-parameters", "token: the invitation token (inv_ and 64 hex digits)");
    keys_hash(token, hash);
    if (store_control_invitation_lookup(app->control, hash, v, &found, err) < 0) return -1;
    if (found && store_control_org_get(app->control, v->organization_id, &o, &found, err) < 0) return -1;
    if (!found || !strcmp(o.status, "deleted")) return bs_err_set(err, 404, "org/invitation-not-found", "Invitation not found");
    return acceptable(v, err);
}

/* The member and its first token the accepted invitation makes. */
static int accept_prepare(struct json_object *body, const store_org_invitation *v, store_member *m, store_operator_token *t,
                          char token[KEYS_TEXT_MAX], bs_err *err)
{
    memset(m, 0, sizeof *m);
    memset(t, 0, sizeof *t);
    if (text_member(body, "name", 100, 0, m->name, sizeof m->name, err) < 0) return -1;
    if (!m->name[0]) snprintf(m->name, sizeof m->name, "%s", v->name[0] ? v->name : v->email);
    if (keys_new_id("mem", m->id) < 0 || keys_new_id("tok", t->id) < 0 || keys_generate(KEYS_OPERATOR, token) < 0) return bs_err_internal(err);
    snprintf(m->organization_id, sizeof m->organization_id, "%s", v->organization_id);
    snprintf(m->email, sizeof m->email, "%s", v->email);
    snprintf(m->role, sizeof m->role, "%s", v->role);
    snprintf(m->status, sizeof m->status, "active");
    snprintf(m->invited_by, sizeof m->invited_by, "%s", v->invited_by);
    m->joined_at = t->created_at = clock_now_ms();
    snprintf(t->organization_id, sizeof t->organization_id, "%s", v->organization_id);
    snprintf(t->name, sizeof t->name, "%.300s", v->email);
    snprintf(t->role, sizeof t->role, "%s", v->role);
    snprintf(t->member_id, sizeof t->member_id, "%s", m->id);
    keys_hash(token, t->hash);
    keys_hint(token, t->hint);
    return 0;
}

static int accept_store(api_app *app, store_org_invitation *v, const store_member *m, const store_operator_token *t, bs_err *err)
{
    int accepted = 0, found = 0;
    bs_err e;
    bs_err_clear(&e);
    if (store_control_invitation_accept(app->control, v->id, m->joined_at, m, t, &accepted, &e) < 0) {
        if (e.status != 409) return *err = e, -1;
        return bs_err_set(err, 409, "org/already-member", "%s is already a member of the organization", v->email);
    }
    if (accepted) return 0;
    /* changed since it was read: say what it is now */
    if (store_control_invitation_get(app->control, v->organization_id, v->id, v, &found, err) < 0) return -1;
    return found && acceptable(v, err) < 0 ? -1 : bs_err_set(err, 404, "org/invitation-not-found", "Invitation not found");
}

static void invitation_accept(http_req *req, http_res *res, void *data)
{
    api_app *app = data;
    bs_err err;
    bs_err_clear(&err);
    struct json_object *body = http_req_json_borrow(req);
    store_org_invitation v;
    store_member m;
    store_operator_token t;
    char token[KEYS_TEXT_MAX], msg[512];
    if (!json_object_is_type(body, json_type_object)) bs_err_set(&err, 400, "common/invalid-parameters", "A JSON object body is required");
    else if (accept_find(app, body, &v, &err) == 0 && accept_prepare(body, &v, &m, &t, token, &err) == 0)
        accept_store(app, &v, &m, &t, &err);
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    api_ctx ctx = {.app = app, .caller = API_CALLER_OPERATOR};
    snprintf(ctx.token.token_id, sizeof ctx.token.token_id, "%s", t.id);
    snprintf(ctx.token.member_id, sizeof ctx.token.member_id, "%s", m.id);
    api_activity(&ctx, m.organization_id, NULL, "invitation", v.id, "accept", v.email);
    snprintf(msg, sizeof msg, "%s joined as %s", m.email, m.role);
    api_activity(&ctx, m.organization_id, NULL, "member", m.id, "create", msg);
    struct json_object *j = json_object_new_object();
    json_object_object_add(j, "member", member_json(&m));
    json_object_object_add(j, "token", json_object_new_string(token)); /* the only time it is shown */
    json_object_object_add(j, "tokenId", json_object_new_string(t.id));
    json_object_object_add(j, "tokenHint", json_object_new_string(t.hint));
    answer(res, 201, j);
}

/* ---- access tokens ---- */

static void tokens_list(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_org o;
    store_operator_token_row *rows = calloc(TEAM_TOKENS_MAX, sizeof *rows);
    size_t n = 0;
    if (!rows) bs_err_internal(&err);
    else if (api_admin_org(ctx, req, ROLE_MANAGE_KEYS, &o, &err) == 0 && /* expired link tokens go first */
             store_control_console_tokens_prune(ctx->app->control, CONSOLE_LINK_TOKEN_NAME, clock_now_ms(), NULL, NULL, &err) == 0)
        store_control_operator_token_list(ctx->app->control, o.id, rows, TEAM_TOKENS_MAX, &n, &err);
    if (err.status) {
        free(rows);
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *items = json_object_new_array();
    for (size_t i = 0; i < n; i++) json_object_array_add(items, token_json(&rows[i]));
    free(rows);
    api_answer_page(res, items, (int64_t)n, 1, n ? (int64_t)n : 20);
}

static void token_revoke(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_org o;
    store_operator_token_row r;
    int found = 0;
    if (api_admin_org(ctx, req, ROLE_MANAGE_KEYS, &o, &err) == 0 &&
        store_control_operator_token_get(ctx->app->control, o.id, http_req_param(req, "id"), &r, &found, &err) == 0) {
        if (!found) bs_err_set(&err, 404, "org/token-not-found", "Access token not found");
        else if (!strcmp(r.token.role, "owner") && !is_owner(ctx)) bs_err_set(&err, 403, "org/permission-denied", "Only an owner revokes an owner's token");
        else store_control_operator_token_revoke(ctx->app->control, r.token.id, clock_now_ms(), &found, &err);
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    fleet_bus_publish(ctx->app->bus, FLEET_KEY, r.token.hash);
    api_activity(ctx, o.id, NULL, "token", r.token.id, "revoke", r.token.name);
    api_message(res, 200, "Access token revoked");
}

/* ---- ownership and leaving ---- */

static void org_transfer(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_org o;
    store_member m;
    struct json_object *body;
    char id[STORE_ID_MAX] = "";
    int found = 0;
    if (api_admin_org(ctx, req, ROLE_TRANSFER_OWNERSHIP, &o, &err) == 0 && body_object(req, &body, &err) == 0 &&
        text_member(body, "memberId", STORE_ID_MAX - 1, 1, id, sizeof id, &err) == 0 &&
        store_control_member_transfer(ctx->app->control, o.id, id, &found, &err) == 0) {
        if (!found) bs_err_set(&err, 404, "org/member-not-found", "Member not found");
        else member_load(ctx, o.id, id, &m, &err);
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    forget_tokens(ctx, o.id, NULL); /* every former owner now acts as an admin */
    api_activity(ctx, o.id, NULL, "member", m.id, "transfer", m.email[0] ? m.email : m.name);
    answer(res, 200, member_json(&m));
}

static void org_leave(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    store_org o;
    store_member m;
    store_team_outcome outcome = STORE_TEAM_DONE;
    if (api_admin_org(ctx, req, ROLE_VIEW_ORG, &o, &err) == 0) {
        if (!ctx->token.member_id[0])
            bs_err_set(&err, 403, "org/permission-denied", "Only a member's token leaves; revoke a service token instead");
        else if (member_load(ctx, o.id, ctx->token.member_id, &m, &err) == 0 &&
                 store_control_member_remove(ctx->app->control, o.id, m.id, clock_now_ms(), &outcome, &err) == 0)
            team_outcome(outcome, &err);
    }
    if (err.status) {
        http_res_error_from(res, &err);
        return;
    }
    forget_tokens(ctx, o.id, m.id);
    api_activity(ctx, o.id, NULL, "member", m.id, "leave", m.email[0] ? m.email : m.name);
    api_message(res, 200, "You left the organization; your tokens are revoked");
}

/* ---- for the other management surfaces ---- */

int api_team_token_member(api_ctx *ctx, struct json_object *body, store_operator_token *t, bs_err *err)
{
    char id[STORE_ID_MAX] = "";
    store_member m;
    if (!json_object_object_get_ex(body, "memberId", NULL)) return 0;
    if (text_member(body, "memberId", STORE_ID_MAX - 1, 0, id, sizeof id, err) < 0) return -1;
    if (!id[0]) return 0; /* null: a service token */
    if (member_load(ctx, ctx->token.organization_id, id, &m, err) < 0) return -1;
    if (t->role[0] && strcmp(t->role, m.role))
        return bs_err_set(err, 400, "common/invalid-parameters", "role: a member's token has the member's role (%s)", m.role);
    snprintf(t->role, sizeof t->role, "%s", m.role);
    snprintf(t->member_id, sizeof t->member_id, "%s", m.id);
    return 0;
}

int api_team_owner_new(struct json_object *body, store_member *m, bs_err *err)
{
    memset(m, 0, sizeof *m);
    if (email_member(body, "ownerEmail", 0, m->email, sizeof m->email, err) < 0 ||
        text_member(body, "ownerName", 100, 0, m->name, sizeof m->name, err) < 0)
        return -1;
    if (!m->name[0]) snprintf(m->name, sizeof m->name, "Owner");
    snprintf(m->role, sizeof m->role, "owner");
    snprintf(m->status, sizeof m->status, "active");
    m->joined_at = clock_now_ms();
    return keys_new_id("mem", m->id) < 0 ? bs_err_internal(err) : 0;
}

int api_admin_team_register(http_router *router, api_app *app)
{
    http_route_opts json = {.body = HTTP_BODY_JSON, .max_body = 16 * 1024};
    const struct { unsigned m; const char *path; api_handler_fn fn; int body; } routes[] = {
        {HTTP_GET, "/admin/v1/organizations/:orgId/members", members_list, 0},
        {HTTP_GET, "/admin/v1/organizations/:orgId/members/:memberId", member_get, 0},
        {HTTP_PATCH, "/admin/v1/organizations/:orgId/members/:memberId", member_patch, 1},
        {HTTP_DELETE, "/admin/v1/organizations/:orgId/members/:memberId", member_delete, 0},
        {HTTP_GET, "/admin/v1/organizations/:orgId/invitations", invitations_list, 0},
        {HTTP_POST, "/admin/v1/organizations/:orgId/invitations", invitation_create, 1},
        {HTTP_DELETE, "/admin/v1/organizations/:orgId/invitations/:id", invitation_revoke, 0},
        {HTTP_POST, "/admin/v1/organizations/:orgId/invitations/:id/resend", invitation_resend, 1},
        {HTTP_GET, "/admin/v1/organizations/:orgId/outbox", org_outbox, 0},
        {HTTP_GET, "/admin/v1/organizations/:orgId/access-tokens", tokens_list, 0},
        {HTTP_DELETE, "/admin/v1/organizations/:orgId/access-tokens/:id", token_revoke, 0},
        {HTTP_POST, "/admin/v1/organizations/:orgId/transfer", org_transfer, 1},
        {HTTP_POST, "/admin/v1/organizations/:orgId/leave", org_leave, 1},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (api_route_admin(router, app, routes[i].m, routes[i].path, routes[i].fn, routes[i].body ? &json : NULL) < 0) return -1;
    return http_router_add(router, HTTP_POST, "/admin/v1/invitations/accept", invitation_accept, app, &json) < 0 ? -1 : 0;
}
