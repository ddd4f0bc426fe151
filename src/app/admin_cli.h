/* admin_cli: the management CLI (`basalt org|plan|token|activity|project|env|key ...`), a client of /admin/v1. */
#ifndef BASALT_APP_ADMIN_CLI_H
#define BASALT_APP_ADMIN_CLI_H

/* 1 when group names a command group of the CLI. */
int admin_cli_handles(const char *group);
/* argv starts at the group word. Exit status: 0 ok, 1 refused by the server, 2 usage. */
int admin_cli_main(int argc, char **argv);

#endif
