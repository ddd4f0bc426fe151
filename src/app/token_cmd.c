#include "app/token_cmd.h"
#include "app/local_control.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/keys.h"
#include "core/userauth.h"
#include "store/control.h"
#include "util/clock.h"
#include "util/crypto.h"

typedef struct token_opts {
    const char *data, *control, *project, *env, *sub, *role;
    long ttl, issued_ago;
} token_opts;

static void token_usage(FILE *out)
{
    fprintf(out, "Usage: basalt token --project ID --env NAME --sub USER_ID [OPTIONS]\n\n"
                 "Signs an end-user access token (Authorization: Bearer) for one environment.\n\n"
                 "  --data DIR          data directory (default ./basalt-data, or BASALT_DATA)\n"
                 "  --control-store LOCATION  control store: sqlite (DATA/control.db, the default) or postgres://...\n"
                 "                      (or BASALT_CONTROL_STORE; --control is its older name)\n"
                 "  --project ID        the project id\n"
                 "  --env NAME          the environment name (dev, staging, prod, ...)\n"
                 "  --sub USER_ID       the user id (becomes createdBy of the user's records)\n"
                 "  --role ROLE         admin | user | guest (default user)\n"
                 "  --ttl SECONDS       lifetime (default 3600)\n"
                 "  --issued-ago SECS   backdate the token (e.g. to test expiry)\n");
}

static int parse_opts(int argc, char **argv, token_opts *o)
{
    static const struct option longs[] = {
        {"data", required_argument, NULL, 'd'}, {"control", required_argument, NULL, 'c'},
        {"control-store", required_argument, NULL, 'c'},
        {"project", required_argument, NULL, 'p'}, {"env", required_argument, NULL, 'e'},
        {"sub", required_argument, NULL, 's'}, {"role", required_argument, NULL, 'r'},
        {"ttl", required_argument, NULL, 't'}, {"issued-ago", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    local_control_opts where;
    local_control_defaults(&where);
    *o = (token_opts){.data = where.data, .control = where.control, .role = "user", .ttl = USERAUTH_ACCESS_TTL};
    optind = 0;
    int ch;
    while ((ch = getopt_long(argc + 1, argv - 1, "", longs, NULL)) != -1) {
        switch (ch) {
        case 'd': o->data = optarg; break;
        case 'c': o->control = optarg; break;
        case 'p': o->project = optarg; break;
        case 'e': o->env = optarg; break;
        case 's': o->sub = optarg; break;
        case 'r': o->role = optarg; break;
        case 't': o->ttl = strtol(optarg, NULL, 10); break;
        case 'a': o->issued_ago = strtol(optarg, NULL, 10); break;
        case 'h': token_usage(stdout); return 1;
        default: token_usage(stderr); return -1;
        }
    }
    int role_ok = strcmp(o->role, "admin") == 0 || strcmp(o->role, "user") == 0 || strcmp(o->role, "guest") == 0;
    if (!o->project || !o->env || !o->sub || o->ttl <= 0 || o->issued_ago < 0 || !role_ok) {
        token_usage(stderr);
        return -1;
    }
    return 0;
}

static int sign(const token_opts *o, store_control *control, strbuf *out, bs_err *err)
{
    store_env env;
    int found = 0;
    if (store_control_env_find(control, o->project, o->env, &env, &found, err) < 0) return -1;
    if (!found) return bs_err_set(err, 404, "data/environment-not-found", "no environment %s in project %s", o->env, o->project);
    token_claims c;
    memset(&c, 0, sizeof c);
    snprintf(c.sub, sizeof c.sub, "%s", o->sub);
    snprintf(c.role, sizeof c.role, "%s", o->role);
    snprintf(c.env, sizeof c.env, "%s", env.id);
    snprintf(c.pid, sizeof c.pid, "%s", env.project_id);
    snprintf(c.typ, sizeof c.typ, "access");
    uint8_t jti[16];
    if (crypto_random_bytes(jti, sizeof jti) < 0) return bs_err_internal(err);
    crypto_hex(jti, sizeof jti, c.jti);
    c.iat = clock_now_ms() / 1000 - o->issued_ago;
    c.exp = c.iat + o->ttl;
    userauth *ua = userauth_new(control);
    int rc = ua ? userauth_sign(ua, &c, out, err) : bs_err_internal(err);
    userauth_free(ua);
    return rc;
}

int token_main(int argc, char **argv)
{
    token_opts o;
    int parsed = parse_opts(argc, argv, &o);
    if (parsed != 0) return parsed > 0 ? 0 : 2;
    bs_err err;
    bs_err_clear(&err);
    local_control_opts where = {.data = o.data, .control = o.control};
    store_control *control = local_control_open_new(&where, &err);
    strbuf out;
    strbuf_init(&out, 0);
    int rc = control ? sign(&o, control, &out, &err) : -1;
    if (rc == 0) printf("%s\n", out.data);
    else fprintf(stderr, "basalt token: %s\n", err.message);
    strbuf_release(&out);
    store_control_free(control);
    return rc == 0 ? 0 : 1;
}
