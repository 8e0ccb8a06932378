/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP client of satconsole over libcurl: JSON requests to the REST admin
 * API with the bearer token, and the event stream. One con_http per
 * thread: a handle is not safe to share. */
#ifndef CON_HTTP_H
#define CON_HTTP_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

enum {
    CON_HTTP_OK = 0,           /* a reply arrived; look at status */
    CON_HTTP_UNREACHABLE = -1, /* connection refused, reset, timed out */
    CON_HTTP_BAD_REPLY = -2,   /* a reply that is not the JSON expected */
    CON_HTTP_NOMEM = -3,
};

/* Outcome of one request. json is owned (NULL when the body was not JSON);
 * error holds a one-line message when status is not 2xx or the call failed. */
typedef struct con_reply {
    long status;
    json_t *json;
    char error[320];
} con_reply;

typedef struct con_http con_http;

/* Creates a client for base_url (e.g. "http://127.0.0.1:8081") sending
 * token (may be NULL or "") as a bearer token. Strings are copied. */
con_http *con_http_new(const char *base_url, const char *token, long timeout_ms)
    __attribute__((warn_unused_result));
void con_http_free(con_http *h);

/* Sends method to base_url + path (already percent-encoded) with body
 * (may be NULL) as JSON. Fills *out (cleared first) and returns one of the
 * CON_HTTP codes. */
int con_http_call(con_http *h, const char *method, const char *path, const json_t *body,
                  con_reply *out) __attribute__((warn_unused_result));

/* Frees the reply's JSON. */
void con_reply_clear(con_reply *r);

/* Called with each chunk of a stream body; false ends the stream. */
typedef bool (*con_http_chunk_fn)(void *userdata, const char *buf, size_t len);

/* GETs path as an event stream, sending Last-Event-ID when last_id is not
 * empty, and passes the body to fn until the server ends it, the link
 * breaks, fn returns false or *stop turns true (checked about once a
 * second). Returns like con_http_call; out->status is the reply status. */
int con_http_stream(con_http *h, const char *path, const char *last_id, con_http_chunk_fn fn,
                    void *userdata, atomic_bool *stop, con_reply *out)
    __attribute__((warn_unused_result));

#endif
