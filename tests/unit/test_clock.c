/* Unit tests of util/clock.h: ISO 8601 formatting of known instants, parsing (round trips and rejection
 * of text that is not exactly the form the API writes), the test-clock offset and monotonic time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"

/* ---- helpers ---- */

static void assert_iso(int64_t ms, const char *expected)
{
    char out[CLOCK_ISO_LEN];
    memset(out, 'X', sizeof out);
    clock_iso8601(ms, out);
    assert_string_equal(out, expected);
    assert_int_equal(strlen(out), CLOCK_ISO_LEN - 1);
}

static void assert_parses(const char *text, int64_t expected)
{
    int64_t ms = -12345;
    if (clock_parse_iso8601(text, &ms) != 0) fail_msg("\"%s\" was rejected", text);
    assert_int_equal(ms, expected);
}

static void assert_rejected(const char *text)
{
    int64_t ms = -12345;
    if (clock_parse_iso8601(text, &ms) == 0) fail_msg("\"%s\" was accepted as %lld", text, (long long)ms);
    assert_int_equal(ms, -12345); /* untouched on failure */
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {}
}

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* ---- formatting ---- */

static void test_iso_epoch(void **state)
{
    (void)state;
    assert_iso(0, "1970-01-01T00:00:00.000Z");
}

static void test_iso_known_instants(void **state)
{
    (void)state;
    assert_iso(1736937000123, "2025-01-15T10:30:00.123Z");
    assert_iso(1736937000000, "2025-01-15T10:30:00.000Z");
    assert_iso(1736937000999, "2025-01-15T10:30:00.999Z");
    assert_iso(951782400000, "2000-02-29T00:00:00.000Z");      /* leap day */
    assert_iso(1709208000001, "2024-02-29T12:00:00.001Z");
    assert_iso(946684799999, "1999-12-31T23:59:59.999Z");
    assert_iso(253402300799999, "9999-12-31T23:59:59.999Z");   /* last 4-digit year */
    assert_iso(1, "1970-01-01T00:00:00.001Z");
}

static void test_iso_before_epoch(void **state)
{
    (void)state;
    assert_iso(-1, "1969-12-31T23:59:59.999Z");
    assert_iso(-1000, "1969-12-31T23:59:59.000Z");
    assert_iso(-1001, "1969-12-31T23:59:58.999Z");
}

/* ---- parsing ---- */

static void test_parse_known(void **state)
{
    (void)state;
    assert_parses("1970-01-01T00:00:00.000Z", 0);
    assert_parses("2025-01-15T10:30:00.123Z", 1736937000123);
    assert_parses("2025-01-15T10:30:00Z", 1736937000000);
    assert_parses("2025-01-15T10:30:00.1Z", 1736937000100);
    assert_parses("2025-01-15T10:30:00.12Z", 1736937000120);
    assert_parses("2000-02-29T00:00:00.000Z", 951782400000);
    assert_parses("1969-12-31T23:59:59.999Z", -1);
}

static void test_parse_round_trip_fixed(void **state)
{
    (void)state;
    const int64_t values[] = {0, 1, 999, 1000, 1736937000123, 951782400000, 253402300799999, 4102444800000,
                              -1, -86400000};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char out[CLOCK_ISO_LEN];
        clock_iso8601(values[i], out);
        assert_parses(out, values[i]);
    }
}

static void test_parse_round_trip_random(void **state)
{
    (void)state;
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < 20000; i++) {
        int64_t ms = (int64_t)(next_rand(&seed) % 253402300800000ULL); /* 1970 .. 9999 */
        char out[CLOCK_ISO_LEN];
        clock_iso8601(ms, out);
        int64_t back = 0;
        assert_int_equal(clock_parse_iso8601(out, &back), 0);
        if (back != ms) fail_msg("%lld -> %s -> %lld", (long long)ms, out, (long long)back);
    }
}

static void test_parse_rejects_malformed(void **state)
{
    (void)state;
    const char *bad[] = {
        "", "Z", "2025", "2025-01-15", "2025-01-15T10:30", "2025-01-15T10:30:00",
        "2025-01-15T10:30:00.123", "2025-01-15T10:30:00+01:00", "2025-01-15T10:30:00.123+00:00",
        "2025-01-15 10:30:00Z", "2025-01-15t10:30:00Z", "2025-01-15T10:30:00z", "2025/01/15T10:30:00Z",
        "2025-01-15T10:30:00.Z", "2025-01-15T10:30:00.123ZZ", "2025-01-15T10:30:00Zjunk",
        "2025-01-15T10:30:00.12a3Z", "x025-01-15T10:30:00Z", "2025-1-15T10:30:00Z", "25-01-15T10:30:00Z",
        "20250-01-15T10:30:00Z", "2025-01-15T10:30:00 Z", " 2025-01-15T10:30:00Z",
        "2025-13-01T00:00:00Z", "2025-00-01T00:00:00Z", "2025-01-32T00:00:00Z", "2025-01-00T00:00:00Z",
        "2025-01-15T24:00:00Z", "2025-01-15T10:60:00Z", "2025-01-15T10:30:61Z", "2025-01-15T1a:30:00Z",
    };
    assert_int_equal(clock_parse_iso8601(NULL, &(int64_t){0}), -1);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) assert_rejected(bad[i]);
}

/* Checks that every text is rejected; fails once, listing all that were accepted (and as what). */
static void rejected_all(const char *const *texts, size_t n)
{
    char accepted[1024] = "";
    for (size_t i = 0; i < n; i++) {
        int64_t ms = 0;
        if (clock_parse_iso8601(texts[i], &ms) != 0) continue;
        char iso[CLOCK_ISO_LEN];
        clock_iso8601(ms, iso);
        size_t used = strlen(accepted);
        snprintf(accepted + used, sizeof accepted - used, " \"%s\" (as %s)", texts[i], iso);
    }
    if (accepted[0]) fail_msg("accepted:%s", accepted);
}

/* scanf's %d takes signs and skips spaces: none of these is the form the API writes. */
static void test_parse_rejects_signs_and_spaces(void **state)
{
    (void)state;
    static const char *const bad[] = {"2025-01-15T-1:30:00Z", "2025-01-15T10:-1:00Z", "2025-01-15T10:30:-1Z",
                                      "+025-01-15T10:30:00Z", "-001-01-15T10:30:00Z", "2025- 1-15T10:30:00Z",
                                      "2025-01-15T 1:30:00Z", "2025-01-+5T10:30:00Z"};
    rejected_all(bad, sizeof bad / sizeof bad[0]);
}

static void test_parse_rejects_impossible_dates(void **state)
{
    (void)state;
    assert_parses("2024-02-29T00:00:00Z", 1709164800000);
    static const char *const bad[] = {"2025-02-29T00:00:00Z", /* 2025 is not a leap year */
                                      "2025-02-30T00:00:00Z", "2025-04-31T00:00:00Z", "1900-02-29T00:00:00Z"};
    rejected_all(bad, sizeof bad / sizeof bad[0]);
}

/* ---- now, offset, monotonic ---- */

static void test_now_is_plausible(void **state)
{
    (void)state;
    int64_t now = clock_now_ms();
    assert_true(now > 1700000000000LL);         /* after 2023-11 */
    assert_true(now < 4102444800000LL);         /* before 2100 */
    int64_t sys = (int64_t)time(NULL) * 1000;
    assert_true(now - sys > -2000 && now - sys < 2000);
}

static void test_offset_moves_wall_clock_only(void **state)
{
    (void)state;
    const int64_t day = 86400000;
    int64_t before = clock_now_ms();
    int64_t mono_before = clock_mono_us();
    clock_set_offset_ms(day);
    int64_t shifted = clock_now_ms();
    int64_t mono_after = clock_mono_us();
    clock_set_offset_ms(0);
    int64_t back = clock_now_ms();
    assert_true(shifted - before >= day && shifted - before < day + 1000);
    assert_true(back - before >= 0 && back - before < 1000);
    assert_true(mono_after - mono_before >= 0 && mono_after - mono_before < 1000000);
    clock_set_offset_ms(-day);
    assert_true(before - clock_now_ms() > day - 1000);
    clock_set_offset_ms(0);
}

static void test_monotonic_advances(void **state)
{
    (void)state;
    int64_t a = clock_mono_us();
    for (int i = 0; i < 1000; i++) {
        int64_t b = clock_mono_us();
        assert_true(b >= a);
        a = b;
    }
    int64_t start = clock_mono_us();
    sleep_ms(20);
    int64_t elapsed = clock_mono_us() - start;
    assert_true(elapsed >= 20000);
    assert_true(elapsed < 2000000);
}

/* ---- day and month bounds ---- */

static int64_t at(const char *iso)
{
    int64_t ms = 0;
    if (clock_parse_iso8601(iso, &ms) != 0) fail_msg("\"%s\" was rejected", iso);
    return ms;
}

static void test_day_start(void **state)
{
    (void)state;
    assert_int_equal(clock_day_start(at("2025-11-15T13:45:10.123Z")), at("2025-11-15T00:00:00Z"));
    assert_int_equal(clock_day_start(at("2025-11-15T00:00:00Z")), at("2025-11-15T00:00:00Z"));
    assert_int_equal(clock_day_start(at("2025-11-15T23:59:59.999Z")), at("2025-11-15T00:00:00Z"));
    assert_int_equal(clock_day_start(0), 0);
    assert_int_equal(clock_day_start(-1), -CLOCK_DAY_MS); /* 1969-12-31 */
    assert_int_equal(clock_day_start(-CLOCK_DAY_MS), -CLOCK_DAY_MS);
}

static void test_month_start(void **state)
{
    (void)state;
    int64_t t = at("2025-11-15T13:45:10.123Z");
    assert_int_equal(clock_month_start(t, 0), at("2025-11-01T00:00:00Z"));
    assert_int_equal(clock_month_start(t, 1), at("2025-12-01T00:00:00Z"));
    assert_int_equal(clock_month_start(t, 2), at("2026-01-01T00:00:00Z")); /* across a year */
    assert_int_equal(clock_month_start(t, -1), at("2025-10-01T00:00:00Z"));
    assert_int_equal(clock_month_start(t, -11), at("2024-12-01T00:00:00Z"));
    assert_int_equal(clock_month_start(t, -24), at("2023-11-01T00:00:00Z"));
    assert_int_equal(clock_month_start(at("2024-02-29T23:59:59.999Z"), 0), at("2024-02-01T00:00:00Z"));
    assert_int_equal(clock_month_start(at("2024-02-29T23:59:59.999Z"), 1), at("2024-03-01T00:00:00Z"));
    assert_int_equal(clock_month_start(at("2025-01-31T12:00:00Z"), 1), at("2025-02-01T00:00:00Z"));
    assert_int_equal(clock_month_start(at("2025-12-01T00:00:00Z"), 0), at("2025-12-01T00:00:00Z"));
    assert_int_equal(clock_month_start(-1, 0), at("1969-12-01T00:00:00Z"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iso_epoch),
        cmocka_unit_test(test_iso_known_instants),
        cmocka_unit_test(test_iso_before_epoch),
        cmocka_unit_test(test_parse_known),
        cmocka_unit_test(test_parse_round_trip_fixed),
        cmocka_unit_test(test_parse_round_trip_random),
        cmocka_unit_test(test_parse_rejects_malformed),
        cmocka_unit_test(test_parse_rejects_signs_and_spaces),
        cmocka_unit_test(test_parse_rejects_impossible_dates),
        cmocka_unit_test(test_now_is_plausible),
        cmocka_unit_test(test_offset_moves_wall_clock_only),
        cmocka_unit_test(test_monotonic_advances),
        cmocka_unit_test(test_day_start),
        cmocka_unit_test(test_month_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
