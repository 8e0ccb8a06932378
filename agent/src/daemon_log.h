/* SPDX-License-Identifier: Apache-2.0 */
/* satellited's logger: one line per event on stderr or syslog, with a cap on
 * lines per second so a flood of identical errors cannot fill a disk. */
#ifndef SAT_DAEMON_LOG_H
#define SAT_DAEMON_LOG_H

#include "satellite/log.h"

#include <stdbool.h>

/* Installs the logger as libsatellite's log callback. */
void log_init(sat_log_level level, bool use_syslog, int max_lines_per_s);

/* Changes the per-second line cap (log.repeat_limit_per_s). */
void log_set_limit(int max_lines_per_s);

/* Logs one line from the daemon itself. */
void log_line(sat_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
