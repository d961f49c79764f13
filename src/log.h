/*
 * log.h - the one place depotd writes log lines.
 *
 * One line per event on stderr: time (UTC), level, component, station ("-" when none), message. journald and
 * log shippers take it as is. Safe from any thread: each line is built first and written with one write(2).
 */
#ifndef DEPOTD_LOG_H
#define DEPOTD_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* "error", "warn", "info", "debug"; returns 0, or -1 for an unknown name. */
int log_level_parse(const char *name, enum log_level *out);

void log_msg(enum log_level level, const char *component, const char *station, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define log_error(comp, st, ...) log_msg(LOG_ERROR, comp, st, __VA_ARGS__)
#define log_warn(comp, st, ...) log_msg(LOG_WARN, comp, st, __VA_ARGS__)
#define log_info(comp, st, ...) log_msg(LOG_INFO, comp, st, __VA_ARGS__)
#define log_debug(comp, st, ...)                                                                              \
    do {                                                                                                      \
        if (log_get_level() >= LOG_DEBUG) log_msg(LOG_DEBUG, comp, st, __VA_ARGS__);                           \
    } while (0)

#endif
