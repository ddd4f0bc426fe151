#include "core/querystats.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/hash.h"

/* Not util/cache: statistics accumulate in place under the stripe lock (no copy in or out), a new shape
 * replaces the least recently seen one of an 8-slot probe window (not a direct-mapped collision) and
 * there is no TTL; reading scans every slot by key prefix. */
#define QS_BUCKETS 96      /* bucket b holds times around 2^(b/4) us: up to ~16 s */
#define QS_LOCKS 64
#define QS_PROBE 8         /* slots looked at for a shape */
#define QS_KEY_MAX (64 + 1 + 65 + 1 + QUERYSTATS_SHAPE_MAX)

typedef struct qs_slot {
    char key[QS_KEY_MAX];  /* env \t table \t shape; "" = empty */
    uint64_t hash;
    int64_t count, total_us, scanned, returned, last_ms;
    uint32_t hist[QS_BUCKETS];
    int index_version;     /* of the index below; -1 unknown */
    char index[65];
    int full_scan;
} qs_slot;

struct querystats {
    pthread_mutex_t locks[QS_LOCKS];
    qs_slot *slots;
};

querystats *querystats_new(void)
{
    querystats *qs = calloc(1, sizeof *qs);
    if (!qs || !(qs->slots = calloc(QUERYSTATS_SLOTS, sizeof *qs->slots))) {
        free(qs);
        return NULL;
    }
    for (int i = 0; i < QS_LOCKS; i++) pthread_mutex_init(&qs->locks[i], NULL);
    return qs;
}

void querystats_free(querystats *qs)
{
    if (!qs) return;
    for (int i = 0; i < QS_LOCKS; i++) pthread_mutex_destroy(&qs->locks[i]);
    free(qs->slots);
    free(qs);
}

/* ---- shapes ---- */

static const char *const op_text[] = {"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$regex", "$exists"};

static void group_shape(const query_plan *plan, const query_group *g, strbuf *out)
{
    for (size_t i = 0; i < g->count; i++) {
        const query_cond *c = &plan->conds[g->first + i];
        strbuf_appendf(out, "%s%s %s", i ? ", " : "", c->field.path, op_text[c->op]);
    }
}

static void groups_shape(const query_plan *plan, const char *name, const query_group *groups, size_t n, strbuf *out)
{
    if (!n) return;
    strbuf_appendf(out, "%s(", name);
    for (size_t i = 0; i < n; i++) {
        if (i) strbuf_append_str(out, " | ");
        group_shape(plan, &groups[i], out);
    }
    strbuf_append_str(out, ") ");
}

void querystats_shape(const query_plan *plan, int self, strbuf *out)
{
    size_t start = out->len;
    groups_shape(plan, "and", &plan->and_group, plan->and_group.count ? 1 : 0, out);
    groups_shape(plan, "or", plan->or_groups, plan->nor, out);
    groups_shape(plan, "rows", plan->row_groups, plan->nrow, out);
    if (plan->search[0]) strbuf_appendf(out, "search(%s) ", plan->has_search_field ? plan->search_field.path : "*");
    if (self) strbuf_append_str(out, "self ");
    strbuf_appendf(out, "sort(%s%s)", plan->sort_desc ? "-" : "", plan->sort.path);
    if (out->len - start > QUERYSTATS_SHAPE_MAX) { /* keep shapes bounded: a long tail is cut */
        out->len = start + QUERYSTATS_SHAPE_MAX;
        out->data[out->len] = '\0';
    }
}

/* ---- slots ---- */

static int make_key(char *key, const char *env_id, const char *table, const char *shape)
{
    int n = snprintf(key, QS_KEY_MAX, "%s\t%s\t%s", env_id, table, shape);
    return n > 0 && n < QS_KEY_MAX ? 0 : -1;
}

/* The slot of key (found, or claimed: the empty or least recently seen one of the window). The lock of
 * the window's first slot must be held; windows never straddle a lock (QS_PROBE divides the stripe). */
static qs_slot *slot_for(querystats *qs, const char *key, uint64_t h, int claim)
{
    size_t base = (size_t)(h % (QUERYSTATS_SLOTS / QS_PROBE)) * QS_PROBE;
    qs_slot *victim = NULL;
    for (size_t i = 0; i < QS_PROBE; i++) {
        qs_slot *s = &qs->slots[base + i];
        if (s->key[0] && s->hash == h && strcmp(s->key, key) == 0) return s;
        if (!s->key[0]) { /* an empty slot beats any used one */
            if (!victim || victim->key[0]) victim = s;
        } else if (!victim || (victim->key[0] && s->last_ms < victim->last_ms)) {
            victim = s;
        }
    }
    if (!claim) return NULL;
    memset(victim, 0, sizeof *victim);
    snprintf(victim->key, sizeof victim->key, "%s", key);
    victim->hash = h;
    victim->index_version = -1;
    return victim;
}

static pthread_mutex_t *lock_for(querystats *qs, uint64_t h)
{
    size_t window = (size_t)(h % (QUERYSTATS_SLOTS / QS_PROBE));
    return &qs->locks[window % QS_LOCKS];
}

static int bucket_of(int64_t us)
{
    if (us < 1) return 0;
    int b = (int)(4.0 * log2((double)us));
    return b < 0 ? 0 : b >= QS_BUCKETS ? QS_BUCKETS - 1 : b;
}

/* The slot of (env_id, table, shape) with its stripe locked (*lock: unlock it when done); NULL with nothing
 * locked when the key is too long or qs is NULL; NULL with *lock held when there is no such slot (claim 0). */
static qs_slot *slot_locked(querystats *qs, const char *env_id, const char *table, const char *shape, int claim,
                            pthread_mutex_t **lock)
{
    char key[QS_KEY_MAX];
    *lock = NULL;
    if (!qs || make_key(key, env_id, table, shape) < 0) return NULL;
    uint64_t h = hash64_str(key);
    *lock = lock_for(qs, h);
    pthread_mutex_lock(*lock);
    return slot_for(qs, key, h, claim);
}

int querystats_record(querystats *qs, const char *env_id, const char *table, const char *shape, int64_t us,
                      int64_t scanned, int64_t returned, int index_version)
{
    pthread_mutex_t *lock;
    qs_slot *s = slot_locked(qs, env_id, table, shape, 1, &lock);
    if (!lock) return 0;
    s->count++;
    s->total_us += us;
    s->scanned += scanned;
    s->returned += returned;
    s->hist[bucket_of(us)]++;
    s->last_ms = clock_now_ms();
    int need = s->index_version != index_version;
    pthread_mutex_unlock(lock);
    return need;
}

void querystats_set_index(querystats *qs, const char *env_id, const char *table, const char *shape,
                          int index_version, const char *index, int full_scan)
{
    pthread_mutex_t *lock;
    qs_slot *s = slot_locked(qs, env_id, table, shape, 0, &lock);
    if (!lock) return;
    if (s) {
        s->index_version = index_version;
        snprintf(s->index, sizeof s->index, "%s", index ? index : "");
        s->full_scan = full_scan;
    }
    pthread_mutex_unlock(lock);
}

int querystats_scans(querystats *qs, const char *env_id, const char *table, const char *shape, int index_version)
{
    pthread_mutex_t *lock;
    qs_slot *s = slot_locked(qs, env_id, table, shape, 0, &lock);
    if (!lock) return 0;
    int scans = !s || s->index_version != index_version || s->full_scan;
    pthread_mutex_unlock(lock);
    return scans;
}

/* ---- reading ---- */

static double p95_ms(const qs_slot *s)
{
    int64_t want = (s->count * 95 + 99) / 100, seen = 0;
    for (int b = 0; b < QS_BUCKETS; b++) {
        seen += s->hist[b];
        if (seen >= want) return pow(2.0, (b + 1) / 4.0) / 1000.0; /* the bucket's upper bound */
    }
    return 0;
}

static int by_count_desc(const void *a, const void *b)
{
    int64_t x = json_object_get_int64(json_object_object_get(*(struct json_object *const *)a, "count"));
    int64_t y = json_object_get_int64(json_object_object_get(*(struct json_object *const *)b, "count"));
    return x < y ? 1 : x > y ? -1 : 0;
}

/* A number with at most `decimals` decimals, written without trailing zeros ("0.143", "1", "2.5"). */
static struct json_object *short_number(double v, int decimals)
{
    char text[48];
    snprintf(text, sizeof text, "%.*f", decimals, v);
    char *dot = strchr(text, '.');
    if (dot) {
        char *end = text + strlen(text) - 1;
        while (end > dot && *end == '0') *end-- = '\0';
        if (end == dot) *end = '\0';
    }
    return json_object_new_double_s(strtod(text, NULL), text);
}

static struct json_object *slot_json(const qs_slot *s, const char *shape)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "shape", json_object_new_string(shape));
    json_object_object_add(o, "count", json_object_new_int64(s->count));
    json_object_object_add(o, "meanMs", short_number((double)s->total_us / (double)s->count / 1000.0, 3));
    json_object_object_add(o, "p95Ms", short_number(p95_ms(s), 3));
    double per = (double)(s->scanned + s->returned) / (double)(s->returned ? s->returned : 1);
    json_object_object_add(o, "rowsScannedPerRowReturned", short_number(per, 2));
    json_object_object_add(o, "index", s->index_version >= 0 && s->index[0] ? json_object_new_string(s->index) : NULL);
    json_object_object_add(o, "fullScan", json_object_new_boolean(s->full_scan));
    char iso[CLOCK_ISO_LEN];
    clock_iso8601(s->last_ms, iso);
    json_object_object_add(o, "lastSeen", json_object_new_string(iso));
    return o;
}

struct json_object *querystats_json(querystats *qs, const char *env_id, const char *table)
{
    char prefix[QS_KEY_MAX];
    int n = snprintf(prefix, sizeof prefix, "%s\t%s\t", env_id, table);
    struct json_object *items = json_object_new_array();
    for (size_t i = 0; qs && n > 0 && i < QUERYSTATS_SLOTS; i++) {
        qs_slot *s = &qs->slots[i];
        pthread_mutex_t *lock = &qs->locks[(i / QS_PROBE) % QS_LOCKS];
        pthread_mutex_lock(lock);
        if (s->key[0] && strncmp(s->key, prefix, (size_t)n) == 0 && s->count)
            json_object_array_add(items, slot_json(s, s->key + n));
        pthread_mutex_unlock(lock);
    }
    json_object_array_sort(items, by_count_desc);
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "items", items);
    return out;
}
