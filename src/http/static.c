#include "http/static.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

struct http_static {
    char *root;
};

http_static *http_static_new(const char *root)
{
    http_static *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->root = strdup(root);
    if (!st->root) { free(st); return NULL; }
    return st;
}

void http_static_free(http_static *st)
{
    if (!st) return;
    free(st->root);
    free(st);
}

const char *http_static_content_type(const char *name)
{
    static const struct { const char *ext; const char *type; } types[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".json", "application/json; charset=utf-8"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
        {".ico", "image/x-icon"}, {".txt", "text/plain; charset=utf-8"}, {".woff2", "font/woff2"}};
    const char *dot = strrchr(name, '.');
    if (dot)
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot, types[i].ext) == 0) return types[i].type;
    return "application/octet-stream";
}

/* Every segment must be a plain name: no empty, ".", "..", leading dot, backslash or control byte. */
static int path_is_safe(const char *rel)
{
    if (strlen(rel) > 512) return 0;
    const char *p = rel;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || p[0] == '.') return 0;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)p[i] < 0x20 || p[i] == '\\' || p[i] == 0x7f) return 0;
        p += n + (slash ? 1 : 0);
    }
    return 1;
}

static int open_regular(const char *path, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -1;
    if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return -1;
    }
    return fd;
}

void http_static_handler(http_req *req, http_res *res, void *data)
{
    const http_static *st = data;
    const char *rel = http_req_param(req, "path");
    if (!rel) rel = "";
    http_res_header(res, "X-Content-Type-Options", "nosniff"); /* on its 404s too */
    if (*rel && !path_is_safe(rel)) {
        http_res_error(res, 404, "common/not-found", "No such file");
        return;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", st->root, *rel ? rel : "index.html");
    struct stat sb;
    int fd = open_regular(path, &sb);
    if (fd < 0 && *rel) {
        snprintf(path, sizeof path, "%s/%s/index.html", st->root, rel);
        fd = open_regular(path, &sb);
    }
    if (fd < 0) {
        http_res_error(res, 404, "common/not-found", "No such file");
        return;
    }
    size_t n = strlen(path); /* HTML pages are never kept: a new version takes effect at the next load */
    int html = n >= 5 && strcasecmp(path + n - 5, ".html") == 0;
    http_res_header(res, "Cache-Control", html ? "no-store" : "no-cache");
    http_res_file(res, 200, http_static_content_type(path), fd, (uint64_t)sb.st_size);
}
