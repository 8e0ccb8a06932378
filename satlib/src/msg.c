/* SPDX-License-Identifier: Apache-2.0 */
/* Reference-counted byte buffers and broadcast messages, with the lazily
 * built framed copies of each message. Framing itself lives in codec.c. */
#include "msg.h"
#include "codec.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t wall_clock_ms(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

sat_buf *sat__buf_alloc(size_t len)
{
    sat_buf *b;

    if (len > SIZE_MAX - sizeof(*b))
        return NULL;
    b = malloc(sizeof(*b) + len);
    if (b == NULL)
        return NULL;
    atomic_init(&b->refs, 1);
    b->len = len;
    return b;
}

sat_buf *sat__buf_new(const void *data, size_t len)
{
    sat_buf *b = sat__buf_alloc(len);

    if (b != NULL && len > 0)
        memcpy(b->data, data, len);
    return b;
}

sat_buf *sat__buf_ref(sat_buf *b)
{
    if (b != NULL)
        atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    return b;
}

void sat__buf_unref(sat_buf *b)
{
    if (b == NULL)
        return;
    /* acq_rel so that every write made through other references happens
     * before the free. */
    if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1)
        free(b);
}

sat_msg *sat__msg_new(const void *data, size_t len, uint32_t flags)
{
    sat_msg *m;

    if (len > SIZE_MAX - sizeof(*m) - 1)
        return NULL;
    m = malloc(sizeof(*m) + len + 1);
    if (m == NULL)
        return NULL;

    atomic_init(&m->refs, 1);
    m->id = (sat_msgid){0, 0};
    m->created_ms = wall_clock_ms();
    m->flags = flags;
    for (int i = 0; i < SAT_WIRE_COUNT; i++)
        atomic_init(&m->framed[i], NULL);
    m->len = len;
    if (len > 0)
        memcpy(m->data, data, len);
    m->data[len] = '\0';
    return m;
}

sat_msg *sat__msg_ref(sat_msg *m)
{
    if (m != NULL)
        atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void sat__msg_unref(sat_msg *m)
{
    if (m == NULL)
        return;
    if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
        return;

    /* Pending writes may still hold framed copies handed out earlier, so
     * only the message's own reference to each copy is dropped. */
    for (int i = 0; i < SAT_WIRE_COUNT; i++)
        sat__buf_unref(atomic_load_explicit(&m->framed[i], memory_order_acquire));
    free(m);
}

sat_buf *sat__msg_framed(sat_msg *m, sat_wire wire)
{
    sat_buf *cur;
    sat_buf *built;
    sat_buf *expected = NULL;

    if (m == NULL || (unsigned)wire >= SAT_WIRE_COUNT)
        return NULL;
    cur = atomic_load_explicit(&m->framed[wire], memory_order_acquire);
    if (cur != NULL)
        return cur;

    built = sat__frame(wire, m->data, m->len, (m->flags & SAT_MSG_BINARY) != 0);
    if (built == NULL)
        return NULL;

    /* Two threads may frame the same message at once. The first to install
     * its copy wins and the other frees its own and returns the winner. */
    if (atomic_compare_exchange_strong_explicit(&m->framed[wire], &expected, built,
                                                memory_order_acq_rel, memory_order_acquire))
        return built;
    sat__buf_unref(built);
    return expected;
}
