#include "store/postgres/pg.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/check.h"
#include "util/log.h"
#include "util/strbuf.h"

#define PG_URL_MAX 1024

struct pg_pool {
    char url[PG_URL_MAX];
    const pg_conflict *conflicts;
    size_t nconflicts;
    pthread_mutex_t lock;
    pthread_cond_t returned;
    PGconn *idle[PG_POOL_MAX];
    int nidle, borrowed;
    int max;                    /* connections open at once, at most PG_POOL_MAX */
};

/* The server's notices ("relation ... already exists, skipping") are not errors: not printed. */
static void notice_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static PGconn *conn_open(const char *url, bs_err *err)
{
    PGconn *c = PQconnectdb(url);
    if (c && PQstatus(c) == CONNECTION_OK) {
        PQsetNoticeProcessor(c, notice_quiet, NULL);
        pg_stmts_attach(c); /* without it (out of memory) statements run unprepared */
        return c;
    }
    log_warn("postgres: cannot connect: %s", c ? PQerrorMessage(c) : "out of memory");
    PQfinish(c);
    bs_err_set(err, 503, "common/unavailable", "The database server cannot be reached; retry");
    return NULL;
}

pg_pool *pg_pool_new(const char *url, const pg_conflict *conflicts, size_t nconflicts, bs_err *err)
{
    return pg_pool_new_sized(url, conflicts, nconflicts, PG_POOL_MAX, err);
}

pg_pool *pg_pool_new_sized(const char *url, const pg_conflict *conflicts, size_t nconflicts, int max_conns, bs_err *err)
{
    BS_ASSERT(max_conns >= 1 && max_conns <= PG_POOL_MAX);
    if (!url || strlen(url) >= PG_URL_MAX) {
        bs_err_set(err, 500, "common/internal-error", "PostgreSQL URL missing or too long");
        return NULL;
    }
    pg_pool *p = calloc(1, sizeof *p);
    if (!p) {
        bs_err_internal(err);
        return NULL;
    }
    snprintf(p->url, sizeof p->url, "%s", url);
    p->conflicts = conflicts;
    p->nconflicts = nconflicts;
    p->max = max_conns;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->returned, NULL);
    PGconn *c = conn_open(url, err);
    if (!c) {
        pg_pool_free(p);
        return NULL;
    }
    p->idle[p->nidle++] = c;
    return p;
}

void pg_pool_free(pg_pool *p)
{
    if (!p) return;
    BS_ASSERT(p->borrowed == 0); /* every connection came back */
    for (int i = 0; i < p->nidle; i++) PQfinish(p->idle[i]);
    pthread_cond_destroy(&p->returned);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

void pg_pool_close_idle(pg_pool *p)
{
    PGconn *idle[PG_POOL_MAX];
    pthread_mutex_lock(&p->lock);
    int n = p->nidle;
    memcpy(idle, p->idle, sizeof idle);
    p->nidle = 0;
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < n; i++) PQfinish(idle[i]);
}

PGconn *pg_borrow(pg_pool *p, bs_err *err)
{
    pthread_mutex_lock(&p->lock);
    while (!p->nidle && p->borrowed >= p->max) pthread_cond_wait(&p->returned, &p->lock);
    PGconn *c = p->nidle ? p->idle[--p->nidle] : NULL;
    p->borrowed++;
    pthread_mutex_unlock(&p->lock);
    if (c && PQstatus(c) != CONNECTION_OK) PQreset(c); /* the server restarted meanwhile */
    if (c && PQstatus(c) == CONNECTION_OK) return c;
    PQfinish(c);
    if ((c = conn_open(p->url, err))) return c;
    pthread_mutex_lock(&p->lock);
    p->borrowed--;
    pthread_cond_signal(&p->returned);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

void pg_return(pg_pool *p, PGconn *c)
{
    if (!c) return;
    pg_stmts_take_begin(c); /* a transaction begun in which nothing ran: nothing to end */
    int reusable = PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) == PQTRANS_IDLE;
    pthread_mutex_lock(&p->lock);
    BS_ASSERT(p->borrowed > 0);
    p->borrowed--;
    if (reusable && p->nidle < p->max) {
        p->idle[p->nidle++] = c;
        c = NULL;
    }
    pthread_cond_signal(&p->returned);
    pthread_mutex_unlock(&p->lock);
    PQfinish(c); /* NULL: kept */
}

/* The client's message for a unique constraint, from the pool's list. */
static const char *conflict_message(const pg_pool *p, const char *constraint)
{
    for (size_t i = 0; constraint && i < p->nconflicts; i++)
        if (!strcmp(p->conflicts[i].constraint, constraint)) return p->conflicts[i].message;
    return "a record with the same unique value already exists";
}

int pg_fail(pg_pool *p, PGconn *c, const PGresult *r, const char *what, bs_err *err)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (state && !strcmp(state, "23505"))
        return bs_err_set(err, 409, "common/conflict", "%s", conflict_message(p, PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME)));
    if (state && !strcmp(state, "23503"))
        return bs_err_set(err, 409, "common/conflict", "the record it belongs to does not exist");
    if (!c || PQstatus(c) != CONNECTION_OK || (state && (!strncmp(state, "08", 2) || !strcmp(state, "57P01") ||
                                                     !strcmp(state, "40P01") || !strcmp(state, "40001"))))
        return bs_err_set(err, 503, "common/unavailable", "The database server cannot be reached; retry");
    /* The primary message and the SQLSTATE only: the server's DETAIL lines quote row values (e-mails,
     * hashes), which do not belong in the log. */
    const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    log_error("postgres: %s failed: %s (%s)", what, primary ? primary : "no result", state ? state : "-");
    return bs_err_internal(err);
}

int pg_params_check(int n, const char *const *params, bs_err *err)
{
    for (int i = 0; i < n; i++)
        if (params[i] && !strbuf_utf8_valid(params[i], strlen(params[i])))
            return bs_err_set(err, 400, "common/invalid-parameters", "A text sent is not valid UTF-8");
    return 0;
}

PGresult *pg_exec(pg_pool *p, PGconn *c, const char *what, const char *sql, int n, const char *const *params, bs_err *err)
{
    if (pg_params_check(n, params, err) < 0) return NULL;
    PGresult *r = pg_run(c, sql, n, params);
    ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK) return r;
    pg_fail(p, c, r, what, err);
    PQclear(r);
    return NULL;
}

int pg_command(pg_pool *p, PGconn *c, const char *what, const char *sql, int n, const char *const *params, int64_t *changed,
               bs_err *err)
{
    PGresult *r = pg_exec(p, c, what, sql, n, params, err);
    if (!r) return -1;
    if (changed) *changed = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return 0;
}

int pg_command1(pg_pool *p, const char *what, const char *sql, int n, const char *const *params, int64_t *changed, bs_err *err)
{
    PGconn *c = pg_borrow(p, err);
    if (!c) return -1;
    int rc = pg_command(p, c, what, sql, n, params, changed, err);
    pg_return(p, c);
    return rc;
}

PGresult *pg_exec1(pg_pool *p, const char *what, const char *sql, int n, const char *const *params, bs_err *err)
{
    PGconn *c = pg_borrow(p, err);
    if (!c) return NULL;
    PGresult *r = pg_exec(p, c, what, sql, n, params, err);
    pg_return(p, c);
    return r;
}

int pg_begin(pg_pool *p, PGconn *c, bs_err *err)
{
    return pg_stmts_defer_begin(c) ? 0 : pg_command(p, c, "begin", "BEGIN", 0, NULL, NULL, err);
}

int pg_commit(pg_pool *p, PGconn *c, bs_err *err)
{
    if (pg_stmts_take_begin(c)) return 0; /* nothing ran */
    if (pg_command(p, c, "commit", "COMMIT", 0, NULL, NULL, err) == 0) return 0;
    pg_rollback(c);
    return -1;
}

void pg_rollback(PGconn *c)
{
    if (!pg_stmts_take_begin(c)) PQclear(PQexec(c, "ROLLBACK"));
}

int pg_text(const PGresult *r, int row, int col, char *buf, size_t cap, bs_err *err)
{
    BS_ASSERT(cap > 0);
    size_t n = (size_t)PQgetlength(r, row, col);
    buf[0] = '\0';
    if (n >= cap) {
        log_error("postgres: a stored value of %zu bytes does not fit %zu (column %s)", n, cap, PQfname(r, col));
        return bs_err_internal(err);
    }
    memcpy(buf, PQgetvalue(r, row, col), n); /* bounded: n < cap */
    buf[n] = '\0';
    return 0;
}

char *pg_dup(const PGresult *r, int row, int col) { return PQgetisnull(r, row, col) ? NULL : strdup(PQgetvalue(r, row, col)); }

int64_t pg_i64(const PGresult *r, int row, int col) { return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10); }

int pg_null(const PGresult *r, int row, int col) { return PQgetisnull(r, row, col); }

const char *pg_fmt_int64(char buf[PG_INT64_TEXT], int64_t v)
{
    snprintf(buf, PG_INT64_TEXT, "%lld", (long long)v);
    return buf;
}

const char *pg_or_null(const char *text) { return text && text[0] ? text : NULL; }

/* ---- schema ---- */

static int migrate_on(pg_pool *p, PGconn *c, const pg_migration *steps, size_t nsteps, int *version, bs_err *err)
{
    PGresult *r;
    const char *lock[] = {PG_LOCK_MIGRATE};
    if (pg_command(p, c, "migrate", "SELECT pg_advisory_xact_lock($1::bigint)", 1, lock, NULL, err) < 0 ||
        pg_command(p, c, "migrate", "CREATE TABLE IF NOT EXISTS basalt_schema_version (version INTEGER NOT NULL)", 0, NULL, NULL, err) < 0 ||
        !(r = pg_exec(p, c, "migrate", "SELECT coalesce(max(version), 0) FROM basalt_schema_version", 0, NULL, err)))
        return -1;
    *version = (int)pg_i64(r, 0, 0);
    PQclear(r);
    for (size_t i = 0; i < nsteps; i++) {
        if (steps[i].version <= *version) continue;
        for (size_t j = 0; j < steps[i].count; j++)
            if (pg_command(p, c, "migrate", steps[i].statements[j], 0, NULL, NULL, err) < 0) return -1;
        char v[PG_INT64_TEXT];
        const char *params[] = {pg_fmt_int64(v, steps[i].version)};
        if (pg_command(p, c, "migrate", "INSERT INTO basalt_schema_version (version) VALUES ($1::integer)", 1, params, NULL, err) < 0)
            return -1;
        *version = steps[i].version;
    }
    return 0;
}

int pg_migrate(pg_pool *p, const pg_migration *steps, size_t nsteps, int *version, bs_err *err)
{
    PGconn *c = pg_borrow(p, err);
    if (!c) return -1;
    int rc = pg_begin(p, c, err);
    if (rc == 0 && migrate_on(p, c, steps, nsteps, version, err) < 0) {
        pg_rollback(c);
        rc = -1;
    } else if (rc == 0) {
        rc = pg_commit(p, c, err);
    }
    pg_return(p, c);
    return rc;
}

int pg_command_tolerant(pg_pool *p, const char *what, const char *sql, const char *tolerated, bs_err *err)
{
    PGconn *c = pg_borrow(p, err);
    if (!c) return -1;
    PGresult *r = PQexec(c, sql);
    ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    int rc = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || (state && strlen(state) == 5 && strstr(tolerated, state)) ? 0 : pg_fail(p, c, r, what, err);
    PQclear(r);
    pg_return(p, c);
    return rc;
}
