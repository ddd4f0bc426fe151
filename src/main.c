/* basalt: one binary, several commands. main only dispatches; each command lives in src/app/. */
#include <stdio.h>
#include <string.h>

#include "app/serve.h"
#include "app/token_cmd.h"

static void usage(FILE *out)
{
    fprintf(out, "Usage: basalt COMMAND [OPTIONS]\n\n"
                 "A self-hosted backend-as-a-service, wire-compatible with the bkend client API.\n\n"
                 "Commands:\n"
                 "  serve      run the HTTP server (client API, management API, console, metrics)\n"
                 "  token      sign an end user's access token for an environment (testing, debugging)\n"
                 "  version    print the version\n"
                 "  help       show this help\n\n"
                 "`basalt serve --help` lists every server option.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "serve") == 0) return serve_main(argc - 2, argv + 2);
    if (strcmp(argv[1], "token") == 0) return token_main(argc - 2, argv + 2);
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("basalt %s\n", BASALT_VERSION);
        return 0;
    }
    fprintf(stderr, "basalt: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
