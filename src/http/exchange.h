/* exchange: the private layout of http_req and http_res, shared by the files of http/ only.
 * Nothing outside src/http/ includes this header. */
#ifndef BASALT_HTTP_EXCHANGE_H
#define BASALT_HTTP_EXCHANGE_H

#include <pthread.h>
#include <stdint.h>

#include "http/request.h"
#include "http/router.h"

struct MHD_Connection;

struct http_res {
    int status;
    char content_type[64];
    http_kv headers[HTTP_MAX_RES_HEADERS];
    int nheaders;
    strbuf body;
    int fd;                 /* >= 0: answer with this file instead of body */
    uint64_t fd_size, fd_offset;
    http_res_reader reader; /* not NULL: answer with what it produces (fd_size bytes, or unknown when UINT64_MAX) */
    void *reader_arg;
    void (*reader_free)(void *arg);
    int no_cors;            /* 1: no Access-Control-* headers (a refused origin) */
};

typedef enum exchange_state { EXCHANGE_NEW = 0, EXCHANGE_BODY, EXCHANGE_SUSPENDED, EXCHANGE_DONE } exchange_state;

struct http_conn;

struct http_req {
    struct MHD_Connection *conn;
    struct http_conn *conn_state; /* the server's per-connection record (NULL: untracked), borrowed */
    http_method method;
    const char *method_name;   /* borrowed from the server library */
    char *target;              /* raw request target as received (owned) */
    char *path;                /* decoded path (owned) */
    char *seg_buf;             /* decoded segments, NUL-separated (owned) */
    char *segs[HTTP_MAX_SEGMENTS];
    int nseg;
    http_kv query[HTTP_MAX_QUERY_PARAMS]; /* owned strings */
    size_t nquery;
    http_match match;
    char *params[HTTP_MAX_PATH_PARAMS];   /* owned, decoded */
    strbuf body;
    struct json_object *json;  /* owned */
    char request_id[HTTP_REQUEST_ID_MAX];
    char client_ip[48];
    int64_t start_us;
    http_done_fn on_done;      /* the layer above's completion callback (http_req_on_done), NULL: none */
    void *on_done_arg;
    exchange_state state;
    bs_err early;              /* an error found before dispatch; status 0 = none */
    size_t body_limit;
    uint64_t body_bytes;
    uint64_t discarded;        /* body bytes dropped after an error */
    int answer_now;            /* the error must go out before the body is read */
    int chunked;               /* Transfer-Encoding: chunked (no Content-Length, no end known) */
    uint64_t bytes_out;
    int draining;              /* answer with Connection: close */
    int json_parsed;           /* http_req_parse_json ran */
    bs_err json_err;           /* what it found wrong, status 0 = nothing */
    int json_max_depth;
    size_t json_max_string;
    http_res res;
    int deferred;              /* the handler called http_req_defer */
    pthread_mutex_t defer_lock; /* initialized by http_req_defer: orders suspend and resume */
    int defer_done;            /* http_req_resume ran */
    int suspended;             /* the server suspended the connection */
    void *route_state;         /* a streaming route's per-request state (http_req_set_state) */
    void (*route_state_free)(void *state);
};

/* Parses req->target into path, segments and query. Fills req->early on bad input. */
void exchange_parse_target(http_req *req);
/* Copies the captured path parameters out of the segments. */
int exchange_bind_params(http_req *req);
void exchange_free(http_req *req);
http_method exchange_method_parse(const char *name);

#endif
