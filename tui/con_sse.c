/* SPDX-License-Identifier: Apache-2.0 */
/* Incremental text/event-stream parser: splits lines on CR, LF or CRLF,
 * collects fields and dispatches an event on each blank line. */
#include "con_sse.h"

#include <string.h>

void con_sse_init(con_sse *p, con_sse_fn fn, void *userdata)
{
    memset(p, 0, sizeof(*p));
    p->fn = fn;
    p->userdata = userdata;
}

static void dispatch(con_sse *p)
{
    if (p->has_data && !p->event_too_long && p->fn)
        p->fn(p->userdata, p->id, p->event[0] ? p->event : "message", p->data);
    p->data_len = 0;
    p->data[0] = '\0';
    p->has_data = false;
    p->event_too_long = false;
    p->event[0] = '\0';
}

static void append_data(con_sse *p, const char *value, size_t len)
{
    size_t sep = p->has_data ? 1 : 0;

    if (p->data_len + sep + len >= sizeof(p->data)) {
        p->event_too_long = true;
        return;
    }
    if (sep)
        p->data[p->data_len++] = '\n';
    memcpy(p->data + p->data_len, value, len);
    p->data_len += len;
    p->data[p->data_len] = '\0';
    p->has_data = true;
}

/* Copies src into dst, cut to fit. */
static void copy_field(char *dst, size_t size, const char *src, size_t len)
{
    if (len >= size)
        len = size - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static void handle_line(con_sse *p)
{
    char *line = p->line, *value;
    size_t vlen;

    line[p->line_len] = '\0';
    if (p->line_too_long) {
        p->event_too_long = true;
        return;
    }
    if (p->line_len == 0) {
        dispatch(p);
        return;
    }
    if (line[0] == ':')
        return;
    value = strchr(line, ':');
    if (value) {
        *value++ = '\0';
        if (*value == ' ')
            value++;
    } else {
        value = line + p->line_len;
    }
    vlen = strlen(value);
    if (strcmp(line, "data") == 0)
        append_data(p, value, vlen);
    else if (strcmp(line, "event") == 0)
        copy_field(p->event, sizeof(p->event), value, vlen);
    else if (strcmp(line, "id") == 0)
        copy_field(p->id, sizeof(p->id), value, vlen);
}

void con_sse_feed(con_sse *p, const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];

        if (c == '\n' && p->after_cr) {
            p->after_cr = false;
            continue;
        }
        p->after_cr = c == '\r';
        if (c == '\r' || c == '\n') {
            handle_line(p);
            p->line_len = 0;
            p->line_too_long = false;
            continue;
        }
        if (p->line_len + 1 >= sizeof(p->line))
            p->line_too_long = true;
        else
            p->line[p->line_len++] = c;
    }
}
