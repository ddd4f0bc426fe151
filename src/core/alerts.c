#include "core/alerts.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <strings.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/keys.h"
#include "core/netrules.h"
#include "core/plans.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/json.h"
#include "util/log.h"
#include "util/ticker.h"

#define ALERT_QUEUE_MAX 1024
#define DELIVERIES_PER_PASS 16
#define PROJECTS_PER_ORG_MAX 1000
#define DELIVERY_WINDOW_MS (24LL * 3600 * 1000)
#define DELIVERY_BACKOFF_MAX_MS (3600LL * 1000)
#define DELIVERY_TIMEOUT_S 10L

typedef struct alert_event {
    char org_id[STORE_ID_MAX];
    char metric[32];
    int threshold;
    int64_t used, limit, at;
} alert_event;

struct alerts {
    alerts_config cfg;
    pthread_mutex_t lock;        /* the queue */
    alert_event queue[ALERT_QUEUE_MAX];
    int head, count;
    ticker *worker;              /* NULL when it could not start: events wait for alerts_free */
};

/* ---- the signature and the secret ---- */

void alerts_webhook_secret(const uint8_t master_key[32], const char *project_id, char out[ALERTS_SECRET_HEX])
{
    uint8_t mac[CRYPTO_SHA256_LEN];
    char label[128];
    int n = snprintf(label, sizeof label, "basalt webhook secret v1 %s", project_id);
    crypto_hmac_sha256(master_key, 32, label, (size_t)n, mac);
    memcpy(out, "whsec_", 6);
    crypto_hex(mac, sizeof mac, out + 6);
}

/* "t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>" */
static void signature(const char *secret, int64_t t, const char *body, char *out, size_t size)
{
    size_t n = strlen(body);
    char *signed_text = malloc(n + 32);
    uint8_t mac[CRYPTO_SHA256_LEN];
    char hex[2 * CRYPTO_SHA256_LEN + 1];
    if (!signed_text) {
        snprintf(out, size, "t=%lld", (long long)t);
        return;
    }
    int m = snprintf(signed_text, n + 32, "%lld.%s", (long long)t, body);
    crypto_hmac_sha256(secret, strlen(secret), signed_text, (size_t)m, mac);
    crypto_hex(mac, sizeof mac, hex);
    snprintf(out, size, "t=%lld,v1=%s", (long long)t, hex);
    free(signed_text);
}

/* ---- recording an alert ---- */

void alerts_month_of(int64_t ms, char out[8])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 8, "%04u-%02u", (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u);
}

static void alert_mail(alerts *a, const store_org *o, const store_alert *al)
{
    if (!o->notification_email[0]) return; /* no address: the banner and webhooks still tell */
    store_mail m;
    bs_err err;
    memset(&m, 0, sizeof m);
    snprintf(m.organization_id, sizeof m.organization_id, "%s", o->id);
    snprintf(m.to, sizeof m.to, "%s", o->notification_email);
    snprintf(m.template_name, sizeof m.template_name, "usage_alert");
    const char *name = o->display_name[0] ? o->display_name : o->name;
    snprintf(m.subject, sizeof m.subject, "%.160s reached %d%% of its monthly %.31s quota", name, al->threshold, al->metric);
    snprintf(m.body, sizeof m.body,
             "The organization %.200s has used %lld of its %lld monthly %s (%d%%) in %s.\n\n%s\n"
             "Usage: GET /admin/v1/usage/summary?organizationId=%s\n",
             name, (long long)al->used, (long long)al->limit, al->metric, al->threshold, al->month,
             al->threshold >= 100 ? "Further calls are refused with 429 until the month ends or the plan is upgraded."
                                  : "Calls are refused with 429 once the quota is used up; consider optimising or upgrading.",
             o->id);
    if (mailer_send(a->cfg.mail, &m, &err) < 0) log_warn("usage alert mail for %s not sent: %s", o->id, err.message);
}

static void payload_of(const store_alert *al, const char *project_id, char *out, size_t size)
{
    struct json_object *j = json_object_new_object();
    json_object_object_add(j, "id", json_object_new_string(al->id));
    json_object_object_add(j, "type", json_object_new_string("usage.alert"));
    json_object_object_add(j, "organizationId", json_object_new_string(al->organization_id));
    json_object_object_add(j, "projectId", json_object_new_string(project_id));
    json_object_object_add(j, "metric", json_object_new_string(al->metric));
    json_object_object_add(j, "threshold", json_object_new_int(al->threshold));
    json_object_object_add(j, "used", json_object_new_int64(al->used));
    json_object_object_add(j, "limit", json_object_new_int64(al->limit));
    json_object_object_add(j, "month", json_object_new_string(al->month));
    json_add_time(j, "createdAt", al->created_at);
    snprintf(out, size, "%s", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
    json_object_put(j);
}

/* One delivery per project of the organization with a webhookUrl, when the plan has webhooks. */
static void alert_deliveries(alerts *a, const store_org *o, const store_alert *al)
{
    const plan *pl = plan_find(o->plan);
    if (!pl || !(pl->features & PLAN_FEATURE_WEBHOOKS)) return;
    store_project *projects = calloc(PROJECTS_PER_ORG_MAX, sizeof *projects);
    size_t n = 0;
    bs_err err;
    if (!projects || store_control_project_list(a->cfg.control, o->id, projects, PROJECTS_PER_ORG_MAX, &n, &err) < 0) n = 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *s = json_tokener_parse(projects[i].settings[0] ? projects[i].settings : "{}");
        const char *url = json_get_string(s, "webhookUrl");
        store_delivery d;
        memset(&d, 0, sizeof d);
        if (url && *url && strlen(url) < sizeof d.url && strcmp(projects[i].status, "deleted") && keys_new_id("whd", d.id) == 0) {
            snprintf(d.organization_id, sizeof d.organization_id, "%s", o->id);
            snprintf(d.project_id, sizeof d.project_id, "%s", projects[i].id);
            snprintf(d.alert_id, sizeof d.alert_id, "%s", al->id);
            snprintf(d.url, sizeof d.url, "%s", url);
            snprintf(d.status, sizeof d.status, "pending");
            payload_of(al, projects[i].id, d.payload, sizeof d.payload);
            d.next_at = d.created_at = d.updated_at = clock_now_ms();
            if (store_control_delivery_add(a->cfg.control, &d, &err) < 0) log_warn("webhook delivery not queued: %s", err.message);
        }
        json_object_put(s);
    }
    free(projects);
}

static void alert_record(alerts *a, const alert_event *ev)
{
    store_alert al;
    store_org o;
    bs_err err;
    int created = 0, found = 0;
    memset(&al, 0, sizeof al);
    if (keys_new_id("alert", al.id) < 0) return;
    snprintf(al.organization_id, sizeof al.organization_id, "%s", ev->org_id);
    snprintf(al.metric, sizeof al.metric, "%s", ev->metric);
    alerts_month_of(ev->at, al.month);
    al.threshold = ev->threshold;
    al.used = ev->used;
    al.limit = ev->limit;
    al.created_at = ev->at;
    if (store_control_alert_add(a->cfg.control, &al, &created, &err) < 0) {
        log_warn("usage alert of %s not recorded: %s", ev->org_id, err.message);
        return;
    }
    if (!created || store_control_org_get(a->cfg.control, ev->org_id, &o, &found, &err) < 0 || !found) return;
    log_info("organization %s reached %d%% of its %s quota", ev->org_id, ev->threshold, ev->metric);
    alert_mail(a, &o, &al);
    alert_deliveries(a, &o, &al);
}

/* ---- delivering ---- */

static size_t discard(char *data, size_t size, size_t n, void *arg)
{
    (void)data;
    (void)arg;
    return size * n;
}

/* ---- where webhooks may go (SSRF) ---- */

/* 1 when host (as in a URL: an IPv6 literal in brackets) names this machine or an internal address. */
static int host_internal(const char *host)
{
    char ip[64];
    size_t n = strlen(host);
    if (!strcasecmp(host, "localhost") || !strcasecmp(host, "localhost.") ||
        (n > 10 && (!strcasecmp(host + n - 10, ".localhost") || !strcasecmp(host + n - 11, ".localhost."))))
        return 1;
    if (host[0] == '[' && n >= 2 && n - 2 < sizeof ip) snprintf(ip, sizeof ip, "%.*s", (int)(n - 2), host + 1);
    else if (n < sizeof ip) snprintf(ip, sizeof ip, "%s", host);
    else return 0; /* too long for an address: a name, vetted when connecting */
    if (netrules_ip_valid(ip) && !strchr(ip, '/')) return netrules_ip_internal(ip);
    struct in_addr v4; /* the inet_aton forms ("2130706433", "0x7f.1", "127.1") are addresses to resolvers too */
    return inet_aton(ip, &v4) && netrules_addr_internal((const unsigned char *)&v4, 0);
}

int alerts_webhook_url_allowed(int allow_private, const char *url)
{
    if (allow_private) return 1;
    CURLU *u = curl_url();
    char *host = NULL;
    int ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK && curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
             !host_internal(host);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

typedef struct vetting {
    int allow_private;
    int refused; /* some address was not connected to */
} vetting;

static int sockaddr_internal(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) return netrules_addr_internal((const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr, 0);
    if (sa->sa_family == AF_INET6) return netrules_addr_internal(((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr, 1);
    return 1;
}

/* curl's socket opener: the address curl is about to connect to, after its own resolution, is vetted
 * here, so a name that resolves (or re-resolves) to an internal address gets no connection. */
static curl_socket_t open_vetted(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    vetting *v = arg;
    (void)purpose;
    if (!v->allow_private && sockaddr_internal(&a->addr)) {
        v->refused = 1;
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

/* POSTs the payload; the receiver's status (0 when it did not answer) and a reason into d. A URL whose
 * addresses are internal fails at once (no retries): see alerts_webhook_url_allowed. */
static void deliver(alerts *a, store_delivery *d, int64_t now)
{
    char secret[ALERTS_SECRET_HEX], sig[200], header[256];
    alerts_webhook_secret(a->cfg.master_key, d->project_id, secret);
    signature(secret, now / 1000, d->payload, sig, sizeof sig);
    snprintf(header, sizeof header, "Basalt-Signature: %s", sig);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, header);
    h = curl_slist_append(h, "User-Agent: Basalt-Webhooks/1");
    CURL *e = alerts_webhook_url_allowed(a->cfg.allow_private_webhooks, d->url) ? curl_easy_init() : NULL;
    long status = 0;
    CURLcode rc = CURLE_FAILED_INIT;
    vetting vet = {a->cfg.allow_private_webhooks, e == NULL};
    if (e) {
        curl_easy_setopt(e, CURLOPT_URL, d->url);
        curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_vetted);
        curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, &vet);
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(e, CURLOPT_PROXY, ""); /* no proxy from the environment: it would connect for us */
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, d->payload);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(e, CURLOPT_TIMEOUT, DELIVERY_TIMEOUT_S);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        rc = curl_easy_perform(e);
        if (rc == CURLE_OK) curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(e);
    }
    curl_slist_free_all(h);
    d->attempts++;
    d->last_status = (int)status;
    d->updated_at = now;
    if (status >= 200 && status < 300) {
        snprintf(d->status, sizeof d->status, "delivered");
        d->last_error[0] = '\0';
        return;
    }
    if (vet.refused && status == 0) {
        snprintf(d->last_error, sizeof d->last_error, "refused: the URL points to a private, loopback or link-local address");
        snprintf(d->status, sizeof d->status, "failed");
        return;
    }
    if (rc != CURLE_OK) snprintf(d->last_error, sizeof d->last_error, "%s", curl_easy_strerror(rc));
    else snprintf(d->last_error, sizeof d->last_error, "the receiver answered %ld", status);
    int64_t backoff = 1000LL << (d->attempts - 1 < 22 ? d->attempts - 1 : 22);
    d->next_at = now + (backoff < DELIVERY_BACKOFF_MAX_MS ? backoff : DELIVERY_BACKOFF_MAX_MS);
    if (d->next_at - d->created_at > DELIVERY_WINDOW_MS) snprintf(d->status, sizeof d->status, "failed");
}

static void deliver_due(alerts *a)
{
    store_delivery *due = calloc(DELIVERIES_PER_PASS, sizeof *due);
    size_t n = 0;
    bs_err err;
    int64_t now = clock_now_ms();
    if (!due || store_control_deliveries_due(a->cfg.control, now, due, DELIVERIES_PER_PASS, &n, &err) < 0) n = 0;
    for (size_t i = 0; i < n; i++) {
        deliver(a, &due[i], now);
        if (store_control_delivery_update(a->cfg.control, &due[i], &err) < 0) log_warn("webhook delivery not updated: %s", err.message);
    }
    free(due);
}

/* ---- the worker ---- */

void alerts_raise(alerts *a, const char *org_id, const char *metric, int threshold, int64_t used, int64_t limit, int64_t now)
{
    if (!a) return;
    pthread_mutex_lock(&a->lock);
    if (a->count < ALERT_QUEUE_MAX) {
        alert_event *ev = &a->queue[(a->head + a->count++) % ALERT_QUEUE_MAX];
        snprintf(ev->org_id, sizeof ev->org_id, "%s", org_id);
        snprintf(ev->metric, sizeof ev->metric, "%s", metric);
        ev->threshold = threshold;
        ev->used = used;
        ev->limit = limit;
        ev->at = now;
    } else {
        log_warn("usage alert queue full: %s %d%% of %s dropped", org_id, threshold, metric);
    }
    pthread_mutex_unlock(&a->lock);
    if (a->worker) ticker_wake(a->worker); /* recorded and sent at once, not at the next interval */
}

/* Takes the queued events out (the caller owns the copy). */
static int take_events(alerts *a, alert_event *out)
{
    int n = 0;
    while (a->count > 0) {
        out[n++] = a->queue[a->head];
        a->head = (a->head + 1) % ALERT_QUEUE_MAX;
        a->count--;
    }
    return n;
}

void alerts_run_once(alerts *a)
{
    alert_event *events = malloc(ALERT_QUEUE_MAX * sizeof *events);
    if (!events) return;
    pthread_mutex_lock(&a->lock);
    int n = take_events(a, events);
    pthread_mutex_unlock(&a->lock);
    for (int i = 0; i < n; i++) alert_record(a, &events[i]);
    free(events);
    if (jobs_lease_held(a->cfg.lease, NULL)) deliver_due(a);
}

static void worker_tick(void *arg) { alerts_run_once(arg); }

alerts *alerts_new(const alerts_config *cfg)
{
    alerts *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->cfg = *cfg;
    if (a->cfg.interval_ms <= 0) a->cfg.interval_ms = 1000;
    pthread_mutex_init(&a->lock, NULL);
    if (!(a->worker = ticker_new(a->cfg.interval_ms, 0, worker_tick, a))) log_warn("usage alert worker not started: alerts are recorded at shutdown only");
    return a;
}

void alerts_free(alerts *a)
{
    if (!a) return;
    ticker_free(a->worker);
    pthread_mutex_lock(&a->lock);
    int left = a->count;
    pthread_mutex_unlock(&a->lock);
    if (left) alerts_run_once(a); /* nothing raised is lost on a graceful stop */
    pthread_mutex_destroy(&a->lock);
    free(a);
}
