/* SPDX-License-Identifier: Apache-2.0 */
/* Registry change events: the bounded ring that the REST event stream
 * resumes from, and the listeners called after each event. */
#include "registry_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct listener {
    int id;
    sat_registry_listener_fn fn;
    void *userdata;
};

struct sat__events {
    pthread_mutex_t lock;
    sat_event *ring; /* slot of seq s is (s - 1) % capacity */
    size_t capacity;
    uint64_t next_seq;

    pthread_mutex_t listen_lock;
    pthread_cond_t listen_idle;
    struct listener listeners[SAT_REGISTRY_MAX_LISTENERS];
    size_t listener_count;
    int next_listener_id;
    unsigned calls_in_flight;
};

static const char *const kind_names[] = {"created", "destroyed", "changed", "invoked"};

const char *sat_event_kind_name(sat_event_kind kind)
{
    if ((unsigned)kind >= sizeof(kind_names) / sizeof(kind_names[0]))
        return "unknown";
    return kind_names[kind];
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

sat__events *sat__events_new(size_t capacity)
{
    sat__events *ev = calloc(1, sizeof(*ev));

    if (!ev)
        return NULL;
    ev->capacity = capacity ? capacity : SAT_REGISTRY_EVENT_RING_DEFAULT;
    ev->ring = calloc(ev->capacity, sizeof(*ev->ring));
    if (!ev->ring) {
        free(ev);
        return NULL;
    }
    ev->next_seq = 1;
    ev->next_listener_id = 1;
    pthread_mutex_init(&ev->lock, NULL);
    pthread_mutex_init(&ev->listen_lock, NULL);
    pthread_cond_init(&ev->listen_idle, NULL);
    return ev;
}

void sat__events_free(sat__events *ev)
{
    if (!ev)
        return;
    sat_events_clear(ev->ring, ev->capacity);
    free(ev->ring);
    pthread_mutex_destroy(&ev->lock);
    pthread_mutex_destroy(&ev->listen_lock);
    pthread_cond_destroy(&ev->listen_idle);
    free(ev);
}

void sat_events_clear(sat_event *events, size_t count)
{
    for (size_t i = 0; events && i < count; i++) {
        free(events[i].id);
        free(events[i].detail);
        events[i].id = NULL;
        events[i].detail = NULL;
    }
}

static void notify_listeners(sat__events *ev, const sat_event *event)
{
    struct listener copy[SAT_REGISTRY_MAX_LISTENERS];
    size_t n;

    pthread_mutex_lock(&ev->listen_lock);
    n = ev->listener_count;
    memcpy(copy, ev->listeners, n * sizeof(copy[0]));
    if (n)
        ev->calls_in_flight++;
    pthread_mutex_unlock(&ev->listen_lock);
    if (!n)
        return;

    for (size_t i = 0; i < n; i++)
        copy[i].fn(copy[i].userdata, event);

    pthread_mutex_lock(&ev->listen_lock);
    if (--ev->calls_in_flight == 0)
        pthread_cond_broadcast(&ev->listen_idle);
    pthread_mutex_unlock(&ev->listen_lock);
}

void sat__events_emit(sat__events *ev, sat_event_kind kind, const char *type, const char *id,
                      const char *detail, int result)
{
    sat_event event = {.time_ms = now_ms(), .kind = kind, .type = type, .result = result};
    sat_event *slot;

    /* A ring entry whose strings could not be copied is kept with NULL
     * strings rather than dropped, so seq numbers stay gapless. */
    pthread_mutex_lock(&ev->lock);
    event.seq = ev->next_seq++;
    slot = &ev->ring[(event.seq - 1) % ev->capacity];
    sat_events_clear(slot, 1);
    *slot = event;
    slot->id = strdup(id ? id : "");
    slot->detail = detail ? strdup(detail) : NULL;
    pthread_mutex_unlock(&ev->lock);

    event.id = (char *)(uintptr_t)(id ? id : "");
    event.detail = (char *)(uintptr_t)detail;
    notify_listeners(ev, &event);
}

static int copy_event(sat_event *dst, const sat_event *src)
{
    *dst = *src;
    dst->id = strdup(src->id ? src->id : "");
    dst->detail = src->detail ? strdup(src->detail) : NULL;
    if (!dst->id || (src->detail && !dst->detail)) {
        sat_events_clear(dst, 1);
        return SAT_ENOMEM;
    }
    return SAT_OK;
}

long sat_registry_events_since(sat_registry *reg, uint64_t since, sat_event *out, size_t max,
                               uint64_t *next_seq, uint64_t *lost)
{
    sat__events *ev = sat__registry_events(reg);
    uint64_t oldest, seq;
    size_t n = 0;
    long rc;

    pthread_mutex_lock(&ev->lock);
    oldest = ev->next_seq > ev->capacity ? ev->next_seq - ev->capacity : 1;
    if (since == 0)
        since = 1;
    /* A seq from the future (e.g. a client resuming across a restart) is
     * treated as "from now on". */
    if (since > ev->next_seq)
        since = ev->next_seq;
    *lost = since < oldest ? oldest - since : 0;
    for (seq = since < oldest ? oldest : since; seq < ev->next_seq && n < max; seq++, n++) {
        if (copy_event(&out[n], &ev->ring[(seq - 1) % ev->capacity]) != SAT_OK) {
            sat_events_clear(out, n);
            n = 0;
            rc = SAT_ENOMEM;
            goto out;
        }
    }
    rc = (long)n;
out:
    *next_seq = rc < 0 ? since : seq;
    pthread_mutex_unlock(&ev->lock);
    return rc;
}

uint64_t sat_registry_next_seq(sat_registry *reg)
{
    sat__events *ev = sat__registry_events(reg);
    uint64_t seq;

    pthread_mutex_lock(&ev->lock);
    seq = ev->next_seq;
    pthread_mutex_unlock(&ev->lock);
    return seq;
}

int sat_registry_add_listener(sat_registry *reg, sat_registry_listener_fn fn, void *userdata,
                              int *out_id)
{
    sat__events *ev = sat__registry_events(reg);
    int rc = SAT_OK;

    *out_id = 0;
    if (!fn)
        return SAT_EINVAL;
    pthread_mutex_lock(&ev->listen_lock);
    if (ev->listener_count == SAT_REGISTRY_MAX_LISTENERS) {
        rc = SAT_ELIMIT;
        goto out;
    }
    *out_id = ev->next_listener_id++;
    ev->listeners[ev->listener_count++] = (struct listener){*out_id, fn, userdata};
out:
    pthread_mutex_unlock(&ev->listen_lock);
    return rc;
}

void sat_registry_remove_listener(sat_registry *reg, int id)
{
    sat__events *ev = sat__registry_events(reg);

    pthread_mutex_lock(&ev->listen_lock);
    for (size_t i = 0; i < ev->listener_count; i++) {
        if (ev->listeners[i].id == id) {
            memmove(&ev->listeners[i], &ev->listeners[i + 1],
                    (ev->listener_count - i - 1) * sizeof(ev->listeners[0]));
            ev->listener_count--;
            break;
        }
    }
    while (ev->calls_in_flight > 0)
        pthread_cond_wait(&ev->listen_idle, &ev->listen_lock);
    pthread_mutex_unlock(&ev->listen_lock);
}
