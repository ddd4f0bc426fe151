/* libFuzzer target: the Cookie header reader (http/cookie.h http_cookie_find) that picks the web console's
 * session cookie out of what a browser (or anyone) sends. scripts/fuzz.sh cookie SECONDS.
 *
 * The input is a Cookie header's text (up to its first NUL), read from a heap copy of exactly that many
 * bytes plus its NUL, so AddressSanitizer sees a read past the end. The answer must agree with the
 * documented rule, checked here independently: pairs separated by ';', leading spaces of a pair skipped,
 * the first pair that starts with "basalt_console=" gives the value (its trailing spaces dropped); a value
 * that does not fit the buffer is absent and the buffer left empty. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/cookie.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "basalt_console"
#define CAP 48

/* The rule, written without the reader's code: 1 with the value's start and length, 0 when absent. */
static int documented_rule(const char *h, const char **value, size_t *len)
{
    size_t n = strlen(NAME);
    for (const char *p = h;;) {
        const char *end = strchr(p, ';');
        const char *q = p;
        const char *stop = end ? end : p + strlen(p);
        while (q < stop && *q == ' ') q++;
        if ((size_t)(stop - q) > n && !strncmp(q, NAME, n) && q[n] == '=') {
            *value = q + n + 1;
            *len = (size_t)(stop - *value);
            while (*len && (*value)[*len - 1] == ' ') (*len)--;
            return 1;
        }
        if (!end) return 0;
        p = end + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = strnlen((const char *)data, size);
    char *h = malloc(n + 1);
    if (!h) return 0;
    memcpy(h, data, n);
    h[n] = '\0';
    char out[CAP];
    memset(out, 'x', sizeof out);
    int got = http_cookie_find(h, NAME, out, sizeof out);
    const char *value = NULL;
    size_t len = 0;
    int want = documented_rule(h, &value, &len) && len < CAP;
    if (got != want || (got && (strlen(out) != len || memcmp(out, value, len))) || (!got && out[0] != '\0')) {
        fprintf(stderr, "http_cookie_find disagrees with the rule on \"%s\": got %d \"%s\", want %d\n", h, got, out, want);
        abort();
    }
    free(h);
    return 0;
}
