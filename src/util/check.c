#include "util/check.h"

#include <stdio.h>
#include <stdlib.h>

_Noreturn void bs_assert_fail(const char *cond, const char *file, int line, const char *func)
{
    fprintf(stderr, "invariant failed: %s (%s:%d, %s)\n", cond, file, line, func);
    fflush(stderr);
    abort();
}
