/* local_control: commands that work on the data directory directly (no running server needed) open
 * the control store here, the way `basalt serve` finds it: --control LOCATION, else BASALT_CONTROL,
 * else sqlite:DATA/control.db with DATA from --data, BASALT_DATA or ./basalt-data. */
#ifndef BASALT_APP_LOCAL_CONTROL_H
#define BASALT_APP_LOCAL_CONTROL_H

#include "store/control.h"

/* The data directory and control location a command was given (either may be NULL). */
typedef struct local_control_opts {
    const char *data, *control;
} local_control_opts;

/* Fills the defaults from the environment. */
void local_control_defaults(local_control_opts *o);
/* Opens the store; the caller frees it with store_control_free. NULL with err filled on failure. */
store_control *local_control_open_new(const local_control_opts *o, bs_err *err);

#endif
