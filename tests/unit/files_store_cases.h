/* files_store_cases.h: the behaviour of the files store's public API (store/files.h), written once and run
 * against every driver of the environment data store: test_files_store.c on SQLite, test_files_store_pg.c
 * on PostgreSQL (env_store_fixture.h gives each test a fresh store). The cases use store_objects_*,
 * store_files_* and store_uploads_* only.
 *
 * Sections: objects (put, claim, keys, totals); file records (create, get, update, delete, the list's
 * viewer rule, filters, sorts and paging); multipart uploads and their parts. */
#ifndef BASALT_TESTS_FILES_STORE_CASES_H
#define BASALT_TESTS_FILES_STORE_CASES_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "env_store_fixture.h"
#include "store/files.h"

#define FS_T0 1736937000000LL

/* ---- helpers ---- */

static void fs_object(store_object *o, const char *key, uint64_t size, const char *by)
{
    memset(o, 0, sizeof *o);
    snprintf(o->key, sizeof o->key, "%s", key);
    snprintf(o->content_type, sizeof o->content_type, "image/png");
    snprintf(o->filename, sizeof o->filename, "photo.png");
    o->size = size;
    snprintf(o->etag, sizeof o->etag, "\"etag-%llu\"", (unsigned long long)size);
    snprintf(o->uploaded_by, sizeof o->uploaded_by, "%s", by);
    snprintf(o->visibility, sizeof o->visibility, "private");
    o->created_at = FS_T0;
}

static void fs_file(store_file *f, const char *id, const char *name, const char *visibility, const char *owner, int64_t size,
                    int64_t at)
{
    memset(f, 0, sizeof *f);
    snprintf(f->id, sizeof f->id, "%s", id);
    snprintf(f->key, sizeof f->key, "env_a/%s", id);
    snprintf(f->original_name, sizeof f->original_name, "%s", name);
    snprintf(f->mime_type, sizeof f->mime_type, "%s", strstr(name, ".png") ? "image/png" : "application/pdf");
    f->size = size;
    f->width = f->height = -1;
    snprintf(f->visibility, sizeof f->visibility, "%s", visibility);
    snprintf(f->owner_id, sizeof f->owner_id, "%s", owner);
    snprintf(f->owner_type, sizeof f->owner_type, "%s", owner[0] ? "user" : "service");
    f->created_at = f->updated_at = at;
}

static void fs_create(es_fixture *fx, const store_file *f)
{
    bs_err err = {0};
    assert_int_equal(store_files_create(fx->docs, ES_ENV, f, &err), 0);
}

/* ---- objects ---- */

static void test_objects(void **state)
{
    es_fixture *fx = es_fix(state);
    bs_err err = {0};
    store_object o, got;
    int found = 0, claimed = 0;
    fs_object(&o, "env_a/b.png", 100, "usr_1");
    assert_int_equal(store_objects_put(fx->docs, ES_ENV, &o, &err), 0);
    assert_int_equal(store_objects_get(fx->docs, ES_ENV, "env_a/b.png", &got, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_true(got.size == 100);
    assert_string_equal(got.etag, "\"etag-100\"");
    assert_string_equal(got.uploaded_by, "usr_1");
    assert_string_equal(got.visibility, "private");
    assert_string_equal(got.filename, "photo.png");
    assert_true(got.created_at == FS_T0);

    fs_object(&o, "env_a/b.png", 250, ""); /* put replaces */
    assert_int_equal(store_objects_put(fx->docs, ES_ENV, &o, &err), 0);
    assert_int_equal(store_objects_get(fx->docs, ES_ENV, "env_a/b.png", &got, &found, &err), 0);
    assert_true(got.size == 250);
    assert_string_equal(got.uploaded_by, "");

    fs_object(&o, "env_a/b.png", 7, "usr_2"); /* claim writes once */
    assert_int_equal(store_objects_claim(fx->docs, ES_ENV, &o, &claimed, &err), 0);
    assert_int_equal(claimed, 0);
    assert_int_equal(store_objects_get(fx->docs, ES_ENV, "env_a/b.png", &got, &found, &err), 0);
    assert_true(got.size == 250);
    fs_object(&o, "env_a/a.png", 7, "usr_2");
    assert_int_equal(store_objects_claim(fx->docs, ES_ENV, &o, &claimed, &err), 0);
    assert_int_equal(claimed, 1);
    fs_object(&o, "env_a/c/d.png", 3000000000ULL, "usr_2"); /* more than 32 bits */
    assert_int_equal(store_objects_put(fx->docs, ES_ENV, &o, &err), 0);

    uint64_t count = 0, bytes = 0;
    assert_int_equal(store_objects_totals(fx->docs, ES_ENV, &count, &bytes, &err), 0);
    assert_true(count == 3);
    assert_true(bytes == 250 + 7 + 3000000000ULL);
    assert_int_equal(store_objects_totals(fx->docs, ES_OTHER_ENV, &count, &bytes, &err), 0);
    assert_true(count == 0 && bytes == 0);

    char keys[2][STORE_BLOB_KEY_MAX + 1];
    size_t n = 0;
    assert_int_equal(store_objects_keys(fx->docs, ES_ENV, "", keys, 2, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(keys[0], "env_a/a.png");
    assert_string_equal(keys[1], "env_a/b.png");
    assert_int_equal(store_objects_keys(fx->docs, ES_ENV, keys[1], keys, 2, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(keys[0], "env_a/c/d.png");
    assert_int_equal(store_objects_keys(fx->docs, ES_ENV, keys[0], keys, 2, &n, &err), 0);
    assert_int_equal(n, 0);

    assert_int_equal(store_objects_delete(fx->docs, ES_ENV, "env_a/b.png", &err), 0);
    assert_int_equal(store_objects_get(fx->docs, ES_ENV, "env_a/b.png", &got, &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(store_objects_delete(fx->docs, ES_ENV, "env_a/none", &err), 0);
    assert_int_equal(store_objects_totals(fx->docs, ES_ENV, &count, &bytes, &err), 0);
    assert_true(count == 2);

    /* an environment with a database of its own (a dedicated cluster) */
    fs_object(&o, "env_own/x.png", 5, "usr_1");
    assert_int_equal(store_objects_put(fx->docs, ES_OWN_ENV, &o, &err), 0);
    assert_int_equal(store_objects_totals(fx->docs, ES_OWN_ENV, &count, &bytes, &err), 0);
    assert_true(count == 1 && bytes == 5);
    assert_int_equal(store_docs_env_drop(fx->docs, ES_OWN_ENV, &err), 0);
}

/* ---- file records ---- */

static void test_files_records(void **state)
{
    es_fixture *fx = es_fix(state);
    bs_err err = {0};
    store_file f, got;
    int found = 0;
    fs_file(&f, "fil_1", "Report.pdf", "private", "usr_1", 1234, FS_T0);
    snprintf(f.bucket, sizeof f.bucket, "docs");
    snprintf(f.metadata, sizeof f.metadata, "{\"pages\":3}");
    f.width = 640;
    f.height = 480;
    fs_create(fx, &f);
    assert_int_equal(store_files_get(fx->docs, ES_ENV, "fil_1", &got, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(got.key, "env_a/fil_1");
    assert_string_equal(got.original_name, "Report.pdf");
    assert_string_equal(got.mime_type, "application/pdf");
    assert_string_equal(got.bucket, "docs");
    assert_string_equal(got.owner_type, "user");
    assert_string_equal(got.metadata, "{\"pages\":3}");
    assert_string_equal(got.shared_with, "[]"); /* "" is stored as the empty array */
    assert_true(got.size == 1234 && got.width == 640 && got.height == 480 && got.created_at == FS_T0);
    assert_int_equal(store_files_by_key(fx->docs, ES_ENV, "env_a/fil_1", &got, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(got.id, "fil_1");
    assert_int_equal(store_files_by_key(fx->docs, ES_ENV, "env_a/none", &got, &found, &err), 0);
    assert_int_equal(found, 0);

    fs_file(&f, "fil_2", "Other.pdf", "public", "usr_1", 1, FS_T0);
    snprintf(f.key, sizeof f.key, "env_a/fil_1"); /* the key has a record */
    assert_int_equal(store_files_create(fx->docs, ES_ENV, &f, &err), -1);
    assert_int_equal(err.status, 409);
    assert_string_equal(err.code, "file/s3-key-already-exists");

    assert_int_equal(store_files_get(fx->docs, ES_ENV, "fil_1", &f, &found, &err), 0);
    snprintf(f.original_name, sizeof f.original_name, "Final.pdf");
    snprintf(f.visibility, sizeof f.visibility, "shared");
    snprintf(f.shared_with, sizeof f.shared_with, "[\"usr_2\"]");
    f.metadata[0] = '\0';
    f.size = 999; /* not written by an update */
    f.updated_at = FS_T0 + 5;
    assert_int_equal(store_files_update(fx->docs, ES_ENV, &f, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(store_files_get(fx->docs, ES_ENV, "fil_1", &got, &found, &err), 0);
    assert_string_equal(got.original_name, "Final.pdf");
    assert_string_equal(got.visibility, "shared");
    assert_string_equal(got.shared_with, "[\"usr_2\"]");
    assert_string_equal(got.metadata, "{}");
    assert_true(got.size == 1234 && got.updated_at == FS_T0 + 5);
    fs_file(&f, "fil_none", "x.pdf", "public", "usr_1", 1, FS_T0);
    assert_int_equal(store_files_update(fx->docs, ES_ENV, &f, &found, &err), 0);
    assert_int_equal(found, 0);

    assert_int_equal(store_files_delete(fx->docs, ES_ENV, "fil_1", &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(store_files_delete(fx->docs, ES_ENV, "fil_1", &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(store_files_get(fx->docs, ES_ENV, "fil_1", &got, &found, &err), 0);
    assert_int_equal(found, 0);
}

/* ids of a page, comma-joined, into out */
static const char *fs_ids(const store_file *files, size_t n, char *out, size_t cap)
{
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && at < cap; i++) {
        int w = snprintf(out + at, cap - at, "%s%s", i ? "," : "", files[i].id);
        if (w < 0) break;
        at += (size_t)w;
    }
    return out;
}

static void fs_list(es_fixture *fx, const store_file_query *q, const char *want_ids, int64_t want_total)
{
    bs_err err = {0};
    store_file out[8];
    size_t n = 0;
    int64_t total = -1;
    char ids[256];
    assert_int_equal(store_files_list(fx->docs, ES_ENV, q, out, &n, &total, &err), 0);
    assert_string_equal(fs_ids(out, n, ids, sizeof ids), want_ids);
    assert_true(total == want_total);
}

static void test_files_list(void **state)
{
    es_fixture *fx = es_fix(state);
    store_file f;
    fs_file(&f, "fil_1", "beach.png", "public", "usr_1", 300, FS_T0 + 1);
    fs_create(fx, &f);
    fs_file(&f, "fil_2", "Taxes.pdf", "private", "usr_1", 100, FS_T0 + 2);
    snprintf(f.bucket, sizeof f.bucket, "docs");
    fs_create(fx, &f);
    fs_file(&f, "fil_3", "notes.pdf", "private", "usr_2", 200, FS_T0 + 3);
    fs_create(fx, &f);
    fs_file(&f, "fil_4", "team.png", "shared", "usr_2", 400, FS_T0 + 4);
    snprintf(f.shared_with, sizeof f.shared_with, "[\"usr_3\",\"usr_1\"]");
    fs_create(fx, &f);
    fs_file(&f, "fil_5", "logo.png", "protected", "", 50, FS_T0 + 5);
    fs_create(fx, &f);
    fs_file(&f, "fil_6", "secret.png", "shared", "usr_2", 10, FS_T0 + 6);
    snprintf(f.shared_with, sizeof f.shared_with, "[\"usr_3\"]");
    fs_create(fx, &f);

    /* the secret key sees everything; sorted by creation, newest first */
    fs_list(fx, &(store_file_query){.desc = 1, .limit = 8}, "fil_6,fil_5,fil_4,fil_3,fil_2,fil_1", 6);
    /* a user: their own, public, protected, and what is shared with them */
    fs_list(fx, &(store_file_query){.viewer = "usr_1", .limit = 8}, "fil_1,fil_2,fil_4,fil_5", 4);
    fs_list(fx, &(store_file_query){.viewer = "usr_3", .limit = 8}, "fil_1,fil_4,fil_5,fil_6", 4);
    fs_list(fx, &(store_file_query){.viewer = "usr_9", .limit = 8}, "fil_1,fil_5", 2);
    /* filters */
    fs_list(fx, &(store_file_query){.visibility = "private", .limit = 8}, "fil_2,fil_3", 2);
    fs_list(fx, &(store_file_query){.owner_id = "usr_2", .limit = 8}, "fil_3,fil_4,fil_6", 3);
    fs_list(fx, &(store_file_query){.owner_type = "service", .limit = 8}, "fil_5", 1);
    fs_list(fx, &(store_file_query){.bucket = "docs", .limit = 8}, "fil_2", 1);
    fs_list(fx, &(store_file_query){.mime_type = "image/png", .viewer = "usr_1", .limit = 8}, "fil_1,fil_4,fil_5", 3);
    fs_list(fx, &(store_file_query){.search = "TAX", .limit = 8}, "fil_2", 1); /* case-insensitive substring */
    fs_list(fx, &(store_file_query){.search = "S.P", .limit = 8}, "fil_2,fil_3", 2); /* not a pattern */
    /* sorts and paging */
    fs_list(fx, &(store_file_query){.sort = STORE_FILES_BY_SIZE, .desc = 1, .limit = 2}, "fil_4,fil_1", 6);
    fs_list(fx, &(store_file_query){.sort = STORE_FILES_BY_SIZE, .desc = 1, .limit = 2, .offset = 4}, "fil_5,fil_6", 6);
    fs_list(fx, &(store_file_query){.sort = STORE_FILES_BY_NAME, .limit = 3}, "fil_2,fil_1,fil_5", 6); /* bytes: T < b */
    fs_list(fx, &(store_file_query){.sort = STORE_FILES_BY_TYPE, .limit = 8, .viewer = "usr_2"},
            "fil_3,fil_1,fil_4,fil_5,fil_6", 5);
    fs_list(fx, &(store_file_query){.sort = STORE_FILES_BY_UPDATED, .desc = 1, .limit = 1, .offset = 10}, "", 6);
}

/* ---- multipart uploads ---- */

static void fs_upload(es_fixture *fx, const char *id, int64_t expires_at)
{
    store_upload u;
    bs_err err = {0};
    memset(&u, 0, sizeof u);
    snprintf(u.id, sizeof u.id, "%s", id);
    snprintf(u.key, sizeof u.key, "env_a/big-%s.bin", id);
    snprintf(u.filename, sizeof u.filename, "big.bin");
    snprintf(u.content_type, sizeof u.content_type, "application/octet-stream");
    u.file_size = 12LL << 30;
    snprintf(u.requested_by, sizeof u.requested_by, "usr_1");
    snprintf(u.visibility, sizeof u.visibility, "private");
    u.created_at = FS_T0;
    u.expires_at = expires_at;
    assert_int_equal(store_uploads_create(fx->docs, ES_ENV, &u, &err), 0);
}

static void fs_part(es_fixture *fx, const char *upload, int number, uint64_t size, const char *etag, int want_recorded)
{
    store_upload_part p;
    bs_err err = {0};
    int recorded = -1;
    memset(&p, 0, sizeof p);
    p.number = number;
    p.size = size;
    snprintf(p.etag, sizeof p.etag, "%s", etag);
    assert_int_equal(store_uploads_part_put(fx->docs, ES_ENV, upload, &p, &recorded, &err), 0);
    assert_int_equal(recorded, want_recorded);
}

static void test_uploads(void **state)
{
    es_fixture *fx = es_fix(state);
    bs_err err = {0};
    store_upload got;
    int found = 0;
    fs_upload(fx, "upl_1", FS_T0 + 1000);
    fs_upload(fx, "upl_2", FS_T0 + 1000);
    assert_int_equal(store_uploads_create(fx->docs, ES_ENV, &(store_upload){.id = "upl_1"}, &err), -1);
    assert_int_equal(err.status, 409);
    assert_int_equal(store_uploads_get(fx->docs, ES_ENV, "upl_1", &got, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(got.key, "env_a/big-upl_1.bin");
    assert_string_equal(got.content_type, "application/octet-stream");
    assert_true(got.file_size == 12LL << 30 && got.expires_at == FS_T0 + 1000);
    assert_string_equal(got.requested_by, "usr_1");

    fs_part(fx, "upl_1", 2, 5000000000ULL, "\"e2\"", 1);
    fs_part(fx, "upl_1", 1, 100, "\"e1\"", 1);
    fs_part(fx, "upl_1", 1, 101, "\"e1b\"", 1);   /* a part sent again replaces it */
    fs_part(fx, "upl_2", 1, 7, "\"x\"", 1);
    fs_part(fx, "upl_none", 1, 7, "\"x\"", 0);    /* no such upload: not recorded */
    store_upload_part parts[4];
    size_t n = 0;
    assert_int_equal(store_uploads_parts(fx->docs, ES_ENV, "upl_1", parts, 4, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(parts[0].number, 1);
    assert_true(parts[0].size == 101);
    assert_string_equal(parts[0].etag, "\"e1b\"");
    assert_int_equal(parts[1].number, 2);
    assert_true(parts[1].size == 5000000000ULL);
    assert_int_equal(store_uploads_parts(fx->docs, ES_ENV, "upl_1", parts, 1, &n, &err), 0);
    assert_int_equal(n, 1);

    assert_int_equal(store_uploads_delete(fx->docs, ES_ENV, "upl_1", &err), 0);
    assert_int_equal(store_uploads_get(fx->docs, ES_ENV, "upl_1", &got, &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(store_uploads_parts(fx->docs, ES_ENV, "upl_1", parts, 4, &n, &err), 0);
    assert_int_equal(n, 0); /* its parts went with it */
    fs_part(fx, "upl_1", 3, 7, "\"late\"", 0);      /* a part arriving after completion */
    assert_int_equal(store_uploads_parts(fx->docs, ES_ENV, "upl_2", parts, 4, &n, &err), 0);
    assert_int_equal(n, 1); /* another upload's untouched */
}

static void test_uploads_expired(void **state)
{
    es_fixture *fx = es_fix(state);
    bs_err err = {0};
    fs_upload(fx, "upl_1", FS_T0 + 10);
    fs_upload(fx, "upl_2", FS_T0 + 20);
    fs_upload(fx, "upl_3", FS_T0 + 30);
    store_upload out[4];
    size_t n = 0;
    assert_int_equal(store_uploads_expired(fx->docs, ES_ENV, FS_T0 + 10, out, 4, &n, &err), 0);
    assert_int_equal(n, 0); /* expired before now, strictly */
    assert_int_equal(store_uploads_expired(fx->docs, ES_ENV, FS_T0 + 25, out, 4, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_true((!strcmp(out[0].id, "upl_1") && !strcmp(out[1].id, "upl_2")) ||
                (!strcmp(out[0].id, "upl_2") && !strcmp(out[1].id, "upl_1")));
    assert_int_equal(store_uploads_expired(fx->docs, ES_ENV, FS_T0 + 100, out, 1, &n, &err), 0);
    assert_int_equal(n, 1); /* at most max */
    assert_int_equal(store_uploads_delete(fx->docs, ES_ENV, out[0].id, &err), 0);
    assert_int_equal(store_uploads_expired(fx->docs, ES_ENV, FS_T0 + 100, out, 4, &n, &err), 0);
    assert_int_equal(n, 2);
}

#define FILES_STORE_CASES(setup, teardown)                                 \
    cmocka_unit_test_setup_teardown(test_objects, setup, teardown),        \
    cmocka_unit_test_setup_teardown(test_files_records, setup, teardown),  \
    cmocka_unit_test_setup_teardown(test_files_list, setup, teardown),     \
    cmocka_unit_test_setup_teardown(test_uploads, setup, teardown),        \
    cmocka_unit_test_setup_teardown(test_uploads_expired, setup, teardown)

#endif
