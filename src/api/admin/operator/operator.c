/* operator: the instance operator's routes (surface.h): moves and clusters. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin/operator/surface.h"
#include "core/env_move.h"
#include "util/crypto.h"
#include "util/url_mask.h"

#define OPERATOR_CLUSTERS_MAX 256

/* 0 when the request carries the operator secret; else the answer is written (404 without the option,
 * 401 for a missing or wrong secret). */
static int operator_check(const api_app *app, http_req *req, http_res *res)
{
    http_res_header(res, "Cache-Control", "no-store");
    if (!app->operator_secret || !app->operator_secret[0] || !app->moves) {
        http_res_error(res, 404, "common/not-found", "The operator surface is off: start with --operator-token-file");
        return -1;
    }
    const char *auth = http_req_header(req, "Authorization");
    const char *given = auth && !strncmp(auth, "Bearer ", 7) ? auth + 7 : "";
    uint8_t a[CRYPTO_SHA256_LEN], b[CRYPTO_SHA256_LEN]; /* equal lengths: the compare reveals no length */
    crypto_sha256(given, strlen(given), a);
    crypto_sha256(app->operator_secret, strlen(app->operator_secret), b);
    if (given[0] && crypto_equal(a, b, sizeof a)) return 0;
    http_res_header(res, "WWW-Authenticate", "Bearer");
    http_res_error(res, 401, "auth/unauthorized", "The operator token is missing or wrong");
    return -1;
}

static struct json_object *move_json(const env_move_info *m)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(m->id));
    json_object_object_add(o, "environmentId", json_object_new_string(m->env_id));
    json_object_object_add(o, "from", json_object_new_string(m->from));
    json_object_object_add(o, "cluster", json_object_new_string(m->to));
    json_object_object_add(o, "state", json_object_new_string(m->state));
    struct json_object *p = json_object_new_object();
    json_object_object_add(p, "rowsCopied", json_object_new_int64(m->rows_done));
    json_object_object_add(p, "rowsTotal", json_object_new_int64(m->rows_total));
    json_object_object_add(o, "progress", p);
    json_object_object_add(o, "writesBlockedMs", json_object_new_int64(m->blocked_ms));
    json_object_object_add(o, "writesBlockedFrom", m->blocked_from ? json_object_new_int64(m->blocked_from) : NULL);
    json_object_object_add(o, "writesBlockedUntil", m->blocked_until ? json_object_new_int64(m->blocked_until) : NULL);
    json_object_object_add(o, "startedAt", json_object_new_int64(m->started_at));
    json_object_object_add(o, "finishedAt", m->finished_at ? json_object_new_int64(m->finished_at) : NULL);
    struct json_object *e = NULL;
    if (!strcmp(m->state, "failed")) {
        e = json_object_new_object();
        json_object_object_add(e, "code", json_object_new_string(m->error.code));
        json_object_object_add(e, "message", json_object_new_string(m->error.message));
    }
    json_object_object_add(o, "error", e);
    return o;
}

static void move_start(http_req *req, http_res *res, void *data)
{
    api_app *app = data;
    if (operator_check(app, req, res) < 0) return;
    bs_err err;
    bs_err_clear(&err);
    if (http_req_parse_json(req, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *body = http_req_json_borrow(req), *cluster = NULL;
    if (!json_object_is_type(body, json_type_object) || !json_object_object_get_ex(body, "cluster", &cluster) ||
        !json_object_is_type(cluster, json_type_string) || !json_object_get_string_len(cluster) ||
        json_object_get_string_len(cluster) >= STORE_ID_MAX) {
        bs_err_set(&err, 400, "common/invalid-parameters", "The body is {\"cluster\": NAME}");
        bs_err_field(&err, "cluster", "a registered cluster's name");
        http_res_error_from(res, &err);
        return;
    }
    env_move_info m;
    if (env_moves_start(app->moves, http_req_param(req, "envId"), json_object_get_string(cluster), &m, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    char where[96];
    snprintf(where, sizeof where, "/admin/v1/operator/moves/%s", m.id);
    http_res_header(res, "Location", where);
    struct json_object *o = move_json(&m);
    http_res_json(res, 202, o);
    json_object_put(o);
}

static void move_get(http_req *req, http_res *res, void *data)
{
    api_app *app = data;
    if (operator_check(app, req, res) < 0) return;
    env_move_info m;
    int found = 0;
    env_moves_get(app->moves, http_req_param(req, "moveId"), &m, &found);
    if (!found) {
        http_res_error(res, 404, "common/not-found", "No such move");
        return;
    }
    struct json_object *o = move_json(&m);
    http_res_json(res, 200, o);
    json_object_put(o);
}

static void clusters_list(http_req *req, http_res *res, void *data)
{
    api_app *app = data;
    if (operator_check(app, req, res) < 0) return;
    store_cluster *list = calloc(OPERATOR_CLUSTERS_MAX, sizeof *list);
    size_t n = 0;
    bs_err err;
    bs_err_clear(&err);
    if (!list || store_control_cluster_list(app->control, list, OPERATOR_CLUSTERS_MAX, &n, &err) < 0) {
        if (!list) bs_err_internal(&err);
        free(list);
        http_res_error_from(res, &err);
        return;
    }
    struct json_object *items = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        struct json_object *c = json_object_new_object();
        char masked[STORE_CLUSTER_URL_MAX];
        url_mask(list[i].url, masked, sizeof masked);
        json_object_object_add(c, "name", json_object_new_string(list[i].id));
        json_object_object_add(c, "kind", json_object_new_string(list[i].kind));
        json_object_object_add(c, "status", json_object_new_string(list[i].status));
        json_object_object_add(c, "draining", json_object_new_boolean(!strcmp(list[i].status, "draining")));
        json_object_object_add(c, "capacity", json_object_new_int(list[i].capacity));
        json_object_object_add(c, "load", json_object_new_int(list[i].used));
        json_object_object_add(c, "server", list[i].url[0] ? json_object_new_string(masked) : NULL);
        json_object_object_add(c, "createdAt", json_object_new_int64(list[i].created_at));
        json_object_array_add(items, c);
    }
    free(list);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "items", items);
    http_res_json(res, 200, o);
    json_object_put(o);
}

/* Any other operator path: the secret first, then 404. */
static void operator_unknown(http_req *req, http_res *res, void *data)
{
    if (operator_check(data, req, res) < 0) return;
    http_res_error(res, 404, "common/not-found", "No such operator route");
}

int api_operator_register(http_router *router, api_app *app)
{
    http_route_opts json = {.body = HTTP_BODY_JSON, .json_by_handler = 1}, raw = {.body = HTTP_BODY_RAW};
    if (http_router_add(router, HTTP_POST, "/admin/v1/operator/environments/:envId/move", move_start, app, &json) < 0 ||
        http_router_add(router, HTTP_GET, "/admin/v1/operator/moves/:moveId", move_get, app, &raw) < 0 ||
        http_router_add(router, HTTP_GET, "/admin/v1/operator/clusters", clusters_list, app, &raw) < 0)
        return -1;
    return http_router_add(router, HTTP_GET | HTTP_POST | HTTP_PUT | HTTP_PATCH | HTTP_DELETE, "/admin/v1/operator/*rest",
                           operator_unknown, app, &raw) < 0 ? -1 : 0;
}
