#include "util/url_mask.h"

#include <string.h>

#include "util/strbuf.h"

/* Appends url[from, to) with every "password=" value of the query replaced by "***". */
static void query_mask(strbuf *sb, const char *from, const char *to)
{
    static const char key[] = "password=";
    const size_t klen = sizeof key - 1;
    while (from < to) {
        const char *hit = NULL;
        for (const char *p = from; p + klen <= to && !hit; p++)
            if ((p == from || p[-1] == '?' || p[-1] == '&') && strncmp(p, key, klen) == 0) hit = p;
        if (!hit) break;
        strbuf_append(sb, from, (size_t)(hit - from) + klen);
        strbuf_append_str(sb, "***");
        from = hit + klen;
        while (from < to && *from != '&') from++;
    }
    strbuf_append(sb, from, (size_t)(to - from));
}

void url_mask(const char *url, char *out, size_t cap)
{
    if (!cap) return;
    strbuf sb;
    strbuf_init_stack(&sb, out, cap);
    const char *end = url + strlen(url), *rest = url;
    const char *scheme = strstr(url, "://");
    if (scheme) {
        const char *host = scheme + 3, *slash = host + strcspn(host, "/?#");
        const char *at = NULL;
        for (const char *p = host; p < slash; p++)
            if (*p == '@') at = p; /* the last '@' before the path ends the user part */
        const char *colon = at ? memchr(host, ':', (size_t)(at - host)) : NULL;
        if (colon) {
            strbuf_append(&sb, url, (size_t)(colon + 1 - url));
            strbuf_append_str(&sb, "***");
            rest = at;
        }
    }
    query_mask(&sb, rest, end);
    if (sb.data != out) { /* grown off the stack: copy what fits */
        size_t n = sb.len < cap - 1 ? sb.len : cap - 1;
        memcpy(out, sb.data, n);
        out[n] = '\0';
    }
    strbuf_release(&sb);
}
