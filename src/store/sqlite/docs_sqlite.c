/* docs_sqlite: the SQLite driver of store/docs.h. An environment's database is located on first use
 * (store_docs_set_locator): its own file DATA/envs/<env_id>.db (dedicated clusters, no placement, files
 * from before placement), or the file of its shared cluster, DATA/clusters/<cluster>.db, where its objects
 * carry its slot's name prefix ("s3_d_posts"; the connections rewrite the SQL, see sql_prefix.h and
 * envdb.h). Each environment keeps a small pool of connections (borrowed for one call, returned after),
 * each with a cache of prepared statements keyed by SQL text, so the same list shape is prepared once per
 * connection. */
#include "store/sqlite/docs_sqlite.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/sqlite/docs_counts.h"
#include "store/sqlite/docs_sql.h"
#include "store/sqlite/envdb.h"
#include "store/sqlite/envreg.h"
#include "store/sqlite/files_sqlite.h"
#include "store/sqlite/rows_sqlite.h"
#include "store/sqlite/sq.h"
#include "store/sqlite/sql_prefix.h"
#include "store/sqlite/users_sqlite.h"
#include "util/check.h"
#include "util/clock.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/regex.h"

#define DOCS_POOL_MAX 16
#define DOCS_BUSY_TIMEOUT_MS 5000
#define DOCS_OPEN_LOCKS 16
#define DOCS_TOTAL_WAIT_MS 5000    /* a list waits at most this for its total's registration */
#define DOCS_WRITERS 2

/* An environment: its registry entry (envreg.h; it lives as long as the store, so a pointer to it is a
 * reference that needs no count), its location and its pool of idle connections. */
typedef struct denv {
    envreg_entry ent;            /* first: the registry hands back &ent */
    char id[64];
    _Atomic int located;         /* path and prefix are known (env_get); reset when the environment is dropped */
    _Atomic int opened;          /* a connection was opened on the located file: it exists, in WAL mode, migrated */
    pthread_mutex_t lock;        /* path, prefix and the idle pool */
    char path[PATH_MAX];
    char prefix[STORE_ENV_PREFIX_MAX]; /* "" (its own file) or its slot's name prefix on a shared file */
    dconn *idle[DOCS_POOL_MAX];
    int nidle;
    pthread_mutex_t wlock;       /* one writer at a time in this process: no SQLite busy-wait sleeps (but
                                    environments sharing a file wait for each other in the busy timeout) */
    count_registry *totals;      /* list totals kept by the writes (docs_counts.h); NULL: lists count */
    pthread_mutex_t qlock;       /* the queue of grouped writes (see group_submit) */
    struct wop *qhead, *qtail;
    int leader;                  /* a writer thread is running a group of this environment */
    int in_ready;                /* on the writers' queue */
    struct denv *ready_next;
    struct sqlite_docs *docs;     /* the owner, for the WAL hook */
    _Atomic int checkpoint_wanted;
} denv;

struct sqlite_docs {
    char *dir;
    pthread_mutex_t locate_lock; /* locate and locate_arg (set at start-up, read on an environment's first use) */
    store_env_locate_fn locate;  /* NULL: every environment in its own file */
    void *locate_arg;
    envreg *envs;                /* every environment used so far: lookups take no lock */
    pthread_mutex_t open_locks[DOCS_OPEN_LOCKS]; /* first opens of a file, one at a time (dconn_open_first) */
    pthread_t checkpointer;      /* checkpoints the WALs off the request path (see wal_hook) */
    pthread_t writers[DOCS_WRITERS]; /* run the grouped writes (see group_run) */
    int nwriters, writers_stop;
    pthread_mutex_t ready_lock;  /* environments with queued writes, in order */
    pthread_cond_t ready_cond;
    struct denv *ready_head, *ready_tail;
    pthread_mutex_t ck_lock;
    pthread_cond_t ck_cond;
    int ck_stop, ck_running;
};

static const char *const catalog_sql =
    /* the environment's own settings: its schema version ("schema_version", see env_migrate) */
    "CREATE TABLE IF NOT EXISTS _basalt_meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS _basalt_tables ("
    " name TEXT PRIMARY KEY NOT NULL, id TEXT NOT NULL, schema TEXT NOT NULL DEFAULT '{}', permissions TEXT,"
    " display_name TEXT, description TEXT, schema_version INTEGER NOT NULL DEFAULT 1,"
    " index_version INTEGER NOT NULL DEFAULT 1, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    " indexes TEXT NOT NULL DEFAULT '[]');"
    "CREATE TABLE IF NOT EXISTS _basalt_versions ("
    " table_name TEXT NOT NULL, kind INTEGER NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL,"
    " created_by TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL,"
    " PRIMARY KEY (table_name, kind, version)) WITHOUT ROWID;"
    /* end users and their sessions (users_sqlite.c) */
    "CREATE TABLE IF NOT EXISTS _auth_users ("
    " id TEXT PRIMARY KEY NOT NULL, email TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL DEFAULT '',"
    " name TEXT NOT NULL DEFAULT '', role TEXT NOT NULL DEFAULT 'user', nickname TEXT, image TEXT,"
    " email_verified_at INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    " last_login_at INTEGER NOT NULL DEFAULT 0, deleted_at INTEGER NOT NULL DEFAULT 0,"
    " profile TEXT NOT NULL DEFAULT '{}', mfa_secret TEXT NOT NULL DEFAULT '', mfa_enabled_at INTEGER NOT NULL DEFAULT 0,"
    " mfa_last_step INTEGER NOT NULL DEFAULT -1, mfa_pending TEXT NOT NULL DEFAULT '', mfa_recovery TEXT NOT NULL DEFAULT '[]');"
    "CREATE TABLE IF NOT EXISTS _auth_sessions ("
    " id TEXT PRIMARY KEY NOT NULL, user_id TEXT NOT NULL, refresh_hash TEXT NOT NULL UNIQUE,"
    " user_agent TEXT NOT NULL DEFAULT '', ip TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL,"
    " last_seen_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, revoked_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS _auth_sessions_user ON _auth_sessions (user_id, created_at);"
    "CREATE TABLE IF NOT EXISTS _auth_tokens ("
    " hash TEXT PRIMARY KEY NOT NULL, kind TEXT NOT NULL, user_id TEXT NOT NULL, email TEXT NOT NULL,"
    " expires_at INTEGER NOT NULL, used_at INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS _auth_audit ("
    " id INTEGER PRIMARY KEY, at INTEGER NOT NULL, event TEXT NOT NULL, user_id TEXT NOT NULL DEFAULT '',"
    " email TEXT NOT NULL DEFAULT '', ip TEXT NOT NULL DEFAULT '', user_agent TEXT NOT NULL DEFAULT '',"
    " detail TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE IF NOT EXISTS _auth_invitations ("
    " id TEXT PRIMARY KEY NOT NULL, resource_type TEXT NOT NULL, resource_id TEXT NOT NULL, resource_name TEXT NOT NULL,"
    " resource_role TEXT NOT NULL, email TEXT NOT NULL, status TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,"
    " expires_at INTEGER NOT NULL, invited_by TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS _auth_accounts ("
    " provider TEXT NOT NULL, provider_account_id TEXT NOT NULL, user_id TEXT NOT NULL, created_at INTEGER NOT NULL,"
    " PRIMARY KEY (provider, provider_account_id)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS _auth_limits ("
    " key TEXT PRIMARY KEY NOT NULL, count INTEGER NOT NULL, window_start INTEGER NOT NULL,"
    " blocked_until INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS _auth_used_refresh ("
    " hash TEXT PRIMARY KEY NOT NULL, session_id TEXT NOT NULL, user_id TEXT NOT NULL, used_at INTEGER NOT NULL)"
    " WITHOUT ROWID";

/* Versioned changes to an environment database after the catalog above (the "schema_version" row of
 * _basalt_meta counts the steps applied: per environment, since several share a file on a shared cluster).
 * A step never edits an earlier one; a database opened by an older build keeps working because every step
 * only adds. */
static const char *const env_steps[] = {
    /* 1: banned users (auth/account-banned) */
    "ALTER TABLE _auth_users ADD COLUMN banned_at INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE _auth_users ADD COLUMN banned_reason TEXT NOT NULL DEFAULT '';"
    "CREATE INDEX IF NOT EXISTS _auth_audit_at ON _auth_audit (at);",
    /* 2: file storage (files_sqlite.c) */
    "CREATE TABLE _objects (key TEXT PRIMARY KEY NOT NULL, content_type TEXT NOT NULL, filename TEXT NOT NULL,"
    " size INTEGER NOT NULL, etag TEXT NOT NULL, uploaded_by TEXT NOT NULL, visibility TEXT NOT NULL,"
    " created_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE _files (id TEXT PRIMARY KEY NOT NULL, key TEXT NOT NULL UNIQUE, original_name TEXT NOT NULL,"
    " mime_type TEXT NOT NULL, size INTEGER NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL,"
    " visibility TEXT NOT NULL, bucket TEXT NOT NULL, owner_id TEXT NOT NULL, owner_type TEXT NOT NULL,"
    " metadata TEXT NOT NULL, shared_with TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE INDEX _files_owner ON _files (owner_id, created_at);"
    "CREATE INDEX _files_visibility ON _files (visibility, created_at);"
    "CREATE TABLE _uploads (id TEXT PRIMARY KEY NOT NULL, key TEXT NOT NULL, filename TEXT NOT NULL,"
    " content_type TEXT NOT NULL, file_size INTEGER NOT NULL, requested_by TEXT NOT NULL, visibility TEXT NOT NULL,"
    " created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);"
    "CREATE TABLE _upload_parts (upload_id TEXT NOT NULL, number INTEGER NOT NULL, size INTEGER NOT NULL,"
    " etag TEXT NOT NULL, PRIMARY KEY (upload_id, number)) WITHOUT ROWID;",
    /* 3: list totals kept exact by the writes (docs_counts.h) */
    "CREATE TABLE _basalt_counts (id INTEGER PRIMARY KEY, n INTEGER NOT NULL);",
};

/* ---- regex function: basalt_regexp(pattern, icase, value) ---- */

static void regexp_free_aux(void *p) { regex_free(p); }

static void sql_regexp(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sqlite3_value_type(argv[2]) != SQLITE_TEXT) { sqlite3_result_int(ctx, 0); return; }
    regex *re = sqlite3_get_auxdata(ctx, 0);
    if (!re) {
        const char *pat = (const char *)sqlite3_value_text(argv[0]);
        bs_err err;
        re = pat ? regex_compile(pat, (size_t)sqlite3_value_bytes(argv[0]), sqlite3_value_int(argv[1]), "$regex", &err) : NULL;
        if (!re) { sqlite3_result_error(ctx, "bad regex", -1); return; }
        sqlite3_set_auxdata(ctx, 0, re, regexp_free_aux);
        re = sqlite3_get_auxdata(ctx, 0);
        if (!re) { sqlite3_result_error_nomem(ctx); return; }
    }
    int rc = regex_match(re, (const char *)sqlite3_value_text(argv[2]), (size_t)sqlite3_value_bytes(argv[2]));
    if (rc < 0) { /* over the match limit: refuse the query rather than answer a wrong "no match" */
        sqlite3_result_error(ctx, DOCS_REGEX_LIMIT_MSG, -1);
        return;
    }
    sqlite3_result_int(ctx, rc == 1);
}

/* ---- connections ---- */

static void dconn_close(dconn *c)
{
    if (!c) return;
    for (int i = 0; i < c->ncache; i++) {
        sqlite3_finalize(c->cache[i].st);
        free(c->cache[i].sql);
    }
    sqlite3_close_v2(c->db);
    free(c);
}

/* Checkpoints: SQLite's default copies the WAL back into the database inside the commit that crosses
 * 1,000 frames, fsync included, while that writer (and every write queued behind it) waits. Instead each
 * connection's WAL hook asks the store's checkpointer thread for a PASSIVE checkpoint (it runs beside
 * readers and writers); only when the WAL outgrows DOCS_WAL_INLINE_FRAMES, i.e. the thread cannot keep
 * up, does the committing writer checkpoint itself, so the file stays bounded. Under sustained creates
 * the thread does fall behind (a group commit writes tens of frames): at 20,000 frames the inline
 * checkpoint copied ~80 MB while every queued write waited, which was the create p99 (55-85 ms); at 4,000
 * it is a fifth of that (p99 22-30 ms, BENCHMARKS.md). */
#define DOCS_WAL_CHECKPOINT_FRAMES 1000
#define DOCS_WAL_INLINE_FRAMES 4000

static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    denv *e = arg;
    if (frames >= DOCS_WAL_INLINE_FRAMES) {
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    } else if (frames >= DOCS_WAL_CHECKPOINT_FRAMES && !atomic_exchange(&e->checkpoint_wanted, 1)) {
        pthread_mutex_lock(&e->docs->ck_lock);
        pthread_cond_signal(&e->docs->ck_cond);
        pthread_mutex_unlock(&e->docs->ck_lock);
    }
    return SQLITE_OK;
}

/* ---- per-slot names ---- */

/* ---- environment versions ---- */

static int user_version(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The environment's schema version (-1 when unreadable); *recorded = whether _basalt_meta holds it. A file
 * of its own from before _basalt_meta counted in PRAGMA user_version: it starts from there. */
static int env_version(dconn *c, int *recorded)
{
    sqlite3_stmt *st = NULL;
    int v = -1, step = SQLITE_ERROR;
    *recorded = 0;
    if (dconn_prepare(c, "SELECT value FROM _basalt_meta WHERE key = 'schema_version'", 0, &st) == SQLITE_OK)
        step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        v = sqlite3_column_int(st, 0);
        *recorded = 1;
    }
    sqlite3_finalize(st);
    if (step == SQLITE_DONE) v = c->prefix[0] ? 0 : user_version(c->db);
    return v;
}

/* Records version v (inside the caller's transaction). A file of its own keeps PRAGMA user_version in step
 * too, for builds from before _basalt_meta. */
static int env_version_set(dconn *c, int v)
{
    sqlite3_stmt *st = NULL;
    int rc = dconn_prepare(c, "INSERT OR REPLACE INTO _basalt_meta (key, value) VALUES ('schema_version', ?)", 0, &st);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int(st, 1, v);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(c->db);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_OK && !c->prefix[0]) {
        char pragma[48];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v);
        rc = sqlite3_exec(c->db, pragma, NULL, NULL, NULL);
    }
    return rc;
}

/* Applies the steps this environment has not seen, in one transaction (BEGIN IMMEDIATE: two connections
 * opening at once apply each step once). */
static int env_migrate(dconn *c)
{
    int latest = (int)(sizeof env_steps / sizeof env_steps[0]), recorded = 0;
    int v = env_version(c, &recorded);
    if (recorded && v >= latest) return SQLITE_OK;
    int rc = dconn_exec(c, "BEGIN IMMEDIATE");
    if (rc == SQLITE_OK) v = env_version(c, &recorded);
    if (rc == SQLITE_OK && v < 0) rc = SQLITE_ERROR;
    for (; rc == SQLITE_OK && v < latest; v++) rc = dconn_exec(c, env_steps[v]);
    if (rc == SQLITE_OK) rc = env_version_set(c, v);
    if (rc == SQLITE_OK) return dconn_exec(c, "COMMIT");
    sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static dconn *dconn_open(denv *e, const char *path, const char *prefix, bs_err *err)
{
    dconn *c = calloc(1, sizeof *c);
    if (!c) { bs_err_internal(err); return NULL; }
    snprintf(c->prefix, sizeof c->prefix, "%s", prefix);
    c->totals = e->totals;
    int rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(c->db, DOCS_BUSY_TIMEOUT_MS);
        rc = sqlite3_exec(c->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA mmap_size=0; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-512;",
                          NULL, NULL, NULL);
    }
    if (rc == SQLITE_OK) rc = dconn_exec(c, catalog_sql);
    if (rc == SQLITE_OK) rc = env_migrate(c);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(c->db, "basalt_regexp", 3, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                        sql_regexp, NULL, NULL, NULL);
    if (rc == SQLITE_OK) sqlite3_wal_hook(c->db, wal_hook, e);
    if (rc != SQLITE_OK) {
        docs_fail(c->db, "open", err);
        dconn_close(c);
        return NULL;
    }
    return c;
}

static int env_id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n >= 64) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') || (id[i] >= '0' && id[i] <= '9') || id[i] == '_'))
            return 0;
    return 1;
}

/* The registry's make (envreg_make_fn): a new, not yet located environment entry. */
static envreg_entry *env_make(void *arg, const char *env_id)
{
    denv *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    snprintf(e->id, sizeof e->id, "%s", env_id);
    e->ent.key = e->id;
    atomic_init(&e->located, 0);
    atomic_init(&e->opened, 0);
    atomic_init(&e->checkpoint_wanted, 0);
    pthread_mutex_init(&e->lock, NULL);
    pthread_mutex_init(&e->wlock, NULL);
    pthread_mutex_init(&e->qlock, NULL);
    e->docs = arg;
    e->totals = counts_new(); /* NULL (out of memory): this environment's lists count */
    return &e->ent;
}

/* The registry's release at the store's end (envreg_visit_fn). */
static void env_release(envreg_entry *ent, void *arg)
{
    (void)arg;
    denv *e = (denv *)ent;
    for (int j = 0; j < e->nidle; j++) dconn_close(e->idle[j]);
    pthread_mutex_destroy(&e->lock);
    pthread_mutex_destroy(&e->wlock);
    pthread_mutex_destroy(&e->qlock);
    counts_free(e->totals);
    free(e);
}

static void sqlite_docs_set_locator(void *driver, store_env_locate_fn locate, void *arg)
{
    sqlite_docs *d = driver;
    pthread_mutex_lock(&d->locate_lock);
    d->locate = locate;
    d->locate_arg = arg;
    pthread_mutex_unlock(&d->locate_lock);
}

/* A locator's answer the store can use: a relative path without "..", a valid slot prefix or none. */
static int location_ok(const store_env_location *loc)
{
    size_t n = strnlen(loc->file, sizeof loc->file);
    if (n == 0 || n == sizeof loc->file || loc->file[0] == '/' || strstr(loc->file, "..")) return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = loc->file[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || strchr("_-./", ch)))
            return 0;
    }
    return strnlen(loc->prefix, sizeof loc->prefix) < sizeof loc->prefix && (!loc->prefix[0] || sql_prefix_valid(loc->prefix));
}

/* Creates the directory of path (one level: the data directory exists) when missing. */
static int parent_dir_make(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) return 0;
    *slash = '\0';
    return mkdir(dir, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* Where env_id lives (path, prefix): a file of its own from before placement (envs/<id>.db exists) stays;
 * else the locator's answer; without a locator, a file of its own. */
static int env_locate(sqlite_docs *d, const char *env_id, char *path, size_t size, char *prefix, bs_err *err)
{
    store_env_location loc;
    struct stat sb;
    memset(&loc, 0, sizeof loc);
    snprintf(loc.file, sizeof loc.file, "envs/%s.db", env_id);
    snprintf(path, size, "%s/%s", d->dir, loc.file);
    pthread_mutex_lock(&d->locate_lock);
    store_env_locate_fn locate = d->locate;
    void *arg = d->locate_arg;
    pthread_mutex_unlock(&d->locate_lock);
    if (locate && stat(path, &sb) != 0 && locate(arg, env_id, &loc, err) < 0) return -1;
    if (loc.url[0]) /* a registered server's: store/docs.c routes such environments to its PostgreSQL driver */
        return bs_err_set(err, 500, "common/internal-error", "The environment lives on a database server");
    int n = location_ok(&loc) ? snprintf(path, size, "%s/%s", d->dir, loc.file) : -1;
    if (n < 0 || (size_t)n >= size || parent_dir_make(path) < 0) {
        log_error("docs store: environment %s: unusable location %.*s", env_id, (int)sizeof loc.file, loc.file);
        return bs_err_internal(err);
    }
    snprintf(prefix, STORE_ENV_PREFIX_MAX, "%s", loc.prefix);
    return 0;
}

/* The environment's entry (created on first use; entries live as long as the store), located. No
 * store-wide lock: the registry's lookup takes none, the location is the entry's own. */
static denv *env_get(sqlite_docs *d, const char *env_id, bs_err *err)
{
    if (!env_id_ok(env_id)) {
        bs_err_set(err, 404, "data/environment-not-found", "Environment not found");
        return NULL;
    }
    envreg_entry *ent = envreg_get(d->envs, env_id);
    if (!ent) {
        bs_err_internal(err);
        return NULL;
    }
    denv *e = (denv *)ent;
    if (atomic_load_explicit(&e->located, memory_order_acquire)) return e;
    char path[PATH_MAX], prefix[STORE_ENV_PREFIX_MAX];
    if (env_locate(d, env_id, path, sizeof path, prefix, err) < 0) return NULL; /* no lock: the locator may be slow */
    pthread_mutex_lock(&e->lock);
    if (!atomic_load_explicit(&e->located, memory_order_relaxed)) {
        snprintf(e->path, sizeof e->path, "%s", path);
        snprintf(e->prefix, sizeof e->prefix, "%s", prefix);
        atomic_store_explicit(&e->located, 1, memory_order_release);
    }
    pthread_mutex_unlock(&e->lock);
    return e;
}

/* A new connection to the environment's file. The first one creates the file, switches it to WAL and
 * migrates it: concurrent first requests of a new environment would otherwise race for the exclusive lock
 * those steps take, and some would get SQLITE_BUSY at once (no busy handler runs for a journal-mode switch
 * or a lock upgrade that could deadlock). So the first open is made by one thread while the others wait;
 * later opens find the file ready and only take shared locks. The lock is the file's (by its path's hash):
 * environments sharing a cluster's file make their first opens in turn too. */
static dconn *dconn_open_first(denv *e, const char *path, const char *prefix, bs_err *err)
{
    if (atomic_load_explicit(&e->opened, memory_order_acquire)) return dconn_open(e, path, prefix, err);
    pthread_mutex_t *lock = &e->docs->open_locks[hash64_str(path) % DOCS_OPEN_LOCKS];
    pthread_mutex_lock(lock);
    dconn *c = dconn_open(e, path, prefix, err);
    if (c) atomic_store_explicit(&e->opened, 1, memory_order_release);
    pthread_mutex_unlock(lock);
    return c;
}

/* Borrows a connection to the environment's database (opening it, and the file, when needed). */
dconn *docs_conn_borrow(sqlite_docs *d, const char *env_id, denv **env_out, bs_err *err)
{
    denv *e = env_get(d, env_id, err);
    if (!e) return NULL;
    char path[PATH_MAX], prefix[STORE_ENV_PREFIX_MAX];
    pthread_mutex_lock(&e->lock);
    dconn *c = e->nidle ? e->idle[--e->nidle] : NULL;
    if (!c) { /* read under the entry's lock: a drop may locate it again */
        snprintf(path, sizeof path, "%s", e->path);
        snprintf(prefix, sizeof prefix, "%s", e->prefix);
    }
    pthread_mutex_unlock(&e->lock);
    *env_out = e;
    return c ? c : dconn_open_first(e, path, prefix, err);
}

void docs_conn_return(sqlite_docs *d, denv *e, dconn *c)
{
    (void)d;
    if (!c) return;
    if (!sqlite3_get_autocommit(c->db)) sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_lock(&e->lock);
    if (e->nidle < DOCS_POOL_MAX) {
        e->idle[e->nidle++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&e->lock);
    dconn_close(c);
}

/* Writers of one environment take turns in this process (the database allows one writer anyway; waiting
 * on a mutex beats SQLite's busy handler, which sleeps). The turn also owns the maintained totals' shapes
 * (docs_counts.h): only its holder frees them. */
static void write_begin(denv *e) { pthread_mutex_lock(&e->wlock); }

static void write_end(denv *e) { pthread_mutex_unlock(&e->wlock); }

/* Borrows a connection and takes the environment's write turn. */
dconn *docs_conn_borrow_writer(sqlite_docs *d, const char *env_id, denv **env_out, bs_err *err)
{
    dconn *c = docs_conn_borrow(d, env_id, env_out, err);
    if (c) write_begin(*env_out);
    return c;
}

void docs_conn_return_writer(sqlite_docs *d, denv *e, dconn *c)
{
    docs_conn_return(d, e, c); /* rolls back an unfinished transaction before the turn passes */
    write_end(e);
}

/* One PASSIVE checkpoint of e when its WAL hook asked for one (envreg_visit_fn; arg: the store). */
static void checkpoint_if_wanted(envreg_entry *ent, void *arg)
{
    sqlite_docs *d = arg;
    denv *e = (denv *)ent;
    if (!atomic_exchange(&e->checkpoint_wanted, 0)) return;
    bs_err err;
    denv *same;
    dconn *c = docs_conn_borrow(d, e->id, &same, &err);
    if (!c) return;
    int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) log_warn("docs store: checkpoint of %s: %s", e->id, sqlite3_errmsg(c->db));
    docs_conn_return(d, e, c);
}

/* One PASSIVE checkpoint of every environment whose WAL hook asked for one. */
static void checkpoint_wanted_envs(sqlite_docs *d)
{
    envreg_each(d->envs, checkpoint_if_wanted, d);
}

static void *checkpointer_main(void *arg)
{
    sqlite_docs *d = arg;
    pthread_mutex_lock(&d->ck_lock);
    while (!d->ck_stop) {
        pthread_mutex_unlock(&d->ck_lock);
        checkpoint_wanted_envs(d);
        pthread_mutex_lock(&d->ck_lock);
        if (d->ck_stop) break;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1; /* also wakes now and then, in case a signal was missed */
        pthread_cond_timedwait(&d->ck_cond, &d->ck_lock, &until);
    }
    pthread_mutex_unlock(&d->ck_lock);
    return NULL;
}

static void *writer_main(void *arg);
static void sqlite_docs_free(void *driver);

static void *sqlite_docs_open(const char *data_dir, bs_err *err)
{
    sqlite_docs *d = calloc(1, sizeof *d);
    char envs[PATH_MAX];
    snprintf(envs, sizeof envs, "%s/envs", data_dir);
    if (!d || !(d->dir = strdup(data_dir)) || (mkdir(envs, 0700) < 0 && errno != EEXIST) ||
        !(d->envs = envreg_new(env_make, d))) {
        if (d) free(d->dir);
        free(d);
        bs_err_set(err, 500, "common/internal-error", "cannot create %s", envs);
        return NULL;
    }
    pthread_mutex_init(&d->locate_lock, NULL);
    for (int i = 0; i < DOCS_OPEN_LOCKS; i++) pthread_mutex_init(&d->open_locks[i], NULL);
    pthread_mutex_init(&d->ck_lock, NULL);
    pthread_cond_init(&d->ck_cond, NULL);
    pthread_mutex_init(&d->ready_lock, NULL);
    pthread_cond_init(&d->ready_cond, NULL);
    while (d->nwriters < DOCS_WRITERS && pthread_create(&d->writers[d->nwriters], NULL, writer_main, d) == 0) d->nwriters++;
    if (d->nwriters == 0) {
        bs_err_set(err, 500, "common/internal-error", "cannot start the store's writer threads");
        sqlite_docs_free(d);
        return NULL;
    }
    d->ck_running = pthread_create(&d->checkpointer, NULL, checkpointer_main, d) == 0;
    if (!d->ck_running) log_warn("docs store: no checkpointer thread; commits will checkpoint inline");
    return d;
}

static void sqlite_docs_free(void *driver)
{
    sqlite_docs *d = driver;
    if (!d) return;
    pthread_mutex_lock(&d->ready_lock);
    d->writers_stop = 1; /* writers finish what is queued, then exit */
    pthread_cond_broadcast(&d->ready_cond);
    pthread_mutex_unlock(&d->ready_lock);
    for (int i = 0; i < d->nwriters; i++) pthread_join(d->writers[i], NULL);
    if (d->ck_running) {
        pthread_mutex_lock(&d->ck_lock);
        d->ck_stop = 1;
        pthread_cond_signal(&d->ck_cond);
        pthread_mutex_unlock(&d->ck_lock);
        pthread_join(d->checkpointer, NULL);
    }
    envreg_free(d->envs, env_release, NULL);
    pthread_mutex_destroy(&d->locate_lock);
    for (int i = 0; i < DOCS_OPEN_LOCKS; i++) pthread_mutex_destroy(&d->open_locks[i]);
    pthread_mutex_destroy(&d->ck_lock);
    pthread_cond_destroy(&d->ck_cond);
    pthread_mutex_destroy(&d->ready_lock);
    pthread_cond_destroy(&d->ready_cond);
    free(d->dir);
    free(d);
}

/* ---- catalog ---- */

#define TABLE_COLUMNS "name, id, schema, permissions, display_name, description, schema_version, index_version, created_at, updated_at, indexes"

static int table_read(sqlite3_stmt *st, store_table *t)
{
    memset(t, 0, sizeof *t);
    int bad = SQ_COL_FIELD(st, 0, t->name, NULL) | SQ_COL_FIELD(st, 1, t->id, NULL);
    t->schema_json = sq_col_dup(st, 2);
    t->permissions_json = sq_col_dup(st, 3);
    t->display_name = sq_col_dup(st, 4);
    t->description = sq_col_dup(st, 5);
    t->schema_version = sqlite3_column_int(st, 6);
    t->index_version = sqlite3_column_int(st, 7);
    t->created_at = sqlite3_column_int64(st, 8);
    t->updated_at = sqlite3_column_int64(st, 9);
    t->indexes_json = sq_col_dup(st, 10);
    return !bad && t->schema_json && t->indexes_json ? 0 : -1;
}

static void bind_opt_text(sqlite3_stmt *st, int idx, const char *text)
{
    if (text) sqlite3_bind_text(st, idx, text, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, idx);
}

/* ---- physical names ----
 * Table T is "d_T"; its indexes are "d_T$createdAt", "d_T$updatedAt", "d_T$createdBy" and "d_T$x_<name>"
 * (docs/data-api.md "Names"). Table names never hold '$', so no table is named like an index, and what
 * comes before the '$' says whose index it is. Builds before this scheme put "__" where '$' is now: their
 * indexes keep those legacy names (recognized by index_api_name, dropped by indexes_apply), and a new
 * table may not take a name one of them holds (table_name_free). SQLite compares names regardless of
 * case: so do table_name_free and the index list. */
#define INDEX_SEP "$"
#define LEGACY_INDEX_SEP "__"

/* 0 when no object of the database is named like table's SQL table, regardless of case (with the slot's
 * prefix: objects of every slot share one namespace); 409 data/table-already-exists otherwise. */
static int table_name_free(dconn *c, const char *table, bs_err *err)
{
    char name[STORE_ENV_PREFIX_MAX + STORE_TABLE_NAME_MAX + 4];
    snprintf(name, sizeof name, "%sd_%s", c->prefix, table);
    sqlite3_stmt *st = docs_stmt(c, "SELECT type FROM sqlite_master WHERE name = ? COLLATE NOCASE", err);
    if (!st) return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int step = sqlite3_step(st), rc = 0;
    if (step == SQLITE_ROW)
        rc = bs_err_set(err, 409, "data/table-already-exists",
                        "Table %s already exists: names are compared regardless of case and may not equal an index's", table);
    else if (step != SQLITE_DONE)
        rc = docs_fail(c->db, "table name", err);
    docs_stmt_done(st);
    return rc;
}

static int create_sql_table(dconn *c, const char *name, bs_err *err)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "CREATE TABLE \"d_%s\" (id TEXT PRIMARY KEY NOT NULL, created_by TEXT NOT NULL DEFAULT '',"
             " created_at TEXT NOT NULL, updated_at TEXT NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID;"
             "CREATE INDEX \"d_%s" INDEX_SEP "createdAt\" ON \"d_%s\"(created_at DESC, id DESC);"
             "CREATE INDEX \"d_%s" INDEX_SEP "updatedAt\" ON \"d_%s\"(updated_at DESC, id DESC);"
             "CREATE INDEX \"d_%s" INDEX_SEP "createdBy\" ON \"d_%s\"(created_by, created_at DESC);",
             name, name, name, name, name, name, name);
    return docs_exec(c, sql, err);
}

/* Records one version of a table's schema or index list (inside the caller's transaction). */
static int version_add(dconn *c, const char *table, store_version_kind kind, int version, const char *body,
                       const char *created_by, bs_err *err)
{
    sqlite3_stmt *st = docs_stmt(c, "INSERT OR REPLACE INTO _basalt_versions (table_name, kind, version, body, created_by,"
                                     " created_at) VALUES (?,?,?,?,?,?)", err);
    if (!st) return -1;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, (int)kind);
    sqlite3_bind_int(st, 3, version);
    sqlite3_bind_text(st, 4, body, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, created_by ? created_by : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, clock_now_ms());
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : docs_fail(c->db, "insert version", err);
    docs_stmt_done(st);
    return rc;
}

static int sqlite_docs_table_create(void *driver, const char *env_id, const store_table *t, const char *created_by, bs_err *err)
{
    sqlite_docs *d = driver;
    denv *e;
    dconn *c = docs_conn_borrow_writer(d, env_id, &e, err);
    if (!c) return -1;
    int rc = docs_exec(c, "BEGIN IMMEDIATE", err);
    if (rc == 0) rc = table_name_free(c, t->name, err);
    sqlite3_stmt *st = rc == 0 ? docs_stmt(c, "INSERT INTO _basalt_tables (" TABLE_COLUMNS ") VALUES (?,?,?,?,?,?,?,?,?,?,'[]')", err) : NULL;
    if (st) {
        sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, t->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, t->schema_json ? t->schema_json : "{}", -1, SQLITE_STATIC);
        bind_opt_text(st, 4, t->permissions_json);
        bind_opt_text(st, 5, t->display_name);
        bind_opt_text(st, 6, t->description);
        sqlite3_bind_int(st, 7, t->schema_version ? t->schema_version : 1);
        sqlite3_bind_int(st, 8, t->index_version ? t->index_version : 1);
        sqlite3_bind_int64(st, 9, t->created_at);
        sqlite3_bind_int64(st, 10, t->updated_at);
        int step = sqlite3_step(st);
        if (step != SQLITE_DONE)
            rc = sqlite3_extended_errcode(c->db) == SQLITE_CONSTRAINT_PRIMARYKEY
                     ? bs_err_set(err, 409, "data/table-already-exists", "Table %s already exists", t->name)
                     : docs_fail(c->db, "insert table", err);
        docs_stmt_done(st);
    } else {
        rc = -1;
    }
    if (rc == 0) rc = create_sql_table(c, t->name, err);
    if (rc == 0) rc = version_add(c, t->name, STORE_VERSION_SCHEMA, 1, t->schema_json ? t->schema_json : "{}", created_by, err);
    if (rc == 0) rc = version_add(c, t->name, STORE_VERSION_INDEXES, 1, "[]", created_by, err);
    if (rc == 0) rc = docs_exec(c, "COMMIT", err);
    docs_conn_return_writer(d, e, c); /* rolls back when the transaction is still open */
    return rc;
}

static int sqlite_docs_table_get(void *driver, const char *env_id, const char *name, store_table *out, int *found,
                         bs_err *err)
{
    sqlite_docs *d = driver;
    denv *e;
    *found = 0;
    memset(out, 0, sizeof *out);
    dconn *c = docs_conn_borrow(d, env_id, &e, err);
    if (!c) return -1;
    sqlite3_stmt *st = docs_stmt(c, "SELECT " TABLE_COLUMNS " FROM _basalt_tables WHERE name = ?", err);
    int rc = st ? 0 : -1;
    if (st) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            *found = 1;
            if (table_read(st, out) < 0) rc = bs_err_internal(err);
        } else if (step != SQLITE_DONE) {
            rc = docs_fail(c->db, "select table", err);
        }
        docs_stmt_done(st);
    }
    docs_conn_return(d, e, c);
    return rc;
}

static int sqlite_docs_table_list(void *driver, const char *env_id, store_table **out, size_t *count, bs_err *err)
{
    sqlite_docs *d = driver;
    denv *e;
    *out = NULL;
    *count = 0;
    dconn *c = docs_conn_borrow(d, env_id, &e, err);
    if (!c) return -1;
    sqlite3_stmt *st = docs_stmt(c, "SELECT " TABLE_COLUMNS " FROM _basalt_tables ORDER BY name LIMIT 1000", err);
    int rc = st ? 0 : -1;
    store_table *tables = st ? calloc(STORE_MAX_TABLES, sizeof *tables) : NULL;
    if (st && !tables) rc = bs_err_internal(err);
    int step;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW && *count < STORE_MAX_TABLES)
        if (table_read(st, &tables[(*count)++]) < 0) rc = bs_err_internal(err);
    if (st) docs_stmt_done(st);
    docs_conn_return(d, e, c);
    if (rc < 0) { store_table_list_free(tables, *count); *count = 0; return -1; }
    *out = tables;
    return 0;
}

static int sqlite_docs_table_update(void *driver, const char *env_id, const store_table *t, int *found, bs_err *err)
{
    sqlite_docs *d = driver;
    denv *e;
    *found = 0;
    dconn *c = docs_conn_borrow_writer(d, env_id, &e, err);
    if (!c) return -1;
    sqlite3_stmt *st = docs_stmt(c, "UPDATE _basalt_tables SET schema = ?, permissions = ?, display_name = ?,"
                                     " description = ?, schema_version = ?, index_version = ?, updated_at = ? WHERE name = ?", err);
    int rc = st ? 0 : -1;
    if (st) {
        sqlite3_bind_text(st, 1, t->schema_json ? t->schema_json : "{}", -1, SQLITE_STATIC);
        bind_opt_text(st, 2, t->permissions_json);
        bind_opt_text(st, 3, t->display_name);
        bind_opt_text(st, 4, t->description);
        sqlite3_bind_int(st, 5, t->schema_version);
        sqlite3_bind_int(st, 6, t->index_version);
        sqlite3_bind_int64(st, 7, t->updated_at);
        sqlite3_bind_text(st, 8, t->name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) rc = docs_fail(c->db, "update table", err);
        else *found = sqlite3_changes(c->db) > 0;
        docs_stmt_done(st);
    }
    docs_conn_return_writer(d, e, c);
    return rc;
}

static int sqlite_docs_table_drop(void *driver, const char *env_id, const char *name, int *found, bs_err *err)
{
    sqlite_docs *d = driver;
    denv *e;
    *found = 0;
    dconn *c = docs_conn_borrow_writer(d, env_id, &e, err);
    if (!c) return -1;
    int rc = docs_exec(c, "BEGIN IMMEDIATE", err);
    sqlite3_stmt *st = rc == 0 ? docs_stmt(c, "DELETE FROM _basalt_tables WHERE name = ?", err) : NULL;
    if (st) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) rc = docs_fail(c->db, "drop table", err);
        else *found = sqlite3_changes(c->db) > 0;
        docs_stmt_done(st);
    } else {
        rc = -1;
    }
    if (rc == 0 && *found) {
        sqlite3_stmt *vst = docs_stmt(c, "DELETE FROM _basalt_versions WHERE table_name = ?", err);
        if (!vst) rc = -1;
        if (vst) {
            sqlite3_bind_text(vst, 1, name, -1, SQLITE_STATIC);
            if (sqlite3_step(vst) != SQLITE_DONE) rc = docs_fail(c->db, "drop versions", err);
            docs_stmt_done(vst);
        }
    }
    if (rc == 0 && *found) rc = counts_forget_table(c, e->totals, name, err);
    if (rc == 0 && *found) {
        char sql[256];
        snprintf(sql, sizeof sql, "DROP TABLE \"d_%s\"", name);
        dconn_stmts_clear(c); /* statements on the dropped table must not linger */
        rc = docs_exec(c, sql, err);
    }
    if (rc == 0) rc = docs_exec(c, "COMMIT", err);
    docs_conn_return_writer(d, e, c);
    return rc;
}

/* Appends "DROP TABLE|INDEX IF EXISTS "<name>";" (the name, read from sqlite_master, already carries the
 * slot's prefix: this text is run without the rewrite). */
static void drop_sql(strbuf *script, const char *type, const char *name)
{
    strbuf_appendf(script, "DROP %s IF EXISTS \"", strcmp(type, "table") == 0 ? "TABLE" : "INDEX");
    for (const char *p = name; *p; p++) {
        if (*p == '"') strbuf_append_char(script, '"'); /* doubled inside the quotes */
        strbuf_append_char(script, *p);
    }
    strbuf_append_str(script, "\";");
}

/* The script dropping every table and index of the slot (tables first: their indexes go with them). */
static int slot_drop_script(dconn *c, strbuf *script, bs_err *err)
{
    sqlite3_stmt *st = NULL;
    size_t plen = strlen(c->prefix);
    if (sqlite3_prepare_v2(c->db, "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'index')"
                                  " AND substr(name, 1, ?1) = ?2 ORDER BY type DESC, name", -1, &st, NULL) != SQLITE_OK)
        return docs_fail(c->db, "slot objects", err);
    sqlite3_bind_int(st, 1, (int)plen);
    sqlite3_bind_text(st, 2, c->prefix, (int)plen, SQLITE_STATIC);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        drop_sql(script, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1));
    int rc = step == SQLITE_DONE ? 0 : docs_fail(c->db, "slot objects", err);
    sqlite3_finalize(st);
    return rc == 0 && script->overflow ? bs_err_internal(err) : rc;
}

/* Drops every object of e's slot on its shared file, in one transaction; the file stays for the others. */
static int slot_drop(sqlite_docs *d, denv *e, bs_err *err)
{
    denv *same;
    dconn *c = docs_conn_borrow_writer(d, e->id, &same, err);
    if (!c) return -1;
    dconn_stmts_clear(c); /* no cached statement may still read a table being dropped */
    strbuf script;
    strbuf_init(&script, 0);
    int rc = docs_exec(c, "BEGIN IMMEDIATE", err);
    if (rc == 0) rc = slot_drop_script(c, &script, err);
    if (rc == 0 && script.len && sqlite3_exec(c->db, script.data, NULL, NULL, NULL) != SQLITE_OK) rc = docs_fail(c->db, "drop slot", err);
    if (rc == 0) rc = docs_exec(c, "COMMIT", err);
    strbuf_release(&script);
    docs_conn_return_writer(d, same, c);
    return rc;
}

static int sqlite_docs_env_drop(void *driver, const char *env_id, bs_err *err)
{
    sqlite_docs *d = driver;
    if (!env_id_ok(env_id)) return 0;
    denv *e = env_get(d, env_id, err);
    if (!e) return -1;
    pthread_mutex_lock(&e->lock);
    int shared = e->prefix[0] != '\0';
    pthread_mutex_unlock(&e->lock);
    int rc = shared ? slot_drop(d, e, err) : 0;
    write_begin(e);
    counts_clear(e->totals); /* their rows went with the database */
    write_end(e);
    pthread_mutex_lock(&e->lock);
    for (int j = 0; j < e->nidle; j++) dconn_close(e->idle[j]);
    e->nidle = 0;
    if (!shared) {
        char path[PATH_MAX + 8];
        unlink(e->path);
        snprintf(path, sizeof path, "%s-wal", e->path);
        unlink(path);
        snprintf(path, sizeof path, "%s-shm", e->path);
        unlink(path);
    }
    atomic_store_explicit(&e->opened, 0, memory_order_release);  /* the next open makes the file again */
    atomic_store_explicit(&e->located, 0, memory_order_release); /* a later use asks the locator again: the slot
                                                                     may belong to another environment by then */
    pthread_mutex_unlock(&e->lock);
    return rc;
}

/* ---- records ---- */

static int table_name_ok(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > STORE_TABLE_NAME_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = t[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

/* SQL text "<before>"d_<table>"<after>": the name was checked by table_name_ok. */
static int table_sql(char *out, size_t size, const char *before, const char *table, const char *after, bs_err *err)
{
    if (!table_name_ok(table)) return bs_err_set(err, 404, "data/table-not-found", "Table not found");
    int n = snprintf(out, size, "%s\"d_%s\"%s", before, table, after);
    return n > 0 && (size_t)n < size ? 0 : bs_err_internal(err);
}

/* One statement on one table of one environment: the SQL text, a borrowed connection, the prepared
 * statement. call_begin fills it (or fails with err); call_end resets the statement and returns the
 * connection. */
typedef struct docs_call {
    denv *env;
    dconn *conn;
    sqlite3_stmt *st;
} docs_call;

static int call_begin(sqlite_docs *d, const char *env_id, const char *before, const char *table, const char *after,
                      docs_call *call, bs_err *err)
{
    char sql[256];
    memset(call, 0, sizeof *call);
    if (table_sql(sql, sizeof sql, before, table, after, err) < 0) return -1;
    call->conn = docs_conn_borrow(d, env_id, &call->env, err);
    if (!call->conn) return -1;
    call->st = docs_stmt(call->conn, sql, err);
    if (call->st) return 0;
    docs_conn_return(d, call->env, call->conn);
    return -1;
}

static void call_end(sqlite_docs *d, docs_call *call)
{
    docs_stmt_done(call->st);
    docs_conn_return(d, call->env, call->conn);
}

static int insert_one(dconn *c, sqlite3_stmt *st, const store_record *r, bs_err *err)
{
    sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->created_by ? r->created_by : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->created_at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->updated_at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->doc, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : docs_fail(c->db, "insert", err);
    docs_stmt_done(st);
    return rc;
}

/* ---- grouped writes ----
 * Single-call writes (insert, update, delete) of one environment are queued and committed in groups by
 * the store's writer threads: a writer takes every queued write of an environment (at most
 * DOCS_GROUP_MAX, in arrival order), runs them in one transaction, each inside its own savepoint (a
 * failing write is rolled back alone and gets its own error), commits once and reports to each caller.
 * The commit, the WAL append of shared pages and the lock round trips are paid once per group. Callers
 * either wait (store_docs_insert, _update, _delete) or get a callback (the _async calls), so an HTTP
 * worker need not block while its write waits for the group: with deferred answers, groups grow with the
 * number of connections writing instead of the number of worker threads. One writer per environment at a
 * time (a single-writer database); several environments are written in parallel. */
#define DOCS_GROUP_MAX 64

typedef int (*wop_fn)(dconn *c, void *arg, bs_err *err);

typedef struct wop {
    wop_fn fn;
    void *arg;
    bs_err *err;
    int rc;
    store_docs_done_fn done;     /* runs once on the writer thread after the group */
    void *done_ctx;
    struct wop *next;
} wop;

static int step_sql(dconn *c, const char *sql, bs_err *err)
{
    sqlite3_stmt *st = docs_stmt(c, sql, err);
    if (!st) return -1;
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : docs_fail(c->db, sql, err);
    docs_stmt_done(st);
    return rc;
}

/* Runs one group in one transaction; sets each op's rc (and err). */
static void group_run(sqlite_docs *d, denv *e, wop *ops)
{
    bs_err begin_err;
    dconn *c = docs_conn_borrow(d, e->id, &e, &begin_err);
    if (c) write_begin(e);
    int rc = c ? step_sql(c, "BEGIN IMMEDIATE", &begin_err) : -1;
    for (wop *op = ops; op; op = op->next) {
        if (rc < 0) { *op->err = begin_err; op->rc = -1; continue; }
        op->rc = step_sql(c, "SAVEPOINT w", op->err);
        if (op->rc == 0) op->rc = op->fn(c, op->arg, op->err);
        if (op->rc < 0) step_sql(c, "ROLLBACK TO w", &begin_err);
        step_sql(c, "RELEASE w", &begin_err);
    }
    bs_err commit_err;
    if (rc == 0 && step_sql(c, "COMMIT", &commit_err) < 0)
        for (wop *op = ops; op; op = op->next)
            if (op->rc == 0) { op->rc = -1; *op->err = commit_err; }
    if (c) docs_conn_return_writer(d, e, c);
}

/* Puts e on the writers' queue (e->qlock held). */
static void ready_push_locked(sqlite_docs *d, denv *e)
{
    if (e->in_ready || e->leader) return;
    e->in_ready = 1;
    pthread_mutex_lock(&d->ready_lock);
    e->ready_next = NULL;
    if (d->ready_tail) d->ready_tail->ready_next = e; else d->ready_head = e;
    d->ready_tail = e;
    pthread_cond_signal(&d->ready_cond);
    pthread_mutex_unlock(&d->ready_lock);
}

/* One group of e: taken from its queue, run, reported; e goes back on the queue if more arrived. */
static void writer_serve(sqlite_docs *d, denv *e)
{
    pthread_mutex_lock(&e->qlock);
    BS_ASSERT(e->in_ready && !e->leader); /* queued once, and one writer per environment at a time */
    BS_ASSERT(e->qhead && e->qtail && !e->qtail->next); /* queued only with work to do */
    e->in_ready = 0;
    e->leader = 1;
    wop *group = e->qhead, *last = group;
    for (int n = 1; last && n < DOCS_GROUP_MAX && last->next; n++) last = last->next;
    e->qhead = last ? last->next : NULL;
    if (!e->qhead) e->qtail = NULL;
    if (last) last->next = NULL;
    pthread_mutex_unlock(&e->qlock);
    if (group) group_run(d, e, group);
    BS_ASSERT(e->leader); /* nobody else took this environment while its group ran */
    for (wop *w = group, *next; w; w = next) {
        next = w->next; /* read first: done may free the op */
        w->done(w->done_ctx, w->rc);
    }
    pthread_mutex_lock(&e->qlock);
    e->leader = 0;
    if (e->qhead) ready_push_locked(d, e);
    pthread_mutex_unlock(&e->qlock);
}

static void *writer_main(void *arg)
{
    sqlite_docs *d = arg;
    pthread_mutex_lock(&d->ready_lock);
    for (;;) {
        while (!d->ready_head && !d->writers_stop) pthread_cond_wait(&d->ready_cond, &d->ready_lock);
        if (!d->ready_head) break; /* stopping, and nothing left */
        denv *e = d->ready_head;
        d->ready_head = e->ready_next;
        if (!d->ready_head) d->ready_tail = NULL;
        pthread_mutex_unlock(&d->ready_lock);
        writer_serve(d, e);
        pthread_mutex_lock(&d->ready_lock);
    }
    pthread_mutex_unlock(&d->ready_lock);
    return NULL;
}

/* Queues op on the environment: 0, or -1 with op->err (unknown environment; done is not called). */
static int group_enqueue(sqlite_docs *d, const char *env_id, wop *op)
{
    denv *e = env_get(d, env_id, op->err);
    if (!e) return -1;
    op->next = NULL;
    pthread_mutex_lock(&e->qlock);
    if (e->qtail) e->qtail->next = op; else e->qhead = op;
    e->qtail = op;
    ready_push_locked(d, e);
    BS_ASSERT(e->in_ready || e->leader); /* a queued write always has a writer coming */
    pthread_mutex_unlock(&e->qlock);
    return 0;
}

typedef struct sync_wait {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
} sync_wait;

static void sync_done(void *ctx, int rc)
{
    (void)rc;
    sync_wait *w = ctx;
    pthread_mutex_lock(&w->lock);
    BS_ASSERT(!w->done); /* a write is reported once */
    w->done = 1;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

/* Queues op and waits for its group. */
static int group_submit(sqlite_docs *d, const char *env_id, wop *op)
{
    sync_wait w = {.done = 0};
    pthread_mutex_init(&w.lock, NULL);
    pthread_cond_init(&w.cond, NULL);
    op->done = sync_done;
    op->done_ctx = &w;
    int rc = group_enqueue(d, env_id, op);
    if (rc == 0) {
        pthread_mutex_lock(&w.lock);
        while (!w.done) pthread_cond_wait(&w.cond, &w.lock);
        pthread_mutex_unlock(&w.lock);
        rc = op->rc;
    }
    pthread_mutex_destroy(&w.lock);
    pthread_cond_destroy(&w.cond);
    return rc;
}

/* An op owned by the store until its callback ran: the op, its arguments, the caller's callback. */
typedef struct async_op {
    wop op;
    store_docs_done_fn done;
    void *ctx;
    _Alignas(16) char args[];    /* the argument struct of op.fn */
} async_op;

static void async_done(void *ctx, int rc)
{
    async_op *a = ctx;
    a->done(a->ctx, rc);
    free(a);
}

/* A heap op for fn with an argument struct of args_size bytes (zeroed): NULL when out of memory. */
static async_op *async_new(wop_fn fn, size_t args_size, bs_err *err, store_docs_done_fn done, void *ctx)
{
    async_op *a = calloc(1, sizeof *a + args_size);
    if (!a) { bs_err_internal(err); return NULL; }
    a->op = (wop){.fn = fn, .arg = a->args, .err = err, .done = async_done, .done_ctx = a};
    a->done = done;
    a->ctx = ctx;
    return a;
}

static int async_enqueue(sqlite_docs *d, const char *env_id, async_op *a)
{
    if (group_enqueue(d, env_id, &a->op) == 0) return 0;
    free(a);
    return -1;
}

/* The maintained totals around a write of one record (docs_counts.h): before it, -1 for every total of
 * the table the record counts in; after it, +1 for every one it counts in then; the differences are added
 * to the totals inside the write's transaction (savepoint), so they commit or roll back with it. */
static int totals_before(dconn *c, const char *table, const char *id, counts_probe *p, bs_err *err)
{
    counts_probe_begin(c->totals, table, p);
    return counts_probe_row(c, p, id, -1, err);
}

static int totals_after(dconn *c, const char *id, counts_probe *p, bs_err *err)
{
    if (counts_probe_row(c, p, id, 1, err) < 0) return -1;
    return counts_probe_apply(c, p, err);
}

typedef struct insert_args {
    char sql[256];
    char table[STORE_TABLE_NAME_MAX + 1];
    const store_record *records;
    size_t n, *failed_index;
} insert_args;

static int insert_run(dconn *c, void *arg, bs_err *err)
{
    insert_args *a = arg;
    counts_probe totals;
    counts_probe_begin(c->totals, a->table, &totals);
    sqlite3_stmt *st = docs_stmt(c, a->sql, err);
    if (!st) return -1;
    for (size_t i = 0; i < a->n; i++)
        if (insert_one(c, st, &a->records[i], err) < 0 || counts_probe_row(c, &totals, a->records[i].id, 1, err) < 0) {
            if (a->failed_index) *a->failed_index = i;
            return -1;
        }
    return counts_probe_apply(c, &totals, err);
}

static int sqlite_docs_insert(void *driver, const char *env_id, const char *table, const store_record *records,
                      size_t n, size_t *failed_index, bs_err *err)
{
    sqlite_docs *d = driver;
    insert_args a = {.records = records, .n = n, .failed_index = failed_index};
    snprintf(a.table, sizeof a.table, "%s", table);
    if (n == 0 || n > STORE_MAX_BATCH) return bs_err_set(err, 400, "data/validation-error", "Between 1 and %d records per call", STORE_MAX_BATCH);
    if (table_sql(a.sql, sizeof a.sql, "INSERT INTO ", table, " (id, created_by, created_at, updated_at, doc) VALUES (?,?,?,?,?)", err) < 0)
        return -1;
    wop op = {.fn = insert_run, .arg = &a, .err = err};
    return group_submit(d, env_id, &op);
}

static int sqlite_docs_insert_async(void *driver, const char *env_id, const char *table, const store_record *records,
                            size_t n, size_t *failed_index, bs_err *err, store_docs_done_fn done, void *ctx)
{
    sqlite_docs *d = driver;
    if (n == 0 || n > STORE_MAX_BATCH) return bs_err_set(err, 400, "data/validation-error", "Between 1 and %d records per call", STORE_MAX_BATCH);
    async_op *op = async_new(insert_run, sizeof(insert_args), err, done, ctx);
    if (!op) return -1;
    insert_args *a = (insert_args *)op->args;
    *a = (insert_args){.records = records, .n = n, .failed_index = failed_index};
    snprintf(a->table, sizeof a->table, "%s", table);
    if (table_sql(a->sql, sizeof a->sql, "INSERT INTO ", table, " (id, created_by, created_at, updated_at, doc) VALUES (?,?,?,?,?)", err) < 0) {
        free(op);
        return -1;
    }
    return async_enqueue(d, env_id, op);
}

/* UPDATE ... WHERE the record is still exactly what the caller read: a compare-and-swap on the text. */
typedef struct replace_args {
    char sql[256];
    char table[STORE_TABLE_NAME_MAX + 1];
    const char *id, *expected, *doc, *updated_at;
    int *replaced;
} replace_args;

static int replace_run(dconn *c, void *arg, bs_err *err)
{
    replace_args *a = arg;
    counts_probe totals;
    if (totals_before(c, a->table, a->id, &totals, err) < 0) return -1;
    sqlite3_stmt *st = docs_stmt(c, a->sql, err);
    if (!st) return -1;
    sqlite3_bind_text(st, 1, a->doc, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->updated_at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, a->expected, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : docs_fail(c->db, "replace", err);
    if (rc == 0) *a->replaced = sqlite3_changes(c->db) > 0;
    docs_stmt_done(st);
    return rc == 0 ? totals_after(c, a->id, &totals, err) : -1;
}

static int sqlite_docs_replace_async(void *driver, const char *env_id, const char *table, const char *id,
                             const char *expected, const char *doc, const char *updated_at, int *replaced,
                             bs_err *err, store_docs_done_fn done, void *ctx)
{
    sqlite_docs *d = driver;
    *replaced = 0;
    async_op *op = async_new(replace_run, sizeof(replace_args), err, done, ctx);
    if (!op) return -1;
    replace_args *a = (replace_args *)op->args;
    *a = (replace_args){.id = id, .expected = expected, .doc = doc, .updated_at = updated_at, .replaced = replaced};
    snprintf(a->table, sizeof a->table, "%s", table);
    if (table_sql(a->sql, sizeof a->sql, "UPDATE ", table, " SET doc = ?, updated_at = ? WHERE id = ? AND doc = ?", err) < 0) {
        free(op);
        return -1;
    }
    return async_enqueue(d, env_id, op);
}

static int sqlite_docs_get(void *driver, const char *env_id, const char *table, const char *id, strbuf *out,
                   char *created_by, int *found, bs_err *err)
{
    sqlite_docs *d = driver;
    docs_call call;
    *found = 0;
    if (call_begin(d, env_id, "SELECT doc, created_by FROM ", table, " WHERE id = ?", &call, err) < 0) return -1;
    sqlite3_bind_text(call.st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(call.st), rc = 0;
    if (step == SQLITE_ROW) {
        *found = 1;
        strbuf_append(out, (const char *)sqlite3_column_text(call.st, 0), (size_t)sqlite3_column_bytes(call.st, 0));
        if (created_by) rc = sq_col_copy(call.st, 1, created_by, 65, err);
    } else if (step != SQLITE_DONE) {
        rc = docs_fail(call.conn->db, "get", err);
    }
    call_end(d, &call);
    return rc;
}

static int update_locked(dconn *c, const char *table, const char *id, const char *updated_at,
                         store_docs_mutate_fn mutate, void *ctx, strbuf *out, int *found, bs_err *err)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT doc, created_by FROM \"d_%s\" WHERE id = ?", table);
    sqlite3_stmt *st = docs_stmt(c, sql, err);
    if (!st) return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st), rc = 0;
    strbuf next;
    strbuf_init(&next, 0);
    if (step == SQLITE_ROW) {
        *found = 1;
        char owner[65];
        rc = SQ_COL_FIELD(st, 1, owner, err);
        if (rc == 0) rc = mutate((const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0), owner, &next, ctx, err);
    } else if (step != SQLITE_DONE) {
        rc = docs_fail(c->db, "get for update", err);
    }
    docs_stmt_done(st);
    counts_probe totals = {.n = 0};
    if (rc == 0 && *found) rc = totals_before(c, table, id, &totals, err);
    if (rc == 0 && *found) {
        snprintf(sql, sizeof sql, "UPDATE \"d_%s\" SET doc = ?, updated_at = ? WHERE id = ?", table);
        st = docs_stmt(c, sql, err);
        if (!st) rc = -1;
        if (st) {
            sqlite3_bind_text(st, 1, next.data, (int)next.len, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, updated_at, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
            rc = sqlite3_step(st) == SQLITE_DONE ? 0 : docs_fail(c->db, "update", err);
            docs_stmt_done(st);
        }
        if (rc == 0) rc = totals_after(c, id, &totals, err);
        if (rc == 0) strbuf_append(out, next.data, next.len);
    }
    strbuf_release(&next);
    return rc;
}

typedef struct update_args {
    const char *table, *id, *updated_at;
    store_docs_mutate_fn mutate;
    void *ctx;
    strbuf *out;
    int *found;
} update_args;

static int update_run(dconn *c, void *arg, bs_err *err)
{
    update_args *a = arg;
    return update_locked(c, a->table, a->id, a->updated_at, a->mutate, a->ctx, a->out, a->found, err);
}

static int sqlite_docs_update(void *driver, const char *env_id, const char *table, const char *id,
                      const char *updated_at, store_docs_mutate_fn mutate, void *ctx, strbuf *out, int *found,
                      bs_err *err)
{
    sqlite_docs *d = driver;
    *found = 0;
    if (!table_name_ok(table)) return bs_err_set(err, 404, "data/table-not-found", "Table not found");
    update_args a = {table, id, updated_at, mutate, ctx, out, found};
    wop op = {.fn = update_run, .arg = &a, .err = err};
    return group_submit(d, env_id, &op);
}

typedef struct delete_args {
    char sql[256];
    char table[STORE_TABLE_NAME_MAX + 1];
    const char *id;
    int *found;
} delete_args;

static int delete_run(dconn *c, void *arg, bs_err *err)
{
    delete_args *a = arg;
    counts_probe totals;
    if (totals_before(c, a->table, a->id, &totals, err) < 0) return -1;
    sqlite3_stmt *st = docs_stmt(c, a->sql, err);
    if (!st) return -1;
    sqlite3_bind_text(st, 1, a->id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : docs_fail(c->db, "delete", err);
    if (rc == 0) *a->found = sqlite3_changes(c->db) > 0;
    docs_stmt_done(st);
    return rc == 0 ? totals_after(c, a->id, &totals, err) : -1;
}

static int sqlite_docs_delete(void *driver, const char *env_id, const char *table, const char *id, int *found, bs_err *err)
{
    sqlite_docs *d = driver;
    delete_args a = {.id = id, .found = found};
    snprintf(a.table, sizeof a.table, "%s", table);
    *found = 0;
    if (table_sql(a.sql, sizeof a.sql, "DELETE FROM ", table, " WHERE id = ?", err) < 0) return -1;
    wop op = {.fn = delete_run, .arg = &a, .err = err};
    return group_submit(d, env_id, &op);
}

static int sqlite_docs_count(void *driver, const char *env_id, const char *table, int64_t *count, bs_err *err)
{
    sqlite_docs *d = driver;
    docs_call call;
    *count = 0;
    if (call_begin(d, env_id, "SELECT count(*) FROM ", table, "", &call, err) < 0) return -1;
    int rc = 0;
    if (sqlite3_step(call.st) == SQLITE_ROW) *count = sqlite3_column_int64(call.st, 0);
    else rc = docs_fail(call.conn->db, "count", err);
    call_end(d, &call);
    return rc;
}

/* ---- lists ---- */

static int bind_all(sqlite3_stmt *st, const docs_binds *b)
{
    for (int i = 0; i < b->n; i++) {
        struct json_object *v = b->values[i];
        int idx = i + 1;
        if (!v) { sqlite3_bind_text(st, idx, b->texts[i], -1, SQLITE_STATIC); continue; }
        switch (json_object_get_type(v)) {
        case json_type_int: sqlite3_bind_int64(st, idx, json_object_get_int64(v)); break;
        case json_type_double: sqlite3_bind_double(st, idx, json_object_get_double(v)); break;
        case json_type_boolean: sqlite3_bind_int(st, idx, json_object_get_boolean(v)); break;
        case json_type_string: sqlite3_bind_text(st, idx, json_object_get_string(v), json_object_get_string_len(v), SQLITE_STATIC); break;
        default: sqlite3_bind_null(st, idx);
        }
    }
    return 0;
}

static int run_count(dconn *c, const char *sql, const docs_binds *b, int64_t *total, bs_err *err)
{
    *total = -1;
    sqlite3_stmt *st = docs_stmt(c, sql, err);
    if (!st) return -1;
    bind_all(st, b);
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : docs_fail(c->db, "count", err);
    if (rc == 0) *total = sqlite3_column_int64(st, 0);
    docs_stmt_done(st);
    return rc;
}

/* A list's total shape (docs_counts.h): its key (the count SQL and its values) and what the registry
 * knows of it. */
typedef struct total_shape {
    strbuf key;
    int eligible;                /* may be maintained */
    counts_state state;
    int64_t id;
} total_shape;

static void total_shape_find(total_shape *k, denv *e, const docs_list_sql *q)
{
    strbuf_init(&k->key, COUNTS_MAX_KEY + 1);
    strbuf_append(&k->key, q->count.data, q->count.len);
    docs_sql_binds_key(&k->key, &q->count_binds);
    k->eligible = e->totals && !k->key.overflow && counts_eligible(k->key.len, q->count.data);
    k->state = k->eligible ? counts_find(e->totals, k->key.data, k->key.len, &k->id) : COUNTS_NONE;
}

typedef struct register_args {
    count_registry *totals;
    int64_t id;
    bs_err err;
} register_args;

static int register_run(dconn *c, void *arg, bs_err *err)
{
    register_args *a = arg;
    return counts_register(c, a->totals, a->id, err);
}

static void register_done(void *ctx, int rc)
{
    register_args *a = ctx;
    counts_registered(a->totals, a->id, rc == 0);
}

/* Asks for the shape's total to be maintained from now on (queued on the environment's writer; nothing
 * happens when it cannot be). */
static void total_register(sqlite_docs *d, denv *e, const char *table, const docs_list_sql *q, total_shape *k)
{
    if (!k->eligible || k->state != COUNTS_NONE ||
        counts_request(e->totals, table, k->key.data, k->key.len, q->count.data, q->count_where, &q->count_binds, &k->id) < 0)
        return;
    bs_err err;
    async_op *op = async_new(register_run, sizeof(register_args), &err, register_done, NULL);
    register_args *a = op ? (register_args *)op->args : NULL;
    if (a) {
        *a = (register_args){.totals = e->totals, .id = k->id};
        op->op.err = &a->err;
        op->ctx = a;
    }
    if (!op || async_enqueue(d, e->id, op) < 0) counts_registered(e->totals, k->id, 0);
}

/* Test builds check that a maintained total is the count of the list's own snapshot. */
static int total_check(dconn *c, const docs_list_sql *q, int64_t total, bs_err *err)
{
#ifdef BASALT_ASSERTS
    int64_t counted;
    if (run_count(c, q->count.data, &q->count_binds, &counted, err) < 0) return -1;
    BS_ASSERT(counted == total);
#endif
    return 0;
}

/* The total of a list whose page did not tell it, inside the list's read transaction: the maintained row
 * when the snapshot has it; on a first attempt while the shape's registration is under way, *retry = 1
 * (the caller ends the transaction, waits for it and lists again: cheaper than counting many rows); else a
 * count, after which a shape with many matches (COUNTS_MIN_MATCHES) is registered for the next lists.
 * Cheap shapes are simply counted: registering them would turn reads into writes. */
static int list_total(sqlite_docs *d, denv *e, dconn *c, const char *table, const docs_list_sql *q, total_shape *k,
                      int attempt, int64_t *total, int *retry, bs_err *err)
{
    if (k->state == COUNTS_LIVE) {
        int found = counts_read(c, k->id, total, err);
        if (found != 0) return found < 0 ? -1 : total_check(c, q, *total, err);
    } else if (k->state == COUNTS_PENDING && attempt == 0) {
        *retry = 1;
        return 0;
    }
    int rc = run_count(c, q->count.data, &q->count_binds, total, err);
    if (rc == 0 && *total >= COUNTS_MIN_MATCHES) total_register(d, e, table, q, k);
    return rc;
}

/* Writes column col of the current row as a JSON value. */
static void column_json(sqlite3_stmt *st, int col, strbuf *out)
{
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_INTEGER: strbuf_appendf(out, "%lld", (long long)sqlite3_column_int64(st, col)); break;
    case SQLITE_FLOAT: strbuf_appendf(out, "%.17g", sqlite3_column_double(st, col)); break;
    case SQLITE_TEXT:
        strbuf_append_json_string(out, (const char *)sqlite3_column_text(st, col), (size_t)sqlite3_column_bytes(st, col));
        break;
    default: strbuf_append_str(out, "null");
    }
}

/* Reads up to limit rows (one more is asked for, to know whether more exist). Columns: the item, the
 * sort value, the id. */
static int run_page(dconn *c, const char *sql, const docs_binds *b, int64_t limit, int64_t offset, strbuf *items,
                    store_docs_paging *paging, int64_t *rows, int *more, bs_err *err)
{
    sqlite3_stmt *st = docs_stmt(c, sql, err);
    if (!st) return -1;
    bind_all(st, b);
    sqlite3_bind_int64(st, b->n + 1, limit + 1);
    sqlite3_bind_int64(st, b->n + 2, offset);
    strbuf_append_char(items, '[');
    int step;
    int64_t n = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == limit) {
            *more = 1;
            break;
        }
        if (n++) strbuf_append_char(items, ',');
        strbuf_append(items, (const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
        if (paging && paging->next_after && n == limit) { /* the cursor is the last row's (sort value, id) */
            strbuf_reset(paging->next_after);
            strbuf_append_char(paging->next_after, '[');
            column_json(st, 1, paging->next_after);
            strbuf_append_char(paging->next_after, ',');
            column_json(st, 2, paging->next_after);
            strbuf_append_char(paging->next_after, ']');
        }
    }
    strbuf_append_char(items, ']');
    *rows = n;
    if (paging) paging->scanned += sqlite3_stmt_status(st, SQLITE_STMTSTATUS_FULLSCAN_STEP, 1);
    int rc = step == SQLITE_DONE || step == SQLITE_ROW ? 0 : docs_fail(c->db, "list", err);
    docs_stmt_done(st);
    return rc;
}

/* One list inside one read transaction (the page and its total see the same snapshot). */
typedef struct list_run {
    sqlite_docs *d;
    denv *e;
    dconn *c;
    const char *table;
    const query_plan *plan;
    const docs_list_sql *q;
    store_docs_paging *paging;
    total_shape shape;
} list_run;

static int list_once(list_run *l, int attempt, strbuf *items, int64_t *total, int *retry, bs_err *err)
{
    store_docs_paging *paging = l->paging;
    struct json_object *after = paging ? paging->after : NULL;
    int64_t offset = after ? 0 : (l->plan->page - 1) * l->plan->limit, rows = 0;
    int more = 0;
    int rc = step_sql(l->c, "BEGIN", err);
    if (rc == 0) rc = run_page(l->c, l->q->page.data, &l->q->page_binds, l->plan->limit, offset, items, paging, &rows, &more, err);
    if (paging) {
        paging->has_more = more;
        paging->rows = rows;
    }
    if (rc == 0 && !(paging && paging->skip_total)) {
        if (!after && !more && (rows > 0 || offset == 0)) *total = offset + rows; /* the last page tells */
        else rc = list_total(l->d, l->e, l->c, l->table, l->q, &l->shape, attempt, total, retry, err);
    }
    bs_err end_err;
    if (step_sql(l->c, rc == 0 ? "COMMIT" : "ROLLBACK", &end_err) < 0 && rc == 0) {
        *err = end_err;
        rc = -1;
    }
    return rc;
}

/* Back to the state before a list attempt, for the next one. */
static void list_undo(strbuf *items, size_t items_at, store_docs_paging *paging, int64_t scanned)
{
    items->len = items_at;
    if (items->data) items->data[items_at] = '\0';
    if (paging && paging->next_after) strbuf_reset(paging->next_after);
    if (paging) paging->scanned = scanned;
}

static int sqlite_docs_list(void *driver, const char *env_id, const char *table, const query_plan *plan,
                    const char *created_by_filter, store_docs_paging *paging, strbuf *items, int64_t *total,
                    bs_err *err)
{
    sqlite_docs *d = driver;
    if (!table_name_ok(table)) return bs_err_set(err, 404, "data/table-not-found", "Table not found");
    static _Thread_local docs_list_sql q;
    int rc = docs_sql_list(&q, table, plan, created_by_filter, paging ? paging->after : NULL) < 0
                 ? bs_err_set(err, 400, "data/validation-error", "The filters are too large")
                 : 0;
    list_run l = {.d = d, .table = table, .plan = plan, .q = &q, .paging = paging};
    l.c = rc == 0 ? docs_conn_borrow(d, env_id, &l.e, err) : NULL;
    if (rc == 0 && !l.c) rc = -1;
    *total = -1;
    strbuf_init(&l.shape.key, 0);
    if (l.c) total_shape_find(&l.shape, l.e, &q); /* before the snapshot: see docs_counts.h */
    size_t items_at = items->len;
    int64_t scanned = paging ? paging->scanned : 0;
    for (int attempt = 0; rc == 0; attempt++) {
        int retry = 0;
        rc = list_once(&l, attempt, items, total, &retry, err);
        if (rc < 0 || !retry) break;
        list_undo(items, items_at, paging, scanned);
        counts_wait(l.e->totals, l.shape.id, DOCS_TOTAL_WAIT_MS);
        l.shape.state = counts_find(l.e->totals, l.shape.key.data, l.shape.key.len, &l.shape.id);
    }
    if (l.c) docs_conn_return(d, l.e, l.c);
    strbuf_release(&l.shape.key);
    docs_sql_list_release(&q);
    return rc;
}

/* ---- transactions ---- */

typedef struct sqlite_tx {
    store_docs_tx base;          /* first: store/docs.c dispatches through base.ops */
    sqlite_docs *docs;
    denv *env;
    dconn *conn;
} sqlite_tx;

static store_docs_tx *sqlite_docs_tx_begin(void *driver, const char *env_id, bs_err *err)
{
    sqlite_docs *d = driver;
    sqlite_tx *tx = calloc(1, sizeof *tx);
    if (!tx) { bs_err_internal(err); return NULL; }
    tx->base.ops = &store_sqlite_docs_ops;
    tx->docs = d;
    tx->conn = docs_conn_borrow_writer(d, env_id, &tx->env, err);
    if (!tx->conn || docs_exec(tx->conn, "BEGIN IMMEDIATE", err) < 0) {
        if (tx->conn) docs_conn_return_writer(d, tx->env, tx->conn);
        free(tx);
        return NULL;
    }
    return &tx->base;
}

static int sqlite_docs_tx_commit(store_docs_tx *tx_handle, bs_err *err)
{
    sqlite_tx *tx = (sqlite_tx *)tx_handle;
    int rc = docs_exec(tx->conn, "COMMIT", err);
    docs_conn_return_writer(tx->docs, tx->env, tx->conn); /* rolls back when COMMIT failed */
    free(tx);
    return rc;
}

static void sqlite_docs_tx_abort(store_docs_tx *tx_handle)
{
    sqlite_tx *tx = (sqlite_tx *)tx_handle;
    if (!tx) return;
    docs_conn_return_writer(tx->docs, tx->env, tx->conn);
    free(tx);
}

static int sqlite_docs_tx_insert(store_docs_tx *tx_handle, const char *table, const store_record *record, bs_err *err)
{
    sqlite_tx *tx = (sqlite_tx *)tx_handle;
    char sql[256];
    if (table_sql(sql, sizeof sql, "INSERT INTO ", table, " (id, created_by, created_at, updated_at, doc) VALUES (?,?,?,?,?)", err) < 0)
        return -1;
    sqlite3_stmt *st = docs_stmt(tx->conn, sql, err);
    counts_probe totals;
    counts_probe_begin(tx->conn->totals, table, &totals);
    if (!st || insert_one(tx->conn, st, record, err) < 0) return -1;
    return totals_after(tx->conn, record->id, &totals, err);
}

static int sqlite_docs_tx_update(store_docs_tx *tx_handle, const char *table, const char *id, const char *updated_at,
                         store_docs_mutate_fn mutate, void *ctx, strbuf *out, int *found, bs_err *err)
{
    sqlite_tx *tx = (sqlite_tx *)tx_handle;
    *found = 0;
    if (!table_name_ok(table)) return bs_err_set(err, 404, "data/table-not-found", "Table not found");
    return update_locked(tx->conn, table, id, updated_at, mutate, ctx, out, found, err);
}

static int sqlite_docs_tx_delete(store_docs_tx *tx_handle, const char *table, const char *id, store_docs_mutate_fn check,
                         void *ctx, int *found, bs_err *err)
{
    sqlite_tx *tx = (sqlite_tx *)tx_handle;
    char sql[256];
    *found = 0;
    if (table_sql(sql, sizeof sql, "SELECT doc, created_by FROM ", table, " WHERE id = ?", err) < 0) return -1;
    sqlite3_stmt *st = docs_stmt(tx->conn, sql, err);
    if (!st) return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st), rc = 0;
    if (step == SQLITE_ROW) {
        *found = 1;
        if (check) {
            strbuf scratch;
            strbuf_init(&scratch, 0);
            char owner[65];
            rc = SQ_COL_FIELD(st, 1, owner, err);
            if (rc == 0) rc = check((const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0), owner, &scratch, ctx, err);
            strbuf_release(&scratch);
        }
    } else if (step != SQLITE_DONE) {
        rc = docs_fail(tx->conn->db, "get for delete", err);
    }
    docs_stmt_done(st);
    if (rc < 0 || !*found) return rc;
    counts_probe totals;
    if (totals_before(tx->conn, table, id, &totals, err) < 0) return -1;
    snprintf(sql, sizeof sql, "DELETE FROM \"d_%s\" WHERE id = ?", table);
    st = docs_stmt(tx->conn, sql, err);
    if (!st) return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : docs_fail(tx->conn->db, "delete", err);
    docs_stmt_done(st);
    return rc == 0 ? totals_after(tx->conn, id, &totals, err) : -1;
}

/* ---- custom indexes ---- */

static void index_sql(strbuf *sql, const char *table, const store_index_def *ix)
{
    strbuf_appendf(sql, "CREATE %sINDEX \"d_%s" INDEX_SEP "x_%s\" ON \"d_%s\"(", ix->unique ? "UNIQUE " : "", table, ix->name, table);
    for (size_t i = 0; i < ix->nfields; i++) {
        if (i) strbuf_append_char(sql, ',');
        docs_sql_field(sql, &ix->fields[i]); /* spelled exactly as queries spell it, so the planner uses it */
        strbuf_append_str(sql, ix->desc[i] ? " DESC" : " ASC");
    }
    /* lists break ties by id in the sort's direction: with id last, a sorted page is read straight from
     * the index (not for unique indexes, whose uniqueness is over the listed fields only) */
    if (!ix->unique && ix->fields[ix->nfields - 1].kind != QUERY_FIELD_ID)
        strbuf_append_str(sql, ix->desc[ix->nfields - 1] ? ", id DESC" : ", id ASC");
    strbuf_append_char(sql, ')');
    if (ix->sparse && ix->fields[0].kind == QUERY_FIELD_DOC)
        strbuf_appendf(sql, " WHERE json_type(doc,'$.%s') IS NOT NULL", ix->fields[0].path);
}

/* 1 when table's custom index ix still has its legacy name (see "physical names"), 0 when not, -1. */
static int legacy_index(dconn *c, const char *table, const char *ix, bs_err *err)
{
    char name[STORE_ENV_PREFIX_MAX + STORE_TABLE_NAME_MAX + STORE_INDEX_NAME_MAX + 8];
    char owner[STORE_ENV_PREFIX_MAX + STORE_TABLE_NAME_MAX + 4];
    snprintf(name, sizeof name, "%sd_%s" LEGACY_INDEX_SEP "x_%s", c->prefix, table, ix);
    snprintf(owner, sizeof owner, "%sd_%s", c->prefix, table);
    sqlite3_stmt *st = docs_stmt(c, "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ? AND tbl_name = ?", err);
    if (!st) return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    int rc = step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : docs_fail(c->db, "legacy index", err);
    docs_stmt_done(st);
    return rc;
}

static int index_drop(dconn *c, const char *table, const char *ix, bs_err *err)
{
    char sql[256];
    int legacy = legacy_index(c, table, ix, err);
    if (legacy < 0) return -1;
    snprintf(sql, sizeof sql, "DROP INDEX IF EXISTS \"d_%s%sx_%s\"", table, legacy ? LEGACY_INDEX_SEP : INDEX_SEP, ix);
    return docs_exec(c, sql, err);
}

static int indexes_apply(dconn *c, const char *table, const store_index_def *create, size_t ncreate,
                         const char *const *drop, size_t ndrop, bs_err *err)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < ndrop; i++) rc = index_drop(c, table, drop[i], err);
    for (size_t i = 0; rc == 0 && i < ncreate; i++) {
        strbuf sql;
        strbuf_init(&sql, 0);
        index_sql(&sql, table, &create[i]);
        rc = sql.overflow ? bs_err_internal(err) : docs_exec(c, sql.data, err);
        strbuf_release(&sql);
    }
    return rc;
}

static int sqlite_docs_indexes_change(void *driver, const char *env_id, const char *table, const store_index_def *create,
                              size_t ncreate, const char *const *drop, size_t ndrop, const char *indexes_json,
                              int index_version, const char *created_by, int *found, bs_err *err)
{
    sqlite_docs *d = driver;
    *found = 0;
    if (!table_name_ok(table)) return bs_err_set(err, 404, "data/table-not-found", "Table not found");
    denv *e;
    dconn *c = docs_conn_borrow_writer(d, env_id, &e, err);
    if (!c) return -1;
    int rc = docs_exec(c, "BEGIN IMMEDIATE", err);
    sqlite3_stmt *st = rc == 0 ? docs_stmt(c, "UPDATE _basalt_tables SET indexes = ?, index_version = ? WHERE name = ?", err) : NULL;
    if (rc == 0 && !st) rc = -1;
    if (st) {
        sqlite3_bind_text(st, 1, indexes_json, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, index_version);
        sqlite3_bind_text(st, 3, table, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) rc = docs_fail(c->db, "update indexes", err);
        else *found = sqlite3_changes(c->db) > 0;
        docs_stmt_done(st);
    }
    if (rc == 0 && *found) rc = indexes_apply(c, table, create, ncreate, drop, ndrop, err);
    if (rc == 0 && *found) rc = version_add(c, table, STORE_VERSION_INDEXES, index_version, indexes_json, created_by, err);
    if (rc == 0) rc = docs_exec(c, "COMMIT", err);
    docs_conn_return_writer(d, e, c);
    return rc;
}

/* ---- versions ---- */

static int version_read(sqlite3_stmt *st, store_version *v)
{
    v->version = sqlite3_column_int(st, 0);
    v->body = sq_col_dup(st, 1);
    v->created_at = sqlite3_column_int64(st, 3);
    return SQ_COL_FIELD(st, 2, v->created_by, NULL);
}

static int sqlite_docs_versions(void *driver, const char *env_id, const char *table, store_version_kind kind,
                        store_version **out, size_t *count, bs_err *err)
{
    sqlite_docs *d = driver;
    *out = NULL;
    *count = 0;
    denv *e;
    dconn *c = docs_conn_borrow(d, env_id, &e, err);
    if (!c) return -1;
    sqlite3_stmt *st = docs_stmt(c, "SELECT version, body, created_by, created_at FROM _basalt_versions"
                                     " WHERE table_name = ? AND kind = ? ORDER BY version DESC LIMIT 1000", err);
    store_version *list = st ? calloc(1000, sizeof *list) : NULL;
    int rc = list ? 0 : (st ? bs_err_internal(err) : -1), step = SQLITE_DONE;
    if (list) {
        sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, (int)kind);
        while (rc == 0 && *count < 1000 && (step = sqlite3_step(st)) == SQLITE_ROW)
            if (version_read(st, &list[(*count)++]) != 0) rc = bs_err_internal(err);
        if (rc == 0 && step != SQLITE_ROW && step != SQLITE_DONE) rc = docs_fail(c->db, "versions", err);
    }
    if (st) docs_stmt_done(st);
    docs_conn_return(d, e, c);
    if (rc < 0) {
        for (size_t i = 0; list && i < *count; i++) free(list[i].body);
        free(list);
        *count = 0;
        return -1;
    }
    *out = list;
    return 0;
}

static int sqlite_docs_version_get(void *driver, const char *env_id, const char *table, store_version_kind kind,
                           int version, store_version *out, int *found, bs_err *err)
{
    sqlite_docs *d = driver;
    memset(out, 0, sizeof *out);
    *found = 0;
    denv *e;
    dconn *c = docs_conn_borrow(d, env_id, &e, err);
    if (!c) return -1;
    sqlite3_stmt *st = docs_stmt(c, "SELECT version, body, created_by, created_at FROM _basalt_versions"
                                     " WHERE table_name = ? AND kind = ? AND version = ?", err);
    int rc = st ? 0 : -1;
    if (st) {
        sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, (int)kind);
        sqlite3_bind_int(st, 3, version);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            *found = 1;
            if (version_read(st, out) != 0 || !out->body) rc = bs_err_internal(err);
        } else if (step != SQLITE_DONE) {
            rc = docs_fail(c->db, "version", err);
        }
        docs_stmt_done(st);
    }
    docs_conn_return(d, e, c);
    return rc;
}

static int sqlite_docs_schema_change(void *driver, const char *env_id, const char *table, const char *schema_json,
                             int new_version, const char *created_by, int *found, bs_err *err)
{
    sqlite_docs *d = driver;
    *found = 0;
    if (!table_name_ok(table)) return bs_err_set(err, 404, "data/table-not-found", "Table not found");
    denv *e;
    dconn *c = docs_conn_borrow_writer(d, env_id, &e, err);
    if (!c) return -1;
    int rc = docs_exec(c, "BEGIN IMMEDIATE", err);
    sqlite3_stmt *st = rc == 0 ? docs_stmt(c, "UPDATE _basalt_tables SET schema = ?, schema_version = ?, updated_at = ?"
                                                " WHERE name = ? AND schema_version = ?", err) : NULL;
    if (rc == 0 && !st) rc = -1;
    if (st) {
        sqlite3_bind_text(st, 1, schema_json, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, new_version);
        sqlite3_bind_int64(st, 3, clock_now_ms());
        sqlite3_bind_text(st, 4, table, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, new_version - 1);
        if (sqlite3_step(st) != SQLITE_DONE) rc = docs_fail(c->db, "schema change", err);
        else *found = sqlite3_changes(c->db) > 0;
        docs_stmt_done(st);
    }
    if (rc == 0 && !*found)
        rc = bs_err_set(err, 409, "data/conflict", "The table changed meanwhile (or is gone); reload it and retry");
    if (rc == 0) rc = version_add(c, table, STORE_VERSION_SCHEMA, new_version, schema_json, created_by, err);
    if (rc == 0) rc = docs_exec(c, "COMMIT", err);
    docs_conn_return_writer(d, e, c);
    return rc;
}

/* ---- query analysis ---- */

/* The API name of a SQL index of table (see create_sql_table and index_sql), given without the slot's
 * prefix (explain_row strips it). */
static void index_api_name(const char *table, const char *sql_name, size_t len, char *out, size_t size)
{
    char prefix[STORE_TABLE_NAME_MAX + 8], legacy[STORE_TABLE_NAME_MAX + 8];
    int n = snprintf(prefix, sizeof prefix, "d_%s" INDEX_SEP, table);
    int ln = snprintf(legacy, sizeof legacy, "d_%s" LEGACY_INDEX_SEP, table);
    const char *rest = len > (size_t)n && strncmp(sql_name, prefix, (size_t)n) == 0 ? sql_name + n : NULL;
    if (!rest && len > (size_t)ln && strncmp(sql_name, legacy, (size_t)ln) == 0) {
        rest = sql_name + ln;
        n = ln;
    }
    size_t rest_len = rest ? len - (size_t)n : 0;
    if (!rest) snprintf(out, size, "%.*s", (int)len, sql_name);
    else if (rest_len > 2 && strncmp(rest, "x_", 2) == 0) snprintf(out, size, "%.*s", (int)(rest_len - 2), rest + 2);
    else if (rest_len == 9 && strncmp(rest, "createdAt", 9) == 0) snprintf(out, size, "idx_createdAt_desc");
    else if (rest_len == 9 && strncmp(rest, "updatedAt", 9) == 0) snprintf(out, size, "idx_updatedAt_desc");
    else if (rest_len == 9 && strncmp(rest, "createdBy", 9) == 0) snprintf(out, size, "idx_createdBy");
    else snprintf(out, size, "%.*s", (int)len, sql_name);
}

/* Reads one EXPLAIN QUERY PLAN line into out. */
static void explain_line(const char *table, const char *detail, store_explain *out)
{
    json_object_array_add(out->steps, json_object_new_string(detail));
    if (strncmp(detail, "USE TEMP B-TREE FOR ORDER BY", 28) == 0) out->sorts = 1;
    int scan = strncmp(detail, "SCAN ", 5) == 0, search = strncmp(detail, "SEARCH ", 7) == 0;
    if (!scan && !search) return;
    if (scan && !strstr(detail, "json_tree")) out->full_scan = 1;
    const char *ix = strstr(detail, "USING COVERING INDEX ");
    size_t skip = 21;
    if (!ix) { ix = strstr(detail, "USING INDEX "); skip = 12; }
    if (ix && !out->index[0]) {
        const char *name = ix + skip;
        index_api_name(table, name, strcspn(name, " "), out->index, sizeof out->index);
    } else if (strstr(detail, "USING PRIMARY KEY") && !out->index[0]) {
        snprintf(out->index, sizeof out->index, "_id_");
    }
}

/* One EXPLAIN QUERY PLAN line as the client sees it: without the slot's prefix on the names. */
static int explain_row(const dconn *c, const char *table, const char *detail, store_explain *out, bs_err *err)
{
    if (!c->prefix[0]) {
        explain_line(table, detail ? detail : "", out);
        return 0;
    }
    strbuf plain;
    strbuf_init(&plain, 0);
    int rc = sql_prefix_strip(&plain, detail ? detail : "", c->prefix) < 0 ? bs_err_internal(err) : 0;
    if (rc == 0) explain_line(table, plain.data ? plain.data : "", out);
    strbuf_release(&plain);
    return rc;
}

static int sqlite_docs_explain(void *driver, const char *env_id, const char *table, const query_plan *plan,
                       const char *created_by_filter, store_explain *out, bs_err *err)
{
    sqlite_docs *d = driver;
    memset(out, 0, sizeof *out);
    if (!table_name_ok(table)) return bs_err_set(err, 404, "data/table-not-found", "Table not found");
    static _Thread_local docs_list_sql q;
    int rc = docs_sql_list(&q, table, plan, created_by_filter, NULL) < 0
                 ? bs_err_set(err, 400, "data/validation-error", "The filters are too large")
                 : 0;
    strbuf sql;
    strbuf_init(&sql, 0);
    strbuf_append_str(&sql, "EXPLAIN QUERY PLAN ");
    strbuf_append(&sql, q.page.data, q.page.len);
    denv *e = NULL;
    dconn *c = rc == 0 ? docs_conn_borrow(d, env_id, &e, err) : NULL;
    if (rc == 0 && !c) rc = -1;
    out->steps = json_object_new_array();
    sqlite3_stmt *st = NULL;
    if (rc == 0 && dconn_prepare(c, sql.data, 0, &st) != SQLITE_OK) rc = docs_fail(c->db, "explain", err);
    if (rc == 0) {
        bind_all(st, &q.page_binds);
        while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) rc = explain_row(c, table, (const char *)sqlite3_column_text(st, 3), out, err);
    }
    sqlite3_finalize(st);
    total_shape k;
    strbuf_init(&k.key, 0);
    if (rc == 0) total_shape_find(&k, e, &q);
    out->total_maintained = k.state == COUNTS_LIVE;
    out->total_maintainable = k.eligible;
    strbuf_release(&k.key);
    if (rc == 0) rc = run_count(c, q.count.data, &q.count_binds, &out->matching, err);
    if (c) docs_conn_return(d, e, c);
    strbuf_release(&sql);
    docs_sql_list_release(&q);
    return rc;
}

/* ---- usage: table data of the storage gauge ---- */

/* The LIKE pattern of the slot's object names: prefix (its '_' escaped) then anything. */
static void env_bytes_pattern(const char *prefix, char *out, size_t size)
{
    size_t n = 0;
    for (const char *p = prefix; *p && n + 3 < size; p++) {
        if (*p == '_' || *p == '%' || *p == '\\') out[n++] = '\\';
        out[n++] = *p;
    }
    out[n++] = '%';
    out[n] = '\0';
}

static int sqlite_docs_env_bytes(void *driver, const char *env_id, uint64_t *bytes, bs_err *err)
{
    sqlite_docs *d = driver;
    *bytes = 0;
    denv *e = NULL;
    dconn *c = docs_conn_borrow(d, env_id, &e, err);
    if (!c) return -1;
    char pattern[2 * STORE_ENV_PREFIX_MAX + 2];
    env_bytes_pattern(c->prefix, pattern, sizeof pattern);
    const char *sql = c->prefix[0]
                          ? "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE ?1 ESCAPE '\\'"
                            " OR name LIKE 'sqlite\\_autoindex\\_' || ?1 ESCAPE '\\'"
                          : "SELECT (page_count - freelist_count) * page_size FROM pragma_page_count(),"
                            " pragma_freelist_count(), pragma_page_size()";
    sqlite3_stmt *st = docs_stmt(c, sql, err);
    int rc = st ? 0 : -1;
    if (st && c->prefix[0]) sqlite3_bind_text(st, 1, pattern, -1, SQLITE_TRANSIENT);
    if (st) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) *bytes = (uint64_t)sqlite3_column_int64(st, 0);
        else rc = docs_fail(c->db, "table bytes", err);
        docs_stmt_done(st);
    }
    docs_conn_return(d, e, c);
    return rc;
}

static void sqlite_docs_place_id(void *driver, char *out, size_t cap)
{
    snprintf(out, cap, "sqlite:%s", ((sqlite_docs *)driver)->dir);
}

const store_docs_ops store_sqlite_docs_ops = {
    .name = "sqlite",
    .open = sqlite_docs_open,
    .free = sqlite_docs_free,
    .users = &store_sqlite_users_ops,
    .files = &store_sqlite_files_ops,
    .set_locator = sqlite_docs_set_locator,
    .table_create = sqlite_docs_table_create,
    .table_get = sqlite_docs_table_get,
    .table_list = sqlite_docs_table_list,
    .table_update = sqlite_docs_table_update,
    .table_drop = sqlite_docs_table_drop,
    .count = sqlite_docs_count,
    .indexes_change = sqlite_docs_indexes_change,
    .versions = sqlite_docs_versions,
    .version_get = sqlite_docs_version_get,
    .schema_change = sqlite_docs_schema_change,
    .env_drop = sqlite_docs_env_drop,
    .insert = sqlite_docs_insert,
    .get = sqlite_docs_get,
    .update = sqlite_docs_update,
    .delete = sqlite_docs_delete,
    .insert_async = sqlite_docs_insert_async,
    .replace_async = sqlite_docs_replace_async,
    .tx_begin = sqlite_docs_tx_begin,
    .tx_commit = sqlite_docs_tx_commit,
    .tx_abort = sqlite_docs_tx_abort,
    .tx_insert = sqlite_docs_tx_insert,
    .tx_update = sqlite_docs_tx_update,
    .tx_delete = sqlite_docs_tx_delete,
    .list = sqlite_docs_list,
    .explain = sqlite_docs_explain,
    .env_bytes = sqlite_docs_env_bytes,
    .rows_export = sqlite_rows_export,
    .rows_import = sqlite_rows_import,
    .place_id = sqlite_docs_place_id,
};
