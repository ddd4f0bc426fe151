/* sq: the SQLite toolkit every SQLite driver of src/store/sqlite shares (control_sqlite.c, docs_sqlite.c,
 * users_sqlite.c, files_sqlite.c): reading columns into caller buffers, binding parameters, and stepping
 * the usual statement shapes (one row, a page of rows, one integer). Private to src/store/sqlite.
 *
 * One truncation policy: a text column that does not fit the buffer it is read into FAILS (the buffer is
 * left "" and the call returns -1); nothing is ever cut short silently. Every buffer write names its
 * capacity.
 *
 * Ownership: statements stay the caller's. None of these functions resets or finalizes a statement: the
 * caller releases it as it always does (docs_stmt_done, sq_stmt_done). Strings bound with these helpers
 * are bound SQLITE_STATIC: they must outlive the statement's step. sq_col_dup returns memory the caller
 * frees. Errors of SQLite itself are mapped by the driver's own sq_fail_fn (each driver names its
 * conflicts differently).
 *
 * Thread-safety: no state of its own; a statement is used by one thread at a time, as SQLite requires. */
#ifndef BASALT_STORE_SQLITE_SQ_H
#define BASALT_STORE_SQLITE_SQ_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* A driver's mapping of the last error of db to a bs_err ("what" names the operation for the log);
 * returns -1. */
typedef int (*sq_fail_fn)(sqlite3 *db, const char *what, bs_err *err);

/* Fills out (zeroed by the caller) from the current row of st: 0, or -1 when a value does not fit its
 * buffer (sq_col_copy failed). The select helpers turn -1 into an internal error. */
typedef int (*sq_row_reader)(sqlite3_stmt *st, void *out);

/* Copies text column col (SQL NULL reads as "") into buf of cap bytes, NUL-terminated: 0, or -1 when the
 * value needs more than cap - 1 bytes: buf is then "" and err (may be NULL) is an internal error. */
int sq_col_copy(sqlite3_stmt *st, int col, char *buf, size_t cap, bs_err *err);
/* sq_col_copy into a char array field, its capacity taken from the array itself. */
#define SQ_COL_FIELD(st, col, field, err) sq_col_copy((st), (col), (field), sizeof(field), (err))

/* A malloc'd copy of text column col (embedded bytes kept, NUL-terminated), or NULL when the value is
 * SQL NULL or memory ran out; tell them apart with sqlite3_column_type when it matters. */
char *sq_col_dup(sqlite3_stmt *st, int col);

/* Binds texts[0..n) to parameters first, first + 1, ... (a NULL text binds SQL NULL): SQLITE_OK or the
 * first failing bind's code. */
int sq_bind_texts(sqlite3_stmt *st, int first, const char *const *texts, size_t n);

/* Binds a text field of a fixed-size buffer, reading no further than cap bytes even when it lacks a NUL. */
int sq_bind_fixed(sqlite3_stmt *st, int idx, const char *text, size_t cap);
#define SQ_BIND_FIELD(st, idx, field) sq_bind_fixed((st), (idx), (field), sizeof(field))

/* Binds text, or SQL NULL when text is NULL or "". */
int sq_bind_text_or_null(sqlite3_stmt *st, int idx, const char *text);

/* Binds a page: LIMIT limit at parameter idx and OFFSET offset at idx + 1 (a limit beyond INT64_MAX
 * binds -1, SQLite's "no limit"). SQLITE_OK or the failing bind's code. */
int sq_bind_page(sqlite3_stmt *st, int idx, size_t limit, int64_t offset);

/* Steps bound st once: with a row, read fills out (size bytes, zeroed first) and *found = 1; with none,
 * *found = 0. 0, or -1 with err (fail maps a SQLite error; a reader failure is an internal error, out
 * zeroed again and *found = 0). */
int sq_select_one(sqlite3_stmt *st, sq_fail_fn fail, sq_row_reader read, void *out, size_t size, int *found,
                  bs_err *err);

/* Steps bound st for up to max rows, reading row i into (char *)out + i * size (zeroed first); *count =
 * rows read. On a SQLite error or a row that does not fit: -1 with err and *count = 0. */
int sq_select_rows(sqlite3_stmt *st, sq_fail_fn fail, sq_row_reader read, void *out, size_t size, size_t max,
                   size_t *count, bs_err *err);

/* Steps bound st, a query of one integer (count(*), a sum): *out = column 0 of its row. No row is an
 * error too (-1 with err), since such a query always answers one. */
int sq_select_int64(sqlite3_stmt *st, sq_fail_fn fail, int64_t *out, bs_err *err);

#endif
