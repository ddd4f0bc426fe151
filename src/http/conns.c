#include "http/conns.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/ticker.h"

#define SWEEP_MS 250
#define RESERVE_MIN_WAIT_US (1000 * 1000) /* a connection younger than this is never cut for the reserve */
#define HTTP_LINGER_MS 5000               /* how long an early-answered connection is drained */
#define LINGER_MAX 1024                   /* connections lingering at once; more are closed at once */
#define LINGER_DRAIN_MAX (1024 * 1024)    /* bytes drained from one lingering connection per sweep */

typedef struct linger_fd {
    int fd;
    int64_t until_us;
} linger_fd;

struct http_conns {
    pthread_mutex_t lock;              /* the list, the lingering fds */
    ticker *sweeper;
    http_conn *head;
    long open;
    int64_t timeout_us;
    long max_open;                     /* max_connections - reserve; 0: no reserve */
    linger_fd lingering[LINGER_MAX];
    int nlinger;
};

static void conn_cut(http_conn *c, const char *why)
{
    if (c->cut) return;
    c->cut = 1;
    shutdown(c->fd, SHUT_RDWR); /* libmicrohttpd sees the end of the stream and closes it on its thread */
    log_debug("closing connection fd %d: %s", c->fd, why);
}

/* When the awaited head started arriving: the wait's start for the first request; for a later one the
 * time of the first data seen after the wait began (TCP_INFO), 0 while none came. */
static int64_t head_start(http_conn *c, int64_t wait, int64_t now)
{
    if (atomic_load(&c->first)) return wait;
    if (c->seen_wait_us != wait) {
        c->seen_wait_us = wait;
        c->head_seen_us = 0;
    }
    if (c->head_seen_us) return c->head_seen_us;
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    if (getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0) return 0;
    int64_t last_recv = now - (int64_t)ti.tcpi_last_data_recv * 1000;
    if (last_recv > wait + 5000) c->head_seen_us = last_recv; /* 5 ms: the clock tick of last_data_recv */
    return c->head_seen_us;
}

static void sweep_deadlines(http_conns *cs, int64_t now)
{
    for (http_conn *c = cs->head; c; c = c->next) {
        int64_t wait = atomic_load(&c->wait_since_us);
        if (!wait || c->cut) continue;
        int64_t start = head_start(c, wait, now);
        if (start && now - start > cs->timeout_us) conn_cut(c, "request head not complete in time");
    }
}

/* Cuts the connections that waited longest for a head until the reserve is free. */
static void keep_reserve(http_conns *cs, int64_t now)
{
    long excess = cs->open - cs->max_open;
    for (; excess > 0; excess--) {
        http_conn *oldest = NULL;
        int64_t oldest_wait = now - RESERVE_MIN_WAIT_US;
        for (http_conn *c = cs->head; c; c = c->next) {
            int64_t wait = atomic_load(&c->wait_since_us);
            if (wait && !c->cut && wait <= oldest_wait) {
                oldest = c;
                oldest_wait = wait;
            }
        }
        if (!oldest) return;
        conn_cut(oldest, "connection reserve");
    }
}

/* Reads and drops what lingering clients still send; closes them at EOF, on error or at their time. */
static void sweep_lingering(http_conns *cs, int64_t now)
{
    char buf[16384];
    for (int i = 0; i < cs->nlinger;) {
        linger_fd *l = &cs->lingering[i];
        int done = now >= l->until_us;
        for (size_t drained = 0; !done && drained < LINGER_DRAIN_MAX;) {
            ssize_t n = recv(l->fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0) drained += (size_t)n;
            else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) done = 1;
            else break;
        }
        if (!done) { i++; continue; }
        close(l->fd);
        *l = cs->lingering[--cs->nlinger];
    }
}

/* The ticker's work, every SWEEP_MS: cut slow heads, keep the reserve, close lingering sockets. */
static void sweep(void *arg)
{
    http_conns *cs = arg;
    pthread_mutex_lock(&cs->lock);
    int64_t now = clock_mono_us();
    if (cs->timeout_us) sweep_deadlines(cs, now);
    if (cs->max_open) keep_reserve(cs, now);
    sweep_lingering(cs, now);
    pthread_mutex_unlock(&cs->lock);
}

http_conns *http_conns_new(unsigned header_timeout_s, unsigned max_connections, unsigned reserve)
{
    http_conns *cs = calloc(1, sizeof *cs);
    if (!cs) return NULL;
    cs->timeout_us = (int64_t)header_timeout_s * 1000000;
    if (reserve) cs->max_open = reserve < max_connections ? (long)(max_connections - reserve) : 1;
    pthread_mutex_init(&cs->lock, NULL);
    if (!(cs->sweeper = ticker_new(SWEEP_MS, 0, sweep, cs))) {
        pthread_mutex_destroy(&cs->lock);
        free(cs);
        return NULL;
    }
    return cs;
}

void http_conns_free(http_conns *cs)
{
    if (!cs) return;
    ticker_free(cs->sweeper);
    for (int i = 0; i < cs->nlinger; i++) close(cs->lingering[i].fd);
    pthread_mutex_destroy(&cs->lock);
    free(cs);
}

http_conn *http_conns_open(http_conns *cs, int fd)
{
    http_conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->fd = fd;
    atomic_store(&c->wait_since_us, clock_mono_us());
    atomic_store(&c->first, 1);
    pthread_mutex_lock(&cs->lock);
    c->next = cs->head;
    if (cs->head) cs->head->prev = c;
    cs->head = c;
    cs->open++;
    if (cs->max_open && cs->open > cs->max_open) keep_reserve(cs, clock_mono_us());
    pthread_mutex_unlock(&cs->lock);
    return c;
}

/* Keeps a duplicate of fd open, half-closed, for the sweeper to drain (under cs->lock). */
static void linger_start(http_conns *cs, int fd)
{
    int dup_fd = cs->nlinger < LINGER_MAX ? dup(fd) : -1;
    if (dup_fd < 0) return;
    shutdown(dup_fd, SHUT_WR); /* the answer is followed by FIN, as if closed */
    cs->lingering[cs->nlinger++] = (linger_fd){dup_fd, clock_mono_us() + (int64_t)HTTP_LINGER_MS * 1000};
}

void http_conns_close(http_conns *cs, http_conn *c)
{
    pthread_mutex_lock(&cs->lock);
    if (c->prev) c->prev->next = c->next;
    else cs->head = c->next;
    if (c->next) c->next->prev = c->prev;
    cs->open--;
    if (c->linger && !c->cut) linger_start(cs, c->fd);
    pthread_mutex_unlock(&cs->lock);
    free(c);
}

void http_conn_busy(http_conn *c)
{
    atomic_store(&c->first, 0);
    atomic_store(&c->wait_since_us, 0);
}

void http_conn_idle(http_conn *c)
{
    atomic_store(&c->wait_since_us, clock_mono_us());
}
