/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the UUID broadcaster cache: cursors, replay, eviction, gaps,
 * client expiry, paging and concurrent use. */
#include "cache.h"
#include "msg.h"

#include "satellite/error.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

static const sat_cache_limits default_limits = {
    .max_messages = 100,
    .max_bytes = 0,
    .max_age_ms = 0,
    .client_idle_ms = 1000,
    .max_clients = 0,
};

static sat_msgid id_of(uint64_t n)
{
    return (sat_msgid){.ms = n, .seq = 0};
}

/* Adds a message with id {n, 0} and `len` bytes of payload. */
static int add_sized(sat_cache *c, uint64_t n, size_t len, uint32_t flags, uint64_t now_ms)
{
    char payload[256];
    sat_msg *m;
    int rc;

    assert_true(len <= sizeof(payload));
    memset(payload, 'x', len);
    m = sat__msg_new(payload, len, flags);
    assert_non_null(m);
    m->id = id_of(n);
    rc = sat__cache_add(c, m, now_ms);
    sat__msg_unref(m);
    return rc;
}

static int add(sat_cache *c, uint64_t n, uint64_t now_ms)
{
    return add_sized(c, n, 4, 0, now_ms);
}

static sat_cache *new_cache(const sat_cache_limits *limits)
{
    sat_cache *c = sat__cache_new(limits);

    assert_non_null(c);
    return c;
}

static uint64_t backlog_id(const sat_cache_backlog *b, size_t i)
{
    assert_true(i < b->count);
    return b->msgs[i]->id.ms;
}

static void new_client_gets_no_history(void **state)
{
    sat_cache *c = new_cache(&default_limits);
    sat_cache_backlog b;
    sat_cache_stats st;

    (void)state;
    assert_int_equal(add(c, 1, 0), 0);
    assert_int_equal(add(c, 2, 0), 0);

    assert_int_equal(sat__cache_attach(c, "u1", false, 0, 0, &b), 0);
    assert_int_equal(b.count, 0);
    assert_false(b.gap);
    sat__cache_backlog_free(&b);

    sat__cache_stats(c, &st);
    assert_int_equal(st.clients, 1);
    assert_int_equal(st.active_clients, 1);
    assert_int_equal(st.misses, 1);
    assert_int_equal(st.hits, 0);
    sat__cache_free(c);
}

static void detached_client_replays_missed(void **state)
{
    sat_cache *c = new_cache(&default_limits);
    sat_cache_backlog b;
    sat_cache_stats st;

    (void)state;
    assert_int_equal(add(c, 1, 0), 0);
    assert_int_equal(sat__cache_attach(c, "u1", false, 0, 0, &b), 0);
    sat__cache_backlog_free(&b);
    sat__cache_detach(c, "u1", false, 10);

    assert_int_equal(add(c, 2, 20), 0);
    assert_int_equal(add(c, 3, 20), 0);
    assert_int_equal(add(c, 4, 20), 0);

    assert_int_equal(sat__cache_attach(c, "u1", true, 0, 30, &b), 0);
    assert_int_equal(b.count, 3);
    assert_int_equal(backlog_id(&b, 0), 2);
    assert_int_equal(backlog_id(&b, 1), 3);
    assert_int_equal(backlog_id(&b, 2), 4);
    assert_false(b.gap);
    sat__cache_backlog_free(&b);
    sat__cache_detach(c, "u1", false, 40);

    /* The next poll acknowledges the previous response. */
    assert_int_equal(sat__cache_attach(c, "u1", true, 0, 50, &b), 0);
    assert_int_equal(b.count, 0);
    sat__cache_backlog_free(&b);

    sat__cache_stats(c, &st);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.misses, 2);
    sat__cache_free(c);
}

static void longpoll_rollback_resends(void **state)
{
    sat_cache *c = new_cache(&default_limits);
    sat_cache_backlog b;

    (void)state;
    assert_int_equal(sat__cache_attach(c, "u1", false, 0, 0, &b), 0);
    sat__cache_backlog_free(&b);
    sat__cache_detach(c, "u1", false, 0);
    assert_int_equal(add(c, 1, 0), 0);
    assert_int_equal(add(c, 2, 0), 0);

    assert_int_equal(sat__cache_attach(c, "u1", true, 0, 1, &b), 0);
    assert_int_equal(b.count, 2);
    sat__cache_backlog_free(&b);

    /* The response died with the connection: roll back. */
    sat__cache_detach(c, "u1", true, 2);
    assert_int_equal(sat__cache_attach(c, "u1", true, 0, 3, &b), 0);
    assert_int_equal(b.count, 2);
    assert_int_equal(backlog_id(&b, 0), 1);
    assert_int_equal(backlog_id(&b, 1), 2);
    sat__cache_backlog_free(&b);

    /* This time it arrived: the next poll gets nothing again. */
    sat__cache_detach(c, "u1", false, 4);
    assert_int_equal(sat__cache_attach(c, "u1", true, 0, 5, &b), 0);
    assert_int_equal(b.count, 0);
    sat__cache_backlog_free(&b);
    sat__cache_free(c);
}

static void cursors_deliver_exactly_once(void **state)
{
    sat_cache *c = new_cache(&default_limits);
    sat_cache_backlog b;

    (void)state;
    assert_int_equal(sat__cache_attach(c, "s", false, 0, 0, &b), 0);
    sat__cache_backlog_free(&b);

    /* Streaming: messages 1-3 are written live and acknowledged. */
    for (uint64_t n = 1; n <= 3; n++) {
        assert_int_equal(add(c, n, 0), 0);
        sat__cache_sent(c, "s", id_of(n));
    }
    sat__cache_ack(c, "s", id_of(3));

    /* 4 and 5 were written but not acknowledged when the socket died. */
    assert_int_equal(add(c, 4, 0), 0);
    assert_int_equal(add(c, 5, 0), 0);
    sat__cache_sent(c, "s", id_of(5));
    sat__cache_detach(c, "s", true, 1);
    assert_int_equal(add(c, 6, 1), 0);

    /* A reconnecting streaming client gets 4, 5 and 6 once. */
    assert_int_equal(sat__cache_attach(c, "s", false, 0, 2, &b), 0);
    assert_int_equal(b.count, 3);
    assert_int_equal(backlog_id(&b, 0), 4);
    assert_int_equal(backlog_id(&b, 2), 6);
    sat__cache_backlog_free(&b);
    sat__cache_ack(c, "s", id_of(6));

    /* A stale acknowledgement does not move the cursor back. */
    sat__cache_ack(c, "s", id_of(2));
    sat__cache_sent(c, "s", id_of(1));
    sat__cache_detach(c, "s", true, 3);
    assert_int_equal(sat__cache_attach(c, "s", false, 0, 4, &b), 0);
    assert_int_equal(b.count, 0);
    sat__cache_backlog_free(&b);

    /* `max` splits a backlog; the rest follows on the next attach. */
    for (uint64_t n = 7; n <= 11; n++)
        assert_int_equal(add(c, n, 5), 0);
    sat__cache_detach(c, "s", false, 5);
    assert_int_equal(sat__cache_attach(c, "s", false, 2, 6, &b), 0);
    assert_int_equal(b.count, 2);
    assert_int_equal(backlog_id(&b, 0), 7);
    assert_int_equal(backlog_id(&b, 1), 8);
    sat__cache_backlog_free(&b);
    sat__cache_detach(c, "s", false, 7);
    assert_int_equal(sat__cache_attach(c, "s", true, 0, 8, &b), 0);
    assert_int_equal(b.count, 3);
    assert_int_equal(backlog_id(&b, 0), 9);
    assert_int_equal(backlog_id(&b, 2), 11);
    sat__cache_backlog_free(&b);
    sat__cache_free(c);
}

static void eviction_by_count(void **state)
{
    sat_cache_limits l = default_limits;
    sat_cache *c;
    sat_cache_entry e[8];
    sat_cache_stats st;

    (void)state;
    l.max_messages = 3;
    c = new_cache(&l);
    for (uint64_t n = 1; n <= 5; n++)
        assert_int_equal(add(c, n, 0), 0);

    sat__cache_stats(c, &st);
    assert_int_equal(st.messages, 3);
    assert_int_equal(st.bytes, 12);
    assert_int_equal(st.added, 5);
    assert_int_equal(st.evicted_count, 2);
    assert_int_equal(st.evicted_bytes, 0);
    assert_int_equal(sat__cache_list(c, id_of(0), e, 8), 3);
    assert_int_equal(e[0].id.ms, 3);
    assert_int_equal(e[2].id.ms, 5);
    sat__cache_free(c);
}

static void eviction_by_bytes(void **state)
{
    sat_cache_limits l = default_limits;
    sat_cache *c;
    sat_cache_entry e[8];
    sat_cache_stats st;

    (void)state;
    l.max_bytes = 25;
    c = new_cache(&l);
    assert_int_equal(add_sized(c, 1, 10, 0, 0), 0);
    assert_int_equal(add_sized(c, 2, 10, 0, 0), 0);
    assert_int_equal(add_sized(c, 3, 10, 0, 0), 0);

    sat__cache_stats(c, &st);
    assert_int_equal(st.messages, 2);
    assert_int_equal(st.bytes, 20);
    assert_int_equal(st.evicted_bytes, 1);
    assert_int_equal(st.evicted_count, 0);
    assert_int_equal(sat__cache_list(c, id_of(0), e, 8), 2);
    assert_int_equal(e[0].id.ms, 2);

    /* A payload larger than the bound is not kept, and older ones stay. */
    assert_int_equal(add_sized(c, 4, 30, 0, 0), 0);
    sat__cache_stats(c, &st);
    assert_int_equal(st.messages, 2);
    assert_int_equal(st.evicted_bytes, 2);
    sat__cache_free(c);
}

static void eviction_by_age(void **state)
{
    sat_cache_limits l = default_limits;
    sat_cache *c;
    sat_cache_entry e[8];
    sat_cache_stats st;

    (void)state;
    l.max_age_ms = 100;
    c = new_cache(&l);
    assert_int_equal(add(c, 1, 1000), 0);
    assert_int_equal(add(c, 2, 1050), 0);
    assert_int_equal(add(c, 3, 1101), 0); /* message 1 is now 101 ms old */

    sat__cache_stats(c, &st);
    assert_int_equal(st.messages, 2);
    assert_int_equal(st.evicted_age, 1);

    /* expire() evicts by age without any add. */
    assert_int_equal(sat__cache_expire(c, 1151), 0);
    assert_int_equal(sat__cache_list(c, id_of(0), e, 8), 1);
    assert_int_equal(e[0].id.ms, 3);
    sat__cache_stats(c, &st);
    assert_int_equal(st.evicted_age, 2);

    /* Exactly max_age_ms old is still kept. */
    assert_int_equal(sat__cache_expire(c, 1201), 0);
    sat__cache_stats(c, &st);
    assert_int_equal(st.messages, 1);
    sat__cache_expire(c, 1202);
    sat__cache_stats(c, &st);
    assert_int_equal(st.messages, 0);
    sat__cache_free(c);
}

static void attach_skips_aged_messages(void **state)
{
    sat_cache_limits l = default_limits;
    sat_cache *c;
    sat_cache_backlog b;

    (void)state;
    l.max_age_ms = 100;
    c = new_cache(&l);
    assert_int_equal(sat__cache_attach(c, "u", false, 0, 0, &b), 0);
    sat__cache_backlog_free(&b);
    sat__cache_detach(c, "u", false, 0);
    assert_int_equal(add(c, 1, 0), 0);
    assert_int_equal(add(c, 2, 150), 0);

    /* Message 1 aged out before the client came back: a gap. */
    assert_int_equal(sat__cache_attach(c, "u", true, 0, 200, &b), 0);
    assert_int_equal(b.count, 1);
    assert_int_equal(backlog_id(&b, 0), 2);
    assert_true(b.gap);
    sat__cache_backlog_free(&b);
    sat__cache_free(c);
}

static void gap_flag(void **state)
{
    sat_cache_limits l = default_limits;
    sat_cache *c;
    sat_cache_backlog b;
    sat_cache_stats st;

    (void)state;
    l.max_messages = 2;
    c = new_cache(&l);
    assert_int_equal(sat__cache_attach(c, "u", false, 0, 0, &b), 0);
    sat__cache_backlog_free(&b);
    sat__cache_detach(c, "u", false, 0);

    /* Two messages fit: no gap. */
    assert_int_equal(add(c, 1, 0), 0);
    assert_int_equal(add(c, 2, 0), 0);
    assert_int_equal(sat__cache_attach(c, "u", true, 0, 0, &b), 0);
    assert_false(b.gap);
    assert_int_equal(b.count, 2);
    sat__cache_backlog_free(&b);
    sat__cache_detach(c, "u", false, 0);

    /* Three more while away: message 3 is evicted unseen. */
    assert_int_equal(add(c, 3, 0), 0);
    assert_int_equal(add(c, 4, 0), 0);
    assert_int_equal(add(c, 5, 0), 0);
    assert_int_equal(sat__cache_attach(c, "u", true, 0, 0, &b), 0);
    assert_true(b.gap);
    assert_int_equal(b.count, 2);
    assert_int_equal(backlog_id(&b, 0), 4);
    sat__cache_backlog_free(&b);
    sat__cache_detach(c, "u", false, 0);

    /* Once past the loss, the gap is gone. */
    assert_int_equal(sat__cache_attach(c, "u", true, 0, 0, &b), 0);
    assert_false(b.gap);
    sat__cache_backlog_free(&b);

    /* A new client never sees a gap. */
    assert_int_equal(sat__cache_attach(c, "fresh", false, 0, 0, &b), 0);
    assert_false(b.gap);
    sat__cache_backlog_free(&b);

    sat__cache_stats(c, &st);
    assert_int_equal(st.gaps, 1);
    sat__cache_free(c);
}

static void gap_after_delete(void **state)
{
    sat_cache *c = new_cache(&default_limits);
    sat_cache_backlog b;

    (void)state;
    assert_int_equal(sat__cache_attach(c, "u", false, 0, 0, &b), 0);
    sat__cache_backlog_free(&b);
    sat__cache_detach(c, "u", false, 0);
    assert_int_equal(add(c, 1, 0), 0);
    assert_int_equal(add(c, 2, 0), 0);
    assert_int_equal(sat__cache_delete(c, id_of(2)), 0);

    assert_int_equal(sat__cache_attach(c, "u", true, 0, 0, &b), 0);
    assert_true(b.gap);
    assert_int_equal(b.count, 1);
    assert_int_equal(backlog_id(&b, 0), 1);
    sat__cache_backlog_free(&b);
    sat__cache_free(c);
}

static void idle_clock_starts_at_detach(void **state)
{
    sat_cache *c = new_cache(&default_limits); /* client_idle_ms = 1000 */
    sat_cache_backlog b;
    sat_cache_stats st;

    (void)state;
    assert_int_equal(sat__cache_attach(c, "old", false, 0, 0, &b), 0);
    sat__cache_backlog_free(&b);
    assert_int_equal(sat__cache_attach(c, "live", false, 0, 0, &b), 0);
    sat__cache_backlog_free(&b);

    /* Attached for a long time: never expired. */
    assert_int_equal(sat__cache_expire(c, 1000000), 0);
    sat__cache_detach(c, "old", false, 1000000);

    /* Idle exactly client_idle_ms: still tracked. */
    assert_int_equal(sat__cache_expire(c, 1001000), 0);
    assert_int_equal(sat__cache_expire(c, 1001001), 1);

    sat__cache_stats(c, &st);
    assert_int_equal(st.clients, 1);
    assert_int_equal(st.active_clients, 1);
    assert_int_equal(st.expired_clients, 1);
    assert_int_equal(sat__cache_expire(c, 99000000), 0);
    sat__cache_free(c);
}

static void reattach_stops_idle_clock(void **state)
{
    sat_cache *c = new_cache(&default_limits);
    sat_cache_backlog b;

    (void)state;
    assert_int_equal(sat__cache_attach(c, "u", false, 0, 0, &b), 0);
    sat__cache_backlog_free(&b);
    sat__cache_detach(c, "u", false, 0);
    assert_int_equal(sat__cache_attach(c, "u", true, 0, 500, &b), 0);
    sat__cache_backlog_free(&b);
    assert_int_equal(sat__cache_expire(c, 5000), 0);
    sat__cache_detach(c, "u", false, 5000);
    assert_int_equal(sat__cache_expire(c, 5500), 0);
    assert_int_equal(sat__cache_expire(c, 6001), 1);
    sat__cache_free(c);
}

static void forget_drops_cursor(void **state)
{
    sat_cache *c = new_cache(&default_limits);
    sat_cache_backlog b;
    sat_cache_stats st;

    (void)state;
    assert_int_equal(sat__cache_attach(c, "u", false, 0, 0, &b), 0);
    sat__cache_backlog_free(&b);
    sat__cache_forget(c, "u");
    sat__cache_forget(c, "unknown");

    sat__cache_stats(c, &st);
    assert_int_equal(st.clients, 0);
    assert_int_equal(st.active_clients, 0);

    /* Back as a new client: no replay of what came in between. */
    assert_int_equal(add(c, 1, 0), 0);
    assert_int_equal(sat__cache_attach(c, "u", true, 0, 0, &b), 0);
    assert_int_equal(b.count, 0);
    sat__cache_backlog_free(&b);
    sat__cache_free(c);
}

static void max_clients_limit(void **state)
{
    sat_cache_limits l = default_limits;
    sat_cache *c;
    sat_cache_backlog b;
    sat_cache_stats st;
    char names[8][SAT_CACHE_UUID_MAX];
    size_t n;

    (void)state;
    l.max_clients = 2;
    c = new_cache(&l);
    assert_int_equal(sat__cache_attach(c, "a", false, 0, 0, &b), 0);
    sat__cache_backlog_free(&b);
    assert_int_equal(sat__cache_attach(c, "b", false, 0, 0, &b), 0);
    sat__cache_backlog_free(&b);

    /* Both attached: the third UUID is rejected and not tracked. */
    assert_int_equal(sat__cache_attach(c, "c", false, 0, 0, &b), SAT_ELIMIT);
    assert_int_equal(b.count, 0);
    assert_null(b.msgs);
    sat__cache_stats(c, &st);
    assert_int_equal(st.clients, 2);

    /* "a" idles longest, so it makes room for "c". */
    sat__cache_detach(c, "a", false, 10);
    sat__cache_detach(c, "b", false, 20);
    assert_int_equal(sat__cache_attach(c, "c", false, 0, 30, &b), 0);
    sat__cache_backlog_free(&b);

    n = sat__cache_list_clients(c, NULL, names, 8);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "b");
    assert_string_equal(names[1], "c");
    sat__cache_stats(c, &st);
    assert_int_equal(st.evicted_clients, 1);
    assert_int_equal(st.expired_clients, 0);

    /* A known UUID attaches even at the limit. */
    assert_int_equal(sat__cache_attach(c, "b", true, 0, 40, &b), 0);
    sat__cache_backlog_free(&b);
    sat__cache_free(c);
}

static void delete_and_clear(void **state)
{
    sat_cache *c = new_cache(&default_limits);
    sat_cache_entry e[8];
    sat_cache_stats st;

    (void)state;
    for (uint64_t n = 1; n <= 5; n++)
        assert_int_equal(add(c, n, 0), 0);
    assert_int_equal(sat__cache_delete(c, id_of(3)), 0);
    assert_int_equal(sat__cache_delete(c, id_of(3)), SAT_ENOTFOUND);
    assert_int_equal(sat__cache_delete(c, id_of(1)), 0);
    assert_int_equal(sat__cache_list(c, id_of(0), e, 8), 3);
    assert_int_equal(e[0].id.ms, 2);
    assert_int_equal(e[1].id.ms, 4);
    assert_int_equal(e[2].id.ms, 5);

    sat__cache_clear(c);
    sat__cache_stats(c, &st);
    assert_int_equal(st.messages, 0);
    assert_int_equal(st.bytes, 0);
    assert_int_equal(st.deleted, 5);

    /* The ring works again after a clear, and ids still must increase. */
    assert_int_equal(add(c, 5, 0), SAT_EINVAL);
    assert_int_equal(add(c, 6, 0), 0);
    assert_int_equal(sat__cache_list(c, id_of(0), e, 8), 1);
    sat__cache_free(c);
}

static void list_pages_by_cursor(void **state)
{
    sat_cache *c = new_cache(&default_limits);
    sat_cache_entry e[4];
    sat_msgid after = id_of(0);
    uint64_t expected = 1;
    size_t n, pages = 0;

    (void)state;
    for (uint64_t n2 = 1; n2 <= 10; n2++)
        assert_int_equal(add_sized(c, n2, (size_t)n2, 0, 0), 0);

    while ((n = sat__cache_list(c, after, e, 4)) > 0) {
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(e[i].id.ms, expected);
            assert_int_equal(e[i].len, expected);
            expected++;
        }
        after = e[n - 1].id;
        pages++;
    }
    assert_int_equal(expected, 11);
    assert_int_equal(pages, 3);
    sat__cache_free(c);
}

static void list_clients_pages(void **state)
{
    static const char *const uuids[] = {"d", "a", "c", "e", "b", "f", "g"};
    sat_cache *c = new_cache(&default_limits);
    sat_cache_backlog b;
    char page[3][SAT_CACHE_UUID_MAX];
    char after[SAT_CACHE_UUID_MAX] = "";
    char seen[16] = "";
    size_t n;

    (void)state;
    for (size_t i = 0; i < sizeof(uuids) / sizeof(uuids[0]); i++) {
        assert_int_equal(sat__cache_attach(c, uuids[i], false, 0, 0, &b), 0);
        sat__cache_backlog_free(&b);
    }

    while ((n = sat__cache_list_clients(c, after[0] ? after : NULL, page, 3)) > 0) {
        for (size_t i = 0; i < n; i++)
            strcat(seen, page[i]);
        strcpy(after, page[n - 1]);
    }
    assert_string_equal(seen, "abcdefg");
    assert_int_equal(sat__cache_list_clients(c, "g", page, 3), 0);
    sat__cache_free(c);
}

static void non_increasing_id_rejected(void **state)
{
    sat_cache *c = new_cache(&default_limits);
    sat_msg *m = sat__msg_new("x", 1, 0);
    sat_cache_stats st;

    (void)state;
    assert_non_null(m);
    assert_int_equal(add(c, 5, 0), 0);
    assert_int_equal(add(c, 5, 0), SAT_EINVAL);
    assert_int_equal(add(c, 4, 0), SAT_EINVAL);

    /* Ordering uses the sequence part when milliseconds tie. */
    m->id = (sat_msgid){.ms = 5, .seq = 1};
    assert_int_equal(sat__cache_add(c, m, 0), 0);
    sat__msg_unref(m);

    sat__cache_stats(c, &st);
    assert_int_equal(st.messages, 2);
    assert_int_equal(st.added, 2);
    sat__cache_free(c);
}

static void zero_id_rejected(void **state)
{
    sat_cache *c = new_cache(&default_limits);

    (void)state;
    assert_int_equal(add(c, 0, 0), SAT_EINVAL);
    sat__cache_free(c);
}

static void heartbeat_rejected(void **state)
{
    sat_cache *c = new_cache(&default_limits);
    sat_cache_stats st;

    (void)state;
    assert_int_equal(add_sized(c, 1, 1, SAT_MSG_HEARTBEAT, 0), SAT_EINVAL);
    sat__cache_stats(c, &st);
    assert_int_equal(st.messages, 0);

    /* A rejected heartbeat does not consume its id. */
    assert_int_equal(add(c, 1, 0), 0);
    sat__cache_free(c);
}

static void disabled_cache_keeps_nothing(void **state)
{
    sat_cache_limits l = default_limits;
    sat_cache *c;
    sat_cache_backlog b;
    sat_cache_stats st;

    (void)state;
    l.max_messages = 0;
    c = new_cache(&l);
    assert_int_equal(sat__cache_attach(c, "u", false, 0, 0, &b), 0);
    sat__cache_backlog_free(&b);
    sat__cache_detach(c, "u", false, 0);
    assert_int_equal(add(c, 1, 0), 0);

    sat__cache_stats(c, &st);
    assert_int_equal(st.messages, 0);
    assert_int_equal(st.added, 0);

    /* The client missed message 1 and learns it from the gap flag. */
    assert_int_equal(sat__cache_attach(c, "u", true, 0, 0, &b), 0);
    assert_int_equal(b.count, 0);
    assert_true(b.gap);
    sat__cache_backlog_free(&b);
    sat__cache_free(c);
}

static void invalid_uuid_rejected(void **state)
{
    sat_cache *c = new_cache(&default_limits);
    sat_cache_backlog b;
    char longest[SAT_CACHE_UUID_MAX + 1];

    (void)state;
    assert_int_equal(sat__cache_attach(c, NULL, false, 0, 0, &b), SAT_EINVAL);
    assert_int_equal(sat__cache_attach(c, "", false, 0, 0, &b), SAT_EINVAL);

    memset(longest, 'a', sizeof(longest) - 1);
    longest[SAT_CACHE_UUID_MAX] = '\0';
    assert_int_equal(sat__cache_attach(c, longest, false, 0, 0, &b), SAT_EINVAL);
    longest[SAT_CACHE_UUID_MAX - 1] = '\0';
    assert_int_equal(sat__cache_attach(c, longest, false, 0, 0, &b), 0);
    sat__cache_backlog_free(&b);
    sat__cache_free(c);
}

static void set_limits_shrink_evicts(void **state)
{
    sat_cache *c = new_cache(&default_limits);
    sat_cache_limits l;
    sat_cache_backlog b;
    sat_cache_entry e[8];
    sat_cache_stats st;

    (void)state;
    for (uint64_t n = 1; n <= 50; n++)
        assert_int_equal(add(c, n, 0), 0);
    for (int i = 0; i < 3; i++) {
        char uuid[32];

        snprintf(uuid, sizeof(uuid), "u%d", i);
        assert_int_equal(sat__cache_attach(c, uuid, false, 0, 0, &b), 0);
        sat__cache_backlog_free(&b);
        sat__cache_detach(c, uuid, false, (uint64_t)i);
    }

    sat__cache_get_limits(c, &l);
    l.max_messages = 5;
    l.max_clients = 1;
    sat__cache_set_limits(c, &l, 0);

    sat__cache_stats(c, &st);
    assert_int_equal(st.messages, 5);
    assert_int_equal(st.evicted_count, 45);
    assert_int_equal(st.clients, 1);
    assert_int_equal(sat__cache_list(c, id_of(0), e, 8), 5);
    assert_int_equal(e[0].id.ms, 46);

    l.max_bytes = 8; /* two 4-byte messages */
    sat__cache_set_limits(c, &l, 0);
    sat__cache_stats(c, &st);
    assert_int_equal(st.messages, 2);
    assert_int_equal(st.evicted_bytes, 3);

    /* The ring still grows and wraps after the shrink. */
    for (uint64_t n = 51; n <= 60; n++)
        assert_int_equal(add(c, n, 0), 0);
    assert_int_equal(sat__cache_list(c, id_of(0), e, 8), 2);
    assert_int_equal(e[1].id.ms, 60);

    l.max_messages = 0;
    sat__cache_set_limits(c, &l, 0);
    sat__cache_stats(c, &st);
    assert_int_equal(st.messages, 0);
    sat__cache_free(c);
}

/* ---- concurrency ---- */

#define MT_PRODUCERS  4
#define MT_ATTACHERS  2
#define MT_TOTAL      100000
#define MT_RING_BOUND 1000

typedef struct mt_state {
    sat_cache *cache;
    pthread_mutex_t id_lock; /* assigns ids and adds under one lock, so ids increase */
    uint64_t next_id;
    atomic_int producers_left;
    atomic_int add_errors;
    atomic_int attach_errors;
    atomic_int order_errors;
} mt_state;

static void *mt_produce(void *arg)
{
    mt_state *s = arg;

    for (int i = 0; i < MT_TOTAL / MT_PRODUCERS; i++) {
        sat_msg *m = sat__msg_new("payload", 7, 0);

        if (!m) {
            atomic_fetch_add(&s->add_errors, 1);
            continue;
        }
        pthread_mutex_lock(&s->id_lock);
        m->id = id_of(++s->next_id);
        if (sat__cache_add(s->cache, m, 0) != 0)
            atomic_fetch_add(&s->add_errors, 1);
        pthread_mutex_unlock(&s->id_lock);
        sat__msg_unref(m);
    }
    atomic_fetch_sub(&s->producers_left, 1);
    return NULL;
}

static void *mt_attach(void *arg)
{
    mt_state *s = arg;
    uint64_t now = 0;

    while (atomic_load(&s->producers_left) > 0) {
        for (int u = 0; u < 8; u++) {
            char uuid[32];
            sat_cache_backlog b;

            snprintf(uuid, sizeof(uuid), "client-%d", u);
            if (sat__cache_attach(s->cache, uuid, u % 2 == 0, 0, now, &b) != 0) {
                atomic_fetch_add(&s->attach_errors, 1);
                continue;
            }
            for (size_t i = 1; i < b.count; i++) {
                if (sat_msgid_cmp(b.msgs[i - 1]->id, b.msgs[i]->id) >= 0)
                    atomic_fetch_add(&s->order_errors, 1);
            }
            if (b.count > 0 && u % 3 == 0)
                sat__cache_ack(s->cache, uuid, b.msgs[b.count - 1]->id);
            sat__cache_backlog_free(&b);
            sat__cache_detach(s->cache, uuid, u % 4 == 1, now);
        }
        now++;
    }
    return NULL;
}

static void concurrent_add_attach(void **state)
{
    sat_cache_limits l = default_limits;
    pthread_t producers[MT_PRODUCERS], attachers[MT_ATTACHERS];
    mt_state s = {0};
    sat_cache_stats st;
    size_t max_seen = 0;

    (void)state;
    l.max_messages = MT_RING_BOUND;
    l.client_idle_ms = 0;
    s.cache = new_cache(&l);
    assert_int_equal(pthread_mutex_init(&s.id_lock, NULL), 0);
    atomic_store(&s.producers_left, MT_PRODUCERS);

    for (int i = 0; i < MT_PRODUCERS; i++)
        assert_int_equal(pthread_create(&producers[i], NULL, mt_produce, &s), 0);
    for (int i = 0; i < MT_ATTACHERS; i++)
        assert_int_equal(pthread_create(&attachers[i], NULL, mt_attach, &s), 0);

    while (atomic_load(&s.producers_left) > 0) {
        sat__cache_stats(s.cache, &st);
        if (st.messages > max_seen)
            max_seen = st.messages;
    }
    for (int i = 0; i < MT_PRODUCERS; i++)
        pthread_join(producers[i], NULL);
    for (int i = 0; i < MT_ATTACHERS; i++)
        pthread_join(attachers[i], NULL);

    sat__cache_stats(s.cache, &st);
    assert_true(max_seen <= MT_RING_BOUND);
    assert_int_equal(st.messages, MT_RING_BOUND);
    assert_int_equal(st.added, MT_TOTAL);
    assert_int_equal(st.evicted_count, MT_TOTAL - MT_RING_BOUND);
    assert_int_equal(atomic_load(&s.add_errors), 0);
    assert_int_equal(atomic_load(&s.attach_errors), 0);
    assert_int_equal(atomic_load(&s.order_errors), 0);
    assert_int_equal(st.clients, 8);
    assert_int_equal(st.active_clients, 0);

    pthread_mutex_destroy(&s.id_lock);
    sat__cache_free(s.cache);
}

static void free_accepts_null(void **state)
{
    (void)state;
    sat__cache_free(NULL);
    sat__cache_backlog_free(NULL);
    assert_null(sat__cache_new(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_client_gets_no_history),
        cmocka_unit_test(detached_client_replays_missed),
        cmocka_unit_test(longpoll_rollback_resends),
        cmocka_unit_test(cursors_deliver_exactly_once),
        cmocka_unit_test(eviction_by_count),
        cmocka_unit_test(eviction_by_bytes),
        cmocka_unit_test(eviction_by_age),
        cmocka_unit_test(attach_skips_aged_messages),
        cmocka_unit_test(gap_flag),
        cmocka_unit_test(gap_after_delete),
        cmocka_unit_test(idle_clock_starts_at_detach),
        cmocka_unit_test(reattach_stops_idle_clock),
        cmocka_unit_test(forget_drops_cursor),
        cmocka_unit_test(max_clients_limit),
        cmocka_unit_test(delete_and_clear),
        cmocka_unit_test(list_pages_by_cursor),
        cmocka_unit_test(list_clients_pages),
        cmocka_unit_test(non_increasing_id_rejected),
        cmocka_unit_test(zero_id_rejected),
        cmocka_unit_test(heartbeat_rejected),
        cmocka_unit_test(disabled_cache_keeps_nothing),
        cmocka_unit_test(invalid_uuid_rejected),
        cmocka_unit_test(set_limits_shrink_evicts),
        cmocka_unit_test(concurrent_add_attach),
        cmocka_unit_test(free_accepts_null),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
