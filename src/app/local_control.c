#include "app/local_control.h"

#include <errno.h>
#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/master_key.h"

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
    store_control *control = store_control_open(location, err);
    uint8_t key[MASTER_KEY_LEN];
    int loaded = control ? master_key_load(o->data, 0, key, err) : 0;
    if (loaded > 0) store_control_set_seal_key(control, key); /* cluster URLs read as the server reads them */
    memset(key, 0, sizeof key);
    if (loaded >= 0) return control;
    store_control_free(control);
    return NULL;
}

int local_control_seal_key_make(store_control *control, const char *data, bs_err *err)
{
    if (mkdir(data, 0700) < 0 && errno != EEXIST)
        return bs_err_set(err, 500, "config/invalid", "cannot create data directory %s: %s", data, strerror(errno));
    uint8_t key[MASTER_KEY_LEN];
    int rc = master_key_load(data, 1, key, err);
    if (rc > 0) store_control_set_seal_key(control, key);
    memset(key, 0, sizeof key);
    return rc < 0 ? -1 : 0;
}
