#include "app/serve.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/register.h"
#include "api/route.h"
#include "app/config.h"
#include "app/local_control.h"
#include "app/master_key.h"
#include "core/alerts.h"
#include "core/bootstrap.h"
#include "core/console_session.h"
#include "core/fleet_bus.h"
#include "core/image.h"
#include "core/jobs_lease.h"
#include "core/meter.h"
#include "core/usage_load.h"
#include "http/server.h"
#include "store/counters.h"
#include "store/env_locator.h"
#include "store/filecache.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/log.h"
#include "util/strbuf.h"

typedef struct serve_state {
    basalt_config cfg;
    store_control *control;
    store_docs *docs;
    keyauth *keys;
    project_guard *guard;
    fleet_bus *bus;            /* cache invalidations; with --redis across the fleet */
    env_lifecycle *lifecycle;
    env_moves *moves;
    char operator_secret[256];   /* from --operator-token-file, "" none */
    quota *quota;
    store_counters *counters;  /* --redis; NULL without */
    alerts *alerts;
    usage_cache *usage;
    userauth *users;
    querystats *stats;
    mailer *mail;
    store_blobs *blobs;
    filemeter *files_meter;
    meter *meter;              /* NULL with --metering 0 */
    jobs_lease *lease;         /* PostgreSQL control store: who runs the fleet's jobs; NULL: this process */
    store_filecache *image_cache;
    http_router *router;
    http_metrics *metrics;
    http_static *console;
    http_server *server;
    api_app app;
    char url[256];
    char tmp_dir[PATH_MAX];
} serve_state;

static int dir_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* --console-dir, else web/console in the working directory, beside the binary, or in the source tree. */
static void find_console(serve_state *s)
{
    char path[PATH_MAX];
    if (s->cfg.console_dir) {
        if (dir_exists(s->cfg.console_dir)) s->console = http_static_new(s->cfg.console_dir);
        else log_warn("console directory %s does not exist", s->cfg.console_dir);
        return;
    }
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 32);
    const char *candidates[3] = {"web/console", NULL, BASALT_SOURCE_DIR "/web/console"};
    char beside[PATH_MAX];
    if (n > 0) {
        path[n] = '\0';
        char *slash = strrchr(path, '/');
        if (slash) *slash = '\0';
        snprintf(beside, sizeof beside, "%.*s/../web/console", (int)(sizeof beside - 20), path);
        candidates[1] = beside;
    }
    for (int i = 0; i < 3; i++) {
        if (candidates[i] && dir_exists(candidates[i])) {
            s->console = http_static_new(candidates[i]);
            return;
        }
    }
}

/* --files s3://BUCKET[/PREFIX] with --s3-endpoint, --s3-region, --s3-path-style and the credentials. */
static int open_s3(serve_state *s, bs_err *err)
{
    char bucket[256], prefix[512] = "", endpoint[512];
    const char *rest = s->cfg.files + 5, *slash = strchr(rest, '/');
    size_t blen = slash ? (size_t)(slash - rest) : strlen(rest);
    if (blen == 0 || blen >= sizeof bucket) return bs_err_set(err, 400, "config/invalid", "--files s3://BUCKET[/PREFIX]");
    snprintf(bucket, sizeof bucket, "%.*s", (int)blen, rest);
    if (slash && slash[1]) snprintf(prefix, sizeof prefix, "%s%s", slash + 1, slash[strlen(slash) - 1] == '/' ? "" : "/");
    if (s->cfg.s3_endpoint) snprintf(endpoint, sizeof endpoint, "%s", s->cfg.s3_endpoint);
    else snprintf(endpoint, sizeof endpoint, "https://s3.%s.amazonaws.com", s->cfg.s3_region);
    if (!s->cfg.s3_access_key || !s->cfg.s3_secret_key)
        return bs_err_set(err, 400, "config/invalid", "--files s3://... needs --s3-access-key and --s3-secret-key (or BASALT_S3_ACCESS_KEY/SECRET_KEY)");
    store_s3_config c = {.endpoint = endpoint, .region = s->cfg.s3_region, .bucket = bucket, .access_key = s->cfg.s3_access_key,
                         .secret_key = s->cfg.s3_secret_key, .prefix = prefix, .path_style = (int)s->cfg.s3_path_style};
    s->blobs = store_blobs_s3_new(&c, err);
    return s->blobs ? 0 : -1;
}

static int open_store(serve_state *s, bs_err *err)
{
    if (mkdir(s->cfg.data_dir, 0700) < 0 && errno != EEXIST)
        return bs_err_set(err, 500, "config/invalid", "cannot create data directory %s: %s", s->cfg.data_dir, strerror(errno));
    char location[PATH_MAX + 16];
    local_control_location(s->cfg.control, s->cfg.data_dir, location, sizeof location);
    s->control = store_control_open(location, err);
    if (!s->control) return -1;
    uint8_t key[MASTER_KEY_LEN];
    if (master_key_load(s->cfg.data_dir, 1, key, err) < 0) return -1;
    store_control_set_seal_key(s->control, key); /* registered clusters' URLs */
    memset(key, 0, sizeof key);
    local_env_store_location(s->cfg.env_store, s->cfg.data_dir, location, sizeof location);
    s->docs = store_docs_open(location, err);
    if (!s->docs) return -1;
    store_docs_set_locator(s->docs, env_locator_locate, s->control); /* shared clusters: one file, per-slot names */
    char files[PATH_MAX];
    if (s->cfg.files && !strncmp(s->cfg.files, "s3://", 5)) return open_s3(s, err);
    if (s->cfg.files) snprintf(files, sizeof files, "%s", s->cfg.files);
    else snprintf(files, sizeof files, "%s/files", s->cfg.data_dir);
    s->blobs = store_blobs_fs_new(files, err);
    return s->blobs ? 0 : -1;
}

#define OPERATOR_SECRET_MIN 16

/* The instance operator's secret from --operator-token-file: the file's first line, whitespace trimmed, at
 * least OPERATOR_SECRET_MIN characters. */
static int load_operator_secret(serve_state *s, bs_err *err)
{
    if (!s->cfg.operator_token_file) return 0;
    FILE *f = fopen(s->cfg.operator_token_file, "r");
    if (!f) return bs_err_set(err, 400, "config/invalid", "cannot read --operator-token-file %s: %s",
                              s->cfg.operator_token_file, strerror(errno));
    char line[sizeof s->operator_secret];
    if (!fgets(line, sizeof line, f)) line[0] = '\0';
    fclose(f);
    size_t n = strcspn(line, "\r\n");
    line[n] = '\0';
    while (n && (line[n - 1] == ' ' || line[n - 1] == '\t')) line[--n] = '\0';
    const char *start = line + strspn(line, " \t");
    if (strlen(start) < OPERATOR_SECRET_MIN || strlen(start) >= sizeof s->operator_secret - 1)
        return bs_err_set(err, 400, "config/invalid", "--operator-token-file must hold a secret of %d to %zu characters",
                          OPERATOR_SECRET_MIN, sizeof s->operator_secret - 2);
    snprintf(s->operator_secret, sizeof s->operator_secret, "%s", start);
    memset(line, 0, sizeof line);
    return 0;
}

/* --cookie-secure: always 1, never -1, anything else (auto) 0 (api/console_gate.h). */
static int cookie_secure_mode(const char *mode)
{
    if (mode && !strcmp(mode, "always")) return 1;
    return mode && !strcmp(mode, "never") ? -1 : 0;
}

/* ---- usage metering (core/meter.h, docs/usage.md) ---- */

static int new_meter(serve_state *s, bs_err *err)
{
    if (!s->cfg.metering) return 0;
    meter_config mc = {.control = s->control, .docs = s->docs, .files = s->files_meter, .flush_ms = 1000, .lease = s->lease,
                       .storage_ms = s->cfg.usage_storage_interval * 1000LL, .rollup_ms = s->cfg.usage_rollup_interval * 1000LL};
    s->meter = meter_new(&mc, err);
    return s->meter ? 0 : -1;
}

/* /metrics past the HTTP counters: the meter's usage and the Redis lines of the fleet's admission. */
static int metrics_section(void *arg, strbuf *out)
{
    serve_state *s = arg;
    if (s->meter && meter_render_prometheus(s->meter, out) < 0) return -1;
    if (fleet_bus_render_prometheus(s->bus, out) < 0) return -1;
    if (jobs_lease_render_prometheus(s->lease, out) < 0) return -1;
    return quota_render_prometheus(s->quota, out);
}

/* --redis: the shared counters API calls are admitted in (a connect happens on first use). */
static int open_counters(serve_state *s, bs_err *err)
{
    if (!s->cfg.redis || !*s->cfg.redis) return 0;
    s->counters = store_counters_open(s->cfg.redis, (int)s->cfg.redis_timeout_ms, err);
    if (!s->counters) return -1;
    quota_set_shared(s->quota, s->counters, s->cfg.redis_fail_open * 1000LL);
    s->app.counters = s->counters;
    log_info("fleet mode: API calls are admitted in Redis %s", store_counters_describe(s->counters));
    return 0;
}

/* The invalidation bus (core/fleet_bus.h): local always; with --redis joined to the fleet's, in the
 * namespace of this installation's master key (needs s->app.master_key). */
static int open_fleet_bus(serve_state *s, bs_err *err)
{
    fleet_caches caches = {.keys = s->keys, .guard = s->guard, .docs = s->docs};
    if (!(s->app.bus = s->bus = fleet_bus_new(&caches))) return bs_err_internal(err);
    if (!s->cfg.redis || !*s->cfg.redis) return 0;
    char ns[33];
    fleet_bus_namespace(s->app.master_key, ns);
    if (fleet_bus_join(s->bus, s->cfg.redis, (int)s->cfg.redis_timeout_ms, ns, 1, err) < 0) return -1;
    if (s->moves) env_moves_set_bus(s->moves, s->bus); /* a move holds its environment on the other instances */
    log_info("fleet mode: cache invalidations go through Redis (bus %.8s...)", ns);
    return 0;
}

/* The fleet's background jobs (docs/operations.md "Background jobs and usage"): with a control store several
 * instances share (PostgreSQL), the roll-up, webhook delivery and the inactivity sweeper run on the instance
 * holding the jobs lease; on SQLite (one process) there is no lease and they always run. */
static int open_jobs_lease(serve_state *s, bs_err *err)
{
    if (!store_control_is_shared(s->control)) return 0;
    s->lease = jobs_lease_new(s->control, s->cfg.jobs_lease_ms, err);
    return s->lease ? 0 : -1;
}

static int start_http(serve_state *s, bs_err *err)
{
    if (open_jobs_lease(s, err) < 0) return -1;
    s->router = http_router_new();
    s->keys = keyauth_new(s->control, (int)s->cfg.key_cache_ms);
    s->guard = project_guard_new(s->control, (int)s->cfg.key_cache_ms);
    s->users = userauth_new(s->control);
    s->stats = s->cfg.query_stats ? querystats_new() : NULL;
    s->mail = mailer_new(s->control, s->cfg.smtp_url, s->cfg.mail_from, err);
    if (!s->mail) return -1;
    s->files_meter = filemeter_new();
    if (!s->files_meter || new_meter(s, err) < 0) return s->files_meter ? -1 : bs_err_internal(err);
    char cache_dir[PATH_MAX];
    snprintf(s->tmp_dir, sizeof s->tmp_dir, "%s/tmp", s->cfg.data_dir);
    if (mkdir(s->tmp_dir, 0700) < 0 && errno != EEXIST) return bs_err_set(err, 500, "config/invalid", "cannot create %s", s->tmp_dir);
    snprintf(cache_dir, sizeof cache_dir, "%s/cache/images", s->cfg.data_dir);
    s->image_cache = store_filecache_new(cache_dir, (uint64_t)s->cfg.image_cache_size, err);
    if (!s->image_cache) return -1;
    if (!s->router || !s->keys || !s->guard || !s->users || (s->cfg.query_stats && !s->stats)) return bs_err_internal(err);
    find_console(s);
    uint8_t key[32];
    if (master_key_load(s->cfg.data_dir, 1, key, err) < 0 || load_operator_secret(s, err) < 0) return -1;
    if (!(s->moves = env_moves_new(s->control, s->docs))) return bs_err_internal(err);
    s->app = (api_app){.control = s->control, .docs = s->docs, .keys = s->keys, .guard = s->guard, .shared_cluster_slots = (int)s->cfg.shared_cluster_slots, .users = s->users, .stats = s->stats, .mail = s->mail, .public_url = s->url,
                      .google_token_url = s->cfg.google_token_url, .google_userinfo_url = s->cfg.google_userinfo_url,
                      .google_jwks_url = s->cfg.google_jwks_url, .github_token_url = s->cfg.github_token_url,
                      .github_api_url = s->cfg.github_api_url, .google_auth_url = s->cfg.google_auth_url,
                      .github_auth_url = s->cfg.github_auth_url,
                      .signin_max_failures = (int)s->cfg.signin_max_failures, .signin_window_ms = s->cfg.signin_window * 1000,
                      .signin_block_ms = s->cfg.signin_block * 1000,
                      .audit_retention_ms = s->cfg.audit_retention_days * 86400LL * 1000,
                      .allow_private_webhooks = (int)s->cfg.allow_private_webhooks,
                      .refresh_reuse_ms = s->cfg.refresh_reuse_interval * 1000LL, .console = s->console, .started_ms = clock_now_ms(),
                      .chart_js = s->cfg.console_chart_js, .cookie_secure = cookie_secure_mode(s->cfg.cookie_secure),
                      .blobs = s->blobs, .storage_strict = !strcmp(s->cfg.storage_public_read, "strict"),
                      .max_image = (uint64_t)s->cfg.max_image_size, .max_video = (uint64_t)s->cfg.max_video_size,
                      .max_document = (uint64_t)s->cfg.max_document_size, .max_upload = (uint64_t)s->cfg.max_upload_size,
                      .multipart_min_part = (uint64_t)s->cfg.multipart_min_part, .files_meter = s->files_meter,
                      .image_cache = s->image_cache, .image_max_pixels = (uint64_t)s->cfg.image_max_pixels,
                      .tmp_dir = s->tmp_dir, .s3_direct = s->cfg.s3_direct_urls && !strcmp(store_blobs_driver(s->blobs), "s3")};
    memcpy(s->app.master_key, key, sizeof key);
    s->app.moves = s->moves;
    s->app.operator_secret = s->operator_secret[0] ? s->operator_secret : NULL;
    /* storage URLs are signed with a key of their own, derived from the master key */
    crypto_hmac_sha256(key, sizeof key, "basalt storage urls v1", 22, s->app.storage_key);
    memset(key, 0, sizeof key);
    if (open_fleet_bus(s, err) < 0) return -1;
    if (api_register(s->router, &s->app) < 0) return bs_err_set(err, 500, "common/internal-error", "route table full");
    s->metrics = http_metrics_new(s->router);
    if (!s->metrics) return bs_err_internal(err);
    s->app.metrics = s->metrics;
    s->app.meter = s->meter;
    http_metrics_set_section(s->metrics, metrics_section, s);
    env_stores st = api_env_stores(&s->app);
    s->lifecycle = env_lifecycle_new(&st, s->cfg.inactivity_sweep * 1000LL, s->lease);
    if (!s->lifecycle) return bs_err_internal(err);
    s->app.lifecycle = s->lifecycle;
    s->app.quota = s->quota = quota_new(usage_load_api_calls, s->control); /* counters start from the usage rows */
    alerts_config ac = {.control = s->control, .mail = s->mail, .master_key = s->app.master_key,
                        .allow_private_webhooks = s->app.allow_private_webhooks, .interval_ms = 1000,
                        .lease = s->lease};
    s->app.alerts = s->alerts = alerts_new(&ac);
    s->app.usage = s->usage = usage_cache_new(usage_load_metric, s->control, s->cfg.usage_check_ms);
    if (!s->quota || !s->alerts || !s->usage) return bs_err_internal(err);
    if (open_counters(s, err) < 0) return -1;
    http_server_config hc;
    http_server_config_defaults(&hc);
    hc.listen = s->cfg.listen;
    hc.threads = (unsigned)s->cfg.threads;
    hc.max_connections = (unsigned)s->cfg.max_connections;
    hc.idle_timeout_s = (unsigned)s->cfg.idle_timeout;
    hc.max_body = (size_t)s->cfg.max_body;
    hc.header_memory = (size_t)s->cfg.header_memory;
    hc.header_timeout_s = (unsigned)s->cfg.header_timeout;
    hc.max_per_ip = (unsigned)s->cfg.max_connections_per_ip;
    hc.connection_reserve = (unsigned)s->cfg.connection_reserve;
    hc.json_max_depth = (int)s->cfg.json_max_depth;
    if (s->meter && meter_start(s->meter, err) < 0) return -1;
    s->server = http_server_new(&hc, s->router, s->metrics, err);
    return s->server ? 0 : -1;
}

static void make_url(serve_state *s)
{
    if (s->cfg.public_url) {
        snprintf(s->url, sizeof s->url, "%s", s->cfg.public_url);
        return;
    }
    char host[128];
    const char *colon = strrchr(s->cfg.listen, ':');
    size_t n = colon ? (size_t)(colon - s->cfg.listen) : 0;
    if (n >= sizeof host) n = sizeof host - 1;
    memcpy(host, s->cfg.listen, n);
    host[n] = '\0';
    if (n == 0 || strcmp(host, "0.0.0.0") == 0) snprintf(host, sizeof host, "127.0.0.1");
    if (strcmp(host, "[::]") == 0) snprintf(host, sizeof host, "[::1]");
    snprintf(s->url, sizeof s->url, "http://%s:%u", host, http_server_port(s->server));
}

/* fsyncs the directory of path, so that a rename in it survives a crash. */
static int sync_dir_of(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int ok = fd >= 0 && fsync(fd) == 0;
    if (fd >= 0) close(fd);
    return ok ? 0 : -1;
}

/* bootstrap_keep_fn: bootstrap.json, written before the bootstrap commits (core/bootstrap.h). */
static int write_bootstrap_file(const bootstrap_result *b, void *arg, bs_err *err)
{
    const serve_state *s = arg;
    char path[PATH_MAX], tmp[PATH_MAX + 8];
    snprintf(path, sizeof path, "%s/bootstrap.json", s->cfg.data_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    strbuf sb;
    strbuf_init(&sb, 0);
    strbuf_appendf(&sb,
                   "{\n  \"organizationId\": \"%s\",\n  \"projectId\": \"%s\",\n  \"environment\": \"%s\",\n"
                   "  \"publishableKey\": \"%s\",\n  \"secretKey\": \"%s\",\n  \"operatorToken\": \"%s\",\n  \"url\": ",
                   b->organization_id, b->project_id, b->environment, b->publishable_key, b->secret_key,
                   b->operator_token);
    strbuf_append_json_string(&sb, s->url, strlen(s->url));
    strbuf_append_str(&sb, "\n}\n");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int ok = fd >= 0 && fchmod(fd, 0600) == 0 && write(fd, sb.data, sb.len) == (ssize_t)sb.len && fsync(fd) == 0;
    if (fd >= 0) close(fd);
    strbuf_release(&sb);
    if (!ok || rename(tmp, path) < 0 || sync_dir_of(path) < 0) {
        unlink(tmp);
        return bs_err_set(err, 500, "common/internal-error", "cannot write %s: %s", path, strerror(errno));
    }
    return 0;
}

/* The first start's one-time console sign-in link (best effort: `basalt console link` makes another). */
static void print_console_link(serve_state *s, const char *org_id)
{
    char code[CONSOLE_SECRET_MAX];
    bs_err err;
    bs_err_clear(&err);
    if (console_link_create(s->control, org_id, clock_now_ms(), code, &err) < 0) {
        log_warn("no console sign-in link: %s", err.message);
        return;
    }
    printf("  console          %s/console/signin?code=%s\n"
           "                   (signs a browser in as the owner: once, within 15 minutes; later: basalt console link)\n",
           s->url, code);
    memset(code, 0, sizeof code);
}

static int run_bootstrap(serve_state *s, bs_err *err)
{
    bootstrap_result b;
    int rc = bootstrap_run_kept(s->control, write_bootstrap_file, s, &b, err);
    if (rc < 0 || !b.created) {
        memset(&b, 0, sizeof b);
        return rc;
    }
    printf("Basalt bootstrap: created organization 'default', project 'default', environment 'dev'.\n"
           "These secrets are shown once (also in %s/bootstrap.json, mode 0600):\n"
           "  publishable key  %s\n  secret key       %s\n  operator token   %s\n  url              %s\n",
           s->cfg.data_dir, b.publishable_key, b.secret_key, b.operator_token, s->url);
    print_console_link(s, b.organization_id);
    fflush(stdout);
    memset(&b, 0, sizeof b);
    return 0;
}

static void serve_cleanup(serve_state *s)
{
    http_server_free(s->server);
    meter_free(s->meter); /* after the last request, before the stores: flushes what is left */
    env_lifecycle_free(s->lifecycle); /* after the server (requests touch it), before the stores */
    env_moves_free(s->moves);         /* waits for running moves: they use both stores */
    fleet_bus_free(s->bus);           /* stops the subscriber before the caches it invalidates go */
    alerts_free(s->alerts);           /* records what requests raised, before the mailer and stores go */
    quota_free(s->quota);
    store_counters_free(s->counters);
    usage_cache_free(s->usage);
    http_metrics_free(s->metrics);
    http_router_free(s->router);
    http_static_free(s->console);
    keyauth_free(s->keys);
    project_guard_free(s->guard);
    userauth_free(s->users);
    querystats_free(s->stats);
    jobs_lease_free(s->lease); /* after the jobs that ask it (meter, sweeper, alerts): released for the next holder */
    mailer_free(s->mail); /* after the server: delivers what requests queued */
    store_blobs_free(s->blobs);
    filemeter_free(s->files_meter);
    store_filecache_free(s->image_cache);
    store_docs_free(s->docs);
    store_control_free(s->control);
    config_free(&s->cfg);
}

static int wait_for_signal(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {}
    return sig;
}

static void shutdown_gracefully(serve_state *s, int sig)
{
    log_info("received %s: draining", sig == SIGINT ? "SIGINT" : "SIGTERM");
    http_server_quiesce(s->server);
    long left = http_server_drain(s->server, (int)s->cfg.shutdown_timeout * 1000);
    if (left) log_warn("%ld requests still in flight after %lds: closing them", left, s->cfg.shutdown_timeout);
    http_server_free(s->server);
    s->server = NULL;
    log_info("stopped");
}

/* glibc gives each thread that allocates an arena of its own, up to 8 per core; with two workers per
 * core, the store's writers and the background threads, their free lists held about 7 MB more at the
 * peak (BENCHMARKS.md, issue 13) with no throughput gain measured. One arena per core (at least two),
 * unless MALLOC_ARENA_MAX says otherwise. */
static void limit_malloc_arenas(void)
{
    const char *set = getenv("MALLOC_ARENA_MAX");
    if (set && *set) return;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    mallopt(M_ARENA_MAX, cores > 2 ? (int)cores : 2);
}

/* The environments created before placement existed, and the bootstrap's, get their place. */
static int place_unplaced(serve_state *s, bs_err *err)
{
    env_stores st = api_env_stores(&s->app);
    return env_lifecycle_place_unplaced(&st, err);
}

int serve_main(int argc, char **argv)
{
    limit_malloc_arenas(); /* before any thread allocates */
    serve_state s;
    memset(&s, 0, sizeof s);
    bs_err err;
    bs_err_clear(&err);
    int rc = config_load(&s.cfg, argc, argv, stdout, &err);
    if (rc != 0) {
        if (rc < 0) fprintf(stderr, "basalt serve: %s\n", err.message);
        config_free(&s.cfg);
        return rc < 0 ? 2 : 0;
    }
    log_level level = LOG_INFO;
    if (log_level_parse(s.cfg.log_level, &level) < 0) {
        fprintf(stderr, "basalt serve: --log-level must be debug, info, warn or error\n");
        config_free(&s.cfg);
        return 2;
    }
    log_set_level(level);
    const char *cs = s.cfg.cookie_secure;
    if (!cs || (strcmp(cs, "auto") && strcmp(cs, "always") && strcmp(cs, "never"))) {
        fprintf(stderr, "basalt serve: --cookie-secure must be auto, always or never\n");
        config_free(&s.cfg);
        return 2;
    }
    const char *offset = getenv("BASALT_TEST_CLOCK_OFFSET_MS"); /* tests move the wall clock (util/clock.h) */
    if (offset && *offset) {
        clock_set_offset_ms(strtoll(offset, NULL, 10));
        log_warn("test clock: wall time offset by %s ms", offset);
    }
    /* Block the termination signals in every thread; only the main thread takes them, with sigwait. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || image_init(argv[0], &err) < 0) { /* before any thread */
        log_error("cannot start: libcurl or libvips failed to initialize");
        config_free(&s.cfg);
        return 1;
    }
    if (open_store(&s, &err) < 0 || start_http(&s, &err) < 0 || (make_url(&s), run_bootstrap(&s, &err)) < 0 ||
        place_unplaced(&s, &err) < 0) {
        log_error("cannot start: %s", err.message);
        serve_cleanup(&s);
        image_shutdown();
        curl_global_cleanup();
        return 1;
    }
    s.app.ready = 1;
    log_info("listening on %s (data %s)", s.url, s.cfg.data_dir);
    printf("Basalt %s listening on %s\n", BASALT_VERSION, s.url); /* always, whatever the log level */
    fflush(stdout);
    int sig = wait_for_signal();
    shutdown_gracefully(&s, sig);
    serve_cleanup(&s);
    image_shutdown();
    curl_global_cleanup();
    return 0;
}
