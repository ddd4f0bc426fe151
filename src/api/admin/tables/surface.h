/* The management API of an environment's tables: tables, permissions, schemas and indexes with their
 * versions, query analysis. Registered by api/register.c. */
#ifndef BASALT_API_ADMIN_TABLES_SURFACE_H
#define BASALT_API_ADMIN_TABLES_SURFACE_H

#include "api/route.h"

int api_admin_tables_register(http_router *router, api_app *app);   /* tables.c, with permissions */
int api_admin_indexes_register(http_router *router, api_app *app);  /* indexes.c */
int api_admin_schema_register(http_router *router, api_app *app);   /* versions.c: schema versions, rollback */
int api_admin_query_register(http_router *router, api_app *app);    /* query_analysis.c */

#endif
