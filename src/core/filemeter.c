/* filemeter: per-environment file counters in an open-addressing table under one mutex. */
#include "core/filemeter.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

typedef struct meter_row {
    char env[FILEMETER_ENV_ID_MAX];
    filemeter_counts c;
} meter_row;

struct filemeter {
    pthread_mutex_t lock;
    size_t used;
    meter_row other;               /* environments past the table's capacity */
    meter_row rows[FILEMETER_ENVS * 2];
};

filemeter *filemeter_new(void)
{
    filemeter *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    pthread_mutex_init(&m->lock, NULL);
    snprintf(m->other.env, sizeof m->other.env, "*");
    return m;
}

void filemeter_free(filemeter *m)
{
    if (!m) return;
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* The row of env: found, created when there is room (create), else NULL. Called with the lock held. */
static meter_row *row_of(filemeter *m, const char *env, int create)
{
    size_t cap = sizeof m->rows / sizeof m->rows[0];
    for (size_t i = hash64_str(env) % cap, n = 0; n < cap; i = (i + 1) % cap, n++) {
        meter_row *r = &m->rows[i];
        if (!r->env[0]) {
            if (!create || m->used >= FILEMETER_ENVS) return NULL;
            snprintf(r->env, sizeof r->env, "%s", env);
            m->used++;
            return r;
        }
        if (!strcmp(r->env, env)) return r;
    }
    return NULL;
}

void filemeter_add(filemeter *m, const char *env_id, const filemeter_counts *d)
{
    if (!m || !env_id || strlen(env_id) >= FILEMETER_ENV_ID_MAX) return;
    pthread_mutex_lock(&m->lock);
    meter_row *r = row_of(m, env_id, 1);
    if (!r) r = &m->other;
    r->c.uploads += d->uploads;
    r->c.downloads += d->downloads;
    r->c.bytes_in += d->bytes_in;
    r->c.bytes_out += d->bytes_out;
    pthread_mutex_unlock(&m->lock);
}

void filemeter_get(filemeter *m, const char *env_id, filemeter_counts *out)
{
    memset(out, 0, sizeof *out);
    if (!m || !env_id) return;
    pthread_mutex_lock(&m->lock);
    meter_row *r = strcmp(env_id, "*") ? row_of(m, env_id, 0) : &m->other;
    if (r) *out = r->c;
    pthread_mutex_unlock(&m->lock);
}
