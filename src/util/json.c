/* json: see json.h. Parsing is two passes over the text:
 *   1. json_validate (below): a strict RFC 8259 recognizer that json-c's own "strict" mode is not (it
 *      lets NaN, single quotes, "1.", raw control bytes and some invalid UTF-8 through). It enforces the
 *      limits, refuses what would not round-trip (integers outside 64 bits, numbers beyond the double
 *      range, "\u0000", lone surrogates), and records, for every object in document order, its member
 *      count and where it starts.
 *   2. json-c builds the tree from the validated text; the tree's object sizes are compared with the
 *      recorded member counts: json-c keeps one member per key, so a smaller object had a duplicate. */
#include "util/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

typedef struct scan {
    const char *p;
    size_t len, pos;
    int depth, max_depth;
    size_t max_string;
    /* per object, in order of its opening brace */
    uint32_t *members;
    size_t *starts;
    size_t nobjects, cap;
    bs_err *err;
} scan;

static int scan_fail(scan *s, const char *what)
{
    return bs_err_set(s->err, 400, "common/invalid-parameters", "Malformed JSON at byte %zu: %s", s->pos, what);
}

static void skip_ws(scan *s)
{
    while (s->pos < s->len) {
        char c = s->p[s->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        s->pos++;
    }
}

static int hex4(scan *s, unsigned *out)
{
    if (s->len - s->pos < 4) return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s->p[s->pos + (size_t)i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    s->pos += 4;
    *out = v;
    return 0;
}

/* After a backslash: checks the escape and adds the bytes it decodes to into *decoded. */
static int scan_escape(scan *s, size_t *decoded)
{
    char c = s->pos < s->len ? s->p[s->pos++] : '\0';
    *decoded += 1;
    if (strchr("\"\\/bfnrt", c) && c) return 0;
    if (c != 'u') return scan_fail(s, "bad escape in a string");
    unsigned u;
    if (hex4(s, &u) < 0) return scan_fail(s, "bad \\u escape");
    if (u == 0) return scan_fail(s, "\\u0000 is not accepted in strings");
    if (u >= 0xDC00 && u <= 0xDFFF) return scan_fail(s, "unpaired surrogate escape");
    *decoded += u < 0x80 ? 0 : u < 0x800 ? 1 : 2;
    if (u >= 0xD800 && u <= 0xDBFF) {
        unsigned lo;
        if (s->len - s->pos < 2 || s->p[s->pos] != '\\' || s->p[s->pos + 1] != 'u') return scan_fail(s, "unpaired surrogate escape");
        s->pos += 2;
        if (hex4(s, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF) return scan_fail(s, "unpaired surrogate escape");
        *decoded += 1; /* a pair is 4 bytes in UTF-8: 3 counted above */
    }
    return 0;
}

/* One UTF-8 sequence starting with byte c (>= 0x80) at s->pos - 1: well-formed, shortest, <= U+10FFFF,
 * not a surrogate (RFC 3629). */
static int scan_utf8(scan *s, unsigned char c)
{
    int n;
    unsigned lo = 0x80, hi = 0xBF;
    size_t lead = s->pos - 1;
    if (c >= 0xC2 && c <= 0xDF) n = 1;
    else if (c >= 0xE0 && c <= 0xEF) { n = 2; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 3; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
    else n = 0;
    for (int i = 0; i < n; i++) {
        unsigned char b = s->pos < s->len ? (unsigned char)s->p[s->pos] : 0;
        if (b < (i == 0 ? lo : 0x80) || b > (i == 0 ? hi : 0xBF)) { n = 0; break; }
        s->pos++;
    }
    if (n == 0) {
        s->pos = lead;
        return scan_fail(s, "invalid UTF-8");
    }
    return 0;
}

static int scan_string(scan *s)
{
    size_t start = ++s->pos; /* past the quote */
    size_t decoded = 0;      /* bytes of the string once unescaped */
    for (;;) {
        if (s->pos >= s->len) return scan_fail(s, "unterminated string");
        size_t at = s->pos;
        unsigned char c = (unsigned char)s->p[s->pos++];
        if (c == '"') break;
        if (c < 0x20) return scan_fail(s, "control character in a string");
        if (c == '\\') {
            if (scan_escape(s, &decoded) < 0) return -1;
            continue;
        }
        if (c >= 0x80 && scan_utf8(s, c) < 0) return -1;
        decoded += s->pos - at;
    }
    if (decoded > s->max_string)
        return bs_err_set(s->err, 400, "common/invalid-parameters",
                          "Malformed JSON at byte %zu: a string is longer than %zu bytes", start - 1, s->max_string);
    return 0;
}

static size_t digits(scan *s)
{
    size_t n = 0;
    while (s->pos < s->len && s->p[s->pos] >= '0' && s->p[s->pos] <= '9') { s->pos++; n++; }
    return n;
}

/* Integers must fit json-c's 64 bits: -2^63 .. 2^64-1. */
static int integer_fits(const char *p, size_t n, int negative)
{
    const char *max = negative ? "9223372036854775808" : "18446744073709551615";
    size_t mlen = strlen(max);
    if (n != mlen) return n < mlen;
    return memcmp(p, max, n) <= 0;
}

/* The value of an exponent's digits, saturated (only its order of magnitude matters). */
static long exponent_value(const char *p, size_t n)
{
    long v = 0;
    for (size_t i = 0; i < n && v < 1000000; i++) v = v * 10 + (p[i] - '0');
    return v;
}

/* 1 when the number text p[0..n) reads as a finite double the way json-c reads it (strtod), 0 when it
 * overflows to infinity, -1 when out of memory. */
static int finite_double(const char *p, size_t n)
{
    char *copy = malloc(n + 1);
    if (!copy) return -1;
    memcpy(copy, p, n);
    copy[n] = '\0';
    int finite = isfinite(strtod(copy, NULL));
    free(copy);
    return finite;
}

/* A number with a fraction or exponent must be a finite double: json-c would read 1e309 as infinity,
 * which is stored and answered as the client's text but compares and sorts as no number does. Below
 * 10^308 (integer digits + exponent <= 308) it is below DBL_MAX; the rare others are read to decide. */
static int check_double_range(scan *s, size_t start, size_t int_digits, long exp10)
{
    if ((long)int_digits + exp10 <= 308) return 0;
    int finite = finite_double(s->p + start, s->pos - start);
    if (finite < 0) return bs_err_internal(s->err);
    if (finite) return 0;
    s->pos = start;
    return scan_fail(s, "number outside the double range (about ±1.8e308)");
}

static int scan_number(scan *s)
{
    size_t start = s->pos;
    int negative = s->p[s->pos] == '-';
    if (negative) s->pos++;
    size_t int_start = s->pos;
    size_t n = digits(s);
    if (n == 0) return scan_fail(s, "bad number");
    if (n > 1 && s->p[int_start] == '0') return scan_fail(s, "leading zero in a number");
    int integral = 1;
    if (s->pos < s->len && s->p[s->pos] == '.') {
        s->pos++;
        integral = 0;
        if (digits(s) == 0) return scan_fail(s, "bad number: digits must follow the point");
    }
    long exp10 = 0;
    if (s->pos < s->len && (s->p[s->pos] == 'e' || s->p[s->pos] == 'E')) {
        s->pos++;
        integral = 0;
        int exp_negative = s->pos < s->len && s->p[s->pos] == '-';
        if (s->pos < s->len && (s->p[s->pos] == '+' || s->p[s->pos] == '-')) s->pos++;
        size_t exp_start = s->pos, exp_digits = digits(s);
        if (exp_digits == 0) return scan_fail(s, "bad number exponent");
        exp10 = exponent_value(s->p + exp_start, exp_digits) * (exp_negative ? -1 : 1);
    }
    if (integral && !integer_fits(s->p + int_start, n, negative)) {
        s->pos = start;
        return scan_fail(s, "integer outside the 64-bit range (send it as a string)");
    }
    return integral ? 0 : check_double_range(s, start, n, exp10);
}

static int scan_literal(scan *s, const char *word)
{
    size_t n = strlen(word);
    if (s->len - s->pos < n || memcmp(s->p + s->pos, word, n) != 0) return scan_fail(s, "unexpected character");
    s->pos += n;
    return 0;
}

static int scan_value(scan *s);

static int scan_enter(scan *s)
{
    if (++s->depth > s->max_depth) {
        return bs_err_set(s->err, 400, "common/invalid-parameters",
                          "Malformed JSON at byte %zu: nested deeper than %d", s->pos, s->max_depth);
    }
    return 0;
}

static size_t record_object(scan *s)
{
    if (s->nobjects == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        uint32_t *m = realloc(s->members, cap * sizeof *m);
        if (m) s->members = m;
        size_t *st = realloc(s->starts, cap * sizeof *st);
        if (st) s->starts = st;
        if (!m || !st) return SIZE_MAX;
        s->cap = cap;
    }
    s->members[s->nobjects] = 0;
    s->starts[s->nobjects] = s->pos;
    return s->nobjects++;
}

static int scan_object(scan *s)
{
    if (scan_enter(s) < 0) return -1;
    size_t idx = record_object(s);
    if (idx == SIZE_MAX) return bs_err_internal(s->err);
    s->pos++;
    skip_ws(s);
    if (s->pos < s->len && s->p[s->pos] == '}') { s->pos++; s->depth--; return 0; }
    for (;;) {
        skip_ws(s);
        if (s->pos >= s->len || s->p[s->pos] != '"') return scan_fail(s, "expected a string key");
        if (scan_string(s) < 0) return -1;
        skip_ws(s);
        if (s->pos >= s->len || s->p[s->pos] != ':') return scan_fail(s, "expected ':'");
        s->pos++;
        if (scan_value(s) < 0) return -1;
        s->members[idx]++;
        skip_ws(s);
        if (s->pos < s->len && s->p[s->pos] == ',') { s->pos++; continue; }
        if (s->pos < s->len && s->p[s->pos] == '}') { s->pos++; s->depth--; return 0; }
        return scan_fail(s, "expected ',' or '}'");
    }
}

static int scan_array(scan *s)
{
    if (scan_enter(s) < 0) return -1;
    s->pos++;
    skip_ws(s);
    if (s->pos < s->len && s->p[s->pos] == ']') { s->pos++; s->depth--; return 0; }
    for (;;) {
        if (scan_value(s) < 0) return -1;
        skip_ws(s);
        if (s->pos < s->len && s->p[s->pos] == ',') { s->pos++; continue; }
        if (s->pos < s->len && s->p[s->pos] == ']') { s->pos++; s->depth--; return 0; }
        return scan_fail(s, "expected ',' or ']'");
    }
}

static int scan_value(scan *s)
{
    skip_ws(s);
    if (s->pos >= s->len) return scan_fail(s, "unexpected end of input");
    char c = s->p[s->pos];
    switch (c) {
    case '{': return scan_object(s);
    case '[': return scan_array(s);
    case '"': return scan_string(s);
    case 't': return scan_literal(s, "true");
    case 'f': return scan_literal(s, "false");
    case 'n': return scan_literal(s, "null");
    default:
        if (c == '-' || (c >= '0' && c <= '9')) return scan_number(s);
        return scan_fail(s, "unexpected character");
    }
}

/* Compares json-c's object sizes, in the same pre-order, with the counted members. */
static int check_members(struct json_object *obj, const scan *s, size_t *next, bs_err *err)
{
    enum json_type t = json_object_get_type(obj);
    if (t == json_type_object) {
        size_t idx = (*next)++;
        if (idx >= s->nobjects || (size_t)json_object_object_length(obj) != s->members[idx])
            return bs_err_set(err, 400, "common/invalid-parameters", "Malformed JSON at byte %zu: duplicate key in this object",
                              idx < s->nobjects ? s->starts[idx] : 0);
        json_object_object_foreach(obj, key, val) {
            (void)key;
            if (val && check_members(val, s, next, err) < 0) return -1;
        }
    } else if (t == json_type_array) {
        size_t n = json_object_array_length(obj);
        for (size_t i = 0; i < n; i++) {
            struct json_object *v = json_object_array_get_idx(obj, i);
            if (v && check_members(v, s, next, err) < 0) return -1;
        }
    }
    return 0;
}

static struct json_object *build_tree(const char *text, size_t len, int depth, bs_err *err)
{
    struct json_tokener *tok = json_tokener_new_ex(depth + 1); /* json-c counts the innermost scalar too */
    if (!tok) { bs_err_internal(err); return NULL; }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    struct json_object *obj = json_tokener_parse_ex(tok, text, (int)len);
    if (json_tokener_get_error(tok) == json_tokener_continue) obj = json_tokener_parse_ex(tok, "", 1); /* end of input */
    if (json_tokener_get_error(tok) != json_tokener_success) {
        json_object_put(obj);
        obj = NULL;
        bs_err_internal(err); /* validated text that json-c refuses: a bug of ours, not the client's */
    }
    json_tokener_free(tok);
    return obj;
}

struct json_object *json_parse_strict(const char *text, size_t len, const json_limits *limits, int *is_null,
                                      bs_err *err)
{
    bs_err local;
    bs_err_clear(&local);
    if (!err) err = &local;
    if (is_null) *is_null = 0;
    scan s = {.p = text, .len = len, .err = err};
    s.max_depth = limits && limits->max_depth > 0 ? limits->max_depth : JSON_DEFAULT_MAX_DEPTH;
    s.max_string = limits && limits->max_string ? limits->max_string : JSON_DEFAULT_MAX_STRING;
    struct json_object *obj = NULL;
    if (len > (size_t)INT32_MAX) {
        bs_err_set(err, 400, "common/invalid-parameters", "Malformed JSON: document too large");
    } else if (scan_value(&s) == 0) {
        skip_ws(&s);
        if (s.pos != len) {
            scan_fail(&s, "trailing characters");
        } else {
            obj = build_tree(text, len, s.max_depth, err);
            size_t next = 0;
            if (obj && check_members(obj, &s, &next, err) < 0) {
                json_object_put(obj);
                obj = NULL;
            } else if (!obj && !err->status && is_null) {
                *is_null = 1; /* the document was the literal null */
            }
        }
    }
    free(s.members);
    free(s.starts);
    return obj;
}

int json_append(strbuf *sb, struct json_object *obj)
{
    size_t n = 0;
    const char *s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    if (!s) return -1;
    return strbuf_append(sb, s, n);
}

const char *json_get_string(struct json_object *obj, const char *key)
{
    struct json_object *v;
    if (!obj || !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

struct json_object *json_new_double_text(double d, const char *text)
{
    struct json_object *probe = json_parse_strict(text, strlen(text), NULL, NULL, NULL);
    int keep = json_object_is_type(probe, json_type_double) && json_object_get_double(probe) == d;
    json_object_put(probe);
    if (keep) return json_object_new_double_s(d, text);
    char shortest[32];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(shortest, sizeof shortest, "%.*g", digits, d);
        if (strtod(shortest, NULL) == d) break;
    }
    return json_object_new_double_s(d, shortest);
}

size_t json_utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* The integer an integral double stands for, when it fits int64 exactly. */
static int integral_double(struct json_object *v, int64_t *out)
{
    double d = json_object_get_double(v);
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != (double)(int64_t)d) return 0;
    *out = (int64_t)d;
    return 1;
}

void json_normalize_integers(struct json_object *v)
{
    int64_t n;
    if (json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            struct json_object *el = json_object_array_get_idx(v, i);
            if (json_object_is_type(el, json_type_double) && integral_double(el, &n))
                json_object_array_put_idx(v, i, json_object_new_int64(n));
            else
                json_normalize_integers(el);
        }
        return;
    }
    if (!json_object_is_type(v, json_type_object)) return;
    struct lh_entry *e;
    for (e = json_object_get_object(v)->head; e; e = e->next) {
        struct json_object *val = (struct json_object *)lh_entry_v(e);
        if (json_object_is_type(val, json_type_double) && integral_double(val, &n)) {
            json_object_put(val); /* the entry is replaced in place: iteration stays valid */
            lh_entry_set_val(e, json_object_new_int64(n));
        } else {
            json_normalize_integers(val);
        }
    }
}

void json_add_time(struct json_object *obj, const char *name, int64_t ms)
{
    char iso[CLOCK_ISO_LEN];
    if (!ms) {
        json_object_object_add(obj, name, NULL);
        return;
    }
    clock_iso8601(ms, iso);
    json_object_object_add(obj, name, json_object_new_string(iso));
}
