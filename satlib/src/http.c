/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP/1.1 requests on the push port: http-parser callbacks with header and
 * body limits, one request at a time per connection, error responses and
 * the response-head builder shared by every transport. */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int grow_append(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t want = *cap ? *cap : 256;
        char *grown;

        while (want < *len + n + 1)
            want *= 2;
        grown = realloc(*buf, want);
        if (grown == NULL)
            return -1;
        *buf = grown;
        *cap = want;
    }
    memcpy(*buf + *len, data, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

static int count_header_bytes(sat_conn *c, size_t n)
{
    c->header_bytes += n;
    if (c->header_bytes > SAT_SETTINGS(c->w->fw)->max_header_bytes) {
        c->pending_status = 431;
        return -1;
    }
    return 0;
}

static int on_message_begin(http_parser *p)
{
    sat_conn *c = p->data;

    c->request_started_ms = sat__now_ms();
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
    sat_conn *c = p->data;

    if (count_header_bytes(c, n) != 0)
        return -1;
    return grow_append(&c->url, &c->url_len, &c->url_cap, at, n);
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
    sat_conn *c = p->data;
    sat_header_acc *h = &c->hdr;
    size_t cap = h->cap;

    if (count_header_bytes(c, n + 2) != 0)
        return -1;
    if (h->in_value) {
        /* The previous value is complete: keep its NUL and start a name. */
        h->len++;
        h->count++;
        h->in_value = false;
    }
    if (grow_append(&h->data, &h->len, &cap, at, n) != 0)
        return -1;
    h->cap = cap;
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
    sat_conn *c = p->data;
    sat_header_acc *h = &c->hdr;
    size_t cap = h->cap;

    if (count_header_bytes(c, n) != 0)
        return -1;
    if (!h->in_value) {
        h->len++; /* keep the name's NUL */
        h->in_value = true;
    }
    if (grow_append(&h->data, &h->len, &cap, at, n) != 0)
        return -1;
    h->cap = cap;
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    sat_conn *c = p->data;
    sat_header_acc *h = &c->hdr;

    if (h->in_value) {
        h->len++;
        h->count++;
        h->in_value = false;
    }
    c->headers_done = true;
    c->keep_alive = http_should_keep_alive(p) != 0;
    if ((p->flags & F_CONTENTLENGTH) != 0 &&
        p->content_length > (uint64_t)SAT_SETTINGS(c->w->fw)->max_body_bytes) {
        c->pending_status = 413;
        return -1;
    }
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    sat_conn *c = p->data;

    if (c->body_len + n > SAT_SETTINGS(c->w->fw)->max_body_bytes) {
        c->pending_status = 413;
        return -1;
    }
    return grow_append(&c->body, &c->body_len, &c->body_cap, at, n);
}

static int on_message_complete(http_parser *p)
{
    sat_conn *c = p->data;

    c->message_done = true;
    c->upgrade = p->upgrade != 0;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void sat__http_init(sat_conn *c)
{
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    c->state = SAT_CONN_HTTP;
}

/* Forgets the finished request so the connection can read the next one. */
void sat__http_reset(sat_conn *c)
{
    sat__atmo_request_done(c);
    c->url_len = 0;
    if (c->url != NULL)
        c->url[0] = '\0';
    c->hdr.len = c->hdr.count = 0;
    c->hdr.in_value = false;
    c->body_len = 0;
    c->header_bytes = 0;
    c->headers_done = c->message_done = c->upgrade = false;
    c->pending_status = 0;
    c->request_started_ms = sat__now_ms();
    if (c->url_cap > 65536) {
        free(c->url);
        c->url = NULL;
        c->url_cap = 0;
    }
    if (c->body_cap > 65536) {
        free(c->body);
        c->body = NULL;
        c->body_cap = 0;
    }
}

/* Frees the request buffers of a connection that will read no further HTTP
 * request (a suspended response or a WebSocket): they are the largest part
 * of an idle connection. */
void sat__http_release_buffers(sat_conn *c)
{
    free(c->url);
    c->url = NULL;
    c->url_len = c->url_cap = 0;
    free(c->hdr.data);
    c->hdr.data = NULL;
    c->hdr.len = c->hdr.cap = c->hdr.count = 0;
    free(c->body);
    c->body = NULL;
    c->body_len = c->body_cap = 0;
}

const char *sat__http_header(const sat_conn *c, const char *name)
{
    const char *p = c->hdr.data;
    const char *end = p + c->hdr.len;

    for (size_t i = 0; i < c->hdr.count && p != NULL && p < end; i++) {
        const char *value = p + strlen(p) + 1;

        if (strcasecmp(p, name) == 0)
            return value;
        p = value + strlen(value) + 1;
    }
    return NULL;
}

static const char *status_text(int status)
{
    switch (status) {
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 413:
        return "Payload Too Large";
    case 426:
        return "Upgrade Required";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    default:
        return "Unknown";
    }
}

sat_buf *sat__http_head(sat_conn *c, int status, const char *content_type, const char *extra,
                        long body_len, bool close)
{
    const sat_settings *s = SAT_SETTINGS(c->w->fw);
    const char *origin = c->headers_done ? sat__http_header(c, "Origin") : NULL;
    char head[2048];
    int n;

    n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\n", status, status_text(status));
    if (content_type != NULL)
        n += snprintf(head + n, sizeof head - (size_t)n, "Content-Type: %s\r\n", content_type);
    if (s->no_cache_headers && status != 101)
        n += snprintf(head + n, sizeof head - (size_t)n,
                      "Expires: -1\r\nCache-Control: no-store, no-cache, must-revalidate\r\n"
                      "Pragma: no-cache\r\n");
    if (s->cors && origin != NULL && strlen(origin) < 512 && strpbrk(origin, "\r\n") == NULL)
        n += snprintf(head + n, sizeof head - (size_t)n,
                      "Access-Control-Allow-Origin: %s\r\n"
                      "Access-Control-Expose-Headers: X-Atmosphere-tracking-id, X-Heartbeat-Server\r\n"
                      "Access-Control-Allow-Credentials: true\r\n",
                      origin);
    if (extra != NULL)
        n += snprintf(head + n, sizeof head - (size_t)n, "%s", extra);
    if (body_len >= 0)
        n += snprintf(head + n, sizeof head - (size_t)n, "Content-Length: %ld\r\n", body_len);
    if (status != 101)
        n += snprintf(head + n, sizeof head - (size_t)n, "Connection: %s\r\n",
                      close ? "close" : "keep-alive");
    n += snprintf(head + n, sizeof head - (size_t)n, "\r\n");
    if (n >= (int)sizeof head)
        n = (int)sizeof head - 1;
    return sat__buf_new(head, (size_t)n);
}

/* Sends a complete response. The connection stays open for the next request
 * unless the client asked to close it. */
void sat__http_respond(sat_conn *c, int status, const char *content_type, const char *extra,
                       const char *body, size_t body_len)
{
    bool close = !c->keep_alive || status >= 400;

    sat__conn_enqueue(c, sat__http_head(c, status, content_type, extra, (long)body_len, close),
                      (sat_msgid){0, 0});
    if (body_len > 0)
        sat__conn_enqueue_copy(c, body, body_len);
    if (close)
        c->close_after_write = true;
}

void sat__http_error(sat_conn *c, int status, const char *message)
{
    char body[512];
    size_t j = 0;
    int n;

    n = snprintf(body, sizeof body, "{\"error\":{\"status\":%d,\"message\":\"", status);
    j = (size_t)n;
    for (const char *p = message; *p != '\0' && j < sizeof body - 8; p++) {
        unsigned char ch = (unsigned char)*p;

        if (ch == '"' || ch == '\\')
            body[j++] = '\\';
        body[j++] = ch < 0x20 ? ' ' : (char)ch;
    }
    j += (size_t)snprintf(body + j, sizeof body - j, "\"}}");
    atomic_fetch_add(&c->w->fw->stats.bad_requests, 1);
    SAT_DEBUG("transport", "answering %d: %s peer=%s", status, message, c->remote);
    c->keep_alive = false;
    sat__http_respond(c, status, "application/json", NULL, body, j);
    c->state = SAT_CONN_CLOSING;
}

static void parse_failed(sat_conn *c)
{
    enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
    char msg[200];

    if (c->pending_status == 431) {
        snprintf(msg, sizeof msg, "request headers exceed push.max_header_bytes (%zu)",
                 SAT_SETTINGS(c->w->fw)->max_header_bytes);
        SAT_WARN("transport", "%s peer=%s", msg, c->remote);
        sat__http_error(c, 431, msg);
    } else if (c->pending_status == 413) {
        snprintf(msg, sizeof msg, "request body exceeds push.max_body_bytes (%zu)",
                 SAT_SETTINGS(c->w->fw)->max_body_bytes);
        SAT_WARN("transport", "%s peer=%s", msg, c->remote);
        sat__http_error(c, 413, msg);
    } else {
        snprintf(msg, sizeof msg, "malformed HTTP request: %s", http_errno_description(e));
        sat__http_error(c, 400, msg);
    }
}

int sat__http_feed(sat_conn *c, const char *data, size_t len)
{
    while (len > 0 && c->state == SAT_CONN_HTTP && !c->closing) {
        size_t n = http_parser_execute(&c->parser, &parser_settings, data, len);
        enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);

        if (e != HPE_OK && e != HPE_PAUSED) {
            parse_failed(c);
            return -1;
        }
        data += n;
        len -= n;
        if (!c->message_done) {
            if (c->parser.upgrade && c->headers_done)
                c->message_done = true; /* upgrade without a body callback */
            else
                continue;
        }
        if (e == HPE_PAUSED)
            http_parser_pause(&c->parser, 0);
        c->upgrade = c->parser.upgrade != 0;
        sat__atmo_request(c);
        if (c->state == SAT_CONN_WEBSOCKET) {
            if (len > 0)
                (void)sat__ws_feed(c, data, len);
            return 0;
        }
        if (c->state != SAT_CONN_HTTP)
            return 0;
        sat__http_reset(c);
        if (c->parser.upgrade) {
            /* An upgrade we refused ends the connection's HTTP use. */
            c->state = SAT_CONN_CLOSING;
            return 0;
        }
    }
    return 0;
}
