/* docs_pg: the driver handle and where environments live on PostgreSQL (docs_pg_env.h). The handle owns
 * the main database's pool, one small pool per dedicated database and one per other database server (a
 * registered cluster's URL: its slots' schemas and dedicated databases live there, made through that
 * pool; servers are only added, freed with the driver); located environments are cached
 * per id (a hash of chained entries under one mutex; entries are only added, and taken out when their
 * environment is dropped). Locating and creating run outside the mutex: two first uses of one
 * environment may both do the work (CREATE DATABASE tolerates the second, migrations are serialized by
 * an advisory lock), and the first entry cached wins. */
#include "store/postgres/docs_pg.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/docs_pg_call.h"
#include "store/postgres/docs_pg_counts.h"
#include "store/postgres/docs_pg_env.h"
#include "util/check.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/strbuf.h"

#define DOCS_PG_BUCKETS 256
#define DOCS_PG_DEDICATED_CONNS 4   /* connections of one dedicated database's pool */
#define DOCS_PG_DBNAME_MAX 64       /* a database identifier: at most 63 bytes */

/* A database server other than the main one: a registered cluster's URL. */
typedef struct pg_server {
    struct pg_server *next;
    char *url;
    pg_pool *pool;                   /* the URL's database (slots' schemas; creates dedicated databases) */
    char maindb[DOCS_PG_DBNAME_MAX];
} pg_server;

/* One located environment. */
typedef struct env_entry {
    struct env_entry *next;
    char id[DOCS_PG_ENV_ID_MAX];
    docs_pg_env env;
    char dbname[DOCS_PG_DBNAME_MAX]; /* "" in the server's database (a slot's schema), else its own database */
    const pg_server *server;         /* NULL: the main server (--env-store) */
} env_entry;

struct docs_pg {
    pg_pool *main;
    char *url;                       /* the main database's URL: dedicated databases' conninfo is made from it */
    char maindb[DOCS_PG_DBNAME_MAX];
    pthread_mutex_t lock;            /* everything below */
    store_env_locate_fn locate;      /* NULL: every environment in a database of its own */
    void *locate_arg;
    env_entry *buckets[DOCS_PG_BUCKETS];
    env_entry *retired;              /* entries of dropped dedicated databases: their pools may still have a
                                        connection out; freed with the driver */
    pg_server *servers;              /* other database servers, added on first use */
    docs_pg_counts *counts;          /* kept totals: this process's hints (docs_pg_counts.h) */
    docs_pg_writers *writers;        /* run the writes without waiting (docs_pg_writers.h) */
};

/* ---- the parts of an environment schema, in order ---- */

static const docs_pg_part *const env_parts[] = {&docs_pg_part_catalog, &users_pg_part, &files_pg_part};

/* ---- opening ---- */

static int maindb_read(pg_pool *pool, char maindb[DOCS_PG_DBNAME_MAX], bs_err *err)
{
    PGresult *r = pg_exec1(pool, "current database", "SELECT current_database()", 0, NULL, err);
    if (!r) return -1;
    int rc = pg_text(r, 0, 0, maindb, DOCS_PG_DBNAME_MAX, err);
    PQclear(r);
    return rc;
}

static void docs_pg_free(void *driver);

static void server_free(pg_server *s)
{
    if (!s) return;
    pg_pool_free(s->pool);
    free(s->url);
    free(s);
}

static void *docs_pg_open(const char *target, bs_err *err)
{
    docs_pg *d = calloc(1, sizeof *d);
    if (!d) {
        bs_err_internal(err);
        return NULL;
    }
    pthread_mutex_init(&d->lock, NULL);
    d->url = strdup(target);
    d->counts = docs_pg_counts_new();
    if (!d->url || !d->counts) {
        bs_err_internal(err);
    } else if ((d->main = pg_pool_new(target, NULL, 0, err)) && maindb_read(d->main, d->maindb, err) == 0 &&
               (d->writers = docs_pg_writers_new(err))) {
        return d;
    }
    docs_pg_free(d);
    return NULL;
}

static void entries_free(env_entry *e)
{
    while (e) {
        env_entry *next = e->next;
        if (e->dbname[0]) pg_pool_free(e->env.pool);
        free(e);
        e = next;
    }
}

static void docs_pg_free(void *driver)
{
    docs_pg *d = driver;
    if (!d) return;
    docs_pg_writers_free(d->writers); /* first: the writes still queued use the pools */
    for (size_t i = 0; i < DOCS_PG_BUCKETS; i++) entries_free(d->buckets[i]);
    entries_free(d->retired);
    while (d->servers) {
        pg_server *next = d->servers->next;
        server_free(d->servers);
        d->servers = next;
    }
    pg_pool_free(d->main);
    pthread_mutex_destroy(&d->lock);
    docs_pg_counts_free(d->counts);
    free(d->url);
    free(d);
}

static void docs_pg_set_locator(void *driver, store_env_locate_fn locate, void *arg)
{
    docs_pg *d = driver;
    pthread_mutex_lock(&d->lock);
    d->locate = locate;
    d->locate_arg = arg;
    pthread_mutex_unlock(&d->lock);
}

/* ---- database servers ---- */

/* The pool, URL and database name of a server (NULL: the main one). */
static pg_pool *server_pool(const docs_pg *d, const pg_server *s) { return s ? s->pool : d->main; }
static const char *server_url(const docs_pg *d, const pg_server *s) { return s ? s->url : d->url; }
static const char *server_db(const docs_pg *d, const pg_server *s) { return s ? s->maindb : d->maindb; }

/* The server of url, connected on first use (at most DOCS_PG_DEDICATED_CONNS connections). Two first uses
 * at once may both connect: the first one added wins, the other is freed. */
static const pg_server *server_get(docs_pg *d, const char *url, bs_err *err)
{
    pthread_mutex_lock(&d->lock);
    const pg_server *had = d->servers;
    while (had && strcmp(had->url, url)) had = had->next;
    pthread_mutex_unlock(&d->lock);
    if (had) return had;
    pg_server *s = calloc(1, sizeof *s);
    if (!s || !(s->url = strdup(url))) {
        server_free(s);
        bs_err_internal(err);
        return NULL;
    }
    if (!(s->pool = pg_pool_new_sized(url, NULL, 0, DOCS_PG_DEDICATED_CONNS, err)) || maindb_read(s->pool, s->maindb, err) < 0) {
        server_free(s);
        return NULL;
    }
    pthread_mutex_lock(&d->lock);
    for (had = d->servers; had && strcmp(had->url, url);) had = had->next;
    if (!had) {
        s->next = d->servers;
        d->servers = s;
    }
    pthread_mutex_unlock(&d->lock);
    if (!had) return s;
    server_free(s);
    return had;
}

/* ---- where an environment lives ---- */

static int env_id_ok(const char *id)
{
    size_t n = strnlen(id, DOCS_PG_ENV_ID_MAX);
    if (n == 0 || n >= DOCS_PG_ENV_ID_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') || (id[i] >= '0' && id[i] <= '9') || id[i] == '_'))
            return 0;
    return 1;
}

/* Appends s as an identifier of [a-z0-9_] (upper case folded, anything else '_'), at most max bytes. */
static void ident_append(char *out, size_t cap, size_t *len, const char *s, size_t max)
{
    for (size_t i = 0; s[i] && i < max && *len + 1 < cap; i++) {
        char ch = s[i];
        if (ch >= 'A' && ch <= 'Z') ch = (char)(ch - 'A' + 'a');
        out[(*len)++] = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ? ch : '_';
    }
    out[*len] = '\0';
}

/* "<maindb>_<env_id>" (maindb: the server's database), sanitized, at most 63 bytes (the main database's
 * name gives way to the id). */
static void dedicated_name(const char *maindb, const char *env_id, char out[DOCS_PG_DBNAME_MAX])
{
    size_t idlen = strnlen(env_id, DOCS_PG_ENV_ID_MAX), len = 0;
    size_t room = DOCS_PG_DBNAME_MAX - 1 > idlen + 1 ? DOCS_PG_DBNAME_MAX - 1 - idlen - 1 : 0;
    ident_append(out, DOCS_PG_DBNAME_MAX, &len, maindb, room);
    if (len) ident_append(out, DOCS_PG_DBNAME_MAX, &len, "_", 1);
    ident_append(out, DOCS_PG_DBNAME_MAX, &len, env_id, idlen);
}

#define DOCS_PG_FIRST_CLUSTER "clusters/shared-1.db" /* its slots' schemas keep the plain names */

/* A slot's schema from its name prefix and its cluster's file: "s3_" of the first shared cluster → "s3";
 * of any other cluster "s3_<cluster>" ("clusters/shared-2.db" → "s3_shared_2"), since slot numbers are
 * per cluster and clusters may share a database. [a-z0-9_] only (cluster names are lower case, '-' for
 * '_'); -1 when the prefix or the file is not one. */
static int slot_schema(const char *prefix, const char *file, char out[DOCS_PG_SCHEMA_MAX])
{
    size_t n = strnlen(prefix, STORE_ENV_PREFIX_MAX), len = 0;
    if (n < 2 || n >= STORE_ENV_PREFIX_MAX || prefix[n - 1] != '_') return -1;
    for (size_t i = 0; i + 1 < n; i++)
        if (!((prefix[i] >= 'a' && prefix[i] <= 'z') || (prefix[i] >= '0' && prefix[i] <= '9') || prefix[i] == '_')) return -1;
    snprintf(out, DOCS_PG_SCHEMA_MAX, "%.*s", (int)(n - 1), prefix);
    if (!strcmp(file, DOCS_PG_FIRST_CLUSTER)) return 0;
    size_t flen = strnlen(file, STORE_ENV_FILE_MAX);
    if (flen <= 12 || strncmp(file, "clusters/", 9) || strcmp(file + flen - 3, ".db")) return -1;
    len = strlen(out);
    ident_append(out, DOCS_PG_SCHEMA_MAX, &len, "_", 1);
    ident_append(out, DOCS_PG_SCHEMA_MAX, &len, file + 9, flen - 12);
    return 0;
}

/* Where env_id lives, from the locator (without one: a database of its own): e->server, e->env.schema and
 * e->dbname ("" for the server's database). e->env.pool is not set. */
static int env_where(docs_pg *d, const char *env_id, env_entry *e, bs_err *err)
{
    store_env_location loc;
    memset(&loc, 0, sizeof loc);
    pthread_mutex_lock(&d->lock);
    store_env_locate_fn locate = d->locate;
    void *arg = d->locate_arg;
    pthread_mutex_unlock(&d->lock);
    if (locate && locate(arg, env_id, &loc, err) < 0) return -1; /* no lock: the locator may be slow */
    /* a server URL that is the driver's own (a registered server's driver, store/docs.c) is its main pool */
    if (loc.url[0] && strcmp(loc.url, d->url) != 0 && !(e->server = server_get(d, loc.url, err))) return -1;
    if (loc.prefix[0]) {
        if (slot_schema(loc.prefix, loc.file, e->env.schema) == 0) return 0;
        log_error("docs store: environment %s: unusable slot prefix %.*s", env_id, (int)sizeof loc.prefix, loc.prefix);
        return bs_err_internal(err);
    }
    snprintf(e->env.schema, sizeof e->env.schema, "env");
    dedicated_name(server_db(d, e->server), env_id, e->dbname);
    return 0;
}

/* ---- the cache ---- */

static env_entry **bucket_of(docs_pg *d, const char *env_id) { return &d->buckets[hash64_str(env_id) % DOCS_PG_BUCKETS]; }

/* The cached entry of env_id, or NULL (with d->lock held). */
static env_entry *cache_find_locked(docs_pg *d, const char *env_id)
{
    for (env_entry *e = *bucket_of(d, env_id); e; e = e->next)
        if (!strcmp(e->id, env_id)) return e;
    return NULL;
}

/* Caches e unless another thread cached env_id meanwhile: then e is freed. out gets the cached one. */
static void cache_add(docs_pg *d, env_entry *e, docs_pg_env *out)
{
    pthread_mutex_lock(&d->lock);
    env_entry *had = cache_find_locked(d, e->id);
    if (!had) {
        env_entry **b = bucket_of(d, e->id);
        e->next = *b;
        *b = e;
    }
    *out = had ? had->env : e->env;
    pthread_mutex_unlock(&d->lock);
    if (had) {
        e->next = NULL;
        entries_free(e);
    }
}

/* Takes env_id's entry out of the cache (NULL when it was not there). */
static env_entry *cache_take(docs_pg *d, const char *env_id)
{
    pthread_mutex_lock(&d->lock);
    env_entry **p = bucket_of(d, env_id);
    while (*p && strcmp((*p)->id, env_id)) p = &(*p)->next;
    env_entry *e = *p;
    if (e) *p = e->next;
    pthread_mutex_unlock(&d->lock);
    return e;
}

/* ---- dedicated databases ---- */

/* Appends "key='value' " with the value's quotes and backslashes escaped (libpq conninfo syntax). */
static void conninfo_pair(strbuf *sb, const char *key, const char *value)
{
    strbuf_appendf(sb, "%s='", key);
    for (const char *p = value; *p; p++) {
        if (*p == '\'' || *p == '\\') strbuf_append_char(sb, '\\');
        strbuf_append_char(sb, *p);
    }
    strbuf_append_str(sb, "' ");
}

/* The server URL's connection parameters with dbname replaced: a conninfo string in sb. */
static int conninfo_for(const char *url, const char *dbname, strbuf *sb, bs_err *err)
{
    char *msg = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &msg);
    if (!opts) {
        log_error("docs store: the PostgreSQL URL cannot be parsed: %s", msg ? msg : "out of memory");
        PQfreemem(msg);
        return bs_err_internal(err);
    }
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (o->val && o->val[0] && strcmp(o->keyword, "dbname")) conninfo_pair(sb, o->keyword, o->val);
    conninfo_pair(sb, "dbname", dbname);
    PQconninfoFree(opts);
    return sb->overflow ? bs_err_internal(err) : 0;
}

/* Appends dbname as a quoted identifier (it is [a-z0-9_] only: see dedicated_name). */
static void dbname_sql(strbuf *sql, const char *verb, const char *dbname, const char *after)
{
    strbuf_appendf(sql, "%s \"%s\"%s", verb, dbname, after);
}

/* CREATE DATABASE dbname on pool's server unless it exists (it cannot run inside a transaction: it runs
 * alone). */
static int database_create(pg_pool *pool, const char *dbname, bs_err *err)
{
    const char *params[] = {dbname};
    PGresult *r = pg_exec1(pool, "database exists", "SELECT 1 FROM pg_database WHERE datname = $1", 1, params, err);
    if (!r) return -1;
    int exists = PQntuples(r) > 0;
    PQclear(r);
    if (exists) return 0;
    char mem[128];
    strbuf sql;
    strbuf_init_stack(&sql, mem, sizeof mem);
    dbname_sql(&sql, "CREATE DATABASE", dbname, "");
    /* made meanwhile by another thread or server: duplicate_database, or the unique violation of
     * pg_database's name when both commands ran at once */
    int rc = pg_command_tolerant(pool, "create database", sql.data, "42P04 23505", err);
    strbuf_release(&sql);
    return rc;
}

/* The dedicated database's pool on its server (the database created when missing). */
static pg_pool *dedicated_pool(docs_pg *d, const pg_server *server, const char *dbname, bs_err *err)
{
    if (database_create(server_pool(d, server), dbname, err) < 0) return NULL;
    strbuf info;
    strbuf_init(&info, 0);
    pg_pool *p = conninfo_for(server_url(d, server), dbname, &info, err) == 0
                     ? pg_pool_new_sized(info.data, NULL, 0, DOCS_PG_DEDICATED_CONNS, err)
                     : NULL;
    strbuf_release(&info);
    return p;
}

/* ---- environment schemas ---- */

/* Brings one part of the schema (search_path set to it, inside the caller's transaction) to its last
 * version. */
static int part_migrate(pg_pool *p, PGconn *c, const docs_pg_part *part, bs_err *err)
{
    const char *name[] = {part->name};
    PGresult *r = pg_exec(p, c, "schema part", "SELECT version FROM basalt_schema_parts WHERE part = $1", 1, name, err);
    if (!r) return -1;
    int version = PQntuples(r) ? (int)pg_i64(r, 0, 0) : 0;
    PQclear(r);
    for (size_t i = 0; i < part->nsteps; i++) {
        const pg_migration *step = &part->steps[i];
        BS_ASSERT(i == 0 || step->version > part->steps[i - 1].version); /* ascending */
        if (step->version <= version) continue;
        for (size_t j = 0; j < step->count; j++)
            if (pg_command(p, c, part->name, step->statements[j], 0, NULL, NULL, err) < 0) return -1;
        version = step->version;
    }
    char v[PG_INT64_TEXT];
    const char *params[] = {part->name, pg_fmt_int64(v, version)};
    return pg_command(p, c, "schema part", "INSERT INTO basalt_schema_parts (part, version) VALUES ($1, $2::integer)"
                      " ON CONFLICT (part) DO UPDATE SET version = EXCLUDED.version", 2, params, NULL, err);
}

/* Inside a transaction on c: the schema created when missing and every part migrated, one process at a
 * time per schema (advisory lock on the schema's name). */
static int schema_migrate_on(pg_pool *p, PGconn *c, const char *schema, bs_err *err)
{
    char sql[160];
    const char *lock[] = {schema, PG_LOCK_ENV_SCHEMA};
    if (pg_command(p, c, "schema lock", "SELECT pg_advisory_xact_lock(hashtextextended($1, $2::bigint))", 2, lock, NULL, err) < 0)
        return -1;
    snprintf(sql, sizeof sql, "CREATE SCHEMA IF NOT EXISTS \"%s\"", schema);
    if (pg_command(p, c, "create schema", sql, 0, NULL, NULL, err) < 0) return -1;
    snprintf(sql, sizeof sql, "SET LOCAL search_path TO \"%s\"", schema);
    if (pg_command(p, c, "schema path", sql, 0, NULL, NULL, err) < 0 ||
        pg_command(p, c, "schema parts", "CREATE TABLE IF NOT EXISTS basalt_schema_parts (part TEXT PRIMARY KEY,"
                   " version INTEGER NOT NULL)", 0, NULL, NULL, err) < 0)
        return -1;
    for (size_t i = 0; i < sizeof env_parts / sizeof env_parts[0]; i++)
        if (part_migrate(p, c, env_parts[i], err) < 0) return -1;
    return 0;
}

static int schema_migrate(pg_pool *p, const char *schema, bs_err *err)
{
    PGconn *c = pg_borrow(p, err);
    if (!c) return -1;
    int rc = pg_begin(p, c, err);
    if (rc == 0 && schema_migrate_on(p, c, schema, err) < 0) {
        pg_rollback(c);
        rc = -1;
    } else if (rc == 0) {
        rc = pg_commit(p, c, err);
    }
    pg_return(p, c);
    return rc;
}

/* A new entry for env_id: located, its database and schema made and migrated. */
static env_entry *env_open(docs_pg *d, const char *env_id, bs_err *err)
{
    env_entry *e = calloc(1, sizeof *e);
    if (!e) {
        bs_err_internal(err);
        return NULL;
    }
    snprintf(e->id, sizeof e->id, "%s", env_id);
    e->env.counts = d->counts;
    if (env_where(d, env_id, e, err) == 0) {
        e->env.pool = e->dbname[0] ? dedicated_pool(d, e->server, e->dbname, err) : server_pool(d, e->server);
        if (e->env.pool && schema_migrate(e->env.pool, e->env.schema, err) == 0) return e;
    }
    if (e->dbname[0] && e->env.pool) pg_pool_free(e->env.pool);
    free(e);
    return NULL;
}

docs_pg_writers *docs_pg_writers_borrow(docs_pg *d) { return d->writers; }

int docs_pg_env_get(docs_pg *d, const char *env_id, docs_pg_env *out, bs_err *err)
{
    if (!env_id || !env_id_ok(env_id)) return bs_err_set(err, 404, "data/environment-not-found", "Environment not found");
    pthread_mutex_lock(&d->lock);
    env_entry *e = cache_find_locked(d, env_id);
    if (e) *out = e->env;
    pthread_mutex_unlock(&d->lock);
    if (e) return 0;
    if (!(e = env_open(d, env_id, err))) return -1;
    cache_add(d, e, out);
    return 0;
}

/* ---- dropping an environment ---- */

/* DROP SCHEMA ... CASCADE of a slot in its server's database. */
static int slot_drop(pg_pool *pool, const char *schema, bs_err *err)
{
    char sql[128];
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS \"%s\" CASCADE", schema);
    return pg_command1(pool, "drop schema", sql, 0, NULL, NULL, err);
}

/* DROP DATABASE of a dedicated environment on its server (its sessions are ended: WITH (FORCE)). */
static int database_drop(pg_pool *pool, const char *dbname, bs_err *err)
{
    char mem[128];
    strbuf sql;
    strbuf_init_stack(&sql, mem, sizeof mem);
    dbname_sql(&sql, "DROP DATABASE IF EXISTS", dbname, " WITH (FORCE)");
    int rc = pg_command1(pool, "drop database", sql.data, 0, NULL, NULL, err);
    strbuf_release(&sql);
    return rc;
}

static int docs_pg_env_drop(void *driver, const char *env_id, bs_err *err)
{
    docs_pg *d = driver;
    if (!env_id || !env_id_ok(env_id)) return 0;
    env_entry *e = cache_take(d, env_id), where;
    if (!e) { /* not used by this process: where it would be */
        memset(&where, 0, sizeof where);
        if (env_where(d, env_id, &where, err) < 0) return -1;
    }
    const env_entry *w = e ? e : &where;
    if (e && e->dbname[0]) { /* its pool may still have a connection out: kept until the driver goes */
        pg_pool_close_idle(e->env.pool);
        pthread_mutex_lock(&d->lock);
        e->next = d->retired;
        d->retired = e;
        pthread_mutex_unlock(&d->lock);
    }
    pg_pool *server = server_pool(d, w->server);
    int rc = w->dbname[0] ? database_drop(server, w->dbname, err) : slot_drop(server, w->env.schema, err);
    if (e && !e->dbname[0]) free(e);
    return rc;
}

/* "host:port/database" of the main URL (docs_driver.h place_id). */
static void docs_pg_place_id(void *driver, char *out, size_t cap)
{
    docs_pg *d = driver;
    const char *host = "", *port = "5432";
    PQconninfoOption *opts = PQconninfoParse(d->url, NULL);
    for (PQconninfoOption *o = opts; o && o->keyword; o++) {
        if (!strcmp(o->keyword, "host") && o->val) host = o->val;
        if (!strcmp(o->keyword, "port") && o->val) port = o->val;
    }
    snprintf(out, cap, "pg:%s:%s/%s", host, port, d->maindb);
    PQconninfoFree(opts);
}

/* ---- the ops table ---- */

const store_docs_ops store_pg_docs_ops = {
    .name = "postgres",
    .open = docs_pg_open,
    .free = docs_pg_free,
    .users = &store_pg_users_ops,
    .files = &store_pg_files_ops,
    .set_locator = docs_pg_set_locator,
    .table_create = docs_pg_table_create,
    .table_get = docs_pg_table_get,
    .table_list = docs_pg_table_list,
    .table_update = docs_pg_table_update,
    .table_drop = docs_pg_table_drop,
    .count = docs_pg_count,
    .indexes_change = docs_pg_indexes_change,
    .versions = docs_pg_versions,
    .version_get = docs_pg_version_get,
    .schema_change = docs_pg_schema_change,
    .env_drop = docs_pg_env_drop,
    .insert = docs_pg_insert,
    .get = docs_pg_get,
    .update = docs_pg_update,
    .delete = docs_pg_delete,
    .insert_async = docs_pg_insert_async,
    .replace_async = docs_pg_replace_async,
    .tx_begin = docs_pg_tx_begin,
    .tx_commit = docs_pg_tx_commit,
    .tx_abort = docs_pg_tx_abort,
    .tx_insert = docs_pg_tx_insert,
    .tx_update = docs_pg_tx_update,
    .tx_delete = docs_pg_tx_delete,
    .list = docs_pg_list_op,
    .explain = docs_pg_explain_op,
    .env_bytes = docs_pg_env_bytes,
    .rows_export = docs_pg_rows_export,
    .rows_import = docs_pg_rows_import,
    .place_id = docs_pg_place_id,
};
