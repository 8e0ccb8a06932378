/* SPDX-License-Identifier: Apache-2.0 */
/* Broadcast messages: one immutable, reference-counted payload shared by the
 * cache, every worker queue and every pending socket write. Framed copies
 * (one per wire format) hang off the message and are built at most once. */
#ifndef SAT_MSG_H
#define SAT_MSG_H

#include "satellite/types.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Wire formats a payload can be framed into. JSONP is absent because its
 * framing depends on each client's callback name. */
typedef enum sat_wire {
    SAT_WIRE_RAW = 0,     /* streaming and long-polling, no length prefix */
    SAT_WIRE_TRACK,       /* "<utf16 length>|payload" */
    SAT_WIRE_SSE_RAW,     /* "data:payload\r\n\r\n" */
    SAT_WIRE_SSE_TRACK,   /* "data:<len>|payload\r\n\r\n" */
    SAT_WIRE_WS_RAW,      /* one unmasked WebSocket text frame */
    SAT_WIRE_WS_TRACK,    /* the same around "<len>|payload" */
    SAT_WIRE_COUNT
} sat_wire;

/* A shared immutable byte buffer. */
typedef struct sat_buf {
    atomic_uint refs;
    size_t len;
    char data[];
} sat_buf;

sat_buf *sat__buf_new(const void *data, size_t len);
sat_buf *sat__buf_alloc(size_t len); /* refs = 1, contents uninitialised */
sat_buf *sat__buf_ref(sat_buf *b);
void sat__buf_unref(sat_buf *b); /* accepts NULL */

typedef struct sat_msg {
    atomic_uint refs;
    sat_msgid id;
    uint64_t created_ms;    /* wall clock, for cache age limits */
    uint32_t flags;         /* SAT_MSG_* */
    _Atomic(sat_buf *) framed[SAT_WIRE_COUNT];
    size_t len;
    char data[]; /* payload, unframed; a NUL follows data[len] */
} sat_msg;

enum {
    SAT_MSG_BINARY = 1u << 0,   /* not UTF-8 text; never length-framed */
    SAT_MSG_HEARTBEAT = 1u << 1, /* never cached */
};

/* Creates a message with refs = 1 and a copy of the payload. */
sat_msg *sat__msg_new(const void *data, size_t len, uint32_t flags);
sat_msg *sat__msg_ref(sat_msg *m);
void sat__msg_unref(sat_msg *m); /* accepts NULL */

/* Returns the message framed for `wire`, building it on first use. The
 * result is borrowed from the message (take a ref to keep it past the
 * message's life). Thread-safe: concurrent callers may both build it, and
 * one copy wins. Returns NULL only when out of memory. */
sat_buf *sat__msg_framed(sat_msg *m, sat_wire wire);

#endif
