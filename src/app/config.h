/* config: the serve command's settings, from (weakest to strongest) built-in defaults, the INI file
 * (basalt.conf, parsed with libinih), BASALT_* environment variables and command-line flags.
 * Every option has one row in the table in config.c: its flag, variable, INI key, default and help,
 * so `basalt serve --help` and docs/configuration.md list the same thing.
 * Ownership: config_free releases every string a config_load filled in. */
#ifndef BASALT_APP_CONFIG_H
#define BASALT_APP_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "util/err.h"

typedef struct basalt_config {
    char *listen;
    char *data_dir;
    char *control;          /* control store location; default sqlite:DATA/control.db */
    char *env_store;        /* environment data store location; default (sqlite) the data directory */
    char *console_dir;
    char *operator_token_file; /* the instance operator's secret (/admin/v1/operator/...), NULL: none */
    char *console_chart_js, *cookie_secure; /* the console's chart library; auto | always | never */
    char *public_url;
    char *log_level;
    char *config_file;
    long threads;
    long max_connections;
    long idle_timeout;
    long max_body;
    long header_memory;
    long header_timeout, max_connections_per_ip, connection_reserve;
    long json_max_depth;
    long key_cache_ms;
    long query_stats;
    long metering, usage_storage_interval, usage_rollup_interval;
    char *smtp_url, *mail_from;
    char *google_auth_url, *google_token_url, *google_userinfo_url, *google_jwks_url;
    char *github_auth_url, *github_token_url, *github_api_url;
    long signin_max_failures, signin_window, signin_block;
    long audit_retention_days;
    long allow_private_webhooks;  /* 1: webhooks may go to private, loopback and link-local addresses */
    long refresh_reuse_interval;  /* seconds a rotated refresh token still answers its session's new pair */
    long inactivity_sweep;
    long jobs_lease_ms;          /* the jobs lease's TTL (core/jobs_lease.h) */
    long shared_cluster_slots;
    long usage_check_ms;
    char *files, *storage_public_read;
    char *s3_endpoint, *s3_region, *s3_access_key, *s3_secret_key;
    long s3_path_style, s3_direct_urls;
    long image_cache_size, image_max_pixels;
    long max_image_size, max_video_size, max_document_size, max_upload_size, multipart_min_part;
    long shutdown_timeout;
    char *redis;                  /* the fleet's shared counters; NULL: this process alone */
    long redis_timeout_ms, redis_fail_open;
} basalt_config;

/* Fills cfg from all sources for argv (the arguments after "serve"). Returns 0, 1 when --help was
 * asked (help already printed to out), or -1 with err filled. */
int config_load(basalt_config *cfg, int argc, char **argv, FILE *out, bs_err *err);
void config_free(basalt_config *cfg);
void config_print_help(FILE *out);

#endif
