/* roles: who in an organization may do what (platform.md §9.2–9.3), as one table. Basalt's readings of
 * the open cells: Members use projects (data, tables read) but do not change tables, settings,
 * environments or keys (KO); Billing sees the organization and the plan and changes the plan, nothing in
 * projects; Admins create and delete projects (EN, §4.4 Owner + Admin). Pure. */
#ifndef BASALT_CORE_ROLES_H
#define BASALT_CORE_ROLES_H

typedef enum role_action {
    ROLE_VIEW_ORG = 0,
    ROLE_EDIT_ORG,
    ROLE_MANAGE_PROJECTS,     /* create / delete projects */
    ROLE_USE_PROJECTS,        /* read projects, environments, tables, data */
    ROLE_EDIT_TABLES,
    ROLE_EDIT_PROJECT_SETTINGS,
    ROLE_MANAGE_ENVIRONMENTS,
    ROLE_MANAGE_KEYS,
    ROLE_INVITE_MEMBERS,
    ROLE_CHANGE_ROLES,
    ROLE_REMOVE_MEMBERS,
    ROLE_DELETE_ORG,
    ROLE_TRANSFER_OWNERSHIP,
    ROLE_VIEW_PLAN,
    ROLE_MANAGE_BILLING,      /* change the plan */
    ROLE_ACTION_COUNT
} role_action;

/* 1 when role (owner | admin | member | billing) may do action; 0 for unknown roles. */
int role_may(const char *role, role_action action);
/* 1 for the four roles (owner, admin, member, billing). */
int role_known(const char *role);
/* The rank of a role for team changes (§9.6: a member changes only lower ranks): owner 3, admin 2,
 * member and billing 1. */
int role_level(const char *role);
/* The action's name, for messages ("edit organization settings"). */
const char *role_action_name(role_action action);

#endif
