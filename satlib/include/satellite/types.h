/* SPDX-License-Identifier: Apache-2.0 */
/* Small value types shared by several public headers. */
#ifndef SATELLITE_TYPES_H
#define SATELLITE_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Identifier of one broadcast message. Ids are opaque but totally ordered
 * within a broadcaster: compare them with sat_msgid_cmp(), never by
 * arithmetic. The local engine uses wall-clock milliseconds plus a sequence
 * number (the same shape as a Redis stream id), so ids stay meaningful when
 * a broadcaster's log moves into a shared store. {0, 0} means "before every
 * message". */
typedef struct sat_msgid {
    uint64_t ms;
    uint64_t seq;
} sat_msgid;

static inline int sat_msgid_cmp(sat_msgid a, sat_msgid b)
{
    if (a.ms != b.ms)
        return a.ms < b.ms ? -1 : 1;
    if (a.seq != b.seq)
        return a.seq < b.seq ? -1 : 1;
    return 0;
}

static inline bool sat_msgid_is_zero(sat_msgid id)
{
    return id.ms == 0 && id.seq == 0;
}

/* Formats an id as "<ms>-<seq>" into buf (at least 42 bytes). Returns buf. */
char *sat_msgid_format(sat_msgid id, char *buf, size_t size);

/* Parses "<ms>-<seq>". Returns 0, or SAT_EINVAL for anything else. */
int sat_msgid_parse(const char *text, sat_msgid *out);

/* Transports a resource can use, as the Atmosphere protocol names them. */
typedef enum sat_transport {
    SAT_TRANSPORT_UNDEFINED = 0,
    SAT_TRANSPORT_WEBSOCKET,
    SAT_TRANSPORT_SSE,
    SAT_TRANSPORT_LONG_POLLING,
    SAT_TRANSPORT_STREAMING,
    SAT_TRANSPORT_JSONP,
    SAT_TRANSPORT_POLLING,
    SAT_TRANSPORT_CLOSE,
    SAT_TRANSPORT_COUNT
} sat_transport;

/* Returns the wire name ("websocket", "long-polling", ...). */
const char *sat_transport_name(sat_transport t);

#ifdef __cplusplus
}
#endif
#endif
