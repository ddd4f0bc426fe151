#include "store/sqlite/sql_prefix.h"

#include <string.h>

/* The beginnings of the environment databases' object names: user tables "d_<table>" and their indexes
 * "d_<table>__...", the catalog and every system table and index created in docs_sqlite.c (catalog_sql,
 * env_steps). No column of these tables starts with any of them. */
static const char *const env_starts[] = {"d_", "_basalt_", "_auth_", "_objects", "_files", "_uploads", "_upload_parts"};

static unsigned char lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c; }

static int starts_with_nocase(const char *s, size_t len, const char *start)
{
    size_t n = strlen(start);
    if (len < n) return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != (unsigned char)start[i]) return 0;
    return 1;
}

int sql_prefix_is_env_name(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof env_starts / sizeof env_starts[0]; i++)
        if (starts_with_nocase(name, len, env_starts[i])) return 1;
    return 0;
}

static int is_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int ident_start(unsigned char c) { return is_alpha(c) || c == '_' || c >= 0x80; }
static int ident_char(unsigned char c) { return ident_start(c) || is_digit(c) || c == '$'; }

int sql_prefix_valid(const char *prefix)
{
    size_t n = strlen(prefix);
    if (n < 2 || n > 15 || !is_alpha((unsigned char)prefix[0]) || prefix[n - 1] != '_') return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_alpha((unsigned char)prefix[i]) && !is_digit((unsigned char)prefix[i]) && prefix[i] != '_') return 0;
    return !sql_prefix_is_env_name(prefix, n);
}

/* One token of SQL text: an identifier (bare or quoted; name points at its text inside the quotes) or
 * anything else copied as is (literals, comments, parameters, numbers, punctuation, spaces). */
typedef struct sql_tok {
    size_t len;                  /* bytes of the whole token */
    const char *name;            /* NULL: not an identifier */
    size_t name_len;
} sql_tok;

/* The length of a quoted run starting at p (the opening quote), closing quote included when present; a
 * doubled closing quote is part of the text (except for [...]). */
static size_t quoted_len(const char *p, char close, int *closed)
{
    size_t i = 1;
    *closed = 0;
    while (p[i]) {
        if (p[i] != close) { i++; continue; }
        if (close != ']' && p[i + 1] == close) { i += 2; continue; }
        *closed = 1;
        return i + 1;
    }
    return i;
}

static size_t run_len(const char *p, int (*keep)(unsigned char))
{
    size_t i = 0;
    while (p[i] && keep((unsigned char)p[i])) i++;
    return i;
}

static int number_char(unsigned char c) { return ident_char(c) || c == '.'; }

static sql_tok next_token(const char *p)
{
    sql_tok t = {1, NULL, 0};
    unsigned char c = (unsigned char)p[0];
    int closed;
    if (c == '\'') {
        t.len = quoted_len(p, '\'', &closed);
    } else if (c == '-' && p[1] == '-') {
        t.len = strcspn(p, "\n");
    } else if (c == '/' && p[1] == '*') {
        const char *end = strstr(p + 2, "*/");
        t.len = end ? (size_t)(end + 2 - p) : strlen(p);
    } else if (c == '"' || c == '`' || c == '[') {
        t.len = quoted_len(p, c == '[' ? ']' : (char)c, &closed);
        t.name = p + 1;
        t.name_len = t.len - 1 - (closed ? 1 : 0);
    } else if ((c == ':' || c == '@' || c == '$' || c == '?') && ident_char((unsigned char)p[1])) {
        t.len = 1 + run_len(p + 1, ident_char); /* a parameter: its name is no object's */
    } else if (is_digit(c)) {
        t.len = run_len(p, number_char);
    } else if (ident_start(c)) {
        t.len = run_len(p, ident_char);
        t.name = p;
        t.name_len = t.len;
    }
    return t;
}

int sql_prefix_add(strbuf *out, const char *sql, const char *prefix)
{
    for (const char *p = sql; *p;) {
        sql_tok t = next_token(p);
        if (t.name && sql_prefix_is_env_name(t.name, t.name_len)) {
            strbuf_append(out, p, (size_t)(t.name - p)); /* the opening quote, if any */
            strbuf_append_str(out, prefix);
            strbuf_append(out, t.name, t.len - (size_t)(t.name - p));
        } else {
            strbuf_append(out, p, t.len);
        }
        p += t.len;
    }
    return out->overflow ? -1 : 0;
}

int sql_prefix_strip(strbuf *out, const char *text, const char *prefix)
{
    size_t plen = strlen(prefix);
    for (const char *p = text; *p;) {
        sql_tok t = next_token(p);
        if (plen && t.name && t.name_len > plen && strncmp(t.name, prefix, plen) == 0 &&
            sql_prefix_is_env_name(t.name + plen, t.name_len - plen)) {
            strbuf_append(out, p, (size_t)(t.name - p));
            strbuf_append(out, t.name + plen, t.len - (size_t)(t.name - p) - plen);
        } else {
            strbuf_append(out, p, t.len);
        }
        p += t.len;
    }
    return out->overflow ? -1 : 0;
}
