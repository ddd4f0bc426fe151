/* Unit tests of util/url_mask.h: the password of a URL's user part and of a password= query parameter
 * become "***"; URLs without one are unchanged; a short output buffer is cut, always terminated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "util/url_mask.h"

static void check(const char *url, const char *want)
{
    char out[256];
    url_mask(url, out, sizeof out);
    assert_string_equal(out, want);
}

static void test_user_password(void **state)
{
    (void)state;
    check("postgres://user:secret@db2:5432/basalt", "postgres://user:***@db2:5432/basalt");
    check("postgresql://u:p%40ss@h/db?sslmode=require", "postgresql://u:***@h/db?sslmode=require");
    check("postgres://u:a@b@h:1/db", "postgres://u:***@h:1/db"); /* the last '@' before the path */
}

static void test_nothing_to_hide(void **state)
{
    (void)state;
    check("postgres://user@db2/basalt", "postgres://user@db2/basalt");
    check("postgres://db2/basalt", "postgres://db2/basalt");
    check("", "");
    check("postgres://h/db?x=1&y=a@b:c", "postgres://h/db?x=1&y=a@b:c"); /* '@' after the path is not a user part */
}

static void test_query_password(void **state)
{
    (void)state;
    check("postgres://h/db?user=u&password=secret&sslmode=disable", "postgres://h/db?user=u&password=***&sslmode=disable");
    check("postgres://h/db?password=secret", "postgres://h/db?password=***");
    check("postgres://h/db?oldpassword=x", "postgres://h/db?oldpassword=x");
}

static void test_short_buffer(void **state)
{
    (void)state;
    char out[12];
    memset(out, 'x', sizeof out);
    url_mask("postgres://user:secret@db2:5432/basalt", out, sizeof out);
    assert_string_equal(out, "postgres://");
    char big[8];
    url_mask("postgres://u:averyveryverylongpassword@h/db", big, sizeof big);
    assert_int_equal(strlen(big), 7);
    assert_null(strstr(big, "very"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user_password),
        cmocka_unit_test(test_nothing_to_hide),
        cmocka_unit_test(test_query_password),
        cmocka_unit_test(test_short_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
