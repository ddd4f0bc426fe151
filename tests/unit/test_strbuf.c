/* Unit tests of util/strbuf.h: growth, the move from caller stack memory to the heap, the `max` cap,
 * steal/release ownership, appendf past its internal 256-byte scratch, and JSON string escaping.
 * Built with AddressSanitizer: a leak or double free in any ownership path fails the test binary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"

/* ---- helpers ---- */

static void assert_invariants(const strbuf *sb)
{
    if (!sb->data) {
        assert_int_equal(sb->len, 0);
        return;
    }
    assert_true(sb->len < sb->cap);
    assert_int_equal(sb->data[sb->len], '\0');
    if (sb->max) assert_true(sb->len <= sb->max);
}

static char *pattern(size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++) s[i] = (char)('a' + i % 26);
    s[n] = '\0';
    return s;
}

/* Escapes s with strbuf_append_json_string into a heap string. */
static char *escaped(const char *s, size_t len)
{
    strbuf sb;
    strbuf_init(&sb, 0);
    assert_int_equal(strbuf_append_json_string(&sb, s, len), 0);
    assert_invariants(&sb);
    char *out = strbuf_steal(&sb, NULL);
    assert_non_null(out);
    return out;
}

static void assert_escapes(const char *s, size_t len, const char *expected)
{
    char *out = escaped(s, len);
    assert_string_equal(out, expected);
    free(out);
}

/* ---- growth ---- */

static void test_init_is_empty(void **state)
{
    (void)state;
    strbuf sb;
    memset(&sb, 0x5a, sizeof sb);
    strbuf_init(&sb, 0);
    assert_null(sb.data);
    assert_int_equal(sb.len, 0);
    assert_int_equal(sb.overflow, 0);
    assert_int_equal(sb.on_stack, 0);
    assert_int_equal(strbuf_append(&sb, "", 0), 0);
    assert_non_null(sb.data);
    assert_string_equal(sb.data, "");
    strbuf_release(&sb);
}

static void test_growth_byte_by_byte(void **state)
{
    (void)state;
    strbuf sb;
    strbuf_init(&sb, 0);
    char *expect = pattern(10000);
    for (size_t i = 0; i < 10000; i++) {
        assert_int_equal(strbuf_append_char(&sb, expect[i]), 0);
        assert_invariants(&sb);
    }
    assert_int_equal(sb.len, 10000);
    assert_memory_equal(sb.data, expect, 10001);
    free(expect);
    strbuf_release(&sb);
    assert_null(sb.data);
    assert_int_equal(sb.len, 0);
}

static void test_growth_large_appends(void **state)
{
    (void)state;
    strbuf sb;
    strbuf_init(&sb, 0);
    char *big = pattern(100000);
    assert_int_equal(strbuf_append_str(&sb, "head:"), 0);
    assert_int_equal(strbuf_append(&sb, big, 100000), 0);
    assert_int_equal(strbuf_append(&sb, big, 3), 0);
    assert_invariants(&sb);
    assert_int_equal(sb.len, 5 + 100000 + 3);
    assert_memory_equal(sb.data, "head:", 5);
    assert_memory_equal(sb.data + 5, big, 100000);
    assert_string_equal(sb.data + 100005, "abc");
    free(big);
    strbuf_release(&sb);
}

static void test_append_embedded_nul(void **state)
{
    (void)state;
    strbuf sb;
    strbuf_init(&sb, 0);
    assert_int_equal(strbuf_append(&sb, "a\0b", 3), 0);
    assert_int_equal(sb.len, 3);
    assert_memory_equal(sb.data, "a\0b\0", 4);
    strbuf_release(&sb);
}

static void test_reserve_then_fill(void **state)
{
    (void)state;
    strbuf sb;
    strbuf_init(&sb, 0);
    assert_int_equal(strbuf_reserve(&sb, 1000), 0);
    assert_true(sb.cap >= 1001);
    char *before = sb.data;
    for (int i = 0; i < 1000; i++) assert_int_equal(strbuf_append_char(&sb, 'x'), 0);
    assert_ptr_equal(sb.data, before); /* no regrowth inside the reservation */
    assert_int_equal(sb.len, 1000);
    strbuf_release(&sb);
}

static void test_reset_keeps_memory(void **state)
{
    (void)state;
    strbuf sb;
    strbuf_init(&sb, 0);
    assert_int_equal(strbuf_append_str(&sb, "some text"), 0);
    size_t cap = sb.cap;
    strbuf_reset(&sb);
    assert_int_equal(sb.len, 0);
    assert_string_equal(sb.data, "");
    assert_int_equal(sb.cap, cap);
    assert_int_equal(strbuf_append_str(&sb, "new"), 0);
    assert_string_equal(sb.data, "new");
    strbuf_release(&sb);
    strbuf_reset(&sb); /* on a released buffer: harmless */
    assert_null(sb.data);
}

static void test_reuse_after_release(void **state)
{
    (void)state;
    strbuf sb;
    strbuf_init(&sb, 0);
    assert_int_equal(strbuf_append_str(&sb, "first"), 0);
    strbuf_release(&sb);
    assert_int_equal(strbuf_append_str(&sb, "second"), 0);
    assert_string_equal(sb.data, "second");
    strbuf_release(&sb);
    strbuf_release(&sb); /* twice: no double free */
}

/* ---- stack memory ---- */

static void test_stack_buffer_stays_until_full(void **state)
{
    (void)state;
    char mem[16];
    strbuf sb;
    strbuf_init_stack(&sb, mem, sizeof mem);
    assert_ptr_equal(sb.data, mem);
    assert_string_equal(sb.data, "");
    assert_int_equal(strbuf_append_str(&sb, "0123456789abcde"), 0); /* 15 + NUL fills it exactly */
    assert_ptr_equal(sb.data, mem);
    assert_int_equal(sb.on_stack, 1);
    assert_string_equal(mem, "0123456789abcde");
    strbuf_release(&sb);
}

static void test_stack_moves_to_heap(void **state)
{
    (void)state;
    char mem[16];
    strbuf sb;
    strbuf_init_stack(&sb, mem, sizeof mem);
    assert_int_equal(strbuf_append_str(&sb, "hello "), 0);
    assert_int_equal(strbuf_append_str(&sb, "world, this is longer than sixteen bytes"), 0);
    assert_true(sb.data != mem);
    assert_int_equal(sb.on_stack, 0);
    assert_string_equal(sb.data, "hello world, this is longer than sixteen bytes");
    assert_invariants(&sb);
    memset(mem, 'Z', sizeof mem); /* the stack memory is no longer used */
    assert_string_equal(sb.data, "hello world, this is longer than sixteen bytes");
    strbuf_release(&sb); /* frees the heap copy only */
}

static void test_stack_steal_copies(void **state)
{
    (void)state;
    char mem[32];
    strbuf sb;
    strbuf_init_stack(&sb, mem, sizeof mem);
    assert_int_equal(strbuf_append_str(&sb, "on the stack"), 0);
    size_t len = 0;
    char *out = strbuf_steal(&sb, &len);
    assert_non_null(out);
    assert_true(out != mem);
    assert_int_equal(len, 12);
    assert_string_equal(out, "on the stack");
    assert_null(sb.data);
    assert_int_equal(sb.len, 0);
    assert_int_equal(sb.on_stack, 0);
    free(out); /* must be heap memory */
    strbuf_release(&sb);
}

static void test_zero_size_stack(void **state)
{
    (void)state;
    char mem[1] = {'q'};
    strbuf sb;
    strbuf_init_stack(&sb, mem, 0);
    assert_int_equal(mem[0], 'q'); /* nothing written into zero bytes */
    assert_int_equal(strbuf_append_str(&sb, "x"), 0);
    assert_true(sb.data != mem);
    assert_string_equal(sb.data, "x");
    strbuf_release(&sb);
}

/* ---- cap ---- */

static void test_max_cap_refuses_and_flags(void **state)
{
    (void)state;
    strbuf sb;
    strbuf_init(&sb, 10);
    assert_int_equal(strbuf_append_str(&sb, "0123456789"), 0); /* exactly max */
    assert_int_equal(sb.overflow, 0);
    assert_int_equal(strbuf_append_char(&sb, 'X'), -1);
    assert_int_equal(sb.overflow, 1);
    assert_int_equal(sb.len, 10);
    assert_string_equal(sb.data, "0123456789");
    assert_int_equal(strbuf_append(&sb, "", 0), 0); /* nothing more is fine */
    assert_true(sb.cap <= 11);
    assert_invariants(&sb);
    strbuf_reset(&sb);
    assert_int_equal(sb.overflow, 0);
    assert_int_equal(strbuf_append_str(&sb, "abc"), 0);
    strbuf_release(&sb);
}

static void test_max_cap_single_big_append(void **state)
{
    (void)state;
    strbuf sb;
    strbuf_init(&sb, 100);
    char *big = pattern(101);
    assert_int_equal(strbuf_append(&sb, big, 101), -1);
    assert_int_equal(sb.overflow, 1);
    assert_int_equal(sb.len, 0);
    assert_int_equal(strbuf_reserve(&sb, 101), -1);
    assert_int_equal(strbuf_append(&sb, big, 100), 0);
    assert_memory_equal(sb.data, big, 100);
    assert_invariants(&sb);
    free(big);
    strbuf_release(&sb);
}

static void test_max_cap_appendf_and_json(void **state)
{
    (void)state;
    strbuf sb;
    strbuf_init(&sb, 20);
    assert_int_equal(strbuf_appendf(&sb, "%s", "0123456789"), 0);
    assert_int_equal(strbuf_appendf(&sb, "%0300d", 7), -1); /* long path */
    assert_int_equal(sb.overflow, 1);
    assert_int_equal(sb.len, 10);
    assert_int_equal(strbuf_appendf(&sb, "%s", "0123456789A"), -1); /* short path */
    assert_int_equal(sb.len, 10);
    sb.overflow = 0;
    assert_int_equal(strbuf_append_json_string(&sb, "0123456789", 10), -1); /* 12 bytes with quotes */
    assert_int_equal(sb.overflow, 1);
    assert_invariants(&sb);
    strbuf_release(&sb);
}

/* ---- steal ---- */

static void test_steal_heap_hands_over(void **state)
{
    (void)state;
    strbuf sb;
    strbuf_init(&sb, 0);
    assert_int_equal(strbuf_append_str(&sb, "payload"), 0);
    char *data = sb.data;
    size_t len = 0;
    char *out = strbuf_steal(&sb, &len);
    assert_ptr_equal(out, data);
    assert_int_equal(len, 7);
    assert_string_equal(out, "payload");
    assert_null(sb.data);
    assert_int_equal(sb.len, 0);
    assert_int_equal(sb.cap, 0);
    assert_int_equal(strbuf_append_str(&sb, "again"), 0); /* usable afterwards */
    assert_string_equal(sb.data, "again");
    assert_string_equal(out, "payload");
    free(out);
    strbuf_release(&sb);
}

static void test_steal_empty(void **state)
{
    (void)state;
    strbuf sb;
    strbuf_init(&sb, 0);
    size_t len = 99;
    char *out = strbuf_steal(&sb, &len);
    assert_non_null(out);
    assert_int_equal(len, 0);
    assert_string_equal(out, "");
    free(out);
    out = strbuf_steal(&sb, NULL); /* len may be omitted */
    assert_non_null(out);
    free(out);
}

/* ---- appendf ---- */

static void test_appendf_short(void **state)
{
    (void)state;
    strbuf sb;
    strbuf_init(&sb, 0);
    assert_int_equal(strbuf_appendf(&sb, "%d-%s-%c", 42, "x", 'z'), 0);
    assert_int_equal(strbuf_appendf(&sb, "|%05.1f", 2.25), 0);
    assert_string_equal(sb.data, "42-x-z|002.2");
    assert_int_equal(sb.len, strlen("42-x-z|002.2"));
    assert_int_equal(strbuf_appendf(&sb, "%s", ""), 0);
    assert_int_equal(sb.len, strlen("42-x-z|002.2"));
    strbuf_release(&sb);
}

static void appendf_long_case(size_t n, const char *prefix)
{
    strbuf sb;
    strbuf_init(&sb, 0);
    assert_int_equal(strbuf_append_str(&sb, prefix), 0);
    char *s = pattern(n);
    assert_int_equal(strbuf_appendf(&sb, "[%s]%zu", s, n), 0);
    assert_invariants(&sb);
    size_t pl = strlen(prefix);
    assert_memory_equal(sb.data, prefix, pl);
    assert_int_equal(sb.data[pl], '[');
    assert_memory_equal(sb.data + pl + 1, s, n);
    assert_int_equal(sb.data[pl + 1 + n], ']');
    assert_int_equal(strtoul(sb.data + pl + 2 + n, NULL, 10), n);
    assert_int_equal(sb.len, strlen(sb.data));
    free(s);
    strbuf_release(&sb);
}

static void test_appendf_long_strings(void **state)
{
    (void)state;
    appendf_long_case(300, "");
    appendf_long_case(300, "prefix");
    appendf_long_case(5000, "p");
    appendf_long_case(100000, "");
    appendf_long_case(251, "");  /* 255 chars: scratch fits exactly */
    appendf_long_case(252, "");  /* 256 chars: one past the scratch */
    appendf_long_case(253, "");
}

static void test_appendf_long_onto_stack(void **state)
{
    (void)state;
    char mem[32];
    strbuf sb;
    strbuf_init_stack(&sb, mem, sizeof mem);
    assert_int_equal(strbuf_append_str(&sb, "abc"), 0);
    char *s = pattern(400);
    assert_int_equal(strbuf_appendf(&sb, "%s", s), 0);
    assert_true(sb.data != mem);
    assert_int_equal(sb.len, 403);
    assert_memory_equal(sb.data, "abc", 3);
    assert_string_equal(sb.data + 3, s);
    free(s);
    strbuf_release(&sb);
}

/* ---- JSON strings ---- */

static void test_json_plain_and_empty(void **state)
{
    (void)state;
    assert_escapes("", 0, "\"\"");
    assert_escapes("hello world", 11, "\"hello world\"");
    assert_escapes("a/b", 3, "\"a/b\"");
}

static void test_json_escapes_quote_and_backslash(void **state)
{
    (void)state;
    assert_escapes("say \"hi\"", 8, "\"say \\\"hi\\\"\"");
    assert_escapes("C:\\dir\\", 7, "\"C:\\\\dir\\\\\"");
    assert_escapes("\"", 1, "\"\\\"\"");
    assert_escapes("\\\"", 2, "\"\\\\\\\"\"");
}

static void test_json_escapes_control_bytes(void **state)
{
    (void)state;
    assert_escapes("\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"");
    assert_escapes("\x01", 1, "\"\\u0001\"");
    assert_escapes("a\x1f" "b", 3, "\"a\\u001fb\"");
    assert_escapes("\0", 1, "\"\\u0000\"");
    assert_escapes("x\0y", 3, "\"x\\u0000y\"");
    assert_escapes("\x0b\x1b", 2, "\"\\u000b\\u001b\"");
    assert_escapes("\x7f", 1, "\"\x7f\""); /* DEL needs no escape */
}

static void test_json_utf8_unchanged(void **state)
{
    (void)state;
    const char *u = "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 \xe2\x80\xa8";
    char expect[64];
    snprintf(expect, sizeof expect, "\"%s\"", u);
    assert_escapes(u, strlen(u), expect);
}

/* Bytes that start no well-formed UTF-8 sequence become \ufffd; the valid text around them stays. */
static void test_json_invalid_utf8_replaced(void **state)
{
    (void)state;
    assert_escapes("\xff", 1, "\"\\ufffd\"");
    assert_escapes("a\xff" "b", 3, "\"a\\ufffd" "b\"");
    assert_escapes("\xc3", 1, "\"\\ufffd\"");                  /* truncated two-byte sequence */
    assert_escapes("\xc3(", 2, "\"\\ufffd(\"");                 /* bad continuation */
    assert_escapes("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"");        /* overlong '/' */
    assert_escapes("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate U+D800 */
    assert_escapes("\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* above U+10FFFF */
    assert_escapes("\x80\xc3\xa9", 3, "\"\\ufffd\xc3\xa9\"");     /* lone continuation, then é */
    assert_escapes("\xe6\x97", 2, "\"\\ufffd\\ufffd\"");         /* cut at the end of the input */
}

static void test_json_appends_to_existing(void **state)
{
    (void)state;
    strbuf sb;
    strbuf_init(&sb, 0);
    assert_int_equal(strbuf_append_str(&sb, "{\"k\":"), 0);
    assert_int_equal(strbuf_append_json_string(&sb, "v\"", 2), 0);
    assert_int_equal(strbuf_append_char(&sb, '}'), 0);
    assert_string_equal(sb.data, "{\"k\":\"v\\\"\"}");
    strbuf_release(&sb);
}

/* Every byte 0x00..0x7f, escaped, must parse back (json-c) to the same bytes. */
static void test_json_escape_round_trips(void **state)
{
    (void)state;
    char raw[128 + 8];
    for (int i = 0; i < 128; i++) raw[i] = (char)i;
    memcpy(raw + 128, "\xc3\xa9\xf0\x9f\x98\x80", 6);
    size_t n = 134;
    char *out = escaped(raw, n);
    struct json_object *o = json_tokener_parse(out);
    assert_non_null(o);
    assert_true(json_object_is_type(o, json_type_string));
    assert_int_equal(json_object_get_string_len(o), n);
    assert_memory_equal(json_object_get_string(o), raw, n);
    json_object_put(o);
    free(out);
}

static void test_json_escape_long_onto_stack(void **state)
{
    (void)state;
    char mem[8];
    strbuf sb;
    strbuf_init_stack(&sb, mem, sizeof mem);
    char *s = pattern(500);
    s[100] = '"';
    s[200] = '\n';
    assert_int_equal(strbuf_append_json_string(&sb, s, 500), 0);
    assert_int_equal(sb.len, 504);
    assert_int_equal(sb.data[0], '"');
    assert_int_equal(sb.data[503], '"');
    assert_memory_equal(sb.data + 101, "\\\"", 2);
    assert_memory_equal(sb.data + 202, "\\n", 2);
    free(s);
    strbuf_release(&sb);
}

/* ---- percent-encoding ---- */

static void assert_percent(const char *in, int keep_slash, const char *want)
{
    strbuf sb;
    strbuf_init(&sb, 0);
    assert_int_equal(strbuf_append_percent(&sb, in, keep_slash), 0);
    assert_string_equal(sb.data ? sb.data : "", want);
    strbuf_release(&sb);
}

static void test_percent_encoding(void **state)
{
    (void)state;
    assert_percent("AZaz09-._~", 0, "AZaz09-._~");
    assert_percent("a b+c&d=e?f#g%h/i", 0, "a%20b%2Bc%26d%3De%3Ff%23g%25h%2Fi");
    assert_percent("p/a b/c", 1, "p/a%20b/c");
    assert_percent("ann@example.com", 0, "ann%40example.com");
    assert_percent("\xc3\xa9\x01\x7f\xff", 0, "%C3%A9%01%7F%FF"); /* bytes as they are, upper-case hex */
    assert_percent("", 0, "");
    assert_percent(NULL, 1, "");
    /* every byte: unreserved kept, the rest three characters */
    char all[256];
    for (int i = 1; i < 256; i++) all[i - 1] = (char)i;
    all[255] = '\0';
    strbuf sb;
    strbuf_init(&sb, 0);
    assert_int_equal(strbuf_append_percent(&sb, all, 0), 0);
    assert_int_equal(sb.len, 66 + 3 * (255 - 66)); /* 26 + 26 + 10 + 4 unreserved */
    strbuf_release(&sb);
    /* a bounded buffer refuses what does not fit */
    strbuf_init(&sb, 8);
    assert_int_equal(strbuf_append_percent(&sb, "a b c d e", 0), -1);
    assert_true(sb.overflow);
    assert_true(sb.len <= 8);
    strbuf_release(&sb);
}

static void test_utf8_valid(void **state)
{
    (void)state;
    assert_int_equal(strbuf_utf8_valid("", 0), 1);
    assert_int_equal(strbuf_utf8_valid("plain \xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80", 17), 1);
    static const char *const bad[] = {"\xff", "\xc3", "\xc3\x28", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "a\xe6\x97"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) assert_int_equal(strbuf_utf8_valid(bad[i], strlen(bad[i])), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_is_empty),
        cmocka_unit_test(test_growth_byte_by_byte),
        cmocka_unit_test(test_growth_large_appends),
        cmocka_unit_test(test_append_embedded_nul),
        cmocka_unit_test(test_reserve_then_fill),
        cmocka_unit_test(test_reset_keeps_memory),
        cmocka_unit_test(test_reuse_after_release),
        cmocka_unit_test(test_stack_buffer_stays_until_full),
        cmocka_unit_test(test_stack_moves_to_heap),
        cmocka_unit_test(test_stack_steal_copies),
        cmocka_unit_test(test_zero_size_stack),
        cmocka_unit_test(test_max_cap_refuses_and_flags),
        cmocka_unit_test(test_max_cap_single_big_append),
        cmocka_unit_test(test_max_cap_appendf_and_json),
        cmocka_unit_test(test_steal_heap_hands_over),
        cmocka_unit_test(test_steal_empty),
        cmocka_unit_test(test_appendf_short),
        cmocka_unit_test(test_appendf_long_strings),
        cmocka_unit_test(test_appendf_long_onto_stack),
        cmocka_unit_test(test_json_plain_and_empty),
        cmocka_unit_test(test_json_escapes_quote_and_backslash),
        cmocka_unit_test(test_json_escapes_control_bytes),
        cmocka_unit_test(test_json_utf8_unchanged),
        cmocka_unit_test(test_json_invalid_utf8_replaced),
        cmocka_unit_test(test_json_appends_to_existing),
        cmocka_unit_test(test_json_escape_round_trips),
        cmocka_unit_test(test_json_escape_long_onto_stack),
        cmocka_unit_test(test_percent_encoding),
        cmocka_unit_test(test_utf8_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
