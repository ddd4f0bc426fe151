/* pg_stmts: the prepared statements of one connection (pg.h "prepared statements"). The cache hangs on
 * the PGconn as libpq instance data of an event procedure (libpq-events.h), so libpq itself tells it when
 * the connection is reset (the server forgot every statement: the cache is emptied) and when it is
 * finished (the cache is freed). Only the thread that borrowed the connection touches it.
 *
 * A statement the cache does not hold is sent as Parse (named "bs_<n>") + Bind/Execute + Sync in one
 * pipeline: one round trip, as PQexecParams. Names are never reused on a connection, so a statement the
 * server still holds under a forgotten name clashes with nothing. Names the cache let go (least recently
 * used, or a plan whose result changed) are deallocated on the server at the next statement outside a
 * transaction, all in one round trip. */
#include <libpq-events.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/postgres/pg.h"
#include "util/check.h"
#include "util/hash.h"

#define STMT_NAME_MAX 24
#define DEAD_MAX 32 /* names waiting for DEALLOCATE; past that they stay on the server until it disconnects */

typedef struct stmt {
    uint64_t hash;
    uint64_t used;              /* tick of the last use; 0: a free slot */
    char *sql;                  /* malloc'ed */
    char name[STMT_NAME_MAX];
} stmt;

typedef struct pg_stmts {
    stmt slots[PG_STMTS_MAX];
    uint64_t tick, seq;
    char dead[DEAD_MAX][STMT_NAME_MAX];
    int ndead;
    int begin_pending;          /* pg_begin was called: BEGIN goes with the next statement */
    pg_stmts_stats stats;
} pg_stmts;

static void slot_clear(stmt *e)
{
    free(e->sql);
    memset(e, 0, sizeof *e);
}

static void stmts_clear(pg_stmts *s)
{
    if (!s) return;
    for (int i = 0; i < PG_STMTS_MAX; i++) slot_clear(&s->slots[i]);
    s->ndead = 0;
    s->begin_pending = 0;
    s->stats.live = 0;
    s->stats.resets++;
}

static int stmts_event(PGEventId id, void *info, void *pass)
{
    (void)pass;
    if (id == PGEVT_CONNRESET) {
        stmts_clear(PQinstanceData(((PGEventConnReset *)info)->conn, stmts_event));
    } else if (id == PGEVT_CONNDESTROY) {
        PGconn *c = ((PGEventConnDestroy *)info)->conn;
        pg_stmts *s = PQinstanceData(c, stmts_event);
        stmts_clear(s);
        free(s);
    }
    return 1;
}

int pg_stmts_attach(PGconn *c)
{
    pg_stmts *s = calloc(1, sizeof *s);
    if (!s) return -1;
    if (!PQregisterEventProc(c, stmts_event, "basalt_stmts", NULL)) {
        free(s);
        return -1;
    }
    PQsetInstanceData(c, stmts_event, s);
    return 0;
}

void pg_stmts_stats_get(const PGconn *c, pg_stmts_stats *out)
{
    const pg_stmts *s = PQinstanceData(c, stmts_event);
    if (s) *out = s->stats;
    else memset(out, 0, sizeof *out);
}

/* 1 when sql can run as a named statement: one SELECT/INSERT/UPDATE/DELETE/WITH (no ';': a string of
 * several statements cannot be prepared), not too long, not too many parameters (multi-row inserts vary
 * with their row count: they would only churn the cache). */
static int preparable(const char *sql, int n)
{
    static const char *const verbs[] = {"SELECT ", "INSERT ", "UPDATE ", "DELETE ", "WITH "};
    if (n > PG_STMT_PARAMS_MAX || strnlen(sql, PG_STMT_SQL_MAX) >= PG_STMT_SQL_MAX || strchr(sql, ';')) return 0;
    while (*sql == ' ' || *sql == '\n') sql++;
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (!strncasecmp(sql, verbs[i], strlen(verbs[i]))) return 1;
    return 0;
}

static stmt *slot_find(pg_stmts *s, uint64_t hash, const char *sql)
{
    for (int i = 0; i < PG_STMTS_MAX; i++) {
        stmt *e = &s->slots[i];
        if (e->used && e->hash == hash && !strcmp(e->sql, sql)) return e;
    }
    return NULL;
}

/* Forgets e; its server-side statement is deallocated later when dead (it exists there). */
static void slot_forget(pg_stmts *s, stmt *e, int dead)
{
    if (dead && s->ndead < DEAD_MAX) snprintf(s->dead[s->ndead++], STMT_NAME_MAX, "%s", e->name);
    slot_clear(e);
    s->stats.live--;
}

/* A free slot: an empty one, else the least recently used one, forgotten. */
static stmt *slot_take(pg_stmts *s)
{
    stmt *lru = &s->slots[0];
    for (int i = 0; i < PG_STMTS_MAX; i++) {
        if (!s->slots[i].used) return &s->slots[i];
        if (s->slots[i].used < lru->used) lru = &s->slots[i];
    }
    slot_forget(s, lru, 1);
    s->stats.evicted++;
    return lru;
}

/* DEALLOCATE of the names let go, one round trip; only outside a transaction (a failure there would end
 * the caller's transaction). */
static void dead_flush(PGconn *c, pg_stmts *s)
{
    char sql[DEAD_MAX * (STMT_NAME_MAX + 14)];
    size_t len = 0;
    for (int i = 0; i < s->ndead; i++) {
        int w = snprintf(sql + len, sizeof sql - len, "DEALLOCATE %s; ", s->dead[i]);
        BS_ASSERT(w > 0 && (size_t)w < sizeof sql - len);
        len += (size_t)w;
    }
    s->ndead = 0;
    PQclear(PQexec(c, sql));
}

/* What a pipeline answered: the first lead statement that failed (NULL: none did), the Parse's result and
 * the Execute's (each NULL when not sent or lost). */
typedef struct pipe_out {
    PGresult *lead, *parse, *exec;
} pipe_out;

/* The lead statements of a run: the deferred BEGIN, or the caller's (pg_run_led). */
typedef struct pipe_lead {
    const char *const *sql;
    int n;
} pipe_lead;

static const char *const begin_sql[] = {"BEGIN"};

/* One pipeline, one round trip: the lead statements (unprepared, no parameters), [Parse name], Execute (of
 * name, or of sql unnamed), Sync. */
static void pipeline_run(PGconn *c, pipe_lead lead, int parse, const char *name, const char *sql, int n,
                         const char *const *params, pipe_out *out)
{
    memset(out, 0, sizeof *out);
    if (!PQenterPipelineMode(c)) return;
    int sent = 1;
    for (int i = 0; sent && i < lead.n; i++) sent = PQsendQueryParams(c, lead.sql[i], 0, NULL, NULL, NULL, NULL, 0);
    sent = sent && (!parse || PQsendPrepare(c, name, sql, n, NULL)) &&
           (name ? PQsendQueryPrepared(c, name, n, params, NULL, NULL, 0)
                 : PQsendQueryParams(c, sql, n, NULL, params, NULL, NULL, 0)) &&
           PQpipelineSync(c);
    /* each query's results end with NULL, then the Sync's; a lost connection ends with NULLs */
    for (int query = 0, nulls = 0; sent && nulls < 3;) {
        PGresult *x = PQgetResult(c);
        if (!x) {
            nulls++;
            query++;
            continue;
        }
        nulls = 0;
        ExecStatusType st = PQresultStatus(x);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(x);
            break;
        }
        PGresult **slot = query < lead.n ? (st == PGRES_COMMAND_OK || out->lead ? NULL : &out->lead)
                          : query == lead.n && parse ? &out->parse
                          : query == lead.n + parse  ? &out->exec
                                                     : NULL;
        if (!slot) {
            PQclear(x);
            continue;
        }
        PQclear(*slot);
        *slot = x;
    }
    PQexitPipelineMode(c);
}

/* The answer of a pipeline: the first failed lead statement's error, else the Execute's result. */
static PGresult *pipeline_answer(pipe_out *o)
{
    if (o->lead) {
        PQclear(o->exec);
        return o->lead;
    }
    return o->exec;
}

/* Runs sql unprepared after the lead statements: PQexecParams when there are none, else one round trip. */
static PGresult *unprepared_run(PGconn *c, pipe_lead lead, const char *sql, int n, const char *const *params)
{
    if (!lead.n) return PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    pipe_out o;
    pipeline_run(c, lead, 0, NULL, sql, n, params, &o);
    return pipeline_answer(&o);
}

/* Parse + Execute (after the lead statements) in one round trip; e (a free slot) keeps the statement when
 * the server took it. The statement's result, or the Parse's error. */
static PGresult *prepare_run(PGconn *c, pg_stmts *s, pipe_lead lead, stmt *e, uint64_t hash, const char *sql, int n,
                             const char *const *params)
{
    char name[STMT_NAME_MAX];
    snprintf(name, sizeof name, "bs_%llu", (unsigned long long)++s->seq);
    pipe_out o;
    pipeline_run(c, lead, 1, name, sql, n, params, &o);
    PGresult *prep = o.parse;
    o.parse = NULL;
    if (prep && PQresultStatus(prep) == PGRES_COMMAND_OK && (e->sql = strdup(sql))) {
        e->hash = hash;
        e->used = ++s->tick;
        snprintf(e->name, sizeof e->name, "%s", name);
        s->stats.live++;
        s->stats.prepared++;
        PQclear(prep);
        return pipeline_answer(&o);
    }
    if (!prep || o.lead) {
        PQclear(prep);
        return pipeline_answer(&o); /* a lead statement failed, or the connection is gone */
    }
    PQclear(o.exec);
    return prep; /* the server refused the statement */
}

/* 1 when the prepared statement no longer serves: its plan's result type changed (0A000, "cached plan must
 * not change result type": a table behind it changed its columns) or the server does not know it
 * (26000). */
static int stale(const PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    return state && (!strcmp(state, "0A000") || !strcmp(state, "26000"));
}

/* Executes the cached e (after the lead statements). */
static PGresult *prepared_run(PGconn *c, pipe_lead lead, const stmt *e, int n, const char *const *params)
{
    if (!lead.n) return PQexecPrepared(c, e->name, n, params, NULL, NULL, 0);
    pipe_out o;
    pipeline_run(c, lead, 0, e->name, NULL, n, params, &o);
    return pipeline_answer(&o);
}

int pg_stmts_defer_begin(PGconn *c)
{
    pg_stmts *s = PQinstanceData(c, stmts_event);
    if (!s || PQtransactionStatus(c) != PQTRANS_IDLE) return 0;
    s->begin_pending = 1;
    return 1;
}

int pg_stmts_take_begin(PGconn *c)
{
    pg_stmts *s = PQinstanceData(c, stmts_event);
    int pending = s && s->begin_pending;
    if (s) s->begin_pending = 0;
    return pending;
}

/* Runs sql after lead through the cache (prepared when new, else executed). When the cached statement went
 * stale, its slot is forgotten and *retry_slot names it (for prepare_run once more); the stale result is
 * returned, the caller decides. */
static PGresult *cached_run(PGconn *c, pg_stmts *s, pipe_lead lead, uint64_t hash, const char *sql, int n,
                            const char *const *params, stmt **retry_slot)
{
    *retry_slot = NULL;
    stmt *e = slot_find(s, hash, sql);
    if (!e) return prepare_run(c, s, lead, slot_take(s), hash, sql, n, params);
    e->used = ++s->tick;
    s->stats.reused++;
    PGresult *r = prepared_run(c, lead, e, n, params);
    if (!stale(r)) return r;
    int gone = !strcmp(PQresultErrorField(r, PG_DIAG_SQLSTATE), "26000");
    slot_forget(s, e, !gone);
    s->stats.stale++;
    *retry_slot = e;
    return r;
}

PGresult *pg_run(PGconn *c, const char *sql, int n, const char *const *params)
{
    pg_stmts *s = PQinstanceData(c, stmts_event);
    if (!s) return PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    pipe_lead lead = {begin_sql, s->begin_pending};
    s->begin_pending = 0;
    s->stats.begins_folded += (uint64_t)lead.n;
    PGTransactionStatusType ts = PQtransactionStatus(c);
    if ((ts != PQTRANS_IDLE && ts != PQTRANS_INTRANS) || !preparable(sql, n)) {
        s->stats.unprepared++;
        return unprepared_run(c, lead, sql, n, params);
    }
    if (s->ndead && ts == PQTRANS_IDLE) dead_flush(c, s);
    uint64_t hash = hash64_str(sql);
    stmt *retry;
    PGresult *r = cached_run(c, s, lead, hash, sql, n, params, &retry);
    if (!retry || PQtransactionStatus(c) != PQTRANS_IDLE) return r; /* inside a transaction: the caller's error */
    PQclear(r);
    dead_flush(c, s);
    return prepare_run(c, s, (pipe_lead){NULL, 0}, retry, hash, sql, n, params); /* once more, planned afresh */
}

PGresult *pg_run_led(PGconn *c, const char *const *lead_sql, int nlead, const char *sql, int n,
                     const char *const *params)
{
    pg_stmts *s = PQinstanceData(c, stmts_event);
    pipe_lead lead = {lead_sql, nlead};
    BS_ASSERT(nlead > 0 && PQtransactionStatus(c) == PQTRANS_IDLE); /* the lead opens the transaction */
    BS_ASSERT(!s || !s->begin_pending);                              /* no pg_begin before */
    if (!s || !preparable(sql, n)) {
        if (s) s->stats.unprepared++;
        return unprepared_run(c, lead, sql, n, params);
    }
    if (s->ndead) dead_flush(c, s);
    uint64_t hash = hash64_str(sql);
    stmt *retry;
    PGresult *r = cached_run(c, s, lead, hash, sql, n, params, &retry);
    if (!retry) return r;
    PQclear(r);
    PQclear(PQexec(c, "ROLLBACK")); /* the transaction the lead opened failed with it: once more, planned afresh */
    dead_flush(c, s);
    return prepare_run(c, s, lead, retry, hash, sql, n, params);
}
