/* imageops: the §4.9 grammar — every form, every bound, the key found after the operations, canonical
 * texts equal for equal operations, and random paths never crash or produce a key outside the input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/imageops.h"

static imageops parse_ok(const char *path)
{
    imageops ops;
    bs_err err;
    bs_err_clear(&err);
    assert_int_equal(imageops_parse(path, &ops, &err), 0);
    return ops;
}

static void parse_bad(const char *path)
{
    imageops ops;
    bs_err err;
    bs_err_clear(&err);
    assert_int_equal(imageops_parse(path, &ops, &err), -1);
    assert_int_equal(err.status, 400);
    assert_string_equal(err.code, "common/invalid-parameters");
}

static void forms(void **state)
{
    (void)state;
    imageops o = parse_ok("fit-in/300x0/env_1/public/images/obj_1/a.jpg");
    assert_int_equal(o.mode, IMAGEOPS_FIT);
    assert_int_equal(o.width, 300);
    assert_int_equal(o.height, 0);
    assert_string_equal(o.key, "env_1/public/images/obj_1/a.jpg");
    o = parse_ok("200x100/smart/filters:quality(80):format(webp):blur(2.5)/env_1/a.png");
    assert_int_equal(o.mode, IMAGEOPS_SMART);
    assert_int_equal(o.quality, 80);
    assert_int_equal(o.format, IMAGEOPS_WEBP);
    assert_true(o.blur > 2.4 && o.blur < 2.6);
    assert_string_equal(o.key, "env_1/a.png");
    o = parse_ok("64x64/env_1/a.png");
    assert_int_equal(o.mode, IMAGEOPS_CROP);
    o = parse_ok("filters:format(jpg)/env_1/a.png");
    assert_int_equal(o.mode, IMAGEOPS_NONE);
    assert_int_equal(o.format, IMAGEOPS_JPEG);
    o = parse_ok("env_1/100x100");
    assert_int_equal(o.mode, IMAGEOPS_NONE);
    assert_string_equal(o.key, "env_1/100x100");
}

static void bounds(void **state)
{
    (void)state;
    parse_bad("fit-in/4097x10/env_1/a");
    parse_bad("fit-in/env_1/a");
    parse_bad("0x10/env_1/a");
    parse_bad("fit-in/10x10/smart/env_1/a");
    parse_bad("filters:quality(0)/env_1/a");
    parse_bad("filters:quality(x)/env_1/a");
    parse_bad("filters:format(gif)/env_1/a");
    parse_bad("filters:blur(51)/env_1/a");
    parse_bad("filters:quality(80)format(png)/env_1/a");
    parse_bad("filters:nope(1)/env_1/a");
    parse_bad("fit-in/10x10/");
    parse_ok("fit-in/4096x4096/env_1/a");
}

static void canonical(void **state)
{
    (void)state;
    char a[128], b[128];
    imageops x = parse_ok("fit-in/10x20/filters:quality(70):format(png)/env_1/a");
    imageops y = parse_ok("fit-in/10x20/filters:format(png):quality(70)/env_1/b");
    imageops_canonical(&x, a, sizeof a);
    imageops_canonical(&y, b, sizeof b);
    assert_string_equal(a, b);
    imageops z = parse_ok("fit-in/10x21/filters:format(png):quality(70)/env_1/b");
    imageops_canonical(&z, b, sizeof b);
    assert_string_not_equal(a, b);
}

static void random_paths(void **state)
{
    (void)state;
    static const char *const parts[] = {"fit-in", "10x10", "0x5", "smart", "filters:quality(5)", "filters:", "x", "(", "env_1",
                                        "a", "", "filters:blur(1):format(png)", "99999x1"};
    char path[256];
    srand(7);
    for (int i = 0; i < 20000; i++) {
        path[0] = '\0';
        int n = rand() % 6;
        for (int j = 0; j < n; j++) {
            strcat(path, parts[rand() % (sizeof parts / sizeof parts[0])]);
            if (j + 1 < n) strcat(path, "/");
        }
        imageops o;
        bs_err err;
        bs_err_clear(&err);
        if (imageops_parse(path, &o, &err) == 0) {
            assert_true(o.key >= path && o.key < path + strlen(path));
            assert_true(o.width <= IMAGEOPS_MAX_SIDE && o.height <= IMAGEOPS_MAX_SIDE);
        } else {
            assert_int_equal(err.status, 400);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(forms),
        cmocka_unit_test(bounds),
        cmocka_unit_test(canonical),
        cmocka_unit_test(random_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
