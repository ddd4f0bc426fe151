#include "store/env_locator.h"

#include <stdio.h>
#include <string.h>

/* A cluster id that can name a file: [A-Za-z0-9_-] only. */
static int cluster_id_ok(const char *id)
{
    if (!id[0]) return 0;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

int env_locator_locate(void *control, const char *env_id, store_env_location *out, bs_err *err)
{
    store_placement where;
    int found = 0;
    memset(out, 0, sizeof *out);
    if (store_control_env_placement(control, env_id, &where, &found, err) < 0) return -1;
    return env_locator_of(found ? &where : NULL, env_id, out, err);
}

int env_locator_of(const store_placement *place, const char *env_id, store_env_location *out, bs_err *err)
{
    int found = place != NULL;
    store_placement where;
    memset(out, 0, sizeof *out);
    memset(&where, 0, sizeof where);
    if (place) where = *place;
    if (found && snprintf(out->url, sizeof out->url, "%s", where.url) >= (int)sizeof out->url)
        return bs_err_set(err, 500, "common/internal-error", "The environment's cluster URL is too long");
    if (!found || strcmp(where.kind, "shared") != 0) {
        snprintf(out->file, sizeof out->file, "envs/%s.db", env_id);
        return 0;
    }
    if (!cluster_id_ok(where.cluster_id) || where.slot < 0)
        return bs_err_set(err, 500, "common/internal-error", "The environment's cluster cannot be located");
    snprintf(out->file, sizeof out->file, "clusters/%s.db", where.cluster_id);
    snprintf(out->prefix, sizeof out->prefix, "s%d_", where.slot);
    return 0;
}
