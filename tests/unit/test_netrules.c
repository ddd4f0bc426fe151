/* netrules: a project's allowedOrigins and ipWhitelist (platform.md §4.3) — what the settings may hold,
 * how they parse, and which origins and addresses they let through (CIDR edges, IPv6, IPv4-mapped). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/netrules.h"

static void validity(void **state)
{
    (void)state;
    assert_true(netrules_origin_valid("https://app.example.com"));
    assert_true(netrules_origin_valid("http://localhost:3000"));
    assert_true(netrules_origin_valid("http://[::1]:8080"));
    assert_false(netrules_origin_valid("*"));
    assert_false(netrules_origin_valid("https://*.example.com"));
    assert_false(netrules_origin_valid("app.example.com"));
    assert_false(netrules_origin_valid("https://app.example.com/path"));
    assert_false(netrules_origin_valid("ftp://x.io"));
    assert_false(netrules_origin_valid("https://"));
    assert_true(netrules_ip_valid("10.0.0.1"));
    assert_true(netrules_ip_valid("10.0.0.0/8"));
    assert_true(netrules_ip_valid("2001:db8::/32"));
    assert_true(netrules_ip_valid("::1"));
    assert_false(netrules_ip_valid("10.0.0.0/33"));
    assert_false(netrules_ip_valid("2001:db8::/129"));
    assert_false(netrules_ip_valid("10.0.0.0/"));
    assert_false(netrules_ip_valid("10.0.0.0/8x"));
    assert_false(netrules_ip_valid("300.1.1.1"));
    assert_false(netrules_ip_valid("example.com"));
    assert_false(netrules_ip_valid(""));
}

static void empty_settings_allow_everyone(void **state)
{
    (void)state;
    netrules r;
    assert_int_equal(netrules_parse("{}", &r), 0);
    assert_int_equal(netrules_parse("{\"allowedOrigins\":[],\"ipWhitelist\":[]}", &r), 0);
    assert_int_equal(netrules_parse("not json", &r), 0);
    assert_int_equal(netrules_parse(NULL, &r), 0);
    assert_true(netrules_origin_allowed(&r, "https://anything.io"));
    assert_true(netrules_ip_allowed(&r, "203.0.113.9"));
}

static void origins(void **state)
{
    (void)state;
    netrules r;
    assert_int_equal(netrules_parse("{\"allowedOrigins\":[\"https://app.example.com\",\"bad origin\",\"http://localhost:3000\"]}", &r), 1);
    assert_int_equal(r.norigins, 2);
    assert_true(netrules_origin_allowed(&r, "https://app.example.com"));
    assert_true(netrules_origin_allowed(&r, "HTTPS://APP.EXAMPLE.COM"));
    assert_true(netrules_origin_allowed(&r, "https://app.example.com/"));
    assert_true(netrules_origin_allowed(&r, "http://localhost:3000"));
    assert_true(netrules_origin_allowed(&r, NULL)); /* servers and CLIs send no Origin */
    assert_false(netrules_origin_allowed(&r, "http://app.example.com"));
    assert_false(netrules_origin_allowed(&r, "https://app.example.com.evil.io"));
    assert_false(netrules_origin_allowed(&r, "https://app.example.co"));
    assert_false(netrules_origin_allowed(&r, "http://localhost:30000"));
    assert_false(netrules_origin_allowed(&r, "null"));
    assert_false(netrules_origin_allowed(&r, ""));
    assert_true(netrules_ip_allowed(&r, "203.0.113.9")); /* no address list */
}

static void addresses(void **state)
{
    (void)state;
    netrules r;
    assert_int_equal(netrules_parse("{\"ipWhitelist\":[\"192.168.1.0/24\",\"10.1.2.3\",\"2001:db8:abcd::/48\",\"172.16.0.0/12\"]}", &r), 1);
    assert_int_equal(r.nips, 4);
    assert_true(netrules_ip_allowed(&r, "192.168.1.0"));
    assert_true(netrules_ip_allowed(&r, "192.168.1.255"));
    assert_false(netrules_ip_allowed(&r, "192.168.2.1"));
    assert_true(netrules_ip_allowed(&r, "10.1.2.3"));
    assert_false(netrules_ip_allowed(&r, "10.1.2.4"));
    assert_true(netrules_ip_allowed(&r, "172.31.255.255"));  /* /12: 172.16–172.31 */
    assert_false(netrules_ip_allowed(&r, "172.32.0.0"));
    assert_true(netrules_ip_allowed(&r, "2001:db8:abcd:12::1"));
    assert_false(netrules_ip_allowed(&r, "2001:db8:abce::1"));
    assert_true(netrules_ip_allowed(&r, "::ffff:192.168.1.7")); /* IPv4-mapped, as a dual-stack socket reports it */
    assert_false(netrules_ip_allowed(&r, "::ffff:8.8.8.8"));
    assert_false(netrules_ip_allowed(&r, "::1"));
    assert_false(netrules_ip_allowed(&r, ""));
    assert_false(netrules_ip_allowed(&r, NULL));
    assert_false(netrules_ip_allowed(&r, "192.168.1.0/24")); /* a client is an address, not a range */
    assert_true(netrules_origin_allowed(&r, "https://any.io")); /* no origin list */
    netrules all;
    assert_int_equal(netrules_parse("{\"ipWhitelist\":[\"0.0.0.0/0\",\"::/0\"]}", &all), 1);
    assert_true(netrules_ip_allowed(&all, "8.8.8.8"));
    assert_true(netrules_ip_allowed(&all, "2001:4860::8888"));
}

/* Webhook targets (SSRF): what may not receive the server's requests unless the operator allows it. */
static void internal_addresses(void **state)
{
    (void)state;
    static const char *const internal[] = {
        "0.0.0.0", "127.0.0.1", "127.255.0.9", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
        "169.254.169.254", "100.64.0.1", "100.127.255.255", "224.0.0.1", "239.1.1.1", "255.255.255.255", "240.0.0.1",
        "192.0.2.1", "198.18.0.1", "::", "::1", "fe80::1", "fc00::1", "fd00:ec2::254", "ff02::1", "fec0::1",
        "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1", "::127.0.0.1", "64:ff9b::a9fe:a9fe",
        "2002:7f00:1::", "2001:db8::1", "not-an-ip", "10.0.0.0/8", "",
    };
    static const char *const public_ones[] = {
        "8.8.8.8", "1.1.1.1", "93.184.216.34", "172.32.0.1", "100.128.0.1", "169.253.1.1", "11.0.0.1",
        "2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "::ffff:8.8.8.8", "64:ff9b::808:808",
    };
    for (size_t i = 0; i < sizeof internal / sizeof internal[0]; i++) {
        if (!netrules_ip_internal(internal[i])) fail_msg("%s should be internal", internal[i]);
    }
    for (size_t i = 0; i < sizeof public_ones / sizeof public_ones[0]; i++) {
        if (netrules_ip_internal(public_ones[i])) fail_msg("%s should be public", public_ones[i]);
    }
    assert_true(netrules_ip_internal(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(validity),
        cmocka_unit_test(empty_settings_allow_everyone),
        cmocka_unit_test(origins),
        cmocka_unit_test(addresses),
        cmocka_unit_test(internal_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
