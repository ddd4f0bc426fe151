#include "app/local_control.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

void local_control_defaults(local_control_opts *o)
{
    o->data = getenv("BASALT_DATA");
    o->control = getenv("BASALT_CONTROL");
    if (!o->data) o->data = "./basalt-data";
}

store_control *local_control_open_new(const local_control_opts *o, bs_err *err)
{
    char location[PATH_MAX + 16];
    if (o->control) snprintf(location, sizeof location, "%s", o->control);
    else snprintf(location, sizeof location, "sqlite:%s/control.db", o->data);
    return store_control_open(location, err);
}
