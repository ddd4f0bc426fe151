/* docs_pg_pending: placeholders until the h-pgsql branch merges. DELETE THIS FILE when it does:
 * docs_pg_sql.c (h-pgsql) defines docs_pg_sql_field, docs_pg_sql_key, docs_pg_list and docs_pg_explain.
 * (The users and files parts and ops are users_pg.c, users_pg_auth.c and files_pg.c.) Until then lists and
 * explains answer 501, and docs_pg_sql_field is a plain correct version (system fields as their columns,
 * document paths as (doc->'a'->'b')). */
#include <string.h>

#include "store/postgres/docs_pg_env.h"
#include "store/postgres/docs_pg_sql.h"

void docs_pg_sql_field(strbuf *sql, const query_field *f)
{
    switch (f->kind) {
    case QUERY_FIELD_ID: strbuf_append_str(sql, "id"); return;
    case QUERY_FIELD_CREATED_BY: strbuf_append_str(sql, "created_by"); return;
    case QUERY_FIELD_CREATED_AT: strbuf_append_str(sql, "created_at"); return;
    case QUERY_FIELD_UPDATED_AT: strbuf_append_str(sql, "updated_at"); return;
    default: break;
    }
    strbuf_append_str(sql, "(doc");
    const char *p = f->path; /* checked above the store: [A-Za-z0-9_.] */
    while (*p) {
        size_t n = strcspn(p, ".");
        strbuf_appendf(sql, "->'%.*s'", (int)n, p);
        p += n + (p[n] == '.');
    }
    strbuf_append_char(sql, ')');
}

void docs_pg_sql_key(strbuf *sql, const query_field *f, int desc)
{
    docs_pg_sql_field(sql, f);
    if (f->kind == QUERY_FIELD_DOC) strbuf_append_str(sql, desc ? " DESC NULLS LAST" : " ASC NULLS FIRST");
    else strbuf_append_str(sql, desc ? " DESC" : " ASC");
}

int docs_pg_list(const docs_pg_env *env, const char *table, const query_plan *plan, const char *created_by_filter,
                 store_docs_paging *paging, strbuf *items, int64_t *total, bs_err *err)
{
    (void)env, (void)table, (void)plan, (void)created_by_filter, (void)paging, (void)items, (void)total;
    return bs_err_set(err, 501, "common/not-implemented", "Lists on PostgreSQL are not in this build yet");
}

int docs_pg_explain(const docs_pg_env *env, const char *table, const query_plan *plan, const char *created_by_filter,
                    store_explain *out, bs_err *err)
{
    (void)env, (void)table, (void)plan, (void)created_by_filter, (void)out;
    return bs_err_set(err, 501, "common/not-implemented", "Explain on PostgreSQL is not in this build yet");
}
