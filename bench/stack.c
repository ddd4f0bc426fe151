/* stack: the bare HTTP stack (src/http on libmicrohttpd + json-c + SQLite) with three handlers, to
 * measure the ceiling that the full server is compared with (BENCHMARKS.md):
 *   GET  /hello      a 27-byte JSON body
 *   POST /echo       parse the JSON body (strict, with limits) and write it back
 *   GET  /items/:id  a point read by primary key from a SQLite table of 10,000 JSON documents,
 *                    one connection and one prepared statement per worker thread
 * Usage: basalt-stackbench [--listen ADDR:PORT] [--db PATH]  (SIGINT/SIGTERM stops it). */
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/server.h"
#include "util/json.h"
#include "util/log.h"

static const char *db_path = "/tmp/basalt-stackbench.db";
static _Thread_local sqlite3 *tl_db;
static _Thread_local sqlite3_stmt *tl_get;

static void hello(http_req *req, http_res *res, void *data)
{
    static const char body[] = "{\"message\":\"hello, world\"}";
    http_res_body(res, 200, "application/json; charset=utf-8", body, sizeof body - 1);
}

static void echo(http_req *req, http_res *res, void *data)
{
    struct json_object *doc = http_req_json_borrow(req);
    if (!doc) {
        http_res_error(res, 400, "common/invalid-parameters", "a JSON body is required");
        return;
    }
    http_res_json(res, 200, doc);
}

static int thread_db(void)
{
    if (tl_get) return 0;
    if (sqlite3_open_v2(db_path, &tl_db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) return -1;
    sqlite3_exec(tl_db, "PRAGMA mmap_size=268435456", NULL, NULL, NULL);
    return sqlite3_prepare_v3(tl_db, "SELECT doc FROM items WHERE id = ?", -1, SQLITE_PREPARE_PERSISTENT, &tl_get, NULL);
}

static void get_item(http_req *req, http_res *res, void *data)
{
    if (thread_db() != 0) {
        http_res_error(res, 500, "common/internal-error", "database unavailable");
        return;
    }
    const char *id = http_req_param(req, "id");
    sqlite3_bind_text(tl_get, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(tl_get) == SQLITE_ROW) {
        http_res_body(res, 200, "application/json; charset=utf-8", (const char *)sqlite3_column_text(tl_get, 0),
                      (size_t)sqlite3_column_bytes(tl_get, 0));
    } else {
        http_res_error(res, 404, "data/not-found", "Record not found");
    }
    sqlite3_reset(tl_get);
}

static int seed(void)
{
    sqlite3 *db;
    if (sqlite3_open(db_path, &db) != SQLITE_OK) return -1;
    char *sql = "PRAGMA journal_mode=WAL; DROP TABLE IF EXISTS items;"
                "CREATE TABLE items(id TEXT PRIMARY KEY, doc TEXT NOT NULL); BEGIN;";
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) return -1;
    sqlite3_stmt *ins;
    sqlite3_prepare_v2(db, "INSERT INTO items VALUES (?, ?)", -1, &ins, NULL);
    for (int i = 0; i < 10000; i++) {
        char id[32], doc[512];
        snprintf(id, sizeof id, "item%05d", i);
        snprintf(doc, sizeof doc,
                 "{\"id\":\"%s\",\"title\":\"Post number %d\",\"status\":\"published\",\"views\":%d,"
                 "\"tags\":[\"a\",\"b\"],\"createdBy\":\"\",\"createdAt\":\"2025-01-15T10:30:00.000Z\"}",
                 id, i, i * 7);
        sqlite3_bind_text(ins, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ins, 2, doc, -1, SQLITE_TRANSIENT);
        sqlite3_step(ins);
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
    return 0;
}

int main(int argc, char **argv)
{
    http_server_config cfg;
    http_server_config_defaults(&cfg);
    cfg.listen = "127.0.0.1:8090";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--listen") == 0) cfg.listen = argv[i + 1];
        else if (strcmp(argv[i], "--db") == 0) db_path = argv[i + 1];
    }
    if (seed() < 0) {
        fprintf(stderr, "cannot create %s\n", db_path);
        return 1;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    log_set_level(LOG_WARN); /* no access lines: this measures the stack alone */
    http_router *router = http_router_new();
    http_route_opts json = {.body = HTTP_BODY_JSON};
    http_router_add(router, HTTP_GET, "/hello", hello, NULL, NULL);
    http_router_add(router, HTTP_POST, "/echo", echo, NULL, &json);
    http_router_add(router, HTTP_GET, "/items/:id", get_item, NULL, NULL);
    http_metrics *metrics = http_metrics_new(router);
    bs_err err;
    http_server *server = http_server_new(&cfg, router, metrics, &err);
    if (!server) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    fprintf(stderr, "stackbench listening on port %u\n", http_server_port(server));
    int sig;
    sigwait(&set, &sig);
    http_server_free(server);
    http_metrics_free(metrics);
    http_router_free(router);
    return 0;
}
