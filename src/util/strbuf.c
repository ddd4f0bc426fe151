#include "util/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strbuf_init(strbuf *sb, size_t max)
{
    memset(sb, 0, sizeof *sb);
    sb->max = max;
}

void strbuf_init_stack(strbuf *sb, char *mem, size_t size)
{
    memset(sb, 0, sizeof *sb);
    sb->data = mem;
    sb->cap = size;
    sb->on_stack = 1;
    if (size) mem[0] = '\0';
}

void strbuf_release(strbuf *sb)
{
    if (!sb->on_stack) free(sb->data);
    sb->data = NULL;
    sb->len = sb->cap = 0;
    sb->on_stack = 0;
}

void strbuf_reset(strbuf *sb)
{
    sb->len = 0;
    sb->overflow = 0;
    if (sb->data) sb->data[0] = '\0';
}

char *strbuf_steal(strbuf *sb, size_t *len)
{
    char *out;
    if (sb->on_stack || !sb->data) {
        out = malloc(sb->len + 1);
        if (!out) return NULL;
        if (sb->len) memcpy(out, sb->data, sb->len);
        out[sb->len] = '\0';
    } else {
        out = sb->data;
    }
    if (len) *len = sb->len;
    sb->data = NULL;
    sb->len = sb->cap = 0;
    sb->on_stack = 0;
    return out;
}

int strbuf_reserve(strbuf *sb, size_t extra)
{
    if (sb->len + extra + 1 <= sb->cap) return 0;
    size_t need = sb->len + extra + 1;
    if (sb->max && need > sb->max + 1) {
        sb->overflow = 1;
        return -1;
    }
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < need) cap *= 2;
    if (sb->max && cap > sb->max + 1) cap = sb->max + 1;
    char *mem;
    if (sb->on_stack) {
        mem = malloc(cap);
        if (mem && sb->len) memcpy(mem, sb->data, sb->len); /* bounded: len < old cap < cap */
    } else {
        mem = realloc(sb->data, cap);
    }
    if (!mem) {
        sb->overflow = 1;
        return -1;
    }
    sb->data = mem;
    sb->cap = cap;
    sb->on_stack = 0;
    return 0;
}

int strbuf_append(strbuf *sb, const char *data, size_t len)
{
    if (strbuf_reserve(sb, len) < 0) return -1;
    if (len) memcpy(sb->data + sb->len, data, len);
    sb->len += len;
    sb->data[sb->len] = '\0';
    return 0;
}

int strbuf_append_str(strbuf *sb, const char *s)
{
    return strbuf_append(sb, s, strlen(s));
}

int strbuf_append_char(strbuf *sb, char c)
{
    return strbuf_append(sb, &c, 1);
}

int strbuf_appendf(strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return -1;
    if ((size_t)n < sizeof small) return strbuf_append(sb, small, (size_t)n);
    if (strbuf_reserve(sb, (size_t)n) < 0) return -1;
    va_start(ap, fmt);
    vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
    return 0;
}

/* Length of the well-formed UTF-8 sequence at s[0..n) (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF), 0 when it is not one. s[0] >= 0x80. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t len;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
    else return 0;
    if (n < len || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return len;
}

int strbuf_utf8_valid(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] < 0x80) continue;
        size_t n = utf8_seq_len((const unsigned char *)s + i, len - i);
        if (!n) return 0;
        i += n - 1;
    }
    return 1;
}

int strbuf_append_json_string(strbuf *sb, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (strbuf_reserve(sb, len + 2) < 0) return -1;
    strbuf_append_char(sb, '"');
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t n = utf8_seq_len((const unsigned char *)s + i, len - i);
            if (n) { i += n - 1; continue; }
        } else if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
        if (strbuf_append(sb, s + start, i - start) < 0) return -1;
        char esc[7] = {'\\', 0};
        size_t n = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default: /* a control character, or a byte that starts no valid UTF-8 sequence: U+FFFD */
            esc[1] = 'u';
            if (c >= 0x80) memcpy(esc + 2, "fffd", 4);
            else { esc[2] = '0'; esc[3] = '0'; esc[4] = hex[c >> 4]; esc[5] = hex[c & 15]; }
            n = 6;
        }
        if (strbuf_append(sb, esc, n) < 0) return -1;
        start = i + 1;
    }
    if (strbuf_append(sb, s + start, len - start) < 0) return -1;
    return strbuf_append_char(sb, '"');
}

int strbuf_append_percent(strbuf *sb, const char *s, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = 0;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && rc == 0; p++) {
        unsigned char c = *p;
        int keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                   c == '_' || c == '~' || (keep_slash && c == '/');
        char enc[3] = {'%', hex[c >> 4], hex[c & 15]};
        rc = keep ? strbuf_append_char(sb, (char)c) : strbuf_append(sb, enc, 3);
    }
    return rc;
}
