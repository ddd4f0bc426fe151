/* records: the data surface's record reads, shared with the management API (api/admin/env/reads.c). */
#ifndef BASALT_API_V1_DATA_RECORDS_H
#define BASALT_API_V1_DATA_RECORDS_H

#include "api/route.h"

/* What a management read of a table answers. */
typedef enum api_records_read { API_RECORDS_LIST, API_RECORDS_GET, API_RECORDS_OPENAPI } api_records_read;

/* Answers the list of table (the /v1 list's query parameters and {items, pagination} shape), one record
 * (the path's :id) or the table's generated OpenAPI document, in environment env_id, read as the table's
 * admin: no row filters or column rules apply (an environment's secret key stays bound by its data
 * scopes). The caller checked its right to read the environment. */
void api_records_admin_read(api_ctx *ctx, const char *env_id, const char *table, api_records_read what, http_req *req,
                            http_res *res);

#endif
