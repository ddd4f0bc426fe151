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

/* The rows as a JSON array (to_json of each), or NULL after answering err; frees rows either way. */
static struct json_object *rows_json(http_res *res, const bs_err *err, void *rows, size_t n, size_t size,
                                     struct json_object *(*to_json)(const void *row))
{
    struct json_object *items = NULL;
    if (err->status) http_res_error_from(res, err);
    else {
        items = json_object_new_array();
        for (size_t i = 0; i < n; i++) json_object_array_add(items, to_json((const char *)rows + i * size));
    }
    free(rows);
    return items;
}

void api_answer_rows(http_res *res, const bs_err *err, void *rows, size_t n, size_t size,
                     struct json_object *(*to_json)(const void *row), int64_t total, int64_t page, int64_t limit)
{
    struct json_object *items = rows_json(res, err, rows, n, size, to_json);
    if (items) api_answer_page(res, items, total, page, limit);
}

void api_answer_items(http_res *res, const bs_err *err, void *rows, size_t n, size_t size,
                      struct json_object *(*to_json)(const void *row))
{
    struct json_object *items = rows_json(res, err, rows, n, size, to_json);
    if (!items) return;
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "items", items);
    http_res_json(res, 200, out);
    json_object_put(out);
}

static struct json_object *mail_json(const void *row)
{
    const store_mail *mail = row;
    struct json_object *m = json_object_new_object();
    json_object_object_add(m, "id", json_object_new_string(mail->id));
    json_object_object_add(m, "to", json_object_new_string(mail->to));
    json_object_object_add(m, "subject", json_object_new_string(mail->subject));
    json_object_object_add(m, "body", json_object_new_string(mail->body));
    json_object_object_add(m, "template", json_object_new_string(mail->template_name));
    json_add_time(m, "createdAt", mail->created_at);
    return m;
}

void api_answer_mails(http_res *res, const bs_err *err, store_mail *mails, size_t n)
{
    api_answer_items(res, err, mails, n, sizeof *mails, mail_json);
}
