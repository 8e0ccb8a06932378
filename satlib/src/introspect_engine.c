/* SPDX-License-Identifier: Apache-2.0 */
/* Publishes the engine-wide objects: framework (with reload), one object
 * per init parameter, statistics, interceptors, async support, factory and
 * websocket settings. */
#include "engine.h"
#include "introspect.h"
#include "satellite/satellite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- framework ---- */

static int fw_read(void *ctx, sat_record *out)
{
    sat_framework *fw = ctx;
    char addr[300];

    sat_record_set_str(out, "version", SAT_VERSION_STRING);
    sat_record_set_time(out, "start-time", (int64_t)atomic_load(&fw->stats.started_ms));
    sat_record_set_str(out, "config-origin", fw->config_origin ? fw->config_origin : "");
    sat_record_set_u64(out, "generation", atomic_load(&fw->generation));
    sat_record_set_time(out, "last-reload", (int64_t)fw->last_reload_ms);
    pthread_mutex_lock(&fw->reload_lock);
    sat_record_set_str(out, "last-reload-result", fw->last_reload_result);
    pthread_mutex_unlock(&fw->reload_lock);
    sat_record_set_str(out, "push-address", sat_framework_push_address(fw, addr, sizeof addr));
    sat_record_set_int(out, "workers", fw->worker_count);
    sat_record_set_strmap(out, "init-params", NULL, NULL, 0);
    pthread_mutex_lock(&fw->cfg_lock);
    for (size_t i = 0; i < sat_config_key_count(); i++) {
        const sat_config_key *k = sat_config_key_at(i);
        char value[512];

        sat_record_append_pair(out, "init-params", k->name,
                               sat_config_text(fw->cfg, k->name, true, value, sizeof value));
    }
    pthread_mutex_unlock(&fw->cfg_lock);
    return SAT_OK;
}

static void join_errors(const sat_reload_report *rep, char *errmsg, size_t errsize)
{
    size_t n = 0;

    errmsg[0] = '\0';
    for (size_t i = 0; i < rep->error_count && n + 1 < errsize; i++)
        n += (size_t)snprintf(errmsg + n, errsize - n, "%s%s", i ? "; " : "", rep->errors[i]);
}

static int fw_op_reload(void *ctx, const sat_record *params, sat_record *result, char *errmsg,
                        size_t errsize)
{
    sat_reload_report rep;
    int rc;

    (void)params;
    rc = sat_framework_reload(ctx, &rep);
    sat_record_set_strlist(result, "changes", (const char *const *)rep.changes, rep.change_count);
    sat_record_set_strlist(result, "errors", (const char *const *)rep.errors, rep.error_count);
    if (rc != SAT_OK)
        join_errors(&rep, errmsg, errsize);
    sat_reload_report_free(&rep);
    return rc;
}

static int fw_op_set_param(void *ctx, const sat_record *params, sat_record *result, char *errmsg,
                           size_t errsize)
{
    (void)result;
    return sat_framework_set_param(ctx, sat_record_get(params, "name")->v.s,
                                   sat_record_get(params, "value")->v.s, errmsg, errsize);
}

static const sat_attr_def fw_attrs[] = {
    {.name = "version", .type = SAT_ATTR_STRING, .description = "libsatellite version"},
    {.name = "start-time", .type = SAT_ATTR_TIMESTAMP, .description = "When the engine started"},
    {.name = "config-origin", .type = SAT_ATTR_STRING,
     .description = "Where reloads read the configuration from"},
    {.name = "generation", .type = SAT_ATTR_COUNTER,
     .description = "Configuration changes applied since start"},
    {.name = "last-reload", .type = SAT_ATTR_TIMESTAMP, .description = "Time of the last reload"},
    {.name = "last-reload-result", .type = SAT_ATTR_STRING,
     .description = "ok with the number of changes, or rejected with the first error"},
    {.name = "push-address", .type = SAT_ATTR_STRING, .description = "Bound push address"},
    {.name = "workers", .type = SAT_ATTR_INT, .description = "I/O worker threads"},
    {.name = "init-params", .type = SAT_ATTR_STRMAP,
     .description = "Every configuration key with its value; secrets show as ***"},
};

static const sat_attr_def reload_result[] = {
    {.name = "changes", .type = SAT_ATTR_STRLIST, .description = "key: old -> new"},
    {.name = "errors", .type = SAT_ATTR_STRLIST, .description = "each rejected key and why"},
};

static const sat_param_def set_param_params[] = {
    {.name = "name", .type = SAT_ATTR_STRING, .required = true,
     .description = "Configuration key, e.g. engine.heartbeat_s"},
    {.name = "value", .type = SAT_ATTR_STRING, .required = true, .description = "New value"},
};

static const sat_op_def fw_ops[] = {
    {.name = "reload",
     .description = "Re-read the configuration and apply it all or nothing",
     .result = reload_result, .result_count = 2, .invoke = fw_op_reload},
    {.name = "set-init-param",
     .description = "Set one key as a runtime override, kept across reloads",
     .params = set_param_params, .param_count = 2, .invoke = fw_op_set_param},
};

static const sat_type_def fw_type = {
    .name = "framework", .plural = "framework", .singleton = true,
    .description = "The push engine's configuration and reloads",
    .attrs = fw_attrs, .attr_count = sizeof fw_attrs / sizeof fw_attrs[0],
    .ops = fw_ops, .op_count = sizeof fw_ops / sizeof fw_ops[0], .read = fw_read,
};

/* ---- init-param ---- */

typedef struct param_ctx {
    sat_framework *fw;
    const sat_config_key *key;
} param_ctx;

static const char *const source_names[] = {"default", "file", "command-line", "runtime", NULL};
static const char *const cfg_type_names[] = {"int", "bool", "string", "enum", "address", NULL};

static int param_read(void *ctx, sat_record *out)
{
    param_ctx *p = ctx;
    char value[512];
    const sat_config_key *k = p->key;

    sat_record_set_str(out, "name", k->name);
    pthread_mutex_lock(&p->fw->cfg_lock);
    sat_record_set_str(out, "value", sat_config_text(p->fw->cfg, k->name, true, value, sizeof value));
    sat_record_set_enum(out, "source", (int)sat_config_source_of(p->fw->cfg, k->name));
    pthread_mutex_unlock(&p->fw->cfg_lock);
    sat_record_set_str(out, "default",
                       k->secret && k->default_text[0] != '\0' ? "***" : k->default_text);
    sat_record_set_enum(out, "type", (int)k->type);
    sat_record_set_str(out, "unit", k->unit ? k->unit : "");
    sat_record_set_bool(out, "restart", k->restart);
    sat_record_set_bool(out, "secret", k->secret);
    sat_record_set_str(out, "description", k->doc ? k->doc : "");
    return SAT_OK;
}

static int param_validate(void *ctx, const sat_value *value, char *errmsg, size_t errsize)
{
    param_ctx *p = ctx;
    sat_config_error e;

    if (p->key->restart) {
        snprintf(errmsg, errsize, "%s changes only after a restart", p->key->name);
        return SAT_ECONFLICT;
    }
    if (sat_config_check(p->key->name, value->v.s, &e) != SAT_OK) {
        snprintf(errmsg, errsize, "%s", e.message);
        return SAT_EINVAL;
    }
    return SAT_OK;
}

static int param_set(void *ctx, const sat_value *value, char *errmsg, size_t errsize)
{
    param_ctx *p = ctx;

    return sat_framework_set_param(p->fw, p->key->name, value->v.s, errmsg, errsize);
}

static const sat_attr_def param_attrs[] = {
    {.name = "name", .type = SAT_ATTR_STRING, .description = "Key as section.name"},
    {.name = "value", .type = SAT_ATTR_STRING, .validate = param_validate, .set = param_set,
     .description = "Value in force; writing it sets a runtime override"},
    {.name = "source", .type = SAT_ATTR_ENUM, .enum_names = source_names,
     .description = "Where the value came from"},
    {.name = "default", .type = SAT_ATTR_STRING, .description = "Built-in default"},
    {.name = "type", .type = SAT_ATTR_ENUM, .enum_names = cfg_type_names, .description = "Type"},
    {.name = "unit", .type = SAT_ATTR_STRING, .description = "Unit: s, ms, bytes, count or empty"},
    {.name = "restart", .type = SAT_ATTR_BOOL, .description = "Changes need a restart"},
    {.name = "secret", .type = SAT_ATTR_BOOL, .description = "Value is never shown"},
    {.name = "description", .type = SAT_ATTR_STRING, .description = "What the key sets"},
};

static const sat_type_def param_type = {
    .name = "init-param", .plural = "init-params",
    .description = "One configuration key with its value and source",
    .attrs = param_attrs, .attr_count = sizeof param_attrs / sizeof param_attrs[0],
    .read = param_read,
};

/* ---- statistics ---- */

static const char *const transport_keys[] = {"", "websocket", "sse", "long-polling", "streaming",
                                             "jsonp", "polling", "close"};

static int stats_read(void *ctx, sat_record *out)
{
    sat_framework *fw = ctx;
    sat_stats *s = &fw->stats;
    char name[64];
    int64_t active = 0;
    uint64_t total = 0;

    for (int t = SAT_TRANSPORT_WEBSOCKET; t <= SAT_TRANSPORT_POLLING; t++) {
        snprintf(name, sizeof name, "active-%s", transport_keys[t]);
        sat_record_set_gauge(out, name, atomic_load(&s->active[t]));
        active += atomic_load(&s->active[t]);
        snprintf(name, sizeof name, "total-%s", transport_keys[t]);
        sat_record_set_u64(out, name, atomic_load(&s->total[t]));
        total += atomic_load(&s->total[t]);
    }
    sat_record_set_gauge(out, "active", active);
    sat_record_set_u64(out, "total", total);
    sat_record_set_gauge(out, "connections", atomic_load(&s->connections));
#define U(field, attr) sat_record_set_u64(out, attr, atomic_load(&s->field))
    U(messages_broadcast, "messages-broadcast");
    sat_record_set_u64(out, "messages-delivered", sat__stats_delivered(fw));
    U(messages_received, "messages-received");
    sat_record_set_u64(out, "bytes-sent", sat__stats_bytes_sent(fw));
    U(clean_disconnects, "clean-disconnects");
    U(dirty_disconnects, "dirty-disconnects");
    U(closes, "closes");
    U(handshakes, "handshakes");
    U(reconnects, "reconnects");
    U(heartbeats_sent, "heartbeats-sent");
    U(close_messages, "close-messages");
    U(rejected_full, "rejected-full");
    U(rejected_backpressure, "rejected-backpressure");
    U(slow_consumers, "slow-consumers");
    U(dropped_frames, "dropped-frames");
    U(bad_requests, "bad-requests");
    U(timeouts, "timeouts");
#undef U
    sat_record_set_bool(out, "capturing", atomic_load(&s->capture));
    sat_record_set_time(out, "started", (int64_t)atomic_load(&s->started_ms));
    return SAT_OK;
}

static int stats_set_capturing(void *ctx, const sat_value *value, char *errmsg, size_t errsize)
{
    return sat_framework_set_param(ctx, "stats.capture", value->v.b ? "true" : "false", errmsg,
                                   errsize);
}

static int stats_op_enable(void *ctx, const sat_record *params, sat_record *result, char *errmsg,
                           size_t errsize)
{
    sat_value v = {.type = SAT_ATTR_BOOL, .v.b = true};

    (void)params;
    (void)result;
    return stats_set_capturing(ctx, &v, errmsg, errsize);
}

static int stats_op_disable(void *ctx, const sat_record *params, sat_record *result, char *errmsg,
                            size_t errsize)
{
    sat_value v = {.type = SAT_ATTR_BOOL, .v.b = false};

    (void)params;
    (void)result;
    return stats_set_capturing(ctx, &v, errmsg, errsize);
}

/* Zeroes the counters; gauges (active connections) keep their values. */
static int stats_op_reset(void *ctx, const sat_record *params, sat_record *result, char *errmsg,
                          size_t errsize)
{
    sat_stats *s = &((sat_framework *)ctx)->stats;
    atomic_ullong *counters[] = {
        &s->messages_broadcast, &s->messages_delivered, &s->messages_received, &s->bytes_sent,
        &s->clean_disconnects,  &s->dirty_disconnects,  &s->closes,            &s->handshakes,
        &s->reconnects,         &s->heartbeats_sent,    &s->close_messages,    &s->rejected_full,
        &s->rejected_backpressure, &s->slow_consumers,  &s->dropped_frames,    &s->bad_requests,
        &s->timeouts};

    (void)params;
    (void)result;
    (void)errmsg;
    (void)errsize;
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
        atomic_store(counters[i], 0);
    for (int t = 0; t < SAT_TRANSPORT_COUNT; t++)
        atomic_store(&s->total[t], 0);
    for (int i = 0; i < ((sat_framework *)ctx)->worker_count; i++) {
        atomic_store(&((sat_framework *)ctx)->workers[i].delivered, 0);
        atomic_store(&((sat_framework *)ctx)->workers[i].bytes_sent, 0);
    }
    SAT_INFO("statistics", "counters reset");
    return SAT_OK;
}

#define GAUGE(n, d) {.name = n, .type = SAT_ATTR_GAUGE, .description = d}
#define COUNTER(n, d) {.name = n, .type = SAT_ATTR_COUNTER, .description = d}

static const sat_attr_def stats_attrs[] = {
    GAUGE("active-websocket", "Connected WebSocket resources"),
    COUNTER("total-websocket", "WebSocket resources since start or reset"),
    GAUGE("active-sse", "Connected SSE resources"),
    COUNTER("total-sse", "SSE resources since start or reset"),
    GAUGE("active-long-polling", "Connected long-polling resources"),
    COUNTER("total-long-polling", "Long-polling resources since start or reset"),
    GAUGE("active-streaming", "Connected streaming resources"),
    COUNTER("total-streaming", "Streaming resources since start or reset"),
    GAUGE("active-jsonp", "Connected JSONP resources"),
    COUNTER("total-jsonp", "JSONP resources since start or reset"),
    GAUGE("active-polling", "Polling resources (always 0: polling never suspends)"),
    COUNTER("total-polling", "Polling resources"),
    GAUGE("active", "Connected resources, all transports"),
    COUNTER("total", "Resources, all transports"),
    GAUGE("connections", "Open TCP connections on the push port"),
    COUNTER("messages-broadcast", "Broadcast calls accepted"),
    COUNTER("messages-delivered", "Messages queued to resources"),
    COUNTER("messages-received", "Messages clients sent"),
    COUNTER("bytes-sent", "Bytes written on the push port"),
    COUNTER("clean-disconnects", "Disconnects announced by the client"),
    COUNTER("dirty-disconnects", "Connections lost without a close"),
    COUNTER("closes", "Resources closed by the server or an operator"),
    COUNTER("handshakes", "Protocol handshakes sent"),
    COUNTER("reconnects", "Reconnects served from the cache"),
    COUNTER("heartbeats-sent", "Heartbeats written"),
    COUNTER("close-messages", "Close messages received"),
    COUNTER("rejected-full", "Connections answered 503 at push.max_connections"),
    COUNTER("rejected-backpressure", "Broadcasts rejected at engine.broadcast_queue_max"),
    COUNTER("slow-consumers", "Times a client queue passed push.queue_max_bytes"),
    COUNTER("dropped-frames", "Frames dropped by the drop-oldest queue policy"),
    COUNTER("bad-requests", "Requests answered with an error status"),
    COUNTER("timeouts", "Connections closed by a timeout"),
    {.name = "capturing", .type = SAT_ATTR_BOOL, .set = stats_set_capturing,
     .description = "Counters are updated (stats.capture)"},
    {.name = "started", .type = SAT_ATTR_TIMESTAMP, .description = "Engine start time"},
};

static const sat_op_def stats_ops[] = {
    {.name = "enable", .description = "Start counting", .invoke = stats_op_enable},
    {.name = "disable", .description = "Stop counting", .invoke = stats_op_disable},
    {.name = "reset", .description = "Zero every counter", .invoke = stats_op_reset},
};

static const sat_type_def stats_type = {
    .name = "statistics", .plural = "statistics", .singleton = true,
    .description = "Connection and message counters",
    .attrs = stats_attrs, .attr_count = sizeof stats_attrs / sizeof stats_attrs[0],
    .ops = stats_ops, .op_count = sizeof stats_ops / sizeof stats_ops[0], .read = stats_read,
};

/* ---- interceptors ---- */

typedef struct icp_desc {
    const char *name;
    const char *key; /* configuration switch, or NULL when built in */
    int priority;
    const char *description;
    const char *setting; /* one related key shown as a setting, or NULL */
} icp_desc;

static const icp_desc icp_table[] = {
    {"cors", "interceptors.cors", 0, "CORS headers and preflight answers", NULL},
    {"cache-headers", "push.no_cache_headers", 10, "No-cache response headers", NULL},
    {"padding", "interceptors.padding", 10, "Whitespace prelude for streaming and long-polling",
     "engine.padding_bytes"},
    {"heartbeat", "interceptors.heartbeat", 10, "Server heartbeats after silence",
     "engine.heartbeat_s"},
    {"sse", "interceptors.sse", 10, "SSE framing; off rejects the sse transport", NULL},
    {"jsonp", "interceptors.jsonp", 10, "JSONP framing; off rejects the jsonp transport", NULL},
    {"javascript-protocol", "engine.enforce_protocol", 10,
     "Protocol version check (the handshake is always sent when asked for)",
     "engine.min_protocol_version"},
    {"track-message-size", "interceptors.track_message_size", 5,
     "Length-prefix framing for clients that ask for it", NULL},
    {"on-disconnect", "interceptors.on_disconnect", 10, "Close messages end the resource", NULL},
    {"idle-resource", "interceptors.idle_resource", 5, "Closes resources idle too long",
     "interceptors.idle_resource_ms"},
    {"suspend-tracker", NULL, 5,
     "Keeps one resource per tracking id across polls (built in)", NULL},
    {"lifecycle", NULL, 10, "Suspends subscribing requests (built in)", NULL},
};

#define ICP_COUNT (sizeof icp_table / sizeof icp_table[0])

typedef struct icp_ctx {
    sat_framework *fw;
    const icp_desc *d;
} icp_ctx;

static int icp_read(void *ctx, sat_record *out)
{
    icp_ctx *ic = ctx;
    char value[256];

    sat_record_set_str(out, "name", ic->d->name);
    sat_record_set_int(out, "priority", ic->d->priority);
    pthread_mutex_lock(&ic->fw->cfg_lock);
    sat_record_set_bool(out, "enabled", ic->d->key ? sat_config_bool(ic->fw->cfg, ic->d->key) : true);
    sat_record_set_str(out, "switch", ic->d->key ? ic->d->key : "");
    sat_record_set_strmap(out, "settings", NULL, NULL, 0);
    if (ic->d->setting != NULL)
        sat_record_append_pair(out, "settings", ic->d->setting,
                               sat_config_text(ic->fw->cfg, ic->d->setting, true, value,
                                               sizeof value));
    pthread_mutex_unlock(&ic->fw->cfg_lock);
    if (strcmp(ic->d->name, "suspend-tracker") == 0) {
        pthread_mutex_lock(&ic->fw->res_lock);
        sat_record_set_gauge(out, "tracked", (int64_t)ic->fw->res_count);
        pthread_mutex_unlock(&ic->fw->res_lock);
    }
    sat_record_set_str(out, "description", ic->d->description);
    return SAT_OK;
}

static int icp_switch(icp_ctx *ic, bool on, char *errmsg, size_t errsize)
{
    if (ic->d->key == NULL) {
        snprintf(errmsg, errsize, "%s is built into the engine and cannot be switched",
                 ic->d->name);
        return SAT_ENOTSUP;
    }
    return sat_framework_set_param(ic->fw, ic->d->key, on ? "true" : "false", errmsg, errsize);
}

static int icp_set_enabled(void *ctx, const sat_value *value, char *errmsg, size_t errsize)
{
    return icp_switch(ctx, value->v.b, errmsg, errsize);
}

static int icp_op_enable(void *ctx, const sat_record *params, sat_record *result, char *errmsg,
                         size_t errsize)
{
    (void)params;
    (void)result;
    return icp_switch(ctx, true, errmsg, errsize);
}

static int icp_op_disable(void *ctx, const sat_record *params, sat_record *result, char *errmsg,
                          size_t errsize)
{
    (void)params;
    (void)result;
    return icp_switch(ctx, false, errmsg, errsize);
}

static const sat_attr_def icp_attrs[] = {
    {.name = "name", .type = SAT_ATTR_STRING, .description = "Interceptor name"},
    {.name = "priority", .type = SAT_ATTR_INT, .description = "Order in the chain, lower first"},
    {.name = "enabled", .type = SAT_ATTR_BOOL, .set = icp_set_enabled,
     .description = "Switched on"},
    {.name = "switch", .type = SAT_ATTR_STRING,
     .description = "Configuration key behind enabled, empty when built in"},
    {.name = "settings", .type = SAT_ATTR_STRMAP, .description = "Related configuration"},
    {.name = "tracked", .type = SAT_ATTR_GAUGE,
     .description = "suspend-tracker only: tracking ids known"},
    {.name = "description", .type = SAT_ATTR_STRING, .description = "What it does"},
};

static const sat_op_def icp_ops[] = {
    {.name = "enable", .description = "Switch on", .invoke = icp_op_enable},
    {.name = "disable", .description = "Switch off", .invoke = icp_op_disable},
};

static const sat_type_def icp_type = {
    .name = "interceptor", .plural = "interceptors",
    .description = "A step of the request and write pipeline",
    .attrs = icp_attrs, .attr_count = sizeof icp_attrs / sizeof icp_attrs[0],
    .ops = icp_ops, .op_count = sizeof icp_ops / sizeof icp_ops[0], .read = icp_read,
    .per_object_metrics = true,
};

/* ---- async-support, factory, websocket ---- */

static int async_read(void *ctx, sat_record *out)
{
    sat_framework *fw = ctx;
    char addr[300];

    sat_record_set_str(out, "server", "satellited");
    sat_record_set_str(out, "version", SAT_VERSION_STRING);
    sat_record_set_strlist(out, "transports", NULL, 0);
    for (int t = SAT_TRANSPORT_WEBSOCKET; t <= SAT_TRANSPORT_POLLING; t++)
        sat_record_append_str(out, "transports", transport_keys[t]);
    sat_record_set_bool(out, "websocket-enabled", SAT_SETTINGS(fw)->websocket_enabled);
    sat_record_set_str(out, "push-address", sat_framework_push_address(fw, addr, sizeof addr));
    return SAT_OK;
}

static const sat_attr_def async_attrs[] = {
    {.name = "server", .type = SAT_ATTR_STRING, .description = "Server name"},
    {.name = "version", .type = SAT_ATTR_STRING, .description = "Server version"},
    {.name = "transports", .type = SAT_ATTR_STRLIST, .description = "Transports served"},
    {.name = "websocket-enabled", .type = SAT_ATTR_BOOL, .description = "websocket.enabled"},
    {.name = "push-address", .type = SAT_ATTR_STRING, .description = "Bound push address"},
};

static const sat_type_def async_type = {
    .name = "async-support", .plural = "async-support", .singleton = true,
    .description = "What the push server supports",
    .attrs = async_attrs, .attr_count = sizeof async_attrs / sizeof async_attrs[0],
    .read = async_read,
};

static int factory_read(void *ctx, sat_record *out)
{
    sat_framework *fw = ctx;

    pthread_mutex_lock(&fw->bc_lock);
    sat_record_set_gauge(out, "broadcasters", (int64_t)fw->bc_count);
    pthread_mutex_unlock(&fw->bc_lock);
    pthread_mutex_lock(&fw->res_lock);
    sat_record_set_gauge(out, "resources", (int64_t)fw->res_count);
    pthread_mutex_unlock(&fw->res_lock);
    sat_record_set_gauge(out, "websocket-processors",
                         atomic_load(&fw->stats.active[SAT_TRANSPORT_WEBSOCKET]));
    return SAT_OK;
}

static int factory_op_find(void *ctx, const sat_record *params, sat_record *result, char *errmsg,
                           size_t errsize)
{
    sat_resource *r = sat__resource_find(ctx, sat_record_get(params, "uuid")->v.s);

    if (r == NULL) {
        snprintf(errmsg, errsize, "no resource with that tracking id");
        return SAT_ENOTFOUND;
    }
    sat_record_set_str(result, "uuid", r->uuid);
    sat_record_set_str(result, "transport", sat_transport_name(r->transport));
    sat_record_set_str(result, "broadcaster", r->bc->id);
    sat__resource_unref(r);
    return SAT_OK;
}

static const sat_attr_def factory_attrs[] = {
    {.name = "broadcasters", .type = SAT_ATTR_GAUGE, .description = "Live broadcasters"},
    {.name = "resources", .type = SAT_ATTR_GAUGE, .description = "Live resources"},
    {.name = "websocket-processors", .type = SAT_ATTR_GAUGE,
     .description = "Connected WebSocket resources"},
};

static const sat_attr_def find_result[] = {
    {.name = "uuid", .type = SAT_ATTR_STRING, .description = "Tracking id"},
    {.name = "transport", .type = SAT_ATTR_STRING, .description = "Transport"},
    {.name = "broadcaster", .type = SAT_ATTR_STRING, .description = "Broadcaster id"},
};

static const sat_param_def find_params[] = {
    {.name = "uuid", .type = SAT_ATTR_STRING, .required = true, .description = "Tracking id"}};

static const sat_op_def factory_ops[] = {
    {.name = "find-resource", .description = "Look up a resource by tracking id",
     .params = find_params, .param_count = 1, .result = find_result, .result_count = 3,
     .invoke = factory_op_find},
};

static const sat_type_def factory_type = {
    .name = "factory", .plural = "factory", .singleton = true,
    .description = "Counts of the objects the engine created",
    .attrs = factory_attrs, .attr_count = sizeof factory_attrs / sizeof factory_attrs[0],
    .ops = factory_ops, .op_count = 1, .read = factory_read,
};

static int ws_read(void *ctx, sat_record *out)
{
    sat_framework *fw = ctx;

    sat_record_set_bool(out, "enabled", SAT_SETTINGS(fw)->websocket_enabled);
    sat_record_set_int(out, "max-message-bytes", (int64_t)SAT_SETTINGS(fw)->ws_max_message_bytes);
    sat_record_set_duration(out, "idle-timeout", (int64_t)SAT_SETTINGS(fw)->ws_idle_timeout_ms);
    sat_record_set_duration(out, "close-timeout", (int64_t)SAT_SETTINGS(fw)->ws_close_timeout_ms);
    sat_record_set_gauge(out, "connections", atomic_load(&fw->stats.active[SAT_TRANSPORT_WEBSOCKET]));
    sat_record_set_strlist(out, "handlers", NULL, 0);
    for (size_t i = 0; i < fw->route_count; i++)
        sat_record_append_str(out, "handlers", fw->routes[i].prefix);
    if (fw->route_count == 0)
        sat_record_append_str(out, "handlers", "default: broadcast to the path's broadcaster");
    return SAT_OK;
}

static const sat_attr_def ws_attrs[] = {
    {.name = "enabled", .type = SAT_ATTR_BOOL, .description = "websocket.enabled"},
    {.name = "max-message-bytes", .type = SAT_ATTR_INT,
     .description = "Largest client message (websocket.max_message_bytes)"},
    {.name = "idle-timeout", .type = SAT_ATTR_DURATION, .description = "websocket.idle_timeout_ms"},
    {.name = "close-timeout", .type = SAT_ATTR_DURATION,
     .description = "Wait for the peer's close frame (websocket.close_timeout_ms)"},
    {.name = "connections", .type = SAT_ATTR_GAUGE, .description = "Connected WebSocket resources"},
    {.name = "handlers", .type = SAT_ATTR_STRLIST, .description = "Message handlers by path prefix"},
};

static const sat_type_def ws_type = {
    .name = "websocket", .plural = "websocket", .singleton = true,
    .description = "WebSocket settings",
    .attrs = ws_attrs, .attr_count = sizeof ws_attrs / sizeof ws_attrs[0], .read = ws_read,
};

/* ---- lifecycle ---- */

static const sat_type_def *const singleton_types[] = {&fw_type, &stats_type, &async_type,
                                                      &factory_type, &ws_type};
#define SINGLETON_COUNT (sizeof singleton_types / sizeof singleton_types[0])

void sat__introspect_init(sat_framework *fw)
{
    int rc = SAT_ENOMEM;

    fw->registry = sat_registry_new(0);
    if (fw->registry == NULL)
        goto fail;
    rc = sat__introspect_register_objects(fw->registry);
    for (size_t i = 0; i < SINGLETON_COUNT && rc == SAT_OK; i++)
        rc = sat_registry_register_type(fw->registry, singleton_types[i]);
    if (rc == SAT_OK)
        rc = sat_registry_register_type(fw->registry, &icp_type);
    if (rc == SAT_OK)
        rc = sat_registry_register_type(fw->registry, &param_type);
    if (rc == SAT_OK)
        return;
fail:
    SAT_ERROR("registry", "introspection registry unavailable: %s", sat_strerror(rc));
    sat_registry_free(fw->registry);
    fw->registry = NULL;
}

/* Adds the singletons, interceptors and init parameters; runs once, when
 * the framework starts. */
void sat__introspect_publish(sat_framework *fw)
{
    size_t nkeys = sat_config_key_count();
    icp_ctx *icps;
    param_ctx *params;

    if (fw->registry == NULL || fw->reg_params != NULL)
        return;
    for (size_t i = 0; i < SINGLETON_COUNT; i++) {
        sat_registry_object *obj = NULL;

        if (sat_registry_add(fw->registry, singleton_types[i]->name, "", fw, &obj) == SAT_OK)
            fw->reg_singletons[i] = obj;
    }
    icps = calloc(ICP_COUNT, sizeof *icps);
    params = calloc(nkeys, sizeof *params);
    fw->reg_param_objs = calloc(nkeys + ICP_COUNT, sizeof *fw->reg_param_objs);
    if (icps == NULL || params == NULL || fw->reg_param_objs == NULL) {
        free(icps);
        free(params);
        free(fw->reg_param_objs);
        fw->reg_param_objs = NULL;
        return;
    }
    fw->reg_params = params;
    fw->reg_interceptors[0] = icps;
    for (size_t i = 0; i < ICP_COUNT; i++) {
        sat_registry_object *obj = NULL;

        icps[i] = (icp_ctx){fw, &icp_table[i]};
        if (sat_registry_add(fw->registry, "interceptor", icp_table[i].name, &icps[i], &obj) ==
            SAT_OK)
            fw->reg_param_objs[nkeys + i] = obj;
    }
    for (size_t i = 0; i < nkeys; i++) {
        sat_registry_object *obj = NULL;

        params[i] = (param_ctx){fw, sat_config_key_at(i)};
        if (sat_registry_add(fw->registry, "init-param", params[i].key->name, &params[i], &obj) ==
            SAT_OK)
            fw->reg_param_objs[i] = obj;
    }
}

void sat__introspect_reloaded(sat_framework *fw, bool ok)
{
    if (fw->reg_singletons[0] != NULL)
        sat_registry_notify_changed(fw->reg_singletons[0], ok ? "generation" : "last-reload-result");
}

void sat__introspect_free(sat_framework *fw)
{
    size_t nkeys = sat_config_key_count();

    if (fw->registry == NULL)
        return;
    for (size_t i = 0; i < SINGLETON_COUNT; i++)
        sat_registry_remove(fw->reg_singletons[i]);
    if (fw->reg_param_objs != NULL) {
        for (size_t i = 0; i < nkeys + ICP_COUNT; i++)
            sat_registry_remove(fw->reg_param_objs[i]);
    }
    free(fw->reg_param_objs);
    free(fw->reg_params);
    free(fw->reg_interceptors[0]);
    sat_registry_free(fw->registry);
    fw->registry = NULL;
}
