/* SPDX-License-Identifier: Apache-2.0 */
/* The framework: configuration snapshot, handler routes, start and stop,
 * and the thread-safe entry points that route resource operations to the
 * worker owning the resource. */
#include "engine.h"
#include "satellite/satellite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *sat_version(void)
{
    return SAT_VERSION_STRING;
}

uint64_t sat__now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool cfg_flag(const sat_config *cfg, const char *name)
{
    return sat_config_bool(cfg, name);
}

static size_t cfg_size(const sat_config *cfg, const char *name)
{
    int64_t v = sat_config_int(cfg, name);

    return v < 0 ? 0 : (size_t)v;
}

static void settings_build(sat_settings *s, const sat_config *cfg)
{
    const char *pad = sat_config_str(cfg, "engine.heartbeat_padding");
    const char *delim = sat_config_str(cfg, "engine.delimiter");

    memset(s, 0, sizeof *s);
    s->heartbeat_s = cfg_flag(cfg, "interceptors.heartbeat")
                         ? (int)sat_config_int(cfg, "engine.heartbeat_s")
                         : 0;
    s->client_heartbeat_s = (int)sat_config_int(cfg, "engine.client_heartbeat_s");
    snprintf(s->heartbeat_padding, sizeof s->heartbeat_padding, "%s", pad[0] ? pad : "X");
    s->delimiter = delim[0] ? delim[0] : '|';
    s->enforce_protocol = cfg_flag(cfg, "engine.enforce_protocol");
    s->min_protocol_version = (int)sat_config_int(cfg, "engine.min_protocol_version");
    s->padding_bytes = (int)sat_config_int(cfg, "engine.padding_bytes");
    s->padding_mode = sat_config_enum(cfg, "engine.padding");
    s->max_message_bytes = cfg_size(cfg, "engine.max_message_bytes");
    s->broadcast_queue_max = cfg_size(cfg, "engine.broadcast_queue_max");
    s->max_connections = cfg_size(cfg, "push.max_connections");
    s->max_header_bytes = cfg_size(cfg, "push.max_header_bytes");
    s->max_body_bytes = cfg_size(cfg, "push.max_body_bytes");
    s->header_timeout_ms = cfg_size(cfg, "push.header_timeout_ms");
    s->keepalive_timeout_ms = cfg_size(cfg, "push.keepalive_timeout_ms");
    s->disconnect_grace_ms = cfg_size(cfg, "push.disconnect_grace_ms");
    s->queue_max_bytes = cfg_size(cfg, "push.queue_max_bytes");
    s->queue_drop_oldest = strcmp(sat_config_str(cfg, "push.queue_policy"), "drop-oldest") == 0;
    s->cors = cfg_flag(cfg, "push.cors") && cfg_flag(cfg, "interceptors.cors");
    s->no_cache_headers = cfg_flag(cfg, "push.no_cache_headers");
    s->websocket_enabled = cfg_flag(cfg, "websocket.enabled");
    s->ws_max_message_bytes = cfg_size(cfg, "websocket.max_message_bytes");
    s->ws_idle_timeout_ms = cfg_size(cfg, "websocket.idle_timeout_ms");
    s->ws_close_timeout_ms = cfg_size(cfg, "websocket.close_timeout_ms");
    s->ws_ping_interval_ms = cfg_size(cfg, "websocket.ping_interval_ms");
    s->cache_enabled = cfg_flag(cfg, "cache.enabled");
    s->cache.max_messages = s->cache_enabled ? cfg_size(cfg, "cache.max_messages") : 0;
    s->cache.max_bytes = cfg_size(cfg, "cache.max_bytes");
    s->cache.max_age_ms = cfg_size(cfg, "cache.max_age_ms");
    s->cache.client_idle_ms = cfg_size(cfg, "cache.client_idle_ms");
    s->cache.max_clients = cfg_size(cfg, "cache.max_clients");
    s->cache_expire_interval_ms = cfg_size(cfg, "cache.expire_interval_ms");
    s->lifecycle = sat_config_enum(cfg, "engine.broadcaster_lifecycle");
    s->broadcaster_idle_ms = cfg_size(cfg, "engine.broadcaster_idle_ms");
    s->max_broadcasters = cfg_size(cfg, "engine.max_broadcasters");
    s->stats_capture = cfg_flag(cfg, "stats.capture");
    s->icp_heartbeat = cfg_flag(cfg, "interceptors.heartbeat");
    s->icp_track = cfg_flag(cfg, "interceptors.track_message_size");
    s->icp_sse = cfg_flag(cfg, "interceptors.sse");
    s->icp_jsonp = cfg_flag(cfg, "interceptors.jsonp");
    s->icp_padding = cfg_flag(cfg, "interceptors.padding");
    s->icp_idle_resource = cfg_flag(cfg, "interceptors.idle_resource");
    s->idle_resource_ms = cfg_size(cfg, "interceptors.idle_resource_ms");
    s->icp_on_disconnect = cfg_flag(cfg, "interceptors.on_disconnect");
    snprintf(s->static_dir, sizeof s->static_dir, "%s", sat_config_str(cfg, "push.static_dir"));
}

/* Allocates a snapshot; once published it is never written again, so the
 * workers read it without a lock. */
sat_settings *sat__settings_new(const sat_config *cfg)
{
    sat_settings *s = malloc(sizeof *s);

    if (s != NULL)
        settings_build(s, cfg);
    return s;
}

/* Publishes new settings; the previous snapshot is kept until free. */
static int settings_publish(sat_framework *fw, const sat_config *cfg)
{
    struct sat_settings_node *node = malloc(sizeof *node);
    sat_settings *next = sat__settings_new(cfg);

    if (node == NULL || next == NULL) {
        free(node);
        free(next);
        return SAT_ENOMEM;
    }
    node->settings = atomic_exchange_explicit(&fw->settings, next, memory_order_acq_rel);
    node->next = fw->retired_settings;
    fw->retired_settings = node;
    return SAT_OK;
}

static void settings_free_all(sat_framework *fw)
{
    while (fw->retired_settings != NULL) {
        struct sat_settings_node *node = fw->retired_settings;

        fw->retired_settings = node->next;
        free(node->settings);
        free(node);
    }
    free(atomic_load(&fw->settings));
    atomic_store(&fw->settings, NULL);
}

sat_framework *sat_framework_new(const sat_config *cfg, char *err, size_t err_size)
{
    sat_framework *fw = calloc(1, sizeof *fw);

    if (fw == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    fw->cfg = cfg != NULL ? sat_config_clone(cfg) : sat_config_new();
    if (fw->cfg == NULL) {
        free(fw);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&fw->cfg_lock, NULL);
    pthread_mutex_init(&fw->bc_lock, NULL);
    pthread_mutex_init(&fw->res_lock, NULL);
    pthread_mutex_init(&fw->reload_lock, NULL);
    atomic_init(&fw->settings, sat__settings_new(fw->cfg));
    if (SAT_SETTINGS(fw) == NULL) {
        sat_config_free(fw->cfg);
        free(fw);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    atomic_store(&fw->stats.capture, SAT_SETTINGS(fw)->stats_capture);
    atomic_store(&fw->stats.started_ms, sat__now_ms());
    sat__introspect_init(fw);
    return fw;
}

void sat_framework_free(sat_framework *fw)
{
    if (fw == NULL)
        return;
    sat_framework_stop(fw);
    sat__resources_free_all(fw);
    sat__broadcasters_free_all(fw);
    sat__introspect_free(fw);
    sat__reload_free(fw);
    settings_free_all(fw);
    for (size_t i = 0; i < fw->route_count; i++)
        free(fw->routes[i].prefix);
    free(fw->routes);
    sat_config_free(fw->cfg);
    pthread_mutex_destroy(&fw->cfg_lock);
    pthread_mutex_destroy(&fw->bc_lock);
    pthread_mutex_destroy(&fw->res_lock);
    pthread_mutex_destroy(&fw->reload_lock);
    free(fw);
}

int sat_framework_add_handler(sat_framework *fw, const char *prefix, const sat_handler *handler)
{
    sat_route *grown;

    if (fw == NULL || prefix == NULL || prefix[0] != '/' || handler == NULL || fw->running)
        return SAT_EINVAL;
    grown = realloc(fw->routes, (fw->route_count + 1) * sizeof *grown);
    if (grown == NULL)
        return SAT_ENOMEM;
    fw->routes = grown;
    grown[fw->route_count].prefix = strdup(prefix);
    if (grown[fw->route_count].prefix == NULL)
        return SAT_ENOMEM;
    grown[fw->route_count].handler = *handler;
    fw->route_count++;
    return SAT_OK;
}

uint64_t sat__stats_delivered(sat_framework *fw)
{
    uint64_t sum = atomic_load(&fw->stats.messages_delivered);

    for (int i = 0; i < fw->worker_count; i++)
        sum += atomic_load_explicit(&fw->workers[i].delivered, memory_order_relaxed);
    return sum;
}

uint64_t sat__stats_bytes_sent(sat_framework *fw)
{
    uint64_t sum = atomic_load(&fw->stats.bytes_sent);

    for (int i = 0; i < fw->worker_count; i++)
        sum += atomic_load_explicit(&fw->workers[i].bytes_sent, memory_order_relaxed);
    return sum;
}

int sat_framework_add_listener(sat_framework *fw, const sat_listener *listener)
{
    if (fw == NULL || listener == NULL || fw->running)
        return SAT_EINVAL;
    if (fw->listener_count >= SAT_MAX_LISTENERS)
        return SAT_ELIMIT;
    fw->listeners[fw->listener_count++] = *listener;
    return SAT_OK;
}

/* Returns the handler with the longest prefix matching `path`, or NULL for
 * the default (broadcast to the path's broadcaster). */
const sat_handler *sat__framework_route(sat_framework *fw, const char *path)
{
    const sat_handler *best = NULL;
    size_t best_len = 0;

    for (size_t i = 0; i < fw->route_count; i++) {
        size_t n = strlen(fw->routes[i].prefix);

        if (strncmp(path, fw->routes[i].prefix, n) == 0 && n >= best_len) {
            best = &fw->routes[i].handler;
            best_len = n;
        }
    }
    return best;
}

int sat_framework_start(sat_framework *fw, char *err, size_t err_size)
{
    int rc;

    if (fw->running) {
        snprintf(err, err_size, "framework already running");
        return SAT_ECONFLICT;
    }
    rc = sat__workers_start(fw, err, err_size);
    if (rc != SAT_OK)
        return rc;
    fw->running = true;
    sat__introspect_publish(fw);
    SAT_INFO("framework", "push engine started on %s with %d workers", fw->push_addr,
             fw->worker_count);
    return SAT_OK;
}

void sat_framework_stop(sat_framework *fw)
{
    if (fw == NULL || !fw->running)
        return;
    sat__workers_stop(fw);
    fw->running = false;
    SAT_INFO("framework", "push engine stopped");
}

const char *sat_framework_push_address(sat_framework *fw, char *buf, size_t size)
{
    snprintf(buf, size, "%s", fw->push_addr);
    return buf;
}

const sat_config *sat_framework_config(sat_framework *fw)
{
    return fw->cfg;
}

struct sat_registry *sat_framework_registry(sat_framework *fw)
{
    return fw->registry;
}

int sat_framework_reconfigure(sat_framework *fw, const sat_config *cfg, char *err,
                              size_t err_size)
{
    sat_config *copy;
    sat_config *old;

    for (size_t i = 0; i < sat_config_key_count(); i++) {
        const sat_config_key *k = sat_config_key_at(i);
        char a[512], b[512];

        if (!k->restart)
            continue;
        sat_config_text(fw->cfg, k->name, false, a, sizeof a);
        sat_config_text(cfg, k->name, false, b, sizeof b);
        if (strcmp(a, b) != 0) {
            snprintf(err, err_size, "%s changes only after a restart", k->name);
            return SAT_EINVAL;
        }
    }
    copy = sat_config_clone(cfg);
    if (copy == NULL) {
        snprintf(err, err_size, "out of memory");
        return SAT_ENOMEM;
    }
    pthread_mutex_lock(&fw->cfg_lock);
    old = fw->cfg;
    fw->cfg = copy;
    if (settings_publish(fw, copy) != SAT_OK) {
        fw->cfg = old;
        pthread_mutex_unlock(&fw->cfg_lock);
        sat_config_free(copy);
        snprintf(err, err_size, "out of memory");
        return SAT_ENOMEM;
    }
    atomic_store(&fw->stats.capture, SAT_SETTINGS(fw)->stats_capture);
    pthread_mutex_unlock(&fw->cfg_lock);
    atomic_fetch_add(&fw->generation, 1);
    sat__broadcasters_apply_limits(fw);
    SAT_NOTIFY(fw, on_reconfigured, copy);
    /* Registry readers format values under cfg_lock, so none holds `old`. */
    sat_config_free(old);
    return SAT_OK;
}

/* Posts a job to the worker that owns the resource and waits for its result. */
static int resource_op(sat_framework *fw, sat_job_kind kind, const char *uuid, const void *data,
                       size_t len, int timeout_ms)
{
    sat_resource *r = sat__resource_find(fw, uuid);
    sat_waiter *wt;
    sat_job *job;
    int owner, rc;

    if (r == NULL)
        return SAT_ENOTFOUND;
    owner = atomic_load(&r->owner);
    if (owner < 0 || !fw->running) {
        sat__resource_unref(r);
        return kind == SAT_JOB_CLOSE ? SAT_ECONFLICT : SAT_ECONFLICT;
    }
    job = sat__job_new(kind);
    wt = sat__waiter_new();
    if (job == NULL || wt == NULL) {
        sat__job_free(job);
        sat__waiter_unref(wt);
        sat__resource_unref(r);
        return SAT_ENOMEM;
    }
    snprintf(job->uuid, sizeof job->uuid, "%s", uuid);
    if (data != NULL) {
        job->msg = sat__msg_new(data, len, 0);
        if (job->msg == NULL) {
            sat__job_free(job);
            sat__waiter_unref(wt);
            sat__resource_unref(r);
            return SAT_ENOMEM;
        }
    }
    atomic_fetch_add(&wt->refs, 1);
    job->waiter = wt;
    sat__resource_unref(r);
    rc = sat__worker_post(&fw->workers[owner], job, true);
    if (rc == SAT_OK)
        rc = sat__waiter_wait(wt, timeout_ms);
    sat__waiter_unref(wt);
    return rc;
}

int sat_framework_resume(sat_framework *fw, const char *uuid, int timeout_ms)
{
    return resource_op(fw, SAT_JOB_RESUME, uuid, NULL, 0, timeout_ms);
}

int sat_framework_close(sat_framework *fw, const char *uuid, int timeout_ms)
{
    return resource_op(fw, SAT_JOB_CLOSE, uuid, NULL, 0, timeout_ms);
}

int sat_framework_write(sat_framework *fw, const char *uuid, const void *data, size_t len,
                        int timeout_ms)
{
    if (data == NULL)
        return SAT_EINVAL;
    return resource_op(fw, SAT_JOB_WRITE, uuid, data, len, timeout_ms);
}

int sat_framework_broadcast(sat_framework *fw, const char *id, const void *data, size_t len)
{
    sat_broadcaster *b = sat_framework_lookup(fw, id, true);
    int rc;

    if (b == NULL)
        return SAT_ELIMIT;
    rc = sat_broadcaster_broadcast(b, data, len, NULL);
    sat_broadcaster_unref(b);
    return rc;
}
