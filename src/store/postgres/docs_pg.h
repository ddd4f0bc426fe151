/* docs_pg: the PostgreSQL driver of the environment data stores (store/docs.h, users.h, files.h), opened by
 * store/docs.c on a "postgres://" or "postgresql://" location (the whole URL: the main database, where the
 * shared clusters' slot schemas live; dedicated environments get a database of their own on the same
 * server). Where each environment lives: store/postgres/docs_pg_env.h. */
#ifndef BASALT_STORE_POSTGRES_DOCS_PG_H
#define BASALT_STORE_POSTGRES_DOCS_PG_H

#include "store/docs_driver.h"

extern const store_docs_ops store_pg_docs_ops;

/* Connects once to url (a PostgreSQL URL) and closes: 0, or -1 with 503 common/unavailable (the message
 * shows the URL with its password masked), or 400 when dedicated and the role cannot create databases. */
int docs_pg_server_check(const char *url, int dedicated, bs_err *err);

#endif
