/* SPDX-License-Identifier: Apache-2.0 */
/* Tables of inputs and exact expected bytes for the Atmosphere codec:
 * query strings, percent-decoding, protocol parameters, versions, UTF-16
 * lengths, every wire format, JSONP escaping, handshake bodies and UUIDs. */
#include "codec.h"
#include "satellite/error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- query strings ------------------------------------------------------ */

static int collect_pair(void *userdata, const char *name, size_t name_len, const char *value,
                        size_t value_len)
{
    char *out = userdata;
    size_t used = strlen(out);

    snprintf(out + used, 256 - used, "[%.*s=%.*s]", (int)name_len, name, (int)value_len, value);
    return 0;
}

static const struct {
    const char *query;
    const char *pairs;
} query_cases[] = {
    {"", ""},
    {"a=1", "[a=1]"},
    {"a=1&b=2", "[a=1][b=2]"},
    {"flag", "[flag=]"},
    {"a=", "[a=]"},
    {"=x", "[=x]"},
    {"a&&b", "[a=][b=]"},
    {"&", ""},
    {"a=1&", "[a=1]"},
    {"a=1=2", "[a=1=2]"},
    {"X-Atmosphere-Transport=long-polling&X-atmo-protocol=true",
     "[X-Atmosphere-Transport=long-polling][X-atmo-protocol=true]"},
    {"c=%3D%26", "[c=%3D%26]"},
};

static void query_each_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(query_cases); i++) {
        char out[256] = "";
        int rc =
            sat__query_each(query_cases[i].query, strlen(query_cases[i].query), collect_pair, out);

        assert_int_equal(rc, 0);
        assert_string_equal(out, query_cases[i].pairs);
    }
}

static int stop_at_b(void *userdata, const char *name, size_t name_len, const char *value,
                     size_t value_len)
{
    int *calls = userdata;

    (void)value;
    (void)value_len;
    ++*calls;
    return name_len == 1 && name[0] == 'b' ? 7 : 0;
}

static void query_each_stops_on_callback(void **state)
{
    int calls = 0;

    (void)state;
    assert_int_equal(sat__query_each("a=1&b=2&c=3", 11, stop_at_b, &calls), 7);
    assert_int_equal(calls, 2);
}

/* ---- percent-decoding --------------------------------------------------- */

static const struct {
    const char *in;
    bool plus_is_space;
    long len; /* -1 for a malformed escape */
    const char *out;
} pct_cases[] = {
    {"", true, 0, ""},
    {"plain", true, 5, "plain"},
    {"%41", true, 1, "A"},
    {"a+b", true, 3, "a b"},
    {"a+b", false, 3, "a+b"},
    {"%2B", true, 1, "+"},
    {"%2b%2F", true, 2, "+/"},
    {"%e6%97%a5", true, 3, "\xe6\x97\xa5"},
    {"application%2Fjson%3B%20charset%3DUTF-8", true, 31, "application/json; charset=UTF-8"},
    {"%", true, -1, NULL},
    {"%2", true, -1, NULL},
    {"abc%", true, -1, NULL},
    {"%zz", true, -1, NULL},
    {"%4g", true, -1, NULL},
    {"%g4", true, -1, NULL},
    {"ok%-1", true, -1, NULL},
};

static void pct_decode_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(pct_cases); i++) {
        char buf[64];
        size_t len = strlen(pct_cases[i].in);
        long rc;

        memcpy(buf, pct_cases[i].in, len + 1);
        rc = sat__pct_decode(buf, len, pct_cases[i].plus_is_space);
        assert_int_equal(rc, pct_cases[i].len);
        if (pct_cases[i].out != NULL)
            assert_memory_equal(buf, pct_cases[i].out, (size_t)rc + 1);
    }
}

/* ---- protocol parameters ----------------------------------------------- */

typedef enum field {
    F_NONE, /* the parameter is unknown and nothing changes */
    F_TRACKING_ID,
    F_FRAMEWORK,
    F_TRANSPORT,
    F_TRACK_MESSAGE_SIZE,
    F_PROTOCOL,
    F_BINARY,
    F_HEARTBEAT,
    F_CONTENT_TYPE,
    F_JSONP,
    F_POST_BODY,
} field;

static void render_field(const sat_atmo_params *p, field f, char *out, size_t size)
{
    switch (f) {
    case F_NONE:
        snprintf(out, size, "%s|%s|%d|%d", p->tracking_id, sat_transport_name(p->transport),
                 p->heartbeat_server_s, p->post_body != NULL);
        return;
    case F_TRACKING_ID:
        snprintf(out, size, "%s", p->tracking_id);
        return;
    case F_FRAMEWORK:
        snprintf(out, size, "%s", p->framework);
        return;
    case F_TRANSPORT:
        snprintf(out, size, "%s", sat_transport_name(p->transport));
        return;
    case F_TRACK_MESSAGE_SIZE:
        snprintf(out, size, "%s", p->track_message_size ? "true" : "false");
        return;
    case F_PROTOCOL:
        snprintf(out, size, "%s", p->protocol ? "true" : "false");
        return;
    case F_BINARY:
        snprintf(out, size, "%s", p->binary ? "true" : "false");
        return;
    case F_HEARTBEAT:
        snprintf(out, size, "%d", p->heartbeat_server_s);
        return;
    case F_CONTENT_TYPE:
        snprintf(out, size, "%s", p->content_type);
        return;
    case F_JSONP:
        snprintf(out, size, "%s", p->jsonp_callback);
        return;
    case F_POST_BODY:
        snprintf(out, size, "%.*s", (int)p->post_body_len, p->post_body ? p->post_body : "(null)");
        return;
    }
}

#define LONG65 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define LONG64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct {
    const char *name;
    const char *value;
    bool from_query;
    int rc;
    field field;
    const char *expect; /* rendered field on success, a substring of err on failure */
} param_cases[] = {
    /* tracking id */
    {"X-Atmosphere-tracking-id", "0", true, 0, F_TRACKING_ID, "0"},
    {"x-atmosphere-tracking-id", "6f1c2a9e-1b2c-4d5e-8f90-0123456789ab", false, 0, F_TRACKING_ID,
     "6f1c2a9e-1b2c-4d5e-8f90-0123456789ab"},
    {"X-ATMOSPHERE-TRACKING-ID", "1700000000000", true, 0, F_TRACKING_ID, "1700000000000"},
    {"X-Atmosphere-tracking-id", "a.b_c-D", true, 0, F_TRACKING_ID, "a.b_c-D"},
    {"X-Atmosphere-tracking-id", LONG64, true, 0, F_TRACKING_ID, LONG64},
    {"X-Atmosphere-tracking-id", LONG65, true, SAT_EINVAL, F_NONE, "X-Atmosphere-tracking-id"},
    {"X-Atmosphere-tracking-id", "", true, SAT_EINVAL, F_NONE, "X-Atmosphere-tracking-id"},
    {"X-Atmosphere-tracking-id", "a b", true, SAT_EINVAL, F_NONE, "X-Atmosphere-tracking-id"},
    {"X-Atmosphere-tracking-id", "a+b", true, SAT_EINVAL, F_NONE, "X-Atmosphere-tracking-id"},
    {"X-Atmosphere-tracking-id", "a%2Fb", true, SAT_EINVAL, F_NONE, "X-Atmosphere-tracking-id"},
    {"X-Atmosphere-tracking-id", "%41", true, 0, F_TRACKING_ID, "A"},
    {"X-Atmosphere-tracking-id", "%4", true, SAT_EINVAL, F_NONE, "percent escape"},
    {"X-Atmosphere-tracking-id", "<script>", false, SAT_EINVAL, F_NONE, "letters, digits"},
    /* framework version */
    {"X-Atmosphere-Framework", "4.0.1", true, 0, F_FRAMEWORK, "4.0.1"},
    {"x-atmosphere-framework", "2.3.8-javascript", true, 0, F_FRAMEWORK, "2.3.8-javascript"},
    {"X-Atmosphere-Framework", "4.0.1%0d%0aX: y", true, SAT_EINVAL, F_NONE, "control character"},
    {"X-Atmosphere-Framework", "0123456789012345678901234567890123", true, SAT_EINVAL, F_NONE,
     "longer than 31 bytes"},
    /* transport */
    {"X-Atmosphere-Transport", "websocket", true, 0, F_TRANSPORT, "websocket"},
    {"X-Atmosphere-Transport", "WebSocket", true, 0, F_TRANSPORT, "websocket"},
    {"X-Atmosphere-Transport", "long-polling", true, 0, F_TRANSPORT, "long-polling"},
    {"X-Atmosphere-Transport", "long_polling", true, 0, F_TRANSPORT, "long-polling"},
    {"X-Atmosphere-Transport", "LONG-POLLING", false, 0, F_TRANSPORT, "long-polling"},
    {"x-atmosphere-transport", "streaming", true, 0, F_TRANSPORT, "streaming"},
    {"X-Atmosphere-Transport", "SSE", true, 0, F_TRANSPORT, "sse"},
    {"X-Atmosphere-Transport", "jsonp", true, 0, F_TRANSPORT, "jsonp"},
    {"X-Atmosphere-Transport", "polling", true, 0, F_TRANSPORT, "polling"},
    {"X-Atmosphere-Transport", "close", true, 0, F_TRANSPORT, "close"},
    {"X-Atmosphere-Transport", "comet", true, SAT_EINVAL, F_NONE, "X-Atmosphere-Transport"},
    {"X-Atmosphere-Transport", "", true, SAT_EINVAL, F_NONE, "X-Atmosphere-Transport"},
    {"X-Atmosphere-Transport", "long polling", true, SAT_EINVAL, F_NONE, "X-Atmosphere-Transport"},
    /* booleans */
    {"X-Atmosphere-TrackMessageSize", "true", true, 0, F_TRACK_MESSAGE_SIZE, "true"},
    {"x-atmosphere-trackmessagesize", "TRUE", true, 0, F_TRACK_MESSAGE_SIZE, "true"},
    {"X-Atmosphere-TrackMessageSize", "yes", true, 0, F_TRACK_MESSAGE_SIZE, "false"},
    {"X-Atmosphere-TrackMessageSize", "", true, 0, F_TRACK_MESSAGE_SIZE, "false"},
    {"X-atmo-protocol", "true", true, 0, F_PROTOCOL, "true"},
    {"X-ATMO-PROTOCOL", "True", false, 0, F_PROTOCOL, "true"},
    {"X-atmo-protocol", "1", true, 0, F_PROTOCOL, "false"},
    {"X-Atmosphere-Binary", "true", true, 0, F_BINARY, "true"},
    {"x-atmosphere-binary", "false", true, 0, F_BINARY, "false"},
    {"X-Atmosphere-Binary", "truee", true, 0, F_BINARY, "false"},
    /* heartbeat */
    {"X-Heartbeat-Server", "0", true, 0, F_HEARTBEAT, "0"},
    {"x-heartbeat-server", "60", true, 0, F_HEARTBEAT, "60"},
    {"X-Heartbeat-Server", "86400", false, 0, F_HEARTBEAT, "86400"},
    {"X-Heartbeat-Server", "86401", true, SAT_EINVAL, F_NONE, "X-Heartbeat-Server"},
    {"X-Heartbeat-Server", "99999999999999999999", true, SAT_EINVAL, F_NONE, "X-Heartbeat-Server"},
    {"X-Heartbeat-Server", "-1", true, SAT_EINVAL, F_NONE, "X-Heartbeat-Server"},
    {"X-Heartbeat-Server", "", true, SAT_EINVAL, F_NONE, "X-Heartbeat-Server"},
    {"X-Heartbeat-Server", "6x", true, SAT_EINVAL, F_NONE, "X-Heartbeat-Server"},
    {"X-Heartbeat-Server", " 60", true, SAT_EINVAL, F_NONE, "X-Heartbeat-Server"},
    /* content type */
    {"Content-Type", "application%2Fjson%3B%20charset%3DUTF-8", true, 0, F_CONTENT_TYPE,
     "application/json; charset=UTF-8"},
    {"content-type", "text/plain", false, 0, F_CONTENT_TYPE, "text/plain"},
    {"CONTENT-TYPE", "text/plain+x", true, 0, F_CONTENT_TYPE, "text/plain x"},
    {"Content-Type", "text/plain%0D%0ASet-Cookie: a", true, SAT_EINVAL, F_NONE,
     "control character"},
    /* JSONP callback */
    {"jsonpTransport", "atmosphere1", true, 0, F_JSONP, "atmosphere1"},
    {"JSONPTRANSPORT", "atmo.sphere_2();alert(1)", true, 0, F_JSONP, "atmosphere2alert1"},
    {"jsonptransport", LONG65, true, 0, F_JSONP, LONG64},
    {"jsonpTransport", "();", true, SAT_EINVAL, F_NONE, "jsonpTransport"},
    {"jsonpTransport", "", true, SAT_EINVAL, F_NONE, "jsonpTransport"},
    /* post body */
    {"X-Atmosphere-Post-Body", "hello+world%21", true, 0, F_POST_BODY, "hello world!"},
    {"x-atmosphere-post-body", "a+b", false, 0, F_POST_BODY, "a+b"},
    {"X-Atmosphere-Post-Body", "", true, 0, F_POST_BODY, ""},
    {"X-Atmosphere-Post-Body", "%zz", true, SAT_EINVAL, F_NONE, "X-Atmosphere-Post-Body"},
    /* names the protocol does not define */
    {"_", "1700000000000", true, 0, F_NONE, "|undefined|-1|0"},
    {"X-Atmosphere-tracking", "x", true, 0, F_NONE, "|undefined|-1|0"},
    {"X-Atmosphere-tracking-id-extra", "x", true, 0, F_NONE, "|undefined|-1|0"},
    {"", "x", true, 0, F_NONE, "|undefined|-1|0"},
};

static void atmo_param_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(param_cases); i++) {
        sat_atmo_params p;
        char err[160] = "";
        char got[160];
        int rc;

        sat__atmo_params_init(&p);
        rc = sat__atmo_param(&p, param_cases[i].name, strlen(param_cases[i].name),
                             param_cases[i].value, strlen(param_cases[i].value),
                             param_cases[i].from_query, err, sizeof(err));
        print_message("case %zu: %s=%s -> %d %s\n", i, param_cases[i].name, param_cases[i].value,
                      rc, err);
        assert_int_equal(rc, param_cases[i].rc);
        if (rc == 0) {
            render_field(&p, param_cases[i].field, got, sizeof(got));
            assert_string_equal(got, param_cases[i].expect);
        } else {
            assert_non_null(strstr(err, param_cases[i].expect));
        }
        sat__atmo_params_clear(&p);
    }
}

static void atmo_params_defaults(void **state)
{
    sat_atmo_params p;

    (void)state;
    sat__atmo_params_init(&p);
    assert_int_equal(p.transport, SAT_TRANSPORT_UNDEFINED);
    assert_string_equal(p.tracking_id, "");
    assert_int_equal(p.heartbeat_server_s, -1);
    assert_null(p.post_body);
    assert_false(p.track_message_size);
    sat__atmo_params_clear(&p);
}

static void atmo_param_post_body_replaced(void **state)
{
    sat_atmo_params p;

    (void)state;
    sat__atmo_params_init(&p);
    assert_int_equal(sat__atmo_param(&p, "X-Atmosphere-Post-Body", 22, "one", 3, true, NULL, 0), 0);
    assert_int_equal(sat__atmo_param(&p, "X-Atmosphere-Post-Body", 22, "two", 3, true, NULL, 0), 0);
    assert_string_equal(p.post_body, "two");
    sat__atmo_params_clear(&p);
    assert_null(p.post_body);
}

static void atmo_param_error_keeps_value(void **state)
{
    sat_atmo_params p;

    (void)state;
    sat__atmo_params_init(&p);
    assert_int_equal(sat__atmo_param(&p, "X-Atmosphere-tracking-id", 24, "abc", 3, true, NULL, 0),
                     0);
    assert_int_equal(sat__atmo_param(&p, "jsonpTransport", 14, "cb1", 3, true, NULL, 0), 0);
    assert_int_equal(sat__atmo_param(&p, "X-Heartbeat-Server", 18, "30", 2, true, NULL, 0), 0);
    assert_int_equal(sat__atmo_param(&p, "X-Atmosphere-Transport", 22, "sse", 3, true, NULL, 0), 0);

    assert_int_equal(sat__atmo_param(&p, "X-Atmosphere-tracking-id", 24, "a b", 3, true, NULL, 0),
                     SAT_EINVAL);
    assert_int_equal(sat__atmo_param(&p, "jsonpTransport", 14, "();", 3, true, NULL, 0),
                     SAT_EINVAL);
    assert_int_equal(sat__atmo_param(&p, "X-Heartbeat-Server", 18, "-5", 2, true, NULL, 0),
                     SAT_EINVAL);
    assert_int_equal(sat__atmo_param(&p, "X-Atmosphere-Transport", 22, "foo", 3, true, NULL, 0),
                     SAT_EINVAL);

    assert_string_equal(p.tracking_id, "abc");
    assert_string_equal(p.jsonp_callback, "cb1");
    assert_int_equal(p.heartbeat_server_s, 30);
    assert_int_equal(p.transport, SAT_TRANSPORT_SSE);
    sat__atmo_params_clear(&p);
}

static int apply_query_param(void *userdata, const char *name, size_t name_len, const char *value,
                             size_t value_len)
{
    return sat__atmo_param(userdata, name, name_len, value, value_len, true, NULL, 0);
}

static void atmo_params_from_client_query(void **state)
{
    /* The query of an atmosphere.js 4.0.1 long-polling subscribe. */
    static const char query[] =
        "X-Atmosphere-tracking-id=0&X-Atmosphere-Framework=4.0.1&X-Atmosphere-Transport="
        "long-polling&X-Atmosphere-TrackMessageSize=true&Content-Type=application%2Fjson"
        "&X-atmo-protocol=true&_=1700000000000";
    sat_atmo_params p;

    (void)state;
    sat__atmo_params_init(&p);
    assert_int_equal(sat__query_each(query, sizeof(query) - 1, apply_query_param, &p), 0);
    assert_string_equal(p.tracking_id, "0");
    assert_string_equal(p.framework, "4.0.1");
    assert_int_equal(p.transport, SAT_TRANSPORT_LONG_POLLING);
    assert_true(p.track_message_size);
    assert_true(p.protocol);
    assert_string_equal(p.content_type, "application/json");
    sat__atmo_params_clear(&p);
}

/* ---- transports and versions ------------------------------------------- */

static const struct {
    const char *name;
    sat_transport t;
} transport_cases[] = {
    {"websocket", SAT_TRANSPORT_WEBSOCKET},
    {"WEBSOCKET", SAT_TRANSPORT_WEBSOCKET},
    {"sse", SAT_TRANSPORT_SSE},
    {"long-polling", SAT_TRANSPORT_LONG_POLLING},
    {"Long_Polling", SAT_TRANSPORT_LONG_POLLING},
    {"streaming", SAT_TRANSPORT_STREAMING},
    {"jsonp", SAT_TRANSPORT_JSONP},
    {"polling", SAT_TRANSPORT_POLLING},
    {"close", SAT_TRANSPORT_CLOSE},
    {"", SAT_TRANSPORT_UNDEFINED},
    {"undefined", SAT_TRANSPORT_UNDEFINED},
    {"longpolling", SAT_TRANSPORT_UNDEFINED},
    {"web_socket", SAT_TRANSPORT_UNDEFINED},
    {"sse ", SAT_TRANSPORT_UNDEFINED},
};

static void transport_parse_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(transport_cases); i++) {
        const char *name = transport_cases[i].name;

        assert_int_equal(sat__transport_parse(name, strlen(name)), transport_cases[i].t);
    }
}

static void transport_names(void **state)
{
    static const char *const names[SAT_TRANSPORT_COUNT] = {
        "undefined", "websocket", "sse", "long-polling", "streaming", "jsonp", "polling", "close",
    };

    (void)state;
    for (int t = 0; t < SAT_TRANSPORT_COUNT; t++)
        assert_string_equal(sat_transport_name((sat_transport)t), names[t]);
    assert_string_equal(sat_transport_name(SAT_TRANSPORT_COUNT), "undefined");
}

static const struct {
    const char *framework;
    int version;
} version_cases[] = {
    {"4.0.1", 401},
    {"2.3.8-javascript", 238},
    {"3.1.3-javascript", 313},
    {"5.0.7", 507},
    {"3.1.3", 313},
    {"2.2.1", 221},
    {"10.0.12", 10012},
    {"4.0.1.2", 401},
    {"4.0.1-", 401},
    {"", 0},
    {"4", 0},
    {"4.0", 0},
    {"4.0.", 0},
    {"4..1", 0},
    {"a.b.c", 0},
    {"4.0.1beta", 0},
    {"-4.0.1", 0},
    {"4.0-1.2", 0},
    {"99999.99999.99999", 0},
};

static void atmo_version_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(version_cases); i++) {
        print_message("version %s\n", version_cases[i].framework);
        assert_int_equal(sat__atmo_version(version_cases[i].framework), version_cases[i].version);
    }
    assert_int_equal(sat__atmo_version(NULL), 0);
}

/* ---- UTF-8 and UTF-16 lengths ------------------------------------------ */

static const struct {
    const char *what;
    const char *s;
    size_t len;
    size_t units;
    bool valid;
} utf16_cases[] = {
    {"empty", "", 0, 0, true},
    {"ascii", "hello", 5, 5, true},
    {"e acute", "\xc3\xa9", 2, 1, true},
    {"nihon", "\xe6\x97\xa5\xe6\x9c\xac", 6, 2, true},
    {"emoji", "\xf0\x9f\x98\x80", 4, 2, true},
    {"a emoji b",
     "a\xf0\x9f\x98\x80"
     "b",
     6, 4, true},
    {"max code point", "\xf4\x8f\xbf\xbf", 4, 2, true},
    {"U+FFFF", "\xef\xbf\xbf", 3, 1, true},
    {"NUL byte", "a\0b", 3, 3, true},
    {"overlong slash", "\xc0\xaf", 2, 2, false},
    {"overlong 3-byte", "\xe0\x80\xaf", 3, 3, false},
    {"overlong 4-byte", "\xf0\x80\x80\xaf", 4, 4, false},
    {"high surrogate", "\xed\xa0\x80", 3, 3, false},
    {"low surrogate", "\xed\xbf\xbf", 3, 3, false},
    {"truncated 2-byte", "\xc3", 1, 1, false},
    {"truncated 3-byte", "a\xe6\x97", 3, 3, false},
    {"truncated 4-byte", "\xf0\x9f\x98", 3, 3, false},
    {"above U+10FFFF", "\xf4\x90\x80\x80", 4, 4, false},
    {"F5 lead", "\xf5\x80\x80\x80", 4, 4, false},
    {"lone continuation", "\x80", 1, 1, false},
    {"FF byte", "\xff", 1, 1, false},
    {"bad continuation", "\xe6\x41\xa5", 3, 3, false},
};

static void utf16_length_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(utf16_cases); i++) {
        bool valid = !utf16_cases[i].valid;
        size_t units = sat__utf16_length(utf16_cases[i].s, utf16_cases[i].len, &valid);

        print_message("utf16 case %s\n", utf16_cases[i].what);
        assert_int_equal(units, utf16_cases[i].units);
        assert_int_equal(valid, utf16_cases[i].valid);
        assert_int_equal(sat__utf8_valid(utf16_cases[i].s, utf16_cases[i].len),
                         utf16_cases[i].valid);
    }
}

static void utf16_length_400_cjk(void **state)
{
    char buf[1200];
    bool valid = false;

    (void)state;
    for (int i = 0; i < 400; i++)
        memcpy(buf + 3 * i, "\xe6\x97\xa5", 3);
    assert_int_equal(sat__utf16_length(buf, sizeof(buf), &valid), 400);
    assert_true(valid);
}

/* ---- wire formats ------------------------------------------------------ */

#define S(lit) lit, sizeof(lit) - 1

static const struct {
    const char *what;
    sat_wire wire;
    const char *payload;
    size_t len;
    bool binary;
    const char *expect;
    size_t expect_len;
} frame_cases[] = {
    {"raw", SAT_WIRE_RAW, S("hello"), false, S("hello")},
    {"raw empty", SAT_WIRE_RAW, S(""), false, S("")},
    {"track ascii", SAT_WIRE_TRACK, S("hello"), false, S("5|hello")},
    {"track emoji", SAT_WIRE_TRACK,
     S("a\xf0\x9f\x98\x80"
       "b"),
     false,
     S("4|a\xf0\x9f\x98\x80"
       "b")},
    {"track nihon", SAT_WIRE_TRACK, S("\xe6\x97\xa5\xe6\x9c\xac"), false,
     S("2|\xe6\x97\xa5\xe6\x9c\xac")},
    {"track pipe X", SAT_WIRE_TRACK, S("a|X"), false, S("3|a|X")},
    {"track heartbeat", SAT_WIRE_TRACK, S("X"), false, S("1|X")},
    {"track empty", SAT_WIRE_TRACK, S(""), false, S("")},
    {"track binary", SAT_WIRE_TRACK, S("hello"), true, S("hello")},
    {"track invalid", SAT_WIRE_TRACK, S("a\xffz"), false, S("a\xffz")},
    {"sse", SAT_WIRE_SSE_RAW, S("hello"), false, S("data:hello\r\n\r\n")},
    {"sse empty", SAT_WIRE_SSE_RAW, S(""), false, S("data:\r\n\r\n")},
    {"sse LF", SAT_WIRE_SSE_RAW, S("a\nb"), false, S("data:a\r\ndata:b\r\n\r\n")},
    {"sse CR", SAT_WIRE_SSE_RAW, S("a\rb"), false, S("data:a\r\ndata:b\r\n\r\n")},
    {"sse CRLF", SAT_WIRE_SSE_RAW, S("a\r\nb"), false, S("data:a\r\ndata:b\r\n\r\n")},
    {"sse LFCR", SAT_WIRE_SSE_RAW, S("a\n\rb"), false, S("data:a\r\ndata:\r\ndata:b\r\n\r\n")},
    {"sse trailing LF", SAT_WIRE_SSE_RAW, S("a\n"), false, S("data:a\r\ndata:\r\n\r\n")},
    {"sse track", SAT_WIRE_SSE_TRACK, S("hello"), false, S("data:5|hello\r\n\r\n")},
    {"sse track CRLF", SAT_WIRE_SSE_TRACK, S("a\r\nb"), false, S("data:4|a\r\ndata:b\r\n\r\n")},
    {"sse track empty", SAT_WIRE_SSE_TRACK, S(""), false, S("data:\r\n\r\n")},
    {"ws", SAT_WIRE_WS_RAW, S("hello"), false, S("\x81\x05hello")},
    {"ws empty", SAT_WIRE_WS_RAW, S(""), false, S("\x81\x00")},
    {"ws binary", SAT_WIRE_WS_RAW, S("\x01\x02"), true, S("\x82\x02\x01\x02")},
    {"ws invalid utf8", SAT_WIRE_WS_RAW, S("\xff"), false, S("\x82\x01\xff")},
    {"ws track", SAT_WIRE_WS_TRACK, S("hello"), false,
     S("\x81\x07"
       "5|hello")},
    {"ws track binary", SAT_WIRE_WS_TRACK, S("hi"), true, S("\x82\x02hi")},
};

static void frame_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(frame_cases); i++) {
        sat_buf *b = sat__frame(frame_cases[i].wire, frame_cases[i].payload, frame_cases[i].len,
                                frame_cases[i].binary);

        print_message("frame case %s\n", frame_cases[i].what);
        assert_non_null(b);
        assert_int_equal(b->len, frame_cases[i].expect_len);
        assert_memory_equal(b->data, frame_cases[i].expect, frame_cases[i].expect_len);
        assert_int_equal(atomic_load(&b->refs), 1);
        sat__buf_unref(b);
    }
}

static const struct {
    uint64_t len;
    size_t header_len;
    uint8_t header[10];
} ws_header_cases[] = {
    {0, 2, {0x81, 0}},
    {125, 2, {0x81, 125}},
    {126, 4, {0x81, 126, 0x00, 0x7e}},
    {65535, 4, {0x81, 126, 0xff, 0xff}},
    {65536, 10, {0x81, 127, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}},
    {0x0102030405060708ull, 10, {0x81, 127, 1, 2, 3, 4, 5, 6, 7, 8}},
};

static void ws_header_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(ws_header_cases); i++) {
        uint8_t out[10];
        size_t n = sat__ws_header(out, 1, ws_header_cases[i].len);

        assert_int_equal(n, ws_header_cases[i].header_len);
        assert_memory_equal(out, ws_header_cases[i].header, n);
    }
}

static void ws_frame_sizes(void **state)
{
    static const size_t sizes[] = {125, 126, 65535, 65536};
    static const size_t header_sizes[] = {2, 4, 4, 10};
    char *payload = malloc(65536);

    (void)state;
    assert_non_null(payload);
    memset(payload, 'z', 65536);
    for (size_t i = 0; i < COUNT(sizes); i++) {
        sat_buf *b = sat__frame(SAT_WIRE_WS_RAW, payload, sizes[i], false);
        uint8_t header[10];
        size_t header_len = sat__ws_header(header, 1, sizes[i]);

        assert_non_null(b);
        assert_int_equal(header_len, header_sizes[i]);
        assert_int_equal(b->len, header_len + sizes[i]);
        assert_memory_equal(b->data, header, header_len);
        assert_memory_equal(b->data + header_len, payload, sizes[i]);
        sat__buf_unref(b);
    }
    free(payload);
}

/* ---- JSONP ------------------------------------------------------------- */

static const struct {
    const char *what;
    const char *callback;
    const char *payload;
    size_t len;
    bool track;
    const char *expect;
} jsonp_cases[] = {
    {"plain", "atmosphere1", S("hello"), false, "atmosphere1({\"message\" : \"hello\"});"},
    {"tracked", "cb", S("hello"), true, "cb({\"message\" : \"5|hello\"});"},
    {"empty tracked", "cb", S(""), true, "cb({\"message\" : \"\"});"},
    {"quotes", "cb", S("\"'\\/"), false, "cb({\"message\" : \"\\\"\\'\\\\\\/\"});"},
    {"letter escapes", "cb", S("\b\n\t\f\r"), false, "cb({\"message\" : \"\\b\\n\\t\\f\\r\"});"},
    {"controls", "cb", S("\x01\x1f\x7f"), false, "cb({\"message\" : \"\\u0001\\u001F\\u007F\"});"},
    {"NUL", "cb", S("a\0b"), false, "cb({\"message\" : \"a\\u0000b\"});"},
    {"e acute", "cb", S("\xc3\xa9"), false, "cb({\"message\" : \"\\u00E9\"});"},
    {"nihon", "cb", S("\xe6\x97\xa5"), false, "cb({\"message\" : \"\\u65E5\"});"},
    {"emoji pair", "cb", S("\xf0\x9f\x98\x80"), false, "cb({\"message\" : \"\\uD83D\\uDE00\"});"},
    {"emoji tracked", "cb", S("\xf0\x9f\x98\x80"), true,
     "cb({\"message\" : \"2|\\uD83D\\uDE00\"});"},
    {"invalid bytes", "cb", S("a\xff\xc3z"), false, "cb({\"message\" : \"a\\uFFFD\\uFFFDz\"});"},
    {"invalid tracked", "cb", S("\xff"), true, "cb({\"message\" : \"\\uFFFD\"});"},
    {"script end", "cb", S("</script>"), false, "cb({\"message\" : \"<\\/script>\"});"},
    {"callback filtered", "a.b(c)", S("x"), false, "abc({\"message\" : \"x\"});"},
};

static void jsonp_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(jsonp_cases); i++) {
        sat_buf *b = sat__frame_jsonp(jsonp_cases[i].callback, jsonp_cases[i].payload,
                                      jsonp_cases[i].len, jsonp_cases[i].track);
        size_t expect_len = strlen(jsonp_cases[i].expect);

        print_message("jsonp case %s\n", jsonp_cases[i].what);
        assert_non_null(b);
        assert_int_equal(b->len, expect_len);
        assert_memory_equal(b->data, jsonp_cases[i].expect, expect_len);
        sat__buf_unref(b);
    }
}

/* ---- handshake, UUIDs, tracking ids ------------------------------------ */

static void handshake_body_default(void **state)
{
    char out[64];
    const char *uuid = "6f1c2a9e-1b2c-4d5e-8f90-0123456789ab";

    (void)state;
    assert_int_equal(sat__handshake_body(out, sizeof(out), uuid, 0, "X", '|'), 41);
    assert_string_equal(out, "6f1c2a9e-1b2c-4d5e-8f90-0123456789ab|0|X|");
}

static void handshake_body_custom(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(sat__handshake_body(out, sizeof(out), "u", 30000, "", '#'), 9);
    assert_string_equal(out, "u#30000##");
}

static void handshake_body_too_small(void **state)
{
    char out[9];

    (void)state;
    /* "abc|0|X|" is 8 bytes and needs 9 with its NUL. */
    assert_int_equal(sat__handshake_body(out, 8, "abc", 0, "X", '|'), -1);
    assert_int_equal(sat__handshake_body(out, 9, "abc", 0, "X", '|'), 8);
    assert_string_equal(out, "abc|0|X|");
}

static void uuid4_format(void **state)
{
    char a[37], b[37];

    (void)state;
    assert_int_equal(sat__uuid4_checked(a), 0);
    sat__uuid4(b);
    assert_int_equal(strlen(a), 36);
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;

        if (dash)
            assert_int_equal(a[i], '-');
        else
            assert_non_null(strchr("0123456789abcdef", a[i]));
    }
    assert_int_equal(a[14], '4');
    assert_non_null(strchr("89ab", a[19]));
    assert_string_not_equal(a, b);
    assert_true(sat__tracking_id_valid(a, 36));
}

static const struct {
    const char *id;
    bool valid;
} tracking_cases[] = {
    {"0", true},    {"abc-DEF_1.2", true}, {LONG64, true},      {LONG65, false}, {"", false},
    {"a b", false}, {"a/b", false},        {"\xc3\xa9", false}, {"a\nb", false}, {"a%20b", false},
};

static void tracking_id_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(tracking_cases); i++) {
        const char *id = tracking_cases[i].id;

        assert_int_equal(sat__tracking_id_valid(id, strlen(id)), tracking_cases[i].valid);
    }
    assert_false(sat__tracking_id_valid(NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(query_each_table),
        cmocka_unit_test(query_each_stops_on_callback),
        cmocka_unit_test(pct_decode_table),
        cmocka_unit_test(atmo_param_table),
        cmocka_unit_test(atmo_params_defaults),
        cmocka_unit_test(atmo_param_post_body_replaced),
        cmocka_unit_test(atmo_param_error_keeps_value),
        cmocka_unit_test(atmo_params_from_client_query),
        cmocka_unit_test(transport_parse_table),
        cmocka_unit_test(transport_names),
        cmocka_unit_test(atmo_version_table),
        cmocka_unit_test(utf16_length_table),
        cmocka_unit_test(utf16_length_400_cjk),
        cmocka_unit_test(frame_table),
        cmocka_unit_test(ws_header_table),
        cmocka_unit_test(ws_frame_sizes),
        cmocka_unit_test(jsonp_table),
        cmocka_unit_test(handshake_body_default),
        cmocka_unit_test(handshake_body_custom),
        cmocka_unit_test(handshake_body_too_small),
        cmocka_unit_test(uuid4_format),
        cmocka_unit_test(tracking_id_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
