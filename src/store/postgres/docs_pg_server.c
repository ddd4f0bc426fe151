/* docs_pg_server: checks a database server before it is registered as a cluster (docs_pg.h). */
#include "store/postgres/docs_pg.h"

#include <libpq-fe.h>
#include <string.h>

#include "util/url_mask.h"

/* 1 when the connected role may create databases (CREATEDB or superuser), 0 when not, -1 on error. */
static int may_create_databases(PGconn *c)
{
    PGresult *r = PQexec(c, "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user");
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    int may = ok ? !strcmp(PQgetvalue(r, 0, 0), "t") : -1;
    PQclear(r);
    return may;
}

int docs_pg_server_check(const char *url, int dedicated, bs_err *err)
{
    char shown[STORE_ENV_URL_MAX];
    url_mask(url, shown, sizeof shown);
    PGconn *c = PQconnectdb(url);
    int rc = 0;
    if (!c || PQstatus(c) != CONNECTION_OK) {
        const char *why = c ? PQerrorMessage(c) : "out of memory";
        size_t n = strcspn(why, "\n");
        rc = bs_err_set(err, 503, "common/unavailable", "%s does not answer: %.*s", shown, (int)(n > 200 ? 200 : n), why);
    } else if (dedicated && may_create_databases(c) != 1) {
        rc = bs_err_set(err, 400, "common/invalid-parameters",
                        "%s: the role cannot create databases (a dedicated cluster needs CREATEDB)", shown);
    }
    PQfinish(c);
    return rc;
}
