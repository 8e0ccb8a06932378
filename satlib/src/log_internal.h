/* SPDX-License-Identifier: Apache-2.0 */
/* Internal logging entry points used by every satlib module. */
#ifndef SAT_LOG_INTERNAL_H
#define SAT_LOG_INTERNAL_H

#include "satellite/log.h"

#include <stdbool.h>

/* True when a line at `level` would reach the callback; check it before
 * building expensive arguments. */
bool sat__log_enabled(sat_log_level level);

/* Formats and delivers one line. Lines longer than 1 KiB are cut. */
void sat__log(sat_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define SAT_LOG(level, component, ...)                                                             \
    do {                                                                                           \
        if (sat__log_enabled(level))                                                               \
            sat__log(level, component, __VA_ARGS__);                                               \
    } while (0)

#define SAT_ERROR(component, ...) SAT_LOG(SAT_LOG_ERROR, component, __VA_ARGS__)
#define SAT_WARN(component, ...) SAT_LOG(SAT_LOG_WARN, component, __VA_ARGS__)
#define SAT_INFO(component, ...) SAT_LOG(SAT_LOG_INFO, component, __VA_ARGS__)
#define SAT_DEBUG(component, ...) SAT_LOG(SAT_LOG_DEBUG, component, __VA_ARGS__)

#endif
