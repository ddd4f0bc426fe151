/* static: serves files below one directory (the web console). The route must end in "*path"; the
 * captured path is checked (no "..", no hidden files, no NUL, no symlinks out) before any file is
 * opened. An empty path or a directory serves its index.html. Answers carry X-Content-Type-Options:
 * nosniff and Cache-Control: no-store for HTML (the pages), no-cache for the rest.
 * Ownership: http_static_new copies the root; the caller frees the value with http_static_free and
 * passes it as the route data of http_static_handler. */
#ifndef BASALT_HTTP_STATIC_H
#define BASALT_HTTP_STATIC_H

#include "http/request.h"

typedef struct http_static http_static;

http_static *http_static_new(const char *root);
void http_static_free(http_static *st);
void http_static_handler(http_req *req, http_res *res, void *data);
/* Content type for a file name by its extension. */
const char *http_static_content_type(const char *name);

#endif
