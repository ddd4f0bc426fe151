#include "app/console_cmd.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/local_control.h"
#include "core/console_session.h"
#include "util/clock.h"
#include "util/json.h"

typedef struct console_opts {
    local_control_opts where;
    const char *url, *org;
} console_opts;

static void console_usage(FILE *out)
{
    fprintf(out, "Usage: basalt console link [ORG] [--data DIR] [--control-store LOCATION] [--url URL]\n\n"
                 "Prints a one-time link that signs a browser in to the web console as the organization's owner\n"
                 "(ORG: an organization id; default: the bootstrap organization of DATA/bootstrap.json). The link\n"
                 "works once, within 15 minutes; the session it opens lasts 12 hours. Works on the data directory\n"
                 "directly, also while the server runs.\n\n"
                 "  --data DIR                data directory (default ./basalt-data, or BASALT_DATA)\n"
                 "  --control-store LOCATION  control store: sqlite (DATA/control.db, the default) or postgres://...\n"
                 "                            (or BASALT_CONTROL_STORE; --control is its older name)\n"
                 "  --url URL                 how browsers reach the server (default BASALT_PUBLIC_URL, else the url\n"
                 "                            in DATA/bootstrap.json)\n");
}

static int parse_opts(int argc, char **argv, console_opts *o)
{
    static const struct option longs[] = {{"data", required_argument, NULL, 'd'},   {"control", required_argument, NULL, 'c'},
                                          {"control-store", required_argument, NULL, 'c'}, {"url", required_argument, NULL, 'u'},
                                          {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    local_control_defaults(&o->where);
    o->url = getenv("BASALT_PUBLIC_URL");
    optind = 0;
    int ch;
    argv--; /* getopt skips argv[0], which is here the verb */
    argc++;
    while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (ch) {
        case 'd': o->where.data = optarg; break;
        case 'c': o->where.control = optarg; break;
        case 'u': o->url = optarg; break;
        case 'h': console_usage(stdout); return 1;
        default: console_usage(stderr); return -1;
        }
    }
    if (optind >= argc || strcmp(argv[optind], "link") != 0 || argc - optind > 2) {
        console_usage(stderr);
        return -1;
    }
    o->org = optind + 1 < argc ? argv[optind + 1] : NULL;
    return 0;
}

/* What DATA/bootstrap.json says of key into out ("" when it cannot be read). */
static void from_bootstrap(const char *data, const char *key, char *out, size_t cap)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/bootstrap.json", data);
    struct json_object *b = json_object_from_file(path);
    const char *v = b ? json_get_string(b, key) : NULL;
    snprintf(out, cap, "%s", v ? v : "");
    json_object_put(b);
}

int console_main(int argc, char **argv)
{
    console_opts o;
    int parsed = parse_opts(argc, argv, &o);
    if (parsed != 0) return parsed > 0 ? 0 : 2;
    char org[128], url[1024];
    snprintf(org, sizeof org, "%s", o.org ? o.org : "");
    if (!org[0]) from_bootstrap(o.where.data, "organizationId", org, sizeof org);
    if (!org[0]) {
        fprintf(stderr, "basalt console link: no ORG given and no bootstrap organization in %s/bootstrap.json\n", o.where.data);
        return 2;
    }
    snprintf(url, sizeof url, "%s", o.url ? o.url : "");
    if (!url[0]) from_bootstrap(o.where.data, "url", url, sizeof url);
    if (!url[0]) snprintf(url, sizeof url, "http://127.0.0.1:8080");
    size_t n = strlen(url);
    if (n && url[n - 1] == '/') url[n - 1] = '\0';
    bs_err err;
    bs_err_clear(&err);
    char code[CONSOLE_SECRET_MAX];
    store_control *control = local_control_open_new(&o.where, &err);
    int rc = control ? console_link_create(control, org, clock_now_ms(), code, &err) : -1;
    store_control_free(control);
    if (rc < 0) {
        fprintf(stderr, "basalt console link: %s\n", err.message);
        return 1;
    }
    printf("%s/console/signin?code=%s\n", url, code);
    fprintf(stderr, "Open it within 15 minutes; it works once.\n");
    return 0;
}
