/* cluster_cmd: clusters as data, on the control store directly (the operator's, as operator_cmd):
 *   basalt operator cluster add NAME URL --shared|--dedicated [--capacity N]
 *   basalt operator cluster list      (also `basalt operator clusters`)
 *   basalt operator cluster drain NAME
 * with the same --data / --control-store options. `add` checks that URL is a PostgreSQL URL whose server
 * answers before registering it; no output ever shows a URL's password (util/url_mask.h). */
#ifndef BASALT_APP_CLUSTER_CMD_H
#define BASALT_APP_CLUSTER_CMD_H

/* argv[0] is "cluster" or "clusters". Returns the process exit code. */
int cluster_main(int argc, char **argv);

#endif
