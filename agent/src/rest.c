/* SPDX-License-Identifier: Apache-2.0 */
/* REST server lifecycle and request plumbing: libmicrohttpd setup, body
 * collection with its size cap, bearer-token checks, error replies and
 * logging. Route handling lives in rest_routes.c. */
#include "rest_internal.h"

#include "satellite/error.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define DEFAULT_MAX_BODY     (1024 * 1024)
#define DEFAULT_THREADS      64
#define DEFAULT_KEEPALIVE_MS 15000
#define DEFAULT_METRICS_CAP  100

/* State of one request while its body arrives. */
struct request {
    char *body;
    size_t len, cap;
    size_t max_body; /* admin.max_body_bytes when the request arrived */
    bool too_large;
};

void rest_log(rest_server *srv, sat_log_level level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    if (!srv->opt.log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    srv->opt.log(srv->opt.log_userdata, level, line);
}

/* Routes libmicrohttpd's own messages (such as the connection limit being
 * reached) into the admin log instead of raw stderr. */
__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    rest_server *srv = cls;
    char line[512];
    size_t n;

    vsnprintf(line, sizeof(line), fmt, ap);
    n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    rest_log(srv, SAT_LOG_WARN, "libmicrohttpd: %s", line);
}

/* Compares a presented token with the configured one in time that depends
 * only on the configured token's length. */
static bool token_matches(const rest_server *srv, const char *presented)
{
    size_t n = strlen(presented);
    unsigned char diff = (unsigned char)(n != srv->token_len);

    for (size_t i = 0; i < srv->token_len; i++)
        diff |= (unsigned char)(srv->token[i] ^ (i < n ? presented[i] : 0));
    return diff == 0;
}

/* Returns 0 when the request may proceed, else the HTTP status to send.
 * Caller holds auth_lock. */
static unsigned check_auth_locked(rest_server *srv, struct MHD_Connection *conn, bool write)
{
    const char *auth;

    if (!write && !srv->opt.auth_reads)
        return 0;
    if (srv->token_len == 0)
        return write ? MHD_HTTP_FORBIDDEN : 0;
    auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return MHD_HTTP_UNAUTHORIZED;
    return token_matches(srv, auth + 7) ? 0 : MHD_HTTP_UNAUTHORIZED;
}

static unsigned check_auth(rest_server *srv, struct MHD_Connection *conn, bool write)
{
    unsigned status;

    pthread_mutex_lock(&srv->auth_lock);
    status = check_auth_locked(srv, conn, write);
    pthread_mutex_unlock(&srv->auth_lock);
    return status;
}

static size_t current_max_body(rest_server *srv)
{
    size_t max;

    pthread_mutex_lock(&srv->auth_lock);
    max = srv->opt.max_body_bytes;
    pthread_mutex_unlock(&srv->auth_lock);
    return max;
}

static const char *status_code_name(unsigned status)
{
    switch (status) {
    case 400:
        return "bad-request";
    case 401:
        return "unauthorized";
    case 403:
        return "forbidden";
    case 404:
        return "not-found";
    case 405:
        return "method-not-allowed";
    case 409:
        return "conflict";
    case 413:
        return "payload-too-large";
    case 415:
        return "unsupported-media-type";
    case 422:
        return "invalid-argument";
    case 503:
        return "unavailable";
    default:
        return "internal-error";
    }
}

/* Length of the valid UTF-8 sequence at s (as jansson accepts it: no
 * overlong forms, surrogates or code points past U+10FFFF), or 0. */
static size_t utf8_sequence(const unsigned char *s)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t n;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    }
    return n;
}

/* Copies text into out with every byte that is not valid UTF-8 replaced by
 * '?'. Messages quote ids and names from the request and may be cut
 * mid-character, and jansson rejects strings that are not valid UTF-8. */
static void utf8_clean(const char *text, char *out, size_t size)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t o = 0;

    while (*s && o + 4 < size) {
        size_t n = utf8_sequence(s);

        if (n == 0) {
            out[o++] = '?';
            s++;
            continue;
        }
        memcpy(out + o, s, n);
        o += n;
        s += n;
    }
    out[o] = '\0';
}

void rest_reply_error(rest_reply *r, unsigned status, const char *message)
{
    char clean[1024];
    json_t *body;

    utf8_clean(message, clean, sizeof(clean));
    body = json_pack("{s:{s:s, s:s}}", "error", "code", status_code_name(status), "message", clean);
    rest_reply_json(r, status, body);
}

void rest_reply_json(rest_reply *r, unsigned status, json_t *body)
{
    free(r->body);
    r->status = status;
    r->content_type = "application/json";
    r->body = body ? json_dumps(body, JSON_INDENT(2) | JSON_ENSURE_ASCII) : NULL;
    json_decref(body);
    if (!r->body) {
        r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        r->body = strdup("{\"error\":{\"code\":\"internal-error\",\"message\":\"out of memory\"}}");
    }
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, rest_reply *r)
{
    size_t len = r->body ? strlen(r->body) : 0;
    struct MHD_Response *resp;
    enum MHD_Result ret;

    resp =
        MHD_create_response_from_buffer(len, r->body ? r->body : (char *)(uintptr_t) "",
                                        r->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    r->body = NULL;
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (r->allow[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    if (r->status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Bearer realm=\"satellite\"");
    ret = MHD_queue_response(conn, r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Appends an upload chunk, or marks the request too large past the cap. */
static void collect_body(struct request *req, const char *data, size_t size)
{
    if (req->too_large || req->len + size > req->max_body) {
        req->too_large = true;
        return;
    }
    if (req->len + size + 1 > req->cap) {
        size_t cap = (req->len + size + 1) * 2;
        char *grown;

        if (cap > req->max_body + 1)
            cap = req->max_body + 1;
        grown = realloc(req->body, cap);
        if (!grown) {
            req->too_large = true;
            return;
        }
        req->body = grown;
        req->cap = cap;
    }
    memcpy(req->body + req->len, data, size);
    req->len += size;
    req->body[req->len] = '\0';
}

/* Formats the client address as "ip:port" for logs. */
static void peer_name(struct MHD_Connection *conn, char *buf, size_t size)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = info ? info->client_addr : NULL;
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;

    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
    }
    snprintf(buf, size, "%s:%u", host, port);
}

static bool is_write(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    rest_server *srv = cls;
    struct request *req = *con_cls;
    rest_reply reply = {.status = 200, .content_type = "application/json"};
    rest_call call = {.srv = srv, .conn = conn, .url = url, .method = method};
    enum MHD_Result ret;
    unsigned status;

    (void)version;
    if (!req) {
        req = calloc(1, sizeof(*req));
        *con_cls = req;
        if (!req)
            return MHD_NO;
        req->max_body = current_max_body(srv);
        return MHD_YES;
    }
    if (*upload_data_size) {
        collect_body(req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }

    status = check_auth(srv, conn, is_write(method));
    if (status == MHD_HTTP_FORBIDDEN)
        rest_reply_error(&reply, status, "writes are disabled: no admin token is configured");
    else if (status)
        rest_reply_error(&reply, status, "missing or invalid bearer token");
    else if (req->too_large)
        rest_reply_error(&reply, 413, "request body exceeds the limit");
    if (reply.body)
        return send_reply(conn, &reply);

    call.body = req->body ? req->body : "";
    call.body_len = req->len;
    peer_name(conn, call.peer, sizeof(call.peer));
    if (rest_route(&call, &reply) == REST_ROUTED_STREAM)
        return call.stream_result;
    ret = send_reply(conn, &reply);
    free(reply.body);
    return ret;
}

static void request_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct request *req = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (req) {
        free(req->body);
        free(req);
    }
    *con_cls = NULL;
}

/* Leaves percent escapes in the URL and arguments as they came, so each id
 * is decoded exactly once, by the router. */
static size_t keep_escapes(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

static void apply_defaults(rest_options *opt)
{
    if (!opt->host || !opt->host[0])
        opt->host = "127.0.0.1";
    if (!opt->max_body_bytes)
        opt->max_body_bytes = DEFAULT_MAX_BODY;
    if (!opt->threads)
        opt->threads = DEFAULT_THREADS;
    if (!opt->sse_keepalive_ms)
        opt->sse_keepalive_ms = DEFAULT_KEEPALIVE_MS;
    if (!opt->idle_timeout_s)
        opt->idle_timeout_s = 120;
    if (!opt->metrics_object_cap)
        opt->metrics_object_cap = DEFAULT_METRICS_CAP;
}

/* Fills a socket address for host:port; false for a non-numeric host. */
static bool make_addr(const char *host, int port, struct sockaddr_storage *ss, bool *v6)
{
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    *v6 = false;
    if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        return true;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *v6 = true;
        return true;
    }
    return false;
}

static rest_server *server_new(sat_registry *reg, const rest_options *opt)
{
    rest_server *srv = calloc(1, sizeof(*srv));

    if (!srv)
        return NULL;
    srv->reg = reg;
    srv->opt = *opt;
    apply_defaults(&srv->opt);
    srv->token = strdup(opt->token ? opt->token : "");
    if (!srv->token) {
        free(srv);
        return NULL;
    }
    srv->token_len = strlen(srv->token);
    srv->opt.token = NULL; /* only srv->token keeps it */
    pthread_mutex_init(&srv->lock, NULL);
    pthread_mutex_init(&srv->auth_lock, NULL);
    pthread_cond_init(&srv->wake, NULL);
    return srv;
}

static void server_free(rest_server *srv)
{
    if (!srv)
        return;
    if (srv->listener_id)
        sat_registry_remove_listener(srv->reg, srv->listener_id);
    if (srv->token)
        memset(srv->token, 0, srv->token_len);
    free(srv->token);
    pthread_mutex_destroy(&srv->lock);
    pthread_mutex_destroy(&srv->auth_lock);
    pthread_cond_destroy(&srv->wake);
    free(srv);
}

static struct MHD_Daemon *start_daemon(rest_server *srv, const struct sockaddr_storage *ss, bool v6)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG;

    if (v6)
        flags |= MHD_USE_IPv6;
    /* One thread per connection, so an event stream that waits for the
     * next event never holds up other requests. */
    /* The logger comes first: libmicrohttpd warns when it does not. */
    return MHD_start_daemon(flags, 0, NULL, NULL, handle, srv, MHD_OPTION_EXTERNAL_LOGGER,
                            mhd_log, srv, MHD_OPTION_SOCK_ADDR, ss,
                            MHD_OPTION_NOTIFY_COMPLETED, request_done, srv,
                            MHD_OPTION_UNESCAPE_CALLBACK, keep_escapes, srv,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)srv->opt.threads,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)srv->opt.idle_timeout_s,
                            MHD_OPTION_END);
}

rest_server *rest_start(sat_registry *reg, const rest_options *opt, char *err, size_t errsize)
{
    rest_options o = *opt;
    struct sockaddr_storage ss;
    const union MHD_DaemonInfo *info;
    rest_server *srv = NULL;
    bool v6;

    apply_defaults(&o);
    if (o.port < 0 || o.port > 65535 || !make_addr(o.host, o.port, &ss, &v6)) {
        snprintf(err, errsize, "invalid admin listen address '%s' port %d", o.host, o.port);
        return NULL;
    }
    srv = server_new(reg, opt);
    if (!srv || sat_registry_add_listener(reg, rest_sse_on_event, srv, &srv->listener_id)) {
        snprintf(err, errsize, "cannot start the admin API: out of memory or listener limit");
        goto fail;
    }
    srv->daemon = start_daemon(srv, &ss, v6);
    if (!srv->daemon) {
        snprintf(err, errsize, "cannot listen on %s port %d for the admin API", o.host, o.port);
        goto fail;
    }
    info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : o.port;
    rest_log(srv, SAT_LOG_INFO, "admin API listening addr=%s port=%d auth_reads=%s writes=%s",
             o.host, srv->port, o.auth_reads ? "yes" : "no",
             srv->token_len ? "enabled" : "disabled");
    return srv;
fail:
    server_free(srv);
    return NULL;
}

int rest_set_auth(rest_server *srv, const char *token, bool auth_reads, size_t max_body_bytes)
{
    char *copy = strdup(token ? token : "");
    char *old;
    size_t old_len;

    if (!copy)
        return SAT_ENOMEM;
    pthread_mutex_lock(&srv->auth_lock);
    old = srv->token;
    old_len = srv->token_len;
    srv->token = copy;
    srv->token_len = strlen(copy);
    srv->opt.auth_reads = auth_reads;
    srv->opt.max_body_bytes = max_body_bytes ? max_body_bytes : DEFAULT_MAX_BODY;
    pthread_mutex_unlock(&srv->auth_lock);
    memset(old, 0, old_len);
    free(old);
    rest_log(srv, SAT_LOG_INFO, "admin API settings changed auth_reads=%s writes=%s",
             auth_reads ? "yes" : "no", copy[0] ? "enabled" : "disabled");
    return SAT_OK;
}

int rest_port(const rest_server *srv)
{
    return srv->port;
}

void rest_stop(rest_server *srv)
{
    if (!srv)
        return;
    pthread_mutex_lock(&srv->lock);
    srv->stopping = true;
    pthread_cond_broadcast(&srv->wake);
    pthread_mutex_unlock(&srv->lock);
    MHD_stop_daemon(srv->daemon);
    rest_log(srv, SAT_LOG_INFO, "admin API stopped port=%d", srv->port);
    server_free(srv);
}
