/* SPDX-License-Identifier: Apache-2.0 */
/* The UUID broadcaster cache: a bounded ring of recent messages per
 * broadcaster and a delivery cursor per client tracking id (UUID). A client
 * that comes back with its tracking id receives every message after its
 * acknowledged cursor, once and in order. Thread-safe: one mutex per cache,
 * never held while calling out. */
#ifndef SAT_CACHE_H
#define SAT_CACHE_H

#include "msg.h"
#include "satellite/types.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sat_cache sat_cache;

/* Size of a UUID buffer, NUL included: tracking ids of 1 to 63 bytes are
 * accepted, longer ones are rejected with SAT_EINVAL. */
#define SAT_CACHE_UUID_MAX 64

/* Bounds of one cache. Every message bound evicts the oldest message first.
 * Times are in the caller's clock (the `now_ms` arguments), which must not
 * run backwards. */
typedef struct sat_cache_limits {
    size_t max_messages;     /* ring capacity in messages; 0 disables caching */
    size_t max_bytes;        /* sum of payload lengths kept; 0 = no byte limit */
    uint64_t max_age_ms;     /* older messages are evicted; 0 = no age limit */
    uint64_t client_idle_ms; /* a detached UUID is forgotten after this long; 0 = never */
    size_t max_clients;      /* tracked UUIDs; the longest-idle detached one goes first;
                                0 = no limit */
} sat_cache_limits;

typedef struct sat_cache_stats {
    size_t messages;          /* messages in the ring now */
    size_t bytes;             /* their payload bytes */
    size_t clients;           /* tracked UUIDs */
    size_t active_clients;    /* of those, attached now */
    uint64_t added;           /* messages ever stored in the ring */
    uint64_t evicted_count;   /* evicted by the count bound */
    uint64_t evicted_bytes;   /* evicted by the byte bound */
    uint64_t evicted_age;     /* evicted by the age bound */
    uint64_t deleted;         /* removed by sat__cache_delete / clear */
    uint64_t hits;            /* attaches that returned a non-empty backlog */
    uint64_t misses;          /* attaches that returned nothing */
    uint64_t gaps;            /* attaches that found evicted messages past the cursor */
    uint64_t expired_clients; /* UUIDs forgotten after client_idle_ms */
    uint64_t evicted_clients; /* detached UUIDs forgotten to make room under max_clients */
} sat_cache_stats;

/* A message as the registry lists it. */
typedef struct sat_cache_entry {
    sat_msgid id;
    uint64_t created_ms;
    size_t len;
} sat_cache_entry;

/* Backlog returned by attach: `msgs` holds new references that the caller
 * releases with sat__cache_backlog_free. */
typedef struct sat_cache_backlog {
    sat_msg **msgs;
    size_t count;
    bool gap; /* a message after the client's acknowledged cursor was evicted or deleted */
} sat_cache_backlog;

/* Creates an empty cache. Returns NULL when out of memory or when `limits`
 * is NULL. */
sat_cache *sat__cache_new(const sat_cache_limits *limits) __attribute__((warn_unused_result));
void sat__cache_free(sat_cache *c); /* accepts NULL; drops every reference */

/* Replaces the limits; evicts at once what no longer fits. Lowering
 * max_clients forgets detached UUIDs, longest-idle first, but never an
 * attached one, so the count may stay above the new bound until clients
 * detach. */
void sat__cache_set_limits(sat_cache *c, const sat_cache_limits *limits, uint64_t now_ms);
void sat__cache_get_limits(sat_cache *c, sat_cache_limits *out);

/* Appends a message (the cache takes its own reference). Ids must increase;
 * an id not greater than the newest is rejected with SAT_EINVAL, and so is
 * the zero id. Heartbeat messages are rejected with SAT_EINVAL. Evicts what
 * the limits require. With max_messages 0, or a payload longer than
 * max_bytes, nothing is kept, 0 is returned and the message counts as
 * evicted, so a client whose cursor is older sees a gap. SAT_ENOMEM when
 * the ring cannot grow; that message is lost and also counts as a gap. */
int sat__cache_add(sat_cache *c, sat_msg *m, uint64_t now_ms);

/* Attaches a client. An unknown UUID starts with its cursor at the newest
 * message, so it receives nothing older than its first attach. With
 * `ack_sent`, the client's sent cursor becomes acknowledged first (a
 * long-polling client's next poll acknowledges the previous response). Fills
 * `out` with every message after the acknowledged cursor, oldest first, at
 * most `max` of them (0 = no limit), and moves the sent cursor to the newest
 * one returned. `out` is set on every path (empty on error).
 *
 * An unknown UUID beyond max_clients makes room by forgetting the
 * longest-idle detached UUID. When every tracked UUID is attached, the
 * attach fails with SAT_ELIMIT and the UUID is not tracked: the caller
 * serves that client live, without a cursor, so it gets no replay after a
 * reconnect. SAT_EINVAL for a NULL or invalid UUID, SAT_ENOMEM when out of
 * memory.
 *
 * NOTE: a UUID forgotten by expiry, forget() or max_clients comes back as
 * unknown, so its next attach reports no gap even if it missed messages. */
int sat__cache_attach(sat_cache *c, const char *uuid, bool ack_sent, size_t max, uint64_t now_ms,
                      sat_cache_backlog *out);
void sat__cache_backlog_free(sat_cache_backlog *b);

/* Records that messages up to `id` were handed to the client's connection.
 * Unknown UUIDs are ignored; the cursor never moves backwards. */
void sat__cache_sent(sat_cache *c, const char *uuid, sat_msgid id);

/* Records that messages up to `id` reached the client (the write completed
 * on a streaming transport, or the next poll arrived). Never moves a cursor
 * backwards. */
void sat__cache_ack(sat_cache *c, const char *uuid, sat_msgid id);

/* Detaches a client and starts its idle clock. With `rollback`, the sent
 * cursor falls back to the acknowledged one, so unacknowledged messages are
 * sent again on the next attach. Rollback is the only way a cursor moves
 * backwards. Detaching a detached UUID keeps its first detach time. */
void sat__cache_detach(sat_cache *c, const char *uuid, bool rollback, uint64_t now_ms);

/* Forgets a client's cursors at once (explicit close). A later attach with
 * the same UUID starts as a new client and receives no replay. */
void sat__cache_forget(sat_cache *c, const char *uuid);

/* Evicts aged messages and forgets UUIDs idle past client_idle_ms. Returns
 * the number of UUIDs forgotten. */
size_t sat__cache_expire(sat_cache *c, uint64_t now_ms);

/* Removes one message by id (SAT_ENOTFOUND if absent), or all of them.
 * Clients whose cursor is older than a removed message see a gap. */
int sat__cache_delete(sat_cache *c, sat_msgid id);
void sat__cache_clear(sat_cache *c);

void sat__cache_stats(sat_cache *c, sat_cache_stats *out);

/* Copies up to `max` entries with ids greater than `after` (zero id = from
 * the oldest), oldest first, into `out`; returns how many were copied. Pass
 * the last id copied as the next `after` to page through the ring. */
size_t sat__cache_list(sat_cache *c, sat_msgid after, sat_cache_entry *out, size_t max);

/* Copies up to `max` tracked UUIDs, in byte order after `after` (NULL = from
 * the first), into caller buffers of SAT_CACHE_UUID_MAX bytes each; returns
 * the count. Each page costs one pass over every tracked UUID. */
size_t sat__cache_list_clients(sat_cache *c, const char *after, char (*out)[SAT_CACHE_UUID_MAX],
                               size_t max);

#endif
