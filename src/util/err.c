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
    return -1;
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
