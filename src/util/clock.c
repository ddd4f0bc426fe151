#include "util/clock.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static _Atomic int64_t clock_offset_ms;

int64_t clock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + atomic_load(&clock_offset_ms);
}

int64_t clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void clock_set_offset_ms(int64_t offset_ms)
{
    atomic_store(&clock_offset_ms, offset_ms);
}

void clock_iso8601(int64_t ms, char out[CLOCK_ISO_LEN])
{
    time_t secs = (time_t)(ms / 1000);
    int millis = (int)(ms % 1000);
    if (millis < 0) { millis += 1000; secs -= 1; }
    struct tm tm;
    gmtime_r(&secs, &tm);
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (tm.tm_year + 1900) % 10000,
             (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100, millis % 1000);
    memcpy(out, tmp, CLOCK_ISO_LEN - 1);
    out[CLOCK_ISO_LEN - 1] = '\0';
}

/* Reads exactly n decimal digits (no sign, no space). */
static int fixed_digits(const char *p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

int clock_parse_iso8601(const char *text, int64_t *ms)
{
    int y, mo, d, h, mi, s, frac = 0;
    if (!text || strlen(text) < 20) return -1;
    const char *t = text;
    if (fixed_digits(t, 4, &y) || t[4] != '-' || fixed_digits(t + 5, 2, &mo) || t[7] != '-' ||
        fixed_digits(t + 8, 2, &d) || t[10] != 'T' || fixed_digits(t + 11, 2, &h) || t[13] != ':' ||
        fixed_digits(t + 14, 2, &mi) || t[16] != ':' || fixed_digits(t + 17, 2, &s))
        return -1;
    const char *p = text + 19;
    if (*p == '.') {
        int ndigits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, ndigits++)
            if (ndigits < 3) frac = frac * 10 + (*p - '0');
        if (ndigits == 0 || ndigits > 9) return -1;
        for (; ndigits < 3; ndigits++) frac *= 10;
    }
    if (strcmp(p, "Z") != 0) return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59) return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s};
    time_t secs = timegm(&tm);
    *ms = (int64_t)secs * 1000 + frac;
    return 0;
}

int64_t clock_day_start(int64_t ms)
{
    return ms - ((ms % CLOCK_DAY_MS) + CLOCK_DAY_MS) % CLOCK_DAY_MS;
}

int64_t clock_month_start(int64_t ms, int months)
{
    time_t t = (time_t)(clock_day_start(ms) / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_mon += months;
    return (int64_t)timegm(&tm) * 1000;
}
