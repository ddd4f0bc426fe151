/* docs_pg_server: checks a database server before it is registered as a cluster (docs_pg.h). */
#include "store/postgres/docs_pg.h"

#include <libpq-fe.h>
#include <string.h>

#include "util/url_mask.h"

int docs_pg_server_check(const char *url, bs_err *err)
{
    char shown[STORE_ENV_URL_MAX];
    url_mask(url, shown, sizeof shown);
    PGconn *c = PQconnectdb(url);
    int ok = c && PQstatus(c) == CONNECTION_OK;
    if (!ok) {
        const char *why = c ? PQerrorMessage(c) : "out of memory";
        size_t n = strcspn(why, "\n");
        bs_err_set(err, 503, "common/unavailable", "%s does not answer: %.*s", shown, (int)(n > 200 ? 200 : n), why);
    }
    PQfinish(c);
    return ok ? 0 : -1;
}
