/* url_mask: a URL fit to show (CLI output, API answers, logs): the password of its user part becomes
 * "***" ("postgres://user:***@host:5432/db") and so does the value of a "password=" query parameter.
 * Pure string work; out is caller memory. */
#ifndef BASALT_UTIL_URL_MASK_H
#define BASALT_UTIL_URL_MASK_H

#include <stddef.h>

/* Writes url masked into out (cap bytes, always terminated; cut short when it does not fit). */
void url_mask(const char *url, char *out, size_t cap);

#endif
