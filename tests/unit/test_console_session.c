/* Unit tests of the console's small pure parts: reading one cookie out of a Cookie header and writing a
 * Set-Cookie value (http/cookie.h), and comparing a presented CSRF token (core/console_session.h). The
 * store-backed parts (sessions, links) are covered by control_store_cases.h and tests/api/
 * console_session.test.mjs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/console_session.h"
#include "http/cookie.h"

static void test_cookie_find(void **state)
{
    (void)state;
    char out[16];
    assert_int_equal(http_cookie_find("basalt_console=abc", "basalt_console", out, sizeof out), 1);
    assert_string_equal(out, "abc");
    assert_int_equal(http_cookie_find("a=1; basalt_console=xyz; b=2", "basalt_console", out, sizeof out), 1);
    assert_string_equal(out, "xyz");
    assert_int_equal(http_cookie_find("a=1;basalt_console=tight", "basalt_console", out, sizeof out), 1);
    assert_string_equal(out, "tight");
    assert_int_equal(http_cookie_find("x=1; basalt_console=first; basalt_console=second", "basalt_console", out, sizeof out), 1);
    assert_string_equal(out, "first");
    assert_int_equal(http_cookie_find("basalt_console=", "basalt_console", out, sizeof out), 1);
    assert_string_equal(out, "");
    /* other names, prefixes and suffixes of the name do not match */
    assert_int_equal(http_cookie_find("my_basalt_console=1; basalt_console_x=2; basalt=3", "basalt_console", out, sizeof out), 0);
    assert_string_equal(out, "");
    assert_int_equal(http_cookie_find("", "basalt_console", out, sizeof out), 0);
    assert_int_equal(http_cookie_find(NULL, "basalt_console", out, sizeof out), 0);
    /* a value that does not fit is absent, never cut */
    assert_int_equal(http_cookie_find("basalt_console=0123456789abcdef", "basalt_console", out, sizeof out), 0);
    assert_string_equal(out, "");
    assert_int_equal(http_cookie_find("basalt_console=0123456789abcde", "basalt_console", out, sizeof out), 1);
}

static void test_cookie_format(void **state)
{
    (void)state;
    char line[128];
    assert_int_equal(http_cookie_format(line, sizeof line, "basalt_console", "v", "/", 43200, 0), 0);
    assert_string_equal(line, "basalt_console=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200");
    assert_int_equal(http_cookie_format(line, sizeof line, "basalt_console", "", "/", 0, 1), 0);
    assert_string_equal(line, "basalt_console=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure");
    char small[16];
    assert_int_equal(http_cookie_format(small, sizeof small, "basalt_console", "v", "/", 1, 0), -1);
}

static void test_csrf_matches(void **state)
{
    (void)state;
    store_console_session s;
    memset(&s, 0, sizeof s);
    assert_int_equal(console_csrf_matches(&s, ""), 0); /* a session without a token matches nothing */
    snprintf(s.csrf, sizeof s.csrf, "Qm9vZ3VzLXRva2VuLWZvci10ZXN0aW5nLWNzcmYtMDE");
    assert_int_equal(console_csrf_matches(&s, "Qm9vZ3VzLXRva2VuLWZvci10ZXN0aW5nLWNzcmYtMDE"), 1);
    assert_int_equal(console_csrf_matches(&s, "Qm9vZ3VzLXRva2VuLWZvci10ZXN0aW5nLWNzcmYtMDI"), 0);
    assert_int_equal(console_csrf_matches(&s, "Qm9vZ3VzLXRva2VuLWZvci10ZXN0aW5nLWNzcmYtMD"), 0);
    assert_int_equal(console_csrf_matches(&s, "Qm9vZ3VzLXRva2VuLWZvci10ZXN0aW5nLWNzcmYtMDEx"), 0);
    assert_int_equal(console_csrf_matches(&s, NULL), 0);
    assert_int_equal(console_csrf_matches(&s, ""), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cookie_find),
        cmocka_unit_test(test_cookie_format),
        cmocka_unit_test(test_csrf_matches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
