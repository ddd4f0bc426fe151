#include "app/local_control.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void local_control_defaults(local_control_opts *o)
{
    o->data = getenv("BASALT_DATA");
    o->control = getenv("BASALT_CONTROL_STORE");
    if (!o->control) o->control = getenv("BASALT_CONTROL");
    if (!o->data) o->data = "./basalt-data";
}

void local_control_location(const char *control, const char *data, char *out, size_t cap)
{
    if (control && *control && strcmp(control, "sqlite") != 0) snprintf(out, cap, "%s", control);
    else snprintf(out, cap, "sqlite:%s/control.db", data);
}

void local_env_store_location(const char *env_store, const char *data, char *out, size_t cap)
{
    snprintf(out, cap, "%s", env_store && *env_store && strcmp(env_store, "sqlite") != 0 ? env_store : data);
}

store_control *local_control_open_new(const local_control_opts *o, bs_err *err)
{
    char location[PATH_MAX + 16];
    local_control_location(o->control, o->data, location, sizeof location);
    return store_control_open(location, err);
}
