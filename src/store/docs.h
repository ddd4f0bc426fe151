/* docs: the environment data stores (design.md §3): each environment's tables, one SQL table per user
 * table, each row the whole record as JSON plus the system columns used for sorting and filtering
 * (id, created_by, created_at, updated_at). Driver-neutral: callers see only the types below; store/docs.c
 * picks the driver from the location given to store_docs_open and forwards every call through
 * store/docs_driver.h. The SQLite driver is store/sqlite/docs_sqlite.c: where an environment lives comes from the locator (placement: a
 * shared cluster's file under the slot's names, or a file of its own; store_docs_set_locator).
 *
 * Each environment database also holds its table catalog (name, schema, permissions, versions), so a
 * table and its definition are created and dropped in one transaction.
 *
 * Ownership: store_docs_open returns a handle freed with store_docs_free. store_table values filled by
 * this module own their strings: release them with store_table_release. List and get answers are
 * written into caller-owned strbufs. Thread-safe: any thread may call anything at any time. */
#ifndef BASALT_STORE_DOCS_H
#define BASALT_STORE_DOCS_H

#include <stddef.h>
#include <stdint.h>

#include "store/plan.h"
#include "util/err.h"
#include "util/strbuf.h"

#define STORE_TABLE_NAME_MAX 64
#define STORE_RECORD_ID_MAX 64
#define STORE_MAX_TABLES 1000        /* tables per environment */
#define STORE_MAX_BATCH 1000         /* records per insert call */

typedef struct store_docs store_docs;

typedef struct store_table {
    char id[40];
    char name[STORE_TABLE_NAME_MAX + 1];
    char *schema_json;           /* owned; "{}" when none */
    char *permissions_json;      /* owned; NULL when the table has no permissions document */
    char *display_name;          /* owned, may be NULL */
    char *description;           /* owned, may be NULL */
    char *indexes_json;          /* owned: JSON array of the custom index definitions ("[]" when none) */
    int schema_version, index_version;
    int64_t created_at, updated_at;
} store_table;

void store_table_release(store_table *t);

/* One record to write. All strings borrowed. */
typedef struct store_record {
    const char *id;
    const char *created_by;
    const char *created_at;      /* ISO 8601 with milliseconds */
    const char *updated_at;
    const char *doc;             /* the whole record, system fields included, as JSON text */
} store_record;

store_docs *store_docs_open(const char *data_dir, bs_err *err);
void store_docs_free(store_docs *docs);

/* ---- where an environment lives (platform placement, docs/platform.md "Placement") ----
 * A locator tells the store, on an environment's first use, which database holds it: its own file, or a
 * shared cluster's file where every object of the environment is named <prefix><name> (per-slot names,
 * e.g. "s3_d_posts"). Set once at start-up, before any other call; without one every environment has its
 * own file (envs/<env_id>.db). A file from before placement (envs/<env_id>.db exists) is kept whatever the
 * locator says. */
#define STORE_ENV_FILE_MAX 256
#define STORE_ENV_PREFIX_MAX 16
#define STORE_ENV_URL_MAX 512
typedef struct store_env_location {
    char file[STORE_ENV_FILE_MAX];     /* relative to the data directory: "envs/<id>.db", "clusters/<id>.db" */
    char prefix[STORE_ENV_PREFIX_MAX]; /* "" (the file is the environment's own) or the slot's, e.g. "s3_" */
    char url[STORE_ENV_URL_MAX];       /* the cluster's database server (a registered cluster), "" = the store's
                                          own (--env-store). Only the PostgreSQL driver serves one; SQLite
                                          answers 503 for such an environment */
} store_env_location;
/* Fills out for env_id: 0, or -1 with err (the environment's calls then fail with it). */
typedef int (*store_env_locate_fn)(void *arg, const char *env_id, store_env_location *out, bs_err *err);
void store_docs_set_locator(store_docs *docs, store_env_locate_fn locate, void *arg);
/* Whether url can serve as a registered cluster's database server: a postgres:// or postgresql:// URL
 * (else 400 common/invalid-parameters) of a server that answers one connection (else 503) and, for a
 * dedicated cluster, whose role may create databases (else 400). 0, or -1. */
int store_docs_server_check(const char *url, int dedicated, bs_err *err);

/* ---- catalog ---- */
/* 409 data/table-already-exists when the name is taken; creates the SQL table and default indexes and
 * records schema version 1 and index version 1 (created_by: who, may be NULL). */
int store_docs_table_create(store_docs *docs, const char *env_id, const store_table *t, const char *created_by,
                            bs_err *err);
int store_docs_table_get(store_docs *docs, const char *env_id, const char *name, store_table *out, int *found,
                         bs_err *err);
/* All tables of an environment, by name; *out is an array of *count tables freed with store_table_list_free. */
int store_docs_table_list(store_docs *docs, const char *env_id, store_table **out, size_t *count, bs_err *err);
void store_table_list_free(store_table *tables, size_t count);
/* Writes display_name, description, schema_json, permissions_json and the versions of t (no version
 * history entry: schema and index changes go through store_docs_schema_change / _indexes_change). */
int store_docs_table_update(store_docs *docs, const char *env_id, const store_table *t, int *found, bs_err *err);
int store_docs_table_drop(store_docs *docs, const char *env_id, const char *name, int *found, bs_err *err);
int store_docs_count(store_docs *docs, const char *env_id, const char *table, int64_t *count, bs_err *err);
/* A custom index to create: 1..STORE_INDEX_MAX_FIELDS fields (checked paths), each ascending or not. */
#define STORE_INDEX_MAX_FIELDS 8
#define STORE_INDEX_NAME_MAX 64
typedef struct store_index_def {
    char name[STORE_INDEX_NAME_MAX + 1];
    query_field fields[STORE_INDEX_MAX_FIELDS];
    int desc[STORE_INDEX_MAX_FIELDS];
    size_t nfields;
    int unique;
    int sparse;                  /* only records that have the first field */
} store_index_def;

/* In one transaction: drops the named indexes, creates the new ones (a unique index over existing
 * duplicates fails with 409 data/duplicate-value and changes nothing), and stores the table's new
 * indexes_json and index_version. *found = 0 when the table does not exist. */
int store_docs_indexes_change(store_docs *docs, const char *env_id, const char *table, const store_index_def *create,
                              size_t ncreate, const char *const *drop, size_t ndrop, const char *indexes_json,
                              int index_version, const char *created_by, int *found, bs_err *err);

/* ---- schema and index versions (platform.md §11.5–11.6) ----
 * Every table keeps the history of its schema and of its custom index list: version 1 at creation,
 * one more per change. Versions are never deleted (a rollback writes a new version), except with the
 * table. */
typedef enum store_version_kind { STORE_VERSION_SCHEMA = 0, STORE_VERSION_INDEXES } store_version_kind;

typedef struct store_version {
    int version;
    char *body;                  /* owned: the schema, or the custom index list, as JSON */
    char created_by[64];         /* who made the change (operator token or key id), "" unknown */
    int64_t created_at;
} store_version;

void store_version_list_free(store_version *v, size_t n);
void store_version_release(store_version *v);  /* one version filled by store_docs_version_get */
/* The versions of one kind, newest first (at most 1000); *out freed with store_version_list_free. */
int store_docs_versions(store_docs *docs, const char *env_id, const char *table, store_version_kind kind,
                        store_version **out, size_t *count, bs_err *err);
/* One version; *found = 0 when it does not exist. Release out with store_version_release. */
int store_docs_version_get(store_docs *docs, const char *env_id, const char *table, store_version_kind kind,
                           int version, store_version *out, int *found, bs_err *err);
/* In one transaction: sets the table's schema and schema_version (= the previous + 1, checked: a
 * concurrent change makes this fail with 409 data/conflict) and records the version. */
int store_docs_schema_change(store_docs *docs, const char *env_id, const char *table, const char *schema_json,
                             int new_version, const char *created_by, int *found, bs_err *err);

/* Drops the environment's whole database (environment deletion). */
/* (With per-slot names on a shared file: every table and index of the slot goes, in one transaction, and
 * the file stays for the other slots.) */
int store_docs_env_drop(store_docs *docs, const char *env_id, bs_err *err);

/* ---- records ---- */
/* Inserts n records in one transaction: all or none. A duplicate id or a unique index violation is
 * 409 data/duplicate-value (with *failed_index set to the element, when given). */
int store_docs_insert(store_docs *docs, const char *env_id, const char *table, const store_record *records,
                      size_t n, size_t *failed_index, bs_err *err);
/* The record's JSON appended to out; *found = 0 when no such id. created_by (optional, 65 bytes) gets
 * the owner for permission checks. */
int store_docs_get(store_docs *docs, const char *env_id, const char *table, const char *id, strbuf *out,
                   char *created_by, int *found, bs_err *err);

/* Read-modify-write of one record inside one write transaction. `mutate` gets the current JSON and the
 * owner and appends the new JSON to `next` (or returns -1 with err to abort: nothing is written). The
 * new JSON is appended to out on success. */
typedef int (*store_docs_mutate_fn)(const char *current, size_t len, const char *created_by, strbuf *next,
                                    void *ctx, bs_err *err);
int store_docs_update(store_docs *docs, const char *env_id, const char *table, const char *id,
                      const char *updated_at, store_docs_mutate_fn mutate, void *ctx, strbuf *out, int *found,
                      bs_err *err);
/* Deletes one record; owner_only (when not NULL) makes it delete only a row created by that user, and
 * *found reports whether a row existed at all (so callers can tell 404 from 403). */
int store_docs_delete(store_docs *docs, const char *env_id, const char *table, const char *id, int *found,
                      bs_err *err);

/* ---- writes without waiting ----
 * The grouped writes above block their caller until the group commits. These queue the write and return
 * 0 at once; done(ctx, rc) then runs exactly once, on a store writer thread, with rc and *err telling
 * the outcome (as the blocking call would have returned). -1 with err when nothing was queued (done
 * never runs). Everything passed stays borrowed until done runs. done must not call blocking writes of
 * this store (it runs on the thread that would serve them). */
typedef void (*store_docs_done_fn)(void *ctx, int rc);
int store_docs_insert_async(store_docs *docs, const char *env_id, const char *table, const store_record *records,
                            size_t n, size_t *failed_index, bs_err *err, store_docs_done_fn done, void *ctx);
/* Replaces the record's JSON only if it is still exactly `expected` (what the caller read): *replaced = 1
 * then, 0 when the record changed or went away meanwhile (read it again and retry). */
int store_docs_replace_async(store_docs *docs, const char *env_id, const char *table, const char *id,
                             const char *expected, const char *doc, const char *updated_at, int *replaced,
                             bs_err *err, store_docs_done_fn done, void *ctx);

/* ---- transactions: several writes on one environment, all or none ---- */
typedef struct store_docs_tx store_docs_tx;
/* Starts a write transaction (NULL with err on failure). */
store_docs_tx *store_docs_tx_begin(store_docs *docs, const char *env_id, bs_err *err);
/* Commits and frees the transaction; on failure everything is rolled back. */
int store_docs_tx_commit(store_docs_tx *tx, bs_err *err);
/* Rolls back and frees. */
void store_docs_tx_abort(store_docs_tx *tx);
int store_docs_tx_insert(store_docs_tx *tx, const char *table, const store_record *record, bs_err *err);
int store_docs_tx_update(store_docs_tx *tx, const char *table, const char *id, const char *updated_at,
                         store_docs_mutate_fn mutate, void *ctx, strbuf *out, int *found, bs_err *err);
/* Deletes one record; the mutate-style `check` (may be NULL) sees it first and may refuse. */
int store_docs_tx_delete(store_docs_tx *tx, const char *table, const char *id, store_docs_mutate_fn check,
                         void *ctx, int *found, bs_err *err);

/* Paging beyond page/limit: keyset cursors and skipping the count. */
typedef struct store_docs_paging {
    int skip_total;                 /* in: do not count (total is then -1) */
    struct json_object *after;      /* in: [sortValue, id] of the last row already seen, or NULL; the plan's
                                       page is then ignored */
    int has_more;                   /* out: rows exist after this page */
    strbuf *next_after;             /* out, when not NULL: JSON [sortValue, id] of this page's last row */
    int64_t rows;                   /* out: rows answered */
    int measure_scanned;            /* in: fill scanned (query statistics are on and no index is known to
                                       serve the shape): free on SQLite, two reads of the table's statistics
                                       counters on PostgreSQL (about 0.1 ms each) */
    int64_t scanned;                /* out: rows the page query stepped through in full scans (SQLite's
                                       counter); on PostgreSQL rows it read and did not answer */
} store_docs_paging;

/* Runs a list: appends the items as a JSON array to items ("[{...},{...}]") and sets *total to the
 * number of rows matching the filters (before paging). created_by_filter (NULL = none) adds
 * createdBy = value (the `self` rule). The plan's select, when set, is done by the database. */
int store_docs_list(store_docs *docs, const char *env_id, const char *table, const query_plan *plan,
                    const char *created_by_filter, store_docs_paging *paging, strbuf *items, int64_t *total,
                    bs_err *err);

/* How the database runs a list (EXPLAIN QUERY PLAN of the very page query store_docs_list would run). */
typedef struct store_explain {
    char index[STORE_INDEX_NAME_MAX + 1];  /* API name of the index the page is read through ("_id_", a
                                              default or custom index name), "" for none */
    int full_scan;                         /* a whole table or index is walked */
    int sorts;                             /* rows are sorted after reading: no index gives the order */
    int64_t matching;                      /* rows matching the filters (an exact count) */
    int total_maintained;                  /* lists of this shape read their total kept by the writes */
    int total_maintainable;                /* it can be (else every list counts: a $regex filter, or
                                              filters too long; docs/data-api.md "Totals") */
    struct json_object *steps;             /* owned: JSON array of the plan's lines */
} store_explain;

int store_docs_explain(store_docs *docs, const char *env_id, const char *table, const query_plan *plan,
                       const char *created_by_filter, store_explain *out, bs_err *err);
void store_explain_release(store_explain *e);

/* ---- usage: table data of the storage gauge (docs/usage.md) ----
 * Bytes the environment's database objects take (records, indexes, catalog, users, file records): the used
 * pages of its own file, or the pages of its per-slot objects on a shared cluster's file. */
int store_docs_env_bytes(store_docs *docs, const char *env_id, uint64_t *bytes, bs_err *err);

#endif
