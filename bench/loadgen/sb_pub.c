/* SPDX-License-Identifier: Apache-2.0 */
/* satbench publishers: keep-alive HTTP connections that POST stamped
 * messages to the publish URL, one request in flight each, either at a fixed
 * rate or as fast as deliveries keep up (a window of undelivered messages). */
#include "satbench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int on_message_complete(http_parser *hp);

static const http_parser_settings parser_settings = {
    .on_message_complete = on_message_complete,
};

static void pub_reconnect_later(sb_pub *p)
{
    p->open = false;
    sb_pub_close(p);
}

/* A publisher is free again once its request was written and its response
 * read, in whichever order the loop reports them. */
static void maybe_free(sb_pub *p)
{
    if (!p->write_done || !p->response_done)
        return;
    p->busy = false;
    sb_pub_pump(p->t);
}

static int on_message_complete(http_parser *hp)
{
    sb_pub *p = hp->data;

    if (hp->status_code < 200 || hp->status_code > 299)
        atomic_fetch_add(&p->t->publish_errors, 1);
    p->response_done = true;
    if (!http_should_keep_alive(hp)) {
        pub_reconnect_later(p);
        return 0;
    }
    maybe_free(p);
    return 0;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    sb_pub *p = stream->data;

    if (nread < 0) {
        if (p->busy && !p->response_done)
            atomic_fetch_add(&p->t->publish_errors, 1);
        pub_reconnect_later(p);
        return;
    }
    http_parser_execute(&p->hp, &parser_settings, buf->base, (size_t)nread);
    if (HTTP_PARSER_ERRNO(&p->hp) != HPE_OK && !uv_is_closing((uv_handle_t *)&p->tcp)) {
        atomic_fetch_add(&p->t->publish_errors, 1);
        pub_reconnect_later(p);
    }
}

static void on_write(uv_write_t *req, int status)
{
    sb_pub *p = req->data;

    if (status < 0) {
        atomic_fetch_add(&p->t->publish_errors, 1);
        pub_reconnect_later(p);
        return;
    }
    p->write_done = true;
    maybe_free(p);
}

static void on_connect(uv_connect_t *req, int status)
{
    sb_pub *p = req->data;

    if (status == UV_ECANCELED)
        return;
    if (status < 0) {
        atomic_fetch_add(&p->t->publish_errors, 1);
        sb_pub_close(p);
        return;
    }
    http_parser_init(&p->hp, HTTP_RESPONSE);
    p->hp.data = p;
    if (uv_read_start((uv_stream_t *)&p->tcp, sb_on_alloc, on_read) != 0) {
        sb_pub_close(p);
        return;
    }
    p->open = true;
    p->busy = false;
    sb_pub_pump(p->t);
}

void sb_pub_start(sb_pub *p)
{
    sb_thread *t = p->t;

    p->open = false;
    p->busy = true;
    p->closing = false;
    uv_tcp_init(&t->loop, &p->tcp);
    atomic_fetch_add(&t->open_handles, 1);
    p->tcp.data = p;
    p->creq.data = p;
    p->wreq.data = p;
    uv_tcp_nodelay(&p->tcp, 1);
    if (uv_tcp_connect(&p->creq, &p->tcp, (const struct sockaddr *)&t->opt->pub.addr, on_connect) !=
        0)
        sb_pub_close(p);
}

static void on_close(uv_handle_t *h)
{
    sb_pub *p = h->data;
    sb_thread *t = p->t;

    atomic_fetch_sub(&t->open_handles, 1);
    p->closing = false;
    if (atomic_load(&t->run->phase) < SB_PHASE_DRAIN)
        sb_pub_start(p);
}

void sb_pub_close(sb_pub *p)
{
    uv_handle_t *h = (uv_handle_t *)&p->tcp;

    p->open = false;
    if (h->loop == NULL || uv_is_closing(h))
        return;
    p->closing = true;
    uv_close(h, on_close);
}

/* Formats and writes one POST of a stamped payload to the next channel. */
static void publish_one(sb_pub *p)
{
    sb_thread *t = p->t;
    const sb_options *opt = t->opt;
    char target[1024];
    int channel = (int)((t->pub_seq++ * (uint64_t)opt->threads + (uint64_t)t->index) %
                        (uint64_t)opt->channels);
    size_t need = sizeof target + 256 + (size_t)opt->size;
    uv_buf_t b;
    int n;

    if (p->cap < need) {
        char *grown = realloc(p->buf, need);

        if (grown == NULL)
            return;
        p->buf = grown;
        p->cap = need;
    }
    sb_expand(opt->pub.path, channel, target, sizeof target);
    n = snprintf(p->buf, p->cap,
                 "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain\r\n"
                 "Content-Length: %d\r\n\r\n",
                 target, opt->pub.hostport, opt->size);
    if (n < 0 || (size_t)n + (size_t)opt->size > p->cap)
        return;
    sb_write_stamp(p->buf + n, (size_t)opt->size, sb_now_ns());
    b = uv_buf_init(p->buf, (unsigned)(n + opt->size));
    p->busy = true;
    p->write_done = false;
    p->response_done = false;
    if (uv_write(&p->wreq, (uv_stream_t *)&p->tcp, &b, 1, on_write) != 0) {
        atomic_fetch_add(&t->publish_errors, 1);
        pub_reconnect_later(p);
        return;
    }
    t->pub_sent++;
    atomic_fetch_add(&t->published, 1);
    atomic_fetch_add(&t->run->published, 1);
}

/* Decides whether another message may be sent now. At a fixed rate, that is
 * when its send time has come. At full speed, it is while fewer than --window
 * messages wait for delivery to all of their subscribers. */
static bool may_publish(sb_thread *t)
{
    sb_run *run = t->run;

    if (atomic_load(&run->phase) != SB_PHASE_PUBLISH)
        return false;
    if (t->rate > 0) {
        double elapsed = (double)(sb_now_ns() - t->pub_t0_ns) / 1e9;

        return (double)t->pub_sent < elapsed * t->rate;
    }
    uint64_t done =
        (atomic_load(&run->delivered) + atomic_load(&run->written_off)) / (uint64_t)run->fan;
    uint64_t sent = atomic_load(&run->published);

    return sent < done + (uint64_t)t->opt->window;
}

void sb_pub_pump(sb_thread *t)
{
    for (int i = 0; i < t->npubs; i++) {
        sb_pub *p = &t->pubs[i];

        if (!p->open || p->busy)
            continue;
        if (!may_publish(t))
            return;
        publish_one(p);
    }
}
