/* token_cmd: `basalt token`, which signs an end-user access token for one environment with that
 * environment's secret (the same code the server verifies with). For operators (acting as a user while
 * debugging permissions) and for the API tests of user/self permissions. */
#ifndef BASALT_APP_TOKEN_CMD_H
#define BASALT_APP_TOKEN_CMD_H

/* Prints the token on stdout. Returns the process exit code. */
int token_main(int argc, char **argv);

#endif
