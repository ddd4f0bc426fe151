/* docs_pg_records: the records ops of the PostgreSQL docs driver (store/docs.h "records", "writes without
 * waiting", "transactions", lists). A record is one row of "<schema>"."d_T" (docs_pg_sql.h): body holds the
 * record's JSON exactly as the API wrote it (system fields included, as on SQLite), and reads answer it as
 * it is (jsonb's own text would reorder keys, change spacing and spell large numbers as long integers: the
 * ETag of a write's answer would not match the next read's, and json-c reads integers past 2^64 as
 * 2^64-1); doc, the jsonb the filters and indexes read, is generated from it. Writes run at once on a
 * borrowed connection; the _async calls queue theirs for the driver's writer threads (docs_pg_writers.h),
 * which call done; reads-for-update lock the row (SELECT ... FOR UPDATE). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/docs_pg.h"
#include "store/postgres/docs_pg_call.h"
#include "store/postgres/docs_pg_sql.h"
#include "util/check.h"
#include "util/hash.h"

#define RECORD_OWNER_MAX 65          /* store_docs_get's created_by buffer */
#define STMT_MEM 256

/* A records statement's text: "<before>"<schema>"."d_<table>"<after>" in caller stack memory. */
typedef struct stmt {
    char mem[STMT_MEM];
    strbuf sql;
} stmt;

static const char *stmt_text(stmt *s, const char *before, const docs_pg_env *env, const char *table, const char *after)
{
    strbuf_init_stack(&s->sql, s->mem, sizeof s->mem);
    docs_pg_table_stmt(&s->sql, before, env, table, after);
    return s->sql.data;
}

static void stmt_done(stmt *s) { strbuf_release(&s->sql); }

/* ---- records ---- */

#define RECORD_PARAMS 5

/* Inserts n records with one statement (all or none): INSERT ... VALUES ($1, ..., $5), ($6, ...). */
static int insert_rows(const docs_pg_call *call, const char *table, const store_record *records, size_t n, bs_err *err)
{
    BS_ASSERT(n >= 1 && n <= STORE_MAX_BATCH);
    const char **params = calloc(n * RECORD_PARAMS, sizeof *params);
    strbuf sql;
    strbuf_init(&sql, 0);
    docs_pg_table_stmt(&sql, "INSERT INTO ", &call->env, table, " (id, created_by, created_at, updated_at, body) VALUES ");
    for (size_t i = 0; params && i < n; i++) {
        const store_record *r = &records[i];
        const char *row[RECORD_PARAMS] = {r->id, r->created_by ? r->created_by : "", r->created_at, r->updated_at, r->doc};
        memcpy(params + i * RECORD_PARAMS, row, sizeof row);
        size_t p = i * RECORD_PARAMS;
        strbuf_appendf(&sql, "%s($%zu, $%zu, $%zu, $%zu, $%zu)", i ? ", " : "", p + 1, p + 2, p + 3, p + 4, p + 5);
    }
    int rc = !params || sql.overflow ? bs_err_internal(err)
                                     : docs_pg_command(call, "insert", sql.data, (int)(n * RECORD_PARAMS), params, NULL, err);
    strbuf_release(&sql);
    free(params);
    return rc;
}

/* Which of n records fails to insert (after insert_rows of all of them failed): inserted one by one in a
 * transaction rolled back at the end. *index = 0 when none does alone. */
static void insert_culprit(const docs_pg_call *call, const char *table, const store_record *records, size_t n, size_t *index)
{
    bs_err scratch = {0};
    *index = 0;
    if (pg_begin(call->env.pool, call->conn, &scratch) < 0) return;
    *index = n;
    for (size_t i = 0; i < n && *index == n; i++)
        if (insert_rows(call, table, &records[i], 1, &scratch) < 0) *index = i;
    pg_rollback(call->conn);
    if (*index == n) *index = 0;
}

/* The row's doc text and owner, locked for the rest of the transaction; NULL with *found = 0 when none. */
static PGresult *row_for_update(const docs_pg_call *call, const char *table, const char *id, int *found, bs_err *err)
{
    stmt s;
    const char *params[] = {id};
    PGresult *r = docs_pg_exec(call, "get for update", stmt_text(&s, "SELECT body, created_by FROM ", &call->env, table,
                               " WHERE id = $1 FOR UPDATE"), 1, params, err);
    stmt_done(&s);
    *found = r && PQntuples(r) > 0;
    return r;
}

/* Calls fn (mutate or check) on the row of r: its JSON and its owner. */
static int row_visit(const PGresult *r, store_docs_mutate_fn fn, void *ctx, strbuf *next, bs_err *err)
{
    char owner[RECORD_OWNER_MAX];
    if (pg_text(r, 0, 1, owner, sizeof owner, err) < 0) return -1;
    return fn(PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0), owner, next, ctx, err);
}

static int row_write(const docs_pg_call *call, const char *table, const char *id, const char *doc, const char *updated_at,
                     bs_err *err)
{
    stmt s;
    const char *params[] = {doc, updated_at, id};
    int rc = docs_pg_command(call, "update", stmt_text(&s, "UPDATE ", &call->env, table,
                             " SET body = $1, updated_at = $2 WHERE id = $3"), 3, params, NULL, err);
    stmt_done(&s);
    return rc;
}

/* Read-modify-write of one record inside the call's transaction. */
static int update_locked(const docs_pg_call *call, const char *table, const char *id, const char *updated_at,
                         store_docs_mutate_fn mutate, void *ctx, strbuf *out, int *found, bs_err *err)
{
    PGresult *r = row_for_update(call, table, id, found, err);
    if (!r) return -1;
    strbuf next;
    strbuf_init(&next, 0);
    int rc = *found ? row_visit(r, mutate, ctx, &next, err) : 0;
    PQclear(r);
    if (rc == 0 && *found && next.overflow) rc = bs_err_internal(err);
    if (rc == 0 && *found) rc = row_write(call, table, id, next.data ? next.data : "", updated_at, err);
    if (rc == 0 && *found) strbuf_append(out, next.data, next.len);
    strbuf_release(&next);
    return rc;
}

static int delete_row(const docs_pg_call *call, const char *table, const char *id, int *found, bs_err *err)
{
    stmt s;
    const char *params[] = {id};
    int64_t changed = 0;
    int rc = docs_pg_command(call, "delete", stmt_text(&s, "DELETE FROM ", &call->env, table, " WHERE id = $1"), 1, params,
                             &changed, err);
    stmt_done(&s);
    *found = rc == 0 && changed > 0;
    return rc;
}

/* ---- single calls ---- */

static int batch_check(size_t n, bs_err *err)
{
    return n == 0 || n > STORE_MAX_BATCH
               ? bs_err_set(err, 400, "data/validation-error", "Between 1 and %d records per call", STORE_MAX_BATCH)
               : 0;
}

/* 1 when id names no record: text that is not UTF-8 (a UTF8 database holds none, and refuses it as a
 * parameter) is not found, as on SQLite. */
static int id_absent(const char *id) { return !strbuf_utf8_valid(id, strlen(id)); }

int docs_pg_insert(void *driver, const char *env_id, const char *table, const store_record *records, size_t n,
                   size_t *failed_index, bs_err *err)
{
    docs_pg_call call;
    if (batch_check(n, err) < 0 || docs_pg_table_check(table, err) < 0 || docs_pg_call_begin(driver, env_id, 0, &call, err) < 0)
        return -1;
    int rc = insert_rows(&call, table, records, n, err);
    if (rc < 0 && failed_index) {
        if (n > 1 && err && err->status == 409) insert_culprit(&call, table, records, n, failed_index);
        else *failed_index = 0;
    }
    return docs_pg_call_end(&call, rc, err);
}

int docs_pg_get(void *driver, const char *env_id, const char *table, const char *id, strbuf *out, char *created_by,
                int *found, bs_err *err)
{
    docs_pg_call call;
    *found = 0;
    if (docs_pg_table_check(table, err) < 0) return -1;
    if (id_absent(id)) return 0;
    if (docs_pg_call_begin(driver, env_id, 0, &call, err) < 0) return -1;
    stmt s;
    const char *params[] = {id};
    PGresult *r = docs_pg_exec(&call, "get", stmt_text(&s, "SELECT body, created_by FROM ", &call.env, table,
                               " WHERE id = $1"), 1, params, err);
    stmt_done(&s);
    int rc = r ? 0 : -1;
    if (r && PQntuples(r) > 0) {
        *found = 1;
        strbuf_append(out, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0));
        if (created_by) rc = pg_text(r, 0, 1, created_by, RECORD_OWNER_MAX, err);
    }
    PQclear(r);
    return docs_pg_call_end(&call, rc, err);
}

int docs_pg_update(void *driver, const char *env_id, const char *table, const char *id, const char *updated_at,
                   store_docs_mutate_fn mutate, void *ctx, strbuf *out, int *found, bs_err *err)
{
    docs_pg_call call;
    *found = 0;
    if (docs_pg_table_check(table, err) < 0) return -1;
    if (id_absent(id)) return 0;
    if (docs_pg_call_begin(driver, env_id, 1, &call, err) < 0) return -1;
    int rc = update_locked(&call, table, id, updated_at, mutate, ctx, out, found, err);
    return docs_pg_call_end(&call, rc, err);
}

int docs_pg_delete(void *driver, const char *env_id, const char *table, const char *id, int *found, bs_err *err)
{
    docs_pg_call call;
    *found = 0;
    if (docs_pg_table_check(table, err) < 0) return -1;
    if (id_absent(id)) return 0;
    if (docs_pg_call_begin(driver, env_id, 0, &call, err) < 0) return -1;
    int rc = delete_row(&call, table, id, found, err);
    return docs_pg_call_end(&call, rc, err);
}

int docs_pg_count(void *driver, const char *env_id, const char *table, int64_t *count, bs_err *err)
{
    docs_pg_call call;
    *count = 0;
    if (docs_pg_table_check(table, err) < 0 || docs_pg_call_begin(driver, env_id, 0, &call, err) < 0) return -1;
    stmt s;
    PGresult *r = docs_pg_exec(&call, "count", stmt_text(&s, "SELECT count(*) FROM ", &call.env, table, ""), 0, NULL, err);
    stmt_done(&s);
    if (r) *count = pg_i64(r, 0, 0);
    PQclear(r);
    return docs_pg_call_end(&call, r ? 0 : -1, err);
}

/* ---- writes without waiting: queued for a writer thread (docs_pg_writers.h), which runs the write and
 * then done(ctx, rc) ---- */

/* One queued write: its arguments, borrowed from the caller until done runs (store/docs.h), but for the
 * environment and table names, copied. */
typedef struct write_job {
    docs_pg *d;
    char env_id[DOCS_PG_ENV_ID_MAX];
    char table[STORE_TABLE_NAME_MAX + 1];
    const store_record *records;     /* insert */
    size_t n, *failed_index;
    const char *id, *expected, *doc, *updated_at; /* replace */
    int *replaced;
    bs_err *err;
    store_docs_done_fn done;
    void *ctx;
} write_job;

static int replace_row(void *driver, const char *env_id, const char *table, const char *id, const char *expected,
                       const char *doc, const char *updated_at, int *replaced, bs_err *err);

static void insert_job_run(void *arg)
{
    write_job *j = arg;
    int rc = docs_pg_insert(j->d, j->env_id, j->table, j->records, j->n, j->failed_index, j->err);
    store_docs_done_fn done = j->done;
    void *ctx = j->ctx;
    free(j);
    done(ctx, rc);
}

static void replace_job_run(void *arg)
{
    write_job *j = arg;
    int rc = replace_row(j->d, j->env_id, j->table, j->id, j->expected, j->doc, j->updated_at, j->replaced, j->err);
    store_docs_done_fn done = j->done;
    void *ctx = j->ctx;
    free(j);
    done(ctx, rc);
}

/* 1 when a and b insert into the same table of the same environment. */
static int same_table(const write_job *a, const write_job *b)
{
    return !strcmp(a->env_id, b->env_id) && !strcmp(a->table, b->table);
}

/* Inserts the records of jobs[0..n) (same table, at most STORE_MAX_BATCH records) with one statement. 0,
 * or -1 when any of them failed (then none is inserted). */
static int inserts_together(write_job *const *jobs, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += jobs[i]->n;
    store_record *all = total <= STORE_MAX_BATCH ? calloc(total, sizeof *all) : NULL;
    if (!all) return -1;
    for (size_t i = 0, at = 0; i < n; at += jobs[i]->n, i++) memcpy(all + at, jobs[i]->records, jobs[i]->n * sizeof *all); /* bounded: total counted above */
    bs_err scratch = {0};
    int rc = docs_pg_insert(jobs[0]->d, jobs[0]->env_id, jobs[0]->table, all, total, NULL, &scratch);
    free(all);
    return rc;
}

/* The inserts queued meanwhile (docs_pg_writers_submit_grouped): those into the job's table go as one
 * INSERT (one statement, one commit); when it fails each runs alone, so that each gets its own answer;
 * the others (a key collision) run alone. */
static void insert_jobs_run(void **args, size_t n)
{
    write_job *jobs[DOCS_PG_GROUP_MAX];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (same_table(args[0], args[i])) jobs[k++] = args[i];
        else insert_job_run(args[i]);
    }
    if (k == 1 || inserts_together(jobs, k) < 0) {
        for (size_t i = 0; i < k; i++) insert_job_run(jobs[i]);
        return;
    }
    for (size_t i = 0; i < k; i++) {
        store_docs_done_fn done = jobs[i]->done;
        void *ctx = jobs[i]->ctx;
        free(jobs[i]);
        done(ctx, 0);
    }
}

/* Queues j (filled but for the names) to run fn (or, when grouped, insert_jobs_run); frees it when it
 * cannot. 0, or -1 with err. */
static int write_submit(write_job *j, const char *env_id, const char *table, void (*fn)(void *), int grouped, bs_err *err)
{
    if (strlen(env_id) >= sizeof j->env_id) {
        free(j);
        return bs_err_set(err, 404, "data/environment-not-found", "Environment not found");
    }
    snprintf(j->env_id, sizeof j->env_id, "%s", env_id);
    snprintf(j->table, sizeof j->table, "%s", table); /* checked: at most STORE_TABLE_NAME_MAX */
    docs_pg_writers *w = docs_pg_writers_borrow(j->d);
    uint64_t key = hash64_str_seeded(j->table, hash64_str(j->env_id)) | 1;
    if ((grouped ? docs_pg_writers_submit_grouped(w, insert_jobs_run, key, j, err) : docs_pg_writers_submit(w, fn, j, err)) == 0)
        return 0;
    free(j);
    return -1;
}

int docs_pg_insert_async(void *driver, const char *env_id, const char *table, const store_record *records, size_t n,
                         size_t *failed_index, bs_err *err, store_docs_done_fn done, void *ctx)
{
    if (batch_check(n, err) < 0 || docs_pg_table_check(table, err) < 0) return -1; /* nothing queued */
    write_job *j = calloc(1, sizeof *j);
    if (!j) return bs_err_internal(err);
    *j = (write_job){.d = driver, .records = records, .n = n, .failed_index = failed_index, .err = err, .done = done, .ctx = ctx};
    return write_submit(j, env_id ? env_id : "", table, insert_job_run, 1, err);
}

static int replace_row(void *driver, const char *env_id, const char *table, const char *id, const char *expected,
                       const char *doc, const char *updated_at, int *replaced, bs_err *err)
{
    docs_pg_call call;
    if (docs_pg_call_begin(driver, env_id, 0, &call, err) < 0) return -1;
    stmt s;
    const char *params[] = {doc, updated_at, id, expected};
    int64_t changed = 0;
    int rc = docs_pg_command(&call, "replace", stmt_text(&s, "UPDATE ", &call.env, table,
                             " SET body = $1, updated_at = $2 WHERE id = $3 AND body = $4"), 4, params,
                             &changed, err);
    stmt_done(&s);
    *replaced = rc == 0 && changed > 0;
    return docs_pg_call_end(&call, rc, err);
}

int docs_pg_replace_async(void *driver, const char *env_id, const char *table, const char *id, const char *expected,
                          const char *doc, const char *updated_at, int *replaced, bs_err *err, store_docs_done_fn done,
                          void *ctx)
{
    *replaced = 0;
    if (docs_pg_table_check(table, err) < 0) return -1; /* nothing queued */
    if (id_absent(id)) {
        done(ctx, 0);
        return 0;
    }
    write_job *j = calloc(1, sizeof *j);
    if (!j) return bs_err_internal(err);
    *j = (write_job){.d = driver, .id = id, .expected = expected, .doc = doc, .updated_at = updated_at, .replaced = replaced,
                     .err = err, .done = done, .ctx = ctx};
    return write_submit(j, env_id ? env_id : "", table, replace_job_run, 0, err);
}

/* ---- transactions: one borrowed connection inside BEGIN ... COMMIT ---- */

typedef struct docs_pg_tx {
    struct store_docs_tx base;       /* first: store/docs.c dispatches through base.ops */
    docs_pg_call call;
} docs_pg_tx;

store_docs_tx *docs_pg_tx_begin(void *driver, const char *env_id, bs_err *err)
{
    docs_pg_tx *tx = calloc(1, sizeof *tx);
    if (!tx) {
        bs_err_internal(err);
        return NULL;
    }
    tx->base.ops = &store_pg_docs_ops;
    if (docs_pg_call_begin(driver, env_id, 1, &tx->call, err) == 0) return &tx->base;
    free(tx);
    return NULL;
}

int docs_pg_tx_commit(store_docs_tx *tx_handle, bs_err *err)
{
    docs_pg_tx *tx = (docs_pg_tx *)tx_handle;
    int rc = docs_pg_call_end(&tx->call, 0, err);
    free(tx);
    return rc;
}

void docs_pg_tx_abort(store_docs_tx *tx_handle)
{
    docs_pg_tx *tx = (docs_pg_tx *)tx_handle;
    if (!tx) return;
    docs_pg_call_end(&tx->call, -1, NULL);
    free(tx);
}

int docs_pg_tx_insert(store_docs_tx *tx_handle, const char *table, const store_record *record, bs_err *err)
{
    docs_pg_tx *tx = (docs_pg_tx *)tx_handle;
    if (docs_pg_table_check(table, err) < 0) return -1;
    return insert_rows(&tx->call, table, record, 1, err);
}

int docs_pg_tx_update(store_docs_tx *tx_handle, const char *table, const char *id, const char *updated_at,
                      store_docs_mutate_fn mutate, void *ctx, strbuf *out, int *found, bs_err *err)
{
    docs_pg_tx *tx = (docs_pg_tx *)tx_handle;
    *found = 0;
    if (docs_pg_table_check(table, err) < 0) return -1;
    if (id_absent(id)) return 0;
    return update_locked(&tx->call, table, id, updated_at, mutate, ctx, out, found, err);
}

int docs_pg_tx_delete(store_docs_tx *tx_handle, const char *table, const char *id, store_docs_mutate_fn check, void *ctx,
                      int *found, bs_err *err)
{
    docs_pg_tx *tx = (docs_pg_tx *)tx_handle;
    *found = 0;
    if (docs_pg_table_check(table, err) < 0) return -1;
    if (id_absent(id)) return 0;
    PGresult *r = row_for_update(&tx->call, table, id, found, err);
    if (!r) return -1;
    strbuf scratch;
    strbuf_init(&scratch, 0);
    int rc = *found && check ? row_visit(r, check, ctx, &scratch, err) : 0;
    strbuf_release(&scratch);
    PQclear(r);
    if (rc < 0 || !*found) return rc;
    return delete_row(&tx->call, table, id, found, err);
}

/* ---- lists (docs_pg_sql.c) ---- */

int docs_pg_list_op(void *driver, const char *env_id, const char *table, const query_plan *plan,
                    const char *created_by_filter, store_docs_paging *paging, strbuf *items, int64_t *total, bs_err *err)
{
    docs_pg_env env;
    if (docs_pg_table_check(table, err) < 0 || docs_pg_env_get(driver, env_id, &env, err) < 0) return -1;
    return docs_pg_list(&env, table, plan, created_by_filter, paging, items, total, err);
}

int docs_pg_explain_op(void *driver, const char *env_id, const char *table, const query_plan *plan,
                       const char *created_by_filter, store_explain *out, bs_err *err)
{
    docs_pg_env env;
    if (docs_pg_table_check(table, err) < 0 || docs_pg_env_get(driver, env_id, &env, err) < 0) return -1;
    return docs_pg_explain(&env, table, plan, created_by_filter, out, err);
}
