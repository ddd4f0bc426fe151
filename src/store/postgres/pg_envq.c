/* pg_envq: see pg_envq.h. */
#include "store/postgres/pg_envq.h"

#include <stdlib.h>
#include <string.h>

#include "util/check.h"
#include "util/log.h"

#define PGE_SCHEMA_MARK "{s}"

void pge_text(pge_params *p, const char *text)
{
    BS_ASSERT(p->n < PGE_PARAMS_MAX);
    if (p->n < PGE_PARAMS_MAX) p->v[p->n++] = text;
    else p->bad = 1;
}

void pge_fixed(pge_params *p, const char *field, size_t cap)
{
    if (!memchr(field, '\0', cap)) p->bad = 1;
    pge_text(p, p->bad ? "" : field);
}

void pge_int(pge_params *p, int64_t v)
{
    BS_ASSERT(p->n < PGE_PARAMS_MAX);
    if (p->n >= PGE_PARAMS_MAX) {
        p->bad = 1;
        return;
    }
    p->v[p->n] = pg_fmt_int64(p->num[p->n], v);
    p->n++;
}

void pge_limit(pge_params *p, size_t max)
{
    if (max > (size_t)INT64_MAX) pge_text(p, NULL);
    else pge_int(p, (int64_t)max);
}

/* tmpl with every "{s}" replaced by the quoted schema, into out (cap bytes). */
static int splice_schema(const char *tmpl, const char *schema, char *out, size_t cap, bs_err *err)
{
    size_t mark = strlen(PGE_SCHEMA_MARK), at = 0;
    for (const char *s = tmpl; *s;) {
        const char *next = strstr(s, PGE_SCHEMA_MARK);
        size_t plain = next ? (size_t)(next - s) : strlen(s);
        int w = snprintf(out + at, cap - at, "%.*s%s%s%s", (int)plain, s, next ? "\"" : "", next ? schema : "",
                         next ? "\"" : "");
        if (w < 0 || (size_t)w >= cap - at) {
            log_error("postgres: a statement does not fit %zu bytes", cap);
            return bs_err_internal(err);
        }
        at += (size_t)w;
        s += plain + (next ? mark : 0);
    }
    if (!at && cap) out[0] = '\0';
    return 0;
}

PGresult *pge_exec(const docs_pg_call *call, const char *what, const char *tmpl, const pge_params *p, bs_err *err)
{
    char sql[PGE_SQL_MAX];
    if (p && p->bad) {
        log_error("postgres: %s: a parameter is not NUL-terminated or too many", what);
        bs_err_internal(err);
        return NULL;
    }
    if (splice_schema(tmpl, call->env.schema, sql, sizeof sql, err) < 0) return NULL;
    return docs_pg_exec(call, what, sql, p ? p->n : 0, p ? p->v : NULL, err);
}

int pge_run(const docs_pg_call *call, const char *what, const char *tmpl, const pge_params *p, int64_t *changed,
            bs_err *err)
{
    PGresult *r = pge_exec(call, what, tmpl, p, err);
    if (!r) return -1;
    if (changed) *changed = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return 0;
}

int pge_run_flag(const docs_pg_call *call, const char *what, const char *tmpl, const pge_params *p, int *changed,
                 bs_err *err)
{
    int64_t n = 0;
    if (pge_run(call, what, tmpl, p, &n, err) < 0) return -1;
    if (changed) *changed = n > 0;
    return 0;
}

int pge_one(const docs_pg_call *call, const char *what, const char *tmpl, const pge_params *p, pge_reader read,
            void *out, size_t size, int *found, bs_err *err)
{
    *found = 0;
    memset(out, 0, size);
    PGresult *r = pge_exec(call, what, tmpl, p, err);
    if (!r) return -1;
    int rc = 0;
    if (PQntuples(r) > 0 && read(r, 0, out, err) != 0) {
        memset(out, 0, size);
        rc = -1;
    } else if (PQntuples(r) > 0) {
        *found = 1;
    }
    PQclear(r);
    return rc;
}

/* Rows of r into out, at most max; *n = rows read (0 when one does not fit). */
static int read_rows(const PGresult *r, pge_reader read, void *out, size_t size, size_t max, size_t *n, bs_err *err)
{
    size_t rows = (size_t)PQntuples(r), i = 0;
    for (; i < max && i < rows; i++) {
        void *row = (char *)out + i * size;
        memset(row, 0, size);
        if (read(r, (int)i, row, err) != 0) {
            *n = 0;
            return -1;
        }
    }
    *n = i;
    return 0;
}

int pge_rows(const docs_pg_call *call, const char *what, const char *tmpl, const pge_params *p, pge_reader read,
             void *out, size_t size, size_t max, size_t *n, bs_err *err)
{
    *n = 0;
    PGresult *r = pge_exec(call, what, tmpl, p, err);
    if (!r) return -1;
    int rc = read_rows(r, read, out, size, max, n, err);
    PQclear(r);
    return rc;
}

int pge_int64(const docs_pg_call *call, const char *what, const char *tmpl, const pge_params *p, int64_t *out, bs_err *err)
{
    *out = 0;
    PGresult *r = pge_exec(call, what, tmpl, p, err);
    if (!r) return -1;
    if (PQntuples(r) > 0 && PQnfields(r) > 0) *out = pg_i64(r, 0, 0);
    PQclear(r);
    return 0;
}

int pge_page_read(const docs_pg_call *call, const pge_page *q, const pge_params *p, size_t limit, int64_t offset,
                  void *out, size_t *n, int64_t *total, bs_err *err)
{
    *n = 0;
    *total = 0;
    if (pge_int64(call, q->what, q->count_tmpl, p, total, err) < 0) return -1;
    if (limit == 0) return 0;
    pge_params page = *p;
    for (int i = 0; i < page.n; i++) /* the numbers moved with the copy */
        if (p->v[i] == p->num[i]) page.v[i] = page.num[i];
    pge_limit(&page, limit);
    pge_int(&page, offset < 0 ? 0 : offset);
    return pge_rows(call, q->what, q->tmpl, &page, q->read, out, q->size, limit, n, err);
}

int pge_write1(void *driver, const char *env_id, const char *what, const char *tmpl, const pge_params *p, int *changed,
               bs_err *err)
{
    docs_pg_call call;
    if (changed) *changed = 0;
    if (docs_pg_call_begin(driver, env_id, 0, &call, err) < 0) return -1;
    return docs_pg_call_end(&call, pge_run_flag(&call, what, tmpl, p, changed, err), err);
}

int pge_one1(void *driver, const char *env_id, const char *what, const char *tmpl, const pge_params *p, pge_reader read,
             void *out, size_t size, int *found, bs_err *err)
{
    docs_pg_call call;
    *found = 0;
    if (docs_pg_call_begin(driver, env_id, 0, &call, err) < 0) return -1;
    return docs_pg_call_end(&call, pge_one(&call, what, tmpl, p, read, out, size, found, err), err);
}

int pge_rows1(void *driver, const char *env_id, const char *what, const char *tmpl, const pge_params *p, pge_reader read,
              void *out, size_t size, size_t max, size_t *n, bs_err *err)
{
    docs_pg_call call;
    *n = 0;
    if (docs_pg_call_begin(driver, env_id, 0, &call, err) < 0) return -1;
    return docs_pg_call_end(&call, pge_rows(&call, what, tmpl, p, read, out, size, max, n, err), err);
}

int pge_page1(void *driver, const char *env_id, const pge_page *q, const pge_params *p, size_t limit, int64_t offset,
              void *out, size_t *n, int64_t *total, bs_err *err)
{
    docs_pg_call call;
    *n = 0;
    *total = 0;
    if (docs_pg_call_begin(driver, env_id, 0, &call, err) < 0) return -1;
    return docs_pg_call_end(&call, pge_page_read(&call, q, p, limit, offset, out, n, total, err), err);
}

int pge_one_by(void *driver, const char *env_id, const char *what, const char *tmpl, const char *key, pge_reader read,
               void *out, size_t size, int *found, bs_err *err)
{
    pge_params p = {0};
    pge_text(&p, key);
    return pge_one1(driver, env_id, what, tmpl, &p, read, out, size, found, err);
}

int pge_write_by(void *driver, const char *env_id, const char *what, const char *tmpl, const char *key, int *changed,
                 bs_err *err)
{
    pge_params p = {0};
    pge_text(&p, key);
    return pge_write1(driver, env_id, what, tmpl, &p, changed, err);
}

int pge_conflict(bs_err *err, const char *code, const char *message)
{
    if (err && err->status == 409) bs_err_set(err, 409, code, "%s", message);
    return -1;
}
