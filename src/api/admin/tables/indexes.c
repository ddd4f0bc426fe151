/* admin_indexes: a table's custom indexes through the management API (management-api.md, platform.md
 * §11.6):
 *   GET/POST .../tables/:tableName/indexes   POST {indexesToAdd | indexesToAddOrUpdate: [{name, fields:
 *            {field: 1|-1}, unique?, sparse?}], indexesToRemove: [name]}
 *   GET      .../indexes/versions            POST .../indexes/rollback {version}
 * Every change is the next index version (a rollback too: it recreates the old list as a new version). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/admin/tables/surface.h"
#include "api/admin_gate.h"
#include "api/route.h"
#include "api/admin/tables/tables.h"
#include "core/table_cache.h"
#include "core/query.h"
#include "util/json.h"

/* ---- custom indexes: POST .../indexes {indexesToAdd:[{name, fields:{f:1|-1}, unique?, sparse?}], indexesToRemove:[name]} ---- */

#define TABLE_MAX_INDEXES 32

static const char *const default_index_names[] = {"_id_", "idx_createdAt_desc", "idx_updatedAt_desc", "idx_createdBy"};

static int index_name_valid(const char *n)
{
    size_t len = n ? strlen(n) : 0;
    if (len == 0 || len > STORE_INDEX_NAME_MAX) return 0;
    for (size_t i = 0; i < len; i++)
        if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= 'A' && n[i] <= 'Z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '_')) return 0;
    return 1;
}

static int is_default_index(const char *name)
{
    for (size_t i = 0; i < 4; i++)
        if (strcmp(name, default_index_names[i]) == 0) return 1;
    return 0;
}

/* The index named name regardless of case (SQLite's names ignore it: see docs_sqlite.c "physical names"). */
static struct json_object *find_index(struct json_object *list, const char *name, size_t *at)
{
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        struct json_object *ix = json_object_array_get_idx(list, i);
        if (strcasecmp(json_get_string(ix, "name") ? json_get_string(ix, "name") : "", name) == 0) {
            if (at) *at = i;
            return ix;
        }
    }
    return NULL;
}

/* Checks one index definition against the schema and fills def; the stored JSON form goes to *stored. */
static int parse_index(struct json_object *in, const schema *sch, store_index_def *def, struct json_object **stored, bs_err *err)
{
    memset(def, 0, sizeof *def);
    const char *name = json_get_string(in, "name");
    struct json_object *fields, *v;
    if (!index_name_valid(name)) return bs_err_set(err, 400, "data/validation-error", "index name: 1 to 64 letters, digits or '_'");
    if (is_default_index(name)) return bs_err_set(err, 400, "data/index-protected", "%s is a default index", name);
    snprintf(def->name, sizeof def->name, "%s", name);
    if (!json_object_object_get_ex(in, "fields", &fields) || !json_object_is_type(fields, json_type_object) ||
        json_object_object_length(fields) < 1 || json_object_object_length(fields) > STORE_INDEX_MAX_FIELDS)
        return bs_err_set(err, 400, "data/validation-error", "%s: fields must map 1 to 8 field names to 1 or -1", name);
    json_object_object_foreach(fields, field, dir) {
        int d = json_object_is_type(dir, json_type_int) ? json_object_get_int(dir) : 0;
        if (d != 1 && d != -1) return bs_err_set(err, 400, "data/validation-error", "%s: direction must be 1 or -1", name);
        if (query_field_resolve(field, sch, &def->fields[def->nfields], err) < 0) return -1;
        def->desc[def->nfields++] = d < 0;
    }
    def->unique = json_object_object_get_ex(in, "unique", &v) && json_object_get_boolean(v);
    def->sparse = json_object_object_get_ex(in, "sparse", &v) && json_object_get_boolean(v);
    *stored = json_object_new_object();
    json_object_object_add(*stored, "name", json_object_new_string(name));
    json_object_object_add(*stored, "fields", json_object_get(fields));
    json_object_object_add(*stored, "unique", json_object_new_boolean(def->unique));
    json_object_object_add(*stored, "sparse", json_object_new_boolean(def->sparse));
    return 0;
}

typedef struct index_change {
    store_index_def create[TABLE_MAX_INDEXES];
    size_t ncreate;
    char drop[TABLE_MAX_INDEXES][STORE_INDEX_NAME_MAX + 1];
    size_t ndrop;
    struct json_object *added, *updated, *removed; /* names, for appliedIndexes */
} index_change;

static int drop_add(index_change *ch, const char *name, bs_err *err)
{
    if (ch->ndrop == TABLE_MAX_INDEXES) return bs_err_set(err, 400, "data/validation-error", "too many indexes");
    size_t len = strnlen(name, STORE_INDEX_NAME_MAX);
    memmove(ch->drop[ch->ndrop], name, len); /* name may live in ch itself (a definition being replaced) */
    ch->drop[ch->ndrop++][len] = '\0';
    return 0;
}

/* Adds one definition to list and ch (replacing a same-named one when `replace`). */
static int plan_add(struct json_object *def_json, const schema *sch, int replace, struct json_object *list,
                    index_change *ch, bs_err *err)
{
    struct json_object *stored = NULL;
    store_index_def *def = &ch->create[ch->ncreate];
    if (ch->ncreate == TABLE_MAX_INDEXES) return bs_err_set(err, 400, "data/validation-error", "too many indexes");
    if (parse_index(def_json, sch, def, &stored, err) < 0) return -1;
    size_t at;
    if (find_index(list, def->name, &at)) {
        if (!replace) {
            json_object_put(stored);
            return bs_err_set(err, 409, "data/index-already-exists", "Index %s already exists", def->name);
        }
        if (drop_add(ch, def->name, err) < 0) { json_object_put(stored); return -1; }
        json_object_array_del_idx(list, at, 1);
        json_object_array_add(ch->updated, json_object_new_string(def->name));
    } else {
        if (json_object_array_length(list) >= TABLE_MAX_INDEXES) {
            json_object_put(stored);
            return bs_err_set(err, 400, "data/validation-error", "a table has at most %d custom indexes", TABLE_MAX_INDEXES);
        }
        json_object_array_add(ch->added, json_object_new_string(def->name));
    }
    json_object_array_add(list, stored);
    ch->ncreate++;
    return 0;
}

static int plan_index_change(struct json_object *body, const store_table *t, struct json_object *list, index_change *ch, bs_err *err)
{
    struct json_object *add = NULL, *upsert = NULL, *rm = NULL;
    if (!json_object_is_type(body, json_type_object)) return bs_err_set(err, 400, "data/validation-error", "A JSON object body is required");
    json_object_object_get_ex(body, "indexesToAdd", &add);
    json_object_object_get_ex(body, "indexesToAddOrUpdate", &upsert);
    json_object_object_get_ex(body, "indexesToRemove", &rm);
    if ((add && !json_object_is_type(add, json_type_array)) || (upsert && !json_object_is_type(upsert, json_type_array)) ||
        (rm && !json_object_is_type(rm, json_type_array)) || (!add && !upsert && !rm))
        return bs_err_set(err, 400, "data/validation-error",
                          "indexesToAdd, indexesToAddOrUpdate and indexesToRemove must be arrays (at least one given)");
    for (size_t i = 0; rm && i < json_object_array_length(rm); i++) {
        const char *name = json_object_get_string(json_object_array_get_idx(rm, i));
        size_t at;
        if (name && is_default_index(name)) return bs_err_set(err, 400, "data/index-protected", "%s is a default index and cannot be removed", name);
        if (!name || !find_index(list, name, &at)) return bs_err_set(err, 404, "data/index-not-found", "No index %.64s", name ? name : "");
        if (drop_add(ch, name, err) < 0) return -1;
        json_object_array_add(ch->removed, json_object_new_string(name));
        json_object_array_del_idx(list, at, 1);
    }
    schema *sch = api_table_schema_new(t, err);
    int rc = sch ? 0 : -1;
    for (size_t i = 0; rc == 0 && add && i < json_object_array_length(add); i++)
        rc = plan_add(json_object_array_get_idx(add, i), sch, 0, list, ch, err);
    for (size_t i = 0; rc == 0 && upsert && i < json_object_array_length(upsert); i++)
        rc = plan_add(json_object_array_get_idx(upsert, i), sch, 1, list, ch, err);
    schema_free(sch);
    return rc;
}

/* The change that turns the current list into target (a previous version's list): drop what differs,
 * create what is missing. */
static int plan_rollback(struct json_object *target, const store_table *t, struct json_object *current, index_change *ch,
                         bs_err *err)
{
    for (size_t i = 0; i < json_object_array_length(current); i++) {
        struct json_object *ix = json_object_array_get_idx(current, i);
        const char *name = json_get_string(ix, "name");
        struct json_object *same = name ? find_index(target, name, NULL) : NULL;
        if (name && (!same || !json_object_equal(same, ix))) {
            if (drop_add(ch, name, err) < 0) return -1;
            json_object_array_add(same ? ch->updated : ch->removed, json_object_new_string(name));
        }
    }
    schema *sch = api_table_schema_new(t, err);
    int rc = sch ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < json_object_array_length(target); i++) {
        struct json_object *ix = json_object_array_get_idx(target, i), *stored = NULL;
        struct json_object *now = find_index(current, json_get_string(ix, "name") ? json_get_string(ix, "name") : "", NULL);
        if (now && json_object_equal(now, ix)) continue;
        if (ch->ncreate == TABLE_MAX_INDEXES) rc = bs_err_set(err, 400, "data/validation-error", "too many indexes");
        else if ((rc = parse_index(ix, sch, &ch->create[ch->ncreate], &stored, err)) == 0) {
            json_object_put(stored);
            if (!now) json_object_array_add(ch->added, json_object_new_string(ch->create[ch->ncreate].name));
            ch->ncreate++;
        }
    }
    schema_free(sch);
    return rc;
}

/* The activity-log action of an index change: rollback, else create when it adds an index, delete when it
 * only removes, update otherwise. */
static const char *index_action(const index_change *ch, int rollback)
{
    if (rollback) return "rollback";
    if (json_object_array_length(ch->added)) return "create";
    return json_object_array_length(ch->removed) && !json_object_array_length(ch->updated) ? "delete" : "update";
}

/* Applies ch and the resulting list as the next index version (rollback: from an old version); logs it;
 * answers the table with the change. */
static void apply_index_change(api_ctx *ctx, http_res *res, store_env *env, store_table *t, index_change *ch,
                               struct json_object *list, int rollback, bs_err *err)
{
    const char *drop[TABLE_MAX_INDEXES];
    for (size_t i = 0; i < ch->ndrop; i++) drop[i] = ch->drop[i];
    int found = 0, previous = t->index_version;
    free(t->indexes_json);
    t->indexes_json = strdup(json_object_to_json_string_ext(list, JSON_C_TO_STRING_PLAIN));
    t->index_version++;
    if (!t->indexes_json || store_docs_indexes_change(ctx->app->docs, env->id, t->name, ch->create, ch->ncreate, drop,
                                                      ch->ndrop, t->indexes_json, t->index_version,
                                                      api_admin_actor(ctx), &found, err) < 0) {
        if (!t->indexes_json) bs_err_internal(err);
        http_res_error_from(res, err);
        store_table_release(t);
        return;
    }
    fleet_bus_publish(ctx->app->bus, FLEET_TABLES, env->id);
    api_env_activity(ctx, env, "index", t->name, index_action(ch, rollback), "table %s: indexes version %d (added %s, updated %s, removed %s)",
                     t->name, t->index_version, json_object_to_json_string_ext(ch->added, JSON_C_TO_STRING_PLAIN),
                     json_object_to_json_string_ext(ch->updated, JSON_C_TO_STRING_PLAIN),
                     json_object_to_json_string_ext(ch->removed, JSON_C_TO_STRING_PLAIN));
    struct json_object *out = api_table_json(ctx, env, t), *applied = json_object_new_object();
    json_object_object_add(out, "previousIndexVersion", json_object_new_int(previous));
    json_object_object_add(applied, "added", json_object_get(ch->added));
    json_object_object_add(applied, "updated", json_object_get(ch->updated));
    json_object_object_add(applied, "removed", json_object_get(ch->removed));
    json_object_object_add(out, "appliedIndexes", applied);
    http_res_json(res, 200, out);
    json_object_put(out);
    store_table_release(t);
}

static index_change *change_new(void)
{
    static _Thread_local index_change ch;
    memset(&ch, 0, sizeof ch);
    ch.added = json_object_new_array();
    ch.updated = json_object_new_array();
    ch.removed = json_object_new_array();
    return &ch;
}

static void change_free(index_change *ch)
{
    json_object_put(ch->added);
    json_object_put(ch->updated);
    json_object_put(ch->removed);
}

static void post_indexes(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_env env;
    store_table t;
    if (api_table_open(ctx, req, res, 1, &env, &t) < 0) return;
    index_change *ch = change_new();
    struct json_object *list = json_tokener_parse(t.indexes_json);
    if ((list ? plan_index_change(http_req_json_borrow(req), &t, list, ch, &err) : bs_err_internal(&err)) < 0) {
        http_res_error_from(res, &err);
        store_table_release(&t);
    } else {
        apply_index_change(ctx, res, &env, &t, ch, list, 0, &err);
    }
    json_object_put(list);
    change_free(ch);
}

/* POST .../indexes/rollback {version}: the indexes of that version become the next version. */
static void rollback_indexes(api_ctx *ctx, http_req *req, http_res *res)
{
    bs_err err;
    store_env env;
    store_table t;
    store_version v;
    if (api_rollback_target(ctx, req, res, STORE_VERSION_INDEXES, &env, &t, &v) < 0) return;
    index_change *ch = change_new();
    struct json_object *target = json_tokener_parse(v.body), *current = json_tokener_parse(t.indexes_json);
    if (!target || !current || plan_rollback(target, &t, current, ch, &err) < 0) {
        if (!target || !current) bs_err_internal(&err);
        http_res_error_from(res, &err);
        store_table_release(&t);
    } else {
        apply_index_change(ctx, res, &env, &t, ch, target, 1, &err);
    }
    json_object_put(target);
    json_object_put(current);
    change_free(ch);
    store_version_release(&v);
}

static void index_versions(api_ctx *ctx, http_req *req, http_res *res)
{
    api_versions_answer(ctx, req, res, STORE_VERSION_INDEXES);
}

static void get_indexes(api_ctx *ctx, http_req *req, http_res *res)
{
    store_env env;
    store_table t;
    if (api_table_open(ctx, req, res, 0, &env, &t) < 0) return;
    struct json_object *full = api_table_json(ctx, &env, &t), *out = json_object_new_object(), *v;
    json_object_object_get_ex(full, "indexes", &v);
    json_object_object_add(out, "indexes", json_object_get(v));
    json_object_object_add(out, "indexVersion", json_object_new_int(t.index_version));
    http_res_json(res, 200, out);
    json_object_put(out);
    json_object_put(full);
    store_table_release(&t);
}

int api_admin_indexes_register(http_router *router, api_app *app)
{
    const char *ix = "/admin/v1/projects/:projectId/environments/:env/tables/:tableName/indexes";
    http_route_opts json = {.body = HTTP_BODY_JSON, .max_body = 256 * 1024};
    if (api_route_admin(router, app, HTTP_GET, ix, get_indexes, NULL) < 0) return -1;
    if (api_route_admin(router, app, HTTP_POST, ix, post_indexes, &json) < 0) return -1;
    if (api_route_admin(router, app, HTTP_GET, "/admin/v1/projects/:projectId/environments/:env/tables/:tableName/indexes/versions",
                        index_versions, NULL) < 0)
        return -1;
    return api_route_admin(router, app, HTTP_POST, "/admin/v1/projects/:projectId/environments/:env/tables/:tableName/indexes/rollback",
                           rollback_indexes, &json);
}
