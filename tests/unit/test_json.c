/* Unit tests of util/json.h: json_parse_strict (strict RFC 8259 parsing with explicit limits and duplicate
 * key rejection) and json_append (serialization that keeps integers and the client's number text).
 * Every input is passed with an explicit length from a buffer of exactly that size where it matters, so
 * AddressSanitizer catches a read past the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

#define CODE_INVALID "common/invalid-parameters"

/* ---- helpers ---- */

/* Printable form of text for failure messages (non-ASCII and control bytes as \\xNN). */
static void show(const char *text, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x20 && c < 0x7f) out[o++] = (char)c;
        else o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
    }
    out[o] = '\0';
}

/* Parses len bytes copied into a heap buffer of exactly len bytes. */
static struct json_object *parse_n(const char *text, size_t len, const json_limits *limits, int *is_null, bs_err *err)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len) memcpy(copy, text, len);
    bs_err_clear(err);
    struct json_object *obj = json_parse_strict(copy, len, limits, is_null, err);
    free(copy);
    return obj;
}

static struct json_object *parse_ok_lim(const char *text, const json_limits *limits)
{
    bs_err err;
    int is_null = -1;
    struct json_object *obj = parse_n(text, strlen(text), limits, &is_null, &err);
    if (!obj) fail_msg("expected %s to parse, got %d %s: %s", text, err.status, err.code, err.message);
    assert_int_equal(is_null, 0);
    assert_int_equal(err.status, 0);
    return obj;
}

static struct json_object *parse_ok(const char *text)
{
    return parse_ok_lim(text, NULL);
}

/* Asserts that len bytes of text are rejected with 400 common/invalid-parameters; returns the error. */
static bs_err reject_n(const char *text, size_t len, const json_limits *limits)
{
    bs_err err;
    int is_null = -1;
    struct json_object *obj = parse_n(text, len, limits, &is_null, &err);
    if (obj) {
        char shown[256];
        show(text, len, shown, sizeof shown);
        json_object_put(obj);
        fail_msg("expected [%s] to be rejected", shown);
    }
    assert_int_equal(is_null, 0);
    assert_int_equal(err.status, 400);
    assert_string_equal(err.code, CODE_INVALID);
    assert_true(strlen(err.message) > 0);
    return err;
}

static bs_err reject_lim(const char *text, const json_limits *limits)
{
    return reject_n(text, strlen(text), limits);
}

static bs_err reject(const char *text)
{
    return reject_n(text, strlen(text), NULL);
}

/* Parses every document and fails once, listing all that were accepted; rejections must be 400. */
static void reject_all(const char *const *docs, size_t n)
{
    char accepted[1024] = "";
    for (size_t i = 0; i < n; i++) {
        bs_err err;
        int is_null = 0;
        struct json_object *obj = parse_n(docs[i], strlen(docs[i]), NULL, &is_null, &err);
        if (obj || is_null) {
            char shown[128];
            show(docs[i], strlen(docs[i]), shown, sizeof shown);
            size_t used = strlen(accepted);
            snprintf(accepted + used, sizeof accepted - used, " [%s]", shown);
            json_object_put(obj);
            continue;
        }
        assert_int_equal(err.status, 400);
        assert_string_equal(err.code, CODE_INVALID);
    }
    if (accepted[0]) fail_msg("accepted:%s", accepted);
}

/* 1 when message names a byte offset: "byte " followed by a digit. */
static int has_offset(const char *message)
{
    for (const char *p = strstr(message, "byte "); p; p = strstr(p + 1, "byte "))
        if (p[5] >= '0' && p[5] <= '9') return 1;
    return 0;
}

/* Serializes obj with json_append into a fresh heap string the caller frees. */
static char *dump(struct json_object *obj)
{
    strbuf sb;
    strbuf_init(&sb, 0);
    assert_int_equal(json_append(&sb, obj), 0);
    char *out = strbuf_steal(&sb, NULL);
    assert_non_null(out);
    return out;
}

/* Parses text and checks it serializes to expected (or to itself when expected is NULL). */
static void assert_roundtrip(const char *text, const char *expected)
{
    struct json_object *obj = parse_ok(text);
    char *out = dump(obj);
    assert_string_equal(out, expected ? expected : text);
    free(out);
    json_object_put(obj);
}

static char *nested(int depth, const char *open, const char *inner, const char *close)
{
    size_t lo = strlen(open), li = strlen(inner), lc = strlen(close);
    char *s = malloc((size_t)depth * (lo + lc) + li + 1);
    assert_non_null(s);
    char *p = s;
    for (int i = 0; i < depth; i++, p += lo) memcpy(p, open, lo);
    memcpy(p, inner, li);
    p += li;
    for (int i = 0; i < depth; i++, p += lc) memcpy(p, close, lc);
    *p = '\0';
    return s;
}

static char *quoted(size_t n, char fill, const char *before, const char *after)
{
    size_t lb = strlen(before), la = strlen(after);
    char *s = malloc(lb + n + la + 3);
    assert_non_null(s);
    memcpy(s, before, lb);
    s[lb] = '"';
    memset(s + lb + 1, fill, n);
    s[lb + 1 + n] = '"';
    memcpy(s + lb + n + 2, after, la + 1);
    return s;
}

/* ---- valid documents ---- */

static void test_object_of_every_type(void **state)
{
    (void)state;
    struct json_object *o = parse_ok("{\"s\":\"text\",\"i\":-7,\"d\":2.5,\"t\":true,\"f\":false,\"n\":null,"
                                     "\"a\":[1,\"x\"],\"o\":{\"k\":\"v\"}}");
    assert_true(json_object_is_type(o, json_type_object));
    assert_int_equal(json_object_object_length(o), 8);
    assert_string_equal(json_get_string(o, "s"), "text");
    struct json_object *v;
    assert_true(json_object_object_get_ex(o, "i", &v) && json_object_is_type(v, json_type_int));
    assert_int_equal(json_object_get_int64(v), -7);
    assert_true(json_object_object_get_ex(o, "d", &v) && json_object_is_type(v, json_type_double));
    assert_true(json_object_get_double(v) == 2.5);
    assert_true(json_object_object_get_ex(o, "t", &v) && json_object_get_boolean(v));
    assert_true(json_object_object_get_ex(o, "f", &v) && !json_object_get_boolean(v));
    assert_true(json_object_object_get_ex(o, "n", &v) && v == NULL);
    assert_true(json_object_object_get_ex(o, "a", &v) && json_object_array_length(v) == 2);
    assert_true(json_object_object_get_ex(o, "o", &v));
    assert_string_equal(json_get_string(v, "k"), "v");
    json_object_put(o);
}

static void test_array_string_and_empty_containers(void **state)
{
    (void)state;
    assert_roundtrip("[]", NULL);
    assert_roundtrip("{}", NULL);
    assert_roundtrip("[[],{},[{}]]", NULL);
    assert_roundtrip("\"just a string\"", NULL);
    assert_roundtrip(" \t\r\n[1, 2 ,3]\n", "[1,2,3]");
    assert_roundtrip("[\"\\u00e9\",\"\\ud83d\\ude00\",\"a\\/b\",\"q\\\"b\\\\\"]",
                     "[\"\xc3\xa9\",\"\xf0\x9f\x98\x80\",\"a/b\",\"q\\\"b\\\\\"]");
}

static void test_utf8_passes_through(void **state)
{
    (void)state;
    assert_roundtrip("{\"caf\xc3\xa9\":\"\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\"}", NULL);
}

/* A bare scalar is a complete JSON text (RFC 8259 §2); the end of input terminates it. */
static void test_top_level_number(void **state)
{
    (void)state;
    struct json_object *o = parse_ok("30");
    assert_true(json_object_is_type(o, json_type_int));
    assert_int_equal(json_object_get_int64(o), 30);
    json_object_put(o);
    assert_roundtrip("-5", NULL);
    assert_roundtrip("18.99", NULL);
}

static void test_top_level_literals(void **state)
{
    (void)state;
    struct json_object *o = parse_ok("true");
    assert_true(json_object_is_type(o, json_type_boolean) && json_object_get_boolean(o));
    json_object_put(o);
    o = parse_ok("false");
    assert_true(json_object_is_type(o, json_type_boolean) && !json_object_get_boolean(o));
    json_object_put(o);
}

static void test_top_level_scalars_with_whitespace(void **state)
{
    (void)state;
    assert_roundtrip(" 30 ", "30");
    assert_roundtrip("true\n", "true");
}

static void assert_null_document(const char *text)
{
    bs_err err;
    int is_null = 0;
    struct json_object *o = parse_n(text, strlen(text), NULL, &is_null, &err);
    assert_null(o);
    if (!is_null) fail_msg("[%s] not reported as null: %d %s %s", text, err.status, err.code, err.message);
    assert_int_equal(err.status, 0);
}

static void test_null_document(void **state)
{
    (void)state;
    assert_null_document("null");
}

static void test_null_document_with_whitespace(void **state)
{
    (void)state;
    assert_null_document(" null\n");
    /* is_null may be omitted */
    bs_err err;
    bs_err_clear(&err);
    assert_null(json_parse_strict("null ", 5, NULL, NULL, &err));
    assert_int_equal(err.status, 0);
}

/* ---- numbers ---- */

static void test_integers_print_as_integers(void **state)
{
    (void)state;
    struct json_object *o = parse_ok("{\"age\":30}");
    struct json_object *v;
    assert_true(json_object_object_get_ex(o, "age", &v));
    assert_true(json_object_is_type(v, json_type_int));
    json_object_put(o);
    assert_roundtrip("{\"age\":30}", NULL);
    assert_roundtrip("[0,-1,1000000]", NULL);
}

static void test_big_int64_exact(void **state)
{
    (void)state;
    const char *doc = "[9223372036854775807,-9223372036854775808,9007199254740993]";
    struct json_object *o = parse_ok(doc);
    assert_true(json_object_get_int64(json_object_array_get_idx(o, 0)) == INT64_MAX);
    assert_true(json_object_get_int64(json_object_array_get_idx(o, 1)) == INT64_MIN);
    assert_true(json_object_get_int64(json_object_array_get_idx(o, 2)) == 9007199254740993LL);
    json_object_put(o);
    assert_roundtrip(doc, NULL);
}

/* An integer outside the 64-bit range must not silently become another number: reject it or keep it. */
static void test_huge_integer_not_altered(void **state)
{
    (void)state;
    static const char *const docs[] = {"[99999999999999999999]", "[18446744073709551616]",
                                       "[-9223372036854775809]", "{\"n\":123456789012345678901234567890}"};
    char changed[1024] = "";
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        bs_err err;
        int is_null = 0;
        struct json_object *o = parse_n(docs[i], strlen(docs[i]), NULL, &is_null, &err);
        if (!o) {
            assert_int_equal(err.status, 400);
            continue;
        }
        char *out = dump(o);
        json_object_put(o);
        size_t used = strlen(changed);
        if (strcmp(out, docs[i]) != 0) snprintf(changed + used, sizeof changed - used, " %s -> %s", docs[i], out);
        free(out);
    }
    if (changed[0]) fail_msg("accepted and silently changed:%s", changed);
}

static void test_doubles_keep_client_text(void **state)
{
    (void)state;
    struct json_object *o = parse_ok("{\"price\":18.99}");
    struct json_object *v;
    assert_true(json_object_object_get_ex(o, "price", &v));
    assert_true(json_object_is_type(v, json_type_double));
    assert_true(json_object_get_double(v) > 18.98 && json_object_get_double(v) < 19.0);
    json_object_put(o);
    assert_roundtrip("{\"price\":18.99}", NULL);
    assert_roundtrip("[0.1,1.0,1e5,1E+2,-0.0,0.1e-2,123456789.123456789]", NULL);
}

/* ---- syntax rejections ---- */

#define REJECT_ALL(...)                                                    \
    do {                                                                   \
        static const char *const docs_[] = {__VA_ARGS__};                  \
        reject_all(docs_, sizeof docs_ / sizeof docs_[0]);                 \
    } while (0)

static void test_rejects_trailing_commas(void **state)
{
    (void)state;
    REJECT_ALL("[1,]", "[1,2,]", "{\"a\":1,}", "{\"a\":[1,],\"b\":2}", "[,1]", "{,}");
}

static void test_rejects_single_quotes(void **state)
{
    (void)state;
    REJECT_ALL("['a']", "{\"a\":'b'}", "{'a':1}", "[{\"x\":{'y':2}}]");
}

static void test_rejects_comments(void **state)
{
    (void)state;
    REJECT_ALL("/* c */ {}", "{} // c", "[1, /* c */ 2]", "{\"a\":1 # c\n}");
}

static void test_rejects_nan_infinity_and_loose_literals(void **state)
{
    (void)state;
    REJECT_ALL("NaN", "[NaN]", "{\"x\":NaN}", "[1,Infinity]", "Infinity", "[Infinity]", "-Infinity", "[-Infinity]",
               "nan", "[inf]", "True", "[TRUE]", "[False]", "[Null]", "[nul]", "[truex]", "undefined");
}

static void test_rejects_malformed_numbers(void **state)
{
    (void)state;
    REJECT_ALL("[01]", "[1.]", "[.5]", "[+1]", "[-]", "[0x10]", "[1e]", "[1e+]", "[--1]", "[1.2.3]", "[-01]",
               "[1.e5]", "[1.,2]", "{\"a\":1.}");
}

/* 2^1024 - 2^970, halfway between the largest double and 2^1024: from here on a number rounds to infinity. */
#define HALFWAY "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792"
#define HALFWAY_LESS_ONE "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791"

/* Issue 11 #14: a number beyond the double range would be read as infinity, stored and echoed as the
 * client's text, and a cursor over it could not be sent back: refused, with the byte where it starts. */
static void test_rejects_numbers_beyond_double_range(void **state)
{
    (void)state;
    REJECT_ALL("{\"n\":1e309}", "{\"n\":-1e309}", "[1.8e308]", "[-1E+400]", "[17976931348623159e292]",
               "[0.0000000001e319]", "[1e99999999999999999999]", "[" HALFWAY ".0]");
    bs_err err = reject("  [1, 2e400]");
    assert_non_null(strstr(err.message, "byte 6"));
    /* the largest doubles, numbers that underflow, and huge exponents of zero stay accepted */
    static const char *const ok[] = {"[1.7976931348623157e308]", "[-1.7976931348623157e308]", "[1e308]", "[1e-400]",
                                     "[0e99999999999999999999]", "[0.0001e311]", "[123.5e-99999999999999]",
                                     "[" HALFWAY_LESS_ONE ".9]"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) json_object_put(parse_ok(ok[i]));
}

static void test_rejects_structural_errors(void **state)
{
    (void)state;
    REJECT_ALL("[", "{", "]", "}", "[1", "{\"a\":1", "{\"a\"}", "{\"a\":}", "{\"a\" 1}", "{a:1}", "{\"a\":1 \"b\":2}",
               "[1 2]", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\U0041\"", ":", ",");
}

static void test_rejects_trailing_garbage(void **state)
{
    (void)state;
    REJECT_ALL("{} x", "{}{}", "[1] ]", "[1],", "\"a\" \"b\"", "1 2", "null x");
}

static void test_rejects_invalid_utf8(void **state)
{
    (void)state;
    REJECT_ALL("\"\xff\"",
               "\"\x80\"",                 /* lone continuation byte */
               "\"\xe2\x82\"",             /* truncated sequence */
               "\"\xe2\x28\xa1\"",         /* bad continuation */
               "\"\xf8\x88\x80\x80\x80\"", /* 5-byte form */
               "{\"\xfe\":1}",             /* in a key */
               "[\"ok\",\"\xc3\"]");
}

/* RFC 3629: overlong forms, UTF-16 surrogates and code points above U+10FFFF are not UTF-8. */
static void test_rejects_overlong_and_surrogate_utf8(void **state)
{
    (void)state;
    REJECT_ALL("\"\xc0\x80\"",          /* overlong NUL */
               "\"\xc1\xbf\"",          /* overlong U+007F */
               "\"\xe0\x80\xaf\"",      /* overlong '/' */
               "\"\xed\xa0\x80\"",      /* U+D800 encoded */
               "\"\xf4\x90\x80\x80\""); /* U+110000 */
}

static void test_rejects_raw_nul_byte(void **state)
{
    (void)state;
    reject_n("{\"a\":\"b\0c\"}", 11, NULL);
    reject_n("{}\0", 3, NULL);
    reject_n("\0{}", 3, NULL);
    reject_n("[1,\0 2]", 7, NULL);
}

/* RFC 8259 §7: control characters U+0000..U+001F must be escaped inside strings. */
static void test_rejects_raw_control_characters_in_strings(void **state)
{
    (void)state;
    REJECT_ALL("\"a\tb\"", "\"a\nb\"", "{\"k\x01\":1}", "[\"\x1f\"]");
}

static void test_rejects_empty_and_whitespace_only(void **state)
{
    (void)state;
    bs_err err = reject_n("", 0, NULL);
    assert_string_equal(err.code, CODE_INVALID);
    reject(" ");
    reject(" \t\r\n ");
    reject("\f[1]"); /* form feed is not JSON whitespace */
}

/* ---- limits ---- */

static void test_depth_limit_with_empty_containers(void **state)
{
    (void)state;
    json_limits lim = {3, 0};
    char *ok = nested(3, "[", "", "]");
    struct json_object *o = parse_ok_lim(ok, &lim);
    json_object_put(o);
    free(ok);
    char *deep = nested(4, "[", "", "]");
    bs_err err = reject_lim(deep, &lim);
    assert_true(has_offset(err.message));
    free(deep);
}

/* max_depth is the nesting of arrays and objects: three containers holding a scalar nest three deep. */
static void test_depth_limit_exact_with_values(void **state)
{
    (void)state;
    json_limits lim = {3, 0};
    json_object_put(parse_ok_lim("[[[1]]]", &lim));
    json_object_put(parse_ok_lim("{\"a\":{\"b\":{\"c\":1}}}", &lim));
    json_object_put(parse_ok_lim("[{\"a\":[\"x\"]}]", &lim));
    reject_lim("[[[[1]]]]", &lim);
    reject_lim("{\"a\":{\"b\":{\"c\":{\"d\":1}}}}", &lim);
}

static void test_default_depth_limit(void **state)
{
    (void)state;
    char *ok = nested(JSON_DEFAULT_MAX_DEPTH, "[", "", "]");
    json_object_put(parse_ok(ok));
    free(ok);
    char *deep = nested(JSON_DEFAULT_MAX_DEPTH + 1, "[", "", "]");
    reject(deep);
    free(deep);
    char *objs = nested(JSON_DEFAULT_MAX_DEPTH + 1, "{\"a\":", "{}", "}");
    reject(objs);
    free(objs);
}

static void test_hostile_deep_nesting(void **state)
{
    (void)state;
    size_t n = 200000;
    char *s = malloc(n);
    assert_non_null(s);
    memset(s, '[', n);
    reject_n(s, n, NULL);
    for (size_t i = 0; i < n; i += 2) { s[i] = '{'; s[i + 1] = '}'; }
    reject_n(s, n, NULL); /* "{}{}{}..." */
    memset(s, '{', n);
    reject_n(s, n, NULL);
    free(s);
}

static void test_string_length_limit(void **state)
{
    (void)state;
    json_limits lim = {0, 8};
    char *ok = quoted(8, 'x', "[", "]");
    json_object_put(parse_ok_lim(ok, &lim));
    free(ok);
    char *lng = quoted(9, 'x', "[", "]");
    reject_lim(lng, &lim);
    free(lng);
    char *deep = quoted(9, 'y', "{\"a\":[{\"b\":", "}]}");
    reject_lim(deep, &lim);
    free(deep);
    char *top = quoted(9, 'z', "", "");
    reject_lim(top, &lim);
    free(top);
}

static void test_key_length_limit(void **state)
{
    (void)state;
    json_limits lim = {0, 8};
    char *ok = quoted(8, 'k', "{", ":1}");
    json_object_put(parse_ok_lim(ok, &lim));
    free(ok);
    char *lng = quoted(9, 'k', "{", ":1}");
    reject_lim(lng, &lim);
    free(lng);
    char *nest = quoted(9, 'k', "[1,{\"a\":{", ":1}}]");
    reject_lim(nest, &lim);
    free(nest);
}

static void test_default_string_limit(void **state)
{
    (void)state;
    char *ok = quoted(JSON_DEFAULT_MAX_STRING, 'a', "", "");
    json_object_put(parse_ok(ok));
    free(ok);
    char *lng = quoted(JSON_DEFAULT_MAX_STRING + 1, 'a', "", "");
    reject(lng);
    free(lng);
}

/* ---- duplicate keys ---- */

static void test_rejects_duplicate_keys_top_level(void **state)
{
    (void)state;
    reject("{\"a\":1,\"a\":2}");
    reject("{\"a\":1,\"b\":2,\"a\":1}");
    reject("{\"\":1,\"\":2}");
    reject("{\"\\u0061\":1,\"a\":2}"); /* same key once unescaped */
    reject("{\"a\":{},\"a\":{}}");
}

static void test_rejects_duplicate_keys_nested(void **state)
{
    (void)state;
    reject("[{\"a\":1},{\"b\":1,\"b\":2}]");
    reject("{\"x\":{\"y\":[{\"z\":1,\"z\":1}]}}");
    reject("[[[{\"a\":[],\"a\":[]}]]]");
    reject("{\"a\":[{\"b\":{}},{\"c\":{\"d\":1,\"d\":2}}],\"e\":1}");
    reject("[{},{},{},{\"a\":1,\"a\":1}]");
}

static void test_distinct_keys_accepted(void **state)
{
    (void)state;
    assert_roundtrip("{\"a\":1,\"A\":2}", NULL);
    assert_roundtrip("[{\"a\":1},{\"a\":1}]", NULL);
    assert_roundtrip("{\"a\":{\"a\":{\"a\":1}}}", NULL);
    assert_roundtrip("{\"x\":[{\"k\":1},{\"k\":2}],\"y\":{\"k\":3}}", NULL);
}

static void test_structure_inside_strings_does_not_confuse_duplicates(void **state)
{
    (void)state;
    struct json_object *o = parse_ok("{\"a\":\"{\",\"b\":\"}:\"}");
    assert_int_equal(json_object_object_length(o), 2);
    assert_string_equal(json_get_string(o, "a"), "{");
    assert_string_equal(json_get_string(o, "b"), "}:");
    json_object_put(o);
    assert_roundtrip("{\"a\\\"{\":1,\"b\":2}", NULL);
    assert_roundtrip("{\"a\":\"::\",\"b\":\"\\\\\",\"c\":\":{[\"}", NULL);
    assert_roundtrip("[\"{\",{\"a\":\"}\"},\"{\\\"\",{\"b\":1,\"c\":\"{:\"}]", NULL);
    assert_roundtrip("{\"k:{\":{\"x\":1},\"y\":\"\\\\\\\"{\"}", NULL);
    reject("[\"{\",{\"a\":\"}\",\"a\":2}]");
    reject("{\"a\":\"\\\\\",\"a\":\"\\\"\"}");
}

/* A key with an escaped NUL must not be silently cut at the NUL: reject it or keep it whole. */
static void test_key_with_escaped_nul_not_truncated(void **state)
{
    (void)state;
    const char *doc = "{\"a\\u0000b\":1}";
    bs_err err;
    int is_null = 0;
    struct json_object *o = parse_n(doc, strlen(doc), NULL, &is_null, &err);
    if (!o) {
        assert_int_equal(err.status, 400);
        return;
    }
    char *out = dump(o);
    json_object_put(o);
    int same = strcmp(out, doc) == 0;
    char msg[64];
    snprintf(msg, sizeof msg, "%s", out);
    free(out);
    if (!same) fail_msg("%s was accepted and re-serialized as %s", doc, msg);
}

/* Decision (docs/errors.md): "\u0000" is refused in values as in keys, since stored documents and C
 * strings downstream could not carry it faithfully. */
static void test_string_value_with_escaped_nul_refused(void **state)
{
    (void)state;
    bs_err err = reject("\"a\\u0000b\"");
    assert_non_null(strstr(err.message, "\\u0000"));
}

/* ---- errors ---- */

static void assert_message_has(const char *text, const char *needle)
{
    bs_err err = reject(text);
    if (!strstr(err.message, needle))
        fail_msg("error for [%s] is \"%s\", expected it to mention \"%s\"", text, err.message, needle);
}

static void test_syntax_errors_mention_byte_offset(void **state)
{
    (void)state;
    assert_message_has("{} x", "byte 3");
    assert_message_has("[1,]", "byte 3");
    assert_message_has("{\"a\" 1}", "byte 5");
    assert_message_has("", "byte 0");
    assert_message_has("\"\xff\"", "byte 1");
}

/* The header promises "what is wrong and where (byte offset)" for every rejection, not only syntax. */
static void test_other_errors_mention_byte_offset(void **state)
{
    (void)state;
    json_limits lim = {0, 2};
    bs_err dup = reject_lim("{\"a\":1,\"a\":2}", NULL);
    bs_err nul = reject_n("[\"a\0\"]", 6, NULL);
    bs_err lng = reject_lim("[\"abc\"]", &lim);
    bs_err key = reject_lim("{\"abc\":1}", &lim);
    const bs_err *errs[] = {&dup, &nul, &lng, &key};
    char missing[1024] = "";
    for (size_t i = 0; i < 4; i++) {
        if (has_offset(errs[i]->message)) continue;
        size_t used = strlen(missing);
        snprintf(missing + used, sizeof missing - used, " \"%s\"", errs[i]->message);
    }
    if (missing[0]) fail_msg("no byte offset in:%s", missing);
}

static void test_is_null_cleared_on_error_and_success(void **state)
{
    (void)state;
    bs_err err;
    int is_null = 7;
    assert_null(parse_n("[", 1, NULL, &is_null, &err));
    assert_int_equal(is_null, 0);
    is_null = 7;
    struct json_object *o = parse_n("[1]", 3, NULL, &is_null, &err);
    assert_non_null(o);
    assert_int_equal(is_null, 0);
    assert_int_equal(err.status, 0);
    json_object_put(o);
}

static void test_json_get_string(void **state)
{
    (void)state;
    struct json_object *o = parse_ok("{\"s\":\"v\",\"n\":1,\"z\":null}");
    assert_string_equal(json_get_string(o, "s"), "v");
    assert_null(json_get_string(o, "n"));
    assert_null(json_get_string(o, "z"));
    assert_null(json_get_string(o, "missing"));
    assert_null(json_get_string(NULL, "s"));
    json_object_put(o);
}

static void test_json_append_respects_strbuf_cap(void **state)
{
    (void)state;
    struct json_object *o = parse_ok("{\"a\":\"0123456789\"}");
    strbuf sb;
    strbuf_init(&sb, 8);
    assert_int_equal(json_append(&sb, o), -1);
    assert_int_equal(sb.overflow, 1);
    strbuf_release(&sb);
    json_object_put(o);
}

static void test_normalize_integers(void **state)
{
    (void)state;
    const char *in = "{\"a\":30.0,\"b\":3e1,\"c\":18.99,\"d\":[1.0,2.5,{\"e\":-4.000}],\"f\":\"30.0\",\"g\":1e300,\"h\":7}";
    struct json_object *v = json_parse_strict(in, strlen(in), NULL, NULL, NULL);
    assert_non_null(v);
    json_normalize_integers(v);
    assert_string_equal(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
                        "{\"a\":30,\"b\":30,\"c\":18.99,\"d\":[1,2.5,{\"e\":-4}],\"f\":\"30.0\",\"g\":1e300,\"h\":7}");
    json_object_put(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_object_of_every_type),
        cmocka_unit_test(test_array_string_and_empty_containers),
        cmocka_unit_test(test_utf8_passes_through),
        cmocka_unit_test(test_top_level_number),
        cmocka_unit_test(test_top_level_literals),
        cmocka_unit_test(test_top_level_scalars_with_whitespace),
        cmocka_unit_test(test_null_document),
        cmocka_unit_test(test_null_document_with_whitespace),
        cmocka_unit_test(test_integers_print_as_integers),
        cmocka_unit_test(test_big_int64_exact),
        cmocka_unit_test(test_huge_integer_not_altered),
        cmocka_unit_test(test_doubles_keep_client_text),
        cmocka_unit_test(test_rejects_trailing_commas),
        cmocka_unit_test(test_rejects_single_quotes),
        cmocka_unit_test(test_rejects_comments),
        cmocka_unit_test(test_rejects_nan_infinity_and_loose_literals),
        cmocka_unit_test(test_rejects_malformed_numbers),
        cmocka_unit_test(test_rejects_numbers_beyond_double_range),
        cmocka_unit_test(test_rejects_structural_errors),
        cmocka_unit_test(test_rejects_trailing_garbage),
        cmocka_unit_test(test_rejects_invalid_utf8),
        cmocka_unit_test(test_rejects_overlong_and_surrogate_utf8),
        cmocka_unit_test(test_rejects_raw_nul_byte),
        cmocka_unit_test(test_rejects_raw_control_characters_in_strings),
        cmocka_unit_test(test_rejects_empty_and_whitespace_only),
        cmocka_unit_test(test_depth_limit_with_empty_containers),
        cmocka_unit_test(test_depth_limit_exact_with_values),
        cmocka_unit_test(test_default_depth_limit),
        cmocka_unit_test(test_hostile_deep_nesting),
        cmocka_unit_test(test_string_length_limit),
        cmocka_unit_test(test_key_length_limit),
        cmocka_unit_test(test_default_string_limit),
        cmocka_unit_test(test_rejects_duplicate_keys_top_level),
        cmocka_unit_test(test_rejects_duplicate_keys_nested),
        cmocka_unit_test(test_distinct_keys_accepted),
        cmocka_unit_test(test_structure_inside_strings_does_not_confuse_duplicates),
        cmocka_unit_test(test_key_with_escaped_nul_not_truncated),
        cmocka_unit_test(test_string_value_with_escaped_nul_refused),
        cmocka_unit_test(test_syntax_errors_mention_byte_offset),
        cmocka_unit_test(test_other_errors_mention_byte_offset),
        cmocka_unit_test(test_is_null_cleared_on_error_and_success),
        cmocka_unit_test(test_json_get_string),
        cmocka_unit_test(test_json_append_respects_strbuf_cap),
        cmocka_unit_test(test_normalize_integers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
