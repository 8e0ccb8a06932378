/* SPDX-License-Identifier: Apache-2.0 */
/* Internal structures of the push engine shared by the framework, the
 * workers, the HTTP and WebSocket transports and the broadcasters. */
#ifndef SAT_ENGINE_H
#define SAT_ENGINE_H

#include "cache.h"
#include "codec.h"
#include "log_internal.h"
#include "msg.h"
#include "satellite/config.h"
#include "satellite/error.h"
#include "satellite/framework.h"

#include <http_parser.h>
#include <pthread.h>
#include <stdatomic.h>
#include <uv.h>
#include <wslay/wslay.h>

struct sat_registry;
typedef struct sat_worker sat_worker;
typedef struct sat_conn sat_conn;

#define SAT_MAX_WORKERS 64

/* Settings read on the delivery path, copied out of the configuration at
 * start and at each reconfigure so workers never parse key names. */
typedef struct sat_settings {
    int heartbeat_s;
    int client_heartbeat_s;
    char heartbeat_padding[9];
    char delimiter;
    bool enforce_protocol;
    int min_protocol_version;
    int padding_bytes;
    int padding_mode; /* 0 off, 1 browsers, 2 always */
    size_t max_message_bytes;
    size_t broadcast_queue_max;
    size_t max_connections;
    size_t max_header_bytes;
    size_t max_body_bytes;
    uint64_t header_timeout_ms;
    uint64_t keepalive_timeout_ms;
    uint64_t disconnect_grace_ms;
    size_t queue_max_bytes;
    bool queue_drop_oldest;
    bool cors;
    bool no_cache_headers;
    bool websocket_enabled;
    size_t ws_max_message_bytes;
    uint64_t ws_idle_timeout_ms;
    uint64_t ws_close_timeout_ms;
    uint64_t ws_ping_interval_ms;
    sat_cache_limits cache;
    bool cache_enabled;
    uint64_t cache_expire_interval_ms;
    int lifecycle; /* index into the engine.broadcaster_lifecycle names */
    uint64_t broadcaster_idle_ms;
    size_t max_broadcasters;
    bool stats_capture;
    bool icp_heartbeat, icp_track, icp_sse, icp_jsonp, icp_padding, icp_cors;
    bool icp_idle_resource, icp_on_disconnect;
    uint64_t idle_resource_ms;
    char static_dir[1024];
} sat_settings;

enum sat_lifecycle {
    SAT_LC_NEVER = 0,
    SAT_LC_IDLE,
    SAT_LC_IDLE_RESUME,
    SAT_LC_IDLE_DESTROY,
    SAT_LC_IDLE_EMPTY_DESTROY,
    SAT_LC_EMPTY,
    SAT_LC_EMPTY_DESTROY,
};

/* Process-wide counters, lock-free. */
typedef struct sat_stats {
    atomic_llong active[SAT_TRANSPORT_COUNT];
    atomic_ullong total[SAT_TRANSPORT_COUNT];
    atomic_ullong messages_broadcast; /* broadcast calls accepted */
    atomic_ullong messages_delivered; /* frames queued to resources */
    atomic_ullong messages_received;  /* messages clients sent */
    atomic_ullong bytes_sent;
    atomic_ullong clean_disconnects;
    atomic_ullong dirty_disconnects;
    atomic_ullong closes; /* closed by the server or an operator */
    atomic_ullong handshakes;
    atomic_ullong reconnects;
    atomic_ullong heartbeats_sent;
    atomic_ullong close_messages;
    atomic_ullong rejected_full;    /* 503: max_connections */
    atomic_ullong rejected_backpressure;
    atomic_ullong slow_consumers;   /* resources closed or trimmed at queue_max_bytes */
    atomic_ullong dropped_frames;
    atomic_ullong bad_requests;
    atomic_ullong timeouts;
    atomic_llong connections;       /* open TCP connections */
    atomic_ullong started_ms;
    atomic_bool capture;
} sat_stats;

/* ---- broadcasters ---- */

typedef struct sat_filter {
    struct sat_filter *next;
    char *name;
    sat_filter_fn fn;
    void *userdata;
} sat_filter;

/* Resources of one broadcaster that live on one worker; only that worker
 * touches it. */
typedef struct sat_sublist {
    sat_conn **items;
    size_t count, cap;
} sat_sublist;

struct sat_broadcaster {
    atomic_uint refs;
    sat_framework *fw;
    char *id;
    pthread_mutex_t lock; /* ids, cache adds and worker enqueues stay in order */
    sat_msgid last_id;
    sat_cache *cache;
    sat_filter *filters;
    atomic_bool destroyed;
    atomic_uint subs[SAT_MAX_WORKERS]; /* subscriber count per worker */
    atomic_llong resource_count; /* requests subscribed now */
    atomic_llong members;        /* resources (clients) that belong to it */
    atomic_ullong messages;
    atomic_ullong last_activity_ms;
    uint64_t created_ms;
    sat_sublist local[SAT_MAX_WORKERS];
    void *reg_obj, *reg_cache_obj, *reg_config_obj;
};

/* ---- resources ---- */

enum sat_resource_state {
    SAT_RES_SUSPENDED = 0,
    SAT_RES_RESUMED,
    SAT_RES_CANCELLED,
};

/* One client, identified by its tracking id. A long-polling client keeps the
 * same resource across its polls. Per-request state (wire format, cursor,
 * subscription) lives in the connection that serves the current request;
 * fields here are set once at creation or are atomics, so any thread may
 * read them. */
struct sat_resource {
    atomic_uint refs;
    sat_framework *fw;
    char uuid[SAT_TRACKING_ID_MAX + 1];
    sat_broadcaster *bc;
    sat_transport transport;
    atomic_int state;
    atomic_int owner;       /* worker of the newest bound request, or -1 */
    atomic_int live;        /* requests bound now */
    atomic_bool gone;       /* disconnected and unregistered */
    uint64_t connected_ms;
    atomic_ullong last_activity_ms;
    atomic_ullong resumed_ms;
    atomic_ullong messages_sent;
    atomic_ullong bytes_sent;
    atomic_ullong queue_bytes;
    char remote[64];
    char *user_agent;
    char *query;
    char *headers;          /* "Name: value\n" lines, credentials redacted */
    sat_resource *hnext;    /* framework uuid table chain */
    void *reg_obj;
};

/* ---- connections ---- */

enum sat_conn_state {
    SAT_CONN_HTTP = 0,   /* reading a request */
    SAT_CONN_SUSPENDED,  /* a suspended response is open */
    SAT_CONN_WEBSOCKET,
    SAT_CONN_CLOSING,
};

/* One queued output buffer. */
typedef struct sat_wbuf {
    sat_buf *buf;
    sat_msgid id; /* message carried, zero for protocol bytes */
} sat_wbuf;

typedef struct sat_wqueue {
    sat_wbuf *items;
    size_t head, count, cap;
    size_t bytes;
} sat_wqueue;

typedef struct sat_header_acc {
    char *data; /* "name\0value\0" pairs */
    size_t len, cap;
    size_t count;
    bool in_value;
} sat_header_acc;

struct sat_conn {
    uv_tcp_t tcp;
    sat_worker *w;
    sat_conn *next, *prev;  /* worker's list */
    sat_conn *dirty_next;
    bool dirty;
    int state;
    http_parser parser;
    /* request being read */
    char *url;
    size_t url_len, url_cap;
    sat_header_acc hdr;
    char *body;
    size_t body_len, body_cap;
    size_t header_bytes;
    bool headers_done;
    bool message_done;
    bool upgrade;
    bool keep_alive;
    bool paused;
    int pending_status;     /* 413 or 431 chosen by a parser callback */
    uint64_t request_started_ms;
    uint64_t last_read_ms;
    /* output */
    sat_wqueue out;
    uv_write_t wreq;
    uv_buf_t *wbufs;
    size_t wbuf_count, wbuf_cap;
    sat_msgid inflight_max;
    bool writing;
    bool close_after_write;
    bool closing;
    /* the resource this connection serves, if any (a reference) */
    sat_resource *res;
    sat_broadcaster *bc;    /* reference while subscribed */
    sat_transport transport;
    sat_wire wire;
    bool jsonp;
    bool track;
    bool subscribed;        /* in bc->local[worker] */
    bool bound;             /* in the worker's bound list */
    bool ended;             /* the response finished normally (long-poll resume) */
    bool clean_close;       /* a close message or close frame came first */
    int heartbeat_s;        /* X-Heartbeat-Server of the request, -1 when absent */
    char jsonp_cb[SAT_JSONP_CALLBACK_MAX + 1];
    sat_msgid sent_id;      /* newest message id queued on this request */
    sat_msgid ack_pending;  /* written but not yet acknowledged to the cache */
    uint64_t last_write_ms;
    size_t sub_index;
    size_t bound_index;
    /* WebSocket */
    wslay_event_context_ptr ws;
    const char *ws_in;
    size_t ws_in_len;
    uint16_t ws_close_code;
    bool ws_close_logged;
    uint64_t ws_close_started_ms;
    uint64_t ws_last_ping_ms;
    char remote[64];
};

/* ---- workers ---- */

typedef enum sat_job_kind {
    SAT_JOB_DELIVER = 0,
    SAT_JOB_RESUME,
    SAT_JOB_CLOSE,
    SAT_JOB_WRITE,
    SAT_JOB_DESTROY_BROADCASTER,
    SAT_JOB_RESUME_ALL,
    SAT_JOB_STOP,
} sat_job_kind;

typedef struct sat_waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    int result;
    atomic_uint refs;
} sat_waiter;

typedef struct sat_job {
    struct sat_job *next;
    sat_job_kind kind;
    sat_broadcaster *bc; /* reference */
    sat_msg *msg;        /* reference */
    char uuid[SAT_TRACKING_ID_MAX + 1];
    bool clean;          /* SAT_JOB_CLOSE: the client asked for it */
    sat_waiter *waiter;  /* reference, or NULL */
} sat_job;

struct sat_worker {
    sat_framework *fw;
    int index;
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_async_t wakeup;
    uv_timer_t tick;
    uv_thread_t thread;
    int listen_fd;
    pthread_mutex_t jobs_lock;
    sat_job *jobs_head, *jobs_tail;
    atomic_size_t jobs_pending;
    sat_conn *conns;
    sat_conn *dirty;
    bool stopping;
    sat_msg *heartbeat; /* payload = padding, flagged heartbeat */
    char *read_buf;     /* one read buffer per worker: reads are synchronous */
    /* suspended requests on this worker, for the periodic tick */
    sat_conn **bound;
    size_t bound_count, bound_cap;
    uint64_t last_expire_ms;
    unsigned ticks;
    /* Counters bumped on every delivery stay per worker, so two workers do
     * not fight over one cache line; statistics add them up. */
    atomic_ullong delivered;
    atomic_ullong bytes_sent;
};

/* ---- framework ---- */

struct sat_settings_node {
    struct sat_settings_node *next;
    sat_settings *settings;
};

typedef struct sat_route {
    char *prefix;
    sat_handler handler;
} sat_route;

typedef struct sat_uuid_entry sat_uuid_entry;

struct sat_framework {
    sat_config *cfg;
    pthread_mutex_t cfg_lock;
    /* The settings in force: an immutable snapshot swapped whole on each
     * reconfigure and read through SAT_SETTINGS(). Replaced snapshots stay
     * allocated (on retired_settings) until the framework is freed, so a
     * reader never sees one freed; there is one per reload, about 1 KiB. */
    _Atomic(sat_settings *) settings;
    struct sat_settings_node *retired_settings;
    atomic_uint generation;
    sat_route *routes;
    size_t route_count;
    int worker_count;
    sat_worker *workers;
    bool running;
    char push_addr[300];
    sat_stats stats;
    struct sat_registry *registry;
    /* broadcasters by id */
    pthread_mutex_t bc_lock;
    sat_broadcaster **bcs; /* sorted by id */
    size_t bc_count, bc_cap;
    /* resources by tracking id */
    pthread_mutex_t res_lock;
    sat_resource **res_table;
    size_t res_cap, res_count;
    atomic_uint rr;
    sat_listener listeners[SAT_MAX_LISTENERS];
    size_t listener_count;
    /* reloads */
    pthread_mutex_t reload_lock;
    sat_config_loader_fn loader;
    void *loader_userdata;
    char *config_origin;
    char **override_keys;
    char **override_values;
    size_t override_count;
    uint64_t last_reload_ms;
    char last_reload_result[512];
    /* introspection */
    void *reg_singletons[8];
    void *reg_interceptors[16];
    void *reg_params; /* array of per-key contexts */
    void **reg_param_objs;
};

/* ---- cross-file internals ---- */

uint64_t sat__now_ms(void);

#define SAT_SETTINGS(fw) (atomic_load_explicit(&(fw)->settings, memory_order_acquire))

/* Builds a settings snapshot from a configuration; NULL when out of memory. */
sat_settings *sat__settings_new(const sat_config *cfg);

/* framework.c: listener dispatch */
#define SAT_NOTIFY(fw, cb, ...)                                                                    \
    do {                                                                                           \
        for (size_t sat_i_ = 0; sat_i_ < (fw)->listener_count; sat_i_++) {                        \
            if ((fw)->listeners[sat_i_].cb != NULL)                                                \
                (fw)->listeners[sat_i_].cb((fw)->listeners[sat_i_].userdata, __VA_ARGS__);         \
        }                                                                                          \
    } while (0)

/* framework.c */
uint64_t sat__stats_delivered(sat_framework *fw);
uint64_t sat__stats_bytes_sent(sat_framework *fw);
const sat_handler *sat__framework_route(sat_framework *fw, const char *path);

/* reload.c */
void sat__reload_free(sat_framework *fw);

/* introspect.c: publishes engine objects in the registry */
void sat__introspect_publish(sat_framework *fw);
void sat__introspect_reloaded(sat_framework *fw, bool ok);
void sat__introspect_init(sat_framework *fw);
void sat__introspect_free(sat_framework *fw);
void sat__introspect_broadcaster_added(sat_broadcaster *b);
void sat__introspect_broadcaster_removed(sat_broadcaster *b);
void sat__introspect_resource_added(sat_resource *r);
void sat__introspect_resource_removed(sat_resource *r);

/* broadcaster.c */
void sat__broadcasters_apply_limits(sat_framework *fw);
sat_broadcaster *sat__broadcaster_ref(sat_broadcaster *b);
void sat__broadcaster_subscribe(sat_broadcaster *b, sat_conn *c, bool ack_sent,
                                sat_cache_backlog *backlog);
void sat__broadcaster_unsubscribe(sat_broadcaster *b, sat_conn *c);
int sat__broadcaster_resume_all(sat_broadcaster *b);
/* Assigns the next message id; the caller holds b->lock. */
sat_msgid sat__broadcaster_next_id(sat_broadcaster *b);
void sat__broadcasters_tick(sat_framework *fw, uint64_t now, bool expire_caches);
void sat__broadcaster_member(sat_broadcaster *b, int delta);
void sat__broadcasters_free_all(sat_framework *fw);

/* resource.c */
sat_resource *sat__resource_get(sat_framework *fw, const char *uuid, bool *created,
                                sat_broadcaster *bc, sat_transport t);
sat_resource *sat__resource_find(sat_framework *fw, const char *uuid); /* new ref or NULL */
sat_resource *sat__resource_ref(sat_resource *r);
void sat__resource_unref(sat_resource *r);
void sat__resource_unregister(sat_resource *r);
void sat__resources_free_all(sat_framework *fw);

/* worker.c */
int sat__workers_start(sat_framework *fw, char *err, size_t err_size);
void sat__workers_stop(sat_framework *fw);
int sat__worker_post(sat_worker *w, sat_job *job, bool force);
sat_job *sat__job_new(sat_job_kind kind);
void sat__job_free(sat_job *job);
sat_waiter *sat__waiter_new(void);
void sat__waiter_unref(sat_waiter *wt);
void sat__waiter_done(sat_waiter *wt, int result);
int sat__waiter_wait(sat_waiter *wt, int timeout_ms);
void sat__worker_bind(sat_worker *w, sat_conn *c);
void sat__worker_unbind(sat_worker *w, sat_conn *c);

size_t sat__worker_read_buf_size(void);

/* conn.c */
void sat__conn_accept(sat_worker *w, uv_stream_t *server);
void sat__conn_enqueue(sat_conn *c, sat_buf *buf, sat_msgid id); /* takes a reference */
void sat__conn_enqueue_copy(sat_conn *c, const char *data, size_t len);
void sat__conn_close(sat_conn *c);
void sat__conn_flush_dirty(sat_worker *w);
void sat__conn_tick(sat_worker *w, uint64_t now);
void sat__conn_after_response(sat_conn *c);

/* http.c (request handling) */
void sat__http_init(sat_conn *c);
int sat__http_feed(sat_conn *c, const char *data, size_t len);
void sat__http_reset(sat_conn *c);
void sat__http_error(sat_conn *c, int status, const char *message);
const char *sat__http_header(const sat_conn *c, const char *name); /* case-insensitive */
void sat__http_release_buffers(sat_conn *c);
/* Builds status line and headers (common no-cache and CORS headers included)
 * into a buffer; `extra` is "Name: value\r\n" lines or NULL. With
 * body_len < 0 the response is delimited by connection close. */
sat_buf *sat__http_head(sat_conn *c, int status, const char *content_type, const char *extra,
                        long body_len, bool close);
void sat__http_respond(sat_conn *c, int status, const char *content_type, const char *extra,
                       const char *body, size_t body_len);

/* atmosphere.c (suspend, deliver, resume) */
void sat__atmo_request(sat_conn *c);
void sat__atmo_request_done(sat_conn *c);
void sat__atmo_deliver(sat_conn *c, sat_msg *m);
void sat__atmo_disconnect(sat_resource *r, bool clean, bool forget);
void sat__atmo_conn_closed(sat_conn *c);
void sat__atmo_tick(sat_worker *w, uint64_t now);
void sat__atmo_flush_ack(sat_conn *c);
void sat__atmo_reap(sat_framework *fw, uint64_t now);
void sat__atmo_job(sat_worker *w, sat_job *job);
void sat__atmo_message(sat_conn *c, const char *data, size_t len);
/* Starts delivering to a suspended request: subscribes it and writes the
 * cached backlog (ending a long-poll response when there was one). */
void sat__atmo_suspend(sat_conn *c);

/* websocket.c */
int sat__ws_upgrade(sat_conn *c, const char *key);
int sat__ws_feed(sat_conn *c, const char *data, size_t len);
void sat__ws_close(sat_conn *c, uint16_t code, const char *reason);
void sat__ws_free(sat_conn *c);

#endif
