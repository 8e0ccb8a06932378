/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the REST admin request path (routing, percent-decoding, query
 * arguments, Last-Event-ID, JSON bodies, bearer tokens) through real REST
 * servers on loopback, and checks every response's status and error body. */
#include "rest_internal.h"

#include <arpa/inet.h>
#include <assert.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define TOKEN        "fuzz-token"
#define MAX_BODY     2048
#define MAX_PATH     1500
#define MAX_RESPONSE 262144

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- registry shaped like the engine's --------------------------------- */

static int64_t level;
static uint64_t hits;
static int mode;

static const char *const mode_names[] = {"off", "on", "auto", NULL};

static int settings_read(void *ctx, sat_record *out)
{
    (void)ctx;
    sat_record_set_gauge(out, "level", level);
    sat_record_set_u64(out, "hits", hits);
    sat_record_set_enum(out, "mode", mode);
    sat_record_set_str(out, "password", "hidden");
    return 0;
}

static int level_validate(void *ctx, const sat_value *v, char *errmsg, size_t errsize)
{
    (void)ctx;
    if (v->v.i < 0 || v->v.i > 100) {
        snprintf(errmsg, errsize, "level must be from 0 to 100");
        return SAT_EINVAL;
    }
    return 0;
}

static int level_set(void *ctx, const sat_value *v, char *errmsg, size_t errsize)
{
    int rc = level_validate(ctx, v, errmsg, errsize);

    if (rc == 0)
        level = v->v.i;
    return rc;
}

static int mode_set(void *ctx, const sat_value *v, char *errmsg, size_t errsize)
{
    (void)ctx;
    (void)errmsg;
    (void)errsize;
    mode = v->v.e;
    return 0;
}

static int accept_any(void *ctx, const sat_value *v, char *errmsg, size_t errsize)
{
    (void)ctx;
    (void)v;
    (void)errmsg;
    (void)errsize;
    return 0;
}

static int reset_invoke(void *ctx, const sat_record *params, sat_record *result, char *errmsg,
                        size_t errsize)
{
    const sat_value *to = sat_record_get(params, "to");
    const sat_value *force = sat_record_get(params, "force");

    (void)ctx;
    if (to && to->v.i < 0 && !(force && force->v.b)) {
        snprintf(errmsg, errsize, "negative reset needs force");
        return SAT_EINVAL;
    }
    hits = to ? (uint64_t)to->v.i : 0;
    sat_record_set_u64(result, "hits", hits);
    sat_record_set_enum(result, "mode", mode);
    return 0;
}

static const sat_attr_def settings_attrs[] = {
    {.name = "level", .type = SAT_ATTR_GAUGE, .validate = level_validate, .set = level_set},
    {.name = "hits", .type = SAT_ATTR_COUNTER},
    {.name = "mode", .type = SAT_ATTR_ENUM, .enum_names = mode_names, .set = mode_set},
    {.name = "password", .type = SAT_ATTR_STRING, .secret = true, .set = accept_any},
};
static const sat_param_def reset_params[] = {
    {.name = "to", .type = SAT_ATTR_INT},
    {.name = "force", .type = SAT_ATTR_BOOL},
    {.name = "reason", .type = SAT_ATTR_STRING},
    {.name = "mode", .type = SAT_ATTR_ENUM, .enum_names = mode_names},
    {.name = "tags", .type = SAT_ATTR_STRLIST},
    {.name = "after", .type = SAT_ATTR_DURATION},
};
static const sat_attr_def reset_result[] = {
    {.name = "hits", .type = SAT_ATTR_COUNTER},
    {.name = "mode", .type = SAT_ATTR_ENUM, .enum_names = mode_names},
};
static const sat_op_def settings_ops[] = {{.name = "reset",
                                           .params = reset_params,
                                           .param_count = 6,
                                           .result = reset_result,
                                           .result_count = 2,
                                           .invoke = reset_invoke}};
static const sat_type_def settings_type = {
    .name = "settings",
    .plural = "settingses",
    .singleton = true,
    .attrs = settings_attrs,
    .attr_count = 4,
    .ops = settings_ops,
    .op_count = 1,
    .read = settings_read,
};

static int channel_read(void *ctx, sat_record *out)
{
    sat_record_set_gauge(out, "subscribers", (int64_t)(intptr_t)ctx);
    sat_record_append_pair(out, "headers", "Accept", "*/*");
    sat_record_append_str(out, "tags", "t\xc3\xa9");
    sat_record_set_time(out, "created", 1700000000000);
    return 0;
}

static int kick_invoke(void *ctx, const sat_record *params, sat_record *result, char *errmsg,
                       size_t errsize)
{
    const char *uuid = sat_record_get(params, "uuid")->v.s;

    (void)ctx;
    (void)result;
    if (strcmp(uuid, "busy") == 0) {
        snprintf(errmsg, errsize, "resource is busy");
        return SAT_ECONFLICT;
    }
    if (strcmp(uuid, "slow") == 0)
        return SAT_ETIMEDOUT;
    if (strcmp(uuid, "gone") == 0)
        return SAT_ENOTFOUND;
    return 0;
}

static const sat_attr_def channel_attrs[] = {
    {.name = "subscribers", .type = SAT_ATTR_GAUGE},
    {.name = "headers", .type = SAT_ATTR_STRMAP, .set = accept_any},
    {.name = "tags", .type = SAT_ATTR_STRLIST, .set = accept_any},
    {.name = "created", .type = SAT_ATTR_TIMESTAMP},
};
static const sat_param_def kick_params[] = {
    {.name = "uuid", .type = SAT_ATTR_STRING, .required = true},
    {.name = "headers", .type = SAT_ATTR_STRMAP},
    {.name = "hits", .type = SAT_ATTR_COUNTER},
};
static const sat_op_def channel_ops[] = {
    {.name = "kick", .params = kick_params, .param_count = 3, .invoke = kick_invoke}};
static const sat_type_def channel_type = {
    .name = "channel",
    .plural = "channels",
    .attrs = channel_attrs,
    .attr_count = 4,
    .ops = channel_ops,
    .op_count = 1,
    .read = channel_read,
    .per_object_metrics = true,
};

/* Ids with '/', '%', '+', quotes, spaces and UTF-8, as engine resources have. */
static const char *const channel_ids[] = {"/chat",     "/chat/room 1", "50%",
                                          "%41",       "a\"b",         "\xc3\xa9t\xc3\xa9",
                                          "plus+sign", "\xe6\x97\xa5"};
#define NCHANNELS (sizeof(channel_ids) / sizeof(channel_ids[0]))

/* ---- servers ---------------------------------------------------------- */

/* Writes with a token; writes and reads with a token; no token at all. */
enum { SRV_TOKEN, SRV_AUTH_READS, SRV_NO_TOKEN, SRV_COUNT };

static sat_registry *registry;
static rest_server *servers[SRV_COUNT];

static void quiet_log(void *userdata, sat_log_level lvl, const char *message)
{
    (void)userdata;
    (void)lvl;
    (void)message;
}

static void build_registry(void)
{
    sat_registry_object *obj;

    registry = sat_registry_new(64);
    if (!registry || sat_registry_register_type(registry, &settings_type) ||
        sat_registry_register_type(registry, &channel_type) ||
        sat_registry_add(registry, "settings", NULL, NULL, &obj)) {
        fprintf(stderr, "fuzz_rest: registry set-up failed\n");
        abort();
    }
    for (size_t i = 0; i < NCHANNELS; i++) {
        if (sat_registry_add(registry, "channel", channel_ids[i], (void *)(intptr_t)(i + 1),
                             &obj)) {
            fprintf(stderr, "fuzz_rest: adding channel %zu failed\n", i);
            abort();
        }
    }
}

static void start_servers(void)
{
    char err[256];

    if (registry)
        return;
    build_registry();
    for (int i = 0; i < SRV_COUNT; i++) {
        rest_options opt = {.host = "127.0.0.1",
                            .token = i == SRV_NO_TOKEN ? NULL : TOKEN,
                            .auth_reads = i == SRV_AUTH_READS,
                            .max_body_bytes = MAX_BODY,
                            .threads = 256,
                            .sse_keepalive_ms = 20,
                            .idle_timeout_s = 5,
                            .log = quiet_log};
        rest_server *srv = rest_start(registry, &opt, err, sizeof(err));

        if (!srv) {
            fprintf(stderr, "fuzz_rest: rest_start failed: %s\n", err);
            abort();
        }
        servers[i] = srv;
    }
}

/* ---- request building ------------------------------------------------- */

struct buf {
    char data[16384];
    size_t len;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (n > sizeof(b->data) - b->len)
        n = sizeof(b->data) - b->len;
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

static void puts_buf(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* Takes bytes up to the next '\n' (consumed) from the input. */
static size_t take_line(const uint8_t **data, size_t *size, const uint8_t **line)
{
    const uint8_t *nl = memchr(*data, '\n', *size);
    size_t n = nl ? (size_t)(nl - *data) : *size;

    *line = *data;
    *data += n + (nl ? 1 : 0);
    *size -= n + (nl ? 1 : 0);
    return n;
}

/* Appends a request target. Bytes an HTTP request line cannot carry are
 * percent-encoded so the request reaches the router; '%' stays raw so bad
 * escapes reach it too. */
static void put_target(struct buf *b, const uint8_t *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";

    for (size_t i = 0; i < n && i < MAX_PATH; i++) {
        char esc[3] = {'%', hex[s[i] >> 4], hex[s[i] & 15]};

        if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '#')
            put(b, esc, 3);
        else
            put(b, (const char *)&s[i], 1);
    }
}

/* Appends a header value with the bytes a header line cannot carry dropped. */
static void put_header_value(struct buf *b, const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n && i < 200; i++) {
        if (s[i] >= 0x20 && s[i] < 0x7f)
            put(b, (const char *)&s[i], 1);
    }
}

static const char *const methods[] = {"GET", "HEAD",   "POST",    "PATCH",
                                      "PUT", "DELETE", "OPTIONS", "GET"};
static const char *const prefixes[] = {"/api/v1",
                                       "/api/v1/",
                                       "/api/v1/settings",
                                       "/api/v1/settings/reset",
                                       "/api/v1/channels",
                                       "/api/v1/channels/%2Fchat",
                                       "/api/v1/channels/%2Fchat%2Froom%201/kick",
                                       "/api/v1/channels/50%25",
                                       "/api/v1/channels/%C3%A9t%C3%A9",
                                       "/api/v1/events",
                                       "/api/v1/openapi.json",
                                       "/metrics",
                                       "/api/v1/channels?limit=",
                                       "/api/v1/channels?cursor=",
                                       "/api/v1/channels?filter=",
                                       "/api/v1/events?since=",
                                       ""};
#define NPREFIXES (sizeof(prefixes) / sizeof(prefixes[0]))

static const char *const auth_headers[] = {
    "",
    "Authorization: Bearer " TOKEN "\r\n",
    "Authorization: Bearer fuzz-tokeN\r\n",
    "Authorization: bearer " TOKEN "\r\n",
    "Authorization: Bearer " TOKEN "x\r\n",
    "Authorization: Bearer \r\n",
    "Authorization: Basic Zm9vOmJhcg==\r\n",
    "Authorization: Bearer fuzz-toke\r\n",
};

static const char *const content_types[] = {
    "Content-Type: application/json\r\n",
    "Content-Type: application/json; charset=utf-8\r\n",
    "",
    "Content-Type: text/plain\r\n",
};

/* Builds the request head from the input and points *body at the rest.
 * Input layout: byte 0 is the method (low 3 bits) and server (next 2 bits),
 * byte 1 the path prefix, byte 2 the Authorization (low 3 bits),
 * Content-Type (next 2 bits) and Last-Event-ID presence (bit 5). A path
 * line, a Last-Event-ID line and the body follow. Returns the method, or
 * NULL when the input is too short. */
static const char *build_request(const uint8_t *data, size_t size, struct buf *req, int *server,
                                 const uint8_t **body, size_t *body_len)
{
    const char *method, *prefix;
    const uint8_t *path, *last_id;
    size_t path_len, last_len;
    uint8_t flags;
    char line[64];

    if (size < 3)
        return NULL;
    method = methods[data[0] & 7];
    *server = ((data[0] >> 3) & 3) % SRV_COUNT;
    prefix = prefixes[data[1] % NPREFIXES];
    flags = data[2];
    data += 3;
    size -= 3;
    path_len = take_line(&data, &size, &path);
    last_len = take_line(&data, &size, &last_id);
    puts_buf(req, method);
    puts_buf(req, prefix[0] ? " " : " /");
    puts_buf(req, prefix);
    put_target(req, path, path_len);
    puts_buf(req, " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    puts_buf(req, auth_headers[flags & 7]);
    if (size > 0)
        puts_buf(req, content_types[(flags >> 3) & 3]);
    if (flags & 0x20) {
        puts_buf(req, "Last-Event-ID: ");
        put_header_value(req, last_id, last_len);
        puts_buf(req, "\r\n");
    }
    snprintf(line, sizeof(line), "Content-Length: %zu\r\n\r\n", size);
    puts_buf(req, line);
    *body = data;
    *body_len = size;
    return method;
}

/* ---- exchange and checks ---------------------------------------------- */

static bool send_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* True once the response holds the head of an event stream, which never
 * ends by itself. */
static bool is_stream_head(const char *response)
{
    const char *end = strstr(response, "\r\n\r\n");

    return end && memmem(response, (size_t)(end - response), "text/event-stream", 17) != NULL;
}

/* Sends the request and reads the response until the server closes (every
 * request asks for Connection: close) or an event stream's head is in.
 * Returns the response length, or -1 when the exchange itself failed. */
static long exchange(int port, const struct buf *head, const uint8_t *body, size_t body_len,
                     char *response, size_t cap)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {5, 0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    size_t len = 0;
    ssize_t n = 0;

    if (fd < 0)
        return -1;
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    /* A body past the cap may be rejected before it is all sent. */
    if (send_all(fd, head->data, head->len))
        send_all(fd, body, body_len);
    while (len + 1 < cap && (n = recv(fd, response + len, cap - 1 - len, 0)) > 0) {
        len += (size_t)n;
        response[len] = '\0';
        if (is_stream_head(response))
            break;
    }
    response[len] = '\0';
    close(fd);
    return n < 0 && len == 0 ? -1 : (long)len;
}

static bool status_expected(unsigned status)
{
    static const unsigned ok[] = {200, 400, 401, 403, 404, 405, 409, 413, 415, 422, 503};

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (ok[i] == status)
            return true;
    }
    return false;
}

/* Checks an error body: {"error": {"code": "...", "message": "..."}}. */
static bool error_body_ok(const char *body)
{
    json_t *json = json_loads(body, 0, NULL);
    json_t *err = json_object_get(json, "error");
    bool ok = json_is_object(err) && json_is_string(json_object_get(err, "code")) &&
              json_is_string(json_object_get(err, "message"));

    json_decref(json);
    return ok;
}

static bool json_body_ok(const char *body)
{
    json_t *json = json_loads(body, 0, NULL);

    json_decref(json);
    return json != NULL;
}

static void fail(const char *reason, const char *request, const char *response)
{
    fprintf(stderr, "fuzz_rest: %s\n--- request head ---\n%s\n--- response ---\n%.4000s\n", reason,
            request, response);
    abort();
}

static void check_response(const char *method, const char *request, const char *response)
{
    const char *head_end = strstr(response, "\r\n\r\n");
    const char *body;
    unsigned status;
    char version[16];

    if (sscanf(response, "%15s %3u", version, &status) != 2 || strncmp(version, "HTTP/1.", 7) != 0)
        fail("response is not an HTTP response", request, response);
    if (!status_expected(status))
        fail("unexpected status", request, response);
    if (!head_end)
        fail("response head has no end", request, response);
    if (strcmp(method, "HEAD") == 0 || is_stream_head(response))
        return;
    body = head_end + 4;
    if (status != 200 && !error_body_ok(body))
        fail("error response without a JSON error object", request, response);
    if (status == 200 && memmem(response, (size_t)(head_end - response), "application/json", 16) &&
        !json_body_ok(body))
        fail("200 response with a body that is not JSON", request, response);
}

/* Waits (up to 3 s) until the server has no connection left, so no
 * connection thread, such as an event stream that has not yet noticed the
 * closed socket, runs into the next input or its leak check. */
static void wait_idle(rest_server *srv)
{
    struct timespec pause = {0, 1000000};

    for (int i = 0; i < 3000; i++) {
        const union MHD_DaemonInfo *info =
            MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

        if (!info || info->num_connections == 0)
            return;
        nanosleep(&pause, NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char response[MAX_RESPONSE];
    static struct buf req;
    const uint8_t *body;
    size_t body_len;
    const char *method;
    int server;
    long len;

    start_servers();
    req.len = 0;
    method = build_request(data, size, &req, &server, &body, &body_len);
    if (!method)
        return 0;
    req.data[req.len < sizeof(req.data) ? req.len : sizeof(req.data) - 1] = '\0';
    len = exchange(rest_port(servers[server]), &req, body, body_len, response, sizeof(response));
    if (len < 0)
        fail("no response from the server", req.data, "");
    wait_idle(servers[server]);
    /* A body over the cap may end in a reset after a 413 was sent; an
     * empty response is only acceptable then. */
    if (len == 0 && body_len > MAX_BODY)
        return 0;
    check_response(method, req.data, response);
    return 0;
}
