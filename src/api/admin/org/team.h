/* team.h: what the team (team.c) gives the other management files of the organization folder.
 * Private to src/api/admin/org. */
#ifndef BASALT_API_ADMIN_ORG_TEAM_H
#define BASALT_API_ADMIN_ORG_TEAM_H

#include "api/route.h"

/* POST access-tokens binds a token to body's optional memberId (the member's role; 400 when a different
 * role is asked, 404 org/member-not-found). */
int api_team_token_member(api_ctx *ctx, struct json_object *body, store_operator_token *t, bs_err *err);
/* POST organizations prepares the new organization's Owner member from ownerEmail/ownerName. */
int api_team_owner_new(struct json_object *body, store_member *m, bs_err *err);

#endif
