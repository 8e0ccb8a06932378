/* SPDX-License-Identifier: Apache-2.0 */
/* Publishes broadcasters, their caches and configurations, resources and
 * the factory in the introspection registry. Singletons about the whole
 * engine (framework, statistics, interceptors...) are in
 * introspect_engine.c. Reads take atomics or short locks; operations that
 * touch a connection hop to its worker through the framework API. */
#include "engine.h"
#include "introspect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESOURCE_IDS_MAX 1000 /* ids listed in one broadcaster read */
#define CACHE_IDS_MAX 100     /* message ids listed in one cache read */
#define OP_TIMEOUT_MS 5000

const char *const sat__transport_names[] = {"undefined", "websocket", "sse",  "long-polling",
                                            "streaming", "jsonp",     "polling", "close",
                                            NULL};
static const char *const state_names[] = {"suspended", "resumed", "cancelled", NULL};
static const char *const lifecycle_names[] = {"never",        "idle",  "idle-resume",
                                              "idle-destroy", "idle-empty-destroy",
                                              "empty",        "empty-destroy", NULL};

int sat__op_error(int rc, char *errmsg, size_t errsize, const char *what)
{
    if (rc != SAT_OK)
        snprintf(errmsg, errsize, "%s: %s", what, sat_strerror(rc));
    return rc;
}

/* ---- broadcaster ---- */

static void bc_ref(void *ctx)
{
    sat__broadcaster_ref(ctx);
}

static void bc_unref(void *ctx)
{
    sat_broadcaster_unref(ctx);
}

static void append_resource_ids(sat_broadcaster *b, sat_record *out)
{
    sat_framework *fw = b->fw;
    size_t n = 0;

    sat_record_set_strlist(out, "resource-ids", NULL, 0);
    pthread_mutex_lock(&fw->res_lock);
    for (size_t i = 0; i < fw->res_cap && n < RESOURCE_IDS_MAX; i++) {
        for (sat_resource *r = fw->res_table[i]; r != NULL && n < RESOURCE_IDS_MAX; r = r->hnext) {
            if (r->bc == b) {
                sat_record_append_str(out, "resource-ids", r->uuid);
                n++;
            }
        }
    }
    pthread_mutex_unlock(&fw->res_lock);
}

static void append_filters(sat_broadcaster *b, sat_record *out)
{
    sat_record_set_strlist(out, "filters", NULL, 0);
    pthread_mutex_lock(&b->lock);
    for (sat_filter *f = b->filters; f != NULL; f = f->next)
        sat_record_append_str(out, "filters", f->name);
    pthread_mutex_unlock(&b->lock);
}

static int bc_read(void *ctx, sat_record *out)
{
    sat_broadcaster *b = ctx;

    sat_record_set_str(out, "id", b->id);
    sat_record_set_str(out, "scope", "application");
    sat_record_set_enum(out, "lifecycle-policy", SAT_SETTINGS(b->fw)->lifecycle);
    sat_record_set_str(out, "delivery-policy", "fifo");
    sat_record_set_gauge(out, "resource-count", atomic_load(&b->resource_count));
    append_resource_ids(b, out);
    append_filters(b, out);
    sat_record_set_u64(out, "messages", atomic_load(&b->messages));
    sat_record_set_time(out, "created", (int64_t)b->created_ms);
    sat_record_set_time(out, "last-activity", (int64_t)atomic_load(&b->last_activity_ms));
    sat_record_set_bool(out, "destroyed", atomic_load(&b->destroyed));
    return SAT_OK;
}

static int bc_op_broadcast(void *ctx, const sat_record *params, sat_record *result, char *errmsg,
                           size_t errsize)
{
    const sat_value *m = sat_record_get(params, "message");
    sat_msgid id;
    char text[48];
    int rc = sat_broadcaster_broadcast(ctx, m->v.s, strlen(m->v.s), &id);

    if (rc == SAT_ELIMIT) {
        snprintf(errmsg, errsize, "broadcast queue full (engine.broadcast_queue_max); retry");
        return SAT_ETIMEDOUT;
    }
    if (rc == SAT_EINVAL) {
        snprintf(errmsg, errsize, "message exceeds engine.max_message_bytes");
        return rc;
    }
    if (rc != SAT_OK)
        return sat__op_error(rc, errmsg, errsize, "broadcast failed");
    sat_record_set_str(result, "message-id", sat_msgid_format(id, text, sizeof text));
    return SAT_OK;
}

static int bc_op_destroy(void *ctx, const sat_record *params, sat_record *result, char *errmsg,
                         size_t errsize)
{
    (void)params;
    (void)result;
    return sat__op_error(sat_broadcaster_destroy(ctx), errmsg, errsize, "destroy failed");
}

static int bc_op_resume_all(void *ctx, const sat_record *params, sat_record *result, char *errmsg,
                            size_t errsize)
{
    (void)params;
    (void)result;
    return sat__op_error(sat__broadcaster_resume_all(ctx), errmsg, errsize, "resume-all failed");
}

static const sat_attr_def bc_attrs[] = {
    {.name = "id", .type = SAT_ATTR_STRING, .description = "Broadcaster id (the path)"},
    {.name = "scope", .type = SAT_ATTR_STRING, .description = "Scope: application"},
    {.name = "lifecycle-policy", .type = SAT_ATTR_ENUM, .enum_names = lifecycle_names,
     .description = "What happens when the broadcaster is idle or empty"},
    {.name = "delivery-policy", .type = SAT_ATTR_STRING,
     .description = "Order guarantee: fifo per resource"},
    {.name = "resource-count", .type = SAT_ATTR_GAUGE, .description = "Subscribed requests"},
    {.name = "resource-ids", .type = SAT_ATTR_STRLIST,
     .description = "Tracking ids of its resources (at most 1000)"},
    {.name = "filters", .type = SAT_ATTR_STRLIST, .description = "Broadcast filters in order"},
    {.name = "messages", .type = SAT_ATTR_COUNTER, .description = "Messages broadcast"},
    {.name = "created", .type = SAT_ATTR_TIMESTAMP, .description = "Creation time"},
    {.name = "last-activity", .type = SAT_ATTR_TIMESTAMP, .description = "Last broadcast"},
    {.name = "destroyed", .type = SAT_ATTR_BOOL, .description = "Destroyed, pending release"},
};

static const sat_param_def message_param[] = {
    {.name = "message", .type = SAT_ATTR_STRING, .required = true,
     .description = "UTF-8 text to send"}};
static const sat_attr_def broadcast_result[] = {
    {.name = "message-id", .type = SAT_ATTR_STRING, .description = "Id of the message"}};

static const sat_op_def bc_ops[] = {
    {.name = "broadcast", .description = "Send a message to every subscriber",
     .params = message_param, .param_count = 1, .result = broadcast_result, .result_count = 1,
     .invoke = bc_op_broadcast},
    {.name = "destroy", .description = "Close every subscriber and remove the broadcaster",
     .invoke = bc_op_destroy},
    {.name = "resume-all", .description = "End every suspended long-poll and streaming response",
     .invoke = bc_op_resume_all},
};

static const sat_type_def bc_type = {
    .name = "broadcaster",
    .plural = "broadcasters",
    .description = "A topic: every subscriber of a path receives what is broadcast to it",
    .attrs = bc_attrs,
    .attr_count = sizeof bc_attrs / sizeof bc_attrs[0],
    .ops = bc_ops,
    .op_count = sizeof bc_ops / sizeof bc_ops[0],
    .read = bc_read,
    .ref = bc_ref,
    .unref = bc_unref,
    .per_object_metrics = true,
};

/* ---- broadcaster-cache ---- */

static int cache_read(void *ctx, sat_record *out)
{
    sat_broadcaster *b = ctx;
    sat_cache_stats st;
    sat_cache_limits lim;
    sat_cache_entry entries[CACHE_IDS_MAX];
    size_t n;

    sat__cache_stats(b->cache, &st);
    sat__cache_get_limits(b->cache, &lim);
    sat_record_set_str(out, "id", b->id);
    sat_record_set_gauge(out, "active-clients", (int64_t)st.active_clients);
    sat_record_set_gauge(out, "clients", (int64_t)st.clients);
    sat_record_set_gauge(out, "cached-messages", (int64_t)st.messages);
    sat_record_set_gauge(out, "bytes", (int64_t)st.bytes);
    sat_record_set_u64(out, "added", st.added);
    sat_record_set_u64(out, "evictions",
                       st.evicted_count + st.evicted_bytes + st.evicted_age);
    sat_record_set_u64(out, "hits", st.hits);
    sat_record_set_u64(out, "misses", st.misses);
    sat_record_set_u64(out, "gaps", st.gaps);
    sat_record_set_u64(out, "expired-clients", st.expired_clients);
    sat_record_set_int(out, "max-messages", (int64_t)lim.max_messages);
    sat_record_set_int(out, "max-bytes", (int64_t)lim.max_bytes);
    sat_record_set_duration(out, "max-age", (int64_t)lim.max_age_ms);
    sat_record_set_duration(out, "client-idle", (int64_t)lim.client_idle_ms);
    n = sat__cache_list(b->cache, (sat_msgid){0, 0}, entries, CACHE_IDS_MAX);
    sat_record_set_strlist(out, "message-ids", NULL, 0);
    for (size_t i = 0; i < n; i++) {
        char text[48];

        sat_record_append_str(out, "message-ids", sat_msgid_format(entries[i].id, text, sizeof text));
    }
    return SAT_OK;
}

static int cache_op_add(void *ctx, const sat_record *params, sat_record *result, char *errmsg,
                        size_t errsize)
{
    sat_broadcaster *b = ctx;
    const sat_value *m = sat_record_get(params, "message");
    sat_msg *msg = sat__msg_new(m->v.s, strlen(m->v.s), 0);
    char text[48];
    int rc;

    if (msg == NULL)
        return sat__op_error(SAT_ENOMEM, errmsg, errsize, "add-message failed");
    /* The id comes from the broadcaster's sequence, so cached and broadcast
     * messages stay in one order; clients get it when they next attach. */
    pthread_mutex_lock(&b->lock);
    msg->id = sat__broadcaster_next_id(b);
    msg->created_ms = sat__now_ms();
    rc = sat__cache_add(b->cache, msg, msg->created_ms);
    pthread_mutex_unlock(&b->lock);
    if (rc == SAT_OK)
        sat_record_set_str(result, "message-id", sat_msgid_format(msg->id, text, sizeof text));
    sat__msg_unref(msg);
    return sat__op_error(rc, errmsg, errsize, "add-message failed (is the cache enabled?)");
}

static int cache_op_delete(void *ctx, const sat_record *params, sat_record *result, char *errmsg,
                           size_t errsize)
{
    sat_broadcaster *b = ctx;
    const sat_value *v = sat_record_get(params, "message-id");
    sat_msgid id;

    (void)result;
    if (sat_msgid_parse(v->v.s, &id) != SAT_OK) {
        snprintf(errmsg, errsize, "invalid message-id '%.60s': expected <ms>-<seq>", v->v.s);
        return SAT_EINVAL;
    }
    return sat__op_error(sat__cache_delete(b->cache, id), errmsg, errsize, "delete-message failed");
}

static int cache_op_exclude(void *ctx, const sat_record *params, sat_record *result, char *errmsg,
                            size_t errsize)
{
    sat_broadcaster *b = ctx;

    (void)result;
    (void)errmsg;
    (void)errsize;
    sat__cache_forget(b->cache, sat_record_get(params, "uuid")->v.s);
    return SAT_OK;
}

static int cache_op_clear(void *ctx, const sat_record *params, sat_record *result, char *errmsg,
                          size_t errsize)
{
    (void)params;
    (void)result;
    (void)errmsg;
    (void)errsize;
    sat__cache_clear(((sat_broadcaster *)ctx)->cache);
    return SAT_OK;
}

static const sat_attr_def cache_attrs[] = {
    {.name = "id", .type = SAT_ATTR_STRING, .description = "Broadcaster id"},
    {.name = "active-clients", .type = SAT_ATTR_GAUGE, .description = "Tracked ids connected now"},
    {.name = "clients", .type = SAT_ATTR_GAUGE, .description = "Tracked ids"},
    {.name = "cached-messages", .type = SAT_ATTR_GAUGE, .description = "Messages kept"},
    {.name = "bytes", .type = SAT_ATTR_GAUGE, .description = "Payload bytes kept"},
    {.name = "added", .type = SAT_ATTR_COUNTER, .description = "Messages stored"},
    {.name = "evictions", .type = SAT_ATTR_COUNTER,
     .description = "Messages evicted by the count, byte or age bound"},
    {.name = "hits", .type = SAT_ATTR_COUNTER, .description = "Reconnects that got a backlog"},
    {.name = "misses", .type = SAT_ATTR_COUNTER, .description = "Reconnects with nothing to send"},
    {.name = "gaps", .type = SAT_ATTR_COUNTER,
     .description = "Reconnects that missed evicted messages"},
    {.name = "expired-clients", .type = SAT_ATTR_COUNTER,
     .description = "Tracked ids forgotten after cache.client_idle_ms"},
    {.name = "max-messages", .type = SAT_ATTR_INT, .description = "cache.max_messages"},
    {.name = "max-bytes", .type = SAT_ATTR_INT, .description = "cache.max_bytes"},
    {.name = "max-age", .type = SAT_ATTR_DURATION, .description = "cache.max_age_ms"},
    {.name = "client-idle", .type = SAT_ATTR_DURATION, .description = "cache.client_idle_ms"},
    {.name = "message-ids", .type = SAT_ATTR_STRLIST,
     .description = "Ids of the oldest cached messages (at most 100)"},
};

static const sat_param_def msgid_param[] = {
    {.name = "message-id", .type = SAT_ATTR_STRING, .required = true,
     .description = "Message id as <ms>-<seq>"}};
static const sat_param_def uuid_param[] = {
    {.name = "uuid", .type = SAT_ATTR_STRING, .required = true,
     .description = "Tracking id of the client"}};

static const sat_op_def cache_ops[] = {
    {.name = "add-message", .description = "Store a message for clients that reconnect",
     .params = message_param, .param_count = 1, .result = broadcast_result, .result_count = 1,
     .invoke = cache_op_add},
    {.name = "exclude-message", .description = "Stop keeping messages for one tracking id",
     .params = uuid_param, .param_count = 1, .invoke = cache_op_exclude},
    {.name = "delete-message", .description = "Remove one cached message",
     .params = msgid_param, .param_count = 1, .invoke = cache_op_delete},
    {.name = "clear", .description = "Remove every cached message", .invoke = cache_op_clear},
};

static const sat_type_def cache_type = {
    .name = "broadcaster-cache",
    .plural = "broadcaster-caches",
    .description = "Messages kept for clients that are away, per broadcaster",
    .attrs = cache_attrs,
    .attr_count = sizeof cache_attrs / sizeof cache_attrs[0],
    .ops = cache_ops,
    .op_count = sizeof cache_ops / sizeof cache_ops[0],
    .read = cache_read,
    .ref = bc_ref,
    .unref = bc_unref,
    .per_object_metrics = true,
};

/* ---- broadcaster-config ---- */

static int bconf_read(void *ctx, sat_record *out)
{
    sat_broadcaster *b = ctx;

    sat_record_set_str(out, "id", b->id);
    append_filters(b, out);
    sat_record_set_int(out, "workers", b->fw->worker_count);
    sat_record_set_int(out, "broadcast-queue-max", (int64_t)SAT_SETTINGS(b->fw)->broadcast_queue_max);
    return SAT_OK;
}

static int bconf_op_remove_filter(void *ctx, const sat_record *params, sat_record *result,
                                  char *errmsg, size_t errsize)
{
    (void)result;
    return sat__op_error(sat_broadcaster_remove_filter(ctx, sat_record_get(params, "name")->v.s),
                         errmsg, errsize, "remove-filter failed");
}

static const sat_attr_def bconf_attrs[] = {
    {.name = "id", .type = SAT_ATTR_STRING, .description = "Broadcaster id"},
    {.name = "filters", .type = SAT_ATTR_STRLIST, .description = "Broadcast filters in order"},
    {.name = "workers", .type = SAT_ATTR_INT, .description = "I/O workers delivering messages"},
    {.name = "broadcast-queue-max", .type = SAT_ATTR_INT,
     .description = "Messages queued per worker before back-pressure"},
};

static const sat_param_def name_param[] = {
    {.name = "name", .type = SAT_ATTR_STRING, .required = true, .description = "Filter name"}};

static const sat_op_def bconf_ops[] = {
    {.name = "remove-filter", .description = "Remove a broadcast filter by name",
     .params = name_param, .param_count = 1, .invoke = bconf_op_remove_filter},
    {.name = "destroy", .description = "Destroy the broadcaster", .invoke = bc_op_destroy},
};

static const sat_type_def bconf_type = {
    .name = "broadcaster-config",
    .plural = "broadcaster-configs",
    .description = "Filters and executor settings of a broadcaster",
    .attrs = bconf_attrs,
    .attr_count = sizeof bconf_attrs / sizeof bconf_attrs[0],
    .ops = bconf_ops,
    .op_count = sizeof bconf_ops / sizeof bconf_ops[0],
    .read = bconf_read,
    .ref = bc_ref,
    .unref = bc_unref,
};

/* ---- resource ---- */

static void res_ref(void *ctx)
{
    sat__resource_ref(ctx);
}

static void res_unref(void *ctx)
{
    sat__resource_unref(ctx);
}

static void append_headers(sat_resource *r, sat_record *out)
{
    const char *p = r->headers;

    sat_record_set_strmap(out, "headers", NULL, NULL, 0);
    while (p != NULL && *p != '\0') {
        const char *colon = strchr(p, ':');
        const char *end = strchr(p, '\n');
        char name[128];

        if (colon == NULL || end == NULL || colon > end)
            break;
        snprintf(name, sizeof name, "%.*s", (int)(colon - p), p);
        {
            char *value = strndup(colon + 2, (size_t)(end - colon - 2));

            if (value != NULL)
                sat_record_append_pair(out, "headers", name, value);
            free(value);
        }
        p = end + 1;
    }
}

static int res_read(void *ctx, sat_record *out)
{
    sat_resource *r = ctx;

    sat_record_set_str(out, "uuid", r->uuid);
    sat_record_set_enum(out, "transport", (int)r->transport);
    sat_record_set_enum(out, "state", atomic_load(&r->state));
    sat_record_set_str(out, "broadcaster", r->bc->id);
    sat_record_set_str(out, "remote-address", r->remote);
    sat_record_set_str(out, "user-agent", r->user_agent ? r->user_agent : "");
    sat_record_set_str(out, "query-string", r->query ? r->query : "");
    append_headers(r, out);
    sat_record_set_time(out, "connected-since", (int64_t)r->connected_ms);
    sat_record_set_time(out, "last-activity", (int64_t)atomic_load(&r->last_activity_ms));
    sat_record_set_u64(out, "messages-sent", atomic_load(&r->messages_sent));
    sat_record_set_u64(out, "bytes-sent", atomic_load(&r->bytes_sent));
    sat_record_set_gauge(out, "queue-depth", (int64_t)atomic_load(&r->queue_bytes));
    return SAT_OK;
}

static int res_result(int rc, char *errmsg, size_t errsize, const char *op)
{
    if (rc == SAT_ECONFLICT)
        snprintf(errmsg, errsize, "%s: the resource has no suspended request now", op);
    else if (rc == SAT_ETIMEDOUT)
        snprintf(errmsg, errsize, "%s: the worker did not answer within %d ms", op,
                 OP_TIMEOUT_MS);
    else if (rc != SAT_OK)
        snprintf(errmsg, errsize, "%s: %s", op, sat_strerror(rc));
    return rc;
}

static int res_op_resume(void *ctx, const sat_record *params, sat_record *result, char *errmsg,
                         size_t errsize)
{
    sat_resource *r = ctx;

    (void)params;
    (void)result;
    return res_result(sat_framework_resume(r->fw, r->uuid, OP_TIMEOUT_MS), errmsg, errsize,
                      "resume");
}

static int res_op_close(void *ctx, const sat_record *params, sat_record *result, char *errmsg,
                        size_t errsize)
{
    sat_resource *r = ctx;
    int rc;

    (void)params;
    (void)result;
    rc = sat_framework_close(r->fw, r->uuid, OP_TIMEOUT_MS);
    if (rc == SAT_ECONFLICT) {
        /* Between two polls there is no request to end: disconnect now. */
        atomic_fetch_add(&r->fw->stats.closes, 1);
        sat__atmo_disconnect(r, false, true);
        rc = SAT_OK;
    }
    return res_result(rc, errmsg, errsize, "close");
}

static int res_op_write(void *ctx, const sat_record *params, sat_record *result, char *errmsg,
                        size_t errsize)
{
    sat_resource *r = ctx;
    const char *m = sat_record_get(params, "message")->v.s;

    (void)result;
    return res_result(sat_framework_write(r->fw, r->uuid, m, strlen(m), OP_TIMEOUT_MS), errmsg,
                      errsize, "write");
}

static const sat_attr_def res_attrs[] = {
    {.name = "uuid", .type = SAT_ATTR_STRING, .description = "Tracking id"},
    {.name = "transport", .type = SAT_ATTR_ENUM, .enum_names = sat__transport_names,
     .description = "Transport of the subscription"},
    {.name = "state", .type = SAT_ATTR_ENUM, .enum_names = state_names,
     .description = "suspended, resumed (between polls) or cancelled"},
    {.name = "broadcaster", .type = SAT_ATTR_STRING, .description = "Broadcaster id"},
    {.name = "remote-address", .type = SAT_ATTR_STRING, .description = "Client address:port"},
    {.name = "user-agent", .type = SAT_ATTR_STRING, .description = "User-Agent header"},
    {.name = "query-string", .type = SAT_ATTR_STRING, .description = "Query of the first request"},
    {.name = "headers", .type = SAT_ATTR_STRMAP,
     .description = "Request headers; credentials show as ***"},
    {.name = "connected-since", .type = SAT_ATTR_TIMESTAMP, .description = "First request"},
    {.name = "last-activity", .type = SAT_ATTR_TIMESTAMP, .description = "Last request or message"},
    {.name = "messages-sent", .type = SAT_ATTR_COUNTER, .description = "Messages written"},
    {.name = "bytes-sent", .type = SAT_ATTR_COUNTER, .description = "Bytes written"},
    {.name = "queue-depth", .type = SAT_ATTR_GAUGE, .description = "Bytes waiting to be written"},
};

static const sat_op_def res_ops[] = {
    {.name = "resume", .description = "End the suspended response; the client reconnects",
     .invoke = res_op_resume},
    {.name = "close", .description = "Disconnect the client and drop its cached messages",
     .invoke = res_op_close},
    {.name = "write", .description = "Send a message to this client only",
     .params = message_param, .param_count = 1, .invoke = res_op_write},
};

static const sat_type_def res_type = {
    .name = "resource",
    .plural = "resources",
    .description = "One connected client",
    .attrs = res_attrs,
    .attr_count = sizeof res_attrs / sizeof res_attrs[0],
    .ops = res_ops,
    .op_count = sizeof res_ops / sizeof res_ops[0],
    .read = res_read,
    .ref = res_ref,
    .unref = res_unref,
};

/* ---- registration and object hooks ---- */

int sat__introspect_register_objects(sat_registry *reg)
{
    int rc = sat_registry_register_type(reg, &bc_type);

    if (rc == SAT_OK)
        rc = sat_registry_register_type(reg, &cache_type);
    if (rc == SAT_OK)
        rc = sat_registry_register_type(reg, &bconf_type);
    if (rc == SAT_OK)
        rc = sat_registry_register_type(reg, &res_type);
    return rc;
}

void sat__introspect_broadcaster_added(sat_broadcaster *b)
{
    sat_registry *reg = b->fw->registry;
    sat_registry_object *o1 = NULL, *o2 = NULL, *o3 = NULL;

    if (reg == NULL)
        return;
    if (sat_registry_add(reg, "broadcaster", b->id, b, &o1) != SAT_OK ||
        sat_registry_add(reg, "broadcaster-cache", b->id, b, &o2) != SAT_OK ||
        sat_registry_add(reg, "broadcaster-config", b->id, b, &o3) != SAT_OK)
        SAT_WARN("registry", "could not publish broadcaster=%s", b->id);
    b->reg_obj = o1;
    b->reg_cache_obj = o2;
    b->reg_config_obj = o3;
}

void sat__introspect_broadcaster_removed(sat_broadcaster *b)
{
    sat_registry_remove(b->reg_obj);
    sat_registry_remove(b->reg_cache_obj);
    sat_registry_remove(b->reg_config_obj);
    b->reg_obj = b->reg_cache_obj = b->reg_config_obj = NULL;
}

void sat__introspect_resource_added(sat_resource *r)
{
    sat_registry_object *obj = NULL;

    if (r->fw->registry == NULL)
        return;
    if (sat_registry_add(r->fw->registry, "resource", r->uuid, r, &obj) != SAT_OK)
        SAT_WARN("registry", "could not publish resource uuid=%s", r->uuid);
    r->reg_obj = obj;
}

void sat__introspect_resource_removed(sat_resource *r)
{
    sat_registry_remove(r->reg_obj);
    r->reg_obj = NULL;
}
