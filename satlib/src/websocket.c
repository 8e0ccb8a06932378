/* SPDX-License-Identifier: Apache-2.0 */
/* WebSocket (RFC 6455) on the push port. wslay parses client frames,
 * reassembles fragments, answers pings and runs the close handshake;
 * broadcast frames bypass it and go out pre-framed and shared. */
#include "engine.h"
#include "sha1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static ssize_t ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                       void *userdata)
{
    sat_conn *c = userdata;
    size_t n = len < c->ws_in_len ? len : c->ws_in_len;

    (void)flags;
    if (n == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    memcpy(buf, c->ws_in, n);
    c->ws_in += n;
    c->ws_in_len -= n;
    return (ssize_t)n;
}

/* Control frames from wslay (pong, close) join the same output queue as
 * data frames; the queue keeps whole frames in order. */
static ssize_t ws_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *userdata)
{
    sat_conn *c = userdata;

    (void)ctx;
    (void)flags;
    sat__conn_enqueue_copy(c, (const char *)data, len);
    return (ssize_t)len;
}

static void ws_on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                      void *userdata)
{
    sat_conn *c = userdata;

    if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
        uint16_t code = arg->status_code;

        c->ws_close_code = code;
        c->clean_close = code == 1000 || code == 1001 || code == 1005 || code == 0;
        return;
    }
    if (arg->opcode != WSLAY_TEXT_FRAME && arg->opcode != WSLAY_BINARY_FRAME)
        return;
    if (arg->opcode == WSLAY_TEXT_FRAME &&
        !sat__utf8_valid((const char *)arg->msg, arg->msg_length)) {
        SAT_DEBUG("websocket", "invalid UTF-8 in a text frame; closing with 1007 uuid=%s",
                  c->res ? c->res->uuid : "-");
        wslay_event_queue_close(ctx, 1007, (const uint8_t *)"invalid UTF-8", 13);
        return;
    }
    if (c->res != NULL && !c->ended)
        sat__atmo_message(c, (const char *)arg->msg, arg->msg_length);
}

static const struct wslay_event_callbacks ws_callbacks = {
    .recv_callback = ws_recv,
    .send_callback = ws_send,
    .on_msg_recv_callback = ws_on_msg,
};

static bool header_has_token(const char *value, const char *token)
{
    size_t n = strlen(token);

    for (const char *p = value; p != NULL && *p != '\0';) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (strncasecmp(p, token, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
            return true;
        p = strchr(p, ',');
    }
    return false;
}

int sat__ws_upgrade(sat_conn *c, const char *key)
{
    const char *upgrade = sat__http_header(c, "Upgrade");
    const char *connection = sat__http_header(c, "Connection");
    const char *version = sat__http_header(c, "Sec-WebSocket-Version");
    char extra[160], accept[32], joined[128];
    uint8_t digest[20];

    if (upgrade == NULL || strcasecmp(upgrade, "websocket") != 0 || connection == NULL ||
        !header_has_token(connection, "upgrade") || key == NULL || strlen(key) != 24) {
        sat__http_error(c, 400, "invalid WebSocket upgrade request");
        return SAT_EINVAL;
    }
    if (version == NULL || strcmp(version, "13") != 0) {
        sat__conn_enqueue(c, sat__http_head(c, 426, NULL, "Sec-WebSocket-Version: 13\r\n", 0, true),
                          (sat_msgid){0, 0});
        c->close_after_write = true;
        c->state = SAT_CONN_CLOSING;
        return SAT_EINVAL;
    }
    snprintf(joined, sizeof joined, "%s%s", key, ws_guid);
    sat__sha1(joined, strlen(joined), digest);
    sat__base64(digest, sizeof digest, accept);
    snprintf(extra, sizeof extra,
             "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n", accept);
    sat__conn_enqueue(c, sat__http_head(c, 101, NULL, extra, -1, false), (sat_msgid){0, 0});
    c->state = SAT_CONN_WEBSOCKET;
    return SAT_OK;
}

/* Creates the wslay context on first use. An idle subscriber never needs
 * one (its broadcast frames bypass wslay), and the context carries a 4 KiB
 * input buffer, so idle connections stay small without it. */
static int ensure_ctx(sat_conn *c)
{
    if (c->ws != NULL)
        return SAT_OK;
    if (wslay_event_context_server_init(&c->ws, &ws_callbacks, c) != 0) {
        SAT_WARN("websocket", "out of memory for a WebSocket context peer=%s", c->remote);
        return SAT_ENOMEM;
    }
    wslay_event_config_set_max_recv_msg_length(c->ws, SAT_SETTINGS(c->w->fw)->ws_max_message_bytes);
    return SAT_OK;
}

/* Ends the connection once both close frames have passed. */
static void check_finished(sat_conn *c)
{
    if (c->ws == NULL || c->closing)
        return;
    if (wslay_event_get_close_sent(c->ws) && c->ws_close_started_ms == 0)
        c->ws_close_started_ms = sat__now_ms();
    if (!wslay_event_want_read(c->ws) && !wslay_event_want_write(c->ws)) {
        c->close_after_write = true;
        if (c->out.count == 0 && !c->writing)
            sat__conn_close(c);
    }
}

/* Logs once why the server closed a connection for a client error: wslay
 * sends 1002 (protocol error) and 1009 (message too big) on its own. */
static void log_protocol_close(sat_conn *c)
{
    uint16_t code;

    if (c->ws_close_logged || !wslay_event_get_close_sent(c->ws))
        return;
    code = wslay_event_get_status_code_sent(c->ws);
    c->ws_close_logged = true;
    if (code == 1009)
        SAT_INFO("websocket",
                 "closing with 1009: message exceeds websocket.max_message_bytes (%zu) peer=%s "
                 "uuid=%s",
                 SAT_SETTINGS(c->w->fw)->ws_max_message_bytes, c->remote,
                 c->res ? c->res->uuid : "-");
    else if (code == 1002 || code == 1007)
        SAT_INFO("websocket", "closing with %u: %s peer=%s uuid=%s", (unsigned)code,
                 code == 1002 ? "protocol error" : "invalid UTF-8 in a text frame", c->remote,
                 c->res ? c->res->uuid : "-");
}

int sat__ws_feed(sat_conn *c, const char *data, size_t len)
{
    if (ensure_ctx(c) != SAT_OK) {
        sat__conn_close(c);
        return -1;
    }
    c->ws_in = data;
    c->ws_in_len = len;
    if (wslay_event_recv(c->ws) != 0) {
        sat__conn_close(c);
        return -1;
    }
    if (c->closing)
        return 0;
    if (wslay_event_send(c->ws) != 0) {
        sat__conn_close(c);
        return -1;
    }
    if (wslay_event_get_close_received(c->ws) && c->ws_close_code == 0)
        c->ws_close_code = wslay_event_get_status_code_received(c->ws);
    log_protocol_close(c);
    check_finished(c);
    return 0;
}

void sat__ws_close(sat_conn *c, uint16_t code, const char *reason)
{
    if (c->closing)
        return;
    if (ensure_ctx(c) != SAT_OK) {
        sat__conn_close(c);
        return;
    }
    wslay_event_queue_close(c->ws, code, (const uint8_t *)reason, strlen(reason));
    (void)wslay_event_send(c->ws);
    c->ws_close_started_ms = sat__now_ms();
    check_finished(c);
}

void sat__ws_free(sat_conn *c)
{
    if (c->ws != NULL)
        wslay_event_context_free(c->ws);
    c->ws = NULL;
}
