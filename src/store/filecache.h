/* filecache: a bounded on-disk cache of derived files (image variants), by name. Names are made by the
 * caller from [0-9a-z.] (a hash and an extension). Writes are atomic (temporary file + rename); when the
 * total passes the bound the least recently written files go first, down to 90 % of it. The total is
 * counted at start-up from what is on disk. Ownership: store_filecache_new/_free. Thread-safe. */
#ifndef BASALT_STORE_FILECACHE_H
#define BASALT_STORE_FILECACHE_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct store_filecache store_filecache;

store_filecache *store_filecache_new(const char *dir, uint64_t max_bytes, bs_err *err);
void store_filecache_free(store_filecache *c);
/* An open descriptor of name (the caller closes it) and its size, or -1 when it is not cached. */
int store_filecache_open(store_filecache *c, const char *name, uint64_t *size);
/* Stores data under name (best effort: a failure is logged and returns -1). */
int store_filecache_put(store_filecache *c, const char *name, const void *data, size_t len);
/* Bytes held now. */
uint64_t store_filecache_bytes(store_filecache *c);

#endif
