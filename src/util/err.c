#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int bs_err_set(bs_err *err, int status, const char *code, const char *fmt, ...)
{
    if (!err) return -1;
    err->status = status;
    snprintf(err->code, sizeof err->code, "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    err->field[0] = '\0';
    err->reason[0] = '\0';
    return -1;
}

void bs_err_field(bs_err *err, const char *field, const char *reason)
{
    if (!err) return;
    snprintf(err->field, sizeof err->field, "%s", field);
    snprintf(err->reason, sizeof err->reason, "%s", reason);
}

int bs_err_internal(bs_err *err)
{
    return bs_err_set(err, 500, "common/internal-error", "Internal server error");
}

void bs_err_clear(bs_err *err)
{
    if (!err) return;
    memset(err, 0, sizeof *err);
}
