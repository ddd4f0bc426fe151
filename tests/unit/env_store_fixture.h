/* env_store_fixture.h: a fresh environment data store (store/docs.h) per test, on either engine, for the
 * shared suites of the stores that live in it (users_store_cases.h, files_store_cases.h):
 *   - SQLite: store_docs_open("sqlite:<mkdtemp dir>");
 *   - PostgreSQL: store_docs_open on a database of its own, basalt_es_<pid>_<n>, created on the server of
 *     BASALT_TEST_PG_URL (tests/pg/with-pg.sh) and dropped after the test; without that variable the
 *     fixture has no store and every test skips.
 * Both get the same locator: environments "env_a" and "env_b" are slots 1 and 2 of shared cluster c1
 * (clusters/shared-1.db, prefixes s1_ and s2_: one SQLite file, or schemas s1 and s2 of the main PostgreSQL
 * database), any other (ES_OWN_ENV) its own file or database, so the cases run where production
 * environments run. A case that uses ES_OWN_ENV drops it at its end (on PostgreSQL its database would
 * outlive the test's).
 *
 * A runner includes this after cmocka.h and passes es_setup_sqlite or es_setup_pg with es_teardown to the
 * suite's case list macro. A case starts with es_fix(state), which skips when the store is missing. */
#ifndef BASALT_TESTS_ENV_STORE_FIXTURE_H
#define BASALT_TESTS_ENV_STORE_FIXTURE_H

#include <ftw.h> /* nftw: the runner defines _XOPEN_SOURCE 700 before any include */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/docs.h"

#define ES_ENV "env_a"
#define ES_OTHER_ENV "env_b"
#define ES_OWN_ENV "env_own"   /* an environment on a dedicated cluster: drop it (store_docs_env_drop) when used */

typedef enum es_engine { ES_SQLITE, ES_POSTGRES } es_engine;

typedef struct es_fixture {
    es_engine engine;
    store_docs *docs;        /* NULL: the engine is not available here, the test skips */
    char dir[64];            /* SQLite: the data directory */
    char server[512];        /* PostgreSQL: BASALT_TEST_PG_URL */
    char dbname[64];         /* PostgreSQL: the test's database */
} es_fixture;

static inline es_fixture *es_fix(void **state)
{
    es_fixture *f = *state;
    if (!f || !f->docs) skip();
    return f;
}

/* The locator of both engines (see above). */
static inline int es_locate(void *arg, const char *env_id, store_env_location *out, bs_err *err)
{
    (void)arg;
    (void)err;
    memset(out, 0, sizeof *out);
    int slot = !strcmp(env_id, ES_ENV) ? 1 : !strcmp(env_id, ES_OTHER_ENV) ? 2 : 0;
    if (slot) {
        snprintf(out->file, sizeof out->file, "clusters/shared-1.db");
        snprintf(out->prefix, sizeof out->prefix, "s%d_", slot);
    } else {
        snprintf(out->file, sizeof out->file, "envs/%s.db", env_id);
    }
    return 0;
}

static inline int es_open(es_fixture *f, const char *location)
{
    bs_err err = {0};
    f->docs = store_docs_open(location, &err);
    if (!f->docs) {
        fprintf(stderr, "env_store_fixture: cannot open %s: %s\n", location, err.message);
        return -1;
    }
    store_docs_set_locator(f->docs, es_locate, NULL);
    return 0;
}

static inline int es_setup_sqlite(void **state)
{
    es_fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    *state = f;
    f->engine = ES_SQLITE;
    snprintf(f->dir, sizeof f->dir, "/tmp/basalt-envstore-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    char location[96];
    snprintf(location, sizeof location, "sqlite:%s", f->dir);
    return es_open(f, location);
}

/* Runs sql on the server's own database; 0 when it worked. */
static inline int es_pg_admin(const es_fixture *f, const char *sql)
{
    PGconn *c = PQconnectdb(f->server);
    PGresult *r = c && PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
    int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) fprintf(stderr, "env_store_fixture: %s: %s\n", sql, c ? PQerrorMessage(c) : "no connection");
    PQclear(r);
    PQfinish(c);
    return ok ? 0 : -1;
}

/* f->server with its database name replaced by f->dbname, into out. */
static inline int es_pg_url(const es_fixture *f, char *out, size_t cap)
{
    const char *query = strchr(f->server, '?'), *slash = strrchr(f->server, '/');
    if (!slash || (query && slash > query) || strstr(f->server, "://") + 2 == slash) return -1;
    int n = snprintf(out, cap, "%.*s/%s%s", (int)(slash - f->server), f->server, f->dbname, query ? query : "");
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

static inline int es_setup_pg(void **state)
{
    static int counter;
    es_fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    *state = f;
    f->engine = ES_POSTGRES;
    const char *server = getenv("BASALT_TEST_PG_URL");
    if (!server || !*server) return 0; /* no server: the tests skip */
    snprintf(f->server, sizeof f->server, "%s", server);
    snprintf(f->dbname, sizeof f->dbname, "basalt_es_%d_%d", (int)getpid(), ++counter);
    char sql[128], url[640];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", f->dbname);
    if (es_pg_admin(f, sql) < 0 || es_pg_url(f, url, sizeof url) < 0) return -1;
    return es_open(f, url);
}

static inline int es_remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline int es_teardown(void **state)
{
    es_fixture *f = *state;
    if (!f) return 0;
    store_docs_free(f->docs);
    if (f->engine == ES_SQLITE && f->dir[0]) nftw(f->dir, es_remove_one, 16, FTW_DEPTH | FTW_PHYS);
    if (f->engine == ES_POSTGRES && f->dbname[0]) {
        char sql[160];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", f->dbname);
        es_pg_admin(f, sql);
    }
    free(f);
    return 0;
}

#endif
