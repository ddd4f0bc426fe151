/* sq: the shared SQLite toolkit of the SQLite drivers (see sq.h). */
#include "store/sqlite/sq.h"

#include <stdlib.h>
#include <string.h>

int sq_col_copy(sqlite3_stmt *st, int col, char *buf, size_t cap, bs_err *err)
{
    if (cap == 0) return bs_err_internal(err);
    buf[0] = '\0';
    const unsigned char *text = sqlite3_column_text(st, col);
    size_t n = text ? (size_t)sqlite3_column_bytes(st, col) : 0;
    if (n >= cap) return bs_err_internal(err);
    if (n) memcpy(buf, text, n);
    buf[n] = '\0';
    return 0;
}

char *sq_col_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *text = sqlite3_column_text(st, col);
    if (!text) return NULL;
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    char *copy = malloc(n + 1);
    if (!copy) return NULL;
    memcpy(copy, text, n); /* bounded: copy holds n + 1 bytes */
    copy[n] = '\0';
    return copy;
}

int sq_bind_texts(sqlite3_stmt *st, int first, const char *const *texts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int idx = first + (int)i;
        int rc = texts[i] ? sqlite3_bind_text(st, idx, texts[i], -1, SQLITE_STATIC) : sqlite3_bind_null(st, idx);
        if (rc != SQLITE_OK) return rc;
    }
    return SQLITE_OK;
}

int sq_bind_fixed(sqlite3_stmt *st, int idx, const char *text, size_t cap)
{
    return sqlite3_bind_text(st, idx, text, (int)strnlen(text, cap), SQLITE_STATIC);
}

int sq_bind_text_or_null(sqlite3_stmt *st, int idx, const char *text)
{
    if (text && *text) return sqlite3_bind_text(st, idx, text, -1, SQLITE_STATIC);
    return sqlite3_bind_null(st, idx);
}

int sq_bind_page(sqlite3_stmt *st, int idx, size_t limit, int64_t offset)
{
    int rc = sqlite3_bind_int64(st, idx, limit > (size_t)INT64_MAX ? -1 : (sqlite3_int64)limit);
    return rc != SQLITE_OK ? rc : sqlite3_bind_int64(st, idx + 1, offset);
}

int sq_select_one(sqlite3_stmt *st, sq_fail_fn fail, sq_row_reader read, void *out, size_t size, int *found,
                  bs_err *err)
{
    *found = 0;
    memset(out, 0, size);
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE) return 0;
    if (step != SQLITE_ROW) return fail(sqlite3_db_handle(st), "select", err);
    if (read(st, out) != 0) {
        memset(out, 0, size);
        return bs_err_internal(err);
    }
    *found = 1;
    return 0;
}

int sq_select_rows(sqlite3_stmt *st, sq_fail_fn fail, sq_row_reader read, void *out, size_t size, size_t max,
                   size_t *count, bs_err *err)
{
    size_t n = 0;
    int step = SQLITE_DONE;
    *count = 0;
    while (n < max && (step = sqlite3_step(st)) == SQLITE_ROW) {
        void *row = (char *)out + n * size;
        memset(row, 0, size);
        if (read(st, row) != 0) return bs_err_internal(err);
        n++;
    }
    if (step != SQLITE_DONE && step != SQLITE_ROW) return fail(sqlite3_db_handle(st), "select", err);
    *count = n;
    return 0;
}

int sq_select_int64(sqlite3_stmt *st, sq_fail_fn fail, int64_t *out, bs_err *err)
{
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        return 0;
    }
    if (step == SQLITE_DONE) return bs_err_internal(err);
    return fail(sqlite3_db_handle(st), "count", err);
}
