/* strbuf: a growable byte buffer, always NUL-terminated, for building responses and log lines.
 * Ownership: a strbuf owns its heap memory; strbuf_release frees it (a buffer started on caller stack
 * memory with strbuf_init_stack moves to the heap only when it outgrows it). strbuf_steal hands the heap
 * memory to the caller, who frees it with free(). Growth past `max` (0 = no cap) fails the append and
 * sets `overflow`, so a bounded buffer never grows without limit. */
#ifndef BASALT_UTIL_STRBUF_H
#define BASALT_UTIL_STRBUF_H

#include <stddef.h>

typedef struct strbuf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;     /* 0 = unbounded */
    int on_stack;   /* data points at caller-owned memory */
    int overflow;   /* an append was refused (cap reached or out of memory) */
} strbuf;

void strbuf_init(strbuf *sb, size_t max);
void strbuf_init_stack(strbuf *sb, char *mem, size_t size);
void strbuf_release(strbuf *sb);
/* Returns the heap copy of the contents (NUL-terminated) and leaves sb empty; NULL on failure. */
char *strbuf_steal(strbuf *sb, size_t *len);
void strbuf_reset(strbuf *sb);

int strbuf_reserve(strbuf *sb, size_t extra);
int strbuf_append(strbuf *sb, const char *data, size_t len);
int strbuf_append_str(strbuf *sb, const char *s);
int strbuf_append_char(strbuf *sb, char c);
int strbuf_appendf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal (quotes included), escaping per RFC 8259. The result is always
 * valid UTF-8: a byte that starts no well-formed sequence (a lone continuation byte, an overlong form, a
 * surrogate, a truncated sequence) is written as \ufffd, so text from a client cannot break an answer. */
int strbuf_append_json_string(strbuf *sb, const char *s, size_t len);
/* 1 when s[0..len) is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
 * U+10FFFF), 0 otherwise. */
int strbuf_utf8_valid(const char *s, size_t len);
/* Appends s (NULL as "") percent-encoded per RFC 3986, the one encoder for URLs and forms in src/: the
 * unreserved characters A-Z a-z 0-9 - . _ ~ (and '/' when keep_slash, for paths) as they are, every
 * other byte as %XX in upper case (as curl_easy_escape and AWS SigV4 want). */
int strbuf_append_percent(strbuf *sb, const char *s, int keep_slash);

#endif
