/* Deterministic mutation fuzzing of the parsers, with no external tool: json_parse_strict and the router.
 *
 * JSON: a small corpus of valid documents is mutated (byte flips, inserted structural characters and
 * tokens, deletions, truncations, duplicated slices, splices) and each result is parsed from a heap buffer
 * of exactly its length, so AddressSanitizer sees any read past the end. Each outcome is checked against
 * an independent reference (a strict RFC 8259 / RFC 3629 recognizer written here, which also measures
 * nesting, decoded string lengths and duplicate keys): what json_parse_strict accepts must be valid and
 * within the limits, what it rejects must not be; every accepted document must re-serialize to JSON that
 * parses again to the same serialization; every rejection must carry 400 common/invalid-parameters.
 *
 * Router: random paths (known literals, random bytes, empty segments, up to HTTP_MAX_SEGMENTS) and methods
 * against a route table, checked against a brute-force oracle that implements the documented rule.
 *
 * Violations are counted per kind and the first example of each is printed; the test fails at the end if
 * any was seen. BASALT_FUZZ_SEED and BASALT_FUZZ_ITERS (JSON iterations; the router runs a quarter of it)
 * override the defaults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/router.h"
#include "util/json.h"

#define DEFAULT_SEED 0x5eedba5a17ULL
#define DEFAULT_JSON_ITERS 160000
#define DOC_MAX 2048
#define REF_MAX_DEPTH 200
#define REF_MAX_KEYS 64
#define KEY_MAX 256
#define KEY_UNTRACKED ((size_t)-1)
#define EXAMPLE_MAX 512
#define DETAIL_MAX 320
#define REASON_MAX 64
#define EXAMPLES_PER_KIND 6

/* ---- PRNG (xorshift64*) and knobs ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static size_t rnd_below(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

static uint64_t env_u64(const char *name, uint64_t fallback)
{
    const char *v = getenv(name);
    if (!v || !*v) return fallback;
    return strtoull(v, NULL, 0);
}

/* ---- violation bookkeeping ---- */

typedef enum vkind {
    V_ACCEPTS_INVALID,     /* accepted text the reference says is not JSON */
    V_ACCEPTS_OVER_LIMIT,  /* accepted a duplicate key, or nesting/string beyond the limits */
    V_REJECTS_VALID,       /* rejected valid JSON within the limits and without duplicates */
    V_ROUNDTRIP,           /* an accepted document did not re-serialize to JSON that parses the same */
    V_BAD_ERROR,           /* a rejection without 400 common/invalid-parameters, or a null with an error */
    V_ROUTER,              /* the router disagreed with the oracle */
    V_COUNT
} vkind;

static const char *const vnames[V_COUNT] = {
    "accepts invalid JSON", "accepts duplicate key or over-limit document", "rejects valid JSON",
    "accepted document does not round-trip", "malformed error", "router disagrees with oracle"};

/* Up to EXAMPLES_PER_KIND examples per kind, one per distinct reason. */
typedef struct violations {
    long outcome[3];  /* JSON: accepted, null, rejected; router: matched, 405, no route */
    long count[V_COUNT];
    int nexamples[V_COUNT];
    char reason[V_COUNT][EXAMPLES_PER_KIND][REASON_MAX];
    char example[V_COUNT][EXAMPLES_PER_KIND][EXAMPLE_MAX];
} violations;

static void show_bytes(const char *p, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 8 < cap; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c < 0x7f) out[o++] = (char)c;
        else o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
    }
    out[o] = '\0';
    if (o + 8 >= cap) snprintf(out + cap - 4, 4, "...");
}

/* The part of a parser message after "byte N: ", so that offsets do not make reasons distinct. */
static const char *reason_of(const char *message)
{
    const char *colon = strstr(message, ": ");
    return colon ? colon + 2 : message;
}

static void note(violations *v, vkind kind, const char *reason, const char *doc, size_t len, const char *detail)
{
    v->count[kind]++;
    int n = v->nexamples[kind];
    for (int i = 0; i < n; i++)
        if (strncmp(v->reason[kind][i], reason, REASON_MAX - 1) == 0) return;
    if (n == EXAMPLES_PER_KIND) return;
    char shown[EXAMPLE_MAX];
    show_bytes(doc, len, shown, 150);
    snprintf(v->reason[kind][n], REASON_MAX, "%s", reason);
    snprintf(v->example[kind][n], EXAMPLE_MAX, "[%.150s] %.300s", shown, detail);
    v->nexamples[kind]++;
}

static long report(const violations *v, const char *what, const char *const names[3], long iterations)
{
    long total = 0;
    print_message("%s: %ld iterations (%ld %s, %ld %s, %ld %s)\n", what, iterations, v->outcome[0], names[0],
                  v->outcome[1], names[1], v->outcome[2], names[2]);
    for (int k = 0; k < V_COUNT; k++) {
        if (!v->count[k]) continue;
        total += v->count[k];
        print_message("  %ld x %s, e.g.:\n", v->count[k], vnames[k]);
        for (int i = 0; i < v->nexamples[k]; i++) print_message("    %s\n", v->example[k][i]);
    }
    return total;
}

/* ---- reference recognizer ---- */

typedef struct ref {
    const unsigned char *p, *end;
    int depth, max_depth;  /* nesting of arrays and objects */
    size_t max_string;     /* longest decoded string or key, bytes */
    int duplicate;
    int too_deep;
    const char *why;       /* the innermost reason the text is not JSON */
} ref;

static int ref_fail(ref *r, const char *why)
{
    if (!r->why) r->why = why;
    return 0;
}

static int ref_value(ref *r, int depth);

static void ref_ws(ref *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) r->p++;
}

static int ref_lit(ref *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0) return 0;
    r->p += n;
    return 1;
}

static int is_digit(const ref *r)
{
    return r->p < r->end && *r->p >= '0' && *r->p <= '9';
}

static int ref_digits(ref *r)
{
    if (!is_digit(r)) return 0;
    while (is_digit(r)) r->p++;
    return 1;
}

/* An integer literal must fit json-c's 64 bits: -2^63 .. 2^64-1 (docs/errors.md). Compared as text. */
static int ref_integer_fits(const unsigned char *digits, size_t n, int negative)
{
    const char *max = negative ? "9223372036854775808" : "18446744073709551615";
    size_t mlen = strlen(max);
    return n != mlen ? n < mlen : memcmp(digits, max, n) <= 0;
}

/* A number with a fraction or exponent must read as a finite double (docs/errors.md): strtod decides. */
static int ref_double_finite(const unsigned char *start, const unsigned char *end)
{
    char text[DOC_MAX + 1];
    size_t n = (size_t)(end - start);
    assert_true(n <= DOC_MAX);
    memcpy(text, start, n);
    text[n] = '\0';
    return isfinite(strtod(text, NULL));
}

static int ref_number(ref *r)
{
    const unsigned char *start = r->p;
    int negative = r->p < r->end && *r->p == '-';
    if (negative) r->p++;
    const unsigned char *int_start = (const unsigned char *)r->p;
    if (r->p < r->end && *r->p == '0') r->p++;
    else if (!ref_digits(r)) return ref_fail(r, "bad number");
    size_t int_len = (size_t)((const unsigned char *)r->p - int_start);
    if (!(r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E')) &&
        !ref_integer_fits(int_start, int_len, negative))
        return ref_fail(r, "integer out of range");
    if (r->p < r->end && *r->p == '.') {
        r->p++;
        if (!ref_digits(r)) return ref_fail(r, "bad number");
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-')) r->p++;
        if (!ref_digits(r)) return ref_fail(r, "bad number");
    }
    if (r->p != int_start + int_len && !ref_double_finite(start, r->p))
        return ref_fail(r, "number beyond the double range");
    return 1;
}

/* Length of the strict UTF-8 sequence at p (RFC 3629 table), 0 when invalid. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 2;
    else if (c >= 0xe0 && c <= 0xef) n = 3;
    else if (c >= 0xf0 && c <= 0xf4) n = 4;
    else return 0;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
    if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf) return 0;
    return n;
}

static int hex4(const unsigned char *p, const unsigned char *end, unsigned *out)
{
    if (end - p < 4) return 0;
    *out = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                   : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16u;
        if (d == 16) return 0;
        *out = *out * 16 + d;
    }
    return 1;
}

/* UTF-8 bytes of a code point into out (4 bytes); returns the count. */
static size_t utf8_encode(unsigned cp, unsigned char out[4])
{
    if (cp < 0x80) { out[0] = (unsigned char)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xc0 | cp >> 6);
        out[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xe0 | cp >> 12);
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (unsigned char)(0xf0 | cp >> 18);
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Appends decoded bytes to a key being collected (when key is not NULL); marks it untracked when full. */
static void key_append(unsigned char *key, size_t *klen, const unsigned char *bytes, size_t n)
{
    if (!key || *klen == KEY_UNTRACKED) return;
    if (*klen + n > KEY_MAX) { *klen = KEY_UNTRACKED; return; }
    memcpy(key + *klen, bytes, n);
    *klen += n;
}

/* After a backslash: consumes the escape and adds its decoded bytes to *len and to the key (when
 * collecting one). Lone surrogates and \u0000 are refused (docs/errors.md: they would not round-trip). */
static int ref_escape(ref *r, size_t *len, unsigned char *key, size_t *klen)
{
    if (r->p >= r->end) return ref_fail(r, "bad escape");
    unsigned char c = *r->p++;
    unsigned cp = c;
    static const char simple[] = "\"\\/bfnrt", decoded[] = "\"\\/\b\f\n\r\t";
    if (c == 'u') {
        if (!hex4(r->p, r->end, &cp)) return ref_fail(r, "bad escape");
        r->p += 4;
        unsigned lo;
        if (cp >= 0xd800 && cp <= 0xdbff && r->end - r->p >= 6 && r->p[0] == '\\' && r->p[1] == 'u' &&
            hex4(r->p + 2, r->end, &lo) && lo >= 0xdc00 && lo <= 0xdfff) {
            r->p += 6;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        } else if (cp >= 0xd800 && cp <= 0xdfff) {
            return ref_fail(r, "lone surrogate");
        }
        if (cp == 0) return ref_fail(r, "escaped NUL");
    } else {
        const char *at = c ? strchr(simple, c) : NULL;
        if (!at) return ref_fail(r, "bad escape");
        cp = (unsigned char)decoded[at - simple];
    }
    unsigned char bytes[4];
    size_t n = utf8_encode(cp, bytes);
    *len += n;
    key_append(key, klen, bytes, n);
    return 1;
}

/* Parses a string (the opening quote is at r->p) and records its decoded length; collects the decoded
 * bytes into key when given. */
static int ref_string(ref *r, unsigned char *key, size_t *klen)
{
    size_t len = 0;
    r->p++;
    while (r->p < r->end) {
        unsigned char c = *r->p;
        if (c == '"') {
            r->p++;
            if (len > r->max_string) r->max_string = len;
            return 1;
        }
        if (c < 0x20) return ref_fail(r, "raw control character in a string");
        if (c == '\\') {
            r->p++;
            if (!ref_escape(r, &len, key, klen)) return 0;
            continue;
        }
        size_t n = c < 0x80 ? 1 : utf8_len(r->p, r->end);
        if (!n) return ref_fail(r, "invalid UTF-8");
        key_append(key, klen, r->p, n);
        len += n;
        r->p += n;
    }
    return ref_fail(r, "unterminated string");
}

static int ref_array(ref *r, int depth)
{
    r->p++;
    ref_ws(r);
    if (r->p < r->end && *r->p == ']') { r->p++; return 1; }
    for (;;) {
        if (!ref_value(r, depth)) return 0;
        ref_ws(r);
        if (r->p >= r->end) return ref_fail(r, "bad array structure");
        if (*r->p == ']') { r->p++; return 1; }
        if (*r->p++ != ',') return ref_fail(r, "bad array structure");
    }
}

typedef struct keyset {
    unsigned char keys[REF_MAX_KEYS][KEY_MAX];
    size_t lens[REF_MAX_KEYS];
    int n;
} keyset;

static void keyset_add(ref *r, keyset *ks, const unsigned char *key, size_t klen)
{
    if (klen == KEY_UNTRACKED) return;
    for (int i = 0; i < ks->n; i++)
        if (ks->lens[i] == klen && memcmp(ks->keys[i], key, klen) == 0) r->duplicate = 1;
    if (ks->n < REF_MAX_KEYS) {
        memcpy(ks->keys[ks->n], key, klen);
        ks->lens[ks->n++] = klen;
    }
}

static int ref_member(ref *r, keyset *ks, int depth)
{
    unsigned char key[KEY_MAX];
    size_t klen = 0;
    if (r->p >= r->end || *r->p != '"' || !ref_string(r, key, &klen)) return ref_fail(r, "bad object key");
    keyset_add(r, ks, key, klen);
    ref_ws(r);
    if (r->p >= r->end || *r->p++ != ':') return ref_fail(r, "missing ':'");
    return ref_value(r, depth);
}

static int ref_object(ref *r, int depth)
{
    keyset *ks = calloc(1, sizeof *ks);
    assert_non_null(ks);
    int ok = 0;
    r->p++;
    ref_ws(r);
    if (r->p < r->end && *r->p == '}') { r->p++; ok = 1; }
    while (!ok) {
        ref_ws(r);
        if (!ref_member(r, ks, depth)) break;
        ref_ws(r);
        if (r->p >= r->end) break;
        if (*r->p == '}') { r->p++; ok = 1; break; }
        if (*r->p++ != ',') break;
    }
    free(ks);
    return ok ? 1 : ref_fail(r, "bad object structure");
}

static int ref_value(ref *r, int depth)
{
    ref_ws(r);
    if (r->p >= r->end) return ref_fail(r, "unexpected end");
    unsigned char c = *r->p;
    if (c == '{' || c == '[') {
        if (depth + 1 > r->max_depth) r->max_depth = depth + 1;
        if (depth + 1 > REF_MAX_DEPTH) { r->too_deep = 1; return ref_fail(r, "too deep"); }
        return c == '{' ? ref_object(r, depth + 1) : ref_array(r, depth + 1);
    }
    if (c == '"') return ref_string(r, NULL, NULL);
    if (c == '-' || (c >= '0' && c <= '9')) return ref_number(r);
    if (ref_lit(r, "true") || ref_lit(r, "false") || ref_lit(r, "null")) return 1;
    return ref_fail(r, "not a JSON value");
}

/* 1 when text is one JSON value (RFC 8259, strict UTF-8) surrounded by optional whitespace. */
static int ref_check(const char *text, size_t len, ref *r)
{
    memset(r, 0, sizeof *r);
    r->p = (const unsigned char *)text;
    r->end = r->p + len;
    if (!ref_value(r, 0)) return 0;
    ref_ws(r);
    return r->p == r->end ? 1 : ref_fail(r, "trailing characters");
}

/* ---- JSON mutation ---- */

static const char *const corpus[] = {
    "{\"name\":\"Ada\",\"age\":36,\"tags\":[\"a\",\"b\"],\"ok\":true,\"none\":null}",
    "[1,-2,3.5,1e10,-0.0,0,9223372036854775807,-9223372036854775808]",
    "{\"a\":{\"b\":{\"c\":[{\"d\":\"e\"}]}}}",
    "\"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\ \\/ \\n\"",
    "{\"price\":18.99,\"qty\":30,\"note\":\"{not:json}\"}",
    "[[],{},[[]],{\"\":\"\"}]",
    "{\"k\\\"ey\":\"v:al\",\"x\":[true,false,null]}",
    "\"snow \xe2\x98\x83 emoji \xf0\x9f\x98\x80 \xc3\xa9\"",
    "{\"deep\":[[[[[[[[1]]]]]]]]}",
    "[{\"id\":1,\"id2\":2},{\"id\":3}]",
    " null ",
    " 123 ",
    "true",
    "{\"s\":\"0123456789abcdefXYZ\",\"t\":\"short\"}",
};

static const char *const tokens[] = {
    "true", "null", "false", "NaN", "Infinity", "-Infinity", "\"a\":1,", "\\u0000", "\\ud800", "\\udc00",
    "{\"a\":1,\"a\":2}", "[[[[", "]]]]", "{{", "}}", "1e999", "-0", "01", "1.", ".5", "'", "/*", "*/", "//",
    "\xef\xbb\xbf", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\t", "\n", "\x01", "\"",
    "\\", "\\\"", ",", ":", "99999999999999999999", "\"k\":{\"k\":{}}"};

static const char structural[] = "{}[]\":,\\ .-+eE0123456789tfnu\x00\x1f\x7f\xc0\xed\xf4\xff";

typedef struct doc {
    char buf[DOC_MAX];
    size_t len;
} doc;

static void doc_insert(doc *d, size_t at, const char *src, size_t n)
{
    if (d->len + n > DOC_MAX) n = DOC_MAX - d->len;
    if (at > d->len) at = d->len;
    memmove(d->buf + at + n, d->buf + at, d->len - at);
    memcpy(d->buf + at, src, n);
    d->len += n;
}

static void doc_delete(doc *d, size_t at, size_t n)
{
    if (at >= d->len) return;
    if (n > d->len - at) n = d->len - at;
    memmove(d->buf + at, d->buf + at + n, d->len - at - n);
    d->len -= n;
}

static void mutate_once(doc *d)
{
    size_t at = rnd_below(d->len + 1);
    switch (rnd_below(8)) {
    case 0: if (d->len) d->buf[rnd_below(d->len)] = (char)rnd(); break;
    case 1: if (d->len) d->buf[rnd_below(d->len)] ^= (char)(1u << rnd_below(8)); break;
    case 2: doc_insert(d, at, &structural[rnd_below(sizeof structural - 1)], 1); break;
    case 3: doc_delete(d, at, 1 + rnd_below(8)); break;
    case 4: d->len = rnd_below(d->len + 1); break;
    case 5: {
        size_t from = rnd_below(d->len + 1), n = rnd_below(d->len - from + 1);
        char slice[DOC_MAX];
        memcpy(slice, d->buf + from, n);
        doc_insert(d, at, slice, n);
        break;
    }
    case 6: {
        const char *t = tokens[rnd_below(sizeof tokens / sizeof tokens[0])];
        doc_insert(d, at, t, strlen(t));
        break;
    }
    default: if (d->len) d->buf[rnd_below(d->len)] = rnd_below(2) ? '"' : '\\'; break;
    }
}

static void make_doc(doc *d)
{
    size_t nc = sizeof corpus / sizeof corpus[0];
    const char *base = corpus[rnd_below(nc)];
    d->len = 0;
    doc_insert(d, 0, base, strlen(base));
    if (rnd_below(8) == 0) { /* splice with another document */
        const char *other = corpus[rnd_below(nc)];
        size_t ol = strlen(other), from = rnd_below(ol);
        doc_insert(d, rnd_below(d->len + 1), other + from, rnd_below(ol - from + 1));
    }
    size_t rounds = rnd_below(10) == 0 ? 0 : 1 + rnd_below(6); /* some unmutated documents too */
    for (size_t i = 0; i < rounds; i++) mutate_once(d);
}

/* ---- JSON checks ---- */

static const json_limits fuzz_limits[] = {{0, 0}, {8, 32}, {3, 4}, {1, 1}};

static int effective_depth(const json_limits *l)
{
    return l->max_depth > 0 ? l->max_depth : JSON_DEFAULT_MAX_DEPTH;
}

static size_t effective_string(const json_limits *l)
{
    return l->max_string ? l->max_string : JSON_DEFAULT_MAX_STRING;
}

static char *serialize(struct json_object *obj, size_t *len)
{
    strbuf sb;
    strbuf_init(&sb, 0);
    if (json_append(&sb, obj) < 0) { strbuf_release(&sb); return NULL; }
    return strbuf_steal(&sb, len);
}

/* Accepted document: serialize, parse again with the same limits, serialize again; both must agree. */
static void check_roundtrip(violations *v, const doc *d, struct json_object *obj, const json_limits *lim)
{
    size_t n1 = 0, n2 = 0;
    char *s1 = serialize(obj, &n1);
    if (!s1) { note(v, V_ROUNDTRIP, "append", d->buf, d->len, "json_append failed"); return; }
    bs_err err;
    bs_err_clear(&err);
    int is_null = 0;
    char *exact = malloc(n1 ? n1 : 1);
    assert_non_null(exact);
    memcpy(exact, s1, n1);
    struct json_object *again = json_parse_strict(exact, n1, lim, &is_null, &err);
    free(exact);
    char detail[DETAIL_MAX];
    if (!again) {
        snprintf(detail, sizeof detail, "serialized as %.60s, which fails: %.200s", s1, err.message);
        note(v, V_ROUNDTRIP, reason_of(err.message), d->buf, d->len, detail);
    } else {
        char *s2 = serialize(again, &n2);
        if (!s2 || n1 != n2 || memcmp(s1, s2, n1) != 0) {
            snprintf(detail, sizeof detail, "serialized %.60s then %.60s", s1, s2 ? s2 : "(failed)");
            note(v, V_ROUNDTRIP, "differs", d->buf, d->len, detail);
        }
        free(s2);
        json_object_put(again);
    }
    free(s1);
}

static void check_error(violations *v, const doc *d, const bs_err *err, int is_null, int accepted, int null_doc)
{
    if (accepted || null_doc) {
        if (err->status != 0) note(v, V_BAD_ERROR, "error", d->buf, d->len, "accepted, yet an error is set");
        if (accepted && is_null) note(v, V_BAD_ERROR, "is_null", d->buf, d->len, "a value, yet is_null is set");
        return;
    }
    if (err->status != 400 || strcmp(err->code, "common/invalid-parameters") != 0 || !err->message[0] || is_null)
        note(v, V_BAD_ERROR, err->code, d->buf, d->len, err->message);
}

/* Compares the parser's verdict with the reference's. */
static void check_verdict(violations *v, const doc *d, int accepted, const json_limits *lim, const bs_err *err)
{
    ref r;
    int valid = ref_check(d->buf, d->len, &r);
    int within = !r.too_deep && r.max_depth <= effective_depth(lim) && r.max_string <= effective_string(lim);
    char detail[DETAIL_MAX];
    if (accepted && !valid) {
        snprintf(detail, sizeof detail, "accepted; not JSON: %s", r.why ? r.why : "?");
        note(v, V_ACCEPTS_INVALID, r.why ? r.why : "?", d->buf, d->len, detail);
    } else if (accepted && (!within || r.duplicate)) {
        snprintf(detail, sizeof detail, "accepted with depth %d/%d, string %zu/%zu, duplicate %d", r.max_depth,
                 effective_depth(lim), r.max_string, effective_string(lim), r.duplicate);
        note(v, V_ACCEPTS_OVER_LIMIT, r.duplicate ? "duplicate" : "limit", d->buf, d->len, detail);
    } else if (!accepted && valid && within && !r.duplicate) {
        snprintf(detail, sizeof detail, "(limits %d/%zu) rejected: %.200s", effective_depth(lim), effective_string(lim),
                 err->message);
        note(v, V_REJECTS_VALID, reason_of(err->message), d->buf, d->len, detail);
    }
}

static void fuzz_json_one(violations *v, const doc *d, const json_limits *lim)
{
    char *exact = malloc(d->len ? d->len : 1); /* exactly len bytes: no terminator to lean on */
    assert_non_null(exact);
    memcpy(exact, d->buf, d->len);
    bs_err err;
    bs_err_clear(&err);
    int is_null = 0;
    struct json_object *obj = json_parse_strict(exact, d->len, lim, &is_null, &err);
    free(exact);
    int null_doc = !obj && is_null;
    v->outcome[obj ? 0 : null_doc ? 1 : 2]++;
    check_error(v, d, &err, is_null, obj != NULL, null_doc);
    check_verdict(v, d, obj != NULL || null_doc, lim, &err);
    if (obj) check_roundtrip(v, d, obj, lim);
    json_object_put(obj);
}

/* The reference itself must agree with known answers, or its verdicts mean nothing. */
static void test_reference_recognizer(void **state)
{
    (void)state;
    const char *good[] = {"0", " [1, 2.5e-3, -0] ", "{\"a\":{\"b\":[]}}", "\"\\ud83d\\ude00\"", "\"\xf4\x8f\xbf\xbf\"",
                          "null", "{\"a\":1,\"b\":1}"};
    const char *bad[] = {"", "[1,]", "01", "1.", "NaN", "{'a':1}", "\"\xc0\x80\"", "\"\xed\xa0\x80\"", "\"a\tb\"",
                         "[1] x", "{\"a\"}", "\"\\x\""};
    ref r;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!ref_check(good[i], strlen(good[i]), &r) || r.duplicate) fail_msg("reference rejects %s", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ref_check(bad[i], strlen(bad[i]), &r)) fail_msg("reference accepts %s", bad[i]);
    const char *dup1 = "{\"a\":1,\"\\u0061\":2}", *dup2 = "[{\"a\":1},{\"b\":1,\"b\":2}]";
    const char *dup3 = "{\"\\n\":1,\"\\u000a\":2}", *nodup = "{\"a\":1,\"A\":2,\"\\u00e9\":3,\"\xc3\xa9 \":4}";
    assert_true(ref_check(dup1, strlen(dup1), &r) && r.duplicate);
    assert_true(ref_check(dup2, strlen(dup2), &r) && r.duplicate);
    assert_true(ref_check(dup3, strlen(dup3), &r) && r.duplicate);
    assert_true(ref_check(nodup, strlen(nodup), &r) && !r.duplicate);
    assert_true(ref_check("[[[1]]]", 7, &r) && r.max_depth == 3);
    assert_true(ref_check("\"\\u00e9x\"", 9, &r) && r.max_string == 3);
}

static void test_fuzz_json(void **state)
{
    (void)state;
    rng_state = env_u64("BASALT_FUZZ_SEED", DEFAULT_SEED) | 1;
    long iters = (long)env_u64("BASALT_FUZZ_ITERS", DEFAULT_JSON_ITERS);
    violations *v = calloc(1, sizeof *v);
    doc *d = malloc(sizeof *d);
    assert_non_null(v);
    assert_non_null(d);
    size_t nlim = sizeof fuzz_limits / sizeof fuzz_limits[0];
    for (long i = 0; i < iters; i++) {
        make_doc(d);
        fuzz_json_one(v, d, &fuzz_limits[(size_t)i % nlim]);
    }
    static const char *const names[3] = {"accepted", "null", "rejected"};
    long bad = report(v, "json_parse_strict", names, iters);
    free(v);
    free(d);
    if (bad) fail_msg("%ld violations (see above)", bad);
}

/* ---- router ---- */

typedef struct oroute {
    unsigned methods;
    const char *pattern;
    char buf[128];
    char *segs[HTTP_MAX_SEGMENTS];
    int nseg;
    int tail;
} oroute;

static const char *const route_patterns[] = {
    "/", "/healthz", "/metrics", "/console/*path", "/v1/*rest", "/v1/data/:table", "/v1/data/:table/:id",
    "/v1/data/:table/spec", "/v1/auth/me", "/v1/:table/:id", "/v1/:a/lit", "/v1/lit/:b", "/v1/data/*rest",
    "/admin/v1/orgs/:id/alerts", "/admin/v1/orgs/:id", "/admin/*rest", "/x/:y", "/x/:z", "/x/*w",
    "/files/:bucket/upload", "/files/*path", "/a/:b/c/*d", "/a/b/:c/:d", "/:p1/:p2/:p3/:p4/:p5/:p6/:p7/:p8",
    "/s/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15"};

static const char *const seg_pool[] = {"v1", "data", "auth", "me", "spec", "admin", "orgs", "alerts", "console",
                                       "files", "upload", "x", "a", "b", "c", "lit", "healthz", "metrics", "s",
                                       "1", "15", ":table", "*rest", "", "V1", "data ", "%2F"};

static void oracle_split(oroute *o)
{
    snprintf(o->buf, sizeof o->buf, "%s", o->pattern);
    o->nseg = 0;
    o->tail = 0;
    for (char *s = strtok(o->buf, "/"); s; s = strtok(NULL, "/")) {
        o->segs[o->nseg++] = s;
        if (*s == '*') o->tail = 1;
    }
}

/* Specificity digits per the documented rule: literal 2, parameter 1, tail (and past the end) 0.
 * Returns 0 when the route does not match the path. */
static int oracle_digits(const oroute *o, char *const *segs, int nseg, int digits[HTTP_MAX_SEGMENTS])
{
    int fixed = o->tail ? o->nseg - 1 : o->nseg;
    if (o->tail ? nseg < fixed : nseg != fixed) return 0;
    memset(digits, 0, sizeof(int) * HTTP_MAX_SEGMENTS);
    for (int i = 0; i < fixed; i++) {
        const char *p = o->segs[i];
        if (*p == ':') {
            if (segs[i][0] == '\0') return 0;
            digits[i] = 1;
        } else {
            if (strcmp(p, segs[i]) != 0) return 0;
            digits[i] = 2;
        }
    }
    return 1;
}

static int digits_cmp(const int *a, const int *b)
{
    for (int i = 0; i < HTTP_MAX_SEGMENTS; i++)
        if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    return 0;
}

typedef struct oracle_result {
    int hit;          /* index into the table, -1 when none */
    unsigned allowed;
} oracle_result;

static oracle_result oracle_match(const oroute *table, int n, http_method method, char *const *segs, int nseg)
{
    oracle_result res = {-1, 0};
    int best[HTTP_MAX_SEGMENTS] = {0}, d[HTTP_MAX_SEGMENTS] = {0}, have = 0;
    for (int i = 0; i < n; i++) {
        if (!oracle_digits(&table[i], segs, nseg, d)) continue;
        int c = have ? digits_cmp(d, best) : 1;
        if (c < 0) continue;
        if (c > 0) { memcpy(best, d, sizeof best); have = 1; res.allowed = 0; res.hit = -1; }
        res.allowed |= table[i].methods;
        if (res.hit < 0 && (table[i].methods & (unsigned)method)) res.hit = i;
    }
    /* no route of the best pattern takes the method: the most specific tail route that does wins */
    int fb[HTTP_MAX_SEGMENTS] = {0}, have_fb = 0;
    for (int i = 0; i < n && res.hit < 0; i++) {
        if (!table[i].tail || !(table[i].methods & (unsigned)method) || !oracle_digits(&table[i], segs, nseg, d)) continue;
        if (!have_fb || digits_cmp(d, fb) > 0) { memcpy(fb, d, sizeof fb); have_fb = 1; }
    }
    for (int i = 0; i < n && res.hit < 0 && have_fb; i++)
        if (table[i].tail && (table[i].methods & (unsigned)method) && oracle_digits(&table[i], segs, nseg, d) &&
            digits_cmp(d, fb) == 0)
            res.hit = i;
    if (res.hit < 0 && method == HTTP_HEAD && (res.allowed & HTTP_GET)) {
        for (int i = 0; i < n && res.hit < 0; i++)
            if (oracle_digits(&table[i], segs, nseg, d) && digits_cmp(d, best) == 0 && (table[i].methods & HTTP_GET))
                res.hit = i;
    }
    return res;
}

static void random_segment(char *out, size_t cap)
{
    if (rnd_below(3)) {
        snprintf(out, cap, "%s", seg_pool[rnd_below(sizeof seg_pool / sizeof seg_pool[0])]);
        return;
    }
    size_t n = rnd_below(cap < 13 ? cap : 13);
    for (size_t i = 0; i < n; i++) out[i] = (char)(1 + rnd_below(255));
    out[n] = '\0';
}

static int params_consistent(const http_match *m, const oroute *o, int nseg)
{
    int k = 0;
    for (int i = 0; i < o->nseg && k < HTTP_MAX_PATH_PARAMS; i++) {
        const char *p = o->segs[i];
        if (*p != ':' && *p != '*') continue;
        if (k >= m->nparams || m->params[k].seg != i || strcmp(m->params[k].name, p + 1) != 0 ||
            m->params[k].tail != (*p == '*') || m->params[k].seg > nseg)
            return 0;
        k++;
    }
    return k == m->nparams;
}

static void fuzz_router_one(violations *v, const http_router *router, const oroute *table, int n)
{
    char store[HTTP_MAX_SEGMENTS][16];
    char *segs[HTTP_MAX_SEGMENTS];
    int nseg = (int)rnd_below(HTTP_MAX_SEGMENTS + 1);
    for (int i = 0; i < nseg; i++) {
        random_segment(store[i], sizeof store[i]);
        segs[i] = store[i];
    }
    http_method method = (http_method)(1u << rnd_below(8));
    http_match m;
    int rc = http_router_match(router, method, segs, nseg, &m);
    oracle_result want = oracle_match(table, n, method, segs, nseg);
    v->outcome[rc ? 0 : m.allowed ? 1 : 2]++;
    int ok = rc == (want.hit >= 0) && m.allowed == want.allowed && (rc ? m.route != NULL : m.route == NULL);
    if (ok && rc)
        ok = strcmp(m.route->pattern, table[want.hit].pattern) == 0 && params_consistent(&m, &table[want.hit], nseg);
    if (ok) return;
    char path[HTTP_MAX_SEGMENTS * 17 + 1] = "";
    for (int i = 0; i < nseg; i++) { strcat(path, "/"); strcat(path, segs[i]); }
    char detail[DETAIL_MAX];
    snprintf(detail, sizeof detail, "method 0x%x: router %d %s allowed 0x%x, oracle %s allowed 0x%x",
             (unsigned)method, rc, rc ? m.route->pattern : "-", m.allowed,
             want.hit >= 0 ? table[want.hit].pattern : "-", want.allowed);
    note(v, V_ROUTER, rc ? "route" : "no route", path, strlen(path), detail);
}

static void handler(http_req *req, http_res *res, void *data)
{
    (void)req;
    (void)res;
    (void)data;
}

static void test_fuzz_router(void **state)
{
    (void)state;
    rng_state = (env_u64("BASALT_FUZZ_SEED", DEFAULT_SEED) ^ 0xa5a5a5a5ULL) | 1;
    long iters = (long)env_u64("BASALT_FUZZ_ITERS", DEFAULT_JSON_ITERS) / 4;
    int n = (int)(sizeof route_patterns / sizeof route_patterns[0]);
    oroute *table = calloc((size_t)n, sizeof *table);
    http_router *router = http_router_new();
    assert_non_null(table);
    assert_non_null(router);
    for (int i = 0; i < n; i++) {
        table[i].pattern = route_patterns[i];
        table[i].methods = (unsigned)(1 + rnd_below(0x7f)) & 0x7f; /* never HTTP_OTHER */
        oracle_split(&table[i]);
        assert_int_equal(http_router_add(router, table[i].methods, table[i].pattern, handler, NULL, NULL), i);
    }
    violations *v = calloc(1, sizeof *v);
    assert_non_null(v);
    for (long i = 0; i < iters; i++) fuzz_router_one(v, router, table, n);
    static const char *const names[3] = {"matched", "405", "no route"};
    long bad = report(v, "http_router_match", names, iters);
    free(v);
    free(table);
    http_router_free(router);
    if (bad) fail_msg("%ld violations (see above)", bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_recognizer),
        cmocka_unit_test(test_fuzz_json),
        cmocka_unit_test(test_fuzz_router),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
