/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: an arbitrary payload framed for every wire format and
 * as JSONP, checked against its UTF-16 length and the unframed bytes. */
#include "codec.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_track(const char *payload, size_t len, bool binary)
{
    bool valid;
    size_t units = sat__utf16_length(payload, len, &valid);
    sat_buf *b = sat__frame(SAT_WIRE_TRACK, payload, len, binary);
    char prefix[32];
    int prefix_len = 0;

    assert(valid == sat__utf8_valid(payload, len));
    assert(units <= len);
    if (b == NULL)
        return;
    if (!binary && valid && len > 0)
        prefix_len = snprintf(prefix, sizeof(prefix), "%zu|", units);
    assert(b->len == (size_t)prefix_len + len);
    assert(memcmp(b->data, prefix, (size_t)prefix_len) == 0);
    assert(len == 0 || memcmp(b->data + prefix_len, payload, len) == 0);
    sat__buf_unref(b);
}

static void check_ws(const char *payload, size_t len, bool binary)
{
    sat_buf *b = sat__frame(SAT_WIRE_WS_RAW, payload, len, binary);
    uint8_t header[10];
    size_t header_len = sat__ws_header(header, 1, len);

    if (b == NULL)
        return;
    assert(b->len == header_len + len);
    assert(memcmp(b->data + 1, header + 1, header_len - 1) == 0);
    assert(len == 0 || memcmp(b->data + header_len, payload, len) == 0);
    sat__buf_unref(b);
}

/* A JSONP write is printable ASCII only, whatever the payload. */
static void check_jsonp(const char *payload, size_t len)
{
    sat_buf *b = sat__frame_jsonp("atmosphere1", payload, len, true);

    if (b == NULL)
        return;
    for (size_t i = 0; i < b->len; i++) {
        assert(b->data[i] >= 0x20);
        assert(b->data[i] < 0x7F);
    }
    sat__buf_unref(b);
}

/* The first input byte picks the binary flag and the rest is the payload. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *payload = (const char *)data + 1;
    size_t len;
    bool binary;

    if (size == 0)
        return 0;
    binary = (data[0] & 1) != 0;
    len = size - 1;

    for (int w = 0; w < SAT_WIRE_COUNT; w++)
        sat__buf_unref(sat__frame((sat_wire)w, payload, len, binary));
    sat__buf_unref(sat__frame_jsonp("cb", payload, len, false));
    check_jsonp(payload, len);
    check_track(payload, len, binary);
    check_ws(payload, len, binary);
    return 0;
}
