/* files_pg: store/files.h on an environment's PostgreSQL schema (docs_pg_env.h): the schema part
 * files_pg_part (tables objects, files, uploads, upload_parts: the SQLite driver's _objects, _files,
 * _uploads, _upload_parts) and the ops table store_pg_files_ops. The statements are the SQLite driver's
 * (store/sqlite/files_sqlite.c) with $n placeholders: INSERT OR REPLACE / OR IGNORE become ON CONFLICT
 * DO UPDATE / DO NOTHING, json_each a jsonb array. Every op receives the docs_pg handle as `void *driver`. */
#include <stdio.h>
#include <string.h>

#include "store/postgres/docs_pg_env.h"
#include "store/postgres/pg_envq.h"

#define T "TEXT COLLATE \"C\""

/* Version 1: the SQLite environment step 2 (file storage). */
static const char *const files_v1[] = {
    "CREATE TABLE objects (key " T " PRIMARY KEY, content_type " T " NOT NULL, filename " T " NOT NULL,"
    " size BIGINT NOT NULL, etag " T " NOT NULL, uploaded_by " T " NOT NULL, visibility " T " NOT NULL,"
    " created_at BIGINT NOT NULL)",
    "CREATE TABLE files (id " T " PRIMARY KEY, key " T " NOT NULL UNIQUE, original_name " T " NOT NULL,"
    " mime_type " T " NOT NULL, size BIGINT NOT NULL, width BIGINT NOT NULL, height BIGINT NOT NULL,"
    " visibility " T " NOT NULL, bucket " T " NOT NULL, owner_id " T " NOT NULL, owner_type " T " NOT NULL,"
    " metadata " T " NOT NULL, shared_with " T " NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
    "CREATE INDEX files_owner ON files (owner_id, created_at)",
    "CREATE INDEX files_visibility ON files (visibility, created_at)",
    "CREATE TABLE uploads (id " T " PRIMARY KEY, key " T " NOT NULL, filename " T " NOT NULL,"
    " content_type " T " NOT NULL, file_size BIGINT NOT NULL, requested_by " T " NOT NULL, visibility " T " NOT NULL,"
    " created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL)",
    "CREATE INDEX uploads_expires ON uploads (expires_at)",
    "CREATE TABLE upload_parts (upload_id " T " NOT NULL, number BIGINT NOT NULL, size BIGINT NOT NULL,"
    " etag " T " NOT NULL, PRIMARY KEY (upload_id, number))",
};

static const pg_migration files_steps[] = {
    {1, files_v1, sizeof files_v1 / sizeof files_v1[0]},
};

const docs_pg_part files_pg_part = {"files", files_steps, sizeof files_steps / sizeof files_steps[0]};

#define OBJECT_COLUMNS "key, content_type, filename, size, etag, uploaded_by, visibility, created_at"
#define FILE_COLUMNS "id, key, original_name, mime_type, size, width, height, visibility, bucket, owner_id, owner_type," \
                     " metadata, shared_with, created_at, updated_at"
#define UPLOAD_COLUMNS "id, key, filename, content_type, file_size, requested_by, visibility, created_at, expires_at"

/* ---- objects ---- */

static int object_read(const PGresult *r, int i, void *dst, bs_err *err)
{
    store_object *o = dst;
    int bad = PGE_TEXT(r, i, 0, o->key) | PGE_TEXT(r, i, 1, o->content_type) | PGE_TEXT(r, i, 2, o->filename) |
              PGE_TEXT(r, i, 4, o->etag) | PGE_TEXT(r, i, 5, o->uploaded_by) | PGE_TEXT(r, i, 6, o->visibility);
    o->size = (uint64_t)pg_i64(r, i, 3);
    o->created_at = pg_i64(r, i, 7);
    return bad ? -1 : 0;
}

/* INSERT of o with on_conflict; *changed = whether a row was written. */
static int object_write(void *driver, const char *env_id, const char *on_conflict, const store_object *o, int *changed,
                        bs_err *err)
{
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl,
             "INSERT INTO {s}.objects (" OBJECT_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (key) %s",
             on_conflict);
    pge_params p = {0};
    PGE_FIELD(&p, o->key), PGE_FIELD(&p, o->content_type), PGE_FIELD(&p, o->filename), pge_int(&p, (int64_t)o->size);
    PGE_FIELD(&p, o->etag), PGE_FIELD(&p, o->uploaded_by), PGE_FIELD(&p, o->visibility), pge_int(&p, o->created_at);
    return pge_write1(driver, env_id, "put object", tmpl, &p, changed, err);
}

static int pg_objects_put(void *driver, const char *env_id, const store_object *o, bs_err *err)
{
    return object_write(driver, env_id,
                        "DO UPDATE SET content_type = EXCLUDED.content_type, filename = EXCLUDED.filename,"
                        " size = EXCLUDED.size, etag = EXCLUDED.etag, uploaded_by = EXCLUDED.uploaded_by,"
                        " visibility = EXCLUDED.visibility, created_at = EXCLUDED.created_at",
                        o, NULL, err);
}

static int pg_objects_claim(void *driver, const char *env_id, const store_object *o, int *claimed, bs_err *err)
{
    *claimed = 0;
    return object_write(driver, env_id, "DO NOTHING", o, claimed, err);
}

static int pg_objects_get(void *driver, const char *env_id, const char *key, store_object *out, int *found, bs_err *err)
{
    return pge_one_by(driver, env_id, "object", "SELECT " OBJECT_COLUMNS " FROM {s}.objects WHERE key = $1", key, object_read,
                      out, sizeof *out, found, err);
}

static int pg_objects_delete(void *driver, const char *env_id, const char *key, bs_err *err)
{
    return pge_write_by(driver, env_id, "delete object", "DELETE FROM {s}.objects WHERE key = $1", key, NULL, err);
}

static int key_read(const PGresult *r, int i, void *dst, bs_err *err)
{
    return pg_text(r, i, 0, dst, STORE_BLOB_KEY_MAX + 1, err);
}

static int pg_objects_keys(void *driver, const char *env_id, const char *after, char (*keys)[STORE_BLOB_KEY_MAX + 1],
                           size_t max, size_t *n, bs_err *err)
{
    pge_params p = {0};
    pge_text(&p, after), pge_limit(&p, max);
    return pge_rows1(driver, env_id, "object keys", "SELECT key FROM {s}.objects WHERE key > $1 ORDER BY key LIMIT $2", &p,
                     key_read, keys, sizeof keys[0], max, n, err);
}

static int totals_read(const PGresult *r, int i, void *dst, bs_err *err)
{
    (void)err;
    uint64_t *t = dst;
    t[0] = (uint64_t)pg_i64(r, i, 0);
    t[1] = (uint64_t)pg_i64(r, i, 1);
    return 0;
}

static int pg_objects_totals(void *driver, const char *env_id, uint64_t *count, uint64_t *bytes, bs_err *err)
{
    uint64_t t[2] = {0, 0};
    int found = 0;
    int rc = pge_one1(driver, env_id, "object totals", "SELECT count(*), coalesce(sum(size), 0) FROM {s}.objects", NULL,
                      totals_read, t, sizeof t, &found, err);
    *count = t[0];
    *bytes = t[1];
    return rc;
}

/* ---- file records ---- */

static int file_read(const PGresult *r, int i, void *dst, bs_err *err)
{
    store_file *f = dst;
    int bad = PGE_TEXT(r, i, 0, f->id) | PGE_TEXT(r, i, 1, f->key) | PGE_TEXT(r, i, 2, f->original_name) |
              PGE_TEXT(r, i, 3, f->mime_type) | PGE_TEXT(r, i, 7, f->visibility) | PGE_TEXT(r, i, 8, f->bucket) |
              PGE_TEXT(r, i, 9, f->owner_id) | PGE_TEXT(r, i, 10, f->owner_type) | PGE_TEXT(r, i, 11, f->metadata) |
              PGE_TEXT(r, i, 12, f->shared_with);
    f->size = pg_i64(r, i, 4);
    f->width = pg_i64(r, i, 5);
    f->height = pg_i64(r, i, 6);
    f->created_at = pg_i64(r, i, 13);
    f->updated_at = pg_i64(r, i, 14);
    return bad ? -1 : 0;
}

static int pg_files_create(void *driver, const char *env_id, const store_file *f, bs_err *err)
{
    pge_params p = {0};
    PGE_FIELD(&p, f->id), PGE_FIELD(&p, f->key), PGE_FIELD(&p, f->original_name), PGE_FIELD(&p, f->mime_type);
    pge_int(&p, f->size), pge_int(&p, f->width), pge_int(&p, f->height);
    PGE_FIELD(&p, f->visibility), PGE_FIELD(&p, f->bucket), PGE_FIELD(&p, f->owner_id), PGE_FIELD(&p, f->owner_type);
    pge_text(&p, f->metadata[0] ? f->metadata : "{}"), pge_text(&p, f->shared_with[0] ? f->shared_with : "[]");
    pge_int(&p, f->created_at), pge_int(&p, f->updated_at);
    if (pge_write1(driver, env_id, "insert file",
                   "INSERT INTO {s}.files (" FILE_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
                   " $13, $14, $15)",
                   &p, NULL, err) < 0)
        return pge_conflict(err, "file/s3-key-already-exists", "This key is already registered");
    return 0;
}

static int pg_files_get(void *driver, const char *env_id, const char *id, store_file *out, int *found, bs_err *err)
{
    return pge_one_by(driver, env_id, "file", "SELECT " FILE_COLUMNS " FROM {s}.files WHERE id = $1", id, file_read, out,
                      sizeof *out, found, err);
}

static int pg_files_by_key(void *driver, const char *env_id, const char *key, store_file *out, int *found, bs_err *err)
{
    return pge_one_by(driver, env_id, "file", "SELECT " FILE_COLUMNS " FROM {s}.files WHERE key = $1", key, file_read, out,
                      sizeof *out, found, err);
}

static int pg_files_update(void *driver, const char *env_id, const store_file *f, int *found, bs_err *err)
{
    pge_params p = {0};
    PGE_FIELD(&p, f->id), PGE_FIELD(&p, f->original_name), PGE_FIELD(&p, f->visibility);
    pge_text(&p, f->metadata[0] ? f->metadata : "{}"), pge_text(&p, f->shared_with[0] ? f->shared_with : "[]");
    pge_int(&p, f->updated_at);
    return pge_write1(driver, env_id, "update file",
                      "UPDATE {s}.files SET original_name = $2, visibility = $3, metadata = $4, shared_with = $5,"
                      " updated_at = $6 WHERE id = $1",
                      &p, found, err);
}

static int pg_files_delete(void *driver, const char *env_id, const char *id, int *found, bs_err *err)
{
    return pge_write_by(driver, env_id, "delete file", "DELETE FROM {s}.files WHERE id = $1", id, found, err);
}

/* The WHERE of a list: each filter a numbered parameter ($1..$7), absent ones NULL. */
#define FILES_WHERE                                                                                                   \
    " FROM {s}.files WHERE ($1::text IS NULL OR owner_id = $1 OR visibility IN ('public', 'protected')"               \
    "        OR (visibility = 'shared' AND EXISTS (SELECT 1 FROM jsonb_array_elements_text(shared_with::jsonb) v"     \
    "                                              WHERE v = $1)))"                                                   \
    " AND ($2::text IS NULL OR visibility = $2) AND ($3::text IS NULL OR owner_type = $3)"                            \
    " AND ($4::text IS NULL OR owner_id = $4) AND ($5::text IS NULL OR bucket = $5)"                                  \
    " AND ($6::text IS NULL OR mime_type = $6) AND ($7::text IS NULL OR strpos(lower(original_name), lower($7)) > 0)"

static int pg_files_list(void *driver, const char *env_id, const store_file_query *q, store_file *out, size_t *n,
                         int64_t *total, bs_err *err)
{
    static const char *const sort_col[] = {"created_at", "updated_at", "original_name", "size", "mime_type"};
    char sql[1400];
    const char *dir = q->desc ? "DESC" : "ASC";
    snprintf(sql, sizeof sql, "SELECT " FILE_COLUMNS FILES_WHERE " ORDER BY %s %s, id %s LIMIT $8 OFFSET $9",
             sort_col[q->sort], dir, dir);
    pge_page page = {"list files", sql, "SELECT count(*)" FILES_WHERE, file_read, sizeof *out};
    pge_params p = {0};
    pge_text(&p, q->viewer), pge_text(&p, q->visibility), pge_text(&p, q->owner_type), pge_text(&p, q->owner_id);
    pge_text(&p, q->bucket), pge_text(&p, q->mime_type), pge_text(&p, q->search);
    return pge_page1(driver, env_id, &page, &p, q->limit, q->offset, out, n, total, err);
}

/* ---- multipart uploads ---- */

static int upload_read(const PGresult *r, int i, void *dst, bs_err *err)
{
    store_upload *u = dst;
    int bad = PGE_TEXT(r, i, 0, u->id) | PGE_TEXT(r, i, 1, u->key) | PGE_TEXT(r, i, 2, u->filename) |
              PGE_TEXT(r, i, 3, u->content_type) | PGE_TEXT(r, i, 5, u->requested_by) | PGE_TEXT(r, i, 6, u->visibility);
    u->file_size = pg_i64(r, i, 4);
    u->created_at = pg_i64(r, i, 7);
    u->expires_at = pg_i64(r, i, 8);
    return bad ? -1 : 0;
}

static int pg_uploads_create(void *driver, const char *env_id, const store_upload *u, bs_err *err)
{
    pge_params p = {0};
    PGE_FIELD(&p, u->id), PGE_FIELD(&p, u->key), PGE_FIELD(&p, u->filename), PGE_FIELD(&p, u->content_type);
    pge_int(&p, u->file_size), PGE_FIELD(&p, u->requested_by), PGE_FIELD(&p, u->visibility);
    pge_int(&p, u->created_at), pge_int(&p, u->expires_at);
    return pge_write1(driver, env_id, "insert upload",
                      "INSERT INTO {s}.uploads (" UPLOAD_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)", &p, NULL,
                      err);
}

static int pg_uploads_get(void *driver, const char *env_id, const char *id, store_upload *out, int *found, bs_err *err)
{
    return pge_one_by(driver, env_id, "upload", "SELECT " UPLOAD_COLUMNS " FROM {s}.uploads WHERE id = $1", id, upload_read, out,
                      sizeof *out, found, err);
}

static int pg_uploads_delete(void *driver, const char *env_id, const char *id, bs_err *err)
{
    return pge_write_by(driver, env_id, "delete upload",
                        "WITH parts AS (DELETE FROM {s}.upload_parts WHERE upload_id = $1) DELETE FROM {s}.uploads WHERE id = $1",
                        id, NULL, err);
}

static int pg_uploads_part_put(void *driver, const char *env_id, const char *upload_id, const store_upload_part *part,
                               int *recorded, bs_err *err)
{
    pge_params p = {0};
    pge_text(&p, upload_id), PGE_FIELD(&p, part->etag), pge_int(&p, part->number), pge_int(&p, (int64_t)part->size);
    *recorded = 0;
    return pge_write1(driver, env_id, "put part",
                      "INSERT INTO {s}.upload_parts (upload_id, etag, number, size)"
                      " SELECT $1::text, $2::text, $3::bigint, $4::bigint WHERE EXISTS (SELECT 1 FROM {s}.uploads WHERE id = $1)"
                      " ON CONFLICT (upload_id, number) DO UPDATE SET etag = EXCLUDED.etag, size = EXCLUDED.size",
                      &p, recorded, err);
}

static int part_read(const PGresult *r, int i, void *dst, bs_err *err)
{
    store_upload_part *part = dst;
    part->number = (int)pg_i64(r, i, 0);
    part->size = (uint64_t)pg_i64(r, i, 1);
    return PGE_TEXT(r, i, 2, part->etag) ? -1 : 0;
}

static int pg_uploads_parts(void *driver, const char *env_id, const char *upload_id, store_upload_part *out, size_t max,
                            size_t *n, bs_err *err)
{
    pge_params p = {0};
    pge_text(&p, upload_id), pge_limit(&p, max);
    return pge_rows1(driver, env_id, "parts",
                     "SELECT number, size, etag FROM {s}.upload_parts WHERE upload_id = $1 ORDER BY number LIMIT $2", &p,
                     part_read, out, sizeof *out, max, n, err);
}

static int pg_uploads_expired(void *driver, const char *env_id, int64_t now, store_upload *out, size_t max, size_t *n,
                              bs_err *err)
{
    pge_params p = {0};
    pge_int(&p, now), pge_limit(&p, max);
    return pge_rows1(driver, env_id, "expired uploads",
                     "SELECT " UPLOAD_COLUMNS " FROM {s}.uploads WHERE expires_at < $1 ORDER BY expires_at, id LIMIT $2", &p,
                     upload_read, out, sizeof *out, max, n, err);
}

const store_files_ops store_pg_files_ops = {
    .objects_put = pg_objects_put,
    .objects_claim = pg_objects_claim,
    .objects_get = pg_objects_get,
    .objects_delete = pg_objects_delete,
    .objects_keys = pg_objects_keys,
    .objects_totals = pg_objects_totals,
    .files_create = pg_files_create,
    .files_get = pg_files_get,
    .files_by_key = pg_files_by_key,
    .files_update = pg_files_update,
    .files_delete = pg_files_delete,
    .files_list = pg_files_list,
    .uploads_create = pg_uploads_create,
    .uploads_get = pg_uploads_get,
    .uploads_delete = pg_uploads_delete,
    .uploads_part_put = pg_uploads_part_put,
    .uploads_parts = pg_uploads_parts,
    .uploads_expired = pg_uploads_expired,
};
