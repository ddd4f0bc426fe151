/* local_control: commands that work on the data directory directly (no running server needed) open
 * the control store here, the way `basalt serve` finds it: --control-store LOCATION (or its older name
 * --control), else BASALT_CONTROL_STORE (or BASALT_CONTROL), else sqlite:DATA/control.db with DATA from
 * --data, BASALT_DATA or ./basalt-data. A location of just "sqlite" is that default too. */
#ifndef BASALT_APP_LOCAL_CONTROL_H
#define BASALT_APP_LOCAL_CONTROL_H

#include "store/control.h"

/* The data directory and control location a command was given (either may be NULL). */
typedef struct local_control_opts {
    const char *data, *control;
} local_control_opts;

/* Fills the defaults from the environment. */
void local_control_defaults(local_control_opts *o);
/* The location to open: control when set (and not "sqlite"), else sqlite:DATA/control.db. */
void local_control_location(const char *control, const char *data, char *out, size_t cap);
/* The environment data store's location (--env-store): env_store when set (and not "sqlite"), else the
 * data directory (SQLite files under it). */
void local_env_store_location(const char *env_store, const char *data, char *out, size_t cap);
/* Opens the store; the caller frees it with store_control_free. NULL with err filled on failure. With
 * DATA/master.key present, cluster URLs are sealed and opened with it (app/master_key.h). */
store_control *local_control_open_new(const local_control_opts *o, bs_err *err);
/* For commands that write secrets (cluster add): DATA (made when missing) and its master.key (made when
 * missing, as the first start makes it) seal them. 0, or -1 with err. */
int local_control_seal_key_make(store_control *control, const char *data, bs_err *err);

#endif
