/* filemeter: what file storage did per environment since the server started (uploads, downloads, bytes
 * received and served), for the usage metering that reads it (design.md §4: bandwidth, file_upload,
 * file_download). The storage target adds to it; readers take a snapshot. Stored bytes are not counted
 * here: they are a gauge the file store answers (store_objects_bytes).
 * Ownership: filemeter_new/filemeter_free. Thread-safe; an add is one short critical section. At most
 * FILEMETER_ENVS environments are tracked; past that, adds for new environments go to the "other" row
 * (environment id "*") so nothing is lost in the totals. */
#ifndef BASALT_CORE_FILEMETER_H
#define BASALT_CORE_FILEMETER_H

#include <stddef.h>
#include <stdint.h>

#define FILEMETER_ENVS 4096
#define FILEMETER_ENV_ID_MAX 40

typedef struct filemeter filemeter;

typedef struct filemeter_counts {
    uint64_t uploads, downloads;
    uint64_t bytes_in, bytes_out;
} filemeter_counts;

filemeter *filemeter_new(void);
void filemeter_free(filemeter *m);
/* Adds to env's counters (each field of delta is added). */
void filemeter_add(filemeter *m, const char *env_id, const filemeter_counts *delta);
/* env's counters so far (zeros for an environment never seen). */
void filemeter_get(filemeter *m, const char *env_id, filemeter_counts *out);

#endif
