#include "store/sqlite/docs_counts.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/check.h"
#include "util/crypto.h"
#include "util/hash.h"

#define COUNT_HEAD "SELECT count(*) FROM "
#define WHERE_HEAD " WHERE "

enum { CV_NULL = 0, CV_INT, CV_DOUBLE, CV_TEXT };

typedef struct count_value {
    int type;
    int64_t i;
    double d;
    char *text;                  /* owned */
    int len;
} count_value;

struct count_shape {
    struct count_shape *next;
    int64_t id;                  /* the row of _basalt_counts: epoch << 32 | sequence */
    char table[STORE_TABLE_NAME_MAX + 1];
    char *key;                   /* owned: count SQL + values key */
    size_t key_len;
    uint64_t hash;
    char *register_sql;          /* owned: INSERT OR REPLACE INTO _basalt_counts ... SELECT ?1, count(*) ... */
    char *match_sql;             /* owned: SELECT count(*) FROM "d_T" WHERE id = ?1 AND +(<filters>) */
    count_value *values;         /* owned: the filters' values, bound from ?2 */
    int nvalues;
    int pending;                 /* registration not over yet (mutex) */
    int dead;                    /* registration failed: no row; freed by the next writer (mutex) */
    _Atomic uint64_t used;       /* last list that read it (registry tick) */
};

struct count_registry {
    pthread_mutex_t lock;
    pthread_cond_t changed;      /* a registration ended */
    count_shape *head;
    int nlive, npending;
    uint32_t epoch, next_seq;
    _Atomic uint64_t tick;
    int purged;                  /* rows of earlier processes deleted (write turn) */
};

count_registry *counts_new(void)
{
    count_registry *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->changed, NULL);
    if (crypto_random_bytes(&r->epoch, sizeof r->epoch) < 0) r->epoch = (uint32_t)time(NULL);
    r->epoch &= 0x7fffffffu; /* ids stay positive */
    return r;
}

static void shape_free(count_shape *s)
{
    if (!s) return;
    for (int i = 0; i < s->nvalues; i++) free(s->values[i].text);
    free(s->values);
    free(s->key);
    free(s->register_sql);
    free(s->match_sql);
    free(s);
}

void counts_free(count_registry *r)
{
    if (!r) return;
    for (count_shape *s = r->head, *next; s; s = next) {
        next = s->next;
        shape_free(s);
    }
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->changed);
    free(r);
}

/* ---- readers ---- */

static count_shape *find_key_locked(count_registry *r, const char *key, size_t len, uint64_t h)
{
    for (count_shape *s = r->head; s; s = s->next)
        if (!s->dead && s->hash == h && s->key_len == len && memcmp(s->key, key, len) == 0) return s;
    return NULL;
}

static count_shape *find_id_locked(count_registry *r, int64_t id)
{
    for (count_shape *s = r->head; s; s = s->next)
        if (s->id == id) return s;
    return NULL;
}

counts_state counts_find(count_registry *r, const char *key, size_t len, int64_t *id)
{
    *id = 0;
    if (!r) return COUNTS_NONE;
    uint64_t h = hash64(key, len);
    pthread_mutex_lock(&r->lock);
    count_shape *s = find_key_locked(r, key, len, h);
    counts_state state = !s ? COUNTS_NONE : s->pending ? COUNTS_PENDING : COUNTS_LIVE;
    if (s) {
        *id = s->id;
        atomic_store(&s->used, atomic_fetch_add(&r->tick, 1) + 1);
    }
    pthread_mutex_unlock(&r->lock);
    return state;
}

int counts_eligible(size_t key_len, const char *count_sql)
{
    return key_len <= COUNTS_MAX_KEY && !strstr(count_sql, "basalt_regexp(");
}

/* Owned copies of the bound values (bound the way the list binds them: booleans as integers). */
static int values_copy(count_shape *s, const docs_binds *b)
{
    s->values = calloc(b->n ? (size_t)b->n : 1, sizeof *s->values);
    if (!s->values) return -1;
    s->nvalues = b->n;
    for (int i = 0; i < b->n; i++) {
        count_value *v = &s->values[i];
        struct json_object *j = b->values[i];
        const char *text = j ? NULL : b->texts[i];
        enum json_type t = j ? json_object_get_type(j) : json_type_string;
        if (t == json_type_int || t == json_type_boolean) {
            v->type = CV_INT;
            v->i = t == json_type_int ? json_object_get_int64(j) : json_object_get_boolean(j);
        } else if (t == json_type_double) {
            v->type = CV_DOUBLE;
            v->d = json_object_get_double(j);
        } else if (t == json_type_string) {
            v->type = CV_TEXT;
            v->len = j ? json_object_get_string_len(j) : (int)strlen(text);
            if (!(v->text = malloc((size_t)v->len + 1))) return -1;
            memcpy(v->text, j ? json_object_get_string(j) : text, (size_t)v->len);
            v->text[v->len] = '\0';
        }
    }
    return 0;
}

static void values_bind(sqlite3_stmt *st, const count_shape *s, int first)
{
    for (int i = 0; i < s->nvalues; i++) {
        const count_value *v = &s->values[i];
        int idx = first + i;
        switch (v->type) {
        case CV_INT: sqlite3_bind_int64(st, idx, v->i); break;
        case CV_DOUBLE: sqlite3_bind_double(st, idx, v->d); break;
        case CV_TEXT: sqlite3_bind_text(st, idx, v->text, v->len, SQLITE_STATIC); break;
        default: sqlite3_bind_null(st, idx);
        }
    }
}

/* The registration and match statements from the count statement "SELECT count(*) FROM "d_T"[ WHERE f]".
 * In both, ?1 comes first, so the filters' own "?" number from 2 (SQLite numbers a bare "?" one above
 * the largest so far). The match puts the filters behind a unary + so that the planner reads the one
 * row through the primary key, never through an index of the filters. */
static int shape_sql(count_shape *s, const char *count_sql, size_t where_at)
{
    size_t len = strlen(count_sql), head = strlen(COUNT_HEAD);
    if (strncmp(count_sql, COUNT_HEAD, head) != 0 || where_at < head || where_at > len) return -1;
    int has_where = where_at < len;
    if (has_where && strncmp(count_sql + where_at, WHERE_HEAD, strlen(WHERE_HEAD)) != 0) return -1;
    strbuf reg, match;
    strbuf_init(&reg, 0);
    strbuf_init(&match, 0);
    strbuf_append_str(&reg, "INSERT OR REPLACE INTO _basalt_counts (id, n) SELECT ?1, count(*) FROM ");
    strbuf_append_str(&reg, count_sql + head);
    strbuf_append(&match, count_sql, where_at);
    strbuf_append_str(&match, " WHERE id = ?1");
    if (has_where) {
        strbuf_append_str(&match, " AND +(");
        strbuf_append_str(&match, count_sql + where_at + strlen(WHERE_HEAD));
        strbuf_append_char(&match, ')');
    }
    int ok = !reg.overflow && !match.overflow;
    s->register_sql = ok ? strbuf_steal(&reg, NULL) : NULL;
    s->match_sql = ok ? strbuf_steal(&match, NULL) : NULL;
    strbuf_release(&reg);
    strbuf_release(&match);
    return s->register_sql && s->match_sql ? 0 : -1;
}

static count_shape *shape_new(const char *table, const char *key, size_t len, const char *count_sql, size_t where_at,
                              const docs_binds *b)
{
    count_shape *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    snprintf(s->table, sizeof s->table, "%s", table);
    s->key = malloc(len ? len : 1);
    s->key_len = len;
    s->hash = hash64(key, len);
    s->pending = 1;
    if (s->key) memcpy(s->key, key, len);
    if (!s->key || values_copy(s, b) < 0 || shape_sql(s, count_sql, where_at) < 0) {
        shape_free(s);
        return NULL;
    }
    return s;
}

int counts_request(count_registry *r, const char *table, const char *key, size_t len, const char *count_sql,
                   size_t where_at, const docs_binds *b, int64_t *id)
{
    *id = 0;
    if (!r || !counts_eligible(len, count_sql)) return -1;
    count_shape *s = shape_new(table, key, len, count_sql, where_at, b); /* built outside the lock */
    if (!s) return -1;
    pthread_mutex_lock(&r->lock);
    count_shape *same = find_key_locked(r, key, len, s->hash);
    int added = !same && r->npending < COUNTS_MAX_PENDING;
    if (added) {
        s->id = (int64_t)r->epoch << 32 | (int64_t)++r->next_seq;
        s->next = r->head;
        r->head = s;
        r->npending++;
        *id = s->id;
    }
    pthread_mutex_unlock(&r->lock);
    if (!added) shape_free(s); /* another list asked first (it registers), or too many wait already */
    return added ? 0 : -1;
}

void counts_wait(count_registry *r, int64_t id, int ms)
{
    if (!r) return;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) { until.tv_sec++; until.tv_nsec -= 1000000000L; }
    pthread_mutex_lock(&r->lock);
    count_shape *s;
    while ((s = find_id_locked(r, id)) && s->pending)
        if (pthread_cond_timedwait(&r->changed, &r->lock, &until) != 0) break;
    pthread_mutex_unlock(&r->lock);
}

int counts_read(dconn *c, int64_t id, int64_t *n, bs_err *err)
{
    sqlite3_stmt *st = docs_stmt(c, "SELECT n FROM _basalt_counts WHERE id = ?", err);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st), rc = 0;
    if (step == SQLITE_ROW) {
        *n = sqlite3_column_int64(st, 0);
        rc = 1;
    } else if (step != SQLITE_DONE) {
        rc = docs_fail(c->db, "read total", err);
    }
    docs_stmt_done(st);
    return rc;
}

/* ---- the writer ---- */

static int row_delete(dconn *c, int64_t id, bs_err *err)
{
    sqlite3_stmt *st = docs_stmt(c, "DELETE FROM _basalt_counts WHERE id = ?", err);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : docs_fail(c->db, "delete total", err);
    docs_stmt_done(st);
    return rc;
}

/* Unlinks s (mutex held) and keeps the counters. */
static void unlink_locked(count_registry *r, count_shape *s)
{
    for (count_shape **p = &r->head; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    if (s->pending) r->npending--;
    else if (!s->dead) r->nlive--;
    s->next = NULL;
}

/* Unlinks the shapes to drop before registering keep: the dead ones, and the least recently used live
 * ones beyond COUNTS_MAX_SHAPES - 1. Returns them as a list (mutex held). */
static count_shape *evict_locked(count_registry *r, const count_shape *keep)
{
    count_shape *out = NULL;
    for (count_shape *s = r->head, *next; s; s = next) {
        next = s->next;
        if (!s->dead) continue;
        unlink_locked(r, s);
        s->next = out;
        out = s;
    }
    while (r->nlive >= COUNTS_MAX_SHAPES) {
        count_shape *lru = NULL;
        for (count_shape *s = r->head; s; s = s->next)
            if (!s->pending && s != keep && (!lru || atomic_load(&s->used) < atomic_load(&lru->used))) lru = s;
        if (!lru) break;
        unlink_locked(r, lru);
        lru->next = out;
        out = lru;
    }
    return out;
}

/* Deletes the rows of a list of unlinked shapes and frees them. */
static int drop_shapes(dconn *c, count_shape *list, bs_err *err)
{
    int rc = 0;
    for (count_shape *s = list, *next; s; s = next) {
        next = s->next;
        if (rc == 0 && c) rc = row_delete(c, s->id, err);
        shape_free(s);
    }
    return rc;
}

static int purge_old(dconn *c, count_registry *r, bs_err *err)
{
    if (r->purged) return 0;
    sqlite3_stmt *st = docs_stmt(c, "DELETE FROM _basalt_counts WHERE (id >> 32) <> ?", err);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, r->epoch);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : docs_fail(c->db, "purge totals", err);
    docs_stmt_done(st);
    if (rc == 0) r->purged = 1;
    return rc;
}

int counts_register(dconn *c, count_registry *r, int64_t id, bs_err *err)
{
    if (!r) return 0;
    pthread_mutex_lock(&r->lock);
    count_shape *s = find_id_locked(r, id);
    count_shape *evicted = s ? evict_locked(r, s) : NULL;
    pthread_mutex_unlock(&r->lock);
    if (!s) return 0; /* its table was dropped meanwhile */
    int rc = drop_shapes(c, evicted, err);
    if (rc == 0) rc = purge_old(c, r, err);
    sqlite3_stmt *st = rc == 0 ? docs_stmt(c, s->register_sql, err) : NULL;
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, s->id);
    values_bind(st, s, 2);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : docs_fail(c->db, "count a total", err);
    docs_stmt_done(st);
    return rc;
}

void counts_registered(count_registry *r, int64_t id, int ok)
{
    if (!r) return;
    pthread_mutex_lock(&r->lock);
    count_shape *s = find_id_locked(r, id);
    if (s && s->pending) {
        s->pending = 0;
        r->npending--;
        if (ok) r->nlive++;
        else s->dead = 1; /* no row: the next list asks again */
    }
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->lock);
}

void counts_probe_begin(count_registry *r, const char *table, counts_probe *p)
{
    p->n = 0;
    if (!r) return;
    pthread_mutex_lock(&r->lock);
    for (count_shape *s = r->head; s && p->n < COUNTS_PROBE_MAX; s = s->next) {
        if (s->dead || strcmp(s->table, table) != 0) continue;
        p->delta[p->n] = 0;
        p->shapes[p->n++] = s;
    }
    pthread_mutex_unlock(&r->lock);
}

int counts_probe_row(dconn *c, counts_probe *p, const char *id, int sign, bs_err *err)
{
    for (int i = 0; i < p->n; i++) {
        sqlite3_stmt *st = docs_stmt(c, p->shapes[i]->match_sql, err);
        if (!st) return -1;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        values_bind(st, p->shapes[i], 2);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) p->delta[i] += sign * sqlite3_column_int(st, 0);
        docs_stmt_done(st);
        if (step != SQLITE_ROW) return docs_fail(c->db, "match a total", err);
    }
    return 0;
}

int counts_probe_apply(dconn *c, counts_probe *p, bs_err *err)
{
    for (int i = 0; i < p->n; i++) {
        if (p->delta[i] == 0) continue;
        sqlite3_stmt *st = docs_stmt(c, "UPDATE _basalt_counts SET n = n + ?2 WHERE id = ?1", err);
        if (!st) return -1;
        sqlite3_bind_int64(st, 1, p->shapes[i]->id);
        sqlite3_bind_int(st, 2, p->delta[i]);
        int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : docs_fail(c->db, "keep a total", err);
        docs_stmt_done(st);
        if (rc < 0) return -1;
    }
    return 0;
}

int counts_forget_table(dconn *c, count_registry *r, const char *table, bs_err *err)
{
    if (!r) return 0;
    count_shape *gone = NULL;
    pthread_mutex_lock(&r->lock);
    for (count_shape *s = r->head, *next; s; s = next) {
        next = s->next;
        if (strcmp(s->table, table) != 0) continue;
        unlink_locked(r, s);
        s->next = gone;
        gone = s;
    }
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->lock);
    return drop_shapes(c, gone, err);
}

void counts_clear(count_registry *r)
{
    if (!r) return;
    pthread_mutex_lock(&r->lock);
    count_shape *all = r->head;
    r->head = NULL;
    r->nlive = r->npending = 0;
    r->purged = 0;
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->lock);
    drop_shapes(NULL, all, NULL);
}
