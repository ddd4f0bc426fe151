#include "app/config.h"

#include <errno.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum opt_type { OPT_STRING, OPT_LONG } opt_type;

typedef struct opt_def {
    const char *flag;      /* without the leading "--"; also the INI key */
    const char *env;
    opt_type type;
    size_t offset;
    const char *def;       /* NULL = derived or none */
    long min, max;
    const char *help;
} opt_def;

#define S(field) OPT_STRING, offsetof(basalt_config, field)
#define L(field) OPT_LONG, offsetof(basalt_config, field)

static const opt_def opts[] = {
    {"listen", "BASALT_LISTEN", S(listen), "127.0.0.1:8080", 0, 0, "ADDR:PORT to listen on ([::1]:PORT for IPv6, port 0 = any free port)"},
    {"data", "BASALT_DATA", S(data_dir), "./basalt-data", 0, 0, "data directory (control store, environments, files, bootstrap.json)"},
    {"control-store", "BASALT_CONTROL_STORE", S(control), NULL, 0, 0, "control store: sqlite (DATA/control.db, the default), sqlite:PATH or postgres://USER:PASS@HOST:PORT/DB"},
    {"control", "BASALT_CONTROL", S(control), NULL, 0, 0, "older name of --control-store"},
    {"env-store", "BASALT_ENV_STORE", S(env_store), NULL, 0, 0, "where environments' data lives: sqlite (files under DATA, the default) or postgres://USER:PASS@HOST:PORT/DB (slots as schemas of DB, a database per dedicated environment)"},
    {"operator-token-file", "BASALT_OPERATOR_TOKEN_FILE", S(operator_token_file), NULL, 0, 0, "file holding the instance operator's secret (at least 16 characters): it opens /admin/v1/operator/... (moving environments between clusters) as Authorization: Bearer <secret>; unset: that surface answers 404"},
    {"console-dir", "BASALT_CONSOLE_DIR", S(console_dir), NULL, 0, 0, "directory of the web console (default: web/console beside the binary or the working directory)"},
    {"console-chart-js", "BASALT_CONSOLE_CHART_JS", S(console_chart_js), NULL, 0, 0, "the chart library served at /console/vendor/chart.js (default: the UMD build of Debian's libjs-chart.js in /usr/share/javascript/chart.js)"},
    {"cookie-secure", "BASALT_COOKIE_SECURE", S(cookie_secure), "auto", 0, 0, "Secure flag of the console's session cookie: auto (when --public-url is https, or X-Forwarded-Proto: https comes from a proxy on this host), always or never"},
    {"public-url", "BASALT_PUBLIC_URL", S(public_url), NULL, 0, 0, "URL clients use to reach this server (default http://LISTEN)"},
    {"log-level", "BASALT_LOG_LEVEL", S(log_level), "info", 0, 0, "debug | info | warn | error (JSON lines on stderr)"},
    {"threads", "BASALT_THREADS", L(threads), "0", 0, 256, "HTTP worker threads (0 = two per core)"},
    {"max-connections", "BASALT_MAX_CONNECTIONS", L(max_connections), "4096", 1, 1000000, "concurrent client connections"},
    {"idle-timeout", "BASALT_IDLE_TIMEOUT", L(idle_timeout), "60", 1, 86400, "seconds an idle connection stays open"},
    {"max-body", "BASALT_MAX_BODY", L(max_body), "1048576", 1024, 1073741824, "default request body limit in bytes"},
    {"header-memory", "BASALT_HEADER_MEMORY", L(header_memory), "65536", 8192, 1048576, "bytes per connection for the request line and headers"},
    {"header-timeout", "BASALT_HEADER_TIMEOUT", L(header_timeout), "10", 0, 3600, "seconds a request line and headers may take once begun, however slowly they trickle (0: no limit)"},
    {"max-connections-per-ip", "BASALT_MAX_CONNECTIONS_PER_IP", L(max_connections_per_ip), "1024", 0, 1000000, "concurrent connections from one client address (0: no limit; raise it behind a reverse proxy)"},
    {"connection-reserve", "BASALT_CONNECTION_RESERVE", L(connection_reserve), "256", 0, 1000000, "connections kept free for new clients: past max-connections minus this, those waiting longest for a request are closed"},
    {"json-max-depth", "BASALT_JSON_MAX_DEPTH", L(json_max_depth), "64", 2, 1000, "deepest JSON nesting accepted"},
    {"key-cache-ms", "BASALT_KEY_CACHE_MS", L(key_cache_ms), "1000", 1, 60000, "how long a verified API key is trusted before re-reading it (revocation delay)"},
    {"signin-max-failures", "BASALT_SIGNIN_MAX_FAILURES", L(signin_max_failures), "5", 1, 1000, "failed sign-ins per e-mail within --signin-window before it is blocked (50 per IP)"},
    {"signin-window", "BASALT_SIGNIN_WINDOW", L(signin_window), "900", 1, 86400, "seconds over which failed sign-ins are counted"},
    {"signin-block", "BASALT_SIGNIN_BLOCK", L(signin_block), "3600", 1, 604800, "seconds an e-mail (or IP) stays blocked after too many failed sign-ins"},
    {"files", "BASALT_FILES", S(files), NULL, 0, 0, "where file bytes go: a directory (default DATA/files) or s3://BUCKET[/PREFIX]"},
    {"s3-endpoint", "BASALT_S3_ENDPOINT", S(s3_endpoint), NULL, 0, 0, "S3-compatible endpoint URL (default https://s3.REGION.amazonaws.com)"},
    {"s3-region", "BASALT_S3_REGION", S(s3_region), "us-east-1", 0, 0, "S3 region (signs requests)"},
    {"s3-path-style", "BASALT_S3_PATH_STYLE", L(s3_path_style), "0", 0, 1, "1: ENDPOINT/BUCKET/KEY (MinIO and most self-hosted servers); 0: BUCKET.ENDPOINT/KEY"},
    {"s3-direct-urls", "BASALT_S3_DIRECT_URLS", L(s3_direct_urls), "0", 0, 1, "1: hand out S3 presigned URLs for uploads and private downloads (the bucket must allow anonymous reads for stripped upload URLs to work as image URLs)"},
    {"s3-access-key", "BASALT_S3_ACCESS_KEY", S(s3_access_key), NULL, 0, 0, "S3 access key id"},
    {"s3-secret-key", "BASALT_S3_SECRET_KEY", S(s3_secret_key), NULL, 0, 0, "S3 secret access key (prefer the variable to the flag)"},
    {"storage-public-read", "BASALT_STORAGE_PUBLIC_READ", S(storage_public_read), "compat", 0, 0, "unsigned GETs of storage URLs: compat (objects without a file record or public ones, as apps expect) or strict (public only)"},
    {"max-image-size", "BASALT_MAX_IMAGE_SIZE", L(max_image_size), "10485760", 1, 1099511627776L, "largest image upload, bytes"},
    {"max-video-size", "BASALT_MAX_VIDEO_SIZE", L(max_video_size), "104857600", 1, 1099511627776L, "largest video upload, bytes"},
    {"max-document-size", "BASALT_MAX_DOCUMENT_SIZE", L(max_document_size), "20971520", 1, 1099511627776L, "largest PDF/Office upload, bytes"},
    {"max-upload-size", "BASALT_MAX_UPLOAD_SIZE", L(max_upload_size), "5368709120", 1, 1099511627776L, "largest upload of any other type (and of one multipart part), bytes"},
    {"multipart-min-part", "BASALT_MULTIPART_MIN_PART", L(multipart_min_part), "5242880", 1, 1073741824L, "smallest multipart part but the last, bytes"},
    {"image-cache-size", "BASALT_IMAGE_CACHE_SIZE", L(image_cache_size), "268435456", 1048576, 1099511627776L, "bytes of image variants kept on disk (DATA/cache/images)"},
    {"image-max-pixels", "BASALT_IMAGE_MAX_PIXELS", L(image_max_pixels), "50000000", 1, 1000000000L, "largest image (width × height) transformed; larger ones are refused"},
    {"shared-cluster-slots", "BASALT_SHARED_CLUSTER_SLOTS", L(shared_cluster_slots), "100", 1, 100000, "dev environments per shared cluster (placement, platform.md §5.5)"},
    {"inactivity-sweep", "BASALT_INACTIVITY_SWEEP", L(inactivity_sweep), "3600", 0, 86400, "seconds between sweeps that shut down idle environments and delete expired ones (0: never)"},
    {"audit-retention-days", "BASALT_AUDIT_RETENTION_DAYS", L(audit_retention_days), "90", 1, 3650, "days account events stay in an environment's audit trail"},
    {"allow-private-webhooks", "BASALT_ALLOW_PRIVATE_WEBHOOKS", L(allow_private_webhooks), "0", 0, 1, "1: project webhooks may target private, loopback, link-local and metadata addresses (tests, closed networks); 0: refused"},
    {"refresh-reuse-interval", "BASALT_REFRESH_REUSE_INTERVAL", L(refresh_reuse_interval), "10", 0, 3600, "seconds a rotated refresh token presented again by its session gets the same new pair instead of revoking the session (parallel refreshes; 0: always revoke)"},
    {"smtp-url", "BASALT_SMTP_URL", S(smtp_url), NULL, 0, 0, "deliver mail through SMTP: smtp://[user:pass@]host:port (STARTTLS when offered) or smtps://...; unset = the outbox"},
    {"mail-from", "BASALT_MAIL_FROM", S(mail_from), "no-reply@localhost", 0, 0, "sender address of the mail to end users"},
    {"google-auth-url", "BASALT_GOOGLE_AUTH_URL", S(google_auth_url), "https://accounts.google.com/o/oauth2/v2/auth", 0, 0, "Google's authorization page (the redirect flow sends browsers there)"},
    {"google-token-url", "BASALT_GOOGLE_TOKEN_URL", S(google_token_url), "https://oauth2.googleapis.com/token", 0, 0, "Google's OAuth token endpoint (a stand-in's in tests)"},
    {"google-userinfo-url", "BASALT_GOOGLE_USERINFO_URL", S(google_userinfo_url), "https://openidconnect.googleapis.com/v1/userinfo", 0, 0, "Google's OpenID userinfo endpoint"},
    {"google-jwks-url", "BASALT_GOOGLE_JWKS_URL", S(google_jwks_url), "https://www.googleapis.com/oauth2/v3/certs", 0, 0, "Google's signing keys for ID tokens"},
    {"github-auth-url", "BASALT_GITHUB_AUTH_URL", S(github_auth_url), "https://github.com/login/oauth/authorize", 0, 0, "GitHub's authorization page"},
    {"github-token-url", "BASALT_GITHUB_TOKEN_URL", S(github_token_url), "https://github.com/login/oauth/access_token", 0, 0, "GitHub's OAuth token endpoint"},
    {"github-api-url", "BASALT_GITHUB_API_URL", S(github_api_url), "https://api.github.com", 0, 0, "GitHub's REST API (for /user and /user/emails)"},
    {"metering", "BASALT_METERING", L(metering), "1", 0, 1, "usage metering (docs/usage.md): 1 on, 0 off (no usage rows, no usage on /metrics)"},
    {"usage-storage-interval", "BASALT_USAGE_STORAGE_INTERVAL", L(usage_storage_interval), "60", 1, 3600, "seconds between readings of the storage gauge (files + table data) of active environments"},
    {"usage-rollup-interval", "BASALT_USAGE_ROLLUP_INTERVAL", L(usage_rollup_interval), "60", 1, 86400, "seconds between usage roll-ups (hourly to daily to monthly) and retention runs"},
    {"jobs-lease-ms", "BASALT_JOBS_LEASE_MS", L(jobs_lease_ms), "30000", 300, 600000, "with a PostgreSQL control store: how long the jobs lease lasts unrenewed (ms); the background jobs of a fleet run on the one instance holding it, and another takes over within this time (plus a third of it) after that instance dies"},
    {"usage-check-ms", "BASALT_USAGE_CHECK_MS", L(usage_check_ms), "5000", 1, 600000, "how old the storage, MAU and bandwidth used by an organization may be when its quota is checked"},
    {"query-stats", "BASALT_QUERY_STATS", L(query_stats), "1", 0, 1, "record per-shape list statistics (GET .../query-stats): 1 on, 0 off"},
    {"redis", "BASALT_REDIS", S(redis), NULL, 0, 0, "join a fleet: redis://[:PASSWORD@]HOST:PORT[/DB] holds what the instances share (API-call admission; docs/operations.md \"Running a fleet\"); unset = this process alone"},
    {"redis-timeout-ms", "BASALT_REDIS_TIMEOUT_MS", L(redis_timeout_ms), "50", 1, 60000, "milliseconds a Redis connect or command may take before it counts as failed"},
    {"redis-fail-open", "BASALT_REDIS_FAIL_OPEN", L(redis_fail_open), "30", 0, 86400, "seconds of a Redis outage during which each instance admits API calls by its own counters; past it calls get 503 (0: at once)"},
    {"shutdown-timeout", "BASALT_SHUTDOWN_TIMEOUT", L(shutdown_timeout), "10", 0, 3600, "seconds to let requests in flight finish on SIGTERM/SIGINT"},
    {"config", "BASALT_CONFIG", S(config_file), NULL, 0, 0, "INI file to read (default ./basalt.conf when it exists)"},
};
#define NOPTS (sizeof opts / sizeof opts[0])

static int opt_set(basalt_config *cfg, const opt_def *o, const char *value, const char *source, bs_err *err)
{
    char *base = (char *)cfg;
    if (o->type == OPT_STRING) {
        char **slot = (char **)(void *)(base + o->offset);
        char *copy = strdup(value);
        if (!copy) return bs_err_internal(err);
        free(*slot);
        *slot = copy;
        return 0;
    }
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || end == value || *end || v < o->min || v > o->max)
        return bs_err_set(err, 400, "config/invalid", "%s: %s wants a whole number from %ld to %ld, got '%s'", source,
                          o->flag, o->min, o->max, value);
    *(long *)(void *)(base + o->offset) = v;
    return 0;
}

static const opt_def *opt_find(const char *name)
{
    for (size_t i = 0; i < NOPTS; i++) {
        const char *a = opts[i].flag, *b = name;
        while (*a && (*a == *b || (*a == '-' && *b == '_'))) { a++; b++; }
        if (!*a && !*b) return &opts[i];
    }
    return NULL;
}

typedef struct ini_state {
    basalt_config *cfg;
    bs_err *err;
    int failed;
} ini_state;

static int ini_entry(void *user, const char *section, const char *name, const char *value)
{
    ini_state *st = user;
    const opt_def *o = opt_find(name);
    if (!o || o->offset == offsetof(basalt_config, config_file)) {
        bs_err_set(st->err, 400, "config/invalid", "basalt.conf: unknown setting '%s' in [%s]", name, section);
        st->failed = 1;
        return 0;
    }
    if (opt_set(st->cfg, o, value, "basalt.conf", st->err) < 0) {
        st->failed = 1;
        return 0;
    }
    return 1;
}

/* Finds --config among the flags first, since the file is read before the other flags apply. */
static const char *config_path(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) return argv[i + 1];
        if (strncmp(argv[i], "--config=", 9) == 0) return argv[i] + 9;
    }
    const char *env = getenv("BASALT_CONFIG");
    if (env && *env) return env;
    return access("basalt.conf", R_OK) == 0 ? "basalt.conf" : NULL;
}

static int load_file(basalt_config *cfg, const char *path, bs_err *err)
{
    ini_state st = {cfg, err, 0};
    int rc = ini_parse(path, ini_entry, &st);
    if (st.failed) return -1;
    if (rc < 0) return bs_err_set(err, 400, "config/invalid", "cannot read config file '%s'", path);
    if (rc > 0) return bs_err_set(err, 400, "config/invalid", "%s: syntax error on line %d", path, rc);
    return 0;
}

static int load_flags(basalt_config *cfg, int argc, char **argv, FILE *out, bs_err *err)
{
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            config_print_help(out);
            return 1;
        }
        if (strncmp(arg, "--", 2) != 0) return bs_err_set(err, 400, "config/invalid", "unexpected argument '%s'", arg);
        char name[64];
        const char *eq = strchr(arg, '=');
        size_t n = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        if (n >= sizeof name) return bs_err_set(err, 400, "config/invalid", "unknown option '%s'", arg);
        memcpy(name, arg + 2, n);
        name[n] = '\0';
        const opt_def *o = opt_find(name);
        if (!o) return bs_err_set(err, 400, "config/invalid", "unknown option '--%s' (see basalt serve --help)", name);
        const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!value) return bs_err_set(err, 400, "config/invalid", "--%s needs a value", name);
        if (opt_set(cfg, o, value, "flag", err) < 0) return -1;
    }
    return 0;
}

int config_load(basalt_config *cfg, int argc, char **argv, FILE *out, bs_err *err)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < NOPTS; i++)
        if (opts[i].def && opt_set(cfg, &opts[i], opts[i].def, "default", err) < 0) return -1;
    const char *file = config_path(argc, argv);
    if (file && load_file(cfg, file, err) < 0) return -1;
    for (size_t i = 0; i < NOPTS; i++) {
        const char *v = getenv(opts[i].env);
        if (v && *v && opts[i].offset != offsetof(basalt_config, config_file) &&
            opt_set(cfg, &opts[i], v, opts[i].env, err) < 0)
            return -1;
    }
    return load_flags(cfg, argc, argv, out, err);
}

void config_free(basalt_config *cfg)
{
    char *base = (char *)cfg;
    for (size_t i = 0; i < NOPTS; i++) {
        if (opts[i].type != OPT_STRING) continue;
        char **slot = (char **)(void *)(base + opts[i].offset);
        free(*slot);
        *slot = NULL;
    }
}

void config_print_help(FILE *out)
{
    fprintf(out, "Usage: basalt serve [OPTIONS]\n\n"
                 "Runs the HTTP server: client API /v1, management API /admin/v1, /healthz, /metrics, /console/.\n"
                 "Each option also reads from its environment variable and from basalt.conf (INI, same names,\n"
                 "any section); flags win over variables, variables over the file.\n\nOptions:\n");
    for (size_t i = 0; i < NOPTS; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s %s", opts[i].flag, opts[i].type == OPT_LONG ? "N" : "VALUE");
        fprintf(out, "  %-28s %s\n  %-28s [%s%s%s]\n", left, opts[i].help, "", opts[i].env,
                opts[i].def ? ", default " : "", opts[i].def ? opts[i].def : "");
    }
    fprintf(out, "  %-28s %s\n", "--help", "show this help");
    fprintf(out, "\nThe management commands (basalt org|project|env|key|plan|activity ...) are clients of a running\n"
                 "server: they read BASALT_URL and BASALT_TOKEN (or --url/--token, else DATA/bootstrap.json).\n");
    fprintf(out, "\nTesting only: BASALT_TEST_CLOCK_OFFSET_MS=N moves the wall clock by N ms (never in production);\n"
                 "BASALT_TEST_FAILPOINT=NAME kills a test build at that step (docs/operations.md; ignored by Release builds).\n");
}
