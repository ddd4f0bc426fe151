/* admin_cli: `basalt org|plan|token|member|invite|project|env|key|activity ...`, a client of the management
 * API (/admin/v1). `basalt invite accept TOKEN` needs no operator token (the invitation is the credential).
 * The server and token come from --url/--token, else BASALT_URL/BASALT_TOKEN, else DATA/bootstrap.json
 * (--data DIR, default ./basalt-data). Answers print as a table (lists) or "field: value" lines on a
 * terminal, as the raw JSON with --json (or when stdout is not a terminal and --table is not given).
 * Deleting an organization or a project on a terminal (or with --progress) goes step by step, each
 * environment first, with a progress bar on stderr; the server's deletions are resumable, so an
 * interrupted run can simply be started again.
 * `basalt usage ORG [--metric M] [--days N]` draws the daily usage of the last N days (default 30) as a bar
 * chart on a terminal, or prints it as JSON with --json (docs/usage.md).
 * `basalt env move PROJECT ENV CLUSTER` moves an environment to another cluster through the instance
 * operator's endpoint (its secret from --operator-token-file or BASALT_OPERATOR_TOKEN_FILE), polling the
 * move with a progress bar on stderr (JSON lines when stderr is not a terminal) until it is done or failed.
 * Exit status: 0 on success, 1 when the server refused (its error printed), 2 for usage errors. */
#include "app/admin_cli.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/json.h"
#include "util/strbuf.h"

#define CLI_ANSWER_MAX (16 * 1024 * 1024)

typedef struct cli {
    char url[512], token[256], data[1024];
    char operator_file[1024];  /* --operator-token-file / BASALT_OPERATOR_TOKEN_FILE: the instance operator's secret */
    int json;       /* 1: raw JSON, 0: tables */
    int progress;   /* 1: long deletions step by step with a progress bar on stderr */
} cli;

/* A command: words that select it, how many positional arguments, the request it makes. */
typedef struct command {
    const char *group, *verb, *args;   /* args: the usage of the positional arguments */
    int nargs;
    const char *method, *path;         /* path with {1}, {2}, {3} for the positional arguments */
    const char *body;                  /* JSON template with {1}.. placeholders, or NULL */
    const char *columns;               /* list columns (space separated), or NULL for an object */
    int anonymous;                     /* 1: sent without the operator token */
} command;

static const command commands[] = {
    {"org", "list", "", 0, "GET", "/admin/v1/organizations", NULL, "id slug name plan status", 0},
    {"org", "get", "ORG", 1, "GET", "/admin/v1/organizations/{1}", NULL, NULL, 0},
    {"org", "create", "NAME SLUG", 2, "POST", "/admin/v1/organizations", "{\"name\":{1},\"slug\":{2}}", NULL, 0},
    {"org", "rename", "ORG NAME", 2, "PATCH", "/admin/v1/organizations/{1}", "{\"name\":{2}}", NULL, 0},
    {"org", "delete", "ORG", 1, "DELETE", "/admin/v1/organizations/{1}", NULL, NULL, 0},
    {"org", "transfer", "ORG MEMBER", 2, "POST", "/admin/v1/organizations/{1}/transfer", "{\"memberId\":{2}}", NULL, 0},
    {"org", "leave", "ORG", 1, "POST", "/admin/v1/organizations/{1}/leave", "{}", NULL, 0},
    {"plan", "get", "ORG", 1, "GET", "/admin/v1/organizations/{1}/plan", NULL, NULL, 0},
    {"plan", "set", "ORG PLAN", 2, "PUT", "/admin/v1/organizations/{1}/plan", "{\"plan\":{2}}", NULL, 0},
    {"token", "create", "ORG NAME ROLE", 3, "POST", "/admin/v1/organizations/{1}/access-tokens", "{\"name\":{2},\"role\":{3}}", NULL, 0},
    {"token", "list", "ORG", 1, "GET", "/admin/v1/organizations/{1}/access-tokens", NULL, "id name role memberId tokenHint status", 0},
    {"token", "revoke", "ORG TOKEN", 2, "DELETE", "/admin/v1/organizations/{1}/access-tokens/{2}", NULL, NULL, 0},
    {"member", "list", "ORG", 1, "GET", "/admin/v1/organizations/{1}/members", NULL, "id email name role joinedAt", 0},
    {"member", "role", "ORG MEMBER ROLE", 3, "PATCH", "/admin/v1/organizations/{1}/members/{2}", "{\"role\":{3}}", NULL, 0},
    {"member", "remove", "ORG MEMBER", 2, "DELETE", "/admin/v1/organizations/{1}/members/{2}", NULL, NULL, 0},
    {"invite", "create", "ORG EMAIL NAME ROLE", 4, "POST", "/admin/v1/organizations/{1}/invitations", "{\"email\":{2},\"name\":{3},\"role\":{4}}", NULL, 0},
    {"invite", "list", "ORG", 1, "GET", "/admin/v1/organizations/{1}/invitations", NULL, "id email name role status expiresAt", 0},
    {"invite", "revoke", "ORG INVITATION", 2, "DELETE", "/admin/v1/organizations/{1}/invitations/{2}", NULL, NULL, 0},
    {"invite", "resend", "ORG INVITATION", 2, "POST", "/admin/v1/organizations/{1}/invitations/{2}/resend", "{}", NULL, 0},
    {"invite", "accept", "TOKEN", 1, "POST", "/admin/v1/invitations/accept", "{\"token\":{1}}", NULL, 1},
    {"activity", "list", "ORG", 1, "GET", "/admin/v1/organizations/{1}/activity", NULL, "createdAt action entityType entityId message", 0},
    {"project", "list", "", 0, "GET", "/admin/v1/projects", NULL, "id slug name status environmentCount", 0},
    {"project", "get", "PROJECT", 1, "GET", "/admin/v1/projects/{1}", NULL, NULL, 0},
    {"project", "create", "ORG SLUG NAME", 3, "POST", "/admin/v1/projects", "{\"organizationId\":{1},\"slug\":{2},\"name\":{3}}", NULL, 0},
    {"project", "delete", "PROJECT", 1, "DELETE", "/admin/v1/projects/{1}", NULL, NULL, 0},
    {"env", "list", "PROJECT", 1, "GET", "/admin/v1/projects/{1}/environments", NULL, "id environment environmentType status", 0},
    {"env", "get", "PROJECT ENV", 2, "GET", "/admin/v1/projects/{1}/environments/{2}", NULL, NULL, 0},
    {"env", "create", "PROJECT ENV TYPE", 3, "POST", "/admin/v1/projects/{1}/environments", "{\"environment\":{2},\"environmentType\":{3}}", NULL, 0},
    {"env", "delete", "PROJECT ENV", 2, "DELETE", "/admin/v1/projects/{1}/environments/{2}", NULL, NULL, 0},
    {"key", "list", "PROJECT ENV", 2, "GET", "/admin/v1/projects/{1}/environments/{2}/keys", NULL, "id type name keyHint revokedAt", 0},
    {"key", "create", "PROJECT ENV TYPE NAME", 4, "POST", "/admin/v1/projects/{1}/environments/{2}/keys", "{\"type\":{3},\"name\":{4}}", NULL, 0},
    {"key", "revoke", "PROJECT ENV KEY", 3, "DELETE", "/admin/v1/projects/{1}/environments/{2}/keys/{3}", NULL, NULL, 0},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

int admin_cli_handles(const char *group)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(commands[i].group, group)) return 1;
    return !strcmp(group, "usage");
}

static void usage(FILE *out)
{
    fprintf(out, "Usage: basalt GROUP VERB [ARGS] [--url URL] [--token bt_...] [--data DIR] [--json|--table]\n\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  basalt %s %s %s\n", commands[i].group, commands[i].verb, commands[i].args);
    fprintf(out, "  basalt env move PROJECT ENV CLUSTER [--operator-token-file PATH]\n");
    fprintf(out, "  basalt usage ORG [--metric api_call|db_read|db_write|bandwidth|file_upload|file_download|storage|mau] [--days 30]\n");
    fprintf(out, "\nThe server and token default to BASALT_URL/BASALT_TOKEN, then DATA/bootstrap.json.\n"
                 "org delete and project delete show a progress bar on a terminal (--progress: always).\n");
}

/* ---- options and defaults ---- */

static void from_bootstrap(cli *c)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/bootstrap.json", c->data);
    struct json_object *b = json_object_from_file(path);
    if (!c->url[0] && json_get_string(b, "url")) snprintf(c->url, sizeof c->url, "%s", json_get_string(b, "url"));
    if (!c->token[0] && json_get_string(b, "operatorToken")) snprintf(c->token, sizeof c->token, "%s", json_get_string(b, "operatorToken"));
    json_object_put(b);
}

/* Takes the options out of argv (they may come anywhere); the rest stays in order. */
static int parse_options(cli *c, int *argc, char **argv)
{
    int out = 0, table = 0, json = 0;
    snprintf(c->data, sizeof c->data, "./basalt-data");
    for (int i = 0; i < *argc; i++) {
        const char *a = argv[i];
        char *dst = !strcmp(a, "--url") ? c->url : !strcmp(a, "--token") ? c->token : !strcmp(a, "--data") ? c->data
                    : !strcmp(a, "--operator-token-file") ? c->operator_file : NULL;
        size_t size = dst == c->url ? sizeof c->url : dst == c->token ? sizeof c->token
                      : dst == c->operator_file ? sizeof c->operator_file : sizeof c->data;
        if (dst) {
            if (++i >= *argc) return -1;
            snprintf(dst, size, "%s", argv[i]);
        } else if (!strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "--progress")) c->progress = 1;
        else if (!strcmp(a, "--table")) table = 1;
        else argv[out++] = argv[i];
    }
    *argc = out;
    if (!c->url[0] && getenv("BASALT_URL")) snprintf(c->url, sizeof c->url, "%s", getenv("BASALT_URL"));
    if (!c->token[0] && getenv("BASALT_TOKEN")) snprintf(c->token, sizeof c->token, "%s", getenv("BASALT_TOKEN"));
    if (!c->operator_file[0] && getenv("BASALT_OPERATOR_TOKEN_FILE"))
        snprintf(c->operator_file, sizeof c->operator_file, "%s", getenv("BASALT_OPERATOR_TOKEN_FILE"));
    if (!c->url[0] || !c->token[0]) from_bootstrap(c);
    c->json = json || (!table && !isatty(STDOUT_FILENO));
    c->progress = c->progress || isatty(STDERR_FILENO);
    return 0;
}

/* ---- the request ---- */

/* Fills {1}..{9} of tmpl with args: as JSON strings (json) or URL-escaped path segments. */
static void fill(const char *tmpl, char **args, int json, strbuf *out)
{
    for (const char *p = tmpl; *p; p++) {
        if (p[0] == '{' && p[1] >= '1' && p[1] <= '9' && p[2] == '}') {
            const char *v = args[p[1] - '1'];
            if (json) strbuf_append_json_string(out, v, strlen(v));
            else strbuf_append_percent(out, v, 0);
            p += 2;
        } else {
            strbuf_append_char(out, *p);
        }
    }
}

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
    return strbuf_append(arg, data, size * n) == 0 ? size * n : 0;
}

static long call(const cli *c, const char *method, const char *path, const char *body, strbuf *answer)
{
    char url[2048], auth[300];
    long status = 0;
    snprintf(url, sizeof url, "%s%s", c->url, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->token);
    struct curl_slist *h = c->token[0] ? curl_slist_append(NULL, auth) : NULL;
    h = curl_slist_append(h, "Content-Type: application/json");
    CURL *e = curl_easy_init();
    if (!e) return 0;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    if (body) curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, answer);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 600L); /* deleting an organization takes a while */
    CURLcode rc = curl_easy_perform(e);
    if (rc == CURLE_OK) curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    else fprintf(stderr, "basalt: %s: %s\n", url, curl_easy_strerror(rc));
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
    return status;
}

/* ---- printing ---- */

static const char *text_of(struct json_object *v)
{
    return !v ? "-" : json_object_is_type(v, json_type_string) ? json_object_get_string(v) : json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

static void print_table(struct json_object *items, const char *columns)
{
    char cols[256];
    snprintf(cols, sizeof cols, "%s", columns);
    const char *names[16];
    int n = 0, width[16];
    for (char *t = strtok(cols, " "); t && n < 16; t = strtok(NULL, " ")) names[n++] = t;
    for (int i = 0; i < n; i++) {
        width[i] = (int)strlen(names[i]);
        for (size_t r = 0; r < json_object_array_length(items); r++) {
            struct json_object *v = NULL;
            json_object_object_get_ex(json_object_array_get_idx(items, r), names[i], &v);
            int w = (int)strlen(text_of(v));
            if (w > width[i]) width[i] = w > 60 ? 60 : w;
        }
    }
    for (int i = 0; i < n; i++) printf("%-*s%s", width[i], names[i], i + 1 < n ? "  " : "\n");
    for (size_t r = 0; r < json_object_array_length(items); r++)
        for (int i = 0; i < n; i++) {
            struct json_object *v = NULL;
            json_object_object_get_ex(json_object_array_get_idx(items, r), names[i], &v);
            printf("%-*.*s%s", width[i], 60, text_of(v), i + 1 < n ? "  " : "\n");
        }
}

static void print_answer(const cli *c, const command *cmd, const strbuf *answer)
{
    struct json_object *j = answer->len ? json_tokener_parse(answer->data) : NULL, *items = NULL;
    if (c->json || !j) {
        printf("%s\n", answer->len ? answer->data : "");
    } else if (cmd->columns && json_object_object_get_ex(j, "items", &items)) {
        print_table(items, cmd->columns);
    } else {
        json_object_object_foreach(j, k, v) printf("%s: %s\n", k, text_of(v));
    }
    json_object_put(j);
}

/* ---- deletions with progress ---- */

typedef struct deletion {
    const cli *c;
    char (*paths)[512]; /* the DELETEs in order: environments, then projects, then the organization */
    char (*labels)[160];
    int n, cap;
} deletion;

static int deletion_add(deletion *d, const char *path, const char *label)
{
    if (d->n == d->cap) {
        int cap = d->cap ? d->cap * 2 : 16;
        char (*p)[512] = realloc(d->paths, (size_t)cap * sizeof *p);
        if (p) d->paths = p;
        char (*l)[160] = realloc(d->labels, (size_t)cap * sizeof *l);
        if (l) d->labels = l;
        if (!p || !l) return -1;
        d->cap = cap;
    }
    snprintf(d->paths[d->n], sizeof d->paths[0], "%s", path);
    snprintf(d->labels[d->n], sizeof d->labels[0], "%s", label);
    d->n++;
    return 0;
}

/* The items of a GET answer (owned by the caller), or NULL when it failed. */
static struct json_object *items_of(const cli *c, const char *path)
{
    strbuf answer;
    strbuf_init(&answer, CLI_ANSWER_MAX);
    long status = call(c, "GET", path, NULL, &answer);
    struct json_object *j = status == 200 && answer.len ? json_tokener_parse(answer.data) : NULL, *items = NULL;
    if (j && json_object_object_get_ex(j, "items", &items)) json_object_get(items);
    json_object_put(j);
    strbuf_release(&answer);
    return items;
}

/* Adds the DELETE of every environment of the project, then of the project itself. */
static int plan_project(deletion *d, const char *project_id, const char *label)
{
    char path[512], what[160];
    snprintf(path, sizeof path, "/admin/v1/projects/%s/environments", project_id);
    struct json_object *envs = items_of(d->c, path);
    if (!envs) return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < json_object_array_length(envs); i++) {
        const char *name = json_get_string(json_object_array_get_idx(envs, i), "environment");
        snprintf(path, sizeof path, "/admin/v1/projects/%s/environments/%s", project_id, name ? name : "");
        snprintf(what, sizeof what, "environment %.40s of %.80s", name ? name : "?", label);
        rc = deletion_add(d, path, what);
    }
    json_object_put(envs);
    snprintf(path, sizeof path, "/admin/v1/projects/%s", project_id);
    snprintf(what, sizeof what, "project %.80s", label);
    return rc < 0 ? -1 : deletion_add(d, path, what);
}

static int plan_org(deletion *d, const char *org_id)
{
    char path[512];
    snprintf(path, sizeof path, "/admin/v1/projects?organizationId=%s", org_id);
    struct json_object *projects = items_of(d->c, path);
    if (!projects) return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < json_object_array_length(projects); i++) {
        struct json_object *p = json_object_array_get_idx(projects, i);
        const char *id = json_get_string(p, "id"), *slug = json_get_string(p, "slug");
        rc = id ? plan_project(d, id, slug ? slug : id) : -1;
    }
    json_object_put(projects);
    snprintf(path, sizeof path, "/admin/v1/organizations/%s", org_id);
    return rc < 0 ? -1 : deletion_add(d, path, "organization");
}

static void progress_bar(int done, int total, const char *label)
{
    enum { WIDTH = 30 };
    int filled = total ? done * WIDTH / total : WIDTH;
    fprintf(stderr, "\rdeleting [%.*s%*s] %d/%d %-60.60s", filled, "##############################", WIDTH - filled, "", done, total,
            label);
    if (done == total) fputc('\n', stderr);
    fflush(stderr);
}

/* Runs the planned DELETEs in order; the last answer goes to answer. */
static long deletion_run(deletion *d, strbuf *answer)
{
    long status = 200;
    for (int i = 0; i < d->n && status >= 200 && status < 300; i++) {
        progress_bar(i, d->n, d->labels[i]);
        strbuf_reset(answer);
        status = call(d->c, "DELETE", d->paths[i], NULL, answer);
    }
    if (status >= 200 && status < 300) progress_bar(d->n, d->n, "done");
    else fputc('\n', stderr);
    return status;
}

/* org delete / project delete with progress: 0 when cmd is not one (the caller sends it as one request). */
static int delete_stepwise(const cli *c, const command *cmd, char **args, long *status, strbuf *answer)
{
    int org = !strcmp(cmd->group, "org"), project = !strcmp(cmd->group, "project");
    if (!c->progress || strcmp(cmd->verb, "delete") || (!org && !project)) return 0;
    deletion d = {.c = c};
    int planned = org ? plan_org(&d, args[0]) : plan_project(&d, args[0], args[0]);
    *status = planned < 0 ? 0 : deletion_run(&d, answer);
    free(d.paths);
    free(d.labels);
    return planned < 0 ? 0 : 1; /* a plan that failed (unknown id, no right): the single request says why */
}

/* ---- basalt usage ORG: the daily rows of the last days as a chart ---- */

#define CHART_DAYS_MAX 366
#define CHART_WIDTH 50
#define DAY_MS (86400LL * 1000)

typedef struct chart {
    const char *org, *metric;
    int days;
    int64_t first;                     /* 00:00 UTC of the first day */
    int64_t value[CHART_DAYS_MAX];
} chart;

static int chart_options(int argc, char **argv, chart *ch)
{
    ch->org = NULL;
    ch->metric = "api_call";
    ch->days = 30;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--metric") && i + 1 < argc) ch->metric = argv[++i];
        else if (!strcmp(argv[i], "--days") && i + 1 < argc) ch->days = atoi(argv[++i]);
        else if (argv[i][0] != '-' && !ch->org) ch->org = argv[i];
        else return -1;
    }
    return ch->org && ch->days >= 1 && ch->days <= CHART_DAYS_MAX ? 0 : -1;
}

/* Adds the values of one page of daily rows to their days; *more = 1 when another page follows. */
static int chart_page(const cli *c, chart *ch, int page, int *more, strbuf *answer)
{
    char date[CLOCK_ISO_LEN];
    strbuf path;
    strbuf_init(&path, 1024);
    clock_iso8601(ch->first, date);
    date[10] = '\0';
    strbuf_append_str(&path, "/admin/v1/usage?organizationId=");
    strbuf_append_percent(&path, ch->org, 0);
    strbuf_append_str(&path, "&type=");
    strbuf_append_percent(&path, ch->metric, 0);
    strbuf_appendf(&path, "&period=daily&startDate=%s&limit=100&page=%d", date, page);
    strbuf_reset(answer);
    long status = path.overflow ? -1 : call(c, "GET", path.data, NULL, answer);
    strbuf_release(&path);
    if (status != 200) return (int)(status ? status : -1);
    struct json_object *j = json_tokener_parse(answer->data), *items = NULL;
    size_t n = json_object_object_get_ex(j, "items", &items) ? json_object_array_length(items) : 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *row = json_object_array_get_idx(items, i), *v = NULL;
        int64_t start = 0;
        if (clock_parse_iso8601(json_get_string(row, "periodStart"), &start) < 0) continue;
        int64_t day = (start - ch->first) / DAY_MS;
        if (day >= 0 && day < ch->days && json_object_object_get_ex(row, "value", &v)) ch->value[day] += json_object_get_int64(v);
    }
    struct json_object *total = NULL;
    json_object_object_get_ex(j, "total", &total);
    *more = (int64_t)page * 100 < json_object_get_int64(total);
    json_object_put(j);
    return 0;
}

static void chart_json(const chart *ch)
{
    char date[CLOCK_ISO_LEN];
    int64_t total = 0;
    printf("{\"organizationId\":\"%s\",\"metric\":\"%s\",\"days\":[", ch->org, ch->metric);
    for (int d = 0; d < ch->days; d++) {
        clock_iso8601(ch->first + d * DAY_MS, date);
        date[10] = '\0';
        printf("%s{\"date\":\"%s\",\"value\":%lld}", d ? "," : "", date, (long long)ch->value[d]);
        total += ch->value[d];
    }
    printf("],\"total\":%lld}\n", (long long)total);
}

static void chart_draw(const chart *ch)
{
    char date[CLOCK_ISO_LEN];
    int64_t peak = 0, total = 0;
    int peak_day = 0;
    for (int d = 0; d < ch->days; d++) {
        total += ch->value[d];
        if (ch->value[d] > peak) peak = ch->value[d], peak_day = d;
    }
    int bytes = !strcmp(ch->metric, "bandwidth") || !strcmp(ch->metric, "storage");
    printf("%s of %s, last %d days (UTC%s)\n", ch->metric, ch->org, ch->days, bytes ? ", bytes" : "");
    for (int d = 0; d < ch->days; d++) {
        int bar = peak ? (int)(ch->value[d] * CHART_WIDTH / peak) : 0;
        if (ch->value[d] && !bar) bar = 1;
        clock_iso8601(ch->first + d * DAY_MS, date);
        date[10] = '\0';
        printf("%s |%.*s%*s %lld\n", date, bar, "##################################################", CHART_WIDTH - bar, "",
               (long long)ch->value[d]);
    }
    clock_iso8601(ch->first + peak_day * DAY_MS, date);
    date[10] = '\0';
    if (strcmp(ch->metric, "storage")) printf("total %lld", (long long)total);
    else printf("latest %lld", (long long)ch->value[ch->days - 1]);
    printf(", peak %lld on %s\n", (long long)peak, date);
}

static int usage_chart(const cli *c, int argc, char **argv)
{
    chart *ch = calloc(1, sizeof *ch);
    if (!ch) return 1;
    if (chart_options(argc, argv, ch) < 0) {
        fprintf(stderr, "usage: basalt usage ORG [--metric M] [--days N (1-366)] [--json]\n");
        free(ch);
        return 2;
    }
    const char *offset = getenv("BASALT_TEST_CLOCK_OFFSET_MS"); /* the same moved clock as a test server */
    if (offset && *offset) clock_set_offset_ms(strtoll(offset, NULL, 10));
    int64_t now = clock_now_ms();
    ch->first = now - now % DAY_MS - (int64_t)(ch->days - 1) * DAY_MS;
    strbuf answer;
    strbuf_init(&answer, CLI_ANSWER_MAX);
    int more = 1, rc = 0;
    for (int page = 1; more && rc == 0; page++) rc = chart_page(c, ch, page, &more, &answer);
    if (rc != 0) fprintf(stderr, "basalt: %d %s\n", rc, answer.len ? answer.data : "(no answer)");
    else if (c->json) chart_json(ch);
    else chart_draw(ch);
    strbuf_release(&answer);
    free(ch);
    return rc ? 1 : 0;
}

/* ---- basalt env move PROJECT ENV CLUSTER: the operator endpoint, with a progress bar ---- */

#define MOVE_POLL_MS 200
#define MOVE_BAR 30

/* The instance operator's secret: the first line of c->operator_file, trimmed. 0, or -1 (said why). */
static int operator_secret(const cli *c, char *out, size_t cap)
{
    FILE *f = c->operator_file[0] ? fopen(c->operator_file, "r") : NULL;
    if (!f) {
        fprintf(stderr, "basalt: env move needs the operator secret: --operator-token-file PATH or BASALT_OPERATOR_TOKEN_FILE\n");
        return -1;
    }
    if (!fgets(out, (int)cap, f)) out[0] = '\0';
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    size_t n = strlen(out);
    while (n && (out[n - 1] == ' ' || out[n - 1] == '\t')) out[--n] = '\0';
    size_t lead = strspn(out, " \t");
    memmove(out, out + lead, n - lead + 1); /* bounded: within out, n < cap */
    if (out[0]) return 0;
    fprintf(stderr, "basalt: %s holds no secret\n", c->operator_file);
    return -1;
}

/* GETs path into *answer and parses it: the JSON object, or NULL (the error printed). */
static struct json_object *get_json(const cli *c, const char *method, const char *path, const char *body, strbuf *answer)
{
    strbuf_reset(answer);
    long status = call(c, method, path, body, answer);
    if (status >= 200 && status < 300) return json_tokener_parse(answer->data);
    fprintf(stderr, "%sbasalt: %ld %s\n", c->progress ? "\n" : "", status, answer->len ? answer->data : "(no answer)");
    return NULL;
}

static void move_bar(const cli *c, struct json_object *m)
{
    struct json_object *p = NULL, *done = NULL, *total = NULL;
    json_object_object_get_ex(m, "progress", &p);
    json_object_object_get_ex(p, "rowsCopied", &done);
    json_object_object_get_ex(p, "rowsTotal", &total);
    int64_t d = json_object_get_int64(done), t = json_object_get_int64(total);
    int fill_n = t > 0 ? (int)(d * MOVE_BAR / t) : 0;
    if (c->progress)
        fprintf(stderr, "\r[%.*s%*s] %3d%% %lld/%lld rows  %-12s", fill_n, "##############################",
                MOVE_BAR - fill_n, "", t > 0 ? (int)(d * 100 / t) : 0, (long long)d, (long long)t, json_get_string(m, "state"));
    else
        fprintf(stderr, "{\"state\":\"%s\",\"rowsCopied\":%lld,\"rowsTotal\":%lld}\n", json_get_string(m, "state"),
                (long long)d, (long long)t);
}

static int env_move(const cli *c, char **args)
{
    cli op = *c;
    if (operator_secret(c, op.token, sizeof op.token) < 0) return 2;
    strbuf path, answer;
    strbuf_init(&path, 4096);
    strbuf_init(&answer, CLI_ANSWER_MAX);
    fill("/admin/v1/projects/{1}/environments/{2}", args, 0, &path);
    struct json_object *env = get_json(c, "GET", path.data, NULL, &answer), *m = NULL;
    strbuf body;
    strbuf_init(&body, 1024);
    fill("{\"cluster\":{3}}", args, 1, &body);
    strbuf_reset(&path);
    if (env) {
        strbuf_append_str(&path, "/admin/v1/operator/environments/");
        strbuf_append_percent(&path, json_get_string(env, "id"), 0);
        strbuf_append_str(&path, "/move");
        m = get_json(&op, "POST", path.data, body.data, &answer);
    }
    char id[64] = "";
    if (m) snprintf(id, sizeof id, "%s", json_get_string(m, "id"));
    const char *state = m ? json_get_string(m, "state") : NULL;
    while (m && state && (!strcmp(state, "copying") || !strcmp(state, "catching-up"))) {
        move_bar(c, m);
        json_object_put(m);
        usleep(MOVE_POLL_MS * 1000);
        strbuf_reset(&path);
        strbuf_appendf(&path, "/admin/v1/operator/moves/%s", id);
        m = get_json(&op, "GET", path.data, NULL, &answer);
        state = m ? json_get_string(m, "state") : NULL;
    }
    int rc = m && state && !strcmp(state, "done") ? 0 : 1;
    if (m) move_bar(c, m);
    if (m && c->progress) fputc('\n', stderr);
    struct json_object *e = NULL, *blocked = NULL;
    if (m && rc) {
        json_object_object_get_ex(m, "error", &e);
        fprintf(stderr, "basalt: the move failed: %s (%s); the environment stays where it was\n", json_get_string(e, "message"),
                json_get_string(e, "code"));
    } else if (m) {
        json_object_object_get_ex(m, "writesBlockedMs", &blocked);
        printf("%s moved to %s (move %s; writes refused for %lld ms)\n", args[1], args[2], id,
               (long long)json_object_get_int64(blocked));
    }
    json_object_put(m);
    json_object_put(env);
    strbuf_release(&path);
    strbuf_release(&body);
    strbuf_release(&answer);
    return rc;
}

int admin_cli_main(int argc, char **argv)
{
    cli c;
    memset(&c, 0, sizeof c);
    if (parse_options(&c, &argc, argv) < 0 || argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[0], "usage")) {
        if (!c.url[0] || !c.token[0]) {
            fprintf(stderr, "basalt: no server or token: give --url and --token, BASALT_URL and BASALT_TOKEN, or --data DIR\n");
            return 2;
        }
        return usage_chart(&c, argc, argv);
    }
    if (!strcmp(argv[0], "env") && !strcmp(argv[1], "move")) {
        if (argc != 5) {
            fprintf(stderr, "usage: basalt env move PROJECT ENV CLUSTER [--operator-token-file PATH]\n");
            return 2;
        }
        if (!c.url[0] || !c.token[0]) {
            fprintf(stderr, "basalt: no server or token: give --url and --token, BASALT_URL and BASALT_TOKEN, or --data DIR\n");
            return 2;
        }
        return env_move(&c, argv + 2);
    }
    const command *cmd = NULL;
    for (size_t i = 0; i < NCOMMANDS && !cmd; i++)
        if (!strcmp(commands[i].group, argv[0]) && !strcmp(commands[i].verb, argv[1])) cmd = &commands[i];
    if (!cmd || argc - 2 != cmd->nargs) {
        if (cmd) fprintf(stderr, "usage: basalt %s %s %s\n", cmd->group, cmd->verb, cmd->args);
        else usage(stderr);
        return 2;
    }
    if (cmd->anonymous) c.token[0] = '\0'; /* the request carries its own credential */
    if (!c.url[0] || (!c.token[0] && !cmd->anonymous)) {
        fprintf(stderr, "basalt: no server or token: give --url and --token, BASALT_URL and BASALT_TOKEN, or --data DIR\n");
        return 2;
    }
    strbuf path, body, answer;
    strbuf_init(&path, 4096);
    strbuf_init(&body, 64 * 1024);
    strbuf_init(&answer, CLI_ANSWER_MAX);
    fill(cmd->path, argv + 2, 0, &path);
    if (cmd->body) fill(cmd->body, argv + 2, 1, &body);
    long status = 0;
    if (!delete_stepwise(&c, cmd, argv + 2, &status, &answer))
        status = call(&c, cmd->method, path.data, cmd->body ? body.data : NULL, &answer);
    int rc = status >= 200 && status < 300 ? 0 : 1;
    if (rc == 0) print_answer(&c, cmd, &answer);
    else fprintf(stderr, "basalt: %ld %s\n", status, answer.len ? answer.data : "(no answer)");
    strbuf_release(&path);
    strbuf_release(&body);
    strbuf_release(&answer);
    return rc;
}
