/* files_sqlite: store/files.h on the environment databases (tables _objects, _files, _uploads and
 * _upload_parts, created by the versioned steps in docs_sqlite.c). */
#include "store/sqlite/files_sqlite.h"

#include <stdio.h>
#include <string.h>

#include "store/sqlite/envdb.h"

#define OBJECT_COLUMNS "key, content_type, filename, size, etag, uploaded_by, visibility, created_at"
#define FILE_COLUMNS "id, key, original_name, mime_type, size, width, height, visibility, bucket, owner_id, owner_type," \
                     " metadata, shared_with, created_at, updated_at"
#define UPLOAD_COLUMNS "id, key, filename, content_type, file_size, requested_by, visibility, created_at, expires_at"

/* A text column into a char array field of the row (sq.h: a value that does not fit fails the read). */
#define COL(st, col, field) SQ_COL_FIELD((st), (col), (field), NULL)

/* One row of sql (text parameters texts[0..n)) into out (size bytes); *found = 0 when none. */
static int read_one(sqlite_docs *db, const char *env_id, const char *sql, const char *const *texts, size_t n,
                    sq_row_reader read, void *out, size_t size, int *found, bs_err *err)
{
    docs_select q = {.sql = sql, .texts = texts, .ntexts = n, .read = read, .size = size};
    return docs_select_one(db, env_id, &q, out, found, err);
}

/* ---- objects ---- */

static int object_read(sqlite3_stmt *st, void *out)
{
    store_object *o = out;
    int bad = COL(st, 0, o->key) | COL(st, 1, o->content_type) | COL(st, 2, o->filename) | COL(st, 4, o->etag) |
              COL(st, 5, o->uploaded_by) | COL(st, 6, o->visibility);
    o->size = (uint64_t)sqlite3_column_int64(st, 3);
    o->created_at = sqlite3_column_int64(st, 7);
    return bad ? -1 : 0;
}

/* INSERT (verb) of o; *changed = whether a row was written. */
static int object_write(sqlite_docs *db, const char *env_id, const char *verb, const store_object *o, int *changed, bs_err *err)
{
    const char *texts[] = {o->key, o->content_type, o->filename}, *more[] = {o->etag, o->uploaded_by, o->visibility};
    /* bound in column order: three texts, size, three texts, created_at */
    char sql[256];
    snprintf(sql, sizeof sql, "INSERT OR %s INTO _objects (" OBJECT_COLUMNS ") VALUES (?,?,?,?,?,?,?,?)", verb);
    denv *e;
    dconn *c = docs_conn_borrow_writer(db, env_id, &e, err);
    if (!c) return -1;
    sqlite3_stmt *st = docs_stmt(c, sql, err);
    int rc = st ? 0 : -1;
    if (st) {
        sq_bind_texts(st, 1, texts, 3);
        sqlite3_bind_int64(st, 4, (int64_t)o->size);
        sq_bind_texts(st, 5, more, 3);
        sqlite3_bind_int64(st, 8, o->created_at);
        if (sqlite3_step(st) != SQLITE_DONE) rc = docs_fail(c->db, "put object", err);
        else *changed = sqlite3_changes(c->db) > 0;
        docs_stmt_done(st);
    }
    docs_conn_return_writer(db, e, c);
    return rc;
}

static int sqlite_objects_put(void *db, const char *env_id, const store_object *o, bs_err *err)
{
    int changed = 0;
    return object_write(db, env_id, "REPLACE", o, &changed, err);
}

static int sqlite_objects_claim(void *db, const char *env_id, const store_object *o, int *claimed, bs_err *err)
{
    *claimed = 0;
    return object_write(db, env_id, "IGNORE", o, claimed, err);
}

static int sqlite_objects_get(void *db, const char *env_id, const char *key, store_object *out, int *found, bs_err *err)
{
    const char *texts[] = {key};
    return read_one(db, env_id, "SELECT " OBJECT_COLUMNS " FROM _objects WHERE key = ?", texts, 1, object_read, out, sizeof *out,
                    found, err);
}

static int sqlite_objects_delete(void *db, const char *env_id, const char *key, bs_err *err)
{
    const char *texts[] = {key};
    return docs_write_one(db, env_id, "DELETE FROM _objects WHERE key = ?1", texts, 1, NULL, 0, NULL, err);
}

static int key_read(sqlite3_stmt *st, void *out)
{
    return sq_col_copy(st, 0, out, STORE_BLOB_KEY_MAX + 1, NULL);
}

static int sqlite_objects_keys(void *db, const char *env_id, const char *after, char (*keys)[STORE_BLOB_KEY_MAX + 1], size_t max,
                       size_t *n, bs_err *err)
{
    const char *texts[] = {after};
    int64_t ints[] = {max > (size_t)INT64_MAX ? -1 : (int64_t)max};
    docs_select q = {.sql = "SELECT key FROM _objects WHERE key > ? ORDER BY key LIMIT ?", .texts = texts, .ntexts = 1,
                     .ints = ints, .nints = 1, .read = key_read, .size = sizeof keys[0]};
    return docs_select_rows(db, env_id, &q, keys, max, n, err);
}

static int totals_read(sqlite3_stmt *st, void *out)
{
    uint64_t *t = out;
    t[0] = (uint64_t)sqlite3_column_int64(st, 0);
    t[1] = (uint64_t)sqlite3_column_int64(st, 1);
    return 0;
}

static int sqlite_objects_totals(void *db, const char *env_id, uint64_t *count, uint64_t *bytes, bs_err *err)
{
    int found = 0;
    uint64_t t[2] = {0, 0};
    int rc = read_one(db, env_id, "SELECT count(*), coalesce(sum(size), 0) FROM _objects", NULL, 0, totals_read, t, sizeof t,
                      &found, err);
    *count = t[0];
    *bytes = t[1];
    return rc;
}

/* ---- file records ---- */

static int file_read(sqlite3_stmt *st, void *out)
{
    store_file *f = out;
    int bad = COL(st, 0, f->id) | COL(st, 1, f->key) | COL(st, 2, f->original_name) | COL(st, 3, f->mime_type) |
              COL(st, 7, f->visibility) | COL(st, 8, f->bucket) | COL(st, 9, f->owner_id) | COL(st, 10, f->owner_type) |
              COL(st, 11, f->metadata) | COL(st, 12, f->shared_with);
    f->size = sqlite3_column_int64(st, 4);
    f->width = sqlite3_column_int64(st, 5);
    f->height = sqlite3_column_int64(st, 6);
    f->created_at = sqlite3_column_int64(st, 13);
    f->updated_at = sqlite3_column_int64(st, 14);
    return bad ? -1 : 0;
}

static int sqlite_files_create(void *db, const char *env_id, const store_file *f, bs_err *err)
{
    const char *texts[] = {f->id, f->key, f->original_name, f->mime_type, f->visibility, f->bucket, f->owner_id, f->owner_type,
                           f->metadata[0] ? f->metadata : "{}", f->shared_with[0] ? f->shared_with : "[]"};
    int64_t ints[] = {f->size, f->width, f->height, f->created_at, f->updated_at};
    bs_err e;
    bs_err_clear(&e);
    int rc = docs_write_one(db, env_id,
                            "INSERT INTO _files (id, key, original_name, mime_type, visibility, bucket, owner_id, owner_type,"
                            " metadata, shared_with, size, width, height, created_at, updated_at)"
                            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                            texts, 10, ints, 5, NULL, &e);
    if (rc < 0 && e.status == 409) return bs_err_set(err, 409, "file/s3-key-already-exists", "This key is already registered");
    if (rc < 0) *err = e;
    return rc;
}

static int sqlite_files_get(void *db, const char *env_id, const char *id, store_file *out, int *found, bs_err *err)
{
    const char *texts[] = {id};
    return read_one(db, env_id, "SELECT " FILE_COLUMNS " FROM _files WHERE id = ?", texts, 1, file_read, out, sizeof *out,
                    found, err);
}

static int sqlite_files_by_key(void *db, const char *env_id, const char *key, store_file *out, int *found, bs_err *err)
{
    const char *texts[] = {key};
    return read_one(db, env_id, "SELECT " FILE_COLUMNS " FROM _files WHERE key = ?", texts, 1, file_read, out, sizeof *out,
                    found, err);
}

static int sqlite_files_update(void *db, const char *env_id, const store_file *f, int *found, bs_err *err)
{
    const char *texts[] = {f->id, f->original_name, f->visibility, f->metadata[0] ? f->metadata : "{}",
                           f->shared_with[0] ? f->shared_with : "[]"};
    int64_t ints[] = {f->updated_at};
    return docs_write_one(db, env_id,
                          "UPDATE _files SET original_name = ?2, visibility = ?3, metadata = ?4, shared_with = ?5,"
                          " updated_at = ?6 WHERE id = ?1",
                          texts, 5, ints, 1, found, err);
}

static int sqlite_files_delete(void *db, const char *env_id, const char *id, int *found, bs_err *err)
{
    const char *texts[] = {id};
    return docs_write_one(db, env_id, "DELETE FROM _files WHERE id = ?1", texts, 1, NULL, 0, found, err);
}

/* The WHERE of a list: each filter a numbered parameter (?1..?7), absent ones compare against NULL. */
static const char list_where[] =
    " WHERE (?1 IS NULL OR owner_id = ?1 OR visibility IN ('public', 'protected')"
    "        OR (visibility = 'shared' AND EXISTS (SELECT 1 FROM json_each(shared_with) WHERE value = ?1)))"
    " AND (?2 IS NULL OR visibility = ?2) AND (?3 IS NULL OR owner_type = ?3) AND (?4 IS NULL OR owner_id = ?4)"
    " AND (?5 IS NULL OR bucket = ?5) AND (?6 IS NULL OR mime_type = ?6)"
    " AND (?7 IS NULL OR instr(lower(original_name), lower(?7)) > 0)";

static int sqlite_files_list(void *db, const char *env_id, const store_file_query *q, store_file *out, size_t *n,
                     int64_t *total, bs_err *err)
{
    static const char *const sort_col[] = {"created_at", "updated_at", "original_name", "size", "mime_type"};
    char sql[1400], count_sql[1024];
    snprintf(count_sql, sizeof count_sql, "SELECT count(*) FROM _files%s", list_where);
    snprintf(sql, sizeof sql, "SELECT " FILE_COLUMNS " FROM _files%s ORDER BY %s %s, id %s LIMIT ?8 OFFSET ?9", list_where,
             sort_col[q->sort], q->desc ? "DESC" : "ASC", q->desc ? "DESC" : "ASC");
    const char *texts[] = {q->viewer, q->visibility, q->owner_type, q->owner_id, q->bucket, q->mime_type, q->search};
    docs_select s = {.sql = sql, .count_sql = count_sql, .texts = texts, .ntexts = 7, .page_at = 8, .read = file_read,
                     .size = sizeof *out};
    return docs_select_page(db, env_id, &s, q->limit, q->offset, out, n, total, err);
}

/* ---- multipart uploads ---- */

static int upload_read(sqlite3_stmt *st, void *out)
{
    store_upload *u = out;
    int bad = COL(st, 0, u->id) | COL(st, 1, u->key) | COL(st, 2, u->filename) | COL(st, 3, u->content_type) |
              COL(st, 5, u->requested_by) | COL(st, 6, u->visibility);
    u->file_size = sqlite3_column_int64(st, 4);
    u->created_at = sqlite3_column_int64(st, 7);
    u->expires_at = sqlite3_column_int64(st, 8);
    return bad ? -1 : 0;
}

static int sqlite_uploads_create(void *db, const char *env_id, const store_upload *u, bs_err *err)
{
    const char *texts[] = {u->id, u->key, u->filename, u->content_type, u->requested_by, u->visibility};
    int64_t ints[] = {u->file_size, u->created_at, u->expires_at};
    return docs_write_one(db, env_id,
                          "INSERT INTO _uploads (id, key, filename, content_type, requested_by, visibility, file_size,"
                          " created_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?)",
                          texts, 6, ints, 3, NULL, err);
}

static int sqlite_uploads_get(void *db, const char *env_id, const char *id, store_upload *out, int *found, bs_err *err)
{
    const char *texts[] = {id};
    return read_one(db, env_id, "SELECT " UPLOAD_COLUMNS " FROM _uploads WHERE id = ?", texts, 1, upload_read, out, sizeof *out,
                    found, err);
}

static int sqlite_uploads_delete(void *db, const char *env_id, const char *id, bs_err *err)
{
    const char *texts[] = {id};
    if (docs_write_one(db, env_id, "DELETE FROM _upload_parts WHERE upload_id = ?1", texts, 1, NULL, 0, NULL, err) < 0) return -1;
    return docs_write_one(db, env_id, "DELETE FROM _uploads WHERE id = ?1", texts, 1, NULL, 0, NULL, err);
}

static int sqlite_uploads_part_put(void *db, const char *env_id, const char *upload_id, const store_upload_part *p, int *recorded,
                           bs_err *err)
{
    const char *texts[] = {upload_id, p->etag};
    int64_t ints[] = {p->number, (int64_t)p->size};
    *recorded = 0;
    return docs_write_one(db, env_id,
                          "INSERT OR REPLACE INTO _upload_parts (upload_id, etag, number, size) SELECT ?1, ?2, ?3, ?4"
                          " WHERE EXISTS (SELECT 1 FROM _uploads WHERE id = ?1)",
                          texts, 2, ints, 2, recorded, err);
}

static int part_read(sqlite3_stmt *st, void *out)
{
    store_upload_part *p = out;
    p->number = sqlite3_column_int(st, 0);
    p->size = (uint64_t)sqlite3_column_int64(st, 1);
    return COL(st, 2, p->etag);
}

static int sqlite_uploads_parts(void *db, const char *env_id, const char *upload_id, store_upload_part *out, size_t max,
                        size_t *n, bs_err *err)
{
    const char *texts[] = {upload_id};
    docs_select q = {.sql = "SELECT number, size, etag FROM _upload_parts WHERE upload_id = ? ORDER BY number",
                     .texts = texts, .ntexts = 1, .read = part_read, .size = sizeof *out};
    return docs_select_rows(db, env_id, &q, out, max, n, err);
}

static int sqlite_uploads_expired(void *db, const char *env_id, int64_t now, store_upload *out, size_t max, size_t *n,
                          bs_err *err)
{
    int64_t ints[] = {now, max > (size_t)INT64_MAX ? -1 : (int64_t)max};
    docs_select q = {.sql = "SELECT " UPLOAD_COLUMNS " FROM _uploads WHERE expires_at < ? LIMIT ?", .ints = ints, .nints = 2,
                     .read = upload_read, .size = sizeof *out};
    return docs_select_rows(db, env_id, &q, out, max, n, err);
}

const store_files_ops store_sqlite_files_ops = {
    .objects_put = sqlite_objects_put,
    .objects_claim = sqlite_objects_claim,
    .objects_get = sqlite_objects_get,
    .objects_delete = sqlite_objects_delete,
    .objects_keys = sqlite_objects_keys,
    .objects_totals = sqlite_objects_totals,
    .files_create = sqlite_files_create,
    .files_get = sqlite_files_get,
    .files_by_key = sqlite_files_by_key,
    .files_update = sqlite_files_update,
    .files_delete = sqlite_files_delete,
    .files_list = sqlite_files_list,
    .uploads_create = sqlite_uploads_create,
    .uploads_get = sqlite_uploads_get,
    .uploads_delete = sqlite_uploads_delete,
    .uploads_part_put = sqlite_uploads_part_put,
    .uploads_parts = sqlite_uploads_parts,
    .uploads_expired = sqlite_uploads_expired,
};
