/* pg_fixture.h: a fresh PostgreSQL schema per test for the PostgreSQL driver tests. The server comes from
 * tests/pg/with-pg.sh (BASALT_TEST_PG_URL); without it the tests are skipped (scripts/test.sh always runs
 * them under with-pg.sh). pg_fixture_url creates schema basalt_t_<pid>_<n> and writes a URL whose
 * connections use it (search_path), so every test starts from an empty database of its own. */
#ifndef BASALT_TESTS_PG_FIXTURE_H
#define BASALT_TESTS_PG_FIXTURE_H

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 1 with out filled, 0 when no server is configured (skip), -1 when the schema cannot be made. */
static inline int pg_fixture_url(char *out, size_t cap)
{
    static int counter;
    const char *base = getenv("BASALT_TEST_PG_URL");
    if (!base || !*base) return 0;
    char schema[64], sql[128];
    snprintf(schema, sizeof schema, "basalt_t_%d_%d", (int)getpid(), ++counter);
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", schema);
    PGconn *c = PQconnectdb(base);
    PGresult *r = c && PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
    int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    PQfinish(c);
    if (!ok) return -1;
    snprintf(out, cap, "%s%soptions=-csearch_path%%3D%s", base, strchr(base, '?') ? "&" : "?", schema);
    return 1;
}

/* Runs sql (no parameters) on url; 0 when it succeeded. For tests that set up rows another part writes. */
static inline int pg_fixture_exec(const char *url, const char *sql)
{
    PGconn *c = PQconnectdb(url);
    PGresult *r = c && PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
    int ok = r && (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
    PQclear(r);
    PQfinish(c);
    return ok ? 0 : -1;
}

#endif
