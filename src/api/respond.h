/* respond: the answers every surface writes the same way: pages {items, pagination}, row pages rendered
 * by a callback, {"message"} answers, the outbox's mails, and the small parameter and time helpers they
 * use. */
#ifndef BASALT_API_RESPOND_H
#define BASALT_API_RESPOND_H

#include <stddef.h>
#include <stdint.h>

#include "http/request.h"
#include "store/control.h"
#include "util/err.h"
#include "util/json.h"

/* Answers err when set, else the page of n rows (each size bytes) rendered by to_json; frees rows. */
void api_answer_rows(http_res *res, const bs_err *err, void *rows, size_t n, size_t size,
                     struct json_object *(*to_json)(const void *row), int64_t total, int64_t page, int64_t limit);
/* Answers 200 {items, pagination} (client-api.md §1.7: total, page, limit, totalPages and both spellings
 * of hasNext/hasPrev); takes items. */
void api_answer_page(http_res *res, struct json_object *items, int64_t total, int64_t page, int64_t limit);
/* A positive integer query parameter, dflt when absent or not one, capped at max. */
int64_t api_query_int(http_req *req, const char *name, int64_t dflt, int64_t max);
/* Answers {"message": text} with status. */
void api_message(http_res *res, int status, const char *text);
/* Answers err when set, else 200 {items: [...]} of the n rows (each size bytes) rendered by to_json (a list
 * without paging); frees rows. */
void api_answer_items(http_res *res, const bs_err *err, void *rows, size_t n, size_t size,
                      struct json_object *(*to_json)(const void *row));
/* api_answer_items of an outbox page: {items: [{id, to, subject, body, template, createdAt}]}; frees mails. */
void api_answer_mails(http_res *res, const bs_err *err, store_mail *mails, size_t n);

#endif
