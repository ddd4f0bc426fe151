/* data: the client data API (client-api.md §2), under /v1/data/:table and the /v1/:table shorthand:
 *   POST   create (an object, or an array for an all-or-nothing batch)   GET    list
 *   GET    /:id   PATCH /:id   DELETE /:id                               GET    /spec
 * Each request: table exists (404) → key scope (403) → group permission (403) → row (404) → owner (403).
 * Stored JSON is written into answers as it is: gets and lists never parse records again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/route.h"
#include "api/v1/data/records.h"
#include "api/v1/data/surface.h"
#include "api/v1/pipeline.h"
#include "core/table_cache.h"
#include "core/access.h"
#include "core/keys.h"
#include "core/query.h"
#include "core/schema.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/hash.h"

/* Everything a data request resolved before its operation runs. */
typedef struct data_req {
    api_ctx *ctx;
    const char *env;              /* the environment's id: the key's, or the management path's */
    int operator;                 /* a management read: the table's admin, no row filters or column rules */
    const char *table;
    const table_entry *t;         /* borrowed from this thread's table cache for the request */
    access_caller who;            /* group, user id ("" without a user), role */
    const char *user_id;          /* = who.user_id */
    access_verdict verdict;
    int strip;                    /* some columns are unreadable for this caller: see cols */
    access_columns cols;
} data_req;


static int reserved_first_segment(const char *name)
{
    return strcmp(name, "auth") == 0 || strcmp(name, "users") == 0 || strcmp(name, "files") == 0 ||
           strcmp(name, "data") == 0 || strcmp(name, "batch") == 0;
}

static int data_prepare(data_req *d, access_op op, bs_err *err);

/* client-api.md §1.4: a secret key is admin (ctx->key_admin: on the data routes every secret key's, its
 * table scopes bind it in data_begin); with a publishable key the user's role decides (admin, user, guest),
 * and no user means guest. */
static access_group caller_group(const api_ctx *ctx)
{
    if (ctx->key_admin) return ACCESS_ADMIN;
    if (!ctx->has_user) return ACCESS_GUEST;
    if (strcmp(ctx->user.role, "admin") == 0) return ACCESS_ADMIN;
    return strcmp(ctx->user.role, "guest") == 0 ? ACCESS_GUEST : ACCESS_USER;
}

/* Resolves the table and decides the operation; fills err with the client's answer on refusal. */
static int data_begin(data_req *d, api_ctx *ctx, http_req *req, access_op op, bs_err *err)
{
    memset(d, 0, sizeof *d);
    d->ctx = ctx;
    d->env = ctx->key.environment_id;
    d->table = http_req_param(req, "table");
    const char *shorthand = http_req_param(req, "shorttable");
    if (shorthand) {
        if (reserved_first_segment(shorthand)) return bs_err_set(err, 404, "common/not-found", "No route for this path");
        d->table = shorthand;
    }
    return data_prepare(d, op, err);
}

/* Table, scope and group decision for d->table (d->ctx set). */
static int data_prepare(data_req *d, access_op op, bs_err *err)
{
    api_ctx *ctx = d->ctx;
    d->t = table_cache_lookup(ctx->app->docs, d->env, d->table, err);
    if (!d->t) return -1;
    if (access_check_scope(ctx->key.scopes_json, d->table, op, err) < 0) return -1;
    d->who = (access_caller){caller_group(ctx), ctx->has_user, ctx->has_user ? ctx->user.sub : "",
                             ctx->has_user ? ctx->user.role : ""};
    d->user_id = d->who.user_id;
    d->verdict = access_decide(d->table, d->t->permissions, &d->who, op, err);
    if (d->verdict == ACCESS_DENY) return -1;
    d->strip = access_read_columns(d->t->permissions, &d->who, &d->cols);
    return 0;
}

/* Removes the columns the caller may not read from the answer text at out[from..] (one record or an
 * array of records). Only callers with column rules against them pay for parsing the answer. */
static int strip_answer(const data_req *d, strbuf *out, size_t from, bs_err *err)
{
    if (!d->strip || out->len <= from) return 0;
    struct json_object *v = json_tokener_parse(out->data + from);
    if (!v) return bs_err_internal(err);
    if (json_object_is_type(v, json_type_array))
        for (size_t i = 0; i < json_object_array_length(v); i++)
            access_strip_record(&d->cols, &d->who, json_object_array_get_idx(v, i));
    else
        access_strip_record(&d->cols, &d->who, v);
    out->len = from;
    out->data[from] = '\0';
    int rc = json_append(out, v);
    json_object_put(v);
    return rc < 0 ? bs_err_internal(err) : 0;
}

/* ---- conditional requests: ETag = a strong validator of the exact JSON the record or list answers ---- */

#define DATA_ETAG_MAX 48

static void etag_of(const char *body, size_t len, char out[DATA_ETAG_MAX])
{
    char hex[HASH128_HEX];
    hash128_hex(body, len, hex);
    snprintf(out, DATA_ETAG_MAX, "\"%s\"", hex);
}

/* 1 when the header (If-None-Match / If-Match) lists this ETag or is "*". */
static int etag_listed(const char *header, const char *etag)
{
    if (!header) return 0;
    if (strcmp(header, "*") == 0) return 1;
    const char *p = strstr(header, etag);
    return p != NULL;
}

/* Sets ETag (of the answer, or given) on a 200 answer already in the buffer; turns it into 304 when the
 * client has it. */
static void answer_cached(http_req *req, http_res *res, const char *given)
{
    strbuf *out = http_res_buffer(res);
    char etag[DATA_ETAG_MAX];
    if (given) snprintf(etag, sizeof etag, "%s", given);
    else etag_of(out->data ? out->data : "", out->len, etag);
    http_res_header(res, "ETag", etag);
    http_res_header(res, "Cache-Control", "private, no-cache");
    if (etag_listed(http_req_header(req, "If-None-Match"), etag)) {
        strbuf_reset(out);
        http_res_status(res, 304);
        return;
    }
    http_res_status(res, 200);
}

/* The ETag of a stored record as this caller receives it: with column rules against the caller (cols not
 * NULL), of the record without the columns it may not read, serialized as strip_answer writes it. */
static int view_etag(const access_columns *cols, const access_caller *who, const char *text, size_t len,
                     char out[DATA_ETAG_MAX], bs_err *err)
{
    if (!cols) {
        etag_of(text, len, out);
        return 0;
    }
    struct json_object *v = json_tokener_parse(text);
    if (!v) return bs_err_internal(err);
    access_strip_record(cols, who, v);
    strbuf view;
    strbuf_init(&view, 0);
    int rc = json_append(&view, v);
    json_object_put(v);
    if (rc == 0) etag_of(view.data ? view.data : "", view.len, out);
    strbuf_release(&view);
    return rc < 0 ? bs_err_internal(err) : 0;
}

/* The columns hidden from the caller, or NULL when it sees whole records. */
static const access_columns *hidden_columns(const data_req *d)
{
    return d->strip ? &d->cols : NULL;
}

/* If-Match against the current record text as the caller sees it (the ETag it was given): 412
 * data/precondition-failed when that changed. */
static int check_if_match(http_req *req, const access_columns *cols, const access_caller *who, const char *current,
                          size_t len, bs_err *err)
{
    const char *want = req ? http_req_header(req, "If-Match") : NULL;
    if (!want) return 0;
    char etag[DATA_ETAG_MAX];
    if (view_etag(cols, who, current, len, etag, err) < 0) return -1;
    if (etag_listed(want, etag)) return 0;
    return bs_err_set(err, 412, "data/precondition-failed", "The record changed since it was read (If-Match)");
}

/* Schema validation and coercion (§2.3), then integral numbers as integers (§1.8). */
static int validate_body(const schema *s, struct json_object *body, schema_mode mode, bs_err *err)
{
    if (schema_apply(s, body, mode, err) < 0) return -1;
    json_normalize_integers(body);
    return 0;
}

static int owner_ok(access_verdict verdict, const char *user_id, const char *created_by, bs_err *err)
{
    if (verdict != ACCESS_OWN_ROWS || (user_id[0] && strcmp(created_by, user_id) == 0)) return 0;
    return bs_err_set(err, 403, "data/permission-denied", "Permission denied: the record belongs to another user");
}

static int owner_allowed(const data_req *d, const char *created_by, bs_err *err)
{
    return owner_ok(d->verdict, d->user_id, created_by, err);
}

/* ---- create ---- */

/* Validates one element and fills its record; doc_out receives the JSON text (owned). */
static int prepare_record(data_req *d, struct json_object *body, size_t index, int batch, store_record *rec,
                          char *id, char *now, char **doc_out, bs_err *err)
{
    if (!json_object_is_type(body, json_type_object)) {
        if (batch) {
            bs_err_set(err, 400, "data/validation-error", "[%zu] each record must be a JSON object", index);
            char field[32];
            snprintf(field, sizeof field, "[%zu]", index);
            bs_err_field(err, field, "must be a JSON object");
            return -1;
        }
        return bs_err_set(err, 400, "data/validation-error", "The body must be a JSON object");
    }
    if (access_check_write(d->t->permissions, &d->who, body, NULL, err) < 0 ||
        validate_body(d->t->schema, body, SCHEMA_CREATE, err) < 0) {
        if (batch) { /* name the element: "[2] n: must be an integer", details field "[2].n" */
            char msg[BS_ERR_MESSAGE_MAX], field[BS_ERR_FIELD_MAX];
            snprintf(msg, sizeof msg, "[%zu] %.200s", index, err->message);
            memcpy(err->message, msg, sizeof msg);
            snprintf(field, sizeof field, "[%zu]%s%.100s", index, err->field[0] ? "." : "", err->field);
            memcpy(err->field, field, sizeof field);
            if (!err->reason[0]) snprintf(err->reason, sizeof err->reason, "%.200s", msg);
        }
        return -1;
    }
    if (keys_record_id(id) < 0) return bs_err_internal(err);
    json_object_object_add(body, "id", json_object_new_string(id));
    json_object_object_add(body, "createdBy", json_object_new_string(d->user_id));
    json_object_object_add(body, "createdAt", json_object_new_string(now));
    json_object_object_add(body, "updatedAt", json_object_new_string(now));
    *doc_out = strdup(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    if (!*doc_out) return bs_err_internal(err);
    *rec = (store_record){.id = id, .created_by = d->user_id, .created_at = now, .updated_at = now, .doc = *doc_out};
    return 0;
}

/* A create in flight: the validated records and their JSON, owned until the answer is written. */
typedef struct create_job {
    http_req *req;
    int batch;
    size_t n, failed;
    store_record *recs;
    char (*ids)[KEYS_RECORD_ID_LEN + 1];
    char **docs;
    char now[CLOCK_ISO_LEN];
    char owner[TOKEN_SUB_MAX];   /* createdBy of every record (the caller outlives nothing here) */
    bs_err err;
} create_job;

static void create_job_free(create_job *j)
{
    for (size_t i = 0; j->docs && i < j->n; i++) free(j->docs[i]);
    free(j->docs);
    free(j->ids);
    free(j->recs);
    free(j);
}

/* Writes the answer of a finished create (d: the request's context, NULL from a writer thread, where
 * no column rules apply: creates that need them are not deferred). */
static void create_answer(create_job *j, const data_req *d, http_res *res, int rc)
{
    if (rc < 0 && j->batch && j->err.status == 409)
        snprintf(j->err.message, sizeof j->err.message, "[%zu] A record with the same unique value already exists", j->failed);
    if (rc < 0) {
        http_res_error_from(res, &j->err);
        return;
    }
    strbuf *out = http_res_buffer(res);
    if (j->batch) strbuf_append_char(out, '[');
    for (size_t i = 0; i < j->n; i++) {
        if (i) strbuf_append_char(out, ',');
        strbuf_append_str(out, j->docs[i]);
    }
    if (j->batch) strbuf_append_char(out, ']');
    if (d && strip_answer(d, out, 0, &j->err) < 0) http_res_error_from(res, &j->err);
    else http_res_status(res, 201);
}

/* The grouped insert committed (on a store writer thread): answer and let the connection go on. */
static void create_done(void *ctx, int rc)
{
    create_job *j = ctx;
    http_req *req = j->req;
    if (rc == 0) api_meter_db(req, 0, (int64_t)j->n);
    create_answer(j, NULL, http_req_res_borrow(req), rc);
    create_job_free(j);
    http_req_resume(req); /* req may be gone right after: nothing touches it below */
}

static create_job *create_job_new(data_req *d, http_req *req, struct json_object *body, int batch, size_t n, bs_err *err)
{
    create_job *j = calloc(1, sizeof *j);
    if (!j) { bs_err_internal(err); return NULL; }
    j->req = req;
    j->batch = batch;
    j->n = n;
    bs_err_clear(&j->err);
    clock_iso8601(clock_now_ms(), j->now);
    snprintf(j->owner, sizeof j->owner, "%s", d->user_id);
    j->recs = calloc(n, sizeof *j->recs);
    j->ids = calloc(n, sizeof *j->ids);
    j->docs = calloc(n, sizeof *j->docs);
    int rc = j->recs && j->ids && j->docs ? 0 : bs_err_internal(err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = prepare_record(d, batch ? json_object_array_get_idx(body, i) : body, i, batch, &j->recs[i], j->ids[i], j->now,
                            &j->docs[i], err);
        if (rc == 0) j->recs[i].created_by = j->owner;
    }
    if (rc == 0) return j;
    create_job_free(j);
    return NULL;
}

static void create_records(data_req *d, http_req *req, http_res *res, bs_err *err)
{
    struct json_object *body = http_req_json_borrow(req);
    int batch = body && json_object_is_type(body, json_type_array);
    size_t n = batch ? json_object_array_length(body) : 1;
    if (!body || n == 0 || n > STORE_MAX_BATCH) {
        http_res_error(res, 400, "data/validation-error", batch ? "A batch holds 1 to 1000 records" : "A JSON object body is required");
        return;
    }
    create_job *j = create_job_new(d, req, body, batch, n, err);
    if (!j) {
        http_res_error_from(res, err);
        return;
    }
    store_docs *docs = d->ctx->app->docs;
    const char *env = d->env;
    if (!d->strip) { /* answer when the group commits; the worker thread serves others meanwhile */
        http_req_defer(req);
        if (store_docs_insert_async(docs, env, d->table, j->recs, n, &j->failed, &j->err, create_done, j) == 0) return;
        create_answer(j, NULL, res, -1);
        create_job_free(j);
        http_req_resume(req);
        return;
    }
    int rc = store_docs_insert(docs, env, d->table, j->recs, n, &j->failed, &j->err);
    if (rc == 0) api_meter_db(req, 0, (int64_t)n);
    create_answer(j, d, res, rc);
    create_job_free(j);
}

/* ---- read, update, delete ---- */

static void get_record(data_req *d, http_req *req, http_res *res, bs_err *err)
{
    char owner[65] = "";
    int found = 0;
    strbuf *out = http_res_buffer(res);
    if (store_docs_get(d->ctx->app->docs, d->env, d->table, http_req_param(req, "id"), out, owner,
                       &found, err) < 0 ||
        (!found && bs_err_set(err, 404, "data/not-found", "Record not found") < 0) || owner_allowed(d, owner, err) < 0) {
        http_res_error_from(res, err);
        return;
    }
    if (strip_answer(d, out, 0, err) < 0) { /* the ETag is of what the caller receives: If-Match compares it */
        http_res_error_from(res, err);
        return;
    }
    api_meter_db(req, 1, 0);
    answer_cached(req, res, NULL);
}

/* What a PATCH needs to turn the current record into the next one; everything borrowed. */
typedef struct patch_ctx {
    access_verdict verdict;
    access_caller who;
    struct json_object *perms;     /* the table's permissions (column write rules), NULL = none */
    const access_columns *cols;    /* columns hidden from the caller (its ETags), NULL = none */
    http_req *req;                 /* for If-Match; NULL in a batch */
    struct json_object *changes;   /* validated body */
    const char *now;
} patch_ctx;

static patch_ctx patch_ctx_of(const data_req *d, http_req *req, struct json_object *changes, const char *now)
{
    return (patch_ctx){d->verdict, d->who, d->t->permissions, hidden_columns(d), req, changes, now};
}

static int apply_patch(const char *current, size_t len, const char *created_by, strbuf *next, void *ptr, bs_err *err)
{
    patch_ctx *p = ptr;
    if (owner_ok(p->verdict, p->who.user_id, created_by, err) < 0 || check_if_match(p->req, p->cols, &p->who, current, len, err) < 0 ||
        access_check_write(p->perms, &p->who, p->changes, created_by, err) < 0)
        return -1;
    struct json_object *doc = json_tokener_parse(current);
    if (!doc) return bs_err_internal(err);
    json_object_object_foreach(p->changes, key, val) json_object_object_add(doc, key, json_object_get(val));
    json_object_object_add(doc, "updatedAt", json_object_new_string(p->now));
    int rc = json_append(next, doc);
    json_object_put(doc);
    return rc < 0 ? bs_err_internal(err) : 0;
}

/* A PATCH answered when its write commits, without holding a worker thread: read the record, build the
 * next version here, and let the store replace it only if it is still what was read (compare-and-swap);
 * when another write got there first, read and build again (at most PATCH_ATTEMPTS times). Only for
 * tables without column rules, so nothing of the table definition is needed after the handler returns. */
#define PATCH_ATTEMPTS 8

typedef struct patch_job {
    http_req *req;
    store_docs *docs;
    patch_ctx p;                   /* who.user_id/role point into user/role below */
    char user[TOKEN_SUB_MAX], role[TOKEN_ROLE_MAX];
    char env[STORE_ID_MAX], table[STORE_TABLE_NAME_MAX + 1], id[STORE_RECORD_ID_MAX + 1];
    char now[CLOCK_ISO_LEN];
    strbuf current, next;
    int replaced, attempts;
    bs_err err;
} patch_job;

static void patch_finish(patch_job *j, int rc)
{
    http_req *req = j->req;
    http_res *res = http_req_res_borrow(req);
    if (rc < 0) {
        http_res_error_from(res, &j->err);
    } else {
        char etag[DATA_ETAG_MAX];
        etag_of(j->next.data, j->next.len, etag);
        http_res_body(res, 200, "application/json; charset=utf-8", j->next.data, j->next.len);
        http_res_header(res, "ETag", etag);
        api_meter_db(req, 0, 1);
    }
    strbuf_release(&j->current);
    strbuf_release(&j->next);
    free(j);
    http_req_resume(req); /* req may be gone right after */
}

static void patch_done(void *ctx, int rc);

/* One read-build-replace round; the replace's outcome arrives in patch_done. */
static void patch_attempt(patch_job *j)
{
    char owner[65] = "";
    int found = 0;
    strbuf_reset(&j->current);
    strbuf_reset(&j->next);
    if (store_docs_get(j->docs, j->env, j->table, j->id, &j->current, owner, &found, &j->err) < 0 ||
        (!found && bs_err_set(&j->err, 404, "data/not-found", "Record not found") < 0) ||
        apply_patch(j->current.data, j->current.len, owner, &j->next, &j->p, &j->err) < 0 ||
        store_docs_replace_async(j->docs, j->env, j->table, j->id, j->current.data, j->next.data, j->now, &j->replaced,
                                 &j->err, patch_done, j) < 0)
        patch_finish(j, -1);
}

static void patch_done(void *ctx, int rc)
{
    patch_job *j = ctx;
    if (rc < 0 || j->replaced) patch_finish(j, rc);
    else if (++j->attempts < PATCH_ATTEMPTS) patch_attempt(j);
    else patch_finish(j, bs_err_set(&j->err, 409, "data/conflict", "The record kept changing; retry"));
}

static void patch_deferred(data_req *d, http_req *req, struct json_object *changes, const char *now)
{
    patch_job *j = calloc(1, sizeof *j);
    http_req_defer(req);
    if (!j) {
        http_res_error(http_req_res_borrow(req), 500, "common/internal-error", "Internal server error");
        http_req_resume(req);
        return;
    }
    j->req = req;
    j->docs = d->ctx->app->docs;
    snprintf(j->user, sizeof j->user, "%s", d->who.user_id);
    snprintf(j->role, sizeof j->role, "%s", d->who.role);
    snprintf(j->env, sizeof j->env, "%s", d->env);
    snprintf(j->table, sizeof j->table, "%s", d->table);
    snprintf(j->id, sizeof j->id, "%s", http_req_param(req, "id"));
    snprintf(j->now, sizeof j->now, "%s", now);
    j->p = patch_ctx_of(d, req, changes, j->now);
    j->p.who.user_id = j->user;
    j->p.who.role = j->role;
    j->p.perms = NULL; /* no column rules: see patch_record */
    j->p.cols = NULL;
    strbuf_init(&j->current, 0);
    strbuf_init(&j->next, 0);
    bs_err_clear(&j->err);
    patch_attempt(j);
}

static void patch_record(data_req *d, http_req *req, http_res *res, bs_err *err)
{
    struct json_object *body = http_req_json_borrow(req);
    if (!body || !json_object_is_type(body, json_type_object)) {
        http_res_error(res, 400, "data/validation-error", "A JSON object body is required");
        return;
    }
    char now[CLOCK_ISO_LEN];
    clock_iso8601(clock_now_ms(), now);
    if (validate_body(d->t->schema, body, SCHEMA_UPDATE, err) < 0) {
        http_res_error_from(res, err);
        return;
    }
    if (!d->strip && !json_object_object_get_ex(d->t->permissions, "columnPermissions", NULL)) {
        patch_deferred(d, req, body, now);
        return;
    }
    patch_ctx p = patch_ctx_of(d, req, body, now);
    int found = 0;
    if (store_docs_update(d->ctx->app->docs, d->env, d->table, http_req_param(req, "id"), now,
                          apply_patch, &p, http_res_buffer(res), &found, err) < 0 ||
        (!found && bs_err_set(err, 404, "data/not-found", "Record not found") < 0)) {
        http_res_error_from(res, err);
        return;
    }
    strbuf *out = http_res_buffer(res);
    if (strip_answer(d, out, 0, err) < 0) {
        http_res_error_from(res, err);
        return;
    }
    char etag[DATA_ETAG_MAX]; /* of the answer: what a GET by this caller would answer */
    etag_of(out->data, out->len, etag);
    http_res_header(res, "ETag", etag);
    api_meter_db(req, 0, 1);
    http_res_status(res, 200);
}

static void delete_record(data_req *d, http_req *req, http_res *res, bs_err *err)
{
    const char *id = http_req_param(req, "id");
    int found = 0;
    if (d->verdict == ACCESS_OWN_ROWS || http_req_header(req, "If-Match")) {
        char owner[65] = "";
        strbuf scratch;
        strbuf_init(&scratch, 0);
        int rc = store_docs_get(d->ctx->app->docs, d->env, d->table, id, &scratch, owner, &found, err);
        if (rc == 0 && found) rc = check_if_match(req, hidden_columns(d), &d->who, scratch.data, scratch.len, err);
        strbuf_release(&scratch);
        if (rc < 0 || (!found && bs_err_set(err, 404, "data/not-found", "Record not found") < 0) ||
            owner_allowed(d, owner, err) < 0) {
            http_res_error_from(res, err);
            return;
        }
    }
    if (store_docs_delete(d->ctx->app->docs, d->env, d->table, id, &found, err) < 0 ||
        (!found && bs_err_set(err, 404, "data/not-found", "Record not found") < 0)) {
        http_res_error_from(res, err);
        return;
    }
    api_meter_db(req, 0, 1);
    http_res_body(res, 200, "application/json; charset=utf-8", "{\"success\":true}", 16);
}

/* ---- list ---- */

#define DATA_CURSOR_MAX 1024   /* characters of a cursor parameter */

/* Decodes a cursor (base64url of the JSON [sortValue, id] this server handed out as nextCursor). */
static struct json_object *cursor_decode(const char *text, bs_err *err)
{
    size_t len = strlen(text);
    uint8_t raw[DATA_CURSOR_MAX];
    long n = len <= DATA_CURSOR_MAX ? crypto_base64url_decode_bounded(text, len, raw, sizeof raw) : -1;
    struct json_object *v = n > 0 ? json_parse_strict((const char *)raw, (size_t)n, NULL, NULL, err) : NULL;
    if (v && json_object_is_type(v, json_type_array) && json_object_array_length(v) == 2 &&
        json_object_is_type(json_object_array_get_idx(v, 1), json_type_string)) {
        enum json_type t = json_object_get_type(json_object_array_get_idx(v, 0));
        if (t != json_type_object && t != json_type_array) return v;
    }
    json_object_put(v);
    bs_err_set(err, 400, "data/validation-error", "cursor: not a cursor this server handed out (nextCursor)");
    return NULL;
}

static void append_pagination(strbuf *out, int64_t total, const query_plan *plan, const store_docs_paging *pg,
                              const strbuf *next_after)
{
    int64_t page = plan->page, limit = plan->limit;
    int64_t pages = total <= 0 ? 0 : (total + limit - 1) / limit;
    int more = total >= 0 && !pg->after ? page < pages : pg->has_more;
    const char *next = more ? "true" : "false", *prev = page > 1 || pg->after ? "true" : "false";
    if (total >= 0) strbuf_appendf(out, ",\"pagination\":{\"total\":%lld,", (long long)total);
    else strbuf_append_str(out, ",\"pagination\":{\"total\":null,");
    strbuf_appendf(out, "\"page\":%lld,\"limit\":%lld,", (long long)page, (long long)limit);
    if (total >= 0) strbuf_appendf(out, "\"totalPages\":%lld,", (long long)pages);
    else strbuf_append_str(out, "\"totalPages\":null,");
    strbuf_appendf(out, "\"hasNext\":%s,\"hasPrev\":%s,\"hasNextPage\":%s,\"hasPrevPage\":%s,\"nextCursor\":", next, prev,
                   next, prev);
    if (pg->has_more && next_after->len) {
        char enc[DATA_CURSOR_MAX];
        if (next_after->len * 4 / 3 + 4 < sizeof enc) {
            crypto_base64url_encode(next_after->data, next_after->len, enc);
            strbuf_appendf(out, "\"%s\"}}", enc);
            return;
        }
    }
    strbuf_append_str(out, "null}}");
}

/* The list's query shape (core/querystats) in shape; 1 when its scanned rows are worth measuring (query
 * statistics on, and no index known to serve the shape). */
static int list_shape(const data_req *d, const query_plan *plan, const char *owner, strbuf *shape)
{
    if (!d->ctx->app->stats) return 0;
    querystats_shape(plan, owner != NULL, shape);
    return querystats_scans(d->ctx->app->stats, d->env, d->table, shape->data,
                            d->t->def.index_version);
}

/* Query statistics of one list (core/querystats); a shape seen for the first time under this index
 * version is explained once to learn its index. */
static void record_list(const data_req *d, const query_plan *plan, const char *owner, const char *shape,
                        const store_docs_paging *pg, int64_t us)
{
    const char *env = d->env;
    int version = d->t->def.index_version;
    if (querystats_record(d->ctx->app->stats, env, d->table, shape, us, pg->scanned, pg->rows, version)) {
        store_explain ex;
        bs_err err;
        if (store_docs_explain(d->ctx->app->docs, env, d->table, plan, owner, &ex, &err) == 0)
            querystats_set_index(d->ctx->app->stats, env, d->table, shape, version, ex.index, ex.full_scan);
        store_explain_release(&ex);
    }
}

static int refuse_column(const data_req *d, const query_field *f, int own_rows_only, bs_err *err)
{
    if (f->kind != QUERY_FIELD_DOC || !access_column_unreadable(&d->cols, f->path, own_rows_only)) return 0;
    return bs_err_set(err, 403, "data/permission-denied", "Permission denied: the field %.64s may not be read", f->path);
}

/* Column rules on a list: a filter, sort or search field the caller may not read is refused (what it
 * selects or orders would reveal the values); a search across all fields leaves those columns out. */
static int guard_query_columns(const data_req *d, query_plan *plan, bs_err *err)
{
    if (!d->strip) return 0;
    int own = d->verdict == ACCESS_OWN_ROWS; /* every listed row is the caller's: `self` columns are readable */
    for (size_t i = 0; i < plan->nconds; i++) /* the request's own filters: row filters are added later */
        if (refuse_column(d, &plan->conds[i].field, own, err) < 0) return -1;
    if (refuse_column(d, &plan->sort, own, err) < 0) return -1;
    if (plan->has_search_field && refuse_column(d, &plan->search_field, own, err) < 0) return -1;
    if (!plan->search[0] || plan->has_search_field) return 0;
    for (size_t i = 0; i < d->cols.nhidden; i++)
        if (query_plan_search_skip(plan, d->cols.hidden[i], err) < 0) return -1;
    for (size_t i = 0; !own && i < d->cols.nown; i++)
        if (query_plan_search_skip(plan, d->cols.own_only[i], err) < 0) return -1;
    return 0;
}

static void list_records(data_req *d, http_req *req, http_res *res, bs_err *err)
{
    query_params params = {
        .page = http_req_query(req, "page"), .limit = http_req_query(req, "limit"),
        .sort_by = http_req_query(req, "sortBy"), .sort_direction = http_req_query(req, "sortDirection"),
        .search = http_req_query(req, "search"), .search_type = http_req_query(req, "searchType"),
        .and_filters = http_req_query(req, "andFilters"), .or_filters = http_req_query(req, "orFilters"),
        .select = http_req_query(req, "select")};
    static _Thread_local query_plan plan;
    int64_t total = 0;
    strbuf next_after;
    strbuf_init(&next_after, 4096);
    const char *skip = http_req_query(req, "skipTotal"), *cursor = http_req_query(req, "cursor");
    store_docs_paging paging = {.skip_total = skip && strcmp(skip, "true") == 0, .next_after = &next_after};
    char shape_mem[QUERYSTATS_SHAPE_MAX + 64];
    strbuf shape;
    strbuf_init_stack(&shape, shape_mem, sizeof shape_mem);
    strbuf *out = http_res_buffer(res);
    strbuf_append_str(out, "{\"items\":");
    size_t items_at = out->len;
    const char *owner = d->verdict == ACCESS_OWN_ROWS ? d->user_id : NULL;
    int rc = query_plan_parse(&plan, &params, d->t->schema, err);
    if (rc == 0) rc = guard_query_columns(d, &plan, err);
    struct json_object *row_filters[ACCESS_MAX_ROW_FILTERS];
    size_t nrf = rc == 0 && !d->operator ? access_row_filters(d->t->permissions, &d->who, row_filters, ACCESS_MAX_ROW_FILTERS) : 0;
    for (size_t i = 0; rc == 0 && i < nrf; i++)
        rc = query_plan_add_row_filter(&plan, row_filters[i], d->t->schema, d->user_id, err);
    if (rc == 0 && cursor && *cursor && !(paging.after = cursor_decode(cursor, err))) rc = -1;
    if (rc == 0) paging.measure_scanned = list_shape(d, &plan, owner, &shape);
    int64_t started = clock_mono_us();
    if (rc == 0)
        rc = store_docs_list(d->ctx->app->docs, d->env, d->table, &plan, owner, &paging, out, &total, err);
    if (rc == 0 && d->ctx->app->stats) record_list(d, &plan, owner, shape.data, &paging, clock_mono_us() - started);
    if (rc == 0) rc = strip_answer(d, out, items_at, err);
    if (rc == 0) append_pagination(out, total, &plan, &paging, &next_after);
    json_object_put(paging.after);
    strbuf_release(&next_after);
    strbuf_release(&shape);
    query_plan_release(&plan);
    if (rc < 0) {
        http_res_error_from(res, err);
        return;
    }
    api_meter_db(req, paging.rows, 0);
    answer_cached(req, res, NULL);
}

/* ---- spec ---- */

static void table_spec(data_req *d, http_req *req, http_res *res, bs_err *err)
{
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "tableName", json_object_new_string(d->table));
    json_object_object_add(out, "schema", json_tokener_parse(d->t->def.schema_json));
    json_object_object_add(out, "indexes", json_tokener_parse(
        "[{\"key\":{\"id\":1},\"name\":\"_id_\",\"unique\":true},{\"key\":{\"createdAt\":-1},\"name\":\"idx_createdAt_desc\"},"
        "{\"key\":{\"updatedAt\":-1},\"name\":\"idx_updatedAt_desc\"},{\"key\":{\"createdBy\":1},\"name\":\"idx_createdBy\"}]"));
    json_object_object_add(out, "permissions", access_effective_permissions(d->t->def.permissions_json));
    http_res_json(res, 200, out);
    json_object_put(out);
}

/* ---- GET .../openapi: an OpenAPI 3.0 document generated from the table's schema ---- */

/* The OpenAPI schema of one bsonType schema node (a new object). */
static struct json_object *openapi_schema(struct json_object *node, int depth)
{
    struct json_object *out = json_object_new_object(), *v;
    const char *bson = NULL;
    if (json_object_object_get_ex(node, "bsonType", &v)) {
        if (json_object_is_type(v, json_type_string)) bson = json_object_get_string(v);
        for (size_t i = 0; !bson && json_object_is_type(v, json_type_array) && i < json_object_array_length(v); i++) {
            const char *t = json_object_get_string(json_object_array_get_idx(v, i));
            if (t && strcmp(t, "null") != 0) bson = t;
            else json_object_object_add(out, "nullable", json_object_new_boolean(1));
        }
    }
    static const struct { const char *bson, *type, *format; } map[] = {
        {"string", "string", NULL}, {"int", "integer", "int32"}, {"long", "integer", "int64"}, {"double", "number", "double"},
        {"number", "number", NULL}, {"decimal", "number", NULL}, {"bool", "boolean", NULL}, {"date", "string", "date-time"},
        {"object", "object", NULL}, {"array", "array", NULL}, {"reference", "string", NULL}, {"objectId", "string", NULL}};
    for (size_t i = 0; bson && i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(bson, map[i].bson) != 0) continue;
        json_object_object_add(out, "type", json_object_new_string(map[i].type));
        if (map[i].format) json_object_object_add(out, "format", json_object_new_string(map[i].format));
    }
    static const char *const copied[] = {"minLength", "maxLength", "pattern", "minimum", "maximum", "enum", "required", "minItems", "maxItems"};
    for (size_t i = 0; i < sizeof copied / sizeof copied[0]; i++)
        if (json_object_object_get_ex(node, copied[i], &v)) json_object_object_add(out, copied[i], json_object_get(v));
    if (depth < SCHEMA_MAX_DEPTH + 2 && json_object_object_get_ex(node, "properties", &v) && json_object_is_type(v, json_type_object)) {
        struct json_object *props = json_object_new_object();
        json_object_object_foreach(v, name, sub) json_object_object_add(props, name, openapi_schema(sub, depth + 1));
        json_object_object_add(out, "properties", props);
        if (!bson) json_object_object_add(out, "type", json_object_new_string("object"));
    }
    if (depth < SCHEMA_MAX_DEPTH + 2 && json_object_object_get_ex(node, "items", &v) && json_object_is_type(v, json_type_object))
        json_object_object_add(out, "items", openapi_schema(v, depth + 1));
    return out;
}

static struct json_object *openapi_op(const char *summary, const char *ref, int status, int has_body, int has_id)
{
    char buf[256];
    struct json_object *op = json_object_new_object(), *responses = json_object_new_object();
    json_object_object_add(op, "summary", json_object_new_string(summary));
    if (has_id)
        json_object_object_add(op, "parameters", json_tokener_parse("[{\"name\":\"id\",\"in\":\"path\",\"required\":true,\"schema\":{\"type\":\"string\"}}]"));
    if (has_body) {
        snprintf(buf, sizeof buf, "{\"required\":true,\"content\":{\"application/json\":{\"schema\":{\"$ref\":\"%s\"}}}}", ref);
        json_object_object_add(op, "requestBody", json_tokener_parse(buf));
    }
    snprintf(buf, sizeof buf, "{\"description\":\"%s\",\"content\":{\"application/json\":{\"schema\":{\"$ref\":\"%s\"}}}}", summary, ref);
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    json_object_object_add(responses, code, json_tokener_parse(buf));
    json_object_object_add(responses, "default", json_tokener_parse(
        "{\"description\":\"Error\",\"content\":{\"application/json\":{\"schema\":{\"$ref\":\"#/components/schemas/Error\"}}}}"));
    json_object_object_add(op, "responses", responses);
    return op;
}

static void table_openapi(data_req *d, http_req *req, http_res *res, bs_err *err)
{
    char title[128], path[128], ref[128], list_ref[160];
    snprintf(title, sizeof title, "%s API", d->table);
    snprintf(ref, sizeof ref, "#/components/schemas/%s", d->table);
    snprintf(list_ref, sizeof list_ref, "#/components/schemas/%sList", d->table);
    struct json_object *doc = json_tokener_parse("{\"openapi\":\"3.0.0\"}"), *info = json_object_new_object();
    json_object_object_add(info, "title", json_object_new_string(title));
    json_object_object_add(info, "version", json_object_new_string("1.0.0"));
    json_object_object_add(info, "description", json_object_new_string("Generated by Basalt from the table's schema"));
    json_object_object_add(doc, "info", info);
    struct json_object *paths = json_object_new_object(), *col = json_object_new_object(), *one = json_object_new_object();
    json_object_object_add(col, "get", openapi_op("List records", list_ref, 200, 0, 0));
    json_object_object_add(col, "post", openapi_op("Create a record", ref, 201, 1, 0));
    json_object_object_add(one, "get", openapi_op("Get a record", ref, 200, 0, 1));
    json_object_object_add(one, "patch", openapi_op("Update a record", ref, 200, 1, 1));
    json_object_object_add(one, "delete", openapi_op("Delete a record", "#/components/schemas/Success", 200, 0, 1));
    snprintf(path, sizeof path, "/v1/data/%s", d->table);
    json_object_object_add(paths, path, col);
    snprintf(path, sizeof path, "/v1/data/%s/{id}", d->table);
    json_object_object_add(paths, path, one);
    json_object_object_add(doc, "paths", paths);
    struct json_object *schemas = json_object_new_object(), *sdoc = json_tokener_parse(d->t->def.schema_json);
    struct json_object *record = openapi_schema(sdoc, 0), *props;
    json_object_put(sdoc);
    json_object_object_add(record, "type", json_object_new_string("object"));
    if (!json_object_object_get_ex(record, "properties", &props)) {
        props = json_object_new_object();
        json_object_object_add(record, "properties", props);
    }
    json_object_object_add(props, "id", json_tokener_parse("{\"type\":\"string\",\"readOnly\":true}"));
    json_object_object_add(props, "createdBy", json_tokener_parse("{\"type\":\"string\",\"readOnly\":true}"));
    json_object_object_add(props, "createdAt", json_tokener_parse("{\"type\":\"string\",\"format\":\"date-time\",\"readOnly\":true}"));
    json_object_object_add(props, "updatedAt", json_tokener_parse("{\"type\":\"string\",\"format\":\"date-time\",\"readOnly\":true}"));
    json_object_object_add(schemas, d->table, record);
    char buf[512];
    snprintf(buf, sizeof buf, "{\"type\":\"object\",\"properties\":{\"items\":{\"type\":\"array\",\"items\":{\"$ref\":\"%s\"}},"
                              "\"pagination\":{\"type\":\"object\"}}}", ref);
    snprintf(title, sizeof title, "%sList", d->table);
    json_object_object_add(schemas, title, json_tokener_parse(buf));
    json_object_object_add(schemas, "Success", json_tokener_parse("{\"type\":\"object\",\"properties\":{\"success\":{\"type\":\"boolean\"}}}"));
    json_object_object_add(schemas, "Error", json_tokener_parse(
        "{\"type\":\"object\",\"properties\":{\"success\":{\"type\":\"boolean\"},\"statusCode\":{\"type\":\"integer\"},"
        "\"error\":{\"type\":\"object\",\"properties\":{\"code\":{\"type\":\"string\"},\"message\":{\"type\":\"string\"}}},"
        "\"message\":{\"type\":\"string\"}}}"));
    struct json_object *components = json_object_new_object();
    json_object_object_add(components, "schemas", schemas);
    json_object_object_add(doc, "components", components);
    http_res_json(res, 200, doc);
    json_object_put(doc);
}

/* ---- POST /v1/batch: up to 100 creates, updates and deletes in one transaction ---- */

#define BATCH_MAX_OPS 100

static int batch_delete_check(const char *current, size_t len, const char *owner, strbuf *next, void *ptr, bs_err *err)
{
    return owner_allowed(ptr, owner, err);
}

/* Runs one operation inside the transaction and appends {"status":..,"data":..} to results. */
static int batch_one(api_ctx *ctx, store_docs_tx *tx, struct json_object *op, const char *now, strbuf *results, bs_err *err)
{
    const char *method = json_get_string(op, "method"), *table = json_get_string(op, "table");
    const char *id = json_get_string(op, "id");
    struct json_object *data = NULL;
    json_object_object_get_ex(op, "data", &data);
    int kind = !method ? -1 : strcmp(method, "create") == 0 ? 0 : strcmp(method, "update") == 0 ? 1 : strcmp(method, "delete") == 0 ? 2 : -1;
    if (kind < 0 || !table) return bs_err_set(err, 400, "data/validation-error", "method (create, update, delete) and table are required");
    if (kind > 0 && !id) return bs_err_set(err, 400, "data/validation-error", "id is required for %s", method);
    if (kind < 2 && !json_object_is_type(data, json_type_object)) return bs_err_set(err, 400, "data/validation-error", "data must be an object");
    static const access_op ops[] = {ACCESS_CREATE, ACCESS_UPDATE, ACCESS_DELETE};
    data_req d = {.ctx = ctx, .env = ctx->key.environment_id, .table = table};
    if (data_prepare(&d, ops[kind], err) < 0) return -1;
    int found = 1;
    if (kind == 0) {
        store_record rec;
        char rid[KEYS_RECORD_ID_LEN + 1], *doc = NULL;
        char stamp[CLOCK_ISO_LEN];
        memcpy(stamp, now, CLOCK_ISO_LEN);
        int rc = prepare_record(&d, data, 0, 0, &rec, rid, stamp, &doc, err);
        if (rc == 0) rc = store_docs_tx_insert(tx, table, &rec, err);
        size_t at = 0;
        if (rc == 0) {
            strbuf_append_str(results, "{\"status\":201,\"data\":");
            at = results->len;
            strbuf_append_str(results, doc);
        }
        if (rc == 0) rc = strip_answer(&d, results, at, err);
        if (rc == 0) strbuf_append_char(results, '}');
        free(doc);
        return rc;
    }
    if (kind == 1) {
        patch_ctx p = patch_ctx_of(&d, NULL, data, now);
        strbuf_append_str(results, "{\"status\":200,\"data\":");
        size_t at = results->len;
        if (validate_body(d.t->schema, data, SCHEMA_UPDATE, err) < 0 ||
            store_docs_tx_update(tx, table, id, now, apply_patch, &p, results, &found, err) < 0 ||
            strip_answer(&d, results, at, err) < 0)
            return -1;
    } else {
        if (store_docs_tx_delete(tx, table, id, batch_delete_check, &d, &found, err) < 0) return -1;
        strbuf_append_str(results, "{\"status\":200,\"data\":{\"success\":true}");
    }
    if (!found) return bs_err_set(err, 404, "data/not-found", "Record not found");
    strbuf_append_char(results, '}');
    return 0;
}

static void on_batch(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    bs_err_clear(&err);
    struct json_object *body = http_req_json_borrow(req), *ops = body;
    if (body && json_object_is_type(body, json_type_object)) json_object_object_get_ex(body, "operations", &ops);
    size_t n = ops && json_object_is_type(ops, json_type_array) ? json_object_array_length(ops) : 0;
    if (n == 0 || n > BATCH_MAX_OPS) {
        http_res_error(res, 400, "data/validation-error", "operations must be an array of 1 to 100 operations");
        return;
    }
    char now[CLOCK_ISO_LEN];
    clock_iso8601(clock_now_ms(), now);
    store_docs_tx *tx = store_docs_tx_begin(ctx->app->docs, ctx->key.environment_id, &err);
    strbuf *out = http_res_buffer(res);
    strbuf_append_str(out, "{\"results\":[");
    size_t i = 0;
    int rc = tx ? 0 : -1;
    for (; rc == 0 && i < n; i++) {
        if (i) strbuf_append_char(out, ',');
        struct json_object *op = json_object_array_get_idx(ops, i);
        rc = json_object_is_type(op, json_type_object) ? batch_one(ctx, tx, op, now, out, &err)
                                                       : bs_err_set(&err, 400, "data/validation-error", "each operation must be an object");
    }
    if (rc < 0) {
        store_docs_tx_abort(tx);
        char msg[BS_ERR_MESSAGE_MAX];
        snprintf(msg, sizeof msg, "operations[%zu]: %.200s", i ? i - 1 : 0, err.message);
        memcpy(err.message, msg, sizeof msg);
        http_res_error_from(res, &err);
        return;
    }
    if (store_docs_tx_commit(tx, &err) < 0) {
        http_res_error_from(res, &err);
        return;
    }
    api_meter_db(req, 0, (int64_t)n);
    strbuf_append_str(out, "]}");
    http_res_status(res, 200);
}

/* ---- management reads (api/v1/data/records.h) ---- */

void api_records_admin_read(api_ctx *ctx, const char *env_id, const char *table, api_records_read what, http_req *req,
                            http_res *res)
{
    data_req d;
    bs_err err;
    bs_err_clear(&err);
    memset(&d, 0, sizeof d);
    d.ctx = ctx;
    d.env = env_id;
    d.table = table;
    d.operator = 1;
    d.t = table_cache_lookup(ctx->app->docs, env_id, table, &err);
    /* an environment's secret key reads only the tables its data scopes name, here as on /v1 */
    if (d.t && ctx->caller == API_CALLER_ENV_SECRET &&
        access_check_scope(ctx->key.scopes_json, table, what == API_RECORDS_LIST ? ACCESS_LIST : ACCESS_READ, &err) < 0)
        d.t = NULL;
    if (!d.t) {
        http_res_error_from(res, &err);
        return;
    }
    d.who = (access_caller){ACCESS_ADMIN, 0, "", ""};
    d.user_id = d.who.user_id;
    d.verdict = ACCESS_ALLOW;
    if (what == API_RECORDS_GET) get_record(&d, req, res, &err);
    else if (what == API_RECORDS_OPENAPI) table_openapi(&d, req, res, &err);
    else list_records(&d, req, res, &err);
}

/* ---- routing ---- */

typedef void (*data_op_fn)(data_req *d, http_req *req, http_res *res, bs_err *err);

static void run(api_ctx *ctx, http_req *req, http_res *res, access_op op, data_op_fn fn)
{
    data_req d;
    bs_err err;
    bs_err_clear(&err);
    if (data_begin(&d, ctx, req, op, &err) < 0) http_res_error_from(res, &err);
    else fn(&d, req, res, &err);
}

static void on_create(api_ctx *c, http_req *q, http_res *r) { run(c, q, r, ACCESS_CREATE, create_records); }
static void on_list(api_ctx *c, http_req *q, http_res *r) { run(c, q, r, ACCESS_LIST, list_records); }
static void on_get(api_ctx *c, http_req *q, http_res *r) { run(c, q, r, ACCESS_READ, get_record); }
static void on_patch(api_ctx *c, http_req *q, http_res *r) { run(c, q, r, ACCESS_UPDATE, patch_record); }
static void on_delete(api_ctx *c, http_req *q, http_res *r) { run(c, q, r, ACCESS_DELETE, delete_record); }
static void on_spec(api_ctx *c, http_req *q, http_res *r) { run(c, q, r, ACCESS_READ, table_spec); }
static void on_openapi(api_ctx *c, http_req *q, http_res *r) { run(c, q, r, ACCESS_READ, table_openapi); }

static int register_family(http_router *router, api_app *app, const char *base, const char *param)
{
    char col[96], one[96], spec[96], openapi[96];
    snprintf(col, sizeof col, "%s/:%s", base, param);
    snprintf(one, sizeof one, "%s/:%s/:id", base, param);
    snprintf(spec, sizeof spec, "%s/:%s/spec", base, param);
    snprintf(openapi, sizeof openapi, "%s/:%s/openapi", base, param);
    http_route_opts json = {.body = HTTP_BODY_JSON};
    if (api_route_v1(router, app, HTTP_POST, col, on_create, &json) < 0) return -1;
    /* Bodies of records count as bandwidth: past the organization's quota, lists and gets are refused (429). */
    if (api_route_v1_gated(router, app, HTTP_GET, col, on_list, NULL, API_GATE_BANDWIDTH) < 0) return -1;
    if (api_route_v1_gated(router, app, HTTP_GET, one, on_get, NULL, API_GATE_BANDWIDTH) < 0) return -1;
    if (api_route_v1(router, app, HTTP_PATCH, one, on_patch, &json) < 0) return -1;
    if (api_route_v1(router, app, HTTP_DELETE, one, on_delete, NULL) < 0) return -1;
    if (api_route_v1(router, app, HTTP_GET, openapi, on_openapi, NULL) < 0) return -1;
    return api_route_v1(router, app, HTTP_GET, spec, on_spec, NULL);
}

int api_data_register(http_router *router, api_app *app)
{
    http_route_opts json = {.body = HTTP_BODY_JSON};
    if (api_route_v1(router, app, HTTP_POST, "/v1/batch", on_batch, &json) < 0) return -1;
    if (register_family(router, app, "/v1/data", "table") < 0) return -1;
    return register_family(router, app, "/v1", "shorttable");
}
