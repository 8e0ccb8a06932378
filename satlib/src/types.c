/* SPDX-License-Identifier: Apache-2.0 */
/* Text forms of the small shared value types: message ids ("<ms>-<seq>")
 * and transport names. */
#include "satellite/error.h"
#include "satellite/types.h"

#include <inttypes.h>
#include <stdio.h>

static const char *const transport_names[SAT_TRANSPORT_COUNT] = {
    [SAT_TRANSPORT_UNDEFINED] = "undefined",
    [SAT_TRANSPORT_WEBSOCKET] = "websocket",
    [SAT_TRANSPORT_SSE] = "sse",
    [SAT_TRANSPORT_LONG_POLLING] = "long-polling",
    [SAT_TRANSPORT_STREAMING] = "streaming",
    [SAT_TRANSPORT_JSONP] = "jsonp",
    [SAT_TRANSPORT_POLLING] = "polling",
    [SAT_TRANSPORT_CLOSE] = "close",
};

/* Parses a run of decimal digits ending at `end_char`. Rejects signs,
 * spaces, empty runs and values above UINT64_MAX. */
static const char *parse_u64(const char *p, char end_char, uint64_t *out)
{
    uint64_t v = 0;
    const char *start = p;

    for (; *p >= '0' && *p <= '9'; p++) {
        uint64_t digit = (uint64_t)(*p - '0');

        if (v > (UINT64_MAX - digit) / 10)
            return NULL;
        v = v * 10 + digit;
    }
    if (p == start || *p != end_char)
        return NULL;
    *out = v;
    return p;
}

char *sat_msgid_format(sat_msgid id, char *buf, size_t size)
{
    if (buf == NULL || size == 0)
        return buf;
    snprintf(buf, size, "%" PRIu64 "-%" PRIu64, id.ms, id.seq);
    return buf;
}

int sat_msgid_parse(const char *text, sat_msgid *out)
{
    sat_msgid id;
    const char *p;

    if (text == NULL || out == NULL)
        return SAT_EINVAL;
    p = parse_u64(text, '-', &id.ms);
    if (p == NULL)
        return SAT_EINVAL;
    if (parse_u64(p + 1, '\0', &id.seq) == NULL)
        return SAT_EINVAL;
    *out = id;
    return SAT_OK;
}

const char *sat_transport_name(sat_transport t)
{
    if ((unsigned)t >= SAT_TRANSPORT_COUNT)
        return "undefined";
    return transport_names[t];
}
