/* log: JSON-lines logging to stderr, one line per call, written with a single write(2) so that lines
 * from several threads never interleave. Levels: debug < info < warn < error; lines below the level set
 * with log_set_level are dropped before any formatting work. */
#ifndef BASALT_UTIL_LOG_H
#define BASALT_UTIL_LOG_H

#include <stdarg.h>

typedef enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 } log_level;

void log_set_level(log_level level);
log_level log_get_level(void);
/* Parses "debug", "info", "warn", "error"; returns 0, or -1 for anything else. */
int log_level_parse(const char *text, log_level *out);
int log_enabled(log_level level);

/* A message line: {"ts":"...","level":"info","msg":"..."}. */
void log_msg(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A line whose fields the caller already wrote as JSON members, e.g. "\"id\":\"x\",\"status\":200"
 * (borrowed; must be valid JSON member text). */
void log_fields(log_level level, const char *msg, const char *json_members);

#define log_debug(...) do { if (log_enabled(LOG_DEBUG)) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
