/* SPDX-License-Identifier: Apache-2.0 */
/* The Atmosphere protocol on top of HTTP and WebSocket: reading the
 * protocol parameters, the handshake, suspending a request on its
 * transport, delivering framed messages, heartbeats, resuming long-polls,
 * client messages, the close message and disconnect accounting. */
#include "engine.h"
#include "satellite/registry.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

typedef struct request {
    sat_conn *c;
    char *path; /* decoded */
    char *query;
    sat_atmo_params params;
    int method;
} request;

static bool is_resumable(sat_transport t)
{
    return t == SAT_TRANSPORT_LONG_POLLING || t == SAT_TRANSPORT_JSONP;
}

static sat_wire wire_for(sat_transport t, bool track)
{
    switch (t) {
    case SAT_TRANSPORT_WEBSOCKET:
        return track ? SAT_WIRE_WS_TRACK : SAT_WIRE_WS_RAW;
    case SAT_TRANSPORT_SSE:
        return track ? SAT_WIRE_SSE_TRACK : SAT_WIRE_SSE_RAW;
    default:
        return track ? SAT_WIRE_TRACK : SAT_WIRE_RAW;
    }
}

static void stats_add(sat_framework *fw, atomic_ullong *counter)
{
    if (atomic_load_explicit(&fw->stats.capture, memory_order_relaxed))
        atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

/* ---- parameters ---- */

static int collect_query(void *userdata, const char *name, size_t name_len, const char *value,
                         size_t value_len)
{
    request *rq = userdata;
    char err[160];
    int rc = sat__atmo_param(&rq->params, name, name_len, value, value_len, true, err, sizeof err);

    if (rc != SAT_OK) {
        sat__http_error(rq->c, 400, err);
        return -1;
    }
    return 0;
}

/* Reads parameters from the query string, then from headers: a real header
 * wins over a query parameter of the same name. */
static int collect_params(request *rq)
{
    sat_conn *c = rq->c;
    const char *p = c->hdr.data;
    char err[160];

    if (rq->query != NULL &&
        sat__query_each(rq->query, strlen(rq->query), collect_query, rq) != 0)
        return -1;
    for (size_t i = 0; i < c->hdr.count && p != NULL; i++) {
        const char *value = p + strlen(p) + 1;
        int rc = sat__atmo_param(&rq->params, p, strlen(p), value, strlen(value), false, err,
                                 sizeof err);

        if (rc != SAT_OK) {
            sat__http_error(c, 400, err);
            return -1;
        }
        p = value + strlen(value) + 1;
    }
    return 0;
}

/* ---- output helpers ---- */

static sat_buf *frame_for(sat_conn *c, const char *data, size_t len)
{
    if (c->jsonp)
        return sat__frame_jsonp(c->jsonp_cb, data, len, c->track);
    return sat__frame(c->wire, data, len, false);
}

static void write_buf(sat_conn *c, sat_buf *b, sat_msgid id)
{
    c->last_write_ms = sat__now_ms();
    sat__conn_enqueue(c, b, id);
}

static size_t handshake_text(sat_conn *c, const char *uuid, char *out, size_t size)
{
    const sat_settings *s = SAT_SETTINGS(c->w->fw);
    int n = sat__handshake_body(out, size, uuid, (long)s->client_heartbeat_s * 1000,
                                s->heartbeat_padding, s->delimiter);

    return n < 0 ? 0 : (size_t)n;
}

static void write_padding(sat_conn *c)
{
    const sat_settings *s = SAT_SETTINGS(c->w->fw);
    sat_buf *b;

    const char *ua = sat__http_header(c, "User-Agent");

    if (!s->icp_padding || s->padding_bytes <= 0 || s->padding_mode == 0 ||
        c->transport == SAT_TRANSPORT_WEBSOCKET || c->jsonp)
        return;
    if (s->padding_mode == 1 && (ua == NULL || strstr(ua, "Mozilla/") == NULL))
        return;
    b = sat__buf_alloc((size_t)s->padding_bytes + 1);
    if (b == NULL)
        return;
    memset(b->data, ' ', (size_t)s->padding_bytes);
    b->data[s->padding_bytes] = '\n';
    write_buf(c, b, (sat_msgid){0, 0});
}

/* ---- resources and disconnects ---- */

/* Headers kept for introspection skip the WebSocket handshake's own: they
 * carry nothing about the client and cost memory on every connection. */
static bool header_kept(const char *name)
{
    return strncasecmp(name, "Sec-WebSocket-", 14) != 0 && strcasecmp(name, "Upgrade") != 0 &&
           strcasecmp(name, "Connection") != 0;
}

static bool header_secret(const char *name)
{
    return strcasecmp(name, "Authorization") == 0 || strcasecmp(name, "Cookie") == 0 ||
           strcasecmp(name, "Proxy-Authorization") == 0;
}

static void resource_info(sat_resource *r, request *rq)
{
    sat_conn *c = rq->c;
    const char *ua = sat__http_header(c, "User-Agent");
    const char *p = c->hdr.data;
    size_t cap = 1, len = 0;
    char *h;

    snprintf(r->remote, sizeof r->remote, "%s", c->remote);
    /* Empty values stay NULL: idle clients are many, and each byte counts. */
    r->user_agent = ua != NULL && ua[0] != '\0' ? strdup(ua) : NULL;
    r->query = rq->query != NULL && rq->query[0] != '\0' ? strdup(rq->query) : NULL;
    for (size_t i = 0; i < c->hdr.count; i++) {
        const char *v = p + strlen(p) + 1;

        if (header_kept(p))
            cap += strlen(p) + strlen(v) + 4;
        p = v + strlen(v) + 1;
    }
    h = malloc(cap);
    if (h == NULL)
        return;
    p = c->hdr.data;
    for (size_t i = 0; i < c->hdr.count; i++) {
        const char *v = p + strlen(p) + 1;

        if (header_kept(p))
            len += (size_t)snprintf(h + len, cap - len, "%s: %s\n", p, header_secret(p) ? "***" : v);
        p = v + strlen(v) + 1;
    }
    h[len] = '\0';
    r->headers = h;
}

/* Ends a resource: statistics, cache cursor and the registry. Safe from any
 * thread; runs once per resource. */
void sat__atmo_disconnect(sat_resource *r, bool clean, bool forget)
{
    sat_framework *fw = r->fw;

    if (atomic_exchange(&r->gone, true))
        return;
    atomic_store(&r->state, SAT_RES_CANCELLED);
    atomic_fetch_sub(&fw->stats.active[r->transport], 1);
    stats_add(fw, clean ? &fw->stats.clean_disconnects : &fw->stats.dirty_disconnects);
    if (forget)
        sat__cache_forget(r->bc->cache, r->uuid);
    else
        sat__cache_detach(r->bc->cache, r->uuid, !is_resumable(r->transport), sat__now_ms());
    SAT_DEBUG("resource", "%s disconnect uuid=%s transport=%s broadcaster=%s",
              clean ? "clean" : "dirty", r->uuid, sat_transport_name(r->transport), r->bc->id);
    /* SNMP turns this event into its dirty-disconnect notification. */
    if (!clean && r->reg_obj != NULL)
        sat_registry_notify_changed(r->reg_obj, "dirty-disconnect");
    SAT_NOTIFY(fw, on_resource_removed, r, clean);
    sat__resource_unregister(r);
}

/* Hands the cache the newest message id that completed writes carried. The
 * tick batches these, so the cache lock is not taken once per message. */
void sat__atmo_flush_ack(sat_conn *c)
{
    if (c->bc == NULL || c->res == NULL || sat_msgid_is_zero(c->ack_pending))
        return;
    sat__cache_ack(c->bc->cache, c->res->uuid, c->ack_pending);
    c->ack_pending = (sat_msgid){0, 0};
}

/* Takes a request off delivery: unsubscribes and unbinds it. */
static void unbind_request(sat_conn *c)
{
    sat__atmo_flush_ack(c);
    if (c->bc != NULL) {
        sat__broadcaster_unsubscribe(c->bc, c);
        sat_broadcaster_unref(c->bc);
        c->bc = NULL;
    }
    sat__worker_unbind(c->w, c);
    if (c->res != NULL && atomic_fetch_sub(&c->res->live, 1) == 1)
        atomic_store(&c->res->owner, -1);
}

/* Finishes a long-poll or JSONP response: the client re-polls. */
static void resume_request(sat_conn *c)
{
    sat_resource *r = c->res;

    if (c->ended)
        return;
    c->ended = true;
    unbind_request(c);
    if (r != NULL) {
        atomic_store(&r->state, SAT_RES_RESUMED);
        atomic_store(&r->resumed_ms, sat__now_ms());
        sat__cache_detach(r->bc->cache, r->uuid, false, sat__now_ms());
    }
    c->close_after_write = true;
    if (c->out.count == 0 && !c->writing)
        sat__conn_close(c);
}

/* Called by conn.c when a connection that carries a request closes. */
void sat__atmo_conn_closed(sat_conn *c)
{
    sat_resource *r = c->res;
    bool was_live = c->bound || c->subscribed;

    if (!c->ended && was_live) {
        unbind_request(c);
        if (atomic_load(&r->live) > 0) {
            /* another request of the same client is still served */
        } else if (c->transport == SAT_TRANSPORT_WEBSOCKET || c->clean_close) {
            sat__atmo_disconnect(r, c->clean_close, false);
        } else {
            /* An HTTP client often drops its request just before it sends
             * the close message, or drops it to poll again: the resource
             * waits push.disconnect_grace_ms before it counts as lost. */
            atomic_store(&r->state, SAT_RES_RESUMED);
            atomic_store(&r->resumed_ms, sat__now_ms());
            sat__cache_detach(r->bc->cache, r->uuid, !is_resumable(c->transport), sat__now_ms());
        }
    } else if (!c->ended) {
        unbind_request(c);
    }
    c->res = NULL;
    sat__resource_unref(r);
}

/* Forgets the finished request's protocol state before a keep-alive
 * connection reads its next request. */
void sat__atmo_request_done(sat_conn *c)
{
    if (c->res != NULL) {
        if (!c->ended)
            unbind_request(c);
        sat__resource_unref(c->res);
        c->res = NULL;
    }
    c->ended = false;
    c->clean_close = false;
    c->jsonp = false;
    c->track = false;
    c->transport = SAT_TRANSPORT_UNDEFINED;
    c->sent_id = (sat_msgid){0, 0};
    c->heartbeat_s = 0;
}

/* ---- delivery ---- */

void sat__atmo_deliver(sat_conn *c, sat_msg *m)
{
    sat_framework *fw = c->w->fw;
    sat_buf *b;

    if (c->ended || c->closing || sat_msgid_cmp(m->id, c->sent_id) <= 0)
        return;
    b = c->jsonp ? sat__frame_jsonp(c->jsonp_cb, m->data, m->len, c->track)
                 : sat__buf_ref(sat__msg_framed(m, c->wire));
    if (b == NULL)
        return;
    c->sent_id = m->id;
    /* Only a long-poll needs the sent cursor (its next poll acknowledges
     * it); streaming transports acknowledge when the write completes. */
    if (is_resumable(c->transport))
        sat__cache_sent(c->bc->cache, c->res->uuid, m->id);
    write_buf(c, b, m->id);
    atomic_fetch_add_explicit(&c->res->messages_sent, 1, memory_order_relaxed);
    if (atomic_load_explicit(&fw->stats.capture, memory_order_relaxed))
        atomic_fetch_add_explicit(&c->w->delivered, 1, memory_order_relaxed);
}

static void deliver_to_subscribers(sat_worker *w, sat_broadcaster *b, sat_msg *m)
{
    sat_sublist *l = &b->local[w->index];

    /* Delivery may end long-poll requests, which removes them from the
     * list; walk backwards so removals do not skip anyone. */
    for (size_t i = l->count; i > 0; i--) {
        sat_conn *c;

        if (i > l->count)
            continue;
        c = l->items[i - 1];
        sat__atmo_deliver(c, m);
        if (is_resumable(c->transport))
            resume_request(c);
    }
}

static void write_heartbeat(sat_conn *c)
{
    sat_worker *w = c->w;
    sat_buf *b = c->jsonp ? sat__frame_jsonp(c->jsonp_cb, w->heartbeat->data, w->heartbeat->len,
                                              c->track)
                          : sat__buf_ref(sat__msg_framed(w->heartbeat, c->wire));

    if (b == NULL)
        return;
    write_buf(c, b, (sat_msgid){0, 0});
    stats_add(w->fw, &w->fw->stats.heartbeats_sent);
    if (is_resumable(c->transport))
        resume_request(c);
}

void sat__atmo_suspend(sat_conn *c)
{
    sat_cache_backlog backlog;

    sat__broadcaster_subscribe(c->bc, c, is_resumable(c->transport), &backlog);
    sat__worker_bind(c->w, c);
    for (size_t i = 0; i < backlog.count; i++)
        sat__atmo_deliver(c, backlog.msgs[i]);
    if (backlog.count > 0) {
        stats_add(c->w->fw, &c->w->fw->stats.reconnects);
        if (is_resumable(c->transport))
            resume_request(c);
    }
    if (backlog.gap)
        SAT_INFO("cache", "client missed evicted messages uuid=%s broadcaster=%s", c->res->uuid,
                 c->bc->id);
    sat__cache_backlog_free(&backlog);
}

/* ---- client messages ---- */

static void default_on_message(sat_conn *c, const char *path, const char *data, size_t len)
{
    sat_framework *fw = c->w->fw;
    sat_broadcaster *b = sat_framework_lookup(fw, path, true);
    int rc;

    if (b == NULL) {
        sat__http_error(c, 503, "engine.max_broadcasters reached");
        return;
    }
    rc = sat_broadcaster_broadcast(b, data, len, NULL);
    sat_broadcaster_unref(b);
    if (rc == SAT_ELIMIT)
        sat__http_error(c, 503, "broadcast queue full (engine.broadcast_queue_max); retry later");
    else if (rc == SAT_EINVAL)
        sat__http_error(c, 413, "message exceeds engine.max_message_bytes");
}

/* Handles one message a client sent on `path` (a POST body or a WebSocket
 * text frame). Returns after any error response was queued. */
static void dispatch_message(sat_conn *c, sat_resource *r, const char *path, const char *data,
                             size_t len)
{
    sat_framework *fw = c->w->fw;
    const sat_handler *h = sat__framework_route(fw, path);
    const sat_settings *s = SAT_SETTINGS(fw);

    /* A body equal to the heartbeat padding is a client heartbeat only when
     * the handshake asked the client to send them. */
    if (s->client_heartbeat_s > 0 && len == strlen(s->heartbeat_padding) &&
        memcmp(data, s->heartbeat_padding, len) == 0)
        return;
    stats_add(fw, &fw->stats.messages_received);
    if (r != NULL)
        atomic_store(&r->last_activity_ms, sat__now_ms());
    if (h != NULL && h->on_message != NULL)
        h->on_message(h->userdata, r, data, len);
    else
        default_on_message(c, path, data, len);
}

void sat__atmo_message(sat_conn *c, const char *data, size_t len)
{
    dispatch_message(c, c->res, c->res->bc->id, data, len);
}

/* ---- request kinds ---- */

static void answer_options(request *rq)
{
    static const char allow[] =
        "Access-Control-Allow-Methods: OPTIONS, GET, POST\r\n"
        "Access-Control-Allow-Headers: Origin, Content-Type, AuthToken, X-Atmosphere-Framework, "
        "X-Requested-With, X-Atmosphere-tracking-id, X-Heartbeat-Server, X-Atmosphere-Transport, "
        "X-Atmosphere-TrackMessageSize, X-atmo-protocol\r\n"
        "Access-Control-Max-Age: -1\r\n";

    sat__http_respond(rq->c, 200, NULL, SAT_SETTINGS(rq->c->w->fw)->cors ? allow : NULL, NULL, 0);
}

static void answer_close_message(request *rq)
{
    sat_conn *c = rq->c;
    sat_framework *fw = c->w->fw;
    const char *uuid = rq->params.tracking_id;
    sat_resource *r = uuid[0] != '\0' ? sat__resource_find(fw, uuid) : NULL;

    stats_add(fw, &fw->stats.close_messages);
    if (r != NULL) {
        int owner = atomic_load(&r->owner);

        /* Later broadcasts must not be kept for a client that sent its close message. */
        sat__cache_forget(r->bc->cache, r->uuid);
        if (owner >= 0 && atomic_load(&r->live) > 0) {
            sat_job *job = sat__job_new(SAT_JOB_CLOSE);

            if (job != NULL) {
                snprintf(job->uuid, sizeof job->uuid, "%s", uuid);
                job->clean = true;
                (void)sat__worker_post(&fw->workers[owner], job, true);
            }
        } else {
            sat__atmo_disconnect(r, true, true);
        }
        sat__resource_unref(r);
    }
    sat__http_respond(c, 200, "text/plain; charset=UTF-8", NULL, NULL, 0);
}

static void answer_post(request *rq, const char *data, size_t len)
{
    sat_conn *c = rq->c;
    sat_resource *r = NULL;

    if (rq->params.tracking_id[0] != '\0' && strcmp(rq->params.tracking_id, "0") != 0)
        r = sat__resource_find(c->w->fw, rq->params.tracking_id);
    dispatch_message(c, r, rq->path, data, len);
    sat__resource_unref(r);
    if (c->state == SAT_CONN_HTTP)
        sat__http_respond(c, 200, "text/plain; charset=UTF-8", NULL, NULL, 0);
}

static const char *content_type_for(sat_conn *c)
{
    if (c->jsonp)
        return "application/javascript; charset=utf-8";
    if (c->transport == SAT_TRANSPORT_SSE)
        return "text/event-stream; charset=utf-8";
    return "text/plain; charset=UTF-8";
}

/* Responds to a first long-poll or JSONP request: the handshake is a complete
 * response of its own, and the client polls again with its new id. */
static void answer_handshake_response(request *rq, sat_resource *r)
{
    sat_conn *c = rq->c;
    char hs[160], extra[256];
    size_t n = handshake_text(c, r->uuid, hs, sizeof hs);
    sat_buf *body = frame_for(c, hs, n);
    sat_cache_backlog none;

    snprintf(extra, sizeof extra,
             "X-Atmosphere-tracking-id: %s\r\nX-Atmosphere-first-request: true\r\n", r->uuid);
    if (body == NULL) {
        sat__http_error(c, 500, "out of memory");
        return;
    }
    /* Register the id with the cache now so broadcasts made before the
     * first real poll are kept for it. */
    if (sat__cache_attach(r->bc->cache, r->uuid, false, 1, sat__now_ms(), &none) == SAT_OK)
        sat__cache_backlog_free(&none);
    sat__cache_detach(r->bc->cache, r->uuid, false, sat__now_ms());
    atomic_store(&r->state, SAT_RES_RESUMED);
    atomic_store(&r->resumed_ms, sat__now_ms());
    sat__conn_enqueue(c, sat__http_head(c, 200, content_type_for(c), extra, (long)body->len, !c->keep_alive),
                      (sat_msgid){0, 0});
    sat__conn_enqueue(c, body, (sat_msgid){0, 0});
    if (!c->keep_alive)
        c->close_after_write = true;
}

static int version_check(request *rq)
{
    const sat_settings *s = SAT_SETTINGS(rq->c->w->fw);
    int v;

    if (!s->enforce_protocol || rq->params.framework[0] == '\0')
        return 0;
    v = sat__atmo_version(rq->params.framework);
    if (v >= s->min_protocol_version)
        return 0;
    sat__conn_enqueue(rq->c,
                      sat__http_head(rq->c, 501, "application/json",
                                     "X-Atmosphere-error: Atmosphere Protocol version not "
                                     "supported.\r\n",
                                     -1, true),
                      (sat_msgid){0, 0});
    rq->c->close_after_write = true;
    rq->c->state = SAT_CONN_CLOSING;
    return -1;
}

static sat_transport choose_transport(request *rq)
{
    sat_transport t = rq->params.transport;
    const char *accept = sat__http_header(rq->c, "Accept");

    if (rq->c->upgrade)
        return SAT_TRANSPORT_WEBSOCKET;
    if (t == SAT_TRANSPORT_UNDEFINED)
        t = accept != NULL && strstr(accept, "text/event-stream") != NULL ? SAT_TRANSPORT_SSE
                                                                          : SAT_TRANSPORT_STREAMING;
    if (t == SAT_TRANSPORT_JSONP && rq->params.jsonp_callback[0] == '\0')
        t = SAT_TRANSPORT_UNDEFINED;
    return t;
}

/* Sets up a subscribing request (GET or WebSocket upgrade). */
static void answer_subscribe(request *rq)
{
    sat_conn *c = rq->c;
    sat_framework *fw = c->w->fw;
    const sat_settings *s = SAT_SETTINGS(fw);
    sat_transport t = choose_transport(rq);
    bool first = rq->params.tracking_id[0] == '\0' || strcmp(rq->params.tracking_id, "0") == 0;
    bool handshake = first && rq->params.protocol;
    char uuid[SAT_TRACKING_ID_MAX + 1];
    char extra[256];
    sat_broadcaster *b;
    sat_resource *r;
    bool created;

    if (t == SAT_TRANSPORT_UNDEFINED) {
        sat__http_error(c, 400, "jsonp transport needs a jsonpTransport callback name");
        return;
    }
    if (version_check(rq) != 0)
        return;
    if ((t == SAT_TRANSPORT_SSE && !s->icp_sse) || (t == SAT_TRANSPORT_JSONP && !s->icp_jsonp)) {
        sat__http_error(c, 501, t == SAT_TRANSPORT_SSE
                                    ? "the sse transport is switched off (interceptors.sse)"
                                    : "the jsonp transport is switched off (interceptors.jsonp)");
        return;
    }
    if (t == SAT_TRANSPORT_WEBSOCKET && !s->websocket_enabled) {
        sat__conn_enqueue(c,
                          sat__http_head(c, 501, NULL,
                                         "X-Atmosphere-error: Websocket protocol not supported\r\n",
                                         0, true),
                          (sat_msgid){0, 0});
        c->close_after_write = true;
        c->state = SAT_CONN_CLOSING;
        return;
    }
    if (first && sat__uuid4_checked(uuid) != SAT_OK) {
        sat__http_error(c, 503, "no random source for a tracking id");
        return;
    }
    if (!first)
        snprintf(uuid, sizeof uuid, "%s", rq->params.tracking_id);
    b = sat_framework_lookup(fw, rq->path, true);
    if (b == NULL) {
        sat__http_error(c, 503, "engine.max_broadcasters reached");
        return;
    }
    r = sat__resource_get(fw, uuid, &created, b, t);
    if (r == NULL) {
        sat_broadcaster_unref(b);
        sat__http_error(c, 503, "out of memory");
        return;
    }
    if (created) {
        resource_info(r, rq);
        sat__introspect_resource_added(r);
        SAT_NOTIFY(fw, on_resource_added, r);
        atomic_fetch_add(&fw->stats.active[t], 1);
        stats_add(fw, &fw->stats.total[t]);
    } else if (r->bc != b) {
        sat__resource_unref(r);
        sat_broadcaster_unref(b);
        sat__http_error(c, 409, "tracking id is subscribed to another path");
        return;
    }
    c->res = r;
    c->transport = t;
    c->jsonp = t == SAT_TRANSPORT_JSONP;
    c->track = rq->params.track_message_size && s->icp_track;
    c->wire = wire_for(t, c->track);
    snprintf(c->jsonp_cb, sizeof c->jsonp_cb, "%s", rq->params.jsonp_callback);
    c->heartbeat_s = rq->params.heartbeat_server_s;
    if (handshake)
        stats_add(fw, &fw->stats.handshakes);

    if (handshake && is_resumable(t)) {
        sat_broadcaster_unref(b);
        answer_handshake_response(rq, r);
        c->ended = true;
        return;
    }

    if (t == SAT_TRANSPORT_WEBSOCKET) {
        const char *key = sat__http_header(c, "Sec-WebSocket-Key");

        if (sat__ws_upgrade(c, key) != SAT_OK) {
            sat_broadcaster_unref(b);
            c->ended = true;
            return;
        }
    } else {
        /* nosniff: without it Chromium holds back a text/plain response
         * until 1024 bytes arrive, so a suspended request never opens. */
        snprintf(extra, sizeof extra,
                 "X-Atmosphere-tracking-id: %s\r\n%sX-Content-Type-Options: nosniff\r\n", uuid,
                 first ? "X-Atmosphere-first-request: true\r\n" : "");
        sat__conn_enqueue(c, sat__http_head(c, 200, content_type_for(c), extra, -1, true),
                          (sat_msgid){0, 0});
        c->state = SAT_CONN_SUSPENDED;
        write_padding(c);
    }
    c->bc = b;
    c->last_write_ms = sat__now_ms();
    atomic_fetch_add(&r->live, 1);
    atomic_store(&r->owner, c->w->index);
    atomic_store(&r->state, SAT_RES_SUSPENDED);
    atomic_store(&r->last_activity_ms, c->last_write_ms);
    if (handshake) {
        char hs[160];
        size_t n = handshake_text(c, uuid, hs, sizeof hs);

        write_buf(c, frame_for(c, hs, n), (sat_msgid){0, 0});
    }
    sat__atmo_suspend(c);
}

/* Serves a file below push.static_dir for /static/<name>. */
static void answer_static(request *rq, const char *name)
{
    sat_conn *c = rq->c;
    const char *dir = SAT_SETTINGS(c->w->fw)->static_dir;
    const char *ext = strrchr(name, '.');
    const char *type = "application/octet-stream";
    char path[2048], real_dir[PATH_MAX], real_path[PATH_MAX];
    struct stat st;
    FILE *f;
    char *data;
    long size;

    if (strstr(name, "..") != NULL || name[0] == '\0' || name[0] == '/') {
        sat__http_error(c, 404, "not found");
        return;
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    /* Serve regular files that resolve inside the directory: a symbolic
     * link pointing elsewhere is not followed out of it. */
    if (realpath(dir, real_dir) == NULL || realpath(path, real_path) == NULL ||
        strncmp(real_path, real_dir, strlen(real_dir)) != 0 ||
        real_path[strlen(real_dir)] != '/' || stat(real_path, &st) != 0 ||
        !S_ISREG(st.st_mode)) {
        sat__http_error(c, 404, "not found");
        return;
    }
    f = fopen(real_path, "rb");
    if (f == NULL) {
        sat__http_error(c, 404, "not found");
        return;
    }
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (size < 0 || size > 16 * 1024 * 1024 || (data = malloc((size_t)size + 1)) == NULL) {
        fclose(f);
        sat__http_error(c, 500, "file too large");
        return;
    }
    size = (long)fread(data, 1, (size_t)size, f);
    fclose(f);
    if (ext != NULL && strcmp(ext, ".html") == 0)
        type = "text/html; charset=utf-8";
    else if (ext != NULL && strcmp(ext, ".js") == 0)
        type = "application/javascript; charset=utf-8";
    else if (ext != NULL && strcmp(ext, ".css") == 0)
        type = "text/css; charset=utf-8";
    sat__http_respond(c, 200, type, NULL, data, (size_t)size);
    free(data);
}

static int split_url(request *rq)
{
    sat_conn *c = rq->c;
    char *q;
    long n;

    if (c->url == NULL || c->url[0] != '/') {
        sat__http_error(c, 400, "request target must be an absolute path");
        return -1;
    }
    rq->path = strdup(c->url);
    if (rq->path == NULL) {
        sat__http_error(c, 500, "out of memory");
        return -1;
    }
    q = strchr(rq->path, '?');
    if (q != NULL) {
        *q = '\0';
        rq->query = q + 1;
    }
    q = strchr(rq->path, '#');
    if (q != NULL)
        *q = '\0';
    n = sat__pct_decode(rq->path, strlen(rq->path), false);
    if (n < 0 || memchr(rq->path, '\0', (size_t)n) != NULL) {
        sat__http_error(c, 400, "invalid percent-encoding in the request path");
        return -1;
    }
    return 0;
}

void sat__atmo_request(sat_conn *c)
{
    request rq = {.c = c, .method = (int)c->parser.method};
    const sat_settings *s = SAT_SETTINGS(c->w->fw);

    sat__atmo_params_init(&rq.params);
    if (split_url(&rq) != 0 || collect_params(&rq) != 0)
        goto out;
    SAT_DEBUG("transport", "%s %s transport=%s uuid=%s peer=%s", http_method_str(rq.method),
              rq.path, sat_transport_name(rq.params.transport),
              rq.params.tracking_id[0] ? rq.params.tracking_id : "-", c->remote);
    if (rq.method == HTTP_OPTIONS) {
        answer_options(&rq);
    } else if (s->static_dir[0] != '\0' && strncmp(rq.path, "/static/", 8) == 0 &&
               rq.method == HTTP_GET) {
        answer_static(&rq, rq.path + 8);
    } else if (rq.params.transport == SAT_TRANSPORT_CLOSE && s->icp_on_disconnect) {
        answer_close_message(&rq);
    } else if (rq.params.post_body != NULL) {
        answer_post(&rq, rq.params.post_body, rq.params.post_body_len);
    } else if (rq.method == HTTP_POST || rq.method == HTTP_PUT) {
        answer_post(&rq, c->body != NULL ? c->body : "", c->body_len);
    } else if (rq.method != HTTP_GET) {
        sat__http_error(c, 405, "method not allowed: use GET to subscribe and POST to send");
    } else if (rq.params.transport == SAT_TRANSPORT_POLLING && !c->upgrade) {
        sat__http_respond(c, 200, "text/plain; charset=UTF-8", NULL, NULL, 0);
    } else {
        answer_subscribe(&rq);
    }
out:
    sat__atmo_params_clear(&rq.params);
    free(rq.path);
    if (c->state == SAT_CONN_SUSPENDED || c->state == SAT_CONN_WEBSOCKET)
        sat__http_release_buffers(c);
}

/* ---- jobs, ticks and the poll reaper ---- */

static sat_conn *find_bound(sat_worker *w, const char *uuid, size_t from)
{
    for (size_t i = from; i < w->bound_count; i++) {
        if (strcmp(w->bound[i]->res->uuid, uuid) == 0)
            return w->bound[i];
    }
    return NULL;
}

static int job_on_resource(sat_worker *w, sat_job *job)
{
    sat_conn *c = find_bound(w, job->uuid, 0);
    sat_resource *r;

    if (c == NULL)
        return SAT_ECONFLICT;
    r = c->res;
    switch (job->kind) {
    case SAT_JOB_RESUME:
        if (c->transport == SAT_TRANSPORT_WEBSOCKET)
            return SAT_ECONFLICT;
        if (is_resumable(c->transport)) {
            resume_request(c);
        } else {
            c->ended = true;
            unbind_request(c);
            atomic_store(&r->state, SAT_RES_RESUMED);
            c->close_after_write = true;
            if (c->out.count == 0 && !c->writing)
                sat__conn_close(c);
        }
        return SAT_OK;
    case SAT_JOB_WRITE:
        write_buf(c, frame_for(c, job->msg->data, job->msg->len), (sat_msgid){0, 0});
        if (is_resumable(c->transport))
            resume_request(c);
        return SAT_OK;
    case SAT_JOB_CLOSE:
        sat__resource_ref(r);
        c->clean_close = job->clean;
        if (!job->clean)
            stats_add(w->fw, &w->fw->stats.closes);
        if (c->transport == SAT_TRANSPORT_WEBSOCKET)
            sat__ws_close(c, 1000, job->clean ? "" : "closed by the server");
        else
            sat__conn_close(c);
        sat__atmo_disconnect(r, job->clean, true);
        sat__resource_unref(r);
        return SAT_OK;
    default:
        return SAT_EINVAL;
    }
}

/* A close message can race with its own request's EOF: by the time the job
 * runs, the request is gone and the resource waits out its grace period.
 * The client sent its close message, so the resource ends now, cleanly. */
static int close_unbound(sat_worker *w, const char *uuid)
{
    sat_resource *r = sat__resource_find(w->fw, uuid);

    if (r == NULL)
        return SAT_OK;
    if (atomic_load(&r->live) == 0)
        sat__atmo_disconnect(r, true, true);
    sat__resource_unref(r);
    return SAT_OK;
}

void sat__atmo_job(sat_worker *w, sat_job *job)
{
    int rc = SAT_OK;

    switch (job->kind) {
    case SAT_JOB_DELIVER:
        deliver_to_subscribers(w, job->bc, job->msg);
        break;
    case SAT_JOB_DESTROY_BROADCASTER:
    case SAT_JOB_RESUME_ALL: {
        sat_sublist *l = &job->bc->local[w->index];

        while (l->count > 0) {
            sat_conn *c = l->items[l->count - 1];

            if (job->kind == SAT_JOB_RESUME_ALL && is_resumable(c->transport))
                resume_request(c);
            else
                sat__conn_close(c);
        }
        break;
    }
    default:
        rc = job_on_resource(w, job);
        if (rc == SAT_ECONFLICT && job->kind == SAT_JOB_CLOSE && job->clean)
            rc = close_unbound(w, job->uuid);
        break;
    }
    if (job->waiter != NULL)
        sat__waiter_done(job->waiter, rc);
}

/* Pings and idle timeouts of WebSocket connections. Returns false when the
 * connection was closed. */
static bool websocket_tick(sat_conn *c, const sat_settings *s, uint64_t now)
{
    static const char ping[] = "\x89\x00";

    if (s->ws_idle_timeout_ms > 0 && now > c->last_read_ms &&
        now - c->last_read_ms > s->ws_idle_timeout_ms && c->ws_close_started_ms == 0) {
        SAT_DEBUG("websocket", "no frame for %llu ms; closing uuid=%s",
                  (unsigned long long)s->ws_idle_timeout_ms, c->res ? c->res->uuid : "-");
        atomic_fetch_add(&c->w->fw->stats.timeouts, 1);
        sat__ws_close(c, 1001, "idle timeout");
        return false;
    }
    if (s->ws_ping_interval_ms > 0 && now - c->ws_last_ping_ms >= s->ws_ping_interval_ms) {
        c->ws_last_ping_ms = now;
        sat__conn_enqueue_copy(c, ping, 2);
    }
    return true;
}

/* The heartbeat interval of one request, from the settings in force (so a
 * reload reaches open connections) and the client's X-Heartbeat-Server: 0
 * turns heartbeats off, a larger value than the server's wins. */
static int heartbeat_interval(const sat_conn *c, const sat_settings *s)
{
    if (s->heartbeat_s == 0 || c->heartbeat_s == 0)
        return 0;
    return c->heartbeat_s > s->heartbeat_s ? c->heartbeat_s : s->heartbeat_s;
}

void sat__atmo_tick(sat_worker *w, uint64_t now)
{
    const sat_settings *s = SAT_SETTINGS(w->fw);

    for (size_t i = w->bound_count; i > 0; i--) {
        sat_conn *c;
        int hb;

        if (i > w->bound_count)
            continue;
        c = w->bound[i - 1];
        sat__atmo_flush_ack(c);
        if (c->transport == SAT_TRANSPORT_WEBSOCKET && !websocket_tick(c, s, now))
            continue;
        hb = heartbeat_interval(c, s);
        if (hb > 0 && now >= c->last_write_ms && now - c->last_write_ms >= (uint64_t)hb * 1000) {
            write_heartbeat(c);
            continue;
        }
        if (s->icp_idle_resource && c->res != NULL &&
            now - atomic_load(&c->res->last_activity_ms) > s->idle_resource_ms &&
            now - c->last_write_ms > s->idle_resource_ms) {
            SAT_INFO("resource", "closing idle resource uuid=%s after %llu ms", c->res->uuid,
                     (unsigned long long)s->idle_resource_ms);
            sat__conn_close(c);
        }
    }
}

/* Disconnects HTTP resources whose next request never came. */
void sat__atmo_reap(sat_framework *fw, uint64_t now)
{
    uint64_t grace = SAT_SETTINGS(fw)->disconnect_grace_ms;
    sat_resource *expired[64];
    size_t n = 0;

    pthread_mutex_lock(&fw->res_lock);
    for (size_t i = 0; i < fw->res_cap && n < 64; i++) {
        for (sat_resource *r = fw->res_table[i]; r != NULL && n < 64; r = r->hnext) {
            if (atomic_load(&r->live) == 0 && atomic_load(&r->state) == SAT_RES_RESUMED &&
                now - atomic_load(&r->resumed_ms) > grace)
                expired[n++] = sat__resource_ref(r);
        }
    }
    pthread_mutex_unlock(&fw->res_lock);
    for (size_t i = 0; i < n; i++) {
        sat__atmo_disconnect(expired[i], false, false);
        sat__resource_unref(expired[i]);
    }
}
