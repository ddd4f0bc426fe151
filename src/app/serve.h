/* serve: the `basalt serve` command: configuration, data directory, control store, bootstrap, router,
 * HTTP server, and the graceful shutdown on SIGTERM/SIGINT (stop accepting, let requests in flight
 * finish within --shutdown-timeout, stop, flush, exit 0). */
#ifndef BASALT_APP_SERVE_H
#define BASALT_APP_SERVE_H

/* Runs until a termination signal. Returns the process exit code. */
int serve_main(int argc, char **argv);

#endif
