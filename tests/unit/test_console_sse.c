/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of satconsole's event-stream parser: fields, comments, line
 * endings, events split across reads, and oversized lines. */
#include "con_sse.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

struct seen {
    int count;
    char id[CON_SSE_FIELD_MAX];
    char event[CON_SSE_FIELD_MAX];
    char data[256];
};

static void record(void *userdata, const char *id, const char *event, const char *data)
{
    struct seen *s = userdata;

    s->count++;
    snprintf(s->id, sizeof(s->id), "%s", id);
    snprintf(s->event, sizeof(s->event), "%s", event);
    snprintf(s->data, sizeof(s->data), "%s", data);
}

static const struct {
    const char *name;
    const char *stream;
    int count;
    const char *id, *event, *data;
} cases[] = {
    {"registry event", "id: 7\nevent: created\ndata: {\"seq\":7}\n\n", 1, "7", "created",
     "{\"seq\":7}"},
    {"no event type", "data: x\n\n", 1, "", "message", "x"},
    {"multi-line data", "data: a\ndata: b\n\n", 1, "", "message", "a\nb"},
    {"CRLF endings", "id: 2\r\nevent: changed\r\ndata: y\r\n\r\n", 1, "2", "changed", "y"},
    {"CR endings", "event: destroyed\rdata: z\r\r", 1, "", "destroyed", "z"},
    {"comment only", ": stream open\n\n", 0, "", "", ""},
    {"no space after colon", "data:tight\n\n", 1, "", "message", "tight"},
    {"field without value", "data\n\n", 1, "", "message", ""},
    {"no blank line yet", "data: pending\n", 0, "", "", ""},
    {"unknown field ignored", "retry: 10\nfoo: bar\ndata: q\n\n", 1, "", "message", "q"},
    {"two events keep last", "id: 1\ndata: a\n\nid: 2\ndata: b\n\n", 2, "2", "message", "b"},
};

static void parse_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        static con_sse p;
        struct seen s = {0};

        con_sse_init(&p, record, &s);
        con_sse_feed(&p, cases[i].stream, strlen(cases[i].stream));
        print_message("case: %s\n", cases[i].name);
        assert_int_equal(s.count, cases[i].count);
        assert_string_equal(s.id, cases[i].id);
        assert_string_equal(s.event, cases[i].event);
        assert_string_equal(s.data, cases[i].data);
    }
}

static void byte_by_byte_feed(void **state)
{
    static con_sse p;
    const char *stream = "id: 9\r\nevent: invoked\r\ndata: {\"a\":1}\r\n\r\n";
    struct seen s = {0};

    (void)state;
    con_sse_init(&p, record, &s);
    for (size_t i = 0; i < strlen(stream); i++)
        con_sse_feed(&p, stream + i, 1);
    assert_int_equal(s.count, 1);
    assert_string_equal(s.id, "9");
    assert_string_equal(s.event, "invoked");
    assert_string_equal(s.data, "{\"a\":1}");
}

static void oversized_line_drops_event(void **state)
{
    static con_sse p;
    static char big[CON_SSE_LINE_MAX + 100];
    struct seen s = {0};

    (void)state;
    con_sse_init(&p, record, &s);
    memcpy(big, "data: ", 6);
    memset(big + 6, 'x', sizeof(big) - 6);
    con_sse_feed(&p, big, sizeof(big));
    con_sse_feed(&p, "\n\ndata: next\n\n", 14);
    assert_int_equal(s.count, 1);
    assert_string_equal(s.data, "next");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_table),
        cmocka_unit_test(byte_by_byte_feed),
        cmocka_unit_test(oversized_line_drops_event),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
