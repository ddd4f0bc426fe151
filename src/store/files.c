/* files: dispatch of the files store (see files.h) to the driver serving the environment (its route in
 * store/docs.c: store_docs_call_begin; reads and writes told apart for a move's write block) of the data store handle
 * (store_docs_ops.files, files_driver.h). */
#include "store/files.h"

#include "store/docs_driver.h"
#include "store/files_driver.h"

int store_objects_put(store_docs *db, const char *env_id, const store_object *o, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->files->objects_put(call.driver, env_id, o, err);
    store_docs_call_end(&call);
    return rc;
}

int store_objects_claim(store_docs *db, const char *env_id, const store_object *o, int *claimed, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->files->objects_claim(call.driver, env_id, o, claimed, err);
    store_docs_call_end(&call);
    return rc;
}

int store_objects_get(store_docs *db, const char *env_id, const char *key, store_object *out, int *found, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->files->objects_get(call.driver, env_id, key, out, found, err);
    store_docs_call_end(&call);
    return rc;
}

int store_objects_delete(store_docs *db, const char *env_id, const char *key, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->files->objects_delete(call.driver, env_id, key, err);
    store_docs_call_end(&call);
    return rc;
}

int store_objects_keys(store_docs *db, const char *env_id, const char *after, char (*keys)[STORE_BLOB_KEY_MAX + 1],
                       size_t max, size_t *n, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->files->objects_keys(call.driver, env_id, after, keys, max, n, err);
    store_docs_call_end(&call);
    return rc;
}

int store_objects_totals(store_docs *db, const char *env_id, uint64_t *count, uint64_t *bytes, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->files->objects_totals(call.driver, env_id, count, bytes, err);
    store_docs_call_end(&call);
    return rc;
}

int store_files_create(store_docs *db, const char *env_id, const store_file *f, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->files->files_create(call.driver, env_id, f, err);
    store_docs_call_end(&call);
    return rc;
}

int store_files_get(store_docs *db, const char *env_id, const char *id, store_file *out, int *found, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->files->files_get(call.driver, env_id, id, out, found, err);
    store_docs_call_end(&call);
    return rc;
}

int store_files_by_key(store_docs *db, const char *env_id, const char *key, store_file *out, int *found, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->files->files_by_key(call.driver, env_id, key, out, found, err);
    store_docs_call_end(&call);
    return rc;
}

int store_files_update(store_docs *db, const char *env_id, const store_file *f, int *found, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->files->files_update(call.driver, env_id, f, found, err);
    store_docs_call_end(&call);
    return rc;
}

int store_files_delete(store_docs *db, const char *env_id, const char *id, int *found, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->files->files_delete(call.driver, env_id, id, found, err);
    store_docs_call_end(&call);
    return rc;
}

int store_files_list(store_docs *db, const char *env_id, const store_file_query *q, store_file *out, size_t *n,
                     int64_t *total, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->files->files_list(call.driver, env_id, q, out, n, total, err);
    store_docs_call_end(&call);
    return rc;
}

int store_uploads_create(store_docs *db, const char *env_id, const store_upload *u, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->files->uploads_create(call.driver, env_id, u, err);
    store_docs_call_end(&call);
    return rc;
}

int store_uploads_get(store_docs *db, const char *env_id, const char *id, store_upload *out, int *found, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->files->uploads_get(call.driver, env_id, id, out, found, err);
    store_docs_call_end(&call);
    return rc;
}

int store_uploads_delete(store_docs *db, const char *env_id, const char *id, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->files->uploads_delete(call.driver, env_id, id, err);
    store_docs_call_end(&call);
    return rc;
}

int store_uploads_part_put(store_docs *db, const char *env_id, const char *upload_id, const store_upload_part *p,
                           int *recorded, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 1, &call, err) < 0) return -1;
    int rc = call.ops->files->uploads_part_put(call.driver, env_id, upload_id, p, recorded, err);
    store_docs_call_end(&call);
    return rc;
}

int store_uploads_parts(store_docs *db, const char *env_id, const char *upload_id, store_upload_part *out, size_t max,
                        size_t *n, bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->files->uploads_parts(call.driver, env_id, upload_id, out, max, n, err);
    store_docs_call_end(&call);
    return rc;
}

int store_uploads_expired(store_docs *db, const char *env_id, int64_t now, store_upload *out, size_t max, size_t *n,
                          bs_err *err)
{
    store_docs_call call;
    if (store_docs_call_begin(db, env_id, 0, &call, err) < 0) return -1;
    int rc = call.ops->files->uploads_expired(call.driver, env_id, now, out, max, n, err);
    store_docs_call_end(&call);
    return rc;
}
