#include "util/log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/strbuf.h"

static _Atomic int log_threshold = LOG_INFO;
static const char *const log_names[] = {"debug", "info", "warn", "error"};

void log_set_level(log_level level) { atomic_store(&log_threshold, (int)level); }
log_level log_get_level(void) { return (log_level)atomic_load(&log_threshold); }
int log_enabled(log_level level) { return (int)level >= atomic_load(&log_threshold); }

int log_level_parse(const char *text, log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (text && strcmp(text, log_names[i]) == 0) {
            *out = (log_level)i;
            return 0;
        }
    }
    return -1;
}

static void log_write_line(log_level level, const char *msg, const char *members)
{
    char stack[2048];
    strbuf sb;
    strbuf_init_stack(&sb, stack, sizeof stack);
    char ts[CLOCK_ISO_LEN];
    clock_iso8601(clock_now_ms(), ts);
    strbuf_appendf(&sb, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", ts, log_names[level]);
    strbuf_append_json_string(&sb, msg, strlen(msg));
    if (members && *members) {
        strbuf_append_char(&sb, ',');
        strbuf_append(&sb, members, strlen(members));
    }
    strbuf_append(&sb, "}\n", 2);
    ssize_t ignored = write(STDERR_FILENO, sb.data, sb.len);
    (void)ignored;
    strbuf_release(&sb);
}

void log_msg(log_level level, const char *fmt, ...)
{
    if (!log_enabled(level)) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_write_line(level, msg, NULL);
}

void log_fields(log_level level, const char *msg, const char *json_members)
{
    if (!log_enabled(level)) return;
    log_write_line(level, msg, json_members);
}
