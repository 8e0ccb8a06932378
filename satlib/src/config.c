/* SPDX-License-Identifier: Apache-2.0 */
/* Configuration: the key table with defaults and validators, typed storage
 * indexed by key, the INI reader (all or nothing), redacted text and diffs.
 * Applying a changed value to running components is left to the agent. */
#include "satellite/config.h"
#include "satellite/error.h"

#include "log_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Checks what the type alone cannot: returns 0, or SAT_EINVAL with the
 * expectation ("expected ...") written into expect. */
typedef int (*check_fn)(const char *value, char *expect, size_t expect_size);

struct key_def {
    sat_config_key key;
    check_fn check; /* extra check for STRING keys, or NULL */
};

static int check_printable(const char *value, char *expect, size_t expect_size);
static int check_token(const char *value, char *expect, size_t expect_size);
static int check_snmp_listen(const char *value, char *expect, size_t expect_size);
static int check_v3_pass(const char *value, char *expect, size_t expect_size);
static int check_sinks(const char *value, char *expect, size_t expect_size);
static int check_padding(const char *value, char *expect, size_t expect_size);
static int check_delimiter(const char *value, char *expect, size_t expect_size);
static int check_redis_url(const char *value, char *expect, size_t expect_size);

static const char *const queue_policies[] = {"close", "drop-oldest", NULL};
static const char *const lifecycles[] = {
    "never", "idle",          "idle-resume", "idle-destroy", "idle-empty-destroy",
    "empty", "empty-destroy", NULL};
static const char *const padding_modes[] = {"off", "browsers", "always", NULL};
/* Features planned but not built yet: their switches accept only "false". */
static const char *const reserved_off[] = {"false", NULL};
static const char *const log_levels[] = {"error", "warn", "info", "debug", NULL};
static const char *const log_targets[] = {"stderr", "syslog", NULL};

/* Table entry builders: R is true when a change needs a restart. */
#define KINT(n, def, lo, hi, unit, r, doc)                                                         \
    {                                                                                              \
        {n, SAT_CFG_INT, def, lo, hi, NULL, unit, false, r, doc}, NULL                             \
    }
#define KBOOL(n, def, r, doc)                                                                      \
    {                                                                                              \
        {n, SAT_CFG_BOOL, def, 0, 1, NULL, NULL, false, r, doc}, NULL                              \
    }
#define KSTR(n, def, secret, r, check, doc)                                                        \
    {                                                                                              \
        {n, SAT_CFG_STRING, def, 0, 0, NULL, NULL, secret, r, doc}, check                          \
    }
#define KENUM(n, def, names, r, doc)                                                               \
    {                                                                                              \
        {n, SAT_CFG_ENUM, def, 0, 0, names, NULL, false, r, doc}, NULL                             \
    }
#define KADDR(n, def, r, doc)                                                                      \
    {                                                                                              \
        {n, SAT_CFG_ADDR, def, 0, 0, NULL, NULL, false, r, doc}, NULL                              \
    }

static const struct key_def key_defs[] = {
    KADDR("push.listen", "127.0.0.1:8080", true, "Address of the push (Atmosphere) listener."),
    KINT("push.workers", "0", 0, 64, "count", true,
         "Number of event-loop worker threads; 0 starts one per CPU."),
    KINT("push.backlog", "511", 1, 65535, "count", true,
         "Length of the listen queue of pending connections."),
    KINT("push.max_connections", "10000", 1, 1000000, "count", false,
         "Open push connections above which new connections get 503."),
    KINT("push.max_header_bytes", "8192", 1024, 1048576, "bytes", false,
         "Largest request header block; a larger one gets 431."),
    KINT("push.max_body_bytes", "1048576", 1, 67108864, "bytes", false,
         "Largest request body; a larger one gets 413."),
    KINT("push.header_timeout_ms", "10000", 100, 600000, "ms", false,
         "Time a client has to send its complete headers before it is closed."),
    KINT("push.keepalive_timeout_ms", "60000", 100, 3600000, "ms", false,
         "Idle time after which a keep-alive connection is closed."),
    KINT("push.disconnect_grace_ms", "10000", 100, 3600000, "ms", false,
         "Time an HTTP client may stay away (between polls, or after its connection "
         "dropped) before it counts as a dirty disconnect."),
    KINT("push.queue_max_bytes", "1048576", 4096, 1073741824, "bytes", false,
         "Maximum bytes queued for writing to one resource."),
    KENUM("push.queue_policy", "close", queue_policies, false,
          "Action when a resource's write queue reaches push.queue_max_bytes: close the "
          "resource or drop its oldest messages."),
    KSTR("push.static_dir", "", false, false, check_printable,
         "Directory served under /static/; empty turns static files off."),
    KBOOL("push.cors", "true", false, "Adds CORS headers to push responses."),
    KBOOL("push.no_cache_headers", "true", false,
          "Adds headers that forbid caching of push responses."),

    KBOOL("admin.enabled", "true", true, "Starts the REST admin listener."),
    KADDR("admin.listen", "127.0.0.1:8081", true, "Address of the REST admin listener."),
    KSTR("admin.token", "", true, false, check_token,
         "Bearer token required for admin writes; empty reads it from admin.token_file."),
    KSTR("admin.token_file", "satellited.token", false, true, check_printable,
         "File holding the admin token, created with a random token and mode 0600 when "
         "missing."),
    KBOOL("admin.auth_reads", "false", false, "Requires the admin token for reads too."),
    KINT("admin.max_body_bytes", "65536", 1024, 16777216, "bytes", false,
         "Largest admin request body."),
    KINT("admin.max_connections", "64", 4, 4096, "count", true,
         "Admin connections served at once, event streams included; each has a thread."),
    KINT("admin.idle_timeout_s", "30", 1, 3600, "s", true,
         "Time after which an idle or unfinished admin request is closed."),
    KINT("admin.event_keepalive_ms", "5000", 500, 600000, "ms", true,
         "Interval of keep-alive comments on an idle event stream; a client that went away "
         "is noticed, and its connection freed, at the next one."),

    KBOOL("snmp.enabled", "true", true, "Starts the SNMP agent."),
    KSTR("snmp.listen", "udp:127.0.0.1:1161", false, true, check_snmp_listen,
         "Transport address of the embedded SNMP master agent: udp:host:port, "
         "tcp:host:port or host:port."),
    KSTR("snmp.agentx", "", false, true, check_printable,
         "AgentX master socket; when set, the agent runs as a subagent of the host's snmpd "
         "instead of an embedded master."),
    KSTR("snmp.community", "public", true, true, check_token, "SNMPv2c read-only community."),
    KSTR("snmp.rwcommunity", "", true, true, check_token,
         "SNMPv2c read-write community; empty disables v2c writes."),
    KSTR("snmp.v3_user", "", false, true, check_token, "SNMPv3 user name; empty disables SNMPv3."),
    KSTR("snmp.v3_auth_pass", "", true, true, check_v3_pass,
         "SNMPv3 authentication passphrase, at least 8 characters."),
    KSTR("snmp.v3_priv_pass", "", true, true, check_v3_pass,
         "SNMPv3 privacy (encryption) passphrase, at least 8 characters."),
    KINT("snmp.cache_ms", "1000", 0, 60000, "ms", true,
         "Maximum age of the snapshot that SNMP tables are served from."),
    KSTR("snmp.trap_sinks", "", false, true, check_sinks,
         "Comma-separated host:port list that notifications are sent to."),
    KINT("snmp.agentx_ping_s", "5", 1, 3600, "s", true,
         "Interval between pings to the AgentX master."),
    KINT("snmp.agentx_timeout_ms", "1000", 100, 60000, "ms", true,
         "Timeout this subagent announces in its AgentX Open message, rounded up to whole "
         "seconds: how long the master waits for its answers."),

    KINT("engine.heartbeat_s", "60", 0, 3600, "s", false,
         "Silence after which the server sends a heartbeat; 0 sends none."),
    KINT("engine.client_heartbeat_s", "0", 0, 3600, "s", false,
         "Client heartbeat interval advertised in the handshake; 0 advertises none."),
    KSTR("engine.heartbeat_padding", "X", false, true, check_padding,
         "Heartbeat payload: 1 to 8 printable ASCII characters without the delimiter."),
    KSTR("engine.delimiter", "|", false, false, check_delimiter,
         "Character between the length and the body of a message when message sizes are "
         "tracked."),
    KBOOL("engine.enforce_protocol", "true", false,
          "Answers 501 to a client whose X-Atmosphere-Framework version is below "
          "engine.min_protocol_version; clients that send no version are served."),
    KINT("engine.min_protocol_version", "221", 0, 9999, NULL, false,
         "Lowest client protocol version accepted when engine.enforce_protocol is on."),
    KINT("engine.padding_bytes", "1024", 0, 8192, "bytes", false,
         "Whitespace sent first on streaming and long-polling responses; 0 sends none."),
    KENUM("engine.padding", "browsers", padding_modes, false,
          "Which clients get the padding: browsers (a User-Agent with Mozilla/), which hold "
          "back short responses, always, or off."),
    KINT("engine.max_broadcasters", "100000", 1, 10000000, "count", false,
         "Broadcasters that may exist at once."),
    KENUM("engine.broadcaster_lifecycle", "never", lifecycles, false,
          "What happens to an idle or empty broadcaster."),
    KINT("engine.broadcaster_idle_ms", "300000", 1000, 86400000, "ms", false,
         "Time without activity after which a broadcaster counts as idle."),
    KINT("engine.broadcast_queue_max", "65536", 16, 16777216, "count", false,
         "Messages queued per worker before a publisher gets back-pressure."),
    KINT("engine.max_message_bytes", "1048576", 1, 67108864, "bytes", false,
         "Largest message that can be broadcast."),

    KBOOL("cache.enabled", "true", false,
          "Keeps recent messages so that reconnecting clients get what they missed."),
    KINT("cache.max_messages", "1000", 0, 10000000, "count", false,
         "Messages kept per broadcaster."),
    KINT("cache.max_bytes", "16777216", 0, 4294967296LL, "bytes", false,
         "Bytes of messages kept per broadcaster."),
    KINT("cache.max_age_ms", "300000", 0, 86400000, "ms", false,
         "Age after which a cached message is dropped."),
    KINT("cache.client_idle_ms", "60000", 1000, 86400000, "ms", false,
         "Time after which a disconnected client's cache position is forgotten."),
    KINT("cache.expire_interval_ms", "30000", 100, 3600000, "ms", false,
         "Interval between sweeps that drop expired messages and clients."),
    KINT("cache.max_clients", "100000", 1, 10000000, "count", false,
         "Clients whose cache position is tracked."),

    KBOOL("websocket.enabled", "true", false, "Accepts WebSocket upgrades."),
    KINT("websocket.max_message_bytes", "1048576", 125, 67108864, "bytes", false,
         "Largest WebSocket message received; a larger one closes the connection with 1009."),
    KINT("websocket.idle_timeout_ms", "0", 0, 86400000, "ms", false,
         "Time without frames after which a WebSocket is closed; 0 never closes it."),
    KINT("websocket.close_timeout_ms", "5000", 100, 60000, "ms", false,
         "Time to wait for the peer's close frame before dropping the connection."),
    KINT("websocket.ping_interval_ms", "0", 0, 3600000, "ms", false,
         "Interval between server pings; 0 sends none."),

    KBOOL("interceptors.cors", "true", false, "Enables the CORS interceptor."),
    KBOOL("interceptors.heartbeat", "true", false, "Enables the heartbeat interceptor."),
    KBOOL("interceptors.track_message_size", "true", false,
          "Enables the interceptor that prefixes each message with its length."),
    KBOOL("interceptors.sse", "true", false, "Enables the server-sent events interceptor."),
    KBOOL("interceptors.jsonp", "true", false, "Enables the JSONP interceptor."),
    KBOOL("interceptors.padding", "true", false,
          "Enables the interceptor that writes engine.padding_bytes of padding."),
    KBOOL("interceptors.idle_resource", "false", false,
          "Enables the interceptor that closes resources idle for "
          "interceptors.idle_resource_ms."),
    KINT("interceptors.idle_resource_ms", "300000", 1000, 86400000, "ms", false,
         "Idle time after which the idle-resource interceptor closes a resource."),
    KBOOL("interceptors.on_disconnect", "true", false,
          "Enables the interceptor that handles the close message and disconnects."),

    KBOOL("stats.capture", "true", false,
          "Collects per-resource and per-broadcaster message and byte counters."),

    KENUM("cluster.enabled", "false", reserved_off, true,
          "Reserved for clustering over Redis, which this version does not implement; only "
          "false is accepted."),
    KSTR("cluster.redis_url", "redis://127.0.0.1:6379", false, false, check_redis_url,
         "Redis server URL; a password in it is redacted wherever the URL is shown."),
    KSTR("cluster.node_id", "", false, false, check_token,
         "Name of this node in the cluster; empty uses the host name."),

    KENUM("postman.enabled", "false", reserved_off, false,
          "Reserved for guaranteed delivery with acknowledgements, which this version does not "
          "implement; only false is accepted."),
    KINT("postman.redelivery_ms", "30000", 100, 3600000, "ms", false,
         "Time after which an unacknowledged message is sent again."),

    KENUM("log.level", "info", log_levels, false, "Most detailed level that is logged."),
    KENUM("log.target", "stderr", log_targets, true, "Where log lines go."),
    KINT("log.repeat_limit_per_s", "10", 1, 100000, "count", false,
         "Log lines per second from client-facing components; further lines are counted "
         "and reported as one line. Starts, stops, reloads and admin actions are never "
         "dropped."),
};

#define KEY_COUNT (sizeof(key_defs) / sizeof(key_defs[0]))

/* One key's current value: `num` contains INT, BOOL (0 or 1) and ENUM (index),
 * `str` contains STRING and ADDR. */
struct cfg_value {
    int64_t num;
    char *str;
    sat_config_source source;
};

struct sat_config {
    struct cfg_value values[KEY_COUNT];
};

/* Key indexes sorted by name, for bsearch. */
static size_t sorted_keys[KEY_COUNT];
static pthread_once_t sorted_once = PTHREAD_ONCE_INIT;

static int compare_key_index(const void *a, const void *b)
{
    const size_t *ia = a;
    const size_t *ib = b;

    return strcmp(key_defs[*ia].key.name, key_defs[*ib].key.name);
}

static void sort_keys(void)
{
    for (size_t i = 0; i < KEY_COUNT; i++)
        sorted_keys[i] = i;
    qsort(sorted_keys, KEY_COUNT, sizeof(sorted_keys[0]), compare_key_index);
}

static int compare_name_to_index(const void *name, const void *index)
{
    const size_t *i = index;

    return strcmp(name, key_defs[*i].key.name);
}

/* Returns the table index of `name`, or -1. */
static int key_index(const char *name)
{
    const size_t *hit;

    if (name == NULL)
        return -1;
    pthread_once(&sorted_once, sort_keys);
    hit = bsearch(name, sorted_keys, KEY_COUNT, sizeof(sorted_keys[0]), compare_name_to_index);
    return hit ? (int)*hit : -1;
}

/* ---- value checks ---------------------------------------------------- */

static bool has_control_char(const char *value)
{
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return true;
    }
    return false;
}

static int check_printable(const char *value, char *expect, size_t expect_size)
{
    if (has_control_char(value)) {
        snprintf(expect, expect_size, "expected text without control characters");
        return SAT_EINVAL;
    }
    return 0;
}

static int check_token(const char *value, char *expect, size_t expect_size)
{
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7f) {
            snprintf(expect, expect_size, "expected printable ASCII characters without spaces");
            return SAT_EINVAL;
        }
    }
    return 0;
}

static int check_snmp_listen(const char *value, char *expect, size_t expect_size)
{
    char host[256];
    int port;

    if (strncmp(value, "udp:", 4) == 0 || strncmp(value, "tcp:", 4) == 0)
        value += 4;
    if (sat_config_parse_addr(value, host, sizeof(host), &port) != 0) {
        snprintf(expect, expect_size, "expected udp:host:port, tcp:host:port or host:port");
        return SAT_EINVAL;
    }
    return 0;
}

static int check_v3_pass(const char *value, char *expect, size_t expect_size)
{
    if (value[0] != '\0' && strlen(value) < 8) {
        snprintf(expect, expect_size, "expected at least 8 characters, or empty");
        return SAT_EINVAL;
    }
    return check_printable(value, expect, expect_size);
}

/* Checks one trap sink of a comma-separated list: host:port, port 1 to
 * 65535, with surrounding spaces allowed. */
static int check_sink(const char *start, size_t len)
{
    char item[300];
    char host[256];
    int port;

    while (len > 0 && (*start == ' ' || *start == '\t')) {
        start++;
        len--;
    }
    while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t'))
        len--;
    if (len == 0 || len >= sizeof(item))
        return SAT_EINVAL;
    memcpy(item, start, len);
    item[len] = '\0';
    if (sat_config_parse_addr(item, host, sizeof(host), &port) != 0 || port == 0)
        return SAT_EINVAL;
    return 0;
}

static int check_sinks(const char *value, char *expect, size_t expect_size)
{
    const char *p = value;

    if (value[0] == '\0')
        return 0;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);

        if (check_sink(p, len) != 0) {
            snprintf(expect, expect_size,
                     "expected a comma-separated list of host:port "
                     "with ports from 1 to 65535");
            return SAT_EINVAL;
        }
        if (comma == NULL)
            return 0;
        p = comma + 1;
    }
}

static int check_padding(const char *value, char *expect, size_t expect_size)
{
    size_t len = strlen(value);

    for (size_t i = 0; i < len; i++) {
        if (value[i] < 0x20 || value[i] > 0x7e)
            len = 0;
    }
    if (len < 1 || len > 8) {
        snprintf(expect, expect_size, "expected 1 to 8 printable ASCII characters");
        return SAT_EINVAL;
    }
    return 0;
}

static int check_delimiter(const char *value, char *expect, size_t expect_size)
{
    if (strlen(value) != 1 || value[0] <= 0x20 || value[0] > 0x7e) {
        snprintf(expect, expect_size,
                 "expected exactly one printable ASCII character other than "
                 "space");
        return SAT_EINVAL;
    }
    return 0;
}

static int check_redis_url(const char *value, char *expect, size_t expect_size)
{
    bool scheme_ok = strncmp(value, "redis://", 8) == 0 || strncmp(value, "rediss://", 9) == 0;

    if (!scheme_ok || check_token(value, expect, expect_size) != 0) {
        snprintf(expect, expect_size, "expected a redis:// or rediss:// URL without spaces");
        return SAT_EINVAL;
    }
    return 0;
}

/* ---- parsing one value --------------------------------------------------- */

static bool parse_int(const char *text, int64_t *out)
{
    const char *p = text;
    char *end;
    long long v;

    if (*p == '+' || *p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return false;
    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno == ERANGE || *end != '\0')
        return false;
    *out = v;
    return true;
}

static bool parse_bool(const char *text, int64_t *out)
{
    static const char *const truths[] = {"true", "yes", "on", "1"};
    static const char *const lies[] = {"false", "no", "off", "0"};

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(text, truths[i]) == 0) {
            *out = 1;
            return true;
        }
        if (strcasecmp(text, lies[i]) == 0) {
            *out = 0;
            return true;
        }
    }
    return false;
}

static bool parse_enum(const sat_config_key *key, const char *text, int64_t *out)
{
    for (int64_t i = 0; key->enum_names[i] != NULL; i++) {
        if (strcmp(text, key->enum_names[i]) == 0) {
            *out = i;
            return true;
        }
    }
    return false;
}

/* Writes what a key expects, as the tail of an error message. */
static void describe_expected(const sat_config_key *key, char *expect, size_t expect_size)
{
    size_t used;

    switch (key->type) {
    case SAT_CFG_INT:
        snprintf(expect, expect_size, "expected an integer from %lld to %lld", (long long)key->min,
                 (long long)key->max);
        break;
    case SAT_CFG_BOOL:
        snprintf(expect, expect_size, "expected true or false (or yes/no, on/off, 1/0)");
        break;
    case SAT_CFG_ENUM:
        used = (size_t)snprintf(expect, expect_size, "expected one of");
        for (size_t i = 0; key->enum_names[i] != NULL && used < expect_size; i++)
            used += (size_t)snprintf(expect + used, expect_size - used, "%s %s", i ? "," : "",
                                     key->enum_names[i]);
        break;
    case SAT_CFG_ADDR:
        snprintf(expect, expect_size,
                 "expected host:port or [IPv6]:port with a port from 0 to 65535");
        break;
    case SAT_CFG_STRING:
        snprintf(expect, expect_size, "expected at most %d bytes of text", SAT_CONFIG_MAX_STRING);
        break;
    }
}

/* Copies up to 60 bytes of value for a message, with control bytes shown
 * as '?'. */
static void quote_for_message(const char *value, char *out, size_t out_size)
{
    size_t n = 0;
    size_t limit = out_size > 64 ? 60 : out_size - 1;

    for (; value[n] != '\0' && n < limit; n++) {
        unsigned char c = (unsigned char)value[n];

        out[n] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    out[n] = '\0';
    if (value[n] != '\0' && out_size > 64)
        memcpy(out + n, "...", 4);
}

static void fill_error(sat_config_error *err, int line, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fill_error(sat_config_error *err, int line, const char *key, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return;
    err->line = line;
    snprintf(err->key, sizeof(err->key), "%s", key ? key : "");
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
}

/* Parses `text` for key `index` into `out` (a fresh string for STRING and
 * ADDR). Returns 0, SAT_EINVAL (err filled) or SAT_ENOMEM. */
static int parse_value(size_t index, const char *text, struct cfg_value *out, sat_config_error *err)
{
    const struct key_def *def = &key_defs[index];
    const sat_config_key *key = &def->key;
    char expect[200] = "";
    char shown[80];
    char host[256];
    int port;
    bool ok = true;

    out->num = 0;
    out->str = NULL;
    switch (key->type) {
    case SAT_CFG_INT:
        ok = parse_int(text, &out->num) && out->num >= key->min && out->num <= key->max;
        break;
    case SAT_CFG_BOOL:
        ok = parse_bool(text, &out->num);
        break;
    case SAT_CFG_ENUM:
        ok = parse_enum(key, text, &out->num);
        break;
    case SAT_CFG_ADDR:
        ok = sat_config_parse_addr(text, host, sizeof(host), &port) == 0;
        break;
    case SAT_CFG_STRING:
        ok = strlen(text) <= SAT_CONFIG_MAX_STRING;
        if (ok && def->check != NULL)
            ok = def->check(text, expect, sizeof(expect)) == 0;
        break;
    }
    if (!ok) {
        if (expect[0] == '\0')
            describe_expected(key, expect, sizeof(expect));
        quote_for_message(text, shown, sizeof(shown));
        if (key->secret)
            fill_error(err, 0, key->name, "invalid value for %s: %s", key->name, expect);
        else
            fill_error(err, 0, key->name, "invalid value '%s' for %s: %s", shown, key->name,
                       expect);
        return SAT_EINVAL;
    }
    if (key->type == SAT_CFG_STRING || key->type == SAT_CFG_ADDR) {
        out->str = strdup(text);
        if (out->str == NULL)
            return SAT_ENOMEM;
    }
    return 0;
}

/* ---- checks across keys ------------------------------------------------- */

/* Checks rules that involve two keys. Returns the index of the first key
 * in conflict (err filled), or -1 when all hold. */
static int check_across(const sat_config *cfg, sat_config_error *err)
{
    int padding = key_index("engine.heartbeat_padding");
    int delimiter = key_index("engine.delimiter");
    int user = key_index("snmp.v3_user");
    int auth = key_index("snmp.v3_auth_pass");
    int priv = key_index("snmp.v3_priv_pass");
    const char *delim = cfg->values[delimiter].str;
    char shown[80];

    if (strchr(cfg->values[padding].str, delim[0]) != NULL) {
        quote_for_message(cfg->values[padding].str, shown, sizeof(shown));
        fill_error(err, 0, "engine.heartbeat_padding",
                   "engine.heartbeat_padding '%s' contains engine.delimiter '%s': change one "
                   "of them",
                   shown, delim);
        return padding;
    }
    if (cfg->values[user].str[0] != '\0' && cfg->values[auth].str[0] == '\0') {
        fill_error(err, 0, "snmp.v3_user",
                   "snmp.v3_user is set but snmp.v3_auth_pass is empty: set a passphrase "
                   "or clear the user");
        return user;
    }
    if (cfg->values[priv].str[0] != '\0' && cfg->values[auth].str[0] == '\0') {
        fill_error(err, 0, "snmp.v3_priv_pass",
                   "snmp.v3_priv_pass needs snmp.v3_auth_pass too, because SNMPv3 has no "
                   "privacy without authentication");
        return priv;
    }
    return -1;
}

/* ---- errors ----------------------------------------------------------- */

void sat_config_errors_free(sat_config_errors *errs)
{
    if (errs == NULL)
        return;
    free(errs->items);
    errs->items = NULL;
    errs->count = 0;
}

const char *sat_config_error_format(const sat_config_error *err, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    if (err->line > 0)
        snprintf(buf, size, "line %d: %s", err->line, err->message);
    else
        snprintf(buf, size, "%s", err->message);
    return buf;
}

/* ---- key table -------------------------------------------------------- */

size_t sat_config_key_count(void)
{
    return KEY_COUNT;
}

const sat_config_key *sat_config_key_at(size_t index)
{
    return index < KEY_COUNT ? &key_defs[index].key : NULL;
}

const sat_config_key *sat_config_key_find(const char *name)
{
    int i = key_index(name);

    return i < 0 ? NULL : &key_defs[i].key;
}

/* ---- lifecycle ---------------------------------------------------------- */

sat_config *sat_config_new(void)
{
    sat_config *cfg = calloc(1, sizeof(*cfg));

    if (cfg == NULL)
        return NULL;
    for (size_t i = 0; i < KEY_COUNT; i++) {
        int rc = parse_value(i, key_defs[i].key.default_text, &cfg->values[i], NULL);

        /* Defaults are constants that the unit tests check. */
        if (rc == SAT_EINVAL)
            SAT_ERROR("config", "default of %s is invalid", key_defs[i].key.name);
        if (rc != 0) {
            sat_config_free(cfg);
            return NULL;
        }
    }
    return cfg;
}

sat_config *sat_config_clone(const sat_config *cfg)
{
    sat_config *copy = calloc(1, sizeof(*copy));

    if (copy == NULL)
        return NULL;
    for (size_t i = 0; i < KEY_COUNT; i++) {
        copy->values[i] = cfg->values[i];
        if (cfg->values[i].str == NULL)
            continue;
        copy->values[i].str = strdup(cfg->values[i].str);
        if (copy->values[i].str == NULL) {
            sat_config_free(copy);
            return NULL;
        }
    }
    return copy;
}

void sat_config_free(sat_config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < KEY_COUNT; i++)
        free(cfg->values[i].str);
    free(cfg);
}

/* Moves `from`'s values into `to` and frees what `to` held, with `from`. */
static void config_replace(sat_config *to, sat_config *from)
{
    struct sat_config tmp = *to;

    *to = *from;
    *from = tmp;
    sat_config_free(from);
}

/* ---- loading ------------------------------------------------------------ */

/* State of one load: the clone being filled and the errors so far. */
struct load_ctx {
    sat_config *cfg;
    sat_config_errors *errs;
    size_t nerrors;
    bool nomem;
    bool full;        /* SAT_CONFIG_MAX_ERRORS reached: stop parsing */
    char section[64]; /* current section, "" before the first header */
    bool section_bad; /* the current header was rejected: skip its keys */
    int key_line[KEY_COUNT];
};

static void add_error(struct load_ctx *ctx, const sat_config_error *err)
{
    sat_config_error *items;

    ctx->nerrors++;
    if (ctx->nerrors >= SAT_CONFIG_MAX_ERRORS)
        ctx->full = true;
    if (ctx->errs == NULL)
        return;
    items = realloc(ctx->errs->items, (ctx->errs->count + 1) * sizeof(*items));
    if (items == NULL) {
        ctx->nomem = true;
        return;
    }
    ctx->errs->items = items;
    items[ctx->errs->count++] = *err;
    if (ctx->full) {
        sat_config_error *last = &items[ctx->errs->count - 1];

        snprintf(last->message, sizeof(last->message),
                 "too many errors (%d); the rest of the file was not read", SAT_CONFIG_MAX_ERRORS);
        last->key[0] = '\0';
    }
}

static void line_error(struct load_ctx *ctx, int line, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void line_error(struct load_ctx *ctx, int line, const char *key, const char *fmt, ...)
{
    sat_config_error err;
    va_list ap;

    err.line = line;
    snprintf(err.key, sizeof(err.key), "%s", key ? key : "");
    va_start(ap, fmt);
    vsnprintf(err.message, sizeof(err.message), fmt, ap);
    va_end(ap);
    add_error(ctx, &err);
}

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static bool is_name(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++) {
        if (!is_name_char(*s))
            return false;
    }
    return true;
}

static char *trim(char *s)
{
    char *end;

    while (*s == ' ' || *s == '\t')
        s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    *end = '\0';
    return s;
}

static bool section_known(const char *name)
{
    size_t len = strlen(name);

    for (size_t i = 0; i < KEY_COUNT; i++) {
        const char *k = key_defs[i].key.name;

        if (strncmp(k, name, len) == 0 && k[len] == '.')
            return true;
    }
    return false;
}

static void handle_section(struct load_ctx *ctx, char *text, int line)
{
    size_t len = strlen(text);
    char *name;
    char shown[80];

    ctx->section_bad = true;
    if (text[len - 1] != ']') {
        quote_for_message(text, shown, sizeof(shown));
        line_error(ctx, line, NULL, "invalid section header '%s': expected [name]", shown);
        return;
    }
    text[len - 1] = '\0';
    name = trim(text + 1);
    quote_for_message(name, shown, sizeof(shown));
    if (!is_name(name) || !section_known(name)) {
        line_error(ctx, line, NULL,
                   "unknown section [%s]: expected push, admin, snmp, engine, cache, "
                   "websocket, interceptors, stats, cluster, postman or log",
                   shown);
        return;
    }
    snprintf(ctx->section, sizeof(ctx->section), "%s", name);
    ctx->section_bad = false;
}

/* Unquotes a value in place: "..." with \" and \\ escapes, nothing but
 * blanks after the closing quote. Returns NULL with reason set on error. */
static char *unquote(char *value, const char **reason)
{
    char *in = value + 1;
    char *out = value;

    for (;; in++) {
        if (*in == '\0') {
            *reason = "unterminated quoted value: expected a closing '\"'";
            return NULL;
        }
        if (*in == '"')
            break;
        if (*in == '\\') {
            in++;
            if (*in != '"' && *in != '\\') {
                *reason = "invalid escape in quoted value: expected \\\" or \\\\";
                return NULL;
            }
        }
        *out++ = *in;
    }
    *out = '\0';
    if (*trim(in + 1) != '\0') {
        *reason = "unexpected text after the closing quote";
        return NULL;
    }
    return value;
}

static void handle_assignment(struct load_ctx *ctx, char *text, int line)
{
    char *eq = strchr(text, '=');
    char *name, *value;
    char full[96];
    char shown[80];
    const char *reason = NULL;
    struct cfg_value parsed;
    sat_config_error err;
    int index, rc;

    if (eq == NULL) {
        line_error(ctx, line, NULL, "expected 'key = value', '[section]' or a comment");
        return;
    }
    *eq = '\0';
    name = trim(text);
    value = trim(eq + 1);
    if (ctx->section_bad)
        return; /* keys under a rejected header: the header was reported */
    quote_for_message(name, shown, sizeof(shown));
    if (ctx->section[0] == '\0') {
        line_error(ctx, line, NULL, "key '%s' outside a section: expected a [section] first",
                   shown);
        return;
    }
    snprintf(full, sizeof(full), "%s.%s", ctx->section, name);
    index = is_name(name) ? key_index(full) : -1;
    if (index < 0) {
        line_error(ctx, line, full, "unknown key '%s' in section [%s]", shown, ctx->section);
        return;
    }
    if (value[0] == '"' && unquote(value, &reason) == NULL) {
        line_error(ctx, line, full, "%s (key %s)", reason, full);
        return;
    }

    rc = parse_value((size_t)index, value, &parsed, &err);
    if (rc == SAT_ENOMEM) {
        ctx->nomem = true;
        return;
    }
    if (rc != 0) {
        err.line = line;
        add_error(ctx, &err);
        return;
    }
    free(ctx->cfg->values[index].str);
    parsed.source = SAT_CFG_SRC_FILE;
    ctx->cfg->values[index] = parsed;
    ctx->key_line[index] = line;
}

/* Handles one line, without its newline, NUL-terminated. */
static void handle_line(struct load_ctx *ctx, char *raw, int line)
{
    char *text = trim(raw);

    if (text[0] == '\0' || text[0] == '#' || text[0] == ';')
        return;
    if (text[0] == '[')
        handle_section(ctx, text, line);
    else
        handle_assignment(ctx, text, line);
}

/* Splits the text into lines and handles each; errors go into ctx. */
static void parse_text(struct load_ctx *ctx, const char *text, size_t len)
{
    char buf[SAT_CONFIG_MAX_LINE + 1];
    size_t pos = 0;
    int line = 0;

    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    while (pos < len && !ctx->full && !ctx->nomem) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;

        line++;
        pos += n + (nl ? 1 : 0);
        if (n > SAT_CONFIG_MAX_LINE) {
            line_error(ctx, line, NULL, "line is longer than %d bytes", SAT_CONFIG_MAX_LINE);
            continue;
        }
        if (memchr(start, '\0', n) != NULL) {
            line_error(ctx, line, NULL, "line contains a NUL byte");
            continue;
        }
        memcpy(buf, start, n);
        buf[n] = '\0';
        handle_line(ctx, buf, line);
    }
}

int sat_config_load_text(sat_config *cfg, const char *text, size_t len, const char *origin,
                         sat_config_errors *errs)
{
    struct load_ctx *ctx = calloc(1, sizeof(*ctx));
    sat_config_error err;
    int bad, rc;

    if (ctx == NULL)
        return SAT_ENOMEM;
    ctx->errs = errs;
    if (len > SAT_CONFIG_MAX_FILE) {
        line_error(ctx, 0, NULL, "%s is larger than %d bytes", origin ? origin : "config text",
                   SAT_CONFIG_MAX_FILE);
        rc = SAT_EINVAL;
        goto out;
    }
    ctx->cfg = sat_config_clone(cfg);
    if (ctx->cfg == NULL) {
        rc = SAT_ENOMEM;
        goto out;
    }

    parse_text(ctx, text, len);
    if (ctx->nerrors == 0 && !ctx->nomem && (bad = check_across(ctx->cfg, &err)) >= 0) {
        err.line = ctx->key_line[bad];
        add_error(ctx, &err);
    }

    if (ctx->nomem) {
        rc = SAT_ENOMEM;
    } else if (ctx->nerrors > 0) {
        rc = SAT_EINVAL;
    } else {
        config_replace(cfg, ctx->cfg);
        ctx->cfg = NULL;
        rc = 0;
    }
out:
    if (rc != 0)
        SAT_DEBUG("config", "loading %s failed: %zu errors", origin ? origin : "config text",
                  ctx->nerrors);
    sat_config_free(ctx->cfg);
    free(ctx);
    return rc;
}

static void append_io_error(sat_config_errors *errs, const char *path, const char *reason)
{
    sat_config_error *items;

    if (errs == NULL)
        return;
    items = realloc(errs->items, (errs->count + 1) * sizeof(*items));
    if (items == NULL)
        return;
    errs->items = items;
    fill_error(&items[errs->count++], 0, NULL, "cannot read '%s': %s", path, reason);
}

int sat_config_load_file(sat_config *cfg, const char *path, sat_config_errors *errs)
{
    char reason[128];
    char *text = NULL;
    size_t len = 0;
    FILE *f = fopen(path, "rb");
    int rc;

    if (f == NULL) {
        append_io_error(errs, path, strerror_r(errno, reason, sizeof(reason)));
        return SAT_EIO;
    }
    text = malloc((size_t)SAT_CONFIG_MAX_FILE + 1);
    if (text == NULL) {
        rc = SAT_ENOMEM;
        goto out;
    }
    len = fread(text, 1, (size_t)SAT_CONFIG_MAX_FILE + 1, f);
    if (ferror(f)) {
        append_io_error(errs, path, "read error");
        rc = SAT_EIO;
        goto out;
    }
    /* A length of MAX_FILE + 1 makes load_text report the size limit. */
    rc = sat_config_load_text(cfg, text, len, path, errs);
out:
    free(text);
    fclose(f);
    return rc;
}

/* ---- single keys ------------------------------------------------------- */

int sat_config_set(sat_config *cfg, const char *name, const char *value, sat_config_source source,
                   sat_config_error *err)
{
    int index = key_index(name);
    struct cfg_value parsed, old;
    int rc;

    if (index < 0) {
        fill_error(err, 0, name, "unknown key '%s'", name ? name : "(null)");
        return SAT_ENOTFOUND;
    }
    if (value == NULL) {
        fill_error(err, 0, name, "missing value for %s", name);
        return SAT_EINVAL;
    }
    rc = parse_value((size_t)index, value, &parsed, err);
    if (rc != 0)
        return rc;

    parsed.source = source;
    old = cfg->values[index];
    cfg->values[index] = parsed;
    if (check_across(cfg, err) >= 0) {
        if (err != NULL)
            snprintf(err->key, sizeof(err->key), "%s", name);
        cfg->values[index] = old;
        free(parsed.str);
        return SAT_EINVAL;
    }
    free(old.str);
    return 0;
}

int sat_config_check(const char *name, const char *value, sat_config_error *err)
{
    int index = key_index(name);
    struct cfg_value parsed;
    int rc;

    if (index < 0) {
        fill_error(err, 0, name, "unknown key '%s'", name ? name : "(null)");
        return SAT_ENOTFOUND;
    }
    if (value == NULL) {
        fill_error(err, 0, name, "missing value for %s", name);
        return SAT_EINVAL;
    }
    rc = parse_value((size_t)index, value, &parsed, err);
    free(parsed.str);
    return rc;
}

/* ---- typed reads ------------------------------------------------------- */

/* Returns the index of `name` when it has one of the types in `mask`
 * (bits of 1 << type), or -1 after logging the programming error. */
static int typed_index(const char *name, unsigned mask, const char *caller)
{
    int index = key_index(name);

    if (index < 0 || !(mask & (1u << key_defs[index].key.type))) {
        SAT_ERROR("config", "%s: '%s' is not a key of the requested type", caller,
                  name ? name : "(null)");
        return -1;
    }
    return index;
}

int64_t sat_config_int(const sat_config *cfg, const char *name)
{
    int i = typed_index(name, 1u << SAT_CFG_INT, "sat_config_int");

    return i < 0 ? 0 : cfg->values[i].num;
}

bool sat_config_bool(const sat_config *cfg, const char *name)
{
    int i = typed_index(name, 1u << SAT_CFG_BOOL, "sat_config_bool");

    return i < 0 ? false : cfg->values[i].num != 0;
}

const char *sat_config_str(const sat_config *cfg, const char *name)
{
    unsigned mask = (1u << SAT_CFG_STRING) | (1u << SAT_CFG_ENUM) | (1u << SAT_CFG_ADDR);
    int i = typed_index(name, mask, "sat_config_str");

    if (i < 0)
        return "";
    if (key_defs[i].key.type == SAT_CFG_ENUM)
        return key_defs[i].key.enum_names[cfg->values[i].num];
    return cfg->values[i].str;
}

int sat_config_enum(const sat_config *cfg, const char *name)
{
    int i = typed_index(name, 1u << SAT_CFG_ENUM, "sat_config_enum");

    return i < 0 ? -1 : (int)cfg->values[i].num;
}

sat_config_source sat_config_source_of(const sat_config *cfg, const char *name)
{
    int i = key_index(name);

    return i < 0 ? SAT_CFG_SRC_DEFAULT : cfg->values[i].source;
}

const char *sat_config_source_name(sat_config_source source)
{
    switch (source) {
    case SAT_CFG_SRC_DEFAULT:
        return "default";
    case SAT_CFG_SRC_FILE:
        return "file";
    case SAT_CFG_SRC_CMDLINE:
        return "cmdline";
    case SAT_CFG_SRC_RUNTIME:
        return "runtime";
    }
    return "unknown";
}

/* ---- text and diff ------------------------------------------------------ */

/* Writes a Redis URL with the password of its user-info part replaced by
 * "***". A user-info without ':' is redacted whole, because it may be the
 * password. */
static void redact_url(const char *url, char *buf, size_t size)
{
    const char *auth = strstr(url, "://");
    const char *at, *colon, *end;

    if (auth == NULL) {
        snprintf(buf, size, "%s", url);
        return;
    }
    auth += 3;
    end = auth + strcspn(auth, "/?#");
    at = NULL;
    for (const char *p = auth; p < end; p++) {
        if (*p == '@')
            at = p;
    }
    if (at == NULL) {
        snprintf(buf, size, "%s", url);
        return;
    }
    colon = memchr(auth, ':', (size_t)(at - auth));
    if (colon == NULL)
        snprintf(buf, size, "%.*s***%s", (int)(auth - url), url, at);
    else
        snprintf(buf, size, "%.*s***%s", (int)(colon + 1 - url), url, at);
}

static void value_text(size_t i, const struct cfg_value *v, bool redact, char *buf, size_t size)
{
    const sat_config_key *key = &key_defs[i].key;

    switch (key->type) {
    case SAT_CFG_INT:
        snprintf(buf, size, "%lld", (long long)v->num);
        break;
    case SAT_CFG_BOOL:
        snprintf(buf, size, "%s", v->num ? "true" : "false");
        break;
    case SAT_CFG_ENUM:
        snprintf(buf, size, "%s", key->enum_names[v->num]);
        break;
    case SAT_CFG_STRING:
    case SAT_CFG_ADDR:
        if (redact && key->secret && v->str[0] != '\0')
            snprintf(buf, size, "***");
        else if (redact && strcmp(key->name, "cluster.redis_url") == 0)
            redact_url(v->str, buf, size);
        else
            snprintf(buf, size, "%s", v->str);
        break;
    }
}

const char *sat_config_text(const sat_config *cfg, const char *name, bool redact, char *buf,
                            size_t size)
{
    int i = key_index(name);

    if (size == 0)
        return buf;
    if (i < 0) {
        buf[0] = '\0';
        return buf;
    }
    value_text((size_t)i, &cfg->values[i], redact, buf, size);
    return buf;
}

static bool values_equal(size_t i, const struct cfg_value *a, const struct cfg_value *b)
{
    sat_config_type type = key_defs[i].key.type;

    if (type == SAT_CFG_STRING || type == SAT_CFG_ADDR)
        return strcmp(a->str, b->str) == 0;
    return a->num == b->num;
}

size_t sat_config_diff(const sat_config *a, const sat_config *b, sat_config_diff_cb cb,
                       void *userdata)
{
    char old_text[SAT_CONFIG_MAX_STRING + 8];
    char new_text[SAT_CONFIG_MAX_STRING + 8];
    size_t count = 0;

    for (size_t i = 0; i < KEY_COUNT; i++) {
        if (values_equal(i, &a->values[i], &b->values[i]))
            continue;
        count++;
        if (cb == NULL)
            continue;
        value_text(i, &a->values[i], true, old_text, sizeof(old_text));
        value_text(i, &b->values[i], true, new_text, sizeof(new_text));
        cb(userdata, &key_defs[i].key, old_text, new_text);
    }
    return count;
}

/* ---- addresses --------------------------------------------------------- */

static bool parse_port(const char *text, int *port)
{
    int v = 0;

    if (*text == '\0' || strlen(text) > 5)
        return false;
    for (; *text; text++) {
        if (*text < '0' || *text > '9')
            return false;
        v = v * 10 + (*text - '0');
    }
    if (v > 65535)
        return false;
    *port = v;
    return true;
}

int sat_config_parse_addr(const char *text, char *host, size_t host_size, int *port)
{
    const char *host_start, *host_end, *port_text;
    size_t host_len;

    if (host_size > 0)
        host[0] = '\0';
    *port = 0;
    if (text == NULL || host_size == 0)
        return SAT_EINVAL;
    if (text[0] == '[') {
        host_start = text + 1;
        host_end = strchr(host_start, ']');
        if (host_end == NULL || host_end[1] != ':')
            return SAT_EINVAL;
        port_text = host_end + 2;
    } else {
        host_start = text;
        host_end = strchr(text, ':');
        if (host_end == NULL || strchr(host_end + 1, ':') != NULL)
            return SAT_EINVAL;
        port_text = host_end + 1;
    }
    host_len = (size_t)(host_end - host_start);
    if (host_len == 0 || host_len >= host_size || !parse_port(port_text, port)) {
        *port = 0;
        return SAT_EINVAL;
    }
    for (size_t i = 0; i < host_len; i++) {
        unsigned char c = (unsigned char)host_start[i];

        if (c <= 0x20 || c >= 0x7f || c == '[' || c == ']' || c == '/') {
            *port = 0;
            return SAT_EINVAL;
        }
    }
    memcpy(host, host_start, host_len);
    host[host_len] = '\0';
    return 0;
}
