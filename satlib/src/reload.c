/* SPDX-License-Identifier: Apache-2.0 */
/* Configuration reload and runtime overrides: build a candidate from the
 * loader plus overrides, validate it whole, then apply all or nothing. */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>

void sat_framework_set_config_loader(sat_framework *fw, sat_config_loader_fn fn, void *userdata,
                                     const char *description)
{
    fw->loader = fn;
    fw->loader_userdata = userdata;
    free(fw->config_origin);
    fw->config_origin = description != NULL ? strdup(description) : NULL;
}

static void free_list(char **items, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(items[i]);
    free(items);
}

void sat_reload_report_free(sat_reload_report *report)
{
    if (report == NULL)
        return;
    free_list(report->changes, report->change_count);
    free_list(report->errors, report->error_count);
    memset(report, 0, sizeof *report);
}

void sat__reload_free(sat_framework *fw)
{
    free_list(fw->override_keys, fw->override_count);
    free_list(fw->override_values, fw->override_count);
    fw->override_keys = fw->override_values = NULL;
    fw->override_count = 0;
    free(fw->config_origin);
    fw->config_origin = NULL;
}

static void push_line(char ***items, size_t *count, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void push_line(char ***items, size_t *count, const char *fmt, ...)
{
    char **grown = realloc(*items, (*count + 1) * sizeof *grown);
    va_list ap;
    char *line;

    if (grown == NULL)
        return;
    *items = grown;
    va_start(ap, fmt);
    if (vasprintf(&line, fmt, ap) < 0)
        line = NULL;
    va_end(ap);
    if (line != NULL)
        grown[(*count)++] = line;
}

/* Keys that need a restart cannot change in a running engine: the
 * candidate keeps the value in force for each of them, and the report lists
 * the new value as pending, so the live keys of the same edit still apply.
 * Returns the number of pending keys, or -1 when a value cannot be kept. */
static long hold_restart_keys(const sat_config *now, sat_config *next, sat_reload_report *report)
{
    long pending = 0;

    for (size_t i = 0; i < sat_config_key_count(); i++) {
        const sat_config_key *k = sat_config_key_at(i);
        char a[512], b[512], shown_a[512], shown_b[512];

        if (!k->restart)
            continue;
        sat_config_text(now, k->name, false, a, sizeof a);
        sat_config_text(next, k->name, false, b, sizeof b);
        if (strcmp(a, b) == 0)
            continue;
        sat_config_text(now, k->name, true, shown_a, sizeof shown_a);
        sat_config_text(next, k->name, true, shown_b, sizeof shown_b);
        push_line(&report->changes, &report->change_count,
                  "%s: %s -> %s (pending: takes effect after a restart)", k->name, shown_a,
                  shown_b);
        if (sat_config_set(next, k->name, a, sat_config_source_of(now, k->name), NULL) != SAT_OK)
            return -1;
        pending++;
    }
    return pending;
}

static void collect_change(void *userdata, const sat_config_key *key, const char *old_text,
                           const char *new_text)
{
    sat_reload_report *report = userdata;

    push_line(&report->changes, &report->change_count, "%s: %s -> %s", key->name, old_text,
              new_text);
}

/* Builds the candidate configuration; fills report->errors on failure. */
static sat_config *build_candidate(sat_framework *fw, sat_reload_report *report)
{
    sat_config_errors errs = {NULL, 0};
    sat_config *next = NULL;
    int rc;

    if (fw->loader != NULL) {
        rc = fw->loader(fw->loader_userdata, &next, &errs);
    } else {
        pthread_mutex_lock(&fw->cfg_lock);
        next = sat_config_clone(fw->cfg);
        pthread_mutex_unlock(&fw->cfg_lock);
        rc = next != NULL ? SAT_OK : SAT_ENOMEM;
    }
    for (size_t i = 0; i < errs.count; i++) {
        char line[400];

        push_line(&report->errors, &report->error_count, "%s",
                  sat_config_error_format(&errs.items[i], line, sizeof line));
    }
    sat_config_errors_free(&errs);
    if (rc != SAT_OK || next == NULL) {
        if (report->error_count == 0)
            push_line(&report->errors, &report->error_count, "configuration could not be read");
        sat_config_free(next);
        return NULL;
    }
    for (size_t i = 0; i < fw->override_count; i++) {
        sat_config_error e;

        if (sat_config_set(next, fw->override_keys[i], fw->override_values[i],
                           SAT_CFG_SRC_RUNTIME, &e) != SAT_OK)
            push_line(&report->errors, &report->error_count, "%s: %s", fw->override_keys[i],
                      e.message);
    }
    return next;
}

static void record_result(sat_framework *fw, bool ok, const sat_reload_report *report)
{
    fw->last_reload_ms = sat__now_ms();
    if (ok)
        snprintf(fw->last_reload_result, sizeof fw->last_reload_result, "ok: %zu change(s)",
                 report->change_count);
    else
        snprintf(fw->last_reload_result, sizeof fw->last_reload_result, "rejected: %s",
                 report->error_count > 0 ? report->errors[0] : "unknown error");
}

int sat_framework_reload(sat_framework *fw, sat_reload_report *report)
{
    sat_config *next;
    char err[256];
    int rc = SAT_EINVAL;

    memset(report, 0, sizeof *report);
    pthread_mutex_lock(&fw->reload_lock);
    next = build_candidate(fw, report);
    if (next == NULL || report->error_count > 0)
        goto out;
    pthread_mutex_lock(&fw->cfg_lock);
    if (hold_restart_keys(fw->cfg, next, report) < 0)
        push_line(&report->errors, &report->error_count,
                  "a restart-only key could not keep its value in force");
    else
        sat_config_diff(fw->cfg, next, collect_change, report);
    pthread_mutex_unlock(&fw->cfg_lock);
    if (report->error_count > 0)
        goto out;
    rc = sat_framework_reconfigure(fw, next, err, sizeof err);
    if (rc != SAT_OK)
        push_line(&report->errors, &report->error_count, "%s", err);
out:
    record_result(fw, rc == SAT_OK, report);
    pthread_mutex_unlock(&fw->reload_lock);
    if (rc == SAT_OK)
        SAT_INFO("framework", "configuration reloaded: %zu change(s)", report->change_count);
    else
        SAT_WARN("framework", "configuration reload rejected: %zu error(s); first: %s",
                 report->error_count, report->error_count ? report->errors[0] : "-");
    for (size_t i = 0; i < report->change_count; i++)
        SAT_INFO("framework", "changed %s", report->changes[i]);
    sat__introspect_reloaded(fw, rc == SAT_OK);
    sat_config_free(next);
    return rc;
}

static int remember_override(sat_framework *fw, const char *key, const char *value)
{
    char **keys, **values;

    for (size_t i = 0; i < fw->override_count; i++) {
        if (strcmp(fw->override_keys[i], key) == 0) {
            char *copy = strdup(value);

            if (copy == NULL)
                return SAT_ENOMEM;
            free(fw->override_values[i]);
            fw->override_values[i] = copy;
            return SAT_OK;
        }
    }
    keys = realloc(fw->override_keys, (fw->override_count + 1) * sizeof *keys);
    if (keys == NULL)
        return SAT_ENOMEM;
    fw->override_keys = keys;
    values = realloc(fw->override_values, (fw->override_count + 1) * sizeof *values);
    if (values == NULL)
        return SAT_ENOMEM;
    fw->override_values = values;
    keys[fw->override_count] = strdup(key);
    values[fw->override_count] = strdup(value);
    if (keys[fw->override_count] == NULL || values[fw->override_count] == NULL) {
        free(keys[fw->override_count]);
        free(values[fw->override_count]);
        return SAT_ENOMEM;
    }
    fw->override_count++;
    return SAT_OK;
}

int sat_framework_set_param(sat_framework *fw, const char *key, const char *value, char *err,
                            size_t err_size)
{
    const sat_config_key *k = sat_config_key_find(key);
    sat_config_error e;
    sat_config *next;
    int rc;

    if (k == NULL) {
        snprintf(err, err_size, "unknown configuration key '%s'", key);
        return SAT_ENOTFOUND;
    }
    if (k->restart) {
        snprintf(err, err_size, "%s changes only after a restart; set it in the file", key);
        return SAT_ECONFLICT;
    }
    pthread_mutex_lock(&fw->reload_lock);
    pthread_mutex_lock(&fw->cfg_lock);
    next = sat_config_clone(fw->cfg);
    pthread_mutex_unlock(&fw->cfg_lock);
    if (next == NULL) {
        pthread_mutex_unlock(&fw->reload_lock);
        snprintf(err, err_size, "out of memory");
        return SAT_ENOMEM;
    }
    rc = sat_config_set(next, key, value, SAT_CFG_SRC_RUNTIME, &e);
    if (rc != SAT_OK)
        snprintf(err, err_size, "%s", e.message);
    if (rc == SAT_OK)
        rc = remember_override(fw, key, value);
    if (rc == SAT_OK)
        rc = sat_framework_reconfigure(fw, next, err, err_size);
    pthread_mutex_unlock(&fw->reload_lock);
    sat_config_free(next);
    if (rc == SAT_OK)
        SAT_INFO("framework", "runtime override %s set", key);
    return rc;
}
