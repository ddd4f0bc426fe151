/* cookie: reading one cookie of a request's Cookie header (RFC 6265 §5.4: "name=value" pairs separated
 * by "; ") and writing a Set-Cookie value. No business logic: which cookie, and its attributes, are the
 * caller's. Every buffer is the caller's, with its capacity. */
#ifndef BASALT_HTTP_COOKIE_H
#define BASALT_HTTP_COOKIE_H

#include <stddef.h>

#include "http/request.h"

#define HTTP_COOKIE_HEADER_MAX 8192 /* a longer Cookie header is not read */

/* The value of cookie name in a Cookie header's text into out (cap bytes): 1 when present and it fits, 0
 * when absent (or too long: out is then ""). The first pair of that name wins. */
int http_cookie_find(const char *header, const char *name, char *out, size_t cap);
/* http_cookie_find on the request's Cookie header (none, or one over HTTP_COOKIE_HEADER_MAX: 0). */
int http_req_cookie(const http_req *req, const char *name, char *out, size_t cap);
/* A Set-Cookie value: "name=value; Path=path; HttpOnly; SameSite=Strict; Max-Age=max_age" plus
 * "; Secure" when secure. -1 when it does not fit cap. */
int http_cookie_format(char *out, size_t cap, const char *name, const char *value, const char *path, long max_age, int secure);

#endif
