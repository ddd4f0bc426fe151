/* docs_move: see docs_move.h. Everything goes through the drivers' ops on the two sides (the source that
 * serves the environment, the target pinned for the move): tables through table_create / indexes_change,
 * rows through rows_export / rows_import (store/docs_rows.h). */
#include "store/docs_move.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/docs_driver.h"
#include "store/docs_rows.h"
#include "util/log.h"

#define MOVE_PAGE 500                 /* records read and written per step */
#define MOVE_ENV_ID_MAX 64

struct store_docs_move {
    store_docs *docs;
    char env_id[MOVE_ENV_ID_MAX];
    store_docs_side src, dst;
    int blocked, switched;
    int64_t done, total;
    store_docs_move_hooks hooks;
};

store_docs_move *store_docs_move_new(store_docs *docs, const char *env_id, const store_env_location *target,
                                     const store_docs_move_hooks *hooks, bs_err *err)
{
    if (!target->url[0]) {
        bs_err_set(err, 400, "common/invalid-parameters", "An environment moves to a cluster on a database server");
        return NULL;
    }
    store_docs_move *m = calloc(1, sizeof *m);
    if (!m) {
        bs_err_internal(err);
        return NULL;
    }
    m->docs = docs;
    snprintf(m->env_id, sizeof m->env_id, "%s", env_id);
    if (hooks) m->hooks = *hooks;
    if (store_docs_route_pin(docs, env_id, target, &m->src, &m->dst, err) < 0) {
        free(m);
        return NULL;
    }
    bs_err ignored; /* what an earlier failed move may have left there */
    m->dst.ops->env_drop(m->dst.driver, env_id, &ignored);
    return m;
}

static void progress(store_docs_move *m, int64_t rows)
{
    m->done += rows;
    if (m->done > m->total) m->total = m->done;
    if (m->hooks.progress) m->hooks.progress(m->hooks.ctx, m->done, m->total);
}

/* Copies the records of table from after (NULL: all), a page at a time. */
static int records_copy(store_docs_move *m, const char *table, bs_err *err)
{
    char after[STORE_RECORD_ID_MAX + 1] = "";
    for (;;) {
        struct json_object *rows = NULL;
        if (m->src.ops->rows_export(m->src.driver, m->env_id, table, after[0] ? after : NULL, NULL, MOVE_PAGE, &rows,
                                    err) < 0)
            return -1;
        size_t n = json_object_array_length(rows);
        int rc = n ? m->dst.ops->rows_import(m->dst.driver, m->env_id, table, rows, 0, err) : 0;
        if (rc == 0 && n) {
            struct json_object *last = json_object_array_get_idx(json_object_array_get_idx(rows, n - 1), 0);
            snprintf(after, sizeof after, "%s", json_object_get_string(last));
            progress(m, (int64_t)n);
        }
        json_object_put(rows);
        if (rc < 0) return -1;
        if (n < MOVE_PAGE) return 0;
    }
}

/* Creates table t at the target (records table, default and custom indexes) and copies its records. */
static int table_copy(store_docs_move *m, const store_table *t, bs_err *err)
{
    if (m->dst.ops->table_create(m->dst.driver, m->env_id, t, NULL, err) < 0) return -1;
    store_index_def *defs = NULL;
    size_t ndefs = 0;
    int found = 0, rc = 0;
    if (m->hooks.index_defs && (rc = m->hooks.index_defs(m->hooks.ctx, t, &defs, &ndefs, err)) == 0 && ndefs)
        rc = m->dst.ops->indexes_change(m->dst.driver, m->env_id, t->name, defs, ndefs, NULL, 0, t->indexes_json,
                                        t->index_version, NULL, &found, err);
    free(defs);
    return rc < 0 ? -1 : records_copy(m, t->name, err);
}

/* The catalog, auth and file rows, whole (replacing what the target has). */
static int aux_copy(store_docs_move *m, bs_err *err)
{
    for (size_t i = 0; i < STORE_ROWS_TABLES; i++) {
        struct json_object *rows = NULL;
        const char *name = store_rows_tables[i].name;
        if (m->src.ops->rows_export(m->src.driver, m->env_id, name, NULL, NULL, 0, &rows, err) < 0) return -1;
        int rc = m->dst.ops->rows_import(m->dst.driver, m->env_id, name, rows, 1, err);
        if (rc == 0) progress(m, (int64_t)json_object_array_length(rows));
        json_object_put(rows);
        if (rc < 0) return -1;
    }
    return 0;
}

int store_docs_move_copy(store_docs_move *m, bs_err *err)
{
    store_table *tables = NULL;
    size_t n = 0;
    if (m->src.ops->table_list(m->src.driver, m->env_id, &tables, &n, err) < 0) return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int64_t count = 0;
        rc = m->src.ops->count(m->src.driver, m->env_id, tables[i].name, &count, err);
        m->total += count;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) rc = table_copy(m, &tables[i], err);
    store_table_list_free(tables, n);
    return rc < 0 ? -1 : aux_copy(m, err);
}

int store_docs_move_block(store_docs_move *m, int timeout_ms, bs_err *err)
{
    if (store_docs_route_block(m->docs, m->env_id, timeout_ms, err) < 0) return -1;
    m->blocked = 1;
    return 0;
}

/* A table whose definition changed during the copy: again, whole (or gone). */
static int table_again(store_docs_move *m, const char *table, bs_err *err)
{
    int found = 0;
    if (m->dst.ops->table_drop(m->dst.driver, m->env_id, table, &found, err) < 0) return -1;
    store_table t;
    memset(&t, 0, sizeof t);
    if (m->src.ops->table_get(m->src.driver, m->env_id, table, &t, &found, err) < 0) return -1;
    int rc = found ? table_copy(m, &t, err) : 0;
    store_table_release(&t);
    return rc;
}

/* One record written during the copy: the source's row replaces the target's (or the target's goes). */
static int record_again(store_docs_move *m, const char *table, const char *id, bs_err *err)
{
    struct json_object *rows = NULL;
    if (m->src.ops->rows_export(m->src.driver, m->env_id, table, NULL, id, 1, &rows, err) < 0)
        return err->status == 404 ? 0 : -1; /* the table went: its definition's key did the rest */
    int found = 0, rc = m->dst.ops->delete(m->dst.driver, m->env_id, table, id, &found, err);
    if (rc < 0 && err->status == 404) rc = 0;
    if (rc == 0 && json_object_array_length(rows))
        rc = m->dst.ops->rows_import(m->dst.driver, m->env_id, table, rows, 0, err);
    json_object_put(rows);
    return rc;
}

int store_docs_move_catch_up(store_docs_move *m, bs_err *err)
{
    char **keys = NULL;
    size_t n = 0;
    if (store_docs_route_journal_take(m->docs, m->env_id, &keys, &n, err) < 0) return -1;
    int rc = 0;
    char whole[STORE_TABLE_NAME_MAX + 2] = ""; /* "<table>\x1f" copied again whole in this pass */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char *sep = strchr(keys[i], '\x1f');
        if (!sep) continue;
        if (!sep[1]) {
            snprintf(whole, sizeof whole, "%s", keys[i]);
            *sep = '\0';
            rc = table_again(m, keys[i], err);
            continue;
        }
        if (whole[0] && !strncmp(keys[i], whole, strlen(whole))) continue; /* sorted after its table's key */
        *sep = '\0';
        rc = record_again(m, keys[i], sep + 1, err);
    }
    store_docs_journal_free(keys, n);
    return rc < 0 ? -1 : aux_copy(m, err);
}

int store_docs_move_switch(store_docs_move *m, int timeout_ms, store_docs_move_switch_fn sw, void *ctx, bs_err *err)
{
    if (store_docs_route_switch(m->docs, m->env_id, timeout_ms, sw, ctx, err) < 0) {
        m->blocked = 0; /* the switch unblocked */
        return -1;
    }
    m->blocked = 0;
    m->switched = 1;
    return 0;
}

void store_docs_move_free(store_docs_move *m)
{
    if (!m) return;
    bs_err err;
    const store_docs_side *old = m->switched ? &m->src : &m->dst;
    if (!m->switched) store_docs_route_unblock(m->docs, m->env_id);
    if (old->ops->env_drop(old->driver, m->env_id, &err) < 0)
        log_error("env move %s: the %s copy was not dropped: %s", m->env_id, m->switched ? "old" : "partial", err.message);
    if (!m->switched) store_docs_route_unpin(m->docs, m->env_id);
    free(m);
}
