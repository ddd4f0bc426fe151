#include "core/usage_load.h"

#include <string.h>

#include "store/control.h"

int usage_load_api_calls(void *arg, const char *scope, const char *scope_id, int64_t from_ms, int64_t to_ms, int64_t *used,
                         bs_err *err)
{
    store_control *control = arg;
    if (!strcmp(scope, "org")) return store_control_usage_sum(control, scope_id, NULL, "api_call", from_ms, to_ms, used, err);
    store_project p;
    int found = 0;
    if (store_control_project_get(control, scope_id, &p, &found, err) < 0) return -1;
    *used = 0;
    return found ? store_control_usage_sum(control, p.organization_id, p.id, "api_call", from_ms, to_ms, used, err) : 0;
}

int usage_load_metric(void *arg, const char *org_id, const char *metric, int64_t from_ms, int64_t to_ms, int64_t *used,
                      bs_err *err)
{
    return store_control_usage_sum(arg, org_id, NULL, metric, from_ms, to_ms, used, err);
}
