/* SPDX-License-Identifier: Apache-2.0 */
/* Incremental parser of a text/event-stream body (id:, event:, data:
 * fields, comments, blank-line dispatch). Pure: the HTTP side feeds it. */
#ifndef CON_SSE_H
#define CON_SSE_H

#include <stdbool.h>
#include <stddef.h>

#define CON_SSE_LINE_MAX  16384
#define CON_SSE_FIELD_MAX 128

/* Called once per dispatched event. id is the last id seen on the stream
 * ("" when none), event the event type ("message" when none), data the
 * data lines joined with '\n'. All are borrowed for the call. */
typedef void (*con_sse_fn)(void *userdata, const char *id, const char *event, const char *data);

typedef struct con_sse {
    con_sse_fn fn;
    void *userdata;
    char line[CON_SSE_LINE_MAX]; /* the line being read */
    size_t line_len;
    bool line_too_long; /* the current line passed CON_SSE_LINE_MAX */
    bool after_cr;      /* a '\n' right after '\r' ends nothing */
    char id[CON_SSE_FIELD_MAX];
    char event[CON_SSE_FIELD_MAX];
    char data[CON_SSE_LINE_MAX];
    size_t data_len;
    bool has_data;
    bool event_too_long; /* a line of this event was cut, so drop it */
} con_sse;

void con_sse_init(con_sse *p, con_sse_fn fn, void *userdata);

/* Feeds len bytes of the stream. Events are dispatched as their blank line
 * arrives; partial lines wait for the next call. An event with a line over
 * CON_SSE_LINE_MAX bytes or data over CON_SSE_LINE_MAX bytes is dropped. */
void con_sse_feed(con_sse *p, const char *buf, size_t len);

#endif
