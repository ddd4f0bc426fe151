/* operator_cmd: what only the person running the server may do, on its data directory directly:
 *   basalt operator suspend ORG [--reason TEXT] [--data DIR] [--control LOCATION]
 *   basalt operator resume ORG  [--data DIR] [--control LOCATION]
 *   basalt operator cluster add|list|drain ...  (clusters as data: app/cluster_cmd.h; `clusters` = list)
 *   basalt operator quota ORG [api_call|storage|mau|bandwidth] N|plan  (a custom contract, or the plan's again)
 * A suspended organization's /v1 calls answer 403 org/suspended (within --key-cache-ms of the change);
 * its management API stays usable. Tenants cannot suspend or resume themselves. */
#ifndef BASALT_APP_OPERATOR_CMD_H
#define BASALT_APP_OPERATOR_CMD_H

/* argv[0] is the verb. Returns the process exit code. */
int operator_main(int argc, char **argv);

#endif
