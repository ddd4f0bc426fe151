#include "core/mailer.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/keys.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/strbuf.h"

#define MAILER_QUEUE_MAX 1024
#define MAILER_ATTEMPTS 3

typedef struct queued {
    store_mail mail;
    struct queued *next;
} queued;

struct mailer {
    store_control *store;
    char *smtp_url, *from;
    pthread_t thread;
    int running, stop;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    queued *head, *tail;
    int queued_count;
};

/* ---- SMTP through libcurl ---- */

typedef struct upload {
    const char *data;
    size_t len, at;
} upload;

static size_t read_cb(char *buf, size_t size, size_t n, void *arg)
{
    upload *u = arg;
    size_t want = size * n, left = u->len - u->at;
    if (want > left) want = left;
    memcpy(buf, u->data + u->at, want);
    u->at += want;
    return want;
}

/* The RFC 5322 message: headers, then the body with CRLF line ends (libcurl dot-stuffs it). */
static void message_text(const mailer *m, const store_mail *mail, strbuf *out)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    strbuf_appendf(out, "Date: %s\r\nFrom: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s@basalt>\r\n"
                        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
                   date, m->from, mail->to, mail->subject, mail->id);
    for (const char *p = mail->body; *p; p++) {
        if (*p == '\n' && (p == mail->body || p[-1] != '\r')) strbuf_append_char(out, '\r');
        strbuf_append_char(out, *p);
    }
    strbuf_append_str(out, "\r\n");
}

static int smtp_deliver(const mailer *m, const store_mail *mail, char *why, size_t why_size)
{
    strbuf text;
    strbuf_init(&text, 0);
    message_text(m, mail, &text);
    upload u = {text.data, text.len, 0};
    char to[sizeof mail->to + 2];
    snprintf(to, sizeof to, "<%s>", mail->to);
    char from[256];
    snprintf(from, sizeof from, "<%s>", m->from);
    CURL *c = curl_easy_init();
    struct curl_slist *rcpt = curl_slist_append(NULL, to);
    CURLcode rc = CURLE_FAILED_INIT;
    if (c && rcpt) {
        curl_easy_setopt(c, CURLOPT_URL, m->smtp_url);
        curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
        curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(c, CURLOPT_READDATA, &u);
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        rc = curl_easy_perform(c);
    }
    snprintf(why, why_size, "%s", curl_easy_strerror(rc));
    curl_slist_free_all(rcpt);
    if (c) curl_easy_cleanup(c);
    strbuf_release(&text);
    return rc == CURLE_OK ? 0 : -1;
}

static void deliver_with_retries(mailer *m, const store_mail *mail)
{
    static const int backoff_s[MAILER_ATTEMPTS] = {0, 1, 5};
    char why[256] = "";
    for (int i = 0; i < MAILER_ATTEMPTS; i++) {
        if (backoff_s[i]) sleep((unsigned)backoff_s[i]);
        if (smtp_deliver(m, mail, why, sizeof why) == 0) return;
    }
    log_error("mail %s to %s not delivered after %d attempts: %s", mail->id, mail->to, MAILER_ATTEMPTS, why);
}

static void *sender_main(void *arg)
{
    mailer *m = arg;
    pthread_mutex_lock(&m->lock);
    for (;;) {
        while (!m->head && !m->stop) pthread_cond_wait(&m->cond, &m->lock);
        if (!m->head) break;
        queued *q = m->head;
        m->head = q->next;
        if (!m->head) m->tail = NULL;
        m->queued_count--;
        pthread_mutex_unlock(&m->lock);
        deliver_with_retries(m, &q->mail);
        free(q);
        pthread_mutex_lock(&m->lock);
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

mailer *mailer_new(store_control *store, const char *smtp_url, const char *from, bs_err *err)
{
    mailer *m = calloc(1, sizeof *m);
    if (!m) { bs_err_internal(err); return NULL; }
    m->store = store;
    m->from = strdup(from && *from ? from : "no-reply@localhost");
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->cond, NULL);
    if (smtp_url && *smtp_url) {
        m->smtp_url = strdup(smtp_url);
        if (!m->smtp_url || pthread_create(&m->thread, NULL, sender_main, m) != 0) {
            bs_err_set(err, 500, "config/invalid", "cannot start the SMTP sender");
            mailer_free(m);
            return NULL;
        }
        m->running = 1;
    }
    return m;
}

void mailer_free(mailer *m)
{
    if (!m) return;
    if (m->running) {
        pthread_mutex_lock(&m->lock);
        m->stop = 1;
        pthread_cond_signal(&m->cond);
        pthread_mutex_unlock(&m->lock);
        pthread_join(m->thread, NULL);
    }
    pthread_mutex_destroy(&m->lock);
    pthread_cond_destroy(&m->cond);
    free(m->smtp_url);
    free(m->from);
    free(m);
}

int mailer_send(mailer *m, store_mail *mail, bs_err *err)
{
    if (keys_new_id("mail", mail->id) < 0) return bs_err_internal(err);
    mail->created_at = clock_now_ms();
    if (!m->running) return store_control_outbox_add(m->store, mail, err);
    queued *q = malloc(sizeof *q);
    if (!q) return bs_err_internal(err);
    q->mail = *mail;
    q->next = NULL;
    pthread_mutex_lock(&m->lock);
    int full = m->queued_count >= MAILER_QUEUE_MAX;
    if (!full) {
        if (m->tail) m->tail->next = q; else m->head = q;
        m->tail = q;
        m->queued_count++;
        pthread_cond_signal(&m->cond);
    }
    pthread_mutex_unlock(&m->lock);
    if (full) {
        free(q);
        return bs_err_set(err, 503, "common/unavailable", "Too much mail waiting for delivery; retry later");
    }
    return 0;
}
