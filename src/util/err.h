/* err: the error value every fallible function returns through.
 * A function that can fail takes a `bs_err *` last, returns 0 on success and -1 on failure, and on
 * failure fills the error with an HTTP status that fits, a slash-style code from client-api.md §6 and a
 * message safe to show a client. Nothing here allocates; a bs_err lives on the caller's stack. */
#ifndef BASALT_UTIL_ERR_H
#define BASALT_UTIL_ERR_H

#include <stddef.h>

#define BS_ERR_CODE_MAX 64
#define BS_ERR_MESSAGE_MAX 256
#define BS_ERR_FIELD_MAX 128

typedef struct bs_err {
    int status;                      /* HTTP status; 0 while no error is set */
    char code[BS_ERR_CODE_MAX];      /* e.g. "data/not-found" */
    char message[BS_ERR_MESSAGE_MAX];/* client-safe text */
    char field[BS_ERR_FIELD_MAX];    /* the input it is about ("title", "[2].views"), "" when none: answered
                                        as error.details [{field, reason}] (client-api.md §1.6) */
    char reason[BS_ERR_MESSAGE_MAX]; /* what is wrong with that field */
} bs_err;

/* Fills err (when not NULL) and returns -1, so that `return bs_err_set(...)` reads naturally. */
int bs_err_set(bs_err *err, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Names the input an error is about (after bs_err_set, which clears it). */
void bs_err_field(bs_err *err, const char *field, const char *reason);

/* The generic internal error: status 500, code common/internal-error, a message with no internals. */
int bs_err_internal(bs_err *err);

void bs_err_clear(bs_err *err);

#endif
