#include "http/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "http/conns.h"
#include "http/exchange.h"
#include "util/check.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/json.h"
#include "util/log.h"

/* Bytes of a refused body read and dropped before answering (see exchange_body). */
#define HTTP_STOP_WAIT_MS 30000 /* the stop waits this long for suspended requests to finish */
#define HTTP_DISCARD_MAX (16u * 1024 * 1024)

struct http_server {
    struct MHD_Daemon *daemon;
    http_router *router;
    http_metrics *metrics;
    http_conns *conns;          /* every open connection: header deadline, reserve, lingering close */
    http_server_config cfg;
    uint16_t port;
    _Atomic long inflight;
    _Atomic int draining;
    _Atomic int stopping;            /* http_server_free began: no connection is suspended any more */
    _Atomic long suspending;         /* exchanges that suspended (or are about to) and have not finished */
    MHD_socket quiesced_fd;   /* the listening socket handed back by quiesce, closed after the stop */
};

void http_server_config_defaults(http_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->listen = "127.0.0.1:8080";
    cfg->max_connections = 4096;
    cfg->idle_timeout_s = 60;
    cfg->header_memory = 64 * 1024;
    cfg->header_timeout_s = 10;
    cfg->max_per_ip = 1024;
    cfg->connection_reserve = 256;
    cfg->max_body = 1024 * 1024;
    cfg->json_max_depth = JSON_DEFAULT_MAX_DEPTH;
    cfg->json_max_string = JSON_DEFAULT_MAX_STRING;
}

/* ---- request ids ---- */

static _Thread_local uint64_t rid_state[2];

static uint64_t rid_next(void)
{
    if (!rid_state[0] && !rid_state[1]) {
        if (crypto_random_bytes(rid_state, sizeof rid_state) < 0 || (!rid_state[0] && !rid_state[1]))
            rid_state[0] = (uint64_t)clock_mono_us() | 1;
    }
    uint64_t s1 = rid_state[0];
    const uint64_t s0 = rid_state[1];
    rid_state[0] = s0;
    s1 ^= s1 << 23;
    rid_state[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
    return rid_state[1] + s0;
}

static int request_id_valid(const char *id)
{
    size_t n = 0;
    for (; id[n]; n++) {
        char c = id[n];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                 c == '_' || c == '.';
        if (!ok || n >= HTTP_REQUEST_ID_MAX - 1) return 0;
    }
    return n > 0;
}

static void request_id_assign(http_req *req)
{
    const char *given = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "X-Request-Id");
    if (given && request_id_valid(given)) {
        snprintf(req->request_id, sizeof req->request_id, "%s", given);
        return;
    }
    uint64_t a = rid_next(), b = rid_next();
    snprintf(req->request_id, sizeof req->request_id, "%016llx%016llx", (unsigned long long)a,
             (unsigned long long)b);
}

static void client_ip_fill(http_req *req)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!info || !info->client_addr) return;
    const struct sockaddr *sa = info->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, req->client_ip, sizeof req->client_ip);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, req->client_ip,
                  sizeof req->client_ip);
}

/* ---- MHD callbacks ---- */

static void exchange_finish(http_server *server, http_req *req);

static http_conn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

/* libmicrohttpd would split the query into its own per-connection pool (a record per parameter), which
 * a long query of short parameters exhausts, and it then answers 431 in HTML or not at all. Basalt parses
 * the target itself (request.c), so the copy it parses is ended right after '?': libmicrohttpd sees an
 * empty query. The URI points into the connection's read buffer, which libmicrohttpd modifies next. */
static void hide_query_from_mhd(const char *uri)
{
    char *q = strchr(uri, '?');
    if (q) q[1] = '\0';
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    http_server *server = cls;
    http_conn *c = conn_of(conn);
    if (c && c->req) { /* an exchange libmicrohttpd dropped without completing it */
        exchange_finish(server, c->req);
        c->req = NULL;
    }
    http_req *req = calloc(1, sizeof *req);
    if (!req) return NULL;
    req->conn = conn;
    req->conn_state = c;
    req->start_us = clock_mono_us();
    req->target = strdup(uri ? uri : "/");
    req->res.fd = -1;
    if (!req->target) bs_err_internal(&req->early);
    if (uri) hide_query_from_mhd(uri);
    atomic_fetch_add(&server->inflight, 1);
    if (c) c->req = req;
    return req;
}

/* libmicrohttpd decodes chunked bodies only; with any other transfer coding it would read the body until
 * the connection closes. RFC 9112 §6.1: a coding the server does not understand is answered 501. */
static int check_transfer_encoding(http_req *req)
{
    const char *te = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    if (!te) return 0;
    if (strcasecmp(te, "chunked") == 0) {
        req->chunked = 1;
        return 0;
    }
    req->answer_now = 1;
    return bs_err_set(&req->early, 501, "common/not-implemented", "Transfer-Encoding '%.64s' is not supported (only chunked)", te);
}

/* First call: headers are known, no body yet. Route now so body limits and modes apply. */
static void exchange_begin(http_server *server, http_req *req, const char *method)
{
    req->method_name = method;
    req->method = exchange_method_parse(method);
    request_id_assign(req);
    client_ip_fill(req);
    req->body_limit = server->cfg.max_body;
    req->json_max_depth = server->cfg.json_max_depth;
    req->json_max_string = server->cfg.json_max_string;
    strbuf_init(&req->body, 0);
    strbuf_init(&req->res.body, 0);
    if (req->early.status) return;
    exchange_parse_target(req);
    if (req->early.status) return;
    http_method m = req->method == HTTP_OPTIONS ? HTTP_GET : req->method;
    if (http_router_match(server->router, m, req->segs, req->nseg, &req->match)) {
        const http_route *r = req->match.route;
        if (r->opts.max_body) req->body_limit = r->opts.max_body;
        if (exchange_bind_params(req) < 0) bs_err_internal(&req->early);
    }
    if (req->match.route && req->match.route->opts.body == HTTP_BODY_STREAM && !req->match.route->opts.max_body)
        req->body_limit = SIZE_MAX; /* the sink decides */
    req->body.max = req->body_limit;
    if (check_transfer_encoding(req) < 0) return;
    const char *cl = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
    if (declared > req->body_limit) {
        bs_err_set(&req->early, 413, "common/payload-too-large", "Request body is larger than %zu bytes", req->body_limit);
        /* A client waiting for "100 Continue" gets the refusal instead; one far over is not read. */
        req->answer_now = declared - req->body_limit > HTTP_DISCARD_MAX ||
                          MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT) != NULL;
    }
}

static int exchange_streams(const http_req *req)
{
    return req->match.route && req->match.route->opts.body == HTTP_BODY_STREAM && !req->early.status;
}

/* Body bytes. Returns 1 when an answer must go out now. After an error (limit exceeded, stream
 * refused) the rest of the body is read and dropped, up to HTTP_DISCARD_MAX bytes, so that the client
 * is not reset mid-send and reads the answer; past that the answer goes out and the connection closes. */
static int exchange_body(http_req *req, const char *data, size_t size)
{
    req->body_bytes += size;
    if (req->early.status) {
        req->discarded += size;
        return req->discarded > HTTP_DISCARD_MAX;
    }
    if (exchange_streams(req)) {
        const http_route *r = req->match.route;
        r->opts.on_chunk(req, data, size, r->data, &req->early);
        return 0;
    }
    if (req->body_bytes > req->body_limit || strbuf_append(&req->body, data, size) < 0) {
        bs_err_set(&req->early, 413, "common/payload-too-large", "Request body is larger than %zu bytes", req->body_limit);
        strbuf_release(&req->body);
        req->answer_now = req->chunked; /* no end in sight: answer now, the lingering close lets it be read */
    }
    return 0;
}

static void answer_preflight(http_req *req)
{
    http_res *res = &req->res;
    res->status = 204;
    const char *asked = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Access-Control-Request-Headers");
    http_res_header(res, "Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS");
    http_res_header(res, "Access-Control-Allow-Headers",
                    asked && strlen(asked) < 1024 ? asked
                                                   : "Content-Type, X-API-Key, Authorization, X-Request-Id, If-Match, If-None-Match");
    http_res_header(res, "Access-Control-Max-Age", "86400");
}

static enum MHD_Result queue_answer(http_server *server, http_req *req);

static void check_status(http_req *req)
{
    http_res *res = &req->res;
    if (res->status >= 100 && res->status <= 599) return;
    log_error("handler for %s left no status", req->match.route ? req->match.route->pattern : "?");
    http_res_error(res, 500, "common/internal-error", "Internal server error");
}

void http_req_defer(http_req *req)
{
    if (req->deferred) return;
    pthread_mutex_init(&req->defer_lock, NULL);
    req->deferred = 1;
}

void http_req_resume(http_req *req)
{
    BS_ASSERT(req->deferred); /* only a deferred answer is handed back */
    pthread_mutex_lock(&req->defer_lock);
    BS_ASSERT(!req->defer_done); /* and only once: a second resume would touch a freed exchange */
    req->defer_done = 1;
    struct MHD_Connection *conn = req->suspended ? req->conn : NULL;
    pthread_mutex_unlock(&req->defer_lock);
    /* Outside the lock: once resumed, a worker answers and frees req (and its lock) at once. While
     * suspended, nothing else can free it, so conn is still good here. */
    if (conn) MHD_resume_connection(conn); /* MHD calls on_request again, which answers */
}

/* After a handler deferred: suspend the connection unless the answer is already there (resume and
 * suspend are ordered by defer_lock, so a fast completion never resumes a connection not suspended). */
/* While the server stops, a deferred answer is waited for on the worker thread instead: libmicrohttpd
 * aborts when it is stopped with a connection suspended, and a keep-alive connection may bring a request
 * after the drain. (suspending is counted before stopping is read, and stopping set before suspending is
 * read, so either this request waits here or the stop waits for it.) */
static enum MHD_Result after_defer(http_server *server, http_req *req)
{
    atomic_fetch_add(&server->suspending, 1);
    int stopping = atomic_load(&server->stopping);
    pthread_mutex_lock(&req->defer_lock);
    BS_ASSERT(!req->suspended); /* a connection is suspended once per deferred answer */
    int done = req->defer_done;
    while (stopping && !done) {
        pthread_mutex_unlock(&req->defer_lock);
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&req->defer_lock);
        done = req->defer_done;
    }
    if (!done) {
        MHD_suspend_connection(req->conn);
        req->suspended = 1;
        req->state = EXCHANGE_SUSPENDED;
    }
    pthread_mutex_unlock(&req->defer_lock);
    if (!done) return MHD_YES; /* suspending stays counted until the exchange finishes */
    atomic_fetch_sub(&server->suspending, 1);
    check_status(req);
    return queue_answer(server, req);
}

static void dispatch(http_server *server, http_req *req)
{
    http_res *res = &req->res;
    if (!req->early.status && req->method == HTTP_OPTIONS) {
        answer_preflight(req);
        return;
    }
    if (!req->early.status && !req->match.route) {
        if (req->match.allowed) {
            char allow[128];
            http_methods_format(req->match.allowed | HTTP_OPTIONS, allow, sizeof allow);
            http_res_header(res, "Allow", allow);
            bs_err_set(&req->early, 405, "common/method-not-allowed", "Method %s is not allowed here", req->method_name);
        } else {
            bs_err_set(&req->early, 404, "common/not-found", "No route for %s %s", req->method_name,
                       req->path ? req->path : "/");
        }
    }
    if (!req->early.status && req->match.route->opts.body == HTTP_BODY_JSON && !req->match.route->opts.json_by_handler)
        http_req_parse_json(req, &req->early);
    if (req->early.status) {
        http_res_error_from(res, &req->early);
        return;
    }
    const http_route *route = req->match.route;
    route->handler(req, res, route->data);
    if (!req->deferred) check_status(req);
}

static void add_common_headers(http_server *server, http_req *req, struct MHD_Response *mr)
{
    http_res *res = &req->res;
    if (res->fd >= 0 || res->reader || res->body.len || (res->status != 204 && res->status != 304))
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
                                res->content_type[0] ? res->content_type : "application/json; charset=utf-8");
    MHD_add_response_header(mr, "X-Request-Id", req->request_id);
    const char *origin = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Origin");
    if (origin && strlen(origin) < 512 && !res->no_cors) {
        int has_acao = 0;
        for (int i = 0; i < res->nheaders; i++)
            if (strcasecmp(res->headers[i].name, "Access-Control-Allow-Origin") == 0) has_acao = 1;
        if (!has_acao) {
            MHD_add_response_header(mr, "Access-Control-Allow-Origin", origin);
            MHD_add_response_header(mr, "Vary", "Origin");
            MHD_add_response_header(mr, "Access-Control-Expose-Headers",
                                    "ETag, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-Request-Id");
        }
    }
    for (int i = 0; i < res->nheaders; i++)
        MHD_add_response_header(mr, res->headers[i].name, res->headers[i].value);
    if (atomic_load(&server->draining)) MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION, "close");
}

/* The response reader of http_res_stream: its reader and arg travel together (the response owns them). */
typedef struct stream_box {
    http_res_reader reader;
    void *arg;
    void (*free_fn)(void *arg);
} stream_box;

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    stream_box *box = cls;
    long n = box->reader(box->arg, pos, buf, max);
    return n > 0 ? (ssize_t)n : n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void stream_free(void *cls)
{
    stream_box *box = cls;
    if (box->free_fn) box->free_fn(box->arg);
    free(box);
}

static enum MHD_Result queue_answer(http_server *server, http_req *req)
{
    http_res *res = &req->res;
    struct MHD_Response *mr;
    if (res->fd >= 0) {
        mr = MHD_create_response_from_fd_at_offset64(res->fd_size, res->fd, res->fd_offset);
        if (mr) res->fd = -1; /* the response owns it now */
        req->bytes_out = res->fd_size;
    } else if (res->reader) {
        stream_box *box = malloc(sizeof *box);
        mr = NULL;
        if (box) {
            *box = (stream_box){res->reader, res->reader_arg, res->reader_free};
            mr = MHD_create_response_from_callback(res->fd_size, 64 * 1024, stream_read, box, stream_free);
            if (mr) res->reader_free = NULL; /* the response frees it now */
            else free(box);
        }
        req->bytes_out = res->fd_size;
    } else {
        size_t len = res->body.len;
        char *body = len ? strbuf_steal(&res->body, &len) : NULL;
        mr = MHD_create_response_from_buffer(len, body, body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
        if (!mr) free(body);
        req->bytes_out = len;
    }
    req->state = EXCHANGE_DONE;
    if (!mr) return MHD_NO;
    add_common_headers(server, req, mr);
    enum MHD_Result rc = MHD_queue_response(req->conn, (unsigned)res->status, mr);
    MHD_destroy_response(mr);
    return rc;
}

/* An answer that goes out before the body was read: the connection closes after it, lingering. */
static enum MHD_Result answer_early(http_server *server, http_req *req)
{
    if (req->conn_state) req->conn_state->linger = 1;
    http_res_error_from(&req->res, &req->early);
    return queue_answer(server, req);
}

/* The error answer in the middle of a body, where libmicrohttpd 0.9.75 queues no response (it accepts one
 * only before the body or after all of it): written on the socket here (nothing else is being sent on
 * it), then the connection is closed, lingering, so that a client still sending reads it. */
static enum MHD_Result answer_raw(http_req *req)
{
    http_res_error_from(&req->res, &req->early);
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    const char *origin = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Origin");
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\nX-Request-Id: %s\r\n"
                     "%s%s%s"
                     "Connection: close\r\nContent-Length: %zu\r\n\r\n",
                     req->res.status, MHD_get_reason_phrase_for((unsigned)req->res.status), req->request_id,
                     origin && strlen(origin) < 512 ? "Access-Control-Allow-Origin: " : "",
                     origin && strlen(origin) < 512 ? origin : "", origin && strlen(origin) < 512 ? "\r\nVary: Origin\r\n" : "",
                     req->res.body.len);
    if (info && n > 0 && (size_t)n < sizeof head) {
        struct iovec iov[2] = {{head, (size_t)n}, {req->res.body.data, req->res.body.len}};
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
        if (sendmsg(info->connect_fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) > 0) req->bytes_out = req->res.body.len;
    }
    req->state = EXCHANGE_DONE;
    if (req->conn_state) req->conn_state->linger = 1;
    return MHD_NO; /* libmicrohttpd closes the connection */
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    http_server *server = cls;
    http_req *req = *con_cls;
    if (!req) return MHD_NO; /* out of memory in on_uri */
    if (req->state == EXCHANGE_NEW) {
        /* Reply on a later call: queueing now would drop keep-alive in this libmicrohttpd version. */
        if (req->conn_state) http_conn_busy(req->conn_state);
        exchange_begin(server, req, method);
        req->state = EXCHANGE_BODY;
        if (req->answer_now) return answer_early(server, req);
        return MHD_YES;
    }
    if (req->state == EXCHANGE_DONE) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->state == EXCHANGE_SUSPENDED) { /* resumed: the deferred answer is ready */
        *upload_data_size = 0;
        check_status(req);
        return queue_answer(server, req);
    }
    if (*upload_data_size) {
        int stop = exchange_body(req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        if (stop || req->answer_now) return answer_raw(req);
        return MHD_YES;
    }
    if (exchange_streams(req)) req->match.route->opts.on_chunk(req, NULL, 0, req->match.route->data, &req->early);
    dispatch(server, req);
    if (req->deferred) return after_defer(server, req);
    return queue_answer(server, req);
}

static void access_log(const http_req *req, int status, int64_t micros)
{
    if (!log_enabled(LOG_INFO)) return;
    char members[1024];
    strbuf sb;
    strbuf_init_stack(&sb, members, sizeof members);
    strbuf_appendf(&sb, "\"id\":\"%s\",\"method\":", req->request_id);
    const char *m = req->method_name ? req->method_name : "-";
    strbuf_append_json_string(&sb, m, strlen(m));
    const char *route = req->match.route ? req->match.route->pattern : "unmatched";
    strbuf_append_str(&sb, ",\"route\":");
    strbuf_append_json_string(&sb, route, strlen(route));
    strbuf_append_str(&sb, ",\"path\":");
    const char *p = req->path ? req->path : "-";
    strbuf_append_json_string(&sb, p, strlen(p) > 256 ? 256 : strlen(p));
    strbuf_appendf(&sb, ",\"status\":%d,\"bytes\":%llu,\"us\":%lld,\"ip\":\"%s\"", status,
                   (unsigned long long)req->bytes_out, (long long)micros, req->client_ip);
    log_fields(LOG_INFO, "request", sb.data);
    strbuf_release(&sb);
}

static void done_notify(const http_req *req, int status, int64_t micros)
{
    const http_route *r = req->match.route;
    http_done_info info = {.route_id = r ? r->id : -1, .route = r ? r->pattern : "", .method = req->method_name,
                           .status = status, .micros = micros, .bytes_out = req->bytes_out};
    req->on_done(req->on_done_arg, &info);
}

/* Logs, counts and frees an exchange; status 499 when no answer went out (the client went away first,
 * or libmicrohttpd ended the request itself). */
static void exchange_finish(http_server *server, http_req *req)
{
    int status = req->state == EXCHANGE_DONE ? req->res.status : 499;
    int64_t micros = clock_mono_us() - req->start_us;
    if (req->method_name) {
        http_metrics_record(server->metrics, req->match.route ? req->match.route->id : -1, status, micros,
                            req->bytes_out);
        access_log(req, status, micros);
        if (req->on_done) done_notify(req, status, micros);
    }
    if (req->suspended) atomic_fetch_sub(&server->suspending, 1);
    exchange_free(req);
    atomic_fetch_sub(&server->inflight, 1);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    http_server *server = cls;
    http_req *req = *con_cls;
    if (!req) return;
    *con_cls = NULL;
    http_conn *c = req->conn_state;
    if (c && c->req == req) {
        c->req = NULL;
        http_conn_idle(c);
    }
    exchange_finish(server, req);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    http_server *server = cls;
    http_metrics_connection(server->metrics, toe == MHD_CONNECTION_NOTIFY_STARTED ? 1 : -1);
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = info ? http_conns_open(server->conns, info->connect_fd) : NULL; /* NULL: untracked */
        return;
    }
    http_conn *c = *socket_context;
    *socket_context = NULL;
    if (!c) return;
    if (c->req) exchange_finish(server, c->req); /* libmicrohttpd closed without completing it */
    http_conns_close(server->conns, c);
}

__attribute__((format(printf, 2, 0)))
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) msg[--n] = '\0';
    log_debug("libmicrohttpd: %s", msg);
}

/* Parses "HOST:PORT", "[V6]:PORT" or ":PORT" into a socket address. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len, int *v6, bs_err *err)
{
    char host[128];
    const char *colon = strrchr(listen, ':');
    size_t hlen = colon ? (size_t)(colon - listen) : 0;
    if (!colon || hlen >= sizeof host)
        return bs_err_set(err, 400, "config/invalid", "--listen wants ADDR:PORT, got '%s'", listen);
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || colon[1] == '\0' || port < 0 || port > 65535)
        return bs_err_set(err, 400, "config/invalid", "--listen has a bad port in '%s'", listen);
    memcpy(host, listen, hlen);
    host[hlen] = '\0';
    memset(ss, 0, sizeof *ss);
    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
        host[hlen - 1] = '\0';
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
            return bs_err_set(err, 400, "config/invalid", "--listen has a bad IPv6 address in '%s'", listen);
        *len = sizeof *a;
        *v6 = 1;
        return 0;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (hlen == 0 || strcmp(host, "0.0.0.0") == 0) a->sin_addr.s_addr = htonl(INADDR_ANY);
    else if (strcmp(host, "localhost") == 0) a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
        return bs_err_set(err, 400, "config/invalid", "--listen has a bad IPv4 address in '%s'", listen);
    *len = sizeof *a;
    *v6 = 0;
    return 0;
}

/* Two per core: handlers block on the database (a write waits for its group commit, a read for a page
 * fault), and a connection stays on the thread that accepted it, so one thread per core leaves cores
 * idle; more than two per core stretches tail latency (BENCHMARKS.md, data API group commit). */
static unsigned default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 && n < 128 ? 2 * (unsigned)n : 4;
}

http_server *http_server_new(const http_server_config *cfg, http_router *router, http_metrics *metrics,
                             bs_err *err)
{
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    int v6 = 0;
    if (parse_listen(cfg->listen, &ss, &sslen, &v6, err) < 0) return NULL;
    http_server *server = calloc(1, sizeof *server);
    if (!server) { bs_err_internal(err); return NULL; }
    server->cfg = *cfg;
    server->quiesced_fd = MHD_INVALID_SOCKET;
    server->router = router;
    server->metrics = metrics;
    server->conns = http_conns_new(cfg->header_timeout_s, cfg->max_connections, cfg->connection_reserve);
    if (!server->conns) {
        free(server);
        bs_err_internal(err);
        return NULL;
    }
    unsigned threads = cfg->threads ? cfg->threads : default_threads();
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_TURBO | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME;
    if (v6) flags |= MHD_USE_IPv6;
    server->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, server,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, server,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, threads > 1 ? threads : 0,
        MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->idle_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->header_memory,
        /* no MHD_OPTION_LISTENING_ADDRESS_REUSE: libmicrohttpd's default (SO_REUSEADDR, a restart binds at once)
         * without SO_REUSEPORT, so a second server on a port in use fails instead of sharing its connections */
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, server,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, server,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, server,
        MHD_OPTION_END);
    if (!server->daemon) {
        http_conns_free(server->conns);
        free(server);
        bs_err_set(err, 500, "server/listen-failed", "Cannot listen on %s (address in use or not permitted)", cfg->listen);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);
    server->port = info ? info->port : 0;
    return server;
}

uint16_t http_server_port(const http_server *server)
{
    return server->port;
}

void http_server_quiesce(http_server *server)
{
    atomic_store(&server->draining, 1);
    MHD_socket fd = MHD_quiesce_daemon(server->daemon);
    if (fd == MHD_INVALID_SOCKET) return;
    /* The worker threads drop the socket from their epoll sets a moment later, so closing it here would
     * race with them (and could hand its number to a new file they then touch): stop new connections
     * now with shutdown() and close the descriptor once the daemon has stopped. */
    shutdown(fd, SHUT_RDWR);
    server->quiesced_fd = fd;
}

long http_server_inflight(const http_server *server)
{
    return atomic_load(&((http_server *)server)->inflight);
}

long http_server_drain(http_server *server, int timeout_ms)
{
    int64_t deadline = clock_mono_us() + (int64_t)timeout_ms * 1000;
    long n;
    while ((n = atomic_load(&server->inflight)) > 0 && clock_mono_us() < deadline) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return n;
}

/* Stops suspending connections and waits (at most HTTP_STOP_WAIT_MS) for the suspended ones to finish: 1
 * when none is left. */
static int suspended_gone(http_server *server)
{
    atomic_store(&server->stopping, 1);
    int64_t deadline = clock_mono_us() + (int64_t)HTTP_STOP_WAIT_MS * 1000;
    while (atomic_load(&server->suspending) > 0 && clock_mono_us() < deadline) {
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return atomic_load(&server->suspending) == 0;
}

void http_server_free(http_server *server)
{
    if (!server) return;
    if (server->daemon && !suspended_gone(server)) {
        /* a deferred answer never came: stopping the daemon now would abort the process */
        log_error("http: %ld suspended requests did not finish within %d ms; leaving without stopping the server",
                  (long)atomic_load(&server->suspending), HTTP_STOP_WAIT_MS);
        return;
    }
    if (server->daemon) MHD_stop_daemon(server->daemon);
    if (server->quiesced_fd != MHD_INVALID_SOCKET) close(server->quiesced_fd);
    http_conns_free(server->conns); /* after the daemon: closing connections still report to it */
    free(server);
}
