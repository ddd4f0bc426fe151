/* files_read: the file list and single-file reads and changes shared with the management API (api/admin/env/reads.c). */
#ifndef BASALT_API_V1_FILES_FILES_READ_H
#define BASALT_API_V1_FILES_FILES_READ_H

#include "api/route.h"

/* Answers a page of env_id's files with GET /v1/files' query parameters and {items, pagination} shape,
 * read as an operator: every file with every field. The caller checked its right to read the environment. */
void api_files_admin_list(api_ctx *ctx, const char *env_id, http_req *req, http_res *res);

typedef enum { API_FILES_GET, API_FILES_PATCH, API_FILES_DELETE, API_FILES_DOWNLOAD_URL, API_FILES_PRESIGN, API_FILES_REGISTER } api_files_op;

/* GET, PATCH (PATCH /v1/files/:fileId's body), DELETE, GET .../download-url, POST .../presigned-url or POST (register an upload, /v1's body) of env_id's file :fileId as an operator, answering as
 * /v1 does. The caller checked its right to read (GET) or change the environment. */
void api_files_admin_file(api_ctx *ctx, const char *env_id, api_files_op op, http_req *req, http_res *res);

#endif
