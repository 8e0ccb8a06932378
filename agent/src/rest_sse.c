/* SPDX-License-Identifier: Apache-2.0 */
/* GET /api/v1/events: registry events as Server-Sent Events. Each stream
 * runs on its own connection thread and waits on the server's condition
 * variable, which the registry listener broadcasts on every event. */
#include "rest_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 64

struct stream {
    rest_server *srv;
    uint64_t next_seq;
    char *buf; /* formatted text not yet handed to MHD */
    size_t len, pos;
};

void rest_sse_on_event(void *userdata, const sat_event *event)
{
    rest_server *srv = userdata;

    (void)event;
    pthread_mutex_lock(&srv->lock);
    srv->event_gen++;
    pthread_cond_broadcast(&srv->wake);
    pthread_mutex_unlock(&srv->lock);
}

/* Replaces the pending text with `text` (consumed). */
static void set_pending(struct stream *st, char *text)
{
    free(st->buf);
    st->buf = text;
    st->len = text ? strlen(text) : 0;
    st->pos = 0;
}

static char *format_event(const sat_event *ev)
{
    json_t *data = json_pack(
        "{s:I, s:I, s:s, s:s, s:s, s:o, s:s}", "seq", (json_int_t)ev->seq, "time_ms",
        (json_int_t)ev->time_ms, "kind", sat_event_kind_name(ev->kind), "type", ev->type, "id",
        ev->id ? ev->id : "", "detail", ev->detail ? json_string(ev->detail) : json_null(),
        "result", sat_errname(ev->result));
    char *json = data ? json_dumps(data, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    char *out = NULL;

    json_decref(data);
    if (json && asprintf(&out, "id: %llu\nevent: %s\ndata: %s\n\n", (unsigned long long)ev->seq,
                         sat_event_kind_name(ev->kind), json) < 0)
        out = NULL;
    free(json);
    return out;
}

/* Appends b to a (both may be NULL); consumes both. */
static char *concat(char *a, char *b)
{
    char *out = NULL;

    if (!a)
        return b;
    if (!b)
        return a;
    if (asprintf(&out, "%s%s", a, b) < 0)
        out = NULL;
    free(a);
    free(b);
    return out;
}

/* Formats the next batch of events into the pending text. Returns false
 * when there was nothing new. */
static bool fill_from_ring(struct stream *st)
{
    sat_event events[BATCH];
    uint64_t next, lost = 0;
    long n = sat_registry_events_since(st->srv->reg, st->next_seq, events, BATCH, &next, &lost);
    char *text = NULL;

    if (n < 0)
        return false;
    if (lost && asprintf(&text, "event: lost\ndata: {\"lost\":%llu,\"resume_seq\":%llu}\n\n",
                         (unsigned long long)lost, (unsigned long long)(st->next_seq + lost)) < 0)
        text = NULL;
    for (long i = 0; i < n; i++)
        text = concat(text, format_event(&events[i]));
    sat_events_clear(events, (size_t)n);
    st->next_seq = next;
    set_pending(st, text);
    return text != NULL;
}

static void deadline_after(struct timespec *ts, unsigned ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Waits for new events, a keep-alive deadline or server stop. Returns
 * false when the server stops. */
static bool wait_for_data(struct stream *st)
{
    rest_server *srv = st->srv;
    struct timespec deadline;
    bool stopping;
    int rc = 0;

    deadline_after(&deadline, srv->opt.sse_keepalive_ms);
    for (;;) {
        uint64_t gen;

        pthread_mutex_lock(&srv->lock);
        gen = srv->event_gen;
        pthread_mutex_unlock(&srv->lock);
        if (fill_from_ring(st))
            return true;

        pthread_mutex_lock(&srv->lock);
        while (!srv->stopping && srv->event_gen == gen && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&srv->wake, &srv->lock, &deadline);
        stopping = srv->stopping;
        pthread_mutex_unlock(&srv->lock);
        if (stopping)
            return false;
        if (rc == ETIMEDOUT) {
            set_pending(st, strdup(": keep-alive\n\n"));
            return true;
        }
    }
}

static ssize_t read_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *st = cls;
    size_t n;

    (void)pos;
    if (st->pos == st->len && !wait_for_data(st))
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (!st->buf)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    n = st->len - st->pos < max ? st->len - st->pos : max;
    memcpy(buf, st->buf + st->pos, n);
    st->pos += n;
    return (ssize_t)n;
}

static void free_stream(void *cls)
{
    struct stream *st = cls;

    free(st->buf);
    free(st);
}

struct MHD_Response *rest_sse_response(rest_server *srv, uint64_t since)
{
    struct stream *st = calloc(1, sizeof(*st));
    struct MHD_Response *resp;

    if (!st)
        return NULL;
    st->srv = srv;
    st->next_seq = since;
    /* A first comment makes the headers and a byte go out at once, so the
     * client sees the stream open before the first event. */
    set_pending(st, strdup(": stream open\n\n"));
    resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, read_stream, st, free_stream);
    if (!resp) {
        free_stream(st);
        return NULL;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    return resp;
}
