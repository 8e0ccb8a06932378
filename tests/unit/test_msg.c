/* SPDX-License-Identifier: Apache-2.0 */
/* Reference counting of buffers and messages, the shared framed copies of
 * a message (including a race between threads framing it at once), and
 * the text form of message ids. */
#include "msg.h"
#include "satellite/error.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define RACE_THREADS 8
#define RACE_ROUNDS  200

static void buf_new_copies(void **state)
{
    sat_buf *b = sat__buf_new("abc", 3);

    (void)state;
    assert_non_null(b);
    assert_int_equal(b->len, 3);
    assert_memory_equal(b->data, "abc", 3);
    assert_int_equal(atomic_load(&b->refs), 1);
    sat__buf_unref(b);
}

static void buf_refcount(void **state)
{
    sat_buf *b = sat__buf_alloc(4);

    (void)state;
    assert_non_null(b);
    assert_ptr_equal(sat__buf_ref(b), b);
    assert_int_equal(atomic_load(&b->refs), 2);
    sat__buf_unref(b);
    assert_int_equal(atomic_load(&b->refs), 1);
    sat__buf_unref(b);
    sat__buf_unref(NULL);
    assert_null(sat__buf_ref(NULL));
}

static void msg_new_copies_payload(void **state)
{
    char payload[] = "hello";
    sat_msg *m = sat__msg_new(payload, 5, SAT_MSG_HEARTBEAT);

    (void)state;
    assert_non_null(m);
    payload[0] = 'j';
    assert_int_equal(m->len, 5);
    assert_string_equal(m->data, "hello");
    assert_int_equal(m->flags, SAT_MSG_HEARTBEAT);
    assert_true(sat_msgid_is_zero(m->id));
    assert_true(m->created_ms > 0);
    for (int w = 0; w < SAT_WIRE_COUNT; w++)
        assert_null(atomic_load(&m->framed[w]));
    sat__msg_unref(m);
}

static void msg_empty_payload(void **state)
{
    sat_msg *m = sat__msg_new(NULL, 0, 0);

    (void)state;
    assert_non_null(m);
    assert_int_equal(m->len, 0);
    assert_int_equal(m->data[0], '\0');
    sat__msg_unref(m);
}

static void msg_refcount(void **state)
{
    sat_msg *m = sat__msg_new("x", 1, 0);

    (void)state;
    assert_ptr_equal(sat__msg_ref(m), m);
    assert_int_equal(atomic_load(&m->refs), 2);
    sat__msg_unref(m);
    assert_int_equal(atomic_load(&m->refs), 1);
    sat__msg_unref(m);
    sat__msg_unref(NULL);
}

static void msg_framed_shared(void **state)
{
    sat_msg *m = sat__msg_new("hello", 5, 0);
    sat_buf *first;

    (void)state;
    first = sat__msg_framed(m, SAT_WIRE_TRACK);
    assert_non_null(first);
    assert_memory_equal(first->data, "5|hello", 7);
    assert_ptr_equal(sat__msg_framed(m, SAT_WIRE_TRACK), first);
    assert_int_equal(atomic_load(&first->refs), 1);
    assert_ptr_not_equal(sat__msg_framed(m, SAT_WIRE_SSE_TRACK), first);
    sat__msg_unref(m);
}

static void msg_framed_outlives_message(void **state)
{
    sat_msg *m = sat__msg_new("hi", 2, 0);
    sat_buf *b;

    (void)state;
    b = sat__buf_ref(sat__msg_framed(m, SAT_WIRE_SSE_RAW));
    sat__msg_unref(m);
    /* Under AddressSanitizer a freed buffer would fail here. */
    assert_int_equal(b->len, 11);
    assert_memory_equal(b->data, "data:hi\r\n\r\n", 11);
    assert_int_equal(atomic_load(&b->refs), 1);
    sat__buf_unref(b);
}

static void msg_framed_binary_unprefixed(void **state)
{
    sat_msg *m = sat__msg_new("\x01\x02", 2, SAT_MSG_BINARY);
    sat_buf *b;

    (void)state;
    b = sat__msg_framed(m, SAT_WIRE_TRACK);
    assert_int_equal(b->len, 2);
    b = sat__msg_framed(m, SAT_WIRE_WS_TRACK);
    assert_int_equal((unsigned char)b->data[0], 0x82);
    sat__msg_unref(m);
}

typedef struct race {
    sat_msg *msg;
    pthread_barrier_t *start;
    sat_buf *seen[SAT_WIRE_COUNT];
} race;

static void *race_thread(void *arg)
{
    race *r = arg;

    pthread_barrier_wait(r->start);
    for (int w = 0; w < SAT_WIRE_COUNT; w++)
        r->seen[w] = sat__msg_framed(r->msg, (sat_wire)w);
    return NULL;
}

/* Every thread must get the same installed copy; the losing copies are
 * freed, which LeakSanitizer checks in the sanitizer build. */
static void msg_framed_race(void **state)
{
    (void)state;
    for (int round = 0; round < RACE_ROUNDS; round++) {
        pthread_barrier_t start;
        pthread_t threads[RACE_THREADS];
        race races[RACE_THREADS];
        sat_msg *m = sat__msg_new("race \xe6\x97\xa5", 8, 0);

        assert_int_equal(pthread_barrier_init(&start, NULL, RACE_THREADS), 0);
        for (int t = 0; t < RACE_THREADS; t++) {
            races[t] = (race){.msg = m, .start = &start};
            assert_int_equal(pthread_create(&threads[t], NULL, race_thread, &races[t]), 0);
        }
        for (int t = 0; t < RACE_THREADS; t++)
            assert_int_equal(pthread_join(threads[t], NULL), 0);
        for (int w = 0; w < SAT_WIRE_COUNT; w++) {
            for (int t = 0; t < RACE_THREADS; t++)
                assert_ptr_equal(races[t].seen[w], atomic_load(&m->framed[w]));
            assert_int_equal(atomic_load(&m->framed[w]->refs), 1);
        }
        pthread_barrier_destroy(&start);
        sat__msg_unref(m);
    }
}

/* ---- message ids -------------------------------------------------------- */

static void msgid_format_roundtrip(void **state)
{
    sat_msgid id = {1700000000123u, 42}, back = {0, 0};
    char buf[42];

    (void)state;
    assert_string_equal(sat_msgid_format(id, buf, sizeof(buf)), "1700000000123-42");
    assert_int_equal(sat_msgid_parse(buf, &back), 0);
    assert_int_equal(sat_msgid_cmp(id, back), 0);
    sat_msgid_format((sat_msgid){UINT64_MAX, UINT64_MAX}, buf, sizeof(buf));
    assert_string_equal(buf, "18446744073709551615-18446744073709551615");
}

static const struct {
    const char *text;
    int rc;
    uint64_t ms, seq;
} msgid_cases[] = {
    {"0-0", 0, 0, 0},
    {"1-2", 0, 1, 2},
    {"18446744073709551615-18446744073709551615", 0, UINT64_MAX, UINT64_MAX},
    {"18446744073709551616-0", SAT_EINVAL, 0, 0},
    {"", SAT_EINVAL, 0, 0},
    {"1", SAT_EINVAL, 0, 0},
    {"1-", SAT_EINVAL, 0, 0},
    {"-1", SAT_EINVAL, 0, 0},
    {"1--2", SAT_EINVAL, 0, 0},
    {"1-2-3", SAT_EINVAL, 0, 0},
    {"+1-2", SAT_EINVAL, 0, 0},
    {" 1-2", SAT_EINVAL, 0, 0},
    {"1-2 ", SAT_EINVAL, 0, 0},
    {"a-b", SAT_EINVAL, 0, 0},
};

static void msgid_parse_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(msgid_cases) / sizeof(msgid_cases[0]); i++) {
        sat_msgid id = {7, 7};
        int rc = sat_msgid_parse(msgid_cases[i].text, &id);

        print_message("msgid case \"%s\"\n", msgid_cases[i].text);
        assert_int_equal(rc, msgid_cases[i].rc);
        if (rc == 0) {
            assert_int_equal(id.ms, msgid_cases[i].ms);
            assert_int_equal(id.seq, msgid_cases[i].seq);
        } else {
            assert_int_equal(id.ms, 7);
        }
    }
    assert_int_equal(sat_msgid_parse(NULL, NULL), SAT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_new_copies),
        cmocka_unit_test(buf_refcount),
        cmocka_unit_test(msg_new_copies_payload),
        cmocka_unit_test(msg_empty_payload),
        cmocka_unit_test(msg_refcount),
        cmocka_unit_test(msg_framed_shared),
        cmocka_unit_test(msg_framed_outlives_message),
        cmocka_unit_test(msg_framed_binary_unprefixed),
        cmocka_unit_test(msg_framed_race),
        cmocka_unit_test(msgid_format_roundtrip),
        cmocka_unit_test(msgid_parse_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
