/* SPDX-License-Identifier: Apache-2.0 */
/* The UUID broadcaster cache: a growable circular array of messages ordered
 * by id, a chained hash table of client cursors keyed by UUID, and a list of
 * detached clients ordered by detach time for idle expiry and max_clients.
 * Framing and delivery belong to the callers. */
#include "cache.h"

#include "satellite/error.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define RING_MIN_CAPACITY 16
#define HASH_MIN_BUCKETS  64

typedef struct slot {
    sat_msg *msg;      /* one reference owned by the cache */
    uint64_t added_ms; /* caller clock at add, so age uses the same clock as now_ms */
} slot;

typedef struct client {
    struct client *hash_next;
    struct client *idle_prev; /* detached list links, valid while !attached */
    struct client *idle_next;
    uint64_t hash;
    sat_msgid acked; /* newest id the client confirmed */
    sat_msgid sent;  /* newest id handed to its connection; never below acked */
    uint64_t detached_ms;
    bool attached;
    char uuid[SAT_CACHE_UUID_MAX];
} client;

struct sat_cache {
    pthread_mutex_t lock;
    sat_cache_limits limits;

    slot *ring; /* ring[(head + i) % capacity] is the i-th oldest message */
    size_t capacity;
    size_t head;
    size_t count;
    size_t bytes;
    sat_msgid newest_id;  /* newest id ever accepted by add */
    sat_msgid dropped_id; /* newest id evicted, deleted or never kept */

    client **buckets; /* nbuckets is a power of two */
    size_t nbuckets;
    size_t nclients;
    size_t nattached;
    client *idle_head; /* detached clients, longest-idle first */
    client *idle_tail;

    sat_cache_stats stats; /* counters only; gauges are filled in by sat__cache_stats */
};

/* ---- ring ---- */

static size_t ring_pos(const sat_cache *c, size_t i)
{
    size_t pos = c->head + i;

    return pos >= c->capacity ? pos - c->capacity : pos;
}

static slot *ring_at(const sat_cache *c, size_t i)
{
    assert(i < c->count);
    return &c->ring[ring_pos(c, i)];
}

/* Moves the ring into a linear array of `capacity` slots (at least count). */
static int ring_resize(sat_cache *c, size_t capacity)
{
    slot *ring = NULL;

    assert(capacity >= c->count);
    if (capacity > 0) {
        ring = malloc(capacity * sizeof(*ring));
        if (!ring)
            return SAT_ENOMEM;
        for (size_t i = 0; i < c->count; i++)
            ring[i] = *ring_at(c, i);
    }
    free(c->ring);
    c->ring = ring;
    c->capacity = capacity;
    c->head = 0;
    return 0;
}

/* Grows the ring by doubling, but never past max_messages: eviction runs
 * before each append, so the ring never contains more than that. */
static int ring_reserve_one(sat_cache *c)
{
    size_t capacity;

    if (c->count < c->capacity)
        return 0;
    capacity = c->capacity ? c->capacity * 2 : RING_MIN_CAPACITY;
    if (capacity > c->limits.max_messages)
        capacity = c->limits.max_messages;
    if (capacity <= c->count)
        capacity = c->count + 1;
    return ring_resize(c, capacity);
}

static void note_dropped(sat_cache *c, sat_msgid id)
{
    if (sat_msgid_cmp(id, c->dropped_id) > 0)
        c->dropped_id = id;
}

/* Removes the oldest message and drops the cache's reference. Dropping it
 * under the lock is safe: sat__msg_unref only frees memory and never calls
 * back into the cache. */
static void evict_oldest(sat_cache *c, uint64_t *counter)
{
    slot *s = ring_at(c, 0);
    sat_msg *m = s->msg;

    c->head = ring_pos(c, 1);
    c->count--;
    c->bytes -= m->len;
    (*counter)++;
    note_dropped(c, m->id);
    sat__msg_unref(m);
}

static bool too_old(const sat_cache *c, const slot *s, uint64_t now_ms)
{
    uint64_t max_age = c->limits.max_age_ms;

    return max_age > 0 && now_ms > s->added_ms && now_ms - s->added_ms > max_age;
}

/* Ids and add times both grow along the ring, so aged messages form a prefix. */
static void evict_aged(sat_cache *c, uint64_t now_ms)
{
    while (c->count > 0 && too_old(c, ring_at(c, 0), now_ms))
        evict_oldest(c, &c->stats.evicted_age);
}

/* Evicts until `extra_msgs` more messages of `extra_bytes` would fit. */
static void evict_to_fit(sat_cache *c, size_t extra_msgs, size_t extra_bytes)
{
    const sat_cache_limits *l = &c->limits;

    while (c->count > 0 && c->count + extra_msgs > l->max_messages)
        evict_oldest(c, &c->stats.evicted_count);
    while (c->count > 0 && l->max_bytes > 0 && c->bytes + extra_bytes > l->max_bytes)
        evict_oldest(c, &c->stats.evicted_bytes);
}

/* Returns the index of the first message with an id greater than `id`
 * (count when there is none). */
static size_t ring_first_after(const sat_cache *c, sat_msgid id)
{
    size_t lo = 0, hi = c->count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (sat_msgid_cmp(ring_at(c, mid)->msg->id, id) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Removes the message at index i, shifting the shorter side of the ring. */
static sat_msg *ring_remove_at(sat_cache *c, size_t i)
{
    sat_msg *m = ring_at(c, i)->msg;

    if (i < c->count / 2) {
        for (size_t k = i; k > 0; k--)
            *ring_at(c, k) = *ring_at(c, k - 1);
        c->head = ring_pos(c, 1);
    } else {
        for (size_t k = i; k + 1 < c->count; k++)
            *ring_at(c, k) = *ring_at(c, k + 1);
    }
    c->count--;
    c->bytes -= m->len;
    return m;
}

/* ---- clients: hash table and idle list ---- */

/* FNV-1a, 64-bit. */
static uint64_t hash_uuid(const char *uuid)
{
    uint64_t h = 0xcbf29ce484222325u;

    for (const unsigned char *p = (const unsigned char *)uuid; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3u;
    }
    return h;
}

static bool uuid_valid(const char *uuid)
{
    if (!uuid)
        return false;

    size_t len = strnlen(uuid, SAT_CACHE_UUID_MAX);

    return len > 0 && len < SAT_CACHE_UUID_MAX;
}

static client **client_slot(sat_cache *c, const char *uuid, uint64_t hash)
{
    client **pp = &c->buckets[hash & (c->nbuckets - 1)];

    while (*pp && ((*pp)->hash != hash || strcmp((*pp)->uuid, uuid) != 0))
        pp = &(*pp)->hash_next;
    return pp;
}

static client *client_find(sat_cache *c, const char *uuid)
{
    if (!uuid_valid(uuid))
        return NULL;
    return *client_slot(c, uuid, hash_uuid(uuid));
}

/* Doubles the bucket array. A failed allocation only makes chains longer. */
static void hash_grow(sat_cache *c)
{
    size_t nbuckets = c->nbuckets * 2;
    client **buckets = calloc(nbuckets, sizeof(*buckets));

    if (!buckets)
        return;
    for (size_t i = 0; i < c->nbuckets; i++) {
        client *cl = c->buckets[i];

        while (cl) {
            client *next = cl->hash_next;
            client **head = &buckets[cl->hash & (nbuckets - 1)];

            cl->hash_next = *head;
            *head = cl;
            cl = next;
        }
    }
    free(c->buckets);
    c->buckets = buckets;
    c->nbuckets = nbuckets;
}

static void idle_unlink(sat_cache *c, client *cl)
{
    if (cl->idle_prev)
        cl->idle_prev->idle_next = cl->idle_next;
    else
        c->idle_head = cl->idle_next;
    if (cl->idle_next)
        cl->idle_next->idle_prev = cl->idle_prev;
    else
        c->idle_tail = cl->idle_prev;
    cl->idle_prev = cl->idle_next = NULL;
}

/* Inserts by detach time. Callers on several threads may pass slightly
 * out-of-order clocks, so walk back from the tail; usually zero steps. */
static void idle_insert(sat_cache *c, client *cl)
{
    client *after = c->idle_tail;

    while (after && after->detached_ms > cl->detached_ms)
        after = after->idle_prev;
    cl->idle_prev = after;
    cl->idle_next = after ? after->idle_next : c->idle_head;
    if (cl->idle_next)
        cl->idle_next->idle_prev = cl;
    else
        c->idle_tail = cl;
    if (after)
        after->idle_next = cl;
    else
        c->idle_head = cl;
}

static void client_remove(sat_cache *c, client *cl)
{
    client **pp = client_slot(c, cl->uuid, cl->hash);

    assert(*pp == cl);
    *pp = cl->hash_next;
    if (cl->attached)
        c->nattached--;
    else
        idle_unlink(c, cl);
    c->nclients--;
    free(cl);
}

/* Tracks a new UUID, detached since now_ms, with both cursors at the newest
 * id: a client does not receive history from before it first connected. */
static client *client_add(sat_cache *c, const char *uuid, uint64_t hash, uint64_t now_ms)
{
    client *cl = calloc(1, sizeof(*cl));

    if (!cl)
        return NULL;
    strcpy(cl->uuid, uuid); /* length checked by uuid_valid */
    cl->hash = hash;
    cl->acked = c->newest_id;
    cl->sent = c->newest_id;
    cl->detached_ms = now_ms;
    idle_insert(c, cl);

    client **head = &c->buckets[hash & (c->nbuckets - 1)];

    cl->hash_next = *head;
    *head = cl;
    c->nclients++;
    if (c->nclients > c->nbuckets)
        hash_grow(c);
    return cl;
}

/* Forgets detached UUIDs, longest-idle first, until `room` more fit under
 * max_clients. Attached UUIDs are never forgotten here. */
static void trim_clients(sat_cache *c, size_t room)
{
    size_t max = c->limits.max_clients;

    while (max > 0 && c->nclients + room > max && c->idle_head) {
        client_remove(c, c->idle_head);
        c->stats.evicted_clients++;
    }
}

static void client_attach(sat_cache *c, client *cl)
{
    if (cl->attached)
        return;
    idle_unlink(c, cl);
    cl->attached = true;
    c->nattached++;
}

static void cursor_advance(sat_msgid *cursor, sat_msgid id)
{
    if (sat_msgid_cmp(id, *cursor) > 0)
        *cursor = id;
}

/* ---- exported ---- */

sat_cache *sat__cache_new(const sat_cache_limits *limits)
{
    sat_cache *c;

    if (!limits)
        return NULL;
    c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->buckets = calloc(HASH_MIN_BUCKETS, sizeof(*c->buckets));
    if (!c->buckets || pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c->buckets);
        free(c);
        return NULL;
    }
    c->nbuckets = HASH_MIN_BUCKETS;
    c->limits = *limits;
    return c;
}

void sat__cache_free(sat_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->count; i++)
        sat__msg_unref(ring_at(c, i)->msg);
    free(c->ring);
    for (size_t i = 0; i < c->nbuckets; i++) {
        client *cl = c->buckets[i];

        while (cl) {
            client *next = cl->hash_next;

            free(cl);
            cl = next;
        }
    }
    free(c->buckets);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void sat__cache_set_limits(sat_cache *c, const sat_cache_limits *limits, uint64_t now_ms)
{
    if (!c || !limits)
        return;
    pthread_mutex_lock(&c->lock);
    c->limits = *limits;

    evict_aged(c, now_ms);
    evict_to_fit(c, 0, 0);
    trim_clients(c, 0);

    /* Give memory back when the array is larger than the new max_messages.
     * A failed shrink keeps the larger array, which is still correct. */
    if (c->capacity > limits->max_messages)
        (void)ring_resize(c, limits->max_messages);
    pthread_mutex_unlock(&c->lock);
}

void sat__cache_get_limits(sat_cache *c, sat_cache_limits *out)
{
    if (!out)
        return;
    if (!c) {
        memset(out, 0, sizeof(*out));
        return;
    }
    pthread_mutex_lock(&c->lock);
    *out = c->limits;
    pthread_mutex_unlock(&c->lock);
}

int sat__cache_add(sat_cache *c, sat_msg *m, uint64_t now_ms)
{
    int rc = 0;

    /* Heartbeats carry no data a reconnecting client needs. */
    if (!c || !m || (m->flags & SAT_MSG_HEARTBEAT))
        return SAT_EINVAL;

    pthread_mutex_lock(&c->lock);
    /* The ring is sorted by id so that a cursor lookup is a binary search and
     * "every message after the cursor" is a contiguous suffix. */
    if (sat_msgid_cmp(m->id, c->newest_id) <= 0) {
        rc = SAT_EINVAL;
        goto out;
    }
    c->newest_id = m->id;
    evict_aged(c, now_ms);

    /* A message the ring cannot keep is still a message that clients with an
     * older cursor missed, so it moves dropped_id for the gap flag. */
    if (c->limits.max_messages == 0)
        goto drop;
    if (c->limits.max_bytes > 0 && m->len > c->limits.max_bytes) {
        c->stats.evicted_bytes++;
        goto drop;
    }

    evict_to_fit(c, 1, m->len);
    rc = ring_reserve_one(c);
    if (rc != 0)
        goto drop;

    c->ring[ring_pos(c, c->count)] = (slot){.msg = sat__msg_ref(m), .added_ms = now_ms};
    c->count++;
    c->bytes += m->len;
    c->stats.added++;
    goto out;

drop:
    note_dropped(c, m->id);
out:
    pthread_mutex_unlock(&c->lock);
    return rc;
}

/* Finds or creates the client for an attach. Returns SAT_ELIMIT when
 * max_clients is reached and no detached UUID can make room. */
static int attach_client(sat_cache *c, const char *uuid, uint64_t now_ms, client **out)
{
    uint64_t hash = hash_uuid(uuid);
    client *cl = *client_slot(c, uuid, hash);

    if (!cl) {
        trim_clients(c, 1);
        if (c->limits.max_clients > 0 && c->nclients >= c->limits.max_clients)
            return SAT_ELIMIT;
        cl = client_add(c, uuid, hash, now_ms);
        if (!cl)
            return SAT_ENOMEM;
    }
    *out = cl;
    return 0;
}

int sat__cache_attach(sat_cache *c, const char *uuid, bool ack_sent, size_t max, uint64_t now_ms,
                      sat_cache_backlog *out)
{
    client *cl = NULL;
    size_t first, n;
    int rc;

    if (!out)
        return SAT_EINVAL;
    memset(out, 0, sizeof(*out));
    if (!c || !uuid_valid(uuid))
        return SAT_EINVAL;

    pthread_mutex_lock(&c->lock);
    evict_aged(c, now_ms);
    rc = attach_client(c, uuid, now_ms, &cl);
    if (rc != 0)
        goto out;

    /* A long-polling client's new poll proves the previous response arrived. */
    if (ack_sent)
        cl->acked = cl->sent;

    /* Eviction is oldest first, so if any message after the cursor was lost,
     * the newest lost id is past the cursor too. */
    out->gap = sat_msgid_cmp(c->dropped_id, cl->acked) > 0;

    first = ring_first_after(c, cl->acked);
    n = c->count - first;
    if (max > 0 && n > max)
        n = max;
    if (n > 0) {
        out->msgs = malloc(n * sizeof(*out->msgs));
        if (!out->msgs) {
            rc = SAT_ENOMEM;
            goto out;
        }
        for (size_t i = 0; i < n; i++)
            out->msgs[i] = sat__msg_ref(ring_at(c, first + i)->msg);
        out->count = n;
        cursor_advance(&cl->sent, out->msgs[n - 1]->id);
    }

    client_attach(c, cl);
    if (n > 0)
        c->stats.hits++;
    else
        c->stats.misses++;
    if (out->gap)
        c->stats.gaps++;
out:
    pthread_mutex_unlock(&c->lock);
    if (rc != 0)
        out->gap = false;
    return rc;
}

void sat__cache_backlog_free(sat_cache_backlog *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->count; i++)
        sat__msg_unref(b->msgs[i]);
    free(b->msgs);
    memset(b, 0, sizeof(*b));
}

void sat__cache_sent(sat_cache *c, const char *uuid, sat_msgid id)
{
    client *cl;

    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    cl = client_find(c, uuid);
    if (cl)
        cursor_advance(&cl->sent, id);
    pthread_mutex_unlock(&c->lock);
}

void sat__cache_ack(sat_cache *c, const char *uuid, sat_msgid id)
{
    client *cl;

    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    cl = client_find(c, uuid);
    if (cl) {
        cursor_advance(&cl->acked, id);
        /* What reached the client was necessarily sent to it. */
        cursor_advance(&cl->sent, cl->acked);
    }
    pthread_mutex_unlock(&c->lock);
}

void sat__cache_detach(sat_cache *c, const char *uuid, bool rollback, uint64_t now_ms)
{
    client *cl;

    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    cl = client_find(c, uuid);
    if (!cl)
        goto out;

    /* A response written to a connection that then died may never have
     * arrived, so the next attach sends everything after the ack again. */
    if (rollback)
        cl->sent = cl->acked;

    /* The idle clock starts here, not at connect: an attached client is
     * never expired however long it has been connected. */
    if (cl->attached) {
        cl->attached = false;
        c->nattached--;
        cl->detached_ms = now_ms;
        idle_insert(c, cl);
    }
out:
    pthread_mutex_unlock(&c->lock);
}

void sat__cache_forget(sat_cache *c, const char *uuid)
{
    client *cl;

    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    cl = client_find(c, uuid);
    if (cl)
        client_remove(c, cl);
    pthread_mutex_unlock(&c->lock);
}

size_t sat__cache_expire(sat_cache *c, uint64_t now_ms)
{
    uint64_t idle;
    size_t forgotten = 0;

    if (!c)
        return 0;
    pthread_mutex_lock(&c->lock);
    evict_aged(c, now_ms);

    /* The idle list is sorted by detach time, so stop at the first client
     * that is still within its idle allowance. */
    idle = c->limits.client_idle_ms;
    while (idle > 0 && c->idle_head) {
        client *cl = c->idle_head;

        if (now_ms <= cl->detached_ms || now_ms - cl->detached_ms <= idle)
            break;
        client_remove(c, cl);
        forgotten++;
    }
    c->stats.expired_clients += forgotten;
    pthread_mutex_unlock(&c->lock);
    return forgotten;
}

int sat__cache_delete(sat_cache *c, sat_msgid id)
{
    sat_msg *m = NULL;
    size_t i;

    if (!c)
        return SAT_EINVAL;
    pthread_mutex_lock(&c->lock);
    i = ring_first_after(c, id);
    if (i > 0 && sat_msgid_cmp(ring_at(c, i - 1)->msg->id, id) == 0) {
        m = ring_remove_at(c, i - 1);
        c->stats.deleted++;
        note_dropped(c, id);
    }
    pthread_mutex_unlock(&c->lock);

    if (!m)
        return SAT_ENOTFOUND;
    sat__msg_unref(m);
    return 0;
}

void sat__cache_clear(sat_cache *c)
{
    slot *ring;
    size_t capacity, head, count;

    if (!c)
        return;

    /* Take the whole array out under the lock and drop the references after
     * unlocking, so a large clear does not stall add and attach. */
    pthread_mutex_lock(&c->lock);
    if (c->count > 0)
        note_dropped(c, ring_at(c, c->count - 1)->msg->id);
    c->stats.deleted += c->count;
    ring = c->ring;
    capacity = c->capacity;
    head = c->head;
    count = c->count;
    c->ring = NULL;
    c->capacity = c->head = c->count = c->bytes = 0;
    pthread_mutex_unlock(&c->lock);

    for (size_t i = 0; i < count; i++)
        sat__msg_unref(ring[(head + i) % capacity].msg);
    free(ring);
}

void sat__cache_stats(sat_cache *c, sat_cache_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof(*out));
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    *out = c->stats;
    out->messages = c->count;
    out->bytes = c->bytes;
    out->clients = c->nclients;
    out->active_clients = c->nattached;
    pthread_mutex_unlock(&c->lock);
}

size_t sat__cache_list(sat_cache *c, sat_msgid after, sat_cache_entry *out, size_t max)
{
    size_t first, n = 0;

    if (!c || !out)
        return 0;
    pthread_mutex_lock(&c->lock);
    first = ring_first_after(c, after);
    for (size_t i = first; i < c->count && n < max; i++, n++) {
        const sat_msg *m = ring_at(c, i)->msg;

        out[n] = (sat_cache_entry){.id = m->id, .created_ms = m->created_ms, .len = m->len};
    }
    pthread_mutex_unlock(&c->lock);
    return n;
}

/* ---- list_clients: a bounded max-heap built in the caller's buffer ---- */

typedef char uuid_buf[SAT_CACHE_UUID_MAX];

static void uuid_swap(uuid_buf *a, uuid_buf *b)
{
    uuid_buf tmp;

    memcpy(tmp, *a, sizeof(tmp));
    memcpy(*a, *b, sizeof(tmp));
    memcpy(*b, tmp, sizeof(tmp));
}

static void heap_sift_down(uuid_buf *heap, size_t n, size_t i)
{
    for (;;) {
        size_t largest = i, l = 2 * i + 1, r = 2 * i + 2;

        if (l < n && strcmp(heap[l], heap[largest]) > 0)
            largest = l;
        if (r < n && strcmp(heap[r], heap[largest]) > 0)
            largest = r;
        if (largest == i)
            return;
        uuid_swap(&heap[i], &heap[largest]);
        i = largest;
    }
}

static void heap_push(uuid_buf *heap, size_t n, const char *uuid)
{
    size_t i = n;

    strcpy(heap[i], uuid);
    while (i > 0 && strcmp(heap[(i - 1) / 2], heap[i]) < 0) {
        uuid_swap(&heap[i], &heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
}

/* Keeps the `max` smallest UUIDs greater than `after` in a max-heap, so one
 * pass costs O(clients * log max) with no allocation, then sorts the heap. */
size_t sat__cache_list_clients(sat_cache *c, const char *after, char (*out)[SAT_CACHE_UUID_MAX],
                               size_t max)
{
    size_t n = 0;

    if (!c || !out || max == 0)
        return 0;
    pthread_mutex_lock(&c->lock);
    for (size_t b = 0; b < c->nbuckets; b++) {
        for (const client *cl = c->buckets[b]; cl; cl = cl->hash_next) {
            if (after && strcmp(cl->uuid, after) <= 0)
                continue;
            if (n < max) {
                heap_push(out, n++, cl->uuid);
            } else if (strcmp(cl->uuid, out[0]) < 0) {
                strcpy(out[0], cl->uuid);
                heap_sift_down(out, n, 0);
            }
        }
    }
    pthread_mutex_unlock(&c->lock);

    for (size_t end = n; end > 1; end--) {
        uuid_swap(&out[0], &out[end - 1]);
        heap_sift_down(out, end - 1, 0);
    }
    return n;
}
