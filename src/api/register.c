/* register: the one place that knows every surface. api_register adds their routes in a fixed order
 * (the router prefers the earlier of two patterns that match equally), then the catch-alls that answer
 * 404 after the credential was checked. */
#include "api/register.h"

#include <stdio.h>

#include "api/admin/console/surface.h"
#include "api/admin/env/surface.h"
#include "api/admin/operator/surface.h"
#include "api/admin/org/surface.h"
#include "api/admin/tables/surface.h"
#include "api/health.h"
#include "api/v1/auth/surface.h"
#include "api/v1/data/surface.h"
#include "api/v1/files/surface.h"
#include "api/v1/pipeline.h"

/* Authenticated but unknown: the credential is checked first (it counts as an API call), then 404. */
static void unknown_route(api_ctx *ctx, http_req *req, http_res *res)
{
    char msg[256];
    snprintf(msg, sizeof msg, "No route for %s %.128s", http_req_method_name(req), http_req_path(req));
    http_res_error(res, 404, "common/not-found", msg);
}

#define ALL_METHODS (HTTP_GET | HTTP_POST | HTTP_PUT | HTTP_PATCH | HTTP_DELETE)

int api_register(http_router *router, api_app *app)
{
    http_route_opts raw = {.body = HTTP_BODY_RAW};
    if (api_health_register(router, app) < 0) return -1;
    if (api_console_session_register(router, app) < 0 || api_console_pages_register(router, app) < 0) return -1;
    if (api_admin_keys_register(router, app) < 0 || api_admin_reads_register(router, app) < 0) return -1;
    if (api_admin_tables_register(router, app) < 0 || api_admin_indexes_register(router, app) < 0 ||
        api_admin_schema_register(router, app) < 0 || api_admin_query_register(router, app) < 0)
        return -1;
    if (api_data_register(router, app) < 0) return -1;
    if (api_auth_register(router, app) < 0) return -1;
    if (api_users_register(router, app) < 0) return -1;
    if (api_mfa_register(router, app) < 0) return -1;
    if (api_mail_flows_register(router, app) < 0) return -1;
    if (api_admin_audit_register(router, app) < 0) return -1;
    if (api_auth_settings_register(router, app) < 0) return -1;
    if (api_admin_platform_register(router, app) < 0) return -1;
    if (api_operator_register(router, app) < 0) return -1;
    if (api_admin_usage_register(router, app) < 0) return -1;
    if (api_alerts_register(router, app) < 0) return -1;
    if (api_admin_team_register(router, app) < 0) return -1;
    if (api_user_settings_register(router, app) < 0) return -1;
    if (api_invitations_register(router, app) < 0) return -1;
    if (api_oauth_register(router, app) < 0) return -1;
    if (api_oauth_redirect_register(router, app) < 0) return -1;
    if (api_storage_register(router, app) < 0 || api_files_register(router, app) < 0 || api_multipart_register(router, app) < 0 ||
        api_avatars_register(router, app) < 0 || api_images_register(router, app) < 0)
        return -1;
    if (api_route_v1(router, app, ALL_METHODS, "/v1/*rest", unknown_route, &raw) < 0) return -1;
    if (api_route_admin(router, app, ALL_METHODS, "/admin/v1/*rest", unknown_route, &raw) < 0) return -1;
    return 0;
}
