/* SPDX-License-Identifier: Apache-2.0 */
/* The push engine's public API: create and run a framework, register
 * handlers, look up broadcasters, broadcast, and act on resources. */
#ifndef SATELLITE_FRAMEWORK_H
#define SATELLITE_FRAMEWORK_H

#include "satellite/config.h"
#include "satellite/types.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sat_framework sat_framework;
typedef struct sat_broadcaster sat_broadcaster;
typedef struct sat_resource sat_resource;
struct sat_registry;

/* ---- create / destroy ---------------------------------------------------- */

/* Creates a framework from a configuration (copied; the caller keeps its
 * own). Nothing is bound or started yet. Returns NULL and fills err on
 * failure. */
sat_framework *sat_framework_new(const sat_config *cfg, char *err, size_t err_size);

/* Stops the framework if it runs, then frees it. Accepts NULL. */
void sat_framework_free(sat_framework *fw);

/* ---- configure ----------------------------------------------------------- */

/* A message that a client sent (a POST body or a WebSocket text frame).
 * Runs on the worker thread that owns the resource; `resource` is borrowed
 * for the call. The default handler broadcasts `data` to the resource's
 * broadcaster. */
typedef void (*sat_message_fn)(void *userdata, sat_resource *resource, const char *data,
                               size_t len);

typedef struct sat_handler {
    sat_message_fn on_message;
    void *userdata; /* must outlive the framework */
} sat_handler;

/* Installs the handler for every path that starts with `prefix` (longest
 * prefix wins; "/" matches all). Call before sat_framework_start. */
int sat_framework_add_handler(sat_framework *fw, const char *prefix, const sat_handler *handler);

/* Observers of the engine's life, for embedding programs. Every callback
 * is optional. Callbacks run on the thread that caused the event (a worker,
 * or a thread that called the API) and must return quickly. on_message runs
 * while the broadcaster's lock is held, in message order: it must not
 * broadcast to the same broadcaster. None may call sat_framework_stop. */
typedef struct sat_listener {
    void (*on_broadcaster_created)(void *userdata, sat_broadcaster *b);
    void (*on_broadcaster_destroyed)(void *userdata, sat_broadcaster *b);
    void (*on_message)(void *userdata, sat_broadcaster *b, sat_msgid id, const char *data,
                       size_t len);
    void (*on_resource_added)(void *userdata, sat_resource *r);
    void (*on_resource_removed)(void *userdata, sat_resource *r, bool clean);
    /* A new configuration is in force (reload or runtime override); `cfg`
     * is borrowed for the call. Runs on the thread that changed it. */
    void (*on_reconfigured)(void *userdata, const sat_config *cfg);
    void *userdata; /* must outlive the framework */
} sat_listener;

#define SAT_MAX_LISTENERS 16

/* Adds a listener (copied). Call before sat_framework_start. SAT_ELIMIT
 * beyond SAT_MAX_LISTENERS. */
int sat_framework_add_listener(sat_framework *fw, const sat_listener *listener);

/* ---- run ----------------------------------------------------------------- */

/* Binds the push port and starts the worker threads. Returns 0 or a
 * negative sat_err; err gives the reason (e.g. "bind 127.0.0.1:8080: Address
 * already in use"). */
int sat_framework_start(sat_framework *fw, char *err, size_t err_size);

/* Stops accepting, closes every connection and joins the workers. Safe to
 * call twice. Must not be called from a worker thread. */
void sat_framework_stop(sat_framework *fw);

/* Writes the bound push address ("127.0.0.1:8080") into buf. */
const char *sat_framework_push_address(sat_framework *fw, char *buf, size_t size);

/* Applies a new configuration all or nothing: keys marked restart-only must
 * be unchanged. Returns 0, or SAT_EINVAL with err naming the first key that
 * needs a restart. `cfg` is copied. */
int sat_framework_reconfigure(sat_framework *fw, const sat_config *cfg, char *err,
                              size_t err_size);

/* Supplies a fresh base configuration for reloads: defaults, then the
 * configuration file, then command-line settings, as the program defines
 * them. On failure it returns a negative sat_err and appends each problem
 * to errs. Called on the thread that requests the reload. */
typedef int (*sat_config_loader_fn)(void *userdata, sat_config **out, sat_config_errors *errs);

/* Installs the loader and a description of where it reads from (a file
 * path, shown by introspection). Without a loader a reload re-applies the
 * runtime overrides to the configuration in force. Call before start. */
void sat_framework_set_config_loader(sat_framework *fw, sat_config_loader_fn fn, void *userdata,
                                     const char *description);

/* What a reload changed, or why it was rejected. */
typedef struct sat_reload_report {
    char **changes;     /* "key: old -> new", secrets shown as *** */
    size_t change_count;
    char **errors;      /* "key: reason" or "line N: reason" */
    size_t error_count;
} sat_reload_report;

void sat_reload_report_free(sat_reload_report *report);

/* Re-reads the configuration through the loader, merges the runtime
 * overrides, validates everything and applies all of it or none of it.
 * Returns 0 (report lists the changes) or SAT_EINVAL (report lists every
 * error; the old configuration stays in force). Any thread but a worker. */
int sat_framework_reload(sat_framework *fw, sat_reload_report *report);

/* Sets one key as a runtime override (kept across reloads) and applies it
 * at once. SAT_ENOTFOUND for an unknown key, SAT_EINVAL for an invalid
 * value, SAT_ECONFLICT for a key that needs a restart; err gives the reason. */
int sat_framework_set_param(sat_framework *fw, const char *key, const char *value, char *err,
                            size_t err_size);

/* The configuration in force (borrowed; valid until the next reconfigure,
 * so callers on other threads must copy what they need at once). */
const sat_config *sat_framework_config(sat_framework *fw);

/* The introspection registry that mirrors every engine object. */
struct sat_registry *sat_framework_registry(sat_framework *fw);

/* ---- broadcasters -------------------------------------------------------- */

/* Returns a new reference to the broadcaster with this id, creating it
 * when `create` is set. NULL when absent (or SAT_ELIMIT reached). */
sat_broadcaster *sat_framework_lookup(sat_framework *fw, const char *id, bool create);

void sat_broadcaster_unref(sat_broadcaster *b); /* accepts NULL */
const char *sat_broadcaster_id(const sat_broadcaster *b);

/* Broadcasts a UTF-8 message to every subscriber. Callable from any thread.
 * The payload is copied. Returns 0 and the message id, SAT_ELIMIT when a
 * worker queue is full (back-pressure: retry later), SAT_ECLOSED after
 * destroy, or SAT_EINVAL when the message exceeds engine.max_message_bytes. */
int sat_broadcaster_broadcast(sat_broadcaster *b, const void *data, size_t len, sat_msgid *id);

/* Convenience: looks up (creating) and broadcasts. */
int sat_framework_broadcast(sat_framework *fw, const char *id, const void *data, size_t len);

/* Broadcast filters run in insertion order before a message is cached or
 * delivered. A filter may replace the payload (set *out to a malloc'd
 * buffer that the engine frees) and returns one of these. */
typedef enum sat_filter_action {
    SAT_FILTER_CONTINUE = 0, /* pass to the next filter */
    SAT_FILTER_ABORT,        /* drop the message */
    SAT_FILTER_SKIP,         /* deliver now, skipping later filters */
} sat_filter_action;

typedef sat_filter_action (*sat_filter_fn)(void *userdata, const char *broadcaster_id,
                                           const char *data, size_t len, char **out,
                                           size_t *out_len);

/* Appends a filter with a name (shown by introspection). Thread-safe. */
int sat_broadcaster_add_filter(sat_broadcaster *b, const char *name, sat_filter_fn fn,
                               void *userdata);
int sat_broadcaster_remove_filter(sat_broadcaster *b, const char *name);

/* Closes every subscriber and removes the broadcaster from the framework.
 * The handle stays valid until unref'd. */
int sat_broadcaster_destroy(sat_broadcaster *b);

/* ---- resources ----------------------------------------------------------- */

const char *sat_resource_uuid(const sat_resource *r);
sat_transport sat_resource_transport(const sat_resource *r);

/* Operations on a resource by tracking id, callable from any thread. They
 * run on the owning worker and wait up to `timeout_ms` for it. Return 0,
 * SAT_ENOTFOUND, SAT_ECONFLICT (e.g. resume when not suspended) or
 * SAT_ETIMEDOUT. */
int sat_framework_resume(sat_framework *fw, const char *uuid, int timeout_ms);
int sat_framework_close(sat_framework *fw, const char *uuid, int timeout_ms);
int sat_framework_write(sat_framework *fw, const char *uuid, const void *data, size_t len,
                        int timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
