/* SPDX-License-Identifier: Apache-2.0 */
/* REST admin API: serves the introspection registry over HTTP (libmicrohttpd)
 * as JSON, with an SSE event stream, Prometheus metrics and a generated
 * OpenAPI document. Routes come from the registry's types, not per type. */
#ifndef SAT_AGENT_REST_H
#define SAT_AGENT_REST_H

#include "satellite/log.h"
#include "satellite/registry.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct rest_server rest_server;

/* Receives one formatted line (no newline) about starts, stops, admin
 * writes and caught errors. Never contains the token. May run on any REST
 * thread, concurrently. */
typedef void (*rest_log_fn)(void *userdata, sat_log_level level, const char *message);

typedef struct rest_options {
    const char *host;            /* numeric IPv4 or IPv6 address; NULL means 127.0.0.1 */
    int port;                    /* 0 picks a free port (see rest_port) */
    const char *token;           /* bearer token for writes; NULL or "" disables writes (403) */
    bool auth_reads;             /* reads need the token too */
    size_t max_body_bytes;       /* larger bodies get 413; 0 means 1 MiB */
    unsigned threads;            /* max concurrent connections, one thread each; 0 means 64 */
    unsigned sse_keepalive_ms;   /* comment line on an idle event stream; 0 means 15000 */
    unsigned idle_timeout_s;     /* idle or unfinished requests are closed; 0 means 120 */
    unsigned metrics_object_cap; /* per-object metric labels up to this many objects of a
                                    type, then one aggregate; 0 means 100 */
    rest_log_fn log;             /* may be NULL */
    void *log_userdata;
} rest_options;

/* Starts serving `reg` (borrowed: it must outlive the server). Copies the
 * options and the token. Returns NULL with err filled when the address is
 * invalid or the port cannot be bound. */
rest_server *rest_start(sat_registry *reg, const rest_options *opt, char *err, size_t errsize)
    __attribute__((warn_unused_result));

/* The bound TCP port (the chosen one when port 0 was requested). */
int rest_port(const rest_server *srv);

/* Replaces the bearer token (NULL or "" disables writes), auth_reads and
 * max_body_bytes (0 means 1 MiB) of a running server, for live configuration
 * changes. Requests already past their checks finish under the old values.
 * Returns 0, or SAT_ENOMEM with the old settings kept. */
int rest_set_auth(rest_server *srv, const char *token, bool auth_reads, size_t max_body_bytes)
    __attribute__((warn_unused_result));

/* Ends event streams, stops accepting, waits for the connection threads and
 * frees the server. NULL is fine. */
void rest_stop(rest_server *srv);

/* Builds the OpenAPI 3.0 document for the registry's current types as
 * indented JSON text (freed by the caller with free()), or NULL when out of
 * memory. The server serves the same text at /api/v1/openapi.json. */
char *rest_openapi_text(sat_registry *reg) __attribute__((warn_unused_result));

#endif
