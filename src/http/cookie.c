#include "http/cookie.h"

#include <stdio.h>
#include <string.h>

/* The value of name in one Cookie header text, or NULL; *len its length. */
static const char *find_cookie(const char *header, const char *name, size_t *len)
{
    size_t n = strlen(name);
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == ';') p++;
        const char *end = strchr(p, ';');
        size_t pair = end ? (size_t)(end - p) : strlen(p);
        if (pair > n && strncmp(p, name, n) == 0 && p[n] == '=') {
            *len = pair - n - 1;
            while (*len && p[n + *len] == ' ') (*len)--; /* trailing spaces before ';' */
            return p + n + 1;
        }
        p += pair;
    }
    return NULL;
}

int http_cookie_find(const char *header, const char *name, char *out, size_t cap)
{
    if (cap) out[0] = '\0';
    size_t len = 0;
    const char *value = header && cap ? find_cookie(header, name, &len) : NULL;
    if (!value || len >= cap) return 0;
    memcpy(out, value, len);
    out[len] = '\0';
    return 1;
}

int http_req_cookie(const http_req *req, const char *name, char *out, size_t cap)
{
    const char *header = http_req_header(req, "Cookie");
    if (header && strlen(header) > HTTP_COOKIE_HEADER_MAX) header = NULL;
    return http_cookie_find(header, name, out, cap);
}

int http_cookie_format(char *out, size_t cap, const char *name, const char *value, const char *path, long max_age, int secure)
{
    int n = snprintf(out, cap, "%s=%s; Path=%s; HttpOnly; SameSite=Strict; Max-Age=%ld%s", name, value, path, max_age,
                     secure ? "; Secure" : "");
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}
