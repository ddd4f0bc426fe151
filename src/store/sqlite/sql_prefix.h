/* sql_prefix: per-slot names for environments that share one SQLite file (a shared cluster, see
 * docs/platform.md "Placement"). Every object of such an environment is named <prefix><name> ("s3_d_posts",
 * "s3__auth_users"), so the drivers keep writing their SQL with the plain names and the connection rewrites
 * the text once, when it prepares it (docs_stmt, docs_exec in docs_sqlite.c).
 *
 * The rewrite is a small tokenizer: string literals ('...', also the x'...' of blobs), comments (-- and
 * slash-star) and parameters (?1, :name, @name, $name) are copied untouched; every identifier, bare or quoted
 * ("...", `...`, [...]), that names an environment object (sql_prefix_is_env_name) gets the prefix, inside
 * its quotes when quoted. Column names never match: no column of the environment tables starts with one of
 * the object-name beginnings. Pure: no I/O, no global state. */
#ifndef BASALT_STORE_SQLITE_SQL_PREFIX_H
#define BASALT_STORE_SQLITE_SQL_PREFIX_H

#include <stddef.h>

#include "util/strbuf.h"

/* 1 when the identifier name (len bytes, unquoted) names an object of an environment database: it starts
 * (ASCII case-insensitively, as SQLite compares names) with "d_" (user tables and their indexes),
 * "_basalt_", "_auth_", "_objects", "_files", "_uploads" or "_upload_parts". */
int sql_prefix_is_env_name(const char *name, size_t len);

/* 1 when prefix can name a slot: 2 to 15 characters of [A-Za-z0-9_], a letter first, ending with '_',
 * and not itself an environment object name (so rewriting twice never prefixes twice). */
int sql_prefix_valid(const char *prefix);

/* Appends sql to out with prefix put before every environment object name. 0, or -1 when out overflowed. */
int sql_prefix_add(strbuf *out, const char *sql, const char *prefix);

/* The reverse, for names SQLite gives back (EXPLAIN QUERY PLAN lines, index names): appends text to out
 * with prefix removed from every identifier that is prefix + an environment object name. 0, or -1 when
 * out overflowed. */
int sql_prefix_strip(strbuf *out, const char *text, const char *prefix);

#endif
