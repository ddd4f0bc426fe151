/* regex: PCRE2 behind a small interface, with bounded matching: every match runs with a match limit and
 * a depth limit, so a pattern that would backtrack catastrophically fails fast instead of holding a
 * worker thread. Patterns are compiled with UTF-8 checking and never with callouts.
 * Ownership: regex_compile returns a compiled pattern the caller frees with regex_free; a compiled
 * pattern may be used from several threads (each match creates its own match data). */
#ifndef BASALT_UTIL_REGEX_H
#define BASALT_UTIL_REGEX_H

#include <stddef.h>

#include "util/err.h"

#define REGEX_MATCH_LIMIT 100000   /* backtracking steps per match */
#define REGEX_DEPTH_LIMIT 1000

typedef struct regex regex;

/* 400 data/validation-error "<what>: invalid regular expression at offset N: reason" on a bad pattern. */
regex *regex_compile(const char *pattern, size_t len, int icase, const char *what, bs_err *err);
void regex_free(regex *re);
/* 1 match, 0 no match, -1 the match limit was hit or the subject is not valid UTF-8. */
int regex_match(const regex *re, const char *subject, size_t len);

#endif
