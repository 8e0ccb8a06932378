/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's log sink: timestamp, level, component, message. */
#include "daemon_log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static bool log_syslog;
static int log_limit = 10;
static time_t log_window;
static int log_count;
static unsigned long log_suppressed;

static void emit(sat_log_level level, const char *component, const char *message)
{
    static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    struct timespec ts;
    struct tm tm;
    char stamp[40];

    if (log_syslog) {
        syslog(prio[level], "%s: %s", component, message);
        return;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03ldZ %-5s %s: %s\n", stamp, ts.tv_nsec / 1000000L,
            sat_log_level_name(level), component, message);
}

/* Starts, stops, reloads and admin actions are never dropped: they come
 * from these components, which clients cannot make talk. */
static bool always_logged(const char *component)
{
    return strcmp(component, "daemon") == 0 || strcmp(component, "rest") == 0 ||
           strcmp(component, "framework") == 0;
}

/* Lines beyond the per-second cap are counted and reported once the next
 * second starts. Errors are capped like the rest, so a flood of bad
 * clients cannot fill the disk. */
static void on_log(void *userdata, sat_log_level level, const char *component, const char *message)
{
    time_t now = time(NULL);

    (void)userdata;
    pthread_mutex_lock(&log_lock);
    if (now != log_window) {
        if (log_suppressed > 0) {
            char note[96];

            snprintf(note, sizeof note, "suppressed %lu log lines over log.repeat_limit_per_s",
                     log_suppressed);
            emit(SAT_LOG_WARN, "log", note);
        }
        log_window = now;
        log_count = 0;
        log_suppressed = 0;
    }
    if (++log_count <= log_limit || always_logged(component))
        emit(level, component, message);
    else
        log_suppressed++;
    pthread_mutex_unlock(&log_lock);
}

void log_init(sat_log_level level, bool use_syslog, int max_lines_per_s)
{
    log_syslog = use_syslog;
    log_limit = max_lines_per_s;
    if (use_syslog)
        openlog("satellited", LOG_PID, LOG_DAEMON);
    sat_log_set_handler(on_log, NULL, level);
}

void log_set_limit(int max_lines_per_s)
{
    pthread_mutex_lock(&log_lock);
    log_limit = max_lines_per_s;
    pthread_mutex_unlock(&log_lock);
}

void log_line(sat_log_level level, const char *component, const char *fmt, ...)
{
    char message[1024];
    va_list ap;

    /* The daemon's own lines obey log.level like the library's. */
    if (!sat_log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    on_log(NULL, level, component, message);
}
