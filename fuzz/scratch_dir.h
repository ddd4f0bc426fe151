/* scratch_dir.h: a scratch directory for a fuzz target, removed with its contents when the fuzzer exits.
 * Include it first (nftw needs _XOPEN_SOURCE). */
#ifndef BASALT_FUZZ_SCRATCH_DIR_H
#define BASALT_FUZZ_SCRATCH_DIR_H

#define _XOPEN_SOURCE 700

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

static char scratch_path[64];

static int scratch_remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void scratch_remove(void)
{
    nftw(scratch_path, scratch_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Makes /tmp/basalt-fuzz-NAME-XXXXXX once and returns its path; aborts when it cannot. */
static const char *scratch_dir(const char *name)
{
    if (scratch_path[0]) return scratch_path;
    snprintf(scratch_path, sizeof scratch_path, "/tmp/basalt-fuzz-%s-XXXXXX", name);
    if (!mkdtemp(scratch_path) || atexit(scratch_remove) != 0) abort();
    return scratch_path;
}

#endif
