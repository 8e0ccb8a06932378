/* SPDX-License-Identifier: Apache-2.0 */
/* satbench subscribers: one TCP connection each, speaking WebSocket (client
 * frames masked), server-sent events or long-polling, and counting the
 * stamped messages that arrive. Publishing is in sb_pub.c. */
#include "satbench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { HDR_FIELD, HDR_TRACKING, HDR_ETAG, HDR_LAST_MODIFIED, HDR_OTHER };

typedef struct {
    uv_write_t req;
    size_t len;
    char data[];
} write_req;

static int on_header_field(http_parser *hp, const char *at, size_t len);
static int on_header_value(http_parser *hp, const char *at, size_t len);
static int on_headers_complete(http_parser *hp);
static int on_body(http_parser *hp, const char *at, size_t len);
static int on_message_complete(http_parser *hp);

static const http_parser_settings parser_settings = {
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* The loop thread reads each chunk to the end before the next read, so one
 * buffer per loop serves every connection of that loop. */
void sb_on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    sb_thread *t = h->loop->data;

    (void)hint;
    buf->base = t->rbuf;
    buf->len = sizeof t->rbuf;
}

static void on_write(uv_write_t *req, int status)
{
    (void)status;
    free(req);
}

static void write_copy(sb_sub *s, const void *data, size_t len)
{
    write_req *w = malloc(sizeof *w + len);
    uv_buf_t b;

    if (w == NULL) {
        sb_sub_close(s);
        return;
    }
    memcpy(w->data, data, len);
    w->len = len;
    b = uv_buf_init(w->data, (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&s->tcp, &b, 1, on_write) != 0) {
        free(w);
        sb_sub_close(s);
    }
}

/* Counts the end of a connection attempt once: the upgrade, the SSE headers
 * or the first long-poll request written. */
static void conn_done(sb_sub *s, bool ok)
{
    sb_thread *t = s->t;

    if (s->counted)
        return;
    s->counted = true;
    t->connecting--;
    atomic_fetch_add(ok ? &t->connected : &t->conn_errors, 1);
}

static void drop(sb_sub *s)
{
    if (!s->counted)
        conn_done(s, false);
    else if (atomic_load(&s->t->run->phase) < SB_PHASE_STOP)
        atomic_fetch_add(&s->t->dropped, 1);
    s->reconnect = false;
    sb_sub_close(s);
}

static const char *transport_name(sb_mode mode)
{
    return mode == SB_MODE_WS ? "websocket" : mode == SB_MODE_SSE ? "sse" : "long-polling";
}

/* Builds the request target: the channel's path plus, with --atmosphere,
 * the protocol parameters a JavaScript client sends. */
static void build_target(const sb_sub *s, char *out, size_t cap)
{
    const sb_options *opt = s->t->opt;
    size_t n = sb_expand(opt->sub.path, s->channel, out, cap);

    if (!opt->atmosphere)
        return;
    snprintf(out + n, cap - n,
             "%cX-Atmosphere-tracking-id=%s&X-Atmosphere-Framework=4.0.1"
             "&X-Atmosphere-Transport=%s&X-Atmosphere-TrackMessageSize=true&X-atmo-protocol=true",
             strchr(out, '?') != NULL ? '&' : '?', s->tracking[0] ? s->tracking : "0",
             transport_name(opt->mode));
}

static void lp_extra_headers(const sb_sub *s, char *out, size_t cap)
{
    int n = snprintf(out, cap, "X-Atmosphere-Transport: long-polling\r\n");

    if (s->tracking[0] && !s->t->opt->atmosphere && n >= 0 && (size_t)n < cap)
        n += snprintf(out + n, cap - (size_t)n, "X-Atmosphere-tracking-id: %s\r\n", s->tracking);
    if (s->etag[0] && n >= 0 && (size_t)n < cap)
        n += snprintf(out + n, cap - (size_t)n, "If-None-Match: %s\r\n", s->etag);
    if (s->last_modified[0] && n >= 0 && (size_t)n < cap)
        snprintf(out + n, cap - (size_t)n, "If-Modified-Since: %s\r\n", s->last_modified);
}

static void send_request(sb_sub *s)
{
    const sb_options *opt = s->t->opt;
    char target[1024], extra[512], req[2048];
    int n;

    build_target(s, target, sizeof target);
    if (opt->mode == SB_MODE_WS) {
        /* The key is fixed: the generator does not check Sec-WebSocket-Accept,
         * only the 101 status. */
        snprintf(extra, sizeof extra,
                 "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: c2F0YmVuY2gta2V5LTAwMQ==\r\nSec-WebSocket-Version: 13\r\n");
    } else if (opt->mode == SB_MODE_SSE) {
        snprintf(extra, sizeof extra, "Accept: text/event-stream\r\n");
    } else {
        lp_extra_headers(s, extra, sizeof extra);
    }
    n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", target,
                 opt->sub.hostport, extra);
    if (n < 0 || (size_t)n >= sizeof req) {
        drop(s);
        return;
    }
    write_copy(s, req, (size_t)n);
    if (opt->mode == SB_MODE_LP)
        conn_done(s, true);
}

/* Sends one masked client frame; the mask is fixed because the generator
 * only sends control frames. */
static void ws_send(sb_sub *s, uint8_t opcode, const uint8_t *payload, size_t len)
{
    static const uint8_t mask[4] = {0x5a, 0xc3, 0x17, 0x9e};
    uint8_t frame[2 + 4 + 125];

    if (len > 125)
        len = 125;
    frame[0] = (uint8_t)(0x80 | opcode);
    frame[1] = (uint8_t)(0x80 | len);
    memcpy(frame + 2, mask, 4);
    for (size_t i = 0; i < len; i++)
        frame[6 + i] = payload[i] ^ mask[i % 4];
    write_copy(s, frame, 6 + len);
}

static void ws_frame_end(sb_sub *s)
{
    s->in_payload = false;
    s->hdr_len = 0;
    if (s->opcode == 0x9) {
        ws_send(s, 0xA, s->ctrl, s->ctrl_len);
    } else if (s->opcode == 0x8) {
        ws_send(s, 0x8, s->ctrl, s->ctrl_len >= 2 ? 2 : 0);
        drop(s);
    }
    s->ctrl_len = 0;
}

/* Returns the header length once the first two bytes are known. */
static size_t ws_header_need(const sb_sub *s)
{
    size_t need = 2, len7 = s->hdr[1] & 0x7f;

    if (len7 == 126)
        need += 2;
    else if (len7 == 127)
        need += 8;
    if (s->hdr[1] & 0x80)
        need += 4;
    return need;
}

static void ws_header_done(sb_sub *s)
{
    size_t len7 = s->hdr[1] & 0x7f;

    s->opcode = s->hdr[0] & 0x0f;
    if (len7 < 126) {
        s->left = len7;
    } else if (len7 == 126) {
        s->left = (uint64_t)s->hdr[2] << 8 | s->hdr[3];
    } else {
        s->left = 0;
        for (int i = 2; i < 10; i++)
            s->left = s->left << 8 | s->hdr[i];
    }
    s->in_payload = true;
}

/* Feeds server bytes through the frame parser; server frames are unmasked. */
static int ws_feed(sb_sub *s, const char *data, size_t len)
{
    int found = 0;

    while (len > 0 && !uv_is_closing((uv_handle_t *)&s->tcp)) {
        if (!s->in_payload) {
            size_t need = s->hdr_len < 2 ? 2 : ws_header_need(s);

            s->hdr[s->hdr_len++] = (uint8_t)*data++;
            len--;
            if (s->hdr_len == 2)
                need = ws_header_need(s);
            if (s->hdr_len < need)
                continue;
            ws_header_done(s);
        } else {
            size_t take = s->left < len ? (size_t)s->left : len;

            if (s->opcode >= 0x8) {
                size_t room = sizeof s->ctrl - s->ctrl_len;
                size_t copy = take < room ? take : room;

                memcpy(s->ctrl + s->ctrl_len, data, copy);
                s->ctrl_len = (uint8_t)(s->ctrl_len + copy);
            } else {
                found += sb_scan_stamps(s, data, take);
            }
            data += take;
            len -= take;
            s->left -= take;
        }
        if (s->in_payload && s->left == 0)
            ws_frame_end(s);
    }
    return found;
}

static char *header_target(sb_sub *s, int which)
{
    switch (which) {
    case HDR_TRACKING:
        return s->tracking;
    case HDR_ETAG:
        return s->etag;
    case HDR_LAST_MODIFIED:
        return s->last_modified;
    default:
        return NULL;
    }
}

static void append(char *dst, size_t cap, const char *at, size_t len)
{
    size_t have = strlen(dst);

    if (have + len >= cap)
        len = cap - 1 - have;
    memcpy(dst + have, at, len);
    dst[have + len] = '\0';
}

static int on_header_field(http_parser *hp, const char *at, size_t len)
{
    sb_sub *s = hp->data;

    if (s->hdr_which != HDR_FIELD) {
        s->field[0] = '\0';
        s->hdr_which = HDR_FIELD;
    }
    append(s->field, sizeof s->field, at, len);
    return 0;
}

static int on_header_value(http_parser *hp, const char *at, size_t len)
{
    sb_sub *s = hp->data;
    char *dst;

    if (s->hdr_which == HDR_FIELD) {
        if (strcasecmp(s->field, "X-Atmosphere-tracking-id") == 0)
            s->hdr_which = HDR_TRACKING;
        else if (strcasecmp(s->field, "Etag") == 0)
            s->hdr_which = HDR_ETAG;
        else if (strcasecmp(s->field, "Last-Modified") == 0)
            s->hdr_which = HDR_LAST_MODIFIED;
        else
            s->hdr_which = HDR_OTHER;
        dst = header_target(s, s->hdr_which);
        if (dst != NULL)
            dst[0] = '\0';
    }
    dst = header_target(s, s->hdr_which);
    if (dst != NULL)
        append(dst, sizeof s->tracking, at, len);
    return 0;
}

static int on_headers_complete(http_parser *hp)
{
    sb_sub *s = hp->data;
    unsigned status = hp->status_code;
    sb_mode mode = s->t->opt->mode;

    s->hdr_which = HDR_FIELD;
    s->field[0] = '\0';
    if (mode == SB_MODE_WS) {
        if (status != 101)
            return -1;
        s->ws = true;
        conn_done(s, true);
    } else if (mode == SB_MODE_SSE) {
        if (status != 200)
            return -1;
        conn_done(s, true);
    } else if (status != 200 && status != 304 && status != 408) {
        return -1;
    }
    return 0;
}

static int on_body(http_parser *hp, const char *at, size_t len)
{
    sb_sub *s = hp->data;
    int found = sb_scan_stamps(s, at, len);

    if (found > 0) {
        atomic_fetch_add(&s->t->delivered, (uint64_t)found);
        atomic_fetch_add(&s->t->run->delivered, (uint64_t)found);
    }
    return 0;
}

/* A long-poll response ended: poll again on the same connection when the
 * server keeps it alive, else reconnect. A streaming response that ends is
 * a dropped subscriber. */
static int on_message_complete(http_parser *hp)
{
    sb_sub *s = hp->data;

    if (s->ws)
        return 0;
    if (s->t->opt->mode != SB_MODE_LP) {
        drop(s);
        return 0;
    }
    if (atomic_load(&s->t->run->phase) >= SB_PHASE_STOP)
        return 0;
    if (http_should_keep_alive(hp))
        send_request(s);
    else
        s->reconnect = true;
    return 0;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    sb_sub *s = stream->data;
    size_t used;
    int found;

    if (nread == UV_EOF && !s->ws && s->counted) {
        /* A response without a length ends at EOF; completing it here runs
         * on_message_complete, which asks for a reconnect. */
        http_parser_execute(&s->hp, &parser_settings, NULL, 0);
        if (s->reconnect) {
            sb_sub_close(s);
            return;
        }
    }
    if (nread < 0) {
        drop(s);
        return;
    }
    s->t->now_ns = sb_now_ns();
    if (s->ws) {
        found = ws_feed(s, buf->base, (size_t)nread);
        if (found > 0) {
            atomic_fetch_add(&s->t->delivered, (uint64_t)found);
            atomic_fetch_add(&s->t->run->delivered, (uint64_t)found);
        }
        return;
    }
    used = http_parser_execute(&s->hp, &parser_settings, buf->base, (size_t)nread);
    if (uv_is_closing((uv_handle_t *)&s->tcp))
        return;
    if (s->ws) {
        found = ws_feed(s, buf->base + used, (size_t)nread - used);
        if (found > 0) {
            atomic_fetch_add(&s->t->delivered, (uint64_t)found);
            atomic_fetch_add(&s->t->run->delivered, (uint64_t)found);
        }
    } else if (HTTP_PARSER_ERRNO(&s->hp) != HPE_OK) {
        drop(s);
    } else if (s->reconnect) {
        sb_sub_close(s);
    }
}

static void on_connect(uv_connect_t *req, int status)
{
    sb_sub *s = req->data;

    if (status == UV_ECANCELED)
        return;
    if (status < 0) {
        drop(s);
        return;
    }
    http_parser_init(&s->hp, HTTP_RESPONSE);
    s->hp.data = s;
    if (uv_read_start((uv_stream_t *)&s->tcp, sb_on_alloc, on_read) != 0) {
        drop(s);
        return;
    }
    send_request(s);
}

void sb_sub_start(sb_sub *s)
{
    sb_thread *t = s->t;

    s->ws = false;
    s->in_payload = false;
    s->hdr_len = 0;
    s->ctrl_len = 0;
    s->tail_len = 0;
    s->reconnect = false;
    uv_tcp_init(&t->loop, &s->tcp);
    atomic_fetch_add(&t->open_handles, 1);
    s->tcp.data = s;
    s->creq.data = s;
    uv_tcp_nodelay(&s->tcp, 1);
    if (uv_tcp_connect(&s->creq, &s->tcp, (const struct sockaddr *)&t->opt->sub.addr, on_connect) !=
        0)
        drop(s);
}

static void on_close(uv_handle_t *h)
{
    sb_sub *s = h->data;
    sb_thread *t = s->t;

    atomic_fetch_sub(&t->open_handles, 1);
    if (s->reconnect && atomic_load(&t->run->phase) < SB_PHASE_STOP)
        sb_sub_start(s);
}

/* Closes with a reset so that tens of thousands of closes leave no
 * TIME_WAIT entries behind to exhaust the loopback port range. */
void sb_sub_close(sb_sub *s)
{
    uv_handle_t *h = (uv_handle_t *)&s->tcp;

    if (h->loop == NULL || uv_is_closing(h))
        return;
    if (uv_tcp_close_reset(&s->tcp, on_close) != 0)
        uv_close(h, on_close);
}
