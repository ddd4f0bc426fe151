#include "app/cluster_cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/local_control.h"
#include "store/docs.h"
#include "util/clock.h"
#include "util/url_mask.h"

#define CLUSTER_CAPACITY_DEFAULT 100 /* environments of a registered cluster unless --capacity says */
#define CLUSTER_CAPACITY_MAX 100000
#define CLUSTERS_LIST_MAX 4096

typedef struct cluster_opts {
    local_control_opts where;
    const char *sub, *name, *url, *kind;
    int capacity;
} cluster_opts;

static void cluster_usage(FILE *out)
{
    fprintf(out, "Usage: basalt operator cluster add NAME URL --shared|--dedicated [--capacity N] [--data DIR] [--control-store LOCATION]\n"
                 "       basalt operator cluster list [--data DIR] [--control-store LOCATION]   (also: basalt operator clusters)\n"
                 "       basalt operator cluster drain|undrain NAME [--data DIR] [--control-store LOCATION]\n\n"
                 "Registers a PostgreSQL server as a cluster (checked: it must answer; for --dedicated its role\n"
                 "needs CREATEDB). New staging, prod and custom environments go to the active dedicated cluster\n"
                 "with the fewest environments below its capacity (a database of their own there); new dev\n"
                 "environments take a slot (a schema) on an active shared one with room. `drain` stops new\n"
                 "placements on a cluster (its environments stay), `undrain` takes them again. `list` shows every\n"
                 "cluster with its use; URLs are shown without their password, and stored sealed with\n"
                 "DATA/master.key (made here when missing). Environments already placed move with\n"
                 "`basalt env move`.\n");
}

/* A cluster name: [a-z0-9-] (PostgreSQL names slot schemas after it, '-' as '_'), not one of the names
 * Basalt gives its own clusters. */
static int name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= STORE_ID_MAX || !strncmp(name, "shared-", 7) || !strncmp(name, "dedicated-", 10)) return 0;
    return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* Checks the positionals of o->sub: add NAME URL, list, drain NAME, undrain NAME. */
static int positionals(cluster_opts *o, int argc, char **argv)
{
    int n = argc - optind;
    if (!strcmp(argv[0], "clusters")) return n == 0 ? (o->sub = "list", 0) : -1;
    if (n < 1) return -1;
    o->sub = argv[optind];
    o->name = n > 1 ? argv[optind + 1] : NULL;
    o->url = n > 2 ? argv[optind + 2] : NULL;
    if (!strcmp(o->sub, "list")) return n == 1 ? 0 : -1;
    if (!strcmp(o->sub, "drain") || !strcmp(o->sub, "undrain")) return n == 2 ? 0 : -1;
    return !strcmp(o->sub, "add") && n == 3 && o->kind ? 0 : -1;
}

static int parse_opts(int argc, char **argv, cluster_opts *o)
{
    static const struct option longs[] = {{"data", required_argument, NULL, 'd'},
                                          {"control", required_argument, NULL, 'c'},
                                          {"control-store", required_argument, NULL, 'c'},
                                          {"shared", no_argument, NULL, 's'},
                                          {"dedicated", no_argument, NULL, 'D'},
                                          {"capacity", required_argument, NULL, 'n'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    local_control_defaults(&o->where);
    o->capacity = CLUSTER_CAPACITY_DEFAULT;
    optind = 0; /* reinitialised; scanning starts after argv[0] (cluster | clusters) */
    int ch;
    char *end = NULL;
    while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (ch) {
        case 'd': o->where.data = optarg; break;
        case 'c': o->where.control = optarg; break;
        case 's': o->kind = "shared"; break;
        case 'D': o->kind = "dedicated"; break;
        case 'n': {
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > CLUSTER_CAPACITY_MAX) {
                fprintf(stderr, "basalt operator cluster: --capacity is 1 to %d\n", CLUSTER_CAPACITY_MAX);
                return -1;
            }
            o->capacity = (int)v;
            break;
        }
        case 'h': cluster_usage(stdout); return 1;
        default: cluster_usage(stderr); return -1;
        }
    }
    if (positionals(o, argc, argv) < 0) {
        cluster_usage(stderr);
        return -1;
    }
    return 0;
}

static int cluster_list(store_control *control, bs_err *err)
{
    store_cluster *rows = calloc(CLUSTERS_LIST_MAX, sizeof *rows);
    size_t n = 0;
    int rc = rows ? store_control_cluster_list(control, rows, CLUSTERS_LIST_MAX, &n, err) : bs_err_internal(err);
    if (rc == 0) printf("%-36s %-10s %-8s %-10s %s\n", "CLUSTER", "TYPE", "STATUS", "USED/CAP", "SERVER");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char shown[STORE_CLUSTER_URL_MAX];
        url_mask(rows[i].url, shown, sizeof shown);
        printf("%-36s %-10s %-8s %d/%-8d %s\n", rows[i].id, rows[i].kind, rows[i].status, rows[i].used, rows[i].capacity,
               shown[0] ? shown : "default");
    }
    free(rows);
    return rc;
}

static int cluster_add(store_control *control, const cluster_opts *o, bs_err *err)
{
    store_cluster c;
    memset(&c, 0, sizeof c);
    if (!name_ok(o->name))
        return bs_err_set(err, 400, "common/invalid-parameters",
                          "NAME: lower-case letters, digits and '-' (not shared-... or dedicated-...), under %d bytes", STORE_ID_MAX);
    if (strlen(o->url) > STORE_CLUSTER_URL_PLAIN_MAX)
        return bs_err_set(err, 400, "common/invalid-parameters", "URL too long (at most %d bytes)", STORE_CLUSTER_URL_PLAIN_MAX);
    if (store_docs_server_check(o->url, !strcmp(o->kind, "dedicated"), err) < 0) return -1;
    snprintf(c.id, sizeof c.id, "%s", o->name);
    snprintf(c.kind, sizeof c.kind, "%s", o->kind);
    snprintf(c.url, sizeof c.url, "%s", o->url);
    c.capacity = o->capacity;
    if (store_control_cluster_add(control, &c, clock_now_ms(), err) < 0) return -1;
    char shown[STORE_CLUSTER_URL_MAX];
    url_mask(o->url, shown, sizeof shown);
    printf("cluster %s: %s, %d environments, %s\n", c.id, c.kind, c.capacity, shown);
    return 0;
}

/* drain: no new environments (those placed stay); undrain: active again. */
static int cluster_drain(store_control *control, const cluster_opts *o, int drain, bs_err *err)
{
    int found = 0;
    if (store_control_cluster_set_status(control, o->name, drain ? "draining" : "active", &found, err) < 0) return -1;
    if (!found) return bs_err_set(err, 404, "common/not-found", "no cluster %s", o->name);
    printf(drain ? "cluster %s: draining (no new environments; those placed stay)\n" : "cluster %s: active\n", o->name);
    return 0;
}

int cluster_main(int argc, char **argv)
{
    cluster_opts o;
    int parsed = parse_opts(argc, argv, &o);
    if (parsed != 0) return parsed > 0 ? 0 : 2;
    bs_err err;
    bs_err_clear(&err);
    store_control *control = local_control_open_new(&o.where, &err);
    int rc = !control                     ? -1
             : !strcmp(o.sub, "list")     ? cluster_list(control, &err)
             : !strcmp(o.sub, "add")      ? (local_control_seal_key_make(control, o.where.data, &err) < 0 ? -1 : cluster_add(control, &o, &err))
                                          : cluster_drain(control, &o, !strcmp(o.sub, "drain"), &err);
    if (rc != 0) fprintf(stderr, "basalt operator cluster: %s\n", err.message);
    store_control_free(control);
    return rc == 0 ? 0 : 1;
}
