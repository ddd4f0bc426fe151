/* basalt: one binary, several commands. main only dispatches; each command lives in src/app/. */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "app/admin_cli.h"
#include "app/console_cmd.h"
#include "app/operator_cmd.h"
#include "app/serve.h"
#include "app/token_cmd.h"

static void usage(FILE *out)
{
    fprintf(out, "Usage: basalt COMMAND [OPTIONS]\n\n"
                 "A self-hosted backend-as-a-service, wire-compatible with the bkend client API.\n\n"
                 "Commands:\n"
                 "  serve      run the HTTP server (client API, management API, console, metrics)\n"
                 "  token      sign an end user's access token for an environment (testing, debugging)\n"
                 "  org, plan, project, env, key, token, member, invite, activity\n"
                 "             manage organizations, plans, projects, environments, keys, access tokens and the\n"
                 "             team (a client of /admin/v1; `basalt org` alone lists the verbs)\n"
                 "  operator   suspend or resume an organization, register, list and drain clusters (on the\n"
                 "             control store directly, as the server's operator)\n"
                 "  console    `basalt console link [ORG]`: a one-time sign-in link to the web console\n"
                 "  version    print the version\n"
                 "  help       show this help\n\n"
                 "`basalt serve --help` lists every server option.\n");
}

/* `basalt token create|list|revoke` manage operator tokens (the management CLI); any other `basalt
 * token` signs an end user's token. */
static int operator_token_verb(int argc, char **argv)
{
    return argc > 2 && (strcmp(argv[2], "create") == 0 || strcmp(argv[2], "list") == 0 || strcmp(argv[2], "revoke") == 0);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "serve") == 0) return serve_main(argc - 2, argv + 2);
    if (strcmp(argv[1], "operator") == 0) return operator_main(argc - 2, argv + 2);
    if (strcmp(argv[1], "console") == 0) return console_main(argc - 2, argv + 2);
    if (strcmp(argv[1], "token") == 0 && !operator_token_verb(argc, argv)) return token_main(argc - 2, argv + 2);
    if (admin_cli_handles(argv[1])) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        int rc = admin_cli_main(argc - 1, argv + 1);
        curl_global_cleanup();
        return rc;
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("basalt %s\n", BASALT_VERSION);
        return 0;
    }
    fprintf(stderr, "basalt: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
