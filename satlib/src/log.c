/* SPDX-License-Identifier: Apache-2.0 */
/* The process-wide log callback. The library formats lines here and hands
 * them to whatever the embedding program installed. */
#include "log_internal.h"
#include "satellite/error.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <strings.h>

static sat_log_fn log_fn;
static void *log_userdata;
static atomic_int log_max_level = SAT_LOG_INFO;

void sat_log_set_handler(sat_log_fn fn, void *userdata, sat_log_level max_level)
{
    log_userdata = userdata;
    log_fn = fn;
    atomic_store(&log_max_level, (int)max_level);
}

void sat_log_set_level(sat_log_level max_level)
{
    atomic_store(&log_max_level, (int)max_level);
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int sat_log_level_parse(const char *name, sat_log_level *out)
{
    if (name == NULL)
        return SAT_EINVAL;
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *out = (sat_log_level)i;
            return SAT_OK;
        }
    }
    if (strcasecmp(name, "warning") == 0) {
        *out = SAT_LOG_WARN;
        return SAT_OK;
    }
    return SAT_EINVAL;
}

const char *sat_log_level_name(sat_log_level level)
{
    if ((int)level < 0 || (int)level > SAT_LOG_DEBUG)
        return "unknown";
    return level_names[level];
}

bool sat_log_enabled(sat_log_level level)
{
    return sat__log_enabled(level);
}

bool sat__log_enabled(sat_log_level level)
{
    return log_fn != NULL && (int)level <= atomic_load_explicit(&log_max_level, memory_order_relaxed);
}

void sat__log(sat_log_level level, const char *component, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    sat_log_fn fn = log_fn;

    if (fn == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fn(log_userdata, level, component, line);
}
