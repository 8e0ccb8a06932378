/* SPDX-License-Identifier: Apache-2.0 */
/* Connections on the push port: accept, read, the bounded output queue,
 * batched writes (every frame pending for a socket leaves in one writev),
 * timeouts and close. */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char resp_503[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    "Content-Length: 80\r\nConnection: close\r\n\r\n"
    "{\"error\":{\"status\":503,\"message\":\"server full: push.max_connections reached\"}}  ";

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    sat_conn *c = h->data;

    (void)suggested;
    buf->base = c->w->read_buf;
    buf->len = sat__worker_read_buf_size();
}

static void on_closed(uv_handle_t *h)
{
    sat_conn *c = h->data;

    for (size_t i = 0; i < c->out.count; i++)
        sat__buf_unref(c->out.items[(c->out.head + i) % c->out.cap].buf);
    free(c->out.items);
    for (size_t i = 0; i < c->wbuf_count; i++)
        ; /* in-flight buffers are released by the write callback */
    free(c->wbufs);
    free(c->url);
    free(c->hdr.data);
    free(c->body);
    free(c);
}

void sat__conn_close(sat_conn *c)
{
    sat_worker *w = c->w;

    if (c->closing)
        return;
    c->closing = true;
    c->state = SAT_CONN_CLOSING;
    if (c->dirty) {
        /* The handle's memory goes away with uv_close: unlink it from the
         * batch of connections waiting for a write. */
        for (sat_conn **p = &w->dirty; *p != NULL; p = &(*p)->dirty_next) {
            if (*p == c) {
                *p = c->dirty_next;
                break;
            }
        }
        c->dirty = false;
    }
    if (c->res != NULL)
        sat__atmo_conn_closed(c);
    sat__ws_free(c);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else if (w->conns == c)
        w->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->next = c->prev = NULL;
    atomic_fetch_sub(&w->fw->stats.connections, 1);
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    sat_conn *c = s->data;

    if (c->closing)
        return;
    if (nread < 0) {
        sat__conn_close(c);
        return;
    }
    if (nread == 0)
        return;
    c->last_read_ms = sat__now_ms();
    if (c->state == SAT_CONN_WEBSOCKET)
        (void)sat__ws_feed(c, buf->base, (size_t)nread);
    else if (c->state == SAT_CONN_HTTP)
        (void)sat__http_feed(c, buf->base, (size_t)nread);
    /* Bytes on a suspended HTTP response are ignored: Atmosphere clients do
     * not pipeline behind a suspended request. EOF is still seen. */
    if (!c->closing)
        sat__conn_flush_dirty(c->w);
}

void sat__conn_accept(sat_worker *w, uv_stream_t *server)
{
    sat_framework *fw = w->fw;
    sat_conn *c = calloc(1, sizeof *c);
    struct sockaddr_storage ss;
    int len = sizeof ss;

    if (c == NULL)
        return;
    uv_tcp_init(&w->loop, &c->tcp);
    c->tcp.data = c;
    c->w = w;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, (uv_close_cb)free);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
        char host[INET6_ADDRSTRLEN] = "?";

        if (ss.ss_family == AF_INET) {
            uv_ip4_name((struct sockaddr_in *)&ss, host, sizeof host);
            snprintf(c->remote, sizeof c->remote, "%s:%d", host,
                     ntohs(((struct sockaddr_in *)&ss)->sin_port));
        } else {
            uv_ip6_name((struct sockaddr_in6 *)&ss, host, sizeof host);
            snprintf(c->remote, sizeof c->remote, "[%s]:%d", host,
                     ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
        }
    }
    c->next = w->conns;
    if (w->conns != NULL)
        w->conns->prev = c;
    w->conns = c;
    c->last_read_ms = c->request_started_ms = sat__now_ms();
    atomic_fetch_add(&fw->stats.connections, 1);
    if ((size_t)atomic_load(&fw->stats.connections) > SAT_SETTINGS(fw)->max_connections) {
        atomic_fetch_add(&fw->stats.rejected_full, 1);
        SAT_WARN("transport", "push.max_connections (%zu) reached; answering 503 peer=%s",
                 SAT_SETTINGS(fw)->max_connections, c->remote);
        sat__conn_enqueue_copy(c, resp_503, sizeof resp_503 - 1);
        c->close_after_write = true;
        c->state = SAT_CONN_CLOSING;
        sat__conn_flush_dirty(w);
        return;
    }
    sat__http_init(c);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void mark_dirty(sat_conn *c)
{
    if (!c->dirty) {
        c->dirty = true;
        c->dirty_next = c->w->dirty;
        c->w->dirty = c;
    }
}

static int wq_push(sat_wqueue *q, sat_buf *buf, sat_msgid id)
{
    if (q->count == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 2;
        sat_wbuf *items = malloc(cap * sizeof *items);

        if (items == NULL)
            return SAT_ENOMEM;
        for (size_t i = 0; i < q->count; i++)
            items[i] = q->items[(q->head + i) % q->cap];
        free(q->items);
        q->items = items;
        q->cap = cap;
        q->head = 0;
    }
    q->items[(q->head + q->count) % q->cap] = (sat_wbuf){buf, id};
    q->count++;
    q->bytes += buf->len;
    return SAT_OK;
}

/* Applies push.queue_policy when a slow client's queue passes its bound:
 * "close" disconnects it, "drop-oldest" discards whole queued frames until
 * the new one fits. Returns false when the connection was closed. */
static bool enforce_queue_bound(sat_conn *c, size_t incoming)
{
    sat_framework *fw = c->w->fw;

    if (c->out.bytes + incoming <= SAT_SETTINGS(fw)->queue_max_bytes || c->out.count == 0)
        return true;
    atomic_fetch_add(&fw->stats.slow_consumers, 1);
    if (!SAT_SETTINGS(fw)->queue_drop_oldest || c->state == SAT_CONN_HTTP) {
        SAT_WARN("transport",
                 "push.queue_max_bytes (%zu) reached; closing slow client peer=%s uuid=%s",
                 SAT_SETTINGS(fw)->queue_max_bytes, c->remote, c->res ? c->res->uuid : "-");
        sat__conn_close(c);
        return false;
    }
    while (c->out.count > 0 && c->out.bytes + incoming > SAT_SETTINGS(fw)->queue_max_bytes) {
        sat_wbuf *front = &c->out.items[c->out.head];

        c->out.bytes -= front->buf->len;
        sat__buf_unref(front->buf);
        c->out.head = (c->out.head + 1) % c->out.cap;
        c->out.count--;
        atomic_fetch_add(&fw->stats.dropped_frames, 1);
    }
    return true;
}

void sat__conn_enqueue(sat_conn *c, sat_buf *buf, sat_msgid id)
{
    if (c->closing || buf == NULL) {
        sat__buf_unref(buf);
        return;
    }
    if (!enforce_queue_bound(c, buf->len) || wq_push(&c->out, buf, id) != SAT_OK) {
        sat__buf_unref(buf);
        return;
    }
    if (c->res != NULL)
        atomic_store(&c->res->queue_bytes, c->out.bytes);
    mark_dirty(c);
}

void sat__conn_enqueue_copy(sat_conn *c, const char *data, size_t len)
{
    sat_buf *b = sat__buf_new(data, len);

    sat__conn_enqueue(c, b, (sat_msgid){0, 0});
}

static void start_write(sat_conn *c);

static void on_write(uv_write_t *req, int status)
{
    sat_conn *c = req->data;

    for (size_t i = 0; i < c->wbuf_count; i++)
        sat__buf_unref((sat_buf *)(void *)(c->wbufs[i].base - offsetof(sat_buf, data)));
    c->wbuf_count = 0;
    c->writing = false;
    if (c->closing)
        return;
    if (status < 0) {
        sat__conn_close(c);
        return;
    }
    /* A completed write acknowledges what it carried on streaming
     * transports; a long-poll waits for the next poll instead. */
    if (c->res != NULL && c->bc != NULL && !sat_msgid_is_zero(c->inflight_max) &&
        c->transport != SAT_TRANSPORT_LONG_POLLING && c->transport != SAT_TRANSPORT_JSONP &&
        sat_msgid_cmp(c->inflight_max, c->ack_pending) > 0)
        c->ack_pending = c->inflight_max;
    if (c->out.count > 0) {
        start_write(c);
        return;
    }
    if (c->close_after_write) {
        sat__conn_close(c);
        return;
    }
    sat__conn_after_response(c);
}

static void start_write(sat_conn *c)
{
    size_t n = c->out.count;
    int rc;

    if (c->writing || n == 0 || c->closing)
        return;
    if (n > c->wbuf_cap) {
        uv_buf_t *grown = realloc(c->wbufs, n * sizeof *grown);

        if (grown == NULL) {
            sat__conn_close(c);
            return;
        }
        c->wbufs = grown;
        c->wbuf_cap = n;
    }
    c->inflight_max = (sat_msgid){0, 0};
    for (size_t i = 0; i < n; i++) {
        sat_wbuf *wb = &c->out.items[(c->out.head + i) % c->out.cap];

        c->wbufs[i] = uv_buf_init(wb->buf->data, (unsigned int)wb->buf->len);
        if (sat_msgid_cmp(wb->id, c->inflight_max) > 0)
            c->inflight_max = wb->id;
    }
    c->wbuf_count = n;
    c->out.head = (c->out.head + n) % c->out.cap;
    c->out.count = 0;
    if (c->res != NULL)
        atomic_fetch_add(&c->res->bytes_sent, c->out.bytes);
    atomic_fetch_add_explicit(&c->w->bytes_sent, c->out.bytes, memory_order_relaxed);
    c->out.bytes = 0;
    if (c->res != NULL)
        atomic_store(&c->res->queue_bytes, 0);
    c->wreq.data = c;
    c->writing = true;
    rc = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, c->wbufs, (unsigned int)n, on_write);
    if (rc != 0) {
        c->writing = false;
        for (size_t i = 0; i < n; i++)
            sat__buf_unref((sat_buf *)(void *)(c->wbufs[i].base - offsetof(sat_buf, data)));
        c->wbuf_count = 0;
        sat__conn_close(c);
    }
}

void sat__conn_flush_dirty(sat_worker *w)
{
    sat_conn *c = w->dirty;

    w->dirty = NULL;
    while (c != NULL) {
        sat_conn *next = c->dirty_next;

        c->dirty = false;
        c->dirty_next = NULL;
        if (!c->closing)
            start_write(c);
        c = next;
    }
}

/* Runs when everything queued has been written: a finished response either
 * ends the connection or lets it read the next request. */
void sat__conn_after_response(sat_conn *c)
{
    (void)c;
}

/* Closes connections stuck in a request (slow headers or body) or idle in
 * keep-alive past their limits. */
void sat__conn_tick(sat_worker *w, uint64_t now)
{
    sat_settings *s = SAT_SETTINGS(w->fw);
    sat_conn *c = w->conns;

    while (c != NULL) {
        sat_conn *next = c->next;

        if (c->state == SAT_CONN_HTTP) {
            bool mid_request = c->url_len > 0 || c->header_bytes > 0;
            uint64_t limit = mid_request ? s->header_timeout_ms : s->keepalive_timeout_ms;

            if (now > c->last_read_ms && now - c->request_started_ms > limit && !c->writing) {
                atomic_fetch_add(&w->fw->stats.timeouts, 1);
                SAT_DEBUG("transport", "closing %s connection after %llu ms peer=%s",
                          mid_request ? "slow-request" : "idle keep-alive",
                          (unsigned long long)limit, c->remote);
                sat__conn_close(c);
            }
        } else if (c->state == SAT_CONN_WEBSOCKET && c->ws_close_started_ms != 0 &&
                   now - c->ws_close_started_ms > s->ws_close_timeout_ms) {
            sat__conn_close(c);
        }
        c = next;
    }
}
