/* roles: the permission matrix of platform.md §9.2–9.3. */
#include "core/roles.h"

#include <string.h>

/*                          owner admin member billing */
static const unsigned char matrix[ROLE_ACTION_COUNT][4] = {
    [ROLE_VIEW_ORG] = {1, 1, 1, 1},
    [ROLE_EDIT_ORG] = {1, 1, 0, 0},
    [ROLE_MANAGE_PROJECTS] = {1, 1, 0, 0},
    [ROLE_USE_PROJECTS] = {1, 1, 1, 0},
    [ROLE_EDIT_TABLES] = {1, 1, 0, 0},
    [ROLE_EDIT_PROJECT_SETTINGS] = {1, 1, 0, 0},
    [ROLE_MANAGE_ENVIRONMENTS] = {1, 1, 0, 0},
    [ROLE_MANAGE_KEYS] = {1, 1, 0, 0},
    [ROLE_INVITE_MEMBERS] = {1, 1, 0, 0},
    [ROLE_CHANGE_ROLES] = {1, 1, 0, 0},
    [ROLE_REMOVE_MEMBERS] = {1, 0, 0, 0},
    [ROLE_DELETE_ORG] = {1, 0, 0, 0},
    [ROLE_TRANSFER_OWNERSHIP] = {1, 0, 0, 0},
    [ROLE_VIEW_PLAN] = {1, 1, 1, 1},
    [ROLE_MANAGE_BILLING] = {1, 0, 0, 1},
};

static const char *const names[ROLE_ACTION_COUNT] = {
    "view the organization", "edit organization settings", "create or delete projects", "use projects",
    "change tables", "edit project settings", "create or delete environments", "manage API keys",
    "invite members", "change member roles", "remove members", "delete the organization",
    "transfer ownership", "view the plan", "change the plan",
};

int role_may(const char *role, role_action action)
{
    static const char *const roles[] = {"owner", "admin", "member", "billing"};
    if (!role || action < 0 || action >= ROLE_ACTION_COUNT) return 0;
    for (int i = 0; i < 4; i++)
        if (!strcmp(role, roles[i])) return matrix[action][i];
    return 0;
}

const char *role_action_name(role_action action)
{
    return action >= 0 && action < ROLE_ACTION_COUNT ? names[action] : "?";
}

int role_known(const char *role) { return role_may(role, ROLE_VIEW_ORG); }

int role_level(const char *role) { return !strcmp(role, "owner") ? 3 : !strcmp(role, "admin") ? 2 : 1; }
