/* files: dispatch of the files store (see files.h) to the driver of the data store handle
 * (store_docs_ops.files, files_driver.h). */
#include "store/files.h"

#include "store/docs_driver.h"
#include "store/files_driver.h"

static const store_files_ops *store_docs_files_ops(const store_docs *docs)
{
    return store_docs_driver_ops(docs)->files;
}

int store_objects_put(store_docs *db, const char *env_id, const store_object *o, bs_err *err)
{
    if (!db) return bs_err_internal(err);
    return store_docs_files_ops(db)->objects_put(store_docs_driver(db), env_id, o, err);
}

int store_objects_claim(store_docs *db, const char *env_id, const store_object *o, int *claimed, bs_err *err)
{
    if (!db) return bs_err_internal(err);
    return store_docs_files_ops(db)->objects_claim(store_docs_driver(db), env_id, o, claimed, err);
}

int store_objects_get(store_docs *db, const char *env_id, const char *key, store_object *out, int *found, bs_err *err)
{
    if (!db) return bs_err_internal(err);
    return store_docs_files_ops(db)->objects_get(store_docs_driver(db), env_id, key, out, found, err);
}

int store_objects_delete(store_docs *db, const char *env_id, const char *key, bs_err *err)
{
    if (!db) return bs_err_internal(err);
    return store_docs_files_ops(db)->objects_delete(store_docs_driver(db), env_id, key, err);
}

int store_objects_keys(store_docs *db, const char *env_id, const char *after, char (*keys)[STORE_BLOB_KEY_MAX + 1],
                       size_t max, size_t *n, bs_err *err)
{
    if (!db) return bs_err_internal(err);
    return store_docs_files_ops(db)->objects_keys(store_docs_driver(db), env_id, after, keys, max, n, err);
}

int store_objects_totals(store_docs *db, const char *env_id, uint64_t *count, uint64_t *bytes, bs_err *err)
{
    if (!db) return bs_err_internal(err);
    return store_docs_files_ops(db)->objects_totals(store_docs_driver(db), env_id, count, bytes, err);
}

int store_files_create(store_docs *db, const char *env_id, const store_file *f, bs_err *err)
{
    if (!db) return bs_err_internal(err);
    return store_docs_files_ops(db)->files_create(store_docs_driver(db), env_id, f, err);
}

int store_files_get(store_docs *db, const char *env_id, const char *id, store_file *out, int *found, bs_err *err)
{
    if (!db) return bs_err_internal(err);
    return store_docs_files_ops(db)->files_get(store_docs_driver(db), env_id, id, out, found, err);
}

int store_files_by_key(store_docs *db, const char *env_id, const char *key, store_file *out, int *found, bs_err *err)
{
    if (!db) return bs_err_internal(err);
    return store_docs_files_ops(db)->files_by_key(store_docs_driver(db), env_id, key, out, found, err);
}

int store_files_update(store_docs *db, const char *env_id, const store_file *f, int *found, bs_err *err)
{
    if (!db) return bs_err_internal(err);
    return store_docs_files_ops(db)->files_update(store_docs_driver(db), env_id, f, found, err);
}

int store_files_delete(store_docs *db, const char *env_id, const char *id, int *found, bs_err *err)
{
    if (!db) return bs_err_internal(err);
    return store_docs_files_ops(db)->files_delete(store_docs_driver(db), env_id, id, found, err);
}

int store_files_list(store_docs *db, const char *env_id, const store_file_query *q, store_file *out, size_t *n,
                     int64_t *total, bs_err *err)
{
    if (!db) return bs_err_internal(err);
    return store_docs_files_ops(db)->files_list(store_docs_driver(db), env_id, q, out, n, total, err);
}

int store_uploads_create(store_docs *db, const char *env_id, const store_upload *u, bs_err *err)
{
    if (!db) return bs_err_internal(err);
    return store_docs_files_ops(db)->uploads_create(store_docs_driver(db), env_id, u, err);
}

int store_uploads_get(store_docs *db, const char *env_id, const char *id, store_upload *out, int *found, bs_err *err)
{
    if (!db) return bs_err_internal(err);
    return store_docs_files_ops(db)->uploads_get(store_docs_driver(db), env_id, id, out, found, err);
}

int store_uploads_delete(store_docs *db, const char *env_id, const char *id, bs_err *err)
{
    if (!db) return bs_err_internal(err);
    return store_docs_files_ops(db)->uploads_delete(store_docs_driver(db), env_id, id, err);
}

int store_uploads_part_put(store_docs *db, const char *env_id, const char *upload_id, const store_upload_part *p,
                           int *recorded, bs_err *err)
{
    if (!db) return bs_err_internal(err);
    return store_docs_files_ops(db)->uploads_part_put(store_docs_driver(db), env_id, upload_id, p, recorded, err);
}

int store_uploads_parts(store_docs *db, const char *env_id, const char *upload_id, store_upload_part *out, size_t max,
                        size_t *n, bs_err *err)
{
    if (!db) return bs_err_internal(err);
    return store_docs_files_ops(db)->uploads_parts(store_docs_driver(db), env_id, upload_id, out, max, n, err);
}

int store_uploads_expired(store_docs *db, const char *env_id, int64_t now, store_upload *out, size_t max, size_t *n,
                          bs_err *err)
{
    if (!db) return bs_err_internal(err);
    return store_docs_files_ops(db)->uploads_expired(store_docs_driver(db), env_id, now, out, max, n, err);
}
