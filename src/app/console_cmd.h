/* console_cmd: the web console's one-time sign-in link, made on the data directory directly (no running
 * server or token needed: whoever can read the control store is the operator):
 *   basalt console link [ORG] [--data DIR] [--control-store LOCATION] [--url URL]
 * prints URL/console/signin?code=SECRET, good once within 15 minutes, signing the browser in as the
 * organization's owner (core/console_session.h). ORG is an organization id; the default is the bootstrap
 * organization (DATA/bootstrap.json). URL: --url, else BASALT_PUBLIC_URL, else bootstrap.json's url. */
#ifndef BASALT_APP_CONSOLE_CMD_H
#define BASALT_APP_CONSOLE_CMD_H

/* argv[0] is the verb. Returns the process exit code. */
int console_main(int argc, char **argv);

#endif
