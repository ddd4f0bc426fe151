/* querystats: what the lists of each table cost, per query shape (management API query-stats).
 *
 * A shape is a list request with its values stripped: the filter fields and operators of andFilters,
 * orFilters and row filters, the search field, the sort and whether the self filter applied; e.g.
 * "and(status $eq) sort(-createdAt)". For each (environment, table, shape) it keeps the count, total and
 * p95 time (from a histogram of quarter-octave buckets: within 19 %), rows the database stepped through
 * in full scans and rows answered, and the index the shape uses (found once per shape and index version
 * with EXPLAIN, by the caller).
 *
 * Bounded: QUERYSTATS_SLOTS shapes in all; a new shape replaces the least recently seen one in its
 * probe window. Recording takes one striped mutex and no allocation when the shape is known.
 * Ownership: querystats_new / querystats_free. Thread-safe. */
#ifndef BASALT_CORE_QUERYSTATS_H
#define BASALT_CORE_QUERYSTATS_H

#include <json-c/json.h>
#include <stdint.h>

#include "core/query.h"
#include "util/strbuf.h"

#define QUERYSTATS_SLOTS 4096
#define QUERYSTATS_SHAPE_MAX 512

typedef struct querystats querystats;

querystats *querystats_new(void);
void querystats_free(querystats *qs);

/* Appends the shape text of plan (self: the owner filter applied). */
void querystats_shape(const query_plan *plan, int self, strbuf *out);

/* One list: time in microseconds, rows stepped through by full scans, rows answered. Returns 1 when the
 * shape's index is unknown for this index_version (the caller should explain it and call
 * querystats_set_index), else 0. */
int querystats_record(querystats *qs, const char *env_id, const char *table, const char *shape, int64_t us,
                      int64_t scanned, int64_t returned, int index_version);
void querystats_set_index(querystats *qs, const char *env_id, const char *table, const char *shape,
                          int index_version, const char *index, int full_scan);
/* 1 unless the shape's last explain under index_version found an index serving it: the lists whose rows
 * stepped through are worth measuring where measuring costs (PostgreSQL). 0 when qs is NULL. */
int querystats_scans(querystats *qs, const char *env_id, const char *table, const char *shape, int index_version);

/* {items: [{shape, count, meanMs, p95Ms, rowsScannedPerRowReturned, index, fullScan, lastSeen}]} of one
 * table, most frequent first (a new reference). */
struct json_object *querystats_json(querystats *qs, const char *env_id, const char *table);

#endif
