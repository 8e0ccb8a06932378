/* SPDX-License-Identifier: Apache-2.0 */
/* Encoders and parsers of the Atmosphere wire protocol: request parameters,
 * UTF-8 checks, message-length framing, SSE, WebSocket and JSONP writes,
 * handshake bodies and UUIDs. The transports decide when to call them. */
#include "codec.h"
#include "log_internal.h"
#include "satellite/error.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#define HEARTBEAT_SERVER_MAX_S 86400
#define TRACK_PREFIX_MAX       24 /* 20 digits of a size_t, '|' and NUL */

/* Names of the protocol parameters, as the clients spell them. Matching is
 * case-insensitive. */
typedef enum param_id {
    PARAM_TRACKING_ID,
    PARAM_FRAMEWORK,
    PARAM_TRANSPORT,
    PARAM_TRACK_MESSAGE_SIZE,
    PARAM_PROTOCOL,
    PARAM_HEARTBEAT_SERVER,
    PARAM_CONTENT_TYPE,
    PARAM_JSONP_CALLBACK,
    PARAM_POST_BODY,
    PARAM_BINARY,
} param_id;

static const struct {
    const char *name;
    param_id id;
} param_names[] = {
    {"X-Atmosphere-tracking-id", PARAM_TRACKING_ID},
    {"X-Atmosphere-Framework", PARAM_FRAMEWORK},
    {"X-Atmosphere-Transport", PARAM_TRANSPORT},
    {"X-Atmosphere-TrackMessageSize", PARAM_TRACK_MESSAGE_SIZE},
    {"X-atmo-protocol", PARAM_PROTOCOL},
    {"X-Heartbeat-Server", PARAM_HEARTBEAT_SERVER},
    {"Content-Type", PARAM_CONTENT_TYPE},
    {"jsonpTransport", PARAM_JSONP_CALLBACK},
    {"X-Atmosphere-Post-Body", PARAM_POST_BODY},
    {"X-Atmosphere-Binary", PARAM_BINARY},
};

/* ---- small helpers ---------------------------------------------------- */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool is_alnum_ascii(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void set_error(char *err, size_t err_size, const char *param, const char *reason)
{
    if (err != NULL && err_size > 0)
        snprintf(err, err_size, "invalid %s: %s", param, reason);
}

/* Decodes one UTF-8 sequence at s. Returns its length in bytes and the code
 * point, or 0 when the bytes at s do not start a well-formed sequence
 * (overlong forms, UTF-16 surrogates, values above U+10FFFF, stray or
 * missing continuation bytes). */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char b = s[0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n;
    uint32_t v;

    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    if (b >= 0xC2 && b <= 0xDF) {
        n = 2;
        v = b & 0x1Fu;
    } else if (b >= 0xE0 && b <= 0xEF) {
        n = 3;
        v = b & 0x0Fu;
        lo = b == 0xE0 ? 0xA0 : 0x80; /* no overlongs */
        hi = b == 0xED ? 0x9F : 0xBF; /* no surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        n = 4;
        v = b & 0x07u;
        lo = b == 0xF0 ? 0x90 : 0x80; /* no overlongs */
        hi = b == 0xF4 ? 0x8F : 0xBF; /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    if (len < n || s[1] < lo || s[1] > hi)
        return 0;
    v = (v << 6) | (s[1] & 0x3Fu);
    for (size_t i = 2; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    *cp = v;
    return n;
}

/* ---- query strings and parameters ------------------------------------- */

long sat__pct_decode(char *s, size_t len, bool plus_is_space)
{
    size_t r = 0, w = 0;

    if (len > LONG_MAX)
        return -1;
    while (r < len) {
        char c = s[r];

        if (c == '%') {
            int hi = r + 2 < len ? hex_value(s[r + 1]) : -1;
            int lo = hi >= 0 ? hex_value(s[r + 2]) : -1;

            if (lo < 0)
                return -1;
            s[w++] = (char)(hi << 4 | lo);
            r += 3;
            continue;
        }
        s[w++] = plus_is_space && c == '+' ? ' ' : c;
        r++;
    }
    s[w] = '\0';
    return (long)w;
}

int sat__query_each(const char *query, size_t len, sat_query_cb cb, void *userdata)
{
    const char *p = query;
    const char *end;

    if (query == NULL)
        return 0;
    end = query + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pair_end = amp != NULL ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(pair_end - p));
        const char *value = eq != NULL ? eq + 1 : pair_end;
        size_t name_len = (size_t)((eq != NULL ? eq : pair_end) - p);
        int rc;

        /* "a&&b" and a trailing '&' leave empty pairs, which carry nothing. */
        if (pair_end > p) {
            rc = cb(userdata, p, name_len, value, (size_t)(pair_end - value));
            if (rc != 0)
                return rc;
        }
        if (amp == NULL)
            break;
        p = amp + 1;
    }
    return 0;
}

void sat__atmo_params_init(sat_atmo_params *p)
{
    memset(p, 0, sizeof(*p));
    p->transport = SAT_TRANSPORT_UNDEFINED;
    p->heartbeat_server_s = -1;
}

void sat__atmo_params_clear(sat_atmo_params *p)
{
    if (p == NULL)
        return;
    free(p->post_body);
    sat__atmo_params_init(p);
}

sat_transport sat__transport_parse(const char *name, size_t len)
{
    if (name == NULL)
        return SAT_TRANSPORT_UNDEFINED;
    for (int t = SAT_TRANSPORT_UNDEFINED + 1; t < SAT_TRANSPORT_COUNT; t++) {
        const char *want = sat_transport_name((sat_transport)t);
        size_t i = 0;

        if (strlen(want) != len)
            continue;
        for (; i < len; i++) {
            char c = (char)tolower((unsigned char)name[i]);

            if (c == '_')
                c = '-';
            if (c != want[i])
                break;
        }
        if (i == len)
            return (sat_transport)t;
    }
    return SAT_TRANSPORT_UNDEFINED;
}

/* Copies a decoded text value into a fixed field. Control characters are
 * rejected because Content-Type and the framework string may be echoed into
 * response headers or logs. */
static int set_text(char *field, size_t size, const char *param, const char *v, size_t len,
                    char *err, size_t err_size)
{
    if (len >= size) {
        char reason[64];

        snprintf(reason, sizeof(reason), "longer than %zu bytes", size - 1);
        set_error(err, err_size, param, reason);
        return SAT_EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];

        if ((c < 0x20 && c != '\t') || c == 0x7F) {
            set_error(err, err_size, param, "contains a control character");
            return SAT_EINVAL;
        }
    }
    memcpy(field, v, len);
    field[len] = '\0';
    return SAT_OK;
}

static int set_heartbeat(sat_atmo_params *p, const char *param, const char *v, size_t len,
                         char *err, size_t err_size)
{
    long s = 0;

    if (len == 0) {
        set_error(err, err_size, param, "empty, expected seconds from 0 to 86400");
        return SAT_EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9' || s > HEARTBEAT_SERVER_MAX_S) {
            set_error(err, err_size, param, "expected an integer from 0 to 86400 seconds");
            return SAT_EINVAL;
        }
        s = s * 10 + (v[i] - '0');
    }
    if (s > HEARTBEAT_SERVER_MAX_S) {
        set_error(err, err_size, param, "expected an integer from 0 to 86400 seconds");
        return SAT_EINVAL;
    }
    p->heartbeat_server_s = (int)s;
    return SAT_OK;
}

static int set_jsonp_callback(sat_atmo_params *p, const char *param, const char *v, size_t len,
                              char *err, size_t err_size)
{
    char name[SAT_JSONP_CALLBACK_MAX + 1];
    size_t n = 0;

    /* The name is written into JavaScript verbatim, so anything but ASCII
     * letters and digits is dropped. */
    for (size_t i = 0; i < len && n < SAT_JSONP_CALLBACK_MAX; i++) {
        if (is_alnum_ascii((unsigned char)v[i]))
            name[n++] = v[i];
    }
    if (n == 0) {
        set_error(err, err_size, param, "no letters or digits in the callback name");
        return SAT_EINVAL;
    }
    memcpy(p->jsonp_callback, name, n);
    p->jsonp_callback[n] = '\0';
    return SAT_OK;
}

static int set_transport(sat_atmo_params *p, const char *param, const char *v, size_t len,
                         char *err, size_t err_size)
{
    sat_transport t = sat__transport_parse(v, len);

    if (t == SAT_TRANSPORT_UNDEFINED) {
        set_error(err, err_size, param,
                  "expected websocket, long-polling, streaming, sse, jsonp, polling or close");
        return SAT_EINVAL;
    }
    p->transport = t;
    return SAT_OK;
}

static int set_tracking_id(sat_atmo_params *p, const char *param, const char *v, size_t len,
                           char *err, size_t err_size)
{
    if (len == 0 || len > SAT_TRACKING_ID_MAX) {
        set_error(err, err_size, param, "expected 1 to 64 bytes");
        return SAT_EINVAL;
    }
    if (!sat__tracking_id_valid(v, len)) {
        set_error(err, err_size, param, "expected only letters, digits, '.', '_' and '-'");
        return SAT_EINVAL;
    }
    memcpy(p->tracking_id, v, len);
    p->tracking_id[len] = '\0';
    return SAT_OK;
}

static bool parse_bool(const char *v, size_t len)
{
    return len == 4 && strncasecmp(v, "true", 4) == 0;
}

/* Applies a decoded, NUL-terminated value. `*owned` is the heap copy of
 * the value. The post body takes it over and sets it to NULL. */
static int apply_param(sat_atmo_params *p, param_id id, const char *param, char **owned, size_t len,
                       char *err, size_t err_size)
{
    const char *v = *owned;

    switch (id) {
    case PARAM_TRACKING_ID:
        return set_tracking_id(p, param, v, len, err, err_size);
    case PARAM_FRAMEWORK:
        return set_text(p->framework, sizeof(p->framework), param, v, len, err, err_size);
    case PARAM_TRANSPORT:
        return set_transport(p, param, v, len, err, err_size);
    case PARAM_TRACK_MESSAGE_SIZE:
        p->track_message_size = parse_bool(v, len);
        return SAT_OK;
    case PARAM_PROTOCOL:
        p->protocol = parse_bool(v, len);
        return SAT_OK;
    case PARAM_BINARY:
        p->binary = parse_bool(v, len);
        return SAT_OK;
    case PARAM_HEARTBEAT_SERVER:
        return set_heartbeat(p, param, v, len, err, err_size);
    case PARAM_CONTENT_TYPE:
        return set_text(p->content_type, sizeof(p->content_type), param, v, len, err, err_size);
    case PARAM_JSONP_CALLBACK:
        return set_jsonp_callback(p, param, v, len, err, err_size);
    case PARAM_POST_BODY:
        free(p->post_body);
        p->post_body = *owned;
        p->post_body_len = len;
        *owned = NULL;
        return SAT_OK;
    }
    return SAT_OK;
}

int sat__atmo_param(sat_atmo_params *p, const char *name, size_t name_len, const char *value,
                    size_t value_len, bool from_query, char *err, size_t err_size)
{
    const char *param = NULL;
    param_id id = PARAM_TRACKING_ID;
    char *copy = NULL;
    long len = (long)value_len;
    int rc;

    for (size_t i = 0; i < sizeof(param_names) / sizeof(param_names[0]); i++) {
        if (strlen(param_names[i].name) == name_len &&
            strncasecmp(name, param_names[i].name, name_len) == 0) {
            param = param_names[i].name;
            id = param_names[i].id;
            break;
        }
    }
    if (param == NULL)
        return SAT_OK;

    if (value_len == SIZE_MAX)
        return SAT_ENOMEM;
    copy = malloc(value_len + 1);
    if (copy == NULL)
        return SAT_ENOMEM;
    if (value_len > 0)
        memcpy(copy, value, value_len);
    copy[value_len] = '\0';

    if (from_query) {
        len = sat__pct_decode(copy, value_len, true);
        if (len < 0) {
            set_error(err, err_size, param, "malformed percent escape");
            rc = SAT_EINVAL;
            goto out;
        }
    }
    rc = apply_param(p, id, param, &copy, (size_t)len, err, err_size);

out:
    free(copy);
    return rc;
}

/* ---- versions and UTF-8 ------------------------------------------------ */

int sat__atmo_version(const char *framework)
{
    const char *p = framework;
    long version = 0;

    if (framework == NULL)
        return 0;
    /* "2.3.8-javascript": only the part before the first '-' counts, and
     * of it the first three dot-separated numbers, joined as digits. */
    for (int part = 0; part < 3; part++) {
        const char *start = p;

        for (; *p >= '0' && *p <= '9'; p++) {
            if (version > (INT_MAX - 9) / 10)
                return 0;
            version = version * 10 + (*p - '0');
        }
        if (p == start)
            return 0;
        if (part < 2 && *p++ != '.')
            return 0;
    }
    if (*p != '\0' && *p != '.' && *p != '-')
        return 0;
    return (int)version;
}

size_t sat__utf16_length(const char *s, size_t len, bool *valid)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t units = 0;
    bool ok = true;

    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = utf8_decode(u + i, len - i, &cp);

        if (n == 0) {
            /* Counted as one U+FFFD, which is what a decoder would show. */
            ok = false;
            units++;
            i++;
            continue;
        }
        units += cp >= 0x10000 ? 2 : 1;
        i += n;
    }
    if (valid != NULL)
        *valid = ok;
    return units;
}

bool sat__utf8_valid(const char *s, size_t len)
{
    bool valid;

    (void)sat__utf16_length(s, len, &valid);
    return valid;
}

/* ---- framing ----------------------------------------------------------- */

/* Writes the "<utf16 length>|" prefix into out and returns its length, or
 * 0 for payloads that are sent without it: empty, binary or invalid UTF-8
 * (a client could not count the units of those). */
static size_t track_prefix(char out[TRACK_PREFIX_MAX], const char *payload, size_t len, bool binary)
{
    bool valid;
    size_t units;

    if (binary || len == 0)
        return 0;
    units = sat__utf16_length(payload, len, &valid);
    if (!valid)
        return 0;
    return (size_t)snprintf(out, TRACK_PREFIX_MAX, "%zu|", units);
}

/* Copies an SSE payload segment, turning each CR, LF or CRLF into a new
 * "data:" line. With dst NULL only counts. Returns the bytes written. */
static size_t sse_lines(char *dst, const char *s, size_t len)
{
    static const char next_line[] = "\r\ndata:";
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        if (s[i] != '\r' && s[i] != '\n') {
            if (dst != NULL)
                dst[n] = s[i];
            n++;
            continue;
        }
        if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')
            i++;
        if (dst != NULL)
            memcpy(dst + n, next_line, sizeof(next_line) - 1);
        n += sizeof(next_line) - 1;
    }
    return n;
}

static sat_buf *frame_sse(const char *prefix, size_t prefix_len, const char *payload, size_t len)
{
    size_t body;
    sat_buf *b;
    char *w;

    /* Each byte grows to at most 7 ("\r\ndata:"), so bound len first. */
    if (len > (SIZE_MAX - 64) / 8)
        return NULL;
    body = sse_lines(NULL, payload, len);
    b = sat__buf_alloc(5 + prefix_len + body + 4);
    if (b == NULL)
        return NULL;

    w = b->data;
    memcpy(w, "data:", 5);
    w += 5;
    memcpy(w, prefix, prefix_len);
    w += prefix_len;
    w += sse_lines(w, payload, len);
    memcpy(w, "\r\n\r\n", 4);
    return b;
}

static sat_buf *frame_ws(const char *prefix, size_t prefix_len, const char *payload, size_t len,
                         bool binary)
{
    uint8_t header[10];
    size_t header_len;
    uint8_t opcode = 1;
    sat_buf *b;

    /* RFC 6455 section 8.1 requires valid UTF-8 in a text frame, and a
     * browser fails the connection otherwise. Such payloads go out as binary
     * frames. */
    if (binary || !sat__utf8_valid(payload, len))
        opcode = 2;
    if (len > SIZE_MAX - 10 - prefix_len)
        return NULL;
    header_len = sat__ws_header(header, opcode, (uint64_t)(prefix_len + len));
    b = sat__buf_alloc(header_len + prefix_len + len);
    if (b == NULL)
        return NULL;

    memcpy(b->data, header, header_len);
    memcpy(b->data + header_len, prefix, prefix_len);
    if (len > 0)
        memcpy(b->data + header_len + prefix_len, payload, len);
    return b;
}

static sat_buf *frame_plain(const char *prefix, size_t prefix_len, const char *payload, size_t len)
{
    sat_buf *b;

    if (len > SIZE_MAX - prefix_len)
        return NULL;
    b = sat__buf_alloc(prefix_len + len);
    if (b == NULL)
        return NULL;
    memcpy(b->data, prefix, prefix_len);
    if (len > 0)
        memcpy(b->data + prefix_len, payload, len);
    return b;
}

sat_buf *sat__frame(sat_wire wire, const char *payload, size_t len, bool binary)
{
    char prefix[TRACK_PREFIX_MAX];
    size_t prefix_len = 0;

    if (wire == SAT_WIRE_TRACK || wire == SAT_WIRE_SSE_TRACK || wire == SAT_WIRE_WS_TRACK)
        prefix_len = track_prefix(prefix, payload, len, binary);

    switch (wire) {
    case SAT_WIRE_RAW:
    case SAT_WIRE_TRACK:
        return frame_plain(prefix, prefix_len, payload, len);
    case SAT_WIRE_SSE_RAW:
    case SAT_WIRE_SSE_TRACK:
        return frame_sse(prefix, prefix_len, payload, len);
    case SAT_WIRE_WS_RAW:
    case SAT_WIRE_WS_TRACK:
        return frame_ws(prefix, prefix_len, payload, len, binary);
    case SAT_WIRE_COUNT:
        break;
    }
    assert(!"sat__frame: unknown wire format");
    return NULL;
}

/* Writes one code point as \uXXXX (two escapes above U+FFFF). */
static size_t js_unicode_escape(char *dst, uint32_t cp)
{
    static const char hex[] = "0123456789ABCDEF";
    uint32_t units[2];
    size_t count = 1;

    units[0] = cp;
    if (cp >= 0x10000) {
        cp -= 0x10000;
        units[0] = 0xD800 | (cp >> 10);
        units[1] = 0xDC00 | (cp & 0x3FF);
        count = 2;
    }
    if (dst != NULL) {
        for (size_t i = 0; i < count; i++) {
            char *o = dst + 6 * i;

            o[0] = '\\';
            o[1] = 'u';
            for (int d = 0; d < 4; d++)
                o[2 + d] = hex[(units[i] >> (12 - 4 * d)) & 0xF];
        }
    }
    return 6 * count;
}

/* Escapes one ASCII byte as a Java string literal would. Returns 0 when
 * the byte needs no escape. */
static char js_letter_escape(unsigned char c)
{
    switch (c) {
    case '"':
    case '\'':
    case '\\':
    case '/':
        return (char)c;
    case '\b':
        return 'b';
    case '\n':
        return 'n';
    case '\t':
        return 't';
    case '\f':
        return 'f';
    case '\r':
        return 'r';
    default:
        return 0;
    }
}

/* Escapes UTF-8 text for a JavaScript string literal. With dst NULL only
 * counts. Each invalid byte becomes \uFFFD. */
static size_t js_escape(char *dst, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = 0;

    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t seq = utf8_decode(u + i, len - i, &cp);
        char letter = seq == 1 ? js_letter_escape(u[i]) : 0;

        if (seq == 0) {
            cp = 0xFFFD;
            seq = 1;
        }
        i += seq;
        if (letter != 0) {
            if (dst != NULL) {
                dst[n] = '\\';
                dst[n + 1] = letter;
            }
            n += 2;
        } else if (cp < 0x20 || cp >= 0x7F) {
            n += js_unicode_escape(dst != NULL ? dst + n : NULL, cp);
        } else {
            if (dst != NULL)
                dst[n] = (char)cp;
            n++;
        }
    }
    return n;
}

sat_buf *sat__frame_jsonp(const char *callback, const char *payload, size_t len, bool track)
{
    static const char open[] = "({\"message\" : \"";
    static const char close[] = "\"});";
    char name[SAT_JSONP_CALLBACK_MAX + 1];
    char prefix[TRACK_PREFIX_MAX];
    size_t name_len = 0, prefix_len = 0, total;
    sat_buf *b;
    char *w;

    /* The callback was filtered when parsed. It is filtered again here
     * because it is written into a script. */
    for (size_t i = 0; callback != NULL && callback[i] != '\0'; i++) {
        if (name_len < SAT_JSONP_CALLBACK_MAX && is_alnum_ascii((unsigned char)callback[i]))
            name[name_len++] = callback[i];
    }
    assert(name_len > 0);
    if (track)
        prefix_len = track_prefix(prefix, payload, len, false);
    /* Each byte grows to at most 6 ("\uFFFD"). */
    if (len > (SIZE_MAX - 256) / 6)
        return NULL;
    total = name_len + sizeof(open) - 1 + prefix_len + js_escape(NULL, payload, len) +
            sizeof(close) - 1;
    b = sat__buf_alloc(total);
    if (b == NULL)
        return NULL;

    w = b->data;
    memcpy(w, name, name_len);
    w += name_len;
    memcpy(w, open, sizeof(open) - 1);
    w += sizeof(open) - 1;
    memcpy(w, prefix, prefix_len); /* digits and '|' need no escape */
    w += prefix_len;
    w += js_escape(w, payload, len);
    memcpy(w, close, sizeof(close) - 1);
    return b;
}

size_t sat__ws_header(uint8_t out[10], uint8_t opcode, uint64_t len)
{
    out[0] = (uint8_t)(0x80 | (opcode & 0x0F)); /* FIN set, no extensions */
    if (len < 126) {
        out[1] = (uint8_t)len;
        return 2;
    }
    if (len <= 0xFFFF) {
        out[1] = 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; i++)
        out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    return 10;
}

/* ---- handshake and identifiers ----------------------------------------- */

int sat__handshake_body(char *out, size_t size, const char *uuid, long heartbeat_ms,
                        const char *padding, char delimiter)
{
    int n;

    if (out == NULL || uuid == NULL || padding == NULL || size == 0)
        return -1;
    n = snprintf(out, size, "%s%c%ld%c%s%c", uuid, delimiter, heartbeat_ms, delimiter, padding,
                 delimiter);
    if (n < 0 || (size_t)n >= size)
        return -1;
    return n;
}

static int read_urandom(uint8_t *buf, size_t len)
{
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    size_t done = 0;
    int rc = SAT_OK;

    if (fd < 0)
        return SAT_EIO;
    while (done < len) {
        ssize_t r = read(fd, buf + done, len - done);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = SAT_EIO;
            goto out;
        }
        done += (size_t)r;
    }

out:
    close(fd);
    return rc;
}

static int random_bytes(uint8_t *buf, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t r = getrandom(buf + done, len - done, 0);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return read_urandom(buf, len); /* ENOSYS: a kernel older than 3.17 */
        done += (size_t)r;
    }
    return SAT_OK;
}

int sat__uuid4_checked(char out[37])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t b[16];
    char *w = out;
    int rc = random_bytes(b, sizeof(b));

    if (rc != SAT_OK) {
        out[0] = '\0';
        return rc;
    }
    b[6] = (uint8_t)((b[6] & 0x0F) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *w++ = '-';
        *w++ = hex[b[i] >> 4];
        *w++ = hex[b[i] & 0x0F];
    }
    *w = '\0';
    return SAT_OK;
}

void sat__uuid4(char out[37])
{
    /* Tracking ids are the only secret a reconnecting client presents, so a
     * predictable fallback would let one client take over another's
     * backlog. Without a random source the process stops instead. */
    if (sat__uuid4_checked(out) != SAT_OK) {
        SAT_ERROR("codec", "no random source: getrandom and /dev/urandom both failed");
        abort();
    }
}

bool sat__tracking_id_valid(const char *id, size_t len)
{
    if (id == NULL || len == 0 || len > SAT_TRACKING_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)id[i];

        if (!is_alnum_ascii(c) && c != '.' && c != '_' && c != '-')
            return false;
    }
    return true;
}
