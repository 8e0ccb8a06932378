/* SPDX-License-Identifier: Apache-2.0 */
/* Logging hook. libsatellite never prints: every message goes to the
 * callback installed here, or nowhere when none is installed. */
#ifndef SATELLITE_LOG_H
#define SATELLITE_LOG_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sat_log_level {
    SAT_LOG_ERROR = 0,
    SAT_LOG_WARN = 1,
    SAT_LOG_INFO = 2,
    SAT_LOG_DEBUG = 3,
} sat_log_level;

/* Receives one formatted line. `component` is a short module name such as
 * "transport" or "cache"; `message` has no trailing newline and ends with
 * key=value ids where they apply. Both strings are borrowed for the call only.
 * The callback may run on any libsatellite thread, concurrently, so it must
 * be thread-safe; it must not call back into libsatellite. */
typedef void (*sat_log_fn)(void *userdata, sat_log_level level, const char *component,
                           const char *message);

/* Installs the process-wide log callback and the most verbose level that
 * reaches it. Pass NULL to silence the library. Call before starting a
 * framework; changing it while threads run is safe but a line in flight may
 * still go to the previous callback. */
void sat_log_set_handler(sat_log_fn fn, void *userdata, sat_log_level max_level);

/* Changes only the level filter. Safe from any thread. */
void sat_log_set_level(sat_log_level max_level);

/* True when a line at `level` would reach the installed callback. */
bool sat_log_enabled(sat_log_level level);

/* Parses "error", "warn", "info" or "debug" (case-insensitive). Returns 0 and
 * sets *out, or SAT_EINVAL. */
int sat_log_level_parse(const char *name, sat_log_level *out);

/* Returns the lowercase name of a level. */
const char *sat_log_level_name(sat_log_level level);

#ifdef __cplusplus
}
#endif
#endif
