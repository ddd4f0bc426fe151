#include "app/operator_cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cluster_cmd.h"
#include "app/local_control.h"
#include "app/master_key.h"
#include "core/fleet_bus.h"
#include "util/clock.h"

typedef struct operator_opts {
    local_control_opts where;
    const char *verb, *org, *reason, *amount, *metric;
    const char *redis; /* --redis / BASALT_REDIS: the change is published to the fleet's instances */
} operator_opts;

static void operator_usage(FILE *out)
{
    fprintf(out, "Usage: basalt operator suspend ORG [--reason TEXT] [--data DIR] [--control-store LOCATION] [--redis URL]\n"
                 "       basalt operator resume ORG [--data DIR] [--control-store LOCATION] [--redis URL]\n"
                 "       basalt operator cluster add|list|drain ... (basalt operator cluster --help; clusters = cluster list)\n"
                 "       basalt operator quota ORG [api_call|storage|mau|bandwidth] N|plan [--data DIR] [--control-store LOCATION] [--redis URL]\n\n"
                 "Suspends an organization (every /v1 call of its projects answers 403 org/suspended; the\n"
                 "management API stays usable) or makes it active again. Works on the data directory directly,\n"
                 "also while the server runs: it notices within --key-cache-ms, or before this command returns\n"
                 "with --redis (BASALT_REDIS; the fleet's Redis, with DATA/master.key of the installation).\n"
                 "`cluster` registers, lists and\n"
                 "drains clusters (shared ones hold dev environments in slots). `quota` sets an organization's\n"
                 "monthly quota of a metric (a custom contract; api_call when none is named; storage and bandwidth in\n"
                 "bytes) or gives it its plan's again.\n");
}

static int parse_opts(int argc, char **argv, operator_opts *o)
{
    static const struct option longs[] = {{"data", required_argument, NULL, 'd'},
                                          {"control", required_argument, NULL, 'c'},
                                          {"control-store", required_argument, NULL, 'c'},
                                          {"reason", required_argument, NULL, 'r'},
                                          {"redis", required_argument, NULL, 'R'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    local_control_defaults(&o->where);
    o->redis = getenv("BASALT_REDIS");
    optind = 0;
    int ch;
    argv--; /* getopt skips argv[0], which is here the verb */
    argc++;
    while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (ch) {
        case 'd': o->where.data = optarg; break;
        case 'c': o->where.control = optarg; break;
        case 'r': o->reason = optarg; break;
        case 'R': o->redis = optarg; break;
        case 'h': operator_usage(stdout); return 1;
        default: operator_usage(stderr); return -1;
        }
    }
    int quota = (optind + 3 == argc || optind + 4 == argc) && strcmp(argv[optind], "quota") == 0;
    if (optind + 2 != argc && !quota) {
        operator_usage(stderr);
        return -1;
    }
    o->verb = argv[optind];
    o->org = argv[optind + 1];
    o->metric = quota && optind + 4 == argc ? argv[optind + 2] : "api_call";
    o->amount = quota ? argv[argc - 1] : NULL;
    if (!quota && strcmp(o->verb, "suspend") != 0 && strcmp(o->verb, "resume") != 0) {
        operator_usage(stderr);
        return -1;
    }
    return 0;
}

static void log_change(store_control *control, const operator_opts *o, const char *status)
{
    store_activity a;
    bs_err ignored;
    memset(&a, 0, sizeof a);
    snprintf(a.organization_id, sizeof a.organization_id, "%s", o->org);
    snprintf(a.actor, sizeof a.actor, "operator");
    snprintf(a.actor_type, sizeof a.actor_type, "system");
    snprintf(a.entity_type, sizeof a.entity_type, "organization");
    snprintf(a.entity_id, sizeof a.entity_id, "%s", o->org);
    snprintf(a.action, sizeof a.action, "%s", strcmp(status, "suspended") == 0 ? "suspend" : "resume");
    snprintf(a.message, sizeof a.message, "Organization %s%s%s", status, o->reason ? ": " : "", o->reason ? o->reason : "");
    a.at = clock_now_ms();
    store_control_activity_add(control, &a, &ignored);
}

static int set_status(store_control *control, const operator_opts *o, bs_err *err)
{
    const char *status = strcmp(o->verb, "suspend") == 0 ? "suspended" : "active";
    store_org org;
    int found = 0;
    if (store_control_org_get(control, o->org, &org, &found, err) < 0) return -1;
    if (!found || strcmp(org.status, "deleted") == 0) return bs_err_set(err, 404, "org/not-found", "no organization %s", o->org);
    if (strcmp(org.status, status) == 0) return 0;
    snprintf(org.status, sizeof org.status, "%s", status);
    org.updated_at = clock_now_ms();
    if (store_control_org_update(control, &org, &found, err) < 0) return -1;
    log_change(control, o, status);
    return 0;
}

/* The override field of store_org for a metric name, NULL for an unknown one. */
static int64_t *quota_field(store_org *org, const char *metric)
{
    if (!strcmp(metric, "api_call")) return &org->api_call_quota;
    if (!strcmp(metric, "storage")) return &org->storage_quota;
    if (!strcmp(metric, "mau")) return &org->mau_quota;
    if (!strcmp(metric, "bandwidth")) return &org->bandwidth_quota;
    return NULL;
}

/* `quota ORG [METRIC] N|plan`: N >= 0 a month (bytes for storage and bandwidth), or the plan's again. */
static int set_quota(store_control *control, const operator_opts *o, bs_err *err)
{
    char *end = NULL;
    long long n = strcmp(o->amount, "plan") ? strtoll(o->amount, &end, 10) : -1;
    if (end && (*end || n < 0)) return bs_err_set(err, 400, "common/invalid-parameters", "quota: a number of calls or \"plan\"");
    store_org org;
    int found = 0;
    if (store_control_org_get(control, o->org, &org, &found, err) < 0) return -1;
    if (!found || strcmp(org.status, "deleted") == 0) return bs_err_set(err, 404, "org/not-found", "no organization %s", o->org);
    int64_t *field = quota_field(&org, o->metric);
    if (!field) return bs_err_set(err, 400, "common/invalid-parameters", "metric: api_call, storage, mau or bandwidth");
    *field = n;
    org.updated_at = clock_now_ms();
    if (store_control_org_update(control, &org, &found, err) < 0) return -1;
    store_activity a;
    bs_err ignored;
    memset(&a, 0, sizeof a);
    snprintf(a.organization_id, sizeof a.organization_id, "%s", o->org);
    snprintf(a.actor, sizeof a.actor, "operator");
    snprintf(a.actor_type, sizeof a.actor_type, "system");
    snprintf(a.entity_type, sizeof a.entity_type, "plan");
    snprintf(a.entity_id, sizeof a.entity_id, "%s", o->org);
    snprintf(a.action, sizeof a.action, "quota");
    if (n < 0) snprintf(a.message, sizeof a.message, "Quota %s: the plan's", o->metric);
    else snprintf(a.message, sizeof a.message, "Quota %s: %lld (operator)", o->metric, n);
    a.at = org.updated_at;
    store_control_activity_add(control, &a, &ignored);
    printf("organization %s: %s quota %s\n", o->org, o->metric, n < 0 ? "from its plan" : o->amount);
    return 0;
}

/* --redis: the organization's cached keys leave every instance's cache before the command returns
 * (core/fleet_bus; the namespace comes from DATA/master.key, as the servers'). A failure is only a warning:
 * the change is stored, and the instances see it within --key-cache-ms. */
static void publish_change(const operator_opts *o)
{
    if (!o->redis || !*o->redis) return;
    uint8_t key[MASTER_KEY_LEN];
    char ns[33];
    bs_err err;
    bs_err_clear(&err);
    fleet_caches none = {NULL, NULL, NULL};
    fleet_bus *bus = fleet_bus_new(&none);
    int loaded = bus ? master_key_load(o->where.data, 0, key, &err) : -1;
    if (loaded == 1) {
        fleet_bus_namespace(key, ns);
        if (fleet_bus_join(bus, o->redis, 2000, ns, 0, &err) == 0) fleet_bus_publish(bus, FLEET_ORG, o->org);
    }
    memset(key, 0, sizeof key);
    if (loaded != 1 || err.status)
        fprintf(stderr, "basalt operator: not published to the fleet (%s); instances apply it within --key-cache-ms\n",
                loaded == 0 ? "no DATA/master.key" : err.message);
    fleet_bus_free(bus);
}

int operator_main(int argc, char **argv)
{
    if (argc > 0 && (!strcmp(argv[0], "cluster") || !strcmp(argv[0], "clusters"))) return cluster_main(argc, argv);
    operator_opts o;
    int parsed = parse_opts(argc, argv, &o);
    if (parsed != 0) return parsed > 0 ? 0 : 2;
    bs_err err;
    bs_err_clear(&err);
    store_control *control = local_control_open_new(&o.where, &err);
    int quota = strcmp(o.verb, "quota") == 0;
    int rc = !control ? -1 : quota ? set_quota(control, &o, &err) : set_status(control, &o, &err);
    if (rc == 0) publish_change(&o);
    if (rc == 0 && !quota) printf("organization %s: %s\n", o.org, strcmp(o.verb, "suspend") == 0 ? "suspended" : "active");
    else if (rc != 0) fprintf(stderr, "basalt operator: %s\n", err.message);
    store_control_free(control);
    return rc == 0 ? 0 : 1;
}
