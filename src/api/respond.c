/* respond: see respond.h. */
#include "api/respond.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void api_answer_page(http_res *res, struct json_object *items, int64_t total, int64_t page, int64_t limit)
{
    struct json_object *out = json_object_new_object(), *p = json_object_new_object();
    int64_t pages = (total + limit - 1) / limit;
    json_object_object_add(p, "total", json_object_new_int64(total));
    json_object_object_add(p, "page", json_object_new_int64(page));
    json_object_object_add(p, "limit", json_object_new_int64(limit));
    json_object_object_add(p, "totalPages", json_object_new_int64(pages));
    json_object_object_add(p, "hasNext", json_object_new_boolean(page < pages));
    json_object_object_add(p, "hasPrev", json_object_new_boolean(page > 1));
    json_object_object_add(p, "hasNextPage", json_object_new_boolean(page < pages));
    json_object_object_add(p, "hasPrevPage", json_object_new_boolean(page > 1));
    json_object_object_add(out, "items", items);
    json_object_object_add(out, "pagination", p);
    http_res_json(res, 200, out);
    json_object_put(out);
}

int64_t api_query_int(http_req *req, const char *name, int64_t dflt, int64_t max)
{
    const char *t = http_req_query(req, name);
    char *end;
    long long v = t ? strtoll(t, &end, 10) : 0;
    if (!t || *end || v < 1) return dflt;
    return v > max ? max : v;
}

void api_message(http_res *res, int status, const char *text)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "message", json_object_new_string(text));
    http_res_json(res, status, o);
    json_object_put(o);
}

void api_answer_rows(http_res *res, const bs_err *err, void *rows, size_t n, size_t size,
                     struct json_object *(*to_json)(const void *row), int64_t total, int64_t page, int64_t limit)
{
    if (err->status) {
        free(rows);
        http_res_error_from(res, err);
        return;
    }
    struct json_object *items = json_object_new_array();
    for (size_t i = 0; i < n; i++) json_object_array_add(items, to_json((const char *)rows + i * size));
    free(rows);
    api_answer_page(res, items, total, page, limit);
}

void api_answer_mails(http_res *res, const store_mail *mails, size_t n)
{
    struct json_object *out = json_object_new_object(), *items = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        struct json_object *m = json_object_new_object();
        json_object_object_add(m, "id", json_object_new_string(mails[i].id));
        json_object_object_add(m, "to", json_object_new_string(mails[i].to));
        json_object_object_add(m, "subject", json_object_new_string(mails[i].subject));
        json_object_object_add(m, "body", json_object_new_string(mails[i].body));
        json_object_object_add(m, "template", json_object_new_string(mails[i].template_name));
        json_add_time(m, "createdAt", mails[i].created_at);
        json_object_array_add(items, m);
    }
    json_object_object_add(out, "items", items);
    http_res_json(res, 200, out);
    json_object_put(out);
}
