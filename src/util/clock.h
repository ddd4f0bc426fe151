/* clock: wall and monotonic time, and the ISO 8601 form the API writes (2025-01-15T10:30:00.000Z).
 * Wall time can be offset by a test clock (BASALT_TEST_CLOCK_OFFSET_MS via clock_set_offset_ms) so
 * that later lifecycle tests can advance time; monotonic time is never offset. */
#ifndef BASALT_UTIL_CLOCK_H
#define BASALT_UTIL_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define CLOCK_ISO_LEN 25 /* "2025-01-15T10:30:00.000Z" plus NUL */
#define CLOCK_DAY_MS (24LL * 3600 * 1000)

int64_t clock_now_ms(void);        /* Unix epoch milliseconds, offset by the test clock */
int64_t clock_mono_us(void);       /* monotonic microseconds, for durations */
void clock_set_offset_ms(int64_t offset_ms);
/* Writes ms as ISO 8601 UTC with milliseconds into out (at least CLOCK_ISO_LEN bytes). */
void clock_iso8601(int64_t ms, char out[CLOCK_ISO_LEN]);
/* Parses the form clock_iso8601 writes (also without milliseconds, or with an offset-free 'Z').
 * Returns 0 and sets *ms, or -1 when the text is not such a timestamp. */
int clock_parse_iso8601(const char *text, int64_t *ms);
/* 00:00 UTC of the day holding ms (also before 1970). */
int64_t clock_day_start(int64_t ms);
/* 00:00 UTC on the first day of the month holding ms, moved by `months` (negative: earlier months;
 * clock_month_start(ms, 1) is where the month holding ms ends). */
int64_t clock_month_start(int64_t ms, int months);

#endif
