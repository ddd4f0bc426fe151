/* docs_pg_counts: list totals kept by the writes on PostgreSQL (see docs_pg_counts.h). */
#include "store/postgres/docs_pg_counts.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/check.h"
#include "util/clock.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/strbuf.h"

#define HINTS 256                 /* shapes this process remembers something about */
#define RETRY_MS 5000             /* a failed registration is not tried again sooner */
#define TOUCH_MS 60000            /* used_at is written at most this often per shape and process */
#define TRIGGER_PREFIX "_basalt_count_"
#define STMT_MAX (DOCS_PG_COUNTS_KEY_MAX + 1024)

/* ---- the schema (catalog part, version 2; search_path is the environment's schema) ---- */

const char *const docs_pg_counts_schema[DOCS_PG_COUNTS_SCHEMA_N] = {
    "CREATE TABLE _basalt_count_shapes (id BIGINT PRIMARY KEY, tbl TEXT COLLATE \"C\" NOT NULL,"
    " where_sql TEXT NOT NULL, used_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    "CREATE INDEX _basalt_count_shapes_tbl ON _basalt_count_shapes (tbl, used_at)",
    "CREATE TABLE _basalt_count_slots (shape BIGINT NOT NULL, slot INTEGER NOT NULL, n BIGINT NOT NULL,"
    " PRIMARY KEY (shape, slot))",
    /* The statement trigger of every records table with shapes (TG_ARGV[0]: the table's API name). Its
     * queries run with the search_path of its creation (the schema) and read the shapes in a snapshot
     * taken after the write's statement locked the table (READ COMMITTED). */
    "CREATE FUNCTION _basalt_count_touch() RETURNS trigger LANGUAGE plpgsql"
    " SET search_path FROM CURRENT SET standard_conforming_strings = on AS $touch$\n"
    "DECLARE s record; d bigint;\n"
    "BEGIN\n"
    "  FOR s IN SELECT id, where_sql FROM _basalt_count_shapes WHERE tbl = TG_ARGV[0] LOOP\n"
    "    IF TG_OP = 'INSERT' THEN\n"
    "      EXECUTE 'SELECT count(*) FROM _basalt_new' || s.where_sql INTO d;\n"
    "    ELSIF TG_OP = 'DELETE' THEN\n"
    "      EXECUTE 'SELECT -count(*) FROM _basalt_old' || s.where_sql INTO d;\n"
    "    ELSE\n" /* one statement to plan for both sides */
    "      EXECUTE 'SELECT (SELECT count(*) FROM _basalt_new' || s.where_sql || ') - (SELECT count(*) FROM _basalt_old'\n"
    "        || s.where_sql || ')' INTO d;\n"
    "    END IF;\n"
    "    IF d <> 0 THEN\n"
    "      INSERT INTO _basalt_count_slots AS t (shape, slot, n) VALUES (s.id, pg_backend_pid() % 16, d)\n"
    "        ON CONFLICT (shape, slot) DO UPDATE SET n = t.n + EXCLUDED.n;\n"
    "    END IF;\n"
    "  END LOOP;\n"
    "  RETURN NULL;\n"
    "END $touch$",
};

_Static_assert(DOCS_PG_COUNTS_SLOTS == 16, "the trigger function spells the slot count");

/* ---- this process's hints ---- */

typedef struct hint {
    uint64_t key;                 /* 0: free */
    int64_t tried_ms;             /* last registration attempt */
    int64_t touched_ms;           /* last used_at write */
    int busy;                     /* a thread is registering it */
} hint;

struct docs_pg_counts {
    pthread_mutex_t lock;
    hint hints[HINTS];
};

docs_pg_counts *docs_pg_counts_new(void)
{
    docs_pg_counts *k = calloc(1, sizeof *k);
    if (k) pthread_mutex_init(&k->lock, NULL);
    return k;
}

void docs_pg_counts_free(docs_pg_counts *k)
{
    if (!k) return;
    pthread_mutex_destroy(&k->lock);
    free(k);
}

int64_t docs_pg_counts_shape_id(const char *table, const char *where_lit)
{
    return (int64_t)(hash64_str_seeded(where_lit, hash64_str(table)) >> 1);
}


/* The hint of a shape of one database and schema (claimed when another shape had its place). */
static hint *hint_locked(docs_pg_counts *k, const docs_pg_env *env, int64_t id)
{
    uint64_t key = hash64_str_seeded(env->schema, (uint64_t)(uintptr_t)env->pool ^ (uint64_t)id) | 1;
    hint *h = &k->hints[key % HINTS];
    if (h->key != key) *h = (hint){.key = key};
    return h;
}

/* ---- statements ---- */

/* Appends "<schema>".<name>. */
static void schema_obj(strbuf *sql, const docs_pg_env *env, const char *name)
{
    strbuf_appendf(sql, "\"%s\".%s", env->schema, name);
}

static PGresult *exec(const docs_pg_env *env, PGconn *c, const char *what, const strbuf *sql, int n,
                      const char *const *params, bs_err *err)
{
    if (sql->overflow) {
        bs_err_internal(err);
        return NULL;
    }
    return pg_exec(env->pool, c, what, sql->data, n, params, err);
}

static int command(const docs_pg_env *env, PGconn *c, const char *what, const strbuf *sql, int n,
                   const char *const *params, bs_err *err)
{
    PGresult *r = exec(env, c, what, sql, n, params, err);
    PQclear(r);
    return r ? 0 : -1;
}

void docs_pg_counts_kept_sql(strbuf *sql, const docs_pg_env *env, const char *id_param, const char *text_param)
{
    strbuf_append_str(sql, "(SELECT (SELECT sum(n) FROM ");
    schema_obj(sql, env, "_basalt_count_slots");
    strbuf_append_str(sql, " WHERE shape = s.id) FROM ");
    schema_obj(sql, env, "_basalt_count_shapes s");
    strbuf_appendf(sql, " WHERE s.id = %s AND s.where_sql = %s)", id_param, text_param);
}

int docs_pg_counts_read(const docs_pg_env *env, PGconn *c, const char *table, const char *where_lit, int64_t *total,
                        bs_err *err)
{
    char idt[PG_INT64_TEXT];
    const char *params[] = {pg_fmt_int64(idt, docs_pg_counts_shape_id(table, where_lit)), where_lit};
    strbuf sql;
    strbuf_init(&sql, STMT_MAX);
    strbuf_append_str(&sql, "SELECT ");
    docs_pg_counts_kept_sql(&sql, env, "$1::bigint", "$2::text");
    PGresult *r = exec(env, c, "kept total", &sql, 2, params, err);
    strbuf_release(&sql);
    if (!r) return -1;
    int kept = PQntuples(r) == 1 && !pg_null(r, 0, 0);
    if (kept) *total = pg_i64(r, 0, 0);
    PQclear(r);
    return kept;
}

int docs_pg_counts_drop_table(const docs_pg_env *env, PGconn *c, const char *table, bs_err *err)
{
    const char *params[] = {table};
    strbuf sql;
    strbuf_init(&sql, STMT_MAX);
    strbuf_append_str(&sql, "WITH gone AS (DELETE FROM ");
    schema_obj(&sql, env, "_basalt_count_shapes");
    strbuf_append_str(&sql, " WHERE tbl = $1 RETURNING id) DELETE FROM ");
    schema_obj(&sql, env, "_basalt_count_slots");
    strbuf_append_str(&sql, " WHERE shape IN (SELECT id FROM gone)");
    int rc = command(env, c, "drop kept totals", &sql, 1, params, err);
    strbuf_release(&sql);
    return rc;
}

/* ---- registering a shape (one transaction on c) ---- */

/* The number a one-row, one-column statement answers (-1 on error). */
static int64_t scalar(const docs_pg_env *env, PGconn *c, const char *what, const strbuf *sql, int n,
                      const char *const *params, bs_err *err)
{
    PGresult *r = exec(env, c, what, sql, n, params, err);
    int64_t v = r && PQntuples(r) == 1 ? pg_i64(r, 0, 0) : -1;
    PQclear(r);
    return v;
}

/* The table's three statement triggers, made when missing (the table is locked against writes). */
static int triggers_make(const docs_pg_env *env, PGconn *c, const char *table, const char *rel, bs_err *err)
{
    strbuf sql;
    const char *params[] = {rel};
    strbuf_init(&sql, STMT_MAX);
    strbuf_append_str(&sql, "SELECT count(*) FROM pg_trigger WHERE tgrelid = to_regclass($1)"
                            " AND starts_with(tgname, '" TRIGGER_PREFIX "')");
    int64_t have = scalar(env, c, "kept total triggers", &sql, 1, params, err);
    static const char *const kinds[][3] = {
        {"ins", "INSERT", "NEW TABLE AS _basalt_new"},
        {"upd", "UPDATE", "OLD TABLE AS _basalt_old NEW TABLE AS _basalt_new"},
        {"del", "DELETE", "OLD TABLE AS _basalt_old"},
    };
    int rc = have < 0 ? -1 : 0;
    for (size_t i = 0; rc == 0 && have < 3 && i < 3; i++) {
        strbuf_reset(&sql);
        strbuf_appendf(&sql, "CREATE OR REPLACE TRIGGER " TRIGGER_PREFIX "%s AFTER %s ON %s REFERENCING %s"
                             " FOR EACH STATEMENT EXECUTE FUNCTION ", kinds[i][0], kinds[i][1], rel, kinds[i][2]);
        schema_obj(&sql, env, "_basalt_count_touch('");
        strbuf_append_str(&sql, table); /* checked: [A-Za-z0-9_-] (docs_pg_table_ok) */
        strbuf_append_str(&sql, "')");
        rc = command(env, c, "kept total trigger", &sql, 0, NULL, err);
    }
    strbuf_release(&sql);
    return rc;
}

/* Makes room for one more shape of table: the least recently used ones of the same table go (their
 * counter rows are written only by writers of this table, which the lock holds back). 1 when there is
 * room, 0 when the environment is full with other tables' shapes. */
static int room_make(const docs_pg_env *env, PGconn *c, const char *table, bs_err *err)
{
    char cap[PG_INT64_TEXT];
    const char *params[] = {table, pg_fmt_int64(cap, DOCS_PG_COUNTS_PER_TABLE - 1)};
    strbuf sql;
    strbuf_init(&sql, STMT_MAX);
    strbuf_append_str(&sql, "WITH gone AS (DELETE FROM ");
    schema_obj(&sql, env, "_basalt_count_shapes");
    strbuf_append_str(&sql, " WHERE id IN (SELECT id FROM ");
    schema_obj(&sql, env, "_basalt_count_shapes");
    strbuf_append_str(&sql, " WHERE tbl = $1 ORDER BY used_at DESC, id OFFSET $2::bigint) RETURNING id) DELETE FROM ");
    schema_obj(&sql, env, "_basalt_count_slots");
    strbuf_append_str(&sql, " WHERE shape IN (SELECT id FROM gone)");
    int rc = command(env, c, "kept total evict", &sql, 2, params, err);
    int64_t n = -1;
    if (rc == 0) {
        strbuf_reset(&sql);
        strbuf_append_str(&sql, "SELECT count(*) FROM ");
        schema_obj(&sql, env, "_basalt_count_shapes");
        n = scalar(env, c, "kept totals", &sql, 0, NULL, err);
    }
    strbuf_release(&sql);
    return n < 0 ? -1 : n < DOCS_PG_COUNTS_PER_ENV;
}

/* Counts the shape's matches into its slot 0 and inserts it (stale counter rows of the same id, left by a
 * writer of a dropped table of the same name, deleted first). */
static int shape_insert(const docs_pg_env *env, PGconn *c, const char *table, const char *rel, const char *where_lit,
                        const char *idt, bs_err *err)
{
    const char *params[] = {idt, table, where_lit};
    strbuf sql;
    strbuf_init(&sql, STMT_MAX);
    strbuf_append_str(&sql, "DELETE FROM ");
    schema_obj(&sql, env, "_basalt_count_slots");
    strbuf_append_str(&sql, " WHERE shape = $1::bigint");
    int rc = command(env, c, "kept total", &sql, 1, params, err);
    if (rc == 0) {
        strbuf_reset(&sql);
        strbuf_append_str(&sql, "INSERT INTO ");
        schema_obj(&sql, env, "_basalt_count_slots");
        strbuf_append_str(&sql, " (shape, slot, n) SELECT $1::bigint, 0, count(*) FROM ");
        strbuf_append_str(&sql, rel);
        strbuf_append_str(&sql, where_lit); /* the list's WHERE, its values as literals (docs_pg_sql.c) */
        rc = command(env, c, "kept total count", &sql, 1, params, err);
    }
    if (rc == 0) {
        strbuf_reset(&sql);
        strbuf_append_str(&sql, "INSERT INTO ");
        schema_obj(&sql, env, "_basalt_count_shapes");
        strbuf_append_str(&sql, " (id, tbl, where_sql) VALUES ($1::bigint, $2, $3)");
        rc = command(env, c, "kept total shape", &sql, 3, params, err);
    }
    strbuf_release(&sql);
    return rc;
}

static int register_on(const docs_pg_env *env, PGconn *c, const char *table, const char *rel, const char *where_lit,
                       int64_t id, bs_err *err)
{
    char idt[PG_INT64_TEXT];
    const char *params[] = {pg_fmt_int64(idt, id)};
    strbuf sql;
    strbuf_init(&sql, STMT_MAX);
    strbuf_append_str(&sql, "SET LOCAL lock_timeout = 2000");
    int rc = command(env, c, "kept total", &sql, 0, NULL, err);
    if (rc == 0) { /* waits for the writes in flight, holds back the next ones until COMMIT */
        strbuf_reset(&sql);
        strbuf_append_str(&sql, "LOCK TABLE ");
        strbuf_append_str(&sql, rel);
        strbuf_append_str(&sql, " IN SHARE ROW EXCLUSIVE MODE");
        rc = command(env, c, "kept total lock", &sql, 0, NULL, err);
    }
    int64_t exists = -1;
    if (rc == 0) { /* registered meanwhile (by another process), or a hash collision: nothing to do */
        strbuf_reset(&sql);
        strbuf_append_str(&sql, "SELECT count(*) FROM ");
        schema_obj(&sql, env, "_basalt_count_shapes");
        strbuf_append_str(&sql, " WHERE id = $1::bigint");
        exists = scalar(env, c, "kept total", &sql, 1, params, err);
    }
    strbuf_release(&sql);
    if (exists != 0) return exists < 0 ? -1 : 0;
    int room = room_make(env, c, table, err);
    if (room <= 0) return room;
    if (triggers_make(env, c, table, rel, err) < 0) return -1;
    return shape_insert(env, c, table, rel, where_lit, idt, err);
}

static int shape_register(const docs_pg_env *env, PGconn *c, const char *table, const char *rel, const char *where_lit,
                          int64_t id)
{
    bs_err err = {0};
    int rc = pg_begin(env->pool, c, &err);
    if (rc == 0 && register_on(env, c, table, rel, where_lit, id, &err) < 0) {
        pg_rollback(c);
        rc = -1;
    } else if (rc == 0) {
        rc = pg_commit(env->pool, c, &err);
    }
    if (rc < 0) log_warn("postgres: a list total was not kept (table %s): %s", table, err.message);
    return rc;
}

static void shape_touch(const docs_pg_env *env, PGconn *c, int64_t id)
{
    bs_err err = {0};
    char idt[PG_INT64_TEXT];
    const char *params[] = {pg_fmt_int64(idt, id)};
    strbuf sql;
    strbuf_init(&sql, STMT_MAX);
    strbuf_append_str(&sql, "UPDATE ");
    schema_obj(&sql, env, "_basalt_count_shapes");
    strbuf_append_str(&sql, " SET used_at = now() WHERE id = $1::bigint");
    command(env, c, "kept total used", &sql, 1, params, &err);
    strbuf_release(&sql);
}

void docs_pg_counts_after_list(const docs_pg_env *env, PGconn *c, const char *table, const char *rel,
                               const char *where_lit, int kept)
{
    docs_pg_counts *k = env->counts;
    if (!k) return;
    int64_t id = docs_pg_counts_shape_id(table, where_lit), now = clock_now_ms();
    pthread_mutex_lock(&k->lock);
    hint *h = hint_locked(k, env, id);
    int go = kept ? now - h->touched_ms >= TOUCH_MS : !h->busy && now - h->tried_ms >= RETRY_MS;
    if (go && kept) h->touched_ms = now;
    if (go && !kept) h->busy = 1, h->tried_ms = now;
    uint64_t key = h->key;
    pthread_mutex_unlock(&k->lock);
    if (!go) return;
    if (kept) {
        shape_touch(env, c, id);
        return;
    }
    shape_register(env, c, table, rel, where_lit, id);
    pthread_mutex_lock(&k->lock);
    if (h->key == key) h->busy = 0;
    pthread_mutex_unlock(&k->lock);
}
